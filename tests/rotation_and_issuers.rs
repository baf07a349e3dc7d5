//! Key rotation and multiple issuers on the verification hot path: two
//! kids interleaved and keys signing under each other's header, more kids
//! than the verifier remembers headers for, and issuer routing when a
//! header was remembered from the other issuer.

mod common;

use jsonwebtoken::Algorithm;
use jwt_layer::{AuthErrorKind, JwtAuth, Key, StaticKeys};
use serde_json::{Value, json};

use common::*;

/// Forgeries between an EdDSA token `ed` and an ES256 token `ec`: each
/// key's signature under the other's exact header bytes, and each header
/// spliced onto the other's payload and signature.
fn forged_between(ed: &str, ec: &str) -> [String; 4] {
    // Key A's signature under key B's exact header bytes, both ways.
    let ed_under_ec_header = craft_signed(
        &header_text(ec),
        &payload_text(ed),
        Algorithm::EdDSA,
        &ed_signer(),
    );
    let ec_under_ed_header = craft_signed(
        &header_text(ed),
        &payload_text(ec),
        Algorithm::ES256,
        &ec256_signer(),
    );
    assert_eq!(segments(&ed_under_ec_header).0, segments(ec).0);
    assert_eq!(segments(&ec_under_ed_header).0, segments(ed).0);
    // Spliced: one token's header on the other's payload and signature.
    let (ed_h, ed_p, ed_s) = segments(ed);
    let (ec_h, ec_p, ec_s) = segments(ec);
    let spliced_ed = format!("{ec_h}.{ed_p}.{ed_s}");
    let spliced_ec = format!("{ed_h}.{ec_p}.{ec_s}");
    [
        ed_under_ec_header,
        ec_under_ed_header,
        spliced_ed,
        spliced_ec,
    ]
}

#[tokio::test]
async fn two_kids_interleaved_and_key_a_signing_under_key_bs_header() {
    let jwks = jwks_json(&[ed_jwk("ed-1"), ec_jwk("ec-1")]);
    let make = |cache: bool| {
        JwtAuth::<TestClaims>::builder()
            .jwks_json(&jwks)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .token_cache(cache)
            .build()
            .unwrap()
    };
    let ed_claims = claims_for_sub("ed-user");
    let ec_claims = claims_for_sub("ec-user");
    let ed = sign(Algorithm::EdDSA, Some("ed-1"), &ed_claims, &ed_signer());
    let ec = sign(Algorithm::ES256, Some("ec-1"), &ec_claims, &ec256_signer());

    let forged = forged_between(&ed, &ec);

    for cache in [false, true] {
        let fresh_kinds = {
            let mut kinds = Vec::new();
            for token in &forged {
                kinds.push(outcome(make(cache).verifier(), token).await);
            }
            kinds
        };
        for kind in &fresh_kinds {
            assert_eq!(*kind, Err(AuthErrorKind::InvalidSignature));
        }
        let auth = make(cache);
        let v = auth.verifier();
        for round in 0..8 {
            assert_eq!(v.verify(&ed).await.unwrap().sub, "ed-user", "round {round}");
            assert_eq!(v.verify(&ec).await.unwrap().sub, "ec-user", "round {round}");
            for (token, fresh) in forged.iter().zip(&fresh_kinds) {
                assert_eq!(
                    outcome(v, token).await,
                    *fresh,
                    "forged token, round {round}, cache {cache}"
                );
            }
        }
    }
}

/// The number of kids in the rotation test: more than the verifier
/// remembers headers for.
const N: usize = 10;

fn kid(i: usize) -> String {
    format!("kid-{i}")
}

/// A layer with [`N`] HMAC keys, `kid-0` to `kid-9`.
fn ten_kids(cache: bool) -> JwtAuth<TestClaims> {
    let mut b = JwtAuth::<TestClaims>::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(cache);
    for i in 0..N {
        b = b.key(Key::hmac(numbered_secret(i)).unwrap().with_kid(kid(i)));
    }
    b.build().unwrap()
}

