//! The end-to-end storage scenarios, written once and run by every storage backend's test
//! file (`crates/agora-e2e/tests/*_storage.rs`) through [`StoreUnderTest`]:
//!
//! * [`downloads_match_reference_and_survive_upstream_loss`]: the go command gets through
//!   agora exactly what it gets from the reference proxy, the store then holds exactly the
//!   three artifacts of each version in Athens' layout, and the go command gets the same
//!   again from the store alone after the upstream is switched off and agora restarted;
//! * [`objects_seeded_by_another_client_are_served`]: artifacts another client wrote in
//!   Athens' layout are served as they are, with the upstream off, and left unchanged;
//! * [`storage_outage_is_503_and_service_resumes`]: the store down is a 503 with a one-line
//!   reason (never a 404) and a failing `/readyz`; service resumes by itself when it is
//!   back, serving what it stored without fetching it again.
//!
//! Ground truth always comes from the go command against the reference proxy, in the same
//! run.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::*;

/// One storage backend's store under an agora process, as the scenarios see it.
pub trait StoreUnderTest {
    /// What the store is, for messages (`s3 bucket`, `azure container`…).
    fn label(&self) -> String;

    /// An agora configured (the way an Athens deployment is) to store here, with its
    /// directories under `dir` and `upstream` as its GOPROXY.
    fn agora_config(&self, dir: &Path, upstream: &str) -> AgoraConfig;

    /// The key (object name, or path under the root) of one artifact, `ext` being `info`,
    /// `mod` or `zip`, with the decoded module path and version, as Athens writes them.
    fn key(&self, path: &str, version: &str, ext: &str) -> String;

    /// Everything the store holds, read by another client: key → content.
    fn contents(&self) -> BTreeMap<String, Vec<u8>>;

    /// Writes `(key, local file)` pairs as another client (Athens, a CLI) would.
    fn seed(&self, objects: &[(String, std::path::PathBuf)]);

    /// Stops the store's server; what it holds survives (its data stays on disk, or its
    /// requests are recorded).
    fn stop(&mut self);

    /// Starts the server again on the same address over the same data.
    fn restart(&mut self);
}

/// `/<escaped module>/@v/<escaped version>.<ext>`.
pub fn artifact_target(path: &str, version: &str, ext: &str) -> String {
    format!("/{}/@v/{}.{ext}", escape(path), escape(version))
}

/// The module paths of `specs` (`path@query`), each once, sorted.
pub fn module_paths(specs: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = specs
        .iter()
        .filter_map(|s| s.split_once('@').map(|(p, _)| p.to_string()))
        .collect();
    set.into_iter().collect()
}

