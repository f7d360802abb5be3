//! Athens' download modes: what a proxy does when a requested version is not in storage
//! (gomods/athens `pkg/download/mode`).
//!
//! A [`DownloadFile`] is either one mode for every module (`ATHENS_DOWNLOAD_MODE=async`)
//! or an HCL file of per-pattern modes and redirect URLs (`file:PATH`, `custom:BASE64`).
//! The file is read with a parser for exactly the subset of HCL that Athens' decoder
//! accepts for it: two top-level string attributes and `download "pattern" { ... }`
//! blocks of string attributes, with HCL's comments and string escapes. Errors name the
//! line.
//!
//! Where Athens accepts a file it then misbehaves with, agora refuses it instead: an
//! unknown top-level mode (Athens answers every miss with an empty 200), and a redirect
//! with no `http://` or `https://` URL to go to (Athens answers a relative `Location`
//! that loops or points nowhere).

use std::fmt;

use crate::pattern::path_match;

/// What a storage miss does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Fetch and store now, then serve (the default).
    Sync,
    /// Start fetching in the background and answer 404.
    Async,
    /// Answer 301 to the download URL; fetch nothing.
    Redirect,
    /// Start fetching in the background and answer 301 to the download URL.
    AsyncRedirect,
    /// Answer 404; fetch nothing.
    None,
}

impl Mode {
    /// The mode Athens spells `s`.
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "sync" => Mode::Sync,
            "async" => Mode::Async,
            "redirect" => Mode::Redirect,
            "async_redirect" => Mode::AsyncRedirect,
            "none" => Mode::None,
            _ => return None,
        })
    }

    /// Athens' spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Async => "async",
            Mode::Redirect => "redirect",
            Mode::AsyncRedirect => "async_redirect",
            Mode::None => "none",
        }
    }

    /// Whether a miss is answered with a redirect.
    pub fn redirects(self) -> bool {
        matches!(self, Mode::Redirect | Mode::AsyncRedirect)
    }

    /// Whether a miss starts a fetch that the answer does not wait for.
    pub fn fetches_in_background(self) -> bool {
        matches!(self, Mode::Async | Mode::AsyncRedirect)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const MODES: &str = "sync, async, redirect, async_redirect or none";

/// One `download "pattern" { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadPath {
    /// A GOPRIVATE-style glob, matched against the module path's leading elements.
    pub pattern: String,
    /// The mode for modules it matches.
    pub mode: Mode,
    /// The redirect base for modules it matches; empty means "ask the next block".
    pub download_url: String,
}

/// The download modes in force: a default mode and URL, and per-pattern overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadFile {
    /// The mode when no block matches.
    pub mode: Mode,
    /// The redirect base when no matching block has one; may be empty when nothing
    /// redirects.
    pub download_url: String,
    /// The blocks, in file order.
    pub paths: Vec<DownloadPath>,
}

/// A download file Athens would reject, or agora refuses; `line` is 1-based, 0 when the
/// problem is not on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if *line > 0 { format!("line {line}: ") } else { String::new() })]
pub struct DownloadFileError {
    /// Where.
    pub line: usize,
    /// What.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> DownloadFileError {
    DownloadFileError {
        line,
        message: message.into(),
    }
}

impl DownloadFile {
    /// One mode for every module, redirecting (when it does) to `download_url`.
    pub fn single(mode: Mode, download_url: impl Into<String>) -> Result<Self, DownloadFileError> {
        let file = DownloadFile {
            mode,
            download_url: download_url.into(),
            paths: Vec::new(),
        };
        file.check(&[])?;
        Ok(file)
    }

