//! One module in one git repository, answering as the go command's
//! `codeRepo` (`cmd/go/internal/modfetch/coderepo.go`) does.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use agora_core::zipcheck::{MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE};
use agora_core::{path as modpath, pseudo, semver};

use crate::git::{Archive, Commit, GitRepo, TreeEntry};
use crate::modzip::{self, ZipSummary};
use crate::{Error, Result, modfile, timefmt};

pub use agora_core::types::{Origin, RevInfo};

/// The tagged versions of a module (`@v/list`), with the tag origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    /// Semver-sorted versions, `+incompatible` ones last.
    pub list: Vec<String>,
    /// Tag prefix and tag checksum the list depends on.
    pub origin: Origin,
}

/// A module at a path, stored in a git repository at a subdirectory.
#[derive(Debug, Clone)]
pub struct DirectModule {
    mod_path: String,
    repo: Arc<GitRepo>,
    code_root: String,
    /// The module's expected directory in the repository ("" for the root).
    code_dir: String,
    path_prefix: String,
    /// `/vN`, `.vN` (gopkg.in) or "".
    path_major: String,
    /// `vN`, or "" for v0/v1 paths.
    pseudo_major: String,
}

impl DirectModule {
    /// The module `mod_path` in `repo`, whose root corresponds to import path
    /// `code_root` (the go-import root), with an optional `subdir` from a
    /// go-import meta tag's fourth field.
    pub fn new(mod_path: &str, repo: Arc<GitRepo>, code_root: &str, subdir: &str) -> Result<Self> {
        if !has_path_prefix(mod_path, code_root) {
            return Err(Error::Invalid(format!(
                "mismatched repo: found {code_root} for {mod_path}"
            )));
        }
        modpath::check_path(mod_path).map_err(|e| Error::Invalid(e.to_string()))?;
        let (mut path_prefix, path_major) = modpath::split_path_version(mod_path)
            .ok_or_else(|| Error::Invalid(format!("invalid module path {mod_path:?}")))?;
        if code_root == mod_path {
            path_prefix = mod_path;
        }
        let pseudo_major = path_major
            .get(1..)
            .map(|m| m.trim_end_matches("-unstable").to_owned())
            .unwrap_or_default();
        let mut code_dir = String::new();
        if code_root != mod_path {
            if !has_path_prefix(path_prefix, code_root) {
                return Err(Error::Invalid(format!(
                    "repository rooted at {code_root} cannot contain module {mod_path}"
                )));
            }
            code_dir = path_prefix[code_root.len()..].trim_matches('/').to_owned();
        }
        // As go 1.25+: the go-import subdirectory is joined *after* the part
        // of the path below the repository root (filepath.Join(codeDir, subdir)).
        let subdir = subdir.trim_matches('/');
        if !subdir.is_empty() {
            code_dir = join(&code_dir, subdir);
        }
        Ok(DirectModule {
            mod_path: mod_path.to_owned(),
            repo,
            code_root: code_root.to_owned(),
            code_dir,
            path_prefix: path_prefix.to_owned(),
            path_major: path_major.to_owned(),
            pseudo_major,
        })
    }

    /// The module path.
    pub fn path(&self) -> &str {
        &self.mod_path
    }

    /// The repository.
    pub fn repo(&self) -> &Arc<GitRepo> {
        &self.repo
    }

    fn tag_prefix(&self) -> String {
        if self.code_dir.is_empty() {
            String::new()
        } else {
            format!("{}/", self.code_dir)
        }
    }

