//! The single-flight lock named by the settings.

use std::sync::Arc;

use agora_config::{LockSettings, S3Settings, Settings, StorageSettings};
use agora_lock::Lock;
use agora_lock::etcd::EtcdLock;
use agora_lock::gcs::GcsLock;
use agora_lock::object::ObjectLock;
use agora_lock::redis::{RedisLock, SentinelConfig};
use agora_server::stash::LockOptions;
use agora_storage::Storage;
use agora_storage::object::{AzureConfig, GcsConfig, Layout, ObjectStorage};
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
            let Some(bucket) = bucket(&all.storage)? else {
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

/// A client of the storage's bucket for the lock object (the storage has its own).
fn bucket(storage: &StorageSettings) -> anyhow::Result<Option<ObjectStorage>> {
    Ok(Some(match storage {
        StorageSettings::S3(s3) => ObjectStorage::s3(s3, Layout::S3)?,
        StorageSettings::Minio(mn) => ObjectStorage::s3(
            &S3Settings {
                bucket: mn.bucket.clone(),
                region: mn.region.clone(),
                endpoint: Some(mn.url()),
                access_key_id: Some(mn.access_key_id.clone()),
                secret_access_key: Some(mn.secret_access_key.clone()),
                session_token: None,
                force_path_style: true,
            },
            Layout::Minio,
        )?,
        StorageSettings::Azure(az) => {
            let mut config = match &az.connection_string {
                Some(conn) => AzureConfig::from_connection_string(conn.expose(), &az.container)
                    .map_err(|e| anyhow::anyhow!("storage.azure.connection_string: {e}"))?,
                None => AzureConfig {
                    account_name: String::new(),
                    account_key: None,
                    container: az.container.clone(),
                    endpoint: None,
                },
            };
            // Explicit settings win over the connection string's, as for the storage.
            if let Some(name) = &az.account_name {
                config.account_name = name.clone();
            }
            if let Some(key) = &az.account_key {
                config.account_key = Some(key.expose().to_owned());
            }
            ObjectStorage::azure(&config)?
        }
        StorageSettings::Gcp(gcp) => ObjectStorage::gcs(&GcsConfig {
            bucket: gcp.bucket.clone(),
            json_key: gcp.json_key.as_ref().map(|k| k.expose().to_owned()),
            emulator_host: gcp.emulator_host.clone(),
        })?,
        _ => return Ok(None),
    }))
}
