//! STUB: to be replaced by the real implementation (helper A).
#![allow(missing_docs, unused_variables)]
pub fn is_pseudo_version(v: &str) -> bool { unimplemented!() }
