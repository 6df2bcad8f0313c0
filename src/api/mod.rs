//! The custom resources that runway serves, group `runway.dev`, version `v1alpha1`.
//!
//! `express` and `apprunner` hold one resource each; `common` holds what they share. [`crds`] renders
//! every CustomResourceDefinition, which `runway crds` prints and `crds/` keeps checked in.

pub mod apprunner;
pub mod common;
pub mod express;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use apprunner::{AppRunnerService, AppRunnerServiceSpec, AppRunnerServiceStatus};
pub use express::{ExpressService, ExpressServiceSpec, ExpressServiceStatus};

use crate::{Error, Result};

/// Every CRD that runway serves, in a stable order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![ExpressService::crd(), AppRunnerService::crd()]
}

/// The file name under `crds/` for a CRD: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// Renders one CRD as a YAML document.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String> {
    crate::manifests::to_string(crd).map_err(|source| Error::Yaml {
        what: crd_file_name(crd),
        source,
    })
}

/// Renders every CRD as one multi-document YAML stream, as `runway crds` prints it.
pub fn all_crds_yaml() -> Result<String> {
    let docs = crds().iter().map(crd_yaml).collect::<Result<Vec<_>>>()?;
    Ok(docs
        .iter()
        .map(|d| format!("---\n{d}"))
        .collect::<Vec<_>>()
        .join(""))
}
