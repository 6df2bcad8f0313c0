//! The `AppRunnerService` kind: its App Runner calls behind [`ServiceKind`].
//!
//! Steps: `find_by_name` (ListServices, then the owner tag by ListTagsForResource) → `observe` the
//! service (DescribeService) and, when they can tell something new, its operations
//! (ListOperations), read-only → `decide` (`plan::apprunner::decide`, pure) → `perform` Create,
//! Update, Pause, Resume or Redeploy (one mutating call at most, which starts an App Runner
//! operation whose ID goes into status) → `delete_step` and `delete` for cleanup. While an
//! operation runs, the resource requeues every few seconds and follows it to SUCCEEDED, FAILED or
//! ROLLBACK_*. The shared lifecycle is in `controller::reconcile`.

use kube::ResourceExt;

use super::kind::{Act, Found, Planned, ServiceKind, TagTarget};
use super::tags::TagApi;
use crate::api::apprunner::{AppRunnerService, AppRunnerServiceStatus};
use crate::api::common::Tag;
use crate::aws::RegionClients;
use crate::aws::apprunner::{self, Started};
use crate::error::AwsErrorKind;
use crate::plan::apprunner::decide::{Observation, started};
use crate::plan::apprunner::{
    AppRunnerRequest, ObservedService, Plan, UpdateCause, create_request, delete_refusal, needs_operations,
    service_name, valid_service_name,
};
use crate::plan::convergence::Drift;
use crate::plan::{Clock, DeleteStep, Phase};
use crate::{Error, Result};

/// The kind name used in metrics and logs.
pub const KIND: &str = "AppRunnerService";

impl ServiceKind for AppRunnerService {
    const KIND: &'static str = KIND;
    const SERVICE: &'static str = "App Runner service";
    const TAG_API: TagApi = TagApi::AppRunner;
    type Observation = Observation;
    type Plan = Plan;
    type Desired = AppRunnerRequest;

    async fn find_by_name(&self, aws: &RegionClients) -> Result<Option<Found>> {
        let name = service_name(&self.spec, &self.name_any());
        if !valid_service_name(&name) {
            // Nothing can exist under an invalid name; `create_request` reports it.
            return Ok(None);
        }
        Ok(apprunner::find_by_name(aws, &name).await?.map(|found| Found {
            arn: found.arn,
            tags: found.tags,
            label: name,
            foreign: None,
        }))
    }

