//! Hostile request targets sent over raw HTTP (a URL library would normalise most of them):
//! each gets a 4xx with a one-line text/plain body, nothing is written outside the storage
//! root (nor inside it), nothing invalid is forwarded upstream, and agora stays healthy.

use agora_testkit::*;

struct Case {
    what: &'static str,
    target: String,
    /// Whether the target is syntactically valid, so that agora may ask the upstream
    /// (which answers 404) before answering 4xx itself.
    may_reach_upstream: bool,
}

fn cases(marker: &str) -> Vec<Case> {
    let m = marker;
    let mut v = Vec::new();
    let mut add = |what: &'static str, target: String| {
        v.push(Case {
            what,
            target,
            may_reach_upstream: false,
        });
    };
    // Path traversal; every payload aims at a directory named after the marker.
    add("dot-dot segment", format!("/../{m}/@v/list"));
    add(
        "dot-dot to /tmp",
        format!("/../../../../../../../../tmp/{m}/@v/v1.0.0.info"),
    );
    add(
        "dot-dot inside module",
        format!("/example.com/../../{m}/@v/v1.0.0.mod"),
    );
    add(
        "dot-dot after @v",
        format!("/rsc.io/quote/@v/../../../{m}/@v/v1.0.0.zip"),
    );
    add(
        "dot-dot in version",
        format!("/rsc.io/quote/@v/..%2f..%2f..%2f{m}.info"),
    );
    add(
        "%2e%2e segments",
        format!("/%2e%2e/%2e%2e/%2e%2e/{m}/@v/list"),
    );
    add(
        "%2e%2e%2f",
        format!("/%2e%2e%2f%2e%2e%2f{m}/@v/v1.0.0.info"),
    );
    add("%2F in module", format!("/rsc.io%2F..%2F..%2F{m}/@v/list"));
    add(
        "%2F dot-dot in module",
        format!("/rsc.io/quote%2F..%2F..%2F..%2F{m}/@v/v1.0.0.mod"),
    );
    add(
        "..%2f to /tmp",
        format!("/..%2f..%2f..%2f..%2f..%2f..%2ftmp%2f{m}/@v/v1.0.0.zip"),
    );
    add("..%2f on @latest", format!("/rsc.io/..%2f..%2f{m}/@latest"));
    add("absolute %2F path", format!("/%2Ftmp%2F{m}/@v/list"));
    add(
        "%2F in version",
        format!("/rsc.io/quote/@v/v1.0.0%2F..%2F..%2F..%2F{m}.zip"),
    );
    add(
        "backslash dot-dot",
        format!("/rsc.io/..%5c..%5c{m}/@v/list"),
    );
    add("version ..", "/rsc.io/quote/@v/%2e%2e.info".to_string());
    add("dot segment", "/rsc.io/./quote/@v/list".to_string());
    add("empty segment", "//rsc.io/quote/@v/list".to_string());
    add(
        "8 KiB of ../",
        format!("/{}{m}/@v/list", "../".repeat(2731)),
    );
    // Invalid case escapes.
    add(
        "! before upper case",
        "/rsc.io/!Q!U!O!T!E/@v/list".to_string(),
    );
    add("trailing ! in module", "/rsc.io/quote!/@v/list".to_string());
    add("lone ! element", "/rsc.io/!/@v/v1.0.0.info".to_string());
    add("raw upper case (list)", "/rsc.io/QUOTE/@v/list".to_string());
    add(
        "raw upper case (info)",
        "/rsc.io/QUOTE/@v/v1.5.2.info".to_string(),
    );
    add(
        "raw upper case (latest)",
        "/rsc.io/QUOTE/@latest".to_string(),
    );
    add(
        "raw upper case in version",
        "/rsc.io/!q!u!o!t!e/@v/v1.5.3-PRE.mod".to_string(),
    );
    add(
        "! before upper case in version",
        "/rsc.io/!q!u!o!t!e/@v/v1.5.3-!P!R!E.zip".to_string(),
    );
    add(
        "trailing ! in version",
        "/rsc.io/quote/@v/v1.5.2!.info".to_string(),
    );
    // Invalid or non-canonical versions where only canonical ones are allowed.
    add(
        "short version .mod",
        "/rsc.io/quote/@v/v1.5.mod".to_string(),
    );
    add("no v .zip", "/rsc.io/quote/@v/1.5.2.zip".to_string());
    add(
        "four parts .mod",
        "/rsc.io/quote/@v/v1.5.2.3.mod".to_string(),
    );
    add(
        "branch name .zip",
        "/rsc.io/quote/@v/master.zip".to_string(),
    );
    add("latest .mod", "/rsc.io/quote/@v/latest.mod".to_string());
    add(
        "commit hash .zip",
        "/rsc.io/quote/@v/c4d4236f9242.zip".to_string(),
    );
    add(
        "build metadata .mod",
        "/rsc.io/quote/@v/v1.5.2+meta.mod".to_string(),
    );
    add(
        "leading zero .zip",
        "/rsc.io/quote/@v/v01.5.2.zip".to_string(),
    );
    add(
        "dangling - .mod",
        "/rsc.io/quote/@v/v1.5.2-.mod".to_string(),
    );
    add("empty version .info", "/rsc.io/quote/@v/.info".to_string());
    add("empty version .zip", "/rsc.io/quote/@v/.zip".to_string());
    // NUL and control bytes.
    add("NUL in module", "/rsc.io/quote%00/@v/list".to_string());
    add("NUL module", "/%00/@v/list".to_string());
    add(
        "NUL in version .info",
        "/rsc.io/quote/@v/v1.5.2%00.info".to_string(),
    );
    add(
        "NUL in version .zip",
        "/rsc.io/quote/@v/v1.5.2%00.zip".to_string(),
    );
    add(
        "NUL after .zip",
        "/rsc.io/quote/@v/v1.5.2.zip%00".to_string(),
    );
    add(
        "CR LF in version",
        "/rsc.io/quote/@v/v1.5.2%0d%0aX-Injected:%201.info".to_string(),
    );
    // Oversized but well-formed: the upstream may be asked and says 404.
    v.push(Case {
        what: "8 KiB module path",
        target: format!("/example.com/{}@v/list", "a/".repeat(4096)),
        may_reach_upstream: true,
    });
    v.push(Case {
        what: "8 KiB version",
        target: format!("/rsc.io/quote/@v/v1.0.0-{}.info", "a".repeat(8192)),
        may_reach_upstream: true,
    });
    v
}

