//! Injected faults, request-rate limits and normalizations. The server asks [`Faults::decide`] about every AWS call
//! before it reaches a state machine: the answer is how long to delay the response and whether to
//! fail it with a throttling error or a server error instead of running it.
//!
//! Rate limits are token buckets keyed by action family (`ecs:describe`, `ecs:mutate`,
//! `apprunner:describe`, `apprunner:mutate`) or by a single action (`ecs:DescribeServices`), one
//! set of buckets per caller account, as AWS throttles each account separately
//! (docs/aws-behaviour.md X5). They refill on the simulated clock, so `advance` also refills them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::clock::Timestamp;
use super::normalize::{self, Rewrite};

/// The fault knobs, as `POST /_sim/faults` accepts them and `GET /_sim/faults` returns them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fraction (0.0 to 1.0) of calls answered with a throttling error.
    pub throttle_rate: f64,
    /// Fraction (0.0 to 1.0) of calls answered with a 500 server error.
    pub server_error_rate: f64,
    /// Delay added to every AWS call, in milliseconds.
    pub latency_ms: u64,
    /// Requests per second allowed to each caller account, by action family (`ecs:describe`,
    /// `ecs:mutate`, `apprunner:describe`, `apprunner:mutate`) or by `service:Action`. Calls beyond
    /// the limit get a throttling error. The burst is one second's worth of calls.
    pub rate_limit_per_second: BTreeMap<String, f64>,
    /// Fields the responses report in another spelling than the one they were sent, keyed
    /// `service:field` (`ecs:healthCheckPath`, `apprunner:healthCheckConfiguration.path`), as AWS
    /// normalizes some values (`normalize`). Off (empty) by default.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub normalize: BTreeMap<String, Rewrite>,
}

impl FaultConfig {
    /// Checks the ranges: rates within 0..=1, limits positive, keys well formed.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("throttleRate", self.throttle_rate),
            ("serverErrorRate", self.server_error_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        for (key, limit) in &self.rate_limit_per_second {
            if !key.starts_with("ecs:") && !key.starts_with("apprunner:") {
                return Err(format!(
                    "rate limit key {key:?} must start with \"ecs:\" or \"apprunner:\""
                ));
            }
            if !limit.is_finite() || *limit <= 0.0 {
                return Err(format!("rate limit for {key} must be positive, got {limit}"));
            }
        }
        normalize::validate(&self.normalize)
    }
}

/// The family an action belongs to for rate limiting: `service:describe` for reads
/// (`Describe*`, `List*`, so ListTagsForResource too), `service:mutate` for everything else
/// (TagResource and UntagResource included). NB: AWS's ECS buckets are finer (docs/aws-behaviour.md
/// X5: tag reads and tag changes have buckets of their own); the simulator's two families only tell
/// reads from changes.
pub fn action_family(service: &str, action: &str) -> String {
    let verb = if action.starts_with("Describe") || action.starts_with("List") {
        "describe"
    } else {
        "mutate"
    };
    format!("{service}:{verb}")
}

/// What to do instead of answering a call normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with the service's throttling error.
    Throttle(String),
    /// Answer with the service's 500 error.
    ServerError,
}

/// The verdict on one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// How long to hold the response.
    pub latency: Duration,
    /// A fault to answer with, if any.
    pub fault: Option<Fault>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_at: Timestamp,
}

#[derive(Debug, Default)]
struct Inner {
    config: FaultConfig,
    /// By (account, rate-limit key).
    buckets: HashMap<(String, String), Bucket>,
}

