//! The planner's model of what ECS reports about an Express service and its deployments. `aws::ecs`
//! converts SDK answers into these types, so the planner depends on neither the adapter nor the SDK.

use crate::api::common::Tag;
use crate::api::express::{ManagedResource, TargetConfiguration};

/// An Express service as AWS describes it.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedExpress {
    /// The service ARN.
    pub arn: String,
    /// The service name.
    pub service_name: Option<String>,
    /// The cluster that hosts it (AWS reports its ARN).
    pub cluster: Option<String>,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status_code: Option<String>,
    /// Why the service is in its status.
    pub status_reason: Option<String>,
    /// The ARN of the current service deployment. AWS leaves it out right after a create and,
    /// briefly, at other times.
    pub current_deployment: Option<String>,
    /// The configurations that serve traffic now; the old one stays until a rollout completes.
    pub active_configurations: Vec<TargetConfiguration>,
    /// When the service was last updated (RFC 3339).
    pub updated_at: Option<String>,
    /// The service's tags; `None` when AWS did not report them.
    pub tags: Option<Vec<Tag>>,
}

/// A service deployment (rollout) as AWS describes it.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedDeployment {
    /// The service deployment ARN.
    pub arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOPPED`, `STOP_REQUESTED` or `ROLLBACK_*`.
    pub status: String,
    /// Why the deployment is in its status, such as the circuit breaker's finding.
    pub status_reason: Option<String>,
    /// The service revision being deployed.
    pub target_revision: Option<String>,
}

/// What a create or update call returned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// The service ARN.
    pub arn: String,
    /// The status code AWS returned.
    pub status_code: Option<String>,
    /// The configuration AWS is now deploying, when its answer carries one.
    pub target_configuration: Option<TargetConfiguration>,
}

/// The resources Amazon ECS manages for one service revision, as DescribeServiceRevisions reported
/// them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedManaged {
    /// The service revision they were read for.
    pub revision: String,
    /// One entry per resource, in AWS's order.
    pub resources: Vec<ManagedResource>,
}
