//! `agora_upstream::discovery::repo_root` against a real HTTP server.
//!
//! Module paths cannot carry a port, so the server listens on port 80 of
//! 127.0.0.3 under the name `meta.example.test` (another suite uses
//! 127.0.0.1:80). The test adds that name to /etc/hosts if it is missing and
//! fails, never skips, when it cannot. Nothing listens on 127.0.0.3:443, so
//! https is always refused there: paths under GOINSECURE must fall back to
//! plain http, and the rest must fail as unreachable.
//!
//! The expected error messages are the go command's: the same pages, served
//! on the same address, were given to go1.27.3 (`go list -m PATH@latest`
//! with `GOPROXY=direct GOINSECURE=meta.example.test`), which printed these
//! texts after its `go: PATH@latest: ` prefix. Only the wording of transport
//! errors (connection refused) differs, so those are checked by prefix.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};

use agora_upstream::discovery::{
    DiscoveryErrorKind, RepoRoot, VcsPolicy, repo_root, repo_root_with_policy,
};

const HOST: &str = "meta.example.test";
const ADDR: &str = "127.0.0.3";
/// An address where nothing listens at all, for "server down".
const DOWN: &str = "127.0.0.5";

/// Every request line the server has seen, as `path?query`.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn tag(content: &str) -> String {
    format!("<meta name=\"go-import\" content=\"{content}\">")
}

fn page(head: &str) -> String {
    format!("<!DOCTYPE html>\n<html><head><title>x</title>{head}</head><body>hi</body></html>\n")
}

/// git's smart-HTTP advertisement with one ref, enough for `git ls-remote`.
fn git_advertisement() -> String {
    fn pkt(s: &str) -> String {
        format!("{:04x}{s}", s.len() + 4)
    }
    let sha = "1111111111111111111111111111111111111111";
    format!(
        "{}0000{}{}0000",
        pkt("# service=git-upload-pack\n"),
        pkt(&format!("{sha} HEAD\0symref=HEAD:refs/heads/main\n")),
        pkt(&format!("{sha} refs/heads/main\n")),
    )
}

