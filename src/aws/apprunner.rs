//! AWS App Runner adapter: turns runway's desired request into SDK calls and SDK answers into
//! runway's observed types. No decisions are made here; `plan::apprunner` decides, this module does.
//!
//! Every mutating App Runner request starts an asynchronous operation and returns its `OperationId`,
//! which the controller records and follows through [`list_operations`].

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apprunner::types as sdk;

use super::RegionClients;
use crate::api::apprunner::{
    AuthenticationConfiguration, CodeConfiguration, CodeConfigurationValues, CodeRepository,
    EgressConfiguration, HealthCheckConfiguration, ImageConfiguration, ImageRepository, IngressConfiguration,
    InstanceConfiguration, NetworkConfiguration, ObservabilityConfiguration, SourceCodeVersion,
    SourceConfiguration,
};
use crate::api::common::Tag;
use crate::error::AwsErrorKind;
use crate::plan::apprunner::{AppRunnerRequest, CreateRequest, ObservedOperation, ObservedService};
use crate::{Error, Result};

const APPRUNNER: &str = "apprunner";

/// A service found by name, before its ARN was known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundService {
    /// The service ARN.
    pub arn: String,
    /// The service status.
    pub status: String,
    /// When the service was created, in seconds since the Unix epoch.
    pub created_at: Option<i64>,
    /// The service's tags (ListTagsForResource: ListServices reports none).
    pub tags: Vec<Tag>,
}

/// What a mutating request returned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Started {
    /// The service ARN.
    pub arn: String,
    /// The operation the request started.
    pub operation_id: String,
}

