//! Planner tests from YAML fixtures (`fixtures/scenarios.yaml` over `fixtures/base.yaml`), plus the
//! canonical-form properties of the desired request.

use serde_json::Value;

use super::*;
use crate::api::express::ExpressServiceSpec;

const BASE: &str = include_str!("fixtures/base.yaml");
const SCENARIOS: &str = include_str!("fixtures/scenarios.yaml");

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("fixture YAML")
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

fn spec_config(desired: &ExpressRequest) -> Value {
    let config = TargetConfiguration {
        service_revision_arn: Some("rev1".into()),
        execution_role_arn: desired.execution_role_arn.clone(),
        task_role_arn: desired.task_role_arn.clone(),
        cpu: desired.cpu.clone(),
        memory: desired.memory.clone(),
        network_configuration: desired.network_configuration.clone(),
        health_check_path: desired.health_check_path.clone(),
        primary_container: desired.primary_container.clone(),
        scaling_target: desired.scaling_target.clone(),
        ..TargetConfiguration::default()
    };
    serde_json::to_value(config).expect("config JSON")
}

fn label(plan: &Plan) -> String {
    match plan {
        Plan::Create => "Create".into(),
        Plan::Update { .. } => "Update".into(),
        Plan::Redeploy => "Redeploy".into(),
        Plan::Wait { reason, .. } => format!("Wait:{reason}"),
        Plan::Stalled { reason, .. } => format!("Stalled:{reason}"),
        Plan::Ready { .. } => "Ready".into(),
    }
}

fn message(plan: &Plan) -> &str {
    match plan {
        Plan::Wait { message, .. } | Plan::Stalled { message, .. } | Plan::Ready { message } => message,
        _ => "",
    }
}

#[test]
fn every_fixture_scenario_plans_as_expected() {
    let scenarios = yaml(SCENARIOS);
    let scenarios = scenarios.as_array().expect("a list of scenarios");
    assert!(scenarios.len() >= 15);
    let mut failures = Vec::new();
    for sc in scenarios {
        let name = sc["name"].as_str().expect("name");
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
        let status: ExpressServiceStatus =
            serde_json::from_value(rest.get("status").cloned().unwrap_or(Value::Null)).unwrap_or_default();
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
        });
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
fn explicit_aws_defaults_have_the_same_digest_as_omitted_ones() {
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
    assert_eq!(
        ExpressRequest::from_spec(&a).digest(),
        ExpressRequest::from_spec(&b).digest()
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
    let req = create_request(&spec, "shop", "checkout").expect("valid");
    assert_eq!(req.service_name, "checkout");
    assert!(
        req.tags
            .iter()
            .any(|t| t.key == OWNER_TAG && t.value.as_deref() == Some("shop/checkout"))
    );
    let err = create_request(&spec, "shop", "checkout.web").expect_err("dots are not allowed");
    assert!(err.contains("set spec.serviceName"), "{err}");
    let mut named = spec.clone();
    named.service_name = Some("checkout_web".into());
    assert_eq!(
        create_request(&named, "shop", "checkout.web")
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
