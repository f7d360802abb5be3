//! Reading `go-import` meta tags from a discovery page (with the go
//! command's lenient XML tokenizer, in `xml`) and choosing the one that
//! applies to an import path, `mod` entries preferred over VCS entries for
//! the same prefix.

use super::xml::{Token, Tokenizer};
use super::{MetaImport, has_path_prefix};

/// Why no tag was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    /// No tag's prefix is a path prefix of the import path; the text lists
    /// the ones that were not.
    Mismatch(String),
    /// More than one tag matches.
    Multiple(String),
}

/// Orders tags as the go command sees them in module mode: all `mod`
/// entries first, then the VCS entries whose prefix has no `mod` entry
/// (a `mod` entry shadows VCS entries for the same prefix).
fn prefer_mod(imports: &[MetaImport]) -> Vec<MetaImport> {
    let mods: Vec<&MetaImport> = imports.iter().filter(|m| m.vcs == "mod").collect();
    let shadowed = |p: &str| mods.iter().any(|m| m.prefix == p);
    mods.iter()
        .map(|m| (*m).clone())
        .chain(
            imports
                .iter()
                .filter(|m| m.vcs != "mod" && !shadowed(&m.prefix))
                .cloned(),
        )
        .collect()
}

/// Chooses the tag for `import_path` from a page's tags (in document
/// order), as the go command does in module mode: `mod` entries are
/// preferred, so a matching `mod` entry wins over any matching VCS entry,
/// while two matching entries of the same sort are an error.
pub fn match_go_import(
    imports: &[MetaImport],
    import_path: &str,
) -> Result<MetaImport, MatchError> {
    let ordered = prefer_mod(imports);
    let mut chosen: Option<&MetaImport> = None;
    let mut mismatches = Vec::new();
    for im in &ordered {
        if !has_path_prefix(import_path, &im.prefix) {
            mismatches.push(format!(
                "meta tag {} did not match import path {import_path}",
                im.prefix
            ));
            continue;
        }
        if let Some(prev) = chosen {
            if prev.vcs == "mod" && im.vcs != "mod" {
                // Every mod entry precedes every VCS entry: the mod match
                // stands and the rest does not matter.
                break;
            }
            return Err(MatchError::Multiple(format!(
                "multiple meta tags match import path {import_path:?}"
            )));
        }
        chosen = Some(im);
    }
    chosen
        .cloned()
        .ok_or_else(|| MatchError::Mismatch(mismatches.join(", ")))
}

/// The `go-import` meta tags of an HTML page, in document order, read as the
/// go command reads them: with Go's non-strict XML tokenizer, only up to
/// `</head>` or `<body>`, tag and attribute names compared without case,
/// and only tags whose content has three or four fields. A syntax error
/// ends the scan; the tags found before it still count (and if there were
/// none, the go command reports the error, which [`repo_root`] does too).
pub fn parse_meta_go_imports(html: &[u8]) -> Vec<MetaImport> {
    parse_page(html).0
}

/// The tags, and the syntax error that ended the scan if it found none.
pub(super) fn parse_page(html: &[u8]) -> (Vec<MetaImport>, Option<String>) {
    let mut tokens = Tokenizer { s: html, pos: 0 };
    let mut imports = Vec::new();
    loop {
        let token = match tokens.raw_token() {
            Ok(Some(t)) => t,
            Ok(None) => break,
            Err(e) => {
                if imports.is_empty() {
                    return (imports, Some(e));
                }
                break;
            }
        };
        let (name, attrs, empty) = match token {
            Token::Start { name, attrs, empty } => (name, attrs, empty),
            Token::End(name) if name.eq_ignore_ascii_case("head") => break,
            Token::End(_) | Token::Other => continue,
        };
        if name.eq_ignore_ascii_case("body") {
            break;
        }
        if name.eq_ignore_ascii_case("meta") && attr_value(&attrs, "name") == "go-import" {
            let f: Vec<&str> = attr_value(&attrs, "content").split_whitespace().collect();
            if f.len() == 3 || f.len() == 4 {
                imports.push(MetaImport {
                    prefix: f[0].to_string(),
                    vcs: f[1].to_string(),
                    repo_root: f[2].to_string(),
                    subdir: f.get(3).map(|s| s.to_string()).unwrap_or_default(),
                });
            }
        }
        // `<head/>` closes the head at once.
        if empty && name.eq_ignore_ascii_case("head") {
            break;
        }
    }
    (imports, None)
}

