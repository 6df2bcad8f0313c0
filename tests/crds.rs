//! The CRDs on a real kube-apiserver: they install and become Established, the examples apply, every
//! schema and CEL rule rejects a bad manifest at `kubectl apply` time with a message naming the field,
//! and `kubectl explain` teaches the fields.

mod support;

use serde_json::{Value, json};
use support::{Cluster, repo_root};

fn example(file: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("examples").join(file)).expect("example file");
    runway::manifests::from_str(&text).expect("example YAML")
}

/// Sets the value at a JSON pointer, creating objects on the way.
fn set(v: &mut Value, pointer: &str, new: Value) {
    let mut cur = v;
    for part in pointer.trim_start_matches('/').split('/') {
        if !cur.get(part).is_some_and(|_| true) {
            cur[part] = json!({});
        }
        cur = &mut cur[part];
    }
    *cur = new;
}

/// Removes the value at a JSON pointer.
fn remove(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let obj = if parent.is_empty() {
        v
    } else {
        v.pointer_mut(parent).expect("parent exists")
    };
    obj.as_object_mut()
        .expect("object")
        .remove(key)
        .expect("key existed");
}

/// A rejection case: a change to a valid manifest and the text that the error must contain.
struct Case {
    name: &'static str,
    change: Box<dyn Fn(&mut Value)>,
    expect: &'static [&'static str],
}

fn case(name: &'static str, expect: &'static [&'static str], change: impl Fn(&mut Value) + 'static) -> Case {
    Case {
        name,
        change: Box::new(change),
        expect,
    }
}

/// Applies `manifest` and describes how it failed to be rejected as `case` expects, if it did.
fn expect_rejected(cluster: &Cluster, ns: &str, case: &Case, manifest: &Value) -> Vec<String> {
    let out = cluster.kubectl(&["apply", "-n", ns, "-f", "-"], Some(&manifest.to_string()));
    if out.status.success() {
        return vec![format!("{}: was accepted", case.name)];
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    case.expect
        .iter()
        .filter(|want| !stderr.contains(*want))
        .map(|want| format!("{}: error lacks {want:?}; got: {}", case.name, stderr.trim()))
        .collect()
}

/// Applies each case to `base` in `ns` and returns a description of every case that did not fail the
/// way it should.
fn run_cases(cluster: &Cluster, ns: &str, base: &Value, cases: Vec<Case>) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let mut manifest = base.clone();
        set(&mut manifest, "/metadata/name", json!(format!("bad-{i}")));
        (c.change)(&mut manifest);
        problems.extend(expect_rejected(cluster, ns, c, &manifest));
    }
    problems
}

/// Creates `base` once per case (named `<prefix>-<i>`), then applies each change as an update and
/// checks it is rejected.
fn run_update_cases(
    cluster: &Cluster,
    ns: &str,
    prefix: &str,
    base: &Value,
    cases: Vec<Case>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let mut original = base.clone();
        set(&mut original, "/metadata/name", json!(format!("{prefix}-{i}")));
        cluster.kubectl_ok(&["apply", "-n", ns, "-f", "-"], Some(&original.to_string()));
        let mut changed = original.clone();
        (c.change)(&mut changed);
        problems.extend(expect_rejected(cluster, ns, c, &changed));
    }
    problems
}

#[test]
fn crds_install_and_examples_apply_cleanly() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("examples");
    let dir = repo_root().join("examples");
    let out = cluster.kubectl_ok(&["apply", "-n", &ns, "-f", dir.to_str().expect("utf8")], None);
    for name in ["checkout-web", "orders-api", "catalog-api", "docs-site"] {
        assert!(out.contains(name), "{name} not applied: {out}");
    }
    let listed = cluster.kubectl_ok(&["get", "xsvc,arsvc", "-n", &ns, "-o", "name"], None);
    assert_eq!(listed.lines().count(), 4, "expected 4 resources, got {listed}");
    // Short names, categories and printer columns are served.
    let table = cluster.kubectl_ok(&["get", "runway", "-n", &ns], None);
    for column in ["READY", "STATUS", "ENDPOINT", "URL", "AGE"] {
        assert!(table.contains(column), "column {column} missing: {table}");
    }
}

