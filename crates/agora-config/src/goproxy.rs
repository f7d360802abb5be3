//! Syntax checks for `GOPROXY` lists and `GOPRIVATE`-style pattern lists.
//!
//! These mirror the go command (`proxyList` in `cmd/go/internal/modfetch/proxy.go`, and
//! `path.Match` for patterns) so that a value the go command would reject is rejected at
//! startup rather than on the first cache miss. Differences: `file://` proxies are refused
//! (agora does not read module trees from disk as an upstream), an empty list is an error
//! rather than "use the default", and a malformed pattern is an error rather than a
//! pattern that silently never matches.

/// Checks a `GOPROXY` list. Returns the trimmed string unchanged on success, or the reason
/// it is invalid.
pub(crate) fn check_goproxy(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(
            "expected a GOPROXY list such as \"https://proxy.golang.org,direct\", not an \
             empty string"
                .to_owned(),
        );
    }
    let mut entries = 0usize;
    for raw in trimmed.split([',', '|']) {
        let entry = raw.trim();
        if entry.is_empty() {
            continue;
        }
        entries += 1;
        // As in Go, `off` and `direct` end the list: later entries are ignored (for
        // forward compatibility), so they are not checked either.
        if entry == "off" || entry == "direct" {
            break;
        }
        check_proxy_entry(entry).map_err(|why| format!("entry {entry:?}: {why}"))?;
    }
    if entries == 0 {
        return Err("the GOPROXY list contains no entries".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Checks one proxy entry that is not a keyword.
fn check_proxy_entry(entry: &str) -> Result<(), String> {
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
    Ok(())
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

/// Checks a comma-separated list of module path patterns (`GOPRIVATE`, `GONOPROXY`,
/// `GONOSUMDB`, `GOINSECURE`). Empty elements are skipped as in Go; `""` means none.
/// Returns the trimmed string.
pub(crate) fn check_patterns(value: &str) -> Result<String, String> {
    for raw in value.split(',') {
        let pattern = raw.trim();
        if pattern.is_empty() {
            continue;
        }
        check_glob(pattern).map_err(|why| format!("pattern {pattern:?}: {why}"))?;
    }
    Ok(value.trim().to_owned())
}

/// Validates Go `path.Match` syntax: `*`, `?`, `\x` escapes and `[^a-z]` classes.
fn check_glob(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // The guard consumes the escaped character, so it is skipped when present.
            '\\' if chars.next().is_none() => {
                return Err("ends with a lone backslash".to_owned());
            }
            '[' => {
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
                let mut ranges = 0usize;
                loop {
                    match chars.next() {
                        None => return Err("unterminated character class [".to_owned()),
                        Some(']') if ranges > 0 => break,
                        Some(c @ (']' | '-')) => {
                            return Err(format!("misplaced {c:?} in a character class"));
                        }
                        Some('\\') => {
                            if chars.next().is_none() {
                                return Err("unterminated character class [".to_owned());
                            }
                        }
                        Some(_) => {}
                    }
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next() {
                            None => return Err("unterminated character class [".to_owned()),
                            Some(']') | Some('-') => {
                                return Err("incomplete range in a character class".to_owned());
                            }
                            Some('\\') => {
                                if chars.next().is_none() {
                                    return Err("unterminated character class [".to_owned());
                                }
                            }
                            Some(_) => {}
                        }
                    }
                    ranges += 1;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(check_goproxy(ok).is_ok(), "{ok}: {:?}", check_goproxy(ok));
        }
        assert_eq!(check_goproxy(" direct ").as_deref(), Ok("direct"));
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
            ("/srv/goproxy", "not a URL"),
            ("ftp://proxy.example.com", "unsupported URL scheme \"ftp\""),
            ("https://", "no host"),
            ("https:proxy.example.com", "invalid port"),
            ("http:/proxy.example.com", "expected scheme://host"),
            ("https://pro xy.example.com", "contains the character"),
        ] {
            let err = check_goproxy(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn patterns() {
        for ok in [
            "",
            "*.corp.example.com,rsc.io/private",
            "a/[^x]*",
            "a/[a-c\\]]",
            "x\\*",
            " , a ,",
        ] {
            assert!(check_patterns(ok).is_ok(), "{ok}: {:?}", check_patterns(ok));
        }
        for bad in ["a/[", "a/[]", "a/[-a]", "a/[a-]", "a\\", "ok,b[c"] {
            assert!(check_patterns(bad).is_err(), "{bad}");
        }
    }
}
