//! The one reconcile that both kinds run, over their [`ServiceKind`].
//!
//! Front door (as in kube-rs controller-rs): [`reconcile`] → `lifecycle` (admission, the paused
//! annotation, the finalizer) → [`apply`] or [`cleanup`].
//!
//! - `apply`: account resolution (no AWS call) → [`preview`] (read-only AWS: `resolve` the
//!   service, `observe` it, the pure `decide`, the convergence guard of `plan::convergence`) →
//!   `perform` the step (at most one mutating call; a drift correction AWS accepted is counted) →
//!   the tag step, only in a reconcile that made no mutating call → `lifecycle::finish` (conditions,
//!   Events, the status write, the requeue).
//! - `cleanup`: `deletionPolicy` → account resolution → `resolve` → the kind's delete step.
//! - `preview` is also what `runway diff` reports, so the diff and the controller never disagree.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::kind::{Act, Planned, ServiceKind, TagTarget};
use super::lifecycle::{Resolved, deletion_policy, finish, reconcile_with_finalizer, write_status};
use super::managed::ManagedStatus;
use super::runtime::cache::Compact;
use super::tags::{self, TagInput, TagStep};
use super::{Context, accounts, events};
use crate::api::common::{CommonStatus, DeletionPolicy, RECONCILE_REQUESTED_ANNOTATION};
use crate::aws::RegionClients;
use crate::plan::convergence::{self, Guarded, Round};
use crate::plan::{
    Clock, DeleteStep, OWNER_TAG, Owner, Ownership, Phase, Refusal, Request, adoption, arn_conflict,
    deletion, ownership,
};
use crate::{Error, Result};

/// Reconciles one resource of kind `K`.
pub async fn reconcile<K: ServiceKind>(obj: Arc<Compact<K>>, ctx: Arc<Context>) -> Result<Action> {
    reconcile_with_finalizer(K::KIND, obj, ctx, apply::<K>, cleanup::<K>).await
}

/// What a reconcile decided before acting: the service name belongs to someone else, or a plan.
pub enum Decided<K: ServiceKind> {
    /// The service the resource names is not this resource's to manage.
    Conflict(Refusal),
    /// The planner's step, with what it was decided from.
    Planned(Planned<K>),
}

/// What a plan is made with besides the resource and AWS: the resync interval, the cluster
/// identity and when an operation looks stuck, from the controller's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    /// The resync interval.
    pub resync: std::time::Duration,
    /// The cluster identity runway's owner tags carry.
    pub cluster: &'a str,
    /// How long an AWS operation may run before runway reports it as looking stuck.
    pub stuck_after: std::time::Duration,
}

/// The time, resync interval, reconcile-requested-at annotation and cluster identity a plan is made
/// with.
pub fn clock<'a, K: kube::Resource>(obj: &'a K, settings: Settings<'a>, now: Timestamp) -> Clock<'a> {
    Clock {
        now,
        resync: settings.resync,
        requested_at: obj
            .annotations()
            .get(RECONCILE_REQUESTED_ANNOTATION)
            .map(String::as_str),
        cluster: settings.cluster,
        stuck_after: settings.stuck_after,
    }
}

/// What the controller would do for `obj` now, found with read-only calls only: the resolution
/// (`spec.serviceArn`, status, or the lookup by name and owner tag), the observation, the status
/// as it would be written, and the pure planner's step. A reconcile carries the step out; `runway
/// diff` reports it.
pub async fn preview<K: ServiceKind>(
    obj: &K,
    aws: &RegionClients,
    settings: Settings<'_>,
    now: Timestamp,
) -> Result<(K::Status, Decided<K>)> {
    let mut status = obj.managed_status().cloned().unwrap_or_default();
    let arn = match resolve(obj, aws, status.common(), settings.cluster).await? {
        Resolved::Conflict(refusal) => return Ok((status, Decided::Conflict(refusal))),
        Resolved::Arn(arn) => arn,
    };
    let observation = obj.observe(aws, arn.as_deref(), &mut status).await?;
    let clock = clock(obj, settings, now);
    let (next, desired) = obj.decide(&mut status, &observation, clock);
    let mut planned = Planned {
        next,
        desired,
        observation,
        guarded: Guarded::NoDrift,
    };
    guard(obj, status.common_mut(), &mut planned, clock.requested_at);
    Ok((status, Decided::Planned(planned)))
}

