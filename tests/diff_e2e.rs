//! `runway diff` end to end: the real binary against the real kube-apiserver and the simulator. Each
//! verdict (create, no change, update with its fields, tags only, redeploy, blocked) is checked,
//! the simulator's counts prove that diff never mutates, and applying the manifest afterwards
//! shows the controller making exactly the call diff announced.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::controller::{Env, Options, is_true};

const XSVC: &str = "expressservice";

fn manifest(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "cpu": "512",
            "memory": "1024",
            "primaryContainer": {"image": image, "containerPort": 8080},
            "tags": [{"key": "team", "value": "web"}]
        }
    })
}

/// Runs `runway diff -f - -n <ns> [extra]` with the manifests on standard input.
fn diff(env: &Env, manifests: &[&Value], extra: &[&str]) -> Output {
    let yaml: Vec<String> = manifests
        .iter()
        .map(|m| runway::manifests::to_string(m).expect("yaml"))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_runway"))
        .args([
            "diff",
            "-f",
            "-",
            "-n",
            &env.ns,
            "--aws-endpoint-url",
            &env.sim.endpoint(),
        ])
        .args(extra)
        .env("KUBECONFIG", env.cluster.kubeconfig_path())
        .env("AWS_ACCESS_KEY_ID", "AKIDDIFFTEST")
        .env("AWS_SECRET_ACCESS_KEY", "diff-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runway diff");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(yaml.join("---\n").as_bytes())
        .expect("write");
    child.wait_with_output().expect("runway diff output")
}

/// `runway diff -o json`: one report per resource, and the exit code. Asserts that the run made no
/// mutating call.
fn reports(env: &Env, manifests: &[&Value]) -> (Vec<Value>, i32) {
    let before = env.sim.stats().mutating_calls();
    let out = diff(env, manifests, &["-o", "json"]);
    let after = env.sim.stats().mutating_calls();
    assert_eq!(
        before,
        after,
        "runway diff made a mutating call: {:?}",
        env.sim.stats().calls
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let reports = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (
        reports,
        out.status
            .code()
            .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr))),
    )
}

