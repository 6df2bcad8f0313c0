//! Read your writes: the last status runway wrote for each object, kept until the watch cache
//! shows it. Under watch lag a requeue would otherwise plan from a cached status older than
//! runway's own last write, and send a second update that stops the rollout the first one started
//! (docs/aws-behaviour.md E11).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::keyed::Keyed;

/// The statuses runway wrote that the watch cache has not shown yet, by object key, with the
/// resourceVersion each write produced.
#[derive(Default)]
pub struct Written(Keyed<(u64, Value)>);

impl Written {
    /// Remembers the status just written for `key`, which left the object at `resource_version`.
    /// A resourceVersion that is not a number (not etcd's revision) is not remembered.
    pub fn record<S: Serialize>(&self, key: &str, resource_version: Option<&str>, status: &S) {
        let version = resource_version.and_then(|v| v.parse::<u64>().ok());
        if let (Some(version), Ok(value)) = (version, serde_json::to_value(status)) {
            self.0.lock().insert(key.to_string(), (version, value));
        }
    }

    /// The status to plan from: the one runway last wrote while the cached object is older than
    /// that write (its resourceVersion is lower: the watch lags behind runway's own write); else
    /// the cached one, and the write is forgotten, since the cache has caught up.
    // NB: resourceVersions are opaque to clients, but etcd's are its revisions, which only grow;
    // one that does not parse as a number leaves the cached status in use.
    pub fn fresher<S: DeserializeOwned>(
        &self,
        key: &str,
        cached_version: Option<&str>,
        cached: Option<S>,
    ) -> Option<S> {
        let mut written = self.0.lock();
        let Some((version, last)) = written.get(key) else {
            return cached;
        };
        let cached_version = cached_version.and_then(|v| v.parse::<u64>().ok());
        if cached_version.is_some_and(|c| c < *version) {
            return serde_json::from_value(last.clone()).ok().or(cached);
        }
        written.remove(key);
        cached
    }
}

impl std::ops::Deref for Written {
    type Target = Keyed<(u64, Value)>;

    fn deref(&self) -> &Keyed<(u64, Value)> {
        &self.0
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
            written.fresher("ns/a", Some("10"), status("old")),
            status("old"),
            "nothing written"
        );

        written.record("ns/a", Some("12"), &Status { hash: "new".into() });
        // The watch still shows the object from before the write: plan from the write.
        assert_eq!(written.fresher("ns/a", Some("11"), status("old")), status("new"));
        assert_eq!(written.fresher("ns/a", Some("11"), None), status("new"));
        assert_eq!(written.len(), 1);
        // The cache caught up (the server may have normalized the status): its status is used and
        // the write is forgotten.
        assert_eq!(
            written.fresher("ns/a", Some("12"), status("normalized")),
            status("normalized")
        );
        assert!(written.is_empty());
        // A later version (a spec edit after the write) also counts as caught up.
        written.record("ns/a", Some("20"), &Status { hash: "x".into() });
        assert_eq!(written.fresher("ns/a", Some("25"), status("x")), status("x"));
        assert!(written.is_empty());
        // A version that is not a number is never compared.
        written.record("ns/b", Some("opaque"), &Status { hash: "y".into() });
        assert!(written.is_empty());
        written.record("ns/b", Some("30"), &Status { hash: "y".into() });
        assert_eq!(written.fresher("ns/b", Some("opaque"), status("z")), status("z"));
        written.forget("ns/b");
        assert!(written.is_empty());
    }
}
