//! A private repository reachable only over ssh: a real sshd (Debian's openssh-server),
//! started by the test on 127.0.0.1 on a free port with its own host key and
//! authorized_keys, runs `git-upload-pack` for key-authenticated logins. The module paths
//! live on the loopback forge (`git.e2e.test`, forge.py), whose `go-import` pages either
//! name the `ssh://` URL or name the forge's own http URL, which refuses the repository
//! and which the operator's git configuration rewrites to ssh (`url.<ssh>.insteadOf`, the
//! usual setup for private GitHub modules).
//!
//! The ssh configuration (key, known hosts) is given to agora's process environment only
//! (`GIT_CONFIG_GLOBAL` with `core.sshCommand`, or `GIT_SSH_COMMAND`), and to the go command
//! in direct mode, the ground truth, the same way: both must agree. Without a usable key
//! agora answers at once with a one-line reason and stores nothing, also when it runs on a
//! terminal, where ssh would otherwise stop to ask about an unknown host key or a passphrase.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agora_testkit::*;
use serde_json::Value;

const SSHD: &str = "/usr/sbin/sshd";
const SSHD_HINT: &str = "install openssh-server and openssh-client (scripts/test.sh does)";

/// Runs a program to completion; panics with its output unless it succeeds.
fn run_tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): {SSHD_HINT}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A key pair `<dir>/<name>` (and `.pub`), with an optional passphrase.
fn keygen(dir: &Path, name: &str, passphrase: &str) -> PathBuf {
    let key = dir.join(name);
    run_tool(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            name,
            "-f",
            &key.display().to_string(),
        ],
    );
    key
}

fn public_key(key: &Path) -> String {
    fs::read_to_string(key.with_extension("pub")).expect("read a public key")
}

/// sshd in the foreground (`-D -e`), logging to a file, over its own configuration in a
/// temp dir; killed on drop.
struct Sshd {
    child: Option<Child>,
    port: u16,
    /// The login (the user running the tests: sshd can only log in real users).
    user: String,
    /// A key in authorized_keys, without a passphrase.
    key: PathBuf,
    /// The host key for 127.0.0.1 and the names given, at sshd's port.
    known_hosts: PathBuf,
    log_path: PathBuf,
}

impl Sshd {
    /// On 127.0.0.1, on a free port.
    fn start(dir: &Path, authorized: &[&Path]) -> Sshd {
        Sshd::start_at(dir, authorized, "127.0.0.1", None, &[])
    }

    /// On `bind`, on `port` or a free one; known_hosts also names `hosts`.
    fn start_at(
        dir: &Path,
        authorized: &[&Path],
        bind: &str,
        port: Option<u16>,
        hosts: &[&str],
    ) -> Sshd {
        assert!(
            Path::new(SSHD).is_file(),
            "{SSHD} is missing: this test runs a real sshd; {SSHD_HINT}"
        );
        let conf = dir.join("sshd");
        fs::create_dir_all(&conf).expect("create the sshd dir");
        let host_key = keygen(&conf, "host_key", "");
        let key = keygen(&conf, "client_key", "");
        let mut keys = public_key(&key);
        for k in authorized {
            keys.push_str(&public_key(k));
        }
        let authorized_keys = conf.join("authorized_keys");
        fs::write(&authorized_keys, keys).expect("write authorized_keys");
        // As root sshd insists on its privilege separation directory, which Debian's
        // package leaves to the init system to create.
        if run_tool("id", &["-u"]) == "0" {
            fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        let user = run_tool("id", &["-un"]);
        let log_path = conf.join("sshd.log");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let port = port.unwrap_or_else(free_port);
            let config = conf.join("sshd_config");
            fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress {bind}\nHostKey {host}\n\
                     AuthorizedKeysFile {keys}\nPidFile {pid}\n\
                     # The temp dirs are not laid out as sshd wants a home.\nStrictModes no\n\
                     UsePAM no\nPubkeyAuthentication yes\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
                     LogLevel VERBOSE\n",
                    host = host_key.display(),
                    keys = authorized_keys.display(),
                    pid = conf.join("sshd.pid").display(),
                ),
            )
            .expect("write sshd_config");
            let log = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .expect("open the sshd log");
            let mut child = Command::new(SSHD)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {SSHD} ({e}): {SSHD_HINT}"));
            spawn_watchdog(child.id());
            let up = wait_until(Duration::from_secs(5), || {
                matches!(child.try_wait(), Ok(Some(_))) || TcpStream::connect((bind, port)).is_ok()
            });
            if up && matches!(child.try_wait(), Ok(None)) {
                let known_hosts = conf.join("known_hosts");
                let host =
                    fs::read_to_string(host_key.with_extension("pub")).expect("read the host key");
                let lines: String = ["127.0.0.1"]
                    .iter()
                    .chain(hosts)
                    .map(|h| match port {
                        22 => format!("{h} {host}"),
                        _ => format!("[{h}]:{port} {host}"),
                    })
                    .collect();
                fs::write(&known_hosts, lines).expect("write known_hosts");
                return Sshd {
                    child: Some(child),
                    port,
                    user,
                    key,
                    known_hosts,
                    log_path,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            // Another process may have taken the port between free_port() and sshd.
            if !log.contains("Address already in use") || Instant::now() > deadline {
                panic!("sshd did not start on {bind}:{port}:\n{log}");
            }
        }
    }

