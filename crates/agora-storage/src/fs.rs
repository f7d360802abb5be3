//! Disk storage in Athens' exact layout, written atomically.
//!
//! ```text
//! <root>/<module path>/<version>/go.mod
//! <root>/<module path>/<version>/source.zip
//! <root>/<module path>/<version>/<version>.info
//! ```
//!
//! Athens writes these three files in place, so a crash leaves a partial
//! version that it then serves. agora writes go.mod and source.zip into a
//! private directory under `<root>/.agora-tmp/`, fsyncs them, renames the
//! directory into place, and only then hard-links the `.info` in. The `.info`
//! is the commit marker: every read checks it, so a version without it is
//! absent, whoever left it there. Linking (rather than renaming) the marker
//! makes the commit create-only even against another process sharing the tree.
//!
//! The catalog walks the tree in Athens' order: directory entries sorted
//! bytewise, a directory before what is under it. That is the order of the
//! `/`-separated elements of `<module>/<version>` ([`catalog_order`]). A
//! directory `<module>/<version>` is a version when it holds the marker
//! `<version>.info` and `<module>` is a valid module path; names starting with a
//! dot (such as `.agora-tmp`) are never entered. A token resumes strictly after
//! the entry it names, and the walk skips whole subtrees before it, so a page
//! costs about what it lists (Athens compares the version alone against the
//! token, even in later modules, and so drops entries).

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use agora_core::{ModulePath, Version, semver};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream;
use tracing::{debug, warn};

use crate::{
    ByteStream, CatalogPage, NewVersion, Storage, StorageError, ZipObject, ZipSource, catalog_page,
    catalog_want, parse_catalog_token,
};

/// Name of the directory, directly under the root, that holds writes in
/// progress. It starts with a dot, which no module path element may, so it can
/// never be mistaken for a module.
const TMP_DIR: &str = ".agora-tmp";

/// How old an abandoned write must be before startup removes it; generous so
/// that another process sharing the tree is never robbed of a live write.
const STALE_TMP_AGE: Duration = Duration::from_secs(6 * 3600);

/// Read size when streaming zips, and the largest zip read whole when it is
/// opened. 256 KiB keeps per-chunk overhead (a blocking-pool hop, a read, a
/// frame) small at gigabytes per second, while 32 concurrent downloads hold
/// 8 MiB of chunks rather than 32 (bench/run.sh measures peak RSS); most
/// module zips fit in one chunk and cost one hop in all.
const CHUNK: usize = 256 * 1024;

/// Chunk buffers kept for reuse: at most this many idle ones (`CHUNK` each).
const POOL_MAX: usize = 16;

/// Idle chunk buffers. A chunk handed to the HTTP layer comes back here when
/// the layer drops it, so a busy server reuses warm memory: allocations this
/// large are mapped and unmapped by the allocator each time, and faulting in
/// and zeroing fresh pages for every chunk cost about a tenth of the CPU of
/// serving a zip (perf, bench/run.sh).
static POOL: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// A buffer of `CHUNK` initialised bytes (zeroed once, when new), so that a
/// positional read can fill it without zeroing it first.
fn take_buffer() -> Vec<u8> {
    POOL.lock()
        .ok()
        .and_then(|mut free| free.pop())
        .unwrap_or_else(|| vec![0; CHUNK])
}

