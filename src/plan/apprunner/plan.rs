//! The next step for an App Runner service: [`plan`] over the spec, the status and what App Runner
//! reports, and the smaller decisions around it (whether to list operations, whether to record a
//! baseline, who owns a service found by name, the deletion step).

use super::drift::drift;
use super::observed::{ObservedOperation, ObservedService};
use super::request::AppRunnerRequest;
use crate::api::apprunner::{AppRunnerServiceSpec, AppRunnerServiceStatus};
use crate::plan::{
    Clock, DeleteStep, OPERATION_STUCK, Phase, Refusal, duration_words, rejected_again, rejection_blocks,
    running_for,
};

/// The next deletion step, from the service's status (`None`: not found). A service busy with any
/// operation (its own delete included) is waited for: App Runner refuses a delete meanwhile.
pub fn delete_step(status: Option<&str>) -> DeleteStep {
    match status {
        None | Some("DELETED") => DeleteStep::Gone,
        Some("OPERATION_IN_PROGRESS") => DeleteStep::Wait,
        Some(_) => DeleteStep::Delete,
    }
}

/// The reason a resource reports while App Runner refuses to delete its service because a VPC
/// ingress connection still makes it reachable from a VPC (docs/aws-behaviour.md A25).
pub const DELETE_BLOCKED_BY_INGRESS: &str = "DeleteBlockedByVpcIngressConnection";

/// A DeleteService that App Runner refused for a reason only someone else can remove: an AVAILABLE
/// VPC ingress connection ("You cannot delete a Service while it has VpcIngressConnections with a
/// status of AVAILABLE", `InvalidStateException`). Without this, the refusal would read as App
/// Runner being busy with an operation, which it is not. `None` for any other refusal.
pub fn delete_refusal(arn: &str, code: &str, message: &str) -> Option<Refusal> {
    message
        .to_ascii_lowercase()
        .contains("vpcingressconnection")
        .then(|| Refusal {
            reason: DELETE_BLOCKED_BY_INGRESS,
            message: format!(
                "App Runner refuses to delete {arn} while a VPC ingress connection makes it \
                 reachable from a VPC ({code}: {message}). Delete that VPC ingress connection \
                 (DeleteVpcIngressConnection, or the service's Networking tab in the console); runway \
                 keeps the finalizer and tries the delete again, at most once per resync interval"
            ),
        })
}

/// Why an UpdateService is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateCause {
    /// The spec differs from the last applied request.
    SpecChanged,
    /// App Runner reports these spec-set fields differently from the spec (a change outside runway).
    Drift(Vec<String>),
    /// The service is CREATE_FAILED; App Runner's documented recovery is to rebuild it with
    /// UpdateService once the parameters are fixed.
    Rebuild,
    /// The last update rolled back and `spec.redeployToken` changed: send the spec again.
    Retry,
}

/// What to do next for an App Runner service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Call CreateService.
    Create,
    /// Call UpdateService with the desired request.
    Update {
        /// Why.
        cause: UpdateCause,
    },
    /// Call PauseService.
    Pause,
    /// Call ResumeService.
    Resume,
    /// Call StartDeployment.
    Redeploy,
    /// An operation is in flight, the spec cannot be sent, or the service is settled (`Ready`, or
    /// `Paused` for a service paused as the spec asks): no call, only the phase to report.
    Report(Phase),
}

/// Operation statuses that mean App Runner is still working.
pub const IN_FLIGHT: &[&str] = &["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"];

/// Operation statuses that mean an update or deployment did not deliver its configuration.
pub const UNDONE: &[&str] = &["FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED"];

/// The service statuses runway knows (`ServiceStatus` today). AWS may add values, and the SDK
/// hands them over as they came (docs/aws-behaviour.md A27).
pub const KNOWN_SERVICE_STATUSES: &[&str] = &[
    "CREATE_FAILED",
    "RUNNING",
    "DELETED",
    "DELETE_FAILED",
    "PAUSED",
    "OPERATION_IN_PROGRESS",
];

/// The reason a resource stalls with while App Runner reports a service status runway does not
/// know.
pub const UNKNOWN_SERVICE_STATUS: &str = "UnknownServiceStatus";