/// Token i for `user-i` under kid i; key i+1's signature under key i's
/// header; and key i's header spliced onto token i+1.
fn ten_kid_tokens() -> (Vec<String>, Vec<String>, Vec<String>) {
    let tokens: Vec<String> = (0..N)
        .map(|i| {
            hs256_with(
                &numbered_secret(i),
                Some(&kid(i)),
                &claims_for_sub(&format!("user-{i}")),
            )
        })
        .collect();
    let wrong_key: Vec<String> = (0..N)
        .map(|i| {
            hs256_with(
                &numbered_secret((i + 1) % N),
                Some(&kid(i)),
                &claims_for_sub(&format!("user-{i}")),
            )
        })
        .collect();
    let spliced: Vec<String> = (0..N)
        .map(|i| {
            let (h, _, _) = segments(&tokens[i]);
            let (_, p, s) = segments(&tokens[(i + 1) % N]);
            format!("{h}.{p}.{s}")
        })
        .collect();
    (tokens, wrong_key, spliced)
}

#[tokio::test]
async fn ten_kids_more_than_the_remembered_headers_all_keep_verifying() {
    let (tokens, wrong_key, spliced) = ten_kid_tokens();
    for token in wrong_key.iter().chain(&spliced) {
        assert_eq!(
            outcome(ten_kids(false).verifier(), token).await,
            Err(AuthErrorKind::InvalidSignature),
            "fresh verifier"
        );
    }

    for cache in [false, true] {
        let auth = ten_kids(cache);
        let v = auth.verifier();
        // Forward, backward, and by a stride of 3: with ten headers and room
        // for eight, remembered entries keep being evicted and re-added.
        let orders: [Vec<usize>; 3] = [
            (0..N).collect(),
            (0..N).rev().collect(),
            (0..N).map(|i| (i * 3) % N).collect(),
        ];
        for round in 0..3 {
            for order in &orders {
                for &i in order {
                    let claims = v.verify(&tokens[i]).await.unwrap();
                    assert_eq!(claims.sub, format!("user-{i}"), "round {round}");
                    assert_eq!(
                        outcome(v, &wrong_key[i]).await,
                        Err(AuthErrorKind::InvalidSignature),
                        "key {} under kid {i}, round {round}, cache {cache}",
                        (i + 1) % N
                    );
                    assert_eq!(
                        outcome(v, &spliced[i]).await,
                        Err(AuthErrorKind::InvalidSignature),
                        "spliced kid {i}, round {round}, cache {cache}"
                    );
                }
            }
        }
        // A kid nobody has, under a header never seen.
        let stranger = hs256_with(&numbered_secret(0), Some("kid-99"), &claims());
        assert_eq!(outcome(v, &stranger).await, Err(AuthErrorKind::UnknownKey));
    }
}

/// Issuers 1 and 2 both name their key `shared`; issuer 1 also has a key
/// without a kid (so a token naming an unknown kid falls back to it), issuer
/// 2 a key `two-only`. Token cache off.
fn two_issuers_sharing_a_kid() -> JwtAuth<TestClaims> {
    let one = StaticKeys::new([
        Key::hmac(numbered_secret(1)).unwrap().with_kid("shared"),
        Key::hmac(numbered_secret(11)).unwrap(),
    ])
    .unwrap();
    let two = StaticKeys::new([
        Key::hmac(numbered_secret(2)).unwrap().with_kid("shared"),
        Key::hmac(numbered_secret(22)).unwrap().with_kid("two-only"),
    ])
    .unwrap();
    JwtAuth::<TestClaims>::builder()
        .issuer_keys(ISS_1, one)
        .issuer_audience(ISS_1, "api-1")
        .issuer_keys(ISS_2, two)
        .issuer_audience(ISS_2, "api-2")
        .token_cache(false)
        .build()
        .unwrap()
}

fn for_iss(iss: &str, aud: &str, sub: &str) -> Value {
    claims_with(json!({"iss": iss, "aud": aud, "sub": sub}))
}

