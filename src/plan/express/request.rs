//! The desired request for an Express service: the canonical form of the spec
//! ([`ExpressRequest::from_spec`]), the fields runway clears, the digest stored in
//! `status.lastAppliedHash`, and the create request.

use serde::Serialize;

use crate::api::common::Tag;
use crate::api::express::{
    CpuArchitecture, ExpressGatewayContainer, ExpressServiceSpec, NetworkConfiguration, ScalingMetric,
    ScalingTarget,
};
use crate::plan::{OWNER_TAG, Owner};

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
        crate::plan::digest(self)
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
    owner: &Owner<'_>,
) -> std::result::Result<CreateRequest, String> {
    let infrastructure_role_arn = spec
        .infrastructure_role_arn
        .clone()
        .ok_or_else(|| "spec.infrastructureRoleArn is required to create a service".to_string())?;
    let service_name = service_name(spec, owner.name);
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
        value: Some(owner.tag_value()),
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

/// AWS's spelling of a scaling metric.
pub fn metric_name(m: ScalingMetric) -> &'static str {
    match m {
        ScalingMetric::AVERAGE_CPU => "AVERAGE_CPU",
        ScalingMetric::AVERAGE_MEMORY => "AVERAGE_MEMORY",
        ScalingMetric::REQUEST_COUNT_PER_TARGET => "REQUEST_COUNT_PER_TARGET",
    }
}

impl crate::plan::Request for ExpressRequest {
    fn digest(&self) -> String {
        ExpressRequest::digest(self)
    }
    fn fields(&self) -> Vec<String> {
        ExpressRequest::fields(self)
    }
    fn clearing(self, applied: &[String]) -> Self {
        ExpressRequest::clearing(self, applied)
    }
}
