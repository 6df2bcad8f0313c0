//! End-to-end tests of the AWS simulator through the real `aws-sdk-ecs` and `aws-sdk-apprunner`
//! clients. Each test starts its own simulator on a free loopback port and moves simulated time
//! with `advance`, so no test sleeps through a rollout.

// NB: clippy's allow-unwrap-in-tests covers only #[test] functions; the helpers here panic on
// purpose too, since a panic is how a test fails.
#![allow(clippy::unwrap_used)]

mod apprunner;
mod common;
mod ecs;
mod ecs_behaviour;
mod faults;
mod normalize;
mod sts;
