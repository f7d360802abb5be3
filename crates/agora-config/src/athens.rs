//! Athens compatibility: its `config.toml` format and its environment variable names.
//!
//! An Athens file is read the way Athens reads it: keys are matched case-insensitively
//! (BurntSushi/toml does), keys Athens does not know are ignored, and Athens' own defaults
//! apply to keys the file leaves out. Settings agora implements are mapped onto agora's
//! tree; Athens settings agora does not implement are accepted and reported in
//! [`crate::Loaded::warnings`] when they are set to anything but Athens' default, so an
//! operator migrating a real Athens file learns what is not honoured.

use std::path::Path;

use toml::{Table, Value};

use crate::error::{ConfigError, Source};
use crate::goproxy::{check_goproxy, check_patterns};
use crate::layer::{
    Layer, Slot, Sourced, env_slot, file_error, toml_bool_slot, toml_secret_slot, toml_secs_slot,
    toml_slot, toml_str_slot,
};
use crate::settings::{LogFormat, LogLevel, NetworkMode};
use crate::value::{self, StorageKind};

/// An Athens default, for deciding whether an unimplemented key was changed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Default {
    /// Any of these strings counts as the default.
    Str(&'static [&'static str]),
    Int(i64),
    Bool(bool),
    Float(f64),
    /// A string list (comma-separated in the environment).
    List(&'static [&'static str]),
}

/// What agora does with an Athens key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Mapped onto agora's settings.
    Implemented,
    /// Not implemented: ignored, with a warning when it differs from Athens' default. The
    /// note says what ignoring it means, when that matters.
    Ignored {
        default: Default,
        note: &'static str,
    },
    /// Not implemented, and ignoring it would weaken security (authentication,
    /// filtering, validation): a non-default value stops startup instead.
    Refused {
        default: Default,
        note: &'static str,
    },
    /// A sub-setting of a storage, single-flight or index backend. It only matters when that
    /// backend is selected, and selecting one is already an error (storage) or a warning
    /// (`SingleFlightType`, `IndexType`), so the sub-settings are accepted silently.
    Backend,
}

/// One Athens configuration key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AthensKey {
    /// Dotted TOML path with Athens' spelling, e.g. `Storage.Disk.RootPath`.
    pub path: &'static str,
    /// Environment variables Athens reads for it (empty for backend sub-settings, whose
    /// variables agora does not read).
    pub env: &'static [&'static str],
    pub kind: Kind,
}

const fn implemented(path: &'static str, env: &'static [&'static str]) -> AthensKey {
    AthensKey {
        path,
        env,
        kind: Kind::Implemented,
    }
}

const fn ignored(
    path: &'static str,
    env: &'static [&'static str],
    default: Default,
    note: &'static str,
) -> AthensKey {
    AthensKey {
        path,
        env,
        kind: Kind::Ignored { default, note },
    }
}

const fn backend(path: &'static str) -> AthensKey {
    AthensKey {
        path,
        env: &[],
        kind: Kind::Backend,
    }
}

const fn refused(
    path: &'static str,
    env: &'static [&'static str],
    default: Default,
    note: &'static str,
) -> AthensKey {
    AthensKey {
        path,
        env,
        kind: Kind::Refused { default, note },
    }
}

const NOT_PROTECTED: &str = "agora has no client authentication yet, so the proxy is NOT \
                             protected by basic auth";

