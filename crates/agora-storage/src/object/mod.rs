//! S3, MinIO, Azure Blob and Google Cloud Storage, through the `object_store` interface.
//!
//! This module owns the object-store backend ([`ObjectStorage::s3`] for S3 and MinIO,
//! [`ObjectStorage::azure`] for Azure Blob and `ObjectStorage::gcs` for Google Cloud
//! Storage (OpenDAL's JSON-API client behind `object_store_opendal`), both in the S3
//! layout as Athens does). It is split in three:
//!
//! - `services`: each service's settings ([`S3Settings`], `AzureConfig`, `GcsConfig`) and
//!   the constructor that turns them into a client;
//! - `protocol`: what every service shares once built: the key layouts, the write
//!   protocol that makes a version appear only once it is complete (claim, zip, `.info`
//!   last, stale-claim takeover), reads and the catalog;
//! - `errors`: the mapping of `object_store` (and OpenDAL) errors onto
//!   [`ErrorKind`](crate::ErrorKind).
//!
//! # Layouts (exactly Athens')
//!
//! ```text
//! Layout::S3     <module>/@v/<version>.info   <module>/@v/<version>.mod   <module>/@v/<version>.zip
//! Layout::Minio  <module>/<version>/<version>.info   <module>/<version>/go.mod   <module>/<version>/source.zip
//! ```
//!
//! Keys use the decoded module path and version, as Athens does; no `!` case escaping.

use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;

mod errors;
mod protocol;
mod services;

#[cfg(feature = "gcs")]
pub use services::GcsConfig;
#[cfg(feature = "azure")]
pub use services::{AZURITE_ACCOUNT, AZURITE_KEY, AzureConfig};
pub use services::{S3Settings, with_scheme};

/// Multipart part size, and the size up to which a zip goes up in one PUT. S3 requires
/// parts of at least 5 MiB; 8 MiB is what Athens' MinIO backend uses.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts uploaded at once: bounds a put's memory at about `(PARTS_IN_FLIGHT + 1) *
/// PART_SIZE`, while keeping the link busy.
const PARTS_IN_FLIGHT: usize = 2;

/// How long a `.mod` claim without its `.info` is taken to belong to a live writer.
const DEFAULT_STALE_CLAIM_AGE: Duration = Duration::from_secs(15 * 60);

/// How long a writer that lost the claim waits for the holder's commit before giving up
/// with `Unavailable` (the binary sets it to the stash timeout).
const DEFAULT_CLAIM_WAIT: Duration = Duration::from_secs(10 * 60);

/// How often a writer that lost the claim checks whether the winner has committed.
const CLAIM_POLL: Duration = Duration::from_millis(200);

/// Which of Athens' key layouts the bucket uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Athens' S3 (and GCS, Azure) layout: `<module>/@v/<version>.{info,mod,zip}`.
    S3,
    /// Athens' MinIO layout, the disk layout on a bucket:
    /// `<module>/<version>/{go.mod,source.zip,<version>.info}`.
    Minio,
}

/// A module cache in an S3-compatible bucket, in one of Athens' layouts.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    layout: Layout,
    describe: String,
    stale_claim_age: Duration,
    claim_wait: Duration,
    /// How the zip goes up: an object_store multipart upload, or (GCS) a create-only
    /// OpenDAL writer.
    zip_upload: ZipUpload,
}

/// How [`ObjectStorage`] uploads a zip larger than one part.
#[derive(Debug, Clone)]
enum ZipUpload {
    /// object_store's multipart upload (S3 multipart, Azure block list).
    Multipart,
    /// An OpenDAL writer with `if_not_exists` (GCS: a JSON-API resumable upload started
    /// with `ifGenerationMatch=0`). object_store_opendal's multipart upload cannot carry
    /// the condition, and OpenDAL's unconditional GCS writer uses the XML multipart API.
    #[cfg(feature = "gcs")]
    CreateOnly(opendal::Operator),
}

impl ObjectStorage {
    /// Sets how old an uncommitted claim (a `.mod` without `.info`) must be before a new
    /// writer takes the version over. Tests use zero to exercise takeover.
    #[must_use]
    pub fn with_stale_claim_age(mut self, age: Duration) -> Self {
        self.stale_claim_age = age;
        self
    }

    /// Sets how long a put waits for another writer's claim on the same version to be
    /// committed (or to go stale) before it gives up with
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable). Without a bound, a
    /// request meeting a crashed writer's claim would hang until the claim goes stale.
    #[must_use]
    pub fn with_claim_wait(mut self, wait: Duration) -> Self {
        self.claim_wait = wait;
        self
    }

    /// The key layout in use.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The GCS bucket's OpenDAL operator, for a lock object kept in the same bucket with
    /// generation preconditions (`agora-lock`); `None` for the other services.
    #[cfg(feature = "gcs")]
    pub fn gcs_operator(&self) -> Option<opendal::Operator> {
        match &self.zip_upload {
            ZipUpload::CreateOnly(op) => Some(op.clone()),
            ZipUpload::Multipart => None,
        }
    }

    /// The bucket's client, for a lock object kept in the same bucket (`agora-lock`).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }
}
