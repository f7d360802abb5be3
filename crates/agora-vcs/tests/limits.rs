//! Local git commands under limits (issue 9 item 4): `git archive` is cut off at a byte
//! limit while it writes, and killed when the repository's timeout passes. Local-path
//! remotes; no go needed.

// Test code: a failed step should fail the test.
#![allow(clippy::unwrap_used)]

use std::io::{Seek, SeekFrom};
use std::time::{Duration, Instant};

use agora_testkit::GitWork;
use agora_testkit::vcs_forge::{self, repos_dir, unique};
use agora_vcs::{Archive, ErrorKind, GitRepo};

/// 2 MiB that deflate cannot shrink, named eight times: a 16 MiB archive however it
/// is compressed, from a repository holding the blob once.
fn bomb(name: &str) -> String {
    let w = GitWork::temp();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    w.write(".gitattributes", "*.go text\n")
        .write_bytes("noise/0.bin", &noise);
    w.git(&["add", "-A"]);
    let blob = w.git(&["rev-parse", ":noise/0.bin"]).trim().to_owned();
    for i in 1..8 {
        let entry = format!("100644,{blob},noise/{i}.bin");
        w.git(&["update-index", "--add", "--cacheinfo", &entry]);
    }
    w.git(&["commit", "-q", "-m", "bomb"]);
    vcs_forge::publish(&w, name);
    w.git(&["rev-parse", "HEAD"]).trim().to_owned()
}

#[test]
fn archive_stops_at_the_limit() {
    let name = unique("bomb");
    let commit = bomb(&name);
    let cache = tempfile::tempdir().unwrap();
    let url = repos_dir().join(format!("{name}.git"));
    let repo = GitRepo::open(cache.path(), url.to_str().unwrap()).unwrap();
    repo.refs().unwrap();

    let limit = 4 << 20;
    for stored in [true, false] {
        let mut file = tempfile::tempfile().unwrap();
        let got = repo.archive(&commit, "", stored, &file, limit).unwrap();
        assert_eq!(got, Archive::TooLarge, "stored: {stored}");
        let written = file.seek(SeekFrom::End(0)).unwrap();
        assert!(
            written <= limit + 1,
            "stored: {stored}: {written} bytes written past a {limit}-byte limit"
        );
    }
    let file = tempfile::tempfile().unwrap();
    assert_eq!(
        repo.archive(&commit, "", true, &file, 64 << 20).unwrap(),
        Archive::Written
    );
    assert!(file.metadata().unwrap().len() > 16 << 20);
    assert_eq!(
        repo.archive(&commit, "nothing-here", true, &file, 64 << 20)
            .unwrap(),
        Archive::NoFiles
    );
}

#[test]
fn local_git_commands_have_a_time_limit() {
    let name = unique("slow");
    let commit = bomb(&name);
    let cache = tempfile::tempdir().unwrap();
    let url = repos_dir().join(format!("{name}.git"));
    GitRepo::open(cache.path(), url.to_str().unwrap())
        .unwrap()
        .refs()
        .unwrap();
    // The same mirror under a limit no archive of 16 MiB meets.
    let repo = GitRepo::open(cache.path(), url.to_str().unwrap())
        .unwrap()
        .with_timeout(Duration::from_millis(1));
    let file = tempfile::tempfile().unwrap();
    let start = Instant::now();
    let err = repo
        .archive(&commit, "", false, &file, 1 << 30)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}
