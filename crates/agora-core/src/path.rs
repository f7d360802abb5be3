//! STUB: to be replaced by the real implementation (helper A).
#![allow(missing_docs, unused_variables)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PathError(pub String);
pub fn check_path(path: &str) -> Result<(), PathError> { unimplemented!() }
pub fn check_import_path(path: &str) -> Result<(), PathError> { unimplemented!() }
pub fn check_file_path(path: &str) -> Result<(), PathError> { unimplemented!() }
pub fn split_path_version(path: &str) -> Option<(&str, &str)> { unimplemented!() }
pub fn check_path_major(version: &str, path_major: &str) -> Result<(), PathError> { unimplemented!() }
pub fn check(path: &str, version: &str) -> Result<(), PathError> { unimplemented!() }
