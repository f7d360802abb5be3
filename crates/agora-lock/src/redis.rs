//! A lock in redis, directly or on the master a set of sentinels names.
//!
//! The lock is the key `<name>` (agora-server uses Athens' `<module>@<version>`, so agora
//! and Athens replicas on one redis exclude each other too), set with `SET key token NX PX
//! ttl`. Renewing and releasing run a script that checks the token first, so a holder
//! whose lock expired and was taken by another can never extend or delete the new
//! holder's lock. With sentinels, the master's address is asked for again whenever the
//! connection to it fails (a failover).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionInfo, IntoConnectionInfo, Script};
use tokio::sync::Mutex;

use crate::{Held, Lock, LockError, OP_TIMEOUT, bounded, token};

const RENEW: &str = r#"if redis.call("get", KEYS[1]) == ARGV[1] then
  return redis.call("pexpire", KEYS[1], ARGV[2])
else
  return 0
end"#;

const RELEASE: &str = r#"if redis.call("get", KEYS[1]) == ARGV[1] then
  return redis.call("del", KEYS[1])
else
  return 0
end"#;

/// Where the master is.
#[derive(Debug, Clone)]
enum Target {
    Direct(ConnectionInfo),
    Sentinel {
        sentinels: Vec<ConnectionInfo>,
        master_name: String,
        /// The master's credentials and database (its address comes from a sentinel).
        master: redis::RedisConnectionInfo,
    },
}

/// Settings for a lock on the master behind sentinels.
#[derive(Debug, Clone, Default)]
pub struct SentinelConfig {
    /// `host:port` of each sentinel.
    pub endpoints: Vec<String>,
    /// The master's name in the sentinels' configuration.
    pub master_name: String,
    /// The sentinels' password.
    pub sentinel_password: Option<String>,
    /// The master's ACL user.
    pub username: Option<String>,
    /// The master's password.
    pub password: Option<String>,
    /// The database on the master.
    pub db: i64,
}

/// A lock in one redis (or the master behind sentinels).
pub struct RedisLock {
    target: Target,
    describe: String,
    /// Shared with the locks it hands out, which renew and release through it.
    conn: Arc<Mutex<Option<MultiplexedConnection>>>,
}

/// `host:port` or a `redis://` URL as connection info.
fn connection_info(endpoint: &str) -> Result<ConnectionInfo, LockError> {
    let url = if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("redis://{endpoint}")
    };
    url.as_str()
        .into_connection_info()
        .map_err(|e| LockError::new(format!("redis endpoint {endpoint:?}"), e))
}

impl RedisLock {
    /// A lock on the redis at `endpoint` (`host:port` or a `redis://` URL), with
    /// `password` unless the URL carries one.
    pub fn new(endpoint: &str, password: Option<&str>) -> Result<RedisLock, LockError> {
        let mut info = connection_info(endpoint)?;
        if let Some(pw) = password
            && info.redis_settings().password().is_none()
        {
            let settings = info.redis_settings().clone().set_password(pw);
            info = info.set_redis_settings(settings);
        }
        Ok(RedisLock {
            describe: format!("redis {}", info.addr()),
            target: Target::Direct(info),
            conn: Arc::new(Mutex::new(None)),
        })
    }

    /// A lock on the master that `config.endpoints` name `config.master_name`.
    pub fn sentinel(config: &SentinelConfig) -> Result<RedisLock, LockError> {
        let sentinels = config
            .endpoints
            .iter()
            .map(|e| {
                let info = connection_info(e)?;
                Ok(match &config.sentinel_password {
                    Some(pw) => {
                        let settings = info.redis_settings().clone().set_password(pw);
                        info.set_redis_settings(settings)
                    }
                    None => info,
                })
            })
            .collect::<Result<Vec<_>, LockError>>()?;
        if sentinels.is_empty() {
            return Err(LockError::new("redis sentinel", "no sentinel endpoints"));
        }
        let mut master = redis::RedisConnectionInfo::default().set_db(config.db);
        if let Some(user) = &config.username {
            master = master.set_username(user);
        }
        if let Some(pw) = &config.password {
            master = master.set_password(pw);
        }
        Ok(RedisLock {
            describe: format!(
                "redis master {:?} of sentinels {}",
                config.master_name,
                config.endpoints.join(",")
            ),
            target: Target::Sentinel {
                sentinels,
                master_name: config.master_name.clone(),
                master,
            },
            conn: Arc::new(Mutex::new(None)),
        })
    }

