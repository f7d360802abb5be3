//! Athens' `/catalog`: every stored version, a page at a time.
//!
//! `GET /catalog?token=<next>&pagesize=<n>` answers
//! `{"modules":[{"module":"…","version":"…"}],"next":"…"}` and a newline, with
//! `next` left out on the last page. The token is the storage backend's
//! (see [`agora_storage::CatalogPage::next`]); the list comes from storage
//! alone, so versions written by other tools are included.
//!
//! Where agora differs from Athens: a `pagesize` that is not a positive integer
//! is a 400 with a reason (Athens answers 500 for a non-number and takes zero or
//! a negative number as is), and a page size above [`MAX_PAGE_SIZE`] is cut down
//! to it, so one request cannot make the server collect an unbounded page.

use agora_storage::Storage;
use axum::body::Body;
use axum::extract::Query;
use axum::response::Response;
use http::{HeaderValue, Uri, header};
use serde_json::json;

use crate::ApiError;

/// Athens' page size when `pagesize` is absent or empty.
pub const DEFAULT_PAGE_SIZE: usize = 1000;

/// The largest page served; larger requests get pages of this size (and a `next`).
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Answers a `/catalog` request (GET or HEAD; the server leaves out the body of HEAD),
/// listing only the modules `visible` lets through (the requesting user's).
///
/// # Errors
/// 400 for a bad `pagesize` or token, 501 when the backend cannot enumerate its
/// contents, 503 when it cannot be read.
pub async fn catalog(
    storage: &dyn Storage,
    uri: &Uri,
    visible: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Response, ApiError> {
    let (token, page_size) = params(uri)?;
    let page = storage.catalog(&token, page_size).await?;
    let modules: Vec<serde_json::Value> = page
        .versions
        .iter()
        .filter(|(m, _)| visible(m.as_str()))
        .map(|(m, v)| json!({ "module": m.as_str(), "version": v.as_str() }))
        .collect();
    // serde_json's map is sorted, which happens to be Athens' field order.
    let mut body = match page.next.filter(|n| !n.is_empty()) {
        Some(next) => json!({ "modules": modules, "next": next }),
        None => json!({ "modules": modules }),
    }
    .to_string();
    body.push('\n');
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(resp)
}

/// The token and page size from the query string (the first of repeated parameters,
/// as Go's `FormValue` takes).
fn params(uri: &Uri) -> Result<(String, usize), ApiError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| ApiError::bad_request(format!("bad query string: {e}")))?;
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let token = first("token").unwrap_or_default().to_owned();
    let page_size = page_size(first("pagesize"))?;
    Ok((token, page_size))
}

