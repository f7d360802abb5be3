//! The real go command downloads modules through agora (upstream: the go command's own
//! reference proxy) and gets exactly what it gets from the reference proxy directly.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use agora_testkit::*;
use serde_json::Value;

/// Not a test of agora: checks that the harness itself is sound (the reference proxy, the
/// ground-truth partition of the fixtures into good and broken, the forwarder), so that a
/// failure elsewhere can be trusted to be agora's.
#[test]
fn harness_self_check() {
    let t = TestDir::new("harness");
    let all: Vec<String> = fixtures().iter().map(ModVer::spec).collect();
    let good = good_fixture_specs();
    assert!(
        good.len() >= 150,
        "only {} usable fixtures found in testdata/mod",
        good.len()
    );

    let direct = GoEnv::direct(t.path(), "direct");
    let results = direct.mod_download(&all);
    for spec in &good {
        assert!(
            results[spec].ok(),
            "{spec} fails against the reference proxy directly ({}); if the fixture is \
             deliberately broken, add it to agora_testkit::BROKEN",
            results[spec].error_line()
        );
    }
    for (spec, why, _) in BROKEN {
        assert!(
            results[*spec].error.is_some(),
            "{spec} ({why}) is listed in agora_testkit::BROKEN but downloads fine directly"
        );
    }

    // The forwarder is a faithful pass-through that counts requests.
    let fwd = Forwarder::to_ref_proxy();
    let through = GoEnv::new(t.path(), "forwarder", fwd.goproxy_url());
    let specs = vec![
        "rsc.io/quote@v1.5.2".to_string(),
        "rsc.io/QUOTE@v1.5.3-PRE".to_string(),
    ];
    let got = through.mod_download(&specs);
    assert_same_downloads("forwarder pass-through", &specs, &results, &got, None);
    assert_eq!(
        fwd.count("/mod/rsc.io/quote/@v/v1.5.2.zip"),
        1,
        "{:?}",
        fwd.requests()
    );
    assert_eq!(
        fwd.count("/mod/rsc.io/!q!u!o!t!e/@v/v1.5.3-!p!r!e.zip"),
        1,
        "{:?}",
        fwd.requests()
    );
}

#[test]
fn fixture_table_downloads_match_reference() {
    let t = TestDir::new("table");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let specs = good_fixture_specs();
    // The table is every well-formed fixture; make sure it still covers the hard cases.
    for must in [
        "rsc.io/QUOTE@v1.5.2",                // case-escaped path
        "rsc.io/QUOTE@v1.5.3-PRE",            // case-escaped version
        "rsc.io/quote/v2@v2.0.1",             // major v2
        "rsc.io/quote/v3@v3.0.0",             // major v3
        "rsc.io/breaker@v2.0.0+incompatible", // +incompatible
        "example.com/split-incompatible@v2.1.0-pre+incompatible",
        "rsc.io/quote@v1.5.3-pre1",                        // pre-release
        "rsc.io/quote@v0.0.0-20180709162749-b44a0b17b2d1", // pseudo-version
        "example.com/retract@v1.0.0-bad",                  // retracted
        "example.com/retract/self/prerelease@v1.9.1-pre",  // retracted pre-release
        "gopkg.in/dummy.v2-unstable@v2.0.0",               // gopkg.in
        "vcs-test.golang.org/git/hello.git@v0.0.0-20170922010558-fc3a09f3dc5c",
    ] {
        assert!(
            specs.iter().any(|s| s == must),
            "the fixture table lacks {must}"
        );
    }
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    assert_same_downloads("fixture table", &specs, &truth, &got, Some(&agora));
}

