//! gcp-storage-emulator (2026.7.19, installed by scripts/test.sh), the Google Cloud Storage
//! server the storage tests run against, and its JSON API as "another client".

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::{free_port, guarded_server, http_get, stop_guarded, wait_port_closed};

const HINT: &str =
    "install it with pip install gcp-storage-emulator==2026.7.19 (scripts/test.sh does)";

/// A gcp-storage-emulator on 127.0.0.1, in memory or with its data on disk (so that a
/// restart keeps the objects). Stopped on drop, or by its watchdog shell when the test
/// process exits.
pub struct GcsEmulator {
    /// Its port (kept across [`GcsEmulator::restart`]).
    pub port: u16,
    data: Option<PathBuf>,
    child: Option<Child>,
}

impl Drop for GcsEmulator {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

impl GcsEmulator {
    /// Starts an emulator in memory on a free port.
    pub fn start() -> GcsEmulator {
        GcsEmulator::spawn(None, None)
    }

    /// Starts an emulator in memory on `port` (one that was stopped there comes back
    /// empty), or on a free port when `None`.
    pub fn start_on(port: Option<u16>) -> GcsEmulator {
        GcsEmulator::spawn(port, None)
    }

    /// Starts an emulator on a free port with its data in `data`.
    pub fn start_in(data: &Path) -> GcsEmulator {
        GcsEmulator::spawn(None, Some(data))
    }

    fn spawn(port: Option<u16>, data: Option<&Path>) -> GcsEmulator {
        let mut last = String::new();
        for _ in 0..3 {
            let port = port.unwrap_or_else(free_port);
            let child = match data {
                Some(dir) => {
                    std::fs::create_dir_all(dir).expect("create the emulator's data directory");
                    guarded_server(
                        "gcs",
                        "gcp-storage-emulator -d \"$2\" start --host 127.0.0.1 --port \"$1\" -q",
                        &[port.to_string(), dir.display().to_string()],
                    )
                }
                None => guarded_server(
                    "gcs",
                    "gcp-storage-emulator start --host 127.0.0.1 --port \"$1\" --in-memory -q",
                    &[port.to_string()],
                ),
            }
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh to start gcp-storage-emulator: {e}"));
            let mut emu = GcsEmulator {
                port,
                data: data.map(Path::to_path_buf),
                child: Some(child),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if emu.request("GET", "/", "").is_ok_and(|(s, _)| s == 200) {
                    return emu;
                }
                if let Some(Ok(Some(status))) = emu.child.as_mut().map(Child::try_wait) {
                    last = format!("gcp-storage-emulator exited with {status}");
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            if last.is_empty() {
                last = format!("gcp-storage-emulator did not answer on port {port} within 30 s");
            }
            stop_guarded(&mut emu.child);
            // A fixed port (a restart) may still be held by the old server for a moment.
            thread::sleep(Duration::from_millis(300));
        }
        panic!("cannot start gcp-storage-emulator ({last}); {HINT}");
    }

    /// `127.0.0.1:port`, what `STORAGE_EMULATOR_HOST` says.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&mut self) {
        stop_guarded(&mut self.child);
        wait_port_closed("gcp-storage-emulator", self.port);
    }

    /// The same emulator again, on the same port, over the same data (an in-memory one
    /// comes back empty).
    pub fn restart(&mut self) {
        self.stop();
        let mut again = GcsEmulator::spawn(Some(self.port), self.data.as_deref());
        self.child = again.child.take();
    }

    /// One HTTP/1.1 request with a JSON body: status and body.
    pub fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
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

    /// Creates a bucket named `name` (JSON API `buckets.insert`).
    pub fn create_bucket(&self, name: &str) {
        let (status, body) = self
            .request(
                "POST",
                "/storage/v1/b?project=agora",
                &format!("{{\"name\":\"{name}\"}}"),
            )
            .unwrap_or_else(|e| panic!("creating bucket {name}: {e}"));
        assert_eq!(status, 200, "creating bucket {name}: {body}");
    }

    /// Creates a bucket with a fresh name and returns the name.
    pub fn bucket(&self) -> String {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "agora-{}-{}-{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        self.create_bucket(&name);
        name
    }

    /// The bucket's object names, through the JSON API as any other client lists them.
    pub fn keys(&self, bucket: &str) -> BTreeSet<String> {
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

    /// Every object of `bucket` with its content, through the JSON API (`alt=media`) as
    /// any other client reads them.
    pub fn objects(&self, bucket: &str) -> BTreeMap<String, Vec<u8>> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        self.keys(bucket)
            .into_iter()
            .map(|name| {
                let target = format!(
                    "/storage/v1/b/{bucket}/o/{}?alt=media",
                    percent_encode(&name)
                );
                let resp = http_get(addr, &target)
                    .unwrap_or_else(|e| panic!("GET {target} from the emulator: {e}"));
                assert_eq!(resp.status, 200, "GET {target}: {}", resp.summary());
                (name, resp.body)
            })
            .collect()
    }

    /// Uploads `(name, local file)` pairs into `bucket` with media uploads through the
    /// JSON API, by a stdlib-only Python client standing in for Athens or gsutil.
    pub fn upload(&self, bucket: &str, objects: &[(String, PathBuf)]) {
        let list: String = objects
            .iter()
            .map(|(name, file)| format!("{name}\t{}\n", file.display()))
            .collect();
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
            .args(["-c", script, &self.host(), bucket])
            .stdin(Stdio::piped())
            .spawn()
            .expect("python3 is needed");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(list.as_bytes())
            .expect("write the upload list");
        assert!(
            child.wait().expect("the uploading client").success(),
            "uploading to the emulator failed"
        );
    }
}

/// The emulator shared by the tests of one test binary (in memory; each test uses its own
/// bucket). It lives until the test binary exits.
pub fn shared() -> &'static GcsEmulator {
    static EMULATOR: OnceLock<GcsEmulator> = OnceLock::new();
    EMULATOR.get_or_init(GcsEmulator::start)
}

/// Percent-encodes everything but RFC 3986's unreserved characters (an object name as one
/// path segment).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
