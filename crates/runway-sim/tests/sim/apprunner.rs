//! App Runner services and operations through `aws-sdk-apprunner`.

use aws_sdk_apprunner::Client;
use aws_sdk_apprunner::error::ProvideErrorMetadata;
use aws_sdk_apprunner::types::{
    CodeRepository, ImageConfiguration, ImageRepository, ImageRepositoryType, InstanceConfiguration,
    SourceCodeVersion, SourceCodeVersionType, SourceConfiguration,
};
use runway_sim::client::{
    ClientOptions, apprunner_client, apprunner_client_with_credentials, assume_role_provider,
};
use runway_sim::{InjectKind, InjectService, Injection};
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

/// Auto scaling configurations (docs/aws-behaviour.md A22) and VPC connectors (A23).
const CONFIG_PREFIX: &str = "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration";
const DEFAULT_CONFIG_ARN: &str = "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001";

/// (name, revision, Latest, Status) of an auto scaling configuration.
fn revision_of(config: &aws_sdk_apprunner::types::AutoScalingConfiguration) -> (String, i32, bool, String) {
    (
        config.auto_scaling_configuration_name().unwrap().to_string(),
        config.auto_scaling_configuration_revision().unwrap(),
        config.latest().unwrap(),
        config.status().unwrap().as_str().to_string(),
    )
}

fn expected(name: &str, revision: i32, latest: bool, status: &str) -> (String, i32, bool, String) {
    (name.to_string(), revision, latest, status.to_string())
}

async fn describe_config(
    apprunner: &Client,
    arn: &str,
) -> Result<aws_sdk_apprunner::types::AutoScalingConfiguration, String> {
    apprunner
        .describe_auto_scaling_configuration()
        .auto_scaling_configuration_arn(arn)
        .send()
        .await
        .map(|out| out.auto_scaling_configuration().unwrap().clone())
        .map_err(|e| e.code().unwrap_or_default().to_string())
}

async fn create_config(apprunner: &Client, name: &str) -> String {
    apprunner
        .create_auto_scaling_configuration()
        .auto_scaling_configuration_name(name)
        .send()
        .await
        .unwrap()
        .auto_scaling_configuration()
        .unwrap()
        .auto_scaling_configuration_arn()
        .unwrap()
        .to_string()
}

async fn create_connector(apprunner: &Client, name: &str) -> String {
    apprunner
        .create_vpc_connector()
        .vpc_connector_name(name)
        .subnets("subnet-0123456789abcdef0")
        .subnets("subnet-0fedcba9876543210")
        .security_groups("sg-0123456789abcdef0")
        .send()
        .await
        .unwrap()
        .vpc_connector()
        .unwrap()
        .vpc_connector_arn()
        .unwrap()
        .to_string()
}

fn vpc_egress(connector: &str) -> aws_sdk_apprunner::types::NetworkConfiguration {
    aws_sdk_apprunner::types::NetworkConfiguration::builder()
        .egress_configuration(
            aws_sdk_apprunner::types::EgressConfiguration::builder()
                .egress_type(aws_sdk_apprunner::types::EgressType::Vpc)
                .vpc_connector_arn(connector)
                .build(),
        )
        .build()
}

/// (AutoScalingConfigurationArn, EgressType, VpcConnectorArn) DescribeService reports.
async fn scaling_and_egress(apprunner: &Client, arn: &str) -> (String, String, Option<String>) {
    let out = apprunner
        .describe_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    let service = out.service().unwrap();
    let egress = service
        .network_configuration()
        .unwrap()
        .egress_configuration()
        .unwrap();
    (
        service
            .auto_scaling_configuration_summary()
            .unwrap()
            .auto_scaling_configuration_arn()
            .unwrap()
            .to_string(),
        egress.egress_type().unwrap().as_str().to_string(),
        egress.vpc_connector_arn().map(str::to_string),
    )
}