/// Every key of Athens' `Config` struct (gomods/athens `pkg/config`), plus the dead
/// `Storage.CDN.Endpoint` that config.dev.toml still contains.
pub(crate) const ATHENS_KEYS: &[AthensKey] = &[
    // Implemented.
    implemented("Port", &["ATHENS_PORT", "PORT"]),
    implemented("UnixSocket", &["ATHENS_UNIX_SOCKET"]),
    implemented("PathPrefix", &["ATHENS_PATH_PREFIX"]),
    implemented("ShutdownTimeout", &["ATHENS_SHUTDOWN_TIMEOUT"]),
    implemented("LogLevel", &["ATHENS_LOG_LEVEL"]),
    implemented("LogFormat", &["ATHENS_LOG_FORMAT"]),
    implemented("StorageType", &["ATHENS_STORAGE_TYPE"]),
    implemented("Storage.Disk.RootPath", &["ATHENS_DISK_STORAGE_ROOT"]),
    implemented("NetworkMode", &["ATHENS_NETWORK_MODE"]),
    implemented("Timeout", &["ATHENS_TIMEOUT"]),
    implemented("StashTimeout", &["ATHENS_STASH_TIMEOUT"]),
    implemented("GoBinaryEnvVars", &["ATHENS_GO_BINARY_ENV_VARS"]),
    implemented("NoSumPatterns", &["ATHENS_GONOSUM_PATTERNS"]),
    implemented("NETRCPath", &["ATHENS_NETRC_PATH"]),
    implemented("GithubToken", &["ATHENS_GITHUB_TOKEN"]),
    implemented("GoBinary", &["GO_BINARY_PATH"]),
    implemented("GoGetWorkers", &["ATHENS_GOGET_WORKERS"]),
    implemented("Storage.S3.Bucket", &["ATHENS_S3_BUCKET_NAME"]),
    implemented("Storage.S3.Region", &["AWS_REGION"]),
    implemented("Storage.S3.Endpoint", &["AWS_ENDPOINT"]),
    implemented("Storage.S3.Key", &["AWS_ACCESS_KEY_ID"]),
    implemented("Storage.S3.Secret", &["AWS_SECRET_ACCESS_KEY"]),
    implemented("Storage.S3.Token", &["AWS_SESSION_TOKEN"]),
    implemented("Storage.S3.ForcePathStyle", &["AWS_FORCE_PATH_STYLE"]),
    implemented("Storage.Minio.Endpoint", &["ATHENS_MINIO_ENDPOINT"]),
    implemented("Storage.Minio.Key", &["ATHENS_MINIO_ACCESS_KEY_ID"]),
    implemented("Storage.Minio.Secret", &["ATHENS_MINIO_SECRET_ACCESS_KEY"]),
    implemented("Storage.Minio.Bucket", &["ATHENS_MINIO_BUCKET_NAME"]),
    implemented("Storage.Minio.Region", &["ATHENS_MINIO_REGION"]),
    implemented("Storage.Minio.EnableSSL", &["ATHENS_MINIO_USE_SSL"]),
    implemented(
        "Storage.AzureBlob.AccountName",
        &["ATHENS_AZURE_ACCOUNT_NAME"],
    ),
    implemented(
        "Storage.AzureBlob.AccountKey",
        &["ATHENS_AZURE_ACCOUNT_KEY"],
    ),
    implemented(
        "Storage.AzureBlob.ContainerName",
        &["ATHENS_AZURE_CONTAINER_NAME"],
    ),
    implemented("Storage.External.URL", &["ATHENS_EXTERNAL_STORAGE_URL"]),
    implemented("Storage.GCP.Bucket", &["ATHENS_STORAGE_GCP_BUCKET"]),
    implemented("Storage.GCP.JSONKey", &["ATHENS_STORAGE_GCP_JSON_KEY"]),
    implemented("Storage.Mongo.URL", &["ATHENS_MONGO_STORAGE_URL"]),
    implemented(
        "Storage.Mongo.DefaultDBName",
        &["ATHENS_MONGO_DEFAULT_DATABASE"],
    ),
    implemented(
        "Storage.Mongo.DefaultCollectionName",
        &["ATHENS_MONGO_DEFAULT_COLLECTION"],
    ),
    implemented("Storage.Mongo.CertPath", &["ATHENS_MONGO_CERT_PATH"]),
    implemented("Storage.Mongo.InsecureConn", &["ATHENS_MONGO_INSECURE"]),
    // Athens' sample config spells it `Insecure`, but its field is `InsecureConn`, so
    // Athens never reads this key; neither does agora.
    ignored(
        "Storage.Mongo.Insecure",
        &[],
        Default::Bool(false),
        "Athens ignores it too (its key is Storage.Mongo.InsecureConn, env ATHENS_MONGO_INSECURE)",
    ),
    // Accepted, not implemented.
    ignored("GoEnv", &["GO_ENV"], Default::Str(&["development"]), ""),
    ignored(
        "GoGetDir",
        &["ATHENS_GOGET_DIR"],
        Default::Str(&[""]),
        "agora spools downloads, and makes the go fetcher's temporary GOPATHs, in tmp_dir \
         (AGORA_TMP_DIR)",
    ),
    ignored(
        "ProtocolWorkers",
        &["ATHENS_PROTOCOL_WORKERS"],
        Default::Int(30),
        "",
    ),
    ignored(
        "CloudRuntime",
        &["ATHENS_CLOUD_RUNTIME"],
        Default::Str(&["none", ""]),
        "",
    ),
    ignored(
        "EnablePprof",
        &["ATHENS_ENABLE_PPROF"],
        Default::Bool(false),
        "",
    ),
    ignored(
        "PprofPort",
        &["ATHENS_PPROF_PORT"],
        Default::Str(&[":3001"]),
        "",
    ),
    refused(
        "FilterFile",
        &["ATHENS_FILTER_FILE"],
        Default::Str(&[""]),
        "the filter file is NOT applied: every module is served",
    ),
    ignored(
        "TraceExporter",
        &["ATHENS_TRACE_EXPORTER"],
        Default::Str(&[""]),
        "",
    ),
    ignored(
        "TraceExporterURL",
        &["ATHENS_TRACE_EXPORTER_URL"],
        // The current default, the pre-OTLP default still found in older files, and empty.
        Default::Str(&["http://localhost:4317", "http://localhost:14268", ""]),
        "",
    ),
    ignored(
        "TraceSamplingFraction",
        &["ATHENS_TRACE_SAMPLING_FRACTION"],
        Default::Float(1.0),
        "",
    ),
    ignored(
        "StatsExporter",
        &["ATHENS_STATS_EXPORTER"],
        Default::Str(&["prometheus"]),
        "",
    ),
    ignored(
        "GlobalEndpoint",
        &["ATHENS_GLOBAL_ENDPOINT"],
        Default::Str(&["http://localhost:3001", ""]),
        "",
    ),
    refused(
        "BasicAuthUser",
        &["BASIC_AUTH_USER"],
        Default::Str(&[""]),
        NOT_PROTECTED,
    ),
    refused(
        "BasicAuthPass",
        &["BASIC_AUTH_PASS"],
        Default::Str(&[""]),
        NOT_PROTECTED,
    ),
    ignored(
        "HomeTemplatePath",
        &["ATHENS_HOME_TEMPLATE_PATH"],
        Default::Str(&["/var/lib/athens/home.html"]),
        "",
    ),
    ignored("ForceSSL", &["PROXY_FORCE_SSL"], Default::Bool(false), ""),
    refused(
        "ValidatorHook",
        &["ATHENS_PROXY_VALIDATOR"],
        Default::Str(&[""]),
        "the validator is NOT called: modules are served without validation",
    ),
    ignored(
        "HGRCPath",
        &["ATHENS_HGRC_PATH"],
        Default::Str(&[""]),
        "agora does not install an .hgrc file",
    ),
    ignored(
        "TLSCertFile",
        &["ATHENS_TLSCERT_FILE"],
        Default::Str(&[""]),
        "agora serves plain HTTP; terminate TLS in front of it",
    ),
    ignored(
        "TLSKeyFile",
        &["ATHENS_TLSKEY_FILE"],
        Default::Str(&[""]),
        "agora serves plain HTTP; terminate TLS in front of it",
    ),
    ignored(
        "SumDBs",
        &["ATHENS_SUM_DBS"],
        Default::List(&["https://sum.golang.org"]),
        "",
    ),
    ignored(
        "DownloadMode",
        &["ATHENS_DOWNLOAD_MODE"],
        Default::Str(&["sync"]),
        "agora behaves as DownloadMode = \"sync\"",
    ),
    ignored(
        "DownloadURL",
        &["ATHENS_DOWNLOAD_URL"],
        Default::Str(&[""]),
        "",
    ),
    ignored(
        "RobotsFile",
        &["ATHENS_ROBOTS_FILE"],
        Default::Str(&["robots.txt"]),
        "",
    ),
    ignored(
        "SingleFlightType",
        &["ATHENS_SINGLE_FLIGHT_TYPE"],
        Default::Str(&["memory"]),
        "agora coordinates concurrent fetches within one process only",
    ),
    ignored(
        "IndexType",
        &["ATHENS_INDEX_TYPE"],
        Default::Str(&["none", ""]),
        "",
    ),
    ignored(
        "Storage.S3.UseDefaultConfiguration",
        &["AWS_USE_DEFAULT_CONFIGURATION"],
        Default::Bool(false),
        "agora uses the static keys when set, else the instance metadata service",
    ),
    ignored(
        "Storage.S3.CredentialsEndpoint",
        &["AWS_CREDENTIALS_ENDPOINT"],
        Default::Str(&[""]),
        "agora uses the static keys when set, else the instance metadata service",
    ),
    ignored(
        "Storage.S3.AwsContainerCredentialsRelativeURI",
        &["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"],
        Default::Str(&[""]),
        "agora uses the static keys when set, else the instance metadata service",
    ),
    // Backend sub-settings.
    // Athens' GCS client does not use it either (GOOGLE_CLOUD_PROJECT); accepted silently.
    backend("Storage.GCP.ProjectID"),
    backend("Storage.CDN.Endpoint"),
    backend("Storage.AzureBlob.ManagedIdentityResourceId"),
    backend("Storage.AzureBlob.CredentialScope"),
    backend("SingleFlight.Etcd.Endpoints"),
    backend("SingleFlight.Redis.Endpoint"),
    backend("SingleFlight.Redis.Password"),
    backend("SingleFlight.Redis.Cluster"),
    backend("SingleFlight.Redis.LockConfig.TTL"),
    backend("SingleFlight.Redis.LockConfig.Timeout"),
    backend("SingleFlight.Redis.LockConfig.MaxRetries"),
    backend("SingleFlight.RedisSentinel.Endpoints"),
    backend("SingleFlight.RedisSentinel.MasterName"),
    backend("SingleFlight.RedisSentinel.SentinelPassword"),
    backend("SingleFlight.RedisSentinel.RedisUsername"),
    backend("SingleFlight.RedisSentinel.RedisPassword"),
    backend("SingleFlight.RedisSentinel.DB"),
    backend("SingleFlight.RedisSentinel.LockConfig.TTL"),
    backend("SingleFlight.RedisSentinel.LockConfig.Timeout"),
    backend("SingleFlight.RedisSentinel.LockConfig.MaxRetries"),
    backend("SingleFlight.GCP.StaleThreshold"),
    backend("Index.MySQL.Protocol"),
    backend("Index.MySQL.Host"),
    backend("Index.MySQL.Port"),
    backend("Index.MySQL.User"),
    backend("Index.MySQL.Password"),
    backend("Index.MySQL.Database"),
    backend("Index.MySQL.Params"),
    backend("Index.Postgres.Host"),
    backend("Index.Postgres.Port"),
    backend("Index.Postgres.User"),
    backend("Index.Postgres.Password"),
    backend("Index.Postgres.Database"),
    backend("Index.Postgres.Params"),
];

