//! AWS SDK adapters. `error` classifies SDK errors, `ecs` speaks ECS Express Mode and `apprunner` App
//! Runner. [`AwsClients`] builds one set of SDK clients per identity (the controller's own, or an IAM
//! role assumed for a namespace) and Region on first use and reuses it, all sharing one rustls HTTPS
//! client. Each call goes through `call`: a token of the request `budget` (per account, Region and
//! action family, its rate adapted by `rate`) before every attempt, runway's own retries (`retry`),
//! and a count in the metrics by service, operation and outcome. `own_account` learns the controller's
//! own account in the background. `permissions` lists every IAM action these modules call.

pub mod apprunner;
pub mod budget;
pub mod call;
pub mod ecs;
pub mod error;
pub mod own_account;
pub mod permissions;
pub mod rate;
pub mod retry;

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use tokio::sync::Mutex;

use crate::metrics::Metrics;
use crate::plan::account::{self, AssumedRole};
use own_account::{Next, OwnAccount};
use retry::RetryPolicy;

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
    /// The longest one AWS call may take, all retries included (no retry starts after it).
    pub operation_timeout: std::time::Duration,
    /// runway's own request budget per account, Region and action family.
    pub budget: budget::BudgetSettings,
}

/// How runway names the sessions of the roles it assumes, so that a role's trust policy can bind
/// it to one namespace (docs/multi-account.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSettings {
    /// The cluster's name: sessions are named `<cluster>@<namespace>`.
    pub cluster_name: String,
    /// Also pass the session tags `runway.dev/cluster` and `runway.dev/namespace` (the role's trust
    /// policy must then allow `sts:TagSession`).
    pub tags: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            cluster_name: DEFAULT_CLUSTER_NAME.into(),
            tags: false,
        }
    }
}

/// The cluster name when none is given.
pub const DEFAULT_CLUSTER_NAME: &str = "runway";

/// Whose account a set of clients calls in.
#[derive(Clone, Debug)]
pub enum CallerAccount {
    /// An assumed role's account, from its ARN.
    Role(String),
    /// The controller's own account, known once STS has answered.
    Own(Arc<OwnAccount>),
}

/// The SDK clients for one identity in one Region.
#[derive(Clone, Debug)]
pub struct RegionClients {
    /// The Region these clients call.
    pub region: String,
    /// Amazon ECS, without SDK retries (runway retries, see `call`).
    pub ecs: aws_sdk_ecs::Client,
    /// AWS App Runner, without SDK retries.
    pub apprunner: aws_sdk_apprunner::Client,
    /// Where AWS call outcomes are counted.
    pub metrics: Metrics,
    /// The request budget every attempt waits for.
    pub budget: Arc<budget::Budget>,
    /// The account the calls run in, which with the Region picks the budget's buckets.
    pub account: CallerAccount,
    /// How failed attempts are retried.
    pub retry: RetryPolicy,
}

impl RegionClients {
    /// The budget buckets these clients' calls take from: AWS's buckets are per account and
    /// Region, so the controller's own identity and a role in the same account share them once
    /// the own account is known (until then the own identity's account is empty).
    pub fn budget_scope(&self) -> budget::Scope {
        let account = match &self.account {
            CallerAccount::Role(account) => account.clone(),
            CallerAccount::Own(own) => own.known().unwrap_or_default(),
        };
        budget::Scope {
            account,
            region: self.region.clone(),
        }
    }
}

/// SDK clients per identity (the controller's own or a role assumed for a namespace) and Region,
/// created on first use and reused. Each identity has one `SdkConfig`, so its credentials are
/// cached once for all Regions (aws-config's lazy identity cache refreshes them shortly before
/// they expire).
pub struct AwsClients {
    settings: AwsSettings,
    sessions: SessionSettings,
    http: SharedHttpClient,
    metrics: Metrics,
    budget: Arc<budget::Budget>,
    configs: Mutex<HashMap<Option<AssumedRole>, SdkConfig>>,
    cache: Mutex<HashMap<(Option<AssumedRole>, String), RegionClients>>,
    own_account: Arc<OwnAccount>,
}

