//! ECS Express Mode, UpdateService and DescribeServices through `aws-sdk-ecs`.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    ExpressGatewayContainer, ExpressGatewayScalingTarget, ExpressGatewayServiceInclude, KeyValuePair,
    ServiceField, Tag,
};
use runway_sim::client::{ClientOptions, ecs_client, ecs_client_with};
use runway_sim::{InjectKind, InjectService, Injection};

use super::common::{STAGE_SECONDS, start, text};

const INFRA_ROLE: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";
const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";

fn container(image: &str) -> ExpressGatewayContainer {
    ExpressGatewayContainer::builder()
        .image(image)
        .environment(KeyValuePair::builder().name("MODE").value("prod").build())
        .build()
        .unwrap()
}

async fn create(ecs: &Client, name: &str) -> String {
    let out = ecs
        .create_express_gateway_service()
        .service_name(name)
        .infrastructure_role_arn(INFRA_ROLE)
        .execution_role_arn(EXEC_ROLE)
        .primary_container(container("public.ecr.aws/nginx/nginx:1.27"))
        .send()
        .await
        .expect("create succeeds");
    out.service().unwrap().service_arn().unwrap().to_string()
}

async fn deployment_statuses(ecs: &Client, arn: &str) -> Vec<String> {
    ecs.list_service_deployments()
        .service(arn)
        .send()
        .await
        .unwrap()
        .service_deployments()
        .iter()
        .map(|d| text(d.status()).to_string())
        .collect()
}

async fn active_images(ecs: &Client, arn: &str) -> Vec<String> {
    ecs.describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .active_configurations()
        .iter()
        .map(|c| c.primary_container().unwrap().image().to_string())
        .collect()
}

#[tokio::test]
async fn create_returns_an_active_service_with_defaults_and_a_rollout_in_progress() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let out = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("public.ecr.aws/nginx/nginx:1.27"))
        .send()
        .await
        .unwrap();
    let service = out.service().unwrap();
    assert_eq!(
        service.service_arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:service/default/web")
    );
    // Real accounts answer the cluster's ARN, and no currentDeployment right after a create.
    assert_eq!(
        service.cluster(),
        Some("arn:aws:ecs:us-east-1:123456789012:cluster/default")
    );
    assert_eq!(text(service.status().unwrap().status_code()), "ACTIVE");
    assert!(service.current_deployment().is_none());
    let [config] = service.active_configurations() else {
        panic!("one active configuration: {:?}", service.active_configurations());
    };
    assert!(
        config
            .service_revision_arn()
            .unwrap()
            .contains(":service-revision/default/web/")
    );
    // The developer guide's defaults, not the model text's (docs/aws-behaviour.md E13).
    assert_eq!(config.cpu(), Some("1024"));
    assert_eq!(config.memory(), Some("2048"));
    assert_eq!(config.health_check_path(), Some("/"));
    assert_eq!(text(config.cpu_architecture()), "X86_64");
    let primary = config.primary_container().unwrap();
    assert_eq!(primary.container_port(), Some(80));
    assert_eq!(
        primary.aws_logs_configuration().unwrap().log_stream_prefix(),
        "ecs"
    );
    let scaling = config.scaling_target().unwrap();
    assert_eq!(text(scaling.auto_scaling_metric()), "AVERAGE_CPU");
    assert_eq!(scaling.auto_scaling_target_value(), Some(60));
    assert_eq!(scaling.min_task_count(), Some(1));
    let [ingress] = config.ingress_paths() else {
        panic!("one ingress path");
    };
    assert_eq!(ingress.access_type().as_str(), "PUBLIC");
    assert!(ingress.endpoint().starts_with("web-"), "{}", ingress.endpoint());
    assert!(ingress.endpoint().ends_with(".ecs.us-east-1.on.aws"));
    let arn = service.service_arn().unwrap();
    // Service deployments start PENDING (E8), and currentDeployment appears later (E7).
    assert_eq!(deployment_statuses(&ecs, arn).await, ["PENDING"]);
    sim.advance(11.0);
    assert_eq!(deployment_statuses(&ecs, arn).await, ["IN_PROGRESS"]);
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    assert!(described.service().unwrap().current_deployment().is_some());
    sim.advance(STAGE_SECONDS);
    assert_eq!(deployment_statuses(&ecs, arn).await, ["SUCCESSFUL"]);
}

/// The newest deployments as ListServiceDeployments reports them: (ARN, status).
async fn deployments(ecs: &Client, arn: &str) -> Vec<(String, String)> {
    ecs.list_service_deployments()
        .service(arn)
        .send()
        .await
        .unwrap()
        .service_deployments()
        .iter()
        .map(|d| {
            (
                d.service_deployment_arn().unwrap().to_string(),
                text(d.status()).to_string(),
            )
        })
        .collect()
}

async fn reported_current(ecs: &Client, arn: &str) -> Option<String> {
    ecs.describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .current_deployment()
        .map(str::to_string)
}

#[tokio::test]
async fn deployments_are_eventually_consistent_like_in_real_accounts() {
    // The defaults: PENDING 5 s, no currentDeployment for 10 s after a create, the previous one
    // for 5 s after an update; the rollout itself takes STAGE_SECONDS.
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let created = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx:1"))
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().unwrap().to_string();
    assert_eq!(created.service().unwrap().current_deployment(), None);
    // ListServiceDeployments shows the new deployment at once.
    let listed = deployments(&ecs, &arn).await;
    let [(first, status)] = &listed[..] else {
        panic!("{listed:?}")
    };
    assert_eq!(status, "PENDING");
    let full = ecs
        .describe_service_deployments()
        .service_deployment_arns(first)
        .send()
        .await
        .unwrap();
    let described = &full.service_deployments()[0];
    assert_eq!(text(described.status()), "PENDING");
    assert_eq!(text(described.lifecycle_stage()), "RECONCILE_SERVICE");
    assert_eq!(reported_current(&ecs, &arn).await, None);
    sim.advance(6.0);
    assert_eq!(deployments(&ecs, &arn).await[0].1, "IN_PROGRESS");
    assert_eq!(reported_current(&ecs, &arn).await, None, "still absent at 6 s");
    sim.advance(5.0);
    assert_eq!(reported_current(&ecs, &arn).await.as_ref(), Some(first));
    // The canary: 5 % of traffic first, 100 % in the second half.
    let reason = |ecs: Client, arn: String| async move {
        ecs.list_service_deployments()
            .service(&arn)
            .send()
            .await
            .unwrap()
            .service_deployments()[0]
            .status_reason()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        reason(ecs.clone(), arn.clone())
            .await
            .contains("5% of production traffic")
    );
    sim.advance(30.0);
    assert!(
        reason(ecs.clone(), arn.clone())
            .await
            .contains("100% of production traffic")
    );
    sim.advance(STAGE_SECONDS - 41.0 + 1.0);
    assert_eq!(deployments(&ecs, &arn).await[0].1, "SUCCESSFUL");

    // An update: listed at once, newest first, while currentDeployment names the previous one.
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .primary_container(container("nginx:2"))
        .send()
        .await
        .unwrap();
    let listed = deployments(&ecs, &arn).await;
    let [(second, status), (older, _)] = &listed[..] else {
        panic!("{listed:?}")
    };
    assert_eq!((older, status.as_str()), (first, "PENDING"));
    assert_eq!(reported_current(&ecs, &arn).await.as_ref(), Some(first));
    sim.advance(6.0);
    assert_eq!(reported_current(&ecs, &arn).await.as_ref(), Some(second));
    assert_eq!(deployments(&ecs, &arn).await[0].1, "IN_PROGRESS");
    // PENDING is part of the rollout: it still ends STAGE_SECONDS after the update.
    sim.advance(STAGE_SECONDS - 6.0 - 1.0);
    assert_eq!(deployments(&ecs, &arn).await[0].1, "IN_PROGRESS");
    sim.advance(2.0);
    assert_eq!(deployments(&ecs, &arn).await[0].1, "SUCCESSFUL");
    // A forced redeploy lags the same way.
    ecs.update_service()
        .service(&arn)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let third = deployments(&ecs, &arn).await[0].0.clone();
    assert_eq!(reported_current(&ecs, &arn).await.as_ref(), Some(second));
    sim.advance(6.0);
    assert_eq!(reported_current(&ecs, &arn).await, Some(third));
}

