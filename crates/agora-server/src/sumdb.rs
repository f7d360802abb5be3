//! Checksum databases: proxying them under `/sumdb/NAME/`, and checking every
//! version agora fetches against one before it is stored.
//!
//! The proxy answers `supported`, `latest`, `lookup/…` and `tile/…` for each
//! configured database (any other name is 404, which makes the go command go
//! to the database directly, as it does when a proxy lacks `/sumdb/`). Full
//! hash tiles never change, so they are kept in storage as blobs: after they
//! are proved against a signed tree head when the database's key is known,
//! as they are when no key is (the go client proves them itself). Partial
//! and data tiles are passed through. `latest` is kept in memory for
//! [`LATEST_TTL`] and served stale when the database fails.
//!
//! [`SumDbs::verify`] is what the go command does for a download: the record
//! is looked up, its signed tree head verified with the database's key, the
//! record's inclusion proved through tiles, each new tree head proved
//! consistent with the last one verified (held in memory per database), and
//! the `h1:` hashes compared.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agora_core::pattern::match_prefix_patterns;
use agora_core::{ModulePath, Version, dirhash};
use agora_storage::{ErrorKind as StorageKind, Storage};
use agora_sumdb::note::{self, Verifier, VerifierList};
use agora_sumdb::records::{self, MAX_LOOKUP_BYTES, MAX_RECORD_TEXT};
use agora_sumdb::tlog::{self, HASH_SIZE, HashReader, Tile, TileHashReader, TileReader, Tree};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::ApiError;
use crate::private_sumdb::PrivateLog;
use agora_upstream::{ErrorKind as UpstreamKind, UpstreamError};

/// The go command's built-in key for sum.golang.org (`modfetch/key.go`).
pub const SUM_GOLANG_ORG_KEY: &str =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

/// The tile height the go command reads, and the highest agora proxies: a
/// hash tile is then at most 2^8 hashes of 32 bytes, 8 KiB.
pub const TILE_HEIGHT: u32 = 8;

/// How long a `latest` answer is reused. The go command asks on every run;
/// a few seconds spare the database without serving an old tree for long.
pub const LATEST_TTL: Duration = Duration::from_secs(5);

/// The largest `latest` note accepted: a tree head and up to a hundred
/// signatures is a few kilobytes.
const MAX_NOTE_BYTES: usize = 16 * 1024;

/// The most of an error answer's body kept (to pass a 404 on).
const MAX_ERROR_BODY: usize = 4 * 1024;

/// No single request to a database may take longer than this, whatever the
/// upstream timeout: its answers are all small.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(60);

/// Settings of the checksum databases.
#[derive(Debug, Clone, Default)]
pub struct SumDbConfig {
    /// Athens' `SumDBs`, each `https://HOST`: proxied under `/sumdb/HOST/`.
    pub athens_urls: Vec<String>,
    /// `GOSUMDB` entries `NAME[+HASH+KEY] URL`, proxied under `/sumdb/NAME/`.
    pub entries: Vec<String>,
    /// GONOSUMDB (else GOPRIVATE) patterns: never looked up.
    pub nosum: String,
    /// Check fetched versions before storing them.
    pub verify: bool,
    /// Bound for one request to a database (at most [`MAX_REQUEST_TIME`]).
    pub timeout: Duration,
}

struct Db {
    name: String,
    url: String,
    verifier: Option<Verifier>,
    /// Where its tiles live among the storage's blobs.
    blob_prefix: String,
    latest: Mutex<Option<(Instant, Bytes)>>,
    /// The largest tree head verified so far; every later one must be
    /// consistent with it.
    tree: Mutex<Option<Tree>>,
}

/// A database name as one storage blob path segment: anything but ASCII letters,
/// digits, `.` and `-` becomes `_`.
pub(crate) fn blob_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Db {
    fn new(name: &str, url: &str, verifier: Option<Verifier>) -> Db {
        let safe = blob_safe(name);
        let digest = Sha256::digest(name.as_bytes());
        let tag: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Db {
            name: name.to_owned(),
            url: url.trim_end_matches('/').to_owned(),
            verifier,
            blob_prefix: format!("sumdb/{safe}-{tag}"),
            latest: Mutex::new(None),
            tree: Mutex::new(None),
        }
    }

    fn tile_key(&self, tile: &Tile) -> String {
        format!("{}/{}", self.blob_prefix, tile.path())
    }

    fn held_tree(&self) -> Option<Tree> {
        *self.tree.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Inner {
    dbs: Vec<Arc<Db>>,
    verify_db: Option<Arc<Db>>,
    http: reqwest::Client,
    storage: Arc<dyn Storage>,
    nosum: String,
    timeout: Duration,
}

/// The configured checksum databases. Cheap to clone.
#[derive(Clone)]
pub struct SumDbs {
    inner: Arc<Inner>,
    private: Option<Arc<PrivateLog>>,
}

impl std::fmt::Debug for SumDbs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.inner.dbs.iter().map(|d| d.name.as_str()).collect();
        f.debug_struct("SumDbs").field("names", &names).finish()
    }
}

