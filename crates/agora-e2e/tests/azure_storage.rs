//! agora on Azure Blob storage: the real binary on an Azurite 3.35.0 container, in Athens'
//! `azureblob` layout (`<module>/@v/<version>.{info,mod,zip}`), configured as an Athens
//! deployment is (`ATHENS_STORAGE_TYPE=azureblob`, `AZURE_STORAGE_CONNECTION_STRING`,
//! `ATHENS_AZURE_CONTAINER_NAME`), each test on a fresh container.
//!
//! * the go command gets through agora exactly what it gets from the reference proxy, and
//!   gets it again from the container alone after the upstream is switched off and agora
//!   restarted; the container then holds exactly Athens' three blobs per version;
//! * Azurite stopped: every artifact is a 503 with a one-line reason (never a 404) and
//!   `/readyz` fails; Azurite back on the same data: service resumes by itself;
//! * blobs another client wrote in Athens' layout (a stdlib-only SharedKey client in
//!   Python, standing in for Athens or azcopy) are served as they are, and left unchanged.
//!
//! Azurite is started by the tests (`azurite-blob`, installed by scripts/test.sh) with
//! `--disableTelemetry`; the tests fail when it cannot start. Ground truth comes from the
//! go command against the reference proxy, in the same run.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use support::*;

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

const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's published development account key.
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn specs() -> Vec<String> {
    SPECS.iter().map(|s| (*s).to_owned()).collect()
}

