//! Classifies AWS SDK errors: which ones retrying can fix, which mean "not found", and which are
//! terminal until the spec changes.
//!
//! AWS answers with more spellings than its models list (see `docs/aws-behaviour.md`): a gone
//! Express service is an `InvalidParameterException` "Resource not found", an INACTIVE one a
//! `ServiceNotActiveException`, and a role created seconds ago is an `AccessDeniedException` until IAM
//! has propagated it. Classification therefore reads the message as well as the code.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::AwsErrorKind;

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
    // NB: an expired session credential (docs/aws-behaviour.md X8); the SDK's identity cache
    // loads a fresh one for the retry.
    "ExpiredTokenException",
    "ExpiredToken",
];

const NOT_FOUND_CODES: &[&str] = &["ServiceNotFoundException", "ResourceNotFoundException"];

const INVALID_STATE_CODES: &[&str] = &["InvalidStateException", "ServiceNotActiveException"];

/// Messages that mean IAM has not yet propagated a role (or the caller's credentials) that AWS was
/// just given; Terraform retries these too (`retryExpressGatewayServiceCreate`).
const IAM_PROPAGATION_MESSAGES: &[&str] = &[
    "cannot assume role",
    "unable to assume the role",
    "unable to assume role",
    "not authorized to perform: sts:assumerole",
    "not able to validate the provided access credentials",
    // NB: App Runner's InvalidRequestException for a role IAM has not propagated yet.
    "error in assuming instance role",
    "error in assuming access role",
];

/// Classifies an error by its code, message and HTTP status (when there is one).
pub fn classify_code(code: &str, message: &str, http_status: Option<u16>) -> AwsErrorKind {
    let lower = message.to_ascii_lowercase();
    let iam_code = matches!(
        code,
        "AccessDeniedException" | "ClientException" | "InvalidRequestException" | "InvalidParameterException"
    );
    if THROTTLING_CODES.contains(&code) || http_status == Some(429) {
        AwsErrorKind::Throttling
    } else if NOT_FOUND_CODES.contains(&code)
        // NB: ECS Express answers a gone service with InvalidParameterException "Resource not found".
        || (code == "InvalidParameterException" && lower.contains("resource not found"))
        // NB: ...and an INACTIVE one with ServiceNotActiveException: it is deleted.
        || (code == "ServiceNotActiveException" && lower.contains("inactive"))
    {
        AwsErrorKind::NotFound
    } else if INVALID_STATE_CODES.contains(&code) {
        AwsErrorKind::InvalidState
    } else if iam_code && IAM_PROPAGATION_MESSAGES.iter().any(|m| lower.contains(m)) {
        AwsErrorKind::IamPropagation
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
            (classify_code(&code, &message, Some(status)), code, message)
        }
        SdkError::TimeoutError(_) => (AwsErrorKind::Transient, "Timeout".into(), err_chain(err)),
        SdkError::DispatchFailure(_) => {
            let chain = err_chain(err);
            let (kind, code) = classify_dispatch(&chain);
            (kind, code.into(), chain)
        }
        SdkError::ResponseError(_) => (AwsErrorKind::Transient, "ResponseError".into(), err_chain(err)),
        SdkError::ConstructionFailure(_) => (
            AwsErrorKind::Terminal,
            "ConstructionFailure".into(),
            err_chain(err),
        ),
        _ => (AwsErrorKind::Transient, "Unknown".into(), err_chain(err)),
    }
}

/// AWS's request ID of a failed call, from the `x-amzn-RequestId` header of the response it got;
/// `None` when no response came back (a timeout, a connection failure).
pub fn request_id<E>(err: &SdkError<E, HttpResponse>) -> Option<String> {
    let raw = match err {
        SdkError::ServiceError(service_err) => service_err.raw(),
        SdkError::ResponseError(response_err) => response_err.raw(),
        _ => return None,
    };
    raw.headers()
        .get("x-amzn-requestid")
        .or_else(|| raw.headers().get("x-amz-request-id"))
        .map(str::to_string)
}

