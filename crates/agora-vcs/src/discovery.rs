//! Finding the repository for a module path, as `cmd/go/internal/vcs`
//! does, without doing the HTTP itself (the caller owns the client, its
//! timeouts, GOINSECURE and credentials).
//!
//! The flow for a path that [`static_repo_root`] does not know:
//!
//! 1. GET [`go_get_url`] (https; http only when GOINSECURE matches);
//!    redirects followed, the status ignored unless no tag is found.
//! 2. [`parse_meta_go_imports`] on the body, then [`match_go_import`].
//! 3. If the matched prefix is shorter than the path, GET the prefix's own
//!    `?go-get=1` page and require the same entry there ([`verify_prefix`]),
//!    so `uni.edu/bob/project` cannot claim `uni.edu`.
//! 4. [`repo_root`] validates the entry (subdirectory, URL scheme, VCS).
//!
//! Not here yet: the `.git`/`.hg`-qualified paths (they need scheme
//! probing), bitbucket.org (an API call) and the other legacy hosts, GOVCS.

use crate::{Error, Result};

/// One `<meta name="go-import" content="prefix vcs repo [subdir]">`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaImport {
    /// The import-path prefix the repository root corresponds to.
    pub prefix: String,
    /// `git`, `hg`, …, or `mod` for a module proxy.
    pub vcs: String,
    /// The repository URL (or, for `mod`, the proxy base URL).
    pub repo_root: String,
    /// The module's directory inside the repository (Go 1.25+), or "".
    pub subdir: String,
}

/// Where a module's code lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRoot {
    /// The repository URL.
    pub repo: String,
    /// The import path of the repository root (`code_root` of
    /// [`crate::DirectModule::new`]).
    pub root: String,
    /// Subdirectory from the go-import tag.
    pub subdir: String,
    /// `git`, `hg`, `svn`, `bzr`, `fossil` or `mod`.
    pub vcs: String,
}

/// The `?go-get=1` URL for an import path (go's `urlForImportPath`).
pub fn go_get_url(import_path: &str, insecure: bool) -> Result<String> {
    let slash = import_path.find('/').unwrap_or(import_path.len());
    let (host, path) = import_path.split_at(slash);
    if !host.contains('.') {
        return Err(Error::Invalid(format!(
            "{import_path}: import path does not begin with hostname"
        )));
    }
    let path = if path.is_empty() { "/" } else { path };
    let scheme = if insecure { "http" } else { "https" };
    Ok(format!("{scheme}://{host}{path}?go-get=1"))
}

