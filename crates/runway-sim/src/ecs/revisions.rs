//! DescribeServiceRevisions: the `ServiceRevision` shape of botocore's `ecs/2014-11-13` model for
//! the simulator's Express revisions, with `ecsManagedResources`, the resources ECS manages for the
//! service (docs/aws-behaviour.md E38).
//!
//! Statuses follow the service and the revision's deployment: the service's resources are
//! `PROVISIONING` until its first deployment leaves `PENDING`, a revision's target group until its
//! own deployment does, then `ACTIVE`; a revision that no longer serves has its target group
//! `DELETED`; a deleted service's resources are `DEPROVISIONING` while it drains, then `DELETED`.
//! An injected failure (`load_balancer_failed`) makes one revision's load balancer `FAILED`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::infra::{log_group_arn, scaling_metric, security_group_arn};
use super::model::{EcsState, invalid};
use super::rollout::{ExpressService, Lifecycle};
use crate::clock::Timestamp;
use crate::wire::{AwsError, RequestContext, parse_input};

/// The most ARNs one call takes ("You can specify a maximum of 20 ARNs").
const MAX_ARNS: usize = 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    service_revision_arns: Option<Vec<String>>,
}

pub(super) fn describe(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: DescribeInput = parse_input(body)?;
    let arns = input.service_revision_arns.unwrap_or_default();
    if arns.is_empty() || arns.len() > MAX_ARNS {
        return Err(invalid(
            "serviceRevisionArns must name between 1 and 20 service revisions.",
        ));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in &arns {
        let hit = state
            .services
            .iter()
            .filter(|svc| svc.region == ctx.region && svc.account == ctx.account)
            .find_map(|svc| {
                let index = svc.revisions.iter().position(|r| &r.arn == arn)?;
                Some(service_revision(svc, index, ctx.now))
            });
        match hit {
            Some(revision) => found.push(revision),
            None => failures.push(json!({ "arn": arn, "reason": "MISSING" })),
        }
    }
    Ok(json!({ "serviceRevisions": found, "failures": failures }))
}

/// A status and when it was reached.
type Status = (&'static str, Timestamp);

/// When the deployment of `revision` left `PENDING`.
fn provisioned_at(svc: &ExpressService, revision: usize) -> Timestamp {
    svc.deployments
        .iter()
        .find(|d| d.target == revision)
        .map_or(svc.created_at, |d| d.started_at + d.pending_seconds)
}

/// The status of the service's own resources and of the revision's target group at `now`.
fn statuses(svc: &ExpressService, revision: usize, now: Timestamp) -> (Status, Status) {
    let deleted = svc.deleted_at.unwrap_or(now);
    match svc.lifecycle(now) {
        Lifecycle::Draining => return (("DEPROVISIONING", deleted), ("DEPROVISIONING", deleted)),
        Lifecycle::Inactive | Lifecycle::Gone => {
            let gone = deleted + svc.timings.drain_seconds;
            return (("DELETED", gone), ("DELETED", gone));
        }
        Lifecycle::Active => {}
    }
    let first = provisioned_at(svc, 0);
    let shared = if now < first {
        ("PROVISIONING", svc.created_at)
    } else {
        ("ACTIVE", first)
    };
    let created = svc.revisions.get(revision).map_or(now, |r| r.created_at);
    let ready = provisioned_at(svc, revision);
    let own = if now < ready {
        ("PROVISIONING", created)
    } else if !svc.active_revisions(now).contains(&revision) {
        let replaced = svc
            .deployments
            .iter()
            .rev()
            .find_map(|d| d.phase(now).finished_at());
        ("DELETED", replaced.unwrap_or(ready))
    } else {
        ("ACTIVE", ready)
    };
    (shared, own)
}

/// One managed resource: its ARN, status and when it got there, and any members of its own shape.
fn managed(arn: &str, (status, at): Status, extra: Value) -> Value {
    let mut out = json!({ "arn": arn, "status": status, "updatedAt": at });
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}

/// `ECSManagedResources` for one revision.
pub fn managed_resources(svc: &ExpressService, revision: usize, now: Timestamp) -> Value {
    let Some(rev) = svc.revisions.get(revision) else {
        return json!({});
    };
    let (shared, own) = statuses(svc, revision, now);
    let (region, account, infra) = (&svc.region, &svc.account, &svc.infra);
    let config = &rev.config;
    let subnets = config
        .network_configuration
        .as_ref()
        .and_then(|n| n.subnets.clone())
        .unwrap_or_default();
    let port = config
        .primary_container
        .as_ref()
        .and_then(|c| c.container_port)
        .unwrap_or(80);
    let mut load_balancer = managed(
        &infra.load_balancer,
        shared,
        json!({
            "scheme": "internet-facing",
            "subnetIds": subnets,
            "securityGroupIds": [infra.load_balancer_security_group],
        }),
    );
    if let Some(reason) = &rev.load_balancer_failure {
        load_balancer["status"] = json!("FAILED");
        load_balancer["statusReason"] = json!(reason);
        load_balancer["updatedAt"] = json!(rev.created_at);
    }
    let scaling = config.scaling_target.clone().unwrap_or_default();
    let metric = scaling.auto_scaling_metric.as_deref().unwrap_or("AVERAGE_CPU");
    let mut out = json!({
        "ingressPaths": [{
            "accessType": "PUBLIC",
            "endpoint": svc.endpoint,
            "loadBalancer": load_balancer,
            "loadBalancerSecurityGroups": [managed(
                &security_group_arn(region, account, &infra.load_balancer_security_group),
                shared,
                json!({}),
            )],
            "certificate": managed(&infra.certificate, shared, json!({ "domainName": svc.endpoint })),
            "listener": managed(&infra.listener, shared, json!({})),
            "rule": managed(&infra.rule, shared, json!({})),
            "targetGroups": [managed(&rev.target_group, own, json!({
                "healthCheckPath": config.health_check_path.as_deref().unwrap_or("/"),
                "healthCheckPort": port,
                "port": port,
            }))],
        }],
        "autoScaling": {
            "scalableTarget": managed(&infra.scalable_target, shared, json!({
                "minCapacity": scaling.min_task_count.unwrap_or(1),
                "maxCapacity": scaling.max_task_count.unwrap_or(20),
            })),
            "applicationAutoScalingPolicies": [managed(&infra.scaling_policy, shared, json!({
                "policyType": "TargetTrackingScaling",
                "targetValue": scaling.auto_scaling_target_value.unwrap_or(60) as f64,
                "metric": scaling_metric(metric),
            }))],
        },
        "metricAlarms": infra.alarms.iter().map(|a| managed(a, shared, json!({}))).collect::<Vec<_>>(),
        "serviceSecurityGroups": [managed(
            &security_group_arn(region, account, &svc.managed_security_group),
            shared,
            json!({}),
        )],
    });
    // NB: only the managed container has a log group ECS made; a customer task definition
    // names its own logging.
    if let Some(logs) = config
        .primary_container
        .as_ref()
        .and_then(|c| c.aws_logs_configuration.as_ref())
    {
        out["logGroups"] = json!([managed(
            &log_group_arn(region, account, &logs.log_group),
            shared,
            json!({ "logGroupName": logs.log_group }),
        )]);
    }
    out
}

/// `ServiceRevision`.
pub fn service_revision(svc: &ExpressService, revision: usize, now: Timestamp) -> Value {
    let Some(rev) = svc.revisions.get(revision) else {
        return json!({});
    };
    let port = rev
        .config
        .primary_container
        .as_ref()
        .and_then(|c| c.container_port)
        .unwrap_or(80);
    let mut out = json!({
        "serviceRevisionArn": rev.arn,
        "serviceArn": svc.arn,
        "clusterArn": svc.cluster_arn(),
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "loadBalancers": [{
            "targetGroupArn": rev.target_group,
            "containerName": "Main",
            "containerPort": port,
        }],
        "resolvedConfiguration": {
            "loadBalancers": [{
                "targetGroupArn": rev.target_group,
                "productionListenerRule": svc.infra.rule,
            }],
        },
        "guardDutyEnabled": false,
        "createdAt": rev.created_at,
        "ecsManagedResources": managed_resources(svc, revision, now),
    });
    if svc.customer_managed {
        // A classic service (catalog E33) has no resources ECS manages for it.
        if let Some(out) = out.as_object_mut() {
            out.remove("ecsManagedResources");
        }
    }
    if let Some(td) = &rev.config.task_definition_arn {
        out["taskDefinition"] = json!(td);
    }
    if let Some(image) = rev
        .config
        .primary_container
        .as_ref()
        .and_then(|c| c.image.clone())
    {
        out["containerImages"] = json!([{ "containerName": "Main", "image": image }]);
    }
    if let Some(network) = super::render::awsvpc(svc, revision) {
        out["networkConfiguration"] = network;
    }
    out
}
