//! Athens' filter file (`ATHENS_FILTER_FILE`, `ATHENS_GLOBAL_ENDPOINT`) and validator hook
//! (`ATHENS_PROXY_VALIDATOR`) end to end, with the real go command. The validator is a
//! small real HTTP server in this file: it is the hook endpoint itself, answering 200,
//! 403, 500 or nothing at all by module.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use agora_testkit::*;
use serde_json::Value;

fn start(t: &TestDir, upstream: String, env: &[(&str, &str)]) -> Agora {
    Agora::start(&AgoraConfig::new(t.path(), upstream).with_env(env))
}

fn one_line(what: &str, resp: &HttpResponse, needle: &str) {
    let text = resp.text();
    assert_eq!(
        text.trim_end_matches('\n').lines().count(),
        1,
        "{what}: expected a one-line reason: {}",
        resp.summary()
    );
    assert!(
        text.contains(needle),
        "{what}: {needle:?} not in {}",
        resp.summary()
    );
}

const FILTER: &str = "# agora e2e filter: only what the consumer needs, and one module sent away
-
+ rsc.io/quote ~v1.5.1
+ rsc.io/sampler ^v1.2.0
+ golang.org/x/text v0
+ rsc.io/testonly
+ rsc.io/fortune <v0.9.9
D rsc.io/breaker
";

/// Every rule kind: the bare `-`, `+` with and without versions (`~`, `^`, `<`, a prefix), `-` by
/// default for list and @latest, `D` as a 303 to the global endpoint without the path
/// prefix; the go command builds what is included, follows `D` and reports the reason for
/// what is excluded, and agora's upstream never hears of the excluded or direct modules.
#[test]
fn filter_file_rules_end_to_end() {
    let t = TestDir::new("filter");
    let file = t.path().join("filter.conf");
    std::fs::write(&file, FILTER).expect("write the filter file");
    let fwd = Forwarder::to_ref_proxy();
    let direct = ref_proxy().goproxy_url();
    let agora = start(
        &t,
        fwd.goproxy_url(),
        &[
            ("ATHENS_FILTER_FILE", &file.display().to_string()),
            ("ATHENS_GLOBAL_ENDPOINT", &direct),
            ("ATHENS_PATH_PREFIX", "/go"),
        ],
    );
    for (path, status) in [
        ("/go/rsc.io/quote/@v/v1.5.2.info", 200),
        ("/go/rsc.io/quote/@v/v1.5.1.mod", 200),
        ("/go/rsc.io/quote/@v/list", 200),
        // ~v1.5.1 is v1.5.x from v1.5.1 on; a pre-release never matches an operator.
        ("/go/rsc.io/quote/@v/v1.4.0.info", 403),
        ("/go/rsc.io/quote/@v/v1.5.3-pre1.info", 403),
        // ^v1.2.0 is v1.x from v1.2.0 on.
        ("/go/rsc.io/sampler/@v/v1.3.0.info", 200),
        ("/go/rsc.io/sampler/@v/v1.99.99.info", 200),
        ("/go/rsc.io/sampler/@v/v1.0.0.info", 403),
        // <v0.9.9 is anything below (Athens counts v0.9.9 itself too).
        ("/go/rsc.io/fortune/@v/v0.0.1.mod", 200),
        ("/go/rsc.io/fortune/@v/v1.0.0.mod", 403),
        // "v0" means the prefix "v0.": decided before upstream is asked.
        ("/go/golang.org/x/text/@v/v0.3.0.mod", 200),
        ("/go/golang.org/x/text/@v/v1.0.0.mod", 403),
        // The bare "-": everything else.
        ("/go/rsc.io/needall/@v/v0.0.1.zip", 403),
        ("/go/rsc.io/needall/@v/list", 403),
        ("/go/rsc.io/needall/@latest", 403),
    ] {
        let resp = agora.get(path);
        assert_eq!(resp.status, status, "{path}: {}", resp.summary());
        if status == 403 {
            one_line(path, &resp, "excluded by this proxy's filter file");
        }
    }
    for path in [
        "/rsc.io/breaker/@v/v1.0.0.zip",
        "/rsc.io/breaker/@v/list",
        "/rsc.io/breaker/@latest",
    ] {
        let resp = agora.get(&format!("/go{path}"));
        assert_eq!(resp.status, 303, "{path}: {}", resp.summary());
        assert_eq!(
            resp.header("location"),
            Some(format!("{direct}{path}").as_str()),
            "{path}"
        );
    }

    let mut via = GoEnv::via(t.path(), "agora", &agora);
    via.goproxy = format!("{}/go", agora.goproxy_url());
    let printed = via.build_quote_consumer(&t.path().join("consumer")).1;
    assert!(!printed.trim().is_empty(), "the consumer printed nothing");
    // D: the go command follows the 303 to the reference proxy.
    let spec = "rsc.io/breaker@v1.0.0".to_string();
    let got = via.mod_download(std::slice::from_ref(&spec));
    let truth = GoEnv::direct(t.path(), "truth").mod_download(std::slice::from_ref(&spec));
    assert_same_downloads(
        "filter D",
        std::slice::from_ref(&spec),
        &truth,
        &got,
        Some(&agora),
    );
    // -: the go command fails with agora's reason.
    let run = via.run(&["mod", "download", "rsc.io/needall@v0.0.1"]);
    assert!(!run.status.success(), "an excluded module downloaded");
    assert!(
        run.stderr.contains("excluded by this proxy's filter file"),
        "{}",
        run.stderr
    );

    let root = &agora.config.storage_root;
    assert!(athens_version_stored(root, "rsc.io/quote", "v1.5.2"));
    assert!(!athens_version_stored(root, "rsc.io/breaker", "v1.0.0"));
    let asked: Vec<String> = fwd
        .requests()
        .into_iter()
        .filter(|r| r.contains("/rsc.io/breaker/") || r.contains("/rsc.io/needall/"))
        .collect();
    assert_eq!(
        asked,
        Vec::<String>::new(),
        "upstream heard of filtered modules"
    );
}

