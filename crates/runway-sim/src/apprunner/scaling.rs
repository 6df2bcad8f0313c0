//! App Runner auto scaling configurations (docs/aws-behaviour.md A22): numbered revisions of
//! `MaxConcurrency`, `MinSize` and `MaxSize` under a name, which services name by ARN, and AWS's
//! built-in `DefaultConfiguration`, which every account has in every Region and every service
//! without an `AutoScalingConfigurationArn` uses.
//!
//! Data flow: every action and every CreateService/UpdateService first makes sure the caller's
//! account has its `DefaultConfiguration` ([`ensure_default`]), then resolves ARNs with [`find`]
//! (full ARN, `…/<name>/<revision>` or `…/<name>` for the latest ACTIVE revision). A deletion
//! marks a revision INACTIVE; `AppRunnerState::prune` forgets it after the DELETED retention.
//! `Latest` and `HasAssociatedService` are derived on every render. A revision's record,
//! `AutoScalingConfig`, lives in `model` with the rest of the App Runner state.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};

use super::lifecycle::AppRunnerService;
use super::model::{AppRunnerState, AutoScalingConfig};
use super::responses::{invalid, not_found, page_within, paged};
use super::types::{ServiceConfig, Tag, required_name, to_wire, valid_resource_name, validate_tags};
use crate::clock::Timestamp;
use crate::ids;
use crate::wire::{AwsError, RequestContext, parse_input};

/// The name of AWS's built-in configuration.
pub const DEFAULT_NAME: &str = "DefaultConfiguration";

/// The ID in the ARN of AWS's built-in configuration, the same in every account: public scripts and
/// templates name `…:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001`.
pub const DEFAULT_ID: &str = "00000000000000000000000000000001";

/// `MaxConcurrency` when CreateAutoScalingConfiguration leaves it out, and the built-in
/// configuration's (botocore `apprunner CreateAutoScalingConfigurationRequest.MaxConcurrency`).
pub const DEFAULT_MAX_CONCURRENCY: i64 = 100;

/// `MinSize` default (`CreateAutoScalingConfigurationRequest.MinSize`).
pub const DEFAULT_MIN_SIZE: i64 = 1;

/// `MaxSize` default (`CreateAutoScalingConfigurationRequest.MaxSize`).
pub const DEFAULT_MAX_SIZE: i64 = 25;

/// The highest `MaxSize` an account may set. NB: the model sets no maximum; 25 is App Runner's
/// default per-account limit, which AWS Support can raise (aws/apprunner-roadmap#67,
/// hashicorp/terraform-provider-aws#39830). The simulator has no way to raise it.
pub const MAX_SIZE_LIMIT: i64 = 25;

/// Configuration names per account and Region ("You can have up to 10 unique auto scaling
/// configuration names", App Runner guide, manage-autoscaling).
pub const MAX_NAMES: usize = 10;

/// ACTIVE revisions per name ("and up to 5 revisions for each configuration").
pub const MAX_REVISIONS: usize = 5;

/// The ARN of a configuration's revision.
fn arn(ctx: &RequestContext, name: &str, revision: i64, id: &str) -> String {
    format!(
        "{}:autoscalingconfiguration/{name}/{revision}/{id}",
        arn_head(ctx)
    )
}

/// What every ARN of the caller's account and Region starts with: `arn:aws:apprunner:<region>:<account>`.
fn arn_head(ctx: &RequestContext) -> String {
    format!("arn:aws:apprunner:{}:{}", ctx.region, ctx.account)
}

/// The configuration the `AutoScalingConfigurationArn` of a service's configuration names.
fn arn_of(config: &ServiceConfig) -> Option<&str> {
    config.auto_scaling_configuration_arn.as_deref()
}

