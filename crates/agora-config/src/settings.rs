//! The validated, typed configuration tree handed to the binary, and the one declaration
//! of every setting.
//!
//! Every value here has already been parsed and checked: holding a [`Settings`] means the
//! configuration is usable. The binary maps these plain values onto components; this crate
//! does not know about servers, stores or upstream clients.
//!
//! Each field of the `*Settings` structs below is declared once, with its agora key,
//! environment names, Athens key, defaults and kind (see [`crate::spec::Spec`]); loading,
//! precedence, validation, `config show` and the docs check all read these declarations.
//! Adding a setting means adding one field here and its row in `docs/configuration.md`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use agora_core::NetworkMode;
use agora_core::goproxy::ProxyList;

use crate::spec::{Spec, settings_group};
use crate::sumdb::{SumDbEntries, SumDbUrls};
use crate::value::Listen as ListenAddr;
use crate::value::{
    Bool, ByteSize, Count, Format, GoProxy, Level, MinioEndpoint, Mode, Opt, OptPath, OptSecret,
    Path, PathPrefix, Patterns, PositiveSeconds, Seconds, StorageKind, StorageType, Url, VcsList,
};
use crate::value::{Endpoints, Index, SingleFlightType};
use crate::value::{IndexType, PgParams};

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
    /// How replicas on one storage fetch a missing version once.
    pub single_flight: SingleFlightSettings,
    /// Checksum databases: proxied, and checked against.
    pub sumdb: SumdbSettings,
    /// Directory for agora's own state. Key `data_dir`, env `AGORA_DATA_DIR`. Default
    /// `$XDG_DATA_HOME/agora`, else `$HOME/.local/share/agora`, else `./agora-data`.
    pub data_dir: PathBuf,
    /// Spool directory for upstream downloads in progress. Key `tmp_dir`, env
    /// `AGORA_TMP_DIR`. Default `<data_dir>/tmp`.
    pub tmp_dir: PathBuf,
    /// Reuse of upstream answers.
    pub cache: CacheSettings,
    /// The module index.
    pub index: IndexSettings,
    /// HTTPS on the listen address.
    pub tls: TlsSettings,
    /// Who may read what.
    pub auth: AuthSettings,
    /// What a storage miss does.
    pub download: DownloadSettings,
    /// Which modules are served.
    pub filter: FilterSettings,
}

settings_group! {
    /// The top-level keys.
    pub(crate) struct Paths {
        /// Directory for agora's own state.
        pub data_dir: PathBuf as Path = {
            key: "data_dir",
            env: "AGORA_DATA_DIR",
            default_from: Some(|r| r.default_data_dir()),
        },
        /// Spool directory for upstream downloads in progress.
        pub tmp_dir: PathBuf as Path = {
            key: "tmp_dir",
            env: "AGORA_TMP_DIR",
            default_from: Some(|r| r.under_data_dir("tmp")),
        },
    }
}

settings_group! {
    /// HTTP listener settings (`[server]`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ServerSettings {
        /// TCP listen address as `host:port`, already normalised: Athens' `:3000` and `3000`
        /// become `0.0.0.0:3000`. IPv6 hosts are bracketed (`[::1]:3000`). Port 0 is allowed
        /// (an ephemeral port, useful in tests).
        pub listen: String as ListenAddr = {
            key: "server.listen",
            env: "AGORA_LISTEN",
            athens: "Port",
            athens_env: &["ATHENS_PORT", "PORT"],
            default: "127.0.0.1:3000",
            athens_default: Some(":3000"),
        },
        /// Base path for every proxy route: empty, or starts with `/` and has no trailing `/`.
        pub path_prefix: String as PathPrefix = {
            key: "server.path_prefix",
            env: "AGORA_PATH_PREFIX",
            athens: "PathPrefix",
            athens_env: &["ATHENS_PATH_PREFIX"],
            athens_default: Some(""),
        },
        /// How long a graceful shutdown may take before connections are dropped.
        pub shutdown_timeout: Duration as Seconds = {
            key: "server.shutdown_timeout",
            env: "AGORA_SHUTDOWN_TIMEOUT",
            athens: "ShutdownTimeout",
            athens_env: &["ATHENS_SHUTDOWN_TIMEOUT"],
            default: "60",
            athens_default: Some("60"),
        },
        /// How long a client may take to send a request head, on a new connection and
        /// between requests on a kept-alive one; the connection is closed after it.
        pub header_timeout: Duration as PositiveSeconds = {
            key: "server.header_timeout",
            env: "AGORA_HEADER_TIMEOUT",
            default: "30",
        },
        /// Bytes of stored artifacts kept in memory once read: `.info`, `.mod` and zips of at
        /// most 512 KiB (and at most an eighth of the budget). 0 keeps nothing.
        pub cache_bytes: usize as ByteSize = {
            key: "server.cache_bytes",
            env: "AGORA_CACHE_BYTES",
            default: "16MiB",
        },
        /// Listen on this Unix socket instead of TCP (Athens `UnixSocket`). `None` means TCP.
        /// Parsed and validated here; whether the binary supports it is its own decision.
        pub unix_socket: Option<PathBuf> as OptPath = {
            key: "server.unix_socket",
            env: "AGORA_UNIX_SOCKET",
            athens: "UnixSocket",
            athens_env: &["ATHENS_UNIX_SOCKET"],
        },
    }
}

