//! Module zips by the `golang.org/x/mod/zip` `Create` rules as
//! `coderepo.go`'s `Zip` feeds them, from one of two inputs:
//!
//! * [`build`]: the zip `git archive --prefix=prefix/` wrote to a temporary
//!   file (names lose the top-level prefix; directory entries are skipped);
//! * [`build_from_tree`]: a `git ls-tree -r` listing and blobs streamed from
//!   `git cat-file --batch`, reusing the deflated blobs of the module's
//!   previous zip (the zip cache), for trees where no attributes change what
//!   `git archive` would write.
//!
//! Either way names lose the module's subdirectory, and a module in a
//! subdirectory without its own `LICENSE` gets the repository root's. Then
//! every file is classified exactly in `checkFiles` order: not clean or not
//! relative (invalid), vendored (omitted, by the pre-1.24 or 1.24 rule
//! depending on the root go.mod's `go` directive), inside a nested module,
//! i.e. a directory holding a regular file whose name folds to `go.mod`
//! (omitted), `.hg_archival.txt` (omitted), `CheckFilePath` (invalid), root
//! `GO.MOD`-like names (invalid), case-fold collisions (invalid), symlinks
//! and other irregular files (omitted), size limits (invalid). Any invalid
//! file fails the whole zip.
//!
//! The output is streamed: each valid file is copied (and hashed for the
//! `h1:`) one at a time into the destination writer, which need not be
//! seekable; nothing is held whole in memory.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use agora_core::dirhash::Hash1;
use agora_core::fold::fold_key;
use agora_core::zipcheck::{MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::git::{BlobReader, TreeEntry};
use crate::{Error, Result, modfile};

/// What a built module zip contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipSummary {
    /// The zip's `h1:` hash (what `go mod download -json` reports as `Sum`).
    pub h1: String,
    /// The file names in the zip, without the `module@version/` prefix, in
    /// zip order.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Regular,
    Symlink,
    Irregular,
}

#[derive(Debug)]
enum Source {
    /// An entry of the `git archive` zip, by index.
    Archive(usize),
    /// The root LICENSE, read separately.
    Data,
    /// A git blob, by object id.
    Blob(String),
}

#[derive(Debug)]
struct Entry {
    name: String,
    source: Source,
    size: u64,
    kind: Kind,
}

