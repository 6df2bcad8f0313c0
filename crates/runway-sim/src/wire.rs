//! The AWS JSON protocol details shared by both services: which service a request is for, how an
//! error is encoded, which members name the resources a call acts on, and which access key and
//! region a SigV4 signature names.
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

    /// The error for session credentials past their expiration: AWS's common
    /// `ExpiredTokenException`, HTTP 403 (docs/aws-behaviour.md X8).
    pub fn expired_token(self) -> AwsError {
        AwsError::with_status(
            "ExpiredTokenException",
            "The security token included in the request is expired",
            403,
        )
    }

    /// The error for a temporary access key the simulator never issued (or forgot an hour after it
    /// expired): AWS's common `UnrecognizedClientException`, HTTP 403.
    pub fn unrecognized_client(self) -> AwsError {
        AwsError::with_status(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            403,
        )
    }

    /// IAM's refusal of a call on a resource of another account: neither service has
    /// resource-based policies, so a principal can never act on another account's resources.
    /// NB: ECS models `AccessDeniedException` without a status, so it is sent with 400 (as observed
    /// from real accounts); App Runner does not model it, so it gets the 403 of AWS's common errors.
    pub fn access_denied(self, caller: &str, action: &str, resource: &str) -> AwsError {
        let status = match self {
            Self::Ecs => 400,
            Self::AppRunner => 403,
        };
        let permission = format!("{}:{action}", self.name());
        AwsError::with_status(
            "AccessDeniedException",
            format!(
                "User: {caller} is not authorized to perform: {permission} on resource: {resource} \
                 because no resource-based policy allows the {permission} action"
            ),
            status,
        )
    }

    /// The request members that name a resource the call acts on (a name or an ARN, or a list of
    /// them). Role ARNs are not among them: those are passed to the service, not acted on.
    pub fn resource_members(self) -> &'static [&'static str] {
        match self {
            Self::Ecs => &[
                "serviceArn",
                "service",
                "services",
                "cluster",
                "serviceDeploymentArns",
                // NB: the tag calls (E30) name their service this way.
                "resourceArn",
            ],
            Self::AppRunner => &[
                "ServiceArn",
                "ResourceArn",
                // NB: the auto scaling configuration and VPC connector calls (A22, A23).
                "AutoScalingConfigurationArn",
                "VpcConnectorArn",
            ],
        }
    }

    /// The resource members `action` does not act on but passes to the service, like a role:
    /// App Runner's CreateService and UpdateService name the auto scaling configuration the service
    /// is to use. Such an ARN of another account is not refused by IAM; the service does not find it
    /// in the caller's account (`InvalidRequestException`, docs/aws-behaviour.md A22).
    pub fn passed_members(self, action: &str) -> &'static [&'static str] {
        match (self, action) {
            (Self::AppRunner, "CreateService" | "UpdateService") => &["AutoScalingConfigurationArn"],
            _ => &[],
        }
    }

    /// The first ARN among the resource members of `input` whose account is not `account`.
    pub fn foreign_resource<'a>(self, input: &'a Value, account: &str) -> Option<&'a str> {
        self.foreign_resource_of("", input, account)
    }

    /// The first ARN among the resource members `action` acts on (all of them but its
    /// [`passed_members`](Self::passed_members)) whose account is not `account`.
    pub fn foreign_resource_of<'a>(self, action: &str, input: &'a Value, account: &str) -> Option<&'a str> {
        let passed = self.passed_members(action);
        self.resource_members()
            .iter()
            .filter(|member| !passed.contains(member))
            .filter_map(|member| input.get(member))
            .flat_map(|value| match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            })
            .filter_map(Value::as_str)
            .find(|arn| arn_account(arn).is_some_and(|a| a != account))
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

/// The account field of an ARN (`arn:partition:service:region:account:resource`), if it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut fields = arn.strip_prefix("arn:")?.splitn(5, ':');
    let account = fields.nth(3)?;
    fields.next()?;
    (!account.is_empty()).then_some(account)
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

/// The `Credential=` value of a SigV4 `Authorization` header: `AKID/date/region/service/aws4_request`.
fn credential_scope(header: &str) -> Option<&str> {
    header
        .split([',', ' '])
        .find_map(|part| part.trim().strip_prefix("Credential="))
}

