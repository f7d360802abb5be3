//! Throwaway PostgreSQL 15 servers (Debian's `postgresql-15`, whose binaries live in
//! `/usr/lib/postgresql/15/bin`), one per test on its own port: `initdb` as the `postgres`
//! user (PostgreSQL refuses to run as root), then `postgres` itself under a guard shell,
//! listening on 127.0.0.1 only, with trust authentication. Stopped on drop, or by the
//! guard when the test process exits. A restart keeps the data directory and port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::thread;
use std::time::{Duration, Instant};

use crate::{free_port, guarded_server, run_with_timeout, stop_guarded, wait_port_closed};

const BIN: &str = "/usr/lib/postgresql/15/bin";
const HINT: &str = "PostgreSQL 15 is needed for the module index tests: \
                    `apt-get install -y postgresql-15` (scripts/test.sh does)";

/// A PostgreSQL server on 127.0.0.1.
pub struct Postgres {
    /// Its port (kept across [`Postgres::restart`]).
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.fast_shutdown();
        stop_guarded(&mut self.child);
    }
}

fn as_postgres(program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--",
        &format!("{BIN}/{program}"),
    ]);
    cmd
}

impl Postgres {
    /// A new cluster in `dir` (created, owned by `postgres`) with a database `database`,
    /// on a free port. Panics (never skips) when it cannot.
    pub fn start(dir: &Path, database: &str) -> Postgres {
        let dir = dir.to_path_buf();
        let out = run_with_timeout(
            Command::new("install")
                .args(["-d", "-o", "postgres", "-g", "postgres"])
                .arg(&dir),
            Duration::from_secs(10),
        );
        assert!(
            out.status.success(),
            "install -d {}: {out:?}",
            dir.display()
        );
        let out = run_with_timeout(
            as_postgres("initdb")
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(dir.join("data")),
            Duration::from_secs(60),
        );
        assert!(
            out.status.success(),
            "initdb failed ({}); {HINT}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = Postgres {
            port: 0,
            dir,
            child: None,
        };
        pg.spawn(None);
        pg.psql("postgres", &format!("CREATE DATABASE {database}"));
        pg
    }

    fn spawn(&mut self, port: Option<u16>) {
        let mut last = String::new();
        for _ in 0..3 {
            let port = port.unwrap_or_else(free_port);
            let child = guarded_server(
                "postgres",
                &format!(
                    "setpriv --reuid=postgres --regid=postgres --init-groups -- {BIN}/postgres \
                     -D \"$1\" -c listen_addresses=127.0.0.1 -p \"$2\" -k \"$3\" -c fsync=off"
                ),
                &[
                    self.dir.join("data").display().to_string(),
                    port.to_string(),
                    self.dir.display().to_string(),
                ],
            )
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh to start postgres: {e}"));
            self.child = Some(child);
            self.port = port;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if self.ready() {
                    return;
                }
                if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                    last = format!("postgres exited with {status} (port {port})");
                    break;
                }
                if Instant::now() > deadline {
                    last = format!("postgres not ready on port {port} within 30 s");
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            stop_guarded(&mut self.child);
            thread::sleep(Duration::from_millis(300));
        }
        panic!("cannot start PostgreSQL: {last}; {HINT}");
    }

    fn ready(&self) -> bool {
        run_with_timeout(
            Command::new(format!("{BIN}/pg_isready")).args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                "2",
            ]),
            Duration::from_secs(5),
        )
        .status
        .success()
    }

    /// `pg_ctl stop -m fast`: the guard's SIGTERM is PostgreSQL's "smart" shutdown,
    /// which waits for every client (agora keeps its connection) to leave.
    fn fast_shutdown(&self) {
        if self.child.is_some() {
            let _ = run_with_timeout(
                as_postgres("pg_ctl")
                    .args(["stop", "-m", "fast", "-w", "-t", "20", "-D"])
                    .arg(self.dir.join("data")),
                Duration::from_secs(30),
            );
        }
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&mut self) {
        self.fast_shutdown();
        stop_guarded(&mut self.child);
        wait_port_closed("postgres", self.port);
    }

    /// The same cluster again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port;
        self.spawn(Some(port));
    }

    /// Runs `sql` with psql in `database`; returns the unaligned, tuples-only output.
    /// Panics with psql's stderr when it fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = run_with_timeout(
            Command::new("psql").args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ]),
            Duration::from_secs(30),
        );
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
