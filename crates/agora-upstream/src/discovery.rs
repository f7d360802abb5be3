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

use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use crate::credentials::Credentials;

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

// ---------------------------------------------------------------------------
// GOVCS.

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

// ---------------------------------------------------------------------------
// The static table (`vcsPaths`).

/// What the table of well-known hosts and the VCS-qualifier rule say about
/// an import path, before any network access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcsPathMatch {
    /// No rule applies: discovery over HTTP decides.
    Unknown,
    /// A rule applies and rejects the path.
    Error(DiscoveryError),
    /// A well-known host: the repository is known outright.
    Found(RepoRoot),
    /// The VCS-qualifier rule: `repo` is a URL without its scheme, which is
    /// found by pinging the VCS's schemes in order ([`schemes_to_try`]).
    NeedsScheme {
        /// The import path prefix up to and including the qualifier.
        root: String,
        /// The VCS named by the qualifier.
        vcs: String,
        /// `root` without the qualifier.
        repo: String,
    },
}

/// The VCS commands the go command knows, in its `vcsList` order (bzr was
/// dropped from the go command; it is no longer recognised anywhere).
const VCS_CMDS: [&str; 4] = ["hg", "git", "svn", "fossil"];

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

/// `[\w.\-]` in Go's RE2 syntax, where `\w` is ASCII only.
fn is_word_dot_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

/// A path element made of one or more `[\w.\-]`.
fn is_plain_elem(e: &str) -> bool {
    !e.is_empty() && e.bytes().all(is_word_dot_dash)
}

fn invalid_host_path(prefix: &str, import_path: &str) -> VcsPathMatch {
    VcsPathMatch::Error(DiscoveryError::new(
        DiscoveryErrorKind::Invalid,
        format!("invalid {prefix} import path {import_path:?}"),
    ))
}

/// `noVCSSuffix`: a hosted repository name must not end in `.git`, `.hg`,
/// ... (`prefix` is the host prefix with its trailing slash, as the go
/// command prints it).
fn vcs_suffix_error(repo_url: &str, prefix: &str) -> Option<VcsPathMatch> {
    VCS_CMDS
        .iter()
        .any(|v| repo_url.ends_with(&format!(".{v}")))
        .then(|| {
            VcsPathMatch::Error(DiscoveryError::new(
                DiscoveryErrorKind::Invalid,
                format!("invalid version control suffix in {prefix}/ path"),
            ))
        })
}

fn found(root: &str, vcs: &str) -> VcsPathMatch {
    VcsPathMatch::Found(RepoRoot {
        root: root.to_string(),
        vcs: vcs.to_string(),
        repo_url: format!("https://{root}"),
        subdir: String::new(),
    })
}

/// Applies the go command's `vcsPaths` table to `import_path` (no network).
///
/// The rules are Go regular expressions; they are written out by hand here,
/// keeping their leftmost-first semantics, including the quirk that the
/// generic rule is not anchored at the start.
pub fn match_vcs_paths(import_path: &str) -> VcsPathMatch {
    // Two special cases the go command carries so that its own tests never
    // touch the network; kept so that agora answers these paths as it does.
    if has_path_prefix(import_path, "example.net") {
        return VcsPathMatch::Error(DiscoveryError::new(
            DiscoveryErrorKind::NotFound,
            "no modules on example.net",
        ));
    }
    if import_path == "rsc.io" {
        return VcsPathMatch::Error(DiscoveryError::new(
            DiscoveryErrorKind::NotFound,
            "rsc.io is not a module",
        ));
    }
    // A common mistake is to write the URL git wants; say so plainly.
    for prefix in ["http:", "https:"] {
        if import_path.starts_with(prefix) {
            return VcsPathMatch::Error(DiscoveryError::new(
                DiscoveryErrorKind::Invalid,
                format!("{:?} not allowed in import path", format!("{prefix}//")),
            ));
        }
    }

    let elems: Vec<&str> = import_path.split('/').collect();

    // github.com and bitbucket.org share one shape:
    // ^(host/[\w.\-]+/[\w.\-]+)(/[\w.\-]+)*$ and no VCS suffix on the repo.
    for host in ["github.com", "bitbucket.org"] {
        if !has_path_prefix(import_path, host) {
            continue;
        }
        if elems.len() < 3 || !elems[1..].iter().all(|e| is_plain_elem(e)) {
            return invalid_host_path(host, import_path);
        }
        let root = elems[..3].join("/");
        if let Some(err) = vcs_suffix_error(&format!("https://{root}"), host) {
            return err;
        }
        return found(&root, "git");
    }

    // ^(hub\.jazz\.net/git/[a-z0-9]+/[\w.\-]+)(/[\w.\-]+)*$, no VCS suffix.
    if has_path_prefix(import_path, "hub.jazz.net/git") {
        let user_ok = elems.len() >= 4
            && !elems[2].is_empty()
            && elems[2]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !user_ok || !elems[3..].iter().all(|e| is_plain_elem(e)) {
            return invalid_host_path("hub.jazz.net/git", import_path);
        }
        let root = elems[..4].join("/");
        if let Some(err) = vcs_suffix_error(&format!("https://{root}"), "hub.jazz.net/git") {
            return err;
        }
        return found(&root, "git");
    }

    // ^(git\.apache\.org/[a-z0-9_.\-]+\.git)(/[\w.\-]+)*$
    if has_path_prefix(import_path, "git.apache.org") {
        let repo_ok = elems.len() >= 2
            && elems[1].len() > ".git".len()
            && elems[1].ends_with(".git")
            && elems[1].bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
            });
        if !repo_ok || !elems[2..].iter().all(|e| is_plain_elem(e)) {
            return invalid_host_path("git.apache.org", import_path);
        }
        return found(&elems[..2].join("/"), "git");
    }

    // ^(git\.openstack\.org/[\w.\-]+/[\w.\-]+)(\.git)?(/[\w.\-]+)*$ — the
    // greedy second element swallows any `.git`, so the optional group
    // never matches and the root keeps the suffix.
    if has_path_prefix(import_path, "git.openstack.org") {
        if elems.len() < 3 || !elems[1..].iter().all(|e| is_plain_elem(e)) {
            return invalid_host_path("git.openstack.org", import_path);
        }
        return found(&elems[..3].join("/"), "git");
    }

    // ^(chiselapp\.com/user/[A-Za-z0-9]+/repository/[\w.\-]+)$
    if has_path_prefix(import_path, "chiselapp.com") {
        let ok = elems.len() == 5
            && elems[1] == "user"
            && !elems[2].is_empty()
            && elems[2].bytes().all(|b| b.is_ascii_alphanumeric())
            && elems[3] == "repository"
            && is_plain_elem(elems[4]);
        if !ok {
            return invalid_host_path("chiselapp.com", import_path);
        }
        return found(import_path, "fossil");
    }

    match generic_vcs_qualifier(import_path) {
        Some((start, repo_end, vcs)) => {
            let root_end = repo_end + 1 + vcs.len();
            VcsPathMatch::NeedsScheme {
                root: import_path[start..root_end].to_string(),
                vcs: vcs.to_string(),
                repo: import_path[start..repo_end].to_string(),
            }
        }
        None => VcsPathMatch::Unknown,
    }
}

/// The generic rule, a search (not anchored at the start) for
/// `(?P<root>(?P<repo>([a-z0-9.\-]+\.)+[a-z0-9.\-]+(:[0-9]+)?(/~?[\w.\-]+)+?)\.(?P<vcs>fossil|git|hg|svn))(/~?[\w.\-]+)*$`.
///
/// Returns the match start, the end of `repo`, and the VCS. Like Go's
/// regexp it takes the leftmost start that matches at all. From there the
/// backtracking order decides, and it is not the one `+?` suggests: each
/// element's greedy `[\w.\-]+` first takes the whole element, which cannot
/// be followed by the `.` of a qualifier, so the lazy group goes on to the
/// next element before any element is shortened. The last element that
/// ends in a qualifier therefore wins (`a.com/r.git/c.hg/d` is an hg
/// repository `a.com/r.git/c`), as the go command's results confirm.
fn generic_vcs_qualifier(s: &str) -> Option<(usize, usize, &'static str)> {
    let b = s.as_bytes();
    let is_host = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-';
    (0..b.len()).find_map(|start| {
        // The host part cannot contain ':' or '/', and one of those must
        // follow it, so it is the whole run of host characters from here;
        // `([a-z0-9.\-]+\.)+[a-z0-9.\-]+` needs a dot with a character on
        // each side.
        let host_end = start + b[start..].iter().take_while(|&&c| is_host(c)).count();
        let host = &b[start..host_end];
        let dotted = host.len() >= 3 && host[1..host.len() - 1].contains(&b'.');
        if !dotted {
            return None;
        }
        let mut at = host_end;
        if b.get(at) == Some(&b':') {
            let digits = b[at + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            at += 1 + digits;
        }
        if b.get(at) != Some(&b'/') {
            return None;
        }
        // Everything after the host must be elements `/~?[\w.\-]+`.
        let rest = &s[at + 1..];
        let mut offset = at + 1;
        let mut found: Option<(usize, &'static str)> = None;
        for elem in rest.split('/') {
            let body = elem.strip_prefix('~').unwrap_or(elem);
            if !is_plain_elem(body) {
                return None;
            }
            let body_start = offset + (elem.len() - body.len());
            let qualified = ["fossil", "git", "hg", "svn"].into_iter().find_map(|v| {
                let stem = body.strip_suffix(v)?.strip_suffix('.')?;
                (!stem.is_empty()).then_some((body_start + stem.len(), v))
            });
            if qualified.is_some() {
                found = qualified;
            }
            offset += elem.len() + 1;
        }
        found.map(|(repo_end, vcs)| (start, repo_end, vcs))
    })
}

/// The URL schemes the go command tries for `vcs`, in order, keeping only
/// secure ones unless the path is GOINSECURE.
pub fn schemes_to_try(vcs: &str, secure_only: bool) -> Vec<&'static str> {
    let all: &[&'static str] = match vcs {
        "git" => &["git", "https", "http", "git+ssh", "ssh"],
        "hg" => &["https", "http", "ssh"],
        "svn" => &["https", "http", "svn", "svn+ssh"],
        "fossil" => &["https", "http"],
        _ => &[],
    };
    all.iter()
        .copied()
        .filter(|s| !secure_only || is_secure_scheme(vcs, s))
        .collect()
}

fn is_secure_scheme(vcs: &str, scheme: &str) -> bool {
    // Git's own GIT_ALLOW_PROTOCOL, when set, is the whole list of schemes
    // git may use; the go command defers to it for git.
    if vcs == "git"
        && let Ok(allow) = std::env::var("GIT_ALLOW_PROTOCOL")
        && !allow.is_empty()
    {
        return allow.split(':').any(|s| s == scheme);
    }
    matches!(scheme, "https" | "git+ssh" | "svn+ssh" | "ssh")
}

/// Picks the first scheme under which the repository answers, by running
/// the VCS's own ping command as the go command does. Fossil has no ping
/// command, so its first allowed scheme wins unchecked.
async fn pick_scheme(
    vcs: &str,
    repo: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<String, DiscoveryError> {
    for scheme in schemes_to_try(vcs, secure_only) {
        if vcs == "fossil" || ping(vcs, scheme, repo, creds).await {
            return Ok(scheme.to_string());
        }
    }
    let secure = if secure_only { "secure " } else { "" };
    Err(DiscoveryError::new(
        DiscoveryErrorKind::Unavailable,
        format!("no {secure}protocol found for repository"),
    ))
}

async fn ping(vcs: &str, scheme: &str, repo: &str, creds: &Credentials) -> bool {
    match ping_command(vcs, scheme, repo, creds, true) {
        Some(mut cmd) => match cmd.status().await {
            Ok(status) => status.success(),
            // No setsid (util-linux) on this host.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match ping_command(vcs, scheme, repo, creds, false) {
                    Some(mut cmd) => matches!(cmd.status().await, Ok(s) if s.success()),
                    None => false,
                }
            }
            Err(_) => false,
        },
        None => false,
    }
}

