//! Fetching a missing version once, however many clients ask for it.
//!
//! The stash is layers over one trait, [`Stash`] ("make sure this canonical
//! version is stored"):
//!
//! - [`FetchAndStore`] is the step itself: look in storage once more, fetch
//!   from upstream within the stash timeout, store (a version someone else
//!   stored meanwhile counts as success); given [`Checksums`] (`agora
//!   prefill` gives go.sum lines and checksum database records), it refuses
//!   a fetched version whose hashes differ before storing anything;
//! - [`SingleFlight`] wraps any `Stash` with in-process single flight: the
//!   first request for a missing `module@version` starts it on its own task,
//!   and every request that arrives while it runs waits on the same task. The
//!   task is detached from the requests, so a client that disconnects does not
//!   cancel a fetch others (or the next client) will need.
//!
//! [`Stasher::new`] stacks them as `SingleFlight<FetchAndStore>`, and
//! [`Stasher::with_index`] puts [`Indexing`](crate::index::Indexing) between
//! the two, so that every version stored is recorded in the module index. A lock
//! shared between replicas (so that replicas on one storage fetch a version
//! once) is one more layer between the two, `SingleFlight<Locked<FetchAndStore>>`
//! ([`Stasher::with_lock`], [`Locked`]): single flight keeps it to one lock
//! request per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agora_core::{ModulePath, Version};
use agora_storage::{ErrorKind as StorageKind, NewVersion, Storage, StorageError};
use agora_upstream::UpstreamError;
use async_trait::async_trait;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tracing::{Instrument, info, info_span, warn};

pub use crate::locked::{LockOptions, Locked};
use crate::metrics::{FetchResult, metrics};
use crate::sumdb::SumDbs;
use crate::upstream::Upstream;
use crate::ziptag::ZipTags;

/// Why a stash failed.
#[derive(Debug, thiserror::Error)]
pub enum StashError {
    /// Upstream did not deliver a good version.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// Storage could not take or confirm it.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The fetched version's hashes are not the ones the caller expected
    /// (a go.sum line); nothing was stored.
    #[error("{0}")]
    Checksum(String),
    /// The checksum database refused the version, or could not be asked:
    /// nothing of it may be served, not even its `.info` or `.mod` alone.
    #[error("{0}")]
    SumDb(UpstreamError),
    /// The fetch task died.
    #[error("fetch task failed: {0}")]
    Task(String),
    /// The lock shared between replicas failed or could not be reached.
    #[error("single-flight lock: {0}")]
    Lock(#[from] agora_lock::LockError),
}

/// The `h1:` hashes a version must have, where the caller knows them (from
/// go.sum files, say). [`FetchAndStore`] checks a fetched version against
/// them before it stores it, so a mismatch never reaches storage.
pub trait Checksums: Send + Sync + 'static {
    /// The expected `h1:` of the zip of `module@version`, if known.
    fn zip_h1(&self, module: &ModulePath, version: &Version) -> Option<String>;
    /// The expected `h1:` of its go.mod (a go.sum `/go.mod` line), if known.
    fn go_mod_h1(&self, module: &ModulePath, version: &Version) -> Option<String>;
}

/// Makes sure a canonical version is stored. The error is shared, because
/// one failed fetch answers every request that waited on it.
#[async_trait]
pub trait Stash: Send + Sync + 'static {
    /// Stores `module@version` unless it is stored already.
    async fn stash(&self, module: &ModulePath, version: &Version) -> Result<(), Arc<StashError>>;
}

/// The stash the proxy uses: a stack of [`Stash`] layers behind one handle.
#[derive(Clone)]
pub struct Stasher {
    stash: Arc<dyn Stash>,
    /// The zip tags of what this process stores, for serving it.
    zip_tags: Arc<ZipTags>,
}

impl Stasher {
    /// Single flight over fetch-and-store, writing to `storage` from
    /// `upstream` and giving each fetch at most `timeout`.
    pub fn new(
        storage: Arc<dyn Storage>,
        upstream: impl Upstream + 'static,
        timeout: Duration,
    ) -> Self {
        let zip_tags = Arc::new(ZipTags::default());
        let fetch = FetchAndStore::new(storage, upstream, timeout).with_zip_tags(zip_tags.clone());
        Stasher {
            stash: Arc::new(SingleFlight::new(fetch)),
            zip_tags,
        }
    }

