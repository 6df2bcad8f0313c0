//! How runway ships: the Helm chart in `deploy/helm/runway`, the plain manifests rendered from it, and
//! the Dockerfile.
//!
//! Generated copies stay in step (chart CRDs == `crds/`, `deploy/manifests/runway.yaml` == the rendered
//! chart); `helm lint` and the chart's values schema pass and reject what they should; every rendered
//! object passes kubeconform in strict mode against JSON schemas generated here from the pinned
//! Kubernetes module's OpenAPI document and from the CRDs (runway's and the Prometheus Operator's);
//! `helm install` on the test apiserver creates the controller's objects, its pod template passes the
//! `restricted` Pod Security level, and its ServiceAccount can do exactly what the controller needs
//! (checked with `kubectl auth can-i`). The monitoring objects have their own tests in `monitoring.rs`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use support::{Cluster, repo_root};

// ---------------------------------------------------------------------------------------------------
// Tools: helm, kubeconform and the repository's scripts, run from the repository root.
// ---------------------------------------------------------------------------------------------------

const CHART: &str = "deploy/helm/runway";

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} on PATH (scripts/test puts the pinned builds first): {e}"));
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(pipe);
    child.wait_with_output().expect("process output")
}

fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args, None);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `helm template` of the chart as release `runway` in `runway-system`, with `--set` values (or
/// `--set-string` for a value written `string:<key>=<value>`).
fn template(sets: &[&str]) -> Output {
    let mut args = vec!["template", "runway", CHART, "--namespace", "runway-system"];
    for s in sets {
        match s.strip_prefix("string:") {
            Some(value) => args.extend(["--set-string", value]),
            None => args.extend(["--set", s]),
        }
    }
    run("helm", &args, None)
}

/// Renders the chart and parses every object.
fn render(sets: &[&str]) -> Vec<Value> {
    let out = template(sets);
    assert!(
        out.status.success(),
        "helm template {sets:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_documents(&String::from_utf8_lossy(&out.stdout))
}

fn parse_documents(text: &str) -> Vec<Value> {
    runway::manifests::documents(text).expect("YAML documents")
}

/// The one object of `kind` named `name`.
fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let matches: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .collect();
    assert_eq!(
        matches.len(),
        1,
        "expected one {kind} {name}, found {}",
        matches.len()
    );
    matches[0]
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().expect("kind"),
                o["metadata"]["name"].as_str().expect("name")
            )
        })
        .collect()
}

/// The controller container's environment, as name -> value (or `fieldRef:<path>`).
fn env_of(deployment: &Value) -> BTreeMap<String, String> {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            let value = match e.get("value") {
                Some(v) => v.as_str().expect("env values are strings").to_string(),
                None => format!(
                    "fieldRef:{}",
                    e["valueFrom"]["fieldRef"]["fieldPath"]
                        .as_str()
                        .expect("fieldRef")
                ),
            };
            (e["name"].as_str().expect("name").to_string(), value)
        })
        .collect()
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("runway-deploy-{}-{name}", std::process::id()));
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

// ---------------------------------------------------------------------------------------------------
// Strict JSON schemas for kubeconform, generated offline.
// ---------------------------------------------------------------------------------------------------

/// The swagger (OpenAPI v2) document of the pinned Kubernetes module in `tests/controlplane/kube`.
fn kubernetes_openapi() -> Value {
    let dir = repo_root().join("tests/controlplane/kube");
    let out = Command::new("go")
        .args(["list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes"])
        .current_dir(&dir)
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("go on PATH");
    assert!(
        out.status.success(),
        "go list k8s.io/kubernetes: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let module = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let path = Path::new(&module).join("api/openapi-spec/swagger.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("swagger.json")).expect("swagger JSON")
}

/// The file name kubeconform looks up through [`schema_location`] for an apiVersion and kind.
fn schema_file(api_version: &str, kind: &str) -> String {
    let group = api_version.split('/').next().expect("group");
    let version = api_version.rsplit('/').next().expect("version");
    format!("{}_{group}_{version}.json", kind.to_lowercase())
}

fn schema_location(dir: &Path) -> String {
    format!(
        "{}/{{{{ .ResourceKind }}}}_{{{{ .Group }}}}_{{{{ .ResourceAPIVersion }}}}.json",
        dir.display()
    )
}

/// Makes a schema strict the way kubeconform's `-strict` schemas are: objects with declared properties
/// allow no others (unless they preserve unknown fields), and int-or-string accepts both.
fn tighten(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let int_or_string = obj.get("format") == Some(&json!("int-or-string"))
        || obj.get("x-kubernetes-int-or-string") == Some(&json!(true));
    if int_or_string {
        obj.remove("type");
        obj.remove("format");
        obj.insert("oneOf".into(), json!([{"type": "string"}, {"type": "integer"}]));
    }
    let preserves = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
    if obj.contains_key("properties") && !obj.contains_key("additionalProperties") && !preserves {
        obj.insert("additionalProperties".into(), json!(false));
    }
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(tighten);
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = obj.get_mut(key) {
            tighten(v);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = obj.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(tighten);
        }
    }
}

/// Collects the definitions that `schema` refers to, transitively.
fn collect_refs(schema: &Value, definitions: &serde_json::Map<String, Value>, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/definitions/"))
                && out.insert(name.to_string())
            {
                collect_refs(&definitions[name], definitions, out);
            }
            map.values().for_each(|v| collect_refs(v, definitions, out));
        }
        Value::Array(list) => list.iter().for_each(|v| collect_refs(v, definitions, out)),
        _ => {}
    }
}

/// `root` made strict, with the strict definitions it refers to bundled inside it.
fn standalone(root: &Value, definitions: &serde_json::Map<String, Value>) -> Value {
    let mut needed = BTreeSet::new();
    collect_refs(root, definitions, &mut needed);
    let mut bundled = serde_json::Map::new();
    for name in needed {
        let mut schema = if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
            json!({"oneOf": [{"type": "string"}, {"type": "number"}]})
        } else {
            definitions[&name].clone()
        };
        tighten(&mut schema);
        bundled.insert(name, schema);
    }
    let mut schema = root.clone();
    tighten(&mut schema);
    schema["definitions"] = Value::Object(bundled);
    schema
}

