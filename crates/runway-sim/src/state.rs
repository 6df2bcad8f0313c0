//! The state every request handler shares: the simulated clock, the call counters, the fault
//! settings, the accounts (roles and STS sessions), and the two services' state machines behind
//! their own locks.

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::accounts::Accounts;
use super::apprunner::{AppRunnerFault, AppRunnerState};
use super::clock::SimClock;
use super::config::SimConfig;
use super::ecs::EcsState;
use super::faults::{FaultConfig, Faults};
use super::stats::Stats;

/// Which service an injection targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InjectService {
    /// Amazon ECS.
    Ecs,
    /// AWS App Runner.
    Apprunner,
}

/// What to inject.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectKind {
    /// ECS: the next rollout fails and rolls back. App Runner: the next UpdateService or
    /// StartDeployment fails and rolls back.
    Rollback,
    /// App Runner only: the next CreateService of that name ends in CREATE_FAILED.
    CreateFailed,
    /// ECS only: the load balancer of the service's next revision is FAILED, with a reason, in
    /// DescribeServiceRevisions' `ecsManagedResources` (the deployment is not affected).
    LoadBalancerFailed,
    /// App Runner only: just before the next UpdateService of that service, someone else starts a
    /// deployment, so the update meets the operation in progress (InvalidStateException).
    ConcurrentOperation,
    /// App Runner only: the next operation of that service never ends. It stays IN_PROGRESS and the
    /// service OPERATION_IN_PROGRESS, so every other mutating call is refused meanwhile
    /// (docs/aws-behaviour.md A24).
    Hang,
    /// App Runner only: the next UpdateService of that service answers without an `OperationId`,
    /// as reported in aws/apprunner-roadmap#139 (docs/aws-behaviour.md A20).
    NoOperationId,
    /// IAM has not propagated the role the injection names (its `name` is the role ARN): the
    /// service refuses Create/Update calls that use the role until `seconds` of simulated time after
    /// the first call that used it (docs/aws-behaviour.md E12, A17).
    IamPropagation {
        /// How long the role stays unusable after its first use.
        seconds: f64,
    },
}

/// A fault aimed at one service's next operation, as `POST /_sim/inject` accepts it:
/// `{"service": "ecs", "name": "web", "kind": "rollback"}`, or for IAM propagation
/// `{"service": "ecs", "role": "arn:aws:iam::…:role/x", "kind": "iam_propagation", "seconds": 30}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "InjectionWire", into = "InjectionWire")]
pub struct Injection {
    /// `ecs` or `apprunner`.
    pub service: InjectService,
    /// The service name or ARN (the service need not exist yet); for
    /// [`InjectKind::IamPropagation`], the role ARN.
    pub name: String,
    /// What to inject.
    pub kind: InjectKind,
}

/// The JSON form of [`Injection`]: `kind` is a plain string and `seconds` sits next to it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectionWire {
    service: InjectService,
    #[serde(alias = "arn", alias = "role")]
    name: String,
    kind: KindName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Rollback,
    CreateFailed,
    LoadBalancerFailed,
    ConcurrentOperation,
    Hang,
    NoOperationId,
    IamPropagation,
}

impl TryFrom<InjectionWire> for Injection {
    type Error = String;

    fn try_from(wire: InjectionWire) -> Result<Self, String> {
        let kind = match (wire.kind, wire.seconds) {
            (KindName::IamPropagation, Some(seconds)) if seconds.is_finite() && seconds >= 0.0 => {
                InjectKind::IamPropagation { seconds }
            }
            (KindName::IamPropagation, _) => {
                return Err("iam_propagation needs seconds, a non-negative number".to_string());
            }
            (_, Some(_)) => return Err("only iam_propagation takes seconds".to_string()),
            (KindName::Rollback, None) => InjectKind::Rollback,
            (KindName::CreateFailed, None) => InjectKind::CreateFailed,
            (KindName::LoadBalancerFailed, None) => InjectKind::LoadBalancerFailed,
            (KindName::ConcurrentOperation, None) => InjectKind::ConcurrentOperation,
            (KindName::Hang, None) => InjectKind::Hang,
            (KindName::NoOperationId, None) => InjectKind::NoOperationId,
        };
        Ok(Self {
            service: wire.service,
            name: wire.name,
            kind,
        })
    }
}

impl From<Injection> for InjectionWire {
    fn from(injection: Injection) -> Self {
        let (kind, seconds) = match injection.kind {
            InjectKind::Rollback => (KindName::Rollback, None),
            InjectKind::CreateFailed => (KindName::CreateFailed, None),
            InjectKind::LoadBalancerFailed => (KindName::LoadBalancerFailed, None),
            InjectKind::ConcurrentOperation => (KindName::ConcurrentOperation, None),
            InjectKind::Hang => (KindName::Hang, None),
            InjectKind::NoOperationId => (KindName::NoOperationId, None),
            InjectKind::IamPropagation { seconds } => (KindName::IamPropagation, Some(seconds)),
        };
        Self {
            service: injection.service,
            name: injection.name,
            kind,
            seconds,
        }
    }
}

/// Everything the simulator knows.
#[derive(Debug)]
pub struct SimState {
    /// Simulated time.
    pub clock: SimClock,
    /// Call counters.
    pub stats: Stats,
    /// Fault settings and rate-limit buckets.
    pub faults: Faults,
    /// The fault settings from the flags, restored by a full reset.
    pub initial_faults: FaultConfig,
    /// Roles, issued sessions and the default account.
    pub accounts: Accounts,
    ecs: Mutex<EcsState>,
    apprunner: Mutex<AppRunnerState>,
}

