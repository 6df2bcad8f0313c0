//! Per-object bookkeeping in one place: the failure counts for backoff, the trigger hashes
//! ([`Seen`]), the statuses written ahead of the cache ([`Written`]), the failures logged lately
//! ([`Quiet`]) and the states counted as `runway_resources` ([`States`]), each keyed by
//! `controller::object_key`.
//!
//! An object leaves all of them at once, through [`Bookkeeping::forget`], when the controller
//! learns that it is gone. Which result or watch event means "gone" is decided apart, by the pure
//! [`gone_after_reconcile`] and [`WatchSweep`]; the runner does the forgetting.

use std::collections::{BTreeSet, HashSet};

use kube::Resource;
use kube::ResourceExt;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;

use super::first_sight::Seen;
use super::keyed::Keyed;
use super::quiet::Quiet;
use super::states::States;
use super::written::Written;
use crate::Error;
use crate::metrics::Metrics;

/// Every per-object map the controller keeps.
pub struct Bookkeeping {
    /// Consecutive failures per object, for backoff.
    failures: Keyed<u32>,
    /// The trigger hash of each object at its last successful reconcile.
    pub seen: Seen,
    /// The last status written per object, until the watch cache shows it.
    pub written: Written,
    /// Which failures were logged lately, per object.
    pub quiet: Quiet,
    /// The state each live object's latest reconcile left it in (`runway_resources`).
    pub states: States,
}