settings_group! {
    /// Logging settings (`[log]`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LogSettings {
        /// Most verbose level that is emitted.
        pub level: LogLevel as Level = {
            key: "log.level",
            env: "AGORA_LOG_LEVEL",
            athens: "LogLevel",
            athens_env: &["ATHENS_LOG_LEVEL"],
            default: "info",
            athens_default: Some("debug"),
        },
        /// Output format.
        pub format: LogFormat as Format = {
            key: "log.format",
            env: "AGORA_LOG_FORMAT",
            athens: "LogFormat",
            athens_env: &["ATHENS_LOG_FORMAT"],
            default: "plain",
            athens_default: Some("plain"),
        },
    }
}

settings_group! {
    /// `[storage] type`.
    pub(crate) struct StorageTable {
        /// Which backend holds the module cache.
        pub kind: StorageKind as StorageType = {
            key: "storage.type",
            env: "AGORA_STORAGE_TYPE",
            athens: "StorageType",
            athens_env: &["ATHENS_STORAGE_TYPE"],
            default: "disk",
            athens_default: Some("memory"),
        },
    }
}

settings_group! {
    /// `[storage.disk]`.
    pub(crate) struct DiskTable {
        /// Root directory of the cache. Non-empty; it may not exist yet (creating it is
        /// the binary's job).
        pub root: PathBuf as Path = {
            key: "storage.disk.root",
            env: "AGORA_DISK_STORAGE_ROOT",
            athens: "Storage.Disk.RootPath",
            athens_env: &["ATHENS_DISK_STORAGE_ROOT"],
            default_from: Some(|r| r.under_data_dir("storage")),
        },
    }
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

settings_group! {
    /// `[storage.mongo]`: a MongoDB database, with Athens' `Storage.Mongo` meaning (see
    /// `docs/storage/mongo.md`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MongoSettings {
        /// The connection string, `mongodb://` or `mongodb+srv://` (a secret, since it may
        /// hold a password).
        pub url: Secret as OptSecret = required {
            key: "storage.mongo.url",
            env: "AGORA_MONGO_URL",
            athens: "Storage.Mongo.URL",
            athens_env: &["ATHENS_MONGO_STORAGE_URL"],
        },
        /// The database.
        pub database: String as Opt = required {
            key: "storage.mongo.database",
            env: "AGORA_MONGO_DATABASE",
            athens: "Storage.Mongo.DefaultDBName",
            athens_env: &["ATHENS_MONGO_DEFAULT_DATABASE"],
            default: "athens",
        },
        /// The collection of version documents.
        pub collection: String as Opt = required {
            key: "storage.mongo.collection",
            env: "AGORA_MONGO_COLLECTION",
            athens: "Storage.Mongo.DefaultCollectionName",
            athens_env: &["ATHENS_MONGO_DEFAULT_COLLECTION"],
            default: "modules",
        },
        /// CA certificates (PEM) to trust; setting it turns TLS on.
        pub cert_path: Option<PathBuf> as OptPath = {
            key: "storage.mongo.cert_path",
            env: "AGORA_MONGO_CERT_PATH",
            athens: "Storage.Mongo.CertPath",
            athens_env: &["ATHENS_MONGO_CERT_PATH"],
        },
        /// Accept any server certificate.
        pub insecure: bool as Bool = {
            key: "storage.mongo.insecure",
            env: "AGORA_MONGO_INSECURE",
            athens: "Storage.Mongo.InsecureConn",
            athens_env: &["ATHENS_MONGO_INSECURE"],
            default: "false",
        },
    }
}

settings_group! {
    /// `[storage.external]`: a server speaking Athens' external storage protocol (see
    /// `docs/storage/external.md`), with Athens' `Storage.External` meaning.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ExternalSettings {
        /// The server's base URL, `http://` or `https://` with a host, no trailing `/`.
        pub url: String as Url = required {
            key: "storage.external.url",
            env: "AGORA_EXTERNAL_URL",
            athens: "Storage.External.URL",
            athens_env: &["ATHENS_EXTERNAL_STORAGE_URL"],
        },
    }
}

settings_group! {
    /// `[storage.gcp]`: a Google Cloud Storage bucket, with Athens' `Storage.GCP` meaning.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct GcpSettings {
        /// The bucket (agora never creates it).
        pub bucket: String as Opt = required {
            key: "storage.gcp.bucket",
            env: "AGORA_GCP_BUCKET",
            athens: "Storage.GCP.Bucket",
            athens_env: &["ATHENS_STORAGE_GCP_BUCKET"],
        },
        /// A service-account JSON key, base64-encoded. With none, Google's default
        /// credentials are used.
        pub json_key: Option<Secret> as OptSecret = {
            key: "storage.gcp.json_key",
            env: "AGORA_GCP_JSON_KEY",
            athens: "Storage.GCP.JSONKey",
            athens_env: &["ATHENS_STORAGE_GCP_JSON_KEY"],
        },
        /// A GCS emulator's `host:port` (or URL): requests go there, with no credentials.
        /// Its other name is Google's libraries' own, which Athens' GCS client honours too.
        pub emulator_host: Option<String> as Opt = {
            key: "storage.gcp.emulator_host",
            env: "AGORA_GCP_EMULATOR_HOST",
            athens_env: &["STORAGE_EMULATOR_HOST"],
        },
    }
}

