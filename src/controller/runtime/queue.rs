//! Queue depth: which objects of one kind have a reconcile scheduled, published as
//! `runway_queue_depth`.

use std::sync::Arc;

use kube::Resource;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::ObjectRef;

use crate::Error;
use crate::metrics::Metrics;

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

    /// Logs one reconcile result and updates the scheduled set.
    pub fn observe<K: Resource, E: std::fmt::Display + std::error::Error + 'static>(
        &self,
        res: std::result::Result<(ObjectRef<K>, Action), controller::Error<Error, E>>,
    ) {
        let (key, scheduled) = match &res {
            Ok((obj, action)) => {
                tracing::debug!(kind = self.kind, object = %obj.name, "reconciled");
                (Some(obj.to_string()), *action != Action::await_change())
            }
            Err(controller::Error::ReconcilerFailed(err, obj)) => {
                tracing::debug!(kind = self.kind, object = %obj.name, %err, "reconcile error");
                (Some(obj.to_string()), err.is_retryable())
            }
            Err(err) => {
                tracing::warn!(kind = self.kind, %err, "controller error");
                (None, false)
            }
        };
        let Some(key) = key else { return };
        let mut set = self.scheduled.lock().unwrap_or_else(|e| e.into_inner());
        if scheduled {
            set.insert(key);
        } else {
            set.remove(&key);
        }
        self.metrics.set_queue_depth(self.kind, set.len() as i64);
    }
}
