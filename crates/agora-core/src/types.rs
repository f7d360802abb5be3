//! Validated value types: a module path, a version, the artifacts of a version.

use std::fmt;

use crate::{escape, path, pseudo, semver};

/// A module path that passed Go's `CheckPath`, held in its decoded form
/// (upper-case letters as they are, no `!` escaping), which is also the form
/// every Athens storage layout keys on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(String);

impl ModulePath {
    /// Decodes a `!`-escaped path as it appears in a proxy URL and validates it.
    pub fn from_escaped(escaped: &str) -> Result<Self, escape::EscapeError> {
        escape::unescape_path(escaped).map(ModulePath)
    }

    /// Validates an already decoded module path.
    pub fn new(decoded: &str) -> Result<Self, path::PathError> {
        path::check_path(decoded)?;
        Ok(ModulePath(decoded.to_owned()))
    }

    /// The decoded path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `!`-escaped form used in proxy URLs.
    pub fn escaped(&self) -> String {
        // A validated path always escapes; fall back to the raw form rather than panic.
        escape::escape_path(&self.0).unwrap_or_else(|_| self.0.clone())
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A version string as requested: either canonical for its module, or a query
/// (branch, tag, commit prefix, `v1.5`) that only upstream can resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(String);

impl Version {
    /// Decodes a `!`-escaped version from a proxy URL and checks it is a valid
    /// file-name element (what the go command's `UnescapeVersion` accepts).
    pub fn from_escaped(escaped: &str) -> Result<Self, escape::EscapeError> {
        escape::unescape_version(escaped).map(Version)
    }

    /// Wraps a decoded version without checks; for versions read back from a
    /// trusted source such as an upstream `.info` that was already validated.
    pub fn from_trusted(decoded: &str) -> Self {
        Version(decoded.to_owned())
    }

    /// The decoded version.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `!`-escaped form used in proxy URLs.
    pub fn escaped(&self) -> String {
        escape::escape_version(&self.0).unwrap_or_else(|_| self.0.clone())
    }

    /// True when this is the canonical semantic version and it fits the
    /// module's major-version suffix (`module.Check`), i.e. a version the
    /// go command itself would ask `.mod` and `.zip` for.
    pub fn is_canonical_for(&self, module: &ModulePath) -> bool {
        path::canonical_version(&self.0) == self.0 && path::check(module.as_str(), &self.0).is_ok()
    }

    /// True for a pseudo-version (`vX.Y.Z-yyyymmddhhmmss-abcdefabcdef` forms).
    pub fn is_pseudo(&self) -> bool {
        pseudo::is_pseudo_version(&self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three files a stored module version consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Artifact {
    /// `<version>.info`: JSON with `Version`, `Time` and optionally `Origin`.
    Info,
    /// `<version>.mod`: the go.mod file.
    Mod,
    /// `<version>.zip`: the module zip.
    Zip,
}

impl Artifact {
    /// The URL extension, as in `@v/v1.0.0.<ext>`.
    pub fn extension(self) -> &'static str {
        match self {
            Artifact::Info => "info",
            Artifact::Mod => "mod",
            Artifact::Zip => "zip",
        }
    }
}

/// How list and `@latest` use the network, with Athens' names and meanings
/// (`NetworkMode`, `ATHENS_NETWORK_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NetworkMode {
    /// Ask upstream; its errors are the client's errors (a "not found" upstream still
    /// falls back to what is stored).
    #[default]
    Strict,
    /// Never ask upstream for list or latest; answer from storage.
    Offline,
    /// Ask upstream; on any failure answer from storage when it has the module.
    Fallback,
}

impl NetworkMode {
    /// The canonical lowercase name, as written in both config formats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Offline => "offline",
            Self::Fallback => "fallback",
        }
    }
}

impl std::fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a result came from, as the go command records it in `.info`
/// (`codehost.Origin`; fields in the go command's JSON order).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Origin {
    /// Always `git` here.
    #[serde(rename = "VCS", skip_serializing_if = "String::is_empty")]
    pub vcs: String,
    /// The repository URL.
    #[serde(rename = "URL", skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The module's directory in the repository, if not the root.
    #[serde(rename = "Subdir", skip_serializing_if = "String::is_empty")]
    pub subdir: String,
    /// The commit.
    #[serde(rename = "Hash", skip_serializing_if = "String::is_empty")]
    pub hash: String,
    /// For results that depend on the set of tags: their prefix…
    #[serde(rename = "TagPrefix", skip_serializing_if = "String::is_empty")]
    pub tag_prefix: String,
    /// …and a checksum of the matching tags (`t1:`).
    #[serde(rename = "TagSum", skip_serializing_if = "String::is_empty")]
    pub tag_sum: String,
    /// The ref the query went through (`refs/tags/v1.0.0`, `refs/heads/main`,
    /// `HEAD`).
    #[serde(rename = "Ref", skip_serializing_if = "String::is_empty")]
    pub git_ref: String,
    /// A checksum of every ref, for negative results (unused so far).
    #[serde(rename = "RepoSum", skip_serializing_if = "String::is_empty")]
    pub repo_sum: String,
}

