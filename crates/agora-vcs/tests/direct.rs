//! agora-vcs against the real go command in direct mode, on repositories
//! built here and served by the loopback forge.
//!
//! Each test asserts agora's own expectations first (so it means something
//! without a Go toolchain), then, when `go` and the forge are available,
//! compares list / stat / latest / go.mod hash / zip hash with
//! `go list -m -versions -json`, `go list -m -json M@q` and
//! `go mod download -json`.

// The Case helpers run only inside tests; a failed step should fail the test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use agora_core::dirhash::hash_go_mod;
use agora_testkit::GitWork;
use agora_testkit::vcs_forge::{self, HOST, go_json, oracle_available, unique};
use agora_vcs::{DirectModule, GitRepo};
use serde_json::Value;

struct Case {
    module: DirectModule,
    _cache: tempfile::TempDir,
    mismatches: Vec<String>,
    oracle: bool,
}

impl Case {
    /// `name` is the repository; `sub` the module path below its root.
    fn new(work: &GitWork, name: &str, sub: &str) -> Case {
        Case::with_subdir(work, name, sub, "")
    }

    /// As `new`, with a go-import subdirectory field (`subdir`).
    fn with_subdir(work: &GitWork, name: &str, sub: &str, subdir: &str) -> Case {
        let url = vcs_forge::publish(work, name);
        if !subdir.is_empty() {
            let bare = vcs_forge::repos_dir().join(format!("{name}.git"));
            std::fs::write(bare.join("go-import-subdir"), subdir).unwrap();
        }
        let cache = tempfile::tempdir().unwrap();
        let repo = Arc::new(GitRepo::open(cache.path(), &url).unwrap());
        let root = format!("{HOST}/{name}");
        let path = if sub.is_empty() {
            root.clone()
        } else {
            format!("{root}/{sub}")
        };
        let module = DirectModule::new(&path, repo, &root, subdir).unwrap();
        Case {
            module,
            _cache: cache,
            mismatches: Vec::new(),
            oracle: oracle_available(),
        }
    }

    fn path(&self) -> &str {
        self.module.path()
    }

