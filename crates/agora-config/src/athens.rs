//! Athens compatibility: its `config.toml` format and its environment variable names.
//!
//! An Athens file is read the way Athens reads it: keys are matched case-insensitively
//! (BurntSushi/toml does), keys Athens does not know are ignored, and Athens' own defaults
//! apply to keys the file leaves out. Settings agora implements are mapped onto agora's
//! tree; Athens settings agora does not implement are accepted and reported in
//! [`crate::Loaded::warnings`] when they are set to anything but Athens' default, so an
//! operator migrating a real Athens file learns what is not honoured.

//!
//! The settings agora implements are declared in `settings.rs`, each with its Athens key,
//! Athens' environment names and Athens' default; this file reads them the way Athens
//! does, with Athens' quirks: case-insensitive keys, an empty `ATHENS_PORT`, `PORT` or
//! `ATHENS_GO_BINARY_ENV_VARS` meaning unset, `PORT` ranking below the other names, and
//! `GoBinaryEnvVars`/`NoSumPatterns` setting several agora keys at once.

use std::path::Path;

use toml::{Table, Value};

use crate::error::{ConfigError, Source};
use crate::layer::{Layer, Sourced, file_error, parse_env, parse_file};
use crate::settings::{all_specs, spec};
use crate::spec::{Spec, Val};
use crate::value;

/// Environment names Athens treats as unset when empty.
const EMPTY_IS_UNSET: &[&str] = &["ATHENS_PORT", "PORT", ATHENS_GO_BINARY_ENV_VARS];

/// Environment names that platforms (Cloud Run, Heroku) set on their own: they count only
/// when no other environment variable sets the same setting (they still beat the file, as
/// in Athens).
const PLATFORM_ENV: &[&str] = &["PORT"];

const ATHENS_GO_BINARY_ENV_VARS: &str = "ATHENS_GO_BINARY_ENV_VARS";

/// An Athens default, for deciding whether an unimplemented key was changed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Default {
    /// Any of these strings counts as the default.
    Str(&'static [&'static str]),
    Int(i64),
    Bool(bool),
    Float(f64),
}

/// What agora does with an Athens key that is not declared with a setting.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Sets the go command's environment, which agora maps onto several settings
    /// (`GoBinaryEnvVars`, `NoSumPatterns`).
    GoEnv,
    /// Not implemented: ignored, with a warning when it differs from Athens' default. The
    /// note says what ignoring it means, when that matters.
    Ignored {
        default: Default,
        note: &'static str,
    },
    /// A sub-setting of a backend agora lacks (or of one whose keys agora reads under
    /// other names, such as `SingleFlight.RedisSentinel.LockConfig`). It only matters when
    /// that backend is selected, and selecting one is already an error (storage) or a
    /// warning (`IndexType`), so the sub-settings are accepted silently.
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

