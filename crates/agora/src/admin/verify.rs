//! `agora verify [PATTERN...]`: re-reads every stored version and names
//! each damaged one: a zip that breaks the module zip rules (or cannot be
//! read whole), an `.info` that does not parse or names another version,
//! a go.mod or zip whose hash differs from the `--go-sum` files given or
//! from the checksum database (`--sumdb`).
//!
//! A `.mod` that differs from the go.mod inside the zip is reported but
//! not counted as damage: the go command hashes the two separately and
//! accepts a proxy whose `.mod` differs (its own test proxy has several),
//! so agora stores such versions as upstream served them.

use std::path::PathBuf;
use std::sync::Arc;

use agora_config::Settings;
use agora_core::{ModulePath, RevInfo, Version, zipcheck};
use agora_storage::Storage;
use anyhow::bail;
use futures_util::StreamExt;

use super::progress::Progress;
use super::sources::{self, GoSum};
use super::{Failures, spool_zip, stored_versions};

/// What `agora verify` was asked to do.
#[derive(clap::Args)]
pub struct Args {
    /// Module path globs (GOPRIVATE syntax) or module@version; none: all.
    pub patterns: Vec<String>,
    /// go.sum files whose hashes the stored versions must match.
    #[arg(long = "go-sum")]
    pub go_sums: Vec<PathBuf>,
    /// A checksum database to check every version against, in GOSUMDB
    /// syntax; modules GONOSUMDB (or GOPRIVATE) names are not looked up.
    #[arg(long)]
    pub sumdb: Option<String>,
    /// Versions read at once.
    #[arg(long, short = 'j', default_value_t = 4)]
    pub jobs: usize,
}

/// Runs the command; `Ok(false)` when any version is damaged.
pub async fn run(
    settings: &Settings,
    storage: Arc<dyn Storage>,
    args: Args,
) -> anyhow::Result<bool> {
    let mut sums = GoSum::default();
    for f in &args.go_sums {
        sums.add(&sources::read_input(f)?, &f.display().to_string())?;
    }
    let sums = Arc::new(sums);
    let sumdb = super::sumdb_client(settings, args.sumdb.as_deref())?;
    // Shown from the start: listing a large bucket takes a while.
    let progress = Progress::start("verify", 0);
    let versions = stored_versions(storage.as_ref(), &args.patterns, &progress).await?;
    let mut failures = Failures::default();
    let mut notes = Vec::new();
    let mut good = 0u64;
    let mut work = futures_util::stream::iter(versions.into_iter().map(|(m, v)| {
        let (storage, sums, sumdb) = (storage.clone(), sums.clone(), sumdb.clone());
        let (tmp, timeout) = (settings.tmp_dir.clone(), settings.upstream.stash_timeout);
        progress.begin();
        async move {
            let what = format!("{m}@{v}");
            (what, check(storage, sums, sumdb, m, v, tmp, timeout).await)
        }
    }))
    .buffer_unordered(args.jobs.max(1));
    while let Some((what, r)) = work.next().await {
        match r {
            Ok((size, note)) => {
                progress.end(true, size);
                good += 1;
                if let Some(n) = note {
                    notes.push(format!("{what}: {n}"));
                }
            }
            Err(e) => {
                progress.end(false, 0);
                tracing::warn!(version = %what, error = %format!("{e:#}"), "damaged");
                failures.add(what, format!("damaged: {e:#}"));
            }
        }
    }
    drop(work);
    progress.finish();
    notes.sort();
    for n in &notes {
        eprintln!("verify: note {n}");
    }
    failures.report(
        "verify",
        &format!("{good} versions intact, {} damaged", failures.len()),
    );
    Ok(failures.is_empty())
}

async fn check(
    storage: Arc<dyn Storage>,
    sums: Arc<GoSum>,
    sumdb: Option<Arc<super::sumdb::SumDb>>,
    module: ModulePath,
    version: Version,
    tmp_dir: PathBuf,
    timeout: std::time::Duration,
) -> anyhow::Result<(u64, Option<String>)> {
    let info = storage.info(&module, &version).await?;
    let parsed = RevInfo::parse(&info).map_err(|e| anyhow::anyhow!(".info: {e}"))?;
    if parsed.version != version.as_str() {
        bail!(".info names version {}", parsed.version);
    }
    let go_mod = storage.go_mod(&module, &version).await?;
    if let Some(want) = sums.go_mod(module.as_str(), version.as_str()) {
        let got = agora_core::dirhash::hash_go_mod(&go_mod);
        if got != want {
            bail!("go.mod is {got} but go.sum has {want}");
        }
    }
    std::fs::create_dir_all(&tmp_dir)?;
    let (zip, size) = spool_zip(storage.as_ref(), &module, &version, &tmp_dir, timeout).await?;
    let (m, v) = (module.clone(), version.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let r = zipcheck::check_zip_file(&zip, m.as_str(), v.as_str());
        drop(zip);
        r
    })
    .await?
    .map_err(|e| anyhow::anyhow!("zip: {e}"))?;
    if let Some(want) = sums.zip(module.as_str(), version.as_str())
        && want != checked.h1
    {
        bail!("zip is {} but go.sum has {want}", checked.h1);
    }
    if let Some(db) = &sumdb {
        let answer = db.lookup(&module, &version).await?;
        super::sumdb::check(
            &answer,
            &checked.h1,
            &agora_core::dirhash::hash_go_mod(&go_mod),
        )?;
    }
    let note = match &checked.go_mod {
        Some(inner) if inner.as_slice() != go_mod.as_ref() => Some(
            "the .mod differs from the go.mod inside the zip (the go command accepts this)"
                .to_owned(),
        ),
        _ => None,
    };
    Ok((size, note))
}
