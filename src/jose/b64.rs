//! Base64url without padding (RFC 7515 §2), the encoding of every JWK
//! member and token segment; and the standard base64 of `x5c`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Encodes `bytes`.
#[cfg(any(feature = "issue", feature = "dpop"))]
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a JWK member; the error names the member, never its value.
pub(crate) fn member(name: &str, value: Option<&str>) -> Result<Vec<u8>, String> {
    let value = value.ok_or_else(|| format!("the JWK lacks its `{name}` member"))?;
    URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map_err(|_| format!("the JWK's `{name}` is not base64url"))
}

/// Decodes standard base64 with padding (a JWK's `x5c`, RFC 7517 §4.7).
pub(crate) fn standard(value: &str) -> Result<Vec<u8>, ()> {
    STANDARD.decode(value.as_bytes()).map_err(|_| ())
}
