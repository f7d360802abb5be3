//! Locks that agora replicas on one storage share, so that one of them fetches a missing
//! version while the others wait.
//!
//! This crate owns the [`Lock`] trait (take a named lock for a while, renew it, release
//! it) and its backends: redis and redis behind sentinels ([`redis`]), etcd through its
//! v3 JSON gateway ([`etcd`]), and a lock object in the storage bucket written with
//! conditional writes on S3 and Azure Blob ([`object`]) and with generation
//! preconditions on Google Cloud Storage ([`gcs`]). How the
//! lock wraps a fetch (waiting, renewing, re-checking storage) is `agora-server`'s
//! `stash::Locked`; nothing here knows about modules.
//!
//! Every lock has a TTL and a random token: a holder that dies stops renewing and its
//! lock expires, and renewing or releasing only ever touches a lock that still carries
//! the caller's token. Every call to a lock server is bounded by [`OP_TIMEOUT`].

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

pub mod etcd;
pub mod gcs;
pub mod object;
pub mod redis;

/// The longest one call to a lock server may take (connecting included).
pub const OP_TIMEOUT: Duration = Duration::from_secs(5);

/// A lock server that failed or could not be reached. Never "somebody else holds it":
/// that is `Ok(None)` from [`Lock::try_acquire`].
#[derive(Debug, thiserror::Error)]
#[error("{context}: {reason}")]
pub struct LockError {
    context: String,
    reason: String,
}

impl LockError {
    /// An error while doing `context`.
    pub fn new(context: impl Into<String>, reason: impl ToString) -> Self {
        LockError {
            context: context.into(),
            reason: reason.to_string(),
        }
    }
}

/// A lock service: one lock per name.
#[async_trait]
pub trait Lock: Send + Sync + 'static {
    /// What and where, for logs: `redis 127.0.0.1:6379`.
    fn describe(&self) -> String;

    /// Takes the lock `name` for `ttl` if nobody holds it (or its holder's TTL ran out).
    /// `Ok(None)` when someone else holds it.
    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Box<dyn Held>>, LockError>;
}

/// A lock this process holds.
#[async_trait]
pub trait Held: Send + Sync {
    /// Extends the lock to `ttl` from now. `Ok(false)` when it is no longer ours (it
    /// expired, and maybe someone else took it).
    async fn renew(&mut self, ttl: Duration) -> Result<bool, LockError>;

    /// Gives the lock up, if it is still ours.
    async fn release(self: Box<Self>) -> Result<(), LockError>;
}

/// A random token that tells this holder's lock from any other.
pub(crate) fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `fut` bounded by [`OP_TIMEOUT`]; a timeout is an error of `context`.
pub(crate) async fn bounded<T, E: ToString>(
    context: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, LockError> {
    match tokio::time::timeout(OP_TIMEOUT, fut).await {
        Ok(r) => r.map_err(|e| LockError::new(context, e)),
        Err(_) => Err(LockError::new(
            context,
            format!("no answer within {}s", OP_TIMEOUT.as_secs()),
        )),
    }
}
