//! `runway diff`: what applying manifests would make runway do in AWS, before they merge.
//!
//! Data flow: `run` (I/O, read-only) parses the manifests, reads each resource's live status and
//! its Namespace's account annotations from the cluster, picks the same AWS identity, and asks the
//! controller's own `preview` (the same resolution by status, owner tag and `serviceArn`, the same
//! observation, the same pure planner) and tag step what it would do; the functions here (pure)
//! turn that into a [`Report`]: `create` with the request, `update` with a field-level diff,
//! `redeploy`, `no change`, or `blocked` with the reason, and the reports into an exit code.
//! `documents` sorts the manifests' documents and `settings` stacks the controller's settings
//! (flags, its Deployment, the environment); both are pure. Nothing is ever sent that changes AWS.

pub mod documents;
pub mod run;
pub mod settings;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;

use crate::api::express::{ExpressServiceSpec, TargetConfiguration};
use crate::plan::Phase;
use crate::plan::apprunner::{self as ar, AppRunnerRequest};
use crate::plan::express::{self as xp, ExpressRequest};
use crate::plan::tags::TagChange;

/// What applying a manifest would make runway do.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Create a service.
    Create,
    /// Change the service: its configuration, its tags, or pause/resume.
    Update,
    /// Roll out the same configuration again.
    Redeploy,
    /// Nothing.
    NoChange,
    /// runway would not act, and says why (the resource would be Stalled).
    Blocked,
}

impl Verdict {
    /// The word printed for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Redeploy => "redeploy",
            Self::NoChange => "no change",
            Self::Blocked => "blocked",
        }
    }

    /// Whether it changes AWS.
    pub fn changes(self) -> bool {
        matches!(self, Self::Create | Self::Update | Self::Redeploy)
    }
}

/// One field runway would send differently from what AWS reports.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// The request field, as a dotted path.
    pub field: String,
    /// What AWS reports now (`null`: not reported).
    pub from: Value,
    /// What runway would send (`null`: cleared).
    pub to: Value,
}

/// The verdict for one resource.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `ExpressService` or `AppRunnerService`.
    pub kind: String,
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// What runway would do.
    pub verdict: Verdict,
    /// The AWS call it would make first, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// Why (for `blocked`, the Stalled reason and message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `update`: the fields that would change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// For `create`: the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// Context: a rollout in flight, a status recorded without a call, tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The mutating call a reconcile makes for an Express plan (none for the others): the controller's
/// next action, from which the verdict follows.
pub fn express_call(plan: &xp::Plan) -> Option<&'static str> {
    match plan {
        xp::Plan::Create => Some("CreateExpressGatewayService"),
        xp::Plan::Update { .. } => Some("UpdateExpressGatewayService"),
        xp::Plan::Redeploy => Some("UpdateService"),
        _ => None,
    }
}

/// The mutating call a reconcile makes for an App Runner plan (none for the others).
pub fn apprunner_call(plan: &ar::Plan) -> Option<&'static str> {
    match plan {
        ar::Plan::Create => Some("CreateService"),
        ar::Plan::Update { .. } => Some("UpdateService"),
        ar::Plan::Pause => Some("PauseService"),
        ar::Plan::Resume => Some("ResumeService"),
        ar::Plan::Redeploy => Some("StartDeployment"),
        _ => None,
    }
}

/// The verdict for an Express plan, and its reason or note. `pending` says that the spec differs
/// from what runway last applied (a plan that waits for a rollout then still has an update to send).
pub fn express_verdict(plan: &xp::Plan, pending: bool) -> (Verdict, Option<String>) {
    match plan {
        xp::Plan::Create => (Verdict::Create, None),
        xp::Plan::Update { drifted } if drifted.is_empty() => (Verdict::Update, None),
        xp::Plan::Update { drifted } => (
            Verdict::Update,
            Some(format!(
                "AWS differs from the spec in {} (drift)",
                drifted.join(", ")
            )),
        ),
        xp::Plan::Redeploy => (Verdict::Redeploy, Some("spec.redeployToken changed".into())),
        xp::Plan::Baseline => (
            Verdict::NoChange,
            Some("AWS already runs this spec; runway records it without a call".into()),
        ),
        xp::Plan::Report(phase) => reported(phase, pending, "rollout"),
    }
}