    /// The tagged versions, as `go list -m -versions` shows them (`Versions`
    /// with an empty prefix).
    pub fn list(&self) -> Result<Versions> {
        // gopkg.in/…-unstable has no tags of its own.
        if self.mod_path.starts_with("gopkg.in/") && self.mod_path.ends_with("-unstable") {
            return Ok(Versions {
                list: Vec::new(),
                origin: Origin::default(),
            });
        }
        let p = self.tag_prefix();
        let tags = self.repo.tags(&p)?;
        let mut origin = self.tags_origin(&p, &tags);
        origin.subdir = self.code_dir.clone();
        let mut list = Vec::new();
        let mut incompatible = Vec::new();
        for (tag, _) in &tags {
            let v = &tag[p.len()..];
            if v.is_empty() || v != semver::canonical(v) || pseudo::is_pseudo_version(v) {
                continue;
            }
            if modpath::check_path_major(v, &self.path_major).is_err() {
                if self.code_dir.is_empty()
                    && self.path_major.is_empty()
                    && semver::compare(&semver::major(v), "v1") == Ordering::Greater
                {
                    incompatible.push(v.to_owned());
                }
                continue;
            }
            list.push(v.to_owned());
        }
        semver::sort(&mut list);
        semver::sort(&mut incompatible);
        if incompatible.is_empty() || !self.path_major.is_empty() {
            return Ok(Versions { list, origin });
        }
        if let Some(last) = list.last()
            && self.version_has_go_mod(last)?
        {
            return Ok(Versions { list, origin });
        }
        let mut last_major = String::new();
        let mut last_major_has_go_mod = false;
        let mut out = list;
        for (i, v) in incompatible.iter().enumerate() {
            let major = semver::major(v);
            if major != last_major {
                let latest_at_major = incompatible[i..]
                    .iter()
                    .take_while(|w| semver::major(w) == major)
                    .last()
                    .unwrap_or(v);
                last_major_has_go_mod = self.version_has_go_mod(latest_at_major)?;
                last_major = major;
            }
            if !last_major_has_go_mod {
                out.push(format!("{v}+incompatible"));
            }
        }
        Ok(Versions { list: out, origin })
    }

    fn version_has_go_mod(&self, tag: &str) -> Result<bool> {
        let c = self.repo.stat(tag)?;
        self.repo.has_file(&c.hash, "go.mod")
    }

    /// codehost `Tags`: the tag origin for a prefix, with the `t1:` checksum
    /// of the version-like tags.
    fn tags_origin(&self, prefix: &str, tags: &[(String, String)]) -> Origin {
        use sha2::{Digest, Sha256};
        let dir = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
        let mut h = Sha256::new();
        for (name, hash) in tags {
            let v = name.strip_prefix(dir).unwrap_or(name);
            let c = semver::canonical(v);
            if !c.is_empty() && v.starts_with(&c) && !pseudo::is_pseudo_version(v) {
                h.update(format!("{} {hash}\n", go_quote(name)).as_bytes());
            }
        }
        let sum: [u8; 32] = h.finalize().into();
        Origin {
            vcs: "git".into(),
            url: self.repo.url().to_owned(),
            tag_prefix: prefix.to_owned(),
            tag_sum: format!("t1:{}", base64_std(&sum)),
            ..Origin::default()
        }
    }

    /// Resolves a query (tag, branch, commit hash or prefix, canonical
    /// version, pseudo-version, `latest`) to a version, as
    /// `go list -m -json path@query` does for a single revision.
    pub fn stat(&self, query: &str) -> Result<RevInfo> {
        if query == "latest" {
            return self.latest();
        }
        let rev = self.rev_to_rev(query);
        let commit = self
            .repo
            .stat(&rev)
            .map_err(|e| self.invalid_version(query, e))?;
        self.convert(commit, query)
    }

    /// The go command's `@latest` for a module fetched directly: the highest
    /// release, else the highest pre-release, else the version of the default
    /// branch's head (a tag on it or a pseudo-version). Retracted versions are
    /// skipped while others remain.
    pub fn latest(&self) -> Result<RevInfo> {
        let versions = self.list()?;
        let retracted = self.retracted(&versions.list);
        let candidates: Vec<&String> = versions.list.iter().filter(|v| !retracted(v)).collect();
        let release = candidates
            .iter()
            .rev()
            .find(|v| semver::prerelease(v).is_empty());
        // modload's queryProxy: the result's Origin merges the list's (tag
        // checksum) with the lookup's (hash, ref).
        let mut origin = Some(versions.origin);
        let target = match release.or(candidates.last()) {
            Some(v) => (*v).clone(),
            None => {
                let head = self.head()?;
                origin = merge_origin(origin, head.origin.as_ref());
                head.version
            }
        };
        let mut rev = self.stat(&target)?;
        rev.origin = merge_origin(origin, rev.origin.as_ref());
        Ok(rev)
    }

