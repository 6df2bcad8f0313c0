//! runway's own AWS API budget: a client-side token bucket per (account, Region, action family) in
//! front of every attempt of every AWS call, SDK-level retries included (see `super::call`).
//!
//! AWS throttles each account per Region with token buckets, one per category of actions, and the
//! account shares them with everything else it runs: the console, CI pipelines, other tools. runway
//! keeps to a stated fraction of each published bucket ([`BudgetSettings::fraction`], 0.5 by
//! default), so AWS has no reason to throttle it while the budget holds, and the rest of the
//! account keeps the other half. A bucket is per account, Region and family, as AWS's are: the
//! controller's own identity and a role assumed in the same account share one ([`Scope`]).
//!
//! When AWS throttles anyway (someone else spends the account's bucket), the bucket's rate drops
//! (see `super::rate`: halved per throttle, down to a floor, recovering after a quiet period) and
//! the effective rate is exported as `runway_aws_budget_rate` by account, Region and family, and
//! the tokens left as `runway_aws_budget_tokens`.
//!
//! The families and AWS's published buckets (burst, then refill per second), from "Request
//! throttling for the Amazon ECS API" (docs/aws-behaviour.md, X5):
//!
//! | family | actions runway calls | burst | refill/s |
//! |---|---|---|---|
//! | `ecs:service-modify` | Create/Update/DeleteExpressGatewayService, UpdateService | 50 | 5 |
//! | `ecs:service-read` | DescribeExpressGatewayService, DescribeServices, ListServices | 100 | 20 |
//! | `ecs:deployment-read` | DescribeServiceDeployments, ListServiceDeployments, DescribeServiceRevisions | 50 | 20 |
//! | `ecs:tag-read` | ListTagsForResource | 50 | 20 |
//! | `ecs:tag-modify` | TagResource, UntagResource | 20 | 10 |
//! | `apprunner:read` | Describe*, List* | 20 (assumed) | 10 (assumed) |
//! | `apprunner:modify` | every other action | 10 (assumed) | 2 (assumed) |
//!
//! App Runner publishes no request rates (only resource quotas), so its two buckets are runway's
//! own conservative assumption. The page lists no bucket for DescribeServiceRevisions; runway
//! counts it with the deployment reads it came with (assumed, docs/aws-behaviour.md E38).
//!
//! Priority: a reconcile of a change (a new generation or annotation, a deletion, an object runway
//! has not handled yet) runs with [`Priority::Change`]; resyncs and progress polls run with
//! [`Priority::Background`]. Within a bucket, a background caller takes a token only while no
//! change waits for one, so a resync storm never delays a user's change. Callers of one priority
//! are served first come, first served.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::rate::Meter;
use crate::metrics::{BudgetRateLabels, Metrics};

/// How urgent the AWS calls of a reconcile are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// A user's change: a new generation or annotation, a deletion, an object not handled yet.
    Change,
    /// A resync or a progress poll.
    Background,
}

impl Priority {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Background => "background",
        }
    }
}

tokio::task_local! {
    static PRIORITY: Priority;
}

/// Runs `fut` with every AWS call in it taking tokens at `priority`.
pub async fn with_priority<F: Future>(priority: Priority, fut: F) -> F::Output {
    PRIORITY.scope(priority, fut).await
}

/// The priority of the running task; calls outside any reconcile count as changes.
pub fn current_priority() -> Priority {
    PRIORITY.try_with(|p| *p).unwrap_or(Priority::Change)
}

/// One bucket's size: a sustained rate and a burst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    /// Tokens added per second.
    pub per_second: f64,
    /// The bucket's capacity.
    pub burst: u32,
}

/// AWS's published bucket for a family (burst, refill per second); `None` for a family runway
/// does not know, which is then not limited.
pub fn published(family: &str) -> Option<Limit> {
    let (burst, per_second) = match family {
        "ecs:service-modify" => (50, 5.0),
        "ecs:service-read" => (100, 20.0),
        "ecs:deployment-read" => (50, 20.0),
        "ecs:tag-read" => (50, 20.0),
        "ecs:tag-modify" => (20, 10.0),
        "apprunner:read" => (20, 10.0),
        "apprunner:modify" => (10, 2.0),
        _ => return None,
    };
    Some(Limit { per_second, burst })
}

