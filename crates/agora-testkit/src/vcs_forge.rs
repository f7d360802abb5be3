//! The agora-vcs tests' forge and oracle: bare repositories published into one directory
//! per test process, served by one forge per process on 127.0.0.7:80 as
//! `vcs.example.test` (a line added to /etc/hosts), and the real go command in direct mode
//! against it. Not 127.0.0.9 as the end-to-end tests' `git.e2e.test`
//! ([`crate::GitForge`]), so that both suites can run at once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::{GitWork, ensure_hosts_line, go_bin, spawn_forge};

/// The forge's host name.
pub const HOST: &str = "vcs.example.test";
const BIND: &str = "127.0.0.7";

/// Where published bare repositories live (one directory per test process).
pub fn repos_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Statics are never dropped, so remove the directories of earlier test processes
        // that are gone instead.
        if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("agora-vcs-forge-")
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let d = std::env::temp_dir().join(format!("agora-vcs-forge-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("create the forge's repository dir");
        d
    })
    .clone()
}

/// Publishes `work` as `<repos>/<name>.git` and returns its forge URL.
pub fn publish(work: &GitWork, name: &str) -> String {
    work.publish_bare(&repos_dir(), name);
    format!("http://{HOST}/{name}.git")
}

/// A unique repository name for this process.
pub fn unique(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{name}{}", N.fetch_add(1, Ordering::SeqCst))
}

/// Starts the forge once per process. Returns an error text when the environment cannot
/// host it (no root, port 80 taken by someone else).
pub fn forge() -> Result<(), String> {
    static FORGE: OnceLock<Result<Mutex<Child>, String>> = OnceLock::new();
    match FORGE.get_or_init(|| {
        ensure_hosts_line(BIND, HOST)?;
        spawn_forge(&repos_dir(), BIND, HOST, &[], None).map(Mutex::new)
    }) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    }
}

/// The go command in direct mode against the forge, with a fresh module cache. Returns
/// the parsed JSON output, or the error text.
pub fn go_json(args: &[&str]) -> Result<Value, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = Command::new(go_bin())
        .args(args)
        .current_dir(tmp.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("GOPATH", tmp.path().join("gopath"))
        .env("GOMODCACHE", tmp.path().join("modcache"))
        .env("GOCACHE", tmp.path().join("gocache"))
        .env("GOPROXY", "direct")
        .env("GOINSECURE", HOST)
        .env("GOSUMDB", "off")
        .env("GONOSUMDB", "*")
        .env("GOFLAGS", "-mod=mod -modcacherw")
        .env("GOTOOLCHAIN", "local")
        .env("GOTELEMETRY", "off")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            stdout
        ));
    }
    let mut v: Value = serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout}"))?;
    // `go mod download -json` names the .info file; inline it so the caller can compare
    // the Origin the go command recorded.
    if let Some(info) = v.get("Info").and_then(Value::as_str) {
        let text = std::fs::read_to_string(info).map_err(|e| format!("{info}: {e}"))?;
        v["InfoJSON"] = serde_json::from_str(&text).map_err(|e| format!("{info}: {e}"))?;
    }
    Ok(v)
}

/// Checks that the go-versus-agora comparisons can run here. A missing oracle fails the
/// test with the reason (never a silent skip): `scripts/test.sh` installs everything it
/// needs.
pub fn oracle_available() -> bool {
    // go_bin() panics with the reason when there is no Go toolchain.
    let _ = go_bin();
    if let Err(e) = forge() {
        panic!("the go command comparison cannot run: {e}");
    }
    true
}

/// Runs git in `dir` (a work tree or a published bare repository) with no global or
/// system configuration; panics unless it succeeds.
pub fn git(dir: &Path, args: &[&str]) -> String {
    crate::git_in(dir, args, &[])
}
