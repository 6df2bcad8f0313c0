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
//! actions live in `scaling` and `vpc`, the VPC ingress connections of private services in
//! `ingress`; they start no operations. All of them work on the state in
//! `model` ([`AppRunnerState`], with the auto scaling configuration and VPC connector records).
//! `newer` then adds, when asked to, members and enum values newer than the SDKs' models.

mod actions;
pub mod ingress;
pub mod lifecycle;
pub mod model;
pub mod newer;
pub mod render;
mod responses;
pub mod scaling;
pub mod types;
pub mod vpc;

use serde_json::Value;

use crate::clock::Timestamp;
use crate::wire::{AwsError, RequestContext};

pub use model::{AppRunnerFault, AppRunnerState, AppRunnerTimings, DEFAULT_SERVICE_QUOTA, service_name_of};
pub use newer::NewerModel;

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
    "CreateVpcIngressConnection",
    "DescribeVpcIngressConnection",
    "ListVpcIngressConnections",
    "DeleteVpcIngressConnection",
];

impl AppRunnerState {
    /// An image push: starts App Runner's own deployment of every running service of that image with
    /// automatic deployments on. Returns their ARNs.
    pub fn push_image(&mut self, image: &str, now: Timestamp) -> Vec<String> {
        actions::push_image(self, image, now)
    }

    /// Runs one App Runner action.
    pub fn handle(&mut self, action: &str, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
        self.prune(ctx.now);
        let mut out = self.dispatch(action, ctx, body)?;
        newer::apply(&self.newer_model, action, &mut out);
        Ok(out)
    }

    fn dispatch(&mut self, action: &str, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
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
            "CreateVpcIngressConnection" => ingress::create(self, ctx, body),
            "DescribeVpcIngressConnection" => ingress::describe(self, ctx, body),
            "ListVpcIngressConnections" => ingress::list(self, ctx, body),
            "DeleteVpcIngressConnection" => ingress::delete(self, ctx, body),
            other => Err(AwsError::new(
                "UnknownOperationException",
                format!("The simulator does not implement App Runner action {other}."),
            )),
        }
    }
}