/// The ping command for `scheme://repo`, started through `setsid` when
/// `detach`: in a session of its own it has no controlling terminal, so
/// ssh (`git+ssh`, `ssh`, `svn+ssh`) cannot stop the request asking on
/// agora's terminal to trust a host key or for a passphrase; it fails.
fn ping_command(
    vcs: &str,
    scheme: &str,
    repo: &str,
    creds: &Credentials,
    detach: bool,
) -> Option<tokio::process::Command> {
    let url = format!("{scheme}://{repo}");
    let mut cmd = if detach {
        let mut cmd = tokio::process::Command::new("setsid");
        cmd.arg(vcs);
        cmd
    } else {
        tokio::process::Command::new(vcs)
    };
    match vcs {
        // No `--` for git: old gits reject it for ls-remote, and the scheme
        // comes from the fixed list above, so the URL cannot look like a flag.
        // Credentials travel in the environment, as for every git command.
        "git" => cmd.arg("ls-remote").arg(&url).envs(creds.git_env(&url)),
        "hg" => cmd
            .args(["identify", "--"])
            .arg(&url)
            .env("HGPLAIN", "+strictflags"),
        "svn" => cmd.args(["info", "--"]).arg(&url),
        _ => return None,
    };
    // Nobody can answer a credential prompt here; the go command turns
    // git's off the same way unless the user asked for it.
    if std::env::var_os("GIT_TERMINAL_PROMPT").is_none() {
        cmd.env("GIT_TERMINAL_PROMPT", "0");
    }
    cmd.current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    Some(cmd)
}

// ---------------------------------------------------------------------------
// Dynamic discovery (`?go-get=1`).

/// The largest discovery page read. The go command reads until `</head>`;
/// a page whose head is larger than this is treated as ending here.
const MAX_PAGE_BYTES: usize = 4 << 20;

/// Go's `urlForImportPath`, as host and path; the scheme is left to
/// [`web_get`].
fn url_for_import_path(import_path: &str) -> Result<(String, String), DiscoveryError> {
    let (host, path) = match import_path.find('/') {
        Some(i) => import_path.split_at(i),
        None => (import_path, ""),
    };
    if !host.contains('.') {
        return Err(DiscoveryError::new(
            DiscoveryErrorKind::Invalid,
            "import path does not begin with hostname",
        ));
    }
    let path = if path.is_empty() { "/" } else { path };
    Ok((host.to_string(), path.to_string()))
}

/// How the go command prints the scheme-less discovery URL in some errors.
fn schemeless_url(host: &str, path: &str) -> String {
    format!("//{host}{path}?go-get=1")
}

/// A discovery page as fetched.
struct Page {
    /// The URL requested (before redirects), as the go command reports it.
    url: String,
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Page {
    /// Go's `Response.Err`: a non-200 answer, with any short plain-text
    /// explanation the server gave.
    fn status_error(&self) -> Option<DiscoveryError> {
        if self.status == 200 {
            return None;
        }
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let status = format!("{} {reason}", self.status);
        let mut message = format!("reading {}: {}", self.url, status.trim_end());
        if let Some(detail) = self.error_detail() {
            let sep = if detail.contains('\n') { "\n\t" } else { " " };
            message = format!("{message}\n\tserver response:{sep}{detail}");
        }
        // 408 and 429 are the server being busy, not the path being absent.
        let kind = if (400..500).contains(&self.status) && self.status != 408 && self.status != 429
        {
            DiscoveryErrorKind::NotFound
        } else {
            DiscoveryErrorKind::Unavailable
        };
        Some(DiscoveryError::new(kind, message))
    }

    /// The go command shows the first lines of a plain-text error body, but
    /// only if it is UTF-8 text with nothing that could drive a terminal.
    fn error_detail(&self) -> Option<String> {
        let mut params = self.content_type.split(';');
        let media = params.next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("text/plain") {
            return None;
        }
        let charset = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(charset.as_str(), "" | "us-ascii" | "utf-8") {
            return None;
        }
        let text = std::str::from_utf8(&self.body).ok()?;
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return None;
        }
        const MAX_LINES: usize = 8;
        const MAX_BYTES: usize = MAX_LINES * 81;
        let mut detail = String::new();
        for (i, line) in text.split('\n').enumerate() {
            if line.trim().is_empty() {
                break;
            }
            if i > 0 {
                detail.push_str("\n\t");
            }
            if i >= MAX_LINES {
                detail.push_str("[Truncated: too many lines.]");
                break;
            }
            if detail.len() + line.len() > MAX_BYTES {
                detail.push_str("[Truncated: too long.]");
                break;
            }
            detail.push_str(line);
        }
        (!detail.is_empty()).then_some(detail)
    }
}

/// A client for https under GOINSECURE: certificates are not checked and
/// the wait is short, as with the go command's `impatientInsecureHTTPClient`.
/// `None` when no TLS crypto provider is installed for the process (building
/// a client would panic); the caller's client is used then.
fn insecure_https_client() -> Option<reqwest::Client> {
    // Only a built client is cached, so a provider installed after the
    // first lookup is still picked up.
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Some(client.clone());
    }
    rustls::crypto::CryptoProvider::get_default()?;
    let client = reqwest::Client::builder()
        .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(10))
        .tls_danger_accept_invalid_certs(true)
        .build()
        .ok()?;
    Some(CLIENT.get_or_init(|| client).clone())
}

/// The causes of a reqwest error, innermost last, on one line.
fn describe(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

async fn fetch_page(
    client: &reqwest::Client,
    url: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<Page, String> {
    let https = url.starts_with("https:");
    let insecure_client = if https && !secure_only {
        insecure_https_client()
    } else {
        None
    };
    let mut request = insecure_client.as_ref().unwrap_or(client).get(url);
    if https && !secure_only {
        request = request.timeout(Duration::from_secs(5));
    }
    // The go command sends credentials over https only, GOINSECURE or not.
    if let Some(auth) = creds.http_authorization(url)
        && let Ok(mut value) = reqwest::header::HeaderValue::from_str(&auth)
    {
        value.set_sensitive(true);
        request = request.header(reqwest::header::AUTHORIZATION, value);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("Get {url:?}: {}", describe(&e)))?;
    // The go command refuses to be redirected from https to anything else
    // unless the path is GOINSECURE. The caller's client follows redirects
    // itself, so the downgrade is caught on arrival instead.
    if https && secure_only && response.url().scheme() != "https" {
        return Err(format!(
            "Get {url:?}: redirected from secure URL {url} to insecure URL {}",
            response.url()
        ));
    }
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::new();
    while body.len() < MAX_PAGE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Err(format!("reading {url}: {}", describe(&e))),
        }
    }
    body.truncate(MAX_PAGE_BYTES);
    Ok(Page {
        url: url.to_string(),
        status,
        content_type,
        body,
    })
}

