//! STUB: to be replaced by the real implementation (helper A).
#![allow(missing_docs, unused_variables)]
use std::cmp::Ordering;
pub fn is_valid(v: &str) -> bool { unimplemented!() }
pub fn canonical(v: &str) -> String { unimplemented!() }
pub fn major(v: &str) -> String { unimplemented!() }
pub fn major_minor(v: &str) -> String { unimplemented!() }
pub fn prerelease(v: &str) -> String { unimplemented!() }
pub fn build(v: &str) -> String { unimplemented!() }
pub fn compare(v: &str, w: &str) -> Ordering { unimplemented!() }
pub fn max<'a>(v: &'a str, w: &'a str) -> &'a str { unimplemented!() }
pub fn sort(list: &mut [String]) { unimplemented!() }
