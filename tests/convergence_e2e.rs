//! The convergence guard end to end, for both kinds (docs/aws-behaviour.md X13): with the
//! simulator's normalization switch on, AWS reports the spec's health check path in lower case
//! after every update. runway sends the update and two drift corrections, then reports
//! `Stalled`/`DriftNotConverging` with a Warning Event and sends nothing more, across two resync
//! periods and a restart, until the `runway.dev/reconcile-requested-at` annotation gets a new value
//! (two more corrections) or the spec changes.

mod support;

use std::collections::BTreeMap;

use runway_sim::{FaultConfig, Rewrite, SimHandle};
use serde_json::{Value, json};
use support::controller::{Env, Options, condition, is_true, two_resyncs};
use support::http::{free_port, http_get};

/// The resource's name (App Runner needs at least four characters).
const NAME: &str = "webapp";
/// The resync period of every controller in this file.
const RESYNC_SECONDS: u64 = 3;

/// One kind's part of the scenario.
struct Case {
    /// `expressservice` or `apprunnerservice`.
    resource: &'static str,
    /// The kind, as metrics name it.
    kind: &'static str,
    /// The namespace prefix.
    prefix: &'static str,
    /// The simulator's normalization key.
    normalize: &'static str,
    /// The update call, as the simulator counts it.
    update: &'static str,
    /// Every mutating call of the kind.
    mutating: &'static [&'static str],
    /// The field as runway names it.
    field: &'static str,
    /// The manifest with a health check path.
    manifest: fn(&str) -> Value,
    /// The spec patch that sets the health check path.
    patch: fn(&str) -> Value,
}

fn express_manifest(path: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": NAME},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "healthCheckPath": path,
            "primaryContainer": {
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "containerPort": 8080,
                "environment": [{"name": "TOKEN", "value": "do-not-show-me"}]
            }
        }
    })
}

fn express_patch(path: &str) -> Value {
    json!({"spec": {"healthCheckPath": path}})
}

fn apprunner_manifest(path: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "AppRunnerService",
        "metadata": {"name": NAME},
        "spec": {
            "sourceConfiguration": {
                "imageRepository": {
                    "imageIdentifier": "public.ecr.aws/nginx/nginx:1.27",
                    "imageRepositoryType": "ECR_PUBLIC",
                    "imageConfiguration": {
                        "port": "80",
                        "runtimeEnvironmentVariables": {"TOKEN": "do-not-show-me"}
                    }
                },
                "autoDeploymentsEnabled": false
            },
            "healthCheckConfiguration": {"protocol": "HTTP", "path": path}
        }
    })
}

fn apprunner_patch(path: &str) -> Value {
    json!({"spec": {"healthCheckConfiguration": {"protocol": "HTTP", "path": path}}})
}

const EXPRESS: Case = Case {
    resource: "expressservice",
    kind: "ExpressService",
    prefix: "cv-x",
    normalize: "ecs:healthCheckPath",
    update: "ecs:UpdateExpressGatewayService",
    mutating: &[
        "ecs:CreateExpressGatewayService",
        "ecs:UpdateExpressGatewayService",
        "ecs:DeleteExpressGatewayService",
        "ecs:UpdateService",
        "ecs:TagResource",
        "ecs:UntagResource",
    ],
    field: "healthCheckPath",
    manifest: express_manifest,
    patch: express_patch,
};

const APP_RUNNER: Case = Case {
    resource: "apprunnerservice",
    kind: "AppRunnerService",
    prefix: "cv-ar",
    normalize: "apprunner:healthCheckConfiguration.path",
    update: "apprunner:UpdateService",
    mutating: &[
        "apprunner:CreateService",
        "apprunner:UpdateService",
        "apprunner:DeleteService",
        "apprunner:PauseService",
        "apprunner:ResumeService",
        "apprunner:StartDeployment",
        "apprunner:TagResource",
        "apprunner:UntagResource",
    ],
    field: "healthCheckConfiguration.path",
    manifest: apprunner_manifest,
    patch: apprunner_patch,
};

