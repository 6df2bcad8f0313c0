//! The AWS JSON protocol details shared by both services: which service a request is for, how an
//! error is encoded, and which region a SigV4 signature names.
//!
//! The state machines return `Result<serde_json::Value, AwsError>`; the server turns that into an
//! HTTP response with the service's content type, `x-amzn-requestid`, and for errors the
//! `x-amzn-errortype` header plus a `{"__type", "message"}` body.

use serde_json::{Value, json};

/// The region used when a request carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The two simulated services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AwsService {
    /// Amazon ECS, awsJson1_1.
    Ecs,
    /// AWS App Runner, awsJson1_0.
    AppRunner,
}

impl AwsService {
    /// Finds the service and action named by an `X-Amz-Target` header.
    pub fn from_target(target: &str) -> Option<(Self, &str)> {
        let (prefix, action) = target.split_once('.')?;
        let service = match prefix {
            "AmazonEC2ContainerServiceV20141113" => Self::Ecs,
            "AppRunner" => Self::AppRunner,
            _ => return None,
        };
        Some((service, action))
    }

    /// The short name used in stats keys, rate-limit keys and injections.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ecs => "ecs",
            Self::AppRunner => "apprunner",
        }
    }

    /// The response content type of the service's protocol.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ecs => "application/x-amz-json-1.1",
            Self::AppRunner => "application/x-amz-json-1.0",
        }
    }

    /// The error code for a 500. Both are modeled errors of every operation the simulator serves.
    pub fn server_error(self, message: impl Into<String>) -> AwsError {
        let code = match self {
            Self::Ecs => "ServerException",
            Self::AppRunner => "InternalServiceErrorException",
        };
        AwsError::with_status(code, message, 500)
    }

    /// The throttling error. Neither model declares one; the SDKs classify `ThrottlingException`
    /// as a throttling error for every service.
    pub fn throttling(self, message: impl Into<String>) -> AwsError {
        AwsError::new("ThrottlingException", message)
    }

    /// Renders an error body. ECS members are `message`, App Runner members are `Message`, as the
    /// models spell them.
    pub fn error_body(self, error: &AwsError) -> Value {
        let message_key = match self {
            Self::Ecs => "message",
            Self::AppRunner => "Message",
        };
        json!({ "__type": error.code, message_key: error.message })
    }
}

/// An AWS error response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    /// The error code, such as `InvalidParameterException`.
    pub code: &'static str,
    /// The human-readable message.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
}

impl AwsError {
    /// A client error (HTTP 400).
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self::with_status(code, message, 400)
    }

    /// An error with an explicit HTTP status.
    pub fn with_status(code: &'static str, message: impl Into<String>, status: u16) -> Self {
        Self {
            code,
            message: message.into(),
            status,
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

/// The region named by the credential scope of a SigV4 `Authorization` header, such as
/// `AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/ecs/aws4_request, ...`.
pub fn region_from_authorization(header: &str) -> Option<String> {
    let credential = header
        .split([',', ' '])
        .find_map(|part| part.trim().strip_prefix("Credential="))?;
    let mut scope = credential.split('/');
    let region = scope.nth(2)?;
    let valid = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then(|| region.to_string())
}

/// Who is asking and when: what every handler needs besides the request body.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The region from the signature.
    pub region: String,
    /// The simulated account.
    pub account: String,
    /// Simulated time of the request.
    pub now: f64,
}

/// Reads a request body into the operation's input type. AWS answers a body it cannot read with a
/// `SerializationException`.
pub fn parse_input<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, AwsError> {
    serde_json::from_value(body)
        .map_err(|e| AwsError::new("SerializationException", format!("Invalid request body: {e}")))
}

/// Serializes an output value.
pub fn to_output<T: serde::Serialize>(value: &T) -> Result<Value, AwsError> {
    serde_json::to_value(value).map_err(|e| {
        AwsError::with_status(
            "InternalFailure",
            format!("simulator could not serialize response: {e}"),
            500,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_credential_scope() {
        let header = "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/ecs/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(region_from_authorization(header).as_deref(), Some("eu-west-1"));
        assert_eq!(region_from_authorization("Bearer token"), None);
        assert_eq!(
            region_from_authorization("AWS4-HMAC-SHA256 Credential=AKID/20250101/Bad!/ecs/x"),
            None
        );
    }

    #[test]
    fn targets_name_the_service_and_action() {
        assert_eq!(
            AwsService::from_target("AmazonEC2ContainerServiceV20141113.DescribeServices"),
            Some((AwsService::Ecs, "DescribeServices"))
        );
        assert_eq!(
            AwsService::from_target("AppRunner.ListServices"),
            Some((AwsService::AppRunner, "ListServices"))
        );
        assert_eq!(AwsService::from_target("DynamoDB_20120810.GetItem"), None);
    }

    #[test]
    fn error_bodies_use_each_models_message_member() {
        let error = AwsError::new("InvalidStateException", "busy");
        assert_eq!(
            AwsService::AppRunner.error_body(&error),
            json!({"__type": "InvalidStateException", "Message": "busy"})
        );
        assert_eq!(AwsService::Ecs.error_body(&error)["message"], json!("busy"));
    }
}
