//! The `ExpressService` reconciler.
//!
//! Pipeline: `resolve` the service ARN (status, spec.serviceArn, or a lookup by name and owner tag so
//! a crash between create and the status write never creates a second service; needs AWS) →
//! `observe` the service and its current deployment (AWS, read-only) → `plan::express::plan` (pure) →
//! `act` on the plan (AWS, mutating) → `lifecycle::finish` (conditions and the status write,
//! Kubernetes). `lifecycle` also provides the finalizer wrapper; deletion goes through `cleanup`.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::lifecycle::{
    Resolved, delete_service, finish, reconcile_with_finalizer, reject_terminal, retain_if_asked,
};
use super::{Context, Failpoint, events};
use crate::api::express::{ExpressService, ExpressServiceStatus};
use crate::aws::RegionClients;
use crate::aws::ecs::{self, ObservedDeployment, ObservedExpress};
use crate::plan::Phase;
use crate::plan::express::{ExpressRequest, OWNER_TAG, Plan, PlanInput, create_request, owner, plan};
use crate::{Error, Result};

/// The kind name used in metrics and logs.
pub const KIND: &str = "ExpressService";

/// Reconciles one ExpressService.
pub async fn reconcile(obj: Arc<ExpressService>, ctx: Arc<Context>) -> Result<Action> {
    reconcile_with_finalizer(KIND, obj, ctx, apply, cleanup).await
}

/// What one reconcile learned and did, for the status write.
struct Outcome {
    phase: Phase,
    service: Option<ObservedExpress>,
    deployment: Option<ObservedDeployment>,
    status: ExpressServiceStatus,
}

