//! The go command's static table (`vcsPaths`): the well-known hosts with
//! their path-shape checks and error texts, and the generic rule for paths
//! with a VCS qualifier (`example.com/repo.git/sub`), whose scheme is found
//! by pinging the VCS's schemes in the go command's order.

use std::process::Stdio;

use super::{DiscoveryError, DiscoveryErrorKind, RepoRoot, has_path_prefix};
use crate::credentials::Credentials;

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
pub(super) const VCS_CMDS: [&str; 4] = ["hg", "git", "svn", "fossil"];

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
pub(super) async fn pick_scheme(
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

#[cfg(test)]
mod tests {
    use super::*;

    // The expected outputs in testdata/ come from the go command itself (see
    // testdata/README.md for how they were made).
    // For vcs_paths.json the go command ran `repoRootFromVCSPaths` with
    // every VCS's ping command cleared, so the scheme is the first one the
    // security mode allows, which is what [`schemes_to_try`] must put first.

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

    /// (import path, GOINSECURE matches, "unknown" | "err:<message>" |
    /// "ok:<root>|<vcs>|<repo URL>").
    type VcsPathCase = (String, bool, String);

    #[test]
    fn vcs_paths_agree_with_go() {
        // GIT_ALLOW_PROTOCOL would change which schemes count as secure.
        assert!(std::env::var_os("GIT_ALLOW_PROTOCOL").is_none());
        let cases: Vec<VcsPathCase> =
            serde_json::from_str(include_str!("../../testdata/vcs_paths.json")).unwrap();
        assert!(!cases.is_empty());
        let mut wrong = Vec::new();
        for (path, insecure, want) in cases {
            let got = outcome(&path, insecure);
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
}
