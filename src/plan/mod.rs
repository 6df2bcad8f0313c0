//! Pure decisions. Given a resource's spec, its last status and what AWS reports, the functions here
//! say what to do next: create, update, redeploy, pause or resume, wait, delete, or nothing. They make
//! no calls; `controller` acts on their answers. `conditions` turns an outcome into kstatus
//! conditions, the same way for both kinds.

pub mod account;
pub mod apprunner;
pub mod arn;
pub mod conditions;
pub mod convergence;
pub mod deletion;
pub mod express;
pub mod tags;

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::common::{CommonStatus, Tag, condition_types::STALLED};

/// The tag runway puts on every service it creates: `<namespace>/<name>@<cluster>` of the owning
/// resource (see [`Owner`]).
pub const OWNER_TAG: &str = "runway.dev/owner";

/// The `<namespace>/<name>` part of an owner tag value.
pub fn owner(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// Who owns a service: the cluster runway runs in (`--cluster-id`, by default the `kube-system`
/// Namespace's UID) and the resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner<'a> {
    /// The cluster identity; empty when none is known.
    pub cluster: &'a str,
    /// The resource's namespace.
    pub namespace: &'a str,
    /// The resource's name.
    pub name: &'a str,
}

impl Owner<'_> {
    /// The owner tag value: `<namespace>/<name>@<cluster>`, or `<namespace>/<name>` without a
    /// cluster identity (the form runway wrote before it had one).
    pub fn tag_value(&self) -> String {
        match self.cluster {
            "" => owner(self.namespace, self.name),
            cluster => format!("{}@{cluster}", owner(self.namespace, self.name)),
        }
    }
}

/// Who a service found by name belongs to, from its `runway.dev/owner` tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// This resource created it (before a crash lost the status write).
    Mine,
    /// Another runway resource, named by the tag.
    OtherResource(String),
    /// Not created by runway.
    NotRunway,
}

/// Decides ownership of a service from its owner tag: only the tag counts, never timing, so two
/// resources with the same name in different namespaces, or in two clusters that share an account,
/// never share a service. A tag without a cluster (written before runway had a cluster identity)
/// counts for the resource it names in any cluster.
pub fn ownership(tags: &[Tag], me: &Owner<'_>) -> Ownership {
    let Some(value) = tags
        .iter()
        .find(|t| t.key == OWNER_TAG)
        .and_then(|t| t.value.as_deref())
    else {
        return Ownership::NotRunway;
    };
    let (resource, cluster) = match value.rsplit_once('@') {
        Some((resource, cluster)) => (resource, Some(cluster)),
        None => (value, None),
    };
    let same_cluster = cluster.is_none_or(|c| c == me.cluster);
    if resource == owner(me.namespace, me.name) && same_cluster {
        return Ownership::Mine;
    }
    Ownership::OtherResource(match cluster {
        Some(c) if c != me.cluster => format!("{resource} in cluster {c}"),
        _ => resource.to_string(),
    })
}

/// Why runway will not act on the service a resource names: the Stalled condition's reason and
/// message. Nothing is called while it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// PascalCase reason.
    pub reason: &'static str,
    /// What is wrong, and what to do.
    pub message: String,
}

impl From<Refusal> for Phase {
    fn from(r: Refusal) -> Self {
        Phase::Stalled {
            reason: r.reason,
            message: r.message,
        }
    }
}

/// A resource whose `spec.serviceArn` names another service than the one it already manages
/// (`status.serviceArn`, a service it created or adopted) is refused: runway never switches
/// services under a resource, and never forgets the one it manages.
pub fn arn_conflict(spec_arn: Option<&str>, status_arn: Option<&str>) -> Option<Refusal> {
    let (Some(spec), Some(managed)) = (spec_arn, status_arn) else {
        return None;
    };
    (spec != managed).then(|| Refusal {
        reason: "ServiceArnConflict",
        message: format!(
            "spec.serviceArn names {spec}, but this resource already manages {managed}; runway acts on \
             neither, and keeps the finalizer, until they agree. Set spec.serviceArn to {managed}, or \
             delete {managed} yourself and remove the finalizer"
        ),
    })
}