#[test]
fn express_service_rejects_invalid_manifests_with_field_messages() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("xsvc-invalid");
    let base = example("expressservice-web.yaml");
    let cases = vec![
        case(
            "missing image",
            &["spec.primaryContainer.image", "Required value"],
            |m| remove(m, "/spec/primaryContainer/image"),
        ),
        case(
            "missing infrastructureRoleArn",
            &["spec.infrastructureRoleArn", "infrastructureRoleArn is required"],
            |m| remove(m, "/spec/infrastructureRoleArn"),
        ),
        case(
            "missing primaryContainer",
            &["spec.primaryContainer", "primaryContainer is required"],
            |m| remove(m, "/spec/primaryContainer"),
        ),
        case(
            "missing executionRoleArn",
            &["spec.executionRoleArn", "executionRoleArn is required"],
            |m| remove(m, "/spec/executionRoleArn"),
        ),
        case(
            "taskDefinitionArn with primaryContainer",
            &[
                "spec.primaryContainer",
                "cannot be set together with taskDefinitionArn",
            ],
            |m| {
                set(
                    m,
                    "/spec/taskDefinitionArn",
                    json!("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1"),
                )
            },
        ),
        case(
            "taskDefinitionArn with cpu",
            &["spec.cpu", "cpu cannot be set together with taskDefinitionArn"],
            |m| {
                for f in [
                    "primaryContainer",
                    "executionRoleArn",
                    "taskRoleArn",
                    "memory",
                    "cpuArchitecture",
                ] {
                    remove(m, &format!("/spec/{f}"));
                }
                set(
                    m,
                    "/spec/taskDefinitionArn",
                    json!("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1"),
                );
            },
        ),
        case(
            "taskDefinitionArn with memory",
            &[
                "spec.memory",
                "memory cannot be set together with taskDefinitionArn",
            ],
            |m| {
                for f in [
                    "primaryContainer",
                    "executionRoleArn",
                    "taskRoleArn",
                    "cpu",
                    "cpuArchitecture",
                ] {
                    remove(m, &format!("/spec/{f}"));
                }
                set(
                    m,
                    "/spec/taskDefinitionArn",
                    json!("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1"),
                );
            },
        ),
        case(
            "taskDefinitionArn with executionRoleArn and taskRoleArn",
            &[
                "spec.executionRoleArn",
                "spec.taskRoleArn",
                "cannot be set together with taskDefinitionArn",
            ],
            |m| {
                for f in ["primaryContainer", "cpu", "memory", "cpuArchitecture"] {
                    remove(m, &format!("/spec/{f}"));
                }
                set(
                    m,
                    "/spec/taskDefinitionArn",
                    json!("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1"),
                );
            },
        ),
        case(
            "taskDefinitionArn with cpuArchitecture",
            &[
                "spec.cpuArchitecture",
                "cpuArchitecture cannot be set together with taskDefinitionArn",
            ],
            |m| {
                for f in [
                    "primaryContainer",
                    "executionRoleArn",
                    "taskRoleArn",
                    "cpu",
                    "memory",
                ] {
                    remove(m, &format!("/spec/{f}"));
                }
                set(
                    m,
                    "/spec/taskDefinitionArn",
                    json!("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1"),
                );
            },
        ),
        case(
            "memory invalid for cpu",
            &["spec.memory", "not a valid Fargate size"],
            |m| {
                set(m, "/spec/cpu", json!("256"));
                set(m, "/spec/memory", json!("4096"));
            },
        ),
        case(
            "cpu not a Fargate value",
            &["spec.cpu", "Unsupported value"],
            |m| set(m, "/spec/cpu", json!("300")),
        ),
        case(
            "bad cpuArchitecture",
            &["spec.cpuArchitecture", "Unsupported value"],
            |m| set(m, "/spec/cpuArchitecture", json!("SPARC")),
        ),
        case(
            "bad autoScalingMetric",
            &["spec.scalingTarget.autoScalingMetric", "Unsupported value"],
            |m| set(m, "/spec/scalingTarget/autoScalingMetric", json!("AVERAGE_DISK")),
        ),
        case(
            "negative containerPort",
            &[
                "spec.primaryContainer.containerPort",
                "greater than or equal to 1",
            ],
            |m| set(m, "/spec/primaryContainer/containerPort", json!(-1)),
        ),
        case(
            "containerPort too large",
            &[
                "spec.primaryContainer.containerPort",
                "less than or equal to 65535",
            ],
            |m| set(m, "/spec/primaryContainer/containerPort", json!(70000)),
        ),
        case(
            "negative minTaskCount",
            &["spec.scalingTarget.minTaskCount", "greater than or equal to 0"],
            |m| set(m, "/spec/scalingTarget/minTaskCount", json!(-2)),
        ),
        case(
            "minTaskCount above maxTaskCount",
            &[
                "spec.scalingTarget.minTaskCount",
                "must not be greater than maxTaskCount",
            ],
            |m| set(m, "/spec/scalingTarget/minTaskCount", json!(20)),
        ),
        case(
            "duplicate environment name",
            &["spec.primaryContainer.environment[1]", "Duplicate value"],
            |m| {
                set(
                    m,
                    "/spec/primaryContainer/environment",
                    json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]),
                )
            },
        ),
        case(
            "duplicate subnet",
            &["spec.networkConfiguration.subnets[1]", "Duplicate value"],
            |m| {
                set(
                    m,
                    "/spec/networkConfiguration/subnets",
                    json!(["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60718"]),
                )
            },
        ),
        case(
            "malformed subnet id",
            &["spec.networkConfiguration.subnets[0]", "should match"],
            |m| set(m, "/spec/networkConfiguration/subnets", json!(["my-subnet"])),
        ),
        case(
            "healthCheckPath without slash",
            &["spec.healthCheckPath", "should match '^/.*$'"],
            |m| set(m, "/spec/healthCheckPath", json!("healthz")),
        ),
        case(
            "serviceName with a dot",
            &["spec.serviceName", "should match"],
            |m| set(m, "/spec/serviceName", json!("checkout.web")),
        ),
        case(
            "reserved tag key",
            &["spec.tags[0].key", "reserved for AWS use"],
            |m| {
                set(
                    m,
                    "/spec/tags",
                    json!([{"key": "aws:cloudformation:stack-name", "value": "x"}]),
                )
            },
        ),
        case(
            "reserved tag key in upper case",
            &["spec.tags[0].key", "reserved for AWS use"],
            |m| set(m, "/spec/tags", json!([{"key": "AWS:team", "value": "x"}])),
        ),
        case(
            "tag key with a character ECS refuses",
            &["spec.tags", "ECS tag keys may contain only"],
            |m| set(m, "/spec/tags", json!([{"key": "team#1", "value": "x"}])),
        ),
        case(
            "tag value with a character ECS refuses",
            &["spec.tags", "ECS tag values may contain only"],
            |m| set(m, "/spec/tags", json!([{"key": "team", "value": "a,b"}])),
        ),
        case(
            "tag value with the reserved prefix",
            &["spec.tags", "values starting with 'aws:'"],
            |m| set(m, "/spec/tags", json!([{"key": "team", "value": "aws:web"}])),
        ),
        case(
            "ECS's own managed tag",
            &["spec.tags", "AmazonECSManaged is the tag ECS sets"],
            |m| {
                set(
                    m,
                    "/spec/tags",
                    json!([{"key": "AmazonECSManaged", "value": "true"}]),
                )
            },
        ),
        case(
            "runway's owner tag",
            &["spec.tags[0].key", "runway.dev/owner is the tag runway sets"],
            |m| {
                set(
                    m,
                    "/spec/tags",
                    json!([{"key": "runway.dev/owner", "value": "other/web"}]),
                )
            },
        ),
        case("tag key too long", &["spec.tags[0].key", "128"], |m| {
            set(m, "/spec/tags", json!([{"key": "k".repeat(129), "value": "x"}]))
        }),
        case("tag value too long", &["spec.tags[0].value", "256"], |m| {
            set(
                m,
                "/spec/tags",
                json!([{"key": "team", "value": "v".repeat(257)}]),
            )
        }),
        case("more than 49 tags", &["spec.tags", "49"], |m| {
            let tags: Vec<Value> = (0..50)
                .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
                .collect();
            set(m, "/spec/tags", Value::Array(tags))
        }),
        case("duplicate tag key", &["spec.tags[1]", "Duplicate value"], |m| {
            set(
                m,
                "/spec/tags",
                json!([{"key": "team", "value": "a"}, {"key": "team", "value": "b"}]),
            )
        }),
        case(
            "metadata.name with a dot and no serviceName",
            &["spec.serviceName", "not a valid ECS service name"],
            |m| {
                remove(m, "/spec/serviceName");
                set(m, "/metadata/name", json!("checkout.web"));
            },
        ),
        case("malformed region", &["spec.region", "should match"], |m| {
            set(m, "/spec/region", json!("Virginia"))
        }),
        case(
            "executionRoleArn not a role ARN",
            &["spec.executionRoleArn", "should match"],
            |m| set(m, "/spec/executionRoleArn", json!("ecsTaskExecutionRole")),
        ),
        case(
            "bad deletionPolicy",
            &["spec.deletionPolicy", "Unsupported value"],
            |m| set(m, "/spec/deletionPolicy", json!("Orphan")),
        ),
        case(
            "awsLogsConfiguration without logGroup",
            &[
                "spec.primaryContainer.awsLogsConfiguration.logGroup",
                "Required value",
            ],
            |m| remove(m, "/spec/primaryContainer/awsLogsConfiguration/logGroup"),
        ),
        case(
            "secret without valueFrom",
            &["spec.primaryContainer.secrets[0].valueFrom", "Required value"],
            |m| set(m, "/spec/primaryContainer/secrets", json!([{"name": "DB"}])),
        ),
        case(
            "wrong type for containerPort",
            &["spec.primaryContainer.containerPort", "integer"],
            |m| set(m, "/spec/primaryContainer/containerPort", json!("eighty")),
        ),
    ];
    let problems = run_cases(&cluster, &ns, &base, cases);
    assert!(
        problems.is_empty(),
        "rules that did not reject as expected:\n{}",
        problems.join("\n")
    );
}

