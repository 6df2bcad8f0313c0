//! The tag step that both reconcilers run after their configuration step, once the service exists
//! and is settled enough to take tag calls. `plan::tags` decides; this module reads the tags when
//! they are not at hand, sends TagResource and UntagResource, records the result in status and
//! publishes an Event. A tag change never becomes a configuration update.

use kube::Resource;

use super::{Context, Failpoint, events};
use crate::api::common::{CommonStatus, Tag};
use crate::aws::{RegionClients, apprunner, ecs};
use crate::error::AwsErrorKind;
use crate::plan::{Clock, tags};
use crate::{Error, Result};

/// Which service's tag actions to call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagApi {
    /// Amazon ECS: `DescribeExpressGatewayService` reports the tags, `ListTagsForResource` when
    /// it did not.
    Ecs,
    /// AWS App Runner: only `ListTagsForResource` reports the tags.
    AppRunner,
}

/// What the tag step needs to know about one reconcile.
pub struct TagInput<'a> {
    /// The API the tag calls go to.
    pub api: TagApi,
    /// The service's ARN.
    pub arn: &'a str,
    /// The spec's tags.
    pub spec_tags: &'a [Tag],
    /// The tags AWS reported with the service, if it did.
    pub reported: Option<&'a [Tag]>,
    /// Whether the service is settled (its configuration plan is Ready), so that a tag that
    /// changed outside runway is corrected now. A spec change of the tags is applied in any state
    /// that takes tag calls.
    pub settled: bool,
    /// Time, resync interval and the reconcile-requested-at annotation.
    pub clock: Clock<'a>,
}

