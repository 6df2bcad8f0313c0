//! runway: a Kubernetes controller that makes Amazon ECS Express Mode services and AWS App Runner
//! services match `ExpressService` and `AppRunnerService` custom resources.
//!
//! Modules follow the data flow: `api` holds the CRD types, `sim` the AWS simulator used by the demo
//! and the tests.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod api;
pub mod error;
pub mod sim;

pub use error::{Error, Result};
