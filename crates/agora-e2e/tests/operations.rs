//! Operations, end to end: `/healthz`, `/readyz` (following the storage root without a
//! restart), `/version`, graceful shutdown on SIGTERM, fetches that outlive a client that
//! hangs up, refusing bad configuration at startup, and serving from an Athens
//! `config.toml` (with `agora config show` naming where each value came from).

use std::fs;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use agora_testkit::*;
use serde_json::Value;

fn assert_one_line(what: &str, resp: &HttpResponse) {
    let text = resp.text();
    assert!(
        !text.trim().is_empty() && text.trim_end_matches('\n').lines().count() == 1,
        "{what}: expected a one-line reason, got {text:?}"
    );
}

#[test]
fn health_readiness_and_version() {
    let t = TestDir::new("ops-health");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let root = agora.config.storage_root.clone();

    let health = agora.get("/healthz");
    assert_eq!(health.status, 200, "/healthz: {}", health.summary());
    let ready = agora.get("/readyz");
    assert_eq!(ready.status, 200, "/readyz: {}", ready.summary());

    let version = agora.get("/version");
    assert_eq!(version.status, 200, "/version: {}", version.summary());
    assert!(
        version
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "/version: {}",
        version.summary()
    );
    let v: Value = serde_json::from_slice(&version.body)
        .unwrap_or_else(|e| panic!("/version is not JSON ({e}): {}", version.summary()));
    assert!(
        v["version"].as_str().is_some_and(|s| !s.trim().is_empty()),
        "/version has no version field: {v}"
    );

    // Replace the storage root by a file: not ready (with a reason), yet alive.
    let moved = t.path().join("storage.moved");
    fs::rename(&root, &moved).expect("move the storage root away");
    fs::write(&root, b"not a directory\n").expect("put a file where the root was");
    let resp = agora.get("/readyz");
    assert_eq!(
        resp.status,
        503,
        "/readyz with the storage root replaced by a file: {}",
        resp.summary()
    );
    assert_one_line("/readyz when not ready", &resp);
    let health = agora.get("/healthz");
    assert_eq!(
        health.status,
        200,
        "/healthz while storage is gone: {}",
        health.summary()
    );

    // Put it back: ready again, without a restart.
    fs::remove_file(&root).expect("remove the file");
    fs::rename(&moved, &root).expect("restore the storage root");
    let resp = agora.get("/readyz");
    assert_eq!(
        resp.status,
        200,
        "/readyz after the storage root came back: {}",
        resp.summary()
    );
    let zip = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(zip.status, 200, "serving after recovery: {}", zip.summary());
}

#[test]
fn sigterm_lets_an_in_flight_download_finish() {
    let t = TestDir::new("ops-graceful");
    let want = ref_proxy().fetch("rsc.io/quote/@v/v1.5.1.zip");
    let fwd = Forwarder::to_ref_proxy();
    let zip_up = "/mod/rsc.io/quote/@v/v1.5.1.zip";
    fwd.set_behavior(
        "/rsc.io/quote/@v/v1.5.1.zip",
        Behavior::Delay(Duration::from_secs(2)),
    );
    let grace = 10;
    let mut cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    cfg.extra_env
        .push(("ATHENS_SHUTDOWN_TIMEOUT".to_string(), grace.to_string()));
    let mut agora = Agora::start(&cfg);
    let addr = agora.addr;

    std::thread::scope(|s| {
        let download = s.spawn(move || http_get(addr, "/rsc.io/quote/@v/v1.5.1.zip"));
        assert!(
            wait_until(Duration::from_secs(10), || fwd.count(zip_up) == 1),
            "the zip fetch never reached the upstream: {:?}",
            fwd.requests()
        );
        let sent = Instant::now();
        agora.terminate();
        let resp = download
            .join()
            .expect("download thread")
            .unwrap_or_else(|e| panic!("the in-flight download broke off after SIGTERM: {e}"));
        assert_eq!(
            resp.status,
            200,
            "in-flight download after SIGTERM: {}",
            resp.summary()
        );
        assert!(
            resp.body == want,
            "in-flight download after SIGTERM: bytes differ from upstream's"
        );
        let status = agora
            .wait_exit(Duration::from_secs(grace + 5))
            .unwrap_or_else(|| panic!("agora still runs {}s after SIGTERM", grace + 5));
        let took = sent.elapsed();
        assert!(status.success(), "agora exited with {status} after SIGTERM");
        assert!(
            took <= Duration::from_secs(grace),
            "agora took {took:?} to exit, more than ATHENS_SHUTDOWN_TIMEOUT={grace}"
        );
    });
}

