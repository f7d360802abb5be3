//! What an operator watches: `/metrics` after known traffic (parsed by a Prometheus text
//! parser, counts exact), traces exported over OTLP/HTTP to a real receiver (continuing
//! the caller's `traceparent`), and the upstream answer caches, counted at a forwarder.

use std::collections::HashMap;
use std::time::Duration;

use agora_testkit::*;
use prometheus_parse::{Scrape, Value};

fn scrape(agora: &Agora) -> Scrape {
    let resp = agora.get("/metrics");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    assert_eq!(
        resp.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = resp.text();
    assert!(
        text.ends_with("# EOF\n"),
        "not a complete exposition:\n{text}"
    );
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parse /metrics")
}

/// The value of the sample `name` whose labels include every pair of `labels`; 0 when
/// there is none (a series not yet created has not counted anything).
fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = s
        .samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{name}: unexpected {other:?}"),
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?}: {found:?}");
    found.first().copied().unwrap_or(0.0)
}

fn requests(s: &Scrape, endpoint: &str, code: &str) -> f64 {
    value(
        s,
        "agora_http_requests_total",
        &[("endpoint", endpoint), ("code", code)],
    )
}

#[test]
fn metrics_count_exactly_the_traffic_sent() {
    let t = TestDir::new("metrics");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let before = scrape(&agora);
    let get = |target: &str, status: u16| {
        let r = agora.get(target);
        assert_eq!(r.status, status, "{target}: {}", r.summary());
        r
    };
    for _ in 0..3 {
        get("/rsc.io/quote/@v/v1.5.2.info", 200);
    }
    get("/rsc.io/quote/@v/v1.5.2.mod", 200);
    get("/rsc.io/quote/@v/v1.5.2.mod", 200);
    let zip = get("/rsc.io/quote/@v/v1.5.2.zip", 200);
    get("/rsc.io/quote/@v/list", 200);
    get("/rsc.io/quote/@v/list", 200);
    get("/rsc.io/quote/@latest", 200);
    get("/example.com/no-such-module/@v/v1.0.0.info", 404);
    get("/rsc.io/quote/@v/v1.5.2.txt", 404);
    get("/catalog", 200);
    get("/index?limit=x", 400);
    let head = agora.request("HEAD", "/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(head.status, 200);

    let s = scrape(&agora);
    let delta = |endpoint: &str, code: &str| {
        requests(&s, endpoint, code) - requests(&before, endpoint, code)
    };
    let want = [
        ("info", "200", 3.0),
        ("mod", "200", 2.0),
        ("zip", "200", 2.0),
        ("list", "200", 2.0),
        ("latest", "200", 1.0),
        ("info", "404", 1.0),
        ("other", "404", 1.0),
        ("catalog", "200", 1.0),
        ("index", "400", 1.0),
    ];
    for (endpoint, code, n) in want {
        assert_eq!(
            delta(endpoint, code),
            n,
            "requests {{endpoint={endpoint},code={code}}}"
        );
    }
    // Nothing else was answered with an error.
    let errors: f64 = s
        .samples
        .iter()
        .filter(|x| x.metric == "agora_http_requests_total")
        .filter(|x| x.labels.get("code").is_some_and(|c| !c.starts_with('2')))
        .map(|x| match x.value {
            Value::Counter(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(errors, 3.0, "error answers");
    for endpoint in ["info", "mod", "zip", "list", "latest", "catalog", "index"] {
        // (zip: the GET and the HEAD.)
        let n: f64 = want.iter().filter(|w| w.0 == endpoint).map(|w| w.2).sum();
        assert_eq!(
            value(
                &s,
                "agora_http_request_duration_seconds_count",
                &[("endpoint", endpoint)]
            ),
            n,
            "duration observations for {endpoint}"
        );
    }
    // GET bodies only: the HEAD announced the length but sent nothing.
    assert_eq!(
        value(
            &s,
            "agora_http_response_bytes_total",
            &[("endpoint", "zip")]
        ),
        zip.body.len() as f64
    );
    // One fetch stored v1.5.2; the unknown module was one not-found fetch.
    assert_eq!(
        value(&s, "agora_upstream_fetches_total", &[("result", "ok")]),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "agora_upstream_fetches_total",
            &[("result", "not_found")]
        ),
        1.0
    );
    assert_eq!(
        value(&s, "agora_upstream_fetches_total", &[("result", "error")]),
        0.0
    );
    assert_eq!(value(&s, "agora_upstream_fetches_in_flight", &[]), 0.0);
    assert_eq!(value(&s, "agora_singleflight_waiters", &[]), 0.0);
    assert_eq!(
        value(
            &s,
            "agora_storage_operation_duration_seconds_count",
            &[("op", "put")]
        ),
        1.0
    );
    // The second list came from the upstream list cache.
    let lookups = |cache: &str, result: &str| {
        value(
            &s,
            "agora_cache_lookups_total",
            &[("cache", cache), ("result", result)],
        )
    };
    assert_eq!(lookups("upstream_list", "miss"), 1.0);
    assert_eq!(lookups("upstream_list", "hit"), 1.0);
    assert_eq!(lookups("upstream_latest", "miss"), 1.0);
    // .info and .mod after the first read of each come from memory.
    assert!(
        lookups("small_files", "hit") >= 3.0,
        "{}",
        lookups("small_files", "hit")
    );
}

#[test]
fn traces_continue_the_callers_trace_and_reach_the_receiver() {
    let t = TestDir::new("traces");
    let receiver = OtlpReceiver::start(t.path());
    let mut cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    cfg.extra_env
        .push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), receiver.endpoint()));
    let mut agora = Agora::start(&cfg);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let (resp, _) = http_request_with(
        agora.addr,
        "GET",
        "/rsc.io/quote/@v/v1.5.2.zip",
        &[("traceparent", &format!("00-{trace_id}-{parent}-01"))],
    )
    .expect("GET with traceparent");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    let other = agora.get("/rsc.io/quote/@v/v1.5.2.mod");
    assert_eq!(other.status, 200);
    // Stopping flushes the spans still batched.
    agora.stop();
    let spans = receiver.spans();
    let ours: Vec<_> = spans.iter().filter(|s| s["trace_id"] == trace_id).collect();
    let request = ours
        .iter()
        .find(|s| s["name"] == "request")
        .unwrap_or_else(|| panic!("no request span in trace {trace_id}: {spans:#?}"));
    assert_eq!(request["parent_span_id"], parent, "{request}");
    assert_eq!(request["attributes"]["module"], "rsc.io/quote");
    assert_eq!(request["attributes"]["version"], "v1.5.2");
    assert_eq!(request["service"], "agora");
    for child in ["stash", "storage", "upstream"] {
        assert!(
            ours.iter().any(|s| s["name"] == child),
            "no {child} span in trace {trace_id}: {ours:#?}"
        );
    }
    // Every span of the trace hangs below the request span.
    let ids: HashMap<&str, &serde_json::Value> = ours
        .iter()
        .map(|s| (s["span_id"].as_str().unwrap_or_default(), *s))
        .collect();
    for s in &ours {
        let mut cur = *s;
        while cur["name"] != "request" {
            let p = cur["parent_span_id"].as_str().unwrap_or_default();
            cur = ids
                .get(p)
                .unwrap_or_else(|| panic!("{} has a parent outside the trace: {cur}", s["name"]));
        }
    }
    // A request without traceparent starts its own trace.
    let fresh: Vec<_> = spans
        .iter()
        .filter(|s| s["name"] == "request" && s["trace_id"] != trace_id)
        .collect();
    assert!(
        fresh
            .iter()
            .any(|s| s["attributes"]["path"] == "/rsc.io/quote/@v/v1.5.2.mod"),
        "{spans:#?}"
    );
}