/// What the tag step would do, found with read-only calls only.
#[derive(Clone, Debug, PartialEq)]
pub enum TagStep {
    /// Nothing to look at: the spec's tags are the ones runway last applied, and AWS's are not at
    /// hand for free.
    Unchanged,
    /// AWS already holds the spec's tags; only the record in status is brought up to date.
    InSync(Vec<Tag>),
    /// An earlier rejection of this very change still holds it back.
    Blocked(&'static str, String),
    /// Calls to make.
    Send {
        /// The tags to set and the keys to remove.
        change: tags::TagChange,
        /// Its digest, for the rejection record.
        hash: String,
        /// Whether the spec's tags changed (else AWS's drifted).
        spec_changed: bool,
        /// The spec's tags, recorded once the calls succeed.
        desired: Vec<Tag>,
    },
}

/// Decides the tag step: reads the tags only when they must be compared and are not at hand
/// (`ListTagsForResource`), and makes no change.
pub async fn preview(aws: &RegionClients, input: &TagInput<'_>, common: &CommonStatus) -> Result<TagStep> {
    let desired = tags::desired(input.spec_tags);
    let recorded = common.applied_tags.as_ref();
    let requested_again =
        input.clock.requested_at.is_some() && input.clock.requested_at != common.tags_requested_at.as_deref();
    let pending = common.tags_pending.as_ref();
    let spec_changed = recorded.is_none_or(|r| *r != tags::record(&desired));
    let must_read = tags::needs_read(&desired, recorded, pending.is_some(), requested_again);
    let free_to_compare = input.reported.is_some() && input.settled;
    if !must_read && !free_to_compare {
        return Ok(TagStep::Unchanged);
    }
    let actual = match (input.reported, input.api) {
        (Some(reported), _) => reported.to_vec(),
        (None, TagApi::Ecs) => ecs::list_tags(aws, input.arn).await?,
        (None, TagApi::AppRunner) => apprunner::list_tags(aws, input.arn).await?,
    };
    let applied = tags::applied(recorded, pending, &desired);
    let change = tags::change(&desired, &applied, &actual);
    if change.is_empty() {
        return Ok(TagStep::InSync(desired));
    }
    let hash = tags::digest(&change);
    if tags::blocks(common.tag_rejection.as_ref(), &hash, &input.clock) {
        let message = common
            .tag_rejection
            .as_ref()
            .map(|r| r.message.clone())
            .unwrap_or_default();
        return Ok(TagStep::Blocked("AwsRejectedTags", message));
    }
    Ok(TagStep::Send {
        change,
        hash,
        spec_changed,
        desired,
    })
}

/// Carries out the tag step that [`preview`] decided: brings the service's tags to the spec.
/// Returns the Stalled reason and message when AWS rejected the tag change (now, or earlier and
/// its backoff has not passed); retryable failures are errors, retried with backoff like any
/// other. The caller has recorded a change it sends in `status.tagsPending` first.
pub async fn reconcile<K>(
    ctx: &Context,
    obj: &K,
    aws: &RegionClients,
    (input, step): (TagInput<'_>, TagStep),
    common: &mut CommonStatus,
) -> Result<Option<(&'static str, String)>>
where
    K: Resource<DynamicType = ()>,
{
    // NB: the annotation's request to read the tags again is answered only here, by a step that ran.
    common.tags_requested_at = input.clock.requested_at.map(str::to_string);
    let (change, hash, spec_changed, desired) = match step {
        TagStep::Unchanged => return Ok(None),
        TagStep::InSync(desired) => {
            common.applied_tags = Some(tags::record(&desired));
            common.tags_pending = None;
            common.tag_rejection = None;
            return Ok(None);
        }
        TagStep::Blocked(reason, message) => return Ok(Some((reason, message))),
        TagStep::Send {
            change,
            hash,
            spec_changed,
            desired,
        } => (change, hash, spec_changed, desired),
    };
    if let Err(err) = send(aws, input.api, input.arn, &change).await {
        return match &err {
            Error::Aws(f) if f.kind == AwsErrorKind::Terminal => {
                let message = format!(
                    "{}; runway tries again later, or at once when the \
                     runway.dev/reconcile-requested-at annotation changes",
                    f.summary()
                );
                common.tag_rejection = Some(tags::rejected(
                    common.tag_rejection.as_ref(),
                    &hash,
                    message.clone(),
                    &input.clock,
                ));
                Ok(Some(("AwsRejectedTags", message)))
            }
            _ => Err(err),
        };
    }
    if ctx.failpoint == Some(Failpoint::ExitAfterTags) {
        tracing::warn!("failpoint exit-after-tags: exiting before the status write");
        std::process::exit(86);
    }
    common.applied_tags = Some(tags::record(&desired));
    common.tags_pending = None;
    common.tag_rejection = None;
    let (reason, note) = if spec_changed {
        ("TagsUpdated", format!("tags: {}", change.describe()))
    } else {
        (
            "TagDriftCorrected",
            format!("tags differed from the spec in AWS; {}", change.describe()),
        )
    };
    tracing::info!(arn = input.arn, change = %change.describe(), "tags reconciled");
    events::publish(
        &ctx.recorder,
        obj,
        events::Note::new(!spec_changed, reason, "Tag", note),
    )
    .await;
    Ok(None)
}

/// Sends the change: TagResource for the tags to set, then UntagResource for the keys to remove.
async fn send(aws: &RegionClients, api: TagApi, arn: &str, change: &tags::TagChange) -> Result<()> {
    if !change.set.is_empty() {
        match api {
            TagApi::Ecs => ecs::tag(aws, arn, &change.set).await?,
            TagApi::AppRunner => apprunner::tag(aws, arn, &change.set).await?,
        }
    }
    if !change.remove.is_empty() {
        match api {
            TagApi::Ecs => ecs::untag(aws, arn, &change.remove).await?,
            TagApi::AppRunner => apprunner::untag(aws, arn, &change.remove).await?,
        }
    }
    Ok(())
}

/// Removes runway's owner tag from `arn`: runway gives up the service (deletionPolicy Retain). A
/// service that is already gone has nothing to give up.
pub async fn release_owner(aws: &RegionClients, api: TagApi, arn: &str) -> Result<()> {
    let keys = [crate::plan::OWNER_TAG.to_string()];
    let result = match api {
        TagApi::Ecs => ecs::untag(aws, arn, &keys).await,
        TagApi::AppRunner => apprunner::untag(aws, arn, &keys).await,
    };
    match result {
        Err(err) if err.aws_kind() == Some(AwsErrorKind::NotFound) => Ok(()),
        other => other,
    }
}
