//! Where agora keeps module versions, forever.
//!
//! This crate owns the [`Storage`] trait, its error kinds, and the backends:
//! [`fs::DiskStorage`] (Athens' disk layout, atomic and create-only) and
//! [`memory::MemoryStorage`] (for tests and throwaway runs), which are always
//! built; `object::ObjectStorage` (S3 and MinIO buckets, Azure Blob containers and
//! Google Cloud Storage buckets, in Athens' key layouts), built with the `s3`, `azure` and
//! `gcs` features; `external::ExternalStorage` (a server speaking Athens' external HTTP
//! storage protocol), built with the `external` feature; and `mongo::MongoStorage` (a
//! MongoDB database in Athens' layout: a `modules` collection plus GridFS, over the
//! official driver), built with the `mongo` feature. All these features are on by default.
//!
//! A stored version is three artifacts (`.info`, `.mod`, `.zip`). It counts as
//! present only once all three are complete, and once present it never changes.
//! Zips are streamed in both directions: a backend receives the zip as a local
//! file and serves it as a byte stream, so no zip is ever held whole in memory
//! (except by the memory backend, whose whole point is to hold things in memory).
//!
//! Every backend here can also enumerate its present versions a page at a time
//! ([`Storage::catalog`], for Athens' `/catalog`), with one token format,
//! `<module>|<version>` ([`CatalogPage::next`]); a backend that cannot answers
//! [`ErrorKind::Unsupported`] through the trait's default.

use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use agora_core::{ModulePath, Version};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

#[cfg(feature = "external")]
pub mod external;
pub mod fs;
pub mod memory;
#[cfg(feature = "mongo")]
pub mod mongo;
#[cfg(feature = "s3")]
pub mod object;

/// A stream of zip bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// The broad class of a storage failure; callers branch on this, never on text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The backend positively knows the object is absent.
    NotFound,
    /// A create-only write found the version already stored.
    AlreadyExists,
    /// The backend could not be reached or failed to answer (disk error,
    /// permission denied, network down). Never to be mistaken for absence.
    Unavailable,
    /// The backend holds something that breaks an invariant.
    Corrupt,
    /// The caller passed an argument the backend cannot use, such as a
    /// malformed catalog token or a page size of zero.
    InvalidArgument,
    /// The backend cannot do this at all (a [`Storage::catalog`] of a backend
    /// that has no way to enumerate its contents).
    Unsupported,
}

/// A storage failure with its kind and a one-line reason.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<io::Error>,
}

impl StorageError {
    /// An absent object.
    pub fn not_found(what: impl Into<String>) -> Self {
        StorageError {
            kind: ErrorKind::NotFound,
            message: what.into(),
            source: None,
        }
    }

    /// A version that is already stored.
    pub fn already_exists(what: impl Into<String>) -> Self {
        StorageError {
            kind: ErrorKind::AlreadyExists,
            message: what.into(),
            source: None,
        }
    }

    /// An I/O failure while doing `context`.
    pub fn io(context: impl Into<String>, err: io::Error) -> Self {
        let context = context.into();
        StorageError {
            kind: ErrorKind::Unavailable,
            message: format!("{context}: {err}"),
            source: Some(err),
        }
    }

    /// A broken invariant in stored data.
    pub fn corrupt(what: impl Into<String>) -> Self {
        StorageError {
            kind: ErrorKind::Corrupt,
            message: what.into(),
            source: None,
        }
    }

    /// An argument the backend cannot use (a bad catalog token, for instance).
    pub fn invalid_argument(what: impl Into<String>) -> Self {
        StorageError {
            kind: ErrorKind::InvalidArgument,
            message: what.into(),
            source: None,
        }
    }

