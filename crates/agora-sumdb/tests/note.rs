//! The cases of `golang.org/x/mod/sumdb/note`'s tests, with its fixed keys
//! and signatures, plus round trips through generated keys.

use agora_sumdb::note::{
    self, KeyError, Note, NoteError, Signature, Signer, Verifier, VerifierList, Verifiers,
};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_B64: &str =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
const ENOCH_B64: &str =
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=";

fn peter_sig_line() -> String {
    format!("— PeterNeumann {PETER_B64}\n")
}
fn enoch_sig_line() -> String {
    format!("— EnochRoot {ENOCH_B64}\n")
}
fn peter() -> Signature {
    Signature {
        name: "PeterNeumann".into(),
        hash: 0xc74f20a3,
        base64: PETER_B64.into(),
    }
}
fn enoch() -> Signature {
    Signature {
        name: "EnochRoot".into(),
        hash: 0xaf0cfe78,
        base64: ENOCH_B64.into(),
    }
}
fn verifier(k: &str) -> Verifier {
    Verifier::parse(k).expect("fixed test key parses")
}

/// Every proper substring and every single-byte increment of a key string.
fn manglings(key: &str) -> Vec<Vec<u8>> {
    let b = key.as_bytes();
    let mut out = Vec::new();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i != 0 || j != b.len() {
                out.push(b[i..j].to_vec());
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        out.push(m);
    }
    out
}

#[test]
fn verifier_key_parses_and_manglings_fail() {
    let v = verifier(PETER_VKEY);
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_hash(), 0xc74f20a3);
    assert_eq!(v.to_key_string(), PETER_VKEY);
    for m in manglings(PETER_VKEY) {
        let Ok(s) = String::from_utf8(m) else {
            continue;
        };
        assert!(Verifier::parse(&s).is_err(), "mangled key {s:?} accepted");
    }
    // Wrong length key, with adjusted key hash.
    assert_eq!(
        Verifier::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        Err(KeyError::Malformed)
    );
    // Unknown algorithm, with adjusted key hash.
    assert_eq!(
        Verifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(KeyError::UnknownAlgorithm)
    );
}

#[test]
fn signer_key_parses_and_manglings_fail() {
    let s = Signer::parse(PETER_SKEY).expect("fixed signer parses");
    assert_eq!(s.name(), "PeterNeumann");
    assert_eq!(s.key_hash(), 0xc74f20a3);
    assert_eq!(s.verifier().to_key_string(), PETER_VKEY);
    for m in manglings(PETER_SKEY) {
        let Ok(k) = String::from_utf8(m) else {
            continue;
        };
        assert!(Signer::parse(&k).is_err(), "mangled signer {k:?} accepted");
    }
}

fn check_signer_and_verifier(name: &str, signer: &Signer, verifier: &Verifier) {
    assert_eq!(signer.name(), name);
    assert_eq!(verifier.name(), name);
    assert_eq!(signer.key_hash(), verifier.key_hash());
    let mut msg = b"hi".to_vec();
    let mut sig = signer.sign(&msg);
    assert!(verifier.verify(&msg, &sig));
    sig[0] = sig[0].wrapping_add(1);
    assert!(!verifier.verify(&msg, &sig), "corrupt signature verified");
    sig[0] = sig[0].wrapping_sub(1);
    msg[0] += 1;
    assert!(!verifier.verify(&msg, &sig), "corrupt message verified");
}

#[test]
fn generated_keys_are_consistent() {
    let (skey, vkey) = note::generate_key("EnochRoot").expect("generate");
    assert!(skey.starts_with("PRIVATE+KEY+EnochRoot+"));
    let signer = Signer::parse(&skey).expect("signer");
    let verifier = Verifier::parse(&vkey).expect("verifier");
    check_signer_and_verifier("EnochRoot", &signer, &verifier);
    assert_eq!(signer.verifier(), verifier);
    let (skey2, _) = note::generate_key("EnochRoot").expect("generate");
    assert_ne!(skey, skey2, "two generated keys are equal");
    for bad in ["bad name", "a+b", ""] {
        assert_eq!(
            note::generate_key(bad),
            Err(KeyError::InvalidName(bad.into()))
        );
    }
}

#[test]
fn verifier_key_from_raw_ed25519() {
    let (skey, vkey) = note::keys_from_seed("EnochRoot", &[7u8; 32]).expect("keys");
    let signer = Signer::parse(&skey).expect("signer");
    let v = verifier(&vkey);
    let raw = v.to_key_string();
    assert_eq!(raw, vkey);
    // The public key is the last 32 bytes of the key's base64 payload.
    let payload = &vkey[vkey.rfind('+').expect("plus") + 1..];
    use base64::Engine;
    let pubkey = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .expect("b64");
    let again = note::ed25519_verifier_key("EnochRoot", &pubkey[1..]).expect("vkey");
    assert_eq!(again, vkey);
    check_signer_and_verifier("EnochRoot", &signer, &verifier(&again));
    assert!(note::ed25519_verifier_key("EnochRoot", &pubkey[1..32]).is_err());
}

