//! Athens' filter file (gomods/athens `pkg/module/filter.go`): which modules a proxy
//! serves (`+`), refuses (`-`) or sends elsewhere (`D`), by module path prefix and
//! optionally by version.
//!
//! ```text
//! # exclude everything but two organisations, and one of them only at v1
//! -
//! + github.com/gomods
//! + github.com/rsc v1,~v2.3.4
//! D golang.org/x
//! ```
//!
//! Rules sit on a trie of path elements; the deepest rule along the module's path whose
//! version qualifiers match wins, then the bare (root) rule, and with none, include.
//! Where Athens misreads a line (two spaces between fields silently make a root rule;
//! an empty qualifier crashes it), agora refuses the file, naming the line.

use std::collections::HashMap;

/// What the filter says about a module (and version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Serve it as usual (`+`, and the default).
    Include,
    /// Refuse it (`-`): 403.
    Exclude,
    /// Send the client to the global endpoint instead (`D`): 303.
    Direct,
}

/// A filter file Athens would reject or agora refuses; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FilterError {
    /// Where.
    pub line: usize,
    /// What.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    /// `None` is Athens' `Default`: no rule of its own.
    rule: Option<Rule>,
    qualifiers: Vec<String>,
    next: HashMap<String, Node>,
}

/// A parsed filter file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    root: Node,
}

impl Filter {
    /// Parses a filter file's text.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut f = Filter::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| FilterError { line, message };
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            // Athens splits on single spaces, so its field count includes empty fields.
            let fields: Vec<&str> = l.split(' ').collect();
            if fields.len() > 3 {
                return Err(err(format!(
                    "{l:?}: expected a rule (+, - or D), optionally a module path and \
                     optionally versions, separated by single spaces"
                )));
            }
            if fields.iter().any(|f| f.is_empty()) {
                return Err(err(format!(
                    "{l:?}: fields must be separated by single spaces (Athens reads this line \
                     as a different rule)"
                )));
            }
            let rule = match fields[0] {
                "+" => Rule::Include,
                "-" => Rule::Exclude,
                "D" => Rule::Direct,
                other => {
                    return Err(err(format!("unknown rule {other:?}: expected +, - or D")));
                }
            };
            let mut qualifiers = Vec::new();
            if let Some(versions) = fields.get(2) {
                for q in versions.split(',') {
                    let mut q = q.trim_end_matches('*').to_owned();
                    if q.is_empty() {
                        return Err(err(format!("{l:?}: an empty version qualifier")));
                    }
                    if !q.ends_with('.') && q.matches('.').count() < 2 {
                        q.push('.');
                    }
                    qualifiers.push(q);
                }
            }
            f.add_rule(fields.get(1).copied().unwrap_or(""), qualifiers, rule);
        }
        Ok(f)
    }

    /// Sets `rule` on `path` (the root for an empty path), replacing what was there.
    pub fn add_rule(&mut self, path: &str, qualifiers: Vec<String>, rule: Rule) {
        let segments = segments(path);
        if segments.is_empty() {
            self.root.rule = Some(rule);
            return;
        }
        let mut node = &mut self.root;
        for s in segments {
            node = node.next.entry(s.to_owned()).or_default();
        }
        node.rule = Some(rule);
        node.qualifiers = qualifiers;
    }

    /// The rule for `module` at `version` (empty for list and `@latest`, where every
    /// rule on the path counts whatever its qualifiers).
    pub fn rule(&self, module: &str, version: &str) -> Rule {
        let mut collected = Vec::new();
        let mut node = &self.root;
        for s in segments(module) {
            let Some(n) = node.next.get(s) else {
                break;
            };
            node = n;
            let matched =
                n.qualifiers.is_empty() || n.qualifiers.iter().any(|q| matches(version, q));
            if matched || version.is_empty() {
                collected.push(n.rule);
            }
        }
        collected
            .into_iter()
            .rev()
            .flatten()
            .next()
            .or(self.root.rule)
            .unwrap_or(Rule::Include)
    }

    /// Whether any rule is `D`, which needs somewhere to send clients.
    pub fn has_direct(&self) -> bool {
        fn walk(n: &Node) -> bool {
            n.rule == Some(Rule::Direct) || n.next.values().any(walk)
        }
        walk(&self.root)
    }
}

fn segments(path: &str) -> Vec<&str> {
    let p = path.trim().trim_matches('/');
    if p.is_empty() {
        Vec::new()
    } else {
        p.split('/').collect()
    }
}

