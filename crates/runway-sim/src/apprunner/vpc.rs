//! App Runner VPC connectors (docs/aws-behaviour.md A23): the subnets and security groups a service
//! with `EgressType: VPC` sends its outbound traffic through, named by the service's
//! `NetworkConfiguration.EgressConfiguration.VpcConnectorArn`.
//!
//! Data flow: CreateVpcConnector stores revision 1 of a name ("At this time, App Runner supports
//! only one revision per name"); Describe and Delete take the full ARN only; a deletion marks the
//! connector INACTIVE and `AppRunnerState::prune` forgets it after the DELETED retention.
//! CreateService/UpdateService check the connector they name with [`settle_egress`]. The
//! connector's record, `VpcConnector`, lives in `model` with the rest of the App Runner state.

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{AppRunnerState, VpcConnector};
use super::responses::{invalid, not_found, page_within, paged};
use super::types::{ServiceConfig, Tag, required_name, to_wire, validate_tags};
use crate::ids;
use crate::wire::{AwsError, RequestContext, parse_input};

/// The connector a service's configuration sends its egress through.
fn connector_of(config: &ServiceConfig) -> Option<&str> {
    config
        .network_configuration
        .as_ref()?
        .egress_configuration
        .as_ref()?
        .vpc_connector_arn
        .as_deref()
}

/// The connector with this (full) ARN in the caller's account and Region, ACTIVE or INACTIVE.
pub(super) fn find(state: &AppRunnerState, ctx: &RequestContext, arn: &str) -> Option<usize> {
    state.connectors.iter().position(|c| c.here(ctx) && c.arn == arn)
}

/// Checks the egress of a configuration a CreateService or UpdateService produced. With
/// `EgressType: VPC`, the connector the request named (`requested`; an update that names none keeps
/// its connector, which cannot have been deleted while in use) must be an ACTIVE connector of the
/// caller's account and Region: otherwise `InvalidRequestException` (assumed). With `DEFAULT`, a
/// connector ARN is dropped: it is "Only valid when `EgressType = VPC`" (botocore `apprunner
/// EgressConfiguration.VpcConnectorArn`), so a service switched back to DEFAULT reports none.
pub(super) fn settle_egress(
    state: &AppRunnerState,
    ctx: &RequestContext,
    config: &mut ServiceConfig,
    requested: Option<&str>,
) -> Result<(), AwsError> {
    let Some(egress) = config
        .network_configuration
        .as_mut()
        .and_then(|n| n.egress_configuration.as_mut())
    else {
        return Ok(());
    };
    if egress.egress_type.as_deref() != Some("VPC") {
        egress.vpc_connector_arn = None;
        return Ok(());
    }
    if let Some(arn) = requested {
        let active = find(state, ctx, arn).is_some_and(|index| state.connectors[index].is_active());
        if !active {
            return Err(invalid(format!(
                "The VPC connector {arn} does not exist in your account."
            )));
        }
    }
    Ok(())
}

fn status(connector: &VpcConnector) -> &'static str {
    if connector.is_active() {
        "ACTIVE"
    } else {
        "INACTIVE"
    }
}

