//! The `ExpressService` kind: its ECS Express calls behind [`ServiceKind`].
//!
//! Steps: `find_by_name` (DescribeExpressGatewayService by name, with tags) → `observe` the service
//! and its current deployment, or the deployment of the rollout runway awaits, and the resources
//! ECS manages for it when they may have changed (read-only) →
//! `decide` (`plan::express::decide`, pure) → `perform` Create, Update, Baseline or Redeploy (one
//! mutating call at most) → `delete_step` and `delete` for cleanup. The shared lifecycle is in
//! `controller::reconcile`.

use kube::ResourceExt;

use super::kind::{Act, Found, Planned, ServiceKind, TagTarget};
use super::tags::TagApi;
use crate::Result;
use crate::api::common::Tag;
use crate::api::express::{AwaitedRollout, ExpressService, ExpressServiceStatus};
use crate::aws::RegionClients;
use crate::aws::ecs;
use crate::plan::convergence::Drift;
use crate::plan::express::decide::Observation;
use crate::plan::express::{
    Applied, ExpressRequest, ObservedDeployment, ObservedExpress, ObservedManaged, Plan, create_request,
    current_configuration, known_ended_deployment, managed_resources_due, managed_revision, not_express,
    redacted,
};
use crate::plan::{Clock, DeleteStep, Phase, Refusal};

/// The kind name used in metrics and logs.
pub const KIND: &str = "ExpressService";

impl ServiceKind for ExpressService {
    const KIND: &'static str = KIND;
    const SERVICE: &'static str = "Express service";
    const TAG_API: TagApi = TagApi::Ecs;
    type Observation = Observation;
    type Plan = Plan;
    type Desired = ExpressRequest;

    async fn find_by_name(&self, aws: &RegionClients) -> Result<Option<Found>> {
        let (name, cluster) = name_and_cluster(self);
        Ok(ecs::find_by_name(aws, &cluster, &name).await?.map(|found| {
            let label = format!("{name} in cluster {cluster}");
            let foreign = not_express(
                found.resource_management_type.as_deref(),
                &format!("ECS service {label} ({})", found.arn),
                "choose another spec.serviceName",
            );
            Found {
                arn: found.arn,
                tags: found.tags,
                label,
                foreign,
            }
        }))
    }

    async fn foreign(aws: &RegionClients, arn: &str) -> Result<Option<Refusal>> {
        let Some(found) = ecs::find_by_arn(aws, arn).await? else {
            return Ok(None);
        };
        Ok(not_express(
            found.resource_management_type.as_deref(),
            &format!("spec.serviceArn {arn}"),
            "remove spec.serviceArn, or point it at an Express service",
        ))
    }

    fn stuck_deletion_hint(&self) -> String {
        let role = self
            .spec
            .infrastructure_role_arn
            .as_deref()
            .unwrap_or("the service's infrastructure role");
        format!(
            "ECS removes the load balancer rules, target groups, security groups and scaling policies \
             of an Express service with its infrastructure role; the likely cause is that {role}, or \
             its policy (AmazonECSInfrastructureRoleforExpressGatewayServices), was deleted or changed \
             before the service. Restore it: ECS then finishes the deletion and runway releases the \
             finalizer. Delete roles after the services that use them (docs/gitops.md)"
        )
    }

    async fn owner_tags(aws: &RegionClients, arn: &str) -> Result<Option<Vec<Tag>>> {
        let Some(service) = ecs::describe(aws, arn).await? else {
            return Ok(None);
        };
        match service.tags {
            Some(tags) => Ok(Some(tags)),
            None => Ok(Some(ecs::list_tags(aws, arn).await?)),
        }
    }

    async fn observe(
        &self,
        aws: &RegionClients,
        arn: Option<&str>,
        status: &mut ExpressServiceStatus,
    ) -> Result<Observation> {
        let Some(arn) = arn else {
            return Ok(Observation::default());
        };
        let Some(service) = ecs::describe(aws, arn).await? else {
            return created_but_not_visible(self, aws, arn, status).await;
        };
        let current = service.current_deployment.as_deref();
        let current = match (current, known_ended_deployment(status, current)) {
            (_, Some(known)) => Some(known),
            (Some(d), None) => ecs::describe_deployment(aws, d).await?,
            (None, None) => None,
        };
        let deployment = awaited_deployment(aws, status, &service, current).await?;
        let managed = managed_resources(aws, status, &service, deployment.as_ref()).await?;
        Ok(Observation {
            service: Some(service),
            deployment,
            managed,
            not_visible_yet: None,
        })
    }

    fn decide(
        &self,
        status: &mut ExpressServiceStatus,
        observation: &Observation,
        clock: Clock<'_>,
    ) -> (Plan, ExpressRequest) {
        crate::plan::express::decide::decide(self, status, observation, clock)
    }

    fn mutates(plan: &Plan) -> bool {
        matches!(plan, Plan::Create | Plan::Update { .. } | Plan::Redeploy)
    }

