//! The module index in PostgreSQL, in Athens' `indexes` table, so that every
//! replica writes and reads one index and Athens and agora can share it.
//!
//! The table and its two indexes are created at start-up when missing
//! (Athens' schema: `idx_timestamp`, and `idx_module_version` unique on
//! path and version, which makes a second insert of a version a no-op).
//! Timestamps come from the database's clock, not the replicas', so lines
//! from every replica sort on one clock. One connection is shared by every
//! request (tokio-postgres pipelines queries over it) and made again when
//! the server went away; every query is bounded by a timeout.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::sync::Mutex;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls};

use crate::{IndexError, IndexLine, ModuleIndex};

/// How to reach the database.
#[derive(Clone)]
pub struct PostgresConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User.
    pub user: String,
    /// Password; `None` for trust or peer authentication.
    pub password: Option<String>,
    /// Database, which must exist.
    pub database: String,
    /// `k=v` pairs separated by spaces: `connect_timeout` (seconds), `sslmode`
    /// (`disable` or `prefer`), `application_name`.
    pub params: String,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Bounds every statement, so a server that stops answering shows as an
/// error rather than a request that hangs.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS indexes (
        id SERIAL PRIMARY KEY,
        path VARCHAR(255) NOT NULL,
        version VARCHAR(255) NOT NULL,
        timestamp TIMESTAMP NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS idx_timestamp ON indexes (timestamp)",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_module_version ON indexes (path, version)",
];

/// The index in a PostgreSQL table shared by every replica.
pub struct PostgresIndex {
    config: tokio_postgres::Config,
    describe: String,
    client: Mutex<Option<Arc<Client>>>,
}

impl PostgresIndex {
    /// Connects, and creates the table when it is missing. Fails when the
    /// server cannot be reached within `connect_timeout` (Athens does not
    /// start either).
    pub async fn connect(config: &PostgresConfig) -> Result<PostgresIndex, IndexError> {
        let mut pg = tokio_postgres::Config::new();
        pg.host(&config.host)
            .port(config.port)
            .user(&config.user)
            .dbname(&config.database)
            .application_name("agora")
            .ssl_mode(SslMode::Disable)
            .connect_timeout(Duration::from_secs(30));
        if let Some(p) = &config.password {
            pg.password(p);
        }
        for pair in config.params.split_whitespace() {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| IndexError(format!("parameter {pair:?} is not k=v")))?;
            match k {
                "connect_timeout" => {
                    let secs: u64 = v
                        .parse()
                        .map_err(|_| IndexError(format!("connect_timeout {v:?}")))?;
                    pg.connect_timeout(Duration::from_secs(secs));
                }
                "sslmode" => {
                    pg.ssl_mode(match v {
                        "disable" => SslMode::Disable,
                        "prefer" => SslMode::Prefer,
                        _ => return Err(IndexError(format!("sslmode {v:?} is not supported"))),
                    });
                }
                "application_name" => {
                    pg.application_name(v);
                }
                _ => return Err(IndexError(format!("unknown parameter {k:?}"))),
            }
        }
        let index = PostgresIndex {
            config: pg,
            describe: format!(
                "postgres {}@{}:{}/{}",
                config.user, config.host, config.port, config.database
            ),
            client: Mutex::new(None),
        };
        let client = index.client().await?;
        for statement in SCHEMA {
            bounded(client.batch_execute(statement)).await?;
        }
        Ok(index)
    }

    /// The shared connection, made again when the last one closed.
    async fn client(&self) -> Result<Arc<Client>, IndexError> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref()
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| IndexError(format!("connecting to {}: {e}", self.describe)))?;
        let describe = self.describe.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(index = %describe, error = %e, "module index connection ended");
            }
        });
        let client = Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }
}

async fn bounded<T>(
    f: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, IndexError> {
    match tokio::time::timeout(QUERY_TIMEOUT, f).await {
        Ok(r) => r.map_err(|e| IndexError(e.to_string())),
        Err(_) => Err(IndexError(format!(
            "no answer within {}s",
            QUERY_TIMEOUT.as_secs()
        ))),
    }
}

#[async_trait]
impl ModuleIndex for PostgresIndex {
    async fn add(&self, path: &str, version: &str) -> Result<(), IndexError> {
        let client = self.client().await?;
        bounded(client.execute(
            "INSERT INTO indexes (path, version, timestamp) \
             VALUES ($1, $2, date_trunc('microseconds', clock_timestamp() AT TIME ZONE 'UTC')) \
             ON CONFLICT (path, version) DO NOTHING",
            &[&path, &version],
        ))
        .await?;
        Ok(())
    }

    async fn lines(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<IndexLine>, IndexError> {
        let client = self.client().await?;
        let since: NaiveDateTime = since.naive_utc();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = bounded(client.query(
            "SELECT path, version, timestamp FROM indexes WHERE timestamp >= $1 \
             ORDER BY timestamp, id LIMIT $2",
            &[&since, &limit],
        ))
        .await?;
        rows.iter()
            .map(|row| {
                let ts: NaiveDateTime = row.try_get(2).map_err(|e| IndexError(e.to_string()))?;
                Ok(IndexLine {
                    path: row.try_get(0).map_err(|e| IndexError(e.to_string()))?,
                    version: row.try_get(1).map_err(|e| IndexError(e.to_string()))?,
                    timestamp: ts.and_utc(),
                })
            })
            .collect()
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
