//! agora processes under test: how to run one ([`AgoraConfig`]), the running process
//! ([`Agora`], killed on drop, its log shown when a test fails) and one-shot commands.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self};
use std::time::{Duration, Instant};

use crate::*;

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
    /// When agora serves HTTPS (set its TLS variables in `extra_env`): the CA file its
    /// certificate is checked against, for the readiness probe and [`Agora::goproxy_url`].
    pub tls_ca: Option<PathBuf>,
    /// What start-up waits for a 200 from: `/readyz` (storage reachable), or `/healthz`
    /// for a test of storage that is not.
    pub ready_path: &'static str,
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
            tls_ca: None,
            ready_path: "/readyz",
        };
        for d in [&cfg.storage_root, &cfg.data_dir, &cfg.home] {
            fs::create_dir_all(d).expect("create an agora directory");
        }
        cfg
    }

    /// These extra environment variables, added to the ones already set.
    pub fn with_env(mut self, env: &[(&str, &str)]) -> AgoraConfig {
        self.extra_env.extend(
            env.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        self
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

/// `GET /readyz` (or the config's `ready_path`), over TLS when the config says agora
/// serves it.
fn ready_probe(addr: SocketAddr, config: &AgoraConfig) -> std::io::Result<HttpResponse> {
    match &config.tls_ca {
        Some(ca) => https_request(addr, ca, "GET", config.ready_path, &[]),
        None => http_get(addr, config.ready_path),
    }
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
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
            .env("ATHENS_LOG_LEVEL", "debug")
            // The test upstreams (the reference proxy, the loopback forges)
            // are in no checksum database agora could reach offline; the
            // sumdb tests turn verification on against the reference
            // proxy's test database through extra_env.
            .env("AGORA_SUMDB_VERIFY", "false");
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
            match ready_probe(addr, config) {
                Ok(resp) if resp.status == 200 => break,
                Ok(resp) => last = resp.summary(),
                Err(e) => last = e.to_string(),
            }
            if Instant::now() > deadline {
                agora.kill9();
                panic!(
                    "agora did not answer GET {} with 200 within {READY_TIMEOUT:?} (last: \
                     {last}); log:\n{}",
                    config.ready_path,
                    tail(&agora.log(), 200)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(agora)
    }

    /// The GOPROXY URL for clients (`https://` when it serves TLS).
    pub fn goproxy_url(&self) -> String {
        let scheme = if self.config.tls_ca.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
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
            match ready_probe(addr, config) {
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