/// Module path → (Versions, whether the go command reported an error), from
/// `go list -m -e -json -versions` output.
pub fn versions_by_path(values: &[Value]) -> BTreeMap<String, (Value, bool)> {
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

/// The three keys of every download, in the store's layout.
pub fn expected_keys(
    store: &dyn StoreUnderTest,
    truth: &BTreeMap<String, Download>,
) -> BTreeSet<String> {
    truth
        .values()
        .flat_map(|d| ["info", "mod", "zip"].map(|ext| store.key(&d.path, &d.version, ext)))
        .collect()
}

fn keys_of(contents: &BTreeMap<String, Vec<u8>>) -> BTreeSet<String> {
    contents.keys().cloned().collect()
}

/// Panics unless the store holds exactly `before`, naming the keys that differ.
fn assert_unchanged(
    what: &str,
    before: &BTreeMap<String, Vec<u8>>,
    now: &BTreeMap<String, Vec<u8>>,
) {
    let differ: Vec<&String> = before
        .keys()
        .chain(now.keys())
        .filter(|k| before.get(*k) != now.get(*k))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(differ.is_empty(), "{what}: these keys changed: {differ:?}");
}

/// Panics unless `contents` holds exactly the three artifacts of each download: the go
/// command's go.mod and zip bytes, and a `.info` naming the version.
fn assert_holds_exactly(
    what: &str,
    store: &dyn StoreUnderTest,
    contents: &BTreeMap<String, Vec<u8>>,
    truth: &BTreeMap<String, Download>,
) {
    let keys = keys_of(contents);
    let want = expected_keys(store, truth);
    assert_eq!(
        keys,
        want,
        "{what}: keys (extra: {:?}, missing: {:?})",
        keys.difference(&want).collect::<Vec<_>>(),
        want.difference(&keys).collect::<Vec<_>>()
    );
    for (spec, d) in truth {
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        let read = |p: &Option<std::path::PathBuf>| {
            fs::read(p.as_ref().expect("the go command reports its cache file"))
                .expect("read the go command's cache file")
        };
        assert!(
            contents[&store.key(&d.path, &d.version, "mod")] == read(&d.gomod),
            "{what}: {spec}: the stored go.mod differs from the reference proxy's"
        );
        assert!(
            contents[&store.key(&d.path, &d.version, "zip")] == read(&d.zip),
            "{what}: {spec}: the stored zip differs from the reference proxy's"
        );
        let info = &contents[&store.key(&d.path, &d.version, "info")];
        let version = serde_json::from_slice::<Value>(info)
            .ok()
            .and_then(|v| v.get("Version").cloned());
        assert_eq!(
            version,
            Some(Value::String(d.version.clone())),
            "{what}: {spec}: the stored .info"
        );
    }
}

/// Splits a key of either of Athens' layouts into (module path, version, ext): the
/// `s3`/`azureblob`/`gcp` one, `<module>/@v/<version>.<ext>`, and the disk/`minio` one,
/// `<module>/<version>/{<version>.info,go.mod,source.zip}` (a module path never holds an
/// `@`, so `/@v/` tells them apart). `None` for other keys.
pub fn parse_athens_key(key: &str) -> Option<(String, String, &'static str)> {
    if let Some((path, file)) = key.rsplit_once("/@v/") {
        let (version, ext) = file.rsplit_once('.')?;
        let ext = ["info", "mod", "zip"].into_iter().find(|e| *e == ext)?;
        return Some((path.to_string(), version.to_string(), ext));
    }
    let (rest, file) = key.rsplit_once('/')?;
    let (path, version) = rest.rsplit_once('/')?;
    let ext = match file {
        "go.mod" => "mod",
        "source.zip" => "zip",
        f if f.strip_suffix(".info") == Some(version) => "info",
        _ => return None,
    };
    Some((path.to_string(), version.to_string(), ext))
}

/// A go client of a `file://` proxy holding exactly the versions in the store: the oracle
/// for what `go list -m -versions` should say when the versions come from storage alone.
fn store_file_proxy(t: &TestDir, contents: &BTreeMap<String, Vec<u8>>) -> GoEnv {
    let root = t.sub("file-proxy");
    let mut lists: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, bytes) in contents {
        let (path, version, ext) =
            parse_athens_key(key).unwrap_or_else(|| panic!("unexpected key {key:?}"));
        let at_v = root.join(escape(&path)).join("@v");
        fs::create_dir_all(&at_v).expect("create file proxy dir");
        fs::write(at_v.join(format!("{}.{ext}", escape(&version))), bytes)
            .expect("write into the file proxy");
        lists.entry(path).or_default().insert(version);
    }
    for (path, versions) in &lists {
        let text: String = versions.iter().map(|v| format!("{v}\n")).collect();
        fs::write(root.join(escape(path)).join("@v/list"), text).expect("write list");
    }
    GoEnv::new(t.path(), "file-proxy", format!("file://{}", root.display()))
}

