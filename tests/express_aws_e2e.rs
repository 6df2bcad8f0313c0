//! ExpressService end to end against the behaviours real AWS accounts show (the catalog in
//! `docs/aws-behaviour.md`), which the simulator reproduces by default: the ECS-managed security
//! group, the real "not found" spellings, `currentDeployment` missing after a create and lagging
//! after an update, IAM propagation, merge semantics of updates. Every controller here runs with a
//! short resync, and every "nothing was sent again" check spans at least two resync periods.

mod support;

use std::time::Duration;

use runway_sim::SimHandle;
use serde_json::{Value, json};
use support::controller::{Env, Options, Runway, condition, eventually, is_true, two_resyncs};

const XSVC: &str = "expressservice";
/// The resync period of every controller in this file.
const RESYNC_SECONDS: u64 = 3;
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
            "cpu": "512",
            "memory": "1024",
            "primaryContainer": {
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "containerPort": 8080,
                "environment": [{"name": "A", "value": "1"}]
            },
            "networkConfiguration": {
                "subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                "securityGroups": ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"]
            }
        }
    })
}

fn runway(env: &Env) -> Runway {
    env.runway_with(Options {
        args: vec!["--resync-seconds".into(), RESYNC_SECONDS.to_string()],
        ..Options::default()
    })
}

fn mutating_calls(sim: &SimHandle) -> u64 {
    let stats = sim.stats();
    MUTATING.iter().map(|k| stats.calls(k)).sum()
}

/// Asserts over `seconds` of real time (simulated time not advanced) that the object is never
/// Ready for its current generation.
fn never_ready_for(env: &Env, name: &str, seconds: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..(seconds * 4) {
        let obj = env.get(name).expect("object");
        assert!(
            !is_true(&obj, "Ready"),
            "Ready before the rollout finished: {}",
            obj["status"]
        );
        last = obj;
        std::thread::sleep(Duration::from_millis(250));
    }
    last
}

fn ecs(env: &Env) -> aws_sdk_ecs::Client {
    runway_sim::client::ecs_client(&env.sim.endpoint())
}

