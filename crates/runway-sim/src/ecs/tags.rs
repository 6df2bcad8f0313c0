//! The tagging actions on Express services: TagResource, UntagResource and ListTagsForResource
//! (docs/aws-behaviour.md E30).
//!
//! Data flow: the request's tags are checked with the create-time rules (`types::validate_tags`),
//! the ARN is checked and resolved to a service (`resolve`), then the service's tag list is
//! changed in place. A tag change is metadata only: it starts no deployment and leaves `updatedAt`
//! and every configuration alone.

use serde::Deserialize;
use serde_json::{Value, json};

use super::express::MANAGED_TAG_KEY;
use super::model::{EcsState, invalid};
use super::rollout::Lifecycle;
use super::types::{MAX_TAGS, Tag, reserved_prefix, validate_tag_key, validate_tags};
use crate::wire::{AwsError, RequestContext, parse_input};

/// Which action asks: they answer a missing service with different codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// TagResource and UntagResource, which declare `ResourceNotFoundException`.
    Change,
    /// ListTagsForResource, which declares no not-found code.
    List,
}

/// A service that never existed, is gone, or is INACTIVE.
/// NB: TagResource and UntagResource declare `ResourceNotFoundException` and answer it with the
/// model's text. ListTagsForResource declares none; it answers what the Express calls answer for a
/// gone service, `InvalidParameterException` "Resource not found." (E2), as Terraform also reads an
/// `InvalidParameterException` from it as "not found" (an inactive cluster). Both are assumed
/// (docs/aws-behaviour.md E30).
fn not_found(action: Action) -> AwsError {
    match action {
        Action::Change => AwsError::new(
            "ResourceNotFoundException",
            "The specified resource wasn't found.",
        ),
        Action::List => invalid("Resource not found."),
    }
}

/// The service a tagging call names, in the caller's region.
///
/// - no `resourceArn`, or not an ECS ARN: `InvalidParameterException`;
/// - a service ARN without a cluster (the old short format): `InvalidParameterException` "Long arn
///   format must be used for tagging operations" (model text of `TagResourceRequest.resourceArn`,
///   and the message real accounts send);
/// - a named cluster no Express service was created in: `ClusterNotFoundException` (E21);
/// - any other resource, a service that is not there or is INACTIVE: [`not_found`]. A DRAINING
///   service is still there (it is still described) and can be tagged.
fn resolve(
    state: &EcsState,
    ctx: &RequestContext,
    arn: Option<String>,
    action: Action,
) -> Result<usize, AwsError> {
    let arn = arn
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| invalid("resourceArn must be specified."))?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "ecs", _, _, resource] = parts.as_slice() else {
        return Err(invalid("The ARN provided is invalid."));
    };
    let Some(path) = resource.strip_prefix("service/") else {
        // NB: clusters, tasks and task definitions can be tagged in ECS; the simulator has no such
        // resources to tag.
        return Err(not_found(action));
    };
    let Some((cluster, _name)) = path.split_once('/') else {
        return Err(invalid("Long arn format must be used for tagging operations"));
    };
    state.require_cluster(ctx, Some(cluster))?;
    let index = state.find_by_arn(ctx, &arn).ok_or_else(|| not_found(action))?;
    // NB: "When a resource is deleted, the tags that are associated with that resource are deleted
    // as well" (`ecs TagResource`): an INACTIVE service has finished its deletion.
    if state.services[index].lifecycle(ctx.now) == Lifecycle::Inactive {
        return Err(not_found(action));
    }
    Ok(index)
}

/// Whether a tag counts toward the 50-tag limit: AWS's own (`aws:` prefix, and the managed tag the
/// simulator adds, E19) do not.
fn counts(tag: &Tag) -> bool {
    tag.key
        .as_deref()
        .is_some_and(|key| key != MANAGED_TAG_KEY && !reserved_prefix(key))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagInput {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

/// TagResource: adds the request's tags and overwrites the values of keys the service already has;
/// tags the request does not name are unchanged. At most 50 tags after the change
/// (`LimitExceededException`).
pub(super) fn tag_resource(
    state: &mut EcsState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: TagInput = parse_input(body)?;
    let tags = input.tags.ok_or_else(|| invalid("tags must be specified."))?;
    validate_tags(&tags)?;
    let index = resolve(state, ctx, input.resource_arn, Action::Change)?;
    let mut next = state.services[index].tags.clone();
    for tag in tags {
        match next.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => {
                // NB: new tags go before AWS's managed tag, which stays last as at create (E19).
                let at = next
                    .iter()
                    .position(|t| t.key.as_deref() == Some(MANAGED_TAG_KEY))
                    .unwrap_or(next.len());
                next.insert(at, tag);
            }
        }
    }
    let count = next.iter().filter(|t| counts(t)).count();
    if count > MAX_TAGS {
        return Err(AwsError::new(
            "LimitExceededException",
            format!(
                "The limit for the resource was exceeded: it would have {count} tags, and a resource \
                 can have at most {MAX_TAGS}."
            ),
        ));
    }
    state.services[index].tags = next;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UntagInput {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

/// UntagResource: removes the named keys. A key the service does not have is no error.
/// NB: keys with the `aws:` prefix cannot be deleted (`ecs Tag`), so naming one is an
/// `InvalidParameterException`; `AmazonECSManaged` has no such prefix and can be removed, as the
/// ECS guide warns (E19).
pub(super) fn untag_resource(
    state: &mut EcsState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: UntagInput = parse_input(body)?;
    let keys = input
        .tag_keys
        .ok_or_else(|| invalid("tagKeys must be specified."))?;
    for key in &keys {
        validate_tag_key(Some(key))?;
    }
    let index = resolve(state, ctx, input.resource_arn, Action::Change)?;
    state.services[index]
        .tags
        .retain(|t| t.key.as_ref().is_none_or(|key| !keys.contains(key)));
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    resource_arn: Option<String>,
}

/// ListTagsForResource: every tag of the service, the managed tag included: the same list
/// DescribeExpressGatewayService reports with `include: [TAGS]`.
pub(super) fn list_tags_for_resource(
    state: &mut EcsState,
    ctx: &RequestContext,
    body: Value,
) -> Result<Value, AwsError> {
    let input: ListInput = parse_input(body)?;
    let index = resolve(state, ctx, input.resource_arn, Action::List)?;
    Ok(json!({ "tags": super::render::tags(&state.services[index]) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str) -> Tag {
        Tag {
            key: Some(key.to_string()),
            value: Some("v".to_string()),
        }
    }

    #[test]
    fn aws_tags_and_the_managed_tag_do_not_count() {
        assert!(counts(&tag("team")));
        assert!(!counts(&tag(MANAGED_TAG_KEY)));
        assert!(!counts(&tag("aws:cloudformation:stack-name")));
        assert!(!counts(&tag("AWS:x")));
    }
}
