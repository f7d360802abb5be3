//! The write protocol, reads and the catalog, the same on every service.
//!
//! # Catalog
//!
//! [`Storage::catalog`] lists the whole bucket in key order (bytewise, as S3 and Azure
//! return it), resuming with `start-after` (S3) or `startFrom` (Azure) at the `.info` key
//! of the token's `<module>|<version>`, and following continuation tokens past 1000 keys
//! until the page is full. Keys up to that offset are dropped again on this side, because
//! some servers ignore the offset (Azurite ignores `startFrom`): there a page costs a
//! listing from the start of the container, but is still right. Only commit markers count: `<module>/@v/<version>.info`, or
//! `<module>/<version>/<version>.info` in the MinIO layout, with a valid module path. The
//! claims (`.mod` without `.info`), zips, Athens' MinIO `parts/…` and Azure `lease/…`
//! lock blobs, and any other object are passed over.
//!
//! # Writes
//!
//! Athens uploads the three objects in parallel, so a crash can leave a version that it
//! then serves forever. Here:
//!
//! 1. the `.mod` object is created with `If-None-Match: *` ([`PutMode::Create`]). It is
//!    the writer's claim: of any number of racing writers exactly one creates it; the
//!    others wait for that writer's `.info` and then report `AlreadyExists`;
//! 2. the claim holder uploads the zip, as a multipart upload streamed from the spool file
//!    in [`PART_SIZE`] parts (aborted if anything fails), or as one PUT when it is small;
//! 3. the `.info` is created last, create-only. It is the commit marker: every read checks
//!    it, so a version without it is absent, whoever left the other objects there.
//!
//! A claim older than [`ObjectStorage::with_stale_claim_age`] (default 15 minutes, well
//! over agora's default stash timeout of 10) with no `.info` is taken to be a crashed
//! writer's (or Athens' partial upload): the next writer removes it and takes over. A
//! writer waits for a younger claim at most [`ObjectStorage::with_claim_wait`] (the
//! binary uses the stash timeout), then gives up with `Unavailable` (503), so a request
//! meeting a crashed writer's claim fails in bounded time instead of hanging.
//!
//! The zip itself is not written create-only: `object_store` completes multipart uploads
//! unconditionally, and only the claim holder ever writes it, so the condition would add
//! nothing between agora processes. (A concurrent *Athens* writer can still overwrite
//! objects; nothing can stop that.)

use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use agora_core::{ModulePath, Version, semver};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};
use tokio::io::AsyncReadExt;
use tracing::{debug, warn};

#[cfg(feature = "gcs")]
use super::errors::map_opendal_err;
use super::errors::{Class, classify, error_chain, map_err};
use super::{CLAIM_POLL, Layout, ObjectStorage, PART_SIZE, PARTS_IN_FLIGHT, ZipUpload};
use crate::{
    ByteStream, CatalogPage, NewVersion, Storage, StorageError, ZipObject, ZipSource, catalog_page,
    catalog_want, parse_catalog_token,
};

impl ObjectStorage {
    fn key(
        &self,
        module: &ModulePath,
        version: &Version,
        artifact: Artifact,
    ) -> Result<Path, StorageError> {
        let (m, v) = (module.as_str(), version.as_str());
        let raw = match (self.layout, artifact) {
            (Layout::S3, Artifact::Info) => format!("{m}/@v/{v}.info"),
            (Layout::S3, Artifact::Mod) => format!("{m}/@v/{v}.mod"),
            (Layout::S3, Artifact::Zip) => format!("{m}/@v/{v}.zip"),
            (Layout::Minio, Artifact::Info) => format!("{m}/{v}/{v}.info"),
            (Layout::Minio, Artifact::Mod) => format!("{m}/{v}/go.mod"),
            (Layout::Minio, Artifact::Zip) => format!("{m}/{v}/source.zip"),
        };
        object_path(&raw)
    }

