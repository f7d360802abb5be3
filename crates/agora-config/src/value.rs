//! Parsers for single values, and the [`Kind`]s settings are declared with. Each turns a
//! string (from the environment or a TOML string) or a TOML value into a typed value, or
//! returns the reason it is invalid; the caller adds the key and source. Both config
//! formats and both environment dialects share these parsers, so a value means the same
//! thing wherever it is written.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use agora_core::NetworkMode;
use agora_core::goproxy::ProxyList;

use crate::settings::{LogFormat, LogLevel, Secret};
use crate::spec::Kind;

/// The storage type as written, before checking that agora supports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StorageKind {
    Disk,
    Memory,
    S3,
    Minio,
    Azure,
    Gcp,
    External,
    Mongo,
    /// An Athens backend agora does not implement yet.
    Unsupported(&'static str),
}

impl StorageKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Disk => "disk",
            Self::Memory => "memory",
            Self::S3 => "s3",
            Self::Minio => "minio",
            Self::Azure => "azure",
            Self::Gcp => "gcp",
            Self::External => "external",
            Self::Mongo => "mongo",
            Self::Unsupported(name) => name,
        }
    }
}

const ATHENS_ONLY_STORAGE: [&str; 0] = [];

pub(crate) fn storage_kind(s: &str) -> Result<StorageKind, String> {
    match s.trim() {
        "disk" => Ok(StorageKind::Disk),
        "memory" => Ok(StorageKind::Memory),
        "s3" => Ok(StorageKind::S3),
        "minio" => Ok(StorageKind::Minio),
        // agora's name, and Athens' (`StorageType = "azureblob"`).
        "azure" | "azureblob" => Ok(StorageKind::Azure),
        // Athens' name, and the service's.
        "gcp" | "gcs" => Ok(StorageKind::Gcp),
        "external" => Ok(StorageKind::External),
        "mongo" => Ok(StorageKind::Mongo),
        other => ATHENS_ONLY_STORAGE
            .iter()
            .find(|k| **k == other)
            .map(|k| StorageKind::Unsupported(k))
            .ok_or_else(|| {
                "expected disk, memory, s3, minio, azure (azureblob), gcp (gcs), external or \
                 mongo"
                    .to_owned()
            }),
    }
}

/// A string where empty (or blank) means "not set", as for Athens' string settings.
pub(crate) fn optional(s: &str) -> Result<Option<String>, String> {
    let t = s.trim();
    if t.chars().any(char::is_whitespace) {
        return Err("expected no spaces".to_owned());
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// A MinIO endpoint: `host[:port]`, with any `http://` or `https://` removed (Athens
/// strips it too; the scheme comes from `use_ssl`).
pub(crate) fn minio_endpoint(s: &str) -> Result<Option<String>, String> {
    let Some(t) = optional(s)? else {
        return Ok(None);
    };
    let bare = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .unwrap_or(&t)
        .trim_end_matches('/');
    if bare.is_empty() || bare.contains('/') {
        return Err("expected host:port, such as minio.internal:9000".to_owned());
    }
    Ok(Some(bare.to_owned()))
}

/// An S3 endpoint URL: `http://` or `https://` and a host.
pub(crate) fn endpoint_url(s: &str) -> Result<Option<String>, String> {
    let Some(t) = optional(s)? else {
        return Ok(None);
    };
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| "expected an http:// or https:// URL".to_owned())?;
    if rest.trim_end_matches('/').is_empty() {
        return Err("expected an http:// or https:// URL with a host".to_owned());
    }
    Ok(Some(t.trim_end_matches('/').to_owned()))
}

/// Go's `strconv.ParseBool`, which Athens uses for boolean environment variables.
pub(crate) fn go_bool(s: &str) -> Result<bool, String> {
    match s.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(
            "expected true or false (or Go's 1, t, T, TRUE, True, 0, f, F, FALSE, False)"
                .to_owned(),
        ),
    }
}

