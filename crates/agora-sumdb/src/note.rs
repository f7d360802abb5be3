//! Signed notes: a UTF-8 text followed by a blank line and signature lines
//! `— NAME BASE64(keyhash||sig)`, and the Ed25519 keys that sign and verify
//! them, in the go command's formats (`golang.org/x/mod/sumdb/note`).
//!
//! A verifier key is `NAME+HASH+BASE64(alg||pubkey)` and a signer key is
//! `PRIVATE+KEY+NAME+HASH+BASE64(alg||seed)`, where HASH is the first four
//! bytes of SHA-256(`NAME\nalg||pubkey`) in hex and alg 1 is Ed25519.

use std::collections::{HashMap, HashSet};
use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::b64;

/// The algorithm byte of an Ed25519 key.
const ALG_ED25519: u8 = 1;

/// Go's limit on signature lines, verified or not, in one note.
const MAX_SIGNATURES: usize = 100;

/// Why a signer or verifier key string was refused. The messages are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not of the key syntax, a bad name, or a key of the wrong length.
    #[error("malformed verifier id")]
    Malformed,
    /// An algorithm byte other than Ed25519's.
    #[error("unknown verifier algorithm")]
    UnknownAlgorithm,
    /// The hash does not match the name and key.
    #[error("invalid verifier hash")]
    Hash,
    /// A key name that is empty or holds white space or `+`.
    #[error("invalid key name {0:?}: it must be non-empty, with no spaces and no '+'")]
    InvalidName(String),
    /// The system's random source failed while generating a key.
    #[error("generating key: {0}")]
    Random(String),
}

/// Why a note could not be opened or signed. The messages are Go's, so that
/// logs and client-facing reasons read as the go command's would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Bad UTF-8, control characters, no signature block, a bad signature
    /// line, or more than 100 signatures.
    #[error("malformed note")]
    Malformed,
    /// A signer's name is not a valid key name.
    #[error("invalid signer")]
    InvalidSigner,
    /// A [`Verifiers`] implementation answered with a key of another name or
    /// hash than the one asked for.
    #[error("verifier name or hash doesn't match signature")]
    MismatchedVerifier,
    /// No known verifier has this name and hash.
    #[error("unknown key {name}+{hash:08x}")]
    UnknownKey {
        /// Key name.
        name: String,
        /// Key hash.
        hash: u32,
    },
    /// Several known verifiers have this name and hash.
    #[error("ambiguous key {name}+{hash:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key hash.
        hash: u32,
    },
    /// A signature by a known key does not verify: the note was altered or
    /// signed by someone else using that key's name and hash.
    #[error("invalid signature for key {name}+{hash:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key hash.
        hash: u32,
    },
    /// Well formed, but no signature is by a known key. The note is kept so
    /// that a caller can say whose signatures it does carry.
    #[error("note has no verifiable signatures")]
    Unverified(Box<Note>),
}

/// Go's `isValidName`: non-empty UTF-8 with no white space and no `+`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn key_hash(name: &str, key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(key);
    let sum = h.finalize();
    u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]])
}

/// Parses the `HASH+BASE64` tail shared by both key formats.
fn parse_hash_and_key(rest: &str) -> Option<(u32, Vec<u8>)> {
    let (hash16, key64) = rest.split_once('+').unwrap_or((rest, ""));
    // Go's ParseUint would accept a sign or underscores nowhere here, but it
    // does accept upper case; only the exact length and hex digits matter.
    if hash16.len() != 8 || !hash16.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hash = u32::from_str_radix(hash16, 16).ok()?;
    let key = b64::decode(key64)?;
    if key.is_empty() {
        return None;
    }
    Some((hash, key))
}

/// A key that verifies signatures of one name, from a verifier key string.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    hash: u32,
    // Kept as bytes, as Go does: a 32-byte string that is not a curve point
    // is accepted as a key and simply verifies nothing.
    key: [u8; 32],
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({}+{:08x})", self.name, self.hash)
    }
}

impl Verifier {
    /// Parses a verifier key `NAME+HASH+BASE64(alg||pubkey)`.
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        let (name, rest) = vkey.split_once('+').unwrap_or((vkey, ""));
        let (hash, key) = parse_hash_and_key(rest).ok_or(KeyError::Malformed)?;
        if !is_valid_name(name) {
            return Err(KeyError::Malformed);
        }
        if hash != key_hash(name, &key) {
            return Err(KeyError::Hash);
        }
        if key[0] != ALG_ED25519 {
            return Err(KeyError::UnknownAlgorithm);
        }
        let key: [u8; 32] = key[1..].try_into().map_err(|_| KeyError::Malformed)?;
        Ok(Verifier {
            name: name.to_owned(),
            hash,
            key,
        })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's hash, as in the key string and in signatures.
    pub fn key_hash(&self) -> u32 {
        self.hash
    }

