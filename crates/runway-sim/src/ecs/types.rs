//! The ECS Express Mode request and configuration shapes, with the defaults AWS fills in and the
//! validation AWS applies. Field names follow botocore's `ecs/2014-11-13` model exactly.
//!
//! A request flows `*Input` -> [`validate_config`] -> [`ExpressConfig::merged`] (update) ->
//! [`ExpressConfig::with_defaults`] -> a new service revision.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::wire::AwsError;

/// `ExpressGatewayContainer`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// The image; required on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Defaults to 80.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i64>,
    /// Defaults to a log group named after the cluster and service, prefix `ecs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_logs_configuration: Option<LogsConfiguration>,
    /// Private registry credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RepositoryCredentials>,
    /// The container command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Vec<KeyValuePair>>,
    /// Secrets, by reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<Secret>>,
}

/// `ExpressGatewayServiceAwsLogsConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsConfiguration {
    /// The CloudWatch Logs group.
    pub log_group: String,
    /// The stream prefix.
    pub log_stream_prefix: String,
}

/// `ExpressGatewayRepositoryCredentials`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCredentials {
    /// The secret holding the registry credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_parameter: Option<String>,
}

/// `KeyValuePair`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyValuePair {
    /// Variable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Variable value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `Secret`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// Variable name.
    pub name: String,
    /// Secrets Manager or SSM ARN.
    pub value_from: String,
}

/// `ExpressGatewayServiceNetworkConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    /// Security group IDs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    /// Subnet IDs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<String>>,
}

/// `ExpressGatewayScalingTarget`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingTarget {
    /// Defaults to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_task_count: Option<i64>,
    /// Defaults to 20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_task_count: Option<i64>,
    /// Defaults to `AVERAGE_CPU`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_scaling_metric: Option<String>,
    /// Defaults to 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_scaling_target_value: Option<i64>,
}

/// `Tag`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// Tag key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Tag value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The configuration of one service revision (`ExpressGatewayServiceConfiguration` without the
/// members the simulator derives: revision ARN, ingress paths and creation time).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressConfig {
    /// Task execution role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// Task role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// Customer task definition, or the one ECS manages for the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// CPU units, default `256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory in MiB, default `512`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// `X86_64` (default) or `ARM64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<String>,
    /// Subnets (default: the default VPC's) and the requested security groups (ECS adds its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
    /// Default `/` (the developer guide; the API model text says `/ping`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    /// The application container, absent with a customer task definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_container: Option<Container>,
    /// Auto scaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_target: Option<ScalingTarget>,
}

/// `CreateExpressGatewayServiceRequest`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    /// Required.
    pub infrastructure_role_arn: Option<String>,
    /// Generated when absent.
    pub service_name: Option<String>,
    /// Defaults to `default`.
    pub cluster: Option<String>,
    /// Tags.
    pub tags: Option<Vec<Tag>>,
    /// Everything that makes up the first revision.
    #[serde(flatten)]
    pub config: ExpressConfig,
}

/// `UpdateExpressGatewayServiceRequest`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInput {
    /// Required.
    pub service_arn: Option<String>,
    /// The members to change; unset members keep their current values.
    #[serde(flatten)]
    pub config: ExpressConfig,
}

const FARGATE_CPU: &[&str] = &["256", "512", "1024", "2048", "4096", "8192", "16384"];
const SCALING_METRICS: &[&str] = &["AVERAGE_CPU", "AVERAGE_MEMORY", "REQUEST_COUNT_PER_TARGET"];
const CPU_ARCHITECTURES: &[&str] = &["X86_64", "ARM64"];

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterException", message)
}