#[tokio::test]
async fn eventual_consistency_knobs_at_zero_give_the_idealized_behaviour() {
    let sim = runway_sim::Simulator::start(runway_sim::SimConfig {
        ecs_rollout_seconds: STAGE_SECONDS,
        ecs_pending_seconds: 0.0,
        ecs_current_deployment_delay_seconds: 0.0,
        ecs_deployment_lag_seconds: 0.0,
        ..runway_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let ecs = ecs_client(&sim.endpoint());
    let created = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx:1"))
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().unwrap().to_string();
    let listed = deployments(&ecs, &arn).await;
    assert_eq!(listed[0].1, "IN_PROGRESS");
    assert_eq!(
        created.service().unwrap().current_deployment(),
        Some(listed[0].0.as_str())
    );
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .cpu("2048")
        .memory("4096")
        .send()
        .await
        .unwrap();
    let newest = deployments(&ecs, &arn).await[0].0.clone();
    assert_eq!(reported_current(&ecs, &arn).await, Some(newest));
}

#[tokio::test]
async fn update_keeps_the_old_configuration_active_until_the_rollout_completes() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    sim.advance(STAGE_SECONDS);
    let out = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.28")
                .build()
                .unwrap(),
        )
        .cpu("512")
        .send()
        .await
        .unwrap();
    let target = out.service().unwrap().target_configuration().unwrap();
    let container = target.primary_container().unwrap();
    assert_eq!(container.image(), "public.ecr.aws/nginx/nginx:1.28");
    assert_eq!(
        container.environment().len(),
        1,
        "unset members keep their values"
    );
    assert_eq!(target.cpu(), Some("512"));
    assert_eq!(target.execution_role_arn(), Some(EXEC_ROLE));
    assert_eq!(
        active_images(&ecs, &arn).await,
        [
            "public.ecr.aws/nginx/nginx:1.27",
            "public.ecr.aws/nginx/nginx:1.28"
        ]
    );
    assert_eq!(deployment_statuses(&ecs, &arn).await, ["PENDING", "SUCCESSFUL"]);
    let deployments = ecs.list_service_deployments().service(&arn).send().await.unwrap();
    let newest = &deployments.service_deployments()[0];
    assert_eq!(
        newest.target_service_revision_arn(),
        target.service_revision_arn()
    );
    let described = ecs
        .describe_service_deployments()
        .service_deployment_arns(newest.service_deployment_arn().unwrap())
        .send()
        .await
        .unwrap();
    let [deployment] = described.service_deployments() else {
        panic!("one deployment");
    };
    assert_eq!(deployment.source_service_revisions().len(), 1);
    assert_eq!(
        deployment.target_service_revision().unwrap().arn(),
        target.service_revision_arn()
    );
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        active_images(&ecs, &arn).await,
        ["public.ecr.aws/nginx/nginx:1.28"]
    );
    assert_eq!(
        deployment_statuses(&ecs, &arn).await,
        ["SUCCESSFUL", "SUCCESSFUL"]
    );
}

#[tokio::test]
async fn update_during_a_rollout_stops_the_deployment_in_flight() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    sim.advance(STAGE_SECONDS);
    for tag in ["1.28", "1.29"] {
        ecs.update_express_gateway_service()
            .service_arn(&arn)
            .primary_container(container(&format!("public.ecr.aws/nginx/nginx:{tag}")))
            .send()
            .await
            .unwrap();
        sim.advance(1.0);
    }
    assert_eq!(
        deployment_statuses(&ecs, &arn).await,
        ["PENDING", "STOPPED", "SUCCESSFUL"]
    );
    assert_eq!(active_images(&ecs, &arn).await.len(), 3);
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        active_images(&ecs, &arn).await,
        ["public.ecr.aws/nginx/nginx:1.29"]
    );
}

#[tokio::test]
async fn injected_failure_rolls_back_to_the_previous_revision() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    sim.advance(STAGE_SECONDS);
    let first_revision = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .active_configurations()[0]
        .service_revision_arn()
        .unwrap()
        .to_string();
    sim.inject(&Injection {
        service: InjectService::Ecs,
        name: arn.clone(),
        kind: InjectKind::Rollback,
    })
    .unwrap();
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .primary_container(container("public.ecr.aws/nginx/broken"))
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS * 0.6);
    assert_eq!(deployment_statuses(&ecs, &arn).await[0], "ROLLBACK_IN_PROGRESS");
    sim.advance(STAGE_SECONDS);
    let list = ecs.list_service_deployments().service(&arn).send().await.unwrap();
    let newest = &list.service_deployments()[0];
    assert_eq!(text(newest.status()), "ROLLBACK_SUCCESSFUL");
    assert!(newest.status_reason().unwrap().contains("circuit breaker"));
    let described = ecs
        .describe_service_deployments()
        .service_deployment_arns(newest.service_deployment_arn().unwrap())
        .send()
        .await
        .unwrap();
    let rollback = described.service_deployments()[0].rollback().unwrap();
    assert_eq!(rollback.service_revision_arn(), Some(first_revision.as_str()));
    assert_eq!(
        active_images(&ecs, &arn).await,
        ["public.ecr.aws/nginx/nginx:1.27"]
    );
    let services = ecs.describe_services().services(&arn).send().await.unwrap();
    let deployment = &services.services()[0].deployments()[0];
    assert_eq!(text(deployment.rollout_state()), "FAILED");
    // The injection is used up: the next rollout succeeds.
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .cpu("1024")
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS);
    assert_eq!(deployment_statuses(&ecs, &arn).await[0], "SUCCESSFUL");
}

