//! Running runway in production shape, on the real apiserver: leader election between two replicas,
//! the controller running as the Helm chart's own ServiceAccount under RBAC, and the metrics and
//! health endpoints.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Cluster;
use support::controller::{Options, Runway, eventually, is_true, simulator};
use support::http::{free_port, http_get};

const WAIT: Duration = Duration::from_secs(60);

fn manifest(name: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27"}
        }
    })
}

fn lease_holder(cluster: &Cluster, ns: &str, lease: &str) -> Option<String> {
    let out = cluster.kubectl(
        &[
            "get",
            "lease",
            lease,
            "-n",
            ns,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        None,
    );
    let holder = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !holder.is_empty()).then_some(holder)
}

/// A replica with leader election. Its resync is 5 s: a new leader checks settled resources at a
/// random point of its first resync interval, not all at once.
fn leader_options(identity: &str, ns: &str, metrics_port: u16) -> Options {
    Options {
        env: vec![("POD_NAME".into(), identity.into())],
        args: vec![
            "--resync-seconds".into(),
            "5".into(),
            "--leader-election".into(),
            "--lease-name".into(),
            "runway-test-leader".into(),
            "--lease-namespace".into(),
            ns.into(),
            "--lease-duration-seconds".into(),
            "5".into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{metrics_port}"),
        ],
        ..Options::default()
    }
}

