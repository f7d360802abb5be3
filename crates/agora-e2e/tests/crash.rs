//! Crash safety: agora killed with SIGKILL while it fetches a version never serves the
//! half-written version afterwards, and a partial Athens-layout version on disk counts as
//! absent.

use std::collections::BTreeMap;
use std::fs;
use std::time::Duration;

use agora_testkit::*;

const MODULE: &str = "rsc.io/quote";
const VERSION: &str = "v1.5.2";
const ZIP_TARGET: &str = "/rsc.io/quote/@v/v1.5.2.zip";

/// Ground truth for rsc.io/quote@v1.5.2: the go command's result and the reference
/// proxy's bytes.
struct Truth {
    downloads: BTreeMap<String, Download>,
    info: Vec<u8>,
    gomod: Vec<u8>,
    zip: Vec<u8>,
}

fn spec() -> Vec<String> {
    vec![format!("{MODULE}@{VERSION}")]
}

fn truth(t: &TestDir) -> Truth {
    let downloads = GoEnv::direct(t.path(), "direct").mod_download(&spec());
    assert!(
        downloads[&spec()[0]].ok(),
        "ground truth: {:?}",
        downloads[&spec()[0]]
    );
    let r = ref_proxy();
    Truth {
        downloads,
        info: r.fetch("rsc.io/quote/@v/v1.5.2.info"),
        gomod: r.fetch("rsc.io/quote/@v/v1.5.2.mod"),
        zip: r.fetch("rsc.io/quote/@v/v1.5.2.zip"),
    }
}

/// With no upstream, whatever agora serves for the version must be complete and correct;
/// anything else must be an error status.
fn assert_never_partial(agora: &Agora, truth: &Truth, context: &str) {
    for (ext, want) in [("zip", &truth.zip), ("mod", &truth.gomod)] {
        let target = format!("/rsc.io/quote/@v/v1.5.2.{ext}");
        match http_get(agora.addr, &target) {
            Ok(resp) if resp.status == 200 => assert!(
                resp.body == *want,
                "{context}: agora served a {}-byte {target} that differs from the upstream's \
                 {} bytes",
                resp.body.len(),
                want.len()
            ),
            Ok(resp) => assert!(
                resp.status >= 400,
                "{context}: {target} answered {} (neither the module nor an error)",
                resp.summary()
            ),
            Err(e) => panic!("{context}: {target}: agora sent an incomplete response: {e}"),
        }
    }
    let t = TestDir::new("crash-client");
    let via = GoEnv::via(t.path(), "after-crash", agora);
    let got = via.mod_download(&spec());
    let d = &got[&spec()[0]];
    match &d.error {
        Some(e) => assert!(
            !e.contains("checksum mismatch") && !e.contains("SECURITY ERROR"),
            "{context}: the go command got a corrupt module from agora: {e}"
        ),
        None => {
            let diffs = diff_download(&spec()[0], &truth.downloads[&spec()[0]], d);
            assert!(diffs.is_empty(), "{context}: {diffs:?}");
        }
    }
}

fn assert_complete_fetch(agora: &Agora, truth: &Truth, context: &str) {
    let t = TestDir::new("crash-client");
    let via = GoEnv::via(t.path(), "refetch", agora);
    let got = via.mod_download(&spec());
    assert_same_downloads(context, &spec(), &truth.downloads, &got, Some(agora));
    let resp = agora.get(ZIP_TARGET);
    assert_eq!(resp.status, 200, "{context}: {}", resp.summary());
    assert!(
        resp.body == truth.zip,
        "{context}: the served zip differs from the upstream's"
    );
}

