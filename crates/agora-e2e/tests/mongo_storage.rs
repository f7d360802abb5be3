//! agora on MongoDB: the real binary with `ATHENS_STORAGE_TYPE=mongo` and
//! `ATHENS_MONGO_STORAGE_URL` pointing at a SecantusDB (MongoDB's wire protocol over
//! WiredTiger) that the test starts on 127.0.0.1 with its data on disk, so a restart keeps
//! the documents, through the storage scenarios of `agora_testkit::storage_scenarios`:
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, the
//!   database holds each version's document (`info`, `mod`) and GridFS zip in Athens'
//!   layout and nothing else (an unreferenced GridFS file shows as a stray key), and the go
//!   command gets the same again from the database alone after the upstream is switched
//!   off and agora restarted;
//! * versions another client (pymongo) saved the way Athens does (the zip into GridFS by
//!   filename, then the document) are served as they are, and left unchanged.
//! * the server down is a 503 with a one-line reason (never a 404) and a failing
//!   `/readyz`; service resumes by itself when it is back, serving what it stored without
//!   fetching it again. agora's URL sets `serverSelectionTimeoutMS=2000`: with the driver's
//!   default every request during an outage waits 30 s (as Athens' Go driver does).
//!
//! SecantusDB is installed by scripts/test.sh; the tests fail when it cannot start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agora_testkit::mongo::{SecantusDb, Secured};
use agora_testkit::tls::TestCert;
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

/// A database on a server of the test's own, with its data under the test directory.
struct Database {
    db: SecantusDb,
    name: String,
}

impl Database {
    fn new(t: &TestDir, name: &str) -> Database {
        Database {
            db: SecantusDb::start_in(&t.sub("secantusdb-data")),
            name: name.to_owned(),
        }
    }
}

impl StoreUnderTest for Database {
    fn label(&self) -> String {
        "mongo database".to_owned()
    }

    fn agora_config(&self, dir: &Path, upstream: &str) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend([
            ("ATHENS_STORAGE_TYPE".to_string(), "mongo".to_string()),
            // Fail over a down server in 2 s rather than the driver's default 30 s, as an
            // operator would set it (a URL option Athens passes through too).
            (
                "ATHENS_MONGO_STORAGE_URL".to_string(),
                format!("{}&serverSelectionTimeoutMS=2000", self.db.url()),
            ),
            (
                "ATHENS_MONGO_DEFAULT_DATABASE".to_string(),
                self.name.clone(),
            ),
        ]);
        cfg
    }

    fn key(&self, path: &str, version: &str, ext: &str) -> String {
        format!("{path}/@v/{version}.{ext}")
    }

    fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.db.athens_contents(&self.name)
    }

    fn seed(&self, objects: &[(String, PathBuf)]) {
        self.db.athens_seed(&self.name, objects);
    }

    fn stop(&mut self) {
        self.db.stop();
    }

    fn restart(&mut self) {
        self.db.restart();
    }
}

#[test]
fn mongo_objects_seeded_by_another_client_are_served() {
    let t = TestDir::new("mongo-seeded");
    objects_seeded_by_another_client_are_served(&t, &Database::new(&t, "athens"), SPECS);
}

#[test]
fn mongo_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("mongo-downloads");
    downloads_match_reference_and_survive_upstream_loss(&t, &Database::new(&t, "athens"), SPECS);
}

#[test]
fn mongo_outage_is_503_and_service_resumes() {
    let t = TestDir::new("mongo-outage");
    storage_outage_is_503_and_service_resumes(&t, &mut Database::new(&t, "athens"));
}