fn find_key(path: &str) -> Option<&'static AthensKey> {
    ATHENS_KEYS
        .iter()
        .find(|k| k.path.eq_ignore_ascii_case(path))
}

fn is_known_table(path: &str) -> bool {
    let n = path.len();
    ATHENS_KEYS.iter().any(|k| {
        k.path.len() > n && k.path.as_bytes()[n] == b'.' && k.path[..n].eq_ignore_ascii_case(path)
    })
}

/// Whether a top-level key is an Athens key or table, matched as Athens matches keys
/// (case-insensitively), so `[storage.disk]` in an Athens file is Athens' `[Storage.Disk]`.
pub(crate) fn is_athens_top_level(key: &str) -> bool {
    find_key(key).is_some() || is_known_table(key)
}

/// The Athens keys found in a file, each with its value and its path as spelled there.
type Found<'a> = Vec<(&'static AthensKey, &'a Value, String)>;

fn walk<'a>(table: &'a Table, prefix: &str, found: &mut Found<'a>, unknown: &mut Vec<String>) {
    for (k, v) in table {
        let spelled = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let Some(key) = find_key(&spelled) {
            found.push((key, v, spelled));
        } else if let (Value::Table(t), true) = (v, is_known_table(&spelled)) {
            walk(t, &spelled, found, unknown);
        } else {
            unknown.push(spelled);
        }
    }
}

