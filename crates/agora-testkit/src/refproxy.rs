//! The go command's reference proxy (`cmdgo.test -proxy`), started once per test binary.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::{self};
use std::time::{Duration, Instant};

use crate::*;

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
