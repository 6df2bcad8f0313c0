//! The `ExpressService` reconciler.
//!
//! Pipeline: `resolve` the service ARN (status, spec.serviceArn, or a lookup by name and owner tag so
//! a crash between create and the status write never creates a second service; needs AWS) →
//! `observe` the service and its current deployment (AWS, read-only) → `plan::express::plan` (pure) →
//! `act` on the plan (AWS, mutating) → `lifecycle::finish` (conditions and the status write,
//! Kubernetes). `lifecycle` also provides the finalizer wrapper; deletion goes through `cleanup`.

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::cache::Compact;
use super::lifecycle::Managed;
use super::lifecycle::{
    Resolved, delete_service, finish, reconcile_with_finalizer, reject_terminal, retain_if_asked,
};
use super::tags::{self, TagApi, TagInput};
use super::{Context, Failpoint, accounts, events};
use crate::api::common::RECONCILE_REQUESTED_ANNOTATION;
use crate::api::express::{AwaitedRollout, ExpressService, ExpressServiceStatus};
use crate::aws::RegionClients;
use crate::aws::ecs;
use crate::plan::express::{
    Applied, ExpressRequest, OWNER_TAG, ObservedDeployment, ObservedExpress, Plan, PlanInput, create_request,
    known_ended_deployment, owner, plan, redacted,
};
use crate::plan::{Clock, Phase, clear_rejection};
use crate::{Error, Result};

/// The kind name used in metrics and logs.
pub const KIND: &str = "ExpressService";

/// Reconciles one ExpressService.
pub async fn reconcile(obj: Arc<Compact<ExpressService>>, ctx: Arc<Context>) -> Result<Action> {
    reconcile_with_finalizer(KIND, obj, ctx, apply, cleanup).await
}

async fn apply(obj: Arc<ExpressService>, ctx: Arc<Context>) -> Result<Action> {
    let previous = obj.status.clone();
    let region = obj.region(ctx.aws.default_region());
    let aws = match accounts::resolve(&ctx, obj.as_ref(), &region).await? {
        Ok(aws) => aws,
        Err(refused) => {
            let status = previous.clone().unwrap_or_default();
            return finish(obj.as_ref(), &ctx, previous.as_ref(), status, refused, region).await;
        }
    };
    let now = Timestamp::now();
    let (status, decided) = preview(&obj, &aws, ctx.resync, now).await?;
    let mut step = Step {
        obj: &obj,
        ctx: &ctx,
        aws: &aws,
        status,
    };
    let phase = match decided {
        Decided::Conflict(message) => Phase::Stalled {
            reason: "ServiceNameInUse",
            message,
        },
        Decided::Planned {
            next,
            desired,
            service,
            deployment,
        } => {
            let clock = clock(&obj, ctx.resync, now);
            let settled = matches!(next, Plan::Ready { .. });
            // NB: after a mutating call the tags wait for the next reconcile (a few seconds away),
            // so that a failing tag call can never cost the status write that records the call.
            let mutating = matches!(next, Plan::Create | Plan::Update { .. } | Plan::Redeploy);
            let phase = step
                .act(next, desired, service.as_ref(), deployment.as_ref())
                .await?;
            match service
                .as_ref()
                .filter(|s| !mutating && s.status_code.as_deref() == Some("ACTIVE"))
            {
                Some(s) => step.tags(s, settled, clock, phase).await?,
                None => phase,
            }
        }
    };
    finish(obj.as_ref(), &ctx, previous.as_ref(), step.status, phase, region).await
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
        desired: ExpressRequest,
        /// The service as AWS describes it.
        service: Option<ObservedExpress>,
        /// The deployment planned with.
        deployment: Option<ObservedDeployment>,
    },
}

/// The time, resync interval and reconcile-requested-at annotation a plan is made with.
pub fn clock(obj: &ExpressService, resync: std::time::Duration, now: Timestamp) -> Clock<'_> {
    Clock {
        now,
        resync,
        requested_at: obj
            .annotations()
            .get(RECONCILE_REQUESTED_ANNOTATION)
            .map(String::as_str),
    }
}