/// What [`SumDbs::verify`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Both hashes match the database's record, proved in its log.
    Checked,
    /// Not checked, and why.
    Skipped(&'static str),
}

enum Got {
    Body(Bytes),
    /// A 4xx answer, passed on to the client as it is.
    Status(StatusCode, Bytes),
}

fn bad(message: impl Into<String>) -> UpstreamError {
    UpstreamError::new(UpstreamKind::BadResponse, message)
}

fn unavailable(message: impl Into<String>) -> UpstreamError {
    UpstreamError::new(UpstreamKind::Unavailable, message)
}

impl SumDbs {
    /// The databases of `config`, their tiles cached in `storage`. Fails on
    /// a malformed key.
    pub fn new(config: &SumDbConfig, storage: Arc<dyn Storage>) -> Result<SumDbs, String> {
        let mut dbs: Vec<Arc<Db>> = Vec::new();
        for entry in &config.entries {
            let (key, url) = entry
                .split_once(' ')
                .ok_or_else(|| format!("checksum database {entry:?} has no URL"))?;
            let (name, verifier) = if key.contains('+') {
                let v = Verifier::parse(key)
                    .map_err(|e| format!("checksum database key {key:?}: {e}"))?;
                (v.name().to_owned(), Some(v))
            } else {
                (key.to_owned(), known_key(key))
            };
            if !dbs.iter().any(|d| d.name == name) {
                dbs.push(Arc::new(Db::new(&name, url, verifier)));
            }
        }
        for url in &config.athens_urls {
            let host = url.trim_start_matches("https://").trim_end_matches('/');
            if !dbs.iter().any(|d| d.name == host) {
                dbs.push(Arc::new(Db::new(host, url, known_key(host))));
            }
        }
        let verify_db = if config.verify {
            let first = if config.entries.is_empty() {
                dbs.iter().find(|d| d.name == "sum.golang.org").cloned()
            } else {
                dbs.first().cloned()
            };
            match first {
                Some(db) if db.verifier.is_none() => {
                    return Err(format!(
                        "checksum database {} has no key to verify fetched versions with: \
                         give NAME+HASH+KEY, or set sumdb.verify = false",
                        db.name
                    ));
                }
                other => other,
            }
        } else {
            None
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| format!("building the checksum database client: {e}"))?;
        Ok(SumDbs {
            private: None,
            inner: Arc::new(Inner {
                dbs,
                verify_db,
                http,
                storage,
                nosum: config.nosum.clone(),
                timeout: config.timeout.min(MAX_REQUEST_TIME),
            }),
        })
    }

    /// Serves `log` under `/sumdb/NAME/` too, and logs in it every version
    /// of a module matching the GONOSUMDB (else GOPRIVATE) patterns that
    /// the stash stores.
    #[must_use]
    pub fn with_private_log(mut self, log: Arc<PrivateLog>) -> Self {
        self.private = Some(log);
        self
    }

    /// Logs a fetched version of a private module in the private database
    /// (before it is stored, so nothing private is stored unlogged). Other
    /// modules, or no private database: nothing to do.
    pub async fn log_private(
        &self,
        module: &ModulePath,
        version: &Version,
        zip_h1: &str,
        go_mod: &[u8],
    ) -> Result<(), agora_storage::StorageError> {
        let Some(log) = &self.private else {
            return Ok(());
        };
        if self.inner.nosum.is_empty() || !match_prefix_patterns(&self.inner.nosum, module.as_str())
        {
            return Ok(());
        }
        log.append(
            module.as_str(),
            version.as_str(),
            zip_h1,
            &dirhash::hash_go_mod(go_mod),
        )
        .await
    }

    /// The database fetched versions are verified against, if any.
    pub fn verifying_with(&self) -> Option<&str> {
        self.inner.verify_db.as_ref().map(|d| d.name.as_str())
    }

