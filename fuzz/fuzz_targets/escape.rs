//! The `!` case escaping of module paths and versions (agora-core
//! `escape`), and the path checks behind it.
//!
//! Decoding is strict, so escape and unescape are inverses both ways: an
//! escaped string that decodes escapes back to itself, and a path or version
//! that escapes decodes back to itself. A module path is an import path and
//! an import path is a file path. No error message carries a raw control
//! character (they reach clients).
#![no_main]

use agora_core::{escape, path};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let printable = |m: &str| {
        assert!(
            !m.chars().any(char::is_control),
            "{s:?}: message has a control character: {m:?}"
        );
    };

    match escape::unescape_path(s) {
        Ok(p) => {
            assert!(path::check_path(&p).is_ok(), "{s:?} unescapes to bad {p:?}");
            assert_eq!(escape::escape_path(&p).as_deref(), Ok(s), "{s:?} -> {p:?}");
        }
        Err(e) => printable(e.message()),
    }
    match escape::unescape_version(s) {
        Ok(v) => assert_eq!(
            escape::escape_version(&v).as_deref(),
            Ok(s),
            "{s:?} -> {v:?}"
        ),
        Err(e) => printable(e.message()),
    }
    match escape::escape_path(s) {
        Ok(e) => assert_eq!(
            escape::unescape_path(&e).as_deref(),
            Ok(s),
            "{s:?} -> {e:?}"
        ),
        Err(e) => printable(e.message()),
    }
    match escape::escape_version(s) {
        Ok(e) => assert_eq!(
            escape::unescape_version(&e).as_deref(),
            Ok(s),
            "{s:?} -> {e:?}"
        ),
        Err(e) => printable(e.message()),
    }

    let module = path::check_path(s);
    let import = path::check_import_path(s);
    let file = path::check_file_path(s);
    for e in [&module, &import, &file]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
    {
        printable(e.message());
    }
    if module.is_ok() {
        assert!(import.is_ok(), "{s:?}: module path but not import path");
    }
    if import.is_ok() {
        assert!(file.is_ok(), "{s:?}: import path but not file path");
    }
});