#[tokio::test]
async fn auto_scaling_configurations_get_revisions_and_a_name_only_arn_describes_the_latest() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let first = apprunner
        .create_auto_scaling_configuration()
        .auto_scaling_configuration_name("high-availability")
        .max_concurrency(50)
        .min_size(3)
        .max_size(10)
        .tags(tag("team", "payments"))
        .send()
        .await
        .unwrap();
    let first = first.auto_scaling_configuration().unwrap();
    let first_arn = first.auto_scaling_configuration_arn().unwrap().to_string();
    let id = first_arn
        .strip_prefix(&format!("{CONFIG_PREFIX}/high-availability/1/"))
        .expect("…/<name>/<revision>/<id>");
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        revision_of(first),
        expected("high-availability", 1, true, "ACTIVE")
    );
    assert_eq!(
        (first.max_concurrency(), first.min_size(), first.max_size()),
        (Some(50), Some(3), Some(10))
    );
    assert_eq!(
        (first.is_default(), first.has_associated_service()),
        (Some(false), Some(false))
    );
    assert!(first.created_at().is_some() && first.deleted_at().is_none());
    // The same name again is the next revision, with the model's defaults (100, 1, 25).
    let second_arn = create_config(&apprunner, "high-availability").await;
    let second = describe_config(&apprunner, &second_arn).await.unwrap();
    assert_eq!(
        revision_of(&second),
        expected("high-availability", 2, true, "ACTIVE")
    );
    assert_eq!(
        (second.max_concurrency(), second.min_size(), second.max_size()),
        (Some(100), Some(1), Some(25))
    );
    assert_ne!(second_arn, first_arn);
    let first = describe_config(&apprunner, &first_arn).await.unwrap();
    assert_eq!(
        revision_of(&first),
        expected("high-availability", 1, false, "ACTIVE")
    );
    // Partial ARNs: `…/<name>` is the latest ACTIVE revision, `…/<name>/<revision>` that revision.
    let by_name = format!("{CONFIG_PREFIX}/high-availability");
    let latest = describe_config(&apprunner, &by_name).await.unwrap();
    assert_eq!(latest.auto_scaling_configuration_arn(), Some(second_arn.as_str()));
    let by_revision = describe_config(&apprunner, &format!("{by_name}/1"))
        .await
        .unwrap();
    assert_eq!(
        by_revision.auto_scaling_configuration_arn(),
        Some(first_arn.as_str())
    );
    assert_eq!(
        listed_tags(&apprunner, &first_arn).await,
        [("team".to_string(), "payments".to_string())]
    );

    // Deleting the latest makes it INACTIVE, and the one before it latest again.
    let deleted = apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(&second_arn)
        .send()
        .await
        .unwrap();
    let deleted = deleted.auto_scaling_configuration().unwrap();
    assert_eq!(
        revision_of(deleted),
        expected("high-availability", 2, false, "INACTIVE")
    );
    assert!(deleted.deleted_at().is_some());
    let latest = describe_config(&apprunner, &by_name).await.unwrap();
    assert_eq!(
        revision_of(&latest),
        expected("high-availability", 1, true, "ACTIVE")
    );
    let gone = describe_config(&apprunner, &second_arn).await.unwrap();
    assert_eq!(gone.status().unwrap().as_str(), "INACTIVE");
    let again = apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(&second_arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        again.as_service_error().unwrap().is_invalid_request_exception(),
        "{again:?}"
    );
    assert_eq!(
        again.message(),
        Some("The auto scaling configuration you specified has been deleted.")
    );
    // Revision numbers are not reused.
    let third_arn = create_config(&apprunner, "high-availability").await;
    assert!(third_arn.starts_with(&format!("{by_name}/3/")), "{third_arn}");

    // Listing: ACTIVE revisions, the latest of each name unless LatestOnly is false.
    let listed = |name: Option<&str>, latest_only: Option<bool>| {
        apprunner
            .list_auto_scaling_configurations()
            .set_auto_scaling_configuration_name(name.map(str::to_string))
            .set_latest_only(latest_only)
            .send()
    };
    let summaries = |out: aws_sdk_apprunner::operation::list_auto_scaling_configurations::ListAutoScalingConfigurationsOutput| {
        out.auto_scaling_configuration_summary_list()
            .iter()
            .map(|s| {
                (
                    s.auto_scaling_configuration_name().unwrap().to_string(),
                    s.auto_scaling_configuration_revision(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        summaries(listed(None, None).await.unwrap()),
        [
            ("DefaultConfiguration".to_string(), 1),
            ("high-availability".to_string(), 3)
        ]
    );
    assert_eq!(
        summaries(listed(Some("high-availability"), Some(false)).await.unwrap()),
        [
            ("high-availability".to_string(), 1),
            ("high-availability".to_string(), 3)
        ]
    );
    let page = apprunner
        .list_auto_scaling_configurations()
        .latest_only(false)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.auto_scaling_configuration_summary_list().len(), 1);
    assert!(page.next_token().is_some());
    // INACTIVE revisions are forgotten after the DELETED retention.
    sim.advance(STAGE_SECONDS);
    assert_eq!(
        describe_config(&apprunner, &second_arn).await.unwrap_err(),
        "ResourceNotFoundException"
    );
    assert!(describe_config(&apprunner, &first_arn).await.is_ok());
}

#[tokio::test]
async fn auto_scaling_values_outside_the_model_and_past_the_quotas_are_refused() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let create = |name: &str, concurrency: Option<i32>, min: Option<i32>, max: Option<i32>| {
        apprunner
            .create_auto_scaling_configuration()
            .auto_scaling_configuration_name(name)
            .set_max_concurrency(concurrency)
            .set_min_size(min)
            .set_max_size(max)
            .send()
    };
    for (name, concurrency, min, max) in [
        ("abc", None, None, None),
        ("-leading-dash", None, None, None),
        (&*"n".repeat(33), None, None, None),
        ("bounds", Some(0), None, None),
        ("bounds", Some(201), None, None),
        ("bounds", None, Some(0), None),
        ("bounds", None, Some(26), None),
        ("bounds", None, None, Some(0)),
        ("bounds", None, None, Some(26)),
        ("bounds", None, Some(5), Some(2)),
    ] {
        let err = create(name, concurrency, min, max).await.unwrap_err();
        assert!(
            err.as_service_error().unwrap().is_invalid_request_exception(),
            "{name} {concurrency:?} {min:?} {max:?}: {err:?}"
        );
    }
    let edge = create(&"n".repeat(32), Some(200), Some(25), Some(25))
        .await
        .expect("the model's maximums");
    assert_eq!(edge.auto_scaling_configuration().unwrap().min_size(), Some(25));
    // Five ACTIVE revisions per name.
    for _ in 0..5 {
        create("busy", None, None, None).await.unwrap();
    }
    let err = create("busy", None, None, None).await.unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_service_quota_exceeded_exception(),
        "{err:?}"
    );
    // Ten names, DefaultConfiguration and the two above included.
    for i in 0..7 {
        create(&format!("name-{i}"), None, None, None).await.unwrap();
    }
    let err = create("one-too-many", None, None, None).await.unwrap_err();
    assert!(
        err.as_service_error()
            .unwrap()
            .is_service_quota_exceeded_exception(),
        "{err:?}"
    );
    create("name-0", None, None, None)
        .await
        .expect("a revision of an existing name");
}

