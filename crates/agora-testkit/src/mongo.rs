//! SecantusDB (`secantusd-py`, installed by scripts/test.sh), the single-node server speaking
//! MongoDB's wire protocol over WiredTiger that the MongoDB storage tests run against when
//! `AGORA_TEST_MONGODB_URL` names no `mongod`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::{
    free_port, from_hex, guarded_server, run_with_timeout, stop_guarded, wait_port_closed,
};

const HINT: &str = "SecantusDB provides the MongoDB-wire server these tests run against: \
                    install it with `pip install SecantusDB==0.7.0b3` (scripts/test.sh does), \
                    or point AGORA_TEST_MONGODB_URL at a mongod";

/// A SecantusDB server on 127.0.0.1, in memory or with its data on disk (so that a restart
/// keeps the documents). Stopped on drop, or by its guard shell when the test process exits.
pub struct SecantusDb {
    /// Its port (kept across [`SecantusDb::restart`]).
    pub port: u16,
    data: Option<PathBuf>,
    child: Option<Child>,
    secured: Secured,
}

/// How a server started with [`SecantusDb::start_secured`] is reached.
#[derive(Debug, Clone, Default)]
pub struct Secured {
    /// TLS with this certificate (its CA is what clients trust).
    pub tls: Option<crate::tls::TestCert>,
    /// SCRAM-SHA-256 authentication, with this `(user, password)` created in `admin`.
    pub user: Option<(String, String)>,
}

impl Drop for SecantusDb {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

impl SecantusDb {
    /// Starts a server in memory on a free port. Panics (never skips) when it cannot.
    pub fn start() -> SecantusDb {
        SecantusDb::spawn(None, None, &Secured::default())
    }

    /// Starts a server on a free port with its WiredTiger files in `data`.
    pub fn start_in(data: &Path) -> SecantusDb {
        SecantusDb::spawn(None, Some(data), &Secured::default())
    }

    /// Starts a server with its data in `data` that speaks TLS and/or requires a user, as
    /// `secured` says. The user is created the way SecantusDB asks: once without
    /// authentication, then the server is restarted with it.
    pub fn start_secured(data: &Path, secured: Secured) -> SecantusDb {
        if let Some((user, password)) = &secured.user {
            let open = SecantusDb::spawn(None, Some(data), &Secured::default());
            open.pymongo(
                "admin",
                "db.command('createUser', sys.argv[1], pwd=sys.argv[2], roles=['root'])",
                &[user, password],
            );
            let port = open.port;
            drop(open);
            wait_port_closed("secantusd-py", port);
            return SecantusDb::spawn(Some(port), Some(data), &secured);
        }
        SecantusDb::spawn(None, Some(data), &secured)
    }