/// CRDs whose kinds the chart renders: runway's own and the Prometheus Operator's ServiceMonitor and
/// PrometheusRule (vendored, since nothing may be downloaded at test time).
const CRD_DIRS: [&str; 2] = ["crds", "tests/fixtures/monitoring.coreos.com"];

/// Writes a strict schema for every (apiVersion, kind) in `wanted` that Kubernetes or a CRD in
/// [`CRD_DIRS`] defines, each standalone.
fn write_schemas(dir: &Path, wanted: &BTreeSet<(String, String)>) {
    let openapi = kubernetes_openapi();
    let definitions = openapi["definitions"].as_object().expect("definitions");
    let write = |api_version: &str, kind: &str, root: &Value| {
        if wanted.contains(&(api_version.to_string(), kind.to_string())) {
            let schema = standalone(root, definitions);
            std::fs::write(dir.join(schema_file(api_version, kind)), schema.to_string())
                .expect("write schema");
        }
    };
    for definition in definitions.values() {
        for gvk in definition["x-kubernetes-group-version-kind"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (group, version, kind) = (
                gvk["group"].as_str().expect("group"),
                gvk["version"].as_str().expect("version"),
                gvk["kind"].as_str().expect("kind"),
            );
            let api_version = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            write(&api_version, kind, definition);
        }
    }
    let crd_files = CRD_DIRS.iter().flat_map(|dir| {
        std::fs::read_dir(repo_root().join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|entry| entry.expect("entry").path())
    });
    for path in crd_files {
        let crd: Value = runway::manifests::from_str(&std::fs::read_to_string(&path).expect("read CRD"))
            .expect("CRD YAML");
        let group = crd["spec"]["group"].as_str().expect("group");
        let kind = crd["spec"]["names"]["kind"].as_str().expect("kind");
        for version in crd["spec"]["versions"].as_array().expect("versions") {
            // NB: the apiserver adds apiVersion, kind and metadata to every CRD schema; so do we.
            let mut root = version["schema"]["openAPIV3Schema"].clone();
            let props = root["properties"].as_object_mut().expect("CRD schema properties");
            props.insert("apiVersion".into(), json!({"type": "string"}));
            props.insert("kind".into(), json!({"type": "string"}));
            props.insert(
                "metadata".into(),
                json!({"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}),
            );
            let api_version = format!("{group}/{}", version["name"].as_str().expect("version name"));
            write(&api_version, kind, &root);
        }
    }
}

/// Validates `files` with kubeconform in strict mode against the schemas generated into `scratch`,
/// skipping the kinds in `skip`. Returns kubeconform's output and whether it passed.
fn kubeconform(scratch: &Scratch, files: &[&str], skip: &[&str]) -> (bool, String) {
    let mut wanted = BTreeSet::new();
    let mut paths = Vec::new();
    for file in files {
        let path = repo_root().join(file);
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                paths.push(entry.expect("entry").path());
            }
        } else {
            paths.push(path);
        }
    }
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("read manifest");
        for doc in parse_documents(&text) {
            let api_version = doc["apiVersion"].as_str().unwrap_or_default().to_string();
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            wanted.insert((api_version, kind));
        }
    }
    let schemas = scratch.0.join("schemas");
    std::fs::create_dir_all(&schemas).expect("schemas dir");
    write_schemas(&schemas, &wanted);
    let location = schema_location(&schemas);
    let skip = skip.join(",");
    let mut args = vec![
        "-strict",
        "-summary",
        "-output",
        "text",
        "-schema-location",
        &location,
    ];
    if !skip.is_empty() {
        args.extend(["-skip", &skip]);
    }
    args.extend(files);
    let out = run("kubeconform", &args, None);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------------------
// Generated copies
// ---------------------------------------------------------------------------------------------------

#[test]
fn chart_crds_are_identical_to_the_generated_crds() {
    let root = repo_root();
    let names = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .expect("dir exists")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    };
    let generated = root.join("crds");
    let chart = root.join(CHART).join("crds");
    assert_eq!(
        names(&chart),
        names(&generated),
        "deploy/helm/runway/crds/ holds other files than crds/; run scripts/sync-chart-crds"
    );
    for name in names(&generated) {
        let want = std::fs::read(generated.join(&name)).expect("read");
        let have = std::fs::read(chart.join(&name)).expect("read");
        assert!(
            want == have,
            "deploy/helm/runway/crds/{name} differs from crds/{name}; run scripts/sync-chart-crds"
        );
    }
}

#[test]
fn plain_manifests_are_the_rendered_chart() {
    let scratch = Scratch::new("manifests");
    let fresh = scratch.0.join("runway.yaml");
    run_ok("scripts/render-manifests", &[fresh.to_str().expect("utf8")]);
    let want = std::fs::read_to_string(&fresh).expect("rendered");
    let have = std::fs::read_to_string(repo_root().join("deploy/manifests/runway.yaml")).expect("checked in");
    assert!(
        want == have,
        "deploy/manifests/runway.yaml is stale; regenerate it with scripts/render-manifests"
    );
    let objects = parse_documents(&have);
    let namespace = find(&objects, "Namespace", "runway-system");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    for crd in ["expressservices.runway.dev", "apprunnerservices.runway.dev"] {
        find(&objects, "CustomResourceDefinition", crd);
    }
    find(&objects, "Deployment", "runway");
    assert!(
        objects
            .iter()
            .filter(|o| o["kind"] != "Namespace"
                && o["kind"] != "CustomResourceDefinition"
                && o["kind"] != "ClusterRole"
                && o["kind"] != "ClusterRoleBinding")
            .all(|o| o["metadata"]["namespace"] == "runway-system"),
        "every namespaced object goes into runway-system"
    );
}

// ---------------------------------------------------------------------------------------------------
// Lint, values schema and strict validation
// ---------------------------------------------------------------------------------------------------

/// Values that turn on every optional part of the chart.
const EVERYTHING: &[&str] = &[
    "watchNamespace=apps",
    "metrics.serviceMonitor.enabled=true",
    "metrics.serviceMonitor.labels.release=prometheus",
    "metrics.prometheusRule.enabled=true",
    "metrics.prometheusRule.alertLabels.team=platform",
    "metrics.grafanaDashboard.enabled=true",
    "aws.region=eu-west-1",
    "aws.endpointUrl=http://runway-sim.runway-system:4566",
    "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/runway",
    "imagePullSecrets[0].name=registry",
    "priorityClassName=system-cluster-critical",
    "podAnnotations.team=platform",
    "nodeSelector.kubernetes\\.io/os=linux",
    "tolerations[0].key=dedicated",
    "tolerations[0].operator=Exists",
    "extraEnv[0].name=AWS_STS_REGIONAL_ENDPOINTS",
    "extraEnv[0].value=regional",
    "clusterName=prod-eu",
    "multiAccount.sessionTags=true",
];

