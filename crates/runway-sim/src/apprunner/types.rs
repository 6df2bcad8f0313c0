//! The App Runner request and configuration shapes, the defaults App Runner fills in and the
//! validation it applies. Member names follow botocore's `apprunner/2020-05-15` model (PascalCase).
//!
//! Options serialize as `null`; [`to_wire`] strips the nulls so absent members stay absent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::AwsError;

/// A string-to-string map (`RuntimeEnvironmentVariables`, `RuntimeEnvironmentSecrets`).
pub type StringMap = BTreeMap<String, String>;

/// `SourceConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SourceConfiguration {
    /// A source code repository.
    pub code_repository: Option<CodeRepository>,
    /// A container image repository.
    pub image_repository: Option<ImageRepository>,
    /// Continuous deployment from the source.
    pub auto_deployments_enabled: Option<bool>,
    /// Connection or access role.
    pub authentication_configuration: Option<AuthenticationConfiguration>,
}

/// `CodeRepository`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeRepository {
    /// Repository URL.
    pub repository_url: Option<String>,
    /// Branch.
    pub source_code_version: Option<SourceCodeVersion>,
    /// Build and start settings.
    pub code_configuration: Option<CodeConfiguration>,
    /// Directory within the repository.
    pub source_directory: Option<String>,
}

/// `SourceCodeVersion`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SourceCodeVersion {
    /// `BRANCH`.
    pub r#type: Option<String>,
    /// Branch name.
    pub value: Option<String>,
}

/// `CodeConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeConfiguration {
    /// `REPOSITORY` or `API`.
    pub configuration_source: Option<String>,
    /// Settings when the source is `API`.
    pub code_configuration_values: Option<CodeConfigurationValues>,
}

/// `CodeConfigurationValues`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeConfigurationValues {
    /// Language runtime.
    pub runtime: Option<String>,
    /// Build command.
    pub build_command: Option<String>,
    /// Start command.
    pub start_command: Option<String>,
    /// Listening port.
    pub port: Option<String>,
    /// Environment.
    pub runtime_environment_variables: Option<StringMap>,
    /// Secret references.
    pub runtime_environment_secrets: Option<StringMap>,
}

/// `ImageRepository`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRepository {
    /// Image reference.
    pub image_identifier: Option<String>,
    /// Run settings.
    pub image_configuration: Option<ImageConfiguration>,
    /// `ECR` or `ECR_PUBLIC`.
    pub image_repository_type: Option<String>,
}

/// `ImageConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfiguration {
    /// Environment.
    pub runtime_environment_variables: Option<StringMap>,
    /// Start command.
    pub start_command: Option<String>,
    /// Listening port, default `8080`.
    pub port: Option<String>,
    /// Secret references.
    pub runtime_environment_secrets: Option<StringMap>,
}

/// `AuthenticationConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthenticationConfiguration {
    /// App Runner connection for code repositories.
    pub connection_arn: Option<String>,
    /// Role for private ECR.
    pub access_role_arn: Option<String>,
}

/// `InstanceConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceConfiguration {
    /// CPU units, default `1024`.
    pub cpu: Option<String>,
    /// Memory in MB, default `2048`.
    pub memory: Option<String>,
    /// Instance role.
    pub instance_role_arn: Option<String>,
}

/// `HealthCheckConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthCheckConfiguration {
    /// `TCP` (default) or `HTTP`.
    pub protocol: Option<String>,
    /// HTTP path, default `/`.
    pub path: Option<String>,
    /// Seconds between checks, default 5.
    pub interval: Option<i64>,
    /// Seconds to wait, default 2.
    pub timeout: Option<i64>,
    /// Default 1.
    pub healthy_threshold: Option<i64>,
    /// Default 5.
    pub unhealthy_threshold: Option<i64>,
}

/// `NetworkConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConfiguration {
    /// Outbound traffic.
    pub egress_configuration: Option<EgressConfiguration>,
    /// Inbound traffic.
    pub ingress_configuration: Option<IngressConfiguration>,
    /// `IPV4` (default) or `DUAL_STACK`.
    pub ip_address_type: Option<String>,
}