#[tokio::test]
async fn force_new_deployment_rolls_out_the_same_configuration_again() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    sim.advance(STAGE_SECONDS);
    let before = ecs.describe_services().services(&arn).send().await.unwrap();
    let task_definition = before.services()[0].task_definition().unwrap().to_string();
    let out = ecs
        .update_service()
        .service(&arn)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let service = out.service().unwrap();
    assert_eq!(service.task_definition(), Some(task_definition.as_str()));
    let statuses: Vec<_> = service
        .deployments()
        .iter()
        .map(|d| d.status().unwrap())
        .collect();
    assert_eq!(statuses, ["PRIMARY", "ACTIVE"]);
    assert_eq!(text(service.deployments()[0].rollout_state()), "IN_PROGRESS");
    assert_eq!(deployment_statuses(&ecs, &arn).await, ["PENDING", "SUCCESSFUL"]);
    let express = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    // Express keeps naming the previous deployment for a while after a new one starts (E7).
    assert_ne!(
        express.service().unwrap().current_deployment(),
        service.current_service_deployment()
    );
    sim.advance(6.0);
    let express = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        express.service().unwrap().current_deployment(),
        service.current_service_deployment()
    );
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        active_images(&ecs, &arn).await,
        ["public.ecr.aws/nginx/nginx:1.27"]
    );
    let after = ecs
        .describe_services()
        .cluster("default")
        .services("web")
        .send()
        .await
        .unwrap();
    let service = &after.services()[0];
    assert_eq!(service.status(), Some("ACTIVE"));
    assert_eq!(service.deployments().len(), 1);
    assert_eq!(text(service.deployments()[0].rollout_state()), "COMPLETED");
    assert_eq!(text(service.resource_management_type()), "ECS");
}

#[tokio::test]
async fn delete_drains_then_goes_inactive_then_is_not_found() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    let deleted = ecs
        .delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        text(deleted.service().unwrap().status().unwrap().status_code()),
        "DRAINING"
    );
    let err = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .cpu("512")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_service_not_active_exception(),
        "{err:?}"
    );
    let err = ecs
        .delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_service_not_active_exception());
    let err = ecs
        .update_service()
        .service(&arn)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_service_not_active_exception());
    sim.advance(STAGE_SECONDS);
    // An INACTIVE Express service is an error, not a description (docs/aws-behaviour.md E3).
    let inactive = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    let inactive = inactive.as_service_error().unwrap();
    // NB: undeclared for this operation in the model, so the SDK sees an unmodelled code.
    assert_eq!(inactive.meta().code(), Some("ServiceNotActiveException"));
    assert_eq!(
        inactive.meta().message(),
        Some("Cannot perform this operation on a service in INACTIVE status")
    );
    let services = ecs.describe_services().services(&arn).send().await.unwrap();
    assert_eq!(services.services()[0].status(), Some("INACTIVE"));
    sim.advance(STAGE_SECONDS);
    let err = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_parameter_exception(),
        "{err:?}"
    );
    let err = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .cpu("512")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    let err = ecs
        .delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    let services = ecs.describe_services().services(&arn).send().await.unwrap();
    assert!(services.services().is_empty());
    assert_eq!(services.failures()[0].reason(), Some("MISSING"));
    // The name is free again.
    assert_eq!(create(&ecs, "web").await, arn);
}

/// The code and message of an Express call's error.
fn code_and_message<E: ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn express_calls_answer_the_not_found_and_not_active_errors_real_accounts_send() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let calls = |arn: String| {
        let ecs = ecs.clone();
        async move {
            let describe = ecs
                .describe_express_gateway_service()
                .service_arn(&arn)
                .send()
                .await
                .map(|out| text(out.service().unwrap().status().unwrap().status_code()).to_string())
                .map_err(|e| code_and_message(&e));
            let update = ecs
                .update_express_gateway_service()
                .service_arn(&arn)
                .cpu("512")
                .memory("1024")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| code_and_message(&e));
            let delete = ecs
                .delete_express_gateway_service()
                .service_arn(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| code_and_message(&e));
            (describe, update, delete)
        }
    };
    let not_found = || {
        (
            "InvalidParameterException".to_string(),
            "Resource not found.".to_string(),
        )
    };
    // A service that never existed (E2).
    let (describe, update, delete) =
        calls("arn:aws:ecs:us-east-1:123456789012:service/default/never".into()).await;
    assert_eq!(describe, Err(not_found()));
    assert_eq!(update, Err(not_found()));
    assert_eq!(delete, Err(not_found()));

    // DRAINING: still described; a second delete is refused with its own message (E4).
    let arn = create(&ecs, "web").await;
    ecs.delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let draining = || {
        (
            "ServiceNotActiveException".to_string(),
            "Service is in DRAINING status".to_string(),
        )
    };
    let (describe, update, delete) = calls(arn.clone()).await;
    assert_eq!(describe, Ok("DRAINING".to_string()));
    assert_eq!(update, Err(draining()));
    assert_eq!(delete, Err(draining()));

    // INACTIVE: every call, Describe included, is refused (E3).
    sim.advance(STAGE_SECONDS);
    let inactive = || {
        (
            "ServiceNotActiveException".to_string(),
            "Cannot perform this operation on a service in INACTIVE status".to_string(),
        )
    };
    let (describe, update, delete) = calls(arn.clone()).await;
    assert_eq!(describe, Err(inactive()));
    assert_eq!(update, Err(inactive()));
    assert_eq!(delete, Err(inactive()));

    // Gone (E2).
    sim.advance(STAGE_SECONDS);
    let (describe, update, delete) = calls(arn).await;
    assert_eq!(describe, Err(not_found()));
    assert_eq!(update, Err(not_found()));
    assert_eq!(delete, Err(not_found()));
}

#[tokio::test]
async fn validation_errors_use_ecs_exceptions() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let both = ecs
        .create_express_gateway_service()
        .service_name("both")
        .infrastructure_role_arn(INFRA_ROLE)
        .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/app:3")
        .primary_container(container("nginx"))
        .send()
        .await
        .unwrap_err();
    assert!(
        both.as_service_error().unwrap().is_invalid_parameter_exception(),
        "{both:?}"
    );
    assert!(both.message().unwrap().contains("taskDefinitionArn"));
    let neither = ecs
        .create_express_gateway_service()
        .service_name("neither")
        .infrastructure_role_arn(INFRA_ROLE)
        .send()
        .await
        .unwrap_err();
    assert!(
        neither
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_exception()
    );
    let bad_cpu = ecs
        .create_express_gateway_service()
        .service_name("cpu")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .cpu("300")
        .send()
        .await
        .unwrap_err();
    assert!(
        bad_cpu
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_exception()
    );
    create(&ecs, "web").await;
    let duplicate = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .send()
        .await
        .unwrap_err();
    assert!(
        duplicate
            .as_service_error()
            .unwrap()
            .is_invalid_parameter_exception()
    );
    assert!(duplicate.message().unwrap().contains("not idempotent"));
    let missing = "arn:aws:ecs:us-east-1:123456789012:service/default/missing";
    let err = ecs
        .update_express_gateway_service()
        .service_arn(missing)
        .cpu("512")
        .send()
        .await
        .unwrap_err();
    // A service that does not exist: InvalidParameterException "Resource not found" (E2).
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    assert!(
        err.as_service_error()
            .unwrap()
            .meta()
            .message()
            .unwrap()
            .contains("Resource not found")
    );
    let err = ecs
        .describe_express_gateway_service()
        .service_arn(missing)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    let err = ecs
        .update_service()
        .service("missing")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_service_not_found_exception());
    let err = ecs
        .list_service_deployments()
        .service("missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_service_not_found_exception());
    let err = ecs
        .update_service()
        .service("web")
        .task_definition("app:2")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    let stats = sim.stats();
    assert_eq!(
        stats.outcome("ecs:CreateExpressGatewayService:InvalidParameterException"),
        4
    );
    assert_eq!(stats.outcome("ecs:CreateExpressGatewayService:ok"), 1);
}

