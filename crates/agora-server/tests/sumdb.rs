//! The checksum database client against a log built and signed here and
//! served over loopback: verification of a version (and refusal of a
//! mismatch, a forked log, a note signed by another key), full tiles kept in
//! storage and read once, and GONOSUMDB lookups refused.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use agora_core::{ModulePath, Version, dirhash};
use agora_server::sumdb::{SumDbConfig, SumDbs, Verified};
use agora_storage::Storage;
use agora_storage::memory::MemoryStorage;
use agora_sumdb::note::{self, Note, Signer};
use agora_sumdb::records;
use agora_sumdb::tlog::{self, Hash, Tile};

const NAME: &str = "sum.agora.test";
const ZIP_H1: &str = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn module(i: usize) -> String {
    format!("example.com/m{i}")
}

fn go_mod(i: usize) -> String {
    format!("module {}\n", module(i))
}

/// A log of `n` records, record `changed` (if any) with another zip hash.
struct Log {
    texts: Vec<String>,
    hashes: Vec<Hash>,
}

impl Log {
    fn new(n: usize, changed: Option<usize>) -> Log {
        let mut texts = Vec::new();
        let mut hashes = Vec::new();
        for i in 0..n {
            let zip = if changed == Some(i) {
                "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
            } else {
                ZIP_H1
            };
            let text = records::format_record_text(
                &module(i),
                "v1.0.0",
                zip,
                &dirhash::hash_go_mod(go_mod(i).as_bytes()),
            );
            let new = tlog::stored_hashes(i as u64, text.as_bytes(), &hashes).expect("hashes");
            hashes.extend(new);
            texts.push(text);
        }
        Log { texts, hashes }
    }

    fn signed_tree(&self, signer: &Signer) -> Vec<u8> {
        let n = self.texts.len() as u64;
        let tree = tlog::Tree {
            n,
            hash: tlog::tree_hash(n, &self.hashes).expect("tree"),
        };
        let note = Note {
            text: tlog::format_tree(tree),
            ..Note::default()
        };
        note::sign(&note, &[signer]).expect("sign")
    }

    fn answer(&self, path: &str, signer: &Signer) -> Option<Vec<u8>> {
        if path == "/latest" {
            return Some(self.signed_tree(signer));
        }
        if let Some(target) = path.strip_prefix("/lookup/") {
            let (m, _) = target.split_once('@')?;
            let id = self
                .texts
                .iter()
                .position(|t| t.starts_with(&format!("{m} ")))?;
            let mut body = tlog::format_record(id as u64, self.texts[id].as_bytes()).ok()?;
            body.extend_from_slice(&self.signed_tree(signer));
            return Some(body);
        }
        let tile = Tile::parse_path(path.strip_prefix('/')?).ok()?;
        if tile.l < 0 {
            return None;
        }
        tlog::read_tile_data(tile, &self.hashes).ok()
    }
}

struct Server {
    log: Mutex<Log>,
    signer: Mutex<Signer>,
    seen: Mutex<Vec<String>>,
}

fn serve(log: Log, signer: Signer) -> (String, Arc<Server>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = Arc::new(Server {
        log: Mutex::new(log),
        signer: Mutex::new(signer),
        seen: Mutex::new(Vec::new()),
    });
    let s = server.clone();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let s = s.clone();
            thread::spawn(move || handle(conn, &s));
        }
    });
    (url, server)
}

fn handle(conn: TcpStream, s: &Server) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut r = BufReader::new(conn.take(64 * 1024));
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        match r.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
    s.seen.lock().unwrap().push(path.clone());
    let answer = {
        let signer = s.signer.lock().unwrap();
        s.log.lock().unwrap().answer(&path, &signer)
    };
    let (status, body) = match answer {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut conn = r.into_inner().into_inner();
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(&body);
}

fn signer() -> (Signer, String) {
    let (skey, vkey) = note::keys_from_seed(NAME, &[7; 32]).unwrap();
    (Signer::parse(&skey).unwrap(), vkey)
}

fn sumdbs(url: &str, vkey: &str, nosum: &str, storage: Arc<dyn Storage>) -> SumDbs {
    // The binary installs the provider at startup.
    let _ = rustls::crypto::ring::default_provider().install_default();
    SumDbs::new(
        &SumDbConfig {
            athens_urls: Vec::new(),
            entries: vec![format!("{vkey} {url}")],
            nosum: nosum.to_owned(),
            verify: true,
            timeout: Duration::from_secs(10),
        },
        storage,
    )
    .unwrap()
}

