//! runway: a Kubernetes controller that makes Amazon ECS Express Mode services and AWS App Runner
//! services match `ExpressService` and `AppRunnerService` custom resources.
//!
//! Modules follow the data flow: `api` holds the CRD types; `plan` decides what to do from spec,
//! status and what AWS reports (pure functions); `aws` talks to AWS; `controller` wires watches,
//! reconciles, status and events; `metrics` holds the Prometheus registry and `server` serves it
//! with health. The AWS simulator used by the demo and the tests is the `runway-sim` crate.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod api;
pub mod aws;
pub mod controller;
pub mod diff;
pub mod error;
pub mod manifests;
pub mod metrics;
pub mod migrate;
pub mod plan;
pub mod server;

pub use error::{Error, Result};
