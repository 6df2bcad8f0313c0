//! The convergence guard, the same for both kinds: when AWS keeps reporting a field differently from
//! the spec after runway's update and the end of its rollout, runway sends the same request again at
//! most [`MAX_DRIFT_CORRECTIONS`] times, then stops (`Stalled`/`DriftNotConverging`) and sends no
//! mutating call until the spec's generation or the `runway.dev/reconcile-requested-at` annotation
//! changes: each try is a deployment.
//!
//! Flow: the kind's planner plans a drift correction → [`guard`] counts the corrections of the same
//! [`Round`] (request digest, generation, annotation value) recorded in
//! `status.driftCorrections` and refuses the step once there were enough, with a message that names
//! each field with the spec's and AWS's values ([`message`]) → the act layer [`record`]s a correction
//! AWS accepted → a step that reports the service Ready forgets the count ([`converged`]).
//!
//! Telling an AWS normalization from a person who edits the field by hand each time: runway cannot,
//! and does not try. A correction that AWS converges to (the next read after its rollout reports the
//! spec's values, so the resource is Ready) resets the count, so a one-off change outside runway is
//! corrected every time it happens. Only corrections with no converged read in between count:
//! a value AWS rewrites, or another tool or person that reverts runway's correction before runway
//! reads it back. Both are a fight that more deployments cannot win, so both stop.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde_json::Value;

use super::Phase;
use super::conditions::truncate;
use crate::api::common::condition_types::STALLED;
use crate::api::common::{CommonStatus, DriftCorrections};

/// The Stalled reason once AWS does not converge.
pub const DRIFT_NOT_CONVERGING: &str = "DriftNotConverging";

/// How many drift corrections of one request runway sends in a row (after the update or create
/// that applied it) before it stops.
pub const MAX_DRIFT_CORRECTIONS: u32 = 2;

/// The longest value a message shows, in bytes.
const MAX_VALUE_LEN: usize = 120;

/// Request members whose values may hold credentials: only their names are shown.
const ENVIRONMENT: &[&str] = &["environment", "runtimeEnvironmentVariables"];
/// Request members that name secrets: only their names are shown.
const SECRETS: &[&str] = &["secrets", "runtimeEnvironmentSecrets"];

/// A drift correction a planner decided: the fields AWS reports differently, with the desired
/// request and AWS's configuration as JSON (the same dotted paths name a field in both).
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    /// The drifted fields, as dotted paths.
    pub fields: Vec<String>,
    /// The desired request.
    pub spec: Value,
    /// What AWS reports.
    pub aws: Value,
}

/// What the corrections are counted for: one desired request, at one generation, under one value
/// of the `runway.dev/reconcile-requested-at` annotation. A change of any of them starts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round<'a> {
    /// The desired request's digest.
    pub hash: &'a str,
    /// The resource's `metadata.generation`.
    pub generation: i64,
    /// The annotation's value.
    pub requested_at: Option<&'a str>,
}

/// What the guard made of a planned step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Guarded {
    /// The step corrects no drift.
    #[default]
    NoDrift,
    /// A drift correction that may be sent; it counts once AWS accepts it.
    Correction,
    /// A drift correction the guard refused: the step only reports `DriftNotConverging`.
    Refused,
}

/// The drift corrections already sent in `round`.
pub fn corrections(common: &CommonStatus, round: &Round<'_>) -> u32 {
    common
        .drift_corrections
        .as_ref()
        .filter(|r| {
            r.hash == round.hash
                && r.generation == round.generation
                && r.requested_at.as_deref() == round.requested_at
        })
        .map_or(0, |r| r.count)
}

/// The Stalled phase that replaces a drift correction once [`MAX_DRIFT_CORRECTIONS`] of `round`
/// were sent; `None` while another may be sent.
pub fn guard(common: &CommonStatus, round: &Round<'_>, drift: &Drift) -> Option<Phase> {
    let sent = corrections(common, round);
    (sent >= MAX_DRIFT_CORRECTIONS).then(|| Phase::Stalled {
        reason: DRIFT_NOT_CONVERGING,
        message: message(drift, sent),
    })
}

/// Counts a drift correction of `round` that AWS accepted.
pub fn record(common: &mut CommonStatus, round: &Round<'_>) {
    let count = corrections(common, round).saturating_add(1);
    common.drift_corrections = Some(DriftCorrections {
        hash: round.hash.to_string(),
        count,
        generation: round.generation,
        requested_at: round.requested_at.map(str::to_string),
    });
}

