//! The files admin commands read: go.sum files (versions and their `h1:`
//! hashes), go.mod files (their `require` lines) and lists of
//! `module@version` lines.

use std::collections::HashMap;
use std::path::Path;

use agora_core::{ModulePath, Version};
use agora_server::stash::Checksums;
use anyhow::{Context, bail};

/// The largest input file read (a go.sum of a large monorepo is a few MiB).
const MAX_INPUT: u64 = 64 << 20;

/// Reads a whole input file, bounded.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > MAX_INPUT {
        bail!(
            "{}: {} bytes is more than the {} an input file may have",
            path.display(),
            meta.len(),
            MAX_INPUT
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// `h1:` hashes from go.sum files, keyed by module and version.
#[derive(Default, Debug)]
pub struct GoSum {
    zips: HashMap<(String, String), String>,
    mods: HashMap<(String, String), String>,
}

impl GoSum {
    /// Adds the lines of one go.sum file; returns the versions it names (a
    /// `/go.mod` line names its version too), in file order, each once.
    pub fn add(&mut self, text: &str, origin: &str) -> anyhow::Result<Vec<(String, String)>> {
        let mut named = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.is_empty() {
                continue;
            }
            if f.len() != 3 || !f[2].starts_with("h1:") {
                // The go command skips hashes of other algorithms; so do we.
                if f.len() == 3 {
                    continue;
                }
                bail!("{origin}:{}: malformed go.sum line {line:?}", n + 1);
            }
            let (version, map) = match f[1].strip_suffix("/go.mod") {
                Some(v) => (v, &mut self.mods),
                None => (f[1], &mut self.zips),
            };
            let key = (f[0].to_owned(), version.to_owned());
            if let Some(old) = map.get(&key)
                && old != f[2]
            {
                bail!(
                    "{origin}:{}: {}@{} has two different hashes, {old} and {}",
                    n + 1,
                    f[0],
                    f[1],
                    f[2]
                );
            }
            map.insert(key.clone(), f[2].to_owned());
            if seen.insert(key.clone()) {
                named.push(key);
            }
        }
        Ok(named)
    }

    /// True when no go.sum line was read.
    pub fn is_empty(&self) -> bool {
        self.zips.is_empty() && self.mods.is_empty()
    }

    /// The expected zip hash.
    pub fn zip(&self, module: &str, version: &str) -> Option<&str> {
        self.zips
            .get(&(module.to_owned(), version.to_owned()))
            .map(String::as_str)
    }

    /// The expected go.mod hash.
    pub fn go_mod(&self, module: &str, version: &str) -> Option<&str> {
        self.mods
            .get(&(module.to_owned(), version.to_owned()))
            .map(String::as_str)
    }
}

impl Checksums for GoSum {
    fn zip_h1(&self, module: &ModulePath, version: &Version) -> Option<String> {
        self.zip(module.as_str(), version.as_str())
            .map(str::to_owned)
    }

    fn go_mod_h1(&self, module: &ModulePath, version: &Version) -> Option<String> {
        self.go_mod(module.as_str(), version.as_str())
            .map(str::to_owned)
    }
}

/// What kind of file a prefill input is, judged by its content.
#[derive(Debug, PartialEq, Eq)]
pub enum InputKind {
    /// `module version h1:…` lines.
    GoSum,
    /// A go.mod file.
    GoMod,
    /// `module@version` lines.
    List,
}

/// Tells a go.sum, a go.mod and a list apart.
pub fn kind_of(path: &Path, text: &str) -> InputKind {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "go.sum" || name.ends_with(".sum") {
        return InputKind::GoSum;
    }
    if name == "go.mod" || name.ends_with(".mod") {
        return InputKind::GoMod;
    }
    let mut lines = text
        .lines()
        .map(strip_comment)
        .map(str::trim)
        .filter(|l| !l.is_empty());
    match lines.next() {
        Some(l) if l.starts_with("module ") || l.starts_with("module\t") => InputKind::GoMod,
        Some(l)
            if l.split_whitespace()
                .nth(2)
                .is_some_and(|h| h.starts_with("h1:")) =>
        {
            InputKind::GoSum
        }
        _ => InputKind::List,
    }
}

