//! Module zip checking (agora-core `zipcheck`) on any file, as an upstream
//! could send it.
//!
//! Never panics, and the two checks agree: a zip the full check accepts
//! passes the layout check with the same size, a zip the layout check
//! refuses the full check refuses too, and a refusal's reason is one line
//! (it is shown to clients).
#![no_main]

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use agora_core::zipcheck::{ZipError, check_zip_file, check_zip_layout};
use libfuzzer_sys::fuzz_target;

const MODULE: &str = "example.com/m";
const VERSION: &str = "v1.0.0";

/// One file per fuzzing process, rewritten for each input.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("m.zip");
        (dir, file)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    let mut f = std::fs::File::create(path).expect("scratch file");
    f.write_all(data).expect("write scratch file");
    drop(f);

    let full = check_zip_file(path, MODULE, VERSION);
    let layout = check_zip_layout(path, MODULE, VERSION);
    match (&full, &layout) {
        (Ok(c), Ok(size)) => {
            assert_eq!(c.size, data.len() as u64);
            assert_eq!(*size, c.size);
            assert!(c.h1.starts_with("h1:"), "{}", c.h1);
        }
        (Ok(_), Err(e)) => panic!("full check accepts, layout check refuses: {e}"),
        (Err(_), Ok(_)) => {}
        (Err(_), Err(_)) => {}
    }
    for r in [full.err(), layout.err()] {
        match r {
            Some(ZipError::Invalid(m)) => {
                assert!(
                    !m.contains('\n') && !m.contains('\r'),
                    "reason is not one line: {m:?}"
                )
            }
            Some(ZipError::Io(e)) => panic!("I/O error on a readable file: {e}"),
            None => {}
        }
    }
});
