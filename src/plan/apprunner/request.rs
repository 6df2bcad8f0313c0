//! The desired request for an App Runner service: the canonical form of the spec
//! ([`AppRunnerRequest::from_spec`]), the maps runway clears, App Runner's defaults and units
//! folded away for the digest stored in `status.lastAppliedHash`, and the create request.

use serde::{Deserialize, Serialize};

use crate::api::apprunner::{
    AppRunnerServiceSpec, EncryptionConfiguration, HealthCheckConfiguration, InstanceConfiguration,
    NetworkConfiguration, ObservabilityConfiguration, SourceConfiguration,
};
use crate::api::common::Tag;
use crate::plan::{OWNER_TAG, Owner};

/// The UpdateService fields that the spec sets. Environment variables and secrets are already
/// ordered maps, so reordering them in the manifest changes nothing.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AppRunnerRequest {
    /// The code or image repository and how to reach it.
    pub source_configuration: SourceConfiguration,
    /// CPU, memory and instance role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_configuration: Option<InstanceConfiguration>,
    /// The auto scaling configuration to associate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_scaling_configuration_arn: Option<String>,
    /// Health check settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_configuration: Option<HealthCheckConfiguration>,
    /// Ingress, egress and IP address type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
    /// Tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observability_configuration: Option<ObservabilityConfiguration>,
    /// Maps (from [`CLEARABLE`]) that runway set earlier and the spec no longer sets: the update sends
    /// them empty, which clears them (an omitted member keeps its value). Not part of the digest.
    #[serde(skip)]
    pub clear: Vec<String>,
}

/// The image configuration maps that an empty value clears in App Runner.
pub const CLEARABLE: &[&str] = &[
    "sourceConfiguration.imageRepository.imageConfiguration.runtimeEnvironmentVariables",
    "sourceConfiguration.imageRepository.imageConfiguration.runtimeEnvironmentSecrets",
];

/// Everything CreateService needs.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRequest {
    /// The service name (spec.serviceName or metadata.name).
    pub service_name: String,
    /// The spec's tags plus runway's owner tag.
    pub tags: Vec<Tag>,
    /// The create-only KMS key.
    pub encryption_configuration: Option<EncryptionConfiguration>,
    /// The configuration.
    pub request: AppRunnerRequest,
}

impl AppRunnerRequest {
    /// The canonical request for a spec.
    pub fn from_spec(spec: &AppRunnerServiceSpec) -> Self {
        Self {
            source_configuration: spec.source_configuration.clone(),
            instance_configuration: spec.instance_configuration.clone(),
            auto_scaling_configuration_arn: spec.auto_scaling_configuration_arn.clone(),
            health_check_configuration: spec.health_check_configuration.clone(),
            network_configuration: spec.network_configuration.clone(),
            observability_configuration: spec.observability_configuration.clone(),
            clear: Vec::new(),
        }
    }

    /// The clearable fields this request sets, recorded in `status.appliedFields`.
    pub fn fields(&self) -> Vec<String> {
        let ic = self
            .source_configuration
            .image_repository
            .as_ref()
            .and_then(|i| i.image_configuration.as_ref());
        let mut out = Vec::new();
        if ic.is_some_and(|c| !c.runtime_environment_variables.is_empty()) {
            out.push(CLEARABLE[0].to_string());
        }
        if ic.is_some_and(|c| !c.runtime_environment_secrets.is_empty()) {
            out.push(CLEARABLE[1].to_string());
        }
        out
    }

    /// The request plus the clearing of every [`CLEARABLE`] map that runway set earlier (`applied`)
    /// and this request no longer sets. Only for an image source: switching to a code repository
    /// replaces the image configuration as a whole.
    pub fn clearing(mut self, applied: &[String]) -> Self {
        let sets = self.fields();
        self.clear = if self.source_configuration.image_repository.is_some() {
            CLEARABLE
                .iter()
                .filter(|f| applied.iter().any(|a| a == *f) && !sets.iter().any(|s| s == *f))
                .map(|f| f.to_string())
                .collect()
        } else {
            Vec::new()
        };
        self
    }

