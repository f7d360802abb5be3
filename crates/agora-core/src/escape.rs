//! The `!` case escaping of module paths and versions used in proxy URLs,
//! the sumdb and the module cache, following `golang.org/x/mod/module`
//! (`EscapePath`, `EscapeVersion`, `UnescapePath`, `UnescapeVersion`).
//!
//! Each upper-case ASCII letter `X` is written `!x`, so that a proxy can be
//! served from a case-insensitive file system. Decoding is strict: there is
//! exactly one escaped spelling of each path, which keeps two URLs from
//! naming the same module and lets agora answer 404 to anything else.

use crate::path::{self, go_quote};

/// A path or version that cannot be escaped or unescaped.
///
/// `Display` gives the go command's one-line message, such as
/// `invalid escaped module path "github.com/Azure"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EscapeError {
    message: String,
}

impl EscapeError {
    fn new(message: String) -> Self {
        EscapeError { message }
    }

    /// The full message, as `Display` prints it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Escapes a module path for use in a URL (Go's `module.EscapePath`),
/// failing if the path is not a valid module path.
///
/// `github.com/Azure/azure-sdk-for-go` becomes
/// `github.com/!azure/azure-sdk-for-go`.
pub fn escape_path(path: &str) -> Result<String, EscapeError> {
    path::check_path(path).map_err(|e| EscapeError::new(e.to_string()))?;
    escape_string(path)
}

/// Escapes a version for use in a URL (Go's `module.EscapeVersion`).
///
/// The version need not be semantic (a branch name is fine), but it must be
/// a valid file-name element and must not contain `!`, which would make the
/// escaping ambiguous.
pub fn escape_version(version: &str) -> Result<String, EscapeError> {
    if path::check_version_elem(version).is_err() || version.contains('!') {
        return Err(EscapeError::new(format!(
            "version {} invalid: disallowed version string",
            go_quote(version)
        )));
    }
    escape_string(version)
}

/// Decodes an escaped module path from a URL (Go's `module.UnescapePath`)
/// and checks that the result is a valid module path.
///
/// Decoding rejects non-ASCII, bare upper-case letters, `!` followed by
/// anything but `a`–`z`, and a trailing `!`.
pub fn unescape_path(escaped: &str) -> Result<String, EscapeError> {
    let Some(path) = unescape_string(escaped) else {
        return Err(EscapeError::new(format!(
            "invalid escaped module path {}",
            go_quote(escaped)
        )));
    };
    path::check_path(&path).map_err(|e| {
        EscapeError::new(format!(
            "invalid escaped module path {}: {e}",
            go_quote(escaped)
        ))
    })?;
    Ok(path)
}

/// Decodes an escaped version from a URL (Go's `module.UnescapeVersion`)
/// and checks that the result is a valid file-name element.
pub fn unescape_version(escaped: &str) -> Result<String, EscapeError> {
    let Some(version) = unescape_string(escaped) else {
        return Err(EscapeError::new(format!(
            "invalid escaped version {}",
            go_quote(escaped)
        )));
    };
    // Go quotes the decoded version here, not the escaped form.
    path::check_version_elem(&version).map_err(|reason| {
        EscapeError::new(format!(
            "invalid escaped version {}: {reason}",
            go_quote(&version)
        ))
    })?;
    Ok(version)
}

fn escape_string(s: &str) -> Result<String, EscapeError> {
    // The callers' checks already exclude these, except that a version may
    // hold non-ASCII letters; Go reports that case with this same message.
    if s.chars().any(|c| c == '!' || !c.is_ascii()) {
        return Err(EscapeError::new(
            "internal error: inconsistency in EscapePath".to_owned(),
        ));
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn unescape_string(escaped: &str) -> Option<String> {
    let mut out = String::with_capacity(escaped.len());
    let mut bang = false;
    for c in escaped.chars() {
        if !c.is_ascii() {
            return None;
        }
        if bang {
            bang = false;
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// Percent-escapes an already `!`-escaped proxy path for use in a URL, as the
/// go command's proxy client does (`url.PathEscape`, then `%2F` back to `/`):
/// unreserved characters and `$&+:=@` stay, everything else, `?`, `#` and `%`
/// included, becomes `%XX`. Without it a version such as `feat#1` would reach
/// an upstream proxy as `feat`, the rest taken for a fragment.
pub fn url_path_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b':' | b'=' | b'@' | b'/'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! The expected values were produced by running the go1.27.3 toolchain's
    //! vendored `golang.org/x/mod/module` on these inputs.

    use super::*;

    fn expect(got: Result<String, EscapeError>, want: &str, want_err: &str, what: &str) {
        match got {
            Ok(s) => {
                assert!(
                    want_err.is_empty(),
                    "{what}: got {s:?}, want error {want_err:?}"
                );
                assert_eq!(s, want, "{what}");
            }
            Err(e) => assert_eq!(e.to_string(), want_err, "{what}"),
        }
    }

    #[test]
    fn escape_path_matches_go() {
        for &(path, want, err) in ESCAPE_PATHS {
            expect(
                escape_path(path),
                want,
                err,
                &format!("EscapePath({path:?})"),
            );
        }
    }

    #[test]
    fn escape_version_matches_go() {
        for &(version, want, err) in ESCAPE_VERSIONS {
            expect(
                escape_version(version),
                want,
                err,
                &format!("EscapeVersion({version:?})"),
            );
        }
    }

    #[test]
    fn unescape_path_matches_go() {
        for &(escaped, want, err) in UNESCAPE_PATHS {
            expect(
                unescape_path(escaped),
                want,
                err,
                &format!("UnescapePath({escaped:?})"),
            );
        }
    }

    #[test]
    fn unescape_version_matches_go() {
        for &(escaped, want, err) in UNESCAPE_VERSIONS {
            expect(
                unescape_version(escaped),
                want,
                err,
                &format!("UnescapeVersion({escaped:?})"),
            );
        }
    }

    #[test]
    fn escaping_round_trips() {
        for &(path, escaped, err) in ESCAPE_PATHS {
            if err.is_empty() {
                assert_eq!(unescape_path(escaped).as_deref(), Ok(path));
            }
        }
        for &(version, escaped, err) in ESCAPE_VERSIONS {
            if err.is_empty() {
                assert_eq!(unescape_version(escaped).as_deref(), Ok(version));
            }
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let long = [
            "!a".repeat(4096),
            "A".repeat(8192),
            format!("x.y/{}", "!".repeat(8192)),
        ];
        let odd = [
            "",
            "!",
            "\0",
            "!\0",
            "\u{e9}",
            "!\u{e9}",
            "\u{fffd}",
            "x.y/!\u{10ffff}",
        ];
        for s in long.iter().map(String::as_str).chain(odd) {
            let _ = escape_path(s);
            let _ = escape_version(s);
            let _ = unescape_path(s);
            let _ = unescape_version(s);
        }
    }

    /// (path, EscapePath result, EscapePath error).
    #[rustfmt::skip]
    const ESCAPE_PATHS: &[(&str, &str, &str)] = &[
        ("x.y", "x.y", ""),
        ("x.y/z", "x.y/z", ""),
        ("x.y/z/w", "x.y/z/w", ""),
        ("example.com", "example.com", ""),
        ("x.y/-z", "x.y/-z", ""),
        ("x.y/z-", "x.y/z-", ""),
        ("x.y/z..w", "x.y/z..w", ""),
        ("x..y/z", "x..y/z", ""),
        ("x.y/z.w", "x.y/z.w", ""),
        ("x.y/z~", "x.y/z~", ""),
        ("x.y/~", "x.y/~", ""),
        ("x.y/z~1a", "x.y/z~1a", ""),
        ("x.y/z~a1", "x.y/z~a1", ""),
        ("x.y/z~1~", "x.y/z~1~", ""),
        ("x.y/~z", "x.y/~z", ""),
        ("x.y.z/w", "x.y.z/w", ""),
        ("x.y/Z", "x.y/!z", ""),
        ("x.y/ZZ/Top", "x.y/!z!z/!top", ""),
        ("github.com/Azure/azure-sdk-for-go", "github.com/!azure/azure-sdk-for-go", ""),
        ("github.com/GoogleCloudPlatform/cloudsql-proxy", "github.com/!google!cloud!platform/cloudsql-proxy", ""),
        ("github.com/Sirupsen/logrus", "github.com/!sirupsen/logrus", ""),
        ("rsc.io/QUOTE", "rsc.io/!q!u!o!t!e", ""),
        ("rsc.io/quote", "rsc.io/quote", ""),
        ("rsc.io/quote/v3", "rsc.io/quote/v3", ""),
        ("example.com/v2", "example.com/v2", ""),
        ("example.com/a/v2", "example.com/a/v2", ""),
        ("example.com/a/v10", "example.com/a/v10", ""),
        ("example.com/a/v", "example.com/a/v", ""),
        ("example.com/a/vv2", "example.com/a/vv2", ""),
        ("example.com/a/v2/b", "example.com/a/v2/b", ""),
        ("example.com/a/V2", "example.com/a/!v2", ""),
        ("example.com/a/v9999999999", "example.com/a/v9999999999", ""),
        ("example.com/a-v2", "example.com/a-v2", ""),
        ("example.com/a.v2", "example.com/a.v2", ""),
        ("example.com/2", "example.com/2", ""),
        ("example.com/a/2", "example.com/a/2", ""),
        ("x.y/v2", "x.y/v2", ""),
        ("example.com/a/v2/v3", "example.com/a/v2/v3", ""),
        ("gopkg.in/yaml.v0", "gopkg.in/yaml.v0", ""),
        ("gopkg.in/yaml.v1", "gopkg.in/yaml.v1", ""),
        ("gopkg.in/yaml.v2", "gopkg.in/yaml.v2", ""),
        ("gopkg.in/yaml.v10", "gopkg.in/yaml.v10", ""),
        ("gopkg.in/yaml.v2-unstable", "gopkg.in/yaml.v2-unstable", ""),
        ("gopkg.in/yaml.v1-unstable", "gopkg.in/yaml.v1-unstable", ""),
        ("gopkg.in/user/pkg.v3", "gopkg.in/user/pkg.v3", ""),
        ("gopkg.in/check.v1", "gopkg.in/check.v1", ""),
        ("gopkg.in/Yaml.v2", "gopkg.in/!yaml.v2", ""),
        ("gopkg.in", "gopkg.in", ""),
        ("gopkg.inx/yaml", "gopkg.inx/yaml", ""),
        ("x.y/conx", "x.y/conx", ""),
        ("x.y/xcon", "x.y/xcon", ""),
        ("x.y/com0", "x.y/com0", ""),
        ("x.y/com10", "x.y/com10", ""),
        ("x.y/lpt10", "x.y/lpt10", ""),
        ("127.0.0.1/x", "127.0.0.1/x", ""),
        ("a.b.c.d.e/f/g/h", "a.b.c.d.e/f/g/h", ""),
        ("1.2/x", "1.2/x", ""),
        ("x-.y/z", "x-.y/z", ""),
        ("x.-y/z", "x.-y/z", ""),
        ("x.y-/z", "x.y-/z", ""),
        ("x.y/a~b", "x.y/a~b", ""),
        ("x.y/a_b", "x.y/a_b", ""),
        ("x.y/_", "x.y/_", ""),
        ("x.y/-", "x.y/-", ""),
        ("x.y/a-", "x.y/a-", ""),
        ("xxxxxxxxxx.y/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "xxxxxxxxxx.y/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", ""),
        ("go.mod", "go.mod", ""),
        ("x.y/z-w", "x.y/z-w", ""),
        ("x-y.z/w", "x-y.z/w", ""),
        ("x.y/z_w", "x.y/z_w", ""),
        ("x.y/z~w", "x.y/z~w", ""),
        ("", "", "malformed module path \"\": empty string"),
        ("example.com/", "", "malformed module path \"example.com/\": trailing slash"),
        ("example.com//x", "", "malformed module path \"example.com//x\": double slash"),
        ("-x.y/z", "", "malformed module path \"-x.y/z\": leading dash"),
        (".", "", "malformed module path \".\": invalid path element \".\""),
        ("...", "", "malformed module path \"...\": invalid path element \"...\""),
        ("x.y/..", "", "malformed module path \"x.y/..\": invalid path element \"..\""),
        ("x.y/z/../w", "", "malformed module path \"x.y/z/../w\": invalid path element \"..\""),
        ("x./z", "", "malformed module path \"x./z\": trailing dot in path element"),
        ("x.y/.z", "", "malformed module path \"x.y/.z\": leading dot in path element"),
        ("x.y/~1", "", "malformed module path \"x.y/~1\": trailing tilde and digits in path element"),
        ("x.y/z~12", "", "malformed module path \"x.y/z~12\": trailing tilde and digits in path element"),
        ("x.y/z~0", "", "malformed module path \"x.y/z~0\": trailing tilde and digits in path element"),
        ("x~y.z/w", "", "malformed module path \"x~y.z/w\": invalid char '~' in first path element"),
        ("x.Y/z", "", "malformed module path \"x.Y/z\": invalid char 'Y' in first path element"),
        ("example.com/a/v1", "", "malformed module path \"example.com/a/v1\": invalid version"),
        ("example.com/a/v2.0", "", "malformed module path \"example.com/a/v2.0\": invalid version"),
        ("example.com/a/v1.2", "", "malformed module path \"example.com/a/v1.2\": invalid version"),
        ("example.com/v1", "", "malformed module path \"example.com/v1\": invalid version"),
        ("v2", "", "malformed module path \"v2\": missing dot in first path element"),
    ];
    /// (version, EscapeVersion result, EscapeVersion error).
    #[rustfmt::skip]
    const ESCAPE_VERSIONS: &[(&str, &str, &str)] = &[
        ("v1.0.0", "v1.0.0", ""),
        ("v1.0.0-RC1", "v1.0.0-!r!c1", ""),
        ("v1.0.0-rc1", "v1.0.0-rc1", ""),
        ("V1", "!v1", ""),
        ("master", "master", ""),
        ("Master", "!master", ""),
        ("", "", "version \"\" invalid: disallowed version string"),
        (".", "", "version \".\" invalid: disallowed version string"),
        ("..", "", "version \"..\" invalid: disallowed version string"),
        ("v1.0.0/x", "", "version \"v1.0.0/x\" invalid: disallowed version string"),
        ("v1 0", "v1 0", ""),
        ("v1!", "", "version \"v1!\" invalid: disallowed version string"),
        ("!v1", "", "version \"!v1\" invalid: disallowed version string"),
        ("v1.0.0-!r", "", "version \"v1.0.0-!r\" invalid: disallowed version string"),
        ("con", "", "version \"con\" invalid: disallowed version string"),
        ("CON.txt", "", "version \"CON.txt\" invalid: disallowed version string"),
        ("v1~1", "v1~1", ""),
        ("x~", "x~", ""),
        ("v1.0.0-\u{e9}", "", "internal error: inconsistency in EscapePath"),
        ("\u{c9}t\u{e9}", "", "internal error: inconsistency in EscapePath"),
        ("v1\0", "", "version \"v1\\x00\" invalid: disallowed version string"),
        ("a:b", "", "version \"a:b\" invalid: disallowed version string"),
        ("a*b", "", "version \"a*b\" invalid: disallowed version string"),
        ("-v1", "-v1", ""),
        ("v1.", "", "version \"v1.\" invalid: disallowed version string"),
        (".v1", ".v1", ""),
        ("v1+incompatible", "v1+incompatible", ""),
        ("v1.0.0+Meta", "v1.0.0+!meta", ""),
        ("ABC", "!a!b!c", ""),
        ("a%2Fb", "a%2!fb", ""),
        ("a@b", "a@b", ""),
        ("\u{fffd}", "", "version \"\u{fffd}\" invalid: disallowed version string"),
        ("v1\n", "", "version \"v1\\n\" invalid: disallowed version string"),
        ("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567", ""),
        ("HEAD", "!h!e!a!d", ""),
        ("refs/heads/x", "", "version \"refs/heads/x\" invalid: disallowed version string"),
        ("a b", "a b", ""),
    ];
    /// (escaped, UnescapePath result, UnescapePath error).
    #[rustfmt::skip]
    const UNESCAPE_PATHS: &[(&str, &str, &str)] = &[
        ("github.com/!azure/azure-sdk-for-go", "github.com/Azure/azure-sdk-for-go", ""),
        ("github.com/Azure/x", "", "invalid escaped module path \"github.com/Azure/x\""),
        ("github.com/!!azure", "", "invalid escaped module path \"github.com/!!azure\""),
        ("github.com/!", "", "invalid escaped module path \"github.com/!\""),
        ("github.com/!0", "", "invalid escaped module path \"github.com/!0\""),
        ("github.com/!A", "", "invalid escaped module path \"github.com/!A\""),
        ("github.com/!-", "", "invalid escaped module path \"github.com/!-\""),
        ("github.com/\u{e9}", "", "invalid escaped module path \"github.com/\u{e9}\""),
        ("!github.com/x", "", "invalid escaped module path \"!github.com/x\": malformed module path \"Github.com/x\": invalid char 'G' in first path element"),
        ("rsc.io/!q!u!o!t!e", "rsc.io/QUOTE", ""),
        ("rsc.io/quote", "rsc.io/quote", ""),
        ("", "", "invalid escaped module path \"\": malformed module path \"\": empty string"),
        ("!", "", "invalid escaped module path \"!\""),
        ("!!", "", "invalid escaped module path \"!!\""),
        ("x.y/!z!", "", "invalid escaped module path \"x.y/!z!\""),
        ("x.y/z!", "", "invalid escaped module path \"x.y/z!\""),
        ("x.y/!zz/v2", "x.y/Zz/v2", ""),
        ("x.y//z", "", "invalid escaped module path \"x.y//z\": malformed module path \"x.y//z\": double slash"),
        ("x.y/!c!o!n", "", "invalid escaped module path \"x.y/!c!o!n\": malformed module path \"x.y/CON\": \"CON\" disallowed as path element component on Windows"),
        ("x.y/z%21", "", "invalid escaped module path \"x.y/z%21\": malformed module path \"x.y/z%21\": invalid char '%'"),
        ("x.y/z\0", "", "invalid escaped module path \"x.y/z\\x00\": malformed module path \"x.y/z\\x00\": invalid char '\\x00'"),
        ("gopkg.in/!yaml.v2", "gopkg.in/Yaml.v2", ""),
        ("gopkg.in/yaml.v1", "gopkg.in/yaml.v1", ""),
        ("example.com/a/v1", "", "invalid escaped module path \"example.com/a/v1\": malformed module path \"example.com/a/v1\": invalid version"),
        ("x.y/!", "", "invalid escaped module path \"x.y/!\""),
        ("v1.0.0", "v1.0.0", ""),
        ("v1.0.0-!r!c1", "", "invalid escaped module path \"v1.0.0-!r!c1\": malformed module path \"v1.0.0-RC1\": invalid char 'R' in first path element"),
        ("v1.0.0-RC1", "", "invalid escaped module path \"v1.0.0-RC1\""),
        ("v1.0.0-!R", "", "invalid escaped module path \"v1.0.0-!R\""),
        ("!v1", "", "invalid escaped module path \"!v1\": malformed module path \"V1\": missing dot in first path element"),
        ("v1!", "", "invalid escaped module path \"v1!\""),
        (".", "", "invalid escaped module path \".\": malformed module path \".\": invalid path element \".\""),
        ("..", "", "invalid escaped module path \"..\": malformed module path \"..\": invalid path element \"..\""),
        ("con", "", "invalid escaped module path \"con\": malformed module path \"con\": \"con\" disallowed as path element component on Windows"),
        ("!c!o!n.txt", "", "invalid escaped module path \"!c!o!n.txt\": malformed module path \"CON.txt\": \"CON\" disallowed as path element component on Windows"),
        ("x/y", "", "invalid escaped module path \"x/y\": malformed module path \"x/y\": missing dot in first path element"),
        ("v1~1", "", "invalid escaped module path \"v1~1\": malformed module path \"v1~1\": trailing tilde and digits in path element"),
        ("v1 0", "", "invalid escaped module path \"v1 0\": malformed module path \"v1 0\": invalid char ' '"),
        ("a:b", "", "invalid escaped module path \"a:b\": malformed module path \"a:b\": invalid char ':'"),
        ("\u{e9}", "", "invalid escaped module path \"\u{e9}\""),
        ("!\u{e9}", "", "invalid escaped module path \"!\u{e9}\""),
        ("ma!s!t!e!r", "", "invalid escaped module path \"ma!s!t!e!r\": malformed module path \"maSTER\": missing dot in first path element"),
        ("x.y/Z", "", "invalid escaped module path \"x.y/Z\""),
        ("x.y/ZZ/Top", "", "invalid escaped module path \"x.y/ZZ/Top\""),
        ("github.com/Azure/azure-sdk-for-go", "", "invalid escaped module path \"github.com/Azure/azure-sdk-for-go\""),
        ("github.com/GoogleCloudPlatform/cloudsql-proxy", "", "invalid escaped module path \"github.com/GoogleCloudPlatform/cloudsql-proxy\""),
        ("github.com/Sirupsen/logrus", "", "invalid escaped module path \"github.com/Sirupsen/logrus\""),
        ("rsc.io/QUOTE", "", "invalid escaped module path \"rsc.io/QUOTE\""),
        ("example.com/a/V2", "", "invalid escaped module path \"example.com/a/V2\""),
        ("gopkg.in/Yaml.v2", "", "invalid escaped module path \"gopkg.in/Yaml.v2\""),
        ("x.Y/z", "", "invalid escaped module path \"x.Y/z\""),
    ];
    /// (escaped, UnescapeVersion result, UnescapeVersion error).
    #[rustfmt::skip]
    const UNESCAPE_VERSIONS: &[(&str, &str, &str)] = &[
        ("github.com/!azure/azure-sdk-for-go", "", "invalid escaped version \"github.com/Azure/azure-sdk-for-go\": invalid char '/'"),
        ("github.com/Azure/x", "", "invalid escaped version \"github.com/Azure/x\""),
        ("github.com/!!azure", "", "invalid escaped version \"github.com/!!azure\""),
        ("github.com/!", "", "invalid escaped version \"github.com/!\""),
        ("github.com/!0", "", "invalid escaped version \"github.com/!0\""),
        ("github.com/!A", "", "invalid escaped version \"github.com/!A\""),
        ("github.com/!-", "", "invalid escaped version \"github.com/!-\""),
        ("github.com/\u{e9}", "", "invalid escaped version \"github.com/\u{e9}\""),
        ("!github.com/x", "", "invalid escaped version \"Github.com/x\": invalid char '/'"),
        ("rsc.io/!q!u!o!t!e", "", "invalid escaped version \"rsc.io/QUOTE\": invalid char '/'"),
        ("rsc.io/quote", "", "invalid escaped version \"rsc.io/quote\": invalid char '/'"),
        ("", "", "invalid escaped version \"\": empty path element"),
        ("!", "", "invalid escaped version \"!\""),
        ("!!", "", "invalid escaped version \"!!\""),
        ("x.y/!z!", "", "invalid escaped version \"x.y/!z!\""),
        ("x.y/z!", "", "invalid escaped version \"x.y/z!\""),
        ("x.y/!zz/v2", "", "invalid escaped version \"x.y/Zz/v2\": invalid char '/'"),
        ("x.y//z", "", "invalid escaped version \"x.y//z\": invalid char '/'"),
        ("x.y/!c!o!n", "", "invalid escaped version \"x.y/CON\": invalid char '/'"),
        ("x.y/z%21", "", "invalid escaped version \"x.y/z%21\": invalid char '/'"),
        ("x.y/z\0", "", "invalid escaped version \"x.y/z\\x00\": invalid char '/'"),
        ("gopkg.in/!yaml.v2", "", "invalid escaped version \"gopkg.in/Yaml.v2\": invalid char '/'"),
        ("gopkg.in/yaml.v1", "", "invalid escaped version \"gopkg.in/yaml.v1\": invalid char '/'"),
        ("example.com/a/v1", "", "invalid escaped version \"example.com/a/v1\": invalid char '/'"),
        ("x.y/!", "", "invalid escaped version \"x.y/!\""),
        ("v1.0.0", "v1.0.0", ""),
        ("v1.0.0-!r!c1", "v1.0.0-RC1", ""),
        ("v1.0.0-RC1", "", "invalid escaped version \"v1.0.0-RC1\""),
        ("v1.0.0-!R", "", "invalid escaped version \"v1.0.0-!R\""),
        ("!v1", "V1", ""),
        ("v1!", "", "invalid escaped version \"v1!\""),
        (".", "", "invalid escaped version \".\": invalid path element \".\""),
        ("..", "", "invalid escaped version \"..\": invalid path element \"..\""),
        ("con", "", "invalid escaped version \"con\": \"con\" disallowed as path element component on Windows"),
        ("!c!o!n.txt", "", "invalid escaped version \"CON.txt\": \"CON\" disallowed as path element component on Windows"),
        ("x/y", "", "invalid escaped version \"x/y\": invalid char '/'"),
        ("v1~1", "v1~1", ""),
        ("v1 0", "v1 0", ""),
        ("a:b", "", "invalid escaped version \"a:b\": invalid char ':'"),
        ("\u{e9}", "", "invalid escaped version \"\u{e9}\""),
        ("!\u{e9}", "", "invalid escaped version \"!\u{e9}\""),
        ("ma!s!t!e!r", "maSTER", ""),
        ("v1.0.0", "v1.0.0", ""),
        ("v1.0.0-RC1", "", "invalid escaped version \"v1.0.0-RC1\""),
        ("v1.0.0-rc1", "v1.0.0-rc1", ""),
        ("V1", "", "invalid escaped version \"V1\""),
        ("master", "master", ""),
        ("Master", "", "invalid escaped version \"Master\""),
        ("", "", "invalid escaped version \"\": empty path element"),
        (".", "", "invalid escaped version \".\": invalid path element \".\""),
        ("..", "", "invalid escaped version \"..\": invalid path element \"..\""),
        ("v1.0.0/x", "", "invalid escaped version \"v1.0.0/x\": invalid char '/'"),
        ("v1 0", "v1 0", ""),
        ("v1!", "", "invalid escaped version \"v1!\""),
        ("!v1", "V1", ""),
        ("v1.0.0-!r", "v1.0.0-R", ""),
        ("con", "", "invalid escaped version \"con\": \"con\" disallowed as path element component on Windows"),
        ("CON.txt", "", "invalid escaped version \"CON.txt\""),
        ("v1~1", "v1~1", ""),
        ("x~", "x~", ""),
        ("v1.0.0-\u{e9}", "", "invalid escaped version \"v1.0.0-\u{e9}\""),
        ("\u{c9}t\u{e9}", "", "invalid escaped version \"\u{c9}t\u{e9}\""),
        ("v1\0", "", "invalid escaped version \"v1\\x00\": invalid char '\\x00'"),
        ("a:b", "", "invalid escaped version \"a:b\": invalid char ':'"),
        ("a*b", "", "invalid escaped version \"a*b\": invalid char '*'"),
        ("-v1", "-v1", ""),
        ("v1.", "", "invalid escaped version \"v1.\": trailing dot in path element"),
        (".v1", ".v1", ""),
        ("v1+incompatible", "v1+incompatible", ""),
        ("v1.0.0+Meta", "", "invalid escaped version \"v1.0.0+Meta\""),
        ("ABC", "", "invalid escaped version \"ABC\""),
        ("a%2Fb", "", "invalid escaped version \"a%2Fb\""),
        ("a@b", "a@b", ""),
        ("\u{fffd}", "", "invalid escaped version \"\u{fffd}\""),
        ("v1\n", "", "invalid escaped version \"v1\\n\": invalid char '\\n'"),
        ("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567", ""),
        ("HEAD", "", "invalid escaped version \"HEAD\""),
        ("refs/heads/x", "", "invalid escaped version \"refs/heads/x\": invalid char '/'"),
        ("a b", "a b", ""),
    ];

    #[test]
    fn url_path_escape_is_go_path_escape_keeping_slashes() {
        // Expected values are Go's strings.ReplaceAll(url.PathEscape(s), "%2F", "/").
        for (input, want) in [
            (
                "github.com/!azure/go@v/v1.0.0.info",
                "github.com/%21azure/go@v/v1.0.0.info",
            ),
            ("m/@v/feat#1.info", "m/@v/feat%231.info"),
            ("m/@v/a%b?c;d,e.info", "m/@v/a%25b%3Fc%3Bd%2Ce.info"),
            ("m/@v/$&+:=@~_-.info", "m/@v/$&+:=@~_-.info"),
            ("m/@v/ é.info", "m/@v/%20%C3%A9.info"),
            ("m/@v/'()*!.info", "m/@v/%27%28%29%2A%21.info"),
        ] {
            assert_eq!(url_path_escape(input), want, "{input}");
        }
    }
}
