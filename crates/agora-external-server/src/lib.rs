//! Athens' external storage protocol, served over any agora [`Storage`].
//!
//! This crate owns agora's own server for the protocol of gomods/athens
//! `pkg/storage/external` (see `docs/storage/external.md`), the way Athens' reference
//! server wraps any Athens backend. agora's external-storage client
//! (`agora_storage::external::ExternalStorage`) is tested against it: the storage
//! compliance suite and the end-to-end tests start it on 127.0.0.1 over a
//! [`DiskStorage`](agora_storage::fs::DiskStorage) in a temporary directory.
//!
//! ```text
//! GET    /{module}/@v/list              200, newline-separated versions (none: empty)
//! GET    /{module}/@v/{version}.info    .mod   .zip (Content-Length; Range and ETag in the agora dialect)
//! POST   /{module}/@v/{version}.save    multipart parts mod.info, mod.mod, mod.zip → 200
//! DELETE /{module}/@v/{version}.delete
//! ```
//!
//! The module is `!`-escaped in the URL; the version is taken as it is (Athens' client
//! does not escape it). Statuses: absent 404, already stored 409, storage unavailable
//! 503, broken data 500, a bad path 400. The zip of a save is streamed to a temporary
//! file in [`ServerOptions::spool_dir`] before it is handed to the storage, so saves have
//! no size cap (Athens' reference server caps them at 1 MiB since #2105).
//!
//! [`Dialect::AthensReference`] behaves like Athens' reference server where a client can
//! tell: no `Range` (a 200 with the whole zip), no `ETag`, no `HEAD`, and every failed save
//! answered 400 (a lost race included), so the client's fallbacks get exercised too.

use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, Version};
use agora_storage::{ErrorKind, NewVersion, Storage, StorageError};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;

/// The largest `.info` or go.mod part a save may carry (go.mod files are capped at
/// 16 MiB by the go command).
const SMALL_PART_LIMIT: usize = 16 << 20;

/// How the server answers where Athens' reference server and a careful server differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Ranges, ETags, HEAD, and 409 for a save of a stored version.
    Agora,
    /// What Athens' reference server does: whole zips only, no ETag, no HEAD, and 400 for
    /// any failed save.
    AthensReference,
}

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where the zips of saves in progress are spooled.
    pub spool_dir: PathBuf,
    /// Which behaviour to show clients.
    pub dialect: Dialect,
}

struct Inner {
    storage: Arc<dyn Storage>,
    options: ServerOptions,
}

/// The protocol as an axum router over `storage`.
pub fn router(storage: Arc<dyn Storage>, options: ServerOptions) -> Router {
    Router::new()
        .fallback(handle)
        // The zip part is streamed to disk; no body limit applies.
        .layer(DefaultBodyLimit::disable())
        .with_state(Arc::new(Inner { storage, options }))
}

/// Serves the protocol on `listener` as a task of the current tokio runtime, until the
/// runtime shuts down or the task is aborted.
///
/// # Errors
/// When the listener cannot be handed to tokio, or when not called within a runtime.
pub fn spawn(
    listener: std::net::TcpListener,
    storage: Arc<dyn Storage>,
    options: ServerOptions,
) -> io::Result<tokio::task::JoinHandle<()>> {
    listener.set_nonblocking(true)?;
    let handle = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let _guard = handle.enter();
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = router(storage, options);
    // Nagle's algorithm would hold each streamed body behind the client's
    // delayed ACK of the response head (about 40 ms per request).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    Ok(handle.spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "external storage server stopped");
        }
    }))
}