/// Whether an operation in this status may still be running: one of [`IN_FLIGHT`], or a status
/// runway does not know (missing included), which is never taken as done or failed
/// (docs/aws-behaviour.md A27).
pub fn still_running(status: &str) -> bool {
    IN_FLIGHT.contains(&status) || !(status == "SUCCEEDED" || UNDONE.contains(&status))
}

/// The inputs to [`plan`].
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The resource's spec.
    pub spec: &'a AppRunnerServiceSpec,
    /// The resource's last written status (with a baseline recorded, see [`baseline`]).
    pub status: &'a AppRunnerServiceStatus,
    /// The canonical desired request.
    pub desired: &'a AppRunnerRequest,
    /// The service as DescribeService reports it; `None` when runway knows of none.
    pub service: Option<&'a ObservedService>,
    /// The operation that `status.operationId` names, as ListOperations reports it now.
    pub tracked: Option<&'a ObservedOperation>,
    /// The newest operation on the service.
    pub newest: Option<&'a ObservedOperation>,
    /// Time, resync interval and the reconcile-requested-at annotation.
    pub clock: Clock<'a>,
}

/// Whether ListOperations has anything to tell: App Runner runs an operation now
/// (`OPERATION_IN_PROGRESS`), the create failed (the message names its operation), runway follows
/// an operation it has not seen end, or runway has recorded no operation yet. Otherwise the
/// operation in status has ended and ended operations never change, so a settled service costs one
/// read (DescribeService) per resync.
pub fn needs_operations(status: &AppRunnerServiceStatus, service: &ObservedService) -> bool {
    let ended = status
        .operation_status
        .as_deref()
        .is_some_and(|s| s == "SUCCEEDED" || UNDONE.contains(&s));
    matches!(service.status.as_str(), "OPERATION_IN_PROGRESS" | "CREATE_FAILED")
        || status.operation_id.is_none()
        || !ended
}

/// Whether runway should record the desired request as applied without sending it: the status has
/// no `lastAppliedHash` yet (an adopted service, or one found by name after a crash right after
/// CreateService) and App Runner already runs what the spec asks for.
pub fn baseline(
    status: &AppRunnerServiceStatus,
    desired: &AppRunnerRequest,
    service: &ObservedService,
) -> bool {
    status.common.last_applied_hash.is_none()
        && service.status != "DELETED"
        && drift(desired, &service.config).is_empty()
}

/// Decides the next step for an App Runner service.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let PlanInput {
        spec,
        status,
        desired,
        service,
        tracked,
        newest,
        clock,
    } = input;
    let hash = desired.digest();
    let common = &status.common;
    // NB: a rejected request is sent again after its backoff or on a new reconcile-requested-at.
    let failed_before = rejection_blocks(common, &hash, &clock);
    let adopted = spec.service_arn.is_some();
    let spec_changed = common.last_applied_hash.as_deref() != Some(hash.as_str());
    let token_changed = spec.redeploy_token.is_some() && spec.redeploy_token != common.last_redeploy_token;

    let service = match service {
        Some(s) if s.status != "DELETED" => s,
        _ if adopted => {
            return Plan::Report(Phase::Stalled {
                reason: "AdoptedServiceNotFound",
                message: format!(
                    "spec.serviceArn {} does not name an existing App Runner service",
                    spec.service_arn.as_deref().unwrap_or_default()
                ),
            });
        }
        _ if failed_before => return stalled_again(status),
        _ => return Plan::Create,
    };
    if let Some(stalled) = unknown_status(service) {
        return stalled;
    }
    let step = Step {
        spec,
        desired,
        service,
        tracked,
        newest,
        spec_changed,
        token_changed,
        clock,
    };

    if let Some(wait) = step.busy() {
        return wait;
    }
    if let Some(stalled) = step.delete_failed() {
        return stalled;
    }
    if failed_before {
        return stalled_again(status);
    }
    if let Some(next) = step.create_failed() {
        return next;
    }
    if let Some(next) = step.rolled_back() {
        return next;
    }

    let drifted = drift(desired, &service.config);
    match service.status.as_str() {
        "PAUSED" => step.paused(drifted),
        "RUNNING" => step.running(drifted),
        other => Plan::Report(Phase::Progressing {
            reason: "UnexpectedStatus",
            message: format!("service {} reports status {other}; waiting", service.arn),
        }),
    }
}

