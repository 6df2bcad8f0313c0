//! SDK clients pointed at a simulator, for tests in this crate and in the controller's end-to-end
//! suites. They use fake static credentials (the simulator accepts any SigV4 signature) and a
//! plain-HTTP connector, since the AWS crates are built without their default HTTPS client.

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

fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_http()
}

/// Fake static credentials.
pub fn fake_credentials() -> aws_sdk_ecs::config::Credentials {
    aws_sdk_ecs::config::Credentials::new("AKIDSIMULATOR", "simulator-secret", None, None, "runway-sim")
}

/// An ECS client for `endpoint` in `us-east-1` that does not retry.
pub fn ecs_client(endpoint: &str) -> aws_sdk_ecs::Client {
    ecs_client_with(endpoint, &ClientOptions::default())
}

/// An ECS client for `endpoint` with explicit options.
pub fn ecs_client_with(endpoint: &str, options: &ClientOptions) -> aws_sdk_ecs::Client {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(aws_sdk_ecs::config::Region::new(options.region.clone()))
        .credentials_provider(fake_credentials())
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
    let config = aws_sdk_apprunner::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(aws_sdk_apprunner::config::Region::new(options.region.clone()))
        .credentials_provider(aws_sdk_apprunner::config::Credentials::new(
            "AKIDSIMULATOR",
            "simulator-secret",
            None,
            None,
            "runway-sim",
        ))
        .http_client(http_client())
        .retry_config(AppRunnerRetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
        .build();
    aws_sdk_apprunner::Client::from_conf(config)
}
