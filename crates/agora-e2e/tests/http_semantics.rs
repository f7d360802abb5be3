//! HTTP semantics of the proxy endpoints, end to end: content types and lengths, HEAD,
//! entity tags and `If-None-Match`, `Cache-Control`, byte ranges on zips, 405 and 404
//! answers, `Athens-Request-ID`, and `ATHENS_PATH_PREFIX` (also with the go command).
//!
//! The upstream is the go command's reference proxy; every expected body comes from it in
//! the same run.

use std::collections::BTreeSet;
use std::fs;

use agora_testkit::*;
use serde_json::Value;

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
const ZIP: &str = "application/zip";

/// A commit-hash prefix that the reference proxy resolves to a pseudo-version of
/// rsc.io/quote (the fixture `rsc.io_quote_v0.0.0-20180709162749-b44a0b17b2d1.txt`).
const HASH_QUERY: &str = "b44a0b17";

fn json(body: &[u8], what: &str) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

fn request(
    agora: &Agora,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> (HttpResponse, Vec<u8>) {
    http_request_with(agora.addr, method, target, headers)
        .unwrap_or_else(|e| panic!("{method} {target} to agora {} failed: {e}", agora.addr))
}

/// The response's Content-Length must be present and equal to the body length.
fn assert_content_length(what: &str, resp: &HttpResponse) {
    let len = resp
        .header("content-length")
        .unwrap_or_else(|| panic!("{what}: no Content-Length: {:?}", resp.headers));
    assert_eq!(
        len.parse::<usize>().ok(),
        Some(resp.body.len()),
        "{what}: Content-Length {len:?} but the body has {} bytes",
        resp.body.len()
    );
}

fn assert_one_line(what: &str, resp: &HttpResponse) {
    let text = resp.text();
    assert!(
        !text.trim().is_empty() && text.trim_end_matches('\n').lines().count() == 1,
        "{what}: expected a one-line reason, got {:?}",
        text
    );
}

fn cache_control(resp: &HttpResponse) -> String {
    resp.header("cache-control").unwrap_or("").to_string()
}

fn lines(body: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn content_type_length_and_cache_control_per_endpoint() {
    let t = TestDir::new("http-types");
    let rp = ref_proxy();
    let agora = Agora::start(&AgoraConfig::new(t.path(), rp.goproxy_url()));

    // list: the reference proxy's versions (agora adds only stored ones, here a subset).
    let list = agora.get("/rsc.io/quote/@v/list");
    assert_eq!(list.status, 200, "list: {}", list.summary());
    assert_eq!(list.header("content-type"), Some(TEXT), "list");
    assert_content_length("list", &list);
    assert!(
        cache_control(&list).contains("no-cache"),
        "list: {:?}",
        list.headers
    );
    assert!(
        !cache_control(&list).contains("immutable"),
        "list: {:?}",
        list.headers
    );
    assert_eq!(
        lines(&list.body),
        lines(&rp.fetch("rsc.io/quote/@v/list")),
        "list body"
    );

    // @latest
    let latest = agora.get("/rsc.io/quote/@latest");
    assert_eq!(latest.status, 200, "@latest: {}", latest.summary());
    assert_eq!(latest.header("content-type"), Some(JSON), "@latest");
    assert_content_length("@latest", &latest);
    assert!(
        cache_control(&latest).contains("no-cache"),
        "@latest: {:?}",
        latest.headers
    );
    assert!(
        !cache_control(&latest).contains("immutable"),
        "@latest: {:?}",
        latest.headers
    );
    assert_eq!(
        json(&latest.body, "agora @latest")["Version"],
        json(&rp.fetch("rsc.io/quote/@latest"), "reference @latest")["Version"],
        "@latest Version"
    );

    // .info, .mod, .zip of a canonical version: immutable, with an entity tag.
    for (ext, ctype) in [("info", JSON), ("mod", TEXT), ("zip", ZIP)] {
        let target = format!("/rsc.io/quote/@v/v1.5.2.{ext}");
        let resp = agora.get(&target);
        assert_eq!(resp.status, 200, "{target}: {}", resp.summary());
        assert_eq!(resp.header("content-type"), Some(ctype), "{target}");
        assert_content_length(&target, &resp);
        assert!(
            cache_control(&resp).contains("immutable"),
            "{target}: Cache-Control {:?}",
            resp.header("cache-control")
        );
        assert!(
            resp.header("etag").is_some_and(|e| !e.is_empty()),
            "{target}: no ETag: {:?}",
            resp.headers
        );
        let want = rp.fetch(&format!("rsc.io/quote/@v/v1.5.2.{ext}"));
        if ext == "info" {
            let (got, want) = (json(&resp.body, &target), json(&want, "reference .info"));
            assert_eq!(got["Version"], want["Version"], "{target}");
            assert_eq!(got["Time"], want["Time"], "{target}");
        } else {
            assert!(
                resp.body == want,
                "{target}: bytes differ from the reference proxy's"
            );
        }
    }

    // A non-canonical .info query: resolved by upstream, must not be cached as immutable.
    let target = format!("/rsc.io/quote/@v/{HASH_QUERY}.info");
    let query = agora.get(&target);
    assert_eq!(query.status, 200, "{target}: {}", query.summary());
    assert_eq!(query.header("content-type"), Some(JSON), "{target}");
    assert_content_length(&target, &query);
    assert!(
        cache_control(&query).contains("no-cache"),
        "{target}: {:?}",
        query.headers
    );
    assert!(
        !cache_control(&query).contains("immutable"),
        "{target}: {:?}",
        query.headers
    );
    let want = json(
        &rp.fetch(&format!("rsc.io/quote/@v/{HASH_QUERY}.info")),
        "reference query .info",
    );
    assert_eq!(
        json(&query.body, &target)["Version"],
        want["Version"],
        "{target}"
    );

    // Errors: a version neither stored nor upstream.
    let missing = "/rsc.io/quote/@v/v1.99.0.info";
    let direct = http_get(rp.addr, &format!("/mod{missing}")).expect("reference proxy");
    assert_eq!(direct.status, 404, "ground truth: {}", direct.summary());
    let resp = agora.get(missing);
    assert_eq!(resp.status, 404, "{missing}: {}", resp.summary());
    assert_eq!(resp.header("content-type"), Some(TEXT), "{missing}");
    assert_content_length(missing, &resp);
    assert_one_line(missing, &resp);
    assert!(
        !cache_control(&resp).contains("immutable"),
        "{missing}: an error must not be cached as immutable: {:?}",
        resp.headers
    );
}

/// Header fields that legitimately differ between two answers.
fn comparable_headers(resp: &HttpResponse) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| n != "date" && n != "athens-request-id")
        .collect();
    h.sort();
    h
}