async fn described(env: &Env, arn: &str) -> aws_sdk_ecs::types::EcsExpressGatewayService {
    ecs(env)
        .describe_express_gateway_service()
        .service_arn(arn)
        .send()
        .await
        .expect("describe")
        .service()
        .expect("service")
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ecs_managed_security_group_is_never_drift_and_a_removed_group_is_removed() {
    let env = Env::new("xa-sg", XSVC).await;
    let _runway = runway(&env);
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    let groups = ready["status"]["targetConfiguration"]["networkConfiguration"]["securityGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        groups.len(),
        3,
        "AWS reports its managed group next to the two of the spec: {groups:?}"
    );

    // Steady state with the managed group present: nothing is sent over two resyncs.
    let before = mutating_calls(&env.sim);
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(mutating_calls(&env.sim), before, "{:?}", env.sim.stats().calls);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 0);

    // A group the user removes from the spec is removed in AWS, with exactly one update.
    m["spec"]["networkConfiguration"]["securityGroups"] = json!(["sg-0aaaaaaaaaaaaaaaa"]);
    env.cluster.apply(&env.ns, &m);
    let updated = env.wait_for("web", "Ready after removing a group", true, |o| {
        is_true(o, "Ready")
            && !o["status"]["targetConfiguration"]["networkConfiguration"]["securityGroups"]
                .as_array()
                .is_some_and(|g| g.contains(&json!("sg-0bbbbbbbbbbbbbbbb")))
    });
    let arn = updated["status"]["serviceArn"].as_str().expect("arn");
    let service = described(&env, arn).await;
    let in_aws: Vec<String> = service
        .active_configurations()
        .last()
        .and_then(|c| c.network_configuration())
        .map(|n| n.security_groups().to_vec())
        .unwrap_or_default();
    assert!(in_aws.contains(&"sg-0aaaaaaaaaaaaaaaa".to_string()), "{in_aws:?}");
    assert!(
        !in_aws.contains(&"sg-0bbbbbbbbbbbbbbbb".to_string()),
        "{in_aws:?}"
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_service_is_not_ready_before_its_first_rollout_is_seen_to_succeed() {
    let env = Env::new("xa-first", XSVC).await;
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    env.wait_for("web", "created", false, |o| o["status"]["serviceArn"].is_string());
    // AWS reports no deployment at first, then a PENDING one; neither is Ready.
    let waiting = never_ready_for(&env, "web", 8);
    assert!(is_true(&waiting, "Reconciling"), "{}", waiting["status"]);
    let ready = env.wait_ready("web");
    assert_eq!(ready["status"]["deploymentStatus"], "SUCCESSFUL");
    assert!(ready["status"]["currentDeployment"].is_string());
    assert!(ready["status"]["awaitedRollout"].is_null(), "{}", ready["status"]);
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_not_ready_until_its_own_deployment_succeeds() {
    let env = Env::new("xa-guard", XSVC).await;
    let _runway = runway(&env);
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let first = env.wait_ready("web");
    let first_deployment = first["status"]["currentDeployment"].clone();

    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "the update sent", false, |o| {
        o["status"]["awaitedRollout"]["cause"] == "Update"
    });
    // The old deployment stays current for a while, and the new one then runs: not Ready.
    never_ready_for(&env, "web", 6);
    let ready = env.wait_ready("web");
    assert_ne!(ready["status"]["currentDeployment"], first_deployment);
    assert_eq!(ready["status"]["deploymentStatus"], "SUCCESSFUL");
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);

    // A forced redeployment has the same guard.
    m["spec"]["redeployToken"] = json!("r1");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "the redeploy sent", false, |o| {
        o["status"]["awaitedRollout"]["cause"] == "Redeploy"
    });
    let redeploying = never_ready_for(&env, "web", 4);
    let (_, reason, _) = condition(&redeploying, "Reconciling").expect("Reconciling");
    assert!(
        ["Redeploying", "RolloutPending", "RolloutInProgress"].contains(&reason.as_str()),
        "{reason}"
    );
    let after = env.wait_ready("web");
    assert_ne!(
        after["status"]["currentDeployment"],
        ready["status"]["currentDeployment"]
    );
    assert_eq!(env.sim.stats().calls("ecs:UpdateService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_change_and_a_new_redeploy_token_in_one_edit_cost_one_deployment() {
    let env = Env::new("xa-onecall", XSVC).await;
    let _runway = runway(&env);
    let mut m = manifest("web");
    m["spec"]["redeployToken"] = json!("1");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("web");

    m["spec"]["redeployToken"] = json!("2");
    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("web", "Ready after the edit", true, |o| {
        is_true(o, "Ready") && o["status"]["lastRedeployToken"] == "2"
    });
    assert_eq!(
        ready["status"]["targetConfiguration"]["primaryContainer"]["image"],
        "public.ecr.aws/nginx/nginx:1.28"
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateService"),
        0,
        "no second deployment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_status_is_rebuilt_from_aws_without_an_update() {
    let env = Env::new("xa-lost", XSVC).await;
    let mut first = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].clone();
    first.kill();

    // A backup restore or a cluster move: the object comes back without its status.
    env.cluster.kubectl_ok(
        &[
            "patch",
            XSVC,
            "web",
            "-n",
            &env.ns,
            "--subresource=status",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/status"}]"#,
        ],
        None,
    );
    assert!(env.get("web").expect("object")["status"].is_null());
    env.sim.reset_stats();
    let _second = runway(&env);
    let again = env.wait_ready("web");
    assert_eq!(again["status"]["serviceArn"], arn);
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_last_environment_variable_clears_it_in_aws_once() {
    let env = Env::new("xa-clear", XSVC).await;
    let _runway = runway(&env);
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    m["spec"]["primaryContainer"]
        .as_object_mut()
        .expect("container")
        .remove("environment");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "Ready without the variable", true, |o| {
        is_true(o, "Ready") && o["status"]["targetConfiguration"]["primaryContainer"]["environment"].is_null()
    });
    let service = described(&env, &arn).await;
    let env_in_aws = service
        .active_configurations()
        .last()
        .and_then(|c| c.primary_container())
        .map(|c| c.environment().len());
    assert_eq!(env_in_aws, Some(0), "the variable is gone in AWS");
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_only_the_names_of_environment_variables_set_outside_the_spec() {
    let env = Env::new("xa-leak", XSVC).await;
    let _runway = runway(&env);
    let mut m = manifest("web");
    m["spec"]["primaryContainer"]
        .as_object_mut()
        .expect("container")
        .remove("environment");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    // Someone sets a credential in the console; the spec does not manage the environment.
    ecs(&env)
        .update_express_gateway_service()
        .service_arn(&arn)
        .primary_container(
            aws_sdk_ecs::types::ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.27")
                .environment(
                    aws_sdk_ecs::types::KeyValuePair::builder()
                        .name("CONSOLE_TOKEN")
                        .value("hunter2")
                        .build(),
                )
                .build()
                .expect("container"),
        )
        .send()
        .await
        .expect("console update");
    let shown = env.wait_for("web", "the console variable in status", true, |o| {
        o["status"]["targetConfiguration"]["primaryContainer"]["environment"]
            .as_array()
            .is_some_and(|e| e.iter().any(|kv| kv["name"] == "CONSOLE_TOKEN"))
    });
    assert!(
        !shown["status"].to_string().contains("hunter2"),
        "the value leaked: {}",
        shown["status"]
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateExpressGatewayService"),
        1,
        "only the console's update: the environment belongs to whoever set it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_deleted_outside_runway_under_the_real_codes_is_created_again_once() {
    let env = Env::new("xa-gone", XSVC).await;
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    ecs(&env)
        .delete_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .expect("outside delete");
    // DRAINING, then INACTIVE (ServiceNotActiveException), then gone (InvalidParameterException).
    env.wait_for("web", "Ready again after the outside delete", true, |o| {
        is_true(o, "Ready") && o["status"]["statusCode"] == "ACTIVE"
    });
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_releases_the_finalizer_when_aws_answers_with_its_real_not_found_codes() {
    let env = Env::new("xa-delete", XSVC).await;
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    env.cluster
        .kubectl_ok(&["delete", XSVC, "web", "-n", &env.ns, "--wait=false"], None);
    eventually(Duration::from_secs(90), "the object gone", || {
        env.sim.advance(61.0);
        env.get("web").is_none().then_some(())
    });
    assert_eq!(env.sim.stats().calls("ecs:DeleteExpressGatewayService"), 1);
    let gone = ecs(&env)
        .describe_express_gateway_service()
        .service_arn(&arn)
        .send()
        .await
        .expect_err("the service is gone");
    let code = aws_sdk_ecs::error::ProvideErrorMetadata::code(&gone).map(str::to_string);
    assert!(
        matches!(
            code.as_deref(),
            Some("InvalidParameterException" | "ServiceNotActiveException")
        ),
        "{code:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_describe_turns_ready_false_with_aws_code_and_recovers() {
    let env = Env::new("xa-fail", XSVC).await;
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    env.wait_ready("web");

    env.sim
        .set_faults(runway_sim::FaultConfig {
            server_error_rate: 1.0,
            ..runway_sim::FaultConfig::default()
        })
        .expect("faults");
    let failing = env.wait_for("web", "Ready=False with the AWS error", false, |o| {
        condition(o, "Ready").is_some_and(|(s, _, _)| s == "False")
    });
    let (status, reason, message) = condition(&failing, "Reconciling").expect("Reconciling");
    assert_eq!(status, "True");
    assert_eq!(reason, "AwsUnavailable");
    assert!(
        message.contains("ServerException") || message.contains("InternalServiceErrorException"),
        "{message}"
    );
    // Still retried with backoff, never parked: it recovers on its own once AWS answers again.
    env.sim
        .set_faults(runway_sim::FaultConfig::default())
        .expect("faults");
    env.wait_ready("web");
    assert_eq!(mutating_calls(&env.sim), 1, "{:?}", env.sim.stats().calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_spec_is_retried_slowly_on_its_own_and_once_on_the_annotation() {
    let env = Env::new("xa-retry", XSVC).await;
    let _runway = runway(&env);
    let mut m = manifest("web");
    // Valid for the schema, refused by ECS: the role is in another account.
    m["spec"]["executionRoleArn"] = json!("arn:aws:iam::999999999999:role/elsewhere");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("web", "Stalled", false, |o| is_true(o, "Stalled"));
    assert_eq!(
        condition(&stalled, "Stalled").map(|c| c.1),
        Some("AwsRejectedSpec".into())
    );
    let creates = || env.sim.stats().calls("ecs:CreateExpressGatewayService");
    assert_eq!(creates(), 1);

    // On its own: after one resync, then after two more (backoff doubles): 2 or 3 tries in 12 s,
    // never a hot loop.
    std::thread::sleep(Duration::from_secs(4 * RESYNC_SECONDS));
    let on_its_own = creates();
    assert!((2..=3).contains(&on_its_own), "{on_its_own} creates");

    // The annotation asks for exactly one more try, at once.
    env.cluster.kubectl_ok(
        &[
            "annotate",
            XSVC,
            "web",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=retry-now",
        ],
        None,
    );
    env.wait_for("web", "the annotation handled", false, |o| {
        o["status"]["failedRequestedAt"] == "retry-now"
    });
    assert!(creates() > on_its_own, "the annotation retried");
    let stalled = env.get("web").expect("object");
    assert!(is_true(&stalled, "Stalled"), "{}", stalled["status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_default_region_never_duplicates_or_orphans_an_existing_service() {
    let env = Env::new("xa-region", XSVC).await;
    let mut first = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    let ready = env.wait_ready("web");
    assert_eq!(ready["status"]["region"], "us-east-1");
    first.kill();

    // The controller is redeployed with another default Region.
    let in_region = |region: &str| Options {
        args: vec!["--resync-seconds".into(), RESYNC_SECONDS.to_string()],
        env: vec![("AWS_REGION".into(), region.into())],
        ..Options::default()
    };
    env.sim.reset_stats();
    let _second = env.runway_with(in_region("eu-west-1"));
    env.cluster.kubectl_ok(
        &[
            "annotate",
            XSVC,
            "web",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=after-move",
        ],
        None,
    );
    let still = env.wait_for("web", "reconciled by the moved controller", true, |o| {
        o["status"]["reconcileRequestedAt"] == "after-move" && is_true(o, "Ready")
    });
    assert_eq!(still["status"]["region"], "us-east-1");
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);

    // Adopting a service of a third Region uses that ARN's Region.
    let west = runway_sim::client::ecs_client_with(
        &env.sim.endpoint(),
        &runway_sim::client::ClientOptions {
            region: "us-west-2".into(),
            max_attempts: 1,
        },
    );
    let created = west
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
        .expect("create in us-west-2");
    let legacy_arn = created
        .service()
        .and_then(|s| s.service_arn())
        .expect("arn")
        .to_string();
    env.cluster.apply(
        &env.ns,
        &json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {"name": "legacy"},
            "spec": {"serviceArn": legacy_arn}
        }),
    );
    let adopted = env.wait_ready("legacy");
    assert_eq!(adopted["status"]["region"], "us-west-2");
    assert_eq!(
        env.sim.stats().calls("ecs:CreateExpressGatewayService"),
        1,
        "only the test's own"
    );

    // Deleting the first resource deletes its service in its own Region and releases it.
    env.cluster
        .kubectl_ok(&["delete", XSVC, "web", "-n", &env.ns, "--wait=false"], None);
    eventually(Duration::from_secs(90), "the object gone", || {
        env.sim.advance(61.0);
        env.get("web").is_none().then_some(())
    });
    assert_eq!(env.sim.stats().calls("ecs:DeleteExpressGatewayService"), 1);
    let east = ecs(&env)
        .describe_express_gateway_service()
        .service_arn(ready["status"]["serviceArn"].as_str().expect("arn"))
        .send()
        .await;
    let status = east.ok().and_then(|o| {
        o.service()
            .and_then(|s| s.status())
            .and_then(|s| s.status_code())
            .map(|c| c.as_str().to_string())
    });
    assert_ne!(
        status.as_deref(),
        Some("ACTIVE"),
        "the us-east-1 service was deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_iam_has_not_propagated_yet_is_retried_until_exactly_one_create_succeeds() {
    let env = Env::new("xa-iam", XSVC).await;
    let role = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
    env.sim.inject_iam_propagation(role, 40.0);
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));

    let waiting = env.wait_for("web", "Reconciling on IAM propagation", false, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "IamPropagation")
    });
    let (_, _, message) = condition(&waiting, "Reconciling").expect("Reconciling");
    assert!(message.contains("Cannot assume role"), "{message}");
    assert!(!is_true(&waiting, "Stalled"));

    // IAM propagates; runway recovers by itself, with no spec edit.
    env.wait_ready("web");
    let stats = env.sim.stats();
    assert_eq!(
        stats.outcome("ecs:CreateExpressGatewayService:ok"),
        1,
        "{:?}",
        stats.outcomes
    );
    assert!(stats.outcome("ecs:CreateExpressGatewayService:AccessDeniedException") >= 1);
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(
        mutating_calls(&env.sim),
        stats.calls("ecs:CreateExpressGatewayService")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_aws_response_times_out_into_a_truthful_condition_and_recovers() {
    let env = Env::new("xa-timeout", XSVC).await;
    let _runway = env.runway_with(Options {
        args: vec![
            "--resync-seconds".into(),
            RESYNC_SECONDS.to_string(),
            "--aws-attempt-timeout-seconds".into(),
            "1".into(),
            "--aws-operation-timeout-seconds".into(),
            "2".into(),
        ],
        ..Options::default()
    });
    env.cluster.apply(&env.ns, &manifest("web"));
    env.wait_ready("web");

    // AWS stops answering in time: every call now takes 5 s.
    env.sim
        .set_faults(runway_sim::FaultConfig {
            latency_ms: 5_000,
            ..runway_sim::FaultConfig::default()
        })
        .expect("faults");
    let started = std::time::Instant::now();
    let failing = env.wait_for("web", "Ready=False after the timeout", false, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "AwsUnavailable")
    });
    let (_, _, message) = condition(&failing, "Reconciling").expect("Reconciling");
    assert!(message.to_ascii_lowercase().contains("timeout"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    env.sim
        .set_faults(runway_sim::FaultConfig::default())
        .expect("faults");
    env.wait_ready("web");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_sdk_gives_up_under_throttling_runways_own_backoff_bounds_the_calls() {
    let env = Env::new("xa-throttle", XSVC).await;
    // Every call throttled: the SDK's three attempts are exhausted on each one.
    env.sim
        .set_faults(runway_sim::FaultConfig {
            throttle_rate: 1.0,
            ..runway_sim::FaultConfig::default()
        })
        .expect("faults");
    // A 30 s resync, so the exponential backoff (not the resync cap) is what bounds the calls.
    let _runway = env.runway_with(Options {
        args: vec!["--resync-seconds".into(), "30".into()],
        ..Options::default()
    });
    env.cluster.apply(&env.ns, &manifest("web"));
    let throttled = env.wait_for("web", "Reconciling/AwsThrottled", false, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "AwsThrottled")
    });
    let (_, _, message) = condition(&throttled, "Reconciling").expect("Reconciling");
    assert!(message.contains("ThrottlingException"), "{message}");
    assert_eq!(condition(&throttled, "Ready").map(|c| c.0), Some("False".into()));

    // Over 20 s, runway's backoff (10 s, then 20 s, with jitter) allows at most three reconciles,
    // each of at most three SDK attempts of its first call: no hot loop.
    let before: u64 = env.sim.stats().calls.values().sum();
    std::thread::sleep(Duration::from_secs(20));
    let during: u64 = env.sim.stats().calls.values().sum::<u64>() - before;
    assert!(
        during <= 3 * 3,
        "{during} calls in 20 s: {:?}",
        env.sim.stats().calls
    );

    env.sim
        .set_faults(runway_sim::FaultConfig::default())
        .expect("faults");
    env.wait_ready("web");
    assert_eq!(env.sim.stats().outcome("ecs:CreateExpressGatewayService:ok"), 1);
}