/// Waits until `/metrics` on `port` holds `line`.
fn metric_line(port: u16, line: &str) {
    eventually(WAIT, line, || {
        let (_, text) = http_get(port, "/metrics");
        text.lines().any(|l| l == line).then_some(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_calls_aws_and_a_follower_takes_over_within_the_lease_duration() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("leader");
    // Each replica gets its own simulator, so the call counts show which replica acted.
    let sim_a = simulator().await;
    let sim_b = simulator().await;
    let port_a = free_port();
    let mut a = Runway::start(
        &cluster,
        &ns,
        &sim_a.endpoint(),
        leader_options("replica-a", &ns, port_a),
    );
    eventually(WAIT, "replica-a to hold the lease", || {
        (lease_holder(&cluster, &ns, "runway-test-leader").as_deref() == Some("replica-a")).then_some(())
    });
    let port_b = free_port();
    let _b = Runway::start(
        &cluster,
        &ns,
        &sim_b.endpoint(),
        leader_options("replica-b", &ns, port_b),
    );

    cluster.apply(&ns, &manifest("web"));
    eventually(WAIT, "Ready through the leader", || {
        sim_a.advance(61.0);
        cluster
            .get_json("xsvc", &ns, "web")
            .filter(|o| is_true(o, "Ready"))
    });
    assert_eq!(sim_a.stats().calls("ecs:CreateExpressGatewayService"), 1);
    let follower_calls: u64 = sim_b.stats().calls.values().sum();
    assert_eq!(follower_calls, 0, "the follower sent {:?}", sim_b.stats().calls);
    // The standby replica is alive and ready (it only waits for the lease), and says it does not lead.
    assert_eq!(http_get(port_b, "/readyz").0, 200);
    metric_line(port_a, "runway_leader 1");
    metric_line(port_b, "runway_leader 0");
    let (_, standby) = http_get(port_b, "/metrics");
    assert!(
        !standby.contains("runway_resources{"),
        "a standby counts no resources:\n{standby}"
    );
    assert_eq!(
        lease_holder(&cluster, &ns, "runway-test-leader").as_deref(),
        Some("replica-a")
    );

    // Kill the leader without letting it release the lease.
    a.kill();
    let killed = Instant::now();
    eventually(Duration::from_secs(30), "replica-b to take the lease", || {
        (lease_holder(&cluster, &ns, "runway-test-leader").as_deref() == Some("replica-b")).then_some(())
    });
    let takeover = killed.elapsed();
    assert!(
        takeover < Duration::from_secs(5 + 10),
        "takeover took {takeover:?}"
    );
    // The new leader reconciles: it finds the service gone from its own AWS and creates it there.
    eventually(WAIT, "the new leader to act", || {
        sim_b.advance(61.0);
        (sim_b.stats().calls("ecs:CreateExpressGatewayService") == 1).then_some(())
    });
    metric_line(port_b, "runway_leader 1");
    println!("leader takeover after kill: {takeover:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_works_as_the_charts_service_account_and_nothing_more() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let system = cluster.namespace("runway-system");
    let apps = cluster.namespace("apps");
    // The chart's RBAC and ServiceAccount, rendered exactly as `helm install` would create them.
    let rendered = std::process::Command::new("helm")
        .args([
            "template",
            "rbac-e2e",
            "deploy/helm/runway",
            "--namespace",
            &system,
        ])
        .args(["--set", "fullnameOverride=runway-rbac-e2e"])
        .current_dir(support::repo_root())
        .output()
        .expect("helm template");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let rendered = String::from_utf8(rendered.stdout).expect("utf8");
    let rbac: Vec<&str> = rendered
        .split("\n---")
        .filter(|doc| {
            [
                "kind: ServiceAccount",
                "kind: ClusterRole",
                "kind: ClusterRoleBinding",
                "kind: Role",
                "kind: RoleBinding",
            ]
            .iter()
            .any(|k| doc.lines().any(|l| l.trim() == *k))
        })
        .collect();
    assert!(
        rbac.len() >= 5,
        "ServiceAccount, ClusterRole(+Binding), Role(+Binding): {}",
        rbac.len()
    );
    cluster.kubectl_ok(&["apply", "-n", &system, "-f", "-"], Some(&rbac.join("\n---\n")));

    // A kubeconfig holding only the ServiceAccount's token.
    let token = cluster.kubectl_ok(
        &[
            "create",
            "token",
            "runway-rbac-e2e",
            "-n",
            &system,
            "--duration",
            "1h",
        ],
        None,
    );
    let admin = std::fs::read_to_string(cluster.kubeconfig_path()).expect("kubeconfig");
    let admin_token = admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("admin token line")
        .to_string();
    let sa_config = admin.replace(&admin_token, token.trim());
    let path = std::env::temp_dir().join(format!("runway-sa-{}.kubeconfig", std::process::id()));
    std::fs::write(&path, sa_config).expect("write kubeconfig");

    // Verbs the controller does not need are denied to it.
    let as_sa = |args: &[&str]| {
        std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&path)
            .args(args)
            .output()
            .expect("kubectl")
    };
    for denied in [
        vec!["get", "secrets", "-n", apps.as_str()],
        vec!["delete", "xsvc", "web", "-n", apps.as_str()],
        vec!["create", "serviceaccount", "x", "-n", apps.as_str()],
    ] {
        let out = as_sa(&denied);
        assert!(!out.status.success(), "{denied:?} was allowed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("Forbidden") || stderr.contains("forbidden"),
            "{denied:?}: {stderr}"
        );
    }

    // A whole lifecycle as that identity, with leader election in the release namespace.
    let sim = simulator().await;
    let _runway = Runway::start(
        &cluster,
        &apps,
        &sim.endpoint(),
        Options {
            env: vec![
                ("POD_NAME".into(), "runway-sa-0".into()),
                ("POD_NAMESPACE".into(), system.clone()),
            ],
            args: vec!["--leader-election".into()],
            kubeconfig: Some(path.clone()),
            ..Options::default()
        },
    );
    cluster.apply(&apps, &manifest("web"));
    let ready = eventually(WAIT, "Ready as the ServiceAccount", || {
        sim.advance(61.0);
        cluster
            .get_json("xsvc", &apps, "web")
            .filter(|o| is_true(o, "Ready"))
    });
    assert!(ready["status"]["serviceArn"].is_string());
    assert!(
        cluster
            .event_reasons(&apps, "web")
            .contains(&"Created".to_string())
    );
    assert_eq!(
        lease_holder(&cluster, &system, "runway-leader").as_deref(),
        Some("runway-sa-0")
    );
    // An update, and a failure written into the conditions, as that identity.
    let mut changed = manifest("web");
    changed["spec"]["primaryContainer"]["image"] = serde_json::json!("public.ecr.aws/nginx/nginx:1.28");
    cluster.apply(&apps, &changed);
    eventually(WAIT, "the update Ready as the ServiceAccount", || {
        sim.advance(61.0);
        cluster.get_json("xsvc", &apps, "web").filter(|o| {
            is_true(o, "Ready")
                && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                    == "public.ecr.aws/nginx/nginx:1.28"
        })
    });
    assert_eq!(sim.stats().calls("ecs:UpdateExpressGatewayService"), 1);
    cluster.kubectl_ok(&["delete", "xsvc", "web", "-n", &apps, "--wait=false"], None);
    eventually(Duration::from_secs(90), "deletion as the ServiceAccount", || {
        sim.advance(61.0);
        cluster.get_json("xsvc", &apps, "web").is_none().then_some(())
    });
    assert_eq!(sim.stats().calls("ecs:DeleteExpressGatewayService"), 1);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_reconciles_and_aws_calls_and_health_endpoints_answer() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("metrics");
    let sim = simulator().await;
    let port = free_port();
    let _runway = Runway::start(
        &cluster,
        &ns,
        &sim.endpoint(),
        Options {
            args: vec!["--metrics-addr".into(), format!("127.0.0.1:{port}")],
            ..Options::default()
        },
    );
    eventually(WAIT, "/readyz once caches synced", || {
        (http_get(port, "/readyz").0 == 200).then_some(())
    });
    assert_eq!(http_get(port, "/healthz"), (200, "ok".to_string()));
    cluster.apply(&ns, &manifest("web"));
    eventually(WAIT, "Ready", || {
        sim.advance(61.0);
        cluster
            .get_json("xsvc", &ns, "web")
            .filter(|o| is_true(o, "Ready"))
    });
    // Without leader election the one replica leads.
    metric_line(port, &resources("ExpressService", "ready", 1));
    let (code, text) = http_get(port, "/metrics");
    assert_eq!(code, 200);
    for want in [
        r#"runway_aws_calls_total{service="ecs",operation="CreateExpressGatewayService",outcome="ok"} 1"#,
        r#"runway_aws_calls_total{service="ecs",operation="DescribeExpressGatewayService",outcome="ok"}"#,
        r#"runway_reconciles_total{kind="ExpressService",result="ok"}"#,
        "runway_reconcile_duration_seconds_bucket",
        "runway_queue_depth",
        "\nrunway_leader 1\n",
    ] {
        assert!(text.contains(want), "/metrics lacks {want}:\n{text}");
    }
}

/// Options of a controller that serves `/metrics` on `port`, checks settled resources every
/// `resync` seconds and leaves resources labelled `runway.dev/shard=other` to another shard.
fn shard_options(port: u16, resync: u32) -> Options {
    Options {
        args: vec![
            "--metrics-addr".into(),
            format!("127.0.0.1:{port}"),
            "--resync-seconds".into(),
            resync.to_string(),
            "--watch-selector".into(),
            "runway.dev/shard notin (other)".into(),
        ],
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_by_state_count_each_live_resource_once_by_its_latest_reconcile() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("states");
    let sim = simulator().await;
    let port = free_port();
    // A short resync, so that a resource that left the watch is seen gone soon.
    let mut runway = Runway::start(&cluster, &ns, &sim.endpoint(), shard_options(port, 3));
    // The leader counts zero of each state from its start.
    for state in ["ready", "progressing", "stalled"] {
        metric_line(port, &resources("ExpressService", state, 0));
        metric_line(port, &resources("AppRunnerService", state, 0));
    }

    // A create in flight is progressing (the simulator's clock stands still), then ready.
    cluster.apply(&ns, &manifest("web"));
    metric_line(port, &resources("ExpressService", "progressing", 1));
    eventually(WAIT, "Ready", || {
        sim.advance(61.0);
        cluster
            .get_json("xsvc", &ns, "web")
            .filter(|o| is_true(o, "Ready"))
    });
    metric_line(port, &resources("ExpressService", "ready", 1));
    metric_line(port, &resources("ExpressService", "progressing", 0));

    // A plan that stalls a resource (its reconcile ends ok) counts as stalled.
    let mut gone = manifest("gone");
    gone["spec"] = json!({
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/default/gone",
        "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27"}
    });
    cluster.apply(&ns, &gone);
    metric_line(port, &resources("ExpressService", "stalled", 1));

    // A resource that leaves the watch (another shard's now) leaves the count at its next check.
    let other_shard = json!({"metadata": {"labels": {"runway.dev/shard": "other"}}});
    cluster.patch("xsvc", &ns, "gone", &other_shard);
    metric_line(port, &resources("ExpressService", "stalled", 0));

    // A paused resource leaves the count until it is resumed.
    let paused = |value: Value| json!({"metadata": {"annotations": {"runway.dev/paused": value}}});
    cluster.patch("xsvc", &ns, "web", &paused(json!("true")));
    metric_line(port, &resources("ExpressService", "ready", 0));
    cluster.patch("xsvc", &ns, "web", &paused(Value::Null));
    metric_line(port, &resources("ExpressService", "ready", 1));

    // After a restart, a resource that was Ready counts as ready before its first check.
    runway.kill();
    let port = free_port();
    let _restarted = Runway::start(&cluster, &ns, &sim.endpoint(), shard_options(port, 600));
    metric_line(port, &resources("ExpressService", "ready", 1));
    let (_, text) = http_get(port, "/metrics");
    assert!(
        !text.contains(r#"runway_reconciles_total{kind="ExpressService""#),
        "no reconcile yet:\n{text}"
    );

    // A deleted resource leaves the count once its deletion finishes.
    cluster.kubectl_ok(&["delete", "xsvc", "web", "-n", &ns, "--wait=false"], None);
    eventually(WAIT, "deleted", || {
        sim.advance(61.0);
        cluster.get_json("xsvc", &ns, "web").is_none().then_some(())
    });
    for state in ["ready", "progressing", "stalled"] {
        metric_line(port, &resources("ExpressService", state, 0));
    }
}

/// The `runway_resources` sample of `kind` and `state`.
fn resources(kind: &str, state: &str, count: u32) -> String {
    format!(r#"runway_resources{{kind="{kind}",state="{state}"}} {count}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_leader_cleanly_and_releases_the_lease() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("sigterm");
    let sim = simulator().await;
    let mut a = Runway::start(
        &cluster,
        &ns,
        &sim.endpoint(),
        leader_options("replica-a", &ns, free_port()),
    );
    eventually(WAIT, "replica-a to hold the lease", || {
        (lease_holder(&cluster, &ns, "runway-test-leader").as_deref() == Some("replica-a")).then_some(())
    });
    cluster.apply(&ns, &manifest("web"));
    eventually(WAIT, "Ready", || {
        sim.advance(61.0);
        cluster
            .get_json("xsvc", &ns, "web")
            .filter(|o| is_true(o, "Ready"))
    });

    a.terminate();
    assert_eq!(
        a.wait_exit(Duration::from_secs(20)),
        Some(0),
        "clean exit: {}",
        a.log_tail()
    );
    // The lease is released on the way out, not left to expire.
    assert_eq!(lease_holder(&cluster, &ns, "runway-test-leader"), None);
    assert!(
        a.log_tail().contains("released the leader lease"),
        "{}",
        a.log_tail()
    );

    // A new replica takes over and finds nothing to change.
    let mutating_before = sim.stats().calls("ecs:CreateExpressGatewayService");
    let describes = sim.stats().calls("ecs:DescribeExpressGatewayService");
    let _b = Runway::start(
        &cluster,
        &ns,
        &sim.endpoint(),
        leader_options("replica-b", &ns, free_port()),
    );
    eventually(Duration::from_secs(20), "replica-b to take the lease", || {
        (lease_holder(&cluster, &ns, "runway-test-leader").as_deref() == Some("replica-b")).then_some(())
    });
    eventually(WAIT, "replica-b to read the service", || {
        (sim.stats().calls("ecs:DescribeExpressGatewayService") > describes).then_some(())
    });
    assert_eq!(
        sim.stats().calls("ecs:CreateExpressGatewayService"),
        mutating_before
    );
    assert_eq!(sim.stats().calls("ecs:UpdateExpressGatewayService"), 0);
}