/// Checks the members of a create or update request the way ECS does.
pub fn validate_config(config: &ExpressConfig) -> Result<(), AwsError> {
    if config.task_definition_arn.is_some() {
        let conflicting: Vec<&str> = [
            ("primaryContainer", config.primary_container.is_some()),
            ("executionRoleArn", config.execution_role_arn.is_some()),
            ("taskRoleArn", config.task_role_arn.is_some()),
            ("cpu", config.cpu.is_some()),
            ("memory", config.memory.is_some()),
            ("cpuArchitecture", config.cpu_architecture.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        if !conflicting.is_empty() {
            return Err(invalid(format!(
                "taskDefinitionArn cannot be specified together with {}.",
                conflicting.join(", ")
            )));
        }
    }
    if let Some(cpu) = &config.cpu
        && !FARGATE_CPU.contains(&cpu.as_str())
    {
        return Err(invalid(format!(
            "Invalid 'cpu' setting for task. Valid values are {}.",
            FARGATE_CPU.join(", ")
        )));
    }
    if let Some(memory) = &config.memory
        && memory.parse::<u32>().map_or(true, |m| m == 0)
    {
        return Err(invalid(format!(
            "Invalid 'memory' setting for task: {memory:?} is not a number of MiB."
        )));
    }
    if let Some(arch) = &config.cpu_architecture
        && !CPU_ARCHITECTURES.contains(&arch.as_str())
    {
        return Err(invalid(format!("Invalid cpuArchitecture: {arch}.")));
    }
    if let Some(path) = &config.health_check_path
        && !path.starts_with('/')
    {
        return Err(invalid("healthCheckPath must start with a forward slash."));
    }
    if let Some(container) = &config.primary_container {
        if container.image.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("primaryContainer.image must be specified."));
        }
        if let Some(port) = container.container_port
            && !(1..=65535).contains(&port)
        {
            return Err(invalid(format!(
                "primaryContainer.containerPort must be between 1 and 65535, got {port}."
            )));
        }
    }
    if let Some(scaling) = &config.scaling_target {
        if let Some(metric) = &scaling.auto_scaling_metric
            && !SCALING_METRICS.contains(&metric.as_str())
        {
            return Err(invalid(format!("Invalid autoScalingMetric: {metric}.")));
        }
        if let (Some(min), Some(max)) = (scaling.min_task_count, scaling.max_task_count)
            && min > max
        {
            return Err(invalid(format!(
                "minTaskCount ({min}) cannot be greater than maxTaskCount ({max})."
            )));
        }
        if scaling.min_task_count.is_some_and(|n| n < 0) || scaling.max_task_count.is_some_and(|n| n < 1) {
            return Err(invalid(
                "minTaskCount must be at least 0 and maxTaskCount at least 1.",
            ));
        }
        if let Some(target) = scaling.auto_scaling_target_value
            && target < 1
        {
            return Err(invalid("autoScalingTargetValue must be positive."));
        }
    }
    Ok(())
}

/// The memory sizes (MiB) Fargate accepts for a CPU size, from the ECS developer guide's table
/// (docs/aws-behaviour.md E20).
fn fargate_memory(cpu: u32) -> Option<(u32, u32, u32)> {
    // (smallest, largest, step); 256 CPU units also take 512 MiB, below its 1024 step.
    match cpu {
        256 => Some((1024, 2048, 1024)),
        512 => Some((1024, 4096, 1024)),
        1024 => Some((2048, 8192, 1024)),
        2048 => Some((4096, 16384, 1024)),
        4096 => Some((8192, 30720, 1024)),
        8192 => Some((16384, 61440, 4096)),
        16384 => Some((32768, 122880, 8192)),
        _ => None,
    }
}

/// Whether Fargate runs a task of `cpu` units and `memory` MiB.
pub fn fargate_pair_exists(cpu: u32, memory: u32) -> bool {
    if cpu == 256 && memory == 512 {
        return true;
    }
    fargate_memory(cpu).is_some_and(|(low, high, step)| {
        (low..=high).contains(&memory) && (memory - low).is_multiple_of(step)
    })
}

/// Checks the task size a configuration ends up with (defaults filled in, updates merged): ECS
/// registers a Fargate task definition from it and refuses a pair Fargate does not offer.
pub fn validate_fargate_size(config: &ExpressConfig) -> Result<(), AwsError> {
    let (Some(cpu), Some(memory)) = (&config.cpu, &config.memory) else {
        return Ok(());
    };
    let pair = cpu.parse::<u32>().ok().zip(memory.parse::<u32>().ok());
    if pair.is_some_and(|(c, m)| fargate_pair_exists(c, m)) {
        return Ok(());
    }
    Err(invalid(format!(
        "No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. See the \
         Amazon ECS documentation for the valid values."
    )))
}

