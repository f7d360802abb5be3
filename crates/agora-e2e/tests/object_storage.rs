//! agora on object storage: the real binary on a moto S3 server, in Athens' `s3` layout
//! (`<module>/@v/<version>.{info,mod,zip}`) and in its `minio` layout
//! (`<module>/<version>/{<version>.info,go.mod,source.zip}`), each test on a fresh bucket.
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, and
//!   gets it again from the bucket alone after the upstream is switched off and agora
//!   restarted;
//! * objects another client (boto3) wrote in Athens' layout are served as they are;
//! * a storage outage is a 503 with a one-line reason (never a 404) and a failing `/readyz`,
//!   and service resumes by itself when the storage comes back;
//! * a fetch interrupted by killing agora (during the upstream download, or during the zip
//!   upload to the bucket) never leaves a version that is served half-written.
//!
//! moto is started by the tests (`moto_server`, installed by scripts/test.sh); the tests
//! fail when it cannot start. Ground truth always comes from the go command against the
//! reference proxy, in the same run.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::thread;
use std::time::Duration;

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

fn name(layout: BucketLayout) -> &'static str {
    match layout {
        BucketLayout::S3 => "s3",
        BucketLayout::Minio => "minio",
    }
}

/// `/<escaped module>/@v/<escaped version>.<ext>`.
fn target(path: &str, version: &str, ext: &str) -> String {
    format!("/{}/@v/{}.{ext}", escape(path), escape(version))
}

/// The three object keys of every download, in `layout`.
fn expected_keys(layout: BucketLayout, truth: &BTreeMap<String, Download>) -> BTreeSet<String> {
    truth
        .values()
        .flat_map(|d| ["info", "mod", "zip"].map(|ext| layout.key(&d.path, &d.version, ext)))
        .collect()
}

/// Module path → (Versions, whether the go command reported an error), from
/// `go list -m -e -json -versions` output.
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

fn module_paths(specs: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = specs
        .iter()
        .filter_map(|s| s.split_once('@').map(|(p, _)| p.to_string()))
        .collect();
    set.into_iter().collect()
}

