//! The checksum database as `import` and `verify` consult it (`--sumdb`,
//! GOSUMDB syntax): one `/lookup` per version, its tree note opened with the
//! database's key, and the record proved to be in that signed tree through
//! the tiles it needs, as the go command does before it trusts a hash.
//!
//! Each lookup is checked against the tree head it comes with; consecutive
//! tree heads are not checked for consistency with each other (the go
//! command keeps the latest one it saw on disk for that).

use std::time::Duration;

use agora_core::{ModulePath, Version};
use agora_sumdb::note::{Verifier, VerifierList};
use agora_sumdb::records::{self, MAX_LOOKUP_BYTES};
use agora_sumdb::tlog::{self, TilePlan};
use anyhow::{Context, bail};

/// The go command's key for sum.golang.org, so `--sumdb sum.golang.org` works.
const SUM_GOLANG_ORG: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

/// The tile height the go command's checksum databases use.
const TILE_HEIGHT: u32 = 8;

/// A tile's largest size: 2^8 hashes of 32 bytes.
const MAX_TILE_BYTES: usize = 256 * 32;

/// A checksum database client.
pub struct SumDb {
    url: String,
    verifiers: VerifierList,
    nosumdb: String,
    http: reqwest::Client,
}

/// What the database says about one version.
pub enum Answer {
    /// The (zip, go.mod) hashes it logged.
    Hashes(Option<String>, Option<String>),
    /// The module matches GONOSUMDB: not looked up.
    Private,
}

impl SumDb {
    /// `spec` is GOSUMDB's `<key> [<url>]` (`sum.golang.org` alone names
    /// the public database); modules matching `nosumdb` (GONOSUMDB
    /// patterns) are never looked up.
    pub fn new(spec: &str, nosumdb: &str, timeout: Duration) -> anyhow::Result<SumDb> {
        let mut f = spec.split_whitespace();
        let key = f.next().context("--sumdb: empty")?;
        let key = if key == "sum.golang.org" {
            SUM_GOLANG_ORG
        } else {
            key
        };
        let verifier =
            Verifier::parse(key).map_err(|e| anyhow::anyhow!("--sumdb key {key:?}: {e}"))?;
        let url = match f.next() {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("https://{}", verifier.name()),
        };
        if f.next().is_some() {
            bail!("--sumdb: expected \"<key> [<url>]\", got {spec:?}");
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("agora/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .build()
            .context("building the checksum database client")?;
        Ok(SumDb {
            url,
            verifiers: VerifierList::new([verifier]),
            nosumdb: nosumdb.to_owned(),
            http,
        })
    }

    /// Looks `module@version` up and proves the answer is in the signed log.
    pub async fn lookup(&self, module: &ModulePath, version: &Version) -> anyhow::Result<Answer> {
        if agora_core::pattern::match_prefix_patterns(&self.nosumdb, module.as_str()) {
            return Ok(Answer::Private);
        }
        let path = records::lookup_path(module.as_str(), version.as_str())
            .map_err(|e| anyhow::anyhow!("checksum database lookup path: {e}"))?;
        let body = self
            .get(&format!("{}{path}", self.url), MAX_LOOKUP_BYTES)
            .await?
            .with_context(|| format!("{module}@{version} is not in the checksum database"))?;
        let lookup = records::parse_lookup(&body)
            .map_err(|e| anyhow::anyhow!("checksum database answer: {e}"))?;
        let (tree, _) = lookup
            .verify(&self.verifiers)
            .map_err(|e| anyhow::anyhow!("checksum database tree note: {e}"))?;
        if lookup.id >= tree.n {
            bail!(
                "checksum database record {} is outside its own tree of {}",
                lookup.id,
                tree.n
            );
        }
        let plan = TilePlan::new(tree, TILE_HEIGHT, &[tlog::stored_hash_index(0, lookup.id)])
            .map_err(|e| anyhow::anyhow!("checksum database tiles: {e}"))?;
        let mut data = Vec::with_capacity(plan.tiles().len());
        for tile in plan.tiles() {
            data.push(self.tile(*tile).await?);
        }
        let hashes = plan
            .verify(&data)
            .map_err(|e| anyhow::anyhow!("checksum database tiles: {e}"))?;
        if hashes.first() != Some(&lookup.record_hash()) {
            bail!("checksum database record for {module}@{version} is not in its signed tree");
        }
        let (zip, go_mod) = lookup.hashes_for(module.as_str(), version.as_str());
        Ok(Answer::Hashes(
            zip.map(str::to_owned),
            go_mod.map(str::to_owned),
        ))
    }

    /// A tile; a partial tile the server no longer has is read from the full
    /// tile that replaced it, as the go command does.
    async fn tile(&self, tile: tlog::Tile) -> anyhow::Result<Vec<u8>> {
        let want = tile.w as usize * 32;
        if let Some(d) = self
            .get(&format!("{}/{}", self.url, tile.path()), MAX_TILE_BYTES)
            .await?
        {
            return Ok(d);
        }
        let full = tlog::Tile {
            w: 1 << tile.h,
            ..tile
        };
        let mut d = self
            .get(&format!("{}/{}", self.url, full.path()), MAX_TILE_BYTES)
            .await?
            .with_context(|| format!("checksum database has no {}", tile.path()))?;
        if d.len() < want {
            bail!("checksum database tile {} is short", full.path());
        }
        d.truncate(want);
        Ok(d)
    }

    /// GET `url`, at most `max` bytes; `None` on 404 or 410.
    async fn get(&self, url: &str, max: usize) -> anyhow::Result<Option<Vec<u8>>> {
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Ok(None);
        }
        if !status.is_success() {
            bail!("GET {url}: {status}");
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.with_context(|| format!("GET {url}"))? {
            if body.len() + chunk.len() > max {
                bail!("GET {url}: answer larger than {max} bytes");
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}

/// Checks computed hashes against the database's answer.
pub fn check(answer: &Answer, zip_h1: &str, go_mod_h1: &str) -> anyhow::Result<()> {
    let Answer::Hashes(zip, go_mod) = answer else {
        return Ok(());
    };
    match zip {
        Some(want) if want != zip_h1 => {
            bail!("checksum mismatch: zip is {zip_h1} but the checksum database has {want}")
        }
        None => bail!("the checksum database has no zip hash for this version"),
        _ => {}
    }
    if let Some(want) = go_mod
        && want != go_mod_h1
    {
        bail!("checksum mismatch: go.mod is {go_mod_h1} but the checksum database has {want}");
    }
    Ok(())
}
