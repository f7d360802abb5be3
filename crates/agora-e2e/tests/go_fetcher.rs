//! agora with `AGORA_GOPROXY=direct` and the go fetcher on for Mercurial: modules in hg
//! repositories on a loopback forge (`hg serve` plus go-import pages, `hg.e2e.test` on
//! 127.0.0.21:80, tests/hg_forge.py) are fetched by the go command agora runs, and must
//! agree with the real go command in direct mode against the same forge. With the fetcher
//! off, the same requests answer a clear "unsupported" error. The same comparison runs for
//! Subversion (`svnserve`, `svn.e2e.test` on 127.0.0.24) and Fossil (`fossil server`,
//! `fossil.e2e.test` on 127.0.0.25), with go-import pages from tests/vcs_pages.py. bzr has
//! no test: go1.27 dropped it (`vcsList` in cmd/go/internal/vcs/vcs.go is hg, git, svn,
//! fossil). A lure go-import page (tests/lure_forge.py, 127.0.0.22 and 127.0.0.23) checks
//! that the go command agora runs gets no credentials it is not entitled to.
//!
//! agora runs with `PATH=/usr/local/bin:/usr/bin:/bin` (checked to hold no go command, but
//! holding `hg`, `svn` and `fossil`): the go command it runs is only the one named by
//! `AGORA_GO_BINARY`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agora_testkit::*;
use serde_json::Value;

/// The forge's host name (a line in /etc/hosts) and loopback address; no other suite uses
/// either.
const HG_HOST: &str = "hg.e2e.test";
const HG_BIND: &str = "127.0.0.21";

fn m(name: &str) -> String {
    format!("{HG_HOST}/{name}")
}

/// Runs hg in `dir` with no user or system configuration; panics unless it succeeds.
fn hg(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("hg")
        .args(args)
        .current_dir(dir)
        .env("HGRCPATH", "")
        .env("HGPLAIN", "1")
        .env("HGUSER", "agora-e2e <e2e@example.test>")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run hg ({e}): install Mercurial (Debian package mercurial)")
        });
    assert!(
        out.status.success(),
        "hg {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An hg repository under the forge's repository directory.
struct HgRepo {
    dir: PathBuf,
    clock: u64,
}

impl HgRepo {
    fn new(repos: &Path, name: &str) -> HgRepo {
        let dir = repos.join(name);
        fs::create_dir_all(&dir).expect("create an hg repository dir");
        hg(&dir, &["init"]);
        HgRepo {
            dir,
            clock: 1_719_792_000,
        }
    }

    fn write(&self, rel: &str, content: &str) -> &HgRepo {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().expect("a parent")).expect("create directories");
        fs::write(p, content).expect("write a file");
        self
    }

    fn date(&mut self) -> String {
        self.clock += 60;
        format!("{} 0", self.clock)
    }

    /// Commits everything and returns the full changeset hash.
    fn commit(&mut self, msg: &str) -> String {
        let date = self.date();
        hg(
            &self.dir,
            &["commit", "-q", "-A", "-m", msg, "-d", date.as_str()],
        );
        hg(&self.dir, &["log", "-r", ".", "--template", "{node}"])
    }

    /// `hg tag` (which commits .hgtags) on the working copy's parent.
    fn tag(&mut self, name: &str) {
        let date = self.date();
        hg(&self.dir, &["tag", "-d", date.as_str(), name]);
    }
}

/// Serialises the tests of this file: each runs a forge on 127.0.0.21:80. A failed test
/// does not poison it for the others.
fn forge_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// hg_forge.py on 127.0.0.21:80; stopped (with its `hg serve`) on drop.
struct HgForge {
    child: Option<Child>,
    log_path: PathBuf,
}

impl HgForge {
    fn start(dir: &Path, repos: &Path) -> HgForge {
        ensure_hosts_line(HG_BIND, HG_HOST);
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hg_forge.py");
        let log_path = dir.join("hg-forge.log");
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
                .arg(repos)
                .args(["--bind", HG_BIND, "--port", "80", "--host", HG_HOST])
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
                return HgForge {
                    child: Some(child),
                    log_path,
                };
            }
            let status = child.wait();
            assert!(
                Instant::now() < deadline,
                "the hg forge did not start on {HG_BIND}:80 ({status:?}; port 80 needs root, \
                 hg must be installed):\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for HgForge {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM, so that the forge stops its hg serve too.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            eprintln!(
                "hg forge log:\n{}",
                fs::read_to_string(&self.log_path).unwrap_or_default()
            );
        }
    }
}