#[tokio::test]
async fn every_account_has_the_default_configuration_and_services_without_one_report_it() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let default = describe_config(&apprunner, &format!("{CONFIG_PREFIX}/DefaultConfiguration"))
        .await
        .unwrap();
    assert_eq!(default.auto_scaling_configuration_arn(), Some(DEFAULT_CONFIG_ARN));
    assert_eq!(
        revision_of(&default),
        expected("DefaultConfiguration", 1, true, "ACTIVE")
    );
    assert_eq!(
        (default.max_concurrency(), default.min_size(), default.max_size()),
        (Some(100), Some(1), Some(25))
    );
    assert_eq!(
        (default.is_default(), default.has_associated_service()),
        (Some(true), Some(false))
    );
    let (arn, _) = create(&apprunner, "web-app").await;
    let out = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let summary = out
        .service()
        .unwrap()
        .auto_scaling_configuration_summary()
        .unwrap();
    assert_eq!(summary.auto_scaling_configuration_arn(), Some(DEFAULT_CONFIG_ARN));
    assert_eq!(summary.auto_scaling_configuration_revision(), 1);
    assert_eq!(summary.status().unwrap().as_str(), "ACTIVE");
    assert_eq!(
        (summary.is_default(), summary.has_associated_service()),
        (Some(true), Some(true))
    );
    let default = describe_config(&apprunner, DEFAULT_CONFIG_ARN).await.unwrap();
    assert_eq!(default.has_associated_service(), Some(true));
    let err = apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(DEFAULT_CONFIG_ARN)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_request_exception(),
        "{err:?}"
    );
    // The name is no longer reserved: it gets revision 2, which is not the default.
    let mine = create_config(&apprunner, "DefaultConfiguration").await;
    let mine = describe_config(&apprunner, &mine).await.unwrap();
    assert_eq!(
        revision_of(&mine),
        expected("DefaultConfiguration", 2, true, "ACTIVE")
    );
    assert_eq!(mine.is_default(), Some(false));
    // Another account has its own, with its own account in the ARN.
    sim.add_role(runway_sim::RoleConfig::new(
        "arn:aws:iam::210987654321:role/runway-team-a",
    ))
    .unwrap();
    let team_a = apprunner_client_with_credentials(
        &sim.endpoint(),
        &ClientOptions::default(),
        assume_role_provider(
            &sim.endpoint(),
            "arn:aws:iam::210987654321:role/runway-team-a",
            None,
        )
        .await,
    );
    let their_default = DEFAULT_CONFIG_ARN.replace("123456789012", "210987654321");
    assert!(
        listed_tags(&team_a, &their_default).await.is_empty(),
        "there before the account used App Runner"
    );
    let (theirs, _) = create(&team_a, "web-app").await;
    assert_eq!(scaling_and_egress(&team_a, &theirs).await.0, their_default);
    let listed = team_a.list_auto_scaling_configurations().send().await.unwrap();
    assert_eq!(listed.auto_scaling_configuration_summary_list().len(), 1);
}

