//! App Runner services and operations through `aws-sdk-apprunner`.

use aws_sdk_apprunner::Client;
use aws_sdk_apprunner::error::ProvideErrorMetadata;
use aws_sdk_apprunner::types::{
    CodeRepository, ImageConfiguration, ImageRepository, ImageRepositoryType, InstanceConfiguration,
    SourceCodeVersion, SourceCodeVersionType, SourceConfiguration,
};
use runway::sim::client::apprunner_client;
use runway::sim::{InjectKind, InjectService, Injection};
use serde_json::json;

use super::common::{STAGE_SECONDS, http, start};

fn image_source(image: &str) -> SourceConfiguration {
    SourceConfiguration::builder()
        .image_repository(
            ImageRepository::builder()
                .image_identifier(image)
                .image_repository_type(ImageRepositoryType::EcrPublic)
                .image_configuration(
                    ImageConfiguration::builder()
                        .runtime_environment_variables("MODE", "prod")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .build()
}

async fn create(apprunner: &Client, name: &str) -> (String, String) {
    let out = apprunner
        .create_service()
        .service_name(name)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .send()
        .await
        .expect("create succeeds");
    (
        out.service().unwrap().service_arn().to_string(),
        out.operation_id().to_string(),
    )
}

async fn status(apprunner: &Client, arn: &str) -> String {
    apprunner
        .describe_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .status()
        .as_str()
        .to_string()
}

/// (type, status) of every operation, newest first.
async fn operations(apprunner: &Client, arn: &str) -> Vec<(String, String)> {
    apprunner
        .list_operations()
        .service_arn(arn)
        .send()
        .await
        .unwrap()
        .operation_summary_list()
        .iter()
        .map(|op| {
            (
                op.r#type().unwrap().as_str().to_string(),
                op.status().unwrap().as_str().to_string(),
            )
        })
        .collect()
}

fn ops(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn image(apprunner: &Client, arn: &str) -> String {
    let out = apprunner
        .describe_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    let source = out.service().unwrap().source_configuration().unwrap();
    source.image_repository().unwrap().image_identifier().to_string()
}

#[tokio::test]
async fn create_runs_an_operation_then_the_service_is_running() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let out = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .send()
        .await
        .unwrap();
    let service = out.service().unwrap();
    assert_eq!(service.status().as_str(), "OPERATION_IN_PROGRESS");
    assert_eq!(service.service_id().len(), 32);
    assert!(service.service_id().chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        service.service_arn(),
        format!(
            "arn:aws:apprunner:us-east-1:123456789012:service/web-app/{}",
            service.service_id()
        )
    );
    assert!(
        service
            .service_url()
            .unwrap()
            .ends_with(".us-east-1.awsapprunner.com")
    );
    let operation_id = out.operation_id();
    assert_eq!(operation_id.len(), 36);
    assert_eq!(&operation_id[14..15], "4");
    let instance = service.instance_configuration().unwrap();
    assert_eq!(instance.cpu(), Some("1024"));
    assert_eq!(instance.memory(), Some("2048"));
    let health = service.health_check_configuration().unwrap();
    assert_eq!(health.protocol().unwrap().as_str(), "TCP");
    let source = service.source_configuration().unwrap();
    assert_eq!(source.auto_deployments_enabled(), Some(false));
    let repo = source.image_repository().unwrap();
    assert_eq!(repo.image_configuration().unwrap().port(), Some("8080"));
    assert_eq!(
        service
            .auto_scaling_configuration_summary()
            .unwrap()
            .auto_scaling_configuration_name(),
        Some("DefaultConfiguration")
    );
    let arn = service.service_arn();
    let listed = apprunner.list_operations().service_arn(arn).send().await.unwrap();
    let [op] = listed.operation_summary_list() else {
        panic!("one operation");
    };
    assert_eq!(op.id(), Some(operation_id));
    assert_eq!(op.r#type().unwrap().as_str(), "CREATE_SERVICE");
    assert_eq!(op.status().unwrap().as_str(), "IN_PROGRESS");
    assert!(op.ended_at().is_none());
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, arn).await, "RUNNING");
    let listed = apprunner.list_operations().service_arn(arn).send().await.unwrap();
    let op = &listed.operation_summary_list()[0];
    assert_eq!(op.status().unwrap().as_str(), "SUCCEEDED");
    assert!(op.ended_at().is_some());
}

#[tokio::test]
async fn mutating_calls_during_an_operation_get_invalid_state_exception() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    let err = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_state_exception(),
        "{err:?}"
    );
    assert!(err.message().unwrap().contains("OPERATION_IN_PROGRESS"));
    let err = apprunner
        .pause_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_state_exception());
    let err = apprunner
        .delete_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_state_exception());
    sim.advance(STAGE_SECONDS);
    let updated = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.service().unwrap().status().as_str(),
        "OPERATION_IN_PROGRESS"
    );
    assert!(!updated.operation_id().is_empty());
    let err = apprunner
        .update_service()
        .service_arn(&arn)
        .instance_configuration(InstanceConfiguration::builder().cpu("2 vCPU").build())
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_state_exception());
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[("UPDATE_SERVICE", "IN_PROGRESS"), ("CREATE_SERVICE", "SUCCEEDED")])
    );
    assert_eq!(
        sim.stats()
            .outcome("apprunner:UpdateService:InvalidStateException"),
        2
    );
}

