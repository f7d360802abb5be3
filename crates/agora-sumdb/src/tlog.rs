//! The tiled transparency log of a checksum database
//! (`golang.org/x/mod/sumdb/tlog`): RFC 6962 record and node hashes, the
//! numbering of stored hashes, tree hashes, record inclusion and tree
//! consistency proofs, the tree-head note text, and tiles with their paths.
//!
//! A log of N records stores, for each record, its hash and the hashes of
//! every complete subtree it completes; [`stored_hash_index`] numbers them in
//! the order they are appended. Tiles group those hashes for serving.

use std::collections::HashMap;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::b64;

/// Size of a hash in bytes.
pub const HASH_SIZE: usize = 32;

/// Go's bound on a tree note's text.
const MAX_TREE_NOTE: usize = 1_000_000;

/// A SHA-256 hash in the log.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64::encode(&self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl Hash {
    /// Parses a standard base64 hash, as in a tree note.
    pub fn parse(s: &str) -> Result<Hash, TlogError> {
        let data = b64::decode(s).ok_or(TlogError::MalformedHash)?;
        let h: [u8; HASH_SIZE] = data.try_into().map_err(|_| TlogError::MalformedHash)?;
        Ok(Hash(h))
    }
}

/// Errors of the log: proofs that fail, inputs out of range, malformed
/// notes, records and tiles, and tiles inconsistent with a signed tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// A proof does not lead to the claimed hash.
    #[error("invalid transparency proof")]
    ProofFailed,
    /// Arguments out of range for the operation.
    #[error("tlog: invalid inputs in {0}")]
    InvalidInputs(&'static str),
    /// A hash that is not 32 bytes of base64.
    #[error("malformed hash")]
    MalformedHash,
    /// A tree note text that is not Go's format.
    #[error("malformed tree note")]
    MalformedTree,
    /// A record that is not Go's format.
    #[error("malformed record data")]
    MalformedRecord,
    /// A tile path that is not Go's format.
    #[error("malformed tile path {0:?}")]
    BadTilePath(String),
    /// A tile out of the ranges Go allows, or data too short for it.
    #[error("{0}")]
    InvalidTile(String),
    /// A hash was asked for beyond the tree's size.
    #[error("indexes not in tree")]
    IndexNotInTree,
    /// Tile data that does not hash to the signed tree: tampering or a
    /// server serving another log.
    #[error("downloaded inconsistent tile")]
    InconsistentTile,
    /// A hash reader answered with the wrong number of hashes or failed.
    #[error("tlog: reading hashes: {0}")]
    Read(String),
}

/// The hash of a record: SHA-256(0x00 || data).
pub fn record_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The hash of the empty tree: SHA-256 of nothing.
pub const EMPTY_HASH: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The largest power of two strictly below `n` (for n >= 2), and its log.
fn maxpow2(n: u64) -> (u64, u32) {
    let mut l = 0;
    while l < 63 && (1u64 << (l + 1)) < n {
        l += 1;
    }
    (1 << l, l)
}

/// The index in the stored-hash sequence of the hash at `level` for the
/// `n`th subtree of that level (level 0 is the records).
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // The hashes before (level, n) are those of all records before the
    // first record of the next subtree at this level, with their interior
    // hashes, plus the `level` hashes below (level, n) in its own subtree.
    // Wrapping, as Go's int64 arithmetic wraps: an absurd size in a signed
    // note must give a wrong index (caught by the hash checks), not a panic.
    let mut n = n;
    for _ in 0..level {
        n = n.wrapping_mul(2).wrapping_add(1);
    }
    let mut i: u64 = 0;
    while n > 0 {
        i = i.wrapping_add(n);
        n >>= 1;
    }
    i.wrapping_add(u64::from(level))
}

/// The inverse of [`stored_hash_index`]: the level and number of the hash
/// stored at `index`.
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // Records n/2 before index is a lower bound; walk forward record by
    // record while the next record's first hash is still at or before index.
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    loop {
        let x = index_n + 1 + u64::from((n + 1).trailing_zeros());
        if x > index {
            break;
        }
        n += 1;
        index_n = x;
    }
    let level = (index - index_n) as u32;
    (level, n >> level)
}

