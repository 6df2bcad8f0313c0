//! Call counters. Every request that reaches the AWS endpoint is counted twice: once under
//! `service:Action` when it arrives, and once under `service:Action:outcome` when it is answered,
//! where the outcome is `ok` or the AWS error code that was returned. Calls whose caller's account
//! is known are counted a third time under that account, so tests can prove which account each
//! call went to. `GET /_sim/stats` serves a snapshot, so tests and benchmarks can assert exactly
//! which calls were made.

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
    /// Calls by the caller's account, then by `service:Action`, for example
    /// `{"123456789012": {"sts:AssumeRole": 1}, "210987654321": {"ecs:CreateExpressGatewayService": 1}}`.
    /// A call signed with a temporary key the simulator does not know has no account and is not
    /// here. NB: the JSON leaves it out while every call came from one account (then `calls` is
    /// that account's), so a simulator nobody assumes a role in serves the same JSON as before
    /// accounts existed.
    #[serde(default, skip_serializing_if = "one_account_at_most")]
    pub by_account: BTreeMap<String, BTreeMap<String, u64>>,
}

fn one_account_at_most(by_account: &BTreeMap<String, BTreeMap<String, u64>>) -> bool {
    by_account.len() <= 1
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

    /// How many times `key` (`service:Action`) was called by principals of `account`.
    pub fn account_calls(&self, account: &str, key: &str) -> u64 {
        self.by_account
            .get(account)
            .and_then(|calls| calls.get(key))
            .copied()
            .unwrap_or(0)
    }

    /// Calls that change an ECS or App Runner resource: every action but `Describe*` and `List*`.
    /// STS calls never count: they hand out credentials and change nothing.
    pub fn mutating_calls(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(key, _)| is_mutating(key))
            .map(|(_, n)| n)
            .sum()
    }

    /// All calls to one service (`ecs`, `apprunner` or `sts`).
    pub fn total_calls(&self, service: &str) -> u64 {
        let prefix = format!("{service}:");
        self.calls
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Whether `key` (`service:Action`) changes an ECS or App Runner resource (see
/// [`StatsSnapshot::mutating_calls`]).
pub fn is_mutating(key: &str) -> bool {
    match key.split_once(':') {
        Some(("sts", _)) => false,
        Some((_, action)) => !(action.starts_with("Describe") || action.starts_with("List")),
        None => true,
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

    /// Counts a call to `service:action`, and under the caller's account when it is known.
    pub fn record_call(&self, service: &str, action: &str, account: Option<&str>) {
        let key = format!("{service}:{action}");
        self.with(|s| {
            if let Some(account) = account {
                *s.by_account
                    .entry(account.to_string())
                    .or_default()
                    .entry(key.clone())
                    .or_default() += 1;
            }
            *s.calls.entry(key).or_default() += 1;
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_in_total_and_by_account() {
        let stats = Stats::default();
        stats.record_call("ecs", "DescribeServices", Some("123456789012"));
        stats.record_call("ecs", "DescribeServices", Some("210987654321"));
        stats.record_call("sts", "AssumeRole", Some("123456789012"));
        stats.record_call("ecs", "DescribeServices", None);
        stats.record_outcome("ecs", "DescribeServices", "ExpiredTokenException");
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.calls("ecs:DescribeServices"), 3);
        assert_eq!(snapshot.account_calls("210987654321", "ecs:DescribeServices"), 1);
        assert_eq!(snapshot.account_calls("123456789012", "sts:AssumeRole"), 1);
        assert_eq!(snapshot.account_calls("999999999999", "sts:AssumeRole"), 0);
        assert_eq!(snapshot.outcome("ecs:DescribeServices:ExpiredTokenException"), 1);
        assert_eq!(snapshot.total_calls("sts"), 1);

        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(json["by_account"]["210987654321"]["ecs:DescribeServices"], 1);

        // One account: the JSON is what it was before accounts existed, and it still reads.
        let single = Stats::default();
        single.record_call("ecs", "X", Some("123456789012"));
        let json = serde_json::to_value(single.snapshot()).unwrap();
        assert_eq!(json, serde_json::json!({"calls": {"ecs:X": 1}, "outcomes": {}}));
        let old: StatsSnapshot = serde_json::from_str(r#"{"calls": {"ecs:X": 1}, "outcomes": {}}"#).unwrap();
        assert!(old.by_account.is_empty());
        stats.reset();
        assert_eq!(stats.snapshot(), StatsSnapshot::default());
    }
}
