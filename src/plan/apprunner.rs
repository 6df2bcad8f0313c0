//! Decisions for an `AppRunnerService`: the canonical desired request, its digest, drift against what
//! App Runner reports, and the next step.
//!
//! Data flow: `AppRunnerRequest::from_spec` → `digest()` (compared with `status.lastAppliedHash`) →
//! [`plan`] with the described service, the operation runway follows and the newest operation → a
//! [`Plan`] that the controller carries out. App Runner runs one asynchronous operation at a time, so
//! every rule that would send something first checks that nothing is in flight.

use serde::{Deserialize, Serialize};

pub use self::observed::{ObservedOperation, ObservedService};
use super::{OWNER_TAG, owner};
use crate::api::apprunner::{
    AppRunnerServiceSpec, AppRunnerServiceStatus, EncryptionConfiguration, HealthCheckConfiguration,
    InstanceConfiguration, NetworkConfiguration, ObservabilityConfiguration, SourceConfiguration,
};
use crate::api::common::Tag;

pub mod decide;
pub mod observed;

/// The `operationStatus` runway records for an operation it has just started and not yet listed.
pub const STARTED: &str = "PENDING";

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
        super::digest(&self.without_defaults())
    }

    /// The request with CPU and memory normalized and every documented default removed.
    pub fn without_defaults(&self) -> Self {
        let mut c = self.clone();
        let source = &mut c.source_configuration;
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
        if c.health_check_configuration.as_ref() == Some(&Default::default()) {
            c.health_check_configuration = None;
        }
        if let Some(n) = c.network_configuration.as_mut() {
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

/// The next deletion step, from the service's status (`None`: not found). A service busy with any
/// operation (its own delete included) is waited for: App Runner refuses a delete meanwhile.
pub fn delete_step(status: Option<&str>) -> super::DeleteStep {
    match status {
        None | Some("DELETED") => super::DeleteStep::Gone,
        Some("OPERATION_IN_PROGRESS") => super::DeleteStep::Wait,
        Some(_) => super::DeleteStep::Delete,
    }
}

pub use super::{Ownership, ownership};

/// The create request for a resource, or why it cannot be created.
pub fn create_request(
    spec: &AppRunnerServiceSpec,
    namespace: &str,
    name: &str,
) -> std::result::Result<CreateRequest, String> {
    let service_name = service_name(spec, name);
    if !valid_service_name(&service_name) {
        return Err(format!(
            "{service_name:?} is not a valid App Runner service name (4 to 40 letters, digits, hyphens \
             and underscores, starting with a letter or digit); set spec.serviceName"
        ));
    }
    let mut tags: Vec<Tag> = spec.tags.iter().filter(|t| t.key != OWNER_TAG).cloned().collect();
    tags.push(Tag {
        key: OWNER_TAG.into(),
        value: Some(owner(namespace, name)),
    });
    tags.sort();
    Ok(CreateRequest {
        service_name,
        tags,
        encryption_configuration: spec.encryption_configuration.clone(),
        request: AppRunnerRequest::from_spec(spec),
    })
}

/// Why an UpdateService is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateCause {
    /// The spec differs from the last applied request.
    SpecChanged,
    /// App Runner reports these spec-set fields differently from the spec (a change outside runway).
    Drift(Vec<String>),
    /// The service is CREATE_FAILED; App Runner's documented recovery is to rebuild it with
    /// UpdateService once the parameters are fixed.
    Rebuild,
    /// The last update rolled back and `spec.redeployToken` changed: send the spec again.
    Retry,
}

/// What to do next for an App Runner service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Call CreateService.
    Create,
    /// Call UpdateService with the desired request.
    Update {
        /// Why.
        cause: UpdateCause,
    },
    /// Call PauseService.
    Pause,
    /// Call ResumeService.
    Resume,
    /// Call StartDeployment.
    Redeploy,
    /// An operation is in flight; poll again later.
    Wait {
        /// PascalCase reason.
        reason: &'static str,
        /// Detail.
        message: String,
    },
    /// Stop until the spec changes.
    Stalled {
        /// PascalCase reason.
        reason: &'static str,
        /// Detail.
        message: String,
    },
    /// Nothing to do; the service is settled.
    Ready {
        /// PascalCase reason: `Ready`, or `Paused` for a service paused as the spec asks.
        reason: &'static str,
        /// Detail.
        message: String,
    },
}

