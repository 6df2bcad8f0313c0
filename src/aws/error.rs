//! Classifies AWS SDK errors: which ones retrying can fix, which mean "not found", and which are
//! terminal until the spec changes.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How runway treats a failed AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The request was throttled; retry with backoff.
    Throttling,
    /// A 5xx, timeout or connection failure; retry with backoff.
    Transient,
    /// The service (or its cluster) does not exist.
    NotFound,
    /// The service is busy with another operation, or not in a state that accepts this call; wait.
    InvalidState,
    /// Validation, access denied, unsupported feature, quota: retrying the same request cannot help.
    Terminal,
}

impl AwsErrorKind {
    /// Whether retrying the same request later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttling | Self::Transient | Self::InvalidState)
    }

    /// The metric label for this kind.
    pub fn label(self) -> &'static str {
        match self {
            Self::Throttling => "throttled",
            Self::Transient => "transient",
            Self::NotFound => "not_found",
            Self::InvalidState => "invalid_state",
            Self::Terminal => "terminal",
        }
    }
}

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
];

const TRANSIENT_CODES: &[&str] = &[
    "ServerException",
    "InternalServiceErrorException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

const NOT_FOUND_CODES: &[&str] = &["ServiceNotFoundException", "ResourceNotFoundException"];

const INVALID_STATE_CODES: &[&str] = &["InvalidStateException", "ServiceNotActiveException"];

/// Classifies an error code (and HTTP status, when there is one) into a kind.
pub fn classify_code(code: &str, http_status: Option<u16>) -> AwsErrorKind {
    if THROTTLING_CODES.contains(&code) || http_status == Some(429) {
        AwsErrorKind::Throttling
    } else if NOT_FOUND_CODES.contains(&code) {
        AwsErrorKind::NotFound
    } else if INVALID_STATE_CODES.contains(&code) {
        AwsErrorKind::InvalidState
    } else if TRANSIENT_CODES.contains(&code) || http_status.is_some_and(|s| s >= 500) {
        AwsErrorKind::Transient
    } else {
        AwsErrorKind::Terminal
    }
}

/// The kind, code and message of an SDK error.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> (AwsErrorKind, String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service_err) => {
            let code = service_err.err().code().unwrap_or("Unknown").to_string();
            let message = service_err.err().message().unwrap_or_default().to_string();
            let status = service_err.raw().status().as_u16();
            (classify_code(&code, Some(status)), code, message)
        }
        SdkError::TimeoutError(_) => (AwsErrorKind::Transient, "Timeout".into(), err_chain(err)),
        SdkError::DispatchFailure(_) => (AwsErrorKind::Transient, "DispatchFailure".into(), err_chain(err)),
        SdkError::ResponseError(_) => (AwsErrorKind::Transient, "ResponseError".into(), err_chain(err)),
        SdkError::ConstructionFailure(_) => (
            AwsErrorKind::Terminal,
            "ConstructionFailure".into(),
            err_chain(err),
        ),
        _ => (AwsErrorKind::Transient, "Unknown".into(), err_chain(err)),
    }
}

/// The error and its sources, joined, for messages.
fn err_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes_and_429_are_throttling() {
        assert_eq!(
            classify_code("ThrottlingException", Some(400)),
            AwsErrorKind::Throttling
        );
        assert_eq!(
            classify_code("TooManyRequestsException", Some(429)),
            AwsErrorKind::Throttling
        );
        assert_eq!(classify_code("Whatever", Some(429)), AwsErrorKind::Throttling);
    }

    #[test]
    fn server_errors_are_transient_and_validation_is_terminal() {
        assert_eq!(
            classify_code("ServerException", Some(500)),
            AwsErrorKind::Transient
        );
        assert_eq!(classify_code("SomethingNew", Some(503)), AwsErrorKind::Transient);
        assert_eq!(
            classify_code("InvalidParameterException", Some(400)),
            AwsErrorKind::Terminal
        );
        assert_eq!(
            classify_code("AccessDeniedException", Some(400)),
            AwsErrorKind::Terminal
        );
        assert_eq!(
            classify_code("ClientException", Some(400)),
            AwsErrorKind::Terminal
        );
    }

    #[test]
    fn missing_services_and_busy_services_are_told_apart() {
        assert_eq!(
            classify_code("ServiceNotFoundException", Some(400)),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code("ResourceNotFoundException", Some(400)),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code("InvalidStateException", Some(400)),
            AwsErrorKind::InvalidState
        );
        assert!(AwsErrorKind::InvalidState.is_retryable());
        assert!(!AwsErrorKind::Terminal.is_retryable());
    }
}
