//! The middleware every request passes through before the handler, each
//! made a tower layer with `axum::middleware::from_fn`, outermost first:
//! [`request_id`] names the request, [`access_log`] traces and logs it.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderName, HeaderValue};
use tracing::{Instrument, info, info_span, warn};

/// Athens' request-id header, honoured when a client or load balancer sends it.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("athens-request-id");

/// The request's id, as [`request_id`] leaves it in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Takes the request id from `Athens-Request-ID` (when it is usable) or makes
/// one, hands it on in the request's extensions as [`RequestId`] and answers
/// with it.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// One span per request, named by its [`RequestId`], and one log line when it
/// ends: a warning for a server error, info otherwise (Athens logs every request
/// at info too), with the method, path, status, duration and request id as
/// fields of the line itself, so a JSON log line stands on its own. The auth
/// layer fills in the span's `user`.
pub async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let span = info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %truncate(req.uri().path()),
        user = tracing::field::Empty,
    );
    let method = req.method().clone();
    let path = truncate(req.uri().path()).to_owned();
    let resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status();
    span.in_scope(|| {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = status.as_u16();
        let method = method.as_str();
        let path = path.as_str();
        let request_id = id.as_str();
        if (500..600).contains(&status) {
            warn!(
                method,
                path, status, elapsed_ms, request_id, "request failed"
            );
        } else {
            info!(method, path, status, elapsed_ms, request_id, "request");
        }
    });
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

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::middleware::from_fn;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        // The handler answers with the id it was handed.
        Router::new()
            .fallback(|req: Request| async move {
                req.extensions()
                    .get::<RequestId>()
                    .map(|r| r.0.clone())
                    .unwrap_or_default()
            })
            .layer(from_fn(access_log))
            .layer(from_fn(request_id))
    }

    async fn ids(sent: Option<&str>) -> (String, String) {
        let mut req = http::Request::builder().uri("/x");
        if let Some(id) = sent {
            req = req.header(REQUEST_ID, id);
        }
        let resp = app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let header = resp.headers()[REQUEST_ID].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        (header, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn honours_a_usable_id_and_makes_one_otherwise() {
        assert_eq!(ids(Some("abc-1")).await, ("abc-1".into(), "abc-1".into()));
        let long = "x".repeat(129);
        for sent in [None, Some(""), Some(long.as_str())] {
            let (header, seen) = ids(sent).await;
            assert_eq!(header, seen);
            assert!(uuid::Uuid::parse_str(&header).is_ok(), "{header}");
        }
        assert_ne!(ids(None).await.0, ids(None).await.0);
    }
}
