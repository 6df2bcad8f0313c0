//! The shape every per-object bookkeeping map shares: entries by object key
//! (`bookkeeping::key`) behind a lock, that an object leaves when it is gone.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Entries of type `V` by object key.
pub struct Keyed<V>(Mutex<HashMap<String, V>>);

impl<V> Default for Keyed<V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<V> Keyed<V> {
    /// The map, to read or change. NB: every change leaves the map consistent, so a poisoned lock
    /// is fine.
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, V>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the entry of an object; forgetting one that has none changes nothing.
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The objects with an entry.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// How many objects have an entry.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no object has an entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
