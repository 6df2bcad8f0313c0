//! Decisions about a service's tags, the same for both kinds.
//!
//! Tags are not configuration: AWS changes them with TagResource and UntagResource, never with an
//! update, and changing them starts no deployment or operation. runway sets the tags the spec names
//! and removes only the keys it applied itself (kept in `status.appliedTags`) that the spec no
//! longer names. Tags that anyone else set, AWS's own (`aws:*`, ECS's `AmazonECSManaged`) and
//! runway's `runway.dev/owner` are never removed.
//!
//! Data flow: [`desired`] (the spec's tags) and the tags AWS reports go to [`change`], which gives
//! the calls to make; [`needs_read`] says whether App Runner's tags must be read at all (its
//! DescribeService does not report them); [`blocks`] keeps a rejected tag change from being sent
//! again before its backoff passes.

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::{Clock, OWNER_TAG, rejection_backoff};
use crate::api::common::{Tag, TagRejection};

/// The tag ECS puts on the resources Express Mode manages (docs/aws-behaviour.md E19). Removing it
/// stops ECS from operating the service, so runway never removes it, even if a spec named it.
pub const ECS_MANAGED_TAG: &str = "AmazonECSManaged";

/// `status.appliedTags`: key to value (an empty value for a tag without one).
pub type Applied = std::collections::BTreeMap<String, String>;

/// The tag calls that make AWS match the spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagChange {
    /// Tags to add or to give a new value (TagResource).
    pub set: Vec<Tag>,
    /// Keys to remove (UntagResource).
    pub remove: Vec<String>,
}

impl TagChange {
    /// Whether no call is needed.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// A one-line summary for Events and conditions: `set team, cost-centre; removed owner`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            let keys: Vec<&str> = self.set.iter().map(|t| t.key.as_str()).collect();
            parts.push(format!("set {}", keys.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("removed {}", self.remove.join(", ")));
        }
        parts.join("; ")
    }
}

/// Whether runway must never remove a key: AWS's reserved `aws:` prefix (in any case), ECS's managed
/// tag and runway's own owner tag.
pub fn protected(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) || key == ECS_MANAGED_TAG || key == OWNER_TAG
}

/// The tags runway manages for a spec: the spec's own, sorted by key, without `runway.dev/owner`
/// (runway sets that one itself at create and never changes it).
pub fn desired(spec_tags: &[Tag]) -> Vec<Tag> {
    let mut out: Vec<Tag> = spec_tags
        .iter()
        .filter(|t| t.key != OWNER_TAG)
        .map(normalized)
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.key == b.key);
    out
}

/// A tag with its value as AWS compares it: a missing value and an empty one are the same tag (AWS
/// may answer either for a tag that was set without a value).
fn normalized(tag: &Tag) -> Tag {
    Tag {
        key: tag.key.clone(),
        value: tag.value.clone().filter(|v| !v.is_empty()),
    }
}

/// The calls that take `actual` (what AWS reports) to `desired`: set every desired tag that AWS
/// lacks or holds with another value, and remove every key in `applied` (what runway set earlier)
/// that the spec no longer names and AWS still holds, unless it is [`protected`]. Keys that runway
/// never applied are never removed, whoever set them.
pub fn change(desired: &[Tag], applied: &[Tag], actual: &[Tag]) -> TagChange {
    let actual: Vec<Tag> = actual.iter().map(normalized).collect();
    let set = desired
        .iter()
        .filter(|want| !actual.contains(want))
        .cloned()
        .collect();
    let mut remove: Vec<String> = applied
        .iter()
        .map(|t| t.key.clone())
        .filter(|key| !protected(key))
        .filter(|key| !desired.iter().any(|t| &t.key == key))
        .filter(|key| actual.iter().any(|t| &t.key == key))
        .collect();
    remove.sort();
    remove.dedup();
    TagChange { set, remove }
}

/// What runway records in `status.appliedTags` once it has applied `desired`.
pub fn record(desired: &[Tag]) -> Applied {
    desired
        .iter()
        .map(|t| (t.key.clone(), t.value.clone().unwrap_or_default()))
        .collect()
}

