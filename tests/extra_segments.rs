//! Tokens of four or five segments (JWE-shaped ones included) are
//! malformed, before and after their header is remembered, with one key
//! set or keys by issuer.

mod common;

use jwt_layer::{AuthErrorKind, JwtAuth, Key, StaticKeys};

use common::*;

/// Tokens of more than three segments built from the parts of `good` and
/// `second`, including one whose signature is valid over everything before
/// the last dot.
fn more_than_three_segments(good: &str, second: &str) -> Vec<String> {
    let (h, p, s) = segments(good);
    let (_, p2, s2) = segments(second);
    let jwe_header = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    let jwe_with_known_alg = b64(r#"{"alg":"HS256","typ":"JWT","enc":"A256GCM"}"#);
    vec![
        format!("{h}.{p}.{p}.{s}"),
        format!("{h}.{p}.{p2}.{s}"),
        format!("{h}.{h}.{p}.{s}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s2}"),
        format!("{h}.{p}.{s}."),
        format!("{h}..{p}.{s}"),
        format!("{h}.{p}..{s}"),
        format!("{h}.{p}.AAAA.{s}"),
        format!("{h}.{p}.{p2}.{s2}.{s}"),
        format!("{h}.{p}.{s}.{p}.{s}"),
        // JWE compact serialization: header, key, IV, ciphertext, tag.
        format!("{jwe_header}.{p}.AAAAAAAAAAAAAAAA.{p2}.{s}"),
        format!("{jwe_header}..AAAAAAAAAAAAAAAA.{p2}.{s}"),
        format!("{jwe_with_known_alg}.{p}.AAAAAAAAAAAAAAAA.{p2}.{s}"),
        format!("{h}.{p}.AAAAAAAAAAAAAAAA.{p2}.{s}"),
        // A 4-segment token whose signature is valid over everything
        // before the last dot.
        sign_input(&format!("{h}.{p}.{p2}")),
    ]
}

#[tokio::test]
async fn four_and_five_segment_tokens_are_malformed_before_and_after_the_header_is_known() {
    let single = builder().build().unwrap();
    let by_issuer = JwtAuth::<TestClaims>::builder()
        .issuer_keys(
            ISSUER,
            StaticKeys::new([Key::hmac(SECRET).unwrap()]).unwrap(),
        )
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let good = valid_token();
    let second = hs256(&claims_for_sub("bob"));
    let all = more_than_three_segments(&good, &second);
    for auth in [&single, &by_issuer] {
        let v = auth.verifier();
        // Fresh: nothing remembered yet.
        for token in &all {
            assert_eq!(
                outcome(v, token).await,
                Err(AuthErrorKind::MalformedToken),
                "fresh: {token}"
            );
        }
        // Remember the header, then again.
        for _ in 0..2 {
            assert_eq!(v.verify(&good).await.unwrap().sub, "alice");
        }
        for round in 0..2 {
            for token in &all {
                assert_eq!(
                    outcome(v, token).await,
                    Err(AuthErrorKind::MalformedToken),
                    "remembered header, round {round}: {token}"
                );
            }
        }
        assert_eq!(v.verify(&second).await.unwrap().sub, "bob");
    }
}
