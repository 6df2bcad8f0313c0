//! ExpressService end to end: the real `runway run` binary against the real kube-apiserver and the
//! AWS simulator. Every assertion about AWS is on the simulator's call counts, never on logs.

mod support;

use std::time::Duration;

use runway_sim::{FaultConfig, InjectKind, InjectService, Injection, SimHandle};
use serde_json::{Value, json};
use support::controller::{Env, Options, WAIT, condition, eventually, is_true};

const XSVC: &str = "expressservice";
const MUTATING: &[&str] = &[
    "ecs:CreateExpressGatewayService",
    "ecs:UpdateExpressGatewayService",
    "ecs:DeleteExpressGatewayService",
    "ecs:UpdateService",
];

fn manifest(name: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "healthCheckPath": "/healthz",
            "cpu": "512",
            "memory": "1024",
            "primaryContainer": {
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "containerPort": 8080,
                "environment": [
                    {"name": "A", "value": "1"},
                    {"name": "B", "value": "2"},
                    {"name": "C", "value": "3"}
                ],
                "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}]
            },
            "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 3}
        }
    })
}

/// A controller with a 3 s resync, for tests whose "nothing was sent again" checks must span at
/// least two resync periods.
fn short_resync() -> Options {
    Options {
        args: vec!["--resync-seconds".into(), "3".into()],
        ..Options::default()
    }
}

fn mutating_calls(sim: &SimHandle) -> u64 {
    let stats = sim.stats();
    MUTATING.iter().map(|k| stats.calls(k)).sum()
}

