//! The pure part of `runway diff`: verdicts (also over every planner fixture scenario, against the
//! call the controller makes), field diffs, rendering and exit codes.

use serde_json::json;

use super::*;
use crate::api::common::Tag;
use crate::api::express::ExpressGatewayContainer;
use crate::plan::express::Plan as X;

fn spec(image: &str) -> ExpressServiceSpec {
    serde_json::from_value(json!({
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/infra",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "cpu": "512",
        "memory": "1024",
        "primaryContainer": {"image": image, "containerPort": 8080,
            "environment": [{"name": "MODE", "value": "prod"}]}
    }))
    .expect("spec")
}

fn config_of(spec: &ExpressServiceSpec) -> TargetConfiguration {
    let mut value = serde_json::to_value(ExpressRequest::from_spec(spec)).expect("json");
    value["serviceRevisionArn"] = json!("rev1");
    // Someone set an extra variable in the console: its value must not be shown.
    value["primaryContainer"]["environment"] = json!([
        {"name": "MODE", "value": "prod"},
        {"name": "TOKEN", "value": "console-secret"}
    ]);
    serde_json::from_value(value).expect("config")
}

#[test]
fn every_plan_has_one_verdict() {
    let wait = X::Report(Phase::Progressing {
        reason: "RolloutInProgress",
        message: "deployment d1 is IN_PROGRESS".into(),
    });
    let cases = [
        (X::Create, false, Verdict::Create),
        (X::Update { drifted: vec![] }, false, Verdict::Update),
        (
            X::Update {
                drifted: vec!["primaryContainer.image".into()],
            },
            false,
            Verdict::Update,
        ),
        (X::Redeploy, false, Verdict::Redeploy),
        (X::Baseline, true, Verdict::NoChange),
        (wait.clone(), true, Verdict::Update),
        (wait, false, Verdict::NoChange),
        (
            X::Report(Phase::Stalled {
                reason: "AwsRejectedSpec",
                message: "m".into(),
            }),
            false,
            Verdict::Blocked,
        ),
        (
            X::Report(Phase::Ready {
                reason: "Ready",
                message: "ok".into(),
            }),
            false,
            Verdict::NoChange,
        ),
    ];
    for (plan, pending, want) in cases {
        assert_eq!(express_verdict(&plan, pending).0, want, "{plan:?}");
        // A verdict that changes AWS goes with the call the controller makes, and only then (a
        // pending update waits for the rollout in flight: no call yet).
        if want.changes() && !matches!(plan, X::Report(Phase::Progressing { .. })) {
            assert!(express_call(&plan).is_some(), "{plan:?}");
        } else {
            assert!(express_call(&plan).is_none(), "{plan:?}");
        }
    }
    let cases = [
        (ar::Plan::Create, Verdict::Create, Some("CreateService")),
        (
            ar::Plan::Update {
                cause: ar::UpdateCause::SpecChanged,
            },
            Verdict::Update,
            Some("UpdateService"),
        ),
        (ar::Plan::Pause, Verdict::Update, Some("PauseService")),
        (ar::Plan::Resume, Verdict::Update, Some("ResumeService")),
        (ar::Plan::Redeploy, Verdict::Redeploy, Some("StartDeployment")),
        (
            ar::Plan::Report(Phase::Ready {
                reason: "Ready",
                message: "ok".into(),
            }),
            Verdict::NoChange,
            None,
        ),
        (
            ar::Plan::Report(Phase::Stalled {
                reason: "CreateFailed",
                message: "m".into(),
            }),
            Verdict::Blocked,
            None,
        ),
    ];
    for (plan, want, call) in cases {
        assert_eq!(apprunner_verdict(&plan, false).0, want, "{plan:?}");
        assert_eq!(apprunner_call(&plan), call, "{plan:?}");
    }
}

