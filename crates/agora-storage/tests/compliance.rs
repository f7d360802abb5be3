//! One storage compliance suite, run against every backend built here.
//!
//! Each test takes a fresh, empty backend; the tests do not know which backend
//! they talk to. The S3 backend runs against a moto server that this file starts
//! on 127.0.0.1 (once per test binary, a fresh random bucket per test), in both of
//! Athens' layouts: `s3` (`<module>/@v/<version>.*`) and `minio` (disk-style keys).
//! The Azure Blob backend runs against Azurite 3.35.0 (`azurite-blob`), started the same
//! way, with a fresh container per test. If moto or Azurite cannot be started, those
//! tests fail; they never skip. The external backend (Athens' external HTTP storage
//! protocol) runs against agora's own protocol server (`agora-external-server`) over a
//! disk backend, started in the test on 127.0.0.1, in both of its dialects: `external`
//! (Range, ETag, 409 for a stored version) and `external_athens` (what Athens' reference
//! server does: whole zips only, 400 for every failed save). Every suite test holds for
//! it; create-only holds because the server's backend refuses the second save.
//!
//! The GCS backend runs against gcp-storage-emulator 2026.7.19, started the same way
//! (in memory, a fresh bucket per test); it fails, never skips, without it. The emulator
//! ignores `ifGenerationMatch`, so the create-only race (`race_suite!`) is not run for
//! GCS; `gcs_backend` checks on the wire that agora sends the precondition.
//!
//! The catalog tests also write, behind the backend's back ([`Fixture::put_raw`]), what
//! crashes and other tools leave in each layout: versions without their commit marker,
//! scratch files, lock and part objects, and markers of invalid module paths.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use agora_core::{ModulePath, Version};
use agora_storage::fs::DiskStorage;
use agora_storage::memory::MemoryStorage;
use agora_storage::{ErrorKind, NewVersion, Storage};
use bytes::Bytes;
use futures_util::TryStreamExt;

struct Fixture {
    /// The backend's name (the test module's), for messages; set by the test wrapper.
    backend: &'static str,
    storage: Arc<dyn Storage>,
    dir: tempfile::TempDir,
    /// The backend's own store, for writing behind its back what crashes and other
    /// tools leave (the tests never read through it).
    raw: Raw,
    /// How many keys one listing call of the backend's service returns at most, so
    /// that the paging test stores more than that.
    listing_page: usize,
}

/// S3's `ListObjectsV2` page (moto's too), real GCS's default page, and the figure the
/// tests use where a backend has no service-side pages (disk, memory, external storage,
/// MongoDB's cursor batches are the driver's business).
const DEFAULT_LISTING_PAGE: usize = 1000;

/// Writes in flight when a test fills a store behind its back. gcp-storage-emulator serves
/// one request at a time with a listen backlog of 5 (more connections get reset), and
/// the other servers gain little beyond a few.
const RAW_WRITERS: usize = 4;

enum Raw {
    /// The storage root.
    Disk(std::path::PathBuf),
    /// Nothing can be written behind a memory store's back.
    Memory,
    /// A backend without a catalog (Athens' external storage protocol has none), so
    /// nothing is written behind its back either: the catalog tests check that it says
    /// so and stop.
    NoCatalog,
    /// MongoDB: nothing is written behind its back here; its catalog walks documents in
    /// `(module, version)` order. Holds the test database's removal.
    #[cfg(feature = "mongo")]
    Mongo { _drop: mongo_server::DropDatabase },
    #[cfg(feature = "s3")]
    Object(
        Arc<dyn object_store::ObjectStore>,
        agora_storage::object::Layout,
    ),
}

impl Fixture {
    /// Writes `key` (a path under the disk root, or an object key) directly.
    async fn put_raw(&self, key: &str, body: &[u8]) {
        match &self.raw {
            Raw::Disk(root) => {
                let path = root.join(key);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, body).unwrap();
            }
            Raw::Memory => {}
            Raw::NoCatalog => {}
            #[cfg(feature = "mongo")]
            Raw::Mongo { .. } => {}
            #[cfg(feature = "s3")]
            Raw::Object(store, _) => {
                use object_store::ObjectStoreExt;
                store
                    .put(
                        &object_store::path::Path::parse(key).unwrap(),
                        object_store::PutPayload::from(body.to_vec()),
                    )
                    .await
                    .unwrap();
            }
        }
    }

    /// The keys of `module@version` without its commit marker: a crashed writer's
    /// leftovers (or a claim and a zip, on object stores).
    fn partial_keys(&self, module: &str, version: &str) -> Vec<String> {
        match &self.raw {
            Raw::Disk(_) => vec![
                format!("{module}/{version}/go.mod"),
                format!("{module}/{version}/source.zip"),
            ],
            Raw::Memory => vec![],
            Raw::NoCatalog => vec![],
            #[cfg(feature = "mongo")]
            Raw::Mongo { .. } => vec![],
            #[cfg(feature = "s3")]
            Raw::Object(_, agora_storage::object::Layout::S3) => vec![
                format!("{module}/@v/{version}.mod"),
                format!("{module}/@v/{version}.zip"),
            ],
            #[cfg(feature = "s3")]
            Raw::Object(_, agora_storage::object::Layout::Minio) => vec![
                format!("{module}/{version}/go.mod"),
                format!("{module}/{version}/source.zip"),
            ],
        }
    }

    /// Stores `versions` of `module`, complete, as fast as the backend allows: behind
    /// its back where a raw client exists (the commit marker is what makes a version on
    /// object stores; the three files on disk), many puts at once otherwise.
    async fn store_many(&self, module: &str, versions: &[String]) {
        use futures_util::StreamExt;
        match &self.raw {
            Raw::Disk(root) => {
                for ver in versions {
                    let dir = root.join(module).join(ver);
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(dir.join("go.mod"), format!("module {module}\n")).unwrap();
                    std::fs::write(dir.join("source.zip"), b"z").unwrap();
                    std::fs::write(dir.join(format!("{ver}.info")), b"{}").unwrap();
                }
            }
            #[cfg(feature = "s3")]
            Raw::Object(store, layout) => {
                use object_store::ObjectStoreExt;
                futures_util::stream::iter(versions)
                    .for_each_concurrent(RAW_WRITERS, |ver| async move {
                        let key = match layout {
                            agora_storage::object::Layout::S3 => format!("{module}/@v/{ver}.info"),
                            agora_storage::object::Layout::Minio => {
                                format!("{module}/{ver}/{ver}.info")
                            }
                        };
                        store
                            .put(
                                &object_store::path::Path::parse(&key).unwrap(),
                                object_store::PutPayload::from_static(b"{}"),
                            )
                            .await
                            .unwrap();
                    })
                    .await;
            }
            _ => {
                futures_util::stream::iter(versions)
                    .for_each_concurrent(16, |ver| async move {
                        let name = format!("{}@{ver}", module.replace('/', "_"));
                        let nv = new_version(self.dir.path(), &name, b"z", ver);
                        self.storage.put(&m(module), &v(ver), nv).await.unwrap();
                    })
                    .await;
            }
        }
    }

    /// Keys that are not stored versions: scratch space, locks, Athens' temporary parts
    /// and lock blobs, markers with the wrong name, an invalid module path.
    fn junk_keys(&self) -> Vec<&'static str> {
        match &self.raw {
            Raw::Disk(_) => vec![
                ".agora-tmp/1-0-1/go.mod",
                ".agora-tmp/1-0-1.info",
                ".agora-tmp/locks/0001.lock",
                ".hidden/v1.0.0/v1.0.0.info",
                "junk.test/x/v1.0.0/other.info",
                "junk.test/readme.info",
                "-bad.test/v1.0.0/v1.0.0.info",
            ],
            Raw::Memory => vec![],
            Raw::NoCatalog => vec![],
            #[cfg(feature = "mongo")]
            Raw::Mongo { .. } => vec![],
            #[cfg(feature = "s3")]
            Raw::Object(_, agora_storage::object::Layout::S3) => vec![
                ".agora-ready-probe",
                "lease/a.test/b@v1.0.0",
                "a.test/b/@v/list",
                "a.test/b/@v/sub/v9.0.0.info",
                "a.test/b/@v/v1.0.0.info.tmp",
                "junk.test/@v/.info",
                "-bad.test/@v/v1.0.0.info",
            ],
            #[cfg(feature = "s3")]
            Raw::Object(_, agora_storage::object::Layout::Minio) => vec![
                ".agora-ready-probe",
                "lease/a.test/b@v1.0.0",
                "parts/a.test/b/v1.0.0/1",
                "a.test/b/v3.0.0/other.info",
                "v1.0.0/v1.0.0.info",
                "-bad.test/v1.0.0/v1.0.0.info",
            ],
        }
    }

    /// The documented catalog order: path elements on disk and in memory, the `.info`
    /// key's bytes on object stores.
    fn catalog_order(&self, module: &str, version: &str) -> Vec<String> {
        match &self.raw {
            Raw::Disk(_) | Raw::Memory => module
                .split('/')
                .chain([version])
                .map(str::to_owned)
                .collect(),
            Raw::NoCatalog => vec![],
            #[cfg(feature = "mongo")]
            Raw::Mongo { .. } => vec![module.to_owned(), version.to_owned()],
            #[cfg(feature = "s3")]
            Raw::Object(_, agora_storage::object::Layout::S3) => {
                vec![format!("{module}/@v/{version}.info")]
            }
            #[cfg(feature = "s3")]
            Raw::Object(_, agora_storage::object::Layout::Minio) => {
                vec![format!("{module}/{version}/{version}.info")]
            }
        }
    }
}

fn disk() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let storage = DiskStorage::open(&root).unwrap();
    Fixture {
        backend: "",
        storage: Arc::new(storage),
        dir,
        raw: Raw::Disk(root),
        listing_page: DEFAULT_LISTING_PAGE,
    }
}

fn memory() -> Fixture {
    Fixture {
        backend: "",
        storage: Arc::new(MemoryStorage::new()),
        dir: tempfile::tempdir().unwrap(),
        raw: Raw::Memory,
        listing_page: DEFAULT_LISTING_PAGE,
    }
}

type Entry = (String, String);

/// Walks the whole catalog `page_size` entries at a time, checking each page's shape.
async fn walk_catalog(s: &dyn Storage, page_size: usize) -> Vec<Entry> {
    let mut all = Vec::new();
    let mut token = String::new();
    for _ in 0..1000 {
        let page = s.catalog(&token, page_size).await.unwrap();
        assert!(page.versions.len() <= page_size, "page over {page_size}");
        all.extend(
            page.versions
                .iter()
                .map(|(m, v)| (m.as_str().to_owned(), v.as_str().to_owned())),
        );
        match page.next {
            Some(next) => {
                assert_eq!(
                    page.versions.len(),
                    page_size,
                    "a short page with a next token"
                );
                token = next;
            }
            None => return all,
        }
    }
    panic!("the catalog never ended");
}

/// Modules whose paths are prefixes of each other's, a module next to its own nested
/// modules, case, +incompatible, a pseudo-version, and versions that repeat across
/// modules (Athens' fs catalog loses those across a page boundary).
const CATALOG: &[(&str, &str)] = &[
    ("a.test", "v1.0.0"),
    ("a.test/b", "v1.0.0"),
    ("a.test/b", "v1.1.0"),
    ("a.test/b", "v1.10.0"),
    ("a.test/b", "v1.2.0"),
    ("a.test/b-c", "v0.1.0"),
    ("a.test/b-c", "v1.0.0"),
    ("a.test/b/sub", "v0.1.0"),
    ("a.test/b/v2", "v2.0.0"),
    ("a.test/b/v2", "v2.1.0-pre"),
    ("m.test/Upper", "v2.0.0+incompatible"),
    ("m.test/x", "v0.0.0-20200101000000-abcdefabcdef"),
    ("m.test/x", "v1.0.0"),
    ("z.test/last", "v1.0.0"),
];

/// Stores [`CATALOG`], plus incomplete versions and junk behind the backend's back.
/// True for a backend without a catalog (external storage, as in Athens), after
/// checking that it answers `Unsupported` (501 at the endpoint) rather than an empty page.
async fn catalog_unsupported(f: &Fixture) -> bool {
    if matches!(f.raw, Raw::NoCatalog) {
        let err = f.storage.catalog("", 10).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        return true;
    }
    false
}

async fn fill_catalog(f: &Fixture) -> Vec<Entry> {
    for (p, ver) in CATALOG {
        f.storage
            .put(
                &m(p),
                &v(ver),
                new_version(
                    f.dir.path(),
                    &format!("{p}@{ver}").replace('/', "_"),
                    b"z",
                    ver,
                ),
            )
            .await
            .unwrap();
    }
    for (p, ver) in [
        ("a.test/b", "v1.3.0"),
        ("n.test/partial", "v1.0.0"),
        ("a.test/b-c", "v0.0.1"),
    ] {
        for key in f.partial_keys(p, ver) {
            f.put_raw(&key, b"partial").await;
        }
        assert!(
            !f.storage.exists(&m(p), &v(ver)).await.unwrap(),
            "{p}@{ver}"
        );
    }
    for key in f.junk_keys() {
        f.put_raw(key, b"{}").await;
    }
    let mut want: Vec<Entry> = CATALOG
        .iter()
        .map(|(p, ver)| ((*p).to_owned(), (*ver).to_owned()))
        .collect();
    want.sort_by_key(|(p, ver)| f.catalog_order(p, ver));
    want
}