#[tokio::test]
async fn a_service_reports_the_configuration_and_vpc_connector_it_uses_and_they_cannot_be_deleted_meanwhile()
{
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let fast_1 = create_config(&apprunner, "fast").await;
    let connector = create_connector(&apprunner, "private-db").await;
    // A name-only ARN is the latest revision, reported as its full ARN.
    let out = apprunner
        .create_service()
        .service_name("web-app")
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
        .auto_scaling_configuration_arn(format!("{CONFIG_PREFIX}/fast"))
        .network_configuration(vpc_egress(&connector))
        .send()
        .await
        .unwrap();
    let arn = out.service().unwrap().service_arn().to_string();
    assert_eq!(
        scaling_and_egress(&apprunner, &arn).await,
        (fast_1.clone(), "VPC".to_string(), Some(connector.clone()))
    );
    let config = describe_config(&apprunner, &fast_1).await.unwrap();
    assert_eq!(config.has_associated_service(), Some(true));
    let default = describe_config(&apprunner, DEFAULT_CONFIG_ARN).await.unwrap();
    assert_eq!(default.has_associated_service(), Some(false));
    // In use: neither can be deleted.
    let err = apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(&fast_1)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_request_exception(),
        "{err:?}"
    );
    let err = apprunner
        .delete_vpc_connector()
        .vpc_connector_arn(&connector)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_request_exception(),
        "{err:?}"
    );
    // An update to revision 2 (`…/<name>/<revision>`) and back to DEFAULT egress frees both.
    sim.advance(STAGE_SECONDS);
    let fast_2 = create_config(&apprunner, "fast").await;
    apprunner
        .update_service()
        .service_arn(&arn)
        .auto_scaling_configuration_arn(format!("{CONFIG_PREFIX}/fast/2"))
        .network_configuration(
            aws_sdk_apprunner::types::NetworkConfiguration::builder()
                .egress_configuration(
                    aws_sdk_apprunner::types::EgressConfiguration::builder()
                        .egress_type(aws_sdk_apprunner::types::EgressType::Default)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        scaling_and_egress(&apprunner, &arn).await,
        (fast_2, "DEFAULT".to_string(), None),
        "the connector is only valid with VPC egress"
    );
    sim.advance(STAGE_SECONDS);
    apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(&fast_1)
        .send()
        .await
        .expect("no longer in use");
    let deleted = apprunner
        .delete_vpc_connector()
        .vpc_connector_arn(&connector)
        .send()
        .await
        .expect("no longer in use");
    assert_eq!(
        deleted.vpc_connector().unwrap().status().unwrap().as_str(),
        "INACTIVE"
    );
}