settings_group! {
    /// `[storage.azure]`: an Azure Blob container, with Athens' `Storage.AzureBlob` meaning.
    ///
    /// At least one of `account_name` and `connection_string` is set. The connection string
    /// (`AZURE_STORAGE_CONNECTION_STRING`) supplies the account, key and `BlobEndpoint`;
    /// `account_name` and `account_key`, when set, win over its values.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AzureSettings {
        /// The storage account.
        pub account_name: Option<String> as Opt = {
            key: "storage.azure.account_name",
            env: "AGORA_AZURE_ACCOUNT_NAME",
            athens: "Storage.AzureBlob.AccountName",
            athens_env: &["ATHENS_AZURE_ACCOUNT_NAME"],
        },
        /// The account key (base64). With none (and none in the connection string), the
        /// Azure credential chain of the environment is used.
        pub account_key: Option<Secret> as OptSecret = {
            key: "storage.azure.account_key",
            env: "AGORA_AZURE_ACCOUNT_KEY",
            athens: "Storage.AzureBlob.AccountKey",
            athens_env: &["ATHENS_AZURE_ACCOUNT_KEY"],
        },
        /// The container (agora never creates it).
        pub container: String as Opt = required {
            key: "storage.azure.container",
            env: "AGORA_AZURE_CONTAINER",
            athens: "Storage.AzureBlob.ContainerName",
            athens_env: &["ATHENS_AZURE_CONTAINER_NAME"],
        },
        /// A storage connection string. Not an Athens key: its other name is the Azure
        /// SDKs' own variable, honoured for its `BlobEndpoint`.
        pub connection_string: Option<Secret> as OptSecret = {
            key: "storage.azure.connection_string",
            env: "AGORA_AZURE_CONNECTION_STRING",
            athens_env: &["AZURE_STORAGE_CONNECTION_STRING"],
        },
    }
}

settings_group! {
    /// `[storage.s3]`: an S3 bucket, with Athens' `Storage.S3` meaning.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct S3Settings {
        /// The bucket (non-empty).
        pub bucket: String as Opt = required {
            key: "storage.s3.bucket",
            env: "AGORA_S3_BUCKET",
            athens: "Storage.S3.Bucket",
            athens_env: &["ATHENS_S3_BUCKET_NAME"],
        },
        /// The region: what AWS SDKs assume when none is set, and what MinIO reports.
        pub region: String as Opt = required {
            key: "storage.s3.region",
            env: "AGORA_S3_REGION",
            athens: "Storage.S3.Region",
            athens_env: &["AWS_REGION"],
            default: "us-east-1",
        },
        /// A custom endpoint URL (an S3-compatible service); `None` means AWS.
        pub endpoint: Option<String> as Url = {
            key: "storage.s3.endpoint",
            env: "AGORA_S3_ENDPOINT",
            athens: "Storage.S3.Endpoint",
            athens_env: &["AWS_ENDPOINT"],
        },
        /// Static credentials; with none, the instance or container metadata service is
        /// used. Set together with `secret_access_key`.
        pub access_key_id: Option<String> as Opt = {
            key: "storage.s3.access_key_id",
            env: "AGORA_S3_ACCESS_KEY_ID",
            athens: "Storage.S3.Key",
            athens_env: &["AWS_ACCESS_KEY_ID"],
        },
        /// The secret of the static credentials.
        pub secret_access_key: Option<Secret> as OptSecret = {
            key: "storage.s3.secret_access_key",
            env: "AGORA_S3_SECRET_ACCESS_KEY",
            athens: "Storage.S3.Secret",
            athens_env: &["AWS_SECRET_ACCESS_KEY"],
        },
        /// Temporary credentials' session token.
        pub session_token: Option<Secret> as OptSecret = {
            key: "storage.s3.session_token",
            env: "AGORA_S3_SESSION_TOKEN",
            athens: "Storage.S3.Token",
            athens_env: &["AWS_SESSION_TOKEN"],
        },
        /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted ones.
        pub force_path_style: bool as Bool = {
            key: "storage.s3.force_path_style",
            env: "AGORA_S3_FORCE_PATH_STYLE",
            athens: "Storage.S3.ForcePathStyle",
            athens_env: &["AWS_FORCE_PATH_STYLE"],
            default: "false",
        },
    }
}

settings_group! {
    /// `[storage.minio]`: a MinIO server, with Athens' `Storage.Minio` meaning.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MinioSettings {
        /// `host:port` (any `http://`/`https://` prefix already removed, as Athens does); the
        /// scheme comes from `use_ssl`.
        pub endpoint: String as MinioEndpoint = required {
            key: "storage.minio.endpoint",
            env: "AGORA_MINIO_ENDPOINT",
            athens: "Storage.Minio.Endpoint",
            athens_env: &["ATHENS_MINIO_ENDPOINT"],
        },
        /// The access key.
        pub access_key_id: String as Opt = required {
            key: "storage.minio.access_key_id",
            env: "AGORA_MINIO_ACCESS_KEY_ID",
            athens: "Storage.Minio.Key",
            athens_env: &["ATHENS_MINIO_ACCESS_KEY_ID"],
        },
        /// The secret key.
        pub secret_access_key: Secret as OptSecret = required {
            key: "storage.minio.secret_access_key",
            env: "AGORA_MINIO_SECRET_ACCESS_KEY",
            athens: "Storage.Minio.Secret",
            athens_env: &["ATHENS_MINIO_SECRET_ACCESS_KEY"],
        },
        /// The bucket. agora does not create it.
        pub bucket: String as Opt = required {
            key: "storage.minio.bucket",
            env: "AGORA_MINIO_BUCKET",
            athens: "Storage.Minio.Bucket",
            athens_env: &["ATHENS_MINIO_BUCKET_NAME"],
        },
        /// The region (Athens' empty region means the same to MinIO).
        pub region: String as Opt = required {
            key: "storage.minio.region",
            env: "AGORA_MINIO_REGION",
            athens: "Storage.Minio.Region",
            athens_env: &["ATHENS_MINIO_REGION"],
            default: "us-east-1",
        },
        /// Connect with https.
        pub use_ssl: bool as Bool = {
            key: "storage.minio.use_ssl",
            env: "AGORA_MINIO_USE_SSL",
            athens: "Storage.Minio.EnableSSL",
            athens_env: &["ATHENS_MINIO_USE_SSL"],
            default: "false",
        },
    }
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