/// Builds the zip of module `module` at `version` into `dest` from the
/// `git archive` zip in `archive`. `subdir` is the module's directory in the
/// repository (`""` at the root); `root_license` is asked for the root
/// `LICENSE` only when needed.
pub(crate) fn build<W: Write>(
    archive: &File,
    subdir: &str,
    module: &str,
    version: &str,
    root_license: &mut dyn FnMut() -> Result<Option<Vec<u8>>>,
    dest: W,
) -> Result<ZipSummary> {
    check_module_version(module, version)?;
    let mut zr = zip::ZipArchive::new(BufReader::new(archive.try_clone()?))
        .map_err(|e| Error::Invalid(format!("reading git archive: {e}")))?;
    let subdir = subdir.trim_matches('/');
    let sub_prefix = if subdir.is_empty() {
        String::new()
    } else {
        format!("{subdir}/")
    };

    let mut entries = Vec::new();
    let mut top_prefix: Option<String> = None;
    let mut have_license = false;
    for i in 0..zr.len() {
        let e = zr
            .by_index_raw(i)
            .map_err(|e| Error::Invalid(format!("reading git archive: {e}")))?;
        // Names that are not UTF-8 would fail CheckFilePath anyway; keep them
        // visible (lossily) so the error names the file.
        let full = String::from_utf8_lossy(e.name_raw()).into_owned();
        let top = match &top_prefix {
            Some(t) => t.clone(),
            None => {
                let Some(slash) = full.find('/') else {
                    return Err(Error::Invalid("missing top-level directory prefix".into()));
                };
                let t = full[..=slash].to_owned();
                top_prefix = Some(t.clone());
                t
            }
        };
        let Some(name) = full.strip_prefix(&top) else {
            return Err(Error::Invalid(
                "zip file contains more than one top-level directory".into(),
            ));
        };
        let Some(name) = name.strip_prefix(&sub_prefix) else {
            continue;
        };
        if name.is_empty() || name.ends_with('/') {
            continue;
        }
        let kind = match e.unix_mode().map(|m| m & 0o170_000) {
            _ if e.is_dir() => Kind::Irregular,
            Some(0o120_000) => Kind::Symlink,
            None | Some(0o100_000) | Some(0) => Kind::Regular,
            Some(_) => Kind::Irregular,
        };
        if name == "LICENSE" {
            have_license = true;
        }
        entries.push(Entry {
            name: name.to_owned(),
            source: Source::Archive(i),
            size: e.size(),
            kind,
        });
    }
    let mut license_data = None;
    if !have_license
        && !subdir.is_empty()
        && let Some(data) = root_license()?
    {
        entries.push(Entry {
            name: "LICENSE".into(),
            source: Source::Data,
            size: data.len() as u64,
            kind: Kind::Regular,
        });
        license_data = Some(data);
    }

    let valid = check_files(&entries, &mut |e| {
        let Source::Archive(idx) = e.source else {
            return None;
        };
        let f = zr.by_index(idx).ok()?;
        let mut data = Vec::new();
        // Bounded: a larger go.mod is refused by check_files anyway.
        f.take(MAX_GO_MOD + 1).read_to_end(&mut data).ok()?;
        Some(data)
    })?;

    // Write the module zip, hashing as we go.
    let prefix = format!("{module}@{version}/");
    let mut zw = zip::ZipWriter::new_stream(dest);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut hash = Hash1::new();
    let mut files = Vec::with_capacity(valid.len());
    let mut buf = vec![0u8; 64 * 1024];
    for &i in &valid {
        let entry = &entries[i];
        let full = format!("{prefix}{}", entry.name);
        zw.start_file(full.as_str(), options).map_err(zip_write)?;
        let mut sha = Sha256::new();
        let mut copy = |r: &mut dyn Read| -> Result<u64> {
            let mut n = 0u64;
            loop {
                let k = r.read(&mut buf)?;
                if k == 0 {
                    return Ok(n);
                }
                n += k as u64;
                if n > entry.size {
                    return Err(Error::Invalid(format!(
                        "file {:?} is larger than declared size",
                        entry.name
                    )));
                }
                sha.update(&buf[..k]);
                zw.write_all(&buf[..k])?;
            }
        };
        match &entry.source {
            Source::Archive(idx) => {
                let mut f = zr
                    .by_index(*idx)
                    .map_err(|e| Error::Invalid(format!("reading git archive: {e}")))?;
                copy(&mut f)?;
            }
            Source::Data | Source::Blob(_) => {
                let data = license_data.as_deref().unwrap_or_default();
                copy(&mut io::Cursor::new(data))?;
            }
        }
        hash.add(&full, sha.finalize().into());
        files.push(entry.name.clone());
    }
    zw.finish().map_err(zip_write)?;
    let h1 = hash
        .finish()
        .map_err(|e| Error::Invalid(format!("hashing module zip: {e}")))?;
    Ok(ZipSummary { h1, files })
}

/// x/mod/zip `Create` checks the module version pair before anything else.
fn check_module_version(module: &str, version: &str) -> Result<()> {
    let canonical = agora_core::path::canonical_version(version);
    if canonical != version {
        return Err(Error::Invalid(format!(
            "create zip: version {version:?} is not canonical (should be {canonical:?})"
        )));
    }
    agora_core::path::check(module, version).map_err(|e| Error::Invalid(format!("create zip: {e}")))
}