/// Adds `<addr> <host>` to /etc/hosts unless it is there; panics when it cannot.
fn ensure_hosts_line(addr: &str, host: &str) {
    let hosts = fs::read_to_string("/etc/hosts").expect("read /etc/hosts");
    let mapped: Vec<Vec<&str>> = hosts
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
        })
        .filter(|f| f.len() > 1 && f[1..].contains(&host))
        .collect();
    if mapped.iter().any(|f| f[0] == addr) {
        return;
    }
    assert!(
        mapped.is_empty(),
        "/etc/hosts maps {host} elsewhere ({mapped:?}); this test needs {addr}"
    );
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .unwrap_or_else(|e| panic!("cannot add {host} to /etc/hosts ({e}): run as root"));
    let sep = if hosts.ends_with('\n') || hosts.is_empty() {
        ""
    } else {
        "\n"
    };
    writeln!(f, "{sep}{addr} {host}").expect("append to /etc/hosts");
}

struct Corpus {
    /// Modules to list and ask @latest.
    modules: Vec<String>,
    /// `go mod download` specs.
    specs: Vec<String>,
}

fn build_corpus(repos: &Path) -> Corpus {
    let mut modules = Vec::new();
    let mut specs = Vec::new();

    // Two tags, an untagged commit after them.
    let mut r = HgRepo::new(repos, "tags");
    r.write("go.mod", &format!("module {}\n\ngo 1.21\n", m("tags")))
        .write("tags.go", "package tags\n\nconst V = 1\n");
    let first = r.commit("v1.0.0");
    r.tag("v1.0.0");
    r.write("tags.go", "package tags\n\nconst V = 11\n")
        .write("sub/doc.go", "package sub\n");
    r.commit("v1.1.0");
    r.tag("v1.1.0");
    r.write("extra.go", "package tags\n\nconst Extra = true\n");
    r.commit("untagged");
    modules.push(m("tags"));
    specs.push(format!("{}@v1.0.0", m("tags")));
    specs.push(format!("{}@v1.1.0", m("tags")));
    // A changeset hash prefix resolves to a pseudo-version.
    specs.push(format!("{}@{}", m("tags"), &first[..12]));

    // No go.mod: the go command synthesizes one.
    let mut r = HgRepo::new(repos, "nogomod");
    r.write("x.go", "package nogomod\n");
    r.commit("first");
    r.tag("v0.1.0");
    modules.push(m("nogomod"));
    specs.push(format!("{}@v0.1.0", m("nogomod")));

    // No tags at all: an empty list, and @latest is a pseudo-version.
    let mut r = HgRepo::new(repos, "notags");
    r.write("go.mod", &format!("module {}\n\ngo 1.21\n", m("notags")))
        .write("n.go", "package notags\n");
    r.commit("only");
    specs.push(format!("{}@latest", m("notags")));

    Corpus { modules, specs }
}

