//! The `direct` entry of the chain: a module's own repository.
//!
//! Finding the repository is [`crate::discovery`] (the go command's host
//! table, VCS-suffix rule and `?go-get=1` pages, with GOINSECURE's plain-HTTP
//! fallback); everything about git and the module semantics is `agora-vcs`,
//! which is blocking and so runs on the blocking pool, except the fetch from
//! the remote: that runs first, as one async task per repository that every
//! request for it shares ([`agora_vcs::GitRepo::load_refs`]), so a hung git
//! server holds no thread. Each blocking step holds one of the upstream
//! fetch permits while its thread runs, which bounds the threads and git
//! processes a flood of requests can start. A
//! go-import tag of type `mod` names a module proxy, which is then asked
//! like any other proxy. hg, svn, bzr and fossil repositories go to the go
//! command ([`crate::gofetch`]) when the operator enabled that for their VCS,
//! and are refused otherwise.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, Version, pattern};
use agora_vcs::{DirectModule, Mirrors, RemoteEnv};
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::credentials::Credentials;
use crate::discovery::{self, DiscoveryErrorKind, VcsPolicy};
use crate::gofetch::{GoFetcher, GoModule};
use crate::{ErrorKind, UpstreamError};

/// How long a mirror's view of the remote refs is reused before the next
/// request fetches again; new tags show up after at most this long.
const REFS_MAX_AGE: Duration = Duration::from_secs(30);

/// Where a module's code is.
pub(crate) enum Resolved {
    /// A git repository, mirrored locally.
    Git(Arc<DirectModule>),
    /// A module proxy named by a `mod` go-import tag.
    Proxy(String),
    /// A repository the go command fetches (hg, svn, bzr, fossil).
    Go(GoModule),
}

/// What bounds direct fetches.
pub(crate) struct Limits {
    /// The upstream fetch permits (see `UpstreamConfig::max_fetches`).
    pub fetches: Arc<Semaphore>,
    /// Where `git archive` output is spooled.
    pub tmp_dir: PathBuf,
    /// The limit for a fetch from a repository and each local git command.
    pub timeout: Duration,
}

/// Fetching from version control.
#[derive(Debug)]
pub(crate) struct Direct {
    mirrors: Arc<Mirrors>,
    goinsecure: String,
    creds: Arc<Credentials>,
    /// GOVCS at its default, with GOPRIVATE (so that a private path may use
    /// svn, bzr or fossil, as with the go command).
    policy: VcsPolicy,
    /// The go fetcher, when some VCS is given to it.
    go: Option<Arc<GoFetcher>>,
    /// GOPRIVATE globs: modules the operator declared private, whose
    /// repositories get the credentials wherever they are hosted.
    goprivate: String,
    /// The upstream fetch permits.
    fetches: Arc<Semaphore>,
}

impl Direct {
    pub(crate) fn new(
        cache_dir: &std::path::Path,
        goinsecure: String,
        creds: Credentials,
        policy: VcsPolicy,
        go: Option<Arc<GoFetcher>>,
        goprivate: String,
        limits: Limits,
    ) -> Self {
        let creds = Arc::new(creds);
        let mut mirrors = Mirrors::new(cache_dir, REFS_MAX_AGE)
            .with_timeout(limits.timeout)
            .with_fetch_limit(Arc::clone(&limits.fetches))
            .with_tmp_dir(&limits.tmp_dir);
        if !creds.is_empty() {
            // Each git child that talks to a remote gets that host's
            // credentials in its environment, nothing else.
            let c = Arc::clone(&creds);
            mirrors = mirrors.with_git_env(Arc::new(move |url| RemoteEnv::new(c.git_env(url))));
        }
        Direct {
            mirrors: Arc::new(mirrors),
            goinsecure,
            creds,
            policy,
            go,
            goprivate,
            fetches: limits.fetches,
        }
    }

