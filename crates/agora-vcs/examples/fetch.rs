//! Fetches one module version directly from git, as the proxy would:
//! `.info`, `.mod` and `.zip` into an output directory, printing the hashes.
//!
//! `cargo run -p agora-vcs --example fetch -- <cache> <repo-url> <module> <repo-root-path> <query> <out-dir>`

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use agora_vcs::{DirectModule, GitRepo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cache, url, module, root, query, out] = &args[..] else {
        return Err(
            "usage: fetch <cache> <repo-url> <module> <repo-root-path> <query> <out-dir>".into(),
        );
    };
    let start = Instant::now();
    let repo = Arc::new(GitRepo::open(Path::new(cache), url)?);
    let m = DirectModule::new(module, repo, root, "")?;
    let info = m.stat(query)?;
    let version = info.version.clone();
    let out = Path::new(out);
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join(format!("{version}.info")), info.to_info_json())?;
    let gomod = m.go_mod(&version)?;
    std::fs::write(out.join(format!("{version}.mod")), &gomod)?;
    let zip = std::fs::File::create(out.join(format!("{version}.zip")))?;
    let summary = m.zip(&version, std::io::BufWriter::new(zip))?;
    println!(
        "{module} {version} {}\n{module} {version}/go.mod {}\n{} files in {:?}",
        summary.h1,
        agora_core::dirhash::hash_go_mod(&gomod),
        summary.files.len(),
        start.elapsed()
    );
    Ok(())
}
