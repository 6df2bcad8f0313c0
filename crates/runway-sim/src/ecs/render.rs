//! Renders the simulator's ECS state as the output shapes of botocore's `ecs/2014-11-13` model:
//! `ECSExpressGatewayService`, `UpdatedExpressGatewayService`, `ExpressGatewayServiceConfiguration`,
//! the classic `Service` and `Deployment`, `ServiceDeploymentBrief` and `ServiceDeployment`.
//! Every member emitted here is a member of the named shape; the boto3 wire test checks that.

use serde_json::{Map, Value, json};

use super::rollout::{Deployment, ExpressService, Lifecycle, Phase};
use crate::clock::Timestamp;

/// `ExpressGatewayServiceConfiguration` for one revision.
pub fn configuration(svc: &ExpressService, revision: usize) -> Value {
    let Some(rev) = svc.revisions.get(revision) else {
        return json!({});
    };
    let mut out = match serde_json::to_value(&rev.config) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    // NB: ECS adds a security group of its own next to the requested ones (E1).
    if let Some(Value::Object(network)) = out.get_mut("networkConfiguration") {
        let mut groups = vec![json!(svc.managed_security_group)];
        if let Some(Value::Array(requested)) = network.get("securityGroups") {
            groups.extend(
                requested
                    .iter()
                    .filter(|g| **g != json!(svc.managed_security_group))
                    .cloned(),
            );
        }
        network.insert("securityGroups".into(), Value::Array(groups));
    }
    if rev.config.primary_container.is_none()
        && let Some(td) = &rev.config.task_definition_arn
    {
        // NB: with a customer task definition AWS still reports a primaryContainer, derived from
        // the task definition's `Main` container (terraform-provider-aws PR #49095), and no
        // cpuArchitecture unless the task definition names one (E31).
        out.insert("primaryContainer".into(), derived_container(td));
    }
    out.insert("serviceRevisionArn".into(), json!(rev.arn));
    out.insert(
        "ingressPaths".into(),
        json!([{ "accessType": "PUBLIC", "endpoint": svc.endpoint }]),
    );
    out.insert("createdAt".into(), json!(rev.created_at));
    Value::Object(out)
}

/// The `primaryContainer` ECS derives from a customer task definition. The simulator does not
/// model task definitions, so the image is made up from the family and revision (docs/aws-behaviour.md
/// X4) and the port is the one every Express task definition maps by default.
pub fn derived_container(task_definition_arn: &str) -> Value {
    let family = task_definition_arn
        .rsplit_once("task-definition/")
        .map_or(task_definition_arn, |(_, f)| f);
    json!({
        "image": format!("public.ecr.aws/runway-sim/task-definition/{}", family.replace(':', "-rev")),
        "containerPort": 80,
    })
}

fn status(svc: &ExpressService, now: Timestamp) -> Value {
    let lifecycle = svc.lifecycle(now);
    let mut status = json!({ "statusCode": lifecycle.status_code() });
    let reason = match lifecycle {
        Lifecycle::Active => None,
        Lifecycle::Draining => Some("The service is being deleted; its tasks are draining."),
        Lifecycle::Inactive | Lifecycle::Gone => Some("The service was deleted."),
    };
    if let Some(reason) = reason {
        status["statusReason"] = json!(reason);
    }
    status
}

/// The service's `tags`: the caller's and AWS's managed tag (E19), as every call reports them.
pub(super) fn tags(svc: &ExpressService) -> Value {
    serde_json::to_value(&svc.tags).unwrap_or_else(|_| json!([]))
}

/// `ECSExpressGatewayService`.
pub fn express_service(svc: &ExpressService, now: Timestamp, include_tags: bool) -> Value {
    let active: Vec<Value> = svc
        .active_revisions(now)
        .into_iter()
        .map(|r| configuration(svc, r))
        .collect();
    let mut out = json!({
        "cluster": svc.cluster_arn(),
        "serviceName": svc.name,
        "serviceArn": svc.arn,
        "infrastructureRoleArn": svc.infrastructure_role_arn,
        "status": status(svc, now),
        "activeConfigurations": active,
        "createdAt": svc.created_at,
        "updatedAt": svc.updated_at,
    });
    if let Some(deployment) = svc.reported_current_deployment(now) {
        out["currentDeployment"] = json!(deployment.arn);
    }
    if include_tags {
        out["tags"] = tags(svc);
    }
    out
}

/// `UpdatedExpressGatewayService`: the service with the revision the update is rolling out.
pub fn updated_service(svc: &ExpressService, now: Timestamp, target: usize) -> Value {
    json!({
        "serviceArn": svc.arn,
        "cluster": svc.cluster_arn(),
        "serviceName": svc.name,
        "status": status(svc, now),
        "targetConfiguration": configuration(svc, target),
        "createdAt": svc.created_at,
        "updatedAt": svc.updated_at,
    })
}