/// Two agora processes on one database, many clients asking both for the same uncached
/// versions at once: every answer is the reference's bytes, each version is stored once
/// (one document, one GridFS file: a losing writer's upload is not left behind), and both
/// processes serve the stored bytes afterwards with the upstream gone.
#[test]
fn mongo_two_processes_racing_one_version_store_it_once() {
    let t = TestDir::new("mongo-race");
    let db = Database::new(&t, "athens");
    let upstream = ref_proxy().goproxy_url();
    let mut a = Agora::start(&db.agora_config(&t.sub("a"), &upstream));
    let mut b = Agora::start(&db.agora_config(&t.sub("b"), &upstream));
    let versions = [
        ("rsc.io/quote", "v1.5.2"),
        ("rsc.io/sampler", "v1.3.0"),
        ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
    ];
    let want: Vec<Vec<u8>> = versions
        .iter()
        .map(|(m, v)| ref_proxy().fetch(&format!("/{m}/@v/{v}.zip")))
        .collect();
    let (addr_a, addr_b) = (a.addr, b.addr);
    let answers: Vec<(usize, HttpResponse)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..24)
            .map(|i| {
                let which = i % versions.len();
                let (m, v) = versions[which];
                let addr = if i % 2 == 0 { addr_a } else { addr_b };
                s.spawn(move || {
                    let resp =
                        http_get(addr, &format!("/{m}/@v/{v}.zip")).expect("GET through agora");
                    (which, resp)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (which, resp) in &answers {
        assert_eq!(resp.status, 200, "{}", resp.summary());
        assert!(
            resp.body == want[*which],
            "{}: bytes differ from the reference",
            versions[*which].0
        );
    }

    let contents = db.contents();
    let stray: Vec<&String> = contents
        .keys()
        .filter(|k| k.starts_with("fs.files/"))
        .collect();
    assert!(
        stray.is_empty(),
        "GridFS files no document refers to: {stray:?}"
    );
    for ((m, v), zip) in versions.iter().zip(&want) {
        let key = db.key(m, v, "zip");
        assert_eq!(
            contents.get(&key),
            Some(zip),
            "{key} stored as the reference's bytes"
        );
    }
    let counts = db.db.pymongo(
        &db.name,
        "print(json.dumps([[d['_id']['m'], d['_id']['v'], d['n']] for d in db.modules.aggregate(\
         [{'$group': {'_id': {'m': '$module', 'v': '$version'}, 'n': {'$sum': 1}}}])]))",
        &[],
    );
    let counts: Vec<(String, String, u64)> = serde_json::from_str(counts.trim()).unwrap();
    assert_eq!(counts.len(), versions.len(), "{counts:?}");
    assert!(
        counts.iter().all(|(_, _, n)| *n == 1),
        "one document per version: {counts:?}"
    );

    // Stored once, served by both from the database alone.
    a.stop();
    b.stop();
    for dir in ["a", "b"] {
        let mut agora = Agora::start(&db.agora_config(&t.sub(dir), "off"));
        for ((m, v), zip) in versions.iter().zip(&want) {
            let resp = agora.get(&format!("/{m}/@v/{v}.zip"));
            assert_eq!(resp.status, 200, "{}", resp.summary());
            assert!(
                resp.body == *zip,
                "{m}@{v} from the database after the race"
            );
        }
        agora.stop();
    }
}

/// An agora on `url` (plus `env`), asked for one version's `.info` and `/readyz`; returns
/// both answers and agora's log.
fn ask(
    t: &TestDir,
    name: &str,
    url: &str,
    env: &[(&str, &str)],
) -> (HttpResponse, HttpResponse, String) {
    let mut cfg = AgoraConfig::new(&t.sub(name), ref_proxy().goproxy_url());
    // Some of these cannot reach their storage: wait for the listener only.
    cfg.ready_path = "/healthz";
    cfg.extra_env.extend([
        ("ATHENS_STORAGE_TYPE".to_string(), "mongo".to_string()),
        ("ATHENS_MONGO_STORAGE_URL".to_string(), url.to_string()),
        (
            "ATHENS_MONGO_DEFAULT_DATABASE".to_string(),
            name.to_string(),
        ),
    ]);
    cfg.extra_env
        .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut agora = Agora::start(&cfg);
    let info = agora.get("/rsc.io/quote/@v/v1.5.2.info");
    let ready = agora.get("/readyz");
    agora.stop();
    let log = agora.log();
    (info, ready, log)
}

/// Athens' MongoDB TLS options against a server that speaks only TLS: `cert_path` (a CA
/// file) turns TLS on and trusts that CA; without it the server is unreachable (503, never
/// a 404); `insecure` accepts an untrusted certificate when the URL asks for TLS.
#[test]
fn mongo_tls_follows_athens_cert_path_and_insecure() {
    let t = TestDir::new("mongo-tls");
    let cert = TestCert::new(&t.sub("cert"));
    let db = SecantusDb::start_secured(
        &t.sub("data"),
        Secured {
            tls: Some(cert.clone()),
            user: None,
        },
    );
    let plain = format!("{}&serverSelectionTimeoutMS=2000", db.url());
    let ca = cert.ca.display().to_string();

    let (info, ready, _) = ask(&t, "with-ca", &plain, &[("ATHENS_MONGO_CERT_PATH", &ca)]);
    assert_eq!(info.status, 200, "{}", info.summary());
    assert_eq!(ready.status, 200, "{}", ready.summary());

    let (info, ready, _) = ask(&t, "no-tls", &plain, &[]);
    assert_one_line_503("plain connection to a TLS server", &info);
    assert_ne!(ready.status, 200, "{}", ready.summary());

    let tls_url = format!("{plain}&tls=true");
    let (info, _, _) = ask(&t, "untrusted", &tls_url, &[]);
    assert_one_line_503("a certificate no CA vouches for", &info);

    let (info, ready, _) = ask(
        &t,
        "insecure",
        &tls_url,
        &[("ATHENS_MONGO_INSECURE", "true")],
    );
    assert_eq!(info.status, 200, "{}", info.summary());
    assert_eq!(ready.status, 200, "{}", ready.summary());
}

/// A server that requires a user: credentials in the URL (Athens passes the URL through)
/// are used, and a wrong password is a 503 whose reason, like agora's log, never shows the
/// password.
#[test]
fn mongo_credentials_in_the_url_authenticate_and_never_show() {
    let t = TestDir::new("mongo-auth");
    let db = SecantusDb::start_secured(
        &t.sub("data"),
        Secured {
            tls: None,
            user: Some(("agora".into(), "s3cret-Pw".into())),
        },
    );
    let url = |password: &str| {
        format!(
            "mongodb://agora:{password}@{}/?directConnection=true&authSource=admin&serverSelectionTimeoutMS=2000",
            db.addr()
        )
    };
    let (info, ready, log) = ask(&t, "right", &url("s3cret-Pw"), &[]);
    assert_eq!(info.status, 200, "{}", info.summary());
    assert_eq!(ready.status, 200, "{}", ready.summary());
    assert!(
        !log.contains("s3cret-Pw"),
        "password in agora's log:\n{log}"
    );

    let (info, ready, log) = ask(&t, "wrong", &url("wrong-Pw-77"), &[]);
    assert_one_line_503("a wrong password", &info);
    assert_ne!(ready.status, 200, "{}", ready.summary());
    for text in [info.text(), ready.text(), log] {
        assert!(!text.contains("wrong-Pw-77"), "password shown:\n{text}");
    }
}
