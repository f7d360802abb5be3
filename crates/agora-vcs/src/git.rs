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
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

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
    /// The ref map of the last refresh; the lock also serialises fetches, so
    /// concurrent callers share one fetch instead of racing two.
    refs: Mutex<Option<Arc<Refs>>>,
    /// Limit for each command that talks to the remote.
    timeout: Duration,
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
            open: Mutex::new(HashMap::new()),
        }
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
            refs: Mutex::new(None),
            timeout: DEFAULT_TIMEOUT,
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

    /// Sets the limit for each command that talks to the remote
    /// (`ls-remote`, `fetch`); a command over it is killed and reported as
    /// [`Error::Timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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

    fn lock(&self) -> MutexGuard<'_, Option<Arc<Refs>>> {
        // A panic while holding the lock leaves nothing half-updated that
        // matters (the worst case is a stale ref map), so take it anyway.
        self.refs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The remote's refs, reading them (and fetching the mirror) on first use.
    pub fn refs(&self) -> Result<Arc<Refs>> {
        let mut guard = self.lock();
        if let Some(refs) = guard.as_ref() {
            return Ok(Arc::clone(refs));
        }
        let refs = Arc::new(self.fetch_locked()?);
        *guard = Some(Arc::clone(&refs));
        Ok(refs)
    }

    /// Re-reads the remote's refs and fetches what changed.
    pub fn refresh(&self) -> Result<Arc<Refs>> {
        let mut guard = self.lock();
        let refs = Arc::new(self.fetch_locked()?);
        *guard = Some(Arc::clone(&refs));
        Ok(refs)
    }

    /// Holds an exclusive lock on `<mirror>.lock` for the duration of a
    /// mirror update, so that two processes (or two `GitRepo`s of one URL)
    /// sharing the cache never fetch into the same mirror at once.
    fn file_lock(&self) -> Result<File> {
        let mut name = self.dir.clone().into_os_string();
        name.push(".lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(name))?;
        f.lock()?;
        // Dropping the file releases the lock.
        Ok(f)
    }

    fn fetch_locked(&self) -> Result<Refs> {
        let _lock = self.file_lock()?;
        // One fetch that also records the remote's HEAD gives the same view
        // as `ls-remote` followed by a fetch, in one round trip fewer: the
        // forced, pruned heads and tags are the remote's, and a detached
        // HEAD's commit comes along. A remote without a usable HEAD (empty,
        // or HEAD naming an unborn branch) fails it; then do it the go
        // command's way.
        match self.remote_git(&[
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
        ]) {
            Ok(_) => return self.local_refs(),
            Err(e @ (Error::Timeout(_) | Error::NotFound(_))) => return Err(e),
            Err(e) => {
                tracing::debug!(url = %self.url, error = %e, "fetch with HEAD failed; listing refs first");
            }
        }
        // The recorded HEAD would be stale from here on.
        let _ = self.git(["update-ref", "-d", "refs/agora/HEAD"]);
        let out = self.remote_git(&["ls-remote", "-q", "--end-of-options", "origin"])?;
        let refs = parse_ls_remote(&String::from_utf8_lossy(&out));
        if refs.is_empty() {
            return Ok(refs);
        }
        // `--prune` keeps the mirror equal to the remote, so a deleted tag
        // cannot linger in `for-each-ref --merged` answers.
        self.remote_git(&[
            "fetch",
            "--quiet",
            "--force",
            "--prune",
            "--no-tags",
            "--end-of-options",
            "origin",
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
        ])?;
        // A remote HEAD detached from every branch is a commit the go command
        // fetches on its own (as `<hash>:refs/dummy`); do the same.
        if let Some(head) = refs.get("HEAD")
            && !refs
                .iter()
                .any(|(k, v)| k.starts_with("refs/heads/") && v == head)
        {
            let spec = format!("{head}:refs/dummy");
            self.remote_git(&["fetch", "--quiet", "--force", "origin", spec.as_str()])?;
        }
        Ok(refs)
    }

    /// The ref map as `ls-remote` would give it, read from the mirror right
    /// after a fetch that mirrored heads and tags and recorded the remote's
    /// HEAD as `refs/agora/HEAD`. `show-ref -d` peels annotated tags fully,
    /// as `ls-remote`'s `^{}` lines do.
    fn local_refs(&self) -> Result<Refs> {
        let out = self
            .command(["show-ref", "-d"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()?;
        // Exit 1 with nothing printed: no refs at all.
        if !out.status.success() && !out.stdout.is_empty() {
            return Err(Error::Git {
                args: "show-ref -d".into(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
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
            .command(["merge-base", "--is-ancestor", "--", tag, commit])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
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
    /// Returns `Ok(false)` when `subdir` matches no files.
    pub fn archive(&self, commit: &str, subdir: &str, stored: bool, dest: &File) -> Result<bool> {
        {
            let _guard = self.lock();
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
        let mut child = self
            .command(&args)
            .stdout(dest.try_clone()?)
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            e.read_to_string(&mut stderr)?;
        }
        let status = child.wait()?;
        if status.success() {
            return Ok(true);
        }
        if stderr.contains("did not match any files") {
            return Ok(false);
        }
        Err(Error::Git {
            args: args.join(" "),
            stderr: stderr.trim().to_owned(),
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
        let out = self
            .command(["config", "--get", "core.attributesFile"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()?;
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
    pub(crate) fn blob_reader(&self) -> Result<BlobReader> {
        let mut child = self
            .command(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
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

    /// Starts a git command that talks to the remote, in a session of its
    /// own (through `setsid`) when `detach`, else in a process group of its
    /// own; either way git's pid names the group a timeout kills, with the
    /// transport helpers git starts (`git-remote-http`, ssh).
    ///
    /// A new session has no controlling terminal. Without it, when agora
    /// runs on a terminal, ssh opens `/dev/tty` to ask whether to trust an
    /// unknown host key or for a passphrase, is stopped reading from a
    /// background process group, and the request waits for the timeout;
    /// in a session of its own ssh (or a credential helper) cannot prompt
    /// and fails at once. `setsid` runs git in place (the child is not a
    /// group leader, so it need not fork), keeping git's pid.
    fn spawn_remote(&self, args: &[&str], detach: bool) -> std::io::Result<Child> {
        let mut cmd = if detach {
            let mut setsid = Command::new("setsid");
            setsid.arg("git");
            self.command_via(setsid, args)
        } else {
            let mut cmd = self.command(args);
            cmd.process_group(0);
            cmd
        };
        cmd.envs(self.remote_env.0.iter().map(|(k, v)| (k, v)));
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.spawn()
    }

    /// Runs a git command that talks to the remote, within the timeout.
    fn remote_git(&self, args: &[&str]) -> Result<Vec<u8>> {
        let mut child = match self.spawn_remote(args, true) {
            // No setsid (util-linux) on this host: a process group still
            // bounds the command; only the terminal case above can wait.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.spawn_remote(args, false)?,
            spawned => spawned?,
        };
        let drain = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut buf);
                }
                buf
            })
        };
        let out = drain(
            child
                .stdout
                .take()
                .map(|r| Box::new(r) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|r| Box::new(r) as Box<dyn Read + Send>),
        );
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if start.elapsed() > self.timeout {
                // Signal the whole group; the std API only reaches git itself.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        tracing::debug!(
            url = %self.url,
            git = %args.join(" "),
            elapsed = ?start.elapsed(),
            exit = ?status.map(|s| s.code()),
            "git remote command"
        );
        let stdout = out.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default())
            .trim()
            .to_owned();
        match status {
            None => Err(Error::Timeout(format!(
                "git {}: {} did not answer within {:?}",
                args.first().copied().unwrap_or_default(),
                self.url,
                self.timeout
            ))),
            Some(s) if s.success() => Ok(stdout),
            // git's wording for a repository the server does not have
            // (HTTP 404, "Repository not found" from forges).
            Some(_)
                if stderr.contains("not found")
                    || stderr.contains("does not appear to be a git repository") =>
            {
                Err(Error::NotFound(format!(
                    "repository {} not found: {stderr}",
                    self.url
                )))
            }
            Some(_) => Err(Error::Unavailable(format!(
                "git {}: {stderr}",
                args.join(" ")
            ))),
        }
    }

    fn git<I, S>(&self, args: I) -> Result<Vec<u8>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        output(self.command(args))
    }
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
    child: std::process::Child,
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
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    output(cmd)
}

fn output(mut cmd: Command) -> Result<Vec<u8>> {
    let start = Instant::now();
    let out = cmd.output()?;
    let args = || -> String {
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        args.join(" ")
    };
    tracing::trace!(git = %args(), elapsed = ?start.elapsed(), ok = out.status.success(), "git");
    if out.status.success() {
        return Ok(out.stdout);
    }
    Err(Error::Git {
        args: args(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
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