    /// codeRepo `Latest`: the version of the remote `HEAD` commit (a tag on
    /// it, or a pseudo-version), with `Origin.Ref = "HEAD"`.
    pub fn head(&self) -> Result<RevInfo> {
        let refs = self.repo.refs()?;
        let Some(head) = refs.get("HEAD").cloned() else {
            return Err(Error::NotFound("no commits".into()));
        };
        let commit = self.repo.stat(&head)?;
        let mut rev = self.convert(commit, "")?;
        if let Some(o) = rev.origin.as_mut() {
            o.git_ref = "HEAD".into();
        }
        Ok(rev)
    }

    fn invalid_version(&self, v: &str, e: Error) -> Error {
        match e {
            Error::NotFound(m) => {
                Error::NotFound(format!("{}@{v}: invalid version: {m}", self.mod_path))
            }
            Error::Invalid(m) => {
                Error::Invalid(format!("{}@{v}: invalid version: {m}", self.mod_path))
            }
            e => e,
        }
    }

    fn rev_to_rev(&self, rev: &str) -> String {
        if !semver::is_valid(rev) {
            return rev.to_owned();
        }
        if pseudo::is_pseudo_version(rev) {
            return pseudo::pseudo_version_rev(rev).unwrap_or(rev).to_owned();
        }
        let rev = rev.strip_suffix("+incompatible").unwrap_or(rev);
        if self.code_dir.is_empty() {
            rev.to_owned()
        } else {
            format!("{}/{rev}", self.code_dir)
        }
    }

    /// codeRepo `convert`: a commit (and the query that found it) to a
    /// module version.
    fn convert(&self, info: Commit, stat_vers: &str) -> Result<RevInfo> {
        let mut rev = self.convert_version(&info, stat_vers)?;
        let mut origin = Origin {
            vcs: "git".into(),
            url: self.repo.url().to_owned(),
            subdir: self.code_dir.clone(),
            hash: info.hash.clone(),
            git_ref: info.git_ref.clone().unwrap_or_default(),
            ..Origin::default()
        };
        let v = &rev.version;
        if pseudo::is_pseudo_version(v) && (v != stat_vers || !v.starts_with("v0.0.0-")) {
            let mut prefix = self.tag_prefix();
            if let Some(m) = self.path_major.get(1..) {
                prefix.push_str(m);
                prefix.push('.');
            }
            let tags = self.repo.tags(&prefix)?;
            let t = self.tags_origin(&prefix, &tags);
            origin.tag_prefix = t.tag_prefix;
            origin.tag_sum = t.tag_sum;
        }
        rev.origin = Some(origin);
        Ok(rev)
    }

