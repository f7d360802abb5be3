//! A spawned agora against upstream proxies that misbehave on purpose: an
//! endless error body, a zip that stalls, queries that must be escaped,
//! credentials that must not be logged, a base URL with a query; and a
//! request whose module path runs through a stored file.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agora_testkit::{Agora, AgoraConfig};

/// What the hostile server does with a request, by request target.
type Script = dyn Fn(&str, &mut TcpStream) + Send + Sync;

/// A raw HTTP/1.1 server on loopback that records every request target and
/// answers by `script`, one thread a connection.
struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    fn start(script: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> Hostile {
        Hostile::start_on("127.0.0.1:0", script)
    }

    fn start_on(
        bind: &str,
        script: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static,
    ) -> Hostile {
        let listener = TcpListener::bind(bind).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let record = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (script, record) = (script.clone(), record.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let target = line.split(' ').nth(1).unwrap_or("").to_owned();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    record.lock().expect("lock").push(target.clone());
                    script(&target, &mut conn);
                });
            }
        });
        Hostile { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

fn respond(conn: &mut TcpStream, status: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn agora(dir: &tempfile::TempDir, upstream: &str, env: &[(&str, &str)]) -> Agora {
    let mut cfg = AgoraConfig::new(dir.path(), upstream);
    for (k, v) in env {
        cfg.extra_env.push(((*k).to_owned(), (*v).to_owned()));
    }
    Agora::start(&cfg)
}

#[test]
fn an_endless_error_body_is_cut_off() {
    // A 500 whose body never ends: agora passes on its first line at once
    // and reads no more than a few KiB of it.
    let hostile = Hostile::start(|_, conn| {
        let _ = conn
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("{:x}\r\n{}\r\n", 65536, "x".repeat(65536));
        let first = format!("{:x}\r\nupstream broke\n\r\n", "upstream broke\n".len());
        if conn.write_all(first.as_bytes()).is_err() {
            return;
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if conn.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let agora = agora(&dir, &hostile.url(), &[]);
    let started = Instant::now();
    let resp = agora.get("/example.com/endless/@v/list");
    let took = started.elapsed();
    assert_eq!(resp.status, 502, "{}", resp.summary());
    assert!(resp.text().contains("upstream broke"), "{}", resp.summary());
    assert!(took < Duration::from_secs(15), "answered after {took:?}");
    let peak = rss_kib(agora.pid().expect("pid"));
    assert!(
        peak < 200 * 1024,
        "agora peaked at {peak} KiB reading an error body"
    );
}

#[test]
fn a_stalled_zip_download_times_out_and_stores_nothing() {
    let hostile = Hostile::start(|target, conn| {
        if target.ends_with(".info") {
            respond(
                conn,
                "200 OK",
                br#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#,
            );
        } else if target.ends_with(".mod") {
            respond(conn, "200 OK", b"module example.com/stall\n");
        } else if target.ends_with(".zip") {
            // Promise a megabyte, send a little, then nothing.
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\nPK",
            );
            std::thread::sleep(Duration::from_secs(60));
        } else {
            respond(conn, "404 Not Found", b"not found\n");
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let agora = agora(&dir, &hostile.url(), &[("AGORA_TIMEOUT", "3")]);
    let started = Instant::now();
    let resp = agora.get("/example.com/stall/@v/v1.0.0.zip");
    let took = started.elapsed();
    assert_eq!(resp.status, 504, "{}", resp.summary());
    assert!(took < Duration::from_secs(20), "answered after {took:?}");
    // Nothing partial was stored: the version is still absent.
    assert!(
        !dir.path()
            .join("storage/example.com/stall/v1.0.0/v1.0.0.info")
            .exists(),
        "a version was stored from a stalled download"
    );
    let resp = agora.get("/example.com/stall/@v/v1.0.0.info");
    assert_ne!(resp.status, 200, "{}", resp.summary());
}

#[test]
fn queries_reach_upstream_escaped_and_credentials_stay_out_of_the_log() {
    let hostile = Hostile::start(|_, conn| respond(conn, "404 Not Found", b"not here\n"));
    let dir = tempfile::tempdir().expect("tempdir");
    let base = format!("http://agora:s3cr3t-token@{}/base", hostile.addr);
    let agora = agora(&dir, &base, &[]);
    let resp = agora.get("/example.com/m/@v/feat%231.info");
    assert_eq!(resp.status, 404, "{}", resp.summary());
    let seen = hostile.seen();
    // The go command's url.PathEscape: `#` is %23, `@` stays.
    assert_eq!(seen, ["/base/example.com/m/@v/feat%231.info"], "{seen:?}");
    // agora's own lines: the harness heads the log with the command it ran.
    let log: String = agora
        .log()
        .lines()
        .filter(|l| !l.starts_with("=== agora-e2e:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        log.contains("upstream request"),
        "debug log has no request lines"
    );
    assert!(
        !log.contains("s3cr3t-token"),
        "the log shows upstream credentials:\n{log}"
    );
}

/// Where the `mod` proxy test's go-import page and proxy listen: port 80, so
/// that discovery's `http://host/path?go-get=1` (under GOINSECURE) reaches it.
const MOD_BIND: &str = "127.0.0.31";
const MOD_HOST: &str = "modq.e2e.test";

#[test]
fn a_discovered_mod_proxy_with_a_query_keeps_the_module_in_the_path() {
    agora_testkit::ensure_hosts_line(MOD_BIND, MOD_HOST).expect("hosts line");
    let hostile = Hostile::start_on(&format!("{MOD_BIND}:80"), |target, conn| {
        if target.ends_with("?go-get=1") {
            let page = format!(
                "<html><head><meta name=\"go-import\" content=\"{MOD_HOST}/m mod http://{MOD_HOST}/modproxy?x=\"></head></html>\n"
            );
            respond(conn, "200 OK", page.as_bytes());
        } else {
            respond(conn, "404 Not Found", b"no such module here\n");
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let agora = agora(&dir, "direct", &[("AGORA_GOINSECURE", MOD_HOST)]);
    let resp = agora.get(&format!("/{MOD_HOST}/m/@v/list"));
    assert_eq!(resp.status, 404, "{}", resp.summary());
    let seen = hostile.seen();
    let want = format!("/modproxy/{MOD_HOST}/m/@v/list?x=");
    assert!(
        seen.contains(&want),
        "the mod proxy saw {seen:?}, not {want}"
    );
}

#[test]
fn a_module_path_through_a_stored_file_is_absent_and_names_no_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stored = dir.path().join("storage/rsc.io/quote/v1.5.2");
    std::fs::create_dir_all(&stored).expect("mkdir");
    std::fs::write(stored.join("go.mod"), "module rsc.io/quote\n").expect("go.mod");
    std::fs::write(stored.join("source.zip"), b"PK\x05\x06").expect("zip");
    std::fs::write(
        stored.join("v1.5.2.info"),
        r#"{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z"}"#,
    )
    .expect("info");
    let agora = agora(&dir, "off", &[]);
    let root = dir.path().to_string_lossy().into_owned();
    for target in [
        "/rsc.io/quote/v1.5.2/go.mod/@v/v1.0.0.zip",
        "/rsc.io/quote/v1.5.2/go.mod/@v/v1.0.0.info",
        "/rsc.io/quote/v1.5.2/go.mod/@v/v1.0.0.mod",
        "/rsc.io/quote/v1.5.2/go.mod/@v/list",
    ] {
        let resp = agora.get(target);
        assert!(
            resp.status == 404 || (target.ends_with("/list") && resp.status == 200),
            "{target}: {}",
            resp.summary()
        );
        assert!(!resp.text().contains(&root), "{target}: {}", resp.summary());
    }
}
