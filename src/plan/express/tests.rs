//! Planner tests from YAML fixtures (`fixtures/scenarios.yaml` over `fixtures/base.yaml`), plus the
//! canonical-form properties of the desired request.

use serde_json::Value;

use super::drift::*;
use super::observed::*;
use super::plan::*;
use super::request::*;
use crate::api::express::{
    CpuArchitecture, ExpressServiceSpec, ExpressServiceStatus, ScalingMetric, TargetConfiguration,
};
use crate::plan::{OWNER_TAG, Phase};

const BASE: &str = include_str!("fixtures/base.yaml");
const SCENARIOS: &str = include_str!("fixtures/scenarios.yaml");

fn yaml(text: &str) -> Value {
    crate::manifests::from_str(text).expect("fixture YAML")
}

/// Merges `patch` into `base` (JSON merge patch: null removes a key).
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Replaces the `$DESIRED` and `$SPEC_CONFIG` placeholders.
fn substitute(v: &mut Value, digest: &str, spec_config: &Value) {
    match v {
        Value::String(s) if s == "$DESIRED" => *v = Value::String(digest.to_string()),
        Value::String(s) if s == "$SPEC_CONFIG" => *v = spec_config.clone(),
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, digest, spec_config)),
        Value::Object(map) => map.values_mut().for_each(|i| substitute(i, digest, spec_config)),
        _ => {}
    }
}

/// A configuration equal to the spec, as AWS would report it (the same JSON shape), plus the
/// security group that ECS adds itself.
fn spec_config(desired: &ExpressRequest) -> Value {
    let mut config = serde_json::to_value(desired).expect("request JSON");
    config["serviceRevisionArn"] = Value::String("rev1".into());
    let groups = config["networkConfiguration"]["securityGroups"]
        .as_array()
        .cloned();
    if let Some(mut groups) = groups {
        groups.insert(0, Value::String("sg-0ecs0managed0000".into()));
        config["networkConfiguration"]["securityGroups"] = Value::Array(groups);
    }
    let parsed: TargetConfiguration = serde_json::from_value(config).expect("config");
    serde_json::to_value(parsed).expect("config JSON")
}

/// The scenarios' clock: a fixed time 10 minutes after the fixtures' `lastFailedAt`, with a
/// 30-minute resync.
fn clock() -> crate::plan::Clock<'static> {
    crate::plan::Clock {
        cluster: "",
        now: "2026-01-01T00:10:00Z".parse().expect("time"),
        resync: std::time::Duration::from_secs(1800),
        requested_at: None,
        stuck_after: crate::plan::DEFAULT_STUCK_AFTER,
    }
}

fn label(plan: &Plan) -> String {
    match plan {
        Plan::Create => "Create".into(),
        Plan::Update { .. } => "Update".into(),
        Plan::Redeploy => "Redeploy".into(),
        Plan::Baseline => "Baseline".into(),
        Plan::Report(Phase::Progressing { reason, .. }) => format!("Wait:{reason}"),
        Plan::Report(Phase::Stalled { reason, .. }) => format!("Stalled:{reason}"),
        Plan::Report(Phase::Ready { .. }) => "Ready".into(),
    }
}

fn message(plan: &Plan) -> &str {
    match plan {
        Plan::Report(Phase::Progressing { message, .. })
        | Plan::Report(Phase::Stalled { message, .. })
        | Plan::Report(Phase::Ready { message, .. }) => message,
        _ => "",
    }
}

/// One fixture scenario, planned: its name and fixture, the desired request's digest, the status
/// it was planned with, and the plan.
pub(crate) struct Planned {
    pub(crate) name: String,
    fixture: Value,
    pub(crate) digest: String,
    pub(crate) status: ExpressServiceStatus,
    pub(crate) plan: Plan,
}

/// Every fixture scenario, planned with the scenarios' clock.
pub(crate) fn planned_scenarios() -> Vec<Planned> {
    let scenarios = yaml(SCENARIOS);
    let scenarios = scenarios.as_array().expect("a list of scenarios");
    assert!(scenarios.len() >= 15);
    scenarios
        .iter()
        .map(|sc| {
            let mut spec_json = yaml(BASE);
            if let Some(patch) = sc.get("spec") {
                merge(&mut spec_json, patch);
            }
            let spec: ExpressServiceSpec = serde_json::from_value(spec_json).expect("spec");
            let desired = ExpressRequest::from_spec(&spec);
            let digest = desired.digest();
            let config = spec_config(&desired);
            let mut rest = sc.clone();
            substitute(&mut rest, &digest, &config);
            // A scenario without `status` starts from an empty one; a malformed `status` fails
            // the scenario instead of silently becoming empty.
            let status: ExpressServiceStatus = match rest.get("status") {
                None => ExpressServiceStatus::default(),
                Some(status) => serde_json::from_value(status.clone())
                    .unwrap_or_else(|e| panic!("scenario {}: malformed status: {e}", sc["name"])),
            };
            let service: Option<ObservedExpress> = rest
                .get("service")
                .map(|s| serde_json::from_value(s.clone()).expect("service"));
            let deployment: Option<ObservedDeployment> = rest
                .get("deployment")
                .map(|d| serde_json::from_value(d.clone()).expect("deployment"));
            let plan = plan(PlanInput {
                spec: &spec,
                status: &status,
                desired: &desired,
                service: service.as_ref(),
                deployment: deployment.as_ref(),
                clock: clock(),
            });
            Planned {
                name: sc["name"].as_str().expect("name").to_string(),
                fixture: sc.clone(),
                digest,
                status,
                plan,
            }
        })
        .collect()
}

