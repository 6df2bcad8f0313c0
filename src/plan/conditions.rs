//! kstatus conditions from a [`Phase`]: `Ready`, `Reconciling` and `Stalled`, each with the
//! generation it describes, a reason and a message. A condition keeps its `lastTransitionTime` while
//! its status does not change, so watchers see real transitions only.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use super::Phase;
use crate::api::common::condition_types::{READY, RECONCILING, STALLED};

/// The three conditions for `phase` at `generation`, reusing transition times from `previous`.
pub fn conditions(phase: &Phase, generation: i64, previous: &[Condition], now: Timestamp) -> Vec<Condition> {
    let (ready, reconciling, stalled) = match phase {
        Phase::Progressing { .. } => (false, true, false),
        Phase::Stalled { .. } => (false, false, true),
        Phase::Ready { .. } => (true, false, false),
    };
    let (reason, message) = match phase {
        Phase::Progressing { reason, message }
        | Phase::Stalled { reason, message }
        | Phase::Ready { reason, message } => (*reason, message.as_str()),
    };
    let make = |type_: &str, on: bool| {
        let status = if on { "True" } else { "False" };
        let last = previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or(Time(now));
        Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            observed_generation: Some(generation),
            last_transition_time: last,
            reason: reason.to_string(),
            message: truncate(message, 1024),
        }
    };
    vec![
        make(READY, ready),
        make(RECONCILING, reconciling),
        make(STALLED, stalled),
    ]
}

/// How long the `Reconciling` condition has been True, if it is.
pub fn progressing_since(previous: &[Condition]) -> Option<Timestamp> {
    previous
        .iter()
        .find(|c| c.type_ == RECONCILING && c.status == "True")
        .map(|c| c.last_transition_time.0)
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of<'a>(cs: &'a [Condition], t: &str) -> &'a str {
        &cs.iter().find(|c| c.type_ == t).expect("condition").status
    }

    #[test]
    fn each_phase_sets_exactly_one_condition_true() {
        let now = Timestamp::now();
        let p = Phase::Progressing {
            reason: "RolloutInProgress",
            message: "deploying".into(),
        };
        let cs = conditions(&p, 3, &[], now);
        assert_eq!(status_of(&cs, READY), "False");
        assert_eq!(status_of(&cs, RECONCILING), "True");
        assert_eq!(status_of(&cs, STALLED), "False");
        assert!(
            cs.iter()
                .all(|c| c.observed_generation == Some(3) && c.reason == "RolloutInProgress")
        );

        let s = Phase::Stalled {
            reason: "InvalidParameter",
            message: "bad".into(),
        };
        let cs = conditions(&s, 3, &[], now);
        assert_eq!(status_of(&cs, STALLED), "True");
        assert_eq!(status_of(&cs, READY), "False");

        let r = Phase::Ready {
            reason: "Ready",
            message: "ok".into(),
        };
        let cs = conditions(&r, 4, &[], now);
        assert_eq!(status_of(&cs, READY), "True");
        assert_eq!(status_of(&cs, RECONCILING), "False");
    }

    #[test]
    fn transition_time_is_kept_while_status_is_unchanged() {
        let earlier = Timestamp::from_second(1_700_000_000).expect("timestamp");
        let p = Phase::Progressing {
            reason: "RolloutInProgress",
            message: "a".into(),
        };
        let first = conditions(&p, 1, &[], earlier);
        let later = Timestamp::from_second(1_700_000_100).expect("timestamp");
        let second = conditions(&p, 1, &first, later);
        let rec = second
            .iter()
            .find(|c| c.type_ == RECONCILING)
            .expect("reconciling");
        assert_eq!(rec.last_transition_time.0, earlier);
        assert_eq!(progressing_since(&second), Some(earlier));
        let done = conditions(
            &Phase::Ready {
                reason: "Ready",
                message: "ok".into(),
            },
            1,
            &second,
            later,
        );
        let ready = done.iter().find(|c| c.type_ == READY).expect("ready");
        assert_eq!(ready.last_transition_time.0, later);
    }

    #[test]
    fn long_messages_are_truncated_on_a_char_boundary() {
        let s = "é".repeat(600);
        let t = truncate(&s, 1023);
        assert!(t.len() <= 1023 && s.starts_with(&t));
    }
}
