//! The state every ECS action works on: [`EcsState`], the services of every account and region,
//! their clusters and the injected rollout failures, with the look-ups the actions share, and the
//! name helpers and error the actions use.

use std::collections::{HashMap, HashSet};

use crate::clock::Timestamp;
use crate::iam::Propagation;
use crate::wire::{AwsError, RequestContext};

use super::newer::NewerModel;
use super::rollout::{EcsTimings, ExpressService, Lifecycle};

/// All simulated ECS services, in every account and region.
#[derive(Debug)]
pub struct EcsState {
    pub(super) services: Vec<ExpressService>,
    /// Named clusters by (account, region, name): Express created them with their first service,
    /// and they stay when the services are gone. `default` always exists.
    pub(super) clusters: HashSet<(String, String, String)>,
    /// Rollout failures injected by service name, consumed by the next deployment.
    pub(super) pending_failures: HashMap<String, u32>,
    /// Load balancer failures injected by service name, consumed by the next revision.
    pub(super) pending_load_balancer_failures: HashMap<String, u32>,
    pub(super) timings: EcsTimings,
    /// Roles IAM has not propagated yet.
    pub iam: Propagation,
    /// Infrastructure roles ECS can no longer use (their policy was deleted): the services they
    /// manage never finish draining.
    pub(super) unusable_roles: HashSet<String>,
    /// Members and enum values newer than the SDKs' models, added to the answers.
    pub(super) newer_model: NewerModel,
    /// For this long after a create, DescribeExpressGatewayService does not find the new service
    /// yet (docs/aws-behaviour.md E37); 0 turns it off.
    pub(super) read_after_create_lag: f64,
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
            pending_load_balancer_failures: HashMap::new(),
            timings,
            iam: Default::default(),
            unusable_roles: HashSet::new(),
            newer_model: NewerModel::default(),
            read_after_create_lag: 0.0,
        }
    }

    /// Forgets every service and injection.
    pub fn clear(&mut self) {
        self.services.clear();
        self.clusters.clear();
        self.pending_failures.clear();
        self.pending_load_balancer_failures.clear();
        self.iam.clear();
        self.unusable_roles.clear();
        self.newer_model = NewerModel::default();
        self.read_after_create_lag = 0.0;
    }

    /// Makes DescribeExpressGatewayService answer "Resource not found." for `seconds` after each
    /// create, as an eventually consistent read would; 0 turns it off.
    pub fn set_read_after_create_lag(&mut self, seconds: f64) {
        self.read_after_create_lag = seconds.max(0.0);
    }

    /// How long after a create DescribeExpressGatewayService does not find the new service.
    pub fn read_after_create_lag(&self) -> f64 {
        self.read_after_create_lag
    }

    /// Makes an infrastructure role unusable for ECS (as when its policy is deleted) or usable
    /// again. While it is unusable, a deleted service it manages stays DRAINING; once it is usable,
    /// the drain of such a service starts over at `now`.
    pub fn set_infrastructure_role_usable(&mut self, role: &str, usable: bool, now: Timestamp) {
        if usable {
            self.unusable_roles.remove(role);
        } else {
            self.unusable_roles.insert(role.to_string());
        }
        for svc in self
            .services
            .iter_mut()
            .filter(|s| s.infrastructure_role_arn == role)
        {
            if usable && svc.drain_blocked && svc.deleted_at.is_some() {
                svc.deleted_at = Some(now);
            }
            svc.drain_blocked = !usable;
        }
    }

    /// The infrastructure roles ECS cannot use.
    pub fn unusable_roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = self.unusable_roles.iter().cloned().collect();
        roles.sort();
        roles
    }

    /// Sets which members and enum values newer than the SDKs' models the answers carry.
    pub fn set_newer_model(&mut self, model: NewerModel) {
        self.newer_model = model;
    }

    /// The members and enum values newer than the SDKs' models that the answers carry.
    pub fn newer_model(&self) -> NewerModel {
        self.newer_model.clone()
    }

    /// Makes the next rollout of the named service (name or ARN) fail and roll back.
    pub fn inject_rollout_failure(&mut self, name_or_arn: &str) {
        *self
            .pending_failures
            .entry(service_name_of(name_or_arn).to_string())
            .or_default() += 1;
    }

    /// Makes the load balancer of the named service's (name or ARN) next revision FAILED, as
    /// DescribeServiceRevisions reports it (docs/aws-behaviour.md E38). The deployment itself is
    /// not affected.
    pub fn inject_load_balancer_failure(&mut self, name_or_arn: &str) {
        *self
            .pending_load_balancer_failures
            .entry(service_name_of(name_or_arn).to_string())
            .or_default() += 1;
    }

    pub(super) fn take_failure(&mut self, name: &str) -> bool {
        take(&mut self.pending_failures, name)
    }

    /// The reason of an injected load balancer failure for the service's next revision.
    pub(super) fn take_load_balancer_failure(&mut self, name: &str) -> Option<String> {
        take(&mut self.pending_load_balancer_failures, name)
            .then(|| super::infra::LOAD_BALANCER_FAILURE.to_string())
    }

    pub(super) fn prune(&mut self, now: Timestamp) {
        self.services.retain(|svc| svc.lifecycle(now) != Lifecycle::Gone);
    }

    /// The service with this ARN in the caller's account and region.
    pub(super) fn find_by_arn(&self, ctx: &RequestContext, arn: &str) -> Option<usize> {
        self.services
            .iter()
            .rposition(|svc| svc.arn == arn && svc.region == ctx.region && svc.account == ctx.account)
    }

    /// `ClusterNotFoundException` for a named cluster no Express service was ever created in, in
    /// the caller's account and region. The `default` cluster always exists; Express Mode creates
    /// a named cluster with its first service (docs/aws-behaviour.md E21).
    pub(super) fn require_cluster(
        &self,
        ctx: &RequestContext,
        cluster: Option<&str>,
    ) -> Result<(), AwsError> {
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
    pub(super) fn find(&self, ctx: &RequestContext, cluster: Option<&str>, service: &str) -> Option<usize> {
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
}

/// Consumes one armed injection for `name`.
fn take(pending: &mut HashMap<String, u32>, name: &str) -> bool {
    match pending.get_mut(name) {
        Some(n) if *n > 0 => {
            *n -= 1;
            if *n == 0 {
                pending.remove(name);
            }
            true
        }
        _ => false,
    }
}

pub(super) fn include_tags(include: Option<&[String]>) -> bool {
    include.is_some_and(|fields| fields.iter().any(|f| f == "TAGS"))
}

pub(super) fn invalid(message: impl Into<String>) -> AwsError {
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
