//! Several agora replicas on one S3 bucket (moto), sharing a single-flight lock: redis,
//! redis behind a sentinel, etcd, and the lock object in the bucket itself.
//!
//! * 72 concurrent requests spread over three replicas for five uncached versions (their
//!   upstream answers delayed so the misses overlap): every answer is the reference
//!   proxy's bytes, every replica gives the same zip ETag, and the upstream sees each
//!   `.info`, `.mod` and `.zip` exactly once;
//! * the replica holding a lock is killed with SIGKILL mid-fetch: another replica takes
//!   the lock once its TTL runs out and completes the fetch, and no partial version is
//!   ever visible;
//! * a lock server that cannot be reached is a 503 naming the lock, never a 404, while
//!   stored versions are still served.
//!
//! The servers are real (redis-server, redis-sentinel, etcd, moto_server, installed by
//! scripts/test.sh); the tests fail when they cannot start.

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use agora_testkit::*;

/// Uncached versions of the reference proxy's modules.
const SPECS: &[(&str, &str)] = &[
    ("rsc.io/quote", "v1.5.2"),
    ("rsc.io/sampler", "v1.3.0"),
    ("rsc.io/quote/v3", "v3.0.0"),
    ("rsc.io/breaker", "v2.0.0+incompatible"),
    ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
];

const EXTS: &[&str] = &["zip", "info", "mod", "zip"];

/// Where the replicas store: a fresh bucket of the shared moto (S3) or Azurite. (Neither
/// GCS emulator here enforces generation preconditions on the resumable uploads OpenDAL
/// makes conditional writes with, so the GCS lock is checked on the wire instead, in
/// agora-lock's tests.)
#[derive(Clone, Copy)]
enum Store {
    S3,
    Azure,
}

impl Store {
    /// The environment selecting a fresh bucket, and the bucket's name.
    fn env(self) -> (Vec<(String, String)>, String) {
        match self {
            Store::S3 => {
                let moto = shared_moto();
                let bucket = moto.create_bucket("replicas");
                (BucketLayout::S3.agora_env(moto.addr(), &bucket), bucket)
            }
            Store::Azure => {
                let az = agora_testkit::azurite::shared();
                let container = az.container();
                let e = env(&[
                    ("ATHENS_STORAGE_TYPE", "azureblob"),
                    ("AZURE_STORAGE_CONNECTION_STRING", &az.connection_string()),
                    ("ATHENS_AZURE_CONTAINER_NAME", &container),
                ]);
                (e, container)
            }
        }
    }
}