/// Splits a key of `layout` into (module path, version, ext); `None` for other keys.
fn parse_key(layout: BucketLayout, key: &str) -> Option<(String, String, &'static str)> {
    match layout {
        BucketLayout::S3 => {
            let (path, file) = key.rsplit_once("/@v/")?;
            let (version, ext) = file.rsplit_once('.')?;
            let ext = ["info", "mod", "zip"].into_iter().find(|e| *e == ext)?;
            Some((path.to_string(), version.to_string(), ext))
        }
        BucketLayout::Minio => {
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
    }
}

/// A go client of a `file://` proxy holding exactly the versions in the bucket (boto3's
/// view): the oracle for what `go list -m -versions` should say when the versions come
/// from storage alone.
fn bucket_file_proxy(t: &TestDir, moto: &Moto, bucket: &str, layout: BucketLayout) -> GoEnv {
    let root = t.sub("file-proxy");
    let mut lists: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, bytes) in moto.objects(bucket, "") {
        let (path, version, ext) =
            parse_key(layout, &key).unwrap_or_else(|| panic!("unexpected key {key:?}"));
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

// ---------------------------------------------------------------------------------------
// 1. The go command through agora on a bucket, then from the bucket alone
// ---------------------------------------------------------------------------------------

fn downloads_match_reference_and_survive_upstream_loss(layout: BucketLayout) {
    let t = TestDir::new(&format!("{}-downloads", name(layout)));
    let moto = shared_moto();
    let bucket = moto.create_bucket(name(layout));
    let cfg = layout.agora_config(t.path(), ref_proxy().goproxy_url(), moto.addr(), &bucket);
    let specs = specs();
    let modules = module_paths(&specs);
    let mut list_args = vec!["-versions"];
    list_args.extend(modules.iter().map(String::as_str));

    let mut agora = Agora::start(&cfg);
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    assert_same_downloads(
        &format!("{} bucket, upstream up", name(layout)),
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    // The bucket holds exactly the three objects of each version, in Athens' layout.
    let keys = moto.keys(&bucket);
    let want_keys = expected_keys(layout, &truth);
    assert_eq!(
        keys,
        want_keys,
        "{} bucket keys after the downloads (extra: {:?}, missing: {:?})",
        name(layout),
        keys.difference(&want_keys).collect::<Vec<_>>(),
        want_keys.difference(&keys).collect::<Vec<_>>()
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
        "go list -m -versions through agora ({} bucket) vs the reference proxy",
        name(layout)
    );

    // Upstream off, agora restarted: everything comes from the bucket.
    agora.stop();
    let off = Agora::start(&cfg.with_upstream("off"));
    let after = GoEnv::via(t.path(), "after-restart", &off);
    let again = after.mod_download(&specs);
    assert_same_downloads(
        &format!("{} bucket, AGORA_GOPROXY=off after a restart", name(layout)),
        &specs,
        &truth,
        &again,
        Some(&off),
    );
    let oracle = bucket_file_proxy(&t, moto, &bucket, layout);
    let (want, listed) = both(
        || oracle.list_json(&list_args),
        || after.list_json(&list_args),
    );
    assert_eq!(
        versions_by_path(&listed),
        versions_by_path(&want),
        "go list -m -versions through agora ({} bucket, upstream off) vs a file:// proxy \
         holding the same versions",
        name(layout)
    );
    assert!(
        want_keys.is_subset(&moto.keys(&bucket)),
        "serving from the bucket lost objects"
    );
}

#[test]
fn s3_downloads_match_reference_and_survive_upstream_loss() {
    downloads_match_reference_and_survive_upstream_loss(BucketLayout::S3);
}

#[test]
fn minio_downloads_match_reference_and_survive_upstream_loss() {
    downloads_match_reference_and_survive_upstream_loss(BucketLayout::Minio);
}

// ---------------------------------------------------------------------------------------
// 2. A bucket written by another client, in Athens' layout
// ---------------------------------------------------------------------------------------

fn objects_seeded_by_another_client_are_served(layout: BucketLayout) {
    let t = TestDir::new(&format!("{}-seeded", name(layout)));
    let moto = shared_moto();
    let bucket = moto.create_bucket(name(layout));
    let specs = specs();
    let truth = GoEnv::direct(t.path(), "seed").mod_download(&specs);
    let mut objects = Vec::new();
    for spec in &specs {
        let d = &truth[spec];
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        for (ext, file) in [("info", &d.info), ("mod", &d.gomod), ("zip", &d.zip)] {
            let file = file.clone().expect("the go command reports its cache file");
            objects.push((layout.key(&d.path, &d.version, ext), file));
        }
    }
    moto.put_files(&bucket, &objects);
    let before = moto.objects(&bucket, "");
    assert_eq!(
        before.keys().cloned().collect::<BTreeSet<_>>(),
        expected_keys(layout, &truth),
        "boto3 seeding"
    );

    let cfg = layout.agora_config(t.path(), "off", moto.addr(), &bucket);
    let agora = Agora::start(&cfg);
    let got = GoEnv::via(t.path(), "agora", &agora).mod_download(&specs);
    assert_same_downloads(
        &format!("{} bucket seeded by boto3, AGORA_GOPROXY=off", name(layout)),
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    assert!(
        moto.objects(&bucket, "") == before,
        "agora changed the objects another client wrote"
    );
}

#[test]
fn s3_objects_seeded_by_another_client_are_served() {
    objects_seeded_by_another_client_are_served(BucketLayout::S3);
}

#[test]
fn minio_objects_seeded_by_another_client_are_served() {
    objects_seeded_by_another_client_are_served(BucketLayout::Minio);
}

// ---------------------------------------------------------------------------------------
// 3. Storage unreachable, then back
// ---------------------------------------------------------------------------------------

fn storage_outage_is_503_and_service_resumes(layout: BucketLayout) {
    let t = TestDir::new(&format!("{}-outage", name(layout)));
    // Its own moto (it is stopped), with moto's recorder on: the restart replays every
    // request, so the bucket and the objects agora stored come back.
    let mut moto = Moto::start_recording(&t.path().join("moto-recording.jsonl"));
    let bucket = moto.create_bucket(name(layout));
    let fwd = Forwarder::to_ref_proxy();
    let cfg = layout.agora_config(t.path(), fwd.goproxy_url(), moto.addr(), &bucket);
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
    moto.stop();

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

    // Storage back on the same port (moto's recording replayed), agora untouched.
    moto.restart();
    let stored_keys = expected_keys(
        layout,
        &stored
            .iter()
            .map(|s| (s.clone(), truth[s].clone()))
            .collect(),
    );
    assert_eq!(
        moto.keys(&bucket),
        stored_keys,
        "the bucket after moto's restart (replayed recording)"
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
        &format!("{} bucket back after an outage, same agora", name(layout)),
        &all,
        &truth,
        &back,
        Some(&agora),
    );
    let keys = moto.keys(&bucket);
    assert_eq!(
        keys,
        expected_keys(layout, &truth),
        "bucket keys after the outage"
    );
    // The stored versions came from the bucket; only the fresh one from upstream.
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

#[test]
fn s3_storage_outage_is_503_and_service_resumes() {
    storage_outage_is_503_and_service_resumes(BucketLayout::S3);
}

#[test]
fn minio_storage_outage_is_503_and_service_resumes() {
    storage_outage_is_503_and_service_resumes(BucketLayout::Minio);
}

// ---------------------------------------------------------------------------------------
// 4. Killed mid-fetch: never a half-written version
// ---------------------------------------------------------------------------------------

/// Whether the version is stored completely (its `.info`, the commit marker, exists and
/// all three objects hold the reference bytes); panics when the `.info` exists next to
/// missing or different objects, or when the version has keys outside its three.
fn complete_or_absent(moto: &Moto, bucket: &str, layout: BucketLayout, d: &Download) -> bool {
    let prefix = match layout {
        BucketLayout::S3 => format!("{}/@v/{}.", d.path, d.version),
        BucketLayout::Minio => format!("{}/{}/", d.path, d.version),
    };
    let objects = moto.objects(bucket, &prefix);
    let own: BTreeSet<String> = ["info", "mod", "zip"]
        .map(|ext| layout.key(&d.path, &d.version, ext))
        .into_iter()
        .collect();
    let stray: Vec<&String> = objects.keys().filter(|k| !own.contains(*k)).collect();
    assert!(
        stray.is_empty(),
        "{}: keys other than the version's three: {stray:?}",
        d.id()
    );
    let uploads = moto.multipart_uploads(bucket);
    assert!(
        uploads.is_empty(),
        "open multipart uploads left: {uploads:?}"
    );
    let Some(info) = objects.get(&layout.key(&d.path, &d.version, "info")) else {
        return false;
    };
    let read = |p: &Option<std::path::PathBuf>| fs::read(p.as_ref().expect("cache file")).ok();
    let version = serde_json::from_slice::<Value>(info)
        .ok()
        .and_then(|v| v.get("Version").cloned());
    assert_eq!(
        version,
        Some(Value::String(d.version.clone())),
        "{}: the stored .info",
        d.id()
    );
    assert_eq!(
        objects
            .get(&layout.key(&d.path, &d.version, "mod"))
            .cloned(),
        read(&d.gomod),
        "{}: the .info exists but the stored go.mod is missing or differs",
        d.id()
    );
    assert!(
        objects
            .get(&layout.key(&d.path, &d.version, "zip"))
            .cloned()
            == read(&d.zip),
        "{}: the .info exists but the stored zip is missing or differs",
        d.id()
    );
    true
}

/// With the upstream off, agora must not serve any part of an absent version.
fn assert_not_served(agora: &Agora, d: &Download) {
    for ext in ["info", "mod", "zip"] {
        let tg = target(&d.path, &d.version, ext);
        let resp = agora.get(&tg);
        assert_eq!(
            resp.status,
            404,
            "GET {tg} of an interrupted, absent version with the upstream off: {}",
            resp.summary()
        );
    }
    let list = agora.get(&format!("/{}/@v/list", escape(&d.path)));
    assert!(
        !list.text().lines().any(|l| l == d.version),
        "the list shows the interrupted version {}: {}",
        d.id(),
        list.summary()
    );
}

fn interrupted_fetch_is_never_half_written(layout: BucketLayout) {
    let t = TestDir::new(&format!("{}-interrupted", name(layout)));
    let moto = shared_moto();
    let bucket = moto.create_bucket(name(layout));
    // A: killed while the zip comes from upstream. B: killed while the zip goes to the bucket.
    let spec_a = "rsc.io/quote@v1.5.1".to_string();
    let spec_b = "rsc.io/quote@v1.5.0".to_string();
    let specs = vec![spec_a.clone(), spec_b.clone()];
    let truth = GoEnv::direct(t.path(), "direct").mod_download(&specs);
    let (a, b) = (&truth[&spec_a], &truth[&spec_b]);

    // A: the upstream zip stalls halfway; agora is killed while it waits.
    let fwd = Forwarder::to_ref_proxy();
    let zip_a = target(&a.path, &a.version, "zip");
    fwd.set_behavior(&zip_a, Behavior::Stall { fraction: 0.5 });
    let cfg = layout.agora_config(t.path(), fwd.goproxy_url(), moto.addr(), &bucket);
    let mut agora = Agora::start(&cfg);
    let addr = agora.addr;
    let tg = zip_a.clone();
    let pending = thread::spawn(move || http_get(addr, &tg));
    assert!(
        fwd.wait_stalled(1, Duration::from_secs(30)),
        "agora never fetched {zip_a} from upstream: {:?}",
        fwd.requests()
    );
    agora.kill9();
    fwd.release_stalls();
    let _ = pending.join();
    assert!(
        !complete_or_absent(moto, &bucket, layout, a),
        "{} is stored although agora was killed before the upstream zip arrived",
        a.id()
    );

    // B: the bucket's answer to the zip upload is held back; agora is killed once the zip
    // object exists in the bucket (its .info, the commit marker, not written yet).
    let storage_fwd = Forwarder::start(moto.addr());
    let zip_key_b = layout.key(&b.path, &b.version, "zip");
    storage_fwd.set_behavior(
        &format!("/{bucket}/{zip_key_b}"),
        Behavior::Delay(Duration::from_secs(60)),
    );
    let cfg_b = layout.agora_config(
        t.path(),
        ref_proxy().goproxy_url(),
        storage_fwd.addr,
        &bucket,
    );
    let mut agora = Agora::start(&cfg_b);
    let addr = agora.addr;
    let tg = target(&b.path, &b.version, "zip");
    let pending = thread::spawn(move || http_get(addr, &tg));
    // boto3 polls the bucket itself (moto refuses unsigned object requests).
    let seen = moto.boto3(
        "import time\n\
         end = time.time() + 30\n\
         while time.time() < end:\n    \
             try:\n        \
                 c.head_object(Bucket=sys.argv[1], Key=sys.argv[2]); print('present'); break\n    \
             except c.exceptions.ClientError:\n        \
                 time.sleep(0.02)",
        &[&bucket, &zip_key_b],
    );
    assert_eq!(
        seen.trim(),
        "present",
        "agora never uploaded {zip_key_b}; storage requests: {:?}",
        storage_fwd.requests()
    );
    agora.kill9();
    let _ = pending.join();
    let complete_b = complete_or_absent(moto, &bucket, layout, b);
    assert!(
        !complete_b,
        "{} has its .info although agora was killed before the zip upload was answered",
        b.id()
    );

    // Restarted with the upstream off: neither version is served, listed or partial.
    let off = Agora::start(&layout.agora_config(t.path(), "off", moto.addr(), &bucket));
    assert_not_served(&off, a);
    assert_not_served(&off, b);
    let client = GoEnv::via(t.path(), "after-kill", &off);
    let got = client.run(&["mod", "download", "-json", &spec_a, &spec_b]);
    assert!(
        !got.status.success() && !got.stdout.contains("\"Sum\""),
        "the go command got an interrupted version from agora with the upstream off:\n{}\n{}",
        got.stdout,
        got.stderr
    );
    drop(off);

    // With the upstream back, the version whose fetch was cut before any write is stored
    // completely.
    fwd.clear_behaviors();
    let on = Agora::start(&cfg);
    let again = GoEnv::via(t.path(), "after-kill-upstream-on", &on)
        .mod_download(std::slice::from_ref(&spec_a));
    assert_same_downloads(
        "the interrupted version, fetched again",
        &[spec_a],
        &truth,
        &again,
        Some(&on),
    );
    assert!(
        complete_or_absent(moto, &bucket, layout, a),
        "{} is not stored completely after a successful download",
        a.id()
    );
}

#[test]
fn s3_interrupted_fetch_is_never_half_written() {
    interrupted_fetch_is_never_half_written(BucketLayout::S3);
}

#[test]
fn minio_interrupted_fetch_is_never_half_written() {
    interrupted_fetch_is_never_half_written(BucketLayout::Minio);
}