    /// Gets a small object whole. `Ok(None)` on a real 404 for the object.
    async fn get_small(&self, key: &Path) -> Result<Option<Bytes>, StorageError> {
        let res = async { self.store.get(key).await?.bytes().await }.await;
        match res {
            Ok(b) => Ok(Some(b)),
            Err(e) => match classify(&e) {
                Class::NotFound => Ok(None),
                _ => Err(map_err(&format!("reading {key}"), e)),
            },
        }
    }

    /// The `.info` bytes, or NotFound. A GET rather than a HEAD: a HEAD's 404 has no body,
    /// so a missing bucket would look like a missing version.
    async fn require_info(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Bytes, StorageError> {
        self.get_small(&self.key(module, version, Artifact::Info)?)
            .await?
            .ok_or_else(|| StorageError::not_found(format!("{}: not stored", version.as_str())))
    }

    async fn put_small(
        &self,
        key: &Path,
        data: Bytes,
        mode: PutMode,
        artifact: Artifact,
    ) -> Result<(), StorageError> {
        let opts = PutOptions {
            mode,
            attributes: artifact.attributes(),
            ..PutOptions::default()
        };
        self.store
            .put_opts(key, PutPayload::from_bytes(data), opts)
            .await
            .map(drop)
            .map_err(|e| map_err(&format!("writing {key}"), e))
    }

    /// Takes the writer's claim on a version (creates its `.mod`). Returns
    /// `AlreadyExists` once the version is committed by someone else.
    async fn claim(
        &self,
        module: &ModulePath,
        version: &Version,
        go_mod: &Bytes,
    ) -> Result<(), StorageError> {
        let mod_key = self.key(module, version, Artifact::Mod)?;
        let started = std::time::Instant::now();
        loop {
            if self
                .get_small(&self.key(module, version, Artifact::Info)?)
                .await?
                .is_some()
            {
                return Err(already(version));
            }
            let opts = PutOptions {
                mode: PutMode::Create,
                attributes: Artifact::Mod.attributes(),
                ..PutOptions::default()
            };
            match self
                .store
                .put_opts(&mod_key, PutPayload::from_bytes(go_mod.clone()), opts)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => match classify(&e) {
                    Class::AlreadyExists => {}
                    // AWS answers 409 ConditionalRequestConflict while another
                    // conditional write of the key is in flight: look again shortly.
                    Class::Conflict => {
                        tokio::time::sleep(CLAIM_POLL).await;
                        continue;
                    }
                    _ => return Err(map_err(&format!("writing {mod_key}"), e)),
                },
            }
            // Someone holds the claim: a live writer (wait for its commit), or a dead one
            // (take over once the claim is old enough).
            let meta = match self.store.head(&mod_key).await {
                Ok(meta) => meta,
                Err(e) if matches!(classify(&e), Class::NotFound) => continue,
                Err(e) => return Err(map_err(&format!("checking {mod_key}"), e)),
            };
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let age =
                now.saturating_sub(u64::try_from(meta.last_modified.timestamp()).unwrap_or(0));
            if age >= self.stale_claim_age.as_secs() {
                // Re-check the marker: the holder may have committed since the last look.
                if self
                    .get_small(&self.key(module, version, Artifact::Info)?)
                    .await?
                    .is_some()
                {
                    return Err(already(version));
                }
                warn!(key = %mod_key, age_secs = age, "taking over an abandoned write");
                match self.store.delete(&mod_key).await {
                    Ok(()) => {}
                    Err(e) if matches!(classify(&e), Class::NotFound) => {}
                    Err(e) => return Err(map_err(&format!("removing {mod_key}"), e)),
                }
                continue;
            }
            if started.elapsed() >= self.claim_wait {
                return Err(StorageError::io(
                    format!("storing {module}@{version}"),
                    io::Error::other(format!(
                        "another writer has held its claim ({mod_key}) for {age}s without \
                         committing; try again later"
                    )),
                ));
            }
            tokio::time::sleep(CLAIM_POLL).await;
        }
    }

