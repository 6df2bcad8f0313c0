//! `runway run`: connects to Kubernetes, checks the CRDs, serves metrics and health, and drives one
//! kube-runtime `Controller` per kind until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::runtime::controller::{self, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::kind::ServiceKind;
use super::leader::{Leadership, LeaseSettings};
use super::managed::Managed;
use super::reconcile::reconcile;
use super::runtime::admission::runner_concurrency;
use super::runtime::bookkeeping::{WatchSweep, gone_after_reconcile};
use super::runtime::cache::{Compact, compact_event};
use super::runtime::queue::QueueDepth;
use super::{Context, Tuning, accounts, check_crds, error_policy, identity, trigger_hash};
use crate::api::apprunner::AppRunnerService;
use crate::api::express::ExpressService;
use crate::aws::{AwsClients, AwsSettings, SessionSettings};
use crate::metrics::Metrics;
use crate::server::{self, Readiness};
use crate::{Error, Result};

/// Settings of a controller run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// AWS Region and endpoint.
    pub aws: AwsSettings,
    /// How often settled resources are checked for drift.
    pub resync: Duration,
    /// How long an AWS operation may run before runway reports it as looking stuck.
    pub stuck_after: Duration,
    /// Reconciles running at once per class (changes, background), both kinds together.
    pub concurrency: u16,
    /// Watch only this namespace (all namespaces when `None`).
    pub namespace: Option<String>,
    /// Reconcile only resources whose labels match this selector (one shard).
    pub watch_selector: Option<String>,
    /// Fetch the initial list as a streaming list (watch with sendInitialEvents) instead of a
    /// paginated LIST.
    pub streaming_list: bool,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_addr: SocketAddr,
    /// Elect a leader on this Lease before reconciling; `None` runs unconditionally.
    pub leader_election: Option<LeaseSettings>,
    /// The accounts runway may act in (a namespace's role's, or its own), and whether every
    /// namespace must name a role.
    pub tenancy: crate::plan::account::Tenancy,
    /// The cluster identity for owner tags; `None` takes the `kube-system` Namespace's UID.
    pub cluster_id: Option<String>,
    /// How the sessions of assumed roles are named and tagged (the cluster's name).
    pub sessions: SessionSettings,
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The watch settings: the shard's label selector and the initial-list strategy. A paginated list
/// fetches 100 objects a page, so that the list never holds more than that in flight.
pub fn watch_config(selector: Option<&str>, streaming_list: bool) -> watcher::Config {
    let mut config = watcher::Config::default().page_size(100);
    if let Some(selector) = selector {
        config = config.labels(selector);
    }
    if streaming_list {
        config = config.streaming_lists();
    }
    config
}

/// Builds a controller for `K` whose trigger skips status-only changes. It caches objects in
/// [`Compact`] form. `Context::admit` bounds the work, by class, inside the reconcile, so that a
/// queue of resyncs never keeps a change from starting; the runner's own limit is the room of both
/// classes (see [`super::Pool`]). An object the watch reports deleted, or out of the shard's
/// selector, is forgotten in `ctx` at once; one a re-list no longer shows, when the list ends.
fn controller_for<K>(
    api: Api<K>,
    config: watcher::Config,
    concurrency: u16,
    ctx: Arc<Context>,
) -> (Controller<Compact<K>>, reflector::Store<Compact<K>>)
where
    K: Resource<DynamicType = ()>
        + Managed
        + Clone
        + Serialize
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let mut sweep = WatchSweep::new(&K::kind(&()));
    let trigger = watcher(api, config)
        .map_ok(compact_event)
        .inspect_ok(move |event| {
            for key in sweep.gone(event, || ctx.books.keys()) {
                ctx.forget(&key);
            }
        })
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(trigger_hash, Default::default());
    let controller = Controller::for_stream(trigger, reader.clone())
        .with_config(controller::Config::default().concurrency(runner_concurrency(concurrency)))
        .shutdown_on_signal();
    (controller, reader)
}

/// Waits until a store has its initial list.
// NB: kube-runtime's `wait_until_ready` keeps only the last waiter's waker, and the Controller waits on
// the same store, so a second waiter can sleep forever; polling again every 250 ms avoids that.
async fn store_synced<K>(
    store: &reflector::Store<K>,
) -> std::result::Result<(), reflector::store::WriterDropped>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    loop {
        if let Ok(result) = tokio::time::timeout(Duration::from_millis(250), store.wait_until_ready()).await {
            return result;
        }
    }
}

/// Where the controllers watch: the client, the namespace (all when `None`), the watch settings,
/// and the concurrency of each class.
struct Scope<'a> {
    client: &'a Client,
    namespace: Option<&'a str>,
    watch: &'a watcher::Config,
    concurrency: u16,
}