/// Every family runway knows.
pub const FAMILIES: &[&str] = &[
    "ecs:service-modify",
    "ecs:service-read",
    "ecs:deployment-read",
    "ecs:tag-read",
    "ecs:tag-modify",
    "apprunner:read",
    "apprunner:modify",
];

/// The family an action belongs to, as AWS groups them for throttling.
pub fn family(service: &str, operation: &str) -> &'static str {
    let read = operation.starts_with("Describe") || operation.starts_with("List");
    match service {
        "ecs" => match operation {
            "DescribeServiceDeployments" | "ListServiceDeployments" | "DescribeServiceRevisions" => {
                "ecs:deployment-read"
            }
            "ListTagsForResource" => "ecs:tag-read",
            "TagResource" | "UntagResource" => "ecs:tag-modify",
            _ if read => "ecs:service-read",
            _ => "ecs:service-modify",
        },
        _ if read => "apprunner:read",
        _ => "apprunner:modify",
    }
}

/// The budget's settings: a fraction of AWS's published buckets, and explicit limits that replace
/// it per family.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetSettings {
    /// The fraction (0 < f ≤ 1) of each published bucket that runway uses.
    pub fraction: f64,
    /// Explicit limits by family, replacing `fraction` for that family.
    pub overrides: BTreeMap<String, Limit>,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        Self {
            fraction: 0.5,
            overrides: BTreeMap::new(),
        }
    }
}

impl BudgetSettings {
    /// The limit runway keeps to for `family`.
    pub fn limit(&self, family: &str) -> Option<Limit> {
        if let Some(limit) = self.overrides.get(family) {
            return Some(*limit);
        }
        published(family).map(|p| Limit {
            per_second: p.per_second * self.fraction,
            burst: ((f64::from(p.burst) * self.fraction).floor() as u32).max(1),
        })
    }

    /// Checks the fraction and the overrides.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.fraction > 0.0 && self.fraction <= 1.0) {
            return Err(format!(
                "the AWS budget fraction must be above 0 and at most 1, got {}",
                self.fraction
            ));
        }
        for (family, limit) in &self.overrides {
            if !FAMILIES.contains(&family.as_str()) {
                return Err(format!(
                    "unknown AWS budget family {family:?}; known families: {}",
                    FAMILIES.join(", ")
                ));
            }
            if !limit.per_second.is_finite() || limit.per_second <= 0.0 || limit.burst == 0 {
                return Err(format!("the AWS budget for {family} must be positive"));
            }
        }
        Ok(())
    }
}

/// Parses `FAMILY=PER_SECOND[/BURST]`, as `--aws-rate-limit` takes it. Without a burst, the bucket
/// holds one second's worth of tokens.
pub fn parse_override(value: &str) -> Result<(String, Limit), String> {
    let (family, rest) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not FAMILY=PER_SECOND[/BURST]"))?;
    let (rate, burst) = match rest.split_once('/') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let per_second: f64 = rate
        .trim()
        .parse()
        .map_err(|e| format!("rate {rate:?} in {value:?} is not a number: {e}"))?;
    let burst = match burst {
        Some(b) => b
            .trim()
            .parse()
            .map_err(|e| format!("burst {b:?} in {value:?} is not a whole number: {e}"))?,
        None => (per_second.ceil() as u32).max(1),
    };
    Ok((family.trim().to_string(), Limit { per_second, burst }))
}

/// Decrements the count of waiting changes when a change stops waiting, even if its future is
/// dropped, and wakes the background callers.
struct Waiting<'a>(&'a Bucket);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.changes_waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.changes_done.notify_waiters();
    }
}

/// One token bucket with its two queues.
struct Bucket {
    meter: Mutex<Meter>,
    changes_waiting: AtomicUsize,
    changes_turn: tokio::sync::Mutex<()>,
    background_turn: tokio::sync::Mutex<()>,
    changes_done: Notify,
}

/// The longest a background caller sleeps before it looks again.
const NAP: Duration = Duration::from_millis(50);

impl Bucket {
    fn new(limit: Limit) -> Self {
        Self {
            meter: Mutex::new(Meter::new(limit.per_second, limit.burst, Instant::now())),
            changes_waiting: AtomicUsize::new(0),
            changes_turn: tokio::sync::Mutex::new(()),
            background_turn: tokio::sync::Mutex::new(()),
            changes_done: Notify::new(),
        }
    }