/// The most tags a resource can have, and a request can carry (`ecs Tag`: "Maximum number of tags
/// per resource - 50"; the `Tags` list shape has `max: 50`). Keys with the `aws:` prefix and the
/// managed tag ECS adds itself (docs/aws-behaviour.md E19) do not count.
pub const MAX_TAGS: usize = 50;

/// Whether a tag key or value has the prefix AWS reserves: `aws:` in any upper or lower case
/// combination (`ecs Tag`).
pub fn reserved_prefix(text: &str) -> bool {
    text.get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// Whether every character is in the `TagKey`/`TagValue` pattern `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`.
/// NB: `char::is_alphabetic` is Unicode's Alphabetic property, a superset of `\p{L}` by a few
/// letter-like numbers and combining marks; the simulator accepts those few rather than carry a
/// Unicode table. `\p{Z}` is White_Space without the control characters (tab, newline…).
fn tag_pattern(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_alphabetic()
            || c.is_numeric()
            || (c.is_whitespace() && !c.is_control())
            || "_.:/=+-@".contains(c)
    })
}

/// Checks one tag key the way ECS does, for TagResource, UntagResource and create: 1 to 128
/// characters (Unicode characters, as the model counts them), the model's pattern, and not the
/// reserved `aws:` prefix.
pub fn validate_tag_key(key: Option<&str>) -> Result<&str, AwsError> {
    let key = match key {
        Some(key) if (1..=128).contains(&key.chars().count()) => key,
        _ => return Err(invalid("Tag keys must be 1 to 128 characters long.")),
    };
    if !tag_pattern(key) {
        return Err(invalid(format!(
            "Tag key {key:?} may only contain letters, numbers, spaces and _ . : / = + - @."
        )));
    }
    if reserved_prefix(key) {
        return Err(invalid(format!(
            "Tag key {key:?} uses the aws: prefix, which is reserved for AWS use."
        )));
    }
    Ok(key)
}

/// Checks a tag list the way ECS does on create and TagResource: at most [`MAX_TAGS`] in the request,
/// each key valid ([`validate_tag_key`]), each value at most 256 characters of the model's pattern
/// and without the reserved `aws:` prefix.
pub fn validate_tags(tags: &[Tag]) -> Result<(), AwsError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid("A resource can have at most 50 tags."));
    }
    for tag in tags {
        validate_tag_key(tag.key.as_deref())?;
        let Some(value) = tag.value.as_deref() else {
            continue;
        };
        if value.chars().count() > 256 {
            return Err(invalid("Tag values must be at most 256 characters long."));
        }
        if !tag_pattern(value) {
            return Err(invalid(format!(
                "Tag value {value:?} may only contain letters, numbers, spaces and _ . : / = + - @."
            )));
        }
        if reserved_prefix(value) {
            return Err(invalid(format!(
                "Tag value {value:?} uses the aws: prefix, which is reserved for AWS use."
            )));
        }
    }
    Ok(())
}

/// What the defaults of one service depend on.
#[derive(Clone, Debug)]
pub struct DefaultsContext<'a> {
    /// Region of the service.
    pub region: &'a str,
    /// Account of the service.
    pub account: &'a str,
    /// Cluster name.
    pub cluster: &'a str,
    /// Service name.
    pub service_name: &'a str,
    /// The revision number, which versions the managed task definition.
    pub revision: u64,
}

/// A stable fake resource ID (`subnet-…`) for the default VPC of a region and account.
fn default_vpc_id(prefix: &str, ctx: &DefaultsContext<'_>, salt: &str) -> String {
    let digest = Sha256::digest(format!("{}/{}/{salt}", ctx.region, ctx.account));
    format!("{prefix}-{}", &hex::encode(digest)[..17])
}

