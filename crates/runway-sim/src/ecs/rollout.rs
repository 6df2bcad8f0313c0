//! The rollout state machine of one Express service: its revisions, its deployments and its
//! lifecycle (ACTIVE -> DRAINING -> INACTIVE -> gone).
//!
//! Nothing here runs on a timer. A deployment stores when it started, how long it takes and whether
//! it was told to fail; [`Deployment::phase`] derives its state for any simulated time:
//!
//! ```text
//! IN_PROGRESS --(duration)--> SUCCESSFUL
//! IN_PROGRESS --(duration/2)--> ROLLBACK_IN_PROGRESS --(duration/2)--> ROLLBACK_SUCCESSFUL
//!                                                  (no earlier revision: ROLLBACK_FAILED)
//! any unfinished deployment --(a newer deployment starts)--> STOPPED
//! ```
//!
//! While a deployment is unfinished, the revisions it replaces stay in `activeConfigurations`.
//! The first `pending_seconds` of a rollout report `PENDING` (service deployments start there), and
//! what DescribeExpressGatewayService calls `currentDeployment` lags behind: absent for a while after
//! a create, still the previous deployment for a while after an update (`reported_current_deployment`;
//! see `docs/aws-behaviour.md`, E7 and E8).

use super::infra::{ManagedInfra, target_group};
use super::types::{ExpressConfig, Tag};
use crate::clock::Timestamp;
use crate::ids;

/// The reason ECS gives when the circuit breaker rolls a deployment back.
pub const ROLLBACK_REASON: &str = "ECS deployment circuit breaker: tasks failed to start. \
                                   Rolling back to the last successful service revision.";

/// One immutable service revision.
#[derive(Clone, Debug)]
pub struct Revision {
    /// `arn:aws:ecs:…:service-revision/<cluster>/<service>/<id>`.
    pub arn: String,
    /// The full configuration, defaults included.
    pub config: ExpressConfig,
    /// When the revision was made.
    pub created_at: Timestamp,
    /// The revision's own target group (the other managed resources are the service's).
    pub target_group: String,
    /// Why its load balancer is FAILED, when a failure was injected for it.
    pub load_balancer_failure: Option<String>,
}

/// One service deployment.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// `arn:aws:ecs:…:service-deployment/<cluster>/<service>/<id>`.
    pub arn: String,
    /// The short ID of the classic `Deployment` shape (`ecs-svc/…`).
    pub classic_id: String,
    /// Index of the revision being rolled out.
    pub target: usize,
    /// Indexes of the revisions that were active when the deployment started.
    pub sources: Vec<usize>,
    /// The last revision that finished rolling out, which a failure rolls back to.
    pub rollback_to: Option<usize>,
    /// When the deployment started.
    pub started_at: Timestamp,
    /// How long the rollout takes.
    pub duration: f64,
    /// Whether the rollout was told to fail.
    pub fails: bool,
    /// When and why a newer deployment or a delete stopped this one.
    pub stopped: Option<(Timestamp, String)>,
    /// How long the deployment reports `PENDING` before `IN_PROGRESS`.
    pub pending_seconds: f64,
}

/// The state of a deployment at one moment.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Rolling out.
    InProgress,
    /// Failed; rolling back since the given time.
    RollbackInProgress {
        /// When the rollback started.
        started: Timestamp,
    },
    /// Finished successfully.
    Successful {
        /// When it finished.
        finished: Timestamp,
    },
    /// Failed and rolled back.
    RollbackSuccessful {
        /// When the rollback started.
        started: Timestamp,
        /// When it finished.
        finished: Timestamp,
    },
    /// Failed with nothing to roll back to.
    RollbackFailed {
        /// When the rollback started.
        started: Timestamp,
        /// When it gave up.
        finished: Timestamp,
    },
    /// Superseded or cancelled.
    Stopped {
        /// When it stopped.
        at: Timestamp,
    },
}

