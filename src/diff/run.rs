//! The I/O of `runway diff`: parse the manifests, read what the cluster knows (status, Namespace
//! annotations), ask the controller's own read-only `preview` and tag step, and print the reports.
//! Every AWS call made here is a Describe, List, GetCallerIdentity or AssumeRole.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};
use std::fmt::Debug;

use super::documents::{self, Doc};
use super::settings::{self, Settings};
use super::{
    FieldChange, Report, Verdict, apprunner_call, apprunner_changes, apprunner_verdict, exit_code,
    express_call, express_changes, express_verdict, render_text, with_tags,
};
use crate::api::apprunner::AppRunnerService;
use crate::api::common::PAUSED_ANNOTATION;
use crate::api::express::ExpressService;
use crate::aws::{AwsClients, AwsSettings, RegionClients, SessionSettings};
use crate::controller::identity;
use crate::controller::kind::{Planned, ServiceKind};
use crate::controller::managed::ManagedStatus;
use crate::controller::reconcile::{Decided, Settings as PlanSettings, clock, preview};
use crate::controller::tags::{TagInput, TagStep};
use crate::controller::{accounts, tags as tag_ctl};
use crate::metrics::Metrics;
use crate::plan::account;
use crate::plan::apprunner as ar;
use crate::plan::express as xp;
use crate::plan::{Owner, Phase, Request};
use crate::{Error, Result};

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Human-readable text with a summary line.
    Text,
    /// One JSON object per resource per line, for CI bots.
    Json,
}

/// Flags of `runway diff`.
#[derive(clap::Args, Debug, Clone)]
pub struct DiffArgs {
    /// Manifest files or directories (`-` for standard input, so `kustomize build | runway diff -f -`
    /// works). Lists (`kind: List`) are expanded; every ExpressService and AppRunnerService is
    /// compared, and each other document is named on stderr as skipped.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The namespace of manifests that name none.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Take the controller's settings (Region, allowed accounts, whether a namespace role is
    /// required, resync interval) from its Deployment, `NAMESPACE/NAME`: the runway container's
    /// arguments and environment. Flags given here win. Needs `get` on that Deployment.
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = parse_deployment)]
    pub from_deployment: Option<(String, String)>,
    /// The controller's default Region, for resources that name none and have no service yet.
    /// Default: the Deployment's, else AWS_REGION, else us-east-1.
    #[arg(long)]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (for example `runway simulate-aws`).
    #[arg(long, env = "RUNWAY_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// The controller's allow-list of account IDs (as `runway run --allowed-account-ids`).
    /// Default: the Deployment's, else RUNWAY_ALLOWED_ACCOUNT_IDS, else none (any account).
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT_ID", value_parser = account::parse_account_id)]
    pub allowed_account_ids: Option<Vec<String>>,
    /// Whether the controller requires a role on every namespace (as `runway run
    /// --require-namespace-role`). Default: the Deployment's, else RUNWAY_REQUIRE_NAMESPACE_ROLE,
    /// else false.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub require_namespace_role: Option<bool>,
    /// The controller's resync interval in seconds, which paces retries of rejected requests.
    /// Default: the Deployment's, else RUNWAY_RESYNC_SECONDS, else 600.
    #[arg(long)]
    pub resync_seconds: Option<u64>,
    /// The controller's cluster identity (`runway run --cluster-id`); default the `kube-system`
    /// Namespace's UID, as the controller takes it.
    #[arg(long, env = "RUNWAY_CLUSTER_ID")]
    pub cluster_id: Option<String>,
    /// The controller's cluster name (`runway run --cluster-name`), which names the session of each
    /// role assumed for a namespace (`<cluster-name>@<namespace>`), so that a trust policy pinned to
    /// it admits `runway diff` too. Default: the Deployment's, else RUNWAY_CLUSTER_NAME, else
    /// `runway`.
    #[arg(long)]
    pub cluster_name: Option<String>,
    /// Pass the session tags `runway.dev/cluster` and `runway.dev/namespace` when assuming a
    /// namespace's role (as `runway run --aws-session-tags`), for trust policies that require them.
    /// Default: the Deployment's, else RUNWAY_AWS_SESSION_TAGS, else false.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub aws_session_tags: Option<bool>,
}

/// `NAMESPACE/NAME` of a Deployment.
pub fn parse_deployment(value: &str) -> std::result::Result<(String, String), String> {
    match value.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(format!("{value:?} is not NAMESPACE/NAME")),
    }
}

