//! The one place where failures become HTTP statuses: storage and upstream
//! error kinds, a failed stash, storage that is not ready, a method or an
//! endpoint agora does not serve.

use agora_storage::{ErrorKind as StorageKind, StorageError};
use agora_upstream::{ErrorKind as UpstreamKind, UpstreamError};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::stash::StashError;

/// A failed request: a status and a one-line reason for the client.
///
/// The go command prints a `text/plain` error body (up to its first blank
/// line) to the user, so the reason is kept to one printable line.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// The reason in full, for the operator's log; the client's copy of a
    /// server error has the server's own file paths taken out.
    detail: String,
}

impl ApiError {
    /// A malformed request (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Something that is not here and not upstream (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A method other than GET and HEAD (405, with `Allow`).
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are supported",
        )
    }

    /// `/readyz` when storage fails its probe (503, whatever the failure's
    /// kind: a missing bucket is as unready as an unreachable one).
    pub fn not_ready(e: &StorageError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage not ready: {e}"),
        )
    }

    /// Any status with a reason.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let detail: String = message.into();
        let shown = if status.is_server_error() {
            hide_server_paths(&detail)
        } else {
            detail.clone()
        };
        // One printable line, bounded: the go command shows at most 8 lines
        // and 648 bytes, and only if every byte is printable.
        let line: String = shown
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(600)
            .collect();
        ApiError {
            status,
            message: line,
            detail,
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason as the client sees it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The reason in full, paths included: for the log, never for a client.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// Replaces every absolute file path in `text` with `<server path>`. A
/// storage or VCS failure names the file it failed on (a storage root, a
/// mirror, a spool file), which tells a client how the server is laid out;
/// the log keeps the original. A path is a `/` that starts a word (after a
/// space, a quote, `(`, `=` or the start), so URLs (`https://host/p`), module
/// paths (`example.com/m`) and `h1:` hashes are left as they are; it runs to
/// the next space, quote, `)` or `,`, or a `:` that ends it.
fn hide_server_paths(text: &str) -> String {
    const MASK: &str = "<server path>";
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        let starts_word = matches!(prev, None | Some(' ' | '\'' | '"' | '(' | '=' | '`'));
        if c == '/' && starts_word {
            let rest = &text[i..];
            let end = rest
                .char_indices()
                .find(|&(j, ch)| {
                    matches!(ch, ' ' | '\'' | '"' | ')' | ',' | '`')
                        || (ch == ':' && rest[j + 1..].starts_with(' '))
                        || (ch == ':' && j + 1 == rest.len())
                })
                .map_or(rest.len(), |(j, _)| j);
            out.push_str(MASK);
            // Skip the rest of the path.
            while chars.peek().is_some_and(|&(k, _)| k < i + end) {
                chars.next();
            }
            prev = Some('/');
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

impl From<&StorageError> for ApiError {
    fn from(e: &StorageError) -> Self {
        let status = match e.kind() {
            StorageKind::NotFound => StatusCode::NOT_FOUND,
            // A failed read of our own storage is never reported as absence:
            // the client should retry, not conclude the module does not exist.
            StorageKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            StorageKind::AlreadyExists | StorageKind::Corrupt => StatusCode::INTERNAL_SERVER_ERROR,
            StorageKind::InvalidArgument => StatusCode::BAD_REQUEST,
            // Athens' answer when its storage has no catalog (external storage).
            StorageKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
        };
        ApiError::new(status, format!("storage: {e}"))
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError::from(&e)
    }
}

impl From<&UpstreamError> for ApiError {
    fn from(e: &UpstreamError) -> Self {
        let status = match e.kind() {
            UpstreamKind::NotFound => StatusCode::NOT_FOUND,
            UpstreamKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            UpstreamKind::Unavailable | UpstreamKind::BadResponse | UpstreamKind::Unsupported => {
                StatusCode::BAD_GATEWAY
            }
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<UpstreamError> for ApiError {
    fn from(e: UpstreamError) -> Self {
        ApiError::from(&e)
    }
}

impl From<&StashError> for ApiError {
    fn from(e: &StashError) -> Self {
        match e {
            StashError::Upstream(e) | StashError::SumDb(e) => ApiError::from(e),
            StashError::Storage(e) => ApiError::from(e),
            StashError::Task(msg) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, msg.clone()),
            // The lock server is a dependency like storage: unreachable is 503.
            StashError::Lock(e) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("single-flight lock: {e}"),
            ),
            // Upstream sent content other than what was vouched for.
            StashError::Checksum(msg) => ApiError::new(StatusCode::BAD_GATEWAY, msg.clone()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, format!("{}\n", self.message)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        resp
    }
}

/// The 404 for a path that is no endpoint of agora's. Unlike an
/// [`ApiError`] it may be cached: the answer never changes.
pub fn no_such_endpoint() -> Response {
    let mut r = (
        StatusCode::NOT_FOUND,
        Body::from("not found: no such endpoint\n"),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_its_status() {
        let storage = |e: StorageError| ApiError::from(&e).status();
        assert_eq!(storage(StorageError::not_found("x")), StatusCode::NOT_FOUND);
        assert_eq!(
            storage(StorageError::io("x", std::io::Error::other("down"))),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            storage(StorageError::corrupt("x")),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let upstream = |k| ApiError::from(&UpstreamError::new(k, "x")).status();
        assert_eq!(upstream(UpstreamKind::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(upstream(UpstreamKind::Timeout), StatusCode::GATEWAY_TIMEOUT);
        for k in [
            UpstreamKind::Unavailable,
            UpstreamKind::BadResponse,
            UpstreamKind::Unsupported,
        ] {
            assert_eq!(upstream(k), StatusCode::BAD_GATEWAY, "{k:?}");
        }
        let stash = |e: StashError| ApiError::from(&e).status();
        assert_eq!(
            stash(StashError::Upstream(UpstreamError::new(
                UpstreamKind::NotFound,
                "x"
            ))),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            stash(StashError::Storage(StorageError::io(
                "x",
                std::io::Error::other("down")
            ))),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            stash(StashError::Task("panicked".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        // Not ready is 503 whatever storage said, even a positive "absent".
        assert_eq!(
            ApiError::not_ready(&StorageError::not_found("no bucket")).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn responses_are_one_uncached_line() {
        let resp = ApiError::method_not_allowed().into_response();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(resp.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        let resp = ApiError::not_found("a\nb").into_response();
        assert!(resp.headers().get(header::ALLOW).is_none());
        assert_eq!(ApiError::not_found("a\nb").message(), "a b");
        let resp = no_such_endpoint();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert!(resp.headers().get(header::CACHE_CONTROL).is_none());
    }

    #[test]
    fn server_errors_name_no_server_paths() {
        let e = ApiError::from(StorageError::io(
            "checking /var/lib/agora/storage/rsc.io/quote/v1.5.2/go.mod/v1.0.0/v1.0.0.info",
            std::io::Error::other("Not a directory (os error 20)"),
        ));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!e.message().contains("/var/lib"), "{}", e.message());
        assert!(e.message().contains("<server path>"), "{}", e.message());
        assert!(
            e.detail().contains("/var/lib/agora/storage"),
            "{}",
            e.detail()
        );
        assert_eq!(
            hide_server_paths(
                "git --git-dir '/srv/m.git' fetch https://host/x/y: exit 128; spool /tmp/a b"
            ),
            "git --git-dir '<server path>' fetch https://host/x/y: exit 128; spool <server path> b"
        );
        assert_eq!(
            hide_server_paths("example.com/m@v1.0.0: h1:abc/def= differs (path=/a/b)"),
            "example.com/m@v1.0.0: h1:abc/def= differs (path=<server path>)"
        );
        // A client error keeps what the client sent.
        assert_eq!(
            ApiError::bad_request("bad path /x/y").message(),
            "bad path /x/y"
        );
    }
}
