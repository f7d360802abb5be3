//! MongoDB storage in Athens' layout, over the official `mongodb` driver.
//!
//! This module owns [`MongoStorage`]: Athens' document and GridFS layout, the write
//! protocol that makes a version appear only once it is complete, and the mapping of
//! driver errors onto [`ErrorKind`](crate::ErrorKind). See `docs/storage/mongo.md`.
//!
//! # Layout (Athens')
//!
//! ```text
//! <database>.<collection>   {_id: ObjectId, module, version, mod: BinData, info: BinData,
//!                            agora_zip_id: ObjectId}      (database `athens`, collection `modules`)
//!                           unique sparse index {base_url: 1, module: 1, version: 1}
//! <database>.fs.files/.chunks  the zip, filename `<module with "/" → "_">_<version>.zip`,
//!                           metadata {module, version}; indexes {filename: 1,
//!                           uploadDate: 1} and unique {files_id: 1, n: 1}
//! ```
//!
//! All three indexes are ensured at start-up, as Athens does (see [`MongoStorage::connect`]).
//!
//! `agora_zip_id` and the GridFS metadata are agora's additions; Athens ignores both.
//!
//! # Presence and writes
//!
//! A version is present when its document exists *and* its zip file exists in GridFS.
//! `put` uploads the zip to GridFS first, under a fresh id, and inserts the document
//! last, as Athens does: the document is the commit marker and the unique index makes
//! the insert create-only (duplicate key 11000 → `AlreadyExists`, and the loser deletes
//! its own upload). A GridFS file without a document (a crashed write) is invisible:
//! the next writer uploads a new file and its document names that file by id.
//! A document whose zip is gone (Athens deletes the file before the document) is absent
//! too, and the next `put` replaces that document.
//!
//! # Which file is the zip
//!
//! Athens' filename can collide (`a/b_c@v1` and `a_b/c@v1` both give `a_b_c_v1.zip`) and
//! a crashed upload leaves a second file with the same name. Documents written by agora
//! name their file by id (`agora_zip_id`), so agora never looks at names for them. For a
//! document written by Athens (no `agora_zip_id`) the zip is the newest file with that
//! filename (what Athens' `OpenDownloadStreamByName` picks) whose metadata does not name
//! another module.
//!
//! # Reads
//!
//! The driver's download stream cannot seek, so zips are read from the bucket's
//! `fs.chunks` collection directly (the GridFS layout: `{files_id, n, data}`), starting
//! at the chunk that holds the first wanted byte, in small cursor batches: a ranged read
//! never fetches the bytes before its range, and no zip is ever held whole in memory.

use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use agora_core::{ModulePath, Version};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};
use mongodb::error::{Error as DriverError, ErrorKind as DriverErrorKind, WriteFailure};
use mongodb::gridfs::{FilesCollectionDocument, GridFsBucket};
use mongodb::options::{ClientOptions, IndexOptions, Tls, TlsOptions};
use mongodb::{Client, Collection, Cursor, IndexModel};
use tokio::io::AsyncWriteExt;
use tokio::sync::OnceCell;
use tokio_util::compat::FuturesAsyncWriteCompatExt;
use tracing::warn;

use crate::{
    ByteStream, CatalogPage, NewVersion, Storage, StorageError, ZipObject, ZipSource, catalog_page,
    catalog_want, parse_catalog_token,
};

/// The document field, added by agora, that names the version's GridFS file by id.
const ZIP_ID_FIELD: &str = "agora_zip_id";

/// Chunks fetched per cursor batch when streaming a zip: 16 × 255 KiB (the GridFS
/// default chunk size) keeps about 4 MiB in flight per download.
const CHUNK_BATCH: u32 = 16;

/// Server duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Server error code for a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;

/// The longest start-up waits to create the indexes before going on without them.
const STARTUP_INDEX_WAIT: Duration = Duration::from_secs(10);

/// How to reach the database, with Athens' `Storage.Mongo` meaning.
#[derive(Clone)]
pub struct MongoConfig {
    /// The connection string (`mongodb://` or `mongodb+srv://`); may hold a password.
    pub url: String,
    /// The database (Athens `DefaultDBName`, default `athens`).
    pub database: String,
    /// The collection of version documents (Athens `DefaultCollectionName`, default
    /// `modules`).
    pub collection: String,
    /// A PEM file of CA certificates; when set, TLS is used with these roots (Athens
    /// `CertPath`).
    pub cert_path: Option<PathBuf>,
    /// Accept any server certificate (Athens `InsecureConn`).
    pub insecure: bool,
    /// Connect timeout (Athens uses its global `Timeout` here).
    pub timeout: Duration,
}

