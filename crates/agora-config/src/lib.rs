//! agora's configuration: the typed settings tree, where each value comes from, and how
//! the sources stack.
//!
//! This crate owns:
//!
//! * the [`Settings`] tree the binary maps onto its components, and the one declaration
//!   of each setting (`settings.rs`): its agora key, environment names, Athens key and
//!   names, defaults and kind, from which everything below follows. It depends only on
//!   `agora-core` (for the types it shares with the rest of agora, such as the parsed
//!   `GOPROXY` list) and produces plain values;
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

mod athens;
mod error;
mod layer;
mod patterns;
mod resolve;
mod settings;
mod show;
mod spec;
mod sumdb;
#[cfg(test)]
mod tests;
mod value;

use std::path::{Path, PathBuf};

pub use agora_core::goproxy::ProxyList;
pub use error::{ConfigError, Setter, Source};
pub use settings::{
    AuthSettings, AzureSettings, CacheSettings, ExternalSettings, GcpSettings, IndexKind,
    IndexSettings, LogFormat, LogLevel, LogSettings, MinioSettings, MongoSettings, NetworkMode,
    PostgresIndexSettings, S3Settings, Secret, ServerSettings, Settings, StorageSettings,
    SumdbSettings, TlsSettings, UpstreamSettings,
};
pub use settings::{DownloadModeSetting, DownloadSettings, FilterSettings};
pub use settings::{
    EtcdLockSettings, LockSettings, RedisLockSettings, RedisSentinelSettings, SingleFlightSettings,
};

use layer::Layer;
use show::Entry;

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
            FileFormat::Agora => file_layer = layer::agora_file(path, &text)?,
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
    )?;
    let mut env_layer = Layer::combine_env(athens_env_layer, layer::agora_env(env)?)?;
    env_layer.underlay(athens_env.platform);

    let mut merged = athens_defaults;
    merged.overlay(file_layer);
    merged.overlay(env_layer);
    let (settings, entries) = resolve::resolve(merged, env, &mut warnings)?;
    Ok(Loaded {
        settings,
        warnings,
        file,
        entries,
    })
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
