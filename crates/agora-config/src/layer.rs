//! One layer of partial configuration (defaults of an Athens file, a file, the
//! environment), and how layers stack.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ConfigError, Setter, Source};
use crate::settings::{LogFormat, LogLevel, NetworkMode, Secret};
use crate::show::Render;
use crate::value::{self, Parser, StorageKind};

/// A value together with the key that set it (as spelled there) and where.
#[derive(Debug, Clone)]
pub(crate) struct Sourced<T> {
    pub value: T,
    pub key: String,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub(crate) fn new(value: T, key: impl Into<String>, source: Source) -> Self {
        Self {
            value,
            key: key.into(),
            source,
        }
    }
}

/// A setting a layer may or may not set.
pub(crate) type Slot<T> = Option<Sourced<T>>;

/// Every setting, each optional.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    pub data_dir: Slot<PathBuf>,
    pub tmp_dir: Slot<PathBuf>,
    pub listen: Slot<String>,
    pub path_prefix: Slot<String>,
    pub shutdown_timeout: Slot<Duration>,
    pub unix_socket: Slot<Option<PathBuf>>,
    pub log_level: Slot<LogLevel>,
    pub log_format: Slot<LogFormat>,
    pub storage_type: Slot<StorageKind>,
    pub disk_root: Slot<PathBuf>,
    pub goproxy: Slot<String>,
    pub goprivate: Slot<String>,
    pub gonoproxy: Slot<String>,
    pub gonosumdb: Slot<String>,
    pub goinsecure: Slot<String>,
    pub network_mode: Slot<NetworkMode>,
    pub timeout: Slot<Duration>,
    pub stash_timeout: Slot<Duration>,
    pub netrc_path: Slot<Option<PathBuf>>,
    pub github_token: Slot<Option<Secret>>,
    pub go_binary: Slot<PathBuf>,
    pub go_fetcher_vcs: Slot<Vec<String>>,
    pub go_fetcher_workers: Slot<usize>,
    // S3 and MinIO. Optional strings hold `None` when set to empty, so an empty
    // environment variable unsets a file's value, as in Athens.
    pub s3_bucket: Slot<Option<String>>,
    pub s3_region: Slot<Option<String>>,
    pub s3_endpoint: Slot<Option<String>>,
    pub s3_access_key_id: Slot<Option<String>>,
    pub s3_secret_access_key: Slot<Option<Secret>>,
    pub s3_session_token: Slot<Option<Secret>>,
    pub s3_force_path_style: Slot<bool>,
    pub minio_endpoint: Slot<Option<String>>,
    pub minio_access_key_id: Slot<Option<String>>,
    pub minio_secret_access_key: Slot<Option<Secret>>,
    pub minio_bucket: Slot<Option<String>>,
    pub minio_region: Slot<Option<String>>,
    pub minio_use_ssl: Slot<bool>,
    // Azure Blob.
    pub azure_account_name: Slot<Option<String>>,
    pub azure_account_key: Slot<Option<Secret>>,
    pub azure_container: Slot<Option<String>>,
    pub azure_connection_string: Slot<Option<Secret>>,
    // External (Athens' external storage protocol).
    pub external_url: Slot<Option<String>>,
    // Google Cloud Storage.
    pub gcp_bucket: Slot<Option<String>>,
    pub gcp_json_key: Slot<Option<Secret>>,
    pub gcp_emulator_host: Slot<Option<String>>,
    // MongoDB.
    pub mongo_url: Slot<Option<Secret>>,
    pub mongo_database: Slot<Option<String>>,
    pub mongo_collection: Slot<Option<String>>,
    pub mongo_cert_path: Slot<Option<PathBuf>>,
    pub mongo_insecure: Slot<bool>,
}

fn over<T>(low: &mut Slot<T>, high: Slot<T>) {
    if high.is_some() {
        *low = high;
    }
}