impl Phase {
    /// The `ServiceDeploymentStatus` enum value.
    pub fn status(&self) -> &'static str {
        match self {
            Phase::InProgress => "IN_PROGRESS",
            Phase::RollbackInProgress { .. } => "ROLLBACK_IN_PROGRESS",
            Phase::Successful { .. } => "SUCCESSFUL",
            Phase::RollbackSuccessful { .. } => "ROLLBACK_SUCCESSFUL",
            Phase::RollbackFailed { .. } => "ROLLBACK_FAILED",
            Phase::Stopped { .. } => "STOPPED",
        }
    }

    /// Whether the deployment is over.
    pub fn is_finished(&self) -> bool {
        !matches!(self, Phase::InProgress | Phase::RollbackInProgress { .. })
    }

    /// When the deployment finished, if it has.
    pub fn finished_at(&self) -> Option<Timestamp> {
        match self {
            Phase::InProgress | Phase::RollbackInProgress { .. } => None,
            Phase::Successful { finished }
            | Phase::RollbackSuccessful { finished, .. }
            | Phase::RollbackFailed { finished, .. } => Some(*finished),
            Phase::Stopped { at } => Some(*at),
        }
    }

    /// When a rollback started, if one did.
    pub fn rollback_started(&self) -> Option<Timestamp> {
        match self {
            Phase::RollbackInProgress { started }
            | Phase::RollbackSuccessful { started, .. }
            | Phase::RollbackFailed { started, .. } => Some(*started),
            _ => None,
        }
    }
}

impl Deployment {
    /// The deployment's state at `now`.
    pub fn phase(&self, now: Timestamp) -> Phase {
        if let Some((at, _)) = &self.stopped {
            return Phase::Stopped { at: *at };
        }
        let end = self.started_at + self.duration;
        if !self.fails {
            return if now < end {
                Phase::InProgress
            } else {
                Phase::Successful { finished: end }
            };
        }
        let failed_at = self.started_at + self.duration / 2.0;
        if now < failed_at {
            Phase::InProgress
        } else if now < end {
            Phase::RollbackInProgress { started: failed_at }
        } else if self.rollback_to.is_some() {
            Phase::RollbackSuccessful {
                started: failed_at,
                finished: end,
            }
        } else {
            Phase::RollbackFailed {
                started: failed_at,
                finished: end,
            }
        }
    }

    /// The `ServiceDeploymentStatus` reported at `now`: `PENDING` at first, then the phase's.
    pub fn status_at(&self, now: Timestamp) -> &'static str {
        let phase = self.phase(now);
        if phase == Phase::InProgress && now < self.started_at + self.pending_seconds {
            "PENDING"
        } else {
            phase.status()
        }
    }

    /// The share of production traffic on the new revision at `now`, while an unfinished rollout
    /// is past `PENDING`: Express rollouts are canaries that shift 5 %, bake, then shift 100 %
    /// (docs/aws-behaviour.md E9). Each step takes half of the time after `PENDING`.
    pub fn canary_percent(&self, now: Timestamp) -> Option<u32> {
        let shifted = self.started_at + self.pending_seconds;
        if self.phase(now) != Phase::InProgress || now < shifted {
            return None;
        }
        let full = shifted + (self.started_at + self.duration - shifted) / 2.0;
        Some(if now < full { 5 } else { 100 })
    }

    /// `statusReason` at `now`.
    pub fn status_reason(&self, now: Timestamp) -> Option<String> {
        match self.phase(now) {
            Phase::InProgress => self.canary_percent(now).map(|percent| {
                format!(
                    "Canary deployment: {percent}% of production traffic shifted to the new service \
                     revision."
                )
            }),
            Phase::Successful { .. } => Some("Service deployment completed successfully.".into()),
            Phase::RollbackInProgress { .. } | Phase::RollbackSuccessful { .. } => {
                Some(ROLLBACK_REASON.to_string())
            }
            Phase::RollbackFailed { .. } => Some(
                "ECS deployment circuit breaker: tasks failed to start, and there is no earlier \
                 service revision to roll back to."
                    .to_string(),
            ),
            Phase::Stopped { .. } => self.stopped.as_ref().map(|(_, reason)| reason.clone()),
        }
    }
}

/// The lifecycle of the service itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// Serving.
    Active,
    /// Deleted; tasks are draining.
    Draining,
    /// Deleted and drained; still describable for a while.
    Inactive,
    /// Forgotten: every call answers "not found".
    Gone,
}

impl Lifecycle {
    /// The `ExpressGatewayServiceStatusCode` enum value (also the classic `Service.status`).
    pub fn status_code(self) -> &'static str {
        match self {
            Lifecycle::Active => "ACTIVE",
            Lifecycle::Draining => "DRAINING",
            Lifecycle::Inactive | Lifecycle::Gone => "INACTIVE",
        }
    }
}