#[tokio::test]
async fn concurrent_updates_race_and_exactly_one_wins() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    let update = |tag: &'static str| {
        apprunner
            .update_service()
            .service_arn(&arn)
            .source_configuration(image_source(&format!("public.ecr.aws/nginx/nginx:{tag}")))
            .send()
    };
    let (a, b) = tokio::join!(update("1.28"), update("1.29"));
    let results = [a.is_ok(), b.is_ok()];
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    let loser = a.err().or(b.err()).unwrap();
    assert!(loser.as_service_error().unwrap().is_invalid_state_exception());
}

#[tokio::test]
async fn an_injected_concurrent_operation_makes_the_next_update_meet_invalid_state() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    sim.inject(&Injection {
        service: InjectService::Apprunner,
        name: "web-app".into(),
        kind: InjectKind::ConcurrentOperation,
    })
    .unwrap();
    let err = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_state_exception(),
        "{err:?}"
    );
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[
            ("START_DEPLOYMENT", "IN_PROGRESS"),
            ("CREATE_SERVICE", "SUCCEEDED")
        ])
    );
    // Used once: after the other deployment ends, the update goes through.
    sim.advance(STAGE_SECONDS);
    apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn injected_rollback_restores_the_previous_configuration() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    sim.inject(&Injection {
        service: InjectService::Apprunner,
        name: "web-app".into(),
        kind: InjectKind::Rollback,
    })
    .unwrap();
    let updated = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/broken"))
        .send()
        .await
        .unwrap();
    let shown = updated.service().unwrap().source_configuration().unwrap();
    assert_eq!(
        shown.image_repository().unwrap().image_identifier(),
        "public.ecr.aws/nginx/broken",
        "the response reflects the configuration being applied"
    );
    sim.advance(STAGE_SECONDS * 0.6);
    assert_eq!(operations(&apprunner, &arn).await[0].1, "ROLLBACK_IN_PROGRESS");
    assert_eq!(status(&apprunner, &arn).await, "OPERATION_IN_PROGRESS");
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[
            ("UPDATE_SERVICE", "ROLLBACK_SUCCEEDED"),
            ("CREATE_SERVICE", "SUCCEEDED")
        ])
    );
    assert_eq!(status(&apprunner, &arn).await, "RUNNING");
    assert_eq!(image(&apprunner, &arn).await, "public.ecr.aws/nginx/nginx:1.27");
}

#[tokio::test]
async fn injected_create_failure_ends_create_failed_and_update_rebuilds() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/inject",
        Some(json!({"service": "apprunner", "name": "web-app", "kind": "create_failed"})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, &arn).await, "CREATE_FAILED");
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[("CREATE_SERVICE", "FAILED")])
    );
    let err = apprunner
        .start_deployment()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_request_exception());
    apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, &arn).await, "RUNNING");
}

