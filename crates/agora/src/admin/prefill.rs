//! `agora prefill FILE...`: fetches the versions that go.sum files, go.mod
//! files or `module@version` lists name into storage, through the same
//! upstream chain and single-flight stash as a request, `--jobs` at a time.
//!
//! A go.sum line's `h1:` (and, with `--sumdb`, the checksum database's
//! record, proved against its signed log) is checked against the fetched
//! zip and go.mod before the version is stored; a version already stored is
//! checked against them too. With `--deps`, the go.mod of every fetched version is
//! read from storage and its requirements are fetched in turn, as the go
//! command loads a module graph, up to `--max-versions`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use agora_config::Settings;
use agora_core::{ModulePath, Version};
use agora_server::Stasher;
use agora_server::stash::{Checksums, FetchAndStore, SingleFlight};
use agora_storage::Storage;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::progress::Progress;
use super::sources::{self, GoSum, InputKind};
use super::{Failures, spool_zip};

/// What `agora prefill` was asked to do.
#[derive(clap::Args)]
pub struct Args {
    /// go.sum files (every version, its h1: checked), go.mod files (their
    /// requirements) or text files of module@version lines (@latest allowed).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also fetch the module graph below go.mod and list entries.
    #[arg(long)]
    pub deps: bool,
    /// Versions fetched at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    pub jobs: usize,
    /// Stop after this many versions (bounds a --deps walk).
    #[arg(long, default_value_t = 10_000)]
    pub max_versions: usize,
    /// A checksum database every fetched version must match, in GOSUMDB
    /// syntax ("<name>+<hash>+<key> [<url>]", or sum.golang.org);
    /// modules GONOSUMDB (or GOPRIVATE) names are not looked up.
    #[arg(long)]
    pub sumdb: Option<String>,
}

/// A module version, and the (zip, go.mod) hashes the checksum database logged for it.
type Logged = HashMap<(String, String), (Option<String>, Option<String>)>;

/// The hashes a version must have: go.sum lines, and what the checksum
/// database logged for it (looked up just before it is fetched).
struct Expected {
    gosum: GoSum,
    logged: Mutex<Logged>,
}

impl Expected {
    fn zip(&self, module: &str, version: &str) -> Option<String> {
        if let Some(h) = self.gosum.zip(module, version) {
            return Some(h.to_owned());
        }
        let logged = self.logged.lock().ok()?;
        logged
            .get(&(module.to_owned(), version.to_owned()))
            .and_then(|(z, _)| z.clone())
    }

    fn go_mod(&self, module: &str, version: &str) -> Option<String> {
        if let Some(h) = self.gosum.go_mod(module, version) {
            return Some(h.to_owned());
        }
        let logged = self.logged.lock().ok()?;
        logged
            .get(&(module.to_owned(), version.to_owned()))
            .and_then(|(_, m)| m.clone())
    }
}

impl Checksums for Expected {
    fn zip_h1(&self, module: &ModulePath, version: &Version) -> Option<String> {
        self.zip(module.as_str(), version.as_str())
    }

    fn go_mod_h1(&self, module: &ModulePath, version: &Version) -> Option<String> {
        self.go_mod(module.as_str(), version.as_str())
    }
}

/// One version (or query) to fetch; `walk` follows its requirements.
struct Item {
    module: String,
    query: String,
    walk: bool,
}

struct Done {
    requires: Vec<(String, String)>,
    walk: bool,
}

/// Runs the command; `Ok(false)` when any version failed.
pub async fn run(
    settings: &Settings,
    storage: Arc<dyn Storage>,
    args: Args,
) -> anyhow::Result<bool> {
    let mut sums = GoSum::default();
    let mut queue = VecDeque::new();
    for file in &args.files {
        let text = sources::read_input(file)?;
        let origin = file.display().to_string();
        let (named, walk) = match sources::kind_of(file, &text) {
            InputKind::GoSum => (sums.add(&text, &origin)?, false),
            InputKind::GoMod => (sources::go_mod_requires(&text), args.deps),
            InputKind::List => (sources::list_lines(&text, &origin)?, args.deps),
        };
        for (module, query) in named {
            queue.push_back(Item {
                module,
                query,
                walk,
            });
        }
    }
    let sums = Arc::new(Expected {
        gosum: sums,
        logged: Mutex::new(HashMap::new()),
    });
    let sumdb = super::sumdb_client(settings, args.sumdb.as_deref())?;
    let upstream = crate::build_upstream(settings)?;
    let stasher = Stasher::from_stash(SingleFlight::new(
        FetchAndStore::new(
            storage.clone(),
            upstream.clone(),
            settings.upstream.stash_timeout,
        )
        .with_checksums(sums.clone()),
    ));

    let mut seen: HashSet<(String, String)> = HashSet::new();
    queue.retain(|i| seen.insert((i.module.clone(), i.query.clone())));
    let truncated = queue.len() > args.max_versions;
    queue.truncate(args.max_versions);
    let progress = Arc::new(Progress::start("prefill", queue.len() as u64));
    let mut failures = Failures::default();
    let mut ok = 0u64;
    let mut capped = truncated;
    let mut running = FuturesUnordered::new();
    let ctx = Arc::new(Ctx {
        storage,
        upstream,
        stasher,
        sums,
        sumdb,
        tmp_dir: settings.tmp_dir.clone(),
        timeout: settings.upstream.stash_timeout,
        progress: progress.clone(),
    });
    loop {
        while running.len() < args.jobs.max(1) {
            let Some(item) = queue.pop_front() else { break };
            let ctx = ctx.clone();
            running.push(async move {
                ctx.progress.begin();
                let what = format!("{}@{}", item.module, item.query);
                let r = ctx.one(&item).await;
                (what, r)
            });
        }
        let Some((what, result)) = running.next().await else {
            break;
        };
        match result {
            Ok((version, bytes, done)) => {
                ok += 1;
                progress.end(true, bytes);
                tracing::debug!(version = %version, "prefilled {what}");
                if done.walk {
                    for (m, v) in done.requires {
                        if seen.len() >= args.max_versions {
                            capped = true;
                            break;
                        }
                        if seen.insert((m.clone(), v.clone())) {
                            progress.add_total(1);
                            queue.push_back(Item {
                                module: m,
                                query: v,
                                walk: true,
                            });
                        }
                    }
                }
            }
            Err(e) => {
                progress.end(false, 0);
                failures.add(what, format!("{e:#}"));
            }
        }
    }
    let bytes = progress.bytes();
    progress.finish();
    if capped {
        eprintln!(
            "prefill: stopped at --max-versions {}; some versions were not fetched",
            args.max_versions
        );
    }
    failures.report(
        "prefill",
        &format!(
            "{ok} versions stored or already present ({}), {} failed",
            indicatif::HumanBytes(bytes),
            failures.len()
        ),
    );
    Ok(failures.is_empty() && !capped)
}

