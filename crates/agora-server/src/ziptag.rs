//! Zip entity tags from content: the same bytes get the same `ETag` on every replica and
//! every backend, whoever stored them.
//!
//! The tag is the first 128 bits of the zip's SHA-256, in hex. A backend's own token
//! (mtime and size on disk, the object ETag on a bucket, which for a multipart upload
//! depends on the part size) differs between backends and copies, so a client that moves
//! between replicas or a migrated cache would re-download, and `If-Range` would refuse
//! ranges it could serve.
//!
//! Hashing needs the whole zip, so it is never done per request: the replica that stores
//! a version hashes its spool file (a local read) and remembers the tag; any other
//! replica (or a version another tool stored) hashes the stored zip once, on its first
//! request, and remembers it. A remembered tag is keyed by the backend's own token too,
//! so a zip replaced behind agora's back is hashed again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

use agora_core::{ModulePath, Version};
use agora_storage::{Storage, StorageError, ZipObject};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

/// Tags remembered, at most; past it the table starts again (a tag costs one more read
/// of its zip).
const MAX_TAGS: usize = 100_000;

type Key = (ModulePath, Version);

/// What is remembered for one version: the backend's token (unknown for a version this
/// process just stored, taken from its first read), and the content tag.
#[derive(Clone)]
struct Entry {
    backend_tag: Option<String>,
    tag: String,
}

/// The content tags this process knows.
#[derive(Default)]
pub struct ZipTags {
    /// Versions remembered, for the bound.
    count: AtomicUsize,
    /// By module, then version, as plain strings: a lookup (every zip
    /// request) borrows the request's and allocates nothing.
    tags: Mutex<HashMap<String, HashMap<String, Entry>>>,
}

fn tag_of(digest: &[u8]) -> String {
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl ZipTags {
    fn remember(&self, key: Key, entry: Entry) {
        let mut tags = match self.tags.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Counted under the lock, so the bound holds exactly.
        if self.count.load(Relaxed) >= MAX_TAGS {
            tags.clear();
            self.count.store(0, Relaxed);
        }
        let (module, version) = key;
        let fresh = tags
            .entry(module.as_str().to_owned())
            .or_default()
            .insert(version.as_str().to_owned(), entry)
            .is_none();
        if fresh {
            self.count.fetch_add(1, Relaxed);
        }
    }

    fn lookup(&self, module: &ModulePath, version: &Version, backend_tag: &str) -> Option<String> {
        let mut tags = match self.tags.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = tags.get_mut(module.as_str())?.get_mut(version.as_str())?;
        match &entry.backend_tag {
            Some(t) if t == backend_tag => Some(entry.tag.clone()),
            Some(_) => None,
            None => {
                entry.backend_tag = Some(backend_tag.to_owned());
                Some(entry.tag.clone())
            }
        }
    }

    /// Remembers the tag of the zip this process just stored from `spool`.
    pub async fn stored(&self, module: &ModulePath, version: &Version, spool: &Path) {
        let path = spool.to_path_buf();
        let hashed = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut file = std::fs::File::open(path)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = std::io::Read::read(&mut file, &mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            Ok(tag_of(&hasher.finalize()))
        })
        .await;
        // Not fatal: the first request hashes the stored zip instead.
        if let Ok(Ok(tag)) = hashed {
            self.remember(
                (module.clone(), version.clone()),
                Entry {
                    backend_tag: None,
                    tag,
                },
            );
        }
    }

    /// `zip` with its content tag in place of the backend's token, hashing the stored
    /// zip (and opening it again) when the tag is not known yet.
    pub async fn content_tagged(
        &self,
        storage: &dyn Storage,
        module: &ModulePath,
        version: &Version,
        mut zip: ZipObject,
    ) -> Result<ZipObject, StorageError> {
        // Two tries: a zip replaced between the hash and the reopening is hashed again.
        for _ in 0..2 {
            if let Some(tag) = self.lookup(module, version, &zip.tag) {
                zip.tag = tag;
                return Ok(zip);
            }
            let key = (module.clone(), version.clone());
            let backend_tag = zip.tag.clone();
            if let Some(bytes) = zip.as_whole() {
                // In memory already (a small zip, from the cache): no second read.
                let tag = tag_of(&Sha256::digest(bytes));
                self.remember(
                    key,
                    Entry {
                        backend_tag: Some(backend_tag),
                        tag: tag.clone(),
                    },
                );
                zip.tag = tag;
                return Ok(zip);
            }
            let size = zip.size;
            let mut stream = zip.stream(0..size).await?;
            let mut hasher = Sha256::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    StorageError::io(format!("reading {module}@{version}.zip to hash it"), e)
                })?;
                hasher.update(&chunk);
            }
            self.remember(
                key,
                Entry {
                    backend_tag: Some(backend_tag),
                    tag: tag_of(&hasher.finalize()),
                },
            );
            zip = storage.zip(module, version).await?;
        }
        // Replaced twice while being hashed: serve it with the backend's token, which
        // still never mixes two different zips.
        Ok(zip)
    }
}