fn ok(sim: &SimHandle, key: &str) -> u64 {
    sim.stats().outcome(&format!("{key}:ok"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_once_then_reconciling_then_ready_with_status_from_aws() {
    let env = Env::new("x-create", XSVC).await;
    let _runway = env.runway();
    env.cluster.apply(&env.ns, &manifest("web"));

    let progressing = env.wait_for("web", "Reconciling=True after create", false, |o| {
        is_true(o, "Reconciling") && o["status"]["serviceArn"].is_string()
    });
    assert_eq!(
        condition(&progressing, "Ready").map(|c| c.0),
        Some("False".into())
    );
    assert_eq!(ok(&env.sim, "ecs:CreateExpressGatewayService"), 1);

    let ready = env.wait_ready("web");
    let status = &ready["status"];
    assert!(
        status["targetConfiguration"]["serviceRevisionArn"]
            .as_str()
            .is_some_and(|a| a.contains(":service-revision/"))
    );
    assert!(
        status["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with(".on.aws")),
        "{status}"
    );
    assert_eq!(status["statusCode"], "ACTIVE");
    assert_eq!(status["deploymentStatus"], "SUCCESSFUL");
    assert!(status["lastAppliedHash"].as_str().is_some_and(|h| h.len() == 64));
    assert_eq!(condition(&ready, "Stalled").map(|c| c.0), Some("False".into()));
    assert_eq!(
        condition(&ready, "Reconciling").map(|c| c.0),
        Some("False".into())
    );
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 1);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 0);
    // Secret references are kept in status; there are no secret values to leak.
    assert_eq!(
        status["targetConfiguration"]["primaryContainer"]["secrets"][0]["valueFrom"],
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"
    );
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"Created".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_change_sends_one_update_and_noops_or_restarts_send_none() {
    let env = Env::new("x-update", XSVC).await;
    let mut runway = env.runway_with(short_resync());
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("web");

    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("web", "Ready for generation 2", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.28"
    });
    assert_eq!(ready["status"]["observedGeneration"], 2);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 1);

    // Same spec again, then the env vars reordered (a new generation with the same meaning).
    let before = mutating_calls(&env.sim);
    env.cluster.apply(&env.ns, &m);
    m["spec"]["primaryContainer"]["environment"] = json!([
        {"name": "C", "value": "3"}, {"name": "A", "value": "1"}, {"name": "B", "value": "2"}
    ]);
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "generation 3 observed", false, |o| {
        o["status"]["observedGeneration"] == 3 && is_true(o, "Ready")
    });

    // Restart the controller; it re-reads everything from AWS.
    runway.kill();
    let describes = env.sim.stats().calls("ecs:DescribeExpressGatewayService");
    let _runway = env.runway_with(short_resync());
    eventually(WAIT, "the restarted controller to describe the service", || {
        (env.sim.stats().calls("ecs:DescribeExpressGatewayService") > describes).then_some(())
    });
    // Two full resync periods.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        mutating_calls(&env.sim),
        before,
        "no mutating call after no-op changes or a restart"
    );
    assert!(is_true(&env.get("web").expect("object"), "Ready"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_during_a_rollout_waits_and_is_applied_once_after_it() {
    let env = Env::new("x-inflight", XSVC).await;
    let runway = env.runway_with(short_resync());
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "the first rollout in progress", false, |o| {
        o["status"]["deploymentStatus"] == "IN_PROGRESS"
    });

    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let waiting = env.wait_for("web", "the update to wait for the rollout", false, |o| {
        o["status"]["observedGeneration"] == 2
    });
    let (status, reason, message) = condition(&waiting, "Reconciling").expect("Reconciling");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "RolloutInProgress"),
        "{message}"
    );
    assert!(message.contains("waits"), "{message}");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateExpressGatewayService"),
        0,
        "{}",
        runway.log_tail()
    );

    let ready = env.wait_for("web", "Ready with the new image", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.28"
    });
    assert_eq!(ready["status"]["deploymentStatus"], "SUCCESSFUL");
    let stats = env.sim.stats();
    assert_eq!(stats.calls("ecs:UpdateExpressGatewayService"), 1);
    let errors: u64 = stats
        .outcomes
        .iter()
        .filter(|(k, _)| !k.ends_with(":ok"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(errors, 0, "no AWS errors: {:?}", stats.outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_rollback_stalls_with_the_reason() {
    let env = Env::new("x-rollback", XSVC).await;
    let _runway = env.runway();
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("web");

    env.sim
        .inject(&Injection {
            service: InjectService::Ecs,
            name: "web".into(),
            kind: InjectKind::Rollback,
        })
        .expect("inject");
    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:broken");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("web", "Stalled=True", true, |o| is_true(o, "Stalled"));
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "RolledBack");
    assert!(message.contains("ROLLBACK_SUCCESSFUL"), "{message}");
    assert_eq!(condition(&stalled, "Ready").map(|c| c.0), Some("False".into()));
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"RolledBack".to_string())
    );

    // The rolled-back spec is not retried.
    let updates = env.sim.stats().calls("ecs:UpdateExpressGatewayService");
    env.sim.advance(120.0);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), updates);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_parameter_stalls_with_aws_message_and_no_hot_loop() {
    let env = Env::new("x-invalid", XSVC).await;
    let _runway = env.runway();
    let mut m = manifest("web");
    // Valid for the schema, refused by ECS: the role is in another account.
    m["spec"]["executionRoleArn"] = json!("arn:aws:iam::999999999999:role/elsewhere");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("web", "Stalled=True", false, |o| is_true(o, "Stalled"));
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "AwsRejectedSpec");
    assert!(
        message.contains("InvalidParameterException") && message.contains("999999999999"),
        "{message}"
    );

    // How the rejection is retried (slowly, with backoff, and once on the annotation) is covered
    // by express_aws_e2e.rs with a short resync.

    // A fixed spec goes through.
    m["spec"]["executionRoleArn"] = json!("arn:aws:iam::123456789012:role/ecsTaskExecutionRole");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("web");
    assert_eq!(ok(&env.sim, "ecs:CreateExpressGatewayService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_throttling_converges_without_duplicate_services() {
    let env = Env::new("x-throttle", XSVC).await;
    env.sim
        .set_faults(FaultConfig {
            throttle_rate: 0.3,
            ..FaultConfig::default()
        })
        .expect("faults");
    let _runway = env.runway_with(Options {
        args: vec!["--max-concurrent-reconciles".into(), "3".into()],
        ..Options::default()
    });
    for name in ["a", "b", "c"] {
        env.cluster.apply(&env.ns, &manifest(name));
    }
    for name in ["a", "b", "c"] {
        eventually(
            Duration::from_secs(150),
            &format!("{name} Ready under throttling"),
            || {
                env.sim.advance(61.0);
                env.get(name).filter(|o| is_true(o, "Ready"))
            },
        );
    }
    let stats = env.sim.stats();
    let throttled: u64 = stats
        .outcomes
        .iter()
        .filter(|(k, _)| k.ends_with(":ThrottlingException"))
        .map(|(_, n)| n)
        .sum();
    assert!(throttled > 0, "throttling happened: {:?}", stats.outcomes);
    assert_eq!(
        stats.outcome("ecs:CreateExpressGatewayService:ok"),
        3,
        "{:?}",
        stats.outcomes
    );
    assert_eq!(
        stats.outcome("ecs:CreateExpressGatewayService:InvalidParameterException"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_create_and_status_write_never_creates_a_second_service() {
    let env = Env::new("x-crash", XSVC).await;
    env.sim.reset_stats();
    let mut crashing = env.runway_with(Options {
        env: vec![("RUNWAY_FAILPOINT".into(), "exit-after-create".into())],
        ..Options::default()
    });
    env.cluster.apply(&env.ns, &manifest("web"));
    let code = crashing.wait_exit(WAIT);
    assert_eq!(
        code,
        Some(86),
        "the failpoint ended the process: {}",
        crashing.log_tail()
    );
    assert_eq!(ok(&env.sim, "ecs:CreateExpressGatewayService"), 1);
    let obj = env.get("web").expect("object");
    assert!(
        obj["status"]["serviceArn"].is_null(),
        "status was not written: {}",
        obj["status"]
    );

    let _runway = env.runway_with(short_resync());
    let ready = env.wait_ready("web");
    assert!(
        ready["status"]["serviceArn"]
            .as_str()
            .is_some_and(|a| a.ends_with("/web"))
    );
    // Two full resync periods: the service found by its owner tag already runs the spec, so runway
    // records it without an update (which would start a needless deployment).
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        env.sim.stats().calls("ecs:CreateExpressGatewayService"),
        1,
        "still exactly one create"
    );
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateExpressGatewayService"),
        0,
        "no update for a service that already matches"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploy_token_forces_exactly_one_new_deployment() {
    let env = Env::new("x-redeploy", XSVC).await;
    let _runway = env.runway();
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let first = env.wait_ready("web");
    let first_deployment = first["status"]["currentDeployment"].clone();

    m["spec"]["redeployToken"] = json!("2026-11-22T10:00");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("web", "Ready after the redeploy", true, |o| {
        is_true(o, "Ready") && o["status"]["lastRedeployToken"] == "2026-11-22T10:00"
    });
    assert_ne!(
        ready["status"]["currentDeployment"], first_deployment,
        "a new deployment ran"
    );
    assert_eq!(env.sim.stats().calls("ecs:UpdateService"), 1);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 0);
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"Redeployed".to_string())
    );

    // Unchanged token: nothing more.
    env.cluster.apply(&env.ns, &m);
    env.cluster.kubectl_ok(
        &[
            "annotate",
            XSVC,
            "web",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=now",
        ],
        None,
    );
    env.wait_for("web", "the annotation echoed", false, |o| {
        o["status"]["reconcileRequestedAt"] == "now"
    });
    assert_eq!(env.sim.stats().calls("ecs:UpdateService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paused_annotation_sends_nothing_until_removed() {
    let env = Env::new("x-paused", XSVC).await;
    let _runway = env.runway_with(short_resync());
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("web");

    env.cluster.kubectl_ok(
        &["annotate", XSVC, "web", "-n", &env.ns, "runway.dev/paused=true"],
        None,
    );
    env.sim.reset_stats();
    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    m["metadata"]["annotations"] = json!({"runway.dev/paused": "true"});
    env.cluster.apply(&env.ns, &m);
    env.sim.advance(600.0);
    std::thread::sleep(Duration::from_secs(8));
    let total: u64 = env.sim.stats().calls.values().sum();
    assert_eq!(total, 0, "paused: {:?}", env.sim.stats().calls);

    env.cluster.kubectl_ok(
        &["annotate", XSVC, "web", "-n", &env.ns, "runway.dev/paused-"],
        None,
    );
    env.wait_for("web", "the update after unpausing", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.28"
    });
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_by_service_arn_never_creates_and_retains_on_delete() {
    let env = Env::new("x-adopt", XSVC).await;
    let ecs = runway_sim::client::ecs_client(&env.sim.endpoint());
    let created = ecs
        .create_express_gateway_service()
        .service_name("legacy")
        .infrastructure_role_arn("arn:aws:iam::123456789012:role/ecsInfrastructureRole")
        .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
        .primary_container(
            aws_sdk_ecs::types::ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.26")
                .build()
                .expect("container"),
        )
        .send()
        .await
        .expect("create outside runway");
    let arn = created
        .service()
        .and_then(|s| s.service_arn())
        .expect("arn")
        .to_string();
    env.sim.advance(61.0);
    env.sim.reset_stats();

    let _runway = env.runway();
    env.cluster.apply(
        &env.ns,
        &json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {"name": "legacy"},
            "spec": {"serviceArn": arn, "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27"}}
        }),
    );
    let ready = env.wait_for("legacy", "the adopted service Ready", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.27"
    });
    assert_eq!(ready["status"]["serviceArn"], arn);
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 0);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);

    env.cluster
        .kubectl_ok(&["delete", XSVC, "legacy", "-n", &env.ns, "--timeout=60s"], None);
    assert_eq!(
        env.sim.stats().calls("ecs:DeleteExpressGatewayService"),
        0,
        "adopted services are retained"
    );
    let still = ecs
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        still
            .service()
            .and_then(|s| s.status())
            .and_then(|s| s.status_code())
            .map(|c| c.as_str()),
        Some("ACTIVE")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_sends_one_delete_and_releases_the_finalizer_and_retain_sends_none() {
    let env = Env::new("x-delete", XSVC).await;
    let _runway = env.runway();
    env.cluster.apply(&env.ns, &manifest("gone"));
    let mut kept = manifest("kept");
    kept["spec"]["deletionPolicy"] = json!("Retain");
    env.cluster.apply(&env.ns, &kept);
    let ready = env.wait_ready("gone");
    assert!(
        ready["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("runway.dev/cleanup")))
    );
    env.wait_ready("kept");

    env.cluster.kubectl_ok(
        &["delete", XSVC, "gone", "kept", "-n", &env.ns, "--wait=false"],
        None,
    );
    eventually(Duration::from_secs(90), "both objects gone", || {
        env.sim.advance(61.0);
        (env.get("gone").is_none() && env.get("kept").is_none()).then_some(())
    });
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:DeleteExpressGatewayService"),
        1,
        "{:?}",
        stats.calls
    );
    let ecs = runway_sim::client::ecs_client(&env.sim.endpoint());
    let kept_arn = "arn:aws:ecs:us-east-1:123456789012:service/default/kept";
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(kept_arn)
        .send()
        .await;
    assert!(described.is_ok(), "the retained service still exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_outside_runway_is_reported_and_corrected_with_one_update() {
    let env = Env::new("x-drift", XSVC).await;
    let _runway = env.runway();
    env.cluster.apply(&env.ns, &manifest("web"));
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    // Someone changes the image with the AWS API directly.
    let ecs = runway_sim::client::ecs_client(&env.sim.endpoint());
    ecs.update_express_gateway_service()
        .service_arn(&arn)
        .primary_container(
            aws_sdk_ecs::types::ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:hotfix")
                .build()
                .expect("container"),
        )
        .send()
        .await
        .expect("outside update");
    env.sim.advance(61.0);
    let updates = env.sim.stats().calls("ecs:UpdateExpressGatewayService");

    // A resync (requested now instead of waiting 10 minutes) finds and corrects the drift.
    env.cluster.kubectl_ok(
        &[
            "annotate",
            XSVC,
            "web",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=drift-check",
        ],
        None,
    );
    let fixed = env.wait_for("web", "drift corrected", true, |o| {
        o["status"]["reconcileRequestedAt"] == "drift-check"
            && is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.27"
    });
    assert_eq!(fixed["status"]["deploymentStatus"], "SUCCESSFUL");
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateExpressGatewayService"),
        updates + 1
    );
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"DriftCorrected".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_owned_by_another_resource_is_never_adopted_updated_or_deleted() {
    let env = Env::new("x-steal", XSVC).await;
    let _runway = env.runway_with(short_resync());
    env.cluster.apply(&env.ns, &manifest("owner"));
    let owned = env.wait_ready("owner");
    let arn = owned["status"]["serviceArn"].as_str().expect("arn").to_string();
    env.sim.reset_stats();

    // Another resource names the owner's service by ARN, and asks for it to be deleted with it.
    env.cluster.apply(
        &env.ns,
        &json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {"name": "thief"},
            "spec": {
                "serviceArn": arn,
                "deletionPolicy": "Delete",
                "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.99"}
            }
        }),
    );
    let stalled = env.wait_for("thief", "Stalled: the service has another owner", true, |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "ServiceOwnedByAnother");
    assert!(message.contains(&format!("{}/owner", env.ns)), "{message}");
    assert!(stalled["status"]["serviceArn"].is_null(), "{stalled}");
    // Two resync periods: nothing was sent to the owner's service.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);

    // Deleting the thief releases it without touching the service.
    env.cluster
        .kubectl_ok(&["delete", XSVC, "thief", "-n", &env.ns, "--timeout=60s"], None);
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);
    let owner = env.get("owner").expect("owner");
    assert!(is_true(&owner, "Ready"), "{owner}");
    assert_eq!(owner["status"]["statusCode"], "ACTIVE");
}

