//! The GOPROXY list: parsing, and walking it with the go command's fallback rules.

use std::fmt;

/// Where one element of the list sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A GOPROXY server at this base URL (no trailing slash).
    Proxy(String),
    /// The module's version control repository.
    Direct,
    /// Lookups disabled; everything not already stored is absent.
    Off,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Proxy(url) => f.write_str(&redact_urls(url)),
            Source::Direct => f.write_str("direct"),
            Source::Off => f.write_str("off"),
        }
    }
}

/// One element of the list and the separator that followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where to ask.
    pub source: Source,
    /// `|` after the element: move on after any error, not just "not found".
    pub fall_back_on_error: bool,
}

/// A parsed GOPROXY value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyList {
    entries: Vec<Entry>,
}

/// A GOPROXY value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid GOPROXY {value:?}: {reason}")]
pub struct ProxyListError {
    value: String,
    reason: String,
}

impl ProxyList {
    /// Parses a GOPROXY value as the go command does: elements separated by
    /// `,` or `|`, blanks skipped, `off` and `direct` ending the list, and a
    /// bare host name given `https://`.
    pub fn parse(value: &str) -> Result<Self, ProxyListError> {
        let err = |reason: String| ProxyListError {
            value: value.to_owned(),
            reason,
        };
        let mut entries: Vec<Entry> = Vec::new();
        let mut rest = value;
        while !rest.is_empty() {
            let (elem, sep, tail) = match rest.find([',', '|']) {
                Some(i) => (&rest[..i], Some(rest.as_bytes()[i]), &rest[i + 1..]),
                None => (rest, None, ""),
            };
            rest = tail;
            let elem = elem.trim();
            if elem.is_empty() {
                continue;
            }
            let fall_back_on_error = sep == Some(b'|');
            let source = match elem {
                "off" => Source::Off,
                "direct" => Source::Direct,
                _ => Source::Proxy(normalize_url(elem).map_err(err)?),
            };
            let ends = matches!(source, Source::Off | Source::Direct);
            entries.push(Entry {
                source,
                fall_back_on_error,
            });
            // The go command ignores whatever follows off and direct, keeping
            // room for future keywords; so do we.
            if ends {
                break;
            }
        }
        if entries.is_empty() {
            return Err(err("no proxy entries".to_owned()));
        }
        Ok(ProxyList { entries })
    }

    /// The single-entry list `direct`.
    pub fn direct() -> Self {
        ProxyList {
            entries: vec![Entry {
                source: Source::Direct,
                fall_back_on_error: false,
            }],
        }
    }

    /// The entries in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

fn normalize_url(elem: &str) -> Result<String, String> {
    let with_scheme = if elem.contains("://") {
        elem.to_owned()
    } else if elem.contains(['.', ':', '/']) {
        format!("https://{elem}")
    } else {
        return Err(format!("proxy URL {elem:?} has no scheme"));
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| format!("proxy URL {elem:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        "file" => {
            return Err(format!(
                "proxy URL {elem:?}: file:// upstreams are not supported"
            ));
        }
        s => return Err(format!("proxy URL {elem:?}: unsupported scheme {s:?}")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "proxy URL {elem:?} must not have a query or fragment"
        ));
    }
    Ok(with_scheme.trim_end_matches('/').to_owned())
}

/// Kept here for the upstream crate's callers; the function lives in agora-core so that
/// `agora config show` (agora-config) redacts with the same rule.
pub use agora_core::redact::redact_urls;

#[cfg(test)]
mod tests {
    #[test]
    fn proxy_sources_show_redacted() {
        let src = super::Source::Proxy("https://a:b@h".into());
        assert_eq!(src.to_string(), "https://a:xxxxx@h");
    }

    use super::*;

    fn srcs(v: &str) -> Vec<(String, bool)> {
        ProxyList::parse(v)
            .unwrap()
            .entries()
            .iter()
            .map(|e| (e.source.to_string(), e.fall_back_on_error))
            .collect()
    }

    #[test]
    fn parses_separators_and_keywords() {
        assert_eq!(
            srcs("https://proxy.golang.org,direct"),
            vec![
                ("https://proxy.golang.org".into(), false),
                ("direct".into(), false)
            ]
        );
        assert_eq!(
            srcs("http://a.test/mod|https://b.test/,off"),
            vec![
                ("http://a.test/mod".into(), true),
                ("https://b.test".into(), false),
                ("off".into(), false)
            ]
        );
        assert_eq!(
            srcs(" , corp.example:8080/go ,"),
            vec![("https://corp.example:8080/go".into(), false)]
        );
        assert_eq!(
            srcs("direct,https://ignored.test"),
            vec![("direct".into(), false)]
        );
        assert_eq!(srcs("off|direct"), vec![("off".into(), true)]);
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            "",
            " , ",
            "noscheme",
            "file:///tmp/x",
            "ftp://x.test",
            "https://x.test/?q=1",
        ] {
            assert!(ProxyList::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
