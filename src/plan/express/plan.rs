//! The next step for an Express service: [`plan`] over the spec, the status and what AWS reports,
//! and the smaller decisions around it (which deployment is known to have ended, the deletion
//! step).

use super::drift::{current_configuration, drift};
use super::observed::{ObservedDeployment, ObservedExpress};
use super::request::ExpressRequest;
use crate::api::express::{ExpressServiceSpec, ExpressServiceStatus, TargetConfiguration};
use crate::plan::{Clock, DeleteStep, Phase, rejected_again, rejection_blocks};

/// What to do next for an Express service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Call CreateExpressGatewayService.
    Create,
    /// Call UpdateExpressGatewayService with the desired request. `drifted` lists the fields that AWS
    /// reports differently from the spec when the update corrects drift; it is empty for a spec change.
    /// A new `redeployToken` in the same edit rides along: the update rolls out new tasks anyway.
    Update {
        /// Fields that drifted.
        drifted: Vec<String>,
    },
    /// AWS already runs what the spec asks for, but runway has no record of applying it (status lost
    /// in a restore or cluster move, a crash between create and the status write, or adoption):
    /// record the spec as applied and send nothing.
    Baseline,
    /// Call ECS UpdateService with forceNewDeployment.
    Redeploy,
    /// AWS is busy, the spec cannot be sent, or the service is ready: no call, only the phase to
    /// report (Progressing, Stalled, or Ready once any awaited rollout has succeeded).
    Report(Phase),
}

/// Deployment statuses that mean a rollout is still moving.
pub const IN_FLIGHT: &[&str] = &[
    "PENDING",
    "IN_PROGRESS",
    "STOP_REQUESTED",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
];

/// Deployment statuses that mean the last rollout did not deliver its configuration.
pub const FAILED: &[&str] = &["STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"];

/// The inputs to [`plan`].
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The resource's spec.
    pub spec: &'a ExpressServiceSpec,
    /// The resource's last written status.
    pub status: &'a ExpressServiceStatus,
    /// The canonical desired request, with its clears.
    pub desired: &'a ExpressRequest,
    /// The service as AWS describes it; `None` when runway knows of none.
    pub service: Option<&'a ObservedExpress>,
    /// The service's current deployment.
    pub deployment: Option<&'a ObservedDeployment>,
    /// Time, resync interval and the reconcile-requested-at annotation.
    pub clock: Clock<'a>,
}

/// Decides the next step for an Express service.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let PlanInput {
        spec,
        status,
        desired,
        service,
        deployment,
        clock,
    } = input;
    let hash = desired.digest();
    let blocked = rejection_blocks(&status.common, &hash, &clock);

    let service = match service {
        Some(s) if s.status_code.as_deref() != Some("INACTIVE") => s,
        gone => return no_service(spec, status, gone, blocked),
    };
    if service.status_code.as_deref() == Some("DRAINING") {
        return Plan::Report(Phase::Progressing {
            reason: "ServiceDraining",
            message: format!("service {} is DRAINING", service.arn),
        });
    }
    if let Some(stalled) = unknown_status(service) {
        return stalled;
    }

    let spec_changed = status.common.last_applied_hash.as_deref() != Some(hash.as_str());
    if let Some(wait) = rollout_in_flight(deployment, spec_changed) {
        return wait;
    }
    if blocked {
        return stalled_again(status);
    }

    let current = current_configuration(service, deployment);
    if spec_changed || !desired.clear.is_empty() {
        return apply_spec(status, desired, current);
    }

    if let Some(wait) = awaited_rollout(status, deployment) {
        return wait;
    }

    let token_changed =
        spec.redeploy_token.is_some() && spec.redeploy_token != status.common.last_redeploy_token;
    if token_changed {
        return Plan::Redeploy;
    }

    if let Some(stalled) = failed_rollout(deployment) {
        return stalled;
    }

    if let Some(actual) = current {
        let drifted = drift(desired, actual);
        if !drifted.is_empty() {
            return Plan::Update { drifted };
        }
    }

    Plan::Report(Phase::Ready {
        reason: "Ready",
        message: match deployment {
            Some(d) => format!(
                "service {} is ACTIVE; deployment {} is {}",
                service.arn, d.arn, d.status
            ),
            None => format!("service {} is ACTIVE", service.arn),
        },
    })
}

/// A stall, with nothing sent, when AWS reports a service status code runway does not know
/// (`ExpressGatewayServiceStatusCode` is `ACTIVE | DRAINING | INACTIVE` today; AWS may add values,
/// and the SDK hands them over as they are). What such a service accepts is unknown, so runway
/// neither updates nor redeploys it, and looks again at the resync interval
/// (docs/aws-behaviour.md E36). A missing status code is read as ACTIVE.
fn unknown_status(service: &ObservedExpress) -> Option<Plan> {
    let code = service.status_code.as_deref()?;
    (code != "ACTIVE").then(|| {
        Plan::Report(Phase::Stalled {
            reason: "UnknownServiceStatus",
            message: format!(
                "AWS reports service {} with status {code}, which runway does not know; runway sends \
                 nothing until AWS reports ACTIVE, DRAINING or INACTIVE",
                service.arn
            ),
        })
    })
}