impl std::fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoConfig")
            .field("url", &redact_url(&self.url))
            .field("database", &self.database)
            .field("collection", &self.collection)
            .field("cert_path", &self.cert_path)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The URL with any password replaced by `***`, for logs and `describe`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(host_end);
    match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let pass = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{pass}@{hosts}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Athens' GridFS filename for a version's zip.
pub fn zip_filename(module: &str, version: &str) -> String {
    format!("{}_{version}.zip", module.replace('/', "_"))
}

/// A version document as Athens lays it out, plus the id of its zip.
fn version_document(module: &str, version: &str, new: &NewVersion, zip_id: ObjectId) -> Document {
    doc! {
        "module": module,
        "version": version,
        "mod": binary(&new.go_mod),
        "info": binary(&new.info),
        ZIP_ID_FIELD: zip_id,
    }
}

/// Creates the index on `keys` unless the collection has one on the same keys already,
/// whatever its options or name (what the GridFS spec and Athens' driver do): an index an
/// older agora or the Rust driver made (`fs.chunks` without `unique`) or one an Athens
/// database holds is left as it is, rather than failing with `IndexKeySpecsConflict`.
async fn ensure_index(
    coll: &Collection<Document>,
    keys: Document,
    options: Option<IndexOptions>,
) -> Result<(), StorageError> {
    let context = || format!("creating the {} index {keys}", coll.name());
    let existing: Vec<IndexModel> = match coll.list_indexes().await {
        Ok(cursor) => cursor
            .try_collect()
            .await
            .map_err(|e| unavailable(&context(), e))?,
        // No collection yet (MongoDB says NamespaceNotFound; some servers list nothing).
        Err(e) if matches!(e.kind.as_ref(), DriverErrorKind::Command(c) if c.code == NAMESPACE_NOT_FOUND) => {
            Vec::new()
        }
        Err(e) => return Err(unavailable(&context(), e)),
    };
    if existing.iter().any(|index| same_keys(&index.keys, &keys)) {
        return Ok(());
    }
    coll.create_index(
        IndexModel::builder()
            .keys(keys.clone())
            .options(options)
            .build(),
    )
    .await
    .map(|_| ())
    .map_err(|e| unavailable(&context(), e))
}

/// The same fields in the same order and directions, `1` and `1.0` alike.
fn same_keys(a: &Document, b: &Document) -> bool {
    let number = |v: &Bson| match v {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    };
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| {
            ka == kb
                && match (number(va), number(vb)) {
                    (Some(x), Some(y)) => x == y,
                    _ => va == vb,
                }
        })
}

fn binary(bytes: &[u8]) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    }
}

/// A field holding bytes: BinData as Athens writes it (a string is accepted too).
fn bytes_field(doc: &Document, field: &str) -> Result<Bytes, StorageError> {
    match doc.get(field) {
        Some(Bson::Binary(b)) => Ok(Bytes::copy_from_slice(&b.bytes)),
        Some(Bson::String(s)) => Ok(Bytes::copy_from_slice(s.as_bytes())),
        _ => Err(StorageError::corrupt(format!(
            "version document {} has no binary {field:?} field",
            doc.get("_id").map(ToString::to_string).unwrap_or_default()
        ))),
    }
}

/// Any driver failure is a failure to find out, never absence.
fn unavailable(context: &str, err: DriverError) -> StorageError {
    StorageError::io(context, io::Error::other(err))
}

