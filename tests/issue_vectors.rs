//! The signing side against the RFC vectors in `tests/data/vectors.json`:
//! deterministic signatures must match byte for byte, thumbprints exactly.
#![cfg(feature = "issue")]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_layer::Algorithm;
use jwt_layer::issue::{SigningKey, jwk_thumbprint};
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/vectors.json"
));

/// The vector whose name starts with `name`.
fn vector(name: &str) -> Value {
    let all: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
    all.into_iter()
        .find(|v| v["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn jwk(v: &Value) -> String {
    v["jwk"].to_string()
}

/// Re-signs the vector's signing input and compares with its signature.
fn resign(name: &str, alg: Algorithm) -> SigningKey {
    let v = vector(name);
    let key = SigningKey::from_jwk(&jwk(&v)).unwrap();
    assert_eq!(key.algorithm(), alg, "{name}");
    let token = v["token"].as_str().unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let expected = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(key.sign(input.as_bytes()).unwrap(), expected, "{name}");
    key
}

#[test]
fn rfc8037_a4_ed25519_signature_is_reproduced_exactly() {
    let v = vector("RFC 8037 Appendix A.4");
    assert!(
        v["notes"]
            .as_str()
            .unwrap()
            .contains("reproduce this signature exactly")
    );
    let key = resign("RFC 8037 Appendix A.4", Algorithm::EdDSA);
    // Same key as A.3, so the default kid is the A.3 thumbprint.
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn rfc7520_4_4_hmac_is_reproduced_exactly_with_the_jwk_kid() {
    let v = vector("RFC 7520 section 4.4");
    assert!(
        v["notes"]
            .as_str()
            .unwrap()
            .contains("s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0")
    );
    let key = resign("RFC 7520 section 4.4", Algorithm::HS256);
    assert_eq!(key.kid(), "018c0ae5-4d9b-471b-bfd6-eef314bc7037");
    assert!(
        key.clone().with_algorithm(Algorithm::HS512).is_err(),
        "alg pinned"
    );
}

#[test]
fn rfc7515_deterministic_signatures_are_reproduced() {
    // HMAC and RSASSA-PKCS1-v1_5 are deterministic too. A.1's header has
    // no `alg` in the key, so its 64-byte secret defaults to HS256.
    resign("RFC 7515 Appendix A.1", Algorithm::HS256);
    resign("RFC 7515 Appendix A.2", Algorithm::RS256);
}

#[test]
fn rfc7515_a3_ec_key_loads_with_its_own_public_key() {
    let v = vector("RFC 7515 Appendix A.3");
    let key = SigningKey::from_jwk(&jwk(&v)).unwrap();
    assert_eq!(key.algorithm(), Algorithm::ES256);
    let public: Value = serde_json::from_str(&key.public_jwk().unwrap().to_json()).unwrap();
    assert_eq!(public["x"], v["jwk"]["x"]);
    assert_eq!(public["y"], v["jwk"]["y"]);
    // ECDSA is randomized: only the shape can be compared here (the layer
    // round trips in tests/issue.rs check that it verifies).
    assert_eq!(key.sign(b"input").unwrap().len(), 64);
}

#[test]
fn thumbprints_match_rfc7638_and_rfc8037() {
    let v = vector("RFC 7638 section 3.1");
    assert!(
        v["notes"]
            .as_str()
            .unwrap()
            .contains("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
    assert_eq!(
        jwk_thumbprint(&jwk(&v)).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );

    let v = vector("RFC 8037 Appendix A.3");
    assert!(
        v["notes"]
            .as_str()
            .unwrap()
            .contains("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    );
    assert_eq!(
        jwk_thumbprint(&jwk(&v)).unwrap(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );

    // A loaded private key's thumbprint is that of its public half, and
    // the RFC 7515 A.2 key's agrees with the standalone function.
    let v = vector("RFC 7515 Appendix A.2");
    let key = SigningKey::from_jwk(&jwk(&v)).unwrap();
    assert_eq!(key.thumbprint(), jwk_thumbprint(&jwk(&v)).unwrap());
    assert_eq!(
        key.thumbprint(),
        jwk_thumbprint(&key.public_jwk().unwrap().to_json()).unwrap()
    );
}

#[test]
fn keys_the_vectors_name_but_we_cannot_sign_with_are_refused() {
    // ES512 (P-521) is not supported by jsonwebtoken: a clean error, no panic.
    let v = vector("RFC 7515 Appendix A.4");
    assert!(SigningKey::from_jwk(&jwk(&v)).is_err());
    // Public-only JWKs cannot sign.
    let v = vector("RFC 7520 section 4.1");
    assert!(SigningKey::from_jwk(&jwk(&v)).is_err());
}
