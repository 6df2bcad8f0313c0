//! runway-sim: the AWS simulator behind `runway simulate-aws` and `runway run --simulate-aws`, and
//! behind runway's tests and benchmarks: an HTTP server that speaks the AWS JSON protocols of Amazon
//! ECS (awsJson1_1, Express Mode plus UpdateService/DescribeServices and the tag calls) and AWS App
//! Runner (awsJson1_0, services plus their auto scaling configurations and VPC connectors), and the
//! awsQuery protocol of AWS STS (AssumeRole, GetCallerIdentity), with AWS's shapes, error codes and
//! state machines, in as many accounts as there are roles. It never depends on the `runway` crate.
//!
//! Data flow of one call: `server` reads `X-Amz-Target` (or, for STS, the form body) and the SigV4
//! access key and region (`wire`), and resolves the caller's account from the access key
//! (`accounts`: the default account, or the account of the role an STS session was issued for;
//! expired sessions are refused here). It counts the call (`stats`), asks `faults` whether to delay,
//! throttle or fail it, refuses a resource ARN of another account, and otherwise hands the JSON
//! body to `ecs` or `apprunner`, which run it in the caller's account, or the form to `sts`. The
//! services derive every state from timestamps on the simulated `clock` (real time plus whatever
//! `/_sim/advance` added), so nothing runs in the background; only STS credentials expire on the
//! wall clock, which the SDKs compare them with. `control` serves the `/_sim/*` knobs;
//! [`SimHandle`] offers the same knobs in process. Starting or serving fails with [`Error`].
//!
//! Cargo feature `client` (off by default; for tests and benchmarks): the `client` module, which
//! builds AWS SDK clients (ECS, App Runner, STS credentials) pointed at a simulator.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod accounts;
pub mod apprunner;
#[cfg(feature = "client")]
pub mod client;
pub mod clock;
pub mod control;
pub mod ecs;
pub mod error;
pub mod faults;
pub mod iam;
pub mod ids;
pub mod server;
pub mod state;
pub mod stats;
pub mod sts;
pub mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

pub use accounts::RoleConfig;
pub use error::{Error, Result};
pub use faults::FaultConfig;
pub use state::{InjectKind, InjectService, Injection};
pub use stats::StatsSnapshot;

use apprunner::AppRunnerTimings;
use ecs::rollout::EcsTimings;
use state::SimState;

/// Flags of `runway simulate-aws`.
#[derive(Clone, Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "RUNWAY_SIM_LISTEN", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// The default account: the 12-digit account ID of every caller that does not sign with STS
    /// session credentials.
    #[arg(long, env = "RUNWAY_SIM_ACCOUNT_ID", default_value = "123456789012")]
    pub account_id: String,
    /// A role STS lets callers assume, as
    /// `ARN[,trust=PRINCIPAL|PRINCIPAL…][,external-id=ID][,max-session-seconds=N]`. PRINCIPAL is a
    /// 12-digit account ID or a principal ARN (default: the default account). Repeatable.
    #[arg(long = "role", value_name = "ROLE", value_parser = RoleConfig::parse_flag)]
    pub roles: Vec<RoleConfig>,
    /// Caps the lifetime of the credentials STS issues, in wall-clock seconds (default: as
    /// requested, one hour unless `DurationSeconds` says otherwise).
    #[arg(long, value_name = "N")]
    pub sts_credential_seconds: Option<u64>,
    /// Seconds an ECS rollout takes from IN_PROGRESS to SUCCESSFUL (or to ROLLBACK_SUCCESSFUL).
    #[arg(long, default_value_t = 5.0)]
    pub ecs_rollout_seconds: f64,
    /// Seconds a deleted ECS service stays DRAINING.
    #[arg(long, default_value_t = 5.0)]
    pub ecs_drain_seconds: f64,
    /// Seconds a drained ECS service stays INACTIVE before it is gone.
    #[arg(long, default_value_t = 5.0)]
    pub ecs_inactive_seconds: f64,
    /// Seconds a new ECS service deployment stays PENDING before IN_PROGRESS (part of the rollout).
    #[arg(long, default_value_t = 5.0)]
    pub ecs_pending_seconds: f64,
    /// Seconds after a create during which DescribeExpressGatewayService reports no
    /// `currentDeployment` (0 turns the eventual consistency off).
    #[arg(long, default_value_t = 10.0)]
    pub ecs_current_deployment_delay_seconds: f64,
    /// Seconds after an update or forced redeploy during which `currentDeployment` still names the
    /// previous deployment (0 turns the lag off).
    #[arg(long, default_value_t = 5.0)]
    pub ecs_deployment_lag_seconds: f64,
    /// Seconds every App Runner operation takes.
    #[arg(long, default_value_t = 5.0)]
    pub apprunner_operation_seconds: f64,
    /// Seconds a deleted App Runner service stays describable as DELETED before it is gone (and a
    /// deleted auto scaling configuration or VPC connector as INACTIVE).
    #[arg(long, default_value_t = 5.0)]
    pub apprunner_deleted_seconds: f64,
    /// Fraction (0 to 1) of AWS calls answered with ThrottlingException.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Fraction (0 to 1) of AWS calls answered with a 500 (ServerException or
    /// InternalServiceErrorException).
    #[arg(long, default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Milliseconds added to every AWS call.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// A requests-per-second limit for each caller account, as KEY=N where KEY is an action family
    /// (`ecs:describe`, `ecs:mutate`, `apprunner:describe`, `apprunner:mutate`) or `service:Action`.
    /// Repeatable.
    #[arg(long = "rate-limit", value_name = "KEY=N", value_parser = parse_rate_limit)]
    pub rate_limits: Vec<(String, f64)>,
}

