//! The crate's one error type. Each variant names the step that failed and carries its context, and
//! knows whether retrying can fix it and which metric label it counts under.

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
    /// runway refuses to act on this resource's service (an account it must not act in, a service
    /// ARN that differs from the one it manages). The reason and message become the Stalled
    /// condition; the reconcile is retried with backoff capped at the resync interval.
    #[error("{reason}: {message}")]
    Refused {
        /// PascalCase reason.
        reason: &'static str,
        /// What is wrong, and what to do.
        message: String,
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
        /// What was being read or written.
        what: String,
        /// The underlying YAML error.
        #[source]
        source: YamlError,
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
#[error("aws {service}:{operation} in {region} for {target}: {code}: {message}{}", request_note(.request_id.as_deref()))]
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
    /// AWS's request ID (the `x-amzn-RequestId` response header), which AWS Support asks for; absent
    /// when no response came back.
    pub request_id: Option<String>,
}

impl AwsFailure {
    /// How conditions, Events and logs state the failure: `UpdateService failed: Code: message
    /// (request ID …)`.
    pub fn summary(&self) -> String {
        format!(
            "{} failed: {}: {}{}",
            self.operation,
            self.code,
            self.message,
            request_note(self.request_id.as_deref())
        )
    }
}

/// ` (request ID …)`, or nothing without one.
fn request_note(request_id: Option<&str>) -> String {
    request_id
        .map(|id| format!(" (request ID {id})"))
        .unwrap_or_default()
}

/// How runway treats a failed AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The request was throttled; retry with backoff.
    Throttling,
    /// A 5xx, timeout or connection failure; retry with backoff.
    Transient,
    /// The service does not exist (any of AWS's spellings; a missing cluster is not one of them:
    /// `ClusterNotFoundException` is terminal for a create and means "no service yet" for a lookup).
    NotFound,
    /// The service is busy with another operation, or not in a state that accepts this call; wait.
    InvalidState,
    /// A role or credentials AWS cannot use yet: IAM has not propagated a role created moments ago.
    /// Retried with backoff; the resource stalls (and is still retried) if it lasts.
    IamPropagation,
    /// Validation, access denied, unsupported feature, quota: retrying the same request cannot help.
    Terminal,
}

impl AwsErrorKind {
    /// Whether retrying the same request later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Throttling | Self::Transient | Self::InvalidState | Self::IamPropagation
        )
    }

    /// The metric label for this kind.
    pub fn label(self) -> &'static str {
        match self {
            Self::Throttling => "throttled",
            Self::Transient => "transient",
            Self::NotFound => "not_found",
            Self::InvalidState => "invalid_state",
            Self::IamPropagation => "iam_propagation",
            Self::Terminal => "terminal",
        }
    }
}

/// Why a YAML document could not be read or written (see [`crate::manifests`]).
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not YAML, or not of the shape asked for.
    // NB: boxed: the parser's error carries a source location and snippet, and would make every
    // `Result` of the crate large.
    #[error(transparent)]
    Read(Box<serde_saphyr::Error>),
    /// A value could not be written as YAML.
    #[error(transparent)]
    Write(#[from] serde_saphyr::SerializeError),
    /// A document read as a dynamic value does not fit the type asked for.
    #[error(transparent)]
    Shape(#[from] serde_json::Error),
}

impl From<serde_saphyr::Error> for YamlError {
    fn from(e: serde_saphyr::Error) -> Self {
        YamlError::Read(Box::new(e))
    }
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
            | Error::Refused { .. }
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
            Error::Refused { .. } => "refused",
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
