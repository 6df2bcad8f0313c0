//! SDK clients pointed at a simulator (cargo feature `client`), for tests in this crate and in the
//! controller's end-to-end suites. They use fake static credentials (the simulator accepts any SigV4
//! signature and makes a key it did not issue a principal of its default account) or any credentials
//! provider, such as aws-config's `AssumeRoleProvider` asking the simulator's STS for a role in
//! another account, and a plain-HTTP connector, since the AWS crates are built without their default
//! HTTPS client.

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_apprunner::config::retry::RetryConfig as AppRunnerRetryConfig;
use aws_sdk_ecs::config::retry::RetryConfig as EcsRetryConfig;

/// How to build a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// Signing region; the simulator scopes services by it.
    pub region: String,
    /// Attempts per call: 1 surfaces every error, 3 is the SDK's standard retry.
    pub max_attempts: u32,
}

impl Default for ClientOptions {
    /// `us-east-1`, no retries.
    fn default() -> Self {
        Self {
            region: "us-east-1".to_string(),
            max_attempts: 1,
        }
    }
}

/// The plain-HTTP connector every client here uses, for clients configured by hand.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_http()
}

/// Fake static credentials: the default account's principal `AKIDSIMULATOR`.
pub fn fake_credentials() -> aws_sdk_ecs::config::Credentials {
    credentials("AKIDSIMULATOR")
}

/// Static credentials with this access key ID. A key the simulator did not issue is a principal of
/// its default account, `arn:aws:iam::<account>:user/<access_key>`.
pub fn credentials(access_key: &str) -> aws_sdk_ecs::config::Credentials {
    aws_sdk_ecs::config::Credentials::new(access_key, "simulator-secret", None, None, "runway-sim")
}

/// Shared SDK configuration for `endpoint` in `us-east-1` (no retries) signing with `credentials`,
/// for clients of services this module has no builder for (such as STS) and for
/// `AssumeRoleProvider::configure`.
pub async fn sdk_config(
    endpoint: &str,
    credentials: impl ProvideCredentials + 'static,
) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(ClientOptions::default().region))
        .credentials_provider(credentials)
        .http_client(http_client())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

/// Credentials for a session of `role_arn`, from the simulator's STS (AssumeRole, session name
/// `runway`), signed as the default account's `AKIDSIMULATOR`; `external_id` when the role's trust
/// policy requires one. The SDK's identity cache asks again before the credentials expire.
pub async fn assume_role_provider(
    endpoint: &str,
    role_arn: &str,
    external_id: Option<&str>,
) -> aws_config::sts::AssumeRoleProvider {
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name("runway");
    if let Some(id) = external_id {
        builder = builder.external_id(id);
    }
    builder
        .configure(&sdk_config(endpoint, fake_credentials()).await)
        .build()
        .await
}

/// An ECS client for `endpoint` in `us-east-1` that does not retry.
pub fn ecs_client(endpoint: &str) -> aws_sdk_ecs::Client {
    ecs_client_with(endpoint, &ClientOptions::default())
}

/// An ECS client for `endpoint` with explicit options.
pub fn ecs_client_with(endpoint: &str, options: &ClientOptions) -> aws_sdk_ecs::Client {
    ecs_client_with_credentials(endpoint, options, fake_credentials())
}

/// An ECS client for `endpoint` that signs with `credentials`, for example an
/// [`assume_role_provider`] (the calls then run in the role's account).
pub fn ecs_client_with_credentials(
    endpoint: &str,
    options: &ClientOptions,
    credentials: impl ProvideCredentials + 'static,
) -> aws_sdk_ecs::Client {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(aws_sdk_ecs::config::Region::new(options.region.clone()))
        .credentials_provider(credentials)
        .http_client(http_client())
        .retry_config(EcsRetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// An App Runner client for `endpoint` in `us-east-1` that does not retry.
pub fn apprunner_client(endpoint: &str) -> aws_sdk_apprunner::Client {
    apprunner_client_with(endpoint, &ClientOptions::default())
}

/// An App Runner client for `endpoint` with explicit options.
pub fn apprunner_client_with(endpoint: &str, options: &ClientOptions) -> aws_sdk_apprunner::Client {
    apprunner_client_with_credentials(endpoint, options, fake_credentials())
}

/// An App Runner client for `endpoint` that signs with `credentials`, for example an
/// [`assume_role_provider`] (the calls then run in the role's account).
pub fn apprunner_client_with_credentials(
    endpoint: &str,
    options: &ClientOptions,
    credentials: impl ProvideCredentials + 'static,
) -> aws_sdk_apprunner::Client {
    let config = aws_sdk_apprunner::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(aws_sdk_apprunner::config::Region::new(options.region.clone()))
        .credentials_provider(credentials)
        .http_client(http_client())
        .retry_config(AppRunnerRetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
        .build();
    aws_sdk_apprunner::Client::from_conf(config)
}