#[tokio::test]
async fn the_cluster_is_reported_as_its_arn_and_accepted_back_as_one() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let cluster_arn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    let created = ecs
        .create_express_gateway_service()
        .cluster("prod")
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .send()
        .await
        .unwrap();
    let service = created.service().unwrap();
    assert_eq!(service.cluster(), Some(cluster_arn));
    let arn = service.service_arn().unwrap().to_string();
    assert_eq!(arn, "arn:aws:ecs:us-east-1:123456789012:service/prod/web");
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.service().unwrap().cluster(), Some(cluster_arn));
    let updated = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .health_check_path("/healthz")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.service().unwrap().cluster(), Some(cluster_arn));
    // What runway stores (the ARN) goes back into the classic calls.
    let classic = ecs
        .describe_services()
        .cluster(cluster_arn)
        .services("web")
        .send()
        .await
        .unwrap();
    assert_eq!(classic.services()[0].cluster_arn(), Some(cluster_arn));
    let listed = ecs
        .list_service_deployments()
        .cluster(cluster_arn)
        .service("web")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.service_deployments().len(), 2);
    assert_eq!(listed.service_deployments()[0].cluster_arn(), Some(cluster_arn));
    ecs.update_service()
        .cluster(cluster_arn)
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn tags_are_stored_and_returned_when_asked_for() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let created = ecs
        .create_express_gateway_service()
        .service_name("tagged")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .tags(Tag::builder().key("runway.dev/owner").value("team-a").build())
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().unwrap();
    // The caller's tag plus AWS's own managed tag (E19).
    assert_eq!(created.service().unwrap().tags().len(), 2);
    assert!(
        created
            .service()
            .unwrap()
            .tags()
            .iter()
            .any(|t| t.key() == Some("AmazonECSManaged") && t.value() == Some("true"))
    );
    let plain = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    assert!(plain.service().unwrap().tags().is_empty());
    let tagged = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .include(ExpressGatewayServiceInclude::Tags)
        .send()
        .await
        .unwrap();
    let tags = tagged.service().unwrap().tags();
    assert_eq!(tags[0].key(), Some("runway.dev/owner"));
    assert_eq!(tags[0].value(), Some("team-a"));
    let services = ecs
        .describe_services()
        .services(arn)
        .include(ServiceField::Tags)
        .send()
        .await
        .unwrap();
    assert_eq!(services.services()[0].tags().len(), 2);
}

#[tokio::test]
async fn services_are_scoped_by_the_signing_region() {
    let sim = start().await;
    let east = ecs_client(&sim.endpoint());
    let west = ecs_client_with(
        &sim.endpoint(),
        &ClientOptions {
            region: "eu-west-1".into(),
            ..ClientOptions::default()
        },
    );
    let arn = create(&west, "web").await;
    assert_eq!(arn, "arn:aws:ecs:eu-west-1:123456789012:service/default/web");
    let err = east
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    // The same name is free in another region.
    create(&east, "web").await;
    let described = west
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let config = &described.service().unwrap().active_configurations()[0];
    assert!(
        config.ingress_paths()[0]
            .endpoint()
            .ends_with(".ecs.eu-west-1.on.aws")
    );
}

#[tokio::test]
async fn list_service_deployments_filters_and_paginates() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    for cpu in ["512", "1024"] {
        sim.advance(STAGE_SECONDS);
        ecs.update_express_gateway_service()
            .service_arn(&arn)
            .cpu(cpu)
            .send()
            .await
            .unwrap();
    }
    let first = ecs
        .list_service_deployments()
        .service("web")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.service_deployments().len(), 2);
    let token = first.next_token().expect("a second page");
    let second = ecs
        .list_service_deployments()
        .service("web")
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.service_deployments().len(), 1);
    assert!(second.next_token().is_none());
    let successful = ecs
        .list_service_deployments()
        .service(&arn)
        .status(aws_sdk_ecs::types::ServiceDeploymentStatus::Successful)
        .send()
        .await
        .unwrap();
    assert_eq!(successful.service_deployments().len(), 2);
}

#[tokio::test]
async fn a_customer_task_definition_replaces_the_managed_container() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    let td = "arn:aws:ecs:us-east-1:123456789012:task-definition/custom:7";
    let out = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .task_definition_arn(td)
        .scaling_target(ExpressGatewayScalingTarget::builder().max_task_count(4).build())
        .send()
        .await
        .unwrap();
    let target = out.service().unwrap().target_configuration().unwrap();
    assert_eq!(target.task_definition_arn(), Some(td));
    // NB: AWS still reports a primaryContainer, derived from the task definition (E31), and no
    // cpuArchitecture; the managed settings the update replaced are gone.
    let derived = target.primary_container().expect("a derived container");
    assert_ne!(derived.image(), "public.ecr.aws/nginx/nginx:1.27");
    assert!(derived.environment().is_empty());
    assert!(target.cpu_architecture().is_none());
    assert!(target.cpu().is_none());
    let scaling = target.scaling_target().unwrap();
    assert_eq!(scaling.max_task_count(), Some(4));
    assert_eq!(
        scaling.min_task_count(),
        Some(1),
        "unset scaling members keep their values"
    );
}

/// The security groups of every configuration DescribeExpressGatewayService reports.
async fn reported_groups(ecs: &Client, arn: &str) -> Vec<Vec<String>> {
    ecs.describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .active_configurations()
        .iter()
        .map(|c| c.network_configuration().unwrap().security_groups().to_vec())
        .collect()
}

