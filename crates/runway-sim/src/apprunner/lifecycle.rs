//! The operation state machine of one App Runner service. Each mutating call appends an
//! [`Operation`]; the service's `Status` and configuration are derived from the operations and the
//! simulated time on every request:
//!
//! ```text
//! CREATE_SERVICE   IN_PROGRESS -> SUCCEEDED (RUNNING)  | FAILED (CREATE_FAILED)
//! UPDATE_SERVICE,  IN_PROGRESS -> SUCCEEDED (RUNNING)  | ROLLBACK_IN_PROGRESS -> ROLLBACK_SUCCEEDED
//! START_DEPLOYMENT                                      (RUNNING, previous configuration)
//! PAUSE_SERVICE    IN_PROGRESS -> SUCCEEDED (PAUSED)
//! RESUME_SERVICE   IN_PROGRESS -> SUCCEEDED (RUNNING)
//! DELETE_SERVICE   IN_PROGRESS -> SUCCEEDED (DELETED, then gone)
//! ```
//!
//! While an operation is in progress the service's `Status` is `OPERATION_IN_PROGRESS`.

use super::types::{EncryptionConfiguration, ServiceConfig, Tag};
use crate::clock::Timestamp;

/// `OperationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationType {
    /// CreateService.
    CreateService,
    /// UpdateService.
    UpdateService,
    /// StartDeployment.
    StartDeployment,
    /// PauseService.
    PauseService,
    /// ResumeService.
    ResumeService,
    /// DeleteService.
    DeleteService,
}

impl OperationType {
    /// The enum value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateService => "CREATE_SERVICE",
            Self::UpdateService => "UPDATE_SERVICE",
            Self::StartDeployment => "START_DEPLOYMENT",
            Self::PauseService => "PAUSE_SERVICE",
            Self::ResumeService => "RESUME_SERVICE",
            Self::DeleteService => "DELETE_SERVICE",
        }
    }
}

/// `ServiceStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceStatus {
    /// An operation is running.
    OperationInProgress,
    /// Serving.
    Running,
    /// Paused.
    Paused,
    /// The create (or a rebuild) failed.
    CreateFailed,
    /// Deleted.
    Deleted,
}

impl ServiceStatus {
    /// The enum value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OperationInProgress => "OPERATION_IN_PROGRESS",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::CreateFailed => "CREATE_FAILED",
            Self::Deleted => "DELETED",
        }
    }
}

/// `OperationStatus`, as far as the simulator produces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    /// Running.
    InProgress,
    /// Failed; undoing.
    RollbackInProgress,
    /// Done.
    Succeeded,
    /// Failed with nothing to roll back to.
    Failed,
    /// Failed and undone.
    RollbackSucceeded,
}

impl OperationStatus {
    /// The enum value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::RollbackSucceeded => "ROLLBACK_SUCCEEDED",
        }
    }

    /// Whether the operation is over.
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::InProgress | Self::RollbackInProgress)
    }
}

/// One asynchronous operation.
#[derive(Clone, Debug)]
pub struct Operation {
    /// `OperationId`, a UUID.
    pub id: String,
    /// What it does.
    pub kind: OperationType,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it takes.
    pub duration: f64,
    /// Whether it was told to fail.
    pub fails: bool,
    /// The configuration it applies (create, update).
    pub config: Option<ServiceConfig>,
    /// The service's status when the operation started.
    pub status_before: ServiceStatus,
}

impl Operation {
    /// The end time.
    pub fn ends_at(&self) -> Timestamp {
        self.started_at + self.duration
    }

    /// The operation's status at `now`.
    pub fn status(&self, now: Timestamp) -> OperationStatus {
        let rolls_back = self.fails
            && matches!(
                self.kind,
                OperationType::UpdateService | OperationType::StartDeployment
            )
            && self.status_before == ServiceStatus::Running;
        if now < self.ends_at() {
            if rolls_back && now >= self.started_at + self.duration / 2.0 {
                OperationStatus::RollbackInProgress
            } else {
                OperationStatus::InProgress
            }
        } else if !self.fails {
            OperationStatus::Succeeded
        } else if rolls_back {
            OperationStatus::RollbackSucceeded
        } else {
            OperationStatus::Failed
        }
    }

    /// When it ended, if it has.
    pub fn ended_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.status(now).is_finished().then(|| self.ends_at())
    }

    /// When its status last changed.
    pub fn updated_at(&self, now: Timestamp) -> Timestamp {
        match self.status(now) {
            OperationStatus::InProgress => self.started_at,
            OperationStatus::RollbackInProgress => self.started_at + self.duration / 2.0,
            _ => self.ends_at(),
        }
    }
}

/// One App Runner service.
#[derive(Clone, Debug)]
pub struct AppRunnerService {
    /// Region.
    pub region: String,
    /// Account.
    pub account: String,
    /// `ServiceName`.
    pub name: String,
    /// `ServiceId`, 32 hex digits.
    pub id: String,
    /// `arn:aws:apprunner:<region>:<account>:service/<name>/<id>`.
    pub arn: String,
    /// `<random>.<region>.awsapprunner.com`.
    pub url: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Create-only encryption key.
    pub encryption: Option<EncryptionConfiguration>,
    /// All operations, oldest first. Never empty: the first is CREATE_SERVICE.
    pub operations: Vec<Operation>,
}

