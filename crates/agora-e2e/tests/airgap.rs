//! The admin commands end to end: `prefill` from go.sum files the go command wrote,
//! `export` to a tree the go command builds from as `GOPROXY=file://`, `import` of such a
//! tree and of a go module cache, offline serving of what was imported, `verify` of a
//! damaged store and `delete`; the progress display on a terminal and on a pipe.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use agora_testkit::*;

const ADMIN_TIMEOUT: Duration = Duration::from_secs(300);

/// A small program needing rsc.io/quote v1.5.2, whose graph holds rsc.io/sampler and a
/// golang.org/x/text pseudo-version.
const MAIN_GO: &str = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"rsc.io/quote\"\n)\n\nfunc main() { fmt.Println(quote.Hello()) }\n";
const GO_MOD: &str = "module example.com/airgap\n\ngo 1.21\n\nrequire rsc.io/quote v1.5.2\n";

/// The versions that program's go.sum names (rsc.io/testonly is a test dependency of
/// rsc.io/quote).
const GRAPH: &[(&str, &str)] = &[
    ("golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c"),
    ("rsc.io/quote", "v1.5.2"),
    ("rsc.io/sampler", "v1.3.0"),
    ("rsc.io/testonly", "v1.0.0"),
];

/// Runs `agora args…` on the disk store at `root` with upstream `upstream`.
fn admin(t: &TestDir, root: &Path, upstream: &str, args: &[&str]) -> Output {
    let storage = [
        ("ATHENS_STORAGE_TYPE".to_owned(), "disk".to_owned()),
        (
            "ATHENS_DISK_STORAGE_ROOT".to_owned(),
            root.display().to_string(),
        ),
    ];
    admin_on(t, &storage, upstream, args)
}

