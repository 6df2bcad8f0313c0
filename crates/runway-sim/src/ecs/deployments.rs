//! ListServiceDeployments and DescribeServiceDeployments.

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{EcsState, invalid};
use crate::wire::{AwsError, RequestContext, parse_input};

#[derive(Deserialize, Default)]
struct CreatedAtFilter {
    before: Option<f64>,
    after: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    service: Option<String>,
    cluster: Option<String>,
    status: Option<Vec<String>>,
    created_at: Option<CreatedAtFilter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

const STATUSES: &[&str] = &[
    "PENDING",
    "SUCCESSFUL",
    "STOPPED",
    "STOP_REQUESTED",
    "IN_PROGRESS",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
];

pub(super) fn list(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: ListInput = parse_input(body)?;
    let service = input
        .service
        .ok_or_else(|| invalid("service must be specified."))?;
    let max = input.max_results.unwrap_or(20);
    if !(1..=100).contains(&max) {
        return Err(invalid("maxResults must be between 1 and 100."));
    }
    let statuses = input.status.unwrap_or_default();
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(invalid(format!("Invalid service deployment status: {bad}")));
    }
    let offset = match input.next_token.as_deref() {
        None | Some("") => 0,
        Some(token) => token
            .strip_prefix("sd-page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| invalid("The nextToken is not valid."))?,
    };
    if !service.starts_with("arn:") {
        state.require_cluster(ctx, input.cluster.as_deref())?;
    }
    let index = state
        .find(ctx, input.cluster.as_deref(), &service)
        .ok_or_else(|| AwsError::new("ServiceNotFoundException", "Service not found."))?;
    let svc = &state.services[index];
    let filter = input.created_at.unwrap_or_default();
    // NB: newest first, as ECS lists them.
    let matching: Vec<Value> = svc
        .deployments
        .iter()
        .rev()
        .filter(|d| statuses.is_empty() || statuses.iter().any(|s| s == d.status_at(ctx.now)))
        .filter(|d| filter.before.is_none_or(|t| d.started_at < t))
        .filter(|d| filter.after.is_none_or(|t| d.started_at > t))
        .map(|d| super::render::deployment_brief(svc, d, ctx.now))
        .collect();
    let max = usize::try_from(max).unwrap_or(20);
    let page: Vec<Value> = matching.iter().skip(offset).take(max).cloned().collect();
    let mut out = json!({ "serviceDeployments": page });
    if offset + max < matching.len() {
        out["nextToken"] = json!(format!("sd-page-{}", offset + max));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    service_deployment_arns: Option<Vec<String>>,
}

pub(super) fn describe(state: &mut EcsState, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
    let input: DescribeInput = parse_input(body)?;
    let arns = input.service_deployment_arns.unwrap_or_default();
    if arns.is_empty() || arns.len() > 20 {
        return Err(invalid(
            "serviceDeploymentArns must name between 1 and 20 service deployments.",
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
                svc.deployments
                    .iter()
                    .find(|d| &d.arn == arn)
                    .map(|d| super::render::deployment_full(svc, d, ctx.now))
            });
        match hit {
            Some(deployment) => found.push(deployment),
            None => failures.push(json!({ "arn": arn, "reason": "MISSING" })),
        }
    }
    Ok(json!({ "serviceDeployments": found, "failures": failures }))
}
