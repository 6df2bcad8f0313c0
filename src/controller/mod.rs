//! Reconcile wiring: the shared [`Context`], the watch trigger, `error_policy`, and [`run`], which
//! checks that the CRDs are installed and then drives one kube-runtime `Controller` per kind.
//!
//! Flow per object: watch event → predicate filter (spec generation, deletion, runway annotations) →
//! `reconcile` in the kind's module (`express`, `apprunner`) → `lifecycle` (finalizer) → plan (pure)
//! → AWS calls → `lifecycle::finish` (status patch by server-side apply) → requeue by the phase.

pub mod accounts;
pub mod apprunner;
pub mod events;
pub mod express;
pub mod identity;
pub mod kind;
pub mod leader;
pub mod lifecycle;
pub mod managed;
pub mod reconcile;
pub mod runner;
pub mod runtime;
pub mod status;
pub mod tags;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::runtime::controller::Action;
use kube::{Api, Client, Resource, ResourceExt};

use crate::api::common::{PAUSED_ANNOTATION, RECONCILE_REQUESTED_ANNOTATION};
use crate::aws::AwsClients;
use crate::metrics::Metrics;
use crate::{Error, Result};
use runtime::admission::Admission;
use runtime::bookkeeping::Bookkeeping;
pub use runtime::bookkeeping::{key, object_key};

/// The field manager for every write runway makes.
pub const FIELD_MANAGER: &str = "runway";

/// Test-only crash injection, set through `RUNWAY_FAILPOINT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failpoint {
    /// Exit the process right after a create call returns, before the status is written.
    ExitAfterCreate,
    /// Exit the process right after tag calls succeed, before their result is written to status.
    ExitAfterTags,
}

impl Failpoint {
    /// Reads `RUNWAY_FAILPOINT`.
    pub fn from_env() -> Option<Self> {
        match std::env::var("RUNWAY_FAILPOINT").ok().as_deref() {
            Some("exit-after-create") => Some(Self::ExitAfterCreate),
            Some("exit-after-tags") => Some(Self::ExitAfterTags),
            _ => None,
        }
    }
}

/// What every reconcile shares.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// AWS clients per identity and Region.
    pub aws: Arc<AwsClients>,
    /// Publishes Events.
    pub recorder: events::Recorder,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// How often a settled resource is checked against AWS for drift.
    pub resync: Duration,
    /// How long an AWS operation may run before runway reports it as looking stuck.
    pub stuck_after: Duration,
    /// Test-only crash injection.
    pub failpoint: Option<Failpoint>,
    /// Admits reconciles of changes and background reconciles, each class in its own pool.
    pub admission: Admission,
    /// Which account each namespace maps to.
    pub accounts: accounts::Accounts,
    /// The cluster identity runway's owner tags carry (`controller::identity`).
    pub cluster: String,
    /// Every per-object map: failure counts, trigger hashes (see [`trigger_hash`]), statuses
    /// written ahead of the cache, failures logged lately and states (`runway_resources`).
    pub books: Bookkeeping,
}

/// How often settled resources are checked, how many reconciles of each class run at once, and
/// the cluster identity.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// How often a settled resource is checked against AWS for drift.
    pub resync: Duration,
    /// Reconciles of each class (changes, background) that run at once.
    pub concurrency: u16,
    /// The cluster identity runway's owner tags carry.
    pub cluster: String,
    /// How long an AWS operation may run before runway reports it as looking stuck.
    pub stuck_after: Duration,
}

impl Context {
    /// Creates the context.
    pub fn new(
        client: Client,
        aws: Arc<AwsClients>,
        metrics: Metrics,
        accounts: accounts::Accounts,
        tuning: Tuning,
    ) -> Arc<Self> {
        let Tuning {
            resync,
            concurrency,
            cluster,
            stuck_after,
        } = tuning;
        Arc::new(Self {
            recorder: events::Recorder::new(client.clone(), std::env::var("POD_NAME").ok()),
            client,
            aws,
            books: Bookkeeping::new(metrics.clone()),
            metrics,
            resync,
            stuck_after,
            failpoint: Failpoint::from_env(),
            admission: Admission::new(concurrency),
            accounts,
            cluster,
        })
    }

    /// Drops every per-object entry of an object that is gone (see [`Bookkeeping::forget`]).
    pub fn forget(&self, key: &str) {
        self.books.forget(key);
    }
}

/// Whether the `runway.dev/paused` annotation stops reconciling this object.
pub fn is_paused<K: Resource>(obj: &K) -> bool {
    obj.annotations()
        .get(PAUSED_ANNOTATION)
        .is_some_and(|v| v == "true")
}

/// The watch predicate: an object is reconciled when its spec generation, deletion state, finalizers
/// or runway's annotations change, not when only its status does. Status writes therefore never
/// trigger a reconcile loop.
pub fn trigger_hash<K: Resource>(obj: &K) -> Option<u64> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    obj.meta().generation.hash(&mut h);
    obj.meta().deletion_timestamp.is_some().hash(&mut h);
    obj.finalizers().hash(&mut h);
    obj.annotations().get(PAUSED_ANNOTATION).hash(&mut h);
    obj.annotations().get(RECONCILE_REQUESTED_ANNOTATION).hash(&mut h);
    Some(h.finish())
}

/// The next drift check of a settled resource: the resync interval plus up to 20 % jitter, so that
/// resources checked together drift apart instead of staying in lockstep. Never earlier than the
/// interval, so a rejection's backoff (counted in resync intervals) has always passed by then.
pub fn jittered_resync(resync: Duration) -> Duration {
    resync.mul_f64(1.0 + rand::random::<f64>() * 0.2)
}

