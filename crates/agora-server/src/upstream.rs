//! The seam between the proxy and the outside world: the [`Upstream`] trait
//! names the five things [`Proxy`](crate::Proxy) and the [`Stasher`](crate::Stasher)
//! ask of upstream, so their logic (network modes, list union, `@latest`,
//! single flight) can be tested against a fake without a network.
//!
//! The real implementation is [`agora_upstream::Upstream`] (the GOPROXY chain,
//! `direct`, the go fetcher); this module only forwards to it.

use agora_core::{ModulePath, RevInfo, Version};
use agora_upstream::{Fetched, UpstreamError};
use async_trait::async_trait;
use bytes::Bytes;

/// What agora-server asks of upstream. Errors keep their
/// [`kind`](agora_upstream::ErrorKind): the proxy tells "not found" from an outage.
#[async_trait]
pub trait Upstream: Send + Sync {
    /// The tagged versions upstream knows (pseudo-versions dropped).
    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError>;

    /// The `@latest` answer, checked, with its bytes as sent.
    async fn latest(&self, module: &ModulePath) -> Result<(RevInfo, Bytes), UpstreamError>;

    /// Resolves a version or query (branch, tag, commit, partial version)
    /// through `.info`.
    async fn info(
        &self,
        module: &ModulePath,
        query: &Version,
    ) -> Result<(RevInfo, Bytes), UpstreamError>;

    /// Fetches and checks a whole canonical version, its zip spooled to disk.
    async fn fetch(&self, module: &ModulePath, version: &Version)
    -> Result<Fetched, UpstreamError>;

    /// The go.mod of a canonical version alone (for a version that cannot be
    /// stored whole because its zip is refused).
    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, UpstreamError>;
}

#[async_trait]
impl Upstream for agora_upstream::Upstream {
    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError> {
        agora_upstream::Upstream::list(self, module).await
    }

    async fn latest(&self, module: &ModulePath) -> Result<(RevInfo, Bytes), UpstreamError> {
        agora_upstream::Upstream::latest(self, module).await
    }

    async fn info(
        &self,
        module: &ModulePath,
        query: &Version,
    ) -> Result<(RevInfo, Bytes), UpstreamError> {
        agora_upstream::Upstream::info(self, module, query).await
    }

    async fn fetch(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Fetched, UpstreamError> {
        agora_upstream::Upstream::fetch(self, module, version).await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, UpstreamError> {
        agora_upstream::Upstream::go_mod(self, module, version).await
    }
}

/// Shares one upstream (and so one [`CachedUpstream`](crate::upstream_cache::CachedUpstream)
/// table) between the proxy and the stash.
#[async_trait]
impl<U: Upstream + ?Sized> Upstream for std::sync::Arc<U> {
    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError> {
        (**self).list(module).await
    }

    async fn latest(&self, module: &ModulePath) -> Result<(RevInfo, Bytes), UpstreamError> {
        (**self).latest(module).await
    }

    async fn info(
        &self,
        module: &ModulePath,
        query: &Version,
    ) -> Result<(RevInfo, Bytes), UpstreamError> {
        (**self).info(module, query).await
    }

    async fn fetch(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Fetched, UpstreamError> {
        (**self).fetch(module, version).await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, UpstreamError> {
        (**self).go_mod(module, version).await
    }
}
