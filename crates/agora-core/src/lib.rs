//! The Go module domain, with no I/O runtime and no HTTP.
//!
//! This crate owns every rule agora shares with the go command: module path and
//! version validation ([`path`]), the `!` case escaping of paths and versions
//! ([`escape`]), Go's dialect of semantic versioning ([`semver`]) and
//! pseudo-versions ([`pseudo`]), GOPRIVATE-style glob patterns ([`pattern`]),
//! the `h1:` directory hash ([`dirhash`]), Unicode simple case folding
//! ([`fold`]) and the module zip rules ([`zipcheck`]). It also owns the
//! validated value types the rest of agora passes around ([`types`]), and the
//! redaction of credentials in URLs as the go command shows them ([`redact`]), and the
//! `GOPROXY` list as config and upstream share it ([`goproxy`]), and Athens' download
//! modes file ([`download_mode`]) and filter file ([`filter`]), parsed without I/O.
//!
//! Everything here follows `golang.org/x/mod` and `cmd/go/internal/modfetch`
//! as the go command ships them; the tests derive their tables from those rules.

pub mod dirhash;
pub mod download_mode;
pub mod escape;
pub mod filter;
pub mod fold;
pub mod goproxy;
pub mod path;
pub mod pattern;
pub mod pseudo;
pub mod redact;
pub mod semver;
pub mod types;
pub mod zipcheck;

pub use types::{Artifact, ModulePath, NetworkMode, RevInfo, Version};