/// A filter file agora cannot apply stops startup: a bad line (named), a missing file,
/// and a `D` rule with nowhere to send it.
#[test]
fn bad_filter_files_stop_startup() {
    let t = TestDir::new("filter-bad");
    let bad = t.path().join("bad.conf");
    std::fs::write(&bad, "+ rsc.io/quote\n# fine\n* rsc.io/sampler\n").expect("write");
    let direct_only = t.path().join("direct.conf");
    std::fs::write(&direct_only, "D rsc.io/breaker\n").expect("write");
    let home = t.sub("home");
    for (file, needles) in [
        (
            bad.clone(),
            vec![bad.display().to_string(), "line 3".to_string()],
        ),
        (
            t.path().join("missing.conf"),
            vec!["missing.conf".to_string()],
        ),
        (direct_only, vec!["ATHENS_GLOBAL_ENDPOINT".to_string()]),
    ] {
        let out = run_agora(
            &home,
            &["serve"],
            &[
                ("ATHENS_FILTER_FILE", &file.display().to_string()),
                ("ATHENS_PORT", "127.0.0.1:0"),
                ("ATHENS_STORAGE_TYPE", "memory"),
            ],
            Duration::from_secs(60),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{}: agora started:\n{stderr}",
            file.display()
        );
        for n in needles {
            assert!(stderr.contains(&n), "{n:?} not in:\n{stderr}");
        }
    }
}

/// One call the hook received.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    content_type: String,
    module: String,
    version: String,
}

/// The validator hook: a real HTTP/1.1 server on loopback, one thread per connection.
struct Hook {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    /// Modules answered 403 besides rsc.io/needall.
    deny: Arc<Mutex<BTreeSet<String>>>,
}

impl Hook {
    fn start() -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the hook");
        let addr = listener.local_addr().expect("hook address");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let deny = Arc::new(Mutex::new(BTreeSet::new()));
        let (c, d) = (calls.clone(), deny.clone());
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (c, d) = (c.clone(), d.clone());
                thread::spawn(move || {
                    let _ = serve_one(conn, &c, &d);
                });
            }
        });
        Hook { addr, calls, deny }
    }

    fn url(&self) -> String {
        format!("http://{}/validate", self.addr)
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    fn count(&self, module: &str, version: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.module == module && c.version == version)
            .count()
    }
}