/// Whether a resource may adopt the service `arn` by `spec.serviceArn`, from the service's tags: a
/// service without an owner tag, or with this resource's, may be adopted; one that carries another
/// runway resource's owner tag belongs to that resource and is refused.
pub fn adoption(arn: &str, tags: &[Tag], me: &Owner<'_>) -> Option<Refusal> {
    match ownership(tags, me) {
        Ownership::Mine | Ownership::NotRunway => None,
        Ownership::OtherResource(other) => Some(Refusal {
            reason: "ServiceOwnedByAnother",
            message: format!(
                "{arn} carries {OWNER_TAG}={other}: it belongs to that runway resource, so this one \
                 will not adopt, update or delete it; name a service without another resource's \
                 owner tag in spec.serviceArn"
            ),
        }),
    }
}

/// What a plan needs to know besides spec, status and AWS: the time, the resync interval, the
/// current value of the `runway.dev/reconcile-requested-at` annotation, and how long an AWS
/// operation may run before runway reports that it looks stuck.
#[derive(Clone, Copy, Debug)]
pub struct Clock<'a> {
    /// Now.
    pub now: Timestamp,
    /// The resync interval of the controller.
    pub resync: Duration,
    /// The annotation's value, if any.
    pub requested_at: Option<&'a str>,
    /// The cluster identity runway's owner tags carry.
    pub cluster: &'a str,
    /// How long an AWS operation may run before runway reports it as looking stuck
    /// (`--operation-stuck-seconds`, [`DEFAULT_STUCK_AFTER`]).
    pub stuck_after: Duration,
}

/// The default of `--operation-stuck-seconds`: App Runner operations take minutes (a create two to
/// five, a failing one about ten), so one that runs for half an hour looks stuck
/// (docs/aws-behaviour.md A24).
pub const DEFAULT_STUCK_AFTER: Duration = Duration::from_secs(30 * 60);

/// The `Reconciling` reason for an AWS operation that has run longer than
/// [`Clock::stuck_after`]. The resource stays Reconciling (AWS still says the operation runs, so
/// nothing may be sent and nothing is Ready), and a Warning Event says so once.
pub const OPERATION_STUCK: &str = "OperationStuck";

/// How long an operation that started at `started_at` (seconds since the Unix epoch, as AWS
/// reports it) has run at `now`; zero when the clocks disagree and it seems to start later.
pub fn running_for(started_at: i64, now: Timestamp) -> Duration {
    Duration::from_secs(u64::try_from(now.as_second().saturating_sub(started_at)).unwrap_or(0))
}

/// A duration in words for a condition message, rounded down to whole minutes so that the message
/// changes at most once a minute: "less than a minute", "12 min", "3 h 5 min".
pub fn duration_words(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "less than a minute".into(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// A canonical desired AWS request: what runway sends, and how it records what it sent.
pub trait Request: Sized {
    /// The digest recorded as `status.lastAppliedHash`.
    fn digest(&self) -> String;
    /// The fields it sets, recorded as `status.appliedFields`.
    fn fields(&self) -> Vec<String>;
    /// The request that also clears the `applied` fields it no longer sets.
    fn clearing(self, applied: &[String]) -> Self;
}

/// The desired request from the spec's, clearing what runway applied earlier and the spec dropped.
/// A status written before runway tracked `appliedFields` gets them from the spec it last applied.
pub fn desired<R: Request>(spec_request: R, common: &mut CommonStatus) -> R {
    if common.applied_fields.is_empty()
        && common.last_applied_hash.as_deref() == Some(spec_request.digest().as_str())
    {
        common.applied_fields = spec_request.fields();
    }
    spec_request.clearing(&common.applied_fields)
}

/// The phase of a resource whose spec cannot be created as it stands: nothing is sent.
pub fn invalid_spec(message: String) -> Phase {
    Phase::Stalled {
        reason: "InvalidSpec",
        message,
    }
}

/// The longest wait between two tries of a request AWS rejected, in resync intervals.
pub const MAX_REJECTION_BACKOFF_RESYNCS: u32 = 8;

/// How long after its `attempts`-th rejection a request is sent again on its own: one resync
/// interval, doubling with each rejection, at most [`MAX_REJECTION_BACKOFF_RESYNCS`] intervals.
pub fn rejection_backoff(resync: Duration, attempts: u32) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(3);
    resync.saturating_mul(factor.min(MAX_REJECTION_BACKOFF_RESYNCS))
}

/// Whether an earlier rejection still keeps runway from sending the request with digest `hash`.
/// It does while the request is the one AWS rejected, its backoff has not passed, and the
/// `runway.dev/reconcile-requested-at` annotation has not changed since. Many rejections are
/// environmental (a missing `iam:PassRole`, a quota, a KMS key policy), so nothing is blocked for ever.
pub fn rejection_blocks(common: &CommonStatus, hash: &str, clock: &Clock<'_>) -> bool {
    if common.last_failed_hash.as_deref() != Some(hash) {
        return false;
    }
    if clock.requested_at.is_some() && clock.requested_at != common.failed_requested_at.as_deref() {
        return false;
    }
    let Some(at) = common
        .last_failed_at
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
    else {
        // A rejection recorded without a time (by an older runway): its backoff starts now.
        return true;
    };
    let wait = rejection_backoff(clock.resync, common.failed_attempts.unwrap_or(1));
    let due = at.saturating_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX));
    clock.now < due.unwrap_or(Timestamp::MAX)
}

