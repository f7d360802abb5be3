//! The validated, typed configuration tree handed to the binary.
//!
//! Every value here has already been parsed and checked: holding a [`Settings`] means the
//! configuration is usable. The binary maps these plain values onto components; this crate
//! does not know about servers, stores or upstream clients.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The complete effective configuration of one agora process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// HTTP listener settings.
    pub server: ServerSettings,
    /// Logging settings.
    pub log: LogSettings,
    /// Which storage backend holds the module cache.
    pub storage: StorageSettings,
    /// How modules missing from storage are fetched.
    pub upstream: UpstreamSettings,
    /// Directory for agora's own state. Key `data_dir`, env `AGORA_DATA_DIR`. Default
    /// `$XDG_DATA_HOME/agora`, else `$HOME/.local/share/agora`, else `./agora-data`.
    pub data_dir: PathBuf,
    /// Spool directory for upstream downloads in progress. Key `tmp_dir`, env
    /// `AGORA_TMP_DIR`. Default `<data_dir>/tmp`.
    pub tmp_dir: PathBuf,
}

/// HTTP listener settings (`[server]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// TCP listen address as `host:port`, already normalised: Athens' `:3000` and `3000`
    /// become `0.0.0.0:3000`. IPv6 hosts are bracketed (`[::1]:3000`). Port 0 is allowed
    /// (an ephemeral port, useful in tests).
    pub listen: String,
    /// Base path for every proxy route: empty, or starts with `/` and has no trailing `/`.
    pub path_prefix: String,
    /// How long a graceful shutdown may take before connections are dropped.
    pub shutdown_timeout: Duration,
    /// Listen on this Unix socket instead of TCP (Athens `UnixSocket`). `None` means TCP.
    /// Parsed and validated here; whether the binary supports it is its own decision.
    pub unix_socket: Option<PathBuf>,
}

/// Logging settings (`[log]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// Most verbose level that is emitted.
    pub level: LogLevel,
    /// Output format.
    pub format: LogFormat,
}

/// Log verbosity. Athens' logrus spellings are accepted when parsing: `warning` means
/// [`LogLevel::Warn`], and `fatal` and `panic` mean [`LogLevel::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Everything, including per-step tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operational messages (agora's default; Athens defaults to debug).
    Info,
    /// Problems that do not stop a request.
    Warn,
    /// Failures only.
    Error,
}

impl LogLevel {
    /// The canonical lowercase name, as written in agora's config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<LogLevel> for tracing::Level {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Trace => tracing::Level::TRACE,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Error => tracing::Level::ERROR,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Human-readable lines.
    Plain,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The canonical lowercase name, as written in agora's config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The storage backend (`[storage] type = ...` plus that backend's own table).
///
/// Deliberately not `#[non_exhaustive]`: when a backend is added, every `match` in the
/// workspace should fail to compile until it handles the new backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageSettings {
    /// Modules on the local filesystem (`[storage.disk]`).
    Disk {
        /// Root directory of the cache. Non-empty; it may not exist yet (creating it is
        /// the binary's job).
        root: PathBuf,
    },
    /// Modules in process memory; lost on restart.
    Memory,
    /// Modules in an S3 bucket in Athens' S3 layout, `<module>/@v/<version>.{info,mod,zip}`
    /// (`[storage.s3]`, Athens `StorageType = "s3"`).
    S3(S3Settings),
    /// Modules in a MinIO (or any S3-compatible) bucket in Athens' MinIO layout, which is
    /// the disk layout: `<module>/<version>/{go.mod,source.zip,<version>.info}`
    /// (`[storage.minio]`, Athens `StorageType = "minio"`).
    Minio(MinioSettings),
    /// Modules in an Azure Blob container in Athens' Azure layout, which is the S3 layout
    /// (`[storage.azure]`, Athens `StorageType = "azureblob"`).
    Azure(AzureSettings),
    /// Modules in a Google Cloud Storage bucket in Athens' GCS layout, which is the S3
    /// layout (`[storage.gcp]`, Athens `StorageType = "gcp"`).
    Gcp(GcpSettings),
    /// Modules kept by a server speaking Athens' external storage protocol
    /// (`[storage.external]`, Athens `StorageType = "external"`).
    External(ExternalSettings),
    /// Modules in a MongoDB database in Athens' layout: a `modules` collection plus GridFS
    /// (`[storage.mongo]`, Athens `StorageType = "mongo"`).
    Mongo(MongoSettings),
}

