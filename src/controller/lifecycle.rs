//! The reconcile skeleton that both kinds share, written once:
//!
//! - [`reconcile_with_finalizer`]: first sight of a [`settled`] resource (its check is spread over
//!   the resync interval) → priority (change or background) and admission → metrics timer → the
//!   cached object decoded → `runway.dev/paused` short-circuit → finalizer, which calls the kind's
//!   `apply` or `cleanup`;
//! - [`report_failure`]: any reconcile that fails leaves a truthful condition (Ready False, then
//!   Reconciling or Stalled with AWS's code and message) before `error_policy` requeues it;
//! - [`finish`]: the common status fields, kstatus conditions, a Warning Event when the resource
//!   becomes Stalled, the server-side-apply status write, the state that `runway_resources` counts,
//!   and the requeue that the phase implies;
//! - [`deletion_policy`]: the first decision of every cleanup.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::kind::ServiceKind;
use super::managed::{Managed, ManagedStatus};
use super::runtime::admission::{Admitted, deferred_requeue};
use super::runtime::cache::Compact;
use super::runtime::first_sight::spread_resync;
use super::runtime::states::State;
use super::{Context, events, is_paused, jittered_resync, object_key, status::apply_status, trigger_hash};
use crate::api::common::condition_types::RECONCILING;
use crate::api::common::{DeletionPolicy, FINALIZER, RECONCILE_REQUESTED_ANNOTATION};
use crate::aws::budget::{Priority, with_priority};
use crate::error::AwsErrorKind;
use crate::plan::conditions::{conditions, progressing_since};
use crate::plan::{OPERATION_STUCK, Phase, Refusal, poll_interval};
use crate::{Error, Result};

/// How long AWS may refuse a role that IAM is still propagating before the resource reports
/// Stalled instead of Reconciling; it is still retried with backoff afterwards.
pub const IAM_PROPAGATION_STALL_AFTER: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs one reconcile of `obj`: times it, honours the paused annotation, and calls `apply` or
/// `cleanup` through the finalizer.
pub async fn reconcile_with_finalizer<K, A, AF, C, CF>(
    kind: &'static str,
    cached: Arc<Compact<K>>,
    ctx: Arc<Context>,
    apply: A,
    cleanup: C,
) -> Result<Action>
where
    K: ServiceKind,
    A: FnOnce(Arc<K>, Arc<Context>) -> AF,
    AF: Future<Output = Result<Action>>,
    C: FnOnce(Arc<K>, Arc<Context>) -> CF,
    CF: Future<Output = Result<Action>>,
{
    let key = object_key(cached.as_ref());
    let hash = trigger_hash(cached.as_ref());
    let deleting = cached.meta().deletion_timestamp.is_some();
    let (priority, _admitted) = match admit(kind, cached.as_ref(), &ctx, &key).await {
        Ok(admitted) => admitted,
        Err(later) => return Ok(later),
    };
    let timer = ctx.metrics.reconcile_started(kind);
    // NB: boxed, so that a reconcile that waits for its slot is a small future and not the size of
    // the whole AWS and Kubernetes call tree: after a mass apply, each class's room waits at once.
    let result = Box::pin(async {
        // NB: decoded only now, so that only the admitted reconciles hold a whole object.
        let mut obj: K = cached.decode()?;
        // NB: read your writes: a watch that lags behind runway's own status write must not make
        // it plan (and send an update) again from the older status.
        let version = obj.meta().resource_version.clone();
        let fresher = ctx
            .books
            .written
            .fresher(&key, version.as_deref(), obj.managed_status().cloned());
        obj.set_managed_status(fresher);
        let obj = Arc::new(obj);
        drop(cached);
        if is_paused(obj.as_ref()) {
            tracing::info!(kind, object = %key, "paused by annotation; nothing sent to AWS");
            ctx.books.states.forget(&key);
            Ok(Action::await_change())
        } else {
            let api: Api<K> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
            let for_event = ctx.clone();
            let for_report = obj.clone();
            let result = with_priority(
                priority,
                finalizer(&api, FINALIZER, obj, |event| async move {
                    match event {
                        Finalizer::Apply(o) => apply(o, for_event).await,
                        Finalizer::Cleanup(o) => cleanup(o, for_event).await,
                    }
                }),
            )
            .await
            .map_err(|e| Error::Finalizer(Box::new(e)));
            if let Err(err) = &result
                && !err.is_waiting_for_deletion()
            {
                report_failure(for_report.as_ref(), &ctx, err).await;
            }
            result
        }
    })
    .await;
    remember(&ctx, &key, (hash, deleting), &result);
    timer.finish(result.as_ref().map_or_else(Error::metric_label, |_| "ok"));
    result
}