/// The owner tag of the service `arn`, as ECS reports it.
async fn owner_tag(env: &Env, arn: &str) -> Option<String> {
    support::controller::owner_tag(&runway_sim::client::ecs_client(&env.sim.endpoint()), arn).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retained_service_loses_its_owner_tag_and_is_never_taken_over_by_name() {
    let env = Env::new("x-retain", XSVC).await;
    let _runway = env.runway_with(short_resync());
    let mut kept = manifest("kept");
    kept["spec"]["deletionPolicy"] = json!("Retain");
    env.cluster.apply(&env.ns, &kept);
    let ready = env.wait_ready("kept");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();
    let tag = owner_tag(&env, &arn).await.expect("owner tag");
    assert!(tag.starts_with(&format!("{}/kept@", env.ns)), "{tag}");

    env.cluster
        .kubectl_ok(&["delete", XSVC, "kept", "-n", &env.ns, "--timeout=60s"], None);
    assert_eq!(owner_tag(&env, &arn).await, None, "ownership released");

    // A new resource of the same name finds a service that is not its own: it stalls instead of
    // taking it over (and with deletionPolicy Delete by default, deleting it later).
    env.sim.reset_stats();
    env.cluster.apply(&env.ns, &manifest("kept"));
    let stalled = env.wait_for("kept", "Stalled: the name is in use", true, |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, _) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "ServiceNameInUse");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_another_cluster_created_is_never_claimed_by_name() {
    let env = Env::new("x-clusters", XSVC).await;
    // Cluster A creates the service and crashes before it records it.
    let mut crashing = env.runway_with(Options {
        env: vec![("RUNWAY_FAILPOINT".into(), "exit-after-create".into())],
        args: vec!["--cluster-id".into(), "cluster-a".into()],
        ..Options::default()
    });
    env.cluster.apply(&env.ns, &manifest("web"));
    assert_eq!(crashing.wait_exit(WAIT), Some(86), "{}", crashing.log_tail());
    env.sim.reset_stats();

    // Cluster B, sharing the account, has a resource of the same namespace and name.
    let _b = env.runway_with(Options {
        args: vec![
            "--cluster-id".into(),
            "cluster-b".into(),
            "--resync-seconds".into(),
            "3".into(),
        ],
        ..Options::default()
    });
    let stalled = env.wait_for("web", "Stalled: another cluster's service", true, |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "ServiceNameInUse");
    assert!(message.contains("in cluster cluster-a"), "{message}");
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);
}

