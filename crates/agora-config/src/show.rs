//! Rendering for `agora config show` and for conflict messages.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Source;
use agora_core::NetworkMode;
use agora_core::goproxy::ProxyList;

use crate::settings::{LogFormat, LogLevel, Secret};
use crate::value::StorageKind;

/// Renders a value as a TOML literal in agora's format. Secrets render as `"<redacted>"`,
/// and so do the passwords of URLs in any other string (as `xxxxx`).
pub(crate) trait Render {
    fn render(&self) -> String;
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Any string setting may hold URLs with credentials (`upstream.goproxy`, the storage
/// endpoints, `storage.external.url`), and `config show` output gets pasted into issues:
/// userinfo is masked as the go command's `url.Redacted` and agora's logs mask it. Also
/// in URLs written without a scheme, element by element of `,`/`|` lists: a MinIO
/// endpoint is a bare `host:port`, and a GOPROXY entry may leave out `https://`.
fn redact(s: &str) -> String {
    s.split_inclusive([',', '|'])
        .map(|piece| {
            if piece.contains("://") {
                agora_core::redact::redact_urls(piece)
            } else {
                let with_scheme = agora_core::redact::redact_urls(&format!("x://{piece}"));
                with_scheme["x://".len()..].to_owned()
            }
        })
        .collect()
}

fn shown_string(s: &str) -> String {
    toml_string(&redact(s))
}

impl Render for String {
    fn render(&self) -> String {
        shown_string(self)
    }
}

impl Render for PathBuf {
    fn render(&self) -> String {
        toml_string(&self.to_string_lossy())
    }
}

impl Render for Option<PathBuf> {
    fn render(&self) -> String {
        self.as_ref()
            .map_or_else(|| toml_string(""), Render::render)
    }
}

/// Whole seconds, as the config file takes them.
impl Render for Duration {
    fn render(&self) -> String {
        self.as_secs().to_string()
    }
}

impl Render for LogLevel {
    fn render(&self) -> String {
        toml_string(self.as_str())
    }
}

impl Render for LogFormat {
    fn render(&self) -> String {
        toml_string(self.as_str())
    }
}

impl Render for ProxyList {
    fn render(&self) -> String {
        shown_string(self.as_str())
    }
}

impl Render for NetworkMode {
    fn render(&self) -> String {
        toml_string(self.as_str())
    }
}

impl Render for StorageKind {
    fn render(&self) -> String {
        toml_string(self.as_str())
    }
}

impl Render for Vec<String> {
    fn render(&self) -> String {
        toml::Value::Array(
            self.iter()
                .map(|v| toml::Value::String(redact(v)))
                .collect(),
        )
        .to_string()
    }
}

impl Render for usize {
    fn render(&self) -> String {
        self.to_string()
    }
}

impl Render for bool {
    fn render(&self) -> String {
        self.to_string()
    }
}

impl Render for Option<String> {
    fn render(&self) -> String {
        shown_string(self.as_deref().unwrap_or(""))
    }
}

impl Render for Secret {
    fn render(&self) -> String {
        toml_string(&self.to_string())
    }
}

impl Render for Option<Secret> {
    fn render(&self) -> String {
        self.as_ref()
            .map_or_else(|| toml_string(""), Render::render)
    }
}

/// One line of `config show`.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// agora's key, e.g. `server.listen`.
    pub key: &'static str,
    /// The value, already rendered (and redacted).
    pub value: String,
    pub source: Source,
    /// The key as spelled where it was set, when that differs from `key`.
    pub spelled: String,
}

/// Formats entries as `key = value  # source`, aligned, then the warnings as comments.
pub(crate) fn format(header: &str, entries: &[Entry], warnings: &[String]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let width = entries
        .iter()
        .map(|e| e.key.len() + 3 + e.value.len())
        .max()
        .unwrap_or(0);
    for e in entries {
        let assignment = format!("{} = {}", e.key, e.value);
        let spelled = match &e.source {
            Source::Env { name } if *name == e.spelled => None,
            _ if e.spelled == e.key => None,
            _ => Some(&e.spelled),
        };
        let _ = match spelled {
            Some(s) => writeln!(out, "{assignment:width$}  # {} ({s})", e.source),
            None => writeln!(out, "{assignment:width$}  # {}", e.source),
        };
    }
    for w in warnings {
        let _ = writeln!(out, "# warning: {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_in_values_are_masked() {
        assert_eq!(
            redact("https://u:pw@a.test/go,tok@b.test|direct"),
            "https://u:xxxxx@a.test/go,xxxxx@b.test|direct"
        );
        assert_eq!(
            redact("minio:pw@127.0.0.1:9000"),
            "minio:xxxxx@127.0.0.1:9000"
        );
        for plain in [
            "https://proxy.golang.org,direct",
            ":3000",
            "*.corp,x.test/y",
            "",
        ] {
            assert_eq!(redact(plain), plain);
        }
    }
}
