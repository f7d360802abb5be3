//! The GOVCS policy: which version control systems may be used for which
//! repository roots, parsed and applied as the go command does.

use super::{DiscoveryError, DiscoveryErrorKind};

/// The GOVCS policy: which VCS may be used for which repository root. Only
/// git and hg have been hardened against hostile servers, so by default
/// public roots may use only those; roots matching GOPRIVATE may use any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsPolicy {
    /// (pattern, allowed VCS names), in order; the first matching rule
    /// decides. Ends with the go command's defaults.
    rules: Vec<(String, Vec<String>)>,
    goprivate: String,
}

impl Default for VcsPolicy {
    /// GOVCS and GOPRIVATE unset.
    fn default() -> Self {
        VcsPolicy {
            rules: default_govcs_rules(),
            goprivate: String::new(),
        }
    }
}

fn default_govcs_rules() -> Vec<(String, Vec<String>)> {
    vec![
        ("private".to_string(), vec!["all".to_string()]),
        (
            "public".to_string(),
            vec!["git".to_string(), "hg".to_string()],
        ),
    ]
}

impl VcsPolicy {
    /// Parses GOVCS (`pattern:vcs|vcs,...`, where a pattern is a GOPRIVATE
    /// style glob, `public` or `private`) as the go command does; its
    /// defaults follow the given rules.
    pub fn new(govcs: &str, goprivate: &str) -> Result<Self, DiscoveryError> {
        let bad = |msg: String| DiscoveryError::new(DiscoveryErrorKind::Disallowed, msg);
        let mut rules: Vec<(String, Vec<String>)> = Vec::new();
        let mut seen: Vec<(String, String)> = Vec::new();
        let govcs = govcs.trim();
        if !govcs.is_empty() {
            for item in govcs.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    return Err(bad("empty entry in GOVCS".to_string()));
                }
                let Some((pattern, list)) = item.split_once(':') else {
                    return Err(bad(format!(
                        "malformed entry in GOVCS (missing colon): {item:?}"
                    )));
                };
                let (pattern, list) = (pattern.trim(), list.trim());
                if pattern.is_empty() {
                    return Err(bad(format!("empty pattern in GOVCS: {item:?}")));
                }
                if list.is_empty() {
                    return Err(bad(format!("empty VCS list in GOVCS: {item:?}")));
                }
                let relative = pattern.starts_with("./")
                    || pattern.starts_with("../")
                    || pattern == "."
                    || pattern == "..";
                if relative {
                    return Err(bad(format!(
                        "relative pattern not allowed in GOVCS: {pattern:?}"
                    )));
                }
                if let Some((_, old)) = seen.iter().find(|(p, _)| p == pattern) {
                    return Err(bad(format!(
                        "unreachable pattern in GOVCS: {item:?} after {old:?}"
                    )));
                }
                seen.push((pattern.to_string(), item.to_string()));
                let mut allowed = Vec::new();
                for a in list.split('|') {
                    let a = a.trim();
                    if a.is_empty() {
                        return Err(bad(format!("empty VCS name in GOVCS: {item:?}")));
                    }
                    allowed.push(a.to_string());
                }
                rules.push((pattern.to_string(), allowed));
            }
        }
        rules.extend(default_govcs_rules());
        Ok(VcsPolicy {
            rules,
            goprivate: goprivate.to_string(),
        })
    }

    /// Whether `vcs` may be used for `root`, given whether it is private.
    fn allows(&self, root: &str, private: bool, vcs: &str) -> bool {
        for (pattern, allowed) in &self.rules {
            let matched = match pattern.as_str() {
                "private" => private,
                "public" => !private,
                // A pattern holds no comma, so this matches it alone.
                _ => agora_core::pattern::match_prefix_patterns(pattern, root),
            };
            if matched {
                return allowed.iter().any(|a| a == vcs || a == "all");
            }
        }
        false
    }

    /// The go command's `checkGOVCS`: `mod` entries are always allowed, as
    /// they run no VCS command.
    pub fn check(&self, vcs: &str, root: &str) -> Result<(), DiscoveryError> {
        if vcs == "mod" {
            return Ok(());
        }
        let private = !self.goprivate.is_empty()
            && agora_core::pattern::match_prefix_patterns(&self.goprivate, root);
        if self.allows(root, private, vcs) {
            return Ok(());
        }
        let what = if private { "private" } else { "public" };
        Err(DiscoveryError::new(
            DiscoveryErrorKind::Disallowed,
            format!("GOVCS disallows using {vcs} for {what} {root}; see 'go help vcs'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected outputs in testdata/ come from the go command itself (see
    // testdata/README.md for how they were made).

    /// (GOVCS, root, private, vcs, "allow" | "deny" | "err:<message>"), from
    /// the go command's parseGOVCS and allow.
    type GovcsCase = (String, String, bool, String, String);

    #[test]
    fn govcs_agrees_with_go() {
        let cases: Vec<GovcsCase> =
            serde_json::from_str(include_str!("../../testdata/govcs.json")).unwrap();
        assert!(!cases.is_empty());
        for (govcs, root, private, vcs, want) in cases {
            let got = match VcsPolicy::new(&govcs, "") {
                Err(e) => {
                    assert_eq!(e.kind(), DiscoveryErrorKind::Disallowed);
                    format!("err:{e}")
                }
                Ok(p) if p.allows(&root, private, &vcs) => "allow".to_string(),
                Ok(_) => "deny".to_string(),
            };
            assert_eq!(got, want, "GOVCS={govcs:?} {root} private={private} {vcs}");
        }
    }

    #[test]
    fn govcs_check_uses_goprivate() {
        let policy = VcsPolicy::new("", "*.corp.example").unwrap();
        assert_eq!(policy.check("svn", "svn.corp.example/x"), Ok(()));
        let err = policy.check("svn", "example.com/x").unwrap_err();
        assert_eq!(err.kind(), DiscoveryErrorKind::Disallowed);
        assert_eq!(
            err.message(),
            "GOVCS disallows using svn for public example.com/x; see 'go help vcs'"
        );
        let err = VcsPolicy::new("private:git", "*.corp.example")
            .unwrap()
            .check("hg", "hg.corp.example/x")
            .unwrap_err();
        assert_eq!(
            err.message(),
            "GOVCS disallows using hg for private hg.corp.example/x; see 'go help vcs'"
        );
        assert_eq!(
            VcsPolicy::default().check("mod", "anything.example/x"),
            Ok(())
        );
        assert_eq!(VcsPolicy::default().check("git", "github.com/a/b"), Ok(()));
    }
}