    fn spawn(port: Option<u16>, data: Option<&Path>, secured: &Secured) -> SecantusDb {
        let mut last = String::new();
        for _ in 0..3 {
            let port = port.unwrap_or_else(free_port);
            let storage = match data {
                Some(dir) => {
                    std::fs::create_dir_all(dir).expect("create SecantusDB's data directory");
                    dir.display().to_string()
                }
                None => ":memory:".to_owned(),
            };
            // An explicit empty config: without `--config` it would read a stray
            // ./secantusd.toml, ~/.secantus/ or /etc/secantus/ file if there is one.
            let config = std::env::temp_dir().join("agora-testkit-secantusd-empty.toml");
            std::fs::write(&config, "").expect("write SecantusDB's empty config file");
            let mut args = vec![port.to_string(), storage, config.display().to_string()];
            let mut extra = String::new();
            if let Some(cert) = &secured.tls {
                extra.push_str(" --tls-cert-file \"$4\" --tls-key-file \"$5\"");
                args.push(cert.cert.display().to_string());
                args.push(cert.key.display().to_string());
            }
            if secured.user.is_some() {
                extra.push_str(" --auth");
            }
            if data.is_some() {
                // What a restart must find (a created user, stored modules) is on disk even
                // if a slow shutdown ends in SIGKILL.
                extra.push_str(" --sync-on-commit");
            }
            let child = guarded_server(
                "secantusdb",
                &format!(
                    "secantusd-py --config \"$3\" --host 127.0.0.1 --port \"$1\" \
                     --storage-path \"$2\" --standalone --log-level WARNING{extra}"
                ),
                &args,
            )
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh to start secantusd-py: {e}"));
            let mut db = SecantusDb {
                port,
                data: data.map(Path::to_path_buf),
                child: Some(child),
                secured: secured.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if db.ready().is_ok() {
                    return db;
                }
                if let Some(Ok(Some(status))) = db.child.as_mut().map(Child::try_wait) {
                    last = format!("secantusd-py exited with {status} (port {port})");
                    break;
                }
                if Instant::now() > deadline {
                    last = format!("secantusd-py did not answer a ping on port {port} within 30 s");
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            stop_guarded(&mut db.child);
            // A fixed port (a restart) may still be held by the old server for a moment.
            thread::sleep(Duration::from_millis(300));
        }
        panic!("cannot start SecantusDB: {last}; {HINT}");
    }

    /// `mongodb://127.0.0.1:port/?directConnection=true`, the URL a driver is given.
    pub fn url(&self) -> String {
        format!("mongodb://{}/?directConnection=true", self.addr())
    }

    /// The URL this kit's own clients (pymongo) use: [`SecantusDb::url`] plus the user's
    /// credentials and the CA file of a secured server.
    fn client_url(&self) -> String {
        let mut url = match &self.secured.user {
            Some((user, password)) => format!(
                "mongodb://{user}:{password}@{}/?directConnection=true&authSource=admin",
                self.addr()
            ),
            None => self.url(),
        };
        if let Some(cert) = &self.secured.tls {
            url.push_str(&format!("&tls=true&tlsCAFile={}", cert.ca.display()));
        }
        url
    }

    /// Whether the server answers: the raw ping, or pymongo for a secured one (the raw
    /// ping speaks neither TLS nor SCRAM).
    fn ready(&self) -> std::io::Result<()> {
        if self.secured.tls.is_none() && self.secured.user.is_none() {
            return self.ping();
        }
        let script = "import sys, pymongo\n\
                      pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command('ping')";
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script).arg(self.client_url());
        let out = run_with_timeout(&mut cmd, Duration::from_secs(10));
        if out.status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        }
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&mut self) {
        stop_guarded(&mut self.child);
        wait_port_closed("secantusd-py", self.port);
    }

    /// The same server again, on the same port, over the same data (an in-memory one comes
    /// back empty).
    pub fn restart(&mut self) {
        self.stop();
        let mut again = SecantusDb::spawn(Some(self.port), self.data.as_deref(), &self.secured);
        self.child = again.child.take();
    }

    /// `{ping: 1}` on `admin` as one OP_MSG, answered with `ok: 1`: the server is up and
    /// serves commands, not only accepting connections. Bounded to 2 s and 64 KiB.
    pub fn ping(&self) -> std::io::Result<()> {
        let mut doc = Vec::new();
        doc.extend_from_slice(&[0; 4]);
        doc.push(0x10);
        doc.extend_from_slice(b"ping\0");
        doc.extend_from_slice(&1i32.to_le_bytes());
        doc.push(0x02);
        doc.extend_from_slice(b"$db\0");
        doc.extend_from_slice(&6i32.to_le_bytes());
        doc.extend_from_slice(b"admin\0");
        doc.push(0);
        let len = doc.len() as i32;
        doc[..4].copy_from_slice(&len.to_le_bytes());
        let mut msg = Vec::new();
        let total = 16 + 4 + 1 + doc.len();
        msg.extend_from_slice(&(total as i32).to_le_bytes());
        msg.extend_from_slice(&1i32.to_le_bytes());
        msg.extend_from_slice(&0i32.to_le_bytes());
        msg.extend_from_slice(&2013i32.to_le_bytes());
        msg.extend_from_slice(&0u32.to_le_bytes());
        msg.push(0);
        msg.extend_from_slice(&doc);

        let mut conn = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(2))?;
        conn.set_read_timeout(Some(Duration::from_secs(2)))?;
        conn.set_write_timeout(Some(Duration::from_secs(2)))?;
        conn.write_all(&msg)?;
        let mut header = [0u8; 16];
        conn.read_exact(&mut header)?;
        let len = i32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let len = usize::try_from(len)
            .ok()
            .filter(|l| (16..=64 * 1024).contains(l))
            .ok_or_else(|| std::io::Error::other(format!("reply length {len}")))?;
        let mut body = vec![0u8; len - 16];
        conn.read_exact(&mut body)?;
        // `ok` as a double 1.0 (what servers send) or an int32 1.
        let ok_double = [&[0x01][..], b"ok\0", &1f64.to_le_bytes()].concat();
        let ok_int = [&[0x10][..], b"ok\0", &1i32.to_le_bytes()].concat();
        if body.windows(ok_double.len()).any(|w| w == ok_double)
            || body.windows(ok_int.len()).any(|w| w == ok_int)
        {
            Ok(())
        } else {
            Err(std::io::Error::other("ping not answered with ok: 1"))
        }
    }
}