    fn list(&mut self) -> Vec<String> {
        let ours = self.module.list().unwrap().list;
        if self.oracle {
            // `-retracted`: the proxy list keeps retracted versions; the
            // go command hides them only when showing the list to people.
            let go = go_json(&[
                "list",
                "-m",
                "-versions",
                "-retracted",
                "-json",
                self.path(),
            ])
            .unwrap();
            let theirs: Vec<String> = go["Versions"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            if theirs != ours {
                self.mismatches
                    .push(format!("list: go {theirs:?}, agora {ours:?}"));
            }
        }
        ours
    }

    /// Resolves `query`, compares Version, Time and Origin with
    /// `go list -m -json`, and returns the version.
    fn stat(&mut self, query: &str) -> String {
        let ours = self.module.stat(query);
        if self.oracle {
            let go = go_json(&["list", "-m", "-json", &format!("{}@{query}", self.path())]);
            match (&ours, &go) {
                (Ok(info), Ok(go)) => {
                    let mine: Value = serde_json::from_slice(&info.to_json()).unwrap();
                    for field in ["Version", "Time", "Origin"] {
                        if go[field] != mine[field] {
                            self.mismatches.push(format!(
                                "stat {query} {field}: go {}, agora {}",
                                go[field], mine[field]
                            ));
                        }
                    }
                }
                (Err(a), Err(g)) => {
                    // The go command prints the same text after "go: ".
                    if g.trim() != format!("go: {a}") {
                        self.mismatches.push(format!(
                            "stat {query} error: go {:?}, agora {a:?}",
                            g.trim()
                        ));
                    }
                }
                (a, g) => self
                    .mismatches
                    .push(format!("stat {query}: go {g:?}, agora {a:?}")),
            }
        }
        match ours {
            Ok(info) => info.version,
            Err(e) => format!("error: {e}"),
        }
    }

    /// `@latest`, compared with `go list -m -json M@latest`.
    fn latest(&mut self) -> String {
        self.stat("latest")
    }

    /// go.mod and zip of a canonical version: compares GoModSum, Sum and
    /// the Origin of the .info the go command wrote. Returns the zip's
    /// file list (or the error).
    fn download(&mut self, version: &str) -> Result<Vec<String>, String> {
        let gomod = self.module.go_mod(version).map_err(|e| e.to_string());
        let mut zip_bytes = Vec::new();
        let zip = self
            .module
            .zip(version, &mut zip_bytes)
            .map_err(|e| e.to_string());
        if let Ok(z) = &zip {
            // The written zip must hash as the summary says and pass the
            // same checks as any zip agora takes from upstream.
            let f = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(f.path(), &zip_bytes).unwrap();
            let checked =
                agora_core::zipcheck::check_zip_file(f.path(), self.path(), version).unwrap();
            assert_eq!(checked.h1, z.h1, "h1 of written zip");
        }
        if self.oracle {
            let go = go_json(&[
                "mod",
                "download",
                "-json",
                &format!("{}@{version}", self.path()),
            ]);
            match (&gomod, &zip, &go) {
                (Ok(m), Ok(z), Ok(go)) => {
                    let go_mod_sum = hash_go_mod(m);
                    if go["GoModSum"].as_str() != Some(go_mod_sum.as_str()) {
                        self.mismatches.push(format!(
                            "download {version} GoModSum: go {}, agora {go_mod_sum}",
                            go["GoModSum"]
                        ));
                    }
                    if go["Sum"].as_str() != Some(z.h1.as_str()) {
                        self.mismatches.push(format!(
                            "download {version} Sum: go {}, agora {} (files {:?})",
                            go["Sum"], z.h1, z.files
                        ));
                    }
                    let info = self.module.stat(version).unwrap();
                    let mine: Value = serde_json::from_slice(&info.to_info_json()).unwrap();
                    if go["InfoJSON"] != mine {
                        self.mismatches.push(format!(
                            "download {version} .info: go {}, agora {mine}",
                            go["InfoJSON"]
                        ));
                    }
                }
                (_, Err(a), Err(g)) => {
                    // `go mod download -json` reports the error in its JSON.
                    let json: String = g
                        .lines()
                        .skip_while(|l| !l.starts_with('{'))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let go_err = serde_json::from_str::<Value>(&json)
                        .ok()
                        .and_then(|v| v["Error"].as_str().map(str::to_owned))
                        .unwrap_or_else(|| g.clone());
                    if go_err != *a {
                        self.mismatches.push(format!(
                            "download {version} error: go {go_err:?}, agora {a:?}"
                        ));
                    }
                }
                (m, z, g) => self.mismatches.push(format!(
                    "download {version}: go {:?}, agora mod {:?} zip {:?}",
                    g.as_ref().map(|v| v["Sum"].clone()),
                    m.as_ref().map(|m| String::from_utf8_lossy(m).into_owned()),
                    z.as_ref().map(|z| z.h1.clone())
                )),
            }
        }
        zip.map(|z| z.files)
    }

    fn finish(self) {
        assert!(
            self.mismatches.is_empty(),
            "go and agora disagree on {}:\n{}",
            self.module.path(),
            self.mismatches.join("\n")
        );
    }
}

fn short(hash: &str) -> &str {
    &hash[..12]
}

#[test]
fn tags_branches_and_pseudo_versions() {
    let name = unique("basic");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n\ngo 1.21\n"))
        .write("a.go", "package a\n");
    let c1 = w.commit("one");
    w.tag("v1.0.0");
    w.write("a.go", "package a // 2\n");
    let c2 = w.commit("two");
    w.annotated_tag("v1.1.0");
    // Tags the list must skip: non-canonical, pseudo-version-shaped,
    // build metadata.
    w.tag("v1.3")
        .tag("v1.9.0-0.20200101000000-abcdefabcdef")
        .tag("v1.1.0+meta");
    w.write("a.go", "package a // 3\n");
    let c3 = w.commit("three");
    w.git(&["branch", "fix", &c2]);
    w.write("a.go", "package a // 4\n");
    w.commit("four");
    w.tag("v1.2.0-pre");
    w.write("a.go", "package a // 5\n");
    let c5 = w.commit("five");
    w.git(&["checkout", "-q", "fix"]);
    w.write("b.go", "package a\n");
    let fix = w.commit("fix");
    w.git(&["checkout", "-q", "main"]);

    let mut case = Case::new(&w, &name, "");
    assert_eq!(case.list(), ["v1.0.0", "v1.1.0", "v1.2.0-pre"]);
    assert_eq!(case.stat("v1.0.0"), "v1.0.0");
    assert_eq!(case.stat(&c1[..7]), "v1.0.0");
    assert_eq!(case.stat(&c2), "v1.1.0");
    // Form 2 (after a release), by commit prefix and by branch.
    assert!(case.stat(&c3[..10]).starts_with("v1.1.1-0."));
    assert_eq!(case.stat("fix"), case.stat(short(&fix)));
    assert!(case.stat("fix").ends_with(short(&fix)));
    // Form 3 (after a pre-release), the default branch.
    let main = case.stat("main");
    assert!(
        main.starts_with("v1.2.0-pre.0.") && main.ends_with(short(&c5)),
        "{main}"
    );
    assert_eq!(case.stat("HEAD"), main);
    // A non-canonical tag on a commit with a canonical one resolves to the
    // canonical tag. (Not compared with go: `go list M@v1.3` is a version
    // query over the list, not a revision lookup.)
    assert_eq!(case.module.stat("v1.3").unwrap().version, "v1.1.0");
    // A tag with build metadata names the canonical tag on the same commit.
    assert_eq!(case.stat("v1.1.0+meta"), "v1.1.0");
    // Round trip of a pseudo-version and a forged one.
    let pv = case.stat(&c3);
    assert_eq!(case.stat(&pv), pv);
    case.stat(&format!("v1.1.1-0.20240101000000-{}", short(&c3)));
    case.stat("nosuchbranch");
    assert_eq!(case.latest(), "v1.1.0");
    for v in ["v1.0.0", "v1.1.0", "v1.2.0-pre", &pv] {
        let files = case.download(v).unwrap();
        assert!(files.contains(&"go.mod".to_owned()));
    }
    case.finish();
}

#[test]
fn untagged_repository() {
    let name = unique("untagged");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("x.go", "package x\n");
    w.commit("one");
    w.write("x.go", "package x // 2\n");
    let head = w.commit("two");
    let mut case = Case::new(&w, &name, "");
    assert!(case.list().is_empty());
    let latest = case.latest();
    assert!(
        latest.starts_with("v0.0.0-2024") && latest.ends_with(short(&head)),
        "{latest}"
    );
    // A v1 pseudo-version without a tag is refused (must be v0).
    case.stat(&latest.replacen("v0.0.0", "v1.0.0", 1));
    case.download(&latest).unwrap();
    case.finish();
}

#[test]
fn incompatible_versions() {
    let name = unique("incompat");
    let w = GitWork::temp();
    w.write("LICENSE", "license\n").write("x.go", "package x\n");
    w.commit("one");
    w.tag("v1.0.0");
    w.write("x.go", "package x // 2\n");
    w.commit("two");
    w.tag("v2.0.0");
    w.write("x.go", "package x // 3\n");
    w.commit("three");
    w.tag("v2.1.0");
    // A branch after v2.1.0 without go.mod: +incompatible pseudo-versions.
    w.git(&["checkout", "-q", "-b", "old"]);
    w.write("x.go", "package x // old\n");
    let old = w.commit("old");
    w.git(&["checkout", "-q", "main"]);
    w.write("go.mod", &format!("module {HOST}/{name}/v3\n"));
    w.commit("v3 with go.mod");
    w.tag("v3.0.0");
    w.write("x.go", "package x // 5\n");
    w.commit("five");
    let mut case = Case::new(&w, &name, "");
    assert_eq!(
        case.list(),
        ["v1.0.0", "v2.0.0+incompatible", "v2.1.0+incompatible"]
    );
    assert_eq!(case.stat("v2.0.0"), "v2.0.0+incompatible");
    assert_eq!(case.stat("v2.1.0+incompatible"), "v2.1.0+incompatible");
    assert!(case.stat("v3.0.0").starts_with("error"));
    assert_eq!(case.latest(), "v2.1.0+incompatible");
    // Default branch head: has a go.mod for /v3, so not this module.
    assert!(case.stat("main").starts_with("error"));
    let pv = case.stat("old");
    assert!(
        pv.starts_with("v2.1.1-0.") && pv.ends_with(&format!("{}+incompatible", short(&old))),
        "{pv}"
    );
    case.download(&pv).unwrap();
    assert_eq!(
        case.module.go_mod("v2.1.0+incompatible").unwrap(),
        format!("module {HOST}/{name}\n").into_bytes()
    );
    // Without the suffix the version does not fit the path (module.Check).
    let e = case
        .module
        .zip("v2.0.0", Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("should be v0 or v1, not v2"), "{e}");
    for v in ["v1.0.0", "v2.0.0+incompatible", "v2.1.0+incompatible"] {
        let files = case.download(v).unwrap();
        assert!(!files.contains(&"go.mod".to_owned()));
    }
    case.finish();
}

#[test]
fn major_version_subdirectory() {
    let name = unique("major");
    let w = GitWork::temp();
    w.write("LICENSE", "root license\n")
        .write("go.mod", &format!("module {HOST}/{name}\n\ngo 1.20\n"))
        .write("a.go", "package a\n")
        .write(
            "v2/go.mod",
            &format!("module {HOST}/{name}/v2\n\ngo 1.20\n"),
        )
        .write("v2/a.go", "package a\n");
    w.commit("one");
    w.tag("v1.0.0").tag("v2.0.0");
    w.write("v2/b.go", "package a\n");
    let head = w.commit("two");

    let mut v1 = Case::new(&w, &name, "");
    assert_eq!(v1.list(), ["v1.0.0"]);
    let files = v1.download("v1.0.0").unwrap();
    // v2/ holds its own go.mod, so it is a nested module, left out.
    assert!(!files.iter().any(|f| f.starts_with("v2/")), "{files:?}");
    v1.finish();

    let mut v2 = Case::new(&w, &name, "v2");
    assert_eq!(v2.list(), ["v2.0.0"]);
    let mut files = v2.download("v2.0.0").unwrap();
    files.sort();
    assert_eq!(files, ["LICENSE", "a.go", "go.mod"]);
    let pv = v2.stat("main");
    assert!(
        pv.starts_with("v2.0.1-0.") && pv.ends_with(short(&head)),
        "{pv}"
    );
    v2.download(&pv).unwrap();
    assert_eq!(v2.latest(), "v2.0.0");
    v2.finish();
}

#[test]
fn module_in_subdirectory_with_root_license() {
    let name = unique("mono");
    let w = GitWork::temp();
    w.write("LICENSE", "root license\n")
        .write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("root.go", "package root\n")
        .write(
            "sub/go.mod",
            &format!("module {HOST}/{name}/sub\n\ngo 1.22\n"),
        )
        .write("sub/s.go", "package sub\n")
        .write("sub/inner/i.go", "package inner\n");
    w.commit("one");
    w.tag("v1.0.0").tag("sub/v0.1.0");
    w.write("sub/s.go", "package sub // 2\n");
    w.commit("two");
    w.tag("sub/v0.2.0");
    w.write("sub/LICENSE", "own license\n");
    w.commit("three");
    w.tag("sub/v0.3.0");
    w.write("root.go", "package root // 4\n");
    w.commit("four");

    let mut root = Case::new(&w, &name, "");
    assert_eq!(root.list(), ["v1.0.0"]);
    let files = root.download("v1.0.0").unwrap();
    assert!(!files.iter().any(|f| f.starts_with("sub/")), "{files:?}");
    root.finish();

    let mut sub = Case::new(&w, &name, "sub");
    assert_eq!(sub.list(), ["v0.1.0", "v0.2.0", "v0.3.0"]);
    let mut files = sub.download("v0.1.0").unwrap();
    files.sort();
    assert_eq!(files, ["LICENSE", "go.mod", "inner/i.go", "s.go"]);
    sub.download("v0.3.0").unwrap();
    let pv = sub.stat("main");
    assert!(pv.starts_with("v0.3.1-0."), "{pv}");
    assert_eq!(sub.latest(), "v0.3.0");
    sub.finish();
}

#[test]
fn vendor_nested_modules_and_irregular_files() {
    let name = unique("vendor");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n\ngo 1.21\n"))
        .write("a.go", "package a\n")
        .write("vendor/modules.txt", "# example.com/x v1.0.0\n")
        .write("vendor/example.com/x/x.go", "package x\n")
        .write("vendor/top.go", "package vendor\n")
        .write("pkg/vendor/vendor.go", "package vendor\n")
        .write("pkg/vendor/sub/s.go", "package sub\n")
        .write("nested/go.mod", "module other.example/nested\n")
        .write("nested/n.go", "package nested\n")
        .write("upper/GO.MOD", "module other.example/upper\n")
        .write("upper/u.go", "package upper\n")
        .write(".hg_archival.txt", "repo: x\n")
        .write("export/ignored.txt", "kept despite export-ignore\n")
        .write(
            ".gitattributes",
            "export/ignored.txt export-ignore\nsubst.txt export-subst\n",
        )
        .write("subst.txt", "$Format:%H$\n")
        .write("crlf.txt", "one\ntwo\n")
        .symlink("link.go", "a.go");
    w.commit("old vendor rule");
    w.tag("v1.0.0");
    w.write("go.mod", &format!("module {HOST}/{name}\n\ngo 1.24\n"));
    w.commit("go 1.24 vendor rule");
    w.tag("v1.1.0");

    let mut case = Case::new(&w, &name, "");
    let old = case.download("v1.0.0").unwrap();
    for f in [
        "vendor/modules.txt",
        "vendor/top.go",
        "a.go",
        "export/ignored.txt",
        "subst.txt",
    ] {
        assert!(old.contains(&f.to_owned()), "{f} missing from {old:?}");
    }
    for f in [
        "vendor/example.com/x/x.go",
        "pkg/vendor/vendor.go",
        "nested/n.go",
        "upper/u.go",
        "link.go",
        ".hg_archival.txt",
    ] {
        assert!(!old.contains(&f.to_owned()), "{f} in {old:?}");
    }
    let new = case.download("v1.1.0").unwrap();
    assert!(new.contains(&"pkg/vendor/vendor.go".to_owned()));
    assert!(!new.contains(&"vendor/modules.txt".to_owned()));
    assert!(!new.contains(&"pkg/vendor/sub/s.go".to_owned()));
    case.finish();
}

#[test]
fn invalid_zips_are_refused() {
    let name = unique("bad");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("a.go", "package a\n")
        .write("dir/A.go", "package dir\n")
        .write("dir/a.go", "package dir\n");
    w.commit("collision");
    w.tag("v1.0.0");
    w.remove("dir/A.go");
    w.write("x:y.go", "package a\n");
    w.commit("bad name");
    w.tag("v1.1.0");
    let mut case = Case::new(&w, &name, "");
    let e = case.download("v1.0.0").unwrap_err();
    assert!(e.contains("case-insensitive file name collision"), "{e}");
    let e = case.download("v1.1.0").unwrap_err();
    assert!(e.contains("x:y.go"), "{e}");
    case.finish();
}

#[test]
fn retractions_and_prereleases() {
    let name = unique("retract");
    let w = GitWork::temp();
    let gomod = |extra: &str| format!("module {HOST}/{name}\n\ngo 1.21\n{extra}");
    w.write("go.mod", &gomod("")).write("a.go", "package a\n");
    w.commit("one");
    w.tag("v0.9.0-rc.1");
    let mut pre = Case::new(&w, &name, "");
    // Only a pre-release: latest is it.
    assert_eq!(pre.latest(), "v0.9.0-rc.1");
    pre.finish();

    w.write("a.go", "package a // 2\n");
    w.commit("two");
    w.tag("v1.0.0");
    w.write("a.go", "package a // 3\n");
    w.commit("three");
    w.tag("v1.1.0");
    w.write(
        "go.mod",
        &gomod("\nretract (\n\tv1.2.0 // oops\n\t[v1.1.0, v1.1.0]\n)\n"),
    );
    w.commit("four");
    w.tag("v1.2.0");
    w.write("a.go", "package a // 5\n");
    let head = w.commit("five");
    let mut case = Case::new(&w, &name, "");
    assert_eq!(case.list(), ["v0.9.0-rc.1", "v1.0.0", "v1.1.0", "v1.2.0"]);
    // v1.2.0 and v1.1.0 are retracted by v1.2.0's go.mod.
    assert_eq!(case.latest(), "v1.0.0");
    // A pseudo-version's base skips retracted tags.
    let pv = case.stat("main");
    assert!(
        pv.starts_with("v1.0.1-0.") && pv.ends_with(short(&head)),
        "{pv}"
    );
    case.download(&pv).unwrap();
    case.finish();
}

#[test]
fn major_version_at_repository_root() {
    let name = unique("rootv2");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("a.go", "package a\n");
    w.commit("v1");
    w.tag("v1.0.0");
    w.write("go.mod", &format!("module {HOST}/{name}/v2\n"));
    w.commit("v2");
    w.tag("v2.0.0");
    w.write("a.go", "package a // 3\n");
    w.commit("three");
    let mut v2 = Case::new(&w, &name, "v2");
    assert_eq!(v2.list(), ["v2.0.0"]);
    assert!(v2.stat("main").starts_with("v2.0.1-0."));
    // v1.0.0 is not a version of the /v2 module.
    assert!(v2.stat("v1.0.0").starts_with("error"));
    v2.download("v2.0.0").unwrap();
    v2.finish();
    let mut v1 = Case::new(&w, &name, "");
    assert_eq!(v1.list(), ["v1.0.0"]);
    assert!(v1.stat("v2.0.0").starts_with("error"));
    v1.finish();
}

#[test]
fn gitattributes_conversions() {
    let name = unique("attrs");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write(
            ".gitattributes",
            "*.crlf text eol=crlf\n*.bin binary\nid.txt ident\nign/** export-ignore\n",
        )
        .write("x.crlf", "one\ntwo\n")
        .write_bytes("y.bin", b"\x00\x01\r\n")
        .write("id.txt", "$Id$\n")
        .write("ign/kept.go", "package ign\n")
        .write("a.go", "package a\n");
    w.commit("attrs");
    w.tag("v1.0.0");
    let mut case = Case::new(&w, &name, "");
    let files = case.download("v1.0.0").unwrap();
    assert!(files.contains(&"ign/kept.go".to_owned()));
    case.finish();
}

#[test]
fn symlink_loop_and_root_license_symlink() {
    let name = unique("links");
    let w = GitWork::temp();
    w.write("LICENSE.txt", "license text\n")
        .symlink("LICENSE", "LICENSE.txt")
        .write("sub/go.mod", &format!("module {HOST}/{name}/sub\n"))
        .write("sub/a.go", "package a\n")
        .symlink("sub/loop", "loop")
        .symlink("sub/dir/up", "..");
    w.commit("links");
    w.tag("sub/v1.0.0");
    let mut case = Case::new(&w, &name, "sub");
    let mut files = case.download("v1.0.0").unwrap();
    files.sort();
    // The root LICENSE is a symlink; `git cat-file` yields its target text,
    // which the go command zips as LICENSE.
    assert_eq!(files, ["LICENSE", "a.go", "go.mod"]);
    case.finish();
}

#[test]
fn tag_without_the_module_and_oversized_license() {
    let name = unique("nomod");
    let w = GitWork::temp();
    w.write("README", "no module here\n");
    w.commit("readme");
    w.tag("sub/v1.0.0");
    w.write("sub/go.mod", &format!("module {HOST}/{name}/sub\n"))
        .write("sub/a.go", "package a\n")
        .write("sub/LICENSE", &"x".repeat((16 << 20) + 1));
    w.commit("big license");
    w.tag("sub/v1.1.0");
    let mut case = Case::new(&w, &name, "sub");
    assert!(case.stat("sub/v1.0.0").starts_with("error"));
    let e = case.module.go_mod("v1.0.0").unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
    let e = case.download("v1.1.0").unwrap_err();
    assert!(e.contains("LICENSE file too large"), "{e}");
    case.finish();
}

#[test]
fn go_import_subdirectory_field() {
    let name = unique("gosub");
    let w = GitWork::temp();
    w.write("README", "the module lives in go/\n")
        .write("LICENSE", "root license\n")
        .write("go/go.mod", &format!("module {HOST}/{name}\n"))
        .write("go/a.go", "package a\n")
        .write("go/x/go.mod", &format!("module {HOST}/{name}/x\n"))
        .write("go/x/x.go", "package x\n");
    w.commit("one");
    w.tag("go/v1.0.0").tag("go/x/v0.1.0");
    let mut root = Case::with_subdir(&w, &name, "", "go");
    assert_eq!(root.list(), ["v1.0.0"]);
    let mut files = root.download("v1.0.0").unwrap();
    files.sort();
    assert_eq!(files, ["LICENSE", "a.go", "go.mod"]);
    root.finish();
    // The go command joins the subdirectory *after* the path below the root
    // (codeDir "x/go", not "go/x"), so the nested module is not found there;
    // agora agrees.
    let mut x = Case::with_subdir(&w, &name, "x", "go");
    assert!(x.list().is_empty());
    assert!(x.stat("main").starts_with("error"));
    x.finish();
}

#[test]
fn unicode_names_gitlinks_and_kelvin_collision() {
    let name = unique("unicode");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("é.go", "package a\n")
        .write("dir/日本.txt", "x\n");
    // A submodule entry (gitlink): git archive leaves it out.
    let head = w.commit("one");
    w.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendored-sub"),
    ]);
    w.git(&["commit", "-q", "-m", "gitlink"]);
    w.tag("v1.0.0");
    // KELVIN SIGN folds with k: a collision for the go command.
    w.write("\u{212A}.go", "package a\n")
        .write("k.go", "package a\n");
    w.commit("kelvin");
    w.tag("v1.1.0");
    let mut case = Case::new(&w, &name, "");
    let mut files = case.download("v1.0.0").unwrap();
    files.sort();
    assert_eq!(files, ["dir/日本.txt", "go.mod", "é.go"]);
    let e = case.download("v1.1.0").unwrap_err();
    assert!(e.contains("case-insensitive file name collision"), "{e}");
    case.finish();
}