/// The part of Athens' configuration that sets the go command's environment
/// (`GoBinaryEnvVars` and `NoSumPatterns`), kept apart because the environment's list
/// replaces the file's as a whole.
#[derive(Debug, Default)]
pub(crate) struct GoInputs {
    list: Option<EnvList>,
    nosum: Slot<String>,
}

/// A parsed `GoBinaryEnvVars` list.
#[derive(Debug)]
struct EnvList {
    /// The recognised variables, in list order (later entries win, as for exec).
    known: Vec<(GoVar, Sourced<String>)>,
    /// Names of the other entries, which agora ignores.
    ignored: Vec<String>,
    /// How the list itself is named: `GoBinaryEnvVars` or `ATHENS_GO_BINARY_ENV_VARS`.
    key: &'static str,
    source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoVar {
    Goproxy,
    Goprivate,
    Gonoproxy,
    Gonosumdb,
    Goinsecure,
}

impl GoVar {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "GOPROXY" => Some(Self::Goproxy),
            "GOPRIVATE" => Some(Self::Goprivate),
            "GONOPROXY" => Some(Self::Gonoproxy),
            "GONOSUMDB" => Some(Self::Gonosumdb),
            "GOINSECURE" => Some(Self::Goinsecure),
            _ => None,
        }
    }

    fn slot(self, layer: &mut Layer) -> &mut Slot<String> {
        match self {
            Self::Goproxy => &mut layer.goproxy,
            Self::Goprivate => &mut layer.goprivate,
            Self::Gonoproxy => &mut layer.gonoproxy,
            Self::Gonosumdb => &mut layer.gonosumdb,
            Self::Goinsecure => &mut layer.goinsecure,
        }
    }
}

impl EnvList {
    /// Parses `KEY=VALUE` entries. Blank entries are skipped; any other entry without `=`
    /// is an error, as in Athens.
    fn parse<'a>(
        entries: impl IntoIterator<Item = &'a str>,
        key: &'static str,
        source: &Source,
        invalid: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<Self, ConfigError> {
        let mut list = EnvList {
            known: Vec::new(),
            ignored: Vec::new(),
            key,
            source: source.clone(),
        };
        for entry in entries {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let Some((name, val)) = entry.split_once('=') else {
                return Err(invalid(entry, "expected KEY=VALUE entries".to_owned()));
            };
            let name = name.trim();
            let Some(var) = GoVar::from_name(name) else {
                list.ignored.push(name.to_owned());
                continue;
            };
            let check = if var == GoVar::Goproxy {
                check_goproxy
            } else {
                check_patterns
            };
            let entry_key = format!("{name} in {key}");
            let parsed = check(val).map_err(|reason| ConfigError::Invalid {
                key: entry_key.clone(),
                origin: source.clone(),
                value: value::quote(val),
                reason,
            })?;
            list.known
                .push((var, Sourced::new(parsed, entry_key, source.clone())));
        }
        Ok(list)
    }

    /// Athens' default list, `["GOPROXY=direct"]`.
    fn athens_default(file: &Path) -> Self {
        let source = Source::AthensDefault {
            file: file.to_path_buf(),
        };
        EnvList {
            known: vec![(
                GoVar::Goproxy,
                Sourced::new("direct".to_owned(), "GoBinaryEnvVars", source.clone()),
            )],
            ignored: Vec::new(),
            key: "GoBinaryEnvVars",
            source,
        }
    }

    fn get(&self, var: GoVar) -> Option<&Sourced<String>> {
        self.known
            .iter()
            .rev()
            .find(|(v, _)| *v == var)
            .map(|(_, s)| s)
    }
}

/// What an Athens file contributes.
#[derive(Debug, Default)]
pub(crate) struct AthensFile {
    /// Athens' defaults for the implemented keys the file leaves out.
    pub defaults: Layer,
    /// The file's own values.
    pub layer: Layer,
    /// `GoBinaryEnvVars` and `NoSumPatterns`, resolved later against the environment.
    pub go: GoInputs,
}