/// What the controller would do for `obj` now, found with read-only calls only: the resolution
/// (status, `spec.serviceArn`, or the lookup by name and owner tag), the observation, the status as
/// it would be written, and the pure planner's step. A reconcile carries the step out; `runway
/// diff` reports it.
pub async fn preview(
    obj: &ExpressService,
    aws: &RegionClients,
    resync: std::time::Duration,
    now: Timestamp,
) -> Result<(ExpressServiceStatus, Decided)> {
    let mut status = obj.status.clone().unwrap_or_default();
    let arn = match resolve(obj, aws, &status).await? {
        Resolved::Conflict(message) => return Ok((status, Decided::Conflict(message))),
        Resolved::Arn(arn) => arn,
    };
    let (service, current) = observe(aws, arn.as_deref(), &status).await?;
    let deployment = awaited_deployment(aws, &mut status, service.as_ref(), current).await?;
    observed(obj, &mut status, service.as_ref(), deployment.as_ref());
    let desired = desired(obj, &mut status);
    let next = plan(PlanInput {
        spec: &obj.spec,
        status: &status,
        desired: &desired,
        service: service.as_ref(),
        deployment: deployment.as_ref(),
        clock: clock(obj, resync, now),
    });
    Ok((
        status,
        Decided::Planned {
            next,
            desired,
            service,
            deployment,
        },
    ))
}

/// Finds the service this resource manages.
async fn resolve(
    obj: &ExpressService,
    aws: &RegionClients,
    status: &ExpressServiceStatus,
) -> Result<Resolved> {
    if let Some(arn) = obj
        .spec
        .service_arn
        .clone()
        .or_else(|| status.common.service_arn.clone())
    {
        return Ok(Resolved::Arn(Some(arn)));
    }
    let name = crate::plan::express::service_name(&obj.spec, &obj.name_any());
    let cluster = obj.spec.cluster.clone().unwrap_or_else(|| "default".into());
    let Some(found) = ecs::find_by_name(aws, &cluster, &name).await? else {
        return Ok(Resolved::Arn(None));
    };
    let me = owner(&obj.namespace().unwrap_or_default(), &obj.name_any());
    let tag = found
        .tags
        .iter()
        .find(|t| t.key == OWNER_TAG)
        .and_then(|t| t.value.clone());
    match tag {
        Some(t) if t == me => {
            tracing::info!(kind = KIND, object = %me, arn = %found.arn, "found the service created earlier");
            Ok(Resolved::Arn(Some(found.arn)))
        }
        Some(other) => Ok(Resolved::Conflict(format!(
            "service {name} in cluster {cluster} belongs to runway resource {other}; choose another spec.serviceName"
        ))),
        None => Ok(Resolved::Conflict(format!(
            "service {name} in cluster {cluster} already exists and was not created by runway ({}); \
             set spec.serviceArn to adopt it or choose another spec.serviceName",
            found.arn
        ))),
    }
}

/// Describes the service and its current deployment. The deployment is described only when the
/// status does not already hold it in an ended state (`known_ended_deployment`).
async fn observe(
    aws: &RegionClients,
    arn: Option<&str>,
    status: &ExpressServiceStatus,
) -> Result<(Option<ObservedExpress>, Option<ObservedDeployment>)> {
    let Some(arn) = arn else { return Ok((None, None)) };
    let Some(service) = ecs::describe(aws, arn).await? else {
        return Ok((None, None));
    };
    let current = service.current_deployment.as_deref();
    let deployment = match (current, known_ended_deployment(status, current)) {
        (_, Some(known)) => Some(known),
        (Some(d), None) => ecs::describe_deployment(aws, d).await?,
        (None, None) => None,
    };
    Ok((Some(service), deployment))
}