/// A remote HEAD detached from every branch: its commit is fetched with the
/// refs (agora records it in the same fetch), so it resolves as go resolves
/// it; `@latest` prefers the tag.
#[test]
fn detached_remote_head() {
    let name = unique("detached");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("x.go", "package x\n");
    w.commit("one");
    w.tag("v1.0.0");
    w.git(&["checkout", "-q", "-b", "side"]);
    w.write("x.go", "package x // side\n");
    let side = w.commit("side");
    w.git(&["checkout", "-q", "-"]);
    let mut case = Case::new(&w, &name, "");
    let bare = vcs_forge::repos_dir().join(format!("{name}.git"));
    vcs_forge::git(&bare, &["update-ref", "--no-deref", "HEAD", &side]);
    vcs_forge::git(&bare, &["update-ref", "-d", "refs/heads/side"]);
    assert_eq!(case.list(), ["v1.0.0"]);
    assert_eq!(case.latest(), "v1.0.0");
    let pseudo = case.stat(&side[..12]);
    assert!(pseudo.starts_with("v1.0.1-0.2024"), "{pseudo}");
    case.download(&pseudo).unwrap();
    case.finish();
}

/// A remote HEAD naming a branch that does not exist: the refs are read
/// without it, and the tags still work.
#[test]
fn unborn_remote_head() {
    let name = unique("unborn");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"))
        .write("x.go", "package x\n");
    w.commit("one");
    w.tag("v1.0.0");
    let mut case = Case::new(&w, &name, "");
    let bare = vcs_forge::repos_dir().join(format!("{name}.git"));
    vcs_forge::git(&bare, &["symbolic-ref", "HEAD", "refs/heads/nothing-here"]);
    assert_eq!(case.list(), ["v1.0.0"]);
    assert_eq!(case.latest(), "v1.0.0");
    case.download("v1.0.0").unwrap();
    case.finish();
}