/// `Versions` (and the error) per module from `go list -m -versions`.
fn versions(
    go: &GoEnv,
    modules: &[String],
    env: &[(&str, &str)],
) -> BTreeMap<String, (Vec<String>, Option<String>)> {
    let mut args = vec!["-versions"];
    args.extend(modules.iter().map(String::as_str));
    list_json(go, &args, env)
        .into_iter()
        .map(|v| {
            let list = v["Versions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| s.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            let path = v["Path"].as_str().unwrap_or_default().to_string();
            (path, (list, v["Error"]["Err"].as_str().map(str::to_string)))
        })
        .collect()
}

/// `Version`, `Time` and the error per module from `go list -m -json M@latest`.
fn latest(
    go: &GoEnv,
    modules: &[String],
    env: &[(&str, &str)],
) -> BTreeMap<String, (Value, Value, Option<String>)> {
    let queries: Vec<String> = modules.iter().map(|m| format!("{m}@latest")).collect();
    let args: Vec<&str> = queries.iter().map(String::as_str).collect();
    list_json(go, &args, env)
        .into_iter()
        .map(|v| {
            let path = v["Path"].as_str().unwrap_or_default().to_string();
            let err = v["Error"]["Err"].as_str().map(str::to_string);
            (path, (v["Version"].clone(), v["Time"].clone(), err))
        })
        .collect()
}

/// agora in direct mode against the hg forge, with the go fetcher on for hg when `on`.
fn agora_config(dir: &Path, on: bool) -> AgoraConfig {
    assert_no_go_on_plain_path();
    let mut cfg = AgoraConfig::new(dir, "direct");
    let mut env = vec![
        ("AGORA_GOINSECURE", HG_HOST.to_string()),
        ("PATH", PATH_WITHOUT_GO.to_string()),
        ("AGORA_GO_BINARY", go_bin().display().to_string()),
    ];
    if on {
        env.push(("AGORA_GO_FETCHER_VCS", "hg".to_string()));
    }
    cfg.extra_env
        .extend(env.into_iter().map(|(k, v)| (k.to_string(), v)));
    cfg
}

/// Files left under the go fetcher's temporary directory.
fn go_tmp_leftovers(cfg: &AgoraConfig) -> Vec<PathBuf> {
    let dir = cfg.data_dir.join("tmp/go");
    fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn hg_modules_through_the_go_fetcher_match_the_go_command() {
    let _lock = forge_lock();
    let t = TestDir::new("go-fetcher");
    let repos = t.sub("repos");
    fs::create_dir_all(&repos).expect("create the repository dir");
    let corpus = build_corpus(&repos);
    let _forge = HgForge::start(t.path(), &repos);

    let cfg = agora_config(&t.sub("on"), true);
    let agora = Agora::start(&cfg);
    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    let via_go = GoEnv::via(t.path(), "agora", &agora);
    // The ground truth needs GOINSECURE for the hg host, not the git forge's.
    let insecure = [("GOINSECURE", HG_HOST)];
    let mut diffs = Vec::new();

    // go list -m -versions
    let (want, got) = both(
        || versions(&truth_go, &corpus.modules, &insecure),
        || versions(&via_go, &corpus.modules, &[]),
    );
    for module in &corpus.modules {
        let (Some(w), Some(g)) = (want.get(module), got.get(module)) else {
            panic!("no result for {module}: direct {want:?}, through agora {got:?}");
        };
        assert!(
            w.1.is_none() && !w.0.is_empty(),
            "ground truth: go list -m -versions {module}: {w:?}"
        );
        if w != g {
            diffs.push(format!(
                "go list -m -versions {module}: {g:?} through agora, {w:?} direct"
            ));
        }
    }
    eprintln!("go list -m -versions (direct): {want:?}");

    // go list -m -json M@latest (the tagged modules and the untagged one)
    let mut all = corpus.modules.clone();
    all.push(m("notags"));
    let (want, got) = both(
        || latest(&truth_go, &all, &insecure),
        || latest(&via_go, &all, &[]),
    );
    for module in &all {
        let (Some(w), Some(g)) = (want.get(module), got.get(module)) else {
            panic!("no result for {module}: direct {want:?}, through agora {got:?}");
        };
        assert!(
            w.2.is_none() && w.0.is_string(),
            "ground truth: {module}@latest: {w:?}"
        );
        if (&w.0, &w.1, &w.2) != (&g.0, &g.1, &g.2) {
            diffs.push(format!(
                "{module}@latest: {g:?} through agora, {w:?} direct"
            ));
        }
    }
    eprintln!("@latest (direct): {want:?}");

    // go mod download -json
    let (truth, got) = both(
        || {
            truth_go
                .mod_download_nosumdb_env(&corpus.specs, &insecure)
                .1
        },
        || via_go.mod_download_nosumdb(&corpus.specs),
    );
    for spec in &corpus.specs {
        let w = &truth[spec];
        assert!(
            w.ok(),
            "ground truth: go mod download {spec}: {:?}",
            w.error
        );
        diffs.extend(diff_download(spec, w, &got[spec]));
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s) between agora (go fetcher) and the go command in direct mode:\n  {}",
        diffs.len(),
        diffs.join("\n  ")
    );

    // A version that does not exist is a 404 (so a `,` in GOPROXY falls through), with a
    // one-line reason; nothing is stored for it.
    let target = format!("/{}/@v/v9.9.9.info", m("tags"));
    let resp = agora.get(&target);
    eprintln!("GET {target}: {}", resp.summary());
    assert_eq!(resp.status, 404, "GET {target}: {}", resp.summary());
    assert!(
        resp.text().contains("unknown revision") && !resp.text().trim().contains('\n'),
        "GET {target}: {}",
        resp.summary()
    );
    assert!(!athens_version_dir(&cfg.storage_root, &m("tags"), "v9.9.9").exists());

    // The stored versions are what the go command cached, and every temporary GOPATH is gone.
    let stored =
        fs::read(athens_version_dir(&cfg.storage_root, &m("tags"), "v1.0.0").join("source.zip"))
            .expect("stored source.zip");
    let direct_zip = fs::read(
        truth[&format!("{}@v1.0.0", m("tags"))]
            .zip
            .as_ref()
            .unwrap(),
    )
    .expect("the direct zip");
    assert!(
        stored == direct_zip,
        "the stored zip differs from the go command's"
    );
    // (They are removed on the blocking pool, just after the answer.)
    wait_until(Duration::from_secs(10), || {
        go_tmp_leftovers(&cfg).is_empty()
    });
    let left = go_tmp_leftovers(&cfg);
    assert!(left.is_empty(), "temporary GOPATHs left behind: {left:?}");
}

#[test]
fn hg_modules_without_the_go_fetcher_answer_unsupported() {
    let _lock = forge_lock();
    let t = TestDir::new("go-fetcher-off");
    let repos = t.sub("repos");
    fs::create_dir_all(&repos).expect("create the repository dir");
    let mut r = HgRepo::new(&repos, "off");
    r.write("go.mod", &format!("module {}\n\ngo 1.21\n", m("off")));
    r.commit("one");
    r.tag("v1.0.0");
    let _forge = HgForge::start(t.path(), &repos);

    let cfg = agora_config(&t.sub("off"), false);
    let agora = Agora::start(&cfg);
    for target in [
        format!("/{}/@v/list", m("off")),
        format!("/{}/@latest", m("off")),
        format!("/{}/@v/v1.0.0.info", m("off")),
        format!("/{}/@v/v1.0.0.zip", m("off")),
    ] {
        let resp = agora.get(&target);
        eprintln!("GET {target}: {}", resp.summary());
        let text = resp.text();
        assert_eq!(resp.status, 502, "GET {target}: {}", resp.summary());
        assert!(
            text.contains("hg repositories are not supported")
                && text.contains("upstream.go_fetcher_vcs")
                && !text.trim().contains('\n'),
            "GET {target}: {}",
            resp.summary()
        );
    }
    let spec = [format!("{}@v1.0.0", m("off"))];
    let got = GoEnv::via(t.path(), "agora", &agora).mod_download_nosumdb(&spec);
    assert!(
        got[&spec[0]]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("hg repositories are not supported")),
        "through agora without the fetcher: {:?}",
        got[&spec[0]].error
    );
    assert!(go_tmp_leftovers(&cfg).is_empty());
    assert!(files_under(&cfg.storage_root).is_empty());
}

