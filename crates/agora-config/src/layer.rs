//! Layers of partial configuration (Athens' defaults, a file, the environment), how they
//! stack, and agora's own sources: its file format and its `AGORA_*` names. Everything
//! here works from the declarations in `settings.rs`; nothing names a setting.

use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use crate::error::{ConfigError, Setter, Source};
use crate::settings::{all_specs, spec_index};
use crate::spec::{Spec, Val};
use crate::value;

/// A value together with the key that set it (as spelled there) and where.
#[derive(Debug)]
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

impl Clone for Sourced<Val> {
    fn clone(&self) -> Self {
        Sourced::new(
            self.value.clone_box(),
            self.key.clone(),
            self.source.clone(),
        )
    }
}

/// What one source sets: a slot per declared setting, in declaration order.
#[derive(Debug)]
pub(crate) struct Layer(Vec<Option<Sourced<Val>>>);

impl Default for Layer {
    fn default() -> Self {
        Layer(all_specs().map(|_| None).collect())
    }
}

impl Layer {
    /// Sets the setting with agora key `key` (a declared key).
    pub(crate) fn set(&mut self, key: &str, value: Sourced<Val>) {
        if let Some(i) = spec_index(key) {
            self.0[i] = Some(value);
        }
    }

    /// Sets it unless this layer already has it.
    pub(crate) fn set_if_unset(&mut self, key: &str, value: Sourced<Val>) {
        if let Some(i) = spec_index(key)
            && self.0[i].is_none()
        {
            self.0[i] = Some(value);
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Sourced<Val>> {
        spec_index(key).and_then(|i| self.0[i].as_ref())
    }

    pub(crate) fn take(&mut self, key: &str) -> Option<Sourced<Val>> {
        spec_index(key).and_then(|i| self.0[i].take())
    }

    /// Stacks `high` on top of `self`: every setting `high` has replaces this layer's.
    pub(crate) fn overlay(&mut self, high: Layer) {
        for (low, high) in self.0.iter_mut().zip(high.0) {
            if high.is_some() {
                *low = high;
            }
        }
    }

    /// Fills the settings this layer lacks from `low`.
    pub(crate) fn underlay(&mut self, low: Layer) {
        for (high, low) in self.0.iter_mut().zip(low.0) {
            if high.is_none() {
                *high = low;
            }
        }
    }

    /// Combines the environment's Athens-named and agora-named settings. They have the same
    /// precedence: when both set a setting to equal values the agora name is recorded as
    /// the source, and when the values differ loading fails naming both.
    pub(crate) fn combine_env(athens: Layer, agora: Layer) -> Result<Layer, ConfigError> {
        let mut out = Layer::default();
        for (((slot, spec), a), g) in out.0.iter_mut().zip(all_specs()).zip(athens.0).zip(agora.0) {
            *slot = match (a, g) {
                (Some(a), Some(g)) if !a.value.same(g.value.as_ref()) => {
                    return Err(ConfigError::Conflict {
                        setting: spec.key,
                        agora: Box::new(setter(&g)),
                        athens: Box::new(setter(&a)),
                    });
                }
                (a, g) => g.or(a),
            };
        }
        Ok(out)
    }
}

/// How a set value is named in errors (secrets redacted, as `config show` renders).
pub(crate) fn setter(s: &Sourced<Val>) -> Setter {
    Setter {
        value: s.value.render(),
        key: s.key.clone(),
        origin: s.source.clone(),
    }
}

/// Parses environment variable `name` for `spec`. An empty value is a value like any other
/// (as in Athens), so `AGORA_TIMEOUT=` is an error.
pub(crate) fn parse_env(spec: &Spec, name: &str, raw: &str) -> Result<Sourced<Val>, ConfigError> {
    (spec.parse)(raw)
        .map(|v| Sourced::new(v, name, Source::env(name)))
        .map_err(|reason| ConfigError::Invalid {
            key: name.to_owned(),
            origin: Source::env(name),
            value: if spec.secret {
                REDACTED.to_owned()
            } else {
                value::quote(raw)
            },
            reason,
        })
}

/// Parses the value of `spec` found in the file at `path` under the key `spelled`.
pub(crate) fn parse_file(
    spec: &Spec,
    path: &Path,
    spelled: &str,
    v: &toml::Value,
) -> Result<Sourced<Val>, ConfigError> {
    (spec.parse_toml)(v)
        .map(|val| Sourced::new(val, spelled, Source::file(path)))
        .map_err(|reason| {
            let mut e = file_error(path, spelled, v, reason);
            if let (ConfigError::Invalid { value, .. }, true) = (&mut e, spec.secret) {
                REDACTED.clone_into(value);
            }
            e
        })
}

const REDACTED: &str = "<redacted>";

/// Builds the error for a bad value at `key` in the file at `path`.
pub(crate) fn file_error(path: &Path, key: &str, v: &toml::Value, reason: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        origin: Source::file(path),
        value: value::quote_toml(v),
        reason,
    }
}

/// Reads the `AGORA_*` variables.
pub(crate) fn agora_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for spec in all_specs() {
        if let Some(raw) = env(spec.env) {
            layer.set(spec.key, parse_env(spec, spec.env, &raw)?);
        }
    }
    Ok(layer)
}

