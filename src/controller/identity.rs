//! The cluster identity that runway's owner tags carry, so that two clusters sharing an AWS account
//! never claim each other's services: `--cluster-id`, or by default the UID of the cluster's
//! `kube-system` Namespace, which lives as long as the cluster.

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::Api;

use crate::{Error, Result};

/// The cluster identity: `configured` when set, else the `kube-system` Namespace's UID.
pub async fn cluster_id(client: &Client, configured: Option<String>) -> Result<String> {
    if let Some(id) = configured.filter(|id| !id.is_empty()) {
        return valid(&id).then_some(id.clone()).ok_or_else(|| {
            Error::Config(format!(
                "--cluster-id {id:?}: use 1 to 64 letters, digits, '.', '_', ':' or '-'"
            ))
        });
    }
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = api.get_metadata("kube-system").await.map_err(|e| {
        Error::kube(
            "reading the kube-system Namespace's UID, the default cluster identity (set --cluster-id, \
             or grant get on namespaces/kube-system)",
            e,
        )
    })?;
    ns.metadata
        .uid
        .ok_or_else(|| Error::Config("the kube-system Namespace has no UID; set --cluster-id".into()))
}

/// Whether `id` fits in an owner tag value after `@`, in the character set ECS allows for tags.
pub fn valid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_id_fits_an_owner_tag() {
        assert!(valid("0f4e2c1a-6b1d-4a55-9a64-2d3c1b7e9f10"));
        assert!(valid("prod-eu_1:a.b"));
        assert!(!valid(""));
        assert!(!valid("a/b"));
        assert!(!valid("a@b"));
        assert!(!valid(&"x".repeat(65)));
    }
}
