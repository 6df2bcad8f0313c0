//! Table tests of every mapping and every refusal of `runway migrate apprunner`.

use super::*;
use crate::api::apprunner::AppRunnerService;

const INFRA: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForExpressServices";
const EXEC: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";

fn example(file: &str) -> AppRunnerService {
    let path = format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("example");
    run::parse_manifests(&text).expect("parse").remove(0)
}

fn with(patch: serde_json::Value) -> AppRunnerService {
    let mut value = serde_json::to_value(example("apprunnerservice-image.yaml")).expect("json");
    merge(&mut value, patch);
    serde_json::from_value(value).expect("AppRunnerService")
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

fn roles() -> Options {
    Options {
        infrastructure_role_arn: Some(INFRA.into()),
        execution_role_arn: Some(EXEC.into()),
        ..Options::default()
    }
}

fn ok(source: &AppRunnerService) -> Migration {
    map(source, &roles(), &Resolved::default()).expect("migrates")
}

fn warned(m: &Migration, needle: &str) -> bool {
    m.warnings.iter().any(|w| w.contains(needle))
}

#[test]
fn the_image_example_maps_every_field() {
    let m = ok(&example("apprunnerservice-image.yaml"));
    let spec = &m.manifest.spec;
    let c = spec.primary_container.as_ref().expect("container");
    assert_eq!(
        c.image,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-api:2.0.1"
    );
    assert_eq!(c.container_port, Some(8080));
    assert_eq!(
        c.environment,
        vec![KeyValuePair {
            name: "LOG_LEVEL".into(),
            value: Some("info".into())
        }]
    );
    assert_eq!(
        c.secrets,
        vec![Secret {
            name: "DATABASE_URL".into(),
            value_from: "arn:aws:secretsmanager:us-east-1:123456789012:secret:catalog/db-AbCdEf".into()
        }]
    );
    assert_eq!(
        (spec.cpu.as_deref(), spec.memory.as_deref()),
        (Some("1024"), Some("2048"))
    );
    assert_eq!(
        spec.task_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/catalog-api-instance")
    );
    assert_eq!(spec.health_check_path.as_deref(), Some("/healthz"));
    assert_eq!(spec.infrastructure_role_arn.as_deref(), Some(INFRA));
    assert_eq!(spec.execution_role_arn.as_deref(), Some(EXEC));
    assert_eq!(spec.service_name.as_deref(), Some("catalog-api"));
    assert_eq!(spec.tags.len(), 1);
    assert_eq!(m.manifest.metadata.name.as_deref(), Some("catalog-api"));
    // The health check's timing does not carry over, and says so; nothing else was lost.
    assert!(warned(&m, "interval, timeout and thresholds"), "{:?}", m.warnings);
    assert!(
        m.decisions
            .iter()
            .any(|d| d.contains("accessRoleArn is not needed")),
        "{:?}",
        m.decisions
    );
}

#[test]
fn refusals_name_every_reason() {
    let code = example("apprunnerservice-code.yaml");
    let err = map(&code, &Options::default(), &Resolved::default()).expect_err("refused");
    assert_eq!(err.len(), 3, "{err:?}");
    assert!(
        err[0].contains("codeRepository") && err[0].contains("Dockerfile"),
        "{err:?}"
    );
    assert!(err.iter().any(|e| e.contains("--infrastructure-role-arn")));
    assert!(err.iter().any(|e| e.contains("--execution-role-arn")));
    let bad_port = with(
        serde_json::json!({"spec": {"sourceConfiguration": {"imageRepository":
        {"imageConfiguration": {"port": "http"}}}}}),
    );
    let err = map(&bad_port, &roles(), &Resolved::default()).expect_err("refused");
    assert!(err[0].contains("port \"http\""), "{err:?}");
}

#[test]
fn every_app_runner_instance_size_is_a_fargate_size() {
    for (cpu, memory, want_cpu, want_memory) in [
        ("0.25 vCPU", "0.5 GB", "256", "512"),
        ("0.25 vCPU", "1 GB", "256", "1024"),
        ("0.5 vCPU", "1 GB", "512", "1024"),
        ("1 vCPU", "2 GB", "1024", "2048"),
        ("1 vCPU", "3 GB", "1024", "3072"),
        ("1 vCPU", "4 GB", "1024", "4096"),
        ("2 vCPU", "4 GB", "2048", "4096"),
        ("2 vCPU", "6 GB", "2048", "6144"),
        ("4 vCPU", "8 GB", "4096", "8192"),
        ("4 vCPU", "10 GB", "4096", "10240"),
        ("4 vCPU", "12 GB", "4096", "12288"),
        ("1024", "2048", "1024", "2048"),
    ] {
        let m = ok(&with(
            serde_json::json!({"spec": {"instanceConfiguration": {"cpu": cpu, "memory": memory}}}),
        ));
        assert_eq!(
            (m.manifest.spec.cpu.as_deref(), m.manifest.spec.memory.as_deref()),
            (Some(want_cpu), Some(want_memory)),
            "{cpu} / {memory}"
        );
    }
    // Unset: App Runner's default (1 vCPU, 2 GB), written explicitly.
    let m = ok(&with(
        serde_json::json!({"spec": {"instanceConfiguration": null}}),
    ));
    assert_eq!(m.manifest.spec.cpu.as_deref(), Some("1024"));
    assert_eq!(m.manifest.spec.memory.as_deref(), Some("2048"));
    assert!(m.manifest.spec.task_role_arn.is_none());
    // A pair Fargate does not run is refused.
    let err = map(
        &with(serde_json::json!({"spec": {"instanceConfiguration": {"cpu": "0.25 vCPU", "memory": "4 GB"}}})),
        &roles(),
        &Resolved::default(),
    )
    .expect_err("refused");
    assert!(err[0].contains("not a Fargate task size"), "{err:?}");
}

#[test]
fn a_start_command_is_split_or_run_through_the_shell() {
    assert_eq!(
        split_command("gunicorn app:app --workers 4"),
        (
            vec![
                "gunicorn".into(),
                "app:app".into(),
                "--workers".into(),
                "4".into()
            ],
            false
        )
    );
    let (list, shell) = split_command("npm run migrate && node server.js");
    assert!(shell);
    assert_eq!(list, vec!["/bin/sh", "-c", "npm run migrate && node server.js"]);
    let m = ok(&with(
        serde_json::json!({"spec": {"sourceConfiguration": {"imageRepository":
        {"imageConfiguration": {"startCommand": "java -jar /app.jar"}}}}}),
    ));
    assert_eq!(
        m.manifest.spec.primary_container.expect("c").command,
        vec!["java", "-jar", "/app.jar"]
    );
}

#[test]
fn without_a_port_app_runners_default_8080_is_written() {
    let m = ok(&with(
        serde_json::json!({"spec": {"sourceConfiguration": {"imageRepository":
        {"imageConfiguration": {"port": null}}}}}),
    ));
    assert_eq!(
        m.manifest.spec.primary_container.expect("c").container_port,
        Some(8080)
    );
    assert!(m.decisions.iter().any(|d| d.contains("default is 8080")));
}

#[test]
fn a_tcp_health_check_is_a_warning_and_no_path_is_set() {
    for hc in [serde_json::json!({"protocol": "TCP"}), serde_json::Value::Null] {
        let m = ok(&with(
            serde_json::json!({"spec": {"healthCheckConfiguration": hc}}),
        ));
        assert!(m.manifest.spec.health_check_path.is_none());
        assert!(warned(&m, "TCP connection"), "{:?}", m.warnings);
    }
    let m = ok(&with(
        serde_json::json!({"spec": {"healthCheckConfiguration": {"protocol": "HTTP", "path": null,
        "interval": null, "timeout": null, "healthyThreshold": null, "unhealthyThreshold": null}}}),
    ));
    assert_eq!(m.manifest.spec.health_check_path.as_deref(), Some("/"));
    assert!(!warned(&m, "healthCheck"), "{:?}", m.warnings);
}

#[test]
fn resolved_scaling_becomes_a_scaling_target_with_an_explained_metric() {
    let resolved = Resolved {
        auto_scaling: Some(AutoScaling {
            arn: "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/busy/2/0123".into(),
            max_concurrency: 50,
            min_size: 2,
            max_size: 10,
        }),
        vpc_connector: None,
        asked: true,
    };
    let m = map(&example("apprunnerservice-image.yaml"), &roles(), &resolved).expect("migrates");
    let s = m.manifest.spec.scaling_target.expect("scaling");
    assert_eq!((s.min_task_count, s.max_task_count), (Some(2), Some(10)));
    assert_eq!(
        s.auto_scaling_metric,
        Some(ScalingMetric::REQUEST_COUNT_PER_TARGET)
    );
    assert_eq!(
        s.auto_scaling_target_value,
        Some(3000),
        "50 concurrent x 60 s / 1 s"
    );
    assert!(m.decisions.iter().any(|d| d.contains("no concurrency metric")));
    let faster = Options {
        request_latency_ms: Some(200),
        ..roles()
    };
    let m = map(&example("apprunnerservice-image.yaml"), &faster, &resolved).expect("migrates");
    assert_eq!(
        m.manifest
            .spec
            .scaling_target
            .expect("s")
            .auto_scaling_target_value,
        Some(15000)
    );
    // Not resolved: a warning says how to carry it over.
    let named = with(serde_json::json!({"spec": {"autoScalingConfigurationArn":
        "arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/busy/2/0123"}}));
    let m = ok(&named);
    assert!(m.manifest.spec.scaling_target.is_none());
    assert!(warned(&m, "autoScalingConfigurationArn"), "{:?}", m.warnings);
    // No ARN and no --resolve: App Runner's default scaling is named as not carried over.
    assert!(warned(
        &ok(&example("apprunnerservice-image.yaml")),
        "App Runner's default (1 to 25"
    ));
}

#[test]
fn a_vpc_connector_becomes_the_network_configuration_once_resolved() {
    let arn = "arn:aws:apprunner:us-east-1:123456789012:vpcconnector/private/1/0123";
    let source = with(
        serde_json::json!({"spec": {"networkConfiguration": {"egressConfiguration":
        {"egressType": "VPC", "vpcConnectorArn": arn}}}}),
    );
    let m = ok(&source);
    assert!(m.manifest.spec.network_configuration.is_none());
    assert!(warned(&m, "vpcConnectorArn"), "{:?}", m.warnings);
    let resolved = Resolved {
        auto_scaling: None,
        vpc_connector: Some(VpcConnector {
            arn: arn.into(),
            subnets: vec!["subnet-0bb".into(), "subnet-0aa".into()],
            security_groups: vec!["sg-0123".into()],
        }),
        asked: true,
    };
    let m = map(&source, &roles(), &resolved).expect("migrates");
    let n = m.manifest.spec.network_configuration.expect("network");
    assert_eq!(n.subnets, vec!["subnet-0aa", "subnet-0bb"]);
    assert_eq!(n.security_groups, vec!["sg-0123"]);
}

#[test]
fn what_cannot_carry_over_is_a_warning_that_says_what_to_do() {
    let source = with(serde_json::json!({"spec": {
        "sourceConfiguration": {"autoDeploymentsEnabled": true},
        "networkConfiguration": {"ingressConfiguration": {"isPubliclyAccessible": false}, "ipAddressType": "DUAL_STACK"},
        "observabilityConfiguration": {"observabilityEnabled": true},
        "encryptionConfiguration": {"kmsKey": "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab"},
        "paused": true
    }}));
    let m = ok(&source);
    for needle in [
        "autoDeploymentsEnabled",
        "observabilityConfiguration",
        "encryptionConfiguration",
        "paused",
    ] {
        assert!(warned(&m, needle), "{needle}: {:?}", m.warnings);
    }
}

#[test]
fn runways_own_tag_and_labels_stay_behind_and_the_name_can_change() {
    let source = with(serde_json::json!({
        "metadata": {"labels": {"app": "catalog", "runway.dev/shard": "2"}},
        "spec": {"tags": [{"key": "team", "value": "catalog"}, {"key": "runway.dev/owner", "value": "x/y"}]}
    }));
    let options = Options {
        name: Some("catalog-api-express".into()),
        ..roles()
    };
    let m = map(&source, &options, &Resolved::default()).expect("migrates");
    assert_eq!(m.manifest.spec.tags.len(), 1);
    assert_eq!(
        m.manifest
            .metadata
            .labels
            .clone()
            .expect("labels")
            .into_keys()
            .collect::<Vec<_>>(),
        vec!["app".to_string()]
    );
    assert_eq!(m.manifest.metadata.name.as_deref(), Some("catalog-api-express"));
}

#[test]
fn the_rendered_manifest_has_the_header_and_reads_back() {
    let m = ok(&example("apprunnerservice-image.yaml"));
    let text = render(&m, "AppRunnerService default/catalog-api").expect("render");
    assert!(
        text.starts_with(
            "# Generated by `runway migrate apprunner` from AppRunnerService default/catalog-api."
        )
    );
    assert!(text.contains("# Mapping decisions:"));
    assert!(text.contains("WARNING: healthCheckConfiguration interval"));
    let back: ExpressService = crate::manifests::from_str(&text).expect("valid YAML");
    assert_eq!(back.spec, m.manifest.spec);
    assert!(!text.contains("status:"));
}

const CONNECTOR: &str = "arn:aws:apprunner:us-east-1:123456789012:vpcconnector/private/1/0123";

fn connector() -> Resolved {
    Resolved {
        auto_scaling: None,
        vpc_connector: Some(VpcConnector {
            arn: CONNECTOR.into(),
            subnets: vec!["subnet-0aa".into()],
            security_groups: vec!["sg-0123".into()],
        }),
        asked: true,
    }
}

fn network(ingress: Option<bool>, connector: bool, ip: Option<&str>) -> serde_json::Value {
    let mut n = serde_json::json!({});
    if let Some(public) = ingress {
        n["ingressConfiguration"] = serde_json::json!({"isPubliclyAccessible": public});
    }
    if connector {
        n["egressConfiguration"] = serde_json::json!({"egressType": "VPC", "vpcConnectorArn": CONNECTOR});
    }
    if let Some(ip) = ip {
        n["ipAddressType"] = serde_json::json!(ip);
    }
    serde_json::json!({"spec": {"networkConfiguration": n}})
}

#[test]
fn a_public_service_with_vpc_egress_warns_on_stderr_that_its_load_balancer_becomes_internal() {
    let source = with(network(None, true, None));
    let m = map(&source, &roles(), &connector()).expect("migrates");
    assert_eq!(
        m.exposure,
        vec![ExposureChange::PublicToInternal {
            connector_arn: CONNECTOR.into(),
            subnets: vec!["subnet-0aa".into()],
        }]
    );
    let lines = stderr_lines(&m, "AppRunnerService shop/storefront");
    let first = &lines[0];
    assert!(
        first.starts_with("WARNING: AppRunnerService shop/storefront: exposure changes: "),
        "{lines:?}"
    );
    for needle in [
        "public",
        CONNECTOR,
        "subnet-0aa",
        "INTERNAL",
        "networkConfiguration.subnets",
    ] {
        assert!(first.contains(needle), "{needle}: {first}");
    }
    // The other lines are the warnings, after the exposure changes.
    assert_eq!(lines.len(), 1 + m.warnings.len(), "{lines:?}");
    assert!(lines[1..].iter().all(|l| l.starts_with("warning: ")), "{lines:?}");
    // The header says it too, as comments: the manifest still reads back.
    let text = render(&m, "AppRunnerService shop/storefront").expect("render");
    assert!(
        text.contains("# Exposure changes (who can reach the service):"),
        "{text}"
    );
    let back: ExpressService = crate::manifests::from_str(&text).expect("valid YAML");
    assert_eq!(back.spec, m.manifest.spec);
}

#[test]
fn each_change_of_exposure_is_decided_from_the_ingress_and_the_new_network() {
    let cases: Vec<(serde_json::Value, Resolved, Vec<ExposureChange>)> = vec![
        // Public, default VPC on both sides: nothing changes.
        (network(None, false, None), Resolved::default(), vec![]),
        (network(Some(true), false, None), Resolved::default(), vec![]),
        // Public with a connector not resolved: no subnets carried, the default VPC stays public.
        (network(None, true, None), Resolved::default(), vec![]),
        // Public into the connector's subnets: internal unless they are public.
        (
            network(Some(true), true, None),
            connector(),
            vec![ExposureChange::PublicToInternal {
                connector_arn: CONNECTOR.into(),
                subnets: vec!["subnet-0aa".into()],
            }],
        ),
        // Private into the default VPC: internet-facing.
        (
            network(Some(false), false, None),
            Resolved::default(),
            vec![ExposureChange::PrivateToPublic],
        ),
        // Private into the connector's subnets: internet-facing if they are public.
        (
            network(Some(false), true, None),
            connector(),
            vec![ExposureChange::PrivateToSubnets {
                connector_arn: CONNECTOR.into(),
                subnets: vec!["subnet-0aa".into()],
            }],
        ),
        // Dual stack: IPv6 clients lose the service.
        (
            network(None, false, Some("DUAL_STACK")),
            Resolved::default(),
            vec![ExposureChange::DualStackToIpv4],
        ),
        (network(None, false, Some("IPV4")), Resolved::default(), vec![]),
        (
            network(Some(false), false, Some("dual_stack")),
            Resolved::default(),
            vec![ExposureChange::PrivateToPublic, ExposureChange::DualStackToIpv4],
        ),
    ];
    for (patch, resolved, want) in cases {
        let source = with(patch.clone());
        let m = map(&source, &roles(), &resolved).expect("migrates");
        assert_eq!(m.exposure, want, "{patch}");
        assert_eq!(
            exposure_changes(&source.spec, m.manifest.spec.network_configuration.as_ref()),
            want
        );
        let warnings = stderr_lines(&m, "o")
            .into_iter()
            .filter(|l| l.starts_with("WARNING: o: exposure changes: "))
            .count();
        assert_eq!(warnings, want.len(), "{patch}");
    }
}
