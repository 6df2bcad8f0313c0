//! Benchmark: how runway scales. For each scenario `N:R:RESYNC` it applies N ExpressServices (plus a
//! small App Runner cohort) at once under a simulator limit of R mutating ECS calls per second, then
//! measures steady state, the latency of a change with N resident, and the controller's memory.
//! Prints one table row per scenario; exits non-zero if steady state sent a mutating call.
//!
//! Run with `scripts/bench [SCENARIO...]`, which starts the local control plane and builds the
//! release binary. The simulator runs in this process with its realistic defaults (PENDING first,
//! `currentDeployment` reported 10 s after a create) and 2-second rollouts; the controller is the real
//! `runway` binary watching one fresh namespace, with runway's ECS modify budget set just under R.
//!
//! Figures:
//! - ready: seconds from the first create request to the last resource Ready, and that over N/R;
//! - throttled: calls the simulator answered with ThrottlingException during convergence;
//! - calls/svc: AWS calls during convergence per resource;
//! - reads/res/resync: read calls per resource per resync interval over 2.2 resync intervals of
//!   steady state, and the mutating calls in that window;
//! - apply→update: from the API server accepting a spec patch (its response) to the simulator
//!   receiving UpdateExpressGatewayService for it, p50 and p99 over 50 patches, with N resident and
//!   resyncs running; and the same from sending the patch (the API server's own write included);
//! - RSS: the controller's peak (VmHWM) over all of the above and its resident size at the end of
//!   steady state; then a second controller is started with the N resources resident (a restart):
//!   its peak once its caches have synced (the initial list) and after one resync interval (the
//!   first drift checks);
//! - binary: the size of the release binary.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use runway::api::apprunner::AppRunnerService;
use runway::api::express::ExpressService;
use runway::controller::managed::{Managed, ManagedStatus};
use runway_sim::{FaultConfig, SimConfig, SimHandle, Simulator, StatsSnapshot};
use serde_json::json;
use support::Cluster;
use support::controller::{Options, Runway};

/// App Runner services applied beside the ExpressServices (App Runner's default quota is 30).
const APP_RUNNER_COHORT: usize = 20;
/// Patches timed for the apply→update latency.
const LATENCY_SAMPLES: usize = 50;

/// One benchmark scenario.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    services: usize,
    mutating_per_second: f64,
    resync_seconds: u64,
}

impl Scenario {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let services = parts.next()?.parse().ok()?;
        let mutating_per_second = parts.next().map_or(Some(50.0), |r| r.parse().ok())?;
        let resync_seconds = parts.next().map_or(Some(60), |r| r.parse().ok())?;
        Some(Self {
            services,
            mutating_per_second,
            resync_seconds,
        })
    }
}

/// One row of the table.
struct Row {
    scenario: Scenario,
    apply_seconds: f64,
    ready_seconds: f64,
    throttled: u64,
    calls_per_service: f64,
    reads_per_resync: f64,
    steady_mutating: u64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    sent_p50_ms: f64,
    sent_p99_ms: f64,
    peak_rss_mib: f64,
    steady_rss_mib: f64,
    listed_peak_mib: f64,
    restart_peak_mib: f64,
}

fn express(name: &str) -> ExpressService {
    serde_json::from_value(json!({
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
    }))
    .expect("ExpressService")
}

fn apprunner(name: &str) -> AppRunnerService {
    serde_json::from_value(json!({
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
    }))
    .expect("AppRunnerService")
}

fn is_mutating(key: &str) -> bool {
    runway_sim::stats::is_mutating(key)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn throttled(stats: &StatsSnapshot) -> u64 {
    stats
        .outcomes
        .iter()
        .filter(|(k, _)| k.ends_with(":ThrottlingException") || k.ends_with(":ThrottledException"))
        .map(|(_, v)| v)
        .sum()
}

/// VmHWM and VmRSS of a process, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn ready(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    generation: Option<i64>,
) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True" && c.observed_generation == generation)
}

/// Records, under `prefix/name`, when each object of `api` is first seen Ready.
fn watch_kind<K>(
    api: Api<K>,
    prefix: &'static str,
    start: Instant,
    ready_at: Arc<Mutex<HashMap<String, f64>>>,
) where
    K: kube::Resource<DynamicType = ()>
        + Managed
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
{
    tokio::spawn(async move {
        let mut events = watcher::watcher(api, watcher::Config::default()).boxed();
        while let Ok(Some(event)) = events.try_next().await {
            if let watcher::Event::Apply(o) | watcher::Event::InitApply(o) = event {
                let conditions = o
                    .managed_status()
                    .map(|s| s.common().conditions.as_slice())
                    .unwrap_or_default();
                if ready(conditions, o.meta().generation) {
                    let mut map = ready_at.lock().unwrap_or_else(|e| e.into_inner());
                    let name = format!("{prefix}/{}", o.meta().name.clone().unwrap_or_default());
                    map.entry(name).or_insert_with(|| start.elapsed().as_secs_f64());
                }
            }
        }
    });
}