    /// Finds and opens the repository of `module`.
    pub(crate) async fn resolve(
        &self,
        http: &reqwest::Client,
        module: &ModulePath,
    ) -> Result<Resolved, UpstreamError> {
        let path = module.as_str();
        let root = discovery::repo_root_with_credentials(
            http,
            path,
            &self.goinsecure,
            &self.policy,
            &self.creds,
        )
        .await
        .map_err(|e| {
            let kind = match e.kind() {
                DiscoveryErrorKind::NotFound => ErrorKind::NotFound,
                DiscoveryErrorKind::Unavailable => ErrorKind::Unavailable,
                DiscoveryErrorKind::Invalid => ErrorKind::BadResponse,
                DiscoveryErrorKind::Disallowed => ErrorKind::Unsupported,
            };
            direct_error(path, kind, e)
        })?;
        match root.vcs.as_str() {
            "git" => {}
            "mod" => {
                return Ok(Resolved::Proxy(
                    root.repo_url.trim_end_matches('/').to_owned(),
                ));
            }
            other => {
                if let Some(go) = self.go.as_ref().filter(|g| g.handles(other)) {
                    // The go command reads the go-import page again itself and
                    // may be told something else (another host's `mod` proxy, a
                    // git repository): agora's answer cannot bound where it goes.
                    // So it gets the netrc only under the rule git fetches
                    // follow, and then only the module host's machines, the one
                    // host its own HTTPS requests (`?go-get=1` pages) should
                    // reach; hg, svn and fossil never read a netrc.
                    let netrc = credentials_allowed(path, &root.repo_url, &self.goprivate)
                        .then(|| self.creds.netrc_for_host(module_host(path)))
                        .flatten();
                    return Ok(Resolved::Go(GoModule::new(Arc::clone(go), netrc)));
                }
                return Err(direct_error(
                    path,
                    ErrorKind::Unsupported,
                    format!(
                        "{other} repositories are not supported (agora fetches git itself; \
                         list {other} in upstream.go_fetcher_vcs to fetch them with the go \
                         command)"
                    ),
                ));
            }
        }
        let mirrors = self.mirrors.clone();
        let m = module.clone();
        let entitled = credentials_allowed(path, &root.repo_url, &self.goprivate);
        // Opening a new mirror runs git (init) on a blocking thread.
        let turn = permit(&self.fetches).await?;
        let opened = blocking(move || {
            let _turn = turn;
            let repo = if entitled {
                mirrors.repo(&root.repo_url)?
            } else {
                mirrors.anonymous_repo(&root.repo_url)?
            };
            DirectModule::new(m.as_str(), repo, &root.root, &root.subdir)
        })
        .await;
        opened
            .map(|dm| Resolved::Git(Arc::new(dm)))
            .map_err(|e| vcs_error(path, e))
    }
}

/// Whether git may use agora's credentials (netrc, GitHub token) to fetch
/// `repo_url` for `module`: when the repository is on the module path's own host,
/// or the operator declared the module private (GOPRIVATE). Otherwise anyone who
/// controls a `go-import` page could point a module path of theirs at a private
/// repository agora can read, and have agora serve it; such a repository is
/// fetched anonymously instead (public ones still work). The go command, acting for
/// one user with that user's credentials, has no such rule.
fn credentials_allowed(module: &str, repo_url: &str, goprivate: &str) -> bool {
    if !goprivate.is_empty() && pattern::match_prefix_patterns(goprivate, module) {
        return true;
    }
    let module_host = module_host(module);
    let Some((_, rest)) = repo_url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    !host.is_empty() && host.eq_ignore_ascii_case(module_host)
}

/// The host part of a module path.
fn module_host(module: &str) -> &str {
    module.split('/').next().unwrap_or_default()
}

/// The module's tagged versions.
pub(crate) async fn list(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    fetches: &Arc<Semaphore>,
) -> Result<Vec<String>, UpstreamError> {
    on_repo(module, dm, fetches, |dm| dm.list())
        .await
        .map(|v| v.list)
}

/// `@latest`, as the go command's JSON for `go list -m -json M@latest`.
pub(crate) async fn latest(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    fetches: &Arc<Semaphore>,
) -> Result<Bytes, UpstreamError> {
    on_repo(module, dm, fetches, |dm| dm.latest())
        .await
        .map(|r| Bytes::from(r.to_json()))
}

/// Resolves a query; the bytes are the `.info` the go command would cache.
pub(crate) async fn stat(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    query: &Version,
    fetches: &Arc<Semaphore>,
) -> Result<Bytes, UpstreamError> {
    let q = query.as_str().to_owned();
    on_repo(module, dm, fetches, move |dm| dm.stat(&q))
        .await
        .map(|r| Bytes::from(r.to_info_json()))
}

