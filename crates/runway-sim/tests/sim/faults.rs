//! Injected throttling, server errors, latency and rate limits, and the `/_sim` control endpoints.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_apprunner::error::ProvideErrorMetadata as _;
use runway_sim::FaultConfig;
use runway_sim::client::{
    ClientOptions, apprunner_client, apprunner_client_with, ecs_client, ecs_client_with,
};
use serde_json::json;

use super::common::{http, raw_http, start};

fn faults(throttle: f64, server: f64) -> FaultConfig {
    FaultConfig {
        throttle_rate: throttle,
        server_error_rate: server,
        ..FaultConfig::default()
    }
}

#[tokio::test]
async fn throttling_surfaces_as_throttling_exception_for_both_services() {
    let sim = start().await;
    sim.set_faults(faults(1.0, 0.0)).unwrap();
    let ecs = ecs_client(&sim.endpoint());
    let err = ecs.describe_services().services("web").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let apprunner = apprunner_client(&sim.endpoint());
    let err = apprunner.list_services().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    let stats = sim.stats();
    assert_eq!(stats.outcome("ecs:DescribeServices:ThrottlingException"), 1);
    assert_eq!(stats.outcome("apprunner:ListServices:ThrottlingException"), 1);
}

#[tokio::test]
async fn the_sdk_retries_throttling_and_server_errors_as_it_would_against_aws() {
    let sim = start().await;
    let retrying = ClientOptions {
        max_attempts: 3,
        ..ClientOptions::default()
    };
    sim.set_faults(faults(1.0, 0.0)).unwrap();
    let ecs = ecs_client_with(&sim.endpoint(), &retrying);
    let err = ecs.describe_services().services("web").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(
        sim.stats().calls("ecs:DescribeServices"),
        3,
        "throttling is retryable"
    );
    sim.reset_stats();
    sim.set_faults(faults(0.0, 1.0)).unwrap();
    let apprunner = apprunner_client_with(&sim.endpoint(), &retrying);
    let err = apprunner.list_services().send().await.unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_internal_service_error_exception()
    );
    assert_eq!(sim.stats().calls("apprunner:ListServices"), 3, "5xx is retryable");
    sim.reset_stats();
    sim.set_faults(FaultConfig::default()).unwrap();
    let err = ecs
        .list_service_deployments()
        .service("missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_service_not_found_exception());
    assert_eq!(
        sim.stats().calls("ecs:ListServiceDeployments"),
        1,
        "client errors are not retried"
    );
}

#[tokio::test]
async fn server_errors_surface_as_the_modeled_5xx_exceptions() {
    let sim = start().await;
    sim.set_faults(faults(0.0, 1.0)).unwrap();
    let ecs = ecs_client(&sim.endpoint());
    let err = ecs.describe_services().services("web").send().await.unwrap_err();
    assert!(err.as_service_error().unwrap().is_server_exception(), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 500);
    let apprunner = apprunner_client(&sim.endpoint());
    let err = apprunner
        .describe_service()
        .service_arn("arn:aws:apprunner:us-east-1:123456789012:service/x/y")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_internal_service_error_exception(),
        "{err:?}"
    );
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 500);
}

#[tokio::test]
async fn added_latency_delays_every_response() {
    let sim = start().await;
    sim.set_faults(FaultConfig {
        latency_ms: 300,
        ..FaultConfig::default()
    })
    .unwrap();
    let apprunner = apprunner_client(&sim.endpoint());
    let started = Instant::now();
    apprunner.list_services().send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limits_throttle_calls_beyond_the_budget_of_their_family() {
    let sim = start().await;
    sim.set_faults(FaultConfig {
        rate_limit_per_second: BTreeMap::from([("ecs:describe".to_string(), 2.0)]),
        ..FaultConfig::default()
    })
    .unwrap();
    let ecs = ecs_client(&sim.endpoint());
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let result = ecs.describe_services().services("web").send().await;
        outcomes.push(result.err().and_then(|e| e.code().map(str::to_string)));
    }
    assert_eq!(
        outcomes,
        [
            None,
            None,
            Some("ThrottlingException".to_string()),
            Some("ThrottlingException".to_string())
        ]
    );
    // Another family has its own budget.
    let err = ecs
        .update_service()
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_service_not_found_exception());
    // Simulated time refills the bucket.
    sim.advance(1.0);
    ecs.describe_services().services("web").send().await.unwrap();
    let stats = sim.stats();
    assert_eq!(stats.calls("ecs:DescribeServices"), 5);
    assert_eq!(stats.outcome("ecs:DescribeServices:ok"), 3);
    assert_eq!(stats.outcome("ecs:DescribeServices:ThrottlingException"), 2);
}

