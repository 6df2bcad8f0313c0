//! The one pure call per AppRunnerService reconcile: from the spec, the last status and what App
//! Runner reported to the status as it will be written and the next step.
//!
//! Flow: the desired request (migrating a status written before `appliedFields` existed) → the
//! baseline, when App Runner already runs the spec (adopted, or found after a crash) → what
//! DescribeService reports, into the status → the operation runway follows → [`plan`](super::plan).

use super::{
    AppRunnerRequest, ObservedOperation, ObservedService, Plan, PlanInput, baseline, create_request, plan,
};
use crate::api::apprunner::{AppRunnerService, AppRunnerServiceStatus};
use kube::ResourceExt;

use crate::plan::{Clock, Owner, invalid_spec};

/// The `operationStatus` runway records for an operation it has just started and not yet listed.
pub const STARTED: &str = "PENDING";

/// What App Runner reported: the service and, when they can tell something new, its most recent
/// operations (newest first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The service, or `None` when there is none.
    pub service: Option<ObservedService>,
    /// Its most recent operations, newest first; empty when they were not read.
    pub operations: Vec<ObservedOperation>,
}

/// Copies what App Runner reports into the status, decides the desired request, and plans the next
/// step.
pub fn decide(
    obj: &AppRunnerService,
    status: &mut AppRunnerServiceStatus,
    observation: &Observation,
    clock: Clock<'_>,
) -> (Plan, AppRunnerRequest) {
    let desired = crate::plan::desired(AppRunnerRequest::from_spec(&obj.spec), &mut status.common);
    if let Some(s) = &observation.service {
        status.common.service_arn = Some(s.arn.clone());
        if baseline(status, &desired, s) {
            // Adopted, or found after a crash: App Runner already runs this spec.
            status.common.last_applied_hash = Some(desired.digest());
            status.common.applied_fields = desired.fields();
            if status.common.last_redeploy_token.is_none() {
                status.common.last_redeploy_token = obj.spec.redeploy_token.clone();
            }
        }
        observed(status, s);
    }
    let tracked = tracked_operation(status, &observation.operations);
    if let Some(op) = &tracked {
        record_operation(status, &op.id, &op.operation_type, &op.status);
    }
    let next = plan(PlanInput {
        spec: &obj.spec,
        status,
        desired: &desired,
        service: observation.service.as_ref(),
        tracked: tracked.as_ref(),
        newest: observation.operations.first(),
        clock,
    });
    (validated(obj, next, clock.cluster), desired)
}

/// A create is planned only for a spec that can be created; otherwise the resource stalls with
/// the reason, and nothing is sent.
fn validated(obj: &AppRunnerService, next: Plan, cluster: &str) -> Plan {
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let owner = Owner {
        cluster,
        namespace: &namespace,
        name: &name,
    };
    match (&next, create_request(&obj.spec, &owner)) {
        (Plan::Create, Err(message)) => Plan::Report(invalid_spec(message)),
        _ => next,
    }
}

/// Copies what DescribeService reports into the status.
pub fn observed(status: &mut AppRunnerServiceStatus, service: &ObservedService) {
    status.service_id = Some(service.service_id.clone()).filter(|s| !s.is_empty());
    status.service_url = service.service_url.clone();
    status.status = Some(service.status.clone());
}

/// The operation runway follows: the one `status.operationId` names (as listed now, or as last
/// recorded when it has dropped off the first page), else the newest one of the type runway
/// started (App Runner may answer a call without its `OperationId`, docs/aws-behaviour.md A20),
/// else the newest one.
pub fn tracked_operation(
    status: &AppRunnerServiceStatus,
    operations: &[ObservedOperation],
) -> Option<ObservedOperation> {
    let Some(id) = status.operation_id.as_deref() else {
        let started = status.operation_type.as_deref();
        return operations
            .iter()
            .find(|op| Some(op.operation_type.as_str()) == started)
            .or(operations.first())
            .cloned();
    };
    operations.iter().find(|op| op.id == id).cloned().or_else(|| {
        Some(ObservedOperation {
            id: id.to_string(),
            operation_type: status.operation_type.clone().unwrap_or_default(),
            status: status.operation_status.clone().unwrap_or_default(),
            started_at: None,
        })
    })
}

/// Records the operation runway follows.
pub fn record_operation(status: &mut AppRunnerServiceStatus, id: &str, kind: &str, op_status: &str) {
    status.operation_id = Some(id.to_string());
    status.operation_type = Some(kind.to_string());
    status.operation_status = Some(op_status.to_string());
}

/// Records an operation runway just started and has not listed yet. An empty `operation_id` (App
/// Runner answered without one, and the SDK filled in "") is recorded as unknown, so that the next
/// ListOperations names it (docs/aws-behaviour.md A20).
pub fn started(status: &mut AppRunnerServiceStatus, operation_id: &str, kind: &str) {
    record_operation(status, operation_id, kind, STARTED);
    if operation_id.is_empty() {
        status.operation_id = None;
    }
    status.status = Some("OPERATION_IN_PROGRESS".into());
}