/// A chunk's first `len` bytes, returned to [`POOL`] when the last `Bytes` of
/// it is dropped.
struct PooledChunk {
    buf: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for PooledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for PooledChunk {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if buf.len() != CHUNK {
            return;
        }
        if let Ok(mut free) = POOL.lock()
            && free.len() < POOL_MAX
        {
            free.push(buf);
        }
    }
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Storage in a directory tree, compatible with Athens' `disk` storage.
#[derive(Debug, Clone)]
pub struct DiskStorage {
    root: PathBuf,
}

impl DiskStorage {
    /// Opens (creating if needed) a storage root, and clears abandoned writes
    /// older than a few hours.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| {
            StorageError::io(format!("creating storage root {}", root.display()), e)
        })?;
        let storage = DiskStorage { root };
        storage.sweep_tmp();
        Ok(storage)
    }

    /// The storage root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn sweep_tmp(&self) {
        let Ok(entries) = std::fs::read_dir(self.root.join(TMP_DIR)) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            if entry.file_name() == "locks" {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TMP_AGE);
            if old {
                let path = entry.path();
                let res = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                if let Err(e) = res {
                    warn!(path = %path.display(), error = %e, "could not remove abandoned write");
                }
            }
        }
    }

    fn module_dir(&self, module: &ModulePath) -> PathBuf {
        // Module paths are validated (no empty, dot-only or dot-leading
        // elements), so joining their elements cannot leave the root.
        let mut dir = self.root.clone();
        dir.extend(module.as_str().split('/'));
        dir
    }

    fn version_dir(&self, module: &ModulePath, version: &Version) -> PathBuf {
        self.module_dir(module).join(version.as_str())
    }

    fn info_path(dir: &Path, version: &Version) -> PathBuf {
        dir.join(format!("{}.info", version.as_str()))
    }

    /// Checks the commit marker; NotFound when the version is absent.
    async fn require_present(&self, dir: &Path, version: &Version) -> Result<(), StorageError> {
        let info = Self::info_path(dir, version);
        match tokio::fs::metadata(&info).await {
            Ok(m) if m.is_file() => Ok(()),
            Ok(_) => Err(StorageError::corrupt(format!(
                "{} is not a file",
                info.display()
            ))),
            Err(e) if is_absent(&e) => Err(StorageError::not_found(format!(
                "{}: not stored",
                version.as_str()
            ))),
            Err(e) => Err(StorageError::io(format!("checking {}", info.display()), e)),
        }
    }

    async fn read_file(path: &Path) -> Result<Bytes, StorageError> {
        match tokio::fs::read(path).await {
            Ok(data) => Ok(Bytes::from(data)),
            // The marker said the version is complete, so a missing member is
            // damage, not absence.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StorageError::corrupt(format!(
                "{} is missing from a complete version",
                path.display()
            ))),
            Err(e) => Err(StorageError::io(format!("reading {}", path.display()), e)),
        }
    }
}