    /// The ssh URL of a repository path on this machine.
    fn url(&self, host: &str, repo: &Path) -> String {
        format!("ssh://{}@{host}:{}{}", self.user, self.port, repo.display())
    }

    /// The ssh command an operator would configure: this key, these known hosts, never
    /// a prompt.
    fn ssh_command(&self, key: &Path) -> String {
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} \
             -o StrictHostKeyChecking=yes -o BatchMode=yes",
            key.display(),
            self.known_hosts.display()
        )
    }

    /// Public-key logins sshd accepted so far.
    fn accepted(&self) -> usize {
        fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("Accepted publickey"))
            .count()
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The go command (through `GoEnv::command_nosumdb`) with more environment: stdout JSON.
fn go_list(go: &GoEnv, args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
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

/// Per module: `go list -m -versions` and `go list -m M@latest` (Version, Time, Error).
fn versions_and_latest(
    go: &GoEnv,
    modules: &[String],
    env: &[(&str, &str)],
) -> BTreeMap<String, (Value, Value, Value, Value)> {
    let mut out = BTreeMap::new();
    let mut args = vec!["-versions"];
    args.extend(modules.iter().map(String::as_str));
    for v in go_list(go, &args, env) {
        let path = v["Path"].as_str().unwrap_or_default().to_owned();
        out.insert(
            path,
            (
                v["Versions"].clone(),
                v["Error"].clone(),
                Value::Null,
                Value::Null,
            ),
        );
    }
    let queries: Vec<String> = modules.iter().map(|m| format!("{m}@latest")).collect();
    let args: Vec<&str> = queries.iter().map(String::as_str).collect();
    for v in go_list(go, &args, env) {
        let path = v["Path"].as_str().unwrap_or_default().to_owned();
        let entry = out
            .entry(path)
            .or_insert((Value::Null, Value::Null, Value::Null, Value::Null));
        entry.2 = serde_json::json!([v["Version"], v["Time"]]);
        entry.3 = v["Error"].clone();
    }
    out
}

fn read(p: &Option<PathBuf>) -> Option<Vec<u8>> {
    p.as_ref().and_then(|p| fs::read(p).ok())
}

/// Differences between a direct download and one through agora: Version, Sum, GoModSum,
/// the .mod and .info bytes.
fn diff(spec: &str, truth: &Download, got: &Download) -> Vec<String> {
    if let Some(e) = &got.error {
        return vec![format!("{spec}: failed through agora: {}", e.trim())];
    }
    let mut out = Vec::new();
    for (name, a, b) in [
        (
            "Version",
            format!("{:?}", got.version),
            format!("{:?}", truth.version),
        ),
        ("Sum", format!("{:?}", got.sum), format!("{:?}", truth.sum)),
        (
            "GoModSum",
            format!("{:?}", got.gomod_sum),
            format!("{:?}", truth.gomod_sum),
        ),
    ] {
        if a != b {
            out.push(format!("{spec}: {name} {a} through agora, {b} direct"));
        }
    }
    if read(&got.gomod) != read(&truth.gomod) {
        out.push(format!("{spec}: the .mod bytes differ"));
    }
    if read(&got.info) != read(&truth.info) {
        out.push(format!("{spec}: the .info bytes differ"));
    }
    out
}

/// A git config file for the operator (`GIT_CONFIG_GLOBAL`).
fn write_git_config(path: &Path, text: &str) -> String {
    fs::write(path, text).expect("write a git config");
    path.display().to_string()
}

/// Where [`publish_over_ssh`] puts `<name>.git`.
fn ssh_repo_path(t: &TestDir, name: &str) -> PathBuf {
    t.path().join("ssh-repos").join(format!("{name}.git"))
}

/// Bare repositories served only over ssh, [`ssh_repo_path`], each with v1.0.0, v1.1.0 and
/// a later untagged commit, for the given (name, module path); returns (module,
/// repository, untagged commit) per name.
fn publish_over_ssh(t: &TestDir, modules: &[(&str, String)]) -> Vec<(String, PathBuf, String)> {
    modules
        .iter()
        .map(|(name, module)| {
            let w = GitWork::new(&t.path().join("corpus"), name);
            w.write("go.mod", &format!("module {module}\n\ngo 1.21\n"))
                .write("p.go", "package p\n\nconst V = 1\n");
            w.commit("v1.0.0");
            w.tag("v1.0.0");
            w.write("p.go", "package p\n\nconst V = 2\n");
            w.commit("v1.1.0");
            w.tag("v1.1.0");
            w.write("more.go", "package p\n\nconst More = true\n");
            let untagged = w.commit("untagged");
            let bare = ssh_repo_path(t, name);
            let parent = bare.parent().expect("a parent");
            fs::create_dir_all(parent).expect("create the ssh repositories' dir");
            git_in(
                parent,
                &[
                    "clone",
                    "-q",
                    "--bare",
                    &w.dir.display().to_string(),
                    &bare.display().to_string(),
                ],
                &[],
            );
            (module.clone(), bare, untagged)
        })
        .collect()
}

/// Module paths on the forge for these repository names.
fn on_forge(names: &[&'static str]) -> Vec<(&'static str, String)> {
    names
        .iter()
        .map(|n| (*n, format!("{GIT_FORGE_HOST}/{n}")))
        .collect()
}

/// agora and the go command in direct mode, given the same ssh configuration through
/// `GIT_CONFIG_GLOBAL` (`core.sshCommand`, and `insteadOf` for the module whose page names
/// the forge's http URL), agree on downloads, version lists and `@latest`; a second agora
/// given the key through `GIT_SSH_COMMAND` serves the same bytes. No git request for the
/// repositories ever reaches the forge's http side.
#[test]
fn a_repository_only_reachable_over_ssh_is_served_with_the_operators_ssh_config() {
    let _git = git_forge_lock();
    let started = Instant::now();
    let t = TestDir::new("ssh");
    let sshd = Sshd::start(t.path(), &[]);
    let forge = GitForge::start(t.path());
    let published = publish_over_ssh(&t, &on_forge(&["sshonly", "rewritten"]));
    let (sshonly, sshonly_repo, _) = &published[0];
    let (rewritten, rewritten_repo, _) = &published[1];

    // sshonly's page names the ssh URL; rewritten's names http://git.e2e.test/rewritten.git,
    // where the forge has no repository (an empty directory: only the page is served).
    let page_dir = forge.repos.join("sshonly.git");
    fs::create_dir_all(&page_dir).unwrap();
    fs::write(
        page_dir.join("go-import-repo"),
        sshd.url("127.0.0.1", sshonly_repo),
    )
    .unwrap();
    fs::create_dir_all(forge.repos.join("rewritten.git")).unwrap();
    let http_url = format!("http://{GIT_FORGE_HOST}/rewritten.git");
    let refused = Command::new("git")
        .args(["ls-remote", &http_url])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run git");
    assert!(
        !refused.status.success(),
        "the forge serves {http_url} over http: {}",
        String::from_utf8_lossy(&refused.stdout)
    );
    // That probe's request is the only git request the forge may see.
    let probed = forge.git_requests("rewritten");
    assert_eq!(probed.len(), 1, "{probed:?}");

    let conf = t.path().join("operator");
    fs::create_dir_all(&conf).unwrap();
    let insteadof = format!(
        "[url \"{}\"]\n\tinsteadOf = {http_url}\n",
        sshd.url("127.0.0.1", rewritten_repo)
    );
    let gitconfig = write_git_config(
        &conf.join("gitconfig"),
        &format!(
            "[core]\n\tsshCommand = {}\n{insteadof}",
            sshd.ssh_command(&sshd.key)
        ),
    );
    let env = [("GIT_CONFIG_GLOBAL", gitconfig.as_str())];

    let modules = vec![sshonly.clone(), rewritten.clone()];
    let mut specs = Vec::new();
    for (module, _, untagged) in &published {
        for q in ["v1.0.0", "v1.1.0", &untagged[..12], "latest"] {
            specs.push(format!("{module}@{q}"));
        }
    }

    // The go command in direct mode with the operator's configuration: the truth.
    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    let (run, truth) = truth_go.mod_download_nosumdb_env(&specs, &env);
    for spec in &specs {
        assert!(
            truth[spec].ok(),
            "the go command over ssh failed for {spec}: {}\n{}\nsshd log:\n{}",
            truth[spec].error_line(),
            run.stderr,
            sshd.log()
        );
    }
    let truth_lists = versions_and_latest(&truth_go, &modules, &env);
    let before_agora = sshd.accepted();
    assert!(before_agora > 0, "sshd accepted no key:\n{}", sshd.log());

    // agora with the same configuration in its environment only; its go client has none.
    let dir = t.path().join("agora");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("GIT_CONFIG_GLOBAL".to_owned(), gitconfig.clone()));
    let agora = Agora::start(&cfg);
    let via_go = GoEnv::via(t.path(), "agora", &agora);
    let (run, got) = via_go.mod_download_nosumdb_env(&specs, &[]);
    let diffs: Vec<String> = specs
        .iter()
        .flat_map(|spec| diff(spec, &truth[spec], &got[spec]))
        .collect();
    assert!(
        diffs.is_empty(),
        "through agora vs the go command in direct mode:\n  {}\n{}\nagora log:\n{}",
        diffs.join("\n  "),
        run.stderr,
        agora.log_tail()
    );
    let got_lists = versions_and_latest(&via_go, &modules, &[]);
    assert_eq!(
        got_lists, truth_lists,
        "go list -m -versions / @latest through agora (left) vs direct (right)"
    );
    for module in &modules {
        let (versions, err, latest, _) = &got_lists[module];
        assert_eq!(
            versions,
            &serde_json::json!(["v1.0.0", "v1.1.0"]),
            "{module}: {err}"
        );
        assert_eq!(latest[0], "v1.1.0", "{module}@latest");
    }
    assert!(
        sshd.accepted() > before_agora,
        "agora's fetches did not log in over ssh:\n{}",
        sshd.log()
    );
    assert!(
        files_under(&cfg.home).is_empty(),
        "agora wrote into its HOME: {:?}",
        files_under(&cfg.home)
    );

    // The key through GIT_SSH_COMMAND instead (and only insteadOf in the git config): the
    // same answers, byte for byte, from a fresh mirror.
    let only_insteadof = write_git_config(&conf.join("gitconfig-insteadof"), &insteadof);
    let dir = t.path().join("agora-env");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg2 = direct_agora_config(&dir);
    cfg2.extra_env
        .push(("GIT_CONFIG_GLOBAL".to_owned(), only_insteadof));
    cfg2.extra_env
        .push(("GIT_SSH_COMMAND".to_owned(), sshd.ssh_command(&sshd.key)));
    let agora2 = Agora::start(&cfg2);
    for target in [
        format!("/{rewritten}/@v/list"),
        format!("/{rewritten}/@latest"),
        format!("/{rewritten}/@v/v1.0.0.info"),
        format!("/{rewritten}/@v/v1.0.0.mod"),
        format!("/{rewritten}/@v/v1.0.0.zip"),
    ] {
        let (a, b) = (agora.get(&target), agora2.get(&target));
        assert_eq!(b.status, 200, "GIT_SSH_COMMAND: {target}: {}", b.summary());
        assert!(
            a.status == 200 && a.body == b.body,
            "{target}: core.sshCommand answered {}, GIT_SSH_COMMAND {}",
            a.summary(),
            b.summary()
        );
    }

    // Only ssh carried the repositories: the forge served pages, no git requests.
    assert_eq!(
        forge.git_requests("sshonly"),
        Vec::<String>::new(),
        "git requests for sshonly reached the http forge"
    );
    assert_eq!(
        forge.git_requests("rewritten"),
        probed,
        "git requests for rewritten reached the http forge"
    );
    eprintln!("ssh e2e (served): {:?}", started.elapsed());
}

/// The GET targets for a module that cannot be fetched.
fn targets(module: &str) -> Vec<String> {
    vec![
        format!("/{module}/@v/list"),
        format!("/{module}/@latest"),
        format!("/{module}/@v/v1.0.0.info"),
        format!("/{module}/@v/v1.0.0.zip"),
    ]
}

/// Asserts a prompt failure: a 4xx/5xx within `limit`, one line naming the module and
/// containing `why`.
fn assert_fails_fast(agora: &Agora, target: &str, module: &str, why: &str, limit: Duration) {
    let start = Instant::now();
    let resp = agora.get(target);
    let took = start.elapsed();
    let body = resp.text();
    eprintln!("GET {target}: {} in {took:?}: {}", resp.status, body.trim());
    assert!(
        (400..600).contains(&resp.status) && resp.status != 504,
        "{target}: {}",
        resp.summary()
    );
    assert!(took < limit, "{target}: answered after {took:?}");
    assert_eq!(
        body.trim_end().lines().count(),
        1,
        "{target}: not a one-line reason: {body:?}"
    );
    assert!(
        body.contains(module) && body.contains(why),
        "{target}: {body:?} should name {module} and say {why:?}"
    );
}

/// The controlling terminal (`tty_nr`, /proc/<pid>/stat field 7) of a process; 0 for none.
fn tty_nr(pid: u32) -> i64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/<pid>/stat");
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    rest.split(' ')
        .nth(4)
        .and_then(|f| f.parse().ok())
        .expect("tty_nr")
}