impl Layer {
    /// Stacks `high` on top of `self`: every setting `high` has replaces this layer's.
    pub(crate) fn overlay(&mut self, high: Layer) {
        over(&mut self.data_dir, high.data_dir);
        over(&mut self.tmp_dir, high.tmp_dir);
        over(&mut self.listen, high.listen);
        over(&mut self.path_prefix, high.path_prefix);
        over(&mut self.shutdown_timeout, high.shutdown_timeout);
        over(&mut self.unix_socket, high.unix_socket);
        over(&mut self.log_level, high.log_level);
        over(&mut self.log_format, high.log_format);
        over(&mut self.storage_type, high.storage_type);
        over(&mut self.disk_root, high.disk_root);
        over(&mut self.goproxy, high.goproxy);
        over(&mut self.goprivate, high.goprivate);
        over(&mut self.gonoproxy, high.gonoproxy);
        over(&mut self.gonosumdb, high.gonosumdb);
        over(&mut self.goinsecure, high.goinsecure);
        over(&mut self.network_mode, high.network_mode);
        over(&mut self.timeout, high.timeout);
        over(&mut self.stash_timeout, high.stash_timeout);
        over(&mut self.netrc_path, high.netrc_path);
        over(&mut self.github_token, high.github_token);
        over(&mut self.go_binary, high.go_binary);
        over(&mut self.go_fetcher_vcs, high.go_fetcher_vcs);
        over(&mut self.go_fetcher_workers, high.go_fetcher_workers);
        over(&mut self.s3_bucket, high.s3_bucket);
        over(&mut self.s3_region, high.s3_region);
        over(&mut self.s3_endpoint, high.s3_endpoint);
        over(&mut self.s3_access_key_id, high.s3_access_key_id);
        over(&mut self.s3_secret_access_key, high.s3_secret_access_key);
        over(&mut self.s3_session_token, high.s3_session_token);
        over(&mut self.s3_force_path_style, high.s3_force_path_style);
        over(&mut self.minio_endpoint, high.minio_endpoint);
        over(&mut self.minio_access_key_id, high.minio_access_key_id);
        over(
            &mut self.minio_secret_access_key,
            high.minio_secret_access_key,
        );
        over(&mut self.minio_bucket, high.minio_bucket);
        over(&mut self.minio_region, high.minio_region);
        over(&mut self.minio_use_ssl, high.minio_use_ssl);
        over(&mut self.azure_account_name, high.azure_account_name);
        over(&mut self.azure_account_key, high.azure_account_key);
        over(&mut self.azure_container, high.azure_container);
        over(
            &mut self.azure_connection_string,
            high.azure_connection_string,
        );
        over(&mut self.external_url, high.external_url);
        over(&mut self.gcp_bucket, high.gcp_bucket);
        over(&mut self.gcp_json_key, high.gcp_json_key);
        over(&mut self.gcp_emulator_host, high.gcp_emulator_host);
        over(&mut self.mongo_url, high.mongo_url);
        over(&mut self.mongo_database, high.mongo_database);
        over(&mut self.mongo_collection, high.mongo_collection);
        over(&mut self.mongo_cert_path, high.mongo_cert_path);
        over(&mut self.mongo_insecure, high.mongo_insecure);
    }