fn m(p: &str) -> ModulePath {
    ModulePath::new(p).unwrap()
}

fn v(s: &str) -> Version {
    Version::from_trusted(s)
}

fn new_version(dir: &Path, name: &str, zip: &[u8], version: &str) -> NewVersion {
    let path = dir.join(format!("{name}.zip"));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(zip)
        .unwrap();
    NewVersion {
        info: Bytes::from(format!(
            "{{\"Version\":\"{version}\",\"Time\":\"2024-01-01T00:00:00Z\"}}"
        )),
        go_mod: Bytes::from(format!("module {name}\n")),
        zip: path,
    }
}

async fn read_zip(
    s: &dyn Storage,
    module: &ModulePath,
    version: &Version,
    range: Option<std::ops::Range<u64>>,
) -> Vec<u8> {
    let z = s.zip(module, version).await.unwrap();
    let r = range.unwrap_or(0..z.size);
    let chunks: Vec<Bytes> = z.stream(r).await.unwrap().try_collect().await.unwrap();
    chunks.concat()
}

/// Tests that allocate tens of MiB take turns with the 200 MiB tests, whose peak-RSS
/// measurement is process-wide.
static MEMORY_HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where object stores cut a zip into parts (their reads must splice parts back).
#[cfg(feature = "s3")]
const PART: u64 = agora_storage::object::PART_SIZE as u64;
#[cfg(not(feature = "s3"))]
const PART: u64 = 8 << 20;

fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Writes a `size`-byte zip whose every 4 KiB block starts with its own offset, so a
/// part that comes back misplaced, twice or not at all cannot compare equal.
fn write_big_zip(path: &Path, size: u64) {
    let mut pattern = vec![0u8; 1 << 20];
    for (i, b) in pattern.iter_mut().enumerate() {
        *b = ((i as u64).wrapping_mul(2_654_435_761) >> 13) as u8;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut chunk = pattern.clone();
    let mut offset = 0u64;
    while offset < size {
        for (j, block) in chunk.chunks_mut(4096).enumerate() {
            block[..8].copy_from_slice(&(offset + (j as u64) * 4096).to_le_bytes());
        }
        let n = (size - offset).min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).unwrap();
        offset += n as u64;
    }
    f.flush().unwrap();
}

/// Reads `range` of the stored zip as a stream and compares it, chunk by chunk, with the
/// same bytes of `want` (holding no more of `want` than 1 MiB).
async fn compare_zip_stream(
    s: &dyn Storage,
    module: &ModulePath,
    version: &Version,
    want: &mut std::fs::File,
    range: std::ops::Range<u64>,
) {
    use futures_util::StreamExt;
    use std::io::{Read, Seek};
    want.seek(std::io::SeekFrom::Start(range.start)).unwrap();
    let z = s.zip(module, version).await.unwrap();
    let mut stream = z.stream(range.clone()).await.unwrap();
    let mut offset = range.start;
    let mut expected = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert!(
            offset + chunk.len() as u64 <= range.end,
            "more than {range:?} came back"
        );
        // A chunk may be the whole zip (the memory backend hands out its own bytes), so
        // the file is read 1 MiB at a time, not a chunk at a time.
        for piece in chunk.chunks(1 << 20) {
            expected.resize(piece.len(), 0);
            want.read_exact(&mut expected).unwrap();
            assert!(
                piece == &expected[..],
                "the bytes at {offset}..{} differ",
                offset + piece.len() as u64
            );
            offset += piece.len() as u64;
        }
    }
    assert_eq!(offset, range.end, "the stream of {range:?} ended early");
}

/// A 200 MiB zip goes in through `put` from its file and comes back as a stream (whole,
/// and in ranges across part boundaries), byte for byte. The test process's peak RSS
/// grows by well under 100 MiB (issue 4's bound), except on the memory backend, which
/// holds zips in memory by design: there it grows by the zip once, and no more.
async fn big_zip_round_trip(f: &Fixture, backend: &str) {
    const SIZE: u64 = 200 << 20;
    const BOUND_MIB: u64 = 64;
    let _turn = MEMORY_HEAVY.lock().await;
    let path = f.dir.path().join("big.zip");
    write_big_zip(&path, SIZE);
    // Opened before the put: a backend may move the file (NewVersion says so).
    let mut want = std::fs::File::open(&path).unwrap();
    // Reset the peak-RSS mark so that only what follows counts.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let base = proc_status_kib("VmRSS:");

    let (md, ver) = (m("example.com/big"), v("v1.0.0"));
    let nv = NewVersion {
        info: Bytes::from_static(b"{\"Version\":\"v1.0.0\"}"),
        go_mod: Bytes::from_static(b"module example.com/big\n"),
        zip: path.clone(),
    };
    let started = std::time::Instant::now();
    f.storage.put(&md, &ver, nv).await.unwrap();
    let stored = started.elapsed();

    let started = std::time::Instant::now();
    assert_eq!(f.storage.zip(&md, &ver).await.unwrap().size, SIZE);
    compare_zip_stream(&*f.storage, &md, &ver, &mut want, 0..SIZE).await;
    let read = started.elapsed();
    // Across an object store's part boundary, MongoDB's 255 KiB chunks, and the end.
    for r in [
        PART - 10..PART + 10,
        3 * PART - 1..3 * PART + 261_121,
        SIZE - 5000..SIZE,
    ] {
        compare_zip_stream(&*f.storage, &md, &ver, &mut want, r).await;
    }

    let grown_mib = proc_status_kib("VmHWM:").saturating_sub(base) / 1024;
    eprintln!(
        "{backend}: 200 MiB zip stored in {stored:.1?}, read back in {read:.1?}; \
         peak RSS grew by {grown_mib} MiB"
    );
    if matches!(f.raw, Raw::Memory) {
        let bound = (SIZE >> 20) + BOUND_MIB;
        assert!(grown_mib < bound, "peak RSS grew by {grown_mib} MiB");
    } else {
        assert!(grown_mib < BOUND_MIB, "peak RSS grew by {grown_mib} MiB");
    }
    // Object stores read the caller's file and leave it in place.
    #[cfg(feature = "s3")]
    if matches!(f.raw, Raw::Object(..)) {
        assert_eq!(std::fs::metadata(&path).unwrap().len(), SIZE);
    }
}

/// Lists a module of more versions than one listing call of the backend's service
/// returns, among incomplete versions and neighbouring modules, then walks the catalog
/// over it in pages of several sizes.
async fn listing_past_one_page(f: &Fixture, backend: &str) {
    use futures_util::StreamExt;
    // Incomplete versions (claims, or go.mod without the marker on disk) whose keys sort
    // among the complete ones' (`v1.0.1005` between `v1.0.1004` and `v1.0.101`): the
    // pages carry them, the answers must not.
    const CLAIMS: usize = 600;
    let n = f.listing_page + 5;
    let md = "example.com/many";
    let versions: Vec<String> = (0..n).map(|i| format!("v1.0.{i}")).collect();
    let started = std::time::Instant::now();
    f.store_many(md, &versions).await;
    let claims: Vec<String> = (0..CLAIMS)
        .flat_map(|i| {
            f.partial_keys(md, &format!("v1.0.{}", n + i))
                .into_iter()
                .take(1)
        })
        .collect();
    futures_util::stream::iter(&claims)
        .for_each_concurrent(RAW_WRITERS, |k| f.put_raw(k, b"partial"))
        .await;
    // Modules whose keys sort next to the big one's on either side.
    let neighbours = [
        ("example.com/many-more", "v1.0.0"),
        ("example.com/many/v2", "v2.0.0"),
    ];
    for (p, ver) in neighbours {
        f.storage
            .put(
                &m(p),
                &v(ver),
                new_version(f.dir.path(), &p.replace('/', "_"), b"z", ver),
            )
            .await
            .unwrap();
    }
    let filled = started.elapsed();

    let started = std::time::Instant::now();
    let mut listed = f.storage.list(&m(md)).await.unwrap();
    listed.sort();
    let mut want_list = versions.clone();
    want_list.sort();
    assert_eq!(listed, want_list);
    let listing = started.elapsed();

    let started = std::time::Instant::now();
    if !catalog_unsupported(f).await {
        let mut want: Vec<Entry> = versions
            .iter()
            .map(|ver| (md.to_owned(), ver.clone()))
            .chain(
                neighbours
                    .iter()
                    .map(|(p, ver)| ((*p).to_owned(), (*ver).to_owned())),
            )
            .collect();
        want.sort_by_key(|(p, ver)| f.catalog_order(p, ver));
        // One page over more than one listing page, pages of exactly a listing page,
        // and pages whose tokens fall at other places.
        for size in [want.len() + 1, f.listing_page, 999] {
            assert_eq!(
                walk_catalog(&*f.storage, size).await,
                want,
                "pages of {size}"
            );
        }
    }
    eprintln!(
        "{backend}: {n} versions and {CLAIMS} claims stored in {filled:.1?}, \
         listed in {listing:.1?}, catalog walked three times in {:.1?}",
        started.elapsed()
    );
}

/// A fixture, or `None` for a backend whose service is not configured here (its tests
/// then return at once, after the fixture has said so on the terminal).
trait Gate {
    fn open(self) -> Option<Fixture>;
}

impl Gate for Fixture {
    fn open(self) -> Option<Fixture> {
        Some(self)
    }
}

impl Gate for Option<Fixture> {
    fn open(self) -> Option<Fixture> {
        self
    }
}

/// One `#[tokio::test]` named `$test` that calls the plain function `$test` of the
/// enclosing module with a fresh fixture of `$backend` (`multi_thread`: on a runtime of
/// two workers), or returns at once when the backend's service is not configured here.
macro_rules! wrap {
    ($backend:ident, $test:ident) => {
        #[tokio::test]
        async fn $test() {
            if let Some(mut f) = super::Gate::open(super::$backend()) {
                f.backend = stringify!($backend);
                super::$test(f).await;
            }
        }
    };
    ($backend:ident, $test:ident, multi_thread) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            if let Some(mut f) = super::Gate::open(super::$backend()) {
                f.backend = stringify!($backend);
                super::$test(f).await;
            }
        }
    };
}

// The suite: every backend passes each of these.

