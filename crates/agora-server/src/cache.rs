//! A bounded in-memory cache of small stored artifacts (`.info`, `.mod`).
//!
//! A stored version never changes, so its small files can be kept in memory
//! once read, which takes the disk (and the blocking pool) off the hot path.
//! The one way a cached entry goes stale is an operator deleting a version
//! behind agora's back; entries then linger until evicted, which is the
//! price of not asking storage on every request.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use agora_core::{Artifact, ModulePath, Version};
use bytes::Bytes;

type Key = (ModulePath, Version, Artifact);

/// A cached body and its entity tag.
#[derive(Clone)]
pub struct Entry {
    /// The artifact's bytes.
    pub body: Bytes,
    /// Its strong entity tag, quoted.
    pub etag: String,
}

/// First-in, first-out eviction under a byte budget: simple, and for
/// immutable entries recency matters little.
pub struct SmallCache {
    inner: Mutex<Inner>,
    budget: usize,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Entry>,
    order: VecDeque<Key>,
    bytes: usize,
}

impl SmallCache {
    /// A cache holding at most `budget` bytes of bodies.
    pub fn new(budget: usize) -> Self {
        SmallCache {
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    /// Looks an artifact up.
    pub fn get(&self, module: &ModulePath, version: &Version, artifact: Artifact) -> Option<Entry> {
        let inner = self.inner.lock().ok()?;
        inner
            .map
            .get(&(module.clone(), version.clone(), artifact))
            .cloned()
    }

    /// Remembers an artifact, evicting the oldest entries over budget.
    pub fn insert(&self, module: &ModulePath, version: &Version, artifact: Artifact, entry: Entry) {
        let size = entry.body.len();
        if size > self.budget / 8 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let key = (module.clone(), version.clone(), artifact);
        if inner.map.contains_key(&key) {
            return;
        }
        while inner.bytes + size > self.budget {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(e) = inner.map.remove(&old) {
                inner.bytes -= e.body.len();
            }
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.map.insert(key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_over_budget() {
        let c = SmallCache::new(800);
        let m = ModulePath::new("example.com/m").unwrap();
        let e = |n: usize| Entry {
            body: Bytes::from(vec![0u8; n]),
            etag: String::new(),
        };
        for i in 0..10 {
            c.insert(
                &m,
                &Version::from_trusted(&format!("v1.0.{i}")),
                Artifact::Info,
                e(100),
            );
        }
        assert!(
            c.get(&m, &Version::from_trusted("v1.0.0"), Artifact::Info)
                .is_none()
        );
        assert!(
            c.get(&m, &Version::from_trusted("v1.0.9"), Artifact::Info)
                .is_some()
        );
        assert!(
            c.get(&m, &Version::from_trusted("v1.0.9"), Artifact::Mod)
                .is_none()
        );
        // Too big for the budget share: not cached at all.
        c.insert(&m, &Version::from_trusted("v9.0.0"), Artifact::Mod, e(500));
        assert!(
            c.get(&m, &Version::from_trusted("v9.0.0"), Artifact::Mod)
                .is_none()
        );
    }
}
