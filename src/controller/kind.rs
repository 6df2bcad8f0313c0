//! The per-kind part of a reconcile: what differs between an `ExpressService` and an
//! `AppRunnerService` and nothing else. Each kind implements [`ServiceKind`] with its AWS calls
//! (find by name, observe, perform a decided step, delete) and its one pure planner call;
//! `controller::reconcile` runs the one lifecycle that both share over it.

use std::fmt::Debug;
use std::future::Future;

use k8s_openapi::NamespaceResourceScope;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::managed::{Managed, ManagedStatus};
use super::tags::TagApi;
use super::{Context, Failpoint, events};
use crate::api::common::CommonStatus;
use crate::api::common::Tag;
use crate::aws::RegionClients;
use crate::error::AwsErrorKind;
use crate::plan::convergence::{Drift, Guarded};
use crate::plan::{
    Clock, DeleteStep, Owner, Phase, Refusal, Request, clear_rejection, invalid_spec, record_rejection,
};
use crate::{Error, Result};
use k8s_openapi::jiff::Timestamp;

/// A service found by its name (the crash-safe create looks before it creates).
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// Its ARN.
    pub arn: String,
    /// Its tags, with the owner tag if runway created it.
    pub tags: Vec<Tag>,
    /// How a message names it, for example `service web in cluster default`.
    pub label: String,
    /// Why this kind can never manage the service, whoever owns it (a classic ECS service under
    /// the name of an `ExpressService`); `None` for a service of the kind.
    pub foreign: Option<Refusal>,
}

/// The service to put tags on, and the tags AWS already reported with the observation.
pub struct TagTarget {
    /// The service ARN.
    pub arn: String,
    /// The tags the observation carried, if it carries them (ECS does; App Runner does not).
    pub reported: Option<Vec<Tag>>,
}

/// What one reconcile decided, with what it decided it from.
pub struct Planned<K: ServiceKind> {
    /// The step.
    pub next: K::Plan,
    /// The canonical desired request, with its clears.
    pub desired: K::Desired,
    /// What AWS reported.
    pub observation: K::Observation,
    /// What the convergence guard made of the step (`plan::convergence`).
    pub guarded: Guarded,
}

/// A runway resource kind: its AWS calls and its planner, behind one interface.
pub trait ServiceKind:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Managed
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The kind name used in metrics, logs and reports.
    const KIND: &'static str;
    /// How messages and Events name the AWS service, for example `Express service`.
    const SERVICE: &'static str;
    /// The API the tag calls go to.
    const TAG_API: TagApi;

    /// What AWS reports about the service (and its deployment or operations).
    type Observation: Send + Sync;
    /// The planner's step.
    type Plan: Send + Sync;
    /// The desired request.
    type Desired: Request + Send + Sync;

    /// Looks the service up by the name the resource gives it; `None` when there is none, or when
    /// no service can exist under that name.
    fn find_by_name<'a>(
        &'a self,
        aws: &'a RegionClients,
    ) -> impl Future<Output = Result<Option<Found>>> + Send + 'a;

    /// The tags of the service `arn` names, to check its owner before adopting it; `None` when
    /// there is no such service.
    fn owner_tags<'a>(
        aws: &'a RegionClients,
        arn: &'a str,
    ) -> impl Future<Output = Result<Option<Vec<Tag>>>> + Send + 'a;

    /// Why this kind can never manage the service `arn` names, checked before `spec.serviceArn`
    /// adopts it (a classic ECS service is not an Express service); `None` when it may. Kinds
    /// whose services are all of one sort keep the default.
    fn foreign<'a>(
        aws: &'a RegionClients,
        arn: &'a str,
    ) -> impl Future<Output = Result<Option<Refusal>>> + Send + 'a {
        let _ = (aws, arn);
        async { Ok(None) }
    }

    /// What the message of a deletion that AWS has not finished for a long while adds about the
    /// likely cause: for Express, the infrastructure role that ECS needs to remove the load
    /// balancer and the rest.
    fn stuck_deletion_hint(&self) -> String {
        "AWS has not finished deleting it; check the service in the AWS console".to_string()
    }

    /// Reads the service `arn` names (read-only calls), and what the planner needs besides. It may
    /// update the kind's bookkeeping in `status` from what it read.
    fn observe<'a>(
        &'a self,
        aws: &'a RegionClients,
        arn: Option<&'a str>,
        status: &'a mut Self::Status,
    ) -> impl Future<Output = Result<Self::Observation>> + Send + 'a;

    /// The pure decision: copies what AWS reported into `status` and plans the next step.
    fn decide(
        &self,
        status: &mut Self::Status,
        observation: &Self::Observation,
        clock: Clock<'_>,
    ) -> (Self::Plan, Self::Desired);

    /// Whether the step makes a mutating configuration call (the tag step then waits).
    fn mutates(plan: &Self::Plan) -> bool;

    /// Whether the step reports the service settled and serving the spec.
    fn settled(plan: &Self::Plan) -> bool;

    /// The service the tag step may act on now: it exists and takes tag calls.
    fn tag_target(observation: &Self::Observation) -> Option<TagTarget>;

    /// The drift the step corrects by sending the desired request again, with the request and
    /// AWS's configuration as JSON; `None` for any other step.
    fn drift_correction(planned: &Planned<Self>) -> Option<Drift>;

    /// The step that makes no call and only reports `phase`.
    fn report(phase: Phase) -> Self::Plan;

    /// Carries out the step and returns the phase to report.
    fn perform<'a>(
        act: &'a mut Act<'_, Self>,
        planned: Planned<Self>,
    ) -> impl Future<Output = Result<Phase>> + Send + 'a;

    /// What deleting `arn` needs next, from a read of the service.
    fn delete_step<'a>(
        aws: &'a RegionClients,
        arn: &'a str,
    ) -> impl Future<Output = Result<DeleteStep>> + Send + 'a;

    /// Starts deleting `arn`; returns a detail for the Event (an operation ID), or `None` when the
    /// service was already going.
    fn delete<'a>(
        aws: &'a RegionClients,
        arn: &'a str,
    ) -> impl Future<Output = Result<Option<String>>> + Send + 'a;
}

