//! The controller's cache in compact form.
//!
//! kube-runtime's reflector keeps every watched object for the life of the process, and a typed
//! `ExpressService` with its status (conditions, the `targetConfiguration` copied from AWS) takes
//! about 7 KB of heap. [`Compact`] keeps instead what the queue and the admission step read before a
//! reconcile starts (name, namespace, uid, resourceVersion, generation, deletion, finalizers and
//! runway's own annotations, and whether the resource is [`settled`]) and the whole object as JSON,
//! compressed with LZ4 against a dictionary: the JSON of the first settled object of its kind that
//! this process compacted. Objects of one kind share most of their text (field names, ARN prefixes,
//! condition messages), so a settled ExpressService of 3.5 KB of JSON takes a few hundred bytes. A
//! reconcile decodes its object once, after it has been admitted, so only the reconciles running at
//! once hold a whole object.
//!
//! Nothing is lost: the body is the object as the API server sent it, less what [`strip`] drops
//! (`managedFields` and the last-applied annotation, which runway never reads).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::first_sight::settled;
use crate::controller::managed::Managed;
use crate::{Error, Result};

/// The annotation `kubectl apply` (client-side) leaves: a second copy of the spec.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The prefix of the annotations that runway reads before a reconcile (paused, reconcile
/// requested); the compact metadata keeps only these.
const RUNWAY_ANNOTATIONS: &str = "runway.dev/";

/// Refuses to decompress a body past this size; a cached object is a few KB and the API server's
/// own limit for an object is 1.5 MiB.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The compression dictionary of a kind: the JSON of the first settled object of that kind that
/// this process compacted (until one is seen, the first object of the kind). Every body keeps the
/// dictionary it was compressed with, so a later, better dictionary never breaks an earlier body.
// NB: after a mass apply the first object is a bare spec; the first settled one also has the
// status text (conditions, targetConfiguration) that every settled object repeats.
fn dictionary(kind: &str, json: &[u8], settled: bool) -> Arc<[u8]> {
    /// Per kind: the dictionary, and whether it came from a settled object.
    type Dictionaries = Mutex<HashMap<String, (Arc<[u8]>, bool)>>;
    static DICTIONARIES: OnceLock<Dictionaries> = OnceLock::new();
    let mut dictionaries = DICTIONARIES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let entry = dictionaries
        .entry(kind.to_string())
        .or_insert_with(|| (Arc::from(json), settled));
    if settled && !entry.1 {
        *entry = (Arc::from(json), true);
    }
    entry.0.clone()
}

/// A compressed JSON body and the dictionary it was compressed with.
#[derive(Clone)]
struct Body {
    compressed: Box<[u8]>,
    dictionary: Arc<[u8]>,
}

