//! The module index (`/index`) over a real PostgreSQL: two agora replicas on one storage
//! root and one index table, versions fetched through both, each listed once and oldest
//! first, surviving a restart of agora (and of PostgreSQL), `since` and `limit` honoured;
//! and the memory index of one process.

use std::time::Duration;

use agora_testkit::*;
use serde_json::Value;

/// `/index` as parsed lines; panics unless every line is one JSON object with exactly the
/// fields index.golang.org writes, in its order.
fn index(agora: &Agora, query: &str) -> Vec<(String, String, String)> {
    let resp = agora.get(&format!("/index{query}"));
    assert_eq!(resp.status, 200, "/index{query}: {}", resp.summary());
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    resp.text()
        .lines()
        .map(|line| {
            assert!(
                line.starts_with("{\"Path\":") && line.contains(",\"Version\":"),
                "field order: {line}"
            );
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let obj = v.as_object().expect("an object");
            assert_eq!(obj.len(), 3, "{line}");
            let ts = obj["Timestamp"].as_str().expect("Timestamp").to_owned();
            assert!(ts.ends_with('Z') && ts.len() >= 20, "{ts}");
            (
                obj["Path"].as_str().expect("Path").to_owned(),
                obj["Version"].as_str().expect("Version").to_owned(),
                ts,
            )
        })
        .collect()
}

fn fetch(agora: &Agora, module: &str, version: &str) {
    let target = format!("/{}/@v/{}.zip", escape(module), escape(version));
    let resp = agora.get(&target);
    assert_eq!(resp.status, 200, "{target}: {}", resp.summary());
}

fn with_index(cfg: &AgoraConfig, pg: &Postgres) -> AgoraConfig {
    let mut c = cfg.clone();
    for (k, v) in [
        ("ATHENS_INDEX_TYPE", "postgres".to_owned()),
        ("ATHENS_INDEX_POSTGRES_HOST", "127.0.0.1".to_owned()),
        ("ATHENS_INDEX_POSTGRES_PORT", pg.port.to_string()),
        ("ATHENS_INDEX_POSTGRES_USER", "postgres".to_owned()),
        ("ATHENS_INDEX_POSTGRES_DATABASE", "athens".to_owned()),
        (
            "ATHENS_INDEX_POSTGRES_PARAMS",
            "connect_timeout:5s,sslmode:disable".to_owned(),
        ),
    ] {
        c.extra_env.push((k.to_owned(), v));
    }
    c
}

