//! From the merged layers to [`Settings`]: defaults, the checks that need final values
//! (required backend settings, settings that exclude each other), and provenance for
//! `config show`.

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Setter, Source};
use crate::layer::{Layer, Sourced};
use crate::settings::{
    AuthSettings, AzureSettings, DiskTable, EtcdLockSettings, ExternalSettings, GcpSettings,
    LockSettings, LogSettings, MinioSettings, MongoSettings, Paths, RedisLockSettings,
    RedisSentinelSettings, S3Settings, ServerSettings, Settings, SingleFlightSettings,
    SingleFlightTable, StorageSettings, StorageTable, TlsSettings, UpstreamSettings,
    spec as declared,
};
use crate::settings::{CacheSettings, IndexKind, IndexSettings, IndexTable, PostgresIndexSettings};
use crate::settings::{DownloadModeSetting, DownloadSettings, FilterSettings};
use crate::show::Entry;
use crate::spec::{Kind, Spec, Val};
use crate::value::{self, StorageKind};

/// Takes settings out of the merged layers, filling in defaults and recording where each
/// value came from.
pub(crate) struct Resolver<'a> {
    merged: Layer,
    env: &'a dyn Fn(&str) -> Option<String>,
    entries: Vec<Entry>,
    /// Values resolved so far, for defaults derived from them.
    done: Vec<(&'static str, Val)>,
    /// While a storage backend's keys are resolved: its type and where it was selected.
    backend: Option<(&'static str, Source)>,
}

impl<'a> Resolver<'a> {
    fn new(merged: Layer, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            merged,
            env,
            entries: Vec::new(),
            done: Vec::new(),
            backend: None,
        }
    }

    /// The merged value of `spec`, or its default.
    fn take(&mut self, spec: &Spec) -> Result<Sourced<Val>, ConfigError> {
        if let Some(s) = self.merged.take(spec.key) {
            return Ok(s);
        }
        let raw = match spec.default_from {
            Some(f) => f(self),
            None => spec.default.to_owned(),
        };
        let v = parse_default(spec, &raw)?;
        Ok(Sourced::new(v, spec.key, Source::Default))
    }

    fn record(&mut self, spec: &Spec, s: &Sourced<Val>) {
        self.entries.push(Entry {
            key: spec.key,
            value: s.value.render(),
            source: s.source.clone(),
            spelled: s.key.clone(),
        });
        self.done.push((spec.key, s.value.clone_box()));
    }

    /// The effective value of a setting of kind `K`.
    pub(crate) fn value<K: Kind>(&mut self, spec: &Spec) -> Result<K::Value, ConfigError> {
        let s = self.take(spec)?;
        self.record(spec, &s);
        downcast::<K::Value>(spec, s.value)
    }

    /// The effective value of a required setting: when it is unset or empty, its default,
    /// and without one an error naming every way to set it.
    pub(crate) fn required<K, T>(&mut self, spec: &Spec) -> Result<T, ConfigError>
    where
        K: Kind<Value = Option<T>>,
        T: Clone + 'static,
    {
        let mut s = self.take(spec)?;
        let value = match downcast::<Option<T>>(spec, s.value.clone_box())? {
            Some(v) => v,
            None => {
                let default = parse_default(spec, spec.default)?;
                match downcast::<Option<T>>(spec, default.clone_box())? {
                    Some(v) => {
                        s.value = default;
                        v
                    }
                    None => return Err(self.missing(spec, "")),
                }
            }
        };
        self.record(spec, &s);
        Ok(value)
    }

    /// The error for a setting the selected storage needs; `why` is appended to the list
    /// of names that set it.
    pub(crate) fn missing(&self, spec: &Spec, why: &str) -> ConfigError {
        let (storage_type, origin) = self.backend.clone().unwrap_or(("", Source::Default));
        ConfigError::Missing {
            key: spec.key,
            names: format!("{}{why}", spec.names()),
            storage_type: storage_type.to_owned(),
            origin,
        }
    }

    /// How the recorded setting `key` was set, for error messages.
    fn setter(&self, key: &str) -> Option<Setter> {
        self.entries.iter().find(|e| e.key == key).map(|e| Setter {
            value: e.value.clone(),
            key: e.spelled.clone(),
            origin: e.source.clone(),
        })
    }

    /// A path resolved earlier.
    fn path(&self, key: &str) -> PathBuf {
        self.done
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_any().downcast_ref::<PathBuf>().cloned())
            .unwrap_or_default()
    }

    /// agora's default data directory: `$XDG_DATA_HOME/agora`, else
    /// `$HOME/.local/share/agora`, else `./agora-data`. As the XDG spec says, an empty or
    /// relative `XDG_DATA_HOME` is ignored.
    pub(crate) fn default_data_dir(&self) -> String {
        let env = self.env;
        let dir = if let Some(xdg) = env("XDG_DATA_HOME").filter(|v| Path::new(v).is_absolute()) {
            Path::new(&xdg).join("agora")
        } else if let Some(home) = env("HOME").filter(|v| !v.is_empty()) {
            Path::new(&home).join(".local/share/agora")
        } else {
            PathBuf::from("./agora-data")
        };
        dir.to_string_lossy().into_owned()
    }

    /// `<data_dir>/<sub>`.
    pub(crate) fn under_data_dir(&self, sub: &str) -> String {
        self.path("data_dir")
            .join(sub)
            .to_string_lossy()
            .into_owned()
    }
}

