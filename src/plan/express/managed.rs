//! The resources Amazon ECS manages for an Express service (`status.managedResources`): which
//! service revision they are read for, when reading them again can tell something new, and how a
//! `FAILED` one shows in the conditions.
//!
//! They belong to the revision `targetConfiguration` shows (the one the deployment runway plans
//! with deploys, else the newest active one). ECS reports them with DescribeServiceRevisions, so a
//! settled resource would pay a second read per resync if runway read them every time: it reads
//! them when that revision differs from `managedResourcesRevision`, when none are recorded, and
//! while any is not `ACTIVE` (still provisioning, being removed, failed, or in a status runway does
//! not know), and never otherwise.

use super::drift::current_configuration;
use super::observed::{ObservedDeployment, ObservedExpress};
use super::plan::Plan;
use crate::api::express::{ExpressServiceStatus, ManagedResource};
use crate::plan::Phase;

/// The status of a managed resource that needs nothing more from ECS.
pub const ACTIVE: &str = "ACTIVE";

/// The status of a managed resource that ECS could not provision.
pub const FAILED: &str = "FAILED";

/// The service revision whose managed resources the status shows: the one of the configuration
/// `targetConfiguration` is copied from.
pub fn managed_revision<'a>(
    service: &'a ObservedExpress,
    deployment: Option<&ObservedDeployment>,
) -> Option<&'a str> {
    current_configuration(service, deployment)?
        .service_revision_arn
        .as_deref()
}

/// Whether DescribeServiceRevisions for `revision` can tell something the status does not hold:
/// the recorded resources are of another revision, there are none, or one of them is not `ACTIVE`.
pub fn managed_resources_due(status: &ExpressServiceStatus, revision: &str) -> bool {
    status.managed_resources_revision.as_deref() != Some(revision)
        || status.managed_resources.is_empty()
        || status.managed_resources.iter().any(|r| r.status != ACTIVE)
}