/// The server's answer for a request target: (status, content type, body).
fn route(target: &str) -> (u16, &'static str, String) {
    let html = "text/html; charset=utf-8";
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if query == "service=git-upload-pack" && path == "/vcsrepo/info/refs" {
        return (
            200,
            "application/x-git-upload-pack-advertisement",
            git_advertisement(),
        );
    }
    if query != "go-get=1" {
        return (404, "text/plain", "no such thing\n".into());
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let h = HOST;
    match first {
        "simple" => (
            200,
            html,
            page(&tag(&format!(
                "{h}/simple git https://code.example.test/simple.git"
            ))),
        ),
        "mono" => (
            200,
            html,
            page(&tag(&format!(
                "{h}/mono git https://code.example.test/mono.git go/mono"
            ))),
        ),
        "modded" => (
            200,
            html,
            page(&format!(
                "{}{}",
                tag(&format!(
                    "{h}/modded git https://code.example.test/modded.git"
                )),
                tag(&format!("{h}/modded mod https://proxy.example.test/mods")),
            )),
        ),
        // Two sibling repositories on one page; only the matching one counts.
        "multi" | "other" => (
            200,
            html,
            page(&format!(
                "{}{}",
                tag(&format!(
                    "{h}/multi git https://code.example.test/multi.git"
                )),
                tag(&format!("{h}/other hg https://code.example.test/other")),
            )),
        ),
        // Claims a root whose own page says something else.
        "liar" if path == "/liar" => (
            200,
            html,
            page(&tag(&format!(
                "{h}/liar git https://code.example.test/real.git"
            ))),
        ),
        "liar" => (
            200,
            html,
            page(&tag(&format!(
                "{h}/liar git https://evil.example.test/liar.git"
            ))),
        ),
        // Claims a root that has no page at all.
        "orphan" if path == "/orphan" => (404, "text/plain", "gone\n".into()),
        "orphan" => (
            200,
            html,
            page(&tag(&format!(
                "{h}/orphan git https://code.example.test/orphan.git"
            ))),
        ),
        // The go command accepts go-import tags served with a 404.
        "notfoundpage" => (
            404,
            html,
            page(&tag(&format!(
                "{h}/notfoundpage git https://code.example.test/nfp.git"
            ))),
        ),
        "plain200" => (200, html, page("<meta name=\"description\" content=\"x\">")),
        "broken" => (500, "text/plain", "database on fire\n".into()),
        "ambiguous" => (
            200,
            html,
            page(&format!(
                "{}{}",
                tag(&format!(
                    "{h}/ambiguous git https://code.example.test/a.git"
                )),
                tag(&format!("{h}/ambiguous hg https://code.example.test/a")),
            )),
        ),
        "noscheme" => (
            200,
            html,
            page(&tag(&format!("{h}/noscheme git code.example.test/x.git"))),
        ),
        "svnrepo" => (
            200,
            html,
            page(&tag(&format!(
                "{h}/svnrepo svn https://code.example.test/svn/repo"
            ))),
        ),
        "bzr" => (
            200,
            html,
            page(&tag(&format!("{h}/bzr bzr https://code.example.test/x"))),
        ),
        // Tags after <body> do not count.
        "late" => (
            200,
            html,
            format!(
                "<html><head></head><body>{}</body></html>",
                tag(&format!("{h}/late git https://code.example.test/late.git"))
            ),
        ),
        _ => (404, "text/plain", "404 page not found\n".into()),
    }
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    SEEN.lock()
        .expect("request log poisoned")
        .push(target.clone());
    let (status, content_type, body) = route(&target);
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let reason = if status == 500 {
        "Internal Server Error"
    } else {
        reason
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

/// Makes `meta.example.test` resolve to 127.0.0.3, adding the line to
/// /etc/hosts if needed.
fn ensure_hosts_entry() {
    let hosts = std::fs::read_to_string("/etc/hosts")
        .unwrap_or_else(|e| panic!("cannot read /etc/hosts: {e}"));
    for line in hosts.lines() {
        let mut fields = line.split('#').next().unwrap_or("").split_whitespace();
        let Some(addr) = fields.next() else { continue };
        if fields.any(|name| name == HOST) {
            assert_eq!(
                addr, ADDR,
                "/etc/hosts maps {HOST} to {addr}; this test needs {ADDR}"
            );
            return;
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .unwrap_or_else(|e| {
            panic!(
                "this test needs the line `{ADDR} {HOST}` in /etc/hosts and cannot add it \
                 ({e}); add it by hand (as root) and rerun"
            )
        });
    let sep = if hosts.ends_with('\n') || hosts.is_empty() {
        ""
    } else {
        "\n"
    };
    file.write_all(format!("{sep}{ADDR} {HOST}\n").as_bytes())
        .unwrap_or_else(|e| panic!("cannot append `{ADDR} {HOST}` to /etc/hosts: {e}"));
}

/// Starts the server once for the whole test binary.
fn server() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        ensure_hosts_entry();
        let listener = TcpListener::bind((ADDR, 80)).unwrap_or_else(|e| {
            panic!("cannot listen on {ADDR}:80 (needs root and a free port): {e}")
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve(stream);
                });
            }
        });
    });
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .expect("building the test HTTP client")
}

fn seen(target: &str) -> bool {
    SEEN.lock()
        .expect("request log poisoned")
        .iter()
        .any(|t| t == target)
}

async fn found(path: &str, insecure: &str) -> RepoRoot {
    server();
    match repo_root(&client(), path, insecure).await {
        Ok(rr) => rr,
        Err(e) => panic!("{path}: {e}"),
    }
}

async fn failed(path: &str, insecure: &str) -> (DiscoveryErrorKind, String) {
    server();
    match repo_root(&client(), path, insecure).await {
        Ok(rr) => panic!("{path}: unexpectedly found {rr:?}"),
        Err(e) => (e.kind(), e.to_string()),
    }
}

fn root(root: &str, vcs: &str, repo_url: &str, subdir: &str) -> RepoRoot {
    RepoRoot {
        root: root.into(),
        vcs: vcs.into(),
        repo_url: repo_url.into(),
        subdir: subdir.into(),
    }
}

#[tokio::test]
async fn discovers_root_and_verifies_it_on_its_own_page() {
    let rr = found("meta.example.test/simple/sub/pkg", HOST).await;
    assert_eq!(
        rr,
        root(
            "meta.example.test/simple",
            "git",
            "https://code.example.test/simple.git",
            ""
        )
    );
    assert!(seen("/simple/sub/pkg?go-get=1"));
    assert!(
        seen("/simple?go-get=1"),
        "the root's own page must be checked"
    );
}