settings_group! {
    /// How modules missing from storage are fetched (`[upstream]`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UpstreamSettings {
        /// The upstream list in `GOPROXY` syntax, for example
        /// `https://proxy.golang.org,direct`, parsed: every entry is `off`, `direct` or an
        /// `http`/`https` URL (bare hosts get `https://` as in Go); `file://` entries are
        /// rejected. Athens sets it with `GOPROXY=` in `GoBinaryEnvVars` (`athens.rs`).
        pub goproxy: ProxyList as GoProxy = {
            key: "upstream.goproxy",
            env: "AGORA_GOPROXY",
            default: "https://proxy.golang.org,direct",
        },
        /// `GOPRIVATE` patterns: comma-separated `path.Match` globs; `""` means none.
        pub goprivate: String as Patterns = {
            key: "upstream.goprivate",
            env: "AGORA_GOPRIVATE",
        },
        /// `GONOPROXY` patterns; `""` means none (Go then falls back to `GOPRIVATE`).
        pub gonoproxy: String as Patterns = {
            key: "upstream.gonoproxy",
            env: "AGORA_GONOPROXY",
        },
        /// `GONOSUMDB` patterns; `""` means none (Go then falls back to `GOPRIVATE`).
        /// Athens' `NoSumPatterns` land here too.
        pub gonosumdb: String as Patterns = {
            key: "upstream.gonosumdb",
            env: "AGORA_GONOSUMDB",
        },
        /// `GOINSECURE` patterns; `""` means none.
        pub goinsecure: String as Patterns = {
            key: "upstream.goinsecure",
            env: "AGORA_GOINSECURE",
        },
        /// What to do for `list` and `@latest` when upstream fails.
        pub network_mode: NetworkMode as Mode = {
            key: "upstream.network_mode",
            env: "AGORA_NETWORK_MODE",
            athens: "NetworkMode",
            athens_env: &["ATHENS_NETWORK_MODE"],
            default: "strict",
            athens_default: Some("strict"),
        },
        /// Timeout for one outbound operation, such as listing versions. Never zero.
        pub timeout: Duration as PositiveSeconds = {
            key: "upstream.timeout",
            env: "AGORA_TIMEOUT",
            athens: "Timeout",
            athens_env: &["ATHENS_TIMEOUT"],
            default: "300",
            athens_default: Some("300"),
        },
        /// Timeout for one complete fetch-and-store of a module version. Never zero.
        pub stash_timeout: Duration as PositiveSeconds = {
            key: "upstream.stash_timeout",
            env: "AGORA_STASH_TIMEOUT",
            athens: "StashTimeout",
            athens_env: &["ATHENS_STASH_TIMEOUT"],
            default: "600",
            athens_default: Some("600"),
        },
        /// A netrc file whose credentials `direct` uses for discovery pages (https only) and
        /// for git. Read by the binary at startup; agora never installs it in a home
        /// directory. `None` when unset or empty.
        pub netrc_path: Option<PathBuf> as OptPath = {
            key: "upstream.netrc_path",
            env: "AGORA_NETRC_PATH",
            athens: "NETRCPath",
            athens_env: &["ATHENS_NETRC_PATH"],
        },
        /// A GitHub token, used as `x-access-token:<token>` basic auth for
        /// `https://github.com/`. `None` when unset or empty. Loading fails when both this
        /// and `netrc_path` are set, as in Athens.
        pub github_token: Option<Secret> as OptSecret = {
            key: "upstream.github_token",
            env: "AGORA_GITHUB_TOKEN",
            athens: "GithubToken",
            athens_env: &["ATHENS_GITHUB_TOKEN"],
        },
        /// The go command that fetches modules from hg, svn, bzr and fossil repositories: a
        /// path, or a name looked up on `PATH`. Used only when `go_fetcher_vcs` is not empty.
        pub go_binary: PathBuf as Path = {
            key: "upstream.go_binary",
            env: "AGORA_GO_BINARY",
            athens: "GoBinary",
            athens_env: &["GO_BINARY_PATH"],
            default: "go",
        },
        /// The version control systems whose repositories `direct` hands to the go command
        /// (`go mod download -json` in a fresh temporary GOPATH), each one of `hg`, `svn`,
        /// `bzr` and `fossil`, in that order, without duplicates. git is never among them.
        /// Empty (the default): such repositories are refused, and no Go toolchain is needed.
        pub go_fetcher_vcs: Vec<String> as VcsList = {
            key: "upstream.go_fetcher_vcs",
            env: "AGORA_GO_FETCHER_VCS",
        },
        /// How many go commands may run at once. Never 0.
        pub go_fetcher_workers: usize as Count = {
            key: "upstream.go_fetcher_workers",
            env: "AGORA_GO_FETCHER_WORKERS",
            athens: "GoGetWorkers",
            athens_env: &["ATHENS_GOGET_WORKERS"],
            default: "10",
        },
        /// At most this many fetches from upstream proxies and VCS at once; the rest wait,
        /// bounded by the stash timeout.
        pub max_fetches: usize as Count = {
            key: "upstream.max_fetches",
            env: "AGORA_MAX_FETCHES",
            default: "32",
        },
    }
}

