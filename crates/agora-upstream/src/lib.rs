//! Everything agora asks of the outside world when storage lacks a module.
//!
//! This crate owns the GOPROXY chain ([`goproxy`]): parsing it, walking it
//! with the go command's exact fallback rules (`,` falls through only on
//! 404/410, `|` on any error), routing GONOPROXY/GOPRIVATE modules to
//! `direct`, the HTTP client for upstream proxies, and the checks every
//! fetched artifact passes before it may be stored: `.info` names the
//! requested version and the zip obeys the module zip rules (a `.mod` that
//! differs from the zip's go.mod is logged, as the go command accepts it).
//! Zips are spooled to a temporary file, never into memory.
//!
//! The `direct` entry finds a module's repository ([`discovery`]), applies
//! the operator's credentials ([`credentials`]: netrc, GitHub token) and
//! builds the version from git through `agora-vcs`; its zip then passes the
//! same checks as a proxy's. Repositories of the VCSs the operator gave to the
//! go command (hg, svn, bzr, fossil; never git) are fetched by running it
//! (`gofetch`, Athens' way), and its zip passes the same checks too.
//!
//! At most `max_fetches` fetches run at once, whatever their source (see
//! [`UpstreamConfig::max_fetches`]); the rest wait within their deadline.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, RevInfo, Version, pattern, zipcheck};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

pub mod credentials;
mod direct;
pub mod discovery;
mod gofetch;
pub mod goproxy;

pub use credentials::Credentials;
pub use gofetch::GoFetcherConfig;
pub use goproxy::{ProxyList, Source};

/// The broad class of an upstream failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Every source that answered said the module or version does not exist
    /// (404/410), or lookups are off.
    NotFound,
    /// A source could not be reached or failed (connection refused, 5xx, an
    /// unexpected status).
    Unavailable,
    /// A source did not answer in time.
    Timeout,
    /// A source answered with something that fails the checks.
    BadResponse,
    /// The chain needs something agora does not do (a VCS other than git,
    /// unless it is given to the go command).
    Unsupported,
}

/// An upstream failure with its kind and a one-line reason for the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct UpstreamError {
    kind: ErrorKind,
    message: String,
}

impl UpstreamError {
    /// A failure of the given kind; URLs in `message` lose their credentials.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        // Messages name upstream URLs and reach clients: never with credentials.
        UpstreamError {
            kind,
            message: goproxy::redact_urls(&message.into()),
        }
    }

    /// A deadline that ran out, such as the stash timeout around a whole fetch.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// True when upstream positively said "does not exist".
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// Upstream settings.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// The GOPROXY chain.
    pub proxies: ProxyList,
    /// GONOPROXY globs (GOPRIVATE when unset): such modules go `direct`.
    pub gonoproxy: String,
    /// Deadline for one list/latest/info request.
    pub timeout: Duration,
    /// Where zips are spooled while they download and are checked.
    pub spool_dir: PathBuf,
    /// Where `direct` keeps its bare git mirrors.
    pub vcs_cache_dir: PathBuf,
    /// GOINSECURE globs: discovery may fall back to plain http for these.
    pub goinsecure: String,
    /// Credentials for private repositories (netrc or GitHub token), used by
    /// `direct` only: see [`credentials`].
    pub credentials: Credentials,
    /// The go fetcher for hg, svn, bzr and fossil repositories (off when its
    /// VCS list is empty). Its temporary GOPATHs go under `spool_dir`.
    pub go_fetcher: GoFetcherConfig,
    /// How many fetches may run at once, from upstream proxies and version
    /// control together (at least 1; [`DEFAULT_MAX_FETCHES`]). The rest
    /// wait for a turn within their own deadline.
    pub max_fetches: usize,
}

/// The default of [`UpstreamConfig::max_fetches`].
pub const DEFAULT_MAX_FETCHES: usize = 32;

/// A complete, checked version ready to store.
#[derive(Debug)]
pub struct Fetched {
    /// The canonical version.
    pub version: Version,
    /// `.info` bytes as upstream sent them.
    pub info: Bytes,
    /// go.mod bytes.
    pub go_mod: Bytes,
    /// The spooled zip; the file is deleted when this is dropped.
    pub zip: tempfile::TempPath,
    /// The zip's `h1:` hash.
    pub h1: String,
}