/// Whether `err` is the server's duplicate-key refusal.
fn is_duplicate_key(err: &DriverError) -> bool {
    match err.kind.as_ref() {
        DriverErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        DriverErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// A MongoDB database in Athens' layout (see the module docs).
pub struct MongoStorage {
    modules: Collection<Document>,
    chunks: Collection<Document>,
    bucket: GridFsBucket,
    database: mongodb::Database,
    index: OnceCell<()>,
    describe: String,
}

/// The driver's own default server selection timeout.
const DRIVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(30);

impl MongoStorage {
    /// Parses the connection string and applies the TLS and timeout settings.
    /// `mongodb+srv://` URLs are resolved here, so this needs DNS.
    pub async fn client_options(config: &MongoConfig) -> Result<ClientOptions, StorageError> {
        let mut options = ClientOptions::parse(&config.url).await.map_err(|e| {
            // The driver's message never repeats the password.
            StorageError::io(
                "parsing the MongoDB URL",
                io::Error::new(io::ErrorKind::InvalidInput, e),
            )
        })?;
        options.connect_timeout = Some(config.timeout);
        // Without this, an unreachable server holds each operation for the driver's 30 s
        // server selection whatever agora's own timeout says; a URL's own setting wins.
        options
            .server_selection_timeout
            .get_or_insert(config.timeout.min(DRIVER_SELECTION_TIMEOUT));
        options.app_name.get_or_insert_with(|| "agora".to_owned());
        if config.cert_path.is_some() || config.insecure {
            let mut tls = match options.tls.take() {
                Some(Tls::Enabled(t)) => t,
                _ => TlsOptions::default(),
            };
            if let Some(path) = &config.cert_path {
                tls.ca_file_path = Some(path.clone());
            }
            if config.insecure {
                tls.allow_invalid_certificates = Some(true);
            }
            // As in Athens: a CA file turns TLS on; `insecure` alone only relaxes a TLS
            // connection that the URL asked for.
            if config.cert_path.is_some() || tls != TlsOptions::default() {
                options.tls = Some(Tls::Enabled(tls));
            }
        }
        Ok(options)
    }

    /// Builds the backend. Nothing is contacted yet: the driver connects on first use,
    /// and the indexes are created before the first write (and by `ready`).
    pub fn new(options: ClientOptions, config: &MongoConfig) -> Result<Self, StorageError> {
        let client = Client::with_options(options)
            .map_err(|e| unavailable("configuring the MongoDB client", e))?;
        let database = client.database(&config.database);
        let bucket = database.gridfs_bucket(None);
        Ok(MongoStorage {
            modules: database.collection(&config.collection),
            chunks: database.collection("fs.chunks"),
            bucket,
            describe: format!(
                "mongo:{} db={} collection={}",
                redact_url(&config.url),
                config.database,
                config.collection
            ),
            database,
            index: OnceCell::new(),
        })
    }

    /// [`client_options`](Self::client_options) then [`new`](Self::new), then the
    /// indexes, as Athens creates them at start-up. A server that cannot be reached
    /// within `timeout` (at most [`STARTUP_INDEX_WAIT`]) does not stop the start: agora
    /// then answers 503 until it is back, and the indexes are made before the first
    /// write and by `ready`.
    pub async fn connect(config: &MongoConfig) -> Result<Self, StorageError> {
        let options = Self::client_options(config).await?;
        let storage = Self::new(options, config)?;
        let wait = config.timeout.min(STARTUP_INDEX_WAIT);
        match tokio::time::timeout(wait, storage.ensure_indexes()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "MongoDB indexes not ensured at start-up"),
            Err(_) => warn!("MongoDB indexes not ensured at start-up: no answer within {wait:?}"),
        }
        Ok(storage)
    }

    /// Creates, once per process, the indexes Athens' start-up makes: its unique sparse
    /// `{base_url, module, version}` on the collection (`base_url` is never written, so it
    /// is unique on module and version; that is what makes `put` create-only), and the
    /// GridFS spec's `fs.files {filename, uploadDate}` and unique `fs.chunks {files_id,
    /// n}`. The Rust driver makes the GridFS pair only when it writes a full chunk into
    /// an empty bucket, so without this a database of small zips scans every chunk on
    /// each read.
    async fn ensure_indexes(&self) -> Result<(), StorageError> {
        self.index
            .get_or_try_init(|| async {
                // `sparse` is set before `unique` in the options the driver sends, the
                // order Athens' Go driver uses: a server that compares options in order
                // (SecantusDB) then sees Athens' own index as the same one.
                let modules = IndexOptions::builder().sparse(true).unique(true).build();
                ensure_index(
                    &self.modules,
                    doc! {"base_url": 1, "module": 1, "version": 1},
                    Some(modules),
                )
                .await?;
                let files: Collection<Document> = self.database.collection("fs.files");
                ensure_index(&files, doc! {"filename": 1, "uploadDate": 1}, None).await?;
                let unique = IndexOptions::builder().unique(true).build();
                ensure_index(&self.chunks, doc! {"files_id": 1, "n": 1}, Some(unique)).await
            })
            .await
            .map(|_| ())
    }

    async fn document(
        &self,
        module: &str,
        version: &str,
    ) -> Result<Option<Document>, StorageError> {
        self.modules
            .find_one(doc! {"module": module, "version": version})
            .await
            .map_err(|e| unavailable(&format!("finding {module}@{version}"), e))
    }

    /// The GridFS file holding the zip of the version `doc` describes, if it exists.
    async fn zip_file(
        &self,
        doc: &Document,
        module: &str,
        version: &str,
    ) -> Result<Option<FilesCollectionDocument>, StorageError> {
        self.zip_file_other_than(doc, module, version, None).await
    }

    /// [`zip_file`](Self::zip_file), never answering with the file `ours`: a writer's own
    /// fresh upload has the filename and metadata that an Athens document (no file id)
    /// would be matched by, and must not pass for that document's zip.
    async fn zip_file_other_than(
        &self,
        doc: &Document,
        module: &str,
        version: &str,
        ours: Option<ObjectId>,
    ) -> Result<Option<FilesCollectionDocument>, StorageError> {
        let context = || format!("finding the zip of {module}@{version}");
        let mut by_name = doc! {
            "filename": zip_filename(module, version),
            "metadata.module": {"$in": [module, Bson::Null]},
        };
        if let Some(ours) = ours {
            by_name.insert("_id", doc! {"$ne": ours});
        }
        match doc.get(ZIP_ID_FIELD) {
            Some(Bson::ObjectId(id)) => self
                .bucket
                .find_one(doc! {"_id": id})
                .await
                .map_err(|e| unavailable(&context(), e)),
            Some(other) => Err(StorageError::corrupt(format!(
                "{module}@{version}: {ZIP_ID_FIELD} is {other}, not an ObjectId"
            ))),
            None => self
                .bucket
                .find_one(by_name)
                .sort(doc! {"uploadDate": -1, "_id": -1})
                .await
                .map_err(|e| unavailable(&context(), e)),
        }
    }

    /// The document of a present version (document and zip both exist).
    async fn present(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Option<(Document, FilesCollectionDocument)>, StorageError> {
        let (m, v) = (module.as_str(), version.as_str());
        let Some(doc) = self.document(m, v).await? else {
            return Ok(None);
        };
        Ok(self.zip_file(&doc, m, v).await?.map(|file| (doc, file)))
    }

    async fn present_doc(
        &self,
        module: &ModulePath,
        version: &Version,
    ) -> Result<Document, StorageError> {
        match self.present(module, version).await? {
            Some((doc, _)) => Ok(doc),
            None => Err(StorageError::not_found(format!("{module}@{version}"))),
        }
    }

    /// Deletes one GridFS file, logging (not failing) when it cannot: an unreferenced
    /// file is invisible, only wasted space.
    async fn discard(&self, id: ObjectId, why: &str) {
        if let Err(e) = self.bucket.delete(Bson::ObjectId(id)).await {
            warn!(error = %e, file = %id, "could not delete an unused GridFS file ({why})");
        }
    }

    /// Streams the local zip into a new GridFS file and returns its id.
    async fn upload(
        &self,
        module: &str,
        version: &str,
        zip: &PathBuf,
    ) -> Result<ObjectId, StorageError> {
        let id = ObjectId::new();
        let context = || format!("uploading the zip of {module}@{version} to GridFS");
        let mut file = tokio::fs::File::open(zip)
            .await
            .map_err(|e| StorageError::io(format!("opening {}", zip.display()), e))?;
        let mut upload = self
            .bucket
            .open_upload_stream(zip_filename(module, version))
            .id(Bson::ObjectId(id))
            .metadata(doc! {"module": module, "version": version})
            .await
            .map_err(|e| unavailable(&context(), e))?;
        let copied = {
            let mut writer = (&mut upload).compat_write();
            match tokio::io::copy(&mut file, &mut writer).await {
                // `shutdown` closes the upload: the last chunk and then the files document.
                Ok(_) => writer.shutdown().await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = copied {
            if let Err(abort) = upload.abort().await {
                warn!(error = %abort, file = %id, "could not abort a failed GridFS upload");
            }
            return Err(StorageError::io(context(), e));
        }
        Ok(id)
    }

    /// Inserts the commit document; `Ok(false)` on a duplicate key.
    async fn insert(&self, doc: Document, what: &str) -> Result<bool, StorageError> {
        match self.modules.insert_one(doc).await {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(unavailable(&format!("inserting the document of {what}"), e)),
        }
    }
}

#[async_trait]
impl Storage for MongoStorage {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        let m = module.as_str();
        let context = format!("listing {m}");
        let docs: Vec<Document> = self
            .modules
            .find(doc! {"module": m})
            .projection(doc! {"_id": 0, "version": 1, ZIP_ID_FIELD: 1})
            .await
            .map_err(|e| unavailable(&context, e))?
            .try_collect()
            .await
            .map_err(|e| unavailable(&context, e))?;
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        // Keep only versions whose zip exists: one query for all of them.
        let mut ids = Vec::new();
        let mut names = Vec::new();
        for d in &docs {
            match d.get(ZIP_ID_FIELD) {
                Some(Bson::ObjectId(id)) => ids.push(Bson::ObjectId(*id)),
                _ => {
                    if let Ok(v) = d.get_str("version") {
                        names.push(Bson::String(zip_filename(m, v)));
                    }
                }
            }
        }
        let files: Vec<FilesCollectionDocument> = self
            .bucket
            .find(doc! {"$or": [
                {"_id": {"$in": ids}},
                {"filename": {"$in": names}, "metadata.module": {"$in": [m, Bson::Null]}},
            ]})
            .await
            .map_err(|e| unavailable(&context, e))?
            .try_collect()
            .await
            .map_err(|e| unavailable(&context, e))?;
        let mut versions = Vec::new();
        for d in &docs {
            let Ok(v) = d.get_str("version") else {
                continue;
            };
            let found = match d.get(ZIP_ID_FIELD) {
                Some(Bson::ObjectId(id)) => files.iter().any(|f| f.id == Bson::ObjectId(*id)),
                _ => {
                    let name = zip_filename(m, v);
                    files
                        .iter()
                        .any(|f| f.filename.as_deref() == Some(name.as_str()))
                }
            };
            if found {
                versions.push(v.to_owned());
            }
        }
        Ok(versions)
    }

    /// Documents in `(module, version)` order (MongoDB's default, bytewise, string
    /// comparison), resuming strictly after the token's pair; a document counts only when
    /// its zip exists, as for [`Storage::exists`]. Documents with a module path or
    /// version that is not valid are left out.
    async fn catalog(&self, token: &str, page_size: usize) -> Result<CatalogPage, StorageError> {
        let after = parse_catalog_token(token)?;
        let want = catalog_want(page_size)?;
        let filter = match &after {
            None => doc! {},
            Some((m, v)) => doc! {"$or": [
                {"module": {"$gt": m.as_str()}},
                {"module": m.as_str(), "version": {"$gt": v.as_str()}},
            ]},
        };
        let context = "listing the catalog";
        let mut cursor = self
            .modules
            .find(filter)
            .sort(doc! {"module": 1, "version": 1})
            .projection(doc! {"_id": 0, "module": 1, "version": 1, ZIP_ID_FIELD: 1})
            .await
            .map_err(|e| unavailable(context, e))?;
        let mut found = Vec::new();
        while found.len() < want {
            let Some(doc) = cursor
                .try_next()
                .await
                .map_err(|e| unavailable(context, e))?
            else {
                break;
            };
            let (Ok(m), Ok(v)) = (doc.get_str("module"), doc.get_str("version")) else {
                continue;
            };
            let Ok(module) = ModulePath::new(m) else {
                continue;
            };
            if v.is_empty() || v.contains('/') {
                continue;
            }
            if self.zip_file(&doc, m, v).await?.is_some() {
                found.push((module, Version::from_trusted(v)));
            }
        }
        Ok(catalog_page(found, page_size))
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        Ok(self.present(module, version).await?.is_some())
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        bytes_field(&self.present_doc(module, version).await?, "info")
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        bytes_field(&self.present_doc(module, version).await?, "mod")
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        let Some((_, file)) = self.present(module, version).await? else {
            return Err(StorageError::not_found(format!("{module}@{version}.zip")));
        };
        let Bson::ObjectId(id) = file.id else {
            return Err(StorageError::corrupt(format!(
                "{module}@{version}: the GridFS file id {} is not an ObjectId",
                file.id
            )));
        };
        if file.chunk_size_bytes == 0 {
            return Err(StorageError::corrupt(format!(
                "{module}@{version}: the GridFS file {id} has chunk size 0"
            )));
        }
        // A file id is never reused, so id and length identify the bytes.
        let tag = format!("{}-{}", id.to_hex(), file.length);
        Ok(ZipObject::new(
            file.length,
            tag,
            Box::new(MongoZip {
                chunks: self.chunks.clone(),
                id,
                length: file.length,
                chunk_size: u64::from(file.chunk_size_bytes),
            }),
        ))
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        let (m, v) = (module.as_str(), version.as_str());
        let what = format!("{module}@{version}");
        self.ensure_indexes().await?;
        // Athens checks first too; it saves uploading a zip only to throw it away.
        if self.present(module, version).await?.is_some() {
            return Err(StorageError::already_exists(what));
        }
        let id = self.upload(m, v, &new.zip).await?;
        let doc = version_document(m, v, &new, id);
        let inserted = match self.insert(doc.clone(), &what).await {
            Ok(inserted) => inserted,
            Err(e) => {
                // The insert may have been applied before the connection failed: only
                // discard the upload when the stored document is positively not ours.
                match self.document(m, v).await {
                    Ok(Some(stored)) if stored.get_object_id(ZIP_ID_FIELD).ok() == Some(id) => {
                        return Ok(());
                    }
                    Ok(_) => self.discard(id, "failed insert").await,
                    // Cannot tell: leave the file (unreferenced unless the insert landed).
                    Err(_) => {}
                }
                return Err(e);
            }
        };
        if inserted {
            return Ok(());
        }
        // Someone holds the key. A document whose zip is gone (Athens deletes the file
        // before the document) is an incomplete version: replace it, once. Our own upload
        // is already in GridFS under the same name, and is not that document's zip.
        if let Some(stored) = self.document(m, v).await?
            && self
                .zip_file_other_than(&stored, m, v, Some(id))
                .await?
                .is_none()
            && let Ok(old) = stored.get_object_id("_id")
        {
            self.modules
                .delete_one(doc! {"_id": old})
                .await
                .map_err(|e| unavailable(&format!("removing the incomplete {what}"), e))?;
            if self.insert(doc, &what).await? {
                return Ok(());
            }
        }
        self.discard(id, "lost the race to store the version").await;
        Err(StorageError::already_exists(what))
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        let (m, v) = (module.as_str(), version.as_str());
        let what = format!("{module}@{version}");
        let Some(doc) = self.document(m, v).await? else {
            return Err(StorageError::not_found(what));
        };
        let file = self.zip_file(&doc, m, v).await?;
        // The document goes first: the version disappears at once, and a file left
        // behind by a failure below is unreferenced, so invisible.
        self.modules
            .delete_one(doc! {"module": m, "version": v})
            .await
            .map_err(|e| unavailable(&format!("deleting {what}"), e))?;
        if let Some(file) = file {
            self.bucket
                .delete(file.id)
                .await
                .map_err(|e| unavailable(&format!("deleting the zip of {what}"), e))?;
        }
        Ok(())
    }

    async fn ready(&self) -> Result<(), StorageError> {
        self.database
            .run_command(doc! {"ping": 1})
            .await
            .map_err(|e| unavailable("pinging MongoDB", e))?;
        self.ensure_indexes().await
    }
}

/// One stored zip: its GridFS chunks.
struct MongoZip {
    chunks: Collection<Document>,
    id: ObjectId,
    length: u64,
    chunk_size: u64,
}

/// Streaming state: the cursor, the next chunk number expected, and the range.
struct ChunkReader {
    cursor: Cursor<Document>,
    next: u64,
    range: Range<u64>,
    chunk_size: u64,
    id: ObjectId,
}

impl ChunkReader {
    /// The bytes of one chunk document that fall inside the range.
    fn slice(&mut self, doc: &Document) -> io::Result<Bytes> {
        let bad = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
        let n = match doc.get("n") {
            Some(Bson::Int32(n)) => u64::try_from(*n).ok(),
            Some(Bson::Int64(n)) => u64::try_from(*n).ok(),
            _ => None,
        };
        if n != Some(self.next) {
            return Err(bad(format!(
                "GridFS file {}: expected chunk {}, got {:?}",
                self.id,
                self.next,
                doc.get("n")
            )));
        }
        let data = match doc.get("data") {
            Some(Bson::Binary(b)) => &b.bytes,
            _ => {
                return Err(bad(format!(
                    "GridFS file {}: chunk {} has no data",
                    self.id, self.next
                )));
            }
        };
        let start = self.next * self.chunk_size;
        self.next += 1;
        let from = self.range.start.saturating_sub(start);
        let to = self.range.end.saturating_sub(start).min(self.chunk_size);
        if (data.len() as u64) < to || from > to {
            return Err(bad(format!(
                "GridFS file {}: chunk {} is short",
                self.id,
                self.next - 1
            )));
        }
        // Both bounds are at most `data.len()`, so they fit in usize.
        Ok(Bytes::copy_from_slice(&data[from as usize..to as usize]))
    }
}

#[async_trait]
impl ZipSource for MongoZip {
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError> {
        if range.start >= range.end || range.start >= self.length {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let first = range.start / self.chunk_size;
        let last = (range.end - 1) / self.chunk_size;
        let (first_n, last_n) = (
            i64::try_from(first).unwrap_or(i64::MAX),
            i64::try_from(last).unwrap_or(i64::MAX),
        );
        let cursor = self
            .chunks
            .find(doc! {"files_id": self.id, "n": {"$gte": first_n, "$lte": last_n}})
            .sort(doc! {"files_id": 1, "n": 1})
            .batch_size(CHUNK_BATCH)
            .await
            .map_err(|e| unavailable(&format!("reading GridFS file {}", self.id), e))?;
        let reader = ChunkReader {
            cursor,
            next: first,
            range,
            chunk_size: self.chunk_size,
            id: self.id,
        };
        let stream =
            futures_util::stream::try_unfold((reader, last), |(mut reader, last)| async move {
                match reader.cursor.next().await {
                    Some(Ok(doc)) => {
                        let bytes = reader.slice(&doc)?;
                        Ok(Some((bytes, (reader, last))))
                    }
                    Some(Err(e)) => Err(io::Error::other(e)),
                    None if reader.next > last => Ok(None),
                    None => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "GridFS file {}: chunk {} is missing",
                            reader.id, reader.next
                        ),
                    )),
                }
            });
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ErrorKind;

    #[test]
    fn filenames_are_athens() {
        assert_eq!(
            zip_filename("github.com/gomods/athens", "v0.1.0"),
            "github.com_gomods_athens_v0.1.0.zip"
        );
        // Athens' collision, kept for compatibility; reads go by id instead.
        assert_eq!(
            zip_filename("a/b_c", "v1.0.0"),
            zip_filename("a_b/c", "v1.0.0")
        );
    }

    #[test]
    fn document_shape_round_trips_through_bson() {
        let new = NewVersion {
            info: Bytes::from_static(b"{\"Version\":\"v1.0.0\"}"),
            go_mod: Bytes::from_static(b"module example.com/m\n"),
            zip: PathBuf::from("/nonexistent"),
        };
        let id = ObjectId::new();
        let doc = version_document("example.com/m", "v1.0.0", &new, id);
        let mut raw = Vec::new();
        doc.to_writer(&mut raw).unwrap();
        let back = Document::from_reader(&raw[..]).unwrap();
        let keys: Vec<&str> = back.keys().map(String::as_str).collect();
        assert_eq!(keys, ["module", "version", "mod", "info", ZIP_ID_FIELD]);
        assert_eq!(back.get_str("module").unwrap(), "example.com/m");
        assert_eq!(back.get_str("version").unwrap(), "v1.0.0");
        // BinData, generic subtype: what Athens' []byte fields are.
        let Some(Bson::Binary(b)) = back.get("mod") else {
            panic!("mod is not BinData: {back}");
        };
        assert_eq!(b.subtype, BinarySubtype::Generic);
        assert_eq!(bytes_field(&back, "mod").unwrap(), new.go_mod);
        assert_eq!(bytes_field(&back, "info").unwrap(), new.info);
        assert_eq!(back.get_object_id(ZIP_ID_FIELD).unwrap(), id);
        let err = bytes_field(&doc! {"_id": 1}, "info").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
    }

    #[test]
    fn driver_errors_map_to_unavailable_and_duplicates_are_recognised() {
        let refused = DriverError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!is_duplicate_key(&refused));
        assert_eq!(unavailable("x", refused).kind(), ErrorKind::Unavailable);

        let timeout = DriverError::from(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(unavailable("x", timeout).kind(), ErrorKind::Unavailable);

        let write: mongodb::error::WriteError = mongodb::bson::from_document(
            doc! {"code": 11000, "codeName": "DuplicateKey", "errmsg": "E11000 duplicate key"},
        )
        .unwrap();
        let dup = DriverError::from(DriverErrorKind::Write(WriteFailure::WriteError(write)));
        assert!(is_duplicate_key(&dup));

        let other: mongodb::error::WriteError =
            mongodb::bson::from_document(doc! {"code": 121, "errmsg": "validation"}).unwrap();
        let other = DriverError::from(DriverErrorKind::Write(WriteFailure::WriteError(other)));
        assert!(!is_duplicate_key(&other));
        assert_eq!(unavailable("x", other).kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn passwords_never_reach_describe_or_debug() {
        let url = "mongodb://athens:s3cret@db1:27017,db2/athens?authSource=admin";
        assert_eq!(
            redact_url(url),
            "mongodb://athens:***@db1:27017,db2/athens?authSource=admin"
        );
        assert_eq!(redact_url("mongodb://db:27017"), "mongodb://db:27017");
        assert_eq!(
            redact_url("mongodb+srv://u@c.example/"),
            "mongodb+srv://u@c.example/"
        );
        let config = MongoConfig {
            url: url.to_owned(),
            database: "athens".to_owned(),
            collection: "modules".to_owned(),
            cert_path: None,
            insecure: false,
            timeout: Duration::from_secs(300),
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[tokio::test]
    async fn tls_settings_follow_athens() {
        let mut config = MongoConfig {
            url: "mongodb://127.0.0.1:1".to_owned(),
            database: "athens".to_owned(),
            collection: "modules".to_owned(),
            cert_path: None,
            insecure: false,
            timeout: Duration::from_secs(7),
        };
        let plain = MongoStorage::client_options(&config).await.unwrap();
        assert!(plain.tls.is_none());
        assert_eq!(plain.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(
            plain.server_selection_timeout,
            Some(Duration::from_secs(7)),
            "server selection is bounded by agora's timeout"
        );
        let long = MongoStorage::client_options(&MongoConfig {
            timeout: Duration::from_secs(300),
            ..config.clone()
        })
        .await
        .unwrap();
        assert_eq!(long.server_selection_timeout, Some(Duration::from_secs(30)));
        let set = MongoStorage::client_options(&MongoConfig {
            url: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1500".to_owned(),
            ..config.clone()
        })
        .await
        .unwrap();
        assert_eq!(
            set.server_selection_timeout,
            Some(Duration::from_millis(1500))
        );

        config.cert_path = Some(PathBuf::from("/etc/ca.pem"));
        config.insecure = true;
        let Some(Tls::Enabled(tls)) = MongoStorage::client_options(&config).await.unwrap().tls
        else {
            panic!("a CA file turns TLS on");
        };
        assert_eq!(tls.ca_file_path, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(tls.allow_invalid_certificates, Some(true));

        config.url = "mongodb://u:p@[::1".to_owned();
        let err = MongoStorage::client_options(&config).await.unwrap_err();
        assert!(!err.to_string().contains(":p@"), "{err}");
    }

    #[tokio::test]
    async fn unreachable_server_is_unavailable_not_absent() {
        let config = MongoConfig {
            // A port nothing listens on, and a short selection timeout.
            url: "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
                .to_owned(),
            database: "athens".to_owned(),
            collection: "modules".to_owned(),
            cert_path: None,
            insecure: false,
            timeout: Duration::from_millis(300),
        };
        let s = MongoStorage::connect(&config).await.unwrap();
        let (m, v) = (
            ModulePath::new("example.com/m").unwrap(),
            Version::from_trusted("v1.0.0"),
        );
        assert_eq!(
            s.exists(&m, &v).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(
            s.info(&m, &v).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(
            s.zip(&m, &v).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(s.list(&m).await.unwrap_err().kind(), ErrorKind::Unavailable);
        assert_eq!(
            s.delete(&m, &v).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(s.ready().await.unwrap_err().kind(), ErrorKind::Unavailable);
        assert!(!s.describe().contains("s3cret"));
    }
}
