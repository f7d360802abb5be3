//! Checksum databases through agora, with the go command's reference proxy and its
//! signed test database (`localhost.localdev/sumdb`): the go client verifies through
//! agora's `/sumdb/`; agora verifies what it fetches before storing it and refuses a
//! tampered upstream; GONOSUMDB lookups are refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::thread;

use agora_testkit::{
    Agora, AgoraConfig, Forwarder, GO_TIMEOUT, GoEnv, SUMDB_KEY, http_get, ref_proxy,
    run_with_timeout,
};

const DB: &str = "localhost.localdev/sumdb";

fn verifying_agora(dir: &Path, upstream: &str, sumdb_url: &str, more: &[(&str, &str)]) -> Agora {
    let mut cfg = AgoraConfig::new(dir, upstream);
    cfg.extra_env = vec![
        ("AGORA_SUMDB_VERIFY".into(), "true".into()),
        ("AGORA_SUM_DBS".into(), format!("{SUMDB_KEY} {sumdb_url}")),
    ];
    for (k, v) in more {
        cfg.extra_env.push(((*k).into(), (*v).into()));
    }
    Agora::start(&cfg)
}

fn stored(agora: &Agora, module: &str, version: &str) -> bool {
    agora
        .config
        .storage_root
        .join(module)
        .join(version)
        .join(format!("{version}.info"))
        .exists()
}

#[test]
fn go_client_verifies_through_agora() {
    let t = tempfile::tempdir().expect("tempdir");
    // Counts what reaches the database: agora's own verification and what it proxies.
    let fwd = Forwarder::to_ref_proxy();
    let sumdb_url = format!("http://{}/mod/sumdb-direct", fwd.addr);
    let agora = verifying_agora(t.path(), &ref_proxy().goproxy_url(), &sumdb_url, &[]);

    let client = GoEnv::via(t.path(), "client", &agora);
    // GOSUMDB without a URL: the go client asks the proxy whether it serves the database.
    let mut cmd = client.command(
        &["mod", "download", "-json", "rsc.io/quote@v1.5.2"],
        &client.work,
    );
    cmd.env("GOSUMDB", SUMDB_KEY).env_remove("GONOSUMDB");
    let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
    assert!(
        out.status.success(),
        "go mod download failed:\n{}\n{}\nagora log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        agora.log_tail()
    );
    let log = agora.log();
    for path in [
        format!("/sumdb/{DB}/supported"),
        format!("/sumdb/{DB}/lookup/rsc.io/quote@v1.5.2"),
        format!("/sumdb/{DB}/tile/8/0/"),
    ] {
        assert!(
            log.contains(&path),
            "the go client did not ask agora for {path}:\n{log}"
        );
    }
    assert!(
        log.contains("verified against the checksum database"),
        "agora did not verify what it stored:\n{log}"
    );
    assert!(stored(&agora, "rsc.io/quote", "v1.5.2"));
    let asked = fwd.requests();
    assert!(
        asked
            .iter()
            .any(|r| r == "/mod/sumdb-direct/lookup/rsc.io/quote@v1.5.2"),
        "{asked:?}"
    );

    // An unconfigured database is 404, which sends the go command to it directly.
    let resp = agora.get("/sumdb/sum.example.org/supported");
    assert_eq!(resp.status, 404, "{}", resp.summary());
    let resp = agora.get(&format!("/sumdb/{DB}/supported"));
    assert_eq!(resp.status, 200, "{}", resp.summary());
}

/// A proxy in front of the reference proxy that alters the go.mod of
/// rsc.io/quote v1.5.1 and a file in the zip of v1.5.0.
fn tampering_proxy() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            thread::spawn(move || serve_tampered(conn));
        }
    });
    addr
}

fn serve_tampered(mut conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.try_clone().expect("clone").take(64 * 1024));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
    }
    let target = line.split(' ').nth(1).unwrap_or("/").to_owned();
    let Ok(resp) = http_get(ref_proxy().addr, &target) else {
        return;
    };
    let mut body = resp.body;
    if resp.status == 200 && target.ends_with("/rsc.io/quote/@v/v1.5.1.mod") {
        body.extend_from_slice(b"// tampered\n");
    }
    if resp.status == 200 && target.ends_with("/rsc.io/quote/@v/v1.5.0.zip") {
        body = tamper_zip(&body);
    }
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        resp.status,
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}