#[test]
fn head_matches_get_without_body_and_fetches_missing_zips() {
    let t = TestDir::new("http-head");
    let rp = ref_proxy();
    let fwd = Forwarder::to_ref_proxy();
    let cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    let agora = Agora::start(&cfg);

    let targets = [
        "/rsc.io/quote/@v/list".to_string(),
        "/rsc.io/quote/@latest".to_string(),
        "/rsc.io/quote/@v/v1.5.2.info".to_string(),
        "/rsc.io/quote/@v/v1.5.2.mod".to_string(),
        "/rsc.io/quote/@v/v1.5.2.zip".to_string(),
        format!("/rsc.io/quote/@v/{HASH_QUERY}.info"),
        "/rsc.io/quote/@v/v1.99.0.zip".to_string(),
        "/rsc.io/quote/@v/v1.5.2.tar".to_string(),
        "/not-a-proxy-endpoint".to_string(),
        "/healthz".to_string(),
    ];
    for target in &targets {
        let (get, _) = request(&agora, "GET", target, &[]);
        let (head, raw) = request(&agora, "HEAD", target, &[]);
        assert_eq!(head.status, get.status, "HEAD {target}: {}", head.summary());
        assert!(
            raw.is_empty(),
            "HEAD {target}: the answer carried {} body bytes",
            raw.len()
        );
        assert_eq!(
            comparable_headers(&head),
            comparable_headers(&get),
            "HEAD {target}: headers differ from GET's"
        );
        if get.status == 200 {
            assert_content_length(&format!("GET {target}"), &get);
        }
    }

    // HEAD on a zip that is not stored yet fetches and stores it, as Athens does.
    let want = rp.fetch("rsc.io/quote/@v/v1.5.1.zip");
    let zip_up = "/mod/rsc.io/quote/@v/v1.5.1.zip";
    assert_eq!(fwd.count(zip_up), 0, "{:?}", fwd.requests());
    let (head, raw) = request(&agora, "HEAD", "/rsc.io/quote/@v/v1.5.1.zip", &[]);
    assert_eq!(head.status, 200, "HEAD missing zip: {}", head.summary());
    assert!(raw.is_empty(), "HEAD missing zip: {} body bytes", raw.len());
    assert_eq!(head.header("content-type"), Some(ZIP), "HEAD missing zip");
    assert_eq!(
        head.header("content-length"),
        Some(want.len().to_string().as_str()),
        "HEAD missing zip: Content-Length"
    );
    assert_eq!(fwd.count(zip_up), 1, "{:?}", fwd.requests());
    let stored = athens_version_dir(&cfg.storage_root, "rsc.io/quote", "v1.5.1");
    assert!(
        fs::read(stored.join("source.zip")).ok() == Some(want.clone()),
        "HEAD did not store the zip under {}",
        stored.display()
    );
    let get = agora.get("/rsc.io/quote/@v/v1.5.1.zip");
    assert_eq!(get.status, 200, "{}", get.summary());
    assert!(
        get.body == want,
        "zip bytes after HEAD differ from upstream's"
    );
    assert_eq!(fwd.count(zip_up), 1, "fetched again: {:?}", fwd.requests());
}

