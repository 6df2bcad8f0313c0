//! The `AppRunnerService` reconciler.
//!
//! Pipeline: `resolve` the service ARN (spec.serviceArn, status, or a ListServices lookup by name so
//! a crash between CreateService and the status write never creates a second service; needs AWS) →
//! `observe` the service (DescribeService) and its operations (ListOperations), read-only →
//! `plan::apprunner::plan` (pure) → `act` on the plan (one mutating call at most, which starts an
//! App Runner operation whose ID goes into status) → `lifecycle::finish` (conditions, status write,
//! requeue). While an operation runs, the resource requeues every few seconds and follows it to
//! SUCCEEDED, FAILED or ROLLBACK_*. Deletion goes through the finalizer and `cleanup`.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::cache::Compact;
use super::lifecycle::Managed;
use super::lifecycle::{
    Resolved, delete_service, finish, reconcile_with_finalizer, reject_terminal, retain_if_asked,
};
use super::tags::{self, TagApi, TagInput};
use super::{Context, Failpoint, accounts, events};
use crate::api::apprunner::{AppRunnerService, AppRunnerServiceStatus};
use crate::aws::RegionClients;
use crate::aws::apprunner::{self, Started};
use crate::error::AwsErrorKind;
use crate::plan::Phase;
use crate::plan::apprunner::{
    AppRunnerRequest, ObservedOperation, ObservedService, Ownership, Plan, PlanInput, UpdateCause, baseline,
    create_request, needs_operations, ownership, plan, service_name, valid_service_name,
};
use crate::plan::{Clock, clear_rejection};
use crate::{Error, Result};

/// The kind name used in metrics and logs.
pub const KIND: &str = "AppRunnerService";

/// The `operationStatus` runway records for an operation it has just started and not yet listed.
const STARTED: &str = "PENDING";

/// Reconciles one AppRunnerService.
pub async fn reconcile(obj: Arc<Compact<AppRunnerService>>, ctx: Arc<Context>) -> Result<Action> {
    reconcile_with_finalizer(KIND, obj, ctx, apply, cleanup).await
}

async fn apply(obj: Arc<AppRunnerService>, ctx: Arc<Context>) -> Result<Action> {
    let previous = obj.status.clone();
    let status = previous.clone().unwrap_or_default();
    let region = obj.region(ctx.aws.default_region());
    let aws = match accounts::resolve(&ctx, obj.as_ref(), &region).await? {
        Ok(aws) => aws,
        Err(refused) => return finish(obj.as_ref(), &ctx, previous.as_ref(), status, refused, region).await,
    };
    let now = k8s_openapi::jiff::Timestamp::now();
    let (mut status, decided) = preview(&obj, &aws, ctx.resync, now).await?;
    let phase = match decided {
        Decided::Conflict(message) => Phase::Stalled {
            reason: "ServiceNameInUse",
            message,
        },
        Decided::Planned {
            next,
            desired,
            service,
        } => {
            let clock = clock(&obj, ctx.resync, now);
            let settled = matches!(next, Plan::Ready { .. });
            // NB: tags only while no operation runs or starts: App Runner may refuse tag calls
            // during one (InvalidStateException is declared), and a failing tag call must never
            // cost the status write that records an operation just started.
            let mutating = matches!(
                next,
                Plan::Create | Plan::Update { .. } | Plan::Pause | Plan::Resume | Plan::Redeploy
            );
            let phase = act(&obj, &ctx, &aws, next, &desired, service.as_ref(), &mut status).await?;
            match service
                .as_ref()
                .filter(|s| !mutating && matches!(s.status.as_str(), "RUNNING" | "PAUSED"))
            {
                Some(s) => {
                    let input = TagInput {
                        arn: &s.arn,
                        spec_tags: &obj.spec.tags,
                        reported: None,
                        settled,
                        clock,
                    };
                    // NB: boxed: the tag calls' futures would otherwise be part of every
                    // reconcile's state.
                    let rejected = Box::pin(tags::reconcile(
                        &ctx,
                        obj.as_ref(),
                        &aws,
                        TagApi::AppRunner,
                        input,
                        &mut status.common,
                    ))
                    .await?;
                    match (rejected, phase) {
                        (Some((reason, message)), Phase::Ready { .. }) => Phase::Stalled { reason, message },
                        (_, phase) => phase,
                    }
                }
                None => phase,
            }
        }
    };
    finish(obj.as_ref(), &ctx, previous.as_ref(), status, phase, region).await
}