#[test]
fn shutdown_timeout_bounds_exit_with_a_stuck_request() {
    let t = TestDir::new("ops-grace-bound");
    let fwd = Forwarder::to_ref_proxy();
    // The upstream sends half the zip, then nothing, until the test ends.
    fwd.set_behavior(
        "/rsc.io/quote/@v/v1.5.1.zip",
        Behavior::Stall { fraction: 0.5 },
    );
    let grace = 2;
    let mut cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    cfg.extra_env
        .push(("ATHENS_SHUTDOWN_TIMEOUT".to_string(), grace.to_string()));
    let mut agora = Agora::start(&cfg);
    let addr = agora.addr;
    std::thread::spawn(move || http_get(addr, "/rsc.io/quote/@v/v1.5.1.zip"));
    assert!(
        fwd.wait_stalled(1, Duration::from_secs(10)),
        "the zip fetch never stalled: {:?}",
        fwd.requests()
    );
    let sent = Instant::now();
    agora.terminate();
    let status = agora.wait_exit(Duration::from_secs(grace + 8));
    let took = sent.elapsed();
    fwd.release_stalls();
    let status = status.unwrap_or_else(|| {
        panic!("agora still runs {took:?} after SIGTERM with ATHENS_SHUTDOWN_TIMEOUT={grace}")
    });
    assert!(
        status.success(),
        "agora exited with {status} after the shutdown timeout"
    );
    assert!(
        took >= Duration::from_millis(grace * 1000 - 500)
            && took <= Duration::from_millis(grace * 1000 + 3000),
        "agora exited {took:?} after SIGTERM, expected about ATHENS_SHUTDOWN_TIMEOUT={grace}s"
    );
}

#[test]
fn idle_keep_alive_connection_does_not_delay_shutdown() {
    let t = TestDir::new("ops-keepalive");
    let grace = 10;
    let mut cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    cfg.extra_env
        .push(("ATHENS_SHUTDOWN_TIMEOUT".to_string(), grace.to_string()));
    let mut agora = Agora::start(&cfg);
    // One request on a keep-alive connection, which then stays open and idle, as the go
    // command's connections do.
    let mut conn = TcpStream::connect(agora.addr).expect("connect to agora");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    write!(
        conn,
        "GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n",
        agora.addr
    )
    .expect("send");
    let mut buf = [0u8; 512];
    let n = std::io::Read::read(&mut conn, &mut buf).expect("read the answer");
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "keep-alive /healthz: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let sent = Instant::now();
    agora.terminate();
    let status = agora
        .wait_exit(Duration::from_secs(grace + 5))
        .unwrap_or_else(|| panic!("agora still runs {}s after SIGTERM", grace + 5));
    let took = sent.elapsed();
    assert!(status.success(), "agora exited with {status}");
    assert!(
        took < Duration::from_secs(3),
        "an idle keep-alive connection held up shutdown for {took:?}"
    );
    drop(conn);
}