fn parse_rate_limit(value: &str) -> std::result::Result<(String, f64), String> {
    let (key, limit) = value
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=N, got {value:?}"))?;
    let limit: f64 = limit
        .parse()
        .map_err(|e| format!("rate limit {limit:?} is not a number: {e}"))?;
    Ok((key.to_string(), limit))
}

/// Everything the simulator is started with.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The default account: every caller's account unless it signs with STS session credentials.
    pub account_id: String,
    /// The roles STS lets callers assume (an empty trust list means the default account).
    pub roles: Vec<RoleConfig>,
    /// Caps the lifetime of issued STS credentials, wall-clock seconds (`None`: as requested).
    pub sts_credential_seconds: Option<u64>,
    /// ECS rollout duration, seconds.
    pub ecs_rollout_seconds: f64,
    /// ECS DRAINING duration, seconds.
    pub ecs_drain_seconds: f64,
    /// ECS INACTIVE duration, seconds.
    pub ecs_inactive_seconds: f64,
    /// How long a new ECS deployment is PENDING, seconds.
    pub ecs_pending_seconds: f64,
    /// How long after a create `currentDeployment` is absent, seconds.
    pub ecs_current_deployment_delay_seconds: f64,
    /// How long after an update `currentDeployment` names the previous deployment, seconds.
    pub ecs_deployment_lag_seconds: f64,
    /// App Runner operation duration, seconds.
    pub apprunner_operation_seconds: f64,
    /// App Runner DELETED (and INACTIVE) retention, seconds.
    pub apprunner_deleted_seconds: f64,
    /// Initial fault settings.
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    /// Loopback on a free port, five-second stages, AWS's eventual consistency on, no faults, no
    /// roles.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: "123456789012".to_string(),
            roles: Vec::new(),
            sts_credential_seconds: None,
            ecs_rollout_seconds: 5.0,
            ecs_drain_seconds: 5.0,
            ecs_inactive_seconds: 5.0,
            ecs_pending_seconds: 5.0,
            ecs_current_deployment_delay_seconds: 10.0,
            ecs_deployment_lag_seconds: 5.0,
            apprunner_operation_seconds: 5.0,
            apprunner_deleted_seconds: 5.0,
            faults: FaultConfig::default(),
        }
    }
}

impl SimConfig {
    pub(crate) fn ecs_timings(&self) -> EcsTimings {
        EcsTimings {
            rollout_seconds: self.ecs_rollout_seconds,
            drain_seconds: self.ecs_drain_seconds,
            inactive_seconds: self.ecs_inactive_seconds,
            pending_seconds: self.ecs_pending_seconds,
            current_deployment_delay_seconds: self.ecs_current_deployment_delay_seconds,
            deployment_lag_seconds: self.ecs_deployment_lag_seconds,
        }
    }