/// Builds the zip of `module` at `version` into `dest` from the tree listing
/// `tree` (which holds everything under `subdir`, and the root `LICENSE` if
/// there is one), reading blobs through `blobs`: the same files, checks and
/// `h1:` as [`build`] from a `git archive` of the same tree, for trees where
/// the archive's content is the blobs' (no attributes in play; the caller
/// decides).
///
/// Files are deflated once per blob, not once per version: `cache` is a zip
/// of deflated blobs named by object id, with an `index` entry of
/// `<object id> <sha256>` lines, kept per module. Blobs it holds are copied
/// raw, compressed bytes and all; the others are read and deflated. While
/// at most an eighth of a version's bytes are new, those go straight into
/// the module zip and the cache stays as it is; otherwise a new cache of
/// this version's blobs replaces it and the module zip is assembled by raw
/// copies out of it. The content hashes come from the bytes as they were
/// deflated, and a cache file is used only if its whole-file checksum (in
/// its name, see [`CacheSlot`]) still holds, so the `h1:` returned is the
/// zip's without inflating it again.
pub(crate) fn build_from_tree<W: Write>(
    tree: &[TreeEntry],
    subdir: &str,
    module: &str,
    version: &str,
    blobs: &mut BlobReader,
    cache: &CacheSlot,
    dest: W,
) -> Result<ZipSummary> {
    check_module_version(module, version)?;
    let start = std::time::Instant::now();
    let subdir = subdir.trim_matches('/');
    let sub_prefix = if subdir.is_empty() {
        String::new()
    } else {
        format!("{subdir}/")
    };
    let mut entries = Vec::new();
    let mut have_license = false;
    let mut root_license = None;
    for t in tree {
        if !subdir.is_empty() && t.path == "LICENSE" && t.blob {
            root_license = Some(t);
        }
        let Some(name) = t.path.strip_prefix(&sub_prefix) else {
            continue;
        };
        // A submodule is a directory entry in the archive, and skipped.
        if !t.blob || name.is_empty() {
            continue;
        }
        let kind = match t.mode & 0o170_000 {
            0o100_000 => Kind::Regular,
            0o120_000 => Kind::Symlink,
            _ => Kind::Irregular,
        };
        if name == "LICENSE" {
            have_license = true;
        }
        entries.push(Entry {
            name: name.to_owned(),
            source: Source::Blob(t.object.clone()),
            size: t.size,
            kind,
        });
    }
    if !have_license && let Some(t) = root_license {
        if t.size > MAX_LICENSE {
            // What checkFiles says about the oversized file go would add.
            return Err(Error::Invalid(format!(
                "create zip: LICENSE: LICENSE file too large (max size is {MAX_LICENSE} bytes)"
            )));
        }
        entries.push(Entry {
            name: "LICENSE".into(),
            source: Source::Blob(t.object.clone()),
            size: t.size,
            kind: Kind::Regular,
        });
    }
    let valid = check_files(&entries, &mut |e| {
        let Source::Blob(object) = &e.source else {
            return None;
        };
        let mut data = Vec::new();
        blobs
            .read(object, &mut |chunk| {
                // Bounded: a larger go.mod is refused by check_files anyway.
                let room = (MAX_GO_MOD as usize + 1).saturating_sub(data.len());
                data.extend_from_slice(&chunk[..chunk.len().min(room)]);
                Ok(())
            })
            .ok()?;
        Some(data)
    })?;

    let checked = start.elapsed();
    let mut old = BlobCache::open(cache);
    let opened = start.elapsed();

    // The cache is content-addressed, so it stays good for later versions
    // while they share most of their bytes with it: then the few new blobs
    // are deflated straight into the module zip and the cache is left as it
    // is. Once an eighth of the bytes are new, it is rebuilt from this
    // version.
    if let Some(old) = old.as_mut() {
        let (mut total, mut new) = (0u64, 0u64);
        for &i in &valid {
            if let Source::Blob(object) = &entries[i].source {
                total += entries[i].size;
                if !old.index.contains_key(object) {
                    new += entries[i].size;
                }
            }
        }
        if new <= total / 8 {
            let summary = zip_with_cache(
                &entries,
                &valid,
                old,
                blobs,
                &prefix_of(module, version),
                dest,
            )?;
            tracing::debug!(
                %module, %version, blobs = valid.len(), new_bytes = new, ?checked, ?opened,
                elapsed = ?start.elapsed(), "module zip built from the tree and the zip cache"
            );
            return Ok(summary);
        }
    }

    // The new cache: every blob of this version, deflated once.
    let mut reused = 0usize;
    std::fs::create_dir_all(&cache.dir)?;
    let spool = tempfile::NamedTempFile::new_in(&cache.dir)?;
    let mut shas: HashMap<&str, [u8; 32]> = HashMap::new();
    let cache_crc = {
        // Streamed (no seeking back), so the checksum of what was written is
        // the file's.
        let mut zw = zip::ZipWriter::new_stream(CrcWriter {
            inner: io::BufWriter::with_capacity(1 << 20, spool.as_file()),
            crc: crc32fast::Hasher::new(),
        });
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        let mut old = old;
        for &i in &valid {
            let Source::Blob(object) = &entries[i].source else {
                continue;
            };
            if shas.contains_key(object.as_str()) {
                continue;
            }
            if let Some(old) = old.as_mut()
                && let Some(&(idx, sha)) = old.index.get(object)
            {
                let f = old.zip.by_index_raw(idx).map_err(zip_write)?;
                zw.raw_copy_file_rename(f, object).map_err(zip_write)?;
                shas.insert(object, sha);
                reused += 1;
                continue;
            }
            zw.start_file(object.as_str(), options).map_err(zip_write)?;
            let mut sha = Sha256::new();
            let n = blobs.read(object, &mut |chunk| {
                sha.update(chunk);
                zw.write_all(chunk)?;
                Ok(())
            })?;
            if n != entries[i].size {
                return Err(Error::Invalid(format!(
                    "file {:?} is not its declared size",
                    entries[i].name
                )));
            }
            shas.insert(object, sha.finalize().into());
        }
        let mut index = String::with_capacity(shas.len() * 106);
        for (object, sha) in &shas {
            index.push_str(object);
            index.push(' ');
            for b in sha {
                index.push_str(&format!("{b:02x}"));
            }
            index.push('\n');
        }
        zw.start_file(CACHE_INDEX, options).map_err(zip_write)?;
        zw.write_all(index.as_bytes())?;
        let mut w = zw.finish().map_err(zip_write)?.into_inner();
        w.inner.flush()?;
        w.crc.finalize()
    };
    let cached = start.elapsed();
    let mut new = zip::ZipArchive::new(BufReader::new(spool.reopen()?))
        .map_err(|e| Error::Invalid(format!("reading the zip cache back: {e}")))?;

    // The module zip, hashing as we go (the hashes are the cache's).
    let prefix = prefix_of(module, version);
    let mut zw = zip::ZipWriter::new_stream(dest);
    let mut hash = Hash1::new();
    let mut files = Vec::with_capacity(valid.len());
    for &i in &valid {
        let entry = &entries[i];
        let Source::Blob(object) = &entry.source else {
            continue;
        };
        let (Some(idx), Some(sha)) = (new.index_for_name(object), shas.get(object.as_str())) else {
            return Err(Error::Invalid(format!("zip cache lost {object}")));
        };
        let full = format!("{prefix}{}", entry.name);
        let f = new.by_index_raw(idx).map_err(zip_write)?;
        zw.raw_copy_file_rename(f, &full).map_err(zip_write)?;
        hash.add(&full, *sha);
        files.push(entry.name.clone());
    }
    zw.finish().map_err(zip_write)?;
    let h1 = hash
        .finish()
        .map_err(|e| Error::Invalid(format!("hashing module zip: {e}")))?;
    // Only a complete cache replaces the old one; losing it costs speed only.
    let written = start.elapsed();
    let path = cache.file(cache_crc);
    match spool.persist(&path) {
        Ok(_) => cache.remove_others(&path),
        Err(e) => tracing::debug!(error = %e, cache = %path.display(), "zip cache not kept"),
    }
    tracing::debug!(
        %module, %version, blobs = shas.len(), reused, ?checked, ?opened, ?cached, ?written,
        elapsed = ?start.elapsed(), "module zip built from the tree"
    );
    Ok(ZipSummary { h1, files })
}