/// What a reconcile decided before acting: the service name belongs to someone else, or a plan.
// NB: one value per reconcile, moved once into `act`; boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Decided {
    /// The service by this name is not this resource's (ServiceNameInUse).
    Conflict(String),
    /// The planner's step, with what it was decided from.
    Planned {
        /// The next step.
        next: Plan,
        /// The canonical desired request, with its clears.
        desired: AppRunnerRequest,
        /// The service as App Runner describes it.
        service: Option<ObservedService>,
    },
}

/// The time, resync interval and reconcile-requested-at annotation a plan is made with.
pub fn clock(
    obj: &AppRunnerService,
    resync: std::time::Duration,
    now: k8s_openapi::jiff::Timestamp,
) -> Clock<'_> {
    Clock {
        now,
        resync,
        requested_at: obj
            .annotations()
            .get(crate::api::common::RECONCILE_REQUESTED_ANNOTATION)
            .map(String::as_str),
    }
}

/// What the controller would do for `obj` now, found with read-only calls only: the resolution
/// (status, `spec.serviceArn`, or ListServices by name and the owner tag), the observation, the
/// status as it would be written, and the pure planner's step. A reconcile carries the step out;
/// `runway diff` reports it.
pub async fn preview(
    obj: &AppRunnerService,
    aws: &RegionClients,
    resync: std::time::Duration,
    now: k8s_openapi::jiff::Timestamp,
) -> Result<(AppRunnerServiceStatus, Decided)> {
    let mut status = obj.status.clone().unwrap_or_default();
    let spec_request = AppRunnerRequest::from_spec(&obj.spec);
    if status.common.applied_fields.is_empty()
        && status.common.last_applied_hash.as_deref() == Some(spec_request.digest().as_str())
    {
        // NB: written before runway tracked appliedFields: the last applied request is the spec's.
        status.common.applied_fields = spec_request.fields();
    }
    let desired = spec_request.clearing(&status.common.applied_fields);
    let arn = match resolve(obj, aws, &status).await? {
        Resolved::Conflict(message) => return Ok((status, Decided::Conflict(message))),
        Resolved::Arn(arn) => arn,
    };
    let (service, operations) = observe(aws, arn.as_deref(), &status).await?;
    if let Some(s) = &service {
        status.common.service_arn = Some(s.arn.clone());
        if baseline(&status, &desired, s) {
            // Adopted, or found after a crash: App Runner already runs this spec.
            status.common.last_applied_hash = Some(desired.digest());
            status.common.applied_fields = desired.fields();
            if status.common.last_redeploy_token.is_none() {
                status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
            }
        }
        fill_observed(&mut status, s);
    }
    let tracked = tracked_operation(&status, &operations);
    if let Some(op) = &tracked {
        record_operation(&mut status, &op.id, &op.operation_type, &op.status);
    }
    let next = plan(PlanInput {
        spec: &obj.spec,
        status: &status,
        desired: &desired,
        service: service.as_ref(),
        tracked: tracked.as_ref(),
        newest: operations.first(),
        clock: clock(obj, resync, now),
    });
    Ok((
        status,
        Decided::Planned {
            next,
            desired,
            service,
        },
    ))
}

/// Finds the service this resource manages.
async fn resolve(
    obj: &AppRunnerService,
    aws: &RegionClients,
    status: &AppRunnerServiceStatus,
) -> Result<Resolved> {
    if let Some(arn) = obj
        .spec
        .service_arn
        .clone()
        .or_else(|| status.common.service_arn.clone())
    {
        return Ok(Resolved::Arn(Some(arn)));
    }
    let name = service_name(&obj.spec, &obj.name_any());
    if !valid_service_name(&name) {
        // Nothing can exist under an invalid name; `create_request` reports it.
        return Ok(Resolved::Arn(None));
    }
    let Some(found) = apprunner::find_by_name(aws, &name).await? else {
        return Ok(Resolved::Arn(None));
    };
    match ownership(&found.tags, &obj.namespace().unwrap_or_default(), &obj.name_any()) {
        Ownership::Mine => {
            tracing::info!(kind = KIND, object = %obj.name_any(), arn = %found.arn, "found the service created earlier");
            Ok(Resolved::Arn(Some(found.arn)))
        }
        Ownership::OtherResource(other) => Ok(Resolved::Conflict(format!(
            "App Runner service {name} ({}) belongs to runway resource {other}; service names are \
             unique per Region, so choose another spec.serviceName",
            found.arn
        ))),
        Ownership::NotRunway => Ok(Resolved::Conflict(format!(
            "App Runner service {name} ({}) exists and was not created by runway; set spec.serviceArn \
             to adopt it, or choose another spec.serviceName",
            found.arn
        ))),
    }
}

