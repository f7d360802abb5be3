//! A private repository: agora with `AGORA_GOPROXY=direct` and credentials from a netrc
//! file (`AGORA_NETRC_PATH`), against a forge whose git smart HTTP requires basic auth
//! (`auth_forge.py`: forge.py behind a `Authorization` check) on 127.0.0.13:80 as
//! `private.e2e.test`, compared with the go command in direct mode given the same netrc
//! through its own `HOME`.
//!
//! The forge is reached over plain http (`GOINSECURE`), as the other direct-mode tests
//! do. There the go command sends no credentials with its `?go-get=1` request (its
//! `GOAUTH=netrc` is https-only), so the forge serves those pages to anyone, as most
//! forges do; git, which the go command runs with the user's `HOME`, answers the 401 with
//! the `~/.netrc` credentials through libcurl, http or not. agora does the same: no
//! credentials on the page, the netrc's credentials for git, which gets them in its
//! environment and nowhere else.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use agora_testkit::*;

const PRIVATE_HOST: &str = "private.e2e.test";
const PRIVATE_BIND: &str = "127.0.0.13";
const LOGIN: &str = "e2e-reader";
const PASSWORD: &str = "pw-7c1f9a3e55d2-do-not-leak";

/// The forge binds one fixed address: tests that start it take turns.
fn forge_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The forms the secret could leak in: the password, and the basic-auth token.
fn secret_forms() -> Vec<String> {
    vec![
        PASSWORD.to_owned(),
        base64(format!("{LOGIN}:{PASSWORD}").as_bytes()),
    ]
}

/// Adds `127.0.0.13 private.e2e.test` to /etc/hosts unless it is there; panics when it
/// cannot (this test never skips).
fn ensure_private_host() {
    let hosts = fs::read_to_string("/etc/hosts")
        .unwrap_or_else(|e| panic!("cannot read /etc/hosts to map {PRIVATE_HOST}: {e}"));
    let fields = |l: &str| -> Vec<String> {
        l.split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let mut mapped = None;
    for l in hosts.lines() {
        let f = fields(l);
        if f.len() > 1 && f[1..].iter().any(|h| h == PRIVATE_HOST) {
            mapped = Some(f[0].clone());
            break;
        }
    }
    match mapped.as_deref() {
        Some(PRIVATE_BIND) => return,
        Some(other) => {
            panic!("/etc/hosts maps {PRIVATE_HOST} to {other}; this test needs {PRIVATE_BIND}")
        }
        None => {}
    }
    let line = format!("{PRIVATE_BIND} {PRIVATE_HOST}");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .unwrap_or_else(|e| {
            panic!("cannot add {line:?} to /etc/hosts ({e}): this test needs it (run as root)")
        });
    let sep = if hosts.ends_with('\n') || hosts.is_empty() {
        ""
    } else {
        "\n"
    };
    writeln!(f, "{sep}{line}").unwrap_or_else(|e| panic!("cannot add {line:?}: {e}"));
}

/// auth_forge.py on 127.0.0.13:80, killed on drop.
struct AuthForge {
    child: Option<Child>,
    repos: PathBuf,
    log_path: PathBuf,
}

impl AuthForge {
    fn start(dir: &Path, delay: &str) -> AuthForge {
        ensure_private_host();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/auth_forge.py");
        let repos = dir.join("private-repos");
        fs::create_dir_all(&repos).expect("create the forge's repository dir");
        let log_path = dir.join("auth-forge.log");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .expect("open the forge log");
            let mut child = Command::new("python3")
                .arg(&script)
                .arg("--repos")
                .arg(&repos)
                .args(["--bind", PRIVATE_BIND, "--port", "80"])
                .args(["--host", PRIVATE_HOST, "--verbose"])
                // In the environment: the test looks for the password in `ps` output.
                .env("AUTH_FORGE_CREDENTIALS", format!("{LOGIN}:{PASSWORD}"))
                .args(["--delay", delay])
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
                return AuthForge {
                    child: Some(child),
                    repos,
                    log_path,
                };
            }
            let status = child.wait();
            if Instant::now() > deadline {
                panic!(
                    "the private forge did not start on {PRIVATE_BIND}:80 ({status:?}; port 80 \
                     needs root and must be free):\n{}",
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(300));
        }
    }

    fn publish(&self, work: &GitWork, name: &str) {
        let dest = self.repos.join(format!("{name}.git")).display().to_string();
        let src = work.dir.display().to_string();
        git_in(&self.repos, &["clone", "-q", "--bare", &src, &dest], &[]);
    }

    /// auth_forge's own lines: `<status> <method> <path> (<why>)`.
    fn auth_lines(&self) -> Vec<String> {
        fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("auth_forge: ").map(str::to_owned))
            .collect()
    }
}