/// Tokens for issuer 1 (and forgeries across the issuers) under header
/// bytes issuer 2's tokens use, each with the outcome it must get.
fn cross_issuer_cases(
    one_shared: &str,
    one_under_two_only: &str,
) -> Vec<(&'static str, String, Outcome)> {
    let s1 = numbered_secret(1);
    let s2 = numbered_secret(2);
    vec![
        ("issuer 1, its own key", one_shared.to_owned(), Ok(())),
        (
            "issuer 1, kid only issuer 2 has: issuer 1's kidless key",
            one_under_two_only.to_owned(),
            Ok(()),
        ),
        (
            "issuer 1's claims signed by issuer 2's key",
            hs256_with(&s2, Some("shared"), &for_iss(ISS_1, "api-1", "one")),
            Err(AuthErrorKind::InvalidSignature),
        ),
        (
            "issuer 1's claims signed by issuer 2's kid-only key",
            hs256_with(
                &numbered_secret(22),
                Some("two-only"),
                &for_iss(ISS_1, "api-1", "one"),
            ),
            Err(AuthErrorKind::InvalidSignature),
        ),
        (
            "issuer 2's claims signed by issuer 1's key",
            hs256_with(&s1, Some("shared"), &for_iss(ISS_2, "api-2", "two")),
            Err(AuthErrorKind::InvalidSignature),
        ),
        (
            "issuer 1 with issuer 2's audience",
            hs256_with(&s1, Some("shared"), &for_iss(ISS_1, "api-2", "one")),
            Err(AuthErrorKind::InvalidAudience),
        ),
        (
            "unknown issuer",
            hs256_with(
                &s1,
                Some("shared"),
                &for_iss("https://three.example", "api-1", "x"),
            ),
            Err(AuthErrorKind::InvalidIssuer),
        ),
        (
            "issuer 1 expired",
            hs256_with(
                &s1,
                Some("shared"),
                &claims_with(json!({"iss": ISS_1, "aud": "api-1", "exp": now() - 3600})),
            ),
            Err(AuthErrorKind::Expired),
        ),
    ]
}

#[tokio::test]
async fn issuer_routing_with_a_header_remembered_from_the_other_issuer() {
    let auth = two_issuers_sharing_a_kid();
    let v = auth.verifier();

    // Issuer 2's headers are remembered first.
    let two_shared = hs256_with(
        &numbered_secret(2),
        Some("shared"),
        &for_iss(ISS_2, "api-2", "two"),
    );
    let two_only = hs256_with(
        &numbered_secret(22),
        Some("two-only"),
        &for_iss(ISS_2, "api-2", "two"),
    );
    for _ in 0..2 {
        assert_eq!(v.verify(&two_shared).await.unwrap().sub, "two");
        assert_eq!(v.verify(&two_only).await.unwrap().sub, "two");
    }

    // Issuer 1 under those exact header bytes.
    let one_shared = hs256_with(
        &numbered_secret(1),
        Some("shared"),
        &for_iss(ISS_1, "api-1", "one"),
    );
    assert_eq!(segments(&one_shared).0, segments(&two_shared).0);
    let one_under_two_only = hs256_with(
        &numbered_secret(11),
        Some("two-only"),
        &for_iss(ISS_1, "api-1", "one"),
    );
    assert_eq!(segments(&one_under_two_only).0, segments(&two_only).0);

    let cases = cross_issuer_cases(&one_shared, &one_under_two_only);
    for round in 0..3 {
        for (what, token, want) in &cases {
            assert_eq!(
                outcome(two_issuers_sharing_a_kid().verifier(), token).await,
                *want,
                "{what}: fresh"
            );
            assert_eq!(outcome(v, token).await, *want, "{what}: round {round}");
        }
        assert_eq!(v.verify(&two_shared).await.unwrap().sub, "two");
    }
    assert_eq!(v.verify(&one_shared).await.unwrap().sub, "one");
}