/// Kills agora while the upstream has sent `fraction` of the zip body, then restarts it on
/// the same storage root: first without upstream (it must not serve a partial version),
/// then with one (it must fetch the complete version).
fn crash_during_zip_fetch(fraction: f64, name: &str) {
    let t = TestDir::new(name);
    let truth = truth(&t);
    let fwd = Forwarder::to_ref_proxy();
    fwd.set_behavior(ZIP_TARGET, Behavior::Stall { fraction });
    let cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());

    let mut first = Agora::start(&cfg);
    let via = GoEnv::via(t.path(), "during-crash", &first);
    std::thread::scope(|s| {
        let client = s.spawn(|| via.mod_download(&spec()));
        let stalled = fwd.wait_stalled(1, Duration::from_secs(60));
        first.kill9();
        let during = client.join().expect("client thread");
        assert!(
            stalled,
            "agora never fetched {ZIP_TARGET} from the upstream (forwarder saw {:?})",
            fwd.requests()
        );
        // The client talking to the killed process may fail, but never with a bad module.
        let d = &during[&spec()[0]];
        if let Some(e) = &d.error {
            assert!(!e.contains("checksum mismatch"), "during the crash: {e}");
        } else {
            assert!(diff_download(&spec()[0], &truth.downloads[&spec()[0]], d).is_empty());
        }
    });
    fwd.clear_behaviors();
    fwd.release_stalls();

    let mut offline = Agora::start(&cfg.with_upstream("off"));
    assert_never_partial(
        &offline,
        &truth,
        &format!("restarted without upstream after a crash at {fraction} of the zip"),
    );
    offline.stop();

    let online = Agora::start(&cfg);
    assert_complete_fetch(
        &online,
        &truth,
        &format!("restarted with upstream after a crash at {fraction} of the zip"),
    );
}

#[test]
fn kill9_before_zip_body() {
    crash_during_zip_fetch(0.0, "crash-0");
}

#[test]
fn kill9_mid_zip_body() {
    crash_during_zip_fetch(0.5, "crash-half");
}

#[test]
fn kill9_one_byte_before_end_of_zip() {
    crash_during_zip_fetch(0.999_999, "crash-end");
}

#[test]
fn partial_athens_version_is_absent_and_refetched() {
    let t = TestDir::new("partial");
    let truth = truth(&t);
    let fwd = Forwarder::to_ref_proxy();
    let cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());
    // What Athens leaves after a crash: go.mod and a truncated source.zip, no .info.
    let dir = athens_version_dir(&cfg.storage_root, MODULE, VERSION);
    fs::create_dir_all(&dir).expect("create version dir");
    fs::write(dir.join("go.mod"), &truth.gomod).expect("seed go.mod");
    fs::write(dir.join("source.zip"), &truth.zip[..truth.zip.len() / 2]).expect("seed source.zip");

    let mut offline = Agora::start(&cfg.with_upstream("off"));
    for ext in ["info", "mod", "zip"] {
        let target = format!("/rsc.io/quote/@v/v1.5.2.{ext}");
        let resp = offline.get(&target);
        assert!(
            resp.status >= 400,
            "a partial version (go.mod + truncated source.zip, no .info) must count as absent; \
             without upstream {target} answered {}",
            resp.summary()
        );
    }
    offline.stop();

    let online = Agora::start(&cfg);
    assert_complete_fetch(&online, &truth, "partial Athens version");
    assert!(
        fwd.count("/mod/rsc.io/quote/@v/v1.5.2.zip") >= 1,
        "agora served the version without fetching the zip: {:?}",
        fwd.requests()
    );
    // Replaced on disk by the complete version, still in Athens' layout.
    assert_eq!(
        fs::read(dir.join("source.zip")).ok(),
        Some(truth.zip.clone()),
        "source.zip on disk"
    );
    assert_eq!(
        fs::read(dir.join("go.mod")).ok(),
        Some(truth.gomod.clone()),
        "go.mod on disk"
    );
    let info = fs::read(dir.join("v1.5.2.info")).unwrap_or_else(|e| {
        panic!(
            "{}/v1.5.2.info after the refetch: {e}; files: {:?}",
            dir.display(),
            files_under(&dir)
        )
    });
    let info: serde_json::Value = serde_json::from_slice(&info).expect("stored .info is JSON");
    let want: serde_json::Value =
        serde_json::from_slice(&truth.info).expect("upstream .info is JSON");
    assert_eq!(info.get("Version"), want.get("Version"), "stored .info");
}