impl Drop for AuthForge {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Watches every process's command line (`ps -eww -o pid=,args=`) until stopped: the
/// lines that contain a secret, how many git processes for the private host were seen, and
/// how many of those had the credentials in their environment (read from /proc).
struct PsWatch {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<(Vec<String>, usize, usize)>,
}

impl PsWatch {
    fn start() -> PsWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let secrets = secret_forms();
            let mut leaks = Vec::new();
            let mut git_seen = 0;
            let mut env_seen = 0;
            while !flag.load(Ordering::SeqCst) {
                let out = Command::new("ps")
                    .args(["-eww", "-o", "pid=,args="])
                    .output()
                    .expect("run ps");
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                for line in text.lines() {
                    if secrets.iter().any(|s| line.contains(s.as_str()))
                        && !leaks.iter().any(|l| l == line)
                    {
                        leaks.push(line.to_owned());
                    }
                    if line.contains("git") && line.contains(PRIVATE_HOST) {
                        git_seen += 1;
                        let pid = line.split_whitespace().next().unwrap_or("");
                        if let Ok(environ) = fs::read(format!("/proc/{pid}/environ")) {
                            let environ = String::from_utf8_lossy(&environ);
                            if environ.contains(&format!("http.http://{PRIVATE_HOST}/.extraHeader"))
                            {
                                env_seen += 1;
                            }
                        }
                    }
                }
                thread::sleep(Duration::from_millis(10));
            }
            (leaks, git_seen, env_seen)
        });
        PsWatch { stop, handle }
    }

    fn finish(self) -> (Vec<String>, usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("the ps watcher panicked")
    }
}

fn read(p: &Option<PathBuf>) -> Option<Vec<u8>> {
    p.as_ref().and_then(|p| fs::read(p).ok())
}

fn info_version_time(d: &Download) -> Option<(serde_json::Value, serde_json::Value)> {
    let v: serde_json::Value = serde_json::from_slice(&read(&d.info)?).ok()?;
    Some((v["Version"].clone(), v["Time"].clone()))
}

/// What `go mod download -json` through agora must share with the go command in direct
/// mode (as in direct.rs): Version, Sum, GoModSum, the .mod bytes, the .info Version and
/// Time. The zip bytes are not compared: the go command writes its own zip, Sum covers
/// the content.
fn diff(spec: &str, truth: &Download, got: &Download) -> Vec<String> {
    if let Some(e) = &got.error {
        return vec![format!("{spec}: failed through agora: {}", e.trim())];
    }
    let mut out = Vec::new();
    let mut field = |name: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        let (a, b) = (format!("{a:?}"), format!("{b:?}"));
        if a != b {
            out.push(format!("{spec}: {name} {a} through agora, {b} direct"));
        }
    };
    field("Version", &got.version, &truth.version);
    field("Sum", &got.sum, &truth.sum);
    field("GoModSum", &got.gomod_sum, &truth.gomod_sum);
    field(
        ".info Version/Time",
        &info_version_time(got),
        &info_version_time(truth),
    );
    if read(&got.gomod) != read(&truth.gomod) {
        out.push(format!("{spec}: the .mod bytes differ"));
    }
    out
}

fn module() -> String {
    format!("{PRIVATE_HOST}/secret")
}

