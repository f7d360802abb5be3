//! An existing Athens disk tree (`<root>/<module>/<version>/{go.mod,source.zip,<version>.info}`,
//! decoded paths) is served as it is, with no upstream.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use agora_testkit::*;

const SPECS: &[&str] = &[
    "rsc.io/quote@v1.5.2",
    "rsc.io/quote@v1.5.3-pre1",
    "rsc.io/quote@v0.0.0-20180709162749-b44a0b17b2d1",
    "rsc.io/QUOTE@v1.5.2",
    "rsc.io/QUOTE@v1.5.3-PRE",
    "rsc.io/CGO@v1.0.0",
    "rsc.io/quote/v2@v2.0.1",
    "rsc.io/quote/v3@v3.0.0",
    "rsc.io/breaker@v2.0.0+incompatible",
    "rsc.io/breaker@v1.0.0",
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

/// Downloads the specs with the go command and copies its download cache
/// (`$GOMODCACHE/cache/download/<mod>/@v/<v>.{info,mod,zip}`) into Athens' layout.
fn build_athens_tree(t: &TestDir, root: &Path) -> BTreeMap<String, Download> {
    let truth = GoEnv::direct(t.path(), "seed").mod_download(&specs());
    for spec in specs() {
        let d = &truth[&spec];
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        let dir = athens_version_dir(root, &d.path, &d.version);
        fs::create_dir_all(&dir).expect("create version dir");
        let copy = |from: &Option<std::path::PathBuf>, to: &str| {
            let from = from
                .as_ref()
                .expect("the go command reports its cache file");
            fs::copy(from, dir.join(to)).expect("copy from the module cache");
        };
        copy(&d.gomod, "go.mod");
        copy(&d.zip, "source.zip");
        copy(&d.info, &format!("{}.info", d.version));
    }
    truth
}

#[test]
fn athens_tree_is_served_as_is_without_upstream() {
    let t = TestDir::new("athens-tree");
    let cfg = AgoraConfig::new(t.path(), "off");
    let truth = build_athens_tree(&t, &cfg.storage_root);
    // Decoded paths on disk, as Athens writes them.
    assert!(
        cfg.storage_root
            .join("rsc.io/QUOTE/v1.5.3-PRE/v1.5.3-PRE.info")
            .is_file()
    );
    // Files only: agora may add its own (empty) directories, such as a temp area.
    let before = file_snapshot(&cfg.storage_root);

    let agora = Agora::start(&cfg);
    let got = GoEnv::via(t.path(), "agora", &agora).mod_download(&specs());
    assert_same_downloads(
        "Athens tree, AGORA_GOPROXY=off",
        &specs(),
        &truth,
        &got,
        Some(&agora),
    );
    let changes = snapshot_diff(&before, &file_snapshot(&cfg.storage_root));
    assert!(
        changes.is_empty(),
        "agora modified the existing Athens tree: {changes:?}"
    );
}

/// In offline mode the version lists come from the tree alone. The oracle is the go command
/// reading a `file://` GOPROXY that holds exactly the same versions.
#[test]
fn athens_tree_versions_are_listed_offline() {
    let t = TestDir::new("athens-tree-list");
    let mut cfg = AgoraConfig::new(t.path(), "off");
    cfg.network_mode = Some("offline".to_string());
    let truth = build_athens_tree(&t, &cfg.storage_root);

    let file_proxy = t.sub("file-proxy");
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in truth.values() {
        let at_v = file_proxy.join(escape(&d.path)).join("@v");
        fs::create_dir_all(&at_v).expect("create file proxy dir");
        let v = escape(&d.version);
        for (from, ext) in [(&d.info, "info"), (&d.gomod, "mod"), (&d.zip, "zip")] {
            fs::copy(
                from.as_ref().expect("cache file"),
                at_v.join(format!("{v}.{ext}")),
            )
            .expect("copy");
        }
        lists
            .entry(d.path.clone())
            .or_default()
            .push(d.version.clone());
    }
    for (path, versions) in &lists {
        let list = file_proxy.join(escape(path)).join("@v/list");
        fs::write(list, versions.join("\n") + "\n").expect("write list");
    }
    let modules: Vec<&str> = lists.keys().map(String::as_str).collect();
    let oracle = GoEnv::new(
        t.path(),
        "file-proxy",
        format!("file://{}", file_proxy.display()),
    );
    let agora = Agora::start(&cfg);
    let via = GoEnv::via(t.path(), "agora", &agora);
    let mut args = vec!["-versions"];
    args.extend(&modules);
    let (want, got) = both(|| oracle.list_json(&args), || via.list_json(&args));
    assert_eq!(
        serde_json::Value::Array(got).to_string(),
        serde_json::Value::Array(want).to_string(),
        "go list -m -versions through agora (offline, Athens tree) vs the same versions in a \
         file:// proxy"
    );
}
