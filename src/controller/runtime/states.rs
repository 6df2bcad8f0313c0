//! Resources by state: the state each live object's latest reconcile left it in, counted per kind
//! and published as `runway_resources{kind, state}`.
//!
//! A reconcile's phase is recorded where it is final (`lifecycle::finish`, `lifecycle::report_failure`);
//! a settled resource seen first after a start counts as ready until its first check. An object is
//! forgotten when its deletion finishes, when it is paused, and when it has left the watch (deleted
//! without runway, or moved to another shard), so that each live object counts once. Only the
//! leader reconciles, so only the leader counts.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::metrics::Metrics;
use crate::plan::Phase;

/// The state a reconcile left a resource in, as `runway_resources` counts it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum State {
    /// Ready=True: AWS runs the spec.
    Ready,
    /// Reconciling=True: a create, rollout or operation is in flight, an update waits for one, or
    /// a call is retried after a failure that retrying soon can fix.
    Progressing,
    /// Stalled=True: it needs a change (of the spec, a policy, an account) to go on.
    Stalled,
}

impl State {
    /// Every state, in the order they are published.
    pub const ALL: [State; 3] = [State::Ready, State::Progressing, State::Stalled];

    /// The state of a reconcile's phase.
    pub fn of(phase: &Phase) -> Self {
        match phase {
            Phase::Ready { .. } => State::Ready,
            Phase::Progressing { .. } => State::Progressing,
            Phase::Stalled { .. } => State::Stalled,
        }
    }

    /// The `state` label.
    pub fn label(self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Progressing => "progressing",
            State::Stalled => "stalled",
        }
    }
}

/// The pure bookkeeping: each object's kind and state, and the count of each kind and state.
#[derive(Debug, Default)]
pub struct Tally {
    by_key: HashMap<String, (String, State)>,
    counts: HashMap<(String, State), i64>,
}

/// A count that changed: kind, state and the new count.
pub type Changed = (String, State, i64);

impl Tally {
    /// Records that `key` (of `kind`) is in `state`; returns the counts that changed (none when it
    /// already was).
    pub fn set(&mut self, key: &str, kind: &str, state: State) -> Vec<Changed> {
        let now = (kind.to_string(), state);
        let mut changed = Vec::new();
        match self.by_key.insert(key.to_string(), now.clone()) {
            Some(before) if before == now => return changed,
            Some(before) => changed.push(self.add(before, -1)),
            None => {}
        }
        changed.push(self.add(now, 1));
        changed
    }

    /// Forgets `key`; returns the count that changed, if it was known.
    pub fn forget(&mut self, key: &str) -> Option<Changed> {
        let before = self.by_key.remove(key)?;
        Some(self.add(before, -1))
    }

    /// The objects counted, of every kind.
    pub fn keys(&self) -> Vec<String> {
        self.by_key.keys().cloned().collect()
    }

    /// How many objects are counted, of every kind.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no object is counted.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// How many objects of `kind` are in `state`.
    pub fn count(&self, kind: &str, state: State) -> i64 {
        self.counts
            .get(&(kind.to_string(), state))
            .copied()
            .unwrap_or_default()
    }

    fn add(&mut self, (kind, state): (String, State), delta: i64) -> Changed {
        let n = self.counts.entry((kind.clone(), state)).or_default();
        *n += delta;
        (kind, state, *n)
    }
}

/// The tally of live objects, published to `runway_resources` on every change.
pub struct States {
    tally: Mutex<Tally>,
    metrics: Metrics,
}

