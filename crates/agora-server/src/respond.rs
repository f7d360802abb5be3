//! Response building: content types, validators, caching headers and ranges.

use std::ops::Range;

use agora_storage::{StorageError, ZipObject};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::zerocopy::SendFile;

/// Marks a response for a canonical version's artifact, which never changes.
pub fn immutable(mut resp: Response) -> Response {
    if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    resp
}

/// A list or latest answer: may change at any time.
pub fn mutable(body: Bytes, content_type: &'static str) -> Response {
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A strong entity tag derived from content.
pub fn content_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex(&digest[..16]))
}

/// A small stored artifact (.info, .mod) with its entity tag.
pub fn small(body: Bytes, content_type: &'static str, etag: &str, req: &HeaderMap) -> Response {
    if not_modified(req, etag) {
        return not_modified_response(etag);
    }
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// A stored zip, streamed, with single-range support.
pub async fn zip(
    zip: ZipObject,
    method: &Method,
    req: &HeaderMap,
) -> Result<Response, StorageError> {
    let size = zip.size;
    let etag = format!("\"{}\"", zip.tag);
    if not_modified(req, &etag) {
        return Ok(not_modified_response(&etag));
    }
    let range = match requested_range(req, &etag, size) {
        RangeAnswer::Full => None,
        RangeAnswer::Partial(r) => Some(r),
        RangeAnswer::Unsatisfiable => {
            let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    let (status, span) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.clone()),
        None => (StatusCode::OK, 0..size),
    };
    let len = span.end - span.start;
    let mut send_file = None;
    let body = if method == Method::HEAD {
        Body::empty()
    } else if let Some(bytes) = zip.as_whole() {
        if let Some(file) = zip.file()
            && bytes.len() as u64 == size
        {
            send_file = SendFile::new(bytes, file);
        }
        // One buffer of known length: hyper writes it with the head in one
        // go, where a stream would cost another poll and often another write.
        Body::from(bytes.slice(span.start as usize..span.end as usize))
    } else {
        Body::from_stream(zip.stream(span.clone()).await?)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    if let Some(send_file) = send_file {
        resp.extensions_mut().insert(send_file);
    }
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if range.is_some() {
        let value = format!("bytes {}-{}/{size}", span.start, span.end - 1);
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

fn not_modified_response(etag: &str) -> Response {
    let mut resp = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// `If-None-Match` with weak comparison, as RFC 9110 asks for GET and HEAD.
fn not_modified(req: &HeaderMap, etag: &str) -> bool {
    let Some(value) = req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

enum RangeAnswer {
    Full,
    Partial(Range<u64>),
    Unsatisfiable,
}

/// Interprets `Range` (and `If-Range`). Only a single byte range is served
/// as 206; anything else this does not understand gets the whole zip, which
/// RFC 9110 allows.
fn requested_range(req: &HeaderMap, etag: &str, size: u64) -> RangeAnswer {
    let Some(value) = req.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeAnswer::Full;
    };
    if let Some(cond) = req.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && cond.trim() != etag
    {
        return RangeAnswer::Full;
    }
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        // A suffix: the last N bytes.
        let Ok(n) = last.parse::<u64>() else {
            return RangeAnswer::Full;
        };
        if n == 0 || size == 0 {
            return RangeAnswer::Unsatisfiable;
        }
        size.saturating_sub(n)..size
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return RangeAnswer::Full;
        };
        let end = if last.is_empty() {
            size
        } else {
            let Ok(l) = last.parse::<u64>() else {
                return RangeAnswer::Full;
            };
            if l < start {
                return RangeAnswer::Full;
            }
            l.saturating_add(1).min(size)
        };
        if start >= size {
            return RangeAnswer::Unsatisfiable;
        }
        start..end
    };
    RangeAnswer::Partial(range)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: &str, size: u64) -> Option<Option<Range<u64>>> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
        match requested_range(&h, "\"t\"", size) {
            RangeAnswer::Full => Some(None),
            RangeAnswer::Partial(r) => Some(Some(r)),
            RangeAnswer::Unsatisfiable => None,
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Some(Some(0..10)));
        assert_eq!(range("bytes=90-", 100), Some(Some(90..100)));
        assert_eq!(range("bytes=-10", 100), Some(Some(90..100)));
        assert_eq!(range("bytes=-1000", 100), Some(Some(0..100)));
        assert_eq!(range("bytes=50-1000", 100), Some(Some(50..100)));
        assert_eq!(range("bytes=100-", 100), None);
        assert_eq!(range("bytes=-0", 100), None);
        assert_eq!(range("bytes=0-1,5-6", 100), Some(None));
        assert_eq!(range("items=0-1", 100), Some(None));
        assert_eq!(range("bytes=9-3", 100), Some(None));
    }

    #[test]
    fn if_none_match() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(not_modified(&h, "\"b\""));
        assert!(!not_modified(&h, "\"c\""));
    }
}
