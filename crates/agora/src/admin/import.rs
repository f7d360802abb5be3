//! `agora import DIR`: stores every version found in a GOPROXY file tree
//! (what `agora export` writes) or in a go module cache's `cache/download`
//! directory.
//!
//! Each version is checked before it is stored: its zip by the module zip
//! rules, its `.info` parsed and naming the version, its zip and go.mod
//! hashes against the `--go-sum` files given and the checksum database
//! (`--sumdb`, its answer proved against the signed log), and, in a module cache,
//! against the `.ziphash` the go command wrote. A version that fails is
//! refused and named; the rest are stored. The go command's own files
//! (`.lock`, `.partial`, `.ziphash`, `list`) are not versions and are
//! skipped, as are versions with a go.mod but no zip (the go command
//! downloads only the go.mod of most of a module graph): storage holds
//! versions whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agora_config::Settings;
use agora_core::{ModulePath, RevInfo, Version, zipcheck};
use agora_storage::{ErrorKind, NewVersion, Storage};
use anyhow::{Context, bail};
use futures_util::StreamExt;

use super::Failures;
use super::progress::Progress;
use super::sources::{self, GoSum};
use super::sumdb::SumDb;

/// What `agora import` was asked to do.
#[derive(clap::Args)]
pub struct Args {
    /// A GOPROXY file tree, a module cache's cache/download, or $GOMODCACHE.
    pub dir: PathBuf,
    /// go.sum files whose hashes the versions must match.
    #[arg(long = "go-sum")]
    pub go_sums: Vec<PathBuf>,
    /// A checksum database to check every version against, in GOSUMDB
    /// syntax ("<name>+<hash>+<key> [<url>]", or sum.golang.org);
    /// modules GONOSUMDB (or GOPRIVATE) names are not looked up.
    #[arg(long)]
    pub sumdb: Option<String>,
    /// Versions checked at once.
    #[arg(long, short = 'j', default_value_t = 4)]
    pub jobs: usize,
}

/// A version found in the tree: its files.
struct Found {
    module: ModulePath,
    version: Version,
    base: PathBuf,
}

enum Outcome {
    Stored,
    AlreadyStored,
}

/// The largest `.info` file read.
const MAX_INFO: u64 = 1 << 20;

/// Runs the command; `Ok(false)` when any version was refused.
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
    let mut failures = Failures::default();
    // A module cache given by its root ($GOMODCACHE) is read where the
    // go command keeps the protocol's files.
    let download = args.dir.join("cache").join("download");
    let root = if download.is_dir() {
        download
    } else {
        args.dir.clone()
    };
    let progress = Progress::start("import", 0);
    let (found, mod_only) = find_versions(&root, &mut failures, &progress)?;
    std::fs::create_dir_all(&settings.tmp_dir)
        .with_context(|| format!("creating {}", settings.tmp_dir.display()))?;
    let mut unchecked = 0u64;
    let (mut stored, mut present) = (0u64, 0u64);
    let mut work = futures_util::stream::iter(found.into_iter().map(|f| {
        let (storage, sums, tmp) = (storage.clone(), sums.clone(), settings.tmp_dir.clone());
        let sumdb = sumdb.clone();
        progress.begin();
        async move {
            let what = format!("{}@{}", f.module, f.version);
            let in_sum = sums.zip(f.module.as_str(), f.version.as_str()).is_some();
            (what, in_sum, import_one(storage, sums, sumdb, f, tmp).await)
        }
    }))
    .buffer_unordered(args.jobs.max(1));
    while let Some((what, in_sum, r)) = work.next().await {
        match r {
            Ok((outcome, size)) => {
                progress.end(true, size);
                if !in_sum && !sums.is_empty() {
                    unchecked += 1;
                }
                match outcome {
                    Outcome::Stored => stored += 1,
                    Outcome::AlreadyStored => present += 1,
                }
            }
            Err(e) => {
                tracing::warn!(version = %what, error = %format!("{e:#}"), "refused");
                progress.end(false, 0);
                failures.add(what, format!("refused: {e:#}"));
            }
        }
    }
    drop(work);
    let bytes = progress.bytes();
    progress.finish();
    if unchecked > 0 {
        eprintln!(
            "import: {unchecked} versions are in no --go-sum file; their zips were checked by the zip rules only"
        );
    }
    failures.report(
        "import",
        &format!(
            "{stored} versions stored ({}), {present} already stored, {} refused, {mod_only} with only a go.mod skipped",
            indicatif::HumanBytes(bytes),
            failures.len()
        ),
    );
    Ok(failures.is_empty())
}

