//! The GOPROXY endpoints: storage first, then upstream.

use std::sync::Arc;

use agora_core::download_mode::{DownloadFile, Mode as DownloadMode, redirect_url};
use agora_core::{Artifact, ModulePath, Version, pseudo, semver};
use agora_storage::{Storage, StorageError};
use agora_upstream::UpstreamError;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tracing::{Instrument, info, info_span, warn};

use crate::cache::CachedStorage;
use crate::error::ApiError;
use crate::request::ProxyRequest;
use crate::respond;
use crate::stash::{StashError, Stasher};
use crate::upstream::Upstream;
use crate::ziptag::ZipTags;

pub use agora_core::NetworkMode;

/// The proxy's shared state.
#[derive(Clone)]
pub struct Proxy {
    storage: Arc<dyn Storage>,
    upstream: Arc<dyn Upstream>,
    stasher: Stasher,
    network_mode: NetworkMode,
    zip_tags: Arc<ZipTags>,
    /// What a storage miss of `.info`, `.mod` or `.zip` does.
    download: Arc<DownloadFile>,
}

impl Proxy {
    /// Wires storage, upstream and the stasher together. Reads go through a
    /// [`CachedStorage`] over `storage` keeping at most `cache_bytes`.
    pub fn new(
        storage: Arc<dyn Storage>,
        upstream: impl Upstream + 'static,
        stasher: Stasher,
        network_mode: NetworkMode,
        cache_bytes: usize,
    ) -> Self {
        Proxy {
            storage: Arc::new(CachedStorage::new(storage, cache_bytes)),
            upstream: Arc::new(upstream),
            zip_tags: stasher.zip_tags(),
            stasher,
            network_mode,
            download: Arc::new(DownloadFile {
                mode: DownloadMode::Sync,
                download_url: String::new(),
                paths: Vec::new(),
            }),
        }
    }

    /// Applies Athens' download modes to storage misses (the default is `sync` for
    /// every module).
    pub fn with_download_modes(mut self, download: DownloadFile) -> Self {
        self.download = Arc::new(download);
        self
    }

    /// The storage (through the cache), for readiness checks and the catalog.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// `/{module}/@v/list`: upstream's tagged versions plus every stored
    /// canonical release, without pseudo-versions.
    pub async fn list(&self, module: &ModulePath) -> Result<Response, ApiError> {
        let (stored, upstream) = if self.network_mode == NetworkMode::Offline {
            (self.stored_versions(module).await?, None)
        } else {
            let (s, u) = tokio::join!(self.stored_versions(module), self.upstream.list(module));
            (s?, Some(u))
        };
        let has_module = !stored.is_empty();
        let tagged: Vec<String> = stored
            .into_iter()
            .filter(|v| !pseudo::is_pseudo_version(v))
            .collect();
        let mut versions = match upstream {
            Some(Ok(mut up)) => {
                for v in tagged {
                    if !up.contains(&v) {
                        up.push(v);
                    }
                }
                up
            }
            // A module stored only at pseudo-versions is known here: its list
            // is empty, not absent, and the go command then asks @latest.
            None => self
                .storage_answer(module, has_module, None)
                .map(|()| tagged)?,
            Some(Err(e)) => self
                .storage_answer(module, has_module, Some(e))
                .map(|()| tagged)?,
        };
        semver::sort(&mut versions);
        let mut body = versions.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        Ok(respond::mutable(
            Bytes::from(body),
            "text/plain; charset=utf-8",
        ))
    }

    /// Decides whether a list or latest answer may come from storage when
    /// upstream was not asked (offline) or failed; `Err` is the answer otherwise.
    fn storage_answer(
        &self,
        module: &ModulePath,
        has_module: bool,
        upstream_err: Option<UpstreamError>,
    ) -> Result<(), ApiError> {
        match upstream_err {
            None if has_module => Ok(()),
            None => Err(ApiError::not_found(format!(
                "{module}: not stored (network mode is offline)"
            ))),
            Some(e) => {
                let use_storage =
                    has_module && (e.is_not_found() || self.network_mode == NetworkMode::Fallback);
                if use_storage {
                    if !e.is_not_found() {
                        warn!(%module, error = %e, "upstream failed; answering from storage");
                    }
                    Ok(())
                } else {
                    Err(ApiError::from(&e))
                }
            }
        }
    }

