//! JWK thumbprints ([RFC 7638]): the SHA-256 of a key's required members,
//! in lexicographic order, with no whitespace, base64url without padding.
//! Issued keys use it as their default `kid`.
//!
//! [RFC 7638]: https://www.rfc-editor.org/rfc/rfc7638

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{BuildError, BuildErrorKind};

/// The members RFC 7638 §3.2 hashes for each key type, in lexicographic
/// order (`kty` included).
fn required_members(kty: &str) -> Option<&'static [&'static str]> {
    Some(match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "oct" => &["k", "kty"],
        _ => return None,
    })
}

/// The RFC 7638 SHA-256 thumbprint of a JWK given as JSON.
///
/// Only the members the RFC names for the key type count (`e kty n` for
/// RSA, `crv kty x y` for EC, `crv kty x` for OKP, `k kty` for oct), so
/// `kid`, `alg`, `use` and the private members of a private JWK do not
/// change it.
///
/// ```
/// let jwk = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
/// assert_eq!(
///     jwt_layer::issue::jwk_thumbprint(jwk)?,
///     "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", // RFC 8037 §A.3
/// );
/// # Ok::<(), jwt_layer::BuildError>(())
/// ```
///
/// # Errors
///
/// The text is not a JSON object, its `kty` is not one of the four above,
/// or a required member is missing or not a string.
#[cfg_attr(not(feature = "issue"), allow(unreachable_pub))]
pub fn jwk_thumbprint(jwk_json: &str) -> Result<String, BuildError> {
    let jwk: Map<String, Value> = serde_json::from_str(jwk_json).map_err(|e| {
        BuildError::with_source(BuildErrorKind::InvalidKey, "JWK is not a JSON object", e)
    })?;
    let kty = jwk
        .get("kty")
        .and_then(Value::as_str)
        .ok_or_else(|| BuildError::new(BuildErrorKind::InvalidKey, "JWK has no `kty`"))?;
    let names = required_members(kty).ok_or_else(|| {
        BuildError::new(
            BuildErrorKind::InvalidKey,
            "JWK `kty` is not RSA, EC, OKP or oct",
        )
    })?;
    let mut members = Vec::with_capacity(names.len());
    for &name in names {
        let value = jwk.get(name).and_then(Value::as_str).ok_or_else(|| {
            BuildError::new(
                BuildErrorKind::InvalidKey,
                format!("JWK member `{name}` is missing"),
            )
        })?;
        members.push((name, value));
    }
    Ok(thumbprint(&members))
}

/// The thumbprint of `members`, which must be exactly the required
/// members of their key type, sorted by name.
pub(crate) fn thumbprint(members: &[(&str, &str)]) -> String {
    debug_assert!(members.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
    // The input may hold an HMAC secret (`k`): wipe it after hashing.
    let mut canonical = Zeroizing::new(String::from("{"));
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        // Names are ASCII; values are escaped as JSON requires.
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":");
        canonical.push_str(&Value::from(*value).to_string());
    }
    canonical.push('}');
    super::b64::encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_rsa_example() {
        let jwk = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
        assert_eq!(
            jwk_thumbprint(jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn malformed_jwks_are_errors() {
        for bad in [
            "[]",
            "{}",
            r#"{"kty":"XYZ"}"#,
            r#"{"kty":"OKP","crv":"Ed25519"}"#,
            r#"{"kty":"oct","k":5}"#,
        ] {
            assert!(jwk_thumbprint(bad).is_err(), "{bad}");
        }
    }
}