    fn convert_version(&self, info: &Commit, stat_vers: &str) -> Result<RevInfo> {
        // Memoised go.mod probes of this commit ("" = root, "vN" = vN/go.mod).
        let incompatible_ok: RefCell<HashMap<String, bool>> = RefCell::new(HashMap::new());
        let can_use_incompatible = |v: &str| -> Result<bool> {
            if !self.code_dir.is_empty() || !self.path_major.is_empty() {
                return Ok(false);
            }
            let cached = incompatible_ok.borrow().get("").copied();
            let ok = match cached {
                Some(ok) => ok,
                None => {
                    let ok = !self.repo.has_file(&info.hash, "go.mod")?;
                    incompatible_ok.borrow_mut().insert(String::new(), ok);
                    ok
                }
            };
            if !ok {
                return Ok(false);
            }
            if !v.is_empty() && !stat_vers.ends_with("+incompatible") {
                let major = semver::major(v);
                let cached = incompatible_ok.borrow().get(&major).copied();
                let ok = match cached {
                    Some(ok) => ok,
                    None => {
                        let ok = !self.repo.has_file(&info.hash, &format!("{major}/go.mod"))?;
                        incompatible_ok.borrow_mut().insert(major, ok);
                        ok
                    }
                };
                if !ok {
                    return Ok(false);
                }
            }
            Ok(true)
        };

        let time = timefmt::rfc3339(info.time);
        let check_canonical = |v: &str| -> Result<RevInfo> {
            self.find_dir(v).map_err(|e| match e {
                Error::NotFound(m) | Error::Invalid(m) => {
                    Error::NotFound(format!("{}@{v}: invalid version: {m}", self.mod_path))
                }
                e => e,
            })?;
            let invalid = |msg: String| {
                Error::Invalid(format!("{}@{v}: invalid version: {msg}", self.mod_path))
            };
            let mut v = v.to_owned();
            if v == stat_vers.strip_suffix("+incompatible").unwrap_or(stat_vers) {
                v = stat_vers.to_owned();
            }
            let base = v.strip_suffix("+incompatible").unwrap_or(&v).to_owned();
            let mut err_incompatible = None;
            if !match_path_major(&base, &self.path_major) {
                if can_use_incompatible(&base)? {
                    v = format!("{base}+incompatible");
                } else if !self.path_major.is_empty() {
                    err_incompatible = Some(invalid(
                        "module path includes a major version suffix, so major version must match"
                            .into(),
                    ));
                } else {
                    err_incompatible = Some(invalid(format!(
                        "module contains a go.mod file, so module path must match major version (\"{}/{}\")",
                        self.path_prefix,
                        semver::major(&v)
                    )));
                }
            } else if v.ends_with("+incompatible") {
                err_incompatible = Some(invalid(format!(
                    "+incompatible suffix not allowed: major version {} is compatible",
                    semver::major(&v)
                )));
            }
            if !stat_vers.is_empty() && stat_vers == modpath::canonical_version(stat_vers) {
                let stat_base = stat_vers.strip_suffix("+incompatible").unwrap_or(stat_vers);
                if stat_base != base {
                    return Err(Error::NotFound(format!(
                        "{}@{stat_vers}: invalid version: resolves to version {v} ({stat_base} is not a tag)",
                        self.mod_path
                    )));
                }
            }
            if let Some(e) = err_incompatible {
                return Err(e);
            }
            Ok(RevInfo {
                version: v,
                time: time.clone(),
                origin: None,
                hash: info.hash.clone(),
            })
        };

        if pseudo::is_pseudo_version(stat_vers) {
            let rev = check_canonical(stat_vers)?;
            self.validate_pseudo_version(info, stat_vers)?;
            return Ok(rev);
        }

        let tag_prefix = self.tag_prefix();
        let tag_to_version = |tag: &str| -> (String, bool) {
            let Some(trimmed) = tag.strip_prefix(&tag_prefix) else {
                return (String::new(), false);
            };
            if pseudo::is_pseudo_version(tag) {
                return (String::new(), false);
            }
            let v = semver::canonical(trimmed);
            if v.is_empty() || !trimmed.starts_with(&v) {
                return (String::new(), false);
            }
            let canonical = v == trimmed;
            (v, canonical)
        };

        let (v, canonical) = tag_to_version(&info.version);
        if canonical && let Ok(r) = check_canonical(&v) {
            return Ok(r);
        }

        let versions_for_retract = self.list().map(|l| l.list).unwrap_or_default();
        let is_retracted = self.retracted(&versions_for_retract);

        let mut highest_canonical = String::new();
        let mut pseudo_base = String::new();
        for tag in &info.tags {
            let (v, tag_is_canonical) = tag_to_version(tag);
            if !stat_vers.is_empty() && semver::compare(&v, stat_vers) == Ordering::Equal {
                if tag_is_canonical {
                    return check_canonical(&v);
                }
                pseudo_base = v.clone();
            }
            if tag_is_canonical
                && semver::compare(&highest_canonical, &v) == Ordering::Less
                && !is_retracted(&v)
                && (match_path_major(&v, &self.path_major) || can_use_incompatible(&v)?)
            {
                highest_canonical = v;
            }
        }
        if !highest_canonical.is_empty() {
            return check_canonical(&highest_canonical);
        }

        if pseudo_base.is_empty() {
            let mut failure = None;
            let mut allowed = |tag: &str| -> bool {
                let (v, _) = tag_to_version(tag);
                if v.is_empty() {
                    return false;
                }
                if !match_path_major(&v, &self.path_major) {
                    match can_use_incompatible(&v) {
                        Ok(true) => {}
                        Ok(false) => return false,
                        Err(e) => {
                            failure.get_or_insert(e);
                            return false;
                        }
                    }
                }
                !is_retracted(&v)
            };
            let tag = self
                .repo
                .recent_tag(&info.hash, &tag_prefix, &mut allowed)?;
            if let Some(e) = failure {
                return Err(e);
            }
            // go's RecentTag: a highest tag that is all hex is not trusted.
            if let Some(tag) = tag.filter(|t| !t.bytes().all(|b| b.is_ascii_hexdigit())) {
                pseudo_base = tag_to_version(&tag).0;
            }
        }
        let pv = pseudo::pseudo_version(
            &self.pseudo_major,
            &pseudo_base,
            &timefmt::pseudo_stamp(info.time),
            &info.short,
        )
        .map_err(|e| Error::Invalid(e.to_string()))?;
        check_canonical(&pv)
    }

