//! Amazon ECS Express Mode adapter: turns runway's desired request into SDK calls and SDK answers into
//! runway's observed types. No decisions are made here; `plan::express` decides, this module does.

use aws_sdk_ecs::types as sdk;
use aws_smithy_types::date_time::Format;

use super::RegionClients;
use crate::api::common::Tag;
use crate::api::express::{
    CpuArchitecture, ExpressGatewayContainer, IngressPath, ManagedResource, NetworkConfiguration,
    ObservedContainer, ObservedKeyValue, ObservedLogsConfiguration, ObservedNetworkConfiguration,
    ObservedRepositoryCredentials, ObservedScalingTarget, ObservedSecret, ScalingMetric, ScalingTarget,
    TargetConfiguration,
};
use crate::error::AwsErrorKind;
use crate::plan::express::{
    Applied, CreateRequest, ExpressRequest, ObservedDeployment, ObservedExpress, metric_name,
};
use crate::{Error, Result};

const ECS: &str = "ecs";

/// A service found by name, before its ARN was known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundService {
    /// The service ARN.
    pub arn: String,
    /// The ECS service status: `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// The service's tags.
    pub tags: Vec<Tag>,
    /// `ECS` for an Express service, `CUSTOMER` for a classic one; `None` when AWS did not say.
    pub resource_management_type: Option<String>,
}

/// Describes an Express service; `None` when it does not exist, in any of AWS's spellings
/// (`InvalidParameterException` "Resource not found", `ServiceNotActiveException` for an INACTIVE
/// service, the modelled not-found codes).
pub async fn describe(c: &RegionClients, arn: &str) -> Result<Option<ObservedExpress>> {
    let request = c
        .ecs
        .describe_express_gateway_service()
        .service_arn(arn)
        .include(sdk::ExpressGatewayServiceInclude::Tags);
    match c
        .call(ECS, "DescribeExpressGatewayService", arn, || {
            request.clone().send()
        })
        .await
    {
        Ok(out) => Ok(out.service().map(observed_from_sdk)),
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Adds tags to a service, or gives existing keys new values (TagResource).
pub async fn tag(c: &RegionClients, arn: &str, tags: &[Tag]) -> Result<()> {
    let request = c
        .ecs
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.iter().map(tag_to_sdk).collect()));
    c.call(ECS, "TagResource", arn, || request.clone().send())
        .await
        .map(|_| ())
}

/// Removes tags from a service by key (UntagResource).
pub async fn untag(c: &RegionClients, arn: &str, keys: &[String]) -> Result<()> {
    let request = c
        .ecs
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys.to_vec()));
    c.call(ECS, "UntagResource", arn, || request.clone().send())
        .await
        .map(|_| ())
}

/// A service's tags (ListTagsForResource), for when DescribeExpressGatewayService did not report
/// them (docs/aws-behaviour.md E27).
pub async fn list_tags(c: &RegionClients, arn: &str) -> Result<Vec<Tag>> {
    let request = c.ecs.list_tags_for_resource().resource_arn(arn);
    let out = c
        .call(ECS, "ListTagsForResource", arn, || request.clone().send())
        .await?;
    Ok(out.tags().iter().map(tag_from_sdk).collect())
}

/// Describes one service deployment; `None` when AWS does not know it.
pub async fn describe_deployment(c: &RegionClients, arn: &str) -> Result<Option<ObservedDeployment>> {
    let request = c.ecs.describe_service_deployments().service_deployment_arns(arn);
    let out = c
        .call(ECS, "DescribeServiceDeployments", arn, || request.clone().send())
        .await?;
    Ok(out.service_deployments().first().map(|d| ObservedDeployment {
        arn: d.service_deployment_arn().unwrap_or(arn).to_string(),
        status: d.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        status_reason: d.status_reason().map(str::to_string),
        target_revision: d
            .target_service_revision()
            .and_then(|r| r.arn())
            .map(str::to_string),
    }))
}

