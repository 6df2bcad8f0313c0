//! The simulated AWS App Runner: services and their asynchronous operations, and the sharable
//! resources services name by ARN: auto scaling configurations (`scaling`) and VPC connectors
//! (`vpc`).
//!
//! Data flow: the server hands [`AppRunnerState::handle`] an action, the request context and the
//! JSON body. `handle` forgets services whose deletion has run its course (and deleted
//! configurations and connectors after the same retention), then `actions` parses the input
//! (`types`), resolves the auto scaling configuration and VPC connector a service names (`scaling`,
//! `vpc`), checks the service's derived status (`lifecycle`), appends an operation for mutating calls
//! (never for the tag calls) and renders the output (`render`). The configuration and connector
//! actions live in `scaling` and `vpc`; they start no operations.

mod actions;
pub mod lifecycle;
pub mod render;
mod responses;
pub mod scaling;
pub mod types;
pub mod vpc;

use std::collections::HashMap;

use serde_json::Value;

use crate::clock::Timestamp;
use crate::wire::{AwsError, RequestContext};
use lifecycle::{AppRunnerService, ServiceStatus};
use scaling::AutoScalingConfig;
use types::ServiceConfig;
use vpc::VpcConnector;

/// Every action the simulated App Runner serves.
pub const ACTIONS: &[&str] = &[
    "CreateService",
    "UpdateService",
    "DescribeService",
    "DeleteService",
    "ListServices",
    "ListOperations",
    "PauseService",
    "ResumeService",
    "StartDeployment",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
    "CreateAutoScalingConfiguration",
    "DescribeAutoScalingConfiguration",
    "ListAutoScalingConfigurations",
    "DeleteAutoScalingConfiguration",
    "CreateVpcConnector",
    "DescribeVpcConnector",
    "ListVpcConnectors",
    "DeleteVpcConnector",
];

/// How long App Runner stages take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppRunnerTimings {
    /// Every operation, start to finish.
    pub operation_seconds: f64,
    /// How long a deleted service stays describable as DELETED, and a deleted auto scaling
    /// configuration or VPC connector as INACTIVE.
    pub deleted_retention_seconds: f64,
}

/// A fault to inject into a future operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppRunnerFault {
    /// The next CreateService of that name ends CREATE_FAILED.
    CreateFailed,
    /// The next UpdateService or StartDeployment fails and rolls back.
    Rollback,
    /// Another client starts a deployment just before the next UpdateService arrives.
    ConcurrentOperation,
}

/// All simulated App Runner services, auto scaling configurations and VPC connectors, in every
/// account and region.
#[derive(Debug)]
pub struct AppRunnerState {
    services: Vec<AppRunnerService>,
    /// Auto scaling configuration revisions, oldest first.
    scaling: Vec<AutoScalingConfig>,
    /// The highest revision ever issued, by (account, region, configuration name).
    scaling_revisions: HashMap<(String, String, String), i64>,
    /// VPC connectors, oldest first.
    connectors: Vec<VpcConnector>,
    pending: HashMap<(String, AppRunnerFault), u32>,
    timings: AppRunnerTimings,
    /// Roles IAM has not propagated yet.
    pub iam: crate::iam::Propagation,
    /// Services per account and Region (CREATE_FAILED ones included) before CreateService answers
    /// `ServiceQuotaExceededException` (docs/aws-behaviour.md A9; the default number is assumed).
    pub service_quota: usize,
}

/// The simulator's default App Runner services-per-Region quota (AWS does not state its default in
/// a source we could read; adjustable in a real account).
pub const DEFAULT_SERVICE_QUOTA: usize = 30;

/// The service name from a name or an ARN (`…:service/<name>/<id>`).
pub fn service_name_of(name_or_arn: &str) -> &str {
    match name_or_arn.split_once(":service/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => name_or_arn,
    }
}

impl AppRunnerState {
    /// No services.
    pub fn new(timings: AppRunnerTimings) -> Self {
        Self {
            services: Vec::new(),
            scaling: Vec::new(),
            scaling_revisions: HashMap::new(),
            connectors: Vec::new(),
            pending: HashMap::new(),
            timings,
            iam: Default::default(),
            service_quota: DEFAULT_SERVICE_QUOTA,
        }
    }

    /// Forgets every service, auto scaling configuration, VPC connector and injection.
    pub fn clear(&mut self) {
        self.services.clear();
        self.scaling.clear();
        self.scaling_revisions.clear();
        self.connectors.clear();
        self.pending.clear();
        self.iam.clear();
    }