fn short_resync() -> Options {
    Options {
        args: vec!["--resync-seconds".into(), "3".into()],
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reports_each_verdict_never_mutates_and_announces_the_controllers_next_call() {
    let env = Env::new("diff", XSVC).await;
    let mut web = manifest("web", "public.ecr.aws/nginx/nginx:1.27");

    // Nothing exists: create, with the request runway would send.
    let (r, code) = reports(&env, &[&web]);
    assert_eq!(code, 2);
    assert_eq!(r[0]["verdict"], "create");
    assert_eq!(r[0]["call"], "CreateExpressGatewayService");
    assert_eq!(r[0]["request"]["serviceName"], "web");
    assert!(
        r[0]["request"]["tags"].to_string().contains("runway.dev/owner"),
        "{}",
        r[0]
    );
    env.sim.reset_stats();
    {
        let _runway = env.runway_with(short_resync());
        env.cluster.apply(&env.ns, &web);
        env.wait_ready("web");
    }
    assert_eq!(env.sim.stats().calls("ecs:CreateExpressGatewayService"), 1);

    // Applied and settled: no change, exit 0; the text form says so too.
    let (r, code) = reports(&env, &[&web]);
    assert_eq!(
        (r[0]["verdict"].as_str(), code),
        (Some("no-change"), 0),
        "{}",
        r[0]
    );
    let text = diff(&env, &[&web], &[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("ExpressService {}/web: no change", env.ns)),
        "{text}"
    );
    assert!(
        text.contains("0 to create, 0 to update, 0 to redeploy, 1 unchanged, 0 blocked."),
        "{text}"
    );

    // A new image: update, with exactly that field.
    web["spec"]["primaryContainer"]["image"] = json!("public.ecr.aws/nginx/nginx:1.28");
    let (r, code) = reports(&env, &[&web]);
    assert_eq!(code, 2);
    assert_eq!(r[0]["verdict"], "update");
    assert_eq!(r[0]["call"], "UpdateExpressGatewayService");
    assert_eq!(
        r[0]["changes"],
        json!([{"field": "primaryContainer.image", "from": "public.ecr.aws/nginx/nginx:1.27",
                "to": "public.ecr.aws/nginx/nginx:1.28"}])
    );
    // A tag edit alone: update, tag calls only. A new redeploy token: redeploy. A second resource
    // whose service name belongs to the first: blocked. Exit 1 for the blocked one.
    let mut tagged = manifest("web", "public.ecr.aws/nginx/nginx:1.27");
    tagged["spec"]["tags"] = json!([{"key": "team", "value": "payments"}]);
    let mut redeploy = manifest("web", "public.ecr.aws/nginx/nginx:1.27");
    redeploy["spec"]["redeployToken"] = json!("2026-12-01");
    let mut thief = manifest("web-copy", "public.ecr.aws/nginx/nginx:1.27");
    thief["spec"]["serviceName"] = json!("web");
    let (r, code) = reports(&env, &[&tagged]);
    assert_eq!((r[0]["verdict"].as_str(), code), (Some("update"), 2), "{}", r[0]);
    assert_eq!(r[0]["call"], "TagResource/UntagResource");
    assert_eq!(
        r[0]["changes"],
        json!([{"field": "tags.team", "from": null, "to": "payments"}])
    );
    let (r, _) = reports(&env, &[&redeploy]);
    assert_eq!(r[0]["verdict"], "redeploy");
    assert_eq!(r[0]["call"], "UpdateService");
    let (r, code) = reports(&env, &[&thief]);
    assert_eq!((r[0]["verdict"].as_str(), code), (Some("blocked"), 1), "{}", r[0]);
    assert!(
        r[0]["reason"]
            .as_str()
            .is_some_and(|m| m.starts_with("ServiceNameInUse")),
        "{}",
        r[0]
    );

    // The controller does what diff announced: one update for the image, then one tag call, then
    // one forced deployment, and nothing for the blocked resource.
    env.sim.reset_stats();
    let _runway = env.runway_with(short_resync());
    env.cluster.apply(&env.ns, &web);
    env.wait_for("web", "the new image rolled out", true, |o| {
        is_true(o, "Ready")
            && o["status"]["targetConfiguration"]["primaryContainer"]["image"]
                == "public.ecr.aws/nginx/nginx:1.28"
    });
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:UpdateExpressGatewayService"),
        1,
        "{:?}",
        stats.calls
    );
    assert_eq!(stats.mutating_calls(), 1, "{:?}", stats.calls);

    web["spec"]["tags"] = json!([{"key": "team", "value": "payments"}]);
    let (r, _) = reports(&env, &[&web]);
    assert_eq!(r[0]["call"], "TagResource/UntagResource", "{}", r[0]);
    env.sim.reset_stats();
    env.cluster.apply(&env.ns, &web);
    env.wait_for("web", "the tag applied", false, |o| {
        o["status"]["appliedTags"] == json!({"team": "payments"})
    });
    let stats = env.sim.stats();
    assert_eq!(stats.calls("ecs:TagResource"), 1, "{:?}", stats.calls);
    assert_eq!(stats.mutating_calls(), 1, "{:?}", stats.calls);

    web["spec"]["redeployToken"] = json!("2026-12-01");
    let (r, _) = reports(&env, &[&web]);
    assert_eq!(r[0]["verdict"], "redeploy");
    env.sim.reset_stats();
    env.cluster.apply(&env.ns, &web);
    env.wait_for("web", "the redeploy started", true, |o| {
        o["status"]["lastRedeployToken"] == "2026-12-01" && is_true(o, "Ready")
    });
    assert_eq!(env.sim.stats().calls("ecs:UpdateService"), 1);

    env.sim.reset_stats();
    env.cluster.apply(&env.ns, &thief);
    env.wait_for("web-copy", "blocked as diff said", false, |o| {
        is_true(o, "Stalled")
    });
    // Two resync periods: the blocked resource sends nothing, and web is settled again.
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(env.sim.stats().mutating_calls(), 0, "{:?}", env.sim.stats().calls);
    let (r, code) = reports(&env, &[&web]);
    assert_eq!(
        (r[0]["verdict"].as_str(), code),
        (Some("no-change"), 0),
        "{}",
        r[0]
    );
}
