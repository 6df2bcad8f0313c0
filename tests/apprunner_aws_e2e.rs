//! AppRunnerService end to end against behaviours of real App Runner accounts (the catalog in
//! `docs/aws-behaviour.md`) that the simulator reproduces by default: ListServices reports no tags
//! (ownership comes from ListTagsForResource), a paused service accepts updates, and a role created
//! moments ago cannot be assumed yet. Every controller here runs with a short resync, and every
//! "nothing was sent again" check spans at least two resync periods.

mod support;

use std::time::Duration;

use runway_sim::SimHandle;
use serde_json::{Value, json};
use support::controller::{Env, Options, Runway, condition, eventually, is_true, two_resyncs};

const ARSVC: &str = "apprunnerservice";
/// The resync period of every controller in this file.
const RESYNC_SECONDS: u64 = 3;

fn manifest(name: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "AppRunnerService",
        "metadata": {"name": name},
        "spec": {
            "sourceConfiguration": {
                "imageRepository": {
                    "imageIdentifier": "public.ecr.aws/nginx/nginx:1.27",
                    "imageRepositoryType": "ECR_PUBLIC",
                    "imageConfiguration": {"port": "80"}
                },
                "autoDeploymentsEnabled": false
            }
        }
    })
}

fn options() -> Options {
    Options {
        args: vec!["--resync-seconds".into(), RESYNC_SECONDS.to_string()],
        ..Options::default()
    }
}