/// What a reconcile's result means for its object's bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aftermath {
    /// A reconcile of an object being deleted succeeded: the finalizer is released and the object
    /// goes (or it is paused, and nothing it kept is needed when it is unpaused). Every entry goes.
    Gone,
    /// A success: the failure count and the quiet log go, the trigger hash is recorded.
    Succeeded(Option<u64>),
    /// A failure that retrying soon cannot fix: the trigger hash is recorded, so that the
    /// resource's retries are background work and failing resources never crowd out other changes.
    Settled(Option<u64>),
    /// A failure retried soon, or a deletion still under way: nothing changes.
    Unchanged,
}

/// Decides what a reconcile of an object (with its trigger hash, being deleted or not) leaves in
/// its bookkeeping.
fn aftermath((hash, deleting): (Option<u64>, bool), result: &Result<Action>) -> Aftermath {
    match result {
        Ok(_) if deleting => Aftermath::Gone,
        Ok(_) => Aftermath::Succeeded(hash),
        Err(e) if !e.is_retryable() && !deleting => Aftermath::Settled(hash),
        Err(_) => Aftermath::Unchanged,
    }
}

/// Remembers what a reconcile of `key` came to (see [`aftermath`]).
fn remember(ctx: &Context, key: &str, seen: (Option<u64>, bool), result: &Result<Action>) {
    match aftermath(seen, result) {
        Aftermath::Gone => ctx.forget(key),
        Aftermath::Succeeded(hash) => {
            ctx.books.succeeded(key);
            ctx.books.quiet.forget(key);
            ctx.books.seen.record(key, hash);
        }
        Aftermath::Settled(hash) => ctx.books.seen.record(key, hash),
        Aftermath::Unchanged => {}
    }
}

/// Remembers a status write (read your writes) when one was made.
fn record_write<K: Resource<DynamicType = ()>, S: Serialize>(
    ctx: &Context,
    obj: &K,
    version: Option<String>,
    status: &S,
) {
    if version.is_some() {
        ctx.books
            .written
            .record(&object_key(obj), version.as_deref(), status);
    }
}