/// Athens (logrus) level names, case-insensitive, mapped to the nearest agora level.
pub(crate) fn log_level(s: &str) -> Result<LogLevel, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "trace" => Ok(LogLevel::Trace),
        "debug" => Ok(LogLevel::Debug),
        "info" => Ok(LogLevel::Info),
        "warn" | "warning" => Ok(LogLevel::Warn),
        "error" | "fatal" | "panic" => Ok(LogLevel::Error),
        _ => Err(
            "expected trace, debug, info, warn or error (Athens' warning, fatal and \
                  panic are accepted too)"
                .to_owned(),
        ),
    }
}

/// `plain` or `json`; empty means plain, as Athens allows `LogFormat = ""`.
pub(crate) fn log_format(s: &str) -> Result<LogFormat, String> {
    match s.trim() {
        "plain" | "" => Ok(LogFormat::Plain),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected plain or json".to_owned()),
    }
}

pub(crate) fn network_mode(s: &str) -> Result<NetworkMode, String> {
    match s.trim() {
        "strict" => Ok(NetworkMode::Strict),
        "offline" => Ok(NetworkMode::Offline),
        "fallback" => Ok(NetworkMode::Fallback),
        _ => Err("expected strict, offline or fallback".to_owned()),
    }
}

const SECONDS: &str = "expected a whole number of seconds";
const POSITIVE_SECONDS: &str = "expected a whole number of seconds greater than 0";

/// Seconds, zero allowed (shutdown timeout).
pub(crate) fn seconds(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| SECONDS.to_owned())
}

/// Seconds, zero rejected (operation timeouts: zero would fail every request).
pub(crate) fn positive_seconds(s: &str) -> Result<Duration, String> {
    match seconds(s)? {
        d if d.is_zero() => Err(POSITIVE_SECONDS.to_owned()),
        d => Ok(d),
    }
}

/// A TOML integer as seconds.
pub(crate) fn toml_seconds(v: &toml::Value, positive: bool) -> Result<Duration, String> {
    match v {
        toml::Value::Integer(i) if *i > 0 || (*i == 0 && !positive) => {
            Ok(Duration::from_secs(i.unsigned_abs()))
        }
        toml::Value::Integer(0) => Err(POSITIVE_SECONDS.to_owned()),
        _ => Err(SECONDS.to_owned()),
    }
}

/// A path that must not be empty.
pub(crate) fn path(s: &str) -> Result<PathBuf, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("expected a path, not an empty string".to_owned())
    } else {
        Ok(PathBuf::from(t))
    }
}

/// The version control systems the go command may fetch for agora
/// (`upstream.go_fetcher_vcs`), in canonical order. git is never among them: agora
/// always fetches git itself.
pub(crate) const GO_FETCHER_VCS: [&str; 4] = ["hg", "svn", "bzr", "fossil"];

/// A list of VCS names for the go fetcher: each one of [`GO_FETCHER_VCS`]. Duplicates
/// collapse and the result is in canonical order, so equal sets compare equal.
pub(crate) fn go_fetcher_vcs_items<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, String> {
    let mut seen = [false; GO_FETCHER_VCS.len()];
    for item in items {
        let name = item.trim();
        if name.eq_ignore_ascii_case("git") {
            return Err(
                "git is always fetched natively and cannot be given to the go \
                        command; expected hg, svn, bzr or fossil"
                    .to_owned(),
            );
        }
        match GO_FETCHER_VCS
            .iter()
            .position(|v| v.eq_ignore_ascii_case(name))
        {
            Some(i) => seen[i] = true,
            None => {
                return Err(format!(
                    "unknown VCS {}: expected hg, svn, bzr or fossil",
                    quote(name)
                ));
            }
        }
    }
    Ok(GO_FETCHER_VCS
        .iter()
        .zip(seen)
        .filter(|(_, on)| *on)
        .map(|(v, _)| (*v).to_owned())
        .collect())
}

