//! Benchmark: how fast runway converges N services and what it costs in AWS calls, then proof that
//! steady state sends no mutating call. Prints its figures; exits non-zero if steady state mutated.
//!
//! Run with `scripts/bench [N] [STEADY_SECONDS]`, which starts the local control plane. The simulator
//! runs in this process with 2-second rollouts and operations in real time; the controller is the
//! real `runway` binary, watching one fresh namespace, with a 5-second resync so the steady-state
//! window sees several full resyncs.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use runway::sim::{SimConfig, Simulator, StatsSnapshot};
use serde_json::{Value, json};
use support::Cluster;
use support::controller::{Options, Runway, is_true};

const MUTATING: &[&str] = &[
    "Create",
    "Update",
    "Delete",
    "PauseService",
    "ResumeService",
    "StartDeployment",
];

fn express(name: &str) -> Value {
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
                "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]
            },
            "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 4}
        }
    })
}

fn apprunner(name: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "AppRunnerService",
        "metadata": {"name": name},
        "spec": {
            "sourceConfiguration": {
                "imageRepository": {
                    "imageIdentifier": "public.ecr.aws/nginx/nginx:1.27",
                    "imageRepositoryType": "ECR_PUBLIC",
                    "imageConfiguration": {"port": "8080", "runtimeEnvironmentVariables": {"A": "1"}}
                },
                "autoDeploymentsEnabled": false
            },
            "instanceConfiguration": {"cpu": "1 vCPU", "memory": "2 GB"}
        }
    })
}

fn is_mutating(key: &str) -> bool {
    let action = key.split_once(':').map_or(key, |(_, a)| a);
    MUTATING.iter().any(|m| action.starts_with(m)) || action == "UpdateExpressGatewayService"
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn print_calls(title: &str, stats: &StatsSnapshot) {
    println!("\n{title}");
    println!("  {:<48} {:>8}", "call", "count");
    for (k, v) in &stats.calls {
        println!("  {k:<48} {v:>8}");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let steady_secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30);

    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("bench");
    let sim = Simulator::start(SimConfig {
        ecs_rollout_seconds: 2.0,
        apprunner_operation_seconds: 2.0,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let runway = Runway::start(
        &cluster,
        &ns,
        &sim.endpoint(),
        Options {
            args: vec![
                "--resync-seconds".into(),
                "5".into(),
                "--log-level".into(),
                "warn".into(),
            ],
            ..Options::default()
        },
    );

    // Convergence: apply N services of each kind at once.
    let names: Vec<(&str, String)> = (0..n)
        .flat_map(|i| [("xsvc", format!("web-{i}")), ("arsvc", format!("api-{i}"))])
        .collect();
    let start = Instant::now();
    let mut docs = Vec::new();
    for (kind, name) in &names {
        docs.push(if *kind == "xsvc" {
            express(name)
        } else {
            apprunner(name)
        });
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": docs});
    cluster.apply(&ns, &list);
    let applied = start.elapsed();

    let mut ready_at: BTreeMap<String, f64> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while ready_at.len() < names.len() {
        assert!(
            Instant::now() < deadline,
            "not all Ready after 300 s:\n{}",
            runway.log_tail()
        );
        for kind in ["xsvc", "arsvc"] {
            let out = cluster.kubectl_ok(&["get", kind, "-n", &ns, "-o", "json"], None);
            let list: Value = serde_json::from_str(&out).expect("list JSON");
            for item in list["items"].as_array().into_iter().flatten() {
                let name = item["metadata"]["name"].as_str().unwrap_or_default().to_string();
                if is_true(item, "Ready") && !ready_at.contains_key(&name) {
                    ready_at.insert(name, start.elapsed().as_secs_f64());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let converge = start.elapsed();
    let converge_stats = sim.stats();

    // Steady state: nothing changes; several resyncs pass.
    sim.reset_stats();
    std::thread::sleep(Duration::from_secs(steady_secs));
    let steady = sim.stats();

    let mut times: Vec<f64> = ready_at.values().copied().collect();
    times.sort_by(f64::total_cmp);
    println!(
        "runway convergence benchmark: {n} ExpressService + {n} AppRunnerService, 2 s simulated rollouts"
    );
    println!(
        "  apply (kubectl, one List)          {:>8.2} s",
        applied.as_secs_f64()
    );
    println!(
        "  all Ready after                    {:>8.2} s",
        converge.as_secs_f64()
    );
    println!(
        "  time to Ready p50 / p95 / max      {:>8.2} / {:.2} / {:.2} s",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 1.0)
    );
    let converge_total: u64 = converge_stats.calls.values().sum();
    println!(
        "  AWS calls to converge              {converge_total:>8} ({:.1} per service)",
        converge_total as f64 / names.len() as f64
    );
    print_calls("calls during convergence", &converge_stats);

    let steady_total: u64 = steady.calls.values().sum();
    let steady_mutating: u64 = steady
        .calls
        .iter()
        .filter(|(k, _)| is_mutating(k))
        .map(|(_, v)| v)
        .sum();
    println!(
        "\nsteady state: {steady_secs} s with a 5 s resync: {steady_total} AWS calls ({:.2} per service per second), {steady_mutating} mutating",
        steady_total as f64 / names.len() as f64 / steady_secs as f64
    );
    print_calls("calls in steady state", &steady);
    drop(runway);
    if steady_mutating > 0 {
        eprintln!("FAIL: {steady_mutating} mutating AWS calls in steady state");
        std::process::exit(1);
    }
}