    /// Single flight over `fetch` (configured by the caller: checksums, the
    /// checksum database), remembering the content tags of what it stores.
    pub fn over(fetch: FetchAndStore) -> Self {
        let zip_tags = Arc::new(ZipTags::default());
        Stasher {
            stash: Arc::new(SingleFlight::new(fetch.with_zip_tags(zip_tags.clone()))),
            zip_tags,
        }
    }

    /// Single flight over a lock shared between replicas ([`Locked`]) over
    /// `fetch`: one lock request per process and version, one fetch per
    /// version across the replicas sharing `lock`, which wait in `storage`.
    pub fn with_lock(
        fetch: FetchAndStore,
        storage: Arc<dyn Storage>,
        lock: Arc<dyn agora_lock::Lock>,
        options: LockOptions,
    ) -> Self {
        let zip_tags = Arc::new(ZipTags::default());
        let fetch = fetch.with_zip_tags(zip_tags.clone());
        Stasher {
            stash: Arc::new(SingleFlight::new(Locked::new(
                fetch, storage, lock, options,
            ))),
            zip_tags,
        }
    }

    /// [`Stasher::new`] with every stored version recorded in `index`:
    /// `SingleFlight<Indexing<FetchAndStore>>`.
    pub fn with_index(
        storage: Arc<dyn Storage>,
        upstream: impl Upstream + 'static,
        timeout: Duration,
        index: Arc<dyn agora_index::ModuleIndex>,
    ) -> Self {
        Stasher::from_stash(SingleFlight::new(crate::index::Indexing::new(
            FetchAndStore::new(storage, upstream, timeout),
            index,
        )))
    }

    /// This stasher with every version it stored recorded in `index`
    /// ([`Indexing`](crate::index::Indexing) over the whole stack, so each
    /// request that waited on a flight adds the version; the index keeps it
    /// once).
    pub fn indexed(self, index: Arc<dyn agora_index::ModuleIndex>) -> Self {
        Stasher {
            stash: Arc::new(crate::index::Indexing::new(self.stash, index)),
            zip_tags: self.zip_tags,
        }
    }

    /// Any stack of layers, such as one with a cross-replica lock in it.
    pub fn from_stash(stash: impl Stash) -> Self {
        Stasher {
            stash: Arc::new(stash),
            zip_tags: Arc::new(ZipTags::default()),
        }
    }

    /// The content tags of zips (those this stasher stored, and those hashed since).
    pub fn zip_tags(&self) -> Arc<ZipTags> {
        self.zip_tags.clone()
    }

    /// Makes sure `module@version` (canonical) is stored, fetching it if needed.
    pub async fn ensure(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), Arc<StashError>> {
        self.stash.stash(module, version).await
    }
}

/// The fetch-and-store step, with no coordination of its own.
pub struct FetchAndStore {
    storage: Arc<dyn Storage>,
    upstream: Arc<dyn Upstream>,
    timeout: Duration,
    zip_tags: Option<Arc<ZipTags>>,
    checksums: Option<Arc<dyn Checksums>>,
    sumdb: Option<SumDbs>,
}

impl FetchAndStore {
    /// Writes to `storage` from `upstream`, giving each fetch at most `timeout`.
    pub fn new(
        storage: Arc<dyn Storage>,
        upstream: impl Upstream + 'static,
        timeout: Duration,
    ) -> Self {
        FetchAndStore {
            storage,
            upstream: Arc::new(upstream),
            timeout,
            zip_tags: None,
            checksums: None,
            sumdb: None,
        }
    }

    /// Remembers the content tag of every zip it stores in `tags`.
    #[must_use]
    pub fn with_zip_tags(mut self, tags: Arc<ZipTags>) -> Self {
        self.zip_tags = Some(tags);
        self
    }