#[tokio::test]
async fn control_endpoints_drive_the_simulator_over_http() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let ecs = ecs_client(&sim.endpoint());
    ecs.describe_services().services("web").send().await.unwrap();
    apprunner.list_services().send().await.unwrap();
    apprunner.list_services().send().await.unwrap();
    let (code, stats) = http(&sim, "GET", "/_sim/stats", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        stats,
        json!({
            "calls": {"apprunner:ListServices": 2, "ecs:DescribeServices": 1},
            "outcomes": {"apprunner:ListServices:ok": 2, "ecs:DescribeServices:ok": 1},
        })
    );
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/faults",
        Some(json!({"throttleRate": 1.0, "rateLimitPerSecond": {"apprunner:mutate": 5}})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(sim.faults().throttle_rate, 1.0);
    let err = apprunner.list_services().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    let (code, _) = http(&sim, "POST", "/_sim/faults", Some(json!({"throttleRate": 2.0}))).await;
    assert_eq!(code, 400, "out-of-range rates are refused");
    let (code, _) = http(&sim, "POST", "/_sim/faults", Some(json!({}))).await;
    assert_eq!(code, 200);
    let before = sim.now();
    let (code, body) = http(&sim, "POST", "/_sim/advance", Some(json!({"seconds": 120}))).await;
    assert_eq!(code, 200);
    assert_eq!(body["offsetSeconds"], json!(120.0));
    assert!(sim.now() - before >= 120.0);
    let (code, _) = http(&sim, "POST", "/_sim/advance", Some(json!({"seconds": -1}))).await;
    assert_eq!(code, 400);
    let (code, _) = http(
        &sim,
        "POST",
        "/_sim/inject",
        Some(json!({"service": "s3", "name": "x", "kind": "rollback"})),
    )
    .await;
    assert_eq!(code, 400);
    // A plain reset clears the counters only; a full reset also forgets services.
    apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(
            aws_sdk_apprunner::types::SourceConfiguration::builder()
                .image_repository(
                    aws_sdk_apprunner::types::ImageRepository::builder()
                        .image_identifier("public.ecr.aws/nginx/nginx:1")
                        .image_repository_type(aws_sdk_apprunner::types::ImageRepositoryType::EcrPublic)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, _) = http(&sim, "POST", "/_sim/reset", None).await;
    assert_eq!(code, 200);
    assert_eq!(sim.stats().calls.len(), 0);
    assert_eq!(
        apprunner
            .list_services()
            .send()
            .await
            .unwrap()
            .service_summary_list()
            .len(),
        1
    );
    let (code, _) = http(&sim, "POST", "/_sim/reset", Some(json!({"state": true}))).await;
    assert_eq!(code, 200);
    assert!(
        apprunner
            .list_services()
            .send()
            .await
            .unwrap()
            .service_summary_list()
            .is_empty()
    );
    assert_eq!(sim.stats().calls("apprunner:ListServices"), 1);
}

#[tokio::test]
async fn unknown_targets_and_malformed_bodies_get_aws_errors() {
    let sim = start().await;
    let (code, body) = http(&sim, "POST", "/", Some(json!({}))).await;
    assert_eq!(code, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (code, body) = raw_http(
        &sim,
        "POST",
        "/",
        "X-Amz-Target: AppRunner.ListServices\r\n",
        "{not json",
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(body["__type"], "SerializationException");
    assert!(body["Message"].as_str().unwrap().contains("not valid JSON"));
    let (code, body) = raw_http(
        &sim,
        "POST",
        "/",
        "X-Amz-Target: AmazonEC2ContainerServiceV20141113.DeleteCluster\r\n",
        "{}",
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    assert_eq!(
        sim.stats().outcome("ecs:DeleteCluster:UnknownOperationException"),
        1
    );
}
