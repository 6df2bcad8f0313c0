//! Kubernetes Events for what runway does and what goes wrong: one shared [`Recorder`], PascalCase
//! reasons, notes truncated to the 1 KiB that the Events API allows. Publishing is best effort: a
//! failed Event never fails a reconcile.

use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder};

use crate::plan::conditions::truncate;

/// Publishes an Event about `obj`.
pub async fn publish<K>(recorder: &Recorder, obj: &K, warning: bool, reason: &str, action: &str, note: String)
where
    K: Resource<DynamicType = ()>,
{
    let event = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.to_string(),
        note: Some(truncate(&note, 1024)),
        action: action.to_string(),
        secondary: None,
    };
    if let Err(err) = recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(%err, reason, "could not publish event");
    }
}
