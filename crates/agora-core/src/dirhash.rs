//! The `h1:` directory hash of go.sum lines and the checksum database.
//!
//! This module owns Go's `dirhash.Hash1` ([`Hash1`]), the go.mod hash
//! ([`hash_go_mod`], the `path version/go.mod h1:` line) and the zip hash
//! ([`hash_zip_file`], `dirhash.HashZip`, the `path version h1:` line).
//!
//! Hash1 is `h1:` + base64(SHA-256(summary)), where the summary has one line
//! `<lower-case hex SHA-256 of the content>  <name>\n` per file, sorted by
//! name bytes. Only names and contents count: compression, order,
//! timestamps and extra fields of a zip do not, but every zip entry does,
//! directory entries included (as empty files).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Size of the buffer entries are streamed through while hashing.
pub(crate) const STREAM_BUF: usize = 32 * 1024;

/// Why a hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// A file name contains a newline, which would make the summary ambiguous
    /// (Go refuses these too).
    #[error("dirhash: filenames with newlines are not supported")]
    NewlineInName,
    /// The zip could not be read as Go's `archive/zip` would read it.
    #[error("{0}")]
    Zip(String),
    /// Reading the file failed.
    #[error("reading zip: {0}")]
    Io(#[from] io::Error),
}

/// Builder for `dirhash.Hash1` over a list of (name, content hash) pairs.
///
/// Names are raw bytes because Go's names are: a zip entry name need not be
/// UTF-8. Names are sorted in [`Hash1::finish`], so they can be added in any
/// order. A name added twice appears twice in the summary, as in Go.
#[derive(Debug, Default, Clone)]
pub struct Hash1 {
    files: Vec<(Vec<u8>, [u8; 32])>,
}

impl Hash1 {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file with the SHA-256 of its content.
    pub fn add(&mut self, name: &str, sha256_of_content: [u8; 32]) {
        self.add_bytes(name.as_bytes(), sha256_of_content);
    }

    /// Adds a file whose name is not necessarily UTF-8.
    pub fn add_bytes(&mut self, name: &[u8], sha256_of_content: [u8; 32]) {
        self.files.push((name.to_vec(), sha256_of_content));
    }