#[tokio::test]
async fn root_path_itself() {
    let rr = found("meta.example.test/simple", HOST).await;
    assert_eq!(rr.root, "meta.example.test/simple");
}

#[tokio::test]
async fn subdirectory_field() {
    let rr = found("meta.example.test/mono/v2", HOST).await;
    assert_eq!(
        rr,
        root(
            "meta.example.test/mono",
            "git",
            "https://code.example.test/mono.git",
            "go/mono"
        )
    );
}

#[tokio::test]
async fn mod_entry_wins_over_vcs_entry_for_the_same_prefix() {
    let rr = found("meta.example.test/modded", HOST).await;
    assert_eq!(
        rr,
        root(
            "meta.example.test/modded",
            "mod",
            "https://proxy.example.test/mods",
            ""
        )
    );
}

#[tokio::test]
async fn picks_the_matching_tag_among_several() {
    let rr = found("meta.example.test/other/pkg", HOST).await;
    assert_eq!(
        rr,
        root(
            "meta.example.test/other",
            "hg",
            "https://code.example.test/other",
            ""
        )
    );
}

#[tokio::test]
async fn tags_served_with_404_still_count() {
    let rr = found("meta.example.test/notfoundpage", HOST).await;
    assert_eq!(rr.repo_url, "https://code.example.test/nfp.git");
}

#[tokio::test]
async fn root_whose_page_disagrees_is_rejected() {
    let (kind, msg) = failed("meta.example.test/liar/x", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::Invalid, "{msg}");
    assert_eq!(
        msg,
        "unrecognized import path \"meta.example.test/liar/x\": \
         http://meta.example.test/liar/x?go-get=1 and //meta.example.test/liar?go-get=1 \
         disagree about go-import for meta.example.test/liar"
    );
}

#[tokio::test]
async fn root_without_a_page_is_not_found() {
    let (kind, msg) = failed("meta.example.test/orphan/x", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::NotFound, "{msg}");
    assert_eq!(
        msg,
        "unrecognized import path \"meta.example.test/orphan/x\": \
         reading http://meta.example.test/orphan?go-get=1: 404 Not Found\n\
         \tserver response: gone"
    );
}

#[tokio::test]
async fn page_404_without_tags_is_not_found() {
    let (kind, msg) = failed("meta.example.test/nothing/here", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::NotFound, "{msg}");
    assert_eq!(
        msg,
        "unrecognized import path \"meta.example.test/nothing/here\": \
         reading http://meta.example.test/nothing/here?go-get=1: 404 Not Found\n\
         \tserver response: 404 page not found"
    );
}

#[tokio::test]
async fn page_200_without_tags_is_not_found() {
    let (kind, msg) = failed("meta.example.test/plain200", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::NotFound, "{msg}");
    assert_eq!(
        msg,
        "unrecognized import path \"meta.example.test/plain200\": \
         parse http://meta.example.test/plain200?go-get=1: no go-import meta tags ()"
    );
}

#[tokio::test]
async fn tags_in_body_are_ignored() {
    let (kind, msg) = failed("meta.example.test/late", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::NotFound, "{msg}");
}

#[tokio::test]
async fn server_error_without_tags_is_unavailable() {
    let (kind, msg) = failed("meta.example.test/broken", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::Unavailable, "{msg}");
    assert!(msg.contains("500 Internal Server Error"), "{msg}");
    assert!(msg.contains("server response: database on fire"), "{msg}");
}

#[tokio::test]
async fn bad_answers_are_invalid() {
    for (path, want) in [
        (
            "meta.example.test/ambiguous",
            "parse //meta.example.test/ambiguous?go-get=1: \
             multiple meta tags match import path \"meta.example.test/ambiguous\"",
        ),
        (
            "meta.example.test/noscheme",
            "http://meta.example.test/noscheme?go-get=1: \
             invalid repo root \"code.example.test/x.git\": no scheme",
        ),
        (
            "meta.example.test/bzr",
            "http://meta.example.test/bzr?go-get=1: unknown vcs \"bzr\"",
        ),
    ] {
        let (kind, msg) = failed(path, HOST).await;
        assert_eq!(kind, DiscoveryErrorKind::Invalid, "{msg}");
        assert_eq!(msg, format!("unrecognized import path {path:?}: {want}"));
    }
}

