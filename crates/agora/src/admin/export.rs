//! `agora export DIR [PATTERN...]`: writes stored versions as a GOPROXY
//! file tree, `DIR/<escaped module>/@v/{list,V.info,V.mod,V.zip}`, which the
//! go command reads as `GOPROXY=file:///DIR` (and `agora import` reads back).
//!
//! Every file is written to a temporary name in its directory and renamed
//! into place, so an interrupted export leaves no torn file; a file already
//! there with the same content (a zip: the same size) is left alone, so a
//! second export adds only what is new. Each module's `list` holds every
//! exported version with its time, pseudo-versions included: the go command
//! ignores pseudo-versions in a list for `go list -m -versions` but uses
//! them, with their times, for `@latest` when a module has no tagged version
//! (`proxyRepo.latestFromList`). With `--tar`, the same tree goes into one
//! tar file instead.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use agora_config::Settings;
use agora_core::{ModulePath, RevInfo, Version};
use agora_storage::Storage;
use anyhow::Context;
use futures_util::StreamExt;

use super::progress::Progress;
use super::{Failures, spool_zip, stored_versions};

/// What `agora export` was asked to do.
#[derive(clap::Args)]
pub struct Args {
    /// The directory to write (with --tar, the tar file).
    pub target: PathBuf,
    /// Module path globs (GOPRIVATE syntax) or module@version; none: all.
    pub patterns: Vec<String>,
    /// Write one tar file of the tree instead of a directory.
    #[arg(long)]
    pub tar: bool,
    /// Versions read at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    pub jobs: usize,
}

/// One version read from storage, ready to write.
struct Read {
    module: ModulePath,
    version: Version,
    info: bytes::Bytes,
    go_mod: bytes::Bytes,
    zip: Option<(tempfile::TempPath, u64)>,
}

/// Runs the command; `Ok(false)` when any version failed.
pub async fn run(
    settings: &Settings,
    storage: Arc<dyn Storage>,
    args: Args,
) -> anyhow::Result<bool> {
    // Shown from the start: listing a large bucket takes a while.
    let progress = Progress::start("export", 0);
    let versions = stored_versions(storage.as_ref(), &args.patterns, &progress).await?;
    let mut failures = Failures::default();
    // module -> version -> list line
    let mut lists: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let timeout = settings.upstream.stash_timeout;
    let result = if args.tar {
        export_tar(
            &args,
            storage,
            versions,
            &settings.tmp_dir,
            timeout,
            &progress,
            &mut failures,
            &mut lists,
        )
        .await
    } else {
        export_dir(
            &args,
            storage,
            versions,
            timeout,
            &progress,
            &mut failures,
            &mut lists,
        )
        .await
    };
    let bytes = progress.bytes();
    progress.finish();
    let written = result?;
    failures.report(
        "export",
        &format!(
            "{written} versions in {} ({} written), {} failed",
            args.target.display(),
            indicatif::HumanBytes(bytes),
            failures.len()
        ),
    );
    Ok(failures.is_empty())
}

fn list_line(version: &Version, info: &[u8]) -> String {
    match RevInfo::parse(info) {
        Ok(i) if !i.time.is_empty() => format!("{version} {}", i.time),
        _ => version.to_string(),
    }
}

fn list_text(lines: &BTreeMap<String, String>) -> String {
    let mut v: Vec<&String> = lines.values().collect();
    v.sort_by(|a, b| {
        let va = a.split(' ').next().unwrap_or("");
        let vb = b.split(' ').next().unwrap_or("");
        agora_core::semver::compare(va, vb)
    });
    let mut out = String::new();
    for l in v {
        out.push_str(l);
        out.push('\n');
    }
    out
}

async fn read_version(
    storage: &dyn Storage,
    module: ModulePath,
    version: Version,
    zip_dir: &Path,
    skip_zip_of_size: Option<u64>,
    timeout: std::time::Duration,
) -> anyhow::Result<Read> {
    let info = storage.info(&module, &version).await?;
    let go_mod = storage.go_mod(&module, &version).await?;
    let zip = match skip_zip_of_size {
        Some(size) if storage.zip(&module, &version).await?.size == size => None,
        _ => Some(spool_zip(storage, &module, &version, zip_dir, timeout).await?),
    };
    Ok(Read {
        module,
        version,
        info,
        go_mod,
        zip,
    })
}

/// Writes `bytes` to `path` through a temporary file and a rename, unless
/// `path` already holds exactly them; returns the bytes written.
fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<u64> {
    if let Ok(old) = std::fs::read(path)
        && old == bytes
    {
        return Ok(0);
    }
    let dir = path.parent().context("a file path has a parent")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".agora-export-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(bytes.len() as u64)
}

fn version_dir(root: &Path, module: &ModulePath) -> PathBuf {
    root.join(module.escaped()).join("@v")
}

