//! Finding the repository behind a module path, as the go command does it in
//! `direct` mode (`cmd/go/internal/vcs`: `RepoRootForImportPath` with
//! `PreferMod`).
//!
//! This module owns that lookup and nothing after it: the table of
//! well-known hosts (github.com, bitbucket.org, hub.jazz.net,
//! git.apache.org, git.openstack.org, chiselapp.com) with their path-shape
//! checks and error texts; the generic rule for paths with a VCS qualifier
//! (`example.com/repo.git/sub`), including pinging the VCS's schemes in the
//! go command's order; and `?go-get=1` discovery: https first, plain http
//! only for GOINSECURE paths, `go-import` meta tags read from the page's
//! `<head>` with the lenient XML tokenizer the go command uses, `mod`
//! entries preferred over VCS entries for the same prefix, and a root
//! shorter than the path verified against the root's own page.
//!
//! The GOVCS policy ([`VcsPolicy`]) is checked where the go command checks
//! it, before any VCS command runs against a server. Deliberately not here:
//! memoizing lookups per prefix, credentials (GOAUTH, netrc: the caller's
//! client carries them), and anything that fetches code.
//!
//! Every failure carries a [`DiscoveryErrorKind`] so a proxy can tell "this
//! path has no repository" from "the server could not be reached"; the go
//! command itself folds all of them into "not found".
//!
//! The module is laid out as the lookup runs: `hosts` (the static
//! table of well-known hosts and the VCS-qualifier rule, with scheme
//! pinging), `fetch` (`?go-get=1` page fetching and the dynamic route),
//! `go_import` (reading `go-import` tags from a page, over the XML tokenizer
//! in `xml`, and choosing among them), `repo_url` (the go command's checks on
//! a tag's repository URL and subdirectory) and `govcs` (the policy). The
//! tables the tests compare against the go command live in
//! `crates/agora-upstream/testdata/`.

use crate::credentials::Credentials;

mod fetch;
mod go_import;
mod govcs;
mod hosts;
mod repo_url;
mod xml;

use fetch::repo_root_dynamic;
pub use go_import::{MatchError, match_go_import, parse_meta_go_imports};
pub use govcs::VcsPolicy;
use hosts::pick_scheme;
pub use hosts::{VcsPathMatch, match_vcs_paths, schemes_to_try};

/// Where the code for an import path lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRoot {
    /// The import path prefix that corresponds to the repository (or, with a
    /// subdirectory, to `subdir` inside it).
    pub root: String,
    /// The version control system: `git`, `hg`, `svn`, `fossil`, or `mod`
    /// for a `go-import` entry that names a GOPROXY base URL.
    pub vcs: String,
    /// The repository URL with its scheme (for `mod`, the proxy base URL).
    pub repo_url: String,
    /// The optional fourth `go-import` field: the directory inside the
    /// repository that `root` corresponds to; empty for the repository root.
    pub subdir: String,
}

/// The broad class of a discovery failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryErrorKind {
    /// The path has no repository: no `go-import` tag matches it, the page
    /// answered 404 (or another client error) without one, or its root's
    /// page carries no tag.
    NotFound,
    /// A server could not be reached or failed: connection refused, TLS
    /// failure, timeout, a 5xx without tags, no VCS scheme answering.
    Unavailable,
    /// The path is malformed for its host, or the server's `go-import`
    /// answer is unusable: several tags match, the root's page disagrees,
    /// the repository URL has no scheme, the VCS is unknown.
    Invalid,
    /// The GOVCS policy forbids the VCS for this path (by default only git
    /// and hg may be used for public modules), or GOVCS itself is malformed.
    Disallowed,
}

/// A discovery failure: its kind and the go command's message for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DiscoveryError {
    kind: DiscoveryErrorKind,
    message: String,
}

impl DiscoveryError {
    fn new(kind: DiscoveryErrorKind, message: impl Into<String>) -> Self {
        DiscoveryError {
            kind,
            message: message.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> DiscoveryErrorKind {
        self.kind
    }

    /// The message, worded as the go command words it.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn wrap(self, message: String) -> Self {
        DiscoveryError {
            kind: self.kind,
            message,
        }
    }
}

/// One `<meta name="go-import" content="prefix vcs repo-root [subdir]">` tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaImport {
    /// The import path prefix the tag claims.
    pub prefix: String,
    /// The VCS name (`git`, `hg`, ..., or `mod`), unchecked.
    pub vcs: String,
    /// The repository URL, unchecked.
    pub repo_root: String,
    /// The optional subdirectory; empty when the tag has three fields.
    pub subdir: String,
}