/// Forgets the count: AWS reports what the spec asks for.
pub fn converged(common: &mut CommonStatus) {
    common.drift_corrections = None;
}

/// Whether the `before` conditions did not report `DriftNotConverging` yet: the guard has just
/// stopped.
pub fn newly_refused(before: &[Condition]) -> bool {
    !before
        .iter()
        .any(|c| c.type_ == STALLED && c.status == "True" && c.reason == DRIFT_NOT_CONVERGING)
}

/// The Stalled message: how often the request was sent, each field with the spec's and AWS's
/// values (names only for environment variables and secrets), and what to do.
pub fn message(drift: &Drift, sent: u32) -> String {
    let (mut spec, mut aws) = (drift.spec.clone(), drift.aws.clone());
    redact(&mut spec);
    redact(&mut aws);
    let fields: Vec<String> = drift
        .fields
        .iter()
        .map(|f| {
            let names = if is_named_only(f) { " (names only)" } else { "" };
            format!(
                "{f}{names}: spec {}, AWS {}",
                show(&at(&spec, f)),
                show(&at(&aws, f))
            )
        })
        .collect();
    format!(
        "AWS still reports {} differently from the spec after runway's update and {sent} drift \
         corrections of the same spec, each after its rollout had finished: {}. AWS may rewrite \
         (normalize) these values, or something else changes them back. runway sends no more \
         updates, since each one is a deployment: set the spec to AWS's values, or change the spec \
         or the runway.dev/reconcile-requested-at annotation to try {MAX_DRIFT_CORRECTIONS} more times",
        drift.fields.join(", "),
        fields.join("; ")
    )
}

/// Whether a field is one whose values are never shown.
fn is_named_only(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    ENVIRONMENT.contains(&last) || SECRETS.contains(&last)
}