fn prefix_of(module: &str, version: &str) -> String {
    format!("{module}@{version}/")
}

/// The module zip of the `valid` entries: blobs the cache holds are copied
/// from it raw, the others read and deflated.
fn zip_with_cache<W: Write>(
    entries: &[Entry],
    valid: &[usize],
    cache: &mut BlobCache,
    blobs: &mut BlobReader,
    prefix: &str,
    dest: W,
) -> Result<ZipSummary> {
    let mut zw = zip::ZipWriter::new_stream(dest);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut hash = Hash1::new();
    let mut files = Vec::with_capacity(valid.len());
    for &i in valid {
        let entry = &entries[i];
        let Source::Blob(object) = &entry.source else {
            continue;
        };
        let full = format!("{prefix}{}", entry.name);
        if let Some(&(idx, sha)) = cache.index.get(object) {
            let f = cache.zip.by_index_raw(idx).map_err(zip_write)?;
            zw.raw_copy_file_rename(f, &full).map_err(zip_write)?;
            hash.add(&full, sha);
        } else {
            zw.start_file(full.as_str(), options).map_err(zip_write)?;
            let mut sha = Sha256::new();
            let n = blobs.read(object, &mut |chunk| {
                sha.update(chunk);
                zw.write_all(chunk)?;
                Ok(())
            })?;
            if n != entry.size {
                return Err(Error::Invalid(format!(
                    "file {:?} is not its declared size",
                    entry.name
                )));
            }
            hash.add(&full, sha.finalize().into());
        }
        files.push(entry.name.clone());
    }
    zw.finish().map_err(zip_write)?;
    let h1 = hash
        .finish()
        .map_err(|e| Error::Invalid(format!("hashing module zip: {e}")))?;
    Ok(ZipSummary { h1, files })
}

