//! Kubernetes Events for what runway does and what goes wrong: PascalCase reasons, notes truncated
//! to the 1 KiB that the Events API allows. Publishing is best effort: a failed Event never fails a
//! reconcile.
//!
//! [`Recorder`] creates one events.k8s.io/v1 Event per call and keeps nothing. kube-runtime's own
//! recorder caches every Event it published in the last six minutes (and all of them until its next
//! publish) to count repeats as a series; after a mass apply that cache held an Event of about 3 KB
//! per service for good. runway publishes an Event only when something happens (a create, an update,
//! a new stall), so repeats are rare and a series buys little.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, Client, Resource};

use crate::plan::conditions::truncate;

/// Publishes Events as runway (`reportingController: runway`).
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    /// `reportingInstance`: the pod name, else the controller name.
    instance: String,
}

/// The `reportingController` of every Event.
pub const CONTROLLER: &str = "runway";

impl Recorder {
    /// A recorder reporting as `instance` (the pod name), or as the controller when `None`.
    pub fn new(client: Client, instance: Option<String>) -> Self {
        Self {
            client,
            instance: instance.unwrap_or_else(|| CONTROLLER.to_string()),
        }
    }

    /// The Event about `regarding` (its namespace and name), as it is created.
    pub fn event(
        &self,
        regarding: ObjectReference,
        warning: bool,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Event {
        let now = Timestamp::now();
        Event {
            action: Some(action.to_string()),
            reason: Some(reason.to_string()),
            note: Some(truncate(note, 1024)),
            type_: Some(if warning { "Warning" } else { "Normal" }.to_string()),
            event_time: Some(MicroTime(now)),
            metadata: ObjectMeta {
                namespace: regarding.namespace.clone(),
                // NB: the name kube-runtime gives its Events: the object's name and the time.
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.as_deref().unwrap_or(CONTROLLER),
                    now.as_nanosecond()
                )),
                ..ObjectMeta::default()
            },
            regarding: Some(regarding),
            reporting_controller: Some(CONTROLLER.to_string()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        }
    }
}

/// What an Event says: its type, reason, action and note.
pub struct Note<'a> {
    /// A Warning rather than a Normal Event.
    pub warning: bool,
    /// PascalCase reason.
    pub reason: &'a str,
    /// What runway did or tried.
    pub action: &'a str,
    /// The human-readable note.
    pub text: String,
}

impl<'a> Note<'a> {
    /// A note; `warning` makes it a Warning Event.
    pub fn new(warning: bool, reason: &'a str, action: &'a str, text: String) -> Self {
        Self {
            warning,
            reason,
            action,
            text,
        }
    }
}

/// Publishes an Event about `obj`.
pub async fn publish<K>(recorder: &Recorder, obj: &K, note: Note<'_>)
where
    K: Resource<DynamicType = ()>,
{
    let Note {
        warning,
        reason,
        action,
        text: note,
    } = note;
    let event = recorder.event(obj.object_ref(&()), warning, reason, action, &note);
    let namespace = event
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let api: Api<Event> = Api::namespaced(recorder.client.clone(), &namespace);
    if let Err(err) = api.create(&PostParams::default(), &event).await {
        tracing::warn!(%err, reason, "could not publish event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that is never called: building an Event needs no API server.
    fn offline_client() -> Client {
        Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().expect("url"))).expect("client")
    }

    #[tokio::test]
    async fn an_event_names_its_object_reporter_and_truncates_its_note() {
        let recorder = Recorder::new(offline_client(), Some("runway-7d9f".into()));
        let regarding = ObjectReference {
            api_version: Some("runway.dev/v1alpha1".into()),
            kind: Some("ExpressService".into()),
            name: Some("web".into()),
            namespace: Some("apps".into()),
            uid: Some("u-1".into()),
            ..ObjectReference::default()
        };
        let event = recorder.event(
            regarding.clone(),
            true,
            "AwsRejectedSpec",
            "Reconcile",
            &"x".repeat(5000),
        );
        assert_eq!(event.type_.as_deref(), Some("Warning"));
        assert_eq!(event.reason.as_deref(), Some("AwsRejectedSpec"));
        assert_eq!(event.action.as_deref(), Some("Reconcile"));
        assert_eq!(event.reporting_controller.as_deref(), Some("runway"));
        assert_eq!(event.reporting_instance.as_deref(), Some("runway-7d9f"));
        assert_eq!(event.regarding, Some(regarding));
        assert_eq!(event.metadata.namespace.as_deref(), Some("apps"));
        assert!(
            event
                .metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("web."))
        );
        assert!(event.note.as_deref().is_some_and(|n| n.len() <= 1024));
        assert!(event.event_time.is_some());
        let normal = Recorder::new(offline_client(), None).event(
            ObjectReference::default(),
            false,
            "Created",
            "Create",
            "ok",
        );
        assert_eq!(normal.type_.as_deref(), Some("Normal"));
        assert_eq!(normal.reporting_instance.as_deref(), Some("runway"));
    }
}
