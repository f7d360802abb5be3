//! The cross-replica lock as a [`Stash`] layer: one replica fetches a missing version
//! while the others sharing the lock wait for it in storage.
//!
//! For `module@version`, [`Locked`] asks the [`Lock`] for `<module>@<version>` (Athens'
//! lock name):
//!
//! - taken: look in storage once more (another replica may have stored it between our
//!   miss and the lock), then run the inner stash on its own task while renewing the
//!   lock every third of its TTL, then release it (only our own: the lock compares
//!   tokens);
//! - held elsewhere: look in storage, and answer as soon as the version is there;
//!   otherwise try again after a short pause (50 ms, doubling to 1 s). A holder that
//!   dies stops renewing, its lock expires within the TTL and a waiter takes it. After
//!   [`LockOptions::wait`] the waiter fetches the version itself (storage writes are
//!   create-only, so the result is the same): a lock held elsewhere never fails a
//!   request, unlike Athens' redis lock (gomods/athens#1972);
//! - the lock server fails: [`StashError::Lock`] (503 with the reason), never a miss.
//!
//! The in-process [`SingleFlight`](crate::stash::SingleFlight) sits on top, so a
//! replica asks the lock once per version however many of its clients wait.

use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, Version};
use agora_lock::{Held, Lock};
use agora_storage::Storage;
use async_trait::async_trait;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::stash::{Stash, StashError};

/// The lock's timing.
#[derive(Debug, Clone, Copy)]
pub struct LockOptions {
    /// How long a lock lives unless renewed.
    pub ttl: Duration,
    /// How long to wait for another replica's lock before fetching anyway.
    pub wait: Duration,
}

/// Pauses between looks while another replica holds the lock.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// A [`Stash`] that takes a lock shared between replicas around `inner`.
pub struct Locked<S> {
    inner: Arc<S>,
    storage: Arc<dyn Storage>,
    lock: Arc<dyn Lock>,
    options: LockOptions,
}

impl<S: Stash> Locked<S> {
    /// `inner` under `lock`, waiting for other replicas in `storage`.
    pub fn new(
        inner: S,
        storage: Arc<dyn Storage>,
        lock: Arc<dyn Lock>,
        options: LockOptions,
    ) -> Self {
        Locked {
            inner: Arc::new(inner),
            storage,
            lock,
            options,
        }
    }

    async fn exists(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<bool, Arc<StashError>> {
        self.storage
            .exists(module, version)
            .await
            .map_err(|e| Arc::new(StashError::Storage(e)))
    }

    /// Runs the inner stash while holding `held`, renewing it until the stash ends.
    async fn holding(
        &self,
        mut held: Box<dyn Held>,
        module: &ModulePath,
        version: &Version,
        started: Instant,
    ) -> Result<(), Arc<StashError>> {
        let waited_ms = started.elapsed().as_millis();
        let result = match self.exists(module, version).await {
            Ok(true) => {
                info!(waited_ms, "stored by another replica");
                Ok(())
            }
            Ok(false) => {
                info!(waited_ms, "took the single-flight lock");
                let inner = self.inner.clone();
                let (m, v) = (module.clone(), version.clone());
                let mut task = tokio::spawn(async move { inner.stash(&m, &v).await });
                let every = (self.options.ttl / 3).max(Duration::from_millis(100));
                let mut renew = tokio::time::interval_at(Instant::now() + every, every);
                let mut ours = true;
                loop {
                    tokio::select! {
                        done = &mut task => break match done {
                            Ok(r) => r,
                            Err(e) => Err(Arc::new(StashError::Task(e.to_string()))),
                        },
                        _ = renew.tick(), if ours => match held.renew(self.options.ttl).await {
                            Ok(true) => {}
                            Ok(false) => {
                                // The fetch goes on: storage writes are create-only, so
                                // at worst another replica fetches it too.
                                warn!(lock = %self.lock.describe(), "lost the lock during a fetch");
                                ours = false;
                            }
                            Err(e) => warn!(error = %e, "renewing the lock failed; trying again"),
                        },
                    }
                }
            }
            Err(e) => Err(e),
        };
        if let Err(e) = held.release().await {
            // It expires by itself within the TTL.
            warn!(error = %e, "releasing the lock failed");
        }
        result
    }
}

#[async_trait]
impl<S: Stash> Stash for Locked<S> {
    async fn stash(&self, module: &ModulePath, version: &Version) -> Result<(), Arc<StashError>> {
        let name = format!("{module}@{version}");
        let started = Instant::now();
        let mut pause = FIRST_PAUSE;
        loop {
            match self.lock.try_acquire(&name, self.options.ttl).await {
                Ok(Some(held)) => return self.holding(held, module, version, started).await,
                Ok(None) => {}
                Err(e) => return Err(Arc::new(StashError::Lock(e))),
            }
            let elapsed = started.elapsed();
            if elapsed >= self.options.wait {
                if self.exists(module, version).await? {
                    return Ok(());
                }
                warn!(
                    waited_secs = elapsed.as_secs(),
                    "another replica still holds the lock; fetching without it"
                );
                return self.inner.stash(module, version).await;
            }
            tokio::time::sleep(pause.min(self.options.wait - elapsed)).await;
            pause = (pause * 2).min(MAX_PAUSE);
            // Storage first: the holder stores the version before it frees the lock.
            if self.exists(module, version).await? {
                let waited_ms = started.elapsed().as_millis();
                info!(waited_ms, "stored by another replica");
                return Ok(());
            }
        }
    }
}