/// `EgressConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EgressConfiguration {
    /// `DEFAULT` or `VPC`.
    pub egress_type: Option<String>,
    /// Required with `VPC`.
    pub vpc_connector_arn: Option<String>,
}

/// `IngressConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IngressConfiguration {
    /// Default true.
    pub is_publicly_accessible: Option<bool>,
}

/// `ServiceObservabilityConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObservabilityConfiguration {
    /// Required on the wire.
    pub observability_enabled: Option<bool>,
    /// The observability configuration resource.
    pub observability_configuration_arn: Option<String>,
}

/// `EncryptionConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfiguration {
    /// KMS key ARN.
    pub kms_key: Option<String>,
}

/// `Tag`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

/// Everything UpdateService can change: the configuration one operation applies.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceConfig {
    /// The source.
    pub source_configuration: Option<SourceConfiguration>,
    /// Instance size and role.
    pub instance_configuration: Option<InstanceConfiguration>,
    /// Auto scaling configuration ARN.
    pub auto_scaling_configuration_arn: Option<String>,
    /// Health check.
    pub health_check_configuration: Option<HealthCheckConfiguration>,
    /// Networking.
    pub network_configuration: Option<NetworkConfiguration>,
    /// Observability.
    pub observability_configuration: Option<ObservabilityConfiguration>,
}

/// `CreateServiceRequest`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateInput {
    /// Required.
    pub service_name: Option<String>,
    /// Tags.
    pub tags: Option<Vec<Tag>>,
    /// Create-only.
    pub encryption_configuration: Option<EncryptionConfiguration>,
    /// The configuration of the first deployment.
    #[serde(flatten)]
    pub config: ServiceConfig,
}

/// `UpdateServiceRequest`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    /// Required.
    pub service_arn: Option<String>,
    /// The members to change.
    #[serde(flatten)]
    pub config: ServiceConfig,
}

/// A value with every `null` removed, recursively.
pub fn to_wire(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, to_wire(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(to_wire).collect()),
        other => other,
    }
}