/// The region named by the credential scope of a SigV4 `Authorization` header, such as
/// `AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/ecs/aws4_request, ...`.
pub fn region_from_authorization(header: &str) -> Option<String> {
    let mut scope = credential_scope(header)?.split('/');
    let region = scope.nth(2)?;
    let valid = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then(|| region.to_string())
}

/// The access key ID that signed a request: the first element of the credential scope of a SigV4
/// `Authorization` header (`AKID` in `Credential=AKID/20250101/eu-west-1/ecs/aws4_request`).
pub fn access_key_from_authorization(header: &str) -> Option<String> {
    let key = credential_scope(header)?.split('/').next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// Who is asking and when: what every handler needs besides the request body.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The region from the signature.
    pub region: String,
    /// The caller's account: the simulator's default account, or the account of the role whose
    /// session credentials signed the request.
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
    fn the_access_key_is_the_first_element_of_the_credential_scope() {
        let header = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20250101/us-east-1/sts/aws4_request, \
                      SignedHeaders=host, Signature=abc";
        assert_eq!(
            access_key_from_authorization(header).as_deref(),
            Some("ASIAEXAMPLE")
        );
        assert_eq!(
            access_key_from_authorization("AWS4-HMAC-SHA256 Credential=/x/y"),
            None
        );
        assert_eq!(access_key_from_authorization("Bearer token"), None);
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
    fn resources_of_other_accounts_are_found_in_names_arns_and_lists() {
        let mine = "arn:aws:ecs:us-east-1:123456789012:service/default/web";
        let theirs = "arn:aws:ecs:us-east-1:210987654321:service/default/web";
        let input = json!({
            "services": ["web", mine, theirs],
            "infrastructureRoleArn": "arn:aws:iam::999999999999:role/x",
        });
        assert_eq!(
            AwsService::Ecs.foreign_resource(&input, "123456789012"),
            Some(theirs)
        );
        assert_eq!(
            AwsService::Ecs.foreign_resource(&input, "210987654321"),
            Some(mine)
        );
        let roles_only = json!({"serviceName": "web", "taskRoleArn": "arn:aws:iam::999999999999:role/x"});
        assert_eq!(
            AwsService::Ecs.foreign_resource(&roles_only, "123456789012"),
            None
        );
        let tagging = json!({"resourceArn": "arn:aws:ecs:us-east-1:210987654321:service/default/web"});
        assert!(
            AwsService::Ecs
                .foreign_resource(&tagging, "123456789012")
                .is_some()
        );
        let apprunner = json!({"ResourceArn": "arn:aws:apprunner:us-east-1:210987654321:service/a/b"});
        assert!(
            AwsService::AppRunner
                .foreign_resource(&apprunner, "123456789012")
                .is_some()
        );
        let denied = AwsService::Ecs.access_denied("arn:aws:iam::1:user/x", "DescribeServices", theirs);
        assert_eq!((denied.code, denied.status), ("AccessDeniedException", 400));
        assert!(
            denied
                .message
                .contains("ecs:DescribeServices on resource: arn:aws:ecs")
        );
        assert_eq!(AwsService::AppRunner.access_denied("a", "b", "c").status, 403);
    }

    #[test]
    fn auto_scaling_configurations_and_vpc_connectors_of_other_accounts_are_found_unless_passed() {
        let config = json!({
            "AutoScalingConfigurationArn":
                "arn:aws:apprunner:us-east-1:210987654321:autoscalingconfiguration/fast/1/0123"
        });
        let connector = json!({
            "VpcConnectorArn": "arn:aws:apprunner:us-east-1:210987654321:vpcconnector/vpc/1/0123"
        });
        let app_runner = AwsService::AppRunner;
        let mine = "123456789012";
        for action in [
            "DescribeAutoScalingConfiguration",
            "DeleteAutoScalingConfiguration",
        ] {
            assert!(
                app_runner.foreign_resource_of(action, &config, mine).is_some(),
                "{action}"
            );
        }
        assert!(
            app_runner
                .foreign_resource_of("DescribeVpcConnector", &connector, mine)
                .is_some()
        );
        // Passed to the service like a role: the service answers, not IAM.
        for action in ["CreateService", "UpdateService"] {
            assert_eq!(
                app_runner.foreign_resource_of(action, &config, mine),
                None,
                "{action}"
            );
        }
        assert!(app_runner.foreign_resource(&config, mine).is_some());
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