#[tokio::test]
async fn ecs_adds_its_managed_security_group_and_keeps_it_across_updates() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let network = |groups: &[&str]| {
        aws_sdk_ecs::types::ExpressGatewayServiceNetworkConfiguration::builder()
            .set_security_groups(Some(groups.iter().map(|g| g.to_string()).collect()))
            .subnets("subnet-0123456789abcdef0")
            .build()
    };
    let created = ecs
        .create_express_gateway_service()
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .network_configuration(network(&["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"]))
        .send()
        .await
        .unwrap();
    let service = created.service().unwrap();
    let groups = service.active_configurations()[0]
        .network_configuration()
        .unwrap()
        .security_groups()
        .to_vec();
    // First the group ECS created for the service (sg- and 17 hex digits), then the requested ones.
    let managed = groups[0].clone();
    let digits = managed.strip_prefix("sg-").unwrap_or_default();
    assert!(
        digits.len() == 17 && digits.chars().all(|c| c.is_ascii_hexdigit()),
        "{managed}"
    );
    assert_eq!(
        groups[1..],
        ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"],
        "{groups:?}"
    );
    let arn = service.service_arn().unwrap().to_string();
    sim.advance(STAGE_SECONDS);
    // An update that sends a new list keeps the managed group.
    let updated = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .network_configuration(network(&["sg-0aaaaaaaaaaaaaaaa"]))
        .send()
        .await
        .unwrap();
    let groups = updated
        .service()
        .unwrap()
        .target_configuration()
        .unwrap()
        .network_configuration()
        .unwrap()
        .security_groups()
        .to_vec();
    assert_eq!(groups, [managed.as_str(), "sg-0aaaaaaaaaaaaaaaa"]);
    // Both revisions of the rollout report the same managed group first.
    assert_eq!(
        reported_groups(&ecs, &arn).await,
        [
            vec![managed.as_str(), "sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"],
            vec![managed.as_str(), "sg-0aaaaaaaaaaaaaaaa"],
        ]
    );
    sim.advance(STAGE_SECONDS);
    // An update that leaves the network alone keeps it too, and so does a forced redeploy.
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .cpu("2048")
        .memory("4096")
        .send()
        .await
        .unwrap();
    ecs.update_service()
        .service(&arn)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        reported_groups(&ecs, &arn).await,
        [vec![managed.as_str(), "sg-0aaaaaaaaaaaaaaaa"]]
    );
    let classic = ecs.describe_services().services(&arn).send().await.unwrap();
    let awsvpc = classic.services()[0]
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    assert_eq!(
        awsvpc.security_groups(),
        [managed.as_str(), "sg-0aaaaaaaaaaaaaaaa"]
    );
    // A service that names no group reports only its own managed one, a different group.
    let other = create(&ecs, "api").await;
    let [groups] = &reported_groups(&ecs, &other).await[..] else {
        panic!("one configuration");
    };
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert!(groups[0].starts_with("sg-") && groups[0] != managed, "{groups:?}");
}

#[tokio::test]
async fn a_role_iam_has_not_propagated_is_refused_until_its_window_passes() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    sim.inject_iam_propagation(EXEC_ROLE, 30.0);
    let attempt = || {
        ecs.create_express_gateway_service()
            .service_name("web")
            .infrastructure_role_arn(INFRA_ROLE)
            .execution_role_arn(EXEC_ROLE)
            .primary_container(container("nginx"))
            .send()
    };
    let err = attempt().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err.message().unwrap().contains("Cannot assume role"), "{err:?}");
    sim.advance(29.0);
    assert!(attempt().await.is_err(), "still propagating");
    sim.advance(2.0);
    attempt()
        .await
        .expect("accepted once IAM has propagated the role");
}

#[tokio::test]
async fn an_injected_iam_propagation_refuses_any_role_field_of_an_update_with_ecs_message() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    sim.advance(STAGE_SECONDS);
    let task_role = "arn:aws:iam::123456789012:role/new-task-role";
    sim.inject(&Injection {
        service: InjectService::Ecs,
        name: task_role.into(),
        kind: InjectKind::IamPropagation { seconds: 30.0 },
    })
    .unwrap();
    // Another role is not affected, and nothing starts the window before the role is used.
    sim.advance(100.0);
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .cpu("2048")
        .memory("4096")
        .send()
        .await
        .unwrap();
    let update = || {
        ecs.update_express_gateway_service()
            .service_arn(&arn)
            .task_role_arn(task_role)
            .send()
    };
    let err = update().await.unwrap_err();
    assert_eq!(
        code_and_message(&err),
        (
            "AccessDeniedException".to_string(),
            format!(
                "ECS was unable to assume the role '{task_role}' that was provided for this task. \
                 Please verify that the role being passed has the proper trust relationship and \
                 permissions and that your IAM user has permissions to pass this role. Cannot \
                 assume role"
            )
        )
    );
    sim.advance(29.0);
    assert!(update().await.is_err(), "29 s after the first use");
    sim.advance(1.5);
    update().await.expect("accepted once IAM has propagated the role");
    // Over HTTP, for the infrastructure role of a create.
    let infra = "arn:aws:iam::123456789012:role/new-infra-role";
    let (code, body) = super::common::http(
        &sim,
        "POST",
        "/_sim/inject",
        Some(serde_json::json!({
            "service": "ecs", "role": infra, "kind": "iam_propagation", "seconds": 10
        })),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let create_api = || {
        ecs.create_express_gateway_service()
            .service_name("api")
            .infrastructure_role_arn(infra)
            .primary_container(container("nginx"))
            .send()
    };
    let err = create_api().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err.message().unwrap().contains(infra), "{err:?}");
    sim.advance(10.5);
    create_api().await.expect("accepted after 10 s");
}

#[tokio::test]
async fn an_unknown_named_cluster_is_not_found_and_default_always_exists() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let err = ecs
        .describe_services()
        .cluster("nowhere")
        .services("web")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_cluster_not_found_exception(),
        "{err:?}"
    );
    let err = ecs
        .update_service()
        .cluster("arn:aws:ecs:us-east-1:123456789012:cluster/nowhere")
        .service("web")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_cluster_not_found_exception(),
        "{err:?}"
    );
    let err = ecs
        .list_service_deployments()
        .cluster("nowhere")
        .service("web")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_cluster_not_found_exception(),
        "{err:?}"
    );
    let none = ecs.describe_services().services("web").send().await.unwrap();
    assert_eq!(none.failures()[0].reason(), Some("MISSING"));
    let none = ecs
        .describe_services()
        .cluster("default")
        .services("web")
        .send()
        .await
        .unwrap();
    assert_eq!(none.failures()[0].reason(), Some("MISSING"));
    // Express creates a named cluster with its first service; it outlives the service.
    let created = ecs
        .create_express_gateway_service()
        .cluster("prod")
        .service_name("web")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .send()
        .await
        .unwrap();
    let arn = created.service().unwrap().service_arn().unwrap().to_string();
    ecs.delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    sim.advance(3.0 * STAGE_SECONDS);
    let gone = ecs
        .describe_services()
        .cluster("prod")
        .services("web")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.failures()[0].reason(), Some("MISSING"));
    // Other regions have their own clusters.
    let west = ecs_client_with(
        &sim.endpoint(),
        &ClientOptions {
            region: "us-west-2".into(),
            ..ClientOptions::default()
        },
    );
    let err = west
        .describe_services()
        .cluster("prod")
        .services("web")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_cluster_not_found_exception());
}

#[tokio::test]
async fn only_fargate_task_sizes_are_accepted() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let create = |name: &'static str, cpu: Option<&'static str>, memory: Option<&'static str>| {
        ecs.create_express_gateway_service()
            .service_name(name)
            .infrastructure_role_arn(INFRA_ROLE)
            .primary_container(container("nginx"))
            .set_cpu(cpu.map(str::to_string))
            .set_memory(memory.map(str::to_string))
            .send()
    };
    let err = create("small", Some("512"), Some("512")).await.unwrap_err();
    assert_eq!(
        code_and_message(&err),
        (
            "InvalidParameterException".to_string(),
            "No Fargate configuration exists for given values: 512 CPU, 512 memory. See the \
             Amazon ECS documentation for the valid values."
                .to_string()
        )
    );
    // The pair counts with the defaults filled in: 4096 CPU needs at least 8192 MiB, not 2048.
    let err = create("big", Some("4096"), None).await.unwrap_err();
    assert!(
        err.message().unwrap().contains("4096 CPU, 2048 memory"),
        "{err:?}"
    );
    let arn = create("web", Some("256"), Some("512"))
        .await
        .unwrap()
        .service()
        .unwrap()
        .service_arn()
        .unwrap()
        .to_string();
    // An update is checked after its merge: 2048 CPU with the current 512 MiB does not exist.
    let err = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .cpu("2048")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_parameter_exception(),
        "{err:?}"
    );
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .cpu("2048")
        .memory("16384")
        .send()
        .await
        .expect("a pair from the table");
    let err = ecs
        .update_express_gateway_service()
        .service_arn(&arn)
        .memory("16500")
        .send()
        .await
        .unwrap_err();
    assert!(err.message().unwrap().contains("2048 CPU, 16500 memory"));
    // A CPU value outside the table is refused on its own.
    let err = create("odd", Some("300"), Some("1024")).await.unwrap_err();
    assert!(
        err.message().unwrap().contains("Invalid 'cpu' setting"),
        "{err:?}"
    );
}

