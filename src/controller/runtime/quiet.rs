//! Quiet logs: the same failure of the same object is logged once, then again only when it
//! changes or every [`REPEAT_AFTER`], so that an operator tailing the pod sees each trouble without
//! a flood from the retries.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use super::keyed::Keyed;

/// How long the same failure of one object stays quiet after it was logged.
pub const REPEAT_AFTER: Duration = Duration::from_secs(600);

/// What was last logged per object key, and when. An object whose reconcile succeeded is
/// forgotten, so that its next failure is logged at once, as is one that is gone.
#[derive(Default)]
pub struct Quiet(Keyed<(u64, Instant)>);

impl Quiet {
    /// Whether `text` should be logged for `key` at `now`: it is new for the object, or the same
    /// text was last logged at least [`REPEAT_AFTER`] ago.
    pub fn should_log(&self, key: &str, text: &str, now: Instant) -> bool {
        let mut h = DefaultHasher::new();
        text.hash(&mut h);
        let hash = h.finish();
        let mut last = self.0.lock();
        match last.get(key) {
            Some((seen, at)) if *seen == hash && now.duration_since(*at) < REPEAT_AFTER => false,
            _ => {
                last.insert(key.to_string(), (hash, now));
                true
            }
        }
    }
}

impl std::ops::Deref for Quiet {
    type Target = Keyed<(u64, Instant)>;

    fn deref(&self) -> &Keyed<(u64, Instant)> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_failure_is_logged_once_then_after_a_while_or_when_it_changes() {
        let quiet = Quiet::default();
        let t0 = Instant::now();
        assert!(quiet.should_log("a", "denied", t0));
        assert!(!quiet.should_log("a", "denied", t0 + Duration::from_secs(5)));
        assert!(quiet.should_log("b", "denied", t0), "another object");
        assert!(
            quiet.should_log("a", "throttled", t0 + Duration::from_secs(6)),
            "a new failure"
        );
        assert!(quiet.should_log("a", "throttled", t0 + Duration::from_secs(6) + REPEAT_AFTER));
        quiet.forget("a");
        assert!(quiet.should_log("a", "throttled", t0 + Duration::from_secs(7)));
    }
}