#[test]
fn express_service_create_only_fields_are_immutable() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("xsvc-immutable");
    let mut base = example("expressservice-web.yaml");
    set(&mut base, "/spec/region", json!("us-east-1"));
    let cases = vec![
        case(
            "change serviceName",
            &["spec.serviceName", "serviceName is immutable"],
            |m| set(m, "/spec/serviceName", json!("checkout-web-2")),
        ),
        case(
            "remove serviceName",
            &["spec.serviceName", "cannot be added or removed"],
            |m| remove(m, "/spec/serviceName"),
        ),
        case("change cluster", &["spec.cluster", "cluster is immutable"], |m| {
            set(m, "/spec/cluster", json!("prod"))
        }),
        case("change region", &["spec.region", "region is immutable"], |m| {
            set(m, "/spec/region", json!("eu-west-1"))
        }),
        case(
            "change infrastructureRoleArn",
            &["spec.infrastructureRoleArn", "infrastructureRoleArn is immutable"],
            |m| {
                set(
                    m,
                    "/spec/infrastructureRoleArn",
                    json!("arn:aws:iam::123456789012:role/other"),
                )
            },
        ),
        case(
            "add serviceArn after creation",
            &["spec.serviceArn", "cannot be added after creation"],
            |m| {
                set(
                    m,
                    "/spec/serviceArn",
                    json!("arn:aws:ecs:us-east-1:123456789012:service/default/other"),
                )
            },
        ),
    ];
    let mut problems = run_update_cases(&cluster, &ns, "upd", &base, cases);

    // An adopted service keeps its serviceArn.
    let mut adopted = base.clone();
    set(
        &mut adopted,
        "/spec/serviceArn",
        json!("arn:aws:ecs:us-east-1:123456789012:service/default/checkout-web"),
    );
    problems.extend(run_update_cases(
        &cluster,
        &ns,
        "adopted",
        &adopted,
        vec![
            case(
                "change serviceArn",
                &["spec.serviceArn", "serviceArn is immutable"],
                |m| {
                    set(
                        m,
                        "/spec/serviceArn",
                        json!("arn:aws:ecs:us-east-1:123456789012:service/default/other"),
                    )
                },
            ),
            case(
                "remove serviceArn",
                &["spec.serviceArn", "cannot be removed"],
                |m| remove(m, "/spec/serviceArn"),
            ),
        ],
    ));
    assert!(
        problems.is_empty(),
        "immutability rules that did not hold:\n{}",
        problems.join("\n")
    );

    // Mutable fields still update, tags included: changed, added, removed, and all of them dropped.
    let mut changed = base.clone();
    set(&mut changed, "/metadata/name", json!("upd-0"));
    set(&mut changed, "/spec/primaryContainer/image", json!("nginx:1.27"));
    cluster.kubectl_ok(&["apply", "-n", &ns, "-f", "-"], Some(&changed.to_string()));
    set(
        &mut changed,
        "/spec/tags",
        json!([{"key": "team", "value": "other"}, {"key": "cost-centre", "value": "42"}]),
    );
    cluster.kubectl_ok(&["apply", "-n", &ns, "-f", "-"], Some(&changed.to_string()));
    remove(&mut changed, "/spec/tags");
    cluster.kubectl_ok(&["apply", "-n", &ns, "-f", "-"], Some(&changed.to_string()));
}