/// A server on a runtime of its own, for tests that are not async; stopping it drops
/// every connection at once, like a crashed server.
pub struct BlockingServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingServer {
    /// Starts a server on `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// When the address cannot be bound or no runtime can be built.
    pub fn start(
        addr: SocketAddr,
        storage: Arc<dyn Storage>,
        options: ServerOptions,
    ) -> io::Result<BlockingServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        {
            let _guard = runtime.enter();
            spawn(listener, storage, options)?;
        }
        Ok(BlockingServer {
            addr,
            runtime: Some(runtime),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving: the listener and every connection are closed.
    pub fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for BlockingServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A one-line plain-text error answer.
fn fail(status: StatusCode, message: impl std::fmt::Display) -> Response {
    let mut body = message.to_string().replace(['\r', '\n'], " ");
    body.push('\n');
    (status, body).into_response()
}

fn storage_status(e: &StorageError) -> StatusCode {
    match e.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Corrupt => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
    }
}

fn storage_fail(e: &StorageError) -> Response {
    fail(storage_status(e), e)
}

/// What a request asks for.
enum Target {
    List(ModulePath),
    Artifact(ModulePath, Version, String),
}

fn parse(path: &str) -> Result<Target, String> {
    let path = percent_decode(path).ok_or("bad percent-encoding")?;
    let rest = path.strip_prefix('/').unwrap_or(&path);
    let (module, file) = rest
        .rsplit_once("/@v/")
        .ok_or_else(|| format!("no /@v/ in {path:?}"))?;
    let module = ModulePath::from_escaped(module).map_err(|e| e.to_string())?;
    if file == "list" {
        return Ok(Target::List(module));
    }
    let (version, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| format!("no extension in {file:?}"))?;
    if version.is_empty() || version.contains('/') || version == "." || version == ".." {
        return Err(format!("bad version {version:?}"));
    }
    Ok(Target::Artifact(
        module,
        Version::from_trusted(version),
        ext.to_owned(),
    ))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let target = match parse(req.uri().path()) {
        Ok(t) => t,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e),
    };
    let method = req.method().clone();
    let athens = inner.options.dialect == Dialect::AthensReference;
    let read = method == Method::GET || (method == Method::HEAD && !athens);
    match target {
        Target::List(module) if read => match inner.storage.list(&module).await {
            Ok(mut versions) => {
                versions.sort();
                versions.join("\n").into_response()
            }
            Err(e) => storage_fail(&e),
        },
        Target::Artifact(module, version, ext) => match (ext.as_str(), &method) {
            ("info", _) if read => small(inner.storage.info(&module, &version).await),
            ("mod", _) if read => small(inner.storage.go_mod(&module, &version).await),
            ("zip", _) if read => zip(&inner, &module, &version, req.headers()).await,
            ("save", &Method::POST) => save(&inner, &module, &version, req).await,
            ("delete", &Method::DELETE) => match inner.storage.delete(&module, &version).await {
                Ok(()) => StatusCode::OK.into_response(),
                Err(e) => storage_fail(&e),
            },
            ("info" | "mod" | "zip" | "save" | "delete", _) => {
                fail(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            }
            _ => fail(StatusCode::NOT_FOUND, format!("unknown endpoint .{ext}")),
        },
        Target::List(_) => fail(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

fn small(res: Result<Bytes, StorageError>) -> Response {
    match res {
        Ok(bytes) => bytes.into_response(),
        Err(e) => storage_fail(&e),
    }
}

/// Parses a single `bytes=` range against `size`: `None` when there is none (or it is
/// not one the server honours), `Some(Err(()))` when it cannot be satisfied.
fn requested_range(headers: &HeaderMap, size: u64) -> Option<Result<Range<u64>, ()>> {
    let spec = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>().ok()?.saturating_add(1).min(size)
        };
        start..end
    };
    Some(if range.start < range.end {
        Ok(range)
    } else {
        Err(())
    })
}

async fn zip(
    inner: &Inner,
    module: &ModulePath,
    version: &Version,
    headers: &HeaderMap,
) -> Response {
    let z = match inner.storage.zip(module, version).await {
        Ok(z) => z,
        Err(e) => return storage_fail(&e),
    };
    let size = z.size;
    let athens = inner.options.dialect == Dialect::AthensReference;
    let etag = format!("\"{}\"", z.tag);
    let mut status = StatusCode::OK;
    let mut range = 0..size;
    let mut out = HeaderMap::new();
    if !athens {
        if let Some(want) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
            && want.trim() != "*"
            && !want.split(',').any(|t| t.trim() == etag)
        {
            return fail(StatusCode::PRECONDITION_FAILED, "the zip has changed");
        }
        if let Ok(v) = HeaderValue::from_str(&etag) {
            out.insert(header::ETAG, v);
        }
        out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        match requested_range(headers, size) {
            None => {}
            Some(Ok(r)) => {
                status = StatusCode::PARTIAL_CONTENT;
                if let Ok(v) =
                    HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end - 1))
                {
                    out.insert(header::CONTENT_RANGE, v);
                }
                range = r;
            }
            Some(Err(())) => {
                let mut resp = fail(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return resp;
            }
        }
    }
    out.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(range.end - range.start),
    );
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    let body = match z.stream(range).await {
        Ok(s) => Body::from_stream(s),
        Err(e) => return storage_fail(&e),
    };
    (status, out, body).into_response()
}

async fn save(inner: &Inner, module: &ModulePath, version: &Version, req: Request) -> Response {
    let athens = inner.options.dialect == Dialect::AthensReference;
    let failed = |status: StatusCode, msg: String| {
        fail(
            if athens {
                StatusCode::BAD_REQUEST
            } else {
                status
            },
            msg,
        )
    };
    let mut form = match Multipart::from_request(req, &()).await {
        Ok(f) => f,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let mut info = None;
    let mut go_mod = None;
    let mut zip = None;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return fail(StatusCode::BAD_REQUEST, e.body_text()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "mod.info" | "mod.mod" => {
                let mut buf = BytesMut::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) if buf.len() + c.len() <= SMALL_PART_LIMIT => {
                            buf.extend_from_slice(&c);
                        }
                        Ok(Some(_)) => {
                            return fail(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                format!("{name} too large"),
                            );
                        }
                        Ok(None) => break,
                        Err(e) => return fail(StatusCode::BAD_REQUEST, e.body_text()),
                    }
                }
                if name == "mod.info" {
                    info = Some(buf.freeze());
                } else {
                    go_mod = Some(buf.freeze());
                }
            }
            "mod.zip" => {
                let spool = match tempfile::Builder::new()
                    .prefix(".save-")
                    .suffix(".zip")
                    .tempfile_in(&inner.options.spool_dir)
                {
                    Ok(f) => f.into_temp_path(),
                    Err(e) => {
                        return fail(StatusCode::SERVICE_UNAVAILABLE, format!("spooling: {e}"));
                    }
                };
                let mut file = match tokio::fs::File::create(&spool).await {
                    Ok(f) => f,
                    Err(e) => {
                        return fail(StatusCode::SERVICE_UNAVAILABLE, format!("spooling: {e}"));
                    }
                };
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            if let Err(e) = file.write_all(&c).await {
                                return fail(
                                    StatusCode::SERVICE_UNAVAILABLE,
                                    format!("spooling: {e}"),
                                );
                            }
                        }
                        Ok(None) => break,
                        Err(e) => return fail(StatusCode::BAD_REQUEST, e.body_text()),
                    }
                }
                if let Err(e) = file.flush().await {
                    return fail(StatusCode::SERVICE_UNAVAILABLE, format!("spooling: {e}"));
                }
                zip = Some(spool);
            }
            // Unknown parts are ignored, as Go's FormFile lookups do.
            _ => {}
        }
    }
    let (Some(info), Some(go_mod), Some(zip)) = (info, go_mod, zip) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "a save needs the parts mod.info, mod.mod and mod.zip",
        );
    };
    let new = NewVersion {
        info,
        go_mod,
        zip: zip.to_path_buf(),
    };
    let res = inner.storage.put(module, version, new).await;
    // The storage may have moved the spool file away; removing it is best effort.
    drop(zip);
    match res {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => failed(storage_status(&e), e.to_string()),
    }
}
