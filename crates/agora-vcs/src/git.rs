//! A git repository seen through one persistent bare mirror, driven by the
//! git CLI the way `cmd/go/internal/modfetch/codehost/git.go` drives it.
//!
//! The mirror lives at `<cache>/<sha256(url)>.git`. [`GitRepo::refresh`]
//! fetches every head and tag into the mirror and records the remote's
//! `HEAD`, then reads the refs back: the view the go command's `loadRefs`
//! gets from `git ls-remote` (`HEAD`, `refs/heads/*`, `refs/tags/*`,
//! annotated tags peeled), in one round trip. Later versions of an already
//! mirrored repository cost one incremental fetch. Only commits reachable
//! from heads, tags and `HEAD` are ever fetched: hosts expose pull-request
//! refs, and those must never become pseudo-versions.
//!
//! That ref map is the view every query answers from, as in the go command;
//! the mirror supplies the objects, and next to it (`<mirror>.zips/`) the
//! zip cache of `modzip` lives.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, watch};

use crate::{Error, ErrorKind, Result, proc};

/// The refs of the remote: `HEAD`, `refs/heads/…` and `refs/tags/…` mapped to
/// commit hashes (annotated tags already peeled to their commit).
pub type Refs = BTreeMap<String, String>;

/// What [`GitRepo::stat`] learns about a commit (codehost's `RevInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full hash.
    pub hash: String,
    /// First 12 hex digits, as pseudo-versions use.
    pub short: String,
    /// Committer time, Unix seconds.
    pub time: i64,
    /// Tags pointing at the commit, sorted.
    pub tags: Vec<String>,
    /// The query if it named one of `tags` exactly, else the full hash.
    pub version: String,
    /// The ref the query resolved through (`refs/tags/v1.0.0`,
    /// `refs/heads/main`, `HEAD`), if any.
    pub git_ref: Option<String>,
}

/// One remote git repository and its local bare mirror.
#[derive(Debug)]
pub struct GitRepo {
    url: String,
    dir: PathBuf,
    /// The ref map, or the fetch every caller waiting for it shares.
    refs: Mutex<RefsState>,
    /// Serialises the fetches of the blocking [`GitRepo::refs`] path.
    blocking_fetch: Mutex<()>,
    /// Limit for a fetch from the remote (ref listing and objects), and for
    /// each local git command.
    timeout: Duration,
    /// Permits for fetches from any remote, shared with agora's other
    /// upstream fetches; a fetch waits for one within its timeout.
    fetch_limit: Option<Arc<Semaphore>>,
    /// Where `git archive` output is spooled (the system temporary
    /// directory when unset).
    tmp_dir: Option<PathBuf>,
    /// Extra environment for the commands that talk to the remote.
    remote_env: RemoteEnv,
    /// Answers about objects, which never change: one request asks the same
    /// questions several times (`.info`, `.mod` and `.zip` each resolve the
    /// version and read its go.mod), and each answer is a git process.
    memo: Mutex<Memo>,
}

/// See [`GitRepo::memo`]. Bounded: emptied when it grows past
/// [`MEMO_ENTRIES`].
#[derive(Debug, Default)]
struct Memo {
    /// Full commit hash to committer time.
    times: HashMap<String, i64>,
    /// (full commit hash, path) to the blob there.
    blobs: HashMap<(String, String), Option<(String, u64)>>,
    /// Small blob contents by object id.
    contents: HashMap<String, Vec<u8>>,
}

/// What waiters on a fetch get: the refs, or the failure's class and message
/// (errors are not `Clone`; each waiter gets its own copy).
type Outcome = Option<std::result::Result<Arc<Refs>, (ErrorKind, String)>>;

/// The ref map of a [`GitRepo`].
#[derive(Debug)]
enum RefsState {
    /// Not read yet, or the last fetch failed: the next caller fetches.
    Empty,
    /// A fetch runs on a task of its own; its outcome is sent here.
    Loading(watch::Receiver<Outcome>),
    /// Read; a `GitRepo` never reads its refs twice (see [`Mirrors`]).
    Ready(Arc<Refs>),
}

/// Most bytes read from a remote command (ref listings of huge hosts fit).
const REMOTE_OUTPUT_LIMIT: usize = 64 << 20;
/// Most bytes read from a local command's stdout (tree listings of the
/// largest module zips fit).
const LOCAL_OUTPUT_LIMIT: usize = 256 << 20;

const MEMO_ENTRIES: usize = 4096;
/// Largest blob whose content is memoized (go.mod files are small).
const MEMO_CONTENT: u64 = 64 * 1024;

impl Memo {
    fn make_room(&mut self) {
        if self.times.len() + self.blobs.len() + self.contents.len() > MEMO_ENTRIES {
            *self = Memo::default();
        }
    }
}

/// Extra environment variables for the git commands that talk to a remote
/// (`ls-remote`, `fetch`), such as credentials passed as
/// `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`. The values
/// may be secrets: `Debug` shows only the names, and they are never logged
/// or put in error messages.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RemoteEnv(Vec<(String, String)>);

impl RemoteEnv {
    /// Wraps `name=value` pairs.
    pub fn new(vars: Vec<(String, String)>) -> Self {
        RemoteEnv(vars)
    }
}

impl std::fmt::Debug for RemoteEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

/// Computes the [`RemoteEnv`] for a repository URL (see
/// [`Mirrors::with_git_env`]).
pub type GitEnvFn = dyn Fn(&str) -> RemoteEnv + Send + Sync;