/// (key, value) of every tag, in the order AWS reports them.
fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// The tags as ListTagsForResource reports them.
async fn listed_tags(ecs: &Client, arn: &str) -> Vec<(String, String)> {
    let out = ecs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    pairs(out.tags())
}

/// Everything about a service a tag change must leave alone: its deployments, revisions, update
/// time and description without tags.
async fn untagged_state(ecs: &Client, arn: &str) -> (Vec<(String, String)>, String) {
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    (
        deployments(ecs, arn).await,
        format!("{:?}", described.service().unwrap()),
    )
}

#[tokio::test]
async fn tag_resource_adds_and_overwrites_and_untag_resource_removes_only_the_named_keys() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = ecs
        .create_express_gateway_service()
        .service_name("tagged")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .tags(tag("runway.dev/owner", "shop/web"))
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .service_arn()
        .unwrap()
        .to_string();
    // NB: far from any stage boundary, so the description cannot change in real time meanwhile.
    sim.advance(20.0);
    let before = untagged_state(&ecs, &arn).await;
    assert_eq!(
        listed_tags(&ecs, &arn).await,
        owned(&[
            ("runway.dev/owner", "shop/web"),
            ("cost-center", "42"),
            ("AmazonECSManaged", "true"),
        ])
    );

    // A new key is added, an existing one overwritten, the others kept (someone else's included).
    ecs.tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "payments"))
        .tags(tag("cost-center", "43"))
        .send()
        .await
        .expect("tagging succeeds");
    let expected = owned(&[
        ("runway.dev/owner", "shop/web"),
        ("cost-center", "43"),
        ("team", "payments"),
        ("AmazonECSManaged", "true"),
    ]);
    assert_eq!(listed_tags(&ecs, &arn).await, expected);
    // ListTagsForResource reports exactly what Describe reports with include TAGS (E19, E27).
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .include(ExpressGatewayServiceInclude::Tags)
        .send()
        .await
        .unwrap();
    assert_eq!(pairs(described.service().unwrap().tags()), expected);
    let classic = ecs
        .describe_services()
        .services(&arn)
        .include(ServiceField::Tags)
        .send()
        .await
        .unwrap();
    assert_eq!(pairs(classic.services()[0].tags()), expected);

    // Removing a key that is not there is no error; the named keys go, the rest stay.
    ecs.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .tag_keys("never-set")
        .send()
        .await
        .expect("untagging succeeds");
    assert_eq!(
        listed_tags(&ecs, &arn).await,
        owned(&[
            ("runway.dev/owner", "shop/web"),
            ("cost-center", "43"),
            ("AmazonECSManaged", "true"),
        ])
    );
    // An empty list changes nothing and is no error.
    ecs.tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(Vec::new()))
        .send()
        .await
        .unwrap();

    // A tag change is no configuration change: no deployment, no revision, updatedAt unchanged.
    assert_eq!(untagged_state(&ecs, &arn).await, before);
    let stats = sim.stats();
    assert_eq!(stats.outcome("ecs:TagResource:ok"), 2);
    assert_eq!(stats.outcome("ecs:UntagResource:ok"), 1);
    assert_eq!(stats.calls("ecs:UpdateExpressGatewayService"), 0);
}

#[tokio::test]
async fn tag_limits_count_only_the_callers_tags_and_refuse_reserved_and_oversized_ones() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let mut create = ecs
        .create_express_gateway_service()
        .service_name("many")
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"));
    for i in 0..49 {
        create = create.tags(tag(&format!("k{i}"), "v"));
    }
    let arn = create
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .service_arn()
        .unwrap()
        .to_string();
    let tag_one = |key: String, value: String| {
        ecs.tag_resource()
            .resource_arn(&arn)
            .tags(Tag::builder().key(key).value(value).build())
            .send()
    };
    // 49 + 1 = 50 of the caller's, plus AWS's managed tag, which does not count (E19).
    tag_one("k49".into(), "v".into()).await.expect("the 50th tag");
    assert_eq!(listed_tags(&ecs, &arn).await.len(), 51);
    let err = tag_one("k50".into(), "v".into()).await.unwrap_err();
    let service_err = err.as_service_error().unwrap();
    assert!(service_err.is_limit_exceeded_exception(), "{err:?}");
    // At the limit an existing key can still change its value, and a removed key makes room.
    tag_one("k0".into(), "changed".into())
        .await
        .expect("an overwrite adds no tag");
    ecs.untag_resource()
        .resource_arn(&arn)
        .tag_keys("k1")
        .send()
        .await
        .unwrap();
    tag_one("k50".into(), "v".into()).await.expect("room again");
    // More than 50 in one request breaks the request's own shape.
    let mut too_many = ecs.tag_resource().resource_arn(&arn);
    for i in 0..51 {
        too_many = too_many.tags(tag(&format!("n{i}"), "v"));
    }
    let err = too_many.send().await.unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_parameter_exception(),
        "{err:?}"
    );

    // Reserved prefixes (keys and values, any case), lengths and the character set.
    let small = create_tagged(&ecs, "small", &[]).await.unwrap();
    let tag_small = |key: String, value: String| {
        ecs.tag_resource()
            .resource_arn(&small)
            .tags(Tag::builder().key(key).value(value).build())
            .send()
    };
    for (key, value) in [
        ("aws:team".to_string(), "a".to_string()),
        ("AWS:team".to_string(), "a".to_string()),
        ("Aws:team".to_string(), "a".to_string()),
        ("team".to_string(), "aws:a".to_string()),
        (String::new(), "a".to_string()),
        ("k".repeat(129), "a".to_string()),
        ("team".to_string(), "v".repeat(257)),
        ("team#1".to_string(), "a".to_string()),
        ("team".to_string(), "a,b".to_string()),
    ] {
        let err = tag_small(key.clone(), value.clone()).await.unwrap_err();
        assert!(
            err.as_service_error().unwrap().is_invalid_parameter_exception(),
            "{key:?}={value:?}: {err:?}"
        );
    }
    for (key, value) in [
        ("k".repeat(128), "v".repeat(256)),
        ("Équipe 日本 _.:/=+-@".to_string(), "café ① ok".to_string()),
        ("empty-value".to_string(), String::new()),
        ("awsome".to_string(), "aws-ish".to_string()),
    ] {
        tag_small(key.clone(), value.clone())
            .await
            .unwrap_or_else(|e| panic!("{key:?}={value:?}: {e:?}"));
    }
    let err = ecs
        .untag_resource()
        .resource_arn(&small)
        .tag_keys("aws:cloudformation:stack-name")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_parameter_exception());
    // Create applies the same rules (as before: InvalidParameterException).
    for bad in [tag("aws:team", "a"), tag("team", "AWS:a"), tag("team!", "a")] {
        let err = create_tagged(&ecs, "refused", std::slice::from_ref(&bad))
            .await
            .unwrap_err();
        assert_eq!(err.0, "InvalidParameterException", "{bad:?}: {err:?}");
    }
    let fifty_one: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
    let err = create_tagged(&ecs, "refused", &fifty_one).await.unwrap_err();
    assert_eq!(err.0, "InvalidParameterException");
}

