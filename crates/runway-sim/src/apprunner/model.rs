//! The state every App Runner action works on: [`AppRunnerState`], the services, auto scaling
//! configurations and VPC connectors of every account and region and the injected faults, with the
//! look-ups the actions share; and the records of the two sharable resources, [`AutoScalingConfig`]
//! (actions in `scaling`) and [`VpcConnector`] (actions in `vpc`), and of the
//! [`VpcIngressConnection`]s that make services private (actions in `ingress`).

use std::collections::HashMap;

use crate::clock::Timestamp;
use crate::iam::Propagation;
use crate::wire::RequestContext;

use super::lifecycle::{AppRunnerService, ServiceStatus};
use super::newer::NewerModel;
use super::types::{ServiceConfig, Tag};

/// How long App Runner stages take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppRunnerTimings {
    /// Every operation, start to finish.
    pub operation_seconds: f64,
    /// How long a deleted service stays describable as DELETED, and a deleted auto scaling
    /// configuration or VPC connector as INACTIVE.
    pub deleted_retention_seconds: f64,
}

/// A fault to inject into a future operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppRunnerFault {
    /// The next CreateService of that name ends CREATE_FAILED.
    CreateFailed,
    /// The next UpdateService or StartDeployment fails and rolls back.
    Rollback,
    /// Another client starts a deployment just before the next UpdateService arrives.
    ConcurrentOperation,
    /// The next operation of that service never ends: it stays IN_PROGRESS and the service
    /// OPERATION_IN_PROGRESS (docs/aws-behaviour.md A24).
    Hang,
    /// The next UpdateService of that service answers without an `OperationId`
    /// (aws/apprunner-roadmap#139, docs/aws-behaviour.md A20).
    NoOperationId,
}

/// All simulated App Runner services, auto scaling configurations and VPC connectors, in every
/// account and region.
#[derive(Debug)]
pub struct AppRunnerState {
    pub(super) services: Vec<AppRunnerService>,
    /// Auto scaling configuration revisions, oldest first.
    pub(super) scaling: Vec<AutoScalingConfig>,
    /// The highest revision ever issued, by (account, region, configuration name).
    pub(super) scaling_revisions: HashMap<(String, String, String), i64>,
    /// VPC connectors, oldest first.
    pub(super) connectors: Vec<VpcConnector>,
    /// VPC ingress connections, oldest first.
    pub(super) ingress: Vec<VpcIngressConnection>,
    pub(super) pending: HashMap<(String, AppRunnerFault), u32>,
    pub(super) timings: AppRunnerTimings,
    /// Roles IAM has not propagated yet.
    pub iam: Propagation,
    /// Services per account and Region (CREATE_FAILED ones included) before CreateService answers
    /// `ServiceQuotaExceededException` (docs/aws-behaviour.md A9; the default number is assumed).
    pub service_quota: usize,
    /// Members and enum values newer than the SDKs' models, added to the answers.
    pub(super) newer_model: NewerModel,
}

/// The simulator's default App Runner services-per-Region quota (AWS does not state its default in
/// a source we could read; adjustable in a real account).
pub const DEFAULT_SERVICE_QUOTA: usize = 30;

/// The service name from a name or an ARN (`…:service/<name>/<id>`).
pub fn service_name_of(name_or_arn: &str) -> &str {
    match name_or_arn.split_once(":service/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => name_or_arn,
    }
}

impl AppRunnerState {
    /// No services.
    pub fn new(timings: AppRunnerTimings) -> Self {
        Self {
            services: Vec::new(),
            scaling: Vec::new(),
            scaling_revisions: HashMap::new(),
            connectors: Vec::new(),
            ingress: Vec::new(),
            pending: HashMap::new(),
            timings,
            iam: Default::default(),
            service_quota: DEFAULT_SERVICE_QUOTA,
            newer_model: NewerModel::default(),
        }
    }

    /// Forgets every service, auto scaling configuration, VPC connector and injection.
    pub fn clear(&mut self) {
        self.services.clear();
        self.scaling.clear();
        self.scaling_revisions.clear();
        self.connectors.clear();
        self.ingress.clear();
        self.pending.clear();
        self.iam.clear();
        self.newer_model = NewerModel::default();
    }

    /// Sets which members and enum values newer than the SDKs' models the answers carry.
    pub fn set_newer_model(&mut self, model: NewerModel) {
        self.newer_model = model;
    }

    /// The members and enum values newer than the SDKs' models that the answers carry.
    pub fn newer_model(&self) -> NewerModel {
        self.newer_model.clone()
    }

    /// Makes the next matching operation of the named service (name or ARN) fail.
    pub fn inject(&mut self, name_or_arn: &str, fault: AppRunnerFault) {
        *self
            .pending
            .entry((service_name_of(name_or_arn).to_string(), fault))
            .or_default() += 1;
    }