/// The value of the first attribute whose local name is `name`, ignoring
/// case; empty if there is none.
fn attr_value<'a>(attrs: &'a [(String, String)], name: &str) -> &'a str {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected outputs in testdata/ come from the go command itself (see
    // testdata/README.md for how they were made).

    /// One page, as a string, or as an array of bytes when it is not UTF-8.
    fn page_bytes(v: &serde_json::Value) -> Vec<u8> {
        match v {
            serde_json::Value::String(s) => s.as_bytes().to_vec(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()).unwrap())
                .collect(),
            other => panic!("not a page: {other}"),
        }
    }

    /// (page, what Go's parseMetaGoImports returns ignoring `mod` entries
    /// (the VCS entries in document order), what it returns in module mode
    /// (`mod` entries first, then the VCS entries they do not shadow), its
    /// error (reported only when no tag was found)).
    type HtmlCase = (
        serde_json::Value,
        Vec<[String; 4]>,
        Vec<[String; 4]>,
        String,
    );

    fn fields(list: &[MetaImport]) -> Vec<[String; 4]> {
        list.iter()
            .map(|m| {
                [
                    m.prefix.clone(),
                    m.vcs.clone(),
                    m.repo_root.clone(),
                    m.subdir.clone(),
                ]
            })
            .collect()
    }

    #[test]
    fn meta_tags_agree_with_go() {
        let cases: Vec<HtmlCase> =
            serde_json::from_str(include_str!("../../testdata/meta_tags.json")).unwrap();
        assert!(!cases.is_empty());
        let mut wrong = Vec::new();
        for (page, ignore_mod, want_prefer_mod, want_err) in cases {
            let bytes = page_bytes(&page);
            let html = String::from_utf8_lossy(&bytes);
            let (found, err) = parse_page(&bytes);
            assert_eq!(found, parse_meta_go_imports(&bytes));
            let vcs_only: Vec<MetaImport> =
                found.iter().filter(|m| m.vcs != "mod").cloned().collect();
            if fields(&vcs_only) != ignore_mod {
                wrong.push(format!("{html:?}: got {:?}", fields(&found)));
            }
            if fields(&prefer_mod(&found)) != want_prefer_mod {
                wrong.push(format!(
                    "{html:?}: preferring mod, got {:?}",
                    fields(&found)
                ));
            }
            if err.as_deref().unwrap_or("") != want_err {
                wrong.push(format!("{html:?}: error {err:?}, want {want_err:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// (page, import path, "ok:<prefix>|<vcs>|<repo>|<subdir>" | "err:<message>").
    type MatchCase = (String, String, String);

    #[test]
    fn tag_choice_agrees_with_go() {
        let cases: Vec<MatchCase> =
            serde_json::from_str(include_str!("../../testdata/tag_choice.json")).unwrap();
        assert!(!cases.is_empty());
        for (html, path, want) in cases {
            let got = match match_go_import(&parse_meta_go_imports(html.as_bytes()), &path) {
                Ok(m) => format!("ok:{}|{}|{}|{}", m.prefix, m.vcs, m.repo_root, m.subdir),
                Err(MatchError::Mismatch(e) | MatchError::Multiple(e)) => format!("err:{e}"),
            };
            assert_eq!(got, want, "{html} for {path}");
        }
    }
}