/// The deployment to plan with: the current one, unless runway awaits a rollout that the current
/// deployment does not carry. AWS reports no `currentDeployment` right after a create (and, briefly,
/// at other times) and keeps the previous one current for a while after an update, so runway then
/// looks for the deployment of its own rollout in ListServiceDeployments: the one of the awaited
/// revision when AWS said which, else the newest one other than the deployment that was current
/// before runway's call. When AWS lists none yet, the current one stays and the planner waits.
async fn awaited_deployment(
    aws: &RegionClients,
    status: &mut ExpressServiceStatus,
    service: Option<&ObservedExpress>,
    current: Option<ObservedDeployment>,
) -> Result<Option<ObservedDeployment>> {
    let (Some(service), Some(awaited)) = (service, status.awaited_rollout.clone()) else {
        return Ok(current);
    };
    let previous = awaited.previous_deployment.as_deref();
    let carries = |d: &ObservedDeployment| match awaited.service_revision_arn.as_deref() {
        Some(revision) => d.target_revision.as_deref() == Some(revision),
        None => Some(d.arn.as_str()) != previous,
    };
    if current.as_ref().is_some_and(carries) {
        return Ok(current);
    }
    let listed = ecs::list_deployments(aws, service.cluster.as_deref(), &service.arn).await?;
    let found = listed.into_iter().find(|d| carries(d));
    // NB: a deployment that ECS stopped because a later one (someone else's update) replaced it is
    // superseded: the current deployment decides then, and drift detection compares the spec with it.
    let superseded = match (&found, &current) {
        (Some(f), Some(c)) => f.status == "STOPPED" && c.arn != f.arn && Some(c.arn.as_str()) != previous,
        _ => false,
    };
    if superseded {
        tracing::info!(cause = %awaited.cause, "the awaited rollout was superseded by a later deployment");
        status.awaited_rollout = None;
        return Ok(current);
    }
    Ok(found.or(current))
}

/// Copies what AWS reports into the status: names, status code, the configuration (redacted),
/// and the current deployment.
fn observed(
    obj: &ExpressService,
    status: &mut ExpressServiceStatus,
    service: Option<&ObservedExpress>,
    deployment: Option<&ObservedDeployment>,
) {
    if let Some(s) = service {
        status.common.service_arn = Some(s.arn.clone());
        status.service_name = s.service_name.clone();
        status.cluster = s.cluster.clone();
        status.status_code = s.status_code.clone();
        status.status_reason = s.status_reason.clone();
        status.updated_at = s.updated_at.clone();
        if let Some(current) = crate::plan::express::current_configuration(s, deployment) {
            status.target_configuration = Some(redacted(current, &obj.spec));
        }
        if s.current_deployment.is_some() {
            status.current_deployment = s.current_deployment.clone();
        }
    }
    if let Some(d) = deployment {
        status.current_deployment = Some(d.arn.clone());
        status.deployment_status = Some(d.status.clone());
        status.deployment_status_reason = d.status_reason.clone();
        status.deployment_target_revision = d.target_revision.clone();
    }
    status.endpoint = status
        .target_configuration
        .as_ref()
        .and_then(|t| t.ingress_paths.first())
        .map(|p| p.endpoint.clone());
}

/// The desired request, clearing what runway applied earlier and the spec dropped. A status
/// written before runway tracked `appliedFields` gets them from the spec it last applied.
fn desired(obj: &ExpressService, status: &mut ExpressServiceStatus) -> ExpressRequest {
    let spec_request = ExpressRequest::from_spec(&obj.spec);
    let common = &mut status.common;
    if common.applied_fields.is_empty()
        && common.last_applied_hash.as_deref() == Some(spec_request.digest().as_str())
    {
        common.applied_fields = spec_request.fields();
    }
    spec_request.clearing(&common.applied_fields)
}

/// One reconcile's act layer: the status it builds and the calls that build it.
struct Step<'a> {
    obj: &'a ExpressService,
    ctx: &'a Context,
    aws: &'a RegionClients,
    status: ExpressServiceStatus,
}

