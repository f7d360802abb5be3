//! STUB: to be replaced by the real implementation (helper A).
#![allow(missing_docs, unused_variables)]
pub fn match_prefix_patterns(globs: &str, target: &str) -> bool { unimplemented!() }