    /// codeRepo `validatePseudoVersion`.
    fn validate_pseudo_version(&self, info: &Commit, version: &str) -> Result<()> {
        let invalid = |msg: String| {
            Error::NotFound(format!(
                "{}@{version}: invalid pseudo-version: {msg}",
                self.mod_path
            ))
        };
        let rev = pseudo::pseudo_version_rev(version).map_err(|e| invalid(e.to_string()))?;
        if rev != info.short {
            return Err(invalid(if rev.starts_with(&info.short) {
                format!(
                    "revision is longer than canonical (expected {})",
                    info.short
                )
            } else if info.short.starts_with(rev) {
                format!(
                    "revision is shorter than canonical (expected {})",
                    info.short
                )
            } else {
                format!(
                    "does not match short name of revision (expected {})",
                    info.short
                )
            }));
        }
        let t = pseudo::pseudo_version_time(version).map_err(|e| invalid(e.to_string()))?;
        let want = timefmt::pseudo_stamp(info.time);
        if t != want {
            return Err(invalid(format!(
                "does not match version-control timestamp (expected {want})"
            )));
        }
        let tag_prefix = self.tag_prefix();
        let base =
            pseudo::pseudo_version_base(version.strip_suffix("+incompatible").unwrap_or(version))
                .map_err(|e| invalid(e.to_string()))?;
        if base.is_empty() {
            if self.pseudo_major.is_empty() && semver::major(version) == "v1" {
                return Err(invalid(
                    "major version without preceding tag must be v0, not v1".into(),
                ));
            }
            return Ok(());
        }
        for tag in &info.tags {
            if tag.strip_prefix(&tag_prefix).unwrap_or(tag) == base {
                return Err(invalid(format!(
                    "tag ({tag}) found on revision {rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag"
                )));
            }
        }
        let mut last_tag = None;
        for (tag, _) in self.repo.tags(&format!("{tag_prefix}{base}"))? {
            let version_only = tag.strip_prefix(&tag_prefix).unwrap_or(&tag);
            if semver::compare(version_only, &base) == Ordering::Equal {
                let found = self
                    .repo
                    .descends_from(&info.hash, &format!("refs/tags/{tag}"))?;
                last_tag = Some(tag.clone());
                if found {
                    return Ok(());
                }
            }
        }
        match last_tag {
            None => Err(invalid(format!("preceding tag ({base}) not found"))),
            Some(t) => Err(invalid(format!(
                "revision {rev} is not a descendent of preceding tag ({t})"
            ))),
        }
    }

    /// codeRepo `retractedVersions`, from the go.mod of the highest release
    /// (or pre-release) in `versions`. Errors load no retractions, as in go.
    fn retracted(&self, versions: &[String]) -> impl Fn(&str) -> bool + use<> {
        let compatible: Vec<&String> = versions
            .iter()
            .take_while(|v| !v.ends_with("+incompatible"))
            .collect();
        let highest = compatible
            .iter()
            .rev()
            .find(|v| semver::prerelease(v).is_empty())
            .or(compatible.last());
        let intervals = highest
            .and_then(|v| self.find_dir(v).ok())
            .and_then(|(_, _, gomod)| gomod)
            .map(|g| modfile::retractions(&g))
            .unwrap_or_default();
        move |v: &str| {
            intervals.iter().any(|(lo, hi)| {
                semver::compare(lo, v) != Ordering::Greater
                    && semver::compare(v, hi) != Ordering::Greater
            })
        }
    }