    async fn stored_versions(&self, module: &ModulePath) -> Result<Vec<String>, ApiError> {
        let versions = self.storage.list(module).await?;
        // Only versions the go command could have asked for by name belong in
        // an answer; a hand-made tree may hold other directories.
        Ok(versions
            .into_iter()
            .filter(|v| Version::from_trusted(v).is_canonical_for(module))
            .collect())
    }

    /// `/{module}/@latest`.
    pub async fn latest(&self, module: &ModulePath) -> Result<Response, ApiError> {
        let upstream_err = if self.network_mode == NetworkMode::Offline {
            None
        } else {
            match self.upstream.latest(module).await {
                Ok((_, body)) => return Ok(respond::mutable(body, "application/json")),
                Err(e) => Some(e),
            }
        };
        let stored = self.stored_versions(module).await?;
        self.storage_answer(module, !stored.is_empty(), upstream_err)?;
        self.latest_storage_answer(module, pick_latest(&stored))
            .await
    }

    async fn latest_storage_answer(
        &self,
        module: &ModulePath,
        version: Option<String>,
    ) -> Result<Response, ApiError> {
        let Some(version) = version else {
            return Err(ApiError::not_found(format!("{module}: no stored version")));
        };
        let info = self
            .storage
            .info(module, &Version::from_trusted(&version))
            .await?;
        Ok(respond::mutable(info, "application/json"))
    }

    /// `/{module}/@v/{version}.{info,mod,zip}`.
    pub async fn artifact(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        if !version.is_canonical_for(module) {
            if artifact != Artifact::Info {
                return Err(ApiError::bad_request(format!(
                    "{module}: .{} needs a canonical version, not {version:?}",
                    artifact.extension()
                )));
            }
            // A query is never stored under its own name, so in Athens it always misses
            // and its download mode decides.
            if let Some(answer) = self.on_miss(module, version, artifact) {
                return answer;
            }
            return self.query_info(module, version, headers).await;
        }
        match self
            .serve_stored(module, version, artifact, method, headers)
            .await
        {
            Err(e) if e.is_not_found() => {}
            other => return other.map_err(ApiError::from),
        }
        if let Some(answer) = self.on_miss(module, version, artifact) {
            return answer;
        }
        if let Err(e) = self.stasher.ensure(module, version).await {
            if artifact != Artifact::Zip
                && zip_refused(&e)
                && let Some(resp) = self.unstored(module, version, artifact).await
            {
                return Ok(resp);
            }
            return Err(ApiError::from(&*e));
        }
        self.serve_stored(module, version, artifact, method, headers)
            .await
            .map_err(ApiError::from)
    }