#[tokio::test]
async fn pause_and_resume_move_through_their_operations() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    let err = apprunner
        .resume_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_state_exception(),
        "resume needs PAUSED"
    );
    let paused = apprunner.pause_service().service_arn(&arn).send().await.unwrap();
    assert!(paused.operation_id().is_some());
    assert_eq!(status(&apprunner, &arn).await, "OPERATION_IN_PROGRESS");
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, &arn).await, "PAUSED");
    let err = apprunner
        .pause_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_state_exception());
    // A paused service accepts an update and stays paused (docs/aws-behaviour.md A3).
    apprunner
        .update_service()
        .service_arn(&arn)
        .instance_configuration(InstanceConfiguration::builder().cpu("2048").build())
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, &arn).await, "PAUSED");
    let described = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .service()
            .unwrap()
            .instance_configuration()
            .unwrap()
            .cpu(),
        Some("2048"),
        "paused with the new configuration"
    );
    apprunner.resume_service().service_arn(&arn).send().await.unwrap();
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, &arn).await, "RUNNING");
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[
            ("RESUME_SERVICE", "SUCCEEDED"),
            ("UPDATE_SERVICE", "SUCCEEDED"),
            ("PAUSE_SERVICE", "SUCCEEDED"),
            ("CREATE_SERVICE", "SUCCEEDED"),
        ])
    );
}

#[tokio::test]
async fn start_deployment_redeploys_the_same_configuration() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    let out = apprunner
        .start_deployment()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.operation_id().len(), 36);
    assert_eq!(status(&apprunner, &arn).await, "OPERATION_IN_PROGRESS");
    let err = apprunner
        .start_deployment()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_request_exception());
    sim.advance(STAGE_SECONDS);
    let listed = apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let newest = &listed.operation_summary_list()[0];
    assert_eq!(newest.id(), Some(out.operation_id()));
    assert_eq!(newest.r#type().unwrap().as_str(), "START_DEPLOYMENT");
    assert_eq!(newest.status().unwrap().as_str(), "SUCCEEDED");
    assert_eq!(image(&apprunner, &arn).await, "public.ecr.aws/nginx/nginx:1.27");
}

#[tokio::test]
async fn delete_ends_deleted_then_the_service_is_gone() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    let deleted = apprunner.delete_service().service_arn(&arn).send().await.unwrap();
    assert_eq!(
        deleted.service().unwrap().status().as_str(),
        "OPERATION_IN_PROGRESS"
    );
    sim.advance(STAGE_SECONDS);
    let described = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let service = described.service().unwrap();
    assert_eq!(service.status().as_str(), "DELETED");
    assert!(service.deleted_at().is_some());
    let listed = apprunner.list_services().send().await.unwrap();
    assert!(listed.service_summary_list().is_empty());
    assert_eq!(
        operations(&apprunner, &arn).await[0],
        ("DELETE_SERVICE".into(), "SUCCEEDED".into())
    );
    sim.advance(STAGE_SECONDS);
    let err = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_resource_not_found_exception(),
        "{err:?}"
    );
    let err = apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());
    let err = apprunner
        .delete_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());
    let (again, _) = create(&apprunner, "web-app").await;
    assert_ne!(again, arn, "a new service gets a new ID");
}

#[tokio::test]
async fn list_services_and_operations_paginate() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    for name in ["svc-one", "svc-two", "svc-three"] {
        create(&apprunner, name).await;
    }
    let first = apprunner.list_services().max_results(2).send().await.unwrap();
    assert_eq!(first.service_summary_list().len(), 2);
    let second = apprunner
        .list_services()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = first
        .service_summary_list()
        .iter()
        .chain(second.service_summary_list())
        .map(|s| s.service_name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["svc-one", "svc-two", "svc-three"]);
    assert!(second.next_token().is_none());
    let arn = first.service_summary_list()[0].service_arn().unwrap();
    sim.advance(STAGE_SECONDS);
    apprunner
        .start_deployment()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    let page = apprunner
        .list_operations()
        .service_arn(arn)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.operation_summary_list()[0].r#type().unwrap().as_str(),
        "START_DEPLOYMENT"
    );
    let rest = apprunner
        .list_operations()
        .service_arn(arn)
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest.operation_summary_list()[0].r#type().unwrap().as_str(),
        "CREATE_SERVICE"
    );
    let err = apprunner
        .list_services()
        .max_results(50)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_request_exception());
}

#[tokio::test]
async fn validation_errors_use_app_runner_exceptions() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    let err = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_request_exception(),
        "{err:?}"
    );
    let err = apprunner
        .create_service()
        .service_name("other")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .instance_configuration(InstanceConfiguration::builder().cpu("3 vCPU").build())
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_request_exception());
    sim.advance(STAGE_SECONDS);
    let code = SourceConfiguration::builder()
        .code_repository(
            CodeRepository::builder()
                .repository_url("https://github.com/example/app")
                .source_code_version(
                    SourceCodeVersion::builder()
                        .r#type(SourceCodeVersionType::Branch)
                        .value("main")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build();
    let err = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(code)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_request_exception());
    let missing = "arn:aws:apprunner:us-east-1:123456789012:service/missing/0123456789abcdef0123456789abcdef";
    let err = apprunner
        .describe_service()
        .service_arn(missing)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());
    let err = apprunner
        .pause_service()
        .service_arn(missing)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());
}