/// Replaces every environment and secrets member, at any depth, by the sorted list of its names.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if ENVIRONMENT.contains(&key.as_str()) || SECRETS.contains(&key.as_str()) {
                    *member = names(member);
                } else {
                    redact(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// The names of a list of `{name, …}` entries or of a map's keys, sorted.
fn names(value: &Value) -> Value {
    let mut names: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.get("name").and_then(Value::as_str).map(str::to_string))
            .collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    names.sort();
    Value::Array(names.into_iter().map(Value::String).collect())
}

/// The value at a dotted path.
fn at(value: &Value, path: &str) -> Value {
    let pointer = format!("/{}", path.replace('.', "/"));
    value.pointer(&pointer).cloned().unwrap_or(Value::Null)
}

/// A value as a message shows it: JSON, shortened; `(not reported)` for none.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "(not reported)".into(),
        other => {
            let text = other.to_string();
            if text.len() > MAX_VALUE_LEN {
                format!("{}…", truncate(&text, MAX_VALUE_LEN))
            } else {
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round<'a>(hash: &'a str, generation: i64, requested_at: Option<&'a str>) -> Round<'a> {
        Round {
            hash,
            generation,
            requested_at,
        }
    }

    fn drift() -> Drift {
        Drift {
            fields: vec!["healthCheckPath".into()],
            spec: json!({"healthCheckPath": "/Health"}),
            aws: json!({"healthCheckPath": "/health"}),
        }
    }

    #[test]
    fn two_corrections_of_one_round_are_sent_and_the_third_is_refused() {
        let mut common = CommonStatus::default();
        let r = round("h", 3, Some("a"));
        // (corrections recorded so far, whether the guard lets the next one through)
        let table = [(0, true), (1, true), (2, false), (3, false)];
        for (recorded, sends) in table {
            while corrections(&common, &r) < recorded {
                record(&mut common, &r);
            }
            let verdict = guard(&common, &r, &drift());
            assert_eq!(verdict.is_none(), sends, "after {recorded} corrections");
            if let Some(Phase::Stalled { reason, message }) = verdict {
                assert_eq!(reason, DRIFT_NOT_CONVERGING);
                assert!(message.contains("healthCheckPath"), "{message}");
            }
        }
    }

    #[test]
    fn a_new_request_generation_or_annotation_value_starts_a_new_round() {
        let mut common = CommonStatus::default();
        let counted = round("h", 3, Some("a"));
        record(&mut common, &counted);
        record(&mut common, &counted);
        assert!(guard(&common, &counted, &drift()).is_some());
        let table = [
            ("another request", round("other", 3, Some("a"))),
            ("a new generation", round("h", 4, Some("a"))),
            ("a new annotation value", round("h", 3, Some("b"))),
            ("the annotation removed", round("h", 3, None)),
        ];
        for (what, next) in table {
            assert_eq!(corrections(&common, &next), 0, "{what}");
            assert!(guard(&common, &next, &drift()).is_none(), "{what}");
        }
        // The new round counts from one, under its own values.
        let fresh = round("h", 3, Some("b"));
        record(&mut common, &fresh);
        assert_eq!(
            common.drift_corrections,
            Some(DriftCorrections {
                hash: "h".into(),
                count: 1,
                generation: 3,
                requested_at: Some("b".into()),
            })
        );
        assert_eq!(corrections(&common, &counted), 0);
    }

    #[test]
    fn a_converged_read_forgets_the_count() {
        let mut common = CommonStatus::default();
        let r = round("h", 1, None);
        record(&mut common, &r);
        record(&mut common, &r);
        converged(&mut common);
        assert_eq!(common.drift_corrections, None);
        assert!(guard(&common, &r, &drift()).is_none());
    }

    #[test]
    fn the_message_names_each_field_with_both_values_and_never_an_environment_value() {
        let drift = Drift {
            fields: vec![
                "healthCheckPath".into(),
                "primaryContainer.environment".into(),
                "primaryContainer.secrets".into(),
                "scalingTarget.minTaskCount".into(),
            ],
            spec: json!({
                "healthCheckPath": "/Health",
                "primaryContainer": {
                    "environment": [{"name": "TOKEN", "value": "spec-secret-value"}],
                    "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}]
                },
                "scalingTarget": {"minTaskCount": 2}
            }),
            aws: json!({
                "healthCheckPath": "/health",
                "primaryContainer": {
                    "environment": [
                        {"name": "TOKEN", "value": "aws-secret-value"},
                        {"name": "EXTRA", "value": "console-value"}
                    ],
                    "secrets": []
                }
            }),
        };
        let text = message(&drift, 2);
        for want in [
            r#"healthCheckPath: spec "/Health", AWS "/health""#,
            r#"primaryContainer.environment (names only): spec ["TOKEN"], AWS ["EXTRA","TOKEN"]"#,
            r#"primaryContainer.secrets (names only): spec ["DB"], AWS []"#,
            "scalingTarget.minTaskCount: spec 2, AWS (not reported)",
            "2 drift corrections",
            "runway.dev/reconcile-requested-at",
        ] {
            assert!(text.contains(want), "{want:?} not in {text}");
        }
        for secret in [
            "spec-secret-value",
            "aws-secret-value",
            "console-value",
            "parameter/db",
        ] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }

    #[test]
    fn a_whole_structure_that_drifted_is_shown_without_environment_values() {
        let drift = Drift {
            fields: vec!["sourceConfiguration.imageRepository".into()],
            spec: json!({"sourceConfiguration": {"imageRepository": {
                "imageIdentifier": "nginx",
                "imageConfiguration": {"runtimeEnvironmentVariables": {"KEY": "hidden"}}
            }}}),
            aws: json!({"sourceConfiguration": {}}),
        };
        let text = message(&drift, 2);
        assert!(
            text.contains(r#""runtimeEnvironmentVariables":["KEY"]"#),
            "{text}"
        );
        assert!(!text.contains("hidden"), "{text}");
        let long = Drift {
            fields: vec!["command".into()],
            spec: json!({"command": ["x".repeat(500)]}),
            aws: json!({"command": []}),
        };
        assert!(message(&long, 2).len() < 900, "long values are shortened");
    }

    #[test]
    fn only_a_condition_not_yet_reporting_the_guard_is_new() {
        let stalled = |reason: &str| Condition {
            type_: STALLED.into(),
            status: "True".into(),
            reason: reason.into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
        };
        assert!(newly_refused(&[]));
        assert!(newly_refused(&[stalled("AwsRejectedSpec")]));
        assert!(!newly_refused(&[stalled(DRIFT_NOT_CONVERGING)]));
    }
}