/// Records a rejection of the request with digest `hash` at `now`: counts it when the same request
/// was rejected before, starts over otherwise.
pub fn record_rejection(common: &mut CommonStatus, hash: &str, now: Timestamp) {
    let again = common.last_failed_hash.as_deref() == Some(hash);
    common.failed_attempts = Some(if again {
        common.failed_attempts.unwrap_or(1).saturating_add(1)
    } else {
        1
    });
    common.last_failed_hash = Some(hash.to_string());
    common.last_failed_at = Some(now.to_string());
}

/// Forgets a rejection after a request was accepted.
pub fn clear_rejection(common: &mut CommonStatus) {
    common.last_failed_hash = None;
    common.last_failed_at = None;
    common.failed_attempts = None;
    common.failed_requested_at = None;
}

/// The Stalled phase for a spec that AWS already rejected (its digest is `status.lastFailedHash`):
/// the message of the Stalled condition that reported the rejection, kept until the spec changes,
/// the backoff passes, or the annotation asks for another try.
pub fn rejected_again(common: &CommonStatus) -> (&'static str, String) {
    let message = common
        .conditions
        .iter()
        .find(|c| c.type_ == STALLED && c.status == "True")
        .map(|c| c.message.clone())
        .unwrap_or_else(|| {
            "AWS rejected this spec; runway tries again later, or at once when the \
             runway.dev/reconcile-requested-at annotation changes"
                .into()
        });
    ("AwsRejectedSpec", message)
}

/// The AWS Region of a service, from an ARN (`arn:<partition>:<service>:<region>:...`).
pub fn region_of_arn(arn: &str) -> Option<&str> {
    arn::Arn::parse(arn)?.region()
}

/// The Region a resource's calls go to. An existing service's Region comes from its ARN (an
/// adopted `spec.serviceArn`, else `status.serviceArn`), then from `status.region`; only a resource
/// that has nothing in AWS yet uses `spec.region` or the controller's default, which may change.
pub fn pinned_region(
    spec_region: Option<&str>,
    spec_arn: Option<&str>,
    status: &CommonStatus,
    default_region: &str,
) -> String {
    spec_arn
        .and_then(region_of_arn)
        .or_else(|| status.service_arn.as_deref().and_then(region_of_arn))
        .or(status.region.as_deref())
        .or(spec_region)
        .unwrap_or(default_region)
        .to_string()
}

/// Where a resource stands after a reconcile, for its conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// AWS is working (or runway just asked it to): Reconciling=True.
    Progressing {
        /// PascalCase reason.
        reason: &'static str,
        /// Human-readable detail.
        message: String,
    },
    /// A failure that needs a spec change: Stalled=True.
    Stalled {
        /// PascalCase reason.
        reason: &'static str,
        /// Human-readable detail, with AWS's message.
        message: String,
    },
    /// Settled and serving the spec: Ready=True.
    Ready {
        /// PascalCase reason.
        reason: &'static str,
        /// Human-readable detail.
        message: String,
    },
}

