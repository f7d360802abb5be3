//! agora on Google Cloud Storage: the real binary with `ATHENS_STORAGE_TYPE=gcp` and
//! `STORAGE_EMULATOR_HOST` pointing at a gcp-storage-emulator that the test starts on
//! 127.0.0.1 (with its data on disk, so a restart keeps the objects).
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, the
//!   bucket holds each version's three objects in Athens' layout
//!   (`<module>/@v/<version>.{info,mod,zip}`), and the go command gets the same again from
//!   the bucket alone after the upstream is switched off and agora restarted;
//! * objects another client uploaded in Athens' layout are served as they are;
//! * the emulator down is a 503 with a one-line reason (never a 404) and a failing
//!   `/readyz`; service resumes by itself when it is back, serving what it stored without
//!   fetching it again.
//!
//! gcp-storage-emulator is installed by scripts/test.sh; the tests fail when it cannot
//! start. Ground truth always comes from the go command against the reference proxy, in the
//! same run.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

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

/// A gcp-storage-emulator keeping its data under `data`, run under a shell that stops it
/// when the test process exits. Stopped on drop.
struct Emulator {
    port: u16,
    data: PathBuf,
    child: Option<Child>,
}

impl Emulator {
    fn start(data: &Path) -> Emulator {
        Emulator::spawn(free_port(), data)
    }

