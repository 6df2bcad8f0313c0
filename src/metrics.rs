//! Prometheus metrics: reconciles by kind and result, reconcile durations, AWS calls by service,
//! operation and outcome, throttles, the AWS budget's waits and rates, the work in flight, the
//! resources the convergence guard stopped, the resources by state and whether this replica leads.
//! `server` renders them in the text format on `/metrics`; `aws` and `controller` record them.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a reconcile.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `ExpressService` or `AppRunnerService`.
    pub kind: String,
    /// `ok` or an error's metric label.
    pub result: String,
}

/// Labels of a reconcile duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// `ExpressService` or `AppRunnerService`.
    pub kind: String,
}

/// Labels of an AWS call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AwsCallLabels {
    /// `ecs` or `apprunner`.
    pub service: String,
    /// The API operation.
    pub operation: String,
    /// `ok` or the error kind label.
    pub outcome: String,
}

/// Labels of a wait for AWS budget.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetLabels {
    /// The action family, such as `ecs:service-read`.
    pub family: String,
    /// `change` or `background`.
    pub priority: String,
}

/// Labels of a budget bucket's rate.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetRateLabels {
    /// The AWS account; empty while the controller's own account is not known yet.
    pub account: String,
    /// The AWS Region.
    pub region: String,
    /// The action family, such as `ecs:service-read`.
    pub family: String,
}

/// Labels of a count of resources.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    /// `ExpressService` or `AppRunnerService`.
    pub kind: String,
    /// `ready`, `progressing` or `stalled`.
    pub state: String,
}

/// All of runway's metrics, registered in one registry.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_duration: Family<KindLabels, Histogram>,
    aws_calls: Family<AwsCallLabels, Counter>,
    aws_throttles: Family<AwsCallLabels, Counter>,
    in_flight: Family<KindLabels, Gauge>,
    queue_depth: Family<KindLabels, Gauge>,
    budget_wait: Family<BudgetLabels, Histogram>,
    budget_rate: Family<BudgetRateLabels, Gauge<f64, AtomicU64>>,
    drift_not_converging: Family<KindLabels, Counter>,
    state: StateGauges,
    budget_tokens: BudgetTokens,
}

/// The gauges of what runway manages and whether it leads: `runway_resources`, `runway_leader`.
#[derive(Clone, Debug, Default)]
struct StateGauges {
    resources: Family<ResourceLabels, Gauge>,
    leader: Gauge,
}

impl StateGauges {
    fn register(registry: &mut Registry) -> Self {
        let gauges = Self::default();
        registry.register(
            "resources",
            "Resources by kind and state (ready, progressing, stalled) as their latest reconcile left \
             them; only the leader counts them",
            gauges.resources.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds its leader Lease (or runs without leader election), else 0",
            gauges.leader.clone(),
        );
        gauges
    }
}

/// Reads the tokens left in each budget bucket, with the bucket's labels.
pub type TokenReader = Box<dyn Fn() -> Vec<(BudgetRateLabels, f64)> + Send + Sync>;

/// `runway_aws_budget_tokens`: the tokens a bucket holds refill continuously, so they are read when
/// Prometheus scrapes, from the reader that `aws::budget` installs.
#[derive(Clone, Default)]
struct BudgetTokens(Arc<std::sync::Mutex<Option<TokenReader>>>);

impl std::fmt::Debug for BudgetTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BudgetTokens")
    }
}

