//! ExpressService end to end against the ECS behaviours catalogued as E31 to E37 in
//! `docs/aws-behaviour.md`: custom task definitions (the container AWS derives, a family without a
//! revision), a same-named classic ECS service, a deletion that never leaves DRAINING because the
//! infrastructure role went first, load balancers that Express services share, answers from an
//! ECS newer than the SDK, and a read that lags behind a create. Every controller here runs with a short resync, and every "nothing was
//! sent again" check spans at least two resync periods.

mod support;

use std::time::Duration;

use runway_sim::{NewerModel, SimHandle};
use serde_json::{Value, json};
use support::controller::{Env, Options, Runway, condition, eventually, is_true, two_resyncs};

const XSVC: &str = "expressservice";
/// The resync period of every controller in this file.
const RESYNC_SECONDS: u64 = 3;
const INFRA_ROLE: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRole";
const MUTATING: &[&str] = &[
    "ecs:CreateExpressGatewayService",
    "ecs:UpdateExpressGatewayService",
    "ecs:DeleteExpressGatewayService",
    "ecs:UpdateService",
    "ecs:TagResource",
    "ecs:UntagResource",
];

fn manifest(name: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name},
        "spec": {
            "infrastructureRoleArn": INFRA_ROLE,
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "cpu": "512",
            "memory": "1024",
            "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27", "containerPort": 8080},
            "networkConfiguration": {
                "subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
            }
        }
    })
}

/// A service that runs a task definition of its own instead of the managed container.
fn custom_task_definition(name: &str, task_definition: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name},
        "spec": {
            "infrastructureRoleArn": INFRA_ROLE,
            "taskDefinitionArn": task_definition,
            "healthCheckPath": "/health",
            "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 2}
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

fn ecs(env: &Env) -> aws_sdk_ecs::Client {
    runway_sim::client::ecs_client(&env.sim.endpoint())
}

fn stalled_reason(obj: &Value) -> Option<(String, String)> {
    condition(obj, "Stalled")
        .filter(|(s, _, _)| s == "True")
        .map(|(_, reason, message)| (reason, message))
}

/// E31, E32: AWS reports a primaryContainer derived from a customer task definition, no
/// cpuArchitecture, and the revision it resolved for a family named without one. None of it is
/// drift: two resyncs of steady state send no UpdateExpressGatewayService.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_task_definitions_pinned_or_not_are_steady_with_the_container_aws_derives() {
    let env = Env::new("xb-taskdef", XSVC).await;
    let _runway = runway(&env);
    let pinned = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    let family = "arn:aws:ecs:us-east-1:123456789012:task-definition/worker";
    env.cluster
        .apply(&env.ns, &custom_task_definition("pinned", pinned));
    env.cluster
        .apply(&env.ns, &custom_task_definition("latest", family));
    let ready = env.wait_ready("pinned");
    let config = &ready["status"]["targetConfiguration"];
    assert_eq!(config["taskDefinitionArn"], pinned, "{config}");
    assert!(
        config["primaryContainer"]["image"].is_string(),
        "AWS derives the primary container from the task definition: {config}"
    );
    assert!(config["cpuArchitecture"].is_null(), "{config}");
    let latest = env.wait_ready("latest");
    assert_eq!(
        latest["status"]["targetConfiguration"]["taskDefinitionArn"],
        format!("{family}:1"),
        "AWS reports the revision it resolved"
    );

    two_resyncs(&env.sim, RESYNC_SECONDS);
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:UpdateExpressGatewayService"),
        0,
        "{:?}",
        stats.calls
    );
    assert_eq!(stats.calls("ecs:CreateExpressGatewayService"), 2);
    for name in ["pinned", "latest"] {
        assert!(is_true(&env.get(name).expect(name), "Ready"), "{name}");
    }
}