/// How many hashes a tree of `n` records stores.
pub fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut num = stored_hash_index(0, n - 1) + 1;
    let mut i = n - 1;
    while i & 1 != 0 {
        num += 1;
        i >>= 1;
    }
    num
}

/// Reads stored hashes by index.
pub trait HashReader {
    /// The hashes at `indexes`, in order, exactly one per index.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError>;
}

/// All stored hashes of a log, in index order.
impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.get(i).copied())
                    .ok_or_else(|| TlogError::Read(format!("no stored hash {i}")))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        self.as_slice().read_hashes(indexes)
    }
}

fn read_exact(r: &(impl HashReader + ?Sized), indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
    let hashes = r.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(TlogError::Read(format!(
            "ReadHashes({} indexes) = {} hashes",
            indexes.len(),
            hashes.len()
        )));
    }
    Ok(hashes)
}

/// The hashes to append when record `n` (0-based) with `data` joins a log
/// whose first `n` records' hashes `r` reads.
pub fn stored_hashes(
    n: u64,
    data: &[u8],
    r: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, TlogError> {
    stored_hashes_for_record_hash(n, record_hash(data), r)
}

/// [`stored_hashes`] for a record whose hash is already known.
pub fn stored_hashes_for_record_hash(
    n: u64,
    h: Hash,
    r: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, TlogError> {
    // Record n completes one subtree per trailing one bit of n; their left
    // siblings are already stored.
    let m = (n + 1).trailing_zeros();
    let indexes: Vec<u64> = (0..m)
        .rev()
        .map(|i| stored_hash_index(i, (n >> i) - 1))
        .collect();
    let old = read_exact(r, &indexes)?;
    let mut hashes = vec![h];
    let mut h = h;
    for i in 0..m as usize {
        h = node_hash(old[m as usize - 1 - i], h);
        hashes.push(h);
    }
    Ok(hashes)
}

/// Indexes of the complete subtrees that cover records [lo, hi).
fn sub_tree_index(mut lo: u64, hi: u64, need: &mut Vec<u64>) {
    while lo < hi {
        let (k, level) = maxpow2(hi - lo + 1);
        need.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// Combines the subtree hashes of [lo, hi) from the front of `hashes`.
fn sub_tree_hash(mut lo: u64, hi: u64, hashes: &[Hash]) -> Result<(Hash, &[Hash]), TlogError> {
    let mut num = 0;
    while lo < hi {
        let (k, _) = maxpow2(hi - lo + 1);
        num += 1;
        lo += k;
    }
    if num == 0 || hashes.len() < num {
        return Err(TlogError::Read("too few hashes for subtree".into()));
    }
    let mut h = hashes[num - 1];
    for i in (0..num - 1).rev() {
        h = node_hash(hashes[i], h);
    }
    Ok((h, &hashes[num..]))
}

/// The hash of the tree of the first `n` records.
pub fn tree_hash(n: u64, r: &(impl HashReader + ?Sized)) -> Result<Hash, TlogError> {
    if n == 0 {
        return Ok(EMPTY_HASH);
    }
    let mut indexes = Vec::new();
    sub_tree_index(0, n, &mut indexes);
    let hashes = read_exact(r, &indexes)?;
    Ok(sub_tree_hash(0, n, &hashes)?.0)
}

/// A proof that a record is in a tree: the sibling hashes, leaf first.
pub type RecordProof = Vec<Hash>;

/// A proof that a tree is a prefix of a larger one.
pub type TreeProof = Vec<Hash>;

/// Proves record `n` is in the tree of `t` records.
pub fn prove_record(
    t: u64,
    n: u64,
    r: &(impl HashReader + ?Sized),
) -> Result<RecordProof, TlogError> {
    if n >= t {
        return Err(TlogError::InvalidInputs("ProveRecord"));
    }
    let mut indexes = Vec::new();
    leaf_proof_index(0, t, n, &mut indexes);
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = read_exact(r, &indexes)?;
    let (p, rest) = leaf_proof(0, t, n, &hashes)?;
    debug_assert!(rest.is_empty());
    Ok(p)
}

fn leaf_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if lo + 1 == hi {
        return;
    }
    let (k, _) = maxpow2(hi - lo);
    if n < lo + k {
        leaf_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        leaf_proof_index(lo + k, hi, n, need);
    }
}

fn leaf_proof(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &[Hash],
) -> Result<(RecordProof, &[Hash]), TlogError> {
    if lo + 1 == hi {
        return Ok((Vec::new(), hashes));
    }
    let (k, _) = maxpow2(hi - lo);
    let (mut p, th, rest);
    if n < lo + k {
        let (pp, r) = leaf_proof(lo, lo + k, n, hashes)?;
        let (h, r) = sub_tree_hash(lo + k, hi, r)?;
        (p, th, rest) = (pp, h, r);
    } else {
        let (h, r) = sub_tree_hash(lo, lo + k, hashes)?;
        let (pp, r) = leaf_proof(lo + k, hi, n, r)?;
        (p, th, rest) = (pp, h, r);
    }
    p.push(th);
    Ok((p, rest))
}

/// Checks that `p` proves record `n`, of hash `h`, is in the tree of `t`
/// records whose hash is `th`.
pub fn check_record(p: &[Hash], t: u64, th: Hash, n: u64, h: Hash) -> Result<(), TlogError> {
    if n >= t {
        return Err(TlogError::InvalidInputs("CheckRecord"));
    }
    if run_record_proof(p, 0, t, n, h)? == th {
        Ok(())
    } else {
        Err(TlogError::ProofFailed)
    }
}

fn run_record_proof(p: &[Hash], lo: u64, hi: u64, n: u64, leaf: Hash) -> Result<Hash, TlogError> {
    if lo + 1 == hi {
        return if p.is_empty() {
            Ok(leaf)
        } else {
            Err(TlogError::ProofFailed)
        };
    }
    let Some((last, rest)) = p.split_last() else {
        return Err(TlogError::ProofFailed);
    };
    let (k, _) = maxpow2(hi - lo);
    if n < lo + k {
        let th = run_record_proof(rest, lo, lo + k, n, leaf)?;
        Ok(node_hash(th, *last))
    } else {
        let th = run_record_proof(rest, lo + k, hi, n, leaf)?;
        Ok(node_hash(*last, th))
    }
}

/// Proves the tree of `n` records is a prefix of the tree of `t` records.
pub fn prove_tree(t: u64, n: u64, r: &(impl HashReader + ?Sized)) -> Result<TreeProof, TlogError> {
    if t < 1 || n < 1 || n > t {
        return Err(TlogError::InvalidInputs("ProveTree"));
    }
    let mut indexes = Vec::new();
    tree_proof_index(0, t, n, &mut indexes);
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = read_exact(r, &indexes)?;
    let (p, rest) = tree_proof(0, t, n, &hashes)?;
    debug_assert!(rest.is_empty());
    Ok(p)
}

fn tree_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if n == hi {
        if lo != 0 {
            sub_tree_index(lo, hi, need);
        }
        return;
    }
    let (k, _) = maxpow2(hi - lo);
    if n <= lo + k {
        tree_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        tree_proof_index(lo + k, hi, n, need);
    }
}

fn tree_proof(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &[Hash],
) -> Result<(TreeProof, &[Hash]), TlogError> {
    if n == hi {
        if lo == 0 {
            return Ok((Vec::new(), hashes));
        }
        let (th, rest) = sub_tree_hash(lo, hi, hashes)?;
        return Ok((vec![th], rest));
    }
    let (k, _) = maxpow2(hi - lo);
    let (mut p, th, rest);
    if n <= lo + k {
        let (pp, r) = tree_proof(lo, lo + k, n, hashes)?;
        let (h, r) = sub_tree_hash(lo + k, hi, r)?;
        (p, th, rest) = (pp, h, r);
    } else {
        let (h, r) = sub_tree_hash(lo, lo + k, hashes)?;
        let (pp, r) = tree_proof(lo + k, hi, n, r)?;
        (p, th, rest) = (pp, h, r);
    }
    p.push(th);
    Ok((p, rest))
}

/// Checks that `p` proves the tree of `n` records with hash `h` is a prefix
/// of the tree of `t` records with hash `th`.
pub fn check_tree(p: &[Hash], t: u64, th: Hash, n: u64, h: Hash) -> Result<(), TlogError> {
    if t < 1 || n < 1 || n > t {
        return Err(TlogError::InvalidInputs("CheckTree"));
    }
    let (h2, th2) = run_tree_proof(p, 0, t, n, h)?;
    if th2 == th && h2 == h {
        Ok(())
    } else {
        Err(TlogError::ProofFailed)
    }
}

/// Returns (hash of the old tree, hash of the new tree) over [lo, hi).
fn run_tree_proof(
    p: &[Hash],
    lo: u64,
    hi: u64,
    n: u64,
    old: Hash,
) -> Result<(Hash, Hash), TlogError> {
    if n == hi {
        if lo == 0 {
            return if p.is_empty() {
                Ok((old, old))
            } else {
                Err(TlogError::ProofFailed)
            };
        }
        return match p {
            [h] => Ok((*h, *h)),
            _ => Err(TlogError::ProofFailed),
        };
    }
    let Some((last, rest)) = p.split_last() else {
        return Err(TlogError::ProofFailed);
    };
    let (k, _) = maxpow2(hi - lo);
    if n <= lo + k {
        let (oh, th) = run_tree_proof(rest, lo, lo + k, n, old)?;
        Ok((oh, node_hash(th, *last)))
    } else {
        let (oh, th) = run_tree_proof(rest, lo + k, hi, n, old)?;
        Ok((node_hash(*last, oh), node_hash(*last, th)))
    }
}

/// A tree head: its size in records and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tree {
    /// Number of records.
    pub n: u64,
    /// Tree hash.
    pub hash: Hash,
}

const TREE_PREFIX: &str = "go.sum database tree\n";

/// The text of a tree-head note: `go.sum database tree\nN\nHASH\n`.
pub fn format_tree(tree: Tree) -> String {
    format!("{TREE_PREFIX}{}\n{}\n", tree.n, tree.hash)
}

/// Parses a tree-head note text. Lines after the hash (extensions some
/// servers add) are ignored, as Go ignores them.
pub fn parse_tree(text: &[u8]) -> Result<Tree, TlogError> {
    if !text.starts_with(TREE_PREFIX.as_bytes())
        || text.iter().filter(|&&b| b == b'\n').count() < 3
        || text.len() > MAX_TREE_NOTE
    {
        return Err(TlogError::MalformedTree);
    }
    let text = std::str::from_utf8(text).map_err(|_| TlogError::MalformedTree)?;
    let mut lines = text.splitn(4, '\n');
    let (Some(_), Some(n), Some(h)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(TlogError::MalformedTree);
    };
    let size: u64 = n.parse().map_err(|_| TlogError::MalformedTree)?;
    if n != size.to_string() || size > i64::MAX as u64 {
        return Err(TlogError::MalformedTree);
    }
    let hash = Hash::parse(h).map_err(|_| TlogError::MalformedTree)?;
    Ok(Tree { n: size, hash })
}

/// Go's record text rule: UTF-8 with no control characters but newline,
/// no blank line, ending in a newline.
fn is_valid_record_text(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    let mut last = '\0';
    for c in text.chars() {
        if (c < '\u{20}' && c != '\n') || (last == '\n' && c == '\n') {
            return false;
        }
        last = c;
    }
    last == '\n'
}

/// A record as a database serves it: `ID\nTEXT\n` (the text followed by a
/// blank line).
pub fn format_record(id: u64, text: &[u8]) -> Result<Vec<u8>, TlogError> {
    if !is_valid_record_text(text) {
        return Err(TlogError::MalformedRecord);
    }
    let mut msg = format!("{id}\n").into_bytes();
    msg.extend_from_slice(text);
    msg.push(b'\n');
    Ok(msg)
}

/// Splits a served record into its id, its text, and the rest of the
/// message (a signed tree note in a lookup answer).
pub fn parse_record(msg: &[u8]) -> Result<(u64, &[u8], &[u8]), TlogError> {
    let i = msg
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(TlogError::MalformedRecord)?;
    let id = std::str::from_utf8(&msg[..i])
        .ok()
        .and_then(parse_go_int)
        .ok_or(TlogError::MalformedRecord)?;
    let msg = &msg[i + 1..];
    let j = msg
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or(TlogError::MalformedRecord)?;
    let (text, rest) = (&msg[..j + 1], &msg[j + 2..]);
    if !is_valid_record_text(text) {
        return Err(TlogError::MalformedRecord);
    }
    Ok((id, text, rest))
}

/// Go's `strconv.ParseInt(s, 10, 64)` for a record id, refusing negatives,
/// which name no record.
fn parse_go_int(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = digits.parse().ok()?;
    (v <= i64::MAX as u64).then_some(v)
}

/// A tile: the hashes at level `l*h` .. `l*h+h-1` over `w` consecutive
/// hashes of level `l*h` starting at `n * 2^h`. `l == -1` names a data tile
/// (the records themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Tile {
    /// Height, 1..=30.
    pub h: u32,
    /// Level in the tiling, -1..=63.
    pub l: i32,
    /// Number within the level.
    pub n: u64,
    /// Width, 1..=2^h; 2^h is a complete tile.
    pub w: u32,
}

