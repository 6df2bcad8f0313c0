//! The ECS behaviours of docs/aws-behaviour.md E31 to E37 through `aws-sdk-ecs`: custom task
//! definitions, classic services, a drain an unusable infrastructure role blocks, answers from a
//! newer ECS than the SDK knows, and a Describe that lags behind a create.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{ExpressGatewayContainer, ServiceField};
use runway_sim::NewerModel;
use runway_sim::client::ecs_client;
use serde_json::json;

use super::common::{STAGE_SECONDS, http, start, text};

const INFRA_ROLE: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";

async fn create_with_task_definition(ecs: &Client, name: &str, td: &str) -> String {
    ecs.create_express_gateway_service()
        .service_name(name)
        .infrastructure_role_arn(INFRA_ROLE)
        .task_definition_arn(td)
        .send()
        .await
        .expect("create succeeds")
        .service()
        .and_then(|s| s.service_arn())
        .unwrap()
        .to_string()
}

async fn create_managed(ecs: &Client, name: &str) -> String {
    ecs.create_express_gateway_service()
        .service_name(name)
        .infrastructure_role_arn(INFRA_ROLE)
        .execution_role_arn("arn:aws:iam::123456789012:role/exec")
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("nginx:1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create succeeds")
        .service()
        .and_then(|s| s.service_arn())
        .unwrap()
        .to_string()
}

async fn status_code(ecs: &Client, arn: &str) -> String {
    let out = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    text(out.service().unwrap().status().unwrap().status_code()).to_string()
}

#[tokio::test]
async fn a_customer_task_definition_is_reported_with_a_derived_container_and_no_architecture() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let td = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    let arn = create_with_task_definition(&ecs, "custom", td).await;
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let config = &described.service().unwrap().active_configurations()[0];
    assert_eq!(config.task_definition_arn(), Some(td));
    let container = config.primary_container().expect("derived container");
    assert!(container.image().contains("web"), "{}", container.image());
    assert!(config.cpu_architecture().is_none());
    assert!(config.execution_role_arn().is_none());

    // A managed service reports the task definition ECS manages for it, and its architecture.
    let managed = create_managed(&ecs, "managed").await;
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(&managed)
        .send()
        .await
        .unwrap();
    let config = &described.service().unwrap().active_configurations()[0];
    assert!(
        config
            .task_definition_arn()
            .is_some_and(|t| t.contains(":task-definition/")),
        "{config:?}"
    );
    assert_eq!(text(config.cpu_architecture()), "X86_64");
}

#[tokio::test]
async fn a_task_definition_without_a_revision_is_reported_with_the_one_ecs_resolved() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let family = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker";
    let arn = create_with_task_definition(&ecs, "worker", family).await;
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let config = &described.service().unwrap().active_configurations()[0];
    assert_eq!(config.task_definition_arn(), Some(format!("{family}:1").as_str()));
}

#[tokio::test]
async fn create_service_makes_a_classic_service_that_the_express_calls_refuse() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let created = ecs
        .create_service()
        .service_name("web")
        .task_definition("web:3")
        .desired_count(2)
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().unwrap().to_string();
    let found = ecs
        .describe_services()
        .services("web")
        .include(ServiceField::Tags)
        .send()
        .await
        .unwrap();
    let service = &found.services()[0];
    assert_eq!(text(service.resource_management_type()), "CUSTOMER");
    assert_eq!(
        service.task_definition(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:3")
    );
    assert_eq!(service.desired_count(), 2);

    let err = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"), "{err:?}");
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("ResourceManagementType=CUSTOMER")
    );
    let err = ecs
        .delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    // The name is taken for Express too, as for any service in the cluster (E22).
    let err = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("nginx:1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        err.message().unwrap_or_default().contains("not idempotent"),
        "{err:?}"
    );
    // An Express service says ECS in the same member.
    let express = create_managed(&ecs, "express").await;
    let found = ecs.describe_services().services(&express).send().await.unwrap();
    assert_eq!(text(found.services()[0].resource_management_type()), "ECS");
}