fn pairs(lines: &[(String, String, String)]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|(p, v, _)| (p.clone(), v.clone()))
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, v)| ((*p).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn two_replicas_share_one_postgres_index() {
    let t = TestDir::new("index-postgres");
    let mut pg = Postgres::start(&t.sub("pg"), "athens");
    let cfg = with_index(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()), &pg);
    let mut a = Agora::start(&cfg);
    let b = Agora::start(&cfg);
    assert!(index(&a, "").is_empty());

    // Fetched in this order, alternating replicas; each version twice, once through
    // each replica (the second finds it stored, or stores it again: one line either way).
    let order = [
        ("rsc.io/quote", "v1.5.2"),
        ("rsc.io/sampler", "v1.3.0"),
        ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
        ("rsc.io/quote", "v1.5.1"),
    ];
    for (i, (m, v)) in order.iter().enumerate() {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        fetch(first, m, v);
        fetch(second, m, v);
        // Distinct timestamps, so the order is the fetch order.
        std::thread::sleep(Duration::from_millis(5));
    }
    let want = owned(&order);
    let from_a = index(&a, "");
    assert_eq!(pairs(&from_a), want);
    assert_eq!(index(&b, ""), from_a, "the replicas disagree");
    assert!(from_a.windows(2).all(|w| w[0].2 < w[1].2), "{from_a:?}");
    assert_eq!(
        pg.psql("athens", "SELECT count(*) FROM indexes"),
        "4\n",
        "rows in Athens' table"
    );

    // limit and since, as index.golang.org: since is inclusive.
    assert_eq!(pairs(&index(&a, "?limit=2")), want[..2]);
    let since = &from_a[2].2;
    assert_eq!(pairs(&index(&a, &format!("?since={since}"))), want[2..]);
    assert_eq!(
        pairs(&index(&a, &format!("?since={since}&limit=1"))),
        want[2..3]
    );
    assert!(index(&a, "?since=2999-01-01T00:00:00Z").is_empty());
    for bad in ["?limit=0", "?limit=-3", "?limit=x", "?since=yesterday"] {
        let r = a.get(&format!("/index{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.summary());
    }

    // A restart of agora keeps the index, and a version stored meanwhile is added once.
    a.stop();
    let a = Agora::start(&cfg);
    assert_eq!(index(&a, ""), from_a);
    fetch(&a, "rsc.io/quote", "v1.5.3-pre1");
    fetch(&b, "rsc.io/quote", "v1.5.3-pre1");
    let mut want = want;
    want.push(("rsc.io/quote".into(), "v1.5.3-pre1".into()));
    assert_eq!(pairs(&index(&b, "")), want);

    // PostgreSQL restarting under a running agora: the connection is made again.
    pg.restart();
    assert_eq!(pairs(&index(&a, "")), want);
    fetch(&b, "rsc.io/sampler", "v1.99.99");
    want.push(("rsc.io/sampler".into(), "v1.99.99".into()));
    assert_eq!(pairs(&index(&a, "")), want);
}

#[test]
fn an_unreachable_index_is_503_and_the_download_still_works() {
    let t = TestDir::new("index-postgres-down");
    let mut pg = Postgres::start(&t.sub("pg"), "athens");
    let cfg = with_index(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()), &pg);
    let agora = Agora::start(&cfg);
    pg.stop();
    let r = agora.get("/index");
    assert_eq!(r.status, 503, "{}", r.summary());
    // The version is stored and served; only the index line is missing.
    fetch(&agora, "rsc.io/quote", "v1.5.2");
    let m = agora.get("/metrics").text();
    assert!(m.contains("agora_index_errors_total 1"), "{m}");
}

#[test]
fn agora_refuses_to_start_without_its_postgres() {
    let t = TestDir::new("index-postgres-absent");
    let port = free_port();
    let out = run_agora(
        t.path(),
        &["serve"],
        &[
            ("AGORA_LISTEN", "127.0.0.1:0"),
            ("AGORA_DATA_DIR", &t.sub("data").display().to_string()),
            ("ATHENS_INDEX_TYPE", "postgres"),
            ("ATHENS_INDEX_POSTGRES_HOST", "127.0.0.1"),
            ("ATHENS_INDEX_POSTGRES_PORT", &port.to_string()),
            ("ATHENS_INDEX_POSTGRES_PARAMS", "connect_timeout:2"),
        ],
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("module index"), "{err}");
}

#[test]
fn memory_index_lists_what_this_process_stored() {
    let t = TestDir::new("index-memory");
    let mut cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    cfg.extra_env
        .push(("AGORA_INDEX_TYPE".into(), "memory".into()));
    let agora = Agora::start(&cfg);
    fetch(&agora, "rsc.io/quote", "v1.5.2");
    fetch(&agora, "rsc.io/quote", "v1.5.2");
    fetch(&agora, "rsc.io/sampler", "v1.3.0");
    assert_eq!(
        pairs(&index(&agora, "")),
        owned(&[("rsc.io/quote", "v1.5.2"), ("rsc.io/sampler", "v1.3.0")])
    );
    // Without an index, /index is empty (Athens' `none`).
    let plain = Agora::start(&AgoraConfig::new(
        &t.sub("plain"),
        ref_proxy().goproxy_url(),
    ));
    fetch(&plain, "rsc.io/quote", "v1.5.2");
    assert!(index(&plain, "").is_empty());
}

/// With an auth file, `/index` (like `/catalog`) shows a user only the modules it may
/// read, and `/metrics` is behind authentication like everything but the probes.
#[test]
fn index_lines_follow_the_readers_patterns() {
    use base64::Engine;
    let t = TestDir::new("index-access");
    let home = t.sub("hash-home");
    std::fs::create_dir_all(&home).unwrap();
    let hash = |pw: &str| {
        let out = run_agora(&home, &["auth", "hash", pw], &[], Duration::from_secs(60));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
    };
    let users = t.path().join("users.toml");
    std::fs::write(
        &users,
        format!(
            "[[user]]\nname = \"alice\"\npassword_hash = \"{}\"\nmodules = [\"rsc.io/quote\"]\n\n\
             [[user]]\nname = \"ops\"\npassword_hash = \"{}\"\nmodules = [\"*\"]\n",
            hash("alice-pw"),
            hash("ops-pw")
        ),
    )
    .unwrap();
    let mut cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    cfg.extra_env
        .push(("AGORA_INDEX_TYPE".into(), "memory".into()));
    cfg.extra_env
        .push(("AGORA_AUTH_FILE".into(), users.display().to_string()));
    let agora = Agora::start(&cfg);
    let auth = |user: &str, pw: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
        )
    };
    let get = |target: &str, who: Option<(&str, &str)>| {
        let header = who.map(|(u, p)| auth(u, p));
        let headers: Vec<(&str, &str)> = header
            .as_deref()
            .map(|h| ("Authorization", h))
            .into_iter()
            .collect();
        http_request_with(agora.addr, "GET", target, &headers)
            .expect("request")
            .0
    };
    for (m, v) in [("rsc.io/quote", "v1.5.2"), ("rsc.io/sampler", "v1.3.0")] {
        let target = format!("/{m}/@v/{v}.zip");
        assert_eq!(
            get(&target, Some(("ops", "ops-pw"))).status,
            200,
            "{target}"
        );
    }
    let paths = |resp: HttpResponse| -> Vec<String> {
        assert_eq!(resp.status, 200, "{}", resp.summary());
        resp.text()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("JSON line");
                v["Path"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    };
    assert_eq!(
        paths(get("/index", Some(("ops", "ops-pw")))),
        ["rsc.io/quote", "rsc.io/sampler"]
    );
    assert_eq!(
        paths(get("/index", Some(("alice", "alice-pw")))),
        ["rsc.io/quote"]
    );
    assert_eq!(get("/index", None).status, 401);
    assert_eq!(get("/metrics", None).status, 401);
    assert_eq!(get("/metrics", Some(("ops", "ops-pw"))).status, 200);
}