/// Merges `patch` onto `base`: objects member by member, everything else (including the
/// environment maps, which are replaced whole) by replacement. `null` leaves the base alone.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (_, Value::Null) => {}
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                let replace_whole = key.starts_with("RuntimeEnvironment");
                match base.get_mut(&key) {
                    Some(slot) if !replace_whole && !slot.is_null() => merge(slot, value),
                    _ => {
                        if !value.is_null() {
                            base.insert(key, value);
                        }
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidRequestException", message)
}

impl ServiceConfig {
    /// The configuration an update produces: members the update sets replace the current ones,
    /// nested structures merge member by member, unset members keep their values.
    pub fn merged(&self, update: ServiceConfig) -> Result<ServiceConfig, AwsError> {
        let current_kind = self.source_kind();
        let mut base = serde_json::to_value(self).map_err(|e| invalid(e.to_string()))?;
        let patch = serde_json::to_value(&update).map_err(|e| invalid(e.to_string()))?;
        if let Some(source) = &update.source_configuration {
            let switching = (source.code_repository.is_some() && current_kind == Some("image"))
                || (source.image_repository.is_some() && current_kind == Some("code"));
            if switching {
                return Err(invalid(
                    "You can't change the source repository type of a service between code and \
                     image.",
                ));
            }
        }
        merge(&mut base, patch);
        serde_json::from_value(base).map_err(|e| invalid(e.to_string()))
    }

    fn source_kind(&self) -> Option<&'static str> {
        let source = self.source_configuration.as_ref()?;
        if source.code_repository.is_some() {
            Some("code")
        } else if source.image_repository.is_some() {
            Some("image")
        } else {
            None
        }
    }

    /// Checks a complete configuration the way App Runner does, and normalizes CPU and memory to
    /// the unit-less form App Runner reports (`1 vCPU` becomes `1024`, `2 GB` becomes `2048`).
    pub fn validated(mut self, for_create: bool) -> Result<ServiceConfig, AwsError> {
        let source = self
            .source_configuration
            .as_ref()
            .ok_or_else(|| invalid("SourceConfiguration is required."))?;
        match (&source.code_repository, &source.image_repository) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(
                    "SourceConfiguration must contain exactly one of CodeRepository or \
                     ImageRepository.",
                ));
            }
            (Some(code), None) => validate_code(code, for_create)?,
            (None, Some(image)) => validate_image(image)?,
        }
        // NB: a private ECR image needs an access role (docs/aws-behaviour.md A8).
        let private_ecr = source
            .image_repository
            .as_ref()
            .is_some_and(|i| i.image_repository_type.as_deref() == Some("ECR"));
        let access_role = source
            .authentication_configuration
            .as_ref()
            .and_then(|a| a.access_role_arn.as_ref());
        if private_ecr && access_role.is_none() {
            return Err(invalid(
                "AuthenticationConfiguration.AccessRoleArn is required for an ECR image repository.",
            ));
        }
        if let Some(instance) = self.instance_configuration.as_mut() {
            if let Some(cpu) = instance.cpu.take() {
                instance.cpu = Some(normalize_cpu(&cpu)?);
            }
            if let Some(memory) = instance.memory.take() {
                instance.memory = Some(normalize_memory(&memory)?);
            }
        }
        if let Some(health) = &self.health_check_configuration {
            if let Some(protocol) = &health.protocol
                && protocol != "TCP"
                && protocol != "HTTP"
            {
                return Err(invalid(format!("Invalid health check protocol: {protocol}")));
            }
            for (name, value) in [
                ("Interval", health.interval),
                ("Timeout", health.timeout),
                ("HealthyThreshold", health.healthy_threshold),
                ("UnhealthyThreshold", health.unhealthy_threshold),
            ] {
                if let Some(value) = value
                    && !(1..=20).contains(&value)
                {
                    return Err(invalid(format!(
                        "HealthCheckConfiguration.{name} must be between 1 and 20, got {value}."
                    )));
                }
            }
        }
        if let Some(egress) = self
            .network_configuration
            .as_ref()
            .and_then(|n| n.egress_configuration.as_ref())
        {
            match egress.egress_type.as_deref() {
                None | Some("DEFAULT") => {}
                Some("VPC") if egress.vpc_connector_arn.is_some() => {}
                Some("VPC") => {
                    return Err(invalid("VpcConnectorArn is required when EgressType is VPC."));
                }
                Some(other) => return Err(invalid(format!("Invalid EgressType: {other}"))),
            }
        }
        if let Some(ip) = self
            .network_configuration
            .as_ref()
            .and_then(|n| n.ip_address_type.as_deref())
            && ip != "IPV4"
            && ip != "DUAL_STACK"
        {
            return Err(invalid(format!("Invalid IpAddressType: {ip}")));
        }
        if let Some(observability) = &self.observability_configuration {
            match observability.observability_enabled {
                None => return Err(invalid("ObservabilityEnabled is required.")),
                Some(true) if observability.observability_configuration_arn.is_none() => {
                    return Err(invalid(
                        "ObservabilityConfigurationArn is required when ObservabilityEnabled is \
                         true.",
                    ));
                }
                _ => {}
            }
        }
        Ok(self)
    }

    /// Fills in what App Runner fills in when the request leaves it out.
    pub fn with_defaults(mut self) -> ServiceConfig {
        if let Some(source) = self.source_configuration.as_mut() {
            let public = source
                .image_repository
                .as_ref()
                .and_then(|i| i.image_repository_type.as_deref())
                == Some("ECR_PUBLIC");
            source.auto_deployments_enabled.get_or_insert(!public);
            if let Some(image) = source.image_repository.as_mut() {
                image
                    .image_configuration
                    .get_or_insert_with(Default::default)
                    .port
                    .get_or_insert_with(|| "8080".to_string());
            }
        }
        let instance = self.instance_configuration.get_or_insert_with(Default::default);
        instance.cpu.get_or_insert_with(|| "1024".to_string());
        instance.memory.get_or_insert_with(|| "2048".to_string());
        let health = self
            .health_check_configuration
            .get_or_insert_with(Default::default);
        health.protocol.get_or_insert_with(|| "TCP".to_string());
        health.path.get_or_insert_with(|| "/".to_string());
        health.interval.get_or_insert(5);
        health.timeout.get_or_insert(2);
        health.healthy_threshold.get_or_insert(1);
        health.unhealthy_threshold.get_or_insert(5);
        let network = self.network_configuration.get_or_insert_with(Default::default);
        network
            .egress_configuration
            .get_or_insert_with(Default::default)
            .egress_type
            .get_or_insert_with(|| "DEFAULT".to_string());
        network
            .ingress_configuration
            .get_or_insert_with(Default::default)
            .is_publicly_accessible
            .get_or_insert(true);
        network.ip_address_type.get_or_insert_with(|| "IPV4".to_string());
        self.observability_configuration
            .get_or_insert(ObservabilityConfiguration {
                observability_enabled: Some(false),
                observability_configuration_arn: None,
            });
        self
    }
}

