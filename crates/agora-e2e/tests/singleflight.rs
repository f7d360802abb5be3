//! Concurrent requests for one missing version make exactly one upstream fetch.

use std::sync::Barrier;
use std::time::Duration;

use agora_testkit::*;

#[test]
fn fifty_concurrent_zip_requests_fetch_upstream_once() {
    let t = TestDir::new("singleflight");
    let want = ref_proxy().fetch("rsc.io/quote/@v/v1.5.2.zip");
    let fwd = Forwarder::to_ref_proxy();
    // Hold the upstream answer so that all requests arrive while the fetch is in flight.
    fwd.set_behavior(
        "/rsc.io/quote/@v/v1.5.2.zip",
        Behavior::Delay(Duration::from_millis(1500)),
    );
    let agora = Agora::start(&AgoraConfig::new(t.path(), fwd.goproxy_url()));

    let wave = |n: usize| -> Vec<Result<HttpResponse, String>> {
        let barrier = Barrier::new(n);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        http_get(agora.addr, "/rsc.io/quote/@v/v1.5.2.zip")
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("request thread"))
                .collect()
        })
    };
    for (round, results) in [wave(50), wave(50)].into_iter().enumerate() {
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(resp) => {
                    assert_eq!(
                        resp.status,
                        200,
                        "wave {round}, request {i}: {}",
                        resp.summary()
                    );
                    assert!(
                        resp.body == want,
                        "wave {round}, request {i}: zip bytes differ from upstream"
                    );
                }
                Err(e) => panic!("wave {round}, request {i}: {e}"),
            }
        }
    }
    let reqs = fwd.requests();
    let count = |p: &str| reqs.iter().filter(|r| *r == p).count();
    assert_eq!(
        count("/mod/rsc.io/quote/@v/v1.5.2.zip"),
        1,
        "upstream zip fetches: {reqs:?}"
    );
    assert!(
        count("/mod/rsc.io/quote/@v/v1.5.2.mod") <= 1,
        "upstream .mod fetches: {reqs:?}"
    );
    assert!(
        count("/mod/rsc.io/quote/@v/v1.5.2.info") <= 1,
        "upstream .info fetches: {reqs:?}"
    );
}

/// Several go commands downloading the same modules at once: every artifact is fetched from
/// the upstream at most once, and every client gets the ground truth.
#[test]
fn concurrent_go_commands_fetch_each_artifact_once() {
    let t = TestDir::new("singleflight-go");
    let specs: Vec<String> = [
        "rsc.io/quote@v1.5.2",
        "rsc.io/QUOTE@v1.5.2",
        "rsc.io/quote/v3@v3.0.0",
        "rsc.io/sampler@v1.3.0",
        "golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c",
        "rsc.io/breaker@v2.0.0+incompatible",
        "rsc.io/quote@v1.5.3-pre1",
        "example.com/retract@v1.0.0-bad",
    ]
    .map(String::from)
    .to_vec();
    let fwd = Forwarder::to_ref_proxy();
    for s in &specs {
        let (path, version) = s.split_once('@').expect("spec");
        let zip = format!("/{}/@v/{}.zip", escape(path), escape(version));
        fwd.set_behavior(&zip, Behavior::Delay(Duration::from_millis(300)));
    }
    let agora = Agora::start(&AgoraConfig::new(t.path(), fwd.goproxy_url()));
    let truth = GoEnv::direct(t.path(), "direct").mod_download(&specs);
    let clients: Vec<GoEnv> = (0..6)
        .map(|i| GoEnv::via(t.path(), &format!("agora-{i}"), &agora))
        .collect();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .map(|c| s.spawn(|| c.mod_download(&specs)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("go client thread"))
            .collect()
    });
    for got in &results {
        assert_same_downloads("concurrent go clients", &specs, &truth, got, Some(&agora));
    }
    let reqs = fwd.requests();
    let mut repeated = Vec::new();
    for s in &specs {
        let (path, version) = s.split_once('@').expect("spec");
        for ext in ["info", "mod", "zip"] {
            let target = format!("/mod/{}/@v/{}.{ext}", escape(path), escape(version));
            let n = reqs.iter().filter(|r| **r == target).count();
            if n > 1 {
                repeated.push(format!("{target} ×{n}"));
            }
        }
    }
    assert!(
        repeated.is_empty(),
        "fetched from the upstream more than once: {repeated:?}"
    );
}
