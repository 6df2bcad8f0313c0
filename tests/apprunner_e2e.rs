//! AppRunnerService end to end: the real `runway run` binary against the real kube-apiserver and the
//! AWS simulator, whose App Runner operations take a simulated minute. Every assertion about AWS is
//! on the simulator's call counts or on what App Runner itself reports, never on logs.

mod support;

use std::time::Duration;

use runway_sim::{FaultConfig, InjectKind, InjectService, Injection, SimHandle};
use serde_json::{Value, json};
use support::controller::{Env, Options, WAIT, condition, eventually, is_true, reason};

const ARSVC: &str = "apprunnerservice";
const MUTATING: &[&str] = &[
    "apprunner:CreateService",
    "apprunner:UpdateService",
    "apprunner:DeleteService",
    "apprunner:PauseService",
    "apprunner:ResumeService",
    "apprunner:StartDeployment",
];
/// An environment value that must never show up in logs or Events.
const ENV_VALUE: &str = "greeting-value-that-must-not-leak";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db";

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
                    "imageConfiguration": {
                        "port": "80",
                        "runtimeEnvironmentVariables": {"GREETING": ENV_VALUE, "MODE": "prod"},
                        "runtimeEnvironmentSecrets": {"DB": SECRET_ARN}
                    }
                },
                "autoDeploymentsEnabled": false
            },
            "instanceConfiguration": {"cpu": "1 vCPU", "memory": "2 GB"},
            "healthCheckConfiguration": {"protocol": "HTTP", "path": "/healthz"}
        }
    })
}

fn mutating_calls(sim: &SimHandle) -> u64 {
    let stats = sim.stats();
    MUTATING.iter().map(|k| stats.calls(k)).sum()
}

fn calls(sim: &SimHandle, action: &str) -> u64 {
    sim.stats().calls(&format!("apprunner:{action}"))
}

fn ok(sim: &SimHandle, action: &str) -> u64 {
    sim.stats().outcome(&format!("apprunner:{action}:ok"))
}

impl Env {
    /// The service as App Runner describes it.
    async fn describe(&self, arn: &str) -> aws_sdk_apprunner::types::Service {
        let client = runway_sim::client::apprunner_client(&self.sim.endpoint());
        client
            .describe_service()
            .service_arn(arn)
            .send()
            .await
            .expect("describe")
            .service()
            .cloned()
            .expect("service")
    }

    /// The notes of every Event about an object.
    fn event_notes(&self, name: &str) -> String {
        self.cluster.kubectl_ok(
            &[
                "get",
                "events.events.k8s.io",
                "-n",
                &self.ns,
                "--field-selector",
                &format!("regarding.name={name}"),
                "-o",
                "jsonpath={range .items[*]}{.note}{\"\\n\"}{end}",
            ],
            None,
        )
    }

    fn has_event(&self, name: &str, reason: &str) -> bool {
        self.cluster
            .event_reasons(&self.ns, name)
            .contains(&reason.to_string())
    }
}

