//! Which module requests are answered at all, decided before storage or upstream is
//! touched: Athens' filter file, then its validator hook (in Athens' middleware order).
//!
//! - The filter ([`agora_core::filter::Filter`]) applies to list, `@latest`, `.info`,
//!   `.mod` and `.zip`: `-` answers 403, `D` answers 303 to the direct URL joined with
//!   the request path below the path prefix (Athens includes the prefix; the target is
//!   another proxy, which has none).
//! - The validator is POSTed `{"Module","Version"}` for `.info`, `.mod` and `.zip` only,
//!   on every request, stored or not (as Athens' middleware does). 200 allows, 403 denies
//!   with the hook's first line as the reason; any other answer, an unreachable hook or
//!   one slower than its timeout fails the request (502, 504) rather than serving an
//!   unvalidated module. Its answer is read up to [`MAX_VALIDATOR_BODY`] bytes.

use std::sync::Arc;
use std::time::Duration;

use agora_core::filter::{Filter, Rule};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tracing::{info, warn};

use crate::error::ApiError;
use crate::request::ProxyRequest;

/// Bytes of a validator's answer that are read (its reason is one line).
pub const MAX_VALIDATOR_BODY: usize = 4096;

/// Longest reason from a validator that is passed on.
const MAX_REASON_CHARS: usize = 200;

/// The filter file and the validator hook; both optional.
#[derive(Clone, Default)]
pub struct Policy {
    filter: Option<Arc<Filter>>,
    direct_url: Option<Arc<str>>,
    validator: Option<Validator>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("filter", &self.filter.is_some())
            .field("direct_url", &self.direct_url)
            .field("validator", &self.validator.as_ref().map(|v| &v.url))
            .finish()
    }
}

/// Why a policy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The filter has `D` rules and there is nowhere to send them.
    #[error(
        "the filter file has D rules but no direct URL is set (filter.direct_url, ATHENS_GLOBAL_ENDPOINT)"
    )]
    NoDirectUrl,
    /// The validator's HTTP client could not be built.
    #[error("building the validator client: {0}")]
    Client(String),
}

impl Policy {
    /// No filter and no validator: every request goes on.
    pub fn new() -> Self {
        Policy::default()
    }

    /// Applies `filter`, sending `D` rules to `direct_url`.
    pub fn with_filter(
        mut self,
        filter: Filter,
        direct_url: Option<String>,
    ) -> Result<Self, PolicyError> {
        if filter.has_direct() && direct_url.is_none() {
            return Err(PolicyError::NoDirectUrl);
        }
        self.filter = Some(Arc::new(filter));
        self.direct_url = direct_url.map(Into::into);
        Ok(self)
    }

    /// Asks the hook at `url` about every versioned request, allowing each call `timeout`.
    pub fn with_validator(mut self, url: String, timeout: Duration) -> Result<Self, PolicyError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A hook that redirects is answering something else than 200 or 403.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PolicyError::Client(e.to_string()))?;
        self.validator = Some(Validator {
            url: url.into(),
            client,
            timeout,
        });
        Ok(self)
    }

    /// `None` when the request may go on; otherwise the answer.
    pub async fn check(&self, req: &ProxyRequest) -> Option<Response> {
        let (module, version) = match req {
            ProxyRequest::List(m) | ProxyRequest::Latest(m) => (m, None),
            ProxyRequest::Artifact(m, v, _) => (m, Some(v)),
        };
        if let Some(filter) = &self.filter {
            let v = version.map_or("", |v| v.as_str());
            match filter.rule(module.as_str(), v) {
                Rule::Include => {}
                Rule::Exclude => {
                    let what =
                        version.map_or_else(|| module.to_string(), |v| format!("{module}@{v}"));
                    info!(%module, version = v, "excluded by the filter file");
                    return Some(
                        ApiError::new(
                            StatusCode::FORBIDDEN,
                            format!("{what} is excluded by this proxy's filter file"),
                        )
                        .into_response(),
                    );
                }
                Rule::Direct => {
                    let base = self.direct_url.as_deref().unwrap_or_default();
                    let target = agora_core::download_mode::redirect_url(base, &req.path());
                    return Some(redirect(StatusCode::SEE_OTHER, &target));
                }
            }
        }
        if let (Some(validator), Some(version)) = (&self.validator, version)
            && let Err(e) = validator.validate(module.as_str(), version.as_str()).await
        {
            return Some(e.into_response());
        }
        None
    }
}

