//! Decisions for an `ExpressService`: the canonical desired request, its digest, drift against what
//! AWS reports, and the next step.
//!
//! Data flow: `ExpressRequest::from_spec` (+ `clearing` the fields runway applied earlier and the
//! spec dropped) → `digest()` (compared with `status.lastAppliedHash`) → [`plan`] with the observed
//! service, its current deployment and the rollout runway awaits → a [`Plan`] that the controller
//! carries out.
//!
//! Rules that come from how AWS really behaves (`docs/aws-behaviour.md`): no default is folded away,
//! because the sources disagree on them; security groups that AWS adds itself are never drift; and
//! `Ready` waits until the deployment that carries runway's change has been seen and has succeeded,
//! because AWS reports no deployment right after a create and keeps the old one current for a while
//! after an update.

use serde::Serialize;

pub use self::observed::{Applied, ObservedDeployment, ObservedExpress};
use super::{Clock, rejection_blocks};
use crate::api::common::Tag;
use crate::api::express::{
    CpuArchitecture, ExpressGatewayContainer, ExpressServiceSpec, ExpressServiceStatus, NetworkConfiguration,
    ObservedContainer, ScalingMetric, ScalingTarget, TargetConfiguration,
};

pub use super::{OWNER_TAG, owner};

pub mod decide;
pub mod observed;

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
    /// List fields (from [`CLEARABLE`]) that runway set earlier and the spec no longer sets: the
    /// update sends them empty, which clears them in AWS. Not part of the digest.
    #[serde(skip)]
    pub clear: Vec<String>,
}