    /// Sorts the names and returns `h1:<base64>`.
    pub fn finish(mut self) -> Result<String, HashError> {
        // Go sorts the name list with slices.Sort: byte-wise, and stable
        // for equal names, which is what sort_by gives (stable).
        self.files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut summary = Sha256::new();
        for (name, sum) in &self.files {
            if name.contains(&b'\n') {
                return Err(HashError::NewlineInName);
            }
            summary.update(hex(sum).as_bytes());
            summary.update(b"  ");
            summary.update(name);
            summary.update(b"\n");
        }
        let digest: [u8; 32] = summary.finalize().into();
        Ok(format!(
            "h1:{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ))
    }
}

/// Lower-case hex, as Go's `%x`.
fn hex(bytes: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// SHA-256 of a byte slice.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The `h1:` hash of a go.mod file: Hash1 over a single file named exactly
/// `go.mod` (no module prefix), as in the `path version/go.mod h1:` line.
pub fn hash_go_mod(data: &[u8]) -> String {
    let mut h = Hash1::new();
    h.add("go.mod", sha256(data));
    // Infallible: the only error is a newline in a name, and "go.mod" has none.
    h.finish().unwrap_or_default()
}

/// The `h1:` hash of a zip file, as `dirhash.HashZip`: Hash1 over every
/// entry's full name (directory entries included) and content.
///
/// Each entry is streamed through SHA-256 with a fixed buffer, and must
/// decompress to exactly its declared size with a matching CRC-32, as Go's
/// `archive/zip` reader insists.
///
/// Not reproducible here, and reported as [`HashError::Zip`]: zips with two
/// entries of the same name (the `zip` crate keeps only one, while Go hashes
/// the last one's content under every occurrence), and entries carrying an
/// Info-ZIP Unicode Path extra field (the `zip` crate replaces the name
/// with it; Go uses the raw name, which is then lost). The go command never
/// writes either.
pub fn hash_zip_file(path: &Path) -> Result<String, HashError> {
    let file = File::open(path)?;
    let mut archive = zip::ZipArchive::new(BufReader::with_capacity(STREAM_BUF, file))
        .map_err(|e| zip_error("", e))?;
    if archive.has_duplicate_names() {
        return Err(HashError::Zip(
            "zip has several entries with the same name".to_owned(),
        ));
    }
    let mut h = Hash1::new();
    let mut buf = vec![0u8; STREAM_BUF];
    for i in 0..archive.len() {
        let (name, sum) = hash_entry(&mut archive, i, &mut buf, None)?;
        h.add_bytes(&name, sum);
    }
    h.finish()
}

/// Reads entry `i` as Go's `zip.File.Open` would and returns its raw name
/// and the SHA-256 of its content. When `capture` is given, the content is
/// also appended to it (the caller bounds the entry's declared size).
pub(crate) fn hash_entry<R: Read + io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    i: usize,
    buf: &mut [u8],
    mut capture: Option<&mut Vec<u8>>,
) -> Result<(Vec<u8>, [u8; 32]), HashError> {
    let meta = archive.by_index_data(i).map_err(|e| zip_error("", e))?;
    let name = meta.name_raw().to_vec();
    let declared = meta.size();
    let shown = String::from_utf8_lossy(&name).into_owned();
    // Go checks the CRC only if the entry has a data descriptor or a
    // non-zero CRC; a zero CRC without descriptor means "not recorded".
    let ignore_crc = meta.crc32() == 0 && !meta.flags().is_using_data_descriptor();

    if name.ends_with(b"/") {
        // Go never reads a directory entry's data: it is empty if its
        // declared size is zero, and an error otherwise. It does check that
        // the local header is there, which opening it raw does too.
        let entry = archive.by_index_raw(i).map_err(|e| zip_error(&shown, e))?;
        check_unicode_path(&entry, &shown)?;
        if declared != 0 {
            return Err(HashError::Zip(format!(
                "{shown:?}: directory entry has data ({declared} bytes)"
            )));
        }
        return Ok((name, sha256(b"")));
    }

    let options = zip::ZipReadOptions::new().ignore_crc32(ignore_crc);
    let mut entry = archive
        .by_index_with_options(i, options)
        .map_err(|e| zip_error(&shown, e))?;
    check_unicode_path(&entry, &shown)?;
    let mut hasher = Sha256::new();
    let mut total: u64 = 0;
    loop {
        let n = match entry.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(&shown, e)),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        total = total.saturating_add(n as u64);
        // The zip crate already stops at the declared size; checking here
        // too keeps the zip-bomb guard independent of its internals.
        if total > declared {
            return Err(HashError::Zip(format!(
                "{shown:?}: uncompressed size is larger than declared size ({declared} bytes)"
            )));
        }
        hasher.update(chunk);
        if let Some(out) = capture.as_deref_mut() {
            out.extend_from_slice(chunk);
        }
    }
    if total != declared {
        return Err(HashError::Zip(format!(
            "{shown:?}: uncompressed size {total} does not match declared size ({declared} bytes)"
        )));
    }
    Ok((name, hasher.finalize().into()))
}

/// Rejects entries whose name the `zip` crate may have replaced with an
/// Info-ZIP Unicode Path extra field: Go ignores that field, so the name
/// we were given may not be the one the go command sees.
fn check_unicode_path<R: Read>(
    entry: &zip::read::ZipFile<'_, R>,
    shown: &str,
) -> Result<(), HashError> {
    if entry
        .extra_data_fields()
        .any(|f| matches!(f, zip::ExtraField::UnicodePath(_)))
    {
        return Err(HashError::Zip(format!(
            "{shown:?}: entry has an Info-ZIP Unicode Path extra field, which the go command ignores"
        )));
    }
    Ok(())
}

/// Sorts a `zip` crate error into "the zip is bad" and "reading failed".
pub(crate) fn zip_error(name: &str, e: zip::result::ZipError) -> HashError {
    match e {
        zip::result::ZipError::Io(e) => read_error(name, e),
        other if name.is_empty() => HashError::Zip(format!("not a valid zip file: {other}")),
        other => HashError::Zip(format!("{name:?}: {other}")),
    }
}

/// Errors the operating system reports are real read failures; every other
/// I/O error comes from decoding the zip (bad deflate stream, checksum,
/// truncated data, unsupported method) and means the content is bad.
pub(crate) fn read_error(name: &str, e: io::Error) -> HashError {
    if e.raw_os_error().is_some() {
        return HashError::Io(e);
    }
    if name.is_empty() {
        HashError::Zip(format!("not a valid zip file: {e}"))
    } else {
        HashError::Zip(format!("{name:?}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_vectors() {
        // The go.sum line `rsc.io/quote v1.5.2/go.mod h1:...`.
        assert_eq!(
            hash_go_mod(b"module \"rsc.io/quote\"\n\nrequire \"rsc.io/sampler\" v1.3.0\n"),
            "h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0="
        );
        // A synthesized go.mod.
        assert_eq!(
            hash_go_mod(b"module example.com/m\n"),
            "h1:flS2VctbRrTv+sBE+VKgxx6hlkMGPVz9MGOmzMYFg3k="
        );
    }

    #[test]
    fn hash1_sorts_names_and_rejects_newlines() {
        let mut a = Hash1::new();
        a.add("b", sha256(b"2"));
        a.add("a", sha256(b"1"));
        let mut b = Hash1::new();
        b.add("a", sha256(b"1"));
        b.add("b", sha256(b"2"));
        assert_eq!(a.finish().ok(), b.finish().ok());

        let mut bad = Hash1::new();
        bad.add("a\nb", sha256(b""));
        assert!(matches!(bad.finish(), Err(HashError::NewlineInName)));
    }

    #[test]
    fn hash1_empty_list() {
        // SHA-256 of the empty summary.
        assert_eq!(
            Hash1::new().finish().ok().as_deref(),
            Some("h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
    }

    #[test]
    fn hex_is_lower_case() {
        let mut x = [0u8; 32];
        x[0] = 0xAB;
        x[31] = 0x0F;
        let h = hex(&x);
        assert!(h.starts_with("ab00"));
        assert!(h.ends_with("0f"));
    }
}