/// What the `FAILED` resources say, one `<type> <arn> FAILED: <reason>` each; `None` when none
/// failed.
pub fn failures(resources: &[ManagedResource]) -> Option<String> {
    let failed: Vec<String> = resources
        .iter()
        .filter(|r| r.status == FAILED)
        .map(|r| {
            format!(
                "ECS-managed {} {} FAILED: {}",
                r.kind,
                r.arn.as_deref().unwrap_or("(no ARN)"),
                r.status_reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// The step with the failures of the resources ECS manages for `revision` reported: appended to
/// the message of a Progressing or Stalled phase, and a Ready phase turned Stalled
/// (`ManagedResourceFailed`), since a service whose load balancer or target group failed does not
/// serve. A mutating step is left as it is. Resources recorded for another revision say nothing
/// about this one.
pub fn report_failures(next: Plan, status: &ExpressServiceStatus, revision: Option<&str>) -> Plan {
    let current = revision.is_some() && status.managed_resources_revision.as_deref() == revision;
    let Some(failed) = failures(&status.managed_resources).filter(|_| current) else {
        return next;
    };
    let Plan::Report(phase) = next else {
        return next;
    };
    Plan::Report(match phase {
        Phase::Progressing { reason, message } => Phase::Progressing {
            reason,
            message: format!("{message}; {failed}"),
        },
        Phase::Stalled { reason, message } => Phase::Stalled {
            reason,
            message: format!("{message}; {failed}"),
        },
        Phase::Ready { message, .. } => Phase::Stalled {
            reason: "ManagedResourceFailed",
            message: format!("{failed} ({message})"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::express::{ExpressService, ExpressServiceSpec, TargetConfiguration};
    use crate::plan::express::ExpressRequest;
    use crate::plan::express::ObservedManaged;
    use crate::plan::express::decide::{Observation, decide};

    fn resource(kind: &str, status: &str, reason: Option<&str>) -> ManagedResource {
        ManagedResource {
            kind: kind.into(),
            arn: Some(format!("arn:aws:test:{kind}")),
            status: status.into(),
            status_reason: reason.map(str::to_string),
        }
    }

    fn recorded(revision: &str, resources: Vec<ManagedResource>) -> ExpressServiceStatus {
        ExpressServiceStatus {
            managed_resources: resources,
            managed_resources_revision: Some(revision.into()),
            ..ExpressServiceStatus::default()
        }
    }

    fn config(revision: &str) -> TargetConfiguration {
        TargetConfiguration {
            service_revision_arn: Some(revision.into()),
            ..TargetConfiguration::default()
        }
    }

    #[test]
    fn the_revision_is_the_one_target_configuration_shows() {
        let service = ObservedExpress {
            arn: "svc".into(),
            active_configurations: vec![config("rev-1"), config("rev-2")],
            ..ObservedExpress::default()
        };
        let deploying = |target: &str| ObservedDeployment {
            arn: "dep".into(),
            status: "IN_PROGRESS".into(),
            status_reason: None,
            target_revision: Some(target.into()),
        };
        // The deployment's target while it is active, else the newest active configuration (a
        // rolled-back target is no longer active).
        assert_eq!(
            managed_revision(&service, Some(&deploying("rev-1"))),
            Some("rev-1")
        );
        assert_eq!(
            managed_revision(&service, Some(&deploying("rev-3"))),
            Some("rev-2")
        );
        assert_eq!(managed_revision(&service, None), Some("rev-2"));
        assert_eq!(managed_revision(&ObservedExpress::default(), None), None);
    }

    #[test]
    fn resources_are_read_again_only_when_the_read_can_tell_something_new() {
        let active = vec![
            resource("LoadBalancer", ACTIVE, None),
            resource("TargetGroup", ACTIVE, None),
        ];
        let settled = recorded("rev-1", active.clone());
        assert!(!managed_resources_due(&settled, "rev-1"), "settled: no read");
        let cases = [
            ("another revision", recorded("rev-1", active.clone()), "rev-2"),
            ("never read", ExpressServiceStatus::default(), "rev-1"),
            (
                "read before the revision was recorded",
                {
                    let mut s = recorded("rev-1", active.clone());
                    s.managed_resources_revision = None;
                    s
                },
                "rev-1",
            ),
            ("none recorded", recorded("rev-1", vec![]), "rev-1"),
        ];
        for (what, status, revision) in cases {
            assert!(managed_resources_due(&status, revision), "{what}");
        }
        for moving in [
            "PROVISIONING",
            "DEPROVISIONING",
            FAILED,
            "DELETED",
            "SOMETHING_NEW",
        ] {
            let mut resources = active.clone();
            resources[1].status = moving.into();
            assert!(
                managed_resources_due(&recorded("rev-1", resources), "rev-1"),
                "{moving}"
            );
        }
    }

    #[test]
    fn a_failed_resource_shows_in_the_progressing_and_stalled_messages_and_stalls_a_ready_service() {
        let failed = recorded(
            "rev-1",
            vec![
                resource("LoadBalancer", FAILED, Some("quota reached")),
                resource("TargetGroup", ACTIVE, None),
                resource("LogGroup", FAILED, None),
            ],
        );
        let text = "ECS-managed LoadBalancer arn:aws:test:LoadBalancer FAILED: quota reached; \
                    ECS-managed LogGroup arn:aws:test:LogGroup FAILED: no reason given";
        assert_eq!(failures(&failed.managed_resources).as_deref(), Some(text));
        let report = |phase: Phase| Plan::Report(phase);
        let progressing = report(Phase::Progressing {
            reason: "RolloutInProgress",
            message: "deployment d is IN_PROGRESS".into(),
        });
        assert_eq!(
            report_failures(progressing, &failed, Some("rev-1")),
            report(Phase::Progressing {
                reason: "RolloutInProgress",
                message: format!("deployment d is IN_PROGRESS; {text}"),
            })
        );
        let stalled = report(Phase::Stalled {
            reason: "RolledBack",
            message: "rolled back".into(),
        });
        assert_eq!(
            report_failures(stalled, &failed, Some("rev-1")),
            report(Phase::Stalled {
                reason: "RolledBack",
                message: format!("rolled back; {text}"),
            })
        );
        let ready = report(Phase::Ready {
            reason: "Ready",
            message: "service s is ACTIVE".into(),
        });
        assert_eq!(
            report_failures(ready.clone(), &failed, Some("rev-1")),
            report(Phase::Stalled {
                reason: "ManagedResourceFailed",
                message: format!("{text} (service s is ACTIVE)"),
            })
        );
        // Another revision's failures, no failure, or a mutating step: unchanged.
        assert_eq!(report_failures(ready.clone(), &failed, Some("rev-2")), ready);
        assert_eq!(report_failures(ready.clone(), &failed, None), ready);
        let fine = recorded("rev-1", vec![resource("LoadBalancer", ACTIVE, None)]);
        assert_eq!(report_failures(ready.clone(), &fine, Some("rev-1")), ready);
        assert_eq!(
            report_failures(Plan::Create, &failed, Some("rev-1")),
            Plan::Create
        );
    }

    #[test]
    fn decide_records_what_was_read_and_keeps_the_status_when_nothing_was() {
        let spec: ExpressServiceSpec = serde_json::from_value(serde_json::json!({
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/infra",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
        }))
        .expect("spec");
        let obj = ExpressService::new("web", spec);
        let service = ObservedExpress {
            arn: "arn:aws:ecs:us-east-1:123456789012:service/default/web".into(),
            status_code: Some("ACTIVE".into()),
            active_configurations: vec![TargetConfiguration {
                task_definition_arn: obj.spec.task_definition_arn.clone(),
                ..config("rev-1")
            }],
            ..ObservedExpress::default()
        };
        let deployment = ObservedDeployment {
            arn: "dep-1".into(),
            status: "SUCCESSFUL".into(),
            status_reason: None,
            target_revision: Some("rev-1".into()),
        };
        let clock = crate::plan::Clock {
            cluster: "",
            now: "2026-01-01T00:10:00Z".parse().expect("time"),
            resync: std::time::Duration::from_secs(1800),
            stuck_after: crate::plan::DEFAULT_STUCK_AFTER,
            requested_at: None,
        };
        let read = Observation {
            service: Some(service.clone()),
            deployment: Some(deployment.clone()),
            managed: Some(ObservedManaged {
                revision: "rev-1".into(),
                resources: vec![resource("LoadBalancer", FAILED, Some("quota reached"))],
            }),
            not_visible_yet: None,
        };
        // runway applied this spec before: the planner would report Ready.
        let mut status = ExpressServiceStatus::default();
        status.common.last_applied_hash = Some(ExpressRequest::from_spec(&obj.spec).digest());
        let (next, _) = decide(&obj, &mut status, &read, clock);
        assert_eq!(status.managed_resources_revision.as_deref(), Some("rev-1"));
        assert_eq!(status.managed_resources.len(), 1);
        let Plan::Report(Phase::Stalled { reason, message }) = next else {
            panic!("expected Stalled, got {next:?}");
        };
        assert_eq!(reason, "ManagedResourceFailed");
        assert!(message.contains("FAILED: quota reached"), "{message}");

        // A reconcile that did not read keeps the recorded resources, and still reports them.
        let unread = Observation {
            managed: None,
            ..read
        };
        let (next, _) = decide(&obj, &mut status, &unread, clock);
        assert_eq!(status.managed_resources.len(), 1);
        assert!(matches!(next, Plan::Report(Phase::Stalled { .. })), "{next:?}");
    }
}
