//! App Runner VPC ingress connections (docs/aws-behaviour.md A25): what makes a service reachable
//! from inside a VPC through an interface endpoint. A service with an AVAILABLE connection cannot be
//! deleted: DeleteService answers `InvalidStateException` ([`blocking_delete`]).
//!
//! Data flow: CreateVpcIngressConnection stores an AVAILABLE connection for an existing service;
//! Describe and Delete take its full ARN; a deletion marks it DELETED and `AppRunnerState::prune`
//! forgets it after the DELETED retention. The record, `VpcIngressConnection`, lives in `model`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::lifecycle::ServiceStatus;
use super::model::{AppRunnerState, VpcIngressConnection};
use super::responses::{invalid, not_found, page_within, paged};
use super::types::{Tag, required_name, to_wire, validate_tags};
use crate::ids;
use crate::wire::{AwsError, RequestContext, parse_input};

/// The ARN of an AVAILABLE connection of the service `service_arn`, which keeps DeleteService from
/// deleting it: "Make sure that you don't have any active VPCIngressConnections associated with the
/// service you want to delete" (botocore `apprunner DeleteService`).
pub(super) fn blocking_delete(
    state: &AppRunnerState,
    ctx: &RequestContext,
    service_arn: &str,
) -> Option<String> {
    state
        .ingress
        .iter()
        .find(|c| c.here(ctx) && c.deleted_at.is_none() && c.service_arn == service_arn)
        .map(|c| c.arn.clone())
}

/// The model's `VpcIngressConnection`.
fn render(c: &VpcIngressConnection) -> Value {
    to_wire(json!({
        "VpcIngressConnectionArn": c.arn,
        "VpcIngressConnectionName": c.name,
        "ServiceArn": c.service_arn,
        "Status": c.status(),
        "AccountId": c.account,
        "DomainName": c.domain_name,
        "IngressVpcConfiguration": {"VpcId": c.vpc_id, "VpcEndpointId": c.vpc_endpoint_id},
        "CreatedAt": c.created_at,
        "DeletedAt": c.deleted_at,
    }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct VpcConfig {
    vpc_id: Option<String>,
    vpc_endpoint_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    service_arn: Option<String>,
    vpc_ingress_connection_name: Option<String>,
    ingress_vpc_configuration: Option<VpcConfig>,
    tags: Option<Vec<Tag>>,
}

/// CreateVpcIngressConnection: AVAILABLE at once (AWS passes through PENDING_CREATION; the
/// simulator does not). `InvalidRequestException` for a missing or bad name, a name an AVAILABLE
/// connection has ("It must be unique across all the active VPC Ingress Connections in your Amazon
/// Web Services account in the Amazon Web Services Region"), a missing VPC or endpoint ID, bad tags,
/// or a service that does not exist (the operation declares no `ResourceNotFoundException`; code and
/// texts assumed). Whether the service must be private first is not checked.
pub(super) fn create(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: CreateInput = parse_input(body)?;
    let name = required_name(input.vpc_ingress_connection_name, "VpcIngressConnectionName", 40)?;
    let config = input.ingress_vpc_configuration.unwrap_or_default();
    let (Some(vpc_id), Some(vpc_endpoint_id)) = (
        config.vpc_id.filter(|v| !v.is_empty()),
        config.vpc_endpoint_id.filter(|v| !v.is_empty()),
    ) else {
        return Err(invalid(
            "IngressVpcConfiguration needs a VpcId and a VpcEndpointId.",
        ));
    };
    let tags = input.tags.unwrap_or_default();
    validate_tags(&tags)?;
    let service_arn = input.service_arn.unwrap_or_default();
    let service = state
        .find(ctx, &service_arn)
        .filter(|&i| state.services[i].status(ctx.now) != ServiceStatus::Deleted)
        .ok_or_else(|| {
            invalid(format!(
                "The service {service_arn} does not exist in your account."
            ))
        })?;
    if state
        .ingress
        .iter()
        .any(|c| c.here(ctx) && c.deleted_at.is_none() && c.name == name)
    {
        return Err(invalid(format!(
            "A VPC ingress connection with the name {name} already exists."
        )));
    }
    let connection = VpcIngressConnection {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        arn: format!(
            "arn:aws:apprunner:{}:{}:vpcingressconnection/{name}/{}",
            ctx.region,
            ctx.account,
            ids::hex(32)
        ),
        name,
        service_arn,
        vpc_id,
        vpc_endpoint_id,
        domain_name: state.services[service].url.clone(),
        created_at: ctx.now,
        deleted_at: None,
        tags,
    };
    let out = render(&connection);
    state.ingress.push(connection);
    Ok(json!({ "VpcIngressConnection": out }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    vpc_ingress_connection_arn: Option<String>,
}

/// The connection the request names, AVAILABLE or DELETED; `ResourceNotFoundException` otherwise.
fn named(state: &AppRunnerState, ctx: &RequestContext, body: Value) -> Result<usize, AwsError> {
    let input: ArnInput = parse_input(body)?;
    let arn = input
        .vpc_ingress_connection_arn
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("VpcIngressConnectionArn is required."))?;
    state
        .ingress
        .iter()
        .position(|c| c.here(ctx) && c.arn == arn)
        .ok_or_else(|| not_found(&arn))
}

/// DescribeVpcIngressConnection, by full ARN.
pub(super) fn describe(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let index = named(state, ctx, body)?;
    Ok(json!({ "VpcIngressConnection": render(&state.ingress[index]) }))
}

/// DeleteVpcIngressConnection: DELETED with `DeletedAt` at once (AWS passes through
/// PENDING_DELETION). One already DELETED is `InvalidStateException`: it is not in one of the
/// states the operation deletes (AVAILABLE, FAILED_*).
pub(super) fn delete(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let index = named(state, ctx, body)?;
    let connection = &mut state.ingress[index];
    if connection.deleted_at.is_some() {
        return Err(AwsError::new(
            "InvalidStateException",
            format!(
                "The VPC ingress connection {} is already deleted.",
                connection.arn
            ),
        ));
    }
    connection.deleted_at = Some(ctx.now);
    Ok(json!({ "VpcIngressConnection": render(connection) }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListFilter {
    service_arn: Option<String>,
    vpc_endpoint_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    filter: Option<ListFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// ListVpcIngressConnections: the AVAILABLE connections of the caller's account and Region (whether
/// DELETED ones are listed is not documented), oldest first, filtered by service and endpoint,
/// paged with `MaxResults` 1–100.
pub(super) fn list(state: &mut AppRunnerState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: ListInput = parse_input(body)?;
    let (offset, size) = page_within(input.next_token.as_deref(), input.max_results, 100)?;
    let filter = input.filter.unwrap_or_default();
    let items: Vec<Value> = state
        .ingress
        .iter()
        .filter(|c| c.here(ctx) && c.deleted_at.is_none())
        .filter(|c| filter.service_arn.as_ref().is_none_or(|s| *s == c.service_arn))
        .filter(|c| {
            filter
                .vpc_endpoint_id
                .as_ref()
                .is_none_or(|e| *e == c.vpc_endpoint_id)
        })
        .map(|c| json!({"VpcIngressConnectionArn": c.arn, "ServiceArn": c.service_arn}))
        .collect();
    Ok(paged(items, offset, size, "VpcIngressConnectionSummaryList"))
}
