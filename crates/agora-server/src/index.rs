//! The module index: recording each version the stash stores ([`Indexing`],
//! a [`Stash`] layer, so no storage backend knows about it) and serving
//! `/index` ([`serve`]) in index.golang.org's format.
//!
//! `GET /index?since=<RFC 3339>&limit=<n>` answers one JSON object a line,
//! `{"Path":…,"Version":…,"Timestamp":…}`, oldest first, lines at or after
//! `since` (default: the beginning), at most `limit` (default and maximum
//! 2000, as index.golang.org). A bad `since` or a `limit` that is not a
//! positive number is 400, as in Athens; an index that cannot be read is 503.
//! Without an index (`index.type = none`) the answer is empty.

use std::sync::Arc;

use agora_core::{ModulePath, Version};
use agora_index::{ModuleIndex, format_timestamp};
use async_trait::async_trait;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderValue, Uri, header};
use tracing::warn;

use crate::error::ApiError;
use crate::metrics::metrics;
use crate::stash::{Stash, StashError};

/// Lines per answer when `limit` is absent, and the most any answer has.
pub const MAX_LIMIT: usize = 2000;

/// The index the server reads and the stash writes.
#[derive(Clone)]
pub struct IndexHandle(pub Arc<dyn ModuleIndex>);

impl std::fmt::Debug for IndexHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.describe())
    }
}

/// Records every version the stash under it stored (or found stored by
/// another replica: the index keeps a version once however often it is
/// added). A failure to record is logged and counted, not given to the
/// client, whose version is stored and servable.
pub struct Indexing<S> {
    inner: S,
    index: Arc<dyn ModuleIndex>,
}

impl<S: Stash> Indexing<S> {
    /// Indexes what `inner` stores into `index`.
    pub fn new(inner: S, index: Arc<dyn ModuleIndex>) -> Self {
        Indexing { inner, index }
    }
}

#[async_trait]
impl<S: Stash> Stash for Indexing<S> {
    async fn stash(&self, module: &ModulePath, version: &Version) -> Result<(), Arc<StashError>> {
        self.inner.stash(module, version).await?;
        if let Err(e) = self.index.add(module.as_str(), version.as_str()).await {
            metrics().index_error();
            warn!(%module, %version, error = %e, "stored, but not indexed");
        }
        Ok(())
    }
}

/// `GET /index`, keeping the lines whose module `visible` accepts (a user of
/// an auth file sees only modules it may read; a page may then come out
/// short, and a client following the index goes on from its last line).
pub async fn serve(
    index: Option<&IndexHandle>,
    uri: &Uri,
    visible: &(dyn Fn(&str) -> bool + Sync),
) -> Response {
    let (since, limit) = match params(uri) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let lines = match index {
        None => Vec::new(),
        Some(h) => match h.0.lines(since, limit).await {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "reading the module index");
                return ApiError::new(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    format!("the module index cannot be read: {e}"),
                )
                .into_response();
            }
        },
    };
    let mut body = Vec::with_capacity(lines.len() * 96);
    for l in lines.iter().filter(|l| visible(&l.path)) {
        // Field order as index.golang.org writes it (a JSON map would sort them).
        let (Ok(path), Ok(version)) = (
            serde_json::to_string(&l.path),
            serde_json::to_string(&l.version),
        ) else {
            continue;
        };
        body.extend_from_slice(
            format!(
                "{{\"Path\":{path},\"Version\":{version},\"Timestamp\":\"{}\"}}\n",
                format_timestamp(&l.timestamp)
            )
            .as_bytes(),
        );
    }
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

fn params(uri: &Uri) -> Result<(DateTime<Utc>, usize), ApiError> {
    let mut since = DateTime::<Utc>::UNIX_EPOCH;
    let mut limit = MAX_LIMIT;
    for pair in uri.query().unwrap_or_default().split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "since" if !v.is_empty() => {
                since = DateTime::parse_from_rfc3339(&v)
                    .map_err(|e| ApiError::bad_request(format!("since {v:?}: {e}")))?
                    .to_utc();
            }
            "limit" if !v.is_empty() => {
                limit = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n.min(MAX_LIMIT),
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "limit {v:?}: expected a whole number greater than 0"
                        )));
                    }
                };
            }
            _ => {}
        }
    }
    Ok((since, limit))
}

/// `+` and `%XX` as a query string writes them (a `since` with a `+01:00`
/// offset must come percent-encoded; a bare `+` is a space, as Go reads it).
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    // Both digits are below 16, so this fits a byte.
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Result<(DateTime<Utc>, usize), ApiError> {
        params(&format!("/index?{q}").parse::<Uri>().unwrap())
    }

    #[test]
    fn query_parameters() {
        assert_eq!(p("").unwrap(), (DateTime::UNIX_EPOCH, 2000));
        assert_eq!(p("limit=5").unwrap().1, 5);
        assert_eq!(p("limit=999999").unwrap().1, 2000);
        let (since, _) = p("since=2019-04-10T19:08:52.997264Z").unwrap();
        assert_eq!(format_timestamp(&since), "2019-04-10T19:08:52.997264Z");
        let (since, _) = p("since=2019-04-10T19:08:52%2B01:00").unwrap();
        assert_eq!(format_timestamp(&since), "2019-04-10T18:08:52Z");
        for bad in ["limit=0", "limit=-1", "limit=x", "since=yesterday"] {
            assert_eq!(p(bad).unwrap_err().status(), 400, "{bad}");
        }
    }
}
