//! Every lock against its real server: redis, redis behind a sentinel, etcd, an S3 bucket
//! (moto) and an Azure container (Azurite) take a lock once, renew it, free it, let it expire, and never let a
//! holder whose lock expired renew or release its successor's. GCS is checked on the wire
//! (see `gcs_lock_writes_carry_generation_preconditions`).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use agora_lock::Lock;
use agora_lock::etcd::EtcdLock;
use agora_lock::object::ObjectLock;
use agora_lock::redis::{RedisLock, SentinelConfig};
use agora_storage::object::{Layout, ObjectStorage, S3Settings};
use agora_testkit::{Etcd, Redis, RedisSentinel, TestDir, shared_moto};

/// The whole contract, on one lock. `ttl` must be one the server honours (etcd rounds
/// leases up to its minimum).
async fn contract(lock: Arc<dyn Lock>, name: &str, ttl: Duration) {
    let mut first = lock
        .try_acquire(name, ttl)
        .await
        .expect("take")
        .expect("a free lock is taken");
    assert!(
        lock.try_acquire(name, ttl)
            .await
            .expect("second take")
            .is_none(),
        "{}: taken twice",
        lock.describe()
    );
    assert!(
        first.renew(ttl).await.expect("renew"),
        "renewing a held lock"
    );
    first.release().await.expect("release");
    let expiring = lock
        .try_acquire(name, ttl)
        .await
        .expect("take again")
        .expect("a released lock is free");
    // Not renewed: it expires, and someone else takes it.
    tokio::time::sleep(ttl + Duration::from_millis(1500)).await;
    let mut successor = lock
        .try_acquire(name, ttl)
        .await
        .expect("take an expired lock")
        .expect("an expired lock is free");
    let mut expired = expiring;
    assert!(
        !expired.renew(ttl).await.expect("renew expired"),
        "{}: an expired holder renewed its successor's lock",
        lock.describe()
    );
    expired.release().await.expect("release expired");
    assert!(
        lock.try_acquire(name, ttl)
            .await
            .expect("take held")
            .is_none(),
        "{}: an expired holder's release freed its successor's lock",
        lock.describe()
    );
    assert!(successor.renew(ttl).await.expect("successor renews"));
    successor.release().await.expect("successor releases");
}

#[tokio::test]
async fn redis() {
    let redis = Redis::start(Some("pw"));
    let lock = RedisLock::new(&redis.endpoint(), Some("pw")).unwrap();
    lock.ping().await.unwrap();
    contract(
        Arc::new(lock),
        "example.com/m@v1.0.0",
        Duration::from_secs(1),
    )
    .await;
    let wrong = RedisLock::new(&redis.endpoint(), Some("nope")).unwrap();
    assert!(wrong.ping().await.is_err(), "a wrong password is an error");
}

#[tokio::test]
async fn redis_sentinel() {
    let t = TestDir::new("lock-sentinel");
    let s = RedisSentinel::start(&t.sub("s"), "mymaster", Some("m"), Some("s"));
    let lock = RedisLock::sentinel(&SentinelConfig {
        endpoints: vec![s.addr.to_string()],
        master_name: "mymaster".into(),
        sentinel_password: Some("s".into()),
        username: None,
        password: Some("m".into()),
        db: 1,
    })
    .unwrap();
    lock.ping().await.unwrap();
    contract(
        Arc::new(lock),
        "example.com/m@v1.0.0",
        Duration::from_secs(1),
    )
    .await;
    let unknown = RedisLock::sentinel(&SentinelConfig {
        endpoints: vec![s.addr.to_string()],
        master_name: "other".into(),
        sentinel_password: Some("s".into()),
        ..SentinelConfig::default()
    })
    .unwrap();
    let err = unknown.ping().await.unwrap_err().to_string();
    assert!(err.contains("no master named"), "{err}");
}

/// After a failover (here: the sentinel told to watch another master, the old one
/// stopped) the lock asks the sentinel again and works on the new master.
#[tokio::test]
async fn redis_sentinel_follows_a_new_master() {
    let t = TestDir::new("lock-sentinel-failover");
    let mut s = RedisSentinel::start(&t.sub("s"), "mymaster", Some("m"), None);
    let lock = RedisLock::sentinel(&SentinelConfig {
        endpoints: vec![s.addr.to_string()],
        master_name: "mymaster".into(),
        password: Some("m".into()),
        ..SentinelConfig::default()
    })
    .unwrap();
    let held = lock
        .try_acquire("example.com/m@v1.0.0", Duration::from_secs(30))
        .await
        .unwrap();
    assert!(held.is_some());
    let new_master = Redis::start(Some("m"));
    let port = new_master.addr.port();
    for cmd in [
        "SENTINEL REMOVE mymaster".to_owned(),
        format!("SENTINEL MONITOR mymaster 127.0.0.1 {port} 1"),
        "SENTINEL SET mymaster auth-pass m".to_owned(),
    ] {
        let reply = agora_testkit::redis_command(s.addr, &cmd).unwrap();
        assert!(reply.starts_with("+OK"), "{cmd}: {reply}");
    }
    s.master.stop();
    // The old connection fails once at most; then the new master, where the lock is free.
    let mut last = None;
    for _ in 0..3 {
        match lock
            .try_acquire("example.com/m@v1.0.0", Duration::from_secs(30))
            .await
        {
            Ok(Some(_)) => return,
            other => last = Some(other.map(|h| h.is_some())),
        }
    }
    panic!("never took the lock on the new master: {last:?}");
}

