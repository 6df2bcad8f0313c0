//! AppRunnerService end to end against App Runner behaviours catalogued in
//! `docs/aws-behaviour.md`: an operation that never ends (A24), a delete that a VPC ingress
//! connection blocks (A25), an update answered without its `OperationId` (A20), answers from a newer
//! App Runner than the SDK knows (A27). Every controller
//! here runs with a 3 s resync, and every "nothing was sent again" check spans at least two resync
//! periods.

mod support;

use std::time::Duration;

use runway_sim::apprunner::NewerModel;
use runway_sim::{InjectKind, InjectService, Injection, SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};
use support::Cluster;
use support::controller::{Env, Options, Runway, condition, eventually, is_true};

const ARSVC: &str = "apprunnerservice";
/// The resync period of every controller in this file.
const RESYNC_SECONDS: u64 = 3;
/// `--operation-stuck-seconds` of the controller that watches a hung operation.
const STUCK_SECONDS: u64 = 10;

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

fn options(extra: &[&str]) -> Options {
    let mut args = vec!["--resync-seconds".to_string(), RESYNC_SECONDS.to_string()];
    args.extend(extra.iter().map(|a| a.to_string()));
    Options {
        args,
        ..Options::default()
    }
}

fn calls(sim: &SimHandle, action: &str) -> u64 {
    sim.stats().calls(&format!("apprunner:{action}"))
}

/// The App Runner calls that change something, with their counts.
fn mutating(sim: &SimHandle) -> Vec<(String, u64)> {
    [
        "CreateService",
        "UpdateService",
        "StartDeployment",
        "PauseService",
        "ResumeService",
        "DeleteService",
    ]
    .into_iter()
    .map(|a| (a.to_string(), calls(sim, a)))
    .collect()
}

fn sleep_two_resyncs() {
    std::thread::sleep(Duration::from_secs(2 * RESYNC_SECONDS + 2));
}

fn reconciling(obj: &Value) -> (String, String) {
    match condition(obj, "Reconciling") {
        Some((status, reason, message)) if status == "True" => (reason, message),
        other => panic!("expected Reconciling=True, got {other:?} in {}", obj["status"]),
    }
}

