//! The `runway` binary: parses arguments and hands off to the library. Its only unsafe code is one
//! `mallopt` call (see `limit_malloc_arenas`); the library forbids unsafe code.
#![deny(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// runway: run AWS container web services from Kubernetes.
#[derive(Parser, Debug)]
#[command(name = "runway", version, about)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, env = "RUNWAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log filter, in tracing's EnvFilter syntax (for example `info` or `runway=debug,kube=info`).
    #[arg(long, global = true, env = "RUNWAY_LOG_LEVEL", default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `runway run`.
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The AWS Region for resources that do not set spec.region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Send every AWS call to this endpoint, for example a `runway simulate-aws` server.
    #[arg(long, env = "RUNWAY_AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,
    /// Start the AWS simulator inside this process and send every AWS call to it (for demos).
    #[arg(long, conflicts_with = "aws_endpoint_url")]
    simulate_aws: bool,
    /// Seconds between drift checks of a settled resource.
    #[arg(long, env = "RUNWAY_RESYNC_SECONDS", default_value_t = 600)]
    resync_seconds: u64,
    /// Seconds an AWS operation (an App Runner create, update, deployment, pause or resume) may run
    /// before runway reports that it looks stuck: the resource stays Reconciling with reason
    /// `OperationStuck` and a Warning Event, and runway still sends nothing while AWS reports the
    /// operation running. App Runner operations take minutes.
    #[arg(long, env = "RUNWAY_OPERATION_STUCK_SECONDS", default_value_t = 1800)]
    operation_stuck_seconds: u64,
    /// The longest one HTTP attempt of an AWS call may take, in seconds. ECS and App Runner answer
    /// in well under a second; 10 s leaves room for a slow network without letting a stalled
    /// response hold a reconcile slot.
    #[arg(long, env = "RUNWAY_AWS_ATTEMPT_TIMEOUT_SECONDS", default_value_t = 10)]
    aws_attempt_timeout_seconds: u64,
    /// The longest one AWS call may take, in seconds, its retries (3 attempts with backoff)
    /// included.
    #[arg(long, env = "RUNWAY_AWS_OPERATION_TIMEOUT_SECONDS", default_value_t = 30)]
    aws_operation_timeout_seconds: u64,
    /// The fraction (0 < f <= 1) of each of AWS's published request buckets that runway uses; the
    /// rest stays for the console, CI and other tools on the same account.
    #[arg(long, env = "RUNWAY_AWS_BUDGET_FRACTION", default_value_t = 0.5)]
    aws_budget_fraction: f64,
    /// An explicit request budget for one action family, replacing the fraction for it:
    /// `FAMILY=PER_SECOND[/BURST]`, for example `ecs:service-modify=2/10`. Repeatable. Families:
    /// ecs:service-modify, ecs:service-read, ecs:deployment-read, ecs:tag-read, ecs:tag-modify,
    /// apprunner:read, apprunner:modify.
    #[arg(long = "aws-rate-limit", env = "RUNWAY_AWS_RATE_LIMITS", value_delimiter = ',', value_name = "FAMILY=RATE[/BURST]", value_parser = runway::aws::budget::parse_override)]
    aws_rate_limits: Vec<(String, runway::aws::budget::Limit)>,
    /// Reconciles running at once (both kinds together), for each of two classes: changes (new
    /// generations, annotations, deletions) and background work (resyncs, progress polls). The AWS
    /// budget, not this number, limits the call rate; it only bounds the work in flight. At 100 to
    /// 300 ms per AWS call a reconcile takes up to about a second, so 16 slots carry 16 to 50
    /// reconciles per second, above ECS's sustained buckets (5 mutating, 20 read calls per second).
    #[arg(long, env = "RUNWAY_MAX_CONCURRENT_RECONCILES", default_value_t = 16)]
    max_concurrent_reconciles: u16,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "RUNWAY_WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// Reconcile only resources whose labels match this selector (Kubernetes label-selector syntax,
    /// for example `runway.dev/shard=b` or `runway.dev/shard notin (b,c)`). Shards of one cluster
    /// use disjoint selectors that together cover every resource, and a Lease each.
    #[arg(long, env = "RUNWAY_WATCH_SELECTOR")]
    watch_selector: Option<String>,
    /// How the initial list is fetched: `stream` (a watch with sendInitialEvents, which never holds
    /// the whole list in memory; Kubernetes 1.34 serves it by default) or `list` (paginated LIST).
    #[arg(long, env = "RUNWAY_INITIAL_LIST", value_enum, default_value_t = InitialList::Stream)]
    initial_list: InitialList,
    /// Account IDs (12 digits, comma-separated) runway may act in: those a Namespace's
    /// `runway.dev/aws-role-arn` may name, and the controller's own account, which namespaces
    /// without the annotation use. A namespace mapped to any other account leaves its resources
    /// Stalled (`AccountNotAllowed`; `OwnAccountUnknown` while STS cannot tell the own account).
    /// Empty allows any account. See docs/multi-account.md.
    #[arg(long, env = "RUNWAY_ALLOWED_ACCOUNT_IDS", value_delimiter = ',', value_name = "ACCOUNT_ID", value_parser = runway::plan::account::parse_account_id)]
    allowed_account_ids: Vec<String>,
    /// Require every namespace to name a role (`runway.dev/aws-role-arn`): the resources of a
    /// namespace without one are Stalled (`NamespaceRoleRequired`) instead of using the controller's
    /// own identity.
    #[arg(long, env = "RUNWAY_REQUIRE_NAMESPACE_ROLE", default_value_t = false)]
    require_namespace_role: bool,
    /// The cluster identity that the `runway.dev/owner` tag of every service runway creates
    /// carries, so that two clusters sharing an AWS account never claim each other's services.
    /// Default: the UID of the cluster's `kube-system` Namespace. 1 to 64 letters, digits, '.', '_',
    /// ':' or '-'.
    #[arg(long, env = "RUNWAY_CLUSTER_ID")]
    cluster_id: Option<String>,
    /// This cluster's name (1 to 100 letters, digits, `-`, `_` or `.`). runway names the session of
    /// every role it assumes for a namespace `<cluster-name>@<namespace>`, so that the role's trust
    /// policy can admit one namespace only (docs/multi-account.md).
    #[arg(long, env = "RUNWAY_CLUSTER_NAME", default_value = runway::aws::DEFAULT_CLUSTER_NAME, value_parser = parse_cluster_name)]
    cluster_name: String,
    /// Also pass the session tags `runway.dev/cluster` and `runway.dev/namespace` when assuming a
    /// namespace's role. Every such role's trust policy must then allow `sts:TagSession`.
    #[arg(long, env = "RUNWAY_AWS_SESSION_TAGS", default_value_t = false)]
    aws_session_tags: bool,
    /// Address of the /metrics, /healthz and /readyz server.
    #[arg(long, env = "RUNWAY_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,
    /// Elect a leader on a coordination.k8s.io Lease; only the leader reconciles.
    #[arg(long, env = "RUNWAY_LEADER_ELECTION", default_value_t = false)]
    leader_election: bool,
    /// Name of the leader Lease.
    #[arg(long, env = "RUNWAY_LEASE_NAME", default_value = "runway-leader")]
    lease_name: String,
    /// Namespace of the leader Lease (default: POD_NAMESPACE, else `default`).
    #[arg(long, env = "RUNWAY_LEASE_NAMESPACE")]
    lease_namespace: Option<String>,
    /// Seconds the Lease is held without renewal before another replica takes over.
    #[arg(long, env = "RUNWAY_LEASE_DURATION_SECONDS", default_value_t = 15)]
    lease_duration_seconds: u64,
}