async fn export_dir(
    args: &Args,
    storage: Arc<dyn Storage>,
    versions: Vec<(ModulePath, Version)>,
    timeout: std::time::Duration,
    progress: &Progress,
    failures: &mut Failures,
    lists: &mut BTreeMap<String, BTreeMap<String, String>>,
) -> anyhow::Result<u64> {
    std::fs::create_dir_all(&args.target)
        .with_context(|| format!("creating {}", args.target.display()))?;
    let root = args.target.clone();
    let mut written = 0u64;
    let mut modules: HashMap<String, ModulePath> = HashMap::new();
    let mut work = futures_util::stream::iter(versions.into_iter().map(|(module, version)| {
        let (storage, root) = (storage.clone(), root.clone());
        progress.begin();
        async move {
            let what = format!("{module}@{version}");
            let r = async {
                let dir = version_dir(&root, &module);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let zip_path = dir.join(format!("{}.zip", version.escaped()));
                let have = std::fs::metadata(&zip_path).ok().map(|m| m.len());
                let mut read =
                    read_version(storage.as_ref(), module, version, &dir, have, timeout).await?;
                let mut bytes = 0;
                let v = read.version.escaped();
                bytes += write_if_changed(&dir.join(format!("{v}.info")), &read.info)?;
                bytes += write_if_changed(&dir.join(format!("{v}.mod")), &read.go_mod)?;
                if let Some((tmp, size)) = read.zip.take() {
                    // On disk before the rename, so a crash never leaves a
                    // renamed but empty zip.
                    std::fs::File::open(&tmp)?.sync_all()?;
                    tmp.persist(&zip_path)
                        .with_context(|| format!("renaming into {}", zip_path.display()))?;
                    bytes += size;
                }
                anyhow::Ok((read, bytes))
            }
            .await;
            (what, r)
        }
    }))
    .buffer_unordered(args.jobs.max(1));
    while let Some((what, r)) = work.next().await {
        match r {
            Ok((read, bytes)) => {
                progress.end(true, bytes);
                written += 1;
                lists
                    .entry(read.module.as_str().to_owned())
                    .or_default()
                    .insert(
                        read.version.to_string(),
                        list_line(&read.version, &read.info),
                    );
                modules.insert(read.module.as_str().to_owned(), read.module);
            }
            Err(e) => {
                progress.end(false, 0);
                failures.add(what, format!("{e:#}"));
            }
        }
    }
    for (module, lines) in lists.iter_mut() {
        let Some(m) = modules.get(module) else {
            continue;
        };
        let path = version_dir(&root, m).join("list");
        // Versions an earlier export wrote stay listed.
        if let Ok(old) = std::fs::read_to_string(&path) {
            for line in old.lines() {
                if let Some(v) = line.split_whitespace().next() {
                    lines
                        .entry(v.to_owned())
                        .or_insert_with(|| line.trim().to_owned());
                }
            }
        }
        write_if_changed(&path, list_text(lines).as_bytes())?;
    }
    Ok(written)
}

#[allow(clippy::too_many_arguments)]
async fn export_tar(
    args: &Args,
    storage: Arc<dyn Storage>,
    versions: Vec<(ModulePath, Version)>,
    tmp_dir: &Path,
    timeout: std::time::Duration,
    progress: &Progress,
    failures: &mut Failures,
    lists: &mut BTreeMap<String, BTreeMap<String, String>>,
) -> anyhow::Result<u64> {
    let parent = match args.target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(tmp_dir)?;
    let out = tempfile::Builder::new()
        .prefix(".agora-export-")
        .tempfile_in(&parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(out));
    let mut written = 0u64;
    let mut modules: HashMap<String, ModulePath> = HashMap::new();
    let tmp_dir = tmp_dir.to_path_buf();
    let mut work = futures_util::stream::iter(versions.into_iter().map(|(module, version)| {
        let (storage, tmp_dir) = (storage.clone(), tmp_dir.clone());
        progress.begin();
        async move {
            let what = format!("{module}@{version}");
            let r = read_version(storage.as_ref(), module, version, &tmp_dir, None, timeout).await;
            (what, r)
        }
    }))
    .buffer_unordered(args.jobs.max(1));
    while let Some((what, r)) = work.next().await {
        let r = r.and_then(|read| {
            let dir = format!("{}/@v", read.module.escaped());
            let v = read.version.escaped();
            let mut bytes = 0;
            tokio::task::block_in_place(|| -> anyhow::Result<()> {
                append(&mut tar, &format!("{dir}/{v}.info"), &read.info[..])?;
                append(&mut tar, &format!("{dir}/{v}.mod"), &read.go_mod[..])?;
                if let Some((zip, size)) = &read.zip {
                    let f = std::fs::File::open(zip)?;
                    append_sized(&mut tar, &format!("{dir}/{v}.zip"), *size, f)?;
                    bytes += size;
                }
                Ok(())
            })?;
            bytes += (read.info.len() + read.go_mod.len()) as u64;
            Ok((read, bytes))
        });
        match r {
            Ok((read, bytes)) => {
                progress.end(true, bytes);
                written += 1;
                lists
                    .entry(read.module.as_str().to_owned())
                    .or_default()
                    .insert(
                        read.version.to_string(),
                        list_line(&read.version, &read.info),
                    );
                modules.insert(read.module.as_str().to_owned(), read.module);
            }
            Err(e) => {
                progress.end(false, 0);
                failures.add(what, format!("{e:#}"));
            }
        }
    }
    drop(work);
    tokio::task::block_in_place(|| -> anyhow::Result<()> {
        for (module, lines) in lists.iter() {
            if let Some(m) = modules.get(module) {
                let text = list_text(lines);
                append(
                    &mut tar,
                    &format!("{}/@v/list", m.escaped()),
                    text.as_bytes(),
                )?;
            }
        }
        let out = tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
        out.as_file().sync_all()?;
        out.persist(&args.target)
            .with_context(|| format!("renaming into {}", args.target.display()))?;
        Ok(())
    })?;
    Ok(written)
}

fn append<W: Write>(tar: &mut tar::Builder<W>, path: &str, data: &[u8]) -> anyhow::Result<()> {
    append_sized(tar, path, data.len() as u64, data)
}

fn append_sized<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: impl std::io::Read,
) -> anyhow::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, path, data)
        .with_context(|| format!("writing {path} to the tar file"))?;
    Ok(())
}