/// Runs `agora args…` on the storage `storage` (environment) names.
fn admin_on(t: &TestDir, storage: &[(String, String)], upstream: &str, args: &[&str]) -> Output {
    let data = t.sub("admin-data").display().to_string();
    let mut env: Vec<(&str, &str)> = storage
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.push(("AGORA_DATA_DIR", &data));
    env.push(("AGORA_GOPROXY", upstream));
    let out = run_agora(&t.sub("admin-home"), args, &env, ADMIN_TIMEOUT);
    eprintln!(
        "--- agora {} (exit {:?}):\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The program in `<t>/<name>`, with the go.sum the go command writes for it (resolved
/// from the reference proxy and checked against the test checksum database).
fn program(t: &TestDir, name: &str) -> PathBuf {
    let dir = t.sub(name);
    fs::create_dir_all(&dir).expect("set up the test files");
    fs::write(dir.join("go.mod"), GO_MOD).expect("set up the test files");
    fs::write(dir.join("main.go"), MAIN_GO).expect("set up the test files");
    let go = GoEnv::direct(t.path(), &format!("{name}-truth"));
    go.run_in(&["mod", "tidy"], &dir)
        .expect_success("go mod tidy at the reference proxy");
    let sum = fs::read_to_string(dir.join("go.sum")).expect("set up the test files");
    for (m, v) in GRAPH {
        assert!(
            sum.contains(&format!("{m} {v} h1:")),
            "go.sum lacks {m} {v}:\n{sum}"
        );
    }
    dir
}

/// A copy of the program (no go.sum changes) for a fresh client to build.
fn copy_program(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("set up the test files");
    for f in ["go.mod", "go.sum", "main.go"] {
        fs::copy(from.join(f), to.join(f)).expect("set up the test files");
    }
}

fn assert_stored(root: &Path, m: &str, v: &str, want: bool) {
    let present = athens_version_stored(root, m, v);
    assert_eq!(present, want, "{m}@{v} stored in {}", root.display());
}

/// Builds the program through `goproxy` in a fresh client.
fn build_through(t: &TestDir, prog: &Path, name: &str, goproxy: &str) {
    let dir = t.sub(&format!("{name}-src"));
    copy_program(prog, &dir);
    let go = GoEnv::new(t.path(), name, goproxy);
    go.run_in(&["build", "-mod=mod", "-o", "/dev/null", "."], &dir)
        .expect_success(&format!("go build through {goproxy}"));
}

/// Serves `root` offline (upstream off) as an air-gapped agora would.
fn offline(t: &TestDir, root: &Path, name: &str) -> Agora {
    let mut cfg = AgoraConfig::new(&t.sub(name), "off");
    cfg.storage_root = root.to_path_buf();
    cfg.network_mode = Some("offline".into());
    Agora::start(&cfg)
}

/// Offline agora answers list and `@latest` from what it holds.
fn assert_offline_answers(agora: &Agora) {
    let list = agora.get("/rsc.io/quote/@v/list");
    assert_eq!(list.status, 200, "{}", list.summary());
    assert_eq!(list.text(), "v1.5.2\n");
    let latest = agora.get("/rsc.io/quote/@latest");
    assert_eq!(latest.status, 200, "{}", latest.summary());
    assert!(
        latest.text().contains("\"Version\":\"v1.5.2\""),
        "{}",
        latest.summary()
    );
    // A module stored only at a pseudo-version: its list is empty, @latest names it.
    let latest = agora.get("/golang.org/x/text/@latest");
    assert_eq!(latest.status, 200, "{}", latest.summary());
    assert!(latest.text().contains(GRAPH[0].1), "{}", latest.summary());
}

#[test]
fn prefill_from_a_go_sum_checks_every_hash_and_serves_offline() {
    let t = TestDir::new("airgap-prefill");
    let prog = program(&t, "prog");
    let upstream = ref_proxy().goproxy_url();
    let root = t.sub("store");

    let out = admin(
        &t,
        &root,
        &upstream,
        &[
            "prefill",
            "-j",
            "3",
            &prog.join("go.sum").display().to_string(),
        ],
    );
    assert!(out.status.success(), "prefill failed:\n{}", stderr(&out));
    for (m, v) in GRAPH {
        assert_stored(&root, m, v, true);
    }
    let agora = offline(&t, &root, "serve");
    assert_offline_answers(&agora);
    build_through(&t, &prog, "offline", &agora.goproxy_url());

    // A go.sum whose zip hash for rsc.io/sampler and go.mod hash for rsc.io/quote were
    // tampered with: fetched into empty storage, both are refused, named and not stored;
    // the untouched version is stored.
    let sum = fs::read_to_string(prog.join("go.sum")).unwrap();
    let tampered: String = sum
        .lines()
        .map(|l| {
            if l.starts_with("rsc.io/sampler v1.3.0 h1:") {
                "rsc.io/sampler v1.3.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()
            } else if l.starts_with("rsc.io/quote v1.5.2/go.mod h1:") {
                "rsc.io/quote v1.5.2/go.mod h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
                    .to_owned()
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect();
    let bad = t.path().join("tampered.sum");
    fs::write(&bad, tampered).unwrap();
    let fresh = t.sub("store-fresh");
    let out = admin(
        &t,
        &fresh,
        &upstream,
        &["prefill", &bad.display().to_string()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED rsc.io/sampler@v1.3.0: checksum mismatch: zip is h1:")
            && err.contains("go.sum has h1:AAAA"),
        "{err}"
    );
    assert!(
        err.contains("FAILED rsc.io/quote@v1.5.2: checksum mismatch: go.mod is h1:LzX7"),
        "{err}"
    );
    assert_stored(&fresh, "rsc.io/sampler", "v1.3.0", false);
    assert_stored(&fresh, "rsc.io/quote", "v1.5.2", false);
    assert_stored(&fresh, GRAPH[0].0, GRAPH[0].1, true);
    // Against the store that already holds them, the stored copies are checked instead.
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", &bad.display().to_string()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED rsc.io/sampler@v1.3.0: checksum mismatch: the stored zip is"),
        "{err}"
    );
}

#[test]
fn prefill_walks_a_go_mod_and_resolves_latest() {
    let t = TestDir::new("airgap-deps");
    let upstream = ref_proxy().goproxy_url();
    let gomod = t.path().join("go.mod");
    fs::write(&gomod, GO_MOD).unwrap();
    let root = t.sub("store");
    // Without --deps only the requirement itself.
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", &gomod.display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_stored(&root, "rsc.io/quote", "v1.5.2", true);
    assert_stored(&root, "rsc.io/sampler", "v1.3.0", false);
    // With --deps the graph below it, through the stored go.mod files (rsc.io/testonly
    // is in no go.mod of that graph: go mod tidy adds it for a dependency's tests).
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", "--deps", &gomod.display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for (m, v) in &GRAPH[..3] {
        assert_stored(&root, m, v, true);
    }
    // The walk is bounded: past --max-versions it stops, says so and fails.
    let capped = t.sub("store-capped");
    let out = admin(
        &t,
        &capped,
        &upstream,
        &[
            "prefill",
            "--deps",
            "--max-versions",
            "2",
            &gomod.display().to_string(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("stopped at --max-versions 2"), "{err}");
    assert_stored(&capped, "rsc.io/quote", "v1.5.2", true);
    assert_stored(&capped, "rsc.io/sampler", "v1.3.0", true);
    assert_stored(&capped, GRAPH[0].0, GRAPH[0].1, false);
    // A list with @latest and an unknown module: the one failure is named.
    let list = t.path().join("wanted.txt");
    fs::write(
        &list,
        "# wanted\nrsc.io/quote@latest\nexample.com/nonexistent@v1.0.0\n",
    )
    .unwrap();
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", &list.display().to_string()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED example.com/nonexistent@v1.0.0"),
        "{err}"
    );
    let latest = String::from_utf8(ref_proxy().fetch("rsc.io/quote/@latest")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&latest).unwrap();
    assert_stored(&root, "rsc.io/quote", v["Version"].as_str().unwrap(), true);
}

#[test]
fn export_builds_as_a_file_proxy_and_import_serves_offline() {
    let t = TestDir::new("airgap-export");
    let prog = program(&t, "prog");
    let upstream = ref_proxy().goproxy_url();
    let root = t.sub("store");
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", &prog.join("go.sum").display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let tree = t.sub("tree");
    let out = admin(&t, &root, "off", &["export", &tree.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A list for every module, the pseudo-version-only one included, with times.
    let text_list = fs::read_to_string(tree.join("golang.org/x/text/@v/list")).unwrap();
    assert_eq!(text_list, format!("{} 2017-09-15T03:28:32Z\n", GRAPH[0].1));
    assert!(tree.join("rsc.io/quote/@v/v1.5.2.zip").is_file());
    let tree_url = format!("file://{}", tree.display());
    build_through(&t, &prog, "fileproxy", &tree_url);
    // The go command finds the pseudo-version-only module's latest in the list.
    let go = GoEnv::new(t.path(), "filelatest", &tree_url);
    let run = go.run(&["mod", "download", "-json", "golang.org/x/text@latest"]);
    run.expect_success("go mod download golang.org/x/text@latest from the file tree");
    assert!(run.stdout.contains(GRAPH[0].1), "{}", run.stdout);

    // A second export writes nothing new.
    let out = admin(&t, &root, "off", &["export", &tree.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 versions in"), "{}", stderr(&out));
    assert!(stderr(&out).contains("(0 B written)"), "{}", stderr(&out));
    // Selected by pattern, as one tar file.
    let tarball = t.path().join("rsc.tar");
    let out = admin(
        &t,
        &root,
        "off",
        &["export", "--tar", &tarball.display().to_string(), "rsc.io"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = String::from_utf8(
        run_with_timeout(
            std::process::Command::new("tar").arg("tf").arg(&tarball),
            Duration::from_secs(30),
        )
        .stdout,
    )
    .unwrap();
    let mut names: Vec<&str> = listing.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "rsc.io/quote/@v/list",
            "rsc.io/quote/@v/v1.5.2.info",
            "rsc.io/quote/@v/v1.5.2.mod",
            "rsc.io/quote/@v/v1.5.2.zip",
            "rsc.io/sampler/@v/list",
            "rsc.io/sampler/@v/v1.3.0.info",
            "rsc.io/sampler/@v/v1.3.0.mod",
            "rsc.io/sampler/@v/v1.3.0.zip",
            "rsc.io/testonly/@v/list",
            "rsc.io/testonly/@v/v1.0.0.info",
            "rsc.io/testonly/@v/v1.0.0.mod",
            "rsc.io/testonly/@v/v1.0.0.zip",
        ]
    );

    // Carried across: imported into fresh storage and served with no upstream.
    let fresh = t.sub("store-offline");
    let out = admin(
        &t,
        &fresh,
        "off",
        &[
            "import",
            &tree.display().to_string(),
            "--go-sum",
            &prog.join("go.sum").display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4 versions stored"),
        "{}",
        stderr(&out)
    );
    let agora = offline(&t, &fresh, "serve");
    assert_offline_answers(&agora);
    build_through(&t, &prog, "imported", &agora.goproxy_url());
}

#[test]
fn import_from_a_module_cache_refuses_damaged_versions() {
    let t = TestDir::new("airgap-import");
    let prog = program(&t, "prog");
    let go = GoEnv::direct(t.path(), "dev");
    go.run_in(&["mod", "download"], &prog)
        .expect_success("go mod download");
    let cache = go.gomodcache.clone();
    assert!(
        cache
            .join("cache/download/rsc.io/quote/@v/v1.5.2.ziphash")
            .is_file()
    );

    // A copy with one zip damaged (a byte of its data flipped) and one whose .ziphash
    // disagrees with its zip.
    let damaged = t.sub("damaged-cache");
    copy_tree(&cache.join("cache/download"), &damaged);
    let zip = damaged.join("rsc.io/sampler/@v/v1.3.0.zip");
    let mut bytes = fs::read(&zip).unwrap();
    bytes[200] ^= 0xff;
    fs::write(&zip, bytes).unwrap();
    fs::write(
        damaged.join("rsc.io/quote/@v/v1.5.2.ziphash"),
        "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=\n",
    )
    .unwrap();
    // What an interrupted go command leaves behind is not a version.
    fs::write(damaged.join("rsc.io/quote/@v/v1.9.9.partial"), "half a zip")
        .expect("write a .partial file");
    fs::write(damaged.join("rsc.io/quote/@v/v1.9.9.lock"), "").expect("write a .lock file");
    let root = t.sub("store-damaged");
    let out = admin(
        &t,
        &root,
        "off",
        &["import", &damaged.display().to_string()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED rsc.io/sampler@v1.3.0: refused: zip:"),
        "{err}"
    );
    assert!(
        err.contains("FAILED rsc.io/quote@v1.5.2: refused: zip hashes to h1:3fEy")
            && err.contains("recorded h1:CCCC"),
        "{err}"
    );
    assert_stored(&root, "rsc.io/sampler", "v1.3.0", false);
    assert_stored(&root, "rsc.io/quote", "v1.5.2", false);
    assert_stored(&root, GRAPH[0].0, GRAPH[0].1, true);

    // The cache as the go command left it, given by its root: all stored, checked against
    // the program's go.sum, and enough to build offline.
    let root = t.sub("store");
    let out = admin(
        &t,
        &root,
        "off",
        &[
            "import",
            &cache.display().to_string(),
            "--go-sum",
            &prog.join("go.sum").display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for (m, v) in GRAPH {
        assert_stored(&root, m, v, true);
    }
    // Importing again stores nothing twice.
    let out = admin(&t, &root, "off", &["import", &cache.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 versions stored"),
        "{}",
        stderr(&out)
    );
    let agora = offline(&t, &root, "serve");
    build_through(&t, &prog, "fromcache", &agora.goproxy_url());
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("set up the test files");
    for e in fs::read_dir(from).expect("set up the test files") {
        let e = e.expect("set up the test files");
        let target = to.join(e.file_name());
        if e.file_type().expect("set up the test files").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).expect("set up the test files");
        }
    }
}

#[test]
fn verify_names_a_damaged_version_and_delete_removes_one() {
    let t = TestDir::new("airgap-verify");
    let upstream = ref_proxy().goproxy_url();
    let root = t.sub("store");
    let list = t.path().join("wanted.txt");
    fs::write(
        &list,
        "rsc.io/quote@v1.5.1\nrsc.io/quote@v1.5.2\nrsc.io/sampler@v1.3.0\n",
    )
    .unwrap();
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", &list.display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(&t, &root, "off", &["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 versions intact, 0 damaged"),
        "{}",
        stderr(&out)
    );

    let zip = athens_version_dir(&root, "rsc.io/sampler", "v1.3.0").join("source.zip");
    let mut bytes = fs::read(&zip).unwrap();
    bytes[200] ^= 0xff;
    fs::write(&zip, bytes).unwrap();
    let out = admin(&t, &root, "off", &["verify", "-j", "2"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("2 versions intact, 1 damaged"), "{err}");
    assert!(
        err.contains("FAILED rsc.io/sampler@v1.3.0: damaged: zip:"),
        "{err}"
    );
    // A pattern leaves the damaged module out.
    let out = admin(&t, &root, "off", &["verify", "rsc.io/quote"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 versions intact, 0 damaged"),
        "{}",
        stderr(&out)
    );

    let out = admin(&t, &root, "off", &["delete", "rsc.io/quote@v1.5.1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("deleted") && stderr(&out).contains("rsc.io/quote@v1.5.1"),
        "{}",
        stderr(&out)
    );
    let agora = offline(&t, &root, "serve");
    let list = agora.get("/rsc.io/quote/@v/list");
    assert_eq!(list.text(), "v1.5.2\n", "{}", list.summary());
    let catalog = agora.get("/catalog");
    assert!(!catalog.text().contains("v1.5.1"), "{}", catalog.summary());
    assert_eq!(agora.get("/rsc.io/quote/@v/v1.5.1.info").status, 404);
    // Deleting what is not there fails, naming it.
    let out = admin(&t, &root, "off", &["delete", "rsc.io/quote@v1.5.1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not stored"), "{}", stderr(&out));
}

/// A bare carriage return (one not starting a CRLF) anywhere in `text`.
fn has_bare_cr(text: &[u8]) -> bool {
    text.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') || text.last() == Some(&b'\r')
}

#[test]
fn progress_is_a_bar_on_a_terminal_and_plain_lines_on_a_pipe() {
    let t = TestDir::new("airgap-progress");
    let upstream = ref_proxy().goproxy_url();
    let root = t.sub("store");
    let list = t.path().join("wanted.txt");
    fs::write(
        &list,
        "rsc.io/quote@v1.5.2\nrsc.io/sampler@v1.3.0\nexample.com/nonexistent@v1.0.0\n",
    )
    .unwrap();

    // On a pipe (the test captures stderr): plain lines only, log lines included.
    let out = admin(
        &t,
        &root,
        &upstream,
        &["prefill", &list.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stderr.contains(&0x1b),
        "escape sequence on a pipe:\n{}",
        stderr(&out)
    );
    assert!(
        !has_bare_cr(&out.stderr),
        "bare CR on a pipe:\n{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("prefill: 0/3 done"), "{err}");
    assert!(
        err.contains("prefill: 3/3 done, 0 running, 1 failed"),
        "{err}"
    );
    assert!(err.contains("INFO"), "log lines are shown too:\n{err}");

    // On a terminal: a bar, redrawn in place.
    let fresh = t.sub("store-tty");
    let python = "python3";
    let tty = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/on_a_tty.py");
    let (fresh_s, data_s) = (
        fresh.display().to_string(),
        t.sub("tty-data").display().to_string(),
    );
    let cmd = agora_command(
        &t.sub("admin-home"),
        &[],
        &[
            ("ATHENS_STORAGE_TYPE", "disk"),
            ("ATHENS_DISK_STORAGE_ROOT", &fresh_s),
            ("AGORA_DATA_DIR", &data_s),
            ("AGORA_GOPROXY", &upstream),
            // indicatif draws nothing on a terminal of unknown type.
            ("TERM", "xterm"),
        ],
    );
    let agora = cmd.get_program().to_owned();
    let mut cmd2 = std::process::Command::new(python);
    cmd2.arg(&tty)
        .arg(agora)
        .args(["prefill", &list.display().to_string()]);
    cmd2.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            cmd2.env(k, v);
        }
    }
    let out = run_with_timeout(&mut cmd2, ADMIN_TIMEOUT);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{screen}");
    assert!(
        screen.contains('\x1b'),
        "no escape sequences on a terminal:\n{screen}"
    );
    assert!(
        has_bare_cr(&out.stdout),
        "the bar is not redrawn in place:\n{screen}"
    );
    assert!(screen.contains("prefill [00:00:0"), "{screen}");
    assert!(screen.contains("3/3 running 0, failed 1"), "{screen}");
    assert!(
        screen.contains("FAILED example.com/nonexistent@v1.0.0"),
        "{screen}"
    );
}

/// The commands go through the storage trait, so they work on a bucket as on a disk: a
/// moto S3 bucket in Athens' layout is prefilled, verified, exported, has a version
/// deleted and imported back, and serves a build offline.
#[test]
fn the_commands_work_on_an_s3_bucket() {
    let t = TestDir::new("airgap-s3");
    let prog = program(&t, "prog");
    let moto = shared_moto();
    let bucket = moto.create_bucket("e2e-airgap");
    let env = BucketLayout::S3.agora_env(moto.addr(), &bucket);
    let sum = prog.join("go.sum").display().to_string();
    let out = admin_on(&t, &env, &ref_proxy().goproxy_url(), &["prefill", &sum]);
    assert!(out.status.success(), "{}", stderr(&out));
    let keys = moto.keys(&bucket);
    for (m, v) in GRAPH {
        let key = BucketLayout::S3.key(m, v, "zip");
        assert!(keys.contains(&key), "{key} not in {keys:?}");
    }
    let out = admin_on(&t, &env, "off", &["verify", "--go-sum", &sum]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4 versions intact, 0 damaged"),
        "{}",
        stderr(&out)
    );

    let tree = t.sub("tree");
    let out = admin_on(&t, &env, "off", &["export", &tree.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    build_through(&t, &prog, "s3tree", &format!("file://{}", tree.display()));

    let out = admin_on(&t, &env, "off", &["delete", "rsc.io/sampler@v1.3.0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let keys = moto.keys(&bucket);
    assert!(
        !keys
            .iter()
            .any(|k| k.starts_with("rsc.io/sampler/@v/v1.3.0.")),
        "{keys:?}"
    );
    let out = admin_on(
        &t,
        &env,
        "off",
        &["import", &tree.display().to_string(), "--go-sum", &sum],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 versions stored") && stderr(&out).contains("3 already stored"),
        "{}",
        stderr(&out)
    );

    let mut cfg = BucketLayout::S3.agora_config(&t.sub("serve"), "off", moto.addr(), &bucket);
    cfg.network_mode = Some("offline".into());
    let agora = Agora::start(&cfg);
    assert_offline_answers(&agora);
    build_through(&t, &prog, "s3offline", &agora.goproxy_url());
}

/// Rewrites the module zip at `path` with one file's content changed: a zip the module zip
/// rules accept, whose `h1:` differs from the logged one.
fn swap_zip_content(path: &Path) {
    let script = "import sys, zipfile\n\
                  src = sys.argv[1]\n\
                  entries = [(i, zipfile.ZipFile(src).read(i.filename)) for i in zipfile.ZipFile(src).infolist()]\n\
                  with zipfile.ZipFile(src, 'w', zipfile.ZIP_DEFLATED) as z:\n\
                  \x20   for i, data in entries:\n\
                  \x20       if i.filename.endswith('.go'):\n\
                  \x20           data += b'\\n// changed\\n'\n\
                  \x20       z.writestr(i.filename, data)\n";
    let out = run_with_timeout(
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(path),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "rewriting {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--sumdb` (the test checksum database of the reference proxy): a version whose zip
/// passes the zip rules but is not the one the database logged is refused by `import` and
/// named by `verify`; the others are proved against the signed log and stored.
#[test]
fn import_and_verify_check_the_checksum_database() {
    let t = TestDir::new("airgap-sumdb");
    let prog = program(&t, "prog");
    let root = t.sub("store");
    let out = admin(
        &t,
        &root,
        &ref_proxy().goproxy_url(),
        &["prefill", &prog.join("go.sum").display().to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let tree = t.sub("tree");
    let out = admin(&t, &root, "off", &["export", &tree.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sumdb = format!("{SUMDB_KEY} {}", ref_proxy().sumdb_url());

    swap_zip_content(&tree.join("rsc.io/sampler/@v/v1.3.0.zip"));
    let fresh = t.sub("store-fresh");
    let out = admin(
        &t,
        &fresh,
        "off",
        &["import", &tree.display().to_string(), "--sumdb", &sumdb],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED rsc.io/sampler@v1.3.0: refused: checksum mismatch: zip is h1:")
            && err.contains(
                "but the checksum database has h1:HLGR/BgEtI3r0uymSP/nl2uPLsUnNJX8toRyhfpBTII="
            ),
        "{err}"
    );
    assert!(err.contains("3 versions stored"), "{err}");
    assert_stored(&fresh, "rsc.io/sampler", "v1.3.0", false);
    assert_stored(&fresh, "rsc.io/quote", "v1.5.2", true);

    let out = admin(&t, &root, "off", &["verify", "--sumdb", &sumdb]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4 versions intact"),
        "{}",
        stderr(&out)
    );
    fs::copy(
        tree.join("rsc.io/sampler/@v/v1.3.0.zip"),
        athens_version_dir(&root, "rsc.io/sampler", "v1.3.0").join("source.zip"),
    )
    .expect("replace the stored zip");
    // The zip rules alone find nothing wrong with it; the checksum database does.
    let out = admin(&t, &root, "off", &["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(&t, &root, "off", &["verify", "--sumdb", &sumdb]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED rsc.io/sampler@v1.3.0: damaged: checksum mismatch: zip is"),
        "{err}"
    );
    // GONOSUMDB keeps a module from being looked up at all.
    let storage = [
        ("ATHENS_STORAGE_TYPE".to_owned(), "disk".to_owned()),
        (
            "ATHENS_DISK_STORAGE_ROOT".to_owned(),
            root.display().to_string(),
        ),
        ("AGORA_GONOSUMDB".to_owned(), "rsc.io/sampler".to_owned()),
    ];
    let out = admin_on(&t, &storage, "off", &["verify", "--sumdb", &sumdb]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `prefill --sumdb`: rsc.io/badfile1@v1.0.0 is a well-formed module whose zip is not the
/// one the reference proxy's checksum database logged (the go command refuses it with a
/// SECURITY ERROR). With the database it is refused before it is stored; a good version is
/// proved and stored; without the database only the zip rules apply and it is stored.
#[test]
fn prefill_checks_the_checksum_database_before_storing() {
    let t = TestDir::new("airgap-prefill-sumdb");
    let upstream = ref_proxy().goproxy_url();
    let list = t.path().join("wanted.txt");
    fs::write(&list, "rsc.io/badfile1@v1.0.0\nrsc.io/quote@v1.5.2\n").expect("write the list");
    let list = list.display().to_string();
    let sumdb = format!("{SUMDB_KEY} {}", ref_proxy().sumdb_url());
    let root = t.sub("store");
    let out = admin(&t, &root, &upstream, &["prefill", "--sumdb", &sumdb, &list]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAILED rsc.io/badfile1@v1.0.0: checksum mismatch: zip is h1:"),
        "{err}"
    );
    assert_stored(&root, "rsc.io/badfile1", "v1.0.0", false);
    assert_stored(&root, "rsc.io/quote", "v1.5.2", true);

    let plain = t.sub("store-plain");
    let out = admin(&t, &plain, &upstream, &["prefill", &list]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_stored(&plain, "rsc.io/badfile1", "v1.0.0", true);
    // Now stored, it is checked in storage: verify names it, and so does prefill.
    let out = admin(&t, &plain, "off", &["verify", "--sumdb", &sumdb]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("FAILED rsc.io/badfile1@v1.0.0: damaged: checksum mismatch"),
        "{}",
        stderr(&out)
    );
    let out = admin(
        &t,
        &plain,
        &upstream,
        &["prefill", "--sumdb", &sumdb, &list],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("FAILED rsc.io/badfile1@v1.0.0: checksum mismatch: the stored zip is"),
        "{}",
        stderr(&out)
    );
}
