//! A lock object in the storage bucket itself, for deployments with no lock server: S3
//! (`If-None-Match: *` and `If-Match` on PutObject) and Azure Blob (the same ETag
//! conditions), through the storage's own `object_store` client. Google Cloud Storage
//! keeps the same object with generation preconditions in [`crate::gcs`].
//!
//! The lock for `<name>` is the object `.agora-locks/<name>` (a leading dot: no module
//! path can start there, and agora's catalog passes it over) holding
//! `{"token":…,"expires_ms":…}`:
//!
//! - taking it creates the object only if it does not exist;
//! - an object whose `expires_ms` has passed belongs to a dead holder: it is replaced
//!   only if it is still the version that was read (so of two replicas taking over, one
//!   wins);
//! - renewing replaces it only if it is still the version this holder wrote last;
//! - releasing deletes it after checking that it still carries this holder's token
//!   (`object_store` has no conditional delete: a holder that stopped renewing for a
//!   whole TTL could delete its successor's object, which at worst lets one more replica
//!   fetch a version once more).
//!
//! Expiry compares the replicas' wall clocks: keep them in sync (NTP) to well under the
//! TTL.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::{Held, Lock, LockError, OP_TIMEOUT, bounded, token};

/// Where lock objects live in the bucket.
pub const PREFIX: &str = ".agora-locks";

/// A lock object's content, at most this many bytes read.
const MAX_LOCK_OBJECT: usize = 4096;

/// A lock object's content (shared with [`crate::gcs`]).
#[derive(Serialize, Deserialize)]
pub(crate) struct Content {
    pub(crate) token: String,
    pub(crate) expires_ms: u64,
}

impl Content {
    /// Unreadable content is a broken lock: it reads as expired, so it gets replaced.
    pub(crate) fn parse(bytes: &[u8]) -> Content {
        serde_json::from_slice(bytes).unwrap_or(Content {
            token: String::new(),
            expires_ms: 0,
        })
    }
}

/// The content of a lock held with `token` for `ttl` from now.
pub(crate) fn encode(token: &str, ttl: Duration) -> Result<Vec<u8>, LockError> {
    let content = Content {
        token: token.to_owned(),
        expires_ms: now_ms().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
    };
    serde_json::to_vec(&content).map_err(|e| LockError::new("encoding a lock object", e))
}

/// Locks kept as objects in a bucket.
pub struct ObjectLock {
    store: Arc<dyn ObjectStore>,
    describe: String,
}

impl ObjectLock {
    /// Locks in `store`, described as `describe` (the storage's description).
    pub fn new(store: Arc<dyn ObjectStore>, describe: impl Into<String>) -> ObjectLock {
        ObjectLock {
            store,
            describe: describe.into(),
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn payload(token: &str, ttl: Duration) -> Result<PutPayload, LockError> {
    encode(token, ttl).map(PutPayload::from)
}

/// A conditional write that lost: the object exists, or changed since it was read.
fn lost_condition(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }
    )
}

fn version_of(e_tag: Option<String>, version: Option<String>) -> UpdateVersion {
    UpdateVersion { e_tag, version }
}

impl ObjectLock {
    /// The object at `path` and its version, or `None` when it is gone.
    async fn read(&self, path: &Path) -> Result<Option<(Content, UpdateVersion)>, LockError> {
        let context = format!("reading lock object {path}");
        let got = match tokio::time::timeout(OP_TIMEOUT, self.store.get(path)).await {
            Ok(Ok(got)) => got,
            Ok(Err(object_store::Error::NotFound { .. })) => return Ok(None),
            Ok(Err(e)) => return Err(LockError::new(context, e)),
            Err(_) => return Err(LockError::new(context, "no answer in time")),
        };
        let version = version_of(got.meta.e_tag.clone(), got.meta.version.clone());
        if got.meta.size > MAX_LOCK_OBJECT as u64 {
            return Err(LockError::new(context, "larger than a lock object can be"));
        }
        let bytes = bounded(&context, got.bytes()).await?;
        let content = Content::parse(&bytes);
        Ok(Some((content, version)))
    }

    /// Writes the lock with `mode`; `Ok(None)` when the condition failed.
    async fn write(
        &self,
        path: &Path,
        token: &str,
        ttl: Duration,
        mode: PutMode,
    ) -> Result<Option<UpdateVersion>, LockError> {
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        let put = self.store.put_opts(path, payload(token, ttl)?, opts);
        match tokio::time::timeout(OP_TIMEOUT, put).await {
            Ok(Ok(r)) => Ok(Some(version_of(r.e_tag, r.version))),
            Ok(Err(e)) if lost_condition(&e) => Ok(None),
            Ok(Err(e)) => Err(LockError::new(format!("writing lock object {path}"), e)),
            Err(_) => Err(LockError::new(
                format!("writing lock object {path}"),
                "no answer in time",
            )),
        }
    }
}

#[async_trait]
impl Lock for ObjectLock {
    fn describe(&self) -> String {
        format!("lock objects in {}", self.describe)
    }

    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Box<dyn Held>>, LockError> {
        let path = Path::from(format!("{PREFIX}/{name}"));
        let token = token();
        let taken = match self.write(&path, &token, ttl, PutMode::Create).await? {
            Some(v) => Some(v),
            None => match self.read(&path).await? {
                // Released meanwhile: the next attempt creates it.
                None => None,
                Some((content, _)) if content.expires_ms > now_ms() => None,
                Some((_, version)) => {
                    tracing::warn!(lock = %path, "taking over an expired lock");
                    self.write(&path, &token, ttl, PutMode::Update(version))
                        .await?
                }
            },
        };
        Ok(taken.map(|version| {
            Box::new(ObjectHeld {
                store: self.store.clone(),
                path,
                token,
                version,
            }) as Box<dyn Held>
        }))
    }
}

struct ObjectHeld {
    store: Arc<dyn ObjectStore>,
    path: Path,
    token: String,
    version: UpdateVersion,
}

impl ObjectHeld {
    fn lock(&self) -> ObjectLock {
        ObjectLock::new(self.store.clone(), String::new())
    }
}

#[async_trait]
impl Held for ObjectHeld {
    async fn renew(&mut self, ttl: Duration) -> Result<bool, LockError> {
        let mode = PutMode::Update(self.version.clone());
        match self
            .lock()
            .write(&self.path, &self.token, ttl, mode)
            .await?
        {
            Some(v) => {
                self.version = v;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn release(self: Box<Self>) -> Result<(), LockError> {
        match self.lock().read(&self.path).await? {
            Some((content, _)) if content.token == self.token => {
                let context = format!("deleting lock object {}", self.path);
                match tokio::time::timeout(OP_TIMEOUT, self.store.delete(&self.path)).await {
                    Ok(Ok(()) | Err(object_store::Error::NotFound { .. })) => Ok(()),
                    Ok(Err(e)) => Err(LockError::new(context, e)),
                    Err(_) => Err(LockError::new(context, "no answer in time")),
                }
            }
            // Expired and taken over, or gone: not ours to delete.
            _ => Ok(()),
        }
    }
}
