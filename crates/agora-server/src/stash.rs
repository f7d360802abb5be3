//! Fetching a missing version once, however many clients ask for it.
//!
//! The first request for a missing `module@version` starts a fetch on its own
//! task; every request that arrives while it runs waits on the same fetch.
//! The task is detached from the requests, so a client that disconnects does
//! not cancel a fetch others (or the next client) will need.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agora_core::{ModulePath, Version};
use agora_storage::{ErrorKind as StorageKind, NewVersion, Storage, StorageError};
use agora_upstream::UpstreamError;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tracing::{Instrument, info, info_span, warn};

use crate::error::ApiError;
use crate::upstream::Upstream;

type Key = (ModulePath, Version);
type StashFuture = Shared<BoxFuture<'static, Result<(), Arc<StashError>>>>;

/// Why a stash failed.
#[derive(Debug, thiserror::Error)]
pub enum StashError {
    /// Upstream did not deliver a good version.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// Storage could not take or confirm it.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The fetch task died.
    #[error("fetch task failed: {0}")]
    Task(String),
}

impl From<&StashError> for ApiError {
    fn from(e: &StashError) -> Self {
        match e {
            StashError::Upstream(e) => ApiError::from(e),
            StashError::Storage(e) => ApiError::from(e),
            StashError::Task(msg) => {
                ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, msg.clone())
            }
        }
    }
}

/// Fetch-and-store with in-process single flight.
#[derive(Clone)]
pub struct Stasher {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    upstream: Arc<dyn Upstream>,
    timeout: Duration,
    inflight: Mutex<HashMap<Key, StashFuture>>,
}

impl Stasher {
    /// A stasher writing to `storage` from `upstream`, giving each fetch at
    /// most `timeout`.
    pub fn new(
        storage: Arc<dyn Storage>,
        upstream: impl Upstream + 'static,
        timeout: Duration,
    ) -> Self {
        Stasher {
            inner: Arc::new(Inner {
                storage,
                upstream: Arc::new(upstream),
                timeout,
                inflight: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Makes sure `module@version` (canonical) is stored, fetching it if needed.
    pub async fn ensure(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), Arc<StashError>> {
        let key = (module.clone(), version.clone());
        let fut = {
            let mut map =
                self.inner.inflight.lock().map_err(|_| {
                    Arc::new(StashError::Task("single-flight table poisoned".into()))
                })?;
            match map.get(&key) {
                Some(f) => f.clone(),
                None => {
                    // Spawned while the table is locked, so the task's own
                    // removal of its entry cannot run before the insert below.
                    let inner = self.inner.clone();
                    let task_key = key.clone();
                    let span = info_span!("stash", module = %module, version = %version);
                    let handle = tokio::spawn(
                        async move {
                            let result = inner.fetch_and_store(&task_key.0, &task_key.1).await;
                            if let Ok(mut map) = inner.inflight.lock() {
                                map.remove(&task_key);
                            }
                            result.map_err(Arc::new)
                        }
                        .instrument(span),
                    );
                    let fut: StashFuture = async move {
                        match handle.await {
                            Ok(r) => r,
                            Err(e) => Err(Arc::new(StashError::Task(e.to_string()))),
                        }
                    }
                    .boxed()
                    .shared();
                    map.insert(key, fut.clone());
                    fut
                }
            }
        };
        fut.await
    }
}

impl Inner {
    async fn fetch_and_store(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), StashError> {
        // Another request may have finished this version between our storage
        // miss and taking the flight.
        if self.storage.exists(module, version).await? {
            return Ok(());
        }
        let fetched =
            match tokio::time::timeout(self.timeout, self.upstream.fetch(module, version)).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(UpstreamError::timeout(format!(
                        "fetching {module}@{version} took longer than {}s",
                        self.timeout.as_secs()
                    ))
                    .into());
                }
            };
        let new = NewVersion {
            info: fetched.info,
            go_mod: fetched.go_mod,
            zip: fetched.zip.to_path_buf(),
        };
        let result = self.storage.put(module, version, new).await;
        // The spool file is removed when `fetched.zip` drops, after the put.
        drop(fetched.zip);
        match result {
            Ok(()) => {
                info!(h1 = %fetched.h1, "stored");
                Ok(())
            }
            Err(e) if e.kind() == StorageKind::AlreadyExists => Ok(()),
            Err(e) => {
                warn!(error = %e, "storing failed");
                Err(e.into())
            }
        }
    }
}
