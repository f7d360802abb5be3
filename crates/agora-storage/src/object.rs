//! S3, MinIO, Azure Blob and Google Cloud Storage, through the `object_store` interface.
//!
//! This module owns the object-store backend ([`ObjectStorage::s3`] for S3 and MinIO,
//! [`ObjectStorage::azure`] for Azure Blob and `ObjectStorage::gcs` for Google Cloud
//! Storage (OpenDAL's JSON-API client behind `object_store_opendal`), both in the S3
//! layout as Athens does): the
//! two key layouts Athens uses on a bucket, the write protocol that makes a version appear only once it is complete, and
//! the mapping of `object_store` errors onto [`ErrorKind`](crate::ErrorKind).
//!
//! # Layouts (exactly Athens')
//!
//! ```text
//! Layout::S3     <module>/@v/<version>.info   <module>/@v/<version>.mod   <module>/@v/<version>.zip
//! Layout::Minio  <module>/<version>/<version>.info   <module>/<version>/go.mod   <module>/<version>/source.zip
//! ```
//!
//! Keys use the decoded module path and version, as Athens does; no `!` case escaping.
//!
//! # Catalog
//!
//! [`Storage::catalog`] lists the whole bucket in key order (bytewise, as S3 and Azure
//! return it), resuming with `start-after` (S3) or `startFrom` (Azure) at the `.info` key
//! of the token's `<module>|<version>`, and following continuation tokens past 1000 keys
//! until the page is full. Keys up to that offset are dropped again on this side, because
//! some servers ignore the offset (Azurite ignores `startFrom`): there a page costs a
//! listing from the start of the container, but is still right. Only commit markers count: `<module>/@v/<version>.info`, or
//! `<module>/<version>/<version>.info` in the MinIO layout, with a valid module path. The
//! claims (`.mod` without `.info`), zips, Athens' MinIO `parts/…` and Azure `lease/…`
//! lock blobs, and any other object are passed over.
//!
//! # Writes
//!
//! Athens uploads the three objects in parallel, so a crash can leave a version that it
//! then serves forever. Here:
//!
//! 1. the `.mod` object is created with `If-None-Match: *` ([`PutMode::Create`]). It is
//!    the writer's claim: of any number of racing writers exactly one creates it; the
//!    others wait for that writer's `.info` and then report `AlreadyExists`;
//! 2. the claim holder uploads the zip, as a multipart upload streamed from the spool file
//!    in [`PART_SIZE`] parts (aborted if anything fails), or as one PUT when it is small;
//! 3. the `.info` is created last, create-only. It is the commit marker: every read checks
//!    it, so a version without it is absent, whoever left the other objects there.
//!
//! A claim older than [`ObjectStorage::with_stale_claim_age`] (default 15 minutes, well
//! over agora's default stash timeout of 10) with no `.info` is taken to be a crashed
//! writer's (or Athens' partial upload): the next writer removes it and takes over. A
//! writer waits for a younger claim at most [`ObjectStorage::with_claim_wait`] (the
//! binary uses the stash timeout), then gives up with `Unavailable` (503), so a request
//! meeting a crashed writer's claim fails in bounded time instead of hanging.
//!
//! The zip itself is not written create-only: `object_store` completes multipart uploads
//! unconditionally, and only the claim holder ever writes it, so the condition would add
//! nothing between agora processes. (A concurrent *Athens* writer can still overwrite
//! objects; nothing can stop that.)

use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use agora_core::{ModulePath, Version, semver};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
#[cfg(feature = "azure")]
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use tokio::io::AsyncReadExt;
use tracing::{debug, warn};

use crate::{
    ByteStream, CatalogPage, NewVersion, Storage, StorageError, ZipObject, ZipSource, catalog_page,
    catalog_want, parse_catalog_token,
};

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

/// Everything needed to reach a bucket. The lead maps `agora_config::StorageSettings`
/// onto this; secrets are redacted from `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// The bucket. It must exist (see [`ObjectStorage::ready`]).
    pub bucket: String,
    /// The region, e.g. `us-east-1`. MinIO ignores it; an empty one means `us-east-1`.
    pub region: String,
    /// A custom endpoint URL (`AWS_ENDPOINT`, `ATHENS_MINIO_ENDPOINT`), e.g.
    /// `http://127.0.0.1:9000`. `None` means AWS. A URL without a scheme gets `https://`
    /// (see [`S3Config::with_scheme`] for MinIO's `UseSSL` rule).
    pub endpoint: Option<String>,
    /// Static credentials; with none, the instance/container metadata service is asked.
    pub access_key_id: Option<String>,
    /// The secret key that goes with `access_key_id`.
    pub secret_access_key: Option<String>,
    /// A session token for temporary credentials.
    pub session_token: Option<String>,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted ones
    /// (`bucket.endpoint/key`). MinIO and most S3 emulators need this.
    pub force_path_style: bool,
    /// The key layout.
    pub layout: Layout,
}