    /// Whether `sig` (without the 4-byte key hash) is this key's signature
    /// of `msg`. Cofactorless RFC 8032 verification, as Go's `ed25519.Verify`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&self.key) else {
            return false;
        };
        // Not verify_strict: Go accepts small-order keys and R points.
        ed25519_dalek::Verifier::verify(&key, msg, &sig).is_ok()
    }

    /// The key in the verifier key format.
    pub fn to_key_string(&self) -> String {
        let mut pubkey = vec![ALG_ED25519];
        pubkey.extend_from_slice(&self.key);
        format!("{}+{:08x}+{}", self.name, self.hash, b64::encode(&pubkey))
    }
}

/// A key that signs notes under one name, from a signer key string.
#[derive(Clone)]
pub struct Signer {
    name: String,
    hash: u32,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    // The seed must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}+{:08x})", self.name, self.hash)
    }
}

impl Signer {
    /// Parses a signer key `PRIVATE+KEY+NAME+HASH+BASE64(alg||seed)`.
    pub fn parse(skey: &str) -> Result<Self, KeyError> {
        let skey = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::Malformed)?;
        let (name, rest) = skey.split_once('+').unwrap_or((skey, ""));
        let (hash, key) = parse_hash_and_key(rest).ok_or(KeyError::Malformed)?;
        if !is_valid_name(name) {
            return Err(KeyError::Malformed);
        }
        if key[0] != ALG_ED25519 {
            return Err(KeyError::UnknownAlgorithm);
        }
        let seed: [u8; 32] = key[1..].try_into().map_err(|_| KeyError::Malformed)?;
        let key = SigningKey::from_bytes(&seed);
        let mut pubkey = vec![ALG_ED25519];
        pubkey.extend_from_slice(key.verifying_key().as_bytes());
        if hash != key_hash(name, &pubkey) {
            return Err(KeyError::Hash);
        }
        Ok(Signer {
            name: name.to_owned(),
            hash,
            key,
        })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's hash.
    pub fn key_hash(&self) -> u32 {
        self.hash
    }

    /// The Ed25519 signature of `msg` (64 bytes, without the key hash).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.key.sign(msg).to_bytes().to_vec()
    }

    /// The verifier matching this signer.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            hash: self.hash,
            key: self.key.verifying_key().to_bytes(),
        }
    }
}

/// Generates a fresh Ed25519 key pair named `name` from the system's random
/// source, returning `(signer key, verifier key)` strings.
pub fn generate_key(name: &str) -> Result<(String, String), KeyError> {
    if !is_valid_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    keys_from_seed(name, &seed)
}

/// The `(signer key, verifier key)` strings of the Ed25519 key with `seed`.
pub fn keys_from_seed(name: &str, seed: &[u8; 32]) -> Result<(String, String), KeyError> {
    if !is_valid_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    let key = SigningKey::from_bytes(seed);
    let mut pubkey = vec![ALG_ED25519];
    pubkey.extend_from_slice(key.verifying_key().as_bytes());
    let mut privkey = vec![ALG_ED25519];
    privkey.extend_from_slice(seed);
    let h = key_hash(name, &pubkey);
    Ok((
        format!("PRIVATE+KEY+{name}+{h:08x}+{}", b64::encode(&privkey)),
        format!("{name}+{h:08x}+{}", b64::encode(&pubkey)),
    ))
}

/// The verifier key string of a raw 32-byte Ed25519 public key.
pub fn ed25519_verifier_key(name: &str, key: &[u8]) -> Result<String, KeyError> {
    if !is_valid_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    if key.len() != 32 {
        return Err(KeyError::Malformed);
    }
    let mut pubkey = vec![ALG_ED25519];
    pubkey.extend_from_slice(key);
    let h = key_hash(name, &pubkey);
    Ok(format!("{name}+{h:08x}+{}", b64::encode(&pubkey)))
}

/// The set of keys a note is checked against.
pub trait Verifiers {
    /// The verifier for a signature line's name and hash: an error
    /// [`NoteError::UnknownKey`] makes the line an unverified signature,
    /// any other error fails the whole note.
    fn verifier(&self, name: &str, hash: u32) -> Result<&Verifier, NoteError>;
}

/// A fixed list of verifiers; a name and hash given twice is ambiguous.
#[derive(Debug, Clone, Default)]
pub struct VerifierList {
    map: HashMap<(String, u32), Vec<Verifier>>,
}

impl VerifierList {
    /// The list of the given verifiers.
    pub fn new(list: impl IntoIterator<Item = Verifier>) -> Self {
        let mut map: HashMap<(String, u32), Vec<Verifier>> = HashMap::new();
        for v in list {
            map.entry((v.name.clone(), v.hash)).or_default().push(v);
        }
        VerifierList { map }
    }
}

