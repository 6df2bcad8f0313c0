//! `runway migrate apprunner`: turns an `AppRunnerService` into an equivalent `ExpressService`
//! manifest, for teams leaving App Runner (it takes no new customers after 30 April 2026, and AWS
//! points its users to ECS Express Mode).
//!
//! Data flow: `run` (I/O) reads the AppRunnerService from the cluster or a file and, with
//! `--resolve`, the referenced auto scaling configuration and VPC connector from AWS (read-only);
//! [`map`] (pure) decides every field and explains each decision; [`render`] prints the manifest
//! with a comment header that reports them. Nothing is ever created, changed or deleted.

pub mod run;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use kube::api::ObjectMeta;

use crate::api::apprunner::{
    AppRunnerService, AppRunnerServiceSpec, ImageConfiguration, SourceConfiguration,
};
use crate::api::common::Tag;
use crate::api::express::{
    ExpressGatewayContainer, ExpressService, ExpressServiceSpec, KeyValuePair, NetworkConfiguration,
    ScalingMetric, ScalingTarget, Secret,
};
use crate::plan::OWNER_TAG;

/// What the command line adds to the mapping: the roles Express needs and App Runner did not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// The ECS infrastructure role for Express Mode (it manages the load balancer, target groups
    /// and scaling); App Runner had none.
    pub infrastructure_role_arn: Option<String>,
    /// The task execution role (pulls the image, reads the secrets, writes logs); App Runner used
    /// its access role and instance role for these.
    pub execution_role_arn: Option<String>,
    /// `metadata.name` of the new resource (default: the AppRunnerService's).
    pub name: Option<String>,
    /// The mean response time, in milliseconds, used to turn App Runner's concurrency target into
    /// requests per target per minute (default 1000).
    pub request_latency_ms: Option<u32>,
}

/// An App Runner auto scaling configuration, as `DescribeAutoScalingConfiguration` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoScaling {
    /// Its ARN.
    pub arn: String,
    /// Concurrent requests one instance serves before App Runner scales out.
    pub max_concurrency: i32,
    /// Fewest instances.
    pub min_size: i32,
    /// Most instances.
    pub max_size: i32,
}

/// An App Runner VPC connector, as `DescribeVpcConnector` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcConnector {
    /// Its ARN.
    pub arn: String,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// Its security groups.
    pub security_groups: Vec<String>,
}

/// What `--resolve` read from AWS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resolved {
    /// The service's auto scaling configuration (its own, or App Runner's default).
    pub auto_scaling: Option<AutoScaling>,
    /// The service's VPC connector, when it has one.
    pub vpc_connector: Option<VpcConnector>,
    /// Whether `--resolve` was given (a missing item then means AWS has none to read).
    pub asked: bool,
}

/// A generated manifest and what was decided for it.
#[derive(Clone, Debug)]
pub struct Migration {
    /// The ExpressService to apply.
    pub manifest: ExpressService,
    /// One line per mapping decision: what went where, and why.
    pub decisions: Vec<String>,
    /// One line per thing that did not carry over, with what to do instead.
    pub warnings: Vec<String>,
    /// Who can reach the new service that could reach the old one, or the reverse: each is printed
    /// as a `WARNING` line on standard error (and in the header), never silently.
    pub exposure: Vec<ExposureChange>,
}

/// A change in who can reach the service, which the migration makes and the user must see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExposureChange {
    /// A public App Runner service with VPC egress: App Runner's connector carried outbound traffic
    /// only, while Express puts its load balancer in the connector's subnets, which is internal
    /// unless they are public. Connectors are usually in private subnets, so a service reachable
    /// from the internet becomes reachable only inside the VPC.
    PublicToInternal {
        /// The VPC connector whose subnets the load balancer goes into.
        connector_arn: String,
        /// Those subnets.
        subnets: Vec<String>,
    },
    /// A private App Runner service (`isPubliclyAccessible: false`, reached through a VPC
    /// interface endpoint) without a VPC connector the new service runs in: Express puts an
    /// internet-facing load balancer in the default VPC's public subnets.
    PrivateToPublic,
    /// A private App Runner service whose new load balancer goes into the VPC connector's subnets:
    /// internal in private subnets, internet-facing in public ones; the VPC interface endpoint and
    /// ingress connection no longer lead to it.
    PrivateToSubnets {
        /// The VPC connector whose subnets the load balancer goes into.
        connector_arn: String,
        /// Those subnets.
        subnets: Vec<String>,
    },
    /// A dual-stack App Runner service: the Express load balancer is IPv4 only, so IPv6 clients
    /// lose it.
    DualStackToIpv4,
}