/// Three replicas on a fresh bucket of `store`, with `lock_env` selecting the lock.
fn replicas(
    t: &TestDir,
    upstream: &str,
    store: Store,
    lock_env: &[(String, String)],
) -> (Vec<Agora>, String) {
    let (store_env, bucket) = store.env();
    let agoras = (0..3)
        .map(|i| {
            let mut cfg = AgoraConfig::new(&t.sub(&format!("replica{i}")), upstream);
            cfg.extra_env.extend(store_env.iter().cloned());
            cfg.extra_env.extend(lock_env.iter().cloned());
            Agora::start(&cfg)
        })
        .collect();
    (agoras, bucket)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The concurrent scenario: 72 requests, 3 replicas, 5 versions.
fn one_fetch_per_version(name: &str, store: Store, lock_env: &[(String, String)]) {
    one_fetch_per_version_with(name, store, lock_env, 1200);
}

/// The same, with upstream `.zip` answers delayed by `zip_delay_ms`.
fn one_fetch_per_version_with(
    name: &str,
    store: Store,
    lock_env: &[(String, String)],
    zip_delay_ms: u64,
) {
    let t = TestDir::new(name);
    let fwd = Forwarder::to_ref_proxy();
    for ext in [".zip", ".info", ".mod"] {
        let delay = if ext == ".zip" { zip_delay_ms } else { 300 };
        fwd.set_behavior(ext, Behavior::Delay(Duration::from_millis(delay)));
    }
    let (agoras, _bucket) = replicas(&t, &fwd.goproxy_url(), store, lock_env);
    let mut want = BTreeMap::new();
    for (path, version) in SPECS {
        for ext in ["zip", "info", "mod"] {
            let target = artifact_target(path, version, ext);
            want.insert(target.clone(), ref_proxy().fetch(&target));
        }
    }
    let jobs: Vec<(usize, String)> = (0..72)
        .map(|i| {
            let (path, version) = SPECS[i % SPECS.len()];
            let ext = EXTS[(i / SPECS.len()) % EXTS.len()];
            (i % agoras.len(), artifact_target(path, version, ext))
        })
        .collect();
    let barrier = Barrier::new(jobs.len());
    let results: Vec<(usize, String, Result<HttpResponse, String>)> = thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(replica, target)| {
                let (agora, barrier) = (&agoras[*replica], &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let r = http_get(agora.addr, target).map_err(|e| e.to_string());
                    (*replica, target.clone(), r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request"))
            .collect()
    });
    for (replica, target, r) in &results {
        let resp = r
            .as_ref()
            .unwrap_or_else(|e| panic!("replica {replica} {target}: {e}"));
        assert_eq!(
            resp.status,
            200,
            "replica {replica} {target}: {}\n{}",
            resp.summary(),
            agoras[*replica].log_tail()
        );
        assert!(
            resp.body == want[target],
            "replica {replica} {target}: bytes differ from the reference proxy"
        );
    }
    // Every replica serves every zip with one ETag, and answers 304 to it.
    for (path, version) in SPECS {
        let target = artifact_target(path, version, "zip");
        let tags: Vec<String> = agoras
            .iter()
            .map(|a| {
                let resp = a.get(&target);
                assert_eq!(resp.status, 200, "{target}: {}", resp.summary());
                resp.header("etag").expect("zip ETag").to_owned()
            })
            .collect();
        assert!(
            tags.iter().all(|t| *t == tags[0]),
            "{target}: ETags {tags:?}"
        );
        for a in &agoras {
            let resp = http_request_with(a.addr, "GET", &target, &[("If-None-Match", &tags[0])])
                .expect("conditional GET")
                .0;
            assert_eq!(resp.status, 304, "{target}: {}", resp.summary());
        }
    }
    let reqs = fwd.requests();
    for (path, version) in SPECS {
        for ext in ["info", "mod", "zip"] {
            let upstream = format!("/mod/{path}/@v/{version}.{ext}");
            let n = reqs.iter().filter(|r| **r == upstream).count();
            assert_eq!(n, 1, "{upstream} fetched {n} times; upstream saw {reqs:#?}");
        }
    }
}

#[test]
fn redis_lock_fetches_each_version_once_across_replicas() {
    let redis = Redis::start(Some("s3cret"));
    one_fetch_per_version(
        "replicas-redis",
        Store::S3,
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "redis"),
            ("ATHENS_REDIS_ENDPOINT", &redis.endpoint()),
            ("ATHENS_REDIS_PASSWORD", "s3cret"),
        ]),
    );
}

#[test]
fn redis_sentinel_lock_fetches_each_version_once_across_replicas() {
    let t = TestDir::new("replicas-sentinel-servers");
    let sentinel = RedisSentinel::start(
        &t.sub("sentinel"),
        "mymaster",
        Some("m4ster"),
        Some("sekret"),
    );
    one_fetch_per_version(
        "replicas-sentinel",
        Store::S3,
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "redis-sentinel"),
            (
                "ATHENS_REDIS_SENTINEL_ENDPOINTS",
                &sentinel.addr.to_string(),
            ),
            ("ATHENS_REDIS_SENTINEL_MASTER_NAME", "mymaster"),
            ("ATHENS_REDIS_SENTINEL_PASSWORD", "sekret"),
            ("ATHENS_REDIS_PASSWORD", "m4ster"),
        ]),
    );
}

#[test]
fn etcd_lock_fetches_each_version_once_across_replicas() {
    let t = TestDir::new("replicas-etcd-server");
    let etcd = Etcd::start(t.path());
    one_fetch_per_version(
        "replicas-etcd",
        Store::S3,
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "etcd"),
            ("ATHENS_ETCD_ENDPOINTS", &etcd.addr.to_string()),
        ]),
    );
}

