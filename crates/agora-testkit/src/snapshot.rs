//! File-tree snapshots, to show that something left a tree unchanged.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

/// Every entry under `dir` (relative path → kind, size and content hash), skipping the
/// subtrees in `skip`. Symlinks are recorded, not followed.
pub fn snapshot(dir: &Path, skip: &[&Path]) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    snapshot_into(dir, dir, skip, &mut out);
    out
}

fn snapshot_into(base: &Path, dir: &Path, skip: &[&Path], out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if skip.iter().any(|s| path == *s) {
            continue;
        }
        let rel = path.strip_prefix(base).unwrap_or(&path).to_path_buf();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            out.insert(rel, format!("symlink -> {:?}", fs::read_link(&path).ok()));
        } else if meta.is_dir() {
            out.insert(rel, "dir".to_string());
            snapshot_into(base, &path, skip, out);
        } else {
            let mut h = DefaultHasher::new();
            fs::read(&path).unwrap_or_default().hash(&mut h);
            out.insert(
                rel,
                format!("file {} bytes #{:016x}", meta.len(), h.finish()),
            );
        }
    }
}

/// [`snapshot`] without directories: only regular files and symlinks.
pub fn file_snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(dir, &[])
        .into_iter()
        .filter(|(_, kind)| kind != "dir")
        .collect()
}

/// Regular files (and symlinks) under `dir`, relative to it.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir, &[])
        .into_iter()
        .filter(|(_, kind)| kind != "dir")
        .map(|(p, _)| p)
        .collect()
}

/// Describes how two snapshots differ.
pub fn snapshot_diff(
    before: &BTreeMap<PathBuf, String>,
    after: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (p, k) in after {
        match before.get(p) {
            None => diffs.push(format!("new: {} ({k})", p.display())),
            Some(b) if b != k => diffs.push(format!("changed: {} ({b} → {k})", p.display())),
            _ => {}
        }
    }
    for p in before.keys() {
        if !after.contains_key(p) {
            diffs.push(format!("removed: {}", p.display()));
        }
    }
    diffs
}