/// Reads the service and, when they can tell something new (`needs_operations`), its most recent
/// operations.
async fn observe(
    aws: &RegionClients,
    arn: Option<&str>,
    status: &AppRunnerServiceStatus,
) -> Result<(Option<ObservedService>, Vec<ObservedOperation>)> {
    let Some(arn) = arn else {
        return Ok((None, Vec::new()));
    };
    let Some(service) = apprunner::describe(aws, arn).await? else {
        return Ok((None, Vec::new()));
    };
    if service.status == "DELETED" || !needs_operations(status, &service) {
        return Ok((Some(service), Vec::new()));
    }
    let operations = apprunner::list_operations(aws, arn).await?;
    Ok((Some(service), operations))
}

/// The operation runway follows: the one `status.operationId` names (as listed now, or as last
/// recorded when it has dropped off the first page), else the newest one.
fn tracked_operation(
    status: &AppRunnerServiceStatus,
    operations: &[ObservedOperation],
) -> Option<ObservedOperation> {
    let Some(id) = status.operation_id.as_deref() else {
        return operations.first().cloned();
    };
    operations.iter().find(|op| op.id == id).cloned().or_else(|| {
        Some(ObservedOperation {
            id: id.to_string(),
            operation_type: status.operation_type.clone().unwrap_or_default(),
            status: status.operation_status.clone().unwrap_or_default(),
        })
    })
}

fn record_operation(status: &mut AppRunnerServiceStatus, id: &str, kind: &str, op_status: &str) {
    status.operation_id = Some(id.to_string());
    status.operation_type = Some(kind.to_string());
    status.operation_status = Some(op_status.to_string());
}

/// Records an operation runway just started.
fn started(status: &mut AppRunnerServiceStatus, started: &Started, kind: &str) {
    record_operation(status, &started.operation_id, kind, STARTED);
    status.status = Some("OPERATION_IN_PROGRESS".into());
}

/// Copies what DescribeService reports into the status.
fn fill_observed(status: &mut AppRunnerServiceStatus, service: &ObservedService) {
    status.service_id = Some(service.service_id.clone()).filter(|s| !s.is_empty());
    status.service_url = service.service_url.clone();
    status.status = Some(service.status.clone());
}

