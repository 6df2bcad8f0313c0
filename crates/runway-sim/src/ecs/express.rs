//! The four Express Mode actions: CreateExpressGatewayService, UpdateExpressGatewayService,
//! DescribeExpressGatewayService and DeleteExpressGatewayService.

use serde::Deserialize;
use serde_json::{Value, json};

use super::infra::ManagedInfra;
use super::model::{EcsState, cluster_name, include_tags, invalid};
use super::rollout::{ExpressService, Lifecycle};
use super::types::{
    CreateInput, DefaultsContext, UpdateInput, validate_config, validate_fargate_size, validate_tags,
};
use crate::ids;
use crate::wire::{AwsError, RequestContext, parse_input};

fn valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `<name>-<hash>.ecs.<region>.on.aws`, a valid DNS label whatever the service name.
fn endpoint_for(name: &str, region: &str) -> String {
    let label: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' { '-' } else { c })
        .take(40)
        .collect();
    format!("{}-{}.ecs.{region}.on.aws", label.trim_matches('-'), ids::hex(8))
}

/// A service that never existed or is gone. NB: real accounts answer InvalidParameterException
/// "Resource not found", not the modelled ServiceNotFoundException (terraform-provider-aws
/// `findExpressGatewayServiceByARN`; `docs/aws-behaviour.md` E2).
fn not_found(_arn: &str) -> AwsError {
    invalid("Resource not found.")
}

/// A service that is not ACTIVE (E3, E4).
fn not_active(svc: &ExpressService, now: f64) -> AwsError {
    let message = match svc.lifecycle(now) {
        Lifecycle::Draining => "Service is in DRAINING status".to_string(),
        other => format!(
            "Cannot perform this operation on a service in {} status",
            other.status_code()
        ),
    };
    AwsError::new("ServiceNotActiveException", message)
}

/// A classic service (made with CreateService, `resourceManagementType: CUSTOMER`) is not an
/// Express service; the Express calls refuse it (docs/aws-behaviour.md E33). NB: the wording mirrors
/// what classic DeleteService answers for an Express service ("… has ResourceManagementType=ECS use
/// DeleteExpressGatewayService to delete", ekristen/aws-nuke#982); this direction's text is assumed.
fn express_only(svc: &ExpressService) -> Result<(), AwsError> {
    if svc.customer_managed {
        return Err(invalid(format!(
            "{} has ResourceManagementType=CUSTOMER; it is not an Express service",
            svc.arn
        )));
    }
    Ok(())
}

/// ECS cannot assume a role IAM has not propagated yet (E12).
fn refused_role(state: &mut EcsState, roles: [Option<&String>; 3], now: f64) -> Result<(), AwsError> {
    match state
        .iam
        .refused(roles.into_iter().flatten().map(String::as_str), now)
    {
        Some(role) => Err(AwsError::new(
            "AccessDeniedException",
            format!(
                "ECS was unable to assume the role '{role}' that was provided for this task. Please \
                 verify that the role being passed has the proper trust relationship and permissions \
                 and that your IAM user has permissions to pass this role. Cannot assume role"
            ),
        )),
        None => Ok(()),
    }
}

/// The tag ECS puts on the resources Express Mode manages (E19; key as on its security group).
pub const MANAGED_TAG_KEY: &str = "AmazonECSManaged";

/// ECS passes these roles to its agent and load balancer, which needs them in the service's own
/// account; a role elsewhere is an InvalidParameterException, as IAM PassRole would refuse it.
fn validate_roles(roles: [Option<&String>; 3], account: &str) -> Result<(), AwsError> {
    for arn in roles.into_iter().flatten() {
        if !arn.contains(&format!(":iam::{account}:")) {
            return Err(invalid(format!(
                "Role {arn} cannot be passed to Amazon ECS: it is not in account {account}."
            )));
        }
    }
    Ok(())
}

pub(super) fn create(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: CreateInput = parse_input(body)?;
    let infrastructure_role_arn = input
        .infrastructure_role_arn
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("infrastructureRoleArn must be specified."))?;
    if input.config.primary_container.is_none() && input.config.task_definition_arn.is_none() {
        return Err(invalid(
            "Either primaryContainer or taskDefinitionArn must be specified.",
        ));
    }
    validate_config(&input.config)?;
    validate_roles(
        [
            Some(&infrastructure_role_arn),
            input.config.execution_role_arn.as_ref(),
            input.config.task_role_arn.as_ref(),
        ],
        &ctx.account,
    )?;
    refused_role(
        state,
        [
            Some(&infrastructure_role_arn),
            input.config.execution_role_arn.as_ref(),
            input.config.task_role_arn.as_ref(),
        ],
        ctx.now,
    )?;
    let mut tags = input.tags.unwrap_or_default();
    validate_tags(&tags)?;
    tags.push(super::types::Tag {
        key: Some(MANAGED_TAG_KEY.to_string()),
        value: Some("true".to_string()),
    });
    let name = input
        .service_name
        .unwrap_or_else(|| format!("express-{}", ids::alphanumeric(12)));
    if !valid_service_name(&name) {
        return Err(invalid(
            "serviceName can contain up to 255 letters, numbers, underscores, and hyphens.",
        ));
    }
    let cluster = cluster_name(input.cluster.as_deref());
    if let Some(index) = state.find(ctx, Some(&cluster), &name) {
        if state.services[index].lifecycle(ctx.now) == Lifecycle::Inactive {
            state.services.remove(index);
        } else {
            return Err(invalid(format!(
                "Creation of service was not idempotent: service {name} already exists in \
                 cluster {cluster}."
            )));
        }
    }
    let config = input.config.with_defaults(&DefaultsContext {
        region: &ctx.region,
        account: &ctx.account,
        cluster: &cluster,
        service_name: &name,
        revision: 1,
    });
    validate_fargate_size(&config)?;
    let drain_blocked = state.unusable_roles.contains(&infrastructure_role_arn);
    let mut svc = ExpressService {
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        arn: format!(
            "arn:aws:ecs:{}:{}:service/{cluster}/{name}",
            ctx.region, ctx.account
        ),
        endpoint: endpoint_for(&name, &ctx.region),
        infra: ManagedInfra::new(&ctx.region, &ctx.account, &cluster, &name),
        cluster,
        infrastructure_role_arn,
        tags,
        managed_security_group: format!("sg-{}", ids::hex(17)),
        created_at: ctx.now,
        updated_at: ctx.now,
        deleted_at: None,
        revisions: Vec::new(),
        deployments: Vec::new(),
        desired_count: None,
        timings: state.timings,
        customer_managed: false,
        drain_blocked,
        name,
    };
    let fails = state.take_failure(&svc.name);
    let failure = state.take_load_balancer_failure(&svc.name);
    svc.start_deployment(config, ctx.now, fails);
    svc.fail_load_balancer(failure);
    let out = json!({ "service": super::render::express_service(&svc, ctx.now, true) });
    // NB: Express creates a named cluster with its first service, and the cluster outlives it.
    state
        .clusters
        .insert((svc.account.clone(), svc.region.clone(), svc.cluster.clone()));
    state.services.push(svc);
    Ok(out)
}