    /// Uploads the zip from the spool file, never holding more than a few parts.
    async fn upload_zip(&self, key: &Path, mut file: tokio::fs::File) -> Result<(), StorageError> {
        let first = read_part(&mut file)
            .await
            .map_err(|e| StorageError::io("reading the zip spool file", e))?;
        #[cfg(feature = "gcs")]
        if let ZipUpload::CreateOnly(op) = &self.zip_upload {
            return upload_create_only(op, key, first, file).await;
        }
        if first.len() < PART_SIZE {
            // The whole zip fits in one part: one PUT. Overwrite, because only the claim
            // holder gets here, and what is there is an abandoned write.
            return self
                .put_small(key, first, PutMode::Overwrite, Artifact::Zip)
                .await;
        }
        let opts = PutMultipartOptions {
            attributes: Artifact::Zip.attributes(),
            ..PutMultipartOptions::default()
        };
        let upload = self
            .store
            .put_multipart_opts(key, opts)
            .await
            .map_err(|e| map_err(&format!("starting upload of {key}"), e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let res: Result<(), StorageError> = async {
            writer.put(first);
            loop {
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| map_err(&format!("uploading {key}"), e))?;
                let part = read_part(&mut file)
                    .await
                    .map_err(|e| StorageError::io("reading the zip spool file", e))?;
                if part.is_empty() {
                    return Ok(());
                }
                writer.put(part);
            }
        }
        .await;
        match res {
            Ok(()) => writer
                .finish()
                .await
                .map(drop)
                .map_err(|e| map_err(&format!("completing upload of {key}"), e)),
            Err(e) => {
                // Never leave parts behind (they are billed, and invisible to listings).
                if let Err(abort) = writer.abort().await {
                    warn!(key = %key, error = %abort, "could not abort a failed multipart upload");
                }
                Err(e)
            }
        }
    }

    async fn put_inner(
        self,
        module: ModulePath,
        version: Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        // Opened before anything else: once open, the caller may remove the spool file.
        let file = tokio::fs::File::open(&new.zip)
            .await
            .map_err(|e| StorageError::io(format!("opening {}", new.zip.display()), e))?;
        self.claim(&module, &version, &new.go_mod).await?;
        let mod_key = self.key(&module, &version, Artifact::Mod)?;
        let res = async {
            self.upload_zip(&self.key(&module, &version, Artifact::Zip)?, file)
                .await?;
            self.put_small(
                &self.key(&module, &version, Artifact::Info)?,
                new.info,
                PutMode::Create,
                Artifact::Info,
            )
            .await
        }
        .await;
        match res {
            Ok(()) => {
                debug!(
                    module = module.as_str(),
                    version = version.as_str(),
                    "stored"
                );
                Ok(())
            }
            Err(e) if e.kind() == crate::ErrorKind::AlreadyExists => Err(e),
            Err(e) => {
                // Release the claim so the next writer need not wait for it to go stale,
                // but only when the `.info` is known to be absent: a commit whose answer
                // was lost may have gone through, and its version needs the `.mod`.
                match self
                    .get_small(&self.key(&module, &version, Artifact::Info)?)
                    .await
                {
                    Ok(None) => {
                        if let Err(del) = self.store.delete(&mod_key).await {
                            warn!(key = %mod_key, error = %del, "could not release a failed write's claim");
                        }
                    }
                    Ok(Some(_)) => {
                        warn!(key = %mod_key, "a put reported failure but its version is committed");
                    }
                    Err(check) => {
                        warn!(key = %mod_key, error = %check, "leaving a failed write's claim to go stale");
                    }
                }
                Err(e)
            }
        }
    }

    /// The version named by a listed key, if the key is a commit marker of `module`.
    fn version_of(&self, prefix: &str, key: &str) -> Option<String> {
        let rest = key.strip_prefix(prefix)?;
        let version = match self.layout {
            Layout::S3 => rest.strip_suffix(".info").filter(|v| !v.contains('/'))?,
            Layout::Minio => {
                let (dir, file) = rest.split_once('/')?;
                (file.strip_suffix(".info") == Some(dir)).then_some(dir)?
            }
        };
        // Athens' rule for directory names: the canonical form must be a prefix of the
        // name. For the S3 layout any `.info` name counts, as in Athens.
        if self.layout == Layout::Minio {
            let canonical = semver::canonical(version);
            if canonical.is_empty() || !version.starts_with(&canonical) {
                return None;
            }
        }
        Some(version.to_owned())
    }
}

/// The version a listed key commits, if it is a commit marker in `layout`.
fn catalog_entry(layout: Layout, key: &str) -> Option<(ModulePath, Version)> {
    let stem = key.strip_suffix(".info")?;
    let (module, version) = match layout {
        Layout::S3 => stem.rsplit_once("/@v/")?,
        Layout::Minio => {
            let (dir, version) = stem.rsplit_once('/')?;
            (dir.strip_suffix(version)?.strip_suffix('/')?, version)
        }
    };
    if version.is_empty() || version.contains('/') {
        return None;
    }
    Some((
        ModulePath::new(module).ok()?,
        Version::from_trusted(version),
    ))
}

#[async_trait]
impl Storage for ObjectStorage {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        let prefix = match self.layout {
            Layout::S3 => format!("{}/@v", module.as_str()),
            Layout::Minio => module.as_str().to_owned(),
        };
        let prefix_path = object_path(&prefix)?;
        let with_slash = format!("{prefix}/");
        // object_store follows continuation tokens, one page (1000 keys) at a time.
        let mut keys = self.store.list(Some(&prefix_path));
        let mut versions = Vec::new();
        while let Some(meta) = keys.next().await {
            let meta = meta.map_err(|e| map_err(&format!("listing {prefix}/"), e))?;
            if let Some(v) = self.version_of(&with_slash, meta.location.as_ref()) {
                versions.push(v);
            }
        }
        Ok(versions)
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        match self.require_info(module, version).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.require_info(module, version).await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.require_info(module, version).await?;
        let key = self.key(module, version, Artifact::Mod)?;
        self.get_small(&key).await?.ok_or_else(|| {
            StorageError::corrupt(format!("{key} is missing from a complete version"))
        })
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        self.require_info(module, version).await?;
        let key = self.key(module, version, Artifact::Zip)?;
        let meta = match self.store.head(&key).await {
            Ok(meta) => meta,
            Err(e) if matches!(classify(&e), Class::NotFound) => {
                return Err(StorageError::corrupt(format!(
                    "{key} is missing from a complete version"
                )));
            }
            Err(e) => return Err(map_err(&format!("opening {key}"), e)),
        };
        let etag = meta
            .e_tag
            .clone()
            .map(|t| t.trim_matches('"').to_owned())
            .filter(|t| !t.is_empty());
        let tag = etag
            .clone()
            .unwrap_or_else(|| format!("{:x}-{:x}", meta.last_modified.timestamp(), meta.size));
        // Only characters that are safe inside an HTTP entity tag.
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(ZipObject::new(
            meta.size,
            tag,
            Box::new(ObjectZip {
                store: self.store.clone(),
                key,
                etag: meta.e_tag,
            }),
        ))
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        // Run the write as its own task: if the caller gives up (a timeout, a dropped
        // request), the upload still completes or aborts and the claim is still released,
        // instead of stopping half way with a multipart upload left open.
        let task = tokio::spawn(self.clone().put_inner(module.clone(), version.clone(), new));
        task.await
            .map_err(|e| StorageError::io("storing version", io::Error::other(e)))?
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        self.require_info(module, version).await?;
        // The marker first, so the version disappears at once even if the rest fails.
        for artifact in [Artifact::Info, Artifact::Zip, Artifact::Mod] {
            let key = self.key(module, version, artifact)?;
            match self.store.delete(&key).await {
                Ok(()) => {}
                Err(e) if matches!(classify(&e), Class::NotFound) => {}
                Err(e) => return Err(map_err(&format!("removing {key}"), e)),
            }
        }
        Ok(())
    }