/// Starts agora with a pseudo-terminal as its controlling terminal (tests/on_a_tty.py), as
/// from an operator's shell; checks that it has one.
fn start_on_a_tty(cfg: &mut AgoraConfig) -> Agora {
    let python = run_tool("sh", &["-c", "command -v python3"]);
    cfg.launcher = vec![
        python,
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/on_a_tty.py")
            .display()
            .to_string(),
    ];
    let agora = Agora::start(cfg);
    let launcher = agora.pid().expect("the launcher runs");
    let agora_pid = fs::read_to_string(format!("/proc/{launcher}/task/{launcher}/children"))
        .expect("read the launcher's children")
        .split_whitespace()
        .next()
        .and_then(|p| p.parse::<u32>().ok())
        .expect("agora under the launcher");
    assert_ne!(tty_nr(agora_pid), 0, "agora has no controlling terminal");
    agora
}

/// Without a key sshd accepts, agora answers every endpoint at once with ssh's reason on
/// one line and stores nothing. Run on a terminal, with an ssh configuration that would
/// prompt (no BatchMode: a passphrase-protected key, a host missing from known_hosts),
/// it still answers at once instead of waiting on the terminal until the timeout.
#[test]
fn ssh_failures_answer_at_once_with_a_reason_and_store_nothing() {
    let _git = git_forge_lock();
    let started = Instant::now();
    let t = TestDir::new("ssh-fail");
    let keys = t.path().join("keys");
    fs::create_dir_all(&keys).unwrap();
    let stranger = keygen(&keys, "stranger", "");
    let locked = keygen(&keys, "locked", "e2e-passphrase");
    let sshd = Sshd::start(t.path(), &[&locked]);
    let forge = GitForge::start(t.path());
    let published = publish_over_ssh(&t, &on_forge(&["denied", "unknownhost"]));
    let (denied, denied_repo, _) = &published[0];
    let (unknownhost, unknownhost_repo, _) = &published[1];
    let page = |name: &str, url: String| {
        let d = forge.repos.join(format!("{name}.git"));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("go-import-repo"), url).unwrap();
    };
    page("denied", sshd.url("127.0.0.1", denied_repo));
    // known_hosts has 127.0.0.1's entry only, so localhost is an unknown host.
    page("unknownhost", sshd.url("localhost", unknownhost_repo));
    let limit = Duration::from_secs(10);

    // A key sshd does not know, in the operator's usual batch configuration.
    let dir = t.path().join("agora-stranger");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("GIT_SSH_COMMAND".to_owned(), sshd.ssh_command(&stranger)));
    let agora = Agora::start(&cfg);
    for target in targets(denied) {
        assert_fails_fast(&agora, &target, denied, "Permission denied", limit);
    }
    assert!(
        files_under(&cfg.storage_root).is_empty(),
        "stored without access: {:?}",
        files_under(&cfg.storage_root)
    );
    assert_eq!(sshd.accepted(), 0, "{}", sshd.log());
    drop(agora);

    // On a terminal, with ssh free to prompt. upstream.timeout is short so that a
    // regression fails as a 504 instead of holding the suite for five minutes.
    let dir = t.path().join("agora-tty");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("AGORA_TIMEOUT".to_owned(), "30".to_owned()));
    cfg.extra_env.push((
        "GIT_SSH_COMMAND".to_owned(),
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={}",
            locked.display(),
            sshd.known_hosts.display()
        ),
    ));
    let agora = start_on_a_tty(&mut cfg);
    for target in targets(denied) {
        assert_fails_fast(&agora, &target, denied, "Permission denied", limit);
    }
    for target in targets(unknownhost) {
        assert_fails_fast(
            &agora,
            &target,
            unknownhost,
            "Host key verification failed",
            limit,
        );
    }
    assert!(
        files_under(&cfg.storage_root).is_empty(),
        "stored without access: {:?}",
        files_under(&cfg.storage_root)
    );
    assert_eq!(sshd.accepted(), 0, "{}", sshd.log());
    eprintln!("ssh e2e (failures): {:?}", started.elapsed());
}