/// The list fields that an empty value clears in AWS (UpdateExpressGatewayService replaces a list
/// member that the request sets; it keeps one that the request leaves out).
pub const CLEARABLE: &[&str] = &[
    "primaryContainer.command",
    "primaryContainer.environment",
    "primaryContainer.secrets",
];

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
            clear: Vec::new(),
        }
    }

    /// The request plus the clearing of every [`CLEARABLE`] field in `applied` (the fields runway set
    /// earlier) that this request no longer sets. A field cleared while the spec still names a
    /// primary container only: a task definition replaces the managed container as a whole.
    pub fn clearing(mut self, applied: &[String]) -> Self {
        let sets = self.fields();
        self.clear = if self.primary_container.is_some() {
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

    /// The dotted paths of the fields this request sets, recorded in `status.appliedFields`.
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |name: &str, set: bool| {
            if set {
                out.push(name.to_string());
            }
        };
        add("executionRoleArn", self.execution_role_arn.is_some());
        add("taskRoleArn", self.task_role_arn.is_some());
        add("healthCheckPath", self.health_check_path.is_some());
        add("cpu", self.cpu.is_some());
        add("memory", self.memory.is_some());
        add("cpuArchitecture", self.cpu_architecture.is_some());
        add("taskDefinitionArn", self.task_definition_arn.is_some());
        if let Some(c) = &self.primary_container {
            add("primaryContainer.image", true);
            add("primaryContainer.containerPort", c.container_port.is_some());
            add(
                "primaryContainer.awsLogsConfiguration",
                c.aws_logs_configuration.is_some(),
            );
            add(
                "primaryContainer.repositoryCredentials",
                c.repository_credentials.is_some(),
            );
            add("primaryContainer.command", !c.command.is_empty());
            add("primaryContainer.environment", !c.environment.is_empty());
            add("primaryContainer.secrets", !c.secrets.is_empty());
        }
        if let Some(n) = &self.network_configuration {
            add(
                "networkConfiguration.securityGroups",
                !n.security_groups.is_empty(),
            );
            add("networkConfiguration.subnets", !n.subnets.is_empty());
        }
        add("scalingTarget", self.scaling_target.is_some());
        out
    }

    /// Whether the spec sets no configuration at all (an adopted service managed as is).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The digest stored in `status.lastAppliedHash`, over the request as the spec writes it. No
    /// value is folded into a default: botocore's model text (cpu 256, memory 512, path `/ping`) and
    /// the ECS developer guide (cpu 1024, memory 2048, path `/`) disagree, so writing a value
    /// explicitly is always sent.
    pub fn digest(&self) -> String {
        super::digest(self)
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
    /// A new `redeployToken` in the same edit rides along: the update rolls out new tasks anyway.
    Update {
        /// Fields that drifted.
        drifted: Vec<String>,
    },
    /// AWS already runs what the spec asks for, but runway has no record of applying it (status lost
    /// in a restore or cluster move, a crash between create and the status write, or adoption):
    /// record the spec as applied and send nothing.
    Baseline,
    /// Call ECS UpdateService with forceNewDeployment.
    Redeploy,
    /// AWS is busy; poll again later.
    Wait {
        /// PascalCase reason.
        reason: &'static str,
        /// Detail.
        message: String,
    },
    /// A failure that retrying soon cannot fix; looked at again at the resync interval.
    Stalled {
        /// PascalCase reason.
        reason: &'static str,
        /// Detail with AWS's message.
        message: String,
    },
    /// Nothing to do; the service is ready, and any awaited rollout has succeeded.
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
    /// The canonical desired request, with its clears.
    pub desired: &'a ExpressRequest,
    /// The service as AWS describes it; `None` when runway knows of none.
    pub service: Option<&'a ObservedExpress>,
    /// The service's current deployment.
    pub deployment: Option<&'a ObservedDeployment>,
    /// Time, resync interval and the reconcile-requested-at annotation.
    pub clock: Clock<'a>,
}

/// Decides the next step for an Express service.
pub fn plan(input: PlanInput<'_>) -> Plan {
    let PlanInput {
        spec,
        status,
        desired,
        service,
        deployment,
        clock,
    } = input;
    let hash = desired.digest();
    let blocked = rejection_blocks(&status.common, &hash, &clock);
    let adopted = spec.service_arn.is_some();

    let service = match service {
        Some(s) if s.status_code.as_deref() != Some("INACTIVE") => s,
        gone => {
            if adopted {
                return match gone {
                    Some(s) => Plan::Stalled {
                        reason: "AdoptedServiceInactive",
                        message: format!("the adopted service {} is INACTIVE", s.arn),
                    },
                    None => Plan::Stalled {
                        reason: "AdoptedServiceNotFound",
                        message: format!(
                            "spec.serviceArn {} does not name an existing Express service",
                            spec.service_arn.as_deref().unwrap_or_default()
                        ),
                    },
                };
            }
            return if blocked {
                stalled_again(status)
            } else {
                Plan::Create
            };
        }
    };
    if service.status_code.as_deref() == Some("DRAINING") {
        return Plan::Wait {
            reason: "ServiceDraining",
            message: format!("service {} is DRAINING", service.arn),
        };
    }

    let spec_changed = status.common.last_applied_hash.as_deref() != Some(hash.as_str());
    // NB: a status runway does not know (AWS adds states) counts as still moving, never as done.
    if let Some(d) = deployment
        && (IN_FLIGHT.contains(&d.status.as_str())
            || (d.status != "SUCCESSFUL" && !FAILED.contains(&d.status.as_str())))
    {
        let pending = if spec_changed {
            "; the spec change waits for it"
        } else {
            ""
        };
        return Plan::Wait {
            reason: "RolloutInProgress",
            message: format!("deployment {} is {}{pending}", d.arn, d.status),
        };
    }
    if blocked {
        return stalled_again(status);
    }

    let current = current_configuration(service, deployment);
    if spec_changed || !desired.clear.is_empty() {
        let matches = current.is_some_and(|c| drift(desired, c).is_empty());
        if status.common.last_applied_hash.is_none() && desired.clear.is_empty() && matches {
            return Plan::Baseline;
        }
        return Plan::Update { drifted: vec![] };
    }

    if let Some(wait) = awaited_rollout(status, deployment) {
        return wait;
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

    if let Some(actual) = current {
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

/// While runway awaits a rollout it started (or found), the step that waits for it: AWS has not
/// reported a deployment yet, or reports the one that was current before runway's call, or one of
/// another revision (the controller passes the deployment of the awaited revision when AWS lists
/// one). `None` once the deployment that carries the rollout is at hand: its own status decides.
fn awaited_rollout(status: &ExpressServiceStatus, deployment: Option<&ObservedDeployment>) -> Option<Plan> {
    let awaited = status.awaited_rollout.as_ref()?;
    let what = match &awaited.service_revision_arn {
        Some(rev) => format!("revision {rev}"),
        None => format!("the {} rollout", awaited.cause.to_ascii_lowercase()),
    };
    let Some(d) = deployment else {
        return Some(Plan::Wait {
            reason: "RolloutPending",
            message: format!("waiting for AWS to report the deployment of {what}"),
        });
    };
    let other_revision = matches!(
        (&awaited.service_revision_arn, &d.target_revision),
        (Some(want), Some(have)) if want != have
    );
    if awaited.previous_deployment.as_deref() == Some(d.arn.as_str()) || other_revision {
        return Some(Plan::Wait {
            reason: "RolloutPending",
            message: format!(
                "AWS reports deployment {} of an earlier configuration; waiting for the deployment of \
                 {what}",
                d.arn
            ),
        });
    }
    None
}

fn stalled_again(status: &ExpressServiceStatus) -> Plan {
    let (reason, message) = super::rejected_again(&status.common);
    Plan::Stalled { reason, message }
}

/// The current deployment as the status last recorded it, when describing it again would tell
/// nothing new: runway awaits no rollout, AWS still reports the same `currentDeployment`, and that
/// deployment had ended (`SUCCESSFUL`, `STOPPED` or `ROLLBACK_*`). An ended deployment never changes
/// again, so a settled resource costs one read (DescribeExpressGatewayService) per resync.
pub fn known_ended_deployment(
    status: &ExpressServiceStatus,
    current_deployment: Option<&str>,
) -> Option<ObservedDeployment> {
    let current = current_deployment?;
    let recorded = status.deployment_status.as_deref()?;
    let ended = recorded == "SUCCESSFUL" || FAILED.contains(&recorded);
    if status.awaited_rollout.is_some() || !ended || status.current_deployment.as_deref() != Some(current) {
        return None;
    }
    Some(ObservedDeployment {
        arn: current.to_string(),
        status: recorded.to_string(),
        status_reason: status.deployment_status_reason.clone(),
        target_revision: status.deployment_target_revision.clone(),
    })
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
        opt_differs(&desired.task_definition_arn, &actual.task_definition_arn),
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
        let have = actual.network_configuration.clone().unwrap_or_default();
        if !want.subnets.is_empty() {
            let mut subnets = have.subnets.clone();
            subnets.sort();
            subnets.dedup();
            check("networkConfiguration.subnets", want.subnets != subnets);
        }
        check(
            "networkConfiguration.securityGroups",
            !want
                .security_groups
                .iter()
                .all(|g| have.security_groups.contains(g)),
        );
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
            want.auto_scaling_metric
                .is_some_and(|m| have.auto_scaling_metric.as_deref() != Some(metric_name(m))),
        );
        check(
            "scalingTarget.autoScalingTargetValue",
            int_differs(want.auto_scaling_target_value, have.auto_scaling_target_value),
        );
    }
    out.extend(container);
    out
}

/// AWS's spelling of a scaling metric.
pub fn metric_name(m: ScalingMetric) -> &'static str {
    match m {
        ScalingMetric::AVERAGE_CPU => "AVERAGE_CPU",
        ScalingMetric::AVERAGE_MEMORY => "AVERAGE_MEMORY",
        ScalingMetric::REQUEST_COUNT_PER_TARGET => "REQUEST_COUNT_PER_TARGET",
    }
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

#[cfg(test)]
pub(crate) mod tests;