/// Creates the caller's `DefaultConfiguration` (revision 1, 100/1/25, `IsDefault`) the first time
/// its account and Region are used, and returns its index. NB: AWS provides it in every account;
/// the simulator creates it on first use, so its `CreatedAt` is that moment.
pub(super) fn ensure_default(state: &mut AppRunnerState, ctx: &RequestContext) -> usize {
    if let Some(index) = state.scaling.iter().position(|c| c.here(ctx) && c.is_default) {
        return index;
    }
    let key = (ctx.account.clone(), ctx.region.clone(), DEFAULT_NAME.to_string());
    let issued = state.scaling_revisions.entry(key).or_default();
    *issued = (*issued).max(1);
    state.scaling.push(AutoScalingConfig {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        name: DEFAULT_NAME.to_string(),
        revision: 1,
        arn: arn(ctx, DEFAULT_NAME, 1, DEFAULT_ID),
        max_concurrency: DEFAULT_MAX_CONCURRENCY,
        min_size: DEFAULT_MIN_SIZE,
        max_size: DEFAULT_MAX_SIZE,
        created_at: ctx.now,
        deleted_at: None,
        is_default: true,
        tags: Vec::new(),
    });
    state.scaling.len() - 1
}

/// The configuration an ARN names in the caller's account and Region, as
/// DescribeAutoScalingConfiguration reads it: "The ARN can be a full auto scaling configuration
/// ARN, or a partial ARN ending with either `.../name` or `.../name/revision`. If a revision isn't
/// specified, the latest active revision is described." `Ok(None)` when there is none (another
/// account's or Region's ARN included); `InvalidRequestException` for a string that is not an auto
/// scaling configuration ARN (assumed).
pub(super) fn find(
    state: &AppRunnerState,
    ctx: &RequestContext,
    arn: &str,
) -> Result<Option<usize>, AwsError> {
    let Some((head, rest)) = arn.split_once(":autoscalingconfiguration/") else {
        return Err(invalid(format!(
            "{arn} is not an App Runner auto scaling configuration ARN."
        )));
    };
    if head != arn_head(ctx) {
        return Ok(None);
    }
    let mine = |c: &AutoScalingConfig| c.here(ctx);
    let parts: Vec<&str> = rest.split('/').collect();
    let found = match parts.as_slice() {
        [name] => latest_active(state, ctx, name),
        // NB: revision numbers are never reused (see `create`), so name and revision name one.
        [name, revision] => revision.parse::<i64>().ok().and_then(|revision| {
            state
                .scaling
                .iter()
                .position(|c| mine(c) && c.name == *name && c.revision == revision)
        }),
        [_, _, _] => state.scaling.iter().position(|c| mine(c) && c.arn == arn),
        _ => None,
    };
    Ok(found)
}

/// The ACTIVE revision of `name` with the highest number.
fn latest_active(state: &AppRunnerState, ctx: &RequestContext, name: &str) -> Option<usize> {
    state
        .scaling
        .iter()
        .enumerate()
        .filter(|(_, c)| c.here(ctx) && c.is_active() && c.name == name)
        .max_by_key(|(_, c)| c.revision)
        .map(|(index, _)| index)
}

/// The full ARN of the ACTIVE configuration a CreateService or UpdateService names (full or partial,
/// as [`find`] reads it; "Specify just the name to associate the latest revision", botocore
/// `apprunner CreateServiceRequest.AutoScalingConfigurationArn`). One that does not exist in the
/// caller's account and Region, or is INACTIVE, is `InvalidRequestException` (assumed).
pub(super) fn resolve_for_service(
    state: &AppRunnerState,
    ctx: &RequestContext,
    arn: &str,
) -> Result<String, AwsError> {
    match find(state, ctx, arn)? {
        Some(index) if state.scaling[index].is_active() => Ok(state.scaling[index].arn.clone()),
        _ => Err(invalid(format!(
            "The auto scaling configuration {arn} does not exist in your account."
        ))),
    }
}

/// Whether a service that is not DELETED uses the configuration (`HasAssociatedService`).
fn has_associated_service(state: &AppRunnerState, config: &AutoScalingConfig, now: Timestamp) -> bool {
    state.used_by_a_service(&config.account, &config.region, now, &config.arn, arn_of)
}