/// The convergence guard on a planned step (`plan::convergence`): a drift correction of a request
/// that AWS has not converged to after [`convergence::MAX_DRIFT_CORRECTIONS`] tries becomes a
/// report of `DriftNotConverging`, which sends nothing; a step that reports the service Ready
/// forgets the count.
fn guard<K: ServiceKind>(
    obj: &K,
    common: &mut CommonStatus,
    planned: &mut Planned<K>,
    requested_at: Option<&str>,
) {
    if K::settled(&planned.next) {
        convergence::converged(common);
        return;
    }
    let Some(drift) = K::drift_correction(planned) else {
        return;
    };
    let hash = planned.desired.digest();
    match convergence::guard(common, &round(obj, &hash, requested_at), &drift) {
        Some(phase) => {
            planned.next = K::report(phase);
            planned.guarded = Guarded::Refused;
        }
        None => planned.guarded = Guarded::Correction,
    }
}

/// The round a drift correction of the request `hash` counts in: this generation, this value of
/// the `runway.dev/reconcile-requested-at` annotation.
fn round<'a, K: kube::Resource>(obj: &K, hash: &'a str, requested_at: Option<&'a str>) -> Round<'a> {
    Round {
        hash,
        generation: obj.meta().generation.unwrap_or_default(),
        requested_at,
    }
}

/// After the step: counts a drift correction that AWS accepted, and a guard that has just stopped
/// (`runway_drift_not_converging_total`).
fn count_guarded<K: ServiceKind>(act: &mut Act<'_, K>, guarded: Guarded, hash: &str, before: &[Condition]) {
    match guarded {
        Guarded::Correction if act.accepted => {
            let obj = act.obj;
            let requested_at = obj
                .annotations()
                .get(RECONCILE_REQUESTED_ANNOTATION)
                .map(String::as_str);
            convergence::record(act.status.common_mut(), &round(obj, hash, requested_at));
        }
        Guarded::Refused if convergence::newly_refused(before) => {
            act.ctx.metrics.drift_not_converging(K::KIND);
        }
        _ => {}
    }
}

/// Finds the service this resource manages: the one it has recorded, else the one it adopts by
/// `spec.serviceArn` (which must not carry another resource's owner tag), else the one by its name
/// (which must carry this resource's owner tag). A `spec.serviceArn` that differs from the service
/// the resource already manages is refused.
async fn resolve<K: ServiceKind>(
    obj: &K,
    aws: &RegionClients,
    status: &CommonStatus,
    cluster: &str,
) -> Result<Resolved> {
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let me = Owner {
        cluster,
        namespace: &namespace,
        name: &name,
    };
    let (spec_arn, managed) = (obj.spec_service_arn(), status.service_arn.as_deref());
    if let Some(refusal) = arn_conflict(spec_arn, managed) {
        return Ok(Resolved::Conflict(refusal));
    }
    if let Some(arn) = managed {
        return Ok(Resolved::Arn(Some(arn.to_string())));
    }
    if let Some(arn) = spec_arn {
        // NB: read once, before the first adoption; the adopted ARN is in status from then on.
        if let Some(refusal) = K::foreign(aws, arn).await? {
            return Ok(Resolved::Conflict(refusal));
        }
        let tags = K::owner_tags(aws, arn).await?.unwrap_or_default();
        return Ok(match adoption(arn, &tags, &me) {
            Some(refusal) => Resolved::Conflict(refusal),
            None => Resolved::Arn(Some(arn.to_string())),
        });
    }
    let Some(found) = obj.find_by_name(aws).await? else {
        return Ok(Resolved::Arn(None));
    };
    if let Some(refusal) = found.foreign {
        // NB: not this kind's sort of service at all (a classic ECS service): never adopted,
        // updated or deleted, whatever its tags say.
        return Ok(Resolved::Conflict(refusal));
    }
    let (what, arn) = (&found.label, &found.arn);
    let message = match ownership(&found.tags, &me) {
        Ownership::Mine => {
            tracing::info!(kind = K::KIND, object = %name, %arn, "found the service created earlier");
            return Ok(Resolved::Arn(Some(found.arn)));
        }
        Ownership::OtherResource(other) => format!(
            "{} {what} ({arn}) belongs to runway resource {other}; choose another spec.serviceName",
            K::SERVICE
        ),
        Ownership::NotRunway => format!(
            "{} {what} ({arn}) exists and was not created by runway; set spec.serviceArn to adopt it, \
             or choose another spec.serviceName",
            K::SERVICE
        ),
    };
    Ok(Resolved::Conflict(Refusal {
        reason: "ServiceNameInUse",
        message,
    }))
}