    /// The digest stored in `status.lastAppliedHash`. CPU and memory are normalized to App Runner's
    /// unit-less form, and values equal to App Runner's documented defaults are dropped, so writing
    /// `1 vCPU` instead of `1024`, or a default explicitly, does not cause an update.
    pub fn digest(&self) -> String {
        crate::plan::digest(&self.without_defaults())
    }

    /// The request with CPU and memory normalized and every documented default removed.
    pub fn without_defaults(&self) -> Self {
        let mut c = self.clone();
        source_without_defaults(&mut c.source_configuration);
        if let Some(i) = c.instance_configuration.as_mut() {
            i.cpu = i.cpu.as_deref().map(normalize_cpu).filter(|v| v != DEFAULT_CPU);
            i.memory = i
                .memory
                .as_deref()
                .map(normalize_memory)
                .filter(|v| v != DEFAULT_MEMORY);
        }
        if c.instance_configuration.as_ref() == Some(&Default::default()) {
            c.instance_configuration = None;
        }
        if let Some(h) = c.health_check_configuration.as_mut() {
            health_check_without_defaults(h);
        }
        if c.health_check_configuration.as_ref() == Some(&Default::default()) {
            c.health_check_configuration = None;
        }
        if let Some(n) = c.network_configuration.as_mut() {
            network_without_defaults(n);
        }
        if c.network_configuration.as_ref() == Some(&Default::default()) {
            c.network_configuration = None;
        }
        if c.observability_configuration
            .as_ref()
            .is_some_and(|o| !o.observability_enabled && o.observability_configuration_arn.is_none())
        {
            c.observability_configuration = None;
        }
        c
    }
}

/// Removes the source's defaults: automatic deployments, the port, and empty image and
/// authentication configurations.
fn source_without_defaults(source: &mut SourceConfiguration) {
    if source.auto_deployments_enabled == Some(default_auto_deployments(source)) {
        source.auto_deployments_enabled = None;
    }
    if let Some(image) = source.image_repository.as_mut() {
        if let Some(ic) = image.image_configuration.as_mut()
            && ic.port.as_deref() == Some(DEFAULT_PORT)
        {
            ic.port = None;
        }
        if image.image_configuration.as_ref() == Some(&Default::default()) {
            image.image_configuration = None;
        }
    }
    if let Some(values) = source
        .code_repository
        .as_mut()
        .and_then(|code| code.code_configuration.code_configuration_values.as_mut())
        && values.port.as_deref() == Some(DEFAULT_PORT)
    {
        values.port = None;
    }
    if source.authentication_configuration.as_ref() == Some(&Default::default()) {
        source.authentication_configuration = None;
    }
}

/// Removes every health check setting equal to [`default_health_check`].
fn health_check_without_defaults(h: &mut HealthCheckConfiguration) {
    let d = default_health_check();
    if h.protocol == d.protocol {
        h.protocol = None;
    }
    if h.path == d.path {
        h.path = None;
    }
    if h.interval == d.interval {
        h.interval = None;
    }
    if h.timeout == d.timeout {
        h.timeout = None;
    }
    if h.healthy_threshold == d.healthy_threshold {
        h.healthy_threshold = None;
    }
    if h.unhealthy_threshold == d.unhealthy_threshold {
        h.unhealthy_threshold = None;
    }
}

/// Removes the network defaults: `DEFAULT` egress, public ingress and IPv4, and the egress and
/// ingress configurations left empty.
fn network_without_defaults(n: &mut NetworkConfiguration) {
    if let Some(e) = n.egress_configuration.as_mut()
        && e.egress_type.as_deref() == Some("DEFAULT")
    {
        e.egress_type = None;
    }
    if n.egress_configuration.as_ref() == Some(&Default::default()) {
        n.egress_configuration = None;
    }
    if let Some(i) = n.ingress_configuration.as_mut()
        && i.is_publicly_accessible == Some(true)
    {
        i.is_publicly_accessible = None;
    }
    if n.ingress_configuration.as_ref() == Some(&Default::default()) {
        n.ingress_configuration = None;
    }
    if n.ip_address_type.as_deref() == Some("IPV4") {
        n.ip_address_type = None;
    }
}