/// `[storage.mongo]`: a MongoDB database, with Athens' `Storage.Mongo` meaning (see
/// `docs/storage/mongo.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoSettings {
    /// The connection string, `mongodb://` or `mongodb+srv://` (required; a secret, since
    /// it may hold a password). Env `AGORA_MONGO_URL`, `ATHENS_MONGO_STORAGE_URL`.
    pub url: Secret,
    /// Default `athens`. Env `AGORA_MONGO_DATABASE`, `ATHENS_MONGO_DEFAULT_DATABASE`.
    pub database: String,
    /// Default `modules`. Env `AGORA_MONGO_COLLECTION`, `ATHENS_MONGO_DEFAULT_COLLECTION`.
    pub collection: String,
    /// CA certificates (PEM) to trust; setting it turns TLS on. Env
    /// `AGORA_MONGO_CERT_PATH`, `ATHENS_MONGO_CERT_PATH`.
    pub cert_path: Option<PathBuf>,
    /// Accept any server certificate. Env `AGORA_MONGO_INSECURE`, `ATHENS_MONGO_INSECURE`.
    pub insecure: bool,
}

/// `[storage.external]`: a server speaking Athens' external storage protocol (see
/// `docs/storage/external.md`), with Athens' `Storage.External` meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSettings {
    /// The server's base URL, `http://` or `https://` with a host, no trailing `/`
    /// (required). Env `AGORA_EXTERNAL_URL`, `ATHENS_EXTERNAL_STORAGE_URL`.
    pub url: String,
}

/// `[storage.gcp]`: a Google Cloud Storage bucket, with Athens' `Storage.GCP` meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpSettings {
    /// The bucket (required; agora never creates it). Env `AGORA_GCP_BUCKET`,
    /// `ATHENS_STORAGE_GCP_BUCKET`.
    pub bucket: String,
    /// A service-account JSON key, base64-encoded. With none, Google's default
    /// credentials are used. Env `AGORA_GCP_JSON_KEY`, `ATHENS_STORAGE_GCP_JSON_KEY`.
    pub json_key: Option<Secret>,
    /// A GCS emulator's `host:port` (or URL): requests go there, with no credentials.
    /// Env `AGORA_GCP_EMULATOR_HOST`, `STORAGE_EMULATOR_HOST` (as Google's libraries).
    pub emulator_host: Option<String>,
}

/// `[storage.azure]`: an Azure Blob container, with Athens' `Storage.AzureBlob` meaning.
///
/// At least one of `account_name` and `connection_string` is set. The connection string
/// (`AZURE_STORAGE_CONNECTION_STRING`) supplies the account, key and `BlobEndpoint`;
/// `account_name` and `account_key`, when set, win over its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureSettings {
    /// The storage account. Env `AGORA_AZURE_ACCOUNT_NAME`, `ATHENS_AZURE_ACCOUNT_NAME`.
    pub account_name: Option<String>,
    /// The account key (base64). With none (and none in the connection string), the
    /// Azure credential chain of the environment is used. Env `AGORA_AZURE_ACCOUNT_KEY`,
    /// `ATHENS_AZURE_ACCOUNT_KEY`.
    pub account_key: Option<Secret>,
    /// The container (required; agora never creates it). Env `AGORA_AZURE_CONTAINER`,
    /// `ATHENS_AZURE_CONTAINER_NAME`.
    pub container: String,
    /// A storage connection string. Env `AGORA_AZURE_CONNECTION_STRING`,
    /// `AZURE_STORAGE_CONNECTION_STRING`.
    pub connection_string: Option<Secret>,
}

/// `[storage.s3]`: an S3 bucket, with Athens' `Storage.S3` meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The bucket (non-empty). Key `storage.s3.bucket`; env `AGORA_S3_BUCKET`,
    /// `ATHENS_S3_BUCKET_NAME`.
    pub bucket: String,
    /// The region. Default `us-east-1`. Env `AGORA_S3_REGION`, `AWS_REGION`.
    pub region: String,
    /// A custom endpoint URL (an S3-compatible service); `None` means AWS. Env
    /// `AGORA_S3_ENDPOINT`, `AWS_ENDPOINT`.
    pub endpoint: Option<String>,
    /// Static credentials; with none, the instance or container metadata service is used.
    /// Env `AGORA_S3_ACCESS_KEY_ID`, `AWS_ACCESS_KEY_ID`. Set together with
    /// `secret_access_key`.
    pub access_key_id: Option<String>,
    /// Env `AGORA_S3_SECRET_ACCESS_KEY`, `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<Secret>,
    /// Temporary credentials' session token. Env `AGORA_S3_SESSION_TOKEN`,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<Secret>,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted ones. Env
    /// `AGORA_S3_FORCE_PATH_STYLE`, `AWS_FORCE_PATH_STYLE`.
    pub force_path_style: bool,
}