/// Reads an Athens-format file (already parsed as TOML).
pub(crate) fn file(
    path: &Path,
    table: &Table,
    warnings: &mut Vec<String>,
) -> Result<AthensFile, ConfigError> {
    let mut found = Found::new();
    let mut unknown = Vec::new();
    walk(table, "", &mut found, &mut unknown);
    for key in unknown {
        warnings.push(format!(
            "unknown key {key} in Athens config file {} is ignored (Athens ignores it too)",
            path.display()
        ));
    }

    let get = |p: &str| {
        found
            .iter()
            .find(|(k, _, _)| k.path == p)
            .map(|(_, v, spelled)| (*v, spelled.as_str()))
    };
    // The key as the file spells it, for messages.
    let spelled = |p: &'static str| get(p).map_or(p, |(_, s)| s);
    let val = |p: &str| get(p).map(|(v, _)| v);

    let layer = Layer {
        listen: toml_str_slot(path, spelled("Port"), val("Port"), value::listen)?,
        unix_socket: toml_str_slot(
            path,
            spelled("UnixSocket"),
            val("UnixSocket"),
            value::unix_socket,
        )?,
        path_prefix: toml_str_slot(
            path,
            spelled("PathPrefix"),
            val("PathPrefix"),
            value::path_prefix,
        )?,
        shutdown_timeout: toml_secs_slot(
            path,
            spelled("ShutdownTimeout"),
            val("ShutdownTimeout"),
            false,
        )?,
        log_level: toml_str_slot(path, spelled("LogLevel"), val("LogLevel"), value::log_level)?,
        log_format: toml_str_slot(
            path,
            spelled("LogFormat"),
            val("LogFormat"),
            value::log_format,
        )?,
        storage_type: toml_str_slot(
            path,
            spelled("StorageType"),
            val("StorageType"),
            value::storage_kind,
        )?,
        disk_root: toml_str_slot(
            path,
            spelled("Storage.Disk.RootPath"),
            val("Storage.Disk.RootPath"),
            value::path,
        )?,
        network_mode: toml_str_slot(
            path,
            spelled("NetworkMode"),
            val("NetworkMode"),
            value::network_mode,
        )?,
        timeout: toml_secs_slot(path, spelled("Timeout"), val("Timeout"), true)?,
        stash_timeout: toml_secs_slot(path, spelled("StashTimeout"), val("StashTimeout"), true)?,
        netrc_path: toml_str_slot(
            path,
            spelled("NETRCPath"),
            val("NETRCPath"),
            value::optional_path,
        )?,
        github_token: toml_secret_slot(path, spelled("GithubToken"), val("GithubToken"))?,
        go_binary: toml_str_slot(path, spelled("GoBinary"), val("GoBinary"), value::path)?,
        go_fetcher_workers: toml_slot(
            path,
            spelled("GoGetWorkers"),
            val("GoGetWorkers"),
            value::toml_workers,
        )?,
        s3_bucket: toml_str_slot(
            path,
            spelled("Storage.S3.Bucket"),
            val("Storage.S3.Bucket"),
            value::optional,
        )?,
        s3_region: toml_str_slot(
            path,
            spelled("Storage.S3.Region"),
            val("Storage.S3.Region"),
            value::optional,
        )?,
        s3_endpoint: toml_str_slot(
            path,
            spelled("Storage.S3.Endpoint"),
            val("Storage.S3.Endpoint"),
            value::endpoint_url,
        )?,
        s3_access_key_id: toml_str_slot(
            path,
            spelled("Storage.S3.Key"),
            val("Storage.S3.Key"),
            value::optional,
        )?,
        s3_secret_access_key: toml_secret_slot(
            path,
            spelled("Storage.S3.Secret"),
            val("Storage.S3.Secret"),
        )?,
        s3_session_token: toml_secret_slot(
            path,
            spelled("Storage.S3.Token"),
            val("Storage.S3.Token"),
        )?,
        s3_force_path_style: toml_bool_slot(
            path,
            spelled("Storage.S3.ForcePathStyle"),
            val("Storage.S3.ForcePathStyle"),
        )?,
        minio_endpoint: toml_str_slot(
            path,
            spelled("Storage.Minio.Endpoint"),
            val("Storage.Minio.Endpoint"),
            value::minio_endpoint,
        )?,
        minio_access_key_id: toml_str_slot(
            path,
            spelled("Storage.Minio.Key"),
            val("Storage.Minio.Key"),
            value::optional,
        )?,
        minio_secret_access_key: toml_secret_slot(
            path,
            spelled("Storage.Minio.Secret"),
            val("Storage.Minio.Secret"),
        )?,
        minio_bucket: toml_str_slot(
            path,
            spelled("Storage.Minio.Bucket"),
            val("Storage.Minio.Bucket"),
            value::optional,
        )?,
        minio_region: toml_str_slot(
            path,
            spelled("Storage.Minio.Region"),
            val("Storage.Minio.Region"),
            value::optional,
        )?,
        minio_use_ssl: toml_bool_slot(
            path,
            spelled("Storage.Minio.EnableSSL"),
            val("Storage.Minio.EnableSSL"),
        )?,
        azure_account_name: toml_str_slot(
            path,
            spelled("Storage.AzureBlob.AccountName"),
            val("Storage.AzureBlob.AccountName"),
            value::optional,
        )?,
        azure_account_key: toml_secret_slot(
            path,
            spelled("Storage.AzureBlob.AccountKey"),
            val("Storage.AzureBlob.AccountKey"),
        )?,
        azure_container: toml_str_slot(
            path,
            spelled("Storage.AzureBlob.ContainerName"),
            val("Storage.AzureBlob.ContainerName"),
            value::optional,
        )?,
        gcp_bucket: toml_str_slot(
            path,
            spelled("Storage.GCP.Bucket"),
            val("Storage.GCP.Bucket"),
            value::optional,
        )?,
        gcp_json_key: toml_secret_slot(
            path,
            spelled("Storage.GCP.JSONKey"),
            val("Storage.GCP.JSONKey"),
        )?,
        external_url: toml_str_slot(
            path,
            spelled("Storage.External.URL"),
            val("Storage.External.URL"),
            value::endpoint_url,
        )?,
        mongo_url: toml_secret_slot(path, spelled("Storage.Mongo.URL"), val("Storage.Mongo.URL"))?,
        mongo_database: toml_str_slot(
            path,
            spelled("Storage.Mongo.DefaultDBName"),
            val("Storage.Mongo.DefaultDBName"),
            value::optional,
        )?,
        mongo_collection: toml_str_slot(
            path,
            spelled("Storage.Mongo.DefaultCollectionName"),
            val("Storage.Mongo.DefaultCollectionName"),
            value::optional,
        )?,
        mongo_cert_path: toml_str_slot(
            path,
            spelled("Storage.Mongo.CertPath"),
            val("Storage.Mongo.CertPath"),
            value::optional_path,
        )?,
        mongo_insecure: toml_bool_slot(
            path,
            spelled("Storage.Mongo.InsecureConn"),
            val("Storage.Mongo.InsecureConn"),
        )?,
        ..Layer::default()
    };

    let source = Source::file(path);
    let mut go = GoInputs::default();
    if let Some((v, key)) = get("GoBinaryEnvVars") {
        let entries = string_list(path, key, v)?;
        let invalid = |entry: &str, reason| file_error(path, key, &Value::from(entry), reason);
        go.list = Some(EnvList::parse(
            entries.iter().map(String::as_str),
            "GoBinaryEnvVars",
            &source,
            &invalid,
        )?);
    }
    if let Some((v, key)) = get("NoSumPatterns") {
        let patterns = string_list(path, key, v)?.join(",");
        let checked = check_patterns(&patterns).map_err(|r| file_error(path, key, v, r))?;
        go.nosum = Some(Sourced::new(checked, key, source.clone()));
    }

    for (key, v, spelled) in &found {
        if let Kind::Refused { default, note } = key.kind
            && !toml_is_default(v, default)
        {
            return Err(ConfigError::Refused {
                key: key.path.to_owned(),
                origin: Source::File {
                    path: path.to_path_buf(),
                },
                reason: note,
            });
        }
        if let Kind::Ignored { default, note } = key.kind
            && !toml_is_default(v, default)
        {
            warnings.push(ignored_warning(
                key.path,
                &format!("{spelled} in file {}", path.display()),
                note,
            ));
        }
    }

    Ok(AthensFile {
        defaults: athens_defaults(path),
        layer,
        go,
    })
}