/// Drops what runway never reads from an object: `managedFields` and the last-applied annotation
/// together are often larger than the spec.
pub fn strip<K: Resource>(obj: &mut K) {
    obj.meta_mut().managed_fields = None;
    if let Some(annotations) = obj.meta_mut().annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

/// A cached object: the metadata that the controller's queue and admission read, and the whole
/// object as deflated JSON, decoded by [`Compact::decode`] when its reconcile runs.
pub struct Compact<K> {
    meta: ObjectMeta,
    settled: bool,
    body: std::result::Result<Body, String>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Compact<K>
where
    K: Resource<DynamicType = ()> + Managed + Serialize,
{
    /// Compacts an object: strips it, keeps the metadata the queue reads and compresses the rest.
    pub fn new(mut obj: K) -> Self {
        strip(&mut obj);
        let settled = settled(&obj);
        let body = serde_json::to_vec(&obj)
            .map(|json| {
                let dictionary = dictionary(&K::kind(&()), &json, settled);
                Body {
                    compressed: lz4_flex::block::compress_prepend_size_with_dict(&json, &dictionary)
                        .into_boxed_slice(),
                    dictionary,
                }
            })
            .map_err(|e| e.to_string());
        let full = obj.meta();
        let annotations: std::collections::BTreeMap<String, String> = full
            .annotations
            .iter()
            .flatten()
            .filter(|(k, _)| k.starts_with(RUNWAY_ANNOTATIONS))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let meta = ObjectMeta {
            name: full.name.clone(),
            namespace: full.namespace.clone(),
            uid: full.uid.clone(),
            resource_version: full.resource_version.clone(),
            generation: full.generation,
            deletion_timestamp: full.deletion_timestamp.clone(),
            finalizers: full.finalizers.clone(),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        };
        Self {
            meta,
            settled,
            body,
            kind: PhantomData,
        }
    }
}

impl<K: DeserializeOwned> Compact<K> {
    /// The whole object, as it was cached.
    pub fn decode(&self) -> Result<K> {
        let what = || {
            format!(
                "{}/{}",
                self.meta.namespace.as_deref().unwrap_or_default(),
                self.meta.name.as_deref().unwrap_or_default()
            )
        };
        let body = self
            .body
            .as_ref()
            .map_err(|e| Error::Cache(format!("{}: encoding failed: {e}", what())))?;
        let size = body
            .compressed
            .first_chunk::<4>()
            .map(|b| u32::from_le_bytes(*b) as usize);
        if size.is_none_or(|n| n > MAX_BODY) {
            return Err(Error::Cache(format!(
                "{}: body size {size:?} is not valid",
                what()
            )));
        }
        let json = lz4_flex::block::decompress_size_prepended_with_dict(&body.compressed, &body.dictionary)
            .map_err(|e| Error::Cache(format!("{}: decompressing: {e}", what())))?;
        serde_json::from_slice(&json).map_err(|e| Error::Cache(format!("{}: decoding: {e}", what())))
    }
}

impl<K> Compact<K> {
    /// Whether the object was [`settled`] when it was cached.
    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// Heap bytes of the compressed body (the dictionary is shared by the kind).
    pub fn body_len(&self) -> usize {
        self.body.as_ref().map_or(0, |b| b.compressed.len())
    }
}

impl<K> Clone for Compact<K> {
    fn clone(&self) -> Self {
        Self {
            meta: self.meta.clone(),
            settled: self.settled,
            body: self.body.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for Compact<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compact")
            .field("namespace", &self.meta.namespace)
            .field("name", &self.meta.name)
            .field("resource_version", &self.meta.resource_version)
            .field("settled", &self.settled)
            .field("body_len", &self.body_len())
            .finish()
    }
}

impl<K> Resource for Compact<K>
where
    K: Resource<DynamicType = ()>,
{
    type DynamicType = ();
    type Scope = K::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        K::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

// NB: kube-runtime's Controller asks its object type to be deserializable; a Compact is only ever
// built from a watched K, and this does the same from K's JSON.
impl<'de, K> Deserialize<'de> for Compact<K>
where
    K: Resource<DynamicType = ()> + Managed + Serialize + DeserializeOwned,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        K::deserialize(deserializer).map(Compact::new)
    }
}

/// Compacts the object of one watch event.
pub fn compact_event<K>(event: watcher::Event<K>) -> watcher::Event<Compact<K>>
where
    K: Resource<DynamicType = ()> + Managed + Serialize,
{
    match event {
        watcher::Event::Apply(obj) => watcher::Event::Apply(Compact::new(obj)),
        watcher::Event::Delete(obj) => watcher::Event::Delete(Compact::new(obj)),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(obj) => watcher::Event::InitApply(Compact::new(obj)),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::express::ExpressService;
    use crate::controller::trigger_hash;
    use kube::ResourceExt;

    fn settled_service() -> ExpressService {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "runway.dev/v1alpha1",
            "kind": "ExpressService",
            "metadata": {
                "name": "orders-api",
                "namespace": "demo",
                "uid": "7d79bf5c-8a4b-4490-9a66-1328362e5f97",
                "resourceVersion": "228",
                "generation": 1,
                "finalizers": ["runway.dev/cleanup"],
                "labels": {"team": "orders"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{}}",
                    "argocd.argoproj.io/tracking-id": "orders:runway.dev/ExpressService:demo/orders-api",
                    "runway.dev/paused": "false"
                },
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}]
            },
            "spec": {
                "infrastructureRoleArn": "arn:aws:iam::123456789012:role/infra",
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/orders-api:7",
                "healthCheckPath": "/ping"
            },
            "status": {
                "observedGeneration": 1,
                "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/default/orders-api",
                "conditions": [{
                    "type": "Ready", "status": "True", "reason": "Ready", "observedGeneration": 1,
                    "message": "service is ACTIVE", "lastTransitionTime": "2026-12-01T15:42:41Z"
                }]
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_compact_object_decodes_to_the_object_less_what_runway_never_reads() {
        let obj = settled_service();
        let compact = Compact::new(obj.clone());
        let decoded = compact.decode().unwrap();
        let mut expected = obj;
        strip(&mut expected);
        assert_eq!(
            serde_json::to_value(&decoded).unwrap(),
            serde_json::to_value(&expected).unwrap()
        );
        assert!(decoded.metadata.managed_fields.is_none());
        assert!(!decoded.annotations().contains_key(LAST_APPLIED));
        assert_eq!(decoded.labels().get("team").map(String::as_str), Some("orders"));
    }

    #[test]
    fn the_compact_metadata_keeps_what_the_queue_reads_and_only_that() {
        let obj = settled_service();
        let compact = Compact::new(obj.clone());
        assert_eq!(trigger_hash(&compact), trigger_hash(&obj));
        assert!(compact.is_settled());
        assert_eq!(compact.meta().uid, obj.metadata.uid);
        assert_eq!(compact.meta().resource_version, obj.metadata.resource_version);
        assert_eq!(
            compact.annotations().keys().collect::<Vec<_>>(),
            vec!["runway.dev/paused"]
        );
        assert!(compact.labels().is_empty());
        assert!(compact.body_len() < serde_json::to_vec(&obj).unwrap().len());

        let mut pending = obj;
        pending.status.as_mut().unwrap().common.observed_generation = Some(0);
        assert!(!Compact::new(pending).is_settled());
    }

    #[test]
    fn a_corrupt_body_is_an_error_not_a_panic() {
        let mut compact = Compact::new(settled_service());
        for corrupt in [
            vec![1, 2, 3],
            vec![255, 255, 255, 255, 0],
            vec![16, 0, 0, 0, 0xf0, 1, 2],
        ] {
            compact.body.as_mut().unwrap().compressed = corrupt.into_boxed_slice();
            let err = Compact::<ExpressService>::decode(&compact).unwrap_err();
            assert!(err.to_string().contains("demo/orders-api"), "{err}");
        }
    }

    #[test]
    fn the_first_settled_object_replaces_a_bare_dictionary_and_old_bodies_still_decode() {
        let bare = br#"{"spec":{}}"#;
        let first = dictionary("Probe", bare, false);
        assert_eq!(&*first, bare);
        assert_eq!(
            &*dictionary("Probe", b"{\"other\":1}", false),
            bare,
            "kept until a settled one"
        );
        let settled = dictionary("Probe", b"{\"status\":{}}", true);
        assert_eq!(&*settled, b"{\"status\":{}}");
        assert_eq!(
            &*dictionary("Probe", b"{}", true),
            b"{\"status\":{}}",
            "then never replaced"
        );
    }

    #[test]
    fn objects_of_one_kind_compress_against_the_first_one() {
        let first = Compact::new(settled_service());
        let mut other = settled_service();
        other.metadata.name = Some("payments-api".into());
        other.metadata.uid = Some("0f1e2d3c-8a4b-4490-9a66-1328362e5f97".into());
        other.spec.health_check_path = Some("/health".into());
        let json = serde_json::to_vec(&other).unwrap().len();
        let compact = Compact::new(other.clone());
        assert!(
            compact.body_len() * 4 < json,
            "{} bytes compressed from {json}",
            compact.body_len()
        );
        assert_eq!(compact.decode().unwrap().spec, other.spec);
        assert_eq!(
            first.decode().unwrap().metadata.name.as_deref(),
            Some("orders-api")
        );
    }
}