settings_group! {
    /// Reuse of upstream answers (`[cache]`), per replica and in memory.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct CacheSettings {
        /// How long an upstream `list` or `@latest` answer is reused. 0 turns the cache off.
        pub list_ttl: Duration as Seconds = {
            key: "cache.list_ttl",
            env: "AGORA_LIST_CACHE_TTL",
            default: "60",
        },
        /// How long an upstream "not found" for `list`, `@latest`, a version query or a
        /// version's files is reused (errors never are). 0 turns it off.
        pub negative_ttl: Duration as Seconds = {
            key: "cache.negative_ttl",
            env: "AGORA_NEGATIVE_CACHE_TTL",
            default: "60",
        },
    }
}

settings_group! {
    /// `[index] type`.
    pub(crate) struct IndexTable {
        /// Where the module index (`/index`) is kept: `none`, `memory` or `postgres`.
        pub kind: IndexKind as IndexType = {
            key: "index.type",
            env: "AGORA_INDEX_TYPE",
            athens: "IndexType",
            athens_env: &["ATHENS_INDEX_TYPE"],
            default: "none",
            athens_default: Some("none"),
        },
    }
}

settings_group! {
    /// `[index.postgres]`: the module index in a PostgreSQL database, with Athens'
    /// `Index.Postgres` meaning.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PostgresIndexSettings {
        /// The server's host name or address.
        pub host: String as Opt = required {
            key: "index.postgres.host",
            env: "AGORA_INDEX_POSTGRES_HOST",
            athens: "Index.Postgres.Host",
            athens_env: &["ATHENS_INDEX_POSTGRES_HOST"],
            default: "localhost",
        },
        /// The server's port (1 to 65535).
        pub port: usize as Count = {
            key: "index.postgres.port",
            env: "AGORA_INDEX_POSTGRES_PORT",
            athens: "Index.Postgres.Port",
            athens_env: &["ATHENS_INDEX_POSTGRES_PORT"],
            default: "5432",
        },
        /// The user agora logs in as.
        pub user: String as Opt = required {
            key: "index.postgres.user",
            env: "AGORA_INDEX_POSTGRES_USER",
            athens: "Index.Postgres.User",
            athens_env: &["ATHENS_INDEX_POSTGRES_USER"],
            default: "postgres",
        },
        /// The user's password; none for trust or peer authentication.
        pub password: Option<Secret> as OptSecret = {
            key: "index.postgres.password",
            env: "AGORA_INDEX_POSTGRES_PASSWORD",
            athens: "Index.Postgres.Password",
            athens_env: &["ATHENS_INDEX_POSTGRES_PASSWORD"],
        },
        /// The database, which must exist; agora creates its `indexes` table in it.
        pub database: String as Opt = required {
            key: "index.postgres.database",
            env: "AGORA_INDEX_POSTGRES_DATABASE",
            athens: "Index.Postgres.Database",
            athens_env: &["ATHENS_INDEX_POSTGRES_DATABASE"],
            default: "athens",
        },
        /// Connection parameters, normalised to `key=value` pairs separated by spaces:
        /// `connect_timeout` (seconds), `sslmode` (`disable` or `prefer`; agora speaks no
        /// TLS to PostgreSQL), `application_name`. Athens' environment form `k:v,k:v` and
        /// its TOML table are accepted.
        pub params: String as PgParams = {
            key: "index.postgres.params",
            env: "AGORA_INDEX_POSTGRES_PARAMS",
            athens: "Index.Postgres.Params",
            athens_env: &["ATHENS_INDEX_POSTGRES_PARAMS"],
            default: "connect_timeout=30 sslmode=disable",
        },
    }
}

/// The kind of module index, as written (`index.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// No index: `/index` is always empty.
    None,
    /// In process memory; lost on restart and not shared between replicas.
    Memory,
    /// A PostgreSQL table shared by every replica.
    Postgres,
}

impl IndexKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IndexKind::None => "none",
            IndexKind::Memory => "memory",
            IndexKind::Postgres => "postgres",
        }
    }
}

impl crate::show::Render for IndexKind {
    fn render(&self) -> String {
        format!("{:?}", self.as_str())
    }
}

/// Where the module index is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSettings {
    /// No index.
    None,
    /// In process memory.
    Memory,
    /// In PostgreSQL (`[index.postgres]`).
    Postgres(PostgresIndexSettings),
}

/// Every declared setting, grouped as `config show` lists them.
static GROUPS: &[&[Spec]] = &[
    &Paths::SPECS,
    &ServerSettings::SPECS,
    &LogSettings::SPECS,
    &StorageTable::SPECS,
    &DiskTable::SPECS,
    &S3Settings::SPECS,
    &MinioSettings::SPECS,
    &AzureSettings::SPECS,
    &GcpSettings::SPECS,
    &ExternalSettings::SPECS,
    &MongoSettings::SPECS,
    &UpstreamSettings::SPECS,
    &CacheSettings::SPECS,
    &IndexTable::SPECS,
    &PostgresIndexSettings::SPECS,
    &TlsSettings::SPECS,
    &AuthSettings::SPECS,
    &SingleFlightTable::SPECS,
    &RedisLockSettings::SPECS,
    &RedisSentinelSettings::SPECS,
    &EtcdLockSettings::SPECS,
    &DownloadSettings::SPECS,
    &FilterSettings::SPECS,
    &SumdbSettings::SPECS,
];