#[test]
fn helm_lint_passes_strictly_with_default_and_full_values() {
    let default = run_ok("helm", &["lint", "--strict", CHART]);
    assert!(
        default.contains("1 chart(s) linted, 0 chart(s) failed"),
        "{default}"
    );
    let mut args = vec!["lint", "--strict", CHART];
    for s in EVERYTHING {
        args.extend(["--set", s]);
    }
    let full = run_ok("helm", &args);
    assert!(full.contains("0 chart(s) failed"), "{full}");
    for out in [&default, &full] {
        assert!(!out.contains("[WARNING]") && !out.contains("[ERROR]"), "{out}");
    }
}

#[test]
fn values_schema_rejects_bad_values() {
    for (set, expect) in [
        ("logging.format=xml", "logging/format"),
        ("replicas=-1", "replicas"),
        ("metrics.port=70000", "metrics/port"),
        ("leaderElection.leaseName=Not_A_Name", "leaderElection/leaseName"),
        ("watchNamespace=Bad_NS", "watchNamespace"),
        ("awsBudget.fraction=2", "awsBudget/fraction"),
        (
            "awsBudget.rateLimits.ecs:everything=1/2",
            "invalid propertyName 'ecs:everything'",
        ),
        (
            "awsBudget.rateLimits.ecs:service-read=fast",
            "awsBudget/rateLimits",
        ),
        ("sharding.shards=0", "sharding/shards"),
        ("initialList=eager", "initialList"),
        ("clusterName=prod eu", "clusterName"),
        ("typoed=1", "typoed"),
        (
            "metrics.service.enabled=false,metrics.serviceMonitor.enabled=true",
            "needs metrics.service.enabled",
        ),
        ("serviceAccount.create=false", "serviceAccount.name is required"),
        (
            "metrics.prometheusRule.disabled.RunwayTypo=true",
            "invalid propertyName 'RunwayTypo'",
        ),
        (
            "metrics.prometheusRule.runbookUrl=docs/operations.md",
            "metrics/prometheusRule/runbookUrl",
        ),
        (
            "metrics.grafanaDashboard.namespace=Bad_NS",
            "metrics/grafanaDashboard/namespace",
        ),
    ] {
        let out = template(&[set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--set {set} was accepted");
        assert!(
            stderr.contains(expect),
            "--set {set}: error lacks {expect:?}: {stderr}"
        );
    }
}

#[test]
fn rendered_chart_passes_strict_schema_validation() {
    let scratch = Scratch::new("kubeconform");
    let default = run_ok(
        "helm",
        &[
            "template",
            "runway",
            CHART,
            "--namespace",
            "runway-system",
            "--include-crds",
        ],
    );
    let mut args = vec!["template", "runway", CHART, "--namespace", "runway-system"];
    for s in EVERYTHING {
        args.extend(["--set", s]);
    }
    let full = run_ok("helm", &args);
    let default_file = scratch.write("default.yaml", &default);
    let full_file = scratch.write("full.yaml", &full);
    let mut files = vec![
        default_file.as_str(),
        full_file.as_str(),
        "deploy/manifests/runway.yaml",
        "examples",
        "deploy/argocd/runway.dev/ExpressService/testdata",
        "deploy/argocd/runway.dev/AppRunnerService/testdata",
    ];
    // The ServiceMonitor and PrometheusRule validate against the Prometheus Operator's CRDs in
    // tests/fixtures/monitoring.coreos.com/.
    let (ok, report) = kubeconform(&scratch, &files, &[]);
    assert!(ok, "strict validation failed:\n{report}");
    let summary = report
        .lines()
        .find_map(|l| l.strip_prefix("Summary: "))
        .unwrap_or_else(|| panic!("no summary in {report}"));
    let count = |label: &str| -> usize {
        summary
            .split([',', '-'])
            .find_map(|part| part.trim().strip_prefix(label))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {label} in {summary}"))
    };
    let found: usize = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("resources found");
    assert_eq!(count("Invalid:"), 0, "{summary}");
    assert_eq!(count("Errors:"), 0, "{summary}");
    assert_eq!(count("Skipped:"), 0, "nothing is skipped: {summary}");
    assert!(found >= 50, "too few resources were validated: {summary}");
    assert_eq!(count("Valid:"), found, "{summary}");

    // The validator is strict: an unknown field, a wrong type and a missing schema each fail.
    let bad = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
        - name: c
          image: x
          securityContext: {readOnlyRootFileSystem: true}
---
apiVersion: v1
kind: Service
metadata: {name: bad}
spec:
  ports: [{port: "eighty"}]
---
apiVersion: example.com/v1
kind: Unknown
metadata: {name: bad}
---
apiVersion: runway.dev/v1alpha1
kind: ExpressService
metadata: {name: bad}
spec:
  executionRoleArn: arn:aws:iam::123456789012:role/x
  infrastructureRoleArn: arn:aws:iam::123456789012:role/y
  primaryContainer: {image: nginx, imagePullPolicy: Always}
"#;
    let bad_file = scratch.write("bad.yaml", bad);
    files = vec![bad_file.as_str()];
    let (ok, report) = kubeconform(&scratch, &files, &[]);
    assert!(!ok, "kubeconform accepted invalid objects:\n{report}");
    for want in [
        "readOnlyRootFileSystem",
        "/spec/ports/0/port': got string, want integer",
        "could not find schema for Unknown",
        "imagePullPolicy",
    ] {
        assert!(
            report.contains(want),
            "kubeconform report lacks {want:?}:\n{report}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// What the chart renders
// ---------------------------------------------------------------------------------------------------

#[test]
fn default_deployment_runs_restricted_and_configures_runway_by_env() {
    let objects = render(&[]);
    assert_eq!(
        kinds(&objects),
        [
            "ClusterRole/runway",
            "ClusterRoleBinding/runway",
            "Deployment/runway",
            "PodDisruptionBudget/runway",
            "Role/runway-leader-election",
            "RoleBinding/runway-leader-election",
            "Service/runway-metrics",
            "ServiceAccount/runway",
        ]
        .into_iter()
        .map(String::from)
        .collect::<BTreeSet<_>>()
    );
    let chart: Value = runway::manifests::from_str(
        &std::fs::read_to_string(repo_root().join(CHART).join("Chart.yaml")).expect("Chart.yaml"),
    )
    .expect("Chart.yaml YAML");
    assert_eq!(
        chart["appVersion"],
        env!("CARGO_PKG_VERSION"),
        "the chart's appVersion follows Cargo.toml's version"
    );

    let deployment = find(&objects, "Deployment", "runway");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(pod["serviceAccountName"], "runway");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(
        pod["securityContext"],
        json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
               "seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        container["securityContext"],
        json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
               "capabilities": {"drop": ["ALL"]}})
    );
    assert_eq!(
        container["image"],
        format!("ghcr.io/runway-dev/runway:{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(container["args"], json!(["run"]));
    assert_eq!(
        container["ports"],
        json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "metrics"})
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "metrics"})
    );
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"],
        json!({"app.kubernetes.io/name": "runway", "app.kubernetes.io/instance": "runway"})
    );

    let env = env_of(deployment);
    let want: BTreeMap<String, String> = [
        ("POD_NAME", "fieldRef:metadata.name"),
        ("POD_NAMESPACE", "fieldRef:metadata.namespace"),
        ("RUNWAY_RESYNC_SECONDS", "600"),
        ("RUNWAY_OPERATION_STUCK_SECONDS", "1800"),
        ("RUNWAY_AWS_ATTEMPT_TIMEOUT_SECONDS", "10"),
        ("RUNWAY_AWS_OPERATION_TIMEOUT_SECONDS", "30"),
        ("RUNWAY_MAX_CONCURRENT_RECONCILES", "16"),
        ("RUNWAY_AWS_BUDGET_FRACTION", "0.5"),
        ("RUNWAY_INITIAL_LIST", "stream"),
        ("RUNWAY_METRICS_ADDR", "0.0.0.0:8080"),
        ("RUNWAY_LOG_FORMAT", "json"),
        ("RUNWAY_LOG_LEVEL", "info"),
        ("RUNWAY_LEADER_ELECTION", "true"),
        ("RUNWAY_LEASE_NAME", "runway-leader"),
        ("RUNWAY_LEASE_NAMESPACE", "fieldRef:metadata.namespace"),
        ("RUNWAY_LEASE_DURATION_SECONDS", "15"),
        ("RUNWAY_CLUSTER_NAME", "runway"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(env, want);

    let service = find(&objects, "Service", "runway-metrics");
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}])
    );
    let pdb = find(&objects, "PodDisruptionBudget", "runway");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
}