/// The go.mod of a canonical version.
pub(crate) async fn go_mod(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    version: &Version,
    fetches: &Arc<Semaphore>,
) -> Result<Bytes, UpstreamError> {
    let v = version.as_str().to_owned();
    on_repo(module, dm, fetches, move |dm| dm.go_mod(&v))
        .await
        .map(Bytes::from)
}

/// go.mod bytes and the zip (written to `zip_path`) of a canonical version.
pub(crate) async fn artifacts(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    version: &Version,
    zip_path: std::path::PathBuf,
    fetches: &Arc<Semaphore>,
) -> Result<(Bytes, String), UpstreamError> {
    let v = version.as_str().to_owned();
    on_repo(module, dm, fetches, move |dm| {
        let go_mod = dm.go_mod(&v)?;
        let file = std::fs::File::create(&zip_path)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let summary = dm.zip(&v, &mut out)?;
        // Flushed, not synced: the spool file is read back and copied into
        // storage, which makes its own copy durable; a crash discards it.
        out.into_inner().map_err(|e| e.into_error())?;
        Ok((Bytes::from(go_mod), summary.h1))
    })
    .await
}

/// Runs `f` on a blocking thread once the repository's refs are loaded (by
/// the fetch all requests for it share, holding no thread), holding a fetch
/// permit for as long as the thread runs: a caller that gives up at its
/// deadline does not free the permit before the work stops.
async fn on_repo<T, F>(
    module: &ModulePath,
    dm: Arc<DirectModule>,
    fetches: &Arc<Semaphore>,
    f: F,
) -> Result<T, UpstreamError>
where
    F: FnOnce(&DirectModule) -> agora_vcs::Result<T> + Send + 'static,
    T: Send + 'static,
{
    use tracing::Instrument;
    // Spans for trace export only: the target is off unless export is on.
    let refs =
        tracing::info_span!(target: "agora_otel", "vcs", module = %module, step = "git refs");
    dm.repo()
        .load_refs()
        .instrument(refs)
        .await
        .map_err(|e| vcs_error(module.as_str(), e))?;
    let permit = permit(fetches).await?;
    let work =
        tracing::info_span!(target: "agora_otel", "vcs", module = %module, step = "git work");
    blocking(move || {
        let _permit = permit;
        let _span = work.entered();
        f(&dm)
    })
    .await
    .map_err(|e| vcs_error(module.as_str(), e))
}

/// A turn among the upstream fetches.
pub(crate) async fn permit(
    fetches: &Arc<Semaphore>,
) -> Result<OwnedSemaphorePermit, UpstreamError> {
    Arc::clone(fetches)
        .acquire_owned()
        .await
        .map_err(|_| UpstreamError::new(ErrorKind::Unavailable, "upstream fetches are closed"))
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

#[cfg(test)]
mod tests {
    use super::credentials_allowed;

    #[test]
    fn credentials_go_only_to_the_module_hosts_own_repositories_or_private_modules() {
        // The module path's own host (the static table's github.com, a forge's go-import).
        assert!(credentials_allowed(
            "github.com/org/private",
            "https://github.com/org/private",
            ""
        ));
        assert!(credentials_allowed(
            "git.corp.test/team/x",
            "http://git.corp.test:8080/team/x.git",
            ""
        ));
        assert!(credentials_allowed(
            "Git.Corp.test/x",
            "https://user@git.corp.TEST/x",
            ""
        ));
        // A go-import page elsewhere pointing at a repository on another host.
        assert!(!credentials_allowed(
            "evil.test/lure",
            "https://github.com/org/private",
            ""
        ));
        assert!(!credentials_allowed(
            "go.corp.test/x",
            "https://git.corp.test/x",
            ""
        ));
        assert!(!credentials_allowed(
            "github.com.evil.test/x",
            "https://github.com/org/x",
            ""
        ));
        // ... unless the operator declared the module private.
        assert!(credentials_allowed(
            "go.corp.test/x",
            "https://git.corp.test/x",
            "go.corp.test"
        ));
        assert!(!credentials_allowed(
            "evil.test/lure",
            "https://github.com/org/private",
            "go.corp.test"
        ));
        assert!(!credentials_allowed("x.test/m", "not a url", ""));
    }
}