#[tokio::test]
async fn list_tags_for_resource_returns_the_tags_the_service_was_created_with() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let out = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .tags(
            aws_sdk_apprunner::types::Tag::builder()
                .key("runway.dev/owner")
                .value("team/web-app")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = out.service().unwrap().service_arn().to_string();
    let tags = apprunner
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let owner = tags
        .tags()
        .iter()
        .find(|t| t.key() == Some("runway.dev/owner"))
        .and_then(|t| t.value());
    assert_eq!(owner, Some("team/web-app"));
    let err = apprunner
        .list_tags_for_resource()
        .resource_arn("arn:aws:apprunner:us-east-1:123456789012:service/missing/0123")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());
}

#[tokio::test]
async fn a_role_iam_has_not_propagated_is_refused_with_app_runners_message() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    let role = "arn:aws:iam::123456789012:role/app";
    sim.inject_iam_propagation(role, 20.0);
    let update = || {
        apprunner
            .update_service()
            .service_arn(&arn)
            .instance_configuration(InstanceConfiguration::builder().instance_role_arn(role).build())
            .send()
    };
    let err = update().await.unwrap_err();
    let err = err.as_service_error().unwrap();
    assert!(err.is_invalid_request_exception());
    assert_eq!(
        err.meta().message(),
        Some("Error in assuming instance role arn:aws:iam::123456789012:role/app")
    );
    sim.advance(21.0);
    update().await.expect("accepted once the role has propagated");
}

#[tokio::test]
async fn an_injected_iam_propagation_refuses_the_access_role_of_a_create_over_http() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let role = "arn:aws:iam::123456789012:role/AppRunnerECRAccessRole";
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/inject",
        Some(json!({"service": "apprunner", "role": role, "kind": "iam_propagation", "seconds": 15})),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, _) = http(
        &sim,
        "POST",
        "/_sim/inject",
        Some(json!({"service": "apprunner", "role": role, "kind": "iam_propagation"})),
    )
    .await;
    assert_eq!(code, 400, "seconds are required");
    let private = SourceConfiguration::builder()
        .image_repository(
            ImageRepository::builder()
                .image_identifier("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1")
                .image_repository_type(ImageRepositoryType::Ecr)
                .build()
                .unwrap(),
        )
        .authentication_configuration(
            aws_sdk_apprunner::types::AuthenticationConfiguration::builder()
                .access_role_arn(role)
                .build(),
        )
        .build();
    let create = || {
        apprunner
            .create_service()
            .service_name("private-app")
            .source_configuration(private.clone())
            .send()
    };
    let err = create().await.unwrap_err();
    let err = err.as_service_error().unwrap();
    assert!(err.is_invalid_request_exception());
    assert_eq!(
        err.meta().message(),
        Some(format!("Error in assuming access role {role}").as_str())
    );
    sim.advance(14.0);
    assert!(create().await.is_err(), "14 s after the first use");
    sim.advance(1.5);
    create().await.expect("accepted once the role has propagated");
}

