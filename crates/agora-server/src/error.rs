//! The one place where failures become HTTP statuses.

use agora_storage::{ErrorKind as StorageKind, StorageError};
use agora_upstream::{ErrorKind as UpstreamKind, UpstreamError};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// A failed request: a status and a one-line reason for the client.
///
/// The go command prints a `text/plain` error body (up to its first blank
/// line) to the user, so the reason is kept to one printable line.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    message: String,
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

    /// Any status with a reason.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message: String = message.into();
        // One printable line, bounded: the go command shows at most 8 lines
        // and 648 bytes, and only if every byte is printable.
        let line: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(600)
            .collect();
        ApiError {
            status,
            message: line,
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason.
    pub fn message(&self) -> &str {
        &self.message
    }
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, format!("{}\n", self.message)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
