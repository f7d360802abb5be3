//! Athens' download modes (`ATHENS_DOWNLOAD_MODE`, `ATHENS_DOWNLOAD_URL`) end to end: every
//! mode, and HCL files given as `file:` and `custom:`, with the real go command against a
//! real agora whose upstream is a counting forwarder in front of the go command's reference
//! proxy. Redirects go to the reference proxy itself, as a second proxy would.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use agora_testkit::*;
use base64::Engine as _;

/// How long a background fetch may take to land in storage.
const BACKGROUND: Duration = Duration::from_secs(60);

fn start(t: &TestDir, upstream: String, env: &[(&str, &str)]) -> Agora {
    Agora::start(&AgoraConfig::new(t.path(), upstream).with_env(env))
}

/// The forwarder's `.info`, `.mod` and `.zip` requests (list and `@latest` are not
/// affected by download modes).
fn artifact_requests(fwd: &Forwarder) -> Vec<String> {
    fwd.requests()
        .into_iter()
        .filter(|r| r.ends_with(".info") || r.ends_with(".mod") || r.ends_with(".zip"))
        .collect()
}

fn assert_one_line_reason(what: &str, resp: &HttpResponse, needle: &str) {
    let text = resp.text();
    assert_eq!(
        text.trim_end_matches('\n').lines().count(),
        1,
        "{what}: expected a one-line reason: {}",
        resp.summary()
    );
    assert!(text.contains(needle), "{what}: {}", resp.summary());
}

fn downloads(env: &GoEnv, specs: &[&str]) -> BTreeMap<String, Download> {
    let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
    env.mod_download(&specs)
}

fn assert_matches_truth(t: &TestDir, context: &str, env: &GoEnv, specs: &[&str]) {
    let specs_owned: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
    let truth = downloads(
        &GoEnv::direct(t.path(), &format!("truth-{}", env.name)),
        specs,
    );
    let got = downloads(env, specs);
    assert_same_downloads(context, &specs_owned, &truth, &got, None);
}

#[test]
fn sync_is_the_default_and_can_be_named() {
    let t = TestDir::new("dl-sync");
    let fwd = Forwarder::to_ref_proxy();
    let agora = start(&t, fwd.goproxy_url(), &[("ATHENS_DOWNLOAD_MODE", "sync")]);
    let via = GoEnv::via(t.path(), "agora", &agora);
    assert_matches_truth(&t, "sync", &via, &["rsc.io/quote@v1.5.2"]);
    assert!(athens_version_stored(
        &agora.config.storage_root,
        "rsc.io/quote",
        "v1.5.2"
    ));
    assert_eq!(fwd.count("/mod/rsc.io/quote/@v/v1.5.2.zip"), 1);
}

