//! The crate's one error type. Each variant names the step that failed and carries its context, and
//! knows whether retrying can fix it and which metric label it counts under.

use crate::aws::error::AwsErrorKind;

/// Everything that can go wrong in runway.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes: {context}: {source}")]
    Kube {
        /// What runway was doing.
        context: String,
        /// The kube client error.
        #[source]
        source: kube::Error,
    },
    /// An AWS API call failed.
    #[error("{0}")]
    Aws(Box<AwsFailure>),
    /// The finalizer helper failed in apply or cleanup.
    // NB: boxed because finalizer::Error<Error> contains Error, which would make the type infinitely
    // sized otherwise.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    /// The AWS service is being deleted; the finalizer stays until it is gone.
    #[error("waiting for {target} to be deleted")]
    WaitingForDeletion {
        /// The service being deleted.
        target: String,
    },
    /// Leader election failed, or this replica lost the Lease.
    #[error("leader election: {0}")]
    Leader(String),
    /// The resource asks for something runway cannot do; retrying does not help.
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
    /// A command-line flag or configuration value is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// Serializing a CRD, manifest or request to JSON failed.
    #[error("serializing {what}: {source}")]
    Serialize {
        /// What was being serialized.
        what: String,
        /// The underlying serializer error.
        #[source]
        source: serde_json::Error,
    },
    /// Reading or writing YAML failed.
    #[error("YAML of {what}: {source}")]
    Yaml {
        /// What was being written.
        what: String,
        /// The underlying YAML error.
        #[source]
        source: serde_yaml::Error,
    },
    /// A cached object could not be decoded; a defect in runway, not in the resource.
    #[error("cached object {0}")]
    Cache(String),
    /// Reading or writing a local file or socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What runway was doing.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The AWS simulator (`runway simulate-aws`, `runway run --simulate-aws`) did not start or
    /// stopped serving.
    #[error(transparent)]
    Simulator(#[from] runway_sim::Error),
}

/// A failed AWS call, with everything needed to report and classify it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("aws {service}:{operation} in {region} for {target}: {code}: {message}")]
pub struct AwsFailure {
    /// `ecs` or `apprunner`.
    pub service: &'static str,
    /// The API operation, such as `UpdateExpressGatewayService`.
    pub operation: &'static str,
    /// The AWS Region the call went to.
    pub region: String,
    /// The service name or ARN the call was about.
    pub target: String,
    /// How runway treats the failure.
    pub kind: AwsErrorKind,
    /// AWS's error code, such as `InvalidParameterException`.
    pub code: String,
    /// AWS's error message.
    pub message: String,
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying the same request later can succeed (throttling, 5xx, timeouts, conflicts).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Kube { .. } | Error::Io { .. } | Error::WaitingForDeletion { .. } => true,
            Error::Simulator(e) => matches!(e, runway_sim::Error::Io { .. }),
            Error::Aws(f) => f.kind.is_retryable(),
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.is_retryable(),
                _ => true,
            },
            Error::Leader(_)
            | Error::InvalidSpec(_)
            | Error::Config(_)
            | Error::Cache(_)
            | Error::Serialize { .. }
            | Error::Yaml { .. } => false,
        }
    }

    /// Whether the error is AWS throttling, for the throttle counter and a longer backoff.
    pub fn is_throttling(&self) -> bool {
        match self {
            Error::Aws(f) => f.kind == AwsErrorKind::Throttling,
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.is_throttling(),
                _ => false,
            },
            _ => false,
        }
    }

    /// A short, bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube { .. } => "kube",
            Error::Aws(f) => f.kind.label(),
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.metric_label(),
                _ => "finalizer",
            },
            Error::WaitingForDeletion { .. } => "deleting",
            Error::Leader(_) => "leader",
            Error::InvalidSpec(_) => "invalid_spec",
            Error::Config(_) => "config",
            Error::Serialize { .. } | Error::Yaml { .. } => "serialize",
            Error::Io { .. } | Error::Simulator(runway_sim::Error::Io { .. }) => "io",
            Error::Simulator(runway_sim::Error::Config(_)) => "config",
            Error::Cache(_) => "cache",
        }
    }

    /// The error inside the finalizer wrapper, or this one.
    pub fn root(&self) -> &Error {
        match self {
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.root(),
                _ => self,
            },
            _ => self,
        }
    }

    /// How runway classified the AWS failure behind this error, if it is one.
    pub fn aws_kind(&self) -> Option<AwsErrorKind> {
        match self.root() {
            Error::Aws(f) => Some(f.kind),
            _ => None,
        }
    }

    /// Whether the error only says that an AWS delete is still running, directly or from the
    /// finalizer's cleanup.
    pub fn is_waiting_for_deletion(&self) -> bool {
        matches!(self.root(), Error::WaitingForDeletion { .. })
    }

    /// The AWS failure behind this error, if it is one.
    pub fn aws(&self) -> Option<&AwsFailure> {
        match self {
            Error::Aws(f) => Some(f),
            _ => None,
        }
    }

    /// Wraps a kube client error with what runway was doing.
    pub fn kube(context: impl Into<String>, source: kube::Error) -> Self {
        Error::Kube {
            context: context.into(),
            source,
        }
    }
}