/// The model's `VpcConnector`.
fn render(connector: &VpcConnector) -> Value {
    to_wire(json!({
        "VpcConnectorName": connector.name,
        "VpcConnectorArn": connector.arn,
        "VpcConnectorRevision": connector.revision,
        "Subnets": connector.subnets,
        "SecurityGroups": connector.security_groups,
        "Status": status(connector),
        "CreatedAt": connector.created_at,
        "DeletedAt": connector.deleted_at,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    vpc_connector_name: Option<String>,
    subnets: Option<Vec<String>>,
    security_groups: Option<Vec<String>>,
    tags: Option<Vec<Tag>>,
}

/// CreateVpcConnector: revision 1, ACTIVE. `InvalidRequestException` for a missing or bad name, no
/// subnets ("specify the VPC, one or more subnets, and optionally one or more security groups", App
/// Runner guide, network-vpc), an empty subnet or security group ID, bad tags, or a name an ACTIVE
/// connector has (only one revision per name; code and text assumed). Without `SecurityGroups`, "App
/// Runner uses the default security group of the Amazon VPC"; the simulator has no VPCs to look it
/// up in and reports `SecurityGroups: []` (assumed).
pub(super) fn create(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: CreateInput = parse_input(body)?;
    let name = required_name(input.vpc_connector_name, "VpcConnectorName", 40)?;
    let subnets = input.subnets.unwrap_or_default();
    if subnets.is_empty() {
        return Err(invalid("Subnets must name at least one subnet."));
    }
    let security_groups = input.security_groups.unwrap_or_default();
    if subnets.iter().chain(&security_groups).any(String::is_empty) {
        return Err(invalid("Subnet and security group IDs must not be empty."));
    }
    let tags = input.tags.unwrap_or_default();
    validate_tags(&tags)?;
    let taken = state
        .connectors
        .iter()
        .any(|c| c.here(ctx) && c.is_active() && c.name == name);
    if taken {
        return Err(invalid(format!(
            "A VPC connector with the name {name} already exists."
        )));
    }
    let revision = 1;
    let connector = VpcConnector {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        arn: format!(
            "arn:aws:apprunner:{}:{}:vpcconnector/{name}/{revision}/{}",
            ctx.region,
            ctx.account,
            ids::hex(32)
        ),
        name,
        revision,
        subnets,
        security_groups,
        created_at: ctx.now,
        deleted_at: None,
        tags,
    };
    let out = render(&connector);
    state.connectors.push(connector);
    Ok(json!({ "VpcConnector": out }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    vpc_connector_arn: Option<String>,
}

fn require_arn(body: Value) -> Result<String, AwsError> {
    let input: ArnInput = parse_input(body)?;
    input
        .vpc_connector_arn
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("VpcConnectorArn is required."))
}

/// DescribeVpcConnector: "The ARN must be a full VPC connector ARN." ACTIVE or INACTIVE (until it
/// is forgotten); anything else, a partial ARN included, is `ResourceNotFoundException`.
pub(super) fn describe(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let arn = require_arn(body)?;
    let index = find(state, ctx, &arn).ok_or_else(|| not_found(&arn))?;
    Ok(json!({ "VpcConnector": render(&state.connectors[index]) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// ListVpcConnectors: the ACTIVE connectors of the caller's account and Region (assumed: the model
/// does not say whether INACTIVE ones are listed), oldest first, paged with `MaxResults` 1–100.
pub(super) fn list(state: &mut AppRunnerState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: ListInput = parse_input(body)?;
    let (offset, size) = page_within(input.next_token.as_deref(), input.max_results, 100)?;
    let items: Vec<Value> = state
        .connectors
        .iter()
        .filter(|c| c.here(ctx) && c.is_active())
        .map(render)
        .collect();
    Ok(paged(items, offset, size, "VpcConnectors"))
}

/// DeleteVpcConnector: INACTIVE with `DeletedAt`, and the connector is answered. "You can't delete
/// a connector that's used by one or more App Runner services": `InvalidRequestException` (code
/// assumed). An unknown or already INACTIVE connector is `ResourceNotFoundException` (assumed;
/// terraform-provider-aws treats that code as "already deleted").
pub(super) fn delete(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let arn = require_arn(body)?;
    let index = find(state, ctx, &arn)
        .filter(|&index| state.connectors[index].is_active())
        .ok_or_else(|| not_found(&arn))?;
    if state.used_by_a_service(&ctx.account, &ctx.region, ctx.now, &arn, connector_of) {
        return Err(invalid(format!(
            "You can't delete VPC connector {arn}: one or more App Runner services use it."
        )));
    }
    state.connectors[index].deleted_at = Some(ctx.now);
    Ok(json!({ "VpcConnector": render(&state.connectors[index]) }))
}
