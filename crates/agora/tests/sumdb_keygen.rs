//! `agora sumdb keygen NAME` prints a signer key line, then the matching
//! verifier key line, in the go command's note key formats.

use std::process::Command;

use agora_sumdb::note::{Signer, Verifier};

#[test]
fn keygen_prints_a_matching_key_pair() {
    let out = Command::new(env!("CARGO_BIN_EXE_agora"))
        .args(["sumdb", "keygen", "sum.example.com"])
        .output()
        .expect("agora runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("PRIVATE+KEY+sum.example.com+"));
    let signer = Signer::parse(lines[0]).expect("signer key line");
    let verifier = Verifier::parse(lines[1]).expect("verifier key line");
    assert_eq!(signer.verifier(), verifier);
    assert_eq!(verifier.to_key_string(), lines[1]);
}

#[test]
fn keygen_refuses_a_bad_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_agora"))
        .args(["sumdb", "keygen", "two words"])
        .output()
        .expect("agora runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid key name"), "{err}");
}
