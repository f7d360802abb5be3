//! The admin commands: `prefill`, `export`, `import`, `verify` and `delete`.
//!
//! Each takes the settings `serve` takes and builds storage (and, for
//! `prefill`, the upstream chain and the single-flight stasher) with the
//! same builders, so it works on every backend and writes versions only
//! through `Storage::put`, which never leaves a partial version. Each
//! reports what failed by `module@version` and returns a failure exit
//! status when anything did.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, Version};
use agora_storage::Storage;
use anyhow::Context;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

pub mod export;
pub mod import;
pub mod prefill;
pub mod progress;
pub mod sources;
pub mod sumdb;
pub mod verify;

/// What went wrong with which versions; printed as the command's summary.
#[derive(Default)]
pub struct Failures {
    items: Vec<(String, String)>,
}

impl Failures {
    /// Records that `what` (a `module@version`) failed because of `why`.
    pub fn add(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.items.push((what.into(), why.into()));
    }

    /// How many failed.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Prints the summary line and each failure on its own line.
    pub fn report(&mut self, verb: &str, summary: &str) {
        eprintln!("{verb}: {summary}");
        self.items.sort();
        for (what, why) in &self.items {
            eprintln!("{verb}: FAILED {what}: {why}");
        }
    }
}

/// The checksum database client `--sumdb` asks for, skipping the modules
/// GONOSUMDB (or, unset, GOPRIVATE) names.
pub fn sumdb_client(
    settings: &agora_config::Settings,
    spec: Option<&str>,
) -> anyhow::Result<Option<Arc<sumdb::SumDb>>> {
    let Some(spec) = spec.filter(|s| *s != "off") else {
        return Ok(None);
    };
    let up = &settings.upstream;
    let nosumdb = if up.gonosumdb.is_empty() {
        &up.goprivate
    } else {
        &up.gonosumdb
    };
    Ok(Some(Arc::new(sumdb::SumDb::new(
        spec, nosumdb, up.timeout,
    )?)))
}

/// A `MODULE@VERSION` argument, checked.
pub fn parse_spec(spec: &str) -> anyhow::Result<(ModulePath, Version)> {
    let (m, v) = spec
        .split_once('@')
        .with_context(|| format!("{spec:?}: expected MODULE@VERSION"))?;
    let module = ModulePath::new(m).map_err(|e| anyhow::anyhow!("{spec:?}: {e}"))?;
    let version = Version::from_trusted(v);
    if !version.is_canonical_for(&module) {
        anyhow::bail!("{spec:?}: {v} is not a canonical version of {m}");
    }
    Ok((module, version))
}

/// Whether `module@version` is selected by `patterns`: none selects every
/// version; a pattern with `@` names one version exactly; any other is a
/// GOPRIVATE-style glob on the module path (`golang.org/x/*`, `corp.example`).
pub fn selected(patterns: &[String], module: &str, version: &str) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| match p.split_once('@') {
            Some((m, v)) => m == module && v == version,
            None => agora_core::pattern::match_prefix_patterns(p, module),
        })
}

/// Every stored version that `patterns` select, walking the catalog; each
/// page's selected versions are added to `progress`'s total as they come.
pub async fn stored_versions(
    storage: &dyn Storage,
    patterns: &[String],
    progress: &progress::Progress,
) -> anyhow::Result<Vec<(ModulePath, Version)>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = storage
            .catalog(&token, 1000)
            .await
            .with_context(|| format!("listing {}", storage.describe()))?;
        let before = out.len();
        out.extend(
            page.versions
                .into_iter()
                .filter(|(m, v)| selected(patterns, m.as_str(), v.as_str())),
        );
        progress.add_total((out.len() - before) as u64);
        match page.next {
            Some(next) => token = next,
            None => break,
        }
    }
    Ok(out)
}

/// Copies a stored zip to a new temporary file in `dir`, within `timeout`;
/// returns the file and its size.
pub async fn spool_zip(
    storage: &dyn Storage,
    module: &ModulePath,
    version: &Version,
    dir: &Path,
    timeout: Duration,
) -> anyhow::Result<(tempfile::TempPath, u64)> {
    let work = async {
        let zip = storage.zip(module, version).await?;
        let size = zip.size;
        if size > agora_core::zipcheck::MAX_ZIP_FILE {
            anyhow::bail!(
                "stored zip is {size} bytes, more than a module zip may have ({})",
                agora_core::zipcheck::MAX_ZIP_FILE
            );
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".agora-spool-")
            .tempfile_in(dir)
            .with_context(|| format!("creating a spool file in {}", dir.display()))?;
        let (file, path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut stream = zip.stream(0..size).await?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.context("reading the stored zip")?;
            written += chunk.len() as u64;
            if written > size {
                anyhow::bail!("stored zip is longer than its recorded size {size}");
            }
            file.write_all(&chunk).await.context("writing spool file")?;
        }
        if written != size {
            anyhow::bail!("stored zip ended after {written} of {size} bytes");
        }
        file.flush().await?;
        Ok((path, size))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => anyhow::bail!(
            "reading the stored zip took longer than {}s",
            timeout.as_secs()
        ),
    }
}

/// `agora delete MODULE@VERSION`.
pub async fn delete(storage: Arc<dyn Storage>, spec: &str) -> anyhow::Result<bool> {
    let (module, version) = parse_spec(spec)?;
    if !storage.exists(&module, &version).await? {
        eprintln!(
            "delete: {module}@{version} is not stored in {}",
            storage.describe()
        );
        return Ok(false);
    }
    storage
        .delete(&module, &version)
        .await
        .with_context(|| format!("deleting {module}@{version}"))?;
    tracing::info!(%module, %version, storage = %storage.describe(), "deleted");
    eprintln!(
        "delete: deleted {module}@{version} from {}",
        storage.describe()
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_select_globs_and_exact_versions() {
        assert!(selected(&[], "a.example/x", "v1.0.0"));
        let p = vec!["golang.org/x".to_owned(), "rsc.io/quote@v1.5.2".to_owned()];
        assert!(selected(&p, "golang.org/x/text", "v0.3.0"));
        assert!(selected(&p, "rsc.io/quote", "v1.5.2"));
        assert!(!selected(&p, "rsc.io/quote", "v1.5.1"));
        assert!(!selected(&p, "golang.org/y", "v1.0.0"));
        assert!(parse_spec("rsc.io/quote@v1.5.2").is_ok());
        assert!(parse_spec("rsc.io/quote@latest").is_err());
        assert!(parse_spec("rsc.io/quote").is_err());
    }
}