impl ExpressConfig {
    /// The configuration an update produces: members the update sets replace the current ones,
    /// members it leaves unset keep their values (the shared-responsibility model). Nested
    /// structures merge member by member. A task definition replaces the managed container
    /// settings, and a primary container replaces a customer task definition.
    pub fn merged(&self, update: ExpressConfig) -> ExpressConfig {
        let mut next = self.clone();
        if update.task_definition_arn.is_some() {
            next.primary_container = None;
            next.execution_role_arn = None;
            next.task_role_arn = None;
            next.cpu = None;
            next.memory = None;
            next.cpu_architecture = None;
            next.task_definition_arn = update.task_definition_arn;
        } else if update.primary_container.is_some() && next.primary_container.is_none() {
            // Leaving a customer task definition: ECS manages a new one.
            next.task_definition_arn = None;
        }
        if let Some(container) = update.primary_container {
            let old = next.primary_container.take().unwrap_or_default();
            next.primary_container = Some(Container {
                image: container.image.or(old.image),
                container_port: container.container_port.or(old.container_port),
                aws_logs_configuration: container.aws_logs_configuration.or(old.aws_logs_configuration),
                repository_credentials: container.repository_credentials.or(old.repository_credentials),
                command: container.command.or(old.command),
                environment: container.environment.or(old.environment),
                secrets: container.secrets.or(old.secrets),
            });
        }
        if let Some(network) = update.network_configuration {
            let old = next.network_configuration.take().unwrap_or_default();
            next.network_configuration = Some(NetworkConfiguration {
                security_groups: network.security_groups.or(old.security_groups),
                subnets: network.subnets.or(old.subnets),
            });
        }
        if let Some(scaling) = update.scaling_target {
            let old = next.scaling_target.take().unwrap_or_default();
            next.scaling_target = Some(ScalingTarget {
                min_task_count: scaling.min_task_count.or(old.min_task_count),
                max_task_count: scaling.max_task_count.or(old.max_task_count),
                auto_scaling_metric: scaling.auto_scaling_metric.or(old.auto_scaling_metric),
                auto_scaling_target_value: scaling
                    .auto_scaling_target_value
                    .or(old.auto_scaling_target_value),
            });
        }
        next.execution_role_arn = update.execution_role_arn.or(next.execution_role_arn);
        next.task_role_arn = update.task_role_arn.or(next.task_role_arn);
        next.cpu = update.cpu.or(next.cpu);
        next.memory = update.memory.or(next.memory);
        next.cpu_architecture = update.cpu_architecture.or(next.cpu_architecture);
        next.health_check_path = update.health_check_path.or(next.health_check_path);
        next
    }

    /// Fills in every member that ECS fills in when the request leaves it out.
    pub fn with_defaults(mut self, ctx: &DefaultsContext<'_>) -> ExpressConfig {
        let managed = self.primary_container.is_some();
        if managed {
            // NB: the ECS developer guide, seed 003 and Terraform PR #47919 say 1024 and 2048; the
            // API model text says 256 and 512 (docs/aws-behaviour.md E13). The newest evidence wins.
            self.cpu.get_or_insert_with(|| "1024".to_string());
            self.memory.get_or_insert_with(|| "2048".to_string());
            self.cpu_architecture.get_or_insert_with(|| "X86_64".to_string());
            // NB: the managed task definition is versioned by the revision, like a new
            // RegisterTaskDefinition call per deployment.
            self.task_definition_arn = Some(format!(
                "arn:aws:ecs:{}:{}:task-definition/{}-{}:{}",
                ctx.region, ctx.account, ctx.cluster, ctx.service_name, ctx.revision
            ));
            if let Some(container) = self.primary_container.as_mut() {
                container.container_port.get_or_insert(80);
                container
                    .aws_logs_configuration
                    .get_or_insert_with(|| LogsConfiguration {
                        log_group: format!("/aws/ecs/{}/{}", ctx.cluster, ctx.service_name),
                        log_stream_prefix: "ecs".to_string(),
                    });
            }
        }
        if !managed && let Some(td) = self.task_definition_arn.as_mut() {
            // NB: an ARN without a revision names the family's latest ACTIVE revision, as for
            // classic CreateService; ECS reports the revision it resolved. The simulator keeps no
            // task definitions, so the latest is always revision 1 (docs/aws-behaviour.md E32).
            let family = td.rsplit_once("task-definition/").map_or("", |(_, f)| f);
            if !family.is_empty() && !family.contains(':') {
                td.push_str(":1");
            }
        }
        self.health_check_path.get_or_insert_with(|| "/".to_string());
        let network = self.network_configuration.get_or_insert_with(Default::default);
        network.subnets.get_or_insert_with(|| {
            vec![
                default_vpc_id("subnet", ctx, "a"),
                default_vpc_id("subnet", ctx, "b"),
            ]
        });
        // NB: no default security group: the one ECS creates for the service is added when the
        // configuration is reported (docs/aws-behaviour.md E1), so a request without groups
        // reports exactly that one.
        let scaling = self.scaling_target.get_or_insert_with(Default::default);
        scaling.min_task_count.get_or_insert(1);
        scaling.max_task_count.get_or_insert(20);
        scaling
            .auto_scaling_metric
            .get_or_insert_with(|| "AVERAGE_CPU".to_string());
        scaling.auto_scaling_target_value.get_or_insert(60);
        self
    }