/// `[storage.minio]`: a MinIO server, with Athens' `Storage.Minio` meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinioSettings {
    /// `host:port` (any `http://`/`https://` prefix already removed, as Athens does); the
    /// scheme comes from `use_ssl`. Env `AGORA_MINIO_ENDPOINT`, `ATHENS_MINIO_ENDPOINT`.
    pub endpoint: String,
    /// Env `AGORA_MINIO_ACCESS_KEY_ID`, `ATHENS_MINIO_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// Env `AGORA_MINIO_SECRET_ACCESS_KEY`, `ATHENS_MINIO_SECRET_ACCESS_KEY`.
    pub secret_access_key: Secret,
    /// Env `AGORA_MINIO_BUCKET`, `ATHENS_MINIO_BUCKET_NAME`. agora does not create it.
    pub bucket: String,
    /// Default `us-east-1` (Athens' empty region means the same to MinIO). Env
    /// `AGORA_MINIO_REGION`, `ATHENS_MINIO_REGION`.
    pub region: String,
    /// Connect with https. Env `AGORA_MINIO_USE_SSL`, `ATHENS_MINIO_USE_SSL`.
    pub use_ssl: bool,
}

impl MinioSettings {
    /// The endpoint as a URL: `https://host:port` when `use_ssl`, else `http://host:port`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.use_ssl { "https" } else { "http" },
            self.endpoint
        )
    }
}

/// How modules missing from storage are fetched (`[upstream]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSettings {
    /// The upstream list in `GOPROXY` syntax, for example `https://proxy.golang.org,direct`.
    /// It has been checked: it is non-empty, every entry is `off`, `direct` or an
    /// `http`/`https` URL (bare hosts get `https://` as in Go), and `file://` entries are
    /// rejected. The string is kept as written (trimmed); entries after `off` or `direct`
    /// are ignored, as Go ignores them.
    pub goproxy: String,
    /// `GOPRIVATE` patterns: comma-separated `path.Match` globs; `""` means none.
    pub goprivate: String,
    /// `GONOPROXY` patterns; `""` means none (Go then falls back to `GOPRIVATE`).
    pub gonoproxy: String,
    /// `GONOSUMDB` patterns; `""` means none (Go then falls back to `GOPRIVATE`). Athens'
    /// `NoSumPatterns` land here too.
    pub gonosumdb: String,
    /// `GOINSECURE` patterns; `""` means none.
    pub goinsecure: String,
    /// What to do for `list` and `@latest` when upstream fails (Athens `NetworkMode`).
    pub network_mode: NetworkMode,
    /// Timeout for one outbound operation, such as listing versions (Athens `Timeout`).
    /// Never zero.
    pub timeout: Duration,
    /// Timeout for one complete fetch-and-store of a module version (Athens
    /// `StashTimeout`). Never zero.
    pub stash_timeout: Duration,
    /// A netrc file whose credentials `direct` uses for discovery pages (https only) and
    /// for git (Athens `NETRCPath`). Read by the binary at startup; agora never installs
    /// it in a home directory. `None` when unset or empty.
    pub netrc_path: Option<PathBuf>,
    /// A GitHub token, used as `x-access-token:<token>` basic auth for
    /// `https://github.com/` (Athens `GithubToken`). `None` when unset or empty. Loading
    /// fails when both this and `netrc_path` are set, as in Athens.
    pub github_token: Option<Secret>,
    /// The go command that fetches modules from hg, svn, bzr and fossil repositories
    /// (Athens `GoBinary`, env `GO_BINARY_PATH`): a path, or a name looked up on `PATH`.
    /// Used only when `go_fetcher_vcs` is not empty. Default `go`.
    pub go_binary: PathBuf,
    /// The version control systems whose repositories `direct` hands to the go command
    /// (`go mod download -json` in a fresh temporary GOPATH), each one of `hg`, `svn`,
    /// `bzr` and `fossil`, in that order, without duplicates. git is never among them. Empty
    /// (the default): such repositories are refused, and no Go toolchain is needed.
    pub go_fetcher_vcs: Vec<String>,
    /// How many go commands may run at once (Athens `GoGetWorkers`). Default 10, never 0.
    pub go_fetcher_workers: usize,
}

/// Athens' `NetworkMode`: how `list` and `@latest` combine upstream and storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkMode {
    /// Upstream failures are errors.
    Strict,
    /// Never ask upstream for lists; answer from storage only.
    Offline,
    /// Ask upstream, and answer from storage when upstream fails.
    Fallback,
}

impl NetworkMode {
    /// The canonical lowercase name, as written in both config formats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Offline => "offline",
            Self::Fallback => "fallback",
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configuration value that must never be printed: passwords, keys, tokens.
///
/// `Debug` and `Display` both print `<redacted>`, and so does `agora config show`. Use
/// [`Secret::expose`] at the one place that needs the real value. Storage credentials
/// (`storage.s3.secret_access_key`, ...) are secrets.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value. Call this only where the secret is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug_and_display() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            password: Secret,
        }
        let h = Holder { password: s };
        assert!(!format!("{h:?}").contains("hunter2"));
    }

    #[test]
    fn log_level_maps_to_tracing() {
        assert_eq!(tracing::Level::from(LogLevel::Warn), tracing::Level::WARN);
        assert_eq!(LogLevel::Trace.to_string(), "trace");
    }
}
