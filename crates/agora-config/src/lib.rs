//! agora's configuration: the typed settings tree, where each value comes from, and how
//! the sources stack.
//!
//! This crate owns:
//!
//! * the [`Settings`] tree the binary maps onto its components (it depends on no other
//!   agora crate, and produces only plain values);
//! * reading a config file in either of two formats, told apart by the case of its
//!   top-level keys: agora's own TOML (lowercase sections such as `[server]`, unknown keys
//!   rejected) or an Athens `config.toml` (CamelCase keys such as `Port`, read the way
//!   Athens reads it);
//! * the environment: `AGORA_*` names, and Athens' names with Athens' meaning;
//! * layering: built-in defaults, then (for an Athens file) Athens' defaults, then the
//!   file, then the environment; the CLI is layered on top by the binary;
//! * validation: a bad value fails loading with a [`ConfigError`] naming the key and where
//!   it was set;
//! * provenance for `agora config show` ([`Loaded::show`]), with secrets redacted
//!   ([`Secret`]).
//!
//! Only the file passed to [`load`] is read; unlike Athens, agora never picks up
//! `./athens.toml` implicitly. The process environment is read only through the function
//! passed to [`load`], so tests never touch the real environment; the go client's own
//! `GOPROXY`/`GOPRIVATE`/... variables are never read.
//!
//! See `docs/configuration.md` for every key, and `config/agora.example.toml`.

mod agora_file;
mod athens;
mod env;
mod error;
mod goproxy;
mod layer;
mod settings;
mod show;
#[cfg(test)]
mod tests;
mod value;

use std::path::{Path, PathBuf};

pub use error::{ConfigError, Setter, Source};
pub use settings::{
    AzureSettings, ExternalSettings, GcpSettings, LogFormat, LogLevel, LogSettings, MinioSettings,
    MongoSettings, NetworkMode, S3Settings, Secret, ServerSettings, Settings, StorageSettings,
    UpstreamSettings,
};

use layer::{Layer, Slot, Sourced};
use show::{Entry, Render};
use value::StorageKind;

/// The format of a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// agora's own format (lowercase keys).
    Agora,
    /// An Athens `config.toml` (CamelCase keys).
    Athens,
}

/// The config file that was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// The path, as given to [`load`].
    pub path: PathBuf,
    /// Its detected format.
    pub format: FileFormat,
}

/// The result of [`load`]: the settings, plus where each came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective, validated settings.
    pub settings: Settings,
    /// Things the operator should know that do not stop startup: Athens settings agora
    /// ignores, unknown keys in an Athens file, ignored `GoBinaryEnvVars` entries. The
    /// binary should log each at warn level. Values are never included.
    pub warnings: Vec<String>,
    /// The config file, if one was given.
    pub file: Option<ConfigFile>,
    entries: Vec<Entry>,
}

impl Loaded {
    /// Where the effective value of `key` came from. `key` is agora's dotted key, as in
    /// agora's config file and `config show`: `server.listen`, `upstream.timeout`,
    /// `data_dir`, ... Returns `None` for an unknown key, and for the keys of a storage
    /// backend that is not selected (`storage.disk.root` unless the type is disk,
    /// `storage.s3.*` unless it is s3, `storage.minio.*` unless it is minio).
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.source)
    }

    /// The text of `agora config show`: a comment header naming the config file, then
    /// every effective key as `key = value  # source` (the source being `default`,
    /// `default (Athens, file <path>)`, `file <path>` or `env NAME`, followed by the key as
    /// spelled there when it differs), then the warnings as comments. The assignments are
    /// valid agora TOML. Secret values print as `<redacted>`, and the passwords of URLs
    /// in other values as `xxxxx`.
    pub fn show(&self) -> String {
        let header = match &self.file {
            None => {
                "effective agora configuration\nconfig file: none (defaults and environment only)"
                    .to_owned()
            }
            Some(f) => format!(
                "effective agora configuration\nconfig file: {} ({} format)",
                f.path.display(),
                match f.format {
                    FileFormat::Agora => "agora",
                    FileFormat::Athens => "Athens",
                }
            ),
        };
        show::format(&header, &self.entries, &self.warnings)
    }
}

