//! Types shared by both custom resources: the controller-owned spec fields, tags, and the status
//! fields and kstatus conditions that every runway resource reports.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What happens to the AWS service when its Kubernetes resource is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the AWS service, then release the finalizer.
    Delete,
    /// Leave the AWS service running and only release the finalizer.
    Retain,
}

/// A tag: a key and an optional value that help categorize and organize the AWS service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// One part of a key-value pair that make up a tag. A key is a general label that acts like a
    /// category for more specific tag values. 1 to 128 characters, case-sensitive. Keys starting
    /// with `aws:` (in any case) are reserved for AWS use, and `runway.dev/owner` is runway's own.
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(
        validation = kube::core::Rule::new("!self.lowerAscii().startsWith('aws:')")
            .message("tag keys starting with 'aws:' (in any case) are reserved for AWS use"),
        validation = kube::core::Rule::new("self != 'runway.dev/owner'")
            .message("runway.dev/owner is the tag runway sets to record which resource owns the service; a spec may not set it")
    )]
    pub key: String,
    /// The optional part of a key-value pair that make up a tag. A value acts as a descriptor within a
    /// tag category (key). Maximum 256 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub value: Option<String>,
}

/// The status fields that both runway resources report.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The `metadata.generation` that the controller last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// kstatus conditions: `Ready`, `Reconciling` and `Stalled`. Each carries the generation it was
    /// computed for, a machine-readable reason and a human-readable message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The ARN of the AWS service that this resource manages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_arn: Option<String>,
    /// The AWS Region that the service lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A SHA-256 digest of the canonical form of the AWS request that was last sent successfully.
    /// runway sends an update only when the desired request's digest differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_hash: Option<String>,
    /// The digest of a desired request that AWS rejected with a terminal error. runway does not send
    /// the same request again until its backoff passes or the annotation
    /// `runway.dev/reconcile-requested-at` changes; changing the spec clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failed_hash: Option<String>,
    /// When AWS last rejected that request (RFC 3339). A rejected request is sent again on its own
    /// once its backoff has passed (at least one resync interval, doubling with each rejection), or at
    /// once when the `runway.dev/reconcile-requested-at` annotation changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failed_at: Option<String>,
    /// How many times in a row AWS rejected the request in `lastFailedHash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_attempts: Option<u32>,
    /// The value of `runway.dev/reconcile-requested-at` when AWS last rejected the request; a new value
    /// asks for one more try.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_requested_at: Option<String>,
    /// The `spec.redeployToken` for which a forced redeployment was last started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_redeploy_token: Option<String>,
    /// The value of the `runway.dev/reconcile-requested-at` annotation that was last handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_requested_at: Option<String>,
    /// The value of the `runway.dev/reconcile-requested-at` annotation for which runway last read the
    /// service's tags again. A reconcile that skips the tag step (it made a configuration call, or
    /// the service was not ready for tag calls) leaves it, so the re-read still happens later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_requested_at: Option<String>,
    /// The request fields (as dotted paths, such as `primaryContainer.environment`) that runway itself
    /// set in AWS. When the spec stops setting one of them, runway clears it in AWS; fields that runway
    /// never set stay with whoever set them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_fields: Vec<String>,
    /// The tags runway last set on the service, key to value (the spec's tags when they were
    /// applied). runway removes a tag only when its key is here and the spec no longer names it;
    /// tags that others set are never removed. Absent until runway has applied tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_tags: Option<std::collections::BTreeMap<String, String>>,
    /// The tags runway was about to send, written before it sends them: while present, the tag
    /// calls may have reached AWS without their result being recorded (the process stopped, or the
    /// status write failed), so runway reads the service's tags again and counts these keys as its
    /// own. Cleared once the result is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags_pending: Option<std::collections::BTreeMap<String, String>>,
    /// The last tag change that AWS rejected. The same change is not sent again before its backoff
    /// passes (one resync interval, doubling) or `runway.dev/reconcile-requested-at` changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_rejection: Option<TagRejection>,
    /// The drift corrections runway sent in a row for the request in `lastAppliedHash` without AWS
    /// reporting the spec's values afterwards. After two, runway stops sending it
    /// (`Stalled`/`DriftNotConverging`) until the generation or `runway.dev/reconcile-requested-at`
    /// changes; it is removed once AWS reports the spec's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_corrections: Option<DriftCorrections>,
}

/// Drift corrections of one desired request that AWS has not converged to (see
/// [`CommonStatus::drift_corrections`]).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftCorrections {
    /// The digest of the request that was sent again.
    pub hash: String,
    /// How many drift corrections of it were sent in a row.
    pub count: u32,
    /// The `metadata.generation` they were sent for.
    pub generation: i64,
    /// The value of `runway.dev/reconcile-requested-at` when they were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
}

/// A tag change that AWS rejected (TagResource or UntagResource failed with a terminal error).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagRejection {
    /// A digest of the rejected change.
    pub hash: String,
    /// When AWS last rejected it (RFC 3339).
    pub at: String,
    /// How many times in a row AWS rejected it.
    pub attempts: u32,
    /// The value of `runway.dev/reconcile-requested-at` when it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
    /// AWS's code and message.
    pub message: String,
}

/// The kstatus condition types that runway sets.
pub mod condition_types {
    /// The AWS service matches the spec and its last rollout or operation succeeded.
    pub const READY: &str = "Ready";
    /// An AWS rollout or operation is in flight, or an update waits for one.
    pub const RECONCILING: &str = "Reconciling";
    /// An error that retrying cannot fix; runway waits for a spec change.
    pub const STALLED: &str = "Stalled";
}

/// The finalizer that runway puts on every resource it manages.
pub const FINALIZER: &str = "runway.dev/cleanup";
/// Annotation: `"true"` stops reconciling; nothing is sent to AWS.
pub const PAUSED_ANNOTATION: &str = "runway.dev/paused";
/// Annotation: any new value triggers a reconcile now; the value is echoed into status.
pub const RECONCILE_REQUESTED_ANNOTATION: &str = "runway.dev/reconcile-requested-at";
