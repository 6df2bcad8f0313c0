//! The classic ECS service calls on Express services: UpdateService (`forceNewDeployment` and
//! `desiredCount`) and DescribeServices.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{EcsState, cluster_name, include_tags, invalid};
use super::rollout::Lifecycle;
use crate::wire::{AwsError, RequestContext, parse_input};

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