/// Runs the command and returns its exit code (`diff::exit_code`): 0 nothing would change, 2
/// something would, 1 a resource is blocked. Errors (bad manifests, no cluster, AWS failures) are
/// `Err`, which the binary turns into `diff::EXIT_ERROR`.
pub async fn run(args: DiffArgs) -> Result<u8> {
    let docs = load(&args)?;
    let client = Client::try_default()
        .await
        .map_err(|e| Error::kube("connecting to Kubernetes", e))?;
    let flags = settings::Partial {
        region: args.region.clone(),
        allowed: args.allowed_account_ids.clone(),
        require_role: args.require_namespace_role,
        resync_seconds: args.resync_seconds,
        cluster_name: args.cluster_name.clone(),
        session_tags: args.aws_session_tags,
    };
    let settings = controller_settings(&client, flags, args.from_deployment.as_ref()).await?;
    let aws = AwsClients::with_sessions(
        AwsSettings {
            default_region: settings.region.clone(),
            endpoint_url: args.aws_endpoint_url.clone(),
            placeholder_credentials: false,
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
            budget: crate::aws::budget::BudgetSettings::default(),
        },
        SessionSettings {
            cluster_name: settings.cluster_name.clone(),
            tags: settings.session_tags,
        },
        Metrics::new(),
    );
    let cluster = identity::cluster_id(&client, args.cluster_id.clone()).await?;
    let plan = PlanSettings {
        resync: Duration::from_secs(settings.resync_seconds.max(1)),
        cluster: &cluster,
        stuck_after: crate::plan::DEFAULT_STUCK_AFTER,
    };
    let mut reports = Vec::new();
    for doc in docs {
        let report = match doc {
            Doc::Express(obj) => report(&client, &aws, &settings, plan, *obj).await?,
            Doc::AppRunner(obj) => report(&client, &aws, &settings, plan, *obj).await?,
        };
        reports.push(report);
    }
    print_reports(&reports, args.output)?;
    Ok(exit_code(&reports))
}