    /// codeRepo `findDir`: the commit, the module's directory and its go.mod
    /// (`None` when the module has none and may go without).
    fn find_dir(&self, version: &str) -> Result<(String, String, Option<Vec<u8>>)> {
        if !semver::is_valid(version) {
            return Err(Error::Invalid(format!(
                "{}@{version}: invalid version: syntax error",
                self.mod_path
            )));
        }
        let rev = self.rev_to_rev(version);
        let commit = self.repo.stat(&rev)?;
        let c = &commit.hash;
        let file1 = join(&self.code_dir, "go.mod");
        let gomod1 = self.repo.read_file(c, &file1, MAX_GO_MOD)?;
        let mpath1 = gomod1
            .as_deref()
            .map(modfile::module_path)
            .unwrap_or_default();
        let found1 = gomod1.is_some()
            && (is_major(&mpath1, &self.path_major)
                || (self.path_major.is_empty() && mpath1.starts_with("gopkg.in/")));

        let mut file2 = String::new();
        if !self.path_major.is_empty()
            && self.code_root != self.mod_path
            && !self.path_major.starts_with('.')
        {
            let dir2 = join(&self.code_dir, &self.path_major[1..]);
            file2 = join(&dir2, "go.mod");
            let gomod2 = self.repo.read_file(c, &file2, MAX_GO_MOD)?;
            let mpath2 = gomod2
                .as_deref()
                .map(modfile::module_path)
                .unwrap_or_default();
            let found2 = gomod2.is_some() && is_major(&mpath2, &self.path_major);
            if found1 && found2 {
                return Err(Error::NotFound(format!(
                    "{}/{file1} and ...{}/go.mod both have ...{} module paths at revision {rev}",
                    self.path_prefix, self.path_major, self.path_major
                )));
            }
            if found2 {
                return Ok((c.clone(), dir2, gomod2));
            }
            if gomod2.is_some() {
                if mpath2.is_empty() {
                    return Err(Error::NotFound(format!(
                        "{}/{file2} is missing module path at revision {rev}",
                        self.code_root
                    )));
                }
                return Err(Error::NotFound(format!(
                    "{}/{file2} has non-...{} module path \"{mpath2}\" at revision {rev}",
                    self.code_root, self.path_major
                )));
            }
        }
        if found1 {
            return Ok((c.clone(), self.code_dir.clone(), gomod1));
        }
        if gomod1.is_some() {
            let suffix = if file2.is_empty() {
                String::new()
            } else {
                format!(" (and ...{}/go.mod does not exist)", self.path_major)
            };
            let msg = if mpath1.is_empty() {
                format!("{file1} is missing module path{suffix} at revision {rev}")
            } else if !self.path_major.is_empty() {
                format!(
                    "{file1} has non-...{} module path \"{mpath1}\"{suffix} at revision {rev}",
                    self.path_major
                )
            } else if modpath::split_path_version(&mpath1).is_none() {
                format!("{file1} has malformed module path \"{mpath1}\"{suffix} at revision {rev}")
            } else {
                format!(
                    "{file1} has post-{} module path \"{mpath1}\"{suffix} at revision {rev}",
                    semver::major(version)
                )
            };
            return Err(Error::NotFound(msg));
        }
        if self.code_dir.is_empty()
            && (self.path_major.is_empty() || self.path_major.starts_with('.'))
        {
            return Ok((c.clone(), String::new(), None));
        }
        if !file2.is_empty() {
            return Err(Error::NotFound(format!(
                "missing {}/go.mod and ...{}/go.mod at revision {rev}",
                self.path_prefix, self.path_major
            )));
        }
        Err(Error::NotFound(format!(
            "missing {}/go.mod at revision {rev}",
            self.path_prefix
        )))
    }

    fn require_canonical(&self, version: &str) -> Result<()> {
        if version != modpath::canonical_version(version) {
            return Err(Error::Invalid(format!(
                "version {version} is not canonical"
            )));
        }
        if pseudo::is_pseudo_version(version) {
            // findDir ignores a pseudo-version's metadata; verify it first so a
            // forged pseudo-version never yields a file.
            self.stat(version)?;
        }
        Ok(())
    }

    /// The go.mod of a canonical version: the file from the module's
    /// directory, or `module <path>\n` for a module without one.
    pub fn go_mod(&self, version: &str) -> Result<Vec<u8>> {
        self.require_canonical(version)?;
        let (rev, dir, gomod) = self.find_dir(version)?;
        if let Some(g) = gomod {
            return Ok(g);
        }
        match self
            .repo
            .read_file(&rev, &join(&dir, "go.mod"), MAX_GO_MOD)?
        {
            Some(g) => Ok(g),
            None => Ok(format!("module {}\n", modfile::auto_quote(&self.mod_path)).into_bytes()),
        }
    }

