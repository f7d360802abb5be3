//! Where agora keeps module versions, forever.
//!
//! This crate owns the [`Storage`] trait, its error kinds, and the backends:
//! [`fs::DiskStorage`] (Athens' disk layout, atomic and create-only) and
//! [`memory::MemoryStorage`] (for tests and throwaway runs), which are always
//! built; `object::ObjectStorage` (S3 and MinIO buckets, Azure Blob containers and
//! Google Cloud Storage buckets, in Athens' key layouts), built with the `s3`, `azure` and
//! `gcs` features; and `external::ExternalStorage` (a server speaking Athens' external
//! HTTP storage protocol), built with the `external` feature. All these features are on
//! by default.
//!
//! A stored version is three artifacts (`.info`, `.mod`, `.zip`). It counts as
//! present only once all three are complete, and once present it never changes.
//! Zips are streamed in both directions: a backend receives the zip as a local
//! file and serves it as a byte stream, so no zip is ever held whole in memory
//! (except by the memory backend, whose whole point is to hold things in memory).

use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;

use agora_core::{ModulePath, Version};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

#[cfg(feature = "external")]
pub mod external;
pub mod fs;
pub mod memory;
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
    source: Box<dyn ZipSource>,
}

impl ZipObject {
    /// Wraps a backend-specific source.
    pub fn new(size: u64, tag: String, source: Box<dyn ZipSource>) -> Self {
        ZipObject { size, tag, source }
    }

    /// Streams `range` (already clamped to `0..size` by the caller).
    pub async fn stream(self, range: Range<u64>) -> Result<ByteStream, StorageError> {
        self.source.stream(range).await
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
}