/// An Azurite blob server under a shell that stops it when this test process exits.
struct Azurite {
    port: u16,
    child: Child,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Azurite {
    fn start(dir: &Path) -> Azurite {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        Azurite::start_on(dir, port)
    }

    /// Starts Azurite on `port` with its data in `dir` (a restart on the same `dir` finds
    /// the containers and blobs of the previous run).
    fn start_on(dir: &Path, port: u16) -> Azurite {
        std::fs::create_dir_all(dir).expect("azurite dir");
        let child = Command::new("sh")
            .args([
                "-c",
                "azurite-blob --blobHost 127.0.0.1 --blobPort \"$1\" --location \"$3\" \
                 --silent --skipApiVersionCheck --disableTelemetry >/dev/null 2>&1 & m=$!\n\
                 trap 'kill $m 2>/dev/null; exit 0' TERM INT HUP\n\
                 while kill -0 \"$2\" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done\n\
                 kill $m 2>/dev/null",
                "sh",
                &port.to_string(),
                &std::process::id().to_string(),
                &dir.display().to_string(),
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot run sh to start azurite-blob");
        let mut az = Azurite { port, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if az.answers() {
                return az;
            }
            if let Ok(Some(status)) = az.child.try_wait() {
                panic!(
                    "azurite-blob exited with {status}; install it with npm i -g \
                     azurite@3.35.0 (scripts/test.sh does)"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("azurite-blob did not answer on port {port} within 30 s");
    }

    /// Up when it answers HTTP at all (403: it wants a signature).
    fn answers(&self) -> bool {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        let req = format!(
            "GET /{ACCOUNT}?comp=list HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        );
        let mut head = [0u8; 12];
        conn.write_all(req.as_bytes()).is_ok()
            && conn.read_exact(&mut head).is_ok()
            && head.starts_with(b"HTTP/1.1 ")
    }

    fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};\
             BlobEndpoint=http://127.0.0.1:{}/{ACCOUNT};",
            self.port
        )
    }

    /// Runs the SharedKey client: `create C`, `put C BLOB CONTENT-TYPE` (body on stdin),
    /// or `list C` (prints `name<TAB>sha256` lines of every blob, content read back).
    fn client(&self, args: &[&str], body: &[u8]) -> String {
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

    fn container(&self) -> String {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "e2e-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        self.client(&["create", &name], b"");
        name
    }

    /// Every blob's name and the sha256 of its content.
    fn blobs(&self, container: &str) -> BTreeMap<String, String> {
        self.client(&["list", container], b"")
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn agora_config(&self, dir: &Path, upstream: &str, container: &str) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend([
            ("ATHENS_STORAGE_TYPE".to_owned(), "azureblob".to_owned()),
            (
                "AZURE_STORAGE_CONNECTION_STRING".to_owned(),
                self.connection_string(),
            ),
            (
                "ATHENS_AZURE_CONTAINER_NAME".to_owned(),
                container.to_owned(),
            ),
        ]);
        cfg
    }
}

/// SharedKey over HTTP with the standard library only.
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
            print("%s\t%s" % (name, hashlib.sha256(call("GET", name, {})).hexdigest()))
        marker = root.findtext("NextMarker") or ""
        if not marker:
            break
"#;

/// The Azurite server of this test binary.
fn azurite() -> &'static Azurite {
    static AZ: OnceLock<Azurite> = OnceLock::new();
    static DIR: OnceLock<TestDir> = OnceLock::new();
    AZ.get_or_init(|| {
        let dir = DIR.get_or_init(|| TestDir::new("azurite"));
        Azurite::start(&dir.sub("data"))
    })
}

/// The sha256 of a file, by the same Python the blob listing hashes with.
fn sha256_file(path: &Path) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
        ])
        .arg(path)
        .output()
        .expect("python3 is needed");
    assert!(out.status.success(), "hashing {}", path.display());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Athens' key of one artifact.
fn key(path: &str, version: &str, ext: &str) -> String {
    format!("{path}/@v/{version}.{ext}")
}

fn expected_keys(truth: &BTreeMap<String, Download>) -> BTreeSet<String> {
    truth
        .values()
        .flat_map(|d| ["info", "mod", "zip"].map(|ext| key(&d.path, &d.version, ext)))
        .collect()
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
    let az = azurite();
    let container = az.container();
    let cfg = az.agora_config(t.path(), &ref_proxy().goproxy_url(), &container);
    let specs = specs();

    let mut agora = Agora::start(&cfg);
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    assert_same_downloads(
        "azure container, upstream up",
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    // Exactly Athens' three blobs per version, each with the bytes the go command has.
    let blobs = az.blobs(&container);
    let want = expected_keys(&truth);
    let keys: BTreeSet<String> = blobs.keys().cloned().collect();
    assert_eq!(
        keys,
        want,
        "container blobs (extra: {:?}, missing: {:?})",
        keys.difference(&want).collect::<Vec<_>>(),
        want.difference(&keys).collect::<Vec<_>>()
    );
    for d in truth.values() {
        let zip = d.zip.clone().expect("the go command reports its zip");
        assert_eq!(
            blobs[&key(&d.path, &d.version, "zip")],
            sha256_file(&zip),
            "{}@{}: the stored zip differs from the reference proxy's",
            d.path,
            d.version
        );
    }

    // Upstream off, agora restarted: everything comes from the container.
    agora.stop();
    let off = Agora::start(&cfg.with_upstream("off"));
    let again = GoEnv::via(t.path(), "after-restart", &off).mod_download(&specs);
    assert_same_downloads(
        "azure container, AGORA_GOPROXY=off after a restart",
        &specs,
        &truth,
        &again,
        Some(&off),
    );
    assert_eq!(az.blobs(&container), blobs, "serving changed the container");
}

#[test]
fn azure_blobs_seeded_by_another_client_are_served() {
    let _turn = turn();
    let t = TestDir::new("azure-seeded");
    let az = azurite();
    let container = az.container();
    let specs = specs();
    let truth = GoEnv::direct(t.path(), "seed").mod_download(&specs);
    for spec in &specs {
        let d = &truth[spec];
        assert!(d.ok(), "ground truth: {spec}: {}", d.error_line());
        for (ext, file, ctype) in [
            ("info", &d.info, "application/json"),
            ("mod", &d.gomod, "text/plain"),
            ("zip", &d.zip, "application/octet-stream"),
        ] {
            let file = file.clone().expect("the go command reports its cache file");
            let body = std::fs::read(file).expect("read the go command's cache file");
            az.client(
                &["put", &container, &key(&d.path, &d.version, ext), ctype],
                &body,
            );
        }
    }
    let before = az.blobs(&container);
    assert_eq!(
        before.keys().cloned().collect::<BTreeSet<_>>(),
        expected_keys(&truth),
        "seeding"
    );

    let cfg = az.agora_config(t.path(), "off", &container);
    let agora = Agora::start(&cfg);
    let got = GoEnv::via(t.path(), "agora", &agora).mod_download(&specs);
    assert_same_downloads(
        "azure container seeded by another client, AGORA_GOPROXY=off",
        &specs,
        &truth,
        &got,
        Some(&agora),
    );
    assert_eq!(
        az.blobs(&container),
        before,
        "agora changed blobs another client wrote"
    );
}

#[test]
fn azure_outage_is_503_and_service_resumes() {
    let _turn = turn();
    let t = TestDir::new("azure-outage");
    // Its own Azurite, since it is stopped.
    let data = t.sub("azurite");
    let mut az = Azurite::start(&data);
    let port = az.port;
    let container = az.container();
    let cfg = az.agora_config(t.path(), &ref_proxy().goproxy_url(), &container);
    let specs: Vec<String> = vec!["rsc.io/quote@v1.5.2".into(), "rsc.io/sampler@v1.3.0".into()];
    let truth = GoEnv::direct(t.path(), "direct").mod_download(&specs);
    {
        let first = Agora::start(&cfg);
        let got = GoEnv::via(t.path(), "store", &first).mod_download(&specs);
        assert_same_downloads("storing before the outage", &specs, &truth, &got, None);
    }
    let blobs = az.blobs(&container);
    assert_eq!(blobs.len(), 3 * specs.len(), "{blobs:?}");
    // A new process with nothing in memory, upstream off: only storage can answer.
    let agora = Agora::start(&cfg.with_upstream("off"));
    drop(az);
    for spec in &specs {
        let d = &truth[spec];
        for ext in ["info", "mod", "zip"] {
            let tg = format!("/{}/@v/{}.{ext}", escape(&d.path), escape(&d.version));
            assert_one_line_503(&format!("GET {tg}"), &agora.get(&tg));
        }
    }
    assert_one_line_503("GET /readyz", &agora.get("/readyz"));

    // Azurite back on the same port and data, agora untouched.
    az = Azurite::start_on(&data, port);
    assert!(
        wait_until(Duration::from_secs(30), || agora.get("/readyz").status
            == 200),
        "/readyz did not recover within 30 s of the storage coming back: {}",
        agora.get("/readyz").summary()
    );
    let back = GoEnv::via(t.path(), "after-outage", &agora).mod_download(&specs);
    assert_same_downloads(
        "azure container back after an outage, same agora, upstream off",
        &specs,
        &truth,
        &back,
        Some(&agora),
    );
    assert_eq!(
        az.blobs(&container),
        blobs,
        "the container after the outage"
    );
}
