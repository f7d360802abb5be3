//! The `direct` entry of the chain: a module's own repository.
//!
//! Finding the repository (the static host table, then `?go-get=1`
//! discovery, with GOINSECURE's plain-HTTP fallback) happens here, over the
//! shared HTTP client; everything about git and the module semantics is
//! `agora-vcs`, which is blocking and so runs on the blocking pool. A
//! go-import tag of type `mod` names a module proxy, which is then asked
//! like any other proxy.

use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, Version, pattern};
use agora_vcs::discovery::{self, MetaImport, RepoRoot};
use agora_vcs::{DirectModule, Mirrors};
use bytes::Bytes;

use crate::{ErrorKind, UpstreamError};

/// How long a mirror's view of the remote refs is reused before the next
/// request fetches again; new tags show up after at most this long.
const REFS_MAX_AGE: Duration = Duration::from_secs(30);

/// Most bytes read from a `?go-get=1` page.
const MAX_PAGE: usize = 1 << 20;

/// Where a module's code is.
pub(crate) enum Resolved {
    /// A git repository, mirrored locally.
    Git(Arc<DirectModule>),
    /// A module proxy named by a `mod` go-import tag.
    Proxy(String),
}

/// Fetching from version control.
#[derive(Debug)]
pub(crate) struct Direct {
    mirrors: Arc<Mirrors>,
    goinsecure: String,
}

impl Direct {
    pub(crate) fn new(cache_dir: &std::path::Path, goinsecure: String, timeout: Duration) -> Self {
        Direct {
            mirrors: Arc::new(Mirrors::new(cache_dir, REFS_MAX_AGE).with_timeout(timeout)),
            goinsecure,
        }
    }

    /// Finds and opens the repository of `module`.
    pub(crate) async fn resolve(
        &self,
        http: &reqwest::Client,
        module: &ModulePath,
    ) -> Result<Resolved, UpstreamError> {
        let path = module.as_str();
        let root = match discovery::static_repo_root(path) {
            Some(r) => r,
            None => self.discover(http, path).await?,
        };
        match root.vcs.as_str() {
            "git" => {}
            "mod" => return Ok(Resolved::Proxy(root.repo.trim_end_matches('/').to_owned())),
            other => {
                return Err(direct_error(
                    module.as_str(),
                    ErrorKind::Unsupported,
                    format!("{other} repositories are not supported yet (only git)"),
                ));
            }
        }
        let mirrors = self.mirrors.clone();
        let m = module.clone();
        let opened = blocking(move || {
            let repo = mirrors.repo(&root.repo)?;
            DirectModule::new(m.as_str(), repo, &root.root, &root.subdir)
        })
        .await;
        opened
            .map(|dm| Resolved::Git(Arc::new(dm)))
            .map_err(|e| vcs_error(module.as_str(), e))
    }

    async fn discover(
        &self,
        http: &reqwest::Client,
        path: &str,
    ) -> Result<RepoRoot, UpstreamError> {
        let insecure =
            !self.goinsecure.is_empty() && pattern::match_prefix_patterns(&self.goinsecure, path);
        let m = path;
        let (imports, status) = self.imports(http, path, insecure).await?;
        let matched = discovery::match_go_import(&imports, path).map_err(|e| {
            let mut err = vcs_error(m, e);
            if let Some(status) = status.filter(|s| *s != 200) {
                err = direct_error(
                    m,
                    ErrorKind::NotFound,
                    format!("unrecognized import path {path:?}: HTTP {status}"),
                );
            }
            err
        })?;
        if matched.prefix != path {
            // The go command trusts a shorter prefix only when that prefix's
            // own page says the same, so one path cannot claim another's root.
            let (prefix_imports, _) = self.imports(http, &matched.prefix, insecure).await?;
            discovery::verify_prefix(&matched, &prefix_imports).map_err(|e| vcs_error(m, e))?;
        }
        discovery::repo_root(&matched).map_err(|e| vcs_error(m, e))
    }