#[test]
fn private_repository_with_netrc_credentials() {
    let _turn = forge_turn();
    let t = TestDir::new("private");
    // Each git request waits 0.2s, so that the ps watcher sees the fetch's processes.
    let forge = AuthForge::start(t.path(), "0.2");

    let w = GitWork::new(&t.path().join("corpus"), "secret");
    w.write("go.mod", &format!("module {}\n\ngo 1.21\n", module()))
        .write("secret.go", "package secret\n\nconst V = 1\n");
    w.commit("v1.0.0");
    w.tag("v1.0.0");
    w.write("secret.go", "package secret\n\nconst V = 2\n");
    w.commit("v1.1.0");
    w.tag("v1.1.0");
    w.write("more.go", "package secret\n\nconst More = true\n");
    let untagged = w.commit("untagged");
    forge.publish(&w, "secret");
    let specs: Vec<String> = ["v1.0.0", "v1.1.0", &untagged[..12]]
        .iter()
        .map(|q| format!("{}@{q}", module()))
        .collect();

    // The netrc file lives outside every home directory.
    let secrets_dir = t.path().join("secrets");
    fs::create_dir_all(&secrets_dir).unwrap();
    let netrc = secrets_dir.join("netrc");
    let netrc_text = format!(
        "# credentials for the private forge\nmachine {PRIVATE_HOST}\n  login {LOGIN}\n  \
         password {PASSWORD}\n"
    );
    fs::write(&netrc, &netrc_text).unwrap();
    let insecure = [("GOINSECURE", PRIVATE_HOST)];

    // The forge really needs the credentials: the go command without them fails.
    let anon_go = GoEnv::vcs_direct(t.path(), "direct-anon");
    let (run, anon) = anon_go.mod_download_nosumdb_env(&specs[..1], &insecure);
    assert!(
        !anon[&specs[0]].ok(),
        "the go command fetched the private module without credentials:\n{}",
        run.stderr
    );

    // agora without credentials: a 4xx/5xx with a one-line reason, nothing stored.
    {
        let dir = t.path().join("agora-anon");
        fs::create_dir_all(&dir).unwrap();
        let mut cfg = direct_agora_config(&dir);
        cfg.extra_env
            .push(("AGORA_GOINSECURE".to_owned(), PRIVATE_HOST.to_owned()));
        let agora = Agora::start(&cfg);
        for target in [
            format!("/{}/@v/v1.0.0.info", module()),
            format!("/{}/@v/v1.0.0.zip", module()),
            format!("/{}/@v/list", module()),
            format!("/{}/@latest", module()),
        ] {
            let resp = agora.get(&target);
            let body = resp.text();
            eprintln!(
                "without credentials: GET {target}: {} {}",
                resp.status,
                body.trim()
            );
            assert!(
                (400..600).contains(&resp.status),
                "{target} without credentials: {}",
                resp.summary()
            );
            assert_eq!(
                body.trim_end().lines().count(),
                1,
                "{target}: not a one-line reason: {body:?}"
            );
            assert!(body.contains(&module()), "{target}: {body:?}");
        }
        let stored = files_under(&cfg.storage_root);
        assert!(stored.is_empty(), "stored without credentials: {stored:?}");
    }
    let refused = forge
        .auth_lines()
        .iter()
        .filter(|l| l.starts_with("401 "))
        .count();
    assert!(
        refused > 0,
        "the forge refused nothing: {:?}",
        forge.auth_lines()
    );

    // The go command in direct mode, with the netrc in its own HOME: the truth.
    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    fs::write(truth_go.home.join(".netrc"), &netrc_text).unwrap();
    let (run, truth) = truth_go.mod_download_nosumdb_env(&specs, &insecure);
    for spec in &specs {
        assert!(
            truth[spec].ok(),
            "the go command with a netrc failed for {spec}: {}\n{}",
            truth[spec].error_line(),
            run.stderr
        );
    }

    // agora with AGORA_NETRC_PATH, and a go client that has no credentials of its own.
    let dir = t.path().join("agora");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("AGORA_GOINSECURE".to_owned(), PRIVATE_HOST.to_owned()));
    cfg.extra_env
        .push(("AGORA_NETRC_PATH".to_owned(), netrc.display().to_string()));
    let agora = Agora::start(&cfg);
    let via_go = GoEnv::via(t.path(), "agora", &agora);
    let watch = PsWatch::start();
    let (run, got) = via_go.mod_download_nosumdb_env(&specs, &insecure);
    let (leaks, git_seen, env_seen) = watch.finish();
    assert!(
        got.values().all(Download::ok),
        "through agora with a netrc: {}\nagora log:\n{}",
        run.stderr,
        agora.log()
    );
    let diffs: Vec<String> = specs
        .iter()
        .flat_map(|spec| diff(spec, &truth[spec], &got[spec]))
        .collect();
    assert!(
        diffs.is_empty(),
        "through agora vs the go command in direct mode:\n  {}",
        diffs.join("\n  ")
    );

    // The secret is nowhere: not in any process's arguments during the fetch, not in
    // agora's log (at debug level), not in agora's home (nothing written there at all).
    assert!(leaks.is_empty(), "the secret is in ps output: {leaks:?}");
    assert!(
        git_seen > 0,
        "the ps watcher never saw a git process for {PRIVATE_HOST}"
    );
    assert!(
        env_seen > 0,
        "no git process for {PRIVATE_HOST} had the credentials in its environment \
         ({git_seen} seen)"
    );
    let log = agora.log();
    for s in secret_forms() {
        assert!(!log.contains(&s), "agora's log holds the secret:\n{log}");
    }
    assert!(
        files_under(&cfg.home).is_empty(),
        "agora wrote into its HOME: {:?}",
        files_under(&cfg.home)
    );
    assert_eq!(fs::read_to_string(&netrc).unwrap(), netrc_text);
    // The forge served git requests that carried the credentials.
    let ok = forge
        .auth_lines()
        .iter()
        .filter(|l| l.starts_with("ok "))
        .count();
    assert!(ok > 0, "{:?}", forge.auth_lines());
}