/// How long each stage takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EcsTimings {
    /// A rollout, start to finish.
    pub rollout_seconds: f64,
    /// DRAINING after a delete.
    pub drain_seconds: f64,
    /// INACTIVE before the service is forgotten.
    pub inactive_seconds: f64,
    /// PENDING at the start of each rollout.
    pub pending_seconds: f64,
    /// No `currentDeployment` reported for this long after a create.
    pub current_deployment_delay_seconds: f64,
    /// `currentDeployment` names the previous deployment for this long after a new one starts.
    pub deployment_lag_seconds: f64,
}

/// One Express service.
#[derive(Clone, Debug)]
pub struct ExpressService {
    /// Region of the service.
    pub region: String,
    /// Account of the service.
    pub account: String,
    /// Cluster short name.
    pub cluster: String,
    /// Service name.
    pub name: String,
    /// `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`.
    pub arn: String,
    /// The role ECS uses to manage the infrastructure.
    pub infrastructure_role_arn: String,
    /// Tags.
    pub tags: Vec<Tag>,
    /// The security group ECS created for the service (tagged `AmazonECSManaged=true` in EC2), reported
    /// first in every configuration's `securityGroups` next to the requested ones.
    pub managed_security_group: String,
    /// `<name>-<hash>.ecs.<region>.on.aws`.
    pub endpoint: String,
    /// The load balancer and the other resources ECS manages for the service.
    pub infra: ManagedInfra,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update (create, update, redeploy or delete).
    pub updated_at: Timestamp,
    /// Delete time, once deleted.
    pub deleted_at: Option<Timestamp>,
    /// All revisions, oldest first.
    pub revisions: Vec<Revision>,
    /// All deployments, oldest first.
    pub deployments: Vec<Deployment>,
    /// A desired count set through UpdateService, overriding the scaling minimum.
    pub desired_count: Option<i64>,
    /// How long the stages take.
    pub timings: EcsTimings,
    /// `true` for a classic service made with CreateService (`resourceManagementType: CUSTOMER`),
    /// which the Express calls refuse; `false` for an Express service (`ECS`).
    pub customer_managed: bool,
    /// Whether ECS has lost the use of the service's infrastructure role (its policy was deleted):
    /// a deleted service then stays DRAINING, because ECS cannot remove the load balancer and the
    /// rest of the infrastructure (docs/aws-behaviour.md E34).
    pub drain_blocked: bool,
}

impl ExpressService {
    /// The ARN of the cluster.
    pub fn cluster_arn(&self) -> String {
        format!(
            "arn:aws:ecs:{}:{}:cluster/{}",
            self.region, self.account, self.cluster
        )
    }

    /// The lifecycle stage at `now`.
    pub fn lifecycle(&self, now: Timestamp) -> Lifecycle {
        let Some(deleted) = self.deleted_at else {
            return Lifecycle::Active;
        };
        if self.drain_blocked {
            return Lifecycle::Draining;
        }
        let drained = deleted + self.timings.drain_seconds;
        if now < drained {
            Lifecycle::Draining
        } else if now < drained + self.timings.inactive_seconds {
            Lifecycle::Inactive
        } else {
            Lifecycle::Gone
        }
    }

    /// The newest deployment.
    pub fn current_deployment(&self) -> Option<&Deployment> {
        self.deployments.last()
    }

    /// The deployment DescribeExpressGatewayService reports as `currentDeployment` at `now`: none
    /// right after the create, and the previous one for a while after a newer one starts.
    pub fn reported_current_deployment(&self, now: Timestamp) -> Option<&Deployment> {
        if now < self.created_at + self.timings.current_deployment_delay_seconds {
            return None;
        }
        let lag = self.timings.deployment_lag_seconds;
        self.deployments
            .iter()
            .enumerate()
            .rev()
            .find(|(i, d)| *i == 0 || d.started_at + lag <= now)
            .map(|(_, d)| d)
    }

    /// The revisions that have tasks at `now`, oldest first.
    pub fn active_revisions(&self, now: Timestamp) -> Vec<usize> {
        let Some(deployment) = self.current_deployment() else {
            return Vec::new();
        };
        match deployment.phase(now) {
            Phase::InProgress | Phase::RollbackInProgress { .. } | Phase::Stopped { .. } => {
                let mut active = deployment.sources.clone();
                if !active.contains(&deployment.target) {
                    active.push(deployment.target);
                }
                active
            }
            Phase::Successful { .. } | Phase::RollbackFailed { .. } => vec![deployment.target],
            Phase::RollbackSuccessful { .. } => deployment
                .rollback_to
                .map_or_else(|| vec![deployment.target], |r| vec![r]),
        }
    }