/// Sorts a reconcile before it runs: a resource that was settled before this process started is
/// first checked at a random point of the resync interval; a changed or deleted one is a change,
/// anything else background work, and it waits for a slot of its class. `Err` holds the requeue
/// when it does not run now.
async fn admit<'a, K>(
    kind: &str,
    cached: &Compact<K>,
    ctx: &'a Context,
    key: &str,
) -> std::result::Result<(Priority, Admitted<'a>), Action>
where
    K: Resource<DynamicType = ()> + Managed + DeserializeOwned,
{
    let hash = trigger_hash(cached);
    let seen = ctx.books.seen.hash(key);
    if seen.is_none() && !is_paused(cached) && cached.is_settled() {
        // NB: first sight of a resource that was settled before this process started: its first
        // drift check goes to a random point of the resync interval instead of now.
        ctx.books.seen.record(key, hash);
        ctx.books.states.record(key, kind, State::Ready);
        return Err(Action::requeue(spread_resync(ctx.resync)));
    }
    let priority = class(cached.meta().deletion_timestamp.is_some(), seen, hash);
    match ctx
        .admission
        .admit(priority, cached.meta().namespace.as_deref().unwrap_or_default())
        .await
    {
        Some(admitted) => Ok((priority, admitted)),
        None => {
            tracing::debug!(kind, object = %key, ?priority, "deferred: this class's reconciles are all in flight");
            Err(Action::requeue(deferred_requeue()))
        }
    }
}

/// The class of a reconcile: a change when the object is being deleted or its trigger hash differs
/// from the one recorded at its last success or lasting failure (see [`aftermath`]); background
/// work otherwise, so that a resource that keeps failing for good retries as background work
/// until its spec changes, and never crowds out other resources' changes.
fn class(deleting: bool, seen: Option<u64>, hash: Option<u64>) -> Priority {
    if deleting || seen != hash {
        Priority::Change
    } else {
        Priority::Background
    }
}

/// Which AWS service a resource manages, as `resolve` finds it.
pub enum Resolved {
    /// The ARN of the service to manage, or `None` when there is none yet.
    Arn(Option<String>),
    /// The service the resource names is not this resource's to manage.
    Conflict(Refusal),
}

/// The phase that a failed reconcile leaves: retryable failures are Reconciling (IAM propagation
/// turns Stalled once it has lasted [`IAM_PROPAGATION_STALL_AFTER`]), anything else Stalled. Both
/// carry AWS's code and message; `error_policy` retries both with backoff.
pub fn failure_phase(err: &Error, reconciling_for: Option<std::time::Duration>) -> Phase {
    if let Error::Refused { reason, message } = err.root() {
        return Phase::Stalled {
            reason,
            message: message.clone(),
        };
    }
    let message = err.to_string();
    let kind = err.aws_kind();
    let reason = match kind {
        Some(AwsErrorKind::Throttling) => "AwsThrottled",
        Some(AwsErrorKind::Transient) => "AwsUnavailable",
        Some(AwsErrorKind::InvalidState) => "AwsBusy",
        Some(AwsErrorKind::IamPropagation) => "IamPropagation",
        Some(AwsErrorKind::NotFound) => "AwsNotFound",
        Some(AwsErrorKind::Terminal) => "AwsCallFailed",
        None if matches!(err.root(), Error::Kube { .. }) => "KubernetesError",
        None => "ReconcileFailed",
    };
    let propagating_too_long = kind == Some(AwsErrorKind::IamPropagation)
        && reconciling_for.is_some_and(|d| d >= IAM_PROPAGATION_STALL_AFTER);
    if propagating_too_long {
        return Phase::Stalled {
            reason: "AccessDenied",
            message: format!(
                "AWS has refused the role for over {} s, longer than IAM propagation takes; check the \
                 role's trust policy and iam:PassRole. runway keeps retrying. {message}",
                IAM_PROPAGATION_STALL_AFTER.as_secs()
            ),
        };
    }
    if err.is_retryable() {
        Phase::Progressing { reason, message }
    } else {
        Phase::Stalled { reason, message }
    }
}

/// Writes the conditions of a failed reconcile onto the last written status, and a Warning Event
/// when the resource newly stalls. A failure to write is logged: `error_policy` retries anyway.
pub async fn report_failure<K>(obj: &K, ctx: &Context, err: &Error)
where
    K: ServiceKind,
{
    let previous = obj.managed_status();
    let mut status = previous.cloned().unwrap_or_default();
    let generation = obj.meta().generation.unwrap_or_default();
    let now = Timestamp::now();
    let before = status.common().conditions.clone();
    let reconciling_for = progressing_since(&before).map(|t| now.duration_since(t).unsigned_abs());
    let phase = failure_phase(err, reconciling_for);
    ctx.books
        .states
        .record(&object_key(obj), &K::kind(&()), State::of(&phase));
    let common = status.common_mut();
    common.conditions = conditions(&phase, generation, &before, now);
    announce_stall(obj, ctx, &phase, &before).await;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    match apply_status(&api, &obj.name_any(), previous, &status).await {
        Ok(version) => record_write(ctx, obj, version, &status),
        Err(e) => {
            tracing::warn!(object = %object_key(obj), error = %e, "could not report the failure in status")
        }
    }
}

/// Publishes a Warning Event when `phase` newly stalls the resource: not Stalled for the same
/// reason in the `before` conditions.
async fn announce_stall<K>(obj: &K, ctx: &Context, phase: &Phase, before: &[Condition])
where
    K: Resource<DynamicType = ()>,
{
    let Phase::Stalled { reason, message } = phase else {
        return;
    };
    let already = before
        .iter()
        .any(|c| c.type_ == "Stalled" && c.status == "True" && c.reason == *reason);
    if !already {
        tracing::warn!(
            kind = K::kind(&()).as_ref(),
            namespace = obj.namespace().unwrap_or_default(),
            name = obj.name_any(),
            step = *reason,
            outcome = "Stalled; retried at the resync interval",
            detail = %message,
            "resource stalled"
        );
        let note = events::Note::new(true, reason, "Reconcile", message.clone());
        events::publish(&ctx.recorder, obj, note).await;
    }
}

/// Publishes a Warning Event and logs once when `phase` newly reports an AWS operation that looks
/// stuck ([`OPERATION_STUCK`]): the resource stays Reconciling, so no Stalled Event tells anyone.
async fn announce_stuck<K>(obj: &K, ctx: &Context, phase: &Phase, before: &[Condition])
where
    K: Resource<DynamicType = ()>,
{
    let Phase::Progressing {
        reason: OPERATION_STUCK,
        message,
    } = phase
    else {
        return;
    };
    let already = before
        .iter()
        .any(|c| c.type_ == RECONCILING && c.status == "True" && c.reason == OPERATION_STUCK);
    if !already {
        tracing::warn!(
            kind = K::kind(&()).as_ref(),
            namespace = obj.namespace().unwrap_or_default(),
            name = obj.name_any(),
            step = OPERATION_STUCK,
            outcome = "Reconciling; nothing is sent while AWS reports the operation running",
            detail = %message,
            "AWS operation looks stuck"
        );
        let note = events::Note::new(true, OPERATION_STUCK, "Reconcile", message.clone());
        events::publish(&ctx.recorder, obj, note).await;
    }
}

/// Completes a reconcile: fills the common status fields, computes the conditions for `phase`,
/// publishes a Warning Event when the resource newly stalls, writes the status (only if it
/// changed), and says when to look again: soon while progressing, at the resync interval otherwise.
pub async fn finish<K, S>(
    obj: &K,
    ctx: &Context,
    previous: Option<&S>,
    mut status: S,
    phase: Phase,
) -> Result<Action>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    S: ManagedStatus,
{
    let generation = obj.meta().generation.unwrap_or_default();
    let now = Timestamp::now();
    let before = previous
        .map(|p| p.common().conditions.clone())
        .unwrap_or_default();
    let requested_at = obj.annotations().get(RECONCILE_REQUESTED_ANNOTATION).cloned();
    let rejected_now = status.common().last_failed_at.is_some()
        && previous.map(|p| &p.common().last_failed_at) != Some(&status.common().last_failed_at);
    let common = status.common_mut();
    common.observed_generation = Some(generation);
    if rejected_now {
        // NB: the annotation value that this rejection answered; only a newer one asks again.
        common.failed_requested_at = requested_at.clone();
    }
    common.reconcile_requested_at = requested_at;
    common.conditions = conditions(&phase, generation, &before, now);
    announce_stall(obj, ctx, &phase, &before).await;
    announce_stuck(obj, ctx, &phase, &before).await;
    write_status(obj, ctx, previous, &status).await?;
    ctx.books
        .states
        .record(&object_key(obj), &K::kind(&()), State::of(&phase));

    Ok(match phase {
        Phase::Progressing { .. } => {
            let since = progressing_since(&status.common().conditions).unwrap_or(now);
            let elapsed = now.duration_since(since).unsigned_abs();
            Action::requeue(poll_interval(elapsed))
        }
        Phase::Stalled { .. } | Phase::Ready { .. } => Action::requeue(jittered_resync(ctx.resync)),
    })
}

/// Writes `status` unless it equals `previous` (what the object holds), and remembers the write
/// so that the next reconcile plans from it even while the watch cache lags (read your writes).
pub async fn write_status<K, S>(obj: &K, ctx: &Context, previous: Option<&S>, status: &S) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
    S: ManagedStatus,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let version = apply_status(&api, &obj.name_any(), previous, status).await?;
    record_write(ctx, obj, version, status);
    Ok(())
}