#[test]
fn an_update_shows_only_the_fields_runway_would_change_and_hides_values_set_outside_the_spec() {
    let old = spec("nginx:1.27");
    let new = spec("nginx:1.28");
    let current = config_of(&old);
    let desired = ExpressRequest::from_spec(&new);
    let changes = express_changes(&desired, Some(&current), &new);
    assert_eq!(
        changes[0],
        FieldChange {
            field: "primaryContainer.image".into(),
            from: json!("nginx:1.27"),
            to: json!("nginx:1.28"),
        }
    );
    // The environment list is sent whole, so the variable set in the console is a difference too;
    // AWS's side shows its name but not its value.
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[1].field, "primaryContainer.environment");
    assert!(changes[1].from.to_string().contains("TOKEN"), "{changes:?}");
    assert!(
        !changes[1].from.to_string().contains("console-secret"),
        "{changes:?}"
    );
    // What the spec leaves unset is not compared: without environment in the spec, only the image.
    let mut bare = new.clone();
    bare.primary_container = Some(ExpressGatewayContainer {
        environment: vec![],
        ..new.primary_container.clone().expect("container")
    });
    let changes = express_changes(&ExpressRequest::from_spec(&bare), Some(&current), &bare);
    assert_eq!(changes.len(), 1, "{changes:?}");
    // AWS running exactly the spec: nothing differs.
    let mut same = config_of(&old);
    same.primary_container
        .as_mut()
        .expect("container")
        .environment
        .retain(|kv| kv.name == "MODE");
    assert!(express_changes(&ExpressRequest::from_spec(&old), Some(&same), &old).is_empty());
}

#[test]
fn tags_alone_make_an_update_and_are_listed() {
    let mut changes = Vec::new();
    let change = TagChange {
        set: vec![Tag {
            key: "team".into(),
            value: Some("payments".into()),
        }],
        remove: vec!["env".into()],
    };
    assert_eq!(
        with_tags(Verdict::NoChange, Some(&change), &mut changes),
        Verdict::Update
    );
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].field, "tags.team");
    assert_eq!(changes[1].to, Value::Null);
    assert_eq!(
        with_tags(Verdict::NoChange, Some(&TagChange::default()), &mut Vec::new()),
        Verdict::NoChange
    );
}

fn report(verdict: Verdict) -> Report {
    Report {
        kind: "ExpressService".into(),
        namespace: "shop".into(),
        name: "web".into(),
        verdict,
        call: None,
        reason: None,
        changes: Vec::new(),
        request: None,
        notes: Vec::new(),
    }
}

#[test]
fn exit_codes_follow_terraform_plans_detailed_exitcode() {
    assert_eq!(exit_code(&[report(Verdict::NoChange)]), 0);
    assert_eq!(exit_code(&[]), 0);
    assert_eq!(
        exit_code(&[report(Verdict::NoChange), report(Verdict::Update)]),
        2
    );
    assert_eq!(exit_code(&[report(Verdict::Create)]), 2);
    assert_eq!(exit_code(&[report(Verdict::Redeploy)]), 2);
    assert_eq!(exit_code(&[report(Verdict::Create), report(Verdict::Blocked)]), 1);
}

#[test]
fn text_and_json_say_the_same_thing() {
    let mut r = report(Verdict::Update);
    r.call = Some("UpdateExpressGatewayService".into());
    r.changes.push(FieldChange {
        field: "primaryContainer.image".into(),
        from: json!("nginx:1.27"),
        to: json!("nginx:1.28"),
    });
    let text = render_text(&[r.clone(), report(Verdict::NoChange)]);
    assert!(text.starts_with("ExpressService shop/web: update (UpdateExpressGatewayService)\n"));
    assert!(text.contains("  ~ primaryContainer.image: \"nginx:1.27\" -> \"nginx:1.28\"\n"));
    assert!(text.ends_with("0 to create, 1 to update, 0 to redeploy, 1 unchanged, 0 blocked.\n"));
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["verdict"], "update");
    assert_eq!(v["changes"][0]["field"], "primaryContainer.image");
    assert_eq!(
        serde_json::to_value(report(Verdict::NoChange)).expect("json")["verdict"],
        "no-change"
    );
}

#[test]
fn every_fixture_scenarios_diff_verdict_is_the_controllers_next_call() {
    for p in crate::plan::express::tests::planned_scenarios() {
        let pending = p.status.common.last_applied_hash.as_deref() != Some(p.digest.as_str());
        let (verdict, _) = express_verdict(&p.plan, pending);
        let want = match express_call(&p.plan) {
            Some("CreateExpressGatewayService") => Verdict::Create,
            Some("UpdateExpressGatewayService") => Verdict::Update,
            Some("UpdateService") => Verdict::Redeploy,
            Some(other) => panic!("{}: unexpected call {other}", p.name),
            // No call now: nothing changes, or runway is blocked, or an update waits for the rollout
            // in flight (diff reports it as the update it will be).
            None => match &p.plan {
                X::Report(Phase::Stalled { .. }) => Verdict::Blocked,
                X::Report(Phase::Progressing { .. }) if pending => Verdict::Update,
                _ => Verdict::NoChange,
            },
        };
        assert_eq!(verdict, want, "{}: {:?}", p.name, p.plan);
    }
}