/// The kind and code of a request that never reached the service. The SDK reports a credential
/// provider's failure this way, before anything is sent: for an assumed role (docs/multi-account.md)
/// that is STS refusing `AssumeRole`. A refusal right after the role or its trust policy was
/// created is IAM propagation (retried; Stalled once it lasts); any other failure to load
/// credentials, like every other dispatch failure, is transient.
pub fn classify_dispatch(chain: &str) -> (AwsErrorKind, &'static str) {
    if !chain.contains("loading credentials") {
        return (AwsErrorKind::Transient, "DispatchFailure");
    }
    let lower = chain.to_ascii_lowercase();
    if IAM_PROPAGATION_MESSAGES.iter().any(|m| lower.contains(m)) {
        (AwsErrorKind::IamPropagation, "AssumeRoleDenied")
    } else {
        (AwsErrorKind::Transient, "CredentialsNotLoaded")
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
    fn a_refused_assume_role_is_iam_propagation_and_other_dispatch_failures_are_transient() {
        let denied = "dispatch failure: other: an error occurred while loading credentials: service \
                      error: unhandled error (AccessDenied): Error { code: \"AccessDenied\", message: \
                      \"User: arn:aws:iam::123456789012:user/x is not authorized to perform: \
                      sts:AssumeRole on resource: arn:aws:iam::210987654321:role/a\" }";
        assert_eq!(
            classify_dispatch(denied),
            (AwsErrorKind::IamPropagation, "AssumeRoleDenied")
        );
        assert_eq!(
            classify_dispatch(
                "dispatch failure: other: an error occurred while loading credentials: timeout"
            ),
            (AwsErrorKind::Transient, "CredentialsNotLoaded")
        );
        assert_eq!(
            classify_dispatch("dispatch failure: io: connection refused"),
            (AwsErrorKind::Transient, "DispatchFailure")
        );
        // A session that expired before the cache renewed it: the retry gets a fresh one.
        assert_eq!(
            classify_code(
                "ExpiredTokenException",
                "The security token included in the request is expired",
                Some(403)
            ),
            AwsErrorKind::Transient
        );
    }

    #[test]
    fn throttling_codes_and_429_are_throttling() {
        assert_eq!(
            classify_code("ThrottlingException", "", Some(400)),
            AwsErrorKind::Throttling
        );
        assert_eq!(
            classify_code("TooManyRequestsException", "", Some(429)),
            AwsErrorKind::Throttling
        );
        assert_eq!(classify_code("Whatever", "", Some(429)), AwsErrorKind::Throttling);
    }

    #[test]
    fn server_errors_are_transient_and_validation_is_terminal() {
        assert_eq!(
            classify_code("ServerException", "", Some(500)),
            AwsErrorKind::Transient
        );
        assert_eq!(
            classify_code("SomethingNew", "", Some(503)),
            AwsErrorKind::Transient
        );
        assert_eq!(
            classify_code("InvalidParameterException", "cpu must be 256", Some(400)),
            AwsErrorKind::Terminal
        );
        assert_eq!(
            classify_code(
                "AccessDeniedException",
                "not authorized to perform: ecs:CreateExpressGatewayService",
                Some(400)
            ),
            AwsErrorKind::Terminal
        );
        assert_eq!(
            classify_code("ClientException", "bad request", Some(400)),
            AwsErrorKind::Terminal
        );
    }

    #[test]
    fn missing_services_and_busy_services_are_told_apart() {
        assert_eq!(
            classify_code("ServiceNotFoundException", "", Some(400)),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code("ResourceNotFoundException", "", Some(400)),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_code("InvalidStateException", "", Some(400)),
            AwsErrorKind::InvalidState
        );
        assert!(AwsErrorKind::InvalidState.is_retryable());
        assert!(!AwsErrorKind::Terminal.is_retryable());
    }

    #[test]
    fn every_spelling_of_a_gone_express_service_is_not_found() {
        for (code, message) in [
            ("InvalidParameterException", "Resource not found."),
            (
                "InvalidParameterException",
                "The specified resource was not found: Resource not found",
            ),
            (
                "ServiceNotActiveException",
                "Cannot perform this operation on a service in INACTIVE status",
            ),
            ("ServiceNotFoundException", "Service not found."),
        ] {
            assert_eq!(
                classify_code(code, message, Some(400)),
                AwsErrorKind::NotFound,
                "{code}: {message}"
            );
        }
        assert_eq!(
            classify_code(
                "ServiceNotActiveException",
                "Service is in DRAINING status",
                Some(400)
            ),
            AwsErrorKind::InvalidState
        );
        assert_eq!(
            classify_code(
                "InvalidParameterException",
                "Role arn:aws:iam::1:role/x was not found",
                Some(400)
            ),
            AwsErrorKind::Terminal
        );
    }

    #[test]
    fn iam_propagation_is_retryable_and_other_access_denials_are_not() {
        for (code, message) in [
            (
                "AccessDeniedException",
                "ECS was unable to assume the role 'arn:aws:iam::1:role/r'. Cannot assume role",
            ),
            (
                "AccessDeniedException",
                "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: sts:AssumeRole on resource: r",
            ),
            (
                "ClientException",
                "AWS was not able to validate the provided access credentials",
            ),
        ] {
            let kind = classify_code(code, message, Some(400));
            assert_eq!(kind, AwsErrorKind::IamPropagation, "{message}");
            assert!(kind.is_retryable());
        }
        assert_eq!(
            classify_code(
                "AccessDeniedException",
                "not authorized to perform: iam:PassRole",
                Some(400)
            ),
            AwsErrorKind::Terminal
        );
    }
}