/// Name of the cache entry that maps object ids to content hashes.
const CACHE_INDEX: &str = "index";

/// Where a module's zip cache lives: `<dir>/<key>.<crc32>.zip`, the
/// checksum of the whole file in its name, so that a file damaged at rest
/// is never used (its blobs would go into zips unread).
#[derive(Debug, Clone)]
pub(crate) struct CacheSlot {
    pub dir: std::path::PathBuf,
    pub key: String,
}

impl CacheSlot {
    fn file(&self, crc: u32) -> std::path::PathBuf {
        self.dir.join(format!("{}.{crc:08x}.zip", self.key))
    }

    /// The cache files of this slot with the checksums their names give.
    fn files(&self) -> Vec<(std::path::PathBuf, u32)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let prefix = format!("{}.", self.key);
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let crc = name.strip_prefix(&prefix)?.strip_suffix(".zip")?;
                let crc = u32::from_str_radix(crc, 16).ok()?;
                Some((e.path(), crc))
            })
            .collect()
    }

    fn remove_others(&self, keep: &Path) {
        for (path, _) in self.files() {
            if path != keep {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// A `Write` that checksums what passes through it.
struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A module's zip cache (see [`build_from_tree`]), opened for reading.
struct BlobCache {
    zip: zip::ZipArchive<BufReader<File>>,
    /// Object id to (entry index, sha256 of the content).
    index: HashMap<String, (usize, [u8; 32])>,
}

impl BlobCache {
    /// The cache of `slot`, or `None` when there is none that reads back
    /// whole (then every blob is read and deflated again). A file whose
    /// checksum is wrong is removed.
    fn open(slot: &CacheSlot) -> Option<BlobCache> {
        for (path, crc) in slot.files() {
            match Self::open_file(&path, crc) {
                Some(cache) => return Some(cache),
                None => {
                    tracing::warn!(cache = %path.display(), "zip cache damaged; removed");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        None
    }

    fn open_file(path: &Path, crc: u32) -> Option<BlobCache> {
        let mut file = File::open(path).ok()?;
        let mut hasher = crc32fast::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        if hasher.finalize() != crc {
            return None;
        }
        let mut zip = zip::ZipArchive::new(BufReader::new(file)).ok()?;
        let mut text = String::new();
        // Bounded: an index line is 106 bytes, and a module has at most a
        // few hundred thousand files.
        zip.by_name(CACHE_INDEX)
            .ok()?
            .take(256 << 20)
            .read_to_string(&mut text)
            .ok()?;
        let mut index = HashMap::new();
        for line in text.lines() {
            let (object, hex) = line.split_once(' ')?;
            let mut sha = [0u8; 32];
            if hex.len() != 64 {
                return None;
            }
            for (k, b) in sha.iter_mut().enumerate() {
                *b = u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok()?;
            }
            let idx = zip.index_for_name(object)?;
            index.insert(object.to_owned(), (idx, sha));
        }
        Some(BlobCache { zip, index })
    }
}

fn zip_write(e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(e) => Error::Io(e),
        e => Error::Invalid(format!("writing module zip: {e}")),
    }
}

/// x/mod/zip `checkFiles`: the indexes of the valid entries, in order, or
/// the list of invalid files.
fn check_files(
    entries: &[Entry],
    read_go_mod: &mut dyn FnMut(&Entry) -> Option<Vec<u8>>,
) -> Result<Vec<usize>> {
    // Directories holding a go.mod (any case) other than the root, and the
    // root go.mod's language version.
    let mut have_go_mod: HashSet<&str> = HashSet::new();
    let mut lang: Option<(u64, u64)> = None;
    for e in entries {
        let (dir, base) = split(&e.name);
        if base.eq_ignore_ascii_case("go.mod") {
            if e.kind != Kind::Regular {
                continue;
            }
            have_go_mod.insert(dir);
            if e.name == "go.mod"
                && let Some(data) = read_go_mod(e)
            {
                lang = modfile::go_lang(&data);
            }
        }
    }
    let go124 = lang.is_some_and(|v| v >= (1, 24));
    let in_submodule = |p: &str| {
        let mut p = p;
        loop {
            let (dir, _) = split(p);
            if dir.is_empty() {
                return false;
            }
            if have_go_mod.contains(dir) {
                return true;
            }
            p = &dir[..dir.len() - 1];
        }
    };

    let mut invalid: Vec<String> = Vec::new();
    let mut seen_err: HashSet<String> = HashSet::new();
    let mut add_invalid = |p: &str, msg: String| {
        if seen_err.insert(p.to_owned()) {
            invalid.push(format!("{p}: {msg}"));
        }
    };
    let mut collisions = Collisions::default();
    let mut remaining = MAX_ZIP_FILE;
    let mut size_error = None;
    let mut valid = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let p = e.name.as_str();
        if !is_clean(p) {
            add_invalid(p, "file path is not clean".into());
            continue;
        }
        if p.starts_with('/') {
            add_invalid(p, "file path is not relative".into());
            continue;
        }
        if is_vendored(p, go124) || in_submodule(p) || p == ".hg_archival.txt" {
            continue;
        }
        if let Err(err) = agora_core::path::check_file_path(p) {
            add_invalid(p, err.to_string());
            continue;
        }
        if p.to_lowercase() == "go.mod" && p != "go.mod" {
            add_invalid(p, "go.mod files must have lowercase names".into());
            continue;
        }
        if let Err(msg) = collisions.check(p, false) {
            add_invalid(p, msg);
            continue;
        }
        if e.kind != Kind::Regular {
            continue;
        }
        if e.size <= remaining {
            remaining -= e.size;
        } else if size_error.is_none() {
            size_error = Some(format!(
                "module source tree too large (max size is {MAX_ZIP_FILE} bytes)"
            ));
        }
        if p == "go.mod" && e.size > MAX_GO_MOD {
            add_invalid(
                p,
                format!("go.mod file too large (max size is {MAX_GO_MOD} bytes)"),
            );
            continue;
        }
        if p == "LICENSE" && e.size > MAX_LICENSE {
            add_invalid(
                p,
                format!("LICENSE file too large (max size is {MAX_LICENSE} bytes)"),
            );
            continue;
        }
        valid.push(i);
    }
    if let Some(msg) = size_error {
        return Err(Error::Invalid(format!("create zip: {msg}")));
    }
    if !invalid.is_empty() {
        return Err(Error::Invalid(format!(
            "create zip: {}",
            invalid.join("; ")
        )));
    }
    Ok(valid)
}

/// `path.Split`: the directory including its trailing slash, and the base.
fn split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p),
    }
}

/// Whether `path.Clean(p) == p`.
fn is_clean(p: &str) -> bool {
    if p.is_empty() {
        return false;
    }
    if p == "/" {
        return true;
    }
    let rooted = p.starts_with('/');
    let body = if rooted { &p[1..] } else { p };
    let mut seen_name = false;
    for el in body.split('/') {
        match el {
            "" | "." => return p == ".",
            ".." if rooted || seen_name => return false,
            ".." => {}
            _ => seen_name = true,
        }
    }
    true
}

/// x/mod/zip `isVendoredPackage`, with its pre-Go 1.24 quirk kept so old
/// hashes stay stable.
fn is_vendored(name: &str, go124: bool) -> bool {
    if go124 && name == "vendor/modules.txt" {
        return true;
    }
    let start = if name.starts_with("vendor/") {
        "vendor/".len()
    } else if let Some(j) = name.find("/vendor/") {
        if go124 {
            j + "/vendor/".len()
        } else {
            // The historic bug (golang.org/issue/37397): the offset ignores j.
            "/vendor/".len()
        }
    } else {
        return false;
    };
    name.get(start..).is_some_and(|rest| rest.contains('/'))
}

/// x/mod/zip's `collisionChecker`: paths and their parent directories under
/// Unicode simple case folding.
#[derive(Default)]
struct Collisions {
    seen: HashMap<String, (String, bool)>,
}

impl Collisions {
    fn check(&mut self, p: &str, is_dir: bool) -> std::result::Result<(), String> {
        let fold = fold_key(p);
        if let Some((other, other_dir)) = self.seen.get(&fold) {
            if p != other {
                return Err(format!(
                    "case-insensitive file name collision: {other:?} and {p:?}"
                ));
            }
            if is_dir != *other_dir {
                return Err(format!("entry {p:?} is both a file and a directory"));
            }
            if !is_dir {
                return Err(format!("multiple entries for file {p:?}"));
            }
        } else {
            self.seen.insert(fold, (p.to_owned(), is_dir));
        }
        match p.rfind('/') {
            Some(i) => self.check(&p[..i], true),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored() {
        // Old rule: offset 8 regardless of where /vendor/ is.
        assert!(is_vendored("vendor/a/b.go", false));
        assert!(!is_vendored("vendor/modules.txt", false));
        assert!(is_vendored("vendor/modules.txt", true));
        assert!(!is_vendored("vendor/x.go", true));
        assert!(is_vendored("x/vendor/a/b.go", true));
        assert!(!is_vendored("x/vendor/b.go", true));
        // "pkg/vendor/vendor.go": old rule looks at "dor/vendor.go" → vendored.
        assert!(is_vendored("pkg/vendor/vendor.go", false));
        assert!(!is_vendored("pkg/vendor/vendor.go", true));
        assert!(!is_vendored("a.go", false));
    }

    #[test]
    fn clean_paths() {
        assert!(is_clean("a/b"));
        assert!(is_clean("../a"));
        assert!(!is_clean("a/../b"));
        assert!(!is_clean("a//b"));
        assert!(!is_clean("./a"));
        assert!(!is_clean("a/"));
        assert!(!is_clean(""));
    }

    /// Size rules without writing half a gigabyte: entries only declare
    /// their sizes to `check_files`.
    #[test]
    fn size_limits() {
        let entry = |name: &str, size: u64| Entry {
            name: name.into(),
            source: Source::Data,
            size,
            kind: Kind::Regular,
        };
        let mut no_go_mod = |_: &Entry| None;
        let half = MAX_ZIP_FILE / 2;
        let ok = vec![entry("a", half), entry("b", half)];
        assert_eq!(check_files(&ok, &mut no_go_mod).unwrap(), [0, 1]);
        let big = vec![entry("a", half), entry("b", half), entry("c", 1)];
        let e = check_files(&big, &mut no_go_mod).unwrap_err().to_string();
        assert!(e.contains("module source tree too large"), "{e}");
        let e = check_files(&[entry("go.mod", MAX_GO_MOD + 1)], &mut no_go_mod)
            .unwrap_err()
            .to_string();
        assert!(e.contains("go.mod file too large"), "{e}");
        // Omitted files do not count.
        let vendored = vec![entry("vendor/x/y.go", MAX_ZIP_FILE + 1), entry("a", 1)];
        assert_eq!(check_files(&vendored, &mut no_go_mod).unwrap(), [1]);
    }

    #[test]
    fn collisions() {
        let mut c = Collisions::default();
        assert!(c.check("a/x.go", false).is_ok());
        assert!(c.check("A/y.go", false).is_err());
        assert!(c.check("a/z.go", false).is_ok());
        assert!(c.check("a/z.go", false).is_err());
        assert!(c.check("b", false).is_ok());
        assert!(c.check("b/c", false).is_err());
    }
}