/// The controller of kind `K`, as a future that runs it until shutdown, with its store.
fn drive<K: ServiceKind>(
    scope: &Scope<'_>,
    ctx: &Arc<Context>,
) -> (
    impl std::future::Future<Output = ()> + use<K>,
    reflector::Store<Compact<K>>,
) {
    let api = api(scope.client, scope.namespace);
    let (controller, store) = controller_for(api, scope.watch.clone(), scope.concurrency, Arc::clone(ctx));
    let queue = QueueDepth::new(K::KIND, ctx.metrics.clone());
    ctx.books.states.start(K::KIND);
    let context = Arc::clone(ctx);
    let run = controller
        .run(reconcile::<K>, error_policy, Arc::clone(ctx))
        .for_each(move |res| {
            // NB: an object that left the watch (deleted without runway, moved to another shard)
            // shows up here at its next scheduled reconcile, and is forgotten.
            if let Some(key) = gone_after_reconcile(K::KIND, &res) {
                context.forget(&key);
            }
            queue.observe(res);
            futures::future::ready(())
        });
    (run, store)
}

/// Waits for the Lease when leader election is on. A standby replica is healthy and ready
/// meanwhile; once it leads, it is ready only when its caches have synced. `runway_leader` is 1
/// from then on, and at once without leader election.
async fn lead(
    client: &Client,
    settings: Option<&LeaseSettings>,
    readiness: &Readiness,
    metrics: &Metrics,
) -> Result<Option<Leadership>> {
    let Some(settings) = settings else {
        metrics.set_leader(true);
        return Ok(None);
    };
    metrics.set_leader(false);
    readiness.set_ready();
    let held = Leadership::acquire(client.clone(), settings).await?;
    readiness.set_not_ready();
    metrics.set_leader(true);
    Ok(Some(held))
}

/// The Namespace watch that maps namespaces to accounts, once its cache has synced.
async fn watch_accounts(
    client: &Client,
    aws: &Arc<AwsClients>,
    namespace: Option<&str>,
    tenancy: crate::plan::account::Tenancy,
) -> Result<accounts::Accounts> {
    let namespaces = accounts::watch_namespaces(client, namespace);
    if store_synced(&namespaces).await.is_err() {
        return Err(Error::Config(
            "the namespace watch stopped before its cache synced".into(),
        ));
    }
    Ok(accounts::Accounts {
        namespaces,
        tenancy,
        client: client.clone(),
        aws: Arc::clone(aws),
    })
}

/// Marks the controller ready once every kind's cache has synced.
async fn ready_when_synced(
    xsvc: reflector::Store<Compact<ExpressService>>,
    arsvc: reflector::Store<Compact<AppRunnerService>>,
    readiness: Readiness,
) {
    let x = store_synced(&xsvc).await;
    let a = store_synced(&arsvc).await;
    if x.is_ok() && a.is_ok() {
        tracing::info!("caches synced; ready");
        readiness.set_ready();
    } else {
        tracing::warn!("a watch stopped before its cache synced");
    }
}

/// Runs the controllers until shutdown.
pub async fn run(config: RunConfig) -> Result<()> {
    let RunConfig {
        aws,
        resync,
        stuck_after,
        concurrency,
        namespace,
        watch_selector,
        streaming_list,
        metrics_addr,
        leader_election,
        tenancy,
        cluster_id,
        sessions,
    } = config;
    let watch = watch_config(watch_selector.as_deref(), streaming_list);
    let client = Client::try_default()
        .await
        .map_err(|e| Error::kube("connecting to Kubernetes", e))?;
    check_crds(&client).await?;
    let cluster = identity::cluster_id(&client, cluster_id).await?;
    tracing::info!(%cluster, "cluster identity for owner tags");
    let metrics = Metrics::new();
    let readiness = Readiness::default();
    let bound = server::serve(metrics_addr, metrics.clone(), readiness.clone()).await?;
    tracing::info!(%bound, "serving /metrics, /healthz and /readyz");

    // A standby replica is healthy and ready; it only waits for the Lease.
    let mut leadership = lead(&client, leader_election.as_ref(), &readiness, &metrics).await?;

    let aws = AwsClients::with_sessions(aws, sessions, metrics.clone());
    let accounts = watch_accounts(&client, &aws, namespace.as_deref(), tenancy).await?;
    let ctx = Context::new(
        client.clone(),
        aws,
        metrics,
        accounts,
        Tuning {
            resync,
            concurrency,
            cluster,
            stuck_after,
        },
    );

    let scope = Scope {
        client: &client,
        namespace: namespace.as_deref(),
        watch: &watch,
        concurrency,
    };
    let (express, xsvc_store) = drive::<ExpressService>(&scope, &ctx);
    let (app_runner, arsvc_store) = drive::<AppRunnerService>(&scope, &ctx);
    tokio::spawn(ready_when_synced(xsvc_store, arsvc_store, readiness.clone()));
    let controllers = async {
        tokio::join!(express, app_runner);
    };
    match leadership.as_mut() {
        Some(held) => {
            tokio::select! {
                _ = controllers => {}
                _ = held.lost() => {
                    ctx.metrics.set_leader(false);
                    return Err(Error::Leader("lost the lease; stopping so that only the leader acts".into()));
                }
            }
        }
        None => controllers.await,
    }
    if let Some(held) = leadership {
        ctx.metrics.set_leader(false);
        held.release().await;
    }
    tracing::info!("controllers stopped");
    Ok(())
}