fn print_reports(reports: &[Report], output: Output) -> Result<()> {
    match output {
        Output::Text => print!("{}", render_text(reports)),
        Output::Json => {
            for r in reports {
                let line = serde_json::to_string(r).map_err(|source| Error::Serialize {
                    what: "a diff report".into(),
                    source,
                })?;
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// The controller's settings: the `flags`, then its Deployment (`NAMESPACE/NAME`) when one is
/// named, then this process's environment (see [`settings`]). `runway migrate apprunner --resolve`
/// uses it too, to assume a namespace's role as the controller does.
pub async fn controller_settings(
    client: &Client,
    flags: settings::Partial,
    from_deployment: Option<&(String, String)>,
) -> Result<Settings> {
    let ambient = settings::from_vars(|name| std::env::var(name).ok())?;
    let deployment = match from_deployment {
        Some((namespace, name)) => {
            let found = Api::<Deployment>::namespaced(client.clone(), namespace)
                .get(name)
                .await
                .map_err(|e| Error::kube(format!("reading Deployment {namespace}/{name}"), e))?;
            let label = format!("{namespace}/{name}");
            Some(settings::from_deployment(&found, &label, &flags)?)
        }
        None => None,
    };
    let settings = settings::resolve(flags, deployment, ambient);
    tracing::debug!(?settings, "the controller's settings");
    Ok(settings)
}

/// The runway resources of every source, in order; each skipped document is named on stderr.
fn load(args: &DiffArgs) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for path in &args.files {
        let source = match path.to_str() {
            Some("-") => "standard input".to_string(),
            _ => path.display().to_string(),
        };
        let documents = crate::manifests::documents(&crate::manifests::read(path)?)?;
        let sorted = documents::sort(documents, &source, &args.namespace)?;
        for skipped in &sorted.skipped {
            eprintln!("runway diff: skipped {skipped}");
        }
        docs.extend(sorted.resources);
    }
    Ok(docs)
}

/// The report of a planned resource: its verdict, the call, and the planner's reason (a blocked
/// resource's reason, a note otherwise).
fn planned_report(
    kind: &str,
    (namespace, name): (&str, &str),
    verdict: Verdict,
    reason: Option<String>,
    call: Option<&str>,
) -> Report {
    let (reason, notes) = match verdict {
        Verdict::Blocked => (reason, Vec::new()),
        _ => (None, reason.into_iter().collect()),
    };
    Report {
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        verdict,
        call: call.map(str::to_string),
        reason,
        changes: Vec::new(),
        request: None,
        notes,
    }
}

fn blocked(kind: &str, namespace: &str, name: &str, reason: String) -> Report {
    Report {
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        verdict: Verdict::Blocked,
        call: None,
        reason: Some(reason),
        changes: Vec::new(),
        request: None,
        notes: Vec::new(),
    }
}

fn unchanged(kind: &str, namespace: &str, name: &str, note: &str) -> Report {
    Report {
        verdict: Verdict::NoChange,
        reason: None,
        notes: vec![note.into()],
        ..blocked(kind, namespace, name, String::new())
    }
}

/// What `runway diff` needs of a kind besides its reconcile steps: how to report a step.
trait Target: ServiceKind {
    /// Takes the live object's status, so that the preview starts where the controller stands.
    fn take_status(&mut self, live: Option<Self>);
    /// The AWS call a step makes, if any.
    fn call(plan: &Self::Plan) -> Option<&'static str>;
    /// The verdict of a step; `pending` when the desired request was not applied yet.
    fn verdict(plan: &Self::Plan, pending: bool) -> (Verdict, Option<String>);
    /// The create request's body, or why the spec cannot be created; `None` unless the step is a
    /// create.
    fn create_body(&self, plan: &Self::Plan, cluster: &str) -> Option<std::result::Result<Value, String>>;
    /// The field-level changes a step sends, if it sends (or waits to send) a configuration.
    fn changes(&self, planned: &Planned<Self>, pending: bool) -> Option<Vec<FieldChange>>;
}

impl Target for ExpressService {
    fn take_status(&mut self, live: Option<Self>) {
        self.status = live.and_then(|l| l.status);
    }
    fn call(plan: &xp::Plan) -> Option<&'static str> {
        express_call(plan)
    }
    fn verdict(plan: &xp::Plan, pending: bool) -> (Verdict, Option<String>) {
        express_verdict(plan, pending)
    }
    fn create_body(&self, plan: &xp::Plan, cluster: &str) -> Option<std::result::Result<Value, String>> {
        if *plan != xp::Plan::Create {
            return None;
        }
        let (namespace, name) = (self.namespace().unwrap_or_default(), self.name_any());
        let owner = Owner {
            cluster,
            namespace: &namespace,
            name: &name,
        };
        Some(xp::create_request(&self.spec, &owner).map(|req| {
            let mut body = serde_json::to_value(&req.request).unwrap_or(Value::Null);
            if let Some(map) = body.as_object_mut() {
                map.insert("serviceName".into(), json!(req.service_name));
                map.insert("infrastructureRoleArn".into(), json!(req.infrastructure_role_arn));
                if let Some(cluster) = &req.cluster {
                    map.insert("cluster".into(), json!(cluster));
                }
                map.insert(
                    "tags".into(),
                    serde_json::to_value(&req.tags).unwrap_or(Value::Null),
                );
            }
            body
        }))
    }
    fn changes(&self, planned: &Planned<Self>, pending: bool) -> Option<Vec<FieldChange>> {
        let update = matches!(planned.next, xp::Plan::Update { .. });
        let waiting = matches!(planned.next, xp::Plan::Report(Phase::Progressing { .. }));
        if !(update || waiting && pending) {
            return None;
        }
        let observed = &planned.observation;
        let current = observed
            .service
            .as_ref()
            .and_then(|s| xp::current_configuration(s, observed.deployment.as_ref()));
        Some(express_changes(&planned.desired, current, &self.spec))
    }
}

impl Target for AppRunnerService {
    fn take_status(&mut self, live: Option<Self>) {
        self.status = live.and_then(|l| l.status);
    }
    fn call(plan: &ar::Plan) -> Option<&'static str> {
        apprunner_call(plan)
    }
    fn verdict(plan: &ar::Plan, pending: bool) -> (Verdict, Option<String>) {
        apprunner_verdict(plan, pending)
    }
    fn create_body(&self, plan: &ar::Plan, cluster: &str) -> Option<std::result::Result<Value, String>> {
        if *plan != ar::Plan::Create {
            return None;
        }
        let (namespace, name) = (self.namespace().unwrap_or_default(), self.name_any());
        let owner = Owner {
            cluster,
            namespace: &namespace,
            name: &name,
        };
        Some(ar::create_request(&self.spec, &owner).map(|req| {
            let mut body = serde_json::to_value(&req.request).unwrap_or(Value::Null);
            if let Some(map) = body.as_object_mut() {
                map.insert("serviceName".into(), json!(req.service_name));
                if let Some(e) = &req.encryption_configuration {
                    let e = serde_json::to_value(e).unwrap_or(Value::Null);
                    map.insert("encryptionConfiguration".into(), e);
                }
                map.insert(
                    "tags".into(),
                    serde_json::to_value(&req.tags).unwrap_or(Value::Null),
                );
            }
            body
        }))
    }
    fn changes(&self, planned: &Planned<Self>, pending: bool) -> Option<Vec<FieldChange>> {
        let update = matches!(planned.next, ar::Plan::Update { .. });
        let waiting = matches!(planned.next, ar::Plan::Report(Phase::Progressing { .. }));
        if !(update || waiting && pending) {
            return None;
        }
        let current = planned.observation.service.as_ref().map(|s| &s.config);
        Some(apprunner_changes(&planned.desired, current))
    }
}

async fn prepare<K: Target>(
    client: &Client,
    aws: &AwsClients,
    settings: &Settings,
    obj: &mut K,
) -> Result<std::result::Result<RegionClients, Report>> {
    let namespace = obj.meta().namespace.clone().unwrap_or_default();
    let name = obj.meta().name.clone().unwrap_or_default();
    if paused(obj.meta()) {
        return Ok(Err(unchanged(
            K::KIND,
            &namespace,
            &name,
            "runway.dev/paused: runway sends nothing",
        )));
    }
    let live = Api::<K>::namespaced(client.clone(), &namespace)
        .get_opt(&name)
        .await
        .map_err(|e| Error::kube(format!("reading {} {namespace}/{name}", K::KIND), e))?;
    obj.take_status(live);
    let region = obj.region(&settings.region);
    let annotations = accounts::read_annotations(client, &namespace).await?;
    let resolved = accounts::resolve_with(
        aws,
        &settings.tenancy,
        accounts::Tenant {
            namespace: &namespace,
            annotations: &annotations,
        },
        &region,
        obj.managed_arn(),
    )
    .await?;
    Ok(resolved.map_err(|refused| {
        let reason = match refused {
            Phase::Stalled { reason, message } => format!("{reason}: {message}"),
            _ => "refused".into(),
        };
        blocked(K::KIND, &namespace, &name, reason)
    }))
}

/// The report for one resource: the controller's own preview and tag step, read-only.
async fn report<K: Target>(
    client: &Client,
    aws: &AwsClients,
    settings: &Settings,
    plan: PlanSettings<'_>,
    mut obj: K,
) -> Result<Report> {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let c = match prepare(client, aws, settings, &mut obj).await? {
        Ok(c) => c,
        Err(report) => return Ok(report),
    };
    let now = Timestamp::now();
    let (status, planned) = match preview(&obj, &c, plan, now).await? {
        (_, Decided::Conflict(refusal)) => {
            let reason = format!("{}: {}", refusal.reason, refusal.message);
            return Ok(blocked(K::KIND, &namespace, &name, reason));
        }
        (status, Decided::Planned(planned)) => (status, planned),
    };
    let pending = status.common().last_applied_hash.as_deref() != Some(planned.desired.digest().as_str());
    let (mut verdict, reason) = K::verdict(&planned.next, pending);
    let mut report = planned_report(
        K::KIND,
        (&namespace, &name),
        verdict,
        reason,
        K::call(&planned.next),
    );
    match obj.create_body(&planned.next, plan.cluster) {
        Some(Ok(body)) => report.request = Some(body),
        Some(Err(message)) => {
            return Ok(blocked(
                K::KIND,
                &namespace,
                &name,
                format!("InvalidSpec: {message}"),
            ));
        }
        None => {}
    }
    if let Some(changes) = obj.changes(&planned, pending) {
        report.changes = changes;
    }
    if let Some(target) = K::tag_target(&planned.observation).filter(|_| verdict != Verdict::Blocked) {
        let input = TagInput {
            api: K::TAG_API,
            arn: &target.arn,
            spec_tags: obj.spec_tags(),
            reported: target.reported.as_deref(),
            settled: K::settled(&planned.next),
            clock: clock(&obj, plan, now),
        };
        let step = tag_ctl::preview(&c, &input, status.common()).await?;
        verdict = apply_tags(verdict, step, &mut report);
    }
    report.verdict = verdict;
    Ok(report)
}

/// Folds the tag step into the report: tag calls make an update; a rejected change blocks.
fn apply_tags(verdict: Verdict, step: TagStep, report: &mut Report) -> Verdict {
    match step {
        TagStep::Send { change, .. } => {
            if report.call.is_none() {
                report.call = Some("TagResource/UntagResource".into());
            }
            with_tags(verdict, Some(&change), &mut report.changes)
        }
        TagStep::Blocked(reason, message) if verdict == Verdict::NoChange => {
            report.reason = Some(format!("{reason}: {message}"));
            Verdict::Blocked
        }
        _ => verdict,
    }
}

fn paused(meta: &kube::api::ObjectMeta) -> bool {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(PAUSED_ANNOTATION))
        .is_some_and(|v| v == "true")
}