/// Creates a service with these tags: its ARN, or the error's code and message.
async fn create_tagged(ecs: &Client, name: &str, tags: &[Tag]) -> Result<String, (String, String)> {
    ecs.create_express_gateway_service()
        .service_name(name)
        .infrastructure_role_arn(INFRA_ROLE)
        .primary_container(container("nginx"))
        .set_tags(Some(tags.to_vec()))
        .send()
        .await
        .map(|out| out.service().unwrap().service_arn().unwrap().to_string())
        .map_err(|e| code_and_message(&e))
}

#[tokio::test]
async fn tag_calls_answer_the_declared_codes_for_unknown_short_and_deleted_arns() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let calls = |arn: String| {
        let ecs = ecs.clone();
        async move {
            let tagged = ecs
                .tag_resource()
                .resource_arn(&arn)
                .tags(tag("team", "a"))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| code_and_message(&e));
            let untag = ecs
                .untag_resource()
                .resource_arn(&arn)
                .tag_keys("team")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| code_and_message(&e));
            let list = ecs
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .map(|out| pairs(out.tags()))
                .map_err(|e| code_and_message(&e));
            (tagged, untag, list)
        }
    };
    let missing = || {
        (
            "ResourceNotFoundException".to_string(),
            "The specified resource wasn't found.".to_string(),
        )
    };
    let gone = || {
        (
            "InvalidParameterException".to_string(),
            "Resource not found.".to_string(),
        )
    };
    // A service that never existed: the declared ResourceNotFoundException; ListTagsForResource
    // declares none and answers like the Express calls (E2, E30).
    let (tagged, untag, list) =
        calls("arn:aws:ecs:us-east-1:123456789012:service/default/never".into()).await;
    assert_eq!(tagged, Err(missing()));
    assert_eq!(untag, Err(missing()));
    assert_eq!(list, Err(gone()));
    // The old short service ARN cannot be tagged (model text of TagResourceRequest.resourceArn).
    let (tagged, _, list) = calls("arn:aws:ecs:us-east-1:123456789012:service/web".into()).await;
    let short = (
        "InvalidParameterException".to_string(),
        "Long arn format must be used for tagging operations".to_string(),
    );
    assert_eq!(tagged, Err(short.clone()));
    assert_eq!(list, Err(short));
    // A cluster nobody created (E21).
    let (tagged, untag, list) = calls("arn:aws:ecs:us-east-1:123456789012:service/nowhere/web".into()).await;
    for result in [tagged, untag] {
        assert_eq!(result.unwrap_err().0, "ClusterNotFoundException");
    }
    assert_eq!(list.unwrap_err().0, "ClusterNotFoundException");
    // Not an ECS ARN at all.
    let (tagged, _, _) = calls("arn:aws:ecr:us-east-1:123456789012:repository/web".into()).await;
    assert_eq!(tagged.unwrap_err().0, "InvalidParameterException");

    // The same service seen from another region is not there.
    let arn = create(&ecs, "web").await;
    let west = ecs_client_with(
        &sim.endpoint(),
        &ClientOptions {
            region: "eu-west-1".into(),
            ..ClientOptions::default()
        },
    );
    let err = west
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());

    // DRAINING: the service is still there (Describe still returns it), so its tags can change.
    ecs.delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let (tagged, untag, list) = calls(arn.clone()).await;
    assert_eq!(tagged, Ok(()));
    assert_eq!(untag, Ok(()));
    assert_eq!(list, Ok(owned(&[("AmazonECSManaged", "true")])));
    // INACTIVE: the deletion is over and the tags went with it; then gone.
    sim.advance(STAGE_SECONDS);
    let (tagged, untag, list) = calls(arn.clone()).await;
    assert_eq!(tagged, Err(missing()));
    assert_eq!(untag, Err(missing()));
    assert_eq!(list, Err(gone()));
    sim.advance(STAGE_SECONDS);
    let (tagged, untag, list) = calls(arn).await;
    assert_eq!(tagged, Err(missing()));
    assert_eq!(untag, Err(missing()));
    assert_eq!(list, Err(gone()));
}

/// The service's current revision (the newest active configuration's).
async fn current_revision(ecs: &Client, arn: &str) -> String {
    let out = ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    let configs = out.service().unwrap().active_configurations();
    configs
        .last()
        .unwrap()
        .service_revision_arn()
        .unwrap()
        .to_string()
}

/// The managed resources of one revision as (what, ARN, status, reason), in AWS's order.
async fn managed(ecs: &Client, revision: &str) -> Vec<(String, String, String, Option<String>)> {
    let out = ecs
        .describe_service_revisions()
        .service_revision_arns(revision)
        .send()
        .await
        .expect("DescribeServiceRevisions succeeds");
    let m = out.service_revisions()[0].ecs_managed_resources().unwrap();
    let mut rows = Vec::new();
    let mut row = |what: &str, arn: Option<&str>, status: &str, reason: Option<&str>| {
        rows.push((
            what.to_string(),
            arn.unwrap_or_default().to_string(),
            status.to_string(),
            reason.map(str::to_string),
        ));
    };
    let path = &m.ingress_paths()[0];
    let lb = path.load_balancer().unwrap();
    row("LoadBalancer", lb.arn(), lb.status().as_str(), lb.status_reason());
    for sg in path.load_balancer_security_groups() {
        row(
            "LoadBalancerSecurityGroup",
            sg.arn(),
            sg.status().as_str(),
            sg.status_reason(),
        );
    }
    let cert = path.certificate().unwrap();
    row(
        "Certificate",
        cert.arn(),
        cert.status().as_str(),
        cert.status_reason(),
    );
    let listener = path.listener().unwrap();
    row(
        "Listener",
        listener.arn(),
        listener.status().as_str(),
        listener.status_reason(),
    );
    let rule = path.rule().unwrap();
    row(
        "ListenerRule",
        rule.arn(),
        rule.status().as_str(),
        rule.status_reason(),
    );
    for tg in path.target_groups() {
        row("TargetGroup", tg.arn(), tg.status().as_str(), tg.status_reason());
    }
    for sg in m.service_security_groups() {
        row(
            "ServiceSecurityGroup",
            sg.arn(),
            sg.status().as_str(),
            sg.status_reason(),
        );
    }
    let scaling = m.auto_scaling().unwrap();
    let target = scaling.scalable_target().unwrap();
    row(
        "ScalableTarget",
        target.arn(),
        target.status().as_str(),
        target.status_reason(),
    );
    for p in scaling.application_auto_scaling_policies() {
        row("ScalingPolicy", p.arn(), p.status().as_str(), p.status_reason());
    }
    for a in m.metric_alarms() {
        row("MetricAlarm", a.arn(), a.status().as_str(), a.status_reason());
    }
    for g in m.log_groups() {
        row("LogGroup", g.arn(), g.status().as_str(), g.status_reason());
    }
    rows
}