/// How the initial list is fetched.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum InitialList {
    /// A watch with sendInitialEvents (streaming list).
    Stream,
    /// A paginated LIST, then a watch.
    List,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the controller.
    Run(RunArgs),
    /// Print every CRD as YAML, or write one file per CRD into a directory.
    Crds {
        /// Write `<name>.yaml` files into this directory instead of printing to stdout.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Serve the AWS simulator (ECS Express Mode and App Runner) over the real wire protocols.
    SimulateAws(runway_sim::SimArgs),
    /// Generate a manifest for another kind from an existing resource; never changes anything.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Show what applying manifests would make runway do in AWS (create, update with a field diff,
    /// redeploy, no change, blocked), read-only. Exit 0: no changes; 2: changes; 1: a resource is
    /// blocked; 3: error (bad flags or manifests, no cluster, AWS unreachable). docs/gitops.md.
    Diff(runway::diff::run::DiffArgs),
}

/// What `runway migrate` converts.
#[derive(Subcommand, Debug)]
enum MigrateCommand {
    /// Print an ExpressService equivalent to an AppRunnerService (from the cluster or a file), with
    /// a comment header that reports every mapping decision. docs/migrating-from-apprunner.md.
    Apprunner(runway::migrate::run::MigrateArgs),
}

/// Caps glibc's malloc at two arenas unless `MALLOC_ARENA_MAX` says otherwise.
///
/// NB: glibc gives each thread that allocates its own arena (up to 8 per core), and memory freed
/// in one arena is not reused by another: with tokio's worker threads, a burst of reconciles left
/// the heap spread over several arenas, each holding its own free space.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(async_main()),
        Err(err) => {
            eprintln!("runway: starting the async runtime: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The subcommand a command line names: its first word that is neither a flag nor the value of a
/// global flag (`--log-format`, `--log-level`).
fn subcommand_of(args: &[String]) -> Option<&str> {
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--log-format" | "--log-level" => {
                words.next();
            }
            flag if flag.starts_with('-') => {}
            command => return Some(command),
        }
    }
    None
}