#[test]
fn client_hanging_up_does_not_cancel_the_fetch() {
    let t = TestDir::new("ops-hangup");
    let want = ref_proxy().fetch("rsc.io/quote/@v/v1.5.1.zip");
    let fwd = Forwarder::to_ref_proxy();
    let zip_up = "/mod/rsc.io/quote/@v/v1.5.1.zip";
    fwd.set_behavior(
        "/rsc.io/quote/@v/v1.5.1.zip",
        Behavior::Delay(Duration::from_millis(1500)),
    );
    let cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    let agora = Agora::start(&cfg);

    let mut conn = TcpStream::connect(agora.addr).expect("connect to agora");
    write!(
        conn,
        "GET /rsc.io/quote/@v/v1.5.1.zip HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        agora.addr
    )
    .expect("send the request");
    assert!(
        wait_until(Duration::from_secs(10), || fwd.count(zip_up) == 1),
        "the zip fetch never reached the upstream: {:?}",
        fwd.requests()
    );
    // Hang up while agora waits for the upstream.
    let _ = conn.shutdown(Shutdown::Both);
    drop(conn);

    let info = athens_version_dir(&cfg.storage_root, "rsc.io/quote", "v1.5.1").join("v1.5.1.info");
    assert!(
        wait_until(Duration::from_secs(15), || info.is_file()),
        "the fetch was abandoned when the client hung up: {} never appeared",
        info.display()
    );
    let resp = agora.get("/rsc.io/quote/@v/v1.5.1.zip");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert!(resp.body == want, "zip bytes differ from upstream's");
    assert_eq!(
        fwd.count(zip_up),
        1,
        "upstream zip fetches: {:?}",
        fwd.requests()
    );
}

#[test]
fn bad_configuration_stops_startup_naming_the_key() {
    let t = TestDir::new("ops-badconf");
    let home = t.sub("home");
    let data = t.sub("data");
    let port = format!("127.0.0.1:{}", free_port());
    let data_s = data.display().to_string();
    for (key, value) in [
        ("ATHENS_TIMEOUT", "abc"),
        ("AGORA_GOPROXY", "file:///x"),
        ("ATHENS_STORAGE_TYPE", "tape"),
        ("ATHENS_NETWORK_MODE", "sometimes"),
        ("ATHENS_PORT", "127.0.0.1:notaport"),
    ] {
        let mut env = vec![("AGORA_DATA_DIR", data_s.as_str()), (key, value)];
        if key != "ATHENS_PORT" {
            env.push(("ATHENS_PORT", port.as_str()));
        }
        let out = run_agora(&home, &["serve"], &env, Duration::from_secs(20));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{key}={value}: agora serve exited successfully:\n{stderr}"
        );
        assert!(
            stderr.contains(key),
            "{key}={value}: the startup error does not name {key}:\n{stderr}"
        );
    }
    // A supported backend missing a required setting names that setting.
    let env = [
        ("AGORA_DATA_DIR", data_s.as_str()),
        ("ATHENS_PORT", port.as_str()),
        ("ATHENS_STORAGE_TYPE", "s3"),
    ];
    let out = run_agora(&home, &["serve"], &env, Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "s3 without a bucket started:\n{stderr}"
    );
    assert!(
        stderr.contains("ATHENS_S3_BUCKET_NAME"),
        "s3 without a bucket: the error does not name ATHENS_S3_BUCKET_NAME:\n{stderr}"
    );
    // Nothing listened meanwhile.
    let addr: SocketAddr = port.parse().expect("address");
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "something listens on {addr} after the failed starts"
    );
}