#[tokio::test]
async fn unknown_deleted_or_foreign_configurations_and_connectors_are_refused() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let missing_config = format!("{CONFIG_PREFIX}/missing/1/0123456789abcdef0123456789abcdef");
    let missing_connector =
        "arn:aws:apprunner:us-east-1:123456789012:vpcconnector/missing/1/0123456789abcdef0123456789abcdef";
    let code = |err: &dyn ProvideErrorMetadata| err.code().unwrap_or_default().to_string();
    for arn in [
        missing_config.clone(),
        format!("{CONFIG_PREFIX}/missing"),
        format!("{CONFIG_PREFIX}/DefaultConfiguration/7"),
        DEFAULT_CONFIG_ARN.replace("us-east-1", "eu-west-1"),
    ] {
        assert_eq!(
            describe_config(&apprunner, &arn).await.unwrap_err(),
            "ResourceNotFoundException",
            "{arn}"
        );
    }
    assert_eq!(
        describe_config(&apprunner, "not-an-arn").await.unwrap_err(),
        "InvalidRequestException"
    );
    let err = apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(&missing_config)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    for arn in [
        missing_connector.to_string(),
        "arn:aws:apprunner:us-east-1:123456789012:vpcconnector/missing".to_string(),
    ] {
        let err = apprunner
            .describe_vpc_connector()
            .vpc_connector_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ResourceNotFoundException", "{arn}");
    }
    // CreateService and UpdateService: a configuration or connector that does not exist (or is
    // INACTIVE) is an invalid request.
    let create_with = |name: &str, config: Option<String>, connector: Option<&str>| {
        let mut call = apprunner
            .create_service()
            .service_name(name)
            .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.27"))
            .set_auto_scaling_configuration_arn(config);
        if let Some(connector) = connector {
            call = call.network_configuration(vpc_egress(connector));
        }
        call.send()
    };
    let deleted = create_config(&apprunner, "short-lived").await;
    apprunner
        .delete_auto_scaling_configuration()
        .auto_scaling_configuration_arn(&deleted)
        .send()
        .await
        .unwrap();
    let foreign = DEFAULT_CONFIG_ARN.replace("123456789012", "210987654321");
    for config in [missing_config.clone(), deleted, foreign.clone()] {
        let err = create_with("refused", Some(config.clone()), None)
            .await
            .unwrap_err();
        assert_eq!(code(&err), "InvalidRequestException", "{config}");
    }
    let err = create_with("refused", None, Some(missing_connector))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    let err = apprunner
        .update_service()
        .service_arn(&arn)
        .auto_scaling_configuration_arn(&missing_config)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    let err = apprunner
        .update_service()
        .service_arn(&arn)
        .network_configuration(vpc_egress(missing_connector))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    assert_eq!(status(&apprunner, &arn).await, "RUNNING", "no operation started");
    // Describing another account's configuration is refused by IAM, like its services.
    assert_eq!(
        describe_config(&apprunner, &foreign).await.unwrap_err(),
        "AccessDeniedException"
    );
}