/// The parsed command line. A usage error exits as clap does (2), except for `runway diff`, whose
/// 2 means "changes": its usage errors exit with its error code.
fn parse_cli() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let words: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() && subcommand_of(&words) == Some("diff") => {
            let _ = err.print();
            std::process::exit(i32::from(runway::diff::EXIT_ERROR));
        }
        Err(err) => err.exit(),
    }
}

async fn async_main() -> std::process::ExitCode {
    let cli = parse_cli();
    init_logging(cli.log_format, &cli.log_level);
    if let Command::Diff(args) = cli.command {
        return match runway::diff::run::run(args).await {
            Ok(code) => std::process::ExitCode::from(code),
            Err(err) => {
                eprintln!("runway: {err}");
                std::process::ExitCode::from(runway::diff::EXIT_ERROR)
            }
        };
    }
    let result = match cli.command {
        Command::Diff(_) => Ok(()),
        Command::Run(args) => run(args).await,
        Command::Crds { out_dir } => write_crds(out_dir),
        Command::SimulateAws(args) => runway_sim::run(args).await.map_err(runway::Error::from),
        Command::Migrate(MigrateCommand::Apprunner(args)) => runway::migrate::run::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("runway: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn write_crds(out_dir: Option<PathBuf>) -> runway::Result<()> {
    let Some(dir) = out_dir else {
        print!("{}", runway::api::all_crds_yaml()?);
        return Ok(());
    };
    for crd in runway::api::crds() {
        let path = dir.join(runway::api::crd_file_name(&crd));
        std::fs::write(&path, runway::api::crd_yaml(&crd)?).map_err(|source| runway::Error::Io {
            context: format!("writing {}", path.display()),
            source,
        })?;
    }
    Ok(())
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(args: RunArgs) -> runway::Result<()> {
    let RunArgs {
        region,
        aws_endpoint_url,
        simulate_aws,
        resync_seconds,
        operation_stuck_seconds,
        aws_attempt_timeout_seconds,
        aws_operation_timeout_seconds,
        aws_budget_fraction,
        aws_rate_limits,
        max_concurrent_reconciles,
        namespace,
        watch_selector,
        initial_list,
        allowed_account_ids,
        require_namespace_role,
        cluster_id,
        cluster_name,
        aws_session_tags,
        metrics_addr,
        leader_election,
        lease_name,
        lease_namespace,
        lease_duration_seconds,
    } = args;
    let budget = runway::aws::budget::BudgetSettings {
        fraction: aws_budget_fraction,
        overrides: aws_rate_limits.into_iter().collect(),
    };
    budget.validate().map_err(runway::Error::Config)?;
    let leader_election = leader_election.then(|| runway::controller::leader::LeaseSettings {
        name: lease_name,
        namespace: lease_namespace
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".into()),
        identity: std::env::var("POD_NAME")
            .unwrap_or_else(|_| format!("runway-{}-{}", std::process::id(), rand::random::<u32>())),
        duration_seconds: lease_duration_seconds,
    });
    // NB: the embedded simulator lives as long as the controller; dropping the handle stops it.
    let simulator = if simulate_aws {
        let handle = runway_sim::Simulator::start(runway_sim::SimConfig::default()).await?;
        tracing::info!(endpoint = %handle.endpoint(), "embedded AWS simulator started");
        Some(handle)
    } else {
        None
    };
    let endpoint_url = aws_endpoint_url.or_else(|| simulator.as_ref().map(|s| s.endpoint()));
    runway::controller::runner::run(runway::controller::runner::RunConfig {
        aws: runway::aws::AwsSettings {
            default_region: region,
            endpoint_url,
            placeholder_credentials: simulate_aws,
            attempt_timeout: Duration::from_secs(aws_attempt_timeout_seconds.max(1)),
            operation_timeout: Duration::from_secs(aws_operation_timeout_seconds.max(1)),
            budget,
        },
        resync: Duration::from_secs(resync_seconds),
        stuck_after: Duration::from_secs(operation_stuck_seconds.max(1)),
        concurrency: max_concurrent_reconciles.max(1),
        namespace,
        watch_selector,
        streaming_list: matches!(initial_list, InitialList::Stream),
        metrics_addr,
        leader_election,
        tenancy: runway::plan::account::Tenancy {
            allowed: allowed_account_ids,
            require_role: require_namespace_role,
        },
        cluster_id,
        sessions: runway::aws::SessionSettings {
            cluster_name,
            tags: aws_session_tags,
        },
    })
    .await
}

/// A cluster name: 1 to 100 ASCII letters, digits, `-`, `_` or `.` (what EKS and most cluster
/// tools allow), so that it fits role session names and tag values unchanged.
fn parse_cluster_name(value: &str) -> Result<String, String> {
    let name = value.trim();
    let valid = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid {
        Ok(name.to_string())
    } else {
        Err(format!(
            "{value:?} is not a cluster name (1 to 100 letters, digits, '-', '_' or '.')"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_subcommand_is_found_past_global_flags_and_their_values() {
        assert_eq!(subcommand_of(&words("runway diff -f -")), Some("diff"));
        assert_eq!(
            subcommand_of(&words("runway --log-format json --log-level=debug diff --bogus")),
            Some("diff")
        );
        assert_eq!(subcommand_of(&words("runway --log-level info run")), Some("run"));
        assert_eq!(subcommand_of(&words("runway --help")), None);
    }

    #[test]
    fn a_cluster_name_is_letters_digits_dashes_underscores_and_dots() {
        assert_eq!(parse_cluster_name(" prod-eu_1.a ").as_deref(), Ok("prod-eu_1.a"));
        for bad in ["", "prod eu", "prod@eu", &"c".repeat(101)] {
            assert!(parse_cluster_name(bad).is_err(), "{bad:?}");
        }
    }
}