fn validate_code(code: &CodeRepository, for_create: bool) -> Result<(), AwsError> {
    if code.repository_url.as_deref().is_none_or(str::is_empty) {
        return Err(invalid("CodeRepository.RepositoryUrl is required."));
    }
    let version = code
        .source_code_version
        .as_ref()
        .ok_or_else(|| invalid("CodeRepository.SourceCodeVersion is required."))?;
    if version.r#type.as_deref() != Some("BRANCH") || version.value.is_none() {
        return Err(invalid("SourceCodeVersion must have Type BRANCH and a Value."));
    }
    match &code.code_configuration {
        None if for_create => Err(invalid(
            "CodeRepository.CodeConfiguration is required when creating a service.",
        )),
        None => Ok(()),
        Some(config) => match config.configuration_source.as_deref() {
            Some("REPOSITORY") => Ok(()),
            Some("API") if config.code_configuration_values.is_some() => Ok(()),
            Some("API") => Err(invalid(
                "CodeConfigurationValues is required when ConfigurationSource is API.",
            )),
            _ => Err(invalid("ConfigurationSource must be REPOSITORY or API.")),
        },
    }
}

fn validate_image(image: &ImageRepository) -> Result<(), AwsError> {
    if image.image_identifier.as_deref().is_none_or(str::is_empty) {
        return Err(invalid("ImageRepository.ImageIdentifier is required."));
    }
    match image.image_repository_type.as_deref() {
        Some("ECR" | "ECR_PUBLIC") => Ok(()),
        Some(other) => Err(invalid(format!("Invalid ImageRepositoryType: {other}"))),
        None => Err(invalid("ImageRepository.ImageRepositoryType is required.")),
    }
}

fn normalize_cpu(cpu: &str) -> Result<String, AwsError> {
    let units = match cpu {
        "256" | "0.25 vCPU" => "256",
        "512" | "0.5 vCPU" => "512",
        "1024" | "1 vCPU" => "1024",
        "2048" | "2 vCPU" => "2048",
        "4096" | "4 vCPU" => "4096",
        other => return Err(invalid(format!("Invalid Cpu value: {other}"))),
    };
    Ok(units.to_string())
}

fn normalize_memory(memory: &str) -> Result<String, AwsError> {
    let mb = match memory.strip_suffix(" GB") {
        Some(gb) => match gb {
            "0.5" => 512,
            other => other
                .parse::<u32>()
                .ok()
                .filter(|g| [1, 2, 3, 4, 6, 8, 10, 12].contains(g))
                .map(|g| g * 1024)
                .ok_or_else(|| invalid(format!("Invalid Memory value: {memory}")))?,
        },
        None => memory
            .parse::<u32>()
            .ok()
            .filter(|m| [512, 1024, 2048, 3072, 4096, 6144, 8192, 10240, 12288].contains(m))
            .ok_or_else(|| invalid(format!("Invalid Memory value: {memory}")))?,
    };
    Ok(mb.to_string())
}

