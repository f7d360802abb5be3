//! The external storage server answers small zips on a reused connection at
//! once: agora's external backend keeps its connections alive, so a delayed
//! ACK would cost it about 40 ms per zip read.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agora_core::{ModulePath, Version};
use agora_external_server::{BlockingServer, Dialect, ServerOptions};
use agora_storage::fs::DiskStorage;
use agora_storage::{NewVersion, Storage};

const ZIP_LEN: usize = 4096;

fn read_response(conn: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).expect("response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head)
        .expect("utf-8 head")
        .to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("content-length")
        .trim()
        .parse()
        .expect("length");
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).expect("body");
    body
}

#[test]
fn small_zips_on_a_reused_connection_are_not_delayed() {
    // Disk storage reads on the blocking pool, so the response head goes out
    // before the first chunk of the body, as in production.
    let root = tempfile::tempdir().expect("storage dir");
    let storage: Arc<dyn Storage> = Arc::new(DiskStorage::open(root.path()).expect("storage"));
    let spool = tempfile::tempdir().expect("spool dir");
    let zip_path = spool.path().join("v.zip");
    let zip: Vec<u8> = (0..ZIP_LEN).map(|i| (i % 251) as u8).collect();
    std::fs::write(&zip_path, &zip).expect("zip");
    let module = ModulePath::new("example.com/small").expect("module");
    let version = Version::from_escaped("v1.0.0").expect("version");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(storage.put(
        &module,
        &version,
        NewVersion {
            info: bytes::Bytes::from_static(br#"{"Version":"v1.0.0"}"#),
            go_mod: bytes::Bytes::from_static(b"module example.com/small\n"),
            zip: zip_path,
        },
    ))
    .expect("put");

    let server = BlockingServer::start(
        "127.0.0.1:0".parse().expect("addr"),
        storage,
        ServerOptions {
            spool_dir: spool.path().to_owned(),
            dialect: Dialect::Agora,
        },
    )
    .expect("server");
    let mut conn = TcpStream::connect(server.addr()).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    const N: u32 = 40;
    let started = Instant::now();
    for _ in 0..N {
        conn.write_all(b"GET /example.com/small/@v/v1.0.0.zip HTTP/1.1\r\nHost: t\r\n\r\n")
            .expect("request");
        assert_eq!(read_response(&mut conn), zip);
    }
    let elapsed = started.elapsed();
    // 40 ms each with Nagle's algorithm on the accepted socket (1.6 s in all);
    // well under a millisecond each without. The bound only tells them apart.
    assert!(
        elapsed < Duration::from_millis(800),
        "{N} sequential small zips on one connection took {elapsed:?}"
    );
}