impl std::fmt::Display for ExposureChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PublicToInternal {
                connector_arn,
                subnets,
            } => write!(
                f,
                "the App Runner service is public and sends its outbound traffic through VPC connector \
                 {connector_arn}; the Express load balancer goes into that connector's subnets ({}) and is \
                 INTERNAL (not reachable from the internet) unless they are public subnets. To keep the \
                 service public, put public subnets in networkConfiguration.subnets",
                subnets.join(", ")
            ),
            Self::PrivateToPublic => f.write_str(
                "the App Runner service is private (ingressConfiguration.isPubliclyAccessible false), \
                 but the Express load balancer goes into the default VPC's public subnets and is \
                 INTERNET-FACING. To keep it private, put private subnets in networkConfiguration.subnets \
                 before applying",
            ),
            Self::PrivateToSubnets {
                connector_arn,
                subnets,
            } => write!(
                f,
                "the App Runner service is private (ingressConfiguration.isPubliclyAccessible false, \
                 reached through a VPC interface endpoint); the Express load balancer goes into VPC \
                 connector {connector_arn}'s subnets ({}) and is INTERNET-FACING if any of them is \
                 public. Check they are private; clients of the VPC endpoint must move to the new \
                 load balancer",
                subnets.join(", ")
            ),
            Self::DualStackToIpv4 => f.write_str(
                "the App Runner service is dual-stack (ipAddressType DUAL_STACK), but runway sets no \
                 IPv6 for Express: the load balancer is IPv4 only and IPv6 clients cannot reach it",
            ),
        }
    }
}

/// How the migration changes who can reach the service (pure): from the App Runner spec and the
/// networking the new manifest got (`network`, from the resolved VPC connector, or `None` for the
/// default VPC).
pub fn exposure_changes(
    spec: &AppRunnerServiceSpec,
    network: Option<&NetworkConfiguration>,
) -> Vec<ExposureChange> {
    let config = spec.network_configuration.as_ref();
    let public = config
        .and_then(|n| n.ingress_configuration.as_ref())
        .and_then(|i| i.is_publicly_accessible)
        != Some(false);
    let connector_arn = config
        .and_then(|n| n.egress_configuration.as_ref())
        .and_then(|e| e.vpc_connector_arn.clone())
        .unwrap_or_default();
    let mut changes = Vec::new();
    match (public, network) {
        (true, None) => {}
        (true, Some(n)) => changes.push(ExposureChange::PublicToInternal {
            connector_arn,
            subnets: n.subnets.clone(),
        }),
        (false, None) => changes.push(ExposureChange::PrivateToPublic),
        (false, Some(n)) => changes.push(ExposureChange::PrivateToSubnets {
            connector_arn,
            subnets: n.subnets.clone(),
        }),
    }
    if config
        .and_then(|n| n.ip_address_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("DUAL_STACK"))
    {
        changes.push(ExposureChange::DualStackToIpv4);
    }
    changes
}

/// The lines `runway migrate apprunner` prints on standard error for one migrated resource
/// (`origin` names it): a `WARNING` line per exposure change, then a `warning` line per setting
/// that did not carry over. Standard output keeps only the manifest.
pub fn stderr_lines(m: &Migration, origin: &str) -> Vec<String> {
    let exposure = m
        .exposure
        .iter()
        .map(|e| format!("WARNING: {origin}: exposure changes: {e}"));
    let warnings = m.warnings.iter().map(|w| format!("warning: {origin}: {w}"));
    exposure.chain(warnings).collect()
}

/// App Runner's defaults for a service that sets no instance size (1 vCPU, 2 GB).
const APP_RUNNER_DEFAULT_CPU: &str = "1024";
const APP_RUNNER_DEFAULT_MEMORY: &str = "2048";
/// App Runner's default port when the image configuration sets none.
const APP_RUNNER_DEFAULT_PORT: i32 = 8080;