    /// The desired task count this configuration asks for.
    pub fn desired_count(&self) -> i64 {
        self.scaling_target
            .as_ref()
            .and_then(|s| s.min_task_count)
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> DefaultsContext<'static> {
        DefaultsContext {
            region: "us-east-1",
            account: "123456789012",
            cluster: "default",
            service_name: "web",
            revision: 1,
        }
    }

    fn container(image: &str) -> Container {
        Container {
            image: Some(image.to_string()),
            ..Container::default()
        }
    }

    #[test]
    fn defaults_fill_every_member_ecs_fills() {
        let config = ExpressConfig {
            primary_container: Some(container("nginx")),
            ..ExpressConfig::default()
        }
        .with_defaults(&ctx());
        assert_eq!(config.cpu.as_deref(), Some("1024"));
        assert_eq!(config.memory.as_deref(), Some("2048"));
        assert_eq!(config.health_check_path.as_deref(), Some("/"));
        let container = config.primary_container.as_ref().unwrap();
        assert_eq!(container.container_port, Some(80));
        assert_eq!(
            container
                .aws_logs_configuration
                .as_ref()
                .unwrap()
                .log_stream_prefix,
            "ecs"
        );
        let scaling = config.scaling_target.as_ref().unwrap();
        assert_eq!(scaling.auto_scaling_metric.as_deref(), Some("AVERAGE_CPU"));
        assert_eq!(scaling.auto_scaling_target_value, Some(60));
        assert_eq!(config.network_configuration.unwrap().subnets.unwrap().len(), 2);
    }

    #[test]
    fn update_keeps_members_it_leaves_unset() {
        let current = ExpressConfig {
            primary_container: Some(Container {
                environment: Some(vec![KeyValuePair {
                    name: Some("A".into()),
                    value: Some("1".into()),
                }]),
                ..container("nginx:1")
            }),
            cpu: Some("1024".into()),
            ..ExpressConfig::default()
        };
        let next = current.merged(ExpressConfig {
            primary_container: Some(container("nginx:2")),
            ..ExpressConfig::default()
        });
        let next_container = next.primary_container.unwrap();
        assert_eq!(next_container.image.as_deref(), Some("nginx:2"));
        assert_eq!(next_container.environment.unwrap().len(), 1);
        assert_eq!(next.cpu.as_deref(), Some("1024"));
    }

    #[test]
    fn a_task_definition_replaces_the_managed_container() {
        let current = ExpressConfig {
            primary_container: Some(container("nginx")),
            cpu: Some("512".into()),
            ..ExpressConfig::default()
        };
        let next = current.merged(ExpressConfig {
            task_definition_arn: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1".into()),
            ..ExpressConfig::default()
        });
        assert!(next.primary_container.is_none());
        assert!(next.cpu.is_none());
    }