    /// An image push: starts App Runner's own deployment of every running service of that image with
    /// automatic deployments on. Returns their ARNs.
    pub fn push_image(&mut self, image: &str, now: Timestamp) -> Vec<String> {
        actions::push_image(self, image, now)
    }

    /// Makes the next matching operation of the named service (name or ARN) fail.
    pub fn inject(&mut self, name_or_arn: &str, fault: AppRunnerFault) {
        *self
            .pending
            .entry((service_name_of(name_or_arn).to_string(), fault))
            .or_default() += 1;
    }

    fn take(&mut self, name: &str, fault: AppRunnerFault) -> bool {
        let key = (name.to_string(), fault);
        match self.pending.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    self.pending.remove(&key);
                }
                true
            }
            _ => false,
        }
    }

    fn prune(&mut self, now: Timestamp) {
        let retention = self.timings.deleted_retention_seconds;
        self.services.retain(|svc| {
            svc.deleted_at(now)
                .is_none_or(|deleted| now < deleted + retention)
        });
        // NB: "Inactive configuration revisions are permanently removed some time after they are
        // deleted" (botocore `apprunner AutoScalingConfiguration.Status`; VpcConnector.Status the
        // same); the simulator uses the DELETED retention of services.
        self.scaling
            .retain(|c| c.deleted_at.is_none_or(|deleted| now < deleted + retention));
        self.connectors
            .retain(|c| c.deleted_at.is_none_or(|deleted| now < deleted + retention));
    }

    /// Whether a service in `account` and `region` that is not DELETED names `arn` in the member
    /// `uses` reads from its configuration (the one DescribeService reports).
    fn used_by_a_service(
        &self,
        account: &str,
        region: &str,
        now: Timestamp,
        arn: &str,
        uses: fn(&ServiceConfig) -> Option<&str>,
    ) -> bool {
        self.services
            .iter()
            .filter(|svc| svc.account == account && svc.region == region)
            .filter(|svc| svc.status(now) != ServiceStatus::Deleted)
            .any(|svc| uses(&svc.config(now)) == Some(arn))
    }

    /// The model's `Service` for the service at `index`.
    fn render_service(&self, index: usize, now: Timestamp) -> Value {
        let svc = &self.services[index];
        render::service(svc, now, scaling::service_summary(self, svc, now))
    }

    /// The service with this ARN in the caller's account and region.
    fn find(&self, ctx: &RequestContext, arn: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|svc| svc.arn == arn && svc.region == ctx.region && svc.account == ctx.account)
    }

    /// Runs one App Runner action.
    pub fn handle(&mut self, action: &str, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
        self.prune(ctx.now);
        match action {
            "CreateService" => actions::create(self, ctx, body),
            "UpdateService" => actions::update(self, ctx, body),
            "DescribeService" => actions::describe(self, ctx, body),
            "DeleteService" => actions::delete(self, ctx, body),
            "ListServices" => actions::list_services(self, ctx, body),
            "ListOperations" => actions::list_operations(self, ctx, body),
            "PauseService" => actions::pause(self, ctx, body),
            "ResumeService" => actions::resume(self, ctx, body),
            "StartDeployment" => actions::start_deployment(self, ctx, body),
            "ListTagsForResource" => actions::list_tags_for_resource(self, ctx, body),
            "TagResource" => actions::tag_resource(self, ctx, body),
            "UntagResource" => actions::untag_resource(self, ctx, body),
            "CreateAutoScalingConfiguration" => scaling::create(self, ctx, body),
            "DescribeAutoScalingConfiguration" => scaling::describe(self, ctx, body),
            "ListAutoScalingConfigurations" => scaling::list(self, ctx, body),
            "DeleteAutoScalingConfiguration" => scaling::delete(self, ctx, body),
            "CreateVpcConnector" => vpc::create(self, ctx, body),
            "DescribeVpcConnector" => vpc::describe(self, ctx, body),
            "ListVpcConnectors" => vpc::list(self, ctx, body),
            "DeleteVpcConnector" => vpc::delete(self, ctx, body),
            other => Err(AwsError::new(
                "UnknownOperationException",
                format!("The simulator does not implement App Runner action {other}."),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_come_from_names_or_arns() {
        assert_eq!(
            service_name_of("arn:aws:apprunner:us-east-1:123456789012:service/web/0123"),
            "web"
        );
        assert_eq!(service_name_of("web"), "web");
    }
}
