//! `ATHENS_NETWORK_MODE` (strict, fallback, offline), upstream failures (500, 404, a
//! stopped upstream, a timeout) and the GOPROXY chain's `,` and `|` fallback rules, end to
//! end against the go command's reference proxy.
//!
//! The reference proxy answers every path under `/mod/<status>/` with that status, so
//! `http://REF/mod/500` is an upstream that always fails and `http://REF/mod/404` one that
//! has nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agora_testkit::*;
use serde_json::Value;

/// Stored by [`seed`]: canonical tagged versions of rsc.io/quote (one a pre-release), a
/// pseudo-version of it, and a module stored only at a pseudo-version.
const SEED: &[(&str, &str)] = &[
    ("rsc.io/quote", "v1.5.1"),
    ("rsc.io/quote", "v1.5.2"),
    ("rsc.io/quote", "v1.5.3-pre1"),
    ("rsc.io/quote", "v0.0.0-20180709162749-b44a0b17b2d1"),
    ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
];

/// What list must answer from storage for rsc.io/quote: the stored canonical versions
/// without pseudo-versions, in semver order.
const STORED_QUOTE_LIST: &str = "v1.5.1\nv1.5.2\nv1.5.3-pre1\n";

/// What @latest must answer from storage for rsc.io/quote: the go command's rule (which
/// the reference proxy follows too) prefers the highest release over a higher pre-release.
const STORED_QUOTE_LATEST: &str = "v1.5.2";

/// A module the reference proxy has but the seeded storage does not.
const UNSTORED: &str = "rsc.io/sampler";

/// Fills a storage root through an agora whose upstream is the reference proxy, then stops
/// that agora. Returns the config (upstream still the reference proxy).
fn seed(t: &TestDir) -> AgoraConfig {
    let cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    let mut agora = Agora::start(&cfg);
    for (path, version) in SEED {
        let target = format!("/{}/@v/{}.zip", escape(path), escape(version));
        let resp = agora.get(&target);
        assert_eq!(resp.status, 200, "seeding {target}: {}", resp.summary());
    }
    agora.stop();
    for (path, version) in SEED {
        let dir = athens_version_dir(&cfg.storage_root, path, version);
        assert!(
            dir.join(format!("{version}.info")).is_file(),
            "seeding did not store {path}@{version} in {}",
            dir.display()
        );
    }
    cfg
}

fn start_mode(cfg: &AgoraConfig, upstream: &str, mode: &str) -> Agora {
    let mut c = cfg.with_upstream(upstream);
    c.network_mode = Some(mode.to_string());
    Agora::start(&c)
}

fn assert_one_line(what: &str, resp: &HttpResponse) {
    let text = resp.text();
    assert!(
        !text.trim().is_empty() && text.trim_end_matches('\n').lines().count() == 1,
        "{what}: expected a one-line reason, got {text:?}"
    );
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{what}: {}",
        resp.summary()
    );
}

fn expect_status(agora: &Agora, target: &str, status: u16, context: &str) -> HttpResponse {
    let resp = agora.get(target);
    assert_eq!(
        resp.status,
        status,
        "{context}: GET {target}: {}",
        resp.summary()
    );
    if status >= 400 {
        assert_one_line(&format!("{context}: GET {target}"), &resp);
    }
    resp
}