fn calls(sim: &SimHandle, action: &str) -> u64 {
    sim.stats().calls(&format!("apprunner:{action}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_named_resources_in_two_namespaces_never_share_or_delete_one_service() {
    let env = Env::new("ara-owner", ARSVC).await;
    let other_ns = env.cluster.namespace("ara-owner-b");
    let _a = env.runway_with(options());
    let _b = Runway::start(&env.cluster, &other_ns, &env.sim.endpoint(), options());
    env.cluster.apply(&env.ns, &manifest("webapp"));
    env.cluster.apply(&other_ns, &manifest("webapp"));

    env.wait_ready("webapp");
    let stalled = eventually(Duration::from_secs(60), "the second resource stalled", || {
        env.sim.advance(61.0);
        env.cluster
            .get_json(ARSVC, &other_ns, "webapp")
            .filter(|o| is_true(o, "Stalled"))
    });
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "ServiceNameInUse");
    assert!(message.contains(&format!("{}/webapp", env.ns)), "{message}");
    assert_eq!(calls(&env.sim, "CreateService"), 1, "{:?}", env.sim.stats().calls);

    // Deleting the second resource deletes nothing in AWS.
    env.cluster.kubectl_ok(
        &["delete", ARSVC, "webapp", "-n", &other_ns, "--timeout=60s"],
        None,
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(calls(&env.sim, "DeleteService"), 0);
    let first = env.get("webapp").expect("the first resource");
    assert!(is_true(&first, "Ready"), "{}", first["status"]);
    assert_eq!(calls(&env.sim, "UpdateService"), 0, "no fight over the service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_a_paused_service_is_applied_and_it_stays_paused() {
    let env = Env::new("ara-paused", ARSVC).await;
    let _runway = env.runway_with(options());
    let mut m = manifest("webapp");
    m["spec"]["paused"] = json!(true);
    env.cluster.apply(&env.ns, &m);
    env.wait_for("webapp", "paused", true, |o| {
        is_true(o, "Ready") && o["status"]["status"] == "PAUSED"
    });

    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("webapp", "the change applied while paused", true, |o| {
        is_true(o, "Ready")
            && o["status"]["status"] == "PAUSED"
            && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    assert_eq!(condition(&ready, "Ready").map(|c| c.1), Some("Paused".into()));
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(calls(&env.sim, "UpdateService"), 1);
    assert_eq!(
        calls(&env.sim, "ResumeService"),
        0,
        "never resumed to apply a change"
    );
    let described = runway_sim::client::apprunner_client(&env.sim.endpoint())
        .describe_service()
        .service_arn(ready["status"]["serviceArn"].as_str().expect("arn"))
        .send()
        .await
        .expect("describe");
    let service = described.service().expect("service");
    assert_eq!(service.status().as_str(), "PAUSED");
    assert_eq!(
        service
            .source_configuration()
            .and_then(|s| s.image_repository())
            .map(|i| i.image_identifier()),
        Some("public.ecr.aws/nginx/nginx:1.28")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_iam_has_not_propagated_yet_is_retried_until_the_create_succeeds_once() {
    let env = Env::new("ara-iam", ARSVC).await;
    let role = "arn:aws:iam::123456789012:role/webapp-instance";
    env.sim.inject_iam_propagation(role, 40.0);
    let _runway = env.runway_with(options());
    let mut m = manifest("webapp");
    m["spec"]["instanceConfiguration"] = json!({"instanceRoleArn": role});
    env.cluster.apply(&env.ns, &m);

    let waiting = env.wait_for("webapp", "Reconciling on IAM propagation", false, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "IamPropagation")
    });
    let (_, _, message) = condition(&waiting, "Reconciling").expect("Reconciling");
    assert!(message.contains("Error in assuming instance role"), "{message}");
    assert!(!is_true(&waiting, "Stalled"));

    // IAM propagates; runway recovers by itself, with no spec edit.
    env.wait_ready("webapp");
    let stats = env.sim.stats();
    assert_eq!(
        stats.outcome("apprunner:CreateService:ok"),
        1,
        "{:?}",
        stats.outcomes
    );
    assert!(stats.outcome("apprunner:CreateService:InvalidRequestException") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_last_environment_variable_clears_it_in_app_runner_once() {
    let env = Env::new("ara-clear", ARSVC).await;
    let _runway = env.runway_with(options());
    let mut m = manifest("webapp");
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageConfiguration"]["runtimeEnvironmentVariables"] =
        json!({"MODE": "prod"});
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("webapp");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    m["spec"]["sourceConfiguration"]["imageRepository"]["imageConfiguration"]
        .as_object_mut()
        .expect("image configuration")
        .remove("runtimeEnvironmentVariables");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("webapp", "Ready after the removal", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    let described = runway_sim::client::apprunner_client(&env.sim.endpoint())
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .expect("describe");
    let vars = described
        .service()
        .and_then(|s| s.source_configuration())
        .and_then(|s| s.image_repository())
        .and_then(|i| i.image_configuration())
        .and_then(|c| c.runtime_environment_variables())
        .map(|v| v.len())
        .unwrap_or(0);
    assert_eq!(vars, 0, "the variable is gone in App Runner");
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(calls(&env.sim, "UpdateService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_app_runner_starts_on_an_image_push_is_waited_for_never_drift() {
    let env = Env::new("ara-auto", ARSVC).await;
    let _runway = env.runway_with(options());
    let mut m = manifest("webapp");
    m["spec"]["sourceConfiguration"]["autoDeploymentsEnabled"] = json!(true);
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");
    let mutating_before = [
        "CreateService",
        "UpdateService",
        "StartDeployment",
        "PauseService",
        "ResumeService",
    ]
    .iter()
    .map(|a| calls(&env.sim, a))
    .sum::<u64>();

    // Someone pushes the image; App Runner deploys it by itself.
    let deployed = env.sim.push_image("public.ecr.aws/nginx/nginx:1.27");
    assert_eq!(deployed.len(), 1, "{deployed:?}");
    let waiting = env.wait_for("webapp", "the automatic deployment waited for", false, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "OperationInProgress")
    });
    assert!(!is_true(&waiting, "Stalled"), "{}", waiting["status"]);
    env.wait_ready("webapp");
    two_resyncs(&env.sim, RESYNC_SECONDS);
    let mutating_after = [
        "CreateService",
        "UpdateService",
        "StartDeployment",
        "PauseService",
        "ResumeService",
    ]
    .iter()
    .map(|a| calls(&env.sim, a))
    .sum::<u64>();
    assert_eq!(mutating_after, mutating_before, "{:?}", env.sim.stats().calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_past_the_quota_stalls_with_aws_message_and_goes_through_once_raised() {
    let env = Env::new("ara-quota", ARSVC).await;
    env.sim.set_apprunner_service_quota(0);
    let _runway = env.runway_with(options());
    env.cluster.apply(&env.ns, &manifest("webapp"));
    let stalled = env.wait_for("webapp", "Stalled on the quota", false, |o| is_true(o, "Stalled"));
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "AwsRejectedSpec");
    assert!(message.contains("ServiceQuotaExceededException"), "{message}");

    // The quota is raised outside Kubernetes; the annotation asks for one more try now.
    env.sim.set_apprunner_service_quota(30);
    env.cluster.kubectl_ok(
        &[
            "annotate",
            ARSVC,
            "webapp",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=quota-raised",
        ],
        None,
    );
    env.wait_ready("webapp");
    assert_eq!(env.sim.stats().outcome("apprunner:CreateService:ok"), 1);
}
