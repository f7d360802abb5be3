//! agora on Google Cloud Storage: the real binary with `ATHENS_STORAGE_TYPE=gcp` and
//! `STORAGE_EMULATOR_HOST` pointing at a gcp-storage-emulator that the test starts on
//! 127.0.0.1 (with its data on disk, so a restart keeps the objects), through the three
//! storage scenarios of `agora_testkit::storage_scenarios`:
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, the
//!   bucket holds each version's three objects in Athens' layout
//!   (`<module>/@v/<version>.{info,mod,zip}`), and the go command gets the same again from
//!   the bucket alone after the upstream is switched off and agora restarted;
//! * objects another client uploaded in Athens' layout (media uploads through the JSON API
//!   by a stdlib-only Python client, standing in for Athens or gsutil) are served as they
//!   are, and left unchanged;
//! * the emulator down is a 503 with a one-line reason (never a 404) and a failing
//!   `/readyz`; service resumes by itself when it is back, serving what it stored without
//!   fetching it again.
//!
//! gcp-storage-emulator is installed by scripts/test.sh; the tests fail when it cannot
//! start. Ground truth always comes from the go command against the reference proxy, in the
//! same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agora_testkit::gcs::GcsEmulator;
use agora_testkit::*;

const SPECS: &[&str] = &[
    "rsc.io/quote@v1.5.2",
    "rsc.io/quote@v0.0.0-20180709162749-b44a0b17b2d1",
    "rsc.io/QUOTE@v1.5.2",
    "rsc.io/quote/v3@v3.0.0",
    "rsc.io/breaker@v2.0.0+incompatible",
    "example.com/retract@v1.0.0-bad",
    "gopkg.in/dummy.v2-unstable@v2.0.0",
    "rsc.io/sampler@v1.3.0",
    "golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c",
];

/// A bucket on an emulator of the test's own, with its data under the test directory.
struct Bucket {
    emu: GcsEmulator,
    name: String,
}

impl Bucket {
    fn new(t: &TestDir, name: &str) -> Bucket {
        let emu = GcsEmulator::start_in(&t.sub("gcs-data"));
        emu.create_bucket(name);
        Bucket {
            emu,
            name: name.to_owned(),
        }
    }
}

impl StoreUnderTest for Bucket {
    fn label(&self) -> String {
        "gcs bucket".to_owned()
    }

    fn agora_config(&self, dir: &Path, upstream: &str) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend([
            ("ATHENS_STORAGE_TYPE".to_string(), "gcp".to_string()),
            ("ATHENS_STORAGE_GCP_BUCKET".to_string(), self.name.clone()),
            ("STORAGE_EMULATOR_HOST".to_string(), self.emu.host()),
        ]);
        cfg
    }

    fn key(&self, path: &str, version: &str, ext: &str) -> String {
        format!("{path}/@v/{version}.{ext}")
    }

    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.emu.objects(&self.name)
    }

    fn seed(&self, objects: &[(String, PathBuf)]) {
        self.emu.upload(&self.name, objects);
    }

    fn stop(&mut self) {
        self.emu.stop();
    }

    fn restart(&mut self) {
        self.emu.restart();
    }
}

#[test]
fn gcs_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("gcs-downloads");
    downloads_match_reference_and_survive_upstream_loss(&t, &Bucket::new(&t, "agora-e2e"), SPECS);
}

#[test]
fn gcs_objects_seeded_by_another_client_are_served() {
    let t = TestDir::new("gcs-seeded");
    objects_seeded_by_another_client_are_served(&t, &Bucket::new(&t, "seeded"), SPECS);
}

#[test]
fn gcs_outage_is_503_and_service_resumes() {
    let t = TestDir::new("gcs-outage");
    storage_outage_is_503_and_service_resumes(&t, &mut Bucket::new(&t, "agora-e2e"));
}