/// `go list -m -e -json args…` like [`GoEnv::list_json_nosumdb`], with `env` added (the
/// ground truth reaches the forge itself, and needs GOINSECURE for it).
fn list_json(go: &GoEnv, args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let mut full = vec!["list", "-m", "-e", "-json"];
    full.extend_from_slice(args);
    let mut cmd = go.command_nosumdb(&full, &go.work);
    cmd.envs(env.iter().copied());
    let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    parse_json_stream(&stdout).unwrap_or_else(|e| {
        panic!(
            "[{}] go {full:?} printed unparsable JSON ({e}):\n{stdout}\n{}",
            go.name,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A Python helper server from tests/ that prints "ready" once it listens; killed on drop,
/// its stderr log printed.
struct Script {
    child: Child,
    log_path: PathBuf,
}

impl Script {
    fn start(dir: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Script {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(name);
        let log_path = dir.join(format!("{name}.log"));
        let log = fs::File::create(&log_path).expect("create the script log");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(args)
            .args(["--parent-pid", &std::process::id().to_string()])
            .envs(env.iter().copied())
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
        if first.trim() != "ready" {
            let status = child.wait();
            panic!(
                "{name} did not start ({status:?}; its ports need root):\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        Script { child, log_path }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("{} log:\n{}", self.log_path.display(), self.log());
    }
}

/// The lure's go-import host and the private proxy's host, with their loopback addresses.
const LURE_HOST: &str = "lure.gofetch.e2e.test";
const LURE_BIND: &str = "127.0.0.22";
const PRIVATE_HOST: &str = "private.gofetch.e2e.test";
const PRIVATE_BIND: &str = "127.0.0.23";

/// A go-import page on a host of its own ("lure") tells agora's discovery that the module
/// is an hg repository, so agora hands it to the go fetcher, but tells the go command
/// (which reads the page again, and can be recognised by its User-Agent) that the module
/// is served by a private module proxy on another host, one that agora's netrc has
/// credentials for. The go command in direct mode with that netrc follows the lure and
/// reads the private proxy; the go command agora runs must not get those credentials,
/// and agora must not serve what the proxy guards, whether or not the lure is declared
/// private (only the module path's own host's netrc lines ever reach the go command).
#[test]
fn the_go_fetcher_lends_no_credentials_to_a_lure() {
    let t = TestDir::new("go-fetcher-lure");
    ensure_hosts_line(LURE_BIND, LURE_HOST);
    ensure_hosts_line(PRIVATE_BIND, PRIVATE_HOST);
    let cert = t.path().join("private.pem");
    let key = t.path().join("private.key");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", &format!("/CN={PRIVATE_HOST}")])
        .args(["-addext", &format!("subjectAltName=DNS:{PRIVATE_HOST}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}): install Debian's openssl"));
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = format!("lure-{}", std::process::id());
    let auth = format!("e2e:{secret}");
    let cert_s = cert.display().to_string();
    let key_s = key.display().to_string();
    let forge = Script::start(
        t.path(),
        "lure_forge.py",
        &[
            "--lure-bind",
            LURE_BIND,
            "--lure-host",
            LURE_HOST,
            "--private-bind",
            PRIVATE_BIND,
            "--private-host",
            PRIVATE_HOST,
            "--cert",
            &cert_s,
            "--key",
            &key_s,
        ],
        &[("PRIVATE_PROXY_CREDENTIALS", auth.as_str())],
    );
    let netrc = t.path().join("netrc");
    fs::write(
        &netrc,
        format!("machine {PRIVATE_HOST} login e2e password {secret}\n"),
    )
    .expect("write the netrc");
    let lure = format!("{LURE_HOST}/lure");
    let oks = |log: &str| {
        log.lines()
            .filter(|l| l.contains("private-proxy: ok"))
            .count()
    };

    // The go command in direct mode, acting for a user who has these credentials,
    // follows the lure and lists what the private proxy guards: the test can fail.
    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    let mut cmd = truth_go.command_nosumdb(&["list", "-m", "-versions", &lure], &truth_go.work);
    cmd.env("GOINSECURE", LURE_HOST)
        .env("NETRC", &netrc)
        .env("SSL_CERT_FILE", &cert);
    let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{lure} v7.7.7"),
        "the go command with the netrc should read the private proxy through the lure: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = oks(&forge.log());
    assert!(
        before > 0,
        "the private proxy saw no credentials from the go command"
    );

    for private in [false, true] {
        let mut cfg = agora_config(&t.sub(&format!("agora-{private}")), true);
        cfg.extra_env.extend(
            [
                ("AGORA_GOINSECURE", LURE_HOST.to_string()),
                ("AGORA_NETRC_PATH", netrc.display().to_string()),
                // The go command agora runs could check the private proxy's certificate.
                ("SSL_CERT_FILE", cert.display().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
        );
        if private {
            cfg.extra_env
                .push(("AGORA_GOPRIVATE".to_string(), LURE_HOST.to_string()));
        }
        let agora = Agora::start(&cfg);
        for target in [
            format!("/{lure}/@v/list"),
            format!("/{lure}/@latest"),
            format!("/{lure}/@v/v7.7.7.info"),
        ] {
            let resp = agora.get(&target);
            eprintln!("GOPRIVATE={private}: GET {target}: {}", resp.summary());
            assert!(
                resp.status >= 400 && !resp.text().contains("v7.7.7\n"),
                "GOPRIVATE={private}: GET {target}: the lure read the private proxy: {}",
                resp.summary()
            );
            assert!(!resp.text().trim().contains('\n'), "{}", resp.summary());
        }
        let log = forge.log();
        assert!(
            log.contains("lure: GoCommand -> "),
            "the go fetcher never ran the go command on the lure:\n{log}"
        );
        assert_eq!(
            oks(&log),
            before,
            "GOPRIVATE={private}: the go command agora ran sent the netrc's credentials to \
             the private proxy:\n{log}"
        );
        assert!(files_under(&cfg.storage_root).is_empty());
        drop(agora);
    }
}

/// A server process the test runs (svnserve, fossil server), ready once `addr` accepts
/// connections; killed on drop.
struct Daemon {
    child: Child,
    what: String,
}

impl Daemon {
    fn start(mut cmd: Command, addr: &str, log: &Path) -> Daemon {
        let what = format!("{cmd:?}");
        let log = fs::File::create(log).expect("create the daemon log");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what} ({e}): install it (scripts/test.sh)"));
        spawn_watchdog(child.id());
        let up = wait_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(addr).is_ok()
        });
        if !up {
            let _ = child.kill();
            panic!("{what} did not listen on {addr}");
        }
        Daemon { child, what }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {}", self.what);
    }
}

/// Runs a VCS command in `dir`; panics unless it succeeds. Returns stdout.
fn run_in(dir: &Path, prog: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {prog} ({e}): scripts/test.sh installs it"));
    assert!(
        out.status.success(),
        "{prog} {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The go command in direct mode and through agora (go fetcher on for `vcs`) must agree on
/// `go list -m -versions`, `@latest` and `go mod download -json` for modules on `host`.
/// svn and fossil are allowed by GOVCS for private paths only, so `host` is GOPRIVATE for
/// both (as an operator must declare it); GOINSECURE lets both use plain http and svn://.
fn go_fetcher_matches_direct(
    t: &TestDir,
    vcs: &str,
    host: &str,
    modules: &[String],
    specs: &[String],
    truth_env: &[(&str, &str)],
) {
    let mut cfg = agora_config(&t.sub("agora"), false);
    cfg.extra_env.extend(
        [
            ("AGORA_GO_FETCHER_VCS", vcs),
            ("AGORA_GOINSECURE", host),
            ("AGORA_GOPRIVATE", host),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let agora = Agora::start(&cfg);
    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    let via_go = GoEnv::via(t.path(), "agora", &agora);
    let mut env = vec![("GOINSECURE", host), ("GOPRIVATE", host)];
    env.extend_from_slice(truth_env);
    let mut diffs = Vec::new();

    let started = Instant::now();
    let (want, got) = both(
        || versions(&truth_go, modules, &env),
        || versions(&via_go, modules, &[]),
    );
    for module in modules {
        let (Some(w), Some(g)) = (want.get(module), got.get(module)) else {
            panic!("no result for {module}: direct {want:?}, through agora {got:?}");
        };
        assert!(
            w.1.is_none(),
            "ground truth: go list -m -versions {module}: {w:?}"
        );
        if w != g {
            diffs.push(format!(
                "go list -m -versions {module}: {g:?} through agora, {w:?} direct"
            ));
        }
    }
    eprintln!("[{vcs}] go list -m -versions (direct): {want:?}");

    let (want, got) = both(
        || latest(&truth_go, modules, &env),
        || latest(&via_go, modules, &[]),
    );
    for module in modules {
        let (Some(w), Some(g)) = (want.get(module), got.get(module)) else {
            panic!("no result for {module}: direct {want:?}, through agora {got:?}");
        };
        assert!(
            w.2.is_none() && w.0.is_string(),
            "ground truth: {module}@latest: {w:?}"
        );
        if (&w.0, &w.1, &w.2) != (&g.0, &g.1, &g.2) {
            diffs.push(format!(
                "{module}@latest: {g:?} through agora, {w:?} direct"
            ));
        }
    }
    eprintln!("[{vcs}] @latest (direct): {want:?}");

    let (truth, got) = both(
        || truth_go.mod_download_nosumdb_env(specs, &env).1,
        || via_go.mod_download_nosumdb(specs),
    );
    for spec in specs {
        let w = &truth[spec];
        assert!(
            w.ok(),
            "ground truth: go mod download {spec}: {:?}",
            w.error
        );
        eprintln!("[{vcs}] {spec}: {:?} {:?}", w.version, w.sum);
        diffs.extend(diff_download(spec, w, &got[spec]));
    }
    eprintln!("[{vcs}] compared in {:?}", started.elapsed());
    assert!(
        diffs.is_empty(),
        "{} difference(s) between agora (go fetcher, {vcs}) and the go command in direct \
         mode:\n  {}",
        diffs.len(),
        diffs.join("\n  ")
    );
    wait_until(Duration::from_secs(10), || {
        go_tmp_leftovers(&cfg).is_empty()
    });
    assert!(go_tmp_leftovers(&cfg).is_empty(), "temporary GOPATHs left");
}

const SVN_HOST: &str = "svn.e2e.test";
const SVN_BIND: &str = "127.0.0.24";

/// Subversion, served by `svnserve` on svn://127.0.0.24:3690, with go-import pages
/// (`<host>/<name> svn svn://127.0.0.24/<name>/trunk`) on 127.0.0.24:80. The go command
/// (`codehost/vcs.go`) lists tags with `svn list <repo>/tags` but resolves revisions only
/// (`svn log <url>@<rev>`), so go1.27 lists no versions and serves revision
/// pseudo-versions: agora must give the same answers.
#[test]
fn svn_modules_through_the_go_fetcher_match_the_go_command() {
    let t = TestDir::new("go-fetcher-svn");
    ensure_hosts_line(SVN_BIND, SVN_HOST);
    let repos = t.sub("repos");
    let work = t.sub("work");
    fs::create_dir_all(&repos).expect("create the repository dir");
    fs::create_dir_all(&work).expect("create the work dir");
    let config = t.path().join("svn-config");
    let cfg_s = config.display().to_string();
    let svn = |dir: &Path, args: &[&str]| {
        let mut full = vec!["--config-dir", cfg_s.as_str(), "--non-interactive"];
        full.extend_from_slice(args);
        run_in(dir, "svn", &full, &[])
    };
    let m = |name: &str| format!("{SVN_HOST}/{name}");
    let mut specs = Vec::new();
    for (name, gomod) in [("rev", true), ("nogomod", false)] {
        run_in(
            t.path(),
            "svnadmin",
            &["create", &repos.join(name).display().to_string()],
            &[],
        );
        let url = format!("file://{}/{name}", repos.display());
        svn(
            t.path(),
            &[
                "mkdir",
                "-q",
                "-m",
                "layout",
                &format!("{url}/trunk"),
                &format!("{url}/tags"),
            ],
        );
        let co = work.join(name);
        svn(
            t.path(),
            &[
                "checkout",
                "-q",
                &format!("{url}/trunk"),
                &co.display().to_string(),
            ],
        );
        let mut files = vec!["a.go"];
        fs::write(co.join("a.go"), format!("package {name}\n")).expect("write a.go");
        if gomod {
            fs::write(
                co.join("go.mod"),
                format!("module {}\n\ngo 1.21\n", m(name)),
            )
            .expect("write go.mod");
            files.push("go.mod");
        }
        let mut add = vec!["add", "-q"];
        add.extend(files);
        svn(&co, &add);
        svn(&co, &["commit", "-q", "-m", "one"]);
        // A tag, as the go command looks for them (listed, never resolved).
        svn(
            &co,
            &[
                "copy",
                "-q",
                "-m",
                "tag",
                &format!("{url}/trunk"),
                &format!("{url}/tags/v1.0.0"),
            ],
        );
        fs::write(
            co.join("a.go"),
            format!("package {name}\n\nconst Two = 2\n"),
        )
        .expect("write a.go");
        svn(&co, &["commit", "-q", "-m", "two"]);
        specs.push(format!("{}@latest", m(name)));
    }
    // Revision 2 of "rev" (its first commit), by the go command's 12-digit name.
    specs.push(format!("{}@000000000002", m("rev")));

    let mut serve = Command::new("svnserve");
    serve
        .args([
            "-d",
            "--foreground",
            "--listen-host",
            SVN_BIND,
            "--listen-port",
            "3690",
            "-r",
        ])
        .arg(&repos);
    let _svnserve = Daemon::start(
        serve,
        &format!("{SVN_BIND}:3690"),
        &t.path().join("svnserve.log"),
    );
    let _pages = Script::start(
        t.path(),
        "vcs_pages.py",
        &[
            "--bind",
            SVN_BIND,
            "--host",
            SVN_HOST,
            "--vcs",
            "svn",
            "--url",
            &format!("svn://{SVN_BIND}/{{name}}/trunk"),
        ],
        &[],
    );
    let modules = vec![m("rev"), m("nogomod")];
    go_fetcher_matches_direct(&t, "svn", SVN_HOST, &modules, &specs, &[]);
}

const FOSSIL_HOST: &str = "fossil.e2e.test";
const FOSSIL_BIND: &str = "127.0.0.25";

/// Fossil, served by `fossil server --repolist` on a free 127.0.0.1 port, with go-import
/// pages (`<host>/<name> fossil http://127.0.0.1:<port>/<name>`) on 127.0.0.25:80. go1.27
/// lists no fossil tags (`tagRE` is `XXXTODO` in `codehost/vcs.go`) but resolves them, and
/// hash prefixes, to versions: agora must give the same answers. Neither agora nor the
/// ground truth has USER set here: `fossil clone` needs a user name (FOSSIL_USER).
#[test]
fn fossil_modules_through_the_go_fetcher_match_the_go_command() {
    let t = TestDir::new("go-fetcher-fossil");
    ensure_hosts_line(FOSSIL_BIND, FOSSIL_HOST);
    let repos = t.sub("repos");
    let home = t.sub("fossil-home");
    fs::create_dir_all(&repos).expect("create the repository dir");
    fs::create_dir_all(&home).expect("create the fossil home");
    let home_s = home.display().to_string();
    let env = [("FOSSIL_USER", "e2e"), ("FOSSIL_HOME", home_s.as_str())];
    let fossil = |dir: &Path, args: &[&str]| run_in(dir, "fossil", args, &env);
    let m = |name: &str| format!("{FOSSIL_HOST}/{name}");
    let mut specs = Vec::new();
    let mut modules = Vec::new();
    for (name, gomod) in [("tagged", true), ("nogomod", false)] {
        let repo = repos.join(format!("{name}.fossil"));
        let co = t.sub(&format!("co-{name}"));
        fs::create_dir_all(&co).expect("create the checkout dir");
        let repo_s = repo.display().to_string();
        fossil(
            &co,
            &["init", "--date-override", "2024-07-01T00:00:00Z", &repo_s],
        );
        fossil(&co, &["open", "--keep", &repo_s]);
        fs::write(co.join("a.go"), format!("package {name}\n")).expect("write a.go");
        fossil(&co, &["add", "a.go"]);
        if gomod {
            fs::write(
                co.join("go.mod"),
                format!("module {}\n\ngo 1.21\n", m(name)),
            )
            .expect("write go.mod");
            fossil(&co, &["add", "go.mod"]);
        }
        let commit = |when: &str, msg: &str| {
            fossil(
                &co,
                &[
                    "commit",
                    "--no-prompt",
                    "--nosign",
                    "--date-override",
                    when,
                    "--comment",
                    msg,
                ],
            );
            let info = fossil(&co, &["info"]);
            info.lines()
                .find_map(|l| l.strip_prefix("checkout:"))
                .and_then(|l| l.split_whitespace().next())
                .map(str::to_string)
                .unwrap_or_else(|| panic!("no checkout hash in fossil info:\n{info}"))
        };
        let first = commit("2024-07-01T00:01:00Z", "one");
        fossil(
            &co,
            &[
                "tag",
                "add",
                "--date-override",
                "2024-07-01T00:01:30Z",
                "v1.0.0",
                "trunk",
            ],
        );
        fs::write(
            co.join("a.go"),
            format!("package {name}\n\nconst Two = 2\n"),
        )
        .expect("write a.go");
        let second = commit("2024-07-01T00:02:00Z", "two");
        fossil(&co, &["close", "--force"]);
        modules.push(m(name));
        specs.push(format!("{}@v1.0.0", m(name)));
        specs.push(format!("{}@{}", m(name), &first[..12]));
        // trunk's head (what @latest is, compared above). Not `@latest` itself here: once
        // v1.0.0 is stored, agora lists it and the go command through agora takes it as
        // latest, while direct fossil lists no tags.
        specs.push(format!("{}@{}", m(name), &second[..12]));
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut serve = Command::new("fossil");
    serve
        .args([
            "server",
            "--localhost",
            "--repolist",
            "--port",
            &port.to_string(),
        ])
        .arg(&repos)
        .envs(env);
    let _server = Daemon::start(
        serve,
        &format!("127.0.0.1:{port}"),
        &t.path().join("fossil.log"),
    );
    // fossil server records a repository's base URL (a row in its config table) on the
    // first request it serves for it, and two first requests at once (the ground truth and
    // agora clone the same repository in parallel below) can both insert it: one of them
    // fails with "UNIQUE constraint failed" and the client sees "clone aborted". Have it
    // recorded, under the URL the go-import pages give, before they start.
    let server: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    for name in ["tagged", "nogomod"] {
        let r = http_get(server, &format!("/{name}/")).expect("first request to fossil server");
        assert!(r.status < 500, "fossil server on /{name}/: {}", r.status);
    }
    let _pages = Script::start(
        t.path(),
        "vcs_pages.py",
        &[
            "--bind",
            FOSSIL_BIND,
            "--host",
            FOSSIL_HOST,
            "--vcs",
            "fossil",
            "--url",
            &format!("http://127.0.0.1:{port}/{{name}}"),
        ],
        &[],
    );
    // The ground truth clones both repositories at once; two fossil processes creating a
    // fresh ~/.fossil race ("table global_config already exists"), so it uses the home the
    // fossil commands above initialised. agora's go commands each have a HOME of their own.
    go_fetcher_matches_direct(
        &t,
        "fossil",
        FOSSIL_HOST,
        &modules,
        &specs,
        &[("FOSSIL_USER", "e2e"), ("FOSSIL_HOME", home_s.as_str())],
    );
}