/// The controller's plan settings.
fn settings(ctx: &Context) -> Settings<'_> {
    Settings {
        resync: ctx.resync,
        cluster: &ctx.cluster,
        stuck_after: ctx.stuck_after,
    }
}

/// Makes AWS match a live resource.
async fn apply<K: ServiceKind>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let mut previous = obj.managed_status().cloned();
    let region = obj.region(ctx.aws.default_region());
    let aws = match accounts::resolve(&ctx.accounts, obj.as_ref(), &region).await? {
        Ok(aws) => aws,
        Err(refused) => {
            let mut status = previous.clone().unwrap_or_default();
            status.common_mut().region = Some(region);
            return finish(obj.as_ref(), &ctx, previous.as_ref(), status, refused).await;
        }
    };
    let now = Timestamp::now();
    let (status, decided) = preview(obj.as_ref(), &aws, settings(&ctx), now).await?;
    let mut act = Act {
        obj: obj.as_ref(),
        ctx: &ctx,
        aws: &aws,
        status,
        accepted: false,
    };
    let phase = match decided {
        Decided::Conflict(refusal) => refusal.into(),
        Decided::Planned(planned) => {
            let settled = K::settled(&planned.next);
            let (guarded, hash) = (planned.guarded, planned.desired.digest());
            // NB: after a mutating call the tags wait for the next reconcile (a few seconds away),
            // so that a failing tag call can never cost the status write that records the call,
            // and App Runner, which may refuse tag calls during an operation, is not asked then.
            let target = if K::mutates(&planned.next) {
                None
            } else {
                K::tag_target(&planned.observation)
            };
            let phase = K::perform(&mut act, planned).await?;
            let before = previous.as_ref().map(|p| p.common().conditions.as_slice());
            count_guarded(&mut act, guarded, &hash, before.unwrap_or_default());
            match target {
                Some(target) => {
                    let clock = clock(obj.as_ref(), settings(&ctx), now);
                    tag_step(&mut act, (target, settled), clock, phase, &mut previous).await?
                }
                None => phase,
            }
        }
    };
    act.status.common_mut().region = Some(region);
    finish(obj.as_ref(), &ctx, previous.as_ref(), act.status, phase).await
}

