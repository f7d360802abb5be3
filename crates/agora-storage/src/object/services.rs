//! Each object-store service's settings, and the constructor that makes a client of them.
//!
//! Everything after construction (keys, writes, reads, the catalog) is the same for every
//! service and lives in `protocol`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
#[cfg(feature = "azure")]
use object_store::azure::MicrosoftAzureBuilder;
use object_store::{ClientOptions, RetryConfig};

use super::errors::map_err;
use super::{DEFAULT_CLAIM_WAIT, DEFAULT_STALE_CLAIM_AGE, Layout, ObjectStorage, ZipUpload};
use crate::StorageError;

/// Everything needed to reach an S3 bucket is agora's `[storage.s3]` settings, as
/// `agora-config` declares and validates them (secrets redacted from `Debug`); MinIO is
/// S3 with an endpoint and path-style requests. The key layout comes separately.
pub use agora_config::S3Settings;

/// Adds a scheme to a bare `host:port` endpoint: `https://` when `use_ssl`, else `http://`,
/// which is how Athens' MinIO client reads `ATHENS_MINIO_USE_SSL` (it strips any scheme the
/// endpoint has and connects by `UseSSL` alone).
pub fn with_scheme(endpoint: &str, use_ssl: bool) -> String {
    let bare = endpoint
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    format!("{}://{bare}", if use_ssl { "https" } else { "http" })
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

impl ObjectStorage {
    /// Connects to the bucket described by `config`, in `layout` (no request is made until
    /// first use; call [`Storage::ready`] to probe it).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) when the configuration
    /// cannot make a client (a malformed endpoint URL, for instance).
    pub fn s3(config: &S3Settings, layout: Layout) -> Result<Self, StorageError> {
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
                with_scheme(endpoint, true)
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
                .with_secret_access_key(secret.expose());
            if let Some(token) = config
                .session_token
                .as_ref()
                .map(|t| t.expose())
                .filter(|t| !t.is_empty())
            {
                builder = builder.with_token(token);
            }
        }
        let store = builder
            .build()
            .map_err(|e| map_err("configuring S3 client", e))?;
        let describe = format!(
            "{}:{}{}",
            match layout {
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
            layout,
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