    /// Writes the zip of a canonical version to `dest` (which need not be
    /// seekable) and returns its `h1:` and file list. On error, `dest` may
    /// hold a partial zip: write to a temporary file and keep it only on
    /// success.
    pub fn zip<W: Write>(&self, version: &str, dest: W) -> Result<ZipSummary> {
        self.require_canonical(version)?;
        let (rev, subdir, _) = self.find_dir(version)?;
        // The git archive goes to an anonymous temporary file, never memory.
        // It is written uncompressed: agora only reads it back, and deflating
        // it costs more than everything else in a warm fetch.
        let missing = || {
            Error::NotFound(format!(
                "{}@{version}: no files in {subdir} at revision {rev}",
                self.mod_path
            ))
        };
        if let Some(tree) = self.tree_for_zip(&rev, &subdir)? {
            let Some(tree) = tree else {
                return Err(missing());
            };
            let mut blobs = self.repo.blob_reader()?;
            return modzip::build_from_tree(
                &tree,
                &subdir,
                &self.mod_path,
                version,
                &mut blobs,
                &self.repo.zip_cache(&self.mod_path),
                dest,
            );
        }
        // The go command refuses a git archive (compressed, as it runs git)
        // over MaxZipFile. Stored is never smaller than compressed by more
        // than deflate's worst-case overhead, so a stored archive is tried
        // first only when the tree says it may fit (attributes can change
        // sizes a little), and only an archive near the limit needs the
        // compressed size measured. Either is cut off at the limit while it
        // is written: a small repository can name one large blob many times.
        let near = MAX_ZIP_FILE - (MAX_ZIP_FILE >> 8);
        let mut archive = None;
        if self.archive_estimate(&rev, &subdir)? <= near {
            let file = self.repo.spool()?;
            match self.repo.archive(&rev, &subdir, true, &file, near)? {
                Archive::NoFiles => return Err(missing()),
                Archive::Written => archive = Some(file),
                Archive::TooLarge => {}
            }
        }
        let archive = match archive {
            Some(file) => file,
            None => {
                let file = self.repo.spool()?;
                match self
                    .repo
                    .archive(&rev, &subdir, false, &file, MAX_ZIP_FILE)?
                {
                    Archive::NoFiles => return Err(missing()),
                    Archive::Written => file,
                    Archive::TooLarge => {
                        return Err(Error::Invalid("downloaded zip file too large".into()));
                    }
                }
            }
        };
        let repo = Arc::clone(&self.repo);
        let mut root_license = || match repo.read_file(&rev, "LICENSE", MAX_LICENSE) {
            // What checkFiles says about the oversized file go would add.
            Err(Error::Invalid(_)) => Err(Error::Invalid(format!(
                "create zip: LICENSE: LICENSE file too large (max size is {MAX_LICENSE} bytes)"
            ))),
            r => r,
        };
        modzip::build(
            &archive,
            &subdir,
            &self.mod_path,
            version,
            &mut root_license,
            dest,
        )
    }
}

impl DirectModule {
    /// The tree listing the zip can be built from without `git archive`
    /// (everything under `subdir`, plus the root LICENSE), or `None` when
    /// the archive must be used: attributes could change its content
    /// (a `.gitattributes` in the module or above it, or attributes from
    /// the operator's git configuration), or it could come near the zip size
    /// limit, which the go command applies to the compressed archive.
    /// `Some(None)` when `subdir` matches nothing (as the archive would say).
    fn tree_for_zip(&self, rev: &str, subdir: &str) -> Result<Option<Option<Vec<TreeEntry>>>> {
        let subdir = subdir.trim_matches('/');
        let mut paths = Vec::new();
        if !subdir.is_empty() {
            paths.push(subdir.to_owned());
            paths.push("LICENSE".to_owned());
            paths.push(".gitattributes".to_owned());
            let mut dir = subdir;
            while let Some(slash) = dir.rfind('/') {
                dir = &dir[..slash];
                paths.push(format!("{dir}/.gitattributes"));
            }
        }
        let tree = self.repo.tree_entries(rev, &paths)?;
        let prefix = format!("{subdir}/");
        let under = |p: &str| subdir.is_empty() || p == subdir || p.starts_with(&prefix);
        let mut archived = 0u64;
        let mut any = false;
        for t in &tree {
            if t.path == ".gitattributes" || t.path.ends_with("/.gitattributes") {
                return Ok(None);
            }
            if under(&t.path) {
                any = true;
                // What an entry costs in a stored archive: the data, the
                // name twice and the headers.
                archived += t.size + 2 * t.path.len() as u64 + 128;
            }
        }
        if archived > MAX_ZIP_FILE - (MAX_ZIP_FILE >> 8) || self.repo.outside_attributes()? {
            return Ok(None);
        }
        Ok(Some((any || subdir.is_empty()).then_some(tree)))
    }
}