/// `Latest`: the ACTIVE revision with the highest number among those of its name.
fn is_latest(state: &AppRunnerState, config: &AutoScalingConfig) -> bool {
    config.is_active()
        && !state.scaling.iter().any(|other| {
            other.account == config.account
                && other.region == config.region
                && other.name == config.name
                && other.is_active()
                && other.revision > config.revision
        })
}

fn status(config: &AutoScalingConfig) -> &'static str {
    if config.is_active() { "ACTIVE" } else { "INACTIVE" }
}

/// The model's `AutoScalingConfiguration`.
fn render(state: &AppRunnerState, config: &AutoScalingConfig, now: Timestamp) -> Value {
    to_wire(json!({
        "AutoScalingConfigurationArn": config.arn,
        "AutoScalingConfigurationName": config.name,
        "AutoScalingConfigurationRevision": config.revision,
        "Latest": is_latest(state, config),
        "Status": status(config),
        "MaxConcurrency": config.max_concurrency,
        "MinSize": config.min_size,
        "MaxSize": config.max_size,
        "CreatedAt": config.created_at,
        "DeletedAt": config.deleted_at,
        "HasAssociatedService": has_associated_service(state, config, now),
        "IsDefault": config.is_default && config.is_active(),
    }))
}

/// The model's `AutoScalingConfigurationSummary` (ListAutoScalingConfigurations, and a service's
/// `AutoScalingConfigurationSummary`).
fn summary(state: &AppRunnerState, config: &AutoScalingConfig, now: Timestamp) -> Value {
    json!({
        "AutoScalingConfigurationArn": config.arn,
        "AutoScalingConfigurationName": config.name,
        "AutoScalingConfigurationRevision": config.revision,
        "Status": status(config),
        "CreatedAt": config.created_at,
        "HasAssociatedService": has_associated_service(state, config, now),
        "IsDefault": config.is_default && config.is_active(),
    })
}

/// A service's `AutoScalingConfigurationSummary`: the configuration its `AutoScalingConfigurationArn`
/// names. NB: CreateService always records one (the account's default when the request names
/// none), and a configuration in use cannot be deleted, so the fallback (read from the ARN alone,
/// INACTIVE) only shows for a DELETED service whose configuration was deleted and forgotten since.
pub(super) fn service_summary(state: &AppRunnerState, svc: &AppRunnerService, now: Timestamp) -> Value {
    let config = svc.config(now);
    let arn = config.auto_scaling_configuration_arn.unwrap_or_else(|| {
        format!(
            "arn:aws:apprunner:{}:{}:autoscalingconfiguration/{DEFAULT_NAME}/1/{DEFAULT_ID}",
            svc.region, svc.account
        )
    });
    if let Some(config) = state.scaling.iter().find(|c| c.arn == arn) {
        return summary(state, config, now);
    }
    let mut parts = arn
        .split_once(":autoscalingconfiguration/")
        .map(|(_, rest)| rest.split('/'))
        .into_iter()
        .flatten();
    let name = parts
        .next()
        .filter(|n| valid_resource_name(n, 32))
        .unwrap_or(DEFAULT_NAME)
        .to_string();
    let revision = parts.next().and_then(|r| r.parse::<i64>().ok()).unwrap_or(1);
    json!({
        "AutoScalingConfigurationArn": arn,
        "AutoScalingConfigurationName": name,
        "AutoScalingConfigurationRevision": revision,
        "Status": "INACTIVE",
        "CreatedAt": svc.created_at,
        "HasAssociatedService": false,
        "IsDefault": false,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    auto_scaling_configuration_name: Option<String>,
    max_concurrency: Option<i64>,
    min_size: Option<i64>,
    max_size: Option<i64>,
    tags: Option<Vec<Tag>>,
}

/// Checks an integer member against its range.
fn within(member: &str, value: i64, low: i64, high: i64) -> Result<i64, AwsError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "{member} must be between {low} and {high}, got {value}."
        )))
    }
}

