//! agora's own TOML format: lowercase sections, every key optional, unknown keys rejected.

use std::path::Path;

use serde::Deserialize;
use toml::Value;

use crate::error::ConfigError;
use crate::layer::{
    Layer, toml_bool_slot, toml_secret_slot, toml_secs_slot, toml_slot, toml_str_slot,
};
use crate::value;

// Leaves are kept as raw TOML values so that a wrong value is reported by this crate, in
// the same "invalid value X for KEY (file F): reason" form as every other bad value, while
// serde still rejects unknown keys and misplaced tables with the key's name and line.

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawFile {
    data_dir: Option<Value>,
    tmp_dir: Option<Value>,
    server: RawServer,
    log: RawLog,
    storage: RawStorage,
    upstream: RawUpstream,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawServer {
    listen: Option<Value>,
    path_prefix: Option<Value>,
    shutdown_timeout: Option<Value>,
    unix_socket: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawLog {
    level: Option<Value>,
    format: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawStorage {
    #[serde(rename = "type")]
    kind: Option<Value>,
    disk: RawDisk,
    s3: RawS3,
    minio: RawMinio,
    azure: RawAzure,
    gcp: RawGcp,
    external: RawExternal,
    mongo: RawMongo,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawMongo {
    url: Option<Value>,
    database: Option<Value>,
    collection: Option<Value>,
    cert_path: Option<Value>,
    insecure: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawGcp {
    bucket: Option<Value>,
    json_key: Option<Value>,
    emulator_host: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawExternal {
    url: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawAzure {
    account_name: Option<Value>,
    account_key: Option<Value>,
    container: Option<Value>,
    connection_string: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawS3 {
    bucket: Option<Value>,
    region: Option<Value>,
    endpoint: Option<Value>,
    access_key_id: Option<Value>,
    secret_access_key: Option<Value>,
    session_token: Option<Value>,
    force_path_style: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawMinio {
    endpoint: Option<Value>,
    access_key_id: Option<Value>,
    secret_access_key: Option<Value>,
    bucket: Option<Value>,
    region: Option<Value>,
    use_ssl: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawDisk {
    root: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawUpstream {
    goproxy: Option<Value>,
    goprivate: Option<Value>,
    gonoproxy: Option<Value>,
    gonosumdb: Option<Value>,
    goinsecure: Option<Value>,
    network_mode: Option<Value>,
    timeout: Option<Value>,
    stash_timeout: Option<Value>,
    netrc_path: Option<Value>,
    github_token: Option<Value>,
    go_binary: Option<Value>,
    go_fetcher_vcs: Option<Value>,
    go_fetcher_workers: Option<Value>,
}

/// Parses an agora-format file into a layer.
pub(crate) fn layer(path: &Path, text: &str) -> Result<Layer, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let p = path;
    Ok(Layer {
        data_dir: toml_str_slot(p, "data_dir", raw.data_dir.as_ref(), value::path)?,
        tmp_dir: toml_str_slot(p, "tmp_dir", raw.tmp_dir.as_ref(), value::path)?,
        listen: toml_str_slot(
            p,
            "server.listen",
            raw.server.listen.as_ref(),
            value::listen,
        )?,
        path_prefix: toml_str_slot(
            p,
            "server.path_prefix",
            raw.server.path_prefix.as_ref(),
            value::path_prefix,
        )?,
        shutdown_timeout: toml_secs_slot(
            p,
            "server.shutdown_timeout",
            raw.server.shutdown_timeout.as_ref(),
            false,
        )?,
        unix_socket: toml_str_slot(
            p,
            "server.unix_socket",
            raw.server.unix_socket.as_ref(),
            value::unix_socket,
        )?,
        log_level: toml_str_slot(p, "log.level", raw.log.level.as_ref(), value::log_level)?,
        log_format: toml_str_slot(p, "log.format", raw.log.format.as_ref(), value::log_format)?,
        storage_type: toml_str_slot(
            p,
            "storage.type",
            raw.storage.kind.as_ref(),
            value::storage_kind,
        )?,
        disk_root: toml_str_slot(
            p,
            "storage.disk.root",
            raw.storage.disk.root.as_ref(),
            value::path,
        )?,
        goproxy: toml_str_slot(
            p,
            "upstream.goproxy",
            raw.upstream.goproxy.as_ref(),
            crate::goproxy::check_goproxy,
        )?,
        goprivate: toml_str_slot(
            p,
            "upstream.goprivate",
            raw.upstream.goprivate.as_ref(),
            crate::goproxy::check_patterns,
        )?,
        gonoproxy: toml_str_slot(
            p,
            "upstream.gonoproxy",
            raw.upstream.gonoproxy.as_ref(),
            crate::goproxy::check_patterns,
        )?,
        gonosumdb: toml_str_slot(
            p,
            "upstream.gonosumdb",
            raw.upstream.gonosumdb.as_ref(),
            crate::goproxy::check_patterns,
        )?,
        goinsecure: toml_str_slot(
            p,
            "upstream.goinsecure",
            raw.upstream.goinsecure.as_ref(),
            crate::goproxy::check_patterns,
        )?,
        network_mode: toml_str_slot(
            p,
            "upstream.network_mode",
            raw.upstream.network_mode.as_ref(),
            value::network_mode,
        )?,
        timeout: toml_secs_slot(p, "upstream.timeout", raw.upstream.timeout.as_ref(), true)?,
        stash_timeout: toml_secs_slot(
            p,
            "upstream.stash_timeout",
            raw.upstream.stash_timeout.as_ref(),
            true,
        )?,
        netrc_path: toml_str_slot(
            p,
            "upstream.netrc_path",
            raw.upstream.netrc_path.as_ref(),
            value::optional_path,
        )?,
        github_token: toml_secret_slot(
            p,
            "upstream.github_token",
            raw.upstream.github_token.as_ref(),
        )?,
        go_binary: toml_str_slot(
            p,
            "upstream.go_binary",
            raw.upstream.go_binary.as_ref(),
            value::path,
        )?,
        go_fetcher_vcs: toml_slot(
            p,
            "upstream.go_fetcher_vcs",
            raw.upstream.go_fetcher_vcs.as_ref(),
            value::toml_go_fetcher_vcs,
        )?,
        go_fetcher_workers: toml_slot(
            p,
            "upstream.go_fetcher_workers",
            raw.upstream.go_fetcher_workers.as_ref(),
            value::toml_workers,
        )?,
        s3_bucket: toml_str_slot(
            p,
            "storage.s3.bucket",
            raw.storage.s3.bucket.as_ref(),
            value::optional,
        )?,
        s3_region: toml_str_slot(
            p,
            "storage.s3.region",
            raw.storage.s3.region.as_ref(),
            value::optional,
        )?,
        s3_endpoint: toml_str_slot(
            p,
            "storage.s3.endpoint",
            raw.storage.s3.endpoint.as_ref(),
            value::endpoint_url,
        )?,
        s3_access_key_id: toml_str_slot(
            p,
            "storage.s3.access_key_id",
            raw.storage.s3.access_key_id.as_ref(),
            value::optional,
        )?,
        s3_secret_access_key: toml_secret_slot(
            p,
            "storage.s3.secret_access_key",
            raw.storage.s3.secret_access_key.as_ref(),
        )?,
        s3_session_token: toml_secret_slot(
            p,
            "storage.s3.session_token",
            raw.storage.s3.session_token.as_ref(),
        )?,
        s3_force_path_style: toml_bool_slot(
            p,
            "storage.s3.force_path_style",
            raw.storage.s3.force_path_style.as_ref(),
        )?,
        minio_endpoint: toml_str_slot(
            p,
            "storage.minio.endpoint",
            raw.storage.minio.endpoint.as_ref(),
            value::minio_endpoint,
        )?,
        minio_access_key_id: toml_str_slot(
            p,
            "storage.minio.access_key_id",
            raw.storage.minio.access_key_id.as_ref(),
            value::optional,
        )?,
        minio_secret_access_key: toml_secret_slot(
            p,
            "storage.minio.secret_access_key",
            raw.storage.minio.secret_access_key.as_ref(),
        )?,
        minio_bucket: toml_str_slot(
            p,
            "storage.minio.bucket",
            raw.storage.minio.bucket.as_ref(),
            value::optional,
        )?,
        minio_region: toml_str_slot(
            p,
            "storage.minio.region",
            raw.storage.minio.region.as_ref(),
            value::optional,
        )?,
        minio_use_ssl: toml_bool_slot(
            p,
            "storage.minio.use_ssl",
            raw.storage.minio.use_ssl.as_ref(),
        )?,
        azure_account_name: toml_str_slot(
            p,
            "storage.azure.account_name",
            raw.storage.azure.account_name.as_ref(),
            value::optional,
        )?,
        azure_account_key: toml_secret_slot(
            p,
            "storage.azure.account_key",
            raw.storage.azure.account_key.as_ref(),
        )?,
        azure_container: toml_str_slot(
            p,
            "storage.azure.container",
            raw.storage.azure.container.as_ref(),
            value::optional,
        )?,
        azure_connection_string: toml_secret_slot(
            p,
            "storage.azure.connection_string",
            raw.storage.azure.connection_string.as_ref(),
        )?,
        gcp_bucket: toml_str_slot(
            p,
            "storage.gcp.bucket",
            raw.storage.gcp.bucket.as_ref(),
            value::optional,
        )?,
        gcp_json_key: toml_secret_slot(
            p,
            "storage.gcp.json_key",
            raw.storage.gcp.json_key.as_ref(),
        )?,
        gcp_emulator_host: toml_str_slot(
            p,
            "storage.gcp.emulator_host",
            raw.storage.gcp.emulator_host.as_ref(),
            value::optional,
        )?,
        external_url: toml_str_slot(
            p,
            "storage.external.url",
            raw.storage.external.url.as_ref(),
            value::endpoint_url,
        )?,
        mongo_url: toml_secret_slot(p, "storage.mongo.url", raw.storage.mongo.url.as_ref())?,
        mongo_database: toml_str_slot(
            p,
            "storage.mongo.database",
            raw.storage.mongo.database.as_ref(),
            value::optional,
        )?,
        mongo_collection: toml_str_slot(
            p,
            "storage.mongo.collection",
            raw.storage.mongo.collection.as_ref(),
            value::optional,
        )?,
        mongo_cert_path: toml_str_slot(
            p,
            "storage.mongo.cert_path",
            raw.storage.mongo.cert_path.as_ref(),
            value::optional_path,
        )?,
        mongo_insecure: toml_bool_slot(
            p,
            "storage.mongo.insecure",
            raw.storage.mongo.insecure.as_ref(),
        )?,
    })
}
