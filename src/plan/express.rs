//! Decisions for an `ExpressService`: the canonical desired request, its digest, drift against what
//! AWS reports, and the next step.
//!
//! Data flow: `ExpressRequest::from_spec` → `digest()` (compared with `status.lastAppliedHash`) →
//! [`plan`] with the observed service and its current deployment → a [`Plan`] that the controller
//! carries out.

use serde::Serialize;

use crate::api::common::Tag;
use crate::api::express::{
    CpuArchitecture, ExpressGatewayContainer, ExpressServiceSpec, ExpressServiceStatus, NetworkConfiguration,
    ScalingMetric, ScalingTarget, TargetConfiguration,
};
use crate::aws::ecs::{ObservedDeployment, ObservedExpress};

pub use super::{OWNER_TAG, owner};

/// The fields of UpdateExpressGatewayService that the spec sets, in canonical order: lists whose order
/// AWS ignores are sorted, so reordering them in the manifest changes nothing.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExpressRequest {
    /// Task execution role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// Task role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// Load balancer health check path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    /// The primary container, with environment and secrets sorted by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_container: Option<ExpressGatewayContainer>,
    /// Subnets and security groups, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
    /// Task CPU units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Task memory in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// CPU architecture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<CpuArchitecture>,
    /// Auto scaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_target: Option<ScalingTarget>,
    /// A task definition to use instead of `primaryContainer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
}

/// Everything CreateExpressGatewayService needs.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateRequest {
    /// The service name (spec.serviceName or metadata.name).
    pub service_name: String,
    /// The cluster, when the spec names one.
    pub cluster: Option<String>,
    /// The infrastructure role.
    pub infrastructure_role_arn: String,
    /// The spec's tags plus runway's owner tag.
    pub tags: Vec<Tag>,
    /// The configuration.
    pub request: ExpressRequest,
}

impl ExpressRequest {
    /// The canonical request for a spec.
    pub fn from_spec(spec: &ExpressServiceSpec) -> Self {
        Self {
            execution_role_arn: spec.execution_role_arn.clone(),
            task_role_arn: spec.task_role_arn.clone(),
            health_check_path: spec.health_check_path.clone(),
            primary_container: spec.primary_container.clone().map(|mut c| {
                c.environment.sort();
                c.secrets.sort();
                c
            }),
            network_configuration: spec.network_configuration.clone().map(|mut n| {
                n.subnets.sort();
                n.security_groups.sort();
                n
            }),
            cpu: spec.cpu.clone(),
            memory: spec.memory.clone(),
            cpu_architecture: spec.cpu_architecture,
            scaling_target: spec.scaling_target.clone(),
            task_definition_arn: spec.task_definition_arn.clone(),
        }
    }

    /// Whether the spec sets no configuration at all (an adopted service managed as is).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The digest stored in `status.lastAppliedHash`. Values equal to AWS's documented defaults are
    /// dropped first, so writing a default explicitly does not cause an update.
    pub fn digest(&self) -> String {
        let mut c = self.clone();
        if let Some(pc) = c.primary_container.as_mut()
            && pc.container_port == Some(80)
        {
            pc.container_port = None;
        }
        if c.health_check_path.as_deref() == Some("/ping") {
            c.health_check_path = None;
        }
        if c.cpu.as_deref() == Some("256") {
            c.cpu = None;
        }
        if c.memory.as_deref() == Some("512") {
            c.memory = None;
        }
        if c.cpu_architecture == Some(CpuArchitecture::X86_64) {
            c.cpu_architecture = None;
        }
        if let Some(s) = c.scaling_target.as_mut() {
            if s.auto_scaling_metric == Some(ScalingMetric::AVERAGE_CPU) {
                s.auto_scaling_metric = None;
            }
            if s.auto_scaling_target_value == Some(60) {
                s.auto_scaling_target_value = None;
            }
        }
        if c.scaling_target.as_ref() == Some(&ScalingTarget::default()) {
            c.scaling_target = None;
        }
        super::digest(&c)
    }
}

/// The AWS service name for a resource: `spec.serviceName`, else `metadata.name`.
pub fn service_name(spec: &ExpressServiceSpec, resource_name: &str) -> String {
    spec.service_name
        .clone()
        .unwrap_or_else(|| resource_name.to_string())
}