#[tokio::test]
async fn vpc_connectors_have_one_revision_per_name_and_no_security_groups_unless_given() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let out = apprunner
        .create_vpc_connector()
        .vpc_connector_name("private-db")
        .subnets("subnet-0123456789abcdef0")
        .tags(tag("team", "payments"))
        .send()
        .await
        .unwrap();
    let connector = out.vpc_connector().unwrap();
    let arn = connector.vpc_connector_arn().unwrap().to_string();
    let id = arn
        .strip_prefix("arn:aws:apprunner:us-east-1:123456789012:vpcconnector/private-db/1/")
        .expect("…/<name>/1/<id>");
    assert_eq!(id.len(), 32);
    assert_eq!(connector.vpc_connector_revision(), 1);
    assert_eq!(connector.status().unwrap().as_str(), "ACTIVE");
    assert_eq!(connector.subnets(), ["subnet-0123456789abcdef0"]);
    assert!(
        connector.security_groups().is_empty(),
        "AWS uses the VPC's default group"
    );
    assert!(connector.created_at().is_some() && connector.deleted_at().is_none());
    assert_eq!(
        listed_tags(&apprunner, &arn).await,
        [("team".to_string(), "payments".to_string())]
    );
    let other = create_connector(&apprunner, "cache").await;
    let described = apprunner
        .describe_vpc_connector()
        .vpc_connector_arn(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.vpc_connector().unwrap().security_groups(),
        ["sg-0123456789abcdef0"]
    );
    let refuse = |name: &str, subnets: Vec<String>| {
        apprunner
            .create_vpc_connector()
            .vpc_connector_name(name)
            .set_subnets(Some(subnets))
            .send()
    };
    for (name, subnets) in [
        ("private-db", vec!["subnet-1".to_string()]),
        ("no-subnets", vec![]),
        ("abc", vec!["subnet-1".to_string()]),
    ] {
        let err = refuse(name, subnets).await.unwrap_err();
        assert!(
            err.as_service_error().unwrap().is_invalid_request_exception(),
            "{name}: {err:?}"
        );
    }
    let names = |out: aws_sdk_apprunner::operation::list_vpc_connectors::ListVpcConnectorsOutput| {
        out.vpc_connectors()
            .iter()
            .map(|c| c.vpc_connector_name().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let first = apprunner
        .list_vpc_connectors()
        .max_results(1)
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    assert_eq!(names(first), ["private-db"]);
    let second = apprunner
        .list_vpc_connectors()
        .max_results(1)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert!(second.next_token().is_none());
    assert_eq!(names(second), ["cache"]);
    let deleted = apprunner
        .delete_vpc_connector()
        .vpc_connector_arn(&arn)
        .send()
        .await
        .unwrap();
    let deleted = deleted.vpc_connector().unwrap();
    assert_eq!(deleted.status().unwrap().as_str(), "INACTIVE");
    assert!(deleted.deleted_at().is_some());
    assert_eq!(
        names(apprunner.list_vpc_connectors().send().await.unwrap()),
        ["cache"]
    );
    let described = apprunner
        .describe_vpc_connector()
        .vpc_connector_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.vpc_connector().unwrap().status().unwrap().as_str(),
        "INACTIVE"
    );
    let err = apprunner
        .delete_vpc_connector()
        .vpc_connector_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.as_service_error().unwrap().is_resource_not_found_exception());
    // The name is free again: a new connector, revision 1 again.
    let again = create_connector(&apprunner, "private-db").await;
    assert_ne!(again, arn);
    assert!(again.contains(":vpcconnector/private-db/1/"));
    sim.advance(STAGE_SECONDS);
    let err = apprunner
        .describe_vpc_connector()
        .vpc_connector_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_resource_not_found_exception(),
        "forgotten after the DELETED retention"
    );
}

