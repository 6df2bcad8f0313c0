//! Read your writes: the last status runway wrote for each object, kept until the watch cache
//! shows it. Under watch lag a requeue would otherwise plan from a cached status older than
//! runway's own last write, and send a second update that stops the rollout the first one started
//! (docs/aws-behaviour.md E11).

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The statuses runway wrote that the watch cache has not shown yet, by object key.
#[derive(Default)]
pub struct Written(Mutex<HashMap<String, Value>>);

impl Written {
    /// Remembers the status just written for `key`.
    pub fn record<S: Serialize>(&self, key: &str, status: &S) {
        if let Ok(value) = serde_json::to_value(status) {
            self.lock().insert(key.to_string(), value);
        }
    }

    /// The status to plan from: the one runway last wrote, while the cached object does not carry
    /// it yet (the watch lags behind runway's own write); else the cached one, and the write is
    /// forgotten, since the cache has caught up. Only runway writes this status, so a cached status
    /// that differs from the last write is an older one.
    pub fn fresher<S: Serialize + DeserializeOwned>(&self, key: &str, cached: Option<S>) -> Option<S> {
        let mut written = self.lock();
        let Some(last) = written.get(key) else {
            return cached;
        };
        if cached
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok())
            .as_ref()
            == Some(last)
        {
            written.remove(key);
            return cached;
        }
        serde_json::from_value(last.clone()).ok().or(cached)
    }

    /// Forgets an object that is gone.
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// How many writes the cache has not shown yet.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache has shown every write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Value>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    struct Status {
        hash: String,
    }

    fn status(hash: &str) -> Option<Status> {
        Some(Status { hash: hash.into() })
    }

    #[test]
    fn a_lagging_cache_is_planned_from_runways_last_write_until_it_catches_up() {
        let written = Written::default();
        assert_eq!(
            written.fresher("ns/a", status("old")),
            status("old"),
            "nothing written"
        );

        written.record("ns/a", &Status { hash: "new".into() });
        // The watch still shows the status from before the write: plan from the write.
        assert_eq!(written.fresher("ns/a", status("old")), status("new"));
        assert_eq!(written.fresher("ns/a", None), status("new"));
        assert_eq!(written.len(), 1);
        // The cache caught up: its status is used and the write is forgotten.
        assert_eq!(written.fresher("ns/a", status("new")), status("new"));
        assert!(written.is_empty());
        // Other objects are untouched.
        written.record("ns/b", &Status { hash: "x".into() });
        assert_eq!(written.fresher("ns/a", status("y")), status("y"));
        written.forget("ns/b");
        assert!(written.is_empty());
    }
}