/// Records when each resource of the namespace is first seen Ready.
fn watch_ready(client: kube::Client, ns: &str, start: Instant) -> Arc<Mutex<HashMap<String, f64>>> {
    let ready_at = Arc::new(Mutex::new(HashMap::new()));
    watch_kind::<ExpressService>(Api::namespaced(client.clone(), ns), "x", start, ready_at.clone());
    watch_kind::<AppRunnerService>(Api::namespaced(client, ns), "a", start, ready_at.clone());
    ready_at
}

async fn run_scenario(cluster: &Cluster, client: &kube::Client, scenario: Scenario) -> Row {
    let Scenario {
        services: n,
        mutating_per_second: r,
        resync_seconds: resync,
    } = scenario;
    let ns = cluster.namespace("bench");
    let sim: SimHandle = Simulator::start(SimConfig {
        ecs_rollout_seconds: 2.0,
        apprunner_operation_seconds: 2.0,
        faults: FaultConfig {
            rate_limit_per_second: std::collections::BTreeMap::from([("ecs:mutate".to_string(), r)]),
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    sim.set_apprunner_service_quota(APP_RUNNER_COHORT.max(30));
    // NB: runway's ECS modify budget is 95 % of the simulator's bucket, with a burst of one second's
    // worth: calls reach the simulator after a varying transit time, which can bunch them up, and the
    // 5 % slack absorbs that (at exactly R the simulator throttled 37 of 1,000 creates). The
    // simulator limits no reads, so the read budgets are lifted to match.
    let modify = r * 0.95;
    let options = Options {
        args: vec![
            "--resync-seconds".into(),
            resync.to_string(),
            "--log-level".into(),
            "warn".into(),
            "--aws-rate-limit".into(),
            format!("ecs:service-modify={modify}/{}", (modify.floor() as u32).max(1)),
            "--aws-rate-limit".into(),
            "ecs:service-read=1000".into(),
            "--aws-rate-limit".into(),
            "ecs:deployment-read=1000".into(),
            "--aws-rate-limit".into(),
            "ecs:tag-read=1000".into(),
        ],
        env: vec![("RUNWAY_LOG_LEVEL".into(), "warn".into())],
        ..Options::default()
    };
    let runway = Runway::start(cluster, &ns, &sim.endpoint(), options.clone());
    let pid = runway.pid();

    // Convergence: create everything at once, 32 requests in flight.
    let xs: Api<ExpressService> = Api::namespaced(client.clone(), &ns);
    let ars: Api<AppRunnerService> = Api::namespaced(client.clone(), &ns);
    let start = Instant::now();
    let ready_at = watch_ready(client.clone(), &ns, start);
    let creates = futures::stream::iter(0..n)
        .map(|i| {
            let xs = xs.clone();
            async move {
                xs.create(&PostParams::default(), &express(&format!("web-{i}")))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>();
    creates.await.expect("create ExpressServices");
    for i in 0..APP_RUNNER_COHORT {
        ars.create(&PostParams::default(), &apprunner(&format!("api-{i}")))
            .await
            .expect("create AppRunnerService");
    }
    let apply_seconds = start.elapsed().as_secs_f64();
    let total = n + APP_RUNNER_COHORT;
    let ideal = n as f64 / r;
    let deadline = start + Duration::from_secs_f64(ideal * 4.0 + 300.0);
    loop {
        let done = ready_at.lock().unwrap_or_else(|e| e.into_inner()).len();
        if done >= total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {total} Ready after {:.0} s:\n{}",
            start.elapsed().as_secs_f64(),
            runway.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready_seconds = ready_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .fold(0.0, |a: f64, b| a.max(*b));
    let converge = sim.stats();

    // Steady state: nothing changes for 2.2 resync intervals.
    sim.reset_stats();
    let window = resync as f64 * 2.2;
    tokio::time::sleep(Duration::from_secs_f64(window)).await;
    let steady = sim.stats();
    let (_, steady_rss_mib) = rss_mib(pid);
    let steady_reads: u64 = steady
        .calls
        .iter()
        .filter(|(k, _)| !is_mutating(k))
        .map(|(_, v)| v)
        .sum();
    let steady_mutating: u64 = steady
        .calls
        .iter()
        .filter(|(k, _)| is_mutating(k))
        .map(|(_, v)| v)
        .sum();

    // Latency: patch one resource at a time and time the update the simulator receives.
    let mut latencies = Vec::new();
    let mut from_sent = Vec::new();
    for i in 0..LATENCY_SAMPLES {
        let name = format!("web-{}", (i * 7919) % n.max(1));
        let before = sim.stats().calls("ecs:UpdateExpressGatewayService");
        let patch = json!({"spec": {"primaryContainer": {"environment": [
            {"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "SAMPLE", "value": i.to_string()}
        ]}}});
        let sent = Instant::now();
        xs.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch");
        let accepted = Instant::now();
        let limit = accepted + Duration::from_secs(30);
        while sim.stats().calls("ecs:UpdateExpressGatewayService") <= before {
            assert!(Instant::now() < limit, "no update for {name} within 30 s");
            tokio::time::sleep(Duration::from_micros(250)).await;
        }
        let done = Instant::now();
        // NB: the watch event can overtake the patch's response, so the update may come first.
        latencies.push(done.saturating_duration_since(accepted).as_secs_f64() * 1000.0);
        from_sent.push((done - sent).as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    latencies.sort_by(f64::total_cmp);
    from_sent.sort_by(f64::total_cmp);
    let (peak_rss_mib, _) = rss_mib(pid);
    drop(runway);

    // Restart with N resident: the initial list, then one resync interval of first checks.
    let mut restart_options = options;
    restart_options.env = vec![("RUNWAY_LOG_LEVEL".into(), "runway=info".into())];
    if let Some(level) = restart_options.args.iter().position(|a| a == "--log-level") {
        restart_options.args.drain(level..=level + 1);
    }
    let restarted = Runway::start(cluster, &ns, &sim.endpoint(), restart_options);
    let limit = Instant::now() + Duration::from_secs(300);
    while !std::fs::read_to_string(&restarted.log)
        .unwrap_or_default()
        .contains("caches synced; ready")
    {
        assert!(
            Instant::now() < limit,
            "no sync after a restart:\n{}",
            restarted.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (listed_peak_mib, _) = rss_mib(restarted.pid());
    tokio::time::sleep(Duration::from_secs(resync)).await;
    let (restart_peak_mib, _) = rss_mib(restarted.pid());
    drop(restarted);

    let converge_calls: u64 = converge.calls.values().sum();
    Row {
        scenario,
        apply_seconds,
        ready_seconds,
        throttled: throttled(&converge),
        calls_per_service: converge_calls as f64 / total as f64,
        reads_per_resync: steady_reads as f64 / total as f64 / (window / resync as f64),
        steady_mutating,
        latency_p50_ms: percentile(&latencies, 0.5),
        latency_p99_ms: percentile(&latencies, 0.99),
        sent_p50_ms: percentile(&from_sent, 0.5),
        sent_p99_ms: percentile(&from_sent, 0.99),
        peak_rss_mib,
        steady_rss_mib,
        listed_peak_mib,
        restart_peak_mib,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let scenarios: Vec<Scenario> = if args.is_empty() {
        vec![Scenario::parse("1000:20:30"), Scenario::parse("5000:50:60")]
            .into_iter()
            .flatten()
            .collect()
    } else {
        args.iter()
            .map(|a| Scenario::parse(a).unwrap_or_else(|| panic!("scenario {a:?} is not N[:R[:RESYNC]]")))
            .collect()
    };
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let client = kube::Client::try_default().await.expect("kube client");
    let binary = std::fs::metadata(env!("CARGO_BIN_EXE_runway")).map_or(0, |m| m.len());

    let mut rows = Vec::new();
    for scenario in scenarios {
        eprintln!(
            "bench: {} ExpressServices (+{APP_RUNNER_COHORT} AppRunnerServices), R = {}/s, resync {} s",
            scenario.services, scenario.mutating_per_second, scenario.resync_seconds
        );
        rows.push(run_scenario(&cluster, &client, scenario).await);
    }

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "runway scale benchmark: release binary {:.1} MB, {cpus} CPUs; ExpressServices plus {APP_RUNNER_COHORT} \
         AppRunnerServices; 2 s simulated rollouts",
        binary as f64 / 1e6
    );
    println!(
        "| N | R/s | resync s | apply s | all Ready s | ÷ N/R | throttled | AWS calls/svc | reads/res/resync | steady mutating | apply→update p50 / p99 ms | patch sent→update p50 / p99 ms | peak RSS MiB | steady RSS MiB | restart: listed / peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut failed = false;
    for row in &rows {
        let s = row.scenario;
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {} | {:.1} | {:.2} | {} | {:.1} / {:.1} | {:.1} / {:.1} | {:.1} | {:.1} | {:.1} / {:.1} |",
            s.services,
            s.mutating_per_second,
            s.resync_seconds,
            row.apply_seconds,
            row.ready_seconds,
            row.ready_seconds / (s.services as f64 / s.mutating_per_second),
            row.throttled,
            row.calls_per_service,
            row.reads_per_resync,
            row.steady_mutating,
            row.latency_p50_ms,
            row.latency_p99_ms,
            row.sent_p50_ms,
            row.sent_p99_ms,
            row.peak_rss_mib,
            row.steady_rss_mib,
            row.listed_peak_mib,
            row.restart_peak_mib,
        );
        failed |= row.steady_mutating > 0;
    }
    if failed {
        eprintln!("FAIL: mutating AWS calls in steady state");
        std::process::exit(1);
    }
}
