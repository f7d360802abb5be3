//! An [`Upstream`] layer that reuses upstream's answers for a while, so that a
//! build farm asking the same `list` a thousand times a minute asks upstream
//! once: [`CachedUpstream`].
//!
//! - `list` and `@latest` answers are kept for `list_ttl`;
//! - a "not found" (404/410 through the whole chain) for `list`, `@latest`,
//!   a version query, a fetch or a go.mod is kept for `negative_ttl`;
//! - errors (outages, timeouts, refused content) are never kept, so network
//!   modes see every failure as before: `fallback` still answers from
//!   storage, `strict` still fails. `offline` never reaches this layer.
//!
//! Per replica and bounded: at most [`MAX_ENTRIES`] answers, each at most
//! [`MAX_ENTRY_BYTES`] (a bigger answer is passed on, not kept). When full,
//! expired entries go first, then the oldest. A TTL of 0 turns that part off.
//! Every call also gets a trace span (target [`TRACE_TARGET`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use agora_core::{ModulePath, RevInfo, Version};
use agora_upstream::{ErrorKind, Fetched, UpstreamError};
use async_trait::async_trait;
use bytes::Bytes;
use tracing::Instrument;

use crate::metered::TRACE_TARGET;
use crate::metrics::{CacheKind, metrics};
use crate::upstream::Upstream;

/// At most this many answers are kept.
pub const MAX_ENTRIES: usize = 10_000;
/// An answer bigger than this is not kept.
pub const MAX_ENTRY_BYTES: usize = 64 << 10;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    List,
    Latest,
    Info,
    Fetch,
    GoMod,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Latest => "latest",
            Op::Info => "info",
            Op::Fetch => "fetch",
            Op::GoMod => "go_mod",
        }
    }
}

type Key = (Op, ModulePath, Option<Version>);

#[derive(Clone)]
enum Answer {
    List(Vec<String>),
    Latest(Box<(RevInfo, Bytes)>),
    NotFound(UpstreamError),
}

struct Entry {
    answer: Answer,
    expires: Instant,
}

#[derive(Default)]
struct Table {
    map: HashMap<Key, Entry>,
    order: VecDeque<Key>,
}

/// Reuses upstream answers; see the module docs.
pub struct CachedUpstream<U> {
    inner: U,
    list_ttl: Duration,
    negative_ttl: Duration,
    table: Mutex<Table>,
}

impl<U: Upstream> CachedUpstream<U> {
    /// Keeps `list`/`@latest` answers for `list_ttl` and "not found" for
    /// `negative_ttl`; zero turns either off.
    pub fn new(inner: U, list_ttl: Duration, negative_ttl: Duration) -> Self {
        CachedUpstream {
            inner,
            list_ttl,
            negative_ttl,
            table: Mutex::new(Table::default()),
        }
    }

    fn get(&self, key: &Key) -> Option<Answer> {
        let mut t = self.table.lock().ok()?;
        let entry = t.map.get(key)?;
        if entry.expires > Instant::now() {
            return Some(entry.answer.clone());
        }
        t.map.remove(key);
        None
    }

    fn put(&self, key: Key, answer: Answer, ttl: Duration, size: usize) {
        if ttl.is_zero() || size > MAX_ENTRY_BYTES {
            return;
        }
        let Ok(mut t) = self.table.lock() else {
            return;
        };
        let now = Instant::now();
        if t.map.len() >= MAX_ENTRIES {
            t.map.retain(|_, e| e.expires > now);
            // `order` may name keys already gone or replaced; it only has to
            // reach a live one eventually.
            while t.map.len() >= MAX_ENTRIES {
                let Some(old) = t.order.pop_front() else {
                    break;
                };
                t.map.remove(&old);
            }
        }
        if t.order.len() >= 2 * MAX_ENTRIES {
            let Table { map, order } = &mut *t;
            order.retain(|k| map.contains_key(k));
        }
        t.order.push_back(key.clone());
        t.map.insert(
            key,
            Entry {
                answer,
                expires: now + ttl,
            },
        );
    }

    /// Answers `key` from the table, or asks `ask` and keeps what may be kept.
    async fn cached<T>(
        &self,
        key: Key,
        kind: CacheKind,
        ask: impl Future<Output = Result<T, UpstreamError>>,
        from: impl Fn(Answer) -> Option<T>,
        keep: impl Fn(&T) -> Option<(Answer, usize)>,
    ) -> Result<T, UpstreamError> {
        let enabled = !self.negative_ttl.is_zero()
            || (kind != CacheKind::UpstreamNotFound && !self.list_ttl.is_zero());
        if enabled && let Some(answer) = self.get(&key) {
            match answer {
                Answer::NotFound(e) => {
                    metrics().cache(CacheKind::UpstreamNotFound, true);
                    return Err(e);
                }
                other => {
                    if let Some(v) = from(other) {
                        metrics().cache(kind, true);
                        return Ok(v);
                    }
                }
            }
        }
        if enabled {
            metrics().cache(kind, false);
        }
        let span = tracing::info_span!(
            target: TRACE_TARGET,
            "upstream",
            op = key.0.as_str(),
            module = %key.1,
            version = key.2.as_ref().map(Version::as_str).unwrap_or_default()
        );
        let result = ask.instrument(span).await;
        match &result {
            Ok(v) => {
                if let Some((answer, size)) = keep(v) {
                    self.put(key, answer, self.list_ttl, size);
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.put(
                    key,
                    Answer::NotFound(e.clone()),
                    self.negative_ttl,
                    e.to_string().len(),
                );
            }
            Err(_) => {}
        }
        result
    }
}

#[async_trait]
impl<U: Upstream> Upstream for CachedUpstream<U> {
    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError> {
        self.cached(
            (Op::List, module.clone(), None),
            CacheKind::UpstreamList,
            self.inner.list(module),
            |a| match a {
                Answer::List(v) => Some(v),
                _ => None,
            },
            |v| {
                let size = v.iter().map(|s| s.len() + 1).sum();
                Some((Answer::List(v.clone()), size))
            },
        )
        .await
    }

