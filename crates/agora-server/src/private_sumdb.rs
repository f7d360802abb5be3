//! agora's own checksum database for private modules: an append-only
//! transparency log (the go command's tlog tiles and signed notes) of every
//! private module version agora stores, served under `/sumdb/NAME/`, so a
//! client with `GOSUMDB="NAME+VKEY"` verifies private modules as it verifies
//! public ones.
//!
//! Each record is a storage blob `psumdb/NAME/record/N`, written create-only:
//! appends by replicas sharing a storage are serialized by the storage itself
//! (whoever loses the race for N reads the winner's record and tries N+1),
//! and no record is ever rewritten. Everything else (hashes, tiles, tree
//! heads) is derived from the records, in memory, on startup and whenever
//! another replica's records show up.

use std::collections::HashMap;
use std::sync::Arc;

use agora_storage::{ErrorKind as StorageKind, Storage, StorageError};
use agora_sumdb::note::{self, Note, Signer};
use agora_sumdb::records;
use agora_sumdb::tlog::{self, Hash, Tile, Tree};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use tokio::sync::Mutex;
use tracing::info;

use crate::ApiError;
use crate::sumdb::{TILE_HEIGHT, answer, tile_answer};

/// The records, their stored hashes and where each version is.
#[derive(Default)]
struct State {
    texts: Vec<String>,
    hashes: Vec<Hash>,
    index: HashMap<(String, String), u64>,
}

impl State {
    fn push(&mut self, text: String) -> Result<(), String> {
        let id = self.texts.len() as u64;
        let new = tlog::stored_hashes(id, text.as_bytes(), &self.hashes)
            .map_err(|e| format!("record {id}: {e}"))?;
        self.hashes.extend(new);
        for line in text.lines() {
            let mut f = line.split(' ');
            if let (Some(m), Some(v)) = (f.next(), f.next())
                && !v.ends_with("/go.mod")
            {
                self.index.entry((m.to_owned(), v.to_owned())).or_insert(id);
            }
        }
        self.texts.push(text);
        Ok(())
    }

    fn tree(&self) -> Result<Tree, String> {
        let n = self.texts.len() as u64;
        let hash = tlog::tree_hash(n, &self.hashes).map_err(|e| e.to_string())?;
        Ok(Tree { n, hash })
    }
}

/// The private checksum database.
pub struct PrivateLog {
    signer: Signer,
    storage: Arc<dyn Storage>,
    prefix: String,
    state: Mutex<State>,
}

impl std::fmt::Debug for PrivateLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateLog")
            .field("name", &self.signer.name())
            .finish()
    }
}

impl PrivateLog {
    /// Opens the log signed by `signer` in `storage`, reading every record
    /// already there. The storage must keep blobs (disk, memory, buckets).
    pub async fn open(signer: Signer, storage: Arc<dyn Storage>) -> Result<PrivateLog, String> {
        let safe = crate::sumdb::blob_safe(signer.name());
        let log = PrivateLog {
            prefix: format!("psumdb/{safe}"),
            signer,
            storage,
            state: Mutex::new(State::default()),
        };
        {
            let mut state = log.state.lock().await;
            log.refresh(&mut state).await.map_err(|e| e.to_string())?;
            info!(name = %log.name(), records = state.texts.len(), "private checksum database opened");
        }
        Ok(log)
    }

