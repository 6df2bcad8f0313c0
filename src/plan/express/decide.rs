//! The one pure call per ExpressService reconcile: from the spec, the last status and what ECS
//! reported to the status as it will be written and the next step.
//!
//! Flow: [`observed`] copies what AWS reports into the status (redacted) → [`desired`] builds the
//! canonical request, migrating a status written before `appliedFields` existed → [`plan`](super::plan).

use super::managed::{managed_revision, report_failures};
use super::{
    ExpressRequest, ObservedDeployment, ObservedExpress, ObservedManaged, Plan, PlanInput, create_request,
    current_configuration, plan, redacted,
};
use crate::api::express::{ExpressService, ExpressServiceSpec, ExpressServiceStatus};
use kube::ResourceExt;

use crate::plan::{Clock, Owner, Phase, invalid_spec};

/// What ECS reported: the service, and the deployment the plan is made with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    /// The service, or `None` when there is none.
    pub service: Option<ObservedExpress>,
    /// The current deployment, or the one that carries runway's awaited rollout.
    pub deployment: Option<ObservedDeployment>,
    /// The resources ECS manages for the revision `targetConfiguration` shows, when they were read
    /// (`managed::managed_resources_due`); `None` keeps what the status holds.
    pub managed: Option<ObservedManaged>,
    /// The ARN of the service runway has just created when DescribeExpressGatewayService does not
    /// find it yet but DescribeServices lists it ACTIVE: a read that has not caught up with the
    /// create (docs/aws-behaviour.md E37). runway waits instead of creating it again.
    pub not_visible_yet: Option<String>,
}

/// Copies what AWS reports into the status, decides the desired request, and plans the next step.
pub fn decide(
    obj: &ExpressService,
    status: &mut ExpressServiceStatus,
    observation: &Observation,
    clock: Clock<'_>,
) -> (Plan, ExpressRequest) {
    observed(&obj.spec, status, observation);
    let desired = crate::plan::desired(ExpressRequest::from_spec(&obj.spec), &mut status.common);
    if let Some(arn) = &observation.not_visible_yet {
        return (Plan::Report(not_visible_yet(arn)), desired);
    }
    let next = plan(PlanInput {
        spec: &obj.spec,
        status,
        desired: &desired,
        service: observation.service.as_ref(),
        deployment: observation.deployment.as_ref(),
        clock,
    });
    let next = validated(obj, next, clock.cluster);
    if matches!(next, Plan::Report(Phase::Ready { .. })) {
        // The awaited rollout has succeeded: nothing is awaited any more.
        status.awaited_rollout = None;
    }
    let revision = observation
        .service
        .as_ref()
        .and_then(|s| managed_revision(s, observation.deployment.as_ref()));
    let next = report_failures(next, status, revision);
    (next, desired)
}

/// The wait while AWS's read of a service runway has just created has not caught up with the
/// create: nothing is sent, and the next poll looks again.
fn not_visible_yet(arn: &str) -> Phase {
    Phase::Progressing {
        reason: "ServiceNotVisibleYet",
        message: format!(
            "created {arn}, which DescribeServices lists but DescribeExpressGatewayService does not \
             return yet; waiting for AWS to catch up instead of creating it again"
        ),
    }
}

/// A create is planned only for a spec that can be created; otherwise the resource stalls with
/// the reason, and nothing is sent.
fn validated(obj: &ExpressService, next: Plan, cluster: &str) -> Plan {
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let owner = Owner {
        cluster,
        namespace: &namespace,
        name: &name,
    };
    match (&next, create_request(&obj.spec, &owner)) {
        (Plan::Create, Err(message)) => Plan::Report(invalid_spec(message)),
        _ => next,
    }
}

/// Copies what AWS reports into the status: names, status code, the configuration (redacted),
/// the current deployment, and the managed resources when they were read.
pub fn observed(spec: &ExpressServiceSpec, status: &mut ExpressServiceStatus, observation: &Observation) {
    let deployment = observation.deployment.as_ref();
    if let Some(s) = &observation.service {
        status.common.service_arn = Some(s.arn.clone());
        status.service_name = s.service_name.clone();
        status.cluster = s.cluster.clone();
        status.status_code = s.status_code.clone();
        status.status_reason = s.status_reason.clone();
        status.updated_at = s.updated_at.clone();
        if let Some(current) = current_configuration(s, deployment) {
            status.target_configuration = Some(redacted(current, spec));
        }
        if s.current_deployment.is_some() {
            status.current_deployment = s.current_deployment.clone();
        }
    }
    if let Some(d) = deployment {
        status.current_deployment = Some(d.arn.clone());
        status.deployment_status = Some(d.status.clone());
        status.deployment_status_reason = d.status_reason.clone();
        status.deployment_target_revision = d.target_revision.clone();
    }
    if let Some(managed) = &observation.managed {
        status.managed_resources = managed.resources.clone();
        status.managed_resources_revision = Some(managed.revision.clone());
    }
    status.endpoint = status
        .target_configuration
        .as_ref()
        .and_then(|t| t.ingress_paths.first())
        .map(|p| p.endpoint.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_service_that_aws_does_not_return_yet_is_waited_for_and_not_created_again() {
        let obj: ExpressService = serde_json::from_value(serde_json::json!({
            "apiVersion": "runway.dev/v1alpha1", "kind": "ExpressService",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"infrastructureRoleArn": "arn:aws:iam::123456789012:role/infra",
                     "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
                     "primaryContainer": {"image": "nginx:1"}}
        }))
        .expect("resource");
        let clock = Clock {
            cluster: "",
            now: "2026-01-01T00:00:00Z".parse().expect("time"),
            resync: std::time::Duration::from_secs(600),
            requested_at: None,
            stuck_after: crate::plan::DEFAULT_STUCK_AFTER,
        };
        let mut status = ExpressServiceStatus::default();
        status.common.service_arn = Some("arn:svc".into());
        let lagging = Observation {
            not_visible_yet: Some("arn:svc".into()),
            ..Observation::default()
        };
        let (next, _) = decide(&obj, &mut status.clone(), &lagging, clock);
        assert!(
            matches!(
                next,
                Plan::Report(Phase::Progressing {
                    reason: "ServiceNotVisibleYet",
                    ..
                })
            ),
            "{next:?}"
        );
        // Without that sign, a service AWS does not report is created (again).
        let (next, _) = decide(&obj, &mut status, &Observation::default(), clock);
        assert_eq!(next, Plan::Create);
    }
}
