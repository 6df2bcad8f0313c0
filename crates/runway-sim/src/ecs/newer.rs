//! Answers from a newer ECS than the SDKs know (docs/aws-behaviour.md E36). AWS adds members and
//! enum values to its answers without warning: botocore 1.44 added `taskDefinitionArn` and
//! `cpuArchitecture` to `ExpressGatewayServiceConfiguration` and a whole `Gateway` API, and a
//! client built before that still receives them. When switched on ([`NewerModel`], `POST
//! /_sim/ecs/newer-model`), [`apply`] adds members no model declares to every service,
//! configuration, status and deployment in the ECS answers, gives `ingressPaths[].accessType` and
//! `lifecycleStage` values no enum declares, and may report a `status.statusCode` of its own for
//! ACTIVE services. Off by default.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::newer::add_unknown_member;

/// Which newer members and values the answers carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NewerModel {
    /// Add members that no model declares, and enum values that no enum declares, to the
    /// structures runway reads.
    pub unknown_members: bool,
    /// Report this `status.statusCode` for every ACTIVE Express service (a value AWS may add, such
    /// as `UPDATING`); `None` keeps the real one.
    pub status_code: Option<String>,
}

/// The member added to every structure.
pub const UNKNOWN_MEMBER: &str = "simulatorNewerMember";
/// The `ingressPaths[].accessType` reported instead of `PUBLIC`/`PRIVATE`.
pub const UNKNOWN_ACCESS_TYPE: &str = "SIMULATOR_NEWER_ACCESS";
/// The `lifecycleStage` reported instead of the real one.
pub const UNKNOWN_LIFECYCLE_STAGE: &str = "SIMULATOR_NEWER_STAGE";

/// Adds the newer members and values to the answer of `action`.
pub fn apply(model: &NewerModel, action: &str, out: &mut Value) {
    if let (Some(code), "DescribeExpressGatewayService") = (&model.status_code, action)
        && out["service"]["status"]["statusCode"] == "ACTIVE"
    {
        out["service"]["status"]["statusCode"] = json!(code);
    }
    if !model.unknown_members {
        return;
    }
    if let Some(service) = out.get_mut("service") {
        express_service(service);
    }
    for list in ["services", "serviceDeployments"] {
        if let Some(Value::Array(items)) = out.get_mut(list) {
            items.iter_mut().for_each(deployment_or_service);
        }
    }
}

fn unknown(object: &mut Value) {
    add_unknown_member(object, UNKNOWN_MEMBER);
}

fn express_service(service: &mut Value) {
    unknown(service);
    if let Some(status) = service.get_mut("status") {
        unknown(status);
    }
    let configs = service
        .get_mut("activeConfigurations")
        .and_then(Value::as_array_mut)
        .map(|c| c.iter_mut().collect::<Vec<_>>())
        .unwrap_or_default();
    for config in configs {
        configuration(config);
    }
    if let Some(target) = service.get_mut("targetConfiguration") {
        configuration(target);
    }
}

fn configuration(config: &mut Value) {
    unknown(config);
    for key in ["primaryContainer", "networkConfiguration", "scalingTarget"] {
        if let Some(inner) = config.get_mut(key) {
            unknown(inner);
        }
    }
    if let Some(Value::Array(paths)) = config.get_mut("ingressPaths") {
        for path in paths {
            unknown(path);
            path["accessType"] = json!(UNKNOWN_ACCESS_TYPE);
        }
    }
}

fn deployment_or_service(item: &mut Value) {
    unknown(item);
    if item.get("lifecycleStage").is_some() {
        item["lifecycleStage"] = json!(UNKNOWN_LIFECYCLE_STAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_on_adds_members_and_values_everywhere_runway_reads() {
        let answer = json!({"service": {"status": {"statusCode": "ACTIVE"},
            "activeConfigurations": [{"ingressPaths": [{"accessType": "PUBLIC", "endpoint": "e"}],
                "primaryContainer": {"image": "i"}}]}});
        let mut untouched = answer.clone();
        apply(
            &NewerModel::default(),
            "DescribeExpressGatewayService",
            &mut untouched,
        );
        assert_eq!(untouched, answer);

        let mut newer = answer.clone();
        let model = NewerModel {
            unknown_members: true,
            status_code: Some("UPDATING".into()),
        };
        apply(&model, "DescribeExpressGatewayService", &mut newer);
        let service = &newer["service"];
        assert_eq!(service["status"]["statusCode"], "UPDATING");
        assert!(service[UNKNOWN_MEMBER].is_object());
        let config = &service["activeConfigurations"][0];
        assert!(config["primaryContainer"][UNKNOWN_MEMBER].is_object());
        assert_eq!(config["ingressPaths"][0]["accessType"], UNKNOWN_ACCESS_TYPE);

        let mut deployments =
            json!({"serviceDeployments": [{"status": "SUCCESSFUL", "lifecycleStage": "BAKE_TIME"}]});
        apply(&model, "DescribeServiceDeployments", &mut deployments);
        assert_eq!(
            deployments["serviceDeployments"][0]["lifecycleStage"],
            UNKNOWN_LIFECYCLE_STAGE
        );
        assert_eq!(deployments["serviceDeployments"][0]["status"], "SUCCESSFUL");
    }
}