#[test]
fn etag_and_if_none_match_give_304_without_body() {
    let t = TestDir::new("http-etag");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let mut tags = BTreeSet::new();
    for ext in ["info", "mod", "zip"] {
        let target = format!("/rsc.io/quote/@v/v1.5.2.{ext}");
        let (first, _) = request(&agora, "GET", &target, &[]);
        assert_eq!(first.status, 200, "{target}: {}", first.summary());
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{target}: no ETag: {:?}", first.headers))
            .to_string();
        assert!(
            tags.insert(etag.clone()),
            "{target}: ETag {etag} reused across artifacts"
        );
        // The tag is stable.
        let (again, _) = request(&agora, "GET", &target, &[]);
        assert_eq!(
            again.header("etag"),
            Some(etag.as_str()),
            "{target}: ETag changed"
        );

        for method in ["GET", "HEAD"] {
            let (resp, raw) = request(&agora, method, &target, &[("If-None-Match", &etag)]);
            assert_eq!(
                resp.status,
                304,
                "{method} {target} with If-None-Match {etag}: {}",
                resp.summary()
            );
            assert!(
                raw.is_empty(),
                "{method} {target}: 304 carried {} bytes",
                raw.len()
            );
            assert_eq!(
                resp.header("etag"),
                Some(etag.as_str()),
                "{method} {target}: 304 ETag"
            );
        }
        // One of several tags matches.
        let list = format!("\"nope\", {etag}");
        let (resp, _) = request(&agora, "GET", &target, &[("If-None-Match", &list)]);
        assert_eq!(
            resp.status,
            304,
            "{target} with If-None-Match {list}: {}",
            resp.summary()
        );
        // A tag that does not match gets the full answer.
        let (resp, _) = request(&agora, "GET", &target, &[("If-None-Match", "\"nope\"")]);
        assert_eq!(
            resp.status,
            200,
            "{target} with a wrong tag: {}",
            resp.summary()
        );
        assert!(
            resp.body == first.body,
            "{target}: body differs with a wrong tag"
        );
    }
}

