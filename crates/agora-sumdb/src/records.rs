//! The answers of a checksum database's `/lookup/MODULE@VERSION` endpoint:
//! the record id, the record text (the go.sum lines of the module version),
//! a blank line, and the signed tree head the record is in:
//!
//! ```text
//! 12345
//! golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=
//! golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=
//!
//! go.sum database tree
//! 31415926
//! HASH
//!
//! — sum.golang.org SIGNATURE
//! ```

use agora_core::escape;

use crate::note::{self, Note, NoteError, Verifiers};
use crate::tlog::{self, Hash, HashReader, TlogError, Tree};

/// The largest lookup answer accepted. A record is two go.sum lines and the
/// note at most 100 signature lines, a few kilobytes at worst; the bound
/// keeps a hostile database from making agora buffer without limit.
pub const MAX_LOOKUP_BYTES: usize = 64 * 1024;

/// The largest record text accepted within a lookup answer.
pub const MAX_RECORD_TEXT: usize = 16 * 1024;

/// Why a lookup answer or a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The answer is larger than [`MAX_LOOKUP_BYTES`].
    #[error("lookup answer of {0} bytes exceeds the {MAX_LOOKUP_BYTES}-byte limit")]
    TooLarge(usize),
    /// The record or its text is not of the database format.
    #[error(transparent)]
    Tlog(#[from] TlogError),
    /// A record line is not `MODULE VERSION[/go.mod] HASH`.
    #[error("malformed record line {0:?}")]
    MalformedLine(String),
    /// The tree note does not verify with the database's key.
    #[error("verifying tree note: {0}")]
    Note(#[from] NoteError),
    /// The record id is beyond the tree it came with.
    #[error("cannot validate record {id} in tree of size {size}")]
    NotInTree {
        /// Record id.
        id: u64,
        /// Tree size.
        size: u64,
    },
    /// The record's hash is not the one the signed tree holds at its id:
    /// the database answered with a record it did not log.
    #[error("cannot authenticate record data in server response")]
    NotAuthenticated,
    /// A module path or version that cannot be escaped for a URL.
    #[error("invalid module path or version: {0}")]
    Escape(String),
}

/// One go.sum line of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumLine {
    /// Module path.
    pub module: String,
    /// Version, without any `/go.mod` suffix.
    pub version: String,
    /// Whether the line is the hash of the go.mod file alone.
    pub go_mod: bool,
    /// The hash, `h1:` and base64 for current databases.
    pub hash: String,
}

/// A parsed lookup answer. Nothing in it is trusted until [`Lookup::verify`]
/// and [`Lookup::check_inclusion`] succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The record's position in the log.
    pub id: u64,
    /// The record text, as hashed into the log.
    pub text: String,
    /// The record text's lines.
    pub lines: Vec<SumLine>,
    /// The signed tree note that follows the record.
    pub tree_note: Vec<u8>,
}

/// The path of the lookup endpoint for a module version, relative to the
/// database's URL: `/lookup/ESCAPED_PATH@ESCAPED_VERSION`.
pub fn lookup_path(module: &str, version: &str) -> Result<String, RecordError> {
    let p = escape::escape_path(module).map_err(|e| RecordError::Escape(e.to_string()))?;
    let v = escape::escape_version(version).map_err(|e| RecordError::Escape(e.to_string()))?;
    Ok(format!("/lookup/{p}@{v}"))
}

/// The record text a database logs for a module version: its zip hash
/// line, then its go.mod hash line.
pub fn format_record_text(module: &str, version: &str, zip_hash: &str, mod_hash: &str) -> String {
    format!("{module} {version} {zip_hash}\n{module} {version}/go.mod {mod_hash}\n")
}

fn parse_line(line: &str) -> Option<SumLine> {
    let mut f = line.split(' ');
    let (Some(module), Some(version), Some(hash), None) = (f.next(), f.next(), f.next(), f.next())
    else {
        return None;
    };
    if module.is_empty() || version.is_empty() || hash.is_empty() {
        return None;
    }
    let (version, go_mod) = match version.strip_suffix("/go.mod") {
        Some(v) => (v, true),
        None => (version, false),
    };
    Some(SumLine {
        module: module.to_owned(),
        version: version.to_owned(),
        go_mod,
        hash: hash.to_owned(),
    })
}

/// Parses a lookup answer, within [`MAX_LOOKUP_BYTES`].
pub fn parse_lookup(body: &[u8]) -> Result<Lookup, RecordError> {
    if body.len() > MAX_LOOKUP_BYTES {
        return Err(RecordError::TooLarge(body.len()));
    }
    let (id, text, rest) = tlog::parse_record(body)?;
    if text.len() > MAX_RECORD_TEXT {
        return Err(RecordError::TooLarge(text.len()));
    }
    // parse_record checked the text is UTF-8.
    let text = String::from_utf8_lossy(text).into_owned();
    let lines = text
        .lines()
        .map(|l| parse_line(l).ok_or_else(|| RecordError::MalformedLine(l.to_owned())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Lookup {
        id,
        text,
        lines,
        tree_note: rest.to_vec(),
    })
}

impl Lookup {
    /// Opens the tree note with the database's key(s) and parses the tree
    /// head it signs.
    pub fn verify(&self, known: &dyn Verifiers) -> Result<(Tree, Note), RecordError> {
        let n = note::open(&self.tree_note, known)?;
        let tree = tlog::parse_tree(n.text.as_bytes())?;
        Ok((tree, n))
    }

    /// Checks the record is the one logged at its id in `tree`, reading
    /// the record's hash through `hashes` (a tile hash reader of `tree`,
    /// which verifies the tiles it reads against the tree hash).
    pub fn check_inclusion(
        &self,
        tree: Tree,
        hashes: &(impl HashReader + ?Sized),
    ) -> Result<(), RecordError> {
        if self.id >= tree.n {
            return Err(RecordError::NotInTree {
                id: self.id,
                size: tree.n,
            });
        }
        let got = hashes.read_hashes(&[tlog::stored_hash_index(0, self.id)])?;
        if got.first() == Some(&self.record_hash()) {
            Ok(())
        } else {
            Err(RecordError::NotAuthenticated)
        }
    }

    /// The record's hash in the log.
    pub fn record_hash(&self) -> Hash {
        tlog::record_hash(self.text.as_bytes())
    }

    /// The hashes the record gives a module version: (zip hash, go.mod
    /// hash), each `None` if the record has no such line.
    pub fn hashes_for(&self, module: &str, version: &str) -> (Option<&str>, Option<&str>) {
        let find = |go_mod: bool| {
            self.lines
                .iter()
                .find(|l| l.module == module && l.version == version && l.go_mod == go_mod)
                .map(|l| l.hash.as_str())
        };
        (find(false), find(true))
    }
}