impl Step<'_> {
    /// Records a request AWS accepted.
    fn accepted(&mut self, desired: &ExpressRequest) {
        let common = &mut self.status.common;
        common.last_applied_hash = Some(desired.digest());
        common.applied_fields = desired.fields();
        common.last_redeploy_token = self.obj.spec.redeploy_token.clone();
        clear_rejection(common);
    }

    /// Carries out a plan and returns the phase to report.
    async fn act(
        &mut self,
        next: Plan,
        desired: ExpressRequest,
        service: Option<&ObservedExpress>,
        deployment: Option<&ObservedDeployment>,
    ) -> Result<Phase> {
        let previous_deployment = deployment
            .map(|d| d.arn.clone())
            .or_else(|| self.status.current_deployment.clone());
        match next {
            Plan::Create => self.create(desired).await,
            Plan::Update { drifted } => {
                let arn = service.map(|s| s.arn.clone()).unwrap_or_default();
                self.update(&arn, desired, drifted, previous_deployment).await
            }
            Plan::Baseline => Ok(self.baseline(&desired, service)),
            Plan::Redeploy => {
                let Some(service) = service else {
                    return Err(Error::InvalidSpec("redeploy planned without a service".into()));
                };
                self.redeploy(service, previous_deployment).await
            }
            Plan::Wait { reason, message } => Ok(Phase::Progressing { reason, message }),
            Plan::Stalled { reason, message } => Ok(Phase::Stalled { reason, message }),
            Plan::Ready { message } => {
                self.status.awaited_rollout = None;
                Ok(Phase::Ready {
                    reason: "Ready",
                    message,
                })
            }
        }
    }

    async fn create(&mut self, desired: ExpressRequest) -> Result<Phase> {
        let obj = self.obj;
        let req = match create_request(&obj.spec, &obj.namespace().unwrap_or_default(), &obj.name_any()) {
            Ok(r) => r,
            Err(message) => {
                return Ok(Phase::Stalled {
                    reason: "InvalidSpec",
                    message,
                });
            }
        };
        let applied = match ecs::create(self.aws, &req).await {
            Ok(applied) => applied,
            Err(err) => return reject_terminal(err, desired.digest(), &mut self.status.common),
        };
        if self.ctx.failpoint == Some(Failpoint::ExitAfterCreate) {
            tracing::warn!("failpoint exit-after-create: exiting before the status write");
            std::process::exit(86);
        }
        self.accepted(&desired);
        self.status.common.applied_tags = Some(crate::plan::tags::record(&crate::plan::tags::desired(
            &obj.spec.tags,
        )));
        self.status.common.service_arn = Some(applied.arn.clone());
        self.record_rollout("Create", &applied, None);
        events::publish(
            &self.ctx.recorder,
            obj,
            false,
            "Created",
            "Create",
            format!("created Express service {} ({})", req.service_name, applied.arn),
        )
        .await;
        Ok(Phase::Progressing {
            reason: "Creating",
            message: format!("created {}; waiting for the first deployment", applied.arn),
        })
    }

    async fn update(
        &mut self,
        arn: &str,
        desired: ExpressRequest,
        drifted: Vec<String>,
        previous_deployment: Option<String>,
    ) -> Result<Phase> {
        if desired.is_empty() {
            self.accepted(&desired);
            return Ok(Phase::Ready {
                reason: "Adopted",
                message: format!("managing {arn} as is: the spec sets no configuration"),
            });
        }
        let applied = match ecs::update(self.aws, arn, &desired).await {
            Ok(applied) => applied,
            Err(err) => return reject_terminal(err, desired.digest(), &mut self.status.common),
        };
        self.accepted(&desired);
        self.record_rollout("Update", &applied, previous_deployment);
        let cleared = if desired.clear.is_empty() {
            String::new()
        } else {
            format!(" and cleared {}", desired.clear.join(", "))
        };
        let (event, reason, note) = if drifted.is_empty() {
            (
                "Updated",
                "Updating",
                format!("sent the new spec to {arn}{cleared}"),
            )
        } else {
            (
                "DriftCorrected",
                "CorrectingDrift",
                format!(
                    "AWS differed from the spec in {}; sent the spec again",
                    drifted.join(", ")
                ),
            )
        };
        events::publish(
            &self.ctx.recorder,
            self.obj,
            !drifted.is_empty(),
            event,
            "Update",
            note.clone(),
        )
        .await;
        Ok(Phase::Progressing {
            reason,
            message: note,
        })
    }

    /// AWS already runs the spec: record it as applied, send nothing, and wait for the current
    /// deployment of that configuration to be seen succeeding.
    fn baseline(&mut self, desired: &ExpressRequest, service: Option<&ObservedExpress>) -> Phase {
        self.accepted(desired);
        let revision = service
            .and_then(|s| s.active_configurations.last())
            .and_then(|c| c.service_revision_arn.clone());
        self.status.awaited_rollout = Some(AwaitedRollout {
            cause: "Found".into(),
            service_revision_arn: revision,
            previous_deployment: None,
        });
        Phase::Progressing {
            reason: "AlreadyApplied",
            message: "AWS already runs this spec; recorded it without an update and waiting to see its \
                      deployment succeed"
                .into(),
        }
    }

    async fn redeploy(
        &mut self,
        service: &ObservedExpress,
        previous_deployment: Option<String>,
    ) -> Result<Phase> {
        let arn = service.arn.clone();
        let cluster = service.cluster.clone().or(self.obj.spec.cluster.clone());
        if let Err(err) = ecs::force_new_deployment(self.aws, cluster.as_deref(), &arn).await {
            // NB: a failed redeploy keeps the old token, so it is tried again; a terminal failure
            // stalls (with AWS's message) and is retried at the resync interval.
            return match err.aws() {
                Some(f) if f.kind == crate::error::AwsErrorKind::Terminal => Ok(Phase::Stalled {
                    reason: "AwsRejectedRedeploy",
                    message: format!("{} failed: {}: {}", f.operation, f.code, f.message),
                }),
                _ => Err(err),
            };
        }
        self.status.common.last_redeploy_token = self.obj.spec.redeploy_token.clone();
        self.status.awaited_rollout = Some(AwaitedRollout {
            cause: "Redeploy".into(),
            service_revision_arn: None,
            previous_deployment,
        });
        let note = format!(
            "forced a new deployment of {arn} for redeployToken {:?}",
            self.obj.spec.redeploy_token.as_deref().unwrap_or_default()
        );
        events::publish(
            &self.ctx.recorder,
            self.obj,
            false,
            "Redeployed",
            "Redeploy",
            note.clone(),
        )
        .await;
        Ok(Phase::Progressing {
            reason: "Redeploying",
            message: note,
        })
    }

    /// The tag step on an ACTIVE service (`controller::tags`). A rejected tag change turns a Ready
    /// phase Stalled; a resource that is still progressing reports its rollout first.
    async fn tags(
        &mut self,
        service: &ObservedExpress,
        settled: bool,
        clock: Clock<'_>,
        phase: Phase,
    ) -> Result<Phase> {
        let input = TagInput {
            arn: &service.arn,
            spec_tags: &self.obj.spec.tags,
            reported: service.tags.as_deref(),
            settled,
            clock,
        };
        // NB: boxed: the tag calls' futures would otherwise be part of every reconcile's state.
        let rejected = Box::pin(tags::reconcile(
            self.ctx,
            self.obj,
            self.aws,
            TagApi::Ecs,
            input,
            &mut self.status.common,
        ))
        .await?;
        Ok(match (rejected, phase) {
            (Some((reason, message)), Phase::Ready { .. }) => Phase::Stalled { reason, message },
            (_, phase) => phase,
        })
    }

    /// Remembers the rollout a create or update started, and the configuration AWS said it deploys.
    fn record_rollout(&mut self, cause: &str, applied: &Applied, previous_deployment: Option<String>) {
        if let Some(config) = &applied.target_configuration {
            self.status.target_configuration = Some(redacted(config, &self.obj.spec));
        }
        if applied.status_code.is_some() {
            self.status.status_code = applied.status_code.clone();
        }
        self.status.awaited_rollout = Some(AwaitedRollout {
            cause: cause.into(),
            service_revision_arn: applied
                .target_configuration
                .as_ref()
                .and_then(|c| c.service_revision_arn.clone()),
            previous_deployment,
        });
    }
}

/// Deletes the AWS service (unless retained) and waits until it is gone.
async fn cleanup(obj: Arc<ExpressService>, ctx: Arc<Context>) -> Result<Action> {
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
        // finalizer goes and the object with it, so there is nothing left to requeue; the Event says
        // why nothing was deleted.
        Resolved::Arn(None) => {
            let note = "no Express service was created for this resource; nothing to delete".to_string();
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
    let observed = ecs::describe(&aws, &arn).await?;
    let step = crate::plan::express::delete_step(observed.as_ref().and_then(|s| s.status_code.as_deref()));
    let delete = async {
        // NB: `false` means the service was already draining or gone: nothing new was started.
        Ok(ecs::delete(&aws, &arn).await?.then(String::new))
    };
    delete_service(
        ctx.as_ref(),
        obj.as_ref(),
        "Express service",
        arn.clone(),
        step,
        delete,
    )
    .await
}
