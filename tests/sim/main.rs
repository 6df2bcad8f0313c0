//! End-to-end tests of the AWS simulator through the real `aws-sdk-ecs` and `aws-sdk-apprunner`
//! clients. Each test starts its own simulator on a free loopback port and moves simulated time
//! with `advance`, so no test sleeps through a rollout.

mod apprunner;
mod cli;
mod common;
mod ecs;
mod faults;
