//! The little go.mod reading direct mode needs, each as lax as the go
//! command's own for that purpose:
//!
//! * [`module_path()`]: x/mod `modfile.ModulePath`, a line scanner that never
//!   fails;
//! * [`go_lang`]: the `go` directive's language version as
//!   `modfile.ParseLax` + `version.Lang` give it to the zip rules;
//! * [`retractions`]: the `retract` directives as `ParseLax` keeps them
//!   (malformed ones are dropped silently).
//!
//! Not a full go.mod parser: a file `ParseLax` rejects outright (unbalanced
//! block, bad quoting) is still scanned line by line here. The go command
//! then ignores the file's `go` version and retractions; agora may not. Such
//! files do not occur in practice (the go command refuses to write them).

use agora_core::semver;

/// The module path declared by a go.mod file, `""` if none can be found.
pub fn module_path(gomod: &[u8]) -> String {
    for line in gomod.split(|&b| b == b'\n') {
        let line = match find(line, b"//") {
            Some(i) => &line[..i],
            None => line,
        };
        let line = trim(line);
        let Some(rest) = line.strip_prefix(b"module") else {
            continue;
        };
        let trimmed = trim(rest);
        // "module" must be followed by white space and something else.
        if trimmed.len() == rest.len() || trimmed.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(trimmed).into_owned();
        if text.starts_with('"') || text.starts_with('`') {
            return unquote(&text).unwrap_or_default();
        }
        return text;
    }
    String::new()
}

/// The language version (major, minor) of the go.mod's `go` directive, or
/// `None` when there is none or the file would not parse.
pub fn go_lang(gomod: &[u8]) -> Option<(u64, u64)> {
    let text = String::from_utf8_lossy(gomod);
    let mut found = None;
    let mut depth = 0usize;
    for line in text.lines() {
        let toks = tokens(line);
        match toks.first().map(String::as_str) {
            None => continue,
            Some(")") => {
                depth = depth.saturating_sub(1);
                continue;
            }
            _ => {}
        }
        if depth > 0 {
            continue;
        }
        if toks.last().map(String::as_str) == Some("(") {
            depth += 1;
            continue;
        }
        if toks[0] != "go" {
            continue;
        }
        if found.is_some() || toks.len() != 2 {
            // A repeated or malformed go directive makes ParseLax fail.
            return None;
        }
        found = Some(lax_go_version(&toks[1])?);
    }
    found
}

/// `modfile.GoVersionRE`, or in lax mode `laxGoVersionRE`'s `N.M` prefix,
/// reduced to (major, minor).
fn lax_go_version(v: &str) -> Option<(u64, u64)> {
    let num = |s: &str| -> Option<u64> {
        if s.is_empty()
            || !s.bytes().all(|b| b.is_ascii_digit())
            || (s.len() > 1 && s.starts_with('0'))
        {
            return None;
        }
        s.parse().ok()
    };
    // Strict form: 1.23, 1.23.4, 1.23rc1, 1.23.4rc1 (a pre-release suffix of
    // letters and digits).
    let strict = || -> Option<(u64, u64)> {
        let core_end = v.find(|c: char| c.is_ascii_lowercase()).unwrap_or(v.len());
        let (core, suffix) = v.split_at(core_end);
        if !suffix.is_empty() {
            let letters = suffix.trim_end_matches(|c: char| c.is_ascii_digit());
            if letters.len() == suffix.len() || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
                return None;
            }
        }
        let parts: Vec<&str> = core.split('.').collect();
        match parts[..] {
            [a, b] => Some((num(a)?, num(b)?)),
            [a, b, c] => {
                num(c)?;
                Some((num(a)?, num(b)?))
            }
            _ => None,
        }
    };
    if let Some(r) = strict() {
        if r.0 >= 1 {
            return Some(r);
        }
        return None;
    }
    // Lax: `v?N.M` followed by a non-digit and anything.
    let s = v.strip_prefix('v').unwrap_or(v);
    let (a, rest) = s.split_once('.')?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    let (b, _) = rest.split_at(end);
    let (a, b) = (num(a)?, num(b)?);
    (a >= 1).then_some((a, b))
}

/// The version intervals `[low, high]` retracted by a go.mod file.
pub fn retractions(gomod: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(gomod);
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        let toks = tokens(line);
        if toks.is_empty() {
            continue;
        }
        let args: &[String] = match &block {
            Some(verb) => {
                if toks[0] == ")" {
                    block = None;
                    continue;
                }
                if verb != "retract" {
                    continue;
                }
                &toks
            }
            None => {
                if toks.len() == 2 && toks[1] == "(" {
                    block = Some(toks[0].clone());
                    continue;
                }
                if toks[0] != "retract" {
                    continue;
                }
                &toks[1..]
            }
        };
        if let Some(interval) = version_interval(args) {
            out.push(interval);
        }
    }
    out
}