/// The verdict for a plan that makes no call: a wait (an update still to send when `pending`, after
/// the `work` in flight), a stall (blocked), or nothing to do.
fn reported(phase: &Phase, pending: bool, work: &str) -> (Verdict, Option<String>) {
    match phase {
        Phase::Progressing { message, .. } if pending => (
            Verdict::Update,
            Some(format!("after the {work} in flight: {message}")),
        ),
        Phase::Progressing { message, .. } => (Verdict::NoChange, Some(message.clone())),
        Phase::Stalled { reason, message } => (Verdict::Blocked, Some(format!("{reason}: {message}"))),
        Phase::Ready { .. } => (Verdict::NoChange, None),
    }
}

/// The verdict for an App Runner plan, and its reason or note.
pub fn apprunner_verdict(plan: &ar::Plan, pending: bool) -> (Verdict, Option<String>) {
    match plan {
        ar::Plan::Create => (Verdict::Create, None),
        ar::Plan::Update { cause } => (
            Verdict::Update,
            match cause {
                ar::UpdateCause::SpecChanged => None,
                ar::UpdateCause::Drift(fields) => Some(format!(
                    "App Runner differs from the spec in {} (drift)",
                    fields.join(", ")
                )),
                ar::UpdateCause::Rebuild => Some("rebuilds the CREATE_FAILED service".into()),
                ar::UpdateCause::Retry => Some("sends the rolled-back spec again".into()),
            },
        ),
        ar::Plan::Pause => (Verdict::Update, Some("pauses the service".into())),
        ar::Plan::Resume => (Verdict::Update, Some("resumes the service".into())),
        ar::Plan::Redeploy => (Verdict::Redeploy, Some("spec.redeployToken changed".into())),
        ar::Plan::Report(phase) => reported(phase, pending, "operation"),
    }
}

/// Adds a tag change to a verdict: tags alone make an `update` (TagResource/UntagResource only).
pub fn with_tags(verdict: Verdict, tags: Option<&TagChange>, changes: &mut Vec<FieldChange>) -> Verdict {
    let Some(t) = tags.filter(|t| !t.is_empty()) else {
        return verdict;
    };
    for tag in &t.set {
        changes.push(FieldChange {
            field: format!("tags.{}", tag.key),
            from: Value::Null,
            to: Value::String(tag.value.clone().unwrap_or_default()),
        });
    }
    for key in &t.remove {
        changes.push(FieldChange {
            field: format!("tags.{key}"),
            from: Value::String("(set by runway)".into()),
            to: Value::Null,
        });
    }
    match verdict {
        Verdict::NoChange => Verdict::Update,
        other => other,
    }
}

/// The value at a dotted path of a JSON value.
fn at(value: &Value, path: &str) -> Value {
    let pointer = format!("/{}", path.replace('.', "/"));
    value.pointer(&pointer).cloned().unwrap_or(Value::Null)
}

/// The request side of an update, as [`field_changes`] compares it.
struct Requested<'a> {
    /// The request as JSON.
    json: Value,
    /// The dotted paths of the fields the request sets.
    fields: Vec<String>,
    /// The fields the request clears.
    clear: &'a [String],
    /// The value a cleared field goes to (an empty list or map).
    cleared: Value,
}

/// The field changes of an update: every field the request sets when AWS reports nothing (`from`
/// is `None`); else the fields `drifted` names, AWS's value (`from`, already redacted) against the
/// request's (`to`), and each cleared field going to `cleared`.
fn field_changes(requested: Requested<'_>, from: Option<&Value>, drifted: Vec<String>) -> Vec<FieldChange> {
    let Requested {
        json: to,
        fields,
        clear,
        cleared,
    } = requested;
    let Some(from) = from else {
        return fields
            .into_iter()
            .map(|field| FieldChange {
                to: at(&to, &field),
                from: Value::Null,
                field,
            })
            .collect();
    };
    drifted
        .into_iter()
        .map(|field| FieldChange {
            from: at(from, &field),
            to: at(&to, &field),
            field,
        })
        .chain(clear.iter().map(|field| FieldChange {
            field: field.clone(),
            from: at(from, field),
            to: cleared.clone(),
        }))
        .collect()
}