/// The upstream side of agora.
#[derive(Debug, Clone)]
pub struct Upstream {
    config: UpstreamConfig,
    http: reqwest::Client,
    direct: Arc<direct::Direct>,
    /// One permit per fetch running (see [`UpstreamConfig::max_fetches`]):
    /// a request to a proxy, a go-import lookup, a git fetch, a blocking
    /// step of building a version from git, a go command. Nothing holds one
    /// while waiting for another.
    fetches: Arc<Semaphore>,
}

impl Upstream {
    /// Builds the client.
    pub fn new(config: UpstreamConfig) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // The go command follows at most 10 redirects; so do we.
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| {
                UpstreamError::new(ErrorKind::Unavailable, format!("building HTTP client: {e}"))
            })?;
        let policy = discovery::VcsPolicy::new("", &config.go_fetcher.goprivate)
            .map_err(|e| UpstreamError::new(ErrorKind::BadResponse, format!("GOPRIVATE: {e}")))?;
        let fetches = Arc::new(Semaphore::new(config.max_fetches.max(1)));
        let go = config.go_fetcher.is_enabled().then(|| {
            Arc::new(gofetch::GoFetcher::new(
                config.go_fetcher.clone(),
                &config.spool_dir,
                &config.goinsecure,
                config.timeout,
                Arc::clone(&fetches),
            ))
        });
        let direct = Arc::new(direct::Direct::new(
            &config.vcs_cache_dir,
            config.goinsecure.clone(),
            config.credentials.clone(),
            policy,
            go,
            config.go_fetcher.goprivate.clone(),
            direct::Limits {
                fetches: Arc::clone(&fetches),
                tmp_dir: config.spool_dir.clone(),
                timeout: config.timeout,
            },
        ));
        Ok(Upstream {
            config,
            http,
            direct,
            fetches,
        })
    }

    /// The chain `module` is routed through.
    fn chain(&self, module: &ModulePath) -> ProxyList {
        if !self.config.gonoproxy.is_empty()
            && pattern::match_prefix_patterns(&self.config.gonoproxy, module.as_str())
        {
            return ProxyList::direct();
        }
        self.config.proxies.clone()
    }

    /// Whether any lookups can happen at all (GOPROXY is not just `off`).
    pub fn is_off(&self) -> bool {
        self.config
            .proxies
            .entries()
            .first()
            .is_some_and(|e| e.source == Source::Off)
    }

    /// Walks the chain as the go command's `TryProxies` does, returning the
    /// first success or the most telling error.
    async fn try_proxies<T, F, Fut>(
        &self,
        module: &ModulePath,
        mut f: F,
    ) -> Result<T, UpstreamError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<T, UpstreamError>>,
    {
        // Ranks as in cmd/go: errors from direct beat proxy errors, which beat
        // "not found" answers.
        const NOT_EXIST: u8 = 0;
        const PROXY: u8 = 1;
        const DIRECT: u8 = 2;
        let mut best: Option<UpstreamError> = None;
        let mut best_rank = NOT_EXIST;
        for entry in self.chain(module).entries() {
            let result = match &entry.source {
                Source::Proxy(base) => f(Some(base.clone())).await,
                Source::Direct => f(None).await,
                Source::Off => Err(UpstreamError::new(
                    ErrorKind::NotFound,
                    format!(
                        "{module}: not stored, and upstream lookups are disabled (GOPROXY=off)"
                    ),
                )),
            };
            let err = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let not_exist = err.is_not_found();
            if entry.source == Source::Direct {
                best_rank = DIRECT;
                best = Some(err);
            } else if best_rank <= PROXY && !not_exist {
                best_rank = PROXY;
                best = Some(err);
            } else if best_rank == NOT_EXIST {
                best = Some(err);
            }
            if !entry.fall_back_on_error && !not_exist {
                break;
            }
        }
        Err(best.unwrap_or_else(|| {
            UpstreamError::new(ErrorKind::NotFound, format!("{module}: not found"))
        }))
    }

    async fn get_small(&self, url: String, limit: u64) -> Result<Bytes, UpstreamError> {
        let fut = async {
            let _permit = self.fetch_permit().await?;
            let resp = self.send(&url).await?;
            read_limited(resp, &url, limit).await
        };
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::new(
                ErrorKind::Timeout,
                format!("{url}: no answer within {}s", self.config.timeout.as_secs()),
            )),
        }
    }

    async fn send(&self, url: &str) -> Result<reqwest::Response, UpstreamError> {
        debug!(url = %goproxy::redact_urls(url), "upstream request");
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| transport_error(url, &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        // Only the first line is passed on, so only a little is read: an
        // upstream that streams an endless error body gets cut off here.
        let body = read_error_body(resp).await;
        let reason = first_line(&body);
        let detail = if reason.is_empty() {
            String::new()
        } else {
            format!(": {reason}")
        };
        let kind = match status.as_u16() {
            404 | 410 => ErrorKind::NotFound,
            504 => ErrorKind::Timeout,
            _ => ErrorKind::Unavailable,
        };
        Err(UpstreamError::new(kind, format!("{url}: {status}{detail}")))
    }

    /// The upstream version list (tagged versions; pseudo-versions dropped).
    pub async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError> {
        let path = format!("/{}/@v/list", module.escaped());
        self.try_proxies(module, |source| {
            let path = &path;
            self.bounded(async move {
                let base = match self.route(module, source).await? {
                    Route::Proxy(base) => base,
                    Route::Git(dm) => {
                        return self.bounded(direct::list(module, dm, &self.fetches)).await;
                    }
                    Route::Go(go) => return go.list(module).await,
                };
                let url = proxy_url(&base, path);
                let body = self.get_small(url.clone(), 16 << 20).await?;
                let text = std::str::from_utf8(&body).map_err(|_| {
                    UpstreamError::new(ErrorKind::BadResponse, format!("{url}: list is not UTF-8"))
                })?;
                Ok(text
                    .lines()
                    .filter_map(|l| l.split_whitespace().next())
                    .filter(|v| {
                        agora_core::semver::is_valid(v) && !agora_core::pseudo::is_pseudo_version(v)
                    })
                    .map(str::to_owned)
                    .collect())
            })
        })
        .await
    }

    /// The upstream `@latest` answer, checked and returned as sent.
    pub async fn latest(&self, module: &ModulePath) -> Result<(RevInfo, Bytes), UpstreamError> {
        let path = format!("/{}/@latest", module.escaped());
        self.try_proxies(module, |source| {
            let path = &path;
            self.bounded(async move {
                let (url, body) = match self.route(module, source).await? {
                    Route::Proxy(base) => {
                        let url = proxy_url(&base, path);
                        (url.clone(), self.get_small(url, 1 << 20).await?)
                    }
                    Route::Git(dm) => (
                        format!("{module} (direct)"),
                        self.bounded(direct::latest(module, dm, &self.fetches))
                            .await?,
                    ),
                    Route::Go(go) => (
                        format!("{module} (direct, go command)"),
                        go.stat(module, "latest").await?,
                    ),
                };
                let info = RevInfo::parse(&body).map_err(|e| {
                    UpstreamError::new(ErrorKind::BadResponse, format!("{url}: {e}"))
                })?;
                Ok((info, body))
            })
        })
        .await
    }

    /// Resolves a version or query through `.info`. For a canonical request
    /// the answer must name exactly that version.
    pub async fn info(
        &self,
        module: &ModulePath,
        query: &Version,
    ) -> Result<(RevInfo, Bytes), UpstreamError> {
        let path = format!("/{}/@v/{}.info", module.escaped(), query.escaped());
        let canonical = query.is_canonical_for(module);
        self.try_proxies(module, |source| {
            let path = &path;
            self.bounded(async move {
                match self.route(module, source).await? {
                    Route::Proxy(base) => {
                        self.info_at(&proxy_url(&base, path), module, query, canonical)
                            .await
                    }
                    Route::Git(dm) => {
                        let body = self
                            .bounded(direct::stat(module, dm, query, &self.fetches))
                            .await?;
                        check_info(
                            &format!("{module} (direct)"),
                            body,
                            module,
                            query,
                            canonical,
                        )
                    }
                    Route::Go(go) => {
                        let body = go.stat(module, query.as_str()).await?;
                        check_info(
                            &format!("{module} (direct, go command)"),
                            body,
                            module,
                            query,
                            canonical,
                        )
                    }
                }
            })
        })
        .await
    }

    /// The go.mod of a canonical version alone, as upstream serves it (for a
    /// version that cannot be stored whole; [`Upstream::fetch`] gets it
    /// otherwise). The go fetcher has no such request: it gives an error.
    pub async fn go_mod(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Bytes, UpstreamError> {
        let path = format!("/{}/@v/{}.mod", module.escaped(), version.escaped());
        self.try_proxies(module, |source| {
            let path = &path;
            self.bounded(async move {
                match self.route(module, source).await? {
                    Route::Proxy(base) => {
                        self.get_small(format!("{base}{path}"), zipcheck::MAX_GO_MOD)
                            .await
                    }
                    Route::Git(dm) => direct::go_mod(module, dm, version, &self.fetches).await,
                    Route::Go(_) => Err(UpstreamError::new(
                        ErrorKind::Unsupported,
                        format!("{module}@{version}: the go command fetches a whole version"),
                    )),
                }
            })
        })
        .await
    }

    async fn info_at(
        &self,
        url: &str,
        module: &ModulePath,
        query: &Version,
        canonical: bool,
    ) -> Result<(RevInfo, Bytes), UpstreamError> {
        let body = self.get_small(url.to_owned(), 1 << 20).await?;
        check_info(url, body, module, query, canonical)
    }

    /// Where `source` (a proxy base, or `None` for direct) sends this module.
    async fn route(
        &self,
        module: &ModulePath,
        source: Option<String>,
    ) -> Result<Route, UpstreamError> {
        match source {
            Some(base) => Ok(Route::Proxy(base)),
            None => match self
                .bounded(self.direct.resolve(&self.http, module))
                .await?
            {
                direct::Resolved::Git(dm) => Ok(Route::Git(dm)),
                direct::Resolved::Proxy(base) => Ok(Route::Proxy(base)),
                direct::Resolved::Go(go) => Ok(Route::Go(go)),
            },
        }
    }

    /// A turn among the [`UpstreamConfig::max_fetches`] fetches; the caller
    /// bounds the wait with its own deadline.
    async fn fetch_permit(&self) -> Result<OwnedSemaphorePermit, UpstreamError> {
        direct::permit(&self.fetches).await
    }

    /// Applies the request deadline to one attempt at a source (or a step of
    /// a direct fetch): whatever it waits for (a turn among the fetches, the
    /// shared fetch of a repository), it ends within one timeout.
    async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, UpstreamError>>,
    ) -> Result<T, UpstreamError> {
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::timeout(format!(
                "version control did not answer within {}s",
                self.config.timeout.as_secs()
            ))),
        }
    }
}