    /// Parses an Athens download file (HCL).
    pub fn parse(text: &str) -> Result<Self, DownloadFileError> {
        let body = hcl::parse(text)?;
        let mut mode = None;
        let mut url = None;
        let mut paths = Vec::new();
        let mut lines = Vec::new();
        for item in body {
            match item {
                hcl::Item::Attr(a) => match a.name.as_str() {
                    "mode" => mode = Some((a.line, a.value)),
                    "downloadURL" => url = Some(a.value),
                    other => {
                        return Err(err(
                            a.line,
                            format!(
                                "unsupported argument {other:?}: the top level takes mode and \
                                 downloadURL"
                            ),
                        ));
                    }
                },
                hcl::Item::Block(b) => {
                    if b.kind != "download" {
                        return Err(err(
                            b.line,
                            format!(
                                "unsupported block type {:?}: only download blocks are allowed",
                                b.kind
                            ),
                        ));
                    }
                    let mut bmode = None;
                    let mut burl = String::new();
                    for a in b.attrs {
                        match a.name.as_str() {
                            "mode" => bmode = Some((a.line, a.value)),
                            "downloadURL" => burl = a.value,
                            other => {
                                return Err(err(
                                    a.line,
                                    format!(
                                        "unsupported argument {other:?} in download {:?}: a \
                                         block takes mode and downloadURL",
                                        b.label
                                    ),
                                ));
                            }
                        }
                    }
                    let Some((mline, m)) = bmode else {
                        return Err(err(b.line, format!("download {:?} has no mode", b.label)));
                    };
                    let mode = Mode::parse(&m).ok_or_else(|| {
                        err(
                            mline,
                            format!(
                                "unrecognized mode {m:?} for {:?}: expected {MODES}",
                                b.label
                            ),
                        )
                    })?;
                    paths.push(DownloadPath {
                        pattern: b.label,
                        mode,
                        download_url: burl,
                    });
                    lines.push(b.line);
                }
            }
        }
        let Some((mline, m)) = mode else {
            return Err(err(0, "the required argument mode is missing"));
        };
        let Some(download_url) = url else {
            return Err(err(0, "the required argument downloadURL is missing"));
        };
        let mode = Mode::parse(&m)
            .ok_or_else(|| err(mline, format!("unrecognized mode {m:?}: expected {MODES}")))?;
        let file = DownloadFile {
            mode,
            download_url,
            paths,
        };
        file.check(&lines)?;
        Ok(file)
    }