/// Fixtures the go command rejects when fetched directly must fail through agora too, and
/// agora must keep nothing of those it can tell are bad.
#[test]
fn broken_fixtures_fail_and_store_nothing() {
    let t = TestDir::new("broken");
    let mut fwd = Forwarder::to_ref_proxy();
    let agora = Agora::start(&AgoraConfig::new(t.path(), fwd.goproxy_url()));
    let root = agora.config.storage_root.clone();
    let missing = "example.com/does-not-exist@v1.0.0";
    let mut specs: Vec<String> = BROKEN.iter().map(|(s, _, _)| (*s).to_string()).collect();
    specs.push(missing.to_string());

    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));

    let mut problems = Vec::new();
    for spec in &specs {
        assert!(
            truth[spec].error.is_some(),
            "ground truth: {spec} unexpectedly downloads directly"
        );
        if got[spec].error.is_none() {
            problems.push(format!(
                "{spec}: downloads through agora but fails directly"
            ));
        }
    }
    // With the upstream gone, agora can only answer from what it stored.
    fwd.stop();
    let mut must_not_store: Vec<&str> = BROKEN
        .iter()
        .filter(|(_, _, store_ok)| !store_ok)
        .map(|(s, _, _)| *s)
        .collect();
    must_not_store.push(missing);
    for spec in must_not_store {
        let why = BROKEN
            .iter()
            .find(|(s, _, _)| *s == spec)
            .map_or("no such module", |b| b.1);
        let (path, version) = spec.split_once('@').expect("spec has @");
        let module_dir = root.join(path);
        let stored = files_under(&module_dir);
        if !stored.is_empty() {
            problems.push(format!(
                "{spec} ({why}): agora stored files under {}: {stored:?}",
                module_dir.display()
            ));
        }
        for ext in ["info", "mod", "zip"] {
            let target = format!("/{}/@v/{}.{ext}", escape(path), escape(version));
            let resp = agora.get(&target);
            if resp.status == 200 {
                problems.push(format!(
                    "{spec} ({why}): with the upstream stopped, agora still serves {target}: {}",
                    resp.summary()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken fixtures through agora:\n  {}",
        problems.join("\n  ")
    );
}

fn normalise_list_entry(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(obj) = v.as_object_mut()
        && obj.contains_key("Error")
    {
        // Error texts name the proxy URL and quote its response body; only whether there
        // is an error must agree.
        obj.insert("Error".to_string(), Value::String("<error>".to_string()));
    }
    v
}

/// Results keyed by module path (one query per module): (comparable form, raw form).
fn by_path(values: &[Value]) -> BTreeMap<String, (Value, Value)> {
    values
        .iter()
        .map(|v| {
            let path = v
                .get("Path")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (path, (normalise_list_entry(v), v.clone()))
        })
        .collect()
}

fn assert_same_lists(context: &str, truth: &[Value], got: &[Value]) {
    let (truth, got) = (by_path(truth), by_path(got));
    let keys: BTreeSet<&String> = truth.keys().chain(got.keys()).collect();
    let mut diffs = Vec::new();
    for k in keys {
        let (t, g) = (truth.get(k), got.get(k));
        if t.map(|x| &x.0) != g.map(|x| &x.0) {
            diffs.push(format!(
                "{k}:\n      direct: {}\n      agora:  {}",
                t.map_or("<missing>".to_string(), |x| x.1.to_string()),
                g.map_or("<missing>".to_string(), |x| x.1.to_string())
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{context}: {} module(s) differ through agora:\n  {}",
        diffs.len(),
        diffs
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  "),
    );
}

/// Every fixture module plus one that does not exist, except modules with a version that
/// agora must refuse to store (see `agora_testkit::BROKEN`): agora may refuse every artifact of
/// such a version, so `go list` cannot be expected to agree on them (only to fail, which
/// `broken_fixtures_fail_and_store_nothing` checks).
fn all_module_paths() -> Vec<String> {
    let unstorable: BTreeSet<&str> = BROKEN
        .iter()
        .filter(|(_, _, store_ok)| !store_ok)
        .filter_map(|(spec, _, _)| spec.split_once('@').map(|(path, _)| path))
        .collect();
    let mut paths: BTreeSet<String> = fixtures()
        .into_iter()
        .map(|m| m.path)
        .filter(|p| !unstorable.contains(p.as_str()))
        .collect();
    paths.insert("example.com/does-not-exist".to_string());
    paths.into_iter().collect()
}

#[test]
fn version_lists_match_reference() {
    let t = TestDir::new("lists");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let paths = all_module_paths();
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    for flags in [&["-versions"][..], &["-versions", "-retracted"][..]] {
        let args: Vec<&str> = flags
            .iter()
            .copied()
            .chain(paths.iter().map(String::as_str))
            .collect();
        let (truth, got) = both(|| direct.list_json(&args), || via.list_json(&args));
        assert_eq!(
            truth.len(),
            paths.len(),
            "ground truth: one result per module expected"
        );
        let listed = truth.iter().filter(|v| v.get("Versions").is_some()).count();
        assert!(
            listed > 50,
            "ground truth: only {listed} modules have versions"
        );
        assert_same_lists(&format!("go list -m {}", flags.join(" ")), &truth, &got);
    }
}

#[test]
fn latest_queries_match_reference() {
    let t = TestDir::new("latest");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let specs: Vec<String> = all_module_paths()
        .iter()
        .map(|p| format!("{p}@latest"))
        .collect();
    let args: Vec<&str> = specs.iter().map(String::as_str).collect();
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.list_json(&args), || via.list_json(&args));
    // Modules without tagged versions resolve @latest through the proxy's /@latest endpoint.
    let notags = truth
        .iter()
        .find(|v| v.get("Path").and_then(Value::as_str) == Some("example.com/notags"))
        .expect("ground truth has example.com/notags");
    assert!(
        notags
            .get("Version")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("v0.0.0-")),
        "ground truth: example.com/notags@latest should be a pseudo-version: {notags}"
    );
    assert_same_lists("go list -m M@latest", &truth, &got);
}

/// The `Short` commit hash in a fixture's `.info` section.
fn fixture_short_hash(file: &str) -> String {
    let text = fs::read_to_string(fixture_dir().join(file)).expect("read fixture");
    let info = text
        .split("-- .info --\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("fixture has an .info section");
    let v: Value = serde_json::from_str(info).expect(".info is JSON");
    v.get("Short")
        .and_then(Value::as_str)
        .expect(".info has Short")
        .to_string()
}

#[test]
fn commit_hash_query_is_stored_under_canonical_version() {
    let t = TestDir::new("hash");
    let mut fwd = Forwarder::to_ref_proxy();
    let agora = Agora::start(&AgoraConfig::new(t.path(), fwd.goproxy_url()));
    let root = agora.config.storage_root.clone();
    // The reference proxy maps any prefix of a version's commit hash to that version.
    let prefix = fixture_short_hash("rsc.io_quote_v1.5.2.txt")[..8].to_string();
    let spec = format!("rsc.io/quote@{prefix}");
    let specs = vec![spec.clone()];

    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (truth, got) = both(|| direct.mod_download(&specs), || via.mod_download(&specs));
    let canonical = truth[&spec].version.clone();
    assert_eq!(
        canonical, "v1.5.2",
        "ground truth: {spec} should resolve to v1.5.2"
    );
    assert_same_downloads("commit-hash query", &specs, &truth, &got, Some(&agora));

    let resp = agora.get(&format!("/rsc.io/quote/@v/{prefix}.info"));
    assert_eq!(
        resp.status,
        200,
        "GET /rsc.io/quote/@v/{prefix}.info: {}",
        resp.summary()
    );
    let info: Value = serde_json::from_slice(&resp.body).unwrap_or_else(|e| {
        panic!(
            "agora's .info for {prefix} is not JSON ({e}): {}",
            resp.summary()
        )
    });
    assert_eq!(
        info.get("Version").and_then(Value::as_str),
        Some("v1.5.2"),
        "{info}"
    );

    // Stored under v1.5.2: servable with the upstream gone, in Athens' layout, and no
    // storage entry is named after the query.
    fwd.stop();
    let zip = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(
        zip.status,
        200,
        "v1.5.2.zip with the upstream stopped: {}",
        zip.summary()
    );
    assert_eq!(
        zip.body,
        ref_proxy().fetch("rsc.io/quote/@v/v1.5.2.zip"),
        "stored zip bytes"
    );
    let dir = athens_version_dir(&root, "rsc.io/quote", "v1.5.2");
    for f in ["go.mod", "source.zip", "v1.5.2.info"] {
        assert!(
            dir.join(f).is_file(),
            "expected Athens' layout {}/{f}; storage holds {:?}",
            dir.display(),
            files_under(&root)
        );
    }
    let named_after_query: Vec<_> = snapshot(&root, &[])
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(&prefix))
        .collect();
    assert!(
        named_after_query.is_empty(),
        "storage entries named after the query: {named_after_query:?}"
    );
}

#[test]
fn consumer_module_builds_through_agora() {
    let t = TestDir::new("consumer");
    let agora = Agora::start(&AgoraConfig::new(t.path(), ref_proxy().goproxy_url()));
    let direct = GoEnv::direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "agora", &agora);
    let (dir_a, dir_b) = (
        t.path().join("consumer-direct"),
        t.path().join("consumer-agora"),
    );
    let ((sum_truth, out_truth), (sum_got, out_got)) = both(
        || direct.build_quote_consumer(&dir_a),
        || via.build_quote_consumer(&dir_b),
    );
    assert!(
        !out_truth.trim().is_empty(),
        "ground truth: the consumer printed nothing"
    );
    assert_eq!(
        String::from_utf8_lossy(&sum_got),
        String::from_utf8_lossy(&sum_truth),
        "go.sum through agora differs from go.sum direct"
    );
    assert_eq!(
        out_got, out_truth,
        "the consumer built through agora prints something else"
    );
}