/// `AGORA_GO_FETCHER_VCS`: comma-separated; empty means none.
pub(crate) fn go_fetcher_vcs(s: &str) -> Result<Vec<String>, String> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    go_fetcher_vcs_items(s.split(','))
}

/// A TOML list of VCS names.
pub(crate) fn toml_go_fetcher_vcs(v: &toml::Value) -> Result<Vec<String>, String> {
    let toml::Value::Array(items) = v else {
        return Err("expected a list of strings".to_owned());
    };
    let names: Option<Vec<&str>> = items.iter().map(toml::Value::as_str).collect();
    go_fetcher_vcs_items(names.ok_or_else(|| "expected a list of strings".to_owned())?)
}

/// A count of workers: a whole number greater than 0.
pub(crate) fn workers(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number greater than 0".to_owned()),
    }
}

/// A TOML integer count of workers.
pub(crate) fn toml_workers(v: &toml::Value) -> Result<usize, String> {
    match v {
        toml::Value::Integer(i) if *i > 0 => {
            usize::try_from(*i).map_err(|_| "too large".to_owned())
        }
        _ => Err("expected a whole number greater than 0".to_owned()),
    }
}

/// An optional file path: empty means none.
pub(crate) fn optional_path(s: &str) -> Result<Option<PathBuf>, String> {
    let t = s.trim();
    Ok((!t.is_empty()).then(|| PathBuf::from(t)))
}

/// A secret such as a token: empty means none. Never fails, so no error message can
/// ever quote it. Surrounding whitespace (a trailing newline from a file) is dropped.
pub(crate) fn optional_secret(s: &str) -> Result<Option<Secret>, String> {
    Ok(secret(s))
}

/// [`optional_secret`] without the `Result`.
pub(crate) fn secret(s: &str) -> Option<Secret> {
    let t = s.trim();
    (!t.is_empty()).then(|| Secret::new(t))
}

/// A path prefix: empty, or starting with `/`. Trailing slashes are removed, so `/go/` and
/// `/go` are the same prefix and `/` is no prefix.
pub(crate) fn path_prefix(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    if !t.starts_with('/') {
        return Err("expected an empty string or a path starting with /".to_owned());
    }
    if let Some(c) = t
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'))
    {
        return Err(format!("a path prefix cannot contain {c:?}"));
    }
    Ok(t.trim_end_matches('/').to_owned())
}

/// A listen address. Accepts `host:port`, `[v6]:port`, and Athens' `:port` and bare
/// `port`, which mean all IPv4 interfaces. Returns the normalised `host:port`.
pub(crate) fn listen(s: &str) -> Result<String, String> {
    const EXPECTED: &str = "expected host:port, :port or a port number";
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return listen(&format!(":{t}"));
    }
    let Some((host, port)) = t.rsplit_once(':') else {
        return Err(EXPECTED.to_owned());
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err()
    {
        return Err(format!(
            "{EXPECTED}; the port must be a number from 0 to 65535"
        ));
    }
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(format!("{EXPECTED}; {inner:?} is not an IPv6 address"));
        }
    } else if host.contains(':') {
        return Err(format!(
            "{EXPECTED}; write IPv6 addresses in brackets, e.g. [::1]:3000"
        ));
    } else if host.parse::<Ipv4Addr>().is_err() && !is_hostname(host) {
        return Err(format!("{EXPECTED}; {host:?} is not a valid host"));
    }
    Ok(format!("{host}:{port}"))
}

