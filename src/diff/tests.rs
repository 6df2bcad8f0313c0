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

/// Internal consistency only: the verdict `diff` prints agrees with the call it announces, over
/// every planner scenario. Both come from `diff`, so this cannot show that the controller really
/// sends that call; `tests/diff_e2e.rs::diff_reports_each_verdict_never_mutates_and_announces_the_controllers_next_call`
/// does, by running the controller after each `diff` and counting the calls the simulator saw.
#[test]
fn every_fixture_scenarios_verdict_agrees_with_the_call_diff_announces() {
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

#[test]
fn every_exit_code_says_one_thing() {
    let codes = [EXIT_NO_CHANGE, EXIT_BLOCKED, EXIT_CHANGES, EXIT_ERROR];
    assert_eq!(codes, [0, 1, 2, 3]);
    // A blocked resource wins over changes; an error is never a verdict's code.
    for verdicts in [
        vec![],
        vec![Verdict::NoChange],
        vec![Verdict::Create, Verdict::Update],
        vec![Verdict::Blocked, Verdict::Create],
    ] {
        let reports: Vec<Report> = verdicts.into_iter().map(report).collect();
        assert_ne!(exit_code(&reports), EXIT_ERROR);
    }
}

mod documents {
    use serde_json::json;

    use crate::diff::documents::{Doc, expand, sort};
    use crate::manifests;

    fn express(name: &str) -> serde_json::Value {
        json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {"name": name},
            "spec": {
                "infrastructureRoleArn": "arn:aws:iam::123456789012:role/infra",
                "primaryContainer": {"image": "nginx:1.27"}
            }
        })
    }

    fn names(docs: &[Doc]) -> Vec<String> {
        docs.iter()
            .map(|d| match d {
                Doc::Express(x) => format!(
                    "xsvc {}/{}",
                    x.metadata.namespace.clone().unwrap_or_default(),
                    x.metadata.name.clone().unwrap_or_default()
                ),
                Doc::AppRunner(a) => format!("arsvc {}", a.metadata.name.clone().unwrap_or_default()),
            })
            .collect()
    }

    #[test]
    fn a_list_is_expanded_as_kubectl_does_and_other_documents_are_named() {
        let text = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}\n- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cfg, namespace: shop}}}}\n---\n{}\n",
            serde_json::to_string(&express("web")).expect("json"),
            serde_json::to_string(&json!({"kind": "ExpressServiceList",
                "apiVersion": "runway.dev/v1alpha1",
                "items": [{"metadata": {"name": "api", "namespace": "ops"},
                           "spec": express("api")["spec"]}]}))
            .expect("json"),
        );
        let docs = manifests::documents(&text).expect("yaml");
        let sorted = sort(docs, "standard input", "shop").expect("sorted");
        assert_eq!(names(&sorted.resources), vec!["xsvc shop/web", "xsvc ops/api"]);
        assert_eq!(
            sorted.skipped,
            vec!["standard input, document 2 (v1 ConfigMap shop/cfg): not a runway resource"]
        );
    }

    #[test]
    fn nested_lists_and_lists_of_lists_flatten_and_an_empty_list_is_nothing() {
        let nested = json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "List", "items": [express("a"), express("b")]},
            express("c")
        ]});
        let empty = json!({"apiVersion": "v1", "kind": "List", "items": []});
        let flat = expand(vec![nested, empty]);
        let names: Vec<&str> = flat
            .iter()
            .filter_map(|d| d.pointer("/metadata/name").and_then(|n| n.as_str()))
            .collect();
        assert_eq!(names, vec!["a", "b", "c"]);
        // `items` alone does not make a list.
        let not_a_list = json!({"apiVersion": "v1", "kind": "ConfigMap", "items": [1]});
        assert_eq!(expand(vec![not_a_list.clone()]), vec![not_a_list]);
    }

    #[test]
    fn a_document_without_apiversion_or_kind_is_skipped_and_named() {
        let sorted = sort(vec![json!({"metadata": {"name": "x"}})], "a.yaml", "default").expect("sorted");
        assert!(sorted.resources.is_empty());
        assert_eq!(
            sorted.skipped,
            vec!["a.yaml, document 1 (x): not a Kubernetes object (no apiVersion or kind)"]
        );
    }

    #[test]
    fn a_runway_document_of_an_unknown_version_or_kind_is_an_error_that_names_it() {
        for (api_version, kind) in [
            ("runway.dev/v1beta1", "ExpressService"),
            ("runway.dev/v1alpha1", "LambdaService"),
            ("runway.dev", "ExpressService"),
        ] {
            let mut doc = express("web");
            doc["apiVersion"] = json!(api_version);
            doc["kind"] = json!(kind);
            let err = sort(
                vec![json!({"apiVersion": "v1", "kind": "Namespace"}), doc],
                "prod.yaml",
                "shop",
            )
            .expect_err("unknown runway.dev document");
            let message = err.to_string();
            assert!(
                message.contains("prod.yaml, document 2")
                    && message.contains(&format!("{api_version} {kind} shop/web"))
                    && message.contains("runway.dev/v1alpha1 ExpressService"),
                "{message}"
            );
        }
        // A runway resource that does not parse names the document too.
        let mut bad = express("web");
        bad["spec"]["primaryContainer"] = json!("nginx");
        let message = sort(vec![bad], "prod.yaml", "shop")
            .expect_err("bad spec")
            .to_string();
        assert!(message.contains("prod.yaml, document 1"), "{message}");
    }
}