impl AwsClients {
    /// Creates the client cache with the default session naming (cluster `runway`, no session
    /// tags). Credentials come from the SDK default chain (environment, IRSA web identity, EKS Pod
    /// Identity, ECS container credentials, instance metadata).
    pub fn new(settings: AwsSettings, metrics: Metrics) -> Arc<Self> {
        Self::with_sessions(settings, SessionSettings::default(), metrics)
    }

    /// Creates the client cache, naming assumed-role sessions as `sessions` says.
    pub fn with_sessions(settings: AwsSettings, sessions: SessionSettings, metrics: Metrics) -> Arc<Self> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let budget = Arc::new(budget::Budget::new(settings.budget.clone(), metrics.clone()));
        Arc::new(Self {
            settings,
            sessions,
            http,
            budget,
            metrics,
            configs: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            own_account: Arc::default(),
        })
    }

    /// The controller's default Region, for resources that name none and have nothing in AWS yet.
    pub fn default_region(&self) -> &str {
        &self.settings.default_region
    }

    /// The controller's own clients for `region`, built on first use.
    pub async fn for_region(&self, region: &str) -> RegionClients {
        self.clients(None, region).await
    }

    /// The clients for `role` (the controller's own identity when `None`) in `region`, built on
    /// first use. Nothing is called here: a role that cannot be assumed fails the first AWS call.
    pub async fn clients(&self, role: Option<&AssumedRole>, region: &str) -> RegionClients {
        let key = (role.cloned(), region.to_string());
        if let Some(c) = self.cache.lock().await.get(&key) {
            return c.clone();
        }
        let config = self.config(role).await;
        let region_name = Region::new(region.to_string());
        // NB: without the SDK's retries: `call` retries, each attempt after a budget token, since
        // no SDK hook can make a retry wait for one (see `call`).
        let ecs = aws_sdk_ecs::config::Builder::from(&config)
            .region(region_name.clone())
            .retry_config(RetryConfig::disabled())
            .build();
        let apprunner = aws_sdk_apprunner::config::Builder::from(&config)
            .region(region_name)
            .retry_config(RetryConfig::disabled())
            .build();
        let account = match role.and_then(|r| account::account_of_arn(&r.arn)) {
            Some(account) => CallerAccount::Role(account.to_string()),
            None => CallerAccount::Own(Arc::clone(&self.own_account)),
        };
        let clients = RegionClients {
            region: region.to_string(),
            ecs: aws_sdk_ecs::Client::from_conf(ecs),
            apprunner: aws_sdk_apprunner::Client::from_conf(apprunner),
            metrics: self.metrics.clone(),
            budget: Arc::clone(&self.budget),
            account,
            retry: RetryPolicy::standard(self.settings.operation_timeout),
        };
        self.cache.lock().await.insert(key, clients.clone());
        clients
    }

    /// The account of the controller's own identity, or `None` while it is not known. The first
    /// caller starts one STS GetCallerIdentity in the background; callers wait for it at most
    /// [`own_account::GRACE`] after it started, never on a lock held across the call. A failure is
    /// kept for [`own_account::RETRY`]: a private cluster without an STS endpoint (EKS Pod
    /// Identity needs none) must not slow every reconcile down with calls that time out.
    pub async fn own_account(&self) -> Option<String> {
        match self.own_account.begin(std::time::Instant::now()) {
            Next::Answer(account) => return account,
            Next::Ask => {
                let config = self.config(None).await;
                self.own_account.spawn_lookup(config, self.metrics.clone());
            }
            Next::WaitUntil(_) => {}
        }
        self.own_account.wait().await
    }

    /// The SDK configuration of an identity: the controller's own, loaded once from the default
    /// chain; or an assumed role's, whose credentials come from aws-config's AssumeRoleProvider
    /// signed with the controller's own.
    async fn config(&self, role: Option<&AssumedRole>) -> SdkConfig {
        // NB: the lock is held while a configuration is built (nothing is sent then), so that two
        // first uses of a role share one provider (and one cache partition) instead of assuming
        // the role twice.
        let mut configs = self.configs.lock().await;
        let key = role.cloned();
        if let Some(c) = configs.get(&key) {
            return c.clone();
        }
        let own = match configs.get(&None) {
            Some(c) => c.clone(),
            None => {
                let c = self.load_own().await;
                configs.insert(None, c.clone());
                c
            }
        };
        let Some(role) = role else { return own };
        let config = self.assumed(role, own).await;
        configs.insert(key, config.clone());
        config
    }

    /// The configuration of `role` assumed for its namespace, signed with `own`. The session is
    /// named after the cluster and the namespace (with session tags when configured), so that the
    /// role's trust policy can refuse every other namespace.
    async fn assumed(&self, role: &AssumedRole, own: SdkConfig) -> SdkConfig {
        let session = account::session_name(&self.sessions.cluster_name, &role.namespace);
        tracing::info!(role = %role.arn, namespace = %role.namespace, %session,
            "assuming the namespace's role");
        let mut provider = aws_config::sts::AssumeRoleProvider::builder(role.arn.clone())
            .session_name(session)
            .configure(&own);
        if let Some(id) = &role.external_id {
            provider = provider.external_id(id.clone());
        }
        if self.sessions.tags {
            provider = provider.tags(account::session_tags(
                &self.sessions.cluster_name,
                &role.namespace,
            ));
        }
        let provider = provider.build().await;
        own.into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build()
    }

    async fn load_own(&self) -> SdkConfig {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(5).min(self.settings.attempt_timeout))
            .operation_attempt_timeout(self.settings.attempt_timeout)
            .operation_timeout(self.settings.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.settings.default_region.clone()))
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
        loader.load().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: &str) -> AwsSettings {
        AwsSettings {
            default_region: "us-east-1".into(),
            endpoint_url: Some(endpoint.into()),
            placeholder_credentials: true,
            attempt_timeout: std::time::Duration::from_secs(2),
            operation_timeout: std::time::Duration::from_secs(5),
            budget: budget::BudgetSettings::default(),
        }
    }

    #[tokio::test]
    async fn the_own_account_comes_from_sts_once_and_an_unreachable_sts_is_not_asked_on_every_call() {
        let sim = runway_sim::Simulator::start(runway_sim::SimConfig::default())
            .await
            .expect("simulator");
        let aws = AwsClients::new(settings(&sim.endpoint()), Metrics::new());
        assert_eq!(aws.own_account().await.as_deref(), Some("123456789012"));
        assert_eq!(aws.own_account().await.as_deref(), Some("123456789012"));
        assert_eq!(sim.stats().calls("sts:GetCallerIdentity"), 1);

        // Nothing listens on port 1: the failure (or the lookup still retrying) is kept instead of
        // asked again per reconcile.
        let unreachable = AwsClients::new(settings("http://127.0.0.1:1"), Metrics::new());
        assert_eq!(unreachable.own_account().await, None);
        let again = std::time::Instant::now();
        assert_eq!(unreachable.own_account().await, None);
        assert!(again.elapsed() < std::time::Duration::from_millis(100));
    }

    /// A TCP listener on loopback that accepts connections and never answers; counts them.
    async fn blackhole() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(socket);
            }
        });
        (format!("http://{addr}"), accepted)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_blackholed_sts_is_asked_once_and_does_not_hold_concurrent_callers() {
        let (endpoint, accepted) = blackhole().await;
        let aws = AwsClients::new(
            AwsSettings {
                attempt_timeout: std::time::Duration::from_secs(10),
                operation_timeout: std::time::Duration::from_secs(30),
                ..settings(&endpoint)
            },
            Metrics::new(),
        );
        let start = std::time::Instant::now();
        let calls = (0..50).map(|_| {
            let aws = Arc::clone(&aws);
            tokio::spawn(async move { aws.own_account().await })
        });
        for answer in futures::future::join_all(calls).await {
            assert_eq!(answer.expect("task"), None);
        }
        // The STS attempt timeout is 10 s; 50 callers waited for one grace period at most.
        let waited = start.elapsed();
        assert!(
            waited < own_account::GRACE + std::time::Duration::from_millis(500),
            "{waited:?}"
        );
        // Later callers do not wait at all while the one lookup still hangs.
        let again = std::time::Instant::now();
        assert_eq!(aws.own_account().await, None);
        assert!(again.elapsed() < std::time::Duration::from_millis(50));
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_own_identity_and_a_role_in_the_same_account_share_one_budget_bucket() {
        let sim = runway_sim::Simulator::start(runway_sim::SimConfig::default())
            .await
            .expect("simulator");
        let aws = AwsClients::new(settings(&sim.endpoint()), Metrics::new());
        let own = aws.for_region("us-east-1").await;
        // Unknown yet: the own identity's bucket is the Region's alone.
        assert_eq!(own.budget_scope().account, "");
        assert_eq!(aws.own_account().await.as_deref(), Some("123456789012"));
        let same = AssumedRole {
            arn: "arn:aws:iam::123456789012:role/runway-same-account".into(),
            external_id: None,
            namespace: "team-a".into(),
        };
        let assumed = aws.clients(Some(&same), "us-east-1").await;
        assert_eq!(own.budget_scope(), assumed.budget_scope());
        assert_eq!(own.budget_scope().account, "123456789012");
        let other = AssumedRole {
            arn: "arn:aws:iam::210987654321:role/runway-team-b".into(),
            ..same
        };
        let elsewhere = aws.clients(Some(&other), "us-east-1").await;
        assert_eq!(elsewhere.budget_scope().account, "210987654321");
    }

    #[tokio::test]
    async fn every_attempt_takes_a_token_and_throttling_lowers_the_rate() {
        let sim = runway_sim::Simulator::start(runway_sim::SimConfig::default())
            .await
            .expect("simulator");
        sim.set_faults(runway_sim::faults::FaultConfig {
            throttle_rate: 1.0,
            ..Default::default()
        })
        .expect("faults");
        let metrics = Metrics::new();
        let mut config = AwsSettings {
            operation_timeout: std::time::Duration::from_secs(30),
            ..settings(&sim.endpoint())
        };
        // One token a second, no burst beyond it: three attempts need two more seconds of refill
        // unless the backoff already waited them out.
        config.budget.overrides.insert(
            "ecs:service-read".into(),
            budget::Limit {
                per_second: 1.0,
                burst: 1,
            },
        );
        let aws = AwsClients::new(config, metrics.clone());
        let c = aws.for_region("us-east-1").await;
        let err = c
            .call("ecs", "ListServices", "default", || {
                c.ecs.list_services().cluster("default").send()
            })
            .await
            .expect_err("throttled every time");
        assert!(
            matches!(&err, crate::Error::Aws(f) if f.kind == crate::error::AwsErrorKind::Throttling),
            "{err}"
        );
        assert_eq!(
            sim.stats().calls("ecs:ListServices"),
            3,
            "{:?}",
            sim.stats().calls
        );
        let text = metrics.render();
        assert!(
            text.contains(
                r#"runway_aws_budget_wait_seconds_count{family="ecs:service-read",priority="change"} 3"#
            ),
            "{text}"
        );
        // Halved once per cooldown: at most 0.5 per second, never below the floor of 0.1.
        let rate = text
            .lines()
            .find(|l| l.starts_with("runway_aws_budget_rate{") && l.contains("ecs:service-read"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .expect("rate exported");
        assert!((0.1..=0.5).contains(&rate), "{rate}");
    }
}