/// The most tags the simulator lets a service have. NB: App Runner's model sets no maximum on
/// `TagList`; 50 is AWS's general per-resource limit (docs/aws-behaviour.md A21, assumed for App
/// Runner).
pub const MAX_TAGS: usize = 50;

/// Whether a tag key has the prefix AWS reserves. NB: App Runner's `TagKey` pattern `^(?!aws:).+`
/// names lower-case `aws:` only; AWS's general tagging rules reserve every case ("aws:, AWS:, or any
/// upper or lowercase combination"), which the simulator follows (A21).
fn reserved_prefix(key: &str) -> bool {
    key.get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// Checks one tag key as App Runner's `TagKey` shape says: 1 to 128 characters, not starting with
/// `aws:`. Used by CreateService, TagResource and UntagResource.
pub fn validate_tag_key(key: Option<&str>) -> Result<&str, AwsError> {
    let key = match key {
        Some(key) if (1..=128).contains(&key.chars().count()) => key,
        _ => return Err(invalid("Tag keys must be 1 to 128 characters long.")),
    };
    if reserved_prefix(key) {
        return Err(invalid(format!(
            "Tag key {key:?} must not start with aws:, which is reserved for AWS use."
        )));
    }
    Ok(key)
}

/// Checks a tag list of CreateService or TagResource: at most [`MAX_TAGS`], valid keys
/// ([`validate_tag_key`]), values of at most 256 characters (`TagValue`).
pub fn validate_tags(tags: &[Tag]) -> Result<(), AwsError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!("A resource can have at most {MAX_TAGS} tags.")));
    }
    for tag in tags {
        validate_tag_key(tag.key.as_deref())?;
        if tag.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(invalid("Tag values must be at most 256 characters long."));
        }
    }
    Ok(())
}

/// Checks a service name against `[A-Za-z0-9][A-Za-z0-9-_]{3,39}`.
pub fn valid_service_name(name: &str) -> bool {
    valid_resource_name(name, 40)
}

