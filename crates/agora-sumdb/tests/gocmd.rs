//! The go command itself as the judge: a log built and signed by this
//! crate, served over loopback HTTP, verifies a module download with
//! `GOSUMDB="NAME+VKEY URL"`; the same log signed by another key, or
//! holding another hash for the module, makes the go command refuse it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use agora_core::dirhash;
use agora_sumdb::note::{self, Note, Signer};
use agora_sumdb::records;
use agora_sumdb::tlog::{self, Hash, Tile};

const MODULE: &str = "example.com/hello";
const VERSION: &str = "v1.0.0";
const DB: &str = "sum.agora.test";
const GO_MOD: &str = "module example.com/hello\n\ngo 1.21\n";

/// Writes a file proxy holding the module; returns (zip h1, go.mod h1).
fn write_proxy(dir: &Path) -> (String, String) {
    let v = dir.join(MODULE).join("@v");
    std::fs::create_dir_all(&v).expect("mkdir");
    std::fs::write(v.join("list"), format!("{VERSION}\n")).expect("list");
    std::fs::write(
        v.join(format!("{VERSION}.info")),
        format!("{{\"Version\":\"{VERSION}\",\"Time\":\"2024-01-01T00:00:00Z\"}}\n"),
    )
    .expect("info");
    std::fs::write(v.join(format!("{VERSION}.mod")), GO_MOD).expect("mod");
    let zip_path = v.join(format!("{VERSION}.zip"));
    let f = std::fs::File::create(&zip_path).expect("zip file");
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        ("go.mod", GO_MOD),
        ("hello.go", "package hello\n\nconst Hello = \"hi\"\n"),
    ] {
        z.start_file(format!("{MODULE}@{VERSION}/{name}"), opts)
            .expect("zip entry");
        z.write_all(body.as_bytes()).expect("zip write");
    }
    z.finish().expect("zip finish");
    (
        dirhash::hash_zip_file(&zip_path).expect("zip hash"),
        dirhash::hash_go_mod(GO_MOD.as_bytes()),
    )
}

/// What the database server answers.
struct Db {
    texts: Vec<String>,
    hashes: Vec<Hash>,
    signed_tree: Vec<u8>,
}

impl Db {
    /// A log of a few other modules, then the record for MODULE@VERSION
    /// with the given hashes, signed with `signer`.
    fn new(zip_h1: &str, mod_h1: &str, signer: &Signer) -> Db {
        let mut texts: Vec<String> = (0..5)
            .map(|i| {
                records::format_record_text(
                    &format!("example.com/other{i}"),
                    "v0.1.0",
                    "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                    "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=",
                )
            })
            .collect();
        texts.push(records::format_record_text(MODULE, VERSION, zip_h1, mod_h1));
        let mut hashes = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let new = tlog::stored_hashes(i as u64, t.as_bytes(), &hashes).expect("hashes");
            hashes.extend(new);
        }
        let n = texts.len() as u64;
        let tree = tlog::Tree {
            n,
            hash: tlog::tree_hash(n, &hashes).expect("tree"),
        };
        let note = Note {
            text: tlog::format_tree(tree),
            ..Note::default()
        };
        let signed_tree = note::sign(&note, &[signer]).expect("sign");
        Db {
            texts,
            hashes,
            signed_tree,
        }
    }

    fn answer(&self, path: &str) -> Option<Vec<u8>> {
        if path == "/latest" {
            return Some(self.signed_tree.clone());
        }
        if path == records::lookup_path(MODULE, VERSION).ok()? {
            let id = self.texts.len() - 1;
            let mut body = tlog::format_record(id as u64, self.texts[id].as_bytes()).ok()?;
            body.extend_from_slice(&self.signed_tree);
            return Some(body);
        }
        let tile = Tile::parse_path(path.strip_prefix('/')?).ok()?;
        if tile.l < 0 {
            return None;
        }
        tlog::read_tile_data(tile, &self.hashes).ok()
    }
}

/// Serves `db` on loopback until the test process ends; returns its URL
/// and a log of the paths asked for.
fn serve(db: Db) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let db = Arc::new(db);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let db = db.clone();
            let seen = seen2.clone();
            thread::spawn(move || handle(conn, &db, &seen));
        }
    });
    (url, seen)
}

