//! How runway is built and released: the GitHub workflows in `.github/workflows/`.
//!
//! actionlint (pinned in `tests/controlplane/actionlint/`) finds nothing in them; CI runs the project's
//! test command; a `v*` tag releases exactly what the chart deploys by default: the `check` job's
//! script, run here against the repository, accepts the tag of the current version and rejects any
//! other, the image is built for linux/amd64 and linux/arm64 with the Dockerfile's musl target for
//! each, and the image and the chart are signed keyless and the image carries an SBOM.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use serde_json::Value;
use support::repo_root;

const WORKFLOWS: &str = ".github/workflows";

fn run_in_repo(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|e| panic!("{program} on PATH (scripts/test puts the pinned builds first): {e}"))
}

fn workflow(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(WORKFLOWS).join(name))
        .unwrap_or_else(|e| panic!("{WORKFLOWS}/{name}: {e}"));
    runway::manifests::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every step of every job of a workflow, with its job's name.
fn steps(workflow: &Value) -> Vec<(String, &Value)> {
    workflow["jobs"]
        .as_object()
        .expect("jobs")
        .iter()
        .flat_map(|(job, spec)| {
            spec["steps"]
                .as_array()
                .expect("steps")
                .iter()
                .map(move |s| (job.clone(), s))
        })
        .collect()
}

/// Runs actionlint on `files`, with no shellcheck or pyflakes: whether those are installed must not
/// change the verdict.
fn actionlint(files: &[String]) -> Output {
    let mut args = vec!["-shellcheck=", "-pyflakes=", "-no-color"];
    args.extend(files.iter().map(String::as_str));
    run_in_repo("actionlint", &args)
}

#[test]
fn workflows_pass_actionlint() {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join(WORKFLOWS))
        .expect(".github/workflows")
        .map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            format!("{WORKFLOWS}/{name}")
        })
        .filter(|f| f.ends_with(".yml") || f.ends_with(".yaml"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [".github/workflows/ci.yml", ".github/workflows/release.yml"]
    );
    let out = actionlint(&files);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // actionlint does report problems: an unknown runner label and an undefined job output.
    let dir = std::env::temp_dir().join(format!("runway-release-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let bad = dir.join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-lastest\n    steps:\n      - run: echo ${{ needs.b.outputs.x }}\n",
    )
    .expect("write bad workflow");
    let out = actionlint(&[bad.to_string_lossy().into_owned()]);
    let _ = std::fs::remove_dir_all(&dir);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "actionlint accepted a broken workflow");
    assert!(report.contains("ubuntu-lastest"), "{report}");
}

#[test]
fn ci_runs_the_test_command_with_read_only_permissions() {
    let ci = workflow("ci.yml");
    assert_eq!(ci["permissions"]["contents"], "read");
    assert_eq!(ci["on"]["push"]["branches"][0], "main");
    assert!(ci["on"].get("pull_request").is_some(), "CI runs on pull requests");
    let runs: Vec<&str> = steps(&ci).iter().filter_map(|(_, s)| s["run"].as_str()).collect();
    assert!(
        runs.iter()
            .any(|r| r.trim() == ".ci/run" || r.trim() == "scripts/test"),
        "CI runs .ci/run: {runs:?}"
    );
}

