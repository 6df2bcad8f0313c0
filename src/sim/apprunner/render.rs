//! Renders App Runner state as the model's `Service`, `ServiceSummary` and `OperationSummary`.

use serde_json::{Value, json};

use super::lifecycle::{AppRunnerService, Operation};
use super::types::to_wire;
use crate::sim::clock::Timestamp;

/// `AutoScalingConfigurationSummary` for an ARN such as
/// `arn:aws:apprunner:<region>:<account>:autoscalingconfiguration/<name>/<revision>/<id>`.
fn auto_scaling_summary(svc: &AppRunnerService, arn: Option<&str>) -> Value {
    let default_arn = format!(
        "arn:aws:apprunner:{}:{}:autoscalingconfiguration/DefaultConfiguration/1/{}",
        svc.region, svc.account, svc.default_auto_scaling_id
    );
    let arn = arn.map_or(default_arn, str::to_string);
    let mut parts = arn
        .split_once(":autoscalingconfiguration/")
        .map(|(_, rest)| rest.split('/'))
        .into_iter()
        .flatten();
    let name = parts
        .next()
        .filter(|n| n.len() >= 4)
        .unwrap_or("DefaultConfiguration")
        .to_string();
    let revision = parts.next().and_then(|r| r.parse::<i64>().ok()).unwrap_or(1);
    json!({
        "AutoScalingConfigurationArn": arn,
        "AutoScalingConfigurationName": name,
        "AutoScalingConfigurationRevision": revision,
        "Status": "ACTIVE",
        "CreatedAt": svc.created_at,
        "HasAssociatedService": true,
        "IsDefault": name == "DefaultConfiguration",
    })
}

/// The model's `Service`.
pub fn service(svc: &AppRunnerService, now: Timestamp) -> Value {
    let config = svc.config(now);
    let mut out = json!({
        "ServiceName": svc.name,
        "ServiceId": svc.id,
        "ServiceArn": svc.arn,
        "ServiceUrl": svc.url,
        "CreatedAt": svc.created_at,
        "UpdatedAt": svc.updated_at(),
        "Status": svc.status(now).as_str(),
        "SourceConfiguration": to_wire(json!(config.source_configuration)),
        "InstanceConfiguration": to_wire(json!(config.instance_configuration)),
        "HealthCheckConfiguration": to_wire(json!(config.health_check_configuration)),
        "AutoScalingConfigurationSummary":
            auto_scaling_summary(svc, config.auto_scaling_configuration_arn.as_deref()),
        "NetworkConfiguration": to_wire(json!(config.network_configuration)),
        "ObservabilityConfiguration": to_wire(json!(config.observability_configuration)),
        "EncryptionConfiguration": to_wire(json!(svc.encryption)),
        "DeletedAt": svc.deleted_at(now),
    });
    for required in [
        "SourceConfiguration",
        "InstanceConfiguration",
        "NetworkConfiguration",
    ] {
        if out[required].is_null() {
            out[required] = json!({});
        }
    }
    to_wire(out)
}

/// The model's `ServiceSummary`.
pub fn summary(svc: &AppRunnerService, now: Timestamp) -> Value {
    json!({
        "ServiceName": svc.name,
        "ServiceId": svc.id,
        "ServiceArn": svc.arn,
        "ServiceUrl": svc.url,
        "CreatedAt": svc.created_at,
        "UpdatedAt": svc.updated_at(),
        "Status": svc.status(now).as_str(),
    })
}

/// The model's `OperationSummary`.
pub fn operation(svc: &AppRunnerService, op: &Operation, now: Timestamp) -> Value {
    to_wire(json!({
        "Id": op.id,
        "Type": op.kind.as_str(),
        "Status": op.status(now).as_str(),
        "TargetArn": svc.arn,
        "StartedAt": op.started_at,
        "EndedAt": op.ended_at(now),
        "UpdatedAt": op.updated_at(now),
    }))
}
