//! `runway diff` end to end: the real binary against the real kube-apiserver and the simulator. Each
//! verdict (create, no change, update with its fields, tags only, redeploy, blocked) is checked,
//! the simulator's counts prove that diff never mutates, and applying the manifest afterwards
//! shows the controller making exactly the call diff announced. Then the exit codes (0, 1, 2 and 3
//! for errors), `kind: List` expansion, the documents it skips, and the controller's settings read
//! from its Deployment.

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
    diff_text(env, &yaml.join("---\n"), extra, &[])
}

/// Runs `runway diff -f - -n <ns> [extra]` with `text` on standard input and `vars` in its
/// environment.
fn diff_text(env: &Env, text: &str, extra: &[&str], vars: &[(&str, &str)]) -> Output {
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
        .env_remove("RUNWAY_ALLOWED_ACCOUNT_IDS")
        .env_remove("RUNWAY_REQUIRE_NAMESPACE_ROLE")
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runway diff");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
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

/// What one `runway diff -o json` run said: its reports, exit code and stderr. Asserts that it
/// made no mutating call.
struct Said {
    reports: Vec<Value>,
    code: i32,
    stderr: String,
}

fn said(env: &Env, text: &str, extra: &[&str], vars: &[(&str, &str)]) -> Said {
    let before = env.sim.stats().mutating_calls();
    let mut args = vec!["-o", "json"];
    args.extend_from_slice(extra);
    let out = diff_text(env, text, &args, vars);
    assert_eq!(
        before,
        env.sim.stats().mutating_calls(),
        "runway diff made a mutating call"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Said {
        reports: String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect(),
        code: out.status.code().unwrap_or_else(|| panic!("killed: {stderr}")),
        stderr,
    }
}

fn yaml(value: &Value) -> String {
    runway::manifests::to_string(value).expect("yaml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_expands_lists_names_what_it_skips_and_exits_3_on_errors() {
    let env = Env::new("diff-exit", XSVC).await;
    let web = manifest("web", "public.ecr.aws/nginx/nginx:1.27");
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}});

    // A List (as `kubectl get -o yaml` writes it) holding a runway resource and a ConfigMap: the
    // resource is compared, the ConfigMap named on stderr as skipped.
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [web, config_map]});
    let s = said(&env, &yaml(&list), &[], &[]);
    assert_eq!(s.code, 2, "{}", s.stderr);
    assert_eq!(s.reports.len(), 1, "{:?}", s.reports);
    assert_eq!(s.reports[0]["name"], "web");
    assert_eq!(s.reports[0]["verdict"], "create");
    assert!(
        s.stderr
            .contains("document 2 (v1 ConfigMap settings): not a runway resource"),
        "{}",
        s.stderr
    );

    // Only documents that are not runway's: nothing to compare, exit 0, and each one named.
    let s = said(&env, &yaml(&config_map), &[], &[]);
    assert_eq!((s.code, s.reports.len()), (0, 0), "{}", s.stderr);
    assert!(s.stderr.contains("ConfigMap settings"), "{}", s.stderr);

    // A runway.dev document of a version runway does not serve: an error naming it, exit 3, and
    // no verdict for anything.
    let mut future = web.clone();
    future["apiVersion"] = json!("runway.dev/v1beta1");
    let text = format!("{}---\n{}", yaml(&web), yaml(&future));
    let s = said(&env, &text, &[], &[]);
    assert_eq!(s.code, 3, "{}", s.stderr);
    assert!(s.reports.is_empty(), "{:?}", s.reports);
    assert!(
        s.stderr
            .contains("standard input, document 2 (runway.dev/v1beta1 ExpressService"),
        "{}",
        s.stderr
    );

    // Bad flags, and no cluster to read: 3 as well, never 1 (blocked) or 2 (changes).
    let s = said(&env, &yaml(&web), &["--no-such-flag"], &[]);
    assert_eq!(s.code, 3, "{}", s.stderr);
    let s = said(
        &env,
        &yaml(&web),
        &[],
        &[("KUBECONFIG", "/nonexistent/kubeconfig")],
    );
    assert_eq!(s.code, 3, "{}", s.stderr);
    assert!(s.reports.is_empty(), "{:?}", s.reports);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_decides_with_the_controllers_settings_read_from_its_deployment() {
    let env = Env::new("diff-deploy", XSVC).await;
    let web = yaml(&manifest("web", "public.ecr.aws/nginx/nginx:1.27"));
    // The controller's Deployment, as the chart writes it (no kubelet runs it here): an allow-list
    // without the own account (123456789012), and a role required on every namespace.
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "runway"},
        "spec": {
            "selector": {"matchLabels": {"app": "runway"}},
            "template": {
                "metadata": {"labels": {"app": "runway"}},
                "spec": {"containers": [{
                    "name": "runway",
                    "image": "ghcr.io/runway-dev/runway:0.1.0",
                    "args": ["run"],
                    "env": [
                        {"name": "AWS_REGION", "value": "us-east-1"},
                        {"name": "RUNWAY_ALLOWED_ACCOUNT_IDS", "value": "210987654321"},
                        {"name": "RUNWAY_REQUIRE_NAMESPACE_ROLE", "value": "true"}
                    ]
                }]}
            }
        }
    });
    env.cluster.apply(&env.ns, &deployment);
    let from = format!("{}/runway", env.ns);

    // Without the controller's settings diff would announce a create the controller refuses.
    let s = said(&env, &web, &[], &[]);
    assert_eq!((s.code, s.reports[0]["verdict"].as_str()), (2, Some("create")));

    // With them: blocked, for the reason the controller would give.
    let s = said(&env, &web, &["--from-deployment", &from], &[]);
    assert_eq!(s.code, 1, "{}", s.stderr);
    let reason = s.reports[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("NamespaceRoleRequired"), "{}", s.reports[0]);

    // Flags win over the Deployment: without the role requirement, the allow-list still refuses
    // the own account; with the own account allowed too, the create is back.
    let s = said(
        &env,
        &web,
        &["--from-deployment", &from, "--require-namespace-role=false"],
        &[],
    );
    assert_eq!(s.code, 1, "{}", s.stderr);
    let reason = s.reports[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("AccountNotAllowed") && reason.contains("123456789012"),
        "{}",
        s.reports[0]
    );
    let s = said(
        &env,
        &web,
        &[
            "--from-deployment",
            &from,
            "--require-namespace-role=false",
            "--allowed-account-ids",
            "123456789012",
        ],
        &[],
    );
    assert_eq!(
        (s.code, s.reports[0]["verdict"].as_str()),
        (2, Some("create")),
        "{}",
        s.stderr
    );

    // The environment does not override the Deployment; a missing Deployment is an error.
    let s = said(
        &env,
        &web,
        &["--from-deployment", &from],
        &[("RUNWAY_REQUIRE_NAMESPACE_ROLE", "false")],
    );
    assert_eq!(s.code, 1, "{}", s.stderr);
    let s = said(
        &env,
        &web,
        &["--from-deployment", &format!("{}/nothing", env.ns)],
        &[],
    );
    assert_eq!(s.code, 3, "{}", s.stderr);
    assert!(s.stderr.contains("nothing"), "{}", s.stderr);
    // Without --from-deployment, the same settings come from diff's environment.
    let s = said(&env, &web, &[], &[("RUNWAY_REQUIRE_NAMESPACE_ROLE", "true")]);
    assert_eq!(s.code, 1, "{}", s.stderr);
}
