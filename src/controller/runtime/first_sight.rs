//! First sight after a start: a resource that was settled before this process started gets its
//! first drift check at a random point of the resync interval, and the trigger hash of each
//! object's last successful reconcile tells a change from background work.

use std::time::Duration;

use kube::{Resource, ResourceExt};

use super::keyed::Keyed;
use crate::api::common::{FINALIZER, RECONCILE_REQUESTED_ANNOTATION};
use crate::controller::managed::{Managed, ManagedStatus};

/// Whether a resource was settled when runway last wrote it: Ready for its current generation,
/// its finalizer in place, its reconcile-requested-at annotation handled, and not being deleted.
/// Nothing about it waits for runway, so its first check after a start can wait for its turn.
pub fn settled<K>(obj: &K) -> bool
where
    K: Resource + Managed,
{
    let Some(status) = obj.managed_status() else {
        return false;
    };
    let common = status.common();
    let generation = obj.meta().generation;
    let ready = common
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True" && c.observed_generation == generation);
    ready
        && common.observed_generation == generation
        && obj.meta().deletion_timestamp.is_none()
        && obj.finalizers().iter().any(|f| f == FINALIZER)
        && common.reconcile_requested_at.as_ref() == obj.annotations().get(RECONCILE_REQUESTED_ANNOTATION)
}

/// The first drift check of a settled resource after a start: at a uniformly random point of the
/// resync interval, so that thousands of resources are not described in the same second after a
/// restart.
pub fn spread_resync(resync: Duration) -> Duration {
    resync
        .mul_f64(rand::random::<f64>())
        .max(Duration::from_millis(1))
}

/// The trigger hash of each object at its last successful reconcile: an object whose hash differs
/// carries a change.
#[derive(Default)]
pub struct Seen(Keyed<u64>);

impl Seen {
    /// The trigger hash recorded at the object's last successful reconcile.
    pub fn hash(&self, key: &str) -> Option<u64> {
        self.0.lock().get(key).copied()
    }

    /// Records the trigger hash of a successful reconcile, or forgets the object (`None`) once it
    /// is gone.
    pub fn record(&self, key: &str, hash: Option<u64>) {
        match hash {
            Some(h) => {
                self.0.lock().insert(key.to_string(), h);
            }
            None => self.0.forget(key),
        }
    }
}

impl std::ops::Deref for Seen {
    type Target = Keyed<u64>;

    fn deref(&self) -> &Keyed<u64> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::express::ExpressService;

    fn settled_object(patch: serde_json::Value) -> ExpressService {
        let mut obj = serde_json::json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {"name": "web", "namespace": "apps", "generation": 2,
                         "finalizers": [FINALIZER],
                         "annotations": {RECONCILE_REQUESTED_ANNOTATION: "1"}},
            "spec": {"primaryContainer": {"image": "nginx", "containerPort": 80}},
            "status": {"observedGeneration": 2, "reconcileRequestedAt": "1",
                       "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 2,
                                       "reason": "Ready", "message": "ok",
                                       "lastTransitionTime": "2026-12-01T00:00:00Z"}]}
        });
        json_patch(&mut obj, &patch);
        serde_json::from_value(obj).expect("ExpressService")
    }

    fn json_patch(base: &mut serde_json::Value, patch: &serde_json::Value) {
        match (base, patch) {
            (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
                for (k, v) in p {
                    if v.is_null() {
                        b.remove(k);
                    } else {
                        json_patch(b.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                    }
                }
            }
            (b, p) => *b = p.clone(),
        }
    }

    #[test]
    fn only_a_resource_with_nothing_pending_counts_as_settled() {
        assert!(settled(&settled_object(serde_json::json!({}))));
        for (what, patch) in [
            (
                "a new generation",
                serde_json::json!({"metadata": {"generation": 3}}),
            ),
            ("no status", serde_json::json!({"status": null})),
            (
                "not Ready",
                serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "False",
                    "observedGeneration": 2, "reason": "Updating", "message": "",
                    "lastTransitionTime": "2026-12-01T00:00:00Z"}]}}),
            ),
            (
                "Ready for an older generation",
                serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "True",
                    "observedGeneration": 1, "reason": "Ready", "message": "",
                    "lastTransitionTime": "2026-12-01T00:00:00Z"}]}}),
            ),
            (
                "no finalizer yet",
                serde_json::json!({"metadata": {"finalizers": null}}),
            ),
            (
                "a new reconcile-requested-at",
                serde_json::json!({"metadata": {"annotations": {RECONCILE_REQUESTED_ANNOTATION: "2"}}}),
            ),
            (
                "being deleted",
                serde_json::json!({"metadata": {"deletionTimestamp": "2026-12-01T00:00:00Z"}}),
            ),
        ] {
            assert!(!settled(&settled_object(patch)), "{what} counted as settled");
        }
    }
}