/// Fargate CPU units for an App Runner CPU value (`1 vCPU` or `1024`).
pub fn fargate_cpu(value: &str) -> Option<&'static str> {
    match value.trim().to_ascii_lowercase().as_str() {
        "256" | "0.25 vcpu" => Some("256"),
        "512" | "0.5 vcpu" => Some("512"),
        "1024" | "1 vcpu" => Some("1024"),
        "2048" | "2 vcpu" => Some("2048"),
        "4096" | "4 vcpu" => Some("4096"),
        _ => None,
    }
}

/// Memory in MiB for an App Runner memory value (`2 GB` or `2048`).
pub fn fargate_memory(value: &str) -> Option<String> {
    let v = value.trim().to_ascii_lowercase();
    let mib = match v.strip_suffix("gb").map(str::trim) {
        Some(gb) => {
            let gb: f64 = gb.parse().ok()?;
            (gb * 1024.0).round() as i64
        }
        None => v.parse::<i64>().ok()?,
    };
    (mib > 0).then(|| mib.to_string())
}

/// Whether Fargate runs a task of `cpu` units with `memory` MiB (the same table the CRD checks).
pub fn fargate_pair_valid(cpu: &str, memory: &str) -> bool {
    let Ok(m) = memory.parse::<i64>() else {
        return false;
    };
    match cpu {
        "256" => [512, 1024, 2048].contains(&m),
        "512" => (1024..=4096).contains(&m) && m % 1024 == 0,
        "1024" => (2048..=8192).contains(&m) && m % 1024 == 0,
        "2048" => (4096..=16384).contains(&m) && m % 1024 == 0,
        "4096" => (8192..=30720).contains(&m) && m % 1024 == 0,
        _ => false,
    }
}

/// Splits an App Runner start command (one string) into ECS's command list. A command that uses
/// the shell (pipes, redirections, variables, quotes, `&&`, globs) runs through `/bin/sh -c`, as it
/// did on App Runner; a plain one is split on whitespace.
pub fn split_command(command: &str) -> (Vec<String>, bool) {
    let shell = command.chars().any(|c| "|&;<>()$`\\\"'*?[]#~={}!".contains(c));
    if shell {
        (
            vec!["/bin/sh".into(), "-c".into(), command.trim().to_string()],
            true,
        )
    } else {
        (command.split_whitespace().map(str::to_string).collect(), false)
    }
}

/// Maps an AppRunnerService onto an ExpressService, or says why it cannot be (every reason, not
/// only the first).
pub fn map(
    source: &AppRunnerService,
    options: &Options,
    resolved: &Resolved,
) -> Result<Migration, Vec<String>> {
    let spec = &source.spec;
    let mut errors = Vec::new();
    let mut decisions = Vec::new();
    let mut warnings = Vec::new();
    let src = &spec.source_configuration;

    required_inputs(src, options, &mut errors);
    let image = src.image_repository.as_ref();
    let config = image.and_then(|i| i.image_configuration.as_ref());
    let container_port = container_port(config, &mut decisions, &mut errors);
    let (cpu, memory) = instance_size(spec, &mut decisions, &mut errors);
    let command = start_command(config, &mut decisions);
    let environment = environment(config, &mut decisions);
    let secrets = secrets(config, &mut decisions);
    image_source(src, &mut decisions, &mut warnings);
    let task_role_arn = task_role(spec, &mut decisions);
    let health_check_path = health_check(spec, &mut decisions, &mut warnings);
    let scaling_target = scaling(spec, options, resolved, &mut decisions, &mut warnings);
    let network_configuration = network(spec, resolved, &mut decisions, &mut warnings);
    let exposure = exposure_changes(spec, network_configuration.as_ref());
    not_carried_over(spec, &mut warnings);
    let tags = tags(spec, &mut decisions);
    naming(spec, &mut decisions);

    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(image) = image else {
        return Err(vec!["sourceConfiguration has no imageRepository".into()]);
    };
    let manifest = ExpressService {
        metadata: metadata(source, options),
        spec: ExpressServiceSpec {
            region: spec.region.clone(),
            service_arn: None,
            deletion_policy: None,
            redeploy_token: None,
            service_name: spec.service_name.clone(),
            cluster: None,
            infrastructure_role_arn: options.infrastructure_role_arn.clone(),
            execution_role_arn: options.execution_role_arn.clone(),
            task_role_arn,
            health_check_path,
            primary_container: Some(ExpressGatewayContainer {
                image: image.image_identifier.clone(),
                container_port,
                aws_logs_configuration: None,
                repository_credentials: None,
                command,
                environment,
                secrets,
            }),
            network_configuration,
            cpu,
            memory,
            cpu_architecture: None,
            scaling_target,
            task_definition_arn: None,
            tags,
        },
        status: None,
    };
    Ok(Migration {
        manifest,
        decisions,
        warnings,
        exposure,
    })
}

