//! What the generic reconcile needs of a runway resource and its status: the common status
//! fields, `spec.region`, `spec.serviceArn`, `spec.deletionPolicy` and `spec.tags`, and from them
//! the service it manages and the Region of its calls.

use serde::Serialize;

use crate::api::apprunner::{AppRunnerService, AppRunnerServiceStatus};
use crate::api::common::{CommonStatus, DeletionPolicy, Tag};
use crate::api::express::{ExpressService, ExpressServiceStatus};

/// A kind's status type: it carries the [`CommonStatus`] fields.
pub trait ManagedStatus:
    Serialize + serde::de::DeserializeOwned + PartialEq + Clone + Default + Send + Sync
{
    /// The common fields.
    fn common(&self) -> &CommonStatus;
    /// The common fields, for writing.
    fn common_mut(&mut self) -> &mut CommonStatus;
}

/// A runway resource: it has a [`ManagedStatus`], and its spec may name a Region and adopt a
/// service by ARN.
pub trait Managed {
    /// The kind's status type.
    type Status: ManagedStatus;
    /// The last written status.
    fn managed_status(&self) -> Option<&Self::Status>;
    /// Replaces the status (read your writes, `runtime::written`).
    fn set_managed_status(&mut self, status: Option<Self::Status>);
    /// `spec.region`.
    fn spec_region(&self) -> Option<&str>;
    /// `spec.serviceArn`.
    fn spec_service_arn(&self) -> Option<&str>;
    /// `spec.deletionPolicy`.
    fn spec_deletion_policy(&self) -> Option<DeletionPolicy>;
    /// `spec.tags`.
    fn spec_tags(&self) -> &[Tag];

    /// The ARN of the service the resource already manages: adopted by `spec.serviceArn`, or
    /// recorded in status.
    fn managed_arn(&self) -> Option<&str> {
        self.spec_service_arn().or_else(|| {
            self.managed_status()
                .and_then(|s| s.common().service_arn.as_deref())
        })
    }

    /// The Region of the resource's calls (`plan::pinned_region`): an existing service's, else the
    /// spec's, else `default_region`.
    fn region(&self, default_region: &str) -> String {
        let common = self
            .managed_status()
            .map(|s| s.common().clone())
            .unwrap_or_default();
        crate::plan::pinned_region(
            self.spec_region(),
            self.spec_service_arn(),
            &common,
            default_region,
        )
    }
}

/// Implements [`Managed`] and [`ManagedStatus`] for a kind whose spec and status carry the common
/// fields under the same names.
macro_rules! managed {
    ($kind:ty, $status:ty) => {
        impl ManagedStatus for $status {
            fn common(&self) -> &CommonStatus {
                &self.common
            }
            fn common_mut(&mut self) -> &mut CommonStatus {
                &mut self.common
            }
        }

        impl Managed for $kind {
            type Status = $status;
            fn managed_status(&self) -> Option<&Self::Status> {
                self.status.as_ref()
            }
            fn set_managed_status(&mut self, status: Option<Self::Status>) {
                self.status = status;
            }
            fn spec_region(&self) -> Option<&str> {
                self.spec.region.as_deref()
            }
            fn spec_service_arn(&self) -> Option<&str> {
                self.spec.service_arn.as_deref()
            }
            fn spec_deletion_policy(&self) -> Option<DeletionPolicy> {
                self.spec.deletion_policy
            }
            fn spec_tags(&self) -> &[Tag] {
                &self.spec.tags
            }
        }
    };
}

managed!(ExpressService, ExpressServiceStatus);
managed!(AppRunnerService, AppRunnerServiceStatus);