const fn go_env(path: &'static str, env: &'static [&'static str]) -> AthensKey {
    AthensKey {
        path,
        env,
        kind: Kind::GoEnv,
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

/// Every key of Athens' `Config` struct (gomods/athens `pkg/config`) that is not declared
/// with an agora setting, plus the dead `Storage.CDN.Endpoint` that config.dev.toml still
/// contains.
pub(crate) const ATHENS_KEYS: &[AthensKey] = &[
    // Mapped onto the upstream settings; the other implemented keys are declared with
    // their settings.
    go_env("GoBinaryEnvVars", &[ATHENS_GO_BINARY_ENV_VARS]),
    go_env("NoSumPatterns", &["ATHENS_GONOSUM_PATTERNS"]),
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
        "HomeTemplatePath",
        &["ATHENS_HOME_TEMPLATE_PATH"],
        Default::Str(&["/var/lib/athens/home.html"]),
        "",
    ),
    ignored("ForceSSL", &["PROXY_FORCE_SSL"], Default::Bool(false), ""),
    ignored(
        "HGRCPath",
        &["ATHENS_HGRC_PATH"],
        Default::Str(&[""]),
        "agora does not install an .hgrc file",
    ),
    ignored(
        "RobotsFile",
        &["ATHENS_ROBOTS_FILE"],
        Default::Str(&["robots.txt"]),
        "",
    ),
    ignored(
        "SingleFlight.Redis.Cluster",
        &["ATHENS_REDIS_CLUSTER"],
        Default::Bool(false),
        "agora's redis lock talks to one node: on a cluster, a lock key another node owns \
         fails with MOVED (503)",
    ),
    ignored(
        "SingleFlight.Redis.LockConfig.MaxRetries",
        &["ATHENS_REDIS_LOCK_MAX_RETRIES"],
        Default::Int(10),
        "agora waits for another replica's lock up to single_flight.timeout, looking in \
         storage as it waits, and never fails a request because of it",
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
];

/// An Athens key: one declared with an agora setting, or one of [`ATHENS_KEYS`].
#[derive(Debug, Clone, Copy)]
enum Known {
    Setting(&'static Spec),
    Other(&'static AthensKey),
}

impl Known {
    fn path(self) -> &'static str {
        match self {
            Known::Setting(s) => s.athens,
            Known::Other(k) => k.path,
        }
    }
}

/// Every Athens key path agora knows.
fn athens_paths() -> impl Iterator<Item = &'static str> {
    all_specs()
        .map(|s| s.athens)
        .filter(|p| !p.is_empty())
        .chain(ATHENS_KEYS.iter().map(|k| k.path))
}

/// Every Athens key and the environment names that set it (without backend sub-settings,
/// whose variables agora does not read), for the docs check.
#[cfg(test)]
pub(crate) fn documented_keys() -> Vec<(&'static str, &'static [&'static str])> {
    all_specs()
        .filter(|s| !s.athens.is_empty())
        .map(|s| (s.athens, s.athens_env))
        .chain(
            ATHENS_KEYS
                .iter()
                .filter(|k| !matches!(k.kind, Kind::Backend))
                .map(|k| (k.path, k.env)),
        )
        .collect()
}

fn find_key(path: &str) -> Option<Known> {
    all_specs()
        .find(|s| !s.athens.is_empty() && s.athens.eq_ignore_ascii_case(path))
        .map(Known::Setting)
        .or_else(|| {
            ATHENS_KEYS
                .iter()
                .find(|k| k.path.eq_ignore_ascii_case(path))
                .map(Known::Other)
        })
}

fn is_known_table(path: &str) -> bool {
    let n = path.len();
    athens_paths()
        .any(|p| p.len() > n && p.as_bytes()[n] == b'.' && p[..n].eq_ignore_ascii_case(path))
}

/// Whether a top-level key is an Athens key or table, matched as Athens matches keys
/// (case-insensitively), so `[storage.disk]` in an Athens file is Athens' `[Storage.Disk]`.
pub(crate) fn is_athens_top_level(key: &str) -> bool {
    find_key(key).is_some() || is_known_table(key)
}

/// The Athens keys found in a file, each with its value and its path as spelled there.
type Found<'a> = Vec<(Known, &'a Value, String)>;

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
    nosum: Option<Sourced<Val>>,
}

/// The go command's variables agora maps onto its settings.
const GO_VARS: [(&str, &str); 5] = [
    ("GOPROXY", "upstream.goproxy"),
    ("GOPRIVATE", "upstream.goprivate"),
    ("GONOPROXY", "upstream.gonoproxy"),
    ("GONOSUMDB", "upstream.gonosumdb"),
    ("GOINSECURE", "upstream.goinsecure"),
];

/// A parsed `GoBinaryEnvVars` list.
#[derive(Debug)]
struct EnvList {
    /// The recognised variables as agora keys, in list order (later entries win, as for
    /// exec).
    known: Vec<(&'static str, Sourced<Val>)>,
    /// Names of the other entries, which agora ignores.
    ignored: Vec<String>,
    /// How the list itself is named: `GoBinaryEnvVars` or `ATHENS_GO_BINARY_ENV_VARS`.
    key: &'static str,
    source: Source,
}

/// The declaration of one of the upstream settings `GoBinaryEnvVars` sets.
fn go_var_spec(key: &str) -> Result<&'static Spec, ConfigError> {
    spec(key).ok_or_else(|| ConfigError::Invalid {
        key: key.to_owned(),
        origin: Source::Default,
        value: String::new(),
        reason: "internal error: not a declared setting".to_owned(),
    })
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
            let Some((_, setting)) = GO_VARS.iter().find(|(n, _)| *n == name) else {
                list.ignored.push(name.to_owned());
                continue;
            };
            let entry_key = format!("{name} in {key}");
            let parsed =
                (go_var_spec(setting)?.parse)(val).map_err(|reason| ConfigError::Invalid {
                    key: entry_key.clone(),
                    origin: source.clone(),
                    value: value::quote(val),
                    reason,
                })?;
            list.known
                .push((setting, Sourced::new(parsed, entry_key, source.clone())));
        }
        Ok(list)
    }

    /// Athens' default list, `["GOPROXY=direct"]`.
    fn athens_default(file: &Path) -> Result<Self, ConfigError> {
        let source = Source::AthensDefault {
            file: file.to_path_buf(),
        };
        let goproxy = GO_VARS[0].1;
        let direct =
            (go_var_spec(goproxy)?.parse)("direct").map_err(|reason| ConfigError::Invalid {
                key: goproxy.to_owned(),
                origin: source.clone(),
                value: value::quote("direct"),
                reason,
            })?;
        Ok(EnvList {
            known: vec![(
                goproxy,
                Sourced::new(direct, "GoBinaryEnvVars", source.clone()),
            )],
            ignored: Vec::new(),
            key: "GoBinaryEnvVars",
            source,
        })
    }

    fn get(&self, setting: &str) -> Option<&Sourced<Val>> {
        self.known
            .iter()
            .rev()
            .find(|(k, _)| *k == setting)
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

    let mut layer = Layer::default();
    for (key, v, spelled) in &found {
        if let Known::Setting(spec) = key {
            layer.set_if_unset(spec.key, parse_file(spec, path, spelled, v)?);
        }
    }

    let get = |p: &str| {
        found
            .iter()
            .find(|(k, _, _)| k.path() == p)
            .map(|(_, v, spelled)| (*v, spelled.as_str()))
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
        let parsed = (go_var_spec("upstream.gonosumdb")?.parse)(&patterns)
            .map_err(|r| file_error(path, key, v, r))?;
        go.nosum = Some(Sourced::new(parsed, key, source.clone()));
    }

    for (key, v, spelled) in &found {
        let Known::Other(key) = key else { continue };
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
        defaults: athens_defaults(path)?,
        layer,
        go,
    })
}