/// Whether a version is a pseudo-version (never listed in `@v/list`).
fn is_pseudo(v: &str) -> bool {
    v.split(['-', '.'])
        .any(|p| p.len() == 14 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Scenario 1: the go command through agora on the store, then from the store alone.
pub fn downloads_match_reference_and_survive_upstream_loss(
    t: &TestDir,
    store: &dyn StoreUnderTest,
    specs: &[&str],
) {
    let label = store.label();
    let specs: Vec<String> = specs.iter().map(|s| (*s).to_string()).collect();
    let cfg = store.agora_config(t.path(), &ref_proxy().goproxy_url());
    let modules = module_paths(&specs);
    let mut list_args = vec!["-versions"];
    list_args.extend(modules.iter().map(String::as_str));

    let mut agora = Agora::start(&cfg);
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    assert_same_downloads(
        &format!("{label}, upstream up"),
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    // The store holds exactly the three artifacts of each version, in Athens' layout.
    assert_holds_exactly(
        &format!("{label} after the downloads"),
        store,
        &store.contents(),
        &truth,
    );

    // Listing asks upstream, and the go command then reads the latest version's go.mod
    // (retractions), which agora stores too.
    let (want, listed) = both(
        || direct.list_json(&list_args),
        || via.list_json(&list_args),
    );
    assert_eq!(
        versions_by_path(&listed),
        versions_by_path(&want),
        "go list -m -versions through agora ({label}) vs the reference proxy"
    );

    // What the store holds now, the listed versions' latest go.mod included.
    let stored = store.contents();

    // Upstream off, agora restarted: everything comes from the store.
    agora.stop();
    let off = Agora::start(&cfg.with_upstream("off"));
    let after = GoEnv::via(t.path(), "after-restart", &off);
    let again = after.mod_download(&specs);
    assert_same_downloads(
        &format!("{label}, AGORA_GOPROXY=off after a restart"),
        &specs,
        &truth,
        &again,
        Some(&off),
    );
    assert_unchanged(
        &format!("{label}: serving from the store"),
        &stored,
        &store.contents(),
    );
    // The stored versions are listed from storage alone (pseudo-versions never are).
    for spec in &specs {
        let d = &truth[spec];
        if is_pseudo(&d.version) {
            continue;
        }
        let list = off.get(&format!("/{}/@v/list", escape(&d.path)));
        assert_eq!(list.status, 200, "{spec}: list: {}", list.summary());
        assert!(
            list.text().lines().any(|l| l == d.version),
            "{spec}: {} missing from the list served from the {label}: {:?}",
            d.version,
            list.text()
        );
    }
    let oracle = store_file_proxy(t, &stored);
    let (want, listed) = both(
        || oracle.list_json(&list_args),
        || after.list_json(&list_args),
    );
    assert_eq!(
        versions_by_path(&listed),
        versions_by_path(&want),
        "go list -m -versions through agora ({label}, upstream off) vs a file:// proxy \
         holding the same versions"
    );
    assert!(
        expected_keys(store, &truth).is_subset(&keys_of(&store.contents())),
        "{label}: serving from the store lost objects"
    );
}

/// Scenario 2: a store written by another client, in Athens' layout, served with the
/// upstream off and left unchanged.
pub fn objects_seeded_by_another_client_are_served(
    t: &TestDir,
    store: &dyn StoreUnderTest,
    specs: &[&str],
) {
    let label = store.label();
    let specs: Vec<String> = specs.iter().map(|s| (*s).to_string()).collect();
    let truth = GoEnv::direct(t.path(), "seed").mod_download(&specs);
    let mut objects = Vec::new();
    for spec in &specs {
        let d = &truth[spec];
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        for (ext, file) in [("info", &d.info), ("mod", &d.gomod), ("zip", &d.zip)] {
            let file = file.clone().expect("the go command reports its cache file");
            objects.push((store.key(&d.path, &d.version, ext), file));
        }
    }
    store.seed(&objects);
    let before = store.contents();
    assert_eq!(
        keys_of(&before),
        expected_keys(store, &truth),
        "{label}: seeding"
    );

    let cfg = store.agora_config(t.path(), "off");
    let agora = Agora::start(&cfg);
    let got = GoEnv::via(t.path(), "agora", &agora).mod_download(&specs);
    assert_same_downloads(
        &format!("{label} seeded by another client, AGORA_GOPROXY=off"),
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    assert_unchanged(
        &format!("{label}: agora serving what another client wrote"),
        &before,
        &store.contents(),
    );
}

/// Scenario 3: the store unreachable, then back. `store` must be the test's own (it is
/// stopped).
pub fn storage_outage_is_503_and_service_resumes(t: &TestDir, store: &mut dyn StoreUnderTest) {
    let label = store.label();
    let fwd = Forwarder::to_ref_proxy();
    let cfg = store.agora_config(t.path(), &fwd.goproxy_url());
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
    let stored_truth: BTreeMap<String, Download> = stored
        .iter()
        .map(|s| (s.clone(), truth[s].clone()))
        .collect();
    let before = store.contents();
    assert_holds_exactly(
        &format!("{label} before the outage"),
        store,
        &before,
        &stored_truth,
    );
    // A new process: nothing of the stored versions is in its memory.
    let agora = Agora::start(&cfg);
    store.stop();

    for spec in &all {
        let d = &truth[spec];
        for ext in ["info", "mod", "zip"] {
            let tg = artifact_target(&d.path, &d.version, ext);
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

    // The store back on the same address over the same data; agora untouched.
    store.restart();
    assert_unchanged(
        &format!("{label}: the store's restart after the outage"),
        &before,
        &store.contents(),
    );
    let upstream_before = fwd.requests().len();
    assert!(
        wait_until(Duration::from_secs(30), || agora.get("/readyz").status
            == 200),
        "/readyz did not recover within 30 s of the storage coming back: {}",
        agora.get("/readyz").summary()
    );
    let back = GoEnv::via(t.path(), "after-outage", &agora).mod_download(&all);
    assert_same_downloads(
        &format!("{label} back after an outage, same agora"),
        &all,
        &truth,
        &back,
        Some(&agora),
    );
    assert_holds_exactly(
        &format!("{label} after the outage"),
        store,
        &store.contents(),
        &truth,
    );
    // The stored versions came from the store; only the fresh one from upstream.
    let fetched: Vec<String> = fwd.requests()[upstream_before..]
        .iter()
        .filter(|r| r.ends_with(".zip"))
        .cloned()
        .collect();
    let fresh_zip = format!(
        "/mod{}",
        artifact_target(&truth[&fresh].path, &truth[&fresh].version, "zip")
    );
    assert_eq!(
        fetched,
        vec![fresh_zip],
        "zips fetched from upstream after the outage"
    );
}

/// Asserts a 503 whose body is one non-empty line saying that the storage failed: what a
/// storage outage must look like to a client (never a 404).
pub fn assert_one_line_503(what: &str, resp: &HttpResponse) {
    assert_eq!(
        resp.status,
        503,
        "{what}: expected 503 while the storage is down, got {}",
        resp.summary()
    );
    let body = resp.text();
    let line = body.strip_suffix('\n').unwrap_or(&body);
    assert!(
        !line.trim().is_empty() && !line.contains(['\n', '\r']),
        "{what}: the 503 must carry a one-line reason, got {body:?}"
    );
    assert!(
        line.to_ascii_lowercase().contains("storage"),
        "{what}: the reason should say that the storage failed: {line:?}"
    );
}