fn handle(conn: TcpStream, db: &Db, seen: &std::sync::Mutex<Vec<String>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut r = BufReader::new(conn.take(64 * 1024));
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    // Headers are not needed; read them off so the client sees a clean
    // close.
    loop {
        let mut h = String::new();
        match r.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
    if let Ok(mut s) = seen.lock() {
        s.push(path.clone());
    }
    let (status, body) = match db.answer(&path) {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let mut conn = r.into_inner().into_inner();
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(&body);
}

/// Runs `go mod download -json MODULE@VERSION` in a fresh GOPATH with only
/// the given checksum database; returns (success, stdout + stderr).
fn go_download(proxy: &Path, gosumdb: &str) -> (bool, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).expect("work");
    let mut child = Command::new(agora_testkit::paths::go_bin())
        .args(["mod", "download", "-json", &format!("{MODULE}@{VERSION}")])
        .current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("GOPATH", tmp.path().join("gopath"))
        .env("GOCACHE", tmp.path().join("cache"))
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on")
        .env("GOFLAGS", "-modcacherw")
        .env("GOPROXY", format!("file://{}", proxy.display()))
        .env("GOSUMDB", gosumdb)
        .env("GONOSUMDB", "")
        .env("GOPRIVATE", "")
        .env("GOINSECURE", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("go runs");
    // Bounded in time: the go command gets a minute.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("go mod download did not finish in 60s");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    (status.success(), out)
}

#[test]
fn go_command_verifies_a_module_through_our_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (zip_h1, mod_h1) = write_proxy(dir.path());
    let (skey, vkey) = note::generate_key(DB).expect("keygen");
    let signer = Signer::parse(&skey).expect("signer");
    let (url, seen) = serve(Db::new(&zip_h1, &mod_h1, &signer));

    let (ok, out) = go_download(dir.path(), &format!("{vkey} {url}"));
    assert!(ok, "go rejected a genuine log:\n{out}");
    assert!(out.contains(&format!("\"Sum\": \"{zip_h1}\"")), "{out}");
    let seen = seen.lock().expect("lock").clone();
    assert!(
        seen.contains(&records::lookup_path(MODULE, VERSION).expect("path")),
        "the go command never looked the module up: {seen:?}"
    );
    assert!(
        seen.iter().any(|p| p.starts_with("/tile/8/0/")),
        "the go command fetched no tiles: {seen:?}"
    );
}

#[test]
fn go_command_rejects_a_log_signed_by_another_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (zip_h1, mod_h1) = write_proxy(dir.path());
    let (_, vkey) = note::generate_key(DB).expect("keygen");
    let (other_skey, _) = note::generate_key(DB).expect("keygen");
    let other = Signer::parse(&other_skey).expect("signer");
    let (url, _) = serve(Db::new(&zip_h1, &mod_h1, &other));

    let (ok, out) = go_download(dir.path(), &format!("{vkey} {url}"));
    assert!(!ok, "go accepted a log signed by another key:\n{out}");
    assert!(out.contains("verifying"), "{out}");
    assert!(
        out.contains("no verifiable signatures") || out.contains("invalid signature"),
        "{out}"
    );
}

#[test]
fn go_command_rejects_a_log_with_another_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (zip_h1, mod_h1) = write_proxy(dir.path());
    let (skey, vkey) = note::generate_key(DB).expect("keygen");
    let signer = Signer::parse(&skey).expect("signer");
    let wrong = "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=";
    assert_ne!(zip_h1, wrong);
    let (url, _) = serve(Db::new(wrong, &mod_h1, &signer));

    let (ok, out) = go_download(dir.path(), &format!("{vkey} {url}"));
    assert!(!ok, "go accepted a zip whose logged hash differs:\n{out}");
    assert!(out.contains("checksum mismatch"), "{out}");
    assert!(out.contains(&zip_h1) && out.contains(wrong), "{out}");
}

#[test]
fn go_command_accepts_our_verifier_key_syntax() {
    // A connection error, not a key-format error, proves the go command
    // parsed the key; a mangled key is refused as malformed.
    let dir = tempfile::tempdir().expect("tempdir");
    write_proxy(dir.path());
    let (_, vkey) = note::generate_key(DB).expect("keygen");
    let (ok, out) = go_download(dir.path(), &format!("{vkey} http://127.0.0.1:1"));
    assert!(!ok);
    assert!(!out.contains("malformed verifier id"), "{out}");
    assert!(out.contains("connect") || out.contains("refused"), "{out}");

    let mangled = vkey.replacen('+', "+0", 1);
    let (ok, out) = go_download(dir.path(), &format!("{mangled} http://127.0.0.1:1"));
    assert!(!ok);
    assert!(out.contains("malformed verifier id"), "{out}");
}