#[tokio::test]
async fn an_image_push_starts_app_runners_own_deployment_only_with_automatic_deployments_on() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let auto = SourceConfiguration::builder()
        .image_repository(
            ImageRepository::builder()
                .image_identifier("public.ecr.aws/nginx/nginx:1.27")
                .image_repository_type(ImageRepositoryType::EcrPublic)
                .build()
                .unwrap(),
        )
        .auto_deployments_enabled(true)
        .build();
    let out = apprunner
        .create_service()
        .service_name("auto-app")
        .source_configuration(auto)
        .send()
        .await
        .unwrap();
    let auto_arn = out.service().unwrap().service_arn().to_string();
    let (manual_arn, _) = create(&apprunner, "manual-app").await;
    sim.advance(STAGE_SECONDS);
    let before = sim.stats().calls("apprunner:StartDeployment");
    let deployed = sim.push_image("public.ecr.aws/nginx/nginx:1.27");
    assert_eq!(deployed, vec![auto_arn.clone()]);
    assert_eq!(status(&apprunner, &auto_arn).await, "OPERATION_IN_PROGRESS");
    assert_eq!(status(&apprunner, &manual_arn).await, "RUNNING");
    assert_eq!(operations(&apprunner, &auto_arn).await[0].0, "START_DEPLOYMENT");
    assert_eq!(
        sim.stats().calls("apprunner:StartDeployment"),
        before,
        "not a caller's call"
    );
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        operations(&apprunner, &auto_arn).await[0],
        ("START_DEPLOYMENT".to_string(), "SUCCEEDED".to_string())
    );
    // Over HTTP; a paused service is not deployed (nor is another image).
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/push-image",
        Some(json!({"image": "public.ecr.aws/nginx/nginx:1.27"})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(body, json!({ "deployed": [auto_arn.clone()] }));
    sim.advance(STAGE_SECONDS);
    apprunner
        .pause_service()
        .service_arn(&auto_arn)
        .send()
        .await
        .unwrap();
    sim.advance(STAGE_SECONDS);
    let (_, body) = http(
        &sim,
        "POST",
        "/_sim/push-image",
        Some(json!({"image": "public.ecr.aws/nginx/nginx:1.27"})),
    )
    .await;
    assert_eq!(body, json!({ "deployed": [] }));
    assert!(sim.push_image("public.ecr.aws/nginx/nginx:other").is_empty());
    assert_eq!(sim.stats().calls("apprunner:StartDeployment"), before);
}

#[tokio::test]
async fn a_private_ecr_image_without_an_access_role_is_refused() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let private = SourceConfiguration::builder()
        .image_repository(
            ImageRepository::builder()
                .image_identifier("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1")
                .image_repository_type(ImageRepositoryType::Ecr)
                .build()
                .unwrap(),
        )
        .build();
    let err = apprunner
        .create_service()
        .service_name("private-app")
        .source_configuration(private)
        .send()
        .await
        .unwrap_err();
    let err = err.as_service_error().unwrap();
    assert!(err.is_invalid_request_exception());
    assert!(err.meta().message().unwrap().contains("AccessRoleArn"));
}

#[tokio::test]
async fn creates_past_the_services_quota_are_refused() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    sim.set_apprunner_service_quota(1);
    create(&apprunner, "first-app").await;
    let err = apprunner
        .create_service()
        .service_name("second-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_service_quota_exceeded_exception(),
        "{err:?}"
    );
}