/// The tags runway counts as applied: the status's record, or for a status written before runway
/// reconciled tags (when tags could only be set at create), the spec's tags, which are the ones
/// it created the service with; and the tags of a change it was sending when its result went
/// unrecorded (`status.tagsPending`), since AWS may hold them now.
pub fn applied(recorded: Option<&Applied>, pending: Option<&Applied>, desired: &[Tag]) -> Vec<Tag> {
    let as_tags = |r: &Applied| -> Vec<Tag> {
        r.iter()
            .map(|(key, value)| {
                normalized(&Tag {
                    key: key.clone(),
                    value: Some(value.clone()),
                })
            })
            .collect()
    };
    let mut out = recorded.map_or_else(|| desired.to_vec(), as_tags);
    for tag in pending.map(as_tags).unwrap_or_default() {
        if !out.iter().any(|t| t.key == tag.key) {
            out.push(tag);
        }
    }
    out
}

/// Whether the service's tags must be read and compared: the spec's tags differ from what runway
/// last applied (or nothing is recorded yet), a change was being sent when its result went
/// unrecorded (`pending`), or the `runway.dev/reconcile-requested-at` annotation has a new value,
/// which asks runway to look again.
pub fn needs_read(desired: &[Tag], recorded: Option<&Applied>, pending: bool, requested_again: bool) -> bool {
    pending || requested_again || recorded.is_none_or(|r| *r != record(desired))
}

/// The digest that identifies a tag change, for its rejection record.
pub fn digest(change: &TagChange) -> String {
    let keys: Vec<(&str, Option<&str>)> = change
        .set
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_deref()))
        .collect();
    super::digest(&(keys, &change.remove))
}

/// Whether an earlier rejection of the same change keeps runway from sending it again: until its
/// backoff passes (one resync, doubling) or the `runway.dev/reconcile-requested-at` annotation gets
/// a new value.
pub fn blocks(rejection: Option<&TagRejection>, hash: &str, clock: &Clock<'_>) -> bool {
    let Some(r) = rejection.filter(|r| r.hash == hash) else {
        return false;
    };
    if clock.requested_at.is_some() && clock.requested_at != r.requested_at.as_deref() {
        return false;
    }
    let Ok(at) = r.at.parse::<Timestamp>() else {
        return true;
    };
    let wait = rejection_backoff(clock.resync, r.attempts.max(1));
    let due = at.saturating_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX));
    clock.now < due.unwrap_or(Timestamp::MAX)
}

