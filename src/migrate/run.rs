//! The I/O of `runway migrate apprunner`: read the AppRunnerService (cluster or file), read what
//! `--resolve` asks for from App Runner (Describe calls only), then print what `map` decided: the
//! manifest on standard output, the warnings (exposure changes first) on standard error.
//!
//! `--resolve` reads as the controller would: in the resource's pinned Region (else `--region`),
//! with the identity its namespace maps to: the role named by the Namespace's
//! `runway.dev/aws-role-arn` annotation, assumed in a session named `<cluster-name>@<namespace>`
//! (the controller's own `accounts::resolve_with`, with the controller's settings as `runway diff`
//! takes them), else the caller's own credentials.

use std::path::PathBuf;

use kube::{Api, Client};

use super::{AutoScaling, Options, Resolved, VpcConnector, map, render, stderr_lines};
use crate::api::apprunner::AppRunnerService;
use crate::aws::{AwsClients, AwsSettings, RegionClients, SessionSettings};
use crate::controller::accounts;
use crate::diff::run::{controller_settings, parse_deployment};
use crate::diff::settings::{self, Settings};
use crate::metrics::Metrics;
use crate::plan::Phase;
use crate::{Error, Result};

/// Flags of `runway migrate apprunner`.
#[derive(clap::Args, Debug, Clone)]
pub struct MigrateArgs {
    /// The AppRunnerService to read from the cluster (with `-n`).
    #[arg(required_unless_present = "filename", conflicts_with = "filename")]
    pub name: Option<String>,
    /// Its namespace (default: `default`); with `-f`, the namespace of manifests that name none.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Read the AppRunnerServices from this manifest file or directory instead (`-` for standard
    /// input); every AppRunnerService in it is migrated.
    #[arg(short = 'f', long)]
    pub filename: Option<PathBuf>,
    /// Read the referenced auto scaling configuration and VPC connector from App Runner (Describe
    /// calls only) to carry scaling and networking over, as the controller would: in the resource's
    /// Region, with the role its Namespace names (`runway.dev/aws-role-arn`, read from the cluster).
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
    /// Region for `--resolve` when the resource names none. Default: the Deployment's (with
    /// `--from-deployment`), else AWS_REGION, else us-east-1.
    #[arg(long)]
    pub region: Option<String>,
    /// Take the controller's settings for `--resolve` (Region, cluster name, session tags, allowed
    /// accounts, whether a namespace role is required) from its Deployment, `NAMESPACE/NAME`, as
    /// `runway diff --from-deployment` does. Flags given here win.
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = parse_deployment)]
    pub from_deployment: Option<(String, String)>,
    /// The controller's cluster name (`runway run --cluster-name`), which names the session of a
    /// namespace's role (`<cluster-name>@<namespace>`), so that a trust policy pinned to it admits
    /// `--resolve` too. Default: the Deployment's, else RUNWAY_CLUSTER_NAME, else `runway`.
    #[arg(long)]
    pub cluster_name: Option<String>,
    /// Pass the session tags `runway.dev/cluster` and `runway.dev/namespace` when assuming a
    /// namespace's role (as `runway run --aws-session-tags`). Default: the Deployment's, else
    /// RUNWAY_AWS_SESSION_TAGS, else false.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub aws_session_tags: Option<bool>,
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
    let reader = match args.resolve {
        true => Some(Reader::connect(&args).await?),
        false => None,
    };
    let options = Options {
        infrastructure_role_arn: args.infrastructure_role_arn.clone(),
        execution_role_arn: args.execution_role_arn.clone(),
        name: args.new_name.clone(),
        request_latency_ms: Some(args.request_latency_ms),
    };
    let mut documents = Vec::new();
    let mut failures = Vec::new();
    for source in &sources {
        let namespace = source
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| args.namespace.clone());
        let origin = format!(
            "AppRunnerService {namespace}/{}",
            source.metadata.name.as_deref().unwrap_or_default()
        );
        let resolved = match &reader {
            Some(reader) => match reader.clients(source, &namespace).await? {
                Ok(c) => resolve(&c, source).await?,
                Err(refused) => {
                    eprintln!("error: {origin}: --resolve: {refused}");
                    failures.push(origin);
                    continue;
                }
            },
            None => Resolved::default(),
        };
        match map(source, &options, &resolved) {
            Ok(migration) => {
                for line in stderr_lines(&migration, &origin) {
                    eprintln!("{line}");
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

/// What `--resolve` reads with: the cluster (Namespace annotations), the controller's settings and
/// the SDK clients, which assume a namespace's role as the controller does.
struct Reader {
    client: Client,
    settings: Settings,
    aws: std::sync::Arc<AwsClients>,
}

impl Reader {
    /// Connects to the cluster (its Namespaces map to accounts) and takes the controller's
    /// settings: the flags, then its Deployment when named, then the environment.
    async fn connect(args: &MigrateArgs) -> Result<Self> {
        let client = Client::try_default().await.map_err(|e| {
            Error::kube(
                "connecting to Kubernetes (--resolve reads the namespace's runway.dev/aws-role-arn)",
                e,
            )
        })?;
        let flags = settings::Partial {
            region: args.region.clone(),
            cluster_name: args.cluster_name.clone(),
            session_tags: args.aws_session_tags,
            ..settings::Partial::default()
        };
        let settings = controller_settings(&client, flags, args.from_deployment.as_ref()).await?;
        let aws = AwsClients::with_sessions(
            AwsSettings {
                default_region: settings.region.clone(),
                endpoint_url: args.aws_endpoint_url.clone(),
                placeholder_credentials: false,
                attempt_timeout: std::time::Duration::from_secs(10),
                operation_timeout: std::time::Duration::from_secs(30),
                budget: crate::aws::budget::BudgetSettings::default(),
            },
            SessionSettings {
                cluster_name: settings.cluster_name.clone(),
                tags: settings.session_tags,
            },
            Metrics::new(),
        );
        Ok(Self {
            client,
            settings,
            aws,
        })
    }

    /// The clients the controller would use for `source` in `namespace`: its pinned Region (else
    /// the default), with the namespace's role when it names one. Returns why not when the
    /// controller would refuse the namespace (the message of the Stalled condition).
    async fn clients(
        &self,
        source: &AppRunnerService,
        namespace: &str,
    ) -> Result<std::result::Result<RegionClients, String>> {
        let region = source
            .spec
            .region
            .clone()
            .unwrap_or_else(|| self.settings.region.clone());
        let annotations = accounts::read_annotations(&self.client, namespace).await?;
        let resolved = accounts::resolve_with(
            &self.aws,
            &self.settings.tenancy,
            accounts::Tenant {
                namespace,
                annotations: &annotations,
            },
            &region,
            service_arn(source).as_deref(),
        )
        .await?;
        Ok(resolved.map_err(|refused| match refused {
            Phase::Stalled { reason, message } => format!("{reason}: {message}"),
            _ => "refused".into(),
        }))
    }
}

/// The App Runner service the resource names or manages.
fn service_arn(source: &AppRunnerService) -> Option<String> {
    source
        .spec
        .service_arn
        .clone()
        .or_else(|| source.status.as_ref().and_then(|s| s.common.service_arn.clone()))
}

/// Reads what the service references, from App Runner: its auto scaling configuration (the one
/// the spec names, else the one the running service uses, else App Runner's documented default)
/// and its VPC connector.
async fn resolve(c: &RegionClients, source: &AppRunnerService) -> Result<Resolved> {
    let service_arn = service_arn(source);
    let scaling_arn = match (&source.spec.auto_scaling_configuration_arn, &service_arn) {
        (Some(arn), _) => Some(arn.clone()),
        (None, Some(service)) => current_scaling_arn(c, service).await?,
        (None, None) => None,
    };
    let auto_scaling = match scaling_arn {
        Some(arn) => Some(describe_scaling(c, &arn).await?),
        None => None,
    };
    let connector_arn = source
        .spec
        .network_configuration
        .as_ref()
        .and_then(|n| n.egress_configuration.as_ref())
        .and_then(|e| e.vpc_connector_arn.clone());
    let vpc_connector = match connector_arn {
        Some(arn) => Some(describe_connector(c, &arn).await?),
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
