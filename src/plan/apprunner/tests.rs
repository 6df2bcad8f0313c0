//! Planner tests from YAML fixtures. Each case is a JSON merge patch (written as YAML; `null`
//! removes a key) over [`BASE`]: a settled service whose AWS view is what App Runner reports for the
//! base spec, normalizations and defaults included. In a hash field, `BASE` stands for the digest of
//! the base spec (the last applied one) and `DESIRED` for the digest of the case's spec.

use serde::Deserialize;
use serde_json::Value;

use super::drift::*;
use super::observed::*;
use super::plan::*;
use super::request::*;
use crate::api::apprunner::{AppRunnerServiceSpec, AppRunnerServiceStatus};
use crate::api::common::Tag;
use crate::plan::{OWNER_TAG, Ownership, Phase, ownership};

const BASE: &str = r#"
spec:
  sourceConfiguration:
    imageRepository:
      imageIdentifier: public.ecr.aws/nginx/nginx:1.27
      imageRepositoryType: ECR_PUBLIC
      imageConfiguration:
        port: "80"
        runtimeEnvironmentVariables: {GREETING: hello, MODE: prod}
        runtimeEnvironmentSecrets: {DB: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}
  instanceConfiguration: {cpu: 1 vCPU, memory: 2 GB}
  healthCheckConfiguration: {protocol: TCP}
status:
  serviceArn: arn:aws:apprunner:us-east-1:123456789012:service/web/0123
  lastAppliedHash: BASE
  operationId: op-1
  operationType: CREATE_SERVICE
  operationStatus: SUCCEEDED
service:
  arn: arn:aws:apprunner:us-east-1:123456789012:service/web/0123
  serviceId: "0123"
  serviceName: web
  serviceUrl: abcdefghij.us-east-1.awsapprunner.com
  status: RUNNING
  config:
    sourceConfiguration:
      imageRepository:
        imageIdentifier: public.ecr.aws/nginx/nginx:1.27
        imageRepositoryType: ECR_PUBLIC
        imageConfiguration:
          port: "80"
          runtimeEnvironmentVariables: {MODE: prod, GREETING: hello}
          runtimeEnvironmentSecrets: {DB: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}
      autoDeploymentsEnabled: false
    instanceConfiguration: {cpu: "1024", memory: "2048"}
    autoScalingConfigurationArn: arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/DefaultConfiguration/1/abc
    healthCheckConfiguration: {protocol: TCP, path: /, interval: 5, timeout: 2, healthyThreshold: 1, unhealthyThreshold: 5}
    networkConfiguration:
      egressConfiguration: {egressType: DEFAULT}
      ingressConfiguration: {isPubliclyAccessible: true}
      ipAddressType: IPV4
    observabilityConfiguration: {observabilityEnabled: false}
tracked: {id: op-1, operationType: CREATE_SERVICE, status: SUCCEEDED}
newest: {id: op-1, operationType: CREATE_SERVICE, status: SUCCEEDED}
"#;

#[derive(Deserialize)]
struct Fixture {
    spec: AppRunnerServiceSpec,
    #[serde(default)]
    status: AppRunnerServiceStatus,
    service: Option<ObservedService>,
    tracked: Option<ObservedOperation>,
    newest: Option<ObservedOperation>,
}

fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

fn fixture(patch: &str) -> Fixture {
    let mut doc: Value = crate::manifests::from_str(BASE).expect("base fixture");
    let patch: Value = crate::manifests::from_str(patch).expect("patch");
    if !patch.is_null() {
        merge(&mut doc, patch);
    }
    let mut f: Fixture = serde_json::from_value(doc).expect("fixture");
    let hash = AppRunnerRequest::from_spec(&f.spec).digest();
    let base: Value = crate::manifests::from_str(BASE).expect("base fixture");
    let base_spec: AppRunnerServiceSpec = serde_json::from_value(base["spec"].clone()).expect("base spec");
    let base_hash = AppRunnerRequest::from_spec(&base_spec).digest();
    for h in [
        &mut f.status.common.last_applied_hash,
        &mut f.status.common.last_failed_hash,
    ] {
        match h.as_deref() {
            Some("DESIRED") => *h = Some(hash.clone()),
            Some("BASE") => *h = Some(base_hash.clone()),
            _ => {}
        }
    }
    f
}