#[test]
fn zip_byte_ranges() {
    let t = TestDir::new("http-range");
    let rp = ref_proxy();
    let agora = Agora::start(&AgoraConfig::new(t.path(), rp.goproxy_url()));
    // A range on a zip that is not stored yet: fetched, stored, and the range served.
    let first = rp.fetch("rsc.io/quote/@v/v1.5.1.zip");
    let (resp, _) = request(
        &agora,
        "GET",
        "/rsc.io/quote/@v/v1.5.1.zip",
        &[("Range", "bytes=0-9")],
    );
    assert_eq!(
        resp.status,
        206,
        "Range on a missing zip: {}",
        resp.summary()
    );
    assert!(
        resp.body == first[..10],
        "Range on a missing zip: wrong bytes"
    );
    assert_eq!(
        resp.header("content-range"),
        Some(format!("bytes 0-9/{}", first.len()).as_str()),
        "Range on a missing zip: Content-Range"
    );

    let target = "/rsc.io/quote/@v/v1.5.2.zip";
    let full = agora.get(target);
    assert_eq!(full.status, 200, "{}", full.summary());
    assert!(
        full.body == rp.fetch("rsc.io/quote/@v/v1.5.2.zip"),
        "full zip differs from upstream's"
    );
    let z = full.body.clone();
    let n = z.len();
    assert!(n > 100, "zip unexpectedly small ({n} bytes)");
    let etag = full.header("etag").expect("zip ETag").to_string();

    let partial = |range: &str, extra: &[(&str, &str)], want: std::ops::Range<usize>| {
        let mut headers = vec![("Range", range)];
        headers.extend_from_slice(extra);
        let (resp, _) = request(&agora, "GET", target, &headers);
        assert_eq!(resp.status, 206, "Range {range}: {}", resp.summary());
        assert_eq!(
            resp.header("content-range"),
            Some(format!("bytes {}-{}/{n}", want.start, want.end - 1).as_str()),
            "Range {range}: Content-Range"
        );
        assert_content_length(&format!("Range {range}"), &resp);
        assert_eq!(resp.header("content-type"), Some(ZIP), "Range {range}");
        assert!(
            resp.body == z[want.clone()],
            "Range {range}: bytes differ from bytes {want:?} of the full zip"
        );
    };
    partial("bytes=0-9", &[], 0..10);
    partial("bytes=-10", &[], n - 10..n);
    partial(&format!("bytes={}-", n - 25), &[], n - 25..n);
    partial("bytes=5-5", &[], 5..6);
    partial(&format!("bytes=10-{}", n + 1000), &[], 10..n);
    partial("bytes=0-9", &[("If-Range", &etag)], 0..10);

    // Unsatisfiable: 416 with the size.
    for range in [format!("bytes={n}-"), format!("bytes={}-{}", n + 5, n + 10)] {
        let (resp, _) = request(&agora, "GET", target, &[("Range", &range)]);
        assert_eq!(resp.status, 416, "Range {range}: {}", resp.summary());
        assert_eq!(
            resp.header("content-range"),
            Some(format!("bytes */{n}").as_str()),
            "Range {range}: Content-Range"
        );
    }

    // If-Range with a tag that does not match: the whole zip, 200.
    let (resp, _) = request(
        &agora,
        "GET",
        target,
        &[("Range", "bytes=0-9"), ("If-Range", "\"not-the-tag\"")],
    );
    assert_eq!(resp.status, 200, "If-Range mismatch: {}", resp.summary());
    assert!(
        resp.header("content-range").is_none(),
        "If-Range mismatch: {:?}",
        resp.headers
    );
    assert!(
        resp.body == z,
        "If-Range mismatch: body is not the full zip"
    );

    // If-Range needs a strong match: the weak form of the right tag gets the whole zip.
    let weak = format!("W/{etag}");
    let (resp, _) = request(
        &agora,
        "GET",
        target,
        &[("Range", "bytes=0-9"), ("If-Range", &weak)],
    );
    assert_eq!(resp.status, 200, "If-Range {weak}: {}", resp.summary());
    assert!(resp.body == z, "If-Range {weak}: body is not the full zip");

    // HEAD with a range: the partial headers and no body.
    let (resp, raw) = request(&agora, "HEAD", target, &[("Range", "bytes=0-9")]);
    assert_eq!(resp.status, 206, "HEAD Range: {}", resp.summary());
    assert_eq!(resp.header("content-length"), Some("10"), "HEAD Range");
    assert!(raw.is_empty(), "HEAD Range carried {} bytes", raw.len());
}

