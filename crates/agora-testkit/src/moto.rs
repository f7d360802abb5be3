//! moto (`moto_server`, installed by scripts/test.sh), the S3 server the storage tests run
//! against, in Athens' `s3` and `minio` layouts, with boto3 as "another client".

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::thread::{self};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::*;

const MOTO_HINT: &str = "moto provides the S3 server these tests run against: install it with \
                         `pip install 'moto[server]'` (scripts/test.sh does)";

/// The two bucket layouts agora reads and writes (Athens' `s3` and `minio` storage types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketLayout {
    /// `<module>/@v/<version>.{info,mod,zip}`.
    S3,
    /// `<module>/<version>/{<version>.info,go.mod,source.zip}`.
    Minio,
}

impl BucketLayout {
    /// The object key of one artifact (`ext` is `info`, `mod` or `zip`), with the decoded
    /// module path and version, as Athens writes them.
    pub fn key(self, path: &str, version: &str, ext: &str) -> String {
        match (self, ext) {
            (BucketLayout::S3, _) => format!("{path}/@v/{version}.{ext}"),
            (BucketLayout::Minio, "info") => format!("{path}/{version}/{version}.info"),
            (BucketLayout::Minio, "mod") => format!("{path}/{version}/go.mod"),
            (BucketLayout::Minio, "zip") => format!("{path}/{version}/source.zip"),
            (BucketLayout::Minio, other) => panic!("no MinIO key for .{other}"),
        }
    }

