//! agora on Athens' external HTTP storage: the real binary with `ATHENS_STORAGE_TYPE=external`
//! pointing at agora's own protocol server (`agora-external-server`, over a disk tree in the
//! test directory), started by the test on 127.0.0.1 in both of its dialects (agora's, and
//! Athens' reference server's: whole zips only, 400 for any failed save).
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, the
//!   server's tree holds each version's three files, and the go command gets the same
//!   again from the external storage alone after the upstream is switched off and agora
//!   restarted;
//! * the storage server down is a 503 with a one-line reason (never a 404) and a failing
//!   `/readyz`; service resumes by itself when the server is back, serving what it stored
//!   without fetching it again.
//!
//! Ground truth always comes from the go command against the reference proxy, in the same
//! run.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agora_external_server::{BlockingServer, Dialect, ServerOptions};
use agora_storage::fs::DiskStorage;
use serde_json::Value;
use support::*;

/// A spread of cases: escaped path and version, majors, +incompatible, pseudo-versions,
/// pre-releases, a retracted version, gopkg.in, a .git path.
const SPECS: &[&str] = &[
    "rsc.io/quote@v1.5.2",
    "rsc.io/quote@v1.5.3-pre1",
    "rsc.io/quote@v0.0.0-20180709162749-b44a0b17b2d1",
    "rsc.io/QUOTE@v1.5.2",
    "rsc.io/QUOTE@v1.5.3-PRE",
    "rsc.io/quote/v3@v3.0.0",
    "rsc.io/breaker@v2.0.0+incompatible",
    "example.com/split-incompatible@v2.1.0-pre+incompatible",
    "example.com/retract@v1.0.0-bad",
    "gopkg.in/dummy.v2-unstable@v2.0.0",
    "rsc.io/sampler@v1.3.0",
    "golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c",
    "vcs-test.golang.org/git/hello.git@v0.0.0-20170922010558-fc3a09f3dc5c",
];

fn specs() -> Vec<String> {
    SPECS.iter().map(|s| (*s).to_string()).collect()
}

fn name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Agora => "agora-dialect",
        Dialect::AthensReference => "athens-dialect",
    }
}

/// The protocol server's disk tree and spool, under the test directory.
struct Store {
    root: PathBuf,
    spool: PathBuf,
    dialect: Dialect,
}

impl Store {
    fn new(t: &TestDir, dialect: Dialect) -> Store {
        let store = Store {
            root: t.sub("external-root"),
            spool: t.sub("external-spool"),
            dialect,
        };
        fs::create_dir_all(&store.spool).expect("create the spool directory");
        store
    }

    /// Starts a server over the tree on `addr` (port 0: any free port).
    fn serve(&self, addr: SocketAddr) -> BlockingServer {
        let disk = DiskStorage::open(&self.root).expect("open the server's disk tree");
        BlockingServer::start(
            addr,
            Arc::new(disk),
            ServerOptions {
                spool_dir: self.spool.clone(),
                dialect: self.dialect,
            },
        )
        .expect("start the external storage server")
    }
}

fn agora_config(t: &TestDir, upstream: impl Into<String>, server: &BlockingServer) -> AgoraConfig {
    let mut cfg = AgoraConfig::new(t.path(), upstream);
    cfg.extra_env.extend([
        ("ATHENS_STORAGE_TYPE".to_string(), "external".to_string()),
        ("ATHENS_EXTERNAL_STORAGE_URL".to_string(), server.url()),
    ]);
    cfg
}

/// `/<escaped module>/@v/<escaped version>.<ext>`.
fn target(path: &str, version: &str, ext: &str) -> String {
    format!("/{}/@v/{}.{ext}", escape(path), escape(version))
}

fn module_paths(specs: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = specs
        .iter()
        .filter_map(|s| s.split_once('@').map(|(p, _)| p.to_string()))
        .collect();
    set.into_iter().collect()
}

/// Module path → (Versions, whether the go command reported an error).
fn versions_by_path(values: &[Value]) -> BTreeMap<String, (Value, bool)> {
    values
        .iter()
        .map(|v| {
            (
                v.get("Path")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                (
                    v.get("Versions").cloned().unwrap_or(Value::Null),
                    v.get("Error").is_some(),
                ),
            )
        })
        .collect()
}

/// Panics unless the server's tree holds each download's three files with the reference
/// bytes, in Athens' disk layout.
fn assert_tree_holds(root: &Path, truth: &BTreeMap<String, Download>) {
    for (spec, d) in truth {
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        let dir = athens_version_dir(root, &d.path, &d.version);
        let read = |p: &Option<PathBuf>| fs::read(p.as_ref().expect("cache file")).ok();
        for (file, want) in [
            ("go.mod".to_string(), read(&d.gomod)),
            ("source.zip".to_string(), read(&d.zip)),
        ] {
            assert!(
                fs::read(dir.join(&file)).ok() == want,
                "{spec}: {file} in the external storage's tree is missing or differs"
            );
        }
        let info = fs::read(dir.join(format!("{}.info", d.version)))
            .unwrap_or_else(|e| panic!("{spec}: no .info in the external storage: {e}"));
        let version = serde_json::from_slice::<Value>(&info)
            .ok()
            .and_then(|v| v.get("Version").cloned());
        assert_eq!(version, Some(Value::String(d.version.clone())), "{spec}");
    }
}

// ---------------------------------------------------------------------------------------
// 1. The go command through agora on external storage, then from the storage alone
// ---------------------------------------------------------------------------------------