#[tokio::test]
async fn an_injected_hang_keeps_the_operation_in_progress_and_refuses_every_other_call() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    sim.inject(&Injection {
        service: InjectService::Apprunner,
        name: "web-app".into(),
        kind: InjectKind::Hang,
    })
    .expect("inject");
    let hung = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .expect("update accepted")
        .operation_id()
        .to_string();
    // A day later App Runner still reports the operation running, with no end time.
    sim.advance(86_400.0);
    assert_eq!(status(&apprunner, &arn).await, "OPERATION_IN_PROGRESS");
    let listed = apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let newest = &listed.operation_summary_list()[0];
    assert_eq!(newest.id(), Some(hung.as_str()));
    assert_eq!(newest.status().map(|s| s.as_str()), Some("IN_PROGRESS"));
    assert!(newest.started_at().is_some());
    assert!(newest.ended_at().is_none(), "{newest:?}");
    let deleted = apprunner.delete_service().service_arn(&arn).send().await;
    let err = deleted.unwrap_err();
    assert!(
        err.as_service_error().unwrap().is_invalid_state_exception(),
        "{err:?}"
    );
    let paused = apprunner.pause_service().service_arn(&arn).send().await;
    assert!(
        paused
            .unwrap_err()
            .as_service_error()
            .unwrap()
            .is_invalid_state_exception(),
        "nothing else is accepted while the operation hangs"
    );
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/inject",
        Some(json!({"service": "ecs", "name": "web", "kind": "hang"})),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.to_string().contains("ECS has no hang fault"), "{body}");
}

#[tokio::test]
async fn delete_service_is_refused_while_a_vpc_ingress_connection_is_available() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "private-app").await;
    sim.advance(STAGE_SECONDS);
    let vpc = aws_sdk_apprunner::types::IngressVpcConfiguration::builder()
        .vpc_id("vpc-0123456789abcdef0")
        .vpc_endpoint_id("vpce-0123456789abcdef0")
        .build();
    let created = apprunner
        .create_vpc_ingress_connection()
        .service_arn(&arn)
        .vpc_ingress_connection_name("private-app-ingress")
        .ingress_vpc_configuration(vpc.clone())
        .send()
        .await
        .expect("connection created");
    let connection = created.vpc_ingress_connection().unwrap();
    let connection_arn = connection.vpc_ingress_connection_arn().unwrap().to_string();
    assert_eq!(connection.status().map(|s| s.as_str()), Some("AVAILABLE"));
    assert!(connection_arn.contains(":vpcingressconnection/private-app-ingress/"));
    let listed = apprunner
        .list_vpc_ingress_connections()
        .filter(
            aws_sdk_apprunner::types::ListVpcIngressConnectionsFilter::builder()
                .service_arn(&arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.vpc_ingress_connection_summary_list().len(), 1);

    let err = apprunner
        .delete_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    let service_err = err.as_service_error().unwrap();
    assert!(service_err.is_invalid_state_exception(), "{err:?}");
    let message = service_err.message().unwrap_or_default();
    assert!(
        message.starts_with(
            "You cannot delete a Service while it has VpcIngressConnections with a status of AVAILABLE."
        ) && message.contains(&connection_arn),
        "{message}"
    );
    assert_eq!(status(&apprunner, &arn).await, "RUNNING", "nothing was started");

    let deleted = apprunner
        .delete_vpc_ingress_connection()
        .vpc_ingress_connection_arn(&connection_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted
            .vpc_ingress_connection()
            .unwrap()
            .status()
            .map(|s| s.as_str()),
        Some("DELETED")
    );
    let again = apprunner
        .delete_vpc_ingress_connection()
        .vpc_ingress_connection_arn(&connection_arn)
        .send()
        .await
        .unwrap_err();
    assert!(again.as_service_error().unwrap().is_invalid_state_exception());
    apprunner
        .delete_service()
        .service_arn(&arn)
        .send()
        .await
        .expect("deletable once the connection is gone");
    let unknown = apprunner
        .create_vpc_ingress_connection()
        .service_arn(arn.replace("private-app", "nobody"))
        .vpc_ingress_connection_name("other-ingress")
        .ingress_vpc_configuration(vpc)
        .send()
        .await
        .unwrap_err();
    assert!(unknown.as_service_error().unwrap().is_invalid_request_exception());
}

