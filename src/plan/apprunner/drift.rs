//! Drift of an App Runner service: which spec-set fields App Runner reports differently, compared
//! in App Runner's normalized form.

use std::collections::BTreeMap;

use super::request::{
    AppRunnerRequest, DEFAULT_CPU, DEFAULT_MEMORY, DEFAULT_PORT, default_auto_deployments,
    default_health_check, normalize_cpu, normalize_memory,
};
use crate::api::apprunner::{
    CodeConfigurationValues, CodeRepository, HealthCheckConfiguration, ImageRepository,
    InstanceConfiguration, NetworkConfiguration, ObservabilityConfiguration, SourceConfiguration,
};

/// The fields that the spec sets and App Runner reports differently. Fields the spec leaves unset
/// are never compared: they belong to whoever set them outside runway. CPU, memory and defaults
/// are compared in App Runner's normalized form.
pub fn drift(desired: &AppRunnerRequest, actual: &AppRunnerRequest) -> Vec<String> {
    let mut out = Drifted::default();
    source_drift(
        &desired.source_configuration,
        &actual.source_configuration,
        &mut out,
    );
    if let Some(want) = &desired.instance_configuration {
        instance_drift(want, actual.instance_configuration.as_ref(), &mut out);
    }
    if let Some(want) = &desired.auto_scaling_configuration_arn {
        out.check(
            "autoScalingConfigurationArn",
            !arn_matches(want, actual.auto_scaling_configuration_arn.as_deref()),
        );
    }
    if let Some(want) = &desired.health_check_configuration {
        health_check_drift(want, actual.health_check_configuration.as_ref(), &mut out);
    }
    if let Some(want) = &desired.network_configuration {
        network_drift(want, actual.network_configuration.as_ref(), &mut out);
    }
    if let Some(want) = &desired.observability_configuration {
        observability_drift(want, actual.observability_configuration.as_ref(), &mut out);
    }
    out.0
}

/// The drifted fields, in the order they are checked.
#[derive(Default)]
struct Drifted(Vec<String>);

impl Drifted {
    /// Records `field` when it `differs`.
    fn check(&mut self, field: &str, differs: bool) {
        if differs {
            self.0.push(field.to_string());
        }
    }
}

/// Whether an optional value that the spec sets differs.
fn opt(want: &Option<String>, have: &Option<String>) -> bool {
    want.is_some() && want != have
}

/// Whether a value that the spec sets differs from App Runner's, which is `default` when unset.
fn with_default(want: &Option<String>, have: &Option<String>, default: &str) -> bool {
    want.as_ref()
        .is_some_and(|w| w != have.as_deref().unwrap_or(default))
}

