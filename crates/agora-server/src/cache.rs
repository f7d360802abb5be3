//! A caching [`Storage`] layer: [`CachedStorage`] keeps small stored
//! artifacts (`.info`, `.mod`, zips of at most [`MAX_ZIP_BYTES`]) in memory
//! under one byte budget and passes everything else through.
//!
//! A stored version never changes, so its small files can be kept in memory
//! once read, which takes the disk (and the blocking pool) off the hot path:
//! most module zips are a few KiB, and a kept one is answered as one buffer
//! without a read copy or a hop to the blocking pool. A zip of
//! [`ZERO_COPY_MIN`] or more that the backend has as a local file keeps that
//! file open too (up to `MAX_KEPT_FILES`), so that a plain connection can
//! send it with `sendfile` ([`crate::zerocopy`]).
//! The one way a cached entry goes stale is an operator deleting a version
//! behind agora's back; entries then linger until evicted, which is the
//! price of not asking storage on every request. A delete made through this
//! layer evicts the version's entries.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::sync::{Arc, Mutex};

use agora_core::{Artifact, ModulePath, Version};
use agora_storage::{CatalogPage, NewVersion, Storage, StorageError, ZipObject};
use async_trait::async_trait;
use bytes::Bytes;

use crate::zerocopy::ZERO_COPY_MIN;

type Key = (ModulePath, Version, Artifact);

/// The largest zip kept in memory (also at most an eighth of the budget):
/// module zips are mostly far smaller, and a big one streams from storage
/// at the disk's speed anyway.
pub const MAX_ZIP_BYTES: usize = 512 << 10;

/// A kept body; a zip keeps the entity tag its backend gave it, so a ranged
/// download resumed across an eviction still matches.
#[derive(Clone)]
struct Entry {
    body: Bytes,
    zip_tag: Option<Arc<str>>,
    /// The zip's open file, for `sendfile` (see [`crate::zerocopy`]).
    file: Option<Arc<File>>,
}

/// At most this many kept zips keep their file open too (a descriptor each).
const MAX_KEPT_FILES: usize = 256;

/// A [`Storage`] that answers `info` and `go_mod` from memory once read.
pub struct CachedStorage {
    inner: Arc<dyn Storage>,
    cache: SmallCache,
}

impl CachedStorage {
    /// Wraps `inner`, holding at most `budget` bytes of bodies.
    pub fn new(inner: Arc<dyn Storage>, budget: usize) -> Self {
        CachedStorage {
            inner,
            cache: SmallCache::new(budget),
        }
    }

    async fn small(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
    ) -> Result<Bytes, StorageError> {
        if let Some(entry) = self.cache.get(module, version, artifact) {
            crate::metrics::metrics().cache(crate::metrics::CacheKind::SmallFiles, true);
            return Ok(entry.body);
        }
        crate::metrics::metrics().cache(crate::metrics::CacheKind::SmallFiles, false);
        let body = if artifact == Artifact::Info {
            self.inner.info(module, version).await?
        } else {
            self.inner.go_mod(module, version).await?
        };
        self.cache.insert(
            module,
            version,
            artifact,
            Entry {
                body: body.clone(),
                zip_tag: None,
                file: None,
            },
        );
        Ok(body)
    }
}

#[async_trait]
impl Storage for CachedStorage {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        self.inner.list(module).await
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        self.inner.exists(module, version).await
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.small(module, version, Artifact::Info).await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.small(module, version, Artifact::Mod).await
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        if let Some(entry) = self.cache.get(module, version, Artifact::Zip) {
            crate::metrics::metrics().cache(crate::metrics::CacheKind::SmallFiles, true);
            let tag = entry.zip_tag.as_deref().unwrap_or_default().to_owned();
            let zip = ZipObject::whole(tag, entry.body);
            return Ok(match entry.file {
                Some(file) => zip.with_file(file),
                None => zip,
            });
        }
        crate::metrics::metrics().cache(crate::metrics::CacheKind::SmallFiles, false);
        let zip = self.inner.zip(module, version).await?;
        if zip.size > self.cache.entry_limit(MAX_ZIP_BYTES) as u64 {
            return Ok(zip);
        }
        let tag = zip.tag.clone();
        let file = zip
            .file()
            .filter(|_| zip.size >= ZERO_COPY_MIN as u64)
            .cloned();
        let body = zip.read_whole().await?;
        let entry = Entry {
            body: body.clone(),
            zip_tag: Some(Arc::from(tag.as_str())),
            file: file.clone(),
        };
        self.cache.insert(module, version, Artifact::Zip, entry);
        let zip = ZipObject::whole(tag, body);
        Ok(match file {
            Some(file) => zip.with_file(file),
            None => zip,
        })
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        self.inner.put(module, version, new).await
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        let result = self.inner.delete(module, version).await;
        // Evicted even on failure: the delete may have gone half way.
        self.cache.remove(module, version);
        result
    }

    async fn ready(&self) -> Result<(), StorageError> {
        self.inner.ready().await
    }

    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        self.inner.catalog(token, page_size).await
    }
}