#[test]
fn sign_matches_go_bytes() {
    let signer = Signer::parse(PETER_SKEY).expect("signer");
    let want = format!("{TEXT}\n{}", peter_sig_line());
    let n = Note {
        text: TEXT.into(),
        ..Note::default()
    };
    assert_eq!(
        String::from_utf8(note::sign(&n, &[&signer]).expect("sign")).expect("utf8"),
        want
    );

    // An existing signature by the same key is replaced.
    let n = Note {
        text: TEXT.into(),
        sigs: vec![Signature {
            name: "PeterNeumann".into(),
            hash: 0xc74f20a3,
            base64: "BADSIGN=".into(),
        }],
        ..Note::default()
    };
    assert_eq!(
        String::from_utf8(note::sign(&n, &[&signer]).expect("sign")).expect("utf8"),
        want
    );

    let short = Note {
        text: "abc".into(),
        ..Note::default()
    };
    assert_eq!(note::sign(&short, &[&signer]), Err(NoteError::Malformed));
    let bad_name = Note {
        text: TEXT.into(),
        sigs: vec![Signature {
            name: "a+b".into(),
            hash: 0,
            base64: "ABCD".into(),
        }],
        ..Note::default()
    };
    assert_eq!(note::sign(&bad_name, &[]), Err(NoteError::Malformed));
    let bad_hash = Note {
        text: TEXT.into(),
        sigs: vec![Signature {
            name: "PeterNeumann".into(),
            hash: 0xc74f20a3,
            base64: "BADHASH=".into(),
        }],
        ..Note::default()
    };
    assert_eq!(note::sign(&bad_hash, &[]), Err(NoteError::Malformed));
    assert_eq!(
        note::sign(&bad_hash, &[]).expect_err("bad").to_string(),
        "malformed note"
    );
}

#[test]
fn verifier_list_lookup_errors() {
    let p = verifier(PETER_VKEY);
    let e = verifier(ENOCH_VKEY);
    let list = VerifierList::new([p.clone(), e.clone(), e]);
    assert_eq!(list.verifier("PeterNeumann", 0xc74f20a3), Ok(&p));
    let err = |name: &str, hash: u32| {
        list.verifier(name, hash)
            .expect_err("lookup should fail")
            .to_string()
    };
    assert_eq!(
        err("PeterNeumann", 0xc74f20a4),
        "unknown key PeterNeumann+c74f20a4"
    );
    assert_eq!(
        err("PeterNeuman", 0xc74f20a3),
        "unknown key PeterNeuman+c74f20a3"
    );
    assert_eq!(
        err("EnochRoot", 0xaf0cfe78),
        "ambiguous key EnochRoot+af0cfe78"
    );
}

#[test]
fn open_verifies_known_and_keeps_unknown() {
    let p = verifier(PETER_VKEY);
    let e = verifier(ENOCH_VKEY);
    let msg = format!("{TEXT}\n{}{}", peter_sig_line(), enoch_sig_line());

    let n = note::open(msg.as_bytes(), &VerifierList::new([p.clone()])).expect("open");
    assert_eq!(n.text, TEXT);
    assert_eq!(n.sigs, vec![peter()]);
    assert_eq!(n.unverified_sigs, vec![enoch()]);

    let n = note::open(msg.as_bytes(), &VerifierList::new([p.clone(), e.clone()])).expect("open");
    assert_eq!(n.sigs, vec![peter(), enoch()]);
    assert!(n.unverified_sigs.is_empty());

    match note::open(msg.as_bytes(), &VerifierList::default()) {
        Err(NoteError::Unverified(n)) => {
            assert!(n.sigs.is_empty());
            assert_eq!(n.unverified_sigs, vec![peter(), enoch()]);
        }
        other => panic!("want unverified note error, got {other:?}"),
    }
    assert_eq!(
        note::open(msg.as_bytes(), &VerifierList::default())
            .expect_err("unverified")
            .to_string(),
        "note has no verifiable signatures"
    );

    // A duplicated verifier is an error only when a signature needs it.
    let dup = VerifierList::new([e.clone(), p.clone(), e.clone()]);
    let only_enoch = format!("{TEXT}\n{}", enoch_sig_line());
    assert_eq!(
        note::open(only_enoch.as_bytes(), &dup)
            .expect_err("ambiguous")
            .to_string(),
        "ambiguous key EnochRoot+af0cfe78"
    );
    let only_peter = format!("{TEXT}\n{}", peter_sig_line());
    note::open(only_peter.as_bytes(), &dup).expect("unused duplicate is fine");
}