/// Checks one answer; returns what is wrong with it.
fn check(resp: &HttpResponse) -> Option<String> {
    if !(400..500).contains(&resp.status) {
        return Some(format!("status {} is not 4xx", resp.status));
    }
    let ctype = resp.header("content-type").unwrap_or("");
    if !ctype.to_ascii_lowercase().starts_with("text/plain") {
        return Some(format!("Content-Type {ctype:?} is not text/plain"));
    }
    let body = resp.text();
    let line = body.strip_suffix('\n').unwrap_or(&body);
    if line.trim().is_empty() || line.contains('\n') || line.contains('\r') {
        return Some(format!("body {body:?} is not exactly one line of text"));
    }
    None
}

#[test]
fn bad_requests_get_one_line_4xx_and_write_nothing() {
    let t = TestDir::new("bad-input");
    let fwd = Forwarder::to_ref_proxy();
    // <t>/outer/inner/{storage,data,sibling}: traversal from the root lands in directories
    // this test watches, or in /tmp and / (checked by name).
    let base = t.path().join("outer").join("inner");
    let cfg = AgoraConfig::new(&base, fwd.goproxy_url());
    let sibling = base.join("sibling");
    std::fs::create_dir_all(sibling.join("sub")).expect("create sibling");
    std::fs::write(sibling.join("keep.txt"), "untouched\n").expect("write sibling file");
    let marker = format!("agora-e2e-escape-{}", std::process::id());
    let outside = [
        std::env::temp_dir().join(&marker),
        std::path::Path::new("/").join(&marker),
    ];
    for p in &outside {
        assert!(!p.exists(), "{} exists before the test", p.display());
    }
    let skip = [
        cfg.storage_root.as_path(),
        cfg.data_dir.as_path(),
        cfg.log_path.as_path(),
        cfg.home.as_path(),
    ];
    let before = snapshot(t.path(), &skip);

    let mut agora = Agora::start(&cfg);
    let mut problems = Vec::new();
    for case in cases(&marker) {
        let upstream_before = fwd.requests().len();
        let shown = if case.target.len() > 120 {
            format!("{}… ({} bytes)", &case.target[..100], case.target.len())
        } else {
            case.target.clone()
        };
        match http_get(agora.addr, &case.target) {
            Err(e) => problems.push(format!("{} `{shown}`: no HTTP answer: {e}", case.what)),
            Ok(resp) => {
                if let Some(why) = check(&resp) {
                    problems.push(format!(
                        "{} `{shown}`: {why}; got {}",
                        case.what,
                        resp.summary()
                    ));
                }
            }
        }
        let forwarded: Vec<String> = fwd.requests().split_off(upstream_before);
        if !case.may_reach_upstream && !forwarded.is_empty() {
            problems.push(format!(
                "{} `{shown}`: invalid input was forwarded upstream as {:?}",
                case.what,
                forwarded
                    .iter()
                    .map(|f| f.chars().take(120).collect::<String>())
                    .collect::<Vec<_>>()
            ));
        }
        if !agora.is_running() {
            problems.push(format!("{} `{shown}`: agora exited", case.what));
            break;
        }
    }

    let after = snapshot(t.path(), &skip);
    for d in snapshot_diff(&before, &after) {
        problems.push(format!("written outside the storage root: {d}"));
    }
    for p in &outside {
        if p.exists() {
            problems.push(format!(
                "written outside the storage root: {} exists",
                p.display()
            ));
        }
    }
    let stored = files_under(&cfg.storage_root);
    if !stored.is_empty() {
        problems.push(format!("files stored for bad requests: {stored:?}"));
    }
    if agora.is_running() {
        let health = agora.get("/healthz");
        if health.status != 200 {
            problems.push(format!(
                "/healthz after the bad requests: {}",
                health.summary()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) with bad input:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