    /// The revision the service is meant to run: the newest deployment's target, or what it
    /// rolled back to. Updates merge onto this one.
    pub fn current_revision(&self, now: Timestamp) -> Option<usize> {
        let deployment = self.current_deployment()?;
        match deployment.phase(now) {
            Phase::RollbackSuccessful { .. } => deployment.rollback_to,
            _ => Some(deployment.target),
        }
    }

    /// The newest revision that finished rolling out by `now`.
    fn last_stable_revision(&self, now: Timestamp) -> Option<usize> {
        self.deployments.iter().rev().find_map(|d| match d.phase(now) {
            Phase::Successful { .. } => Some(d.target),
            Phase::RollbackSuccessful { .. } => d.rollback_to,
            _ => None,
        })
    }

    /// Whether a deployment is unfinished at `now`.
    pub fn is_rolling_out(&self, now: Timestamp) -> bool {
        self.current_deployment()
            .is_some_and(|d| !d.phase(now).is_finished())
    }

    /// Stops the unfinished deployment, if any.
    pub fn stop_in_flight(&mut self, now: Timestamp, reason: &str) {
        if let Some(deployment) = self.deployments.last_mut()
            && !deployment.phase(now).is_finished()
        {
            deployment.stopped = Some((now, reason.to_string()));
        }
    }

    /// Makes a new revision from `config` and starts rolling it out; an unfinished deployment is
    /// superseded. Returns the index of the new deployment.
    pub fn start_deployment(&mut self, config: ExpressConfig, now: Timestamp, fails: bool) -> usize {
        let sources = self.active_revisions(now);
        let rollback_to = self.last_stable_revision(now);
        self.stop_in_flight(
            now,
            "Service deployment stopped: superseded by a newer deployment.",
        );
        let id = ids::digits(19);
        self.revisions.push(Revision {
            arn: format!(
                "arn:aws:ecs:{}:{}:service-revision/{}/{}/{id}",
                self.region, self.account, self.cluster, self.name
            ),
            config,
            created_at: now,
            target_group: target_group(&self.region, &self.account, &self.name),
            load_balancer_failure: None,
        });
        self.deployments.push(Deployment {
            arn: format!(
                "arn:aws:ecs:{}:{}:service-deployment/{}/{}/{}",
                self.region,
                self.account,
                self.cluster,
                self.name,
                ids::alphanumeric(22)
            ),
            classic_id: format!("ecs-svc/{}", ids::digits(19)),
            target: self.revisions.len() - 1,
            sources,
            rollback_to,
            started_at: now,
            duration: self.timings.rollout_seconds,
            fails,
            stopped: None,
            pending_seconds: self.timings.pending_seconds.min(self.timings.rollout_seconds),
        });
        self.updated_at = now;
        self.deployments.len() - 1
    }

    /// Marks the load balancer of the newest revision FAILED with `reason`, if one is given.
    pub fn fail_load_balancer(&mut self, reason: Option<String>) {
        if let (Some(reason), Some(revision)) = (reason, self.revisions.last_mut()) {
            revision.load_balancer_failure = Some(reason);
        }
    }

