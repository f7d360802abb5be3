//! Base64 as Go's `encoding/base64.StdEncoding` decodes it.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Go's StdEncoding requires padding but, unlike `base64::STANDARD`, accepts
/// non-zero trailing bits, and it skips CR and LF anywhere in the input. A
/// key or signature the go command accepts must be accepted here too.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    if s.contains(['\r', '\n']) {
        let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        return GO_STD.decode(cleaned).ok();
    }
    GO_STD.decode(s).ok()
}

pub(crate) fn encode(data: &[u8]) -> String {
    GO_STD.encode(data)
}