fn internal() -> ConfigError {
    ConfigError::Invalid {
        key: String::new(),
        origin: Source::Default,
        value: String::new(),
        reason: "internal error: a setting is not declared".to_owned(),
    }
}

fn parse_default(spec: &Spec, raw: &str) -> Result<Val, ConfigError> {
    (spec.parse)(raw).map_err(|reason| ConfigError::Invalid {
        key: spec.key.to_owned(),
        origin: Source::Default,
        value: value::quote(raw),
        reason,
    })
}

fn downcast<T: 'static>(spec: &Spec, v: Val) -> Result<T, ConfigError> {
    v.into_any()
        .downcast::<T>()
        .map(|b| *b)
        .map_err(|_| ConfigError::Invalid {
            key: spec.key.to_owned(),
            origin: Source::Default,
            value: String::new(),
            reason: "internal error: the value has another type than the setting".to_owned(),
        })
}

/// Resolves every setting. Returns the settings and `config show`'s entries.
pub(crate) fn resolve(
    merged: Layer,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<(Settings, Vec<Entry>), ConfigError> {
    let mut r = Resolver::new(merged, env);
    let Paths { data_dir, tmp_dir } = Paths::resolve(&mut r)?;
    let server = ServerSettings::resolve(&mut r)?;
    let log = LogSettings::resolve(&mut r)?;
    let storage = storage(&mut r, warnings)?;
    let upstream = UpstreamSettings::resolve(&mut r)?;
    let single_flight = single_flight(&mut r, &storage)?;
    let sumdb = crate::settings::SumdbSettings::resolve(&mut r)?;
    // Athens refuses these together too.
    if upstream.netrc_path.is_some()
        && upstream.github_token.is_some()
        && let (Some(first), Some(second)) = (
            r.setter("upstream.netrc_path"),
            r.setter("upstream.github_token"),
        )
    {
        return Err(ConfigError::Exclusive {
            first: Box::new(first),
            second: Box::new(second),
        });
    }
    let tls = TlsSettings::resolve(&mut r)?;
    both(
        &r,
        tls.cert_file.is_some(),
        "tls.cert_file",
        tls.key_file.is_some(),
        "tls.key_file",
    )?;
    let auth = AuthSettings::resolve(&mut r)?;
    both(
        &r,
        auth.basic_user.is_some(),
        "auth.basic_user",
        auth.basic_password.is_some(),
        "auth.basic_password",
    )?;
    let cache = CacheSettings::resolve(&mut r)?;
    let index = index(&mut r)?;
    let download = download(&mut r)?;
    let filter = FilterSettings::resolve(&mut r)?;
    let settings = Settings {
        cache,
        index,
        server,
        log,
        storage,
        upstream,
        single_flight,
        sumdb,
        data_dir,
        tmp_dir,
        tls,
        auth,
        download,
        filter,
    };
    Ok((settings, r.entries))
}

/// The index type, then the PostgreSQL keys only when it is selected.
fn index(r: &mut Resolver) -> Result<IndexSettings, ConfigError> {
    let IndexTable { kind } = IndexTable::resolve(r)?;
    Ok(match kind {
        IndexKind::None => IndexSettings::None,
        IndexKind::Memory => IndexSettings::Memory,
        IndexKind::Postgres => {
            let pg = PostgresIndexSettings::resolve(r)?;
            if pg.port > usize::from(u16::MAX) {
                let spec = declared("index.postgres.port").ok_or_else(internal)?;
                let (key, origin) = r
                    .setter(spec.key)
                    .map_or((spec.key.to_owned(), Source::Default), |s| {
                        (s.key, s.origin)
                    });
                return Err(ConfigError::Invalid {
                    key,
                    origin,
                    value: pg.port.to_string(),
                    reason: "expected a port from 1 to 65535".to_owned(),
                });
            }
            IndexSettings::Postgres(pg)
        }
    })
}

/// Settings that only work as a pair: one set without the other is an error naming both.
fn both(
    r: &Resolver,
    a_set: bool,
    a: &'static str,
    b_set: bool,
    b: &'static str,
) -> Result<(), ConfigError> {
    let (set, missing) = match (a_set, b_set) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return Ok(()),
    };
    match (r.setter(set), declared(missing)) {
        (Some(setter), Some(spec)) => Err(ConfigError::Incomplete {
            set: Box::new(setter),
            missing,
            names: spec.names(),
        }),
        _ => Err(internal()),
    }
}