fn page_size(raw: Option<&str>) -> Result<usize, ApiError> {
    let raw = match raw.map(str::trim) {
        None | Some("") => return Ok(DEFAULT_PAGE_SIZE),
        Some(raw) => raw,
    };
    let bad = || {
        let shown: String = raw.chars().take(40).collect();
        ApiError::bad_request(format!(
            "pagesize must be a positive integer, got {shown:?}"
        ))
    };
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(usize::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE))),
        Ok(_) => Err(bad()),
        // Digits only, yet no i64: a huge page, cut down like any other.
        Err(_)
            if raw
                .trim_start_matches('+')
                .bytes()
                .all(|b| b.is_ascii_digit())
                && raw.trim_start_matches('+').bytes().any(|b| b != b'0') =>
        {
            Ok(MAX_PAGE_SIZE)
        }
        Err(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use agora_core::{ModulePath, Version};
    use agora_storage::memory::MemoryStorage;
    use agora_storage::{NewVersion, StorageError};
    use axum::response::IntoResponse;
    use http::StatusCode;
    use http_body_util::BodyExt;

    use super::*;

    async fn stored(versions: &[(&str, &str)]) -> MemoryStorage {
        let s = MemoryStorage::new();
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("z.zip");
        std::fs::write(&zip, b"z").unwrap();
        for (m, v) in versions {
            let new = NewVersion {
                info: "{}".into(),
                go_mod: "module x\n".into(),
                zip: zip.clone(),
            };
            s.put(&ModulePath::new(m).unwrap(), &Version::from_trusted(v), new)
                .await
                .unwrap();
        }
        s
    }

    async fn get(s: &dyn Storage, target: &str) -> (StatusCode, Option<String>, String) {
        let resp = match catalog(s, &target.parse().unwrap(), &|_| true).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        let status = resp.status();
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, ct, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn athens_json_shape_and_paging() {
        let s = stored(&[
            ("a.test/b", "v1.0.0"),
            ("a.test/b", "v1.1.0"),
            ("a.test/b-c", "v0.1.0"),
        ])
        .await;
        let (status, ct, body) = get(&s, "/catalog?pagesize=2").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct.as_deref(), Some("application/json; charset=utf-8"));
        assert_eq!(
            body,
            "{\"modules\":[{\"module\":\"a.test/b\",\"version\":\"v1.0.0\"},\
             {\"module\":\"a.test/b\",\"version\":\"v1.1.0\"}],\"next\":\"a.test/b|v1.1.0\"}\n"
        );
        let (status, _, body) = get(&s, "/catalog?pagesize=2&token=a.test%2Fb%7Cv1.1.0").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            "{\"modules\":[{\"module\":\"a.test/b-c\",\"version\":\"v0.1.0\"}]}\n"
        );
        let (_, _, body) = get(&MemoryStorage::new(), "/catalog").await;
        assert_eq!(body, "{\"modules\":[]}\n");
    }

    /// A user's page holds only its modules, and still leads on to the rest.
    #[tokio::test]
    async fn lists_only_visible_modules() {
        let s = stored(&[
            ("a.test/b", "v1.0.0"),
            ("a.test/b-c", "v0.1.0"),
            ("a.test/d", "v0.2.0"),
        ])
        .await;
        let visible = |m: &str| m != "a.test/b-c";
        let resp = catalog(&s, &"/catalog?pagesize=2".parse().unwrap(), &visible)
            .await
            .unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            body,
            "{\"modules\":[{\"module\":\"a.test/b\",\"version\":\"v1.0.0\"}],\
             \"next\":\"a.test/b-c|v0.1.0\"}\n"
        );
    }

    #[tokio::test]
    async fn bad_input_is_a_one_line_400() {
        let s = stored(&[("a.test/b", "v1.0.0")]).await;
        for target in [
            "/catalog?pagesize=0",
            "/catalog?pagesize=ten",
            "/catalog?token=nonsense",
        ] {
            let (status, ct, body) = get(&s, target).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{target}: {body}");
            assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"), "{target}");
            assert_eq!(body.matches('\n').count(), 1, "{target}: {body:?}");
            assert!(body.ends_with('\n'), "{target}: {body:?}");
        }
    }

    #[test]
    fn storage_kinds_map_to_statuses() {
        let status = |e: StorageError| ApiError::from(e).status();
        assert_eq!(
            status(StorageError::unsupported("x")),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            status(StorageError::invalid_argument("x")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(StorageError::io("x", std::io::Error::other("down"))),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some("")).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some("1")).unwrap(), 1);
        assert_eq!(page_size(Some("+7")).unwrap(), 7);
        assert_eq!(page_size(Some("10000")).unwrap(), MAX_PAGE_SIZE);
        assert_eq!(page_size(Some("10001")).unwrap(), MAX_PAGE_SIZE);
        assert_eq!(
            page_size(Some("99999999999999999999999")).unwrap(),
            MAX_PAGE_SIZE
        );
        for bad in [
            "0",
            "-1",
            "abc",
            "1.5",
            "1e3",
            "0x10",
            "000000000000000000000000",
        ] {
            let err = page_size(Some(bad)).unwrap_err();
            assert_eq!(err.status(), http::StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn first_of_repeated_parameters_and_form_decoding() {
        let uri: Uri = "/catalog?pagesize=3&token=a.test%2Fb%7Cv2.0.0%2Bincompatible&pagesize=9"
            .parse()
            .unwrap();
        assert_eq!(
            params(&uri).unwrap(),
            ("a.test/b|v2.0.0+incompatible".to_owned(), 3)
        );
        let uri: Uri = "/catalog".parse().unwrap();
        assert_eq!(params(&uri).unwrap(), (String::new(), DEFAULT_PAGE_SIZE));
    }
}