/// The resources Amazon ECS manages for one service revision (DescribeServiceRevisions,
/// `ecsManagedResources`), flattened into one entry per resource; empty when AWS reports none or
/// does not know the revision (it lists it in `failures`).
pub async fn managed_resources(c: &RegionClients, revision_arn: &str) -> Result<Vec<ManagedResource>> {
    let request = c
        .ecs
        .describe_service_revisions()
        .service_revision_arns(revision_arn);
    let out = c
        .call(ECS, "DescribeServiceRevisions", revision_arn, || {
            request.clone().send()
        })
        .await?;
    Ok(out
        .service_revisions()
        .iter()
        .find(|r| r.service_revision_arn() == Some(revision_arn))
        .or_else(|| out.service_revisions().first())
        .and_then(|r| r.ecs_managed_resources())
        .map(managed_from_sdk)
        .unwrap_or_default())
}

/// One status entry: what the resource is (AWS's name for it), its ARN, status and reason.
macro_rules! managed_entry {
    ($kind:expr, $resource:expr) => {{
        let r = $resource;
        ManagedResource {
            kind: $kind.to_string(),
            arn: r.arn().map(str::to_string),
            status: r.status().as_str().to_string(),
            status_reason: r.status_reason().map(str::to_string),
        }
    }};
}

/// Flattens `ECSManagedResources` in AWS's order: each ingress path's load balancer, its security
/// groups, certificate, listener, rule and target groups; then the service's security groups, the
/// scalable target, the scaling policies, the metric alarms and the log groups.
pub fn managed_from_sdk(m: &sdk::EcsManagedResources) -> Vec<ManagedResource> {
    let mut out = Vec::new();
    for path in m.ingress_paths() {
        out.extend(path.load_balancer().map(|r| managed_entry!("LoadBalancer", r)));
        out.extend(
            path.load_balancer_security_groups()
                .iter()
                .map(|r| managed_entry!("LoadBalancerSecurityGroup", r)),
        );
        out.extend(path.certificate().map(|r| managed_entry!("Certificate", r)));
        out.extend(path.listener().map(|r| managed_entry!("Listener", r)));
        out.extend(path.rule().map(|r| managed_entry!("ListenerRule", r)));
        out.extend(
            path.target_groups()
                .iter()
                .map(|r| managed_entry!("TargetGroup", r)),
        );
    }
    out.extend(
        m.service_security_groups()
            .iter()
            .map(|r| managed_entry!("ServiceSecurityGroup", r)),
    );
    if let Some(scaling) = m.auto_scaling() {
        out.extend(
            scaling
                .scalable_target()
                .map(|r| managed_entry!("ScalableTarget", r)),
        );
        out.extend(
            scaling
                .application_auto_scaling_policies()
                .iter()
                .map(|r| managed_entry!("ScalingPolicy", r)),
        );
    }
    out.extend(m.metric_alarms().iter().map(|r| managed_entry!("MetricAlarm", r)));
    out.extend(m.log_groups().iter().map(|r| managed_entry!("LogGroup", r)));
    out
}