#[tokio::test]
async fn a_deleted_service_stays_draining_while_its_infrastructure_role_is_unusable() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create_managed(&ecs, "web").await;
    let (status, _) = http(
        &sim,
        "POST",
        "/_sim/ecs/infrastructure-role",
        Some(json!({"role": INFRA_ROLE, "usable": false})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, listed) = http(&sim, "GET", "/_sim/ecs/infrastructure-role", None).await;
    assert_eq!(listed["unusableRoles"], json!([INFRA_ROLE]));
    ecs.delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    sim.advance(100.0 * STAGE_SECONDS);
    assert_eq!(status_code(&ecs, &arn).await, "DRAINING");

    sim.set_infrastructure_role_usable(INFRA_ROLE, true);
    assert_eq!(status_code(&ecs, &arn).await, "DRAINING", "the drain starts over");
    sim.advance(STAGE_SECONDS + 1.0);
    let err = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.message().unwrap_or_default().contains("INACTIVE"), "{err:?}");
}

#[tokio::test]
async fn a_newer_model_adds_members_and_values_that_the_sdk_reads_past() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create_managed(&ecs, "web").await;
    let (status, body) = http(
        &sim,
        "POST",
        "/_sim/ecs/newer-model",
        Some(json!({"unknownMembers": true, "statusCode": "UPDATING"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .expect("the SDK reads past members it does not know");
    let service = described.service().unwrap();
    assert_eq!(text(service.status().unwrap().status_code()), "UPDATING");
    let path = &service.active_configurations()[0].ingress_paths()[0];
    assert_eq!(
        path.access_type().as_str(),
        runway_sim::ecs::newer::UNKNOWN_ACCESS_TYPE
    );
    let listed = ecs
        .list_service_deployments()
        .service(&arn)
        .send()
        .await
        .expect("list");
    let deployment = listed.service_deployments()[0]
        .service_deployment_arn()
        .unwrap()
        .to_string();
    let full = ecs
        .describe_service_deployments()
        .service_deployment_arns(deployment)
        .send()
        .await
        .expect("describe deployments");
    assert_eq!(
        text(full.service_deployments()[0].lifecycle_stage()),
        runway_sim::ecs::newer::UNKNOWN_LIFECYCLE_STAGE
    );
    ecs.describe_services()
        .services(&arn)
        .send()
        .await
        .expect("describe services");

    let (_, bad) = http(&sim, "POST", "/_sim/ecs/newer-model", Some(json!({"nope": 1}))).await;
    assert!(bad["error"].is_string(), "{bad}");
    sim.reset_all();
    let (_, model) = http(&sim, "GET", "/_sim/ecs/newer-model", None).await;
    assert_eq!(
        serde_json::from_value::<NewerModel>(model).unwrap(),
        NewerModel::default()
    );
}

#[tokio::test]
async fn describe_can_lag_behind_a_create_while_describe_services_lists_the_service() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let (status, _) = http(
        &sim,
        "POST",
        "/_sim/ecs/read-after-create",
        Some(json!({"seconds": 30})),
    )
    .await;
    assert_eq!(status, 200);
    let arn = create_managed(&ecs, "web").await;
    let err = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(err.message().unwrap_or_default().contains("Resource not found"));
    let listed = ecs.describe_services().services("web").send().await.unwrap();
    assert_eq!(listed.services()[0].service_arn(), Some(arn.as_str()));
    sim.advance(31.0);
    assert_eq!(status_code(&ecs, &arn).await, "ACTIVE");
    let (_, bad) = http(
        &sim,
        "POST",
        "/_sim/ecs/read-after-create",
        Some(json!({"seconds": -1})),
    )
    .await;
    assert!(bad["error"].is_string(), "{bad}");
}