    /// An operation this backend cannot do.
    pub fn unsupported(what: impl Into<String>) -> Self {
        StorageError {
            kind: ErrorKind::Unsupported,
            message: what.into(),
            source: None,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// True when the object is known to be absent.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// A new version handed to [`Storage::put`]. The zip is a local file (already
/// checked) that the backend may move or copy; it is never read into memory.
#[derive(Debug)]
pub struct NewVersion {
    /// The `.info` bytes exactly as they will be served.
    pub info: Bytes,
    /// The go.mod bytes.
    pub go_mod: Bytes,
    /// Path of a local file with the complete zip.
    pub zip: PathBuf,
}

/// An opened zip: its total size, and a way to stream any part of it.
pub struct ZipObject {
    /// Total size in bytes.
    pub size: u64,
    /// A short token that changes whenever the bytes could differ (the
    /// backend's idea of an object version, e.g. mtime and size); used as the
    /// HTTP entity tag, so ranged downloads never mix two different zips.
    pub tag: String,
    body: ZipBody,
    /// The same bytes as a local file, from its offset 0, for a server that
    /// can hand the file to the kernel (`sendfile`) instead of copying them.
    file: Option<Arc<std::fs::File>>,
}

enum ZipBody {
    /// Already in memory: answered as one buffer, which the HTTP layer
    /// writes together with the response head.
    Whole(Bytes),
    Source(Box<dyn ZipSource>),
}

impl ZipObject {
    /// Wraps a backend-specific source.
    pub fn new(size: u64, tag: String, source: Box<dyn ZipSource>) -> Self {
        ZipObject {
            size,
            tag,
            body: ZipBody::Source(source),
            file: None,
        }
    }

    /// A zip whose bytes are already in memory.
    pub fn whole(tag: String, bytes: Bytes) -> Self {
        ZipObject {
            size: bytes.len() as u64,
            tag,
            body: ZipBody::Whole(bytes),
            file: None,
        }
    }

    /// Says that `file`, from its offset 0, holds exactly these bytes (a
    /// stored version never changes, so it keeps holding them).
    pub fn with_file(mut self, file: Arc<std::fs::File>) -> Self {
        self.file = Some(file);
        self
    }

    /// The local file holding the bytes, when the backend has one.
    pub fn file(&self) -> Option<&Arc<std::fs::File>> {
        self.file.as_ref()
    }

    /// The bytes, when they are already in memory.
    pub fn as_whole(&self) -> Option<&Bytes> {
        match &self.body {
            ZipBody::Whole(b) => Some(b),
            ZipBody::Source(_) => None,
        }
    }

    /// Streams `range` (already clamped to `0..size` by the caller).
    pub async fn stream(self, range: Range<u64>) -> Result<ByteStream, StorageError> {
        match self.body {
            ZipBody::Whole(b) => {
                let len = b.len() as u64;
                let (start, end) = (range.start.min(len), range.end.min(len));
                let part = b.slice(start as usize..end.max(start) as usize);
                Ok(Box::pin(futures_util::stream::once(
                    async move { Ok(part) },
                )))
            }
            ZipBody::Source(source) => source.stream(range).await,
        }
    }

    /// Reads the whole zip into one buffer of exactly its size, for callers
    /// that keep small zips (the size was checked by the caller). A source
    /// that gives more or fewer bytes than its size is damage.
    pub async fn read_whole(self) -> Result<Bytes, StorageError> {
        let size = self.size;
        if let ZipBody::Whole(b) = &self.body {
            // A copy of exactly the size: a backend's buffer may be larger.
            return Ok(Bytes::copy_from_slice(b));
        }
        let mut buf = Vec::with_capacity(size as usize);
        let mut stream = self.stream(0..size).await?;
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|e| StorageError::io("reading zip", e))?;
            if buf.len() + chunk.len() > size as usize {
                return Err(StorageError::corrupt(format!(
                    "zip is longer than its recorded size {size}"
                )));
            }
            buf.extend_from_slice(&chunk);
        }
        if buf.len() as u64 != size {
            return Err(StorageError::corrupt(format!(
                "zip is {} bytes, shorter than its recorded size {size}",
                buf.len()
            )));
        }
        Ok(Bytes::from(buf))
    }
}

impl std::fmt::Debug for ZipObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipObject")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A backend's handle on one stored zip.
#[async_trait]
pub trait ZipSource: Send {
    /// Streams the bytes in `range`.
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError>;
}

/// The contract every storage backend keeps.
///
/// # Behavior
/// - A version is present only when its `.info`, `.mod` and `.zip` are all
///   complete; a partially written version (from a crash, or from a tool that
///   writes non-atomically, such as Athens) is absent for every method.
/// - `put` is create-only: it never replaces a present version.
/// - Module paths and versions are the decoded forms (no `!` escaping), which
///   is what Athens' layouts key on.
///
/// # Errors
/// [`ErrorKind::NotFound`] only when the backend knows the object is absent;
/// any failure to find out is [`ErrorKind::Unavailable`].
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// A short name for logs, such as `disk:/var/lib/athens`.
    fn describe(&self) -> String;

    /// The present versions of `module`, in no particular order. A module with
    /// no stored version gives an empty list, not `NotFound`.
    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError>;

    /// Whether `module@version` is present.
    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError>;

    /// The stored `.info` bytes.
    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError>;

    /// The stored go.mod bytes.
    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError>;

    /// Opens the stored zip.
    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError>;

    /// Stores a complete version atomically.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] when the version is already present (the
    /// stored one is left untouched; callers treat this as success and re-read).
    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError>;

    /// Removes a version (administrative use only; nothing on the request path
    /// deletes).
    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError>;

    /// Checks the backend is reachable and usable.
    async fn ready(&self) -> Result<(), StorageError>;

