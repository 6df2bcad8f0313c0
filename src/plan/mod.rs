//! Pure decisions. Given a resource's spec, its last status and what AWS reports, the functions here
//! say what to do next: create, update, redeploy, pause or resume, wait, delete, or nothing. They make
//! no calls; `controller` acts on their answers. `conditions` turns an outcome into kstatus
//! conditions, the same way for both kinds.

pub mod apprunner;
pub mod conditions;
pub mod express;

use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::common::{CommonStatus, condition_types::STALLED};

/// The tag runway puts on every service it creates: `<namespace>/<name>` of the owning resource.
pub const OWNER_TAG: &str = "runway.dev/owner";

/// The owner tag value for a resource.
pub fn owner(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// The Stalled phase for a spec that AWS already rejected (its digest is `status.lastFailedHash`):
/// the message of the Stalled condition that reported the rejection, kept until the spec changes.
pub fn rejected_again(common: &CommonStatus) -> (&'static str, String) {
    let message = common
        .conditions
        .iter()
        .find(|c| c.type_ == STALLED && c.status == "True")
        .map(|c| c.message.clone())
        .unwrap_or_else(|| "AWS rejected this spec; change it to try again".into());
    ("AwsRejectedSpec", message)
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
}
