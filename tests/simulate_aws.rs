//! The `runway simulate-aws` binary: flags, the printed endpoint, and SDK calls against it.

use std::process::Stdio;

use runway_sim::client::ecs_client;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn the_binary_serves_the_simulator_on_the_printed_endpoint() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_runway"))
        .args([
            "simulate-aws",
            "--listen",
            "127.0.0.1:0",
            "--ecs-rollout-seconds",
            "1",
            "--rate-limit",
            "ecs:mutate=1",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("runway starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let find_endpoint = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(endpoint) = line.strip_prefix("runway simulate-aws listening on ") {
                return endpoint.to_string();
            }
        }
        panic!("runway exited without printing its endpoint");
    };
    let endpoint = tokio::time::timeout(std::time::Duration::from_secs(30), find_endpoint)
        .await
        .expect("the endpoint is printed in time");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let ecs = ecs_client(&endpoint);
    let services = ecs.describe_services().services("web").send().await.unwrap();
    assert_eq!(services.failures()[0].reason(), Some("MISSING"));
    let first = ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await;
    let second = ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await;
    use aws_sdk_ecs::error::ProvideErrorMetadata;
    assert_eq!(first.unwrap_err().code(), Some("ServiceNotFoundException"));
    assert_eq!(
        second.unwrap_err().code(),
        Some("ThrottlingException"),
        "--rate-limit applies"
    );
    child.kill().await.unwrap();
}