/// The same zip with one more line in its quote.go: still a valid module zip.
fn tamper_zip(data: &[u8]) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(data)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..src.len() {
        let mut f = src.by_index(i).expect("entry");
        let name = f.name().expect("entry name").into_owned();
        let mut content = Vec::new();
        f.read_to_end(&mut content).expect("read");
        if name.ends_with("/quote.go") {
            content.extend_from_slice(b"\n// tampered\n");
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        out.write_all(&content).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

#[test]
fn a_tampered_upstream_is_refused_and_nothing_is_stored() {
    let t = tempfile::tempdir().expect("tempdir");
    let tamper = tampering_proxy();
    let agora = verifying_agora(
        t.path(),
        &format!("http://{tamper}/mod"),
        &ref_proxy().sumdb_url(),
        &[],
    );
    for (version, what) in [
        ("v1.5.1", "rsc.io/quote@v1.5.1/go.mod"),
        ("v1.5.0", "rsc.io/quote@v1.5.0:"),
    ] {
        for ext in ["zip", "mod", "info"] {
            let target = format!("/rsc.io/quote/@v/{version}.{ext}");
            let resp = agora.get(&target);
            let text = resp.text();
            assert_eq!(resp.status, 502, "{target}: {}", resp.summary());
            assert!(text.contains("checksum mismatch"), "{target}: {text}");
            assert!(text.contains(what), "{target}: {text}");
            assert_eq!(text.matches("h1:").count(), 2, "{target}: {text}");
        }
        assert!(!stored(&agora, "rsc.io/quote", version), "{version} stored");
        assert!(
            !agora
                .config
                .storage_root
                .join("rsc.io/quote")
                .join(version)
                .exists(),
            "something of {version} was written"
        );
    }
    assert!(agora.log().contains("checksum mismatch: refused"));
    // Each of the six requests fetched and was refused, and each refusal is counted.
    let metrics = agora.get("/metrics").text();
    let counted = metrics
        .lines()
        .find_map(|l| l.strip_prefix("agora_checksum_mismatches_total "))
        .unwrap_or_else(|| panic!("no checksum mismatch counter:\n{metrics}"));
    assert_eq!(counted.trim(), "6", "{metrics}");
    // What the proxy leaves alone passes.
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert!(stored(&agora, "rsc.io/quote", "v1.5.2"));
}

#[test]
fn an_unreachable_database_fails_the_fetch() {
    let t = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/sumdb", closed.local_addr().expect("addr"));
    drop(closed);
    let agora = verifying_agora(t.path(), &ref_proxy().goproxy_url(), &url, &[]);
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.mod");
    assert_eq!(resp.status, 502, "{}", resp.summary());
    assert!(!stored(&agora, "rsc.io/quote", "v1.5.2"));
}

#[test]
fn gonosum_patterns_refuse_lookups_and_skip_verification() {
    let t = tempfile::tempdir().expect("tempdir");
    let fwd = Forwarder::to_ref_proxy();
    let sumdb_url = format!("http://{}/mod/sumdb-direct", fwd.addr);
    let agora = verifying_agora(
        t.path(),
        &ref_proxy().goproxy_url(),
        &sumdb_url,
        &[("ATHENS_GONOSUM_PATTERNS", "rsc.io")],
    );
    let resp = agora.get(&format!("/sumdb/{DB}/lookup/rsc.io/quote@v1.5.2"));
    assert_eq!(resp.status, 403, "{}", resp.summary());
    assert!(
        resp.text().contains("GONOSUMDB/GOPRIVATE"),
        "{}",
        resp.text()
    );
    // Other modules are looked up.
    let resp = agora.get(&format!("/sumdb/{DB}/lookup/golang.org/x/text@v0.3.0"));
    assert_eq!(resp.status, 200, "{}", resp.summary());
    // A private module is stored without asking the database.
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.mod");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert!(
        !fwd.requests().iter().any(|r| r.contains("lookup/rsc.io/")),
        "{:?}",
        fwd.requests()
    );
}

#[test]
fn agora_refuses_what_the_go_command_refuses() {
    // The reference proxy's test database holds another hash for this zip than the one
    // it serves; the go command refuses it ("checksum mismatch", these two hashes).
    let t = tempfile::tempdir().expect("tempdir");
    let agora = verifying_agora(
        t.path(),
        &ref_proxy().goproxy_url(),
        &ref_proxy().sumdb_url(),
        &[],
    );
    let resp = agora.get("/rsc.io/badfile1/@v/v1.0.0.zip");
    let text = resp.text();
    assert_eq!(resp.status, 502, "{}", resp.summary());
    for want in [
        "checksum mismatch",
        "h1:SWLA6Nvezi6az7Z6pjhXuBt/JUxhLQHnath/4gCrwXg=",
        "h1:uEjVkkSjxbXitVDTJ8ea8qHta+VQNl6XYnxv2odSgAI=",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
    assert!(!stored(&agora, "rsc.io/badfile1", "v1.0.0"));
}

/// `agora sumdb keygen NAME`: (signer key, verifier key).
fn keygen(home: &Path, name: &str) -> (String, String) {
    let out = agora_testkit::run_agora(
        home,
        &["sumdb", "keygen", name],
        &[],
        std::time::Duration::from_secs(20),
    );
    assert!(out.status.success(), "keygen failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines();
    (
        lines.next().expect("signer").to_owned(),
        lines.next().expect("verifier").to_owned(),
    )
}

fn go_download(client: &GoEnv, gosumdb: &str, spec: &str) -> (bool, String) {
    let mut cmd = client.command(&["mod", "download", "-json", spec], &client.work);
    cmd.env("GOSUMDB", gosumdb).env_remove("GONOSUMDB");
    let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_private_database_is_verified_by_the_go_client() {
    const PRIVATE: &str = "sum.private.test";
    let t = tempfile::tempdir().expect("tempdir");
    let (skey, vkey) = keygen(t.path(), PRIVATE);
    let key_file = t.path().join("private-sumdb.key");
    std::fs::write(&key_file, format!("{skey}\n")).expect("key file");
    let mut cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    cfg.extra_env = vec![
        ("AGORA_SUMDB_VERIFY".into(), "true".into()),
        (
            "AGORA_SUM_DBS".into(),
            format!("{SUMDB_KEY} {}", ref_proxy().sumdb_url()),
        ),
        // rsc.io/quote is "private" to agora: not checked against the public database,
        // logged in its own.
        ("AGORA_GONOSUMDB".into(), "rsc.io/quote".into()),
        (
            "AGORA_PRIVATE_SUMDB_KEY_FILE".into(),
            key_file.display().to_string(),
        ),
    ];
    let mut agora = Agora::start(&cfg);
    let client = GoEnv::via(t.path(), "private", &agora);
    let (ok, out) = go_download(&client, &vkey, "rsc.io/quote@v1.5.2");
    assert!(ok, "{out}\n{}", agora.log_tail());
    let log = agora.log();
    assert!(
        log.contains(&format!("/sumdb/{PRIVATE}/lookup/rsc.io/quote@v1.5.2")),
        "{log}"
    );
    assert!(
        log.contains("logged in the private checksum database"),
        "{log}"
    );

    // A key of the same name that did not sign the log: the go client refuses it.
    let (_, other_vkey) = keygen(t.path(), PRIVATE);
    let stranger = GoEnv::via(t.path(), "stranger", &agora);
    let (ok, out) = go_download(&stranger, &other_vkey, "rsc.io/quote@v1.5.2");
    assert!(!ok, "a log signed by another key was accepted:\n{out}");

    // The log survives a restart and grows: the first client (which keeps the tree it
    // verified) checks the new tree against it.
    agora.stop();
    let agora = Agora::start(&cfg);
    let client = GoEnv {
        goproxy: agora.goproxy_url(),
        ..client
    };
    let (ok, out) = go_download(&client, &vkey, "rsc.io/quote@v1.5.1");
    assert!(ok, "{out}\n{}", agora.log_tail());

    // A rewritten entry: the next tree is not an extension of the one the client holds.
    drop(agora);
    let record = cfg
        .storage_root
        .join(".agora-blobs/psumdb")
        .join(PRIVATE)
        .join("record/0");
    let text = std::fs::read_to_string(&record).expect("record 0");
    let forged = text.replacen("h1:", "h1:X", 1);
    std::fs::remove_file(&record).expect("remove");
    std::fs::write(&record, forged).expect("rewrite");
    let agora = Agora::start(&cfg);
    let client = GoEnv {
        goproxy: agora.goproxy_url(),
        ..client
    };
    let (ok, out) = go_download(&client, &vkey, "rsc.io/quote@v1.5.0");
    assert!(!ok, "a rewritten log was accepted:\n{out}");
    assert!(out.contains("SECURITY ERROR"), "{out}");
}