/// reqwest is built without a TLS provider; the binary installs ring, and so do these.
fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test]
async fn etcd() {
    tls();
    let t = TestDir::new("lock-etcd");
    let etcd = Etcd::start(t.path());
    // The second endpoint is down: the lock moves on to the first.
    let lock = EtcdLock::new(&["127.0.0.1:1".to_owned(), etcd.addr.to_string()]).unwrap();
    lock.ping().await.unwrap();
    contract(
        Arc::new(lock),
        "example.com/m@v1.0.0",
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test]
async fn s3_bucket() {
    let moto = shared_moto();
    let bucket = moto.create_bucket("lock");
    let storage = ObjectStorage::s3(
        &S3Settings {
            bucket,
            region: "us-east-1".into(),
            endpoint: Some(moto.endpoint()),
            access_key_id: Some("test".into()),
            secret_access_key: Some(agora_config::Secret::new("test")),
            session_token: None,
            force_path_style: true,
        },
        Layout::S3,
    )
    .unwrap();
    let lock = ObjectLock::new(storage.object_store(), "moto");
    contract(
        Arc::new(lock),
        "example.com/m@v1.0.0",
        Duration::from_secs(1),
    )
    .await;
}

#[tokio::test]
async fn azure_container() {
    let az = agora_testkit::azurite::shared();
    let container = az.container();
    let config = agora_storage::object::AzureConfig::from_connection_string(
        &az.connection_string(),
        &container,
    )
    .unwrap();
    let storage = ObjectStorage::azure(&config).unwrap();
    let lock = ObjectLock::new(storage.object_store(), "azurite");
    contract(
        Arc::new(lock),
        "example.com/m@v1.0.0",
        Duration::from_secs(1),
    )
    .await;
}

#[tokio::test]
async fn unreachable_servers_are_errors_not_held_locks() {
    tls();
    let redis = RedisLock::new("127.0.0.1:1", None).unwrap();
    assert!(
        redis
            .try_acquire("m@v", Duration::from_secs(1))
            .await
            .is_err()
    );
    let etcd = EtcdLock::new(&["127.0.0.1:1".to_owned()]).unwrap();
    assert!(
        etcd.try_acquire("m@v", Duration::from_secs(1))
            .await
            .is_err()
    );
}

/// gcp-storage-emulator (and fake-gcs-server, on the resumable uploads OpenDAL makes
/// conditional writes with) ignores `ifGenerationMatch`, so two replicas could both take
/// a lock there; real GCS answers 412. What the emulator can show: the lock works
/// sequentially, and every write carries the precondition: generation 0 to take it, the
/// generation written last to renew it.
#[tokio::test]
async fn gcs_lock_writes_carry_generation_preconditions() {
    tls();
    let emu = agora_testkit::gcs::shared();
    let bucket = emu.bucket();
    let (relay, seen) = agora_testkit::forwarder::recording_relay(emu.port);
    let storage = ObjectStorage::gcs(&agora_storage::object::GcsConfig {
        bucket,
        json_key: None,
        emulator_host: Some(format!("http://127.0.0.1:{relay}")),
    })
    .unwrap();
    let lock =
        agora_lock::gcs::GcsLock::new(storage.gcs_operator().expect("a GCS operator"), "gcs");
    let ttl = Duration::from_secs(30);
    let mut held = lock
        .try_acquire("example.com/m@v1.0.0", ttl)
        .await
        .unwrap()
        .expect("taken");
    assert!(
        lock.try_acquire("example.com/m@v1.0.0", ttl)
            .await
            .unwrap()
            .is_none()
    );
    assert!(held.renew(ttl).await.unwrap());
    held.release().await.unwrap();
    assert!(
        lock.try_acquire("example.com/m@v1.0.0", ttl)
            .await
            .unwrap()
            .is_some()
    );

    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let uploads: Vec<&str> = text
        .split("\r\n")
        .filter(|l| l.starts_with("POST ") && l.contains("/upload/storage/v1/b/"))
        .collect();
    // Take, renew, take again (a held lock is looked at, never written to).
    assert_eq!(uploads.len(), 3, "{uploads:#?}");
    for up in &uploads {
        assert!(
            up.contains("ifGenerationMatch="),
            "a lock write without a precondition: {up}"
        );
    }
    let takes = uploads
        .iter()
        .filter(|u| u.contains("ifGenerationMatch=0"))
        .count();
    let renews = uploads
        .iter()
        .filter(|u| !u.contains("ifGenerationMatch=0"))
        .count();
    assert!(takes == 2 && renews == 1, "{uploads:#?}");
}