const PATH_BASE: u64 = 1000;

impl Tile {
    /// The tile's path, `tile/H/L/NNN[.p/W]`, with N in 3-digit elements
    /// all but the last prefixed by `x`.
    pub fn path(&self) -> String {
        let mut n = self.n;
        let mut n_str = format!("{:03}", n % PATH_BASE);
        while n >= PATH_BASE {
            n /= PATH_BASE;
            n_str = format!("x{:03}/{n_str}", n % PATH_BASE);
        }
        let p_str = if u64::from(self.w) != 1u64 << self.h.min(63) {
            format!(".p/{}", self.w)
        } else {
            String::new()
        };
        let l = if self.l == -1 {
            "data".to_owned()
        } else {
            self.l.to_string()
        };
        format!("tile/{}/{l}/{n_str}{p_str}", self.h)
    }

    /// Parses a tile path; only the canonical form [`Tile::path`] writes is
    /// accepted.
    pub fn parse_path(path: &str) -> Result<Tile, TlogError> {
        let bad = || TlogError::BadTilePath(path.to_owned());
        let mut f: Vec<&str> = path.split('/').collect();
        if f.len() < 4 || f[0] != "tile" {
            return Err(bad());
        }
        let h: u32 = f[1].parse().map_err(|_| bad())?;
        let is_data = f[2] == "data";
        let l: i32 = if is_data {
            0
        } else {
            f[2].parse().map_err(|_| bad())?
        };
        if !(1..=30).contains(&h) || l < 0 {
            return Err(bad());
        }
        let mut w = 1u32 << h;
        let k = f.len() - 2;
        if let Some(stem) = f[k].strip_suffix(".p") {
            let ww: u32 = f[k + 1].parse().map_err(|_| bad())?;
            if ww == 0 || ww >= w {
                return Err(bad());
            }
            w = ww;
            f[k] = stem;
            f.pop();
        }
        let mut n: u64 = 0;
        for s in &f[3..] {
            let s = s.strip_prefix('x').unwrap_or(s);
            let nn: u64 = s.parse().map_err(|_| bad())?;
            if nn >= PATH_BASE {
                return Err(bad());
            }
            n = n
                .checked_mul(PATH_BASE)
                .and_then(|n| n.checked_add(nn))
                .ok_or_else(bad)?;
        }
        let t = Tile {
            h,
            l: if is_data { -1 } else { l },
            n,
            w,
        };
        if t.path() != path {
            return Err(bad());
        }
        Ok(t)
    }