/// The rejection record after AWS refused the change with digest `hash`: counted when the same
/// change was refused before, started over otherwise.
pub fn rejected(
    previous: Option<&TagRejection>,
    hash: &str,
    message: String,
    clock: &Clock<'_>,
) -> TagRejection {
    let attempts = match previous {
        Some(p) if p.hash == hash => p.attempts.saturating_add(1),
        _ => 1,
    };
    TagRejection {
        hash: hash.to_string(),
        at: clock.now.to_string(),
        attempts,
        requested_at: clock.requested_at.map(str::to_string),
        message,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn tag(key: &str, value: &str) -> Tag {
        Tag {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    #[test]
    fn sets_what_aws_lacks_or_holds_differently_and_removes_only_what_runway_applied() {
        let want = desired(&[tag("team", "web"), tag("cost-centre", "42")]);
        let recorded = record(&[tag("cost-centre", "41"), tag("env", "prod"), tag("team", "web")]);
        let applied = applied(Some(&recorded), None, &want);
        let actual = vec![
            tag("cost-centre", "41"),
            tag("env", "prod"),
            tag("team", "web"),
            tag("owner", "someone-else"),
            tag(ECS_MANAGED_TAG, "true"),
            tag("aws:cloudformation:stack-name", "x"),
            tag(OWNER_TAG, "default/web"),
        ];
        let c = change(&want, &applied, &actual);
        assert_eq!(c.set, vec![tag("cost-centre", "42")]);
        assert_eq!(c.remove, vec!["env".to_string()]);
        assert_eq!(c.describe(), "set cost-centre; removed env");
    }

    #[test]
    fn protected_keys_are_never_removed_even_if_runway_applied_them() {
        let applied = vec![
            tag(ECS_MANAGED_TAG, "true"),
            tag("AWS:x", "y"),
            tag(OWNER_TAG, "a/b"),
        ];
        let actual = applied.clone();
        assert!(change(&[], &applied, &actual).is_empty());
    }

    #[test]
    fn a_key_that_is_already_gone_is_not_removed_again_and_matching_tags_send_nothing() {
        let want = desired(&[tag("team", "web")]);
        let applied = vec![tag("env", "prod"), tag("team", "web")];
        assert!(change(&want, &applied, &[tag("team", "web")]).is_empty());
    }

    #[test]
    fn a_missing_value_and_an_empty_one_are_the_same_tag() {
        let want = desired(&[Tag {
            key: "flag".into(),
            value: Some(String::new()),
        }]);
        let actual = vec![Tag {
            key: "flag".into(),
            value: None,
        }];
        assert!(change(&want, &[], &actual).is_empty());
    }

    #[test]
    fn the_owner_tag_in_a_spec_is_not_managed_as_a_spec_tag() {
        assert_eq!(
            desired(&[tag(OWNER_TAG, "x"), tag("b", "1"), tag("a", "2")]),
            vec![tag("a", "2"), tag("b", "1")]
        );
    }

    #[test]
    fn an_old_status_counts_the_spec_tags_as_applied_and_asks_for_one_read() {
        let want = desired(&[tag("team", "web")]);
        assert_eq!(applied(None, None, &want), want);
        assert!(needs_read(&want, None, false, false));
        assert!(!needs_read(&want, Some(&record(&want)), false, false));
        assert!(needs_read(&want, Some(&record(&want)), false, true));
        assert!(needs_read(&want, Some(&Applied::new()), false, false));
        // A value-less tag is recorded with an empty value and reads back the same.
        let bare = desired(&[Tag {
            key: "flag".into(),
            value: None,
        }]);
        assert_eq!(applied(Some(&record(&bare)), None, &bare), bare);
        assert!(!needs_read(&bare, Some(&record(&bare)), false, false));
    }

    #[test]
    fn an_unrecorded_change_is_read_back_and_its_keys_count_as_runways() {
        // The spec went from team=a to team=a, extra=1; TagResource reached AWS, the status write
        // did not, and the spec went back. The record still says team=a, like the spec.
        let want = desired(&[tag("team", "a")]);
        let recorded = record(&want);
        let pending = record(&[tag("extra", "1"), tag("team", "a")]);
        assert!(needs_read(&want, Some(&recorded), true, false));
        let ours = applied(Some(&recorded), Some(&pending), &want);
        let actual = vec![tag("extra", "1"), tag("team", "a"), tag("other", "x")];
        let c = change(&want, &ours, &actual);
        assert_eq!(c.remove, vec!["extra".to_string()]);
        assert!(c.set.is_empty());
        // A key both record and pending name keeps the record's value.
        let both = applied(Some(&recorded), Some(&record(&[tag("team", "b")])), &want);
        assert_eq!(both, vec![tag("team", "a")]);
    }

    #[test]
    fn a_rejected_change_waits_for_its_backoff_or_a_new_request() {
        let t0 = Timestamp::from_second(1_700_000_000).expect("time");
        let at = |secs: i64| Timestamp::from_second(1_700_000_000 + secs).expect("time");
        let clock = |now, requested_at| Clock {
            cluster: "",
            now,
            resync: Duration::from_secs(60),
            requested_at,
            stuck_after: crate::plan::DEFAULT_STUCK_AFTER,
        };
        let c = TagChange {
            set: vec![tag("a", "1")],
            remove: vec![],
        };
        let hash = digest(&c);
        let r = rejected(
            None,
            &hash,
            "LimitExceededException".into(),
            &clock(t0, Some("x")),
        );
        assert_eq!(r.attempts, 1);
        assert!(blocks(Some(&r), &hash, &clock(at(59), Some("x"))));
        assert!(!blocks(Some(&r), &hash, &clock(at(60), Some("x"))));
        assert!(!blocks(Some(&r), &hash, &clock(at(1), Some("y"))));
        assert!(!blocks(Some(&r), "other", &clock(at(1), Some("x"))));
        let again = rejected(Some(&r), &hash, "again".into(), &clock(t0, Some("x")));
        assert_eq!(again.attempts, 2);
        assert!(blocks(Some(&again), &hash, &clock(at(119), Some("x"))));
    }
}
