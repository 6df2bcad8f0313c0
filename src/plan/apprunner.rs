//! Decisions for an `AppRunnerService`: the canonical desired request, its digest, drift against what
//! App Runner reports, and the next step.
//!
//! Data flow: `AppRunnerRequest::from_spec` → `digest()` (compared with `status.lastAppliedHash`) →
//! [`plan()`] with the described service, the operation runway follows and the newest operation → a
//! [`Plan`] that the controller carries out. App Runner runs one asynchronous operation at a time, so
//! every rule that would send something first checks that nothing is in flight.
//!
//! Each step lives in its own module: `request` (the desired request, App Runner's defaults, the
//! digest and the create request), `plan` (the next step) and `drift` (what App Runner reports
//! differently from the spec); this module re-exports them.

pub use self::drift::{arn_matches, drift};
pub use self::observed::{ObservedOperation, ObservedService};
pub use self::plan::{
    DELETE_BLOCKED_BY_INGRESS, IN_FLIGHT, Plan, PlanInput, UNDONE, UpdateCause, baseline, delete_refusal,
    delete_step, needs_operations, plan,
};
pub use self::request::{
    AppRunnerRequest, CLEARABLE, CreateRequest, DEFAULT_CPU, DEFAULT_MEMORY, DEFAULT_PORT, create_request,
    default_auto_deployments, default_health_check, normalize_cpu, normalize_memory, service_name,
    valid_service_name,
};
pub use super::{Ownership, ownership};

pub mod decide;
mod drift;
pub mod observed;
mod plan;
mod request;

#[cfg(test)]
mod tests;
