//! The I/O of `runway migrate apprunner`: read the AppRunnerService (cluster or file), read what
//! `--resolve` asks for from App Runner (Describe calls only), then print what `map` decided.

use std::path::PathBuf;

use kube::{Api, Client};

use super::{AutoScaling, Options, Resolved, VpcConnector, map, render};
use crate::api::apprunner::AppRunnerService;
use crate::aws::{AwsClients, AwsSettings, RegionClients};
use crate::metrics::Metrics;
use crate::{Error, Result};

/// Flags of `runway migrate apprunner`.
#[derive(clap::Args, Debug, Clone)]
pub struct MigrateArgs {
    /// The AppRunnerService to read from the cluster (with `-n`).
    #[arg(required_unless_present = "filename", conflicts_with = "filename")]
    pub name: Option<String>,
    /// Its namespace (default: `default`).
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Read the AppRunnerServices from this manifest file or directory instead (`-` for standard
    /// input); every AppRunnerService in it is migrated.
    #[arg(short = 'f', long)]
    pub filename: Option<PathBuf>,
    /// Read the referenced auto scaling configuration and VPC connector from App Runner (Describe
    /// calls only) to carry scaling and networking over.
    #[arg(long)]
    pub resolve: bool,
    /// The ECS infrastructure role Express Mode needs (App Runner had none).
    #[arg(long)]
    pub infrastructure_role_arn: Option<String>,
    /// The ECS task execution role (pulls the image, reads secrets, writes logs).
    #[arg(long)]
    pub execution_role_arn: Option<String>,
    /// `metadata.name` of the generated ExpressService (default: the AppRunnerService's).
    #[arg(long = "name")]
    pub new_name: Option<String>,
    /// Mean response time in milliseconds, to turn App Runner's concurrency target into requests per
    /// task per minute.
    #[arg(long, default_value_t = 1000)]
    pub request_latency_ms: u32,
    /// Region for `--resolve` when the resource names none.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Send the `--resolve` calls to this endpoint (for example `runway simulate-aws`).
    #[arg(long, env = "RUNWAY_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
}

/// Runs the command: prints the manifests on standard output and the warnings on standard error.
/// Fails (exit 1) when a resource cannot be migrated, saying every reason.
pub async fn run(args: MigrateArgs) -> Result<()> {
    let sources = load(&args).await?;
    if sources.is_empty() {
        return Err(Error::InvalidSpec(
            "no AppRunnerService found in the input".into(),
        ));
    }
    let aws = args.resolve.then(|| {
        AwsClients::new(
            AwsSettings {
                default_region: args.region.clone(),
                endpoint_url: args.aws_endpoint_url.clone(),
                placeholder_credentials: false,
                attempt_timeout: std::time::Duration::from_secs(10),
                operation_timeout: std::time::Duration::from_secs(30),
                budget: crate::aws::budget::BudgetSettings::default(),
            },
            Metrics::new(),
        )
    });
    let options = Options {
        infrastructure_role_arn: args.infrastructure_role_arn.clone(),
        execution_role_arn: args.execution_role_arn.clone(),
        name: args.new_name.clone(),
        request_latency_ms: Some(args.request_latency_ms),
    };
    let mut documents = Vec::new();
    let mut failures = Vec::new();
    for source in &sources {
        let origin = format!(
            "AppRunnerService {}/{}",
            source.metadata.namespace.as_deref().unwrap_or("default"),
            source.metadata.name.as_deref().unwrap_or_default()
        );
        let resolved = match &aws {
            Some(aws) => resolve(aws, source, &args.region).await?,
            None => Resolved::default(),
        };
        match map(source, &options, &resolved) {
            Ok(migration) => {
                for w in &migration.warnings {
                    eprintln!("warning: {origin}: {w}");
                }
                documents.push(render(&migration, &origin)?);
            }
            Err(reasons) => {
                for r in &reasons {
                    eprintln!("error: {origin}: {r}");
                }
                failures.push(origin);
            }
        }
    }
    print!("{}", documents.join("---\n"));
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidSpec(format!(
            "cannot migrate {} (reasons above)",
            failures.join(", ")
        )))
    }
}