/// Every `<module>/@v/<version>.zip` under `root`; names that are no
/// module or version are refused (into `failures`), versions with a go.mod
/// and no zip are counted.
fn find_versions(
    root: &Path,
    failures: &mut Failures,
    progress: &Progress,
) -> anyhow::Result<(Vec<Found>, u64)> {
    let mut found = Vec::new();
    let mut mod_only = 0u64;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if !ft.is_dir() {
                continue;
            }
            if entry.file_name() != "@v" {
                stack.push(path);
                continue;
            }
            let rel = dir
                .strip_prefix(root)
                .unwrap_or(&dir)
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            let module = match ModulePath::from_escaped(&rel) {
                Ok(m) => m,
                Err(e) => {
                    failures.add(rel.clone(), format!("refused: not a module path: {e}"));
                    continue;
                }
            };
            let mut names: Vec<String> = std::fs::read_dir(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            names.sort();
            let before = found.len();
            for name in &names {
                if let Some(stem) = name.strip_suffix(".mod")
                    && !names.iter().any(|n| n == &format!("{stem}.zip"))
                {
                    mod_only += 1;
                }
                let Some(stem) = name.strip_suffix(".zip") else {
                    continue;
                };
                match Version::from_escaped(stem) {
                    Ok(v) if v.is_canonical_for(&module) => found.push(Found {
                        module: module.clone(),
                        version: v,
                        base: path.join(stem),
                    }),
                    _ => failures.add(
                        format!("{module}@{stem}"),
                        "refused: not a canonical version of the module",
                    ),
                }
            }
            progress.add_total((found.len() - before) as u64);
        }
    }
    Ok((found, mod_only))
}

fn read_bounded(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("{} is missing", file_name(path)))?
        .len();
    if len > max {
        bail!("{} is {len} bytes, more than {max}", file_name(path));
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

async fn import_one(
    storage: Arc<dyn Storage>,
    sums: Arc<GoSum>,
    sumdb: Option<Arc<SumDb>>,
    f: Found,
    tmp_dir: PathBuf,
) -> anyhow::Result<(Outcome, u64)> {
    let (module, version) = (f.module.clone(), f.version.clone());
    let checked = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let info = read_bounded(&with_ext(&f.base, ".info"), MAX_INFO)?;
        let parsed = RevInfo::parse(&info).map_err(|e| anyhow::anyhow!(".info: {e}"))?;
        if parsed.version != f.version.as_str() {
            bail!(".info names version {}", parsed.version);
        }
        let go_mod = read_bounded(&with_ext(&f.base, ".mod"), zipcheck::MAX_GO_MOD)?;
        let zip_path = with_ext(&f.base, ".zip");
        let zip = zipcheck::check_zip_file(&zip_path, f.module.as_str(), f.version.as_str())
            .map_err(|e| anyhow::anyhow!("zip: {e}"))?;
        if let Ok(recorded) = std::fs::read_to_string(with_ext(&f.base, ".ziphash"))
            && recorded.trim() != zip.h1
        {
            bail!(
                "zip hashes to {} but the module cache recorded {}",
                zip.h1,
                recorded.trim()
            );
        }
        if let Some(want) = sums.zip(f.module.as_str(), f.version.as_str())
            && want != zip.h1
        {
            bail!("checksum mismatch: zip is {} but go.sum has {want}", zip.h1);
        }
        if let Some(want) = sums.go_mod(f.module.as_str(), f.version.as_str()) {
            let got = agora_core::dirhash::hash_go_mod(&go_mod);
            if got != want {
                bail!("checksum mismatch: go.mod is {got} but go.sum has {want}");
            }
        }
        // Storage may move the file it is given; it gets a copy.
        let tmp = tempfile::Builder::new()
            .prefix(".agora-import-")
            .tempfile_in(&tmp_dir)
            .with_context(|| format!("creating a file in {}", tmp_dir.display()))?
            .into_temp_path();
        std::fs::copy(&zip_path, &tmp)
            .with_context(|| format!("copying {}", zip_path.display()))?;
        Ok((info, go_mod, tmp, zip.size, zip.h1))
    })
    .await??;
    let (info, go_mod, tmp, size, h1) = checked;
    if let Some(db) = &sumdb {
        let answer = db.lookup(&module, &version).await?;
        super::sumdb::check(&answer, &h1, &agora_core::dirhash::hash_go_mod(&go_mod))?;
    }
    let new = NewVersion {
        info: info.into(),
        go_mod: go_mod.into(),
        zip: tmp.to_path_buf(),
    };
    let r = storage.put(&module, &version, new).await;
    drop(tmp);
    match r {
        Ok(()) => {
            tracing::info!(%module, %version, size, "imported");
            Ok((Outcome::Stored, size))
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok((Outcome::AlreadyStored, 0)),
        Err(e) => Err(anyhow::Error::new(e).context("storing")),
    }
}
