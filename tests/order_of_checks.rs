//! Order of checks: the signature is checked before the payload is read
//! (ARCHITECTURE.md, "The path of one request"), with one issuer and with several; with several issuers only
//! `iss` is read, strictly, before the key lookup.

mod common;

use jwt_layer::{AuthErrorKind, JwtAuth, Key, StaticKeys};
use serde_json::json;

use common::*;

/// Issuer 1 (key 1, audience `api-1`) and issuer 2 (key 2, audience
/// `api-2`), token cache off.
fn two_issuers() -> JwtAuth<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .issuer_keys(
            ISS_1,
            StaticKeys::new([Key::hmac(numbered_secret(1)).unwrap()]).unwrap(),
        )
        .issuer_audience(ISS_1, "api-1")
        .issuer_keys(
            ISS_2,
            StaticKeys::new([Key::hmac(numbered_secret(2)).unwrap()]).unwrap(),
        )
        .issuer_audience(ISS_2, "api-2")
        .token_cache(false)
        .build()
        .unwrap()
}

/// The signature is checked before the payload is read: a token with
/// ill-typed claims and a bad signature is refused for its signature, with
/// one issuer and with several alike; with a good signature the claims
/// decide.
#[tokio::test]
async fn the_signature_is_checked_before_the_claims_with_one_issuer_or_several() {
    let single = JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(numbered_secret(1)).unwrap())
        .issuer(ISS_1)
        .audience("api-1")
        .token_cache(false)
        .build()
        .unwrap();
    let several = two_issuers();
    let bad_claims = claims_with(json!({"iss": ISS_1, "aud": "api-1", "exp": "soon"}));
    for auth in [&single, &several] {
        let v = auth.verifier();
        let forged = hs256_with(&numbered_secret(9), None, &bad_claims);
        assert_eq!(
            outcome(v, &forged).await,
            Err(AuthErrorKind::InvalidSignature)
        );
        let signed = hs256_with(&numbered_secret(1), None, &bad_claims);
        assert_eq!(outcome(v, &signed).await, Err(AuthErrorKind::InvalidClaims));
        let good = hs256_with(
            &numbered_secret(1),
            None,
            &claims_with(json!({"iss": ISS_1, "aud": "api-1"})),
        );
        assert_eq!(outcome(v, &good).await, Ok(()));
    }
}

/// Routing reads `iss` strictly and alone: an ill-typed or duplicate `iss`
/// is refused before any key is looked up, an unknown one too.
#[tokio::test]
async fn with_several_issuers_only_iss_is_read_before_the_key_lookup() {
    let several = two_issuers();
    let v = several.verifier();
    let forged = |payload: &str| {
        let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(payload));
        format!("{input}.{}", b64([0u8; 32]))
    };
    let exp = now() + 600;
    let cases = [
        (
            format!(r#"{{"iss":5,"aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidClaims,
        ),
        (
            format!(r#"{{"iss":"{ISS_1}","iss":"{ISS_2}","aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidClaims,
        ),
        (
            format!(r#"{{"iss":"https://else.example","aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidIssuer,
        ),
        (
            format!(r#"{{"aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidIssuer,
        ),
        (
            format!(r#"{{"iss":"{ISS_1}","aud":"api-1","exp":"soon"}}"#),
            AuthErrorKind::InvalidSignature,
        ),
    ];
    for (payload, want) in cases {
        assert_eq!(outcome(v, &forged(&payload)).await, Err(want), "{payload}");
    }
}