/// async: the first request is answered 404 at once and the version lands in storage with
/// no further request, fetched once; a client that hangs up does not cancel the fetch.
#[test]
fn async_answers_404_then_stores_in_the_background() {
    let t = TestDir::new("dl-async");
    let fwd = Forwarder::to_ref_proxy();
    // The upstream zip comes late, so the 404 provably does not wait for the fetch.
    fwd.set_behavior(".zip", Behavior::Delay(Duration::from_secs(2)));
    let agora = start(&t, fwd.goproxy_url(), &[("ATHENS_DOWNLOAD_MODE", "async")]);
    let root = agora.config.storage_root.clone();

    let started = Instant::now();
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(resp.status, 404, "{}", resp.summary());
    assert_one_line_reason("async miss", &resp, "async");
    assert!(
        !athens_version_stored(&root, "rsc.io/quote", "v1.5.2"),
        "stored before the 404 was answered ({:?})",
        started.elapsed()
    );
    assert!(
        wait_until(BACKGROUND, || athens_version_stored(
            &root,
            "rsc.io/quote",
            "v1.5.2"
        )),
        "the background fetch never stored rsc.io/quote@v1.5.2; forwarder saw {:?}",
        fwd.requests()
    );
    // Stored now: served, and fetched from upstream only the once.
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert_eq!(
        fwd.count("/mod/rsc.io/quote/@v/v1.5.2.zip"),
        1,
        "{:?}",
        fwd.requests()
    );

    // A client that hangs up without reading its answer while the fetch it started is
    // still waiting for the (delayed) upstream zip.
    let mut s = TcpStream::connect(agora.addr).expect("connect to agora");
    s.write_all(b"GET /rsc.io/quote/@v/v1.5.1.zip HTTP/1.1\r\nHost: agora\r\n\r\n")
        .expect("send the request");
    assert!(
        wait_until(BACKGROUND, || fwd.count("/mod/rsc.io/quote/@v/v1.5.1.info")
            == 1),
        "the fetch never started: {:?}",
        fwd.requests()
    );
    drop(s);
    assert!(!athens_version_stored(&root, "rsc.io/quote", "v1.5.1"));
    assert!(
        wait_until(BACKGROUND, || athens_version_stored(
            &root,
            "rsc.io/quote",
            "v1.5.1"
        )),
        "a hung-up client's background fetch never completed; forwarder saw {:?}",
        fwd.requests()
    );

    // Everything stored now: the go command gets the reference proxy's bytes.
    fwd.clear_behaviors();
    let via = GoEnv::via(t.path(), "agora", &agora);
    assert_matches_truth(
        &t,
        "async, once stored",
        &via,
        &["rsc.io/quote@v1.5.2", "rsc.io/quote@v1.5.1"],
    );
    for v in ["v1.5.1", "v1.5.2"] {
        let zip = format!("/mod/rsc.io/quote/@v/{v}.zip");
        assert_eq!(fwd.count(&zip), 1, "{zip}: {:?}", fwd.requests());
    }
}

/// redirect: 301 to the download URL joined with the path below the prefix (never the
/// prefix itself, gomods/athens #2028); the go command follows it and builds, and agora
/// neither asks its upstream for an artifact nor stores anything.
#[test]
fn redirect_sends_the_go_command_to_the_download_url() {
    let t = TestDir::new("dl-redirect");
    let fwd = Forwarder::to_ref_proxy();
    let target = ref_proxy().goproxy_url();
    let agora = start(
        &t,
        fwd.goproxy_url(),
        &[
            ("ATHENS_DOWNLOAD_MODE", "redirect"),
            ("ATHENS_DOWNLOAD_URL", &target),
            ("ATHENS_PATH_PREFIX", "/go"),
        ],
    );
    for (path, want) in [
        (
            "/go/rsc.io/quote/@v/v1.5.2.zip",
            format!("{target}/rsc.io/quote/@v/v1.5.2.zip"),
        ),
        (
            "/go/rsc.io/quote/@v/v1.5.2.info",
            format!("{target}/rsc.io/quote/@v/v1.5.2.info"),
        ),
        (
            "/go/rsc.io/quote/@v/v1.5.2.mod?x=1",
            format!("{target}/rsc.io/quote/@v/v1.5.2.mod"),
        ),
    ] {
        let resp = agora.get(path);
        assert_eq!(resp.status, 301, "{path}: {}", resp.summary());
        assert_eq!(resp.header("location"), Some(want.as_str()), "{path}");
    }
    let mut via = GoEnv::via(t.path(), "agora", &agora);
    via.goproxy = format!("{}/go", agora.goproxy_url());
    let printed = via.build_quote_consumer(&t.path().join("consumer")).1;
    assert!(!printed.trim().is_empty(), "the consumer printed nothing");
    assert_eq!(artifact_requests(&fwd), Vec::<String>::new());
    assert!(
        files_under(&agora.config.storage_root).is_empty(),
        "redirect stored something: {:?}",
        files_under(&agora.config.storage_root)
    );
}

