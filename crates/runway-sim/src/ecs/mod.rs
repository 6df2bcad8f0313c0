//! The simulated Amazon ECS: Express Mode services, their service revisions, deployments and tags,
//! and the classic UpdateService/DescribeServices calls on the same services.
//!
//! Data flow: the server hands [`EcsState::handle`] an action name, the request context (region,
//! account, simulated time) and the JSON body. `handle` forgets services whose deletion has run its
//! course, then dispatches to `express` (the four Express actions), `classic` (UpdateService,
//! DescribeServices, and CreateService for classic services), `deployments`
//! (List/DescribeServiceDeployments), `revisions` (DescribeServiceRevisions, with the resources ECS
//! manages for the service, `infra`) or `tags` (TagResource, UntagResource, ListTagsForResource).
//! Those parse the input (`types`), look the service up in the
//! state every action shares (`model`: [`EcsState`]), drive its state machine (`rollout`) and render
//! the output shape (`render`). `newer` then adds, when asked to, members and enum values newer
//! than the SDKs' models.

mod classic;
mod deployments;
mod express;
pub mod infra;
pub mod model;
pub mod newer;
pub mod render;
pub mod revisions;
pub mod rollout;
mod tags;
pub mod types;

use serde_json::Value;

use crate::wire::{AwsError, RequestContext};

pub use model::{EcsState, cluster_name, service_name_of};
pub use newer::NewerModel;

/// Every action the simulated ECS serves.
pub const ACTIONS: &[&str] = &[
    "CreateExpressGatewayService",
    "UpdateExpressGatewayService",
    "DescribeExpressGatewayService",
    "DeleteExpressGatewayService",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "DescribeServiceRevisions",
    "CreateService",
    "UpdateService",
    "DescribeServices",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

impl EcsState {
    /// Runs one ECS action.
    pub fn handle(&mut self, action: &str, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
        self.prune(ctx.now);
        let mut out = self.dispatch(action, ctx, body)?;
        newer::apply(&self.newer_model, action, &mut out);
        Ok(out)
    }

    fn dispatch(&mut self, action: &str, ctx: &RequestContext, body: Value) -> Result<Value, AwsError> {
        match action {
            "CreateExpressGatewayService" => express::create(self, ctx, body),
            "UpdateExpressGatewayService" => express::update(self, ctx, body),
            "DescribeExpressGatewayService" => express::describe(self, ctx, body),
            "DeleteExpressGatewayService" => express::delete(self, ctx, body),
            "ListServiceDeployments" => deployments::list(self, ctx, body),
            "DescribeServiceDeployments" => deployments::describe(self, ctx, body),
            "DescribeServiceRevisions" => revisions::describe(self, ctx, body),
            "CreateService" => classic::create_service(self, ctx, body),
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