fn downloads_match_reference_and_survive_upstream_loss(dialect: Dialect) {
    let t = TestDir::new(&format!("external-{}-downloads", name(dialect)));
    let store = Store::new(&t, dialect);
    let server = store.serve("127.0.0.1:0".parse().expect("address"));
    let cfg = agora_config(&t, ref_proxy().goproxy_url(), &server);
    let specs = specs();
    let modules = module_paths(&specs);
    let mut list_args = vec!["-versions"];
    list_args.extend(modules.iter().map(String::as_str));

    let mut agora = Agora::start(&cfg);
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    assert_same_downloads(
        &format!("external storage ({}), upstream up", name(dialect)),
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    assert_tree_holds(&store.root, &truth);

    let (want, listed) = both(
        || direct.list_json(&list_args),
        || via.list_json(&list_args),
    );
    assert_eq!(
        versions_by_path(&listed),
        versions_by_path(&want),
        "go list -m -versions through agora (external storage) vs the reference proxy"
    );

    // Upstream off, agora restarted: everything comes from the external storage.
    agora.stop();
    let off = Agora::start(&cfg.with_upstream("off"));
    let after = GoEnv::via(t.path(), "after-restart", &off);
    let again = after.mod_download(&specs);
    assert_same_downloads(
        &format!(
            "external storage ({}), AGORA_GOPROXY=off after a restart",
            name(dialect)
        ),
        &specs,
        &truth,
        &again,
        Some(&off),
    );
    // The stored versions are listed from storage alone (pseudo-versions never are).
    let is_pseudo = |v: &str| {
        v.split(['-', '.'])
            .any(|p| p.len() == 14 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    for spec in &specs {
        let d = &truth[spec];
        if is_pseudo(&d.version) {
            continue;
        }
        let list = off.get(&format!("/{}/@v/list", escape(&d.path)));
        assert_eq!(list.status, 200, "{spec}: list: {}", list.summary());
        assert!(
            list.text().lines().any(|l| l == d.version),
            "{spec}: {} missing from the list served from external storage: {:?}",
            d.version,
            list.text()
        );
    }
    drop(server);
}

#[test]
fn external_downloads_match_reference_and_survive_upstream_loss() {
    downloads_match_reference_and_survive_upstream_loss(Dialect::Agora);
}

#[test]
fn external_athens_dialect_downloads_match_reference_and_survive_upstream_loss() {
    downloads_match_reference_and_survive_upstream_loss(Dialect::AthensReference);
}

// ---------------------------------------------------------------------------------------
// 2. Storage server down, then back
// ---------------------------------------------------------------------------------------

#[test]
fn external_storage_outage_is_503_and_service_resumes() {
    let t = TestDir::new("external-outage");
    let store = Store::new(&t, Dialect::Agora);
    let mut server = store.serve("127.0.0.1:0".parse().expect("address"));
    let addr = server.addr();
    let fwd = Forwarder::to_ref_proxy();
    let cfg = agora_config(&t, fwd.goproxy_url(), &server);
    let stored: Vec<String> = ["rsc.io/quote@v1.5.2", "rsc.io/sampler@v1.3.0"]
        .map(String::from)
        .to_vec();
    let fresh = "rsc.io/quote@v1.5.1".to_string();
    let mut all = stored.clone();
    all.push(fresh.clone());
    let truth = GoEnv::direct(t.path(), "direct").mod_download(&all);

    {
        let first = Agora::start(&cfg);
        let got = GoEnv::via(t.path(), "store", &first).mod_download(&stored);
        assert_same_downloads("storing before the outage", &stored, &truth, &got, None);
    }
    // A new process: nothing of the stored versions is in its memory.
    let agora = Agora::start(&cfg);
    server.stop();

    for spec in &all {
        let d = &truth[spec];
        for ext in ["info", "mod", "zip"] {
            let tg = target(&d.path, &d.version, ext);
            assert_one_line_503(&format!("GET {tg}"), &agora.get(&tg));
        }
    }
    assert_one_line_503("GET /readyz", &agora.get("/readyz"));
    let client = GoEnv::via(t.path(), "during-outage", &agora);
    let run = client.run(&["mod", "download", "-json", &stored[0]]);
    assert!(
        !run.status.success() && run.stdout.contains("503"),
        "the go command through agora during the outage should fail with the 503:\n{}\n{}",
        run.stdout,
        run.stderr
    );

    // The server back on the same address, over the same tree; agora untouched.
    let _server = store.serve(addr);
    let upstream_before = fwd.requests().len();
    assert!(
        wait_until(Duration::from_secs(30), || agora.get("/readyz").status
            == 200),
        "/readyz did not recover within 30 s of the storage coming back: {}",
        agora.get("/readyz").summary()
    );
    let back = GoEnv::via(t.path(), "after-outage", &agora).mod_download(&all);
    assert_same_downloads(
        "external storage back after an outage, same agora",
        &all,
        &truth,
        &back,
        Some(&agora),
    );
    assert_tree_holds(&store.root, &truth);
    // The stored versions came from the external storage; only the fresh one from upstream.
    let fetched: Vec<String> = fwd.requests()[upstream_before..]
        .iter()
        .filter(|r| r.ends_with(".zip"))
        .cloned()
        .collect();
    let fresh_zip = format!(
        "/mod{}",
        target(&truth[&fresh].path, &truth[&fresh].version, "zip")
    );
    assert_eq!(
        fetched,
        vec![fresh_zip],
        "zips fetched from upstream after the outage"
    );
}