/// Checks a `.info` answer: valid JSON naming a valid version of the module,
/// and exactly the requested one when that was canonical.
fn check_info(
    url: &str,
    body: Bytes,
    module: &ModulePath,
    query: &Version,
    canonical: bool,
) -> Result<(RevInfo, Bytes), UpstreamError> {
    {
        let info = RevInfo::parse(&body)
            .map_err(|e| UpstreamError::new(ErrorKind::BadResponse, format!("{url}: {e}")))?;
        if canonical && info.version != query.as_str() {
            return Err(UpstreamError::new(
                ErrorKind::BadResponse,
                format!(
                    "{url}: proxy returned info for version {} instead of requested version {query}",
                    info.version
                ),
            ));
        }
        let resolved = Version::from_trusted(&info.version);
        if !resolved.is_canonical_for(module) {
            return Err(UpstreamError::new(
                ErrorKind::BadResponse,
                format!(
                    "{url}: resolved version {} is not a valid version of {module}",
                    info.version
                ),
            ));
        }
        Ok((info, body))
    }
}

impl Upstream {
    /// Fetches and checks a whole canonical version: `.info`, `.mod` and the
    /// zip, all from the first source in the chain that has it.
    pub async fn fetch(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Fetched, UpstreamError> {
        self.try_proxies(module, |source| async move {
            match self.route(module, source).await? {
                Route::Proxy(base) => self.fetch_from(&base, module, version).await,
                Route::Git(dm) => self.fetch_direct(module, version, dm).await,
                Route::Go(go) => self.fetch_go(module, version, &go).await,
            }
        })
        .await
    }

    async fn fetch_from(
        &self,
        base: &str,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Fetched, UpstreamError> {
        let prefix = format!("/{}/@v/{}", module.escaped(), version.escaped());
        let (_, info) = self
            .info_at(
                &proxy_url(base, &format!("{prefix}.info")),
                module,
                version,
                true,
            )
            .await?;
        let mod_url = proxy_url(base, &format!("{prefix}.mod"));
        let go_mod = self
            .get_small(mod_url.clone(), zipcheck::MAX_GO_MOD)
            .await?;
        let zip_url = proxy_url(base, &format!("{prefix}.zip"));
        let zip = self.download(&zip_url).await?;

        let checked = check_spooled(&zip, module, version, &zip_url).await?;
        // The go command treats the .mod endpoint as authoritative and hashes
        // it separately from the zip, so a proxy whose .mod differs from the
        // zip's go.mod still serves a working module (the go command's own
        // test proxy has several). Refusing it would break builds the go
        // command allows; the operator is told instead.
        if let Some(zip_mod) = &checked.go_mod
            && zip_mod.as_slice() != go_mod.as_ref()
        {
            warn!(%module, %version, source = %goproxy::redact_urls(base), "upstream .mod differs from the go.mod inside the module zip");
        }
        info!(%module, %version, source = %goproxy::redact_urls(base), size = checked.size, h1 = %checked.h1, "fetched from upstream");
        Ok(Fetched {
            version: version.clone(),
            info,
            go_mod,
            zip,
            h1: checked.h1,
        })
    }

    /// Builds a version from its repository, then puts the zip through the
    /// same checks as a zip from a proxy.
    async fn fetch_direct(
        &self,
        module: &ModulePath,
        version: &Version,
        dm: Arc<agora_vcs::DirectModule>,
    ) -> Result<Fetched, UpstreamError> {
        let what = format!("{module}@{version} (direct)");
        let info = direct::stat(module, dm.clone(), version, &self.fetches).await?;
        let (_, info) = check_info(&what, info, module, version, true)?;
        let (file, zip) = spool_file(&self.config.spool_dir)?.into_parts();
        drop(file);
        let (go_mod, h1) =
            direct::artifacts(module, dm, version, zip.to_path_buf(), &self.fetches).await?;
        // The zip's content hashes were taken from the bytes as they went
        // into it; reading it back checks every rule on its names and sizes
        // without inflating it all again.
        let size = check_spooled_layout(&zip, module, version, &what).await?;
        info!(%module, %version, source = "direct", size, h1 = %h1, "fetched from version control");
        Ok(Fetched {
            version: version.clone(),
            info,
            go_mod,
            zip,
            h1,
        })
    }

    /// Has the go command download a version, then puts what it cached
    /// through the same checks as a zip from a proxy.
    async fn fetch_go(
        &self,
        module: &ModulePath,
        version: &Version,
        go: &gofetch::GoModule,
    ) -> Result<Fetched, UpstreamError> {
        let what = format!("{module}@{version} (direct, go command)");
        let d = go.download(module, version, &self.config.spool_dir).await?;
        let (_, info) = check_info(&what, d.info, module, &d.version, true)?;
        let checked = check_spooled(&d.zip, module, version, &what).await?;
        if checked.h1 != d.sum {
            return Err(UpstreamError::new(
                ErrorKind::BadResponse,
                format!(
                    "{what}: the go command reports {} but the zip hashes to {}",
                    d.sum, checked.h1
                ),
            ));
        }
        if let Some(zip_mod) = &checked.go_mod
            && zip_mod.as_slice() != d.go_mod.as_ref()
        {
            warn!(%module, %version, source = "go command", "the .mod differs from the go.mod inside the module zip");
        }
        info!(%module, %version, source = "go command", size = checked.size, h1 = %checked.h1, "fetched by the go command");
        Ok(Fetched {
            version: version.clone(),
            info,
            go_mod: d.go_mod,
            zip: d.zip,
            h1: checked.h1,
        })
    }

    /// Streams a zip into a spool file, refusing anything over the zip limit,
    /// within the upstream timeout overall and [`ZIP_IDLE_LIMIT`] between
    /// two pieces of the body.
    async fn download(&self, url: &str) -> Result<tempfile::TempPath, UpstreamError> {
        let timeout = self.config.timeout;
        match tokio::time::timeout(timeout, self.download_within(url)).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::timeout(format!(
                "{url}: module zip not received within {}s",
                timeout.as_secs()
            ))),
        }
    }