/// Operation statuses that mean App Runner is still working.
pub const IN_FLIGHT: &[&str] = &["PENDING", "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"];

/// Operation statuses that mean an update or deployment did not deliver its configuration.
pub const UNDONE: &[&str] = &["FAILED", "ROLLBACK_SUCCEEDED", "ROLLBACK_FAILED"];

/// The inputs to [`plan`].
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The resource's spec.
    pub spec: &'a AppRunnerServiceSpec,
    /// The resource's last written status (with a baseline recorded, see [`baseline`]).
    pub status: &'a AppRunnerServiceStatus,
    /// The canonical desired request.
    pub desired: &'a AppRunnerRequest,
    /// The service as DescribeService reports it; `None` when runway knows of none.
    pub service: Option<&'a ObservedService>,
    /// The operation that `status.operationId` names, as ListOperations reports it now.
    pub tracked: Option<&'a ObservedOperation>,
    /// The newest operation on the service.
    pub newest: Option<&'a ObservedOperation>,
    /// Time, resync interval and the reconcile-requested-at annotation.
    pub clock: super::Clock<'a>,
}

/// Whether ListOperations has anything to tell: App Runner runs an operation now
/// (`OPERATION_IN_PROGRESS`), the create failed (the message names its operation), runway follows
/// an operation it has not seen end, or runway has recorded no operation yet. Otherwise the
/// operation in status has ended and ended operations never change, so a settled service costs one
/// read (DescribeService) per resync.
pub fn needs_operations(status: &AppRunnerServiceStatus, service: &ObservedService) -> bool {
    let ended = status
        .operation_status
        .as_deref()
        .is_some_and(|s| s == "SUCCEEDED" || UNDONE.contains(&s));
    matches!(service.status.as_str(), "OPERATION_IN_PROGRESS" | "CREATE_FAILED")
        || status.operation_id.is_none()
        || !ended
}

/// Whether runway should record the desired request as applied without sending it: the status has
/// no `lastAppliedHash` yet (an adopted service, or one found by name after a crash right after
/// CreateService) and App Runner already runs what the spec asks for.
pub fn baseline(
    status: &AppRunnerServiceStatus,
    desired: &AppRunnerRequest,
    service: &ObservedService,
) -> bool {
    status.common.last_applied_hash.is_none()
        && service.status != "DELETED"
        && drift(desired, &service.config).is_empty()
}