async fn apply(obj: Arc<ExpressService>, ctx: Arc<Context>) -> Result<Action> {
    let previous = obj.status.clone();
    let mut status = previous.clone().unwrap_or_default();
    let region = ctx.aws.region_for(obj.spec.region.as_deref());
    let aws = ctx.aws.for_region(&region).await;

    let outcome = match resolve(&obj, &aws, &status).await? {
        Resolved::Conflict(message) => Outcome {
            phase: Phase::Stalled {
                reason: "ServiceNameInUse",
                message,
            },
            service: None,
            deployment: None,
            status,
        },
        Resolved::Arn(arn) => {
            let (service, deployment) = observe(&aws, arn.as_deref()).await?;
            if let Some(s) = &service {
                status.common.service_arn = Some(s.arn.clone());
            }
            let desired = ExpressRequest::from_spec(&obj.spec);
            let next = plan(PlanInput {
                spec: &obj.spec,
                status: &status,
                desired: &desired,
                service: service.as_ref(),
                deployment: deployment.as_ref(),
            });
            act(&obj, &ctx, &aws, next, desired, service, deployment, status).await?
        }
    };

    let Outcome {
        phase,
        service,
        deployment,
        mut status,
    } = outcome;
    fill_observed(&mut status, service.as_ref(), deployment.as_ref());
    finish(obj.as_ref(), &ctx, previous.as_ref(), status, phase, region).await
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

/// Describes the service and its current deployment.
async fn observe(
    aws: &RegionClients,
    arn: Option<&str>,
) -> Result<(Option<ObservedExpress>, Option<ObservedDeployment>)> {
    let Some(arn) = arn else { return Ok((None, None)) };
    let Some(service) = ecs::describe(aws, arn).await? else {
        return Ok((None, None));
    };
    let deployment = match service.current_deployment.as_deref() {
        Some(d) => ecs::describe_deployment(aws, d).await?,
        None => None,
    };
    Ok((Some(service), deployment))
}

/// Carries out a plan.
#[allow(clippy::too_many_arguments)]
async fn act(
    obj: &ExpressService,
    ctx: &Context,
    aws: &RegionClients,
    next: Plan,
    desired: ExpressRequest,
    service: Option<ObservedExpress>,
    deployment: Option<ObservedDeployment>,
    mut status: ExpressServiceStatus,
) -> Result<Outcome> {
    let hash = desired.digest();
    let outcome = |phase, service, deployment, status| Outcome {
        phase,
        service,
        deployment,
        status,
    };
    match next {
        Plan::Create => {
            let req = match create_request(&obj.spec, &obj.namespace().unwrap_or_default(), &obj.name_any()) {
                Ok(r) => r,
                Err(message) => {
                    let phase = Phase::Stalled {
                        reason: "InvalidSpec",
                        message,
                    };
                    return Ok(outcome(phase, None, None, status));
                }
            };
            match ecs::create(aws, &req).await {
                Ok(applied) => {
                    if ctx.failpoint == Some(Failpoint::ExitAfterCreate) {
                        tracing::warn!("failpoint exit-after-create: exiting before the status write");
                        std::process::exit(86);
                    }
                    status.common.service_arn = Some(applied.arn.clone());
                    status.common.last_applied_hash = Some(hash);
                    status.common.last_failed_hash = None;
                    status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
                    status.status_code = applied.status_code.clone();
                    status.target_configuration = applied.target_configuration.clone();
                    events::publish(
                        &ctx.recorder,
                        obj,
                        false,
                        "Created",
                        "Create",
                        format!("created Express service {} ({})", req.service_name, applied.arn),
                    )
                    .await;
                    let phase = Phase::Progressing {
                        reason: "Creating",
                        message: format!("created {}; waiting for the first deployment", applied.arn),
                    };
                    Ok(outcome(phase, None, None, status))
                }
                Err(err) => terminal_or_retry(err, hash, status, None, None),
            }
        }
        Plan::Update { drifted } => {
            let Some(arn) = service.as_ref().map(|s| s.arn.clone()) else {
                return Err(Error::InvalidSpec("update planned without a service".into()));
            };
            if desired.is_empty() {
                status.common.last_applied_hash = Some(hash);
                let phase = Phase::Ready {
                    reason: "Adopted",
                    message: format!("managing {arn} as is: the spec sets no configuration"),
                };
                return Ok(outcome(phase, service, deployment, status));
            }
            match ecs::update(aws, &arn, &desired).await {
                Ok(applied) => {
                    status.common.last_applied_hash = Some(hash);
                    status.common.last_failed_hash = None;
                    if status.common.last_redeploy_token.is_none() {
                        status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
                    }
                    if applied.target_configuration.is_some() {
                        status.target_configuration = applied.target_configuration.clone();
                    }
                    let (reason, note) = if drifted.is_empty() {
                        ("Updated", format!("sent the new spec to {arn}"))
                    } else {
                        (
                            "DriftCorrected",
                            format!(
                                "AWS differed from the spec in {}; sent the spec again",
                                drifted.join(", ")
                            ),
                        )
                    };
                    events::publish(
                        &ctx.recorder,
                        obj,
                        !drifted.is_empty(),
                        reason,
                        "Update",
                        note.clone(),
                    )
                    .await;
                    let phase = Phase::Progressing {
                        reason: if drifted.is_empty() {
                            "Updating"
                        } else {
                            "CorrectingDrift"
                        },
                        message: note,
                    };
                    // The deployment we observed is the old one now.
                    Ok(outcome(phase, service, None, status))
                }
                Err(err) => terminal_or_retry(err, hash, status, service, deployment),
            }
        }
        Plan::Redeploy => {
            let Some(arn) = service.as_ref().map(|s| s.arn.clone()) else {
                return Err(Error::InvalidSpec("redeploy planned without a service".into()));
            };
            let cluster = service
                .as_ref()
                .and_then(|s| s.cluster.clone())
                .or(obj.spec.cluster.clone());
            ecs::force_new_deployment(aws, cluster.as_deref(), &arn).await?;
            status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
            events::publish(
                &ctx.recorder,
                obj,
                false,
                "Redeployed",
                "Redeploy",
                format!(
                    "forced a new deployment of {arn} for redeployToken {:?}",
                    obj.spec.redeploy_token
                ),
            )
            .await;
            let phase = Phase::Progressing {
                reason: "Redeploying",
                message: format!("forced a new deployment of {arn}"),
            };
            Ok(outcome(phase, service, None, status))
        }
        Plan::Wait { reason, message } => Ok(outcome(
            Phase::Progressing { reason, message },
            service,
            deployment,
            status,
        )),
        Plan::Stalled { reason, message } => Ok(outcome(
            Phase::Stalled { reason, message },
            service,
            deployment,
            status,
        )),
        Plan::Ready { message } => Ok(outcome(
            Phase::Ready {
                reason: "Ready",
                message,
            },
            service,
            deployment,
            status,
        )),
    }
}

/// A failed mutating call: terminal AWS errors stall the resource (and are not sent again for the
/// same spec); anything else is returned for a retry with backoff.
fn terminal_or_retry(
    err: Error,
    hash: String,
    mut status: ExpressServiceStatus,
    service: Option<ObservedExpress>,
    deployment: Option<ObservedDeployment>,
) -> Result<Outcome> {
    let phase = reject_terminal(err, hash, &mut status.common)?;
    Ok(Outcome {
        phase,
        service,
        deployment,
        status,
    })
}

/// Copies what AWS reports into the status.
fn fill_observed(
    status: &mut ExpressServiceStatus,
    service: Option<&ObservedExpress>,
    deployment: Option<&ObservedDeployment>,
) {
    if let Some(s) = service {
        status.service_name = s.service_name.clone();
        status.cluster = s.cluster.clone();
        status.status_code = s.status_code.clone();
        status.status_reason = s.status_reason.clone();
        status.updated_at = s.updated_at.clone();
        if let Some(current) = crate::plan::express::current_configuration(s, deployment) {
            status.target_configuration = Some(current.clone());
        }
        status.current_deployment = s.current_deployment.clone();
    }
    if let Some(d) = deployment {
        status.current_deployment = Some(d.arn.clone());
        status.deployment_status = Some(d.status.clone());
    }
    status.endpoint = status
        .target_configuration
        .as_ref()
        .and_then(|t| t.ingress_paths.first())
        .map(|p| p.endpoint.clone());
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
    let region = ctx.aws.region_for(obj.spec.region.as_deref());
    let aws = ctx.aws.for_region(&region).await;
    let arn = match resolve(&obj, &aws, &status).await? {
        Resolved::Arn(Some(arn)) => arn,
        // Nothing was created, or the service with our name is not ours: nothing to delete.
        Resolved::Arn(None) | Resolved::Conflict(_) => return Ok(Action::await_change()),
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