    #[test]
    fn a_task_definition_without_a_revision_resolves_to_one() {
        let family = ExpressConfig {
            task_definition_arn: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web".into()),
            ..ExpressConfig::default()
        };
        assert_eq!(
            family.with_defaults(&ctx()).task_definition_arn.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1")
        );
        let pinned = ExpressConfig {
            task_definition_arn: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7".into()),
            ..ExpressConfig::default()
        };
        assert_eq!(
            pinned.with_defaults(&ctx()).task_definition_arn.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")
        );
    }

    #[test]
    fn only_the_fargate_task_sizes_exist() {
        for (cpu, memory) in [
            (256, 512),
            (256, 2048),
            (512, 4096),
            (1024, 2048),
            (1024, 8192),
            (2048, 16384),
            (4096, 30720),
            (8192, 20480),
            (8192, 61440),
            (16384, 40960),
            (16384, 122880),
        ] {
            assert!(fargate_pair_exists(cpu, memory), "{cpu}/{memory}");
        }
        for (cpu, memory) in [
            (256, 768),
            (256, 4096),
            (512, 512),
            (1024, 1024),
            (1024, 2500),
            (2048, 2048),
            (4096, 31744),
            (8192, 17408),
            (16384, 36864),
            (300, 1024),
        ] {
            assert!(!fargate_pair_exists(cpu, memory), "{cpu}/{memory}");
        }
        let config = |cpu: &str, memory: &str| ExpressConfig {
            cpu: Some(cpu.into()),
            memory: Some(memory.into()),
            ..ExpressConfig::default()
        };
        assert!(validate_fargate_size(&config("512", "1024")).is_ok());
        let err = validate_fargate_size(&config("512", "512")).unwrap_err();
        assert_eq!(
            err.message,
            "No Fargate configuration exists for given values: 512 CPU, 512 memory. See the Amazon \
             ECS documentation for the valid values."
        );
        assert!(validate_fargate_size(&ExpressConfig::default()).is_ok());
    }

    #[test]
    fn tags_follow_the_model_pattern_lengths_and_reserved_prefix() {
        let tag = |key: &str, value: &str| Tag {
            key: Some(key.to_string()),
            value: Some(value.to_string()),
        };
        for good in [
            tag("runway.dev/owner", "shop/web"),
            tag("Équipe 日本 _.:/=+-@", "café ①"),
            tag(&"é".repeat(128), &"v".repeat(256)),
            tag("awsome", ""),
        ] {
            assert!(validate_tags(std::slice::from_ref(&good)).is_ok(), "{good:?}");
        }
        assert!(
            validate_tags(&[Tag {
                key: Some("no-value".into()),
                value: None
            }])
            .is_ok()
        );
        for bad in [
            tag("", "a"),
            tag(&"k".repeat(129), "a"),
            tag("k", &"v".repeat(257)),
            tag("aws:k", "a"),
            tag("AwS:k", "a"),
            tag("k", "AWS:v"),
            tag("k#", "a"),
            tag("k", "a\tb"),
            tag("k", "a,b"),
        ] {
            let err = validate_tags(std::slice::from_ref(&bad)).unwrap_err();
            assert_eq!(err.code, "InvalidParameterException", "{bad:?}");
        }
        let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate_tags(&many).is_err());
        assert!(validate_tags(&many[..50]).is_ok());
    }

    #[test]
    fn validation_rejects_what_ecs_rejects() {
        let conflicting = ExpressConfig {
            task_definition_arn: Some("td".into()),
            primary_container: Some(container("nginx")),
            ..ExpressConfig::default()
        };
        assert_eq!(
            validate_config(&conflicting).unwrap_err().code,
            "InvalidParameterException"
        );
        let bad_cpu = ExpressConfig {
            cpu: Some("300".into()),
            ..ExpressConfig::default()
        };
        assert!(validate_config(&bad_cpu).is_err());
        let bad_scaling = ExpressConfig {
            scaling_target: Some(ScalingTarget {
                min_task_count: Some(5),
                max_task_count: Some(2),
                ..ScalingTarget::default()
            }),
            ..ExpressConfig::default()
        };
        assert!(validate_config(&bad_scaling).is_err());
        assert!(validate_config(&ExpressConfig::default()).is_ok());
    }
}