    pub(crate) fn apprunner_timings(&self) -> AppRunnerTimings {
        AppRunnerTimings {
            operation_seconds: self.apprunner_operation_seconds,
            deleted_retention_seconds: self.apprunner_deleted_seconds,
        }
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let valid_account =
            self.account_id.len() == 12 && self.account_id.chars().all(|c| c.is_ascii_digit());
        if !valid_account {
            return Err(format!("account ID must be 12 digits, got {:?}", self.account_id));
        }
        for role in &self.roles {
            role.validate()?;
        }
        accounts::validate_credential_seconds(self.sts_credential_seconds)?;
        for (name, seconds) in [
            ("ecs-rollout-seconds", self.ecs_rollout_seconds),
            ("ecs-drain-seconds", self.ecs_drain_seconds),
            ("ecs-inactive-seconds", self.ecs_inactive_seconds),
            ("ecs-pending-seconds", self.ecs_pending_seconds),
            (
                "ecs-current-deployment-delay-seconds",
                self.ecs_current_deployment_delay_seconds,
            ),
            ("ecs-deployment-lag-seconds", self.ecs_deployment_lag_seconds),
            ("apprunner-operation-seconds", self.apprunner_operation_seconds),
            ("apprunner-deleted-seconds", self.apprunner_deleted_seconds),
        ] {
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(format!("{name} must be a non-negative number, got {seconds}"));
            }
        }
        self.faults.validate()
    }
}