    /// Checks every fetched version against `sumdb`'s verifying database
    /// before it is stored, and logs private ones in its private database.
    #[must_use]
    pub fn verifying(mut self, sumdb: SumDbs) -> Self {
        self.sumdb = Some(sumdb);
        self
    }

    /// Refuses (and does not store) a fetched version whose zip or go.mod
    /// hash differs from what `checksums` expects.
    pub fn with_checksums(mut self, checksums: Arc<dyn Checksums>) -> Self {
        self.checksums = Some(checksums);
        self
    }

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
        let _in_flight = metrics().fetch_in_flight();
        let started = std::time::Instant::now();
        let result = self.fetch_and_put(module, version).await;
        let outcome = match &result {
            Ok(()) => FetchResult::Ok,
            Err(StashError::Upstream(e)) if e.is_not_found() => FetchResult::NotFound,
            Err(_) => FetchResult::Error,
        };
        metrics().fetch(outcome, started.elapsed());
        result
    }

    async fn fetch_and_put(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<(), StashError> {
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
        if let Some(sums) = &self.checksums {
            if let Some(want) = sums.zip_h1(module, version)
                && want != fetched.h1
            {
                warn!(%want, got = %fetched.h1, "zip hash differs from the expected one; not stored");
                crate::metrics::metrics().checksum_mismatch();
                return Err(StashError::Checksum(format!(
                    "checksum mismatch: zip is {} but go.sum has {want}",
                    fetched.h1
                )));
            }
            if let Some(want) = sums.go_mod_h1(module, version) {
                let got = agora_core::dirhash::hash_go_mod(&fetched.go_mod);
                if want != got {
                    warn!(%want, %got, "go.mod hash differs from the expected one; not stored");
                    crate::metrics::metrics().checksum_mismatch();
                    return Err(StashError::Checksum(format!(
                        "checksum mismatch: go.mod is {got} but go.sum has {want}"
                    )));
                }
            }
        }
        // The h1 is the spooled zip's, taken by the zip checks as they read
        // the file (or as agora wrote it): no second pass over the zip.
        // A refused version returns here, and its spool file goes with
        // `fetched`.
        if let Some(sumdb) = &self.sumdb {
            sumdb
                .verify(module, version, &fetched.h1, &fetched.go_mod)
                .await
                .map_err(StashError::SumDb)?;
            sumdb
                .log_private(module, version, &fetched.h1, &fetched.go_mod)
                .await?;
        }
        let new = NewVersion {
            info: fetched.info,
            go_mod: fetched.go_mod,
            zip: fetched.zip.to_path_buf(),
        };
        let result = self.storage.put(module, version, new).await;
        if result.is_ok()
            && let Some(tags) = &self.zip_tags
        {
            tags.stored(module, version, &fetched.zip).await;
        }
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

#[async_trait]
impl Stash for FetchAndStore {
    async fn stash(&self, module: &ModulePath, version: &Version) -> Result<(), Arc<StashError>> {
        self.fetch_and_store(module, version)
            .await
            .map_err(Arc::new)
    }
}

type Key = (ModulePath, Version);
type StashFuture = Shared<BoxFuture<'static, Result<(), Arc<StashError>>>>;

/// In-process single flight around another [`Stash`], each flight on its
/// own task.
pub struct SingleFlight<S> {
    inner: Arc<S>,
    inflight: Arc<Mutex<HashMap<Key, StashFuture>>>,
}

impl<S: Stash> SingleFlight<S> {
    /// Single flight around `inner`.
    pub fn new(inner: S) -> Self {
        SingleFlight {
            inner: Arc::new(inner),
            inflight: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

#[async_trait]
impl<S: Stash> Stash for SingleFlight<S> {
    async fn stash(&self, module: &ModulePath, version: &Version) -> Result<(), Arc<StashError>> {
        let key = (module.clone(), version.clone());
        let mut joined = false;
        let fut = {
            let mut map = self
                .inflight
                .lock()
                .map_err(|_| Arc::new(StashError::Task("single-flight table poisoned".into())))?;
            match map.get(&key) {
                Some(f) => {
                    joined = true;
                    f.clone()
                }
                None => {
                    // Spawned while the table is locked, so the task's own
                    // removal of its entry cannot run before the insert below.
                    let inner = self.inner.clone();
                    let inflight = self.inflight.clone();
                    let task_key = key.clone();
                    let span = info_span!("stash", module = %module, version = %version);
                    let handle = tokio::spawn(
                        async move {
                            // Removes the entry however the task ends: a
                            // panic in a fetch must not leave its failure in
                            // the table for every later request.
                            let _entry = FlightEntry {
                                inflight,
                                key: task_key.clone(),
                            };
                            inner.stash(&task_key.0, &task_key.1).await
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
        let _waiting = metrics().singleflight_wait(joined);
        fut.await
    }
}

/// A flight's place in the table, given up when the flight's task ends,
/// returns or unwinds.
struct FlightEntry {
    inflight: Arc<Mutex<HashMap<Key, StashFuture>>>,
    key: Key,
}

impl Drop for FlightEntry {
    fn drop(&mut self) {
        // A poisoned table still gets the entry removed.
        let mut map = match self.inflight.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.remove(&self.key);
    }
}

/// A shared stack of layers is a layer too (for [`Stasher::indexed`]).
#[async_trait]
impl Stash for Arc<dyn Stash> {
    async fn stash(&self, module: &ModulePath, version: &Version) -> Result<(), Arc<StashError>> {
        (**self).stash(module, version).await
    }
}

#[cfg(test)]
mod tests {
    use agora_storage::memory::MemoryStorage;
    use agora_upstream::ErrorKind;

    use super::*;
    use crate::fake::FakeUpstream;

    const M: &str = "example.com/m";

    fn key() -> (ModulePath, Version) {
        (ModulePath::new(M).unwrap(), Version::from_trusted("v1.0.0"))
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_fetch() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let upstream = FakeUpstream::default();
        upstream.add(M, "v1.0.0");
        let stasher = Stasher::new(storage.clone(), upstream.clone(), Duration::from_secs(10));
        let held = upstream.hold_fetches().await;
        let (m, v) = key();
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let (stasher, m, v) = (stasher.clone(), m.clone(), v.clone());
                tokio::spawn(async move { stasher.ensure(&m, &v).await })
            })
            .collect();
        // Let every waiter join the flight before the fetch may finish.
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(held);
        for w in waiters {
            w.await.unwrap().unwrap();
        }
        assert_eq!(upstream.calls(), ["fetch example.com/m@v1.0.0"]);
        assert!(storage.exists(&m, &v).await.unwrap());
        // Stored now: a later request fetches nothing.
        stasher.ensure(&m, &v).await.unwrap();
        assert_eq!(upstream.calls().len(), 1);
    }

    /// A layer in the place a cross-replica lock goes: it sees each flight once.
    struct Counting<S> {
        inner: S,
        entered: Arc<std::sync::atomic::AtomicUsize>,
    }

    #[async_trait]
    impl<S: Stash> Stash for Counting<S> {
        async fn stash(
            &self,
            module: &ModulePath,
            version: &Version,
        ) -> Result<(), Arc<StashError>> {
            self.entered
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.inner.stash(module, version).await
        }
    }

    #[tokio::test]
    async fn a_layer_under_single_flight_sees_one_call_per_flight() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let upstream = FakeUpstream::default();
        upstream.add(M, "v1.0.0");
        let entered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stasher = Stasher::from_stash(SingleFlight::new(Counting {
            inner: FetchAndStore::new(storage.clone(), upstream.clone(), Duration::from_secs(10)),
            entered: entered.clone(),
        }));
        let held = upstream.hold_fetches().await;
        let (m, v) = key();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let (stasher, m, v) = (stasher.clone(), m.clone(), v.clone());
                tokio::spawn(async move { stasher.ensure(&m, &v).await })
            })
            .collect();
        upstream.fetches_begun(1).await;
        // Give the other waiters time to join the flight that is held.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(entered.load(std::sync::atomic::Ordering::SeqCst), 1);
        drop(held);
        for w in waiters {
            w.await.unwrap().unwrap();
        }
        assert!(storage.exists(&m, &v).await.unwrap());
    }

    #[tokio::test]
    async fn a_client_hanging_up_does_not_cancel_the_fetch() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let upstream = FakeUpstream::default();
        upstream.add(M, "v1.0.0");
        let stasher = Stasher::new(storage.clone(), upstream.clone(), Duration::from_secs(10));
        let held = upstream.hold_fetches().await;
        let (m, v) = key();
        let client = {
            let (stasher, m, v) = (stasher.clone(), m.clone(), v.clone());
            tokio::spawn(async move { stasher.ensure(&m, &v).await })
        };
        upstream.fetches_begun(1).await;
        client.abort();
        drop(held);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !storage.exists(&m, &v).await.unwrap() {
            assert!(tokio::time::Instant::now() < deadline, "never stored");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn failures_keep_their_kind_and_are_not_remembered() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let upstream = FakeUpstream::default();
        upstream.add(M, "v1.0.0");
        let stasher = Stasher::new(storage.clone(), upstream.clone(), Duration::from_millis(50));
        let (m, v) = key();
        upstream.fail(ErrorKind::Unavailable);
        let err = stasher.ensure(&m, &v).await.unwrap_err();
        assert!(
            matches!(&*err, StashError::Upstream(e) if e.kind() == ErrorKind::Unavailable),
            "{err:?}"
        );
        upstream.recover();
        let held = upstream.hold_fetches().await;
        let err = stasher.ensure(&m, &v).await.unwrap_err();
        assert!(
            matches!(&*err, StashError::Upstream(e) if e.kind() == ErrorKind::Timeout),
            "{err:?}"
        );
        drop(held);
        stasher.ensure(&m, &v).await.unwrap();
        assert!(storage.exists(&m, &v).await.unwrap());
    }

    #[tokio::test]
    async fn a_panicking_fetch_leaves_no_flight_behind() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let upstream = FakeUpstream::default();
        upstream.add(M, "v1.0.0");
        let stasher = Stasher::new(storage.clone(), upstream.clone(), Duration::from_secs(10));
        let (m, v) = key();
        upstream.panic_on_next_fetch();
        let err = stasher.ensure(&m, &v).await.unwrap_err();
        assert!(matches!(&*err, StashError::Task(_)), "{err:?}");
        // The next request starts a new fetch instead of getting the
        // panicked one's failure again.
        stasher.ensure(&m, &v).await.unwrap();
        assert!(storage.exists(&m, &v).await.unwrap());
        assert_eq!(upstream.calls().len(), 2);
    }

    struct Sums(Option<String>);

    impl Checksums for Sums {
        fn zip_h1(&self, _: &ModulePath, _: &Version) -> Option<String> {
            self.0.clone()
        }
        fn go_mod_h1(&self, _: &ModulePath, _: &Version) -> Option<String> {
            None
        }
    }

    #[tokio::test]
    async fn a_hash_other_than_the_expected_one_is_not_stored() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let upstream = FakeUpstream::default();
        upstream.add(M, "v1.0.0");
        let (m, v) = key();
        let wrong = Stasher::from_stash(SingleFlight::new(
            FetchAndStore::new(storage.clone(), upstream.clone(), Duration::from_secs(10))
                .with_checksums(Arc::new(Sums(Some("h1:other".into())))),
        ));
        let err = wrong.ensure(&m, &v).await.unwrap_err();
        assert!(
            matches!(&*err, StashError::Checksum(msg) if msg.contains("h1:other")),
            "{err:?}"
        );
        assert!(!storage.exists(&m, &v).await.unwrap());
        // The fake's zips hash to "h1:fake": the expected hash is stored.
        let right = Stasher::from_stash(SingleFlight::new(
            FetchAndStore::new(storage.clone(), upstream.clone(), Duration::from_secs(10))
                .with_checksums(Arc::new(Sums(Some("h1:fake".into())))),
        ));
        right.ensure(&m, &v).await.unwrap();
        assert!(storage.exists(&m, &v).await.unwrap());
    }
}
