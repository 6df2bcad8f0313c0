//! Answers from a newer App Runner than the SDKs know (docs/aws-behaviour.md A27). AWS adds members
//! and enum values to its answers without warning (botocore's App Runner model gained
//! `Service.NetworkConfiguration.IpAddressType`, `SourceCodeVersionType`'s and `Runtime`'s values
//! and the VPC ingress members over the years), and a client built before that still receives them.
//! When switched on ([`NewerModel`], `POST /_sim/apprunner/newer-model`), [`apply`] adds a member no
//! model declares to every structure of every `Service`, `ServiceSummary`, `OperationSummary` and
//! `Tag` and to each answer itself, reports `ServiceSummary.Status` values no enum declares in
//! ListServices, and lists, as the oldest operation of a service, one whose `Type` and `Status` no
//! enum declares; it may report a `Service.Status` of its own for RUNNING services. Off by default.

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
    /// Report this `Status` for every RUNNING service in the `Service` and `ServiceSummary`
    /// answers (a value AWS may add, such as `UPDATING`); `None` keeps the real one.
    pub service_status: Option<String>,
}

/// The member added to every structure.
pub const UNKNOWN_MEMBER: &str = "SimulatorNewerMember";
/// The `ServiceSummary.Status` ListServices reports instead of any status but `DELETED`.
pub const UNKNOWN_SUMMARY_STATUS: &str = "SIMULATOR_NEWER_STATUS";
/// The `OperationSummary.Type` of the operation added to ListOperations.
pub const UNKNOWN_OPERATION_TYPE: &str = "SIMULATOR_NEWER_OPERATION";
/// The `OperationSummary.Status` of the operation added to ListOperations.
pub const UNKNOWN_OPERATION_STATUS: &str = "SIMULATOR_NEWER_OPERATION_STATUS";
/// The `OperationSummary.Id` of the operation added to ListOperations.
pub const UNKNOWN_OPERATION_ID: &str = "simulator-newer-operation";

/// Members whose values are maps of the customer's own keys, not structures: a member added there
/// would be one more environment variable or secret.
const MAPS: &[&str] = &["RuntimeEnvironmentVariables", "RuntimeEnvironmentSecrets"];

/// Adds the newer members and values to the answer of `action`.
pub fn apply(model: &NewerModel, action: &str, out: &mut Value) {
    if let Some(status) = &model.service_status {
        if let Some(service) = out.get_mut("Service") {
            running_as(service, status);
        }
        if let Some(Value::Array(summaries)) = out.get_mut("ServiceSummaryList") {
            summaries.iter_mut().for_each(|s| running_as(s, status));
        }
    }
    if !model.unknown_members {
        return;
    }
    add_unknown_member(out, UNKNOWN_MEMBER);
    if let Some(service) = out.get_mut("Service") {
        every_structure(service);
    }
    if let Some(Value::Array(summaries)) = out.get_mut("ServiceSummaryList") {
        for summary in summaries {
            add_unknown_member(summary, UNKNOWN_MEMBER);
            if summary["Status"] != "DELETED" {
                summary["Status"] = json!(UNKNOWN_SUMMARY_STATUS);
            }
        }
    }
    if let Some(Value::Array(tags)) = out.get_mut("Tags") {
        tags.iter_mut()
            .for_each(|t| add_unknown_member(t, UNKNOWN_MEMBER));
    }
    if action == "ListOperations" {
        operations(out);
    }
}

/// Reports `status` instead of RUNNING.
fn running_as(service: &mut Value, status: &str) {
    if service["Status"] == "RUNNING" {
        service["Status"] = json!(status);
    }
}

/// Every structure under `value`, itself included, but not the maps of [`MAPS`].
fn every_structure(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if !MAPS.contains(&key.as_str()) {
                    every_structure(inner);
                }
            }
            add_unknown_member(value, UNKNOWN_MEMBER);
        }
        Value::Array(items) => items.iter_mut().for_each(every_structure),
        _ => {}
    }
}