/// Describes a service; `None` when it does not exist.
pub async fn describe(c: &RegionClients, arn: &str) -> Result<Option<ObservedService>> {
    let request = c.apprunner.describe_service().service_arn(arn);
    match c
        .call(APPRUNNER, "DescribeService", arn, || request.clone().send())
        .await
    {
        Ok(out) => Ok(out.service().map(observed_from_sdk)),
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The service's most recent operations, newest first (one page of up to 20); empty when the
/// service does not exist.
pub async fn list_operations(c: &RegionClients, arn: &str) -> Result<Vec<ObservedOperation>> {
    let request = c.apprunner.list_operations().service_arn(arn).max_results(20);
    let out = match c
        .call(APPRUNNER, "ListOperations", arn, || request.clone().send())
        .await
    {
        Ok(out) => out,
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(out
        .operation_summary_list()
        .iter()
        .map(|op| ObservedOperation {
            id: op.id().unwrap_or_default().to_string(),
            operation_type: op.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
            status: op.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            started_at: op.started_at().map(|t| t.secs()),
        })
        .collect())
}

/// The tags of a service (ListTagsForResource); empty when the service is gone.
pub async fn list_tags(c: &RegionClients, arn: &str) -> Result<Vec<Tag>> {
    let request = c.apprunner.list_tags_for_resource().resource_arn(arn);
    match c
        .call(APPRUNNER, "ListTagsForResource", arn, || request.clone().send())
        .await
    {
        Ok(out) => Ok(out
            .tags()
            .iter()
            .map(|t| Tag {
                key: t.key().unwrap_or_default().to_string(),
                value: t.value().map(str::to_string),
            })
            .collect()),
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Adds tags to a service, or gives existing keys new values (TagResource). Starts no operation.
pub async fn tag(c: &RegionClients, arn: &str, tags: &[Tag]) -> Result<()> {
    let request = c
        .apprunner
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.iter().map(tag_to_sdk).collect()));
    c.call(APPRUNNER, "TagResource", arn, || request.clone().send())
        .await
        .map(|_| ())
}

/// Removes tags from a service by key (UntagResource). Starts no operation.
pub async fn untag(c: &RegionClients, arn: &str, keys: &[String]) -> Result<()> {
    let request = c
        .apprunner
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys.to_vec()));
    c.call(APPRUNNER, "UntagResource", arn, || request.clone().send())
        .await
        .map(|_| ())
}

/// Looks a service up by name among the Region's services (ListServices, every page), with its
/// tags. Deleted services are skipped: their names are free again.
pub async fn find_by_name(c: &RegionClients, name: &str) -> Result<Option<FoundService>> {
    let mut token: Option<String> = None;
    loop {
        let request = c
            .apprunner
            .list_services()
            .max_results(20)
            .set_next_token(token.clone());
        let out = c
            .call(APPRUNNER, "ListServices", name, || request.clone().send())
            .await?;
        let found = out
            .service_summary_list()
            .iter()
            .find(|s| s.service_name() == Some(name) && s.status().is_none_or(|st| st.as_str() != "DELETED"));
        if let Some(s) = found {
            let Some(arn) = s.service_arn() else {
                return Ok(None);
            };
            return Ok(Some(FoundService {
                arn: arn.to_string(),
                status: s.status().map(|st| st.as_str().to_string()).unwrap_or_default(),
                created_at: s.created_at().map(|t| t.secs()),
                tags: list_tags(c, arn).await?,
            }));
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(None),
        }
    }
}

/// Creates the service.
pub async fn create(c: &RegionClients, req: &CreateRequest) -> Result<Started> {
    let r = &req.request;
    let encryption = match &req.encryption_configuration {
        Some(e) => Some(
            sdk::EncryptionConfiguration::builder()
                .kms_key(&e.kms_key)
                .build()
                .map_err(invalid)?,
        ),
        None => None,
    };
    let request = c
        .apprunner
        .create_service()
        .service_name(&req.service_name)
        .source_configuration(source_to_sdk(&r.source_configuration, &[])?)
        .set_instance_configuration(r.instance_configuration.as_ref().map(instance_to_sdk))
        .set_auto_scaling_configuration_arn(r.auto_scaling_configuration_arn.clone())
        .set_health_check_configuration(r.health_check_configuration.as_ref().map(health_to_sdk))
        .set_network_configuration(r.network_configuration.as_ref().map(network_to_sdk))
        .set_observability_configuration(r.observability_configuration.as_ref().map(observability_to_sdk))
        .set_encryption_configuration(encryption)
        .set_tags(Some(req.tags.iter().map(tag_to_sdk).collect()));
    let out = c
        .call(APPRUNNER, "CreateService", &req.service_name, || {
            request.clone().send()
        })
        .await?;
    Ok(Started {
        arn: out
            .service()
            .map(|s| s.service_arn().to_string())
            .unwrap_or_default(),
        operation_id: out.operation_id().to_string(),
    })
}

/// Sends UpdateService with the fields the spec sets; unset fields keep their values.
pub async fn update(c: &RegionClients, arn: &str, r: &AppRunnerRequest) -> Result<Started> {
    let request = c
        .apprunner
        .update_service()
        .service_arn(arn)
        .source_configuration(source_to_sdk(&r.source_configuration, &r.clear)?)
        .set_instance_configuration(r.instance_configuration.as_ref().map(instance_to_sdk))
        .set_auto_scaling_configuration_arn(r.auto_scaling_configuration_arn.clone())
        .set_health_check_configuration(r.health_check_configuration.as_ref().map(health_to_sdk))
        .set_network_configuration(r.network_configuration.as_ref().map(network_to_sdk))
        .set_observability_configuration(r.observability_configuration.as_ref().map(observability_to_sdk));
    let out = c
        .call(APPRUNNER, "UpdateService", arn, || request.clone().send())
        .await?;
    Ok(Started {
        arn: arn.to_string(),
        operation_id: out.operation_id().to_string(),
    })
}

/// Pauses the service.
pub async fn pause(c: &RegionClients, arn: &str) -> Result<Started> {
    let request = c.apprunner.pause_service().service_arn(arn);
    let out = c
        .call(APPRUNNER, "PauseService", arn, || request.clone().send())
        .await?;
    Ok(Started {
        arn: arn.to_string(),
        operation_id: out.operation_id().unwrap_or_default().to_string(),
    })
}

/// Resumes a paused service.
pub async fn resume(c: &RegionClients, arn: &str) -> Result<Started> {
    let request = c.apprunner.resume_service().service_arn(arn);
    let out = c
        .call(APPRUNNER, "ResumeService", arn, || request.clone().send())
        .await?;
    Ok(Started {
        arn: arn.to_string(),
        operation_id: out.operation_id().unwrap_or_default().to_string(),
    })
}

/// Starts a new deployment of the current configuration.
pub async fn start_deployment(c: &RegionClients, arn: &str) -> Result<Started> {
    let request = c.apprunner.start_deployment().service_arn(arn);
    let out = c
        .call(APPRUNNER, "StartDeployment", arn, || request.clone().send())
        .await?;
    Ok(Started {
        arn: arn.to_string(),
        operation_id: out.operation_id().to_string(),
    })
}

/// Deletes the service and returns the delete operation's ID, or `None` when it was already gone.
pub async fn delete(c: &RegionClients, arn: &str) -> Result<Option<String>> {
    let request = c.apprunner.delete_service().service_arn(arn);
    match c
        .call(APPRUNNER, "DeleteService", arn, || request.clone().send())
        .await
    {
        Ok(out) => Ok(Some(out.operation_id().to_string())),
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn invalid(e: aws_smithy_types::error::operation::BuildError) -> Error {
    Error::InvalidSpec(e.to_string())
}

/// The image configuration to send: the spec's, or an empty one when a map must be cleared.
fn image_configuration(
    image: &crate::api::apprunner::ImageRepository,
    clearing: bool,
) -> Option<crate::api::apprunner::ImageConfiguration> {
    image
        .image_configuration
        .clone()
        .or_else(|| clearing.then(Default::default))
}

fn hash_map(m: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn btree_map(m: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The source for a request. Empty maps are left out (App Runner keeps what it has), unless `clear`
/// names them: then they are sent empty, which clears them.
fn source_to_sdk(s: &SourceConfiguration, clear: &[String]) -> Result<sdk::SourceConfiguration> {
    let code = s
        .code_repository
        .as_ref()
        .map(code_repository_to_sdk)
        .transpose()?;
    let image = s
        .image_repository
        .as_ref()
        .map(|image| image_repository_to_sdk(image, clear))
        .transpose()?;
    Ok(sdk::SourceConfiguration::builder()
        .set_code_repository(code)
        .set_image_repository(image)
        .set_auto_deployments_enabled(s.auto_deployments_enabled)
        .set_authentication_configuration(s.authentication_configuration.as_ref().map(|a| {
            sdk::AuthenticationConfiguration::builder()
                .set_connection_arn(a.connection_arn.clone())
                .set_access_role_arn(a.access_role_arn.clone())
                .build()
        }))
        .build())
}

/// A code repository source: the repository, the version to build and how to build and run it.
fn code_repository_to_sdk(code: &CodeRepository) -> Result<sdk::CodeRepository> {
    let cc = &code.code_configuration;
    let values = cc
        .code_configuration_values
        .as_ref()
        .map(code_values_to_sdk)
        .transpose()?;
    sdk::CodeRepository::builder()
        .repository_url(&code.repository_url)
        .source_code_version(
            sdk::SourceCodeVersion::builder()
                .r#type(sdk::SourceCodeVersionType::from(
                    code.source_code_version.type_.as_str(),
                ))
                .value(&code.source_code_version.value)
                .build()
                .map_err(invalid)?,
        )
        .code_configuration(
            sdk::CodeConfiguration::builder()
                .configuration_source(sdk::ConfigurationSource::from(cc.configuration_source.as_str()))
                .set_code_configuration_values(values)
                .build()
                .map_err(invalid)?,
        )
        .set_source_directory(code.source_directory.clone())
        .build()
        .map_err(invalid)
}

/// The build and run settings of a code repository; empty maps are left out.
fn code_values_to_sdk(v: &CodeConfigurationValues) -> Result<sdk::CodeConfigurationValues> {
    sdk::CodeConfigurationValues::builder()
        .runtime(sdk::Runtime::from(v.runtime.as_str()))
        .set_build_command(v.build_command.clone())
        .set_start_command(v.start_command.clone())
        .set_port(v.port.clone())
        .set_runtime_environment_variables(hash_map(&v.runtime_environment_variables))
        .set_runtime_environment_secrets(hash_map(&v.runtime_environment_secrets))
        .build()
        .map_err(invalid)
}

/// An image repository source. Empty maps are left out, unless `clear` names them: then they are
/// sent empty, which clears them.
fn image_repository_to_sdk(image: &ImageRepository, clear: &[String]) -> Result<sdk::ImageRepository> {
    let cleared = |field: &str| {
        clear
            .iter()
            .any(|f| f == &format!("sourceConfiguration.imageRepository.imageConfiguration.{field}"))
    };
    let map_or_clear =
        |m: &BTreeMap<String, String>, field: &str| hash_map(m).or_else(|| cleared(field).then(HashMap::new));
    sdk::ImageRepository::builder()
        .image_identifier(&image.image_identifier)
        .image_repository_type(sdk::ImageRepositoryType::from(
            image.image_repository_type.as_str(),
        ))
        .set_image_configuration(image_configuration(image, !clear.is_empty()).map(|ic| {
            sdk::ImageConfiguration::builder()
                .set_runtime_environment_variables(map_or_clear(
                    &ic.runtime_environment_variables,
                    "runtimeEnvironmentVariables",
                ))
                .set_runtime_environment_secrets(map_or_clear(
                    &ic.runtime_environment_secrets,
                    "runtimeEnvironmentSecrets",
                ))
                .set_start_command(ic.start_command.clone())
                .set_port(ic.port.clone())
                .build()
        }))
        .build()
        .map_err(invalid)
}

fn instance_to_sdk(i: &InstanceConfiguration) -> sdk::InstanceConfiguration {
    sdk::InstanceConfiguration::builder()
        .set_cpu(i.cpu.clone())
        .set_memory(i.memory.clone())
        .set_instance_role_arn(i.instance_role_arn.clone())
        .build()
}

fn health_to_sdk(h: &HealthCheckConfiguration) -> sdk::HealthCheckConfiguration {
    sdk::HealthCheckConfiguration::builder()
        .set_protocol(h.protocol.as_deref().map(sdk::HealthCheckProtocol::from))
        .set_path(h.path.clone())
        .set_interval(h.interval)
        .set_timeout(h.timeout)
        .set_healthy_threshold(h.healthy_threshold)
        .set_unhealthy_threshold(h.unhealthy_threshold)
        .build()
}

fn network_to_sdk(n: &NetworkConfiguration) -> sdk::NetworkConfiguration {
    sdk::NetworkConfiguration::builder()
        .set_egress_configuration(n.egress_configuration.as_ref().map(|e| {
            sdk::EgressConfiguration::builder()
                .set_egress_type(e.egress_type.as_deref().map(sdk::EgressType::from))
                .set_vpc_connector_arn(e.vpc_connector_arn.clone())
                .build()
        }))
        .set_ingress_configuration(n.ingress_configuration.as_ref().map(|i| {
            sdk::IngressConfiguration::builder()
                .set_is_publicly_accessible(i.is_publicly_accessible)
                .build()
        }))
        .set_ip_address_type(n.ip_address_type.as_deref().map(sdk::IpAddressType::from))
        .build()
}

fn observability_to_sdk(o: &ObservabilityConfiguration) -> sdk::ServiceObservabilityConfiguration {
    sdk::ServiceObservabilityConfiguration::builder()
        .observability_enabled(o.observability_enabled)
        .set_observability_configuration_arn(o.observability_configuration_arn.clone())
        .build()
}

fn tag_to_sdk(t: &Tag) -> sdk::Tag {
    sdk::Tag::builder().key(&t.key).set_value(t.value.clone()).build()
}

fn observed_from_sdk(s: &sdk::Service) -> ObservedService {
    ObservedService {
        arn: s.service_arn().to_string(),
        service_id: s.service_id().to_string(),
        service_name: s.service_name().to_string(),
        service_url: s.service_url().map(str::to_string),
        status: s.status().as_str().to_string(),
        config: AppRunnerRequest {
            source_configuration: s.source_configuration().map(source_from_sdk).unwrap_or_default(),
            instance_configuration: s.instance_configuration().map(|i| InstanceConfiguration {
                cpu: i.cpu().map(str::to_string),
                memory: i.memory().map(str::to_string),
                instance_role_arn: i.instance_role_arn().map(str::to_string),
            }),
            auto_scaling_configuration_arn: s
                .auto_scaling_configuration_summary()
                .and_then(|a| a.auto_scaling_configuration_arn())
                .map(str::to_string),
            health_check_configuration: s.health_check_configuration().map(|h| HealthCheckConfiguration {
                protocol: h.protocol().map(|p| p.as_str().to_string()),
                path: h.path().map(str::to_string),
                interval: h.interval(),
                timeout: h.timeout(),
                healthy_threshold: h.healthy_threshold(),
                unhealthy_threshold: h.unhealthy_threshold(),
            }),
            network_configuration: s.network_configuration().map(|n| NetworkConfiguration {
                egress_configuration: n.egress_configuration().map(|e| EgressConfiguration {
                    egress_type: e.egress_type().map(|t| t.as_str().to_string()),
                    vpc_connector_arn: e.vpc_connector_arn().map(str::to_string),
                }),
                ingress_configuration: n.ingress_configuration().map(|i| IngressConfiguration {
                    is_publicly_accessible: Some(i.is_publicly_accessible()),
                }),
                ip_address_type: n.ip_address_type().map(|t| t.as_str().to_string()),
            }),
            observability_configuration: s.observability_configuration().map(|o| {
                ObservabilityConfiguration {
                    observability_enabled: o.observability_enabled(),
                    observability_configuration_arn: o.observability_configuration_arn().map(str::to_string),
                }
            }),
            clear: Vec::new(),
        },
    }
}

fn source_from_sdk(s: &sdk::SourceConfiguration) -> SourceConfiguration {
    SourceConfiguration {
        code_repository: s.code_repository().map(|c| CodeRepository {
            repository_url: c.repository_url().to_string(),
            source_code_version: c
                .source_code_version()
                .map(|v| SourceCodeVersion {
                    type_: v.r#type().as_str().to_string(),
                    value: v.value().to_string(),
                })
                .unwrap_or_default(),
            code_configuration: c
                .code_configuration()
                .map(|cc| CodeConfiguration {
                    configuration_source: cc.configuration_source().as_str().to_string(),
                    code_configuration_values: cc.code_configuration_values().map(|v| {
                        CodeConfigurationValues {
                            runtime: v.runtime().as_str().to_string(),
                            build_command: v.build_command().map(str::to_string),
                            start_command: v.start_command().map(str::to_string),
                            port: v.port().map(str::to_string),
                            runtime_environment_variables: btree_map(v.runtime_environment_variables()),
                            runtime_environment_secrets: btree_map(v.runtime_environment_secrets()),
                        }
                    }),
                })
                .unwrap_or_default(),
            source_directory: c.source_directory().map(str::to_string),
        }),
        image_repository: s.image_repository().map(|i| ImageRepository {
            image_identifier: i.image_identifier().to_string(),
            image_configuration: i.image_configuration().map(|ic| ImageConfiguration {
                runtime_environment_variables: btree_map(ic.runtime_environment_variables()),
                start_command: ic.start_command().map(str::to_string),
                port: ic.port().map(str::to_string),
                // NB: App Runner reports the ARNs the secrets reference, never their values.
                runtime_environment_secrets: btree_map(ic.runtime_environment_secrets()),
            }),
            image_repository_type: i.image_repository_type().as_str().to_string(),
        }),
        auto_deployments_enabled: s.auto_deployments_enabled(),
        authentication_configuration: s
            .authentication_configuration()
            .map(|a| AuthenticationConfiguration {
                connection_arn: a.connection_arn().map(str::to_string),
                access_role_arn: a.access_role_arn().map(str::to_string),
            }),
    }
}
