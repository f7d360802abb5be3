//! Validation of module zips received from upstream, as the go command does.
//!
//! This module owns [`check_zip_file`]: golang.org/x/mod/zip's `CheckZip`
//! (names, case-fold collisions, size limits) together with what the go
//! command's `dirhash.HashZip` and `Unzip` enforce while reading the content
//! (every entry decompresses to exactly its declared size with a good
//! CRC-32). A zip that passes is one the go command would accept and
//! extract; its `h1:` hash is computed on the way.
//!
//! The check runs in two steps over one open file. First the names and
//! declared sizes from the central directory, without reading any content,
//! exactly in `checkZip`'s order (so the reported reason is Go's first
//! one). Then each entry's content is streamed once through SHA-256 with a
//! fixed buffer; only the root `go.mod` (at most [`MAX_GO_MOD`] bytes) is
//! kept.
//!
//! Known divergences, all refusing zips the go command would take and that
//! the go command itself never writes: several entries with the same name
//! (Go allows a repeated directory entry; the `zip` crate keeps one entry
//! per name, so the repeats cannot be hashed as Go does), and entries with
//! an Info-ZIP Unicode Path extra field (the `zip` crate renames the entry
//! after it, Go does not).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;

use crate::dirhash::{self, Hash1, HashError};
use crate::fold::fold_key;

/// Largest module zip file, and largest total uncompressed size of its
/// files (x/mod/zip `MaxZipFile`).
pub const MAX_ZIP_FILE: u64 = 500 << 20;
/// Largest root `go.mod` in a module zip (x/mod/zip `MaxGoMod`).
pub const MAX_GO_MOD: u64 = 16 << 20;
/// Largest root `LICENSE` in a module zip (x/mod/zip `MaxLICENSE`).
pub const MAX_LICENSE: u64 = 16 << 20;

/// Why a module zip was refused.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// The zip (or the module path and version it was checked against)
    /// breaks a module zip rule; the text is one line naming the offending
    /// entry, fit to show to a client.
    #[error("{0}")]
    Invalid(String),
    /// Reading the file failed for reasons that say nothing about its content.
    #[error("reading zip: {0}")]
    Io(#[from] std::io::Error),
}

/// What a successful [`check_zip_file`] learned about the zip.
#[derive(Debug, Clone)]
pub struct CheckedZip {
    /// The bytes of the root `go.mod` (`<module>@<version>/go.mod`), if the
    /// zip has one.
    pub go_mod: Option<Vec<u8>>,
    /// The `h1:` hash of the zip (`dirhash.HashZip`), for go.sum and sumdb.
    pub h1: String,
    /// The size of the zip file in bytes.
    pub size: u64,
}

/// Checks a module zip for `module@version` as the go command does before it
/// accepts one from a proxy, and computes its `h1:` hash.
///
/// `module` is the decoded module path (no `!` escaping), `version` must be
/// canonical. See the module documentation for what is checked.
pub fn check_zip_file(zip: &Path, module: &str, version: &str) -> Result<CheckedZip, ZipError> {
    let (mut archive, size, prefix) = open_checked(zip, module, version)?;

    // Content: hash every entry (Go's HashZip covers all of them, directory
    // entries included), keeping the root go.mod. Inflating dominates the
    // time, so a large zip is split into contiguous runs of entries hashed
    // on separate threads, each with its own reader; the first failing
    // entry in zip order is the one reported, as with one thread.
    let go_mod_name = format!("{prefix}go.mod");
    let n = archive.len();
    let workers = if size >= PARALLEL_MIN_SIZE {
        std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .clamp(1, MAX_WORKERS)
            .min(n.max(1))
    } else {
        1
    };
    let run = n.div_ceil(workers.max(1));
    let results: Vec<Result<Hashed, ZipError>> = if workers <= 1 {
        vec![hash_run(&mut archive, 0..n, &go_mod_name)]
    } else {
        std::thread::scope(|s| {
            let others: Vec<_> = (1..workers)
                .map(|w| {
                    let range = (w * run).min(n)..((w + 1) * run).min(n);
                    let name = go_mod_name.as_str();
                    s.spawn(move || {
                        let file = File::open(zip)?;
                        let mut archive = zip::ZipArchive::new(BufReader::with_capacity(
                            dirhash::STREAM_BUF,
                            file,
                        ))
                        .map_err(|e| from_hash_error(dirhash::zip_error("", e)))?;
                        hash_run(&mut archive, range, name)
                    })
                })
                .collect();
            let mut results = vec![hash_run(&mut archive, 0..run.min(n), &go_mod_name)];
            for t in others {
                results.push(t.join().unwrap_or_else(|_| {
                    Err(ZipError::Io(io::Error::other(
                        "zip hashing thread panicked",
                    )))
                }));
            }
            results
        })
    };
    let mut go_mod = None;
    let mut h = Hash1::new();
    for r in results {
        let hashed = r?;
        for (name, sum) in hashed.files {
            h.add_bytes(&name, sum);
        }
        if hashed.go_mod.is_some() {
            go_mod = hashed.go_mod;
        }
    }
    let h1 = h.finish().map_err(from_hash_error)?;
    Ok(CheckedZip { go_mod, h1, size })
}