/// async_redirect: 301 like redirect, and the version is stored in the background.
#[test]
fn async_redirect_redirects_and_stores() {
    let t = TestDir::new("dl-async-redirect");
    let fwd = Forwarder::to_ref_proxy();
    let agora = start(
        &t,
        fwd.goproxy_url(),
        &[
            ("ATHENS_DOWNLOAD_MODE", "async_redirect"),
            ("ATHENS_DOWNLOAD_URL", &ref_proxy().goproxy_url()),
        ],
    );
    let root = agora.config.storage_root.clone();
    let via = GoEnv::via(t.path(), "agora", &agora);
    assert_matches_truth(&t, "async_redirect", &via, &["rsc.io/sampler@v1.3.0"]);
    assert!(
        wait_until(BACKGROUND, || athens_version_stored(
            &root,
            "rsc.io/sampler",
            "v1.3.0"
        )),
        "never stored; forwarder saw {:?}",
        fwd.requests()
    );
    assert_eq!(
        fwd.count("/mod/rsc.io/sampler/@v/v1.3.0.zip"),
        1,
        "{:?}",
        fwd.requests()
    );
    // Stored: now answered from storage, not redirected.
    let resp = agora.get("/rsc.io/sampler/@v/v1.3.0.zip");
    assert_eq!(resp.status, 200, "{}", resp.summary());
}

/// none: a miss is 404 and upstream sees nothing, while stored versions, list and @latest
/// are served as usual.
#[test]
fn none_answers_404_and_asks_upstream_for_nothing() {
    let t = TestDir::new("dl-none");
    // Seed one version with a sync agora on the same storage.
    let seeding = start(&t, ref_proxy().goproxy_url(), &[]);
    let resp = seeding.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    drop(seeding);

    let fwd = Forwarder::to_ref_proxy();
    let agora = start(&t, fwd.goproxy_url(), &[("ATHENS_DOWNLOAD_MODE", "none")]);
    for ext in ["info", "mod", "zip"] {
        let resp = agora.get(&format!("/rsc.io/quote/@v/v1.5.1.{ext}"));
        assert_eq!(resp.status, 404, ".{ext}: {}", resp.summary());
        assert_one_line_reason(".{ext} miss", &resp, "download mode none");
    }
    // A query is not even resolved.
    let resp = agora.get("/rsc.io/quote/@v/master.info");
    assert_eq!(resp.status, 404, "{}", resp.summary());
    let via = GoEnv::via(t.path(), "agora", &agora);
    let got = downloads(&via, &["rsc.io/quote@v1.5.1"]);
    assert!(
        got["rsc.io/quote@v1.5.1"].error.is_some(),
        "go mod download of an unstored version succeeded in mode none"
    );
    assert_eq!(artifact_requests(&fwd), Vec::<String>::new());
    assert!(!athens_version_stored(
        &agora.config.storage_root,
        "rsc.io/quote",
        "v1.5.1"
    ));

    assert_matches_truth(&t, "none, stored", &via, &["rsc.io/quote@v1.5.2"]);
    let list = agora.get("/rsc.io/quote/@v/list");
    assert_eq!(list.status, 200, "{}", list.summary());
    assert!(list.text().contains("v1.5.1\n"), "{}", list.text());
    assert_eq!(agora.get("/rsc.io/quote/@latest").status, 200);
    assert_eq!(artifact_requests(&fwd), Vec::<String>::new());
}

const HCL: &str = r#"# agora e2e: two patterns in two modes
downloadURL = "REF"
mode = "sync"

download "rsc.io/sampler" {
    mode = "redirect"
}

download "golang.org/x/*" {
    mode = "none"
}
"#;

