//! Call counters. Every request that reaches the AWS endpoint is counted twice: once under
//! `service:Action` when it arrives, and once under `service:Action:outcome` when it is answered,
//! where the outcome is `ok` or the AWS error code that was returned. `GET /_sim/stats` serves a
//! snapshot, so tests and benchmarks can assert exactly which calls were made.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The outcome label of a successful call.
pub const OK: &str = "ok";

/// A point-in-time copy of the counters, as `GET /_sim/stats` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Calls by `service:Action`, for example `ecs:CreateExpressGatewayService`.
    pub calls: BTreeMap<String, u64>,
    /// Answers by `service:Action:outcome`, for example `apprunner:UpdateService:InvalidStateException`.
    pub outcomes: BTreeMap<String, u64>,
}

impl StatsSnapshot {
    /// How many times `key` (`service:Action`) was called.
    pub fn calls(&self, key: &str) -> u64 {
        self.calls.get(key).copied().unwrap_or(0)
    }

    /// How many answers had `key` (`service:Action:outcome`).
    pub fn outcome(&self, key: &str) -> u64 {
        self.outcomes.get(key).copied().unwrap_or(0)
    }

    /// All calls to one service (`ecs` or `apprunner`).
    pub fn total_calls(&self, service: &str) -> u64 {
        let prefix = format!("{service}:");
        self.calls
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

/// The live counters.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
}

impl Stats {
    fn with<T>(&self, f: impl FnOnce(&mut StatsSnapshot) -> T) -> T {
        // NB: a panic while counting cannot leave the maps inconsistent, so a poisoned lock is fine.
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Counts a call to `service:action`.
    pub fn record_call(&self, service: &str, action: &str) {
        self.with(|s| *s.calls.entry(format!("{service}:{action}")).or_default() += 1);
    }

    /// Counts the answer to a call.
    pub fn record_outcome(&self, service: &str, action: &str, outcome: &str) {
        self.with(|s| {
            *s.outcomes
                .entry(format!("{service}:{action}:{outcome}"))
                .or_default() += 1
        });
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.with(|s| s.clone())
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        self.with(|s| *s = StatsSnapshot::default());
    }
}
