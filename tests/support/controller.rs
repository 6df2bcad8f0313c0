//! End-to-end support: the real `runway run` binary as a child process, watching one namespace and
//! talking to an in-process AWS simulator, plus polling helpers on the real apiserver.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runway_sim::{SimConfig, SimHandle, Simulator};
use serde_json::Value;

use super::Cluster;

/// Rollouts and operations take a simulated minute, so only `advance` finishes them.
pub const STAGE_SECONDS: f64 = 60.0;

/// A simulator whose stages last [`STAGE_SECONDS`].
pub async fn simulator() -> SimHandle {
    Simulator::start(SimConfig {
        ecs_rollout_seconds: STAGE_SECONDS,
        ecs_drain_seconds: STAGE_SECONDS,
        ecs_inactive_seconds: STAGE_SECONDS,
        apprunner_operation_seconds: STAGE_SECONDS,
        apprunner_deleted_seconds: STAGE_SECONDS,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// How to start a controller process.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Extra environment variables, such as `RUNWAY_FAILPOINT`.
    pub env: Vec<(String, String)>,
    /// Extra command-line arguments.
    pub args: Vec<String>,
    /// Use this kubeconfig instead of the admin one.
    pub kubeconfig: Option<PathBuf>,
    /// Watch every namespace instead of the test's own (pair it with `--watch-selector`, so that
    /// other tests' resources are left alone).
    pub all_namespaces: bool,
    /// Run this command line (the program, then the arguments that stand for `runway run`) instead
    /// of the test build's `runway run`, such as the image's entrypoint under `chroot`.
    pub program: Option<Vec<String>>,
}

/// A running `runway run` process; killed on drop.
pub struct Runway {
    child: Child,
    /// Where its log goes.
    pub log: PathBuf,
}

impl Runway {
    /// Starts `runway run` for `namespace` against the simulator at `endpoint`.
    pub fn start(cluster: &Cluster, namespace: &str, endpoint: &str, options: Options) -> Self {
        let dir = super::repo_root().join("target").join("e2e-logs");
        std::fs::create_dir_all(&dir).expect("log dir");
        // NB: two controllers started in the same millisecond (shards) need two files.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let log = dir.join(format!(
            "{namespace}-{}-{}.log",
            std::time::UNIX_EPOCH.elapsed().expect("time").as_millis(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let file = std::fs::File::create(&log).expect("log file");
        let kubeconfig = options
            .kubeconfig
            .clone()
            .unwrap_or_else(|| PathBuf::from(cluster.kubeconfig_path()));
        let mut cmd = match options.program.as_deref() {
            Some([program, args @ ..]) => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            _ => {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_runway"));
                cmd.arg("run");
                cmd
            }
        };
        cmd.args(["--aws-endpoint-url", endpoint]);
        if !options.all_namespaces {
            cmd.args(["--namespace", namespace]);
        }
        cmd.env("RUNWAY_METRICS_ADDR", "127.0.0.1:0")
            .env("RUNWAY_LOG_LEVEL", "runway=debug,kube=info")
            .args(&options.args)
            .env("KUBECONFIG", kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "AKIDRUNWAYTEST")
            .env("AWS_SECRET_ACCESS_KEY", "runway-test-secret")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file);
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("runway starts");
        Self { child, log }
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process (SIGKILL, as a crash would).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM, as Kubernetes does when it stops a pod.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "could not signal runway");
    }

    /// Waits up to `timeout` for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// The whole log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Runway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `f` every 250 ms until it returns `Some`, or panics after `timeout` naming `what`.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Lets at least two full resync periods of `resync_seconds` pass in real time, so that the
/// controller resyncs twice, while the simulator's clock moves past any rollout or operation: the
/// span of every "nothing was sent again" check.
pub fn two_resyncs(sim: &SimHandle, resync_seconds: u64) {
    for _ in 0..(2 * resync_seconds + 2) {
        sim.advance(61.0);
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The status, reason and message of condition `type_` in an object's status.
pub fn condition(obj: &Value, type_: &str) -> Option<(String, String, String)> {
    obj["status"]["conditions"].as_array()?.iter().find_map(|c| {
        (c["type"] == type_).then(|| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
                c["message"].as_str().unwrap_or_default().to_string(),
            )
        })
    })
}

/// The reason of condition `type_`, empty when the object has no such condition.
pub fn reason(obj: &Value, type_: &str) -> String {
    condition(obj, type_).map(|c| c.1).unwrap_or_default()
}

/// Whether condition `type_` is True and describes the object's current generation.
pub fn is_true(obj: &Value, type_: &str) -> bool {
    let current = obj["metadata"]["generation"].as_i64() == obj["status"]["observedGeneration"].as_i64();
    current && condition(obj, type_).is_some_and(|(s, _, _)| s == "True")
}

impl Cluster {
    /// The object as JSON, or `None` when it does not exist.
    pub fn get_json(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        let out = self.kubectl(&["get", resource, name, "-n", ns, "-o", "json"], None);
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).expect("kubectl JSON"))
    }

    /// Applies a manifest (JSON) into `ns`.
    pub fn apply(&self, ns: &str, manifest: &Value) {
        self.kubectl_ok(&["apply", "-n", ns, "-f", "-"], Some(&manifest.to_string()));
    }

    /// Merge-patches an object.
    pub fn patch(&self, resource: &str, ns: &str, name: &str, patch: &Value) {
        self.kubectl_ok(
            &[
                "patch",
                resource,
                name,
                "-n",
                ns,
                "--type",
                "merge",
                "-p",
                &patch.to_string(),
            ],
            None,
        );
    }

    /// The reasons of the Events recorded about an object.
    pub fn event_reasons(&self, ns: &str, name: &str) -> Vec<String> {
        let out = self.kubectl_ok(
            &[
                "get",
                "events.events.k8s.io",
                "-n",
                ns,
                "--field-selector",
                &format!("regarding.name={name}"),
                "-o",
                "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}",
            ],
            None,
        );
        out.lines().map(str::to_string).collect()
    }
}