#[test]
fn every_setting_the_chart_passes_is_read_by_runway_run() {
    let objects = render(&[
        "aws.region=eu-west-1",
        "aws.endpointUrl=http://sim:4566",
        "watchNamespace=apps",
        "watchSelector=team=a",
        "awsBudget.rateLimits.ecs:service-modify=2/10",
        "string:multiAccount.allowedAccountIds={210987654321,012345678901}",
        "multiAccount.requireNamespaceRole=true",
        "multiAccount.sessionTags=true",
        "clusterId=prod-eu-1",
    ]);
    let env = env_of(find(&objects, "Deployment", "runway"));
    let help = Command::new(env!("CARGO_BIN_EXE_runway"))
        .args(["run", "--help"])
        .output()
        .expect("runway run --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let mut unread: Vec<&String> = env
        .keys()
        .filter(|name| name.starts_with("RUNWAY_") || name.starts_with("AWS_"))
        .filter(|name| !help.contains(&format!("[env: {name}=")))
        .collect();
    // The log settings are global flags of `runway`, shown by `runway --help`.
    let global = Command::new(env!("CARGO_BIN_EXE_runway"))
        .arg("--help")
        .output()
        .expect("runway --help");
    let global = String::from_utf8_lossy(&global.stdout);
    unread.retain(|name| !global.contains(&format!("[env: {name}=")));
    assert!(
        unread.is_empty(),
        "the chart sets environment variables that `runway run` does not read: {unread:?}\n{help}"
    );
}

#[test]
fn values_reach_the_deployment() {
    let objects = render(&[
        "replicas=1",
        "image.tag=1.2.3",
        "image.repository=registry.example.com/runway",
        "aws.region=eu-west-1",
        "aws.endpointUrl=http://sim:4566",
        "aws.attemptTimeoutSeconds=4",
        "aws.operationTimeoutSeconds=12",
        "resyncSeconds=120",
        "operationStuckSeconds=900",
        "maxConcurrentReconciles=8",
        "watchNamespace=apps",
        "logging.format=text",
        "logging.level=runway=debug",
        "metrics.port=9090",
        "leaderElection.enabled=false",
        "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/runway",
        "priorityClassName=system-cluster-critical",
        "podAnnotations.team=platform",
        "watchSelector=team=payments",
        "initialList=list",
        "awsBudget.fraction=0.25",
        "awsBudget.rateLimits.ecs:service-modify=2/10",
        "awsBudget.rateLimits.apprunner:read=3",
        "string:multiAccount.allowedAccountIds={210987654321,012345678901}",
        "multiAccount.requireNamespaceRole=true",
        "multiAccount.sessionTags=true",
        "clusterName=prod-eu",
        "clusterId=prod-eu-1",
    ]);
    let deployment = find(&objects, "Deployment", "runway");
    let pod = &deployment["spec"]["template"];
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(
        pod["spec"]["containers"][0]["image"],
        "registry.example.com/runway:1.2.3"
    );
    assert_eq!(pod["spec"]["priorityClassName"], "system-cluster-critical");
    assert_eq!(pod["metadata"]["annotations"]["team"], "platform");
    assert_eq!(pod["spec"]["containers"][0]["ports"][0]["containerPort"], 9090);
    let env = env_of(deployment);
    for (name, value) in [
        ("AWS_REGION", "eu-west-1"),
        ("RUNWAY_AWS_ENDPOINT_URL", "http://sim:4566"),
        ("RUNWAY_RESYNC_SECONDS", "120"),
        ("RUNWAY_OPERATION_STUCK_SECONDS", "900"),
        ("RUNWAY_AWS_ATTEMPT_TIMEOUT_SECONDS", "4"),
        ("RUNWAY_AWS_OPERATION_TIMEOUT_SECONDS", "12"),
        ("RUNWAY_MAX_CONCURRENT_RECONCILES", "8"),
        ("RUNWAY_WATCH_NAMESPACE", "apps"),
        ("RUNWAY_LOG_FORMAT", "text"),
        ("RUNWAY_LOG_LEVEL", "runway=debug"),
        ("RUNWAY_METRICS_ADDR", "0.0.0.0:9090"),
        ("RUNWAY_LEADER_ELECTION", "false"),
        ("RUNWAY_WATCH_SELECTOR", "team=payments"),
        ("RUNWAY_INITIAL_LIST", "list"),
        ("RUNWAY_AWS_BUDGET_FRACTION", "0.25"),
        (
            "RUNWAY_AWS_RATE_LIMITS",
            "apprunner:read=3,ecs:service-modify=2/10",
        ),
        ("RUNWAY_ALLOWED_ACCOUNT_IDS", "210987654321,012345678901"),
        ("RUNWAY_REQUIRE_NAMESPACE_ROLE", "true"),
        ("RUNWAY_CLUSTER_NAME", "prod-eu"),
        ("RUNWAY_AWS_SESSION_TAGS", "true"),
        ("RUNWAY_CLUSTER_ID", "prod-eu-1"),
    ] {
        assert_eq!(env.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert!(!env.contains_key("RUNWAY_LEASE_NAME"));
    // An account ID given as a number (which would lose a leading zero) is refused by the schema.
    let numeric = template(&["multiAccount.allowedAccountIds={210987654321}"]);
    assert!(
        !numeric.status.success() && String::from_utf8_lossy(&numeric.stderr).contains("allowedAccountIds"),
        "{}",
        String::from_utf8_lossy(&numeric.stderr)
    );
    assert_eq!(
        find(&objects, "ServiceAccount", "runway")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/runway"
    );
    let names = kinds(&objects);
    assert!(
        !names.contains("PodDisruptionBudget/runway"),
        "no PDB for one replica"
    );
    assert!(
        !names.contains("Role/runway-leader-election"),
        "no Lease Role without leader election"
    );
}

#[test]
fn shards_get_a_deployment_lease_and_disjoint_selectors_that_cover_every_resource() {
    let objects = render(&["sharding.shards=3", "watchSelector=team=a"]);
    let mut selectors = Vec::new();
    let mut leases = BTreeSet::new();
    for i in 0..3 {
        let deployment = find(&objects, "Deployment", &format!("runway-shard-{i}"));
        assert_eq!(
            deployment["spec"]["selector"]["matchLabels"]["runway.dev/shard-index"],
            i.to_string()
        );
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["labels"]["runway.dev/shard-index"],
            i.to_string()
        );
        let env = env_of(deployment);
        leases.insert(env["RUNWAY_LEASE_NAME"].clone());
        selectors.push(env["RUNWAY_WATCH_SELECTOR"].clone());
    }
    assert_eq!(
        selectors,
        [
            "team=a,runway.dev/shard notin (1,2)",
            "team=a,runway.dev/shard=1",
            "team=a,runway.dev/shard=2"
        ]
    );
    assert_eq!(leases.len(), 3, "every shard has its own Lease: {leases:?}");
    assert!(
        !kinds(&objects).contains("Deployment/runway"),
        "no unsharded Deployment beside the shards"
    );
    // Every value of the shard label (and none) lands in exactly one shard.
    let matches = |selector: &str, label: Option<&str>| {
        let term = selector
            .strip_prefix("team=a,")
            .expect("the user's selector comes first");
        if let Some(list) = term.strip_prefix("runway.dev/shard notin (") {
            let list = list.trim_end_matches(')');
            label.is_none_or(|l| !list.split(',').any(|v| v == l))
        } else if let Some(value) = term.strip_prefix("runway.dev/shard=") {
            label == Some(value)
        } else {
            panic!("unexpected selector term {term}")
        }
    };
    for label in [None, Some("0"), Some("1"), Some("2"), Some("7"), Some("web")] {
        let n = selectors.iter().filter(|s| matches(s, label)).count();
        assert_eq!(n, 1, "label {label:?} matches {n} shards");
    }
    // One shard renders exactly the unsharded Deployment.
    let single = render(&["sharding.shards=1"]);
    let deployment = find(&single, "Deployment", "runway");
    assert!(!env_of(deployment).contains_key("RUNWAY_WATCH_SELECTOR"));
    assert_eq!(env_of(deployment)["RUNWAY_LEASE_NAME"], "runway-leader");
}

/// The rules the controller needs on the runway.dev resources and their Events: every verb is one
/// the code calls, and nothing else (no `get`, no `update`, no finalizers subresource).
/// - `list`, `watch`: the kube-runtime reflectors behind each `Controller` (controller/runner.rs);
/// - `patch` on the resources: `kube::runtime::finalizer` adds and removes the finalizer with a JSON
///   patch (controller/lifecycle.rs);
/// - `patch` on `/status`: the server-side-apply status write (controller/status.rs);
/// - `create` on events.k8s.io Events: `events::Recorder`, one new Event per call, never a patched
///   series (controller/events.rs).
fn resource_rules() -> Value {
    json!([
        {"apiGroups": ["runway.dev"], "resources": ["expressservices", "apprunnerservices"],
         "verbs": ["list", "watch", "patch"]},
        {"apiGroups": ["runway.dev"], "resources": ["expressservices/status", "apprunnerservices/status"],
         "verbs": ["patch"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ])
}

/// Namespaces are read (metadata only, `get` before a first create, `list` and `watch` for the
/// store) for their `runway.dev/aws-role-arn` annotation (controller/accounts.rs); with a watched
/// namespace, that one only.
fn namespace_rule(only: Option<&str>) -> Value {
    match only {
        Some(ns) => json!({"apiGroups": [""], "resources": ["namespaces"], "resourceNames": [ns],
                           "verbs": ["get", "list", "watch"]}),
        None => json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}),
    }
}

/// The default cluster identity is the kube-system Namespace's UID (controller/identity.rs); with a
/// watched namespace and no `clusterId`, that one Namespace is granted `get`.
fn kube_system_rule() -> Value {
    json!({"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]})
}

fn crd_rule() -> Value {
    json!({"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
           "resourceNames": ["expressservices.runway.dev", "apprunnerservices.runway.dev"], "verbs": ["get"]})
}

/// kube-lease-manager (controller/leader.rs) gets, creates and patches its Lease; it never replaces
/// it, so `update` is not granted.
fn lease_rule() -> Value {
    json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
           "verbs": ["get", "create", "patch"]})
}

#[test]
fn rbac_grants_exactly_what_the_controller_needs() {
    let objects = render(&[]);
    let mut cluster_rules = vec![crd_rule(), namespace_rule(None)];
    cluster_rules.extend(resource_rules().as_array().expect("rules").iter().cloned());
    assert_eq!(
        find(&objects, "ClusterRole", "runway")["rules"],
        json!(cluster_rules)
    );
    assert_eq!(
        find(&objects, "Role", "runway-leader-election")["rules"],
        json!([lease_rule()])
    );
    for binding in [
        find(&objects, "ClusterRoleBinding", "runway"),
        find(&objects, "RoleBinding", "runway-leader-election"),
    ] {
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "runway", "namespace": "runway-system"}])
        );
    }
    assert_eq!(
        find(&objects, "Role", "runway-leader-election")["metadata"]["namespace"],
        "runway-system"
    );

    // With a watched namespace, the runway.dev and Event rules move into a Role there.
    let scoped = render(&["watchNamespace=apps"]);
    assert_eq!(
        find(&scoped, "ClusterRole", "runway")["rules"],
        json!([crd_rule(), namespace_rule(Some("apps")), kube_system_rule()])
    );
    // With a configured cluster identity, kube-system is not read.
    let identified = render(&["watchNamespace=apps", "clusterId=prod-eu-1"]);
    assert_eq!(
        find(&identified, "ClusterRole", "runway")["rules"],
        json!([crd_rule(), namespace_rule(Some("apps"))])
    );
    let role = scoped
        .iter()
        .find(|o| o["kind"] == "Role" && o["metadata"]["namespace"] == "apps")
        .expect("Role in the watched namespace");
    assert_eq!(role["rules"], resource_rules());
    let binding = scoped
        .iter()
        .find(|o| o["kind"] == "RoleBinding" && o["metadata"]["namespace"] == "apps")
        .expect("RoleBinding in the watched namespace");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["subjects"][0]["namespace"], "runway-system");

    // No rule anywhere uses a wildcard or touches secrets, pods or configmaps.
    for o in objects.iter().chain(scoped.iter()) {
        for rule in o["rules"].as_array().into_iter().flatten() {
            let text = rule.to_string();
            for banned in ["\"*\"", "secrets", "pods", "configmaps"] {
                assert!(
                    !text.contains(banned),
                    "{} has rule {text}",
                    o["metadata"]["name"]
                );
            }
        }
    }

    let without_rbac = render(&["rbac.create=false"]);
    assert!(
        without_rbac
            .iter()
            .all(|o| !o["kind"].as_str().expect("kind").contains("Role")),
        "rbac.create=false renders no RBAC objects"
    );
}