// ---------------------------------------------------------------------------
// The entry point.

/// Finds the repository for `import_path` exactly as `go mod download` in
/// direct mode does with GOVCS and GOPRIVATE unset (only git and hg are
/// allowed): see [`repo_root_with_policy`].
pub async fn repo_root(
    client: &reqwest::Client,
    import_path: &str,
    insecure: &str,
) -> Result<RepoRoot, DiscoveryError> {
    repo_root_with_policy(client, import_path, insecure, &VcsPolicy::default()).await
}

/// Finds the repository for `import_path` exactly as `go mod download` in
/// direct mode does: the well-known hosts first, then the VCS-qualifier
/// rule, then `?go-get=1` discovery. `insecure` is the GOINSECURE glob list;
/// a path it matches may use plain http (and https without certificate
/// checks), as the go command allows. `policy` is GOVCS with GOPRIVATE,
/// checked where the go command checks it: before any VCS command runs
/// against the server.
pub async fn repo_root_with_policy(
    client: &reqwest::Client,
    import_path: &str,
    insecure: &str,
    policy: &VcsPolicy,
) -> Result<RepoRoot, DiscoveryError> {
    repo_root_with_credentials(
        client,
        import_path,
        insecure,
        policy,
        &Credentials::default(),
    )
    .await
}

/// [`repo_root_with_policy`] with credentials: discovery pages fetched over
/// https carry the basic auth [`Credentials::http_authorization`] gives (as
/// the go command's `GOAUTH=netrc`), and the `git ls-remote` that picks a
/// scheme for a VCS-qualified path gets [`Credentials::git_env`].
pub async fn repo_root_with_credentials(
    client: &reqwest::Client,
    import_path: &str,
    insecure: &str,
    policy: &VcsPolicy,
    creds: &Credentials,
) -> Result<RepoRoot, DiscoveryError> {
    let secure_only =
        insecure.is_empty() || !agora_core::pattern::match_prefix_patterns(insecure, import_path);
    let rr = match match_vcs_paths(import_path) {
        VcsPathMatch::Unknown => repo_root_dynamic(client, import_path, secure_only, policy, creds)
            .await
            .map_err(|e| {
                let msg = format!("unrecognized import path {import_path:?}: {e}");
                e.wrap(msg)
            })?,
        VcsPathMatch::Error(e) => return Err(e),
        VcsPathMatch::Found(rr) => {
            policy.check(&rr.vcs, &rr.root)?;
            rr
        }
        VcsPathMatch::NeedsScheme { root, vcs, repo } => {
            policy.check(&vcs, &root)?;
            let scheme = pick_scheme(&vcs, &repo, secure_only, creds).await?;
            RepoRoot {
                root,
                repo_url: format!("{scheme}://{repo}"),
                vcs,
                subdir: String::new(),
            }
        }
    };
    // The go command re-checks this after either route: a `...` wildcard
    // must never end up in a repository root.
    if import_path.contains("...") && rr.root.contains("...") {
        return Err(DiscoveryError::new(
            DiscoveryErrorKind::Invalid,
            format!("cannot expand ... in {import_path:?}"),
        ));
    }
    Ok(rr)
}

/// Go's `str.HasPathPrefix`: `prefix` is `s` or a leading run of its
/// slash-separated elements.
fn has_path_prefix(s: &str, prefix: &str) -> bool {
    if s.len() == prefix.len() {
        return s == prefix;
    }
    if prefix.is_empty() {
        return true;
    }
    if s.len() > prefix.len() {
        let next = s.as_bytes()[prefix.len()];
        if prefix.ends_with('/') || next == b'/' {
            return s.as_bytes().starts_with(prefix.as_bytes());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prefixes() {
        assert!(has_path_prefix("a.com/x", "a.com/x"));
        assert!(has_path_prefix("a.com/x/y", "a.com/x"));
        assert!(has_path_prefix("a.com/x/y", "a.com/x/"));
        assert!(!has_path_prefix("a.com/xy", "a.com/x"));
        assert!(!has_path_prefix("a.com", "a.com/x"));
        assert!(has_path_prefix("anything", ""));
    }
}