    fn spawn(port: u16, data: &Path) -> Emulator {
        std::fs::create_dir_all(data).expect("create the emulator's data directory");
        let child = Command::new("sh")
            .args([
                "-c",
                "gcp-storage-emulator -d \"$3\" start --host 127.0.0.1 --port \"$1\" -q \
                 >/dev/null 2>&1 & m=$!\n\
                 trap 'kill $m 2>/dev/null; exit 0' TERM INT HUP\n\
                 while kill -0 \"$2\" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done\n\
                 kill $m 2>/dev/null",
                "sh",
                &port.to_string(),
                &std::process::id().to_string(),
                &data.display().to_string(),
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot run sh to start gcp-storage-emulator");
        let mut emu = Emulator {
            port,
            data: data.to_path_buf(),
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if emu.request("GET", "/", "").is_ok_and(|(s, _)| s == 200) {
                return emu;
            }
            if let Some(Ok(Some(status))) = emu.child.as_mut().map(Child::try_wait) {
                panic!(
                    "gcp-storage-emulator exited with {status}; install it with \
                     pip install gcp-storage-emulator==2026.7.19 (scripts/test.sh does)"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("gcp-storage-emulator did not answer on port {port} within 30 s");
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The same emulator again, on the same port, over the same data.
    fn restart(&mut self) {
        self.stop();
        let again = Emulator::spawn(self.port, &self.data);
        *self = again;
    }

    /// One HTTP/1.1 request with a JSON body: status and body.
    fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.host(),
            body.len()
        )?;
        let mut out = String::new();
        conn.read_to_string(&mut out)?;
        let status = out
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad response {out:?}")))?;
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        Ok((status, body.to_owned()))
    }

    fn create_bucket(&self, name: &str) {
        let (status, body) = self
            .request(
                "POST",
                "/storage/v1/b?project=agora",
                &format!("{{\"name\":\"{name}\"}}"),
            )
            .expect("create a bucket");
        assert_eq!(status, 200, "creating bucket {name}: {body}");
    }

    /// The bucket's object names, through the JSON API as any other client lists them.
    fn keys(&self, bucket: &str) -> BTreeSet<String> {
        let (status, body) = self
            .request(
                "GET",
                &format!("/storage/v1/b/{bucket}/o?maxResults=1000"),
                "",
            )
            .expect("list the bucket");
        assert_eq!(status, 200, "listing {bucket}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("the listing is not JSON ({e}): {body}"));
        assert!(
            v.get("nextPageToken").is_none(),
            "more than one page: {body}"
        );
        v.get("items")
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("name").and_then(serde_json::Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

fn specs() -> Vec<String> {
    SPECS.iter().map(|s| (*s).to_string()).collect()
}

/// `/<escaped module>/@v/<escaped version>.<ext>`.
fn target(path: &str, version: &str, ext: &str) -> String {
    format!("/{}/@v/{}.{ext}", escape(path), escape(version))
}

/// Athens' GCS keys of every download: decoded path and version.
fn expected_keys(truth: &BTreeMap<String, Download>) -> BTreeSet<String> {
    truth
        .values()
        .flat_map(|d| {
            ["info", "mod", "zip"].map(|ext| format!("{}/@v/{}.{ext}", d.path, d.version))
        })
        .collect()
}

fn agora_config(
    t: &TestDir,
    upstream: impl Into<String>,
    emu: &Emulator,
    bucket: &str,
) -> AgoraConfig {
    let mut cfg = AgoraConfig::new(t.path(), upstream);
    cfg.extra_env.extend([
        ("ATHENS_STORAGE_TYPE".to_string(), "gcp".to_string()),
        ("ATHENS_STORAGE_GCP_BUCKET".to_string(), bucket.to_string()),
        ("STORAGE_EMULATOR_HOST".to_string(), emu.host()),
    ]);
    cfg
}

#[test]
fn gcs_downloads_match_reference_and_survive_upstream_loss() {
    let t = TestDir::new("gcs-downloads");
    let emu = Emulator::start(&t.sub("gcs-data"));
    emu.create_bucket("agora-e2e");
    let cfg = agora_config(&t, ref_proxy().goproxy_url(), &emu, "agora-e2e");
    let specs = specs();

    let mut agora = Agora::start(&cfg);
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    assert_same_downloads(
        "gcs bucket, upstream up",
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    let keys = emu.keys("agora-e2e");
    let want = expected_keys(&truth);
    assert_eq!(
        keys,
        want,
        "bucket keys after the downloads (extra: {:?}, missing: {:?})",
        keys.difference(&want).collect::<Vec<_>>(),
        want.difference(&keys).collect::<Vec<_>>()
    );

    // Upstream off, agora restarted: everything comes from the bucket.
    agora.stop();
    let off = Agora::start(&cfg.with_upstream("off"));
    let again = GoEnv::via(t.path(), "after-restart", &off).mod_download(&specs);
    assert_same_downloads(
        "gcs bucket, AGORA_GOPROXY=off after a restart",
        &specs,
        &truth,
        &again,
        Some(&off),
    );
    assert_eq!(
        emu.keys("agora-e2e"),
        want,
        "serving from the bucket changed it"
    );
}

/// Objects another client wrote in Athens' layout (media uploads through the JSON API by
/// a stdlib-only Python client, standing in for Athens or gsutil) are served as they are,
/// with the upstream off, and left unchanged.
#[test]
fn gcs_objects_seeded_by_another_client_are_served() {
    let t = TestDir::new("gcs-seeded");
    let emu = Emulator::start(&t.sub("gcs-data"));
    emu.create_bucket("seeded");
    let specs = specs();
    let truth = GoEnv::direct(t.path(), "seed").mod_download(&specs);
    let mut uploads = String::new();
    for spec in &specs {
        let d = &truth[spec];
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        for (ext, file) in [("info", &d.info), ("mod", &d.gomod), ("zip", &d.zip)] {
            let file = file.clone().expect("the go command reports its cache file");
            uploads.push_str(&format!(
                "{}/@v/{}.{ext}\t{}\n",
                d.path,
                d.version,
                file.display()
            ));
        }
    }
    let script = r#"
import sys, urllib.parse, urllib.request
host, bucket = sys.argv[1], sys.argv[2]
for line in sys.stdin.read().splitlines():
    name, path = line.split("\t")
    url = "http://%s/upload/storage/v1/b/%s/o?uploadType=media&name=%s" % (
        host, bucket, urllib.parse.quote(name, safe=""))
    body = open(path, "rb").read()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/octet-stream"})
    assert urllib.request.urlopen(req).status == 200, name
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, &emu.host(), "seeded"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3 is needed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(uploads.as_bytes())
        .expect("write the upload list");
    assert!(
        child.wait().expect("the seeding client").success(),
        "seeding failed"
    );
    let want = expected_keys(&truth);
    assert_eq!(emu.keys("seeded"), want, "seeding");

    let cfg = agora_config(&t, "off", &emu, "seeded");
    let agora = Agora::start(&cfg);
    let got = GoEnv::via(t.path(), "agora", &agora).mod_download(&specs);
    assert_same_downloads(
        "gcs bucket seeded by another client, AGORA_GOPROXY=off",
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    assert_eq!(emu.keys("seeded"), want, "agora changed the bucket");
}

#[test]
fn gcs_outage_is_503_and_service_resumes() {
    let t = TestDir::new("gcs-outage");
    let mut emu = Emulator::start(&t.sub("gcs-data"));
    emu.create_bucket("agora-e2e");
    let fwd = Forwarder::to_ref_proxy();
    let cfg = agora_config(&t, fwd.goproxy_url(), &emu, "agora-e2e");
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
    emu.stop();

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

    // The emulator back on the same port over the same data; agora untouched.
    emu.restart();
    let upstream_before = fwd.requests().len();
    assert!(
        wait_until(Duration::from_secs(30), || agora.get("/readyz").status
            == 200),
        "/readyz did not recover within 30 s of the storage coming back: {}",
        agora.get("/readyz").summary()
    );
    let back = GoEnv::via(t.path(), "after-outage", &agora).mod_download(&all);
    assert_same_downloads(
        "gcs bucket back after an outage, same agora",
        &all,
        &truth,
        &back,
        Some(&agora),
    );
    assert_eq!(
        emu.keys("agora-e2e"),
        expected_keys(&truth),
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