/// An operation App Runner never finishes (hashicorp/terraform-provider-aws#38371): runway says how
/// long it has run, reports it stuck once it passes `--operation-stuck-seconds` (with one Warning
/// Event), and never marks the resource Ready or sends another call, for a spec change or a delete,
/// while App Runner reports it running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_that_never_ends_is_reported_stuck_and_nothing_is_sent_while_it_runs() {
    // NB: operations finish in real seconds here, so simulated time stays with the wall clock that
    // the controller measures an operation's age with.
    let sim = Simulator::start(SimConfig {
        apprunner_operation_seconds: 1.0,
        apprunner_deleted_seconds: 1.0,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("arb-hang");
    let stuck = STUCK_SECONDS.to_string();
    let _runway = Runway::start(
        &cluster,
        &ns,
        &sim.endpoint(),
        options(&["--operation-stuck-seconds", &stuck]),
    );
    let get = || cluster.get_json(ARSVC, &ns, "webapp");
    let mut m = manifest("webapp");
    cluster.apply(&ns, &m);
    eventually(Duration::from_secs(60), "Ready", || {
        get().filter(|o| is_true(o, "Ready"))
    });

    sim.inject(&Injection {
        service: InjectService::Apprunner,
        name: "webapp".into(),
        kind: InjectKind::Hang,
    })
    .expect("inject");
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    cluster.apply(&ns, &m);
    let running = eventually(Duration::from_secs(30), "the update in progress", || {
        get().filter(|o| {
            is_true(o, "Reconciling")
                && condition(o, "Reconciling").is_some_and(|(_, r, msg)| {
                    r == "OperationInProgress"
                        && msg.contains("UPDATE_SERVICE")
                        && msg.contains("running for")
                })
        })
    });
    let op = running["status"]["operationId"]
        .as_str()
        .expect("operation")
        .to_string();

    let stuck = eventually(Duration::from_secs(60), "OperationStuck", || {
        get().filter(|o| condition(o, "Reconciling").is_some_and(|(_, r, _)| r == "OperationStuck"))
    });
    let (_, message) = reconciling(&stuck);
    assert!(
        message.contains(&op) && message.contains("looks stuck") && message.contains("sends nothing"),
        "{message}"
    );
    assert!(
        !is_true(&stuck, "Ready") && !is_true(&stuck, "Stalled"),
        "{}",
        stuck["status"]
    );
    eventually(
        Duration::from_secs(30),
        "the OperationStuck Warning Event",
        || {
            cluster
                .event_reasons(&ns, "webapp")
                .contains(&"OperationStuck".to_string())
                .then_some(())
        },
    );

    // Still running two resyncs later: the same report, and nothing sent. A spec change waits.
    let sent = mutating(&sim);
    assert_eq!(calls(&sim, "UpdateService"), 1, "{sent:?}");
    m["spec"]["redeployToken"] = json!("again");
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.29");
    cluster.apply(&ns, &m);
    sleep_two_resyncs();
    let later = get().expect("resource");
    let (reason, message) = reconciling(&later);
    assert_eq!(reason, "OperationStuck", "{message}");
    assert!(message.contains("the spec change waits for it"), "{message}");
    assert_eq!(
        mutating(&sim),
        sent,
        "nothing is sent while App Runner reports the operation"
    );
    assert_eq!(
        cluster
            .event_reasons(&ns, "webapp")
            .iter()
            .filter(|r| *r == "OperationStuck")
            .count(),
        1,
        "one Warning Event, not one per poll"
    );

    // A delete waits for the operation too: the finalizer stays and no DeleteService is sent.
    cluster.kubectl_ok(&["delete", ARSVC, "webapp", "-n", &ns, "--wait=false"], None);
    sleep_two_resyncs();
    let deleting = get().expect("kept by its finalizer");
    assert!(deleting["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(mutating(&sim), sent, "no DeleteService while the operation runs");
    cluster.patch(ARSVC, &ns, "webapp", &json!({"metadata": {"finalizers": null}}));
}

/// DeleteService refused while a VPC ingress connection is AVAILABLE
/// (hashicorp/terraform-provider-aws#40896): the finalizer stays, the resource is Stalled with a
/// reason and message that name the connection, the delete is retried slowly, and it completes
/// once the connection is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_a_vpc_ingress_connection_blocks_stalls_naming_it_and_finishes_once_it_is_gone() {
    let env = Env::new("arb-ingress", ARSVC).await;
    let _runway = env.runway_with(options(&[]));
    env.cluster.apply(&env.ns, &manifest("private-app"));
    let ready = env.wait_ready("private-app");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();
    let apprunner = runway_sim::client::apprunner_client(&env.sim.endpoint());
    let connection = apprunner
        .create_vpc_ingress_connection()
        .service_arn(&arn)
        .vpc_ingress_connection_name("private-app-ingress")
        .ingress_vpc_configuration(
            aws_sdk_apprunner::types::IngressVpcConfiguration::builder()
                .vpc_id("vpc-0123456789abcdef0")
                .vpc_endpoint_id("vpce-0123456789abcdef0")
                .build(),
        )
        .send()
        .await
        .expect("connection")
        .vpc_ingress_connection()
        .and_then(|c| c.vpc_ingress_connection_arn())
        .expect("connection ARN")
        .to_string();

    env.cluster.kubectl_ok(
        &["delete", ARSVC, "private-app", "-n", &env.ns, "--wait=false"],
        None,
    );
    let blocked = eventually(Duration::from_secs(60), "Stalled for the connection", || {
        env.get("private-app").filter(|o| {
            condition(o, "Stalled")
                .is_some_and(|(s, r, _)| s == "True" && r == "DeleteBlockedByVpcIngressConnection")
        })
    });
    let (_, _, message) = condition(&blocked, "Stalled").expect("Stalled");
    assert!(
        message.contains(&connection) && message.contains("DeleteVpcIngressConnection"),
        "{message}"
    );
    assert!(blocked["metadata"]["deletionTimestamp"].is_string());
    assert!(
        env.cluster
            .event_reasons(&env.ns, "private-app")
            .contains(&"DeleteBlockedByVpcIngressConnection".to_string())
    );

    // Retried slowly: backoff from 30 s, capped at the resync; never every few seconds.
    let before = calls(&env.sim, "DeleteService");
    sleep_two_resyncs();
    let retries = calls(&env.sim, "DeleteService") - before;
    assert!(
        (1..=3).contains(&retries),
        "{retries} DeleteService calls in two resyncs: retried, at most once a resync"
    );
    assert!(env.get("private-app").is_some(), "the finalizer stays");

    apprunner
        .delete_vpc_ingress_connection()
        .vpc_ingress_connection_arn(&connection)
        .send()
        .await
        .expect("connection deleted");
    eventually(Duration::from_secs(90), "the resource gone", || {
        env.sim.advance(61.0);
        env.get("private-app").is_none().then_some(())
    });
    let described = apprunner.describe_service().service_arn(&arn).send().await;
    assert!(
        described.is_err()
            || described.is_ok_and(|d| d.service().is_some_and(|s| s.status().as_str() == "DELETED")),
        "the service was deleted"
    );
}

/// An UpdateService answered without an `OperationId` (aws/apprunner-roadmap#139) that App Runner
/// then rolls back: runway finds its operation by type in ListOperations, stalls with `RolledBack`
/// and does not send the rolled-back spec again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_update_answered_without_an_operation_id_stalls_and_is_not_sent_again() {
    let env = Env::new("arb-noopid", ARSVC).await;
    let _runway = env.runway_with(options(&[]));
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");
    for kind in [InjectKind::NoOperationId, InjectKind::Rollback] {
        env.sim
            .inject(&Injection {
                service: InjectService::Apprunner,
                name: "webapp".into(),
                kind,
            })
            .expect("inject");
    }
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:broken");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("webapp", "Stalled RolledBack", true, |o| {
        condition(o, "Stalled").is_some_and(|(s, r, _)| s == "True" && r == "RolledBack")
    });
    let (_, _, message) = condition(&stalled, "Stalled").expect("Stalled");
    let op = stalled["status"]["operationId"].as_str().unwrap_or_default();
    assert!(
        !op.is_empty() && message.contains(op),
        "{message} / {}",
        stalled["status"]
    );
    assert_eq!(stalled["status"]["operationType"], "UPDATE_SERVICE");
    for _ in 0..(2 * RESYNC_SECONDS + 2) {
        env.sim.advance(61.0);
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(
        calls(&env.sim, "UpdateService"),
        1,
        "the rolled-back spec is not sent again"
    );
    assert!(is_true(&env.get("webapp").expect("resource"), "Stalled"));
}