fn plan_for(patch: &str) -> Plan {
    let f = fixture(patch);
    let desired = AppRunnerRequest::from_spec(&f.spec);
    plan(PlanInput {
        spec: &f.spec,
        status: &f.status,
        desired: &desired,
        service: f.service.as_ref(),
        tracked: f.tracked.as_ref(),
        newest: f.newest.as_ref(),
        clock: clock(),
    })
}

/// A fixed time ten minutes after the fixtures' earliest `lastFailedAt`, with a 5-minute resync.
fn clock() -> crate::plan::Clock<'static> {
    crate::plan::Clock {
        cluster: "",
        now: "2026-01-01T00:10:00Z".parse().expect("time"),
        resync: std::time::Duration::from_secs(300),
        requested_at: None,
        stuck_after: crate::plan::DEFAULT_STUCK_AFTER,
    }
}

#[track_caller]
fn assert_stalled(plan: Plan, want: &str, mentions: &[&str]) {
    match plan {
        Plan::Report(Phase::Stalled { reason, message }) => {
            assert_eq!(reason, want, "{message}");
            for m in mentions {
                assert!(message.contains(m), "{message:?} should mention {m:?}");
            }
        }
        other => panic!("expected Stalled {want}, got {other:?}"),
    }
}

#[track_caller]
fn assert_wait(plan: Plan, want: &str, mentions: &[&str]) {
    match plan {
        Plan::Report(Phase::Progressing { reason, message }) => {
            assert_eq!(reason, want, "{message}");
            for m in mentions {
                assert!(message.contains(m), "{message:?} should mention {m:?}");
            }
        }
        other => panic!("expected Wait {want}, got {other:?}"),
    }
}

#[track_caller]
fn assert_ready(plan: Plan, want: &str) {
    match plan {
        Plan::Report(Phase::Ready { reason, .. }) => assert_eq!(reason, want),
        other => panic!("expected Ready {want}, got {other:?}"),
    }
}

#[test]
fn a_settled_service_with_aws_normalizations_and_defaults_is_ready() {
    assert_ready(plan_for(""), "Ready");
}

#[test]
fn no_service_is_created_and_an_adopted_arn_that_does_not_exist_stalls() {
    assert_eq!(plan_for("{service: null, status: null}"), Plan::Create);
    assert_eq!(
        plan_for("{service: {status: DELETED}, tracked: null, newest: null}"),
        Plan::Create
    );
    assert_stalled(
        plan_for(
            "{service: null, spec: {serviceArn: 'arn:aws:apprunner:us-east-1:123456789012:service/old/9'}}",
        ),
        "AdoptedServiceNotFound",
        &["service/old/9"],
    );
}

#[test]
fn a_spec_aws_rejected_is_not_created_again_until_it_changes() {
    let stalled = r#"
status:
  lastAppliedHash: null
  lastFailedHash: DESIRED
  conditions:
  - {type: Stalled, status: "True", reason: AwsRejectedSpec, message: "CreateService failed: InvalidRequestException: bad", lastTransitionTime: "2025-01-01T00:00:00Z"}
service: null
"#;
    assert_stalled(plan_for(stalled), "AwsRejectedSpec", &["InvalidRequestException"]);
    let changed = stalled.replace("lastFailedHash: DESIRED", "lastFailedHash: something-else");
    assert_eq!(plan_for(&changed), Plan::Create);
}

#[test]
fn update_waits_while_an_operation_is_in_progress() {
    let plan = plan_for(
        r#"
spec: {sourceConfiguration: {imageRepository: {imageIdentifier: "public.ecr.aws/nginx/nginx:1.28"}}}
service: {status: OPERATION_IN_PROGRESS}
tracked: {status: IN_PROGRESS}
newest: {status: IN_PROGRESS}
"#,
    );
    assert_wait(
        plan,
        "OperationInProgress",
        &["op-1", "CREATE_SERVICE", "IN_PROGRESS", "waits"],
    );
}