/// The same private repository with no netrc at all: the credentials come from a git
/// credential helper in the operator's git configuration (`GIT_CONFIG_GLOBAL`), which
/// agora's git runs honour as the go command's do. agora and the go command in direct
/// mode, each given that configuration, agree; without it agora fails and stores nothing.
#[test]
fn private_repository_with_a_git_credential_helper() {
    let _turn = forge_turn();
    let t = TestDir::new("private-helper");
    let forge = AuthForge::start(t.path(), "0");
    let w = GitWork::new(&t.path().join("corpus"), "helped");
    w.write("go.mod", &format!("module {}\n\ngo 1.21\n", module()))
        .write("secret.go", "package secret\n\nconst V = 3\n");
    w.commit("v1.2.0");
    w.tag("v1.2.0");
    forge.publish(&w, "secret");
    let specs = vec![
        format!("{}@v1.2.0", module()),
        format!("{}@latest", module()),
    ];

    // A helper that answers `get` with the forge's credentials, as a keychain would.
    let conf_dir = t.path().join("gitconfig");
    fs::create_dir_all(&conf_dir).unwrap();
    let helper = conf_dir.join("helper.sh");
    fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 0\necho username={LOGIN}\necho password={PASSWORD}\n"
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let gitconfig = conf_dir.join("config");
    fs::write(
        &gitconfig,
        format!("[credential]\n\thelper = {}\n", helper.display()),
    )
    .unwrap();
    let gitconfig_s = gitconfig.display().to_string();
    let env = [
        ("GOINSECURE", PRIVATE_HOST),
        ("GIT_CONFIG_GLOBAL", gitconfig_s.as_str()),
    ];

    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    let (run, truth) = truth_go.mod_download_nosumdb_env(&specs, &env);
    for spec in &specs {
        assert!(
            truth[spec].ok(),
            "the go command with the credential helper failed for {spec}: {}\n{}",
            truth[spec].error_line(),
            run.stderr
        );
    }

    // Without the helper's configuration agora cannot read the repository.
    {
        let dir = t.path().join("agora-anon");
        fs::create_dir_all(&dir).unwrap();
        let mut cfg = direct_agora_config(&dir);
        cfg.extra_env
            .push(("AGORA_GOINSECURE".to_owned(), PRIVATE_HOST.to_owned()));
        let agora = Agora::start(&cfg);
        let resp = agora.get(&format!("/{}/@v/v1.2.0.zip", module()));
        assert!(
            (400..600).contains(&resp.status),
            "without the helper: {}",
            resp.summary()
        );
        assert!(files_under(&cfg.storage_root).is_empty());
    }

    let dir = t.path().join("agora");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("AGORA_GOINSECURE".to_owned(), PRIVATE_HOST.to_owned()));
    cfg.extra_env
        .push(("GIT_CONFIG_GLOBAL".to_owned(), gitconfig_s.clone()));
    let agora = Agora::start(&cfg);
    let via_go = GoEnv::via(t.path(), "agora", &agora);
    let (run, got) = via_go.mod_download_nosumdb_env(&specs, &[("GOINSECURE", PRIVATE_HOST)]);
    assert!(
        got.values().all(Download::ok),
        "through agora with the credential helper: {}\nagora log:\n{}",
        run.stderr,
        agora.log()
    );
    let diffs: Vec<String> = specs
        .iter()
        .flat_map(|spec| diff(spec, &truth[spec], &got[spec]))
        .collect();
    assert!(
        diffs.is_empty(),
        "through agora vs the go command in direct mode:\n  {}",
        diffs.join("\n  ")
    );
    let log = agora.log();
    for s in secret_forms() {
        assert!(!log.contains(&s), "agora's log holds the secret:\n{log}");
    }
    assert!(
        forge.auth_lines().iter().any(|l| l.starts_with("ok ")),
        "{:?}",
        forge.auth_lines()
    );
}