    fn is_full(&self) -> bool {
        u64::from(self.w) == 1u64 << self.h
    }
}

/// The tile of height `h` holding the stored hash `index`, with the byte
/// range of that hash's data within the tile.
fn tile_for_index_range(h: u32, index: u64) -> (Tile, usize, usize) {
    let (level, n) = split_stored_hash_index(index);
    let l = level / h;
    let level = level - l * h; // level within the tile
    let tn = (n << level) >> h;
    let n = n - ((tn << h) >> level); // n within the tile at that level
    let t = Tile {
        h,
        l: l as i32,
        n: tn,
        w: ((n + 1) << level) as u32,
    };
    let start = (n << level) as usize * HASH_SIZE;
    let end = ((n + 1) << level) as usize * HASH_SIZE;
    (t, start, end)
}

/// The smallest tile of height `h` holding the stored hash `index`.
pub fn tile_for_index(h: u32, index: u64) -> Tile {
    tile_for_index_range(h.max(1), index).0
}

/// Hash of tile data at a level inside a tile: interior hashes are not
/// stored in tiles but recomputed from the bottom row.
fn tile_hash(data: &[u8]) -> Hash {
    if data.len() <= HASH_SIZE {
        let mut h = [0u8; HASH_SIZE];
        h[..data.len()].copy_from_slice(data);
        return Hash(h);
    }
    let n = data.len() / 2;
    node_hash(tile_hash(&data[..n]), tile_hash(&data[n..]))
}