/// Whether `version` satisfies `qualifier`: `vX...` is a string prefix; `~vA.B.C` means
/// A.B with patch ≥ C; `^vA.B.C` means major A, and minor above B or B with patch ≥ C;
/// `<vA.B.C` means lower, with the patch compared inclusively as Athens does. The three
/// operators take exactly three numbers, so pre-releases never match them.
fn matches(version: &str, qualifier: &str) -> bool {
    let Some(op) = qualifier.chars().next() else {
        return false;
    };
    if op == 'v' {
        return version.starts_with(qualifier);
    }
    if !matches!(op, '~' | '^' | '<') {
        return false;
    }
    let q = &qualifier[1..];
    let q = q.strip_prefix('v').unwrap_or(q);
    // Athens drops the version's first byte, its `v`.
    let (Some(v), Some(q)) = (version.get(1..).and_then(numbers), numbers(q)) else {
        return false;
    };
    let ([v0, v1, v2], [q0, q1, q2]) = (v, q);
    match op {
        '~' => v0 == q0 && v1 == q1 && v2 >= q2,
        '^' => v0 == q0 && (v1 > q1 || (v1 == q1 && v2 >= q2)),
        _ => v0 < q0 || (v0 == q0 && v1 < q1) || (v0 == q0 && v1 == q1 && v2 <= q2),
    }
}

