//! STUB: to be replaced by the real implementation (helper A).
#![allow(missing_docs, unused_variables)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EscapeError(pub String);
pub fn escape_path(path: &str) -> Result<String, EscapeError> { unimplemented!() }
pub fn escape_version(version: &str) -> Result<String, EscapeError> { unimplemented!() }
pub fn unescape_path(escaped: &str) -> Result<String, EscapeError> { unimplemented!() }
pub fn unescape_version(escaped: &str) -> Result<String, EscapeError> { unimplemented!() }