    /// Refuses URLs that are not absolute http(s) URLs, and redirects with nowhere to go.
    fn check(&self, lines: &[usize]) -> Result<(), DownloadFileError> {
        let top_ok =
            check_url(&self.download_url).map_err(|m| err(0, format!("downloadURL {m}")))?;
        if self.mode.redirects() && !top_ok {
            return Err(err(
                0,
                format!("mode {} needs a download URL to redirect to", self.mode),
            ));
        }
        for (i, p) in self.paths.iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(0);
            let has = check_url(&p.download_url)
                .map_err(|m| err(line, format!("downloadURL of {:?} {m}", p.pattern)))?;
            if p.mode.redirects() && !has && !top_ok {
                return Err(err(
                    line,
                    format!(
                        "download {:?} redirects (mode {}) but neither it nor the top level has \
                         a downloadURL",
                        p.pattern, p.mode
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The mode for `module`: the first block whose pattern matches, else the default.
    pub fn mode_for(&self, module: &str) -> Mode {
        self.paths
            .iter()
            .find(|p| matches_pattern(&p.pattern, module))
            .map_or(self.mode, |p| p.mode)
    }

    /// The redirect base for `module`: the first matching block that has a URL (a matching
    /// block without one does not end the search, as in Athens), else the default.
    pub fn url_for(&self, module: &str) -> &str {
        self.paths
            .iter()
            .find(|p| !p.download_url.is_empty() && matches_pattern(&p.pattern, module))
            .map_or(self.download_url.as_str(), |p| p.download_url.as_str())
    }

    /// Whether every module is fetched synchronously whatever its path.
    pub fn is_always_sync(&self) -> bool {
        self.mode == Mode::Sync && self.paths.iter().all(|p| p.mode == Mode::Sync)
    }
}

/// `Ok(true)` for an absolute http(s) URL with a host, `Ok(false)` for empty.
fn check_url(url: &str) -> Result<bool, String> {
    if url.is_empty() {
        return Ok(false);
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{url:?} is not an http:// or https:// URL with a host"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} has a query or fragment"));
    }
    Ok(true)
}

/// Where a redirect for `path` (the request path below any path prefix, such as
/// `/example.com/m/@v/v1.0.0.zip`) goes: the base's path joined with it. The proxy's own
/// path prefix is never part of it (gomods/athens #2028).
pub fn redirect_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Athens' `paths.MatchesPattern`: a glob with N slashes matched (Go's `path.Match`)
/// against the module path cut after its N+1-th element. A malformed glob matches
/// nothing; so does a glob with more elements than the path.
pub fn matches_pattern(pattern: &str, module: &str) -> bool {
    let slashes = pattern.bytes().filter(|&b| b == b'/').count();
    let mut cut = module.len();
    let mut seen = 0;
    for (i, b) in module.bytes().enumerate() {
        if b == b'/' {
            if seen == slashes {
                cut = i;
                break;
            }
            seen += 1;
        }
    }
    if seen < slashes {
        return false;
    }
    path_match(pattern, &module[..cut]) == Ok(true)
}

/// The HCL subset: attributes `name = "string"` and blocks `type "label" { attributes }`,
/// with `#`, `//` and `/* */` comments.
mod hcl {
    use super::{DownloadFileError, err};

    pub(super) struct Attr {
        pub line: usize,
        pub name: String,
        pub value: String,
    }

    pub(super) struct Block {
        pub line: usize,
        pub kind: String,
        pub label: String,
        pub attrs: Vec<Attr>,
    }

    pub(super) enum Item {
        Attr(Attr),
        Block(Block),
    }

    #[derive(Debug, PartialEq)]
    enum Tok {
        Ident(String),
        Str(String),
        Eq,
        Open,
        Close,
        Newline,
    }

    fn lex(text: &str) -> Result<Vec<(usize, Tok)>, DownloadFileError> {
        let mut out = Vec::new();
        let mut chars = text.chars().peekable();
        let mut line = 1;
        while let Some(c) = chars.next() {
            match c {
                '\n' => {
                    out.push((line, Tok::Newline));
                    line += 1;
                }
                ' ' | '\t' | '\r' => {}
                '#' => {
                    while chars.peek().is_some_and(|&c| c != '\n') {
                        chars.next();
                    }
                }
                '/' if chars.peek() == Some(&'/') => {
                    while chars.peek().is_some_and(|&c| c != '\n') {
                        chars.next();
                    }
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    let start = line;
                    let mut prev = ' ';
                    loop {
                        match chars.next() {
                            None => return Err(err(start, "unterminated /* comment")),
                            Some('/') if prev == '*' => break,
                            Some('\n') => {
                                // A comment spanning lines still ends the line it started on.
                                if line == start {
                                    out.push((line, Tok::Newline));
                                }
                                line += 1;
                                prev = '\n';
                            }
                            Some(c) => prev = c,
                        }
                    }
                }
                '=' => out.push((line, Tok::Eq)),
                '{' => out.push((line, Tok::Open)),
                '}' => out.push((line, Tok::Close)),
                '"' => out.push((line, Tok::Str(string(&mut chars, line)?))),
                c if c.is_alphabetic() || c == '_' => {
                    let mut s = String::from(c);
                    while let Some(&c) = chars.peek() {
                        if c.is_alphanumeric() || c == '_' || c == '-' {
                            s.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    out.push((line, Tok::Ident(s)));
                }
                other => {
                    return Err(err(
                        line,
                        format!(
                            "unexpected {other:?}: only quoted strings are supported as values"
                        ),
                    ));
                }
            }
        }
        out.push((line, Tok::Newline));
        Ok(out)
    }

    /// A quoted string after its opening quote, with HCL's escapes. Templates (`${`,
    /// `%{`) would need variables Athens never provides, so they are refused; `$${` and
    /// `%%{` stand for the literal text.
    fn string(
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        line: usize,
    ) -> Result<String, DownloadFileError> {
        let mut s = String::new();
        loop {
            let Some(c) = chars.next() else {
                return Err(err(line, "unterminated string"));
            };
            match c {
                '"' => return Ok(s),
                '\n' => return Err(err(line, "unterminated string (a newline in a string)")),
                '\\' => {
                    let e = chars
                        .next()
                        .ok_or_else(|| err(line, "unterminated string"))?;
                    match e {
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        '"' => s.push('"'),
                        '\\' => s.push('\\'),
                        'u' | 'U' => {
                            let n = if e == 'u' { 4 } else { 8 };
                            let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                            let ch = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == n)
                                .and_then(char::from_u32)
                                .ok_or_else(|| err(line, format!("invalid escape \\{e}{hex}")))?;
                            s.push(ch);
                        }
                        other => return Err(err(line, format!("invalid escape \\{other}"))),
                    }
                }
                '$' | '%' if chars.peek() == Some(&c) => {
                    chars.next();
                    if chars.peek() == Some(&'{') {
                        chars.next();
                        s.push(c);
                        s.push('{');
                    } else {
                        s.push(c);
                        s.push(c);
                    }
                }
                '$' | '%' if chars.peek() == Some(&'{') => {
                    return Err(err(line, "template sequences (${ or %{) are not supported"));
                }
                c => s.push(c),
            }
        }
    }

    pub(super) fn parse(text: &str) -> Result<Vec<Item>, DownloadFileError> {
        let toks = lex(text)?;
        let mut items = Vec::new();
        let mut i = 0;
        let mut seen_top: Vec<String> = Vec::new();
        while i < toks.len() {
            let (line, tok) = &toks[i];
            match tok {
                Tok::Newline => i += 1,
                Tok::Ident(name) => match toks.get(i + 1).map(|t| &t.1) {
                    Some(Tok::Eq) => {
                        let (attr, next) = attribute(&toks, i)?;
                        if seen_top.contains(&attr.name) {
                            return Err(err(
                                *line,
                                format!("argument {:?} was already set", attr.name),
                            ));
                        }
                        seen_top.push(attr.name.clone());
                        items.push(Item::Attr(attr));
                        i = next;
                    }
                    Some(Tok::Str(label)) => {
                        let (block, next) = block(&toks, i, name, label)?;
                        items.push(Item::Block(block));
                        i = next;
                    }
                    _ => {
                        return Err(err(
                            *line,
                            format!("expected = or a quoted block label after {name}"),
                        ));
                    }
                },
                other => {
                    return Err(err(
                        *line,
                        format!("expected an argument or a block, found {}", describe(other)),
                    ));
                }
            }
        }
        Ok(items)
    }

    fn describe(t: &Tok) -> String {
        match t {
            Tok::Ident(s) => format!("{s:?}"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Eq => "=".to_owned(),
            Tok::Open => "{".to_owned(),
            Tok::Close => "}".to_owned(),
            Tok::Newline => "the end of the line".to_owned(),
        }
    }

    /// `name = "value"` and the end of its line (or a closing brace, for a one-line
    /// block); returns the index after it.
    fn attribute(toks: &[(usize, Tok)], i: usize) -> Result<(Attr, usize), DownloadFileError> {
        let (line, Tok::Ident(name)) = &toks[i] else {
            unreachable!("called on an identifier")
        };
        let value = match toks.get(i + 2) {
            Some((_, Tok::Str(s))) => s.clone(),
            Some((l, t)) => {
                return Err(err(
                    *l,
                    format!(
                        "the value of {name} must be a quoted string, not {}",
                        describe(t)
                    ),
                ));
            }
            None => return Err(err(*line, format!("{name} has no value"))),
        };
        match toks.get(i + 3) {
            Some((_, Tok::Newline)) => {}
            Some((_, Tok::Close)) => {}
            Some((l, t)) => {
                return Err(err(
                    *l,
                    format!(
                        "expected the end of the line after {name}, found {}",
                        describe(t)
                    ),
                ));
            }
            None => {}
        }
        Ok((
            Attr {
                line: *line,
                name: name.clone(),
                value,
            },
            i + 3,
        ))
    }

    fn block(
        toks: &[(usize, Tok)],
        i: usize,
        kind: &str,
        label: &str,
    ) -> Result<(Block, usize), DownloadFileError> {
        let line = toks[i].0;
        match toks.get(i + 2) {
            Some((_, Tok::Open)) => {}
            Some((l, Tok::Str(_))) => {
                return Err(err(*l, format!("a {kind} block takes one label")));
            }
            Some((l, t)) => {
                return Err(err(
                    *l,
                    format!("expected {{ after {kind} {label:?}, found {}", describe(t)),
                ));
            }
            None => return Err(err(line, format!("{kind} {label:?} has no body"))),
        }
        let mut attrs: Vec<Attr> = Vec::new();
        let mut j = i + 3;
        loop {
            match toks.get(j) {
                None => return Err(err(line, format!("{kind} {label:?} is not closed with }}"))),
                Some((_, Tok::Newline)) => j += 1,
                Some((_, Tok::Close)) => {
                    j += 1;
                    break;
                }
                Some((l, Tok::Ident(_))) if matches!(toks.get(j + 1), Some((_, Tok::Eq))) => {
                    let (attr, next) = attribute(toks, j)?;
                    if attrs.iter().any(|a| a.name == attr.name) {
                        return Err(err(
                            *l,
                            format!(
                                "argument {:?} was already set in {kind} {label:?}",
                                attr.name
                            ),
                        ));
                    }
                    attrs.push(attr);
                    j = next;
                }
                Some((l, Tok::Ident(name))) => {
                    return Err(err(
                        *l,
                        format!("blocks cannot be nested: {name} inside {kind} {label:?}"),
                    ));
                }
                Some((l, t)) => {
                    return Err(err(
                        *l,
                        format!(
                            "expected an argument in {kind} {label:?}, found {}",
                            describe(t)
                        ),
                    ));
                }
            }
        }
        match toks.get(j) {
            Some((_, Tok::Newline)) | None => {}
            Some((l, t)) => {
                return Err(err(
                    *l,
                    format!(
                        "expected the end of the line after }}, found {}",
                        describe(t)
                    ),
                ));
            }
        }
        Ok((
            Block {
                line,
                kind: kind.to_owned(),
                label: label.to_owned(),
                attrs,
            },
            j,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gomods/athens `download.example.hcl`, as shipped.
    const ATHENS_EXAMPLE: &str = r#"downloadURL = "https://proxy.golang.org"

mode = "sync"

download "github.com/gomods/*" {
    mode = "async_redirect"
}

download "golang.org/x/*" {
    mode = "none"
}

download "github.com/pkg/*" {
    mode = "redirect"
    downloadURL = "https://gocenter.io"
}
"#;

    #[test]
    fn parses_athens_example() {
        let f = DownloadFile::parse(ATHENS_EXAMPLE).unwrap();
        assert_eq!(f.mode, Mode::Sync);
        assert_eq!(f.download_url, "https://proxy.golang.org");
        assert_eq!(f.paths.len(), 3);
        assert_eq!(f.mode_for("github.com/gomods/athens"), Mode::AsyncRedirect);
        assert_eq!(
            f.url_for("github.com/gomods/athens"),
            "https://proxy.golang.org"
        );
        assert_eq!(f.mode_for("golang.org/x/text"), Mode::None);
        assert_eq!(f.mode_for("github.com/pkg/errors"), Mode::Redirect);
        assert_eq!(f.url_for("github.com/pkg/errors"), "https://gocenter.io");
        assert_eq!(f.mode_for("rsc.io/quote"), Mode::Sync);
    }

    /// gomods/athens `pkg/download/mode/mode_test.go`'s cases (with absolute URLs: agora
    /// refuses a redirect base without a scheme, which Athens turns into a relative
    /// `Location`).
    #[test]
    fn athens_mode_test_cases() {
        let path = |pattern: &str, mode, url: &str| DownloadPath {
            pattern: pattern.into(),
            mode,
            download_url: url.into(),
        };
        let file = |mode, url: &str, paths| DownloadFile {
            mode,
            download_url: url.into(),
            paths,
        };
        let cases = [
            (
                file(Mode::Sync, "", vec![]),
                "github.com/gomods/athens",
                Mode::Sync,
                "",
            ),
            (
                file(Mode::Redirect, "https://gomods.io", vec![]),
                "github.com/gomods/athens",
                Mode::Redirect,
                "https://gomods.io",
            ),
            (
                file(
                    Mode::Sync,
                    "",
                    vec![path("github.com/gomods/*", Mode::None, "")],
                ),
                "github.com/gomods/athens",
                Mode::None,
                "",
            ),
            (
                file(Mode::Sync, "", vec![path("github.com/*", Mode::None, "")]),
                "github.com/gomods/athens/pkg/mode",
                Mode::None,
                "",
            ),
            (
                file(
                    Mode::Sync,
                    "",
                    vec![path("*.github.com/gomods/*", Mode::None, "")],
                ),
                "athens.github.com/gomods/pkg/mode",
                Mode::None,
                "",
            ),
            (
                file(
                    Mode::Sync,
                    "",
                    vec![path("github.com/gomods/*", Mode::None, "")],
                ),
                "github.com/athens-artifacts/maturelib",
                Mode::Sync,
                "",
            ),
            (
                file(
                    Mode::Sync,
                    "",
                    vec![path(
                        "github.com/gomods/*",
                        Mode::AsyncRedirect,
                        "https://gomods.io",
                    )],
                ),
                "github.com/gomods/athens",
                Mode::AsyncRedirect,
                "https://gomods.io",
            ),
            (
                file(
                    Mode::Redirect,
                    "https://proxy.golang.org",
                    vec![path(
                        "github.com/gomods/*",
                        Mode::AsyncRedirect,
                        "https://gomods.io",
                    )],
                ),
                "github.com/athens-artifacts/maturelib",
                Mode::Redirect,
                "https://proxy.golang.org",
            ),
        ];
        for (f, module, mode, url) in cases {
            f.check(&[]).unwrap();
            assert_eq!(f.mode_for(module), mode, "{module} in {f:?}");
            assert_eq!(f.url_for(module), url, "{module} in {f:?}");
        }
    }

    #[test]
    fn first_block_wins_and_urls_fall_through() {
        let f = DownloadFile::parse(
            "mode = \"sync\"\ndownloadURL = \"https://top.example\"\n\
             download \"example.com/*\" { mode = \"redirect\" }\n\
             download \"example.com/a\" {\n mode = \"none\"\n downloadURL = \"https://a.example/x/\"\n}\n",
        )
        .unwrap();
        assert_eq!(f.mode_for("example.com/a"), Mode::Redirect);
        // The first match has no URL; the next matching block's URL is used.
        assert_eq!(f.url_for("example.com/a/sub"), "https://a.example/x/");
        assert_eq!(f.url_for("example.com/b"), "https://top.example");
        assert_eq!(
            redirect_url(f.url_for("example.com/a"), "/example.com/a/@v/v1.0.0.zip"),
            "https://a.example/x/example.com/a/@v/v1.0.0.zip"
        );
    }

    #[test]
    fn comments_escapes_and_one_line_blocks() {
        let f = DownloadFile::parse(
            "# a comment\n// another\n/* a\n block */ mode = \"async\" # trailing\n\
             downloadURL = \"\"\ndownload \"ex\\u0061mple.com/*\" { mode = \"none\" }\n",
        )
        .unwrap();
        assert_eq!(f.mode, Mode::Async);
        assert_eq!(f.paths[0].pattern, "example.com/*");
    }

    #[test]
    fn errors_name_the_line() {
        let bad = [
            (
                "mode = \"sync\"\ndownloadURL = \"\"\nurl = \"x\"\n",
                3,
                "unsupported argument",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"\"\n\ndownload \"a/*\" {\n  mode = \"fast\"\n}\n",
                5,
                "unrecognized mode",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"\"\ndownload \"a/*\" {\n}\n",
                3,
                "has no mode",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"\"\nproxy \"a/*\" {\n mode = \"sync\"\n}\n",
                3,
                "unsupported block type",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"\"\ndownload \"a/*\" {\n mode = \"sync\"\n",
                3,
                "not closed",
            ),
            ("mode = sync\n", 1, "quoted string"),
            ("mode = \"sync\"\nmode = \"async\"\n", 2, "already set"),
            ("mode = \"s${x}\"\n", 1, "template"),
            ("mode = \"sync\n", 1, "unterminated"),
            (
                "mode = \"warp\"\ndownloadURL = \"\"\n",
                1,
                "unrecognized mode",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"\"\ndownload \"a\" \"b\" {\n}\n",
                3,
                "one label",
            ),
        ];
        for (text, line, what) in bad {
            let e = DownloadFile::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(what), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
        }
        for (text, what) in [
            ("downloadURL = \"\"\n", "mode is missing"),
            ("mode = \"sync\"\n", "downloadURL is missing"),
            (
                "mode = \"redirect\"\ndownloadURL = \"\"\n",
                "needs a download URL",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"gomods.io\"\n",
                "not a URL",
            ),
            (
                "mode = \"sync\"\ndownloadURL = \"ftp://x.example\"\n",
                "http://",
            ),
        ] {
            let e = DownloadFile::parse(text).unwrap_err();
            assert!(e.to_string().contains(what), "{text:?}: {e}");
        }
        let e = DownloadFile::parse(
            "mode = \"sync\"\ndownloadURL = \"\"\n\ndownload \"a/*\" {\n mode = \"redirect\"\n}\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn single_modes_check_their_url() {
        assert!(DownloadFile::single(Mode::Redirect, "").is_err());
        assert!(DownloadFile::single(Mode::AsyncRedirect, "https://x.example").is_ok());
        assert!(DownloadFile::single(Mode::None, "").is_ok());
        assert!(
            DownloadFile::single(Mode::Sync, "")
                .unwrap()
                .is_always_sync()
        );
    }

    #[test]
    fn patterns_match_leading_elements() {
        assert!(matches_pattern("*", "example.com/a/b"));
        assert!(matches_pattern("example.com/*", "example.com/a/b/c"));
        assert!(matches_pattern(
            "*.example.com/mod",
            "go.example.com/mod/sub"
        ));
        assert!(!matches_pattern("example.com/a/b", "example.com/a"));
        assert!(!matches_pattern("example.com/[", "example.com/a"));
        assert!(matches_pattern("example.com", "example.com/a"));
        assert!(!matches_pattern("example.co", "example.com/a"));
    }

    #[test]
    fn redirects_join_without_the_prefix() {
        assert_eq!(
            redirect_url("https://proxy.golang.org", "/rsc.io/quote/@v/v1.5.2.zip"),
            "https://proxy.golang.org/rsc.io/quote/@v/v1.5.2.zip"
        );
        assert_eq!(
            redirect_url("http://m.example/go/", "/a.example/!b/@v/list"),
            "http://m.example/go/a.example/!b/@v/list"
        );
    }
}