/// Reads a file in agora's format: lowercase tables, every key optional, unknown keys
/// rejected with the key's name and line.
pub(crate) fn agora_file(path: &Path, text: &str) -> Result<Layer, ConfigError> {
    let parse_error = |e: toml::de::Error| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    };
    let mut found = Vec::new();
    let de = toml::Deserializer::parse(text).map_err(parse_error)?;
    TableSeed {
        prefix: String::new(),
        found: &mut found,
    }
    .deserialize(de)
    .map_err(parse_error)?;
    let mut layer = Layer::default();
    for (spec, v) in found {
        layer.set(spec.key, parse_file(spec, path, spec.key, &v)?);
    }
    Ok(layer)
}

/// Walks one table of an agora file, keeping the leaves as raw TOML values so that a wrong
/// value is reported by this crate (in the same "invalid value X for KEY (file F): reason"
/// form as every other bad value), while an unknown key or a misplaced table is reported
/// by the TOML parser, with its line.
struct TableSeed<'a> {
    prefix: String,
    found: &'a mut Vec<(&'static Spec, toml::Value)>,
}

impl TableSeed<'_> {
    fn full(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// The keys and tables directly under this table, for the "expected" list.
    fn children(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for spec in all_specs() {
            let rest = if self.prefix.is_empty() {
                Some(spec.key)
            } else {
                spec.key
                    .strip_prefix(self.prefix.as_str())
                    .and_then(|r| r.strip_prefix('.'))
            };
            if let Some(child) = rest.and_then(|r| r.split('.').next())
                && !out.contains(&child)
            {
                out.push(child);
            }
        }
        out
    }
}

/// Reads one key of a table as its full dotted path, refusing unknown keys while the
/// parser still knows where the key is (so the error points at its line).
struct KeySeed<'t, 'a> {
    table: &'t TableSeed<'a>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let key = <String as serde::Deserialize>::deserialize(d)?;
        let full = self.table.full(&key);
        let known = all_specs().any(|s| {
            s.key
                .strip_prefix(full.as_str())
                .is_some_and(|r| r.is_empty() || r.starts_with('.'))
        });
        if known {
            return Ok(full);
        }
        let expected: Vec<String> = self
            .table
            .children()
            .iter()
            .map(|c| format!("`{c}`"))
            .collect();
        Err(de::Error::custom(format!(
            "unknown field `{key}`, expected one of {}",
            expected.join(", ")
        )))
    }
}

impl<'de> DeserializeSeed<'de> for TableSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TableSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            f.write_str("a table")
        } else {
            write!(f, "the table [{}]", self.prefix)
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(full) = map.next_key_seed(KeySeed { table: &self })? {
            if let Some(spec) = all_specs().find(|s| s.key == full) {
                let v: toml::Value = map.next_value()?;
                self.found.push((spec, v));
            } else {
                map.next_value_seed(TableSeed {
                    prefix: full,
                    found: &mut *self.found,
                })?;
            }
        }
        Ok(())
    }
}