#[test]
fn athens_config_file_serves_and_config_show_names_sources() {
    let t = TestDir::new("ops-athens-config");
    let rp = ref_proxy();
    let root = t.sub("athens-root");
    let port = free_port();
    let config = t.path().join("config.toml");
    let goproxy = rp.goproxy_url();
    fs::write(
        &config,
        format!(
            "# An Athens config.toml\n\
             Port = \":{port}\"\n\
             StorageType = \"disk\"\n\
             NetworkMode = \"fallback\"\n\
             GoBinaryEnvVars = [\"GOPROXY={goproxy}\"]\n\
             \n\
             [Storage]\n\
             \x20   [Storage.Disk]\n\
             \x20       RootPath = \"{}\"\n",
            root.display()
        ),
    )
    .expect("write config.toml");
    let config_s = config.display().to_string();

    // config show: every value from the file, with the file as its source.
    let home = t.sub("home");
    let out = run_agora(
        &home,
        &["config", "show", "--config", &config_s],
        &[],
        Duration::from_secs(20),
    );
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "agora config show failed ({}):\n{}{}",
        out.status,
        shown,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |key: &str| -> String {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("config show has no {key}:\n{shown}"))
            .to_string()
    };
    let from_file = format!("file {config_s}");
    for (key, value) in [
        ("server.listen", format!(":{port}\"")),
        ("storage.type", "\"disk\"".to_string()),
        ("storage.disk.root", format!("\"{}\"", root.display())),
        ("upstream.goproxy", format!("\"{goproxy}\"")),
        ("upstream.network_mode", "\"fallback\"".to_string()),
    ] {
        let l = line(key);
        let (assignment, source) = l
            .split_once('#')
            .unwrap_or_else(|| panic!("config show line without a source: {l:?}"));
        assert!(
            assignment.contains(&value),
            "config show {key}: expected {value} in {l:?}"
        );
        assert!(
            source.contains(&from_file),
            "config show {key}: expected the source {from_file:?} in {l:?}"
        );
    }
    // A key the file does not set comes from a default.
    let l = line("upstream.timeout");
    assert!(
        l.split_once('#')
            .is_some_and(|(_, s)| s.contains("default")),
        "config show upstream.timeout: expected a default source in {l:?}"
    );

    // serve --config: listens where the file says and serves modules into RootPath.
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let cfg = AgoraConfig::new(t.path(), "(from config.toml)");
    // The reference proxy is in no checksum database reachable offline.
    let agora = Agora::start_custom(
        &cfg,
        &["serve", "--config", &config_s],
        &[("AGORA_SUMDB_VERIFY", "false")],
        addr,
    );
    for ext in ["mod", "zip"] {
        let target = format!("/rsc.io/quote/@v/v1.5.2.{ext}");
        let resp = agora.get(&target);
        assert_eq!(resp.status, 200, "{target}: {}", resp.summary());
        assert!(
            resp.body == rp.fetch(&target),
            "{target}: bytes differ from the reference proxy's"
        );
    }
    let info = agora.get("/rsc.io/quote/@v/v1.5.2.info");
    assert_eq!(info.status, 200, "{}", info.summary());
    let list = agora.get("/rsc.io/quote/@v/list");
    assert_eq!(list.status, 200, "{}", list.summary());
    let dir = athens_version_dir(&root, "rsc.io/quote", "v1.5.2");
    for f in ["go.mod", "source.zip", "v1.5.2.info"] {
        assert!(
            dir.join(f).is_file(),
            "{} missing: not stored under the file's RootPath",
            dir.join(f).display()
        );
    }
    assert!(
        files_under(&cfg.storage_root).is_empty(),
        "agora stored into the harness's default root instead of RootPath"
    );
}

