//! Processes and directories: watchdogs that outlive no test, servers under a guard
//! shell, deadlines, free ports and per-test directories kept when a test fails.

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::{self};
use std::time::{Duration, Instant};

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

/// A `sh` command that runs `server` (a shell command line; its arguments are `"$1"`…,
/// taken from `args`) in the background with its output discarded, and stops it when this
/// test process has gone (whatever the way: statics are never dropped, and a SIGKILL runs
/// no destructor) or when the shell gets SIGTERM ([`stop_guarded`]). `name` names the
/// shell in `ps`.
pub fn guarded_server(name: &str, server: &str, args: &[String]) -> Command {
    // `stop` waits for the server to be gone, so that [`stop_guarded`] returning means its
    // port and data directory are free; one that has not finished after 30 s (a loaded
    // machine) is killed.
    let script = format!(
        "{server} >/dev/null 2>&1 & m=$!\n\
         stop() {{ kill $m 2>/dev/null; \
         ( sleep 30; kill -9 $m 2>/dev/null ) >/dev/null 2>&1 </dev/null & w=$!; \
         wait $m; kill $w 2>/dev/null; }}\n\
         trap 'stop; exit 0' TERM INT HUP\n\
         while kill -0 \"$AGORA_TESTKIT_PARENT\" 2>/dev/null && kill -0 $m 2>/dev/null; do \
         sleep 0.2; done\n\
         stop"
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(format!("agora-testkit-{name}"))
        .args(args)
        .env("AGORA_TESTKIT_PARENT", std::process::id().to_string())
        .stdin(Stdio::null())
        // The shell's own messages ("Terminated" for a reaped watchdog) are noise
        // in the test output; the server's output is discarded above.
        .stderr(Stdio::null());
    cmd
}

/// Stops a server started with [`guarded_server`]: SIGTERM to the shell (its trap stops
/// the server; a SIGKILL would stop the shell without running the trap, and the server
/// would outlive the test), then reaps the shell, which has waited for the server to exit.
pub fn stop_guarded(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        if let Ok(None) = child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stdin(Stdio::null())
                .status();
        }
        let _ = child.wait();
    }
}

/// Waits until nothing accepts connections on `127.0.0.1:port` (a stopped server's
/// port); panics after 15 s.
pub fn wait_port_closed(what: &str, port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let closed = wait_until(Duration::from_secs(15), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
    });
    assert!(
        closed,
        "{what} on {addr} still accepts connections after SIGTERM"
    );
}

/// Decodes the lowercase hex a Python helper printed; panics on anything else.
pub fn from_hex(hex: &str) -> Vec<u8> {
    assert!(
        hex.len().is_multiple_of(2),
        "odd-length hex from a helper: {hex:?}"
    );
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex from a helper"))
        .collect()
}