fn strip_comment(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && (s.starts_with('"') && s.ends_with('"') || s.starts_with('`') && s.ends_with('`'))
    {
        s[1..s.len() - 1].to_owned()
    } else {
        s.to_owned()
    }
}

/// The `require` lines of a go.mod file, as (module, version). Other
/// directives (`replace`, `exclude`) are not applied: a proxy serves what
/// is asked of it, and a replaced module's original is what go.sum names.
pub fn go_mod_requires(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            push_require(line, &mut out);
            continue;
        }
        let Some(rest) = line
            .strip_prefix("require")
            .filter(|r| r.is_empty() || r.starts_with([' ', '\t', '(']))
        else {
            continue;
        };
        let rest = rest.trim();
        if rest == "(" {
            in_block = true;
        } else {
            push_require(rest, &mut out);
        }
    }
    out
}

fn push_require(line: &str, out: &mut Vec<(String, String)>) {
    let mut f = line.split_whitespace();
    if let (Some(p), Some(v)) = (f.next(), f.next()) {
        out.push((unquote(p), unquote(v)));
    }
}

/// `module@version` lines (`#` and `//` comments and blank lines skipped;
/// the version may be any query the go command takes, such as `latest`).
pub fn list_lines(text: &str, origin: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((m, v)) = line.split_once('@') else {
            bail!("{origin}:{}: expected module@version, got {line:?}", n + 1);
        };
        if m.is_empty() || v.is_empty() || v.contains(char::is_whitespace) {
            bail!("{origin}:{}: expected module@version, got {line:?}", n + 1);
        }
        out.push((m.to_owned(), v.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_sum_lines_name_each_version_once() {
        let mut s = GoSum::default();
        let named = s
            .add(
                "rsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n\
                 rsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=\n\
                 rsc.io/sampler v1.3.0/go.mod h1:T1hPZKmBbMNahiBKFy5HrXp6adAjACjK9JXDnKaTXpA=\n",
                "go.sum",
            )
            .unwrap();
        assert_eq!(
            named,
            [
                ("rsc.io/quote".to_owned(), "v1.5.2".to_owned()),
                ("rsc.io/sampler".to_owned(), "v1.3.0".to_owned())
            ]
        );
        assert_eq!(
            s.go_mod("rsc.io/quote", "v1.5.2"),
            Some("h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=")
        );
        assert_eq!(s.zip("rsc.io/sampler", "v1.3.0"), None);
        assert!(s.add("a b\n", "x").is_err());
        assert!(
            s.add("rsc.io/quote v1.5.2 h1:other=\n", "y")
                .unwrap_err()
                .to_string()
                .contains("two different hashes")
        );
    }

    #[test]
    fn requires_single_and_in_blocks() {
        let text = "module example.com/m\n\ngo 1.21\n\nrequire rsc.io/quote v1.5.2 // indirect\n\
                    require (\n\t\"golang.org/x/text\" v0.3.0\n\t// a comment\n\trsc.io/sampler v1.3.0\n)\n\
                    replace rsc.io/quote => ./q\nrequirex nothing v1\n";
        assert_eq!(
            go_mod_requires(text),
            [
                ("rsc.io/quote".to_owned(), "v1.5.2".to_owned()),
                ("golang.org/x/text".to_owned(), "v0.3.0".to_owned()),
                ("rsc.io/sampler".to_owned(), "v1.3.0".to_owned()),
            ]
        );
    }

    #[test]
    fn kinds_and_lists() {
        let p = Path::new("wanted.txt");
        assert_eq!(kind_of(p, "module x\n"), InputKind::GoMod);
        assert_eq!(kind_of(p, "a v1.0.0 h1:x=\n"), InputKind::GoSum);
        assert_eq!(kind_of(p, "a@v1.0.0\n"), InputKind::List);
        assert_eq!(kind_of(Path::new("/x/go.sum"), ""), InputKind::GoSum);
        assert_eq!(
            list_lines(
                "# c\nrsc.io/quote@latest\n\nrsc.io/sampler@v1.3.0 // c\n",
                "l"
            )
            .unwrap(),
            [
                ("rsc.io/quote".to_owned(), "latest".to_owned()),
                ("rsc.io/sampler".to_owned(), "v1.3.0".to_owned())
            ]
        );
        assert!(list_lines("rsc.io/quote\n", "l").is_err());
    }
}