/// Runs the release's `check` step script as GitHub would for `tag` pushed by `owner`, and returns
/// its outputs, or its error.
fn release_check(owner: &str, tag: &str) -> Result<Vec<(String, String)>, String> {
    let release = workflow("release.yml");
    let script = release["jobs"]["check"]["steps"]
        .as_array()
        .expect("check steps")
        .iter()
        .find_map(|s| s["run"].as_str())
        .expect("the check job runs a script");
    let dir = std::env::temp_dir().join(format!("runway-release-check-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let outputs = dir.join("outputs");
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", script])
        .current_dir(repo_root())
        .env("OWNER", owner)
        .env("TAG", tag)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .expect("bash");
    let written = std::fs::read_to_string(&outputs).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Ok(written
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// The chart's default image repository and the owner it names (`ghcr.io/<owner>/runway`).
fn chart_image() -> (String, String) {
    let values: Value = runway::manifests::from_str(
        &std::fs::read_to_string(repo_root().join("deploy/helm/runway/values.yaml")).expect("values.yaml"),
    )
    .expect("values YAML");
    let repository = values["image"]["repository"]
        .as_str()
        .expect("image.repository")
        .to_string();
    let owner = repository
        .strip_prefix("ghcr.io/")
        .and_then(|r| r.strip_suffix("/runway"))
        .unwrap_or_else(|| panic!("image.repository {repository} is not ghcr.io/<owner>/runway"))
        .to_string();
    (repository, owner)
}

#[test]
fn a_version_tag_releases_the_image_the_chart_deploys_by_default() {
    let chart: Value = runway::manifests::from_str(
        &std::fs::read_to_string(repo_root().join("deploy/helm/runway/Chart.yaml")).expect("Chart.yaml"),
    )
    .expect("Chart YAML");
    let version = chart["appVersion"].as_str().expect("appVersion");
    let (repository, owner) = chart_image();

    let outputs = release_check(&owner, &format!("v{version}")).unwrap_or_else(|e| {
        panic!("the release check rejects the tag v{version} of the current version: {e}")
    });
    assert!(
        outputs.contains(&("version".into(), version.to_string())),
        "{outputs:?}"
    );
    assert!(
        outputs.contains(&("image".into(), repository.clone())),
        "{outputs:?}"
    );
    assert!(
        outputs.contains(&("charts".into(), format!("ghcr.io/{owner}/charts"))),
        "{outputs:?}"
    );
    // GitHub spells owners in any case; image names are lower case.
    assert!(release_check(&owner.to_uppercase(), &format!("v{version}")).is_ok());

    // Any other tag, or a fork that would push elsewhere than the chart's default, fails.
    let wrong_tag = release_check(&owner, "v99.0.0").expect_err("v99.0.0 was accepted");
    assert!(wrong_tag.contains("is not the tag's 99.0.0"), "{wrong_tag}");
    let fork = release_check("someone-else", &format!("v{version}")).expect_err("a fork was accepted");
    assert!(
        fork.contains("ghcr.io/someone-else/runway, which this release pushes"),
        "{fork}"
    );

    // The pushed tag is the check's version; nothing else names the image.
    let release = workflow("release.yml");
    let manifest_env = &release["jobs"]["manifest"]["env"];
    assert_eq!(manifest_env["IMAGE"], "${{ needs.check.outputs.image }}");
    assert_eq!(manifest_env["VERSION"], "${{ needs.check.outputs.version }}");
    let create = steps(&release)
        .into_iter()
        .filter_map(|(_, s)| s["run"].as_str())
        .find(|r| r.contains("imagetools create"))
        .expect("the manifest job creates the multi-arch image");
    assert!(create.contains(r#"--tag "$IMAGE:$VERSION""#), "{create}");
}

#[test]
fn release_builds_both_platforms_and_signs_the_image_and_the_chart() {
    let release = workflow("release.yml");
    assert_eq!(release["on"]["push"]["tags"][0], "v*");
    assert_eq!(
        release["permissions"],
        serde_json::json!({}),
        "no permission unless a job asks"
    );

    // One native build per platform, each with the musl target of its architecture, which the
    // Dockerfile takes as its TARGET build argument.
    let image = &release["jobs"]["image"];
    let mut platforms = BTreeSet::new();
    for entry in image["strategy"]["matrix"]["include"].as_array().expect("matrix") {
        let platform = entry["platform"].as_str().expect("platform");
        let target = entry["target"].as_str().expect("target");
        let arch = match platform {
            "linux/amd64" => "x86_64",
            "linux/arm64" => "aarch64",
            other => panic!("unexpected platform {other}"),
        };
        assert_eq!(target, format!("{arch}-unknown-linux-musl"));
        platforms.insert(platform.to_string());
    }
    assert_eq!(
        platforms,
        BTreeSet::from(["linux/amd64".into(), "linux/arm64".into()])
    );
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains("ARG TARGET=") && dockerfile.contains("--target \"$TARGET\""),
        "the Dockerfile builds the TARGET build argument"
    );
    let build = steps(&release)
        .into_iter()
        .find(|(job, s)| {
            job == "image"
                && s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("docker/build-push-action@"))
        })
        .map(|(_, s)| s)
        .expect("the image job runs docker/build-push-action");
    assert_eq!(build["with"]["build-args"], "TARGET=${{ matrix.target }}");
    assert_eq!(build["with"]["sbom"], true, "BuildKit attaches an SBOM");
    let labels = build["with"]["labels"].as_str().expect("labels");
    for label in ["source", "version", "revision", "licenses"] {
        assert!(
            labels.contains(&format!("org.opencontainers.image.{label}=")),
            "no OCI {label} label"
        );
    }

    // Signing jobs may mint an OIDC token; cosign signs the image and the chart.
    for job in ["manifest", "chart"] {
        assert_eq!(
            release["jobs"][job]["permissions"]["id-token"], "write",
            "{job} signs keyless"
        );
    }
    let runs: Vec<(String, &str)> = steps(&release)
        .into_iter()
        .filter_map(|(job, s)| s["run"].as_str().map(|r| (job, r)))
        .collect();
    let signs = |job: &str, what: &str| {
        runs.iter()
            .any(|(j, r)| j == job && r.contains("cosign sign --yes") && r.contains(what))
    };
    assert!(signs("manifest", "\"$IMAGE@$DIGEST\""), "the image is signed");
    assert!(
        signs("chart", "\"$CHARTS/runway@$DIGEST\""),
        "the chart is signed"
    );
    assert!(
        runs.iter()
            .any(|(j, r)| j == "manifest" && r.contains("cosign attest") && r.contains("spdxjson")),
        "an SPDX SBOM is attested to the image"
    );
    assert!(
        runs.iter().any(|(j, r)| j == "chart" && r.contains("helm push")),
        "the chart is pushed as an OCI artifact"
    );

    // The release packages the chart with the helm that the chart's tests use.
    let helm = steps(&release)
        .into_iter()
        .find(|(_, s)| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("azure/setup-helm@"))
        })
        .map(|(_, s)| s["with"]["version"].as_str().expect("helm version").to_string())
        .expect("the chart job installs helm");
    let go_mod =
        std::fs::read_to_string(repo_root().join("tests/controlplane/helm/go.mod")).expect("helm go.mod");
    assert!(
        go_mod.contains(&format!("helm.sh/helm/v3 {helm}")),
        "release.yml installs helm {helm}, the tests pin another"
    );
}
