//! AWS SDK adapters. `error` classifies SDK errors, `ecs` speaks ECS Express Mode and `apprunner` App
//! Runner. [`AwsClients`] builds one set of SDK clients per Region on first use and reuses it, all
//! sharing one rustls HTTPS client. Every call is counted in the metrics by service, operation and
//! outcome.

pub mod apprunner;
pub mod budget;
pub mod ecs;
pub mod error;

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::Mutex;

use crate::error::AwsFailure;
use crate::server::metrics::Metrics;
use crate::{Error, Result};
use error::classify;

/// Where runway sends AWS calls.
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// The Region used when a resource does not name one.
    pub default_region: String,
    /// Send every call to this endpoint instead of AWS (for the simulator).
    pub endpoint_url: Option<String>,
    /// Sign with fixed placeholder credentials instead of the default chain (only for the embedded
    /// simulator, which accepts any signature).
    pub placeholder_credentials: bool,
    /// The longest one HTTP attempt of an AWS call may take; a stalled response then fails as a
    /// retryable timeout instead of holding a reconcile slot for ever.
    pub attempt_timeout: std::time::Duration,
    /// The longest one AWS call may take, all SDK retries included.
    pub operation_timeout: std::time::Duration,
    /// runway's own request budget per Region and action family.
    pub budget: budget::BudgetSettings,
}

/// The SDK clients for one Region.
#[derive(Clone, Debug)]
pub struct RegionClients {
    /// The Region these clients call.
    pub region: String,
    /// Amazon ECS.
    pub ecs: aws_sdk_ecs::Client,
    /// AWS App Runner.
    pub apprunner: aws_sdk_apprunner::Client,
    /// Where AWS call outcomes are counted.
    pub metrics: Metrics,
    /// The request budget every call waits for.
    pub budget: Arc<budget::Budget>,
}

/// Per-Region SDK clients, created on first use and reused.
pub struct AwsClients {
    settings: AwsSettings,
    http: SharedHttpClient,
    metrics: Metrics,
    budget: Arc<budget::Budget>,
    cache: Mutex<HashMap<String, RegionClients>>,
}

impl AwsClients {
    /// Creates the client cache. Credentials come from the SDK default chain (environment, IRSA web
    /// identity, EKS Pod Identity, ECS container credentials, instance metadata).
    pub fn new(settings: AwsSettings, metrics: Metrics) -> Arc<Self> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let budget = Arc::new(budget::Budget::new(settings.budget.clone(), metrics.clone()));
        Arc::new(Self {
            settings,
            http,
            budget,
            metrics,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The controller's default Region, for resources that name none and have nothing in AWS yet.
    pub fn default_region(&self) -> &str {
        &self.settings.default_region
    }

    /// The clients for `region`, built on first use.
    pub async fn for_region(&self, region: &str) -> RegionClients {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(region) {
            return c.clone();
        }
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(5).min(self.settings.attempt_timeout))
            .operation_attempt_timeout(self.settings.attempt_timeout)
            .operation_timeout(self.settings.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .timeout_config(timeouts)
            .http_client(self.http.clone());
        if let Some(url) = &self.settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if self.settings.placeholder_credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                "runway-simulator",
                "runway-simulator",
                None,
                None,
                "runway-simulator",
            ));
        }
        let config = loader.load().await;
        let clients = RegionClients {
            region: region.to_string(),
            ecs: aws_sdk_ecs::Client::new(&config),
            apprunner: aws_sdk_apprunner::Client::new(&config),
            metrics: self.metrics.clone(),
            budget: Arc::clone(&self.budget),
        };
        cache.insert(region.to_string(), clients.clone());
        clients
    }
}

impl RegionClients {
    /// Waits for a budget token, awaits one SDK call (the SDK sends nothing before it is polled),
    /// counts it, and turns a failure into [`Error::Aws`].
    pub async fn call<T, E>(
        &self,
        service: &'static str,
        operation: &'static str,
        target: &str,
        fut: impl std::future::Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.budget.take(&self.region, service, operation).await;
        match fut.await {
            Ok(v) => {
                self.metrics.aws_call(service, operation, "ok");
                Ok(v)
            }
            Err(err) => {
                let (kind, code, message) = classify(&err);
                self.metrics.aws_call(service, operation, kind.label());
                Err(Error::Aws(Box::new(AwsFailure {
                    service,
                    operation,
                    region: self.region.clone(),
                    target: target.to_string(),
                    kind,
                    code,
                    message,
                })))
            }
        }
    }
}