#[test]
fn other_methods_get_405_and_unknown_endpoints_404() {
    let t = TestDir::new("http-405");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    for (method, target) in [
        ("POST", "/rsc.io/quote/@v/list"),
        ("POST", "/rsc.io/quote/@v/v1.5.2.zip"),
        ("PUT", "/rsc.io/quote/@v/v1.5.2.info"),
        ("DELETE", "/rsc.io/quote/@v/v1.5.2.mod"),
        ("POST", "/rsc.io/quote/@latest"),
    ] {
        let (resp, _) = request(&agora, method, target, &[("Content-Length", "0")]);
        assert_eq!(resp.status, 405, "{method} {target}: {}", resp.summary());
        let allow = resp
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {target}: no Allow header: {:?}", resp.headers));
        let allowed: BTreeSet<String> = allow.split(',').map(|m| m.trim().to_string()).collect();
        assert!(
            allowed.contains("GET") && allowed.contains("HEAD"),
            "{method} {target}: Allow {allow:?}"
        );
        assert_eq!(resp.header("content-type"), Some(TEXT), "{method} {target}");
        assert_one_line(&format!("{method} {target}"), &resp);
    }
    // Nothing was stored by the refused requests.
    assert!(
        !athens_version_dir(&agora.config.storage_root, "rsc.io/quote", "v1.5.2").exists(),
        "a refused request stored a version"
    );

    for target in [
        "/nope",
        "/rsc.io/quote",
        "/rsc.io/quote/@v/",
        "/rsc.io/quote/@v/v1.5.2.tar",
        "/rsc.io/quote/@v/v1.5.2",
        "/rsc.io/quote/@x/list",
        "/rsc.io/quote/@v/list/extra",
    ] {
        let resp = agora.get(target);
        assert_eq!(resp.status, 404, "GET {target}: {}", resp.summary());
        assert_eq!(resp.header("content-type"), Some(TEXT), "GET {target}");
        assert_content_length(target, &resp);
        assert_one_line(&format!("GET {target}"), &resp);
    }
}

#[test]
fn athens_request_id_is_echoed_or_generated() {
    let t = TestDir::new("http-reqid");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    for target in [
        "/rsc.io/quote/@v/v1.5.2.info",
        "/rsc.io/quote/@v/list",
        "/healthz",
        "/rsc.io/quote/@v/v1.99.0.info",
        "/nope",
    ] {
        let id = format!("e2e-{}-req", target.len());
        let (resp, _) = request(&agora, "GET", target, &[("Athens-Request-ID", &id)]);
        assert_eq!(
            resp.header("athens-request-id"),
            Some(id.as_str()),
            "GET {target}: the client's request id was not echoed: {:?}",
            resp.headers
        );
    }
    let mut seen = BTreeSet::new();
    for _ in 0..3 {
        let resp = agora.get("/rsc.io/quote/@v/v1.5.2.info");
        let id = resp
            .header("athens-request-id")
            .unwrap_or_else(|| panic!("no generated Athens-Request-ID: {:?}", resp.headers));
        assert!(!id.trim().is_empty(), "empty generated request id");
        assert!(
            seen.insert(id.to_string()),
            "request id {id} generated twice"
        );
    }
    // The client's id shows up in agora's log for the request.
    let id = "e2e-log-check-7f3a";
    let _ = request(
        &agora,
        "GET",
        "/rsc.io/quote/@v/v1.5.2.mod",
        &[("Athens-Request-ID", id)],
    );
    assert!(
        wait_until(std::time::Duration::from_secs(5), || agora
            .log()
            .contains(id)),
        "request id {id} never appeared in agora's log"
    );
}