/// The fields an Express update would change, as runway compares them (`plan::express::drift`:
/// fields the spec leaves unset, values AWS leaves out and the security group ECS adds are not
/// differences), plus the lists it would clear. AWS's side is redacted like the status: values of
/// environment variables that the spec does not set are not shown.
pub fn express_changes(
    desired: &ExpressRequest,
    current: Option<&TargetConfiguration>,
    spec: &ExpressServiceSpec,
) -> Vec<FieldChange> {
    let to = serde_json::to_value(desired).unwrap_or(Value::Null);
    let from = current.map(|c| serde_json::to_value(xp::redacted(c, spec)).unwrap_or(Value::Null));
    let drifted = current.map(|c| xp::drift(desired, c)).unwrap_or_default();
    let requested = Requested {
        json: to,
        fields: desired.fields(),
        clear: &desired.clear,
        cleared: Value::Array(Vec::new()),
    };
    field_changes(requested, from.as_ref(), drifted)
}

/// The fields an App Runner update would change (`plan::apprunner::drift`), plus the maps it
/// would clear. Values of environment variables on App Runner's side are shown only for names the
/// spec sets.
pub fn apprunner_changes(desired: &AppRunnerRequest, actual: Option<&AppRunnerRequest>) -> Vec<FieldChange> {
    let to = serde_json::to_value(desired).unwrap_or(Value::Null);
    let from = actual.map(|actual| {
        let mut redacted = actual.clone();
        let want = desired
            .source_configuration
            .image_repository
            .as_ref()
            .and_then(|i| i.image_configuration.as_ref());
        if let Some(have) = redacted
            .source_configuration
            .image_repository
            .as_mut()
            .and_then(|i| i.image_configuration.as_mut())
        {
            have.runtime_environment_variables
                .retain(|name, _| want.is_some_and(|w| w.runtime_environment_variables.contains_key(name)));
        }
        serde_json::to_value(&redacted).unwrap_or(Value::Null)
    });
    let drifted = actual.map(|a| ar::drift(desired, a)).unwrap_or_default();
    let requested = Requested {
        json: to,
        fields: desired.fields(),
        clear: &desired.clear,
        cleared: Value::Object(Default::default()),
    };
    field_changes(requested, from.as_ref(), drifted)
}

/// Human-readable text for the reports, with a closing summary line.
pub fn render_text(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&format!(
            "{} {}/{}: {}",
            r.kind,
            r.namespace,
            r.name,
            r.verdict.label()
        ));
        if let Some(call) = &r.call {
            out.push_str(&format!(" ({call})"));
        }
        out.push('\n');
        if let Some(reason) = &r.reason {
            out.push_str(&format!("    {reason}\n"));
        }
        for c in &r.changes {
            out.push_str(&format!(
                "  ~ {}: {} -> {}\n",
                c.field,
                short(&c.from),
                short(&c.to)
            ));
        }
        if let Some(request) = &r.request {
            let pretty = serde_json::to_string_pretty(request).unwrap_or_default();
            for line in pretty.lines() {
                out.push_str(&format!("  + {line}\n"));
            }
        }
        for n in &r.notes {
            out.push_str(&format!("    note: {n}\n"));
        }
    }
    let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    out.push_str(&format!(
        "\n{} to create, {} to update, {} to redeploy, {} unchanged, {} blocked.\n",
        count(Verdict::Create),
        count(Verdict::Update),
        count(Verdict::Redeploy),
        count(Verdict::NoChange),
        count(Verdict::Blocked)
    ));
    out
}

fn short(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

/// Exit code: nothing would change.
pub const EXIT_NO_CHANGE: u8 = 0;
/// Exit code: a resource is blocked (applying it would leave it Stalled), whatever else changes.
pub const EXIT_BLOCKED: u8 = 1;
/// Exit code: something would change (create, update, redeploy), and nothing is blocked.
pub const EXIT_CHANGES: u8 = 2;
/// Exit code: the command failed before it could say, so it says nothing about the manifests:
/// bad flags or manifests (a `runway.dev` document of an unknown version or kind), no cluster, AWS
/// unreachable.
pub const EXIT_ERROR: u8 = 3;

/// The exit code of the reports, as `terraform plan -detailed-exitcode` gives it for the verdicts:
/// [`EXIT_NO_CHANGE`], [`EXIT_CHANGES`], or [`EXIT_BLOCKED`] when a resource is blocked. A failed
/// run exits [`EXIT_ERROR`] instead.
pub fn exit_code(reports: &[Report]) -> u8 {
    if reports.iter().any(|r| r.verdict == Verdict::Blocked) {
        EXIT_BLOCKED
    } else if reports.iter().any(|r| r.verdict.changes()) {
        EXIT_CHANGES
    } else {
        EXIT_NO_CHANGE
    }
}