/// Loads the configuration.
///
/// `config_file` is the file given with `--config`, if any; with none, only defaults and
/// the environment apply. `env` looks up an environment variable; the binary passes
/// `&|k| std::env::var(k).ok()`.
///
/// Precedence, lowest first: agora's defaults; Athens' defaults (only when the file is in
/// Athens format); the file; the environment. In the environment, `AGORA_*` and `ATHENS_*`
/// names that set the same setting must agree, or loading fails naming both. `PORT` is used
/// only when neither `AGORA_LISTEN` nor `ATHENS_PORT` is set.
///
/// # Errors
///
/// [`ConfigError`] when the file cannot be read or parsed, has an unknown agora key or
/// mixes formats, when any value (in the file or the environment, even one later
/// overridden) is invalid, when `AGORA_*` and `ATHENS_*` names disagree, when the storage
/// type is an Athens backend agora does not support yet, or when the selected storage
/// lacks a required setting (an S3 bucket; MinIO's endpoint, keys and bucket).
pub fn load(
    config_file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let mut athens_defaults = Layer::default();
    let mut file_layer = Layer::default();
    let mut file_go = athens::GoInputs::default();
    let mut file = None;
    let mut athens_path = None;

    if let Some(path) = config_file {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let format = detect_format(path, &table)?;
        match format {
            FileFormat::Agora => file_layer = agora_file::layer(path, &text)?,
            FileFormat::Athens => {
                let f = athens::file(path, &table, &mut warnings)?;
                athens_defaults = f.defaults;
                file_layer = f.layer;
                file_go = f.go;
                athens_path = Some(path);
            }
        }
        tracing::debug!(path = %path.display(), ?format, "read config file");
        file = Some(ConfigFile {
            path: path.to_path_buf(),
            format,
        });
    }

    let athens_env = athens::env(env, &mut warnings)?;
    let mut athens_env_layer = athens_env.layer;
    athens::apply_go_inputs(
        file_go,
        athens_env.go,
        athens_path,
        &mut athens_defaults,
        &mut file_layer,
        &mut athens_env_layer,
        &mut warnings,
    );
    let mut env_layer = Layer::combine_env(athens_env_layer, env::layer(env)?)?;
    if env_layer.listen.is_none() {
        env_layer.listen = athens_env.port;
    }

    let mut merged = athens_defaults;
    merged.overlay(file_layer);
    merged.overlay(env_layer);
    resolve(merged, env, warnings, file)
}

/// An Athens file has CamelCase top-level keys (`Port`, `[Storage]`); agora's are
/// lowercase. Since Athens matches keys case-insensitively, a lowercase key that is an
/// Athens key (`[storage.disk]`, `timeout`) does not make a CamelCase file mixed; any
/// other lowercase key does, and such a file is refused rather than guessed at.
fn detect_format(path: &Path, table: &toml::Table) -> Result<FileFormat, ConfigError> {
    let camel = |k: &&String| k.starts_with(|c: char| c.is_ascii_uppercase());
    let athens_key = table.keys().find(camel);
    let agora_key = table
        .keys()
        .find(|k| !camel(k) && !athens::is_athens_top_level(k));
    match (agora_key, athens_key) {
        (Some(agora_key), Some(athens_key)) => Err(ConfigError::MixedFormat {
            path: path.to_path_buf(),
            agora_key: agora_key.clone(),
            athens_key: athens_key.clone(),
        }),
        (_, Some(_)) => Ok(FileFormat::Athens),
        _ => Ok(FileFormat::Agora),
    }
}

/// agora's default data directory: `$XDG_DATA_HOME/agora`, else
/// `$HOME/.local/share/agora`, else `./agora-data`. As the XDG spec says, an empty or
/// relative `XDG_DATA_HOME` is ignored.
fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(xdg) = env("XDG_DATA_HOME").filter(|v| Path::new(v).is_absolute()) {
        return Path::new(&xdg).join("agora");
    }
    if let Some(home) = env("HOME").filter(|v| !v.is_empty()) {
        return Path::new(&home).join(".local/share/agora");
    }
    PathBuf::from("./agora-data")
}