/// Whether a map that the spec sets (not empty) differs.
fn map(want: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> bool {
    !want.is_empty() && want != have
}

/// The source fields that drifted: the image or code repository, automatic deployments and the
/// authentication configuration.
fn source_drift(ws: &SourceConfiguration, hs: &SourceConfiguration, out: &mut Drifted) {
    if let Some(want) = &ws.image_repository {
        match &hs.image_repository {
            None => out.check("sourceConfiguration.imageRepository", true),
            Some(have) => image_drift(want, have, out),
        }
    }
    if let Some(want) = &ws.code_repository {
        match &hs.code_repository {
            None => out.check("sourceConfiguration.codeRepository", true),
            Some(have) => code_drift(want, have, out),
        }
    }
    if let Some(want) = ws.auto_deployments_enabled {
        let have = hs
            .auto_deployments_enabled
            .unwrap_or_else(|| default_auto_deployments(hs));
        out.check("sourceConfiguration.autoDeploymentsEnabled", want != have);
    }
    if let Some(want) = &ws.authentication_configuration {
        let have = hs.authentication_configuration.clone().unwrap_or_default();
        let prefix = "sourceConfiguration.authenticationConfiguration";
        out.check(
            &format!("{prefix}.accessRoleArn"),
            opt(&want.access_role_arn, &have.access_role_arn),
        );
        out.check(
            &format!("{prefix}.connectionArn"),
            opt(&want.connection_arn, &have.connection_arn),
        );
    }
}

/// The image repository fields that drifted.
fn image_drift(want: &ImageRepository, have: &ImageRepository, out: &mut Drifted) {
    out.check(
        "sourceConfiguration.imageRepository.imageIdentifier",
        want.image_identifier != have.image_identifier,
    );
    out.check(
        "sourceConfiguration.imageRepository.imageRepositoryType",
        want.image_repository_type != have.image_repository_type,
    );
    if let Some(wc) = &want.image_configuration {
        let hc = have.image_configuration.clone().unwrap_or_default();
        let prefix = "sourceConfiguration.imageRepository.imageConfiguration";
        out.check(
            &format!("{prefix}.port"),
            with_default(&wc.port, &hc.port, DEFAULT_PORT),
        );
        out.check(
            &format!("{prefix}.startCommand"),
            opt(&wc.start_command, &hc.start_command),
        );
        out.check(
            &format!("{prefix}.runtimeEnvironmentVariables"),
            map(
                &wc.runtime_environment_variables,
                &hc.runtime_environment_variables,
            ),
        );
        out.check(
            &format!("{prefix}.runtimeEnvironmentSecrets"),
            map(&wc.runtime_environment_secrets, &hc.runtime_environment_secrets),
        );
    }
}

/// The code repository fields that drifted.
fn code_drift(want: &CodeRepository, have: &CodeRepository, out: &mut Drifted) {
    let prefix = "sourceConfiguration.codeRepository";
    out.check(
        &format!("{prefix}.repositoryUrl"),
        want.repository_url != have.repository_url,
    );
    out.check(
        &format!("{prefix}.sourceCodeVersion"),
        want.source_code_version != have.source_code_version,
    );
    out.check(
        &format!("{prefix}.sourceDirectory"),
        opt(&want.source_directory, &have.source_directory),
    );
    let (wc, hc) = (&want.code_configuration, &have.code_configuration);
    out.check(
        &format!("{prefix}.codeConfiguration.configurationSource"),
        wc.configuration_source != hc.configuration_source,
    );
    if let Some(wv) = &wc.code_configuration_values {
        let hv = hc.code_configuration_values.clone().unwrap_or_default();
        code_values_drift(
            wv,
            &hv,
            &format!("{prefix}.codeConfiguration.codeConfigurationValues"),
            out,
        );
    }
}

/// The build and run settings of a code repository that drifted, under `prefix`.
fn code_values_drift(
    wv: &CodeConfigurationValues,
    hv: &CodeConfigurationValues,
    prefix: &str,
    out: &mut Drifted,
) {
    out.check(&format!("{prefix}.runtime"), wv.runtime != hv.runtime);
    out.check(
        &format!("{prefix}.buildCommand"),
        opt(&wv.build_command, &hv.build_command),
    );
    out.check(
        &format!("{prefix}.startCommand"),
        opt(&wv.start_command, &hv.start_command),
    );
    out.check(
        &format!("{prefix}.port"),
        with_default(&wv.port, &hv.port, DEFAULT_PORT),
    );
    out.check(
        &format!("{prefix}.runtimeEnvironmentVariables"),
        map(
            &wv.runtime_environment_variables,
            &hv.runtime_environment_variables,
        ),
    );
    out.check(
        &format!("{prefix}.runtimeEnvironmentSecrets"),
        map(&wv.runtime_environment_secrets, &hv.runtime_environment_secrets),
    );
}

/// The instance fields that drifted, CPU and memory in App Runner's unit-less form.
fn instance_drift(want: &InstanceConfiguration, have: Option<&InstanceConfiguration>, out: &mut Drifted) {
    let have = have.cloned().unwrap_or_default();
    let norm_cpu = |v: &Option<String>| normalize_cpu(v.as_deref().unwrap_or(DEFAULT_CPU));
    let norm_mem = |v: &Option<String>| normalize_memory(v.as_deref().unwrap_or(DEFAULT_MEMORY));
    out.check(
        "instanceConfiguration.cpu",
        want.cpu.is_some() && norm_cpu(&want.cpu) != norm_cpu(&have.cpu),
    );
    out.check(
        "instanceConfiguration.memory",
        want.memory.is_some() && norm_mem(&want.memory) != norm_mem(&have.memory),
    );
    out.check(
        "instanceConfiguration.instanceRoleArn",
        opt(&want.instance_role_arn, &have.instance_role_arn),
    );
}

/// The health check fields that drifted, against App Runner's defaults where it reports none.
fn health_check_drift(
    want: &HealthCheckConfiguration,
    have: Option<&HealthCheckConfiguration>,
    out: &mut Drifted,
) {
    let have = have.cloned().unwrap_or_default();
    let d = default_health_check();
    let int = |w: Option<i32>, h: Option<i32>, d: Option<i32>| w.is_some() && w != h.or(d);
    out.check(
        "healthCheckConfiguration.protocol",
        with_default(&want.protocol, &have.protocol, "TCP"),
    );
    out.check(
        "healthCheckConfiguration.path",
        with_default(&want.path, &have.path, "/"),
    );
    out.check(
        "healthCheckConfiguration.interval",
        int(want.interval, have.interval, d.interval),
    );
    out.check(
        "healthCheckConfiguration.timeout",
        int(want.timeout, have.timeout, d.timeout),
    );
    out.check(
        "healthCheckConfiguration.healthyThreshold",
        int(
            want.healthy_threshold,
            have.healthy_threshold,
            d.healthy_threshold,
        ),
    );
    out.check(
        "healthCheckConfiguration.unhealthyThreshold",
        int(
            want.unhealthy_threshold,
            have.unhealthy_threshold,
            d.unhealthy_threshold,
        ),
    );
}

/// The network fields that drifted: egress, public access and the IP address type.
fn network_drift(want: &NetworkConfiguration, have: Option<&NetworkConfiguration>, out: &mut Drifted) {
    let have = have.cloned().unwrap_or_default();
    if let Some(we) = &want.egress_configuration {
        let he = have.egress_configuration.clone().unwrap_or_default();
        out.check(
            "networkConfiguration.egressConfiguration.egressType",
            with_default(&we.egress_type, &he.egress_type, "DEFAULT"),
        );
        out.check(
            "networkConfiguration.egressConfiguration.vpcConnectorArn",
            opt(&we.vpc_connector_arn, &he.vpc_connector_arn),
        );
    }
    if let Some(wi) = want
        .ingress_configuration
        .as_ref()
        .and_then(|i| i.is_publicly_accessible)
    {
        let hi = have
            .ingress_configuration
            .as_ref()
            .and_then(|i| i.is_publicly_accessible)
            .unwrap_or(true);
        out.check(
            "networkConfiguration.ingressConfiguration.isPubliclyAccessible",
            wi != hi,
        );
    }
    out.check(
        "networkConfiguration.ipAddressType",
        with_default(&want.ip_address_type, &have.ip_address_type, "IPV4"),
    );
}

/// The tracing fields that drifted.
fn observability_drift(
    want: &ObservabilityConfiguration,
    have: Option<&ObservabilityConfiguration>,
    out: &mut Drifted,
) {
    let enabled = have.is_some_and(|h| h.observability_enabled);
    out.check(
        "observabilityConfiguration.observabilityEnabled",
        want.observability_enabled != enabled,
    );
    if let Some(arn) = &want.observability_configuration_arn {
        out.check(
            "observabilityConfiguration.observabilityConfigurationArn",
            !arn_matches(
                arn,
                have.and_then(|h| h.observability_configuration_arn.as_deref()),
            ),
        );
    }
}

/// Whether an ARN App Runner reports is the one the spec names. A spec ARN with only a name
/// (`.../autoscalingconfiguration/high`) means its latest revision, which App Runner reports with
/// the revision and ID appended.
pub fn arn_matches(want: &str, have: Option<&str>) -> bool {
    have.is_some_and(|h| h == want || h.strip_prefix(want).is_some_and(|rest| rest.starts_with('/')))
}
