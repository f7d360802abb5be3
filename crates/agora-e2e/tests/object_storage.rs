//! agora on object storage: the real binary on a moto S3 server, in Athens' `s3` layout
//! (`<module>/@v/<version>.{info,mod,zip}`) and in its `minio` layout
//! (`<module>/<version>/{<version>.info,go.mod,source.zip}`), each test on a fresh bucket.
//!
//! * the three storage scenarios of `agora_testkit::storage_scenarios` (downloads match the
//!   reference and survive the loss of the upstream; objects another client, boto3, wrote
//!   in Athens' layout are served; an outage is a 503 and service resumes), in both
//!   layouts;
//! * a fetch interrupted by killing agora (during the upstream download, or during the zip
//!   upload to the bucket) never leaves a version that is served half-written.
//!
//! moto is started by the tests (`moto_server`, installed by scripts/test.sh); the tests
//! fail when it cannot start. Ground truth always comes from the go command against the
//! reference proxy, in the same run.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use agora_testkit::*;
use serde_json::Value;

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

fn name(layout: BucketLayout) -> &'static str {
    match layout {
        BucketLayout::S3 => "s3",
        BucketLayout::Minio => "minio",
    }
}

/// `/<escaped module>/@v/<escaped version>.<ext>`.
fn target(path: &str, version: &str, ext: &str) -> String {
    artifact_target(path, version, ext)
}

/// The moto of this test binary (buckets of their own per test), or a test's own.
enum Server {
    Shared(&'static Moto),
    Own(Moto),
}

/// A fresh bucket in one of Athens' layouts, read and written behind agora's back by
/// boto3.
struct Bucket {
    server: Server,
    bucket: String,
    layout: BucketLayout,
}

impl Bucket {
    /// A fresh bucket on the shared moto.
    fn shared(layout: BucketLayout) -> Bucket {
        let moto = shared_moto();
        let bucket = moto.create_bucket(&format!("e2e-{}", name(layout)));
        Bucket {
            server: Server::Shared(moto),
            bucket,
            layout,
        }
    }

    /// A bucket on a moto of its own with moto's recorder on: a restart replays every
    /// request, so the bucket and the objects agora stored come back.
    fn own(t: &TestDir, layout: BucketLayout) -> Bucket {
        let moto = Moto::start_recording(&t.path().join("moto-recording.jsonl"));
        let bucket = moto.create_bucket(&format!("e2e-{}", name(layout)));
        Bucket {
            server: Server::Own(moto),
            bucket,
            layout,
        }
    }

    fn moto(&self) -> &Moto {
        match &self.server {
            Server::Shared(moto) => moto,
            Server::Own(moto) => moto,
        }
    }

    fn own_moto(&mut self) -> &mut Moto {
        match &mut self.server {
            Server::Shared(_) => panic!("the shared moto is never stopped"),
            Server::Own(moto) => moto,
        }
    }
}

impl StoreUnderTest for Bucket {
    fn label(&self) -> String {
        format!("{} bucket", name(self.layout))
    }

    fn agora_config(&self, dir: &Path, upstream: &str) -> AgoraConfig {
        self.layout
            .agora_config(dir, upstream, self.moto().addr(), &self.bucket)
    }

    fn key(&self, path: &str, version: &str, ext: &str) -> String {
        self.layout.key(path, version, ext)
    }

    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.moto().objects(&self.bucket, "")
    }

    fn seed(&self, objects: &[(String, PathBuf)]) {
        self.moto().put_files(&self.bucket, objects);
    }

    fn stop(&mut self) {
        self.own_moto().stop();
    }

    fn restart(&mut self) {
        self.own_moto().restart();
    }
}

#[test]
fn s3_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("s3-downloads");
    downloads_match_reference_and_survive_upstream_loss(
        &t,
        &Bucket::shared(BucketLayout::S3),
        SPECS,
    );
}

#[test]
fn minio_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("minio-downloads");
    downloads_match_reference_and_survive_upstream_loss(
        &t,
        &Bucket::shared(BucketLayout::Minio),
        SPECS,
    );
}

#[test]
fn s3_objects_seeded_by_another_client_are_served() {
    let t = TestDir::new("s3-seeded");
    objects_seeded_by_another_client_are_served(&t, &Bucket::shared(BucketLayout::S3), SPECS);
}

#[test]
fn minio_objects_seeded_by_another_client_are_served() {
    let t = TestDir::new("minio-seeded");
    objects_seeded_by_another_client_are_served(&t, &Bucket::shared(BucketLayout::Minio), SPECS);
}

#[test]
fn s3_storage_outage_is_503_and_service_resumes() {
    let t = TestDir::new("s3-outage");
    storage_outage_is_503_and_service_resumes(&t, &mut Bucket::own(&t, BucketLayout::S3));
}

#[test]
fn minio_storage_outage_is_503_and_service_resumes() {
    let t = TestDir::new("minio-outage");
    storage_outage_is_503_and_service_resumes(&t, &mut Bucket::own(&t, BucketLayout::Minio));
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