#[async_trait]
impl Storage for DiskStorage {
    fn describe(&self) -> String {
        format!("disk:{}", self.root.display())
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        let dir = self.module_dir(module);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            // A module path can run through a stored version's files (a.b/c
            // under a.b when a.b is a file); that is absence too.
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(Vec::new()),
            Err(e) => return Err(StorageError::io(format!("listing {}", dir.display()), e)),
        };
        let mut versions = Vec::new();
        loop {
            let entry = match entries.next_entry().await {
                Ok(Some(entry)) => entry,
                Ok(None) => break,
                Err(e) => return Err(StorageError::io(format!("listing {}", dir.display()), e)),
            };
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Athens' rule: keep names whose canonical form is a prefix of the
            // name. That skips nested modules such as `v2` and `sub`.
            let canonical = semver::canonical(&name);
            if canonical.is_empty() || !name.starts_with(&canonical) {
                continue;
            }
            let version = Version::from_trusted(&name);
            match self.require_present(&entry.path(), &version).await {
                Ok(()) => versions.push(name),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(versions)
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        match self
            .require_present(&self.version_dir(module, version), version)
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        let dir = self.version_dir(module, version);
        match tokio::fs::read(Self::info_path(&dir, version)).await {
            Ok(data) => Ok(Bytes::from(data)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StorageError::not_found(format!(
                "{}: not stored",
                version.as_str()
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(StorageError::not_found(
                format!("{}: not stored", version.as_str()),
            )),
            Err(e) => Err(StorageError::io(format!("reading {}", dir.display()), e)),
        }
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        let dir = self.version_dir(module, version);
        self.require_present(&dir, version).await?;
        Self::read_file(&dir.join("go.mod")).await
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        let dir = self.version_dir(module, version);
        let info = Self::info_path(&dir, version);
        let version = version.clone();
        // The marker check, the open and (for a small zip) the whole read in
        // one blocking-pool hop: a small zip is answered with one buffer, which
        // hyper writes together with the response head.
        tokio::task::spawn_blocking(move || open_zip(&dir, &info, &version))
            .await
            .map_err(|e| StorageError::io("opening zip", io::Error::other(e)))?
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        let root = self.root.clone();
        let final_dir = self.version_dir(module, version);
        let version = version.clone();
        tokio::task::spawn_blocking(move || put_blocking(&root, &final_dir, &version, new))
            .await
            .map_err(|e| StorageError::io("storing version", io::Error::other(e)))?
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        let dir = self.version_dir(module, version);
        if !self.exists(module, version).await? {
            return Err(StorageError::not_found(format!(
                "{}: not stored",
                version.as_str()
            )));
        }
        // Remove the marker first so that the version disappears atomically
        // even if removing the rest fails half way.
        let info = Self::info_path(&dir, version);
        tokio::fs::remove_file(&info)
            .await
            .map_err(|e| StorageError::io(format!("removing {}", info.display()), e))?;
        tokio::fs::remove_dir_all(&dir)
            .await
            .map_err(|e| StorageError::io(format!("removing {}", dir.display()), e))
    }

    async fn ready(&self) -> Result<(), StorageError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let meta = std::fs::metadata(&root)
                .map_err(|e| StorageError::io(format!("storage root {}", root.display()), e))?;
            if !meta.is_dir() {
                return Err(StorageError::corrupt(format!(
                    "storage root {} is not a directory",
                    root.display()
                )));
            }
            // A root that exists but cannot take writes (read-only mount, full
            // disk, wrong owner) must fail readiness too.
            let tmp = root.join(TMP_DIR);
            std::fs::create_dir_all(&tmp)
                .map_err(|e| StorageError::io(format!("creating {}", tmp.display()), e))?;
            tempfile::Builder::new()
                .prefix("ready-")
                .tempfile_in(&tmp)
                .map(drop)
                .map_err(|e| StorageError::io(format!("writing in {}", tmp.display()), e))
        })
        .await
        .map_err(|e| StorageError::io("checking storage", io::Error::other(e)))?
    }

    async fn get_blob(&self, key: &str) -> Result<Bytes, StorageError> {
        crate::check_blob_key(key)?;
        let path = self.root.join(crate::BLOB_PREFIX).join(key);
        match tokio::fs::read(&path).await {
            Ok(data) => Ok(Bytes::from(data)),
            Err(e) if is_absent(&e) => Err(StorageError::not_found(format!("blob {key}"))),
            Err(e) => Err(StorageError::io(format!("reading {}", path.display()), e)),
        }
    }

    async fn put_blob(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        crate::check_blob_key(key)?;
        if data.len() > crate::MAX_BLOB_BYTES {
            return Err(StorageError::invalid_argument(format!(
                "blob {key} of {} bytes is too large",
                data.len()
            )));
        }
        let root = self.root.clone();
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || put_blob_blocking(&root, &key, &data))
            .await
            .map_err(|e| StorageError::io("blob write task", io::Error::other(e)))?
    }

    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        let after = parse_catalog_token(token)?.map(|(m, v)| {
            catalog_order(m.as_str(), v.as_str())
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
        let want = catalog_want(page_size)?;
        let root = self.root.clone();
        let found = tokio::task::spawn_blocking(move || catalog_blocking(&root, after, want))
            .await
            .map_err(|e| StorageError::io("walking the catalog", io::Error::other(e)))??;
        Ok(catalog_page(found, page_size))
    }
}

/// The catalog sort key of `module@version` on disk (and in memory): the path
/// elements of `<module>/<version>`, compared element by element.
pub(crate) fn catalog_order<'a>(module: &'a str, version: &'a str) -> Vec<&'a str> {
    module.split('/').chain(std::iter::once(version)).collect()
}

/// Walks the tree under `root` in catalog order, collecting up to `want`
/// versions that sort after `after` (path elements, as [`catalog_order`]).
fn catalog_blocking(
    root: &Path,
    after: Option<Vec<String>>,
    want: usize,
) -> Result<Vec<(ModulePath, Version)>, StorageError> {
    // A missing root is an outage (the volume is not mounted), not an empty store.
    let meta = std::fs::metadata(root)
        .map_err(|e| StorageError::io(format!("storage root {}", root.display()), e))?;
    if !meta.is_dir() {
        // A volume not mounted where the root should be: unreadable, not damaged data.
        return Err(StorageError::io(
            format!("storage root {}", root.display()),
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        ));
    }
    let mut out = Vec::new();
    let mut rel = Vec::new();
    walk_catalog(root, &mut rel, after.as_deref(), want, &mut out)?;
    Ok(out)
}

/// `dir` is `root/<rel…>`. `bound` is `Some(rest)` while `rel` is a prefix of the
/// token's path (`rest` is what follows it), and `None` once everything here sorts
/// after the token.
fn walk_catalog(
    dir: &Path,
    rel: &mut Vec<String>,
    bound: Option<&[String]>,
    want: usize,
    out: &mut Vec<(ModulePath, Version)>,
) -> Result<(), StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        // Removed since its parent was read (a delete racing the walk).
        Err(e)
            if !rel.is_empty()
                && matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
        {
            return Ok(());
        }
        Err(e) => return Err(StorageError::io(format!("listing {}", dir.display()), e)),
    };
    let mut subdirs = Vec::new();
    let mut marker = false;
    let marker_name = rel.last().map(|v| format!("{v}.info"));
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(format!("listing {}", dir.display()), e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let file_type = entry
            .file_type()
            .map_err(|e| StorageError::io(format!("reading {}", entry.path().display()), e))?;
        if file_type.is_dir() {
            subdirs.push(name);
        } else if marker_name.as_deref() == Some(name.as_str()) {
            // What `exists` checks: the marker is a file (following a link).
            marker = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
        }
    }
    // This directory sorts before its children, so it comes first; and only once
    // the token lies behind it (`bound` is `None`: not on the token's path, nor
    // the token's own version).
    if let (true, None, Some((version, module))) = (marker, bound, rel.split_last())
        && !module.is_empty()
        && let Ok(module) = ModulePath::new(&module.join("/"))
    {
        out.push((module, Version::from_trusted(version)));
        if out.len() >= want {
            return Ok(());
        }
    }
    subdirs.sort_unstable();
    for name in subdirs {
        let child_bound = match bound {
            None => None,
            Some([]) => None,
            Some([first, rest @ ..]) => match name.as_str().cmp(first.as_str()) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => Some(rest),
                std::cmp::Ordering::Greater => None,
            },
        };
        rel.push(name);
        let path = dir.join(rel.last().map_or("", String::as_str));
        let res = walk_catalog(&path, rel, child_bound, want, out);
        rel.pop();
        res?;
        if out.len() >= want {
            break;
        }
    }
    Ok(())
}