    /// The go-import tags of an import path's page: https, or with
    /// GOINSECURE plain http when https fails, as the go command does.
    async fn imports(
        &self,
        http: &reqwest::Client,
        import_path: &str,
        insecure: bool,
    ) -> Result<(Vec<MetaImport>, Option<u16>), UpstreamError> {
        let m = import_path;
        let url = discovery::go_get_url(import_path, false).map_err(|e| vcs_error(m, e))?;
        let page = match get_page(http, &url).await {
            Ok(p) => p,
            Err(e) if insecure => {
                let plain =
                    discovery::go_get_url(import_path, true).map_err(|e| vcs_error(m, e))?;
                get_page(http, &plain).await.map_err(|e2| {
                    direct_error(m, ErrorKind::Unavailable, format!("https: {e}; http: {e2}"))
                })?
            }
            Err(e) => return Err(direct_error(m, ErrorKind::Unavailable, e)),
        };
        Ok((
            discovery::parse_meta_go_imports(&page.1, true),
            Some(page.0),
        ))
    }
}

async fn get_page(http: &reqwest::Client, url: &str) -> Result<(u16, String), String> {
    use futures_util::StreamExt;
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {}", crate::error_chain(&e)))?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("{url}: {}", crate::error_chain(&e)))?;
        let room = MAX_PAGE.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_PAGE {
            break;
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The module's tagged versions.
pub(crate) async fn list(
    module: &ModulePath,
    dm: Arc<DirectModule>,
) -> Result<Vec<String>, UpstreamError> {
    blocking(move || dm.list())
        .await
        .map(|v| v.list)
        .map_err(|e| vcs_error(module.as_str(), e))
}

/// `@latest`, as the go command's JSON for `go list -m -json M@latest`.
pub(crate) async fn latest(
    module: &ModulePath,
    dm: Arc<DirectModule>,
) -> Result<Bytes, UpstreamError> {
    blocking(move || dm.latest())
        .await
        .map(|r| Bytes::from(r.to_json()))
        .map_err(|e| vcs_error(module.as_str(), e))
}

/// Resolves a query; the bytes are the `.info` the go command would cache.
pub(crate) async fn stat(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    query: &Version,
) -> Result<Bytes, UpstreamError> {
    let q = query.as_str().to_owned();
    blocking(move || dm.stat(&q))
        .await
        .map(|r| Bytes::from(r.to_info_json()))
        .map_err(|e| vcs_error(module.as_str(), e))
}

/// go.mod bytes and the zip (written to `zip_path`) of a canonical version.
pub(crate) async fn artifacts(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    version: &Version,
    zip_path: std::path::PathBuf,
) -> Result<(Bytes, String), UpstreamError> {
    let v = version.as_str().to_owned();
    blocking(move || {
        let go_mod = dm.go_mod(&v)?;
        let file = std::fs::File::create(&zip_path)?;
        let mut out = std::io::BufWriter::new(file);
        let summary = dm.zip(&v, &mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((Bytes::from(go_mod), summary.h1))
    })
    .await
    .map_err(|e| vcs_error(module.as_str(), e))
}

async fn blocking<T, F>(f: F) -> agora_vcs::Result<T>
where
    F: FnOnce() -> agora_vcs::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(agora_vcs::Error::Io(std::io::Error::other(e))),
    }
}

fn direct_error(module: &str, kind: ErrorKind, reason: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::new(kind, format!("{module}: direct: {reason}"))
}

fn vcs_error(module: &str, e: agora_vcs::Error) -> UpstreamError {
    let kind = match e.kind() {
        agora_vcs::ErrorKind::NotFound => ErrorKind::NotFound,
        agora_vcs::ErrorKind::Invalid => ErrorKind::BadResponse,
        agora_vcs::ErrorKind::Timeout => ErrorKind::Timeout,
        agora_vcs::ErrorKind::Unavailable | agora_vcs::ErrorKind::Internal => {
            ErrorKind::Unavailable
        }
    };
    direct_error(module, kind, e)
}
