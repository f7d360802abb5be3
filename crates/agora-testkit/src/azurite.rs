//! Azurite (`azurite-blob` 3.35.0, installed by scripts/test.sh), the Azure Blob server the
//! storage tests run against, and a stdlib-only SharedKey client in Python standing in for
//! "another client" (Athens, azcopy).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::{free_port, guarded_server, stop_guarded, wait_port_closed};

/// Azurite's development account.
pub const ACCOUNT: &str = "devstoreaccount1";

/// Azurite's published development account key.
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const HINT: &str = "install it with npm i -g azurite@3.35.0 (scripts/test.sh does)";

/// An Azurite blob server on 127.0.0.1, keeping its data on disk (so that a restart on the
/// same data finds the containers and blobs again). Stopped on drop, or by its watchdog
/// shell when the test process exits.
pub struct Azurite {
    /// Its port (kept across [`Azurite::restart`]).
    pub port: u16,
    data: PathBuf,
    child: Option<Child>,
    _tmp: Option<tempfile::TempDir>,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

impl Azurite {
    /// Starts Azurite on a free port with its data in a temporary directory of its own.
    pub fn start() -> Azurite {
        let tmp = tempfile::tempdir().expect("create Azurite's data directory");
        let mut az = Azurite::spawn(None, tmp.path());
        az._tmp = Some(tmp);
        az
    }

    /// Starts Azurite on a free port with its data in `dir`.
    pub fn start_in(dir: &Path) -> Azurite {
        Azurite::spawn(None, dir)
    }

    fn spawn(port: Option<u16>, data: &Path) -> Azurite {
        std::fs::create_dir_all(data).expect("create Azurite's data directory");
        let mut last = String::new();
        for _ in 0..3 {
            let port = port.unwrap_or_else(free_port);
            let child = guarded_server(
                "azurite",
                "azurite-blob --blobHost 127.0.0.1 --blobPort \"$1\" --location \"$2\" \
                 --silent --skipApiVersionCheck --disableTelemetry",
                &[port.to_string(), data.display().to_string()],
            )
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh to start azurite-blob: {e}"));
            let mut az = Azurite {
                port,
                data: data.to_path_buf(),
                child: Some(child),
                _tmp: None,
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if az.answers() {
                    return az;
                }
                if let Some(Ok(Some(status))) = az.child.as_mut().map(Child::try_wait) {
                    last = format!("azurite-blob exited with {status}");
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            if last.is_empty() {
                last = format!("azurite-blob did not answer on port {port} within 30 s");
            }
            stop_guarded(&mut az.child);
            // A fixed port (a restart) may still be held by the old server for a moment.
            thread::sleep(Duration::from_millis(300));
        }
        panic!("cannot start Azurite ({last}); {HINT}");
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&mut self) {
        stop_guarded(&mut self.child);
        wait_port_closed("azurite-blob", self.port);
    }

    /// Stops the server and starts it again on the same port over the same data.
    pub fn restart(&mut self) {
        self.stop();
        let again = Azurite::spawn(Some(self.port), &self.data);
        self.child = again.child_taken();
    }

    fn child_taken(mut self) -> Option<Child> {
        self.child.take()
    }

    /// Up when it answers HTTP at all (403: it wants a signature).
    fn answers(&self) -> bool {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        let req = format!(
            "GET /{ACCOUNT}?comp=list HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n"
        );
        let mut head = [0u8; 12];
        conn.write_all(req.as_bytes()).is_ok()
            && conn.read_exact(&mut head).is_ok()
            && head.starts_with(b"HTTP/1.1 ")
    }

    /// The blob endpoint: `http://127.0.0.1:port/devstoreaccount1`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// The connection string another Azure client would use.
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};\
             BlobEndpoint={};",
            self.endpoint()
        )
    }

    /// Runs the SharedKey client: `create C`, `put C BLOB CONTENT-TYPE` (body on stdin),
    /// or `list C` (prints `name<TAB>hex` lines of every blob, content read back), and
    /// returns what it printed. Panics when it fails.
    pub fn client(&self, args: &[&str], body: &[u8]) -> String {
        let mut child = Command::new("python3")
            .args(["-c", CLIENT_PY, &self.port.to_string()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 is needed");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(body)
            .expect("write the body");
        let out = child.wait_with_output().expect("wait for the client");
        assert!(
            out.status.success(),
            "azure client {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates a container with a fresh name and returns the name.
    pub fn container(&self) -> String {
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
        self.client(&["create", &name], b"");
        name
    }

    /// Every blob of `container` with its content, as another client reads them.
    pub fn objects(&self, container: &str) -> BTreeMap<String, Vec<u8>> {
        self.client(&["list", container], b"")
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, hex)| (k.to_owned(), crate::from_hex(hex)))
            .collect()
    }
}

/// The Azurite server shared by the tests of one test binary (each test uses its own
/// container). It lives until the test binary exits.
pub fn shared() -> &'static Azurite {
    static AZURITE: OnceLock<Azurite> = OnceLock::new();
    AZURITE.get_or_init(Azurite::start)
}

/// SharedKey over HTTP with the standard library only (the test-components recipe).
const CLIENT_PY: &str = r#"
import base64, hashlib, hmac, sys, urllib.parse, urllib.request, urllib.error
import xml.etree.ElementTree as ET
from email.utils import formatdate
port, op, container = sys.argv[1], sys.argv[2], sys.argv[3]
acct = "devstoreaccount1"
key = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
def call(method, blob, query, body=b"", ctype=""):
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-10-04"}
    path = "/%s/%s" % (acct, container) + ("/" + urllib.parse.quote(blob) if blob is not None else "")
    if method == "PUT" and blob is not None:
        headers["x-ms-blob-type"] = "BlockBlob"
    if ctype:
        headers["Content-Type"] = ctype
    length = str(len(body)) if body else ""
    canon_h = "".join("%s:%s\n" % (k, headers[k]) for k in sorted(h for h in headers if h.startswith("x-ms-")))
    canon_r = "/" + acct + path + "".join("\n%s:%s" % (k, query[k]) for k in sorted(query))
    sts = "\n".join([method, "", "", length, "", ctype, "", "", "", "", "", ""]) + "\n" + canon_h + canon_r
    sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = "SharedKey %s:%s" % (acct, sig)
    url = "http://127.0.0.1:%s%s" % (port, path) + ("?" + urllib.parse.urlencode(query) if query else "")
    req = urllib.request.Request(url, data=body if body else None, method=method, headers=headers)
    try:
        return urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode()); sys.exit(1)
if op == "create":
    call("PUT", None, {"restype": "container"})
elif op == "put":
    call("PUT", sys.argv[4], {}, sys.stdin.buffer.read(), sys.argv[5])
elif op == "list":
    marker = ""
    while True:
        q = {"restype": "container", "comp": "list"}
        if marker:
            q["marker"] = marker
        root = ET.fromstring(call("GET", None, q))
        for b in root.iter("Blob"):
            name = b.find("Name").text
            print("%s\t%s" % (name, call("GET", name, {}).hex()))
        marker = root.findtext("NextMarker") or ""
        if not marker:
            break
"#;