/// The host of VCS-qualified module paths served by an sshd on port 22 (a line the test
/// adds to /etc/hosts), and its loopback address.
const SSHQ_HOST: &str = "sshq.e2e.test";
const SSHQ_BIND: &str = "127.0.0.19";

/// Adds `<addr> <host>` to /etc/hosts unless `host` is mapped there; panics when it cannot
/// or when `host` is mapped elsewhere (this test never skips).
fn ensure_host(host: &str, addr: &str) {
    let hosts = fs::read_to_string("/etc/hosts")
        .unwrap_or_else(|e| panic!("cannot read /etc/hosts to map {host}: {e}"));
    for l in hosts.lines() {
        let f: Vec<&str> = l
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if f.len() > 1 && f[1..].contains(&host) {
            assert_eq!(
                f[0], addr,
                "/etc/hosts maps {host} elsewhere; this test needs {addr}"
            );
            return;
        }
    }
    let sep = if hosts.ends_with('\n') || hosts.is_empty() {
        ""
    } else {
        "\n"
    };
    let line = format!("{sep}{addr} {host}\n");
    fs::OpenOptions::new()
        .append(true)
        .open("/etc/hosts")
        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()))
        .unwrap_or_else(|e| panic!("cannot add {line:?} to /etc/hosts ({e}): run as root"));
}