fn version_of(resp: &HttpResponse, what: &str) -> String {
    let v: Value = serde_json::from_slice(&resp.body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", resp.summary()));
    v["Version"].as_str().unwrap_or_default().to_string()
}

/// list and @latest of rsc.io/quote answer from storage.
fn assert_answers_from_storage(agora: &Agora, context: &str) {
    let list = expect_status(agora, "/rsc.io/quote/@v/list", 200, context);
    assert_eq!(list.text(), STORED_QUOTE_LIST, "{context}: list");
    let latest = expect_status(agora, "/rsc.io/quote/@latest", 200, context);
    assert_eq!(
        version_of(&latest, context),
        STORED_QUOTE_LATEST,
        "{context}: @latest"
    );
    assert_eq!(
        latest.header("content-type"),
        Some("application/json"),
        "{context}: @latest"
    );
}

/// .info, .mod and .zip of every seeded version are served, equal to the reference
/// proxy's bytes (for .info: Version and Time).
fn assert_artifacts_served(agora: &Agora, context: &str) {
    let rp = ref_proxy();
    for (path, version) in SEED {
        for ext in ["info", "mod", "zip"] {
            let rel = format!("{}/@v/{}.{ext}", escape(path), escape(version));
            let resp = expect_status(agora, &format!("/{rel}"), 200, context);
            let want = rp.fetch(&rel);
            if ext == "info" {
                let (got, want): (Value, Value) = (
                    serde_json::from_slice(&resp.body).expect("agora .info is JSON"),
                    serde_json::from_slice(&want).expect("reference .info is JSON"),
                );
                assert_eq!(
                    (&got["Version"], &got["Time"]),
                    (&want["Version"], &want["Time"]),
                    "{context}: {rel}"
                );
            } else {
                assert!(
                    resp.body == want,
                    "{context}: {rel}: bytes differ from the reference proxy's"
                );
            }
        }
    }
}

fn fail_url(status: u16) -> String {
    format!("http://{}/mod/{status}", ref_proxy().addr)
}

/// A forwarder that has been stopped: its port refuses connections.
fn stopped_upstream() -> (Forwarder, String) {
    let mut fwd = Forwarder::to_ref_proxy();
    let url = fwd.goproxy_url();
    fwd.stop();
    (fwd, url)
}

#[test]
fn strict_mode() {
    let t = TestDir::new("mode-strict");
    let cfg = seed(&t);

    // Upstream failing with 500: the failure is the answer, stored or not.
    let agora = start_mode(&cfg, &fail_url(500), "strict");
    let ctx = "strict, upstream 500";
    expect_status(&agora, "/rsc.io/quote/@v/list", 502, ctx);
    expect_status(&agora, "/rsc.io/quote/@latest", 502, ctx);
    expect_status(&agora, &format!("/{UNSTORED}/@v/list"), 502, ctx);
    expect_status(&agora, &format!("/{UNSTORED}/@latest"), 502, ctx);
    drop(agora);

    // Upstream answering 404: the stored module still answers, an unstored one is 404.
    let agora = start_mode(&cfg, &fail_url(404), "strict");
    let ctx = "strict, upstream 404";
    assert_answers_from_storage(&agora, ctx);
    expect_status(&agora, &format!("/{UNSTORED}/@v/list"), 404, ctx);
    expect_status(&agora, &format!("/{UNSTORED}/@latest"), 404, ctx);
    // Stored only at a pseudo-version: an empty list, and @latest is that pseudo-version
    // (the go command's rule when there is no tagged version).
    let list = expect_status(&agora, "/golang.org/x/text/@v/list", 200, ctx);
    assert_eq!(
        list.text(),
        "",
        "{ctx}: list of a module stored only at a pseudo-version"
    );
    let latest = expect_status(&agora, "/golang.org/x/text/@latest", 200, ctx);
    assert_eq!(
        version_of(&latest, ctx),
        "v0.0.0-20170915032832-14c0d48ead0c",
        "{ctx}: @latest of a module stored only at a pseudo-version"
    );
    drop(agora);

    // Upstream gone: stored artifacts are served; list is an upstream failure.
    let (_fwd, url) = stopped_upstream();
    let agora = start_mode(&cfg, &url, "strict");
    let ctx = "strict, upstream stopped";
    assert_artifacts_served(&agora, ctx);
    expect_status(&agora, "/rsc.io/quote/@v/list", 502, ctx);
}

#[test]
fn fallback_mode() {
    let t = TestDir::new("mode-fallback");
    let cfg = seed(&t);

    let (_fwd, stopped) = stopped_upstream();
    for (upstream, ctx) in [
        (fail_url(500), "fallback, upstream 500"),
        (stopped, "fallback, upstream stopped"),
    ] {
        let agora = start_mode(&cfg, &upstream, "fallback");
        assert_answers_from_storage(&agora, ctx);
        expect_status(&agora, &format!("/{UNSTORED}/@v/list"), 502, ctx);
        expect_status(&agora, &format!("/{UNSTORED}/@latest"), 502, ctx);
        assert_artifacts_served(&agora, ctx);
    }

    // With the upstream up, list is the union of upstream's list and the stored versions.
    let agora = start_mode(&cfg, &ref_proxy().goproxy_url(), "fallback");
    let list = expect_status(
        &agora,
        "/rsc.io/quote/@v/list",
        200,
        "fallback, upstream up",
    );
    let mut want: Vec<String> = String::from_utf8_lossy(&ref_proxy().fetch("rsc.io/quote/@v/list"))
        .lines()
        .chain(STORED_QUOTE_LIST.lines())
        .map(str::to_string)
        .collect();
    want.sort();
    want.dedup();
    let mut got: Vec<String> = list.text().lines().map(str::to_string).collect();
    got.sort();
    assert_eq!(got, want, "fallback, upstream up: list");
}

#[test]
fn offline_mode() {
    let t = TestDir::new("mode-offline");
    let cfg = seed(&t);
    let mut fwd = Forwarder::to_ref_proxy();
    let agora = start_mode(&cfg, &fwd.goproxy_url(), "offline");
    let ctx = "offline";
    assert_answers_from_storage(&agora, ctx);
    // Stored only at a pseudo-version: known, with no tagged versions.
    let list = expect_status(&agora, "/golang.org/x/text/@v/list", 200, ctx);
    assert_eq!(
        list.text(),
        "",
        "{ctx}: list of a module stored only at a pseudo-version"
    );
    expect_status(&agora, &format!("/{UNSTORED}/@v/list"), 404, ctx);
    expect_status(&agora, &format!("/{UNSTORED}/@latest"), 404, ctx);
    let asked: Vec<String> = fwd
        .requests()
        .into_iter()
        .filter(|r| r.ends_with("/@v/list") || r.ends_with("/@latest"))
        .collect();
    assert!(
        asked.is_empty(),
        "offline mode asked the upstream for list or @latest: {asked:?}"
    );

    fwd.stop();
    assert_artifacts_served(&agora, "offline, upstream stopped");
    assert_answers_from_storage(&agora, "offline, upstream stopped");
}

#[test]
fn upstream_timeout_is_504() {
    let t = TestDir::new("mode-timeout");
    let fwd = Forwarder::to_ref_proxy();
    fwd.set_behavior("/@v/list", Behavior::Delay(Duration::from_secs(6)));
    fwd.set_behavior("/@latest", Behavior::Delay(Duration::from_secs(6)));
    fwd.set_behavior("/v1.5.2.info", Behavior::Delay(Duration::from_secs(6)));
    let mut cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    cfg.extra_env
        .push(("ATHENS_TIMEOUT".to_string(), "2".to_string()));
    let agora = Agora::start(&cfg);
    for target in [
        "/rsc.io/quote/@v/list",
        "/rsc.io/quote/@latest",
        "/rsc.io/quote/@v/v1.5.2.info",
    ] {
        let started = Instant::now();
        expect_status(&agora, target, 504, "upstream slower than ATHENS_TIMEOUT=2");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_millis(5500),
            "{target}: the 504 came after {took:?}, expected about 2 s"
        );
    }
    assert!(
        !athens_version_dir(&cfg.storage_root, "rsc.io/quote", "v1.5.2").exists(),
        "a timed-out fetch stored a version"
    );

    // In fallback mode a timeout is one more failure that storage answers.
    let zip = expect_status(&agora, "/rsc.io/quote/@v/v1.5.1.zip", 200, "storing v1.5.1");
    assert!(!zip.body.is_empty(), "empty zip");
    drop(agora);
    let mut fallback = cfg.clone();
    fallback.network_mode = Some("fallback".to_string());
    let agora = Agora::start(&fallback);
    let ctx = "fallback, upstream slower than ATHENS_TIMEOUT=2";
    let list = expect_status(&agora, "/rsc.io/quote/@v/list", 200, ctx);
    assert_eq!(list.text(), "v1.5.1\n", "{ctx}: list");
    let latest = expect_status(&agora, "/rsc.io/quote/@latest", 200, ctx);
    assert_eq!(version_of(&latest, ctx), "v1.5.1", "{ctx}: @latest");
}