struct Ctx {
    storage: Arc<dyn Storage>,
    upstream: agora_upstream::Upstream,
    stasher: Stasher,
    sums: Arc<Expected>,
    sumdb: Option<Arc<super::sumdb::SumDb>>,
    tmp_dir: PathBuf,
    timeout: std::time::Duration,
    progress: Arc<Progress>,
}

impl Ctx {
    /// Resolves, stashes and checks one item; returns its version, the zip
    /// size, and its requirements when they are to be walked.
    async fn one(&self, item: &Item) -> anyhow::Result<(Version, u64, Done)> {
        let module = ModulePath::new(&item.module).map_err(|e| anyhow::anyhow!("{e}"))?;
        let query = Version::from_trusted(&item.query);
        let version = if query.is_canonical_for(&module) {
            query
        } else if item.query == "latest" {
            let (info, _) = self.upstream.latest(&module).await?;
            Version::from_trusted(&info.version)
        } else {
            let (info, _) = self.upstream.info(&module, &query).await?;
            Version::from_trusted(&info.version)
        };
        if let Some(db) = &self.sumdb
            && let super::sumdb::Answer::Hashes(zip, go_mod) = db.lookup(&module, &version).await?
        {
            let (m, v) = (module.as_str(), version.as_str());
            if let (Some(a), Some(b)) = (self.sums.gosum.zip(m, v), zip.as_deref())
                && a != b
            {
                anyhow::bail!("go.sum has {a} but the checksum database has {b}");
            }
            if let Ok(mut logged) = self.sums.logged.lock() {
                logged.insert((m.to_owned(), v.to_owned()), (zip, go_mod));
            }
        }
        let existed = self.storage.exists(&module, &version).await?;
        self.stasher
            .ensure(&module, &version)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // A fresh fetch was checked against go.sum before it was stored; a
        // version that was already there is checked now.
        if existed {
            self.check_stored(&module, &version).await?;
        }
        let size = self.storage.zip(&module, &version).await?.size;
        let requires = if item.walk {
            let go_mod = self.storage.go_mod(&module, &version).await?;
            sources::go_mod_requires(&String::from_utf8_lossy(&go_mod))
        } else {
            Vec::new()
        };
        Ok((
            version,
            size,
            Done {
                requires,
                walk: item.walk,
            },
        ))
    }

    async fn check_stored(&self, module: &ModulePath, version: &Version) -> anyhow::Result<()> {
        if let Some(want) = self.sums.go_mod(module.as_str(), version.as_str()) {
            let want = want.as_str();
            let got =
                agora_core::dirhash::hash_go_mod(&self.storage.go_mod(module, version).await?);
            if got != want {
                anyhow::bail!(
                    "checksum mismatch: the stored go.mod is {got} but go.sum has {want}"
                );
            }
        }
        let Some(want) = self.sums.zip(module.as_str(), version.as_str()) else {
            return Ok(());
        };
        let want = want.as_str();
        let (zip, _) = spool_zip(
            self.storage.as_ref(),
            module,
            version,
            &self.tmp_dir,
            self.timeout,
        )
        .await?;
        let got = tokio::task::spawn_blocking(move || {
            let h = agora_core::dirhash::hash_zip_file(&zip);
            drop(zip);
            h
        })
        .await??;
        if got != want {
            anyhow::bail!("checksum mismatch: the stored zip is {got} but go.sum has {want}");
        }
        Ok(())
    }
}
