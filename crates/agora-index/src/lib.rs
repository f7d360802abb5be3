//! The module index: every version agora stored, in the order it was stored,
//! as `/index` serves it (index.golang.org's format, which Athens copies).
//!
//! [`ModuleIndex`] is what the server asks of an index: record a version
//! (idempotently: a version recorded twice, by two replicas or after a
//! restart, stays one line) and read lines from a time on, oldest first.
//! [`MemoryIndex`] keeps them in the process; [`postgres::PostgresIndex`]
//! keeps them in Athens' `indexes` table, shared by every replica.
//! Timestamps are UTC with microsecond precision, the precision PostgreSQL
//! keeps, so a `Timestamp` read back as `since` finds its own line again.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};

pub mod postgres;

/// One line of `/index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLine {
    /// The module path.
    pub path: String,
    /// The canonical version.
    pub version: String,
    /// When it was indexed (UTC, microseconds).
    pub timestamp: DateTime<Utc>,
}

/// Why the index could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("module index: {0}")]
pub struct IndexError(pub String);

/// Where `/index` comes from.
#[async_trait]
pub trait ModuleIndex: Send + Sync + 'static {
    /// Records `path@version` now, unless it is recorded already.
    async fn add(&self, path: &str, version: &str) -> Result<(), IndexError>;

    /// Up to `limit` lines with a timestamp at or after `since`, oldest first.
    async fn lines(&self, since: DateTime<Utc>, limit: usize)
    -> Result<Vec<IndexLine>, IndexError>;

    /// For logs: which index this is.
    fn describe(&self) -> String;
}

/// Formats a timestamp as Go's `time.RFC3339Nano` does (trailing zeros of the
/// fraction dropped, `Z` for UTC), as index.golang.org writes it.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Truncates to the microsecond, the precision every index keeps.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The index in process memory: lost on restart, not shared between replicas.
#[derive(Default)]
pub struct MemoryIndex {
    inner: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    lines: Vec<IndexLine>,
    seen: HashSet<(String, String)>,
}

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> Self {
        MemoryIndex::default()
    }
}

#[async_trait]
impl ModuleIndex for MemoryIndex {
    async fn add(&self, path: &str, version: &str) -> Result<(), IndexError> {
        let mut m = self
            .inner
            .lock()
            .map_err(|_| IndexError("memory index poisoned".into()))?;
        if !m.seen.insert((path.to_owned(), version.to_owned())) {
            return Ok(());
        }
        // Never before the previous line, even if the clock steps back, so
        // that the lines stay sorted by time.
        let mut timestamp = to_micros(Utc::now());
        if let Some(last) = m.lines.last()
            && last.timestamp > timestamp
        {
            timestamp = last.timestamp;
        }
        m.lines.push(IndexLine {
            path: path.to_owned(),
            version: version.to_owned(),
            timestamp,
        });
        Ok(())
    }

    async fn lines(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<IndexLine>, IndexError> {
        let m = self
            .inner
            .lock()
            .map_err(|_| IndexError("memory index poisoned".into()))?;
        let start = m.lines.partition_point(|l| l.timestamp < since);
        Ok(m.lines[start..].iter().take(limit).cloned().collect())
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_go_writes_them() {
        let t = DateTime::parse_from_rfc3339("2019-04-10T19:08:52.997264Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_timestamp(&t), "2019-04-10T19:08:52.997264Z");
        let t = DateTime::parse_from_rfc3339("2019-04-10T19:08:52.5+02:00")
            .unwrap()
            .to_utc();
        assert_eq!(format_timestamp(&t), "2019-04-10T17:08:52.5Z");
        let t = DateTime::parse_from_rfc3339("2019-04-10T19:08:52Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_timestamp(&t), "2019-04-10T19:08:52Z");
    }

    #[tokio::test]
    async fn memory_index_keeps_each_version_once_in_order() {
        let idx = MemoryIndex::new();
        for (p, v) in [
            ("a", "v1.0.0"),
            ("b", "v1.0.0"),
            ("a", "v1.0.0"),
            ("c", "v2.0.0"),
        ] {
            idx.add(p, v).await.unwrap();
        }
        let all = idx.lines(DateTime::UNIX_EPOCH, 2000).await.unwrap();
        let names: Vec<_> = all
            .iter()
            .map(|l| (l.path.as_str(), l.version.as_str()))
            .collect();
        assert_eq!(names, [("a", "v1.0.0"), ("b", "v1.0.0"), ("c", "v2.0.0")]);
        assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert_eq!(idx.lines(DateTime::UNIX_EPOCH, 2).await.unwrap().len(), 2);
        let from_last = idx.lines(all[2].timestamp, 10).await.unwrap();
        assert_eq!(from_last.last(), all.last());
    }
}