fn is_hostname(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Renders a raw string for an error message.
pub(crate) fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Renders a TOML value for an error message.
pub(crate) fn quote_toml(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => quote(s),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Kinds: the value types settings are declared with.

macro_rules! kind {
    ($(#[$m:meta])* $name:ident => $value:ty, $parse:expr) => {
        $(#[$m])*
        pub(crate) struct $name;
        impl Kind for $name {
            type Value = $value;
            fn parse(s: &str) -> Result<$value, String> {
                $parse(s)
            }
        }
    };
}

kind!(
    /// A path that must not be empty.
    Path => PathBuf, path
);
kind!(
    /// An optional path: empty means none.
    OptPath => Option<PathBuf>, optional_path
);
kind!(
    /// A listen address, normalised to `host:port`.
    Listen => String, listen
);
kind!(
    /// A path prefix: empty, or starting with `/`.
    PathPrefix => String, path_prefix
);
kind!(
    /// `GOPRIVATE`-style patterns.
    Patterns => String, crate::patterns::check_patterns
);
kind!(
    /// A log level.
    Level => LogLevel, log_level
);
kind!(
    /// A log format.
    Format => LogFormat, log_format
);
kind!(
    /// Athens' network mode.
    Mode => NetworkMode, network_mode
);
kind!(
    /// The storage type, before checking that agora supports it.
    StorageType => StorageKind, storage_kind
);
kind!(
    /// A string where empty means none.
    Opt => Option<String>, optional
);
kind!(
    /// An `http://` or `https://` URL; empty means none.
    Url => Option<String>, endpoint_url
);
kind!(
    /// A MinIO `host:port`; empty means none.
    MinioEndpoint => Option<String>, minio_endpoint
);

/// A `GOPROXY` list, parsed once here for the upstream client.
pub(crate) struct GoProxy;
impl Kind for GoProxy {
    type Value = ProxyList;
    fn parse(s: &str) -> Result<ProxyList, String> {
        ProxyList::parse(s).map_err(|e| e.reason().to_owned())
    }
}

/// Whole seconds, zero allowed (shutdown timeout).
pub(crate) struct Seconds;
impl Kind for Seconds {
    type Value = Duration;
    fn parse(s: &str) -> Result<Duration, String> {
        seconds(s)
    }
    fn parse_toml(v: &toml::Value) -> Result<Duration, String> {
        toml_seconds(v, false)
    }
}

/// Whole seconds, zero rejected (operation timeouts: zero would fail every request).
pub(crate) struct PositiveSeconds;
impl Kind for PositiveSeconds {
    type Value = Duration;
    fn parse(s: &str) -> Result<Duration, String> {
        positive_seconds(s)
    }
    fn parse_toml(v: &toml::Value) -> Result<Duration, String> {
        toml_seconds(v, true)
    }
}

/// A size in bytes, zero allowed: a whole number, optionally with a `KiB`, `MiB` or `GiB`
/// suffix (memory budgets).
pub(crate) struct ByteSize;
impl Kind for ByteSize {
    type Value = usize;
    fn parse(s: &str) -> Result<usize, String> {
        byte_size(s)
    }
    fn parse_toml(v: &toml::Value) -> Result<usize, String> {
        match v {
            toml::Value::Integer(i) if *i >= 0 => {
                usize::try_from(*i).map_err(|_| "too large".to_owned())
            }
            toml::Value::String(s) => byte_size(s),
            _ => Err(BYTE_SIZE_EXPECTED.to_owned()),
        }
    }
}

const BYTE_SIZE_EXPECTED: &str =
    "expected a whole number of bytes, optionally with a KiB, MiB or GiB suffix";

pub(crate) fn byte_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (digits, shift) = [("GiB", 30), ("MiB", 20), ("KiB", 10)]
        .iter()
        .find_map(|(suffix, shift)| t.strip_suffix(suffix).map(|d| (d.trim_end(), *shift)))
        .unwrap_or((t, 0));
    let n = digits
        .parse::<usize>()
        .map_err(|_| BYTE_SIZE_EXPECTED.to_owned())?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| "too large".to_owned())
}

/// A count greater than 0 (workers, concurrent fetches).
pub(crate) struct Count;
impl Kind for Count {
    type Value = usize;
    fn parse(s: &str) -> Result<usize, String> {
        workers(s)
    }
    fn parse_toml(v: &toml::Value) -> Result<usize, String> {
        toml_workers(v)
    }
}

/// A boolean: Go's `strconv.ParseBool` spellings in the environment, a TOML boolean in a
/// file.
pub(crate) struct Bool;
impl Kind for Bool {
    type Value = bool;
    fn parse(s: &str) -> Result<bool, String> {
        go_bool(s)
    }
    fn parse_toml(v: &toml::Value) -> Result<bool, String> {
        match v {
            toml::Value::Boolean(b) => Ok(*b),
            _ => Err("expected true or false".to_owned()),
        }
    }
}

/// A secret such as a token or password: empty means none; never printed.
pub(crate) struct OptSecret;
impl Kind for OptSecret {
    type Value = Option<Secret>;
    const SECRET: bool = true;
    fn parse(s: &str) -> Result<Option<Secret>, String> {
        optional_secret(s)
    }
}

/// The version control systems handed to the go command: comma-separated in the
/// environment, a list in a file.
pub(crate) struct VcsList;
impl Kind for VcsList {
    type Value = Vec<String>;
    fn parse(s: &str) -> Result<Vec<String>, String> {
        go_fetcher_vcs(s)
    }
    fn parse_toml(v: &toml::Value) -> Result<Vec<String>, String> {
        toml_go_fetcher_vcs(v)
    }
}

// Single flight across replicas (`[single_flight]`).

/// The single-flight types, with Athens' names; `s3` is agora's own.
pub(crate) const SINGLE_FLIGHT_TYPES: &[&str] = &[
    "memory",
    "redis",
    "redis-sentinel",
    "etcd",
    "gcp",
    "azureblob",
    "s3",
];

/// A single-flight type, one of [`SINGLE_FLIGHT_TYPES`].
pub(crate) fn single_flight_type(s: &str) -> Result<String, String> {
    let t = s.trim();
    SINGLE_FLIGHT_TYPES
        .iter()
        .find(|k| **k == t)
        .map(|k| (*k).to_owned())
        .ok_or_else(|| format!("expected one of {}", SINGLE_FLIGHT_TYPES.join(", ")))
}

/// Comma-separated `host:port` or URL endpoints, at least one, no spaces inside one.
pub(crate) fn endpoints<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, String> {
    let list: Vec<String> = items
        .into_iter()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return Err("expected at least one endpoint".to_owned());
    }
    if list.iter().any(|e| e.chars().any(char::is_whitespace)) {
        return Err("expected no spaces inside an endpoint".to_owned());
    }
    Ok(list)
}

kind!(
    /// A single-flight type.
    SingleFlightType => String, single_flight_type
);

/// Endpoints: comma-separated in the environment (and in Athens' `Etcd.Endpoints`), a
/// string or a list of strings in a file.
pub(crate) struct Endpoints;
impl Kind for Endpoints {
    type Value = Vec<String>;
    fn parse(s: &str) -> Result<Vec<String>, String> {
        endpoints(s.split(','))
    }
    fn parse_toml(v: &toml::Value) -> Result<Vec<String>, String> {
        match v {
            toml::Value::String(s) => Self::parse(s),
            toml::Value::Array(items) => {
                let names: Option<Vec<&str>> = items.iter().map(toml::Value::as_str).collect();
                endpoints(names.ok_or_else(|| "expected a list of strings".to_owned())?)
            }
            _ => Err("expected a string or a list of strings".to_owned()),
        }
    }
}

/// A whole number, zero allowed (a redis database index).
pub(crate) struct Index;
impl Kind for Index {
    type Value = usize;
    fn parse(s: &str) -> Result<usize, String> {
        s.trim()
            .parse::<usize>()
            .map_err(|_| "expected a whole number".to_owned())
    }
    fn parse_toml(v: &toml::Value) -> Result<usize, String> {
        match v {
            toml::Value::Integer(i) => {
                usize::try_from(*i).map_err(|_| "expected a whole number".to_owned())
            }
            _ => Err("expected a whole number".to_owned()),
        }
    }
}

/// The module index type (`index.type`). Athens' `mysql` is refused: agora has no MySQL
/// index.
pub(crate) struct IndexType;
impl Kind for IndexType {
    type Value = crate::settings::IndexKind;
    fn parse(s: &str) -> Result<crate::settings::IndexKind, String> {
        use crate::settings::IndexKind;
        match s.trim() {
            "" | "none" => Ok(IndexKind::None),
            "memory" => Ok(IndexKind::Memory),
            "postgres" => Ok(IndexKind::Postgres),
            "mysql" => Err("agora has no MySQL index; use postgres, memory or none".to_owned()),
            _ => Err("expected none, memory or postgres".to_owned()),
        }
    }
}

/// PostgreSQL connection parameters, normalised to `k=v k=v`: from the libpq form
/// (`k=v k=v`), Athens' environment form (`k:v,k:v`) or a TOML table. Athens' sample
/// file writes `connect_timeout = "30s"`; the unit is dropped.
pub(crate) struct PgParams;
impl Kind for PgParams {
    type Value = String;
    fn parse(s: &str) -> Result<String, String> {
        let s = s.trim();
        let pairs: Vec<(String, String)> = if s.contains('=') {
            s.split_whitespace()
                .map(|p| split_param(p, '='))
                .collect::<Result<_, _>>()?
        } else {
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| split_param(p, ':'))
                .collect::<Result<_, _>>()?
        };
        normalise_params(pairs)
    }
    fn parse_toml(v: &toml::Value) -> Result<String, String> {
        match v {
            toml::Value::String(s) => Self::parse(s),
            toml::Value::Table(t) => {
                let mut pairs = Vec::new();
                for (k, v) in t {
                    let v = match v {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        _ => return Err(format!("{k}: expected a string or a number")),
                    };
                    pairs.push((k.clone(), v));
                }
                normalise_params(pairs)
            }
            _ => Err("expected a string or a table".to_owned()),
        }
    }
}