/// One reconcile's act layer: the resource, its clients, and the status that its steps build.
pub struct Act<'a, K: ServiceKind> {
    /// The resource.
    pub obj: &'a K,
    /// The shared context (Events, the failpoint).
    pub ctx: &'a Context,
    /// The SDK clients of the resource's account and Region.
    pub aws: &'a RegionClients,
    /// The status as it will be written.
    pub status: K::Status,
    /// Whether AWS accepted the desired request in this reconcile ([`Act::accepted`]).
    pub accepted: bool,
}

impl<K: ServiceKind> Act<'_, K> {
    /// The common status fields, for writing.
    pub fn common(&mut self) -> &mut CommonStatus {
        self.status.common_mut()
    }

    /// Records a request AWS accepted, with the redeploy token it carried out.
    pub fn accepted(&mut self, desired: &K::Desired, redeploy_token: Option<String>) {
        self.accepted = true;
        let common = self.common();
        common.last_applied_hash = Some(desired.digest());
        common.applied_fields = desired.fields();
        common.last_redeploy_token = redeploy_token;
        clear_rejection(common);
    }

    /// Builds the create request for this resource, owned by this cluster, with the kind's
    /// `build`; a spec that cannot be created gives the phase to report instead (the planner has
    /// refused it already, so this is only its guard).
    pub fn create_request<T>(
        &self,
        build: impl FnOnce(&Owner<'_>) -> std::result::Result<T, String>,
    ) -> std::result::Result<T, Phase> {
        let (namespace, name) = (self.obj.namespace().unwrap_or_default(), self.obj.name_any());
        let owner = Owner {
            cluster: &self.ctx.cluster,
            namespace: &namespace,
            name: &name,
        };
        build(&owner).map_err(invalid_spec)
    }

    /// Records a service AWS just created from `desired` with `spec_tags`. Under the test
    /// failpoint, the process exits first, as a crash before the status write would.
    pub fn created(
        &mut self,
        arn: &str,
        desired: &K::Desired,
        spec_tags: &[crate::api::common::Tag],
        redeploy_token: Option<String>,
    ) {
        if self.ctx.failpoint == Some(Failpoint::ExitAfterCreate) {
            tracing::warn!("failpoint exit-after-create: exiting before the status write");
            std::process::exit(86);
        }
        self.accepted(desired, redeploy_token);
        let common = self.common();
        common.applied_tags = Some(crate::plan::tags::record(&crate::plan::tags::desired(spec_tags)));
        common.service_arn = Some(arn.to_string());
    }

    /// A failed mutating call: a terminal AWS error stalls (and is remembered, see
    /// [`reject_terminal`]), anything else goes back to `error_policy`.
    pub fn rejected(&mut self, err: Error, desired: &K::Desired) -> Result<Phase> {
        reject_terminal(err, desired.digest(), self.common())
    }

    /// Publishes an Event about the resource.
    pub async fn publish(&self, warning: bool, reason: &str, action: &str, note: String) {
        events::publish(
            &self.ctx.recorder,
            self.obj,
            events::Note::new(warning, reason, action, note),
        )
        .await;
    }
}

/// Handles a failed mutating call. A terminal AWS error is recorded (`lastFailedHash`, its time
/// and count), so the same request is not sent again before its backoff passes or the
/// `runway.dev/reconcile-requested-at` annotation changes, and is returned as a Stalled phase,
/// which [`finish`] reports as a Warning Event; anything else is returned as the error, for a retry
/// with backoff.
pub fn reject_terminal(err: Error, hash: String, common: &mut CommonStatus) -> Result<Phase> {
    match &err {
        Error::Aws(f) if f.kind == AwsErrorKind::Terminal => {
            let text = f.summary();
            record_rejection(common, &hash, Timestamp::now());
            Ok(Phase::Stalled {
                reason: "AwsRejectedSpec",
                message: text,
            })
        }
        _ => Err(err),
    }
}