/// Every declared setting, in `config show` order.
pub(crate) fn all_specs() -> impl Iterator<Item = &'static Spec> {
    GROUPS.iter().flat_map(|g| g.iter())
}

/// The declaration of agora key `key`.
pub(crate) fn spec(key: &str) -> Option<&'static Spec> {
    all_specs().find(|s| s.key == key)
}

/// The position of agora key `key` in [`all_specs`].
pub(crate) fn spec_index(key: &str) -> Option<usize> {
    all_specs().position(|s| s.key == key)
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

settings_group! {
    /// HTTPS on the listen address (`[tls]`). Both files or neither: half a pair stops
    /// startup (Athens silently serves plain HTTP then).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct TlsSettings {
        /// A PEM file: the server certificate, then any intermediates.
        pub cert_file: Option<PathBuf> as OptPath = {
            key: "tls.cert_file",
            env: "AGORA_TLS_CERT_FILE",
            athens: "TLSCertFile",
            athens_env: &["ATHENS_TLSCERT_FILE"],
        },
        /// A PEM file holding the certificate's private key (PKCS#8, PKCS#1 or SEC1).
        pub key_file: Option<PathBuf> as OptPath = {
            key: "tls.key_file",
            env: "AGORA_TLS_KEY_FILE",
            athens: "TLSKeyFile",
            athens_env: &["ATHENS_TLSKEY_FILE"],
        },
    }
}

settings_group! {
    /// Client authentication and per-user access (`[auth]`). With none of these set,
    /// every client reads everything.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct AuthSettings {
        /// Athens' single basic-auth user, who may read every module. Set together with
        /// `basic_password`.
        pub basic_user: Option<String> as Opt = {
            key: "auth.basic_user",
            env: "AGORA_BASIC_AUTH_USER",
            athens: "BasicAuthUser",
            athens_env: &["BASIC_AUTH_USER"],
        },
        /// That user's password (a secret).
        pub basic_password: Option<Secret> as OptSecret = {
            key: "auth.basic_password",
            env: "AGORA_BASIC_AUTH_PASS",
            athens: "BasicAuthPass",
            athens_env: &["BASIC_AUTH_PASS"],
        },
        /// A TOML file of `[[user]]` tables (`name`, `password_hash`, `modules`), re-read
        /// when it changes or on SIGHUP.
        pub file: Option<PathBuf> as OptPath = {
            key: "auth.file",
            env: "AGORA_AUTH_FILE",
        },
    }
}

// Single flight across replicas: `[single_flight]` and its backends' tables.

/// How replicas on one storage agree that only one of them fetches a missing version
/// (`[single_flight]`, Athens' `SingleFlightType` and `SingleFlight.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleFlightSettings {
    /// The lock replicas share. `Memory` is in-process single flight only.
    pub lock: LockSettings,
    /// How long a lock lives without renewal; the holder renews it every third of it, so
    /// a holder that dies frees it after at most this long.
    pub ttl: Duration,
    /// How long a replica waits for another replica's lock before it fetches the version
    /// itself. It looks in storage while it waits, and answers as soon as the version is
    /// there.
    pub timeout: Duration,
}

/// The lock backend of [`SingleFlightSettings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockSettings {
    /// In-process single flight only (Athens' `memory`, the default).
    Memory,
    /// A redis key per version (`SET NX PX` with a random token).
    Redis(RedisLockSettings),
    /// The same, on the master a set of redis sentinels names.
    RedisSentinel(RedisSentinelSettings),
    /// An etcd key per version, attached to a lease.
    Etcd(EtcdLockSettings),
    /// A lock object in the storage's own bucket or container, written with conditional
    /// writes: `s3`, `gcp` (generation preconditions) or `azureblob` (ETag conditions). The
    /// storage type must be that service.
    Storage(&'static str),
}

settings_group! {
    /// `[single_flight]`.
    pub(crate) struct SingleFlightTable {
        /// Which lock replicas share: `memory` (in-process only), `redis`,
        /// `redis-sentinel`, `etcd`, or a lock object in the storage itself: `gcp`,
        /// `azureblob`, `s3` (each needs that storage type).
        pub kind: String as SingleFlightType = {
            key: "single_flight.type",
            env: "AGORA_SINGLE_FLIGHT_TYPE",
            athens: "SingleFlightType",
            athens_env: &["ATHENS_SINGLE_FLIGHT_TYPE"],
            default: "memory",
            athens_default: Some("memory"),
        },
        /// Seconds a lock lives unless renewed. The holder renews it every third of this
        /// while its fetch runs, so a holder that dies frees it within this time.
        pub ttl: Duration as PositiveSeconds = {
            key: "single_flight.ttl",
            env: "AGORA_SINGLE_FLIGHT_TTL",
            athens: "SingleFlight.Redis.LockConfig.TTL",
            athens_env: &["ATHENS_REDIS_LOCK_TTL"],
            default: "30",
            athens_default: Some("900"),
        },
        /// Seconds a replica waits for another replica's lock (looking in storage as it
        /// waits) before fetching the version itself. Never an error.
        pub timeout: Duration as PositiveSeconds = {
            key: "single_flight.timeout",
            env: "AGORA_SINGLE_FLIGHT_TIMEOUT",
            athens: "SingleFlight.Redis.LockConfig.Timeout",
            athens_env: &["ATHENS_REDIS_LOCK_TIMEOUT"],
            default: "600",
            athens_default: Some("15"),
        },
    }
}