/// An update runway started that App Runner still reports IN_PROGRESS, started `ago` seconds
/// before the fixtures' clock (2026-01-01T00:10:00Z), with `spec` merged in.
fn running_update(ago: i64, spec: &str) -> Plan {
    let started = 1_767_226_200 - ago;
    plan_for(&format!(
        "{spec}
service: {{status: OPERATION_IN_PROGRESS}}
status: {{operationId: op-2, operationType: UPDATE_SERVICE, operationStatus: IN_PROGRESS}}
tracked: {{id: op-2, operationType: UPDATE_SERVICE, status: IN_PROGRESS, startedAt: {started}}}
newest: {{id: op-2, operationType: UPDATE_SERVICE, status: IN_PROGRESS, startedAt: {started}}}
"
    ))
}

#[test]
fn an_operation_that_runs_past_the_threshold_is_reported_stuck_and_nothing_is_ever_sent() {
    assert_wait(
        running_update(125, ""),
        "OperationInProgress",
        &["op-2 (UPDATE_SERVICE) is IN_PROGRESS, running for 2 min"],
    );
    assert_wait(
        running_update(-40, ""),
        "OperationInProgress",
        &["running for less than a minute"],
    );
    // Past --operation-stuck-seconds (30 min in these fixtures), and still past it days later:
    // reported, never timed out into a call or into Ready.
    for ago in [30 * 60, 45 * 60, 3 * 24 * 3600] {
        assert_wait(
            running_update(ago, ""),
            crate::plan::OPERATION_STUCK,
            &[
                "op-2 (UPDATE_SERVICE) has been IN_PROGRESS for",
                "looks stuck",
                "sends nothing",
            ],
        );
    }
    assert_wait(
        running_update(45 * 60, ""),
        crate::plan::OPERATION_STUCK,
        &["for 45 min"],
    );
    let changed = "spec: {redeployToken: r2, sourceConfiguration: {imageRepository: {imageIdentifier: 'public.ecr.aws/nginx/nginx:1.29'}}}";
    assert_wait(
        running_update(45 * 60, changed),
        crate::plan::OPERATION_STUCK,
        &["the spec change waits for it"],
    );
    // App Runner did not say when it started: no age, no verdict.
    let unknown = plan_for(
        "{service: {status: OPERATION_IN_PROGRESS}, newest: {id: op-2, operationType: UPDATE_SERVICE, status: IN_PROGRESS}}",
    );
    match unknown {
        Plan::Report(Phase::Progressing { reason, message }) => {
            assert_eq!(reason, "OperationInProgress");
            assert!(!message.contains("running for"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_operation_started_outside_runway_is_waited_for_even_if_the_service_reads_running() {
    let plan = plan_for("{newest: {id: op-2, operationType: UPDATE_SERVICE, status: ROLLBACK_IN_PROGRESS}}");
    assert_wait(plan, "OperationInProgress", &["op-2", "ROLLBACK_IN_PROGRESS"]);
}

#[test]
fn a_changed_spec_sends_one_update() {
    let plan = plan_for(
        "{spec: {sourceConfiguration: {imageRepository: {imageIdentifier: 'public.ecr.aws/nginx/nginx:1.28'}}}}",
    );
    assert_eq!(
        plan,
        Plan::Update {
            cause: UpdateCause::SpecChanged
        }
    );
}

#[test]
fn create_failed_stalls_with_the_failed_operation_until_the_spec_changes() {
    let failed = r#"
service: {status: CREATE_FAILED}
tracked: {id: op-1, operationType: CREATE_SERVICE, status: FAILED}
newest: {id: op-1, operationType: CREATE_SERVICE, status: FAILED}
"#;
    assert_stalled(
        plan_for(failed),
        "CreateFailed",
        &["CREATE_FAILED", "op-1", "FAILED", "UpdateService"],
    );
    let fixed = format!(
        "{failed}spec: {{sourceConfiguration: {{imageRepository: {{imageIdentifier: 'public.ecr.aws/nginx/nginx:fixed'}}}}}}\n"
    );
    assert_eq!(
        plan_for(&fixed),
        Plan::Update {
            cause: UpdateCause::Rebuild
        }
    );
    let token = format!("{failed}spec: {{redeployToken: again}}\n");
    assert_eq!(
        plan_for(&token),
        Plan::Update {
            cause: UpdateCause::Rebuild
        }
    );
}

#[test]
fn a_rolled_back_update_stalls_and_is_not_resent() {
    // App Runner restored the previous image; the spec still asks for the new one.
    let rolled_back = r#"
spec: {sourceConfiguration: {imageRepository: {imageIdentifier: "public.ecr.aws/nginx/nginx:broken"}}}
status: {operationId: op-2, lastAppliedHash: DESIRED}
tracked: {id: op-2, operationType: UPDATE_SERVICE, status: ROLLBACK_SUCCEEDED}
newest: {id: op-2, operationType: UPDATE_SERVICE, status: ROLLBACK_SUCCEEDED}
"#;
    assert_stalled(
        plan_for(rolled_back),
        "RolledBack",
        &["op-2", "ROLLBACK_SUCCEEDED", "redeployToken"],
    );
    let token = rolled_back.replace(
        "spec: {sourceConfiguration",
        "spec: {redeployToken: retry, sourceConfiguration",
    );
    assert_eq!(
        plan_for(&token),
        Plan::Update {
            cause: UpdateCause::Retry
        }
    );
}

#[test]
fn a_new_spec_after_a_rollback_is_sent() {
    let plan = plan_for(
        r#"
spec: {sourceConfiguration: {imageRepository: {imageIdentifier: "public.ecr.aws/nginx/nginx:fixed"}}}
status: {lastAppliedHash: hash-of-the-broken-spec, operationId: op-2}
tracked: {id: op-2, operationType: UPDATE_SERVICE, status: ROLLBACK_SUCCEEDED}
newest: {id: op-2, operationType: UPDATE_SERVICE, status: ROLLBACK_SUCCEEDED}
"#,
    );
    assert_eq!(
        plan,
        Plan::Update {
            cause: UpdateCause::SpecChanged
        }
    );
}

#[test]
fn a_rolled_back_deployment_is_redeployed_on_a_new_token() {
    let plan = plan_for(
        r#"
spec: {redeployToken: two}
status: {lastRedeployToken: one, operationId: op-3}
tracked: {id: op-3, operationType: START_DEPLOYMENT, status: ROLLBACK_SUCCEEDED}
newest: {id: op-3, operationType: START_DEPLOYMENT, status: ROLLBACK_SUCCEEDED}
"#,
    );
    assert_eq!(plan, Plan::Redeploy);
}

#[test]
fn drift_on_a_field_the_spec_sets_is_corrected() {
    let plan = plan_for(
        r#"
service:
  config:
    sourceConfiguration: {imageRepository: {imageIdentifier: "public.ecr.aws/nginx/nginx:hotfix"}}
    instanceConfiguration: {cpu: "2048", memory: "4096"}
"#,
    );
    assert_eq!(
        plan,
        Plan::Update {
            cause: UpdateCause::Drift(vec![
                "sourceConfiguration.imageRepository.imageIdentifier".into(),
                "instanceConfiguration.cpu".into(),
                "instanceConfiguration.memory".into(),
            ])
        }
    );
}

#[test]
fn fields_the_spec_leaves_unset_belong_to_whoever_set_them() {
    let plan = plan_for(
        r#"
service:
  config:
    instanceConfiguration: {instanceRoleArn: "arn:aws:iam::123456789012:role/outside"}
    autoScalingConfigurationArn: arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/high/3/def
    healthCheckConfiguration: {interval: 10}
    networkConfiguration: {ipAddressType: DUAL_STACK}
    observabilityConfiguration: {observabilityEnabled: true, observabilityConfigurationArn: "arn:aws:apprunner:us-east-1:123456789012:observabilityconfiguration/xray/1/a"}
"#,
    );
    assert_ready(plan, "Ready");
}

#[test]
fn reordered_environment_and_spelled_out_defaults_change_nothing() {
    let spelled = r#"
spec:
  sourceConfiguration:
    autoDeploymentsEnabled: false
    imageRepository:
      imageConfiguration:
        runtimeEnvironmentVariables: {MODE: prod, GREETING: hello}
  instanceConfiguration: {cpu: "1024", memory: "2048"}
  healthCheckConfiguration: {protocol: TCP, path: /, interval: 5, timeout: 2, healthyThreshold: 1, unhealthyThreshold: 5}
  networkConfiguration:
    egressConfiguration: {egressType: DEFAULT}
    ingressConfiguration: {isPubliclyAccessible: true}
    ipAddressType: IPV4
  observabilityConfiguration: {observabilityEnabled: false}
"#;
    let base_hash = AppRunnerRequest::from_spec(&fixture("").spec).digest();
    let mut f = fixture(spelled);
    let desired = AppRunnerRequest::from_spec(&f.spec);
    assert_eq!(desired.digest(), base_hash);
    f.status.common.last_applied_hash = Some(base_hash);
    let next = plan(PlanInput {
        spec: &f.spec,
        status: &f.status,
        desired: &desired,
        service: f.service.as_ref(),
        tracked: f.tracked.as_ref(),
        newest: f.newest.as_ref(),
        clock: clock(),
    });
    assert_ready(next, "Ready");
    let mut other = fixture("{spec: {instanceConfiguration: {cpu: 2 vCPU, memory: 4 GB}}}");
    other.status.common.last_applied_hash = Some(AppRunnerRequest::from_spec(&fixture("").spec).digest());
    assert_ne!(
        AppRunnerRequest::from_spec(&other.spec).digest(),
        other.status.common.last_applied_hash.clone().unwrap_or_default()
    );
}

#[test]
fn a_baseline_is_recorded_only_when_aws_already_runs_the_spec() {
    let f = fixture(
        "{status: {lastAppliedHash: null}, service: {config: {sourceConfiguration: {imageRepository: {imageIdentifier: other}}}}}",
    );
    let desired = AppRunnerRequest::from_spec(&f.spec);
    assert!(!baseline(
        &f.status,
        &desired,
        f.service.as_ref().expect("service")
    ));
    let f = fixture("");
    assert!(
        !baseline(&f.status, &desired, f.service.as_ref().expect("service")),
        "a recorded hash is never overwritten"
    );
    let f = fixture("{status: {lastAppliedHash: null}}");
    let desired = AppRunnerRequest::from_spec(&f.spec);
    assert!(baseline(
        &f.status,
        &desired,
        f.service.as_ref().expect("service")
    ));
}

#[test]
fn paused_true_pauses_a_running_service_and_a_paused_one_is_ready_with_reason_paused() {
    assert_eq!(plan_for("{spec: {paused: true}}"), Plan::Pause);
    assert_ready(
        plan_for("{spec: {paused: true}, service: {status: PAUSED}}"),
        "Paused",
    );
    assert_eq!(
        plan_for("{spec: {paused: false}, service: {status: PAUSED}}"),
        Plan::Resume
    );
    // Unset: runway leaves the pause state to whoever set it.
    assert_ready(plan_for("{service: {status: PAUSED}}"), "Paused");
    assert_ready(plan_for("{spec: {paused: false}}"), "Ready");
}

#[test]
fn a_change_to_a_paused_service_is_applied_while_paused_or_resumes_first_when_asked() {
    let change = "{spec: {paused: true, sourceConfiguration: {imageRepository: {imageIdentifier: 'public.ecr.aws/nginx/nginx:1.28'}}}, service: {status: PAUSED}}";
    assert_eq!(
        plan_for(change),
        Plan::Update {
            cause: UpdateCause::SpecChanged
        }
    );
    let resume = change.replace("paused: true", "paused: false");
    assert_eq!(plan_for(&resume), Plan::Resume);
}

#[test]
fn a_new_redeploy_token_starts_one_deployment() {
    assert_eq!(
        plan_for("{spec: {redeployToken: two}, status: {lastRedeployToken: one}}"),
        Plan::Redeploy
    );
    assert_ready(
        plan_for("{spec: {redeployToken: two}, status: {lastRedeployToken: two}}"),
        "Ready",
    );
    // Paused: the deployment waits for the resume.
    match plan_for(
        "{spec: {redeployToken: two, paused: true}, status: {lastRedeployToken: one}, service: {status: PAUSED}}",
    ) {
        Plan::Report(Phase::Ready { reason, message }) => {
            assert_eq!(reason, "Paused");
            assert!(message.contains("redeployToken"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_delete_failed_service_stalls() {
    assert_stalled(
        plan_for("{service: {status: DELETE_FAILED}}"),
        "DeleteFailed",
        &["DELETE_FAILED"],
    );
}

#[test]
fn cpu_and_memory_normalize_to_app_runner_units() {
    assert_eq!(normalize_cpu("1 vCPU"), "1024");
    assert_eq!(normalize_cpu("0.25 vCPU"), "256");
    assert_eq!(normalize_cpu("4096"), "4096");
    assert_eq!(normalize_memory("2 GB"), "2048");
    assert_eq!(normalize_memory("0.5 GB"), "512");
    assert_eq!(normalize_memory("12288"), "12288");
}

#[test]
fn name_only_arns_match_any_revision() {
    let name = "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/high";
    assert!(arn_matches(name, Some(&format!("{name}/3/abc"))));
    assert!(arn_matches(name, Some(name)));
    assert!(!arn_matches(name, Some(&format!("{name}er/1/abc"))));
    assert!(!arn_matches(name, None));
}

#[test]
fn only_the_owner_tag_decides_whose_a_same_named_service_is() {
    let tag = |v: &str| Tag {
        key: OWNER_TAG.into(),
        value: Some(v.into()),
    };
    let owner = |namespace, name| crate::plan::Owner {
        cluster: "c1",
        namespace,
        name,
    };
    assert_eq!(
        ownership(&[tag("ns-a/webapp")], &owner("ns-a", "webapp")),
        Ownership::Mine
    );
    assert_eq!(
        ownership(&[tag("ns-a/webapp")], &owner("ns-b", "webapp")),
        Ownership::OtherResource("ns-a/webapp".into())
    );
    assert_eq!(ownership(&[], &owner("ns-b", "webapp")), Ownership::NotRunway);
}

#[test]
fn a_rejected_spec_is_retried_after_its_backoff_or_on_the_annotation() {
    let rejected =
        "{status: {lastFailedHash: DESIRED, lastFailedAt: '2026-01-01T00:09:00Z', failedAttempts: 1}}";
    assert!(matches!(plan_for(rejected), Plan::Report(Phase::Stalled { .. })));
    let old = rejected.replace("00:09:00", "00:00:00");
    assert!(
        !matches!(plan_for(&old), Plan::Report(Phase::Stalled { .. })),
        "{:?}",
        plan_for(&old)
    );
    let f = fixture(rejected);
    let desired = AppRunnerRequest::from_spec(&f.spec);
    let mut c = clock();
    c.requested_at = Some("again");
    let retried = plan(PlanInput {
        spec: &f.spec,
        status: &f.status,
        desired: &desired,
        service: f.service.as_ref(),
        tracked: f.tracked.as_ref(),
        newest: f.newest.as_ref(),
        clock: c,
    });
    assert!(
        !matches!(retried, Plan::Report(Phase::Stalled { .. })),
        "{retried:?}"
    );
}

#[test]
fn create_requests_carry_the_owner_tag_and_reject_invalid_names() {
    let f = fixture("{spec: {tags: [{key: team, value: web}]}}");
    let req = create_request(
        &f.spec,
        &crate::plan::Owner {
            cluster: "",
            namespace: "shop",
            name: "webapp",
        },
    )
    .expect("valid");
    assert_eq!(req.service_name, "webapp");
    assert!(
        req.tags
            .iter()
            .any(|t| t.key == OWNER_TAG && t.value.as_deref() == Some("shop/webapp"))
    );
    let short = create_request(
        &f.spec,
        &crate::plan::Owner {
            cluster: "",
            namespace: "shop",
            name: "web",
        },
    )
    .expect_err("App Runner names have 4 or more characters");
    assert!(short.contains("4 to 40"), "{short}");
    assert!(req.tags.iter().any(|t| t.key == "team"));
    let err = create_request(
        &f.spec,
        &crate::plan::Owner {
            cluster: "",
            namespace: "shop",
            name: "a.b",
        },
    )
    .expect_err("dots are invalid");
    assert!(err.contains("spec.serviceName"), "{err}");
    let named = fixture("{spec: {serviceName: storefront}}");
    assert_eq!(
        create_request(
            &named.spec,
            &crate::plan::Owner {
                cluster: "",
                namespace: "shop",
                name: "a.b"
            }
        )
        .expect("named")
        .service_name,
        "storefront"
    );
}

#[test]
fn deletion_waits_for_any_operation_and_ends_when_deleted_or_gone() {
    use crate::plan::DeleteStep;
    for status in ["RUNNING", "PAUSED", "CREATE_FAILED", "DELETE_FAILED"] {
        assert_eq!(delete_step(Some(status)), DeleteStep::Delete, "{status}");
    }
    assert_eq!(delete_step(Some("OPERATION_IN_PROGRESS")), DeleteStep::Wait);
    assert_eq!(delete_step(Some("DELETED")), DeleteStep::Gone);
    assert_eq!(delete_step(None), DeleteStep::Gone);
}

#[test]
fn operations_are_listed_only_while_they_can_tell_something_new() {
    let settled = AppRunnerServiceStatus {
        operation_id: Some("op-1".into()),
        operation_type: Some("UPDATE_SERVICE".into()),
        operation_status: Some("SUCCEEDED".into()),
        ..AppRunnerServiceStatus::default()
    };
    let service = |status: &str| ObservedService {
        status: status.into(),
        ..ObservedService::default()
    };
    assert!(!needs_operations(&settled, &service("RUNNING")));
    assert!(!needs_operations(&settled, &service("PAUSED")));
    assert!(needs_operations(&settled, &service("OPERATION_IN_PROGRESS")));
    assert!(needs_operations(&settled, &service("CREATE_FAILED")));
    for undone in ["FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED"] {
        let ended = AppRunnerServiceStatus {
            operation_status: Some(undone.into()),
            ..settled.clone()
        };
        assert!(!needs_operations(&ended, &service("RUNNING")), "{undone}");
    }
    // An operation runway started and has not seen end, an unknown status, or none recorded yet.
    for status in [Some("PENDING"), Some("IN_PROGRESS"), Some("SOMETHING_NEW"), None] {
        let open = AppRunnerServiceStatus {
            operation_status: status.map(str::to_string),
            ..settled.clone()
        };
        assert!(needs_operations(&open, &service("RUNNING")), "{status:?}");
    }
    let none = AppRunnerServiceStatus::default();
    assert!(needs_operations(&none, &service("RUNNING")));
}

#[test]
fn a_delete_refused_for_a_vpc_ingress_connection_names_the_cause_and_busy_refusals_are_not_taken_for_it() {
    let arn = "arn:aws:apprunner:us-east-1:123456789012:service/web/0123";
    let aws = "You cannot delete a Service while it has VpcIngressConnections with a status of \
               AVAILABLE. Service Arn: arn:aws:apprunner:us-east-1:123456789012:service/web/0123 \
               VpcIngressConnection Arn: arn:aws:apprunner:us-east-1:123456789012:vpcingressconnection/web-in/9f";
    let refusal = delete_refusal(arn, "InvalidStateException", aws).expect("a refusal");
    assert_eq!(refusal.reason, DELETE_BLOCKED_BY_INGRESS);
    for m in [
        "service/web/0123",
        "InvalidStateException",
        "vpcingressconnection/web-in/9f",
        "DeleteVpcIngressConnection",
        "keeps the finalizer",
    ] {
        assert!(
            refusal.message.contains(m),
            "{:?} should mention {m:?}",
            refusal.message
        );
    }
    assert_eq!(
        delete_refusal(
            arn,
            "InvalidStateException",
            "You can't perform this action when the resource is in its current state."
        ),
        None,
        "an operation in progress is waited for, not reported as a blocked delete"
    );
}

#[test]
fn an_update_answered_without_an_operation_id_is_followed_by_type_and_its_rollback_stalls() {
    use super::decide::{started, tracked_operation};
    let mut status = fixture("").status;
    started(&mut status, "", "UPDATE_SERVICE");
    assert_eq!(status.operation_id, None, "an empty ID is unknown, not an ID");
    let op = |id: &str, kind: &str, s: &str| ObservedOperation {
        id: id.into(),
        operation_type: kind.into(),
        status: s.into(),
        started_at: None,
    };
    // Newest first: App Runner's own deployment after ours, then ours, then the create.
    let listed = [
        op("op-3", "START_DEPLOYMENT", "SUCCEEDED"),
        op("op-2", "UPDATE_SERVICE", "ROLLBACK_SUCCEEDED"),
        op("op-1", "CREATE_SERVICE", "SUCCEEDED"),
    ];
    let tracked = tracked_operation(&status, &listed).expect("an operation");
    assert_eq!(tracked.id, "op-2");
    let f = fixture(
        "spec: {sourceConfiguration: {imageRepository: {imageIdentifier: 'public.ecr.aws/nginx/nginx:1.28'}}}\nstatus: {lastAppliedHash: DESIRED}",
    );
    let desired = AppRunnerRequest::from_spec(&f.spec);
    let next = plan(PlanInput {
        spec: &f.spec,
        status: &f.status,
        desired: &desired,
        service: f.service.as_ref(),
        tracked: Some(&tracked),
        newest: Some(&listed[0]),
        clock: clock(),
    });
    assert_stalled(next, "RolledBack", &["op-2", "ROLLBACK_SUCCEEDED"]);
}

/// docs/aws-behaviour.md A27: a service status runway does not know stalls with nothing sent, even
/// for a changed spec, a new redeploy token or `paused`; a known one carries on.
#[test]
fn a_service_status_runway_does_not_know_stalls_and_sends_nothing() {
    for patch in [
        "{service: {status: UPDATING}}",
        "{service: {status: UPDATING}, spec: {sourceConfiguration: {imageRepository: {imageIdentifier: 'public.ecr.aws/nginx/nginx:1.28'}}}}",
        "{service: {status: UPDATING}, spec: {redeployToken: again}}",
        "{service: {status: UPDATING}, spec: {paused: true}}",
        "{service: {status: UPDATING}, tracked: {status: ROLLBACK_SUCCEEDED, operationType: UPDATE_SERVICE}, spec: {redeployToken: again}}",
    ] {
        assert_stalled(
            plan_for(patch),
            UNKNOWN_SERVICE_STATUS,
            &["UPDATING", "sends nothing"],
        );
    }
    assert_eq!(
        plan_for(
            "{spec: {sourceConfiguration: {imageRepository: {imageIdentifier: 'public.ecr.aws/nginx/nginx:1.28'}}}}"
        ),
        Plan::Update {
            cause: UpdateCause::SpecChanged
        }
    );
    // A delete still deletes.
    assert_eq!(delete_step(Some("UPDATING")), crate::plan::DeleteStep::Delete);
}

/// docs/aws-behaviour.md A27: an operation status runway does not know is never taken as done or
/// failed: it is waited for like a running one, and a changed spec waits for it.
#[test]
fn an_operation_status_runway_does_not_know_is_waited_for_never_taken_as_done() {
    let newer = "{newest: {id: op-2, operationType: UPDATE_SERVICE, status: SOMETHING_NEW}, \
                 tracked: {id: op-2, operationType: UPDATE_SERVICE, status: SOMETHING_NEW}, \
                 status: {operationId: op-2, operationType: UPDATE_SERVICE, operationStatus: SOMETHING_NEW}";
    assert_wait(
        plan_for(&format!("{newer}}}")),
        "OperationInProgress",
        &["op-2", "SOMETHING_NEW", "does not know"],
    );
    assert_wait(
        plan_for(&format!(
            "{newer}, spec: {{sourceConfiguration: {{imageRepository: {{imageIdentifier: 'public.ecr.aws/nginx/nginx:1.28'}}}}}}}}"
        )),
        "OperationInProgress",
        &["SOMETHING_NEW", "the spec change waits for it"],
    );
    // An operation of a type runway does not know that ended is no reason to wait.
    assert_ready(
        plan_for("{newest: {id: op-9, operationType: SOMETHING_NEWER, status: SUCCEEDED}}"),
        "Ready",
    );
}