    async fn download_within(&self, url: &str) -> Result<tempfile::TempPath, UpstreamError> {
        let idle = ZIP_IDLE_LIMIT.min(self.config.timeout);
        let _permit = self.fetch_permit().await?;
        let resp = self.send(url).await?;
        if resp
            .content_length()
            .is_some_and(|n| n > zipcheck::MAX_ZIP_FILE)
        {
            return Err(UpstreamError::new(
                ErrorKind::BadResponse,
                format!(
                    "{url}: module zip is larger than {} bytes",
                    zipcheck::MAX_ZIP_FILE
                ),
            ));
        }
        let spool = spool_file(&self.config.spool_dir)?;
        let (std_file, path) = spool.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut written: u64 = 0;
        let mut body = resp.bytes_stream();
        loop {
            let Ok(next) = tokio::time::timeout(idle, body.next()).await else {
                return Err(UpstreamError::timeout(format!(
                    "{url}: module zip stalled: no data for {}s",
                    idle.as_secs()
                )));
            };
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| transport_error(url, &e))?;
            written += chunk.len() as u64;
            if written > zipcheck::MAX_ZIP_FILE {
                return Err(UpstreamError::new(
                    ErrorKind::BadResponse,
                    format!(
                        "{url}: module zip is larger than {} bytes",
                        zipcheck::MAX_ZIP_FILE
                    ),
                ));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| spool_error(&path, e))?;
        }
        file.flush().await.map_err(|e| spool_error(&path, e))?;
        Ok(path)
    }
}