#[test]
fn service_monitor_scrapes_the_metrics_service() {
    assert!(
        render(&[]).iter().all(|o| o["kind"] != "ServiceMonitor"),
        "no ServiceMonitor unless enabled"
    );
    let objects = render(&[
        "metrics.serviceMonitor.enabled=true",
        "metrics.serviceMonitor.labels.release=prometheus",
        "metrics.serviceMonitor.interval=15s",
    ]);
    let monitor = find(&objects, "ServiceMonitor", "runway");
    let service = find(&objects, "Service", "runway-metrics");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    let selector = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("selector");
    for (k, v) in selector {
        assert_eq!(&service["metadata"]["labels"][k], v, "Service lacks label {k}");
    }
    assert_eq!(
        monitor["spec"]["namespaceSelector"]["matchNames"],
        json!(["runway-system"])
    );
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], service["spec"]["ports"][0]["name"]);
    assert_eq!(endpoint["path"], "/metrics");
    assert_eq!(endpoint["interval"], "15s");
}

// ---------------------------------------------------------------------------------------------------
// On the test apiserver
// ---------------------------------------------------------------------------------------------------

/// A helm release on the test control plane, uninstalled on drop.
struct Release {
    name: String,
    namespace: String,
}

impl Release {
    fn install(name: &str, namespace: &str, sets: &[&str]) -> (Self, String) {
        let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG");
        let mut args = vec![
            "install",
            name,
            CHART,
            "--namespace",
            namespace,
            "--kubeconfig",
            &kubeconfig,
            "--timeout",
            "2m",
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        let out = run_ok("helm", &args);
        (
            Self {
                name: name.into(),
                namespace: namespace.into(),
            },
            out,
        )
    }

    fn uninstall(&self) -> Output {
        let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG");
        run(
            "helm",
            &[
                "uninstall",
                &self.name,
                "--namespace",
                &self.namespace,
                "--kubeconfig",
                &kubeconfig,
            ],
            None,
        )
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let _ = self.uninstall();
    }
}

/// `kubectl auth can-i` as `user`; true when allowed.
fn can_i(cluster: &Cluster, user: &str, args: &[&str]) -> bool {
    let mut full = vec!["auth", "can-i"];
    full.extend(args);
    full.extend(["--as", user]);
    let out = cluster.kubectl(&full, None);
    let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match answer.as_str() {
        "yes" => true,
        "no" => false,
        _ => panic!(
            "kubectl auth can-i {args:?}: {answer} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn helm_install_creates_a_restricted_controller_with_least_privilege() {
    let cluster = Cluster::from_env();
    let ns = cluster.namespace("runway-install");
    let other = cluster.namespace("runway-other");
    // The release namespace enforces the restricted Pod Security level, as deploy/manifests does.
    cluster.kubectl_ok(
        &[
            "label",
            "namespace",
            &ns,
            "pod-security.kubernetes.io/enforce=restricted",
        ],
        None,
    );
    let (release, notes) = Release::install("runway", &ns, &[]);
    assert!(notes.contains("STATUS: deployed"), "{notes}");

    for object in [
        "serviceaccount/runway",
        "role.rbac.authorization.k8s.io/runway-leader-election",
        "rolebinding.rbac.authorization.k8s.io/runway-leader-election",
        "deployment.apps/runway",
        "service/runway-metrics",
        "poddisruptionbudget.policy/runway",
    ] {
        cluster.kubectl_ok(&["get", "-n", &ns, object], None);
    }
    for object in [
        "clusterrole.rbac.authorization.k8s.io/runway",
        "clusterrolebinding.rbac.authorization.k8s.io/runway",
        "customresourcedefinition.apiextensions.k8s.io/expressservices.runway.dev",
        "customresourcedefinition.apiextensions.k8s.io/apprunnerservices.runway.dev",
    ] {
        cluster.kubectl_ok(&["get", object], None);
    }

    // The Deployment as the apiserver stored it keeps the restricted security context.
    let deployment: Value = serde_json::from_str(
        &cluster.kubectl_ok(&["get", "-n", &ns, "deployment/runway", "-o", "json"], None),
    )
    .expect("deployment JSON");
    let pod_spec = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod_spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod_spec["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod_spec["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let sc = &pod_spec["containers"][0]["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));

    // Pod Security admission accepts the pod template at the restricted level (a server-side dry run
    // of a Pod goes through admission; there is no kubelet to run it), and rejects a weaker one.
    let pod = |spec: &Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runway-template", "namespace": ns},
               "spec": spec})
        .to_string()
    };
    let admitted = cluster.kubectl(&["apply", "--dry-run=server", "-f", "-"], Some(&pod(pod_spec)));
    assert!(
        admitted.status.success(),
        "the pod template violates the restricted level: {}",
        String::from_utf8_lossy(&admitted.stderr)
    );
    let mut weaker = pod_spec.clone();
    weaker["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true);
    let rejected = cluster.kubectl(&["apply", "--dry-run=server", "-f", "-"], Some(&pod(&weaker)));
    assert!(
        !rejected.status.success()
            && String::from_utf8_lossy(&rejected.stderr).contains("violates PodSecurity \"restricted"),
        "restricted Pod Security is not enforced in {ns}: {}",
        String::from_utf8_lossy(&rejected.stderr)
    );

    // The ServiceAccount can do what the controller needs, and nothing more.
    let sa = format!("system:serviceaccount:{ns}:runway");
    let allowed: &[&[&str]] = &[
        &[
            "patch",
            "expressservices.runway.dev",
            "--subresource=status",
            "-n",
            &other,
        ],
        &["watch", "expressservices.runway.dev", "--all-namespaces"],
        &["list", "apprunnerservices.runway.dev", "--all-namespaces"],
        &["patch", "apprunnerservices.runway.dev", "-n", &other],
        &["create", "events.events.k8s.io", "-n", &other],
        &[
            "get",
            "customresourcedefinitions.apiextensions.k8s.io/expressservices.runway.dev",
        ],
        &[
            "get",
            "customresourcedefinitions.apiextensions.k8s.io/apprunnerservices.runway.dev",
        ],
        &["create", "leases.coordination.k8s.io", "-n", &ns],
        &["patch", "leases.coordination.k8s.io/runway-leader", "-n", &ns],
        &["get", "leases.coordination.k8s.io/runway-leader", "-n", &ns],
        &["get", &format!("namespaces/{other}")],
        &["list", "namespaces"],
        &["watch", "namespaces"],
    ];
    let denied: &[&[&str]] = &[
        &["patch", &format!("namespaces/{other}")],
        &["delete", &format!("namespaces/{other}")],
        &["create", "namespaces"],
        &["get", "secrets", "-n", &ns],
        &["list", "secrets", "--all-namespaces"],
        // Verbs the controller never calls are not granted.
        &["update", "expressservices.runway.dev", "-n", &other],
        &["get", "expressservices.runway.dev", "-n", &other],
        &["patch", "events.events.k8s.io", "-n", &other],
        &[
            "update",
            "apprunnerservices.runway.dev",
            "--subresource=status",
            "-n",
            &other,
        ],
        &[
            "update",
            "expressservices.runway.dev",
            "--subresource=finalizers",
            "-n",
            &other,
        ],
        &["update", "leases.coordination.k8s.io/runway-leader", "-n", &ns],
        &["delete", "pods", "-n", &ns],
        &["create", "pods", "-n", &ns],
        &["delete", "expressservices.runway.dev", "--all-namespaces"],
        &["delete", "expressservices.runway.dev", "-n", &other],
        &["create", "expressservices.runway.dev", "-n", &other],
        &["delete", "apprunnerservices.runway.dev", "-n", &other],
        &["create", "leases.coordination.k8s.io", "-n", &other],
        &["delete", "leases.coordination.k8s.io/runway-leader", "-n", &ns],
        &["list", "customresourcedefinitions.apiextensions.k8s.io"],
        &[
            "get",
            "customresourcedefinitions.apiextensions.k8s.io/widgets.example.com",
        ],
        &[
            "update",
            "customresourcedefinitions.apiextensions.k8s.io/expressservices.runway.dev",
        ],
        &["create", "events", "-n", &other],
        &["get", "configmaps", "-n", &ns],
        &["create", "serviceaccounts/token", "-n", &ns],
    ];
    let mut problems = Vec::new();
    for args in allowed {
        if !can_i(&cluster, &sa, args) {
            problems.push(format!("cannot {args:?}"));
        }
    }
    for args in denied {
        if can_i(&cluster, &sa, args) {
            problems.push(format!("can {args:?}"));
        }
    }
    assert!(problems.is_empty(), "{sa}:\n{}", problems.join("\n"));

    // helm uninstall removes the release's objects but keeps the CRDs (and so every custom resource).
    let out = release.uninstall();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let gone = cluster.kubectl(&["get", "-n", &ns, "deployment/runway"], None);
    assert!(!gone.status.success(), "the Deployment outlived helm uninstall");
    cluster.kubectl_ok(&["get", "crd/expressservices.runway.dev"], None);
}

#[test]
fn helm_install_with_watch_namespace_grants_only_that_namespace() {
    let cluster = Cluster::from_env();
    let ns = cluster.namespace("runway-scoped");
    let watched = cluster.namespace("runway-watched");
    let elsewhere = cluster.namespace("runway-elsewhere");
    let watch = format!("watchNamespace={watched}");
    let (_release, _) = Release::install("runway-scoped", &ns, &[&watch]);
    let sa = format!("system:serviceaccount:{ns}:runway-scoped");
    for (args, want) in [
        (
            vec![
                "patch",
                "expressservices.runway.dev",
                "--subresource=status",
                "-n",
                &watched,
            ],
            true,
        ),
        (
            vec!["watch", "apprunnerservices.runway.dev", "-n", &watched],
            true,
        ),
        (vec!["create", "events.events.k8s.io", "-n", &watched], true),
        (vec!["create", "leases.coordination.k8s.io", "-n", &ns], true),
        (
            vec![
                "get",
                "customresourcedefinitions.apiextensions.k8s.io/expressservices.runway.dev",
            ],
            true,
        ),
        (
            vec![
                "patch",
                "expressservices.runway.dev",
                "--subresource=status",
                "-n",
                &elsewhere,
            ],
            false,
        ),
        (
            vec!["list", "expressservices.runway.dev", "--all-namespaces"],
            false,
        ),
        (vec!["create", "events.events.k8s.io", "-n", &elsewhere], false),
        (
            vec!["create", "leases.coordination.k8s.io", "-n", &watched],
            false,
        ),
    ] {
        assert_eq!(can_i(&cluster, &sa, &args), want, "{sa} can-i {args:?}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------------

/// One `FROM` stage of the Dockerfile: base image, stage name and instructions (continuations joined).
struct Stage {
    image: String,
    name: Option<String>,
    instructions: Vec<(String, String)>,
}

fn dockerfile_stages() -> Vec<Stage> {
    let text = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (instruction, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let instruction = instruction.to_uppercase();
        let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        if instruction == "FROM" {
            let words: Vec<&str> = rest.split(' ').collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            stages.push(Stage {
                image: words[0].to_string(),
                name,
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push((instruction, rest));
        }
    }
    stages
}

#[test]
fn dockerfile_builds_the_locked_static_binary_into_a_nonroot_distroless_image() {
    let stages = dockerfile_stages();
    assert!(stages.len() >= 2, "the Dockerfile is multi-stage");
    let builder = &stages[0];
    let final_stage = stages.last().expect("final stage");

    // The builder uses a Rust toolchain at least as new as Cargo.toml's rust-version.
    let rust_tag = builder
        .image
        .strip_prefix("rust:")
        .expect("builder is a rust: image");
    let rust_version = cargo_rust_version();
    let version = |v: &str| -> (u32, u32) {
        let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    assert!(
        version(rust_tag) >= version(&rust_version),
        "rust:{rust_tag} is older than Cargo.toml's rust-version {rust_version}"
    );

    let args: BTreeMap<String, String> = builder
        .instructions
        .iter()
        .filter(|(i, _)| i == "ARG")
        .filter_map(|(_, rest)| rest.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let expand = |s: &str| {
        args.iter().fold(s.to_string(), |acc, (k, v)| {
            acc.replace(&format!("\"${k}\""), v)
                .replace(&format!("${{{k}}}"), v)
                .replace(&format!("${k}"), v)
        })
    };
    let runs: Vec<String> = builder
        .instructions
        .iter()
        .filter(|(i, _)| i == "RUN")
        .map(|(_, r)| expand(r))
        .collect();
    let build = runs
        .iter()
        .find(|r| r.contains("cargo build"))
        .expect("the builder runs cargo build");
    for flag in [
        "--release",
        "--locked",
        "--bin runway",
        "--target x86_64-unknown-linux-musl",
    ] {
        assert!(build.contains(flag), "cargo build lacks {flag}: {build}");
    }
    assert!(
        runs.iter()
            .any(|r| r.contains("rustup target add x86_64-unknown-linux-musl")),
        "the builder installs the musl target"
    );

    // Everything the builder copies is in the build context that .dockerignore leaves.
    let ignore = std::fs::read_to_string(repo_root().join(".dockerignore")).expect(".dockerignore");
    let excluded = |path: &str| {
        let top = path.trim_start_matches("./").split('/').next().unwrap_or(path);
        let mut out = false;
        for pattern in ignore
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (negated, pattern) = match pattern.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, pattern),
            };
            let pattern = pattern.trim_end_matches('/');
            if pattern == "*" || pattern == top {
                out = !negated;
            }
        }
        out
    };
    for (_, rest) in builder.instructions.iter().filter(|(i, _)| i == "COPY") {
        let words: Vec<&str> = rest.split(' ').filter(|w| !w.starts_with("--")).collect();
        for source in &words[..words.len() - 1] {
            assert!(
                repo_root().join(source).exists(),
                "COPY source {source} does not exist"
            );
            assert!(!excluded(source), ".dockerignore excludes COPY source {source}");
        }
    }
    for heavy in ["target", ".git", "tests", ".venv"] {
        assert!(
            excluded(heavy),
            ".dockerignore keeps {heavy} in the build context"
        );
    }

    // The final stage is distroless (or scratch), holds only the binary and runs it as nonroot.
    assert!(
        final_stage.image == "scratch" || final_stage.image == "gcr.io/distroless/static-debian12:nonroot",
        "final stage is {}",
        final_stage.image
    );
    let last = |instruction: &str| {
        final_stage
            .instructions
            .iter()
            .rev()
            .find(|(i, _)| i == instruction)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("final stage has no {instruction}"))
    };
    assert!(
        final_stage.instructions.iter().all(|(i, _)| i != "RUN"),
        "the final stage has no shell to RUN in"
    );
    let copy = last("COPY");
    let builder_name = builder.name.as_deref().expect("the builder stage is named");
    assert_eq!(copy, format!("--from={builder_name} /runway /runway"));
    assert_eq!(last("USER"), "65532:65532");
    assert_eq!(last("ENTRYPOINT"), "[\"/runway\"]");
    assert_eq!(last("CMD"), "[\"run\"]");
    assert_eq!(
        last("EXPOSE"),
        "8080",
        "the image exposes the chart's metrics port"
    );

    // The CMD is a real subcommand of the binary the image runs.
    let help = Command::new(env!("CARGO_BIN_EXE_runway"))
        .args(["run", "--help"])
        .output()
        .expect("runway run --help");
    assert!(help.status.success(), "`runway run` is not a subcommand");
}

/// Cargo.toml's `rust-version`.
fn cargo_rust_version() -> String {
    let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml");
    text.lines()
        .find_map(|l| l.strip_prefix("rust-version"))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("Cargo.toml sets rust-version")
        .to_string()
}
