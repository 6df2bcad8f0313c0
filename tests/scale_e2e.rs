//! Scale behaviour end to end: what a settled resource costs per resync, how a restart spreads its
//! first checks, and horizontal shards that split resources by label with a Lease each. Every
//! controller here runs with a short resync, and every negative check spans at least two resyncs.
//! The figures at scale (thousands of resources) come from `scripts/bench`, never from a test.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use runway_sim::SimHandle;
use serde_json::{Value, json};
use support::controller::{Env, Options, Runway, eventually, is_true};

const XSVC: &str = "expressservice";
const ARSVC: &str = "apprunnerservice";
/// The resync period of the controllers in the steady-state test.
const RESYNC_SECONDS: u64 = 3;

fn express(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "cpu": "512",
            "memory": "1024",
            "primaryContainer": {
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "containerPort": 8080,
                "environment": [{"name": "A", "value": "1"}]
            }
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
                    "imageConfiguration": {"port": "80", "runtimeEnvironmentVariables": {"MODE": "prod"}}
                },
                "autoDeploymentsEnabled": false
            },
            "instanceConfiguration": {"cpu": "1 vCPU", "memory": "2 GB"}
        }
    })
}

/// Calls other than `Describe*` and `List*`.
/// Waits until every named object of `resource` is Ready, advancing simulated time meanwhile.
fn all_ready(env: &Env, resource: &str, names: &[&str]) {
    for name in names {
        eventually(Duration::from_secs(90), &format!("{name} Ready"), || {
            env.sim.advance(61.0);
            env.cluster
                .get_json(resource, &env.ns, name)
                .filter(|o| is_true(o, "Ready"))
        });
    }
}