/// App Runner's default port for images and code.
pub const DEFAULT_PORT: &str = "8080";
/// App Runner's default CPU, in its unit-less form (1 vCPU).
pub const DEFAULT_CPU: &str = "1024";
/// App Runner's default memory, in its unit-less form (2 GB).
pub const DEFAULT_MEMORY: &str = "2048";

/// App Runner's documented health check defaults: TCP, path `/`, 5 s interval, 2 s timeout,
/// healthy after 1 success, unhealthy after 5 failures.
pub fn default_health_check() -> HealthCheckConfiguration {
    HealthCheckConfiguration {
        protocol: Some("TCP".into()),
        path: Some("/".into()),
        interval: Some(5),
        timeout: Some(2),
        healthy_threshold: Some(1),
        unhealthy_threshold: Some(5),
    }
}

/// App Runner's default for `autoDeploymentsEnabled`: false for ECR Public images, true otherwise.
pub fn default_auto_deployments(source: &SourceConfiguration) -> bool {
    source
        .image_repository
        .as_ref()
        .is_none_or(|i| i.image_repository_type != "ECR_PUBLIC")
}

/// CPU in App Runner's unit-less form: `1 vCPU` becomes `1024`, `0.25 vCPU` becomes `256`.
pub fn normalize_cpu(cpu: &str) -> String {
    match cpu.trim().strip_suffix("vCPU").map(str::trim) {
        Some(v) => v
            .parse::<f64>()
            .map(|v| format!("{}", (v * 1024.0).round() as i64))
            .unwrap_or_else(|_| cpu.to_string()),
        None => cpu.trim().to_string(),
    }
}

/// Memory in App Runner's unit-less form (MB): `2 GB` becomes `2048`, `0.5 GB` becomes `512`.
pub fn normalize_memory(memory: &str) -> String {
    match memory.trim().strip_suffix("GB").map(str::trim) {
        Some(v) => v
            .parse::<f64>()
            .map(|v| format!("{}", (v * 1024.0).round() as i64))
            .unwrap_or_else(|_| memory.to_string()),
        None => memory.trim().to_string(),
    }
}

/// The App Runner service name for a resource: `spec.serviceName`, else `metadata.name`.
pub fn service_name(spec: &AppRunnerServiceSpec, resource_name: &str) -> String {
    spec.service_name
        .clone()
        .unwrap_or_else(|| resource_name.to_string())
}

/// Whether `name` is a valid App Runner service name: 4 to 40 letters, digits, hyphens and
/// underscores, starting with a letter or digit.
pub fn valid_service_name(name: &str) -> bool {
    let mut chars = name.chars();
    (4..=40).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The create request for a resource, or why it cannot be created.
pub fn create_request(
    spec: &AppRunnerServiceSpec,
    owner: &Owner<'_>,
) -> std::result::Result<CreateRequest, String> {
    let service_name = service_name(spec, owner.name);
    if !valid_service_name(&service_name) {
        return Err(format!(
            "{service_name:?} is not a valid App Runner service name (4 to 40 letters, digits, hyphens \
             and underscores, starting with a letter or digit); set spec.serviceName"
        ));
    }
    let mut tags: Vec<Tag> = spec.tags.iter().filter(|t| t.key != OWNER_TAG).cloned().collect();
    tags.push(Tag {
        key: OWNER_TAG.into(),
        value: Some(owner.tag_value()),
    });
    tags.sort();
    Ok(CreateRequest {
        service_name,
        tags,
        encryption_configuration: spec.encryption_configuration.clone(),
        request: AppRunnerRequest::from_spec(spec),
    })
}

impl crate::plan::Request for AppRunnerRequest {
    fn digest(&self) -> String {
        AppRunnerRequest::digest(self)
    }
    fn fields(&self) -> Vec<String> {
        AppRunnerRequest::fields(self)
    }
    fn clearing(self, applied: &[String]) -> Self {
        AppRunnerRequest::clearing(self, applied)
    }
}