fn go_list_versions(env: &GoEnv, module: &str) -> GoRun {
    env.run(&["list", "-m", "-versions", module])
}

#[test]
fn list_answers_are_reused_within_the_ttl() {
    let t = TestDir::new("list-cache");
    let fwd = Forwarder::to_ref_proxy();
    let mut cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    cfg.extra_env
        .push(("AGORA_LIST_CACHE_TTL".into(), "3".into()));
    cfg.extra_env
        .push(("AGORA_NEGATIVE_CACHE_TTL".into(), "3".into()));
    let agora = Agora::start(&cfg);
    let go = GoEnv::via(t.path(), "go", &agora);
    let list = "/mod/rsc.io/quote/@v/list";
    let first = go_list_versions(&go, "rsc.io/quote");
    first.expect_success("first list");
    let second = go_list_versions(&go, "rsc.io/quote");
    second.expect_success("second list");
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(fwd.count(list), 1, "{:?}", fwd.requests());
    std::thread::sleep(Duration::from_millis(3300));
    go_list_versions(&go, "rsc.io/quote").expect_success("list after the TTL");
    assert_eq!(fwd.count(list), 2, "{:?}", fwd.requests());

    // Not found: reused too.
    let missing = "example.com/no-such-module";
    let target = format!("/mod/{missing}/@v/list");
    for _ in 0..2 {
        let run = go_list_versions(&go, missing);
        assert!(!run.status.success(), "{}", run.stdout);
    }
    assert_eq!(fwd.count(&target), 1, "{:?}", fwd.requests());
    std::thread::sleep(Duration::from_millis(3300));
    let run = go_list_versions(&go, missing);
    assert!(!run.status.success());
    assert_eq!(fwd.count(&target), 2, "{:?}", fwd.requests());
}