impl SimState {
    /// A fresh simulator state.
    pub fn new(config: &SimConfig) -> Self {
        Self {
            clock: SimClock::new(),
            stats: Stats::default(),
            faults: Faults::new(config.faults.clone()),
            initial_faults: config.faults.clone(),
            accounts: Accounts::new(&config.account_id, &config.roles, config.sts_credential_seconds),
            ecs: Mutex::new(EcsState::new(config.ecs_timings())),
            apprunner: Mutex::new(AppRunnerState::new(config.apprunner_timings())),
        }
    }

    /// The ECS state. NB: handlers never panic while holding it, and a poisoned lock still holds
    /// consistent data, so poisoning is ignored.
    pub fn ecs(&self) -> MutexGuard<'_, EcsState> {
        self.ecs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The App Runner state.
    pub fn apprunner(&self) -> MutexGuard<'_, AppRunnerState> {
        self.apprunner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms an injection.
    pub fn inject(&self, injection: &Injection) -> Result<(), String> {
        if injection.name.is_empty() {
            return Err("name must not be empty".to_string());
        }
        match (injection.service, injection.kind) {
            (InjectService::Ecs, InjectKind::Rollback) => {
                self.ecs().inject_rollout_failure(&injection.name);
            }
            (InjectService::Ecs, InjectKind::CreateFailed) => {
                return Err(
                    "ECS has no create_failed fault; inject rollback (the first rollout of a new \
                     service then ends ROLLBACK_FAILED)"
                        .to_string(),
                );
            }
            (InjectService::Ecs, InjectKind::LoadBalancerFailed) => {
                self.ecs().inject_load_balancer_failure(&injection.name);
            }
            (InjectService::Apprunner, InjectKind::LoadBalancerFailed) => {
                return Err("App Runner has no load_balancer_failed fault".to_string());
            }
            (InjectService::Apprunner, InjectKind::Rollback) => {
                self.apprunner().inject(&injection.name, AppRunnerFault::Rollback);
            }
            (InjectService::Ecs, InjectKind::ConcurrentOperation) => {
                return Err(
                    "ECS has no concurrent_operation fault: Express updates during a rollout are \
                     accepted and supersede it"
                        .to_string(),
                );
            }
            (InjectService::Apprunner, InjectKind::ConcurrentOperation) => {
                self.apprunner()
                    .inject(&injection.name, AppRunnerFault::ConcurrentOperation);
            }
            (InjectService::Apprunner, InjectKind::CreateFailed) => {
                self.apprunner()
                    .inject(&injection.name, AppRunnerFault::CreateFailed);
            }
            (InjectService::Ecs, InjectKind::Hang) => {
                return Err("ECS has no hang fault: it is an App Runner operation fault".to_string());
            }
            (InjectService::Apprunner, InjectKind::Hang) => {
                self.apprunner().inject(&injection.name, AppRunnerFault::Hang);
            }
            (InjectService::Ecs, InjectKind::NoOperationId) => {
                return Err("ECS has no no_operation_id fault: ECS has no operations".to_string());
            }
            (InjectService::Apprunner, InjectKind::NoOperationId) => {
                self.apprunner()
                    .inject(&injection.name, AppRunnerFault::NoOperationId);
            }
            (_, InjectKind::IamPropagation { seconds }) if !seconds.is_finite() || seconds < 0.0 => {
                return Err(format!("seconds must be a non-negative number, got {seconds}"));
            }
            (InjectService::Ecs, InjectKind::IamPropagation { seconds }) => {
                self.ecs().iam.inject(&injection.name, seconds);
            }
            (InjectService::Apprunner, InjectKind::IamPropagation { seconds }) => {
                self.apprunner().iam.inject(&injection.name, seconds);
            }
        }
        Ok(())
    }

    /// Clears the counters and the log of issued STS sessions; with `everything`, also every
    /// service and injection, and restores the fault settings, the roles and the STS credential cap
    /// from the flags. Issued STS sessions stay valid until they expire.
    pub fn reset(&self, everything: bool) {
        self.stats.reset();
        self.accounts.clear_sessions();
        if everything {
            self.ecs().clear();
            self.apprunner().clear();
            self.faults.set(self.initial_faults.clone());
            self.accounts.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections_read_and_write_flat_json() {
        let iam: Injection = serde_json::from_str(
            r#"{"service": "ecs", "role": "arn:aws:iam::123456789012:role/x", "kind": "iam_propagation", "seconds": 30}"#,
        )
        .unwrap();
        assert_eq!(iam.kind, InjectKind::IamPropagation { seconds: 30.0 });
        assert_eq!(iam.name, "arn:aws:iam::123456789012:role/x");
        assert_eq!(
            serde_json::to_value(&iam).unwrap(),
            serde_json::json!({
                "service": "ecs",
                "name": "arn:aws:iam::123456789012:role/x",
                "kind": "iam_propagation",
                "seconds": 30.0,
            })
        );
        let rollback: Injection =
            serde_json::from_str(r#"{"service": "apprunner", "arn": "web", "kind": "rollback"}"#).unwrap();
        assert_eq!(rollback.kind, InjectKind::Rollback);
        for bad in [
            r#"{"service": "ecs", "name": "r", "kind": "iam_propagation"}"#,
            r#"{"service": "ecs", "name": "r", "kind": "iam_propagation", "seconds": -1}"#,
            r#"{"service": "ecs", "name": "web", "kind": "rollback", "seconds": 3}"#,
            r#"{"service": "ecs", "name": "web", "kind": "rollback", "extra": 1}"#,
        ] {
            assert!(serde_json::from_str::<Injection>(bad).is_err(), "{bad}");
        }
    }
}
