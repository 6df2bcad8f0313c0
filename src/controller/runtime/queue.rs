//! Queue depth: which objects of one kind have a reconcile scheduled, published as
//! `runway_queue_depth`.
//!
//! Flow: each reconcile result → [`queued`] (pure: is its object scheduled again, and under which
//! key) → [`QueueDepth::observe`] updates the scheduled set and the gauge.

use std::sync::Arc;

use kube::Resource;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::ObjectRef;

use crate::Error;
use crate::metrics::Metrics;

/// Whether a reconcile result leaves its object scheduled, by the object's `namespace/name`:
/// a success that asks for a requeue and every failure are scheduled (`error_policy` requeues
/// every failure, terminal ones too, see [`crate::controller::failure_requeue`]); a success that waits
/// for a change is not, nor an object the store no longer holds (`ObjectNotFound`: its scheduled
/// reconcile just fired and found it gone). `None` when the result names no object.
// NB: keyed by namespace and name only: a failure names its object as an erased `ObjectRef`, a
// success as a typed one, and each `QueueDepth` holds one kind.
pub fn queued<K: Resource, E: std::error::Error>(
    res: &std::result::Result<(ObjectRef<K>, Action), controller::Error<Error, E>>,
) -> Option<(String, bool)> {
    let key = |namespace: &Option<String>, name: &str| {
        format!("{}/{name}", namespace.as_deref().unwrap_or_default())
    };
    match res {
        Ok((obj, action)) => Some((key(&obj.namespace, &obj.name), *action != Action::await_change())),
        Err(controller::Error::ReconcilerFailed(_, obj)) => Some((key(&obj.namespace, &obj.name), true)),
        Err(controller::Error::ObjectNotFound(obj)) => Some((key(&obj.namespace, &obj.name), false)),
        Err(_) => None,
    }
}

/// Tracks which objects of one kind have a reconcile scheduled (a requeue after progress, a resync
/// or a retry) and publishes the count as `runway_queue_depth`.
#[derive(Clone)]
pub struct QueueDepth {
    kind: &'static str,
    metrics: Metrics,
    scheduled: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl QueueDepth {
    /// Starts at zero for `kind`.
    pub fn new(kind: &'static str, metrics: Metrics) -> Self {
        metrics.set_queue_depth(kind, 0);
        Self {
            kind,
            metrics,
            scheduled: Arc::default(),
        }
    }

    /// Logs one reconcile result and updates the scheduled set (see [`queued`]).
    pub fn observe<K: Resource, E: std::fmt::Display + std::error::Error + 'static>(
        &self,
        res: std::result::Result<(ObjectRef<K>, Action), controller::Error<Error, E>>,
    ) {
        match &res {
            Ok((obj, _)) => tracing::debug!(kind = self.kind, object = %obj.name, "reconciled"),
            Err(controller::Error::ReconcilerFailed(err, obj)) => {
                tracing::debug!(kind = self.kind, object = %obj.name, %err, "reconcile error")
            }
            Err(controller::Error::ObjectNotFound(obj)) => {
                tracing::debug!(kind = self.kind, object = %obj.name, "gone from the watch")
            }
            Err(err) => tracing::warn!(kind = self.kind, %err, "controller error"),
        }
        let Some((key, scheduled)) = queued(&res) else {
            return;
        };
        let mut set = self.scheduled.lock().unwrap_or_else(|e| e.into_inner());
        if scheduled {
            set.insert(key);
        } else {
            set.remove(&key);
        }
        self.metrics.set_queue_depth(self.kind, set.len() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::express::ExpressService;
    use kube::runtime::reflector::ObjectRef;
    use std::time::Duration;

    type Res =
        std::result::Result<(ObjectRef<ExpressService>, Action), controller::Error<Error, std::io::Error>>;

    fn depth(metrics: &Metrics) -> String {
        let text = metrics.render();
        text.lines()
            .find(|l| l.starts_with(r#"runway_queue_depth{kind="ExpressService"}"#))
            .unwrap_or_default()
            .to_string()
    }

    fn web(name: &str) -> ObjectRef<ExpressService> {
        ObjectRef::new(name).within("apps")
    }

    #[test]
    fn a_terminal_error_counts_as_queued_and_an_object_not_found_leaves_the_queue() {
        let metrics = Metrics::new();
        let queue = QueueDepth::new("ExpressService", metrics.clone());
        let ok: Res = Ok((web("a"), Action::requeue(Duration::from_secs(60))));
        queue.observe(ok);
        // NB: `error_policy` requeues every failure, terminal ones included (`failure_requeue`).
        let terminal: Res = Err(controller::Error::ReconcilerFailed(
            Error::InvalidSpec("bad".into()),
            Box::new(web("b").erase()),
        ));
        queue.observe(terminal);
        assert!(depth(&metrics).ends_with(" 2"), "{}", depth(&metrics));

        let gone: Res = Err(controller::Error::ObjectNotFound(Box::new(web("a").erase())));
        queue.observe(gone);
        assert!(depth(&metrics).ends_with(" 1"), "{}", depth(&metrics));
        let settled: Res = Ok((web("b"), Action::await_change()));
        queue.observe(settled);
        assert!(depth(&metrics).ends_with(" 0"), "{}", depth(&metrics));
    }
}
