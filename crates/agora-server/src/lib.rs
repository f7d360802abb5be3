//! agora's HTTP side: the GOPROXY endpoints, operations endpoints, and
//! serving with graceful shutdown.
//!
//! Layout:
//! - [`request`] parses and validates a request path into a [`ProxyRequest`];
//! - [`proxy`] answers it from storage, or from upstream through the
//!   [`stash`] (single-flight fetch-and-store);
//! - [`respond`] sets content types, validators, caching headers and ranges;
//! - [`catalog`] answers Athens' `/catalog` (every stored version, paged);
//! - [`error::ApiError`] is the only place errors become statuses.
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests can run
//! the real server on port 0.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tracing::{Instrument, debug, info, info_span, warn};

pub mod cache;
pub mod catalog;
pub mod error;
pub mod proxy;
pub mod request;
pub mod respond;
mod serve;
pub mod stash;

pub use error::ApiError;
pub use proxy::{NetworkMode, Proxy};
pub use request::ProxyRequest;
pub use serve::{ConnectionOptions, serve, serve_with};
pub use stash::Stasher;

/// Athens' request-id header, honoured when a client or load balancer sends it.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("athens-request-id");

/// HTTP-level options.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// A base path every proxy route lives under (Athens' PathPrefix), such as
    /// `/go`; empty for none.
    pub path_prefix: String,
}

#[derive(Clone)]
struct AppState {
    proxy: Proxy,
    prefix: Arc<str>,
}

/// Builds the router.
pub fn router(proxy: Proxy, options: &ServerOptions) -> Router {
    let prefix = options.path_prefix.trim_end_matches('/').to_owned();
    let state = AppState {
        proxy,
        prefix: prefix.into(),
    };
    Router::new().fallback(dispatch).with_state(state)
}

async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = info_span!("request", id = %request_id, method = %method, path = %truncate(&path));
    let mut resp = handle(&state, req).instrument(span.clone()).await;
    let status = resp.status();
    span.in_scope(|| {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            warn!(status = status.as_u16(), elapsed_ms, "request failed");
        } else if status.is_client_error() && status != StatusCode::NOT_FOUND {
            info!(status = status.as_u16(), elapsed_ms, "request rejected");
        } else {
            debug!(status = status.as_u16(), elapsed_ms, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// A UUIDv4-shaped id without a system call per request: a random per-process
/// base mixed with a counter, so ids stay unique across restarts and replicas.
fn new_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static BASE: OnceLock<u128> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = *BASE.get_or_init(|| uuid::Uuid::new_v4().as_u128());
    let n = u128::from(COUNTER.fetch_add(1, Ordering::Relaxed));
    // An odd 128-bit multiplier spreads even small counters over every digit.
    let bytes = (base ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)).to_be_bytes();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn truncate(path: &str) -> &str {
    match path.char_indices().nth(200) {
        Some((i, _)) => &path[..i],
        None => path,
    }
}

async fn handle(state: &AppState, req: Request) -> Response {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        let mut resp = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are supported",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let full = req.uri().path();
    // Operations endpoints answer at the root and under the prefix, so load
    // balancers can probe either (Athens answers `/` at the root too).
    let (path, under_prefix) = if state.prefix.is_empty() {
        (full, true)
    } else {
        match full.strip_prefix(&*state.prefix) {
            Some(p) if p.is_empty() || p.starts_with('/') => (p, true),
            _ => (full, false),
        }
    };
    match path {
        "/healthz" => return ok_text("ok\n"),
        "/readyz" => return readyz(state).await,
        "/version" => return version(),
        "" | "/" => return ok_text("agora Go module proxy\n"),
        _ => {}
    }
    if !under_prefix {
        return proxy::no_such_endpoint();
    }
    if path == "/catalog" {
        return match catalog::catalog(state.proxy.storage().as_ref(), req.uri()).await {
            Ok(r) => r,
            Err(e) => {
                if e.status().is_server_error() {
                    warn!(
                        status = e.status().as_u16(),
                        reason = e.message(),
                        "catalog error"
                    );
                }
                e.into_response()
            }
        };
    }
    let parsed = match request::parse(path) {
        Ok(Some(r)) => r,
        Ok(None) => return proxy::no_such_endpoint(),
        Err(e) => return e.into_response(),
    };
    let result = match &parsed {
        ProxyRequest::List(m) => state.proxy.list(m).await,
        ProxyRequest::Latest(m) => state.proxy.latest(m).await,
        ProxyRequest::Artifact(m, v, a) => {
            state.proxy.artifact(m, v, *a, method, req.headers()).await
        }
    };
    match result {
        Ok(r) => r,
        Err(e) => {
            if e.status().is_server_error() {
                warn!(
                    status = e.status().as_u16(),
                    reason = e.message(),
                    "proxy error"
                );
            }
            e.into_response()
        }
    }
}

fn ok_text(body: &'static str) -> Response {
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn readyz(state: &AppState) -> Response {
    match state.proxy.storage().ready().await {
        Ok(()) => ok_text("ready\n"),
        Err(e) => {
            warn!(error = %e, "storage not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("storage not ready: {e}"),
            )
            .into_response()
        }
    }
}

fn version() -> Response {
    let body =
        serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "name": "agora" }).to_string();
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