/// `A.B.C` as three integers (Go's `strconv.Atoi` accepts a sign, and so does this).
fn numbers(s: &str) -> Option<[i64; 3]> {
    let s = s.trim().trim_matches('.');
    let mut parts = s.split('.');
    let mut out = [0; 3];
    for slot in &mut out {
        *slot = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::Rule::*;
    use super::*;

    fn filter(rules: &[(&str, &[&str], Rule)]) -> Filter {
        let mut f = Filter::default();
        for (path, q, rule) in rules {
            f.add_rule(path, q.iter().map(|s| s.to_string()).collect(), *rule);
        }
        f
    }

    // The cases of gomods/athens `pkg/module/filter_test.go`.

    #[test]
    fn ignore_simple() {
        let f = filter(&[("github.com/a/b", &[], Exclude)]);
        assert_eq!(f.rule("github.com/a", ""), Include);
        assert_eq!(f.rule("github.com/a/b", ""), Exclude);
        assert_eq!(f.rule("github.com/a/b/c", ""), Exclude);
        assert_eq!(f.rule("github.com/d", ""), Include);
        assert_eq!(f.rule("bitbucket.com/a/b", ""), Include);
    }

    #[test]
    fn ignore_parent_allow_children() {
        let f = filter(&[
            ("github.com/a/b", &[], Exclude),
            ("github.com/a/b/c", &[], Include),
        ]);
        assert_eq!(f.rule("github.com/a", ""), Include);
        assert_eq!(f.rule("github.com/a/b", ""), Exclude);
        assert_eq!(f.rule("github.com/a/b/c", ""), Include);
        assert_eq!(f.rule("github.com/d", ""), Include);
        assert_eq!(f.rule("bitbucket.com/a/b", ""), Include);
    }

    #[test]
    fn only_allowed() {
        let f = filter(&[("github.com/a/b", &[], Include), ("", &[], Exclude)]);
        assert_eq!(f.rule("github.com/a", ""), Exclude);
        assert_eq!(f.rule("github.com/a/b", ""), Include);
        assert_eq!(f.rule("github.com/a/b/c", ""), Include);
        assert_eq!(f.rule("github.com/d", ""), Exclude);
        assert_eq!(f.rule("bitbucket.com/a/b", ""), Exclude);
    }

    #[test]
    fn direct() {
        let f = filter(&[
            ("github.com/a/b/c", &[], Exclude),
            ("github.com/a/b", &[], Direct),
            ("github.com/a", &[], Include),
            ("", &[], Exclude),
        ]);
        assert_eq!(f.rule("github.com/a", ""), Include);
        assert_eq!(f.rule("github.com/a/b", ""), Direct);
        assert_eq!(f.rule("github.com/a/b/c/d", ""), Exclude);
        assert!(f.has_direct());
    }

    #[test]
    fn version_filter() {
        let f = filter(&[
            ("", &[], Exclude),
            ("github.com/a/b", &["v1."], Include),
            ("github.com/a/b/c", &["v1.2.", "v0.8."], Direct),
        ]);
        assert_eq!(f.rule("github.com/d/e", "v1.2.0"), Exclude);
        assert_eq!(f.rule("github.com/a/b", "v10.0.0"), Exclude);
        assert_eq!(f.rule("github.com/a/b", "v1.5.0"), Include);
        assert_eq!(f.rule("github.com/a/b/c/d", "v1.2.3"), Direct);
        assert_eq!(f.rule("github.com/a/b/c/d", "v1.3.4"), Include);
    }

    #[test]
    fn version_filter_minor() {
        let f = filter(&[
            ("", &[], Exclude),
            ("github.com/a/b", &["~v1.2.3", "~v2.3.40"], Include),
        ]);
        for (v, want) in [
            ("v1.2.3", Include),
            ("v1.2.5", Include),
            ("v1.2.2", Exclude),
            ("v1.3.3", Exclude),
            ("v2.3.45", Include),
            ("v2.2.45", Exclude),
            ("v2.3.20", Exclude),
        ] {
            assert_eq!(f.rule("github.com/a/b", v), want, "{v}");
        }
    }

    #[test]
    fn version_filter_middle() {
        let f = filter(&[
            ("", &[], Exclude),
            ("github.com/a/b", &["^v1.2.3", "^v2.3.40"], Include),
        ]);
        for (v, want) in [
            ("v1.2.3", Include),
            ("v1.2.5", Include),
            ("v1.4.2", Include),
            ("v1.2.1", Exclude),
            ("v2.3.45", Include),
            ("v2.4.1", Include),
            ("v2.2.45", Exclude),
        ] {
            assert_eq!(f.rule("github.com/a/b", v), want, "{v}");
        }
    }

    #[test]
    fn version_filter_less() {
        let f = filter(&[
            ("", &[], Exclude),
            ("github.com/a/b", &["<v2.3.40"], Include),
        ]);
        for (v, want) in [
            ("v1.2.3", Include),
            ("v1.4.2", Include),
            ("v1.2.1", Include),
            ("v2.3.39", Include),
            ("v2.2.45", Include),
            ("v2.4.1", Exclude),
            // Athens' quirk: `<` includes the patch itself.
            ("v2.3.40", Include),
            // Pre-releases never match an operator.
            ("v1.0.0-rc.1", Exclude),
        ] {
            assert_eq!(f.rule("github.com/a/b", v), want, "{v}");
        }
    }

    #[test]
    fn version_filter_robust() {
        let f = filter(&[
            ("", &[], Exclude),
            ("github.com/a/b", &["abcd"], Include),
            ("github.com/c/d", &["e"], Include),
        ]);
        assert_eq!(f.rule("github.com/a/b", "a"), Exclude);
        assert_eq!(f.rule("github.com/c/d", "fg"), Exclude);
    }

    #[test]
    fn init_from_config() {
        Filter::parse("+ github.com/a/b\n\n# some comment\n- github.com/c/d\n\nD github.com/x")
            .unwrap();
        let e = Filter::parse(
            "+ github.com/a/b\n\n# some comment\n\n- github.com/c/d\n\nD github.com/x\nsome_random_line",
        )
        .unwrap_err();
        assert_eq!(e.line, 8);
        let f = Filter::parse(
            "+ github.com/a/b\n\n# some comment\n\n- github.com/c/d v1,v2.3.4,v3.2.*\n\nD github.com/x\n",
        )
        .unwrap();
        // v1 → "v1.", v2.3.4 stays (a prefix: it matches v2.3.40 too), v3.2.* → "v3.2.".
        assert_eq!(f.rule("github.com/c/d", "v1.0.0"), Exclude);
        assert_eq!(f.rule("github.com/c/d", "v10.0.0"), Include);
        assert_eq!(f.rule("github.com/c/d", "v2.3.40"), Exclude);
        assert_eq!(f.rule("github.com/c/d", "v3.2.9"), Exclude);
        assert_eq!(f.rule("github.com/c/d", "v3.20.0"), Include);
        // list and @latest carry no version: the rule applies whatever its qualifiers.
        assert_eq!(f.rule("github.com/c/d", ""), Exclude);
        assert_eq!(f.rule("github.com/x/y", "v1.0.0"), Direct);
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        for (text, line) in [
            ("+ a\n* b\n", 2),
            ("+ a b c d\n", 1),
            ("\n\n-  github.com/a\n", 3),
            ("- github.com/a v1,,v2\n", 1),
            ("- github.com/a *\n", 1),
        ] {
            let e = Filter::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
        // Surrounding blanks and CRLF endings are fine, as in Athens.
        let f = Filter::parse("  -  \r\n+ example.com/a\r\n").unwrap();
        assert_eq!(f.rule("example.com/a/b", "v1.0.0"), Include);
        assert_eq!(f.rule("example.com/b", "v1.0.0"), Exclude);
        assert!(!f.has_direct());
    }
}
