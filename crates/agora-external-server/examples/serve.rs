//! The external storage protocol server as a process, over a disk tree, for benchmarks
//! (`bench/storage.sh`) and manual runs; the tests start it in-process instead.
//!
//! ```text
//! cargo run --release -p agora-external-server --example serve -- ADDR ROOT SPOOL
//! ```
//!
//! Serves agora's dialect on `ADDR` (e.g. `127.0.0.1:18100`) over a `DiskStorage` at
//! `ROOT`, spooling saves in `SPOOL`, until it is killed.

use std::path::PathBuf;
use std::sync::Arc;

use agora_external_server::{BlockingServer, Dialect, ServerOptions};
use agora_storage::fs::DiskStorage;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, root, spool] = args.as_slice() else {
        return Err("usage: serve ADDR ROOT SPOOL".into());
    };
    std::fs::create_dir_all(spool)?;
    let disk = DiskStorage::open(root)?;
    let server = BlockingServer::start(
        addr.parse()?,
        Arc::new(disk),
        ServerOptions {
            spool_dir: PathBuf::from(spool),
            dialect: Dialect::Agora,
        },
    )?;
    println!("listening on {}", server.url());
    loop {
        std::thread::park();
    }
}