fn version_interval(args: &[String]) -> Option<(String, String)> {
    let canonical = |v: &str| {
        (semver::is_valid(v) && agora_core::path::canonical_version(v) == v).then(|| v.to_owned())
    };
    match args {
        [v, ..] if v != "[" => {
            let v = canonical(v)?;
            Some((v.clone(), v))
        }
        [_, low, comma, high, close, ..] if comma == "," && close == "]" => {
            Some((canonical(low)?, canonical(high)?))
        }
        _ => None,
    }
}

/// go.mod tokens of one line: `//` starts a comment; `( ) [ ] ,` are tokens
/// of their own; quoted strings are unquoted.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if line[i..].starts_with("//") {
            break;
        }
        if "()[],".contains(c) {
            out.push(c.to_string());
            chars.next();
            continue;
        }
        if c == '"' || c == '`' {
            let start = i;
            chars.next();
            let mut end = line.len();
            let mut escaped = false;
            for (j, d) in chars.by_ref() {
                if c == '"' && d == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if d == c && !escaped {
                    end = j + 1;
                    break;
                }
                escaped = false;
            }
            let raw = &line[start..end];
            out.push(unquote(raw).unwrap_or_else(|| raw.to_owned()));
            continue;
        }
        let start = i;
        let mut end = line.len();
        while let Some(&(j, d)) = chars.peek() {
            if d.is_whitespace() || "()[],\"`".contains(d) || line[j..].starts_with("//") {
                end = j;
                break;
            }
            chars.next();
        }
        out.push(line[start..end].to_owned());
    }
    out
}

/// Go string literal unquoting for the simple cases go.mod files use:
/// backquoted raw strings and double-quoted strings with `\\`, `\"`, `\n`,
/// `\t` escapes. Anything fancier yields `None`.
fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return (!inner.contains('`')).then(|| inner.to_owned());
    }
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                _ => return None,
            },
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// x/mod `modfile.AutoQuote`: the module path as it must appear after
/// `module` in a go.mod file.
pub fn auto_quote(s: &str) -> String {
    let must = s.is_empty()
        || s.contains("//")
        || s.contains("/*")
        || s.chars().any(|r| match r {
            ' ' | '"' | '\'' | '`' => true,
            '(' | ')' | '[' | ']' | '{' | '}' | ',' => s.len() > 1,
            r => r.is_control(),
        });
    if !must {
        return s.to_owned();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        assert_eq!(
            module_path(b"// c\nmodule example.com/m // x\n"),
            "example.com/m"
        );
        assert_eq!(module_path(b"module \"example.com/q\"\n"), "example.com/q");
        assert_eq!(module_path(b"modulex example.com/m\n"), "");
        assert_eq!(module_path(b"go 1.21\n"), "");
    }

    #[test]
    fn go_versions() {
        assert_eq!(go_lang(b"module m\n\ngo 1.24.1\n"), Some((1, 24)));
        assert_eq!(go_lang(b"module m\ngo 1.21\n"), Some((1, 21)));
        assert_eq!(go_lang(b"module m\ngo 1.24rc1\n"), Some((1, 24)));
        assert_eq!(go_lang(b"module m\ngo 1.22-x\n"), Some((1, 22)));
        assert_eq!(go_lang(b"module m\n"), None);
        assert_eq!(go_lang(b"module m\ngo 1.21\ngo 1.22\n"), None);
        assert_eq!(
            go_lang(b"module m\nrequire (\n\tgo 1.30\n)\ngo 1.13\n"),
            Some((1, 13))
        );
    }

    #[test]
    fn retract_directives() {
        let f = b"module m\nretract v1.0.0 // bad\nretract [v1.1.0, v1.2.0]\nretract (\n\tv0.1.0\n\t[v0.2.0, v0.3.0] // r\n\tv1.2\n)\n";
        assert_eq!(
            retractions(f),
            vec![
                ("v1.0.0".into(), "v1.0.0".into()),
                ("v1.1.0".into(), "v1.2.0".into()),
                ("v0.1.0".into(), "v0.1.0".into()),
                ("v0.2.0".into(), "v0.3.0".into()),
            ]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(auto_quote("example.com/m"), "example.com/m");
        assert_eq!(auto_quote("example.com/a b"), "\"example.com/a b\"");
    }
}