/// One HCL file, given as `custom:BASE64` and as `file:PATH`: sampler redirects,
/// golang.org/x/* is refused, everything else is fetched synchronously.
#[test]
fn download_files_apply_modes_per_pattern() {
    let t = TestDir::new("dl-hcl");
    let hcl = HCL.replace("REF", &ref_proxy().goproxy_url());
    let path: PathBuf = t.path().join("download.hcl");
    std::fs::write(&path, &hcl).expect("write the download file");
    let custom = format!(
        "custom:{}",
        base64::engine::general_purpose::STANDARD.encode(&hcl)
    );
    let file = format!("file:{}", path.display());
    for (what, mode) in [("custom:", custom), ("file:", file)] {
        let sub = TestDir::new(&format!("dl-hcl-{}", &what[..what.len() - 1]));
        let fwd = Forwarder::to_ref_proxy();
        let agora = start(&sub, fwd.goproxy_url(), &[("ATHENS_DOWNLOAD_MODE", &mode)]);

        let resp = agora.get("/rsc.io/sampler/@v/v1.3.0.zip");
        assert_eq!(resp.status, 301, "{what}: {}", resp.summary());
        assert_eq!(
            resp.header("location"),
            Some(format!("{}/rsc.io/sampler/@v/v1.3.0.zip", ref_proxy().goproxy_url()).as_str())
        );
        let resp = agora.get("/golang.org/x/text/@v/v0.3.0.zip");
        assert_eq!(resp.status, 404, "{what}: {}", resp.summary());

        let via = GoEnv::via(sub.path(), "agora", &agora);
        assert_matches_truth(
            &sub,
            what,
            &via,
            &["rsc.io/quote@v1.5.2", "rsc.io/sampler@v1.3.0"],
        );
        let got = downloads(&via, &["golang.org/x/text@v0.3.0"]);
        assert!(got["golang.org/x/text@v0.3.0"].error.is_some(), "{what}");

        let root = &agora.config.storage_root;
        assert!(
            athens_version_stored(root, "rsc.io/quote", "v1.5.2"),
            "{what}: quote is sync"
        );
        assert!(
            !athens_version_stored(root, "rsc.io/sampler", "v1.3.0"),
            "{what}: sampler redirects"
        );
        assert!(
            !athens_version_stored(root, "golang.org/x/text", "v0.3.0"),
            "{what}: x/text is none"
        );
        let fetched = artifact_requests(&fwd);
        assert!(
            fetched.iter().all(|r| r.starts_with("/mod/rsc.io/quote/")),
            "{what}: upstream asked for {fetched:?}"
        );
        assert_eq!(fwd.count("/mod/rsc.io/quote/@v/v1.5.2.zip"), 1, "{what}");
    }
}

/// A download file Athens would reject, or a redirect with nowhere to go, stops startup
/// with the reason (and the line).
#[test]
fn bad_download_settings_stop_startup() {
    let t = TestDir::new("dl-bad");
    let bad = t.path().join("bad.hcl");
    std::fs::write(
        &bad,
        "mode = \"sync\"\ndownloadURL = \"\"\ndownload \"a/*\" {\n  mode = \"fast\"\n}\n",
    )
    .expect("write the bad file");
    let home = t.sub("home");
    // Each case: its environment, and what stderr must name.
    type Case<'a> = (Vec<(&'a str, String)>, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            vec![("ATHENS_DOWNLOAD_MODE", format!("file:{}", bad.display()))],
            vec![bad.display().to_string(), "line 4".into(), "fast".into()],
        ),
        (
            vec![("ATHENS_DOWNLOAD_MODE", "file:/nonexistent/dl.hcl".into())],
            vec!["/nonexistent/dl.hcl".into()],
        ),
        (
            vec![("ATHENS_DOWNLOAD_MODE", "redirect".into())],
            vec!["ATHENS_DOWNLOAD_URL".into()],
        ),
        (
            vec![("ATHENS_DOWNLOAD_MODE", "eventually".into())],
            vec!["ATHENS_DOWNLOAD_MODE".into()],
        ),
    ];
    for (env, needles) in cases {
        let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.push(("ATHENS_PORT", "127.0.0.1:0"));
        all.push(("ATHENS_STORAGE_TYPE", "memory"));
        let out = run_agora(&home, &["serve"], &all, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{env:?}: agora started:\n{stderr}");
        for n in &needles {
            assert!(
                stderr.contains(n.as_str()),
                "{env:?}: {n:?} not in:\n{stderr}"
            );
        }
    }
}