    /// A connection to the master: the cached one, or a new one.
    async fn connection(&self) -> Result<MultiplexedConnection, LockError> {
        let mut cached = self.conn.lock().await;
        if let Some(c) = cached.as_ref() {
            return Ok(c.clone());
        }
        let info = match &self.target {
            Target::Direct(info) => info.clone(),
            Target::Sentinel {
                sentinels,
                master_name,
                master,
            } => master_address(sentinels, master_name)
                .await?
                .set_redis_settings(master.clone()),
        };
        let conn = connect(&info).await?;
        *cached = Some(conn.clone());
        Ok(conn)
    }

    /// Runs `cmd` on the master; a failure drops the connection, so the next call
    /// connects again (and, with sentinels, asks for the master again).
    async fn run<T: redis::FromRedisValue>(
        &self,
        context: &str,
        cmd: impl AsyncFnOnce(MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, LockError> {
        let conn = self.connection().await?;
        let result = bounded(context, cmd(conn)).await;
        if result.is_err() {
            *self.conn.lock().await = None;
        }
        result
    }

    /// Checks that the master answers (the binary calls it at startup, as Athens does).
    pub async fn ping(&self) -> Result<(), LockError> {
        self.run("redis PING", async |mut c| {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(drop)
    }
}

async fn connect(info: &ConnectionInfo) -> Result<MultiplexedConnection, LockError> {
    let context = format!("connecting to redis {}", info.addr());
    let client = Client::open(info.clone()).map_err(|e| LockError::new(&context, e))?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(OP_TIMEOUT))
        .set_response_timeout(Some(OP_TIMEOUT));
    bounded(
        &context,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await
}

/// Asks each sentinel in turn for the master's address.
async fn master_address(
    sentinels: &[ConnectionInfo],
    master_name: &str,
) -> Result<ConnectionInfo, LockError> {
    let mut last = None;
    for sentinel in sentinels {
        let answer = async {
            let mut conn = connect(sentinel).await?;
            bounded(
                &format!("asking sentinel {} for {master_name:?}", sentinel.addr()),
                redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(master_name)
                    .query_async::<Option<(String, u16)>>(&mut conn),
            )
            .await
        }
        .await;
        match answer {
            Ok(Some((host, port))) => {
                return connection_info(&format!("{host}:{port}"));
            }
            Ok(None) => {
                last = Some(LockError::new(
                    format!("sentinel {}", sentinel.addr()),
                    format!("knows no master named {master_name:?}"),
                ));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| LockError::new("redis sentinel", "no sentinel endpoints")))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Lock for RedisLock {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Box<dyn Held>>, LockError> {
        let token = token();
        let set: Option<String> = self
            .run(&format!("redis SET {name} NX"), async |mut c| {
                redis::cmd("SET")
                    .arg(name)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(set.map(|_| {
            Box::new(RedisHeld {
                lock: self.shared(),
                name: name.to_owned(),
                token,
            }) as Box<dyn Held>
        }))
    }
}

impl RedisLock {
    /// A handle on the same server and connection.
    fn shared(&self) -> RedisLock {
        RedisLock {
            target: self.target.clone(),
            describe: self.describe.clone(),
            conn: self.conn.clone(),
        }
    }
}

struct RedisHeld {
    lock: RedisLock,
    name: String,
    token: String,
}

#[async_trait]
impl Held for RedisHeld {
    async fn renew(&mut self, ttl: Duration) -> Result<bool, LockError> {
        let (name, token) = (&self.name, &self.token);
        let n: i64 = self
            .lock
            .run(&format!("redis renewing {name}"), async |mut c| {
                Script::new(RENEW)
                    .key(name)
                    .arg(token)
                    .arg(millis(ttl))
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn release(self: Box<Self>) -> Result<(), LockError> {
        let (name, token) = (&self.name, &self.token);
        let _: i64 = self
            .lock
            .run(&format!("redis releasing {name}"), async |mut c| {
                Script::new(RELEASE)
                    .key(name)
                    .arg(token)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(())
    }
}