    pub(super) fn take(&mut self, name: &str, fault: AppRunnerFault) -> bool {
        let key = (name.to_string(), fault);
        match self.pending.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    self.pending.remove(&key);
                }
                true
            }
            _ => false,
        }
    }

    pub(super) fn prune(&mut self, now: Timestamp) {
        let retention = self.timings.deleted_retention_seconds;
        self.services.retain(|svc| {
            svc.deleted_at(now)
                .is_none_or(|deleted| now < deleted + retention)
        });
        // NB: "Inactive configuration revisions are permanently removed some time after they are
        // deleted" (botocore `apprunner AutoScalingConfiguration.Status`; VpcConnector.Status the
        // same); the simulator uses the DELETED retention of services.
        self.scaling
            .retain(|c| c.deleted_at.is_none_or(|deleted| now < deleted + retention));
        self.connectors
            .retain(|c| c.deleted_at.is_none_or(|deleted| now < deleted + retention));
        self.ingress
            .retain(|c| c.deleted_at.is_none_or(|deleted| now < deleted + retention));
    }

    /// Whether a service in `account` and `region` that is not DELETED names `arn` in the member
    /// `uses` reads from its configuration (the one DescribeService reports).
    pub(super) fn used_by_a_service(
        &self,
        account: &str,
        region: &str,
        now: Timestamp,
        arn: &str,
        uses: fn(&ServiceConfig) -> Option<&str>,
    ) -> bool {
        self.services
            .iter()
            .filter(|svc| svc.account == account && svc.region == region)
            .filter(|svc| svc.status(now) != ServiceStatus::Deleted)
            .any(|svc| uses(&svc.config(now)) == Some(arn))
    }

    /// The service with this ARN in the caller's account and region.
    pub(super) fn find(&self, ctx: &RequestContext, arn: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|svc| svc.arn == arn && svc.region == ctx.region && svc.account == ctx.account)
    }
}

/// One revision of an auto scaling configuration.
#[derive(Clone, Debug)]
pub struct AutoScalingConfig {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// `AutoScalingConfigurationName`.
    pub name: String,
    /// `AutoScalingConfigurationRevision`, from 1.
    pub revision: i64,
    /// `arn:aws:apprunner:<region>:<account>:autoscalingconfiguration/<name>/<revision>/<32 hex>`.
    pub arn: String,
    /// `MaxConcurrency`.
    pub max_concurrency: i64,
    /// `MinSize`.
    pub min_size: i64,
    /// `MaxSize`.
    pub max_size: i64,
    /// `CreatedAt`.
    pub created_at: Timestamp,
    /// `DeletedAt`; set once the revision is INACTIVE.
    pub deleted_at: Option<Timestamp>,
    /// Whether new services without an `AutoScalingConfigurationArn` use it: only the built-in
    /// configuration (the simulator does not implement UpdateDefaultAutoScalingConfiguration).
    pub is_default: bool,
    /// Tags.
    pub tags: Vec<Tag>,
}

impl AutoScalingConfig {
    /// Whether the revision is ACTIVE (not deleted).
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }

    pub(super) fn here(&self, ctx: &RequestContext) -> bool {
        self.account == ctx.account && self.region == ctx.region
    }
}

/// One VPC connector.
#[derive(Clone, Debug)]
pub struct VpcConnector {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// `VpcConnectorName`.
    pub name: String,
    /// `VpcConnectorRevision`: always 1.
    pub revision: i64,
    /// `arn:aws:apprunner:<region>:<account>:vpcconnector/<name>/<revision>/<32 hex>`.
    pub arn: String,
    /// `Subnets`, as given.
    pub subnets: Vec<String>,
    /// `SecurityGroups`, as given (empty when the request named none).
    pub security_groups: Vec<String>,
    /// `CreatedAt`.
    pub created_at: Timestamp,
    /// `DeletedAt`; set once the connector is INACTIVE.
    pub deleted_at: Option<Timestamp>,
    /// Tags.
    pub tags: Vec<Tag>,
}

impl VpcConnector {
    /// Whether the connector is ACTIVE (not deleted).
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }

    pub(super) fn here(&self, ctx: &RequestContext) -> bool {
        self.account == ctx.account && self.region == ctx.region
    }
}

/// One VPC ingress connection: the link between a private App Runner service and a VPC interface
/// endpoint (actions in `ingress`).
#[derive(Clone, Debug)]
pub struct VpcIngressConnection {
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// `VpcIngressConnectionName`.
    pub name: String,
    /// `arn:aws:apprunner:<region>:<account>:vpcingressconnection/<name>/<32 hex>`.
    pub arn: String,
    /// The service it connects.
    pub service_arn: String,
    /// `IngressVpcConfiguration.VpcId`.
    pub vpc_id: String,
    /// `IngressVpcConfiguration.VpcEndpointId`.
    pub vpc_endpoint_id: String,
    /// `DomainName`.
    pub domain_name: String,
    /// `CreatedAt`.
    pub created_at: Timestamp,
    /// `DeletedAt`; set once the connection is DELETED.
    pub deleted_at: Option<Timestamp>,
    /// Tags.
    pub tags: Vec<Tag>,
}

impl VpcIngressConnection {
    /// `AVAILABLE` until deleted, then `DELETED` (the simulator has no PENDING_* or FAILED_* states).
    pub fn status(&self) -> &'static str {
        if self.deleted_at.is_none() {
            "AVAILABLE"
        } else {
            "DELETED"
        }
    }

    pub(super) fn here(&self, ctx: &RequestContext) -> bool {
        self.account == ctx.account && self.region == ctx.region
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_come_from_names_or_arns() {
        assert_eq!(
            service_name_of("arn:aws:apprunner:us-east-1:123456789012:service/web/0123"),
            "web"
        );
        assert_eq!(service_name_of("web"), "web");
    }
}
