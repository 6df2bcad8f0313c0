//! The normalization switch (docs/aws-behaviour.md X13): responses report a field in another
//! spelling than it was sent, until the switch is turned off; what is stored stays as sent.

use std::collections::BTreeMap;

use aws_sdk_apprunner::types::{
    HealthCheckConfiguration, HealthCheckProtocol, ImageRepository, ImageRepositoryType, SourceConfiguration,
};
use aws_sdk_ecs::types::ExpressGatewayContainer;
use runway_sim::client::{apprunner_client, ecs_client};
use runway_sim::{FaultConfig, Rewrite};
use serde_json::json;

use super::common::{http, start};

fn normalizing(keys: &[&str]) -> FaultConfig {
    FaultConfig {
        normalize: keys
            .iter()
            .map(|k| (k.to_string(), Rewrite::Lowercase))
            .collect::<BTreeMap<_, _>>(),
        ..FaultConfig::default()
    }
}

async fn ecs_health_check_path(ecs: &aws_sdk_ecs::Client, arn: &str) -> String {
    let out = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    let config = out
        .service()
        .unwrap()
        .active_configurations()
        .last()
        .unwrap()
        .clone();
    config.health_check_path().unwrap().to_string()
}

#[tokio::test]
async fn ecs_reports_a_normalized_health_check_path_while_the_switch_is_on() {
    let sim = start().await;
    sim.set_faults(normalizing(&["ecs:healthCheckPath"])).unwrap();
    let ecs = ecs_client(&sim.endpoint());
    let created = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn("arn:aws:iam::123456789012:role/ecsInfrastructureRole")
        .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
        .health_check_path("/Health")
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.27")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().unwrap().to_string();
    assert_eq!(ecs_health_check_path(&ecs, &arn).await, "/health");
    let updated = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .health_check_path("/Ready")
        .send()
        .await
        .unwrap();
    let target = updated.service().unwrap().target_configuration().unwrap();
    assert_eq!(target.health_check_path(), Some("/ready"), "update responses too");

    // Off again: the value as sent, which the simulator kept.
    sim.set_faults(FaultConfig::default()).unwrap();
    assert_eq!(ecs_health_check_path(&ecs, &arn).await, "/Ready");
}

#[tokio::test]
async fn app_runner_reports_a_normalized_health_check_path_set_over_the_control_endpoint() {
    let sim = start().await;
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/faults",
        Some(json!({"normalize": {"apprunner:healthCheckConfiguration.path": "lowercase"}})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (_, faults) = http(&sim, "GET", "/_sim/faults", None).await;
    assert_eq!(
        faults["normalize"],
        json!({"apprunner:healthCheckConfiguration.path": "lowercase"})
    );
    let apprunner = apprunner_client(&sim.endpoint());
    let created = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(
            SourceConfiguration::builder()
                .image_repository(
                    ImageRepository::builder()
                        .image_identifier("public.ecr.aws/nginx/nginx:1.27")
                        .image_repository_type(ImageRepositoryType::EcrPublic)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .health_check_configuration(
            HealthCheckConfiguration::builder()
                .protocol(HealthCheckProtocol::Http)
                .path("/Health")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().to_string();
    let path = |service: &aws_sdk_apprunner::types::Service| {
        service
            .health_check_configuration()
            .and_then(|h| h.path())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(path(created.service().unwrap()), "/health");
    let described = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(path(described.service().unwrap()), "/health");

    let (code, _) = http(&sim, "POST", "/_sim/faults", Some(json!({}))).await;
    assert_eq!(code, 200);
    let described = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(path(described.service().unwrap()), "/Health");
}

#[tokio::test]
async fn a_normalization_of_an_unknown_service_or_rewrite_is_refused() {
    let sim = start().await;
    for body in [
        json!({"normalize": {"s3:path": "lowercase"}}),
        json!({"normalize": {"ecs:healthCheckPath": "reversed"}}),
    ] {
        let (code, _) = http(&sim, "POST", "/_sim/faults", Some(body.clone())).await;
        assert_eq!(code, 400, "{body}");
    }
    assert!(sim.set_faults(normalizing(&["ecs:"])).is_err());
}
