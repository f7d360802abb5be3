//! Import path discovery (agora-upstream `discovery`): the go-import page
//! (`parse_meta_go_imports`, a port of Go's non-strict XML tokenizer),
//! choosing a tag for an import path (`match_go_import`), and the known
//! hosts' rules (`match_vcs_paths`).
//!
//! The input is an import path, a newline, then the page. Besides never
//! panicking: each tag has non-empty prefix, VCS and repository fields
//! without white space (they are split on it); a chosen tag is one of the
//! page's and its prefix starts the import path.
#![no_main]

use agora_upstream::discovery::{match_go_import, match_vcs_paths, parse_meta_go_imports};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (path, html) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let imports = parse_meta_go_imports(html);
    for im in &imports {
        for f in [&im.prefix, &im.vcs, &im.repo_root] {
            assert!(
                !f.is_empty() && !f.chars().any(char::is_whitespace),
                "{im:?}"
            );
        }
        assert!(!im.subdir.chars().any(char::is_whitespace), "{im:?}");
    }
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    if let Ok(chosen) = match_go_import(&imports, path) {
        assert!(imports.contains(&chosen), "{chosen:?}");
        assert!(path.starts_with(&chosen.prefix), "{path:?} {chosen:?}");
    }
    let _ = match_vcs_paths(path);
});
