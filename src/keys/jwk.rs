//! JWK (RFC 7517) and JWK Set parsing into verification [`Key`]s.
//!
//! Each key is parsed on its own; a key we cannot or must not use is skipped
//! with a reason, never failing its neighbours.

use jsonwebtoken::DecodingKey;

use super::Key;
use super::alg::{AlgSet, KeyType, algorithms_for, hmac_min_len};
use super::key::{from_spki, same_material};
use crate::jose::curve::{Curve, ED25519_LEN};
use crate::jose::der::{bit_len, strip_zeros};
use crate::jose::jwk::{Direction, Jwk, set_entries};
use crate::jose::x509;

/// Smallest RSA modulus we accept.
pub(crate) const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus we accept (bounds verification cost).
pub(crate) const MAX_RSA_BITS: usize = 8192;

/// What kinds of JWK are acceptable.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JwkPolicy {
    /// Accept symmetric `oct` keys (only for keys the user configured
    /// locally; never from a remote key set).
    pub(crate) allow_symmetric: bool,
}

impl JwkPolicy {
    /// Keys the user configured locally: HMAC secrets allowed.
    pub(crate) const LOCAL: Self = Self {
        allow_symmetric: true,
    };
    /// Keys from a remote key set: never symmetric (a published secret is
    /// public).
    #[cfg(feature = "remote-jwks")]
    pub(crate) const REMOTE: Self = Self {
        allow_symmetric: false,
    };
}

/// Parses one JWK (a JSON object) into a key to verify with.
///
/// # Errors
///
/// A short reason (without key material) when the key is unusable.
pub(crate) fn parse_jwk(json: &str, policy: JwkPolicy) -> Result<Key, String> {
    let jwk = Jwk::read(json, Direction::Verify)?;
    let alg = jwk.alg()?;
    let (key_type, decoding) = match (members_key(&jwk, policy)?, certified_key(&jwk)?) {
        (Some(members), None) => members,
        (None, Some((cert_type, cert_key))) => {
            let (kty, crv) = names_of(cert_type);
            if kty != jwk.kty || jwk.crv.as_deref().is_some_and(|c| Some(c) != crv) {
                return Err("the JWK's `x5c` certificate holds another key type".into());
            }
            (cert_type, cert_key.into_material())
        }
        (Some((key_type, decoding)), Some((cert_type, cert_key))) => {
            if cert_type != key_type || !same_material(&decoding, &cert_key.into_material()) {
                return Err(
                    "the JWK's `x5c` certificate holds another key than its members".into(),
                );
            }
            (key_type, decoding)
        }
        (None, None) => {
            return Err(format!(
                "the JWK ({}) lacks its key members",
                jwk.describe()
            ));
        }
    };
    let mut algorithms = algorithms_for(key_type, alg)
        .ok_or_else(|| "the key's alg does not fit its type".to_string())?;
    if key_type == KeyType::Oct {
        let len = decoding.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0);
        algorithms = hmac_algorithms(algorithms, len)?;
    }
    let kid = jwk.kid.map(|k| Box::from(k.as_ref()));
    Ok(Key::new(kid, algorithms, decoding))
}

/// The key given by the JWK's own members (`n`/`e`, `x`/`y`, `x`, `k`);
/// `None` for an RSA, EC or OKP key without any of them (an `x5c`-only
/// key).
fn members_key(jwk: &Jwk<'_>, policy: JwkPolicy) -> Result<Option<(KeyType, DecodingKey)>, String> {
    let key = match (&*jwk.kty, jwk.crv.as_deref()) {
        ("RSA" | "EC" | "OKP", _) if !["n", "e", "x", "y"].iter().any(|m| jwk.has(m)) => {
            return Ok(None);
        }
        ("RSA", _) => {
            let (n, e) = (jwk.bytes("n")?, jwk.bytes("e")?);
            check_rsa(&n, &e)?;
            let key = DecodingKey::from_rsa_raw_components(strip_zeros(&n), strip_zeros(&e));
            (KeyType::Rsa, key)
        }
        ("EC", Some(crv)) if Curve::from_name(crv).is_some() => ec_key(jwk, crv)?,
        ("OKP", Some("Ed25519")) => {
            let x = jwk.bytes("x")?;
            check_ed25519(&x)?;
            (KeyType::Ed25519, DecodingKey::from_ed_der(&x))
        }
        ("oct", _) if policy.allow_symmetric => {
            (KeyType::Oct, DecodingKey::from_secret(&jwk.bytes("k")?))
        }
        ("oct", _) => return Err("symmetric keys are not accepted here".into()),
        _ => return Err(format!("unsupported {}", jwk.describe())),
    };
    Ok(Some(key))
}