/// Checks a name against App Runner's name pattern `[A-Za-z0-9][A-Za-z0-9-_]{3,N}` with at most
/// `max_len` characters: 40 for services and VPC connectors (`ServiceName`, `VpcConnectorName`), 32
/// for auto scaling configurations (`AutoScalingConfigurationName`).
pub fn valid_resource_name(name: &str, max_len: usize) -> bool {
    let mut chars = name.chars();
    (4..=max_len).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The required name `member` of a create call, checked with [`valid_resource_name`]:
/// `InvalidRequestException` when it is missing or does not match the pattern.
pub fn required_name(value: Option<String>, member: &str, max_len: usize) -> Result<String, AwsError> {
    let name = value.ok_or_else(|| invalid(format!("{member} is required.")))?;
    if !valid_resource_name(&name, max_len) {
        return Err(invalid(format!(
            "{member} {name:?} must match [A-Za-z0-9][A-Za-z0-9-_]{{3,{}}}.",
            max_len - 1
        )));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(identifier: &str) -> ServiceConfig {
        ServiceConfig {
            source_configuration: Some(SourceConfiguration {
                image_repository: Some(ImageRepository {
                    image_identifier: Some(identifier.to_string()),
                    image_repository_type: Some("ECR_PUBLIC".to_string()),
                    image_configuration: Some(ImageConfiguration {
                        runtime_environment_variables: Some(StringMap::from([
                            ("A".to_string(), "1".to_string()),
                            ("B".to_string(), "2".to_string()),
                        ])),
                        ..ImageConfiguration::default()
                    }),
                }),
                ..SourceConfiguration::default()
            }),
            ..ServiceConfig::default()
        }
    }

    #[test]
    fn update_merges_nested_members_but_replaces_environment_maps() {
        let current = image("public.ecr.aws/nginx/nginx:1").with_defaults();
        let mut update = image("public.ecr.aws/nginx/nginx:2");
        if let Some(config) = update
            .source_configuration
            .as_mut()
            .and_then(|s| s.image_repository.as_mut())
            .and_then(|i| i.image_configuration.as_mut())
        {
            config.runtime_environment_variables =
                Some(StringMap::from([("C".to_string(), "3".to_string())]));
        }
        let next = current.merged(update).unwrap();
        let repo = next.source_configuration.unwrap().image_repository.unwrap();
        assert_eq!(
            repo.image_identifier.as_deref(),
            Some("public.ecr.aws/nginx/nginx:2")
        );
        let config = repo.image_configuration.unwrap();
        assert_eq!(config.port.as_deref(), Some("8080"));
        assert_eq!(config.runtime_environment_variables.unwrap().len(), 1);
        assert_eq!(next.instance_configuration.unwrap().cpu.as_deref(), Some("1024"));
    }

    #[test]
    fn switching_between_code_and_image_is_rejected() {
        let current = image("public.ecr.aws/nginx/nginx:1");
        let update = ServiceConfig {
            source_configuration: Some(SourceConfiguration {
                code_repository: Some(CodeRepository::default()),
                ..SourceConfiguration::default()
            }),
            ..ServiceConfig::default()
        };
        assert_eq!(
            current.merged(update).unwrap_err().code,
            "InvalidRequestException"
        );
    }

    #[test]
    fn cpu_and_memory_are_normalized_and_checked() {
        let mut config = image("public.ecr.aws/nginx/nginx:1");
        config.instance_configuration = Some(InstanceConfiguration {
            cpu: Some("2 vCPU".into()),
            memory: Some("4 GB".into()),
            instance_role_arn: None,
        });
        let checked = config.clone().validated(true).unwrap();
        let instance = checked.instance_configuration.unwrap();
        assert_eq!(instance.cpu.as_deref(), Some("2048"));
        assert_eq!(instance.memory.as_deref(), Some("4096"));
        config.instance_configuration = Some(InstanceConfiguration {
            cpu: Some("3 vCPU".into()),
            ..InstanceConfiguration::default()
        });
        assert!(config.validated(true).is_err());
    }

    #[test]
    fn service_names_follow_the_model_pattern() {
        assert!(valid_service_name("web-app_1"));
        assert!(!valid_service_name("abc"));
        assert!(!valid_service_name("-web"));
        assert!(!valid_service_name(&"a".repeat(41)));
        assert!(valid_resource_name(&"a".repeat(32), 32));
        assert!(!valid_resource_name(&"a".repeat(33), 32));
    }

    #[test]
    fn tags_follow_the_model_and_the_reserved_prefix_in_any_case() {
        let tag = |key: &str, value: &str| Tag {
            key: Some(key.to_string()),
            value: Some(value.to_string()),
        };
        assert!(validate_tags(&[tag("team", "a"), tag("runway.dev/owner", "ns/name")]).is_ok());
        assert!(validate_tags(&[tag(&"k".repeat(128), &"v".repeat(256))]).is_ok());
        for bad in [
            tag("", "a"),
            tag(&"k".repeat(129), "a"),
            tag("team", &"v".repeat(257)),
            tag("aws:team", "a"),
            tag("AWS:team", "a"),
        ] {
            let err = validate_tags(std::slice::from_ref(&bad)).unwrap_err();
            assert_eq!(err.code, "InvalidRequestException", "{bad:?}");
        }
        let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate_tags(&many).is_err());
        assert!(validate_tags(&many[..50]).is_ok());
    }

    #[test]
    fn nulls_are_stripped_from_output() {
        let wire = to_wire(serde_json::json!({"A": null, "B": {"C": null, "D": 1}, "E": [{"F": null}]}));
        assert_eq!(wire, serde_json::json!({"B": {"D": 1}, "E": [{}]}));
    }
}