impl Verifiers for VerifierList {
    fn verifier(&self, name: &str, hash: u32) -> Result<&Verifier, NoteError> {
        match self.map.get(&(name.to_owned(), hash)).map(Vec::as_slice) {
            None | Some([]) => Err(NoteError::UnknownKey {
                name: name.to_owned(),
                hash,
            }),
            Some([v]) => Ok(v),
            Some(_) => Err(NoteError::AmbiguousKey {
                name: name.to_owned(),
                hash,
            }),
        }
    }
}

/// A note's text and its signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// Signatures by known keys that verified.
    pub sigs: Vec<Signature>,
    /// Signatures by unknown keys, not checked.
    pub unverified_sigs: Vec<Signature>,
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Key name.
    pub name: String,
    /// Key hash.
    pub hash: u32,
    /// Base64 of the key hash followed by the signature, as in the line.
    pub base64: String,
}

const SIG_PREFIX: &str = "— ";

/// Parses and verifies a signed note. Signatures by unknown keys are kept
/// unverified; at least one known key's valid signature is required, and a
/// known key's invalid signature fails the note.
pub fn open(msg: &[u8], known: &dyn Verifiers) -> Result<Note, NoteError> {
    let msg = std::str::from_utf8(msg).map_err(|_| NoteError::Malformed)?;
    if msg.chars().any(|c| c < '\u{20}' && c != '\n') {
        return Err(NoteError::Malformed);
    }
    let split = msg.rfind("\n\n").ok_or(NoteError::Malformed)?;
    let (text, mut sigs) = (&msg[..split + 1], &msg[split + 2..]);
    if !sigs.ends_with('\n') {
        return Err(NoteError::Malformed);
    }
    let mut note = Note {
        text: text.to_owned(),
        ..Note::default()
    };
    let mut seen: HashSet<(String, u32)> = HashSet::new();
    let mut seen_unverified: HashSet<&str> = HashSet::new();
    let mut num_sig = 0;
    while let Some((line, rest)) = sigs.split_once('\n') {
        sigs = rest;
        let line = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed)?;
        let (name, b64) = line.split_once(' ').unwrap_or((line, ""));
        let sig = b64::decode(b64).ok_or(NoteError::Malformed)?;
        if !is_valid_name(name) || b64.is_empty() || sig.len() < 5 {
            return Err(NoteError::Malformed);
        }
        let hash = u32::from_be_bytes([sig[0], sig[1], sig[2], sig[3]]);
        let sig = &sig[4..];
        num_sig += 1;
        if num_sig > MAX_SIGNATURES {
            return Err(NoteError::Malformed);
        }
        let v = match known.verifier(name, hash) {
            Ok(v) => v,
            Err(NoteError::UnknownKey { .. }) => {
                if seen_unverified.insert(line) {
                    note.unverified_sigs.push(Signature {
                        name: name.to_owned(),
                        hash,
                        base64: b64.to_owned(),
                    });
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        if v.name() != name || v.key_hash() != hash {
            return Err(NoteError::MismatchedVerifier);
        }
        if !seen.insert((name.to_owned(), hash)) {
            continue;
        }
        if !v.verify(text.as_bytes(), sig) {
            return Err(NoteError::InvalidSignature {
                name: name.to_owned(),
                hash,
            });
        }
        note.sigs.push(Signature {
            name: name.to_owned(),
            hash,
            base64: b64.to_owned(),
        });
    }
    if note.sigs.is_empty() {
        return Err(NoteError::Unverified(Box::new(note)));
    }
    Ok(note)
}

/// Signs a note's text with each signer, keeping its existing signatures
/// except those the signers replace, which go last, as Go orders them.
pub fn sign(note: &Note, signers: &[&Signer]) -> Result<Vec<u8>, NoteError> {
    if !note.text.ends_with('\n') {
        return Err(NoteError::Malformed);
    }
    let mut out = note.text.clone();
    let mut new_sigs = String::new();
    let mut have: HashSet<(&str, u32)> = HashSet::new();
    for s in signers {
        have.insert((s.name(), s.key_hash()));
        if !is_valid_name(s.name()) {
            return Err(NoteError::InvalidSigner);
        }
        let mut raw = s.key_hash().to_be_bytes().to_vec();
        raw.extend_from_slice(&s.sign(note.text.as_bytes()));
        new_sigs.push_str(&format!("{SIG_PREFIX}{} {}\n", s.name(), b64::encode(&raw)));
    }
    out.push('\n');
    for sig in note.sigs.iter().chain(&note.unverified_sigs) {
        if !is_valid_name(&sig.name) {
            return Err(NoteError::Malformed);
        }
        if have.contains(&(sig.name.as_str(), sig.hash)) {
            continue;
        }
        match b64::decode(&sig.base64) {
            Some(raw) if raw.len() >= 4 && raw[..4] == sig.hash.to_be_bytes() => {}
            _ => return Err(NoteError::Malformed),
        }
        out.push_str(&format!("{SIG_PREFIX}{} {}\n", sig.name, sig.base64));
    }
    out.push_str(&new_sigs);
    Ok(out.into_bytes())
}
