//! The classic ECS service calls: UpdateService (`forceNewDeployment` and `desiredCount`) and
//! DescribeServices on every service, and CreateService, which makes a classic service
//! (`resourceManagementType: CUSTOMER`) that the Express calls refuse (docs/aws-behaviour.md E33).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{EcsState, cluster_name, include_tags, invalid};
use super::rollout::{ExpressService, Lifecycle};
use super::types::{ExpressConfig, NetworkConfiguration, ScalingTarget, Tag, validate_tags};
use crate::ids;
use crate::wire::{AwsError, RequestContext, parse_input};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsVpc {
    subnets: Option<Vec<String>>,
    security_groups: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClassicNetwork {
    awsvpc_configuration: Option<AwsVpc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateServiceInput {
    cluster: Option<String>,
    service_name: Option<String>,
    task_definition: Option<String>,
    desired_count: Option<i64>,
    network_configuration: Option<ClassicNetwork>,
    tags: Option<Vec<Tag>>,
    /// Everything else CreateService accepts (launch type, load balancers, …): accepted, not modelled.
    #[serde(flatten)]
    _other: BTreeMap<String, Value>,
}

/// The full ARN of a task definition named by `family:revision` or ARN.
fn task_definition_arn(ctx: &RequestContext, name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_string()
    } else {
        format!(
            "arn:aws:ecs:{}:{}:task-definition/{name}",
            ctx.region, ctx.account
        )
    }
}

/// CreateService: a classic service, managed by the customer (`resourceManagementType: CUSTOMER`),
/// with the task definition, count, network and tags the request names. The name must be free in
/// the cluster, as for Express (E22).
pub(super) fn create_service(
    state: &mut EcsState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: CreateServiceInput = parse_input(body)?;
    let name = input
        .service_name
        .ok_or_else(|| invalid("serviceName must be specified."))?;
    let task_definition = input
        .task_definition
        .ok_or_else(|| invalid("taskDefinition must be specified."))?;
    let tags = input.tags.unwrap_or_default();
    validate_tags(&tags)?;
    state.require_cluster(ctx, input.cluster.as_deref())?;
    let cluster = cluster_name(input.cluster.as_deref());
    if let Some(index) = state.find(ctx, Some(&cluster), &name) {
        if state.services[index].lifecycle(ctx.now) == Lifecycle::Inactive {
            state.services.remove(index);
        } else {
            return Err(invalid("Creation of service was not idempotent."));
        }
    }
    let network = input
        .network_configuration
        .and_then(|n| n.awsvpc_configuration)
        .map(|a| NetworkConfiguration {
            subnets: a.subnets,
            security_groups: a.security_groups,
        });
    let count = input.desired_count.unwrap_or(1).max(0);
    let config = ExpressConfig {
        task_definition_arn: Some(task_definition_arn(ctx, &task_definition)),
        network_configuration: network,
        scaling_target: Some(ScalingTarget {
            min_task_count: Some(count),
            ..ScalingTarget::default()
        }),
        ..ExpressConfig::default()
    };
    let mut svc = ExpressService {
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        arn: format!(
            "arn:aws:ecs:{}:{}:service/{cluster}/{name}",
            ctx.region, ctx.account
        ),
        endpoint: String::new(),
        infra: super::infra::ManagedInfra::new(&ctx.region, &ctx.account, &cluster, &name),
        cluster,
        infrastructure_role_arn: format!("arn:aws:iam::{}:root", ctx.account),
        tags,
        managed_security_group: format!("sg-{}", ids::hex(17)),
        created_at: ctx.now,
        updated_at: ctx.now,
        deleted_at: None,
        revisions: Vec::new(),
        deployments: Vec::new(),
        desired_count: Some(count),
        timings: state.timings,
        customer_managed: true,
        drain_blocked: false,
        name,
    };
    svc.start_deployment(config, ctx.now, false);
    let out = json!({ "service": super::render::classic_service(&svc, ctx.now, false) });
    state.services.push(svc);
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateServiceInput {
    cluster: Option<String>,
    service: Option<String>,
    desired_count: Option<i64>,
    force_new_deployment: Option<bool>,
    /// Everything else UpdateService accepts; the simulator does not model it.
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

pub(super) fn update_service(
    state: &mut EcsState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: UpdateServiceInput = parse_input(body)?;
    if let Some(name) = input.other.keys().next() {
        return Err(invalid(format!(
            "The simulator's UpdateService supports only cluster, service, desiredCount and \
             forceNewDeployment, not {name}."
        )));
    }
    let service = input
        .service
        .ok_or_else(|| invalid("service must be specified."))?;
    if input.desired_count.is_some_and(|n| n < 0) {
        return Err(invalid("desiredCount must be at least 0."));
    }
    state.require_cluster(ctx, input.cluster.as_deref())?;
    let index = state
        .find(ctx, input.cluster.as_deref(), &service)
        .ok_or_else(|| AwsError::new("ServiceNotFoundException", "Service not found."))?;
    let (name, lifecycle) = {
        let svc = &state.services[index];
        (svc.name.clone(), svc.lifecycle(ctx.now))
    };
    if lifecycle != Lifecycle::Active {
        return Err(AwsError::new(
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        ));
    }
    let force = input.force_new_deployment == Some(true);
    let fails = force && state.take_failure(&name);
    let failure = if force {
        state.take_load_balancer_failure(&name)
    } else {
        None
    };
    let svc = &mut state.services[index];
    if let Some(count) = input.desired_count {
        svc.desired_count = Some(count);
        svc.updated_at = ctx.now;
    }
    if input.force_new_deployment == Some(true) {
        let config = svc
            .current_revision(ctx.now)
            .and_then(|r| svc.revisions.get(r))
            .map(|r| r.config.clone())
            .unwrap_or_default();
        svc.start_deployment(config, ctx.now, fails);
        svc.fail_load_balancer(failure);
    }
    Ok(json!({ "service": super::render::classic_service(svc, ctx.now, false) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeServicesInput {
    cluster: Option<String>,
    services: Option<Vec<String>>,
    include: Option<Vec<String>>,
}

pub(super) fn describe_services(
    state: &mut EcsState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: DescribeServicesInput = parse_input(body)?;
    let names = input.services.unwrap_or_default();
    if names.is_empty() || names.len() > 10 {
        return Err(invalid("services must name between 1 and 10 services."));
    }
    state.require_cluster(ctx, input.cluster.as_deref())?;
    let tags = include_tags(input.include.as_deref());
    let cluster = cluster_name(input.cluster.as_deref());
    let mut services = Vec::new();
    let mut failures = Vec::new();
    for name in &names {
        match state.find(ctx, input.cluster.as_deref(), name) {
            Some(index) => services.push(super::render::classic_service(
                &state.services[index],
                ctx.now,
                tags,
            )),
            None => {
                let arn = if name.starts_with("arn:") {
                    name.clone()
                } else {
                    format!(
                        "arn:aws:ecs:{}:{}:service/{cluster}/{name}",
                        ctx.region, ctx.account
                    )
                };
                failures.push(json!({ "arn": arn, "reason": "MISSING" }));
            }
        }
    }
    Ok(json!({ "services": services, "failures": failures }))
}
