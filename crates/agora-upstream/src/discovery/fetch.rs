//! Dynamic discovery (`?go-get=1`): fetching an import path's page, https
//! first and plain http only for GOINSECURE paths, bounded in bytes and
//! time, and following the go command from the page's tags to a repository
//! (verifying a root shorter than the path against the root's own page).

use std::sync::OnceLock;
use std::time::Duration;

use super::go_import::{MatchError, match_go_import, parse_page};
use super::hosts::VCS_CMDS;
use super::repo_url::{go_quote, validate_repo_root, validate_repo_subdir};
use super::{DiscoveryError, DiscoveryErrorKind, MetaImport, RepoRoot, VcsPolicy};
use crate::credentials::Credentials;

/// The largest discovery page read. The go command reads until `</head>`;
/// a page whose head is larger than this is treated as ending here.
const MAX_PAGE_BYTES: usize = 4 << 20;

/// Go's `urlForImportPath`, as host and path; the scheme is left to
/// [`web_get`].
fn url_for_import_path(import_path: &str) -> Result<(String, String), DiscoveryError> {
    let (host, path) = match import_path.find('/') {
        Some(i) => import_path.split_at(i),
        None => (import_path, ""),
    };
    if !host.contains('.') {
        return Err(DiscoveryError::new(
            DiscoveryErrorKind::Invalid,
            "import path does not begin with hostname",
        ));
    }
    let path = if path.is_empty() { "/" } else { path };
    Ok((host.to_string(), path.to_string()))
}

/// How the go command prints the scheme-less discovery URL in some errors.
fn schemeless_url(host: &str, path: &str) -> String {
    format!("//{host}{path}?go-get=1")
}

/// A discovery page as fetched.
struct Page {
    /// The URL requested (before redirects), as the go command reports it.
    url: String,
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Page {
    /// Go's `Response.Err`: a non-200 answer, with any short plain-text
    /// explanation the server gave.
    fn status_error(&self) -> Option<DiscoveryError> {
        if self.status == 200 {
            return None;
        }
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let status = format!("{} {reason}", self.status);
        let mut message = format!("reading {}: {}", self.url, status.trim_end());
        if let Some(detail) = self.error_detail() {
            let sep = if detail.contains('\n') { "\n\t" } else { " " };
            message = format!("{message}\n\tserver response:{sep}{detail}");
        }
        // 408 and 429 are the server being busy, not the path being absent.
        let kind = if (400..500).contains(&self.status) && self.status != 408 && self.status != 429
        {
            DiscoveryErrorKind::NotFound
        } else {
            DiscoveryErrorKind::Unavailable
        };
        Some(DiscoveryError::new(kind, message))
    }

    /// The go command shows the first lines of a plain-text error body, but
    /// only if it is UTF-8 text with nothing that could drive a terminal.
    fn error_detail(&self) -> Option<String> {
        let mut params = self.content_type.split(';');
        let media = params.next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("text/plain") {
            return None;
        }
        let charset = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(charset.as_str(), "" | "us-ascii" | "utf-8") {
            return None;
        }
        let text = std::str::from_utf8(&self.body).ok()?;
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return None;
        }
        const MAX_LINES: usize = 8;
        const MAX_BYTES: usize = MAX_LINES * 81;
        let mut detail = String::new();
        for (i, line) in text.split('\n').enumerate() {
            if line.trim().is_empty() {
                break;
            }
            if i > 0 {
                detail.push_str("\n\t");
            }
            if i >= MAX_LINES {
                detail.push_str("[Truncated: too many lines.]");
                break;
            }
            if detail.len() + line.len() > MAX_BYTES {
                detail.push_str("[Truncated: too long.]");
                break;
            }
            detail.push_str(line);
        }
        (!detail.is_empty()).then_some(detail)
    }
}

/// A client for https under GOINSECURE: certificates are not checked and
/// the wait is short, as with the go command's `impatientInsecureHTTPClient`.
/// `None` when no TLS crypto provider is installed for the process (building
/// a client would panic); the caller's client is used then.
fn insecure_https_client() -> Option<reqwest::Client> {
    // Only a built client is cached, so a provider installed after the
    // first lookup is still picked up.
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Some(client.clone());
    }
    rustls::crypto::CryptoProvider::get_default()?;
    let client = reqwest::Client::builder()
        .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(10))
        .tls_danger_accept_invalid_certs(true)
        .build()
        .ok()?;
    Some(CLIENT.get_or_init(|| client).clone())
}

/// The causes of a reqwest error, innermost last, on one line.
fn describe(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

async fn fetch_page(
    client: &reqwest::Client,
    url: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<Page, String> {
    let https = url.starts_with("https:");
    let insecure_client = if https && !secure_only {
        insecure_https_client()
    } else {
        None
    };
    let mut request = insecure_client.as_ref().unwrap_or(client).get(url);
    if https && !secure_only {
        request = request.timeout(Duration::from_secs(5));
    }
    // The go command sends credentials over https only, GOINSECURE or not.
    if let Some(auth) = creds.http_authorization(url)
        && let Ok(mut value) = reqwest::header::HeaderValue::from_str(&auth)
    {
        value.set_sensitive(true);
        request = request.header(reqwest::header::AUTHORIZATION, value);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("Get {url:?}: {}", describe(&e)))?;
    // The go command refuses to be redirected from https to anything else
    // unless the path is GOINSECURE. The caller's client follows redirects
    // itself, so the downgrade is caught on arrival instead.
    if https && secure_only && response.url().scheme() != "https" {
        return Err(format!(
            "Get {url:?}: redirected from secure URL {url} to insecure URL {}",
            response.url()
        ));
    }
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::new();
    while body.len() < MAX_PAGE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Err(format!("reading {url}: {}", describe(&e))),
        }
    }
    body.truncate(MAX_PAGE_BYTES);
    Ok(Page {
        url: url.to_string(),
        status,
        content_type,
        body,
    })
}

