//! runway's monitoring as the Helm chart ships it: the PrometheusRule, the Grafana dashboard and the
//! ServiceMonitor.
//!
//! The alert rules pass `promtool check rules` and the promtool unit tests in
//! `deploy/helm/runway/tests/alerts.test.yaml`; the dashboard's queries parse as PromQL (promtool checks
//! them as recording rules); every metric that an alert or a panel names is one runway exports, and
//! `docs/operations.md` lists every exported metric with its labels; `helm install` with the monitoring
//! values creates the three objects on the test apiserver once the Prometheus Operator's CRDs
//! (vendored in `tests/fixtures/monitoring.coreos.com/`) are applied.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::{Cluster, repo_root};

const CHART: &str = "deploy/helm/runway";

/// Every alert the chart defines.
const ALERTS: [&str; 4] = [
    "RunwayResourcesStalled",
    "RunwayAwsThrottled",
    "RunwayAwsBudgetExhausted",
    "RunwayLeaderMissing",
];

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("{program} on PATH (scripts/test puts the pinned builds first): {e}"))
}

fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One object that `helm template` renders from `template` as release `runway` in `runway-system`.
fn render(template: &str, sets: &[&str]) -> Value {
    let mut args = vec![
        "template",
        "runway",
        CHART,
        "--namespace",
        "runway-system",
        "--show-only",
        template,
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    let mut objects = runway::manifests::documents(&run_ok("helm", &args)).expect("YAML documents");
    assert_eq!(objects.len(), 1, "{template} renders one object");
    objects.remove(0)
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("runway-monitoring-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write scratch file");
        path.to_str().expect("utf8").to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The rule groups of a rendered PrometheusRule, as a promtool rule file (JSON is YAML).
fn rule_file(rule: &Value) -> String {
    json!({"groups": rule["spec"]["groups"]}).to_string()
}

/// The alert names of a rendered PrometheusRule.
fn alert_names(rule: &Value) -> Vec<String> {
    rule["spec"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .map(|r| r["alert"].as_str().expect("alert name").to_string())
        .collect()
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    let scratch = Scratch::new("rules");
    let rule = render(
        "templates/prometheusrule.yaml",
        &["metrics.prometheusRule.enabled=true"],
    );
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(alert_names(&rule), ALERTS);
    let rules = scratch.write("runway-rules.yaml", &rule_file(&rule));
    let check = run_ok("promtool", &["check", "rules", &rules]);
    assert!(check.contains("SUCCESS: 4 rules found"), "{check}");

    // NB: the unit tests name their rule file relative to themselves, so both go into one directory.
    let tests = std::fs::read_to_string(repo_root().join(CHART).join("tests/alerts.test.yaml"))
        .expect("deploy/helm/runway/tests/alerts.test.yaml");
    let tests = scratch.write("alerts.test.yaml", &tests);
    let out = run("promtool", &["test", "rules", &tests]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.contains("SUCCESS"),
        "promtool test rules:\n{report}"
    );
}

#[test]
fn alert_rules_follow_the_values() {
    assert!(
        run_ok("helm", &["template", "runway", CHART])
            .lines()
            .all(|l| l != "kind: PrometheusRule"),
        "no PrometheusRule unless enabled"
    );
    let rule = render(
        "templates/prometheusrule.yaml",
        &[
            "metrics.prometheusRule.enabled=true",
            "metrics.prometheusRule.labels.release=prometheus",
            "metrics.prometheusRule.alertLabels.team=platform",
            "metrics.prometheusRule.disabled.RunwayAwsThrottled=true",
            "metrics.prometheusRule.selector=service=\"runway\"",
            "sharding.shards=3",
        ],
    );
    assert_eq!(rule["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(rule["metadata"]["namespace"], "runway-system");
    assert_eq!(
        alert_names(&rule),
        [
            "RunwayResourcesStalled",
            "RunwayAwsBudgetExhausted",
            "RunwayLeaderMissing"
        ]
    );
    let rules = rule["spec"]["groups"][0]["rules"].as_array().expect("rules");
    for r in rules {
        let expr = r["expr"].as_str().expect("expr");
        assert_eq!(r["labels"]["team"], "platform", "{}", r["alert"]);
        assert!(expr.contains(r#"service="runway""#), "{expr}");
        assert!(
            !expr.contains("job="),
            "the selector replaces the default: {expr}"
        );
        assert!(
            r["annotations"]["runbook_url"]
                .as_str()
                .expect("runbook_url")
                .ends_with(&format!(
                    "#{}",
                    r["alert"].as_str().expect("alert").to_lowercase()
                )),
            "{r}"
        );
    }
    let leader = rules
        .iter()
        .find(|r| r["alert"] == "RunwayLeaderMissing")
        .expect("RunwayLeaderMissing");
    assert!(
        leader["expr"].as_str().expect("expr").trim_end().ends_with("< 3"),
        "one leader per shard: {}",
        leader["expr"]
    );
    let scratch = Scratch::new("rules-values");
    let file = scratch.write("rules.yaml", &rule_file(&rule));
    run_ok("promtool", &["check", "rules", &file]);
}

/// Every PromQL query of the dashboard, with Grafana's variables replaced by what they expand to at
/// their widest.
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    let mut queries = Vec::new();
    let mut panels: Vec<&Value> = dashboard["panels"].as_array().expect("panels").iter().collect();
    while let Some(panel) = panels.pop() {
        panels.extend(panel["panels"].as_array().into_iter().flatten());
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push(target["expr"].as_str().expect("target expr").to_string());
        }
    }
    queries
        .into_iter()
        .map(|q| {
            q.replace("$__rate_interval", "2m")
                .replace("$namespace", ".*")
                .replace("$job", ".*")
        })
        .collect()
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(repo_root().join(CHART).join("dashboards/runway.json"))
        .expect("deploy/helm/runway/dashboards/runway.json");
    serde_json::from_str(&text).expect("dashboard JSON")
}

#[test]
fn dashboard_ships_in_a_grafana_configmap_and_its_queries_parse() {
    let config_map = render(
        "templates/grafana-dashboard.yaml",
        &["metrics.grafanaDashboard.enabled=true"],
    );
    assert_eq!(config_map["kind"], "ConfigMap");
    assert_eq!(config_map["metadata"]["labels"]["grafana_dashboard"], "1");
    let shipped: Value = serde_json::from_str(
        config_map["data"]["runway.json"]
            .as_str()
            .expect("data runway.json"),
    )
    .expect("dashboard JSON in the ConfigMap");
    let dashboard = dashboard();
    assert_eq!(shipped, dashboard);

    let titles: BTreeSet<&str> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect();
    for want in [
        "Reconciles by kind and result",
        "AWS calls by operation and outcome",
        "Budget wait, mean",
        "Queue depth",
        "Leaders",
        "Stalled resources",
        "Progressing",
        "Resources by state",
        "Leader by replica",
        "Rollouts in progress",
        "Budget tokens left",
    ] {
        assert!(titles.contains(want), "no panel {want:?} in {titles:?}");
    }

    // promtool parses every query as the expression of a recording rule.
    let rules: Vec<Value> = dashboard_queries(&dashboard)
        .iter()
        .enumerate()
        .map(|(i, expr)| json!({"record": format!("dashboard:query_{i}"), "expr": expr}))
        .collect();
    assert!(rules.len() >= 15, "too few queries: {}", rules.len());
    let scratch = Scratch::new("dashboard");
    let file = scratch.write(
        "dashboard-queries.yaml",
        &json!({"groups": [{"name": "dashboard", "rules": rules}]}).to_string(),
    );
    run_ok("promtool", &["check", "rules", &file]);
}

/// What runway exports: every sample name, with its label names, from a registry that holds a
/// sample of each metric.
fn exported() -> BTreeMap<String, BTreeSet<String>> {
    let metrics = runway::metrics::Metrics::new();
    metrics.aws_call("ecs", "DescribeExpressGatewayService", "throttled");
    metrics.reconcile_started("ExpressService").finish("ok");
    metrics.set_queue_depth("ExpressService", 1);
    metrics.budget_wait("ecs:service-read", "change", 0.01);
    metrics.drift_not_converging("ExpressService");
    metrics.set_resources("ExpressService", "stalled", 1);
    metrics.set_leader(true);
    metrics.budget_rate("123456789012", "us-east-1", "ecs:service-read", 10.0);
    metrics.read_budget_tokens(Box::new(|| {
        let labels = runway::metrics::BudgetRateLabels {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            family: "ecs:service-read".into(),
        };
        vec![(labels, 50.0)]
    }));
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in metrics.render().lines().filter(|l| !l.starts_with('#')) {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = out.entry(line[..name_end].to_string()).or_default();
        if let Some(inside) = line[name_end..]
            .strip_prefix('{')
            .and_then(|rest| rest.split_once('}'))
            .map(|(inside, _)| inside)
        {
            // NB: the label values recorded above hold no `,` or `=`.
            labels.extend(inside.split(',').filter_map(|pair| {
                pair.split_once('=')
                    .map(|(k, _)| k.to_string())
                    .filter(|k| k != "le")
            }));
        }
    }
    out
}

/// The `runway_*` names in a PromQL text.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("runway_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

#[test]
fn alerts_and_dashboard_name_only_metrics_that_runway_exports() {
    let exported = exported();
    let rule = render(
        "templates/prometheusrule.yaml",
        &["metrics.prometheusRule.enabled=true"],
    );
    let mut used = BTreeSet::new();
    for r in rule["spec"]["groups"][0]["rules"].as_array().expect("rules") {
        used.extend(metric_names(r["expr"].as_str().expect("expr")));
    }
    for query in dashboard_queries(&dashboard()) {
        used.extend(metric_names(&query));
    }
    assert!(used.len() >= 8, "too few metrics found: {used:?}");
    let unknown: Vec<&String> = used.iter().filter(|n| !exported.contains_key(*n)).collect();
    assert!(
        unknown.is_empty(),
        "metrics that runway does not export: {unknown:?}; it exports {:?}",
        exported.keys()
    );
}

#[test]
fn operations_doc_lists_every_metric_with_its_labels() {
    let doc = std::fs::read_to_string(repo_root().join("docs/operations.md")).expect("docs/operations.md");
    let mut problems = Vec::new();
    for (sample, labels) in exported() {
        // A histogram is documented by its name, its series by suffix.
        let name = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| sample.strip_suffix(s))
            .unwrap_or(&sample);
        let Some(row) = doc.lines().find(|l| l.starts_with(&format!("| `{name}` |"))) else {
            problems.push(format!("no table row for {name}"));
            continue;
        };
        for label in labels {
            if !row.contains(&format!("`{label}`")) {
                problems.push(format!("{name} lacks label {label}"));
            }
        }
    }
    assert!(problems.is_empty(), "docs/operations.md: {problems:?}");
    for alert in ALERTS {
        assert!(
            doc.contains(&format!("### {alert}")),
            "docs/operations.md has no section for {alert}, its runbook_url"
        );
    }
}

#[test]
fn helm_install_creates_the_monitoring_objects_once_the_operator_crds_exist() {
    let cluster = Cluster::from_env();
    let crds = repo_root().join("tests/fixtures/monitoring.coreos.com");
    cluster.kubectl_ok(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            crds.to_str().expect("utf8"),
        ],
        None,
    );
    // NB: right after a create, a CRD may have no conditions yet and `kubectl wait` fails instead of
    // waiting, so retry until it succeeds.
    let start = std::time::Instant::now();
    loop {
        let out = cluster.kubectl(
            &[
                "wait",
                "--for=condition=Established",
                "--timeout=30s",
                "crd/servicemonitors.monitoring.coreos.com",
                "crd/prometheusrules.monitoring.coreos.com",
            ],
            None,
        );
        if out.status.success() {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "monitoring CRDs not Established: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let ns = cluster.namespace("runway-monitoring");
    let release = format!("runway-mon-{}", std::process::id());
    let mut args = vec![
        "install",
        release.as_str(),
        CHART,
        "--namespace",
        &ns,
        "--kubeconfig",
        cluster.kubeconfig_path(),
        "--timeout",
        "2m",
    ];
    for set in [
        "metrics.serviceMonitor.enabled=true",
        "metrics.prometheusRule.enabled=true",
        "metrics.grafanaDashboard.enabled=true",
        "fullnameOverride=runway-mon",
    ] {
        args.extend(["--set", set]);
    }
    let installed = run("helm", &args);
    let uninstall = || {
        run(
            "helm",
            &[
                "uninstall",
                &release,
                "--namespace",
                &ns,
                "--kubeconfig",
                cluster.kubeconfig_path(),
            ],
        )
    };
    if !installed.status.success() {
        let _ = uninstall();
        panic!(
            "helm install with the monitoring values failed: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
    }

    let get = |object: &str| -> Value {
        serde_json::from_str(&cluster.kubectl_ok(&["get", "-n", &ns, object, "-o", "json"], None))
            .expect("object JSON")
    };
    let monitor = get("servicemonitor.monitoring.coreos.com/runway-mon");
    let rule = get("prometheusrule.monitoring.coreos.com/runway-mon");
    let dashboard = get("configmap/runway-mon-dashboard");
    let service = get("service/runway-mon-metrics");
    let _ = uninstall();

    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"],
        service["spec"]["ports"][0]["name"]
    );
    assert_eq!(alert_names(&rule), ALERTS);
    let leader = &rule["spec"]["groups"][0]["rules"][3]["expr"];
    assert!(
        leader
            .as_str()
            .expect("expr")
            .contains(&format!(r#"job="runway-mon-metrics",namespace="{ns}""#)),
        "the rules select the series that the ServiceMonitor's scrape labels: {leader}"
    );
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    assert!(
        dashboard["data"]["runway.json"]
            .as_str()
            .is_some_and(|d| d.contains("\"uid\": \"runway-controller\"")),
        "the dashboard JSON is in the ConfigMap"
    );
}