/// Runs the module zip checks on a spooled zip.
async fn check_spooled(
    zip: &Path,
    module: &ModulePath,
    version: &Version,
    what: &str,
) -> Result<zipcheck::CheckedZip, UpstreamError> {
    check_spooled_with(zip, module, version, what, zipcheck::check_zip_file).await
}

/// [`check_spooled`] for a zip agora built itself: the rules, not the
/// content hash (see [`zipcheck::check_zip_layout`]). Returns the size.
async fn check_spooled_layout(
    zip: &Path,
    module: &ModulePath,
    version: &Version,
    what: &str,
) -> Result<u64, UpstreamError> {
    check_spooled_with(zip, module, version, what, zipcheck::check_zip_layout).await
}

async fn check_spooled_with<T: Send + 'static>(
    zip: &Path,
    module: &ModulePath,
    version: &Version,
    what: &str,
    check: fn(&Path, &str, &str) -> Result<T, zipcheck::ZipError>,
) -> Result<T, UpstreamError> {
    let zip_path = zip.to_path_buf();
    let (m, v) = (module.as_str().to_owned(), version.as_str().to_owned());
    tokio::task::spawn_blocking(move || check(&zip_path, &m, &v))
        .await
        .map_err(|e| UpstreamError::new(ErrorKind::Unavailable, format!("checking zip: {e}")))?
        .map_err(|e| match e {
            zipcheck::ZipError::Invalid(reason) => UpstreamError::new(
                ErrorKind::BadResponse,
                format!("{what}: invalid module zip: {reason}"),
            ),
            zipcheck::ZipError::Io(e) => UpstreamError::new(
                ErrorKind::Unavailable,
                format!("{what}: reading spooled zip: {e}"),
            ),
        })
}

