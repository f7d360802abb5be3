//! The GOPROXY endpoints: storage first, then upstream.

use std::sync::Arc;

use agora_core::{Artifact, ModulePath, Version, pseudo, semver};
use agora_storage::{Storage, StorageError};
use agora_upstream::{Upstream, UpstreamError};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tracing::{info, warn};

use crate::cache::{self, SmallCache};
use crate::error::ApiError;
use crate::respond;
use crate::stash::Stasher;

pub use agora_core::NetworkMode;

/// The proxy's shared state.
#[derive(Clone)]
pub struct Proxy {
    storage: Arc<dyn Storage>,
    upstream: Upstream,
    stasher: Stasher,
    network_mode: NetworkMode,
    cache: Arc<SmallCache>,
}

/// Bytes of `.info` and `.mod` bodies kept in memory.
const SMALL_CACHE_BYTES: usize = 16 << 20;

impl Proxy {
    /// Wires storage, upstream and the stasher together.
    pub fn new(
        storage: Arc<dyn Storage>,
        upstream: Upstream,
        stasher: Stasher,
        network_mode: NetworkMode,
    ) -> Self {
        Proxy {
            storage,
            upstream,
            stasher,
            network_mode,
            cache: Arc::new(SmallCache::new(SMALL_CACHE_BYTES)),
        }
    }

    /// The storage, for readiness checks.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// `/{module}/@v/list`: upstream's tagged versions plus every stored
    /// canonical release, without pseudo-versions.
    pub async fn list(&self, module: &ModulePath) -> Result<Response, ApiError> {
        let (stored, upstream) = if self.network_mode == NetworkMode::Offline {
            (self.stored_versions(module).await?, None)
        } else {
            let (s, u) = tokio::join!(self.stored_versions(module), self.upstream.list(module));
            (s?, Some(u))
        };
        let has_module = !stored.is_empty();
        let tagged: Vec<String> = stored
            .into_iter()
            .filter(|v| !pseudo::is_pseudo_version(v))
            .collect();
        let mut versions = match upstream {
            Some(Ok(mut up)) => {
                for v in tagged {
                    if !up.contains(&v) {
                        up.push(v);
                    }
                }
                up
            }
            // A module stored only at pseudo-versions is known here: its list
            // is empty, not absent, and the go command then asks @latest.
            None => self
                .storage_answer(module, has_module, None)
                .map(|()| tagged)?,
            Some(Err(e)) => self
                .storage_answer(module, has_module, Some(e))
                .map(|()| tagged)?,
        };
        semver::sort(&mut versions);
        let mut body = versions.join("\n");
        if !body.is_empty() {
            body.push('\n');
        }
        Ok(respond::mutable(
            Bytes::from(body),
            "text/plain; charset=utf-8",
        ))
    }

    /// Decides whether a list or latest answer may come from storage when
    /// upstream was not asked (offline) or failed; `Err` is the answer otherwise.
    fn storage_answer(
        &self,
        module: &ModulePath,
        has_module: bool,
        upstream_err: Option<UpstreamError>,
    ) -> Result<(), ApiError> {
        match upstream_err {
            None if has_module => Ok(()),
            None => Err(ApiError::not_found(format!(
                "{module}: not stored (network mode is offline)"
            ))),
            Some(e) => {
                let use_storage =
                    has_module && (e.is_not_found() || self.network_mode == NetworkMode::Fallback);
                if use_storage {
                    if !e.is_not_found() {
                        warn!(%module, error = %e, "upstream failed; answering from storage");
                    }
                    Ok(())
                } else {
                    Err(ApiError::from(&e))
                }
            }
        }
    }

    async fn stored_versions(&self, module: &ModulePath) -> Result<Vec<String>, ApiError> {
        let versions = self.storage.list(module).await?;
        // Only versions the go command could have asked for by name belong in
        // an answer; a hand-made tree may hold other directories.
        Ok(versions
            .into_iter()
            .filter(|v| Version::from_trusted(v).is_canonical_for(module))
            .collect())
    }

    /// `/{module}/@latest`.
    pub async fn latest(&self, module: &ModulePath) -> Result<Response, ApiError> {
        let upstream_err = if self.network_mode == NetworkMode::Offline {
            None
        } else {
            match self.upstream.latest(module).await {
                Ok((_, body)) => return Ok(respond::mutable(body, "application/json")),
                Err(e) => Some(e),
            }
        };
        let stored = self.stored_versions(module).await?;
        self.storage_answer(module, !stored.is_empty(), upstream_err)?;
        self.latest_storage_answer(module, pick_latest(&stored))
            .await
    }