#[test]
fn bucket_lock_fetches_each_version_once_across_replicas() {
    one_fetch_per_version(
        "replicas-s3",
        Store::S3,
        &env(&[("AGORA_SINGLE_FLIGHT_TYPE", "s3")]),
    );
}

/// The holder of the lock is killed mid-fetch: another replica completes within the TTL.
fn holder_killed(name: &str, lock_env: &[(String, String)]) {
    const TTL: u64 = 3;
    let t = TestDir::new(name);
    let fwd = Forwarder::to_ref_proxy();
    let (path, version) = ("rsc.io/quote", "v1.5.2");
    let target = artifact_target(path, version, "zip");
    let want = ref_proxy().fetch(&target);
    let mut lock_env = lock_env.to_vec();
    lock_env.extend(env(&[("AGORA_SINGLE_FLIGHT_TTL", &TTL.to_string())]));
    let (mut agoras, bucket) = replicas(&t, &fwd.goproxy_url(), Store::S3, &lock_env);
    fwd.set_behavior(".zip", Behavior::Stall { fraction: 0.5 });
    let holder_addr = agoras[0].addr;
    let hung = {
        let target = target.clone();
        thread::spawn(move || http_get(holder_addr, &target).map(|r| r.status))
    };
    assert!(
        fwd.wait_stalled(1, Duration::from_secs(20)),
        "the first replica's zip download never started"
    );
    assert!(
        agoras[0].log().contains("took the single-flight lock"),
        "{}",
        agoras[0].log_tail()
    );
    // The others ask while the holder is stuck: they wait for its lock.
    let waiters: Vec<_> = agoras[1..]
        .iter()
        .map(|a| {
            let (addr, target) = (a.addr, target.clone());
            thread::spawn(move || http_get(addr, &target))
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    let info_key = BucketLayout::S3.key(path, version, "info");
    assert!(
        !shared_moto().keys(&bucket).contains(&info_key),
        "committed before the fetch finished"
    );
    fwd.clear_behaviors();
    agoras[0].kill9();
    let killed = Instant::now();
    fwd.release_stalls();
    let _ = hung.join();
    for (i, w) in waiters.into_iter().enumerate() {
        let resp = w.join().expect("waiter").expect("waiter's answer");
        assert_eq!(resp.status, 200, "replica {}: {}", i + 1, resp.summary());
        assert!(resp.body == want, "replica {}: bytes differ", i + 1);
    }
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(TTL + 10),
        "the waiters took {took:?} after the holder died (TTL {TTL}s)"
    );
    let zips = fwd.count(&format!("/mod/{path}/@v/{version}.zip"));
    assert_eq!(
        zips,
        2,
        "the dead holder's fetch and exactly one more: {:?}",
        fwd.requests()
    );
    for a in &agoras[1..] {
        let resp = a.get(&target);
        assert_eq!(resp.status, 200);
        assert!(resp.body == want);
    }
}

#[test]
fn a_killed_redis_lock_holder_is_replaced_within_the_ttl() {
    let redis = Redis::start(None);
    holder_killed(
        "replicas-kill-redis",
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "redis"),
            ("ATHENS_REDIS_ENDPOINT", &redis.endpoint()),
        ]),
    );
}

#[test]
fn a_killed_etcd_lock_holder_is_replaced_within_the_ttl() {
    let t = TestDir::new("replicas-kill-etcd-server");
    let etcd = Etcd::start(t.path());
    holder_killed(
        "replicas-kill-etcd",
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "etcd"),
            ("ATHENS_ETCD_ENDPOINTS", &etcd.endpoint()),
        ]),
    );
}

#[test]
fn a_killed_bucket_lock_holder_is_replaced_within_the_ttl() {
    holder_killed(
        "replicas-kill-s3",
        &env(&[("AGORA_SINGLE_FLIGHT_TYPE", "s3")]),
    );
}

