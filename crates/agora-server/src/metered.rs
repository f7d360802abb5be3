//! A [`Storage`] layer that times every operation of the storage under it
//! ([`crate::metrics`]) and gives it a trace span.
//!
//! The spans have the target [`TRACE_TARGET`], which plain logging leaves
//! off, so they cost nothing unless trace export is configured.

use std::sync::Arc;
use std::time::Instant;

use agora_core::{ModulePath, Version};
use agora_storage::{CatalogPage, ErrorKind, NewVersion, Storage, StorageError, ZipObject};
use async_trait::async_trait;
use bytes::Bytes;
use tracing::Instrument;

use crate::metrics::{StorageOp, metrics};

/// The target of the spans that exist for trace export only (storage,
/// upstream and VCS work inside a request).
pub const TRACE_TARGET: &str = "agora_otel";

/// Times the storage under it.
pub struct MeteredStorage {
    inner: Arc<dyn Storage>,
}

impl MeteredStorage {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Storage>) -> Self {
        MeteredStorage { inner }
    }
}

async fn timed<T>(
    op: StorageOp,
    f: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let span = tracing::info_span!(target: TRACE_TARGET, "storage", op = op.as_str());
    let started = Instant::now();
    let result = f.instrument(span).await;
    // A miss, or a version another writer stored first, is an answer, not a failure.
    let failed = matches!(&result, Err(e)
        if !matches!(e.kind(), ErrorKind::NotFound | ErrorKind::AlreadyExists));
    metrics().storage(op, started.elapsed(), failed);
    result
}

#[async_trait]
impl Storage for MeteredStorage {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        timed(StorageOp::List, self.inner.list(module)).await
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        timed(StorageOp::Exists, self.inner.exists(module, version)).await
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        timed(StorageOp::Info, self.inner.info(module, version)).await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        timed(StorageOp::Mod, self.inner.go_mod(module, version)).await
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        timed(StorageOp::Zip, self.inner.zip(module, version)).await
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        timed(StorageOp::Put, self.inner.put(module, version, new)).await
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        timed(StorageOp::Delete, self.inner.delete(module, version)).await
    }

    async fn ready(&self) -> Result<(), StorageError> {
        self.inner.ready().await
    }

    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        timed(StorageOp::Catalog, self.inner.catalog(token, page_size)).await
    }

    // Blobs (the private checksum database's tiles and records) pass through
    // untimed: a layer that dropped them would make the backend look blob-less.
    async fn get_blob(&self, key: &str) -> Result<Bytes, StorageError> {
        self.inner.get_blob(key).await
    }

    async fn put_blob(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        self.inner.put_blob(key, data).await
    }
}