/// A controller's log without terminal colour codes.
fn log_text(runway: &Runway) -> String {
    let raw = std::fs::read_to_string(&runway.log).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `ESC [ ... m`.
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The objects a controller's log says it reconciled.
fn reconciled(runway: &Runway) -> BTreeSet<String> {
    let text = log_text(runway);
    text.lines()
        .filter(|l| l.contains("reconciled"))
        .filter_map(|l| l.split("object=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.trim_matches('"').to_string())
        .collect()
}

/// How many times a controller's log says it reconciled `name`.
fn reconciles_of(runway: &Runway, name: &str) -> usize {
    let text = log_text(runway);
    let needle = format!("object={name}");
    text.lines()
        .filter(|l| l.contains("reconciled") && l.split_whitespace().any(|w| w == needle))
        .count()
}

fn settle(sim: &SimHandle, seconds: u64) {
    for _ in 0..seconds {
        sim.advance(61.0);
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_resource_costs_one_read_per_resync_and_a_restart_spreads_its_first_checks() {
    let env = Env::new("scale-steady", XSVC).await;
    let runway = env.runway_with(Options {
        args: vec!["--resync-seconds".into(), RESYNC_SECONDS.to_string()],
        ..Options::default()
    });
    let xs = [
        "steady-1", "steady-2", "steady-3", "steady-4", "steady-5", "steady-6",
    ];
    for name in xs {
        env.cluster.apply(&env.ns, &express(name, json!({})));
    }
    env.cluster.apply(&env.ns, &apprunner("steady-api"));
    all_ready(&env, XSVC, &xs);
    all_ready(&env, ARSVC, &["steady-api"]);
    // Every rollout and operation has ended and been seen; one more resync records it.
    settle(&env.sim, RESYNC_SECONDS + 1);

    env.sim.reset_stats();
    let windows = 3;
    std::thread::sleep(Duration::from_secs(RESYNC_SECONDS * windows));
    let stats = env.sim.stats();
    let mutating = stats.mutating_calls();
    assert_eq!(mutating, 0, "mutating calls in steady state: {:?}", stats.calls);
    for never in [
        "ecs:DescribeServiceDeployments",
        "ecs:DescribeServiceRevisions",
        "ecs:ListServiceDeployments",
        "ecs:ListServices",
        "apprunner:ListOperations",
        "apprunner:ListServices",
        "apprunner:ListTagsForResource",
    ] {
        assert_eq!(
            stats.calls(never),
            0,
            "{never} in steady state: {:?}",
            stats.calls
        );
    }
    let describes = stats.calls("ecs:DescribeExpressGatewayService");
    let resources = xs.len() as u64;
    // One read per resource per resync: checks are at least a resync apart, so a window of three
    // resyncs holds at most four per resource (both ends included), and at least two.
    assert!(
        describes >= 2 * resources && describes <= (windows + 1) * resources,
        "{describes} DescribeExpressGatewayService for {resources} resources over {windows} resyncs"
    );
    let app_runner = stats.calls("apprunner:DescribeService");
    assert!(
        (2..=windows + 1).contains(&app_runner),
        "{app_runner} DescribeService over {windows} resyncs"
    );
    drop(runway);

    // A restart with a 20 s resync: every settled resource is checked once within the interval, at
    // a random point of it, not all in its first seconds.
    env.sim.reset_stats();
    let restarted = env.runway_with(Options {
        args: vec!["--resync-seconds".into(), "20".into()],
        ..Options::default()
    });
    // The window starts at the restarted controller's first check, not at its spawn: start-up
    // (connecting, listing, syncing the cache) would otherwise eat into the window and hide a burst.
    eventually(
        Duration::from_secs(25),
        "the restarted controller's first check",
        || (env.sim.stats().calls("ecs:DescribeExpressGatewayService") >= 1).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(3));
    let early = env.sim.stats().calls("ecs:DescribeExpressGatewayService");
    assert!(
        early < resources,
        "{early} of {resources} resources were described within 3 s of the first check of a 20 s \
         resync after a restart"
    );
    eventually(
        Duration::from_secs(25),
        "each resource checked once after the restart",
        || (env.sim.stats().calls("ecs:DescribeExpressGatewayService") >= resources).then_some(()),
    );
    let stats = env.sim.stats();
    let mutating = stats.mutating_calls();
    assert_eq!(mutating, 0, "a restart sent mutating calls: {:?}", stats.calls);
    assert_eq!(stats.calls("ecs:DescribeServiceDeployments"), 0);
    assert_eq!(stats.calls("ecs:DescribeServiceRevisions"), 0);
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_split_resources_by_label_and_a_moved_resource_changes_shard() {
    let env = Env::new("scale-shards", XSVC).await;
    let shard = |selector: &str, lease: &str| {
        env.runway_with(Options {
            args: vec![
                "--resync-seconds".into(),
                RESYNC_SECONDS.to_string(),
                "--watch-selector".into(),
                selector.into(),
                "--leader-election".into(),
                "--lease-name".into(),
                lease.into(),
                "--lease-namespace".into(),
                env.ns.clone(),
            ],
            ..Options::default()
        })
    };
    // The chart's layout for two shards: shard 0 takes everything not labelled for shard 1.
    let zero = shard("runway.dev/shard notin (1)", "runway-leader-shard-0");
    let one = shard("runway.dev/shard=1", "runway-leader-shard-1");
    let unlabelled = ["shard-x1", "shard-x2", "shard-x3"];
    let labelled = ["shard-y1", "shard-y2"];
    for name in unlabelled {
        env.cluster.apply(&env.ns, &express(name, json!({})));
    }
    for name in labelled {
        env.cluster
            .apply(&env.ns, &express(name, json!({"runway.dev/shard": "1"})));
    }
    let everything: Vec<&str> = unlabelled.iter().chain(labelled.iter()).copied().collect();
    all_ready(&env, XSVC, &everything);
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 5);

    // Both Leases are held, each by its own shard.
    for lease in ["runway-leader-shard-0", "runway-leader-shard-1"] {
        let held = env.cluster.kubectl_ok(
            &[
                "get",
                "lease",
                lease,
                "-n",
                &env.ns,
                "-o",
                "jsonpath={.spec.holderIdentity}",
            ],
            None,
        );
        assert!(!held.trim().is_empty(), "Lease {lease} has no holder");
    }
    settle(&env.sim, 2 * RESYNC_SECONDS + 1);
    let by_zero = reconciled(&zero);
    let by_one = reconciled(&one);
    let want_zero: BTreeSet<String> = unlabelled.iter().map(|s| s.to_string()).collect();
    let want_one: BTreeSet<String> = labelled.iter().map(|s| s.to_string()).collect();
    assert_eq!(by_zero, want_zero, "shard 0 reconciled {by_zero:?}");
    assert_eq!(by_one, want_one, "shard 1 reconciled {by_one:?}");

    // Moving shard-x3 to shard 1, as docs/operations.md says: pause, relabel, unpause.
    let moved = "shard-x3";
    env.cluster.kubectl_ok(
        &["annotate", XSVC, moved, "-n", &env.ns, "runway.dev/paused=true"],
        None,
    );
    std::thread::sleep(Duration::from_secs(2));
    env.cluster
        .kubectl_ok(&["label", XSVC, moved, "-n", &env.ns, "runway.dev/shard=1"], None);
    env.cluster.kubectl_ok(
        &["annotate", XSVC, moved, "-n", &env.ns, "runway.dev/paused-"],
        None,
    );
    let by_zero_before = reconciles_of(&zero, moved);
    let updates = env.sim.stats().calls("ecs:UpdateExpressGatewayService");
    env.cluster.patch(
        XSVC,
        &env.ns,
        moved,
        &json!({"spec": {"primaryContainer": {"environment": [{"name": "A", "value": "2"}]}}}),
    );
    all_ready(&env, XSVC, &[moved]);
    settle(&env.sim, 2 * RESYNC_SECONDS + 1);
    assert_eq!(
        env.sim.stats().calls("ecs:UpdateExpressGatewayService"),
        updates + 1,
        "the moved resource's change was sent other than once"
    );
    assert!(
        reconciles_of(&one, moved) > 0,
        "shard 1 never reconciled the moved resource"
    );
    assert_eq!(
        reconciles_of(&zero, moved),
        by_zero_before,
        "shard 0 still reconciles a resource it no longer selects"
    );
    drop(zero);
    drop(one);
}