    /// The names served under `/sumdb/`.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.inner.dbs.iter().map(|d| d.name.as_str()).collect();
        if let Some(p) = &self.private {
            names.push(p.name());
        }
        names
    }

    fn find<'a>(&'a self, rest: &'a str) -> Option<(&'a Arc<Db>, &'a str)> {
        let mut best: Option<(&'a Arc<Db>, &'a str)> = None;
        for db in &self.inner.dbs {
            if let Some(sub) = rest
                .strip_prefix(db.name.as_str())
                .and_then(|r| r.strip_prefix('/'))
                && best.is_none_or(|(b, _)| b.name.len() < db.name.len())
            {
                best = Some((db, sub));
            }
        }
        best
    }

    /// Answers `/sumdb/REST` (REST as in the request, still percent-encoded).
    pub async fn handle(&self, rest: &str) -> Response {
        if let Some(log) = &self.private
            && let Some(sub) = rest
                .strip_prefix(log.name())
                .and_then(|r| r.strip_prefix('/'))
        {
            return log.handle(sub).await.unwrap_or_else(|e| {
                if e.status().is_server_error() {
                    warn!(
                        status = e.status().as_u16(),
                        reason = e.detail(),
                        "private checksum database error"
                    );
                }
                e.into_response()
            });
        }
        let Some((db, sub)) = self.find(rest) else {
            return crate::error::no_such_endpoint();
        };
        let db = Arc::clone(db);
        let result = match sub {
            "supported" => Ok(answer(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                Bytes::new(),
            )),
            "latest" => self.latest(&db).await,
            s if s.starts_with("lookup/") => self.lookup(&db, s).await,
            s if s.starts_with("tile/") => self.tile(&db, s).await,
            _ => return crate::error::no_such_endpoint(),
        };
        result.unwrap_or_else(|e| {
            if e.status().is_server_error() {
                warn!(
                    status = e.status().as_u16(),
                    reason = e.detail(),
                    sumdb = %db.name,
                    "checksum database proxy error"
                );
            }
            e.into_response()
        })
    }

    async fn latest(&self, db: &Arc<Db>) -> Result<Response, ApiError> {
        let cached = db.latest.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((at, body)) = &cached
            && at.elapsed() < LATEST_TTL
        {
            return Ok(note_answer(body.clone()));
        }
        let fetched: Result<Result<Bytes, (StatusCode, Bytes)>, UpstreamError> = async {
            match self.get(db, "latest", MAX_NOTE_BYTES).await? {
                Got::Body(b) => {
                    if db.verifier.is_some() {
                        let tree = self.open_tree(db, &b)?;
                        self.accept_tree(db, tree).await?;
                    }
                    Ok(Ok(b))
                }
                Got::Status(s, b) => Ok(Err((s, b))),
            }
        }
        .await;
        match fetched {
            Ok(Ok(body)) => {
                *db.latest.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), body.clone()));
                Ok(note_answer(body))
            }
            Ok(Err((status, body))) => Ok(answer(status, "text/plain; charset=utf-8", body)),
            Err(e) => match cached {
                Some((_, body)) => {
                    warn!(sumdb = %db.name, error = %e, "checksum database failed; serving the last latest");
                    Ok(note_answer(body))
                }
                None => Err(ApiError::from(e)),
            },
        }
    }

    async fn lookup(&self, db: &Arc<Db>, sub: &str) -> Result<Response, ApiError> {
        let target = sub.trim_start_matches("lookup/");
        let module = target.rsplit_once('@').map_or(target, |(m, _)| m);
        let module = percent_decode(module)
            .and_then(|m| agora_core::escape::unescape_path(&m).ok())
            .ok_or_else(|| ApiError::bad_request("malformed module path in lookup"))?;
        if !self.inner.nosum.is_empty() && match_prefix_patterns(&self.inner.nosum, &module) {
            return Ok(answer(
                StatusCode::FORBIDDEN,
                "text/plain; charset=utf-8",
                Bytes::from(format!(
                    "{module} matches GONOSUMDB/GOPRIVATE patterns ({}): \
                     agora does not look it up in a checksum database\n",
                    self.inner.nosum
                )),
            ));
        }
        match self.get(db, sub, MAX_LOOKUP_BYTES).await? {
            Got::Body(b) => Ok(answer(StatusCode::OK, "text/plain; charset=utf-8", b)),
            Got::Status(s, b) => Ok(answer(s, "text/plain; charset=utf-8", b)),
        }
    }

    async fn tile(&self, db: &Arc<Db>, sub: &str) -> Result<Response, ApiError> {
        let tile = Tile::parse_path(sub)
            .map_err(|_| ApiError::not_found(format!("no such tile: {sub}")))?;
        if tile.h > TILE_HEIGHT {
            return Err(ApiError::not_found(format!(
                "agora proxies tiles of height at most {TILE_HEIGHT}"
            )));
        }
        let full = tile.w == 1 << tile.h;
        let hashes = tile.l >= 0;
        if full
            && hashes
            && let Some(data) = self.cached_tile(db, &tile).await
        {
            return Ok(tile_answer(data, true));
        }
        let limit = if hashes {
            tile.w as usize * HASH_SIZE
        } else {
            tile.w as usize * (MAX_RECORD_TEXT + 32)
        };
        let data = match self.get(db, sub, limit).await? {
            Got::Body(b) => b,
            Got::Status(s, b) => return Ok(answer(s, "text/plain; charset=utf-8", b)),
        };
        if hashes && data.len() != limit {
            return Err(ApiError::from(bad(format!(
                "checksum database {} sent {} bytes for {sub}, not {limit}",
                db.name,
                data.len()
            ))));
        }
        if full && hashes {
            self.admit_tile(db, tile, data.clone()).await?;
        }
        Ok(tile_answer(data, full))
    }

    /// Keeps a full hash tile just fetched: proved against the verified tree
    /// first when the database has a key (unproved tiles are served, not
    /// kept, while no verified tree covers them).
    async fn admit_tile(&self, db: &Arc<Db>, tile: Tile, data: Bytes) -> Result<(), ApiError> {
        if db.verifier.is_none() {
            self.save_tile(db, &tile, data).await;
            return Ok(());
        }
        let Some(tree) = db.held_tree() else {
            return Ok(());
        };
        let end = u128::from(tile.n + 1) << (tile.h as usize * (tile.l as usize + 1));
        if end > u128::from(tree.n) {
            return Ok(());
        }
        let index = tlog::stored_hash_index(tile.l as u32 * tile.h, tile.n << tile.h);
        let this = self.clone();
        let db2 = Arc::clone(db);
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let reader = Tiles {
                dbs: &this,
                db: &db2,
                handle,
                height: tile.h,
                given: Some((tile, data.to_vec())),
            };
            TileHashReader::new(tree, &reader).read_hashes(&[index])
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map(drop)
        .map_err(|e| {
            ApiError::from(bad(format!(
                "checksum database {}: {} does not match the signed tree: {e}",
                db.name,
                tile.path()
            )))
        })
    }

    async fn cached_tile(&self, db: &Db, tile: &Tile) -> Option<Bytes> {
        match self.inner.storage.get_blob(&db.tile_key(tile)).await {
            Ok(b) if b.len() == tile.w as usize * HASH_SIZE => Some(b),
            Ok(_) => {
                warn!(tile = %db.tile_key(tile), "cached tile has the wrong size; ignored");
                None
            }
            Err(e) if matches!(e.kind(), StorageKind::NotFound | StorageKind::Unsupported) => None,
            Err(e) => {
                warn!(error = %e, "reading a cached tile failed");
                None
            }
        }
    }

    async fn save_tile(&self, db: &Db, tile: &Tile, data: Bytes) {
        if tile.l < 0 || tile.w != 1 << tile.h {
            return;
        }
        match self.inner.storage.put_blob(&db.tile_key(tile), data).await {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    StorageKind::AlreadyExists | StorageKind::Unsupported
                ) => {}
            Err(e) => warn!(error = %e, "caching a tile failed"),
        }
    }

    /// A hash tile, from the cache or the database, unproved.
    async fn read_tile(&self, db: &Db, tile: &Tile) -> Result<Vec<u8>, UpstreamError> {
        let full = tile.w == 1 << tile.h;
        if full && let Some(b) = self.cached_tile(db, tile).await {
            return Ok(b.to_vec());
        }
        let want = tile.w as usize * HASH_SIZE;
        let path = tile.path();
        match self.get(db, &path, want).await? {
            Got::Body(b) if b.len() == want => Ok(b.to_vec()),
            Got::Body(b) => Err(bad(format!(
                "checksum database {} sent {} bytes for {path}, not {want}",
                db.name,
                b.len()
            ))),
            Got::Status(s, _) => Err(unavailable(format!(
                "checksum database {} answered {s} for {path}",
                db.name
            ))),
        }
    }

    /// GETs `URL/path`, within the request bound and `limit` bytes.
    async fn get(&self, db: &Db, path: &str, limit: usize) -> Result<Got, UpstreamError> {
        let url = format!("{}/{path}", db.url);
        let timeout = self.inner.timeout;
        let work = async {
            let resp = self
                .inner
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| unavailable(format!("checksum database {url}: {e}")))?;
            let status = resp.status();
            let success = status.is_success();
            if status.is_server_error() || !(success || status.is_client_error()) {
                return Err(unavailable(format!(
                    "checksum database answered {status} for {url}"
                )));
            }
            let cap = if success { limit } else { MAX_ERROR_BODY };
            let mut resp = resp;
            let mut body = BytesMut::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| unavailable(format!("reading {url}: {e}")))?
            {
                if body.len() + chunk.len() > cap {
                    if success {
                        return Err(bad(format!(
                            "checksum database answer for {url} exceeds {cap} bytes"
                        )));
                    }
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(if success {
                Got::Body(body.freeze())
            } else {
                Got::Status(
                    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
                    body.freeze(),
                )
            })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::timeout(format!(
                "checksum database {url} did not answer within {}s",
                timeout.as_secs()
            ))),
        }
    }

    fn open_tree(&self, db: &Db, note_bytes: &[u8]) -> Result<Tree, UpstreamError> {
        let Some(v) = &db.verifier else {
            return Err(bad(format!("no key for checksum database {}", db.name)));
        };
        let n = note::open(note_bytes, &VerifierList::new([v.clone()]))
            .map_err(|e| bad(format!("checksum database {}: tree note: {e}", db.name)))?;
        tlog::parse_tree(n.text.as_bytes())
            .map_err(|e| bad(format!("checksum database {}: tree note: {e}", db.name)))
    }

    /// Proves `tree` consistent with the tree held for `db` and keeps the
    /// larger one. A fork (or a rewritten log) is refused.
    async fn accept_tree(&self, db: &Arc<Db>, tree: Tree) -> Result<(), UpstreamError> {
        let held = db.held_tree();
        if let Some(old) = held
            && old != tree
        {
            let (small, big) = if old.n <= tree.n {
                (old, tree)
            } else {
                (tree, old)
            };
            let this = self.clone();
            let db2 = Arc::clone(db);
            let handle = tokio::runtime::Handle::current();
            let proved = tokio::task::spawn_blocking(move || {
                if small.n == big.n {
                    return Err("two different trees of the same size".to_owned());
                }
                let reader = Tiles {
                    dbs: &this,
                    db: &db2,
                    handle,
                    height: TILE_HEIGHT,
                    given: None,
                };
                let thr = TileHashReader::new(big, &reader);
                let proof = tlog::prove_tree(big.n, small.n, &thr).map_err(|e| e.to_string())?;
                tlog::check_tree(&proof, big.n, big.hash, small.n, small.hash)
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| unavailable(format!("consistency check task: {e}")))?;
            if let Err(e) = proved {
                warn!(sumdb = %db.name, old = old.n, new = tree.n, error = %e, "checksum database tree heads are inconsistent");
                return Err(bad(format!(
                    "checksum database {}: tree of size {} is inconsistent with the verified \
                     tree of size {} ({e}): the log forked or was rewritten",
                    db.name, tree.n, old.n
                )));
            }
        }
        let mut guard = db.tree.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none_or(|t| t.n < tree.n) {
            *guard = Some(tree);
        }
        Ok(())
    }

    /// Checks a fetched version against the verifying database: its record,
    /// proved in the signed log, must give the zip hash `zip_h1` and the
    /// hash of `go_mod`.
    ///
    /// # Errors
    /// `BadResponse` for a mismatch ("checksum mismatch", both hashes), a
    /// record the database does not have, or an answer that fails the
    /// proofs; `Unavailable`/`Timeout` when the database cannot be reached.
    pub async fn verify(
        &self,
        module: &ModulePath,
        version: &Version,
        zip_h1: &str,
        go_mod: &[u8],
    ) -> Result<Verified, UpstreamError> {
        let Some(db) = &self.inner.verify_db else {
            return Ok(Verified::Skipped("verification is off"));
        };
        let (m, v) = (module.as_str(), version.as_str());
        if !self.inner.nosum.is_empty() && match_prefix_patterns(&self.inner.nosum, m) {
            return Ok(Verified::Skipped("matches GONOSUMDB/GOPRIVATE"));
        }
        let path = records::lookup_path(m, v).map_err(|e| bad(e.to_string()))?;
        let body = match self
            .get(db, path.trim_start_matches('/'), MAX_LOOKUP_BYTES)
            .await?
        {
            Got::Body(b) => b,
            Got::Status(s, b) => {
                return Err(bad(format!(
                    "verifying {m}@{v}: checksum database {} answered {s}: {}",
                    db.name,
                    String::from_utf8_lossy(&b).trim()
                )));
            }
        };
        let lookup = records::parse_lookup(&body).map_err(|e| {
            bad(format!(
                "verifying {m}@{v}: checksum database {}: {e}",
                db.name
            ))
        })?;
        let tree = self.open_tree(db, &lookup.tree_note)?;
        self.accept_tree(db, tree).await?;
        let this = self.clone();
        let db2 = Arc::clone(db);
        let handle = tokio::runtime::Handle::current();
        let lk = lookup.clone();
        tokio::task::spawn_blocking(move || {
            let reader = Tiles {
                dbs: &this,
                db: &db2,
                handle,
                height: TILE_HEIGHT,
                given: None,
            };
            lk.check_inclusion(tree, &TileHashReader::new(tree, &reader))
        })
        .await
        .map_err(|e| unavailable(format!("inclusion proof task: {e}")))?
        .map_err(|e| {
            bad(format!(
                "verifying {m}@{v}: checksum database {}: {e}",
                db.name
            ))
        })?;
        let (want_zip, want_mod) = lookup.hashes_for(m, v);
        let got_mod = dirhash::hash_go_mod(go_mod);
        for (what, got, want) in [
            (format!("{m}@{v}"), zip_h1, want_zip),
            (format!("{m}@{v}/go.mod"), got_mod.as_str(), want_mod),
        ] {
            let Some(want) = want else {
                return Err(bad(format!(
                    "verifying {what}: checksum database {} record has no line for it",
                    db.name
                )));
            };
            if got != want {
                warn!(
                    module = m,
                    version = v,
                    downloaded = got,
                    sumdb = want,
                    "checksum mismatch: refused"
                );
                crate::metrics::metrics().checksum_mismatch();
                return Err(bad(format!(
                    "verifying {what}: checksum mismatch: downloaded {got}, checksum database {} has {want}",
                    db.name
                )));
            }
        }
        info!(module = m, version = v, sumdb = %db.name, record = lookup.id, "verified against the checksum database");
        Ok(Verified::Checked)
    }
}

