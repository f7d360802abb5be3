//! agora on Azure Blob storage: the real binary on an Azurite 3.35.0 container, in Athens'
//! `azureblob` layout (`<module>/@v/<version>.{info,mod,zip}`), configured as an Athens
//! deployment is (`ATHENS_STORAGE_TYPE=azureblob`, `AZURE_STORAGE_CONNECTION_STRING`,
//! `ATHENS_AZURE_CONTAINER_NAME`), each test on a fresh container, through the three
//! storage scenarios of `agora_testkit::storage_scenarios`:
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, and
//!   gets it again from the container alone after the upstream is switched off and agora
//!   restarted; the container then holds exactly Athens' three blobs per version;
//! * blobs another client wrote in Athens' layout (a stdlib-only SharedKey client in
//!   Python, standing in for Athens or azcopy) are served as they are, and left unchanged;
//! * Azurite stopped: every artifact is a 503 with a one-line reason (never a 404) and
//!   `/readyz` fails; Azurite back on the same data: service resumes by itself.
//!
//! Azurite is started by the tests (`azurite-blob`, installed by scripts/test.sh) with
//! `--disableTelemetry`; the tests fail when it cannot start. Ground truth comes from the
//! go command against the reference proxy, in the same run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use agora_testkit::azurite::{self, Azurite};
use agora_testkit::*;

const SPECS: &[&str] = &[
    "rsc.io/quote@v1.5.2",
    "rsc.io/QUOTE@v1.5.3-PRE",
    "rsc.io/quote/v3@v3.0.0",
    "rsc.io/breaker@v2.0.0+incompatible",
    "example.com/retract@v1.0.0-bad",
    "gopkg.in/dummy.v2-unstable@v2.0.0",
    "rsc.io/sampler@v1.3.0",
    "golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c",
];

/// A fresh container, on the Azurite of this test binary or on a test's own.
struct Container {
    shared: Option<&'static Azurite>,
    own: Option<Azurite>,
    name: String,
}

impl Container {
    fn shared() -> Container {
        let az = azurite::shared();
        Container {
            name: az.container(),
            shared: Some(az),
            own: None,
        }
    }

    /// On an Azurite of its own (it is stopped), with its data under the test directory.
    fn own(t: &TestDir) -> Container {
        let az = Azurite::start_in(&t.sub("azurite"));
        Container {
            name: az.container(),
            shared: None,
            own: Some(az),
        }
    }

    fn az(&self) -> &Azurite {
        self.shared
            .or(self.own.as_ref())
            .expect("a container has a server")
    }

    fn own_az(&mut self) -> &mut Azurite {
        self.own
            .as_mut()
            .expect("the shared Azurite is never stopped")
    }
}

impl StoreUnderTest for Container {
    fn label(&self) -> String {
        "azure container".to_owned()
    }

    fn agora_config(&self, dir: &Path, upstream: &str) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend([
            ("ATHENS_STORAGE_TYPE".to_owned(), "azureblob".to_owned()),
            (
                "AZURE_STORAGE_CONNECTION_STRING".to_owned(),
                self.az().connection_string(),
            ),
            ("ATHENS_AZURE_CONTAINER_NAME".to_owned(), self.name.clone()),
        ]);
        cfg
    }

    fn key(&self, path: &str, version: &str, ext: &str) -> String {
        format!("{path}/@v/{version}.{ext}")
    }

    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.az().objects(&self.name)
    }

    fn seed(&self, objects: &[(String, PathBuf)]) {
        for (key, file) in objects {
            let ctype = if key.ends_with(".info") {
                "application/json"
            } else if key.ends_with(".mod") {
                "text/plain"
            } else {
                "application/octet-stream"
            };
            let body = std::fs::read(file).expect("read the go command's cache file");
            self.az().client(&["put", &self.name, key, ctype], &body);
        }
    }

    fn stop(&mut self) {
        self.own_az().stop();
    }

    fn restart(&mut self) {
        self.own_az().restart();
    }
}

/// The tests start agora processes and go clients by the dozen: one at a time is enough
/// for a two-core machine.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn azure_downloads_match_reference_and_survive_upstream_loss() {
    let _turn = turn();
    let t = TestDir::new("azure-downloads");
    downloads_match_reference_and_survive_upstream_loss(&t, &Container::shared(), SPECS);
}

#[test]
fn azure_blobs_seeded_by_another_client_are_served() {
    let _turn = turn();
    let t = TestDir::new("azure-seeded");
    objects_seeded_by_another_client_are_served(&t, &Container::shared(), SPECS);
}

#[test]
fn azure_outage_is_503_and_service_resumes() {
    let _turn = turn();
    let t = TestDir::new("azure-outage");
    storage_outage_is_503_and_service_resumes(&t, &mut Container::own(&t));
}