/// Athens' defaults (`defaultConfig()`) for the settings agora implements. Those equal to
/// agora's defaults are declared too, so `config show` attributes them to Athens.
fn athens_defaults(path: &Path) -> Result<Layer, ConfigError> {
    let source = Source::AthensDefault {
        file: path.to_path_buf(),
    };
    let mut layer = Layer::default();
    for spec in all_specs() {
        if let Some(raw) = spec.athens_default {
            let v = (spec.parse)(raw).map_err(|reason| ConfigError::Invalid {
                key: spec.athens.to_owned(),
                origin: source.clone(),
                value: value::quote(raw),
                reason,
            })?;
            layer.set(spec.key, Sourced::new(v, spec.athens, source.clone()));
        }
    }
    Ok(layer)
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
    /// Settings from Athens' names, at the same precedence as `AGORA_*` names.
    pub layer: Layer,
    /// Settings from [`PLATFORM_ENV`] names, used only where no other environment variable
    /// sets the setting.
    pub platform: Layer,
    /// `ATHENS_GO_BINARY_ENV_VARS` and `ATHENS_GONOSUM_PATTERNS`.
    pub go: GoInputs,
}

/// Reads Athens' environment variable names.
pub(crate) fn env(
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<AthensEnv, ConfigError> {
    let read =
        |name: &str| env(name).filter(|v| !(EMPTY_IS_UNSET.contains(&name) && v.trim().is_empty()));
    let mut layer = Layer::default();
    let mut platform = Layer::default();
    for spec in all_specs() {
        for name in spec.athens_env {
            let Some(raw) = read(name) else { continue };
            let value = parse_env(spec, name, &raw)?;
            if PLATFORM_ENV.contains(name) {
                platform.set_if_unset(spec.key, value);
            } else {
                layer.set_if_unset(spec.key, value);
            }
        }
    }

    let mut go = GoInputs::default();
    if let Some(raw) = read(ATHENS_GO_BINARY_ENV_VARS) {
        const LIST: &str = ATHENS_GO_BINARY_ENV_VARS;
        let source = Source::env(LIST);
        let invalid = |entry: &str, reason| ConfigError::Invalid {
            key: LIST.to_owned(),
            origin: Source::env(LIST),
            value: value::quote(entry),
            reason,
        };
        go.list = Some(EnvList::parse(raw.split(';'), LIST, &source, &invalid)?);
    }
    const NOSUM: &str = "ATHENS_GONOSUM_PATTERNS";
    if let Some(raw) = read(NOSUM) {
        go.nosum = Some(parse_env(go_var_spec("upstream.gonosumdb")?, NOSUM, &raw)?);
    }

    for key in ATHENS_KEYS {
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

    Ok(AthensEnv {
        layer,
        platform,
        go,
    })
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
) -> Result<(), ConfigError> {
    let list = match (env.list.or(file.list), athens_file) {
        (Some(list), _) => Some(list),
        (None, Some(path)) => Some(EnvList::athens_default(path)?),
        (None, None) => None,
    };
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
        for (_, setting) in GO_VARS {
            if let Some(v) = list.get(setting) {
                layer_of(&list.source, defaults, file_layer, env_layer).set(setting, v.clone());
            }
        }
        list_gonosumdb = list.get("upstream.gonosumdb").cloned();
    }
    match (list_gonosumdb, nosum) {
        (Some(from_list), Some(ns)) if !from_list.value.same(ns.value.as_ref()) => {
            warnings.push(format!(
                "{} ({}) is ignored because {} ({}) sets GONOSUMDB; Athens would still answer \
                 403 for checksum lookups matching {}, agora uses one list for both",
                ns.key,
                ns.source.location(),
                from_list.key,
                from_list.source.location(),
                ns.key
            ));
        }
        (None, Some(ns)) => {
            let source = ns.source.clone();
            layer_of(&source, defaults, file_layer, env_layer).set("upstream.gonosumdb", ns);
        }
        _ => {}
    }
    Ok(())
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