/// Athens' defaults (`defaultConfig()`) for the settings agora implements. Those equal to
/// agora's defaults are listed too, so `config show` attributes them to Athens.
fn athens_defaults(path: &Path) -> Layer {
    let src = || Source::AthensDefault {
        file: path.to_path_buf(),
    };
    Layer {
        listen: Some(Sourced::new("0.0.0.0:3000".to_owned(), "Port", src())),
        path_prefix: Some(Sourced::new(String::new(), "PathPrefix", src())),
        shutdown_timeout: Some(Sourced::new(
            std::time::Duration::from_secs(60),
            "ShutdownTimeout",
            src(),
        )),
        log_level: Some(Sourced::new(LogLevel::Debug, "LogLevel", src())),
        log_format: Some(Sourced::new(LogFormat::Plain, "LogFormat", src())),
        storage_type: Some(Sourced::new(StorageKind::Memory, "StorageType", src())),
        network_mode: Some(Sourced::new(NetworkMode::Strict, "NetworkMode", src())),
        timeout: Some(Sourced::new(
            std::time::Duration::from_secs(300),
            "Timeout",
            src(),
        )),
        stash_timeout: Some(Sourced::new(
            std::time::Duration::from_secs(600),
            "StashTimeout",
            src(),
        )),
        ..Layer::default()
    }
}

fn string_list(path: &Path, key: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
    let bad = || file_error(path, key, v, "expected a list of strings".to_owned());
    let Value::Array(items) = v else {
        return Err(bad());
    };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(bad))
        .collect()
}

fn ignored_warning(path: &str, set_by: &str, note: &str) -> String {
    let mut w =
        format!("Athens setting {path} ({set_by}) is not implemented by agora and is ignored");
    if !note.is_empty() {
        w.push_str(": ");
        w.push_str(note);
    }
    w
}

fn toml_is_default(v: &Value, default: Default) -> bool {
    match (default, v) {
        (Default::Str(alts), Value::String(s)) => alts.contains(&s.as_str()),
        (Default::Int(d), Value::Integer(i)) => *i == d,
        (Default::Bool(d), Value::Boolean(b)) => *b == d,
        (Default::Float(d), Value::Float(f)) => *f == d,
        #[allow(clippy::cast_precision_loss)]
        (Default::Float(d), Value::Integer(i)) => (*i as f64) == d,
        (Default::List(d), Value::Array(items)) => {
            items.len() == d.len() && items.iter().zip(d).all(|(i, d)| i.as_str() == Some(*d))
        }
        _ => false,
    }
}