/// What the mapping cannot do without: an image source (not source code) and the two roles that
/// Express needs and App Runner did not have.
fn required_inputs(src: &SourceConfiguration, options: &Options, errors: &mut Vec<String>) {
    if src.code_repository.is_some() {
        errors.push(
            "sourceConfiguration.codeRepository: Express Mode runs a container image, not source code. \
             Build the image in CI (App Runner's build and start commands go into a Dockerfile), push it \
             to ECR, switch the AppRunnerService to imageRepository, then migrate again"
                .to_string(),
        );
    }
    if options.infrastructure_role_arn.is_none() {
        errors.push(
            "--infrastructure-role-arn is required: Express Mode needs an infrastructure role to manage \
             the load balancer, target groups and scaling (App Runner had none)"
                .to_string(),
        );
    }
    if options.execution_role_arn.is_none() {
        errors.push(
            "--execution-role-arn is required: the ECS task execution role pulls the image, reads the \
             secrets and writes the logs (App Runner used its access and instance roles)"
                .to_string(),
        );
    }
}

/// The container port: the image configuration's port, else App Runner's default written
/// explicitly (Express's default differs).
fn container_port(
    config: Option<&ImageConfiguration>,
    decisions: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> Option<i32> {
    match config.and_then(|c| c.port.as_deref()) {
        Some(port) => match port.trim().parse::<i32>() {
            Ok(p) if (1..=65535).contains(&p) => {
                decisions.push(format!(
                    "imageConfiguration.port {port:?} -> primaryContainer.containerPort {p}"
                ));
                Some(p)
            }
            _ => {
                errors.push(format!(
                    "sourceConfiguration.imageRepository.imageConfiguration.port {port:?} is not a port number"
                ));
                None
            }
        },
        None => {
            decisions.push(format!(
                "no port set: App Runner's default is {APP_RUNNER_DEFAULT_PORT}, Express's is 80, so \
                 containerPort {APP_RUNNER_DEFAULT_PORT} is written explicitly"
            ));
            Some(APP_RUNNER_DEFAULT_PORT)
        }
    }
}

/// The container command, from the image configuration's start command (see [`split_command`]).
fn start_command(config: Option<&ImageConfiguration>, decisions: &mut Vec<String>) -> Vec<String> {
    let Some(start) = config
        .and_then(|c| c.start_command.as_deref())
        .filter(|s| !s.trim().is_empty())
    else {
        return Vec::new();
    };
    let (list, shell) = split_command(start);
    if shell {
        decisions.push(
            "imageConfiguration.startCommand uses the shell -> primaryContainer.command runs it with \
             /bin/sh -c (the image must contain /bin/sh)"
                .to_string(),
        );
    } else {
        decisions.push(format!(
            "imageConfiguration.startCommand -> primaryContainer.command {list:?} (split on whitespace)"
        ));
    }
    list
}

/// The container environment, from the runtime environment variables, sorted by name.
fn environment(config: Option<&ImageConfiguration>, decisions: &mut Vec<String>) -> Vec<KeyValuePair> {
    let mut environment: Vec<KeyValuePair> = config
        .map(|c| {
            c.runtime_environment_variables
                .iter()
                .map(|(name, value)| KeyValuePair {
                    name: name.clone(),
                    value: Some(value.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    environment.sort();
    if !environment.is_empty() {
        decisions.push(format!(
            "imageConfiguration.runtimeEnvironmentVariables ({}) -> primaryContainer.environment",
            environment.len()
        ));
    }
    environment
}

/// The container secrets, from the runtime environment secrets (their ARNs kept), sorted by name.
fn secrets(config: Option<&ImageConfiguration>, decisions: &mut Vec<String>) -> Vec<Secret> {
    let mut secrets: Vec<Secret> = config
        .map(|c| {
            c.runtime_environment_secrets
                .iter()
                .map(|(name, arn)| Secret {
                    name: name.clone(),
                    value_from: arn.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    secrets.sort();
    if !secrets.is_empty() {
        decisions.push(format!(
            "imageConfiguration.runtimeEnvironmentSecrets ({}) -> primaryContainer.secrets (valueFrom \
             keeps each Secrets Manager or SSM ARN; the execution role must be allowed to read them)",
            secrets.len()
        ));
    }
    secrets
}

/// How the image was deployed and pulled: automatic deployments do not carry over, and the access
/// role is replaced by the execution role.
fn image_source(src: &SourceConfiguration, decisions: &mut Vec<String>, warnings: &mut Vec<String>) {
    if let Some(image) = &src.image_repository {
        // The image leads the decisions: it is what a reader checks first.
        decisions.insert(
            0,
            format!(
                "imageRepository.imageIdentifier -> primaryContainer.image {}",
                image.image_identifier
            ),
        );
    }
    if src.auto_deployments_enabled == Some(true) {
        warnings.push(
            "sourceConfiguration.autoDeploymentsEnabled: Express does not watch the image repository. \
             Deploy a new image tag from CI, or change spec.redeployToken to roll out the same tag again"
                .to_string(),
        );
    }
    if src
        .authentication_configuration
        .as_ref()
        .is_some_and(|a| a.access_role_arn.is_some())
    {
        decisions.push(
            "authenticationConfiguration.accessRoleArn is not needed: the execution role pulls the image \
             (give it ecr:GetAuthorizationToken and ecr:BatchGetImage on the repository)"
                .to_string(),
        );
    }
}

/// The task role, from the instance role.
fn task_role(spec: &AppRunnerServiceSpec, decisions: &mut Vec<String>) -> Option<String> {
    let task_role_arn = spec
        .instance_configuration
        .as_ref()
        .and_then(|i| i.instance_role_arn.clone());
    if task_role_arn.is_some() {
        decisions.push("instanceConfiguration.instanceRoleArn -> taskRoleArn".to_string());
    }
    task_role_arn
}

/// Settings Express has no place for: tracing, the KMS key and pausing.
fn not_carried_over(spec: &AppRunnerServiceSpec, warnings: &mut Vec<String>) {
    if let Some(o) = spec
        .observability_configuration
        .as_ref()
        .filter(|o| o.observability_enabled)
    {
        warnings.push(format!(
            "observabilityConfiguration{}: App Runner's X-Ray tracing does not carry over. Add the AWS \
             Distro for OpenTelemetry collector as a sidecar (taskDefinitionArn) or use CloudWatch \
             Application Signals",
            o.observability_configuration_arn
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        ));
    }
    if spec.encryption_configuration.is_some() {
        warnings.push(
            "encryptionConfiguration.kmsKey: App Runner encrypted its copy of the source and its logs with \
             this key; Express has no such setting. Encrypt the log group with the key instead"
                .to_string(),
        );
    }
    if spec.paused == Some(true) {
        warnings.push(
            "paused: Express services cannot be paused. The new service starts serving; set \
             scalingTarget.minTaskCount to 0 if it must stay idle"
                .to_string(),
        );
    }
}

/// The spec's tags, without runway's owner tag (the new resource gets its own).
fn tags(spec: &AppRunnerServiceSpec, decisions: &mut Vec<String>) -> Vec<Tag> {
    let tags: Vec<Tag> = spec.tags.iter().filter(|t| t.key != OWNER_TAG).cloned().collect();
    if !tags.is_empty() {
        decisions.push(format!("tags ({}) -> tags", tags.len()));
    }
    tags
}

/// The service name and Region, which carry over as they are.
fn naming(spec: &AppRunnerServiceSpec, decisions: &mut Vec<String>) {
    if let Some(n) = &spec.service_name {
        decisions.push(format!(
            "serviceName {n:?} -> serviceName (ECS names live apart from App Runner's: both can run at once)"
        ));
    }
    if let Some(r) = &spec.region {
        decisions.push(format!("region {r} -> region"));
    }
}

/// The new resource's metadata: `--name` or the source's name, its namespace, and its labels
/// except runway's own.
fn metadata(source: &AppRunnerService, options: &Options) -> ObjectMeta {
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| source.metadata.name.clone().unwrap_or_else(|| "migrated".into()));
    let labels: BTreeMap<String, String> = source
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("runway.dev/"))
        .collect();
    ObjectMeta {
        name: Some(name),
        namespace: source.metadata.namespace.clone(),
        labels: (!labels.is_empty()).then_some(labels),
        ..ObjectMeta::default()
    }
}

fn instance_size(
    spec: &AppRunnerServiceSpec,
    decisions: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> (Option<String>, Option<String>) {
    let instance = spec.instance_configuration.as_ref();
    let cpu_in = instance.and_then(|i| i.cpu.as_deref());
    let memory_in = instance.and_then(|i| i.memory.as_deref());
    let cpu = match cpu_in {
        Some(v) => match fargate_cpu(v) {
            Some(c) => c.to_string(),
            None => {
                errors.push(format!(
                    "instanceConfiguration.cpu {v:?} has no Fargate equivalent (256, 512, 1024, 2048, 4096)"
                ));
                return (None, None);
            }
        },
        None => APP_RUNNER_DEFAULT_CPU.to_string(),
    };
    let memory = match memory_in {
        Some(v) => match fargate_memory(v) {
            Some(m) => m,
            None => {
                errors.push(format!("instanceConfiguration.memory {v:?} is not a memory size"));
                return (None, None);
            }
        },
        None => APP_RUNNER_DEFAULT_MEMORY.to_string(),
    };
    if !fargate_pair_valid(&cpu, &memory) {
        errors.push(format!(
            "instanceConfiguration: {cpu} CPU units with {memory} MiB is not a Fargate task size"
        ));
        return (None, None);
    }
    match (cpu_in, memory_in) {
        (None, None) => decisions.push(format!(
            "no instance size set: App Runner's default (1 vCPU, 2 GB) is written explicitly as cpu {cpu}, \
             memory {memory}, because the Express defaults are disputed (docs/aws-behaviour.md E13)"
        )),
        _ => decisions.push(format!(
            "instanceConfiguration cpu {:?}, memory {:?} -> cpu {cpu}, memory {memory} (a valid Fargate size)",
            cpu_in.unwrap_or("default 1 vCPU"),
            memory_in.unwrap_or("default 2 GB")
        )),
    }
    (Some(cpu), Some(memory))
}

fn health_check(
    spec: &AppRunnerServiceSpec,
    decisions: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let hc = spec.health_check_configuration.as_ref();
    let protocol = hc
        .and_then(|h| h.protocol.as_deref())
        .unwrap_or("TCP")
        .to_ascii_uppercase();
    if protocol == "HTTP" {
        let path = hc.and_then(|h| h.path.clone()).unwrap_or_else(|| "/".into());
        decisions.push(format!(
            "healthCheckConfiguration HTTP {path} -> healthCheckPath {path}"
        ));
        if hc.is_some_and(|h| {
            h.interval.is_some()
                || h.timeout.is_some()
                || h.healthy_threshold.is_some()
                || h.unhealthy_threshold.is_some()
        }) {
            warnings.push(
                "healthCheckConfiguration interval, timeout and thresholds: Express sets the load balancer's \
                 health check timing itself; only the path carries over"
                    .to_string(),
            );
        }
        return Some(path);
    }
    warnings.push(
        "healthCheckConfiguration: App Runner checked a TCP connection; Express's load balancer checks \
         HTTP. Set healthCheckPath to a path that answers 200 once the app is up (Express otherwise \
         uses its default path)"
            .to_string(),
    );
    None
}

fn scaling(
    spec: &AppRunnerServiceSpec,
    options: &Options,
    resolved: &Resolved,
    decisions: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<ScalingTarget> {
    let Some(a) = &resolved.auto_scaling else {
        match (&spec.auto_scaling_configuration_arn, resolved.asked) {
            (Some(arn), _) => warnings.push(format!(
                "autoScalingConfigurationArn {arn}: not read; run with --resolve to carry its minimum, \
                 maximum and concurrency over (Express's default scaling applies otherwise)"
            )),
            (None, false) => warnings.push(
                "scaling: App Runner's default (1 to 25 instances, 100 concurrent requests each) is not \
                 carried over; run with --resolve to carry the service's scaling over (Express's default \
                 scaling applies otherwise)"
                    .to_string(),
            ),
            (None, true) => {}
        }
        return None;
    };
    let latency = options.request_latency_ms.unwrap_or(1000).max(1);
    let per_minute = (i64::from(a.max_concurrency) * 60_000 / i64::from(latency)).clamp(1, 100_000) as i32;
    decisions.push(format!(
        "auto scaling {} -> scalingTarget minTaskCount {}, maxTaskCount {}",
        a.arn, a.min_size, a.max_size
    ));
    decisions.push(format!(
        "App Runner scaled at {} concurrent requests per instance; Express has no concurrency metric, so \
         the closest one, REQUEST_COUNT_PER_TARGET (requests per task per minute), targets {per_minute} = \
         {} x 60 s / {latency} ms mean response time (--request-latency-ms; tune it to your latency)",
        a.max_concurrency, a.max_concurrency
    ));
    Some(ScalingTarget {
        min_task_count: Some(a.min_size),
        max_task_count: Some(a.max_size),
        auto_scaling_metric: Some(ScalingMetric::REQUEST_COUNT_PER_TARGET),
        auto_scaling_target_value: Some(per_minute),
    })
}

fn network(
    spec: &AppRunnerServiceSpec,
    resolved: &Resolved,
    decisions: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<NetworkConfiguration> {
    // NB: who can reach the service (private ingress, dual stack, the load balancer's subnets) is
    // decided by `exposure_changes`, from what this returns.
    let network = spec.network_configuration.as_ref();
    let connector_arn = network
        .and_then(|n| n.egress_configuration.as_ref())
        .filter(|e| e.egress_type.as_deref() == Some("VPC"))
        .and_then(|e| e.vpc_connector_arn.clone());
    let arn = connector_arn?;
    let Some(c) = resolved.vpc_connector.as_ref().filter(|c| c.arn == arn) else {
        warnings.push(format!(
            "egressConfiguration.vpcConnectorArn {arn}: not read; run with --resolve to carry its subnets \
             and security groups over (the service otherwise runs in the default VPC)"
        ));
        return None;
    };
    let mut subnets = c.subnets.clone();
    subnets.sort();
    let mut security_groups = c.security_groups.clone();
    security_groups.sort();
    decisions.push(format!(
        "VPC connector {arn} -> networkConfiguration (subnets {}, security groups {}). Express runs the \
         tasks and its load balancer there: the load balancer is internet-facing only in public subnets",
        subnets.join(", "),
        if security_groups.is_empty() {
            "none".to_string()
        } else {
            security_groups.join(", ")
        }
    ));
    Some(NetworkConfiguration {
        security_groups,
        subnets,
    })
}

/// The manifest as YAML, after a comment header that reports where it came from, every mapping
/// decision and every warning.
pub fn render(m: &Migration, origin: &str) -> crate::Result<String> {
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by `runway migrate apprunner` from {origin}.\n"
    ));
    out.push_str(
        "# It creates a new Express service beside the App Runner one; nothing was changed in AWS.\n",
    );
    out.push_str("#\n# Mapping decisions:\n");
    for d in &m.decisions {
        out.push_str(&format!("#   - {d}\n"));
    }
    if !m.exposure.is_empty() {
        out.push_str("#\n# Exposure changes (who can reach the service):\n");
        for e in &m.exposure {
            out.push_str(&format!("#   - WARNING: {e}\n"));
        }
    }
    if m.warnings.is_empty() {
        out.push_str("#\n# Nothing was left behind.\n");
    } else {
        out.push_str("#\n# Did not carry over (what to do instead):\n");
        for w in &m.warnings {
            out.push_str(&format!("#   - WARNING: {w}\n"));
        }
    }
    let mut value = serde_json::to_value(&m.manifest).map_err(|source| crate::Error::Serialize {
        what: "the ExpressService manifest".into(),
        source,
    })?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("status");
    }
    let yaml = crate::manifests::to_string(&value).map_err(|source| crate::Error::Yaml {
        what: "the ExpressService manifest".into(),
        source,
    })?;
    out.push_str(&yaml);
    Ok(out)
}