/// A VCS-qualified path (`sshq.e2e.test/<dir>/q.git`) has no go-import page: agora, like
/// the go command, finds its scheme by pinging (`https`, then `git+ssh`), and only sshd on
/// port 22 answers. agora with `GIT_SSH_COMMAND` in its environment and the go command in
/// direct mode with the same agree. On a terminal, with no ssh configuration, the ping's
/// ssh cannot ask about the unknown host key: the answer is at once a one-line 502.
#[test]
fn a_vcs_qualified_path_is_found_over_ssh_by_pinging() {
    let started = Instant::now();
    let t = TestDir::new("sshq");
    ensure_host(SSHQ_HOST, SSHQ_BIND);
    let sshd = Sshd::start_at(t.path(), &[], SSHQ_BIND, Some(22), &[SSHQ_HOST]);
    let module = format!("{SSHQ_HOST}{}", ssh_repo_path(&t, "q").display());
    let published = publish_over_ssh(&t, &[("q", module.clone())]);
    let untagged = &published[0].2;
    let specs: Vec<String> = ["v1.0.0", &untagged[..12], "latest"]
        .iter()
        .map(|q| format!("{module}@{q}"))
        .collect();
    let ssh_command = sshd.ssh_command(&sshd.key);
    let env = [("GIT_SSH_COMMAND", ssh_command.as_str())];

    let truth_go = GoEnv::vcs_direct(t.path(), "direct");
    let (run, truth) = truth_go.mod_download_nosumdb_env(&specs, &env);
    for spec in &specs {
        assert!(
            truth[spec].ok(),
            "the go command over ssh failed for {spec}: {}\n{}\nsshd log:\n{}",
            truth[spec].error_line(),
            run.stderr,
            sshd.log()
        );
    }
    let modules = vec![module.clone()];
    let truth_lists = versions_and_latest(&truth_go, &modules, &env);

    let dir = t.path().join("agora");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("GIT_SSH_COMMAND".to_owned(), ssh_command.clone()));
    let agora = Agora::start(&cfg);
    let via_go = GoEnv::via(t.path(), "agora", &agora);
    let (run, got) = via_go.mod_download_nosumdb_env(&specs, &[]);
    let diffs: Vec<String> = specs
        .iter()
        .flat_map(|spec| diff(spec, &truth[spec], &got[spec]))
        .collect();
    assert!(
        diffs.is_empty(),
        "through agora vs the go command in direct mode:\n  {}\n{}\nagora log:\n{}",
        diffs.join("\n  "),
        run.stderr,
        agora.log_tail()
    );
    let got_lists = versions_and_latest(&via_go, &modules, &[]);
    assert_eq!(
        got_lists, truth_lists,
        "through agora (left) vs direct (right)"
    );
    assert_eq!(
        got_lists[&module].0,
        serde_json::json!(["v1.0.0", "v1.1.0"]),
        "{got_lists:?}"
    );
    drop(agora);

    let dir = t.path().join("agora-tty");
    fs::create_dir_all(&dir).unwrap();
    let mut cfg = direct_agora_config(&dir);
    cfg.extra_env
        .push(("AGORA_TIMEOUT".to_owned(), "30".to_owned()));
    let accepted = sshd.accepted();
    let agora = start_on_a_tty(&mut cfg);
    // The temp dir's name has capitals: the proxy protocol's escaped path.
    for target in targets(&escape(&module)) {
        assert_fails_fast(
            &agora,
            &target,
            &module,
            "no secure protocol found",
            Duration::from_secs(10),
        );
    }
    assert!(files_under(&cfg.storage_root).is_empty());
    assert_eq!(sshd.accepted(), accepted, "{}", sshd.log());
    eprintln!("ssh e2e (ping): {:?}", started.elapsed());
}