/// The key of the JWK's first `x5c` certificate, if it has one.
fn certified_key(jwk: &Jwk<'_>) -> Result<Option<(KeyType, Key)>, String> {
    let Some(der) = jwk.first_certificate()? else {
        return Ok(None);
    };
    let cert = x509::from_der(&der).map_err(|why| format!("the JWK's `x5c`: {why}"))?;
    from_spki(&cert.spki)
        .map(Some)
        .map_err(|why| format!("the JWK's `x5c`: {why}"))
}

/// The JWK `kty` and `crv` of a key type.
fn names_of(key_type: KeyType) -> (&'static str, Option<&'static str>) {
    match key_type {
        KeyType::Oct => ("oct", None),
        KeyType::Rsa => ("RSA", None),
        KeyType::P256 => ("EC", Some("P-256")),
        KeyType::P384 => ("EC", Some("P-384")),
        KeyType::Ed25519 => ("OKP", Some("Ed25519")),
    }
}

/// An EC public key (P-256 or P-384) from `x` and `y`, checked to be a
/// point on its curve.
fn ec_key(jwk: &Jwk<'_>, crv: &str) -> Result<(KeyType, DecodingKey), String> {
    let curve = Curve::from_name(crv).ok_or("EC curve is not P-256 or P-384")?;
    let point = curve.point(&jwk.bytes("x")?, &jwk.bytes("y")?)?;
    if !crate::crypto::ec_point_is_valid(curve.algorithm(), &point) {
        return Err("EC key is not a point on its curve".into());
    }
    Ok((KeyType::from(curve), DecodingKey::from_ec_der(&point)))
}

/// Narrows HMAC algorithms to those whose hash output the secret covers.
pub(crate) fn hmac_algorithms(algorithms: AlgSet, secret_len: usize) -> Result<AlgSet, String> {
    let ok = AlgSet::of(algorithms.iter().filter(|a| secret_len >= hmac_min_len(*a)));
    if ok.is_empty() {
        Err(format!(
            "HMAC secret of {secret_len} bytes is shorter than the hash output \
             (at least 32 bytes for HS256, 48 for HS384, 64 for HS512)"
        ))
    } else {
        Ok(ok)
    }
}

/// Checks an Ed25519 public key: 32 bytes, a valid point, and not one of
/// small order. A small-order key (the identity `01 00…00` and the seven
/// other torsion points, in any encoding) lets anyone forge signatures that
/// verify under RFC 8032's arithmetic (R = identity, S = 0); libsodium
/// refuses such keys too.
pub(crate) fn check_ed25519(x: &[u8]) -> Result<(), String> {
    let bytes: [u8; ED25519_LEN] = x
        .try_into()
        .map_err(|_| "Ed25519 key has the wrong length".to_string())?;
    match curve25519_dalek::edwards::CompressedEdwardsY(bytes).decompress() {
        Some(point) if !point.is_small_order() => Ok(()),
        Some(_) => Err("Ed25519 key is a small-order point".into()),
        None => Err("Ed25519 key is not a curve point".into()),
    }
}