/// E33: a classic ECS service (`resourceManagementType: CUSTOMER`) under the resource's name, or
/// named by `spec.serviceArn`, is never adopted, updated or deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classic_service_of_the_same_name_or_arn_is_never_adopted_updated_or_deleted() {
    let env = Env::new("xb-classic", XSVC).await;
    let classic = ecs(&env)
        .create_service()
        .service_name("web")
        .task_definition("web-classic:3")
        .desired_count(2)
        .send()
        .await
        .expect("CreateService")
        .service()
        .and_then(|s| s.service_arn())
        .expect("arn")
        .to_string();
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    let mut adopt = manifest("adopt");
    adopt["spec"] = json!({"serviceArn": classic, "primaryContainer": {"image": "nginx:1"}});
    env.cluster.apply(&env.ns, &adopt);

    for name in ["web", "adopt"] {
        let stalled = env.wait_for(name, "Stalled ServiceNotExpress", false, |o| {
            stalled_reason(o).is_some_and(|(r, _)| r == "ServiceNotExpress")
        });
        let (_, message) = stalled_reason(&stalled).expect("stalled");
        assert!(message.contains(&classic), "{name}: {message}");
        assert!(message.contains("CUSTOMER"), "{name}: {message}");
        assert!(stalled["status"]["serviceArn"].is_null(), "{}", stalled["status"]);
    }
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", env.sim.stats().calls);

    env.cluster.kubectl_ok(
        &["delete", XSVC, "web", "adopt", "-n", &env.ns, "--timeout=60s"],
        None,
    );
    let stats = env.sim.stats();
    assert_eq!(mutating_calls(&env.sim), 0, "{:?}", stats.calls);
    let described = ecs(&env)
        .describe_services()
        .services(&classic)
        .send()
        .await
        .expect("DescribeServices");
    let service = &described.services()[0];
    assert_eq!(service.status(), Some("ACTIVE"));
    assert_eq!(service.desired_count(), 2, "the classic service was left alone");
}

/// E34: ECS keeps a deleted service DRAINING while its infrastructure role is unusable (its policy
/// was deleted first). runway keeps the finalizer, says after two resyncs that the deletion is stuck
/// and names the role, and lets go once AWS finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_stuck_draining_names_the_infrastructure_role_and_keeps_the_finalizer() {
    let env = Env::new("xb-stuck", XSVC).await;
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    env.wait_ready("web");
    env.sim.set_infrastructure_role_usable(INFRA_ROLE, false);
    env.cluster
        .kubectl_ok(&["delete", XSVC, "web", "-n", &env.ns, "--wait=false"], None);
    let stuck = env.wait_for("web", "Stalled DeletionStuck", true, |o| {
        stalled_reason(o).is_some_and(|(r, _)| r == "DeletionStuck")
    });
    let (_, message) = stalled_reason(&stuck).expect("stalled");
    assert!(message.contains(INFRA_ROLE), "{message}");
    assert!(
        stuck["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("runway.dev/cleanup"))),
        "{}",
        stuck["metadata"]
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert!(env.get("web").is_some(), "the finalizer stays while AWS drains");
    assert_eq!(env.sim.stats().calls("ecs:DeleteExpressGatewayService"), 1);

    env.sim.set_infrastructure_role_usable(INFRA_ROLE, true);
    eventually(Duration::from_secs(60), "the object gone", || {
        env.sim.advance(61.0);
        env.get("web").is_none().then_some(())
    });
    assert_eq!(env.sim.stats().calls("ecs:DeleteExpressGatewayService"), 1);
}

/// E35: Express services in one VPC share an Application Load Balancer. runway never touches load
/// balancers: deleting one of two services deletes only that service, the other stays Ready with
/// nothing sent, and every call runway made is an ECS (or STS) call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_one_of_two_services_leaves_the_other_ready_and_touches_no_load_balancer() {
    let env = Env::new("xb-shared", XSVC).await;
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("front"));
    env.cluster.apply(&env.ns, &manifest("back"));
    env.wait_ready("front");
    let back = env.wait_ready("back");
    let back_arn = back["status"]["serviceArn"].as_str().expect("arn").to_string();
    let before = env.sim.stats();

    env.cluster
        .kubectl_ok(&["delete", XSVC, "front", "-n", &env.ns, "--wait=false"], None);
    eventually(Duration::from_secs(60), "front gone", || {
        env.sim.advance(61.0);
        env.get("front").is_none().then_some(())
    });
    two_resyncs(&env.sim, RESYNC_SECONDS);
    let back = env.get("back").expect("back");
    assert!(is_true(&back, "Ready"), "{}", back["status"]);
    let stats = env.sim.stats();
    assert_eq!(stats.calls("ecs:DeleteExpressGatewayService"), 1);
    assert_eq!(
        stats.calls("ecs:UpdateExpressGatewayService"),
        before.calls("ecs:UpdateExpressGatewayService"),
        "{:?}",
        stats.calls
    );
    let described = ecs(&env)
        .describe_express_gateway_service()
        .service_arn(&back_arn)
        .send()
        .await
        .expect("the other service is still there");
    let code = described
        .service()
        .and_then(|s| s.status())
        .and_then(|s| s.status_code())
        .map(|c| c.as_str().to_string());
    assert_eq!(code.as_deref(), Some("ACTIVE"));
    let known = |key: &str| {
        key.strip_prefix("ecs:")
            .is_some_and(|action| runway_sim::ecs::ACTIONS.contains(&action))
            || key == "sts:GetCallerIdentity"
            || key == "sts:AssumeRole"
    };
    let other: Vec<&String> = stats.calls.keys().filter(|k| !known(k)).collect();
    assert!(other.is_empty(), "runway called more than ECS: {other:?}");
}