mod settings {
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    use crate::diff::settings::*;
    use crate::plan::account::Tenancy;

    fn vars(pairs: &[(&str, &str)]) -> Partial {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_vars(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).expect("vars")
    }

    fn deployment(args: serde_json::Value, env: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "runway", "namespace": "runway-system"},
            "spec": {
                "selector": {"matchLabels": {"app": "runway"}},
                "template": {"spec": {"containers": [
                    {"name": "sidecar", "image": "proxy", "env": [{"name": "AWS_REGION", "value": "ap-south-1"}]},
                    {"name": "runway", "image": "runway", "args": args, "env": env}
                ]}}
            }
        }))
        .expect("deployment")
    }

    #[test]
    fn the_environment_is_read_as_runway_run_reads_it() {
        let p = vars(&[
            ("AWS_REGION", "eu-west-1"),
            ("RUNWAY_ALLOWED_ACCOUNT_IDS", "210987654321, 123456789012"),
            ("RUNWAY_REQUIRE_NAMESPACE_ROLE", "true"),
            ("RUNWAY_RESYNC_SECONDS", "120"),
            ("RUNWAY_CLUSTER_NAME", "prod-eu"),
            ("RUNWAY_AWS_SESSION_TAGS", "true"),
        ]);
        assert_eq!(
            p.finish(),
            Settings {
                region: "eu-west-1".into(),
                tenancy: Tenancy {
                    allowed: vec!["210987654321".into(), "123456789012".into()],
                    require_role: true
                },
                resync_seconds: 120,
                cluster_name: "prod-eu".into(),
                session_tags: true,
            }
        );
        for (value, want) in [
            ("false", false),
            ("0", false),
            ("Off", false),
            ("1", true),
            ("yes", true),
        ] {
            assert_eq!(
                vars(&[("RUNWAY_REQUIRE_NAMESPACE_ROLE", value)]).require_role,
                Some(want)
            );
        }
        // Empty variables are unset; nothing set gives runway run's defaults.
        assert_eq!(
            vars(&[("RUNWAY_ALLOWED_ACCOUNT_IDS", ""), ("AWS_REGION", "")]),
            Partial::default()
        );
        assert_eq!(
            Partial::default().finish(),
            Settings {
                region: "us-east-1".into(),
                tenancy: Tenancy::default(),
                resync_seconds: 600,
                cluster_name: "runway".into(),
                session_tags: false,
            }
        );
        assert!(from_vars(|n| (n == "RUNWAY_ALLOWED_ACCOUNT_IDS").then(|| "12345".into())).is_err());
        assert!(from_vars(|n| (n == "RUNWAY_RESYNC_SECONDS").then(|| "soon".into())).is_err());
    }

    #[test]
    fn the_deployments_arguments_win_over_its_environment_as_in_clap() {
        let d = deployment(
            json!([
                "run",
                "--allowed-account-ids",
                "210987654321",
                "--allowed-account-ids=310987654321",
                "--require-namespace-role",
                "--region=eu-central-1",
                "--cluster-name",
                "prod-eu",
                "--aws-session-tags"
            ]),
            json!([
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "AWS_REGION", "value": "eu-west-1"},
                {"name": "RUNWAY_ALLOWED_ACCOUNT_IDS", "value": "123456789012"},
                {"name": "RUNWAY_RESYNC_SECONDS", "value": "60"},
                {"name": "RUNWAY_RESYNC_SECONDS", "value": "90"}
            ]),
        );
        let p = from_deployment(&d, "runway-system/runway", &Partial::default()).expect("settings");
        assert_eq!(
            p,
            Partial {
                region: Some("eu-central-1".into()),
                allowed: Some(vec!["210987654321".into(), "310987654321".into()]),
                require_role: Some(true),
                // The last of two entries with one name wins, as in Kubernetes.
                resync_seconds: Some(90),
                cluster_name: Some("prod-eu".into()),
                session_tags: Some(true),
            }
        );
        // The chart's form: `args: ["run"]` and everything in the environment.
        let chart = deployment(
            json!(["run"]),
            json!([{"name": "RUNWAY_ALLOWED_ACCOUNT_IDS", "value": "210987654321"},
                   {"name": "RUNWAY_REQUIRE_NAMESPACE_ROLE", "value": "false"},
                   {"name": "RUNWAY_CLUSTER_NAME", "value": "staging"},
                   {"name": "RUNWAY_AWS_SESSION_TAGS", "value": "true"}]),
        );
        let p = from_deployment(&chart, "r", &Partial::default()).expect("settings");
        assert_eq!(p.cluster_name.as_deref(), Some("staging"));
        assert_eq!(p.session_tags, Some(true));
        assert_eq!(p.allowed, Some(vec!["210987654321".into()]));
        assert_eq!(p.require_role, Some(false));
        assert_eq!(p.region, None, "the sidecar's region is not runway's");
    }

    #[test]
    fn flags_win_then_the_deployment_then_the_environment_only_for_the_region() {
        let flags = Partial {
            require_role: Some(false),
            ..Partial::default()
        };
        let from_controller = Partial {
            allowed: Some(vec!["210987654321".into()]),
            require_role: Some(true),
            ..Partial::default()
        };
        let ambient = Partial {
            region: Some("eu-west-1".into()),
            allowed: Some(vec!["999999999999".into()]),
            resync_seconds: Some(5),
            ..Partial::default()
        };
        let s = resolve(flags.clone(), Some(from_controller), ambient.clone());
        assert_eq!(s.tenancy.allowed, vec!["210987654321".to_string()]);
        assert!(!s.tenancy.require_role, "the flag wins");
        // The Deployment leaves the Region to its pods' AWS_REGION (the IRSA webhook): diff's own
        // fills it in, but the allow-list and resync are the controller's defaults, not diff's.
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.resync_seconds, 600);
        // Without a Deployment the environment counts in full.
        let s = resolve(flags, None, ambient);
        assert_eq!(s.tenancy.allowed, vec!["999999999999".to_string()]);
        assert_eq!(s.resync_seconds, 5);
    }

    #[test]
    fn a_setting_the_deployment_hides_in_value_from_is_an_error_unless_a_flag_gives_it() {
        let d = deployment(
            json!(["run"]),
            json!([{"name": "RUNWAY_ALLOWED_ACCOUNT_IDS",
                    "valueFrom": {"configMapKeyRef": {"name": "accounts", "key": "ids"}}}]),
        );
        let err = from_deployment(&d, "runway-system/runway", &Partial::default()).expect_err("valueFrom");
        assert!(err.to_string().contains("RUNWAY_ALLOWED_ACCOUNT_IDS"), "{err}");
        let flags = Partial {
            allowed: Some(vec!["123456789012".into()]),
            ..Partial::default()
        };
        assert!(from_deployment(&d, "runway-system/runway", &flags).is_ok());
        // Two containers, none named runway: which one is the controller is not guessed.
        let mut two = deployment(json!(["run"]), json!([]));
        if let Some(spec) = two.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
            spec.containers[1].name = "controller".into();
        }
        let err = from_deployment(&two, "x/y", &Partial::default()).expect_err("no runway container");
        assert!(err.to_string().contains("sidecar, controller"), "{err}");
        assert!(from_args(&["--region".into()]).is_err());
        assert!(from_args(&["--allowed-account-ids=1".into()]).is_err());
    }
}