fn env_is_default(raw: &str, default: Default) -> bool {
    let raw = raw.trim();
    match default {
        Default::Str(alts) => alts.contains(&raw),
        Default::Int(d) => raw.parse::<i64>() == Ok(d),
        Default::Bool(d) => go_bool(raw) == Some(d),
        Default::Float(d) => raw.parse::<f64>() == Ok(d),
        Default::List(d) => {
            let items: Vec<&str> = if raw.is_empty() {
                Vec::new()
            } else {
                raw.split(',').map(str::trim).collect()
            };
            items == d
        }
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// What Athens' environment variables contribute.
#[derive(Debug, Default)]
pub(crate) struct AthensEnv {
    /// Settings from `ATHENS_*` names, at the same precedence as `AGORA_*` names.
    pub layer: Layer,
    /// `PORT`: used for `server.listen` only when neither `AGORA_LISTEN` nor `ATHENS_PORT`
    /// is set, because platforms (Cloud Run, Heroku) set it on their own.
    pub port: Slot<String>,
    /// `ATHENS_GO_BINARY_ENV_VARS` and `ATHENS_GONOSUM_PATTERNS`.
    pub go: GoInputs,
}

/// Reads Athens' environment variable names.
pub(crate) fn env(
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<AthensEnv, ConfigError> {
    // Athens treats an empty ATHENS_PORT, PORT or ATHENS_GO_BINARY_ENV_VARS as unset.
    let non_empty = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let layer = Layer {
        listen: env_slot(&non_empty, "ATHENS_PORT", value::listen)?,
        path_prefix: env_slot(env, "ATHENS_PATH_PREFIX", value::path_prefix)?,
        shutdown_timeout: env_slot(env, "ATHENS_SHUTDOWN_TIMEOUT", value::seconds)?,
        unix_socket: env_slot(env, "ATHENS_UNIX_SOCKET", value::unix_socket)?,
        log_level: env_slot(env, "ATHENS_LOG_LEVEL", value::log_level)?,
        log_format: env_slot(env, "ATHENS_LOG_FORMAT", value::log_format)?,
        storage_type: env_slot(env, "ATHENS_STORAGE_TYPE", value::storage_kind)?,
        disk_root: env_slot(env, "ATHENS_DISK_STORAGE_ROOT", value::path)?,
        network_mode: env_slot(env, "ATHENS_NETWORK_MODE", value::network_mode)?,
        timeout: env_slot(env, "ATHENS_TIMEOUT", value::positive_seconds)?,
        stash_timeout: env_slot(env, "ATHENS_STASH_TIMEOUT", value::positive_seconds)?,
        netrc_path: env_slot(env, "ATHENS_NETRC_PATH", value::optional_path)?,
        github_token: env_slot(env, "ATHENS_GITHUB_TOKEN", value::optional_secret)?,
        go_binary: env_slot(env, "GO_BINARY_PATH", value::path)?,
        go_fetcher_workers: env_slot(env, "ATHENS_GOGET_WORKERS", value::workers)?,
        s3_bucket: env_slot(env, "ATHENS_S3_BUCKET_NAME", value::optional)?,
        s3_region: env_slot(env, "AWS_REGION", value::optional)?,
        s3_endpoint: env_slot(env, "AWS_ENDPOINT", value::endpoint_url)?,
        s3_access_key_id: env_slot(env, "AWS_ACCESS_KEY_ID", value::optional)?,
        s3_secret_access_key: env_slot(env, "AWS_SECRET_ACCESS_KEY", value::optional_secret)?,
        s3_session_token: env_slot(env, "AWS_SESSION_TOKEN", value::optional_secret)?,
        s3_force_path_style: env_slot(env, "AWS_FORCE_PATH_STYLE", value::go_bool)?,
        minio_endpoint: env_slot(env, "ATHENS_MINIO_ENDPOINT", value::minio_endpoint)?,
        minio_access_key_id: env_slot(env, "ATHENS_MINIO_ACCESS_KEY_ID", value::optional)?,
        minio_secret_access_key: env_slot(
            env,
            "ATHENS_MINIO_SECRET_ACCESS_KEY",
            value::optional_secret,
        )?,
        minio_bucket: env_slot(env, "ATHENS_MINIO_BUCKET_NAME", value::optional)?,
        minio_region: env_slot(env, "ATHENS_MINIO_REGION", value::optional)?,
        minio_use_ssl: env_slot(env, "ATHENS_MINIO_USE_SSL", value::go_bool)?,
        azure_account_name: env_slot(env, "ATHENS_AZURE_ACCOUNT_NAME", value::optional)?,
        azure_account_key: env_slot(env, "ATHENS_AZURE_ACCOUNT_KEY", value::optional_secret)?,
        azure_container: env_slot(env, "ATHENS_AZURE_CONTAINER_NAME", value::optional)?,
        // Not an Athens key: the Azure SDKs' own variable, honoured for its BlobEndpoint.
        azure_connection_string: env_slot(
            env,
            "AZURE_STORAGE_CONNECTION_STRING",
            value::optional_secret,
        )?,
        external_url: env_slot(env, "ATHENS_EXTERNAL_STORAGE_URL", value::endpoint_url)?,
        gcp_bucket: env_slot(env, "ATHENS_STORAGE_GCP_BUCKET", value::optional)?,
        gcp_json_key: env_slot(env, "ATHENS_STORAGE_GCP_JSON_KEY", value::optional_secret)?,
        // Not an Athens key: Google's client libraries' own variable, which Athens' GCS
        // client honours too.
        gcp_emulator_host: env_slot(env, "STORAGE_EMULATOR_HOST", value::optional)?,
        mongo_url: env_slot(env, "ATHENS_MONGO_STORAGE_URL", value::optional_secret)?,
        mongo_database: env_slot(env, "ATHENS_MONGO_DEFAULT_DATABASE", value::optional)?,
        mongo_collection: env_slot(env, "ATHENS_MONGO_DEFAULT_COLLECTION", value::optional)?,
        mongo_cert_path: env_slot(env, "ATHENS_MONGO_CERT_PATH", value::optional_path)?,
        mongo_insecure: env_slot(env, "ATHENS_MONGO_INSECURE", value::go_bool)?,
        ..Layer::default()
    };
    let port = env_slot(&non_empty, "PORT", value::listen)?;

    let mut go = GoInputs::default();
    const LIST: &str = "ATHENS_GO_BINARY_ENV_VARS";
    if let Some(raw) = non_empty(LIST) {
        let source = Source::env(LIST);
        let invalid = |entry: &str, reason| ConfigError::Invalid {
            key: LIST.to_owned(),
            origin: Source::env(LIST),
            value: value::quote(entry),
            reason,
        };
        go.list = Some(EnvList::parse(raw.split(';'), LIST, &source, &invalid)?);
    }
    go.nosum = env_slot(env, "ATHENS_GONOSUM_PATTERNS", check_patterns)?;

    for key in ATHENS_KEYS {
        if let Kind::Refused { default, note } = key.kind {
            for name in key.env {
                if let Some(raw) = env(name)
                    && !env_is_default(&raw, default)
                {
                    return Err(ConfigError::Refused {
                        key: (*name).to_owned(),
                        origin: Source::Env {
                            name: (*name).to_owned(),
                        },
                        reason: note,
                    });
                }
            }
        }
        if let Kind::Ignored { default, note } = key.kind {
            for name in key.env {
                if let Some(raw) = env(name)
                    && !env_is_default(&raw, default)
                {
                    warnings.push(ignored_warning(key.path, &format!("env {name}"), note));
                }
            }
        }
    }

    Ok(AthensEnv { layer, port, go })
}

/// Turns the `GoBinaryEnvVars` lists and `NoSumPatterns` of the file and the environment
/// into settings, the way Athens builds the go command's environment:
///
/// * `ATHENS_GO_BINARY_ENV_VARS` replaces the file's list as a whole; with neither, an
///   Athens file gets Athens' default list `GOPROXY=direct`.
/// * A variable missing from the effective list keeps agora's default, which equals the go
///   command's own default (Athens builds the child's environment from scratch).
/// * `GONOSUMDB` from the list wins over `NoSumPatterns` (Athens adds `NoSumPatterns` only
///   when the list has no `GONOSUMDB`).
///
/// Each value goes into the layer of whatever set it.
pub(crate) fn apply_go_inputs(
    file: GoInputs,
    env: GoInputs,
    athens_file: Option<&Path>,
    defaults: &mut Layer,
    file_layer: &mut Layer,
    env_layer: &mut Layer,
    warnings: &mut Vec<String>,
) {
    let list = env
        .list
        .or(file.list)
        .or_else(|| athens_file.map(EnvList::athens_default));
    let nosum = env.nosum.or(file.nosum);

    let mut list_gonosumdb = None;
    if let Some(list) = list {
        for name in &list.ignored {
            warnings.push(format!(
                "{name} in {} ({}) is ignored: agora only uses GOPROXY, GOPRIVATE, GONOPROXY, \
                 GONOSUMDB and GOINSECURE (its go fetcher gets a fixed environment)",
                list.key,
                list.source.location()
            ));
        }
        for var in [
            GoVar::Goproxy,
            GoVar::Goprivate,
            GoVar::Gonoproxy,
            GoVar::Gonosumdb,
            GoVar::Goinsecure,
        ] {
            if let Some(v) = list.get(var) {
                *var.slot(layer_of(&list.source, defaults, file_layer, env_layer)) =
                    Some(v.clone());
            }
        }
        list_gonosumdb = list.get(GoVar::Gonosumdb).cloned();
    }
    match (list_gonosumdb, nosum) {
        (Some(from_list), Some(ns)) if from_list.value != ns.value => warnings.push(format!(
            "{} ({}) is ignored because {} ({}) sets GONOSUMDB; Athens would still answer 403 \
             for checksum lookups matching {}, agora uses one list for both",
            ns.key,
            ns.source.location(),
            from_list.key,
            from_list.source.location(),
            ns.key
        )),
        (None, Some(ns)) => {
            let source = ns.source.clone();
            layer_of(&source, defaults, file_layer, env_layer).gonosumdb = Some(ns);
        }
        _ => {}
    }
}

/// The layer that holds values set by `source`.
fn layer_of<'a>(
    source: &Source,
    defaults: &'a mut Layer,
    file: &'a mut Layer,
    env: &'a mut Layer,
) -> &'a mut Layer {
    match source {
        Source::Env { .. } => env,
        Source::File { .. } => file,
        Source::AthensDefault { .. } | Source::Default => defaults,
    }
}
