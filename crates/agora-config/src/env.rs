//! agora's own environment variable names (`AGORA_*`).

use crate::error::ConfigError;
use crate::goproxy::{check_goproxy, check_patterns};
use crate::layer::{Layer, env_slot};
use crate::value;

/// Every `AGORA_*` variable and the setting it sets, in `config show` order (for tests
/// that check the wiring and the docs).
#[cfg(test)]
pub(crate) const AGORA_ENV: &[(&str, &str)] = &[
    ("AGORA_DATA_DIR", "data_dir"),
    ("AGORA_TMP_DIR", "tmp_dir"),
    ("AGORA_LISTEN", "server.listen"),
    ("AGORA_PATH_PREFIX", "server.path_prefix"),
    ("AGORA_SHUTDOWN_TIMEOUT", "server.shutdown_timeout"),
    ("AGORA_UNIX_SOCKET", "server.unix_socket"),
    ("AGORA_LOG_LEVEL", "log.level"),
    ("AGORA_LOG_FORMAT", "log.format"),
    ("AGORA_STORAGE_TYPE", "storage.type"),
    ("AGORA_DISK_STORAGE_ROOT", "storage.disk.root"),
    ("AGORA_GOPROXY", "upstream.goproxy"),
    ("AGORA_GOPRIVATE", "upstream.goprivate"),
    ("AGORA_GONOPROXY", "upstream.gonoproxy"),
    ("AGORA_GONOSUMDB", "upstream.gonosumdb"),
    ("AGORA_GOINSECURE", "upstream.goinsecure"),
    ("AGORA_NETWORK_MODE", "upstream.network_mode"),
    ("AGORA_TIMEOUT", "upstream.timeout"),
    ("AGORA_STASH_TIMEOUT", "upstream.stash_timeout"),
    ("AGORA_NETRC_PATH", "upstream.netrc_path"),
    ("AGORA_GITHUB_TOKEN", "upstream.github_token"),
    ("AGORA_GO_BINARY", "upstream.go_binary"),
    ("AGORA_GO_FETCHER_VCS", "upstream.go_fetcher_vcs"),
    ("AGORA_GO_FETCHER_WORKERS", "upstream.go_fetcher_workers"),
    ("AGORA_S3_BUCKET", "storage.s3.bucket"),
    ("AGORA_S3_REGION", "storage.s3.region"),
    ("AGORA_S3_ENDPOINT", "storage.s3.endpoint"),
    ("AGORA_S3_ACCESS_KEY_ID", "storage.s3.access_key_id"),
    ("AGORA_S3_SECRET_ACCESS_KEY", "storage.s3.secret_access_key"),
    ("AGORA_S3_SESSION_TOKEN", "storage.s3.session_token"),
    ("AGORA_S3_FORCE_PATH_STYLE", "storage.s3.force_path_style"),
    ("AGORA_MINIO_ENDPOINT", "storage.minio.endpoint"),
    ("AGORA_MINIO_ACCESS_KEY_ID", "storage.minio.access_key_id"),
    (
        "AGORA_MINIO_SECRET_ACCESS_KEY",
        "storage.minio.secret_access_key",
    ),
    ("AGORA_MINIO_BUCKET", "storage.minio.bucket"),
    ("AGORA_MINIO_REGION", "storage.minio.region"),
    ("AGORA_MINIO_USE_SSL", "storage.minio.use_ssl"),
    ("AGORA_AZURE_ACCOUNT_NAME", "storage.azure.account_name"),
    ("AGORA_AZURE_ACCOUNT_KEY", "storage.azure.account_key"),
    ("AGORA_AZURE_CONTAINER", "storage.azure.container"),
    (
        "AGORA_AZURE_CONNECTION_STRING",
        "storage.azure.connection_string",
    ),
    ("AGORA_EXTERNAL_URL", "storage.external.url"),
];