/// First-in, first-out eviction under a byte budget: simple, and for
/// immutable entries recency matters little.
struct SmallCache {
    inner: Mutex<Inner>,
    budget: usize,
}

/// Entries by module, then version (both as plain strings, so a lookup
/// borrows the request's and allocates nothing), one slot per artifact.
type Slots = [Option<Entry>; 3];

#[derive(Default)]
struct Inner {
    map: HashMap<String, HashMap<String, Slots>>,
    order: VecDeque<Key>,
    bytes: usize,
    /// Entries holding a file.
    files: usize,
}

fn slot(artifact: Artifact) -> usize {
    match artifact {
        Artifact::Info => 0,
        Artifact::Mod => 1,
        Artifact::Zip => 2,
    }
}

impl Inner {
    fn take(&mut self, module: &str, version: &str, artifact: Artifact) -> Option<Entry> {
        let versions = self.map.get_mut(module)?;
        let slots = versions.get_mut(version)?;
        let taken = slots[slot(artifact)].take();
        if slots.iter().all(Option::is_none) {
            versions.remove(version);
            if versions.is_empty() {
                self.map.remove(module);
            }
        }
        if let Some(e) = &taken {
            self.bytes -= e.body.len();
            self.files -= usize::from(e.file.is_some());
        }
        taken
    }
}