    async fn latest(&self, module: &ModulePath) -> Result<(RevInfo, Bytes), UpstreamError> {
        self.cached(
            (Op::Latest, module.clone(), None),
            CacheKind::UpstreamLatest,
            self.inner.latest(module),
            |a| match a {
                Answer::Latest(l) => Some(*l),
                _ => None,
            },
            |(i, b)| Some((Answer::Latest(Box::new((i.clone(), b.clone()))), b.len())),
        )
        .await
    }

    async fn info(
        &self,
        module: &ModulePath,
        query: &Version,
    ) -> Result<(RevInfo, Bytes), UpstreamError> {
        self.cached(
            (Op::Info, module.clone(), Some(query.clone())),
            CacheKind::UpstreamNotFound,
            self.inner.info(module, query),
            |_| None,
            |_| None,
        )
        .await
    }

    async fn fetch(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Fetched, UpstreamError> {
        self.cached(
            (Op::Fetch, module.clone(), Some(version.clone())),
            CacheKind::UpstreamNotFound,
            self.inner.fetch(module, version),
            |_| None,
            |_| None,
        )
        .await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, UpstreamError> {
        self.cached(
            (Op::GoMod, module.clone(), Some(version.clone())),
            CacheKind::UpstreamNotFound,
            self.inner.go_mod(module, version),
            |_| None,
            |_| None,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeUpstream;

    const M: &str = "example.com/m";

    fn m() -> ModulePath {
        ModulePath::new(M).unwrap()
    }

    fn count(up: &FakeUpstream, prefix: &str) -> usize {
        up.calls().iter().filter(|c| c.starts_with(prefix)).count()
    }

    #[tokio::test]
    async fn lists_are_reused_within_the_ttl_and_asked_again_after() {
        let up = FakeUpstream::default();
        up.add(M, "v1.0.0");
        let c = CachedUpstream::new(up.clone(), Duration::from_millis(300), Duration::ZERO);
        assert_eq!(c.list(&m()).await.unwrap(), ["v1.0.0"]);
        up.add(M, "v1.1.0");
        assert_eq!(c.list(&m()).await.unwrap(), ["v1.0.0"]);
        c.latest(&m()).await.unwrap();
        c.latest(&m()).await.unwrap();
        assert_eq!((count(&up, "list "), count(&up, "latest ")), (1, 1));
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(c.list(&m()).await.unwrap(), ["v1.0.0", "v1.1.0"]);
        assert_eq!(count(&up, "list "), 2);
    }

    #[tokio::test]
    async fn not_found_is_reused_but_errors_never_are() {
        let up = FakeUpstream::default();
        let c = CachedUpstream::new(up.clone(), Duration::ZERO, Duration::from_secs(60));
        let e = c.list(&m()).await.unwrap_err();
        assert!(e.is_not_found(), "{e}");
        up.add(M, "v1.0.0");
        assert!(c.list(&m()).await.unwrap_err().is_not_found());
        assert_eq!(count(&up, "list "), 1);

        let other = ModulePath::new("example.com/other").unwrap();
        up.fail(ErrorKind::Unavailable);
        for _ in 0..2 {
            let e = c.latest(&other).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unavailable);
        }
        assert_eq!(count(&up, "latest "), 2);
        up.recover();
        // A successful list is not kept with list_ttl = 0.
        c.list(&ModulePath::new(M).unwrap()).await.unwrap_err();
        let fresh = ModulePath::new("example.com/fresh").unwrap();
        up.add("example.com/fresh", "v0.1.0");
        c.list(&fresh).await.unwrap();
        c.list(&fresh).await.unwrap();
        assert_eq!(count(&up, "list example.com/fresh"), 2);
    }

    #[tokio::test]
    async fn the_table_stays_bounded() {
        let up = FakeUpstream::default();
        let c = CachedUpstream::new(up.clone(), Duration::from_secs(60), Duration::from_secs(60));
        for i in 0..(MAX_ENTRIES + 50) {
            let p = ModulePath::new(&format!("example.com/m{i}")).unwrap();
            let _ = c.list(&p).await;
        }
        let t = c.table.lock().unwrap();
        assert!(t.map.len() <= MAX_ENTRIES, "{}", t.map.len());
        assert!(t.order.len() <= 2 * MAX_ENTRIES + 1);
    }
}