#[test]
fn app_runner_service_rejects_invalid_manifests_with_field_messages() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("arsvc-invalid");
    let base = example("apprunnerservice-image.yaml");
    let code = example("apprunnerservice-code.yaml");
    let code_repo = code["spec"]["sourceConfiguration"]["codeRepository"].clone();
    let cases = vec![
        case(
            "both codeRepository and imageRepository",
            &[
                "spec.sourceConfiguration",
                "exactly one of codeRepository and imageRepository",
            ],
            move |m| set(m, "/spec/sourceConfiguration/codeRepository", code_repo.clone()),
        ),
        case(
            "neither repository",
            &[
                "spec.sourceConfiguration",
                "exactly one of codeRepository and imageRepository",
            ],
            |m| remove(m, "/spec/sourceConfiguration/imageRepository"),
        ),
        case(
            "missing sourceConfiguration",
            &["spec.sourceConfiguration", "Required value"],
            |m| remove(m, "/spec/sourceConfiguration"),
        ),
        case(
            "missing imageIdentifier",
            &[
                "spec.sourceConfiguration.imageRepository.imageIdentifier",
                "Required value",
            ],
            |m| remove(m, "/spec/sourceConfiguration/imageRepository/imageIdentifier"),
        ),
        case(
            "bad imageRepositoryType",
            &[
                "spec.sourceConfiguration.imageRepository.imageRepositoryType",
                "Unsupported value",
            ],
            |m| {
                set(
                    m,
                    "/spec/sourceConfiguration/imageRepository/imageRepositoryType",
                    json!("DOCKER_HUB"),
                )
            },
        ),
        case(
            "private ECR without accessRoleArn",
            &[
                "spec.sourceConfiguration.authenticationConfiguration",
                "accessRoleArn is required",
            ],
            |m| remove(m, "/spec/sourceConfiguration/authenticationConfiguration"),
        ),
        case(
            "bad health check protocol",
            &["spec.healthCheckConfiguration.protocol", "Unsupported value"],
            |m| set(m, "/spec/healthCheckConfiguration/protocol", json!("GRPC")),
        ),
        case(
            "health check interval zero",
            &[
                "spec.healthCheckConfiguration.interval",
                "greater than or equal to 1",
            ],
            |m| set(m, "/spec/healthCheckConfiguration/interval", json!(0)),
        ),
        case(
            "negative unhealthyThreshold",
            &[
                "spec.healthCheckConfiguration.unhealthyThreshold",
                "greater than or equal to 1",
            ],
            |m| set(m, "/spec/healthCheckConfiguration/unhealthyThreshold", json!(-3)),
        ),
        case(
            "health check timeout above 20",
            &[
                "spec.healthCheckConfiguration.timeout",
                "less than or equal to 20",
            ],
            |m| set(m, "/spec/healthCheckConfiguration/timeout", json!(30)),
        ),
        case(
            "VPC egress without connector",
            &[
                "spec.networkConfiguration.egressConfiguration.vpcConnectorArn",
                "required when egressType is VPC",
            ],
            |m| {
                set(
                    m,
                    "/spec/networkConfiguration/egressConfiguration",
                    json!({"egressType": "VPC"}),
                )
            },
        ),
        case(
            "connector with DEFAULT egress",
            &[
                "spec.networkConfiguration.egressConfiguration.vpcConnectorArn",
                "only valid when egressType is VPC",
            ],
            |m| {
                set(
                    m,
                    "/spec/networkConfiguration/egressConfiguration",
                    json!({
                        "egressType": "DEFAULT",
                        "vpcConnectorArn": "arn:aws:apprunner:us-east-1:123456789012:vpcconnector/c/1/0123456789abcdef"
                    }),
                )
            },
        ),
        case(
            "observability enabled without ARN",
            &[
                "spec.observabilityConfiguration.observabilityConfigurationArn",
                "required when observabilityEnabled",
            ],
            |m| {
                set(
                    m,
                    "/spec/observabilityConfiguration",
                    json!({"observabilityEnabled": true}),
                )
            },
        ),
        case(
            "bad ipAddressType",
            &["spec.networkConfiguration.ipAddressType", "Unsupported value"],
            |m| set(m, "/spec/networkConfiguration/ipAddressType", json!("IPV6")),
        ),
        case(
            "memory invalid for cpu",
            &[
                "spec.instanceConfiguration.memory",
                "memory is not valid for this cpu",
            ],
            |m| {
                set(
                    m,
                    "/spec/instanceConfiguration",
                    json!({"cpu": "4 vCPU", "memory": "2 GB"}),
                )
            },
        ),
        case(
            "cpu not an App Runner size",
            &["spec.instanceConfiguration.cpu", "Unsupported value"],
            |m| set(m, "/spec/instanceConfiguration/cpu", json!("3 vCPU")),
        ),
        case(
            "serviceName too short",
            &["spec.serviceName", "should match"],
            |m| set(m, "/spec/serviceName", json!("abc")),
        ),
        case(
            "reserved tag key",
            &["spec.tags[0].key", "reserved for AWS use"],
            |m| set(m, "/spec/tags", json!([{"key": "aws:x", "value": "y"}])),
        ),
        case(
            "reserved tag key in mixed case",
            &["spec.tags[0].key", "reserved for AWS use"],
            |m| set(m, "/spec/tags", json!([{"key": "Aws:x", "value": "y"}])),
        ),
        case(
            "runway's owner tag",
            &["spec.tags[0].key", "runway.dev/owner is the tag runway sets"],
            |m| {
                set(
                    m,
                    "/spec/tags",
                    json!([{"key": "runway.dev/owner", "value": "other/web"}]),
                )
            },
        ),
        case("more than 49 tags", &["spec.tags", "49"], |m| {
            let tags: Vec<Value> = (0..50)
                .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
                .collect();
            set(m, "/spec/tags", Value::Array(tags))
        }),
        case("paused is not a boolean", &["spec.paused", "boolean"], |m| {
            set(m, "/spec/paused", json!("yes"))
        }),
        case(
            "malformed KMS key",
            &["spec.encryptionConfiguration.kmsKey", "should match"],
            |m| {
                set(
                    m,
                    "/spec/encryptionConfiguration",
                    json!({"kmsKey": "alias/mine"}),
                )
            },
        ),
    ];
    let mut problems = run_cases(&cluster, &ns, &base, cases);
    let code_cases = vec![
        case(
            "code repository without connectionArn",
            &[
                "spec.sourceConfiguration.authenticationConfiguration",
                "connectionArn is required",
            ],
            |m| remove(m, "/spec/sourceConfiguration/authenticationConfiguration"),
        ),
        case(
            "API configuration without values",
            &[
                "spec.sourceConfiguration.codeRepository.codeConfiguration.codeConfigurationValues",
                "required when configurationSource is API",
            ],
            |m| {
                remove(
                    m,
                    "/spec/sourceConfiguration/codeRepository/codeConfiguration/codeConfigurationValues",
                )
            },
        ),
        case(
            "bad runtime",
            &[
                "spec.sourceConfiguration.codeRepository.codeConfiguration.codeConfigurationValues.runtime",
                "Unsupported value",
            ],
            |m| {
                set(
                    m,
                    "/spec/sourceConfiguration/codeRepository/codeConfiguration/codeConfigurationValues/runtime",
                    json!("COBOL_85"),
                )
            },
        ),
        case(
            "bad sourceCodeVersion type",
            &[
                "spec.sourceConfiguration.codeRepository.sourceCodeVersion.type",
                "Unsupported value",
            ],
            |m| {
                set(
                    m,
                    "/spec/sourceConfiguration/codeRepository/sourceCodeVersion/type",
                    json!("TAG"),
                )
            },
        ),
        case(
            "missing codeConfiguration",
            &[
                "spec.sourceConfiguration.codeRepository.codeConfiguration",
                "Required value",
            ],
            |m| remove(m, "/spec/sourceConfiguration/codeRepository/codeConfiguration"),
        ),
    ];
    problems.extend(run_cases(&cluster, &ns, &code, code_cases));
    assert!(
        problems.is_empty(),
        "rules that did not reject as expected:\n{}",
        problems.join("\n")
    );
}

