//! The simulated clock. Simulated time is real elapsed time plus every offset that `advance` added,
//! so rollouts progress on their own in a demo and instantly in a test that calls `advance`.
//!
//! Every state machine in the simulator stores timestamps taken from this clock and derives its
//! current state from them on each request; nothing runs in the background.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A point in simulated time, in seconds since the Unix epoch (what AWS puts on the wire).
pub type Timestamp = f64;

/// Real time plus an offset that only grows.
#[derive(Debug)]
pub struct SimClock {
    origin: Instant,
    origin_epoch: f64,
    /// Total advanced time, in microseconds.
    offset_micros: AtomicU64,
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SimClock {
    /// A clock that starts at the current wall-clock time.
    pub fn new() -> Self {
        let origin_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        Self {
            origin: Instant::now(),
            origin_epoch,
            offset_micros: AtomicU64::new(0),
        }
    }

    /// The current simulated time, rounded to milliseconds as AWS reports it.
    pub fn now(&self) -> Timestamp {
        let raw = self.origin_epoch + self.origin.elapsed().as_secs_f64() + self.offset();
        (raw * 1000.0).round() / 1000.0
    }

    /// Moves simulated time forward. Negative or non-finite amounts are ignored: time never goes back.
    pub fn advance(&self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            // NB: float to int casts saturate, so absurd amounts cannot wrap around.
            let micros = (seconds * 1_000_000.0) as u64;
            self.offset_micros.fetch_add(micros, Ordering::SeqCst);
        }
    }

    /// The total time that `advance` has added, in seconds.
    pub fn offset(&self) -> f64 {
        self.offset_micros.load(Ordering::SeqCst) as f64 / 1_000_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_time_forward_and_never_back() {
        let clock = SimClock::new();
        let before = clock.now();
        clock.advance(90.0);
        clock.advance(-30.0);
        clock.advance(f64::NAN);
        let after = clock.now();
        assert!(after - before >= 90.0, "{before} -> {after}");
        assert!(after - before < 95.0, "{before} -> {after}");
        assert_eq!(clock.offset(), 90.0);
    }
}
