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
    })
}