fn put_blocking(
    root: &Path,
    final_dir: &Path,
    version: &Version,
    new: NewVersion,
) -> Result<(), StorageError> {
    let info_name = format!("{}.info", version.as_str());
    let final_info = final_dir.join(&info_name);
    if final_info.exists() {
        return Err(StorageError::already_exists(format!(
            "{} is already stored",
            version.as_str()
        )));
    }
    let tmp_root = root.join(TMP_DIR);
    // Writers of one version take turns, in this process and in any other
    // sharing the tree: without that, one could complete what it takes for a
    // crash leftover while another is half way through committing the same
    // version, and the stored files would come from two different writers.
    let _lock = lock_version(&tmp_root, final_dir)?;
    if final_info.exists() {
        return Err(StorageError::already_exists(format!(
            "{} is already stored",
            version.as_str()
        )));
    }
    let id = format!(
        "{}-{}-{}",
        std::process::id(),
        TMP_SEQ.fetch_add(1, Ordering::Relaxed),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let tmp_dir = tmp_root.join(&id);
    let tmp_info = tmp_root.join(format!("{id}.info"));
    let result = write_and_commit(&tmp_dir, &tmp_info, final_dir, &final_info, &new);
    // Whatever happened, nothing of ours may linger in the tmp area.
    let _ = std::fs::remove_dir_all(&tmp_dir);
    let _ = std::fs::remove_file(&tmp_info);
    result
}

fn write_and_commit(
    tmp_dir: &Path,
    tmp_info: &Path,
    final_dir: &Path,
    final_info: &Path,
    new: &NewVersion,
) -> Result<(), StorageError> {
    let io_err =
        |what: &str, p: &Path, e: io::Error| StorageError::io(format!("{what} {}", p.display()), e);
    std::fs::create_dir(tmp_dir).map_err(|e| io_err("creating", tmp_dir, e))?;
    write_synced(&tmp_dir.join("go.mod"), &new.go_mod)?;
    place_zip(&new.zip, &tmp_dir.join("source.zip"))?;
    sync_dir(tmp_dir)?;
    write_synced(tmp_info, &new.info)?;

    let parent = final_dir.parent().unwrap_or(final_dir);
    std::fs::create_dir_all(parent).map_err(|e| io_err("creating", parent, e))?;
    match std::fs::rename(tmp_dir, final_dir) {
        Ok(()) => {}
        Err(e) if is_dir_occupied(&e) => {
            if final_info.exists() {
                return Err(StorageError::already_exists("version is already stored"));
            }
            // A partial version left by a crash or by a non-atomic writer: it
            // is not present, so its members may be replaced before the marker
            // goes in.
            debug!(dir = %final_dir.display(), "completing a partial version directory");
            for name in ["go.mod", "source.zip"] {
                let from = tmp_dir.join(name);
                let to = final_dir.join(name);
                std::fs::rename(&from, &to).map_err(|e| io_err("moving into", &to, e))?;
            }
        }
        Err(e) => return Err(io_err("moving into place", final_dir, e)),
    }
    sync_dir(final_dir)?;
    sync_dir(parent)?;
    // The commit: hard_link fails if the marker exists, so two writers can
    // never both believe they stored the version.
    match std::fs::hard_link(tmp_info, final_info) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(StorageError::already_exists("version is already stored"));
        }
        Err(e) => return Err(io_err("committing", final_info, e)),
    }
    sync_dir(final_dir)
}