/// `GOPROXY`-syntax chains: `|` falls through on any error, `,` only on 404/410.
#[test]
fn goproxy_chain_fallback_rules() {
    let t = TestDir::new("mode-chain");
    let rp = ref_proxy();
    let good = rp.goproxy_url();
    let want_zip = rp.fetch("rsc.io/quote/@v/v1.5.2.zip");
    let want_list = rp.fetch("rsc.io/quote/@v/list");

    let mut chains: BTreeMap<&str, String> = BTreeMap::new();
    chains.insert("pipe-after-500", format!("{}|{good}", fail_url(500)));
    chains.insert("comma-after-404", format!("{},{good}", fail_url(404)));
    chains.insert("comma-after-410", format!("{},{good}", fail_url(410)));
    for (name, chain) in &chains {
        let cfg = AgoraConfig::new(&t.sub(name), chain.clone());
        let agora = Agora::start(&cfg);
        let ctx = format!("AGORA_GOPROXY={chain}");
        let list = expect_status(&agora, "/rsc.io/quote/@v/list", 200, &ctx);
        assert_eq!(
            sorted_lines(&list.body),
            sorted_lines(&want_list),
            "{ctx}: list"
        );
        expect_status(&agora, "/rsc.io/quote/@latest", 200, &ctx);
        let zip = expect_status(&agora, "/rsc.io/quote/@v/v1.5.2.zip", 200, &ctx);
        assert!(
            zip.body == want_zip,
            "{ctx}: zip bytes differ from upstream's"
        );
    }

    // `,` does not fall through on a 500: the error is the answer and nothing is stored.
    let chain = format!("{},{good}", fail_url(500));
    let cfg = AgoraConfig::new(&t.sub("comma-after-500"), chain.clone());
    let agora = Agora::start(&cfg);
    let ctx = format!("AGORA_GOPROXY={chain}");
    for target in [
        "/rsc.io/quote/@v/list",
        "/rsc.io/quote/@latest",
        "/rsc.io/quote/@v/v1.5.2.info",
        "/rsc.io/quote/@v/v1.5.2.zip",
    ] {
        expect_status(&agora, target, 502, &ctx);
    }
    assert!(
        files_under(&cfg.storage_root)
            .iter()
            .all(|p| p.starts_with(".agora-tmp")),
        "{ctx}: stored something: {:?}",
        files_under(&cfg.storage_root)
    );
    drop(agora);

    // Nor on a proxy that refuses connections (the go command falls through only on
    // 404/410 after `,`).
    let (_stopped, refused) = stopped_upstream();
    let chain = format!("{refused},{good}");
    let cfg = AgoraConfig::new(&t.sub("comma-after-refused"), chain.clone());
    let agora = Agora::start(&cfg);
    let ctx = format!("AGORA_GOPROXY={chain}");
    expect_status(&agora, "/rsc.io/quote/@v/list", 502, &ctx);
    expect_status(&agora, "/rsc.io/quote/@v/v1.5.2.zip", 502, &ctx);
    drop(agora);
    let chain = format!("{refused}|{good}");
    let cfg = AgoraConfig::new(&t.sub("pipe-after-refused"), chain.clone());
    let agora = Agora::start(&cfg);
    let ctx = format!("AGORA_GOPROXY={chain}");
    expect_status(&agora, "/rsc.io/quote/@v/list", 200, &ctx);
    let zip = expect_status(&agora, "/rsc.io/quote/@v/v1.5.2.zip", 200, &ctx);
    assert!(
        zip.body == want_zip,
        "{ctx}: zip bytes differ from upstream's"
    );
    drop(agora);

    // A chain that reaches `direct` for a module no proxy has: a clear one-line 502.
    let chain = format!("{},direct", fail_url(404));
    let cfg = AgoraConfig::new(&t.sub("to-direct"), chain.clone());
    let agora = Agora::start(&cfg);
    let ctx = format!("AGORA_GOPROXY={chain}");
    for target in [
        "/example.com/agora-e2e-absent/@v/list",
        "/example.com/agora-e2e-absent/@latest",
        "/example.com/agora-e2e-absent/@v/v1.0.0.info",
    ] {
        let resp = expect_status(&agora, target, 502, &ctx);
        assert!(
            resp.text().contains("direct"),
            "{ctx}: GET {target}: the reason does not mention direct: {}",
            resp.summary()
        );
    }
}

