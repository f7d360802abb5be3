//! The GOPROXY list the upstream client walks. It is parsed once, by `agora-config`,
//! into `agora_core::goproxy::ProxyList`; this module keeps the names upstream's
//! callers use.

pub use agora_core::goproxy::{Entry, ProxyList, ProxyListError, Source};
/// Kept here for the upstream crate's callers; the function lives in agora-core so that
/// `agora config show` (agora-config) redacts with the same rule.
pub use agora_core::redact::redact_urls;