/// Carries out a plan and returns the phase to report.
async fn act(
    obj: &AppRunnerService,
    ctx: &Context,
    aws: &RegionClients,
    next: Plan,
    desired: &AppRunnerRequest,
    service: Option<&ObservedService>,
    status: &mut AppRunnerServiceStatus,
) -> Result<Phase> {
    let hash = desired.digest();
    let arn = service.map(|s| s.arn.clone()).unwrap_or_default();
    match next {
        Plan::Create => {
            let req = match create_request(&obj.spec, &obj.namespace().unwrap_or_default(), &obj.name_any()) {
                Ok(r) => r,
                Err(message) => {
                    return Ok(Phase::Stalled {
                        reason: "InvalidSpec",
                        message,
                    });
                }
            };
            match apprunner::create(aws, &req).await {
                Ok(op) => {
                    if ctx.failpoint == Some(Failpoint::ExitAfterCreate) {
                        tracing::warn!("failpoint exit-after-create: exiting before the status write");
                        std::process::exit(86);
                    }
                    status.common.service_arn = Some(op.arn.clone());
                    status.common.applied_tags = Some(crate::plan::tags::record(
                        &crate::plan::tags::desired(&obj.spec.tags),
                    ));
                    status.common.last_applied_hash = Some(hash);
                    status.common.applied_fields = desired.fields();
                    clear_rejection(&mut status.common);
                    status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
                    status.service_id = None;
                    status.service_url = None;
                    started(status, &op, "CREATE_SERVICE");
                    let note = format!(
                        "created App Runner service {} ({}), operation {}",
                        req.service_name, op.arn, op.operation_id
                    );
                    events::publish(&ctx.recorder, obj, false, "Created", "Create", note.clone()).await;
                    Ok(Phase::Progressing {
                        reason: "Creating",
                        message: note,
                    })
                }
                Err(err) => reject_terminal(err, hash, &mut status.common),
            }
        }
        Plan::Update { cause } => match apprunner::update(aws, &arn, desired).await {
            Ok(op) => {
                status.common.last_applied_hash = Some(hash);
                status.common.applied_fields = desired.fields();
                clear_rejection(&mut status.common);
                status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
                started(status, &op, "UPDATE_SERVICE");
                let (event, warning, reason, note) = match &cause {
                    UpdateCause::SpecChanged => (
                        "Updated",
                        false,
                        "Updating",
                        format!("sent the new spec to {arn}, operation {}", op.operation_id),
                    ),
                    UpdateCause::Drift(fields) => (
                        "DriftCorrected",
                        true,
                        "CorrectingDrift",
                        format!(
                            "App Runner differed from the spec in {}; sent the spec again, operation {}",
                            fields.join(", "),
                            op.operation_id
                        ),
                    ),
                    UpdateCause::Rebuild => (
                        "Rebuilding",
                        false,
                        "Rebuilding",
                        format!(
                            "{arn} is CREATE_FAILED; rebuilding it with UpdateService, operation {}",
                            op.operation_id
                        ),
                    ),
                    UpdateCause::Retry => (
                        "Updated",
                        false,
                        "Updating",
                        format!(
                            "redeployToken changed after a rollback; sent the spec to {arn} again, operation {}",
                            op.operation_id
                        ),
                    ),
                };
                events::publish(&ctx.recorder, obj, warning, event, "Update", note.clone()).await;
                Ok(Phase::Progressing {
                    reason,
                    message: note,
                })
            }
            // NB: sources disagree on whether App Runner updates a paused service
            // (docs/aws-behaviour.md A3). Under the reading that it refuses, the refusal is recorded
            // like any rejection (retried after its backoff), never resent on every poll.
            Err(err) if service.is_some_and(|s| s.status == "PAUSED") && err.aws().is_some() => {
                let detail = err
                    .aws()
                    .map(|f| format!("{}: {}: {}", f.operation, f.code, f.message))
                    .unwrap_or_default();
                crate::plan::record_rejection(&mut status.common, &hash, k8s_openapi::jiff::Timestamp::now());
                Ok(Phase::Stalled {
                    reason: "PausedWithPendingChange",
                    message: format!(
                        "App Runner refused to update the PAUSED service ({detail}); set spec.paused \
                         to false to apply the change"
                    ),
                })
            }
            Err(err) if is_busy(&err) => Ok(busy(&err)),
            Err(err) => reject_terminal(err, hash, &mut status.common),
        },
        Plan::Pause | Plan::Resume => {
            let pausing = next == Plan::Pause;
            let result = if pausing {
                apprunner::pause(aws, &arn).await
            } else {
                apprunner::resume(aws, &arn).await
            };
            let (kind, event, reason) = if pausing {
                ("PAUSE_SERVICE", "Pausing", "Pausing")
            } else {
                ("RESUME_SERVICE", "Resuming", "Resuming")
            };
            match result {
                Ok(op) => {
                    started(status, &op, kind);
                    let note = format!(
                        "spec.paused is {}: {} {arn}, operation {}",
                        pausing,
                        if pausing { "pausing" } else { "resuming" },
                        op.operation_id
                    );
                    events::publish(&ctx.recorder, obj, false, event, event, note.clone()).await;
                    Ok(Phase::Progressing {
                        reason,
                        message: note,
                    })
                }
                Err(err) if is_busy(&err) => Ok(busy(&err)),
                Err(err) => refused(err),
            }
        }
        Plan::Redeploy => match apprunner::start_deployment(aws, &arn).await {
            Ok(op) => {
                status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
                started(status, &op, "START_DEPLOYMENT");
                let note = format!(
                    "started a new deployment of {arn} for redeployToken {:?}, operation {}",
                    obj.spec.redeploy_token.as_deref().unwrap_or_default(),
                    op.operation_id
                );
                events::publish(&ctx.recorder, obj, false, "Redeployed", "Redeploy", note.clone()).await;
                Ok(Phase::Progressing {
                    reason: "Redeploying",
                    message: note,
                })
            }
            Err(err) if is_busy(&err) => Ok(busy(&err)),
            // NB: the token is not recorded, so the redeploy is not silently dropped: a refusal
            // (InvalidRequestException included) stalls with AWS's message and is tried again at
            // the resync interval, never in a tight loop.
            Err(err) => refused(err),
        },
        Plan::Wait { reason, message } => Ok(Phase::Progressing { reason, message }),
        Plan::Stalled { reason, message } => Ok(Phase::Stalled { reason, message }),
        Plan::Ready { reason, message } => Ok(Phase::Ready { reason, message }),
    }
}

