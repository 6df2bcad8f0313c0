//! The App Runner service actions and the tag actions. Mutating service actions refuse to start
//! while an operation is in progress (InvalidStateException) and otherwise append an operation and
//! return its `OperationId`. The tag actions (TagResource, UntagResource, ListTagsForResource) are
//! metadata only: they start no operation and are accepted on a service in any status but DELETED,
//! and on auto scaling configurations and VPC connectors that are ACTIVE. The configuration and
//! connector actions are in `scaling` and `vpc`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::lifecycle::{AppRunnerService, Operation, OperationType, ServiceStatus};
use super::model::{AppRunnerFault, AppRunnerState};
use super::responses::{invalid, not_found, page_within, paged};
use super::types::{
    CreateInput, MAX_TAGS, Tag, UpdateInput, to_wire, valid_service_name, validate_tag_key, validate_tags,
};
use super::{ingress, render, scaling, vpc};
use crate::clock::Timestamp;
use crate::ids;
use crate::wire::{AwsError, RequestContext, parse_input};

/// The model's `Service` for the service at `index`.
fn render_service(state: &AppRunnerState, index: usize, now: Timestamp) -> Value {
    let svc = &state.services[index];
    render::service(svc, now, scaling::service_summary(state, svc, now))
}

/// The VPC connector a CreateService or UpdateService request names, if any.
fn requested_connector(config: &super::types::ServiceConfig) -> Option<String> {
    config
        .network_configuration
        .as_ref()?
        .egress_configuration
        .as_ref()?
        .vpc_connector_arn
        .clone()
}

/// App Runner cannot assume a role IAM has not propagated yet (docs/aws-behaviour.md A17).
fn refused_role(
    state: &mut AppRunnerState,
    config: &super::types::ServiceConfig,
    now: f64,
) -> Result<(), AwsError> {
    let instance = config
        .instance_configuration
        .as_ref()
        .and_then(|i| i.instance_role_arn.clone());
    let access = config
        .source_configuration
        .as_ref()
        .and_then(|s| s.authentication_configuration.as_ref())
        .and_then(|a| a.access_role_arn.clone());
    for (which, role) in [("instance", instance), ("access", access)] {
        if let Some(role) = role
            && state.iam.refused([role.as_str()], now).is_some()
        {
            return Err(invalid(format!("Error in assuming {which} role {role}")));
        }
    }
    Ok(())
}

fn invalid_state(svc: &AppRunnerService, now: f64, action: &str) -> AwsError {
    AwsError::new(
        "InvalidStateException",
        format!(
            "You can't {action} service {} while it is in status {}.",
            svc.arn,
            svc.status(now).as_str()
        ),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    service_arn: Option<String>,
}

fn require_arn(body: Value) -> Result<String, AwsError> {
    let input: ArnInput = parse_input(body)?;
    input
        .service_arn
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("ServiceArn is required."))
}

/// Appends an operation and returns its ID. An injected hang makes it last forever.
fn start(
    state: &mut AppRunnerState,
    index: usize,
    kind: OperationType,
    now: f64,
    fails: bool,
    config: Option<super::types::ServiceConfig>,
) -> String {
    let name = state.services[index].name.clone();
    let duration = if state.take(&name, AppRunnerFault::Hang) {
        f64::INFINITY
    } else {
        state.timings.operation_seconds
    };
    let svc = &mut state.services[index];
    let id = ids::uuid_v4();
    let status_before = svc.status(now);
    svc.operations.push(Operation {
        id: id.clone(),
        kind,
        started_at: now,
        duration,
        fails,
        config,
        status_before,
    });
    id
}