impl S3Config {
    /// Adds a scheme to a bare `host:port` endpoint: `https://` when `use_ssl`, else
    /// `http://`, which is how Athens' MinIO client reads `ATHENS_MINIO_USE_SSL` (it strips
    /// any scheme the endpoint has and connects by `UseSSL` alone).
    pub fn with_scheme(endpoint: &str, use_ssl: bool) -> String {
        let bare = endpoint
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        format!("{}://{bare}", if use_ssl { "https" } else { "http" })
    }
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redacted(&self.secret_access_key))
            .field("session_token", &redacted(&self.session_token))
            .field("force_path_style", &self.force_path_style)
            .field("layout", &self.layout)
            .finish()
    }
}

/// Azurite's well-known development account (`UseDevelopmentStorage=true`).
#[cfg(feature = "azure")]
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";

/// Azurite's well-known development account key (public, documented by Microsoft).
#[cfg(feature = "azure")]
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Everything needed to reach an Azure Blob container. Always Athens' S3 key layout.
/// The account key is redacted from `Debug`.
#[cfg(feature = "azure")]
#[derive(Clone, PartialEq, Eq)]
pub struct AzureConfig {
    /// The storage account (`ATHENS_AZURE_ACCOUNT_NAME`).
    pub account_name: String,
    /// The account key, base64 (`ATHENS_AZURE_ACCOUNT_KEY`). With none, object_store's
    /// credential chain (environment, managed identity) is used.
    pub account_key: Option<String>,
    /// The container (`ATHENS_AZURE_CONTAINER_NAME`). It must exist.
    pub container: String,
    /// The blob service endpoint, e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`
    /// (a connection string's `BlobEndpoint`). `None` means
    /// `https://<account>.blob.core.windows.net`.
    pub endpoint: Option<String>,
}

#[cfg(feature = "azure")]
impl AzureConfig {
    /// Reads a storage connection string (`AZURE_STORAGE_CONNECTION_STRING`):
    /// `AccountName`, `AccountKey`, `BlobEndpoint` (or `DefaultEndpointsProtocol` +
    /// `EndpointSuffix`), and `UseDevelopmentStorage=true` (Azurite on 127.0.0.1:10000
    /// with its well-known account).
    ///
    /// # Errors
    /// A message naming what is wrong (never the key) when the string is malformed or
    /// names no account.
    pub fn from_connection_string(conn: &str, container: &str) -> Result<AzureConfig, String> {
        let mut name = None;
        let mut key = None;
        let mut blob_endpoint = None;
        let mut protocol = None;
        let mut suffix = None;
        let mut dev = false;
        for part in conn.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                // Never quote the part: it may be a piece of the key.
                return Err("connection string: a part is not Name=value".to_owned());
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "accountname" => name = Some(v.trim().to_owned()),
                "accountkey" => key = Some(v.trim().to_owned()),
                "blobendpoint" => blob_endpoint = Some(v.trim().trim_end_matches('/').to_owned()),
                "defaultendpointsprotocol" => protocol = Some(v.trim().to_owned()),
                "endpointsuffix" => suffix = Some(v.trim().to_owned()),
                "usedevelopmentstorage" => dev = v.trim().eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        if dev {
            name.get_or_insert_with(|| AZURITE_ACCOUNT.to_owned());
            key.get_or_insert_with(|| AZURITE_KEY.to_owned());
            blob_endpoint.get_or_insert_with(|| "http://127.0.0.1:10000/devstoreaccount1".into());
        }
        let name = name
            .filter(|n| !n.is_empty())
            .ok_or("connection string: no AccountName")?;
        let endpoint = blob_endpoint.or_else(|| {
            suffix.map(|sfx| {
                format!(
                    "{}://{name}.blob.{sfx}",
                    protocol.as_deref().unwrap_or("https")
                )
            })
        });
        Ok(AzureConfig {
            account_name: name,
            account_key: key.filter(|k| !k.is_empty()),
            container: container.to_owned(),
            endpoint,
        })
    }
}

#[cfg(feature = "azure")]
impl std::fmt::Debug for AzureConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureConfig")
            .field("account_name", &self.account_name)
            .field(
                "account_key",
                &self.account_key.as_ref().map(|_| "<redacted>"),
            )
            .field("container", &self.container)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Everything needed to reach a Google Cloud Storage bucket. Always Athens' S3 key layout
/// (`<module>/@v/<version>.{info,mod,zip}`, as Athens' `pkg/storage/gcp`). The JSON key is
/// redacted from `Debug`.
#[cfg(feature = "gcs")]
#[derive(Clone, PartialEq, Eq)]
pub struct GcsConfig {
    /// The bucket (`ATHENS_STORAGE_GCP_BUCKET`). It must exist.
    pub bucket: String,
    /// A service-account JSON key, base64-encoded (`ATHENS_STORAGE_GCP_JSON_KEY`). With
    /// none, Google's default credentials are used (`GOOGLE_APPLICATION_CREDENTIALS`, the
    /// gcloud configuration, the VM metadata server).
    pub json_key: Option<String>,
    /// An emulator's `host:port` or URL (`STORAGE_EMULATOR_HOST`, as Google's client
    /// libraries read it). When set, requests go there, unauthenticated.
    pub emulator_host: Option<String>,
}