/// CreateAutoScalingConfiguration: revision 1 of a new name, or the next revision of an existing
/// one ("When you use the same name in subsequent calls, App Runner creates incremental revisions
/// of the configuration"). `DefaultConfiguration` is no longer reserved: creating it makes
/// revision 2 of the built-in one. `InvalidRequestException` for a bad name, values outside the
/// model's ranges (`MaxConcurrency` 1–200, `MinSize` 1–25, `MaxSize` 1–[`MAX_SIZE_LIMIT`]),
/// `MinSize` > `MaxSize` (assumed) or bad tags; `ServiceQuotaExceededException` past
/// [`MAX_NAMES`] names or [`MAX_REVISIONS`] ACTIVE revisions of a name.
pub(super) fn create(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: CreateInput = parse_input(body)?;
    ensure_default(state, ctx);
    let name = required_name(
        input.auto_scaling_configuration_name,
        "AutoScalingConfigurationName",
        32,
    )?;
    let max_concurrency = within(
        "MaxConcurrency",
        input.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
        1,
        200,
    )?;
    let min_size = within("MinSize", input.min_size.unwrap_or(DEFAULT_MIN_SIZE), 1, 25)?;
    let max_size = within(
        "MaxSize",
        input.max_size.unwrap_or(DEFAULT_MAX_SIZE),
        1,
        MAX_SIZE_LIMIT,
    )?;
    if min_size > max_size {
        return Err(invalid(format!(
            "MinSize ({min_size}) must not be greater than MaxSize ({max_size})."
        )));
    }
    let tags = input.tags.unwrap_or_default();
    validate_tags(&tags)?;
    let active: Vec<&AutoScalingConfig> = state
        .scaling
        .iter()
        .filter(|c| c.here(ctx) && c.is_active())
        .collect();
    let names: BTreeSet<&str> = active.iter().map(|c| c.name.as_str()).collect();
    // NB: the built-in DefaultConfiguration counts as one of the names (assumed).
    if !names.contains(name.as_str()) && names.len() >= MAX_NAMES {
        return Err(AwsError::new(
            "ServiceQuotaExceededException",
            format!("You can have at most {MAX_NAMES} auto scaling configuration names in a Region."),
        ));
    }
    if active.iter().filter(|c| c.name == name).count() >= MAX_REVISIONS {
        return Err(AwsError::new(
            "ServiceQuotaExceededException",
            format!(
                "Auto scaling configuration {name} already has {MAX_REVISIONS} active revisions; \
                 delete one first."
            ),
        ));
    }
    // NB: numbers are never reused, even after every revision of the name was deleted (assumed).
    let key = (ctx.account.clone(), ctx.region.clone(), name.clone());
    let issued = state.scaling_revisions.entry(key).or_default();
    *issued += 1;
    let revision = *issued;
    let config = AutoScalingConfig {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        arn: arn(ctx, &name, revision, &ids::hex(32)),
        name,
        revision,
        max_concurrency,
        min_size,
        max_size,
        created_at: ctx.now,
        deleted_at: None,
        is_default: false,
        tags,
    };
    state.scaling.push(config);
    let created = &state.scaling[state.scaling.len() - 1];
    Ok(json!({ "AutoScalingConfiguration": render(state, created, ctx.now) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    auto_scaling_configuration_arn: Option<String>,
    delete_all_revisions: Option<bool>,
}

fn require_arn(arn: Option<String>) -> Result<String, AwsError> {
    arn.filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("AutoScalingConfigurationArn is required."))
}

/// DescribeAutoScalingConfiguration: the revision a full or partial ARN names ([`find`]), ACTIVE or
/// INACTIVE (until it is forgotten); otherwise `ResourceNotFoundException`.
pub(super) fn describe(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: ArnInput = parse_input(body)?;
    let arn = require_arn(input.auto_scaling_configuration_arn)?;
    ensure_default(state, ctx);
    let index = find(state, ctx, &arn)?.ok_or_else(|| not_found(&arn))?;
    Ok(json!({ "AutoScalingConfiguration": render(state, &state.scaling[index], ctx.now) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    auto_scaling_configuration_name: Option<String>,
    latest_only: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// ListAutoScalingConfigurations: the ACTIVE revisions ("a list of active App Runner automatic
/// scaling configurations"), of one name if `AutoScalingConfigurationName` is given, only the latest
/// of each name unless `LatestOnly` is false ("Default: true"); oldest first (assumed), paged with
/// `MaxResults` 1–100.
pub(super) fn list(state: &mut AppRunnerState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: ListInput = parse_input(body)?;
    let (offset, size) = page_within(input.next_token.as_deref(), input.max_results, 100)?;
    ensure_default(state, ctx);
    let latest_only = input.latest_only.unwrap_or(true);
    let items: Vec<Value> = state
        .scaling
        .iter()
        .filter(|c| c.here(ctx) && c.is_active())
        .filter(|c| {
            input
                .auto_scaling_configuration_name
                .as_ref()
                .is_none_or(|name| *name == c.name)
        })
        .filter(|c| !latest_only || is_latest(state, c))
        .map(|c| summary(state, c, ctx.now))
        .collect();
    Ok(paged(items, offset, size, "AutoScalingConfigurationSummaryList"))
}

/// DeleteAutoScalingConfiguration: makes the revision a full or partial ARN names INACTIVE (with
/// `DeletedAt`), or with `DeleteAllRevisions` every ACTIVE revision of a name-only ARN. "You can't
/// delete the default auto scaling configuration or a configuration that's used by one or more App
/// Runner services": both are `InvalidRequestException` (code assumed), as is deleting a revision
/// again ("The auto scaling configuration you specified has been deleted", the text
/// terraform-provider-aws matches). Answers the deleted revision (the highest, for all revisions).
pub(super) fn delete(
    state: &mut AppRunnerState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: ArnInput = parse_input(body)?;
    let arn = require_arn(input.auto_scaling_configuration_arn)?;
    ensure_default(state, ctx);
    let already_deleted = || invalid("The auto scaling configuration you specified has been deleted.");
    let targets: Vec<usize> = if input.delete_all_revisions == Some(true) {
        let name = match arn.split_once(":autoscalingconfiguration/") {
            Some((head, name)) if !name.contains('/') => {
                if head != arn_head(ctx) {
                    return Err(not_found(&arn));
                }
                name
            }
            _ => {
                return Err(invalid(
                    "With DeleteAllRevisions, AutoScalingConfigurationArn must be a partial ARN \
                     ending with the name: .../<name>.",
                ));
            }
        };
        let named: Vec<(usize, bool)> = state
            .scaling
            .iter()
            .enumerate()
            .filter(|(_, c)| c.here(ctx) && c.name == name)
            .map(|(index, c)| (index, c.is_active()))
            .collect();
        let active: Vec<usize> = named
            .iter()
            .filter(|(_, active)| *active)
            .map(|(index, _)| *index)
            .collect();
        if active.is_empty() {
            return Err(if named.is_empty() {
                not_found(&arn)
            } else {
                already_deleted()
            });
        }
        active
    } else {
        let index = find(state, ctx, &arn)?.ok_or_else(|| not_found(&arn))?;
        if !state.scaling[index].is_active() {
            return Err(already_deleted());
        }
        vec![index]
    };
    for &index in &targets {
        let config = &state.scaling[index];
        if config.is_default {
            return Err(invalid(format!(
                "You can't delete the default auto scaling configuration {}.",
                config.arn
            )));
        }
        if has_associated_service(state, config, ctx.now) {
            return Err(invalid(format!(
                "You can't delete auto scaling configuration {}: one or more App Runner services \
                 use it.",
                config.arn
            )));
        }
    }
    for &index in &targets {
        state.scaling[index].deleted_at = Some(ctx.now);
    }
    let shown = targets
        .iter()
        .copied()
        .max_by_key(|&index| state.scaling[index].revision)
        .ok_or_else(|| not_found(&arn))?;
    Ok(json!({ "AutoScalingConfiguration": render(state, &state.scaling[shown], ctx.now) }))
}