impl SmallCache {
    fn new(budget: usize) -> Self {
        SmallCache {
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    /// The largest body worth keeping: `cap`, and at most an eighth of the
    /// budget so one entry never flushes the rest.
    fn entry_limit(&self, cap: usize) -> usize {
        cap.min(self.budget / 8)
    }

    fn get(&self, module: &ModulePath, version: &Version, artifact: Artifact) -> Option<Entry> {
        let inner = self.inner.lock().ok()?;
        inner.map.get(module.as_str())?.get(version.as_str())?[slot(artifact)].clone()
    }

    /// Remembers an artifact, evicting the oldest entries over budget.
    fn insert(&self, module: &ModulePath, version: &Version, artifact: Artifact, mut entry: Entry) {
        let size = entry.body.len();
        if size > self.entry_limit(usize::MAX) {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let present = inner
            .map
            .get(module.as_str())
            .and_then(|v| v.get(version.as_str()))
            .is_some_and(|slots| slots[slot(artifact)].is_some());
        if present {
            return;
        }
        while inner.bytes + size > self.budget {
            let Some((m, v, a)) = inner.order.pop_front() else {
                break;
            };
            inner.take(m.as_str(), v.as_str(), a);
        }
        if entry.file.is_some() && inner.files >= MAX_KEPT_FILES {
            entry.file = None;
        }
        inner.bytes += size;
        inner.files += usize::from(entry.file.is_some());
        inner
            .order
            .push_back((module.clone(), version.clone(), artifact));
        inner
            .map
            .entry(module.as_str().to_owned())
            .or_default()
            .entry(version.as_str().to_owned())
            .or_default()[slot(artifact)] = Some(entry);
    }

    fn remove(&self, module: &ModulePath, version: &Version) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        for artifact in [Artifact::Info, Artifact::Mod, Artifact::Zip] {
            if inner
                .take(module.as_str(), version.as_str(), artifact)
                .is_some()
            {
                inner
                    .order
                    .retain(|(m, v, a)| !(m == module && v == version && *a == artifact));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use agora_storage::memory::MemoryStorage;

    use super::*;

    #[test]
    fn evicts_oldest_over_budget() {
        let c = SmallCache::new(800);
        let m = ModulePath::new("example.com/m").unwrap();
        let e = |n: usize| Entry {
            body: Bytes::from(vec![0u8; n]),
            zip_tag: None,
            file: None,
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

    #[tokio::test]
    async fn small_files_are_read_once_and_deletes_evict() {
        let backend = Arc::new(MemoryStorage::new());
        let cached = CachedStorage::new(backend.clone(), 1 << 20);
        let (m, v) = (
            ModulePath::new("example.com/m").unwrap(),
            Version::from_trusted("v1.0.0"),
        );
        let zip = tempfile::NamedTempFile::new().unwrap();
        let new = NewVersion {
            info: Bytes::from_static(b"{\"Version\":\"v1.0.0\"}"),
            go_mod: Bytes::from_static(b"module example.com/m\n"),
            zip: zip.path().to_path_buf(),
        };
        cached.put(&m, &v, new).await.unwrap();
        assert_eq!(
            cached.go_mod(&m, &v).await.unwrap(),
            "module example.com/m\n"
        );
        assert_eq!(
            cached.info(&m, &v).await.unwrap(),
            "{\"Version\":\"v1.0.0\"}"
        );
        // Gone from the backend behind the cache's back: still answered.
        backend.delete(&m, &v).await.unwrap();
        assert!(!cached.exists(&m, &v).await.unwrap());
        assert_eq!(
            cached.go_mod(&m, &v).await.unwrap(),
            "module example.com/m\n"
        );
        // A miss is not cached: the backend's answer passes through.
        let other = Version::from_trusted("v2.0.0");
        assert!(cached.info(&m, &other).await.unwrap_err().is_not_found());
        // Deleted through the cache: evicted, so the backend answers.
        let zip = tempfile::NamedTempFile::new().unwrap();
        let new = NewVersion {
            info: Bytes::from_static(b"{}"),
            go_mod: Bytes::from_static(b"module example.com/m\n"),
            zip: zip.path().to_path_buf(),
        };
        backend.put(&m, &v, new).await.unwrap();
        cached.delete(&m, &v).await.unwrap();
        assert!(cached.go_mod(&m, &v).await.unwrap_err().is_not_found());
    }

    async fn put_zip(storage: &dyn Storage, m: &ModulePath, v: &Version, zip: &[u8]) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), zip).unwrap();
        let new = NewVersion {
            info: Bytes::from_static(b"{}"),
            go_mod: Bytes::from_static(b"module example.com/m\n"),
            zip: file.path().to_path_buf(),
        };
        storage.put(m, v, new).await.unwrap();
    }

    async fn body(zip: ZipObject) -> Vec<u8> {
        use futures_util::StreamExt;
        let size = zip.size;
        let mut s = zip.stream(0..size).await.unwrap();
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn small_zips_are_kept_whole_and_big_ones_stream() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Storage> =
            Arc::new(agora_storage::fs::DiskStorage::open(dir.path()).unwrap());
        let cached = CachedStorage::new(backend.clone(), 8 << 20);
        let m = ModulePath::new("example.com/m").unwrap();
        let (small, big) = (
            Version::from_trusted("v1.0.0"),
            Version::from_trusted("v1.1.0"),
        );
        let small_zip: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
        let big_zip = vec![7u8; MAX_ZIP_BYTES + 1];
        put_zip(&*backend, &m, &small, &small_zip).await;
        put_zip(&*backend, &m, &big, &big_zip).await;

        let first = cached.zip(&m, &small).await.unwrap();
        let tag = first.tag.clone();
        assert_eq!(first.as_whole().map(|b| b.len()), Some(small_zip.len()));
        assert_eq!(body(first).await, small_zip);
        let big_obj = cached.zip(&m, &big).await.unwrap();
        assert!(
            big_obj.as_whole().is_none(),
            "over the entry limit: streamed"
        );
        assert_eq!(body(big_obj).await, big_zip);

        // Gone from disk behind the cache's back: the kept zip still answers,
        // with the tag the backend gave it.
        std::fs::remove_dir_all(dir.path().join("example.com")).unwrap();
        let again = cached.zip(&m, &small).await.unwrap();
        assert_eq!(again.tag, tag);
        assert_eq!(body(again).await, small_zip);
        assert!(cached.zip(&m, &big).await.unwrap_err().is_not_found());

        // A delete through the cache evicts the zip too.
        put_zip(&*backend, &m, &small, &small_zip).await;
        cached.delete(&m, &small).await.unwrap();
        assert!(cached.zip(&m, &small).await.unwrap_err().is_not_found());
    }

    #[tokio::test]
    async fn a_zero_budget_keeps_nothing() {
        let backend = Arc::new(MemoryStorage::new());
        let cached = CachedStorage::new(backend.clone(), 0);
        let (m, v) = (
            ModulePath::new("example.com/m").unwrap(),
            Version::from_trusted("v1.0.0"),
        );
        put_zip(&*backend, &m, &v, b"zip").await;
        assert_eq!(body(cached.zip(&m, &v).await.unwrap()).await, b"zip");
        backend.delete(&m, &v).await.unwrap();
        assert!(cached.zip(&m, &v).await.unwrap_err().is_not_found());
        assert!(cached.info(&m, &v).await.unwrap_err().is_not_found());
    }
}
