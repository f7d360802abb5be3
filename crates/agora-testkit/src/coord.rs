//! The coordination servers replicas share a lock on: redis, redis with one sentinel,
//! and etcd, each on free loopback ports under a shell watchdog that stops it when the
//! test process exits (`redis-server`, `redis-sentinel` and `etcd` from Debian's
//! `redis-server`, `redis-sentinel` and `etcd-server` packages, installed by
//! scripts/test.sh).

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use crate::*;

const HINT: &str = "scripts/test.sh installs redis-server, redis-sentinel and etcd-server";

/// Sends one inline redis command and returns the raw reply (up to 4 KiB).
pub fn redis_command(addr: SocketAddr, command: &str) -> Result<String, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    s.write_all(format!("{command}\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Starts `server` under a watchdog and waits until `live` holds (10 s at most).
fn start_server(name: &str, server: &str, args: &[String], live: impl Fn() -> bool) -> Child {
    let mut child = guarded_server(name, server, args)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sh to start {name}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if live() {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited with {status}; {HINT}");
        }
        if Instant::now() > deadline {
            stop_guarded(&mut Some(child));
            panic!("{name} did not come up within 10 s; {HINT}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A redis server with no persistence. Stopped on drop.
pub struct Redis {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Option<Child>,
}

impl Redis {
    /// Starts redis on a free port, with `password` when given. Panics when it cannot.
    pub fn start(password: Option<&str>) -> Redis {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut args = vec![port.to_string()];
        let mut line =
            "redis-server --bind 127.0.0.1 --port \"$1\" --save '' --appendonly no".to_owned();
        if let Some(pw) = password {
            line.push_str(" --requirepass \"$2\"");
            args.push(pw.to_owned());
        }
        let child = start_server("redis", &line, &args, || {
            redis_command(addr, "PING")
                .is_ok_and(|r| r.starts_with("+PONG") || r.contains("NOAUTH"))
        });
        Redis {
            addr,
            child: Some(child),
        }
    }

    /// `host:port`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Stops it; its port refuses connections afterwards.
    pub fn stop(&mut self) {
        stop_guarded(&mut self.child);
        wait_port_closed("redis", self.addr.port());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

/// One redis master watched by one sentinel that calls it `master_name`.
pub struct RedisSentinel {
    /// The master.
    pub master: Redis,
    /// The sentinel's address.
    pub addr: SocketAddr,
    /// The master's name in the sentinel's configuration.
    pub master_name: String,
    child: Option<Child>,
}

impl RedisSentinel {
    /// Starts a master (with `master_password`) and a sentinel (with
    /// `sentinel_password`) in `dir` (the sentinel rewrites its configuration file).
    pub fn start(
        dir: &Path,
        master_name: &str,
        master_password: Option<&str>,
        sentinel_password: Option<&str>,
    ) -> RedisSentinel {
        let master = Redis::start(master_password);
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut conf = format!(
            "port {port}\nbind 127.0.0.1\ndaemonize no\n\
             sentinel monitor {master_name} 127.0.0.1 {} 1\n\
             sentinel down-after-milliseconds {master_name} 5000\n",
            master.addr.port()
        );
        if let Some(pw) = master_password {
            conf.push_str(&format!("sentinel auth-pass {master_name} {pw}\n"));
        }
        if let Some(pw) = sentinel_password {
            conf.push_str(&format!("requirepass {pw}\n"));
        }
        fs::create_dir_all(dir).expect("sentinel directory");
        let path = dir.join("sentinel.conf");
        fs::write(&path, conf).expect("write sentinel.conf");
        let auth = sentinel_password.map(|p| format!("AUTH {p}\r\n"));
        let query = format!("SENTINEL get-master-addr-by-name {master_name}");
        let child = start_server(
            "redis-sentinel",
            "redis-sentinel \"$1\"",
            &[path.display().to_string()],
            || {
                let cmd = match &auth {
                    Some(a) => format!("{a}{query}"),
                    None => query.clone(),
                };
                redis_command(addr, &cmd).is_ok_and(|r| r.contains(&master.addr.port().to_string()))
            },
        );
        RedisSentinel {
            master,
            addr,
            master_name: master_name.to_owned(),
            child: Some(child),
        }
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

/// A single-member etcd cluster with its data in a directory of its own.
pub struct Etcd {
    /// The client address.
    pub addr: SocketAddr,
    child: Option<Child>,
}

impl Etcd {
    /// Starts etcd with its data under `dir`. Panics when it cannot.
    pub fn start(dir: &Path) -> Etcd {
        let (client, peer, metrics) = (free_port(), free_port(), free_port());
        let addr = SocketAddr::from(([127, 0, 0, 1], client));
        let data = dir.join("etcd-data");
        fs::create_dir_all(dir).expect("etcd directory");
        let line = "etcd --name default --data-dir \"$1\" \
                    --listen-client-urls http://127.0.0.1:\"$2\" \
                    --advertise-client-urls http://127.0.0.1:\"$2\" \
                    --listen-peer-urls http://127.0.0.1:\"$3\" \
                    --initial-advertise-peer-urls http://127.0.0.1:\"$3\" \
                    --initial-cluster default=http://127.0.0.1:\"$3\" \
                    --listen-metrics-urls http://127.0.0.1:\"$4\"";
        let args = [
            data.display().to_string(),
            client.to_string(),
            peer.to_string(),
            metrics.to_string(),
        ];
        let child = start_server("etcd", line, &args, || {
            http_get(addr, "/health")
                .is_ok_and(|r| r.status == 200 && String::from_utf8_lossy(&r.body).contains("true"))
        });
        Etcd {
            addr,
            child: Some(child),
        }
    }

    /// `http://host:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}