async fn absent_module_and_version(f: Fixture) {
    let (md, ver) = (m("example.com/absent"), v("v1.0.0"));
    assert!(f.storage.list(&md).await.unwrap().is_empty());
    assert!(!f.storage.exists(&md, &ver).await.unwrap());
    assert_eq!(
        f.storage.info(&md, &ver).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        f.storage.go_mod(&md, &ver).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        f.storage.zip(&md, &ver).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        f.storage.delete(&md, &ver).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

async fn put_then_read_back(f: Fixture) {
    let (md, ver) = (m("example.com/a"), v("v1.2.3"));
    let zip: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let nv = new_version(
        f.dir.path(),
        "example.com/a".replace('/', "_").as_str(),
        &zip,
        "v1.2.3",
    );
    let info = nv.info.clone();
    let go_mod = nv.go_mod.clone();
    f.storage.put(&md, &ver, nv).await.unwrap();
    assert!(f.storage.exists(&md, &ver).await.unwrap());
    assert_eq!(f.storage.info(&md, &ver).await.unwrap(), info);
    assert_eq!(f.storage.go_mod(&md, &ver).await.unwrap(), go_mod);
    assert_eq!(read_zip(&*f.storage, &md, &ver, None).await, zip);
    assert_eq!(
        read_zip(&*f.storage, &md, &ver, Some(100..300_000)).await,
        zip[100..300_000]
    );
    assert_eq!(
        read_zip(&*f.storage, &md, &ver, Some(699_999..700_000)).await,
        zip[699_999..]
    );
    assert_eq!(
        f.storage.list(&md).await.unwrap(),
        vec!["v1.2.3".to_string()]
    );
}

async fn put_is_create_only(f: Fixture) {
    let (md, ver) = (m("example.com/once"), v("v1.0.0"));
    f.storage
        .put(
            &md,
            &ver,
            new_version(f.dir.path(), "first", b"first zip", "v1.0.0"),
        )
        .await
        .unwrap();
    let err = f
        .storage
        .put(
            &md,
            &ver,
            new_version(f.dir.path(), "second", b"second zip, longer", "v1.0.0"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(read_zip(&*f.storage, &md, &ver, None).await, b"first zip");
    assert_eq!(f.storage.go_mod(&md, &ver).await.unwrap(), "module first\n");
}

async fn listing_is_isolated_by_module_path(f: Fixture) {
    for (p, ver) in [
        ("a.test/b", "v1.0.0"),
        ("a.test/b-c", "v1.1.0"),
        ("a.test/b/v2", "v2.0.0"),
        ("a.test/b/sub", "v0.1.0"),
    ] {
        f.storage
            .put(
                &m(p),
                &v(ver),
                new_version(f.dir.path(), &p.replace('/', "_"), b"z", ver),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        f.storage.list(&m("a.test/b")).await.unwrap(),
        vec!["v1.0.0".to_string()]
    );
    assert_eq!(
        f.storage.list(&m("a.test/b-c")).await.unwrap(),
        vec!["v1.1.0".to_string()]
    );
    assert_eq!(
        f.storage.list(&m("a.test/b/v2")).await.unwrap(),
        vec!["v2.0.0".to_string()]
    );
    assert!(f.storage.list(&m("a.test")).await.unwrap().is_empty());
}

async fn case_and_incompatible_versions_are_kept_distinct(f: Fixture) {
    let upper = m("example.com/Azure/SDK");
    let lower = m("example.com/azure/sdk");
    f.storage
        .put(
            &upper,
            &v("v2.0.0+incompatible"),
            new_version(f.dir.path(), "u", b"upper", "v2.0.0+incompatible"),
        )
        .await
        .unwrap();
    f.storage
        .put(
            &lower,
            &v("v1.0.0-RC1"),
            new_version(f.dir.path(), "l", b"lower", "v1.0.0-RC1"),
        )
        .await
        .unwrap();
    assert_eq!(
        f.storage.list(&upper).await.unwrap(),
        vec!["v2.0.0+incompatible".to_string()]
    );
    assert_eq!(
        f.storage.list(&lower).await.unwrap(),
        vec!["v1.0.0-RC1".to_string()]
    );
    assert_eq!(
        read_zip(&*f.storage, &upper, &v("v2.0.0+incompatible"), None).await,
        b"upper"
    );
}

async fn delete_removes_a_version(f: Fixture) {
    let (md, ver) = (m("example.com/del"), v("v1.0.0"));
    let other = v("v1.1.0");
    f.storage
        .put(&md, &ver, new_version(f.dir.path(), "d", b"z", "v1.0.0"))
        .await
        .unwrap();
    f.storage
        .put(&md, &other, new_version(f.dir.path(), "d2", b"y", "v1.1.0"))
        .await
        .unwrap();
    f.storage.delete(&md, &ver).await.unwrap();
    assert!(!f.storage.exists(&md, &ver).await.unwrap());
    assert_eq!(
        f.storage.info(&md, &ver).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // `agora delete` takes one version down; its neighbour stays, in list and catalog.
    assert_eq!(f.storage.list(&md).await.unwrap(), ["v1.1.0"]);
    assert!(f.storage.exists(&md, &other).await.unwrap());
    if !catalog_unsupported(&f).await {
        let page = f.storage.catalog("", 100).await.unwrap();
        let listed: Vec<String> = page
            .versions
            .iter()
            .filter(|(pm, _)| pm == &md)
            .map(|(_, pv)| pv.as_str().to_owned())
            .collect();
        assert_eq!(listed, ["v1.1.0"]);
    }
    // The deleted version can be stored again (a corrected re-import).
    f.storage
        .put(&md, &ver, new_version(f.dir.path(), "d3", b"x", "v1.0.0"))
        .await
        .unwrap();
    assert!(f.storage.exists(&md, &ver).await.unwrap());
}

async fn zip_of_200_mib_streams_both_ways(f: Fixture) {
    big_zip_round_trip(&f, f.backend).await;
}

async fn lists_and_catalogs_past_one_listing_page(f: Fixture) {
    listing_past_one_page(&f, f.backend).await;
}

async fn ready_when_usable(f: Fixture) {
    f.storage.ready().await.unwrap();
}

async fn catalog_of_an_empty_store_is_one_empty_page(f: Fixture) {
    if catalog_unsupported(&f).await {
        return;
    }
    let page = f.storage.catalog("", 10).await.unwrap();
    assert!(page.versions.is_empty(), "{page:?}");
    assert_eq!(page.next, None);
}

async fn catalog_lists_present_versions_in_order_across_pages(f: Fixture) {
    if catalog_unsupported(&f).await {
        return;
    }
    let want = fill_catalog(&f).await;
    let whole = walk_catalog(&*f.storage, 1000).await;
    assert_eq!(whole, want, "one page, in the backend's documented order");
    for size in [1, 2, 3, 5, want.len() - 1, want.len(), want.len() + 1] {
        assert_eq!(
            walk_catalog(&*f.storage, size).await,
            want,
            "pages of {size}"
        );
    }
}

async fn catalog_token_names_a_position_not_an_object(f: Fixture) {
    if catalog_unsupported(&f).await {
        return;
    }
    let want = fill_catalog(&f).await;
    let first = f.storage.catalog("", 4).await.unwrap();
    let next = first.next.clone().unwrap();
    let (last_m, last_v) = first.versions.last().unwrap().clone();
    assert_eq!(next, format!("{}|{}", last_m.as_str(), last_v.as_str()));
    // The version the token names goes away, a later one is added: the walk
    // goes on right after the position, and finds the addition.
    f.storage.delete(&last_m, &last_v).await.unwrap();
    f.storage
        .put(
            &m("zz.test/new"),
            &v("v1.0.0"),
            new_version(f.dir.path(), "new", b"n", "v1.0.0"),
        )
        .await
        .unwrap();
    let mut rest = Vec::new();
    let mut token = next;
    for round in 0.. {
        assert!(round < 100, "the catalog never ended");
        let page = f.storage.catalog(&token, 3).await.unwrap();
        rest.extend(
            page.versions
                .iter()
                .map(|(m, v)| (m.as_str().to_owned(), v.as_str().to_owned())),
        );
        match page.next {
            Some(n) => token = n,
            None => break,
        }
    }
    let mut expect: Vec<Entry> = want[4..].to_vec();
    expect.push(("zz.test/new".to_owned(), "v1.0.0".to_owned()));
    expect.sort_by_key(|(p, ver)| f.catalog_order(p, ver));
    assert_eq!(rest, expect);
}

async fn catalog_rejects_bad_tokens_and_page_sizes(f: Fixture) {
    if catalog_unsupported(&f).await {
        return;
    }
    let want = fill_catalog(&f).await;
    for token in [
        "no-separator",
        "|v1.0.0",
        "a.test/b|",
        "-bad.test|v1.0.0",
        "a.test/b|v2.0.0 incompatible",
        "a.test/b|x/y",
        "a.test//b|v1.0.0",
    ] {
        let err = f.storage.catalog(token, 10).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{token:?}: {err}");
    }
    let err = f.storage.catalog("", 0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    // A well-formed token need not name a stored version.
    let page = f.storage.catalog("a.test/b|v1.05", 1000).await.unwrap();
    let after: Vec<Entry> = want
        .into_iter()
        .filter(|(p, ver)| f.catalog_order(p, ver) > f.catalog_order("a.test/b", "v1.05"))
        .collect();
    let got: Vec<Entry> = page
        .versions
        .iter()
        .map(|(m, v)| (m.as_str().to_owned(), v.as_str().to_owned()))
        .collect();
    assert_eq!(got, after);
    assert!(!after.is_empty());
}

/// Blobs (checksum database tiles and records): create-only, outside the module space,
/// or `Unsupported` everywhere for a backend that keeps none.
async fn blobs_are_create_only(f: Fixture) {
    let key = "sumdb/test/tile/8/0/000";
    match f.storage.put_blob(key, Bytes::from_static(b"first")).await {
        Err(e) if e.kind() == ErrorKind::Unsupported => {
            let e = f.storage.get_blob(key).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported);
            return;
        }
        r => r.unwrap(),
    }
    assert_eq!(f.storage.get_blob(key).await.unwrap(), "first");
    let e = f
        .storage
        .put_blob(key, Bytes::from_static(b"second"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    assert_eq!(f.storage.get_blob(key).await.unwrap(), "first");
    let e = f.storage.get_blob("sumdb/test/absent").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    for bad in ["", "../x", "a//b", "a/./b", "a b", "/abs"] {
        let e = f.storage.get_blob(bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}: {e}");
    }
    // Blobs are not versions.
    let page = f.storage.catalog("", 100).await;
    if let Ok(page) = page {
        assert!(page.versions.is_empty(), "{:?}", page.versions);
    }
}

/// Sixteen writers of one blob key: exactly one creates it.
async fn racing_blob_puts_create_exactly_one(f: Fixture) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = f.storage.clone();
        tasks.push(tokio::spawn(async move {
            s.put_blob("psumdb/race/record/0", Bytes::from(format!("writer {i}")))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) if e.kind() == ErrorKind::Unsupported => return,
            Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}"),
        }
    }
    assert_eq!(ok, 1);
}

/// The suite's tests for each backend named, in a module of the backend's name.
macro_rules! suite {
    ($($backend:ident),*) => {$(
        mod $backend {
            wrap!($backend, absent_module_and_version);
            wrap!($backend, put_then_read_back);
            wrap!($backend, put_is_create_only);
            wrap!($backend, listing_is_isolated_by_module_path);
            wrap!($backend, case_and_incompatible_versions_are_kept_distinct);
            wrap!($backend, delete_removes_a_version);
            wrap!($backend, zip_of_200_mib_streams_both_ways, multi_thread);
            wrap!($backend, lists_and_catalogs_past_one_listing_page, multi_thread);
            wrap!($backend, ready_when_usable);
            wrap!($backend, catalog_of_an_empty_store_is_one_empty_page);
            wrap!($backend, catalog_lists_present_versions_in_order_across_pages);
            wrap!($backend, catalog_token_names_a_position_not_an_object);
            wrap!($backend, catalog_rejects_bad_tokens_and_page_sizes);
            wrap!($backend, blobs_are_create_only);
        }
    )*};
}

/// The create-only race, for every backend whose server enforces create-only writes.
/// Not for `gcs`: gcp-storage-emulator ignores `ifGenerationMatch=0` (it never answers
/// 412), so two writers that both find the version absent both "create" the claim, and
/// no client can make that race come out right against it. agora does send the
/// precondition (`gcs_backend::create_only_writes_carry_if_generation_match_0` checks it
/// on the wire), and real GCS enforces it. See docs/storage/gcs.md.
async fn racing_puts_store_exactly_one(f: Fixture) {
    let (md, ver) = (m("example.com/race"), v("v0.1.0"));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let nv = new_version(
            f.dir.path(),
            &format!("w{i}"),
            format!("zip from writer {i}").as_bytes(),
            "v0.1.0",
        );
        let s = f.storage.clone();
        let (md, ver) = (md.clone(), ver.clone());
        tasks.push(tokio::spawn(async move { s.put(&md, &ver, nv).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}"),
        }
    }
    assert_eq!(ok, 1);
    // Whichever writer won, its three files belong together.
    let go_mod = f.storage.go_mod(&md, &ver).await.unwrap();
    let winner = std::str::from_utf8(&go_mod)
        .unwrap()
        .trim()
        .trim_start_matches("module ")
        .to_string();
    let zip = read_zip(&*f.storage, &md, &ver, None).await;
    assert_eq!(
        zip,
        format!("zip from writer {}", winner.trim_start_matches('w')).into_bytes()
    );
}

/// The create-only race for each backend named (see [`racing_puts_store_exactly_one`]).
macro_rules! race_suite {
    ($($backend:ident),*) => {$(
        mod $backend {
            wrap!($backend, racing_puts_store_exactly_one, multi_thread);
            wrap!($backend, racing_blob_puts_create_exactly_one, multi_thread);
        }
    )*};
}

suite!(disk, memory);
#[cfg(feature = "s3")]
suite!(s3, minio);
#[cfg(feature = "azure")]
suite!(azure);
#[cfg(feature = "gcs")]
suite!(gcs);
#[cfg(feature = "external")]
suite!(external, external_athens);
#[cfg(feature = "mongo")]
suite!(mongo);

/// A MongoDB backend on a fresh database of the server at `AGORA_TEST_MONGODB_URL`, or of
/// a SecantusDB server the test binary starts on loopback when the variable is unset.
#[cfg(feature = "mongo")]
fn mongo() -> Fixture {
    let (storage, config) = mongo_server::storage();
    Fixture {
        backend: "",
        storage: Arc::new(storage),
        dir: tempfile::tempdir().unwrap(),
        raw: Raw::Mongo {
            _drop: mongo_server::DropDatabase(config),
        },
        listing_page: DEFAULT_LISTING_PAGE,
    }
}

#[cfg(feature = "mongo")]
mod mongo_server {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use agora_storage::mongo::{MongoConfig, MongoStorage};
    use mongodb::options::ClientOptions;

    pub const VAR: &str = "AGORA_TEST_MONGODB_URL";

    /// The server URL: `AGORA_TEST_MONGODB_URL` when set (a real `mongod`), else the test
    /// binary's shared SecantusDB, started on first use (a test fails when it cannot
    /// start).
    pub fn url() -> String {
        match std::env::var(VAR) {
            Ok(url) if !url.is_empty() => url,
            _ => agora_testkit::mongo::shared_secantusdb().url(),
        }
    }

    /// A backend on a database no other test uses, and that database's name.
    pub fn storage() -> (MongoStorage, MongoConfig) {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let url = url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let config = MongoConfig {
            url,
            database: format!(
                "agora_test_{}_{nanos}_{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ),
            collection: "modules".to_owned(),
            cert_path: None,
            insecure: false,
            timeout: Duration::from_secs(10),
        };
        // Parsing may resolve `mongodb+srv` names, so it is async; the fixture is not.
        // The client itself is built on the test's runtime, which owns its tasks.
        let c = config.clone();
        let options: ClientOptions = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(MongoStorage::client_options(&c))
                .unwrap()
        })
        .join()
        .unwrap();
        (MongoStorage::new(options, &config).unwrap(), config)
    }

    /// Drops the test's database when the test ends, passed or failed. Best effort: a
    /// server that cannot be reached then keeps it.
    pub struct DropDatabase(pub MongoConfig);

    impl Drop for DropDatabase {
        fn drop(&mut self) {
            let config = self.0.clone();
            // A runtime of its own, on a thread of its own: this runs while the test's
            // runtime is shutting down or unwinding, where nothing can be awaited.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let options = MongoStorage::client_options(&config).await.ok()?;
                    let client = mongodb::Client::with_options(options).ok()?;
                    client.database(&config.database).drop().await.ok()
                })
            })
            .join();
        }
    }
}

mod race {
    use super::*;

    race_suite!(disk, memory);
    #[cfg(feature = "s3")]
    race_suite!(s3, minio);
    #[cfg(feature = "azure")]
    race_suite!(azure);
    #[cfg(feature = "external")]
    race_suite!(external, external_athens);
    #[cfg(feature = "mongo")]
    race_suite!(mongo);
}

#[cfg(feature = "gcs")]
use gcs_emulator::GcsService;

#[cfg(feature = "gcs")]
fn gcs() -> Fixture {
    let emu = gcs_emulator::shared();
    let (storage, bucket) = emu.storage();
    Fixture {
        backend: "",
        storage: Arc::new(storage),
        dir: tempfile::tempdir().unwrap(),
        raw: Raw::Object(emu.raw(&bucket), agora_storage::object::Layout::S3),
        // Real GCS pages at 1000 objects; gcp-storage-emulator has no pages at all (it
        // ignores maxResults and pageToken and answers every listing whole).
        listing_page: DEFAULT_LISTING_PAGE,
    }
}

/// An external-storage client of a fresh protocol server over a disk backend, served on
/// the test's own runtime (so it stops with the test).
#[cfg(feature = "external")]
fn external_fixture(dialect: agora_external_server::Dialect) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = external_server(dir.path(), dialect);
    Fixture {
        backend: "",
        storage: Arc::new(agora_storage::external::ExternalStorage::new(&url).unwrap()),
        dir,
        raw: Raw::NoCatalog,
        listing_page: DEFAULT_LISTING_PAGE,
    }
}