/// The go command's keys for the databases it knows by name.
fn known_key(name: &str) -> Option<Verifier> {
    (name == "sum.golang.org")
        .then(|| Verifier::parse(SUM_GOLANG_ORG_KEY).ok())
        .flatten()
}

/// Tiles for the synchronous proof code, run on the blocking pool: each
/// read blocks on the async fetch.
struct Tiles<'a> {
    dbs: &'a SumDbs,
    db: &'a Db,
    handle: tokio::runtime::Handle,
    height: u32,
    /// A tile already in hand (the one being proved).
    given: Option<(Tile, Vec<u8>)>,
}

impl TileReader for Tiles<'_> {
    fn height(&self) -> u32 {
        self.height
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog::TlogError> {
        self.handle.block_on(async {
            let mut out = Vec::with_capacity(tiles.len());
            for t in tiles {
                match &self.given {
                    Some((g, data)) if g == t => out.push(data.clone()),
                    _ => out.push(
                        self.dbs
                            .read_tile(self.db, t)
                            .await
                            .map_err(|e| tlog::TlogError::Read(e.to_string()))?,
                    ),
                }
            }
            Ok(out)
        })
    }

    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        self.handle.block_on(async {
            for (t, d) in tiles.iter().zip(data) {
                self.dbs
                    .save_tile(self.db, t, Bytes::copy_from_slice(d))
                    .await;
            }
        });
    }
}

pub(crate) fn answer(status: StatusCode, ctype: &'static str, body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn note_answer(body: Bytes) -> Response {
    answer(StatusCode::OK, "text/plain; charset=utf-8", body)
}

pub(crate) fn tile_answer(body: Bytes, full: bool) -> Response {
    let mut resp = answer(StatusCode::OK, "application/octet-stream", body);
    if full {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400, immutable"),
        );
    }
    resp
}

fn percent_decode(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