async fn verify(dbs: &SumDbs, i: usize, zip: &str) -> Result<Verified, String> {
    dbs.verify(
        &ModulePath::new(&module(i)).unwrap(),
        &Version::from_trusted("v1.0.0"),
        zip,
        go_mod(i).as_bytes(),
    )
    .await
    .map_err(|e| e.to_string())
}

fn count(s: &Server, path: &str) -> usize {
    s.seen.lock().unwrap().iter().filter(|p| *p == path).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_verified_and_full_tiles_read_once() {
    let (signer, vkey) = signer();
    let (url, server) = serve(Log::new(300, None), signer);
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let dbs = sumdbs(&url, &vkey, "", storage.clone());
    assert_eq!(verify(&dbs, 5, ZIP_H1).await, Ok(Verified::Checked));
    assert_eq!(count(&server, "/tile/8/0/000"), 1);
    // Another record in the same full tile: the tile comes from storage.
    assert_eq!(verify(&dbs, 7, ZIP_H1).await, Ok(Verified::Checked));
    assert_eq!(count(&server, "/tile/8/0/000"), 1);
    // A second instance on the same storage reads it from there too.
    let again = sumdbs(&url, &vkey, "", storage.clone());
    assert_eq!(verify(&again, 9, ZIP_H1).await, Ok(Verified::Checked));
    assert_eq!(count(&server, "/tile/8/0/000"), 1);
    // And the proxy serves it from storage.
    let resp = dbs.handle(&format!("{NAME}/tile/8/0/000")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(count(&server, "/tile/8/0/000"), 1);

    let err = verify(&dbs, 6, "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=")
        .await
        .unwrap_err();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(err.contains("h1:CCCC") && err.contains(ZIP_H1), "{err}");
    let err = dbs
        .verify(
            &ModulePath::new(&module(6)).unwrap(),
            &Version::from_trusted("v1.0.0"),
            ZIP_H1,
            b"module example.com/other\n",
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checksum mismatch") && err.contains("/go.mod"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_log_is_refused() {
    let (signer, vkey) = signer();
    let (url, server) = serve(Log::new(300, None), signer);
    let dbs = sumdbs(&url, &vkey, "", Arc::new(MemoryStorage::new()));
    assert_eq!(verify(&dbs, 5, ZIP_H1).await, Ok(Verified::Checked));
    // The same database, grown, but with record 100 rewritten: properly signed,
    // and not an extension of the tree agora verified.
    *server.log.lock().unwrap() = Log::new(310, Some(100));
    let err = verify(&dbs, 305, ZIP_H1).await.unwrap_err();
    assert!(err.contains("inconsistent"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_signed_by_another_key_is_refused() {
    let (_, vkey) = signer();
    let (skey2, _) = note::keys_from_seed(NAME, &[9; 32]).unwrap();
    let (url, _server) = serve(Log::new(20, None), Signer::parse(&skey2).unwrap());
    let dbs = sumdbs(&url, &vkey, "", Arc::new(MemoryStorage::new()));
    let err = verify(&dbs, 5, ZIP_H1).await.unwrap_err();
    assert!(err.contains("tree note"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gonosumdb_modules_are_neither_looked_up_nor_verified() {
    let (signer, vkey) = signer();
    let (url, server) = serve(Log::new(20, None), signer);
    let dbs = sumdbs(
        &url,
        &vkey,
        "example.com/m1",
        Arc::new(MemoryStorage::new()),
    );
    let resp = dbs
        .handle(&format!("{NAME}/lookup/example.com/m1@v1.0.0"))
        .await;
    assert_eq!(resp.status(), 403);
    assert!(matches!(
        verify(&dbs, 1, "h1:wrong").await,
        Ok(Verified::Skipped(_))
    ));
    assert!(server.seen.lock().unwrap().is_empty());
    let resp = dbs
        .handle(&format!("{NAME}/lookup/example.com/m2@v1.0.0"))
        .await;
    assert_eq!(resp.status(), 200);
    let resp = dbs.handle("other.example/supported").await;
    assert_eq!(resp.status(), 404);
}
