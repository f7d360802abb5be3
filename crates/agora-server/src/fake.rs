//! Fakes of agora-server's own seams, for its unit tests: an [`Upstream`]
//! answering from a table, and a [`Storage`] whose backend is down.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use agora_core::{ModulePath, RevInfo, Version, semver};
use agora_storage::{CatalogPage, NewVersion, Storage, StorageError, ZipObject};
use agora_upstream::{ErrorKind, Fetched, UpstreamError};
use async_trait::async_trait;
use bytes::Bytes;

use crate::upstream::Upstream;

/// An upstream holding a few modules in memory. Every call is counted; a
/// failure set with [`FakeUpstream::fail`] answers every call until cleared.
#[derive(Clone, Default)]
pub struct FakeUpstream {
    state: Arc<Mutex<State>>,
    /// Held by `fetch` while it runs, so a test can keep a fetch in flight.
    gate: Arc<tokio::sync::RwLock<()>>,
}

#[derive(Default)]
struct State {
    /// module → version → go.mod.
    modules: BTreeMap<String, BTreeMap<String, String>>,
    failure: Option<(ErrorKind, String)>,
    /// The next fetch panics (a bug in a fetch path, seen from the stash).
    panic_once: bool,
    calls: Vec<String>,
}

impl FakeUpstream {
    /// Adds `module@version` (canonical) with a go.mod naming the module.
    pub fn add(&self, module: &str, version: &str) -> &Self {
        self.state
            .lock()
            .unwrap()
            .modules
            .entry(module.to_owned())
            .or_default()
            .insert(version.to_owned(), format!("module {module}\n"));
        self
    }

    /// Makes every call fail with `kind` until [`FakeUpstream::recover`].
    pub fn fail(&self, kind: ErrorKind) {
        self.state.lock().unwrap().failure = Some((kind, format!("upstream is {kind:?}")));
    }

    /// Makes the next fetch panic.
    pub fn panic_on_next_fetch(&self) {
        self.state.lock().unwrap().panic_once = true;
    }

    /// Ends a [`FakeUpstream::fail`].
    pub fn recover(&self) {
        self.state.lock().unwrap().failure = None;
    }

    /// The calls so far, as `"list example.com/m"`, `"fetch example.com/m@v1.0.0"`.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Holds every fetch until the guard drops.
    pub async fn hold_fetches(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.gate.write().await
    }

    /// Waits until `n` fetches have begun.
    pub async fn fetches_begun(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let begun = self
                .calls()
                .iter()
                .filter(|c| c.starts_with("fetch "))
                .count();
            if begun >= n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{begun} of {n} fetches began"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// The module's go.mod by version, after counting the call and applying
    /// any failure.
    fn enter(
        &self,
        call: String,
        module: &ModulePath,
    ) -> Result<BTreeMap<String, String>, UpstreamError> {
        let mut st = self.state.lock().unwrap();
        st.calls.push(call);
        if let Some((kind, msg)) = &st.failure {
            return Err(UpstreamError::new(*kind, msg.clone()));
        }
        st.modules
            .get(module.as_str())
            .cloned()
            .ok_or_else(|| not_found(format!("{module}: unknown module")))
    }
}

fn not_found(msg: String) -> UpstreamError {
    UpstreamError::new(ErrorKind::NotFound, msg)
}

/// The `.info` the fake serves for `version`.
pub fn info_json(version: &str) -> String {
    format!("{{\"Version\":\"{version}\",\"Time\":\"2024-01-02T03:04:05Z\"}}")
}

fn rev(version: &str) -> (RevInfo, Bytes) {
    let body = info_json(version);
    (
        RevInfo {
            version: version.to_owned(),
            time: "2024-01-02T03:04:05Z".to_owned(),
            origin: None,
            hash: String::new(),
        },
        Bytes::from(body),
    )
}

#[async_trait]
impl Upstream for FakeUpstream {
    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError> {
        let versions = self.enter(format!("list {module}"), module)?;
        Ok(versions.into_keys().collect())
    }

    async fn latest(&self, module: &ModulePath) -> Result<(RevInfo, Bytes), UpstreamError> {
        let versions = self.enter(format!("latest {module}"), module)?;
        let best = versions
            .keys()
            .max_by(|a, b| semver::compare(a, b))
            .ok_or_else(|| not_found(format!("{module}: no versions")))?;
        Ok(rev(best))
    }

    async fn info(
        &self,
        module: &ModulePath,
        query: &Version,
    ) -> Result<(RevInfo, Bytes), UpstreamError> {
        let versions = self.enter(format!("info {module}@{query}"), module)?;
        // A query names the highest version it is a prefix of ("v1" → v1.x.y).
        let best = versions
            .keys()
            .filter(|v| v.starts_with(query.as_str()))
            .max_by(|a, b| semver::compare(a, b))
            .ok_or_else(|| not_found(format!("{module}@{query}: no matching version")))?;
        Ok(rev(best))
    }

    async fn fetch(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Fetched, UpstreamError> {
        let versions = self.enter(format!("fetch {module}@{version}"), module)?;
        // Counted before it waits, so a test can see a held fetch has begun.
        let _gate = self.gate.read().await;
        let panic = std::mem::take(&mut self.state.lock().unwrap().panic_once);
        assert!(!panic, "fetch of {module}@{version} panicked (as asked)");
        let go_mod = versions
            .get(version.as_str())
            .ok_or_else(|| not_found(format!("{module}@{version}: unknown revision")))?;
        let mut zip = tempfile::NamedTempFile::new().unwrap();
        zip.write_all(b"not a real zip: storage never opens it")
            .unwrap();
        Ok(Fetched {
            version: version.clone(),
            info: Bytes::from(info_json(version.as_str())),
            go_mod: Bytes::from(go_mod.clone()),
            zip: zip.into_temp_path(),
            h1: "h1:fake".to_owned(),
        })
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, UpstreamError> {
        let versions = self.enter(format!("go_mod {module}@{version}"), module)?;
        versions
            .get(version.as_str())
            .map(|g| Bytes::from(g.clone()))
            .ok_or_else(|| not_found(format!("{module}@{version}: unknown revision")))
    }
}

/// A storage whose backend cannot be reached: every call is `Unavailable`.
pub struct DownStorage;

fn down() -> StorageError {
    StorageError::io("reaching the fake backend", std::io::Error::other("down"))
}

#[async_trait]
impl Storage for DownStorage {
    fn describe(&self) -> String {
        "down".to_owned()
    }
    async fn list(&self, _: &ModulePath) -> Result<Vec<String>, StorageError> {
        Err(down())
    }
    async fn exists(&self, _: &ModulePath, _: &Version) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn info(&self, _: &ModulePath, _: &Version) -> Result<Bytes, StorageError> {
        Err(down())
    }
    async fn go_mod(&self, _: &ModulePath, _: &Version) -> Result<Bytes, StorageError> {
        Err(down())
    }
    async fn zip(&self, _: &ModulePath, _: &Version) -> Result<ZipObject, StorageError> {
        Err(down())
    }
    async fn put(&self, _: &ModulePath, _: &Version, _: NewVersion) -> Result<(), StorageError> {
        Err(down())
    }
    async fn delete(&self, _: &ModulePath, _: &Version) -> Result<(), StorageError> {
        Err(down())
    }
    async fn catalog(&self, _: &str, _: usize) -> Result<CatalogPage, StorageError> {
        Err(down())
    }
    async fn ready(&self) -> Result<(), StorageError> {
        Err(down())
    }
}