impl States {
    /// An empty tally that publishes to `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Self {
            tally: Mutex::default(),
            metrics,
        }
    }

    /// Publishes zero of each state for `kind`, so that the leader exports every series from its
    /// start.
    pub fn start(&self, kind: &str) {
        let tally = self.lock();
        for state in State::ALL {
            self.metrics
                .set_resources(kind, state.label(), tally.count(kind, state));
        }
    }

    /// Records the state a reconcile of `key` (of `kind`) left it in.
    pub fn record(&self, key: &str, kind: &str, state: State) {
        let changed = self.lock().set(key, kind, state);
        self.publish(changed);
    }

    /// Forgets `key`: deleted, paused or no longer watched.
    pub fn forget(&self, key: &str) {
        let changed = self.lock().forget(key);
        self.publish(changed);
    }

    /// The objects counted, of every kind.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys()
    }

    /// How many objects are counted, of every kind.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no object is counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        // NB: every update leaves the tally consistent, so a poisoned lock is fine.
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, changed: impl IntoIterator<Item = Changed>) {
        for (kind, state, count) in changed {
            self.metrics.set_resources(&kind, state.label(), count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "ExpressService";
    const A: &str = "AppRunnerService";

    fn counts(tally: &Tally, kind: &str) -> [i64; 3] {
        State::ALL.map(|s| tally.count(kind, s))
    }

    #[test]
    fn each_object_counts_once_in_its_latest_state() {
        let mut tally = Tally::default();
        tally.set("ExpressService/a/web", X, State::Progressing);
        tally.set("ExpressService/a/api", X, State::Progressing);
        tally.set("AppRunnerService/a/web", A, State::Stalled);
        assert_eq!(counts(&tally, X), [0, 2, 0]);
        assert_eq!(counts(&tally, A), [0, 0, 1]);

        let changed = tally.set("ExpressService/a/web", X, State::Ready);
        assert_eq!(
            changed,
            [
                (X.to_string(), State::Progressing, 1),
                (X.to_string(), State::Ready, 1)
            ]
        );
        assert_eq!(counts(&tally, X), [1, 1, 0]);
        // A resync that finds it Ready again changes nothing.
        assert!(tally.set("ExpressService/a/web", X, State::Ready).is_empty());
        assert_eq!(counts(&tally, X), [1, 1, 0]);

        tally.set("ExpressService/a/api", X, State::Stalled);
        tally.set("ExpressService/a/api", X, State::Progressing);
        tally.set("ExpressService/a/api", X, State::Stalled);
        assert_eq!(counts(&tally, X), [1, 0, 1]);
        assert_eq!(counts(&tally, A), [0, 0, 1], "the other kind is untouched");
    }

    #[test]
    fn a_forgotten_object_leaves_its_count_and_forgetting_twice_changes_nothing() {
        let mut tally = Tally::default();
        tally.set("ExpressService/a/web", X, State::Ready);
        tally.set("ExpressService/b/web", X, State::Ready);
        assert_eq!(
            tally.forget("ExpressService/a/web"),
            Some((X.to_string(), State::Ready, 1))
        );
        assert_eq!(tally.forget("ExpressService/a/web"), None);
        assert_eq!(tally.forget("ExpressService/never/seen"), None);
        assert_eq!(counts(&tally, X), [1, 0, 0]);
        // Seen again (unpaused, or back on this shard), it counts again.
        tally.set("ExpressService/a/web", X, State::Stalled);
        assert_eq!(counts(&tally, X), [1, 0, 1]);
    }

    #[test]
    fn states_publish_every_change_and_zeros_from_the_start() {
        let metrics = Metrics::new();
        let states = States::new(metrics.clone());
        states.start(X);
        let text = metrics.render();
        for state in ["ready", "progressing", "stalled"] {
            let zero = format!("runway_resources{{kind=\"{X}\",state=\"{state}\"}} 0");
            assert!(text.contains(&zero), "{text}");
        }
        states.record("ExpressService/a/web", X, State::Stalled);
        states.record("ExpressService/a/api", X, State::Stalled);
        states.record("ExpressService/a/web", X, State::Ready);
        let text = metrics.render();
        assert!(
            text.contains(r#"runway_resources{kind="ExpressService",state="stalled"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"runway_resources{kind="ExpressService",state="ready"} 1"#),
            "{text}"
        );
        states.forget("ExpressService/a/web");
        let text = metrics.render();
        assert!(
            text.contains(r#"runway_resources{kind="ExpressService",state="ready"} 0"#),
            "{text}"
        );
    }
}
