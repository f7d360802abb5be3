//! The mirror cache: one shared `GitRepo` per URL, incremental refresh, and
//! pull-request refs never fetched. Local-path remotes; no go needed.

// Test code: a failed step should fail the test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use agora_testkit::GitWork;
use agora_testkit::vcs_forge::{self, repos_dir, unique};
use agora_vcs::{DirectModule, ErrorKind, Mirrors};

fn module(mirrors: &Mirrors, name: &str) -> DirectModule {
    let url = repos_dir().join(format!("{name}.git"));
    let repo = mirrors.repo(url.to_str().unwrap()).unwrap();
    let path = format!("example.test/{name}");
    DirectModule::new(&path, repo, &path, "").unwrap()
}

#[test]
fn shared_repo_and_incremental_refresh() {
    let name = unique("mirror");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module example.test/{name}\n"));
    w.commit("one");
    w.tag("v1.0.0");
    vcs_forge::publish(&w, &name);
    let cache = tempfile::tempdir().unwrap();

    let shared = Mirrors::new(cache.path(), Duration::from_secs(3600));
    let a = module(&shared, &name);
    let b = module(&shared, &name);
    assert!(Arc::ptr_eq(a.repo(), b.repo()));
    let threads: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|m| std::thread::spawn(move || m.list().unwrap().list))
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), ["v1.0.0"]);
    }

    // A new tag upstream: the old view stays as it was (one request sees one
    // state); a fresh GitRepo on the same mirror sees it.
    w.write("a.go", "package a\n");
    w.commit("two");
    w.tag("v1.1.0");
    vcs_forge::publish(&w, &name);
    assert_eq!(a.list().unwrap().list, ["v1.0.0"]);
    let fresh = Mirrors::new(cache.path(), Duration::ZERO);
    let c = module(&fresh, &name);
    assert_eq!(c.list().unwrap().list, ["v1.0.0", "v1.1.0"]);
    assert_eq!(c.stat("v1.1.0").unwrap().version, "v1.1.0");
    // Same mirror directory, one per URL.
    assert_eq!(
        std::fs::read_dir(cache.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "git")
            })
            .count(),
        1
    );
}

#[test]
fn pull_request_refs_are_not_fetched() {
    let name = unique("pulls");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module example.test/{name}\n"));
    w.commit("one");
    w.tag("v1.0.0");
    w.git(&["checkout", "-q", "-b", "pr"]);
    w.write("evil.go", "package evil\n");
    let pr = w.commit("pull request");
    w.git(&["checkout", "-q", "main"]);
    vcs_forge::publish(&w, &name);
    // Make the PR commit reachable only from refs/pull/1/head upstream.
    let bare = repos_dir().join(format!("{name}.git"));
    vcs_forge::git(&bare, &["update-ref", "refs/pull/1/head", &pr]);
    vcs_forge::git(&bare, &["branch", "-D", "pr"]);
    let cache = tempfile::tempdir().unwrap();
    let m = module(&Mirrors::new(cache.path(), Duration::ZERO), &name);
    assert_eq!(m.list().unwrap().list, ["v1.0.0"]);
    let err = m.stat(&pr[..12]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn commits_of_deleted_branches_stop_resolving() {
    let name = unique("deleted");
    let w = GitWork::temp();
    w.write("go.mod", &format!("module example.test/{name}\n"));
    w.commit("one");
    w.git(&["checkout", "-q", "-b", "topic"]);
    w.write("t.go", "package t\n");
    let topic = w.commit("topic");
    w.git(&["checkout", "-q", "main"]);
    vcs_forge::publish(&w, &name);
    let cache = tempfile::tempdir().unwrap();
    let mirrors = Mirrors::new(cache.path(), Duration::ZERO);
    assert!(module(&mirrors, &name).stat(&topic).is_ok());
    // The branch goes away upstream; the mirror keeps the objects.
    vcs_forge::git(
        &repos_dir().join(format!("{name}.git")),
        &["branch", "-D", "topic"],
    );
    let err = module(&mirrors, &name).stat(&topic).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn hanging_remote_times_out() {
    // A server that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let mirrors =
        Mirrors::new(cache.path(), Duration::ZERO).with_timeout(Duration::from_millis(1500));
    let repo = mirrors
        .repo(&format!("http://127.0.0.1:{port}/hang.git"))
        .unwrap();
    let start = std::time::Instant::now();
    let err = repo.refs().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn missing_repository_is_not_found() {
    let cache = tempfile::tempdir().unwrap();
    let mirrors = Mirrors::new(cache.path(), Duration::ZERO);
    let url = repos_dir().join("no-such-repo.git");
    let repo = mirrors.repo(url.to_str().unwrap()).unwrap();
    let err = repo.refs().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn gopkg_in_paths() {
    // Not comparable with the go command offline (it would ask gopkg.in);
    // checks coderepo.go's gopkg.in rules: `.vN` major, no vN/ subdirectory,
    // synthesized go.mod allowed at any major.
    let name = unique("gopkgin");
    let w = GitWork::temp();
    w.write("yaml.go", "package yaml\n");
    w.commit("one");
    w.tag("v1.0.0").tag("v2.0.0");
    w.write("yaml.go", "package yaml // 2\n");
    let head = w.commit("two");
    w.tag("v2.1.0");
    w.write("yaml.go", "package yaml // 3\n");
    let head3 = w.commit("three");
    vcs_forge::publish(&w, &name);
    let cache = tempfile::tempdir().unwrap();
    let url = repos_dir().join(format!("{name}.git"));
    let repo = Mirrors::new(cache.path(), Duration::ZERO)
        .repo(url.to_str().unwrap())
        .unwrap();
    let path = "gopkg.in/yaml.v2";
    let m = DirectModule::new(path, repo, path, "").unwrap();
    assert_eq!(m.list().unwrap().list, ["v2.0.0", "v2.1.0"]);
    assert_eq!(m.stat(&head[..12]).unwrap().version, "v2.1.0");
    let pv = m.stat("main").unwrap().version;
    assert!(
        pv.starts_with("v2.1.1-0.") && pv.ends_with(&head3[..12]),
        "{pv}"
    );
    assert_eq!(m.go_mod("v2.1.0").unwrap(), b"module gopkg.in/yaml.v2\n");
    let mut out = Vec::new();
    let z = m.zip("v2.1.0", &mut out).unwrap();
    assert_eq!(z.files, ["yaml.go"]);
}
