//! A counting HTTP forwarder in front of the reference proxy (or a storage server): it
//! records every request target, can delay or stall responses, and can be stopped to
//! simulate losing the upstream.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::*;

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

/// A TCP relay to `127.0.0.1:port` that keeps every byte clients send, so a test can read
/// the requests exactly as they went over the wire (an emulator that ignores a header is
/// checked on the wire). It runs on threads of its own until the test process exits;
/// returns its port and the bytes seen so far.
pub fn recording_relay(port: u16) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recording relay");
    let relay_port = listener
        .local_addr()
        .expect("the recording relay's address")
        .port();
    let seen2 = seen.clone();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let seen = seen2.clone();
            thread::spawn(move || {
                let Ok(up) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                let (Ok(mut from_client), Ok(mut to_up)) = (client.try_clone(), up.try_clone())
                else {
                    return;
                };
                let (mut from_up, mut to_client) = (up, client);
                let downstream = thread::spawn(move || {
                    let _ = io::copy(&mut from_up, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match from_client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if let Ok(mut s) = seen.lock() {
                                s.extend_from_slice(&buf[..n]);
                            }
                            if to_up.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = to_up.shutdown(std::net::Shutdown::Write);
                let _ = downstream.join();
            });
        }
    });
    (relay_port, seen)
}