    /// What the download mode does with a storage miss; `None` for `sync` (fetch now).
    /// Background fetches go through the same stasher as every other fetch, on a task of
    /// their own: the answer does not wait for them, and a client hanging up does not
    /// cancel them.
    fn on_miss(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
    ) -> Option<Result<Response, ApiError>> {
        let mode = self.download.mode_for(module.as_str());
        if mode == DownloadMode::Sync {
            return None;
        }
        if mode.fetches_in_background() {
            self.fetch_in_background(module, version);
        }
        Some(if mode.redirects() {
            let base = self.download.url_for(module.as_str());
            if base.is_empty() {
                // A relative Location would send the client back here (Athens does).
                return Some(Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("download mode {mode} for {module} has no URL to redirect to"),
                )));
            }
            let path = ProxyRequest::Artifact(module.clone(), version.clone(), artifact).path();
            let target = redirect_url(base, &path);
            info!(%module, %version, %mode, %target, "not stored; redirecting");
            Ok(crate::policy::redirect(
                StatusCode::MOVED_PERMANENTLY,
                &target,
            ))
        } else {
            Err(ApiError::not_found(match mode {
                DownloadMode::Async => format!(
                    "{module}@{version} is not stored yet; it is being fetched (download mode \
                     async), try again later"
                ),
                _ => format!("{module}@{version} is not stored (download mode {mode})"),
            }))
        })
    }

    /// Stashes `module@version` (a query is resolved first) on a detached task.
    fn fetch_in_background(&self, module: &ModulePath, version: &Version) {
        let (proxy, module, version) = (self.clone(), module.clone(), version.clone());
        let span = info_span!("background_fetch", %module, %version);
        tokio::spawn(
            async move {
                let canonical = if version.is_canonical_for(&module) {
                    version
                } else {
                    match proxy.upstream.info(&module, &version).await {
                        Ok((info, _)) => Version::from_trusted(&info.version),
                        Err(e) => {
                            warn!(error = %e, "resolving the version failed");
                            return;
                        }
                    }
                };
                match proxy.stasher.ensure(&module, &canonical).await {
                    Ok(()) => info!(version = %canonical, "fetched in the background"),
                    Err(e) => warn!(version = %canonical, error = %e, "background fetch failed"),
                }
            }
            .instrument(span),
        );
    }

    /// The `.info` or `.mod` of a version that cannot be stored because its
    /// zip is refused, straight from upstream and not kept: the go command
    /// in direct mode answers them (and so the list, `@latest` and module
    /// graphs that read them) and fails only the zip. `None` when upstream
    /// does not give it either.
    async fn unstored(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
    ) -> Option<Response> {
        let got = match artifact {
            Artifact::Info => self
                .upstream
                .info(module, version)
                .await
                .map(|(_, body)| (body, "application/json")),
            _ => self
                .upstream
                .go_mod(module, version)
                .await
                .map(|body| (body, "text/plain; charset=utf-8")),
        };
        match got {
            Ok((body, content_type)) => {
                info!(%module, %version, artifact = artifact.extension(), "answered from upstream; the version cannot be stored");
                Some(respond::mutable(body, content_type))
            }
            Err(e) => {
                warn!(%module, %version, error = %e, "upstream failed after the zip was refused");
                None
            }
        }
    }

    /// A `.info` for a branch, tag, commit or partial version: upstream
    /// resolves it, and the answer is the stored canonical version's `.info`.
    async fn query_info(
        &self,
        module: &ModulePath,
        query: &Version,
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let (info, upstream_body) = self.upstream.info(module, query).await?;
        let version = Version::from_trusted(&info.version);
        info!(%module, query = %query, resolved = %version, "resolved version query");
        if !self.storage.exists(module, &version).await?
            && let Err(e) = self.stasher.ensure(module, &version).await
        {
            // As for a canonical .info (see `unstored`).
            if zip_refused(&e) {
                return Ok(respond::mutable(upstream_body, "application/json"));
            }
            return Err(ApiError::from(&*e));
        }
        let body = self.storage.info(module, &version).await?;
        // The answer to a query can change (a branch moves), so it must not be
        // cached as immutable, unlike the canonical version's own .info.
        let etag = respond::content_etag(&body);
        let mut resp = respond::small(body, "application/json", &etag, headers);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Ok(resp)
    }

    async fn serve_stored(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, StorageError> {
        let content_type = match artifact {
            Artifact::Info => "application/json",
            Artifact::Mod => "text/plain; charset=utf-8",
            Artifact::Zip => {
                let zip = self.storage.zip(module, version).await?;
                let zip = self
                    .zip_tags
                    .content_tagged(self.storage.as_ref(), module, version, zip)
                    .await?;
                return Ok(respond::immutable(
                    respond::zip(zip, method, headers).await?,
                ));
            }
        };
        let body = if artifact == Artifact::Info {
            self.storage.info(module, version).await?
        } else {
            self.storage.go_mod(module, version).await?
        };
        let etag = respond::content_etag(&body);
        Ok(respond::immutable(respond::small(
            body,
            content_type,
            &etag,
            headers,
        )))
    }
}