/// Where one chain entry sends a module.
enum Route {
    Proxy(String),
    Git(Arc<agora_vcs::DirectModule>),
    Go(gofetch::GoModule),
}

pub(crate) fn spool_file(dir: &Path) -> Result<tempfile::NamedTempFile, UpstreamError> {
    std::fs::create_dir_all(dir).map_err(|e| spool_error(dir, e))?;
    tempfile::Builder::new()
        .prefix("zip-")
        .tempfile_in(dir)
        .map_err(|e| spool_error(dir, e))
}

fn spool_error(path: &Path, e: std::io::Error) -> UpstreamError {
    // A local disk problem, reported as unavailability rather than absence.
    UpstreamError::new(
        ErrorKind::Unavailable,
        format!("spooling to {}: {e}", path.display()),
    )
}

fn transport_error(url: &str, e: &reqwest::Error) -> UpstreamError {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Unavailable
    };
    UpstreamError::new(kind, format!("{url}: {}", error_chain(e)))
}

/// An error and its sources on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

async fn read_limited(
    resp: reqwest::Response,
    url: &str,
    limit: u64,
) -> Result<Bytes, UpstreamError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(UpstreamError::new(
            ErrorKind::BadResponse,
            format!("{url}: response larger than {limit} bytes"),
        ));
    }
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| transport_error(url, &e))?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(UpstreamError::new(
                ErrorKind::BadResponse,
                format!("{url}: response larger than {limit} bytes"),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// The longest a zip download may go without receiving a byte.
const ZIP_IDLE_LIMIT: Duration = Duration::from_secs(60);

/// How much of an error response's body is read for its reason.
const ERROR_BODY_LIMIT: usize = 4096;

/// How long reading that much may take.
const ERROR_BODY_TIME: Duration = Duration::from_secs(5);

/// The start of an error body, at most [`ERROR_BODY_LIMIT`] bytes read within
/// [`ERROR_BODY_TIME`]; whatever arrived by then, lossily decoded.
async fn read_error_body(resp: reqwest::Response) -> String {
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    let read = async {
        while let Some(Ok(chunk)) = body.next().await {
            let room = ERROR_BODY_LIMIT - out.len();
            out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if out.len() >= ERROR_BODY_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(ERROR_BODY_TIME, read).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// `base` (a GOPROXY entry, or a go-import `mod` URL) joined with a proxy path
/// as the go command joins them: the escaped path goes after the base's own
/// path, and a query the base carries (`https://host/mod?x=`) stays a query
/// after it instead of swallowing the module path; a fragment is dropped.
fn proxy_url(base: &str, path: &str) -> String {
    let base = base.split_once('#').map_or(base, |(b, _)| b);
    let (base_path, query) = match base.split_once('?') {
        Some((p, q)) => (p, q),
        None => (base, ""),
    };
    let mut url = format!(
        "{}{}",
        base_path.trim_end_matches('/'),
        agora_core::escape::url_path_escape(path)
    );
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// The first non-empty line of an error body, trimmed and bounded, so that a
/// reason can be passed on in a one-line answer.
fn first_line(body: &str) -> String {
    let line = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::proxy_url;

    #[test]
    fn proxy_urls_keep_the_module_path_in_the_path() {
        // Go's proxy client: target.Path = path.Join(base.Path, p), the base's
        // query kept as the query.
        for (base, path, want) in [
            (
                "https://proxy.example/",
                "/m/@v/list",
                "https://proxy.example/m/@v/list",
            ),
            (
                "https://host/mod?x=",
                "/m/@v/v1.0.0.info",
                "https://host/mod/m/@v/v1.0.0.info?x=",
            ),
            (
                "https://host/p?a=1&b=2#frag",
                "/m/@latest",
                "https://host/p/m/@latest?a=1&b=2",
            ),
            (
                "http://u:p@127.0.0.1:9/base",
                "/m/@v/feat#1.info",
                "http://u:p@127.0.0.1:9/base/m/@v/feat%231.info",
            ),
        ] {
            assert_eq!(proxy_url(base, path), want, "{base} + {path}");
        }
    }
}
