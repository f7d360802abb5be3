//! The `GOPROXY` list: parsed once, when the configuration is loaded, into the
//! [`ProxyList`] that the upstream client walks with the go command's fallback rules.
//!
//! Parsing mirrors the go command (`proxyList` in `cmd/go/internal/modfetch/proxy.go`)
//! so that a value the go command would reject is rejected at startup rather than on
//! the first cache miss. Differences: `file://` proxies are refused (agora does not read
//! module trees from disk as an upstream), a URL with a query or fragment is refused, and
//! an empty list is an error rather than "use the default".

use std::fmt;

use crate::redact::redact_urls;

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

/// A parsed GOPROXY value, which remembers how it was written (trimmed) for
/// `agora config show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyList {
    text: String,
    entries: Vec<Entry>,
}

/// A GOPROXY value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid GOPROXY {value:?}: {reason}")]
pub struct ProxyListError {
    value: String,
    reason: String,
}

impl ProxyListError {
    /// Why the value is invalid, without the value itself.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl ProxyList {
    /// Parses a GOPROXY value as the go command does: elements separated by `,` or `|`,
    /// blanks skipped, `off` and `direct` ending the list (later elements are ignored
    /// and not checked, as in Go), and a bare host name given `https://`.
    ///
    /// # Errors
    ///
    /// An empty value, a list without elements, or an element that is neither a keyword
    /// nor a usable `http`/`https` URL.
    pub fn parse(value: &str) -> Result<Self, ProxyListError> {
        // Errors end up in logs and on terminals: never with a password in them.
        let err = |reason: String| ProxyListError {
            value: crate::redact::redact_urls(value),
            reason: crate::redact::redact_urls(&reason),
        };
        let text = value.trim();
        if text.is_empty() {
            return Err(err(
                "expected a GOPROXY list such as \"https://proxy.golang.org,direct\", not an \
                 empty string"
                    .to_owned(),
            ));
        }
        let mut entries: Vec<Entry> = Vec::new();
        let mut rest = text;
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
            let source = match elem {
                "off" => Source::Off,
                "direct" => Source::Direct,
                _ => Source::Proxy(
                    proxy_url(elem).map_err(|why| err(format!("entry {elem:?}: {why}")))?,
                ),
            };
            let ends = matches!(source, Source::Off | Source::Direct);
            entries.push(Entry {
                source,
                fall_back_on_error: sep == Some(b'|'),
            });
            // The go command ignores whatever follows off and direct, keeping room for
            // future keywords; so do we.
            if ends {
                break;
            }
        }
        if entries.is_empty() {
            return Err(err("the GOPROXY list contains no entries".to_owned()));
        }
        Ok(ProxyList {
            text: text.to_owned(),
            entries,
        })
    }

    /// The single-entry list `direct`.
    pub fn direct() -> Self {
        ProxyList {
            text: "direct".to_owned(),
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

    /// The value as written (trimmed). It may hold credentials: show it through
    /// [`redact_urls`].
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ProxyList {
    /// The value as written, with credentials in URLs masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_urls(&self.text))
    }
}

impl PartialEq<str> for ProxyList {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for ProxyList {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// Checks one element that is not a keyword and returns its base URL.
fn proxy_url(entry: &str) -> Result<String, String> {
    if let Some(c) = entry.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("contains the character {c:?}"));
    }
    // Go: single-word tokens are reserved for keywords; anything with `:/` or that is an
    // absolute path must be a full URL; everything else with `.`, `:` or `/` gets https://.
    let implicit_https = entry.contains(['.', ':', '/'])
        && !entry.contains(":/")
        && !entry.starts_with('/')
        && !entry.starts_with('\\')
        && !is_windows_absolute(entry);
    let url = if implicit_https {
        format!("https://{entry}")
    } else {
        entry.to_owned()
    };
    let Some((scheme, rest)) = split_scheme(&url) else {
        return Err(
            "not a keyword (off, direct) and not a URL: expected an https:// or http:// proxy \
             URL"
            .to_owned(),
        );
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "http" => {}
        "file" => return Err("file:// proxies are not supported by agora".to_owned()),
        other => {
            return Err(format!(
                "unsupported URL scheme {other:?}: expected https or http"
            ));
        }
    }
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Err("expected scheme://host".to_owned());
    };
    let authority = after_slashes
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() || host_port.starts_with(':') {
        return Err("the URL has no host".to_owned());
    }
    // The port, if any, follows the last `:` outside IPv6 brackets.
    let after_host = host_port
        .rsplit_once(']')
        .map_or(host_port, |(_, rest)| rest);
    if let Some((_, port)) = after_host.rsplit_once(':')
        && !port.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("invalid port {port:?}"));
    }
    // The checks above give the go command's messages; the URL parser catches the rest
    // (a malformed host, an out-of-range port) before the first request would.
    let parsed = url::Url::parse(&url).map_err(|e| format!("not a valid URL: {e}"))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("a proxy URL must not have a query or fragment".to_owned());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Splits `scheme:rest` when the part before the first `:` is a valid URL scheme.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some((scheme, rest))
}