/// Fills in defaults, checks what can only be checked on the final values, and records
/// provenance.
fn resolve(
    m: Layer,
    env: &dyn Fn(&str) -> Option<String>,
    mut warnings: Vec<String>,
    file: Option<ConfigFile>,
) -> Result<Loaded, ConfigError> {
    let mut entries = Vec::new();
    let data_dir = record(
        &mut entries,
        take("data_dir", m.data_dir, || default_data_dir(env)),
    );
    let tmp_dir = record(
        &mut entries,
        take("tmp_dir", m.tmp_dir, || data_dir.join("tmp")),
    );
    let listen = record(
        &mut entries,
        take("server.listen", m.listen, || "127.0.0.1:3000".to_owned()),
    );
    let path_prefix = record(
        &mut entries,
        take("server.path_prefix", m.path_prefix, String::new),
    );
    let shutdown_timeout = record(
        &mut entries,
        take("server.shutdown_timeout", m.shutdown_timeout, || {
            std::time::Duration::from_secs(60)
        }),
    );
    let unix_socket = record(
        &mut entries,
        take("server.unix_socket", m.unix_socket, || None),
    );
    let level = record(
        &mut entries,
        take("log.level", m.log_level, || LogLevel::Info),
    );
    let format = record(
        &mut entries,
        take("log.format", m.log_format, || LogFormat::Plain),
    );

    let storage_type = m
        .storage_type
        .unwrap_or_else(|| Sourced::new(StorageKind::Disk, "storage.type", Source::Default));
    let storage = match storage_type.value {
        StorageKind::Unsupported(kind) => {
            return Err(ConfigError::UnsupportedStorage {
                kind: kind.to_owned(),
                key: storage_type.key,
                origin: storage_type.source,
            });
        }
        StorageKind::Disk => {
            record(&mut entries, ("storage.type", storage_type));
            let root = record(
                &mut entries,
                take("storage.disk.root", m.disk_root, || {
                    data_dir.join("storage")
                }),
            );
            StorageSettings::Disk { root }
        }
        StorageKind::Memory => {
            record(&mut entries, ("storage.type", storage_type));
            // An Athens file routinely carries a RootPath next to StorageType = "memory";
            // only warn when the operator set agora's own key.
            if let Some(root) = m.disk_root
                && matches!(
                    root.key.as_str(),
                    "storage.disk.root" | "AGORA_DISK_STORAGE_ROOT"
                )
            {
                warnings.push(format!(
                    "{} ({}) is ignored because the storage type is memory",
                    root.key,
                    root.source.location()
                ));
            }
            StorageSettings::Memory
        }
        StorageKind::S3 => {
            let selected = storage_type.source.clone();
            record(&mut entries, ("storage.type", storage_type));
            let missing = |key, names| ConfigError::missing(key, names, &selected, "s3");
            let bucket = record(
                &mut entries,
                take("storage.s3.bucket", m.s3_bucket, || None),
            )
            .ok_or_else(|| {
                missing(
                    "storage.s3.bucket",
                    "storage.s3.bucket, AGORA_S3_BUCKET, Athens' Storage.S3.Bucket or \
                         ATHENS_S3_BUCKET_NAME",
                )
            })?;
            let region = record(
                &mut entries,
                take("storage.s3.region", m.s3_region, || {
                    Some(DEFAULT_REGION.to_owned())
                }),
            )
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
            let endpoint = record(
                &mut entries,
                take("storage.s3.endpoint", m.s3_endpoint, || None),
            );
            let access_key_id = record(
                &mut entries,
                take("storage.s3.access_key_id", m.s3_access_key_id, || None),
            );
            let secret_access_key = record(
                &mut entries,
                take(
                    "storage.s3.secret_access_key",
                    m.s3_secret_access_key,
                    || None,
                ),
            );
            let session_token = record(
                &mut entries,
                take("storage.s3.session_token", m.s3_session_token, || None),
            );
            let force_path_style = record(
                &mut entries,
                take("storage.s3.force_path_style", m.s3_force_path_style, || {
                    false
                }),
            );
            // Static credentials come as a pair; half of one is a mistake, not a request
            // for the metadata service.
            match (&access_key_id, &secret_access_key) {
                (Some(_), None) => {
                    return Err(missing(
                        "storage.s3.secret_access_key",
                        "storage.s3.secret_access_key, AGORA_S3_SECRET_ACCESS_KEY, Athens' \
                         Storage.S3.Secret or AWS_SECRET_ACCESS_KEY (access_key_id is set)",
                    ));
                }
                (None, Some(_)) => {
                    return Err(missing(
                        "storage.s3.access_key_id",
                        "storage.s3.access_key_id, AGORA_S3_ACCESS_KEY_ID, Athens' \
                         Storage.S3.Key or AWS_ACCESS_KEY_ID (secret_access_key is set)",
                    ));
                }
                _ => {}
            }
            StorageSettings::S3(S3Settings {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                session_token,
                force_path_style,
            })
        }
        StorageKind::Minio => {
            let selected = storage_type.source.clone();
            record(&mut entries, ("storage.type", storage_type));
            let missing = |key, names| ConfigError::missing(key, names, &selected, "minio");
            let endpoint = record(
                &mut entries,
                take("storage.minio.endpoint", m.minio_endpoint, || None),
            )
            .ok_or_else(|| {
                missing(
                    "storage.minio.endpoint",
                    "storage.minio.endpoint, AGORA_MINIO_ENDPOINT, Athens' \
                     Storage.Minio.Endpoint or ATHENS_MINIO_ENDPOINT",
                )
            })?;
            let access_key_id = record(
                &mut entries,
                take("storage.minio.access_key_id", m.minio_access_key_id, || {
                    None
                }),
            )
            .ok_or_else(|| {
                missing(
                    "storage.minio.access_key_id",
                    "storage.minio.access_key_id, AGORA_MINIO_ACCESS_KEY_ID, Athens' \
                     Storage.Minio.Key or ATHENS_MINIO_ACCESS_KEY_ID",
                )
            })?;
            let secret_access_key = record(
                &mut entries,
                take(
                    "storage.minio.secret_access_key",
                    m.minio_secret_access_key,
                    || None,
                ),
            )
            .ok_or_else(|| {
                missing(
                    "storage.minio.secret_access_key",
                    "storage.minio.secret_access_key, AGORA_MINIO_SECRET_ACCESS_KEY, Athens' \
                     Storage.Minio.Secret or ATHENS_MINIO_SECRET_ACCESS_KEY",
                )
            })?;
            let bucket = record(
                &mut entries,
                take("storage.minio.bucket", m.minio_bucket, || None),
            )
            .ok_or_else(|| {
                missing(
                    "storage.minio.bucket",
                    "storage.minio.bucket, AGORA_MINIO_BUCKET, Athens' \
                         Storage.Minio.Bucket or ATHENS_MINIO_BUCKET_NAME",
                )
            })?;
            let region = record(
                &mut entries,
                take("storage.minio.region", m.minio_region, || {
                    Some(DEFAULT_REGION.to_owned())
                }),
            )
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
            let use_ssl = record(
                &mut entries,
                take("storage.minio.use_ssl", m.minio_use_ssl, || false),
            );
            StorageSettings::Minio(MinioSettings {
                endpoint,
                access_key_id,
                secret_access_key,
                bucket,
                region,
                use_ssl,
            })
        }
        StorageKind::Azure => {
            let selected = storage_type.source.clone();
            record(&mut entries, ("storage.type", storage_type));
            let missing = |key, names| ConfigError::missing(key, names, &selected, "azure");
            let account_name = record(
                &mut entries,
                take("storage.azure.account_name", m.azure_account_name, || None),
            );
            let account_key = record(
                &mut entries,
                take("storage.azure.account_key", m.azure_account_key, || None),
            );
            let container = record(
                &mut entries,
                take("storage.azure.container", m.azure_container, || None),
            )
            .ok_or_else(|| {
                missing(
                    "storage.azure.container",
                    "storage.azure.container, AGORA_AZURE_CONTAINER, Athens' \
                     Storage.AzureBlob.ContainerName or ATHENS_AZURE_CONTAINER_NAME",
                )
            })?;
            let connection_string = record(
                &mut entries,
                take(
                    "storage.azure.connection_string",
                    m.azure_connection_string,
                    || None,
                ),
            );
            if account_name.is_none() && connection_string.is_none() {
                return Err(missing(
                    "storage.azure.account_name",
                    "storage.azure.account_name, AGORA_AZURE_ACCOUNT_NAME, Athens' \
                     Storage.AzureBlob.AccountName or ATHENS_AZURE_ACCOUNT_NAME (or a \
                     connection string: storage.azure.connection_string, \
                     AGORA_AZURE_CONNECTION_STRING or AZURE_STORAGE_CONNECTION_STRING)",
                ));
            }
            StorageSettings::Azure(AzureSettings {
                account_name,
                account_key,
                container,
                connection_string,
            })
        }
        StorageKind::Gcp => {
            let selected = storage_type.source.clone();
            record(&mut entries, ("storage.type", storage_type));
            let bucket = record(
                &mut entries,
                take("storage.gcp.bucket", m.gcp_bucket, || None),
            )
            .ok_or_else(|| {
                ConfigError::missing(
                    "storage.gcp.bucket",
                    "storage.gcp.bucket, AGORA_GCP_BUCKET, Athens' Storage.GCP.Bucket or \
                     ATHENS_STORAGE_GCP_BUCKET",
                    &selected,
                    "gcp",
                )
            })?;
            let json_key = record(
                &mut entries,
                take("storage.gcp.json_key", m.gcp_json_key, || None),
            );
            let emulator_host = record(
                &mut entries,
                take("storage.gcp.emulator_host", m.gcp_emulator_host, || None),
            );
            StorageSettings::Gcp(GcpSettings {
                bucket,
                json_key,
                emulator_host,
            })
        }
        StorageKind::External => {
            let selected = storage_type.source.clone();
            record(&mut entries, ("storage.type", storage_type));
            let url = record(
                &mut entries,
                take("storage.external.url", m.external_url, || None),
            )
            .ok_or_else(|| {
                ConfigError::missing(
                    "storage.external.url",
                    "storage.external.url, AGORA_EXTERNAL_URL, Athens' Storage.External.URL \
                     or ATHENS_EXTERNAL_STORAGE_URL",
                    &selected,
                    "external",
                )
            })?;
            StorageSettings::External(ExternalSettings { url })
        }
        StorageKind::Mongo => {
            let selected = storage_type.source.clone();
            record(&mut entries, ("storage.type", storage_type));
            let url = record(
                &mut entries,
                take("storage.mongo.url", m.mongo_url, || None),
            )
            .ok_or_else(|| {
                ConfigError::missing(
                    "storage.mongo.url",
                    "storage.mongo.url, AGORA_MONGO_URL, Athens' Storage.Mongo.URL or \
                         ATHENS_MONGO_STORAGE_URL",
                    &selected,
                    "mongo",
                )
            })?;
            let database = record(
                &mut entries,
                take("storage.mongo.database", m.mongo_database, || {
                    Some(DEFAULT_MONGO_DATABASE.to_owned())
                }),
            )
            .unwrap_or_else(|| DEFAULT_MONGO_DATABASE.to_owned());
            let collection = record(
                &mut entries,
                take("storage.mongo.collection", m.mongo_collection, || {
                    Some(DEFAULT_MONGO_COLLECTION.to_owned())
                }),
            )
            .unwrap_or_else(|| DEFAULT_MONGO_COLLECTION.to_owned());
            let cert_path = record(
                &mut entries,
                take("storage.mongo.cert_path", m.mongo_cert_path, || None),
            );
            let insecure = record(
                &mut entries,
                take("storage.mongo.insecure", m.mongo_insecure, || false),
            );
            StorageSettings::Mongo(MongoSettings {
                url,
                database,
                collection,
                cert_path,
                insecure,
            })
        }
    };

    if let (Some(netrc), Some(token)) = (&m.netrc_path, &m.github_token)
        && netrc.value.is_some()
        && token.value.is_some()
    {
        let setter = |value: String, key: &str, origin: &Source| {
            Box::new(Setter {
                value,
                key: key.to_owned(),
                origin: origin.clone(),
            })
        };
        return Err(ConfigError::Exclusive {
            first: setter(netrc.value.render(), &netrc.key, &netrc.source),
            second: setter(token.value.render(), &token.key, &token.source),
        });
    }
    let upstream = UpstreamSettings {
        goproxy: record(
            &mut entries,
            take("upstream.goproxy", m.goproxy, || {
                "https://proxy.golang.org,direct".to_owned()
            }),
        ),
        goprivate: record(
            &mut entries,
            take("upstream.goprivate", m.goprivate, String::new),
        ),
        gonoproxy: record(
            &mut entries,
            take("upstream.gonoproxy", m.gonoproxy, String::new),
        ),
        gonosumdb: record(
            &mut entries,
            take("upstream.gonosumdb", m.gonosumdb, String::new),
        ),
        goinsecure: record(
            &mut entries,
            take("upstream.goinsecure", m.goinsecure, String::new),
        ),
        network_mode: record(
            &mut entries,
            take("upstream.network_mode", m.network_mode, || {
                NetworkMode::Strict
            }),
        ),
        timeout: record(
            &mut entries,
            take("upstream.timeout", m.timeout, || {
                std::time::Duration::from_secs(300)
            }),
        ),
        stash_timeout: record(
            &mut entries,
            take("upstream.stash_timeout", m.stash_timeout, || {
                std::time::Duration::from_secs(600)
            }),
        ),
        netrc_path: record(
            &mut entries,
            take("upstream.netrc_path", m.netrc_path, || None),
        ),
        github_token: record(
            &mut entries,
            take("upstream.github_token", m.github_token, || None),
        ),
        go_binary: record(
            &mut entries,
            take("upstream.go_binary", m.go_binary, || PathBuf::from("go")),
        ),
        go_fetcher_vcs: record(
            &mut entries,
            take("upstream.go_fetcher_vcs", m.go_fetcher_vcs, Vec::new),
        ),
        go_fetcher_workers: record(
            &mut entries,
            take("upstream.go_fetcher_workers", m.go_fetcher_workers, || 10),
        ),
    };

    let settings = Settings {
        server: ServerSettings {
            listen,
            path_prefix,
            shutdown_timeout,
            unix_socket,
        },
        log: LogSettings { level, format },
        storage,
        upstream,
        data_dir,
        tmp_dir,
    };
    Ok(Loaded {
        settings,
        warnings,
        file,
        entries,
    })
}

/// The S3 region when none is set: what AWS SDKs assume, and what MinIO reports.
const DEFAULT_REGION: &str = "us-east-1";
/// Athens' `Storage.Mongo.DefaultDBName` default.
const DEFAULT_MONGO_DATABASE: &str = "athens";
/// Athens' `Storage.Mongo.DefaultCollectionName` default.
const DEFAULT_MONGO_COLLECTION: &str = "modules";

/// The slot's value, or `default()` marked as agora's default.
fn take<T>(
    key: &'static str,
    slot: Slot<T>,
    default: impl FnOnce() -> T,
) -> (&'static str, Sourced<T>) {
    let s = slot.unwrap_or_else(|| Sourced::new(default(), key, Source::Default));
    (key, s)
}

/// Records a setting's provenance for `config show` and returns its value.
fn record<T: Render>(entries: &mut Vec<Entry>, (key, s): (&'static str, Sourced<T>)) -> T {
    entries.push(Entry {
        key,
        value: s.value.render(),
        source: s.source,
        spelled: s.key,
    });
    s.value
}