fn sorted_lines(body: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(body)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// `go list -m -versions <module>`'s output line.
fn go_versions(env: &GoEnv, module: &str) -> String {
    let run = env.run(&["list", "-m", "-versions", module]);
    run.expect_success("go list -m -versions");
    run.stdout.trim().to_string()
}

#[test]
fn go_command_lists_the_same_versions_in_fallback_after_upstream_loss() {
    let t = TestDir::new("mode-go-fallback");
    let modules = ["example.com/nest", "rsc.io/fortune", "example.com/retract"];
    let mut fwd = Forwarder::to_ref_proxy();
    let mut cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    cfg.network_mode = Some("fallback".to_string());
    let agora = Agora::start(&cfg);

    let direct = GoEnv::direct(t.path(), "direct");
    let warm = GoEnv::via(t.path(), "warm", &agora);
    let mut before = BTreeMap::new();
    let mut specs = Vec::new();
    for m in modules {
        let line = go_versions(&warm, m);
        assert_eq!(
            line,
            go_versions(&direct, m),
            "{m}: through agora vs direct"
        );
        let versions: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert!(!versions.is_empty(), "{m}: no versions listed ({line:?})");
        specs.extend(versions.iter().map(|v| format!("{m}@{v}")));
        before.insert(m, line);
    }
    let downloads = warm.mod_download(&specs);
    for (spec, d) in &downloads {
        assert!(
            d.ok(),
            "{spec}: download through agora failed: {}",
            d.error_line()
        );
    }

    fwd.stop();
    let cold = GoEnv::via(t.path(), "cold", &agora);
    for m in modules {
        assert_eq!(
            go_versions(&cold, m),
            before[m],
            "{m}: `go list -m -versions` after the upstream stopped (fallback mode)"
        );
    }
}