/// The live fault settings and rate-limit buckets.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    /// Settings from flags.
    pub fn new(config: FaultConfig) -> Self {
        Self {
            inner: Mutex::new(Inner {
                config,
                buckets: HashMap::new(),
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        // NB: every update below leaves the settings consistent, so a poisoned lock is fine.
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Replaces the settings and empties the rate-limit buckets.
    pub fn set(&self, config: FaultConfig) {
        self.with(|inner| {
            inner.config = config;
            inner.buckets.clear();
        });
    }

    /// The current settings.
    pub fn get(&self) -> FaultConfig {
        self.with(|inner| inner.config.clone())
    }

    /// Rewrites the fields the `normalize` setting names for `service` in a response body.
    pub fn normalize(&self, service: &str, response: &mut serde_json::Value) {
        let rules =
            self.with(|inner| (!inner.config.normalize.is_empty()).then(|| inner.config.normalize.clone()));
        if let Some(rules) = rules {
            normalize::apply(&rules, service, response);
        }
    }

    /// Decides the fate of one call to `service:action` by a principal of `account` at simulated
    /// time `now`.
    pub fn decide(&self, account: &str, service: &str, action: &str, now: Timestamp) -> Decision {
        self.with(|inner| {
            let latency = Duration::from_millis(inner.config.latency_ms);
            let keys = [format!("{service}:{action}"), action_family(service, action)];
            for key in keys {
                let Some(limit) = inner.config.rate_limit_per_second.get(&key).copied() else {
                    continue;
                };
                let burst = limit.max(1.0);
                let bucket = inner
                    .buckets
                    .entry((account.to_string(), key.clone()))
                    .or_insert(Bucket {
                        tokens: burst,
                        refilled_at: now,
                    });
                let elapsed = (now - bucket.refilled_at).max(0.0);
                bucket.tokens = (bucket.tokens + elapsed * limit).min(burst);
                bucket.refilled_at = now;
                if bucket.tokens < 1.0 {
                    return Decision {
                        latency,
                        fault: Some(Fault::Throttle(format!(
                            "Rate exceeded: {key} allows {limit} requests per second"
                        ))),
                    };
                }
                bucket.tokens -= 1.0;
            }
            let mut rng = rand::rng();
            let fault = if roll(&mut rng, inner.config.throttle_rate) {
                Some(Fault::Throttle("Rate exceeded".to_string()))
            } else if roll(&mut rng, inner.config.server_error_rate) {
                Some(Fault::ServerError)
            } else {
                None
            };
            Decision { latency, fault }
        })
    }
}

fn roll(rng: &mut impl Rng, rate: f64) -> bool {
    rate >= 1.0 || (rate > 0.0 && rng.random::<f64>() < rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "123456789012";

    fn limited(key: &str, per_second: f64) -> Faults {
        Faults::new(FaultConfig {
            rate_limit_per_second: BTreeMap::from([(key.to_string(), per_second)]),
            ..FaultConfig::default()
        })
    }

    #[test]
    fn rate_limit_allows_a_burst_then_refills_with_time() {
        let faults = limited("ecs:describe", 2.0);
        let verdicts: Vec<_> = (0..3)
            .map(|_| faults.decide(A, "ecs", "DescribeServices", 100.0).fault)
            .collect();
        assert_eq!(verdicts[0], None);
        assert_eq!(verdicts[1], None);
        assert!(matches!(verdicts[2], Some(Fault::Throttle(_))));
        assert_eq!(faults.decide(A, "ecs", "UpdateService", 100.0).fault, None);
        assert_eq!(faults.decide(A, "ecs", "DescribeServices", 100.5).fault, None);
    }

    #[test]
    fn each_account_has_its_own_buckets() {
        let faults = limited("ecs:mutate", 1.0);
        assert_eq!(faults.decide(A, "ecs", "UpdateService", 0.0).fault, None);
        assert!(faults.decide(A, "ecs", "UpdateService", 0.0).fault.is_some());
        assert_eq!(
            faults.decide("210987654321", "ecs", "UpdateService", 0.0).fault,
            None
        );
    }

    #[test]
    fn tag_reads_are_describes_and_tag_changes_are_mutations() {
        for service in ["ecs", "apprunner"] {
            assert_eq!(
                action_family(service, "ListTagsForResource"),
                format!("{service}:describe")
            );
            assert_eq!(action_family(service, "TagResource"), format!("{service}:mutate"));
            assert_eq!(
                action_family(service, "UntagResource"),
                format!("{service}:mutate")
            );
        }
    }

    #[test]
    fn per_action_limits_do_not_touch_other_actions() {
        let faults = limited("apprunner:ListOperations", 1.0);
        assert_eq!(faults.decide(A, "apprunner", "ListOperations", 0.0).fault, None);
        assert!(
            faults
                .decide(A, "apprunner", "ListOperations", 0.0)
                .fault
                .is_some()
        );
        assert_eq!(faults.decide(A, "apprunner", "DescribeService", 0.0).fault, None);
    }

    #[test]
    fn certain_rates_always_fire_and_zero_rates_never_do() {
        let faults = Faults::new(FaultConfig {
            server_error_rate: 1.0,
            latency_ms: 7,
            ..FaultConfig::default()
        });
        let decision = faults.decide(A, "ecs", "DescribeServices", 0.0);
        assert_eq!(decision.fault, Some(Fault::ServerError));
        assert_eq!(decision.latency, Duration::from_millis(7));
        faults.set(FaultConfig::default());
        assert_eq!(faults.decide(A, "ecs", "DescribeServices", 0.0).fault, None);
    }

    #[test]
    fn validation_rejects_out_of_range_settings() {
        let bad_rate = FaultConfig {
            throttle_rate: 1.5,
            ..FaultConfig::default()
        };
        assert!(bad_rate.validate().is_err());
        let bad_key = FaultConfig {
            rate_limit_per_second: BTreeMap::from([("s3:get".to_string(), 1.0)]),
            ..FaultConfig::default()
        };
        assert!(bad_key.validate().is_err());
        assert!(FaultConfig::default().validate().is_ok());
    }
}