/// A redirect to `target` with an empty body; a 500 when `target` cannot be a header
/// value, which a checked URL joined with an escaped module path never is.
pub(crate) fn redirect(status: StatusCode, target: &str) -> Response {
    match HeaderValue::from_str(target) {
        Ok(location) => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = status;
            resp.headers_mut().insert(header::LOCATION, location);
            resp
        }
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("redirect target {target:?} is not a valid header value"),
        )
        .into_response(),
    }
}

#[derive(Clone)]
struct Validator {
    url: Arc<str>,
    client: reqwest::Client,
    timeout: Duration,
}

impl Validator {
    async fn validate(&self, module: &str, version: &str) -> Result<(), ApiError> {
        let body = serde_json::json!({ "Module": module, "Version": version }).to_string();
        let call = async {
            let mut resp = self
                .client
                .post(&*self.url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await?;
            let status = resp.status();
            let mut read = Vec::new();
            while read.len() < MAX_VALIDATOR_BODY {
                match resp.chunk().await? {
                    Some(chunk) => read.extend_from_slice(&chunk),
                    None => break,
                }
            }
            read.truncate(MAX_VALIDATOR_BODY);
            Ok::<_, reqwest::Error>((status, read))
        };
        // The client's own timeout covers each step; this bounds the whole call.
        let (status, body) = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) if !e.is_timeout() => {
                warn!(%module, %version, error = %e, "validator unreachable");
                return Err(ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    format!("{module}@{version}: the validator could not be asked: {e}"),
                ));
            }
            Ok(Err(_)) | Err(_) => {
                warn!(%module, %version, timeout_s = self.timeout.as_secs(), "validator timed out");
                return Err(ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!(
                        "{module}@{version}: the validator did not answer within {}s",
                        self.timeout.as_secs()
                    ),
                ));
            }
        };
        let reason = first_line(&body);
        match status {
            StatusCode::OK => {
                if !reason.is_empty() {
                    warn!(%module, %version, %reason, "validator allowed with a message");
                }
                Ok(())
            }
            StatusCode::FORBIDDEN => {
                info!(%module, %version, %reason, "denied by the validator");
                let mut message =
                    format!("{module}@{version} was denied by this proxy's validator");
                if !reason.is_empty() {
                    message.push_str(": ");
                    message.push_str(&reason);
                }
                Err(ApiError::new(StatusCode::FORBIDDEN, message))
            }
            other => {
                warn!(%module, %version, status = other.as_u16(), %reason, "validator failed");
                Err(ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "{module}@{version}: the validator answered {} instead of 200 or 403",
                        other.as_u16()
                    ),
                ))
            }
        }
    }
}

/// The first non-blank line of a hook's answer, printable and bounded.
fn first_line(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REASON_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use agora_core::{Artifact, ModulePath, Version};

    use super::*;

    fn artifact(m: &str, v: &str) -> ProxyRequest {
        ProxyRequest::Artifact(
            ModulePath::new(m).unwrap(),
            Version::from_trusted(v),
            Artifact::Zip,
        )
    }

    #[tokio::test]
    async fn the_filter_excludes_and_redirects() {
        let filter = Filter::parse("- example.com/bad\nD example.com/Direct\n").unwrap();
        assert!(matches!(
            Policy::new().with_filter(filter.clone(), None),
            Err(PolicyError::NoDirectUrl)
        ));
        let p = Policy::new()
            .with_filter(filter, Some("https://proxy.example/go".into()))
            .unwrap();
        assert!(
            p.check(&artifact("example.com/good", "v1.0.0"))
                .await
                .is_none()
        );
        let resp = p
            .check(&artifact("example.com/bad/sub", "v1.0.0"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let resp = p
            .check(&ProxyRequest::List(
                ModulePath::new("example.com/Direct").unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            resp.headers()[header::LOCATION],
            "https://proxy.example/go/example.com/!direct/@v/list"
        );
    }

    #[test]
    fn reasons_are_one_bounded_line() {
        assert_eq!(first_line(b"\n  license GPL \nsecond"), "license GPL");
        assert_eq!(first_line(b"a\tb"), "a b");
        assert_eq!(first_line(&[b'x'; 500]).len(), MAX_REASON_CHARS);
        assert_eq!(first_line(b""), "");
    }
}