/// A member on every operation, and on the last page one more operation, the oldest, of a type
/// and status no enum declares.
fn operations(out: &mut Value) {
    let last_page = out.get("NextToken").is_none();
    let Some(Value::Array(ops)) = out.get_mut("OperationSummaryList") else {
        return;
    };
    ops.iter_mut()
        .for_each(|op| add_unknown_member(op, UNKNOWN_MEMBER));
    let Some(oldest) = ops.last().filter(|_| last_page) else {
        return;
    };
    let mut newer = json!({
        "Id": UNKNOWN_OPERATION_ID,
        "Type": UNKNOWN_OPERATION_TYPE,
        "Status": UNKNOWN_OPERATION_STATUS,
        "TargetArn": oldest["TargetArn"],
        "StartedAt": oldest["StartedAt"],
        "UpdatedAt": oldest["StartedAt"],
    });
    add_unknown_member(&mut newer, UNKNOWN_MEMBER);
    ops.push(newer);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described() -> Value {
        json!({"Service": {"Status": "RUNNING",
            "SourceConfiguration": {"ImageRepository": {"ImageConfiguration":
                {"RuntimeEnvironmentVariables": {"MODE": "prod"}, "Port": "80"}}},
            "NetworkConfiguration": {"EgressConfiguration": {"EgressType": "DEFAULT"}}},
            "OperationId": "op"})
    }

    #[test]
    fn off_by_default_and_on_adds_members_and_values_everywhere_runway_reads() {
        let mut untouched = described();
        apply(&NewerModel::default(), "DescribeService", &mut untouched);
        assert_eq!(untouched, described());

        let model = NewerModel {
            unknown_members: true,
            service_status: Some("UPDATING".into()),
        };
        let mut newer = described();
        apply(&model, "DescribeService", &mut newer);
        let service = &newer["Service"];
        assert_eq!(service["Status"], "UPDATING");
        assert!(newer[UNKNOWN_MEMBER].is_object());
        assert!(service[UNKNOWN_MEMBER].is_object());
        let image = &service["SourceConfiguration"]["ImageRepository"];
        assert!(image[UNKNOWN_MEMBER].is_object());
        assert!(image["ImageConfiguration"][UNKNOWN_MEMBER].is_object());
        assert_eq!(
            image["ImageConfiguration"]["RuntimeEnvironmentVariables"],
            json!({"MODE": "prod"}),
            "environment maps are the customer's, never extended"
        );
        assert!(service["NetworkConfiguration"]["EgressConfiguration"][UNKNOWN_MEMBER].is_object());

        let mut listed = json!({"ServiceSummaryList": [{"Status": "RUNNING"}, {"Status": "DELETED"}]});
        apply(&model, "ListServices", &mut listed);
        assert_eq!(listed["ServiceSummaryList"][0]["Status"], UNKNOWN_SUMMARY_STATUS);
        assert_eq!(listed["ServiceSummaryList"][1]["Status"], "DELETED");

        let mut ops = json!({"OperationSummaryList": [
            {"Id": "2", "Type": "UPDATE_SERVICE", "Status": "SUCCEEDED", "TargetArn": "a", "StartedAt": 2.0},
            {"Id": "1", "Type": "CREATE_SERVICE", "Status": "SUCCEEDED", "TargetArn": "a", "StartedAt": 1.0}]});
        apply(&model, "ListOperations", &mut ops);
        let list = ops["OperationSummaryList"].as_array().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0]["Status"], "SUCCEEDED");
        assert_eq!(list[2]["Type"], UNKNOWN_OPERATION_TYPE);
        assert_eq!(list[2]["Status"], UNKNOWN_OPERATION_STATUS);
        assert_eq!(list[2]["StartedAt"], 1.0);

        let mut paged = json!({"OperationSummaryList": [{"Id": "2"}], "NextToken": "page-1"});
        apply(&model, "ListOperations", &mut paged);
        assert_eq!(paged["OperationSummaryList"].as_array().unwrap().len(), 1);
    }
}