    async fn get_blob(&self, key: &str) -> Result<Bytes, StorageError> {
        crate::check_blob_key(key)?;
        let path = object_path(&format!("{}/{key}", crate::BLOB_PREFIX))?;
        self.get_small(&path)
            .await?
            .ok_or_else(|| StorageError::not_found(format!("blob {key}")))
    }

    async fn put_blob(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        crate::check_blob_key(key)?;
        let path = object_path(&format!("{}/{key}", crate::BLOB_PREFIX))?;
        // The condition below is what makes it create-only; this GET keeps a blob
        // from being replaced on a server that ignores it (gcp-storage-emulator).
        if self.get_small(&path).await?.is_some() {
            return Err(StorageError::already_exists(format!("blob {key}")));
        }
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        // A taken key (412 or 409) maps to AlreadyExists.
        self.store
            .put_opts(&path, PutPayload::from_bytes(data), opts)
            .await
            .map(drop)
            .map_err(|e| map_err(&format!("writing blob {path}"), e))
    }

    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        let after = parse_catalog_token(token)?;
        let want = catalog_want(page_size)?;
        let offset = match &after {
            Some((m, v)) => Some(self.key(m, v, Artifact::Info)?),
            None => None,
        };
        let mut keys = match &offset {
            Some(offset) => self.store.list_with_offset(None, offset),
            None => self.store.list(None),
        };
        let mut found = Vec::new();
        while found.len() < want {
            let Some(meta) = keys.next().await else {
                break;
            };
            // A listing has no object to be absent: any failure is an outage.
            let meta = meta.map_err(|e| {
                StorageError::io("listing the bucket", io::Error::other(error_chain(&e)))
            })?;
            // Some servers ignore the offset (Azurite ignores `startFrom`, and object_store
            // cannot tell it from Azure): never trust it to have skipped anything.
            if offset.as_ref().is_some_and(|o| meta.location <= *o) {
                continue;
            }
            if let Some(entry) = catalog_entry(self.layout, meta.location.as_ref()) {
                found.push(entry);
            }
        }
        Ok(catalog_page(found, page_size))
    }

    async fn ready(&self) -> Result<(), StorageError> {
        // A LIST, because it fails on a missing bucket (NoSuchBucket) and on bad
        // credentials, where a HEAD of some key would just say 404.
        let probe = Path::from(".agora-ready-probe");
        match self.store.list_with_delimiter(Some(&probe)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(StorageError::io(
                format!("probing bucket {}", self.describe),
                io::Error::other(e),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Artifact {
    Info,
    Mod,
    Zip,
}

impl Artifact {
    /// Content types as Athens sets them on upload.
    fn attributes(self) -> Attributes {
        let ct = match self {
            Artifact::Info => "application/json",
            Artifact::Mod => "text/plain",
            Artifact::Zip => "application/octet-stream",
        };
        let mut a = Attributes::new();
        a.insert(Attribute::ContentType, ct.into());
        a
    }
}

/// Reads up to one part from the spool file; empty at the end.
async fn read_part(file: &mut tokio::fs::File) -> io::Result<Bytes> {
    let mut buf = BytesMut::with_capacity(PART_SIZE);
    while buf.len() < PART_SIZE {
        let n = file.read_buf(&mut buf).await?;
        if n == 0 {
            break;
        }
    }
    Ok(buf.freeze())
}

/// Uploads a zip create-only through an OpenDAL writer, streaming from the spool file
/// (`first` is its first part, already read). Only the claim holder gets here, so a zip
/// already there is an abandoned write's: it is removed and the upload made again, once.
#[cfg(feature = "gcs")]
async fn upload_create_only(
    op: &opendal::Operator,
    key: &Path,
    first: Bytes,
    mut file: tokio::fs::File,
) -> Result<(), StorageError> {
    use tokio::io::AsyncSeekExt;

    let path = key.as_ref();
    let mut first = Some(first);
    for attempt in 0..2 {
        let part = match first.take() {
            Some(part) => part,
            None => {
                file.rewind()
                    .await
                    .map_err(|e| StorageError::io("rereading the zip spool file", e))?;
                read_part(&mut file)
                    .await
                    .map_err(|e| StorageError::io("reading the zip spool file", e))?
            }
        };
        match write_create_only(op, path, part, &mut file).await {
            Err(e) if attempt == 0 && e.kind() == crate::ErrorKind::AlreadyExists => {
                warn!(key = %key, "replacing the zip of an abandoned write");
                op.delete(path)
                    .await
                    .map_err(|e| map_opendal_err(&format!("removing {key}"), &e))?;
            }
            res => return res,
        }
    }
    Err(StorageError::already_exists(format!(
        "writing {key}: already exists"
    )))
}

#[cfg(feature = "gcs")]
async fn write_create_only(
    op: &opendal::Operator,
    path: &str,
    first: Bytes,
    file: &mut tokio::fs::File,
) -> Result<(), StorageError> {
    let mut writer = op
        .writer_with(path)
        .if_not_exists(true)
        .content_type("application/octet-stream")
        .await
        .map_err(|e| map_opendal_err(&format!("starting upload of {path}"), &e))?;
    let res: Result<(), StorageError> = async {
        let mut part = first;
        while !part.is_empty() {
            writer
                .write(part)
                .await
                .map_err(|e| map_opendal_err(&format!("uploading {path}"), &e))?;
            part = read_part(file)
                .await
                .map_err(|e| StorageError::io("reading the zip spool file", e))?;
        }
        writer
            .close()
            .await
            .map(drop)
            .map_err(|e| map_opendal_err(&format!("completing upload of {path}"), &e))
    }
    .await;
    if res.is_err() {
        // Cancel the resumable session (nothing was made visible).
        if let Err(abort) = writer.abort().await {
            debug!(key = path, error = %abort, "could not cancel a failed upload");
        }
    }
    res
}

/// The key for `raw`, byte for byte. `Path::from` would percent-encode characters such as
/// `~` and miss Athens' keys; `Path::parse` keeps them, and only refuses empty, `.` and `..`
/// elements, which validated module paths and versions never have.
fn object_path(raw: &str) -> Result<Path, StorageError> {
    Path::parse(raw)
        .map_err(|e| StorageError::corrupt(format!("cannot make a key of {raw:?}: {e}")))
}

fn already(version: &Version) -> StorageError {
    StorageError::already_exists(format!("{} is already stored", version.as_str()))
}

struct ObjectZip {
    store: Arc<dyn ObjectStore>,
    key: Path,
    etag: Option<String>,
}

#[async_trait]
impl ZipSource for ObjectZip {
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError> {
        if range.start >= range.end {
            // S3 rejects an empty byte range; there is nothing to fetch anyway.
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range)),
            // Never splice two different zips into one download: if the object changed
            // since it was opened, fail instead.
            if_match: self.etag.clone(),
            ..GetOptions::default()
        };
        let key = self.key;
        let res = self
            .store
            .get_opts(&key, opts)
            .await
            .map_err(|e| match classify(&e) {
                Class::NotFound => StorageError::corrupt(format!("{key} vanished while opened")),
                _ => map_err(&format!("reading {key}"), e),
            })?;
        Ok(Box::pin(
            res.into_stream()
                .map_err(|e| io::Error::other(error_chain(&e))),
        ))
    }
}
