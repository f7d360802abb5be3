//! The go command's checks on what a `go-import` tag names: the repository
//! URL (`validateRepoRoot`, with the parts of Go's `net/url` parser that
//! decide its errors) and the subdirectory.

/// Go's `%q` for the strings a server controls (go-import fields), so that
/// odd bytes read the same as in the go command's messages. Elsewhere
/// (import paths, GOVCS) Rust's `{:?}` is used: it agrees with `%q` on the
/// printable text those hold.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `validateRepoSubDir`.
pub(super) fn validate_repo_subdir(subdir: &str) -> Result<(), &'static str> {
    match subdir.as_bytes().first() {
        Some(b'/') => Err("leading slash"),
        Some(b'-') => Err("leading hyphen"),
        _ => Ok(()),
    }
}

/// Go's `validateRepoRoot`: the URL must parse by `net/url`'s rules and
/// have a scheme other than `file`.
pub(super) fn validate_repo_root(repo_root: &str) -> Result<(), String> {
    let scheme =
        parse_url_scheme(repo_root).map_err(|e| format!("parse {}: {e}", go_quote(repo_root)))?;
    if scheme.is_empty() {
        return Err("no scheme".to_string());
    }
    if scheme.eq_ignore_ascii_case("file") {
        return Err("file scheme disallowed".to_string());
    }
    Ok(())
}

/// The checks of Go's `url.Parse` that can reject a URL, returning its
/// scheme. Where Go accepts without looking (the query, an opaque URL
/// such as `x:y`), so does this; IPv6 literals are checked with Rust's
/// parser, whose error text differs from Go's.
fn parse_url_scheme(raw: &str) -> Result<&str, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".to_string());
    }
    let (url, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    // getScheme: letters, then letters, digits, '+', '-', '.' up to a ':';
    // anything else first means there is no scheme.
    let mut scheme = "";
    let mut rest = url;
    for (i, c) in url.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".to_string()),
            b':' => {
                (scheme, rest) = (&url[..i], &url[i + 1..]);
                break;
            }
            _ => break,
        }
    }
    let rest = match rest.strip_suffix('?') {
        Some(r) if !r.contains('?') => r,
        _ => rest.split_once('?').map_or(rest, |(r, _)| r),
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // Opaque (`mailto:x`): Go takes it as is, fragment aside.
            unescape_check(fragment, false)?;
            return Ok(scheme);
        }
        if rest.split('/').next().unwrap_or("").contains(':') {
            return Err("first path segment in URL cannot contain colon".to_string());
        }
    }
    let mut path = rest;
    if (!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let (authority, p) = match rest[2..].find('/') {
            Some(i) => (&rest[2..2 + i], &rest[2 + i..]),
            None => (&rest[2..], ""),
        };
        path = p;
        let (userinfo, host) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        check_host(&scheme.to_ascii_lowercase(), host)?;
        if let Some(userinfo) = userinfo {
            let ok = userinfo
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c));
            if !ok {
                return Err("net/url: invalid userinfo".to_string());
            }
            unescape_check(userinfo, false)?;
        }
    }
    unescape_check(path, false)?;
    unescape_check(fragment, false)?;
    Ok(scheme)
}

/// Go's `parseHost`.
fn check_host(scheme: &str, host: &str) -> Result<(), String> {
    let valid_port = |p: &str| {
        p.is_empty()
            || p.strip_prefix(':')
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    match host.rfind('[') {
        Some(i) if i > 0 => return Err("invalid IP-literal".to_string()),
        Some(_) => {
            let Some(close) = host.rfind(']') else {
                return Err("missing ']' in host".to_string());
            };
            let port = &host[close + 1..];
            if !valid_port(port) {
                return Err(format!("invalid port {port:?} after host"));
            }
            let literal = &host[1..close];
            // Zones (`%25eth0`) are left unchecked.
            if !literal.contains("%25") {
                unescape_check(literal, true)?;
                if literal.parse::<std::net::Ipv6Addr>().is_err() {
                    return Err(format!("invalid host: ParseAddr({literal:?})"));
                }
            }
            return Ok(());
        }
        None => {}
    }
    if let Some(first) = host.find(':') {
        // Since Go 1.26 only http and https insist on a single colon.
        let i = if scheme == "http" || scheme == "https" {
            first
        } else {
            host.rfind(':').unwrap_or(first)
        };
        let port = &host[i..];
        if !valid_port(port) {
            return Err(format!("invalid port {port:?} after host"));
        }
    }
    unescape_check(host, true)
}

/// The errors of Go's `unescape`: a `%` not followed by two hex digits, and
/// in a host name a character that would need escaping.
fn unescape_check(s: &str, host: bool) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(|h| h.is_ascii_hexdigit());
            if !hex(i + 1) || !hex(i + 2) {
                let bad = String::from_utf8_lossy(&b[i..(i + 3).min(b.len())]).into_owned();
                return Err(format!("invalid URL escape {bad:?}"));
            }
            // In a host only non-ASCII bytes may be escaped (and %25).
            if host && b[i + 1] < b'8' && &b[i..i + 3] != b"%25" {
                let bad = String::from_utf8_lossy(&b[i..i + 3]).into_owned();
                return Err(format!("invalid URL escape {bad:?}"));
            }
            i += 3;
            continue;
        }
        if host && c < 0x80 && !c.is_ascii_alphanumeric() && !b"-_.~!$&'()*+,;=:[]<>\"".contains(&c)
        {
            return Err(format!(
                "invalid character {:?} in host name",
                char::from(c).to_string()
            ));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_validation() {
        assert_eq!(validate_repo_root("https://a.com/x"), Ok(()));
        assert_eq!(validate_repo_root("ssh://git@a.com/x"), Ok(()));
        assert_eq!(validate_repo_root("git+ssh://a.com/x"), Ok(()));
        assert_eq!(validate_repo_root("a.com/x"), Err("no scheme".to_string()));
        assert_eq!(
            validate_repo_root("file:///srv/x"),
            Err("file scheme disallowed".to_string())
        );
        assert_eq!(
            validate_repo_root("FILE:///srv/x"),
            Err("file scheme disallowed".to_string())
        );
        assert_eq!(
            validate_repo_root("git@a.com:x/y"),
            Err(
                "parse \"git@a.com:x/y\": first path segment in URL cannot contain colon"
                    .to_string()
            )
        );
        assert_eq!(
            validate_repo_root(":x"),
            Err("parse \":x\": missing protocol scheme".to_string())
        );
        assert_eq!(validate_repo_subdir(""), Ok(()));
        assert_eq!(validate_repo_subdir("a/b"), Ok(()));
        assert_eq!(validate_repo_subdir("/a"), Err("leading slash"));
        assert_eq!(validate_repo_subdir("-a"), Err("leading hyphen"));
    }

    // The expected outputs in testdata/ come from the go command itself (see
    // testdata/README.md for how they were made).

    /// (go-import repository URL, Go's validateRepoRoot error or "").
    type RepoRootCase = (String, String);

    #[test]
    fn repo_root_urls_agree_with_go() {
        let cases: Vec<RepoRootCase> =
            serde_json::from_str(include_str!("../../testdata/repo_roots.json")).unwrap();
        assert!(!cases.is_empty());
        let mut wrong = Vec::new();
        for (url, want) in cases {
            let got = validate_repo_root(&url).err().unwrap_or_default();
            if got != want {
                wrong.push(format!("{url:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