/// The stored hash `index` computed from `data`, the content of tile `t`.
pub fn hash_from_tile(t: Tile, data: &[u8], index: u64) -> Result<Hash, TlogError> {
    if t.h < 1 || t.h > 30 || t.l < 0 || t.l >= 64 || t.w < 1 || u64::from(t.w) > 1u64 << t.h {
        return Err(TlogError::InvalidTile(format!("invalid tile {}", t.path())));
    }
    if data.len() < t.w as usize * HASH_SIZE {
        return Err(TlogError::InvalidTile(format!(
            "data len {} too short for tile {}",
            data.len(),
            t.path()
        )));
    }
    let (t1, start, end) = tile_for_index_range(t.h, index);
    if t.l != t1.l || t.n != t1.n || t.w < t1.w {
        return Err(TlogError::InvalidTile(format!(
            "index {index} is in {} not {}",
            t1.path(),
            t.path()
        )));
    }
    Ok(tile_hash(&data[start..end]))
}

/// The content of a data tile (`tile/H/data/N`): each record's text
/// followed by a blank line, the id line of [`format_record`] left out.
pub fn format_data_tile<T: AsRef<[u8]>>(records: &[T]) -> Result<Vec<u8>, TlogError> {
    let mut data = Vec::new();
    for text in records {
        let text = text.as_ref();
        if !is_valid_record_text(text) {
            return Err(TlogError::MalformedRecord);
        }
        data.extend_from_slice(text);
        data.push(b'\n');
    }
    Ok(data)
}

