//! The crate's one error type. Each variant names the step that failed and carries its context.

/// Everything that can go wrong in runway.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Serializing a CRD or manifest to YAML or JSON failed.
    #[error("serializing {what}: {source}")]
    Serialize {
        /// What was being serialized.
        what: String,
        /// The underlying serializer error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing YAML failed.
    #[error("writing YAML for {what}: {source}")]
    Yaml {
        /// What was being written.
        what: String,
        /// The underlying YAML error.
        #[source]
        source: serde_yaml::Error,
    },
    /// Reading or writing a local file or socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What runway was doing.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