/// Whether App Runner refused a call because another operation is running.
fn is_busy(err: &Error) -> bool {
    err.aws().is_some_and(|f| f.kind == AwsErrorKind::InvalidState)
}

/// Someone else started an operation between runway's read and its call: wait for it, without
/// stalling, and send the latest spec once it ends.
fn busy(err: &Error) -> Phase {
    let detail = err
        .aws()
        .map(|f| format!("{}: {}: {}", f.operation, f.code, f.message))
        .unwrap_or_else(|| err.to_string());
    Phase::Progressing {
        reason: "OperationInProgress",
        message: format!("App Runner is busy with another operation ({detail}); retrying when it ends"),
    }
}

/// A pause, resume or deployment that AWS refused: terminal errors stall until the next change or
/// resync; retryable ones go back to `error_policy`.
fn refused(err: Error) -> Result<Phase> {
    match err.aws() {
        Some(f) if f.kind == AwsErrorKind::Terminal => Ok(Phase::Stalled {
            reason: "AwsRejectedCall",
            message: format!("{} failed: {}: {}", f.operation, f.code, f.message),
        }),
        _ => Err(err),
    }
}

/// Deletes the App Runner service (unless retained) and follows the delete operation until the
/// service is DELETED or gone.
async fn cleanup(obj: Arc<AppRunnerService>, ctx: Arc<Context>) -> Result<Action> {
    let status = obj.status.clone().unwrap_or_default();
    let (spec_arn, status_arn) = (
        obj.spec.service_arn.as_deref(),
        status.common.service_arn.as_deref(),
    );
    if let Some(done) = retain_if_asked(
        ctx.as_ref(),
        obj.as_ref(),
        obj.spec.deletion_policy,
        spec_arn,
        status_arn,
    )
    .await
    {
        return Ok(done);
    }
    let region = obj.region(ctx.aws.default_region());
    let aws = match accounts::resolve(&ctx, obj.as_ref(), &region).await? {
        Ok(aws) => aws,
        // NB: the finalizer stays: the service may exist in the account runway must not act in.
        Err(refused) => {
            let previous = obj.status.clone();
            return finish(obj.as_ref(), &ctx, previous.as_ref(), status, refused, region).await;
        }
    };
    let arn = match resolve(&obj, &aws, &status).await? {
        Resolved::Arn(Some(arn)) => arn,
        // NB: nothing was created, or the service with our name is not ours: nothing to delete. The
        // finalizer goes and the object with it; the Event says why nothing was deleted.
        Resolved::Arn(None) => {
            let note = "no App Runner service was created for this resource; nothing to delete".to_string();
            events::publish(
                &ctx.recorder,
                obj.as_ref(),
                false,
                "NothingToDelete",
                "Delete",
                note,
            )
            .await;
            return Ok(Action::await_change());
        }
        Resolved::Conflict(message) => {
            let note = format!("not deleting: {message}");
            events::publish(&ctx.recorder, obj.as_ref(), true, "NotOwned", "Delete", note).await;
            return Ok(Action::await_change());
        }
    };
    let observed = apprunner::describe(&aws, &arn).await?;
    let step = crate::plan::apprunner::delete_step(observed.as_ref().map(|s| s.status.as_str()));
    let delete = async {
        Ok(apprunner::delete(&aws, &arn)
            .await?
            .map(|op| format!(", operation {op}")))
    };
    delete_service(
        ctx.as_ref(),
        obj.as_ref(),
        "App Runner service",
        arn.clone(),
        step,
        delete,
    )
    .await
}
