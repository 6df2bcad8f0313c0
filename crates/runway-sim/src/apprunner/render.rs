//! Renders App Runner state as the model's `Service`, `ServiceSummary` and `OperationSummary`.
//! Auto scaling configurations and VPC connectors render themselves (`scaling`, `vpc`).

use serde_json::{Value, json};

use super::lifecycle::{AppRunnerService, Operation};
use super::types::to_wire;
use crate::clock::Timestamp;

/// The model's `Service`, with the summary of the auto scaling configuration it uses.
pub fn service(svc: &AppRunnerService, now: Timestamp, auto_scaling: Value) -> Value {
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
        "AutoScalingConfigurationSummary": auto_scaling,
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