pub(super) fn update(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: UpdateInput = parse_input(body)?;
    let arn = input
        .service_arn
        .ok_or_else(|| invalid("serviceArn must be specified."))?;
    validate_config(&input.config)?;
    validate_roles(
        [
            None,
            input.config.execution_role_arn.as_ref(),
            input.config.task_role_arn.as_ref(),
        ],
        &ctx.account,
    )?;
    let index = state.find_by_arn(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &state.services[index];
    express_only(svc)?;
    if svc.lifecycle(ctx.now) != Lifecycle::Active {
        return Err(not_active(svc, ctx.now));
    }
    let infrastructure_role = svc.infrastructure_role_arn.clone();
    refused_role(
        state,
        [
            Some(&infrastructure_role),
            input.config.execution_role_arn.as_ref(),
            input.config.task_role_arn.as_ref(),
        ],
        ctx.now,
    )?;
    let svc = &state.services[index];
    let current = svc
        .current_revision(ctx.now)
        .and_then(|r| svc.revisions.get(r))
        .map(|r| r.config.clone())
        .unwrap_or_default();
    let merged = current.merged(input.config);
    if merged.task_definition_arn.is_none()
        && merged
            .primary_container
            .as_ref()
            .is_none_or(|c| c.image.is_none())
    {
        return Err(invalid(
            "primaryContainer.image must be specified when leaving a customer task definition.",
        ));
    }
    let config = merged.with_defaults(&DefaultsContext {
        region: &svc.region,
        account: &svc.account,
        cluster: &svc.cluster,
        service_name: &svc.name,
        revision: svc.revisions.len() as u64 + 1,
    });
    validate_fargate_size(&config)?;
    let name = svc.name.clone();
    let fails = state.take_failure(&name);
    let failure = state.take_load_balancer_failure(&name);
    let svc = &mut state.services[index];
    let deployment = svc.start_deployment(config, ctx.now, fails);
    svc.fail_load_balancer(failure);
    let target = svc.deployments[deployment].target;
    Ok(json!({ "service": super::render::updated_service(svc, ctx.now, target) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    service_arn: Option<String>,
    include: Option<Vec<String>>,
}

pub(super) fn describe(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: DescribeInput = parse_input(body)?;
    let arn = input
        .service_arn
        .ok_or_else(|| invalid("serviceArn must be specified."))?;
    let index = state.find_by_arn(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &state.services[index];
    express_only(svc)?;
    if ctx.now < svc.created_at + state.read_after_create_lag {
        // NB: an eventually consistent read right after the create (E37); off by default.
        return Err(not_found(&arn));
    }
    if svc.lifecycle(ctx.now) == Lifecycle::Inactive {
        return Err(not_active(svc, ctx.now));
    }
    let tags = include_tags(input.include.as_deref());
    Ok(json!({ "service": super::render::express_service(svc, ctx.now, tags) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    service_arn: Option<String>,
}

pub(super) fn delete(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: DeleteInput = parse_input(body)?;
    let arn = input
        .service_arn
        .ok_or_else(|| invalid("serviceArn must be specified."))?;
    let index = state.find_by_arn(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &mut state.services[index];
    express_only(svc)?;
    if svc.lifecycle(ctx.now) != Lifecycle::Active {
        return Err(not_active(svc, ctx.now));
    }
    svc.stop_in_flight(
        ctx.now,
        "Service deployment stopped: the service is being deleted.",
    );
    svc.deleted_at = Some(ctx.now);
    svc.updated_at = ctx.now;
    Ok(json!({ "service": super::render::express_service(svc, ctx.now, true) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_dns_labels_under_the_region() {
        let endpoint = endpoint_for("My_Service", "eu-west-1");
        assert!(endpoint.starts_with("my-service-"), "{endpoint}");
        assert!(endpoint.ends_with(".ecs.eu-west-1.on.aws"), "{endpoint}");
    }

    #[test]
    fn service_names_follow_the_ecs_rules() {
        assert!(valid_service_name("web_app-1"));
        assert!(!valid_service_name("web app"));
        assert!(!valid_service_name(""));
    }
}
