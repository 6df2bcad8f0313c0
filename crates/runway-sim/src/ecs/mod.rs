//! The simulated Amazon ECS: Express Mode services, their service revisions, deployments and tags,
//! and the classic UpdateService/DescribeServices calls on the same services.
//!
//! Data flow: the server hands [`EcsState::handle`] an action name, the request context (region,
//! account, simulated time) and the JSON body. `handle` forgets services whose deletion has run its
//! course, then dispatches to `express` (the four Express actions), `classic` (UpdateService,
//! DescribeServices), `deployments` (List/DescribeServiceDeployments) or `tags` (TagResource,
//! UntagResource, ListTagsForResource). Those parse the input (`types`), look the service up here,
//! drive its state machine (`rollout`) and render the output shape (`render`).

mod classic;
mod deployments;
mod express;
pub mod render;
pub mod rollout;
mod tags;
pub mod types;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::clock::Timestamp;
use crate::wire::{AwsError, RequestContext};
use rollout::{EcsTimings, ExpressService, Lifecycle};

/// Every action the simulated ECS serves.
pub const ACTIONS: &[&str] = &[
    "CreateExpressGatewayService",
    "UpdateExpressGatewayService",
    "DescribeExpressGatewayService",
    "DeleteExpressGatewayService",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "UpdateService",
    "DescribeServices",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// All simulated ECS services, in every account and region.
#[derive(Debug)]
pub struct EcsState {
    services: Vec<ExpressService>,
    /// Named clusters by (account, region, name): Express created them with their first service,
    /// and they stay when the services are gone. `default` always exists.
    clusters: HashSet<(String, String, String)>,
    /// Rollout failures injected by service name, consumed by the next deployment.
    pending_failures: HashMap<String, u32>,
    timings: EcsTimings,
    /// Roles IAM has not propagated yet.
    pub iam: crate::iam::Propagation,
}

/// The short cluster name from a name or ARN; `default` when absent.
pub fn cluster_name(cluster: Option<&str>) -> String {
    match cluster {
        None | Some("") => "default".to_string(),
        Some(value) => value
            .strip_prefix("arn:")
            .and_then(|_| value.rsplit_once(":cluster/"))
            .map_or(value, |(_, name)| name)
            .to_string(),
    }
}

/// The service name from an ECS service name or ARN (`…:service/<cluster>/<name>`).
pub fn service_name_of(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
    } else {
        name_or_arn
    }
}

impl EcsState {
    /// An empty ECS.
    pub fn new(timings: EcsTimings) -> Self {
        Self {
            services: Vec::new(),
            clusters: HashSet::new(),
            pending_failures: HashMap::new(),
            timings,
            iam: Default::default(),
        }
    }

    /// Forgets every service and injection.
    pub fn clear(&mut self) {
        self.services.clear();
        self.clusters.clear();
        self.pending_failures.clear();
        self.iam.clear();
    }

    /// Makes the next rollout of the named service (name or ARN) fail and roll back.
    pub fn inject_rollout_failure(&mut self, name_or_arn: &str) {
        *self
            .pending_failures
            .entry(service_name_of(name_or_arn).to_string())
            .or_default() += 1;
    }

    fn take_failure(&mut self, name: &str) -> bool {
        match self.pending_failures.get_mut(name) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    self.pending_failures.remove(name);
                }
                true
            }
            _ => false,
        }
    }

    fn prune(&mut self, now: Timestamp) {
        self.services.retain(|svc| svc.lifecycle(now) != Lifecycle::Gone);
    }

    /// The service with this ARN in the caller's account and region.
    fn find_by_arn(&self, ctx: &RequestContext, arn: &str) -> Option<usize> {
        self.services
            .iter()
            .rposition(|svc| svc.arn == arn && svc.region == ctx.region && svc.account == ctx.account)
    }

    /// `ClusterNotFoundException` for a named cluster no Express service was ever created in, in
    /// the caller's account and region. The `default` cluster always exists; Express Mode creates
    /// a named cluster with its first service (docs/aws-behaviour.md E21).
    fn require_cluster(&self, ctx: &RequestContext, cluster: Option<&str>) -> Result<(), AwsError> {
        let name = cluster_name(cluster);
        let known = name == "default"
            || self
                .clusters
                .contains(&(ctx.account.clone(), ctx.region.clone(), name));
        if known {
            Ok(())
        } else {
            Err(AwsError::new("ClusterNotFoundException", "Cluster not found."))
        }
    }

    /// The service named by a name or ARN, in a cluster (a name or ARN, default `default`) of the
    /// caller's account and region.
    fn find(&self, ctx: &RequestContext, cluster: Option<&str>, service: &str) -> Option<usize> {
        if service.starts_with("arn:") {
            return self.find_by_arn(ctx, service);
        }
        let cluster = cluster_name(cluster);
        self.services.iter().rposition(|svc| {
            svc.account == ctx.account
                && svc.region == ctx.region
                && svc.cluster == cluster
                && svc.name == service
        })
    }

    /// Runs one ECS action.
    pub fn handle(&mut self, action: &str, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
        self.prune(ctx.now);
        match action {
            "CreateExpressGatewayService" => express::create(self, ctx, body),
            "UpdateExpressGatewayService" => express::update(self, ctx, body),
            "DescribeExpressGatewayService" => express::describe(self, ctx, body),
            "DeleteExpressGatewayService" => express::delete(self, ctx, body),
            "ListServiceDeployments" => deployments::list(self, ctx, body),
            "DescribeServiceDeployments" => deployments::describe(self, ctx, body),
            "UpdateService" => classic::update_service(self, ctx, body),
            "DescribeServices" => classic::describe_services(self, ctx, body),
            "TagResource" => tags::tag_resource(self, ctx, body),
            "UntagResource" => tags::untag_resource(self, ctx, body),
            "ListTagsForResource" => tags::list_tags_for_resource(self, ctx, body),
            other => Err(AwsError::new(
                "UnknownOperationException",
                format!("The simulator does not implement ECS action {other}."),
            )),
        }
    }
}

fn include_tags(include: Option<&[String]>) -> bool {
    include.is_some_and(|fields| fields.iter().any(|f| f == "TAGS"))
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterException", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_and_service_names_come_from_names_or_arns() {
        assert_eq!(cluster_name(None), "default");
        assert_eq!(
            cluster_name(Some("arn:aws:ecs:us-east-1:123456789012:cluster/prod")),
            "prod"
        );
        assert_eq!(cluster_name(Some("prod")), "prod");
        assert_eq!(
            service_name_of("arn:aws:ecs:us-east-1:123456789012:service/prod/web"),
            "web"
        );
        assert_eq!(service_name_of("web"), "web");
    }
}