/// The repository of paths on hosts the go command knows without asking
/// (today: github.com, the only one that needs no network to decide).
pub fn static_repo_root(import_path: &str) -> Option<RepoRoot> {
    let rest = import_path.strip_prefix("github.com/")?;
    let mut parts = rest.split('/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    };
    if !ok(owner) || !ok(repo) || !parts.all(ok) {
        return None;
    }
    let root = format!("github.com/{owner}/{repo}");
    Some(RepoRoot {
        repo: format!("https://{root}"),
        root,
        subdir: String::new(),
        vcs: "git".into(),
    })
}

/// go-import entries of an HTML page, read until `</head>` or `<body>` as
/// go's non-strict XML decoder reads them. With `prefer_mod` (module mode,
/// what a proxy uses), `mod` entries come first and hide other entries for
/// the same prefix; without it `mod` entries are dropped.
pub fn parse_meta_go_imports(html: &str, prefer_mod: bool) -> Vec<MetaImport> {
    let mut imports = Vec::new();
    for tag in Tags::new(html) {
        match tag {
            Tag::End(name) if name.eq_ignore_ascii_case("head") => break,
            Tag::Start(name, _) if name.eq_ignore_ascii_case("body") => break,
            Tag::Start(name, attrs) if name.eq_ignore_ascii_case("meta") => {
                let attr = |key: &str| {
                    attrs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("")
                };
                if attr("name") != "go-import" {
                    continue;
                }
                let f: Vec<&str> = attr("content").split_whitespace().collect();
                if f.len() == 3 || f.len() == 4 {
                    imports.push(MetaImport {
                        prefix: f[0].to_owned(),
                        vcs: f[1].to_owned(),
                        repo_root: f[2].to_owned(),
                        subdir: f.get(3).copied().unwrap_or("").to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    let mut list = Vec::new();
    let mut have = std::collections::HashSet::new();
    if prefer_mod {
        for m in imports.iter().filter(|m| m.vcs == "mod") {
            have.insert(m.prefix.clone());
            list.push(m.clone());
        }
    }
    list.extend(
        imports
            .into_iter()
            .filter(|m| m.vcs != "mod" && !have.contains(&m.prefix)),
    );
    list
}

/// The entry whose prefix is a path prefix of `import_path` (go's
/// `matchGoImport`): `mod` entries win over the rest, two other matches are
/// an error, and no match is "no go-import meta tags".
pub fn match_go_import(imports: &[MetaImport], import_path: &str) -> Result<MetaImport> {
    let mut found: Option<&MetaImport> = None;
    for im in imports {
        if !has_path_prefix(import_path, &im.prefix) {
            continue;
        }
        if let Some(prev) = found {
            if prev.vcs == "mod" && im.vcs != "mod" {
                break;
            }
            return Err(Error::NotFound(format!(
                "multiple meta tags match import path \"{import_path}\""
            )));
        }
        found = Some(im);
    }
    match found {
        Some(m) => Ok(m.clone()),
        None => {
            let prefixes: Vec<&str> = imports.iter().map(|m| m.prefix.as_str()).collect();
            Err(Error::NotFound(if prefixes.is_empty() {
                format!("no go-import meta tags for {import_path}")
            } else {
                format!(
                    "no go-import meta tags (meta tags {} do not match import path {import_path})",
                    prefixes.join(",")
                )
            }))
        }
    }
}

/// Step 3: when the matched entry's prefix is shorter than the path, the
/// prefix's own page (`prefix_imports`) must carry the same entry.
pub fn verify_prefix(matched: &MetaImport, prefix_imports: &[MetaImport]) -> Result<()> {
    match match_go_import(prefix_imports, &matched.prefix) {
        Ok(m) if m == *matched => Ok(()),
        _ => Err(Error::NotFound(format!(
            "go-import pages for {} disagree",
            matched.prefix
        ))),
    }
}

/// Step 4: the checks go applies to a matched entry before using it.
pub fn repo_root(matched: &MetaImport) -> Result<RepoRoot> {
    let sub = &matched.subdir;
    if sub.starts_with('/') || sub.starts_with('-') {
        return Err(Error::Invalid(format!(
            "invalid subdirectory {sub:?}: leading {}",
            if sub.starts_with('/') {
                "slash"
            } else {
                "hyphen"
            }
        )));
    }
    let url = &matched.repo_root;
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    let scheme_ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(Error::Invalid(format!(
            "invalid repo root {url:?}: no scheme"
        )));
    }
    if scheme.eq_ignore_ascii_case("file") {
        return Err(Error::Invalid(format!(
            "invalid repo root {url:?}: file scheme disallowed"
        )));
    }
    if !matches!(
        matched.vcs.as_str(),
        "git" | "hg" | "svn" | "bzr" | "fossil" | "mod"
    ) {
        return Err(Error::Invalid(format!("unknown vcs {:?}", matched.vcs)));
    }
    Ok(RepoRoot {
        repo: url.clone(),
        root: matched.prefix.clone(),
        subdir: sub.clone(),
        vcs: matched.vcs.clone(),
    })
}

fn has_path_prefix(s: &str, prefix: &str) -> bool {
    if s.len() == prefix.len() {
        return s == prefix;
    }
    if s.len() > prefix.len() && s.starts_with(prefix) {
        return prefix.ends_with('/') || s.as_bytes()[prefix.len()] == b'/';
    }
    false
}

/// A markup token that matters here.
enum Tag {
    Start(String, Vec<(String, String)>),
    End(String),
}

/// A lenient tag scanner in the spirit of Go's non-strict `encoding/xml`:
/// comments, CDATA, doctype and processing instructions are skipped;
/// attribute values may be double-, single- or unquoted; the common
/// entities are decoded.
struct Tags<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Tags<'a> {
    fn new(s: &'a str) -> Self {
        Tags { s, i: 0 }
    }

    fn skip_past(&mut self, end: &str) {
        self.i = match self.s[self.i..].find(end) {
            Some(k) => self.i + k + end.len(),
            None => self.s.len(),
        };
    }

    fn name(&mut self) -> String {
        let rest = &self.s[self.i..];
        let n = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/' || c == '=')
            .unwrap_or(rest.len());
        self.i += n;
        rest[..n].to_owned()
    }

    fn skip_space(&mut self) {
        let rest = &self.s[self.i..];
        self.i += rest.len() - rest.trim_start().len();
    }
}

impl Iterator for Tags<'_> {
    type Item = Tag;

    fn next(&mut self) -> Option<Tag> {
        loop {
            let k = self.s[self.i..].find('<')?;
            self.i += k;
            let rest = &self.s[self.i..];
            if rest.starts_with("<!--") {
                self.skip_past("-->");
            } else if rest.starts_with("<![CDATA[") {
                self.skip_past("]]>");
            } else if rest.starts_with("<!") || rest.starts_with("<?") {
                self.skip_past(">");
            } else if rest.starts_with("</") {
                self.i += 2;
                let name = self.name();
                self.skip_past(">");
                return Some(Tag::End(name));
            } else {
                self.i += 1;
                let name = self.name();
                if name.is_empty() {
                    continue;
                }
                let mut attrs = Vec::new();
                loop {
                    self.skip_space();
                    let rest = &self.s[self.i..];
                    if rest.is_empty() {
                        break;
                    }
                    if rest.starts_with('>') {
                        self.i += 1;
                        break;
                    }
                    if rest.starts_with("/>") {
                        self.i += 2;
                        break;
                    }
                    if rest.starts_with('/') {
                        self.i += 1;
                        continue;
                    }
                    let key = self.name();
                    if key.is_empty() {
                        // A stray '=': step over it.
                        self.i += 1;
                        continue;
                    }
                    self.skip_space();
                    let mut value = String::new();
                    if self.s[self.i..].starts_with('=') {
                        self.i += 1;
                        self.skip_space();
                        let rest = &self.s[self.i..];
                        match rest.chars().next() {
                            Some(q @ ('"' | '\'')) => {
                                let body = &rest[1..];
                                let end = body.find(q).unwrap_or(body.len());
                                value = unescape(&body[..end]);
                                self.i += 1 + (end + 1).min(body.len());
                            }
                            _ => {
                                let end = rest
                                    .find(|c: char| c.is_whitespace() || c == '>')
                                    .unwrap_or(rest.len());
                                value = unescape(&rest[..end]);
                                self.i += end;
                            }
                        }
                    }
                    attrs.push((key, value));
                }
                return Some(Tag::Start(name, attrs));
            }
        }
    }
}

/// XML's predefined entities and character references; anything else is
/// kept as written (non-strict mode).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mi(prefix: &str, vcs: &str, repo: &str, sub: &str) -> MetaImport {
        MetaImport {
            prefix: prefix.into(),
            vcs: vcs.into(),
            repo_root: repo.into(),
            subdir: sub.into(),
        }
    }

    /// cmd/go/internal/vcs discovery_test.go `parseMetaGoImportsTests`.
    #[test]
    fn parse_table() {
        let foo = mi("foo/bar", "git", "https://github.com/rsc/foo/bar", "");
        let cases: Vec<(&str, bool, Vec<MetaImport>)> = vec![
            (
                r#"<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">"#,
                false,
                vec![foo.clone()],
            ),
            (
                "<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">\n\t\t<meta name=\"go-import\" content=\"baz/quux git http://github.com/rsc/baz/quux\">",
                false,
                vec![
                    foo.clone(),
                    mi("baz/quux", "git", "http://github.com/rsc/baz/quux", ""),
                ],
            ),
            (
                "<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">\n<meta name=\"go-import\" content=\"foo/bar mod http://github.com/rsc/baz/quux\">",
                false,
                vec![foo.clone()],
            ),
            (
                "<meta name=\"go-import\" content=\"foo/bar mod http://github.com/rsc/baz/quux\">\n<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">",
                false,
                vec![foo.clone()],
            ),
            (
                "<meta name=\"go-import\" content=\"foo/bar mod http://github.com/rsc/baz/quux\">\n<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">",
                true,
                vec![mi("foo/bar", "mod", "http://github.com/rsc/baz/quux", "")],
            ),
            (
                "<head>\n<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">\n</head>",
                false,
                vec![foo.clone()],
            ),
            (
                "<meta name=\"go-import\" content=\"foo/bar git https://github.com/rsc/foo/bar\">\n<body>",
                false,
                vec![foo.clone()],
            ),
            (
                r#"<!doctype html><meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar">"#,
                false,
                vec![foo.clone()],
            ),
            (
                r#"<!doctype html><title>Page Not Found</title><meta name=go-import content="chitin.io/chitin git https://github.com/chitin-io/chitin"><div style=position:relative>DRAFT</div>"#,
                false,
                vec![mi(
                    "chitin.io/chitin",
                    "git",
                    "https://github.com/chitin-io/chitin",
                    "",
                )],
            ),
            (
                "<meta name=\"go-import\" content=\"myitcv.io git https://github.com/myitcv/x\">\n<meta name=\"go-import\" content=\"myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master\">",
                false,
                vec![mi("myitcv.io", "git", "https://github.com/myitcv/x", "")],
            ),
            (
                "<meta name=\"go-import\" content=\"myitcv.io git https://github.com/myitcv/x\">\n<meta name=\"go-import\" content=\"myitcv.io/blah2 mod https://raw.githubusercontent.com/myitcv/pubx/master\">",
                true,
                vec![
                    mi(
                        "myitcv.io/blah2",
                        "mod",
                        "https://raw.githubusercontent.com/myitcv/pubx/master",
                        "",
                    ),
                    mi("myitcv.io", "git", "https://github.com/myitcv/x", ""),
                ],
            ),
            (
                r#"<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar subdir">"#,
                false,
                vec![mi(
                    "foo/bar",
                    "git",
                    "https://github.com/rsc/foo/bar",
                    "subdir",
                )],
            ),
            (
                r#"<meta name="go-import" content="foo/bar git https://github.com/rsc/foo/bar subdir/path">"#,
                false,
                vec![mi(
                    "foo/bar",
                    "git",
                    "https://github.com/rsc/foo/bar",
                    "subdir/path",
                )],
            ),
            // agora's own: after </head> nothing counts; entities; comments.
            (
                "<head></head><meta name=\"go-import\" content=\"a.b/c git https://x/y\">",
                false,
                vec![],
            ),
            (
                "<!-- <meta name=\"go-import\" content=\"no.pe/x git https://x\"> --><META NAME=\"go-import\" CONTENT='a.b/c git https://x/y?a=1&amp;b=2'/>",
                false,
                vec![mi("a.b/c", "git", "https://x/y?a=1&b=2", "")],
            ),
        ];
        for (i, (html, prefer_mod, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                parse_meta_go_imports(html, prefer_mod),
                want,
                "case {i}: {html}"
            );
        }
    }

    /// cmd/go/internal/vcs vcs_test.go `TestMatchGoImport`.
    #[test]
    fn match_table() {
        let t = "https://example.com/repo/target";
        let foo = mi("example.com/user/foo", "git", t, "");
        let fooa = mi("example.com/user/fooa", "git", t, "");
        let bar = mi("example.com/user/foo/bar", "git", t, "");
        let ok = |imports: &[MetaImport], path: &str, want: &MetaImport| {
            assert_eq!(&match_go_import(imports, path).unwrap(), want, "{path}");
        };
        let err = |imports: &[MetaImport], path: &str| {
            assert!(match_go_import(imports, path).is_err(), "{path}");
        };
        ok(std::slice::from_ref(&foo), "example.com/user/foo", &foo);
        ok(std::slice::from_ref(&foo), "example.com/user/foo/", &foo);
        ok(&[foo.clone(), fooa.clone()], "example.com/user/foo", &foo);
        ok(&[foo.clone(), fooa.clone()], "example.com/user/fooa", &fooa);
        for p in [
            "example.com/user/foo/bar",
            "example.com/user/foo/bar/baz",
            "example.com/user/foo/bar/baz/qux",
            "example.com/user/foo/bar/baz/",
            "example.com",
        ] {
            err(&[foo.clone(), bar.clone()], p);
        }
        err(std::slice::from_ref(&foo), "different.example.com/user/foo");
        let m = mi(
            "myitcv.io/blah2",
            "mod",
            "https://raw.githubusercontent.com/myitcv/pubx/master",
            "",
        );
        let g = mi("myitcv.io", "git", "https://github.com/myitcv/x", "");
        ok(&[m.clone(), g.clone()], "myitcv.io/blah2/foo", &m);
        ok(&[m.clone(), g.clone()], "myitcv.io/other", &g);
        let s = mi("example.com/user/foo", "git", t, "subdir");
        ok(std::slice::from_ref(&s), "example.com/user/foo", &s);
    }

    #[test]
    fn roots() {
        assert_eq!(
            go_get_url("example.com/a/b", false).unwrap(),
            "https://example.com/a/b?go-get=1"
        );
        assert_eq!(
            go_get_url("example.com", true).unwrap(),
            "http://example.com/?go-get=1"
        );
        assert!(go_get_url("localhost/x", false).is_err());
        let gh = static_repo_root("github.com/rsc/quote/v3").unwrap();
        assert_eq!(
            (gh.root.as_str(), gh.repo.as_str()),
            ("github.com/rsc/quote", "https://github.com/rsc/quote")
        );
        assert!(static_repo_root("github.com/rsc").is_none());
        assert!(static_repo_root("gitlab.com/a/b").is_none());
        assert!(repo_root(&mi("a.b/c", "git", "file:///tmp/x", "")).is_err());
        assert!(repo_root(&mi("a.b/c", "git", "/tmp/x", "")).is_err());
        assert!(repo_root(&mi("a.b/c", "git", "https://x/y", "/abs")).is_err());
        assert!(repo_root(&mi("a.b/c", "cvs", "https://x/y", "")).is_err());
        let r = repo_root(&mi("a.b/c", "git", "https://x/y", "sub")).unwrap();
        assert_eq!((r.root.as_str(), r.subdir.as_str()), ("a.b/c", "sub"));
        let m = mi("a.b/c", "git", "https://x/y", "");
        assert!(verify_prefix(&m, std::slice::from_ref(&m)).is_ok());
        assert!(verify_prefix(&m, &[mi("a.b/c", "git", "https://evil/y", "")]).is_err());
    }
}