/// Decides the next step for an App Runner service.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let PlanInput {
        spec,
        status,
        desired,
        service,
        tracked,
        newest,
        clock,
    } = input;
    let hash = desired.digest();
    let common = &status.common;
    // NB: a rejected request is sent again after its backoff or on a new reconcile-requested-at.
    let failed_before = super::rejection_blocks(common, &hash, &clock);
    let adopted = spec.service_arn.is_some();
    let spec_changed = common.last_applied_hash.as_deref() != Some(hash.as_str());
    let token_changed = spec.redeploy_token.is_some() && spec.redeploy_token != common.last_redeploy_token;

    let service = match service {
        Some(s) if s.status != "DELETED" => s,
        _ if adopted => {
            return Plan::Stalled {
                reason: "AdoptedServiceNotFound",
                message: format!(
                    "spec.serviceArn {} does not name an existing App Runner service",
                    spec.service_arn.as_deref().unwrap_or_default()
                ),
            };
        }
        _ if failed_before => return stalled_again(status),
        _ => return Plan::Create,
    };

    let busy = newest.filter(|op| IN_FLIGHT.contains(&op.status.as_str()));
    if service.status == "OPERATION_IN_PROGRESS" || busy.is_some() {
        let pending = if spec_changed || token_changed {
            "; the spec change waits for it"
        } else {
            ""
        };
        let what = match busy.or(tracked) {
            Some(op) => format!("operation {} ({}) is {}", op.id, op.operation_type, op.status),
            None => format!("service {} is OPERATION_IN_PROGRESS", service.arn),
        };
        return Plan::Wait {
            reason: "OperationInProgress",
            message: format!("{what}{pending}"),
        };
    }

    if service.status == "DELETE_FAILED" {
        return Plan::Stalled {
            reason: "DeleteFailed",
            message: format!(
                "service {} is DELETE_FAILED and can't be recovered; delete this resource to retry the \
                 deletion",
                service.arn
            ),
        };
    }

    if failed_before {
        return stalled_again(status);
    }

    if service.status == "CREATE_FAILED" {
        if spec_changed || token_changed {
            return Plan::Update {
                cause: UpdateCause::Rebuild,
            };
        }
        let op = tracked
            .filter(|op| UNDONE.contains(&op.status.as_str()))
            .or(newest);
        let what = match op {
            Some(op) => format!("operation {} ({}) ended {}", op.id, op.operation_type, op.status),
            None => "the create operation failed".into(),
        };
        return Plan::Stalled {
            reason: "CreateFailed",
            message: format!(
                "service {} is CREATE_FAILED: {what}. The failed service still counts toward the \
                 quota. Read its events and logs in App Runner, fix the spec, and runway rebuilds it \
                 with UpdateService (or change spec.redeployToken to rebuild the same spec)",
                service.arn
            ),
        };
    }

    if let Some(op) = tracked
        && UNDONE.contains(&op.status.as_str())
        && matches!(op.operation_type.as_str(), "UPDATE_SERVICE" | "START_DEPLOYMENT")
        && !spec_changed
    {
        if !token_changed {
            return Plan::Stalled {
                reason: "RolledBack",
                message: format!(
                    "operation {} ({}) ended {}: App Runner kept the previous configuration; change \
                     the spec or spec.redeployToken to try again",
                    op.id, op.operation_type, op.status
                ),
            };
        }
        return if op.operation_type == "START_DEPLOYMENT" && drift(desired, &service.config).is_empty() {
            Plan::Redeploy
        } else {
            Plan::Update {
                cause: UpdateCause::Retry,
            }
        };
    }

    let drifted = drift(desired, &service.config);
    let wants_paused = spec.paused;
    match service.status.as_str() {
        "PAUSED" => {
            if spec_changed || !drifted.is_empty() {
                if wants_paused == Some(false) {
                    return Plan::Resume;
                }
                // NB: App Runner accepts UpdateService on a PAUSED service and keeps it paused
                // (aws/apprunner-roadmap#95, docs/aws-behaviour.md A3).
                return Plan::Update {
                    cause: if spec_changed {
                        UpdateCause::SpecChanged
                    } else {
                        UpdateCause::Drift(drifted)
                    },
                };
            }
            if wants_paused == Some(false) {
                return Plan::Resume;
            }
            let note = if token_changed {
                "; the new redeployToken is deployed when the service is resumed"
            } else {
                ""
            };
            Plan::Ready {
                reason: "Paused",
                message: format!("service {} is PAUSED{note}", service.arn),
            }
        }
        "RUNNING" => {
            if spec_changed {
                return Plan::Update {
                    cause: UpdateCause::SpecChanged,
                };
            }
            if !drifted.is_empty() {
                return Plan::Update {
                    cause: UpdateCause::Drift(drifted),
                };
            }
            if wants_paused == Some(true) {
                return Plan::Pause;
            }
            if token_changed {
                return Plan::Redeploy;
            }
            Plan::Ready {
                reason: "Ready",
                message: match tracked {
                    Some(op) => format!(
                        "service {} is RUNNING; operation {} ({}) is {}",
                        service.arn, op.id, op.operation_type, op.status
                    ),
                    None => format!("service {} is RUNNING", service.arn),
                },
            }
        }
        other => Plan::Wait {
            reason: "UnexpectedStatus",
            message: format!("service {} reports status {other}; waiting", service.arn),
        },
    }
}

fn stalled_again(status: &AppRunnerServiceStatus) -> Plan {
    let (reason, message) = super::rejected_again(&status.common);
    Plan::Stalled { reason, message }
}