#[cfg(feature = "gcs")]
impl GcsConfig {
    /// The emulator's base URL: `STORAGE_EMULATOR_HOST` with `http://` added when it has
    /// no scheme (as Google's Go client does).
    pub fn emulator_url(&self) -> Option<String> {
        let host = self.emulator_host.as_deref()?.trim().trim_end_matches('/');
        if host.is_empty() {
            return None;
        }
        Some(if host.contains("://") {
            host.to_owned()
        } else {
            format!("http://{host}")
        })
    }
}

#[cfg(feature = "gcs")]
impl std::fmt::Debug for GcsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsConfig")
            .field("bucket", &self.bucket)
            .field("json_key", &self.json_key.as_ref().map(|_| "<redacted>"))
            .field("emulator_host", &self.emulator_host)
            .finish()
    }
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
    /// Connects to the bucket described by `config` (no request is made until first use;
    /// call [`Storage::ready`] to probe it).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) when the configuration
    /// cannot make a client (a malformed endpoint URL, for instance).
    pub fn s3(config: &S3Config) -> Result<Self, StorageError> {
        // The binary installs ring as the process-wide rustls provider; tests and other
        // embedders may not have, and reqwest is built without a provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let region = if config.region.trim().is_empty() {
            "us-east-1"
        } else {
            config.region.trim()
        };
        let (client, retry) = client_options();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(region)
            .with_client_options(client)
            .with_retry(retry)
            .with_virtual_hosted_style_request(!config.force_path_style);
        if let Some(endpoint) = config.endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
            let endpoint = if endpoint.contains("://") {
                endpoint.trim().trim_end_matches('/').to_owned()
            } else {
                S3Config::with_scheme(endpoint, true)
            };
            builder = builder.with_allow_http(endpoint.starts_with("http://"));
            // object_store expects a virtual-hosted endpoint to name the bucket already;
            // the AWS SDK (and so Athens) puts the bucket in front of a custom endpoint.
            let endpoint = if config.force_path_style {
                endpoint
            } else {
                match endpoint.split_once("://") {
                    Some((scheme, host)) => format!("{scheme}://{}.{host}", config.bucket),
                    None => endpoint,
                }
            };
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(key), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
            if let Some(token) = config.session_token.as_deref().filter(|t| !t.is_empty()) {
                builder = builder.with_token(token);
            }
        }
        let store = builder
            .build()
            .map_err(|e| map_err("configuring S3 client", e))?;
        let describe = format!(
            "{}:{}{}",
            match config.layout {
                Layout::S3 => "s3",
                Layout::Minio => "minio",
            },
            config.bucket,
            config
                .endpoint
                .as_deref()
                .map(|e| format!(" at {e}"))
                .unwrap_or_default()
        );
        Ok(ObjectStorage {
            store: Arc::new(store),
            layout: config.layout,
            describe,
            stale_claim_age: DEFAULT_STALE_CLAIM_AGE,
            claim_wait: DEFAULT_CLAIM_WAIT,
            zip_upload: ZipUpload::Multipart,
        })
    }

    /// Connects to the Azure Blob container described by `config`, in Athens' S3 key
    /// layout (`<module>/@v/<version>.{info,mod,zip}`). No request is made until first
    /// use.
    ///
    /// Create-only writes are `If-None-Match: *`; the zip is a block blob uploaded in
    /// [`PART_SIZE`] blocks and committed with one Put Block List (uncommitted blocks of
    /// a failed upload are invisible, and Azure discards them after a week).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) when the configuration
    /// cannot make a client (a malformed endpoint URL or account key, for instance).
    #[cfg(feature = "azure")]
    pub fn azure(config: &AzureConfig) -> Result<Self, StorageError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (client, retry) = client_options();
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&config.account_name)
            .with_container_name(&config.container)
            .with_client_options(client)
            .with_retry(retry);
        if let Some(key) = config.account_key.as_deref().filter(|k| !k.is_empty()) {
            builder = builder.with_access_key(key);
        }
        if let Some(endpoint) = config.endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
            let endpoint = endpoint.trim().trim_end_matches('/');
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint.to_owned());
        }
        let store = builder
            .build()
            .map_err(|e| map_err("configuring Azure Blob client", e))?;
        let describe = format!(
            "azureblob:{}/{}{}",
            config.account_name,
            config.container,
            config
                .endpoint
                .as_deref()
                .map(|e| format!(" at {e}"))
                .unwrap_or_default()
        );
        Ok(ObjectStorage {
            store: Arc::new(store),
            layout: Layout::S3,
            describe,
            stale_claim_age: DEFAULT_STALE_CLAIM_AGE,
            zip_upload: ZipUpload::Multipart,
            claim_wait: DEFAULT_CLAIM_WAIT,
        })
    }

    /// Connects to the Google Cloud Storage bucket described by `config`, in Athens' S3
    /// key layout. No request is made until first use.
    ///
    /// The client is OpenDAL's GCS service (the JSON API), wrapped by
    /// `object_store_opendal` so that the write protocol is the one every other bucket
    /// uses. Create-only writes carry `ifGenerationMatch=0`; the zip goes up as a
    /// resumable upload in 8 MiB chunks, also with `ifGenerationMatch=0`.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) when the configuration
    /// cannot make a client (an unreadable JSON key, for instance).
    #[cfg(feature = "gcs")]
    pub fn gcs(config: &GcsConfig) -> Result<Self, StorageError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let unavailable =
            |what: &str, e: opendal::Error| StorageError::io(what, io::Error::other(e.to_string()));
        let mut builder = opendal::services::Gcs::default().bucket(&config.bucket);
        let emulator = config.emulator_url();
        if let Some(url) = &emulator {
            // Google's libraries send no credentials to an emulator.
            builder = builder
                .endpoint(url)
                .skip_signature()
                .disable_vm_metadata()
                .disable_config_load();
        } else if let Some(key) = config.json_key.as_deref().filter(|k| !k.trim().is_empty()) {
            builder = builder.credential(key.trim());
        }
        let op = opendal::Operator::new(builder)
            .map_err(|e| unavailable("configuring GCS client", e))?
            .layer(
                // Like client_options(): a few quick retries, then report the outage.
                opendal::layers::RetryLayer::new()
                    .with_max_times(2)
                    .with_max_delay(Duration::from_secs(2)),
            );
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| StorageError::io("configuring GCS client", io::Error::other(e)))?;
        let transport = opendal::HttpTransporter::new(
            opendal_http_transport_reqwest::ReqwestTransport::new(client),
        );
        let ctx = op.base_context().with_http_transport(transport);
        let op = op.with_context(ctx);
        let describe = format!(
            "gcs:{}{}",
            config.bucket,
            emulator.map(|e| format!(" at {e}")).unwrap_or_default()
        );
        Ok(ObjectStorage {
            store: Arc::new(object_store_opendal::OpendalStore::new(op.clone())),
            layout: Layout::S3,
            describe,
            stale_claim_age: DEFAULT_STALE_CLAIM_AGE,
            zip_upload: ZipUpload::CreateOnly(op),
            claim_wait: DEFAULT_CLAIM_WAIT,
        })
    }

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

    fn key(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
    ) -> Result<Path, StorageError> {
        let (m, v) = (module.as_str(), version.as_str());
        let raw = match (self.layout, artifact) {
            (Layout::S3, Artifact::Info) => format!("{m}/@v/{v}.info"),
            (Layout::S3, Artifact::Mod) => format!("{m}/@v/{v}.mod"),
            (Layout::S3, Artifact::Zip) => format!("{m}/@v/{v}.zip"),
            (Layout::Minio, Artifact::Info) => format!("{m}/{v}/{v}.info"),
            (Layout::Minio, Artifact::Mod) => format!("{m}/{v}/go.mod"),
            (Layout::Minio, Artifact::Zip) => format!("{m}/{v}/source.zip"),
        };
        object_path(&raw)
    }

    /// Gets a small object whole. `Ok(None)` on a real 404 for the object.
    async fn get_small(&self, key: &Path) -> Result<Option<Bytes>, StorageError> {
        let res = async { self.store.get(key).await?.bytes().await }.await;
        match res {
            Ok(b) => Ok(Some(b)),
            Err(e) => match classify(&e) {
                Class::NotFound => Ok(None),
                _ => Err(map_err(&format!("reading {key}"), e)),
            },
        }
    }

    /// The `.info` bytes, or NotFound. A GET rather than a HEAD: a HEAD's 404 has no body,
    /// so a missing bucket would look like a missing version.
    async fn require_info(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Bytes, StorageError> {
        self.get_small(&self.key(module, version, Artifact::Info)?)
            .await?
            .ok_or_else(|| StorageError::not_found(format!("{}: not stored", version.as_str())))
    }

    async fn put_small(
        &self,
        key: &Path,
        data: Bytes,
        mode: PutMode,
        artifact: Artifact,
    ) -> Result<(), StorageError> {
        let opts = PutOptions {
            mode,
            attributes: artifact.attributes(),
            ..PutOptions::default()
        };
        self.store
            .put_opts(key, PutPayload::from_bytes(data), opts)
            .await
            .map(drop)
            .map_err(|e| map_err(&format!("writing {key}"), e))
    }

    /// Takes the writer's claim on a version (creates its `.mod`). Returns
    /// `AlreadyExists` once the version is committed by someone else.
    async fn claim(
        &self,
        module: &ModulePath,
        version: &Version,
        go_mod: &Bytes,
    ) -> Result<(), StorageError> {
        let mod_key = self.key(module, version, Artifact::Mod)?;
        let started = std::time::Instant::now();
        loop {
            if self
                .get_small(&self.key(module, version, Artifact::Info)?)
                .await?
                .is_some()
            {
                return Err(already(version));
            }
            let opts = PutOptions {
                mode: PutMode::Create,
                attributes: Artifact::Mod.attributes(),
                ..PutOptions::default()
            };
            match self
                .store
                .put_opts(&mod_key, PutPayload::from_bytes(go_mod.clone()), opts)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => match classify(&e) {
                    Class::AlreadyExists => {}
                    // AWS answers 409 ConditionalRequestConflict while another
                    // conditional write of the key is in flight: look again shortly.
                    Class::Conflict => {
                        tokio::time::sleep(CLAIM_POLL).await;
                        continue;
                    }
                    _ => return Err(map_err(&format!("writing {mod_key}"), e)),
                },
            }
            // Someone holds the claim: a live writer (wait for its commit), or a dead one
            // (take over once the claim is old enough).
            let meta = match self.store.head(&mod_key).await {
                Ok(meta) => meta,
                Err(e) if matches!(classify(&e), Class::NotFound) => continue,
                Err(e) => return Err(map_err(&format!("checking {mod_key}"), e)),
            };
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let age =
                now.saturating_sub(u64::try_from(meta.last_modified.timestamp()).unwrap_or(0));
            if age >= self.stale_claim_age.as_secs() {
                // Re-check the marker: the holder may have committed since the last look.
                if self
                    .get_small(&self.key(module, version, Artifact::Info)?)
                    .await?
                    .is_some()
                {
                    return Err(already(version));
                }
                warn!(key = %mod_key, age_secs = age, "taking over an abandoned write");
                match self.store.delete(&mod_key).await {
                    Ok(()) => {}
                    Err(e) if matches!(classify(&e), Class::NotFound) => {}
                    Err(e) => return Err(map_err(&format!("removing {mod_key}"), e)),
                }
                continue;
            }
            if started.elapsed() >= self.claim_wait {
                return Err(StorageError::io(
                    format!("storing {module}@{version}"),
                    io::Error::other(format!(
                        "another writer has held its claim ({mod_key}) for {age}s without \
                         committing; try again later"
                    )),
                ));
            }
            tokio::time::sleep(CLAIM_POLL).await;
        }
    }

    /// Uploads the zip from the spool file, never holding more than a few parts.
    async fn upload_zip(&self, key: &Path, mut file: tokio::fs::File) -> Result<(), StorageError> {
        let first = read_part(&mut file)
            .await
            .map_err(|e| StorageError::io("reading the zip spool file", e))?;
        #[cfg(feature = "gcs")]
        if let ZipUpload::CreateOnly(op) = &self.zip_upload {
            return upload_create_only(op, key, first, file).await;
        }
        if first.len() < PART_SIZE {
            // The whole zip fits in one part: one PUT. Overwrite, because only the claim
            // holder gets here, and what is there is an abandoned write.
            return self
                .put_small(key, first, PutMode::Overwrite, Artifact::Zip)
                .await;
        }
        let opts = PutMultipartOptions {
            attributes: Artifact::Zip.attributes(),
            ..PutMultipartOptions::default()
        };
        let upload = self
            .store
            .put_multipart_opts(key, opts)
            .await
            .map_err(|e| map_err(&format!("starting upload of {key}"), e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let res: Result<(), StorageError> = async {
            writer.put(first);
            loop {
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| map_err(&format!("uploading {key}"), e))?;
                let part = read_part(&mut file)
                    .await
                    .map_err(|e| StorageError::io("reading the zip spool file", e))?;
                if part.is_empty() {
                    return Ok(());
                }
                writer.put(part);
            }
        }
        .await;
        match res {
            Ok(()) => writer
                .finish()
                .await
                .map(drop)
                .map_err(|e| map_err(&format!("completing upload of {key}"), e)),
            Err(e) => {
                // Never leave parts behind (they are billed, and invisible to listings).
                if let Err(abort) = writer.abort().await {
                    warn!(key = %key, error = %abort, "could not abort a failed multipart upload");
                }
                Err(e)
            }
        }
    }

    async fn put_inner(
        self,
        module: ModulePath,
        version: Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        // Opened before anything else: once open, the caller may remove the spool file.
        let file = tokio::fs::File::open(&new.zip)
            .await
            .map_err(|e| StorageError::io(format!("opening {}", new.zip.display()), e))?;
        self.claim(&module, &version, &new.go_mod).await?;
        let mod_key = self.key(&module, &version, Artifact::Mod)?;
        let res = async {
            self.upload_zip(&self.key(&module, &version, Artifact::Zip)?, file)
                .await?;
            self.put_small(
                &self.key(&module, &version, Artifact::Info)?,
                new.info,
                PutMode::Create,
                Artifact::Info,
            )
            .await
        }
        .await;
        match res {
            Ok(()) => {
                debug!(
                    module = module.as_str(),
                    version = version.as_str(),
                    "stored"
                );
                Ok(())
            }
            Err(e) if e.kind() == crate::ErrorKind::AlreadyExists => Err(e),
            Err(e) => {
                // Release the claim so the next writer need not wait for it to go stale,
                // but only when the `.info` is known to be absent: a commit whose answer
                // was lost may have gone through, and its version needs the `.mod`.
                match self
                    .get_small(&self.key(&module, &version, Artifact::Info)?)
                    .await
                {
                    Ok(None) => {
                        if let Err(del) = self.store.delete(&mod_key).await {
                            warn!(key = %mod_key, error = %del, "could not release a failed write's claim");
                        }
                    }
                    Ok(Some(_)) => {
                        warn!(key = %mod_key, "a put reported failure but its version is committed");
                    }
                    Err(check) => {
                        warn!(key = %mod_key, error = %check, "leaving a failed write's claim to go stale");
                    }
                }
                Err(e)
            }
        }
    }

    /// The version named by a listed key, if the key is a commit marker of `module`.
    fn version_of(&self, prefix: &str, key: &str) -> Option<String> {
        let rest = key.strip_prefix(prefix)?;
        let version = match self.layout {
            Layout::S3 => rest.strip_suffix(".info").filter(|v| !v.contains('/'))?,
            Layout::Minio => {
                let (dir, file) = rest.split_once('/')?;
                (file.strip_suffix(".info") == Some(dir)).then_some(dir)?
            }
        };
        // Athens' rule for directory names: the canonical form must be a prefix of the
        // name. For the S3 layout any `.info` name counts, as in Athens.
        if self.layout == Layout::Minio {
            let canonical = semver::canonical(version);
            if canonical.is_empty() || !version.starts_with(&canonical) {
                return None;
            }
        }
        Some(version.to_owned())
    }
}