/// `config show` prints every setting but hides credentials: secrets as `<redacted>`,
/// the passwords (or lone user names) of URLs as `xxxxx`. Each storage type in turn,
/// since only the selected storage's keys are shown.
#[test]
fn config_show_hides_credentials() {
    let t = TestDir::new("ops-config-show-secrets");
    let home = t.sub("home");
    let common = [
        (
            "AGORA_GOPROXY",
            "https://proxyuser:proxy-pw-1@proxy.corp.test/go,https://proxy-token-2@other.test|direct",
        ),
        ("AGORA_GITHUB_TOKEN", "ghp_github-token-3"),
    ];
    // (storage type, its environment, values that must not show, lines that must)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a [&'a str],
    );
    let cases: &[Case] = &[
        (
            "s3",
            &[
                ("AGORA_S3_BUCKET", "visible-bucket"),
                (
                    "AGORA_S3_ENDPOINT",
                    "http://s3user:s3-endpoint-pw-4@127.0.0.1:9000",
                ),
                ("AGORA_S3_ACCESS_KEY_ID", "AKIAVISIBLEKEYID"),
                ("AGORA_S3_SECRET_ACCESS_KEY", "s3-secret-5"),
                ("AGORA_S3_SESSION_TOKEN", "s3-session-6"),
            ],
            &["s3-endpoint-pw-4", "s3-secret-5", "s3-session-6"],
            &[
                "storage.s3.bucket = \"visible-bucket\"",
                "storage.s3.endpoint = \"http://s3user:xxxxx@127.0.0.1:9000\"",
                "storage.s3.access_key_id = \"AKIAVISIBLEKEYID\"",
                "storage.s3.secret_access_key = \"<redacted>\"",
                "storage.s3.session_token = \"<redacted>\"",
            ],
        ),
        (
            "minio",
            &[
                (
                    "AGORA_MINIO_ENDPOINT",
                    "http://minio:minio-endpoint-pw-7@127.0.0.1:9001",
                ),
                ("AGORA_MINIO_ACCESS_KEY_ID", "minio-visible-id"),
                ("AGORA_MINIO_SECRET_ACCESS_KEY", "minio-secret-8"),
                ("AGORA_MINIO_BUCKET", "gomods"),
            ],
            &["minio-endpoint-pw-7", "minio-secret-8"],
            &[
                // Athens keeps a MinIO endpoint as `host:port` (use_ssl picks the scheme).
                "storage.minio.endpoint = \"minio:xxxxx@127.0.0.1:9001\"",
                "storage.minio.access_key_id = \"minio-visible-id\"",
                "storage.minio.secret_access_key = \"<redacted>\"",
            ],
        ),
        (
            "azureblob",
            &[
                ("AGORA_AZURE_ACCOUNT_NAME", "visibleaccount"),
                ("AGORA_AZURE_ACCOUNT_KEY", "azure-account-key-9"),
                ("AGORA_AZURE_CONTAINER", "gomods"),
            ],
            &["azure-account-key-9"],
            &[
                "storage.azure.account_name = \"visibleaccount\"",
                "storage.azure.account_key = \"<redacted>\"",
            ],
        ),
        (
            "azureblob",
            &[
                (
                    "AGORA_AZURE_CONNECTION_STRING",
                    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
                     AccountKey=azure-conn-key-10;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1",
                ),
                ("AGORA_AZURE_CONTAINER", "gomods"),
            ],
            &["azure-conn-key-10"],
            &["storage.azure.connection_string = \"<redacted>\""],
        ),
        (
            "gcp",
            &[
                ("AGORA_GCP_BUCKET", "gomods"),
                (
                    "AGORA_GCP_JSON_KEY",
                    "{\"private_key\":\"gcp-private-key-11\"}",
                ),
            ],
            &["gcp-private-key-11"],
            &[
                "storage.gcp.bucket = \"gomods\"",
                "storage.gcp.json_key = \"<redacted>\"",
            ],
        ),
        (
            "external",
            &[(
                "AGORA_EXTERNAL_URL",
                "http://extuser:external-pw-12@127.0.0.1:9999/storage",
            )],
            &["external-pw-12"],
            &["storage.external.url = \"http://extuser:xxxxx@127.0.0.1:9999/storage\""],
        ),
        (
            "mongo",
            &[(
                "AGORA_MONGO_URL",
                "mongodb://mongouser:mongo-pw-13@127.0.0.1:27017/?authSource=admin",
            )],
            &["mongo-pw-13"],
            &["storage.mongo.url = \"<redacted>\""],
        ),
    ];
    for (kind, env, secrets, shown_lines) in cases {
        let mut all: Vec<(&str, &str)> = common.to_vec();
        all.push(("AGORA_STORAGE_TYPE", kind));
        all.extend(env.iter().copied());
        let out = run_agora(&home, &["config", "show"], &all, Duration::from_secs(20));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{kind}: agora config show failed ({}):\n{stdout}{stderr}",
            out.status
        );
        for secret in secrets
            .iter()
            .chain(&["proxy-pw-1", "proxy-token-2", "ghp_github-token-3"])
        {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{kind}: config show printed the secret {secret:?}:\n{stdout}{stderr}"
            );
        }
        let assignments: Vec<&str> = stdout
            .lines()
            .map(|l| l.split("  #").next().unwrap_or(l).trim_end())
            .collect();
        for want in shown_lines.iter().chain(&[
            "upstream.goproxy = \"https://proxyuser:xxxxx@proxy.corp.test/go,https://xxxxx@other.test|direct\"",
            "upstream.github_token = \"<redacted>\"",
        ]) {
            assert!(
                assignments.contains(want),
                "{kind}: config show lacks the line {want:?}:\n{stdout}"
            );
        }
    }
}