    async fn latest_storage_answer(
        &self,
        module: &ModulePath,
        version: Option<String>,
    ) -> Result<Response, ApiError> {
        let Some(version) = version else {
            return Err(ApiError::not_found(format!("{module}: no stored version")));
        };
        let info = self
            .storage
            .info(module, &Version::from_trusted(&version))
            .await?;
        Ok(respond::mutable(info, "application/json"))
    }

    /// `/{module}/@v/{version}.{info,mod,zip}`.
    pub async fn artifact(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        if !version.is_canonical_for(module) {
            if artifact != Artifact::Info {
                return Err(ApiError::bad_request(format!(
                    "{module}: .{} needs a canonical version, not {version:?}",
                    artifact.extension()
                )));
            }
            return self.query_info(module, version, headers).await;
        }
        match self
            .serve_stored(module, version, artifact, method, headers)
            .await
        {
            Err(e) if e.is_not_found() => {}
            other => return other.map_err(ApiError::from),
        }
        self.stasher
            .ensure(module, version)
            .await
            .map_err(|e| ApiError::from(&*e))?;
        self.serve_stored(module, version, artifact, method, headers)
            .await
            .map_err(ApiError::from)
    }

    /// A `.info` for a branch, tag, commit or partial version: upstream
    /// resolves it, and the answer is the stored canonical version's `.info`.
    async fn query_info(
        &self,
        module: &ModulePath,
        query: &Version,
        headers: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let (info, _) = self.upstream.info(module, query).await?;
        let version = Version::from_trusted(&info.version);
        info!(%module, query = %query, resolved = %version, "resolved version query");
        if !self.storage.exists(module, &version).await? {
            self.stasher
                .ensure(module, &version)
                .await
                .map_err(|e| ApiError::from(&*e))?;
        }
        let body = self.storage.info(module, &version).await?;
        // The answer to a query can change (a branch moves), so it must not be
        // cached as immutable, unlike the canonical version's own .info.
        let etag = respond::content_etag(&body);
        let mut resp = respond::small(body, "application/json", &etag, headers);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Ok(resp)
    }

    async fn serve_stored(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Response, StorageError> {
        let content_type = match artifact {
            Artifact::Info => "application/json",
            Artifact::Mod => "text/plain; charset=utf-8",
            Artifact::Zip => {
                let zip = self.storage.zip(module, version).await?;
                return Ok(respond::immutable(
                    respond::zip(zip, method, headers).await?,
                ));
            }
        };
        let entry = match self.cache.get(module, version, artifact) {
            Some(e) => e,
            None => {
                let body = if artifact == Artifact::Info {
                    self.storage.info(module, version).await?
                } else {
                    self.storage.go_mod(module, version).await?
                };
                let entry = cache::Entry {
                    etag: respond::content_etag(&body),
                    body,
                };
                self.cache.insert(module, version, artifact, entry.clone());
                entry
            }
        };
        Ok(respond::immutable(respond::small(
            entry.body,
            content_type,
            &entry.etag,
            headers,
        )))
    }
}

/// The version `@latest` means among stored ones: the highest release, else
/// the highest pre-release, else the highest pseudo-version.
fn pick_latest(versions: &[String]) -> Option<String> {
    let best = |pred: &dyn Fn(&str) -> bool| {
        versions
            .iter()
            .filter(|v| pred(v))
            .max_by(|a, b| semver::compare(a, b))
            .cloned()
    };
    best(&|v| !pseudo::is_pseudo_version(v) && semver::prerelease(v).is_empty())
        .or_else(|| best(&|v| !pseudo::is_pseudo_version(v)))
        .or_else(|| best(&|v| pseudo::is_pseudo_version(v)))
}

/// A 404 response body builder used by the router for unknown endpoints.
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
    fn latest_prefers_release_then_prerelease_then_pseudo() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pick_latest(&v(&["v1.0.0", "v1.1.0-rc1", "v0.9.0"])).as_deref(),
            Some("v1.0.0")
        );
        assert_eq!(
            pick_latest(&v(&["v1.1.0-rc1", "v1.0.0-rc2"])).as_deref(),
            Some("v1.1.0-rc1")
        );
        assert_eq!(
            pick_latest(&v(&[
                "v0.0.0-20200101000000-abcdefabcdef",
                "v0.0.0-20210101000000-abcdefabcdef"
            ]))
            .as_deref(),
            Some("v0.0.0-20210101000000-abcdefabcdef")
        );
        assert_eq!(pick_latest(&[]), None);
    }
}