/// The version a listed key commits, if it is a commit marker in `layout`.
fn catalog_entry(layout: Layout, key: &str) -> Option<(ModulePath, Version)> {
    let stem = key.strip_suffix(".info")?;
    let (module, version) = match layout {
        Layout::S3 => stem.rsplit_once("/@v/")?,
        Layout::Minio => {
            let (dir, version) = stem.rsplit_once('/')?;
            (dir.strip_suffix(version)?.strip_suffix('/')?, version)
        }
    };
    if version.is_empty() || version.contains('/') {
        return None;
    }
    Some((
        ModulePath::new(module).ok()?,
        Version::from_trusted(version),
    ))
}

#[async_trait]
impl Storage for ObjectStorage {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        let prefix = match self.layout {
            Layout::S3 => format!("{}/@v", module.as_str()),
            Layout::Minio => module.as_str().to_owned(),
        };
        let prefix_path = object_path(&prefix)?;
        let with_slash = format!("{prefix}/");
        // object_store follows continuation tokens, one page (1000 keys) at a time.
        let mut keys = self.store.list(Some(&prefix_path));
        let mut versions = Vec::new();
        while let Some(meta) = keys.next().await {
            let meta = meta.map_err(|e| map_err(&format!("listing {prefix}/"), e))?;
            if let Some(v) = self.version_of(&with_slash, meta.location.as_ref()) {
                versions.push(v);
            }
        }
        Ok(versions)
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        match self.require_info(module, version).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.require_info(module, version).await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.require_info(module, version).await?;
        let key = self.key(module, version, Artifact::Mod)?;
        self.get_small(&key).await?.ok_or_else(|| {
            StorageError::corrupt(format!("{key} is missing from a complete version"))
        })
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        self.require_info(module, version).await?;
        let key = self.key(module, version, Artifact::Zip)?;
        let meta = match self.store.head(&key).await {
            Ok(meta) => meta,
            Err(e) if matches!(classify(&e), Class::NotFound) => {
                return Err(StorageError::corrupt(format!(
                    "{key} is missing from a complete version"
                )));
            }
            Err(e) => return Err(map_err(&format!("opening {key}"), e)),
        };
        let etag = meta
            .e_tag
            .clone()
            .map(|t| t.trim_matches('"').to_owned())
            .filter(|t| !t.is_empty());
        let tag = etag
            .clone()
            .unwrap_or_else(|| format!("{:x}-{:x}", meta.last_modified.timestamp(), meta.size));
        // Only characters that are safe inside an HTTP entity tag.
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(ZipObject::new(
            meta.size,
            tag,
            Box::new(ObjectZip {
                store: self.store.clone(),
                key,
                etag: meta.e_tag,
            }),
        ))
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        // Run the write as its own task: if the caller gives up (a timeout, a dropped
        // request), the upload still completes or aborts and the claim is still released,
        // instead of stopping half way with a multipart upload left open.
        let task = tokio::spawn(self.clone().put_inner(module.clone(), version.clone(), new));
        task.await
            .map_err(|e| StorageError::io("storing version", io::Error::other(e)))?
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        self.require_info(module, version).await?;
        // The marker first, so the version disappears at once even if the rest fails.
        for artifact in [Artifact::Info, Artifact::Zip, Artifact::Mod] {
            let key = self.key(module, version, artifact)?;
            match self.store.delete(&key).await {
                Ok(()) => {}
                Err(e) if matches!(classify(&e), Class::NotFound) => {}
                Err(e) => return Err(map_err(&format!("removing {key}"), e)),
            }
        }
        Ok(())
    }

    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        let after = parse_catalog_token(token)?;
        let want = catalog_want(page_size)?;
        let offset = match &after {
            Some((m, v)) => Some(self.key(m, v, Artifact::Info)?),
            None => None,
        };
        let mut keys = match &offset {
            Some(offset) => self.store.list_with_offset(None, offset),
            None => self.store.list(None),
        };
        let mut found = Vec::new();
        while found.len() < want {
            let Some(meta) = keys.next().await else {
                break;
            };
            // A listing has no object to be absent: any failure is an outage.
            let meta = meta.map_err(|e| {
                StorageError::io("listing the bucket", io::Error::other(error_chain(&e)))
            })?;
            // Some servers ignore the offset (Azurite ignores `startFrom`, and object_store
            // cannot tell it from Azure): never trust it to have skipped anything.
            if offset.as_ref().is_some_and(|o| meta.location <= *o) {
                continue;
            }
            if let Some(entry) = catalog_entry(self.layout, meta.location.as_ref()) {
                found.push(entry);
            }
        }
        Ok(catalog_page(found, page_size))
    }

    async fn ready(&self) -> Result<(), StorageError> {
        // A LIST, because it fails on a missing bucket (NoSuchBucket) and on bad
        // credentials, where a HEAD of some key would just say 404.
        let probe = Path::from(".agora-ready-probe");
        match self.store.list_with_delimiter(Some(&probe)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(StorageError::io(
                format!("probing bucket {}", self.describe),
                io::Error::other(e),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Artifact {
    Info,
    Mod,
    Zip,
}

impl Artifact {
    /// Content types as Athens sets them on upload.
    fn attributes(self) -> Attributes {
        let ct = match self {
            Artifact::Info => "application/json",
            Artifact::Mod => "text/plain",
            Artifact::Zip => "application/octet-stream",
        };
        let mut a = Attributes::new();
        a.insert(Attribute::ContentType, ct.into());
        a
    }
}

/// The HTTP client settings every backend shares.
fn client_options() -> (ClientOptions, RetryConfig) {
    let client = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        // No whole-request timeout: a zip download streams for as long as the client
        // reads. A stalled connection is caught by the read timeout instead.
        .with_timeout_disabled()
        .with_read_timeout(Duration::from_secs(60));
    // object_store retries for up to 3 minutes by default; an unreachable store should
    // be reported (503, /readyz) in seconds, and the caller retries anyway.
    let retry = RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
        ..RetryConfig::default()
    };
    (client, retry)
}

/// Reads up to one part from the spool file; empty at the end.
async fn read_part(file: &mut tokio::fs::File) -> io::Result<Bytes> {
    let mut buf = BytesMut::with_capacity(PART_SIZE);
    while buf.len() < PART_SIZE {
        let n = file.read_buf(&mut buf).await?;
        if n == 0 {
            break;
        }
    }
    Ok(buf.freeze())
}

/// Uploads a zip create-only through an OpenDAL writer, streaming from the spool file
/// (`first` is its first part, already read). Only the claim holder gets here, so a zip
/// already there is an abandoned write's: it is removed and the upload made again, once.
#[cfg(feature = "gcs")]
async fn upload_create_only(
    op: &opendal::Operator,
    key: &Path,
    first: Bytes,
    mut file: tokio::fs::File,
) -> Result<(), StorageError> {
    use tokio::io::AsyncSeekExt;

    let path = key.as_ref();
    let mut first = Some(first);
    for attempt in 0..2 {
        let part = match first.take() {
            Some(part) => part,
            None => {
                file.rewind()
                    .await
                    .map_err(|e| StorageError::io("rereading the zip spool file", e))?;
                read_part(&mut file)
                    .await
                    .map_err(|e| StorageError::io("reading the zip spool file", e))?
            }
        };
        match write_create_only(op, path, part, &mut file).await {
            Err(e) if attempt == 0 && e.kind() == crate::ErrorKind::AlreadyExists => {
                warn!(key = %key, "replacing the zip of an abandoned write");
                op.delete(path)
                    .await
                    .map_err(|e| map_opendal_err(&format!("removing {key}"), &e))?;
            }
            res => return res,
        }
    }
    Err(StorageError::already_exists(format!(
        "writing {key}: already exists"
    )))
}

#[cfg(feature = "gcs")]
async fn write_create_only(
    op: &opendal::Operator,
    path: &str,
    first: Bytes,
    file: &mut tokio::fs::File,
) -> Result<(), StorageError> {
    let mut writer = op
        .writer_with(path)
        .if_not_exists(true)
        .content_type("application/octet-stream")
        .await
        .map_err(|e| map_opendal_err(&format!("starting upload of {path}"), &e))?;
    let res: Result<(), StorageError> = async {
        let mut part = first;
        while !part.is_empty() {
            writer
                .write(part)
                .await
                .map_err(|e| map_opendal_err(&format!("uploading {path}"), &e))?;
            part = read_part(file)
                .await
                .map_err(|e| StorageError::io("reading the zip spool file", e))?;
        }
        writer
            .close()
            .await
            .map(drop)
            .map_err(|e| map_opendal_err(&format!("completing upload of {path}"), &e))
    }
    .await;
    if res.is_err() {
        // Cancel the resumable session (nothing was made visible).
        if let Err(abort) = writer.abort().await {
            debug!(key = path, error = %abort, "could not cancel a failed upload");
        }
    }
    res
}

#[cfg(feature = "gcs")]
fn map_opendal_err(context: &str, e: &opendal::Error) -> StorageError {
    match e.kind() {
        opendal::ErrorKind::NotFound => StorageError::not_found(format!("{context}: not found")),
        opendal::ErrorKind::AlreadyExists | opendal::ErrorKind::ConditionNotMatch => {
            StorageError::already_exists(format!("{context}: already exists"))
        }
        _ => StorageError::io(context, io::Error::other(e.to_string())),
    }
}

/// The key for `raw`, byte for byte. `Path::from` would percent-encode characters such as
/// `~` and miss Athens' keys; `Path::parse` keeps them, and only refuses empty, `.` and `..`
/// elements, which validated module paths and versions never have.
fn object_path(raw: &str) -> Result<Path, StorageError> {
    Path::parse(raw)
        .map_err(|e| StorageError::corrupt(format!("cannot make a key of {raw:?}: {e}")))
}

fn already(version: &Version) -> StorageError {
    StorageError::already_exists(format!("{} is already stored", version.as_str()))
}

enum Class {
    NotFound,
    AlreadyExists,
    /// A conditional write raced another one (S3's 409 `ConditionalRequestConflict`).
    Conflict,
    Unavailable,
}

/// Sorts an `object_store` error into what the caller needs to know. A 404 counts as
/// absence only when it is about the object: S3 answers 404 `NoSuchBucket` for a missing
/// bucket, and that is an outage, not an empty cache.
fn classify(e: &object_store::Error) -> Class {
    match e {
        object_store::Error::NotFound { .. } => {
            let chain = error_chain(e);
            // S3 `NoSuchBucket`, Azure `ContainerNotFound`, GCS's JSON API "The specified
            // bucket does not exist." (OpenDAL keeps the error body in its message).
            if chain.contains("NoSuchBucket")
                || chain.contains("ContainerNotFound")
                || chain.contains("bucket does not exist")
            {
                Class::Unavailable
            } else {
                Class::NotFound
            }
        }
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            Class::AlreadyExists
        }
        _ if error_chain(e).contains("ConditionalRequestConflict") => Class::Conflict,
        _ => Class::Unavailable,
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

fn map_err(context: &str, e: object_store::Error) -> StorageError {
    match classify(&e) {
        Class::NotFound => StorageError::not_found(format!("{context}: not found")),
        Class::AlreadyExists => StorageError::already_exists(format!("{context}: already exists")),
        Class::Conflict | Class::Unavailable => {
            StorageError::io(context, io::Error::other(error_chain(&e)))
        }
    }
}

struct ObjectZip {
    store: Arc<dyn ObjectStore>,
    key: Path,
    etag: Option<String>,
}

#[async_trait]
impl ZipSource for ObjectZip {
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError> {
        if range.start >= range.end {
            // S3 rejects an empty byte range; there is nothing to fetch anyway.
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range)),
            // Never splice two different zips into one download: if the object changed
            // since it was opened, fail instead.
            if_match: self.etag.clone(),
            ..GetOptions::default()
        };
        let key = self.key;
        let res = self
            .store
            .get_opts(&key, opts)
            .await
            .map_err(|e| match classify(&e) {
                Class::NotFound => StorageError::corrupt(format!("{key} vanished while opened")),
                _ => map_err(&format!("reading {key}"), e),
            })?;
        Ok(Box::pin(
            res.into_stream()
                .map_err(|e| io::Error::other(error_chain(&e))),
        ))
    }
}