/// The step when AWS reports no service, or an `INACTIVE` one (`gone`): an adopted service is
/// stalled, otherwise the service is created unless an earlier rejection still blocks it.
fn no_service(
    spec: &ExpressServiceSpec,
    status: &ExpressServiceStatus,
    gone: Option<&ObservedExpress>,
    blocked: bool,
) -> Plan {
    if spec.service_arn.is_some() {
        return match gone {
            Some(s) => Plan::Report(Phase::Stalled {
                reason: "AdoptedServiceInactive",
                message: format!("the adopted service {} is INACTIVE", s.arn),
            }),
            None => Plan::Report(Phase::Stalled {
                reason: "AdoptedServiceNotFound",
                message: format!(
                    "spec.serviceArn {} does not name an existing Express service",
                    spec.service_arn.as_deref().unwrap_or_default()
                ),
            }),
        };
    }
    if blocked {
        stalled_again(status)
    } else {
        Plan::Create
    }
}

/// A wait while the current deployment is still moving; a spec change waits for it.
fn rollout_in_flight(deployment: Option<&ObservedDeployment>, spec_changed: bool) -> Option<Plan> {
    // NB: a status runway does not know (AWS adds states) counts as still moving, never as done.
    let d = deployment.filter(|d| {
        IN_FLIGHT.contains(&d.status.as_str())
            || (d.status != "SUCCESSFUL" && !FAILED.contains(&d.status.as_str()))
    })?;
    let pending = if spec_changed {
        "; the spec change waits for it"
    } else {
        ""
    };
    Some(Plan::Report(Phase::Progressing {
        reason: "RolloutInProgress",
        message: format!("deployment {} is {}{pending}", d.arn, d.status),
    }))
}

/// The step for a changed spec or a field to clear: an update, or only a baseline when runway has
/// no record of applying anything and AWS already runs what the spec asks for.
fn apply_spec(
    status: &ExpressServiceStatus,
    desired: &ExpressRequest,
    current: Option<&TargetConfiguration>,
) -> Plan {
    let matches = current.is_some_and(|c| drift(desired, c).is_empty());
    if status.common.last_applied_hash.is_none() && desired.clear.is_empty() && matches {
        return Plan::Baseline;
    }
    Plan::Update { drifted: vec![] }
}

/// A stall when the current deployment ended without delivering its configuration.
fn failed_rollout(deployment: Option<&ObservedDeployment>) -> Option<Plan> {
    let d = deployment.filter(|d| FAILED.contains(&d.status.as_str()))?;
    let reason = if d.status == "STOPPED" {
        "RolloutStopped"
    } else {
        "RolledBack"
    };
    Some(Plan::Report(Phase::Stalled {
        reason,
        message: format!(
            "deployment {} ended {}: {}; change the spec or spec.redeployToken to try again",
            d.arn,
            d.status,
            d.status_reason.as_deref().unwrap_or("no reason given")
        ),
    }))
}

/// While runway awaits a rollout it started (or found), the step that waits for it: AWS has not
/// reported a deployment yet, or reports the one that was current before runway's call, or one of
/// another revision (the controller passes the deployment of the awaited revision when AWS lists
/// one). `None` once the deployment that carries the rollout is at hand: its own status decides.
fn awaited_rollout(status: &ExpressServiceStatus, deployment: Option<&ObservedDeployment>) -> Option<Plan> {
    let awaited = status.awaited_rollout.as_ref()?;
    let what = match &awaited.service_revision_arn {
        Some(rev) => format!("revision {rev}"),
        None => format!("the {} rollout", awaited.cause.to_ascii_lowercase()),
    };
    let Some(d) = deployment else {
        return Some(Plan::Report(Phase::Progressing {
            reason: "RolloutPending",
            message: format!("waiting for AWS to report the deployment of {what}"),
        }));
    };
    let other_revision = matches!(
        (&awaited.service_revision_arn, &d.target_revision),
        (Some(want), Some(have)) if want != have
    );
    if awaited.previous_deployment.as_deref() == Some(d.arn.as_str()) || other_revision {
        return Some(Plan::Report(Phase::Progressing {
            reason: "RolloutPending",
            message: format!(
                "AWS reports deployment {} of an earlier configuration; waiting for the deployment of \
                 {what}",
                d.arn
            ),
        }));
    }
    None
}

fn stalled_again(status: &ExpressServiceStatus) -> Plan {
    let (reason, message) = rejected_again(&status.common);
    Plan::Report(Phase::Stalled { reason, message })
}

/// The current deployment as the status last recorded it, when describing it again would tell
/// nothing new: runway awaits no rollout, AWS still reports the same `currentDeployment`, and that
/// deployment had ended (`SUCCESSFUL`, `STOPPED` or `ROLLBACK_*`). An ended deployment never changes
/// again, so a settled resource costs one read (DescribeExpressGatewayService) per resync.
pub fn known_ended_deployment(
    status: &ExpressServiceStatus,
    current_deployment: Option<&str>,
) -> Option<ObservedDeployment> {
    let current = current_deployment?;
    let recorded = status.deployment_status.as_deref()?;
    let ended = recorded == "SUCCESSFUL" || FAILED.contains(&recorded);
    if status.awaited_rollout.is_some() || !ended || status.current_deployment.as_deref() != Some(current) {
        return None;
    }
    Some(ObservedDeployment {
        arn: current.to_string(),
        status: recorded.to_string(),
        status_reason: status.deployment_status_reason.clone(),
        target_revision: status.deployment_target_revision.clone(),
    })
}

/// The next deletion step, from the service's status code (`None`: not found).
pub fn delete_step(status_code: Option<&str>) -> DeleteStep {
    match status_code {
        None | Some("INACTIVE") => DeleteStep::Gone,
        Some("DRAINING") => DeleteStep::Wait,
        Some(_) => DeleteStep::Delete,
    }
}