fn split_param(p: &str, sep: char) -> Result<(String, String), String> {
    match p.split_once(sep) {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
        _ => Err(format!("{p:?} is not key{sep}value")),
    }
}

fn normalise_params(pairs: Vec<(String, String)>) -> Result<String, String> {
    let mut out = Vec::new();
    for (k, mut v) in pairs {
        match k.as_str() {
            "connect_timeout" => {
                if let Some(n) = v.strip_suffix('s') {
                    v = n.to_owned();
                }
                if v.parse::<u64>().is_err() {
                    return Err(format!("connect_timeout: {v:?} is not whole seconds"));
                }
            }
            "sslmode" => {
                if !matches!(v.as_str(), "disable" | "prefer") {
                    return Err(format!(
                        "sslmode {v:?}: agora speaks no TLS to PostgreSQL (disable or prefer)"
                    ));
                }
            }
            "application_name" => {}
            other => {
                return Err(format!(
                    "{other}: unknown parameter (connect_timeout, sslmode, application_name)"
                ));
            }
        }
        if v.is_empty() || v.contains(char::is_whitespace) {
            return Err(format!("{k}: the value must be one word"));
        }
        out.push(format!("{k}={v}"));
    }
    Ok(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(listen(":3000").as_deref(), Ok("0.0.0.0:3000"));
        assert_eq!(listen("3000").as_deref(), Ok("0.0.0.0:3000"));
        assert_eq!(listen("127.0.0.1:3000").as_deref(), Ok("127.0.0.1:3000"));
        assert_eq!(listen("localhost:0").as_deref(), Ok("localhost:0"));
        assert_eq!(listen("[::1]:8080").as_deref(), Ok("[::1]:8080"));
        assert_eq!(
            listen(" proxy-1.internal:443 ").as_deref(),
            Ok("proxy-1.internal:443")
        );
        for bad in [
            "",
            ":",
            "localhost",
            "1.2.3.4:",
            ":70000",
            "::1:80",
            "[zz]:80",
            "a b:80",
            "-x:1",
            "host:+80",
        ] {
            assert!(listen(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn byte_size_forms() {
        assert_eq!(byte_size("0"), Ok(0));
        assert_eq!(byte_size(" 4096 "), Ok(4096));
        assert_eq!(byte_size("16MiB"), Ok(16 << 20));
        assert_eq!(byte_size("3 KiB"), Ok(3 << 10));
        assert_eq!(byte_size("1GiB"), Ok(1 << 30));
        assert!(byte_size("-1").is_err());
        assert!(byte_size("16MB").is_err());
        assert!(byte_size("MiB").is_err());
        assert!(byte_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn seconds_forms() {
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        assert_eq!(seconds(" 30 "), Ok(Duration::from_secs(30)));
        assert!(seconds("-1").is_err());
        assert!(seconds("1.5").is_err());
        assert!(seconds("30s").is_err());
        assert!(positive_seconds("0").is_err());
        assert_eq!(
            toml_seconds(&toml::Value::Integer(0), false),
            Ok(Duration::ZERO)
        );
        assert!(toml_seconds(&toml::Value::Integer(0), true).is_err());
        assert!(toml_seconds(&toml::Value::Integer(-5), false).is_err());
        assert!(toml_seconds(&toml::Value::String("5".into()), false).is_err());
    }

    #[test]
    fn log_levels_accept_athens_spellings() {
        for (s, l) in [
            ("trace", LogLevel::Trace),
            ("DEBUG", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("warning", LogLevel::Warn),
            ("error", LogLevel::Error),
            ("fatal", LogLevel::Error),
            ("panic", LogLevel::Error),
        ] {
            assert_eq!(log_level(s), Ok(l), "{s}");
        }
        assert!(log_level("verbose").is_err());
        assert!(log_level("").is_err());
    }

    #[test]
    fn object_storage_values() {
        assert_eq!(optional(" "), Ok(None));
        assert_eq!(optional(" b "), Ok(Some("b".to_owned())));
        assert!(optional("a b").is_err());
        assert_eq!(
            minio_endpoint("https://minio:9000/").unwrap().as_deref(),
            Some("minio:9000")
        );
        assert_eq!(
            minio_endpoint("minio:9000").unwrap().as_deref(),
            Some("minio:9000")
        );
        assert!(minio_endpoint("http://minio:9000/x").is_err());
        assert_eq!(
            endpoint_url("http://127.0.0.1:9000/").unwrap().as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(endpoint_url("s3.example.com").is_err());
        assert_eq!(go_bool("T"), Ok(true));
        assert_eq!(go_bool("0"), Ok(false));
        assert!(go_bool("yes").is_err());
        assert_eq!(optional_secret(""), Ok(None));
        assert_eq!(optional_secret(" x \n").unwrap().unwrap().expose(), "x");
    }

    #[test]
    fn path_prefixes() {
        assert_eq!(path_prefix("").as_deref(), Ok(""));
        assert_eq!(path_prefix("/").as_deref(), Ok(""));
        assert_eq!(path_prefix("/go/").as_deref(), Ok("/go"));
        assert!(path_prefix("go").is_err());
        assert!(path_prefix("/a b").is_err());
    }

    #[test]
    fn storage_kinds() {
        assert_eq!(storage_kind("disk"), Ok(StorageKind::Disk));
        assert_eq!(storage_kind("s3"), Ok(StorageKind::S3));
        assert_eq!(storage_kind("minio"), Ok(StorageKind::Minio));
        assert_eq!(storage_kind("gcp"), Ok(StorageKind::Gcp));
        assert_eq!(storage_kind("gcs"), Ok(StorageKind::Gcp));
        assert!(storage_kind("Disk").is_err());
        assert!(storage_kind("").is_err());
    }
}
