//! Drift of an Express service: which configuration AWS serves or deploys, which spec-set fields
//! it reports differently, and how that configuration is shown in status.

use super::observed::{ObservedDeployment, ObservedExpress};
use super::request::{ExpressRequest, metric_name};
use crate::api::express::{
    CpuArchitecture, ExpressGatewayContainer, ExpressServiceSpec, NetworkConfiguration, ObservedContainer,
    ScalingTarget, TargetConfiguration,
};

/// The configuration being served or deployed: the one the current deployment targets, else the
/// newest active one.
pub fn current_configuration<'a>(
    service: &'a ObservedExpress,
    deployment: Option<&ObservedDeployment>,
) -> Option<&'a TargetConfiguration> {
    let target = deployment.and_then(|d| d.target_revision.as_deref());
    service
        .active_configurations
        .iter()
        .find(|c| target.is_some() && c.service_revision_arn.as_deref() == target)
        .or_else(|| service.active_configurations.last())
}

/// The fields that the spec sets and AWS reports differently. Fields the spec leaves unset are never
/// compared: they belong to whoever set them outside runway. A value AWS leaves out is not drift
/// either: runway cannot prove which default AWS applied. Security groups are compared as a subset:
/// ECS adds a managed group of its own (tagged `AmazonECSManaged=true`) that is never drift, while a
/// group of the spec that is missing in AWS is.
pub fn drift(desired: &ExpressRequest, actual: &TargetConfiguration) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |field: &str, differs: bool| {
        if differs {
            out.push(field.to_string());
        }
    };
    let opt_differs = |want: &Option<String>, have: &Option<String>| want.is_some() && want != have;

    check(
        "executionRoleArn",
        opt_differs(&desired.execution_role_arn, &actual.execution_role_arn),
    );
    check(
        "taskRoleArn",
        opt_differs(&desired.task_role_arn, &actual.task_role_arn),
    );
    check(
        "healthCheckPath",
        opt_differs(&desired.health_check_path, &actual.health_check_path),
    );
    check("cpu", opt_differs(&desired.cpu, &actual.cpu));
    check("memory", opt_differs(&desired.memory, &actual.memory));
    check(
        "taskDefinitionArn",
        desired
            .task_definition_arn
            .as_deref()
            .is_some_and(|want| task_definition_differs(want, actual.task_definition_arn.as_deref())),
    );
    if let (Some(arch), Some(have)) = (desired.cpu_architecture, actual.cpu_architecture.as_deref()) {
        let want = match arch {
            CpuArchitecture::X86_64 => "X86_64",
            CpuArchitecture::ARM64 => "ARM64",
        };
        check("cpuArchitecture", have != want);
    }
    let mut container = Vec::new();
    if let Some(want) = &desired.primary_container {
        match &actual.primary_container {
            None => check("primaryContainer", true),
            Some(have) => container_drift(want, have, &mut container),
        }
    }
    if let Some(want) = &desired.network_configuration {
        network_drift(want, actual, &mut out);
    }
    if let Some(want) = &desired.scaling_target {
        scaling_drift(want, actual, &mut out);
    }
    out.extend(container);
    out
}

/// Whether AWS runs another task definition than the spec names. An ARN without a revision
/// (`…:task-definition/web`) names the family's latest revision, and AWS reports the revision it
/// resolved (`…/web:12`), so it matches any revision of that family: comparing the strings would
/// send the same update on every resync (docs/aws-behaviour.md E32). An ARN with a revision must
/// match exactly.
fn task_definition_differs(want: &str, have: Option<&str>) -> bool {
    let Some(have) = have else {
        return true;
    };
    let family = |arn: &str| arn.rsplit_once("task-definition/").map(|(_, f)| f.to_string());
    let unversioned = family(want).is_some_and(|f| !f.contains(':'));
    if !unversioned {
        return want != have;
    }
    let have_family = have.rsplit_once(':').map_or(have, |(f, _)| f);
    want != have && want != have_family
}