#[test]
fn upstream_errors_are_never_cached() {
    let t = TestDir::new("list-cache-errors");
    let fwd = Forwarder::to_ref_proxy();
    // The reference proxy answers every path under /mod/500/ with a 500.
    let mut cfg = AgoraConfig::new(t.path(), format!("http://{}/mod/500", fwd.addr));
    cfg.extra_env
        .push(("AGORA_LIST_CACHE_TTL".into(), "60".into()));
    let agora = Agora::start(&cfg);
    for _ in 0..3 {
        let r = agora.get("/rsc.io/quote/@v/list");
        assert_eq!(r.status, 502, "{}", r.summary());
        let r = agora.get("/rsc.io/quote/@latest");
        assert_eq!(r.status, 502, "{}", r.summary());
    }
    assert_eq!(
        fwd.count("/mod/500/rsc.io/quote/@v/list"),
        3,
        "{:?}",
        fwd.requests()
    );
    assert_eq!(
        fwd.count("/mod/500/rsc.io/quote/@latest"),
        3,
        "{:?}",
        fwd.requests()
    );
}

#[test]
fn a_ttl_of_zero_asks_upstream_every_time() {
    let t = TestDir::new("list-cache-off");
    let fwd = Forwarder::to_ref_proxy();
    let mut cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    cfg.extra_env
        .push(("AGORA_LIST_CACHE_TTL".into(), "0".into()));
    cfg.extra_env
        .push(("AGORA_NEGATIVE_CACHE_TTL".into(), "0".into()));
    let agora = Agora::start(&cfg);
    for _ in 0..2 {
        assert_eq!(agora.get("/rsc.io/quote/@v/list").status, 200);
        assert_eq!(agora.get("/example.com/nope/@v/list").status, 404);
    }
    assert_eq!(fwd.count("/mod/rsc.io/quote/@v/list"), 2);
    assert_eq!(fwd.count("/mod/example.com/nope/@v/list"), 2);
}

#[test]
fn a_direct_fetch_traces_its_git_work() {
    let _lock = git_forge_lock();
    let t = TestDir::new("traces-direct");
    let forge = GitForge::start(t.path());
    let name = "traced";
    let module = format!("{GIT_FORGE_HOST}/{name}");
    let w = GitWork::new(&t.sub("corpus"), name);
    w.write("go.mod", &format!("module {module}\n\ngo 1.21\n"))
        .write("traced.go", "package traced\n");
    w.commit("one");
    w.tag("v1.0.0");
    forge.publish(&w, name);
    let receiver = OtlpReceiver::start(t.path());
    let mut cfg = direct_agora_config(t.path());
    cfg.extra_env.push((
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT".into(),
        format!("{}/v1/traces", receiver.endpoint()),
    ));
    let mut agora = Agora::start(&cfg);
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let (resp, _) = http_request_with(
        agora.addr,
        "GET",
        &format!("/{module}/@v/v1.0.0.zip"),
        &[("traceparent", &format!("00-{trace_id}-b7ad6b7169203331-01"))],
    )
    .expect("GET with traceparent");
    assert_eq!(resp.status, 200, "{}", resp.summary());
    agora.stop();
    let spans = receiver.spans();
    let steps: Vec<&str> = spans
        .iter()
        .filter(|s| s["trace_id"] == trace_id && s["name"] == "vcs")
        .filter_map(|s| s["attributes"]["step"].as_str())
        .collect();
    for step in ["git refs", "git work"] {
        assert!(
            steps.contains(&step),
            "no vcs span for {step:?}: {spans:#?}"
        );
    }
}