#[test]
fn an_unreachable_lock_server_is_503_not_404() {
    let t = TestDir::new("replicas-lock-down");
    let mut redis = Redis::start(None);
    let fwd = Forwarder::to_ref_proxy();
    let (agoras, _bucket) = replicas(
        &t,
        &fwd.goproxy_url(),
        Store::S3,
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "redis"),
            ("ATHENS_REDIS_ENDPOINT", &redis.endpoint()),
        ]),
    );
    let stored = artifact_target("rsc.io/quote", "v1.5.2", "zip");
    assert_eq!(agoras[0].get(&stored).status, 200);
    redis.stop();
    let missing = artifact_target("rsc.io/sampler", "v1.3.0", "zip");
    let resp = agoras[1].get(&missing);
    assert_eq!(resp.status, 503, "{}", resp.summary());
    assert!(
        resp.text().contains("single-flight lock"),
        "{}",
        resp.text()
    );
    // Stored versions do not need the lock.
    assert_eq!(agoras[2].get(&stored).status, 200);
}

#[test]
fn azure_container_lock_fetches_each_version_once_across_replicas() {
    one_fetch_per_version(
        "replicas-azure",
        Store::Azure,
        &env(&[("ATHENS_SINGLE_FLIGHT_TYPE", "azureblob")]),
    );
}

/// The zip's `ETag` is its content hash, the same on disk and in a bucket, on the replica
/// that stored it and on one that did not; `If-None-Match` and `If-Range` take it.
#[test]
fn zip_etag_comes_from_the_content_on_every_backend() {
    use sha2::{Digest, Sha256};
    let t = TestDir::new("replicas-etag");
    let fwd = Forwarder::to_ref_proxy();
    let target = artifact_target("rsc.io/quote", "v1.5.2", "zip");
    let want = ref_proxy().fetch(&target);
    let digest = Sha256::digest(&want);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let expected = format!("\"{hex}\"");
    let disk = Agora::start(&AgoraConfig::new(&t.sub("disk"), fwd.goproxy_url()));
    let (bucket_replicas, _bucket) = replicas(
        &t,
        &fwd.goproxy_url(),
        Store::S3,
        &env(&[("AGORA_SINGLE_FLIGHT_TYPE", "s3")]),
    );
    // Disk stores it; the first bucket replica stores it; the second only reads it.
    for (name, agora) in [
        ("disk", &disk),
        ("bucket, stored here", &bucket_replicas[0]),
        ("bucket, stored elsewhere", &bucket_replicas[1]),
    ] {
        let resp = agora.get(&target);
        assert_eq!(resp.status, 200, "{name}: {}", resp.summary());
        assert!(resp.body == want, "{name}: bytes differ");
        assert_eq!(resp.header("etag"), Some(expected.as_str()), "{name}");
        let again = http_request_with(agora.addr, "GET", &target, &[("If-None-Match", &expected)])
            .expect("conditional GET")
            .0;
        assert_eq!(again.status, 304, "{name}: {}", again.summary());
        let ranged = http_request_with(
            agora.addr,
            "GET",
            &target,
            &[("Range", "bytes=0-9"), ("If-Range", &expected)],
        )
        .expect("ranged GET")
        .0;
        assert_eq!(ranged.status, 206, "{name}: {}", ranged.summary());
        assert_eq!(ranged.body, want[..10], "{name}");
    }
}

/// A TTL of 2 s under fetches of about 3.6 s (a 3 s `.zip` answer): only renewal, every
/// third of the TTL, keeps each lock held through its fetch, so the upstream still sees
/// every artifact once. (With renewal switched off this fails with duplicate fetches.)
#[test]
fn locks_are_renewed_through_fetches_longer_than_their_ttl() {
    let redis = Redis::start(None);
    one_fetch_per_version_with(
        "replicas-renew-redis",
        Store::S3,
        &env(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "redis"),
            ("ATHENS_REDIS_ENDPOINT", &redis.endpoint()),
            ("AGORA_SINGLE_FLIGHT_TTL", "2"),
        ]),
        3000,
    );
    one_fetch_per_version_with(
        "replicas-renew-s3",
        Store::S3,
        &env(&[
            ("AGORA_SINGLE_FLIGHT_TYPE", "s3"),
            ("AGORA_SINGLE_FLIGHT_TTL", "2"),
        ]),
        3000,
    );
}