/// Everything [`check_zip_file`] checks except the content: the module
/// path and version, the size, and every rule on names and sizes read from
/// the central directory. For a zip whose content hashes are already known
/// because this process wrote them (a zip built from a repository, hashed as
/// it was written); returns the zip's size.
pub fn check_zip_layout(zip: &Path, module: &str, version: &str) -> Result<u64, ZipError> {
    open_checked(zip, module, version).map(|(_, size, _)| size)
}

type Archive = zip::ZipArchive<BufReader<File>>;

/// Opens `zip` after the module path, version and size checks, and checks
/// its names; returns the archive, its size and the `module@version/`
/// prefix.
fn open_checked(
    zip: &Path,
    module: &str,
    version: &str,
) -> Result<(Archive, u64, String), ZipError> {
    // Module path and version first, as checkZip does.
    let canonical = canonical_version(version);
    if canonical != version {
        return Err(ZipError::Invalid(format!(
            "version {version:?} is not canonical (should be {canonical:?})"
        )));
    }
    crate::path::check(module, version).map_err(|e| ZipError::Invalid(e.to_string()))?;

    let file = File::open(zip)?;
    let size = file.metadata()?.len();
    if size > MAX_ZIP_FILE {
        return Err(ZipError::Invalid(format!(
            "module zip file is too large ({size} bytes; limit is {MAX_ZIP_FILE} bytes)"
        )));
    }
    let archive = zip::ZipArchive::new(BufReader::with_capacity(dirhash::STREAM_BUF, file))
        .map_err(|e| from_hash_error(dirhash::zip_error("", e)))?;

    let prefix = format!("{module}@{version}/");
    check_names(&archive, &prefix)?;
    if archive.has_duplicate_names() {
        // Duplicate files were refused above only if they differ in case;
        // exact duplicates are invisible there because the zip crate keys
        // entries by name.
        return Err(ZipError::Invalid(
            "zip has several entries with the same name".to_owned(),
        ));
    }
    Ok((archive, size, prefix))
}

/// Zips at least this large are hashed on several threads.
const PARALLEL_MIN_SIZE: u64 = 4 << 20;
/// At most this many threads hash one zip.
const MAX_WORKERS: usize = 4;

/// What hashing a run of entries gave: (name, sha256) per entry, and the
/// root go.mod if it was among them.
struct Hashed {
    files: Vec<(Vec<u8>, [u8; 32])>,
    go_mod: Option<Vec<u8>>,
}

fn hash_run<R: io::Read + io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    range: std::ops::Range<usize>,
    go_mod_name: &str,
) -> Result<Hashed, ZipError> {
    let mut buf = vec![0u8; dirhash::STREAM_BUF];
    let mut out = Hashed {
        files: Vec::with_capacity(range.len()),
        go_mod: None,
    };
    for i in range {
        let is_go_mod = archive
            .by_index_data(i)
            .map(|e| e.name_raw() == go_mod_name.as_bytes())
            .unwrap_or(false);
        let (name, sum) = if is_go_mod {
            let mut data = Vec::new();
            let r = dirhash::hash_entry(archive, i, &mut buf, Some(&mut data));
            out.go_mod = Some(data);
            r
        } else {
            dirhash::hash_entry(archive, i, &mut buf, None)
        }
        .map_err(from_hash_error)?;
        out.files.push((name, sum));
    }
    Ok(out)
}