    fn settled(plan: &Plan) -> bool {
        matches!(plan, Plan::Report(Phase::Ready { .. }))
    }

    fn tag_target(observation: &Observation) -> Option<TagTarget> {
        let service = observation.service.as_ref()?;
        (service.status_code.as_deref() == Some("ACTIVE")).then(|| TagTarget {
            arn: service.arn.clone(),
            reported: service.tags.clone(),
        })
    }

    fn drift_correction(planned: &Planned<Self>) -> Option<Drift> {
        let Plan::Update { drifted } = &planned.next else {
            return None;
        };
        let observation = &planned.observation;
        let service = observation.service.as_ref().filter(|_| !drifted.is_empty())?;
        let current = current_configuration(service, observation.deployment.as_ref());
        Some(Drift {
            fields: drifted.clone(),
            spec: serde_json::to_value(&planned.desired).unwrap_or_default(),
            aws: serde_json::to_value(current).unwrap_or_default(),
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
        let (service, deployment) = (observation.service.as_ref(), observation.deployment.as_ref());
        let previous_deployment = deployment
            .map(|d| d.arn.clone())
            .or_else(|| act.status.current_deployment.clone());
        match next {
            Plan::Create => create(act, desired).await,
            Plan::Update { drifted } => {
                let arn = service.map(|s| s.arn.clone()).unwrap_or_default();
                update(act, &arn, desired, drifted, previous_deployment).await
            }
            Plan::Baseline => Ok(baseline(act, &desired, service)),
            Plan::Redeploy => {
                let Some(service) = service else {
                    return Err(crate::Error::InvalidSpec(
                        "redeploy planned without a service".into(),
                    ));
                };
                redeploy(act, service, previous_deployment).await
            }
            Plan::Report(phase) => Ok(phase),
        }
    }

    async fn delete_step(aws: &RegionClients, arn: &str) -> Result<DeleteStep> {
        let observed = ecs::describe(aws, arn).await?;
        Ok(crate::plan::express::delete_step(
            observed.as_ref().and_then(|s| s.status_code.as_deref()),
        ))
    }

    async fn delete(aws: &RegionClients, arn: &str) -> Result<Option<String>> {
        // NB: `false` means the service was already draining or gone: nothing new was started.
        Ok(ecs::delete(aws, arn).await?.then(String::new))
    }
}

/// The service name and the ECS cluster (`default` when unset) a resource's service has.
fn name_and_cluster(obj: &ExpressService) -> (String, String) {
    let name = crate::plan::express::service_name(&obj.spec, &obj.name_any());
    let cluster = obj.spec.cluster.clone().unwrap_or_else(|| "default".into());
    (name, cluster)
}

/// What to plan with when DescribeExpressGatewayService does not find the service `arn`. Right
/// after runway created it (its first rollout is still awaited), a read that has not caught up
/// would make runway create it again (E37), so the by-name lookup (DescribeServices) decides: an
/// ACTIVE service with that ARN is there, and runway waits for Describe to return it. Otherwise,
/// and for any service not just created, it is gone.
async fn created_but_not_visible(
    obj: &ExpressService,
    aws: &RegionClients,
    arn: &str,
    status: &ExpressServiceStatus,
) -> Result<Observation> {
    let just_created = status
        .awaited_rollout
        .as_ref()
        .is_some_and(|a| a.cause == "Create");
    if !just_created || obj.spec.service_arn.is_some() {
        return Ok(Observation::default());
    }
    let (name, cluster) = name_and_cluster(obj);
    let found = ecs::find_by_name(aws, &cluster, &name).await?;
    Ok(Observation {
        not_visible_yet: found
            .filter(|f| f.arn == arn && f.status == "ACTIVE")
            .map(|f| f.arn),
        ..Observation::default()
    })
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
    service: &ObservedExpress,
    current: Option<ObservedDeployment>,
) -> Result<Option<ObservedDeployment>> {
    let Some(awaited) = status.awaited_rollout.clone() else {
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

/// The resources ECS manages for the revision the status shows, read (DescribeServiceRevisions)
/// only when the planner says the read can tell something new (`managed_resources_due`): a settled
/// service costs no read of them. A read AWS refuses for good (access denied to a role without
/// `ecs:DescribeServiceRevisions`, an unknown revision) keeps what the status holds and never fails
/// the reconcile; anything retryable fails it, as any other read does.
async fn managed_resources(
    aws: &RegionClients,
    status: &ExpressServiceStatus,
    service: &ObservedExpress,
    deployment: Option<&ObservedDeployment>,
) -> Result<Option<ObservedManaged>> {
    let Some(revision) = managed_revision(service, deployment) else {
        return Ok(None);
    };
    if !managed_resources_due(status, revision) {
        return Ok(None);
    }
    match ecs::managed_resources(aws, revision).await {
        Ok(resources) => Ok(Some(ObservedManaged {
            revision: revision.to_string(),
            resources,
        })),
        Err(crate::Error::Aws(f)) if !f.kind.is_retryable() => {
            tracing::debug!(%revision, code = %f.code, "could not read the managed resources; keeping the status");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

type ExpressAct<'a, 'b> = &'a mut Act<'b, ExpressService>;

async fn create(act: ExpressAct<'_, '_>, desired: ExpressRequest) -> Result<Phase> {
    let obj = act.obj;
    let req = match act.create_request(|owner| create_request(&obj.spec, owner)) {
        Ok(r) => r,
        Err(phase) => return Ok(phase),
    };
    let applied = match ecs::create(act.aws, &req).await {
        Ok(applied) => applied,
        Err(err) => return act.rejected(err, &desired),
    };
    act.created(
        &applied.arn,
        &desired,
        &obj.spec.tags,
        obj.spec.redeploy_token.clone(),
    );
    record_rollout(act, "Create", &applied, None);
    let note = format!("created Express service {} ({})", req.service_name, applied.arn);
    act.publish(false, "Created", "Create", note).await;
    Ok(Phase::Progressing {
        reason: "Creating",
        message: format!("created {}; waiting for the first deployment", applied.arn),
    })
}

async fn update(
    act: ExpressAct<'_, '_>,
    arn: &str,
    desired: ExpressRequest,
    drifted: Vec<String>,
    previous_deployment: Option<String>,
) -> Result<Phase> {
    let token = act.obj.spec.redeploy_token.clone();
    if desired.is_empty() {
        act.accepted(&desired, token);
        return Ok(Phase::Ready {
            reason: "Adopted",
            message: format!("managing {arn} as is: the spec sets no configuration"),
        });
    }
    let applied = match ecs::update(act.aws, arn, &desired).await {
        Ok(applied) => applied,
        Err(err) => return act.rejected(err, &desired),
    };
    act.accepted(&desired, token);
    record_rollout(act, "Update", &applied, previous_deployment);
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
        let fields = drifted.join(", ");
        let note = format!("AWS differed from the spec in {fields}; sent the spec again");
        ("DriftCorrected", "CorrectingDrift", note)
    };
    act.publish(!drifted.is_empty(), event, "Update", note.clone())
        .await;
    Ok(Phase::Progressing {
        reason,
        message: note,
    })
}

/// AWS already runs the spec: record it as applied, send nothing, and wait for the current
/// deployment of that configuration to be seen succeeding.
fn baseline(act: ExpressAct<'_, '_>, desired: &ExpressRequest, service: Option<&ObservedExpress>) -> Phase {
    act.accepted(desired, act.obj.spec.redeploy_token.clone());
    let revision = service
        .and_then(|s| s.active_configurations.last())
        .and_then(|c| c.service_revision_arn.clone());
    act.status.awaited_rollout = Some(AwaitedRollout {
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
    act: ExpressAct<'_, '_>,
    service: &ObservedExpress,
    previous_deployment: Option<String>,
) -> Result<Phase> {
    let arn = service.arn.clone();
    let cluster = service.cluster.clone().or(act.obj.spec.cluster.clone());
    if let Err(err) = ecs::force_new_deployment(act.aws, cluster.as_deref(), &arn).await {
        // NB: a failed redeploy keeps the old token, so it is tried again; a terminal failure
        // stalls (with AWS's message) and is retried at the resync interval.
        return match err.aws() {
            Some(f) if f.kind == crate::error::AwsErrorKind::Terminal => Ok(Phase::Stalled {
                reason: "AwsRejectedRedeploy",
                message: f.summary(),
            }),
            _ => Err(err),
        };
    }
    act.common().last_redeploy_token = act.obj.spec.redeploy_token.clone();
    act.status.awaited_rollout = Some(AwaitedRollout {
        cause: "Redeploy".into(),
        service_revision_arn: None,
        previous_deployment,
    });
    let note = format!(
        "forced a new deployment of {arn} for redeployToken {:?}",
        act.obj.spec.redeploy_token.as_deref().unwrap_or_default()
    );
    act.publish(false, "Redeployed", "Redeploy", note.clone()).await;
    Ok(Phase::Progressing {
        reason: "Redeploying",
        message: note,
    })
}

/// Remembers the rollout a create or update started, and the configuration AWS said it deploys.
fn record_rollout(
    act: ExpressAct<'_, '_>,
    cause: &str,
    applied: &Applied,
    previous_deployment: Option<String>,
) {
    if let Some(config) = &applied.target_configuration {
        act.status.target_configuration = Some(redacted(config, &act.obj.spec));
    }
    if applied.status_code.is_some() {
        act.status.status_code = applied.status_code.clone();
    }
    act.status.awaited_rollout = Some(AwaitedRollout {
        cause: cause.into(),
        service_revision_arn: applied
            .target_configuration
            .as_ref()
            .and_then(|c| c.service_revision_arn.clone()),
        previous_deployment,
    });
}
