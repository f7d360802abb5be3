//! Module paths and versions: escaping, the reference proxy's fixture set, the versions it
//! serves broken on purpose, and Athens' disk layout.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::*;

/// Go's case-encoding: each upper-case letter becomes `!` + lower case.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Inverse of [`escape`]; `None` for an invalid encoding.
pub fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if bang {
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else if c.is_ascii_uppercase() {
            return None;
        } else {
            out.push(c);
        }
    }
    (!bang).then_some(out)
}

/// A module version from the reference proxy's fixture set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModVer {
    /// Decoded module path.
    pub path: String,
    /// Decoded version.
    pub version: String,
}

impl ModVer {
    /// `path@version`.
    pub fn spec(&self) -> String {
        format!("{}@{}", self.path, self.version)
    }
}

/// Every module version in `testdata/mod`, decoded the way the reference proxy decodes
/// file names (`<escaped path with / → _>_<escaped version>.txt`), except the
/// `golang.org/toolchain` zips.
pub fn fixtures() -> Vec<ModVer> {
    let mut out = Vec::new();
    for entry in fs::read_dir(fixture_dir()).expect("read testdata/mod") {
        let name = entry.expect("read testdata/mod entry").file_name();
        let name = name.to_string_lossy();
        let Some(stem) = name.strip_suffix(".txt") else {
            continue;
        };
        let Some(i) = stem.rfind("_v") else { continue };
        let (Some(path), Some(version)) = (
            unescape(&stem[..i].replace('_', "/")),
            unescape(&stem[i + 1..]),
        ) else {
            continue;
        };
        if path == "golang.org/toolchain" {
            continue;
        }
        out.push(ModVer { path, version });
    }
    out.sort();
    out
}

/// Fixtures that the go command rejects even straight from the reference proxy, with the
/// reason. They are left out of the positive tables and used for negative checks.
/// `store_ok` is true when a proxy without checksum-database access cannot tell that the
/// version is bad (the module is well-formed and only the sumdb, or the client's own go
/// version, rejects it); for all others agora must store nothing.
pub const BROKEN: &[(&str, &str, bool)] = &[
    (
        "rsc.io/badzip@v1.0.0",
        "zip holds a file outside the module prefix",
        false,
    ),
    (
        "rsc.io/badfile2@v1.0.0",
        "zip holds an invalid file name (☺.go)",
        false,
    ),
    (
        "rsc.io/badfile3@v1.0.0",
        "zip holds an invalid file name (x?y.go)",
        false,
    ),
    (
        "rsc.io/badfile4@v1.0.0",
        "zip holds a case-insensitive file name collision",
        false,
    ),
    (
        "rsc.io/badfile5@v1.0.0",
        "zip holds a case-insensitive directory collision",
        false,
    ),
    (
        "example.com/downgrade@v2.0.0",
        "v2 version of a module path without /v2",
        false,
    ),
    (
        "example.com/retract/missingmod@v1.9.0",
        "the upstream has no .mod",
        false,
    ),
    (
        "example.com/invalidpath/v1@v1.0.0",
        "malformed module path",
        false,
    ),
    (
        "rsc.io/badfile1@v1.0.0",
        "zip does not match the checksum database",
        true,
    ),
    (
        "example.com/dotname@v1.0.0",
        "zip does not match the checksum database",
        true,
    ),
    ("rsc.io/future@v1.0.0", "requires go >= 1.999", true),
];

/// Fixture specs that the go command downloads successfully from the reference proxy.
pub fn good_fixture_specs() -> Vec<String> {
    let broken: BTreeSet<&str> = BROKEN.iter().map(|(s, _, _)| *s).collect();
    fixtures()
        .iter()
        .map(ModVer::spec)
        .filter(|s| !broken.contains(s.as_str()))
        .collect()
}

/// The Athens disk directory of one version: `<root>/<decoded module>/<decoded version>`.
pub fn athens_version_dir(root: &Path, path: &str, version: &str) -> PathBuf {
    root.join(path).join(version)
}

/// Whether `path@version` is stored in the Athens disk tree at `root`: its commit marker,
/// `<version>.info`, is there.
pub fn athens_version_stored(root: &Path, path: &str, version: &str) -> bool {
    athens_version_dir(root, path, version)
        .join(format!("{version}.info"))
        .is_file()
}