/// What deleting a resource's AWS service needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteStep {
    /// The service is gone or already deleted: release the finalizer.
    Gone,
    /// AWS is deleting it, or finishing another operation first: poll again.
    Wait,
    /// Call the delete API.
    Delete,
}

/// The hex SHA-256 digest of a value's JSON form; used for `status.lastAppliedHash`.
pub fn digest<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// How long to wait before polling AWS again, given how long the resource has been progressing:
/// 5 s at first, doubling every 30 s, at most 60 s.
pub fn poll_interval(progressing_for: Duration) -> Duration {
    let steps = (progressing_for.as_secs() / 30).min(4) as u32;
    Duration::from_secs((5u64 << steps).min(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_tag(value: &str) -> Tag {
        Tag {
            key: OWNER_TAG.into(),
            value: Some(value.into()),
        }
    }

    #[test]
    fn a_service_arn_that_differs_from_the_managed_one_is_refused() {
        let a = "arn:aws:ecs:us-east-1:123456789012:service/default/a";
        let b = "arn:aws:ecs:us-east-1:123456789012:service/default/b";
        assert_eq!(arn_conflict(None, Some(a)), None);
        assert_eq!(arn_conflict(Some(a), None), None);
        assert_eq!(arn_conflict(Some(a), Some(a)), None);
        let refusal = arn_conflict(Some(b), Some(a)).expect("refused");
        assert_eq!(refusal.reason, "ServiceArnConflict");
        assert!(
            refusal.message.contains(a) && refusal.message.contains(b),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn the_owner_tag_names_the_cluster_and_a_tag_from_another_cluster_is_not_mine() {
        let me = Owner {
            cluster: "c1",
            namespace: "apps",
            name: "web",
        };
        assert_eq!(me.tag_value(), "apps/web@c1");
        assert_eq!(Owner { cluster: "", ..me }.tag_value(), "apps/web");
        assert_eq!(ownership(&[owner_tag("apps/web@c1")], &me), Ownership::Mine);
        assert_eq!(
            ownership(&[owner_tag("apps/web")], &me),
            Ownership::Mine,
            "legacy tag"
        );
        assert_eq!(
            ownership(&[owner_tag("apps/web@c2")], &me),
            Ownership::OtherResource("apps/web in cluster c2".into())
        );
        assert_eq!(
            ownership(&[owner_tag("apps/api@c1")], &me),
            Ownership::OtherResource("apps/api".into())
        );
        assert_eq!(ownership(&[], &me), Ownership::NotRunway);
    }

    #[test]
    fn only_untagged_services_or_the_resources_own_may_be_adopted() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:service/default/web";
        let me = |namespace, name| Owner {
            cluster: "c1",
            namespace,
            name,
        };
        assert_eq!(adoption(arn, &[], &me("apps", "web")), None);
        assert_eq!(adoption(arn, &[owner_tag("apps/web")], &me("apps", "web")), None);
        assert_eq!(
            adoption(arn, &[owner_tag("apps/web@c1")], &me("apps", "web")),
            None
        );
        let refusal = adoption(arn, &[owner_tag("team-a/web")], &me("team-b", "web")).expect("refused");
        assert_eq!(refusal.reason, "ServiceOwnedByAnother");
        assert!(refusal.message.contains("team-a/web"), "{}", refusal.message);
    }

    #[test]
    fn poll_interval_starts_at_five_seconds_and_caps_at_a_minute() {
        assert_eq!(poll_interval(Duration::from_secs(0)), Duration::from_secs(5));
        assert_eq!(poll_interval(Duration::from_secs(29)), Duration::from_secs(5));
        assert_eq!(poll_interval(Duration::from_secs(31)), Duration::from_secs(10));
        assert_eq!(poll_interval(Duration::from_secs(95)), Duration::from_secs(40));
        assert_eq!(
            poll_interval(Duration::from_secs(10_000)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn digest_is_stable_and_sensitive() {
        assert_eq!(digest(&vec!["a", "b"]), digest(&vec!["a", "b"]));
        assert_ne!(digest(&vec!["a", "b"]), digest(&vec!["b", "a"]));
        assert_eq!(digest(&"x").len(), 64);
    }

    fn clock(now: Timestamp, requested_at: Option<&str>) -> Clock<'_> {
        Clock {
            now,
            resync: Duration::from_secs(600),
            requested_at,
            cluster: "",
            stuck_after: DEFAULT_STUCK_AFTER,
        }
    }

    #[test]
    fn operation_ages_are_counted_from_aws_start_time_in_whole_minutes() {
        let now = Timestamp::from_second(1_767_226_200).expect("time");
        assert_eq!(running_for(1_767_226_200 - 125, now), Duration::from_secs(125));
        assert_eq!(
            running_for(1_767_226_200 + 30, now),
            Duration::ZERO,
            "a start AWS dates after our now (clock skew) is no age at all"
        );
        let words: Vec<String> = [0, 59, 60, 125, 3600, 3600 + 5 * 60, 26 * 3600]
            .into_iter()
            .map(|s| duration_words(Duration::from_secs(s)))
            .collect();
        assert_eq!(
            words,
            [
                "less than a minute",
                "less than a minute",
                "1 min",
                "2 min",
                "1 h",
                "1 h 5 min",
                "26 h"
            ]
        );
    }

    #[test]
    fn a_rejection_blocks_until_its_backoff_passes_or_the_annotation_changes() {
        let t0 = Timestamp::from_second(1_700_000_000).expect("time");
        let mut common = CommonStatus::default();
        record_rejection(&mut common, "h", t0);
        common.failed_requested_at = Some("a".into());
        let at = |secs: i64| Timestamp::from_second(1_700_000_000 + secs).expect("time");
        assert!(rejection_blocks(&common, "h", &clock(at(599), Some("a"))));
        assert!(!rejection_blocks(&common, "h", &clock(at(600), Some("a"))));
        assert!(!rejection_blocks(&common, "other", &clock(at(1), Some("a"))));
        assert!(!rejection_blocks(&common, "h", &clock(at(1), Some("b"))));
        // A second rejection of the same request doubles the wait.
        record_rejection(&mut common, "h", t0);
        assert_eq!(common.failed_attempts, Some(2));
        assert!(rejection_blocks(&common, "h", &clock(at(1199), Some("a"))));
        assert!(!rejection_blocks(&common, "h", &clock(at(1200), Some("a"))));
        clear_rejection(&mut common);
        assert!(!rejection_blocks(&common, "h", &clock(at(1), None)));
    }

    #[test]
    fn rejection_backoff_doubles_from_one_resync_and_is_capped() {
        let r = Duration::from_secs(60);
        assert_eq!(rejection_backoff(r, 1), r);
        assert_eq!(rejection_backoff(r, 2), r * 2);
        assert_eq!(rejection_backoff(r, 4), r * 8);
        assert_eq!(rejection_backoff(r, 40), r * 8);
    }

    #[test]
    fn the_region_of_an_existing_service_comes_from_its_arn_then_status() {
        let mut status = CommonStatus::default();
        assert_eq!(pinned_region(None, None, &status, "us-east-1"), "us-east-1");
        assert_eq!(
            pinned_region(Some("eu-west-1"), None, &status, "us-east-1"),
            "eu-west-1"
        );
        status.region = Some("ap-south-1".into());
        assert_eq!(pinned_region(None, None, &status, "us-east-1"), "ap-south-1");
        status.service_arn = Some("arn:aws:ecs:eu-central-1:123456789012:service/default/web".into());
        assert_eq!(pinned_region(None, None, &status, "us-east-1"), "eu-central-1");
        let adopted = "arn:aws:apprunner:us-west-2:123456789012:service/web/abc";
        assert_eq!(
            pinned_region(Some("eu-west-1"), Some(adopted), &status, "us-east-1"),
            "us-west-2"
        );
        assert_eq!(region_of_arn("not-an-arn"), None);
    }
}