/// A module path on another host whose go-import page points at the private repository
/// (a "lure"): agora does not lend it the netrc's credentials, so it cannot read the
/// repository through that path, while the repository's own path still works in the same
/// agora; with the lure declared private (`AGORA_GOPRIVATE`) the credentials apply.
#[test]
fn a_go_import_page_on_another_host_gets_no_credentials() {
    let _turn = forge_turn();
    let _git = git_forge_lock();
    let t = TestDir::new("private-lure");
    let forge = AuthForge::start(t.path(), "0");
    let w = GitWork::new(&t.path().join("corpus"), "lured");
    w.write("go.mod", &format!("module {}\n\ngo 1.21\n", module()))
        .write("secret.go", "package secret\n\nconst V = 4\n");
    w.commit("v1.0.0");
    w.tag("v1.0.0");
    forge.publish(&w, "secret");
    let public = GitForge::start(t.path());
    let lure_dir = public.repos.join("lure.git");
    fs::create_dir_all(&lure_dir).unwrap();
    fs::write(
        lure_dir.join("go-import-repo"),
        format!("http://{PRIVATE_HOST}/secret.git"),
    )
    .unwrap();
    let lure = format!("{GIT_FORGE_HOST}/lure");

    let netrc = t.path().join("netrc");
    fs::write(
        &netrc,
        format!("machine {PRIVATE_HOST}\n  login {LOGIN}\n  password {PASSWORD}\n"),
    )
    .unwrap();
    let start = |name: &str, goprivate: Option<&str>| {
        let dir = t.path().join(name);
        fs::create_dir_all(&dir).unwrap();
        let mut cfg = direct_agora_config(&dir);
        cfg.extra_env.push((
            "AGORA_GOINSECURE".to_owned(),
            format!("{GIT_FORGE_HOST},{PRIVATE_HOST}"),
        ));
        cfg.extra_env
            .push(("AGORA_NETRC_PATH".to_owned(), netrc.display().to_string()));
        if let Some(p) = goprivate {
            cfg.extra_env
                .push(("AGORA_GOPRIVATE".to_owned(), p.to_owned()));
        }
        (Agora::start(&cfg), cfg)
    };

    let (agora, cfg) = start("agora", None);
    for target in [
        format!("/{lure}/@v/list"),
        format!("/{lure}/@v/v1.0.0.info"),
        format!("/{lure}/@v/v1.0.0.zip"),
    ] {
        let resp = agora.get(&target);
        assert!(
            (400..600).contains(&resp.status),
            "{target}: the lure read the private repository: {}",
            resp.summary()
        );
    }
    assert!(files_under(&cfg.storage_root).is_empty());
    let lines = forge.auth_lines();
    assert!(
        lines.iter().any(|l| l.starts_with("401 ")) && !lines.iter().any(|l| l.starts_with("ok ")),
        "git sent credentials for the lure: {lines:?}"
    );
    // The same agora reads the repository through its own path, with the credentials.
    let own = agora.get(&format!("/{}/@v/v1.0.0.info", module()));
    assert_eq!(own.status, 200, "{}", own.summary());

    // Declared private, the lure gets them.
    let (agora, _) = start("agora-private", Some(&lure));
    let resp = agora.get(&format!("/{lure}/@v/list"));
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert_eq!(resp.text().trim(), "v1.0.0");
}

/// `agora serve` with `env` only (no forge needed): exit status and stderr.
fn serve_fails(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(agora_bin());
    cmd.arg("serve")
        .env_clear()
        .env("PATH", PATH_WITHOUT_GO)
        .env("HOME", dir.join("home"))
        .env("AGORA_DATA_DIR", dir.join("data"))
        .env("AGORA_LISTEN", "127.0.0.1:0")
        .env("AGORA_GOPROXY", "direct");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A netrc file that cannot be read, or a netrc file together with a GitHub token, stop
/// startup with the reason; the token is never printed.
#[test]
fn credential_settings_that_stop_startup() {
    let t = TestDir::new("private-startup");
    let missing = t.path().join("no-such-netrc");
    let (code, stderr) = serve_fails(
        t.path(),
        &[("ATHENS_NETRC_PATH", &missing.display().to_string())],
    );
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("reading netrc file {}", missing.display())),
        "{stderr}"
    );

    let netrc = t.path().join("netrc");
    fs::write(&netrc, "machine a.example login u password p\n").unwrap();
    let (code, stderr) = serve_fails(
        t.path(),
        &[
            ("AGORA_NETRC_PATH", &netrc.display().to_string()),
            ("ATHENS_GITHUB_TOKEN", "ghp_e2e_s3cret"),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("AGORA_NETRC_PATH (env)")
            && stderr.contains("ATHENS_GITHUB_TOKEN (env) = \"<redacted>\"")
            && stderr.contains("cannot both be set"),
        "{stderr}"
    );
    assert!(!stderr.contains("ghp_e2e_s3cret"), "{stderr}");
    assert!(files_under(&t.path().join("home")).is_empty());
}