impl Collector for BudgetTokens {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let samples = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|read| read())
            .unwrap_or_default();
        if samples.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(
            "aws_budget_tokens",
            "The tokens left in runway's AWS budget bucket per account, Region and action family, \
             as the bucket refills at its rate up to its burst",
            None,
            ConstGauge::new(0.0).metric_type(),
        )?;
        for (labels, tokens) in samples {
            ConstGauge::new(tokens).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("runway");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register("reconciles", "Reconciles by kind and result", reconciles.clone());
        let reconcile_duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconcile, by kind",
            reconcile_duration.clone(),
        );
        let aws_calls = Family::<AwsCallLabels, Counter>::default();
        registry.register(
            "aws_calls",
            "AWS API calls by service, operation and outcome",
            aws_calls.clone(),
        );
        let aws_throttles = Family::<AwsCallLabels, Counter>::default();
        registry.register(
            "aws_throttles",
            "AWS API calls that were throttled",
            aws_throttles.clone(),
        );
        let in_flight = Family::<KindLabels, Gauge>::default();
        registry.register(
            "reconciles_in_flight",
            "Reconciles running now, by kind",
            in_flight.clone(),
        );
        let queue_depth = Family::<KindLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Objects waiting for a reconcile (requeued or scheduled), by kind",
            queue_depth.clone(),
        );
        let budget_wait = Family::<BudgetLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 4.0, 10))
        });
        registry.register(
            "aws_budget_wait_seconds",
            "Time an AWS call waited for runway's own budget, by action family and priority",
            budget_wait.clone(),
        );
        let budget_rate = Family::<BudgetRateLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "aws_budget_rate",
            "The request rate (per second) runway allows itself per AWS account, Region and action \
             family; below the configured rate while AWS throttles",
            budget_rate.clone(),
        );
        let drift_not_converging = Family::<KindLabels, Counter>::default();
        registry.register(
            "drift_not_converging",
            "Resources that newly stalled with DriftNotConverging: AWS kept reporting a field \
             differently after runway's update and its drift corrections, so runway stopped sending it",
            drift_not_converging.clone(),
        );
        let state = StateGauges::register(&mut registry);
        let budget_tokens = BudgetTokens::default();
        registry.register_collector(Box::new(budget_tokens.clone()));
        Self {
            registry: Arc::new(registry),
            reconciles,
            reconcile_duration,
            aws_calls,
            aws_throttles,
            in_flight,
            queue_depth,
            budget_wait,
            budget_rate,
            drift_not_converging,
            state,
            budget_tokens,
        }
    }

    /// Counts a resource of `kind` that newly stalled with `DriftNotConverging`.
    pub fn drift_not_converging(&self, kind: &str) {
        self.drift_not_converging
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }

    /// Installs what `runway_aws_budget_tokens` reads at each scrape (the last one installed wins).
    pub fn read_budget_tokens(&self, reader: TokenReader) {
        *self.budget_tokens.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(reader);
    }

    /// Records how many resources of `kind` are in `state` (`ready`, `progressing`, `stalled`).
    pub fn set_resources(&self, kind: &str, state: &str, count: i64) {
        self.state
            .resources
            .get_or_create(&ResourceLabels {
                kind: kind.into(),
                state: state.into(),
            })
            .set(count);
    }

    /// Records whether this replica leads: holds its Lease, or runs without leader election.
    pub fn set_leader(&self, leading: bool) {
        self.state.leader.set(i64::from(leading));
    }

    /// Records the effective request rate of one budget bucket.
    pub fn budget_rate(&self, account: &str, region: &str, family: &str, per_second: f64) {
        self.budget_rate
            .get_or_create(&BudgetRateLabels {
                account: account.into(),
                region: region.into(),
                family: family.into(),
            })
            .set(per_second);
    }

    /// Records how long one AWS call waited for a budget token.
    pub fn budget_wait(&self, family: &str, priority: &str, seconds: f64) {
        self.budget_wait
            .get_or_create(&BudgetLabels {
                family: family.into(),
                priority: priority.into(),
            })
            .observe(seconds);
    }

    /// Starts timing a reconcile of `kind`; finish it with [`ReconcileTimer::finish`].
    pub fn reconcile_started(&self, kind: &str) -> ReconcileTimer {
        self.in_flight
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
        ReconcileTimer {
            metrics: self.clone(),
            kind: kind.to_string(),
            start: Instant::now(),
        }
    }

    /// Counts one AWS call and its outcome (`ok` or an error kind label).
    pub fn aws_call(&self, service: &str, operation: &str, outcome: &str) {
        let labels = AwsCallLabels {
            service: service.into(),
            operation: operation.into(),
            outcome: outcome.into(),
        };
        self.aws_calls.get_or_create(&labels).inc();
        if outcome == "throttled" {
            self.aws_throttles.get_or_create(&labels).inc();
        }
    }

    /// Records how many objects of `kind` wait for their next reconcile.
    pub fn set_queue_depth(&self, kind: &str, depth: i64) {
        self.queue_depth
            .get_or_create(&KindLabels { kind: kind.into() })
            .set(depth);
    }

    /// Renders the registry in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Times one reconcile; see [`Metrics::reconcile_started`].
pub struct ReconcileTimer {
    metrics: Metrics,
    kind: String,
    start: Instant,
}

impl ReconcileTimer {
    /// Records the duration and the result (`ok` or an error label).
    pub fn finish(self, result: &str) {
        let kind = KindLabels {
            kind: self.kind.clone(),
        };
        self.metrics
            .reconcile_duration
            .get_or_create(&kind)
            .observe(self.start.elapsed().as_secs_f64());
        self.metrics.in_flight.get_or_create(&kind).dec();
        self.metrics
            .reconciles
            .get_or_create(&ReconcileLabels {
                kind: self.kind,
                result: result.into(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_calls_and_reconciles_render_with_labels() {
        let m = Metrics::new();
        m.aws_call("ecs", "UpdateExpressGatewayService", "ok");
        m.aws_call("ecs", "DescribeExpressGatewayService", "throttled");
        m.reconcile_started("ExpressService").finish("ok");
        m.drift_not_converging("AppRunnerService");
        let text = m.render();
        assert!(text.contains(
            r#"runway_aws_calls_total{service="ecs",operation="UpdateExpressGatewayService",outcome="ok"} 1"#
        ));
        assert!(text.contains(r#"runway_aws_throttles_total{service="ecs",operation="DescribeExpressGatewayService",outcome="throttled"} 1"#));
        assert!(text.contains(r#"runway_reconciles_total{kind="ExpressService",result="ok"} 1"#));
        assert!(text.contains("runway_reconcile_duration_seconds_bucket"));
        assert!(text.contains(r#"runway_reconciles_in_flight{kind="ExpressService"} 0"#));
        assert!(text.contains(r#"runway_drift_not_converging_total{kind="AppRunnerService"} 1"#));
    }
}