/// The create request for a resource, or why it cannot be created.
pub fn create_request(
    spec: &ExpressServiceSpec,
    namespace: &str,
    name: &str,
) -> std::result::Result<CreateRequest, String> {
    let infrastructure_role_arn = spec
        .infrastructure_role_arn
        .clone()
        .ok_or_else(|| "spec.infrastructureRoleArn is required to create a service".to_string())?;
    let service_name = service_name(spec, name);
    if service_name.is_empty()
        || service_name.len() > 255
        || !service_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "{service_name:?} is not a valid ECS service name (letters, numbers, hyphens and underscores, \
             up to 255); set spec.serviceName"
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
        cluster: spec.cluster.clone(),
        infrastructure_role_arn,
        tags,
        request: ExpressRequest::from_spec(spec),
    })
}

/// What to do next for an Express service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Call CreateExpressGatewayService.
    Create,
    /// Call UpdateExpressGatewayService with the desired request. `drifted` lists the fields that AWS
    /// reports differently from the spec when the update corrects drift; it is empty for a spec change.
    Update {
        /// Fields that drifted.
        drifted: Vec<String>,
    },
    /// Call ECS UpdateService with forceNewDeployment.
    Redeploy,
    /// AWS is busy; poll again later.
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
        /// Detail with AWS's message.
        message: String,
    },
    /// Nothing to do; the service is ready.
    Ready {
        /// Detail.
        message: String,
    },
}

/// Deployment statuses that mean a rollout is still moving.
pub const IN_FLIGHT: &[&str] = &[
    "PENDING",
    "IN_PROGRESS",
    "STOP_REQUESTED",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
];

/// Deployment statuses that mean the last rollout did not deliver its configuration.
pub const FAILED: &[&str] = &["STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"];

/// The inputs to [`plan`].
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The resource's spec.
    pub spec: &'a ExpressServiceSpec,
    /// The resource's last written status.
    pub status: &'a ExpressServiceStatus,
    /// The canonical desired request.
    pub desired: &'a ExpressRequest,
    /// The service as AWS describes it; `None` when runway knows of none.
    pub service: Option<&'a ObservedExpress>,
    /// The service's current deployment.
    pub deployment: Option<&'a ObservedDeployment>,
}

/// Decides the next step for an Express service.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let PlanInput {
        spec,
        status,
        desired,
        service,
        deployment,
    } = input;
    let hash = desired.digest();
    let failed_before = status.common.last_failed_hash.as_deref() == Some(hash.as_str());
    let adopted = spec.service_arn.is_some();

    let Some(service) = service else {
        if adopted {
            return Plan::Stalled {
                reason: "AdoptedServiceNotFound",
                message: format!(
                    "spec.serviceArn {} does not name an existing Express service",
                    spec.service_arn.as_deref().unwrap_or_default()
                ),
            };
        }
        if failed_before {
            return stalled_again(status);
        }
        return Plan::Create;
    };

    match service.status_code.as_deref() {
        Some("INACTIVE") if adopted => {
            return Plan::Stalled {
                reason: "AdoptedServiceInactive",
                message: format!("the adopted service {} is INACTIVE", service.arn),
            };
        }
        Some("INACTIVE") => {
            return if failed_before {
                stalled_again(status)
            } else {
                Plan::Create
            };
        }
        Some("DRAINING") => {
            return Plan::Wait {
                reason: "ServiceDraining",
                message: format!("service {} is DRAINING", service.arn),
            };
        }
        _ => {}
    }

    if let Some(d) = deployment
        && IN_FLIGHT.contains(&d.status.as_str())
    {
        let pending = if status.common.last_applied_hash.as_deref() != Some(hash.as_str()) {
            "; the spec change waits for it"
        } else {
            ""
        };
        return Plan::Wait {
            reason: "RolloutInProgress",
            message: format!("deployment {} is {}{pending}", d.arn, d.status),
        };
    }

    if failed_before {
        return stalled_again(status);
    }

    if status.common.last_applied_hash.as_deref() != Some(hash.as_str()) {
        return Plan::Update { drifted: vec![] };
    }

    let token_changed =
        spec.redeploy_token.is_some() && spec.redeploy_token != status.common.last_redeploy_token;
    if token_changed {
        return Plan::Redeploy;
    }

    if let Some(d) = deployment
        && FAILED.contains(&d.status.as_str())
    {
        let reason = if d.status == "STOPPED" {
            "RolloutStopped"
        } else {
            "RolledBack"
        };
        return Plan::Stalled {
            reason,
            message: format!(
                "deployment {} ended {}: {}; change the spec or spec.redeployToken to try again",
                d.arn,
                d.status,
                d.status_reason.as_deref().unwrap_or("no reason given")
            ),
        };
    }

    // The deployment we started must be the one AWS reports, or the rollout has not begun yet.
    let applied_revision = status
        .target_configuration
        .as_ref()
        .and_then(|t| t.service_revision_arn.as_deref());
    if let (Some(applied), Some(d)) = (applied_revision, deployment)
        && d.target_revision.as_deref().is_some_and(|t| t != applied)
        && !service
            .active_configurations
            .iter()
            .any(|c| c.service_revision_arn.as_deref() == Some(applied))
    {
        return Plan::Wait {
            reason: "RolloutPending",
            message: format!("waiting for AWS to start deploying revision {applied}"),
        };
    }

    if let Some(actual) = current_configuration(service, deployment) {
        let drifted = drift(desired, actual);
        if !drifted.is_empty() {
            return Plan::Update { drifted };
        }
    }

    Plan::Ready {
        message: match deployment {
            Some(d) => format!(
                "service {} is ACTIVE; deployment {} is {}",
                service.arn, d.arn, d.status
            ),
            None => format!("service {} is ACTIVE", service.arn),
        },
    }
}