/// One end-to-end test's world: a fresh namespace on the shared control plane, its own simulator,
/// and helpers for one resource kind (`expressservice` or `apprunnerservice`).
pub struct Env {
    /// The control plane.
    pub cluster: Cluster,
    /// The test's namespace.
    pub ns: String,
    /// The test's AWS simulator.
    pub sim: SimHandle,
    resource: &'static str,
}

/// How long a test waits for one expected state.
pub const WAIT: Duration = Duration::from_secs(60);

impl Env {
    /// Installs the CRDs, creates a namespace starting with `prefix` and starts a simulator.
    pub async fn new(prefix: &str, resource: &'static str) -> Self {
        let cluster = Cluster::from_env();
        cluster.install_crds();
        let ns = cluster.namespace(prefix);
        Self {
            cluster,
            ns,
            sim: simulator().await,
            resource,
        }
    }

    /// Starts `runway run` for the namespace.
    pub fn runway(&self) -> Runway {
        self.runway_with(Options::default())
    }

    /// Starts `runway run` for the namespace with extra options.
    pub fn runway_with(&self, options: Options) -> Runway {
        Runway::start(&self.cluster, &self.ns, &self.sim.endpoint(), options)
    }

    /// The object, or `None` when it does not exist.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.cluster.get_json(self.resource, &self.ns, name)
    }

    /// Waits until `pred` holds for the object, advancing simulated time past every stage meanwhile
    /// when `advance` is set.
    pub fn wait_for(&self, name: &str, what: &str, advance: bool, pred: impl Fn(&Value) -> bool) -> Value {
        eventually(WAIT, what, || {
            if advance {
                self.sim.advance(STAGE_SECONDS + 1.0);
            }
            self.get(name).filter(|o| pred(o))
        })
    }

    /// Waits until the object is Ready for its current generation.
    pub fn wait_ready(&self, name: &str) -> Value {
        self.wait_for(name, "Ready=True", true, |o| is_true(o, "Ready"))
    }
}

/// The `runway.dev/owner` tag of an ECS service, as `ecs` (a client of the service's account) lists
/// it; `None` when the service has none.
pub async fn owner_tag(ecs: &aws_sdk_ecs::Client, arn: &str) -> Option<String> {
    let listed = ecs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags");
    listed
        .tags()
        .iter()
        .find(|t| t.key() == Some("runway.dev/owner"))
        .and_then(|t| t.value().map(str::to_string))
}
