//! In-memory storage, for tests and throwaway runs (Athens' `memory` type).
//!
//! It holds every zip in memory: that is its purpose, and why it is never the
//! default. Its contents vanish with the process.
//!
//! Its catalog order is the disk backend's (Athens' memory storage is its disk
//! code on an in-memory file system): by the `/`-separated elements of
//! `<module>/<version>`, each compared bytewise, a path before everything under it.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

static SEQ: AtomicU64 = AtomicU64::new(0);

use agora_core::{ModulePath, Version};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream;

use crate::{
    ByteStream, CatalogPage, NewVersion, Storage, StorageError, ZipObject, ZipSource, catalog_page,
    catalog_want, parse_catalog_token,
};

#[derive(Debug)]
struct Stored {
    info: Bytes,
    go_mod: Bytes,
    zip: Bytes,
    seq: u64,
}

type Key = (String, String);

/// Storage in process memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    versions: Arc<RwLock<HashMap<Key, Arc<Stored>>>>,
    blobs: Arc<RwLock<HashMap<String, Bytes>>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, module: &ModulePath, version: &Version) -> Result<Arc<Stored>, StorageError> {
        let map = self.versions.read().map_err(|_| poisoned())?;
        map.get(&(module.as_str().to_owned(), version.as_str().to_owned()))
            .cloned()
            .ok_or_else(|| StorageError::not_found(format!("{}: not stored", version.as_str())))
    }
}

fn poisoned() -> StorageError {
    StorageError::corrupt("memory storage lock poisoned by a panic")
}

#[async_trait]
impl Storage for MemoryStorage {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        let map = self.versions.read().map_err(|_| poisoned())?;
        Ok(map
            .keys()
            .filter(|(m, _)| m == module.as_str())
            .map(|(_, v)| v.clone())
            .collect())
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        match self.get(module, version) {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        Ok(self.get(module, version)?.info.clone())
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        Ok(self.get(module, version)?.go_mod.clone())
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        let stored = self.get(module, version)?;
        let tag = format!("m{:x}-{:x}", stored.seq, stored.zip.len());
        Ok(ZipObject::new(
            stored.zip.len() as u64,
            tag,
            Box::new(MemZip(stored.zip.clone())),
        ))
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        let zip = tokio::fs::read(&new.zip)
            .await
            .map_err(|e| StorageError::io(format!("reading {}", new.zip.display()), e))?;
        let mut map = self.versions.write().map_err(|_| poisoned())?;
        let key = (module.as_str().to_owned(), version.as_str().to_owned());
        if map.contains_key(&key) {
            return Err(StorageError::already_exists(format!(
                "{version} is already stored"
            )));
        }
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        map.insert(
            key,
            Arc::new(Stored {
                info: new.info,
                go_mod: new.go_mod,
                zip: Bytes::from(zip),
                seq,
            }),
        );
        Ok(())
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        let mut map = self.versions.write().map_err(|_| poisoned())?;
        map.remove(&(module.as_str().to_owned(), version.as_str().to_owned()))
            .map(drop)
            .ok_or_else(|| StorageError::not_found(format!("{version}: not stored")))
    }

    async fn ready(&self) -> Result<(), StorageError> {
        Ok(())
    }

    async fn get_blob(&self, key: &str) -> Result<Bytes, StorageError> {
        crate::check_blob_key(key)?;
        let map = self.blobs.read().map_err(|_| poisoned())?;
        map.get(key)
            .cloned()
            .ok_or_else(|| StorageError::not_found(format!("blob {key}")))
    }

    async fn put_blob(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        crate::check_blob_key(key)?;
        let mut map = self.blobs.write().map_err(|_| poisoned())?;
        if map.contains_key(key) {
            return Err(StorageError::already_exists(format!("blob {key}")));
        }
        map.insert(key.to_owned(), data);
        Ok(())
    }

    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        let after = parse_catalog_token(token)?;
        let want = catalog_want(page_size)?;
        let after_key = after
            .as_ref()
            .map(|(m, v)| crate::fs::catalog_order(m.as_str(), v.as_str()));
        let mut keys: Vec<Key> = {
            let map = self.versions.read().map_err(|_| poisoned())?;
            map.keys()
                .filter(|(m, v)| {
                    after_key
                        .as_ref()
                        .is_none_or(|a| crate::fs::catalog_order(m, v) > *a)
                })
                .cloned()
                .collect()
        };
        keys.sort_by(|(m1, v1), (m2, v2)| {
            crate::fs::catalog_order(m1, v1).cmp(&crate::fs::catalog_order(m2, v2))
        });
        let found = keys
            .into_iter()
            .take(want)
            .filter_map(|(m, v)| Some((ModulePath::new(&m).ok()?, Version::from_trusted(&v))))
            .collect();
        Ok(catalog_page(found, page_size))
    }
}

struct MemZip(Bytes);

#[async_trait]
impl ZipSource for MemZip {
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError> {
        let len = self.0.len() as u64;
        let start = range.start.min(len) as usize;
        let end = range.end.min(len) as usize;
        let part = self.0.slice(start..end.max(start));
        Ok(Box::pin(stream::once(async move { Ok(part) })))
    }
}
