//! The arithmetic of runway's request budget, with the clock passed in: a token bucket whose rate
//! may change ([`TokenBucket`]), and the rate AWS's throttling leaves runway ([`AdaptiveRate`]).
//! [`Meter`] joins them for one bucket of [`super::budget`], which owns the locking and the waiting.
//!
//! Adaptation is AIMD, as TCP's congestion control: each `ThrottlingException` halves the rate
//! (throttles within [`COOLDOWN`] of a decrease count once, as they answer calls sent before it),
//! never below [`FLOOR`] of the configured rate; after [`QUIET`] without a throttle the rate climbs
//! back by [`RECOVERY_PER_SECOND`] of the configured rate each second, never above it. The
//! bucket's capacity shrinks and grows with the rate, so a lowered rate does not still allow the
//! configured burst.

use std::time::{Duration, Instant};

/// The factor a throttle multiplies the rate by.
pub const DECREASE: f64 = 0.5;
/// Throttles this soon after a decrease do not lower the rate again: they answer calls that were
/// sent before it.
pub const COOLDOWN: Duration = Duration::from_secs(1);
/// How long the budget goes without a throttle before the rate starts to recover.
pub const QUIET: Duration = Duration::from_secs(10);
/// The share of the configured rate regained per second of recovery (full recovery from the floor
/// takes 18 s).
pub const RECOVERY_PER_SECOND: f64 = 0.05;
/// The lowest share of the configured rate that throttling can leave.
pub const FLOOR: f64 = 0.1;

/// The rate runway allows itself for one bucket, lowered while AWS throttles.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveRate {
    configured: f64,
    /// The rate set by the last decrease.
    lowered: f64,
    /// When the rate was last lowered.
    last_decrease: Option<Instant>,
    /// When AWS last throttled a call.
    last_throttle: Option<Instant>,
}

impl AdaptiveRate {
    /// The configured rate, in calls per second, not lowered.
    pub fn new(configured: f64) -> Self {
        Self {
            configured,
            lowered: configured,
            last_decrease: None,
            last_throttle: None,
        }
    }

    /// The configured rate.
    pub fn configured(&self) -> f64 {
        self.configured
    }

    /// The effective rate at `now`.
    pub fn at(&self, now: Instant) -> f64 {
        let Some(last) = self.last_throttle else {
            return self.configured;
        };
        let quiet = now.saturating_duration_since(last);
        let recovering = quiet.saturating_sub(QUIET).as_secs_f64();
        (self.lowered + self.configured * RECOVERY_PER_SECOND * recovering).min(self.configured)
    }

    /// Records a throttle at `now`; returns whether it lowered the rate.
    pub fn throttled(&mut self, now: Instant) -> bool {
        let cooling = self
            .last_decrease
            .is_some_and(|at| now.saturating_duration_since(at) < COOLDOWN);
        let lowered = if cooling {
            false
        } else {
            self.lowered = (self.at(now) * DECREASE).max(self.configured * FLOOR);
            self.last_decrease = Some(now);
            true
        };
        self.last_throttle = Some(self.last_throttle.map_or(now, |at| at.max(now)));
        lowered
    }
}

/// A token bucket whose rate and capacity are given at each take.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A bucket holding `capacity` tokens at `now`.
    pub fn full(capacity: f64, now: Instant) -> Self {
        Self {
            tokens: capacity,
            updated: now,
        }
    }

    /// Takes one token at `now` if one is there, after refilling at `rate` per second up to
    /// `capacity`; otherwise says how long until one will be.
    pub fn take(&mut self, now: Instant, rate: f64, capacity: f64) -> Result<(), Duration> {
        let rate = rate.max(1e-6);
        self.tokens = self.level(now, rate, capacity);
        self.updated = self.updated.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }

    /// The tokens the bucket holds at `now`, refilled at `rate` per second up to `capacity`,
    /// without taking one.
    pub fn level(&self, now: Instant, rate: f64, capacity: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * rate.max(1e-6)).min(capacity.max(1.0))
    }
}

/// One bucket of the budget: its configured burst, its adaptive rate and its tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Meter {
    burst: f64,
    rate: AdaptiveRate,
    bucket: TokenBucket,
}