/// Backoff after `attempt` consecutive retryable failures: 5 s doubling to 60 s, with up to 50%
/// random jitter so that many objects do not retry in lockstep.
pub fn retry_backoff(attempt: u32, throttled: bool) -> Duration {
    let base = if throttled { 10u64 } else { 5 };
    let secs = (base << attempt.saturating_sub(1).min(4)).min(60);
    let jitter = rand::random::<f64>() * 0.5 * secs as f64;
    Duration::from_secs_f64(secs as f64 + jitter)
}

/// The requeue after a failed reconcile: capped exponential backoff for every failure, never
/// `await_change()`, because the world outside Kubernetes changes without an event (someone fixes
/// an IAM policy, a quota is raised). Retryable failures start at 5 s (10 s when throttled);
/// others start at 30 s. Both are capped at the resync interval.
pub fn failure_requeue(err: &Error, attempt: u32, resync: Duration) -> Duration {
    let delay = if err.is_retryable() {
        retry_backoff(attempt, err.is_throttling())
    } else {
        retry_backoff(attempt.saturating_add(3), false)
    };
    delay.min(resync)
}

/// The error policy shared by both kinds. Deletions in progress poll every 5 s; every other failure
/// (already written into the resource's conditions by `lifecycle::report_failure`, and counted by the
/// reconcile timer) requeues with [`failure_requeue`].
pub fn error_policy<K>(obj: Arc<K>, err: &Error, ctx: Arc<Context>) -> Action
where
    K: Resource<DynamicType = ()> + Send + Sync + 'static,
{
    let key = object_key(obj.as_ref());
    if err.is_waiting_for_deletion() {
        return Action::requeue(Duration::from_secs(5));
    }
    let attempt = ctx.books.failed(&key);
    let delay = failure_requeue(err, attempt, ctx.resync);
    let aws = err.root().aws();
    // NB: the same failure, whatever request it came from: the request ID changes every time.
    let signature = aws.map_or_else(
        || err.to_string(),
        |f| format!("{}:{}:{}", f.operation, f.code, f.message),
    );
    if ctx
        .books
        .quiet
        .should_log(&key, &signature, std::time::Instant::now())
    {
        tracing::warn!(
            kind = K::kind(&()).as_ref(),
            namespace = obj.namespace().unwrap_or_default(),
            name = obj.name_any(),
            step = err.metric_label(),
            code = aws.map(|f| f.code.as_str()).unwrap_or_default(),
            operation = aws.map(|f| f.operation).unwrap_or_default(),
            request_id = aws.and_then(|f| f.request_id.as_deref()).unwrap_or_default(),
            outcome = %format!("retrying in {} s", delay.as_secs()),
            attempt,
            error = %err,
            "reconcile failed"
        );
    }
    Action::requeue(delay)
}

/// Fails with an install hint unless both CRDs are installed.
pub async fn check_crds(client: &Client) -> Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crate::api::crds() {
        let name = crd.metadata.name.unwrap_or_default();
        match crds.get_opt(&name).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Error::Config(format!(
                    "CRD {name} is not installed; install it with `runway crds | kubectl apply -f -` \
                     or the Helm chart"
                )));
            }
            Err(e) => return Err(Error::kube(format!("checking CRD {name}"), e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::runtime::first_sight::spread_resync;

    #[test]
    fn resyncs_are_jittered_and_first_checks_spread_over_the_interval() {
        let resync = Duration::from_secs(600);
        let mut firsts = Vec::new();
        for _ in 0..1000 {
            let d = jittered_resync(resync);
            assert!(d >= resync && d <= Duration::from_secs(720), "{d:?}");
            let f = spread_resync(resync);
            assert!(f > Duration::ZERO && f <= resync, "{f:?}");
            firsts.push(f.as_secs());
        }
        // Spread over the interval: every tenth of it gets some of the 1,000 first checks.
        for tenth in 0..10 {
            let n = firsts.iter().filter(|s| **s / 60 == tenth).count();
            assert!(n > 30, "tenth {tenth} got {n} of 1000");
        }
    }

    #[test]
    fn retry_backoff_grows_with_jitter_and_is_capped() {
        for attempt in 1..10 {
            let d = retry_backoff(attempt, false).as_secs_f64();
            let base = (5u64 << (attempt - 1).min(4)).min(60) as f64;
            assert!(d >= base && d <= base * 1.5, "attempt {attempt}: {d}");
        }
        assert!(retry_backoff(1, true) >= Duration::from_secs(10));
        assert!(retry_backoff(30, true) <= Duration::from_secs(90));
    }

    #[test]
    fn every_failure_requeues_and_never_later_than_the_resync() {
        let terminal = Error::InvalidSpec("bad".into());
        let resync = Duration::from_secs(20);
        for attempt in 1..20 {
            let d = failure_requeue(&terminal, attempt, resync);
            assert!(
                d <= resync && d >= Duration::from_secs(1),
                "attempt {attempt}: {d:?}"
            );
        }
        assert!(failure_requeue(&terminal, 1, Duration::from_secs(600)) >= Duration::from_secs(40));
        let kube = Error::Io {
            context: "x".into(),
            source: std::io::Error::other("y"),
        };
        assert!(failure_requeue(&kube, 1, Duration::from_secs(600)) <= Duration::from_secs(8));
    }
}