fn tag(key: &str, value: &str) -> aws_sdk_apprunner::types::Tag {
    aws_sdk_apprunner::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

/// (key, value) of every tag ListTagsForResource reports.
async fn listed_tags(apprunner: &Client, arn: &str) -> Vec<(String, String)> {
    apprunner
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Everything about a service a tag change must leave alone: its operations and its description.
async fn untagged_state(apprunner: &Client, arn: &str) -> (Vec<(String, String)>, String) {
    let described = apprunner
        .describe_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    (
        operations(apprunner, arn).await,
        format!("{:?}", described.service().unwrap()),
    )
}

#[tokio::test]
async fn tag_resource_adds_and_overwrites_and_untag_resource_removes_without_an_operation() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let arn = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .tags(tag("runway.dev/owner", "shop/web-app"))
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .service_arn()
        .to_string();
    // While the create runs (OPERATION_IN_PROGRESS) tags can already change: they are no operation.
    apprunner
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("team", "payments"))
        .send()
        .await
        .expect("tagging during an operation succeeds");
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[("CREATE_SERVICE", "IN_PROGRESS")])
    );
    sim.advance(STAGE_SECONDS);
    let before = untagged_state(&apprunner, &arn).await;
    assert_eq!(
        listed_tags(&apprunner, &arn).await,
        [
            ("runway.dev/owner", "shop/web-app"),
            ("cost-center", "42"),
            ("team", "payments"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    apprunner
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("cost-center", "43"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    apprunner
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .tag_keys("never-set")
        .send()
        .await
        .expect("removing a key that is not there is no error");
    assert_eq!(
        listed_tags(&apprunner, &arn).await,
        [
            ("runway.dev/owner", "shop/web-app"),
            ("cost-center", "43"),
            ("env", "prod"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    // No operation, no status change, UpdatedAt unchanged (A14, A21).
    assert_eq!(untagged_state(&apprunner, &arn).await, before);
    assert_eq!(status(&apprunner, &arn).await, "RUNNING");
    let stats = sim.stats();
    assert_eq!(stats.outcome("apprunner:TagResource:ok"), 2);
    assert_eq!(stats.outcome("apprunner:UntagResource:ok"), 1);
    assert_eq!(stats.calls("apprunner:UpdateService"), 0);
}

#[tokio::test]
async fn tag_limits_and_reserved_keys_are_invalid_request_exceptions() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let mut create = apprunner
        .create_service()
        .service_name("many-tags")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"));
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
        .to_string();
    let tag_one = |key: String, value: String| {
        apprunner
            .tag_resource()
            .resource_arn(&arn)
            .tags(tag(&key, &value))
            .send()
    };
    tag_one("k49".into(), "v".into()).await.expect("the 50th tag");
    let err = tag_one("k50".into(), "v".into()).await.unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_request_exception(),
        "{err:?}"
    );
    tag_one("k0".into(), "changed".into())
        .await
        .expect("an overwrite adds no tag");
    apprunner
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("k1")
        .send()
        .await
        .unwrap();
    tag_one("k50".into(), "v".into()).await.expect("room again");
    assert_eq!(listed_tags(&apprunner, &arn).await.len(), 50);
    for (key, value) in [
        ("aws:team".to_string(), "a".to_string()),
        ("AWS:team".to_string(), "a".to_string()),
        (String::new(), "a".to_string()),
        ("k".repeat(129), "a".to_string()),
        ("k1".to_string(), "v".repeat(257)),
    ] {
        let err = tag_one(key.clone(), value.clone()).await.unwrap_err();
        assert!(
            err.as_service_error().unwrap().is_invalid_request_exception(),
            "{key:?}={value:?}: {err:?}"
        );
    }
    // App Runner's value pattern is `.*`, and only keys are reserved.
    tag_one("k2".into(), "aws:value, with #any !chars".into())
        .await
        .expect("any value");
    let err = apprunner
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("aws:team")
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_invalid_request_exception());
    // CreateService applies the same rules.
    for bad in [
        vec![tag("AWS:team", "a")],
        (0..51).map(|i| tag(&format!("k{i}"), "v")).collect(),
    ] {
        let err = apprunner
            .create_service()
            .service_name("refused")
            .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
            .set_tags(Some(bad))
            .send()
            .await
            .unwrap_err();
        assert!(
            err.as_service_error().unwrap().is_invalid_request_exception(),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn tag_calls_on_an_unknown_or_deleted_service_are_resource_not_found() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let tag_and_untag = |arn: String| {
        let apprunner = apprunner.clone();
        async move {
            let tagged = apprunner
                .tag_resource()
                .resource_arn(&arn)
                .tags(tag("team", "a"))
                .send()
                .await
                .map_err(|e| e.code().unwrap_or_default().to_string());
            let untagged = apprunner
                .untag_resource()
                .resource_arn(&arn)
                .tag_keys("team")
                .send()
                .await
                .map_err(|e| e.code().unwrap_or_default().to_string());
            (tagged.map(|_| ()), untagged.map(|_| ()))
        }
    };
    let not_found = Err("ResourceNotFoundException".to_string());
    let missing = "arn:aws:apprunner:us-east-1:123456789012:service/missing/0123456789abcdef0123456789abcdef";
    assert_eq!(
        tag_and_untag(missing.into()).await,
        (not_found.clone(), not_found.clone())
    );
    let out = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .tags(tag("runway.dev/owner", "shop/web-app"))
        .send()
        .await
        .unwrap();
    let arn = out.service().unwrap().service_arn().to_string();
    sim.advance(STAGE_SECONDS);
    apprunner.delete_service().service_arn(&arn).send().await.unwrap();
    // Deleting: still taggable. DELETED: not found for changes, while the tags stay readable (A11).
    assert_eq!(tag_and_untag(arn.clone()).await, (Ok(()), Ok(())));
    sim.advance(STAGE_SECONDS);
    assert_eq!(status(&apprunner, &arn).await, "DELETED");
    assert_eq!(
        tag_and_untag(arn.clone()).await,
        (not_found.clone(), not_found.clone())
    );
    assert_eq!(
        listed_tags(&apprunner, &arn).await,
        [("runway.dev/owner".to_string(), "shop/web-app".to_string())]
    );
    sim.advance(STAGE_SECONDS);
    assert_eq!(tag_and_untag(arn).await, (not_found.clone(), not_found));
}