    /// Combines the environment's Athens-named and agora-named settings. They have the same
    /// precedence: when both set a setting to equal values the agora name is recorded as
    /// the source, and when the values differ loading fails naming both.
    pub(crate) fn combine_env(athens: Layer, agora: Layer) -> Result<Layer, ConfigError> {
        Ok(Layer {
            data_dir: pick("data_dir", athens.data_dir, agora.data_dir)?,
            tmp_dir: pick("tmp_dir", athens.tmp_dir, agora.tmp_dir)?,
            listen: pick("server.listen", athens.listen, agora.listen)?,
            path_prefix: pick("server.path_prefix", athens.path_prefix, agora.path_prefix)?,
            shutdown_timeout: pick(
                "server.shutdown_timeout",
                athens.shutdown_timeout,
                agora.shutdown_timeout,
            )?,
            unix_socket: pick("server.unix_socket", athens.unix_socket, agora.unix_socket)?,
            log_level: pick("log.level", athens.log_level, agora.log_level)?,
            log_format: pick("log.format", athens.log_format, agora.log_format)?,
            storage_type: pick("storage.type", athens.storage_type, agora.storage_type)?,
            disk_root: pick("storage.disk.root", athens.disk_root, agora.disk_root)?,
            goproxy: pick("upstream.goproxy", athens.goproxy, agora.goproxy)?,
            goprivate: pick("upstream.goprivate", athens.goprivate, agora.goprivate)?,
            gonoproxy: pick("upstream.gonoproxy", athens.gonoproxy, agora.gonoproxy)?,
            gonosumdb: pick("upstream.gonosumdb", athens.gonosumdb, agora.gonosumdb)?,
            goinsecure: pick("upstream.goinsecure", athens.goinsecure, agora.goinsecure)?,
            network_mode: pick(
                "upstream.network_mode",
                athens.network_mode,
                agora.network_mode,
            )?,
            timeout: pick("upstream.timeout", athens.timeout, agora.timeout)?,
            stash_timeout: pick(
                "upstream.stash_timeout",
                athens.stash_timeout,
                agora.stash_timeout,
            )?,
            netrc_path: pick("upstream.netrc_path", athens.netrc_path, agora.netrc_path)?,
            github_token: pick(
                "upstream.github_token",
                athens.github_token,
                agora.github_token,
            )?,
            go_binary: pick("upstream.go_binary", athens.go_binary, agora.go_binary)?,
            go_fetcher_vcs: pick(
                "upstream.go_fetcher_vcs",
                athens.go_fetcher_vcs,
                agora.go_fetcher_vcs,
            )?,
            go_fetcher_workers: pick(
                "upstream.go_fetcher_workers",
                athens.go_fetcher_workers,
                agora.go_fetcher_workers,
            )?,
            s3_bucket: pick("storage.s3.bucket", athens.s3_bucket, agora.s3_bucket)?,
            s3_region: pick("storage.s3.region", athens.s3_region, agora.s3_region)?,
            s3_endpoint: pick("storage.s3.endpoint", athens.s3_endpoint, agora.s3_endpoint)?,
            s3_access_key_id: pick(
                "storage.s3.access_key_id",
                athens.s3_access_key_id,
                agora.s3_access_key_id,
            )?,
            s3_secret_access_key: pick(
                "storage.s3.secret_access_key",
                athens.s3_secret_access_key,
                agora.s3_secret_access_key,
            )?,
            s3_session_token: pick(
                "storage.s3.session_token",
                athens.s3_session_token,
                agora.s3_session_token,
            )?,
            s3_force_path_style: pick(
                "storage.s3.force_path_style",
                athens.s3_force_path_style,
                agora.s3_force_path_style,
            )?,
            minio_endpoint: pick(
                "storage.minio.endpoint",
                athens.minio_endpoint,
                agora.minio_endpoint,
            )?,
            minio_access_key_id: pick(
                "storage.minio.access_key_id",
                athens.minio_access_key_id,
                agora.minio_access_key_id,
            )?,
            minio_secret_access_key: pick(
                "storage.minio.secret_access_key",
                athens.minio_secret_access_key,
                agora.minio_secret_access_key,
            )?,
            minio_bucket: pick(
                "storage.minio.bucket",
                athens.minio_bucket,
                agora.minio_bucket,
            )?,
            minio_region: pick(
                "storage.minio.region",
                athens.minio_region,
                agora.minio_region,
            )?,
            minio_use_ssl: pick(
                "storage.minio.use_ssl",
                athens.minio_use_ssl,
                agora.minio_use_ssl,
            )?,
            azure_account_name: pick(
                "storage.azure.account_name",
                athens.azure_account_name,
                agora.azure_account_name,
            )?,
            azure_account_key: pick(
                "storage.azure.account_key",
                athens.azure_account_key,
                agora.azure_account_key,
            )?,
            azure_container: pick(
                "storage.azure.container",
                athens.azure_container,
                agora.azure_container,
            )?,
            azure_connection_string: pick(
                "storage.azure.connection_string",
                athens.azure_connection_string,
                agora.azure_connection_string,
            )?,
            external_url: pick(
                "storage.external.url",
                athens.external_url,
                agora.external_url,
            )?,
            gcp_bucket: pick("storage.gcp.bucket", athens.gcp_bucket, agora.gcp_bucket)?,
            gcp_json_key: pick(
                "storage.gcp.json_key",
                athens.gcp_json_key,
                agora.gcp_json_key,
            )?,
            gcp_emulator_host: pick(
                "storage.gcp.emulator_host",
                athens.gcp_emulator_host,
                agora.gcp_emulator_host,
            )?,
            mongo_url: pick("storage.mongo.url", athens.mongo_url, agora.mongo_url)?,
            mongo_database: pick(
                "storage.mongo.database",
                athens.mongo_database,
                agora.mongo_database,
            )?,
            mongo_collection: pick(
                "storage.mongo.collection",
                athens.mongo_collection,
                agora.mongo_collection,
            )?,
            mongo_cert_path: pick(
                "storage.mongo.cert_path",
                athens.mongo_cert_path,
                agora.mongo_cert_path,
            )?,
            mongo_insecure: pick(
                "storage.mongo.insecure",
                athens.mongo_insecure,
                agora.mongo_insecure,
            )?,
        })
    }
}

