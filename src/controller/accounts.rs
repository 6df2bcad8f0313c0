//! Which AWS account each resource's calls go to: a metadata-only watch of Namespaces keeps their
//! `runway.dev/aws-role-arn` and `runway.dev/aws-external-id` annotations at hand, and [`resolve`]
//! gathers them, the controller's [`Tenancy`] and (when it matters) its own account from STS, lets
//! the pure `plan::account::decide` choose, and turns the choice into the SDK clients of that
//! identity, or into the Stalled phase that says why runway does not act.

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PartialObjectMeta};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource};

use super::managed::Managed;
use crate::aws::{AwsClients, RegionClients};
use crate::plan::Phase;
use crate::plan::account::{self, Decision, Tenancy};
use crate::{Error, Result};

/// The Namespaces' annotations, and the controller's rules for mapping them to accounts.
pub struct Accounts {
    /// Namespaces, metadata only.
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
    /// The accounts runway may act in, and whether every namespace must name a role.
    pub tenancy: Tenancy,
    /// The client that reads a Namespace afresh.
    pub client: Client,
    /// The SDK clients per identity.
    pub aws: std::sync::Arc<AwsClients>,
}

/// Starts the Namespace watch (only `namespace` when the controller watches one) and returns its
/// store; the task runs until the process ends. Callers wait for the store to sync before
/// reconciling, so that no resource is handled with a namespace's mapping still unknown.
pub fn watch_namespaces(client: &Client, namespace: Option<&str>) -> Store<PartialObjectMeta<Namespace>> {
    // NB: an Api of PartialObjectMeta makes metadata-only requests: no spec or status is kept.
    let api: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    let mut config = watcher::Config::default();
    if let Some(ns) = namespace {
        // NB: RBAC then needs the namespace by name only (resourceNames), for list and watch too.
        config = config.fields(&format!("metadata.name={ns}"));
    }
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    tokio::spawn(async move {
        stream
            .for_each(|event| {
                if let Err(err) = event {
                    tracing::warn!(%err, "namespace watch error; retrying");
                }
                futures::future::ready(())
            })
            .await;
    });
    reader
}

/// The annotations of `namespace`: from the watch, or, when `fresh` is asked for (before a
/// resource's first create, which is the one call that cannot be taken back) or the watch does
/// not know it yet, from a GET.
async fn annotations(accounts: &Accounts, namespace: &str, fresh: bool) -> Result<BTreeMap<String, String>> {
    if !fresh && let Some(ns) = accounts.namespaces.get(&ObjectRef::new(namespace)) {
        return Ok(ns.metadata.annotations.clone().unwrap_or_default());
    }
    read_annotations(&accounts.client, namespace).await
}

/// The annotations of `namespace`, read now (metadata only); none when it does not exist.
pub async fn read_annotations(client: &Client, namespace: &str) -> Result<BTreeMap<String, String>> {
    let api: Api<PartialObjectMeta<Namespace>> = Api::all(client.clone());
    let ns = api
        .get_opt(namespace)
        .await
        .map_err(|e| Error::kube(format!("reading namespace {namespace}'s account annotations"), e))?;
    Ok(ns.and_then(|n| n.metadata.annotations).unwrap_or_default())
}

/// The SDK clients for `obj` in `region`: those of the role its namespace names, else the
/// controller's own. Returns the Stalled phase instead when the namespace's annotations are
/// invalid, the namespace's account (its role's, or the controller's own) is outside the
/// allow-list or cannot be learned while one is set, a role is required and the namespace names
/// none, or the service the resource already manages lives in another account than the namespace
/// maps to: runway then calls nothing.
pub async fn resolve<K>(
    accounts: &Accounts,
    obj: &K,
    region: &str,
) -> Result<std::result::Result<RegionClients, Phase>>
where
    K: Resource + Managed,
{
    let namespace = obj.meta().namespace.as_deref().unwrap_or_default();
    let service_arn = obj.managed_arn();
    // NB: boxed, like the calls below: every reconcile future would otherwise carry the state of
    // a Namespace GET, an STS call and an SDK config load inline, although each runs rarely, and
    // the runner holds up to 4 x slots of those futures at once.
    let annotations = Box::pin(annotations(accounts, namespace, service_arn.is_none())).await?;
    resolve_with(
        &accounts.aws,
        &accounts.tenancy,
        Tenant {
            namespace,
            annotations: &annotations,
        },
        region,
        service_arn,
    )
    .await
}

/// A namespace and its annotations, which map it to an account.
pub struct Tenant<'a> {
    /// The namespace's name.
    pub namespace: &'a str,
    /// Its annotations (`runway.dev/aws-role-arn`, `runway.dev/aws-external-id`).
    pub annotations: &'a BTreeMap<String, String>,
}

/// [`resolve`] with the namespace's annotations at hand (`runway diff` reads them itself).
pub async fn resolve_with(
    aws: &AwsClients,
    tenancy: &Tenancy,
    tenant: Tenant<'_>,
    region: &str,
    service_arn: Option<&str>,
) -> Result<std::result::Result<RegionClients, Phase>> {
    let Tenant {
        namespace,
        annotations,
    } = tenant;
    // NB: STS is asked only for a namespace that may use the own identity; its answer (or its
    // failure) is kept by `AwsClients`, so a refusal for an unknown account retried at every resync
    // sends no call in a loop.
    let own = if account::needs_own_account(annotations, tenancy) {
        Box::pin(aws.own_account()).await
    } else {
        None
    };
    let (role, expected) = match account::decide(namespace, annotations, tenancy, own.as_deref()) {
        Decision::Refused { reason, message } => return Ok(Err(Phase::Stalled { reason, message })),
        // NB: without an allow-list, when the own account cannot be learned (no STS endpoint),
        // only namespaces with a role get the account check; the calls themselves still fail on
        // another account's ARN.
        Decision::Own { account } => (None, account),
        Decision::Role { role, account } => (Some(role), Some(account)),
    };
    if let Some(message) = expected
        .as_deref()
        .and_then(|expected| account::mismatch(service_arn, expected, namespace))
    {
        return Ok(Err(Phase::Stalled {
            reason: "AccountMismatch",
            message,
        }));
    }
    Ok(Ok(Box::pin(aws.clients(role.as_ref(), region)).await))
}