    /// The desired task count.
    pub fn desired_count(&self, now: Timestamp) -> i64 {
        if self.lifecycle(now) != Lifecycle::Active {
            return 0;
        }
        self.desired_count.unwrap_or_else(|| {
            self.current_revision(now)
                .and_then(|r| self.revisions.get(r))
                .map_or(1, |r| r.config.desired_count())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> ExpressService {
        ExpressService {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            cluster: "default".into(),
            name: "web".into(),
            arn: "arn:aws:ecs:us-east-1:123456789012:service/default/web".into(),
            infrastructure_role_arn: "arn:aws:iam::123456789012:role/infra".into(),
            tags: Vec::new(),
            managed_security_group: "sg-0123456789abcdef0".into(),
            endpoint: "web-abc.ecs.us-east-1.on.aws".into(),
            infra: ManagedInfra::new("us-east-1", "123456789012", "default", "web"),
            created_at: 0.0,
            updated_at: 0.0,
            deleted_at: None,
            revisions: Vec::new(),
            deployments: Vec::new(),
            desired_count: None,
            customer_managed: false,
            drain_blocked: false,
            timings: EcsTimings {
                rollout_seconds: 10.0,
                drain_seconds: 5.0,
                inactive_seconds: 5.0,
                pending_seconds: 2.0,
                current_deployment_delay_seconds: 4.0,
                deployment_lag_seconds: 3.0,
            },
        }
    }

    #[test]
    fn deployments_start_pending_and_current_deployment_lags() {
        let mut svc = service();
        svc.start_deployment(ExpressConfig::default(), 0.0, false);
        assert_eq!(svc.deployments[0].status_at(1.0), "PENDING");
        assert_eq!(svc.deployments[0].status_at(3.0), "IN_PROGRESS");
        assert!(
            svc.reported_current_deployment(3.0).is_none(),
            "absent after create"
        );
        assert_eq!(
            svc.reported_current_deployment(5.0).map(|d| d.arn.clone()),
            Some(svc.deployments[0].arn.clone())
        );
        svc.start_deployment(ExpressConfig::default(), 20.0, false);
        assert_eq!(
            svc.reported_current_deployment(21.0).map(|d| d.arn.clone()),
            Some(svc.deployments[0].arn.clone()),
            "still the previous one"
        );
        assert_eq!(
            svc.reported_current_deployment(24.0).map(|d| d.arn.clone()),
            Some(svc.deployments[1].arn.clone())
        );
    }

    #[test]
    fn a_rollout_is_pending_then_shifts_five_then_a_hundred_percent() {
        let mut svc = service();
        svc.start_deployment(ExpressConfig::default(), 0.0, false);
        let d = &svc.deployments[0];
        // service() takes 10 s per rollout, 2 s of them PENDING.
        assert_eq!((d.status_at(1.0), d.canary_percent(1.0)), ("PENDING", None));
        assert_eq!(
            (d.status_at(3.0), d.canary_percent(3.0)),
            ("IN_PROGRESS", Some(5))
        );
        assert_eq!(d.canary_percent(6.5), Some(100));
        assert!(d.status_reason(6.5).unwrap().contains("100%"));
        assert_eq!((d.status_at(10.0), d.canary_percent(10.0)), ("SUCCESSFUL", None));
    }

    #[test]
    fn old_revision_stays_active_until_the_rollout_completes() {
        let mut svc = service();
        svc.start_deployment(ExpressConfig::default(), 0.0, false);
        assert_eq!(svc.active_revisions(10.0), vec![0]);
        svc.start_deployment(ExpressConfig::default(), 20.0, false);
        assert_eq!(svc.active_revisions(25.0), vec![0, 1]);
        assert_eq!(svc.deployments[1].phase(25.0), Phase::InProgress);
        assert_eq!(svc.active_revisions(30.0), vec![1]);
        assert_eq!(svc.deployments[1].phase(30.0).status(), "SUCCESSFUL");
    }

    #[test]
    fn a_failing_rollout_rolls_back_to_the_last_stable_revision() {
        let mut svc = service();
        svc.start_deployment(ExpressConfig::default(), 0.0, false);
        svc.start_deployment(ExpressConfig::default(), 20.0, true);
        assert_eq!(svc.deployments[1].phase(26.0).status(), "ROLLBACK_IN_PROGRESS");
        assert_eq!(svc.deployments[1].phase(30.0).status(), "ROLLBACK_SUCCESSFUL");
        assert_eq!(svc.active_revisions(30.0), vec![0]);
        assert_eq!(svc.current_revision(30.0), Some(0));
    }

    #[test]
    fn a_newer_deployment_stops_the_one_in_flight() {
        let mut svc = service();
        svc.start_deployment(ExpressConfig::default(), 0.0, false);
        svc.start_deployment(ExpressConfig::default(), 3.0, false);
        assert_eq!(svc.deployments[0].phase(3.0).status(), "STOPPED");
        assert_eq!(svc.deployments[1].sources, vec![0]);
        assert_eq!(svc.deployments[1].rollback_to, None);
    }

    #[test]
    fn deletion_drains_then_goes_inactive_then_away() {
        let mut svc = service();
        svc.deleted_at = Some(100.0);
        assert_eq!(svc.lifecycle(101.0), Lifecycle::Draining);
        assert_eq!(svc.lifecycle(106.0), Lifecycle::Inactive);
        assert_eq!(svc.lifecycle(111.0), Lifecycle::Gone);
    }

    #[test]
    fn a_blocked_drain_stays_draining_however_long() {
        let mut svc = service();
        svc.deleted_at = Some(100.0);
        svc.drain_blocked = true;
        assert_eq!(svc.lifecycle(10_000.0), Lifecycle::Draining);
    }
}