fn revision_summary(svc: &ExpressService, revision: usize, running: i64, requested: i64) -> Value {
    json!({
        "arn": svc.revisions.get(revision).map(|r| r.arn.as_str()).unwrap_or_default(),
        "requestedTaskCount": requested,
        "runningTaskCount": running,
        "pendingTaskCount": (requested - running).max(0),
    })
}

fn task_definition(svc: &ExpressService, revision: usize) -> Option<String> {
    svc.revisions
        .get(revision)
        .and_then(|r| r.config.task_definition_arn.clone())
}

/// The classic `NetworkConfiguration` of a revision: its subnets and security groups, ECS's first.
pub(super) fn awsvpc(svc: &ExpressService, revision: usize) -> Option<Value> {
    let network = svc
        .revisions
        .get(revision)?
        .config
        .network_configuration
        .as_ref()?;
    // NB: only Express services get ECS's managed security group (E1).
    let mut groups = if svc.customer_managed {
        Vec::new()
    } else {
        vec![svc.managed_security_group.clone()]
    };
    groups.extend(
        network
            .security_groups
            .iter()
            .flatten()
            .filter(|g| **g != svc.managed_security_group)
            .cloned(),
    );
    Some(json!({
        "awsvpcConfiguration": {
            "subnets": network.subnets.clone().unwrap_or_default(),
            "securityGroups": groups,
            "assignPublicIp": "DISABLED",
        }
    }))
}

fn classic_deployment(svc: &ExpressService, deployment: &Deployment, primary: bool, now: Timestamp) -> Value {
    let phase = deployment.phase(now);
    let desired = svc.desired_count(now);
    let (rollout_state, running) = match phase {
        Phase::InProgress => ("IN_PROGRESS", 0),
        Phase::RollbackInProgress { .. } => ("FAILED", 0),
        Phase::Successful { .. } | Phase::Stopped { .. } => ("COMPLETED", desired),
        Phase::RollbackSuccessful { .. } | Phase::RollbackFailed { .. } => ("FAILED", 0),
    };
    let running = if primary { running } else { desired };
    let mut out = json!({
        "id": deployment.classic_id,
        "status": if primary { "PRIMARY" } else { "ACTIVE" },
        "desiredCount": if primary { desired } else { 0 },
        "pendingCount": if primary { (desired - running).max(0) } else { 0 },
        "runningCount": running,
        "failedTasks": if deployment.fails && phase.rollback_started().is_some() { 3 } else { 0 },
        "createdAt": deployment.started_at,
        "updatedAt": phase.finished_at().unwrap_or(deployment.started_at),
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "rolloutState": rollout_state,
    });
    if let Some(td) = task_definition(svc, deployment.target) {
        out["taskDefinition"] = json!(td);
    }
    if let Some(network) = awsvpc(svc, deployment.target) {
        out["networkConfiguration"] = network;
    }
    if let Some(reason) = deployment.status_reason(now) {
        out["rolloutStateReason"] = json!(reason);
    }
    out
}

/// The classic ECS `Service` shape, as DescribeServices and UpdateService return it.
pub fn classic_service(svc: &ExpressService, now: Timestamp, include_tags: bool) -> Value {
    let lifecycle = svc.lifecycle(now);
    let desired = svc.desired_count(now);
    let current = svc.current_revision(now).unwrap_or_default();
    let rolling = svc.is_rolling_out(now);
    let mut deployments = Vec::new();
    if lifecycle == Lifecycle::Active
        && let Some(primary) = svc.current_deployment()
    {
        deployments.push(classic_deployment(svc, primary, true, now));
        if rolling && svc.deployments.len() > 1 {
            let previous = &svc.deployments[svc.deployments.len() - 2];
            deployments.push(classic_deployment(svc, previous, false, now));
        }
    }
    let active = svc.active_revisions(now);
    let revisions: Vec<Value> = active
        .iter()
        .map(|&r| {
            let is_target = Some(r) == svc.current_revision(now);
            let requested = if is_target { desired } else { 0 };
            let running = if rolling && is_target { 0 } else { desired };
            revision_summary(svc, r, running, requested)
        })
        .collect();
    let running = if lifecycle == Lifecycle::Active {
        desired
    } else {
        0
    };
    let mut out = json!({
        "serviceArn": svc.arn,
        "serviceName": svc.name,
        "clusterArn": svc.cluster_arn(),
        "status": lifecycle.status_code(),
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "platformFamily": "Linux",
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": { "enable": true, "rollback": true },
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deployments": deployments,
        "events": [],
        "createdAt": svc.created_at,
        "currentServiceRevisions": revisions,
        "placementConstraints": [],
        "placementStrategy": [],
        "healthCheckGracePeriodSeconds": 0,
        "schedulingStrategy": "REPLICA",
        "deploymentController": { "type": "ECS" },
        "createdBy": svc.infrastructure_role_arn,
        "enableECSManagedTags": true,
        "propagateTags": "SERVICE",
        "enableExecuteCommand": false,
        "availabilityZoneRebalancing": "ENABLED",
        "resourceManagementType": if svc.customer_managed { "CUSTOMER" } else { "ECS" },
    });
    if let Some(td) = task_definition(svc, current) {
        out["taskDefinition"] = json!(td);
    }
    if let Some(network) = awsvpc(svc, current) {
        out["networkConfiguration"] = network;
    }
    if let Some(deployment) = svc.current_deployment() {
        out["currentServiceDeployment"] = json!(deployment.arn);
    }
    if include_tags {
        out["tags"] = tags(svc);
    }
    out
}