    /// The Athens environment selecting this storage type on the bucket at `endpoint`
    /// (`127.0.0.1:port`), with moto's dummy credentials.
    pub fn agora_env(self, endpoint: SocketAddr, bucket: &str) -> Vec<(String, String)> {
        let pairs: Vec<(&str, String)> = match self {
            BucketLayout::S3 => vec![
                ("ATHENS_STORAGE_TYPE", "s3".to_string()),
                ("ATHENS_S3_BUCKET_NAME", bucket.to_string()),
                ("AWS_REGION", "us-east-1".to_string()),
                ("AWS_ACCESS_KEY_ID", "test".to_string()),
                ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
                ("AWS_ENDPOINT", format!("http://{endpoint}")),
                ("AWS_FORCE_PATH_STYLE", "true".to_string()),
            ],
            BucketLayout::Minio => vec![
                ("ATHENS_STORAGE_TYPE", "minio".to_string()),
                ("ATHENS_MINIO_ENDPOINT", endpoint.to_string()),
                ("ATHENS_MINIO_ACCESS_KEY_ID", "test".to_string()),
                ("ATHENS_MINIO_SECRET_ACCESS_KEY", "test".to_string()),
                ("ATHENS_MINIO_BUCKET_NAME", bucket.to_string()),
                ("ATHENS_MINIO_USE_SSL", "false".to_string()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// An [`AgoraConfig`] under `dir` that stores in `bucket` at `endpoint` in this layout.
    pub fn agora_config(
        self,
        dir: &Path,
        upstream: impl Into<String>,
        endpoint: SocketAddr,
        bucket: &str,
    ) -> AgoraConfig {
        let mut cfg = AgoraConfig::new(dir, upstream);
        cfg.extra_env.extend(self.agora_env(endpoint, bucket));
        cfg
    }
}

/// A moto S3 server on 127.0.0.1, run under a shell that stops it when the test process
/// exits (whatever the way) or when the shell gets SIGTERM. Stopped on drop.
pub struct Moto {
    /// Its port (kept across [`Moto::restart`]).
    pub port: u16,
    child: Option<Child>,
    recording: Option<PathBuf>,
}

impl Moto {
    /// Starts moto on a free port. Panics (never skips) when it cannot.
    pub fn start() -> Moto {
        Moto::spawn(None, None)
    }

    /// Starts moto on `port` (a server that was stopped there comes back), or on a free
    /// port when `None`.
    pub fn start_on(port: Option<u16>) -> Moto {
        Moto::spawn(port, None)
    }

    /// Starts moto on a free port with its request recorder on, appending every request to
    /// `file` (`MOTO_ENABLE_RECORDING`, `MOTO_RECORDER_FILEPATH`), so that
    /// [`Moto::restart`] can bring the same objects back: moto itself keeps them in memory.
    pub fn start_recording(file: &Path) -> Moto {
        Moto::spawn(None, Some(file.to_path_buf()))
    }

    fn spawn(port: Option<u16>, recording: Option<PathBuf>) -> Moto {
        let mut last = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        for _ in 0..3 {
            let port = port.unwrap_or_else(free_port);
            let mut cmd = guarded_server(
                "moto",
                "moto_server -H 127.0.0.1 -p \"$1\"",
                &[port.to_string()],
            );
            if let Some(file) = &recording {
                cmd.env("MOTO_ENABLE_RECORDING", "true")
                    .env("MOTO_RECORDER_FILEPATH", file);
            }
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run sh to start moto_server: {e}"));
            let mut moto = Moto {
                port,
                child: Some(child),
                recording: recording.clone(),
            };
            let addr = moto.addr();
            loop {
                if http_get(addr, "/").is_ok_and(|r| r.status == 200) {
                    return moto;
                }
                if let Some(Ok(Some(status))) = moto.child.as_mut().map(Child::try_wait) {
                    last = format!("moto_server exited with {status} (port {port})");
                    break;
                }
                if Instant::now() > deadline {
                    last = format!("moto_server did not answer on port {port} within 30 s");
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            stop_guarded(&mut moto.child);
            // A fixed port (a restart) may still be held by the old server for a moment.
            thread::sleep(Duration::from_millis(300));
        }
        panic!("cannot start moto: {last}; {MOTO_HINT}");
    }

    /// `http://127.0.0.1:port`, the endpoint an S3 client is given.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Stops moto and waits until its port refuses connections. Everything it held is
    /// gone (moto keeps objects in memory), except what its recorder wrote.
    pub fn stop(&mut self) {
        stop_guarded(&mut self.child);
        wait_port_closed("moto", self.port);
    }

    /// Starts moto again on the same port and, when it records, replays the recording
    /// (every earlier request, in order), so the buckets and objects are back.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port;
        let recording = self.recording.clone();
        let fresh = Moto::spawn(Some(port), recording.clone());
        *self = fresh;
        if recording.is_some() {
            let resp = http_request_with(
                self.addr(),
                "POST",
                "/moto-api/recorder/replay-recording",
                &[("Content-Length", "0")],
            )
            .unwrap_or_else(|e| panic!("moto replay-recording: {e}"))
            .0;
            assert_eq!(
                resp.status,
                200,
                "moto replay-recording: {}",
                resp.summary()
            );
        }
    }

    /// Creates a bucket with a fresh name and returns the name (moto checks no
    /// signatures, so a bare PUT does).
    pub fn create_bucket(&self, hint: &str) -> String {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "{hint}-{}-{}-{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
        .to_ascii_lowercase();
        let name: String = name.chars().take(63).collect();
        let resp = http_request_with(
            self.addr(),
            "PUT",
            &format!("/{name}"),
            &[("Content-Length", "0")],
        )
        .unwrap_or_else(|e| panic!("creating bucket {name} on moto: {e}"))
        .0;
        assert_eq!(
            resp.status,
            200,
            "creating bucket {name}: {}",
            resp.summary()
        );
        name
    }

    /// Runs a python3 script with `c`, a boto3 S3 client of this server, and `sys.argv[1:]`
    /// = `args`; returns its stdout. Panics with its stderr when it fails.
    pub fn boto3(&self, script: &str, args: &[&str]) -> String {
        let prelude = format!(
            "import sys, json, boto3\n\
             c = boto3.client('s3', endpoint_url='http://{}', region_name='us-east-1', \
             aws_access_key_id='test', aws_secret_access_key='test')\n",
            self.addr()
        );
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(format!("{prelude}{script}")).args(args);
        let out = run_with_timeout(&mut cmd, Duration::from_secs(60));
        assert!(
            out.status.success(),
            "python3 with boto3 failed ({}); {MOTO_HINT}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every key in `bucket` (boto3, paginated).
    pub fn keys(&self, bucket: &str) -> BTreeSet<String> {
        let out = self.boto3(
            "p = c.get_paginator('list_objects_v2')\n\
             print(json.dumps([o['Key'] for page in p.paginate(Bucket=sys.argv[1]) \
             for o in page.get('Contents', [])]))",
            &[bucket],
        );
        serde_json::from_str::<Vec<String>>(out.trim())
            .unwrap_or_else(|e| panic!("boto3 key listing is not JSON ({e}): {out}"))
            .into_iter()
            .collect()
    }

    /// The objects of `bucket` whose keys start with `prefix`, with their bytes (boto3).
    pub fn objects(&self, bucket: &str, prefix: &str) -> BTreeMap<String, Vec<u8>> {
        let out = self.boto3(
            "p = c.get_paginator('list_objects_v2')\n\
             keys = [o['Key'] for page in p.paginate(Bucket=sys.argv[1], Prefix=sys.argv[2]) \
             for o in page.get('Contents', [])]\n\
             print(json.dumps({k: c.get_object(Bucket=sys.argv[1], Key=k)['Body'].read().hex() \
             for k in keys}))",
            &[bucket, prefix],
        );
        let map: BTreeMap<String, String> = serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("boto3 object dump is not JSON ({e}): {out}"));
        map.into_iter()
            .map(|(k, hex)| (k, from_hex(&hex)))
            .collect()
    }

    /// Open multipart uploads in `bucket` (their keys), as boto3 sees them.
    pub fn multipart_uploads(&self, bucket: &str) -> Vec<String> {
        let out = self.boto3(
            "print(json.dumps([u['Key'] for u in \
             c.list_multipart_uploads(Bucket=sys.argv[1]).get('Uploads', [])]))",
            &[bucket],
        );
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("boto3 upload listing is not JSON ({e}): {out}"))
    }

    /// Uploads files with boto3: `(key, local file)` pairs.
    pub fn put_files(&self, bucket: &str, objects: &[(String, PathBuf)]) {
        let spec: Vec<Value> = objects
            .iter()
            .map(|(k, p)| serde_json::json!([k, p.display().to_string()]))
            .collect();
        let spec = Value::Array(spec).to_string();
        self.boto3(
            "for k, p in json.loads(sys.argv[2]):\n    \
             c.put_object(Bucket=sys.argv[1], Key=k, Body=open(p, 'rb').read())",
            &[bucket, &spec],
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

/// A moto server shared by the tests of one test binary (each test uses its own bucket).
/// It lives until the test binary exits.
pub fn shared_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}