/// A resolved version: the `.info` document. agora reads the fields it needs from
/// stored and upstream `.info` files ([`RevInfo::parse`]; unknown fields are kept by
/// storing the original bytes, never by re-serialising this struct), and writes the ones
/// it resolves itself from a repository ([`RevInfo::to_info_json`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RevInfo {
    /// The canonical version or pseudo-version.
    #[serde(rename = "Version")]
    pub version: String,
    /// The commit time, UTC, RFC 3339 (empty when an upstream `.info` has none).
    #[serde(rename = "Time", default)]
    pub time: String,
    /// Provenance. [`RevInfo::parse`] does not read it (agora keeps the original bytes of
    /// the `.info` files it did not write), so a malformed `Origin` upstream is no error.
    #[serde(
        rename = "Origin",
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    pub origin: Option<Origin>,
    /// The full commit hash (not part of `.info`).
    #[serde(skip)]
    pub hash: String,
}

impl RevInfo {
    /// The JSON of this result with every Origin field, as
    /// `go list -m -json` prints it.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The `.info` file for storage, cleaned as the go command's
    /// `writeDiskStat` cleans what it caches: no tag or repository sums (a
    /// stored version is looked up by its canonical name), and no `Ref` for
    /// a pseudo-version.
    pub fn to_info_json(&self) -> Vec<u8> {
        let mut clean = self.clone();
        if let Some(o) = clean.origin.as_mut() {
            o.tag_sum.clear();
            o.tag_prefix.clear();
            o.repo_sum.clear();
            if crate::pseudo::is_pseudo_version(&clean.version) {
                o.git_ref.clear();
            }
        }
        clean.to_json()
    }

    /// Parses `.info` JSON and checks that `Version` is a valid semantic version.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let info: RevInfo =
            serde_json::from_slice(bytes).map_err(|e| format!("invalid .info JSON: {e}"))?;
        if !semver::is_valid(&info.version) {
            return Err(format!(
                "invalid .info: Version {:?} is not a semantic version",
                info.version
            ));
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rev_info_reads_version_and_time_and_writes_origin() {
        let info = RevInfo::parse(
            br#"{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z","Origin":"odd","X":1}"#,
        )
        .unwrap();
        assert_eq!(info.version, "v1.0.0");
        assert_eq!(info.time, "2020-01-01T00:00:00Z");
        assert_eq!(info.origin, None);
        assert_eq!(RevInfo::parse(br#"{"Version":"v1.0.0"}"#).unwrap().time, "");
        assert!(RevInfo::parse(br#"{"Version":"master"}"#).is_err());
        let written = RevInfo {
            origin: Some(Origin {
                vcs: "git".into(),
                git_ref: "refs/heads/main".into(),
                tag_sum: "t1:x".into(),
                ..Origin::default()
            }),
            version: "v0.0.0-20200101000000-abcdefabcdef".into(),
            ..info
        };
        assert_eq!(
            String::from_utf8(written.to_info_json()).unwrap(),
            r#"{"Version":"v0.0.0-20200101000000-abcdefabcdef","Time":"2020-01-01T00:00:00Z","Origin":{"VCS":"git"}}"#
        );
    }

    #[test]
    fn canonical_for_module() {
        let m = ModulePath::new("example.com/m").unwrap();
        let v2 = ModulePath::new("example.com/m/v2").unwrap();
        let yes = |m: &ModulePath, v: &str| Version::from_trusted(v).is_canonical_for(m);
        assert!(yes(&m, "v1.2.3"));
        assert!(yes(&m, "v2.0.0+incompatible"));
        assert!(yes(&m, "v0.0.0-20200101000000-abcdefabcdef"));
        assert!(!yes(&m, "v2.0.0"));
        assert!(!yes(&m, "v1.2"));
        assert!(!yes(&m, "v1.2.3+build"));
        assert!(!yes(&m, "master"));
        assert!(yes(&v2, "v2.1.0"));
        assert!(!yes(&v2, "v1.0.0"));
        assert!(!yes(&v2, "v3.0.0+incompatible"));
    }
}