/// Athens' layout as another client (pymongo, which comes with SecantusDB) reads and writes
/// it. Keys name one artifact as Athens' S3 layout does, `<module>/@v/<version>.<ext>`
/// (`info`, `mod`, `zip`), so the storage scenarios read them like any store's, and a
/// GridFS file no document names is `fs.files/<filename>#<id>`, so leftovers show.
impl SecantusDb {
    /// Runs a python3 script with `db`, the pymongo database `database` of this server, and
    /// `sys.argv[1:]` = `args`; returns its stdout. Panics with its stderr when it fails.
    pub fn pymongo(&self, database: &str, script: &str, args: &[&str]) -> String {
        let prelude = format!(
            "import sys, json, pymongo, gridfs\n\
             from bson.binary import Binary\n\
             db = pymongo.MongoClient('{}', serverSelectionTimeoutMS=10000)[{database:?}]\n",
            self.client_url()
        );
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(format!("{prelude}{script}")).args(args);
        let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
        assert!(
            out.status.success(),
            "python3 with pymongo failed ({}); {HINT}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every artifact in `database` (collection `modules`, GridFS bucket `fs`): a document's
    /// `info` and `mod`, and its zip (the file its `agora_zip_id` names, else the newest
    /// file of Athens' filename), plus every GridFS file no document names.
    pub fn athens_contents(&self, database: &str) -> BTreeMap<String, Vec<u8>> {
        let out = self.pymongo(
            database,
            "fs = gridfs.GridFS(db)\n\
             out, used = {}, set()\n\
             for d in db.modules.find():\n    \
                 k = d['module'] + '/@v/' + d['version']\n    \
                 out[k + '.info'] = bytes(d['info']).hex()\n    \
                 out[k + '.mod'] = bytes(d['mod']).hex()\n    \
                 name = d['module'].replace('/', '_') + '_' + d['version'] + '.zip'\n    \
                 try:\n        \
                     f = fs.get(d['agora_zip_id']) if 'agora_zip_id' in d else fs.get_last_version(name)\n    \
                 except gridfs.errors.NoFile:\n        \
                     continue\n    \
                 used.add(f._id)\n    \
                 out[k + '.zip'] = f.read().hex()\n\
             for f in fs.find():\n    \
                 if f._id not in used:\n        \
                     out['fs.files/%s#%s' % (f.filename, f._id)] = f.read().hex()\n\
             print(json.dumps(out))",
            &[],
        );
        let map: BTreeMap<String, String> = serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("pymongo dump is not JSON ({e}): {out}"));
        map.into_iter()
            .map(|(k, hex)| (k, from_hex(&hex)))
            .collect()
    }

    /// Writes `(key, local file)` pairs (keys as in [`SecantusDb::athens_contents`]) the way
    /// Athens saves a version: the zip into GridFS by filename only, then the document.
    pub fn athens_seed(&self, database: &str, objects: &[(String, PathBuf)]) {
        let spec: Vec<serde_json::Value> = objects
            .iter()
            .map(|(k, p)| serde_json::json!([k, p.display().to_string()]))
            .collect();
        let spec = serde_json::Value::Array(spec).to_string();
        self.pymongo(
            database,
            "versions = {}\n\
             for k, p in json.loads(sys.argv[1]):\n    \
                 m, ve = k.rsplit('/@v/', 1)\n    \
                 v, ext = ve.rsplit('.', 1)\n    \
                 versions.setdefault((m, v), {})[ext] = open(p, 'rb').read()\n\
             b = gridfs.GridFSBucket(db)\n\
             for (m, v), a in versions.items():\n    \
                 b.upload_from_stream(m.replace('/', '_') + '_' + v + '.zip', a['zip'])\n    \
                 db.modules.insert_one({'module': m, 'version': v, \
                 'mod': Binary(a['mod']), 'info': Binary(a['info'])})",
            &[&spec],
        );
    }
}

/// A SecantusDB server shared by the tests of one test binary (each test uses its own
/// database). It lives until the test binary exits.
pub fn shared_secantusdb() -> &'static SecantusDb {
    static DB: OnceLock<SecantusDb> = OnceLock::new();
    DB.get_or_init(SecantusDb::start)
}