/// What the steps of [`plan`] look at once App Runner reports the service.
struct Step<'a> {
    /// The resource's spec.
    spec: &'a AppRunnerServiceSpec,
    /// The canonical desired request.
    desired: &'a AppRunnerRequest,
    /// The service as DescribeService reports it.
    service: &'a ObservedService,
    /// The operation that `status.operationId` names.
    tracked: Option<&'a ObservedOperation>,
    /// The newest operation on the service.
    newest: Option<&'a ObservedOperation>,
    /// The spec differs from the last applied request.
    spec_changed: bool,
    /// `spec.redeployToken` differs from the last one carried out.
    token_changed: bool,
    /// Now, and when an operation looks stuck.
    clock: Clock<'a>,
}

impl Step<'_> {
    /// A wait while an operation is in flight; a spec change waits for it. The message says how long
    /// the operation has run; past [`Clock::stuck_after`] the reason is [`OPERATION_STUCK`], and still
    /// nothing is sent: App Runner refuses every call meanwhile, and an operation that AWS reports
    /// running may yet end (docs/aws-behaviour.md A24).
    fn busy(&self) -> Option<Plan> {
        let busy = self.newest.filter(|op| still_running(&op.status));
        if self.service.status != "OPERATION_IN_PROGRESS" && busy.is_none() {
            return None;
        }
        let pending = if self.spec_changed || self.token_changed {
            "; the spec change waits for it"
        } else {
            ""
        };
        let Some(op) = busy.or(self.tracked) else {
            return Some(Plan::Report(Phase::Progressing {
                reason: "OperationInProgress",
                message: format!("service {} is OPERATION_IN_PROGRESS{pending}", self.service.arn),
            }));
        };
        let what = format!("operation {} ({})", op.id, op.operation_type);
        let pending = if IN_FLIGHT.contains(&op.status.as_str()) || !still_running(&op.status) {
            pending.to_string()
        } else {
            // NB: never taken as done or failed (docs/aws-behaviour.md A27).
            format!(
                "; runway does not know this status and waits for one it knows, as for a running \
                 operation{pending}"
            )
        };
        let age = op.started_at.map(|t| running_for(t, self.clock.now));
        let (reason, message) = match age {
            Some(age) if age >= self.clock.stuck_after => (
                OPERATION_STUCK,
                format!(
                    "{what} has been {} for {}, longer than App Runner operations take: it looks \
                     stuck. App Runner refuses every other call meanwhile, so runway sends nothing \
                     and keeps watching it; if it does not end, ask AWS Support about this operation{pending}",
                    op.status,
                    duration_words(age)
                ),
            ),
            Some(age) => (
                "OperationInProgress",
                format!(
                    "{what} is {}, running for {}{pending}",
                    op.status,
                    duration_words(age)
                ),
            ),
            None => ("OperationInProgress", format!("{what} is {}{pending}", op.status)),
        };
        Some(Plan::Report(Phase::Progressing { reason, message }))
    }

    /// A stall for a service that App Runner failed to delete: nothing recovers it.
    fn delete_failed(&self) -> Option<Plan> {
        (self.service.status == "DELETE_FAILED").then(|| {
            Plan::Report(Phase::Stalled {
                reason: "DeleteFailed",
                message: format!(
                    "service {} is DELETE_FAILED and can't be recovered; delete this resource to retry the \
                 deletion",
                    self.service.arn
                ),
            })
        })
    }

    /// For a service that failed to create: a rebuild once the spec or its token changes, a stall
    /// until then.
    fn create_failed(&self) -> Option<Plan> {
        if self.service.status != "CREATE_FAILED" {
            return None;
        }
        if self.spec_changed || self.token_changed {
            return Some(Plan::Update {
                cause: UpdateCause::Rebuild,
            });
        }
        let op = self
            .tracked
            .filter(|op| UNDONE.contains(&op.status.as_str()))
            .or(self.newest);
        let what = match op {
            Some(op) => format!("operation {} ({}) ended {}", op.id, op.operation_type, op.status),
            None => "the create operation failed".into(),
        };
        Some(Plan::Report(Phase::Stalled {
            reason: "CreateFailed",
            message: format!(
                "service {} is CREATE_FAILED: {what}. The failed service still counts toward the \
                 quota. Read its events and logs in App Runner, fix the spec, and runway rebuilds it \
                 with UpdateService (or change spec.redeployToken to rebuild the same spec)",
                self.service.arn
            ),
        }))
    }

    /// For an update or deployment that App Runner rolled back, while the spec is unchanged: a
    /// stall, or a retry once `spec.redeployToken` changes.
    fn rolled_back(&self) -> Option<Plan> {
        let op = self.tracked.filter(|op| {
            UNDONE.contains(&op.status.as_str())
                && matches!(op.operation_type.as_str(), "UPDATE_SERVICE" | "START_DEPLOYMENT")
                && !self.spec_changed
        })?;
        if !self.token_changed {
            return Some(Plan::Report(Phase::Stalled {
                reason: "RolledBack",
                message: format!(
                    "operation {} ({}) ended {}: App Runner kept the previous configuration; change \
                     the spec or spec.redeployToken to try again",
                    op.id, op.operation_type, op.status
                ),
            }));
        }
        Some(
            if op.operation_type == "START_DEPLOYMENT" && drift(self.desired, &self.service.config).is_empty()
            {
                Plan::Redeploy
            } else {
                Plan::Update {
                    cause: UpdateCause::Retry,
                }
            },
        )
    }

    /// The step for a PAUSED service: an update (or a resume, when the spec asks for one) for a
    /// changed spec or drift, else ready as paused.
    fn paused(&self, drifted: Vec<String>) -> Plan {
        let wants_paused = self.spec.paused;
        if self.spec_changed || !drifted.is_empty() {
            if wants_paused == Some(false) {
                return Plan::Resume;
            }
            // NB: App Runner accepts UpdateService on a PAUSED service and keeps it paused
            // (aws/apprunner-roadmap#95, docs/aws-behaviour.md A3).
            return Plan::Update {
                cause: if self.spec_changed {
                    UpdateCause::SpecChanged
                } else {
                    UpdateCause::Drift(drifted)
                },
            };
        }
        if wants_paused == Some(false) {
            return Plan::Resume;
        }
        let note = if self.token_changed {
            "; the new redeployToken is deployed when the service is resumed"
        } else {
            ""
        };
        Plan::Report(Phase::Ready {
            reason: "Paused",
            message: format!("service {} is PAUSED{note}", self.service.arn),
        })
    }

    /// The step for a RUNNING service: an update for a changed spec or drift, then a pause or a
    /// redeploy when the spec asks for one, else ready.
    fn running(&self, drifted: Vec<String>) -> Plan {
        if self.spec_changed {
            return Plan::Update {
                cause: UpdateCause::SpecChanged,
            };
        }
        if !drifted.is_empty() {
            return Plan::Update {
                cause: UpdateCause::Drift(drifted),
            };
        }
        if self.spec.paused == Some(true) {
            return Plan::Pause;
        }
        if self.token_changed {
            return Plan::Redeploy;
        }
        Plan::Report(Phase::Ready {
            reason: "Ready",
            message: match self.tracked {
                Some(op) => format!(
                    "service {} is RUNNING; operation {} ({}) is {}",
                    self.service.arn, op.id, op.operation_type, op.status
                ),
                None => format!("service {} is RUNNING", self.service.arn),
            },
        })
    }
}

/// A stall, with nothing sent, when App Runner reports a service status runway does not know
/// ([`KNOWN_SERVICE_STATUSES`]). What such a service accepts is unknown, so runway neither updates,
/// pauses, resumes nor redeploys it (nor tags it: only RUNNING and PAUSED services are tagged), and
/// looks again at the resync interval (docs/aws-behaviour.md A27). A delete still deletes.
fn unknown_status(service: &ObservedService) -> Option<Plan> {
    let status = service.status.as_str();
    (!KNOWN_SERVICE_STATUSES.contains(&status)).then(|| {
        Plan::Report(Phase::Stalled {
            reason: UNKNOWN_SERVICE_STATUS,
            message: format!(
                "App Runner reports service {} with status {status:?}, which runway does not know; \
                 runway sends nothing until App Runner reports RUNNING, PAUSED, \
                 OPERATION_IN_PROGRESS, CREATE_FAILED, DELETE_FAILED or DELETED",
                service.arn
            ),
        })
    })
}

fn stalled_again(status: &AppRunnerServiceStatus) -> Plan {
    let (reason, message) = rejected_again(&status.common);
    Plan::Report(Phase::Stalled { reason, message })
}
