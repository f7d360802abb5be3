//! Stored modules outlive the upstream and the agora process: after the upstream stops and
//! agora restarts on the same storage root, fresh go clients get the same bytes.

use std::net::TcpStream;
use std::time::Duration;

use agora_testkit::*;

/// A spread of cases: escaped path and version, majors, +incompatible, pseudo-versions,
/// pre-releases, a retracted version, gopkg.in, a .git path.
const SPECS: &[&str] = &[
    "rsc.io/quote@v1.5.2",
    "rsc.io/QUOTE@v1.5.2",
    "rsc.io/QUOTE@v1.5.3-PRE",
    "rsc.io/CGO@v1.0.0",
    "rsc.io/quote/v2@v2.0.1",
    "rsc.io/quote/v3@v3.0.0",
    "rsc.io/breaker@v2.0.0+incompatible",
    "example.com/incompatiblewithsub@v2.0.0+incompatible",
    "example.com/split-incompatible@v2.1.0-pre+incompatible",
    "rsc.io/quote@v0.0.0-20180709162749-b44a0b17b2d1",
    "rsc.io/quote@v1.5.3-pre1",
    "example.com/retract@v1.0.0-bad",
    "gopkg.in/dummy.v2-unstable@v2.0.0",
    "rsc.io/sampler@v1.3.0",
    "golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c",
    "github.com/dmitshur-test/modtest5@v0.5.0-alpha",
    "k8s.io/klog/v2@v2.130.1",
    "vcs-test.golang.org/git/hello.git@v0.0.0-20170922010558-fc3a09f3dc5c",
];

#[test]
fn downloads_survive_upstream_loss_and_restarts() {
    let t = TestDir::new("restart");
    let specs: Vec<String> = SPECS.iter().map(|s| (*s).to_string()).collect();
    let mut fwd = Forwarder::to_ref_proxy();
    let cfg = AgoraConfig::new(t.path(), fwd.goproxy_url());

    let mut first = Agora::start(&cfg);
    let truth = GoEnv::direct(t.path(), "direct").mod_download(&specs);
    let warm = GoEnv::via(t.path(), "warm", &first).mod_download(&specs);
    assert_same_downloads(
        "first agora, upstream up",
        &specs,
        &truth,
        &warm,
        Some(&first),
    );

    // Lose the upstream, then restart gracefully.
    fwd.stop();
    assert!(
        TcpStream::connect_timeout(&fwd.addr, Duration::from_secs(2)).is_err(),
        "the stopped forwarder still accepts connections"
    );
    first.stop();
    let upstream_requests = fwd.requests().len();

    let mut second = Agora::start(&cfg);
    let after_restart = GoEnv::via(t.path(), "after-restart", &second).mod_download(&specs);
    assert_same_downloads(
        "restarted agora, upstream gone",
        &specs,
        &truth,
        &after_restart,
        Some(&second),
    );
    assert_same_downloads(
        "restarted agora vs first agora",
        &specs,
        &warm,
        &after_restart,
        Some(&second),
    );

    // And once more after a SIGKILL: completed versions are durable, not just flushed on exit.
    second.kill9();
    let third = Agora::start(&cfg);
    let after_kill = GoEnv::via(t.path(), "after-kill", &third).mod_download(&specs);
    assert_same_downloads(
        "agora restarted after SIGKILL, upstream gone",
        &specs,
        &truth,
        &after_kill,
        Some(&third),
    );
    assert_eq!(
        fwd.requests().len(),
        upstream_requests,
        "the stopped upstream saw requests"
    );
}