fn stalled_again(status: &ExpressServiceStatus) -> Plan {
    let (reason, message) = super::rejected_again(&status.common);
    Plan::Stalled { reason, message }
}

/// The next deletion step, from the service's status code (`None`: not found).
pub fn delete_step(status_code: Option<&str>) -> super::DeleteStep {
    match status_code {
        None | Some("INACTIVE") => super::DeleteStep::Gone,
        Some("DRAINING") => super::DeleteStep::Wait,
        Some(_) => super::DeleteStep::Delete,
    }
}

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
/// compared: they belong to whoever set them outside runway.
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
        opt_differs(&desired.task_definition_arn, &actual.task_definition_arn),
    );
    if let Some(arch) = desired.cpu_architecture {
        let want = match arch {
            CpuArchitecture::X86_64 => "X86_64",
            CpuArchitecture::ARM64 => "ARM64",
        };
        check(
            "cpuArchitecture",
            actual.cpu_architecture.as_deref().unwrap_or("X86_64") != want,
        );
    }
    if let Some(want) = &desired.primary_container {
        match &actual.primary_container {
            None => check("primaryContainer", true),
            Some(have) => {
                check("primaryContainer.image", want.image != have.image);
                if let Some(port) = want.container_port {
                    check(
                        "primaryContainer.containerPort",
                        port != have.container_port.unwrap_or(80),
                    );
                }
                if want.aws_logs_configuration.is_some() {
                    check(
                        "primaryContainer.awsLogsConfiguration",
                        want.aws_logs_configuration != have.aws_logs_configuration,
                    );
                }
                if want.repository_credentials.is_some() {
                    check(
                        "primaryContainer.repositoryCredentials",
                        want.repository_credentials != have.repository_credentials,
                    );
                }
                if !want.command.is_empty() {
                    check("primaryContainer.command", want.command != have.command);
                }
                if !want.environment.is_empty() {
                    let mut env = have.environment.clone();
                    env.sort();
                    check("primaryContainer.environment", want.environment != env);
                }
                if !want.secrets.is_empty() {
                    let mut secrets = have.secrets.clone();
                    secrets.sort();
                    check("primaryContainer.secrets", want.secrets != secrets);
                }
            }
        }
    }
    if let Some(want) = &desired.network_configuration {
        let have = actual.network_configuration.clone().unwrap_or_default();
        let sorted = |v: &Vec<String>| {
            let mut v = v.clone();
            v.sort();
            v
        };
        if !want.subnets.is_empty() {
            check(
                "networkConfiguration.subnets",
                want.subnets != sorted(&have.subnets),
            );
        }
        if !want.security_groups.is_empty() {
            check(
                "networkConfiguration.securityGroups",
                want.security_groups != sorted(&have.security_groups),
            );
        }
    }
    if let Some(want) = &desired.scaling_target {
        let have = actual.scaling_target.clone().unwrap_or_default();
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
            want.auto_scaling_metric.is_some() && want.auto_scaling_metric != have.auto_scaling_metric,
        );
        check(
            "scalingTarget.autoScalingTargetValue",
            int_differs(want.auto_scaling_target_value, have.auto_scaling_target_value),
        );
    }
    out
}

#[cfg(test)]
mod tests;
