//! The simulator's one error type: what stops it from starting or serving. The AWS errors it answers
//! callers with are `wire::AwsError`, not this.

/// Everything that can go wrong while starting or running the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or [`SimConfig`](crate::SimConfig) value is invalid.
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    /// Binding the listener, or waiting for a shutdown signal, failed.
    #[error("{context}: {source}")]
    Io {
        /// What the simulator was doing.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