/// The tiles of height `h` that change when a tree grows from `old` to
/// `new` records.
pub fn new_tiles(h: u32, old: u64, new: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    if !(1..=30).contains(&h) {
        return tiles;
    }
    let mut level = 0u32;
    while u64::from(h * level) < 64 && new >> (h * level) > 0 {
        let old_n = old >> (h * level);
        let new_n = new >> (h * level);
        if old_n != new_n {
            for n in (old_n >> h)..(new_n >> h) {
                tiles.push(Tile {
                    h,
                    l: level as i32,
                    n,
                    w: 1 << h,
                });
            }
            let n = new_n >> h;
            let w = new_n - (n << h);
            if w > 0 {
                tiles.push(Tile {
                    h,
                    l: level as i32,
                    n,
                    w: w as u32,
                });
            }
        }
        level += 1;
    }
    tiles
}

/// The content of tile `t` (not a data tile), from the stored hashes.
pub fn read_tile_data(t: Tile, r: &(impl HashReader + ?Sized)) -> Result<Vec<u8>, TlogError> {
    if !(1..=30).contains(&t.h) || !(0..64).contains(&t.l) || u64::from(t.w) > 1u64 << t.h {
        // Data tiles hold records, which a hash reader does not have.
        return Err(TlogError::InvalidTile(format!("invalid tile {}", t.path())));
    }
    let size = if t.w == 0 {
        1u64 << t.h
    } else {
        u64::from(t.w)
    };
    let start = t.n << t.h;
    let level = t.h * t.l as u32;
    let indexes: Vec<u64> = (0..size)
        .map(|i| stored_hash_index(level, start + i))
        .collect();
    let hashes = read_exact(r, &indexes)?;
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// The tile holding `t`'s hashes `k` tile levels up, cut to the tree of
/// `n` records; `None` if that tile would be empty.
fn tile_parent(mut t: Tile, k: u32, n: u64) -> Option<Tile> {
    t.l += k as i32;
    // Shifts of 64 or more mean "above the top of any tree": zero.
    t.n = t.n.checked_shr(k * t.h).unwrap_or(0);
    t.w = 1 << t.h;
    let max = n.checked_shr(t.l as u32 * t.h).unwrap_or(0);
    if (t.n << t.h) + u64::from(t.w) >= max {
        if t.n << t.h >= max {
            return None;
        }
        t.w = (max - (t.n << t.h)) as u32;
    }
    Some(t)
}

/// Fetches tiles for a [`TileHashReader`].
pub trait TileReader {
    /// The tile height this reader serves.
    fn height(&self) -> u32;
    /// The data of each tile, in order.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TlogError>;
    /// Called with tiles that were verified against the tree, to be cached.
    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]);
}