/// `ServiceDeploymentBrief`, for ListServiceDeployments.
pub fn deployment_brief(svc: &ExpressService, deployment: &Deployment, now: Timestamp) -> Value {
    let phase = deployment.phase(now);
    let mut out = json!({
        "serviceDeploymentArn": deployment.arn,
        "serviceArn": svc.arn,
        "clusterArn": svc.cluster_arn(),
        "createdAt": deployment.started_at,
        "startedAt": deployment.started_at,
        "targetServiceRevisionArn": svc.revisions.get(deployment.target).map(|r| r.arn.as_str()).unwrap_or_default(),
        "status": deployment.status_at(now),
    });
    if let Some(finished) = phase.finished_at() {
        out["finishedAt"] = json!(finished);
    }
    if let Some(reason) = deployment.status_reason(now) {
        out["statusReason"] = json!(reason);
    }
    out
}

/// `ServiceDeployment`, for DescribeServiceDeployments.
pub fn deployment_full(svc: &ExpressService, deployment: &Deployment, now: Timestamp) -> Value {
    let phase = deployment.phase(now);
    let desired = svc.desired_count(now);
    let finished = phase.is_finished();
    let sources: Vec<Value> = deployment
        .sources
        .iter()
        .map(|&r| revision_summary(svc, r, if finished { 0 } else { desired }, 0))
        .collect();
    let target_running = match phase {
        Phase::Successful { .. } => desired,
        _ => 0,
    };
    let (breaker_status, failures) = match phase {
        Phase::InProgress => ("MONITORING", 0),
        Phase::Successful { .. } | Phase::Stopped { .. } => ("MONITORING_COMPLETE", 0),
        _ => ("TRIGGERED", 3),
    };
    let lifecycle_stage = match phase {
        Phase::InProgress => match deployment.canary_percent(now) {
            None => "RECONCILE_SERVICE",
            Some(5) => "PRODUCTION_TRAFFIC_SHIFT",
            Some(_) => "BAKE_TIME",
        },
        Phase::RollbackInProgress { .. } => "PRODUCTION_TRAFFIC_SHIFT",
        _ => "CLEAN_UP",
    };
    let mut out = json!({
        "serviceDeploymentArn": deployment.arn,
        "serviceArn": svc.arn,
        "clusterArn": svc.cluster_arn(),
        "createdAt": deployment.started_at,
        "startedAt": deployment.started_at,
        "updatedAt": phase.finished_at().or(phase.rollback_started()).unwrap_or(deployment.started_at),
        "sourceServiceRevisions": sources,
        "targetServiceRevision": revision_summary(svc, deployment.target, target_running, desired),
        "status": deployment.status_at(now),
        "lifecycleStage": lifecycle_stage,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": { "enable": true, "rollback": true },
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deploymentCircuitBreaker": { "status": breaker_status, "failureCount": failures, "threshold": 3 },
    });
    if let Some(finished) = phase.finished_at() {
        out["finishedAt"] = json!(finished);
    }
    if let Phase::Stopped { at } = phase {
        out["stoppedAt"] = json!(at);
    }
    if let Some(reason) = deployment.status_reason(now) {
        out["statusReason"] = json!(reason);
    }
    if let (Some(started), Some(to)) = (phase.rollback_started(), deployment.rollback_to) {
        out["rollback"] = json!({
            "reason": super::rollout::ROLLBACK_REASON,
            "startedAt": started,
            "serviceRevisionArn": svc.revisions.get(to).map(|r| r.arn.as_str()).unwrap_or_default(),
        });
    }
    out
}