#[test]
fn path_prefix_routes_and_go_command() {
    let t = TestDir::new("http-prefix");
    let rp = ref_proxy();
    let mut cfg = AgoraConfig::new(t.path(), rp.goproxy_url());
    cfg.extra_env
        .push(("ATHENS_PATH_PREFIX".to_string(), "/go".to_string()));
    let agora = Agora::start(&cfg);

    for target in ["/healthz", "/go/healthz", "/readyz", "/go/readyz"] {
        let resp = agora.get(target);
        assert_eq!(resp.status, 200, "GET {target}: {}", resp.summary());
    }
    let list = agora.get("/go/rsc.io/quote/@v/list");
    assert_eq!(list.status, 200, "prefixed list: {}", list.summary());
    assert_eq!(lines(&list.body), lines(&rp.fetch("rsc.io/quote/@v/list")));
    let zip = agora.get("/go/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(zip.status, 200, "prefixed zip: {}", zip.summary());
    assert!(
        zip.body == rp.fetch("rsc.io/quote/@v/v1.5.2.zip"),
        "prefixed zip bytes"
    );
    let latest = agora.get("/go/rsc.io/quote/@latest");
    assert_eq!(latest.status, 200, "prefixed @latest: {}", latest.summary());

    // Without the prefix, module routes do not exist (even for a stored version).
    for target in [
        "/rsc.io/quote/@v/list",
        "/rsc.io/quote/@v/v1.5.2.zip",
        "/rsc.io/quote/@v/v1.5.2.info",
        "/rsc.io/quote/@latest",
        "/gorsc.io/quote/@v/list",
    ] {
        let resp = agora.get(target);
        assert_eq!(
            resp.status,
            404,
            "GET {target} without the prefix: {}",
            resp.summary()
        );
        assert_one_line(target, &resp);
    }

    // The go command through a prefixed GOPROXY gets what it gets directly.
    let specs: Vec<String> = [
        "rsc.io/quote@v1.5.2",
        "rsc.io/QUOTE@v1.5.3-PRE",
        "rsc.io/quote/v3@v3.0.0",
        "rsc.io/sampler@v1.3.0",
    ]
    .map(String::from)
    .to_vec();
    let prefixed = GoEnv::new(t.path(), "prefixed", format!("http://{}/go", agora.addr));
    let (truth, got) = both(
        || GoEnv::direct(t.path(), "direct").mod_download(&specs),
        || prefixed.mod_download(&specs),
    );
    assert_same_downloads("prefixed GOPROXY", &specs, &truth, &got, Some(&agora));
}

/// `agora_sendfile_bytes_total` from `/metrics`.
fn sendfile_bytes(agora: &Agora) -> u64 {
    let text = agora.get("/metrics").text();
    text.lines()
        .find_map(|l| l.strip_prefix("agora_sendfile_bytes_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no agora_sendfile_bytes_total in /metrics:\n{text}")) as u64
}

/// Writes `module@version` straight into agora's disk storage (Athens' layout).
fn seed(root: &std::path::Path, module: &str, version: &str, zip: &[u8]) {
    let dir = root.join(module).join(version);
    fs::create_dir_all(&dir).expect("create a version directory");
    fs::write(dir.join("source.zip"), zip).expect("write source.zip");
    fs::write(dir.join("go.mod"), format!("module {module}\n")).expect("write go.mod");
    fs::write(
        dir.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\",\"Time\":\"2024-01-01T00:00:00Z\"}}"),
    )
    .expect("write the .info");
}

/// Bytes that do not repeat, so that a misplaced slice cannot match.
fn numbered(len: usize) -> Vec<u8> {
    (0..len as u32)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .take(len)
        .collect()
}

/// Responses read off one kept-alive connection, in order.
fn pipelined(agora: &Agora, requests: &[(&str, Option<&str>)]) -> Vec<HttpResponse> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(agora.addr).expect("connect to agora");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("set a read timeout");
    let mut all = String::new();
    for (i, (target, range)) in requests.iter().enumerate() {
        all.push_str(&format!("GET {target} HTTP/1.1\r\nHost: agora\r\n"));
        if let Some(range) = range {
            all.push_str(&format!("Range: {range}\r\n"));
        }
        if i + 1 == requests.len() {
            all.push_str("Connection: close\r\n");
        }
        all.push_str("\r\n");
    }
    stream.write_all(all.as_bytes()).expect("send the requests");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answers");
    let mut rest = &raw[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let resp = agora_testkit::parse_response(rest, false).expect("an HTTP response");
        let head = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header end")
            + 4;
        rest = &rest[head + resp.body.len()..];
        out.push(resp);
    }
    out
}