fn statuses_of(rows: &[(String, String, String, Option<String>)]) -> Vec<(&str, &str)> {
    rows.iter()
        .map(|(what, _, status, _)| (what.as_str(), status.as_str()))
        .collect()
}

#[tokio::test]
async fn describe_service_revisions_reports_the_resources_ecs_manages_for_each_revision() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    let arn = create(&ecs, "web").await;
    let first = current_revision(&ecs, &arn).await;
    // While the first deployment is PENDING, ECS is still making everything.
    let provisioning = managed(&ecs, &first).await;
    assert!(
        provisioning
            .iter()
            .all(|(_, _, status, _)| status == "PROVISIONING"),
        "{provisioning:?}"
    );
    sim.advance(STAGE_SECONDS);
    let rows = managed(&ecs, &first).await;
    let kinds: Vec<&str> = rows.iter().map(|(k, ..)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "LoadBalancer",
            "LoadBalancerSecurityGroup",
            "Certificate",
            "Listener",
            "ListenerRule",
            "TargetGroup",
            "ServiceSecurityGroup",
            "ScalableTarget",
            "ScalingPolicy",
            "MetricAlarm",
            "MetricAlarm",
            "MetricAlarm",
            "LogGroup",
        ]
    );
    assert!(
        rows.iter()
            .all(|(_, _, status, reason)| status == "ACTIVE" && reason.is_none())
    );
    let arn_of = |rows: &[(String, String, String, Option<String>)], kind: &str| {
        rows.iter().find(|(k, ..)| k == kind).unwrap().1.clone()
    };
    let lb = arn_of(&rows, "LoadBalancer");
    assert!(
        lb.starts_with(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/ecs-express-gateway-alb-"
        ),
        "{lb}"
    );
    assert_eq!(
        arn_of(&rows, "LogGroup"),
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/ecs/default/web"
    );
    // The service's security group is the one ECS adds to the configuration (E1).
    let groups = reported_groups(&ecs, &arn).await;
    assert_eq!(
        arn_of(&rows, "ServiceSecurityGroup"),
        format!(
            "arn:aws:ec2:us-east-1:123456789012:security-group/{}",
            groups[0][0]
        )
    );
    let out = ecs
        .describe_service_revisions()
        .service_revision_arns(&first)
        .send()
        .await
        .unwrap();
    let revision = &out.service_revisions()[0];
    assert_eq!(revision.service_arn(), Some(arn.as_str()));
    assert_eq!(
        revision.load_balancers()[0].target_group_arn(),
        Some(arn_of(&rows, "TargetGroup").as_str())
    );
    let target = revision.ecs_managed_resources().unwrap().auto_scaling().unwrap();
    assert_eq!(target.scalable_target().unwrap().max_capacity(), 20);
    assert_eq!(
        target.application_auto_scaling_policies()[0].metric(),
        "ECSServiceAverageCPUUtilization"
    );

    // An update makes a revision with a target group of its own; the load balancer is the same.
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .cpu("2048")
        .memory("4096")
        .send()
        .await
        .unwrap();
    let second = current_revision(&ecs, &arn).await;
    assert_ne!(second, first);
    let rows2 = managed(&ecs, &second).await;
    assert_eq!(arn_of(&rows2, "LoadBalancer"), lb);
    assert_ne!(arn_of(&rows2, "TargetGroup"), arn_of(&rows, "TargetGroup"));
    assert!(statuses_of(&rows2).contains(&("TargetGroup", "PROVISIONING")));
    assert!(statuses_of(&rows2).contains(&("LoadBalancer", "ACTIVE")));
    sim.advance(STAGE_SECONDS);
    assert!(
        managed(&ecs, &second)
            .await
            .iter()
            .all(|(_, _, s, _)| s == "ACTIVE")
    );
    // The replaced revision's target group is gone.
    assert!(statuses_of(&managed(&ecs, &first).await).contains(&("TargetGroup", "DELETED")));

    // Unknown ARNs are failures, not errors; no ARN, or more than 20, is invalid.
    let unknown = format!("{first}0");
    let out = ecs
        .describe_service_revisions()
        .service_revision_arns(&second)
        .service_revision_arns(&unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(out.service_revisions().len(), 1);
    assert_eq!(out.failures()[0].arn(), Some(unknown.as_str()));
    assert_eq!(out.failures()[0].reason(), Some("MISSING"));
    let err = ecs.describe_service_revisions().send().await.unwrap_err();
    assert_eq!(code_and_message(&err).0, "InvalidParameterException");
    let mut many = ecs.describe_service_revisions();
    for _ in 0..21 {
        many = many.service_revision_arns(&first);
    }
    let err = many.send().await.unwrap_err();
    assert_eq!(code_and_message(&err).0, "InvalidParameterException");

    // A deleted service's resources are removed.
    ecs.delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        managed(&ecs, &second)
            .await
            .iter()
            .all(|(_, _, s, _)| s == "DEPROVISIONING")
    );
    sim.advance(STAGE_SECONDS);
    assert!(
        managed(&ecs, &second)
            .await
            .iter()
            .all(|(_, _, s, _)| s == "DELETED")
    );
}

#[tokio::test]
async fn an_injected_load_balancer_failure_marks_the_next_revision_only() {
    let sim = start().await;
    let ecs = ecs_client(&sim.endpoint());
    sim.inject(&Injection {
        service: InjectService::Ecs,
        name: "web".into(),
        kind: InjectKind::LoadBalancerFailed,
    })
    .unwrap();
    let arn = create(&ecs, "web").await;
    sim.advance(STAGE_SECONDS);
    let first = current_revision(&ecs, &arn).await;
    let rows = managed(&ecs, &first).await;
    let (_, _, status, reason) = &rows[0];
    assert_eq!(status, "FAILED");
    assert!(
        reason.as_deref().unwrap().contains("TooManyLoadBalancers"),
        "{reason:?}"
    );
    assert!(rows[1..].iter().all(|(_, _, s, _)| s == "ACTIVE"), "{rows:?}");
    // The deployment is not affected, and the next revision's load balancer is fine.
    assert_eq!(deployment_statuses(&ecs, &arn).await[0], "SUCCESSFUL");
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .health_check_path("/health")
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS);
    let second = current_revision(&ecs, &arn).await;
    assert_eq!(managed(&ecs, &second).await[0].2, "ACTIVE");
    let err = sim
        .inject(&Injection {
            service: InjectService::Apprunner,
            name: "web".into(),
            kind: InjectKind::LoadBalancerFailed,
        })
        .unwrap_err();
    assert!(err.contains("App Runner"), "{err}");
}