#[test]
fn every_fixture_scenario_plans_as_expected() {
    let mut failures = Vec::new();
    for p in planned_scenarios() {
        let (name, sc, plan) = (p.name.as_str(), &p.fixture, p.plan);
        let want = sc["expect"].as_str().expect("expect");
        if label(&plan) != want {
            failures.push(format!("{name}: expected {want}, planned {plan:?}"));
            continue;
        }
        if let Some(text) = sc.get("message_contains").and_then(Value::as_str)
            && !message(&plan).contains(text)
        {
            failures.push(format!("{name}: message {:?} lacks {text:?}", message(&plan)));
        }
        if let Some(fields) = sc.get("drifted") {
            let want: Vec<String> = serde_json::from_value(fields.clone()).expect("drifted list");
            if plan
                != (Plan::Update {
                    drifted: want.clone(),
                })
            {
                failures.push(format!("{name}: expected drift in {want:?}, planned {plan:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn base_spec() -> ExpressServiceSpec {
    serde_json::from_value(yaml(BASE)).expect("base spec")
}

#[test]
fn reordered_lists_have_the_same_digest() {
    let a = base_spec();
    let mut b = a.clone();
    let pc = b.primary_container.as_mut().expect("container");
    pc.environment.reverse();
    b.network_configuration
        .as_mut()
        .expect("network")
        .subnets
        .reverse();
    assert_eq!(
        ExpressRequest::from_spec(&a).digest(),
        ExpressRequest::from_spec(&b).digest()
    );
}

#[test]
fn values_that_some_source_calls_a_default_are_still_sent() {
    let mut a = base_spec();
    a.cpu = None;
    a.memory = None;
    a.primary_container.as_mut().expect("container").container_port = None;
    let mut b = a.clone();
    b.cpu = Some("256".into());
    b.memory = Some("512".into());
    b.health_check_path = Some("/ping".into());
    b.cpu_architecture = Some(CpuArchitecture::X86_64);
    b.primary_container.as_mut().expect("container").container_port = Some(80);
    let scaling = b.scaling_target.as_mut().expect("scaling");
    scaling.auto_scaling_metric = Some(ScalingMetric::AVERAGE_CPU);
    scaling.auto_scaling_target_value = Some(60);
    // botocore's model text says cpu 256, memory 512 and /ping; the ECS developer guide says 1024,
    // 2048 and /. Folding either reading would drop a value the user asked for under the other.
    assert_ne!(
        ExpressRequest::from_spec(&a).digest(),
        ExpressRequest::from_spec(&b).digest()
    );
    let mut only_cpu = a.clone();
    only_cpu.cpu = Some("256".into());
    assert_ne!(
        ExpressRequest::from_spec(&a).digest(),
        ExpressRequest::from_spec(&only_cpu).digest()
    );
}

#[test]
fn a_list_runway_applied_and_the_spec_dropped_is_cleared_and_nothing_else() {
    let mut spec = base_spec();
    let applied = ExpressRequest::from_spec(&spec).fields();
    assert!(applied.contains(&"primaryContainer.environment".to_string()));
    let container = spec.primary_container.as_mut().expect("container");
    container.environment.clear();
    container.secrets.clear();
    let desired = ExpressRequest::from_spec(&spec).clearing(&applied);
    assert_eq!(
        desired.clear,
        vec!["primaryContainer.environment", "primaryContainer.secrets"]
    );
    // A list runway never set is left to whoever set it.
    let untouched = ExpressRequest::from_spec(&spec).clearing(&["healthCheckPath".to_string()]);
    assert!(untouched.clear.is_empty());
    // Clearing is not part of the digest: once applied, the spec's own request is steady.
    assert_eq!(desired.digest(), ExpressRequest::from_spec(&spec).digest());
}

#[test]
fn status_shows_values_only_of_the_environment_variables_the_spec_sets() {
    let spec = base_spec();
    let config: TargetConfiguration = serde_json::from_value(serde_json::json!({
        "primaryContainer": {"image": "x", "environment": [
            {"name": "A", "value": "1"}, {"name": "CONSOLE_TOKEN", "value": "s3cret"}],
            "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:db"}]}
    }))
    .expect("config");
    let shown = redacted(&config, &spec);
    let container = shown.primary_container.expect("container");
    let value = |n: &str| {
        container
            .environment
            .iter()
            .find(|kv| kv.name == n)
            .expect("listed")
            .value
            .clone()
    };
    assert_eq!(value("A"), Some("1".into()));
    assert_eq!(value("CONSOLE_TOKEN"), None);
    assert_eq!(
        container.secrets[0].value_from,
        "arn:aws:secretsmanager:us-east-1:1:secret:db"
    );
}

#[test]
fn aws_added_security_groups_and_unreported_defaults_are_not_drift() {
    let spec = base_spec();
    let desired = ExpressRequest::from_spec(&spec);
    let mut config: TargetConfiguration =
        serde_json::from_value(serde_json::to_value(&desired).expect("json")).expect("config");
    let network = config.network_configuration.get_or_insert_with(Default::default);
    network.security_groups.insert(0, "sg-0123456789abcdef0".into());
    network.security_groups.push("sg-newformat-0001".into());
    config
        .primary_container
        .as_mut()
        .expect("container")
        .container_port = None;
    assert!(
        drift(&desired, &config).is_empty(),
        "{:?}",
        drift(&desired, &config)
    );
}

#[test]
fn a_changed_image_or_controller_owned_field_changes_the_digest_only_when_aws_sees_it() {
    let a = base_spec();
    let mut image = a.clone();
    image.primary_container.as_mut().expect("container").image = "nginx:1.28".into();
    assert_ne!(
        ExpressRequest::from_spec(&a).digest(),
        ExpressRequest::from_spec(&image).digest()
    );

    // Controller-owned fields are not part of the AWS request.
    let mut owned = a.clone();
    owned.redeploy_token = Some("x".into());
    owned.deletion_policy = Some(crate::api::common::DeletionPolicy::Retain);
    assert_eq!(
        ExpressRequest::from_spec(&a).digest(),
        ExpressRequest::from_spec(&owned).digest()
    );
}

#[test]
fn create_request_adds_the_owner_tag_and_validates_the_name() {
    let spec = base_spec();
    let req = create_request(
        &spec,
        &crate::plan::Owner {
            cluster: "",
            namespace: "shop",
            name: "checkout",
        },
    )
    .expect("valid");
    assert_eq!(req.service_name, "checkout");
    assert!(
        req.tags
            .iter()
            .any(|t| t.key == OWNER_TAG && t.value.as_deref() == Some("shop/checkout"))
    );
    let err = create_request(
        &spec,
        &crate::plan::Owner {
            cluster: "",
            namespace: "shop",
            name: "checkout.web",
        },
    )
    .expect_err("dots are not allowed");
    assert!(err.contains("set spec.serviceName"), "{err}");
    let mut named = spec.clone();
    named.service_name = Some("checkout_web".into());
    assert_eq!(
        create_request(
            &named,
            &crate::plan::Owner {
                cluster: "",
                namespace: "shop",
                name: "checkout.web"
            }
        )
        .expect("valid")
        .service_name,
        "checkout_web"
    );
}

#[test]
fn deletion_waits_while_draining_and_ends_when_inactive_or_gone() {
    use crate::plan::DeleteStep;
    assert_eq!(delete_step(Some("ACTIVE")), DeleteStep::Delete);
    assert_eq!(delete_step(Some("DRAINING")), DeleteStep::Wait);
    assert_eq!(delete_step(Some("INACTIVE")), DeleteStep::Gone);
    assert_eq!(delete_step(None), DeleteStep::Gone);
}

#[test]
fn an_ended_unchanged_deployment_is_taken_from_status_and_anything_else_is_described() {
    let settled = ExpressServiceStatus {
        current_deployment: Some("dep-1".into()),
        deployment_status: Some("SUCCESSFUL".into()),
        deployment_target_revision: Some("rev-1".into()),
        ..ExpressServiceStatus::default()
    };
    let known = known_ended_deployment(&settled, Some("dep-1")).expect("known");
    assert_eq!(known.arn, "dep-1");
    assert_eq!(known.status, "SUCCESSFUL");
    assert_eq!(known.target_revision.as_deref(), Some("rev-1"));
    for failed in FAILED {
        let ended = ExpressServiceStatus {
            deployment_status: Some((*failed).into()),
            deployment_status_reason: Some("circuit breaker".into()),
            ..settled.clone()
        };
        let known = known_ended_deployment(&ended, Some("dep-1")).expect("ended");
        assert_eq!(known.status_reason.as_deref(), Some("circuit breaker"));
    }
    // A new current deployment, none at all, one still moving, an unknown status, an awaited rollout.
    assert!(known_ended_deployment(&settled, Some("dep-2")).is_none());
    assert!(known_ended_deployment(&settled, None).is_none());
    for moving in ["PENDING", "IN_PROGRESS", "STOP_REQUESTED", "SOMETHING_NEW"] {
        let s = ExpressServiceStatus {
            deployment_status: Some(moving.into()),
            ..settled.clone()
        };
        assert!(known_ended_deployment(&s, Some("dep-1")).is_none(), "{moving}");
    }
    let awaiting = ExpressServiceStatus {
        awaited_rollout: Some(crate::api::express::AwaitedRollout {
            cause: "Update".into(),
            service_revision_arn: None,
            previous_deployment: Some("dep-1".into()),
        }),
        ..settled.clone()
    };
    assert!(known_ended_deployment(&awaiting, Some("dep-1")).is_none());
}