/// Go's `web.Get` for a scheme-less URL: https, then plain http only when
/// the path is GOINSECURE. The error is the last attempt's.
async fn web_get(
    client: &reqwest::Client,
    host: &str,
    path: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<Page, String> {
    let https = format!("https://{host}{path}?go-get=1");
    match fetch_page(client, &https, secure_only, creds).await {
        Ok(page) => Ok(page),
        Err(e) if secure_only => Err(e),
        Err(_) => {
            let http = format!("http://{host}{path}?go-get=1");
            fetch_page(client, &http, false, creds).await
        }
    }
}

/// Go's `repoRootForImportDynamic` (with `PreferMod`). Errors are worded as
/// the go command words them, before it prefixes "unrecognized import
/// path".
pub(super) async fn repo_root_dynamic(
    client: &reqwest::Client,
    import_path: &str,
    secure_only: bool,
    policy: &VcsPolicy,
    creds: &Credentials,
) -> Result<RepoRoot, DiscoveryError> {
    use DiscoveryErrorKind::{Invalid, NotFound, Unavailable};

    let (host, path) = url_for_import_path(import_path)?;
    let page = web_get(client, &host, &path, secure_only, creds)
        .await
        .map_err(|e| {
            let scheme = if secure_only { "https" } else { "http/https" };
            DiscoveryError::new(Unavailable, format!("{scheme} fetch: {e}"))
        })?;
    let (imports, parse_err) = parse_page(&page.body);
    if imports.is_empty()
        && let Some(err) = page.status_error()
    {
        // A failing status says more than an unparsable error page.
        return Err(err);
    }
    if let Some(e) = parse_err {
        return Err(DiscoveryError::new(
            NotFound,
            format!("parsing {import_path}: {e}"),
        ));
    }
    let mmi = match_go_import(&imports, import_path).map_err(|e| match e {
        MatchError::Mismatch(m) => DiscoveryError::new(
            NotFound,
            format!("parse {}: no go-import meta tags ({m})", page.url),
        ),
        MatchError::Multiple(m) => DiscoveryError::new(
            Invalid,
            format!("parse {}: {m}", schemeless_url(&host, &path)),
        ),
    })?;

    // A page at uni.edu/bob/project that claims the root uni.edu for
    // evil.example could hijack every path under uni.edu; the root's own
    // page must make the same claim before it is believed.
    if mmi.prefix != import_path {
        let (url2, imports2) =
            meta_imports_for_prefix(client, &mmi.prefix, secure_only, creds).await?;
        let agrees = matches!(match_go_import(&imports2, import_path), Ok(m) if m == mmi);
        if !agrees {
            return Err(DiscoveryError::new(
                Invalid,
                format!(
                    "{} and {url2} disagree about go-import for {}",
                    page.url, mmi.prefix
                ),
            ));
        }
    }

    if let Err(e) = validate_repo_subdir(&mmi.subdir) {
        return Err(DiscoveryError::new(
            Invalid,
            format!(
                "{}: invalid subdirectory {}: {e}",
                page.url,
                go_quote(&mmi.subdir)
            ),
        ));
    }
    if let Err(e) = validate_repo_root(&mmi.repo_root) {
        return Err(DiscoveryError::new(
            Invalid,
            format!(
                "{}: invalid repo root {}: {e}",
                page.url,
                go_quote(&mmi.repo_root)
            ),
        ));
    }
    if mmi.vcs != "mod" && !VCS_CMDS.contains(&mmi.vcs.as_str()) {
        return Err(DiscoveryError::new(
            Invalid,
            format!("{}: unknown vcs {}", page.url, go_quote(&mmi.vcs)),
        ));
    }
    policy.check(&mmi.vcs, &mmi.prefix)?;
    Ok(RepoRoot {
        root: mmi.prefix,
        vcs: mmi.vcs,
        repo_url: mmi.repo_root,
        subdir: mmi.subdir,
    })
}

/// Go's `metaImportsForPrefix`: the tags on the root's own page, and the
/// scheme-less URL it was asked for (for the disagreement message).
async fn meta_imports_for_prefix(
    client: &reqwest::Client,
    prefix: &str,
    secure_only: bool,
    creds: &Credentials,
) -> Result<(String, Vec<MetaImport>), DiscoveryError> {
    use DiscoveryErrorKind::{NotFound, Unavailable};

    let (host, path) = url_for_import_path(prefix)?;
    let url = schemeless_url(&host, &path);
    let page = web_get(client, &host, &path, secure_only, creds)
        .await
        .map_err(|e| DiscoveryError::new(Unavailable, format!("fetching {prefix}: {e}")))?;
    let (imports, parse_err) = parse_page(&page.body);
    if imports.is_empty()
        && let Some(err) = page.status_error()
    {
        return Err(err);
    }
    if let Some(e) = parse_err {
        return Err(DiscoveryError::new(
            NotFound,
            format!("parsing {}: {e}", page.url),
        ));
    }
    if imports.is_empty() {
        return Err(DiscoveryError::new(
            NotFound,
            format!(
                "fetching {prefix}: no go-import meta tag found in {}",
                page.url
            ),
        ));
    }
    Ok((url, imports))
}
