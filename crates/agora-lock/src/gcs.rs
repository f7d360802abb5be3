//! The lock object on Google Cloud Storage, with generation preconditions.
//!
//! The same object and content as [`crate::object`] (`.agora-locks/<name>`), but written
//! through the storage's OpenDAL operator: `object_store_opendal` turns a conditional
//! update into an `If-Match` header, which GCS's JSON upload ignores, so the
//! [`crate::object`] lock could not renew or take over safely there. Here every write
//! carries `ifGenerationMatch`: `0` to take a free lock, the generation last seen to
//! renew it or take over an expired one. A lock is looked at before it is written, so a
//! held lock is never written to while replicas wait.
//!
//! Neither GCS emulator here enforces the preconditions on the resumable uploads OpenDAL
//! writes conditionally with (gcp-storage-emulator ignores them everywhere,
//! fake-gcs-server on resumable uploads), so racing replicas are not excluded there;
//! real GCS answers 412. The tests check the preconditions on the wire.

use std::future::IntoFuture;
use std::time::Duration;

use async_trait::async_trait;
use opendal::{ErrorKind, Operator};

use crate::object::{Content, PREFIX, encode, now_ms};
use crate::{Held, Lock, LockError, OP_TIMEOUT, token};

/// Locks kept as objects in a GCS bucket.
pub struct GcsLock {
    op: Operator,
    describe: String,
}

impl GcsLock {
    /// Locks in the bucket of `op` (the storage's operator), described as `describe`.
    pub fn new(op: Operator, describe: impl Into<String>) -> GcsLock {
        GcsLock {
            op,
            describe: describe.into(),
        }
    }
}

async fn timed<T>(
    context: &str,
    fut: impl Future<Output = opendal::Result<T>>,
) -> Result<opendal::Result<T>, LockError> {
    tokio::time::timeout(OP_TIMEOUT, fut)
        .await
        .map_err(|_| LockError::new(context, "no answer in time"))
}

/// Writes the lock with `generation` as precondition (`None`: the object must not
/// exist). `Ok(None)` when the precondition failed.
async fn write(
    op: &Operator,
    path: &str,
    token: &str,
    ttl: Duration,
    generation: Option<&str>,
) -> Result<Option<String>, LockError> {
    let context = format!("writing lock object {path}");
    let mut w = op
        .write_with(path, encode(token, ttl)?)
        .content_type("application/json");
    w = match generation {
        Some(g) => w.if_version_match(g),
        None => w.if_not_exists(true),
    };
    match timed(&context, w.into_future()).await? {
        Ok(meta) => match meta.version() {
            Some(v) => Ok(Some(v.to_owned())),
            None => Err(LockError::new(context, "the answer carries no generation")),
        },
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConditionNotMatch | ErrorKind::AlreadyExists
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(LockError::new(context, e)),
    }
}

/// The lock's generation and content, or `None` when there is none. The generation is
/// read first: content read after it is that generation's or a newer one's, so a
/// takeover conditioned on it never replaces a lock renewed in between.
async fn read(op: &Operator, path: &str) -> Result<Option<(String, Content)>, LockError> {
    let context = format!("reading lock object {path}");
    let meta = match timed(&context, op.stat(path)).await? {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LockError::new(context, e)),
    };
    let Some(generation) = meta.version().map(str::to_owned) else {
        return Err(LockError::new(context, "no generation"));
    };
    let bytes = match timed(&context, op.read(path)).await? {
        Ok(b) => b.to_vec(),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LockError::new(context, e)),
    };
    Ok(Some((generation, Content::parse(&bytes))))
}

#[async_trait]
impl Lock for GcsLock {
    fn describe(&self) -> String {
        format!("lock objects in {}", self.describe)
    }

    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Box<dyn Held>>, LockError> {
        let path = format!("{PREFIX}/{name}");
        let token = token();
        // Looking first costs a request, but a held lock (the common case while waiting)
        // is then never written to.
        let taken = match read(&self.op, &path).await? {
            None => write(&self.op, &path, &token, ttl, None).await?,
            Some((_, content)) if content.expires_ms > now_ms() => None,
            Some((generation, _)) => {
                tracing::warn!(lock = %path, "taking over an expired lock");
                write(&self.op, &path, &token, ttl, Some(&generation)).await?
            }
        };
        Ok(taken.map(|generation| {
            Box::new(GcsHeld {
                op: self.op.clone(),
                path,
                token,
                generation,
            }) as Box<dyn Held>
        }))
    }
}

struct GcsHeld {
    op: Operator,
    path: String,
    token: String,
    generation: String,
}

#[async_trait]
impl Held for GcsHeld {
    async fn renew(&mut self, ttl: Duration) -> Result<bool, LockError> {
        match write(
            &self.op,
            &self.path,
            &self.token,
            ttl,
            Some(&self.generation),
        )
        .await?
        {
            Some(g) => {
                self.generation = g;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn release(self: Box<Self>) -> Result<(), LockError> {
        match read(&self.op, &self.path).await? {
            Some((generation, content))
                if content.token == self.token && generation == self.generation =>
            {
                let context = format!("deleting lock object {}", self.path);
                match timed(&context, self.op.delete(&self.path)).await? {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(LockError::new(context, e)),
                }
            }
            _ => Ok(()),
        }
    }
}