/// A27: answers with members and enum values no model declares never break a reconcile or a status
/// write; a service status runway does not know stops it from sending anything until App Runner
/// reports one it knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_from_a_newer_app_runner_never_break_a_reconcile_or_a_status_write() {
    let env = Env::new("arb-newer", ARSVC).await;
    env.sim.set_apprunner_newer_model(NewerModel {
        unknown_members: true,
        service_status: None,
    });
    let _runway = env.runway_with(options(&[]));
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("webapp");
    assert_eq!(ready["status"]["status"], "RUNNING", "{}", ready["status"]);
    assert_eq!(
        ready["status"]["operationType"], "CREATE_SERVICE",
        "{}",
        ready["status"]
    );
    let before = mutating(&env.sim);
    sleep_two_resyncs();
    assert_eq!(
        mutating(&env.sim),
        before,
        "nothing is sent to a settled service in steady state"
    );
    assert!(is_true(&env.get("webapp").expect("resource"), "Ready"));

    env.sim.set_apprunner_newer_model(NewerModel {
        unknown_members: true,
        service_status: Some("UPDATING".into()),
    });
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("webapp", "Stalled UnknownServiceStatus", false, |o| {
        condition(o, "Stalled").is_some_and(|(s, r, _)| s == "True" && r == "UnknownServiceStatus")
    });
    assert_eq!(stalled["status"]["status"], "UPDATING", "{}", stalled["status"]);
    let before = mutating(&env.sim);
    sleep_two_resyncs();
    assert_eq!(
        mutating(&env.sim),
        before,
        "nothing is sent to a service in a state runway does not know"
    );
    assert_eq!(calls(&env.sim, "UpdateService"), 0);

    env.sim.set_apprunner_newer_model(NewerModel::default());
    let updated = env.wait_for("webapp", "Ready with the new image", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    assert_eq!(updated["status"]["status"], "RUNNING", "{}", updated["status"]);
    assert_eq!(calls(&env.sim, "UpdateService"), 1);
}