impl From<SimArgs> for SimConfig {
    fn from(args: SimArgs) -> Self {
        let SimArgs {
            listen,
            account_id,
            roles,
            sts_credential_seconds,
            ecs_rollout_seconds,
            ecs_drain_seconds,
            ecs_inactive_seconds,
            ecs_pending_seconds,
            ecs_current_deployment_delay_seconds,
            ecs_deployment_lag_seconds,
            apprunner_operation_seconds,
            apprunner_deleted_seconds,
            throttle_rate,
            server_error_rate,
            latency_ms,
            rate_limits,
        } = args;
        Self {
            listen,
            account_id,
            roles,
            sts_credential_seconds,
            ecs_rollout_seconds,
            ecs_drain_seconds,
            ecs_inactive_seconds,
            ecs_pending_seconds,
            ecs_current_deployment_delay_seconds,
            ecs_deployment_lag_seconds,
            apprunner_operation_seconds,
            apprunner_deleted_seconds,
            faults: FaultConfig {
                throttle_rate,
                server_error_rate,
                latency_ms,
                rate_limit_per_second: rate_limits.into_iter().collect::<BTreeMap<_, _>>(),
            },
        }
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `config.listen` and serves the simulator on the current Tokio runtime until the
    /// returned handle is dropped or shut down.
    pub async fn start(config: SimConfig) -> Result<SimHandle> {
        config.validate().map_err(Error::Config)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Io {
                context: format!("binding the AWS simulator to {}", config.listen),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            context: "reading the simulator's listen address".to_string(),
            source,
        })?;
        let state = Arc::new(SimState::new(&config));
        let app = server::router(Arc::clone(&state));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                // NB: a dropped sender also means shut down.
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "AWS simulator stopped");
            }
        });
        Ok(SimHandle {
            addr,
            state,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: Arc<SimState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL to give SDK clients, such as `http://127.0.0.1:45678`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Moves simulated time forward.
    pub fn advance(&self, seconds: f64) {
        self.state.clock.advance(seconds);
    }

    /// The current simulated time, in epoch seconds.
    pub fn now(&self) -> f64 {
        self.state.clock.now()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: FaultConfig) -> std::result::Result<(), String> {
        faults.validate()?;
        self.state.faults.set(faults);
        Ok(())
    }

    /// The current fault settings.
    pub fn faults(&self) -> FaultConfig {
        self.state.faults.get()
    }

    /// Arms a fault for one service's next operation.
    pub fn inject(&self, injection: &Injection) -> std::result::Result<(), String> {
        self.state.inject(injection)
    }

    /// Makes AWS refuse `role` (in ECS and App Runner) until `seconds` of simulated time after the
    /// first call that uses it, as while IAM propagates a new role. For one service only, inject
    /// [`InjectKind::IamPropagation`] with the role ARN as the injection's `name`.
    pub fn inject_iam_propagation(&self, role: &str, seconds: f64) {
        self.state.ecs().iam.inject(role, seconds);
        self.state.apprunner().iam.inject(role, seconds);
    }

    /// Pushes `image` to its registry: App Runner starts a deployment by itself on every running
    /// service of that image with automatic deployments on. Returns their ARNs.
    pub fn push_image(&self, image: &str) -> Vec<String> {
        let now = self.state.clock.now();
        self.state.apprunner().push_image(image, now)
    }

    /// Sets App Runner's services-per-Region quota (default 30).
    pub fn set_apprunner_service_quota(&self, quota: usize) {
        self.state.apprunner().service_quota = quota;
    }

    /// Adds a role STS lets callers assume, or replaces the role with the same ARN. An empty trust
    /// list means the default account. Returns the role as stored.
    pub fn add_role(&self, role: RoleConfig) -> std::result::Result<RoleConfig, String> {
        self.state.accounts.add_role(role)
    }

    /// Every role, by ARN.
    pub fn roles(&self) -> Vec<RoleConfig> {
        self.state.accounts.roles()
    }

    /// Caps the lifetime of the STS credentials issued from now on, in wall-clock seconds (`None`:
    /// as requested). Credentials already issued keep their expiration.
    pub fn set_sts_credential_seconds(&self, seconds: Option<u64>) -> std::result::Result<(), String> {
        self.state.accounts.set_credential_seconds(seconds)
    }

    /// The STS credential lifetime cap.
    pub fn sts_credential_seconds(&self) -> Option<u64> {
        self.state.accounts.credential_seconds()
    }

    /// The default account: every caller's account unless it signs with STS session credentials.
    pub fn account_id(&self) -> &str {
        self.state.accounts.default_account()
    }

    /// A copy of the call counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.state.stats.snapshot()
    }

    /// Clears the call counters.
    pub fn reset_stats(&self) {
        self.state.reset(false);
    }

    /// Clears the counters, every service and injection, and restores the initial faults, roles
    /// and STS credential cap. Issued STS sessions stay valid until they expire.
    pub fn reset_all(&self) {
        self.state.reset(true);
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The `runway simulate-aws` entry point: serves until SIGINT or SIGTERM.
pub async fn run(args: SimArgs) -> Result<()> {
    let handle = Simulator::start(SimConfig::from(args)).await?;
    // NB: scripts that pass port 0 read the chosen address from this first line of stdout.
    println!("runway simulate-aws listening on {}", handle.endpoint());
    tracing::info!(endpoint = %handle.endpoint(), "AWS simulator started");
    wait_for_signal().await?;
    handle.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> Result<()> {
    let io = |source| Error::Io {
        context: "waiting for a shutdown signal".to_string(),
        source,
    };
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(io)?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map_err(io)?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimArgs,
    }

    #[test]
    fn flags_become_a_config() {
        let cli = Cli::parse_from([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--ecs-rollout-seconds",
            "2",
            "--throttle-rate",
            "0.5",
            "--rate-limit",
            "ecs:describe=3",
            "--rate-limit",
            "apprunner:mutate=1.5",
            "--role",
            "arn:aws:iam::210987654321:role/team-a,trust=123456789012,external-id=xyz",
            "--role",
            "arn:aws:iam::345678901234:role/team-b",
            "--sts-credential-seconds",
            "5",
        ]);
        let config = SimConfig::from(cli.args);
        assert_eq!(config.roles.len(), 2);
        assert_eq!(config.roles[0].external_id.as_deref(), Some("xyz"));
        assert_eq!(config.roles[1].account(), "345678901234");
        assert_eq!(config.sts_credential_seconds, Some(5));
        assert_eq!(config.ecs_rollout_seconds, 2.0);
        assert_eq!(config.faults.throttle_rate, 0.5);
        assert_eq!(config.faults.rate_limit_per_second["ecs:describe"], 3.0);
        assert_eq!(config.faults.rate_limit_per_second["apprunner:mutate"], 1.5);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn bad_configs_are_rejected() {
        let config = SimConfig {
            account_id: "12".into(),
            ..SimConfig::default()
        };
        assert!(config.validate().is_err());
        assert!(parse_rate_limit("ecs:describe").is_err());
        let no_lifetime = SimConfig {
            sts_credential_seconds: Some(0),
            ..SimConfig::default()
        };
        assert!(no_lifetime.validate().is_err());
        let bad_role = SimConfig {
            roles: vec![RoleConfig::new("arn:aws:iam::1:role/x")],
            ..SimConfig::default()
        };
        assert!(bad_role.validate().is_err());
        assert!(Cli::try_parse_from(["sim", "--role", "arn:aws:iam::210987654321:user/x"]).is_err());
    }
}
