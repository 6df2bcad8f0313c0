//! The state every request handler shares: the simulated clock, the call counters, the fault
//! settings, and the two services' state machines behind their own locks.

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::SimConfig;
use super::apprunner::{AppRunnerFault, AppRunnerState};
use super::clock::SimClock;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectKind {
    /// ECS: the next rollout fails and rolls back. App Runner: the next UpdateService or
    /// StartDeployment fails and rolls back.
    Rollback,
    /// App Runner only: the next CreateService of that name ends in CREATE_FAILED.
    CreateFailed,
    /// App Runner only: just before the next UpdateService of that service, someone else starts a
    /// deployment, so the update meets the operation in progress (InvalidStateException).
    ConcurrentOperation,
}

/// A fault aimed at one service's next operation, as `POST /_sim/inject` accepts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injection {
    /// `ecs` or `apprunner`.
    pub service: InjectService,
    /// The service name or ARN. The service need not exist yet.
    #[serde(alias = "arn")]
    pub name: String,
    /// `rollback` or `create_failed`.
    pub kind: InjectKind,
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
    /// The simulated account ID.
    pub account: String,
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
            account: config.account_id.clone(),
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
        }
        Ok(())
    }

    /// Clears the counters; with `everything`, also every service, injection and fault setting.
    pub fn reset(&self, everything: bool) {
        self.stats.reset();
        if everything {
            self.ecs().clear();
            self.apprunner().clear();
            self.faults.set(self.initial_faults.clone());
        }
    }
}