settings_group! {
    /// `[single_flight.redis]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RedisLockSettings {
        /// `host:port`, or a `redis://` / `rediss://` URL.
        pub endpoint: String as Opt = required {
            key: "single_flight.redis.endpoint",
            env: "AGORA_REDIS_ENDPOINT",
            athens: "SingleFlight.Redis.Endpoint",
            athens_env: &["ATHENS_REDIS_ENDPOINT"],
            default: "127.0.0.1:6379",
        },
        /// The password (`AUTH`); none when empty.
        pub password: Option<Secret> as OptSecret = {
            key: "single_flight.redis.password",
            env: "AGORA_REDIS_PASSWORD",
            athens: "SingleFlight.Redis.Password",
            athens_env: &["ATHENS_REDIS_PASSWORD"],
        },
    }
}

settings_group! {
    /// `[single_flight.redis_sentinel]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RedisSentinelSettings {
        /// The sentinels' `host:port`s, asked in order for the master's address.
        pub endpoints: Vec<String> as Endpoints = {
            key: "single_flight.redis_sentinel.endpoints",
            env: "AGORA_REDIS_SENTINEL_ENDPOINTS",
            athens: "SingleFlight.RedisSentinel.Endpoints",
            athens_env: &["ATHENS_REDIS_SENTINEL_ENDPOINTS"],
            default: "127.0.0.1:26379",
        },
        /// The master's name in the sentinels' configuration.
        pub master_name: String as Opt = required {
            key: "single_flight.redis_sentinel.master_name",
            env: "AGORA_REDIS_SENTINEL_MASTER_NAME",
            athens: "SingleFlight.RedisSentinel.MasterName",
            athens_env: &["ATHENS_REDIS_SENTINEL_MASTER_NAME"],
            default: "redis-1",
        },
        /// The sentinels' password; none when empty.
        pub sentinel_password: Option<Secret> as OptSecret = {
            key: "single_flight.redis_sentinel.sentinel_password",
            env: "AGORA_REDIS_SENTINEL_PASSWORD",
            athens: "SingleFlight.RedisSentinel.SentinelPassword",
            athens_env: &["ATHENS_REDIS_SENTINEL_PASSWORD"],
        },
        /// The master's ACL user name; none when empty.
        pub username: Option<String> as Opt = {
            key: "single_flight.redis_sentinel.username",
            env: "AGORA_REDIS_SENTINEL_USERNAME",
            athens: "SingleFlight.RedisSentinel.RedisUsername",
            athens_env: &["ATHENS_REDIS_USERNAME"],
        },
        /// The master's password; none when empty. Athens reads the same variable as
        /// for plain redis.
        pub password: Option<Secret> as OptSecret = {
            key: "single_flight.redis_sentinel.password",
            env: "AGORA_REDIS_SENTINEL_REDIS_PASSWORD",
            athens: "SingleFlight.RedisSentinel.RedisPassword",
            athens_env: &["ATHENS_REDIS_PASSWORD"],
        },
        /// The database index on the master.
        pub db: usize as Index = {
            key: "single_flight.redis_sentinel.db",
            env: "AGORA_REDIS_SENTINEL_DB",
            athens: "SingleFlight.RedisSentinel.DB",
            athens_env: &["ATHENS_REDIS_SENTINEL_DB"],
            default: "0",
        },
    }
}

settings_group! {
    /// `[single_flight.etcd]`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EtcdLockSettings {
        /// etcd client endpoints (`host:port` or `http(s)://host:port`), tried in order.
        pub endpoints: Vec<String> as Endpoints = {
            key: "single_flight.etcd.endpoints",
            env: "AGORA_ETCD_ENDPOINTS",
            athens: "SingleFlight.Etcd.Endpoints",
            athens_env: &["ATHENS_ETCD_ENDPOINTS"],
            default: "localhost:2379,localhost:22379,localhost:32379",
        },
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

// ---------------------------------------------------------------------------------------
// Download modes, filter file and validator hook (Athens' `DownloadMode`, `FilterFile`,
// `ValidatorHook`).

settings_group! {
    /// What a request for a version missing from storage does (`[download]`): Athens'
    /// download modes.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DownloadSettings {
        /// `sync`, `async`, `redirect`, `async_redirect` or `none` for every module, or
        /// `file:PATH` / `custom:BASE64` for an Athens HCL file of per-pattern modes (a
        /// `custom:` file is decoded and checked here; a `file:` one by the binary).
        pub mode: DownloadModeSetting as DownloadModeKind = {
            key: "download.mode",
            env: "AGORA_DOWNLOAD_MODE",
            athens: "DownloadMode",
            athens_env: &["ATHENS_DOWNLOAD_MODE"],
            default: "sync",
            athens_default: Some("sync"),
        },
        /// Where `redirect` and `async_redirect` send clients (an `http://` or `https://`
        /// URL) when the mode is not a file, which carries its own URLs.
        pub url: Option<String> as Url = {
            key: "download.url",
            env: "AGORA_DOWNLOAD_URL",
            athens: "DownloadURL",
            athens_env: &["ATHENS_DOWNLOAD_URL"],
            athens_default: Some(""),
        },
    }
}