/// Number of lock files writers are spread over; versions that share one only
/// wait for each other's (short) commit, never for a download.
const LOCK_BUCKETS: u64 = 1024;

fn lock_version(tmp_root: &Path, final_dir: &Path) -> Result<std::fs::File, StorageError> {
    use std::hash::{Hash, Hasher};
    let locks = tmp_root.join("locks");
    std::fs::create_dir_all(&locks)
        .map_err(|e| StorageError::io(format!("creating {}", locks.display()), e))?;
    // Stable across processes and builds, unlike std's RandomState.
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    final_dir.hash(&mut h);
    let path = locks.join(format!("{:04}.lock", h.finish() % LOCK_BUCKETS));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StorageError::io(format!("opening {}", path.display()), e))?;
    file.lock()
        .map_err(|e| StorageError::io(format!("locking {}", path.display()), e))?;
    Ok(file)
}

/// FNV-1a, for a lock bucket that every process computes alike.
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Writes the blob to a private temporary file, then links it into place:
/// `link` fails when the name is taken, so a blob is created whole or not
/// at all, and never replaced, by this process or another on the tree.
fn put_blob_blocking(root: &Path, key: &str, data: &[u8]) -> Result<(), StorageError> {
    let final_path = root.join(crate::BLOB_PREFIX).join(key);
    if let Some(dir) = final_path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::io(format!("creating {}", dir.display()), e))?;
    }
    let tmp_root = root.join(TMP_DIR);
    std::fs::create_dir_all(&tmp_root)
        .map_err(|e| StorageError::io(format!("creating {}", tmp_root.display()), e))?;
    let tmp = tmp_root.join(format!(
        "blob-{}-{}",
        std::process::id(),
        TMP_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_synced(&tmp, data).and_then(|()| {
        std::fs::hard_link(&tmp, &final_path).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                StorageError::already_exists(format!("blob {key}"))
            } else {
                StorageError::io(format!("linking {}", final_path.display()), e)
            }
        })
    });
    let _ = std::fs::remove_file(&tmp);
    if result.is_ok()
        && let Some(dir) = final_path.parent()
    {
        sync_dir(dir)?;
    }
    result
}

fn is_dir_occupied(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
    )
}

fn write_synced(path: &Path, data: &[u8]) -> Result<(), StorageError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)
        .map_err(|e| StorageError::io(format!("creating {}", path.display()), e))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| StorageError::io(format!("writing {}", path.display()), e))
}

fn place_zip(from: &Path, to: &Path) -> Result<(), StorageError> {
    // Copy rather than rename: the spool file belongs to the caller, which
    // may still need it (to retry, or to hand to another backend).
    let mut src = std::fs::File::open(from)
        .map_err(|e| StorageError::io(format!("opening {}", from.display()), e))?;
    let mut dst = std::fs::File::create(to)
        .map_err(|e| StorageError::io(format!("creating {}", to.display()), e))?;
    io::copy(&mut src, &mut dst)
        .and_then(|_| dst.sync_all())
        .map_err(|e| StorageError::io(format!("writing {}", to.display()), e))
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(format!("syncing {}", dir.display()), e))
}

/// What a zip read needs from the disk: the marker, then the file.
fn open_zip(dir: &Path, info: &Path, version: &Version) -> Result<ZipObject, StorageError> {
    marker_present(info, version)?;
    let path = dir.join("source.zip");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StorageError::corrupt(format!(
                "source.zip is missing from complete version {}",
                dir.display()
            )));
        }
        Err(e) => return Err(StorageError::io(format!("opening {}", dir.display()), e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| StorageError::io(format!("opening {}", dir.display()), e))?;
    let size = meta.len();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let tag = format!("{mtime:x}-{size:x}");
    let file = Arc::new(file);
    if size <= CHUNK as u64 {
        let bytes = read_chunk_at(&file, 0, size as usize)
            .map_err(|e| StorageError::io(format!("reading {}", path.display()), e))?;
        return Ok(ZipObject::whole(tag, bytes).with_file(file));
    }
    Ok(ZipObject::new(size, tag, Box::new(FileZip { file: file.clone() })).with_file(file))
}

