//! The I/O of `runway diff`: parse the manifests, read what the cluster knows (status, Namespace
//! annotations), ask the controller's own read-only `preview` and tag step, and print the reports.
//! Every AWS call made here is a Describe, List, GetCallerIdentity or AssumeRole.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};
use std::fmt::Debug;

use super::{
    FieldChange, Report, Verdict, apprunner_call, apprunner_changes, apprunner_verdict, exit_code,
    express_call, express_changes, express_verdict, render_text, with_tags,
};
use crate::api::apprunner::AppRunnerService;
use crate::api::common::PAUSED_ANNOTATION;
use crate::api::express::ExpressService;
use crate::aws::{AwsClients, AwsSettings, RegionClients};
use crate::controller::kind::{Planned, ServiceKind};
use crate::controller::managed::ManagedStatus;
use crate::controller::reconcile::{Decided, clock, preview};
use crate::controller::tags::{TagInput, TagStep};
use crate::controller::{accounts, tags as tag_ctl};
use crate::metrics::Metrics;
use crate::plan::apprunner as ar;
use crate::plan::express as xp;
use crate::plan::{Phase, Request};
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
    /// works).
    /// Every ExpressService and AppRunnerService in them is compared; other kinds are skipped.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The namespace of manifests that name none.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// The controller's default Region, for resources that name none and have no service yet.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Send every AWS call to this endpoint (for example `runway simulate-aws`).
    #[arg(long, env = "RUNWAY_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// The controller's allow-list of account IDs (as `runway run --allowed-account-ids`).
    #[arg(long, env = "RUNWAY_ALLOWED_ACCOUNT_IDS", value_delimiter = ',')]
    pub allowed_account_ids: Vec<String>,
    /// The controller's resync interval in seconds, which paces retries of rejected requests.
    #[arg(long, env = "RUNWAY_RESYNC_SECONDS", default_value_t = 600)]
    pub resync_seconds: u64,
}

/// One resource from the manifests.
enum Doc {
    Express(Box<ExpressService>),
    AppRunner(Box<AppRunnerService>),
}

/// Runs the command and returns its exit code: 0 nothing would change, 2 something would, 1 a
/// resource is blocked. Errors (unreadable input, no cluster, AWS failures) are `Err` (exit 1).
pub async fn run(args: DiffArgs) -> Result<u8> {
    let docs = load(&args)?;
    let client = Client::try_default()
        .await
        .map_err(|e| Error::kube("connecting to Kubernetes", e))?;
    let aws = AwsClients::new(
        AwsSettings {
            default_region: args.region.clone(),
            endpoint_url: args.aws_endpoint_url.clone(),
            placeholder_credentials: false,
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
            budget: crate::aws::budget::BudgetSettings::default(),
        },
        Metrics::new(),
    );
    let resync = Duration::from_secs(args.resync_seconds.max(1));
    let mut reports = Vec::new();
    for doc in docs {
        let report = match doc {
            Doc::Express(obj) => report(&client, &aws, &args, resync, *obj).await?,
            Doc::AppRunner(obj) => report(&client, &aws, &args, resync, *obj).await?,
        };
        reports.push(report);
    }
    match args.output {
        Output::Text => print!("{}", render_text(&reports)),
        Output::Json => {
            for r in &reports {
                let line = serde_json::to_string(r).map_err(|source| Error::Serialize {
                    what: "a diff report".into(),
                    source,
                })?;
                println!("{line}");
            }
        }
    }
    Ok(exit_code(&reports))
}

fn load(args: &DiffArgs) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for path in &args.files {
        docs.extend(parse(&crate::manifests::read(path)?, &args.namespace)?);
    }
    Ok(docs)
}

/// Every runway resource in a multi-document YAML text, with `namespace` filled in where the
/// manifest names none; other kinds are skipped.
fn parse(text: &str, namespace: &str) -> Result<Vec<Doc>> {
    let yaml_err = |source| Error::Yaml {
        what: "the manifests".into(),
        source,
    };
    let mut out = Vec::new();
    for mut value in crate::manifests::documents(text)? {
        let (Some(api), Some(kind)) = (
            value
                .get("apiVersion")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            value.get("kind").and_then(|v| v.as_str()).map(str::to_string),
        ) else {
            continue;
        };
        if api != "runway.dev/v1alpha1" {
            continue;
        }
        if value.get("metadata").and_then(|m| m.get("namespace")).is_none()
            && let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut())
        {
            meta.insert("namespace".into(), namespace.into());
        }
        match kind.as_str() {
            "ExpressService" => out.push(Doc::Express(Box::new(
                crate::manifests::from_value(value).map_err(yaml_err)?,
            ))),
            "AppRunnerService" => out.push(Doc::AppRunner(Box::new(
                crate::manifests::from_value(value).map_err(yaml_err)?,
            ))),
            _ => {}
        }
    }
    Ok(out)
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
    fn create_body(&self, plan: &Self::Plan) -> Option<std::result::Result<Value, String>>;
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
    fn create_body(&self, plan: &xp::Plan) -> Option<std::result::Result<Value, String>> {
        if *plan != xp::Plan::Create {
            return None;
        }
        let (namespace, name) = (self.namespace().unwrap_or_default(), self.name_any());
        Some(xp::create_request(&self.spec, &namespace, &name).map(|req| {
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
    fn create_body(&self, plan: &ar::Plan) -> Option<std::result::Result<Value, String>> {
        if *plan != ar::Plan::Create {
            return None;
        }
        let (namespace, name) = (self.namespace().unwrap_or_default(), self.name_any());
        Some(ar::create_request(&self.spec, &namespace, &name).map(|req| {
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
    args: &DiffArgs,
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
    let region = obj.region(&args.region);
    let annotations = accounts::read_annotations(client, &namespace).await?;
    let tenancy = crate::plan::account::Tenancy {
        allowed: args.allowed_account_ids.clone(),
        require_role: false,
    };
    let resolved = accounts::resolve_with(
        aws,
        &tenancy,
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
    args: &DiffArgs,
    resync: Duration,
    mut obj: K,
) -> Result<Report> {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let c = match prepare(client, aws, args, &mut obj).await? {
        Ok(c) => c,
        Err(report) => return Ok(report),
    };
    let now = Timestamp::now();
    let (status, planned) = match preview(&obj, &c, resync, now).await? {
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
    match obj.create_body(&planned.next) {
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
            clock: clock(&obj, resync, now),
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
