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
pub mod config;
pub mod control;
pub mod ecs;
pub mod error;
pub mod faults;
pub mod iam;
pub mod ids;
pub mod newer;
pub mod normalize;
pub mod server;
pub mod state;
pub mod stats;
pub mod sts;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

pub use accounts::RoleConfig;
pub use config::{SimArgs, SimConfig};
pub use ecs::NewerModel;
pub use error::{Error, Result};
pub use faults::FaultConfig;
pub use normalize::Rewrite;
pub use state::{InjectKind, InjectService, Injection};
pub use stats::StatsSnapshot;

use state::SimState;

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

    /// Makes ECS lose (`usable: false`) or regain the use of an infrastructure role, as when its
    /// policy is deleted and restored: a deleted Express service it manages stays DRAINING while it
    /// is unusable, and drains from then on once it is usable again.
    pub fn set_infrastructure_role_usable(&self, role: &str, usable: bool) {
        let now = self.state.clock.now();
        self.state.ecs().set_infrastructure_role_usable(role, usable, now);
    }

    /// Makes ECS answer with members and enum values newer than the SDKs' models.
    pub fn set_ecs_newer_model(&self, model: NewerModel) {
        self.state.ecs().set_newer_model(model);
    }

    /// Makes App Runner answer with members and enum values newer than the SDKs' models.
    pub fn set_apprunner_newer_model(&self, model: apprunner::NewerModel) {
        self.state.apprunner().set_newer_model(model);
    }

    /// Makes DescribeExpressGatewayService answer "Resource not found." for `seconds` of simulated
    /// time after each create, as an eventually consistent read would (0: off, the default).
    pub fn set_ecs_read_after_create_lag(&self, seconds: f64) {
        self.state.ecs().set_read_after_create_lag(seconds);
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

    /// The sessions AssumeRole issued since the last reset, oldest first: role, session name,
    /// source identity and tags.
    pub fn sessions(&self) -> Vec<accounts::IssuedSession> {
        self.state.accounts.issued_sessions()
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

    /// Clears the call counters and the log of issued sessions.
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