/// Reads the `AGORA_*` variables. An empty value is a value, not "unset".
pub(crate) fn layer(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
    Ok(Layer {
        data_dir: env_slot(env, "AGORA_DATA_DIR", value::path)?,
        tmp_dir: env_slot(env, "AGORA_TMP_DIR", value::path)?,
        listen: env_slot(env, "AGORA_LISTEN", value::listen)?,
        path_prefix: env_slot(env, "AGORA_PATH_PREFIX", value::path_prefix)?,
        shutdown_timeout: env_slot(env, "AGORA_SHUTDOWN_TIMEOUT", value::seconds)?,
        unix_socket: env_slot(env, "AGORA_UNIX_SOCKET", value::unix_socket)?,
        log_level: env_slot(env, "AGORA_LOG_LEVEL", value::log_level)?,
        log_format: env_slot(env, "AGORA_LOG_FORMAT", value::log_format)?,
        storage_type: env_slot(env, "AGORA_STORAGE_TYPE", value::storage_kind)?,
        disk_root: env_slot(env, "AGORA_DISK_STORAGE_ROOT", value::path)?,
        goproxy: env_slot(env, "AGORA_GOPROXY", check_goproxy)?,
        goprivate: env_slot(env, "AGORA_GOPRIVATE", check_patterns)?,
        gonoproxy: env_slot(env, "AGORA_GONOPROXY", check_patterns)?,
        gonosumdb: env_slot(env, "AGORA_GONOSUMDB", check_patterns)?,
        goinsecure: env_slot(env, "AGORA_GOINSECURE", check_patterns)?,
        network_mode: env_slot(env, "AGORA_NETWORK_MODE", value::network_mode)?,
        timeout: env_slot(env, "AGORA_TIMEOUT", value::positive_seconds)?,
        stash_timeout: env_slot(env, "AGORA_STASH_TIMEOUT", value::positive_seconds)?,
        netrc_path: env_slot(env, "AGORA_NETRC_PATH", value::optional_path)?,
        github_token: env_slot(env, "AGORA_GITHUB_TOKEN", value::optional_secret)?,
        go_binary: env_slot(env, "AGORA_GO_BINARY", value::path)?,
        go_fetcher_vcs: env_slot(env, "AGORA_GO_FETCHER_VCS", value::go_fetcher_vcs)?,
        go_fetcher_workers: env_slot(env, "AGORA_GO_FETCHER_WORKERS", value::workers)?,
        s3_bucket: env_slot(env, "AGORA_S3_BUCKET", value::optional)?,
        s3_region: env_slot(env, "AGORA_S3_REGION", value::optional)?,
        s3_endpoint: env_slot(env, "AGORA_S3_ENDPOINT", value::endpoint_url)?,
        s3_access_key_id: env_slot(env, "AGORA_S3_ACCESS_KEY_ID", value::optional)?,
        s3_secret_access_key: env_slot(env, "AGORA_S3_SECRET_ACCESS_KEY", value::optional_secret)?,
        s3_session_token: env_slot(env, "AGORA_S3_SESSION_TOKEN", value::optional_secret)?,
        s3_force_path_style: env_slot(env, "AGORA_S3_FORCE_PATH_STYLE", value::go_bool)?,
        minio_endpoint: env_slot(env, "AGORA_MINIO_ENDPOINT", value::minio_endpoint)?,
        minio_access_key_id: env_slot(env, "AGORA_MINIO_ACCESS_KEY_ID", value::optional)?,
        minio_secret_access_key: env_slot(
            env,
            "AGORA_MINIO_SECRET_ACCESS_KEY",
            value::optional_secret,
        )?,
        minio_bucket: env_slot(env, "AGORA_MINIO_BUCKET", value::optional)?,
        minio_region: env_slot(env, "AGORA_MINIO_REGION", value::optional)?,
        minio_use_ssl: env_slot(env, "AGORA_MINIO_USE_SSL", value::go_bool)?,
        azure_account_name: env_slot(env, "AGORA_AZURE_ACCOUNT_NAME", value::optional)?,
        azure_account_key: env_slot(env, "AGORA_AZURE_ACCOUNT_KEY", value::optional_secret)?,
        azure_container: env_slot(env, "AGORA_AZURE_CONTAINER", value::optional)?,
        azure_connection_string: env_slot(
            env,
            "AGORA_AZURE_CONNECTION_STRING",
            value::optional_secret,
        )?,
        external_url: env_slot(env, "AGORA_EXTERNAL_URL", value::endpoint_url)?,
    })
}
