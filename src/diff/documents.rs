//! Which documents of the manifests `runway diff` compares (pure).
//!
//! Data flow: the YAML documents of one `-f` source go to [`sort`], which expands lists as kubectl
//! does (`kind: List`, and typed lists such as `ExpressServiceList`, whose items may leave out
//! their apiVersion and kind), fills in the namespace of resources that name none, and turns each
//! runway resource into its type. Every other document is named in [`Sorted::skipped`], so that
//! the command can say on stderr what it did not compare. A `runway.dev` document of a version or
//! kind runway does not serve is an error: skipping it would report "no change" for a manifest
//! that `kubectl apply` would reject or that no controller would ever act on.

use kube::Resource;
use serde_json::Value;

use crate::api::apprunner::AppRunnerService;
use crate::api::express::ExpressService;
use crate::{Error, Result};

/// The API group of runway's resources.
pub const GROUP: &str = "runway.dev";

/// One runway resource from the manifests.
#[derive(Debug)]
pub enum Doc {
    /// An ExpressService.
    Express(Box<ExpressService>),
    /// An AppRunnerService.
    AppRunner(Box<AppRunnerService>),
}

/// The documents of one source, sorted.
#[derive(Debug, Default)]
pub struct Sorted {
    /// The runway resources, in the order of the manifests.
    pub resources: Vec<Doc>,
    /// Each document that is not a runway resource, named, with why it was skipped.
    pub skipped: Vec<String>,
}

/// Every document of `documents`, read from `source` (a file name, or `standard input`), with
/// lists expanded: runway resources (their namespace `namespace` where they name none) and the
/// names of the others. Errors name the document: a `runway.dev` document runway does not serve,
/// or a runway resource that does not parse.
pub fn sort(documents: Vec<Value>, source: &str, namespace: &str) -> Result<Sorted> {
    let mut sorted = Sorted::default();
    for (i, mut doc) in expand(documents).into_iter().enumerate() {
        let (api_version, kind) = (text(&doc, "apiVersion"), text(&doc, "kind"));
        let runway = !kind.is_empty() && group_of(&api_version) == GROUP;
        if runway {
            default_namespace(&mut doc, namespace);
        }
        let label = format!("{source}, document {} ({})", i + 1, describe(&doc));
        if api_version.is_empty() || kind.is_empty() {
            sorted.skipped.push(format!(
                "{label}: not a Kubernetes object (no apiVersion or kind)"
            ));
        } else if !runway {
            sorted.skipped.push(format!("{label}: not a runway resource"));
        } else {
            sorted.resources.push(resource(doc, &api_version, &kind, &label)?);
        }
    }
    Ok(sorted)
}

/// A `runway.dev` document as its type; an error for a version or kind runway does not serve.
fn resource(doc: Value, api_version: &str, kind: &str, label: &str) -> Result<Doc> {
    let parse_error = |source| Error::Yaml {
        what: label.to_string(),
        source,
    };
    let express = (ExpressService::api_version(&()), ExpressService::kind(&()));
    let apprunner = (AppRunnerService::api_version(&()), AppRunnerService::kind(&()));
    if (api_version, kind) == (&express.0, &express.1) {
        return Ok(Doc::Express(Box::new(
            crate::manifests::from_value(doc).map_err(parse_error)?,
        )));
    }
    if (api_version, kind) == (&apprunner.0, &apprunner.1) {
        return Ok(Doc::AppRunner(Box::new(
            crate::manifests::from_value(doc).map_err(parse_error)?,
        )));
    }
    Err(Error::InvalidSpec(format!(
        "{label}: runway does not serve {kind} in {api_version}; it serves {} {} and {} {}",
        express.0, express.1, apprunner.0, apprunner.1
    )))
}

/// The documents with every list replaced by its items, recursively, as kubectl reads them: a
/// document whose kind ends in `List` and that has an `items` array. The items of a typed list
/// (`runway.dev/v1alpha1` `ExpressServiceList`) take its apiVersion and the kind it lists when
/// they name none, as the API server leaves them out.
pub fn expand(documents: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for doc in documents {
        let kind = text(&doc, "kind");
        let Some(items) = doc
            .get("items")
            .and_then(Value::as_array)
            .filter(|_| kind.ends_with("List"))
        else {
            out.push(doc);
            continue;
        };
        let api_version = text(&doc, "apiVersion");
        let item_kind = kind.strip_suffix("List").unwrap_or_default();
        let items = items.iter().cloned().map(|mut item| {
            if !item_kind.is_empty()
                && let Some(map) = item.as_object_mut()
            {
                map.entry("apiVersion")
                    .or_insert_with(|| api_version.clone().into());
                map.entry("kind").or_insert_with(|| item_kind.into());
            }
            item
        });
        out.extend(expand(items.collect()));
    }
    out
}

/// `apiVersion kind namespace/name` of a document, as far as it says.
fn describe(doc: &Value) -> String {
    let name = doc.pointer("/metadata/name").and_then(Value::as_str);
    let namespace = doc.pointer("/metadata/namespace").and_then(Value::as_str);
    let object = match (namespace, name) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.to_string(),
        _ => "unnamed".into(),
    };
    let words = [text(doc, "apiVersion"), text(doc, "kind"), object];
    words
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The group of an apiVersion: `""` for the core group's `v1`; a bare group (`runway.dev`, a
/// version left out) is that group.
fn group_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None if api_version.contains('.') => api_version,
        None => "",
    }
}

/// A top-level string field of a document, or `""`.
fn text(doc: &Value, field: &str) -> String {
    doc.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Sets `metadata.namespace` where the document names none.
fn default_namespace(doc: &mut Value, namespace: &str) {
    if doc.pointer("/metadata/namespace").is_some() {
        return;
    }
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), namespace.into());
    }
}
