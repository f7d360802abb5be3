//! STUB: to be replaced by the real implementation (helper B).
#![allow(missing_docs, unused_variables)]
use std::path::Path;
pub const MAX_ZIP_FILE: u64 = 500 << 20;
pub const MAX_GO_MOD: u64 = 16 << 20;
pub const MAX_LICENSE: u64 = 16 << 20;
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("{0}")]
    Invalid(String),
    #[error("reading zip: {0}")]
    Io(#[from] std::io::Error),
}
#[derive(Debug, Clone)]
pub struct CheckedZip { pub go_mod: Option<Vec<u8>>, pub h1: String, pub size: u64 }
pub fn check_zip_file(zip: &Path, module: &str, version: &str) -> Result<CheckedZip, ZipError> { unimplemented!() }
