//! Decisions for an `ExpressService`: the canonical desired request, its digest, drift against what
//! AWS reports, and the next step.
//!
//! Data flow: `ExpressRequest::from_spec` (+ `clearing` the fields runway applied earlier and the
//! spec dropped) → `digest()` (compared with `status.lastAppliedHash`) → [`plan()`] with the observed
//! service, its current deployment and the rollout runway awaits → a [`Plan`] that the controller
//! carries out.
//!
//! Rules that come from how AWS really behaves (`docs/aws-behaviour.md`): no default is folded away,
//! because the sources disagree on them; security groups that AWS adds itself are never drift; and
//! `Ready` waits until the deployment that carries runway's change has been seen and has succeeded,
//! because AWS reports no deployment right after a create and keeps the old one current for a while
//! after an update.
//!
//! Each step lives in its own module: `request` (the desired request, its digest and the create
//! request), `plan` (the next step), `drift` (what AWS reports differently from the spec) and
//! `managed` (the resources ECS manages for the service: when to read them, how a failed one
//! shows); this module re-exports them.

pub use self::drift::{current_configuration, drift, redacted};
pub use self::foreign::not_express;
pub use self::managed::{managed_resources_due, managed_revision};
pub use self::observed::{Applied, ObservedDeployment, ObservedExpress, ObservedManaged};
pub use self::plan::{FAILED, IN_FLIGHT, Plan, PlanInput, delete_step, known_ended_deployment, plan};
pub use self::request::{
    CLEARABLE, CreateRequest, ExpressRequest, create_request, metric_name, service_name,
};
pub use super::{OWNER_TAG, owner};

pub mod decide;
mod drift;
mod foreign;
pub mod managed;
pub mod observed;
mod plan;
mod request;

#[cfg(test)]
pub(crate) mod tests;