impl DirectModule {
    /// What a stored `git archive` of `subdir` at `rev` would roughly take:
    /// the data of every blob under it, the names twice and the headers.
    fn archive_estimate(&self, rev: &str, subdir: &str) -> Result<u64> {
        let subdir = subdir.trim_matches('/');
        let paths: Vec<String> = if subdir.is_empty() {
            Vec::new()
        } else {
            vec![subdir.to_owned()]
        };
        Ok(self
            .repo
            .tree_entries(rev, &paths)?
            .iter()
            .map(|t| t.size + 2 * t.path.len() as u64 + 128)
            .sum())
    }
}

/// modload `mergeOrigin`: the union of two origins, or `None` when they
/// disagree.
fn merge_origin(m1: Option<Origin>, m2: Option<&Origin>) -> Option<Origin> {
    let (m1, m2) = (m1?, m2?);
    if m1.vcs != m2.vcs || m1.url != m2.url || m1.subdir != m2.subdir {
        return None;
    }
    let mut merged = m1.clone();
    if !m2.hash.is_empty() {
        if !m1.hash.is_empty() && m1.hash != m2.hash {
            return None;
        }
        merged.hash = m2.hash.clone();
    }
    if !m2.tag_sum.is_empty() {
        if !m1.tag_sum.is_empty() && (m1.tag_sum != m2.tag_sum || m1.tag_prefix != m2.tag_prefix) {
            return None;
        }
        merged.tag_sum = m2.tag_sum.clone();
        merged.tag_prefix = m2.tag_prefix.clone();
    }
    if !m2.repo_sum.is_empty() {
        if !m1.repo_sum.is_empty() && m1.repo_sum != m2.repo_sum {
            return None;
        }
        merged.repo_sum = m2.repo_sum.clone();
    }
    if !m2.git_ref.is_empty() {
        if !m1.git_ref.is_empty() && m1.git_ref != m2.git_ref {
            return None;
        }
        merged.git_ref = m2.git_ref.clone();
    }
    Some(merged)
}

/// x/mod `module.MatchPathMajor`.
fn match_path_major(v: &str, path_major: &str) -> bool {
    modpath::check_path_major(v, path_major).is_ok()
}

/// coderepo `isMajor`.
fn is_major(mpath: &str, path_major: &str) -> bool {
    if mpath.is_empty() {
        return false;
    }
    let Some((_, mpath_major)) = modpath::split_path_version(mpath) else {
        return false;
    };
    if path_major.is_empty() {
        let m = mpath_major
            .get(1..)
            .unwrap_or("")
            .trim_end_matches("-unstable");
        return matches!(m, "" | "v0" | "v1");
    }
    if mpath_major.is_empty() {
        return false;
    }
    path_major[1..] == mpath_major[1..]
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

fn has_path_prefix(s: &str, prefix: &str) -> bool {
    if s.len() == prefix.len() {
        return s == prefix;
    }
    if s.len() > prefix.len() {
        if prefix.ends_with('/') {
            return s.starts_with(prefix);
        }
        return s.as_bytes()[prefix.len()] == b'/' && s.starts_with(prefix);
    }
    false
}

/// Go's `%q` for the plain tag names git allows (quotes and backslashes
/// escaped, other bytes verbatim).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn base64_std(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors() {
        assert!(is_major("example.com/m", ""));
        assert!(!is_major("example.com/m/v2", ""));
        assert!(is_major("example.com/m/v2", "/v2"));
        assert!(!is_major("example.com/m", "/v2"));
        assert!(is_major("gopkg.in/yaml.v2", "/v2"));
    }
}