/// The fields that the spec sets and App Runner reports differently. Fields the spec leaves unset
/// are never compared: they belong to whoever set them outside runway. CPU, memory and defaults
/// are compared in App Runner's normalized form.
pub fn drift(desired: &AppRunnerRequest, actual: &AppRunnerRequest) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |field: &str, differs: bool| {
        if differs {
            out.push(field.to_string());
        }
    };
    let opt = |want: &Option<String>, have: &Option<String>| want.is_some() && want != have;
    let with_default = |want: &Option<String>, have: &Option<String>, default: &str| {
        want.as_ref()
            .is_some_and(|w| w != have.as_deref().unwrap_or(default))
    };
    let map =
        |want: &std::collections::BTreeMap<String, String>,
         have: &std::collections::BTreeMap<String, String>| { !want.is_empty() && want != have };

    let (ws, hs) = (&desired.source_configuration, &actual.source_configuration);
    if let Some(want) = &ws.image_repository {
        match &hs.image_repository {
            None => check("sourceConfiguration.imageRepository", true),
            Some(have) => {
                check(
                    "sourceConfiguration.imageRepository.imageIdentifier",
                    want.image_identifier != have.image_identifier,
                );
                check(
                    "sourceConfiguration.imageRepository.imageRepositoryType",
                    want.image_repository_type != have.image_repository_type,
                );
                if let Some(wc) = &want.image_configuration {
                    let hc = have.image_configuration.clone().unwrap_or_default();
                    let prefix = "sourceConfiguration.imageRepository.imageConfiguration";
                    check(
                        &format!("{prefix}.port"),
                        with_default(&wc.port, &hc.port, DEFAULT_PORT),
                    );
                    check(
                        &format!("{prefix}.startCommand"),
                        opt(&wc.start_command, &hc.start_command),
                    );
                    check(
                        &format!("{prefix}.runtimeEnvironmentVariables"),
                        map(
                            &wc.runtime_environment_variables,
                            &hc.runtime_environment_variables,
                        ),
                    );
                    check(
                        &format!("{prefix}.runtimeEnvironmentSecrets"),
                        map(&wc.runtime_environment_secrets, &hc.runtime_environment_secrets),
                    );
                }
            }
        }
    }
    if let Some(want) = &ws.code_repository {
        match &hs.code_repository {
            None => check("sourceConfiguration.codeRepository", true),
            Some(have) => {
                let prefix = "sourceConfiguration.codeRepository";
                check(
                    &format!("{prefix}.repositoryUrl"),
                    want.repository_url != have.repository_url,
                );
                check(
                    &format!("{prefix}.sourceCodeVersion"),
                    want.source_code_version != have.source_code_version,
                );
                check(
                    &format!("{prefix}.sourceDirectory"),
                    opt(&want.source_directory, &have.source_directory),
                );
                let (wc, hc) = (&want.code_configuration, &have.code_configuration);
                check(
                    &format!("{prefix}.codeConfiguration.configurationSource"),
                    wc.configuration_source != hc.configuration_source,
                );
                if let Some(wv) = &wc.code_configuration_values {
                    let hv = hc.code_configuration_values.clone().unwrap_or_default();
                    let prefix = format!("{prefix}.codeConfiguration.codeConfigurationValues");
                    check(&format!("{prefix}.runtime"), wv.runtime != hv.runtime);
                    check(
                        &format!("{prefix}.buildCommand"),
                        opt(&wv.build_command, &hv.build_command),
                    );
                    check(
                        &format!("{prefix}.startCommand"),
                        opt(&wv.start_command, &hv.start_command),
                    );
                    check(
                        &format!("{prefix}.port"),
                        with_default(&wv.port, &hv.port, DEFAULT_PORT),
                    );
                    check(
                        &format!("{prefix}.runtimeEnvironmentVariables"),
                        map(
                            &wv.runtime_environment_variables,
                            &hv.runtime_environment_variables,
                        ),
                    );
                    check(
                        &format!("{prefix}.runtimeEnvironmentSecrets"),
                        map(&wv.runtime_environment_secrets, &hv.runtime_environment_secrets),
                    );
                }
            }
        }
    }
    if let Some(want) = ws.auto_deployments_enabled {
        let have = hs
            .auto_deployments_enabled
            .unwrap_or_else(|| default_auto_deployments(hs));
        check("sourceConfiguration.autoDeploymentsEnabled", want != have);
    }
    if let Some(want) = &ws.authentication_configuration {
        let have = hs.authentication_configuration.clone().unwrap_or_default();
        let prefix = "sourceConfiguration.authenticationConfiguration";
        check(
            &format!("{prefix}.accessRoleArn"),
            opt(&want.access_role_arn, &have.access_role_arn),
        );
        check(
            &format!("{prefix}.connectionArn"),
            opt(&want.connection_arn, &have.connection_arn),
        );
    }
    if let Some(want) = &desired.instance_configuration {
        let have = actual.instance_configuration.clone().unwrap_or_default();
        let norm_cpu = |v: &Option<String>| normalize_cpu(v.as_deref().unwrap_or(DEFAULT_CPU));
        let norm_mem = |v: &Option<String>| normalize_memory(v.as_deref().unwrap_or(DEFAULT_MEMORY));
        check(
            "instanceConfiguration.cpu",
            want.cpu.is_some() && norm_cpu(&want.cpu) != norm_cpu(&have.cpu),
        );
        check(
            "instanceConfiguration.memory",
            want.memory.is_some() && norm_mem(&want.memory) != norm_mem(&have.memory),
        );
        check(
            "instanceConfiguration.instanceRoleArn",
            opt(&want.instance_role_arn, &have.instance_role_arn),
        );
    }
    if let Some(want) = &desired.auto_scaling_configuration_arn {
        check(
            "autoScalingConfigurationArn",
            !arn_matches(want, actual.auto_scaling_configuration_arn.as_deref()),
        );
    }
    if let Some(want) = &desired.health_check_configuration {
        let have = actual.health_check_configuration.clone().unwrap_or_default();
        let d = default_health_check();
        let int = |w: Option<i32>, h: Option<i32>, d: Option<i32>| w.is_some() && w != h.or(d);
        check(
            "healthCheckConfiguration.protocol",
            with_default(&want.protocol, &have.protocol, "TCP"),
        );
        check(
            "healthCheckConfiguration.path",
            with_default(&want.path, &have.path, "/"),
        );
        check(
            "healthCheckConfiguration.interval",
            int(want.interval, have.interval, d.interval),
        );
        check(
            "healthCheckConfiguration.timeout",
            int(want.timeout, have.timeout, d.timeout),
        );
        check(
            "healthCheckConfiguration.healthyThreshold",
            int(
                want.healthy_threshold,
                have.healthy_threshold,
                d.healthy_threshold,
            ),
        );
        check(
            "healthCheckConfiguration.unhealthyThreshold",
            int(
                want.unhealthy_threshold,
                have.unhealthy_threshold,
                d.unhealthy_threshold,
            ),
        );
    }
    if let Some(want) = &desired.network_configuration {
        let have = actual.network_configuration.clone().unwrap_or_default();
        if let Some(we) = &want.egress_configuration {
            let he = have.egress_configuration.clone().unwrap_or_default();
            check(
                "networkConfiguration.egressConfiguration.egressType",
                with_default(&we.egress_type, &he.egress_type, "DEFAULT"),
            );
            check(
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
            check(
                "networkConfiguration.ingressConfiguration.isPubliclyAccessible",
                wi != hi,
            );
        }
        check(
            "networkConfiguration.ipAddressType",
            with_default(&want.ip_address_type, &have.ip_address_type, "IPV4"),
        );
    }
    if let Some(want) = &desired.observability_configuration {
        let have = actual.observability_configuration.clone();
        let enabled = have.as_ref().is_some_and(|h| h.observability_enabled);
        check(
            "observabilityConfiguration.observabilityEnabled",
            want.observability_enabled != enabled,
        );
        if let Some(arn) = &want.observability_configuration_arn {
            check(
                "observabilityConfiguration.observabilityConfigurationArn",
                !arn_matches(
                    arn,
                    have.as_ref()
                        .and_then(|h| h.observability_configuration_arn.as_deref()),
                ),
            );
        }
    }
    out
}

/// Whether an ARN App Runner reports is the one the spec names. A spec ARN with only a name
/// (`.../autoscalingconfiguration/high`) means its latest revision, which App Runner reports with
/// the revision and ID appended.
pub fn arn_matches(want: &str, have: Option<&str>) -> bool {
    have.is_some_and(|h| h == want || h.strip_prefix(want).is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests;