/// Go's `web.Get` for a scheme-less URL: https, then plain http only when
/// the path is GOINSECURE. The error is the last attempt's.
async fn web_get(
    client: &reqwest::Client,
    host: &str,
    path: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<Page, String> {
    let https = format!("https://{host}{path}?go-get=1");
    match fetch_page(client, &https, secure_only, creds).await {
        Ok(page) => Ok(page),
        Err(e) if secure_only => Err(e),
        Err(_) => {
            let http = format!("http://{host}{path}?go-get=1");
            fetch_page(client, &http, false, creds).await
        }
    }
}

/// Go's `repoRootForImportDynamic` (with `PreferMod`). Errors are worded as
/// the go command words them, before it prefixes "unrecognized import
/// path".
async fn repo_root_dynamic(
    client: &reqwest::Client,
    import_path: &str,
    secure_only: bool,
    policy: &VcsPolicy,
    creds: &Credentials,
) -> Result<RepoRoot, DiscoveryError> {
    use DiscoveryErrorKind::{Invalid, NotFound, Unavailable};

    let (host, path) = url_for_import_path(import_path)?;
    let page = web_get(client, &host, &path, secure_only, creds)
        .await
        .map_err(|e| {
            let scheme = if secure_only { "https" } else { "http/https" };
            DiscoveryError::new(Unavailable, format!("{scheme} fetch: {e}"))
        })?;
    let (imports, parse_err) = parse_page(&page.body);
    if imports.is_empty()
        && let Some(err) = page.status_error()
    {
        // A failing status says more than an unparsable error page.
        return Err(err);
    }
    if let Some(e) = parse_err {
        return Err(DiscoveryError::new(
            NotFound,
            format!("parsing {import_path}: {e}"),
        ));
    }
    let mmi = match_go_import(&imports, import_path).map_err(|e| match e {
        MatchError::Mismatch(m) => DiscoveryError::new(
            NotFound,
            format!("parse {}: no go-import meta tags ({m})", page.url),
        ),
        MatchError::Multiple(m) => DiscoveryError::new(
            Invalid,
            format!("parse {}: {m}", schemeless_url(&host, &path)),
        ),
    })?;

    // A page at uni.edu/bob/project that claims the root uni.edu for
    // evil.example could hijack every path under uni.edu; the root's own
    // page must make the same claim before it is believed.
    if mmi.prefix != import_path {
        let (url2, imports2) =
            meta_imports_for_prefix(client, &mmi.prefix, secure_only, creds).await?;
        let agrees = matches!(match_go_import(&imports2, import_path), Ok(m) if m == mmi);
        if !agrees {
            return Err(DiscoveryError::new(
                Invalid,
                format!(
                    "{} and {url2} disagree about go-import for {}",
                    page.url, mmi.prefix
                ),
            ));
        }
    }

    if let Err(e) = validate_repo_subdir(&mmi.subdir) {
        return Err(DiscoveryError::new(
            Invalid,
            format!(
                "{}: invalid subdirectory {}: {e}",
                page.url,
                go_quote(&mmi.subdir)
            ),
        ));
    }
    if let Err(e) = validate_repo_root(&mmi.repo_root) {
        return Err(DiscoveryError::new(
            Invalid,
            format!(
                "{}: invalid repo root {}: {e}",
                page.url,
                go_quote(&mmi.repo_root)
            ),
        ));
    }
    if mmi.vcs != "mod" && !VCS_CMDS.contains(&mmi.vcs.as_str()) {
        return Err(DiscoveryError::new(
            Invalid,
            format!("{}: unknown vcs {}", page.url, go_quote(&mmi.vcs)),
        ));
    }
    policy.check(&mmi.vcs, &mmi.prefix)?;
    Ok(RepoRoot {
        root: mmi.prefix,
        vcs: mmi.vcs,
        repo_url: mmi.repo_root,
        subdir: mmi.subdir,
    })
}

/// Go's `metaImportsForPrefix`: the tags on the root's own page, and the
/// scheme-less URL it was asked for (for the disagreement message).
async fn meta_imports_for_prefix(
    client: &reqwest::Client,
    prefix: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<(String, Vec<MetaImport>), DiscoveryError> {
    use DiscoveryErrorKind::{NotFound, Unavailable};

    let (host, path) = url_for_import_path(prefix)?;
    let url = schemeless_url(&host, &path);
    let page = web_get(client, &host, &path, secure_only, creds)
        .await
        .map_err(|e| DiscoveryError::new(Unavailable, format!("fetching {prefix}: {e}")))?;
    let (imports, parse_err) = parse_page(&page.body);
    if imports.is_empty()
        && let Some(err) = page.status_error()
    {
        return Err(err);
    }
    if let Some(e) = parse_err {
        return Err(DiscoveryError::new(
            NotFound,
            format!("parsing {}: {e}", page.url),
        ));
    }
    if imports.is_empty() {
        return Err(DiscoveryError::new(
            NotFound,
            format!(
                "fetching {prefix}: no go-import meta tag found in {}",
                page.url
            ),
        ));
    }
    Ok((url, imports))
}

/// Go's `%q` for the strings a server controls (go-import fields), so that
/// odd bytes read the same as in the go command's messages. Elsewhere
/// (import paths, GOVCS) Rust's `{:?}` is used: it agrees with `%q` on the
/// printable text those hold.
fn go_quote(s: &str) -> String {
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
fn validate_repo_subdir(subdir: &str) -> Result<(), &'static str> {
    match subdir.as_bytes().first() {
        Some(b'/') => Err("leading slash"),
        Some(b'-') => Err("leading hyphen"),
        _ => Ok(()),
    }
}

/// Go's `validateRepoRoot`: the URL must parse by `net/url`'s rules and
/// have a scheme other than `file`.
fn validate_repo_root(repo_root: &str) -> Result<(), String> {
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

// ---------------------------------------------------------------------------
// Choosing among go-import tags.

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

// ---------------------------------------------------------------------------
// Reading go-import tags from HTML.

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
fn parse_page(html: &[u8]) -> (Vec<MetaImport>, Option<String>) {
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

/// The tokens the scan cares about. Names are local names: Go splits
/// `prefix:local` and the go command looks only at the local part.
enum Token {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        empty: bool,
    },
    End(String),
    Other,
}

/// A port of the parts of Go's `encoding/xml` `Decoder.RawToken` with
/// `Strict = false` that decide which tags are seen and where the scan
/// fails: a page that Go's tokenizer rejects before any go-import tag must
/// be rejected here too, so the details (what may follow `<`, comments,
/// entities, UTF-8 checks) follow it byte for byte.
struct Tokenizer<'a> {
    s: &'a [u8],
    pos: usize,
}

type XmlResult<T> = Result<T, String>;

impl Tokenizer<'_> {
    fn syntax_error(&self, msg: &str) -> String {
        let line = 1 + self.s[..self.pos].iter().filter(|&&b| b == b'\n').count();
        format!("XML syntax error on line {line}: {msg}")
    }

    fn getc(&mut self) -> Option<u8> {
        let b = *self.s.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn ungetc(&mut self) {
        self.pos -= 1;
    }

    fn mustgetc(&mut self) -> XmlResult<u8> {
        self.getc()
            .ok_or_else(|| self.syntax_error("unexpected EOF"))
    }

    fn space(&mut self) {
        while let Some(b) = self.getc() {
            if !matches!(b, b' ' | b'\r' | b'\n' | b'\t') {
                self.ungetc();
                return;
            }
        }
    }

    /// Go's `readName`: `Ok(None)` if no name starts here.
    fn read_name(&mut self) -> XmlResult<Option<Vec<u8>>> {
        let b = self.mustgetc()?;
        if b < 0x80 && !is_name_byte(b) {
            self.ungetc();
            return Ok(None);
        }
        let mut name = vec![b];
        loop {
            let b = self.mustgetc()?;
            if b < 0x80 && !is_name_byte(b) {
                self.ungetc();
                return Ok(Some(name));
            }
            name.push(b);
        }
    }

    /// Go's `name`: `Ok(None)` if no name starts here.
    fn name(&mut self) -> XmlResult<Option<String>> {
        let Some(raw) = self.read_name()? else {
            return Ok(None);
        };
        match std::str::from_utf8(&raw) {
            Ok(s) if is_xml_name(s) => Ok(Some(s.to_string())),
            _ => Err(self.syntax_error(&format!(
                "invalid XML name: {}",
                String::from_utf8_lossy(&raw)
            ))),
        }
    }

    /// Go's `nsname`, returning the local part; `Ok(None)` if there is no
    /// usable name (no name, or more than one colon).
    fn nsname(&mut self) -> XmlResult<Option<String>> {
        let Some(s) = self.name()? else {
            return Ok(None);
        };
        if s.matches(':').count() > 1 {
            return Ok(None);
        }
        Ok(Some(match s.split_once(':') {
            Some((space, local)) if !space.is_empty() && !local.is_empty() => local.to_string(),
            _ => s,
        }))
    }

    fn raw_token(&mut self) -> XmlResult<Option<Token>> {
        let Some(b) = self.getc() else {
            return Ok(None);
        };
        if b != b'<' {
            self.ungetc();
            self.text(None, false)?;
            return Ok(Some(Token::Other));
        }
        match self.mustgetc()? {
            b'/' => {
                let Some(name) = self.nsname()? else {
                    return Err(self.syntax_error("expected element name after </"));
                };
                self.space();
                if self.mustgetc()? != b'>' {
                    return Err(
                        self.syntax_error(&format!("invalid characters between </{name} and >"))
                    );
                }
                Ok(Some(Token::End(name)))
            }
            b'?' => self.proc_inst().map(Some),
            b'!' => self.bang().map(Some),
            _ => {
                self.ungetc();
                self.start_element().map(Some)
            }
        }
    }

    /// `<?target ...?>`; an `<?xml?>` declaration may name a version or an
    /// encoding the go command refuses.
    fn proc_inst(&mut self) -> XmlResult<Token> {
        let Some(target) = self.name()? else {
            return Err(self.syntax_error("expected target name after <?"));
        };
        self.space();
        let start = self.pos;
        let mut b0 = 0u8;
        loop {
            let b = self.mustgetc()?;
            if b0 == b'?' && b == b'>' {
                break;
            }
            b0 = b;
        }
        if target == "xml" {
            let content = String::from_utf8_lossy(&self.s[start..self.pos - 2]).into_owned();
            let ver = proc_inst_param("version", &content);
            if !ver.is_empty() && ver != "1.0" {
                return Err(format!(
                    "xml: unsupported version {ver:?}; only version 1.0 is supported"
                ));
            }
            let enc = proc_inst_param("encoding", &content);
            // The go command's charset reader knows UTF-8 and ASCII only
            // (and passes ASCII through unchanged).
            if !enc.is_empty()
                && !enc.eq_ignore_ascii_case("utf-8")
                && !enc.eq_ignore_ascii_case("ascii")
            {
                return Err(format!(
                    "xml: opening charset {enc:?}: can't decode XML document using charset {enc:?}"
                ));
            }
        }
        Ok(Token::Other)
    }

    /// `<!--...-->`, `<![CDATA[...]]>` and `<!DIRECTIVE ...>`.
    fn bang(&mut self) -> XmlResult<Token> {
        match self.mustgetc()? {
            b'-' => {
                if self.mustgetc()? != b'-' {
                    return Err(self.syntax_error("invalid sequence <!- not part of <!--"));
                }
                let (mut b0, mut b1) = (0u8, 0u8);
                loop {
                    let b = self.mustgetc()?;
                    if b0 == b'-' && b1 == b'-' {
                        if b != b'>' {
                            return Err(self
                                .syntax_error("invalid sequence \"--\" not allowed in comments"));
                        }
                        return Ok(Token::Other);
                    }
                    (b0, b1) = (b1, b);
                }
            }
            b'[' => {
                for want in b"CDATA[" {
                    if self.mustgetc()? != *want {
                        return Err(self.syntax_error("invalid <![ sequence"));
                    }
                }
                self.text(None, true)?;
                Ok(Token::Other)
            }
            _ => {
                // A directive: runs to the first '>' outside quotes and
                // nested '<...>', with comments inside skipped.
                let mut inquote = 0u8;
                let mut depth = 0usize;
                let mut pending: Option<u8> = None;
                loop {
                    let b = match pending.take() {
                        Some(b) => b,
                        None => {
                            let b = self.mustgetc()?;
                            if inquote == 0 && b == b'>' && depth == 0 {
                                return Ok(Token::Other);
                            }
                            b
                        }
                    };
                    if b == inquote {
                        inquote = 0;
                    } else if inquote != 0 {
                    } else if b == b'\'' || b == b'"' {
                        inquote = b;
                    } else if b == b'>' {
                        depth = depth.saturating_sub(1);
                    } else if b == b'<' {
                        let mut is_comment = true;
                        for want in b"!--" {
                            let c = self.mustgetc()?;
                            if c != *want {
                                // Go handles this byte as if read in the
                                // loop, skipping the '>' exit check.
                                depth += 1;
                                pending = Some(c);
                                is_comment = false;
                                break;
                            }
                        }
                        if is_comment {
                            let (mut b0, mut b1) = (0u8, 0u8);
                            loop {
                                let c = self.mustgetc()?;
                                if b0 == b'-' && b1 == b'-' && c == b'>' {
                                    break;
                                }
                                (b0, b1) = (b1, c);
                            }
                        }
                    }
                }
            }
        }
    }

    fn start_element(&mut self) -> XmlResult<Token> {
        let Some(name) = self.nsname()? else {
            return Err(self.syntax_error("expected element name after <"));
        };
        let mut attrs = Vec::new();
        loop {
            self.space();
            let b = self.mustgetc()?;
            if b == b'/' {
                if self.mustgetc()? != b'>' {
                    return Err(self.syntax_error("expected /> in element"));
                }
                return Ok(Token::Start {
                    name,
                    attrs,
                    empty: true,
                });
            }
            if b == b'>' {
                return Ok(Token::Start {
                    name,
                    attrs,
                    empty: false,
                });
            }
            self.ungetc();
            let Some(key) = self.nsname()? else {
                return Err(self.syntax_error("expected attribute name in element"));
            };
            self.space();
            if self.mustgetc()? != b'=' {
                // Non-strict: a bare attribute's value is its name.
                self.ungetc();
                attrs.push((key.clone(), key));
                continue;
            }
            self.space();
            let value = self.attr_value()?;
            attrs.push((key, value));
        }
    }

    fn attr_value(&mut self) -> XmlResult<String> {
        let b = self.mustgetc()?;
        if b == b'"' || b == b'\'' {
            return self.text(Some(b), false);
        }
        // Non-strict: an unquoted value is a run of HTML name characters.
        self.ungetc();
        let mut value = String::new();
        loop {
            let b = self.mustgetc()?;
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-') {
                value.push(char::from(b));
            } else {
                self.ungetc();
                return Ok(value);
            }
        }
    }

    /// Go's `text`: character data up to `<` (or the closing quote, or
    /// `]]>` in CDATA), with the five XML entities and character references
    /// decoded, unknown entities kept as written, CR LF folded, and the
    /// result checked for UTF-8 and XML's character range.
    fn text(&mut self, quote: Option<u8>, cdata: bool) -> XmlResult<String> {
        let (mut b0, mut b1) = (0u8, 0u8);
        let mut buf: Vec<u8> = Vec::new();
        let mut trunc = 0;
        loop {
            let Some(b) = self.getc() else {
                if cdata {
                    return Err(self.syntax_error("unexpected EOF in CDATA section"));
                }
                break;
            };
            if quote.is_none() && b0 == b']' && b1 == b']' && b == b'>' {
                if cdata {
                    trunc = 2;
                    break;
                }
                return Err(self.syntax_error("unescaped ]]> not in CDATA section"));
            }
            if b == b'<' && !cdata {
                if quote.is_some() {
                    return Err(self.syntax_error("unescaped < inside quoted string"));
                }
                self.ungetc();
                break;
            }
            if quote == Some(b) {
                break;
            }
            if b == b'&' && !cdata {
                self.entity(&mut buf)?;
                (b0, b1) = (0, 0);
                continue;
            }
            if b == b'\r' {
                buf.push(b'\n');
            } else if b1 == b'\r' && b == b'\n' {
                // CR LF: the LF was already written for the CR.
            } else {
                buf.push(b);
            }
            (b0, b1) = (b1, b);
        }
        buf.truncate(buf.len() - trunc);
        let text = String::from_utf8(buf).map_err(|_| self.syntax_error("invalid UTF-8"))?;
        if let Some(c) = text.chars().find(|&c| !is_xml_char(c)) {
            return Err(self.syntax_error(&format!("illegal character code U+{:04X}", c as u32)));
        }
        Ok(text)
    }

    /// After `&`: writes the decoded entity, or (non-strict) the raw text.
    fn entity(&mut self, buf: &mut Vec<u8>) -> XmlResult<()> {
        let before = buf.len();
        buf.push(b'&');
        let mut b = self.mustgetc()?;
        let mut decoded: Option<String> = None;
        if b == b'#' {
            buf.push(b);
            b = self.mustgetc()?;
            let mut radix = 10;
            if b == b'x' {
                radix = 16;
                buf.push(b);
                b = self.mustgetc()?;
            }
            let start = buf.len();
            while b.is_ascii_digit() || (radix == 16 && b.is_ascii_hexdigit()) {
                buf.push(b);
                b = self.mustgetc()?;
            }
            if b != b';' {
                self.ungetc();
            } else {
                let digits = String::from_utf8_lossy(&buf[start..]).into_owned();
                buf.push(b';');
                if let Ok(n) = u64::from_str_radix(&digits, radix)
                    && n <= 0x10FFFF
                {
                    // Go's string(rune(n)) turns surrogates into U+FFFD.
                    let c = u32::try_from(n)
                        .ok()
                        .and_then(char::from_u32)
                        .unwrap_or('\u{FFFD}');
                    decoded = Some(c.to_string());
                }
            }
        } else {
            self.ungetc();
            if let Some(name) = self.read_name()? {
                buf.extend_from_slice(&name);
            }
            let b = self.mustgetc()?;
            if b != b';' {
                self.ungetc();
            } else {
                let name = String::from_utf8_lossy(&buf[before + 1..]).into_owned();
                buf.push(b';');
                if is_xml_name(&name) {
                    decoded = match name.as_str() {
                        "lt" => Some("<".into()),
                        "gt" => Some(">".into()),
                        "amp" => Some("&".into()),
                        "apos" => Some("'".into()),
                        "quot" => Some("\"".into()),
                        _ => None,
                    };
                }
            }
        }
        if let Some(text) = decoded {
            buf.truncate(before);
            buf.extend_from_slice(text.as_bytes());
        }
        Ok(())
    }
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-')
}

/// XML's name rule. ASCII is exact; beyond ASCII, Unicode letters (and,
/// after the first character, letters and digits) stand in for the XML 1.0
/// tables Go uses, which differ only on characters no HTML tag uses.
fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let is_first = |c: char| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (!c.is_ascii() && c.is_alphabetic())
    };
    is_first(first)
        && chars.all(|c| {
            is_first(c)
                || c.is_ascii_digit()
                || c == '.'
                || c == '-'
                || (!c.is_ascii() && c.is_alphanumeric())
        })
}

fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x09 | 0x0A | 0x0D | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Go's `procInst`: the quoted value of `param=` in an `<?xml ...?>`
/// declaration, found as loosely as Go finds it.
fn proc_inst_param(param: &str, s: &str) -> String {
    let key = format!("{param}=");
    let (key, b) = (key.as_bytes(), s.as_bytes());
    let find = |hay: &[u8]| hay.windows(key.len()).position(|w| w == key);
    let mut i = 0;
    let mut sep = None;
    while i < b.len() {
        let sub = &b[i..];
        let Some(k) = find(sub) else {
            return String::new();
        };
        if key.len() + k >= sub.len() {
            return String::new();
        }
        i += key.len() + k + 1;
        let c = sub[key.len() + k];
        if c == b'\'' || c == b'"' {
            sep = Some(c);
            break;
        }
    }
    let Some(sep) = sep else {
        return String::new();
    };
    let rest = b.get(i..).unwrap_or_default();
    match rest.iter().position(|&c| c == sep) {
        Some(j) => String::from_utf8_lossy(&rest[..j]).into_owned(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected outputs in this module come from the go command itself: a
    // throwaway `_test.go` file laid over `$GOROOT/src/cmd/go/internal/vcs`
    // with `go test -overlay` (go1.27.3) called the real
    // `repoRootFromVCSPaths`, `parseMetaGoImports` and `matchGoImport` on
    // these inputs and printed the results. For the table it cleared every
    // VCS's ping command, so the scheme is the first one the security mode
    // allows, which is what [`schemes_to_try`] must put first.

    /// (import path, GOINSECURE matches, "unknown" | "err:<message>" |
    /// "ok:<root>|<vcs>|<repo URL>").
    const VCS_PATHS: &[(&str, bool, &str)] = &[
        (
            "github.com/a/b",
            false,
            "ok:github.com/a/b|git|https://github.com/a/b",
        ),
        (
            "github.com/a/b",
            true,
            "ok:github.com/a/b|git|https://github.com/a/b",
        ),
        (
            "github.com/golang/go/src/cmd",
            false,
            "ok:github.com/golang/go|git|https://github.com/golang/go",
        ),
        (
            "github.com/golang/go/src/cmd",
            true,
            "ok:github.com/golang/go|git|https://github.com/golang/go",
        ),
        (
            "github.com/a",
            false,
            "err:invalid github.com import path \"github.com/a\"",
        ),
        (
            "github.com/a",
            true,
            "err:invalid github.com import path \"github.com/a\"",
        ),
        (
            "github.com",
            false,
            "err:invalid github.com import path \"github.com\"",
        ),
        (
            "github.com",
            true,
            "err:invalid github.com import path \"github.com\"",
        ),
        (
            "github.com/",
            false,
            "err:invalid github.com import path \"github.com/\"",
        ),
        (
            "github.com/",
            true,
            "err:invalid github.com import path \"github.com/\"",
        ),
        (
            "github.com/a/b/",
            false,
            "err:invalid github.com import path \"github.com/a/b/\"",
        ),
        (
            "github.com/a/b/",
            true,
            "err:invalid github.com import path \"github.com/a/b/\"",
        ),
        (
            "github.com//b",
            false,
            "err:invalid github.com import path \"github.com//b\"",
        ),
        (
            "github.com//b",
            true,
            "err:invalid github.com import path \"github.com//b\"",
        ),
        (
            "github.com/a/b.git",
            false,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.git",
            true,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.git/sub",
            false,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.git/sub",
            true,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.hg",
            false,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.hg",
            true,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.bzr",
            false,
            "ok:github.com/a/b.bzr|git|https://github.com/a/b.bzr",
        ),
        (
            "github.com/a/b.bzr",
            true,
            "ok:github.com/a/b.bzr|git|https://github.com/a/b.bzr",
        ),
        (
            "github.com/a/b.svn",
            false,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.svn",
            true,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.fossil",
            false,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a/b.fossil",
            true,
            "err:invalid version control suffix in github.com/ path",
        ),
        (
            "github.com/a.git/b",
            false,
            "ok:github.com/a.git/b|git|https://github.com/a.git/b",
        ),
        (
            "github.com/a.git/b",
            true,
            "ok:github.com/a.git/b|git|https://github.com/a.git/b",
        ),
        (
            "github.com/A_b/C.d-e",
            false,
            "ok:github.com/A_b/C.d-e|git|https://github.com/A_b/C.d-e",
        ),
        (
            "github.com/A_b/C.d-e",
            true,
            "ok:github.com/A_b/C.d-e|git|https://github.com/A_b/C.d-e",
        ),
        (
            "github.com/a/b/~c",
            false,
            "err:invalid github.com import path \"github.com/a/b/~c\"",
        ),
        (
            "github.com/a/b/~c",
            true,
            "err:invalid github.com import path \"github.com/a/b/~c\"",
        ),
        (
            "github.com/a/b/c d",
            false,
            "err:invalid github.com import path \"github.com/a/b/c d\"",
        ),
        (
            "github.com/a/b/c d",
            true,
            "err:invalid github.com import path \"github.com/a/b/c d\"",
        ),
        (
            "github.com/a/b/ü",
            false,
            "err:invalid github.com import path \"github.com/a/b/ü\"",
        ),
        (
            "github.com/a/b/ü",
            true,
            "err:invalid github.com import path \"github.com/a/b/ü\"",
        ),
        ("github.comx/a/b", false, "unknown"),
        ("github.comx/a/b", true, "unknown"),
        ("github.com.evil/a/b", false, "unknown"),
        ("github.com.evil/a/b", true, "unknown"),
        (
            "bitbucket.org/a/b",
            false,
            "ok:bitbucket.org/a/b|git|https://bitbucket.org/a/b",
        ),
        (
            "bitbucket.org/a/b",
            true,
            "ok:bitbucket.org/a/b|git|https://bitbucket.org/a/b",
        ),
        (
            "bitbucket.org/a/b/c",
            false,
            "ok:bitbucket.org/a/b|git|https://bitbucket.org/a/b",
        ),
        (
            "bitbucket.org/a/b/c",
            true,
            "ok:bitbucket.org/a/b|git|https://bitbucket.org/a/b",
        ),
        (
            "bitbucket.org/a",
            false,
            "err:invalid bitbucket.org import path \"bitbucket.org/a\"",
        ),
        (
            "bitbucket.org/a",
            true,
            "err:invalid bitbucket.org import path \"bitbucket.org/a\"",
        ),
        (
            "bitbucket.org/a/b.git",
            false,
            "err:invalid version control suffix in bitbucket.org/ path",
        ),
        (
            "bitbucket.org/a/b.git",
            true,
            "err:invalid version control suffix in bitbucket.org/ path",
        ),
        (
            "bitbucket.org/a/b.hg",
            false,
            "err:invalid version control suffix in bitbucket.org/ path",
        ),
        (
            "bitbucket.org/a/b.hg",
            true,
            "err:invalid version control suffix in bitbucket.org/ path",
        ),
        (
            "hub.jazz.net/git/user1/repo",
            false,
            "ok:hub.jazz.net/git/user1/repo|git|https://hub.jazz.net/git/user1/repo",
        ),
        (
            "hub.jazz.net/git/user1/repo",
            true,
            "ok:hub.jazz.net/git/user1/repo|git|https://hub.jazz.net/git/user1/repo",
        ),
        (
            "hub.jazz.net/git/User1/repo",
            false,
            "err:invalid hub.jazz.net/git import path \"hub.jazz.net/git/User1/repo\"",
        ),
        (
            "hub.jazz.net/git/User1/repo",
            true,
            "err:invalid hub.jazz.net/git import path \"hub.jazz.net/git/User1/repo\"",
        ),
        (
            "hub.jazz.net/git/user1/repo/sub/dir",
            false,
            "ok:hub.jazz.net/git/user1/repo|git|https://hub.jazz.net/git/user1/repo",
        ),
        (
            "hub.jazz.net/git/user1/repo/sub/dir",
            true,
            "ok:hub.jazz.net/git/user1/repo|git|https://hub.jazz.net/git/user1/repo",
        ),
        (
            "hub.jazz.net/git/user1",
            false,
            "err:invalid hub.jazz.net/git import path \"hub.jazz.net/git/user1\"",
        ),
        (
            "hub.jazz.net/git/user1",
            true,
            "err:invalid hub.jazz.net/git import path \"hub.jazz.net/git/user1\"",
        ),
        (
            "hub.jazz.net/git/user1/repo.git",
            false,
            "err:invalid version control suffix in hub.jazz.net/git/ path",
        ),
        (
            "hub.jazz.net/git/user1/repo.git",
            true,
            "err:invalid version control suffix in hub.jazz.net/git/ path",
        ),
        ("hub.jazz.net/foo/bar", false, "unknown"),
        ("hub.jazz.net/foo/bar", true, "unknown"),
        (
            "hub.jazz.net/git",
            false,
            "err:invalid hub.jazz.net/git import path \"hub.jazz.net/git\"",
        ),
        (
            "hub.jazz.net/git",
            true,
            "err:invalid hub.jazz.net/git import path \"hub.jazz.net/git\"",
        ),
        (
            "git.apache.org/thrift.git",
            false,
            "ok:git.apache.org/thrift.git|git|https://git.apache.org/thrift.git",
        ),
        (
            "git.apache.org/thrift.git",
            true,
            "ok:git.apache.org/thrift.git|git|https://git.apache.org/thrift.git",
        ),
        (
            "git.apache.org/thrift.git/lib/go",
            false,
            "ok:git.apache.org/thrift.git|git|https://git.apache.org/thrift.git",
        ),
        (
            "git.apache.org/thrift.git/lib/go",
            true,
            "ok:git.apache.org/thrift.git|git|https://git.apache.org/thrift.git",
        ),
        (
            "git.apache.org/thrift",
            false,
            "err:invalid git.apache.org import path \"git.apache.org/thrift\"",
        ),
        (
            "git.apache.org/thrift",
            true,
            "err:invalid git.apache.org import path \"git.apache.org/thrift\"",
        ),
        (
            "git.apache.org/Thrift.git",
            false,
            "err:invalid git.apache.org import path \"git.apache.org/Thrift.git\"",
        ),
        (
            "git.apache.org/Thrift.git",
            true,
            "err:invalid git.apache.org import path \"git.apache.org/Thrift.git\"",
        ),
        (
            "git.apache.org/.git",
            false,
            "err:invalid git.apache.org import path \"git.apache.org/.git\"",
        ),
        (
            "git.apache.org/.git",
            true,
            "err:invalid git.apache.org import path \"git.apache.org/.git\"",
        ),
        (
            "git.apache.org/a.git.git",
            false,
            "ok:git.apache.org/a.git.git|git|https://git.apache.org/a.git.git",
        ),
        (
            "git.apache.org/a.git.git",
            true,
            "ok:git.apache.org/a.git.git|git|https://git.apache.org/a.git.git",
        ),
        (
            "git.apache.org",
            false,
            "err:invalid git.apache.org import path \"git.apache.org\"",
        ),
        (
            "git.apache.org",
            true,
            "err:invalid git.apache.org import path \"git.apache.org\"",
        ),
        (
            "git.openstack.org/openstack/swift",
            false,
            "ok:git.openstack.org/openstack/swift|git|https://git.openstack.org/openstack/swift",
        ),
        (
            "git.openstack.org/openstack/swift",
            true,
            "ok:git.openstack.org/openstack/swift|git|https://git.openstack.org/openstack/swift",
        ),
        (
            "git.openstack.org/openstack/swift.git",
            false,
            "ok:git.openstack.org/openstack/swift.git|git|https://git.openstack.org/openstack/swift.git",
        ),
        (
            "git.openstack.org/openstack/swift.git",
            true,
            "ok:git.openstack.org/openstack/swift.git|git|https://git.openstack.org/openstack/swift.git",
        ),
        (
            "git.openstack.org/openstack/swift.git/sub",
            false,
            "ok:git.openstack.org/openstack/swift.git|git|https://git.openstack.org/openstack/swift.git",
        ),
        (
            "git.openstack.org/openstack/swift.git/sub",
            true,
            "ok:git.openstack.org/openstack/swift.git|git|https://git.openstack.org/openstack/swift.git",
        ),
        (
            "git.openstack.org/openstack/swift/sub",
            false,
            "ok:git.openstack.org/openstack/swift|git|https://git.openstack.org/openstack/swift",
        ),
        (
            "git.openstack.org/openstack/swift/sub",
            true,
            "ok:git.openstack.org/openstack/swift|git|https://git.openstack.org/openstack/swift",
        ),
        (
            "git.openstack.org/openstack",
            false,
            "err:invalid git.openstack.org import path \"git.openstack.org/openstack\"",
        ),
        (
            "git.openstack.org/openstack",
            true,
            "err:invalid git.openstack.org import path \"git.openstack.org/openstack\"",
        ),
        (
            "chiselapp.com/user/kyle/repository/fossilgg",
            false,
            "ok:chiselapp.com/user/kyle/repository/fossilgg|fossil|https://chiselapp.com/user/kyle/repository/fossilgg",
        ),
        (
            "chiselapp.com/user/kyle/repository/fossilgg",
            true,
            "ok:chiselapp.com/user/kyle/repository/fossilgg|fossil|https://chiselapp.com/user/kyle/repository/fossilgg",
        ),
        (
            "chiselapp.com/user/kyle/repository/fossilgg/sub",
            false,
            "err:invalid chiselapp.com import path \"chiselapp.com/user/kyle/repository/fossilgg/sub\"",
        ),
        (
            "chiselapp.com/user/kyle/repository/fossilgg/sub",
            true,
            "err:invalid chiselapp.com import path \"chiselapp.com/user/kyle/repository/fossilgg/sub\"",
        ),
        (
            "chiselapp.com/user/ky_le/repository/fossilgg",
            false,
            "err:invalid chiselapp.com import path \"chiselapp.com/user/ky_le/repository/fossilgg\"",
        ),
        (
            "chiselapp.com/user/ky_le/repository/fossilgg",
            true,
            "err:invalid chiselapp.com import path \"chiselapp.com/user/ky_le/repository/fossilgg\"",
        ),
        (
            "chiselapp.com/user/kyle",
            false,
            "err:invalid chiselapp.com import path \"chiselapp.com/user/kyle\"",
        ),
        (
            "chiselapp.com/user/kyle",
            true,
            "err:invalid chiselapp.com import path \"chiselapp.com/user/kyle\"",
        ),
        (
            "chiselapp.com/u/kyle/repository/x",
            false,
            "err:invalid chiselapp.com import path \"chiselapp.com/u/kyle/repository/x\"",
        ),
        (
            "chiselapp.com/u/kyle/repository/x",
            true,
            "err:invalid chiselapp.com import path \"chiselapp.com/u/kyle/repository/x\"",
        ),
        (
            "example.com/repo.git",
            false,
            "ok:example.com/repo.git|git|https://example.com/repo",
        ),
        (
            "example.com/repo.git",
            true,
            "ok:example.com/repo.git|git|git://example.com/repo",
        ),
        (
            "example.com/repo.git/sub/pkg",
            false,
            "ok:example.com/repo.git|git|https://example.com/repo",
        ),
        (
            "example.com/repo.git/sub/pkg",
            true,
            "ok:example.com/repo.git|git|git://example.com/repo",
        ),
        (
            "example.com/a/b/repo.git",
            false,
            "ok:example.com/a/b/repo.git|git|https://example.com/a/b/repo",
        ),
        (
            "example.com/a/b/repo.git",
            true,
            "ok:example.com/a/b/repo.git|git|git://example.com/a/b/repo",
        ),
        (
            "example.com/a/b/repo.git/c.hg/d",
            false,
            "ok:example.com/a/b/repo.git/c.hg|hg|https://example.com/a/b/repo.git/c",
        ),
        (
            "example.com/a/b/repo.git/c.hg/d",
            true,
            "ok:example.com/a/b/repo.git/c.hg|hg|https://example.com/a/b/repo.git/c",
        ),
        (
            "example.com/repo.hg",
            false,
            "ok:example.com/repo.hg|hg|https://example.com/repo",
        ),
        (
            "example.com/repo.hg",
            true,
            "ok:example.com/repo.hg|hg|https://example.com/repo",
        ),
        (
            "example.com/repo.svn",
            false,
            "ok:example.com/repo.svn|svn|https://example.com/repo",
        ),
        (
            "example.com/repo.svn",
            true,
            "ok:example.com/repo.svn|svn|https://example.com/repo",
        ),
        (
            "example.com/repo.fossil",
            false,
            "ok:example.com/repo.fossil|fossil|https://example.com/repo",
        ),
        (
            "example.com/repo.fossil",
            true,
            "ok:example.com/repo.fossil|fossil|https://example.com/repo",
        ),
        ("example.com/repo.bzr", false, "unknown"),
        ("example.com/repo.bzr", true, "unknown"),
        (
            "example.com:8080/repo.git",
            false,
            "ok:example.com:8080/repo.git|git|https://example.com:8080/repo",
        ),
        (
            "example.com:8080/repo.git",
            true,
            "ok:example.com:8080/repo.git|git|git://example.com:8080/repo",
        ),
        ("example.com:/repo.git", false, "unknown"),
        ("example.com:/repo.git", true, "unknown"),
        ("example.com:80a/repo.git", false, "unknown"),
        ("example.com:80a/repo.git", true, "unknown"),
        (
            "example.com/~user/repo.git",
            false,
            "ok:example.com/~user/repo.git|git|https://example.com/~user/repo",
        ),
        (
            "example.com/~user/repo.git",
            true,
            "ok:example.com/~user/repo.git|git|git://example.com/~user/repo",
        ),
        (
            "example.com/~user/~repo.git/~x",
            false,
            "ok:example.com/~user/~repo.git|git|https://example.com/~user/~repo",
        ),
        (
            "example.com/~user/~repo.git/~x",
            true,
            "ok:example.com/~user/~repo.git|git|git://example.com/~user/~repo",
        ),
        ("example.com/~/repo.git", false, "unknown"),
        ("example.com/~/repo.git", true, "unknown"),
        ("example.com/~.git", false, "unknown"),
        ("example.com/~.git", true, "unknown"),
        ("example.com/.git", false, "unknown"),
        ("example.com/.git", true, "unknown"),
        (
            "example.com/x.git.hg",
            false,
            "ok:example.com/x.git.hg|hg|https://example.com/x.git",
        ),
        (
            "example.com/x.git.hg",
            true,
            "ok:example.com/x.git.hg|hg|https://example.com/x.git",
        ),
        ("example.com/x.gitx", false, "unknown"),
        ("example.com/x.gitx", true, "unknown"),
        (
            "Example.com/repo.git",
            false,
            "ok:xample.com/repo.git|git|https://xample.com/repo",
        ),
        (
            "Example.com/repo.git",
            true,
            "ok:xample.com/repo.git|git|git://xample.com/repo",
        ),
        ("EXAMPLE.COM/repo.git", false, "unknown"),
        ("EXAMPLE.COM/repo.git", true, "unknown"),
        (
            "foo/bar.baz/x.git",
            false,
            "ok:bar.baz/x.git|git|https://bar.baz/x",
        ),
        (
            "foo/bar.baz/x.git",
            true,
            "ok:bar.baz/x.git|git|git://bar.baz/x",
        ),
        ("foo.bar/baz.git/ü", false, "unknown"),
        ("foo.bar/baz.git/ü", true, "unknown"),
        ("foo.bar/baz.git/a b", false, "unknown"),
        ("foo.bar/baz.git/a b", true, "unknown"),
        ("a.b/c.git", false, "ok:a.b/c.git|git|https://a.b/c"),
        ("a.b/c.git", true, "ok:a.b/c.git|git|git://a.b/c"),
        (".a/c.git", false, "unknown"),
        (".a/c.git", true, "unknown"),
        ("a./c.git", false, "unknown"),
        ("a./c.git", true, "unknown"),
        ("a../c.git", false, "ok:a../c.git|git|https://a../c"),
        ("a../c.git", true, "ok:a../c.git|git|git://a../c"),
        ("..a/c.git", false, "ok:..a/c.git|git|https://..a/c"),
        ("..a/c.git", true, "ok:..a/c.git|git|git://..a/c"),
        ("-.a/c.git", false, "ok:-.a/c.git|git|https://-.a/c"),
        ("-.a/c.git", true, "ok:-.a/c.git|git|git://-.a/c"),
        ("localhost/repo.git", false, "unknown"),
        ("localhost/repo.git", true, "unknown"),
        (
            "x.y.z/p/q.git",
            false,
            "ok:x.y.z/p/q.git|git|https://x.y.z/p/q",
        ),
        (
            "x.y.z/p/q.git",
            true,
            "ok:x.y.z/p/q.git|git|git://x.y.z/p/q",
        ),
        ("example.com/repo", false, "unknown"),
        ("example.com/repo", true, "unknown"),
        ("example.com", false, "unknown"),
        ("example.com", true, "unknown"),
        ("golang.org/x/tools", false, "unknown"),
        ("golang.org/x/tools", true, "unknown"),
        ("meta.example.test/foo", false, "unknown"),
        ("meta.example.test/foo", true, "unknown"),
        ("example.net/foo", false, "err:no modules on example.net"),
        ("example.net/foo", true, "err:no modules on example.net"),
        ("example.net", false, "err:no modules on example.net"),
        ("example.net", true, "err:no modules on example.net"),
        (
            "example.netx/foo.git",
            false,
            "ok:example.netx/foo.git|git|https://example.netx/foo",
        ),
        (
            "example.netx/foo.git",
            true,
            "ok:example.netx/foo.git|git|git://example.netx/foo",
        ),
        ("rsc.io", false, "err:rsc.io is not a module"),
        ("rsc.io", true, "err:rsc.io is not a module"),
        ("rsc.io/quote", false, "unknown"),
        ("rsc.io/quote", true, "unknown"),
        (
            "rsc.io/nonexist.svn/foo",
            false,
            "ok:rsc.io/nonexist.svn|svn|https://rsc.io/nonexist",
        ),
        (
            "rsc.io/nonexist.svn/foo",
            true,
            "ok:rsc.io/nonexist.svn|svn|https://rsc.io/nonexist",
        ),
        (
            "http://example.com/foo",
            false,
            "err:\"http://\" not allowed in import path",
        ),
        (
            "http://example.com/foo",
            true,
            "err:\"http://\" not allowed in import path",
        ),
        (
            "https://github.com/a/b",
            false,
            "err:\"https://\" not allowed in import path",
        ),
        (
            "https://github.com/a/b",
            true,
            "err:\"https://\" not allowed in import path",
        ),
        (
            "https:/x",
            false,
            "err:\"https://\" not allowed in import path",
        ),
        (
            "https:/x",
            true,
            "err:\"https://\" not allowed in import path",
        ),
        ("httpx/foo", false, "unknown"),
        ("httpx/foo", true, "unknown"),
        (
            "my.host/repo.git/sub...",
            false,
            "ok:my.host/repo.git|git|https://my.host/repo",
        ),
        (
            "my.host/repo.git/sub...",
            true,
            "ok:my.host/repo.git|git|git://my.host/repo",
        ),
        (
            "a.com/x.git/b.git",
            false,
            "ok:a.com/x.git/b.git|git|https://a.com/x.git/b",
        ),
        (
            "a.com/x.git/b.git",
            true,
            "ok:a.com/x.git/b.git|git|git://a.com/x.git/b",
        ),
        (
            "a.com/x.git/~b.hg/c",
            false,
            "ok:a.com/x.git/~b.hg|hg|https://a.com/x.git/~b",
        ),
        (
            "a.com/x.git/~b.hg/c",
            true,
            "ok:a.com/x.git/~b.hg|hg|https://a.com/x.git/~b",
        ),
        ("a.com/x.git/b c", false, "unknown"),
        ("a.com/x.git/b c", true, "unknown"),
        (
            "a.com/x.hg/y.svn/z.fossil/w",
            false,
            "ok:a.com/x.hg/y.svn/z.fossil|fossil|https://a.com/x.hg/y.svn/z",
        ),
        (
            "a.com/x.hg/y.svn/z.fossil/w",
            true,
            "ok:a.com/x.hg/y.svn/z.fossil|fossil|https://a.com/x.hg/y.svn/z",
        ),
        (
            "a.com/x.git/y.gitx",
            false,
            "ok:a.com/x.git|git|https://a.com/x",
        ),
        (
            "a.com/x.git/y.gitx",
            true,
            "ok:a.com/x.git|git|git://a.com/x",
        ),
        ("a.com/x.git//y", false, "unknown"),
        ("a.com/x.git//y", true, "unknown"),
        ("a.com/x.git/", false, "unknown"),
        ("a.com/x.git/", true, "unknown"),
        (
            "a.com:1/b.hg",
            false,
            "ok:a.com:1/b.hg|hg|https://a.com:1/b",
        ),
        ("a.com:1/b.hg", true, "ok:a.com:1/b.hg|hg|https://a.com:1/b"),
        (
            "1.2.3.4/x.git",
            false,
            "ok:1.2.3.4/x.git|git|https://1.2.3.4/x",
        ),
        (
            "1.2.3.4/x.git",
            true,
            "ok:1.2.3.4/x.git|git|git://1.2.3.4/x",
        ),
        (
            "a.com/b.git/../c",
            false,
            "ok:a.com/b.git|git|https://a.com/b",
        ),
        ("a.com/b.git/../c", true, "ok:a.com/b.git|git|git://a.com/b"),
        (
            "a.com/.hg/x.git",
            false,
            "ok:a.com/.hg/x.git|git|https://a.com/.hg/x",
        ),
        (
            "a.com/.hg/x.git",
            true,
            "ok:a.com/.hg/x.git|git|git://a.com/.hg/x",
        ),
        ("sub.a.com/Repo.Git", false, "unknown"),
        ("sub.a.com/Repo.Git", true, "unknown"),
        (
            "sub.a.com/Repo.git",
            false,
            "ok:sub.a.com/Repo.git|git|https://sub.a.com/Repo",
        ),
        (
            "sub.a.com/Repo.git",
            true,
            "ok:sub.a.com/Repo.git|git|git://sub.a.com/Repo",
        ),
        (
            "a.com/x/y.svn/sub",
            false,
            "ok:a.com/x/y.svn|svn|https://a.com/x/y",
        ),
        (
            "a.com/x/y.svn/sub",
            true,
            "ok:a.com/x/y.svn|svn|https://a.com/x/y",
        ),
        ("a.com/x.git~/y.git", false, "unknown"),
        ("a.com/x.git~/y.git", true, "unknown"),
        (
            "a.com/-x.git",
            false,
            "ok:a.com/-x.git|git|https://a.com/-x",
        ),
        ("a.com/-x.git", true, "ok:a.com/-x.git|git|git://a.com/-x"),
        ("AB.c.d/e.git", false, "ok:.c.d/e.git|git|https://.c.d/e"),
        ("AB.c.d/e.git", true, "ok:.c.d/e.git|git|git://.c.d/e"),
        ("a.B.com/x.git", false, "unknown"),
        ("a.B.com/x.git", true, "unknown"),
        (
            "x/y/a.com/z.git",
            false,
            "ok:a.com/z.git|git|https://a.com/z",
        ),
        ("x/y/a.com/z.git", true, "ok:a.com/z.git|git|git://a.com/z"),
    ];

    fn outcome(path: &str, insecure: bool) -> String {
        match match_vcs_paths(path) {
            VcsPathMatch::Unknown => "unknown".to_string(),
            VcsPathMatch::Error(e) => format!("err:{}", e.message()),
            VcsPathMatch::Found(rr) => {
                assert!(rr.subdir.is_empty());
                format!("ok:{}|{}|{}", rr.root, rr.vcs, rr.repo_url)
            }
            VcsPathMatch::NeedsScheme { root, vcs, repo } => {
                let schemes = schemes_to_try(&vcs, !insecure);
                format!("ok:{root}|{vcs}|{}://{repo}", schemes[0])
            }
        }
    }

    #[test]
    fn vcs_paths_agree_with_go() {
        // GIT_ALLOW_PROTOCOL would change which schemes count as secure.
        assert!(std::env::var_os("GIT_ALLOW_PROTOCOL").is_none());
        let mut wrong = Vec::new();
        for &(path, insecure, want) in VCS_PATHS {
            let got = outcome(path, insecure);
            if got != want {
                wrong.push(format!(
                    "{path:?} insecure={insecure}: got {got:?}, want {want:?}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn scheme_order_and_security() {
        assert_eq!(
            schemes_to_try("git", false),
            ["git", "https", "http", "git+ssh", "ssh"]
        );
        assert_eq!(schemes_to_try("git", true), ["https", "git+ssh", "ssh"]);
        assert_eq!(schemes_to_try("hg", true), ["https", "ssh"]);
        assert_eq!(schemes_to_try("svn", true), ["https", "svn+ssh"]);
        assert_eq!(
            schemes_to_try("svn", false),
            ["https", "http", "svn", "svn+ssh"]
        );
        assert_eq!(schemes_to_try("fossil", true), ["https"]);
        assert!(schemes_to_try("bzr", false).is_empty());
    }

    #[test]
    fn error_kinds_of_static_rules() {
        for (path, kind) in [
            ("github.com/a", DiscoveryErrorKind::Invalid),
            ("github.com/a/b.git", DiscoveryErrorKind::Invalid),
            ("https://github.com/a/b", DiscoveryErrorKind::Invalid),
            ("example.net/x", DiscoveryErrorKind::NotFound),
        ] {
            match match_vcs_paths(path) {
                VcsPathMatch::Error(e) => assert_eq!(e.kind(), kind, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    struct HtmlCase {
        html: &'static [u8],
        /// What Go's parseMetaGoImports returns ignoring `mod` entries:
        /// the VCS entries in document order.
        ignore_mod: &'static [[&'static str; 4]],
        /// What it returns in module mode: `mod` entries first, then the
        /// VCS entries they do not shadow.
        prefer_mod: &'static [[&'static str; 4]],
        /// Its error, reported only when no tag was found.
        err: &'static str,
    }

    const HTML_CASES: &[HtmlCase] = &[
    HtmlCase {
        html: b"<html><head><meta name=\"go-import\" content=\"example.com/a git https://example.com/a\"></head></html>",
        ignore_mod: &[["example.com/a", "git", "https://example.com/a", ""]],
        prefer_mod: &[["example.com/a", "git", "https://example.com/a", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<meta name=\"go-import\" content=\"example.com/a git https://example.com/a\">",
        ignore_mod: &[["example.com/a", "git", "https://example.com/a", ""]],
        prefer_mod: &[["example.com/a", "git", "https://example.com/a", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<html><head></head><meta name=\"go-import\" content=\"example.com/a git https://example.com/a\"></html>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<html><body><meta name=\"go-import\" content=\"example.com/a git https://example.com/a\"></body></html>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<html><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head><body><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"></body>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<HTML><HEAD><META NAME=\"go-import\" CONTENT=\"a.com/x git https://a.com/x\"></HEAD></HTML>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<html><head><meta name=\"Go-Import\" content=\"a.com/x git https://a.com/x\"></head></html>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name='go-import' content='a.com/x git https://a.com/x'></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=go-import content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta content=\"a.com/x git https://a.com/x\" name=\"go-import\"/></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\"\n\tcontent=\"  a.com/x\n  git\t https://a.com/x  \"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x sub/dir\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", "sub/dir"]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", "sub/dir"]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x sub extra\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x mod https://proxy.a.com\"><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "mod", "https://proxy.a.com", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/x mod https://proxy.a.com\"><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""], ["a.com/y", "git", "https://a.com/y", ""]],
        prefer_mod: &[["a.com/x", "mod", "https://proxy.a.com", ""], ["a.com/y", "git", "https://a.com/y", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/y hg https://a.com/y\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""], ["a.com/y", "hg", "https://a.com/y", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""], ["a.com/y", "hg", "https://a.com/y", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>x</title><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "xml: opening charset \"ISO-8859-1\": can't decode XML document using charset \"ISO-8859-1\"",
    },
    HtmlCase {
        html: b"<?xml version=\"1.0\" encoding=\"ascii\"?><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<?xml version=\"1.1\"?><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "xml: unsupported version \"1.1\"; only version 1.0 is supported",
    },
    HtmlCase {
        html: b"<?xml version=\"1.0\" encoding=\"us-ascii\"?><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "xml: opening charset \"us-ascii\": can't decode XML document using charset \"us-ascii\"",
    },
    HtmlCase {
        html: b"<head><script>if (a < b) {}</script><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: expected element name after <",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><script>if (a < b) {}</script></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><!-- <meta name=\"go-import\" content=\"a.com/c git https://a.com/c\"> --><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><!-- a -- b --><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: invalid sequence \"--\" not allowed in comments",
    },
    HtmlCase {
        html: b"<head><!----><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><![CDATA[ <meta name=\"go-import\" content=\"a.com/c git https://a.com/c\"> ]]><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x?a=1&amp;b=2\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x?a=1&b=2", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x?a=1&b=2", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x?a=1&b=2\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x?a=1&b=2", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x?a=1&b=2", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x&#32;git&#x20;https://a.com/x&nbsp;\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x&nbsp;", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x&nbsp;", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/<x>\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: unescaped < inside quoted string",
    },
    HtmlCase {
        html: b"<head><title>a ]]> b</title><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: unescaped ]]> not in CDATA section",
    },
    HtmlCase {
        html: b"<head><title>caf\xe9</title><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: invalid UTF-8",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: unexpected EOF",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/y git",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head/><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\">",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<body/><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\">",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<head><link async rel=stylesheet href=\"/x.css\"><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><og:meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta x:name=\"go-import\" x:content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><a:b:meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: expected element name after <",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></heads><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""], ["a.com/y", "git", "https://a.com/y", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""], ["a.com/y", "git", "https://a.com/y", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></ head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-source\" content=\"a.com/x _ _ _\"><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" name=\"other\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"other\" name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\" content=\"b.com/y git https://b.com/y\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name = \"go-import\" content = \"a.com/x git https://a.com/x\" ></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><1meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: invalid XML name: 1meta",
    },
    HtmlCase {
        html: b"<!DOCTYPE html [ <!ENTITY x \"y\"> <!-- c --> ]><head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><?php echo \"x\"; ?><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x\xc2\xa0git\xe2\x80\x83https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head>\r\n<meta name=\"go-import\" content=\"a.com/x\r\ngit https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"no html at all",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x&#0;\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: illegal character code U+0000",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x&#xD800;\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x�", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x�", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content='a.com/x git \"https://a.com/x\"'></head>",
        ignore_mod: &[["a.com/x", "git", "\"https://a.com/x\"", ""]],
        prefer_mod: &[["a.com/x", "git", "\"https://a.com/x\"", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta/name=\"go-import\"></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: expected /> in element",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head\n>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"/><body><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"/>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><title>&</title><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><title>&amp</title><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=go-import content=a.com/x></head>",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: invalid XML name: .com",
    },
    HtmlCase {
        html: b"<head><\xc3\xbc name=\"go-import\"><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><!-- unterminated",
        ignore_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        prefer_mod: &[["a.com/x", "git", "https://a.com/x", ""]],
        err: "",
    },
    HtmlCase {
        html: b"<head><!-- unterminated <meta name=\"go-import\" content=\"a.com/x git https://a.com/x\">",
        ignore_mod: &[],
        prefer_mod: &[],
        err: "XML syntax error on line 1: unexpected EOF",
    },
    ];

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

    fn want(list: &[[&str; 4]]) -> Vec<[String; 4]> {
        list.iter().map(|f| f.map(str::to_string)).collect()
    }

    #[test]
    fn meta_tags_agree_with_go() {
        let mut wrong = Vec::new();
        for case in HTML_CASES {
            let html = String::from_utf8_lossy(case.html);
            let (found, err) = parse_page(case.html);
            assert_eq!(found, parse_meta_go_imports(case.html));
            let vcs_only: Vec<MetaImport> =
                found.iter().filter(|m| m.vcs != "mod").cloned().collect();
            if fields(&vcs_only) != want(case.ignore_mod) {
                wrong.push(format!("{html:?}: got {:?}", fields(&found)));
            }
            if fields(&prefer_mod(&found)) != want(case.prefer_mod) {
                wrong.push(format!(
                    "{html:?}: preferring mod, got {:?}",
                    fields(&found)
                ));
            }
            if err.as_deref().unwrap_or("") != case.err {
                wrong.push(format!("{html:?}: error {err:?}, want {:?}", case.err));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// (page, import path, "ok:<prefix>|<vcs>|<repo>|<subdir>" | "err:<message>").
    const MATCHES: &[(&str, &str, &str)] = &[
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
            "a.com/x",
            "ok:a.com/x|git|https://a.com/x|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
            "a.com/x/sub/pkg",
            "ok:a.com/x|git|https://a.com/x|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
            "a.com/xy",
            "err:meta tag a.com/x did not match import path a.com/xy",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
            "a.com",
            "err:meta tag a.com/x did not match import path a.com",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"></head>",
            "a.com/y/z",
            "ok:a.com/y|git|https://a.com/y|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"></head>",
            "a.com/q",
            "err:meta tag a.com/x did not match import path a.com/q, meta tag a.com/y did not match import path a.com/q",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/x hg https://a.com/x\"></head>",
            "a.com/x",
            "err:multiple meta tags match import path \"a.com/x\"",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com git https://a.com/r\"><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
            "a.com/x/y",
            "err:multiple meta tags match import path \"a.com/x/y\"",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"><meta name=\"go-import\" content=\"a.com/x mod https://proxy.a.com\"></head>",
            "a.com/x",
            "ok:a.com/x|mod|https://proxy.a.com|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x mod https://proxy.a.com\"><meta name=\"go-import\" content=\"a.com/x git https://a.com/x\"></head>",
            "a.com/x/sub",
            "ok:a.com/x|mod|https://proxy.a.com|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com git https://a.com/r\"><meta name=\"go-import\" content=\"a.com/x mod https://proxy.a.com\"></head>",
            "a.com/x",
            "ok:a.com/x|mod|https://proxy.a.com|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x mod https://p1\"><meta name=\"go-import\" content=\"a.com mod https://p2\"></head>",
            "a.com/x",
            "err:multiple meta tags match import path \"a.com/x\"",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x mod https://p1\"><meta name=\"go-import\" content=\"a.com/y git https://a.com/y\"></head>",
            "a.com/y",
            "ok:a.com/y|git|https://a.com/y|",
        ),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x git https://a.com/r sub/dir\"></head>",
            "a.com/x/v2",
            "ok:a.com/x|git|https://a.com/r|sub/dir",
        ),
        ("<head></head>", "a.com/x", "err:"),
        (
            "<head><meta name=\"go-import\" content=\"a.com/x/ git https://a.com/x\"></head>",
            "a.com/x/y",
            "ok:a.com/x/|git|https://a.com/x|",
        ),
        (
            "<head><meta name=\"go-import\" content=\" git https://a.com/x\"></head>",
            "a.com/x",
            "err:",
        ),
    ];

    #[test]
    fn tag_choice_agrees_with_go() {
        for &(html, path, want) in MATCHES {
            let got = match match_go_import(&parse_meta_go_imports(html.as_bytes()), path) {
                Ok(m) => format!("ok:{}|{}|{}|{}", m.prefix, m.vcs, m.repo_root, m.subdir),
                Err(MatchError::Mismatch(e) | MatchError::Multiple(e)) => format!("err:{e}"),
            };
            assert_eq!(got, want, "{html} for {path}");
        }
    }

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

    #[test]
    fn path_prefixes() {
        assert!(has_path_prefix("a.com/x", "a.com/x"));
        assert!(has_path_prefix("a.com/x/y", "a.com/x"));
        assert!(has_path_prefix("a.com/x/y", "a.com/x/"));
        assert!(!has_path_prefix("a.com/xy", "a.com/x"));
        assert!(!has_path_prefix("a.com", "a.com/x"));
        assert!(has_path_prefix("anything", ""));
    }

    /// (GOVCS, root, private, vcs, "allow" | "deny" | "err:<message>"), from
    /// the go command's parseGOVCS and allow.
    const GOVCS_CASES: &[(&str, &str, bool, &str, &str)] = &[
        ("", "github.com/a/b", false, "git", "allow"),
        ("", "github.com/a/b", false, "hg", "allow"),
        ("", "example.com/r.svn", false, "svn", "deny"),
        ("", "example.com/r.svn", true, "svn", "allow"),
        ("", "example.com/r", false, "fossil", "deny"),
        ("", "evil.com/x", false, "git", "allow"),
        ("", "a.com/x", false, "hg", "allow"),
        ("", "a.com/x", false, "svn", "deny"),
        ("", "b.com/y", false, "bzr", "deny"),
        ("", "x.corp.com/y", false, "svn", "deny"),
        ("", "z.com/q", true, "git", "allow"),
        ("", "z.com/q", true, "svn", "allow"),
        ("", "a.com/x/y", false, "svn", "deny"),
        ("", "a.com/xy", false, "svn", "deny"),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "github.com/a/b",
            false,
            "git",
            "allow",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "github.com/a/b",
            false,
            "hg",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "example.com/r.svn",
            false,
            "svn",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "example.com/r.svn",
            true,
            "svn",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "example.com/r",
            false,
            "fossil",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "evil.com/x",
            false,
            "git",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "a.com/x",
            false,
            "hg",
            "allow",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "a.com/x",
            false,
            "svn",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "b.com/y",
            false,
            "bzr",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "x.corp.com/y",
            false,
            "svn",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "z.com/q",
            true,
            "git",
            "allow",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "z.com/q",
            true,
            "svn",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "a.com/x/y",
            false,
            "svn",
            "deny",
        ),
        (
            "github.com:git,evil.com:off,*:git|hg",
            "a.com/xy",
            false,
            "svn",
            "deny",
        ),
        ("public:all", "github.com/a/b", false, "git", "allow"),
        ("public:all", "github.com/a/b", false, "hg", "allow"),
        ("public:all", "example.com/r.svn", false, "svn", "allow"),
        ("public:all", "example.com/r.svn", true, "svn", "allow"),
        ("public:all", "example.com/r", false, "fossil", "allow"),
        ("public:all", "evil.com/x", false, "git", "allow"),
        ("public:all", "a.com/x", false, "hg", "allow"),
        ("public:all", "a.com/x", false, "svn", "allow"),
        ("public:all", "b.com/y", false, "bzr", "allow"),
        ("public:all", "x.corp.com/y", false, "svn", "allow"),
        ("public:all", "z.com/q", true, "git", "allow"),
        ("public:all", "z.com/q", true, "svn", "allow"),
        ("public:all", "a.com/x/y", false, "svn", "allow"),
        ("public:all", "a.com/xy", false, "svn", "allow"),
        ("private:off", "github.com/a/b", false, "git", "allow"),
        ("private:off", "github.com/a/b", false, "hg", "allow"),
        ("private:off", "example.com/r.svn", false, "svn", "deny"),
        ("private:off", "example.com/r.svn", true, "svn", "deny"),
        ("private:off", "example.com/r", false, "fossil", "deny"),
        ("private:off", "evil.com/x", false, "git", "allow"),
        ("private:off", "a.com/x", false, "hg", "allow"),
        ("private:off", "a.com/x", false, "svn", "deny"),
        ("private:off", "b.com/y", false, "bzr", "deny"),
        ("private:off", "x.corp.com/y", false, "svn", "deny"),
        ("private:off", "z.com/q", true, "git", "deny"),
        ("private:off", "z.com/q", true, "svn", "deny"),
        ("private:off", "a.com/x/y", false, "svn", "deny"),
        ("private:off", "a.com/xy", false, "svn", "deny"),
        (
            "example.com:svn|fossil",
            "github.com/a/b",
            false,
            "git",
            "allow",
        ),
        (
            "example.com:svn|fossil",
            "github.com/a/b",
            false,
            "hg",
            "allow",
        ),
        (
            "example.com:svn|fossil",
            "example.com/r.svn",
            false,
            "svn",
            "allow",
        ),
        (
            "example.com:svn|fossil",
            "example.com/r.svn",
            true,
            "svn",
            "allow",
        ),
        (
            "example.com:svn|fossil",
            "example.com/r",
            false,
            "fossil",
            "allow",
        ),
        (
            "example.com:svn|fossil",
            "evil.com/x",
            false,
            "git",
            "allow",
        ),
        ("example.com:svn|fossil", "a.com/x", false, "hg", "allow"),
        ("example.com:svn|fossil", "a.com/x", false, "svn", "deny"),
        ("example.com:svn|fossil", "b.com/y", false, "bzr", "deny"),
        (
            "example.com:svn|fossil",
            "x.corp.com/y",
            false,
            "svn",
            "deny",
        ),
        ("example.com:svn|fossil", "z.com/q", true, "git", "allow"),
        ("example.com:svn|fossil", "z.com/q", true, "svn", "allow"),
        ("example.com:svn|fossil", "a.com/x/y", false, "svn", "deny"),
        ("example.com:svn|fossil", "a.com/xy", false, "svn", "deny"),
        (
            " a.com : git | hg , b.com:all ",
            "github.com/a/b",
            false,
            "git",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "github.com/a/b",
            false,
            "hg",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "example.com/r.svn",
            false,
            "svn",
            "deny",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "example.com/r.svn",
            true,
            "svn",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "example.com/r",
            false,
            "fossil",
            "deny",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "evil.com/x",
            false,
            "git",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "a.com/x",
            false,
            "hg",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "a.com/x",
            false,
            "svn",
            "deny",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "b.com/y",
            false,
            "bzr",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "x.corp.com/y",
            false,
            "svn",
            "deny",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "z.com/q",
            true,
            "git",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "z.com/q",
            true,
            "svn",
            "allow",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "a.com/x/y",
            false,
            "svn",
            "deny",
        ),
        (
            " a.com : git | hg , b.com:all ",
            "a.com/xy",
            false,
            "svn",
            "deny",
        ),
        (
            "*.corp.com:all,public:git",
            "github.com/a/b",
            false,
            "git",
            "allow",
        ),
        (
            "*.corp.com:all,public:git",
            "github.com/a/b",
            false,
            "hg",
            "deny",
        ),
        (
            "*.corp.com:all,public:git",
            "example.com/r.svn",
            false,
            "svn",
            "deny",
        ),
        (
            "*.corp.com:all,public:git",
            "example.com/r.svn",
            true,
            "svn",
            "allow",
        ),
        (
            "*.corp.com:all,public:git",
            "example.com/r",
            false,
            "fossil",
            "deny",
        ),
        (
            "*.corp.com:all,public:git",
            "evil.com/x",
            false,
            "git",
            "allow",
        ),
        ("*.corp.com:all,public:git", "a.com/x", false, "hg", "deny"),
        ("*.corp.com:all,public:git", "a.com/x", false, "svn", "deny"),
        ("*.corp.com:all,public:git", "b.com/y", false, "bzr", "deny"),
        (
            "*.corp.com:all,public:git",
            "x.corp.com/y",
            false,
            "svn",
            "allow",
        ),
        ("*.corp.com:all,public:git", "z.com/q", true, "git", "allow"),
        ("*.corp.com:all,public:git", "z.com/q", true, "svn", "allow"),
        (
            "*.corp.com:all,public:git",
            "a.com/x/y",
            false,
            "svn",
            "deny",
        ),
        (
            "*.corp.com:all,public:git",
            "a.com/xy",
            false,
            "svn",
            "deny",
        ),
        (
            "public:git,public:hg",
            "github.com/a/b",
            false,
            "git",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "github.com/a/b",
            false,
            "hg",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "example.com/r.svn",
            false,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "example.com/r.svn",
            true,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "example.com/r",
            false,
            "fossil",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "evil.com/x",
            false,
            "git",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "a.com/x",
            false,
            "hg",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "a.com/x",
            false,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "b.com/y",
            false,
            "bzr",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "x.corp.com/y",
            false,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "z.com/q",
            true,
            "git",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "z.com/q",
            true,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "a.com/x/y",
            false,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "public:git,public:hg",
            "a.com/xy",
            false,
            "svn",
            "err:unreachable pattern in GOVCS: \"public:hg\" after \"public:git\"",
        ),
        (
            "a.com",
            "github.com/a/b",
            false,
            "git",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "github.com/a/b",
            false,
            "hg",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "example.com/r.svn",
            false,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "example.com/r.svn",
            true,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "example.com/r",
            false,
            "fossil",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "evil.com/x",
            false,
            "git",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "a.com/x",
            false,
            "hg",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "a.com/x",
            false,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "b.com/y",
            false,
            "bzr",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "x.corp.com/y",
            false,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "z.com/q",
            true,
            "git",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "z.com/q",
            true,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "a.com/x/y",
            false,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            "a.com",
            "a.com/xy",
            false,
            "svn",
            "err:malformed entry in GOVCS (missing colon): \"a.com\"",
        ),
        (
            ":git",
            "github.com/a/b",
            false,
            "git",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "github.com/a/b",
            false,
            "hg",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "example.com/r.svn",
            false,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "example.com/r.svn",
            true,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "example.com/r",
            false,
            "fossil",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "evil.com/x",
            false,
            "git",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "a.com/x",
            false,
            "hg",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "a.com/x",
            false,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "b.com/y",
            false,
            "bzr",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "x.corp.com/y",
            false,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "z.com/q",
            true,
            "git",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "z.com/q",
            true,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "a.com/x/y",
            false,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            ":git",
            "a.com/xy",
            false,
            "svn",
            "err:empty pattern in GOVCS: \":git\"",
        ),
        (
            "a.com:",
            "github.com/a/b",
            false,
            "git",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "github.com/a/b",
            false,
            "hg",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "example.com/r.svn",
            false,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "example.com/r.svn",
            true,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "example.com/r",
            false,
            "fossil",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "evil.com/x",
            false,
            "git",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "a.com/x",
            false,
            "hg",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "a.com/x",
            false,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "b.com/y",
            false,
            "bzr",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "x.corp.com/y",
            false,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "z.com/q",
            true,
            "git",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "z.com/q",
            true,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "a.com/x/y",
            false,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:",
            "a.com/xy",
            false,
            "svn",
            "err:empty VCS list in GOVCS: \"a.com:\"",
        ),
        (
            "a.com:git||hg",
            "github.com/a/b",
            false,
            "git",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "github.com/a/b",
            false,
            "hg",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "example.com/r.svn",
            false,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "example.com/r.svn",
            true,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "example.com/r",
            false,
            "fossil",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "evil.com/x",
            false,
            "git",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "a.com/x",
            false,
            "hg",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "a.com/x",
            false,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "b.com/y",
            false,
            "bzr",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "x.corp.com/y",
            false,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "z.com/q",
            true,
            "git",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "z.com/q",
            true,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "a.com/x/y",
            false,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "a.com:git||hg",
            "a.com/xy",
            false,
            "svn",
            "err:empty VCS name in GOVCS: \"a.com:git||hg\"",
        ),
        (
            "./x:git",
            "github.com/a/b",
            false,
            "git",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "github.com/a/b",
            false,
            "hg",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "example.com/r.svn",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "example.com/r.svn",
            true,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "example.com/r",
            false,
            "fossil",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "evil.com/x",
            false,
            "git",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "a.com/x",
            false,
            "hg",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "a.com/x",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "b.com/y",
            false,
            "bzr",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "x.corp.com/y",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "z.com/q",
            true,
            "git",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "z.com/q",
            true,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "a.com/x/y",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "./x:git",
            "a.com/xy",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"./x\"",
        ),
        (
            "../x:git",
            "github.com/a/b",
            false,
            "git",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "github.com/a/b",
            false,
            "hg",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "example.com/r.svn",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "example.com/r.svn",
            true,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "example.com/r",
            false,
            "fossil",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "evil.com/x",
            false,
            "git",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "a.com/x",
            false,
            "hg",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "a.com/x",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "b.com/y",
            false,
            "bzr",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "x.corp.com/y",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "z.com/q",
            true,
            "git",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "z.com/q",
            true,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "a.com/x/y",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            "../x:git",
            "a.com/xy",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \"../x\"",
        ),
        (
            ".:git",
            "github.com/a/b",
            false,
            "git",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "github.com/a/b",
            false,
            "hg",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "example.com/r.svn",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "example.com/r.svn",
            true,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "example.com/r",
            false,
            "fossil",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "evil.com/x",
            false,
            "git",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "a.com/x",
            false,
            "hg",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "a.com/x",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "b.com/y",
            false,
            "bzr",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "x.corp.com/y",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "z.com/q",
            true,
            "git",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "z.com/q",
            true,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "a.com/x/y",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            ".:git",
            "a.com/xy",
            false,
            "svn",
            "err:relative pattern not allowed in GOVCS: \".\"",
        ),
        (
            "a.com:git,,b.com:hg",
            "github.com/a/b",
            false,
            "git",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "github.com/a/b",
            false,
            "hg",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "example.com/r.svn",
            false,
            "svn",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "example.com/r.svn",
            true,
            "svn",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "example.com/r",
            false,
            "fossil",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "evil.com/x",
            false,
            "git",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "a.com/x",
            false,
            "hg",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "a.com/x",
            false,
            "svn",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "b.com/y",
            false,
            "bzr",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "x.corp.com/y",
            false,
            "svn",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "z.com/q",
            true,
            "git",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "z.com/q",
            true,
            "svn",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "a.com/x/y",
            false,
            "svn",
            "err:empty entry in GOVCS",
        ),
        (
            "a.com:git,,b.com:hg",
            "a.com/xy",
            false,
            "svn",
            "err:empty entry in GOVCS",
        ),
        ("a.com/x:svn", "github.com/a/b", false, "git", "allow"),
        ("a.com/x:svn", "github.com/a/b", false, "hg", "allow"),
        ("a.com/x:svn", "example.com/r.svn", false, "svn", "deny"),
        ("a.com/x:svn", "example.com/r.svn", true, "svn", "allow"),
        ("a.com/x:svn", "example.com/r", false, "fossil", "deny"),
        ("a.com/x:svn", "evil.com/x", false, "git", "allow"),
        ("a.com/x:svn", "a.com/x", false, "hg", "deny"),
        ("a.com/x:svn", "a.com/x", false, "svn", "allow"),
        ("a.com/x:svn", "b.com/y", false, "bzr", "deny"),
        ("a.com/x:svn", "x.corp.com/y", false, "svn", "deny"),
        ("a.com/x:svn", "z.com/q", true, "git", "allow"),
        ("a.com/x:svn", "z.com/q", true, "svn", "allow"),
        ("a.com/x:svn", "a.com/x/y", false, "svn", "allow"),
        ("a.com/x:svn", "a.com/xy", false, "svn", "deny"),
    ];

    #[test]
    fn govcs_agrees_with_go() {
        for &(govcs, root, private, vcs, want) in GOVCS_CASES {
            let got = match VcsPolicy::new(govcs, "") {
                Err(e) => {
                    assert_eq!(e.kind(), DiscoveryErrorKind::Disallowed);
                    format!("err:{e}")
                }
                Ok(p) if p.allows(root, private, vcs) => "allow".to_string(),
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

    /// (go-import repository URL, Go's validateRepoRoot error or "").
    const REPO_ROOTS: &[(&str, &str)] = &[
        ("https://a.com/x", ""),
        ("http://a.com/x", ""),
        ("ssh://git@a.com/x", ""),
        ("git+ssh://a.com/x", ""),
        ("git://a.com/x", ""),
        ("file:///srv/x", "file scheme disallowed"),
        ("FILE:///x", "file scheme disallowed"),
        ("File://x", "file scheme disallowed"),
        ("a.com/x", "no scheme"),
        (
            "git@a.com:x/y",
            "parse \"git@a.com:x/y\": first path segment in URL cannot contain colon",
        ),
        ("/abs/path", "no scheme"),
        ("./rel", "no scheme"),
        (":x", "parse \":x\": missing protocol scheme"),
        (
            "1http://a.com",
            "parse \"1http://a.com\": first path segment in URL cannot contain colon",
        ),
        ("h1+-.x://a", ""),
        (
            "https://a.com/%zz",
            "parse \"https://a.com/%zz\": invalid URL escape \"%zz\"",
        ),
        (
            "https://a.com/%2",
            "parse \"https://a.com/%2\": invalid URL escape \"%2\"",
        ),
        ("https://a.com/%41", ""),
        (
            "https://a.com/\u{007f}",
            "parse \"https://a.com/\\x7f\": net/url: invalid control character in URL",
        ),
        ("mod", "no scheme"),
        ("x:y", ""),
        ("https://[::1]/x", ""),
        (
            "https://[::1/x",
            "parse \"https://[::1/x\": missing ']' in host",
        ),
        (
            "https://a.com:port/x",
            "parse \"https://a.com:port/x\": invalid port \":port\" after host",
        ),
        ("https://a.com:80/x", ""),
        ("https://a.com/x#frag", ""),
        ("https://a.com/x?q=1", ""),
        ("https:", ""),
        ("https://", ""),
        ("svn+ssh://a/b", ""),
        (
            "https://a.com/x%",
            "parse \"https://a.com/x%\": invalid URL escape \"%\"",
        ),
        (
            "%41:b",
            "parse \"%41:b\": first path segment in URL cannot contain colon",
        ),
        ("a%zz/b", "parse \"a%zz/b\": invalid URL escape \"%zz\""),
        ("http://a.com/\u{00fc}", ""),
        ("http://\u{00fc}.com/x", ""),
        ("x:%zz", ""),
        ("x:y#%zz", "parse \"x:y#%zz\": invalid URL escape \"%zz\""),
        ("https://a.com/x?q=%zz", ""),
        (
            "https://a.com/x#%zz",
            "parse \"https://a.com/x#%zz\": invalid URL escape \"%zz\"",
        ),
        ("https://a.com/x?", ""),
        ("https://a.com/x??", ""),
        ("https://[::1]:80/x", ""),
        (
            "https://[::1]:8x/x",
            "parse \"https://[::1]:8x/x\": invalid port \":8x\" after host",
        ),
        (
            "https://a[::1]/x",
            "parse \"https://a[::1]/x\": invalid IP-literal",
        ),
        (
            "https://a.com:1:2/x",
            "parse \"https://a.com:1:2/x\": invalid port \":1:2\" after host",
        ),
        ("git://a.com:1:2/x", ""),
        ("ssh://a.com:1:2/x", ""),
        (
            "https://a%41.com/x",
            "parse \"https://a%41.com/x\": invalid URL escape \"%41\"",
        ),
        ("https://a%C3%BC.com/x", ""),
        ("https://a%25.com/x", ""),
        (
            "https://u%zz@a.com/x",
            "parse \"https://u%zz@a.com/x\": invalid URL escape \"%zz\"",
        ),
        ("https://u@p@a.com/x", ""),
        (
            "https://u^@a.com/x",
            "parse \"https://u^@a.com/x\": net/url: invalid userinfo",
        ),
        (
            "https://a^b.com/x",
            "parse \"https://a^b.com/x\": invalid character \"^\" in host name",
        ),
        (
            "https://a{b}.com/x",
            "parse \"https://a{b}.com/x\": invalid character \"{\" in host name",
        ),
        ("https://a\"b.com/x", ""),
        ("https://a.com/{x}", ""),
        ("git+ssh://git@a.com:22/x", ""),
        ("https://a.com:/x", ""),
        ("///x", "no scheme"),
        ("//a.com/x", "no scheme"),
        (
            "//a.com:x/y",
            "parse \"//a.com:x/y\": invalid port \":x\" after host",
        ),
        (
            "\u{0001}x",
            "parse \"\\x01x\": net/url: invalid control character in URL",
        ),
    ];

    #[test]
    fn repo_root_urls_agree_with_go() {
        let mut wrong = Vec::new();
        for &(url, want) in REPO_ROOTS {
            let got = validate_repo_root(url).err().unwrap_or_default();
            if got != want {
                wrong.push(format!("{url:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