pub(super) fn create(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: CreateInput = parse_input(body)?;
    let name = input
        .service_name
        .ok_or_else(|| invalid("ServiceName is required."))?;
    if !valid_service_name(&name) {
        return Err(invalid(format!(
            "ServiceName {name:?} must match [A-Za-z0-9][A-Za-z0-9-_]{{3,39}}."
        )));
    }
    let tags = input.tags.unwrap_or_default();
    validate_tags(&tags)?;
    refused_role(state, &input.config, ctx.now)?;
    let requested_connector = requested_connector(&input.config);
    let mut config = input.config.validated(true)?.with_defaults();
    // NB: a service without an auto scaling configuration uses the account's default, and reports
    // its ARN (docs/aws-behaviour.md A22); one it names is reported as the full ARN of the revision
    // it resolved to.
    let default = scaling::ensure_default(state, ctx);
    config.auto_scaling_configuration_arn = Some(match &config.auto_scaling_configuration_arn {
        None => state.scaling[default].arn.clone(),
        Some(arn) => scaling::resolve_for_service(state, ctx, arn)?,
    });
    vpc::settle_egress(state, ctx, &mut config, requested_connector.as_deref())?;
    let live_here = |svc: &&AppRunnerService| {
        svc.account == ctx.account
            && svc.region == ctx.region
            && svc.status(ctx.now) != ServiceStatus::Deleted
    };
    let taken = state
        .services
        .iter()
        .filter(live_here)
        .any(|svc| svc.name == name);
    if taken {
        return Err(invalid(format!(
            "Service with the provided name already exists: {name}"
        )));
    }
    let in_region = state.services.iter().filter(live_here).count();
    if in_region >= state.service_quota {
        return Err(AwsError::new(
            "ServiceQuotaExceededException",
            "You've reached your account quota for this resource type.",
        ));
    }
    let id = ids::hex(32);
    let fails = state.take(&name, AppRunnerFault::CreateFailed);
    let svc = AppRunnerService {
        arn: format!(
            "arn:aws:apprunner:{}:{}:service/{name}/{id}",
            ctx.region, ctx.account
        ),
        url: format!("{}.{}.awsapprunner.com", ids::alphanumeric(10), ctx.region),
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        name,
        id,
        created_at: ctx.now,
        tags,
        encryption: input.encryption_configuration,
        operations: Vec::new(),
    };
    state.services.push(svc);
    let index = state.services.len() - 1;
    let operation_id = start(
        state,
        index,
        OperationType::CreateService,
        ctx.now,
        fails,
        Some(config),
    );
    // NB: the create operation must report the pre-create status as in progress, not CREATE_FAILED.
    if let Some(op) = state.services[index].operations.last_mut() {
        op.status_before = ServiceStatus::OperationInProgress;
    }
    Ok(json!({ "Service": render_service(state, index, ctx.now), "OperationId": operation_id }))
}

pub(super) fn update(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: UpdateInput = parse_input(body)?;
    let arn = input
        .service_arn
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("ServiceArn is required."))?;
    let index = state.find(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let name = state.services[index].name.clone();
    if state.services[index].status(ctx.now) == ServiceStatus::Running
        && state.take(&name, AppRunnerFault::ConcurrentOperation)
    {
        // Someone else's StartDeployment lands first.
        let config = Some(state.services[index].config(ctx.now));
        start(
            state,
            index,
            OperationType::StartDeployment,
            ctx.now,
            false,
            config,
        );
    }
    refused_role(state, &input.config, ctx.now)?;
    let requested_scaling = input.config.auto_scaling_configuration_arn.clone();
    let requested_connector = requested_connector(&input.config);
    scaling::ensure_default(state, ctx);
    let svc = &state.services[index];
    match svc.status(ctx.now) {
        ServiceStatus::Running | ServiceStatus::CreateFailed | ServiceStatus::Paused => {}
        ServiceStatus::Deleted => return Err(not_found(&arn)),
        _ => return Err(invalid_state(svc, ctx.now, "update")),
    }
    let mut config = svc
        .config(ctx.now)
        .merged(input.config)?
        .validated(false)?
        .with_defaults();
    let name = svc.name.clone();
    if let Some(requested) = requested_scaling {
        config.auto_scaling_configuration_arn = Some(scaling::resolve_for_service(state, ctx, &requested)?);
    }
    vpc::settle_egress(state, ctx, &mut config, requested_connector.as_deref())?;
    let fails = state.take(&name, AppRunnerFault::Rollback);
    let operation_id = start(
        state,
        index,
        OperationType::UpdateService,
        ctx.now,
        fails,
        Some(config),
    );
    let service = render_service(state, index, ctx.now);
    if state.take(&name, AppRunnerFault::NoOperationId) {
        // NB: reported in aws/apprunner-roadmap#139 although the model requires it (A20).
        return Ok(json!({ "Service": service }));
    }
    Ok(json!({ "Service": service, "OperationId": operation_id }))
}