/// The service's deployments as ListServiceDeployments returns them (its first page, which AWS
/// lists newest first). Used while runway awaits a rollout that AWS does not report as current yet.
pub async fn list_deployments(
    c: &RegionClients,
    cluster: Option<&str>,
    service_arn: &str,
) -> Result<Vec<ObservedDeployment>> {
    let request = c
        .ecs
        .list_service_deployments()
        .set_cluster(cluster.map(str::to_string))
        .service(service_arn);
    let out = match c
        .call(ECS, "ListServiceDeployments", service_arn, || {
            request.clone().send()
        })
        .await
    {
        Ok(out) => out,
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(out
        .service_deployments()
        .iter()
        .map(|d| ObservedDeployment {
            arn: d.service_deployment_arn().unwrap_or_default().to_string(),
            status: d.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            status_reason: d.status_reason().map(str::to_string),
            target_revision: d.target_service_revision_arn().map(str::to_string),
        })
        .collect())
}

/// Looks a service up by cluster and name (ECS DescribeServices accepts names), with its tags.
/// `None` when there is none, or only an INACTIVE one.
pub async fn find_by_name(c: &RegionClients, cluster: &str, name: &str) -> Result<Option<FoundService>> {
    describe_service(c, cluster, name).await
}

/// Looks a service up by its ARN with DescribeServices (its cluster comes from the ARN), to learn
/// whether it is an Express service before adopting it. `None` when there is none, or only an
/// INACTIVE one.
pub async fn find_by_arn(c: &RegionClients, arn: &str) -> Result<Option<FoundService>> {
    // NB: `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`; the old short form has no
    // cluster and means `default`.
    let path = arn.split_once(":service/").map_or("", |(_, p)| p);
    let cluster = path.split_once('/').map_or("default", |(c, _)| c);
    describe_service(c, cluster, arn).await
}

async fn describe_service(c: &RegionClients, cluster: &str, name: &str) -> Result<Option<FoundService>> {
    let request = c
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(sdk::ServiceField::Tags);
    let out = match c
        .call(ECS, "DescribeServices", name, || request.clone().send())
        .await
    {
        Ok(out) => out,
        // A cluster that does not exist holds no services yet; creating will report it properly.
        Err(Error::Aws(f)) if f.code == "ClusterNotFoundException" => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .services()
        .iter()
        .find(|s| s.status() != Some("INACTIVE"))
        .and_then(|s| {
            Some(FoundService {
                arn: s.service_arn()?.to_string(),
                status: s.status().unwrap_or_default().to_string(),
                tags: s.tags().iter().map(tag_from_sdk).collect(),
                resource_management_type: s.resource_management_type().map(|t| t.as_str().to_string()),
            })
        }))
}

/// Creates the Express service.
pub async fn create(c: &RegionClients, req: &CreateRequest) -> Result<Applied> {
    let r = &req.request;
    let mut request = c
        .ecs
        .create_express_gateway_service()
        .service_name(&req.service_name)
        .infrastructure_role_arn(&req.infrastructure_role_arn)
        .set_cluster(req.cluster.clone())
        .set_execution_role_arn(r.execution_role_arn.clone())
        .set_task_role_arn(r.task_role_arn.clone())
        .set_health_check_path(r.health_check_path.clone())
        .set_cpu(r.cpu.clone())
        .set_memory(r.memory.clone())
        .set_task_definition_arn(r.task_definition_arn.clone())
        .set_cpu_architecture(r.cpu_architecture.map(cpu_architecture_to_sdk))
        .set_network_configuration(r.network_configuration.as_ref().map(network_to_sdk))
        .set_scaling_target(r.scaling_target.as_ref().map(scaling_to_sdk))
        .set_tags(Some(req.tags.iter().map(tag_to_sdk).collect()));
    if let Some(pc) = &r.primary_container {
        request = request.primary_container(container_to_sdk(pc, &[])?);
    }
    let out = c
        .call(ECS, "CreateExpressGatewayService", &req.service_name, || {
            request.clone().send()
        })
        .await?;
    let service = out.service();
    Ok(Applied {
        arn: service
            .and_then(|s| s.service_arn())
            .unwrap_or_default()
            .to_string(),
        status_code: status_code(service.and_then(|s| s.status())),
        target_configuration: service
            .and_then(|s| s.active_configurations().last())
            .map(config_from_sdk),
    })
}

/// Sends UpdateExpressGatewayService with the fields the spec sets (unset fields keep their values
/// in AWS) and the lists in `r.clear` sent empty, which clears them.
pub async fn update(c: &RegionClients, arn: &str, r: &ExpressRequest) -> Result<Applied> {
    let mut request = c
        .ecs
        .update_express_gateway_service()
        .service_arn(arn)
        .set_execution_role_arn(r.execution_role_arn.clone())
        .set_task_role_arn(r.task_role_arn.clone())
        .set_health_check_path(r.health_check_path.clone())
        .set_cpu(r.cpu.clone())
        .set_memory(r.memory.clone())
        .set_task_definition_arn(r.task_definition_arn.clone())
        .set_cpu_architecture(r.cpu_architecture.map(cpu_architecture_to_sdk))
        .set_network_configuration(r.network_configuration.as_ref().map(network_to_sdk))
        .set_scaling_target(r.scaling_target.as_ref().map(scaling_to_sdk));
    if let Some(pc) = &r.primary_container {
        request = request.primary_container(container_to_sdk(pc, &r.clear)?);
    }
    let out = c
        .call(ECS, "UpdateExpressGatewayService", arn, || request.clone().send())
        .await?;
    let service = out.service();
    Ok(Applied {
        arn: arn.to_string(),
        status_code: status_code(service.and_then(|s| s.status())),
        target_configuration: service
            .and_then(|s| s.target_configuration())
            .map(config_from_sdk),
    })
}

/// Starts a new deployment of the same configuration (ECS UpdateService with forceNewDeployment).
pub async fn force_new_deployment(c: &RegionClients, cluster: Option<&str>, arn: &str) -> Result<()> {
    let request = c
        .ecs
        .update_service()
        .set_cluster(cluster.map(str::to_string))
        .service(arn)
        .force_new_deployment(true);
    c.call(ECS, "UpdateService", arn, || request.clone().send())
        .await?;
    Ok(())
}

/// Deletes the Express service. Returns false when it was already gone.
pub async fn delete(c: &RegionClients, arn: &str) -> Result<bool> {
    let request = c.ecs.delete_express_gateway_service().service_arn(arn);
    match c
        .call(ECS, "DeleteExpressGatewayService", arn, || request.clone().send())
        .await
    {
        Ok(_) => Ok(true),
        Err(Error::Aws(f)) if f.kind == AwsErrorKind::NotFound => Ok(false),
        // NB: "Service is in DRAINING status": the delete is under way.
        Err(Error::Aws(f)) if f.code == "ServiceNotActiveException" => Ok(false),
        Err(e) => Err(e),
    }
}

/// `ACTIVE`, `DRAINING` or `INACTIVE`, as AWS reported it.
fn status_code(status: Option<&sdk::ExpressGatewayServiceStatus>) -> Option<String> {
    status
        .and_then(|s| s.status_code())
        .map(|c| c.as_str().to_string())
}

fn observed_from_sdk(s: &sdk::EcsExpressGatewayService) -> ObservedExpress {
    ObservedExpress {
        arn: s.service_arn().unwrap_or_default().to_string(),
        service_name: s.service_name().map(str::to_string),
        cluster: s.cluster().map(str::to_string),
        status_code: status_code(s.status()),
        status_reason: s.status().and_then(|st| st.status_reason()).map(str::to_string),
        current_deployment: s.current_deployment().map(str::to_string),
        active_configurations: s.active_configurations().iter().map(config_from_sdk).collect(),
        updated_at: s.updated_at().and_then(|t| t.fmt(Format::DateTime).ok()),
        // NB: `None` when AWS did not report tags at all (E27), which is not "no tags".
        tags: s
            .tags
            .as_ref()
            .map(|tags| tags.iter().map(tag_from_sdk).collect()),
    }
}

/// Converts an SDK service revision configuration into the planner's (and status's) type.
pub fn config_from_sdk(c: &sdk::ExpressGatewayServiceConfiguration) -> TargetConfiguration {
    TargetConfiguration {
        service_revision_arn: c.service_revision_arn().map(str::to_string),
        execution_role_arn: c.execution_role_arn().map(str::to_string),
        task_role_arn: c.task_role_arn().map(str::to_string),
        cpu: c.cpu().map(str::to_string),
        memory: c.memory().map(str::to_string),
        cpu_architecture: c.cpu_architecture().map(|a| a.as_str().to_string()),
        network_configuration: c.network_configuration().map(|n| ObservedNetworkConfiguration {
            security_groups: n.security_groups().to_vec(),
            subnets: n.subnets().to_vec(),
        }),
        health_check_path: c.health_check_path().map(str::to_string),
        primary_container: c.primary_container().map(container_from_sdk),
        scaling_target: c.scaling_target().map(|s| ObservedScalingTarget {
            min_task_count: s.min_task_count(),
            max_task_count: s.max_task_count(),
            auto_scaling_metric: s.auto_scaling_metric().map(|m| m.as_str().to_string()),
            auto_scaling_target_value: s.auto_scaling_target_value(),
        }),
        task_definition_arn: c.task_definition_arn().map(str::to_string),
        ingress_paths: c
            .ingress_paths()
            .iter()
            .map(|p| IngressPath {
                access_type: p.access_type().as_str().to_string(),
                endpoint: p.endpoint().to_string(),
            })
            .collect(),
        created_at: c.created_at().and_then(|t| t.fmt(Format::DateTime).ok()),
    }
}

fn container_from_sdk(c: &sdk::ExpressGatewayContainer) -> ObservedContainer {
    ObservedContainer {
        image: c.image().to_string(),
        container_port: c.container_port(),
        aws_logs_configuration: c.aws_logs_configuration().map(|l| ObservedLogsConfiguration {
            log_group: l.log_group().to_string(),
            log_stream_prefix: l.log_stream_prefix().to_string(),
        }),
        repository_credentials: c.repository_credentials().map(|r| ObservedRepositoryCredentials {
            credentials_parameter: r.credentials_parameter().map(str::to_string),
        }),
        command: c.command().to_vec(),
        environment: c
            .environment()
            .iter()
            .map(|kv| ObservedKeyValue {
                name: kv.name().unwrap_or_default().to_string(),
                value: kv.value().map(str::to_string),
            })
            .collect(),
        // NB: only the reference (valueFrom) exists in AWS's answer; runway never sees secret values.
        secrets: c
            .secrets()
            .iter()
            .map(|s| ObservedSecret {
                name: s.name().to_string(),
                value_from: s.value_from().to_string(),
            })
            .collect(),
    }
}

/// The container for a request. Empty lists are left out (AWS keeps what it has), unless `clear`
/// names them: then they are sent empty, which clears them.
fn container_to_sdk(c: &ExpressGatewayContainer, clear: &[String]) -> Result<sdk::ExpressGatewayContainer> {
    let send =
        |field: &str, empty: bool| !empty || clear.iter().any(|f| f == &format!("primaryContainer.{field}"));
    let invalid = |e: aws_smithy_types::error::operation::BuildError| Error::InvalidSpec(e.to_string());
    let logs = match &c.aws_logs_configuration {
        Some(l) => Some(
            sdk::ExpressGatewayServiceAwsLogsConfiguration::builder()
                .log_group(&l.log_group)
                .log_stream_prefix(&l.log_stream_prefix)
                .build()
                .map_err(invalid)?,
        ),
        None => None,
    };
    let secrets = c
        .secrets
        .iter()
        .map(|s| {
            sdk::Secret::builder()
                .name(&s.name)
                .value_from(&s.value_from)
                .build()
                .map_err(invalid)
        })
        .collect::<Result<Vec<_>>>()?;
    sdk::ExpressGatewayContainer::builder()
        .image(&c.image)
        .set_container_port(c.container_port)
        .set_aws_logs_configuration(logs)
        .set_repository_credentials(c.repository_credentials.as_ref().map(|r| {
            sdk::ExpressGatewayRepositoryCredentials::builder()
                .set_credentials_parameter(r.credentials_parameter.clone())
                .build()
        }))
        .set_command(send("command", c.command.is_empty()).then(|| c.command.clone()))
        .set_environment(send("environment", c.environment.is_empty()).then(|| {
            c.environment
                .iter()
                .map(|kv| {
                    sdk::KeyValuePair::builder()
                        .name(&kv.name)
                        .set_value(kv.value.clone())
                        .build()
                })
                .collect()
        }))
        .set_secrets(send("secrets", secrets.is_empty()).then_some(secrets))
        .build()
        .map_err(invalid)
}

fn network_to_sdk(n: &NetworkConfiguration) -> sdk::ExpressGatewayServiceNetworkConfiguration {
    sdk::ExpressGatewayServiceNetworkConfiguration::builder()
        .set_security_groups((!n.security_groups.is_empty()).then(|| n.security_groups.clone()))
        .set_subnets((!n.subnets.is_empty()).then(|| n.subnets.clone()))
        .build()
}

fn scaling_to_sdk(s: &ScalingTarget) -> sdk::ExpressGatewayScalingTarget {
    sdk::ExpressGatewayScalingTarget::builder()
        .set_min_task_count(s.min_task_count)
        .set_max_task_count(s.max_task_count)
        .set_auto_scaling_metric(
            s.auto_scaling_metric
                .map(|m: ScalingMetric| sdk::ExpressGatewayServiceScalingMetric::from(metric_name(m))),
        )
        .set_auto_scaling_target_value(s.auto_scaling_target_value)
        .build()
}

fn cpu_architecture_to_sdk(a: CpuArchitecture) -> sdk::ExpressCpuArchitecture {
    match a {
        CpuArchitecture::X86_64 => sdk::ExpressCpuArchitecture::X8664,
        CpuArchitecture::ARM64 => sdk::ExpressCpuArchitecture::Arm64,
    }
}

fn tag_to_sdk(t: &Tag) -> sdk::Tag {
    sdk::Tag::builder().key(&t.key).set_value(t.value.clone()).build()
}

fn tag_from_sdk(t: &sdk::Tag) -> Tag {
    Tag {
        key: t.key().unwrap_or_default().to_string(),
        value: t.value().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime;

    fn at() -> DateTime {
        DateTime::from_secs(1_767_225_600)
    }

    #[test]
    fn managed_resources_are_flattened_in_aws_order_with_their_own_status_strings() {
        let status = |s: &str| sdk::ManagedResourceStatus::from(s);
        let group = |arn: &str| {
            sdk::ManagedSecurityGroup::builder()
                .arn(arn)
                .status(status("ACTIVE"))
                .updated_at(at())
                .build()
                .unwrap()
        };
        let path = sdk::ManagedIngressPath::builder()
            .access_type(sdk::AccessType::Public)
            .endpoint("web.ecs.us-east-1.on.aws")
            .load_balancer(
                sdk::ManagedLoadBalancer::builder()
                    .arn("lb")
                    .status(status("FAILED"))
                    .status_reason("quota")
                    .updated_at(at())
                    .scheme("internet-facing")
                    .build()
                    .unwrap(),
            )
            .load_balancer_security_groups(group("lb-sg"))
            .listener(
                sdk::ManagedListener::builder()
                    .arn("listener")
                    .status(status("ACTIVE"))
                    .updated_at(at())
                    .build()
                    .unwrap(),
            )
            .target_groups(
                sdk::ManagedTargetGroup::builder()
                    .arn("tg")
                    .status(status("PROVISIONING"))
                    .updated_at(at())
                    .health_check_path("/")
                    .health_check_port(80)
                    .port(80)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let managed = sdk::EcsManagedResources::builder()
            .ingress_paths(path)
            .service_security_groups(group("svc-sg"))
            .auto_scaling(
                sdk::ManagedAutoScaling::builder()
                    .scalable_target(
                        sdk::ManagedScalableTarget::builder()
                            .arn("target")
                            .status(status("SOMETHING_NEW"))
                            .updated_at(at())
                            .min_capacity(1)
                            .max_capacity(3)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .log_groups(
                sdk::ManagedLogGroup::builder()
                    .status(status("ACTIVE"))
                    .updated_at(at())
                    .log_group_name("/aws/ecs/default/web")
                    .build()
                    .unwrap(),
            )
            .build();
        let rows: Vec<(String, Option<String>, String, Option<String>)> = managed_from_sdk(&managed)
            .into_iter()
            .map(|r| (r.kind, r.arn, r.status, r.status_reason))
            .collect();
        let row = |kind: &str, arn: Option<&str>, status: &str, reason: Option<&str>| {
            (
                kind.to_string(),
                arn.map(str::to_string),
                status.to_string(),
                reason.map(str::to_string),
            )
        };
        assert_eq!(
            rows,
            [
                row("LoadBalancer", Some("lb"), "FAILED", Some("quota")),
                row("LoadBalancerSecurityGroup", Some("lb-sg"), "ACTIVE", None),
                row("Listener", Some("listener"), "ACTIVE", None),
                row("TargetGroup", Some("tg"), "PROVISIONING", None),
                row("ServiceSecurityGroup", Some("svc-sg"), "ACTIVE", None),
                // A status AWS adds later is kept as AWS spells it.
                row("ScalableTarget", Some("target"), "SOMETHING_NEW", None),
                // A resource without an ARN is still listed.
                row("LogGroup", None, "ACTIVE", None),
            ]
        );
    }
}