fn short_resync(metrics_port: u16) -> Options {
    Options {
        args: vec![
            "--resync-seconds".into(),
            RESYNC_SECONDS.to_string(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{metrics_port}"),
        ],
        ..Options::default()
    }
}

/// `runway_drift_not_converging_total` for `kind` on the controller serving `/metrics` on `port`.
fn guard_metric(port: u16, kind: &str) -> Option<u64> {
    let (_, text) = http_get(port, "/metrics");
    let series = format!("runway_drift_not_converging_total{{kind=\"{kind}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .and_then(|v| v.trim().parse().ok())
}

fn calls(sim: &SimHandle, keys: &[&str]) -> u64 {
    let stats = sim.stats();
    keys.iter().map(|k| stats.calls(k)).sum()
}

fn guard_stalled(o: &Value) -> bool {
    is_true(o, "Stalled")
        && condition(o, "Stalled").is_some_and(|(_, reason, _)| reason == "DriftNotConverging")
}

/// The types of the Events with `reason` about the object `name`.
fn event_types(env: &Env, name: &str, reason: &str) -> Vec<String> {
    let out = env.cluster.kubectl_ok(
        &[
            "get",
            "events.events.k8s.io",
            "-n",
            &env.ns,
            "--field-selector",
            &format!("regarding.name={name},reason={reason}"),
            "-o",
            "jsonpath={range .items[*]}{.type}{\"\\n\"}{end}",
        ],
        None,
    );
    out.lines().map(str::to_string).collect()
}

/// Sets a new `runway.dev/reconcile-requested-at` value.
fn request_reconcile(env: &Env, case: &Case, value: &str) {
    env.cluster.kubectl_ok(
        &[
            "annotate",
            "--overwrite",
            case.resource,
            NAME,
            "-n",
            &env.ns,
            &format!("runway.dev/reconcile-requested-at={value}"),
        ],
        None,
    );
}

async fn drift_aws_never_converges_to_stops_until_asked_again(case: Case) {
    let env = Env::new(case.prefix, case.resource).await;
    env.sim
        .set_faults(FaultConfig {
            normalize: BTreeMap::from([(case.normalize.to_string(), Rewrite::Lowercase)]),
            ..FaultConfig::default()
        })
        .expect("normalization switch");
    let port = free_port();
    let runway = env.runway_with(short_resync(port));
    env.cluster.apply(&env.ns, &(case.manifest)("/healthz"));
    env.wait_ready(NAME);
    assert_eq!(
        calls(&env.sim, &[case.update]),
        0,
        "a spelling AWS keeps converges"
    );

    // The spec asks for a spelling AWS rewrites: the update and two corrections, then the guard.
    env.cluster
        .patch(case.resource, &env.ns, NAME, &(case.patch)("/Healthz"));
    let stalled = env.wait_for(NAME, "Stalled=DriftNotConverging", true, guard_stalled);
    assert_eq!(calls(&env.sim, &[case.update]), 3, "{:?}", env.sim.stats().calls);
    let (_, _, message) = condition(&stalled, "Stalled").expect("Stalled");
    for want in [case.field, "\"/Healthz\"", "\"/healthz\""] {
        assert!(message.contains(want), "{want} not in {message}");
    }
    assert!(!message.contains("do-not-show-me"), "{message}");
    assert_eq!(condition(&stalled, "Ready").map(|c| c.0), Some("False".into()));
    assert_eq!(
        condition(&stalled, "Reconciling").map(|c| c.0),
        Some("False".into())
    );
    assert_eq!(stalled["status"]["driftCorrections"]["count"], json!(2));
    assert_eq!(
        event_types(&env, NAME, "DriftNotConverging"),
        vec!["Warning".to_string()],
        "one Warning Event"
    );
    assert_eq!(guard_metric(port, case.kind), Some(1), "the guard's metric");

    // Nothing is sent across two resyncs, nor by a new controller process: the count is in status.
    let before = calls(&env.sim, case.mutating);
    two_resyncs(&env.sim, RESYNC_SECONDS);
    drop(runway);
    let runway = env.runway_with(short_resync(free_port()));
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(
        calls(&env.sim, case.mutating),
        before,
        "{:?}",
        env.sim.stats().calls
    );
    assert!(guard_stalled(&env.get(NAME).expect("object")));

    // A new annotation value asks for one more round: two corrections, then stalled again.
    request_reconcile(&env, &case, "retry-1");
    env.wait_for(NAME, "stalled again after the new request", true, |o| {
        guard_stalled(o) && o["status"]["driftCorrections"]["requestedAt"] == "retry-1"
    });
    assert_eq!(calls(&env.sim, &[case.update]), 5, "{:?}", env.sim.stats().calls);
    let before = calls(&env.sim, case.mutating);
    two_resyncs(&env.sim, RESYNC_SECONDS);
    assert_eq!(
        calls(&env.sim, case.mutating),
        before,
        "{:?}",
        env.sim.stats().calls
    );

    // A spec with AWS's spelling converges with one update, and the count is gone.
    env.cluster
        .patch(case.resource, &env.ns, NAME, &(case.patch)("/healthz"));
    let ready = env.wait_ready(NAME);
    assert_eq!(calls(&env.sim, &[case.update]), 6, "{:?}", env.sim.stats().calls);
    assert!(
        ready["status"]["driftCorrections"].is_null(),
        "{}",
        ready["status"]
    );
    drop(runway);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_drift_that_aws_never_converges_to_stops_after_two_corrections_until_asked_again() {
    drift_aws_never_converges_to_stops_until_asked_again(EXPRESS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_runner_drift_that_aws_never_converges_to_stops_after_two_corrections_until_asked_again() {
    drift_aws_never_converges_to_stops_until_asked_again(APP_RUNNER).await;
}
