//! Status writes: one server-side-apply patch of the status subresource, with runway's field
//! manager, sent only when the status actually changed.

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::FIELD_MANAGER;
use crate::{Error, Result};

/// Applies `status` to the object's status subresource unless it equals `previous`. Returns the
/// object's resourceVersion after the write, or `None` when nothing was written.
pub async fn apply_status<K, S>(
    api: &Api<K>,
    name: &str,
    previous: Option<&S>,
    status: &S,
) -> Result<Option<String>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if previous == Some(status) {
        return Ok(None);
    }
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let written = api
        .patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await
        .map_err(|e| Error::kube(format!("writing status of {name}"), e))?;
    Ok(written.meta().resource_version.clone())
}