fn pick<T: PartialEq + Render>(
    setting: &'static str,
    athens: Slot<T>,
    agora: Slot<T>,
) -> Result<Slot<T>, ConfigError> {
    match (athens, agora) {
        (Some(a), Some(g)) if a.value != g.value => Err(ConfigError::Conflict {
            setting,
            agora: Box::new(Setter {
                value: g.value.render(),
                key: g.key,
                origin: g.source,
            }),
            athens: Box::new(Setter {
                value: a.value.render(),
                key: a.key,
                origin: a.source,
            }),
        }),
        (_, Some(g)) => Ok(Some(g)),
        (athens, None) => Ok(athens),
    }
}

/// Reads one environment variable through `parse`. Unset gives `None`; an empty value is
/// a value like any other (as in Athens), so `AGORA_TIMEOUT=` is an error.
pub(crate) fn env_slot<T>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    parse: Parser<T>,
) -> Result<Slot<T>, ConfigError> {
    let Some(raw) = env(name) else {
        return Ok(None);
    };
    parse(&raw)
        .map(|v| Some(Sourced::new(v, name, Source::env(name))))
        .map_err(|reason| ConfigError::Invalid {
            key: name.to_owned(),
            origin: Source::env(name),
            value: value::quote(&raw),
            reason,
        })
}

/// Builds the error for a bad value at `key` in the file at `path`.
pub(crate) fn file_error(path: &Path, key: &str, v: &toml::Value, reason: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        origin: Source::file(path),
        value: value::quote_toml(v),
        reason,
    }
}

/// Reads a TOML string value through `parse`.
pub(crate) fn toml_str_slot<T>(
    path: &Path,
    key: &str,
    v: Option<&toml::Value>,
    parse: Parser<T>,
) -> Result<Slot<T>, ConfigError> {
    let Some(v) = v else {
        return Ok(None);
    };
    let parsed = match v {
        toml::Value::String(s) => parse(s),
        _ => Err("expected a string".to_owned()),
    };
    parsed
        .map(|t| Some(Sourced::new(t, key, Source::file(path))))
        .map_err(|reason| file_error(path, key, v, reason))
}

/// Reads a TOML boolean.
pub(crate) fn toml_bool_slot(
    path: &Path,
    key: &str,
    v: Option<&toml::Value>,
) -> Result<Slot<bool>, ConfigError> {
    match v {
        None => Ok(None),
        Some(toml::Value::Boolean(b)) => Ok(Some(Sourced::new(*b, key, Source::file(path)))),
        Some(v) => Err(file_error(
            path,
            key,
            v,
            "expected true or false".to_owned(),
        )),
    }
}

/// Reads a TOML string as a secret (empty means none). A value of the wrong type is
/// reported without echoing it.
pub(crate) fn toml_secret_slot(
    path: &Path,
    key: &str,
    v: Option<&toml::Value>,
) -> Result<Slot<Option<Secret>>, ConfigError> {
    let Some(v) = v else {
        return Ok(None);
    };
    match v {
        toml::Value::String(s) => Ok(Some(Sourced::new(
            value::secret(s),
            key,
            Source::file(path),
        ))),
        _ => Err(ConfigError::Invalid {
            key: key.to_owned(),
            origin: Source::file(path),
            value: "<redacted>".to_owned(),
            reason: "expected a string".to_owned(),
        }),
    }
}

/// Reads any TOML value through `parse`.
pub(crate) fn toml_slot<T>(
    path: &Path,
    key: &str,
    v: Option<&toml::Value>,
    parse: fn(&toml::Value) -> Result<T, String>,
) -> Result<Slot<T>, ConfigError> {
    let Some(v) = v else {
        return Ok(None);
    };
    parse(v)
        .map(|t| Some(Sourced::new(t, key, Source::file(path))))
        .map_err(|reason| file_error(path, key, v, reason))
}

/// Reads a TOML integer as seconds.
pub(crate) fn toml_secs_slot(
    path: &Path,
    key: &str,
    v: Option<&toml::Value>,
    positive: bool,
) -> Result<Slot<Duration>, ConfigError> {
    let Some(v) = v else {
        return Ok(None);
    };
    value::toml_seconds(v, positive)
        .map(|d| Some(Sourced::new(d, key, Source::file(path))))
        .map_err(|reason| file_error(path, key, v, reason))
}