    async fn owner_tags(aws: &RegionClients, arn: &str) -> Result<Option<Vec<Tag>>> {
        match apprunner::list_tags(aws, arn).await {
            Ok(tags) => Ok(Some(tags)),
            Err(err) if err.aws_kind() == Some(AwsErrorKind::NotFound) => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn observe(
        &self,
        aws: &RegionClients,
        arn: Option<&str>,
        status: &mut AppRunnerServiceStatus,
    ) -> Result<Observation> {
        let Some(arn) = arn else {
            return Ok(Observation::default());
        };
        let Some(service) = apprunner::describe(aws, arn).await? else {
            return Ok(Observation::default());
        };
        let operations = if service.status == "DELETED" || !needs_operations(status, &service) {
            Vec::new()
        } else {
            apprunner::list_operations(aws, arn).await?
        };
        Ok(Observation {
            service: Some(service),
            operations,
        })
    }

    fn decide(
        &self,
        status: &mut AppRunnerServiceStatus,
        observation: &Observation,
        clock: Clock<'_>,
    ) -> (Plan, AppRunnerRequest) {
        crate::plan::apprunner::decide::decide(self, status, observation, clock)
    }

    fn mutates(plan: &Plan) -> bool {
        matches!(
            plan,
            Plan::Create | Plan::Update { .. } | Plan::Pause | Plan::Resume | Plan::Redeploy
        )
    }

    fn settled(plan: &Plan) -> bool {
        matches!(plan, Plan::Report(Phase::Ready { .. }))
    }

    fn tag_target(observation: &Observation) -> Option<TagTarget> {
        let service = observation.service.as_ref()?;
        matches!(service.status.as_str(), "RUNNING" | "PAUSED").then(|| TagTarget {
            arn: service.arn.clone(),
            reported: None,
        })
    }

    fn drift_correction(planned: &Planned<Self>) -> Option<Drift> {
        let Plan::Update {
            cause: UpdateCause::Drift(fields),
        } = &planned.next
        else {
            return None;
        };
        let service = planned.observation.service.as_ref()?;
        Some(Drift {
            fields: fields.clone(),
            spec: serde_json::to_value(&planned.desired).unwrap_or_default(),
            aws: serde_json::to_value(&service.config).unwrap_or_default(),
        })
    }

    fn report(phase: Phase) -> Plan {
        Plan::Report(phase)
    }

    async fn perform(act: &mut Act<'_, Self>, planned: Planned<Self>) -> Result<Phase> {
        let Planned {
            next,
            desired,
            observation,
            ..
        } = planned;
        let service = observation.service.as_ref();
        let arn = service.map(|s| s.arn.clone()).unwrap_or_default();
        match next {
            Plan::Create => create(act, &desired).await,
            Plan::Update { cause } => update(act, &arn, &desired, cause, service).await,
            Plan::Pause => pause_or_resume(act, &arn, true).await,
            Plan::Resume => pause_or_resume(act, &arn, false).await,
            Plan::Redeploy => redeploy(act, &arn).await,
            Plan::Report(phase) => Ok(phase),
        }
    }

    async fn delete_step(aws: &RegionClients, arn: &str) -> Result<DeleteStep> {
        let observed = apprunner::describe(aws, arn).await?;
        Ok(crate::plan::apprunner::delete_step(
            observed.as_ref().map(|s| s.status.as_str()),
        ))
    }

    async fn delete(aws: &RegionClients, arn: &str) -> Result<Option<String>> {
        match apprunner::delete(aws, arn).await {
            Ok(op) => Ok(op.map(|op| format!(", operation {op}"))),
            // NB: a VPC ingress connection blocks the delete until someone removes it: a refusal
            // (Stalled, retried with backoff up to the resync), not App Runner being busy
            // (docs/aws-behaviour.md A25).
            Err(err) => Err(
                match err.aws().and_then(|f| delete_refusal(arn, &f.code, &f.message)) {
                    Some(refusal) => Error::Refused {
                        reason: refusal.reason,
                        message: refusal.message,
                    },
                    None => err,
                },
            ),
        }
    }
}

type AppRunnerAct<'a, 'b> = &'a mut Act<'b, AppRunnerService>;

/// Records an operation runway just started.
fn record_started(act: AppRunnerAct<'_, '_>, op: &Started, kind: &str) {
    started(&mut act.status, &op.operation_id, kind);
}

async fn create(act: AppRunnerAct<'_, '_>, desired: &AppRunnerRequest) -> Result<Phase> {
    let obj = act.obj;
    let req = match act.create_request(|owner| create_request(&obj.spec, owner)) {
        Ok(r) => r,
        Err(phase) => return Ok(phase),
    };
    let op = match apprunner::create(act.aws, &req).await {
        Ok(op) => op,
        Err(err) => return act.rejected(err, desired),
    };
    act.created(&op.arn, desired, &obj.spec.tags, obj.spec.redeploy_token.clone());
    act.status.service_id = None;
    act.status.service_url = None;
    record_started(act, &op, "CREATE_SERVICE");
    let note = format!(
        "created App Runner service {} ({}), operation {}",
        req.service_name, op.arn, op.operation_id
    );
    act.publish(false, "Created", "Create", note.clone()).await;
    Ok(Phase::Progressing {
        reason: "Creating",
        message: note,
    })
}

async fn update(
    act: AppRunnerAct<'_, '_>,
    arn: &str,
    desired: &AppRunnerRequest,
    cause: UpdateCause,
    service: Option<&ObservedService>,
) -> Result<Phase> {
    let op = match apprunner::update(act.aws, arn, desired).await {
        Ok(op) => op,
        // NB: sources disagree on whether App Runner updates a paused service
        // (docs/aws-behaviour.md A3). Under the reading that it refuses, the refusal is recorded
        // like any rejection (retried after its backoff), never resent on every poll.
        Err(err)
            if service.is_some_and(|s| s.status == "PAUSED")
                && err.aws_kind() == Some(AwsErrorKind::Terminal) =>
        {
            return Ok(paused_refusal(act, &err, desired));
        }
        Err(err) if is_busy(&err) => return Ok(busy(&err)),
        Err(err) => return act.rejected(err, desired),
    };
    act.accepted(desired, act.obj.spec.redeploy_token.clone());
    record_started(act, &op, "UPDATE_SERVICE");
    let (event, warning, reason, note) = updated(&cause, arn, &op.operation_id);
    act.publish(warning, event, "Update", note.clone()).await;
    Ok(Phase::Progressing {
        reason,
        message: note,
    })
}

/// The Event (reason, warning) and the condition reason and message of an update, by its cause.
fn updated(cause: &UpdateCause, arn: &str, op: &str) -> (&'static str, bool, &'static str, String) {
    match cause {
        UpdateCause::SpecChanged => (
            "Updated",
            false,
            "Updating",
            format!("sent the new spec to {arn}, operation {op}"),
        ),
        UpdateCause::Drift(fields) => (
            "DriftCorrected",
            true,
            "CorrectingDrift",
            format!(
                "App Runner differed from the spec in {}; sent the spec again, operation {op}",
                fields.join(", ")
            ),
        ),
        UpdateCause::Rebuild => (
            "Rebuilding",
            false,
            "Rebuilding",
            format!("{arn} is CREATE_FAILED; rebuilding it with UpdateService, operation {op}"),
        ),
        UpdateCause::Retry => (
            "Updated",
            false,
            "Updating",
            format!("redeployToken changed after a rollback; sent the spec to {arn} again, operation {op}"),
        ),
    }
}

/// App Runner refused to update a PAUSED service: recorded like a rejection.
fn paused_refusal(act: AppRunnerAct<'_, '_>, err: &Error, desired: &AppRunnerRequest) -> Phase {
    let detail = err.aws().map(|f| f.summary()).unwrap_or_default();
    crate::plan::record_rejection(
        act.common(),
        &desired.digest(),
        k8s_openapi::jiff::Timestamp::now(),
    );
    Phase::Stalled {
        reason: "PausedWithPendingChange",
        message: format!(
            "App Runner refused to update the PAUSED service ({detail}); set spec.paused to false to \
             apply the change"
        ),
    }
}

async fn pause_or_resume(act: AppRunnerAct<'_, '_>, arn: &str, pausing: bool) -> Result<Phase> {
    let result = if pausing {
        apprunner::pause(act.aws, arn).await
    } else {
        apprunner::resume(act.aws, arn).await
    };
    let (kind, event, verb) = if pausing {
        ("PAUSE_SERVICE", "Pausing", "pausing")
    } else {
        ("RESUME_SERVICE", "Resuming", "resuming")
    };
    let op = match result {
        Ok(op) => op,
        Err(err) if is_busy(&err) => return Ok(busy(&err)),
        Err(err) => return refused(err),
    };
    record_started(act, &op, kind);
    let note = format!(
        "spec.paused is {pausing}: {verb} {arn}, operation {}",
        op.operation_id
    );
    act.publish(false, event, event, note.clone()).await;
    Ok(Phase::Progressing {
        reason: event,
        message: note,
    })
}

async fn redeploy(act: AppRunnerAct<'_, '_>, arn: &str) -> Result<Phase> {
    let op = match apprunner::start_deployment(act.aws, arn).await {
        Ok(op) => op,
        Err(err) if is_busy(&err) => return Ok(busy(&err)),
        // NB: the token is not recorded, so the redeploy is not silently dropped: a refusal
        // (InvalidRequestException included) stalls with AWS's message and is tried again at
        // the resync interval, never in a tight loop.
        Err(err) => return refused(err),
    };
    act.common().last_redeploy_token = act.obj.spec.redeploy_token.clone();
    record_started(act, &op, "START_DEPLOYMENT");
    let note = format!(
        "started a new deployment of {arn} for redeployToken {:?}, operation {}",
        act.obj.spec.redeploy_token.as_deref().unwrap_or_default(),
        op.operation_id
    );
    act.publish(false, "Redeployed", "Redeploy", note.clone()).await;
    Ok(Phase::Progressing {
        reason: "Redeploying",
        message: note,
    })
}

/// Whether App Runner refused a call because another operation is running.
fn is_busy(err: &Error) -> bool {
    err.aws().is_some_and(|f| f.kind == AwsErrorKind::InvalidState)
}

/// Someone else started an operation between runway's read and its call: wait for it, without
/// stalling, and send the latest spec once it ends.
fn busy(err: &Error) -> Phase {
    let detail = err.aws().map(|f| f.summary()).unwrap_or_else(|| err.to_string());
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
            message: f.summary(),
        }),
        _ => Err(err),
    }
}