fn image_of(service: &aws_sdk_apprunner::types::Service) -> String {
    service
        .source_configuration()
        .and_then(|s| s.image_repository())
        .map(|i| i.image_identifier().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_is_followed_through_its_operation_to_ready_with_url_and_id() {
    let env = Env::new("ar-create", ARSVC).await;
    let runway = env.runway();
    env.cluster.apply(&env.ns, &manifest("webapp"));

    let creating = env.wait_for("webapp", "Reconciling=True after create", false, |o| {
        is_true(o, "Reconciling") && o["status"]["operationId"].is_string()
    });
    assert_eq!(creating["status"]["operationType"], "CREATE_SERVICE");
    assert_eq!(reason(&creating, "Reconciling"), "Creating");
    assert_eq!(condition(&creating, "Ready").map(|c| c.0), Some("False".into()));
    let operation = creating["status"]["operationId"].clone();
    // The operation is followed while it runs, without being sent again.
    let in_progress = env.wait_for("webapp", "operationStatus IN_PROGRESS", false, |o| {
        o["status"]["operationStatus"] == "IN_PROGRESS"
    });
    assert_eq!(in_progress["status"]["status"], "OPERATION_IN_PROGRESS");
    assert_eq!(ok(&env.sim, "CreateService"), 1);

    let ready = env.wait_ready("webapp");
    let status = &ready["status"];
    assert_eq!(status["status"], "RUNNING");
    assert_eq!(status["operationId"], operation);
    assert_eq!(status["operationStatus"], "SUCCEEDED");
    assert_eq!(reason(&ready, "Ready"), "Ready");
    assert!(
        status["serviceUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with(".us-east-1.awsapprunner.com")),
        "{status}"
    );
    assert_eq!(status["serviceId"].as_str().map(str::len), Some(32));
    assert!(status["lastAppliedHash"].as_str().is_some_and(|h| h.len() == 64));
    assert_eq!(calls(&env.sim, "CreateService"), 1);
    assert_eq!(
        calls(&env.sim, "UpdateService"),
        0,
        "AWS normalizations are not drift"
    );
    assert!(env.has_event("webapp", "Created"));

    // The secret is passed through as its ARN; environment values appear in no Event and no log.
    let arn = status["serviceArn"].as_str().expect("arn");
    let described = env.describe(arn).await;
    let image = described
        .source_configuration()
        .and_then(|s| s.image_repository())
        .and_then(|i| i.image_configuration())
        .expect("image configuration");
    assert_eq!(
        image
            .runtime_environment_secrets()
            .and_then(|s| s.get("DB"))
            .map(String::as_str),
        Some(SECRET_ARN)
    );
    assert!(!env.event_notes("webapp").contains(ENV_VALUE));
    let log = std::fs::read_to_string(&runway.log).expect("log");
    assert!(!log.contains(ENV_VALUE), "an environment value was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_sends_one_update_and_noops_or_restarts_send_none() {
    let env = Env::new("ar-update", ARSVC).await;
    let mut runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    let first = env.wait_ready("webapp");
    let arn = first["status"]["serviceArn"].as_str().expect("arn").to_string();

    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let updated = env.wait_for("webapp", "Ready for generation 2", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    assert_eq!(updated["status"]["observedGeneration"], 2);
    assert_eq!(updated["status"]["operationStatus"], "SUCCEEDED");
    assert_ne!(updated["status"]["operationId"], first["status"]["operationId"]);
    assert_eq!(calls(&env.sim, "UpdateService"), 1);
    assert_eq!(
        image_of(&env.describe(&arn).await),
        "public.ecr.aws/nginx/nginx:1.28"
    );
    assert!(env.has_event("webapp", "Updated"));

    // The same spec again, then the same meaning spelled differently (a new generation).
    let before = mutating_calls(&env.sim);
    env.cluster.apply(&env.ns, &m);
    m["spec"]["instanceConfiguration"] = json!({"cpu": "1024", "memory": "2048"});
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageConfiguration"]["runtimeEnvironmentVariables"] =
        json!({"MODE": "prod", "GREETING": ENV_VALUE});
    env.cluster.apply(&env.ns, &m);
    env.wait_for("webapp", "generation 3 observed", false, |o| {
        o["status"]["observedGeneration"] == 3 && is_true(o, "Ready")
    });

    // Restart the controller; it re-reads everything from AWS, each settled resource at a random
    // point of its first resync interval (5 s here).
    runway.kill();
    let describes = calls(&env.sim, "DescribeService");
    let _runway = env.runway_with(Options {
        args: vec!["--resync-seconds".into(), "5".into()],
        ..Options::default()
    });
    eventually(WAIT, "the restarted controller to describe the service", || {
        (calls(&env.sim, "DescribeService") > describes).then_some(())
    });
    env.sim.advance(600.0);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        mutating_calls(&env.sim),
        before,
        "no mutating call after no-op changes or a restart: {:?}",
        env.sim.stats().calls
    );
    assert!(is_true(&env.get("webapp").expect("object"), "Ready"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_during_an_operation_waits_and_is_sent_once_after_it() {
    let env = Env::new("ar-inflight", ARSVC).await;
    let runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("webapp", "the create operation in progress", false, |o| {
        o["status"]["operationStatus"] == "IN_PROGRESS"
    });

    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let waiting = env.wait_for("webapp", "the update to wait for the operation", false, |o| {
        o["status"]["observedGeneration"] == 2
    });
    let (status, reason, message) = condition(&waiting, "Reconciling").expect("Reconciling");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "OperationInProgress"),
        "{message}"
    );
    assert!(
        message.contains("CREATE_SERVICE") && message.contains("waits"),
        "{message}"
    );
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(calls(&env.sim, "UpdateService"), 0, "{}", runway.log_tail());

    let ready = env.wait_for("webapp", "Ready after the update", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    let arn = ready["status"]["serviceArn"].as_str().expect("arn");
    assert_eq!(
        image_of(&env.describe(arn).await),
        "public.ecr.aws/nginx/nginx:1.28"
    );
    let stats = env.sim.stats();
    assert_eq!(stats.calls("apprunner:UpdateService"), 1);
    assert_eq!(
        stats.outcome("apprunner:UpdateService:InvalidStateException"),
        0,
        "never sent just to fail: {:?}",
        stats.outcomes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_state_from_someone_elses_operation_requeues_without_stalling() {
    let env = Env::new("ar-race", ARSVC).await;
    let runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");

    // Another client starts a deployment between runway's read and its UpdateService.
    env.sim
        .inject(&Injection {
            service: InjectService::Apprunner,
            name: "webapp".into(),
            kind: InjectKind::ConcurrentOperation,
        })
        .expect("inject");
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let busy = env.wait_for("webapp", "the refused update to be reported", false, |o| {
        o["status"]["observedGeneration"] == 2 && is_true(o, "Reconciling")
    });
    assert_eq!(
        env.sim
            .stats()
            .outcome("apprunner:UpdateService:InvalidStateException"),
        1,
        "{}",
        runway.log_tail()
    );
    let (_, reason, message) = condition(&busy, "Reconciling").expect("Reconciling");
    assert_eq!(reason, "OperationInProgress", "{message}");
    assert_eq!(condition(&busy, "Stalled").map(|c| c.0), Some("False".into()));

    // Once the other operation ends, the latest spec goes out exactly once.
    let ready = env.wait_for("webapp", "Ready with the new image", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    let arn = ready["status"]["serviceArn"].as_str().expect("arn");
    assert_eq!(
        image_of(&env.describe(arn).await),
        "public.ecr.aws/nginx/nginx:1.28"
    );
    assert_eq!(ok(&env.sim, "UpdateService"), 1);
    assert_eq!(calls(&env.sim, "UpdateService"), 2, "one refused, one accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_true_pauses_and_paused_false_resumes() {
    let env = Env::new("ar-pause", ARSVC).await;
    let _runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");

    m["spec"]["paused"] = json!(true);
    env.cluster.apply(&env.ns, &m);
    let paused = env.wait_for("webapp", "Ready=True reason Paused", true, |o| {
        is_true(o, "Ready") && reason(o, "Ready") == "Paused"
    });
    assert_eq!(paused["status"]["status"], "PAUSED");
    assert_eq!(paused["status"]["operationType"], "PAUSE_SERVICE");
    assert_eq!(paused["status"]["operationStatus"], "SUCCEEDED");
    assert_eq!(calls(&env.sim, "PauseService"), 1);
    assert!(env.has_event("webapp", "Pausing"));

    m["spec"]["paused"] = json!(false);
    env.cluster.apply(&env.ns, &m);
    let resumed = env.wait_for("webapp", "Ready=True reason Ready", true, |o| {
        is_true(o, "Ready") && reason(o, "Ready") == "Ready"
    });
    assert_eq!(resumed["status"]["status"], "RUNNING");
    assert_eq!(resumed["status"]["operationType"], "RESUME_SERVICE");
    let stats = env.sim.stats();
    assert_eq!(stats.calls("apprunner:PauseService"), 1);
    assert_eq!(stats.calls("apprunner:ResumeService"), 1);
    assert_eq!(stats.calls("apprunner:UpdateService"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploy_token_starts_exactly_one_deployment() {
    let env = Env::new("ar-redeploy", ARSVC).await;
    let _runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");

    m["spec"]["redeployToken"] = json!("2026-11-22T10:00");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("webapp", "Ready after the redeploy", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "START_DEPLOYMENT"
    });
    assert_eq!(ready["status"]["lastRedeployToken"], "2026-11-22T10:00");
    assert_eq!(ready["status"]["operationStatus"], "SUCCEEDED");
    assert_eq!(calls(&env.sim, "StartDeployment"), 1);
    assert_eq!(calls(&env.sim, "UpdateService"), 0);
    assert!(env.has_event("webapp", "Redeployed"));

    // Unchanged token, re-applied and with a reconcile requested: nothing more.
    env.cluster.apply(&env.ns, &m);
    env.cluster.kubectl_ok(
        &[
            "annotate",
            ARSVC,
            "webapp",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=now",
        ],
        None,
    );
    env.wait_for("webapp", "the annotation echoed", true, |o| {
        o["status"]["reconcileRequestedAt"] == "now"
    });
    assert_eq!(calls(&env.sim, "StartDeployment"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_failed_stalls_with_the_operation_and_a_fixed_spec_rebuilds_it() {
    let env = Env::new("ar-createfailed", ARSVC).await;
    env.sim
        .inject(&Injection {
            service: InjectService::Apprunner,
            name: "webapp".into(),
            kind: InjectKind::CreateFailed,
        })
        .expect("inject");
    let _runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("webapp", "Stalled=True", true, |o| is_true(o, "Stalled"));
    let (_, why, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(why, "CreateFailed");
    let operation = stalled["status"]["operationId"].as_str().expect("operation id");
    assert!(
        message.contains(operation) && message.contains("FAILED") && message.contains("UpdateService"),
        "{message}"
    );
    assert_eq!(stalled["status"]["status"], "CREATE_FAILED");
    assert_eq!(stalled["status"]["operationStatus"], "FAILED");
    assert!(env.has_event("webapp", "CreateFailed"));

    // The failed spec is not sent again.
    for _ in 0..3 {
        env.sim.advance(120.0);
        std::thread::sleep(Duration::from_secs(2));
    }
    assert_eq!(mutating_calls(&env.sim), 1, "{:?}", env.sim.stats().calls);

    // App Runner's documented recovery: fix the parameters and rebuild with UpdateService.
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:fixed");
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_for("webapp", "Ready after the rebuild", true, |o| {
        is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    assert_eq!(ready["status"]["status"], "RUNNING");
    assert_eq!(calls(&env.sim, "CreateService"), 1);
    assert_eq!(calls(&env.sim, "UpdateService"), 1);
    assert!(env.has_event("webapp", "Rebuilding"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_update_stalls_and_is_not_sent_again() {
    let env = Env::new("ar-rollback", ARSVC).await;
    let _runway = env.runway();
    let mut m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");

    env.sim
        .inject(&Injection {
            service: InjectService::Apprunner,
            name: "webapp".into(),
            kind: InjectKind::Rollback,
        })
        .expect("inject");
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:broken");
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("webapp", "Stalled=True", true, |o| is_true(o, "Stalled"));
    let (_, why, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(why, "RolledBack");
    assert!(message.contains("ROLLBACK_SUCCEEDED"), "{message}");
    assert_eq!(stalled["status"]["operationStatus"], "ROLLBACK_SUCCEEDED");
    assert_eq!(condition(&stalled, "Ready").map(|c| c.0), Some("False".into()));
    assert!(env.has_event("webapp", "RolledBack"));

    // The rolled-back spec is not retried, and the restored configuration is not "drift".
    let updates = calls(&env.sim, "UpdateService");
    assert_eq!(updates, 1);
    env.sim.advance(600.0);
    env.cluster.kubectl_ok(
        &[
            "annotate",
            ARSVC,
            "webapp",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=after-rollback",
        ],
        None,
    );
    let again = env.wait_for("webapp", "the annotation echoed", false, |o| {
        o["status"]["reconcileRequestedAt"] == "after-rollback"
    });
    assert_eq!(reason(&again, "Stalled"), "RolledBack");
    assert_eq!(calls(&env.sim, "UpdateService"), updates);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_throttling_converges_without_duplicate_services() {
    let env = Env::new("ar-throttle", ARSVC).await;
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
    let names = ["alpha", "bravo", "charlie"];
    for name in names {
        env.cluster.apply(&env.ns, &manifest(name));
    }
    for name in names {
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
        .filter(|(k, _)| k.starts_with("apprunner:") && k.ends_with(":ThrottlingException"))
        .map(|(_, v)| v)
        .sum();
    assert!(throttled > 0, "throttling happened: {:?}", stats.outcomes);
    assert_eq!(
        stats.outcome("apprunner:CreateService:ok"),
        3,
        "{:?}",
        stats.outcomes
    );
    assert_eq!(
        stats.outcome("apprunner:CreateService:InvalidRequestException"),
        0
    );
    assert_eq!(stats.calls("apprunner:UpdateService"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_create_and_status_write_never_creates_a_second_service() {
    let env = Env::new("ar-crash", ARSVC).await;
    let mut crashing = env.runway_with(Options {
        env: vec![("RUNWAY_FAILPOINT".into(), "exit-after-create".into())],
        ..Options::default()
    });
    env.cluster.apply(&env.ns, &manifest("webapp"));
    let code = crashing.wait_exit(WAIT);
    assert_eq!(
        code,
        Some(86),
        "the failpoint ended the process: {}",
        crashing.log_tail()
    );
    assert_eq!(ok(&env.sim, "CreateService"), 1);
    let obj = env.get("webapp").expect("object");
    assert!(
        obj["status"]["serviceArn"].is_null(),
        "status was not written: {}",
        obj["status"]
    );

    let _runway = env.runway();
    let ready = env.wait_ready("webapp");
    assert!(
        ready["status"]["serviceArn"]
            .as_str()
            .is_some_and(|a| a.contains(":service/webapp/"))
    );
    assert_eq!(ready["status"]["operationType"], "CREATE_SERVICE");
    assert_eq!(calls(&env.sim, "CreateService"), 1, "still exactly one create");
    assert_eq!(
        mutating_calls(&env.sim),
        1,
        "the found service already runs the spec: {:?}",
        env.sim.stats().calls
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_follows_the_operation_and_retain_keeps_the_service() {
    let env = Env::new("ar-delete", ARSVC).await;
    let _runway = env.runway();
    env.cluster.apply(&env.ns, &manifest("gone"));
    let mut kept = manifest("kept");
    kept["spec"]["deletionPolicy"] = json!("Retain");
    env.cluster.apply(&env.ns, &kept);
    let gone = env.wait_ready("gone");
    assert!(
        gone["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("runway.dev/cleanup")))
    );
    let gone_arn = gone["status"]["serviceArn"].as_str().expect("arn").to_string();
    let kept_arn = env.wait_ready("kept")["status"]["serviceArn"]
        .as_str()
        .expect("arn")
        .to_string();

    env.cluster.kubectl_ok(
        &["delete", ARSVC, "gone", "kept", "-n", &env.ns, "--wait=false"],
        None,
    );
    // While the delete operation runs, the finalizer holds the object.
    eventually(WAIT, "the delete operation to start", || {
        (calls(&env.sim, "DeleteService") == 1).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(env.get("gone").is_some(), "the finalizer waits for DELETED");
    eventually(Duration::from_secs(90), "both objects gone", || {
        env.sim.advance(61.0);
        (env.get("gone").is_none() && env.get("kept").is_none()).then_some(())
    });
    assert_eq!(calls(&env.sim, "DeleteService"), 1, "{:?}", env.sim.stats().calls);

    let client = runway_sim::client::apprunner_client(&env.sim.endpoint());
    let deleted = client.describe_service().service_arn(&gone_arn).send().await;
    assert!(
        deleted.as_ref().is_err()
            || deleted
                .as_ref()
                .ok()
                .and_then(|d| d.service())
                .is_some_and(|s| s.status().as_str() == "DELETED"),
        "the deleted service is gone: {deleted:?}"
    );
    assert_eq!(env.describe(&kept_arn).await.status().as_str(), "RUNNING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_by_service_arn_never_creates_and_retains_on_delete() {
    let env = Env::new("ar-adopt", ARSVC).await;
    let client = runway_sim::client::apprunner_client(&env.sim.endpoint());
    let created = client
        .create_service()
        .service_name("legacy")
        .source_configuration(
            aws_sdk_apprunner::types::SourceConfiguration::builder()
                .image_repository(
                    aws_sdk_apprunner::types::ImageRepository::builder()
                        .image_identifier("public.ecr.aws/nginx/nginx:1.26")
                        .image_repository_type(aws_sdk_apprunner::types::ImageRepositoryType::EcrPublic)
                        .build()
                        .expect("image"),
                )
                .build(),
        )
        .send()
        .await
        .expect("create outside runway");
    let arn = created.service().expect("service").service_arn().to_string();
    env.sim.advance(61.0);
    env.sim.reset_stats();

    let _runway = env.runway();
    env.cluster.apply(
        &env.ns,
        &json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "AppRunnerService",
            "metadata": {"name": "legacy"},
            "spec": {
                "serviceArn": arn,
                "sourceConfiguration": {"imageRepository": {
                    "imageIdentifier": "public.ecr.aws/nginx/nginx:1.27",
                    "imageRepositoryType": "ECR_PUBLIC"
                }}
            }
        }),
    );
    let ready = env.wait_for(
        "legacy",
        "the adopted service Ready after its update",
        true,
        |o| is_true(o, "Ready") && o["status"]["operationType"] == "UPDATE_SERVICE",
    );
    assert_eq!(ready["status"]["serviceArn"], arn);
    assert_eq!(
        image_of(&env.describe(&arn).await),
        "public.ecr.aws/nginx/nginx:1.27"
    );
    assert_eq!(calls(&env.sim, "CreateService"), 0);
    assert_eq!(calls(&env.sim, "UpdateService"), 1);

    env.cluster
        .kubectl_ok(&["delete", ARSVC, "legacy", "-n", &env.ns, "--timeout=60s"], None);
    assert_eq!(
        calls(&env.sim, "DeleteService"),
        0,
        "adopted services are retained"
    );
    assert_eq!(env.describe(&arn).await.status().as_str(), "RUNNING");
    assert!(env.has_event("legacy", "Retained"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_outside_runway_waits_for_its_operation_then_is_corrected_with_one_update() {
    let env = Env::new("ar-drift", ARSVC).await;
    let _runway = env.runway();
    env.cluster.apply(&env.ns, &manifest("webapp"));
    let ready = env.wait_ready("webapp");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();

    // Someone changes the image with the App Runner API directly.
    let client = runway_sim::client::apprunner_client(&env.sim.endpoint());
    client
        .update_service()
        .service_arn(&arn)
        .source_configuration(
            aws_sdk_apprunner::types::SourceConfiguration::builder()
                .image_repository(
                    aws_sdk_apprunner::types::ImageRepository::builder()
                        .image_identifier("public.ecr.aws/nginx/nginx:hotfix")
                        .image_repository_type(aws_sdk_apprunner::types::ImageRepositoryType::EcrPublic)
                        .build()
                        .expect("image"),
                )
                .build(),
        )
        .send()
        .await
        .expect("outside update");
    env.sim.advance(61.0);
    let updates = calls(&env.sim, "UpdateService");

    env.cluster.kubectl_ok(
        &[
            "annotate",
            ARSVC,
            "webapp",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=drift-check",
        ],
        None,
    );
    env.wait_for("webapp", "drift corrected", true, |o| {
        o["status"]["reconcileRequestedAt"] == "drift-check"
            && is_true(o, "Ready")
            && o["status"]["operationType"] == "UPDATE_SERVICE"
    });
    assert_eq!(
        image_of(&env.describe(&arn).await),
        "public.ecr.aws/nginx/nginx:1.27"
    );
    assert_eq!(calls(&env.sim, "UpdateService"), updates + 1);
    assert!(env.has_event("webapp", "DriftCorrected"));
    assert!(!env.event_notes("webapp").contains(ENV_VALUE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_app_runner_rejects_stalls_with_its_message_and_is_not_resent() {
    let env = Env::new("ar-invalid", ARSVC).await;
    let _runway = env.runway();
    let m = manifest("webapp");
    env.cluster.apply(&env.ns, &m);
    env.wait_ready("webapp");

    // Valid for the schema, refused by App Runner: a service cannot switch from image to code.
    let mut code = m.clone();
    code["spec"]["sourceConfiguration"] = json!({
        "codeRepository": {
            "repositoryUrl": "https://github.com/example/webapp",
            "sourceCodeVersion": {"type": "BRANCH", "value": "main"},
            "codeConfiguration": {"configurationSource": "REPOSITORY"}
        },
        "authenticationConfiguration": {
            "connectionArn": "arn:aws:apprunner:us-east-1:123456789012:connection/github/abc"
        }
    });
    env.cluster.apply(&env.ns, &code);
    let stalled = env.wait_for("webapp", "Stalled=True", false, |o| is_true(o, "Stalled"));
    let (_, why, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(why, "AwsRejectedSpec");
    assert!(message.contains("InvalidRequestException"), "{message}");
    assert!(env.has_event("webapp", "AwsRejectedSpec"));

    let mutating = mutating_calls(&env.sim);
    for _ in 0..3 {
        env.sim.advance(60.0);
        std::thread::sleep(Duration::from_secs(3));
    }
    assert_eq!(mutating_calls(&env.sim), mutating, "{:?}", env.sim.stats().calls);

    // Back to the running spec: nothing needs sending.
    env.cluster.apply(&env.ns, &m);
    env.wait_for("webapp", "Ready again", false, |o| is_true(o, "Ready"));
    assert_eq!(mutating_calls(&env.sim), mutating);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_while_updating_a_paused_service_is_retried_not_recorded_as_a_refusal() {
    let env = Env::new("ar-pthrottle", ARSVC).await;
    let _runway = env.runway();
    let mut m = manifest("webapp");
    m["spec"]["paused"] = json!(true);
    env.cluster.apply(&env.ns, &m);
    env.wait_for("webapp", "Ready=True reason Paused", true, |o| {
        is_true(o, "Ready") && reason(o, "Ready") == "Paused"
    });

    // AWS throttles every UpdateService from now on; the spec changes while the service is paused.
    let mut faults = env.sim.faults();
    faults
        .rate_limit_per_second
        .insert("apprunner:UpdateService".into(), 0.0001);
    env.sim.set_faults(faults).expect("faults");
    // NB: the bucket starts with one call; this one (for no service) takes it, so the next
    // UpdateService of the account is throttled.
    let apprunner = runway_sim::client::apprunner_client(&env.sim.endpoint());
    let drained = apprunner
        .update_service()
        .service_arn("arn:aws:apprunner:us-east-1:123456789012:service/none/00000000000000000000000000000000")
        .send()
        .await;
    assert!(drained.is_err(), "no such service");
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let throttled = env.wait_for("webapp", "Reconciling: the update is throttled", true, |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "AwsThrottled")
    });
    // Throttling is not App Runner refusing to update a paused service: nothing is recorded as a
    // rejection, and the resource is not Stalled.
    assert!(throttled["status"]["lastFailedHash"].is_null(), "{throttled}");
    assert_ne!(
        reason(&throttled, "Stalled"),
        "PausedWithPendingChange",
        "{throttled}"
    );
    assert!(
        env.sim
            .stats()
            .outcome("apprunner:UpdateService:ThrottlingException")
            >= 1,
        "{:?}",
        env.sim.stats().outcomes
    );
}