fn serve_one(
    conn: TcpStream,
    calls: &Mutex<Vec<Call>>,
    deny: &Mutex<BTreeSet<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let method = line.split(' ').next().unwrap_or_default().to_string();
    let (mut length, mut content_type) = (0usize, String::new());
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "content-type" => content_type = v.trim().to_string(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let (module, version) = (field("Module"), field("Version"));
    calls.lock().expect("lock").push(Call {
        method,
        content_type,
        module: module.clone(),
        version,
    });
    let denied = deny.lock().expect("lock").contains(&module);
    let (status, text): (&str, &str) = match module.as_str() {
        "rsc.io/needall" => (
            "403 Forbidden",
            "license AGPL-3.0 is not allowed here\nsecond line, not passed on\n",
        ),
        _ if denied => ("403 Forbidden", "denied after the fact"),
        "rsc.io/breaker" => ("500 Internal Server Error", "hook broke"),
        "rsc.io/fortune" => {
            // Never answers while the test runs.
            thread::sleep(Duration::from_secs(120));
            return Ok(());
        }
        _ => ("200 OK", ""),
    };
    let mut w = conn;
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: \
         close\r\n\r\n{text}",
        text.len()
    )?;
    w.flush()
}

/// Every validator answer: 200 serves (and the go command builds), 403 is a 403 with the
/// hook's first line, 500 is a 502, a hook that never answers is a 504 after the timeout.
/// The hook is asked for .info/.mod/.zip only, stored or not, never for list or @latest,
/// and a denied module is never fetched.
#[test]
fn validator_answers_end_to_end() {
    let t = TestDir::new("validator");
    let hook = Hook::start();
    let fwd = Forwarder::to_ref_proxy();
    let agora = start(
        &t,
        fwd.goproxy_url(),
        &[
            ("ATHENS_PROXY_VALIDATOR", &hook.url()),
            ("AGORA_VALIDATOR_TIMEOUT", "2"),
        ],
    );

    // 200: the go command builds through agora; every call is Athens' POST.
    let via = GoEnv::via(t.path(), "agora", &agora);
    let printed = via.build_quote_consumer(&t.path().join("consumer")).1;
    assert!(!printed.trim().is_empty(), "the consumer printed nothing");
    let calls = hook.calls();
    assert!(hook.count("rsc.io/quote", "v1.5.2") >= 1, "{calls:?}");
    assert!(
        calls
            .iter()
            .all(|c| c.method == "POST" && c.content_type == "application/json"),
        "{calls:?}"
    );
    assert!(
        calls.iter().all(|c| !c.version.is_empty()),
        "list or @latest was validated: {calls:?}"
    );

    // 403: denied with the first line of the hook's answer; upstream never asked.
    let resp = agora.get("/rsc.io/needall/@v/v0.0.1.zip");
    assert_eq!(resp.status, 403, "{}", resp.summary());
    one_line("403", &resp, "license AGPL-3.0 is not allowed here");
    assert!(!resp.text().contains("second line"), "{}", resp.summary());
    let run = via.run(&["mod", "download", "rsc.io/needall@v0.0.1"]);
    assert!(!run.status.success(), "a denied module downloaded");
    assert!(run.stderr.contains("license AGPL-3.0"), "{}", run.stderr);
    // list and @latest are not validated.
    assert_eq!(agora.get("/rsc.io/needall/@v/list").status, 200);
    assert_eq!(hook.count("rsc.io/needall", ""), 0);
    assert!(
        !fwd.requests()
            .iter()
            .any(|r| r.contains("/rsc.io/needall/@v/v0.0.1.")),
        "a denied version was fetched: {:?}",
        fwd.requests()
    );

    // Any other status fails the request rather than serving it.
    let resp = agora.get("/rsc.io/breaker/@v/v1.0.0.info");
    assert_eq!(resp.status, 502, "{}", resp.summary());
    one_line("500 from the hook", &resp, "500");

    // A hook that never answers: 504 once the timeout has passed, not a hang.
    let started = Instant::now();
    let resp = agora.get("/rsc.io/fortune/@v/v1.0.0.mod");
    let took = started.elapsed();
    assert_eq!(resp.status, 504, "{}", resp.summary());
    one_line("hung hook", &resp, "did not answer within 2s");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(20),
        "answered after {took:?}"
    );

    // Stored versions are validated on every request, as in Athens: a module denied after
    // it was stored is no longer served.
    let before = hook.count("rsc.io/quote", "v1.5.2");
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert_eq!(hook.count("rsc.io/quote", "v1.5.2"), before + 1);
    hook.deny
        .lock()
        .expect("lock")
        .insert("rsc.io/quote".into());
    let resp = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(resp.status, 403, "{}", resp.summary());
    one_line("denied after storing", &resp, "denied after the fact");
    assert!(athens_version_stored(
        &agora.config.storage_root,
        "rsc.io/quote",
        "v1.5.2"
    ));
}