    fn meter(&self) -> std::sync::MutexGuard<'_, Meter> {
        // NB: every update of a meter leaves it consistent, so a poisoned lock is fine.
        self.meter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token now, or says how long until one is free.
    fn check(&self) -> Result<(), Duration> {
        self.meter().try_take(Instant::now())
    }

    /// Takes one token when one is free, sleeping until the bucket refills.
    async fn token(&self) {
        while let Err(wait) = self.check() {
            tokio::time::sleep(wait).await;
        }
    }

    async fn take(&self, priority: Priority) {
        match priority {
            Priority::Change => {
                self.changes_waiting.fetch_add(1, Ordering::SeqCst);
                let _waiting = Waiting(self);
                let _turn = self.changes_turn.lock().await;
                self.token().await;
            }
            Priority::Background => {
                let _turn = self.background_turn.lock().await;
                loop {
                    if self.changes_waiting.load(Ordering::SeqCst) > 0 {
                        // NB: the timeout covers a wake-up sent between the load and `notified`.
                        let _ = tokio::time::timeout(NAP, self.changes_done.notified()).await;
                        continue;
                    }
                    match self.check() {
                        Ok(()) => return,
                        Err(wait) => tokio::time::sleep(wait.min(NAP)).await,
                    }
                }
            }
        }
    }
}

/// The tokens left in each bucket now, with its labels.
fn tokens_left(buckets: &Buckets) -> Vec<(BudgetRateLabels, f64)> {
    let now = Instant::now();
    let buckets = buckets.lock().unwrap_or_else(|e| e.into_inner());
    buckets
        .iter()
        .map(|((scope, family), bucket)| {
            let labels = BudgetRateLabels {
                account: scope.account.clone(),
                region: scope.region.clone(),
                family: (*family).to_string(),
            };
            (labels, bucket.meter().tokens(now))
        })
        .collect()
}

/// Whose bucket a call takes its tokens from: AWS keeps its buckets per account and Region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The account the call runs in; empty while the controller's own account is not known yet.
    pub account: String,
    /// The Region the call goes to.
    pub region: String,
}