#[test]
fn app_runner_service_create_only_fields_are_immutable() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("arsvc-immutable");
    let mut base = example("apprunnerservice-image.yaml");
    set(
        &mut base,
        "/spec/encryptionConfiguration",
        json!({"kmsKey": "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab"}),
    );
    let cases = vec![
        case(
            "change serviceName",
            &["spec.serviceName", "serviceName is immutable"],
            |m| set(m, "/spec/serviceName", json!("catalog-api-2")),
        ),
        case(
            "change encryptionConfiguration",
            &[
                "spec.encryptionConfiguration",
                "encryptionConfiguration is immutable",
            ],
            |m| {
                set(
                    m,
                    "/spec/encryptionConfiguration/kmsKey",
                    json!("arn:aws:kms:us-east-1:123456789012:key/ffffffff-0123-4567-89ab-0123456789ab"),
                )
            },
        ),
        case(
            "remove encryptionConfiguration",
            &["spec.encryptionConfiguration", "cannot be added or removed"],
            |m| remove(m, "/spec/encryptionConfiguration"),
        ),
    ];
    let mut problems = run_update_cases(&cluster, &ns, "upd", &base, cases);
    let mut plain = example("apprunnerservice-image.yaml");
    set(&mut plain, "/metadata/name", json!("plain"));
    problems.extend(run_update_cases(
        &cluster,
        &ns,
        "plain",
        &plain,
        vec![
            case("add encryptionConfiguration", &["spec.encryptionConfiguration", "cannot be added or removed"], |m| {
                set(m, "/spec/encryptionConfiguration", json!({"kmsKey": "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab"}))
            }),
            case(
                "add serviceArn after creation",
                &["spec.serviceArn", "cannot be added after creation"],
                |m| {
                    set(
                        m,
                        "/spec/serviceArn",
                        json!("arn:aws:apprunner:us-east-1:123456789012:service/other/0123456789abcdef0123456789abcdef"),
                    )
                },
            ),
        ],
    ));
    assert!(
        problems.is_empty(),
        "immutability rules that did not hold:\n{}",
        problems.join("\n")
    );

    // Tags change freely: edited, and then dropped altogether.
    let mut changed = plain.clone();
    set(
        &mut changed,
        "/spec/tags",
        json!([{"key": "team", "value": "other"}]),
    );
    cluster.kubectl_ok(&["apply", "-n", &ns, "-f", "-"], Some(&changed.to_string()));
    remove(&mut changed, "/spec/tags");
    cluster.kubectl_ok(&["apply", "-n", &ns, "-f", "-"], Some(&changed.to_string()));
}