#[test]
fn open_bounds_and_rejects_bad_signatures() {
    let p = VerifierList::new([verifier(PETER_VKEY)]);
    let many = format!("{TEXT}\n{}", peter_sig_line().repeat(101));
    assert_eq!(note::open(many.as_bytes(), &p), Err(NoteError::Malformed));
    assert_eq!(
        note::open(many.as_bytes(), &VerifierList::default()),
        Err(NoteError::Malformed)
    );

    let ps = peter_sig_line();
    let (a, b) = ps.split_at(60);
    let invalid = format!("{TEXT}\n{a}ABCD{b}");
    assert_eq!(
        note::open(invalid.as_bytes(), &p)
            .expect_err("invalid")
            .to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );

    // Duplicates of verified and unverified signatures collapse.
    let es = enoch_sig_line();
    let (ea, eb) = es.split_at(60);
    let msg = format!("{TEXT}\n{ps}{ps}{es}{es}{ea}ABCD{eb}");
    let n = note::open(msg.as_bytes(), &p).expect("open");
    assert_eq!(n.sigs, vec![peter()]);
    let enoch_abcd = Signature {
        base64: "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
            .into(),
        ..enoch()
    };
    assert_eq!(n.unverified_sigs, vec![enoch(), enoch_abcd]);
}

#[test]
fn open_rejects_malformed_syntax() {
    let p = VerifierList::new([verifier(PETER_VKEY)]);
    let ps = peter_sig_line();
    let bad: Vec<Vec<u8>> = vec![
        TEXT.into(),
        format!("{TEXT}\n").into(),
        format!("{TEXT}\n{}", &ps[..ps.len() - 1]).into(),
        format!("\x01{TEXT}\n{ps}").into(),
        [b"\xff".as_slice(), format!("{TEXT}\n{ps}").as_bytes()].concat(),
        format!("{TEXT}\n— Bad Name {PETER_B64}").into(),
        format!("{TEXT}\n{ps}Unexpected line.\n").into(),
    ];
    for msg in bad {
        assert_eq!(
            note::open(&msg, &p),
            Err(NoteError::Malformed),
            "{:?}",
            String::from_utf8_lossy(&msg)
        );
    }
}

/// Answers every lookup with one key, whatever was asked: a broken
/// [`Verifiers`] that `open` must catch.
struct Fixed(Verifier);
impl Verifiers for Fixed {
    fn verifier(&self, _: &str, _: u32) -> Result<&Verifier, NoteError> {
        Ok(&self.0)
    }
}

#[test]
fn open_catches_mismatched_verifier() {
    let fixed = Fixed(verifier(PETER_VKEY));
    let misnamed = format!(
        "{TEXT}\n{}",
        peter_sig_line().replace("PeterNeumann", "CarmenSandiego")
    );
    assert_eq!(
        note::open(misnamed.as_bytes(), &fixed),
        Err(NoteError::MismatchedVerifier)
    );
    let wrong_hash = format!("{TEXT}\n{}", peter_sig_line().replace("x08g", "xxxx"));
    assert_eq!(
        note::open(wrong_hash.as_bytes(), &fixed),
        Err(NoteError::MismatchedVerifier)
    );
}

#[test]
fn generated_key_signs_notes_go_format_verifier_opens() {
    let (skey, vkey) = note::generate_key("agora.test").expect("generate");
    let signer = Signer::parse(&skey).expect("signer");
    let text = "go.sum database tree\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let n = Note {
        text: text.into(),
        ..Note::default()
    };
    let signed = note::sign(&n, &[&signer]).expect("sign");
    let s = String::from_utf8(signed.clone()).expect("utf8");
    assert!(s.starts_with(&format!("{text}\n— agora.test ")), "{s}");
    let opened = note::open(&signed, &VerifierList::new([verifier(&vkey)])).expect("open");
    assert_eq!(opened.text, text);
    assert_eq!(opened.sigs.len(), 1);
    assert_eq!(opened.sigs[0].hash, signer.key_hash());
    // Another key of the same name is not this key.
    let (_, other) = note::generate_key("agora.test").expect("generate");
    assert!(matches!(
        note::open(&signed, &VerifierList::new([verifier(&other)])),
        Err(NoteError::Unverified(_))
    ));
    // Altering the text breaks the signature.
    let tampered = s.replacen("\n3\n", "\n4\n", 1);
    assert!(matches!(
        note::open(tampered.as_bytes(), &VerifierList::new([verifier(&vkey)])),
        Err(NoteError::InvalidSignature { .. })
    ));
}