/// Starts a protocol server over `<dir>/server/root`; returns its URL and its storage.
#[cfg(feature = "external")]
fn external_server(dir: &Path, dialect: agora_external_server::Dialect) -> (String, DiskStorage) {
    let spool = dir.join("server/spool");
    std::fs::create_dir_all(&spool).unwrap();
    let disk = DiskStorage::open(dir.join("server/root")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    agora_external_server::spawn(
        listener,
        Arc::new(disk.clone()),
        agora_external_server::ServerOptions {
            spool_dir: spool,
            dialect,
        },
    )
    .unwrap();
    (format!("http://{addr}"), disk)
}

#[cfg(feature = "external")]
fn external() -> Fixture {
    external_fixture(agora_external_server::Dialect::Agora)
}

#[cfg(feature = "external")]
fn external_athens() -> Fixture {
    external_fixture(agora_external_server::Dialect::AthensReference)
}

#[cfg(feature = "azure")]
use azurite::AzureService;

#[cfg(feature = "azure")]
fn azure() -> Fixture {
    let az = azurite::shared();
    let (storage, container) = az.storage();
    let raw = object_store::azure::MicrosoftAzureBuilder::new()
        .with_account(agora_storage::object::AZURITE_ACCOUNT)
        .with_access_key(agora_storage::object::AZURITE_KEY)
        .with_container_name(&container)
        .with_endpoint(az.endpoint())
        .with_allow_http(true)
        .build()
        .unwrap();
    Fixture {
        backend: "",
        storage: Arc::new(storage),
        dir: tempfile::tempdir().unwrap(),
        raw: Raw::Object(Arc::new(raw), agora_storage::object::Layout::S3),
        // Azure's List Blobs default (and maximum) maxresults, which Azurite follows;
        // object_store sends none.
        listing_page: 5000,
    }
}

#[cfg(feature = "s3")]
use moto::S3Service;

#[cfg(feature = "s3")]
fn s3() -> Fixture {
    moto::fixture(agora_storage::object::Layout::S3)
}

#[cfg(feature = "s3")]
fn minio() -> Fixture {
    moto::fixture(agora_storage::object::Layout::Minio)
}

/// MongoDB-only behaviour (Athens' documents and GridFS files, written and read by a raw
/// client), against the same server as the suite's `mongo` variant.
#[cfg(feature = "mongo")]
mod mongo_layout {
    use super::*;
    use agora_storage::mongo::{MongoConfig, MongoStorage, zip_filename};
    use mongodb::bson::spec::BinarySubtype;
    use mongodb::bson::{Binary, Bson, Document, doc};

    async fn raw(config: &MongoConfig) -> mongodb::Database {
        let options = MongoStorage::client_options(config).await.unwrap();
        mongodb::Client::with_options(options)
            .unwrap()
            .database(&config.database)
    }

    /// Uploads a GridFS file by name only, as Athens does.
    async fn upload_by_name(db: &mongodb::Database, filename: &str, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        use tokio_util::compat::FuturesAsyncWriteCompatExt;
        let up = db
            .gridfs_bucket(None)
            .open_upload_stream(filename)
            .await
            .unwrap();
        let mut w = up.compat_write();
        w.write_all(bytes).await.unwrap();
        w.shutdown().await.unwrap();
    }

    fn bin(b: &[u8]) -> Binary {
        Binary {
            subtype: BinarySubtype::Generic,
            bytes: b.to_vec(),
        }
    }

    /// Stores a version the way Athens does: a GridFS file by name, then the document.
    async fn athens_save(db: &mongodb::Database, module: &str, version: &str, zip: &[u8]) {
        upload_by_name(db, &zip_filename(module, version), zip).await;
        db.collection::<Document>("modules")
            .insert_one(doc! {"module": module, "version": version, "mod": bin(b"module athens\n"), "info": bin(b"{}")})
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn writes_athens_documents_and_gridfs_files() {
        let (s, config) = super::mongo_server::storage();
        let _drop = super::mongo_server::DropDatabase(config.clone());
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/a/b"), v("v1.0.0"));
        s.put(
            &md,
            &ver,
            new_version(dir.path(), "ab", b"the zip", "v1.0.0"),
        )
        .await
        .unwrap();
        let db = raw(&config).await;
        let d = db
            .collection::<Document>("modules")
            .find_one(doc! {})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.get_str("module").unwrap(), "example.com/a/b");
        assert_eq!(d.get_str("version").unwrap(), "v1.0.0");
        assert!(matches!(d.get("mod"), Some(Bson::Binary(b)) if b.bytes == b"module ab\n"));
        assert!(matches!(d.get("info"), Some(Bson::Binary(_))));
        let f = db
            .collection::<Document>("fs.files")
            .find_one(doc! {})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(f.get_str("filename").unwrap(), "example.com_a_b_v1.0.0.zip");
        assert_eq!(f.get("_id"), d.get("agora_zip_id"));
        let names: Vec<String> = db
            .collection::<Document>("modules")
            .list_index_names()
            .await
            .unwrap();
        assert!(
            names.iter().any(|n| n == "base_url_1_module_1_version_1"),
            "{names:?}"
        );
    }

    /// `(keys, unique, sparse)` of every index of `coll` but `_id`'s.
    async fn indexes(db: &mongodb::Database, coll: &str) -> Vec<(Document, bool, bool)> {
        use futures_util::TryStreamExt;
        let models: Vec<mongodb::IndexModel> = db
            .collection::<Document>(coll)
            .list_indexes()
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        models
            .into_iter()
            .filter(|i| i.keys != doc! {"_id": 1})
            .map(|i| {
                let o = i.options.unwrap_or_default();
                (i.keys, o.unique == Some(true), o.sparse == Some(true))
            })
            .collect()
    }

    #[tokio::test]
    async fn start_up_creates_athens_and_gridfs_indexes() {
        let (_, config) = super::mongo_server::storage();
        let _drop = super::mongo_server::DropDatabase(config.clone());
        // Nothing written yet: the indexes come from the constructor alone.
        let _s = MongoStorage::connect(&config).await.unwrap();
        let db = raw(&config).await;
        assert_eq!(
            indexes(&db, "modules").await,
            vec![(doc! {"base_url": 1, "module": 1, "version": 1}, true, true)]
        );
        assert_eq!(
            indexes(&db, "fs.files").await,
            vec![(doc! {"filename": 1, "uploadDate": 1}, false, false)]
        );
        assert_eq!(
            indexes(&db, "fs.chunks").await,
            vec![(doc! {"files_id": 1, "n": 1}, true, false)]
        );
    }

    #[tokio::test]
    async fn start_up_keeps_indexes_athens_or_the_driver_made() {
        let (_, config) = super::mongo_server::storage();
        let _drop = super::mongo_server::DropDatabase(config.clone());
        let db = raw(&config).await;
        // Athens' index, with its options in the order Athens' driver sends them, and the
        // non-unique chunks index the Rust driver creates on its own.
        db.run_command(doc! {
            "createIndexes": "modules",
            "indexes": [{"key": {"base_url": 1, "module": 1, "version": 1},
                         "name": "base_url_1_module_1_version_1",
                         "sparse": true, "unique": true}],
        })
        .await
        .unwrap();
        db.run_command(doc! {
            "createIndexes": "fs.chunks",
            "indexes": [{"key": {"files_id": 1, "n": 1}, "name": "files_id_1_n_1"}],
        })
        .await
        .unwrap();
        let s = MongoStorage::connect(&config).await.unwrap();
        s.ready().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/kept"), v("v1.0.0"));
        s.put(&md, &ver, new_version(dir.path(), "kept", b"zip", "v1.0.0"))
            .await
            .unwrap();
        assert_eq!(read_zip(&s, &md, &ver, None).await, b"zip");
        assert_eq!(
            indexes(&db, "fs.chunks").await,
            vec![(doc! {"files_id": 1, "n": 1}, false, false)]
        );
        assert_eq!(indexes(&db, "modules").await.len(), 1);
        assert_eq!(indexes(&db, "fs.files").await.len(), 1);
    }

    #[tokio::test]
    async fn serves_athens_data_and_resolves_filename_collisions() {
        let (s, config) = super::mongo_server::storage();
        let _drop = super::mongo_server::DropDatabase(config.clone());
        let db = raw(&config).await;
        athens_save(&db, "a.test/b_c", "v1.0.0", b"athens zip").await;
        // agora stores the colliding module: same filename, but found by id.
        let dir = tempfile::tempdir().unwrap();
        s.put(
            &m("a.test/b/c"),
            &v("v1.0.0"),
            new_version(dir.path(), "x", b"agora zip", "v1.0.0"),
        )
        .await
        .unwrap();
        assert_eq!(
            read_zip(&s, &m("a.test/b/c"), &v("v1.0.0"), None).await,
            b"agora zip"
        );
        // Athens' document has no file id: the newest file of that name not marked as
        // another module's is its zip.
        assert_eq!(
            read_zip(&s, &m("a.test/b_c"), &v("v1.0.0"), None).await,
            b"athens zip"
        );
        assert_eq!(
            s.go_mod(&m("a.test/b_c"), &v("v1.0.0")).await.unwrap(),
            "module athens\n"
        );
        assert_eq!(
            s.list(&m("a.test/b_c")).await.unwrap(),
            vec!["v1.0.0".to_string()]
        );
    }

    #[tokio::test]
    async fn incomplete_versions_are_absent_and_get_completed() {
        let (s, config) = super::mongo_server::storage();
        let _drop = super::mongo_server::DropDatabase(config.clone());
        let db = raw(&config).await;
        let dir = tempfile::tempdir().unwrap();
        // A crashed writer's GridFS file without a document.
        upload_by_name(&db, &zip_filename("example.com/o", "v1.0.0"), b"orphan").await;
        let (o, ver) = (m("example.com/o"), v("v1.0.0"));
        assert!(!s.exists(&o, &ver).await.unwrap());
        s.put(
            &o,
            &ver,
            new_version(dir.path(), "o", b"complete", "v1.0.0"),
        )
        .await
        .unwrap();
        assert_eq!(read_zip(&s, &o, &ver, None).await, b"complete");
        // A document whose zip is gone (Athens' delete removes the file first).
        let g = m("example.com/gone");
        db.collection::<Document>("modules")
            .insert_one(doc! {"module": "example.com/gone", "version": "v1.0.0", "mod": bin(b"x"), "info": bin(b"{}")})
            .await
            .unwrap();
        assert!(!s.exists(&g, &ver).await.unwrap());
        assert!(s.list(&g).await.unwrap().is_empty());
        assert_eq!(
            s.info(&g, &ver).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        s.put(&g, &ver, new_version(dir.path(), "g", b"healed", "v1.0.0"))
            .await
            .unwrap();
        assert_eq!(read_zip(&s, &g, &ver, None).await, b"healed");
    }

    #[tokio::test]
    async fn multi_chunk_zip_streams_in_ranges() {
        let (s, config) = super::mongo_server::storage();
        let _drop = super::mongo_server::DropDatabase(config);
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/big"), v("v1.0.0"));
        // Just over four 255 KiB chunks.
        let zip: Vec<u8> = (0..(4 * 261_120 + 17u32))
            .map(|i| (i % 253) as u8)
            .collect();
        s.put(&md, &ver, new_version(dir.path(), "big", &zip, "v1.0.0"))
            .await
            .unwrap();
        for r in [
            0..zip.len() as u64,
            261_119..261_121,
            300_000..900_000,
            1_044_480..1_044_497,
        ] {
            let (a, b) = (r.start as usize, r.end as usize);
            assert_eq!(read_zip(&s, &md, &ver, Some(r)).await, zip[a..b]);
        }
    }
}

/// Disk-only behaviour: Athens' exact layout, partial versions, error kinds.
mod disk_layout {
    use super::*;

    #[tokio::test]
    async fn writes_athens_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let s = DiskStorage::open(&root).unwrap();
        s.put(
            &m("github.com/BurntSushi/toml"),
            &v("v1.2.0"),
            new_version(dir.path(), "t", b"zipbytes", "v1.2.0"),
        )
        .await
        .unwrap();
        let vdir = root.join("github.com/BurntSushi/toml/v1.2.0");
        let mut names: Vec<String> = std::fs::read_dir(&vdir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["go.mod", "source.zip", "v1.2.0.info"]);
        assert_eq!(std::fs::read(vdir.join("source.zip")).unwrap(), b"zipbytes");
        // Nothing of the write is left in the scratch area.
        let left: Vec<_> = std::fs::read_dir(root.join(".agora-tmp"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["locks"]);
    }

    #[tokio::test]
    async fn serves_a_tree_written_by_another_tool() {
        let dir = tempfile::tempdir().unwrap();
        let vdir = dir.path().join("example.com/pre/v0.3.0");
        std::fs::create_dir_all(&vdir).unwrap();
        std::fs::write(vdir.join("go.mod"), "module example.com/pre\n").unwrap();
        std::fs::write(vdir.join("source.zip"), "zz").unwrap();
        std::fs::write(vdir.join("v0.3.0.info"), "{\"Version\":\"v0.3.0\"}").unwrap();
        let s = DiskStorage::open(dir.path()).unwrap();
        assert_eq!(
            s.list(&m("example.com/pre")).await.unwrap(),
            vec!["v0.3.0".to_string()]
        );
        assert_eq!(
            s.go_mod(&m("example.com/pre"), &v("v0.3.0")).await.unwrap(),
            "module example.com/pre\n"
        );
    }

    #[tokio::test]
    async fn partial_version_is_absent_and_gets_completed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let vdir = root.join("example.com/partial/v1.0.0");
        std::fs::create_dir_all(&vdir).unwrap();
        std::fs::write(vdir.join("go.mod"), "module example.com/partial\n").unwrap();
        std::fs::write(vdir.join("source.zip"), "trunc").unwrap();
        let s = DiskStorage::open(&root).unwrap();
        let (md, ver) = (m("example.com/partial"), v("v1.0.0"));
        assert!(!s.exists(&md, &ver).await.unwrap());
        assert!(s.list(&md).await.unwrap().is_empty());
        assert_eq!(
            s.zip(&md, &ver).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        s.put(
            &md,
            &ver,
            new_version(dir.path(), "full", b"the complete zip", "v1.0.0"),
        )
        .await
        .unwrap();
        assert_eq!(read_zip(&s, &md, &ver, None).await, b"the complete zip");
        assert_eq!(s.go_mod(&md, &ver).await.unwrap(), "module full\n");
    }

    #[tokio::test]
    async fn unreadable_files_are_errors_not_absence() {
        // Running as root defeats permission bits, so break the tree's shape
        // instead: an .info that is a directory cannot be read.
        let dir = tempfile::tempdir().unwrap();
        let vdir = dir.path().join("example.com/broken/v1.0.0");
        std::fs::create_dir_all(vdir.join("v1.0.0.info")).unwrap();
        let s = DiskStorage::open(dir.path()).unwrap();
        let err = s
            .info(&m("example.com/broken"), &v("v1.0.0"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        let err = s
            .zip(&m("example.com/broken"), &v("v1.0.0"))
            .await
            .unwrap_err();
        assert_ne!(err.kind(), ErrorKind::NotFound, "{err}");
    }

    #[tokio::test]
    async fn catalog_of_a_tree_written_by_another_tool() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, body: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        };
        for (p, ver) in [
            ("example.com/pre", "v0.3.0"),
            ("example.com/pre/v2", "v2.0.0"),
        ] {
            write(&format!("{p}/{ver}/go.mod"), "module x\n");
            write(&format!("{p}/{ver}/source.zip"), "zz");
            write(&format!("{p}/{ver}/{ver}.info"), "{}");
        }
        // Athens' half-written versions (no .info yet), and a marker that is a directory.
        write("example.com/pre/v0.4.0/go.mod", "module x\n");
        std::fs::create_dir_all(dir.path().join("example.com/pre/v0.5.0/v0.5.0.info")).unwrap();
        let s = DiskStorage::open(dir.path()).unwrap();
        let got = walk_catalog(&s, 1).await;
        assert_eq!(
            got,
            [
                ("example.com/pre".to_owned(), "v0.3.0".to_owned()),
                ("example.com/pre/v2".to_owned(), "v2.0.0".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn catalog_of_a_missing_root_is_unavailable_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let s = DiskStorage::open(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        let err = s.catalog("", 10).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        std::fs::write(&root, "a file where the root was").unwrap();
        let err = s.catalog("", 10).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    }

    #[tokio::test]
    async fn not_ready_when_root_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let s = DiskStorage::open(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::write(&root, "a file where the root was").unwrap();
        assert!(s.ready().await.is_err());
    }
}

/// The moto S3 server of this test binary (`agora_testkit`), and agora's S3 clients of
/// fresh buckets on it.
#[cfg(feature = "s3")]
mod moto {
    use agora_config::Secret;
    use agora_storage::object::{Layout, ObjectStorage, S3Settings};
    pub use agora_testkit::{Moto, free_port, shared_moto as shared};

    use super::Fixture;

    /// agora's view of a moto server.
    pub trait S3Service {
        /// Creates a bucket with a fresh name and returns the name.
        fn bucket(&self) -> String;
        fn config(&self, bucket: &str) -> S3Settings;
        fn storage(&self, layout: Layout) -> (ObjectStorage, String);
    }

    impl S3Service for Moto {
        fn bucket(&self) -> String {
            self.create_bucket("agora")
        }

        fn config(&self, bucket: &str) -> S3Settings {
            S3Settings {
                bucket: bucket.to_owned(),
                region: "us-east-1".to_owned(),
                endpoint: Some(self.endpoint()),
                access_key_id: Some("test".to_owned()),
                secret_access_key: Some(Secret::new("test")),
                session_token: None,
                force_path_style: true,
            }
        }

        fn storage(&self, layout: Layout) -> (ObjectStorage, String) {
            let bucket = self.bucket();
            let s = ObjectStorage::s3(&self.config(&bucket), layout).unwrap();
            (s, bucket)
        }
    }

    pub fn fixture(layout: Layout) -> Fixture {
        let (storage, bucket) = shared().storage(layout);
        let cfg = shared().config(&bucket);
        let raw = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region("us-east-1")
            .with_endpoint(cfg.endpoint.clone().unwrap())
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap();
        Fixture {
            backend: "",
            storage: std::sync::Arc::new(storage),
            dir: tempfile::tempdir().unwrap(),
            raw: super::Raw::Object(std::sync::Arc::new(raw), layout),
            listing_page: super::DEFAULT_LISTING_PAGE,
        }
    }
}

/// S3/MinIO-only behaviour: exact key layouts, objects written by other clients,
/// multipart failures, and outages.
#[cfg(feature = "s3")]
mod object_backend {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use agora_config::Secret;
    use agora_storage::object::{Layout, ObjectStorage, S3Settings};
    use futures_util::StreamExt;
    use object_store::aws::AmazonS3Builder;
    use object_store::path::Path as Key;
    use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

    use super::moto::{self, Moto, S3Service};
    use super::*;

    /// A plain object_store client on the same bucket, standing in for "another tool".
    fn raw(cfg: &S3Settings) -> object_store::aws::AmazonS3 {
        // What ObjectStorage::s3 does; needed when this client is the first one built.
        let _ = rustls::crypto::ring::default_provider().install_default();
        AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region("us-east-1")
            .with_endpoint(cfg.endpoint.clone().unwrap())
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap()
    }

    async fn all_keys(store: &object_store::aws::AmazonS3) -> BTreeSet<String> {
        store
            .list(None)
            .map(|m| m.unwrap().location.to_string())
            .collect()
            .await
    }

    #[tokio::test]
    async fn writes_athens_keys_exactly() {
        let moto = moto::shared();
        for (layout, want) in [
            (
                Layout::S3,
                [
                    "example.com/Foo/b~ar/@v/v2.0.0+incompatible.info",
                    "example.com/Foo/b~ar/@v/v2.0.0+incompatible.mod",
                    "example.com/Foo/b~ar/@v/v2.0.0+incompatible.zip",
                ],
            ),
            (
                Layout::Minio,
                [
                    "example.com/Foo/b~ar/v2.0.0+incompatible/go.mod",
                    "example.com/Foo/b~ar/v2.0.0+incompatible/source.zip",
                    "example.com/Foo/b~ar/v2.0.0+incompatible/v2.0.0+incompatible.info",
                ],
            ),
        ] {
            let bucket = moto.bucket();
            let cfg = moto.config(&bucket);
            let s = ObjectStorage::s3(&cfg, layout).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let (md, ver) = (m("example.com/Foo/b~ar"), v("v2.0.0+incompatible"));
            s.put(
                &md,
                &ver,
                new_version(dir.path(), "k", b"zip!", "v2.0.0+incompatible"),
            )
            .await
            .unwrap();
            let store = raw(&cfg);
            let keys = all_keys(&store).await;
            let want: BTreeSet<String> = want.iter().map(|k| (*k).to_owned()).collect();
            assert_eq!(keys, want, "{layout:?}");
            let zip_key = want.iter().find(|k| k.ends_with("zip")).unwrap();
            let got = store
                .get(&Key::parse(zip_key).unwrap())
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(&got[..], b"zip!");
            assert_eq!(s.list(&md).await.unwrap(), vec!["v2.0.0+incompatible"]);
        }
    }

    /// Objects written by boto3 (Athens' own layout, as Athens or a backup tool would
    /// leave them) are served as they are.
    #[tokio::test]
    async fn serves_objects_seeded_by_another_client() {
        let moto = moto::shared();
        for layout in [Layout::S3, Layout::Minio] {
            let bucket = moto.bucket();
            let (info, go_mod, zip) = match layout {
                Layout::S3 => (
                    "github.com/Seed/mod/@v/v1.4.0.info",
                    "github.com/Seed/mod/@v/v1.4.0.mod",
                    "github.com/Seed/mod/@v/v1.4.0.zip",
                ),
                Layout::Minio => (
                    "github.com/Seed/mod/v1.4.0/v1.4.0.info",
                    "github.com/Seed/mod/v1.4.0/go.mod",
                    "github.com/Seed/mod/v1.4.0/source.zip",
                ),
            };
            // A partial version (no .info), as Athens leaves after a crash.
            let (p_mod, p_zip) = match layout {
                Layout::S3 => (
                    "github.com/Seed/mod/@v/v1.5.0.mod",
                    "github.com/Seed/mod/@v/v1.5.0.zip",
                ),
                Layout::Minio => (
                    "github.com/Seed/mod/v1.5.0/go.mod",
                    "github.com/Seed/mod/v1.5.0/source.zip",
                ),
            };
            let script = format!(
                r#"
import boto3
c = boto3.client("s3", endpoint_url="http://127.0.0.1:{port}", region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
c.put_object(Bucket="{bucket}", Key="{info}", Body=b'{{"Version":"v1.4.0","Time":"2023-05-06T07:08:09Z"}}', ContentType="application/json")
c.put_object(Bucket="{bucket}", Key="{go_mod}", Body=b"module github.com/Seed/mod\n", ContentType="text/plain")
c.put_object(Bucket="{bucket}", Key="{zip}", Body=bytes(range(256)) * 1000, ContentType="application/octet-stream")
c.put_object(Bucket="{bucket}", Key="{p_mod}", Body=b"module partial\n")
c.put_object(Bucket="{bucket}", Key="{p_zip}", Body=b"truncated")
"#,
                port = moto.port
            );
            let out = std::process::Command::new("python3")
                .args(["-c", &script])
                .output()
                .expect("python3 with boto3 (installed with moto) is needed");
            assert!(
                out.status.success(),
                "boto3 seeding failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );

            let s = ObjectStorage::s3(&moto.config(&bucket), layout)
                .unwrap()
                .with_stale_claim_age(Duration::ZERO);
            let md = m("github.com/Seed/mod");
            assert_eq!(s.list(&md).await.unwrap(), vec!["v1.4.0"], "{layout:?}");
            assert_eq!(
                s.info(&md, &v("v1.4.0")).await.unwrap(),
                "{\"Version\":\"v1.4.0\",\"Time\":\"2023-05-06T07:08:09Z\"}"
            );
            assert_eq!(
                s.go_mod(&md, &v("v1.4.0")).await.unwrap(),
                "module github.com/Seed/mod\n"
            );
            let want: Vec<u8> = (0..=255u8).cycle().take(256_000).collect();
            assert_eq!(read_zip(&s, &md, &v("v1.4.0"), None).await, want);
            assert_eq!(
                read_zip(&s, &md, &v("v1.4.0"), Some(1000..1300)).await,
                want[1000..1300]
            );

            // The partial version is absent for every method, and a put completes it
            // (its claim is old enough to take over: the threshold is zero here).
            let partial = v("v1.5.0");
            assert!(!s.exists(&md, &partial).await.unwrap());
            assert_eq!(
                s.zip(&md, &partial).await.unwrap_err().kind(),
                ErrorKind::NotFound
            );
            assert_eq!(
                s.go_mod(&md, &partial).await.unwrap_err().kind(),
                ErrorKind::NotFound
            );
            let dir = tempfile::tempdir().unwrap();
            s.put(
                &md,
                &partial,
                new_version(dir.path(), "full", b"complete", "v1.5.0"),
            )
            .await
            .unwrap();
            assert_eq!(read_zip(&s, &md, &partial, None).await, b"complete");
            assert_eq!(s.go_mod(&md, &partial).await.unwrap(), "module full\n");
            let mut listed = s.list(&md).await.unwrap();
            listed.sort();
            assert_eq!(listed, vec!["v1.4.0", "v1.5.0"]);
        }
    }

    /// Nothing answering, or a server that went away: every call is Unavailable, never
    /// NotFound (which would make the proxy fetch and overwrite, or answer 404).
    #[tokio::test]
    async fn unreachable_storage_is_unavailable_not_absent() {
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/down"), v("v1.0.0"));

        let mut own = Moto::start();
        let bucket = own.bucket();
        let s = ObjectStorage::s3(&own.config(&bucket), Layout::S3).unwrap();
        s.put(&md, &ver, new_version(dir.path(), "d", b"z", "v1.0.0"))
            .await
            .unwrap();
        let z = s.zip(&md, &ver).await.unwrap();
        s.ready().await.unwrap();
        own.stop();

        let cfg = own.config(&bucket);
        let wrong = {
            let mut c = cfg.clone();
            c.endpoint = Some(format!("http://127.0.0.1:{}", moto::free_port()));
            c
        };
        let others = [
            ObjectStorage::s3(&cfg, Layout::Minio).unwrap(),
            ObjectStorage::s3(&wrong, Layout::S3).unwrap(),
        ];
        for s in std::iter::once(&s).chain(&others) {
            let what = s.describe();
            let kinds = [
                s.info(&md, &ver).await.unwrap_err().kind(),
                s.go_mod(&md, &ver).await.unwrap_err().kind(),
                s.zip(&md, &ver).await.unwrap_err().kind(),
                s.list(&md).await.unwrap_err().kind(),
                s.exists(&md, &ver).await.unwrap_err().kind(),
                s.delete(&md, &ver).await.unwrap_err().kind(),
                s.ready().await.unwrap_err().kind(),
                s.put(
                    &md,
                    &v("v2.0.0"),
                    new_version(dir.path(), "e", b"z", "v2.0.0"),
                )
                .await
                .unwrap_err()
                .kind(),
            ];
            assert!(
                kinds.iter().all(|k| *k == ErrorKind::Unavailable),
                "{what}: {kinds:?}"
            );
        }
        // An already opened zip fails to stream the same way.
        let Err(err) = z.stream(0..1).await else {
            panic!("streaming from a stopped server succeeded");
        };
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

        // When the server is back, the same storage works again by itself (moto keeps
        // nothing across restarts, so the bucket is made again).
        let again = Moto::start_on(Some(own.port));
        let status = std::process::Command::new("python3")
            .args([
                "-c",
                &format!(
                    "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:{}', \
                     region_name='us-east-1', aws_access_key_id='t', \
                     aws_secret_access_key='t').create_bucket(Bucket='{bucket}')",
                    again.port
                ),
            ])
            .status()
            .unwrap();
        assert!(status.success());
        s.ready().await.unwrap();
        assert!(!s.exists(&md, &ver).await.unwrap());
    }

    /// A missing bucket is an outage, not an empty cache: S3's 404 NoSuchBucket must not
    /// read as "version absent".
    #[tokio::test]
    async fn missing_bucket_is_unavailable_not_absent() {
        let moto = moto::shared();
        for layout in [Layout::S3, Layout::Minio] {
            let s = ObjectStorage::s3(&moto.config("agora-no-such-bucket"), layout).unwrap();
            let (md, ver) = (m("example.com/x"), v("v1.0.0"));
            assert_eq!(
                s.info(&md, &ver).await.unwrap_err().kind(),
                ErrorKind::Unavailable
            );
            assert_eq!(
                s.exists(&md, &ver).await.unwrap_err().kind(),
                ErrorKind::Unavailable
            );
            assert_eq!(
                s.list(&md).await.unwrap_err().kind(),
                ErrorKind::Unavailable
            );
            assert!(s.ready().await.is_err());
        }
    }

    /// A put that fails after taking its claim releases it, so the next writer does not
    /// wait for the claim to go stale.
    #[tokio::test]
    async fn failed_put_leaves_nothing_and_releases_its_claim() {
        let moto = moto::shared();
        let (s, bucket) = moto.storage(Layout::S3);
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/fail"), v("v1.0.0"));
        // A directory opens but cannot be read: the zip upload fails after the claim.
        let bad = NewVersion {
            info: Bytes::from_static(b"{}"),
            go_mod: Bytes::from_static(b"module x\n"),
            zip: dir.path().to_path_buf(),
        };
        let err = s.put(&md, &ver, bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        assert!(!s.exists(&md, &ver).await.unwrap());
        let store = raw(&moto.config(&bucket));
        assert!(all_keys(&store).await.is_empty());
        tokio::time::timeout(
            Duration::from_secs(20),
            s.put(&md, &ver, new_version(dir.path(), "ok", b"z", "v1.0.0")),
        )
        .await
        .expect("the claim was not released")
        .unwrap();
        assert!(s.exists(&md, &ver).await.unwrap());
    }

    /// A put meeting a live-looking claim that is never committed (a writer that crashed
    /// a moment ago) gives up after the claim wait with `Unavailable`, instead of hanging
    /// until the claim goes stale, and leaves the other writer's claim alone.
    #[tokio::test]
    async fn put_gives_up_on_an_uncommitted_claim_after_the_claim_wait() {
        let moto = moto::shared();
        let bucket = moto.bucket();
        let cfg = moto.config(&bucket);
        let store = raw(&cfg);
        let claim = Key::from("example.com/held/@v/v1.0.0.mod");
        store
            .put(&claim, PutPayload::from_static(b"module crashed\n"))
            .await
            .unwrap();
        let s = ObjectStorage::s3(&cfg, Layout::S3)
            .unwrap()
            .with_claim_wait(Duration::from_secs(1));
        let (md, ver) = (m("example.com/held"), v("v1.0.0"));
        let dir = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let err = tokio::time::timeout(
            Duration::from_secs(20),
            s.put(&md, &ver, new_version(dir.path(), "mine", b"z", "v1.0.0")),
        )
        .await
        .expect("the put waited far past its claim wait")
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        assert!(err.to_string().contains("claim"), "{err}");
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert!(!s.exists(&md, &ver).await.unwrap());
        let keys = all_keys(&store).await;
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            vec![claim.to_string()],
            "only the other writer's claim"
        );
        let held = store.get(&claim).await.unwrap().bytes().await.unwrap();
        assert_eq!(&held[..], b"module crashed\n");
    }

    /// Writers in different processes share nothing but the bucket: separate clients,
    /// zips big enough for multipart uploads. One wins, and its three objects belong
    /// together.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_multipart_writers_on_separate_clients() {
        let _turn = super::MEMORY_HEAVY.lock().await;
        let moto = moto::shared();
        let bucket = moto.bucket();
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/bigrace"), v("v1.0.0"));
        let size = agora_storage::object::PART_SIZE + 4096;
        let mut tasks = Vec::new();
        for i in 0..4u8 {
            let s = ObjectStorage::s3(&moto.config(&bucket), Layout::Minio).unwrap();
            let zip = vec![b'a' + i; size];
            let nv = new_version(dir.path(), &format!("w{i}"), &zip, "v1.0.0");
            let (md, ver) = (md.clone(), ver.clone());
            tasks.push(tokio::spawn(async move { s.put(&md, &ver, nv).await }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(e) => assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}"),
            }
        }
        assert_eq!(ok, 1);
        let s = ObjectStorage::s3(&moto.config(&bucket), Layout::Minio).unwrap();
        let go_mod = s.go_mod(&md, &ver).await.unwrap();
        let winner = std::str::from_utf8(&go_mod)
            .unwrap()
            .trim()
            .trim_start_matches("module w");
        let i: u8 = winner.parse().unwrap();
        let zip = read_zip(&s, &md, &ver, None).await;
        assert_eq!(zip.len(), size);
        assert!(
            zip.iter().all(|b| *b == b'a' + i),
            "zip is not writer {i}'s"
        );
    }

    #[test]
    fn config_debug_redacts_secrets() {
        let cfg = S3Settings {
            bucket: "b".into(),
            region: String::new(),
            endpoint: None,
            access_key_id: Some("AKIA".into()),
            secret_access_key: Some(Secret::new("very-secret")),
            session_token: Some(Secret::new("tok-secret")),
            force_path_style: false,
        };
        let dbg = format!("{cfg:?}");
        assert!(
            !dbg.contains("very-secret") && !dbg.contains("tok-secret"),
            "{dbg}"
        );
        assert_eq!(
            agora_storage::object::with_scheme("https://minio.local:9000/", false),
            "http://minio.local:9000"
        );
        assert_eq!(
            agora_storage::object::with_scheme("minio:9000", true),
            "https://minio:9000"
        );
    }
}

/// A failed multipart upload is aborted: no upload is left open on the server, no object
/// appears, and the claim is released.
#[cfg(feature = "s3")]
mod object_multipart_failure {
    use agora_storage::object::{Layout, ObjectStorage, PART_SIZE};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// Forwards each request to moto on a fresh connection (with `Connection: close`),
    /// except uploads of part 1, which fail at once, and other parts, which are delayed.
    /// The failure then surfaces while later parts are still being read and sent (not in
    /// `WriteMultipart::finish`, which would abort by itself).
    async fn failing_proxy(moto_port: u16) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(handle(client, moto_port));
            }
        });
        port
    }

    async fn handle(mut client: TcpStream, moto_port: u16) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if client.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let len: usize = text
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if client.read_exact(&mut body).await.is_err() {
            return;
        }
        let first = text.lines().next().unwrap_or("");
        if first.starts_with("PUT ") && first.contains("partNumber=1&") {
            // A client error: not retried, so it surfaces at once.
            let _ = client
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            return;
        }
        if first.starts_with("PUT ") && first.contains("partNumber=") {
            // Hold the other parts back, so part 1's failure is seen first.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        let head: String = text
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect::<Vec<_>>()
            .join("\r\n");
        let head = head.trim_end().to_owned() + "\r\nConnection: close\r\n\r\n";
        let Ok(mut up) = TcpStream::connect(("127.0.0.1", moto_port)).await else {
            return;
        };
        if up.write_all(head.as_bytes()).await.is_err() || up.write_all(&body).await.is_err() {
            return;
        }
        let _ = tokio::io::copy(&mut up, &mut client).await;
        let _ = client.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_multipart_upload_is_aborted() {
        let _turn = super::MEMORY_HEAVY.lock().await;
        let moto = super::moto::shared();
        let bucket = moto.bucket();
        let proxy = failing_proxy(moto.port).await;
        let mut cfg = moto.config(&bucket);
        cfg.endpoint = Some(format!("http://127.0.0.1:{proxy}"));
        let s = ObjectStorage::s3(&cfg, Layout::S3).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let zip: Vec<u8> = (0..(PART_SIZE * 9 / 2)).map(|i| (i % 253) as u8).collect();
        let (md, ver) = (m("example.com/multipart"), v("v1.0.0"));
        let err = s
            .put(&md, &ver, new_version(dir.path(), "mp", &zip, "v1.0.0"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

        // Ask moto directly (boto3): no open multipart upload, no object at all.
        let script = format!(
            r#"
import boto3
c = boto3.client("s3", endpoint_url="http://127.0.0.1:{port}", region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
print(len(c.list_multipart_uploads(Bucket="{bucket}").get("Uploads", [])),
      c.list_objects_v2(Bucket="{bucket}")["KeyCount"])
"#,
            port = moto.port
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0 0");

        // The same storage, through moto directly, stores the version at once.
        let direct = ObjectStorage::s3(&moto.config(&bucket), Layout::S3).unwrap();
        direct
            .put(&md, &ver, new_version(dir.path(), "mp2", &zip, "v1.0.0"))
            .await
            .unwrap();
        assert_eq!(read_zip(&direct, &md, &ver, None).await, zip);
    }
}

/// The Azurite server of this test binary (`agora_testkit`), and agora's Azure clients
/// of fresh containers on it.
#[cfg(feature = "azure")]
mod azurite {
    use agora_storage::object::{AzureConfig, ObjectStorage};
    pub use agora_testkit::azurite::{Azurite, shared};
    pub use agora_testkit::free_port;

    /// agora's view of an Azurite server.
    pub trait AzureService {
        fn config(&self, container: &str) -> AzureConfig;
        fn storage(&self) -> (ObjectStorage, String);
    }

    impl AzureService for Azurite {
        fn config(&self, container: &str) -> AzureConfig {
            AzureConfig::from_connection_string(&self.connection_string(), container).unwrap()
        }

        fn storage(&self) -> (ObjectStorage, String) {
            let container = self.container();
            (
                ObjectStorage::azure(&self.config(&container)).unwrap(),
                container,
            )
        }
    }
}

/// Azure-only behaviour: Athens' keys, objects written by another client, the condition
/// the create-only writes rely on, multipart zips, and a missing container.
#[cfg(feature = "azure")]
mod azure_backend {
    use std::collections::BTreeSet;

    use agora_storage::object::{AZURITE_KEY, AzureConfig, ObjectStorage, PART_SIZE};
    use futures_util::StreamExt;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::path::Path as Key;
    use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

    use super::*;

    fn raw(az: &super::azurite::Azurite, container: &str) -> object_store::azure::MicrosoftAzure {
        MicrosoftAzureBuilder::new()
            .with_account("devstoreaccount1")
            .with_access_key(AZURITE_KEY)
            .with_container_name(container)
            .with_endpoint(az.endpoint())
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    /// The guarantee the write protocol rests on, shown on the emulator itself: a second
    /// `If-None-Match: *` put of one blob fails and leaves the first in place.
    #[tokio::test]
    async fn emulator_honours_if_none_match() {
        let az = super::azurite::shared();
        let container = az.container();
        let store = raw(az, &container);
        let key = Key::parse("m/@v/v1.0.0.mod").unwrap();
        let create = || PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        store
            .put_opts(&key, PutPayload::from_static(b"first"), create())
            .await
            .unwrap();
        let err = store
            .put_opts(&key, PutPayload::from_static(b"second"), create())
            .await
            .unwrap_err();
        assert!(
            matches!(err, object_store::Error::AlreadyExists { .. }),
            "{err}"
        );
        let got = store.get(&key).await.unwrap().bytes().await.unwrap();
        assert_eq!(&got[..], b"first");
    }

    #[tokio::test]
    async fn writes_athens_keys_and_serves_seeded_objects() {
        let az = super::azurite::shared();
        let (s, container) = az.storage();
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/Foo/b~ar"), v("v2.0.0+incompatible"));
        s.put(
            &md,
            &ver,
            new_version(dir.path(), "k", b"zip!", "v2.0.0+incompatible"),
        )
        .await
        .unwrap();
        let store = raw(az, &container);
        let keys: BTreeSet<String> = store
            .list(None)
            .map(|m| m.unwrap().location.to_string())
            .collect()
            .await;
        let want: BTreeSet<String> = ["info", "mod", "zip"]
            .iter()
            .map(|x| format!("example.com/Foo/b~ar/@v/v2.0.0+incompatible.{x}"))
            .collect();
        assert_eq!(keys, want);

        // Seeded by another client (a plain SharedKey client), as Athens leaves them,
        // plus a partial version without its .info.
        let seeded = m("github.com/Seed/mod");
        let zip: Vec<u8> = (0..=255u8).cycle().take(256_000).collect();
        for (blob, ct, body) in [
            (
                "github.com/Seed/mod/@v/v1.4.0.info",
                "application/json",
                &b"{\"Version\":\"v1.4.0\"}"[..],
            ),
            (
                "github.com/Seed/mod/@v/v1.4.0.mod",
                "text/plain",
                b"module github.com/Seed/mod\n",
            ),
            (
                "github.com/Seed/mod/@v/v1.4.0.zip",
                "application/octet-stream",
                &zip,
            ),
            (
                "github.com/Seed/mod/@v/v1.5.0.mod",
                "text/plain",
                b"module partial\n",
            ),
        ] {
            az.client(&["put", &container, blob, ct], body);
        }
        assert_eq!(s.list(&seeded).await.unwrap(), vec!["v1.4.0"]);
        assert_eq!(
            s.go_mod(&seeded, &v("v1.4.0")).await.unwrap(),
            "module github.com/Seed/mod\n"
        );
        assert_eq!(read_zip(&s, &seeded, &v("v1.4.0"), None).await, zip);
        assert_eq!(
            read_zip(&s, &seeded, &v("v1.4.0"), Some(1000..1300)).await,
            zip[1000..1300]
        );
        assert!(!s.exists(&seeded, &v("v1.5.0")).await.unwrap());
        assert_eq!(
            s.go_mod(&seeded, &v("v1.5.0")).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    /// A zip of several blocks goes up as a block list and reads back whole and by range.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn multi_block_zip_round_trips() {
        let _turn = super::MEMORY_HEAVY.lock().await;
        let (s, _) = super::azurite::shared().storage();
        let dir = tempfile::tempdir().unwrap();
        let zip: Vec<u8> = (0..(PART_SIZE * 5 / 2)).map(|i| (i % 251) as u8).collect();
        let (md, ver) = (m("example.com/blocks"), v("v1.0.0"));
        s.put(&md, &ver, new_version(dir.path(), "b", &zip, "v1.0.0"))
            .await
            .unwrap();
        assert_eq!(read_zip(&s, &md, &ver, None).await, zip);
        let p = PART_SIZE as u64;
        assert_eq!(
            read_zip(&s, &md, &ver, Some(p - 5..p + 5)).await,
            zip[PART_SIZE - 5..PART_SIZE + 5]
        );
    }

    /// A missing container, or no server at all, is an outage, never absence.
    #[tokio::test]
    async fn missing_container_or_server_is_unavailable() {
        let az = super::azurite::shared();
        let (md, ver) = (m("example.com/x"), v("v1.0.0"));
        let no_container = ObjectStorage::azure(&az.config("agora-no-such-container")).unwrap();
        let mut down = az.config("c");
        down.endpoint = Some(format!(
            "http://127.0.0.1:{}/devstoreaccount1",
            super::azurite::free_port()
        ));
        let down = ObjectStorage::azure(&down).unwrap();
        for s in [&no_container, &down] {
            let what = s.describe();
            let kinds = [
                s.info(&md, &ver).await.unwrap_err().kind(),
                s.zip(&md, &ver).await.unwrap_err().kind(),
                s.exists(&md, &ver).await.unwrap_err().kind(),
                s.list(&md).await.unwrap_err().kind(),
                s.ready().await.unwrap_err().kind(),
            ];
            assert!(
                kinds.iter().all(|k| *k == ErrorKind::Unavailable),
                "{what}: {kinds:?}"
            );
        }
    }

    #[test]
    fn connection_strings() {
        let c = AzureConfig::from_connection_string(
            "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=c2VjcmV0;\
             BlobEndpoint=http://127.0.0.1:10000/acct/;",
            "ctr",
        )
        .unwrap();
        assert_eq!(c.account_name, "acct");
        assert_eq!(c.account_key.as_deref(), Some("c2VjcmV0"));
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:10000/acct"));
        assert_eq!(c.container, "ctr");
        assert!(!format!("{c:?}").contains("c2VjcmV0"));
        let dev = AzureConfig::from_connection_string("UseDevelopmentStorage=true", "x").unwrap();
        assert_eq!(dev.account_name, "devstoreaccount1");
        assert_eq!(
            dev.endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        let sfx = AzureConfig::from_connection_string(
            "AccountName=a;AccountKey=k;EndpointSuffix=core.chinacloudapi.cn",
            "x",
        )
        .unwrap();
        assert_eq!(
            sfx.endpoint.as_deref(),
            Some("https://a.blob.core.chinacloudapi.cn")
        );
        assert!(AzureConfig::from_connection_string("AccountKey=k", "x").is_err());
        assert!(AzureConfig::from_connection_string("garbage", "x").is_err());
    }
}

/// External-storage-only behaviour: the exact requests Athens' protocol defines, big zips
/// in both directions, and failures that must never read as absence.
#[cfg(feature = "external")]
mod external_protocol {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use agora_external_server::Dialect;
    use agora_storage::external::ExternalStorage;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    use super::*;

    /// One request as a capture server saw it.
    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        path: String,
        headers: BTreeMap<String, String>,
        body: Vec<u8>,
    }

    /// How a scripted server answers (method, path): status and body.
    type Script = fn(&str, &str) -> (u16, &'static str);

    /// A server that records every request and answers 404 to reads, 200 to the rest.
    async fn capture_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
        scripted_server(|method, _| {
            if method == "GET" {
                (404, "")
            } else {
                (200, "")
            }
        })
        .await
    }

    /// A server that records every request and answers as `script` says.
    async fn scripted_server(script: Script) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut conn = BufReader::new(conn);
                    loop {
                        let mut line = String::new();
                        if conn.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or_default().to_owned();
                        let path = parts.next().unwrap_or_default().to_owned();
                        let mut headers = BTreeMap::new();
                        loop {
                            let mut h = String::new();
                            conn.read_line(&mut h).await.unwrap();
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            let (k, v) = h.split_once(':').unwrap();
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                        }
                        let len: usize = headers
                            .get("content-length")
                            .map(|v| v.parse().unwrap())
                            .unwrap_or(0);
                        let mut body = vec![0; len];
                        conn.read_exact(&mut body).await.unwrap();
                        let (status, answer) = script(&method, &path);
                        log.lock().unwrap().push(Seen {
                            method,
                            path,
                            headers,
                            body,
                        });
                        let answer = format!(
                            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        conn.get_mut().write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (url, seen)
    }

    /// Splits a multipart body into (part name, bytes), in order.
    fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
        let boundary = content_type
            .split_once("boundary=")
            .map(|(_, b)| b.trim_matches('"'))
            .unwrap();
        let delim = format!("--{boundary}");
        let text = body;
        let mut out = Vec::new();
        let find = |hay: &[u8], needle: &[u8], from: usize| {
            hay[from..]
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|p| p + from)
        };
        let mut at = find(text, delim.as_bytes(), 0).unwrap();
        loop {
            let after = at + delim.len();
            if text[after..].starts_with(b"--") {
                break;
            }
            let head_end = find(text, b"\r\n\r\n", after).unwrap();
            let head = String::from_utf8_lossy(&text[after..head_end]).to_string();
            let name = head
                .split("name=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .to_owned();
            let next = find(text, format!("\r\n{delim}").as_bytes(), head_end).unwrap();
            out.push((name, text[head_end + 4..next].to_vec()));
            at = next + 2;
        }
        out
    }

    #[tokio::test]
    async fn requests_are_athens_wire_format() {
        let (url, seen) = capture_server().await;
        let dir = tempfile::tempdir().unwrap();
        let s = ExternalStorage::new(&format!("{url}/base/")).unwrap();
        let (md, ver) = (
            m("github.com/BurntSushi/toml"),
            v("v1.0.0-RC1+incompatible"),
        );
        let zip: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let nv = new_version(dir.path(), "toml", &zip, "v1.0.0-RC1+incompatible");
        let (info, go_mod) = (nv.info.clone(), nv.go_mod.clone());
        s.put(&md, &ver, nv).await.unwrap();
        s.delete(&md, &ver).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let lines: Vec<String> = seen
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let base = "/base/github.com/!burnt!sushi/toml/@v/v1.0.0-RC1+incompatible";
        // The existence check stops at the first 404 (the .info), then the save.
        assert_eq!(
            lines,
            [
                format!("GET {base}.info"),
                format!("POST {base}.save"),
                format!("DELETE {base}.delete"),
            ]
        );
        let save = &seen[1];
        let ct = &save.headers["content-type"];
        assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
        assert_eq!(
            save.headers["content-length"],
            save.body.len().to_string(),
            "the save carries its exact length"
        );
        let got = parts(ct, &save.body);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["mod.info", "mod.mod", "mod.zip"]);
        assert_eq!(got[0].1, info);
        assert_eq!(got[1].1, go_mod);
        assert_eq!(got[2].1, zip);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn big_zip_streams_both_ways_in_both_dialects() {
        let _turn = super::MEMORY_HEAVY.lock().await;
        // Athens' reference server caps a save at 1 MiB; agora's has no cap.
        let zip: Vec<u8> = (0..24u64 << 20).map(|i| (i % 249) as u8).collect();
        for dialect in [Dialect::Agora, Dialect::AthensReference] {
            let f = external_fixture(dialect);
            let (md, ver) = (m("example.com/big"), v("v1.0.0"));
            let nv = new_version(f.dir.path(), "big", &zip, "v1.0.0");
            f.storage.put(&md, &ver, nv).await.unwrap();
            assert_eq!(
                f.storage.zip(&md, &ver).await.unwrap().size,
                zip.len() as u64
            );
            assert!(
                read_zip(&*f.storage, &md, &ver, None).await == zip,
                "{dialect:?}"
            );
            let r = (17u64 << 20) + 5..(23u64 << 20) + 3;
            assert!(
                read_zip(&*f.storage, &md, &ver, Some(r.clone())).await
                    == zip[r.start as usize..r.end as usize],
                "{dialect:?}"
            );
        }
    }

    #[tokio::test]
    async fn unreachable_server_is_unavailable_not_absent() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = ExternalStorage::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/gone"), v("v1.0.0"));
        let kinds = [
            s.info(&md, &ver).await.unwrap_err().kind(),
            s.go_mod(&md, &ver).await.unwrap_err().kind(),
            s.zip(&md, &ver).await.unwrap_err().kind(),
            s.list(&md).await.unwrap_err().kind(),
            s.exists(&md, &ver).await.unwrap_err().kind(),
            s.delete(&md, &ver).await.unwrap_err().kind(),
            s.ready().await.unwrap_err().kind(),
            s.put(&md, &ver, new_version(dir.path(), "g", b"z", "v1.0.0"))
                .await
                .unwrap_err()
                .kind(),
        ];
        assert_eq!(kinds, [ErrorKind::Unavailable; 8]);
    }

    #[tokio::test]
    async fn server_side_storage_failure_is_unavailable_not_absent() {
        let dir = tempfile::tempdir().unwrap();
        let (url, disk) = external_server(dir.path(), Dialect::Agora);
        let s = ExternalStorage::new(&url).unwrap();
        let (md, ver) = (m("example.com/broken"), v("v1.0.0"));
        s.put(&md, &ver, new_version(dir.path(), "b", b"zip", "v1.0.0"))
            .await
            .unwrap();
        // Break the server's disk the way the disk suite does: an unreadable .info.
        let vdir = disk.root().join("example.com/broken/v1.0.0");
        std::fs::remove_file(vdir.join("v1.0.0.info")).unwrap();
        std::fs::create_dir(vdir.join("v1.0.0.info")).unwrap();
        for (what, kind) in [
            ("info", s.info(&md, &ver).await.unwrap_err().kind()),
            ("exists", s.exists(&md, &ver).await.unwrap_err().kind()),
        ] {
            assert_eq!(kind, ErrorKind::Unavailable, "{what}");
        }
        assert_ne!(
            s.zip(&md, &ver).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn a_partial_version_on_the_server_does_not_exist() {
        // A server whose backend writes non-atomically (Athens' disk) can hold an .info
        // and a .mod without the zip: exists must say no, so agora fetches it again.
        let (url, seen) = scripted_server(|_, path| {
            if path.ends_with(".zip") {
                (404, "not found")
            } else {
                (200, "x")
            }
        })
        .await;
        let s = ExternalStorage::new(&url).unwrap();
        let (md, ver) = (m("example.com/partial"), v("v1.0.0"));
        assert!(!s.exists(&md, &ver).await.unwrap());
        let seen = seen.lock().unwrap().clone();
        let asked: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            asked,
            [
                "/example.com/partial/@v/v1.0.0.info",
                "/example.com/partial/@v/v1.0.0.mod",
                "/example.com/partial/@v/v1.0.0.zip",
            ]
        );
        assert_eq!(
            seen[2].headers.get("range").map(String::as_str),
            Some("bytes=0-0")
        );
    }

    #[tokio::test]
    async fn server_errors_are_unavailable_and_not_ready() {
        let (url, _) = scripted_server(|_, _| (503, "backend down")).await;
        let s = ExternalStorage::new(&url).unwrap();
        let (md, ver) = (m("example.com/down"), v("v1.0.0"));
        let err = s.ready().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.to_string().contains("backend down"), "{err}");
        assert_eq!(
            s.list(&md).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(
            s.info(&md, &ver).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(
            s.zip(&md, &ver).await.unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        // 410 is absence, as 404 is.
        let (url, _) = scripted_server(|_, _| (410, "gone")).await;
        let s = ExternalStorage::new(&url).unwrap();
        assert!(s.list(&md).await.unwrap().is_empty());
        assert!(!s.exists(&md, &ver).await.unwrap());
        assert_eq!(
            s.go_mod(&md, &ver).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        s.ready().await.unwrap();
    }
}

/// The gcp-storage-emulator of this test binary (`agora_testkit`), and agora's GCS
/// clients of fresh buckets on it.
#[cfg(feature = "gcs")]
mod gcs_emulator {
    use agora_storage::object::{GcsConfig, ObjectStorage};
    pub use agora_testkit::gcs::{GcsEmulator as Emulator, shared};

    /// agora's view of an emulator, and another client of it.
    pub trait GcsService {
        fn config(&self, bucket: &str) -> GcsConfig;
        fn storage(&self) -> (ObjectStorage, String);
        fn raw(&self, bucket: &str) -> std::sync::Arc<dyn object_store::ObjectStore>;
    }

    impl GcsService for Emulator {
        fn config(&self, bucket: &str) -> GcsConfig {
            GcsConfig {
                bucket: bucket.to_owned(),
                json_key: None,
                emulator_host: Some(self.host()),
            }
        }

        fn storage(&self) -> (ObjectStorage, String) {
            let bucket = self.bucket();
            (ObjectStorage::gcs(&self.config(&bucket)).unwrap(), bucket)
        }

        /// Another client of `bucket` (OpenDAL's GCS service, unconditional writes), for
        /// writing behind the backend's back.
        fn raw(&self, bucket: &str) -> std::sync::Arc<dyn object_store::ObjectStore> {
            let builder = opendal::services::Gcs::default()
                .bucket(bucket)
                .endpoint(&format!("http://127.0.0.1:{}", self.port))
                .skip_signature()
                .disable_vm_metadata()
                .disable_config_load();
            let op = opendal::Operator::new(builder).unwrap();
            let transport = opendal::HttpTransporter::new(
                opendal_http_transport_reqwest::ReqwestTransport::new(reqwest::Client::new()),
            );
            let ctx = op.base_context().with_http_transport(transport);
            std::sync::Arc::new(CreatePuts(std::sync::Arc::new(
                object_store_opendal::OpendalStore::new(op.with_context(ctx)),
            )))
        }
    }

    /// An object store whose plain puts are create-only ones. OpenDAL's unconditional
    /// single-request GCS upload (`uploadType=media` without a Content-Type) is not one
    /// the emulator answers with JSON, while its create-only (resumable) upload works;
    /// the raw writes of the tests go to keys that do not exist yet anyway.
    #[derive(Debug)]
    struct CreatePuts(std::sync::Arc<dyn object_store::ObjectStore>);

    impl std::fmt::Display for CreatePuts {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "CreatePuts({})", self.0)
        }
    }

    #[async_trait::async_trait]
    impl object_store::ObjectStore for CreatePuts {
        async fn put_opts(
            &self,
            location: &object_store::path::Path,
            payload: object_store::PutPayload,
            mut opts: object_store::PutOptions,
        ) -> object_store::Result<object_store::PutResult> {
            if opts.mode == object_store::PutMode::Overwrite {
                opts.mode = object_store::PutMode::Create;
            }
            self.0.put_opts(location, payload, opts).await
        }

        async fn put_multipart_opts(
            &self,
            location: &object_store::path::Path,
            opts: object_store::PutMultipartOptions,
        ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
            self.0.put_multipart_opts(location, opts).await
        }

        async fn get_opts(
            &self,
            location: &object_store::path::Path,
            options: object_store::GetOptions,
        ) -> object_store::Result<object_store::GetResult> {
            self.0.get_opts(location, options).await
        }

        fn delete_stream(
            &self,
            locations: futures_util::stream::BoxStream<
                'static,
                object_store::Result<object_store::path::Path>,
            >,
        ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::path::Path>>
        {
            self.0.delete_stream(locations)
        }

        fn list(
            &self,
            prefix: Option<&object_store::path::Path>,
        ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
        {
            self.0.list(prefix)
        }

        async fn list_with_delimiter(
            &self,
            prefix: Option<&object_store::path::Path>,
        ) -> object_store::Result<object_store::ListResult> {
            self.0.list_with_delimiter(prefix).await
        }

        async fn copy_opts(
            &self,
            from: &object_store::path::Path,
            to: &object_store::path::Path,
            options: object_store::CopyOptions,
        ) -> object_store::Result<()> {
            self.0.copy_opts(from, to, options).await
        }
    }
}

/// GCS-only behaviour: exact keys, what goes on the wire, a multi-chunk zip, outages.
#[cfg(feature = "gcs")]
mod gcs_backend {
    use agora_storage::Storage;
    use agora_storage::object::ObjectStorage;

    use super::gcs_emulator::{self, Emulator, GcsService};
    use super::*;

    /// The request lines (`METHOD target HTTP/1.1`) among the recorded bytes. A request
    /// line may follow the previous request's body directly, so it is searched for, not
    /// split on.
    fn request_lines(seen: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(seen);
        let mut lines = Vec::new();
        for method in ["GET /", "POST /", "PUT /", "DELETE /"] {
            for (at, _) in text.match_indices(method) {
                let rest = &text[at..];
                if let Some(end) = rest.find("\r\n") {
                    let line = &rest[..end];
                    if line.ends_with(" HTTP/1.1") {
                        lines.push((at, line.to_owned()));
                    }
                }
            }
        }
        lines.sort();
        lines.into_iter().map(|(_, l)| l).collect()
    }

    /// agora sends `ifGenerationMatch=0` on every create-only write (`.mod`, zip and
    /// `.info`). The emulator ignores it, so the wire is the only place to check it.
    #[tokio::test]
    async fn create_only_writes_carry_if_generation_match_0() {
        let emu = gcs_emulator::shared();
        let bucket = emu.bucket();
        let (relay, seen) = agora_testkit::forwarder::recording_relay(emu.port);
        let mut cfg = emu.config(&bucket);
        cfg.emulator_host = Some(format!("http://127.0.0.1:{relay}"));
        let s = ObjectStorage::gcs(&cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/pre"), v("v1.0.0"));
        // Over one resumable chunk (8 MiB), so the zip goes up in several requests.
        let zip: Vec<u8> = (0..9_000_000u32).map(|i| (i % 253) as u8).collect();
        s.put(&md, &ver, new_version(dir.path(), "p", &zip, "v1.0.0"))
            .await
            .unwrap();
        assert_eq!(read_zip(&s, &md, &ver, None).await, zip);

        let lines = request_lines(&seen.lock().unwrap());
        let starts: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("POST ") && l.contains("/upload/storage/v1/b/"))
            .collect();
        for name in ["v1.0.0.mod", "v1.0.0.zip", "v1.0.0.info"] {
            let upload = starts
                .iter()
                .find(|l| {
                    l.contains(&format!("%40v%2F{name}")) || l.contains(&format!("@v/{name}"))
                })
                .unwrap_or_else(|| panic!("no upload of {name} in {lines:#?}"));
            assert!(
                upload.contains("ifGenerationMatch=0"),
                "{name} was written without ifGenerationMatch=0: {upload}"
            );
        }
        // Nothing was written any other way (no plain PUT of an object, no XML API).
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with(&format!("PUT /{bucket}/"))),
            "{lines:#?}"
        );
    }

    #[tokio::test]
    async fn writes_athens_keys_exactly() {
        let emu = gcs_emulator::shared();
        let (s, bucket) = emu.storage();
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/Mixed/Case"), v("v1.0.0+incompatible"));
        s.put(
            &md,
            &ver,
            new_version(dir.path(), "k", b"z", "v1.0.0+incompatible"),
        )
        .await
        .unwrap();
        // List the bucket through the JSON API, as any other client would.
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                &format!(
                    "import json, urllib.request\n\
                     r = urllib.request.urlopen('http://127.0.0.1:{}/storage/v1/b/{bucket}/o')\n\
                     print('\\n'.join(sorted(i['name'] for i in json.load(r).get('items', []))))",
                    emu.port
                ),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let keys = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            keys.lines().collect::<Vec<_>>(),
            [
                "example.com/Mixed/Case/@v/v1.0.0+incompatible.info",
                "example.com/Mixed/Case/@v/v1.0.0+incompatible.mod",
                "example.com/Mixed/Case/@v/v1.0.0+incompatible.zip",
            ]
        );
    }

    #[tokio::test]
    async fn unreachable_emulator_is_unavailable_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let (md, ver) = (m("example.com/down"), v("v1.0.0"));
        let mut own = Emulator::start();
        let bucket = own.bucket();
        let s = ObjectStorage::gcs(&own.config(&bucket)).unwrap();
        s.put(&md, &ver, new_version(dir.path(), "d", b"z", "v1.0.0"))
            .await
            .unwrap();
        let z = s.zip(&md, &ver).await.unwrap();
        s.ready().await.unwrap();
        own.stop();

        let kinds = [
            s.info(&md, &ver).await.unwrap_err().kind(),
            s.go_mod(&md, &ver).await.unwrap_err().kind(),
            s.zip(&md, &ver).await.unwrap_err().kind(),
            s.list(&md).await.unwrap_err().kind(),
            s.exists(&md, &ver).await.unwrap_err().kind(),
            s.delete(&md, &ver).await.unwrap_err().kind(),
            s.ready().await.unwrap_err().kind(),
            s.put(
                &md,
                &v("v2.0.0"),
                new_version(dir.path(), "e", b"z", "v2.0.0"),
            )
            .await
            .unwrap_err()
            .kind(),
        ];
        assert!(
            kinds.iter().all(|k| *k == ErrorKind::Unavailable),
            "{kinds:?}"
        );
        let Err(err) = z.stream(0..1).await else {
            panic!("streaming from a stopped server succeeded");
        };
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");

        // Back (empty: the emulator runs in memory), the same storage works by itself.
        let again = Emulator::start_on(Some(own.port));
        again.create_bucket(&bucket);
        s.ready().await.unwrap();
        assert!(!s.exists(&md, &ver).await.unwrap());
    }

    /// A missing bucket fails readiness (the probe lists the bucket).
    #[tokio::test]
    async fn missing_bucket_is_not_ready() {
        let emu = gcs_emulator::shared();
        let s = ObjectStorage::gcs(&emu.config("agora-no-such-bucket")).unwrap();
        assert_eq!(s.ready().await.unwrap_err().kind(), ErrorKind::Unavailable);
        // Reads cannot tell a missing bucket from a missing object here: the emulator
        // answers both with a bare 404, where GCS says "The specified bucket does not
        // exist." (which agora reads as an outage). See docs/storage/gcs.md.
    }

    #[test]
    fn config_debug_redacts_the_key() {
        let cfg = agora_storage::object::GcsConfig {
            bucket: "b".into(),
            json_key: Some("c2VjcmV0LWtleQ==".into()),
            emulator_host: None,
        };
        let text = format!("{cfg:?}");
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
