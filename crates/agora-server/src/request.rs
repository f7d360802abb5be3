//! Turning a request path into a validated proxy request.
//!
//! Module paths contain `/` and versions contain almost anything, so this is a
//! hand-written parser over the percent-decoded path rather than a router
//! pattern. Everything is validated here, once: handlers only ever see a
//! decoded, checked [`ModulePath`] and [`Version`].

use agora_core::{Artifact, ModulePath, Version};

use crate::error::ApiError;

/// What a proxy request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyRequest {
    /// `/{module}/@v/list`
    List(ModulePath),
    /// `/{module}/@latest`
    Latest(ModulePath),
    /// `/{module}/@v/{version}.{info,mod,zip}`
    Artifact(ModulePath, Version, Artifact),
}

impl ProxyRequest {
    /// The request's path below any prefix, escaped as the go command sends it: what a
    /// redirect to another proxy appends to that proxy's URL.
    pub fn path(&self) -> String {
        match self {
            ProxyRequest::List(m) => format!("/{}/@v/list", m.escaped()),
            ProxyRequest::Latest(m) => format!("/{}/@latest", m.escaped()),
            ProxyRequest::Artifact(m, v, a) => {
                format!("/{}/@v/{}.{}", m.escaped(), v.escaped(), a.extension())
            }
        }
    }
}

/// Longest request path accepted; Go module paths are far shorter, and an
/// unbounded path is only a way to make us allocate.
const MAX_PATH: usize = 4096;

/// Parses the path below any configured prefix (it starts with `/`).
/// `Ok(None)` means "no such endpoint" (404); `Err` means a malformed request.
pub fn parse(raw_path: &str) -> Result<Option<ProxyRequest>, ApiError> {
    if raw_path.len() > MAX_PATH {
        return Err(ApiError::bad_request(format!(
            "request path longer than {MAX_PATH} bytes"
        )));
    }
    let path = percent_decode(raw_path)?;
    let Some(path) = path.strip_prefix('/') else {
        return Ok(None);
    };
    if let Some(module) = path.strip_suffix("/@latest") {
        return Ok(Some(ProxyRequest::Latest(module_path(module)?)));
    }
    let Some((module, file)) = path.split_once("/@v/") else {
        return Ok(None);
    };
    if file == "list" {
        return Ok(Some(ProxyRequest::List(module_path(module)?)));
    }
    let Some((version, ext)) = file.rsplit_once('.') else {
        return Ok(None);
    };
    let artifact = match ext {
        "info" => Artifact::Info,
        "mod" => Artifact::Mod,
        "zip" => Artifact::Zip,
        _ => return Ok(None),
    };
    let module = module_path(module)?;
    let version = Version::from_escaped(version)
        .map_err(|e| ApiError::bad_request(format!("invalid version: {e}")))?;
    Ok(Some(ProxyRequest::Artifact(module, version, artifact)))
}

fn module_path(escaped: &str) -> Result<ModulePath, ApiError> {
    ModulePath::from_escaped(escaped)
        .map_err(|e| ApiError::bad_request(format!("invalid module path: {e}")))
}

/// Percent-decodes a URL path. The go command escapes everything but `/` and
/// unreserved characters; anything that decodes to invalid UTF-8 or uses a
/// broken escape is rejected rather than guessed at.
fn percent_decode(raw: &str) -> Result<String, ApiError> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| ApiError::bad_request("malformed percent-escape in request path"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("request path is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("/a%2Fb%41").unwrap(), "/a/bA");
        assert!(percent_decode("/a%2").is_err());
        assert!(percent_decode("/a%zz").is_err());
        assert!(percent_decode("/a%ff").is_err());
    }

    #[test]
    fn unknown_endpoints_are_none() {
        for p in [
            "/",
            "/healthz2",
            "/example.com/m/@v/",
            "/example.com/m/@v/v1.0.0.tar",
            "/example.com/m/@v/v1",
        ] {
            assert!(parse(p).unwrap_or(None).is_none(), "{p}");
        }
    }
}