/// Whether a failed look-up means "not there". A module path can run through
/// a stored version's files (`rsc.io/quote/v1.5.2/go.mod` as a module when
/// v1.5.2 is stored), which the file system answers with ENOTDIR: that is
/// absence too, not a broken disk.
fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Checks the commit marker without leaving the blocking thread.
fn marker_present(info: &Path, version: &Version) -> Result<(), StorageError> {
    match std::fs::metadata(info) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(StorageError::corrupt(format!(
            "{} is not a file",
            info.display()
        ))),
        Err(e) if is_absent(&e) => Err(StorageError::not_found(format!(
            "{}: not stored",
            version.as_str()
        ))),
        Err(e) => Err(StorageError::io(format!("checking {}", info.display()), e)),
    }
}

/// Reads exactly `len` bytes from the handle's position into a pooled
/// buffer. `read_to_end` fills spare capacity directly, so the buffer is never
/// zeroed first: at gigabytes per second that memset would cost as much as
/// the read.
/// A stored zip's open file, shared with the [`ZipObject`] (for `sendfile`),
/// hence read at explicit offsets rather than through its cursor.
struct FileZip {
    file: Arc<std::fs::File>,
}

#[async_trait]
impl ZipSource for FileZip {
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError> {
        // Blocking reads on the blocking pool, one chunk at a time, so at
        // most one chunk per download is in memory.
        let state = Some((self.file, range.start, range.end));
        let s = stream::unfold(state, |state| async move {
            let (file, offset, end) = state?;
            if offset >= end {
                return None;
            }
            let want = (end - offset).min(CHUNK as u64) as usize;
            let res = tokio::task::spawn_blocking(move || {
                let chunk = read_chunk_at(&file, offset, want)?;
                Ok::<_, io::Error>((file, chunk))
            })
            .await;
            match res {
                Ok(Ok((file, chunk))) => {
                    let next = offset + chunk.len() as u64;
                    Some((Ok(chunk), Some((file, next, end))))
                }
                Ok(Err(e)) => Some((Err(e), None)),
                Err(e) => Some((Err(io::Error::other(e)), None)),
            }
        });
        Ok(Box::pin(s))
    }
}

fn read_chunk_at(file: &std::fs::File, offset: u64, len: usize) -> io::Result<Bytes> {
    use std::os::unix::fs::FileExt;
    let mut buf = take_buffer();
    if let Err(e) = file.read_exact_at(&mut buf[..len], offset) {
        return Err(if e.kind() == io::ErrorKind::UnexpectedEof {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "zip is shorter than its recorded size",
            )
        } else {
            e
        });
    }
    Ok(Bytes::from_owner(PooledChunk { buf, len }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module path that runs through a stored version's files is absent,
    /// not a disk failure (the file system says ENOTDIR).
    #[tokio::test]
    async fn a_path_through_a_stored_file_is_absent() {
        let root = tempfile::tempdir().unwrap();
        let storage = DiskStorage::open(root.path()).unwrap();
        let stored = ModulePath::new("rsc.io/quote").unwrap();
        let v152 = Version::from_trusted("v1.5.2");
        let zip = root.path().join("spool.zip");
        std::fs::write(&zip, b"zip bytes").unwrap();
        storage
            .put(
                &stored,
                &v152,
                NewVersion {
                    info: Bytes::from_static(br#"{"Version":"v1.5.2"}"#),
                    go_mod: Bytes::from_static(b"module rsc.io/quote\n"),
                    zip,
                },
            )
            .await
            .unwrap();
        let through = ModulePath::new("rsc.io/quote/v1.5.2/go.mod").unwrap();
        let v = Version::from_trusted("v1.0.0");
        assert!(!storage.exists(&through, &v).await.unwrap());
        assert!(storage.list(&through).await.unwrap().is_empty());
        for err in [
            storage.zip(&through, &v).await.err().unwrap(),
            storage.info(&through, &v).await.unwrap_err(),
            storage.go_mod(&through, &v).await.unwrap_err(),
        ] {
            assert!(err.is_not_found(), "{err}");
        }
    }
}