#[tokio::test]
async fn plain_http_only_under_goinsecure() {
    // The same page: found over http when GOINSECURE matches (also by a
    // glob), unreachable when only https may be used.
    for insecure in [
        HOST,
        "*.example.test",
        "example.com,meta.example.test/simple",
    ] {
        let rr = found("meta.example.test/simple", insecure).await;
        assert_eq!(rr.repo_url, "https://code.example.test/simple.git");
    }
    for insecure in ["", "other.example.test", "meta.example.test/elsewhere"] {
        let (kind, msg) = failed("meta.example.test/simple", insecure).await;
        assert_eq!(kind, DiscoveryErrorKind::Unavailable, "{msg}");
        assert!(
            msg.starts_with(
                "unrecognized import path \"meta.example.test/simple\": https fetch: \
                 Get \"https://meta.example.test/simple?go-get=1\": "
            ),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn server_down_is_unavailable_not_missing() {
    let path = format!("{DOWN}/some/module");
    let (kind, msg) = failed(&path, DOWN).await;
    assert_eq!(kind, DiscoveryErrorKind::Unavailable, "{msg}");
    assert!(
        msg.starts_with(&format!(
            "unrecognized import path {path:?}: http/https fetch: Get \"http://{DOWN}/some/module?go-get=1\": "
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn vcs_qualifier_pings_schemes_in_order() {
    // git://, then https:// are refused; http:// answers `git ls-remote`.
    let rr = found("meta.example.test/vcsrepo.git/sub/pkg", HOST).await;
    assert_eq!(
        rr,
        root(
            "meta.example.test/vcsrepo.git",
            "git",
            "http://meta.example.test/vcsrepo",
            ""
        )
    );
    assert!(seen("/vcsrepo/info/refs?service=git-upload-pack"));
    // Without GOINSECURE only https and ssh may be tried, and neither answers.
    let (kind, msg) = failed("meta.example.test/vcsrepo.git", "").await;
    assert_eq!(kind, DiscoveryErrorKind::Unavailable, "{msg}");
    assert_eq!(msg, "no secure protocol found for repository");
}

#[tokio::test]
async fn well_known_hosts_need_no_network() {
    let rr = found("github.com/golang/go/src/cmd", "").await;
    assert_eq!(
        rr,
        root(
            "github.com/golang/go",
            "git",
            "https://github.com/golang/go",
            ""
        )
    );
    let (kind, msg) = failed("github.com/golang", "").await;
    assert_eq!(kind, DiscoveryErrorKind::Invalid);
    assert_eq!(msg, "invalid github.com import path \"github.com/golang\"");
    let (kind, msg) = failed("bitbucket.org/a/b.git", "").await;
    assert_eq!(kind, DiscoveryErrorKind::Invalid);
    assert_eq!(msg, "invalid version control suffix in bitbucket.org/ path");
}

#[tokio::test]
async fn path_without_hostname_is_invalid() {
    let (kind, msg) = failed("localhost/x", "").await;
    assert_eq!(kind, DiscoveryErrorKind::Invalid);
    assert_eq!(
        msg,
        "unrecognized import path \"localhost/x\": import path does not begin with hostname"
    );
}

#[tokio::test]
async fn govcs_is_checked_before_any_vcs_runs() {
    // By default only git and hg may be used for public paths.
    let (kind, msg) = failed("meta.example.test/svnrepo/x", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::Disallowed, "{msg}");
    assert_eq!(
        msg,
        "unrecognized import path \"meta.example.test/svnrepo/x\": GOVCS disallows using svn \
         for public meta.example.test/svnrepo; see 'go help vcs'"
    );
    // The VCS-qualifier rule refuses before pinging anything.
    let (kind, msg) = failed("meta.example.test/repo.svn", HOST).await;
    assert_eq!(kind, DiscoveryErrorKind::Disallowed, "{msg}");
    assert_eq!(
        msg,
        "GOVCS disallows using svn for public meta.example.test/repo.svn; see 'go help vcs'"
    );
    // GOPRIVATE (private:all by default) or an explicit GOVCS rule allows it.
    for policy in [
        VcsPolicy::new("", "meta.example.test").unwrap(),
        VcsPolicy::new("meta.example.test/svnrepo:svn", "").unwrap(),
    ] {
        let rr = repo_root_with_policy(&client(), "meta.example.test/svnrepo/x", HOST, &policy)
            .await
            .unwrap();
        assert_eq!(
            rr,
            root(
                "meta.example.test/svnrepo",
                "svn",
                "https://code.example.test/svn/repo",
                ""
            )
        );
    }
}