#[test]
fn kubectl_explain_shows_the_aws_field_docs() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    for (path, want) in [
        ("xsvc.spec", "Amazon ECS Express Mode"),
        ("xsvc.spec.taskDefinitionArn", "container named\n"),
        ("xsvc.spec.primaryContainer.containerPort", "Default is 80"),
        ("xsvc.spec.infrastructureRoleArn", "Application Load Balancers"),
        (
            "xsvc.status.targetConfiguration.serviceRevisionArn",
            "service revision",
        ),
        (
            "arsvc.spec.sourceConfiguration.autoDeploymentsEnabled",
            "continuous integration",
        ),
        ("arsvc.spec.healthCheckConfiguration.interval", "Default: 5"),
        ("arsvc.spec.paused", "PauseService"),
    ] {
        let out = cluster.kubectl_ok(&["explain", path], None);
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        let want_flat = want.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&want_flat),
            "kubectl explain {path} lacks {want:?}:\n{out}"
        );
    }
}

/// App Runner pulls images only from Amazon ECR and ECR Public (docs/aws-behaviour.md A26): any
/// other `imageIdentifier` is refused at `kubectl apply` with a message naming the field, and the
/// repository type must match the registry.
#[test]
fn app_runner_images_come_only_from_ecr_or_ecr_public() {
    let cluster = Cluster::from_env();
    cluster.install_crds();
    let ns = cluster.namespace("arsvc-images");
    let base = example("apprunnerservice-image.yaml");
    let image = "/spec/sourceConfiguration/imageRepository/imageIdentifier";
    let kind = "/spec/sourceConfiguration/imageRepository/imageRepositoryType";
    const FIELD: &[&str] = &[
        "spec.sourceConfiguration.imageRepository.imageIdentifier",
        "must be an Amazon ECR image",
        "no other registry",
    ];
    let other = |name: &'static str, identifier: &'static str| {
        case(name, FIELD, move |m| set(m, image, json!(identifier)))
    };
    let cases = vec![
        other("Docker Hub", "docker.io/library/nginx:1.27"),
        other("a bare image name", "nginx:latest"),
        other("GitHub Container Registry", "ghcr.io/runway-dev/runway:0.1.0"),
        other(
            "a host that only starts like ECR",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.example.net/app:1",
        ),
        other(
            "ECR without a repository",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/",
        ),
        other(
            "an upper-case repository",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/App:1",
        ),
        other("ECR Public without an alias", "public.ecr.aws/nginx:1.27"),
        case(
            "a private ECR image typed ECR_PUBLIC",
            &[
                "spec.sourceConfiguration.imageRepository.imageRepositoryType",
                "must be ECR_PUBLIC for a public.ecr.aws image and ECR for an Amazon ECR image",
            ],
            move |m| set(m, kind, json!("ECR_PUBLIC")),
        ),
        case(
            "an ECR Public image typed ECR",
            &[
                "spec.sourceConfiguration.imageRepository.imageRepositoryType",
                "must be ECR_PUBLIC",
            ],
            move |m| set(m, image, json!("public.ecr.aws/nginx/nginx:1.27")),
        ),
    ];
    let problems = run_cases(&cluster, &ns, &base, cases);
    assert!(
        problems.is_empty(),
        "image rules that did not reject as expected:\n{}",
        problems.join("\n")
    );

    // What App Runner accepts still applies: tags, digests, nested repositories, both registries.
    let digest = format!("@sha256:{}", "0123456789abcdef".repeat(4));
    let accepted = [
        (
            "ECR",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/catalog-api:2.0.1".to_string(),
        ),
        (
            "ECR",
            format!("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app{digest}"),
        ),
        (
            "ECR",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app".to_string(),
        ),
        (
            "ECR_PUBLIC",
            "public.ecr.aws/aws-containers/hello-app-runner:latest".to_string(),
        ),
        ("ECR_PUBLIC", format!("public.ecr.aws/nginx/nginx{digest}")),
    ];
    for (i, (type_, identifier)) in accepted.into_iter().enumerate() {
        let mut m = base.clone();
        set(&mut m, "/metadata/name", json!(format!("good-{i}")));
        set(&mut m, image, json!(identifier));
        set(&mut m, kind, json!(type_));
        cluster.kubectl_ok(
            &["apply", "--dry-run=server", "-n", &ns, "-f", "-"],
            Some(&m.to_string()),
        );
    }
}
