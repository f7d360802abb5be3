//! The go.mod reading of direct mode (agora-vcs `modfile`) on any file.
//!
//! Never panics; retraction bounds are canonical versions; a `go` language
//! version has major ≥ 1; a valid module path written with `auto_quote`
//! reads back unchanged.
#![no_main]

use agora_core::{path, semver};
use agora_vcs::modfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = modfile::module_path(data);
    if let Some((major, _)) = modfile::go_lang(data) {
        assert!(major >= 1);
    }
    for (low, high) in modfile::retractions(data) {
        for v in [&low, &high] {
            assert!(
                semver::is_valid(v) && path::canonical_version(v) == *v,
                "retraction bound {v:?} is not a canonical version"
            );
        }
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if path::check_path(s).is_ok() {
        let file = format!(
            "// comment\nmodule {} // trailing\n",
            modfile::auto_quote(s)
        );
        assert_eq!(modfile::module_path(file.as_bytes()), s, "{file:?}");
    }
});