/// Zips of later versions reuse the deflated files of earlier ones (the
/// zip cache next to the mirror); the files that changed, were added or
/// were removed must still come out exactly as the go command has them, and
/// a damaged cache must never leak into a zip that passes as good.
#[test]
fn later_versions_reuse_the_zip_cache() {
    let name = unique("zipcache");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module {HOST}/{name}\n"));
    for i in 0..40 {
        w.write(
            &format!("p/f{i}.go"),
            &format!("package p\n\n// {i} {}\n", "x".repeat(i * 50)),
        );
    }
    w.write("same/a.go", "package same\n")
        .write("same/b.go", "package same\n");
    w.commit("one");
    w.tag("v1.0.0");
    w.write("p/f3.go", "package p\n\n// changed\n")
        .remove("p/f4.go")
        .write("p/new.go", "package p\n\n// new\n");
    w.commit("two");
    w.tag("v1.1.0");
    // v1.2.0 changes most bytes, so the cache is rebuilt from it.
    for i in 0..40 {
        w.write(
            &format!("p/f{i}.go"),
            &format!("package p\n\n// {i} {}\n", "y".repeat(i * 60)),
        );
    }
    w.commit("three");
    w.tag("v1.2.0");
    let mut case = Case::new(&w, &name, "");
    let cache_dir = case.module.repo().dir().with_extension("zips");
    let caches = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "zip"))
            .collect()
    };
    case.download("v1.0.0").unwrap();
    let first = caches();
    assert_eq!(first.len(), 1, "{first:?}");
    // Few new bytes: the new files go straight into the zip, the cache stays.
    let files = case.download("v1.1.0").unwrap();
    assert!(files.contains(&"p/new.go".to_owned()) && !files.contains(&"p/f4.go".to_owned()));
    assert_eq!(caches(), first);
    case.download("v1.2.0").unwrap();
    let second = caches();
    assert!(
        second.len() == 1 && second != first,
        "{first:?} then {second:?}"
    );

    // Damage every deflated blob in the cache: it must be noticed and not
    // used, so the zip built next is still the good one.
    let good = {
        let mut out = Vec::new();
        case.module.zip("v1.2.0", &mut out).unwrap().h1
    };
    let [cache] = &caches()[..] else {
        panic!("one zip cache next to the mirror: {:?}", caches());
    };
    let mut bytes = std::fs::read(cache).unwrap();
    // Local file headers start with PK\x03\x04; flip a byte of each blob's
    // data (30 bytes of header, then the name and extra field).
    let mut at = 0;
    while let Some(off) = bytes[at..].windows(4).position(|w| w == b"PK\x03\x04") {
        let h = at + off;
        let name_len = u16::from_le_bytes([bytes[h + 26], bytes[h + 27]]) as usize;
        let extra_len = u16::from_le_bytes([bytes[h + 28], bytes[h + 29]]) as usize;
        let data = h + 30 + name_len + extra_len;
        // Not the index: damage that makes the cache unreadable proves
        // nothing.
        if data < bytes.len() && &bytes[h + 30..h + 30 + name_len] != b"index" {
            bytes[data] ^= 0x55;
        }
        at = h + 4;
    }
    std::fs::write(cache, &bytes).unwrap();
    let mut out = Vec::new();
    let rebuilt = case.module.zip("v1.2.0", &mut out).unwrap();
    assert_eq!(rebuilt.h1, good);
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), &out).unwrap();
    let read_back =
        agora_core::zipcheck::check_zip_file(f.path(), case.module.path(), "v1.2.0").unwrap();
    assert_eq!(read_back.h1, good);
    // The damaged file is gone, replaced by a good one.
    let [fresh] = &caches()[..] else {
        panic!("one zip cache after the rebuild: {:?}", caches());
    };
    assert_ne!(std::fs::read(fresh).unwrap(), bytes);
    case.finish();
}
