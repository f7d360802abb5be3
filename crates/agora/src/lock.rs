//! The single-flight lock named by the settings.

use std::sync::Arc;

use agora_config::{LockSettings, Settings};
use agora_lock::Lock;
use agora_lock::etcd::EtcdLock;
use agora_lock::gcs::GcsLock;
use agora_lock::object::ObjectLock;
use agora_lock::redis::{RedisLock, SentinelConfig};
use agora_server::stash::LockOptions;
use agora_storage::Storage;
use tracing::warn;

/// The lock replicas share, or `None` for in-process single flight only. An unreachable
/// lock server is logged, not fatal: fetches then answer 503 with the reason until it
/// is back, and storage hits are served meanwhile.
pub async fn single_flight(all: &Settings) -> anyhow::Result<Option<(Arc<dyn Lock>, LockOptions)>> {
    let settings = &all.single_flight;
    let options = LockOptions {
        ttl: settings.ttl,
        wait: settings.timeout,
    };
    let lock: Arc<dyn Lock> = match &settings.lock {
        LockSettings::Memory => return Ok(None),
        LockSettings::Redis(r) => {
            let lock = RedisLock::new(&r.endpoint, r.password.as_ref().map(|p| p.expose()))?;
            if let Err(e) = lock.ping().await {
                warn!(error = %e, "the single-flight redis does not answer yet");
            }
            Arc::new(lock)
        }
        LockSettings::RedisSentinel(s) => {
            let lock = RedisLock::sentinel(&SentinelConfig {
                endpoints: s.endpoints.clone(),
                master_name: s.master_name.clone(),
                sentinel_password: s.sentinel_password.as_ref().map(|p| p.expose().to_owned()),
                username: s.username.clone(),
                password: s.password.as_ref().map(|p| p.expose().to_owned()),
                db: i64::try_from(s.db)?,
            })?;
            if let Err(e) = lock.ping().await {
                warn!(error = %e, "the single-flight redis master does not answer yet");
            }
            Arc::new(lock)
        }
        LockSettings::Etcd(e) => {
            let lock = EtcdLock::new(&e.endpoints)?;
            if let Err(e) = lock.ping().await {
                warn!(error = %e, "the single-flight etcd does not answer yet");
            }
            Arc::new(lock)
        }
        LockSettings::Storage(kind) => {
            // Config loading checked that the storage is this service's bucket.
            // A client of its own for the lock object (the storage has its own).
            let Some(bucket) = crate::object_storage(&all.storage)? else {
                anyhow::bail!("single_flight.type {kind:?} needs object storage");
            };
            match bucket.gcs_operator() {
                Some(op) => Arc::new(GcsLock::new(op, bucket.describe())),
                None => Arc::new(ObjectLock::new(bucket.object_store(), bucket.describe())),
            }
        }
    };
    Ok(Some((lock, options)))
}