/// The tiles to fetch to read some stored hashes of a signed tree, and how
/// to verify what comes back. Split from [`TileHashReader`] so that an
/// async caller can fetch the tiles itself.
#[derive(Debug, Clone)]
pub struct TilePlan {
    tree: Tree,
    tiles: Vec<Tile>,
    stx: Vec<u64>,
    stx_tile: Vec<usize>,
    indexes: Vec<u64>,
    index_tile: Vec<usize>,
}

impl TilePlan {
    /// Plans reading the stored hashes `indexes` of `tree` through tiles of
    /// height `h`: the tiles that cover the tree's own subtree hashes (to
    /// check against the tree hash), then the full tiles linking each
    /// wanted hash up to them.
    pub fn new(tree: Tree, h: u32, indexes: &[u64]) -> Result<TilePlan, TlogError> {
        if !(1..=30).contains(&h) {
            return Err(TlogError::InvalidTile(format!("invalid tile height {h}")));
        }
        let mut order: HashMap<Tile, usize> = HashMap::new();
        let mut tiles = Vec::new();
        let mut stx = Vec::new();
        sub_tree_index(0, tree.n, &mut stx);
        let mut stx_tile = Vec::with_capacity(stx.len());
        for &x in &stx {
            let t = tile_for_index_range(h, x).0;
            let t = tile_parent(t, 0, tree.n).ok_or(TlogError::IndexNotInTree)?;
            let j = *order.entry(t).or_insert_with(|| {
                tiles.push(t);
                tiles.len() - 1
            });
            stx_tile.push(j);
        }
        let limit = stored_hash_index(0, tree.n);
        let mut index_tile = Vec::with_capacity(indexes.len());
        for &x in indexes {
            if x >= limit {
                return Err(TlogError::IndexNotInTree);
            }
            let t = tile_for_index_range(h, x).0;
            // Climb until a tile already planned covers this one's hash.
            let mut k = 0;
            let found = loop {
                let p = tile_parent(t, k, tree.n).ok_or(TlogError::IndexNotInTree)?;
                if let Some(&j) = order.get(&p) {
                    break j;
                }
                k += 1;
                if k > 64 {
                    return Err(TlogError::IndexNotInTree);
                }
            };
            let mut this = found;
            for kk in (0..k).rev() {
                let p = tile_parent(t, kk, tree.n).ok_or(TlogError::IndexNotInTree)?;
                if !p.is_full() {
                    return Err(TlogError::Read(format!(
                        "bad math in tileHashReader: {} {x} {p:?}",
                        tree.n
                    )));
                }
                order.insert(p, tiles.len());
                this = tiles.len();
                tiles.push(p);
            }
            index_tile.push(this);
        }
        Ok(TilePlan {
            tree,
            tiles,
            stx,
            stx_tile,
            indexes: indexes.to_vec(),
            index_tile,
        })
    }

