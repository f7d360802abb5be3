//! agora's HTTP side: the GOPROXY endpoints, operations endpoints, and
//! serving with graceful shutdown.
//!
//! Layout:
//! - [`layers`] are what every request passes through first: its request
//!   id, then its span and access-log line; then [`auth`] (when configured)
//!   checks its credentials;
//! - [`request`] parses and validates a request path into a [`ProxyRequest`];
//! - [`policy`] then decides whether it is answered at all (Athens' filter
//!   file and validator hook);
//! - [`proxy`] answers it from storage, or from upstream through the
//!   [`stash`] (single flight layered over fetch-and-store; Athens' download
//!   modes decide whether a miss is fetched now, in the background, redirected
//!   or refused), reading
//!   `.info` and `.mod` through the [`cache`] layer;
//! - [`upstream::Upstream`] is all the proxy and the stash ask of upstream,
//!   so their logic is unit-tested against a fake;
//! - [`respond`] sets content types, validators, caching headers and ranges;
//!   [`ziptag`] gives zips entity tags from their content;
//! - [`catalog`] answers Athens' `/catalog` (every stored version, paged);
//! - [`sumdb`] proxies checksum databases under `/sumdb/` and verifies
//!   fetched versions against one before the stash stores them;
//! - [`error::ApiError`] is the only place errors become statuses.
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests can run
//! the real server on port 0; [`serve_tls`] does the same over TLS, with its
//! configuration read by [`tls`].

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, header};
use tracing::warn;

pub mod auth;
pub mod cache;
pub mod catalog;
pub mod error;
#[cfg(test)]
mod fake;
pub mod index;
pub mod layers;
mod locked;
pub mod metered;
pub mod metrics;
pub mod policy;
pub mod private_sumdb;
pub mod proxy;
pub mod request;
pub mod respond;
mod serve;
pub mod stash;
pub mod sumdb;
pub mod tls;
pub mod upstream;
pub mod upstream_cache;
pub mod zerocopy;
pub mod ziptag;

pub use error::ApiError;
pub use policy::Policy;
pub use proxy::{NetworkMode, Proxy};
pub use request::ProxyRequest;
pub use serve::{ConnectionOptions, serve, serve_tls, serve_with};
pub use stash::Stasher;
pub use upstream::Upstream;

pub use layers::REQUEST_ID;

/// HTTP-level options.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// A base path every proxy route lives under (Athens' PathPrefix), such as
    /// `/go`; empty for none.
    pub path_prefix: String,
    /// The module index `/index` reads; `None` answers it empty.
    pub index: Option<index::IndexHandle>,
    /// Who may read what; `None` serves everyone everything.
    pub access: Option<auth::Access>,
    /// The filter file and validator hook every module request passes first.
    pub policy: Policy,
    /// The checksum databases served under `/sumdb/`; `None` answers 404 there.
    pub sumdb: Option<sumdb::SumDbs>,
}

#[derive(Clone)]
struct AppState {
    proxy: Proxy,
    prefix: Arc<str>,
    index: Option<index::IndexHandle>,
    policy: Policy,
    sumdb: Option<sumdb::SumDbs>,
}

/// Builds the router.
pub fn router(proxy: Proxy, options: &ServerOptions) -> Router {
    let prefix = options.path_prefix.trim_end_matches('/').to_owned();
    let prefix: Arc<str> = prefix.into();
    let state = AppState {
        proxy,
        prefix: prefix.clone(),
        index: options.index.clone(),
        policy: options.policy.clone(),
        sumdb: options.sumdb.clone(),
    };
    // Shared behind one Arc: the router clones its state for every request,
    // and cloning the proxy's handles one by one showed in profiles.
    let mut router = Router::new().fallback(dispatch).with_state(Arc::new(state));
    if let Some(access) = &options.access {
        let gate = auth::Gate {
            access: access.clone(),
            prefix,
        };
        router = router.layer(from_fn_with_state(gate, auth::require));
    }
    router
        .layer(from_fn(layers::access_log))
        .layer(from_fn(layers::request_id))
        .layer(from_fn(metrics::http))
}

async fn dispatch(State(state): State<Arc<AppState>>, req: Request) -> Response {
    handle(&state, req).await
}

async fn handle(state: &AppState, req: Request) -> Response {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        return ApiError::method_not_allowed().into_response();
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
        "/metrics" => return metrics::render(),
        "" | "/" => return ok_text("agora Go module proxy\n"),
        _ => {}
    }
    if !under_prefix {
        return error::no_such_endpoint();
    }
    if let Some(rest) = path.strip_prefix("/sumdb/") {
        return match &state.sumdb {
            Some(dbs) => dbs.handle(rest).await,
            None => error::no_such_endpoint(),
        };
    }
    let reader = req.extensions().get::<auth::Reader>();
    if path == "/index" {
        let visible = |m: &str| reader.is_none_or(|r| r.may_read(m));
        return index::serve(state.index.as_ref(), req.uri(), &visible).await;
    }
    if path == "/catalog" {
        // A user sees only the modules it may read; a page may come out short
        // (even empty) with a `next`, which catalog clients follow anyway.
        let visible = |m: &str| reader.is_none_or(|r| r.may_read(m));
        return match catalog::catalog(state.proxy.storage().as_ref(), req.uri(), &visible).await {
            Ok(r) => r,
            Err(e) => {
                if e.status().is_server_error() {
                    warn!(
                        status = e.status().as_u16(),
                        reason = e.detail(),
                        "catalog error"
                    );
                }
                e.into_response()
            }
        };
    }
    let parsed = match request::parse(path) {
        Ok(Some(r)) => r,
        Ok(None) => return error::no_such_endpoint(),
        Err(e) => return e.into_response(),
    };
    let span = tracing::Span::current();
    match &parsed {
        ProxyRequest::List(m) | ProxyRequest::Latest(m) => {
            span.record("module", m.as_str());
        }
        ProxyRequest::Artifact(m, v, _) => {
            span.record("module", m.as_str());
            span.record("version", v.as_str());
        }
    }
    if let Some(reader) = reader {
        let module = match &parsed {
            ProxyRequest::List(m) | ProxyRequest::Latest(m) | ProxyRequest::Artifact(m, _, _) => m,
        };
        if !reader.may_read(module.as_str()) {
            return auth::forbidden(reader, module.as_str());
        }
    }
    if let Some(answer) = state.policy.check(&parsed).await {
        return answer;
    }
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
                    reason = e.detail(),
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
            ApiError::not_ready(&e).into_response()
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
