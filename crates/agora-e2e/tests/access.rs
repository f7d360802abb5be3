//! Access control, TLS and JSON logs, end to end: the real go command downloading over
//! HTTPS (trusting a throwaway CA through `SSL_CERT_FILE`) with netrc credentials, as
//! Athens' single basic-auth user and as two users of an auth file with different module
//! patterns (one gets a 403 whose reason the go command prints), the auth file reloaded
//! on change, 401 without credentials, the health endpoints open; a silent TCP client
//! dropped after the header timeout by the TLS handshake; and every stderr line a JSON
//! object in JSON mode, the request's line carrying the id of its response header.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use agora_testkit::*;
use base64::Engine;
use serde_json::Value;

/// `agora auth hash`, with the password as an argument or (`-`) on stdin.
fn hash(home: &Path, password: &str, on_stdin: bool) -> String {
    let out = if on_stdin {
        let mut child = agora_command(home, &["auth", "hash", "-"], &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run agora auth hash -");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes())
            .expect("write the password");
        child.wait_with_output().expect("wait for agora auth hash")
    } else {
        run_agora(
            home,
            &["auth", "hash", password],
            &[],
            Duration::from_secs(60),
        )
    };
    assert!(
        out.status.success(),
        "agora auth hash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 hash");
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    let line = text.trim_end().to_owned();
    assert!(line.starts_with("$argon2id$"), "{line}");
    assert!(!line.contains(password), "{line}");
    line
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A go client of `agora` over HTTPS whose netrc holds `user`'s credentials for the
/// proxy's `host:port`, as the go command looks them up.
fn go_client(t: &TestDir, agora: &Agora, user: &str, password: &str) -> GoEnv {
    let go = GoEnv::via(t.path(), user, agora);
    fs::write(
        go.home.join(".netrc"),
        format!("machine {} login {user} password {password}\n", agora.addr),
    )
    .expect("write the netrc");
    go
}

/// `go mod download -json spec` trusting the test CA.
fn download(go: &GoEnv, cert: &TestCert, spec: &str) -> GoRun {
    let args = ["mod", "download", "-json", spec];
    let mut cmd = go.command(&args, &go.work);
    cmd.env("SSL_CERT_FILE", &cert.ca);
    let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
    GoRun {
        cmdline: format!("[{}] GOPROXY={} go {}", go.name, go.goproxy, args.join(" ")),
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tls_config(t: &TestDir, cert: &TestCert) -> AgoraConfig {
    let mut config = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    config.extra_env.extend([
        ("ATHENS_TLSCERT_FILE".to_owned(), path_str(&cert.cert)),
        ("ATHENS_TLSKEY_FILE".to_owned(), path_str(&cert.key)),
    ]);
    config.tls_ca = Some(cert.ca.clone());
    config
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn get(agora: &Agora, cert: &TestCert, target: &str, auth: Option<&str>) -> HttpResponse {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    https_request(agora.addr, &cert.ca, "GET", target, &headers)
        .unwrap_or_else(|e| panic!("GET {target} over TLS: {e}\n{}", agora.log_tail()))
}

#[test]
fn go_command_through_basic_auth_over_tls() {
    let t = TestDir::new("access-basic-tls");
    let cert = TestCert::new(&t.sub("tls"));
    let mut config = tls_config(&t, &cert);
    config.extra_env.extend([
        ("BASIC_AUTH_USER".to_owned(), "builder".to_owned()),
        ("BASIC_AUTH_PASS".to_owned(), "correct-horse".to_owned()),
    ]);
    let agora = Agora::start(&config);

    // Without or with wrong credentials: 401 and a challenge; health stays open.
    for auth in [None, Some(basic("builder", "wrong")), Some(basic("x", "y"))] {
        let resp = get(&agora, &cert, "/rsc.io/quote/@v/list", auth.as_deref());
        assert_eq!(resp.status, 401, "{auth:?}: {}", resp.summary());
        assert!(
            resp.header("www-authenticate")
                .is_some_and(|v| v.starts_with("Basic realm=")),
            "{}",
            resp.summary()
        );
    }
    for open in ["/healthz", "/readyz"] {
        let resp = get(&agora, &cert, open, None);
        assert_eq!(resp.status, 200, "{open}: {}", resp.summary());
    }
    let resp = get(&agora, &cert, "/catalog", None);
    assert_eq!(resp.status, 401, "/catalog: {}", resp.summary());

    // The go command: no netrc, 401; with it, the module.
    let anonymous = GoEnv::via(t.path(), "anonymous", &agora);
    let run = download(&anonymous, &cert, "rsc.io/quote@v1.5.2");
    assert!(!run.status.success(), "without credentials: {}", run.stdout);
    assert!(run.stdout.contains("401"), "{}\n{}", run.stdout, run.stderr);

    let go = go_client(&t, &agora, "builder", "correct-horse");
    let run = download(&go, &cert, "rsc.io/quote@v1.5.2");
    run.expect_success("basic auth over TLS");
    let v: Value = serde_json::from_str(&run.stdout).expect("go mod download -json");
    assert_eq!(v["Version"], "v1.5.2", "{v}");
    assert!(
        v["Zip"].as_str().is_some_and(|z| Path::new(z).exists()),
        "{v}"
    );
    assert!(
        athens_version_dir(&agora.config.storage_root, "rsc.io/quote", "v1.5.2")
            .join("source.zip")
            .exists(),
        "stored"
    );
}

#[test]
fn two_users_of_an_auth_file_and_reload() {
    let t = TestDir::new("access-users");
    let cert = TestCert::new(&t.sub("tls"));
    let home = t.sub("hash-home");
    fs::create_dir_all(&home).unwrap();
    let users = t.path().join("users.toml");
    let alice_hash = hash(&home, "alice-pw", false);
    let bob_hash = hash(&home, "bob:pw:colons", true);
    let write_users = |alice_modules: &str| {
        // Written aside and renamed, as an editor or config tool does.
        let tmp = t.path().join("users.toml.new");
        fs::write(
            &tmp,
            format!(
                "[[user]]\nname = \"alice\"\npassword_hash = \"{alice_hash}\"\n\
                 modules = {alice_modules}\n\n\
                 [[user]]\nname = \"bob\"\npassword_hash = \"{bob_hash}\"\n\
                 modules = [\"rsc.io/sampler\", \"golang.org/x/*\"]\n"
            ),
        )
        .unwrap();
        fs::rename(&tmp, &users).unwrap();
    };
    write_users("[\"rsc.io/quote\"]");
    let mut config = tls_config(&t, &cert);
    config
        .extra_env
        .push(("AGORA_AUTH_FILE".to_owned(), path_str(&users)));
    let agora = Agora::start(&config);
    let alice_auth = basic("alice", "alice-pw");

    let alice = go_client(&t, &agora, "alice", "alice-pw");
    let bob = go_client(&t, &agora, "bob", "bob:pw:colons");
    download(&alice, &cert, "rsc.io/quote@v1.5.2").expect_success("alice reads rsc.io/quote");
    download(&bob, &cert, "rsc.io/sampler@v1.3.0").expect_success("bob reads rsc.io/sampler");

    // Alice outside her patterns: 403, and the go command shows why.
    let run = download(&alice, &cert, "rsc.io/sampler@v1.3.0");
    assert!(!run.status.success(), "alice read rsc.io/sampler");
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains("403") && said.contains("user alice may not read module rsc.io/sampler"),
        "{said}"
    );
    let resp = get(&agora, &cert, "/rsc.io/sampler/@v/list", Some(&alice_auth));
    assert_eq!(resp.status, 403, "{}", resp.summary());
    assert_eq!(resp.text().lines().count(), 1, "{}", resp.summary());

    // The catalog shows each user only their modules.
    let catalog = |auth: &str| -> Vec<String> {
        let resp = get(&agora, &cert, "/catalog", Some(auth));
        assert_eq!(resp.status, 200, "{}", resp.summary());
        let v: Value = serde_json::from_slice(&resp.body).expect("catalog JSON");
        v["modules"]
            .as_array()
            .expect("modules")
            .iter()
            .map(|m| m["module"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(catalog(&alice_auth), ["rsc.io/quote"]);
    assert_eq!(catalog(&basic("bob", "bob:pw:colons")), ["rsc.io/sampler"]);

    // Wrong password, unknown user: 401.
    for auth in [basic("alice", "bob:pw:colons"), basic("carol", "x")] {
        let resp = get(&agora, &cert, "/rsc.io/quote/@v/list", Some(&auth));
        assert_eq!(resp.status, 401, "{}", resp.summary());
    }

    // Give alice everything: picked up without a restart.
    write_users("[\"*\"]");
    assert!(
        wait_until(Duration::from_secs(15), || {
            get(&agora, &cert, "/rsc.io/sampler/@v/list", Some(&alice_auth)).status == 200
        }),
        "the changed auth file was not picked up:\n{}",
        agora.log_tail()
    );
    download(&alice, &cert, "rsc.io/sampler@v1.3.0").expect_success("alice after the reload");

    // A broken file keeps the users in force, and says so in the log.
    fs::write(
        &users,
        "[[user]]\nname = \"alice\"\npassword = \"alice-pw\"\n",
    )
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(15), || agora
            .log()
            .contains("auth file not reloaded")),
        "no error for the broken auth file:\n{}",
        agora.log_tail()
    );
    assert!(
        !agora.log().contains("password = "),
        "the log quotes the file"
    );
    let resp = get(&agora, &cert, "/rsc.io/sampler/@v/list", Some(&alice_auth));
    assert_eq!(resp.status, 200, "{}", resp.summary());
}

#[test]
fn a_silent_client_is_dropped_by_the_tls_handshake_timeout() {
    let t = TestDir::new("access-tls-timeout");
    let cert = TestCert::new(&t.sub("tls"));
    let mut config = tls_config(&t, &cert);
    config
        .extra_env
        .push(("AGORA_HEADER_TIMEOUT".to_owned(), "2".to_owned()));
    let agora = Agora::start(&config);

    let mut silent = TcpStream::connect(agora.addr).expect("connect");
    silent
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = silent.read(&mut buf);
    let waited = started.elapsed();
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut),
        "the silent connection was not closed: {read:?} after {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "closed after {waited:?}, expected about 2 s"
    );
    assert!(
        wait_until(Duration::from_secs(5), || agora
            .log()
            .contains("TLS handshake timed out")),
        "{}",
        agora.log_tail()
    );

    // Plain HTTP on the TLS port: a readable 400 on that connection only.
    let plain = http_get(agora.addr, "/healthz").expect("plain HTTP to the TLS port");
    assert_eq!(plain.status, 400, "{}", plain.summary());
    assert!(plain.text().contains("HTTPS server"), "{}", plain.summary());
    let resp = get(&agora, &cert, "/healthz", None);
    assert_eq!(resp.status, 200, "{}", resp.summary());
}

#[test]
fn json_logs_carry_each_request_with_its_id() {
    let t = TestDir::new("access-json-logs");
    let config = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let (root, data) = (path_str(&config.storage_root), path_str(&config.data_dir));
    let upstream = ref_proxy().goproxy_url();
    let listen = addr.to_string();
    // At the default level (info): the request line must not need debug.
    let mut agora = Agora::start_custom(
        &config,
        &["serve"],
        &[
            ("ATHENS_LOG_FORMAT", "json"),
            ("ATHENS_LOG_LEVEL", "info"),
            ("AGORA_DISK_STORAGE_ROOT", &root),
            ("AGORA_DATA_DIR", &data),
            ("AGORA_GOPROXY", &upstream),
            ("AGORA_LISTEN", &listen),
            // The reference proxy is in no checksum database reachable offline.
            ("AGORA_SUMDB_VERIFY", "false"),
        ],
        addr,
    );
    let ok = agora.get("/rsc.io/quote/@v/v1.5.2.info");
    assert_eq!(ok.status, 200, "{}", ok.summary());
    let missing = agora.get("/rsc.io/quote/@v/v9.9.9.info");
    assert_eq!(missing.status, 404, "{}", missing.summary());
    agora.stop();

    let lines: Vec<Value> = agora
        .log()
        .lines()
        // The test kit's own marker line, not agora's.
        .filter(|l| !l.starts_with("=== agora-e2e:"))
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object ({e}): {l:?}"));
            assert!(v.is_object(), "{l}");
            v
        })
        .collect();
    assert!(lines.len() >= 4, "{lines:?}");
    for (resp, target, status) in [
        (&ok, "/rsc.io/quote/@v/v1.5.2.info", 200),
        (&missing, "/rsc.io/quote/@v/v9.9.9.info", 404),
    ] {
        let id = resp.header("athens-request-id").expect("request id header");
        let line = lines
            .iter()
            .find(|v| v["request_id"] == id && v["message"] == "request")
            .unwrap_or_else(|| panic!("no request line with id {id}: {lines:#?}"));
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["method"], "GET", "{line}");
        assert_eq!(line["path"], target, "{line}");
        assert_eq!(line["status"], status, "{line}");
        assert!(
            line["elapsed_ms"].as_f64().is_some_and(|d| d >= 0.0),
            "{line}"
        );
        assert!(line["timestamp"].is_string(), "{line}");
    }
}