    /// One page of every present version in the store, for Athens' `/catalog`.
    ///
    /// `token` is empty for the first page, and otherwise the `next` of the page
    /// before. Tokens are opaque to callers; see [`CatalogPage::next`] for the
    /// format every backend here uses.
    ///
    /// # Behavior
    /// - Lists exactly the versions [`Storage::exists`] reports present: a
    ///   partially written version, a writer's claim, temporary objects and
    ///   anything that is not a stored version are left out. Nothing is checked
    ///   against Go's version rules beyond that, as in Athens.
    /// - Each backend walks its store in one fixed order (documented on the
    ///   backend) and a token resumes strictly after the entry it names, so a
    ///   walk neither repeats nor skips an entry that stays present throughout.
    ///   Versions added or removed during a walk may or may not show up.
    /// - A page holds exactly `page_size` entries, except the last one, which
    ///   holds fewer (or is empty for an empty store) and has no `next`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a malformed token or a `page_size`
    /// of zero; [`ErrorKind::Unavailable`] when the store cannot be read; never
    /// [`ErrorKind::NotFound`]. The default implementation, for backends that
    /// cannot enumerate their contents, returns [`ErrorKind::Unsupported`].
    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        let _ = (token, page_size);
        Err(StorageError::unsupported(format!(
            "{} cannot list its contents",
            self.describe()
        )))
    }

    /// A small immutable object outside the module space (checksum database
    /// tiles and tree heads), by a key checked with [`check_blob_key`].
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when absent. The default implementation, for
    /// backends with no place for such objects, returns
    /// [`ErrorKind::Unsupported`]: callers then go without the cache.
    async fn get_blob(&self, key: &str) -> Result<Bytes, StorageError> {
        let _ = key;
        Err(StorageError::unsupported(format!(
            "{} keeps no blobs",
            self.describe()
        )))
    }

    /// Creates a blob. Create-only: a present blob is never replaced.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] when the key is taken (the stored blob is
    /// left untouched); [`ErrorKind::Unsupported`] as for [`Storage::get_blob`].
    async fn put_blob(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        let _ = (key, data);
        Err(StorageError::unsupported(format!(
            "{} keeps no blobs",
            self.describe()
        )))
    }
}

/// The directory (disk) or key prefix (buckets) blobs live under. It starts
/// with a dot, which no module path element may, so it never meets a module.
pub const BLOB_PREFIX: &str = ".agora-blobs";

/// The largest blob accepted, far above a checksum database tile (8 KiB of
/// hashes, or a data tile of 256 records).
pub const MAX_BLOB_BYTES: usize = 8 << 20;

/// Checks a blob key: `/`-separated elements of `[A-Za-z0-9._+-]`, none of
/// them empty, `.` or `..`, at most 512 bytes in all.
pub fn check_blob_key(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|e| {
            !e.is_empty()
                && e != "."
                && e != ".."
                && e.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
        });
    if ok {
        Ok(())
    } else {
        Err(StorageError::invalid_argument(format!(
            "invalid blob key {key:?}"
        )))
    }
}

/// One page of [`Storage::catalog`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogPage {
    /// Present versions, in the backend's catalog order.
    pub versions: Vec<(ModulePath, Version)>,
    /// The token for the next page; `None` on the last page.
    ///
    /// Every backend in this crate uses `<module>|<version>` of the page's last
    /// entry (decoded, no `!` escaping). No module path can contain `|`, so the
    /// first `|` splits the two. The token names a position, not an object: it
    /// stays valid if that version is deleted, and works on any backend of this
    /// crate (though each backend has its own order).
    pub next: Option<String>,
}

/// A catalog position: where a page resumes (strictly after this entry).
pub(crate) type CatalogAfter = Option<(ModulePath, Version)>;

/// Reads a token made by [`catalog_token`]; `None` for the empty (first-page) token.
pub(crate) fn parse_catalog_token(token: &str) -> Result<CatalogAfter, StorageError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| {
        let shown: String = token.chars().take(200).collect();
        StorageError::invalid_argument(format!(
            "bad catalog token {shown:?}: {why} (pass back the `next` value \
             percent-encoded; `+` is %2B)"
        ))
    };
    let (module, version) = token
        .split_once('|')
        .ok_or_else(|| bad("expected <module>|<version>"))?;
    let module = ModulePath::new(module).map_err(|e| bad(&format!("module: {e}")))?;
    if version.is_empty()
        || version == "."
        || version == ".."
        || version
            .chars()
            .any(|c| c == '/' || c.is_whitespace() || c.is_control())
    {
        return Err(bad("not a version"));
    }
    Ok(Some((module, Version::from_trusted(version))))
}

/// The token that resumes after `module@version`.
pub(crate) fn catalog_token(module: &ModulePath, version: &Version) -> String {
    format!("{}|{}", module.as_str(), version.as_str())
}

/// Checks a page size and returns how many entries a backend should collect:
/// one more than a page, to tell whether another page follows.
pub(crate) fn catalog_want(page_size: usize) -> Result<usize, StorageError> {
    if page_size == 0 {
        return Err(StorageError::invalid_argument(
            "catalog page size must be at least 1",
        ));
    }
    Ok(page_size.saturating_add(1))
}

/// Cuts `found` (up to `page_size + 1` entries, in catalog order) into a page.
pub(crate) fn catalog_page(mut found: Vec<(ModulePath, Version)>, page_size: usize) -> CatalogPage {
    let next = if found.len() > page_size {
        found.truncate(page_size);
        found.last().map(|(m, v)| catalog_token(m, v))
    } else {
        None
    };
    CatalogPage {
        versions: found,
        next,
    }
}