/// Applies a spec ECS rejects and returns the controller's log once the resource is Stalled.
async fn log_of_a_rejected_spec(prefix: &str, format: &str) -> (String, String) {
    let env = Env::new(prefix, XSVC).await;
    let runway = env.runway_with(Options {
        env: vec![("RUNWAY_LOG_FORMAT".into(), format.into())],
        ..Options::default()
    });
    let mut m = manifest("web");
    m["spec"]["executionRoleArn"] = json!("arn:aws:iam::999999999999:role/elsewhere");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "Stalled=True", false, |o| is_true(o, "Stalled"));
    let log = eventually(WAIT, "the WARN line", || {
        let log = runway.log_text();
        log.contains("resource stalled").then_some(log)
    });
    (env.ns.clone(), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_spec_logs_one_warn_line_in_text_and_in_json() {
    let (ns, text) = log_of_a_rejected_spec("x-logtext", "text").await;
    let line = text
        .lines()
        .find(|l| l.contains("resource stalled"))
        .expect("a WARN line");
    for part in [
        "WARN",
        "kind=\"ExpressService\"",
        &format!("namespace=\"{ns}\""),
        "name=\"web\"",
        "step=\"AwsRejectedSpec\"",
        "InvalidParameterException",
        "(request ID ",
        "Stalled; retried at the resync interval",
    ] {
        assert!(strip_ansi(line).contains(part), "{part} missing from {line}");
    }
    assert_eq!(
        text.matches("resource stalled").count(),
        1,
        "one line, not one per retry: {text}"
    );

    let (ns, json_log) = log_of_a_rejected_spec("x-logjson", "json").await;
    let line = json_log
        .lines()
        .find(|l| l.contains("resource stalled"))
        .expect("a JSON WARN line");
    let v: Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(v["level"], "WARN", "{v}");
    assert_eq!(v["fields"]["kind"], "ExpressService", "{v}");
    assert_eq!(v["fields"]["namespace"], ns.as_str(), "{v}");
    assert_eq!(v["fields"]["name"], "web", "{v}");
    assert_eq!(v["fields"]["step"], "AwsRejectedSpec", "{v}");
    assert!(
        v["fields"]["detail"]
            .as_str()
            .is_some_and(|m| m.contains("InvalidParameterException") && m.contains("(request ID ")),
        "{v}"
    );
}

/// The text without terminal colour codes.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The ARN of the load balancer ECS manages for `revision`, as the simulator reports it through
/// DescribeServiceRevisions.
async fn sim_load_balancer(env: &Env, revision: &str) -> String {
    let ecs = runway_sim::client::ecs_client(&env.sim.endpoint());
    let out = ecs
        .describe_service_revisions()
        .service_revision_arns(revision)
        .send()
        .await
        .expect("DescribeServiceRevisions");
    let managed = out.service_revisions()[0]
        .ecs_managed_resources()
        .expect("managed");
    let lb = managed.ingress_paths()[0].load_balancer().expect("load balancer");
    lb.arn().expect("arn").to_string()
}

/// The entry of `kind` in `status.managedResources`.
fn managed_entry<'a>(status: &'a Value, kind: &str) -> &'a Value {
    status["managedResources"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["type"] == kind))
        .unwrap_or_else(|| panic!("no {kind} in managedResources: {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_service_shows_the_resources_ecs_manages_and_reads_them_only_for_a_new_revision() {
    let env = Env::new("x-managed", XSVC).await;
    let mut runway = env.runway_with(short_resync());
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    let status = &ready["status"];
    let revision = status["targetConfiguration"]["serviceRevisionArn"]
        .as_str()
        .expect("revision")
        .to_string();
    assert_eq!(status["managedResourcesRevision"], revision.as_str());
    let lb = managed_entry(status, "LoadBalancer");
    assert_eq!(lb["arn"], sim_load_balancer(&env, &revision).await.as_str());
    assert_eq!(lb["status"], "ACTIVE");
    let resources = status["managedResources"].as_array().expect("list");
    assert!(
        resources
            .iter()
            .all(|r| r["status"] == "ACTIVE" && r.get("statusReason").is_none()),
        "{status}"
    );
    let target_group = managed_entry(status, "TargetGroup")["arn"].clone();

    // Steady state, and a restart: the revision did not change, so it is not read again, over two
    // resync periods each.
    env.sim.reset_stats();
    std::thread::sleep(Duration::from_secs(8));
    runway.kill();
    runway = env.runway_with(short_resync());
    std::thread::sleep(Duration::from_secs(8));
    let stats = env.sim.stats();
    assert!(
        stats.calls("ecs:DescribeExpressGatewayService") >= 4,
        "{:?}",
        stats.calls
    );
    assert_eq!(
        stats.calls("ecs:DescribeServiceRevisions"),
        0,
        "{:?}\n{}",
        stats.calls,
        runway.log_tail()
    );

    // A new revision is read, and its own target group replaces the old one.
    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let updated = env.wait_for("web", "Ready with the new revision", true, |o| {
        is_true(o, "Ready")
            && o["status"]["managedResourcesRevision"] != revision.as_str()
            && o["status"]["managedResourcesRevision"]
                == o["status"]["targetConfiguration"]["serviceRevisionArn"]
    });
    let status = &updated["status"];
    assert!(env.sim.stats().calls("ecs:DescribeServiceRevisions") >= 1);
    assert_eq!(managed_entry(status, "LoadBalancer")["arn"], lb["arn"]);
    assert_ne!(managed_entry(status, "TargetGroup")["arn"], target_group);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_load_balancer_shows_its_reason_in_the_conditions_until_a_new_revision_fixes_it() {
    let env = Env::new("x-managed-failed", XSVC).await;
    let _runway = env.runway_with(short_resync());
    env.sim
        .inject(&Injection {
            service: InjectService::Ecs,
            name: "web".into(),
            kind: InjectKind::LoadBalancerFailed,
        })
        .expect("inject");
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let rolling = env.wait_for("web", "Reconciling with the failure", false, |o| {
        is_true(o, "Reconciling")
            && condition(o, "Reconciling").is_some_and(|c| c.2.contains("TooManyLoadBalancers"))
    });
    let (_, _, message) = condition(&rolling, "Reconciling").expect("Reconciling");
    assert!(
        message.contains("ECS-managed LoadBalancer arn:aws:elasticloadbalancing:"),
        "{message}"
    );

    // The deployment succeeds, but a service whose load balancer failed does not serve.
    let stalled = env.wait_for("web", "Stalled=True", true, |o| is_true(o, "Stalled"));
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "ManagedResourceFailed");
    assert!(
        message.contains("FAILED: Amazon ECS could not create"),
        "{message}"
    );
    assert_eq!(condition(&stalled, "Ready").map(|c| c.0), Some("False".into()));
    assert_eq!(stalled["status"]["deploymentStatus"], "SUCCESSFUL");
    let lb = managed_entry(&stalled["status"], "LoadBalancer");
    assert_eq!(lb["status"], "FAILED");
    assert!(
        lb["statusReason"]
            .as_str()
            .is_some_and(|r| r.contains("TooManyLoadBalancers"))
    );
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"ManagedResourceFailed".to_string())
    );

    // A new revision without the failure is Ready.
    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("web", "Ready after a new revision", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.28"
    });
    assert_eq!(
        managed_entry(&ready["status"], "LoadBalancer")["status"],
        "ACTIVE"
    );
}