    /// The tiles to fetch, in order.
    pub fn tiles(&self) -> &[Tile] {
        &self.tiles
    }

    /// Verifies fetched tile data against the tree and returns the wanted
    /// hashes. Tiles that do not hash up to the signed tree hash are
    /// refused with [`TlogError::InconsistentTile`].
    pub fn verify(&self, data: &[Vec<u8>]) -> Result<Vec<Hash>, TlogError> {
        if data.len() != self.tiles.len() {
            return Err(TlogError::Read(format!(
                "TileReader returned bad result slice (len={}, want {})",
                data.len(),
                self.tiles.len()
            )));
        }
        for (t, d) in self.tiles.iter().zip(data) {
            if d.len() != t.w as usize * HASH_SIZE {
                return Err(TlogError::Read(format!(
                    "TileReader returned bad result slice ({} len={}, want {})",
                    t.path(),
                    d.len(),
                    t.w as usize * HASH_SIZE
                )));
            }
        }
        // The tiles covering the tree's subtrees must give its hash.
        let mut th: Option<Hash> = None;
        for (i, &x) in self.stx.iter().enumerate().rev() {
            let j = self.stx_tile[i];
            let h = hash_from_tile(self.tiles[j], &data[j], x)?;
            th = Some(match th {
                None => h,
                Some(t) => node_hash(h, t),
            });
        }
        if th.unwrap_or(EMPTY_HASH) != self.tree.hash {
            return Err(TlogError::InconsistentTile);
        }
        // Each further tile must hash to its entry in its verified parent.
        let first = self.stx_tile.last().map_or(0, |&j| j + 1);
        for i in first..self.tiles.len() {
            let t = self.tiles[i];
            let p = tile_parent(t, 1, self.tree.n).ok_or(TlogError::InconsistentTile)?;
            let &j = self
                .tiles
                .iter()
                .position(|x| *x == p)
                .as_ref()
                .ok_or(TlogError::InconsistentTile)?;
            let h = hash_from_tile(p, &data[j], stored_hash_index(p.l as u32 * p.h, t.n))?;
            if h != tile_hash(&data[i]) {
                return Err(TlogError::InconsistentTile);
            }
        }
        self.indexes
            .iter()
            .zip(&self.index_tile)
            .map(|(&x, &j)| hash_from_tile(self.tiles[j], &data[j], x))
            .collect()
    }
}

/// Reads stored hashes of a signed tree from tiles, verifying every tile
/// against the tree hash before trusting a hash from it.
pub struct TileHashReader<'a, R: TileReader + ?Sized> {
    tree: Tree,
    reader: &'a R,
}

impl<'a, R: TileReader + ?Sized> TileHashReader<'a, R> {
    /// A reader of `tree`'s hashes through `reader`'s tiles.
    pub fn new(tree: Tree, reader: &'a R) -> Self {
        TileHashReader { tree, reader }
    }
}

impl<R: TileReader + ?Sized> HashReader for TileHashReader<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        let plan = TilePlan::new(self.tree, self.reader.height(), indexes)?;
        let data = self.reader.read_tiles(plan.tiles())?;
        let hashes = plan.verify(&data)?;
        self.reader.save_tiles(plan.tiles(), &data);
        Ok(hashes)
    }
}