/// Default limit for one `ls-remote` or `fetch`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The mirrors of every repository under one cache directory, handing out
/// one shared [`GitRepo`] per URL so that concurrent requests for a
/// repository share one ref listing and one fetch.
///
/// A `GitRepo` reads the remote's refs once and answers from that view, so a
/// request sees one consistent repository state. `Mirrors` hands out a new
/// `GitRepo` (on the same mirror, fetching incrementally) once the previous
/// one is older than `max_age`, so new tags and commits show up after at most
/// that long.
pub struct Mirrors {
    cache_dir: PathBuf,
    max_age: Duration,
    timeout: Duration,
    git_env: Option<Arc<GitEnvFn>>,
    fetch_limit: Option<Arc<Semaphore>>,
    tmp_dir: Option<PathBuf>,
    open: Mutex<HashMap<String, (Instant, Arc<GitRepo>)>>,
}

impl std::fmt::Debug for Mirrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirrors")
            .field("cache_dir", &self.cache_dir)
            .field("max_age", &self.max_age)
            .field("timeout", &self.timeout)
            .field("git_env", &self.git_env.as_ref().map(|_| "<hook>"))
            .finish_non_exhaustive()
    }
}

impl Mirrors {
    /// Mirrors under `cache_dir`, refreshed when older than `max_age`.
    pub fn new(cache_dir: &Path, max_age: Duration) -> Self {
        Mirrors {
            cache_dir: cache_dir.to_owned(),
            max_age,
            timeout: DEFAULT_TIMEOUT,
            git_env: None,
            fetch_limit: None,
            tmp_dir: None,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Shares `permits` among the fetches of every repository (see
    /// [`GitRepo::with_fetch_limit`]).
    pub fn with_fetch_limit(mut self, permits: Arc<Semaphore>) -> Self {
        self.fetch_limit = Some(permits);
        self
    }

    /// Spools `git archive` output under `dir` (see
    /// [`GitRepo::with_tmp_dir`]).
    pub fn with_tmp_dir(mut self, dir: &Path) -> Self {
        self.tmp_dir = Some(dir.to_owned());
        self
    }

    /// Sets a hook that computes, from a repository's URL, extra environment
    /// for the git commands that talk to that remote (see
    /// [`GitRepo::with_remote_env`]). agora uses it to hand git per-host
    /// credentials without writing any file.
    pub fn with_git_env(mut self, hook: Arc<GitEnvFn>) -> Self {
        self.git_env = Some(hook);
        self
    }

    /// Sets the limit for each `ls-remote` or `fetch` (see
    /// [`GitRepo::with_timeout`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The shared repository for `url`, fetched with the credentials the
    /// [`Mirrors::with_git_env`] hook gives its host.
    pub fn repo(&self, url: &str) -> Result<Arc<GitRepo>> {
        self.repo_with(url, true)
    }

    /// The shared repository for `url`, fetched without the hook's
    /// credentials, in a mirror of its own: what it holds never includes
    /// anything only those credentials could read, so it can be served through
    /// a module path that is not entitled to them. (The operator's own git
    /// configuration still applies, as for every git command.)
    pub fn anonymous_repo(&self, url: &str) -> Result<Arc<GitRepo>> {
        self.repo_with(url, false)
    }

    fn repo_with(&self, url: &str, credentials: bool) -> Result<Arc<GitRepo>> {
        // Without credentials to withhold, one mirror serves both.
        let credentials = credentials || self.git_env.is_none();
        let key = if credentials {
            url.to_owned()
        } else {
            format!("anonymous {url}")
        };
        // Opening does no network I/O, so holding the lock across it is cheap
        // and keeps two callers from opening the same URL twice.
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((since, repo)) = open.get(&key)
            && now.duration_since(*since) < self.max_age
        {
            return Ok(Arc::clone(repo));
        }
        let mut repo = if credentials {
            GitRepo::open(&self.cache_dir, url)?
        } else {
            GitRepo::open(&self.cache_dir.join("anonymous"), url)?
        }
        .with_timeout(self.timeout);
        repo.fetch_limit = self.fetch_limit.clone();
        repo.tmp_dir = self.tmp_dir.clone();
        if credentials && let Some(hook) = &self.git_env {
            repo = repo.with_remote_env(hook(url));
        }
        let repo = Arc::new(repo);
        open.retain(|_, (since, _)| now.duration_since(*since) < self.max_age);
        open.insert(key, (now, Arc::clone(&repo)));
        Ok(repo)
    }
}

/// Shortest hex string taken as a commit hash prefix (codehost's
/// `minHashDigits`).
const MIN_HASH_DIGITS: usize = 7;
/// Length of a SHA-1 hash in hex. SHA-256 repositories are not supported yet.
const HASH_LEN: usize = 40;
/// What ensureGitAttributes appends to `info/attributes` (golang/go#27153):
/// `export-ignore` and `export-subst` in a repository's `.gitattributes`
/// must not change the archive.
const ATTRIBUTES: &str = "\n* -export-subst -export-ignore\n";

impl GitRepo {
    /// Opens (creating if needed) the mirror of `url` under `cache_dir`.
    /// Nothing is fetched until the first query.
    pub fn open(cache_dir: &Path, url: &str) -> Result<Self> {
        let digest = Sha256::digest(format!("git3:{url}").as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let dir = cache_dir.join(format!("{name}.git"));
        let repo = GitRepo {
            url: url.to_owned(),
            dir,
            refs: Mutex::new(RefsState::Empty),
            blocking_fetch: Mutex::new(()),
            timeout: DEFAULT_TIMEOUT,
            fetch_limit: None,
            tmp_dir: None,
            remote_env: RemoteEnv::default(),
            memo: Mutex::new(Memo::default()),
        };
        if !repo.dir.join("objects").is_dir() {
            // Initialise in a temporary sibling and rename, so a crash never
            // leaves a half-made mirror that later looks valid.
            fs::create_dir_all(cache_dir)?;
            let tmp = tempfile::Builder::new()
                .prefix(".init-")
                .tempdir_in(cache_dir)?;
            run_git(
                tmp.path(),
                ["init", "--bare", "--quiet", "--object-format=sha1"],
            )?;
            run_git(tmp.path(), ["remote", "add", "origin", "--", url])?;
            let staged = tmp.keep();
            if let Err(e) = fs::rename(&staged, &repo.dir) {
                let _ = fs::remove_dir_all(&staged);
                // Another process may have won the race; its mirror is as good.
                if !repo.dir.join("objects").is_dir() {
                    return Err(e.into());
                }
            }
        }
        Ok(repo)
    }

    /// Sets the limit for reading the remote's refs (waiting for a fetch
    /// permit, `fetch` and `ls-remote` included) and for each local git
    /// command; a command over it is killed with its process group and
    /// reported as [`Error::Timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Makes a fetch from the remote hold one of `permits` while it runs, so
    /// that a flood of requests for many repositories runs at most that many
    /// git fetches at once.
    pub fn with_fetch_limit(mut self, permits: Arc<Semaphore>) -> Self {
        self.fetch_limit = Some(permits);
        self
    }

    /// Spools `git archive` output under `dir` instead of the system
    /// temporary directory.
    pub fn with_tmp_dir(mut self, dir: &Path) -> Self {
        self.tmp_dir = Some(dir.to_owned());
        self
    }

    /// Sets extra environment for the commands that talk to the remote
    /// (`ls-remote`, `fetch`); local commands never see it. Later entries
    /// win over agora's own environment, as for any child process.
    pub fn with_remote_env(mut self, env: RemoteEnv) -> Self {
        self.remote_env = env;
        self
    }

    /// The remote URL, as `Origin.URL` reports it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The mirror directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn state(&self) -> MutexGuard<'_, RefsState> {
        // Held only to read or swap the state, never across I/O.
        self.refs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The remote's refs, reading them (and fetching the mirror) on first
    /// use, blocking the calling thread. Async callers use
    /// [`GitRepo::load_refs`] first, which shares one fetch among all of
    /// them and holds no thread while it waits.
    pub fn refs(&self) -> Result<Arc<Refs>> {
        if let RefsState::Ready(refs) = &*self.state() {
            return Ok(Arc::clone(refs));
        }
        let _serial = self
            .blocking_fetch
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let RefsState::Ready(refs) = &*self.state() {
            return Ok(Arc::clone(refs));
        }
        let refs = Arc::new(self.fetch_blocking()?);
        *self.state() = RefsState::Ready(Arc::clone(&refs));
        Ok(refs)
    }

    /// Re-reads the remote's refs and fetches what changed (blocking).
    pub fn refresh(&self) -> Result<Arc<Refs>> {
        let _serial = self
            .blocking_fetch
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let refs = Arc::new(self.fetch_blocking()?);
        *self.state() = RefsState::Ready(Arc::clone(&refs));
        Ok(refs)
    }

    /// [`GitRepo::fetch_bounded`] on a runtime of its own, for blocking
    /// callers.
    fn fetch_blocking(&self) -> Result<Refs> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(self.fetch_bounded(Instant::now() + self.timeout))
    }

    /// The remote's refs, fetching the mirror on first use. Every caller
    /// that arrives while a fetch runs waits for that fetch's outcome
    /// (success or failure) rather than starting one of its own; the fetch
    /// runs on a task of its own, so a caller that gives up does not cancel
    /// it for the others. A failure is not kept: the next caller fetches
    /// again. Needs a tokio runtime.
    pub async fn load_refs(self: &Arc<Self>) -> Result<Arc<Refs>> {
        let deadline = Instant::now() + self.timeout;
        let mut rx = {
            let mut state = self.state();
            match &*state {
                RefsState::Ready(refs) => return Ok(Arc::clone(refs)),
                RefsState::Loading(rx) => rx.clone(),
                RefsState::Empty => {
                    let (tx, rx) = watch::channel(None);
                    *state = RefsState::Loading(rx.clone());
                    let repo = Arc::clone(self);
                    tokio::spawn(async move {
                        let outcome = repo
                            .fetch_bounded(deadline)
                            .await
                            .map(Arc::new)
                            .map_err(|e| (e.kind(), e.to_string()));
                        *repo.state() = match &outcome {
                            Ok(refs) => RefsState::Ready(Arc::clone(refs)),
                            Err(_) => RefsState::Empty,
                        };
                        let _ = tx.send(Some(outcome));
                    });
                    rx
                }
            }
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let waited = tokio::time::timeout(left, rx.wait_for(Option::is_some))
            .await
            .map(|r| r.map(|outcome| outcome.clone()));
        match waited {
            Ok(Ok(outcome)) => match outcome.as_ref() {
                Some(Ok(refs)) => Ok(Arc::clone(refs)),
                Some(Err((kind, msg))) => Err(Error::from_kind(*kind, msg.clone())),
                None => Err(Error::Io(std::io::Error::other(
                    "fetch ended without outcome",
                ))),
            },
            Ok(Err(_)) => {
                // The fetch task died without an answer (a panic): let the
                // next caller start over.
                let mut state = self.state();
                if matches!(&*state, RefsState::Loading(r) if r.same_channel(&rx)) {
                    *state = RefsState::Empty;
                }
                Err(Error::Io(std::io::Error::other(format!(
                    "fetching {} failed",
                    self.url
                ))))
            }
            Err(_) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> Error {
        Error::Timeout(format!(
            "git fetch: {} did not answer within {:?}",
            self.url, self.timeout
        ))
    }

    /// One fetch holding a permit, all of it (waiting for the permit and the
    /// mirror's lock included) before `deadline`.
    async fn fetch_bounded(&self, deadline: Instant) -> Result<Refs> {
        let left = deadline.saturating_duration_since(Instant::now());
        let work = async {
            let _permit = match &self.fetch_limit {
                Some(s) => Some(
                    Arc::clone(s)
                        .acquire_owned()
                        .await
                        .map_err(|e| Error::Io(std::io::Error::other(e)))?,
                ),
                None => None,
            };
            let _lock = self.file_lock_async(deadline).await?;
            self.fetch_locked(deadline).await
        };
        match tokio::time::timeout(left, work).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out()),
        }
    }

    /// [`GitRepo::file_lock`] without blocking a thread: polls until
    /// `deadline` while another process or `GitRepo` updates the mirror.
    async fn file_lock_async(&self, deadline: Instant) -> Result<File> {
        let f = self.lock_file()?;
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(f),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(self.timed_out()),
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }

    fn lock_file(&self) -> Result<File> {
        let mut name = self.dir.clone().into_os_string();
        name.push(".lock");
        Ok(OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(name))?)
    }

    /// Holds an exclusive lock on `<mirror>.lock` for the duration of a
    /// mirror update, so that two processes (or two `GitRepo`s of one URL)
    /// sharing the cache never fetch into the same mirror at once.
    fn file_lock(&self) -> Result<File> {
        let f = self.lock_file()?;
        f.lock()?;
        // Dropping the file releases the lock.
        Ok(f)
    }

    async fn fetch_locked(&self, deadline: Instant) -> Result<Refs> {
        // One fetch that also records the remote's HEAD gives the same view
        // as `ls-remote` followed by a fetch, in one round trip fewer: the
        // forced, pruned heads and tags are the remote's, and a detached
        // HEAD's commit comes along. A remote without a usable HEAD (empty,
        // or HEAD naming an unborn branch) fails it; then do it the go
        // command's way.
        match self
            .remote_git(
                &[
                    "fetch",
                    "--quiet",
                    "--force",
                    "--prune",
                    "--no-tags",
                    "--end-of-options",
                    "origin",
                    "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*",
                    "+HEAD:refs/agora/HEAD",
                ],
                deadline,
            )
            .await
        {
            Ok(_) => return self.local_refs(deadline).await,
            Err(e @ (Error::Timeout(_) | Error::NotFound(_))) => return Err(e),
            Err(e) => {
                tracing::debug!(url = %self.url, error = %e, "fetch with HEAD failed; listing refs first");
            }
        }
        // The recorded HEAD would be stale from here on.
        let _ = self
            .git_async(&["update-ref", "-d", "refs/agora/HEAD"], deadline)
            .await;
        let out = self
            .remote_git(&["ls-remote", "-q", "--end-of-options", "origin"], deadline)
            .await?;
        let refs = parse_ls_remote(&String::from_utf8_lossy(&out));
        if refs.is_empty() {
            return Ok(refs);
        }
        // `--prune` keeps the mirror equal to the remote, so a deleted tag
        // cannot linger in `for-each-ref --merged` answers.
        self.remote_git(
            &[
                "fetch",
                "--quiet",
                "--force",
                "--prune",
                "--no-tags",
                "--end-of-options",
                "origin",
                "+refs/heads/*:refs/heads/*",
                "+refs/tags/*:refs/tags/*",
            ],
            deadline,
        )
        .await?;
        // A remote HEAD detached from every branch is a commit the go command
        // fetches on its own (as `<hash>:refs/dummy`); do the same.
        if let Some(head) = refs.get("HEAD")
            && !refs
                .iter()
                .any(|(k, v)| k.starts_with("refs/heads/") && v == head)
        {
            let spec = format!("{head}:refs/dummy");
            self.remote_git(
                &["fetch", "--quiet", "--force", "origin", spec.as_str()],
                deadline,
            )
            .await?;
        }
        Ok(refs)
    }

    /// The ref map as `ls-remote` would give it, read from the mirror right
    /// after a fetch that mirrored heads and tags and recorded the remote's
    /// HEAD as `refs/agora/HEAD`. `show-ref -d` peels annotated tags fully,
    /// as `ls-remote`'s `^{}` lines do.
    async fn local_refs(&self, deadline: Instant) -> Result<Refs> {
        let out = self.git_async(&["show-ref", "-d"], deadline).await?;
        // Exit 1 with nothing printed: no refs at all.
        if !out.status.success() && !out.stdout.is_empty() {
            return Err(Error::Git {
                args: "show-ref -d".into(),
                stderr: out.stderr,
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let listing: String = text
            .lines()
            .filter_map(|line| {
                let (hash, name) = line.split_once(' ')?;
                match name {
                    "refs/agora/HEAD" => Some(format!("{hash} HEAD\n")),
                    "HEAD" => None,
                    _ => Some(format!("{line}\n")),
                }
            })
            .collect();
        Ok(parse_ls_remote(&listing))
    }

    /// Tags (without `refs/tags/`) starting with `prefix`, sorted by name,
    /// with their commits.
    pub fn tags(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let refs = self.refs()?;
        Ok(refs
            .iter()
            .filter_map(|(k, v)| {
                let tag = k.strip_prefix("refs/tags/")?;
                tag.starts_with(prefix).then(|| (tag.to_owned(), v.clone()))
            })
            .collect())
    }

    /// Resolves `rev` (tag, branch, `HEAD`, hash or hash prefix) to a commit,
    /// in the go command's order: tag, branch, `HEAD`, then a hex prefix of a
    /// ref's commit (ambiguous prefixes are refused) or any commit in the
    /// mirror (which holds only what heads and tags reach).
    pub fn stat(&self, rev: &str) -> Result<Commit> {
        let refs = self.refs()?;
        let mut git_ref = None;
        let mut lookup = rev.to_owned();
        let mut version = rev.to_owned();
        if let Some(h) = refs.get(&format!("refs/tags/{rev}")) {
            git_ref = Some(format!("refs/tags/{rev}"));
            lookup = h.clone();
        } else if let Some(h) = refs.get(&format!("refs/heads/{rev}")) {
            git_ref = Some(format!("refs/heads/{rev}"));
            lookup = h.clone();
            version = h.clone();
        } else if rev == "HEAD" && refs.contains_key("HEAD") {
            git_ref = Some("HEAD".to_owned());
            lookup = refs["HEAD"].clone();
            version = lookup.clone();
        } else if is_hash_prefix(rev) {
            let mut hash: Option<&String> = None;
            for (k, h) in refs.iter() {
                if h.starts_with(rev) {
                    if hash.is_some_and(|prev| prev != h) {
                        return Err(Error::NotFound(format!("ambiguous revision {rev}")));
                    }
                    // BTreeMap order: the first ref is the smallest name,
                    // go's deterministic tie-break.
                    if git_ref.is_none() {
                        git_ref = Some(k.clone());
                    }
                    hash = Some(h);
                }
            }
            if let Some(h) = hash {
                lookup = h.clone();
                version = h.clone();
            }
        } else {
            return Err(unknown_revision(rev));
        }
        let (hash, time) = self
            .commit_time(&lookup)
            .ok_or_else(|| unknown_revision(rev))??;
        if git_ref.is_none() && !self.reachable(&hash)? {
            // Still in the mirror from an earlier fetch, but no head or tag
            // leads to it any more: a fresh go command could not fetch it.
            return Err(unknown_revision(rev));
        }
        if version != hash && hash.starts_with(&version) {
            version = hash.clone();
        }
        let mut tags: Vec<String> = refs
            .iter()
            .filter(|(_, h)| **h == hash)
            .filter_map(|(k, _)| k.strip_prefix("refs/tags/").map(str::to_owned))
            .collect();
        tags.sort();
        if !tags.contains(&version) {
            version = hash.clone();
        }
        // go fetches a `HEAD` match as `<hash>:refs/dummy` and renames the ref
        // to the hash, which then no longer counts as a ref (`ref != Hash`);
        // only codeRepo `Latest` reports `Ref: HEAD`.
        if git_ref.as_deref() == Some("HEAD") {
            git_ref = None;
        }
        Ok(Commit {
            short: hash[..hash.len().min(12)].to_owned(),
            hash,
            time,
            tags,
            version,
            git_ref,
        })
    }

    /// The full hash and committer time of `lookup` (a hash or a prefix);
    /// `None` when git does not know it.
    fn commit_time(&self, lookup: &str) -> Option<Result<(String, i64)>> {
        let full = lookup.len() == HASH_LEN;
        if full && let Some(&t) = self.memo().times.get(lookup) {
            return Some(Ok((lookup.to_owned(), t)));
        }
        let out = self
            .git([
                "-c",
                "log.showsignature=false",
                "log",
                "--no-decorate",
                "-n1",
                "--format=format:%H %ct",
                "--end-of-options",
                lookup,
                "--",
            ])
            .ok()?;
        let out = String::from_utf8_lossy(&out);
        let mut f = out.split_whitespace();
        let (hash, time) = (f.next()?, f.next()?);
        let Ok(time) = time.parse::<i64>() else {
            return Some(Err(Error::Invalid(format!(
                "invalid time from git log: {out:?}"
            ))));
        };
        let mut memo = self.memo();
        memo.make_room();
        memo.times.insert(hash.to_owned(), time);
        Some(Ok((hash.to_owned(), time)))
    }

    fn memo(&self) -> MutexGuard<'_, Memo> {
        // The memo only ever holds complete answers.
        self.memo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The blob at `file` in `commit`'s tree, as (object id, size), or
    /// `None` when there is no blob there (nothing, a directory or a
    /// submodule). A symlink is a blob whose content is the link target, as
    /// `git cat-file` gives it to the go command.
    fn tree_blob(&self, commit: &str, file: &str) -> Result<Option<(String, u64)>> {
        let key = (commit.to_owned(), file.to_owned());
        if commit.len() == HASH_LEN
            && let Some(found) = self.memo().blobs.get(&key)
        {
            return Ok(found.clone());
        }
        let found = self.tree_blob_uncached(commit, file)?;
        if commit.len() == HASH_LEN {
            let mut memo = self.memo();
            memo.make_room();
            memo.blobs.insert(key, found.clone());
        }
        Ok(found)
    }

    fn tree_blob_uncached(&self, commit: &str, file: &str) -> Result<Option<(String, u64)>> {
        let listing = self.git(["ls-tree", "-l", "-z", "--full-tree", commit, "--", file])?;
        Ok(listing
            .split(|&b| b == 0)
            .filter_map(|entry| {
                let tab = entry.iter().position(|&b| b == b'\t')?;
                let (meta, name) = (&entry[..tab], &entry[tab + 1..]);
                let meta = String::from_utf8_lossy(meta);
                let mut f = meta.split_whitespace();
                let (_mode, kind, object, size) = (f.next()?, f.next()?, f.next()?, f.next()?);
                (name == file.as_bytes() && kind == "blob")
                    .then(|| Some((object.to_owned(), size.parse().ok()?)))
                    .flatten()
            })
            .next())
    }

    /// Whether `commit`'s tree has a blob at `file`.
    pub fn has_file(&self, commit: &str, file: &str) -> Result<bool> {
        Ok(self.tree_blob(commit, file)?.is_some())
    }

    /// The content of `file` at `commit` (see [`GitRepo::has_file`] for what
    /// counts as a file), or `None` when it is absent.
    ///
    /// The go command maps *every* `cat-file` failure to "not exist"; agora
    /// lists the tree entry first and reports other failures as errors,
    /// because here "not exist" can become a stored, synthesized go.mod.
    /// Files over `max_size` are refused rather than read into memory (the
    /// go command would read them whole).
    pub fn read_file(&self, commit: &str, file: &str, max_size: u64) -> Result<Option<Vec<u8>>> {
        let Some((object, size)) = self.tree_blob(commit, file)? else {
            return Ok(None);
        };
        if size > max_size {
            return Err(Error::Invalid(format!(
                "{file} at revision {commit} is too large ({size} bytes; limit is {max_size} bytes)"
            )));
        }
        if let Some(data) = self.memo().contents.get(&object) {
            return Ok(Some(data.clone()));
        }
        let data = self.git(["cat-file", "blob", object.as_str()])?;
        if size <= MEMO_CONTENT {
            let mut memo = self.memo();
            memo.make_room();
            memo.contents.insert(object, data.clone());
        }
        Ok(Some(data))
    }

    /// Whether a head or tag of the mirror (which equal the remote's after a
    /// fetch) contains `commit`.
    fn reachable(&self, commit: &str) -> Result<bool> {
        let contains = format!("--contains={commit}");
        let out = self.git([
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            contains.as_str(),
            "refs/heads/",
            "refs/tags/",
        ])?;
        Ok(!out.is_empty())
    }

    /// The highest tag (by `allowed` and semver on the part after `prefix`)
    /// among tags merged into `commit` (codehost `RecentTag`).
    pub fn recent_tag(
        &self,
        commit: &str,
        prefix: &str,
        allowed: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<String>> {
        let merged = format!("--merged={commit}");
        let out = self.git(["for-each-ref", "--format=%(refname)", merged.as_str()])?;
        let mut highest = String::new();
        for line in String::from_utf8_lossy(&out).lines() {
            let Some(tag) = line.trim().strip_prefix("refs/tags/") else {
                continue;
            };
            if !tag.starts_with(prefix) || !allowed(tag) {
                continue;
            }
            let semtag = &tag[prefix.len()..];
            if agora_core::semver::compare(semtag, &highest) == std::cmp::Ordering::Greater {
                highest = semtag.to_owned();
            }
        }
        Ok((!highest.is_empty()).then(|| format!("{prefix}{highest}")))
    }

    /// Whether `tag` is an ancestor of (or equal to) `commit`.
    pub fn descends_from(&self, commit: &str, tag: &str) -> Result<bool> {
        let status = self
            .git_output(["merge-base", "--is-ancestor", "--", tag, commit])?
            .status;
        match status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(Error::Git {
                args: format!("merge-base --is-ancestor {tag} {commit}"),
                stderr: format!("exit status {status}"),
            }),
        }
    }

    /// Writes `git archive --format=zip` of `commit` (limited to `subdir`
    /// when not empty) into `dest`, as the go command runs it. With `stored`,
    /// entries are not compressed (`-0`): the same names and bytes, several
    /// times faster, for callers that only read the archive back.
    ///
    /// Stops git as soon as it has written more than `limit` bytes (a small
    /// repository can name one large blob many times), and when the
    /// repository's timeout passes.
    pub fn archive(
        &self,
        commit: &str,
        subdir: &str,
        stored: bool,
        dest: &File,
        limit: u64,
    ) -> Result<Archive> {
        {
            let _lock = self.file_lock()?;
            self.ensure_attributes()?;
        }
        let mut args = vec![
            "-c",
            "core.autocrlf=input",
            "-c",
            "core.eol=lf",
            "archive",
            "--format=zip",
            "--prefix=prefix/",
        ];
        if stored {
            args.push("-0");
        }
        args.extend(["--end-of-options", commit]);
        if !subdir.is_empty() {
            args.push(subdir);
        }
        let mut cmd = self.command(&args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = proc::Watched::spawn(cmd, Instant::now() + self.timeout)?;
        let (Some(mut out), Some(err)) = (child.child.stdout.take(), child.child.stderr.take())
        else {
            return Err(Error::Io(std::io::Error::other("git archive: no pipes")));
        };
        let (copied, stderr) = std::thread::scope(|s| {
            let stderr = s.spawn(move || {
                let mut kept = Vec::new();
                let _ = err.take(64 * 1024).read_to_end(&mut kept);
                String::from_utf8_lossy(&kept).trim().to_owned()
            });
            let mut w = std::io::BufWriter::with_capacity(256 * 1024, dest);
            let copied = std::io::copy(&mut (&mut out).take(limit + 1), &mut w)
                .and_then(|n| w.flush().map(|()| n));
            if !matches!(copied, Ok(n) if n <= limit) {
                // Over the limit, or the file cannot take more: stop git
                // rather than let it write on into the pipe.
                child.kill();
            }
            (copied, stderr.join().unwrap_or_default())
        });
        let copied = copied?;
        if copied > limit {
            return Ok(Archive::TooLarge);
        }
        let status = match child.wait() {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(Error::Timeout(format!(
                    "git archive of {commit} did not finish within {:?}",
                    self.timeout
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if status.success() {
            return Ok(Archive::Written);
        }
        if stderr.contains("did not match any files") {
            return Ok(Archive::NoFiles);
        }
        Err(Error::Git {
            args: args.join(" "),
            stderr,
        })
    }

    /// A temporary file for `git archive` output, in the configured spool
    /// directory.
    pub(crate) fn spool(&self) -> Result<File> {
        Ok(match &self.tmp_dir {
            Some(dir) => {
                fs::create_dir_all(dir)?;
                tempfile::tempfile_in(dir)?
            }
            None => tempfile::tempfile()?,
        })
    }

    /// The entries of `commit`'s tree under `paths` (the whole tree when
    /// empty), recursively, in tree order: what `git archive` would visit,
    /// with each blob's object id and size, and no content read.
    pub(crate) fn tree_entries(&self, commit: &str, paths: &[String]) -> Result<Vec<TreeEntry>> {
        let mut args = vec![
            "ls-tree".to_owned(),
            "-r".into(),
            "-l".into(),
            "-z".into(),
            "--full-tree".into(),
            // A full hash from `stat`, never an option (ls-tree does not
            // take --end-of-options).
            commit.into(),
            "--".into(),
        ];
        args.extend(paths.iter().cloned());
        let listing = self.git(&args)?;
        let mut entries = Vec::new();
        for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let bad = || Error::Invalid(format!("unexpected git ls-tree output for {commit}"));
            let tab = record.iter().position(|&b| b == b'\t').ok_or_else(bad)?;
            let meta = std::str::from_utf8(&record[..tab]).map_err(|_| bad())?;
            let mut f = meta.split_whitespace();
            let (Some(mode), Some(kind), Some(object), Some(size)) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                return Err(bad());
            };
            entries.push(TreeEntry {
                mode: u32::from_str_radix(mode, 8).map_err(|_| bad())?,
                blob: kind == "blob",
                object: object.to_owned(),
                // `-` for a submodule, which has no size.
                size: size.parse().unwrap_or(0),
                path: String::from_utf8_lossy(&record[tab + 1..]).into_owned(),
            });
        }
        Ok(entries)
    }

    /// Whether git would read attributes from outside the repository's
    /// trees (`core.attributesFile`, or its default under the XDG config
    /// directory), which can change what `git archive` writes.
    pub(crate) fn outside_attributes(&self) -> Result<bool> {
        let out = self.git_output(["config", "--get", "core.attributesFile"])?;
        if !out.stdout.trim_ascii().is_empty() {
            return Ok(true);
        }
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        Ok(xdg.is_some_and(|d| d.join("git/attributes").exists()))
    }

    /// A `git cat-file --batch` process on the mirror, for streaming many
    /// blobs without a process each.
    /// It is killed when the repository's timeout passes.
    pub(crate) fn blob_reader(&self) -> Result<BlobReader> {
        let mut cmd = self.command(["cat-file", "--batch"]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = proc::Watched::spawn(cmd, Instant::now() + self.timeout)?;
        let (Some(stdin), Some(stdout)) = (child.child.stdin.take(), child.child.stdout.take())
        else {
            return Err(Error::Io(std::io::Error::other("git cat-file: no pipes")));
        };
        Ok(BlobReader {
            child,
            stdin: Some(stdin),
            stdout: std::io::BufReader::with_capacity(256 * 1024, stdout),
        })
    }

    /// Where built zips of the modules in this repository are kept, by
    /// module path, for reuse by the next version (see `modzip`).
    pub(crate) fn zip_cache(&self, module: &str) -> crate::modzip::CacheSlot {
        let digest = Sha256::digest(module.as_bytes());
        crate::modzip::CacheSlot {
            dir: self.dir.with_extension("zips"),
            key: digest[..16].iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    fn ensure_attributes(&self) -> Result<()> {
        let info = self.dir.join("info");
        fs::create_dir_all(&info)?;
        let path = info.join("attributes");
        let mut f = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let mut existing = String::new();
        f.read_to_string(&mut existing)?;
        if !existing.ends_with(ATTRIBUTES) {
            f.write_all(ATTRIBUTES.as_bytes())?;
        }
        Ok(())
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command_via(Command::new("git"), args)
    }

    fn command_via<I, S>(&self, mut cmd: Command, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        cmd.args(args)
            .current_dir(&self.dir)
            // As the go command does, so that safe.bareRepository=explicit
            // cannot refuse the mirror.
            .env("GIT_DIR", &self.dir)
            // Never wait for a password on a terminal nobody watches.
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a git command that talks to the remote, in a session of its own
    /// that dies with agora (see [`proc::remote_launcher`]), until
    /// `deadline`: the whole group is killed when it passes or the caller
    /// gives up.
    async fn remote_git(&self, args: &[&str], deadline: Instant) -> Result<Vec<u8>> {
        let mut cmd = match proc::remote_launcher() {
            Some([program, rest @ ..]) => {
                let mut cmd = tokio::process::Command::new(program);
                cmd.args(rest);
                cmd
            }
            None => {
                let mut cmd = tokio::process::Command::new("git");
                cmd.process_group(0);
                cmd
            }
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .env("GIT_DIR", &self.dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .envs(proc::remote_env(self.timeout))
            .envs(self.remote_env.0.iter().map(|(k, v)| (k, v)));
        let start = Instant::now();
        let what = format!(
            "git {}: {}",
            args.first().copied().unwrap_or_default(),
            self.url
        );
        let out = proc::run_async(cmd, deadline, REMOTE_OUTPUT_LIMIT, &what).await;
        tracing::debug!(
            url = %self.url,
            git = %args.join(" "),
            elapsed = ?start.elapsed(),
            exit = ?out.as_ref().map(|o| o.status.code()).ok(),
            "git remote command"
        );
        let out = match out {
            Err(Error::Timeout(_)) => {
                return Err(Error::Timeout(format!(
                    "git {}: {} did not answer within {:?}",
                    args.first().copied().unwrap_or_default(),
                    self.url,
                    self.timeout
                )));
            }
            r => r?,
        };
        let stderr = out.stderr;
        if out.status.success() {
            return Ok(out.stdout);
        }
        // git's wording for a repository the server does not have
        // (HTTP 404, "Repository not found" from forges).
        if stderr.contains("not found") || stderr.contains("does not appear to be a git repository")
        {
            return Err(Error::NotFound(format!(
                "repository {} not found: {stderr}",
                self.url
            )));
        }
        Err(Error::Unavailable(format!(
            "git {}: {stderr}",
            args.join(" ")
        )))
    }

    /// Runs a local git command on the mirror within the timeout.
    async fn git_async(&self, args: &[&str], deadline: Instant) -> Result<proc::Output> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.args(args)
            .current_dir(&self.dir)
            .env("GIT_DIR", &self.dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .process_group(0);
        proc::run_async(
            cmd,
            deadline,
            LOCAL_OUTPUT_LIMIT,
            &format!("git {}", args.join(" ")),
        )
        .await
    }

    fn git<I, S>(&self, args: I) -> Result<Vec<u8>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        output(self.command(args), self.timeout)
    }

    /// Runs a local git command within the timeout and returns what it
    /// printed, whatever its exit status.
    fn git_output<I, S>(&self, args: I) -> Result<proc::Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let cmd = self.command(args);
        let what = describe(&cmd);
        proc::run_blocking(cmd, self.timeout, LOCAL_OUTPUT_LIMIT, &what)
    }
}

/// What [`GitRepo::archive`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// The whole archive.
    Written,
    /// Nothing: the subdirectory matches no files.
    NoFiles,
    /// More than the limit; what was written is to be discarded.
    TooLarge,
}

/// One entry of a tree listing (`git ls-tree -r -l`).
#[derive(Debug, Clone)]
pub(crate) struct TreeEntry {
    /// The git file mode (`0o100644`, `0o100755`, `0o120000`, `0o160000`).
    pub mode: u32,
    /// A blob (file or symlink), as opposed to a submodule commit.
    pub blob: bool,
    pub object: String,
    pub size: u64,
    /// The path from the repository root (lossy for names that are not
    /// UTF-8, as the archive route reads them).
    pub path: String,
}

/// Streams blobs out of one `git cat-file --batch` process, one at a time.
pub(crate) struct BlobReader {
    child: proc::Watched,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl BlobReader {
    /// Passes the content of blob `object` to `sink` in pieces and returns
    /// its size.
    pub(crate) fn read(
        &mut self,
        object: &str,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<u64> {
        use std::io::BufRead as _;
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| Error::Io(std::io::Error::other("git cat-file: closed")))?;
        stdin.write_all(format!("{object}\n").as_bytes())?;
        stdin.flush()?;
        let mut header = String::new();
        self.stdout.read_line(&mut header)?;
        let mut f = header.split_whitespace();
        let (Some(_), Some("blob"), Some(size)) = (f.next(), f.next(), f.next()) else {
            return Err(Error::Git {
                args: "cat-file --batch".into(),
                stderr: format!("object {object}: {}", header.trim()),
            });
        };
        let size: u64 = size.parse().map_err(|_| Error::Git {
            args: "cat-file --batch".into(),
            stderr: format!("object {object}: {}", header.trim()),
        })?;
        let mut left = size;
        while left > 0 {
            let buf = self.stdout.fill_buf()?;
            if buf.is_empty() {
                return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            let n = buf.len().min(left as usize);
            sink(&buf[..n])?;
            self.stdout.consume(n);
            left -= n as u64;
        }
        let mut lf = [0u8; 1];
        self.stdout.read_exact(&mut lf)?;
        Ok(size)
    }
}

impl Drop for BlobReader {
    fn drop(&mut self) {
        // End of input ends cat-file; reap it so no zombie is left.
        drop(self.stdin.take());
        self.child.kill();
    }
}

fn run_git<I, S>(dir: &Path, args: I) -> Result<Vec<u8>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_DIR", dir)
        .stdin(Stdio::null());
    output(cmd, DEFAULT_TIMEOUT)
}

/// The arguments of a git command, for logs and errors.
fn describe(cmd: &Command) -> String {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.join(" ")
}

/// Runs a local git command within `timeout`; its stdout on success.
fn output(cmd: Command, timeout: Duration) -> Result<Vec<u8>> {
    let start = Instant::now();
    let args = describe(&cmd);
    let out = proc::run_blocking(cmd, timeout, LOCAL_OUTPUT_LIMIT, &format!("git {args}"))?;
    tracing::trace!(git = %args, elapsed = ?start.elapsed(), ok = out.status.success(), "git");
    if out.status.success() {
        return Ok(out.stdout);
    }
    Err(Error::Git {
        args,
        stderr: out.stderr,
    })
}

fn unknown_revision(rev: &str) -> Error {
    Error::NotFound(format!("unknown revision {rev}"))
}

/// Whether `rev` may be a SHA-1 hash or an abbreviation of one.
pub(crate) fn is_hash_prefix(rev: &str) -> bool {
    (MIN_HASH_DIGITS..=HASH_LEN).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The go command's `loadRefs` parse: keep `HEAD`, heads and tags; a peeled
/// `^{}` entry replaces its annotated tag.
fn parse_ls_remote(out: &str) -> Refs {
    let mut refs = Refs::new();
    let mut peeled = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [hash, name] = f[..] else { continue };
        if name == "HEAD" || name.starts_with("refs/heads/") || name.starts_with("refs/tags/") {
            match name.strip_suffix("^{}") {
                Some(tag) => peeled.push((tag.to_owned(), hash.to_owned())),
                None => {
                    refs.insert(name.to_owned(), hash.to_owned());
                }
            }
        }
    }
    refs.extend(peeled);
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_peels() {
        let refs = parse_ls_remote(
            "aaaa\tHEAD\nbbbb\trefs/heads/main\ncccc\trefs/tags/v1.0.0\n\
             dddd\trefs/tags/v1.0.0^{}\neeee\trefs/pull/1/head\n",
        );
        assert_eq!(refs.len(), 3);
        assert_eq!(refs["refs/tags/v1.0.0"], "dddd");
        assert!(!refs.contains_key("refs/pull/1/head"));
    }

    #[test]
    fn remote_env_values_are_never_shown() {
        let cache = tempfile::tempdir().unwrap();
        let hook: Arc<GitEnvFn> = Arc::new(|url: &str| {
            RemoteEnv::new(vec![(
                "GIT_CONFIG_VALUE_0".to_owned(),
                format!("Authorization: Basic s3cret-for-{url}"),
            )])
        });
        let mirrors = Mirrors::new(cache.path(), Duration::from_secs(60)).with_git_env(hook);
        let repo = mirrors.repo("https://example.test/r").unwrap();
        assert_eq!(repo.remote_env.0.len(), 1);
        let shown = format!("{mirrors:?} {repo:?}");
        assert!(shown.contains("GIT_CONFIG_VALUE_0"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn hash_prefixes() {
        assert!(is_hash_prefix("abcdef0"));
        assert!(!is_hash_prefix("abcdef"));
        assert!(!is_hash_prefix("v1.0.0"));
        assert!(!is_hash_prefix(&"a".repeat(41)));
    }
}