/// The AppRunnerServices to migrate: from the file (every document of that kind) or the cluster.
async fn load(args: &MigrateArgs) -> Result<Vec<AppRunnerService>> {
    if let Some(path) = &args.filename {
        let text = crate::manifests::read(path)?;
        return parse_manifests(&text);
    }
    let name = args.name.clone().unwrap_or_default();
    let client = Client::try_default()
        .await
        .map_err(|e| Error::kube("connecting to Kubernetes", e))?;
    let api: Api<AppRunnerService> = Api::namespaced(client, &args.namespace);
    let obj = api
        .get(&name)
        .await
        .map_err(|e| Error::kube(format!("reading AppRunnerService {}/{name}", args.namespace), e))?;
    Ok(vec![obj])
}

/// Every AppRunnerService in a multi-document YAML or JSON text; other kinds are skipped.
pub fn parse_manifests(text: &str) -> Result<Vec<AppRunnerService>> {
    crate::manifests::documents(text)?
        .into_iter()
        .filter(|doc| doc.get("kind").and_then(|k| k.as_str()) == Some("AppRunnerService"))
        .map(|doc| {
            crate::manifests::from_value(doc).map_err(|source| Error::Yaml {
                what: "an AppRunnerService manifest".into(),
                source,
            })
        })
        .collect()
}

/// Reads what the service references, from App Runner: its auto scaling configuration (the one
/// the spec names, else the one the running service uses, else App Runner's documented default)
/// and its VPC connector.
async fn resolve(aws: &AwsClients, source: &AppRunnerService, default_region: &str) -> Result<Resolved> {
    let region = source
        .spec
        .region
        .clone()
        .unwrap_or_else(|| default_region.to_string());
    let c = aws.for_region(&region).await;
    let service_arn = source
        .spec
        .service_arn
        .clone()
        .or_else(|| source.status.as_ref().and_then(|s| s.common.service_arn.clone()));
    let scaling_arn = match (&source.spec.auto_scaling_configuration_arn, &service_arn) {
        (Some(arn), _) => Some(arn.clone()),
        (None, Some(service)) => current_scaling_arn(&c, service).await?,
        (None, None) => None,
    };
    let auto_scaling = match scaling_arn {
        Some(arn) => Some(describe_scaling(&c, &arn).await?),
        None => None,
    };
    let connector_arn = source
        .spec
        .network_configuration
        .as_ref()
        .and_then(|n| n.egress_configuration.as_ref())
        .and_then(|e| e.vpc_connector_arn.clone());
    let vpc_connector = match connector_arn {
        Some(arn) => Some(describe_connector(&c, &arn).await?),
        None => None,
    };
    Ok(Resolved {
        auto_scaling,
        vpc_connector,
        asked: true,
    })
}

async fn current_scaling_arn(c: &RegionClients, service_arn: &str) -> Result<Option<String>> {
    let request = c.apprunner.describe_service().service_arn(service_arn);
    let out = c
        .call("apprunner", "DescribeService", service_arn, || {
            request.clone().send()
        })
        .await?;
    Ok(out
        .service()
        .and_then(|s| s.auto_scaling_configuration_summary())
        .and_then(|a| a.auto_scaling_configuration_arn())
        .map(str::to_string))
}

async fn describe_scaling(c: &RegionClients, arn: &str) -> Result<AutoScaling> {
    let request = c
        .apprunner
        .describe_auto_scaling_configuration()
        .auto_scaling_configuration_arn(arn);
    let out = c
        .call("apprunner", "DescribeAutoScalingConfiguration", arn, || {
            request.clone().send()
        })
        .await?;
    let a = out.auto_scaling_configuration();
    Ok(AutoScaling {
        arn: a
            .and_then(|a| a.auto_scaling_configuration_arn())
            .unwrap_or(arn)
            .to_string(),
        max_concurrency: a.and_then(|a| a.max_concurrency()).unwrap_or(100),
        min_size: a.and_then(|a| a.min_size()).unwrap_or(1),
        max_size: a.and_then(|a| a.max_size()).unwrap_or(25),
    })
}

async fn describe_connector(c: &RegionClients, arn: &str) -> Result<VpcConnector> {
    let request = c.apprunner.describe_vpc_connector().vpc_connector_arn(arn);
    let out = c
        .call("apprunner", "DescribeVpcConnector", arn, || {
            request.clone().send()
        })
        .await?;
    let v = out.vpc_connector();
    Ok(VpcConnector {
        arn: v.and_then(|v| v.vpc_connector_arn()).unwrap_or(arn).to_string(),
        subnets: v.map(|v| v.subnets().to_vec()).unwrap_or_default(),
        security_groups: v.map(|v| v.security_groups().to_vec()).unwrap_or_default(),
    })
}