/// The network fields that drifted: the spec's subnets (as a set), and any of the spec's security
/// groups that AWS does not report (ECS adds one of its own, which is no drift).
fn network_drift(want: &NetworkConfiguration, actual: &TargetConfiguration, out: &mut Vec<String>) {
    let have = actual.network_configuration.clone().unwrap_or_default();
    if !want.subnets.is_empty() {
        let mut subnets = have.subnets.clone();
        subnets.sort();
        subnets.dedup();
        if want.subnets != subnets {
            out.push("networkConfiguration.subnets".to_string());
        }
    }
    if !want
        .security_groups
        .iter()
        .all(|g| have.security_groups.contains(g))
    {
        out.push("networkConfiguration.securityGroups".to_string());
    }
}

/// The scaling fields that the spec sets and AWS reports differently.
fn scaling_drift(want: &ScalingTarget, actual: &TargetConfiguration, out: &mut Vec<String>) {
    let have = actual.scaling_target.clone().unwrap_or_default();
    let mut check = |field: &str, differs: bool| {
        if differs {
            out.push(field.to_string());
        }
    };
    let int_differs = |w: Option<i32>, h: Option<i32>| w.is_some() && w != h;
    check(
        "scalingTarget.minTaskCount",
        int_differs(want.min_task_count, have.min_task_count),
    );
    check(
        "scalingTarget.maxTaskCount",
        int_differs(want.max_task_count, have.max_task_count),
    );
    check(
        "scalingTarget.autoScalingMetric",
        want.auto_scaling_metric
            .is_some_and(|m| have.auto_scaling_metric.as_deref() != Some(metric_name(m))),
    );
    check(
        "scalingTarget.autoScalingTargetValue",
        int_differs(want.auto_scaling_target_value, have.auto_scaling_target_value),
    );
}

fn container_drift(want: &ExpressGatewayContainer, have: &ObservedContainer, out: &mut Vec<String>) {
    let mut check = |field: &str, differs: bool| {
        if differs {
            out.push(format!("primaryContainer.{field}"));
        }
    };
    check("image", want.image != have.image);
    if let (Some(port), Some(have_port)) = (want.container_port, have.container_port) {
        check("containerPort", port != have_port);
    }
    if let Some(logs) = &want.aws_logs_configuration {
        check(
            "awsLogsConfiguration",
            have.aws_logs_configuration.as_ref().is_none_or(|h| {
                h.log_group != logs.log_group || h.log_stream_prefix != logs.log_stream_prefix
            }),
        );
    }
    if let Some(creds) = &want.repository_credentials {
        check(
            "repositoryCredentials",
            have.repository_credentials
                .as_ref()
                .is_none_or(|h| h.credentials_parameter != creds.credentials_parameter),
        );
    }
    if !want.command.is_empty() {
        check("command", want.command != have.command);
    }
    if !want.environment.is_empty() {
        let mut env: Vec<(&str, Option<&str>)> = have
            .environment
            .iter()
            .map(|kv| (kv.name.as_str(), kv.value.as_deref()))
            .collect();
        env.sort();
        let wanted: Vec<(&str, Option<&str>)> = want
            .environment
            .iter()
            .map(|kv| (kv.name.as_str(), kv.value.as_deref()))
            .collect();
        check("environment", wanted != env);
    }
    if !want.secrets.is_empty() {
        let mut secrets: Vec<(&str, &str)> = have
            .secrets
            .iter()
            .map(|s| (s.name.as_str(), s.value_from.as_str()))
            .collect();
        secrets.sort();
        let wanted: Vec<(&str, &str)> = want
            .secrets
            .iter()
            .map(|s| (s.name.as_str(), s.value_from.as_str()))
            .collect();
        check("secrets", wanted != secrets);
    }
}

/// The configuration as status shows it: environment variables that the spec does not set itself
/// keep their names but lose their values (someone may have put a credential there in the console,
/// and everyone who can read the resource can read its status). Secret values never reach runway;
/// their `valueFrom` references are kept.
pub fn redacted(config: &TargetConfiguration, spec: &ExpressServiceSpec) -> TargetConfiguration {
    let mut out = config.clone();
    let spec_env = spec.primary_container.as_ref().map(|c| &c.environment);
    if let Some(container) = out.primary_container.as_mut() {
        for kv in &mut container.environment {
            let set_by_spec = spec_env.is_some_and(|env| env.iter().any(|e| e.name == kv.name));
            if !set_by_spec {
                kv.value = None;
            }
        }
    }
    out
}