/// Zips from 32 KiB up go out of plain connections with `sendfile` from their stored
/// file (counted by `agora_sendfile_bytes_total`), byte for byte what is stored, ranges
/// and kept-alive connections included; small ones are copied as before. A file cut short
/// behind agora's back does not cut the answer short: the bytes are in memory too.
#[test]
fn big_zips_go_out_from_their_files() {
    let t = TestDir::new("http-sendfile");
    let cfg = AgoraConfig::new(t.path(), "off");
    let big = numbered(200 << 10);
    let small = numbered(4 << 10);
    seed(&cfg.storage_root, "example.com/big", "v1.0.0", &big);
    seed(
        &cfg.storage_root,
        "example.com/big",
        "v1.1.0",
        &big[..100 << 10],
    );
    seed(&cfg.storage_root, "example.com/small", "v1.0.0", &small);
    let agora = Agora::start(&cfg);
    let big_zip = "/example.com/big/@v/v1.0.0.zip";
    let small_zip = "/example.com/small/@v/v1.0.0.zip";

    let before = sendfile_bytes(&agora);
    for round in 0..3 {
        let r = agora.get(big_zip);
        assert_eq!(r.status, 200, "{}", r.summary());
        assert_content_length("200 KiB zip", &r);
        assert!(
            r.body == big,
            "round {round}: the 200 KiB zip differs from the stored one"
        );
    }
    assert_eq!(
        sendfile_bytes(&agora) - before,
        3 * big.len() as u64,
        "every byte of three 200 KiB zips went out with sendfile"
    );

    let before = sendfile_bytes(&agora);
    let r = agora.get(small_zip);
    assert!(
        r.status == 200 && r.body == small,
        "4 KiB zip: {}",
        r.summary()
    );
    assert_eq!(sendfile_bytes(&agora), before, "a 4 KiB zip is copied");

    // One connection: big and small zips, a range, .info, another big zip, in a row.
    let before = sendfile_bytes(&agora);
    let answers = pipelined(
        &agora,
        &[
            (big_zip, None),
            (small_zip, None),
            (big_zip, Some("bytes=1000-99999")),
            ("/example.com/big/@v/v1.0.0.info", None),
            ("/example.com/big/@v/v1.1.0.zip", None),
            (big_zip, Some("bytes=-7")),
        ],
    );
    let want: [(u16, &[u8]); 6] = [
        (200, &big),
        (200, &small),
        (206, &big[1000..100_000]),
        (
            200,
            b"{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-01T00:00:00Z\"}",
        ),
        (200, &big[..100 << 10]),
        (206, &big[big.len() - 7..]),
    ];
    assert_eq!(answers.len(), want.len(), "answers on one connection");
    for (i, (resp, (status, body))) in answers.iter().zip(want).enumerate() {
        assert_eq!(resp.status, status, "answer {i}: {}", resp.summary());
        assert!(
            resp.body == body,
            "answer {i}: wrong bytes ({} of them)",
            resp.body.len()
        );
    }
    assert_eq!(
        sendfile_bytes(&agora) - before,
        (big.len() + 99_000 + (100 << 10) + 7) as u64,
        "the big zips and their ranges went out with sendfile, nothing else did"
    );

    // Cut short in place (same file, so the kept descriptor sees it): the answer is still
    // the whole stored zip.
    let stored = cfg.storage_root.join("example.com/big/v1.0.0/source.zip");
    fs::OpenOptions::new()
        .write(true)
        .open(&stored)
        .and_then(|f| f.set_len(50 << 10))
        .expect("cut the stored zip short");
    let before = sendfile_bytes(&agora);
    let r = agora.get(big_zip);
    assert_eq!(r.status, 200, "{}", r.summary());
    assert!(
        r.body == big,
        "a file cut short behind agora's back cut the answer short"
    );
    assert_eq!(
        sendfile_bytes(&agora) - before,
        50 << 10,
        "what the file still has went out with sendfile, the rest from memory"
    );
}