/// Whether a fetch failed because upstream's content was refused (a zip the
/// module zip rules refuse, say) rather than missing or unreachable.
fn zip_refused(e: &StashError) -> bool {
    matches!(e, StashError::Upstream(u) if u.kind() == agora_upstream::ErrorKind::BadResponse)
}

/// The version `@latest` means among stored ones: the highest release, else
/// the highest pre-release, else the highest pseudo-version.
fn pick_latest(versions: &[String]) -> Option<String> {
    let best = |pred: &dyn Fn(&str) -> bool| {
        versions
            .iter()
            .filter(|v| pred(v))
            .max_by(|a, b| semver::compare(a, b))
            .cloned()
    };
    best(&|v| !pseudo::is_pseudo_version(v) && semver::prerelease(v).is_empty())
        .or_else(|| best(&|v| !pseudo::is_pseudo_version(v)))
        .or_else(|| best(&|v| pseudo::is_pseudo_version(v)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use agora_storage::NewVersion;
    use agora_storage::memory::MemoryStorage;
    use agora_upstream::ErrorKind;
    use axum::response::IntoResponse;
    use http::StatusCode;
    use http_body_util::BodyExt;

    use super::*;
    use crate::fake::{DownStorage, FakeUpstream, info_json};

    const M: &str = "example.com/m";
    const PSEUDO: &str = "v0.0.0-20200101000000-abcdefabcdef";

    struct Setup {
        proxy: Proxy,
        upstream: FakeUpstream,
        storage: Arc<dyn Storage>,
    }

    fn setup_with(mode: NetworkMode, storage: Arc<dyn Storage>) -> Setup {
        let upstream = FakeUpstream::default();
        let stasher = Stasher::new(storage.clone(), upstream.clone(), Duration::from_secs(10));
        Setup {
            proxy: Proxy::new(storage.clone(), upstream.clone(), stasher, mode, 1 << 20),
            upstream,
            storage,
        }
    }

    fn setup(mode: NetworkMode) -> Setup {
        setup_with(mode, Arc::new(MemoryStorage::new()))
    }

    fn module(path: &str) -> ModulePath {
        ModulePath::new(path).unwrap()
    }

    impl Setup {
        async fn store(&self, path: &str, version: &str) {
            let zip = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(zip.path(), b"zip").unwrap();
            let new = NewVersion {
                info: Bytes::from(info_json(version)),
                go_mod: Bytes::from(format!("module {path}\n")),
                zip: zip.path().to_path_buf(),
            };
            self.storage
                .put(&module(path), &Version::from_trusted(version), new)
                .await
                .unwrap();
        }

        async fn list(&self, path: &str) -> (StatusCode, String) {
            answer(self.proxy.list(&module(path)).await).await
        }

        async fn latest(&self, path: &str) -> (StatusCode, String) {
            answer(self.proxy.latest(&module(path)).await).await
        }

        async fn get(&self, path: &str, version: &str, artifact: Artifact) -> (StatusCode, String) {
            let resp = self
                .proxy
                .artifact(
                    &module(path),
                    &Version::from_trusted(version),
                    artifact,
                    &Method::GET,
                    &HeaderMap::new(),
                )
                .await;
            answer(resp).await
        }
    }

    /// The status and body a client would see.
    async fn answer(result: Result<Response, ApiError>) -> (StatusCode, String) {
        let resp = result.unwrap_or_else(IntoResponse::into_response);
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn ok(body: &str) -> (StatusCode, String) {
        (StatusCode::OK, body.to_owned())
    }

    #[tokio::test]
    async fn list_is_upstream_plus_stored_releases() {
        let s = setup(NetworkMode::Strict);
        s.upstream.add(M, "v1.0.0").add(M, "v1.2.0");
        s.store(M, "v1.1.0").await;
        s.store(M, "v1.0.0").await;
        s.store(M, PSEUDO).await;
        assert_eq!(s.list(M).await, ok("v1.0.0\nv1.1.0\nv1.2.0\n"));
    }

    #[tokio::test]
    async fn strict_passes_upstream_failures_on() {
        let s = setup(NetworkMode::Strict);
        s.upstream.add(M, "v1.0.0");
        s.store(M, "v1.0.0").await;
        s.upstream.fail(ErrorKind::Unavailable);
        assert_eq!(s.list(M).await.0, StatusCode::BAD_GATEWAY);
        assert_eq!(s.latest(M).await.0, StatusCode::BAD_GATEWAY);
        s.upstream.fail(ErrorKind::Timeout);
        assert_eq!(s.list(M).await.0, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(s.latest(M).await.0, StatusCode::GATEWAY_TIMEOUT);
        // A stored version is still served: only list and latest need upstream.
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Mod).await,
            ok("module example.com/m\n")
        );
    }

    #[tokio::test]
    async fn strict_answers_from_storage_when_upstream_says_not_found() {
        let s = setup(NetworkMode::Strict);
        s.store(M, "v1.0.0").await;
        assert_eq!(s.list(M).await, ok("v1.0.0\n"));
        assert_eq!(s.latest(M).await, ok(&info_json("v1.0.0")));
        s.upstream.fail(ErrorKind::NotFound);
        assert_eq!(s.list(M).await, ok("v1.0.0\n"));
        // Known nowhere: the "not found" is the answer.
        let (status, body) = s.list("example.com/other").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(s.latest("example.com/other").await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn fallback_answers_from_storage_on_any_failure() {
        let s = setup(NetworkMode::Fallback);
        s.upstream.add(M, "v1.0.0").add(M, "v1.1.0");
        s.store(M, "v1.0.0").await;
        s.store(M, "v1.0.1-rc.1").await;
        assert_eq!(s.list(M).await, ok("v1.0.0\nv1.0.1-rc.1\nv1.1.0\n"));
        for kind in [
            ErrorKind::Unavailable,
            ErrorKind::Timeout,
            ErrorKind::BadResponse,
        ] {
            s.upstream.fail(kind);
            assert_eq!(s.list(M).await, ok("v1.0.0\nv1.0.1-rc.1\n"), "{kind:?}");
            // The highest release, not the higher pre-release.
            assert_eq!(s.latest(M).await, ok(&info_json("v1.0.0")), "{kind:?}");
            // Nothing stored: the failure is the answer, never a 404.
            assert_eq!(
                s.list("example.com/other").await.0,
                ApiError::from(&UpstreamError::new(kind, "x")).status(),
                "{kind:?}"
            );
            assert_ne!(s.latest("example.com/other").await.0, StatusCode::NOT_FOUND);
        }
    }

    #[tokio::test]
    async fn offline_never_asks_upstream() {
        let s = setup(NetworkMode::Offline);
        s.upstream.add(M, "v1.2.0");
        s.store(M, "v1.0.0").await;
        s.store("example.com/pseudo", PSEUDO).await;
        assert_eq!(s.list(M).await, ok("v1.0.0\n"));
        assert_eq!(s.latest(M).await, ok(&info_json("v1.0.0")));
        // Stored only at a pseudo-version: known, with an empty list.
        assert_eq!(s.list("example.com/pseudo").await, ok(""));
        assert_eq!(s.latest("example.com/pseudo").await, ok(&info_json(PSEUDO)));
        let (status, body) = s.list("example.com/other").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("network mode is offline"), "{body}");
        assert_eq!(s.latest("example.com/other").await.0, StatusCode::NOT_FOUND);
        assert_eq!(s.upstream.calls(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn latest_is_upstreams_answer_when_it_has_one() {
        let s = setup(NetworkMode::Strict);
        s.upstream.add(M, "v1.1.0");
        s.store(M, "v1.5.0").await;
        assert_eq!(s.latest(M).await, ok(&info_json("v1.1.0")));
    }

    #[tokio::test]
    async fn storage_outage_is_503_never_404() {
        let s = setup_with(NetworkMode::Strict, Arc::new(DownStorage));
        s.upstream.add(M, "v1.0.0");
        assert_eq!(s.list(M).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Info).await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let s = setup_with(NetworkMode::Fallback, Arc::new(DownStorage));
        s.upstream.fail(ErrorKind::Unavailable);
        assert_eq!(s.latest(M).await.0, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn a_miss_is_fetched_once_then_served_from_storage() {
        let s = setup(NetworkMode::Strict);
        s.upstream.add(M, "v1.0.0");
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Info).await,
            ok(&info_json("v1.0.0"))
        );
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Mod).await,
            ok("module example.com/m\n")
        );
        assert_eq!(s.get(M, "v1.0.0", Artifact::Zip).await.0, StatusCode::OK);
        assert_eq!(s.upstream.calls(), ["fetch example.com/m@v1.0.0"]);
        assert!(
            s.storage
                .exists(&module(M), &Version::from_trusted("v1.0.0"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_miss_keeps_upstreams_error_kind() {
        let s = setup(NetworkMode::Strict);
        s.upstream.add(M, "v1.0.0");
        assert_eq!(
            s.get(M, "v1.9.9", Artifact::Mod).await.0,
            StatusCode::NOT_FOUND
        );
        s.upstream.fail(ErrorKind::Unavailable);
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Zip).await.0,
            StatusCode::BAD_GATEWAY
        );
        s.upstream.fail(ErrorKind::Timeout);
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Zip).await.0,
            StatusCode::GATEWAY_TIMEOUT
        );
        s.upstream.recover();
        assert_eq!(s.get(M, "v1.0.0", Artifact::Zip).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_query_resolves_upstream_and_stores_the_version() {
        let s = setup(NetworkMode::Strict);
        s.upstream.add(M, "v1.1.0").add(M, "v1.2.0");
        let resp = s
            .proxy
            .artifact(
                &module(M),
                &Version::from_trusted("v1"),
                Artifact::Info,
                &Method::GET,
                &HeaderMap::new(),
            )
            .await
            .unwrap();
        // The answer to a query can change: never cached as immutable.
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(answer(Ok(resp)).await, ok(&info_json("v1.2.0")));
        assert!(
            s.storage
                .exists(&module(M), &Version::from_trusted("v1.2.0"))
                .await
                .unwrap()
        );
        assert_eq!(
            s.get(M, "v1", Artifact::Mod).await.0,
            StatusCode::BAD_REQUEST
        );
    }

    fn with_modes(s: Setup, text: &str) -> Setup {
        Setup {
            proxy: s
                .proxy
                .with_download_modes(DownloadFile::parse(text).unwrap()),
            ..s
        }
    }

    async fn eventually_stored(s: &Setup, m: &str, v: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !s
            .storage
            .exists(&module(m), &Version::from_trusted(v))
            .await
            .unwrap()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{m}@{v} never stored"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn download_modes_on_a_miss() {
        let s = with_modes(
            setup(NetworkMode::Strict),
            r#"mode = "sync"
downloadURL = "https://top.example/base"
download "example.com/async/*" { mode = "async" }
download "example.com/redirect/*" { mode = "redirect" }
download "example.com/both/*" {
  mode = "async_redirect"
  downloadURL = "https://mirror.example/"
}
download "example.com/none/*" { mode = "none" }
"#,
        );
        for m in [
            "example.com/async/m",
            "example.com/redirect/M",
            "example.com/both/m",
            "example.com/none/m",
        ] {
            s.upstream.add(m, "v1.0.0");
        }
        // none: 404, upstream never asked, nothing stored.
        let (status, body) = s.get("example.com/none/m", "v1.0.0", Artifact::Zip).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(body.contains("download mode none"), "{body}");
        // redirect: 301 to the URL joined with the escaped path; nothing fetched.
        let resp = s
            .proxy
            .artifact(
                &module("example.com/redirect/M"),
                &Version::from_trusted("v1.0.0"),
                Artifact::Mod,
                &Method::GET,
                &HeaderMap::new(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            resp.headers()[header::LOCATION],
            "https://top.example/base/example.com/redirect/!m/@v/v1.0.0.mod"
        );
        assert_eq!(s.upstream.calls(), Vec::<String>::new());
        // async: 404 now, stored later without another request.
        let (status, body) = s.get("example.com/async/m", "v1.0.0", Artifact::Info).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        eventually_stored(&s, "example.com/async/m", "v1.0.0").await;
        assert_eq!(
            s.get("example.com/async/m", "v1.0.0", Artifact::Info).await,
            ok(&info_json("v1.0.0"))
        );
        // async_redirect: 301 to the block's URL, and stored in the background.
        let resp = s
            .proxy
            .artifact(
                &module("example.com/both/m"),
                &Version::from_trusted("v1.0.0"),
                Artifact::Zip,
                &Method::GET,
                &HeaderMap::new(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            resp.headers()[header::LOCATION],
            "https://mirror.example/example.com/both/m/@v/v1.0.0.zip"
        );
        eventually_stored(&s, "example.com/both/m", "v1.0.0").await;
        // Once stored, every mode serves from storage.
        assert_eq!(
            s.get("example.com/both/m", "v1.0.0", Artifact::Zip).await.0,
            StatusCode::OK
        );
        let mut calls = s.upstream.calls();
        calls.sort();
        assert_eq!(
            calls,
            [
                "fetch example.com/async/m@v1.0.0",
                "fetch example.com/both/m@v1.0.0"
            ]
        );
        // Other modules stay sync.
        s.upstream.add(M, "v1.0.0");
        assert_eq!(
            s.get(M, "v1.0.0", Artifact::Mod).await,
            ok("module example.com/m\n")
        );
    }

    #[tokio::test]
    async fn async_misses_share_one_fetch() {
        let s = with_modes(
            setup(NetworkMode::Strict),
            "mode = \"async\"\ndownloadURL = \"\"\n",
        );
        s.upstream.add(M, "v1.0.0");
        let held = s.upstream.hold_fetches().await;
        for _ in 0..5 {
            assert_eq!(
                s.get(M, "v1.0.0", Artifact::Zip).await.0,
                StatusCode::NOT_FOUND
            );
        }
        s.upstream.fetches_begun(1).await;
        drop(held);
        eventually_stored(&s, M, "v1.0.0").await;
        assert_eq!(s.upstream.calls(), ["fetch example.com/m@v1.0.0"]);
    }

    #[tokio::test]
    async fn queries_follow_the_download_mode() {
        let s = with_modes(
            setup(NetworkMode::Strict),
            "mode = \"none\"\ndownloadURL = \"\"\ndownload \"example.com/a\" { mode = \"async\" }\n",
        );
        s.upstream.add(M, "v1.2.0").add("example.com/a", "v1.3.0");
        // none: not even resolved upstream.
        assert_eq!(
            s.get(M, "v1", Artifact::Info).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.upstream.calls(), Vec::<String>::new());
        // async: resolved and stored in the background.
        assert_eq!(
            s.get("example.com/a", "v1", Artifact::Info).await.0,
            StatusCode::NOT_FOUND
        );
        eventually_stored(&s, "example.com/a", "v1.3.0").await;
        // list and @latest never consult the download mode.
        assert_eq!(s.list(M).await, ok("v1.2.0\n"));
        assert_eq!(s.latest(M).await, ok(&info_json("v1.2.0")));
    }

    #[test]
    fn latest_prefers_release_then_prerelease_then_pseudo() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pick_latest(&v(&["v1.0.0", "v1.1.0-rc1", "v0.9.0"])).as_deref(),
            Some("v1.0.0")
        );
        assert_eq!(
            pick_latest(&v(&["v1.1.0-rc1", "v1.0.0-rc2"])).as_deref(),
            Some("v1.1.0-rc1")
        );
        assert_eq!(
            pick_latest(&v(&[
                "v0.0.0-20200101000000-abcdefabcdef",
                "v0.0.0-20210101000000-abcdefabcdef"
            ]))
            .as_deref(),
            Some("v0.0.0-20210101000000-abcdefabcdef")
        );
        assert_eq!(pick_latest(&[]), None);
    }
}