pub(super) fn describe(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let arn = require_arn(body)?;
    let index = state.find(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    Ok(json!({ "Service": render_service(state, index, ctx.now) }))
}

pub(super) fn delete(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let arn = require_arn(body)?;
    let index = state.find(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &state.services[index];
    match svc.status(ctx.now) {
        ServiceStatus::Deleted => return Err(not_found(&arn)),
        ServiceStatus::OperationInProgress => return Err(invalid_state(svc, ctx.now, "delete")),
        _ => {}
    }
    if let Some(connection) = ingress::blocking_delete(state, ctx, &arn) {
        // NB: the text App Runner answers (hashicorp/terraform-provider-aws#40896,
        // docs/aws-behaviour.md A25).
        return Err(AwsError::new(
            "InvalidStateException",
            format!(
                "You cannot delete a Service while it has VpcIngressConnections with a status of \
                 AVAILABLE. Service Arn: {arn} VpcIngressConnection Arn: {connection}"
            ),
        ));
    }
    let svc = &state.services[index];
    let config = Some(svc.config(ctx.now));
    let operation_id = start(state, index, OperationType::DeleteService, ctx.now, false, config);
    Ok(json!({ "Service": render_service(state, index, ctx.now), "OperationId": operation_id }))
}

fn transition(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
    kind: OperationType,
    from: ServiceStatus,
    verb: &str,
) -> Result<Value, AwsError> {
    let arn = require_arn(body)?;
    let index = state.find(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &state.services[index];
    match svc.status(ctx.now) {
        ServiceStatus::Deleted => return Err(not_found(&arn)),
        status if status != from => return Err(invalid_state(svc, ctx.now, verb)),
        _ => {}
    }
    let operation_id = start(state, index, kind, ctx.now, false, None);
    Ok(json!({ "Service": render_service(state, index, ctx.now), "OperationId": operation_id }))
}

pub(super) fn pause(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    transition(
        state,
        ctx,
        body,
        OperationType::PauseService,
        ServiceStatus::Running,
        "pause",
    )
}

pub(super) fn resume(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    transition(
        state,
        ctx,
        body,
        OperationType::ResumeService,
        ServiceStatus::Paused,
        "resume",
    )
}

/// An image push: App Runner itself starts a START_DEPLOYMENT operation on every RUNNING service in
/// `region` that runs `image` with automatic deployments on (docs/aws-behaviour.md A6). It is not a
/// caller's API call, so no call is counted. Returns the services deployed.
pub(super) fn push_image(state: &mut AppRunnerState, image: &str, now: f64) -> Vec<String> {
    let targets: Vec<usize> = state
        .services
        .iter()
        .enumerate()
        .filter(|(_, svc)| svc.status(now) == ServiceStatus::Running)
        .filter(|(_, svc)| {
            let config = svc.config(now);
            let source = config.source_configuration.unwrap_or_default();
            source.auto_deployments_enabled == Some(true)
                && source
                    .image_repository
                    .is_some_and(|i| i.image_identifier.as_deref() == Some(image))
        })
        .map(|(i, _)| i)
        .collect();
    targets
        .into_iter()
        .map(|index| {
            let config = Some(state.services[index].config(now));
            start(state, index, OperationType::StartDeployment, now, false, config);
            state.services[index].arn.clone()
        })
        .collect()
}

pub(super) fn start_deployment(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let arn = require_arn(body)?;
    let index = state.find(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &state.services[index];
    match svc.status(ctx.now) {
        ServiceStatus::Running => {}
        ServiceStatus::Deleted => return Err(not_found(&arn)),
        // NB: StartDeployment does not declare InvalidStateException in the model, so a service
        // that cannot deploy now gets the modeled InvalidRequestException.
        status => {
            return Err(invalid(format!(
                "You can't start a deployment of service {arn} while it is in status {}.",
                status.as_str()
            )));
        }
    }
    let config = Some(svc.config(ctx.now));
    let name = svc.name.clone();
    let fails = state.take(&name, AppRunnerFault::Rollback);
    let operation_id = start(
        state,
        index,
        OperationType::StartDeployment,
        ctx.now,
        fails,
        config,
    );
    Ok(json!({ "OperationId": operation_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PageInput {
    service_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// Decodes paging parameters: the start offset and the page size (all when unset).
fn page(input: &PageInput) -> Result<(usize, usize), AwsError> {
    page_within(input.next_token.as_deref(), input.max_results, 20)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsInput {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

fn require_resource_arn(arn: Option<String>) -> Result<String, AwsError> {
    arn.filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("ResourceArn is required."))
}

/// The tags of the resource an ARN names in the caller's account and Region: a service, an auto
/// scaling configuration revision (by its full ARN) or a VPC connector, and whether that resource is
/// deleted (a DELETED service, an INACTIVE configuration or connector).
fn tags_of<'a>(
    state: &'a mut AppRunnerState,
    ctx: &RequestContext,
    arn: &str,
) -> Option<(&'a mut Vec<Tag>, bool)> {
    // NB: the built-in auto scaling configuration exists before anything used it.
    scaling::ensure_default(state, ctx);
    if let Some(index) = state.find(ctx, arn) {
        let deleted = state.services[index].status(ctx.now) == ServiceStatus::Deleted;
        return Some((&mut state.services[index].tags, deleted));
    }
    let here = |account: &str, region: &str| account == ctx.account && region == ctx.region;
    if let Some(config) = state
        .scaling
        .iter_mut()
        .find(|c| c.arn == arn && here(&c.account, &c.region))
    {
        let deleted = !config.is_active();
        return Some((&mut config.tags, deleted));
    }
    state
        .connectors
        .iter_mut()
        .find(|c| c.arn == arn && here(&c.account, &c.region))
        .map(|connector| {
            let deleted = !connector.is_active();
            (&mut connector.tags, deleted)
        })
}

/// The tags a TagResource or UntagResource changes. A DELETED service (or an INACTIVE configuration
/// or connector) is not found, as for every other mutating call (docs/aws-behaviour.md A21).
fn taggable<'a>(
    state: &'a mut AppRunnerState,
    ctx: &RequestContext,
    arn: &str,
) -> Result<&'a mut Vec<Tag>, AwsError> {
    match tags_of(state, ctx, arn) {
        Some((tags, false)) => Ok(tags),
        _ => Err(not_found(arn)),
    }
}

/// TagResource: "If a key is new to the resource, the tag is added with the provided value. If a key
/// is already associated with the resource, the value of the tag is updated." Tags the request does
/// not name are unchanged. At most 50 tags after the change (`InvalidRequestException`, the only
/// validation code the operation declares).
/// NB: no operation is started and the service may be in any status but DELETED, an operation in
/// progress included: tags are not configuration (A14, A21; assumed, no source says otherwise).
pub(super) fn tag_resource(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: TagsInput = parse_input(body)?;
    let arn = require_resource_arn(input.resource_arn)?;
    let tags = input.tags.ok_or_else(|| invalid("Tags is required."))?;
    validate_tags(&tags)?;
    let current = taggable(state, ctx, &arn)?;
    let mut next = current.clone();
    for tag in tags {
        match next.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => next.push(tag),
        }
    }
    if next.len() > MAX_TAGS {
        return Err(invalid(format!(
            "A resource can have at most {MAX_TAGS} tags; this request would leave {}.",
            next.len()
        )));
    }
    *current = next;
    Ok(json!({}))
}

/// UntagResource: removes the named keys; a key the service does not have is no error.
pub(super) fn untag_resource(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: TagsInput = parse_input(body)?;
    let arn = require_resource_arn(input.resource_arn)?;
    let keys = input.tag_keys.ok_or_else(|| invalid("TagKeys is required."))?;
    for key in &keys {
        validate_tag_key(Some(key))?;
    }
    taggable(state, ctx, &arn)?.retain(|t| t.key.as_ref().is_none_or(|key| !keys.contains(key)));
    Ok(json!({}))
}

/// ListTagsForResource: the service's tags as CreateService, TagResource and UntagResource left them.
/// ListServices reports none, so this is how a caller tells whose a service is
/// (docs/aws-behaviour.md A11). A DELETED service that is still described still has its tags. The
/// same for an auto scaling configuration revision (full ARN) or a VPC connector, INACTIVE included.
pub(super) fn list_tags_for_resource(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: TagsInput = parse_input(body)?;
    let arn = require_resource_arn(input.resource_arn)?;
    let (tags, _) = tags_of(state, ctx, &arn).ok_or_else(|| not_found(&arn))?;
    // NB: a tag without a Value is sent without one, never as null.
    Ok(to_wire(json!({ "Tags": tags })))
}

pub(super) fn list_services(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: PageInput = parse_input(body)?;
    let (offset, size) = page(&input)?;
    let items: Vec<Value> = state
        .services
        .iter()
        .filter(|svc| {
            svc.account == ctx.account
                && svc.region == ctx.region
                && svc.status(ctx.now) != ServiceStatus::Deleted
        })
        .map(|svc| render::summary(svc, ctx.now))
        .collect();
    Ok(paged(items, offset, size, "ServiceSummaryList"))
}

pub(super) fn list_operations(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: PageInput = parse_input(body)?;
    let (offset, size) = page(&input)?;
    let arn = input
        .service_arn
        .clone()
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("ServiceArn is required."))?;
    let index = state.find(ctx, &arn).ok_or_else(|| not_found(&arn))?;
    let svc = &state.services[index];
    // NB: newest first, as App Runner lists them.
    let items: Vec<Value> = svc
        .operations
        .iter()
        .rev()
        .map(|op| render::operation(svc, op, ctx.now))
        .collect();
    Ok(paged(items, offset, size, "OperationSummaryList"))
}
