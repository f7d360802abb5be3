//! agora on Athens' external HTTP storage: the real binary with `ATHENS_STORAGE_TYPE=external`
//! pointing at agora's own protocol server (`agora-external-server`, over a disk tree in the
//! test directory), started by the test on 127.0.0.1 in both of its dialects (agora's, and
//! Athens' reference server's: whole zips only, 400 for any failed save).
//!
//! The three storage scenarios of `agora_testkit::storage_scenarios`:
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, the
//!   server's tree holds each version's three files, and the go command gets the same
//!   again from the external storage alone after the upstream is switched off and agora
//!   restarted (in both dialects);
//! * a tree another tool wrote in Athens' disk layout is served through the server as it
//!   is, and left unchanged;
//! * the storage server down is a 503 with a one-line reason (never a 404) and a failing
//!   `/readyz`; service resumes by itself when the server is back, serving what it stored
//!   without fetching it again.
//!
//! Ground truth always comes from the go command against the reference proxy, in the same
//! run.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use agora_external_server::{BlockingServer, Dialect, ServerOptions};
use agora_storage::fs::DiskStorage;
use agora_testkit::*;

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

fn name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Agora => "agora-dialect",
        Dialect::AthensReference => "athens-dialect",
    }
}

/// The protocol server's disk tree and spool, under the test directory, and the server
/// while it runs.
struct Store {
    root: PathBuf,
    spool: PathBuf,
    dialect: Dialect,
    server: Option<BlockingServer>,
    addr: SocketAddr,
}

impl Store {
    /// Starts a server on a free port over a fresh tree.
    fn start(t: &TestDir, dialect: Dialect) -> Store {
        let mut store = Store {
            root: t.sub("external-root"),
            spool: t.sub("external-spool"),
            dialect,
            server: None,
            addr: "127.0.0.1:0".parse().expect("address"),
        };
        store.serve();
        store
    }

    /// Starts a server over the tree on `self.addr` (port 0: any free port, then kept).
    fn serve(&mut self) {
        let disk = DiskStorage::open(&self.root).expect("open the server's disk tree");
        let server = BlockingServer::start(
            self.addr,
            Arc::new(disk),
            ServerOptions {
                spool_dir: self.spool.clone(),
                dialect: self.dialect,
            },
        )
        .expect("start the external storage server");
        self.addr = server.addr();
        self.server = Some(server);
    }

    fn url(&self) -> String {
        self.server
            .as_ref()
            .expect("the server runs while agora is configured")
            .url()
    }
}

/// Every file of the tree (relative paths), skipping the dot directories other readers
/// of Athens' layout skip (the disk backend's scratch space).
fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .display()
                .to_string();
            out.insert(rel, fs::read(&path).expect("read a stored file"));
        }
    }
}

impl StoreUnderTest for Store {
    fn label(&self) -> String {
        format!("external storage ({})", name(self.dialect))
    }

    fn agora_config(&self, dir: &Path, upstream: &str) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend([
            ("ATHENS_STORAGE_TYPE".to_string(), "external".to_string()),
            ("ATHENS_EXTERNAL_STORAGE_URL".to_string(), self.url()),
        ]);
        cfg
    }

    /// Athens' disk layout, which the protocol server's disk backend writes.
    fn key(&self, path: &str, version: &str, ext: &str) -> String {
        let file = match ext {
            "info" => format!("{version}.info"),
            "mod" => "go.mod".to_owned(),
            "zip" => "source.zip".to_owned(),
            other => panic!("no Athens file for .{other}"),
        };
        athens_version_dir(Path::new(""), path, version)
            .join(file)
            .display()
            .to_string()
    }

    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }

    /// Another tool writing Athens' disk tree behind the server.
    fn seed(&self, objects: &[(String, PathBuf)]) {
        for (key, file) in objects {
            let dest = self.root.join(key);
            fs::create_dir_all(dest.parent().expect("a version directory"))
                .expect("create a version directory");
            fs::copy(file, dest).expect("copy from the module cache");
        }
    }

    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
    }

    fn restart(&mut self) {
        self.stop();
        self.serve();
    }
}

#[test]
fn external_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("external-agora-dialect-downloads");
    let store = Store::start(&t, Dialect::Agora);
    downloads_match_reference_and_survive_upstream_loss(&t, &store, SPECS);
}

#[test]
fn external_athens_dialect_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("external-athens-dialect-downloads");
    let store = Store::start(&t, Dialect::AthensReference);
    downloads_match_reference_and_survive_upstream_loss(&t, &store, SPECS);
}

#[test]
fn external_objects_seeded_by_another_client_are_served() {
    let t = TestDir::new("external-seeded");
    let store = Store::start(&t, Dialect::Agora);
    objects_seeded_by_another_client_are_served(&t, &store, SPECS);
}

#[test]
fn external_storage_outage_is_503_and_service_resumes() {
    let t = TestDir::new("external-outage");
    let mut store = Store::start(&t, Dialect::Agora);
    storage_outage_is_503_and_service_resumes(&t, &mut store);
}