/// The tag step (`controller::tags`). A rejected tag change turns a Ready phase Stalled; a
/// resource that is still progressing reports its rollout first.
///
/// Before it sends a change, it records the change in `status.tagsPending` (on top of `previous`,
/// what the object holds, which it then updates): should the calls reach AWS and the status write
/// that records them fail, or the process stop, the next reconcile reads the tags back instead of
/// trusting `status.appliedTags`, even if the spec has gone back to what that record says.
async fn tag_step<K: ServiceKind>(
    act: &mut Act<'_, K>,
    (target, settled): (TagTarget, bool),
    clock: Clock<'_>,
    phase: Phase,
    previous: &mut Option<K::Status>,
) -> Result<Phase> {
    let input = TagInput {
        api: K::TAG_API,
        arn: &target.arn,
        spec_tags: act.obj.spec_tags(),
        reported: target.reported.as_deref(),
        settled,
        clock,
    };
    let (ctx, obj, aws) = (act.ctx, act.obj, act.aws);
    let step = tags::preview(aws, &input, act.status.common()).await?;
    if let TagStep::Send { desired, .. } = &step {
        let pending = Some(crate::plan::tags::record(desired));
        let mut marked = previous.clone().unwrap_or_default();
        marked.common_mut().tags_pending.clone_from(&pending);
        write_status(obj, ctx, previous.as_ref(), &marked).await?;
        *previous = Some(marked);
        act.status.common_mut().tags_pending = pending;
    }
    // NB: boxed: the tag calls' futures would otherwise be part of every reconcile's state.
    let common = act.status.common_mut();
    let rejected = Box::pin(tags::reconcile(ctx, obj, aws, (input, step), common)).await?;
    Ok(match (rejected, phase) {
        (Some((reason, message)), Phase::Ready { .. }) => Phase::Stalled { reason, message },
        (_, phase) => phase,
    })
}

/// Deletes the AWS service (unless retained) and waits until it is gone.
async fn cleanup<K: ServiceKind>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action> {
    let status = obj.managed_status().cloned().unwrap_or_default();
    let (spec_arn, status_arn) = (obj.spec_service_arn(), status.common().service_arn.as_deref());
    if let Some(refusal) = arn_conflict(spec_arn, status_arn) {
        // NB: the service runway manages is in status; deleting or retaining by the spec's ARN
        // would lose it, so the finalizer stays until spec and status agree.
        return Err(refused(refusal.into()));
    }
    if deletion_policy(obj.spec_deletion_policy(), spec_arn.is_some()) == DeletionPolicy::Retain {
        return retain(obj.as_ref(), &ctx, status_arn).await;
    }
    let region = obj.region(ctx.aws.default_region());
    let aws = match accounts::resolve(&ctx.accounts, obj.as_ref(), &region).await? {
        Ok(aws) => aws,
        // NB: the finalizer stays, and the refusal is reported and retried at the resync interval:
        // the service may exist in the account runway must not act in, and releasing the finalizer
        // would leave it running unmanaged.
        Err(phase) => return Err(refused(phase)),
    };
    let arn = match resolve(obj.as_ref(), &aws, status.common(), &ctx.cluster).await? {
        Resolved::Arn(Some(arn)) => arn,
        // NB: nothing was created, or the service with our name is not ours: nothing to delete. The
        // finalizer goes and the object with it, so there is nothing left to requeue; the Event says
        // why nothing was deleted.
        Resolved::Arn(None) => {
            let note = format!(
                "no {} was created for this resource; nothing to delete",
                K::SERVICE
            );
            events::publish(
                &ctx.recorder,
                obj.as_ref(),
                events::Note::new(false, "NothingToDelete", "Delete", note),
            )
            .await;
            return Ok(Action::await_change());
        }
        Resolved::Conflict(refusal) => {
            let note = format!("not deleting: {}", refusal.message);
            events::publish(
                &ctx.recorder,
                obj.as_ref(),
                events::Note::new(true, "NotOwned", "Delete", note),
            )
            .await;
            return Ok(Action::await_change());
        }
    };
    let step = K::delete_step(&aws, &arn).await?;
    let delete = K::delete(&aws, &arn);
    delete_service(ctx.as_ref(), obj.as_ref(), arn.clone(), step, delete).await
}