impl Bookkeeping {
    /// Empty maps; the states publish to `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            failures: Keyed::default(),
            seen: Seen::default(),
            written: Written::default(),
            quiet: Quiet::default(),
            states: States::new(metrics),
        }
    }

    /// Forgets the failure count of an object after a successful reconcile.
    pub fn succeeded(&self, key: &str) {
        self.failures.forget(key);
    }

    /// Counts a failure and returns how many happened in a row.
    pub fn failed(&self, key: &str) -> u32 {
        let mut failures = self.failures.lock();
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    /// Drops every entry of an object that is gone: deleted, vanished from the watch, or moved to
    /// another shard. Forgetting an object that was never seen changes nothing.
    pub fn forget(&self, key: &str) {
        self.failures.forget(key);
        self.seen.forget(key);
        self.written.forget(key);
        self.quiet.forget(key);
        self.states.forget(key);
    }

    /// Every object any map holds.
    pub fn keys(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = self.failures.keys().into_iter().collect();
        keys.extend(self.seen.keys());
        keys.extend(self.written.keys());
        keys.extend(self.quiet.keys());
        keys.extend(self.states.keys());
        keys
    }

    /// How many objects each map holds, by the map's name.
    pub fn sizes(&self) -> [(&'static str, usize); 5] {
        [
            ("failures", self.failures.len()),
            ("seen", self.seen.len()),
            ("written", self.written.len()),
            ("quiet", self.quiet.len()),
            ("states", self.states.len()),
        ]
    }
}

/// The key of the object that a reconcile result of kind `kind` says is gone: a scheduled
/// reconcile that found the object no longer in the store (`ObjectNotFound`), because it was
/// deleted, vanished while the watch was down, or left the shard's label selector.
pub fn gone_after_reconcile<K, E>(
    kind: &str,
    res: &std::result::Result<(ObjectRef<K>, Action), controller::Error<Error, E>>,
) -> Option<String>
where
    K: Resource,
    E: std::error::Error,
{
    match res {
        Err(controller::Error::ObjectNotFound(obj)) => {
            Some(key(kind, obj.namespace.as_deref().unwrap_or_default(), &obj.name))
        }
        _ => None,
    }
}

/// The key of the object that a watch event says is gone: a deletion the watch saw, which is also
/// what the API server sends when an object's labels stop matching the shard's selector.
fn gone_from_watch<K: Resource<DynamicType = ()>>(event: &watcher::Event<K>) -> Option<String> {
    match event {
        watcher::Event::Delete(obj) => Some(object_key(obj)),
        _ => None,
    }
}

/// Follows one kind's watch events and says which objects they show gone: the one a Delete event
/// names, and, at the end of each (re-)list, every object of the kind that the list no longer
/// shows. A watch that was down (an apiserver restart, an expired resourceVersion) lists again and
/// sends no Delete event for an object deleted or moved out of the shard meanwhile; one whose
/// reconciles had stopped (paused, or settled between resyncs of another replica) would otherwise
/// stay in the maps for good.
pub struct WatchSweep {
    prefix: String,
    /// The keys of the list in progress, between its `Init` and `InitDone` events.
    listed: Option<HashSet<String>>,
}

impl WatchSweep {
    /// A sweep for the objects of `kind`.
    pub fn new(kind: &str) -> Self {
        Self {
            // NB: every key of the kind starts so (see `key`).
            prefix: format!("{kind}/"),
            listed: None,
        }
    }

    /// The objects `event` shows gone, of those in `known` (the keys the maps hold, asked for only
    /// at the end of a list).
    pub fn gone<K: Resource<DynamicType = ()>>(
        &mut self,
        event: &watcher::Event<K>,
        known: impl FnOnce() -> BTreeSet<String>,
    ) -> Vec<String> {
        match event {
            watcher::Event::Delete(_) => gone_from_watch(event).into_iter().collect(),
            watcher::Event::Init => {
                self.listed = Some(HashSet::new());
                Vec::new()
            }
            watcher::Event::InitApply(obj) => {
                if let Some(listed) = &mut self.listed {
                    listed.insert(object_key(obj));
                }
                Vec::new()
            }
            watcher::Event::InitDone => match self.listed.take() {
                Some(listed) => known()
                    .into_iter()
                    .filter(|k| k.starts_with(&self.prefix) && !listed.contains(k))
                    .collect(),
                None => Vec::new(),
            },
            watcher::Event::Apply(_) => Vec::new(),
        }
    }
}

/// The key of an object for per-object bookkeeping.
pub fn object_key<K: Resource<DynamicType = ()>>(obj: &K) -> String {
    key(
        &K::kind(&()),
        &obj.namespace().unwrap_or_default(),
        &obj.name_any(),
    )
}

/// The bookkeeping key of the object `name` of `kind` in `namespace` (see [`object_key`]).
pub fn key(kind: &str, namespace: &str, name: &str) -> String {
    // NB: the kind is part of the key: an ExpressService and an AppRunnerService may share a
    // namespace and a name, and their bookkeeping (written statuses above all) must not mix.
    format!("{kind}/{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use kube::runtime::reflector::ObjectRef;

    use super::*;
    use crate::api::express::ExpressService;
    use crate::controller::runtime::states::State;

    type Res =
        std::result::Result<(ObjectRef<ExpressService>, Action), controller::Error<Error, std::io::Error>>;

    fn web() -> ExpressService {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"primaryContainer": {"image": "nginx", "containerPort": 80}}
        }))
        .expect("ExpressService")
    }

    /// What a reconcile that failed and wrote its conditions leaves behind, for `key`.
    fn reconciled_and_failed(books: &Bookkeeping, key: &str) {
        books.failed(key);
        books.quiet.should_log(key, "denied", Instant::now());
        books.seen.record(key, Some(7));
        books
            .written
            .record(key, Some("12"), &serde_json::json!({"phase": "x"}));
        books.states.record(key, "ExpressService", State::Stalled);
    }

    fn empty(books: &Bookkeeping) -> bool {
        books.sizes().iter().all(|(_, n)| *n == 0)
    }

    #[test]
    fn an_object_that_disappears_after_a_reconcile_leaves_every_map() {
        let books = Bookkeeping::new(Metrics::new());
        let obj = web();
        let key = object_key(&obj);
        reconciled_and_failed(&books, &key);
        assert!(books.sizes().iter().all(|(_, n)| *n == 1), "{:?}", books.sizes());

        // Its next scheduled reconcile finds it gone from the store.
        let gone: Res = Err(controller::Error::ObjectNotFound(Box::new(
            ObjectRef::from_obj(&obj).erase(),
        )));
        let forgotten = gone_after_reconcile("ExpressService", &gone);
        assert_eq!(forgotten.as_deref(), Some(key.as_str()));
        if let Some(key) = forgotten {
            books.forget(&key);
        }
        assert!(empty(&books), "{:?}", books.sizes());
    }

    #[test]
    fn an_object_deleted_or_moved_out_of_the_shard_is_forgotten_from_the_watch_event() {
        let books = Bookkeeping::new(Metrics::new());
        let obj = web();
        reconciled_and_failed(&books, &object_key(&obj));
        for event in [
            watcher::Event::Apply(obj.clone()),
            watcher::Event::InitApply(obj.clone()),
            watcher::Event::Init,
            watcher::Event::InitDone,
        ] {
            assert_eq!(gone_from_watch(&event), None);
        }
        let deleted = watcher::Event::Delete(obj);
        let mut sweep = WatchSweep::new("ExpressService");
        for key in sweep.gone(&deleted, || books.keys()) {
            books.forget(&key);
        }
        assert!(empty(&books), "{:?}", books.sizes());
    }

    #[test]
    fn an_object_gone_while_the_watch_was_down_is_forgotten_when_the_re_list_ends() {
        let books = Bookkeeping::new(Metrics::new());
        let web = web();
        let mut api = web.clone();
        api.metadata.name = Some("api".into());
        for key in [
            object_key(&web),
            object_key(&api),
            "AppRunnerService/apps/web".into(),
        ] {
            reconciled_and_failed(&books, &key);
        }

        // The watch lists again after an outage: web was deleted (or left the shard) meanwhile, and
        // no Delete event will ever name it. The other kind's objects are its own watch's business.
        let mut sweep = WatchSweep::new("ExpressService");
        let mut forgotten = Vec::new();
        for event in [
            watcher::Event::Init,
            watcher::Event::InitApply(api.clone()),
            watcher::Event::InitDone,
        ] {
            forgotten.extend(sweep.gone(&event, || books.keys()));
        }
        assert_eq!(forgotten, vec![object_key(&web)]);
        for key in forgotten {
            books.forget(&key);
        }
        assert!(books.sizes().iter().all(|(_, n)| *n == 2), "{:?}", books.sizes());
        assert!(!books.keys().contains(&object_key(&web)));

        // A list that broke off and began again counts only what the new one shows, and an end
        // without a beginning forgets nothing.
        let mut sweep = WatchSweep::new("ExpressService");
        let never = || -> BTreeSet<String> { panic!("asked for the known keys outside a list") };
        let done = watcher::Event::<ExpressService>::InitDone;
        assert!(sweep.gone(&done, never).is_empty());
        for event in [
            watcher::Event::Init,
            watcher::Event::InitApply(web.clone()),
            watcher::Event::Init,
            watcher::Event::InitApply(api.clone()),
            watcher::Event::Apply(web.clone()),
        ] {
            assert!(sweep.gone(&event, never).is_empty());
        }
        let mut restarted = books.keys();
        restarted.insert(object_key(&web));
        assert_eq!(sweep.gone(&done, || restarted), vec![object_key(&web)]);
    }

    #[test]
    fn only_an_object_not_found_is_gone_and_forgetting_leaves_other_objects() {
        let books = Bookkeeping::new(Metrics::new());
        reconciled_and_failed(&books, "ExpressService/apps/web");
        reconciled_and_failed(&books, "AppRunnerService/apps/web");
        let web = ObjectRef::<ExpressService>::new("web").within("apps");
        let requeued: Res = Ok((web.clone(), Action::await_change()));
        let failed: Res = Err(controller::Error::ReconcilerFailed(
            Error::InvalidSpec("bad".into()),
            Box::new(web.erase()),
        ));
        assert_eq!(gone_after_reconcile("ExpressService", &requeued), None);
        assert_eq!(gone_after_reconcile("ExpressService", &failed), None);

        books.forget("ExpressService/apps/web");
        books.forget("ExpressService/never/seen");
        assert!(books.sizes().iter().all(|(_, n)| *n == 1), "{:?}", books.sizes());
        assert_eq!(
            books.failed("AppRunnerService/apps/web"),
            2,
            "the other kind keeps its count"
        );
    }
}