/// A broken auth file stops startup with the reason, never quoting a password in it.
#[test]
fn a_broken_auth_file_stops_startup() {
    let t = TestDir::new("access-broken-file");
    let users = t.path().join("users.toml");
    fs::write(
        &users,
        "[[user]]\nname = \"alice\"\npassword = \"hunter2-plain\"\nmodules = [\"*\"]\n",
    )
    .unwrap();
    let home = t.sub("home");
    fs::create_dir_all(&home).unwrap();
    let out = run_agora(
        &home,
        &["serve"],
        &[
            ("AGORA_STORAGE_TYPE", "memory"),
            ("AGORA_LISTEN", "127.0.0.1:0"),
            ("AGORA_AUTH_FILE", &path_str(&users)),
        ],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started with a broken auth file");
    assert!(
        stderr.contains("auth.file") && stderr.contains("unknown field `password`"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// SIGHUP re-reads the auth file even when polling cannot see a change (same size,
/// inode and modification time).
#[test]
fn sighup_reloads_the_auth_file() {
    let t = TestDir::new("access-sighup");
    let home = t.sub("hash-home");
    fs::create_dir_all(&home).unwrap();
    let users = t.path().join("users.toml");
    let alice_hash = hash(&home, "alice-pw", false);
    let text = |modules: &str| {
        format!(
            "[[user]]\nname = \"alice\"\npassword_hash = \"{alice_hash}\"\nmodules = {modules}\n"
        )
    };
    // Same length, so only the content differs.
    let (before, after) = (text("[\"rsc.io/quote\"]"), text("[\"rsc.io/samp*\"]"));
    assert_eq!(before.len(), after.len());
    fs::write(&users, &before).unwrap();
    let mut config = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    config
        .extra_env
        .push(("AGORA_AUTH_FILE".to_owned(), path_str(&users)));
    let agora = Agora::start(&config);
    let auth = basic("alice", "alice-pw");
    let status = || {
        http_request_with(
            agora.addr,
            "GET",
            "/rsc.io/sampler/@v/list",
            &[("Authorization", &auth)],
        )
        .expect("request")
        .0
        .status
    };
    assert_eq!(status(), 403);

    let modified = fs::metadata(&users).unwrap().modified().unwrap();
    let mut f = fs::OpenOptions::new().write(true).open(&users).unwrap();
    f.write_all(after.as_bytes()).unwrap();
    f.set_modified(modified).unwrap();
    drop(f);
    // Polling (every 2 s) does not notice.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(status(), 403, "the file was re-read without SIGHUP");

    let pid = agora.pid().expect("running").to_string();
    let kill = std::process::Command::new("sh")
        .args(["-c", "kill -HUP \"$1\"", "sh", &pid])
        .status()
        .expect("send SIGHUP");
    assert!(kill.success());
    assert!(
        wait_until(Duration::from_secs(10), || status() == 200),
        "SIGHUP did not reload the auth file:\n{}",
        agora.log_tail()
    );
}