/// The buckets of a budget, by scope and family.
type Buckets = Mutex<HashMap<(Scope, &'static str), Arc<Bucket>>>;

/// The budget: buckets created on first use.
pub struct Budget {
    settings: BudgetSettings,
    buckets: Arc<Buckets>,
    metrics: Metrics,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Budget {
    /// Creates the budget; `metrics` reads its buckets' tokens at each scrape.
    pub fn new(settings: BudgetSettings, metrics: Metrics) -> Self {
        let buckets = Arc::<Buckets>::default();
        let weak = Arc::downgrade(&buckets);
        metrics.read_budget_tokens(Box::new(move || {
            weak.upgrade().map(|b| tokens_left(&b)).unwrap_or_default()
        }));
        Self {
            settings,
            buckets,
            metrics,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &BudgetSettings {
        &self.settings
    }

    fn bucket(&self, scope: &Scope, family: &'static str) -> Option<Arc<Bucket>> {
        let limit = self.settings.limit(family)?;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        Some(Arc::clone(
            buckets
                .entry((scope.clone(), family))
                .or_insert_with(|| Arc::new(Bucket::new(limit))),
        ))
    }

    /// Exports the bucket's effective rate.
    fn report_rate(&self, scope: &Scope, family: &str, bucket: &Bucket) {
        let rate = bucket.meter().rate(Instant::now());
        self.metrics
            .budget_rate(&scope.account, &scope.region, family, rate);
    }

    /// Waits for a token for one attempt of `service:operation` in `scope`, at the running task's
    /// priority, and records the wait.
    pub async fn take(&self, scope: &Scope, service: &str, operation: &str) {
        let family = family(service, operation);
        let Some(bucket) = self.bucket(scope, family) else {
            return;
        };
        let priority = current_priority();
        let start = Instant::now();
        bucket.take(priority).await;
        self.metrics
            .budget_wait(family, priority.label(), start.elapsed().as_secs_f64());
        self.report_rate(scope, family, &bucket);
    }

    /// Records that AWS throttled an attempt of `service:operation` in `scope`: the bucket's rate
    /// drops (see `super::rate`).
    pub fn throttled(&self, scope: &Scope, service: &str, operation: &str) {
        let family = family(service, operation);
        let Some(bucket) = self.bucket(scope, family) else {
            return;
        };
        if bucket.meter().throttled(Instant::now()) {
            tracing::info!(account = %scope.account, region = %scope.region, family,
                "AWS throttled runway; lowering runway's request rate for this bucket");
        }
        self.report_rate(scope, family, &bucket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_runway_calls_has_its_published_family() {
        for (service, op, fam) in [
            ("ecs", "CreateExpressGatewayService", "ecs:service-modify"),
            ("ecs", "UpdateExpressGatewayService", "ecs:service-modify"),
            ("ecs", "DeleteExpressGatewayService", "ecs:service-modify"),
            ("ecs", "UpdateService", "ecs:service-modify"),
            ("ecs", "DescribeExpressGatewayService", "ecs:service-read"),
            ("ecs", "DescribeServices", "ecs:service-read"),
            ("ecs", "ListServices", "ecs:service-read"),
            ("ecs", "DescribeServiceDeployments", "ecs:deployment-read"),
            ("ecs", "DescribeServiceRevisions", "ecs:deployment-read"),
            ("ecs", "ListServiceDeployments", "ecs:deployment-read"),
            ("ecs", "ListTagsForResource", "ecs:tag-read"),
            ("ecs", "TagResource", "ecs:tag-modify"),
            ("apprunner", "DescribeService", "apprunner:read"),
            ("apprunner", "ListOperations", "apprunner:read"),
            ("apprunner", "ListTagsForResource", "apprunner:read"),
            ("apprunner", "UpdateService", "apprunner:modify"),
            ("apprunner", "StartDeployment", "apprunner:modify"),
        ] {
            assert_eq!(family(service, op), fam, "{service}:{op}");
            assert!(published(fam).is_some(), "{fam}");
        }
    }

    #[test]
    fn the_default_budget_is_half_of_each_published_bucket_and_overrides_replace_it() {
        let settings = BudgetSettings::default();
        assert_eq!(
            settings.limit("ecs:service-modify"),
            Some(Limit {
                per_second: 2.5,
                burst: 25
            })
        );
        assert_eq!(
            settings.limit("ecs:service-read"),
            Some(Limit {
                per_second: 10.0,
                burst: 50
            })
        );
        assert_eq!(settings.limit("something:else"), None);
        let (family, limit) = parse_override("ecs:service-modify=47.5").expect("parse");
        assert_eq!(family, "ecs:service-modify");
        assert_eq!(
            limit,
            Limit {
                per_second: 47.5,
                burst: 48
            }
        );
        let (_, limit) = parse_override("apprunner:read=3/9").expect("parse");
        assert_eq!(limit.burst, 9);
        assert!(parse_override("ecs:service-read").is_err());
        assert!(parse_override("ecs:service-read=fast").is_err());
        let overridden = BudgetSettings {
            overrides: BTreeMap::from([(family, limit)]),
            ..BudgetSettings::default()
        };
        assert_eq!(overridden.limit("ecs:service-modify"), Some(limit));
        assert!(overridden.validate().is_ok());
        let unknown = BudgetSettings {
            overrides: BTreeMap::from([("ecs:everything".to_string(), limit)]),
            ..BudgetSettings::default()
        };
        assert!(
            unknown
                .validate()
                .unwrap_err()
                .contains("unknown AWS budget family")
        );
        for fraction in [0.0, -1.0, 1.5, f64::NAN] {
            let bad = BudgetSettings {
                fraction,
                ..BudgetSettings::default()
            };
            assert!(bad.validate().is_err(), "{fraction}");
        }
    }

    fn scope(account: &str, region: &str) -> Scope {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }

    /// A budget whose only explicit bucket is `ecs:service-read`.
    fn read_budget(per_second: f64, burst: u32) -> Arc<Budget> {
        Arc::new(Budget::new(
            BudgetSettings {
                overrides: BTreeMap::from([("ecs:service-read".to_string(), Limit { per_second, burst })]),
                ..BudgetSettings::default()
            },
            Metrics::new(),
        ))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bucket_keeps_to_its_rate_after_the_burst() {
        let budget = read_budget(20.0, 5);
        let start = Instant::now();
        for _ in 0..15 {
            budget
                .take(&scope("123456789012", "us-east-1"), "ecs", "DescribeServices")
                .await;
        }
        // 5 from the burst, then 10 more at 20 per second: at least 0.45 s.
        assert!(
            start.elapsed() >= Duration::from_millis(440),
            "{:?}",
            start.elapsed()
        );
        // Another Region, and another account, have buckets of their own.
        let other = Instant::now();
        budget
            .take(&scope("123456789012", "eu-west-1"), "ecs", "DescribeServices")
            .await;
        budget
            .take(&scope("210987654321", "us-east-1"), "ecs", "DescribeServices")
            .await;
        assert!(other.elapsed() < Duration::from_millis(40));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_take_tokens_before_background_callers_that_waited_longer() {
        let budget = read_budget(20.0, 1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (budget, order) = (budget.clone(), order.clone());
            tasks.push(tokio::spawn(with_priority(Priority::Background, async move {
                budget
                    .take(&scope("123456789012", "us-east-1"), "ecs", "DescribeServices")
                    .await;
                order
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("bg{i}"));
            })));
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        for i in 0..3 {
            let (budget, order) = (budget.clone(), order.clone());
            tasks.push(tokio::spawn(with_priority(Priority::Change, async move {
                budget
                    .take(&scope("123456789012", "us-east-1"), "ecs", "DescribeServices")
                    .await;
                order
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("change{i}"));
            })));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let order = order.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // 10 background callers queued at 20 per second; the 3 changes came 60 ms later, when at
        // most 3 background callers had their token, and are served next.
        let last_change = order
            .iter()
            .rposition(|o| o.starts_with("change"))
            .expect("changes ran");
        assert!(
            last_change <= 6,
            "changes waited behind background callers: {order:?}"
        );
        assert_eq!(order.len(), 13);
    }

    #[tokio::test]
    async fn a_throttle_lowers_the_buckets_rate_and_the_rate_is_exported() {
        let metrics = Metrics::new();
        let budget = Budget::new(BudgetSettings::default(), metrics.clone());
        let a = scope("123456789012", "us-east-1");
        budget.take(&a, "ecs", "UpdateExpressGatewayService").await;
        let gauge = |rate: &str| {
            format!(
                "runway_aws_budget_rate{{account=\"123456789012\",region=\"us-east-1\",\
                 family=\"ecs:service-modify\"}} {rate}"
            )
        };
        assert!(metrics.render().contains(&gauge("2.5")), "{}", metrics.render());
        budget.throttled(&a, "ecs", "CreateExpressGatewayService");
        assert!(metrics.render().contains(&gauge("1.25")), "{}", metrics.render());
        // Another family of the same account keeps its rate.
        budget.throttled(&a, "ecs", "DescribeServices");
        budget.take(&a, "ecs", "ListTagsForResource").await;
        assert!(metrics.render().contains("family=\"ecs:tag-read\"} 10"));
    }

    #[tokio::test]
    async fn the_tokens_left_in_each_bucket_are_read_at_each_scrape() {
        let metrics = Metrics::new();
        let budget = Budget::new(BudgetSettings::default(), metrics.clone());
        assert!(
            !metrics.render().contains("runway_aws_budget_tokens"),
            "no bucket yet"
        );
        let a = scope("123456789012", "us-east-1");
        for _ in 0..5 {
            budget.take(&a, "ecs", "UpdateExpressGatewayService").await;
        }
        let tokens = || {
            let text = metrics.render();
            let line = text
                .lines()
                .find(|l| {
                    l.starts_with("runway_aws_budget_tokens{account=\"123456789012\",region=\"us-east-1\",family=\"ecs:service-modify\"} ")
                })
                .unwrap_or_else(|| panic!("no tokens gauge:\n{text}"))
                .to_string();
            let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
            value.unwrap_or_else(|| panic!("{line}"))
        };
        // Half of ECS's burst of 50, less the 5 taken; it refills at 2.5 per second.
        let left = tokens();
        assert!((20.0..20.5).contains(&left), "{left}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            tokens() >= left + 0.9,
            "refilled between scrapes: {} then {}",
            left,
            tokens()
        );
        drop(budget);
        assert!(
            !metrics.render().contains("runway_aws_budget_tokens"),
            "a dropped budget is not read"
        );
    }
}