fn is_windows_absolute(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(v: &str) -> String {
        ProxyList::parse(v).expect_err(v).reason().to_owned()
    }

    fn srcs(v: &str) -> Vec<(String, bool)> {
        ProxyList::parse(v)
            .unwrap_or_else(|e| panic!("{v}: {e}"))
            .entries()
            .iter()
            .map(|e| (e.source.to_string(), e.fall_back_on_error))
            .collect()
    }

    #[test]
    fn proxy_sources_show_redacted() {
        let src = Source::Proxy("https://a:b@h".into());
        assert_eq!(src.to_string(), "https://a:xxxxx@h");
        let list = ProxyList::parse(" https://a:b@h,direct ").unwrap();
        assert_eq!(list.to_string(), "https://a:xxxxx@h,direct");
        assert_eq!(list.as_str(), "https://a:b@h,direct");
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
    fn accepts_the_usual_lists() {
        for ok in [
            "https://proxy.golang.org,direct",
            "https://proxy.golang.org|direct",
            "direct",
            "off",
            "proxy.example.com",
            "localhost:8080,direct",
            "http://user:pass@proxy.internal:3000/prefix|https://proxy.golang.org",
            "https://[::1]:8443,http://[fe80::1]",
            " https://a.example , , direct ",
            "HTTPS://proxy.example.com",
            "direct,file:///ignored/after/direct",
            "off,whatever",
        ] {
            assert!(
                ProxyList::parse(ok).is_ok(),
                "{ok}: {:?}",
                ProxyList::parse(ok)
            );
        }
        assert_eq!(ProxyList::parse(" direct ").unwrap(), "direct");
    }

    #[test]
    fn rejects_bad_lists() {
        for (bad, why) in [
            ("", "empty"),
            ("   ", "empty"),
            (",", "no entries"),
            (" | , ", "no entries"),
            ("file:///srv/goproxy", "file:// proxies are not supported"),
            (
                "https://a.example,file:///srv",
                "file:// proxies are not supported",
            ),
            ("proxy", "not a URL"),
            ("noscheme", "not a URL"),
            ("/srv/goproxy", "not a URL"),
            ("ftp://proxy.example.com", "unsupported URL scheme \"ftp\""),
            ("https://", "no host"),
            ("https:proxy.example.com", "invalid port"),
            ("http:/proxy.example.com", "expected scheme://host"),
            ("https://pro xy.example.com", "contains the character"),
            ("https://x.test/?q=1", "query or fragment"),
            ("https://x.test/#f", "query or fragment"),
            ("https://x.test:99999", "not a valid URL"),
        ] {
            let got = reason(bad);
            assert!(got.contains(why), "{bad:?}: {got}");
        }
    }

    #[test]
    fn errors_do_not_show_credentials() {
        let e = ProxyList::parse("https://user:hunter2@proxy.example/p?x=").unwrap_err();
        let shown = e.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("proxy.example"), "{shown}");
    }
}
