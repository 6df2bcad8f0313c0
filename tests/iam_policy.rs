//! The IAM policy runway documents allows exactly what runway calls (docs/aws-behaviour.md X9).
//!
//! The actions are listed in `src/aws/permissions.rs`. This test reads every SDK call in `src/`
//! (the fluent `client.<service>.<operation>()` calls, STS's, and the assumed-role provider) and
//! fails when a call is missing from the list or the list names an action nothing calls; then it
//! reads `deploy/helm/runway/iam-policy.json` and fails unless it allows every listed action, passes
//! roles only to the listed services, lets ECS and App Runner create their service-linked roles,
//! and is the policy docs/install.md shows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use runway::aws::permissions::{
    CONTROLLER, MIGRATE_ONLY, NO_PERMISSION_NEEDED, PASSED_TO, SERVICE_LINKED_ROLES,
};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `describe_express_gateway_service` → `DescribeExpressGatewayService`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The operations called as `.<client>.<operation>(` in `code` (whitespace removed), as
/// `<service>:<Operation>`.
fn fluent_calls(code: &str, client: &str, service: &str) -> Vec<String> {
    let needle = format!("{client}.");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().last();
        rest = &rest[at + needle.len()..];
        // NB: `c.ecs.` or `(sts.`, not a longer identifier such as `aws_sdk_ecs.` or a host name.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].starts_with("()") {
            found.push(format!("{service}:{}", pascal(&name)));
        }
    }
    found
}

/// `code` without its comment lines, and with method chains split over lines joined
/// (`c\n    .ecs\n    .update_service()` becomes `c.ecs.update_service()`).
fn joined(code: &str) -> String {
    let lines: Vec<&str> = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    let text = lines.join("\n");
    let mut out = String::with_capacity(text.len());
    let mut pending = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            pending.push(c);
            continue;
        }
        if c != '.' {
            out.push_str(&pending);
        }
        pending.clear();
        out.push(c);
    }
    out
}

/// Every action the code in `src/` calls, by file, test modules left out.
fn called() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files {
        let relative = path.strip_prefix(root()).expect("in repo").display().to_string();
        if relative.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let code = joined(text.split("#[cfg(test)]").next().unwrap_or_default());
        let mut actions = Vec::new();
        for (client, service) in [("ecs", "ecs"), ("apprunner", "apprunner"), ("sts", "sts")] {
            actions.extend(fluent_calls(&code, client, service));
        }
        if code.contains("AssumeRoleProvider::builder") {
            actions.push("sts:AssumeRole".into());
        }
        if code.contains("provider.tags(") {
            actions.push("sts:TagSession".into());
        }
        for action in actions {
            calls.entry(action).or_default().insert(relative.clone());
        }
    }
    calls
}

#[test]
fn every_aws_call_in_the_code_is_listed_and_every_listed_action_is_called() {
    let calls = called();
    assert!(
        calls.contains_key("apprunner:DescribeService") && calls.contains_key("ecs:UpdateService"),
        "the scan finds the SDK calls: {calls:?}"
    );
    let mut problems = Vec::new();
    for (action, files) in &calls {
        let migrate_only = files.iter().all(|f| f.starts_with("src/migrate/"));
        let listed = CONTROLLER.contains(&action.as_str())
            || NO_PERMISSION_NEEDED.contains(&action.as_str())
            || (migrate_only && MIGRATE_ONLY.contains(&action.as_str()));
        if !listed {
            problems.push(format!(
                "{action} is called in {files:?} but not listed in src/aws/permissions.rs; add it \
                 there, to deploy/helm/runway/iam-policy.json and to docs/install.md"
            ));
        }
    }
    for action in CONTROLLER.iter().chain(MIGRATE_ONLY).chain(NO_PERMISSION_NEEDED) {
        if !calls.contains_key(*action) {
            problems.push(format!(
                "{action} is listed in src/aws/permissions.rs but nothing in src/ calls it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The values a statement's condition gives `key`, under any operator.
fn condition_values(statement: &Value, key: &str) -> Vec<String> {
    statement["Condition"]
        .as_object()
        .map(|ops| ops.values().flat_map(|o| strings(&o[key])).collect())
        .unwrap_or_default()
}

fn policy() -> Value {
    let text = std::fs::read_to_string(root().join("deploy/helm/runway/iam-policy.json")).expect("policy");
    serde_json::from_str(&text).expect("the policy is JSON")
}

#[test]
fn the_documented_policy_allows_every_call_and_passes_roles_only_to_their_services() {
    let policy = policy();
    let statements = policy["Statement"].as_array().expect("statements");
    let allowed: Vec<(String, &Value)> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| strings(&s["Action"]).into_iter().map(move |a| (a, s)))
        .collect();
    let names: BTreeSet<&str> = allowed.iter().map(|(a, _)| a.as_str()).collect();
    for action in CONTROLLER {
        assert!(names.contains(action), "the policy does not allow {action}");
    }
    for action in &names {
        assert!(
            CONTROLLER.contains(action) || ["iam:PassRole", "iam:CreateServiceLinkedRole"].contains(action),
            "the policy allows {action}, which runway never calls"
        );
    }
    let conditioned = |action: &str, key: &str| -> BTreeSet<String> {
        allowed
            .iter()
            .filter(|(a, _)| a == action)
            .flat_map(|(_, s)| {
                let values = condition_values(s, key);
                assert!(!values.is_empty(), "{action} without an {key} condition: {s}");
                values
            })
            .collect()
    };
    let expected = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        conditioned("iam:PassRole", "iam:PassedToService"),
        expected(PASSED_TO)
    );
    assert_eq!(
        conditioned("iam:CreateServiceLinkedRole", "iam:AWSServiceName"),
        expected(SERVICE_LINKED_ROLES)
    );
}

#[test]
fn install_md_shows_the_charts_policy() {
    let install = std::fs::read_to_string(root().join("docs/install.md")).expect("install.md");
    let blocks: Vec<Value> = install
        .split("```json")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    assert!(
        blocks.contains(&policy()),
        "docs/install.md must show deploy/helm/runway/iam-policy.json as a ```json block"
    );
}