#[tokio::test]
async fn an_injected_update_answers_without_an_operation_id_but_lists_the_operation() {
    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "web-app").await;
    sim.advance(STAGE_SECONDS);
    sim.inject(&Injection {
        service: InjectService::Apprunner,
        name: "web-app".into(),
        kind: InjectKind::NoOperationId,
    })
    .expect("inject");
    let out = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .expect("the SDK accepts the answer");
    assert_eq!(
        out.operation_id(),
        "",
        "the SDK fills the missing required member with \"\""
    );
    assert_eq!(
        operations(&apprunner, &arn).await,
        ops(&[("UPDATE_SERVICE", "IN_PROGRESS"), ("CREATE_SERVICE", "SUCCEEDED")])
    );
}

/// docs/aws-behaviour.md A27: the SDK reads past members no model declares and hands enum values no
/// enum declares over as they came.
#[tokio::test]
async fn a_newer_model_adds_members_and_values_that_the_sdk_reads_past() {
    use runway_sim::apprunner::newer;

    let sim = start().await;
    let apprunner = apprunner_client(&sim.endpoint());
    let (arn, _) = create(&apprunner, "newer-web").await;
    sim.advance(STAGE_SECONDS);
    let (code, body) = http(
        &sim,
        "POST",
        "/_sim/apprunner/newer-model",
        Some(json!({"unknownMembers": true, "serviceStatus": "UPDATING"})),
    )
    .await;
    assert_eq!(code, 200, "{body}");

    let described = apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .expect("the SDK reads past members it does not know");
    let service = described.service().unwrap();
    assert_eq!(service.status().as_str(), "UPDATING");
    let image = service
        .source_configuration()
        .and_then(|s| s.image_repository())
        .unwrap();
    assert_eq!(image.image_identifier(), "public.ecr.aws/nginx/nginx:1.27");
    let env = image
        .image_configuration()
        .and_then(|c| c.runtime_environment_variables())
        .unwrap();
    assert_eq!(env.len(), 1, "no member is added to the environment: {env:?}");

    let listed = apprunner.list_services().send().await.expect("list services");
    assert_eq!(
        listed.service_summary_list()[0].status().unwrap().as_str(),
        newer::UNKNOWN_SUMMARY_STATUS
    );
    let ops = operations(&apprunner, &arn).await;
    assert_eq!(ops[0], ("CREATE_SERVICE".into(), "SUCCEEDED".into()));
    assert_eq!(
        ops.last().unwrap(),
        &(
            newer::UNKNOWN_OPERATION_TYPE.to_string(),
            newer::UNKNOWN_OPERATION_STATUS.to_string()
        )
    );
    let update = apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(image_source("public.ecr.aws/nginx/nginx:1.28"))
        .send()
        .await
        .expect("update answers parse");
    assert!(!update.operation_id().is_empty());
    apprunner
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("tags parse");

    let (_, current) = http(&sim, "GET", "/_sim/apprunner/newer-model", None).await;
    assert_eq!(current["serviceStatus"], "UPDATING", "{current}");
    let (_, bad) = http(
        &sim,
        "POST",
        "/_sim/apprunner/newer-model",
        Some(json!({"nope": 1})),
    )
    .await;
    assert!(bad["error"].is_string(), "{bad}");
    http(&sim, "POST", "/_sim/apprunner/newer-model", Some(json!({}))).await;
    assert_eq!(status(&apprunner, &arn).await, "OPERATION_IN_PROGRESS");
}