/// E35: runway has no client for Elastic Load Balancing or EC2 at all, so it cannot change the
/// load balancer, listener rules or security groups that Express services share.
#[test]
fn runway_links_no_load_balancer_or_ec2_client() {
    let manifest = std::fs::read_to_string(support::repo_root().join("Cargo.toml")).expect("Cargo.toml");
    for crate_name in ["aws-sdk-elasticloadbalancing", "aws-sdk-ec2"] {
        assert!(
            !manifest.contains(crate_name),
            "{crate_name} in Cargo.toml: runway must not manage what Express services share"
        );
    }
}

/// E36: answers with members and enum values no model declares never break a reconcile or a
/// status write; a service status code runway does not know stops it from sending anything until
/// AWS reports one it knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_from_a_newer_ecs_never_break_a_reconcile_or_a_status_write() {
    let env = Env::new("xb-newer", XSVC).await;
    env.sim.set_ecs_newer_model(NewerModel {
        unknown_members: true,
        status_code: None,
    });
    let _runway = runway(&env);
    let mut m = manifest("web");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    assert_eq!(
        ready["status"]["targetConfiguration"]["ingressPaths"][0]["accessType"],
        runway_sim::ecs::newer::UNKNOWN_ACCESS_TYPE,
        "an enum value the SDK does not know is written to status as it came"
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 0);

    env.sim.set_ecs_newer_model(NewerModel {
        unknown_members: true,
        status_code: Some("UPDATING".into()),
    });
    m["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("web", "Stalled UnknownServiceStatus", false, |o| {
        stalled_reason(o).is_some_and(|(r, _)| r == "UnknownServiceStatus")
    });
    assert_eq!(
        stalled["status"]["statusCode"], "UPDATING",
        "{}",
        stalled["status"]
    );
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateExpressGatewayService"),
        0,
        "nothing is sent to a service in a state runway does not know"
    );

    env.sim.set_ecs_newer_model(NewerModel {
        unknown_members: true,
        status_code: None,
    });
    let updated = env.wait_for("web", "Ready with the new image", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.28"
    });
    assert_eq!(updated["status"]["statusCode"], "ACTIVE");
    assert_eq!(env.sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
}

/// E37: right after a create, DescribeExpressGatewayService may not return the new service yet.
/// runway does not create it a second time: DescribeServices lists it, so runway waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_service_that_describe_does_not_return_yet_is_waited_for_not_created_again() {
    let env = Env::new("xb-lag", XSVC).await;
    env.sim.set_ecs_read_after_create_lag(600.0);
    let _runway = runway(&env);
    env.cluster.apply(&env.ns, &manifest("web"));
    let waiting = env.wait_for("web", "Reconciling ServiceNotVisibleYet", false, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "ServiceNotVisibleYet")
    });
    assert!(
        waiting["status"]["serviceArn"].is_string(),
        "{}",
        waiting["status"]
    );
    // Polls go on while Describe lags; none of them creates again.
    std::thread::sleep(Duration::from_secs(2 * RESYNC_SECONDS));
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 1);

    env.sim.advance(601.0);
    env.wait_ready("web");
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:CreateExpressGatewayService"),
        1,
        "{:?}",
        stats.calls
    );
}
