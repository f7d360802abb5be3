//! One storage compliance suite, run against every backend built here.
//!
//! Each test takes a fresh, empty backend. Remote backends will join this list
//! as they arrive; the tests do not know which backend they talk to.

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
    storage: Arc<dyn Storage>,
    dir: tempfile::TempDir,
}

fn disk() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = DiskStorage::open(dir.path().join("root")).unwrap();
    Fixture {
        storage: Arc::new(storage),
        dir,
    }
}

fn memory() -> Fixture {
    Fixture {
        storage: Arc::new(MemoryStorage::new()),
        dir: tempfile::tempdir().unwrap(),
    }
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

macro_rules! suite {
    ($($backend:ident),*) => {$(
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn absent_module_and_version() {
                let f = super::$backend();
                let (md, ver) = (m("example.com/absent"), v("v1.0.0"));
                assert!(f.storage.list(&md).await.unwrap().is_empty());
                assert!(!f.storage.exists(&md, &ver).await.unwrap());
                assert_eq!(f.storage.info(&md, &ver).await.unwrap_err().kind(), ErrorKind::NotFound);
                assert_eq!(f.storage.go_mod(&md, &ver).await.unwrap_err().kind(), ErrorKind::NotFound);
                assert_eq!(f.storage.zip(&md, &ver).await.unwrap_err().kind(), ErrorKind::NotFound);
                assert_eq!(f.storage.delete(&md, &ver).await.unwrap_err().kind(), ErrorKind::NotFound);
            }

            #[tokio::test]
            async fn put_then_read_back() {
                let f = super::$backend();
                let (md, ver) = (m("example.com/a"), v("v1.2.3"));
                let zip: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
                let nv = new_version(f.dir.path(), "example.com/a".replace('/', "_").as_str(), &zip, "v1.2.3");
                let info = nv.info.clone();
                let go_mod = nv.go_mod.clone();
                f.storage.put(&md, &ver, nv).await.unwrap();
                assert!(f.storage.exists(&md, &ver).await.unwrap());
                assert_eq!(f.storage.info(&md, &ver).await.unwrap(), info);
                assert_eq!(f.storage.go_mod(&md, &ver).await.unwrap(), go_mod);
                assert_eq!(read_zip(&*f.storage, &md, &ver, None).await, zip);
                assert_eq!(read_zip(&*f.storage, &md, &ver, Some(100..300_000)).await, zip[100..300_000]);
                assert_eq!(read_zip(&*f.storage, &md, &ver, Some(699_999..700_000)).await, zip[699_999..]);
                assert_eq!(f.storage.list(&md).await.unwrap(), vec!["v1.2.3".to_string()]);
            }

            #[tokio::test]
            async fn put_is_create_only() {
                let f = super::$backend();
                let (md, ver) = (m("example.com/once"), v("v1.0.0"));
                f.storage.put(&md, &ver, new_version(f.dir.path(), "first", b"first zip", "v1.0.0")).await.unwrap();
                let err = f.storage
                    .put(&md, &ver, new_version(f.dir.path(), "second", b"second zip, longer", "v1.0.0"))
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::AlreadyExists);
                assert_eq!(read_zip(&*f.storage, &md, &ver, None).await, b"first zip");
                assert_eq!(f.storage.go_mod(&md, &ver).await.unwrap(), "module first\n");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn racing_puts_store_exactly_one() {
                let f = super::$backend();
                let (md, ver) = (m("example.com/race"), v("v0.1.0"));
                let mut tasks = Vec::new();
                for i in 0..16 {
                    let nv = new_version(f.dir.path(), &format!("w{i}"), format!("zip from writer {i}").as_bytes(), "v0.1.0");
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
                let winner = std::str::from_utf8(&go_mod).unwrap().trim().trim_start_matches("module ").to_string();
                let zip = read_zip(&*f.storage, &md, &ver, None).await;
                assert_eq!(zip, format!("zip from writer {}", winner.trim_start_matches('w')).into_bytes());
            }

            #[tokio::test]
            async fn listing_is_isolated_by_module_path() {
                let f = super::$backend();
                for (p, ver) in [("a.test/b", "v1.0.0"), ("a.test/b-c", "v1.1.0"), ("a.test/b/v2", "v2.0.0"), ("a.test/b/sub", "v0.1.0")] {
                    f.storage.put(&m(p), &v(ver), new_version(f.dir.path(), &p.replace('/', "_"), b"z", ver)).await.unwrap();
                }
                assert_eq!(f.storage.list(&m("a.test/b")).await.unwrap(), vec!["v1.0.0".to_string()]);
                assert_eq!(f.storage.list(&m("a.test/b-c")).await.unwrap(), vec!["v1.1.0".to_string()]);
                assert_eq!(f.storage.list(&m("a.test/b/v2")).await.unwrap(), vec!["v2.0.0".to_string()]);
                assert!(f.storage.list(&m("a.test")).await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn case_and_incompatible_versions_are_kept_distinct() {
                let f = super::$backend();
                let upper = m("example.com/Azure/SDK");
                let lower = m("example.com/azure/sdk");
                f.storage.put(&upper, &v("v2.0.0+incompatible"), new_version(f.dir.path(), "u", b"upper", "v2.0.0+incompatible")).await.unwrap();
                f.storage.put(&lower, &v("v1.0.0-RC1"), new_version(f.dir.path(), "l", b"lower", "v1.0.0-RC1")).await.unwrap();
                assert_eq!(f.storage.list(&upper).await.unwrap(), vec!["v2.0.0+incompatible".to_string()]);
                assert_eq!(f.storage.list(&lower).await.unwrap(), vec!["v1.0.0-RC1".to_string()]);
                assert_eq!(read_zip(&*f.storage, &upper, &v("v2.0.0+incompatible"), None).await, b"upper");
            }

            #[tokio::test]
            async fn delete_removes_a_version() {
                let f = super::$backend();
                let (md, ver) = (m("example.com/del"), v("v1.0.0"));
                f.storage.put(&md, &ver, new_version(f.dir.path(), "d", b"z", "v1.0.0")).await.unwrap();
                f.storage.delete(&md, &ver).await.unwrap();
                assert!(!f.storage.exists(&md, &ver).await.unwrap());
                assert!(f.storage.list(&md).await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn ready_when_usable() {
                let f = super::$backend();
                f.storage.ready().await.unwrap();
            }
        }
    )*};
}

suite!(disk, memory);

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
    async fn not_ready_when_root_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let s = DiskStorage::open(&root).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::write(&root, "a file where the root was").unwrap();
        assert!(s.ready().await.is_err());
    }
}
