//! The checksum database formats, as the go command speaks them.
//!
//! This crate owns the wire and storage formats of a Go checksum database
//! (sum.golang.org and any private one agora serves): signed notes and their
//! Ed25519 signer and verifier keys ([`note`]), the tiled transparency log with
//! its hashes, tiles and proofs ([`tlog`]), and the lookup record bodies a
//! database answers with ([`records`]). It does no I/O: callers fetch tiles and
//! notes and hand the bytes in.
//!
//! Ground truth is `golang.org/x/mod/sumdb/{note,tlog}` and `sumdb/client.go`
//! as vendored in the go command; the tests port their test vectors.

pub mod note;
pub mod records;
pub mod tlog;

mod b64;
