//! The planner's model of what App Runner reports about a service and its operations.
//! `aws::apprunner` converts SDK answers into these types, so the planner depends on neither the
//! adapter nor the SDK.

use serde::Deserialize;

use super::request::AppRunnerRequest;

/// An App Runner service as DescribeService reports it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedService {
    /// The service ARN.
    pub arn: String,
    /// The ID App Runner generated.
    pub service_id: String,
    /// The service name.
    pub service_name: String,
    /// The generated URL.
    pub service_url: Option<String>,
    /// `CREATE_FAILED`, `RUNNING`, `DELETED`, `DELETE_FAILED`, `PAUSED` or `OPERATION_IN_PROGRESS`.
    pub status: String,
    /// The configuration App Runner reports, in the spec's shape. Environment values are part of it
    /// and are never logged.
    pub config: AppRunnerRequest,
}

/// One asynchronous operation, as ListOperations reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedOperation {
    /// The `OperationId`.
    pub id: String,
    /// `CREATE_SERVICE`, `UPDATE_SERVICE`, `START_DEPLOYMENT`, `PAUSE_SERVICE`, `RESUME_SERVICE` or
    /// `DELETE_SERVICE`.
    pub operation_type: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCEEDED`, `FAILED` or a `ROLLBACK_*` state.
    pub status: String,
    /// When it started (`StartedAt`), in seconds since the Unix epoch; `None` when App Runner did
    /// not say.
    pub started_at: Option<i64>,
}