/// Checks an RSA modulus and exponent.
pub(crate) fn check_rsa(n: &[u8], e: &[u8]) -> Result<(), String> {
    let bits = bit_len(n);
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "RSA key of {bits} bits is under the {MIN_RSA_BITS}-bit minimum"
        ));
    }
    if bits > MAX_RSA_BITS {
        return Err(format!(
            "RSA key of {bits} bits is over the {MAX_RSA_BITS}-bit maximum"
        ));
    }
    let e = strip_zeros(e);
    // An odd public exponent of at least 3: `e = 1` makes every message
    // its own signature.
    if e.is_empty() || e == [1] || e.len() > 8 || e.last().is_some_and(|b| b & 1 == 0) {
        return Err("RSA exponent is invalid".into());
    }
    Ok(())
}

/// A parsed key set: the usable keys, why the others were skipped, and
/// notes on keys used anyway (a certificate outside its validity dates).
#[derive(Debug, Default)]
pub(crate) struct ParsedKeySet {
    pub(crate) keys: Vec<Key>,
    pub(crate) skipped: Vec<String>,
    #[cfg(feature = "remote-jwks")]
    pub(crate) notes: Vec<String>,
}

/// Parses a JWK Set document. The document itself must be well formed and
/// hold at most `max_keys` entries; each entry is then parsed on its own.
pub(crate) fn parse_jwks(
    json: &str,
    policy: JwkPolicy,
    max_keys: usize,
) -> Result<ParsedKeySet, String> {
    let entries = set_entries(json, max_keys)?;
    let mut parsed = ParsedKeySet {
        keys: Vec::with_capacity(entries.len()),
        ..ParsedKeySet::default()
    };
    for (i, entry) in entries.iter().enumerate() {
        match parse_jwk(entry.get(), policy) {
            Ok(key) => parsed.keys.push(key),
            Err(why) => parsed.skipped.push(format!("key #{i}: {why}")),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::Algorithm;

    use super::*;

    const STRICT: JwkPolicy = JwkPolicy {
        allow_symmetric: false,
    };

    #[test]
    fn skips_bad_keys_without_spoiling_the_set() {
        let doc = r#"{"keys":[
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"enc"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","key_ops":["encrypt"]},
            {"kty":"oct","k":"AAAA"},
            {"kty":"EC","crv":"P-521","x":"AA","y":"AA"},
            {"kty":"RSA","n":"AQAB","e":"AQAB"},
            {"kty":"OKP","crv":"Ed25519","x":"!!"},
            {"kty":5},
            "not an object"
        ]}"#;
        let parsed = parse_jwks(doc, STRICT, 100).unwrap();
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.keys[0].kid(), Some("ed"));
        assert!(parsed.keys[0].allows(Algorithm::EdDSA));
        assert_eq!(parsed.skipped.len(), 8);
    }

    #[test]
    fn key_count_and_shape_limits() {
        let one =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let doc = format!("{{\"keys\":[{one},{one},{one}]}}");
        assert!(parse_jwks(&doc, STRICT, 2).is_err());
        assert!(parse_jwks("[]", STRICT, 2).is_err());
        assert!(parse_jwks("{\"keys\":{}}", STRICT, 2).is_err());
    }

    #[test]
    fn alg_must_fit_key_type() {
        let jwk = r#"{"kty":"OKP","crv":"Ed25519","alg":"HS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        assert!(parse_jwk(jwk, STRICT).is_err());
        let jwk = r#"{"kty":"OKP","crv":"Ed25519","alg":"none","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        assert!(parse_jwk(jwk, STRICT).is_err());
    }

    #[test]
    fn short_hmac_jwk_is_refused_and_long_one_narrowed() {
        let policy = JwkPolicy {
            allow_symmetric: true,
        };
        let short = r#"{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert!(parse_jwk(short, policy).is_err());
        let k32 = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let key = parse_jwk(&format!(r#"{{"kty":"oct","k":"{k32}"}}"#), policy).unwrap();
        assert_eq!(key.algorithms(), AlgSet::only(Algorithm::HS256));
    }
}