/// The storage type, then the keys of the selected backend only: the others neither
/// count nor appear in `config show`.
fn storage(r: &mut Resolver, warnings: &mut Vec<String>) -> Result<StorageSettings, ConfigError> {
    let StorageTable { kind } = StorageTable::resolve(r)?;
    let selected = r.setter("storage.type").map(|s| (s.key, s.origin));
    let (type_key, type_source) = selected.unwrap_or((String::new(), Source::Default));
    r.backend = Some((kind.as_str(), type_source.clone()));
    Ok(match kind {
        StorageKind::Unsupported(kind) => {
            return Err(ConfigError::UnsupportedStorage {
                kind: kind.to_owned(),
                key: type_key,
                origin: type_source,
            });
        }
        StorageKind::Disk => StorageSettings::Disk {
            root: DiskTable::resolve(r)?.root,
        },
        StorageKind::Memory => {
            // An Athens file routinely carries a RootPath next to StorageType = "memory";
            // only warn when the operator set agora's own key.
            if let (Some(root), Some(spec)) = (
                r.merged.get("storage.disk.root"),
                declared("storage.disk.root"),
            ) && (root.key == spec.key || root.key == spec.env)
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
            let s3 = S3Settings::resolve(r)?;
            // Static credentials come as a pair; half of one is a mistake, not a request
            // for the metadata service.
            let (missing, why) = match (&s3.access_key_id, &s3.secret_access_key) {
                (Some(_), None) => ("storage.s3.secret_access_key", " (access_key_id is set)"),
                (None, Some(_)) => ("storage.s3.access_key_id", " (secret_access_key is set)"),
                _ => return Ok(StorageSettings::S3(s3)),
            };
            return Err(declared(missing).map_or_else(internal, |spec| r.missing(spec, why)));
        }
        StorageKind::Minio => StorageSettings::Minio(MinioSettings::resolve(r)?),
        StorageKind::Azure => {
            let az = AzureSettings::resolve(r)?;
            if az.account_name.is_none() && az.connection_string.is_none() {
                let (Some(account), Some(connection)) = (
                    declared("storage.azure.account_name"),
                    declared("storage.azure.connection_string"),
                ) else {
                    return Err(internal());
                };
                let why = format!(" (or a connection string: {})", connection.names());
                return Err(r.missing(account, &why));
            }
            StorageSettings::Azure(az)
        }
        StorageKind::Gcp => StorageSettings::Gcp(GcpSettings::resolve(r)?),
        StorageKind::External => StorageSettings::External(ExternalSettings::resolve(r)?),
        StorageKind::Mongo => StorageSettings::Mongo(MongoSettings::resolve(r)?),
    })
}

/// The single-flight type, then the keys of the selected lock only. A lock kept in the
/// storage itself needs that storage.
fn single_flight(
    r: &mut Resolver,
    storage: &StorageSettings,
) -> Result<SingleFlightSettings, ConfigError> {
    let SingleFlightTable { kind, ttl, timeout } = SingleFlightTable::resolve(r)?;
    let lock = match kind.as_str() {
        "redis" => LockSettings::Redis(RedisLockSettings::resolve(r)?),
        "redis-sentinel" => LockSettings::RedisSentinel(RedisSentinelSettings::resolve(r)?),
        "etcd" => LockSettings::Etcd(EtcdLockSettings::resolve(r)?),
        "memory" => LockSettings::Memory,
        store => {
            let (name, fits) = match store {
                "gcp" => ("gcp", matches!(storage, StorageSettings::Gcp(_))),
                "azureblob" => ("azureblob", matches!(storage, StorageSettings::Azure(_))),
                _ => (
                    "s3",
                    matches!(storage, StorageSettings::S3(_) | StorageSettings::Minio(_)),
                ),
            };
            if !fits {
                let (key, origin) = r
                    .setter("single_flight.type")
                    .map(|s| (s.key, s.origin))
                    .unwrap_or_else(|| ("single_flight.type".to_owned(), Source::Default));
                let needs = match name {
                    "gcp" => "gcp",
                    "azureblob" => "azure (azureblob)",
                    _ => "s3 or minio",
                };
                return Err(ConfigError::Invalid {
                    key,
                    origin,
                    value: format!("{name:?}"),
                    reason: format!(
                        "this lock lives in the storage bucket, so it needs storage type {needs}"
                    ),
                });
            }
            LockSettings::Storage(name)
        }
    };
    Ok(SingleFlightSettings { lock, ttl, timeout })
}

/// The download settings; a redirecting mode needs somewhere to redirect to (Athens would
/// answer a relative `Location` that sends the client back to the proxy).
fn download(r: &mut Resolver) -> Result<DownloadSettings, ConfigError> {
    let d = DownloadSettings::resolve(r)?;
    if let DownloadModeSetting::Mode(m) = d.mode
        && m.redirects()
        && d.url.is_none()
    {
        let setter = r.setter("download.mode");
        let names = declared("download.url").map_or_else(String::new, |s| s.names());
        return Err(ConfigError::Invalid {
            key: setter
                .as_ref()
                .map_or_else(|| "download.mode".to_owned(), |s| s.key.clone()),
            origin: setter.map_or(Source::Default, |s| s.origin),
            value: value::quote(m.as_str()),
            reason: format!("mode {m} redirects, so it needs a URL: set {names}"),
        });
    }
    Ok(d)
}