/// The effective deletion policy: the spec's, else `Retain` for adopted services and `Delete` for
/// services runway created.
pub fn deletion_policy(spec: Option<DeletionPolicy>, adopted: bool) -> DeletionPolicy {
    spec.unwrap_or(if adopted {
        DeletionPolicy::Retain
    } else {
        DeletionPolicy::Delete
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::runtime::bookkeeping::Bookkeeping;
    use crate::error::AwsFailure;
    use crate::metrics::Metrics;

    fn aws(kind: AwsErrorKind, code: &str, message: &str) -> Error {
        Error::Aws(Box::new(AwsFailure {
            service: "ecs",
            operation: "DescribeExpressGatewayService",
            region: "us-east-1".into(),
            target: "arn".into(),
            kind,
            code: code.into(),
            message: message.into(),
            request_id: None,
        }))
    }

    #[test]
    fn a_failed_read_is_never_silent_and_names_aws_code() {
        let denied = aws(AwsErrorKind::Terminal, "AccessDeniedException", "not authorized");
        match failure_phase(&denied, None) {
            Phase::Stalled { reason, message } => {
                assert_eq!(reason, "AwsCallFailed");
                assert!(
                    message.contains("AccessDeniedException: not authorized"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let down = aws(AwsErrorKind::Transient, "ServerException", "boom");
        assert!(matches!(
            failure_phase(&down, None),
            Phase::Progressing {
                reason: "AwsUnavailable",
                ..
            }
        ));
    }

    #[test]
    fn iam_propagation_reconciles_then_stalls_once_it_lasts() {
        let e = aws(
            AwsErrorKind::IamPropagation,
            "AccessDeniedException",
            "Cannot assume role",
        );
        assert!(matches!(
            failure_phase(&e, Some(std::time::Duration::from_secs(30))),
            Phase::Progressing {
                reason: "IamPropagation",
                ..
            }
        ));
        match failure_phase(&e, Some(IAM_PROPAGATION_STALL_AFTER)) {
            Phase::Stalled { reason, message } => {
                assert_eq!(reason, "AccessDenied");
                assert!(message.contains("Cannot assume role"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_finished_deletion_forgets_the_object_and_only_lasting_failures_record_the_hash() {
        let ok = Ok(Action::await_change());
        let terminal = Err(Error::InvalidSpec("bad".into()));
        let waiting = Err(Error::WaitingForDeletion { target: "arn".into() });
        let transient = Err(aws(AwsErrorKind::Transient, "ServerException", "boom"));
        assert_eq!(aftermath((Some(7), true), &ok), Aftermath::Gone);
        assert_eq!(aftermath((Some(7), false), &ok), Aftermath::Succeeded(Some(7)));
        assert_eq!(
            aftermath((Some(7), false), &terminal),
            Aftermath::Settled(Some(7))
        );
        assert_eq!(aftermath((Some(7), true), &terminal), Aftermath::Unchanged);
        assert_eq!(aftermath((Some(7), true), &waiting), Aftermath::Unchanged);
        assert_eq!(aftermath((Some(7), false), &transient), Aftermath::Unchanged);
    }

    #[test]
    fn a_resource_that_fails_for_good_retries_as_background_work_until_its_spec_changes() {
        let books = Bookkeeping::new(Metrics::new());
        let key = "ExpressService/apps/web";
        let spec = Some(7);
        // A new resource is a change.
        assert_eq!(class(false, books.seen.hash(key), spec), Priority::Change);
        // AWS refuses it for good (or the namespace's account is wrong): its hash is recorded, and
        // its retries at the resync interval are background work.
        if let Aftermath::Settled(hash) = aftermath((spec, false), &Err(Error::InvalidSpec("bad".into()))) {
            books.seen.record(key, hash);
        }
        assert_eq!(class(false, books.seen.hash(key), spec), Priority::Background);
        // A retryable failure leaves it a change, so that it is tried again soon.
        let other = "ExpressService/apps/api";
        let transient = Err(aws(AwsErrorKind::Transient, "ServerException", "boom"));
        assert_eq!(aftermath((spec, false), &transient), Aftermath::Unchanged);
        assert_eq!(class(false, books.seen.hash(other), spec), Priority::Change);
        // A new spec, or a deletion, is a change again.
        assert_eq!(class(false, books.seen.hash(key), Some(8)), Priority::Change);
        assert_eq!(class(true, books.seen.hash(key), spec), Priority::Change);
    }

    #[test]
    fn adopted_services_are_retained_and_created_ones_deleted_unless_the_spec_says() {
        assert_eq!(deletion_policy(None, true), DeletionPolicy::Retain);
        assert_eq!(deletion_policy(None, false), DeletionPolicy::Delete);
        assert_eq!(
            deletion_policy(Some(DeletionPolicy::Delete), true),
            DeletionPolicy::Delete
        );
        assert_eq!(
            deletion_policy(Some(DeletionPolicy::Retain), false),
            DeletionPolicy::Retain
        );
    }
}