impl Meter {
    /// A full bucket of `burst` tokens refilled at `per_second`.
    pub fn new(per_second: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            burst,
            rate: AdaptiveRate::new(per_second),
            bucket: TokenBucket::full(burst, now),
        }
    }

    /// The effective rate at `now`.
    pub fn rate(&self, now: Instant) -> f64 {
        self.rate.at(now)
    }

    /// The capacity at `now`: the burst, scaled down as the rate is.
    fn capacity(&self, now: Instant) -> f64 {
        let share = self.rate.at(now) / self.rate.configured().max(1e-6);
        (self.burst * share).max(1.0)
    }

    /// Takes a token at `now`, or says how long until one is free.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let (rate, capacity) = (self.rate.at(now), self.capacity(now));
        self.bucket.take(now, rate, capacity)
    }

    /// Records a throttle at `now`; returns whether it lowered the rate.
    pub fn throttled(&mut self, now: Instant) -> bool {
        self.rate.throttled(now)
    }

    /// The tokens left at `now`.
    pub fn tokens(&self, now: Instant) -> f64 {
        self.bucket.level(now, self.rate.at(now), self.capacity(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_throttle_halves_the_rate_and_throttles_in_the_cooldown_count_once() {
        let t0 = Instant::now();
        let mut rate = AdaptiveRate::new(10.0);
        assert_eq!(rate.at(t0), 10.0);
        assert!(rate.throttled(t0));
        assert_eq!(rate.at(t0), 5.0);
        // Calls sent before the decrease come back throttled too: no second decrease.
        assert!(!rate.throttled(t0 + secs(0.5)));
        assert_eq!(rate.at(t0 + secs(0.5)), 5.0);
        assert!(rate.throttled(t0 + secs(1.5)));
        assert_eq!(rate.at(t0 + secs(1.5)), 2.5);
    }

    #[test]
    fn throttling_never_lowers_the_rate_below_the_floor() {
        let t0 = Instant::now();
        let mut rate = AdaptiveRate::new(10.0);
        for i in 0..20 {
            rate.throttled(t0 + secs(2.0 * f64::from(i)));
        }
        assert_eq!(rate.at(t0 + secs(40.0)), 1.0);
    }

    #[test]
    fn the_rate_recovers_gradually_after_a_quiet_period_and_never_passes_the_configured_rate() {
        let t0 = Instant::now();
        let mut rate = AdaptiveRate::new(10.0);
        rate.throttled(t0);
        // A throttle inside the cooldown moves the quiet period on without another decrease.
        rate.throttled(t0 + secs(0.5));
        assert_eq!(rate.at(t0 + secs(10.0)), 5.0);
        assert_eq!(rate.at(t0 + secs(10.5)), 5.0);
        // 0.5 per second (5 % of 10) once 10 s have passed since the last throttle.
        assert!((rate.at(t0 + secs(14.5)) - 7.0).abs() < 1e-9);
        assert_eq!(rate.at(t0 + secs(20.5)), 10.0);
        assert_eq!(rate.at(t0 + secs(1000.0)), 10.0);
        // A throttle during recovery halves the rate reached so far.
        rate.throttled(t0 + secs(14.5));
        assert!((rate.at(t0 + secs(14.5)) - 3.5).abs() < 1e-9);
    }

    #[test]
    fn a_bucket_spends_its_burst_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::full(3.0, t0);
        for _ in 0..3 {
            assert_eq!(bucket.take(t0, 2.0, 3.0), Ok(()));
        }
        assert_eq!(bucket.take(t0, 2.0, 3.0), Err(secs(0.5)));
        assert_eq!(bucket.take(t0 + secs(0.5), 2.0, 3.0), Ok(()));
        // Ten idle seconds refill no more than the capacity.
        let later = t0 + secs(10.5);
        for _ in 0..3 {
            assert_eq!(bucket.take(later, 2.0, 3.0), Ok(()));
        }
        assert!(bucket.take(later, 2.0, 3.0).is_err());
    }

    #[test]
    fn a_throttled_meter_shrinks_its_burst_with_its_rate() {
        let t0 = Instant::now();
        let mut meter = Meter::new(10.0, 20, t0);
        assert!(meter.throttled(t0));
        assert_eq!(meter.rate(t0), 5.0);
        // The capacity is now 10: half the burst, although 20 tokens were there.
        let taken = (0..20).take_while(|_| meter.try_take(t0).is_ok()).count();
        assert_eq!(taken, 10);
        let wait = meter.try_take(t0).expect_err("empty");
        assert!((wait.as_secs_f64() - 0.2).abs() < 1e-9, "{wait:?}");
    }

    #[test]
    fn the_tokens_left_refill_at_the_rate_up_to_the_capacity_without_taking_one() {
        let t0 = Instant::now();
        let mut meter = Meter::new(2.0, 4, t0);
        assert_eq!(meter.tokens(t0), 4.0);
        for _ in 0..3 {
            meter.try_take(t0).expect("a token");
        }
        assert_eq!(meter.tokens(t0), 1.0);
        assert_eq!(meter.tokens(t0), 1.0, "looking takes nothing");
        assert_eq!(meter.tokens(t0 + secs(0.5)), 2.0);
        assert_eq!(meter.tokens(t0 + secs(60.0)), 4.0);
        // A throttle halves the capacity with the rate: at most 2 tokens now.
        meter.throttled(t0 + secs(60.0));
        assert_eq!(meter.tokens(t0 + secs(60.0)), 2.0);
    }
}