    /// The database's name, as in `GOSUMDB`.
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key clients put in `GOSUMDB`.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier().to_key_string()
    }

    fn record_key(&self, id: usize) -> String {
        format!("{}/record/{id}", self.prefix)
    }

    /// Reads the records appended since `state` was last brought up to date
    /// (by another replica, or by nobody).
    async fn refresh(&self, state: &mut State) -> Result<(), StorageError> {
        loop {
            match self
                .storage
                .get_blob(&self.record_key(state.texts.len()))
                .await
            {
                Ok(b) => {
                    let text = String::from_utf8(b.to_vec()).map_err(|_| {
                        StorageError::corrupt(format!(
                            "{}: not UTF-8",
                            self.record_key(state.texts.len())
                        ))
                    })?;
                    state.push(text).map_err(StorageError::corrupt)?;
                }
                Err(e) if e.kind() == StorageKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Logs `module@version` with its hashes, unless it is logged already.
    /// Never rewrites a record: a version logged with other hashes stays as
    /// logged, and clients will refuse what agora serves for it.
    pub async fn append(
        &self,
        module: &str,
        version: &str,
        zip_h1: &str,
        mod_h1: &str,
    ) -> Result<(), StorageError> {
        let text = records::format_record_text(module, version, zip_h1, mod_h1);
        let key = (module.to_owned(), version.to_owned());
        let mut state = self.state.lock().await;
        loop {
            self.refresh(&mut state).await?;
            if state.index.contains_key(&key) {
                return Ok(());
            }
            let id = state.texts.len();
            match self
                .storage
                .put_blob(&self.record_key(id), Bytes::from(text.clone()))
                .await
            {
                Ok(()) => {
                    state.push(text).map_err(StorageError::corrupt)?;
                    info!(
                        module,
                        version,
                        record = id,
                        "logged in the private checksum database"
                    );
                    return Ok(());
                }
                // Another replica took this id: read its record, try the next.
                Err(e) if e.kind() == StorageKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn signed_tree(&self, state: &State) -> Result<Vec<u8>, ApiError> {
        let tree = state.tree().map_err(internal)?;
        let note = Note {
            text: tlog::format_tree(tree),
            ..Note::default()
        };
        note::sign(&note, &[&self.signer]).map_err(|e| internal(e.to_string()))
    }

    /// Answers `sub` (`supported`, `latest`, `lookup/…`, `tile/…`).
    pub async fn handle(&self, sub: &str) -> Result<Response, ApiError> {
        const TEXT: &str = "text/plain; charset=utf-8";
        if sub == "supported" {
            return Ok(answer(StatusCode::OK, TEXT, Bytes::new()));
        }
        let mut state = self.state.lock().await;
        self.refresh(&mut state).await.map_err(ApiError::from)?;
        if sub == "latest" {
            return Ok(answer(
                StatusCode::OK,
                TEXT,
                Bytes::from(self.signed_tree(&state)?),
            ));
        }
        if let Some(target) = sub.strip_prefix("lookup/") {
            let (m, v) = target
                .rsplit_once('@')
                .ok_or_else(|| ApiError::bad_request("lookup needs MODULE@VERSION"))?;
            let m = agora_core::escape::unescape_path(m)
                .map_err(|e| ApiError::bad_request(e.message().to_owned()))?;
            let v = agora_core::escape::unescape_version(v)
                .map_err(|e| ApiError::bad_request(e.message().to_owned()))?;
            let Some(&id) = state.index.get(&(m.clone(), v.clone())) else {
                return Err(ApiError::not_found(format!(
                    "{m}@{v}: not in the private checksum database {}",
                    self.name()
                )));
            };
            let text = &state.texts[id as usize];
            let mut body = tlog::format_record(id, text.as_bytes()).map_err(internal)?;
            body.extend_from_slice(&self.signed_tree(&state)?);
            return Ok(answer(StatusCode::OK, TEXT, Bytes::from(body)));
        }
        let not_found = || ApiError::not_found(format!("no such tile: {sub}"));
        let tile = Tile::parse_path(sub).map_err(|_| not_found())?;
        if tile.h != TILE_HEIGHT {
            return Err(not_found());
        }
        let n = state.texts.len() as u64;
        let full = tile.w == 1 << tile.h;
        if tile.l < 0 {
            let start = usize::try_from(tile.n << tile.h).map_err(|_| not_found())?;
            let end = start + tile.w as usize;
            if end as u64 > n {
                return Err(not_found());
            }
            let data = tlog::format_data_tile(&state.texts[start..end]).map_err(internal)?;
            return Ok(tile_answer(Bytes::from(data), full));
        }
        // The tile's hashes must all exist in the tree as it is now.
        let level = tile.h as usize * tile.l as usize;
        let end = (u128::from(tile.n) << tile.h) + u128::from(tile.w);
        if level >= 64 || (end << level) > u128::from(n) {
            return Err(not_found());
        }
        let data = tlog::read_tile_data(tile, &state.hashes).map_err(|_| not_found())?;
        Ok(tile_answer(Bytes::from(data), full))
    }
}

fn internal(e: impl ToString) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}