/// Honours `deletionPolicy: Retain` (the default for adopted services): the service keeps running,
/// and runway gives up ownership of a service it created (its `runway.dev/owner` tag goes), so that
/// no resource finds it by name again and only an explicit adoption by `spec.serviceArn` manages it
/// later. Until the tag is removed the finalizer stays.
async fn retain<K: ServiceKind>(obj: &K, ctx: &Context, created: Option<&str>) -> Result<Action> {
    let arn = obj.spec_service_arn().or(created).unwrap_or("the service");
    let mut note = format!("deletionPolicy Retain: left {arn} running");
    if let (None, Some(created)) = (obj.spec_service_arn(), created) {
        let region = obj.region(ctx.aws.default_region());
        let aws = accounts::resolve(&ctx.accounts, obj, &region)
            .await?
            .map_err(refused)?;
        tags::release_owner(&aws, K::TAG_API, created).await?;
        note.push_str(&format!(" and removed its {OWNER_TAG} tag"));
    }
    let note = events::Note::new(false, "Retained", "Delete", note);
    events::publish(&ctx.recorder, obj, note).await;
    Ok(Action::await_change())
}

/// Carries out one deletion step for `arn`: releases the finalizer once the service is gone,
/// otherwise calls `delete` (when the step says so; it returns a detail such as an operation ID, or
/// `None` when the service was already going) and keeps the finalizer with
/// [`Error::WaitingForDeletion`], so the resource is polled every 5 s.
async fn delete_service<K, F>(
    ctx: &Context,
    obj: &K,
    arn: String,
    step: DeleteStep,
    delete: F,
) -> Result<Action>
where
    K: ServiceKind,
    F: Future<Output = Result<Option<String>>>,
{
    match step {
        DeleteStep::Gone => {
            events::publish(
                &ctx.recorder,
                obj,
                events::Note::new(
                    false,
                    "Deleted",
                    "Delete",
                    format!("{} {arn} is gone", K::SERVICE),
                ),
            )
            .await;
            Ok(Action::await_change())
        }
        DeleteStep::Wait => Err(still_deleting(ctx, obj, arn)),
        DeleteStep::Delete => {
            if let Some(detail) = delete.await? {
                events::publish(
                    &ctx.recorder,
                    obj,
                    events::Note::new(
                        false,
                        "Deleting",
                        "Delete",
                        format!("deleting {} {arn}{detail}", K::SERVICE),
                    ),
                )
                .await;
            }
            Err(Error::WaitingForDeletion { target: arn })
        }
    }
}

/// The error that keeps the finalizer while AWS deletes `arn`: [`Error::WaitingForDeletion`]
/// (polled every 5 s, no status write), until the deletion has gone on for longer than
/// `plan::deletion::STUCK_AFTER_RESYNCS` resyncs since Kubernetes marked the resource deleted. Then
/// it is a refusal, which `report_failure` writes as `Stalled`/`DeletionStuck` with the kind's hint
/// about the likely cause, and which is polled with backoff capped at the resync interval.
fn still_deleting<K: ServiceKind>(ctx: &Context, obj: &K, arn: String) -> Error {
    let requested = obj.meta().deletion_timestamp.as_ref().map(|t| t.0);
    let stuck = requested.and_then(|r| deletion::stuck_for(r, Timestamp::now(), ctx.resync));
    match stuck {
        Some(elapsed) => Error::Refused {
            reason: "DeletionStuck",
            message: deletion::stuck_message(K::SERVICE, &arn, elapsed, &obj.stuck_deletion_hint()),
        },
        None => Error::WaitingForDeletion { target: arn },
    }
}

/// The error that keeps a finalizer while runway refuses to act: `report_failure` writes the
/// refusal as the Stalled condition, and `error_policy` retries it with backoff capped at the
/// resync interval.
fn refused(phase: Phase) -> Error {
    match phase {
        Phase::Stalled { reason, message } => Error::Refused { reason, message },
        other => Error::Refused {
            reason: "Refused",
            message: format!("{other:?}"),
        },
    }
}