impl AppRunnerService {
    /// The newest operation.
    pub fn latest(&self) -> Option<&Operation> {
        self.operations.last()
    }

    /// The service status at `now`.
    pub fn status(&self, now: Timestamp) -> ServiceStatus {
        let Some(op) = self.latest() else {
            return ServiceStatus::CreateFailed;
        };
        let status = op.status(now);
        if !status.is_finished() {
            return ServiceStatus::OperationInProgress;
        }
        match (op.kind, status) {
            (OperationType::CreateService, OperationStatus::Failed) => ServiceStatus::CreateFailed,
            (OperationType::UpdateService | OperationType::StartDeployment, OperationStatus::Failed) => {
                op.status_before
            }
            (OperationType::PauseService, _) => ServiceStatus::Paused,
            // NB: a paused service accepts UpdateService and stays paused (aws/apprunner-roadmap#95,
            // docs/aws-behaviour.md A3).
            (OperationType::UpdateService, _) if op.status_before == ServiceStatus::Paused => {
                ServiceStatus::Paused
            }
            (OperationType::DeleteService, _) => ServiceStatus::Deleted,
            _ => ServiceStatus::Running,
        }
    }

    /// The configuration to report at `now`: the newest one that took effect, or the one an
    /// in-progress operation is applying.
    pub fn config(&self, now: Timestamp) -> ServiceConfig {
        let mut current = ServiceConfig::default();
        for op in &self.operations {
            let Some(config) = &op.config else {
                continue;
            };
            // NB: a failed create or rebuild keeps the configuration it tried; only a rollback
            // restores the previous one.
            let applies = !matches!(
                op.status(now),
                OperationStatus::RollbackInProgress | OperationStatus::RollbackSucceeded
            );
            if applies {
                current = config.clone();
            }
        }
        current
    }

    /// When the service was last changed: the start of its newest operation.
    pub fn updated_at(&self) -> Timestamp {
        self.latest().map_or(self.created_at, |op| op.started_at)
    }

    /// When the delete finished, once it has.
    pub fn deleted_at(&self, now: Timestamp) -> Option<Timestamp> {
        let op = self.latest()?;
        (op.kind == OperationType::DeleteService)
            .then(|| op.ended_at(now))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: OperationType, started_at: f64, fails: bool, before: ServiceStatus) -> Operation {
        Operation {
            id: format!("op-{started_at}"),
            kind,
            started_at,
            duration: 10.0,
            fails,
            config: None,
            status_before: before,
        }
    }

    fn service(ops: Vec<Operation>) -> AppRunnerService {
        AppRunnerService {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            name: "web".into(),
            id: "0".repeat(32),
            arn: "arn".into(),
            url: "url".into(),
            created_at: 0.0,
            tags: Vec::new(),
            encryption: None,
            operations: ops,
        }
    }

    #[test]
    fn create_runs_then_succeeds_or_fails() {
        let ok = service(vec![op(
            OperationType::CreateService,
            0.0,
            false,
            ServiceStatus::OperationInProgress,
        )]);
        assert_eq!(ok.status(5.0), ServiceStatus::OperationInProgress);
        assert_eq!(ok.status(10.0), ServiceStatus::Running);
        let failed = service(vec![op(
            OperationType::CreateService,
            0.0,
            true,
            ServiceStatus::OperationInProgress,
        )]);
        assert_eq!(failed.status(10.0), ServiceStatus::CreateFailed);
        assert_eq!(failed.operations[0].status(10.0), OperationStatus::Failed);
    }

    #[test]
    fn a_failing_update_rolls_back_and_keeps_running() {
        let svc = service(vec![
            op(
                OperationType::CreateService,
                0.0,
                false,
                ServiceStatus::OperationInProgress,
            ),
            op(OperationType::UpdateService, 20.0, true, ServiceStatus::Running),
        ]);
        assert_eq!(
            svc.operations[1].status(26.0),
            OperationStatus::RollbackInProgress
        );
        assert_eq!(svc.operations[1].status(30.0), OperationStatus::RollbackSucceeded);
        assert_eq!(svc.status(30.0), ServiceStatus::Running);
    }

    #[test]
    fn pause_and_delete_end_in_their_states() {
        let svc = service(vec![
            op(
                OperationType::CreateService,
                0.0,
                false,
                ServiceStatus::OperationInProgress,
            ),
            op(OperationType::PauseService, 20.0, false, ServiceStatus::Running),
        ]);
        assert_eq!(svc.status(30.0), ServiceStatus::Paused);
        let deleted = service(vec![
            op(
                OperationType::CreateService,
                0.0,
                false,
                ServiceStatus::OperationInProgress,
            ),
            op(OperationType::DeleteService, 20.0, false, ServiceStatus::Running),
        ]);
        assert_eq!(deleted.status(30.0), ServiceStatus::Deleted);
        assert_eq!(deleted.deleted_at(30.0), Some(30.0));
        assert_eq!(deleted.deleted_at(25.0), None);
    }
}