settings_group! {
    /// Which modules are served (`[filter]`): Athens' filter file and validator hook.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct FilterSettings {
        /// An Athens filter file of `+`, `-` and `D` rules, read by the binary at startup.
        pub file: Option<PathBuf> as OptPath = {
            key: "filter.file",
            env: "AGORA_FILTER_FILE",
            athens: "FilterFile",
            athens_env: &["ATHENS_FILTER_FILE"],
            athens_default: Some(""),
        },
        /// Where filter-file `D` rules send clients (an `http://` or `https://` URL).
        pub direct_url: Option<String> as Url = {
            key: "filter.direct_url",
            env: "AGORA_FILTER_DIRECT_URL",
            athens: "GlobalEndpoint",
            athens_env: &["ATHENS_GLOBAL_ENDPOINT"],
        },
        /// A URL that is POSTed `{"Module","Version"}` before every `.info`, `.mod` and
        /// `.zip` answer: 200 allows, 403 denies.
        pub validator: Option<String> as Url = {
            key: "filter.validator",
            env: "AGORA_PROXY_VALIDATOR",
            athens: "ValidatorHook",
            athens_env: &["ATHENS_PROXY_VALIDATOR"],
            athens_default: Some(""),
        },
        /// How long one validator call may take, answer included.
        pub validator_timeout: Duration as PositiveSeconds = {
            key: "filter.validator_timeout",
            env: "AGORA_VALIDATOR_TIMEOUT",
            default: "10",
        },
    }
}

/// `download.mode` as written: one mode, or an Athens download file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadModeSetting {
    /// One mode for every module (its URL is `download.url`).
    Mode(agora_core::download_mode::Mode),
    /// `file:PATH`: an HCL file, read by the binary at startup.
    File(PathBuf),
    /// `custom:BASE64`: an HCL file given inline, already decoded and checked.
    Custom {
        /// The value after `custom:`, as written.
        base64: String,
        /// The parsed file.
        file: agora_core::download_mode::DownloadFile,
    },
}

impl fmt::Display for DownloadModeSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mode(m) => f.write_str(m.as_str()),
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Custom { base64, .. } => write!(f, "custom:{base64}"),
        }
    }
}

impl crate::show::Render for DownloadModeSetting {
    fn render(&self) -> String {
        toml::Value::String(self.to_string()).to_string()
    }
}

/// The kind of `download.mode`.
pub(crate) struct DownloadModeKind;

impl crate::spec::Kind for DownloadModeKind {
    type Value = DownloadModeSetting;
    fn parse(s: &str) -> Result<DownloadModeSetting, String> {
        use agora_core::download_mode::{DownloadFile, Mode};
        use base64::Engine as _;
        let s = s.trim();
        if let Some(path) = s.strip_prefix("file:") {
            if path.is_empty() {
                return Err("file: needs the path of a download file".to_owned());
            }
            return Ok(DownloadModeSetting::File(PathBuf::from(path)));
        }
        if let Some(b64) = s.strip_prefix("custom:") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| format!("custom: is not standard base64: {e}"))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| "custom: does not decode to UTF-8 text".to_owned())?;
            let file = DownloadFile::parse(&text)
                .map_err(|e| format!("the custom: download file: {e}"))?;
            return Ok(DownloadModeSetting::Custom {
                base64: b64.trim().to_owned(),
                file,
            });
        }
        Mode::parse(s)
            .map(DownloadModeSetting::Mode)
            .ok_or_else(|| {
                "expected sync, async, redirect, async_redirect, none, file:PATH or custom:BASE64"
                    .to_owned()
            })
    }
}

settings_group! {
    /// Checksum databases: which ones `/sumdb/` proxies, and whether fetched versions are
    /// checked against one before they are stored (`[sumdb]`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SumdbSettings {
        /// Athens' `SumDBs`: checksum databases proxied under `/sumdb/HOST/`, each an
        /// https URL of which only the host counts (normalised to `https://HOST`).
        pub athens_urls: Vec<String> as SumDbUrls = {
            key: "sumdb.athens_urls",
            env: "AGORA_SUMDB_ATHENS_URLS",
            athens: "SumDBs",
            athens_env: &["ATHENS_SUM_DBS"],
            default: "https://sum.golang.org",
            athens_default: Some("https://sum.golang.org"),
        },
        /// More checksum databases, as `GOSUMDB` entries `NAME[+HASH+KEY] [URL]`
        /// (`,`-separated in the environment), proxied under `/sumdb/NAME/` from the
        /// whole URL (path included). The first one verifies fetched versions.
        pub databases: Vec<String> as SumDbEntries = {
            key: "sumdb.databases",
            env: "AGORA_SUM_DBS",
        },
        /// Check every version fetched from upstream against the checksum database
        /// before storing it (modules matching GONOSUMDB, else GOPRIVATE, are not).
        pub verify: bool as Bool = {
            key: "sumdb.verify",
            env: "AGORA_SUMDB_VERIFY",
            default: "true",
        },
        /// A file holding a signer key (`agora sumdb keygen NAME`): agora then keeps a
        /// checksum database NAME of the private modules it stores (those matching
        /// GONOSUMDB, else GOPRIVATE) and serves it under `/sumdb/NAME/`. `None` when unset
        /// or empty.
        pub private_key_file: Option<PathBuf> as OptPath = {
            key: "sumdb.private_key_file",
            env: "AGORA_PRIVATE_SUMDB_KEY_FILE",
        },
    }
}