/// x/mod/zip `checkZip` over the central directory: every name has the
/// prefix and is a clean, valid file path; no collisions; go.mod only at the
/// root and lower case; size limits. Like Go it looks at every entry and
/// prefers a size error over the first invalid file.
fn check_names<R: io::Read + io::Seek>(
    archive: &zip::ZipArchive<R>,
    prefix: &str,
) -> Result<(), ZipError> {
    // Go lists every invalid entry; one line is enough here, so keep the
    // first and count the rest (a hostile zip may have millions).
    let mut first_invalid: Option<String> = None;
    let mut n_invalid: usize = 0;
    let mut size_error: Option<String> = None;
    let mut collisions = Collisions::default();
    let mut total: u64 = 0;

    for i in 0..archive.len() {
        let entry = archive
            .by_index_data(i)
            .map_err(|e| from_hash_error(dirhash::zip_error("", e)))?;
        let raw = entry.name_raw();
        let shown = String::from_utf8_lossy(raw);
        let mut bad = |reason: String| {
            n_invalid += 1;
            first_invalid.get_or_insert_with(|| format!("{shown:?}: {reason}"));
        };

        let Some(rest) = raw.strip_prefix(prefix.as_bytes()) else {
            bad(format!("path does not have prefix {prefix:?}"));
            continue;
        };
        if rest.is_empty() {
            // The bare `module@version/` directory entry.
            continue;
        }
        let Ok(rest) = std::str::from_utf8(rest) else {
            bad(format!(
                "malformed file path {:?}: invalid UTF-8",
                String::from_utf8_lossy(rest)
            ));
            continue;
        };
        let (name, is_dir) = match rest.strip_suffix('/') {
            Some(d) => (d, true),
            None => (rest, false),
        };
        if go_clean(name) != name {
            bad("file path is not clean".to_owned());
            continue;
        }
        if let Err(e) = crate::path::check_file_path(name) {
            bad(e.to_string());
            continue;
        }
        if let Err(e) = collisions.check(name, is_dir) {
            bad(e);
            continue;
        }
        if is_dir {
            continue;
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        if fold_key(base) == "go.mod" {
            if base != name {
                bad("go.mod file not in module root directory".to_owned());
                continue;
            }
            if name != "go.mod" {
                bad("go.mod files must have lowercase names".to_owned());
                continue;
            }
        }
        let sz = entry.size();
        if sz <= MAX_ZIP_FILE - total {
            total += sz;
        } else if size_error.is_none() {
            size_error = Some(format!(
                "total uncompressed size of module contents too large (max size is {MAX_ZIP_FILE} bytes)"
            ));
        }
        if name == "go.mod" && sz > MAX_GO_MOD {
            bad(format!(
                "go.mod file too large (max size is {MAX_GO_MOD} bytes)"
            ));
            continue;
        }
        if name == "LICENSE" && sz > MAX_LICENSE {
            bad(format!(
                "LICENSE file too large (max size is {MAX_LICENSE} bytes)"
            ));
            continue;
        }
    }

    if let Some(e) = size_error {
        return Err(ZipError::Invalid(e));
    }
    match (first_invalid, n_invalid) {
        (None, _) => Ok(()),
        (Some(first), 0 | 1) => Err(ZipError::Invalid(first)),
        (Some(first), n) => Err(ZipError::Invalid(format!(
            "{first} (and {} more invalid files)",
            n - 1
        ))),
    }
}

/// x/mod/zip's `collisionChecker`: paths keyed by their fold key, so two
/// paths that are `strings.EqualFold` (or a path used both as a file and as
/// a directory) are caught, parents included.
#[derive(Default)]
struct Collisions {
    seen: HashMap<String, (String, bool)>,
}

impl Collisions {
    fn check(&mut self, path: &str, is_dir: bool) -> Result<(), String> {
        // Go recurses on the parent; this walks up instead.
        let mut p = path;
        let mut dir = is_dir;
        loop {
            let key = fold_key(p);
            match self.seen.get(&key) {
                Some((other, other_dir)) => {
                    if p != other {
                        return Err(format!(
                            "case-insensitive file name collision: {other:?} and {p:?}"
                        ));
                    }
                    if dir != *other_dir {
                        return Err(format!("entry {p:?} is both a file and a directory"));
                    }
                    if !dir {
                        return Err(format!("multiple entries for file {p:?}"));
                    }
                    // The same directory again is fine: every file checks
                    // its parents.
                }
                None => {
                    self.seen.insert(key, (p.to_owned(), dir));
                }
            }
            match p.rfind('/') {
                Some(i) => {
                    p = p.get(..i).unwrap_or_default();
                    dir = true;
                }
                None => return Ok(()),
            }
        }
    }
}

/// Go's `path.Clean`, used only to ask whether a name is already clean.
fn go_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for elem in p.split('/') {
        match elem {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|last| *last != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            e => out.push(e),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// x/mod/module `CanonicalVersion`: semver's canonical form, which drops
/// build metadata, except that `+incompatible` is kept.
fn canonical_version(v: &str) -> String {
    let mut c = crate::semver::canonical(v);
    if crate::semver::build(v) == "+incompatible" {
        c.push_str("+incompatible");
    }
    c
}

fn from_hash_error(e: HashError) -> ZipError {
    match e {
        HashError::Io(e) => ZipError::Io(e),
        other => ZipError::Invalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// One fixture from testdata/zips/expected.json, written by
    /// tools/zipfixtures with Go's verdicts.
    #[derive(serde::Deserialize)]
    struct Fixture {
        name: String,
        module: String,
        version: String,
        go_accepts: bool,
        #[serde(default)]
        check_err: String,
        #[serde(default)]
        h1: String,
        #[serde(default)]
        hash_err: String,
        go_mod: Option<String>,
    }

    /// Fixtures Go accepts and agora refuses on purpose (module docs).
    const KNOWN_DIVERGENCES: &[&str] = &["diverge_dup_dir", "diverge_unicode_path_extra"];

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/zips")
    }

    fn fixtures() -> Vec<Fixture> {
        let data = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
        serde_json::from_str(&data).expect("expected.json parses")
    }

    #[test]
    fn fixtures_match_go_verdicts() {
        let fixtures = fixtures();
        assert!(fixtures.len() >= 40);
        let mut failures = Vec::new();
        for f in &fixtures {
            let path = dir().join(format!("{}.zip", f.name));
            let got = check_zip_file(&path, &f.module, &f.version);
            let divergent = KNOWN_DIVERGENCES.contains(&f.name.as_str());
            match (&got, f.go_accepts && !divergent) {
                (Ok(c), true) => {
                    if c.h1 != f.h1 {
                        failures.push(format!("{}: h1 {} want {}", f.name, c.h1, f.h1));
                    }
                    if c.go_mod.as_deref() != f.go_mod.as_deref().map(str::as_bytes) {
                        failures.push(format!("{}: go.mod {:?}", f.name, c.go_mod));
                    }
                    let len = std::fs::metadata(&path).expect("fixture").len();
                    if c.size != len {
                        failures.push(format!("{}: size {} want {len}", f.name, c.size));
                    }
                }
                (Err(ZipError::Invalid(msg)), false) => {
                    if msg.contains('\n') || msg.is_empty() {
                        failures.push(format!("{}: reason not one line: {msg:?}", f.name));
                    }
                }
                (other, want_ok) => failures.push(format!(
                    "{}: got {other:?}, Go accepts: {want_ok} (check: {:?}, hash: {:?})",
                    f.name, f.check_err, f.hash_err
                )),
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    /// When CheckZip itself refuses a zip, agora names the same entry first.
    #[test]
    fn reasons_name_the_entry_go_names() {
        for f in fixtures() {
            let Some((entry, _)) = f.check_err.split_once(": ") else {
                continue;
            };
            // Only entry errors (`module@version/...: reason`). Go names the
            // second of two duplicates, which the zip crate hides; Go prints
            // a non-UTF-8 name raw, agora escapes it.
            let names_entry = entry.split_once('@').is_some_and(|(_, v)| v.contains('/'));
            if !names_entry || ["bad_dup_file", "bad_non_utf8"].contains(&f.name.as_str()) {
                continue;
            }
            let path = dir().join(format!("{}.zip", f.name));
            match check_zip_file(&path, &f.module, &f.version) {
                Err(ZipError::Invalid(msg)) => {
                    assert!(
                        msg.starts_with(&format!("{entry:?}: ")),
                        "{}: {msg}",
                        f.name
                    )
                }
                other => panic!("{}: {other:?}", f.name),
            }
        }
    }

    #[test]
    fn go_messages_for_rule_violations() {
        let cases = [
            (
                "bad_case_collision",
                "case-insensitive file name collision: \"A.go\" and \"a.go\"",
            ),
            (
                "bad_dir_case_collision",
                "case-insensitive file name collision: \"Dir\" and \"dir\"",
            ),
            ("bad_gomod_upper", "go.mod files must have lowercase names"),
            (
                "bad_gomod_subdir",
                "go.mod file not in module root directory",
            ),
            ("bad_license_too_large", "LICENSE file too large"),
            (
                "bad_total_declared_too_large",
                "total uncompressed size of module contents too large",
            ),
            ("bad_bomb", "larger than its declared"),
            ("bad_short", "does not match declared size"),
            (
                "bad_file_and_dir",
                "entry \"a\" is both a file and a directory",
            ),
            ("bad_unclean", "file path is not clean"),
            (
                "bad_wrong_module_prefix",
                "path does not have prefix \"example.com/m@v1.0.0/\"",
            ),
            ("bad_dup_file", "several entries with the same name"),
        ];
        for (name, want) in cases {
            let path = dir().join(format!("{name}.zip"));
            match check_zip_file(&path, "example.com/m", "v1.0.0") {
                Err(ZipError::Invalid(msg)) => assert!(msg.contains(want), "{name}: {msg}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn hash_zip_file_matches_go() {
        for f in fixtures() {
            let path = dir().join(format!("{}.zip", f.name));
            let got = dirhash::hash_zip_file(&path);
            // Go hashes repeated names (twice the last entry's content);
            // hash_zip_file refuses them, as it refuses Unicode Path fields.
            let divergent =
                KNOWN_DIVERGENCES.contains(&f.name.as_str()) || f.name == "bad_dup_file";
            if divergent {
                assert!(got.is_err(), "{}", f.name);
            } else if f.hash_err.is_empty() {
                assert_eq!(got.ok().as_deref(), Some(f.h1.as_str()), "{}", f.name);
            } else {
                assert!(matches!(got, Err(HashError::Zip(_))), "{}: {got:?}", f.name);
            }
        }
    }

    #[test]
    fn oversized_zip_file_is_refused_before_parsing() {
        let tmp = tempfile::NamedTempFile::new().expect("tempfile");
        // Sparse: no disk space is used for the hole.
        tmp.as_file().set_len(MAX_ZIP_FILE + 1).expect("set_len");
        match check_zip_file(tmp.path(), "example.com/m", "v1.0.0") {
            Err(ZipError::Invalid(msg)) => assert_eq!(
                msg,
                format!(
                    "module zip file is too large ({} bytes; limit is {MAX_ZIP_FILE} bytes)",
                    MAX_ZIP_FILE + 1
                )
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_file_is_io() {
        let r = check_zip_file(Path::new("/nonexistent/x.zip"), "example.com/m", "v1.0.0");
        assert!(matches!(r, Err(ZipError::Io(_))), "{r:?}");
    }

    /// A zip large enough to be hashed on several threads gives the hash
    /// of the one-thread hasher, keeps the go.mod wherever it falls, and
    /// reports the first damaged entry in zip order.
    #[test]
    fn large_zips_hash_in_parallel_as_in_series() {
        use std::io::Write;
        const ENTRIES: usize = 24;
        let tmp = tempfile::NamedTempFile::new().expect("tempfile");
        let mut data_at = Vec::new();
        {
            let mut w = zip::ZipWriter::new(tmp.reopen().expect("reopen"));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            // Not compressible, so the zip is over the parallel threshold.
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            for i in 0..ENTRIES {
                let name = if i == ENTRIES - 2 {
                    "example.com/m@v1.0.0/go.mod".to_owned()
                } else {
                    format!("example.com/m@v1.0.0/f{i:02}.go")
                };
                let data: Vec<u8> = if i == ENTRIES - 2 {
                    b"module example.com/m\n".to_vec()
                } else {
                    (0..300_000)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            x as u8
                        })
                        .collect()
                };
                w.start_file(name.as_str(), opts).expect("start_file");
                // The local header is written: the file ends where the data starts.
                let file = w.get_ref().expect("writer");
                data_at.push(file.metadata().expect("stat").len());
                w.write_all(&data).expect("write");
            }
            w.finish().expect("finish");
        }
        let size = std::fs::metadata(tmp.path()).expect("stat").len();
        assert!(size >= PARALLEL_MIN_SIZE, "{size}");
        let c = check_zip_file(tmp.path(), "example.com/m", "v1.0.0").expect("valid zip");
        assert_eq!(
            Ok(c.h1),
            dirhash::hash_zip_file(tmp.path()).map_err(|e| e.to_string())
        );
        assert_eq!(c.go_mod.as_deref(), Some(&b"module example.com/m\n"[..]));

        // Damage one entry early and one late: the early one is named.
        let mut bytes = std::fs::read(tmp.path()).expect("read");
        for i in [3, ENTRIES - 1] {
            let at = data_at[i] as usize + 100;
            bytes[at] ^= 0xff;
        }
        std::fs::write(tmp.path(), &bytes).expect("write");
        let e = check_zip_file(tmp.path(), "example.com/m", "v1.0.0")
            .expect_err("damaged zip")
            .to_string();
        assert!(e.contains("f03.go"), "{e}");
    }

    #[test]
    fn round_trip_with_zip_crate_writer() {
        use std::io::Write;
        let tmp = tempfile::NamedTempFile::new().expect("tempfile");
        {
            let mut w = zip::ZipWriter::new(tmp.reopen().expect("reopen"));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in [
                (
                    "example.com/m@v1.0.0/go.mod",
                    &b"module example.com/m\n"[..],
                ),
                ("example.com/m@v1.0.0/a.go", &b"package m\n"[..]),
            ] {
                w.start_file(name, opts).expect("start_file");
                w.write_all(data).expect("write");
            }
            w.finish().expect("finish");
        }
        let c = check_zip_file(tmp.path(), "example.com/m", "v1.0.0").expect("valid zip");
        assert_eq!(c.go_mod.as_deref(), Some(&b"module example.com/m\n"[..]));
        let mut h = Hash1::new();
        h.add(
            "example.com/m@v1.0.0/go.mod",
            dirhash::sha256(b"module example.com/m\n"),
        );
        h.add("example.com/m@v1.0.0/a.go", dirhash::sha256(b"package m\n"));
        assert_eq!(Some(c.h1), h.finish().ok());
    }

    #[test]
    fn reason_counts_further_invalid_entries() {
        use std::io::Write;
        let tmp = tempfile::NamedTempFile::new().expect("tempfile");
        {
            let mut w = zip::ZipWriter::new(tmp.reopen().expect("reopen"));
            let opts = zip::write::SimpleFileOptions::default();
            for name in [
                "x/a.go",
                "example.com/m@v1.0.0/A:B",
                "example.com/m@v1.0.0/ok.go",
            ] {
                w.start_file(name, opts).expect("start_file");
                w.write_all(b"x").expect("write");
            }
            w.finish().expect("finish");
        }
        match check_zip_file(tmp.path(), "example.com/m", "v1.0.0") {
            Err(ZipError::Invalid(msg)) => {
                assert!(
                    msg.starts_with("\"x/a.go\": path does not have prefix"),
                    "{msg}"
                );
                assert!(msg.ends_with("(and 1 more invalid files)"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Truncated and bit-flipped fixtures must give errors, never panics.
    #[test]
    fn hostile_bytes_do_not_panic() {
        let tmp = tempfile::NamedTempFile::new().expect("tempfile");
        for f in fixtures() {
            let data = std::fs::read(dir().join(format!("{}.zip", f.name))).expect("fixture");
            if data.len() > 4096 {
                continue;
            }
            let mut variants = Vec::new();
            for cut in (0..data.len()).step_by(7) {
                variants.push(data.get(..cut).unwrap_or_default().to_vec());
            }
            for i in (0..data.len()).step_by(3) {
                let mut v = data.clone();
                if let Some(b) = v.get_mut(i) {
                    *b ^= 0xA5;
                }
                variants.push(v);
            }
            for v in variants {
                std::fs::write(tmp.path(), &v).expect("write");
                let _ = check_zip_file(tmp.path(), &f.module, &f.version);
                let _ = dirhash::hash_zip_file(tmp.path());
            }
        }
    }

    #[test]
    fn clean_matches_go() {
        for (p, want) in [
            ("", "."),
            ("a", "a"),
            ("a/", "a"),
            ("a//b", "a/b"),
            ("./a", "a"),
            ("a/..", "."),
            ("a/../..", ".."),
            ("../a/..", ".."),
            ("/..", "/"),
            ("/a/./b/", "/a/b"),
        ] {
            assert_eq!(go_clean(p), want, "{p:?}");
        }
    }

    #[test]
    fn collisions_follow_go() {
        let mut c = Collisions::default();
        assert!(c.check("a/b/c.go", false).is_ok());
        assert!(c.check("a/b", true).is_ok()); // same directory again
        assert!(c.check("a/d.go", false).is_ok());
        assert!(c.check("A/e.go", false).is_err());
        assert!(c.check("a/b/c.go", false).is_err());
        assert!(c.check("a/b/c.go/x", false).is_err());
    }
}
