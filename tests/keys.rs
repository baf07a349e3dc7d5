//! Static keys: every supported algorithm from PEM, DER, JWK and JWK Set,
//! selection by `kid`, algorithm confusion, and key build errors.

mod common;

use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jwt_layer::{JwtAuth, JwtAuthBuilder, Key, StaticKeys};
use serde_json::json;

use common::*;

/// A layer over the keys `add` puts in, with the default issuer/audience.
fn keyed(
    add: impl FnOnce(JwtAuthBuilder<TestClaims>) -> JwtAuthBuilder<TestClaims>,
) -> (Router, Hits) {
    let b = JwtAuth::<TestClaims>::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE);
    router(add(b).build().unwrap())
}

fn rsa_jwk(kid: Option<&str>, alg: Algorithm) -> String {
    jwk_json(
        &DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap(),
        alg,
        kid,
    )
}

fn ec256_jwk(kid: Option<&str>) -> String {
    jwk_json(
        &DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::ES256,
        kid,
    )
}

fn ec384_jwk(kid: Option<&str>) -> String {
    jwk_json(
        &DecodingKey::from_ec_pem(EC384_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::ES384,
        kid,
    )
}

fn ed_jwk(kid: Option<&str>) -> String {
    jwk_json(
        &DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::EdDSA,
        kid,
    )
}

fn oct_jwk(kid: &str, secret: &[u8]) -> String {
    json!({"kty": "oct", "kid": kid, "k": b64(secret)}).to_string()
}

// --- Each key type and algorithm ----------------------------------------------

#[tokio::test]
async fn hmac_secret_verifies_hs256_hs384_hs512() {
    let (app, hits) = keyed(|b| b.hmac_secret(SECRET));
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let t = token(alg, None, &hmac_signer());
        assert_eq!(assert_ok(&app, &hits, bearer(&t)).await, "alice", "{alg:?}");
    }
}

#[tokio::test]
async fn short_hmac_secret_verifies_only_the_hashes_it_covers() {
    let s32 = [7u8; 32];
    let s48 = [7u8; 48];
    let (app, hits) = keyed(|b| b.hmac_secret(s32));
    let signer = EncodingKey::from_secret(&s32);
    assert_ok(&app, &hits, bearer(&token(Algorithm::HS256, None, &signer))).await;
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let t = token(alg, None, &signer);
        assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
    }
    let (app, hits) = keyed(|b| b.hmac_secret(s48));
    let signer = EncodingKey::from_secret(&s48);
    assert_ok(&app, &hits, bearer(&token(Algorithm::HS384, None, &signer))).await;
    let t = token(Algorithm::HS512, None, &signer);
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

const RSA_ALGS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

#[tokio::test]
async fn rsa_pem_verifies_rs_and_ps_algorithms() {
    let (app, hits) = keyed(|b| b.rsa_pem(RSA_PUBLIC_PEM));
    for alg in RSA_ALGS {
        let t = token(alg, None, &rsa_signer());
        assert_eq!(assert_ok(&app, &hits, bearer(&t)).await, "alice", "{alg:?}");
    }
}

#[tokio::test]
async fn rsa_der_verifies_rs256_and_ps256() {
    let (app, hits) = keyed(|b| b.rsa_der(RSA_PUBLIC_DER));
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let t = token(alg, None, &rsa_signer());
        assert_ok(&app, &hits, bearer(&t)).await;
    }
}

#[tokio::test]
async fn rsa_signature_over_another_payload_is_invalid() {
    let (app, hits) = keyed(|b| b.rsa_pem(RSA_PUBLIC_PEM));
    let good = token(Algorithm::RS256, None, &rsa_signer());
    let sig = good.rsplit('.').next().unwrap();
    let other = sign(
        Algorithm::RS256,
        None,
        &claims_with(json!({"sub": "mallory"})),
        &rsa_signer(),
    );
    let (signing_input, _) = other.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{sig}");
    assert_invalid_token(&app, &hits, bearer(&forged), "invalid signature").await;
}

#[tokio::test]
async fn ec_p256_key_verifies_es256_from_pem_and_der() {
    for (app, hits) in [
        keyed(|b| b.ec_pem(EC256_PUBLIC_PEM)),
        keyed(|b| b.ec_der(EC256_PUBLIC_DER)),
    ] {
        let t = token(Algorithm::ES256, None, &ec256_signer());
        assert_ok(&app, &hits, bearer(&t)).await;
        // The curve fixes the algorithm.
        let t = token(Algorithm::ES384, None, &ec384_signer());
        assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
    }
}

#[tokio::test]
async fn ec_p384_key_verifies_es384() {
    let (app, hits) = keyed(|b| b.ec_pem(EC384_PUBLIC_PEM));
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::ES384, None, &ec384_signer())),
    )
    .await;
    let t = token(Algorithm::ES256, None, &ec256_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

#[tokio::test]
async fn ed25519_key_verifies_eddsa_from_pem_and_der() {
    for (app, hits) in [
        keyed(|b| b.ed_pem(ED_PUBLIC_PEM)),
        keyed(|b| b.ed_der(ED_PUBLIC_DER)),
    ] {
        assert_ok(
            &app,
            &hits,
            bearer(&token(Algorithm::EdDSA, None, &ed_signer())),
        )
        .await;
        let t = token(Algorithm::HS256, None, &hmac_signer());
        assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
    }
}

#[tokio::test]
async fn fully_specified_ed25519_alg_name_is_eddsa() {
    let (app, hits) = keyed(|b| b.ed_pem(ED_PUBLIC_PEM));
    let t = craft_signed(
        r#"{"alg":"Ed25519","typ":"JWT"}"#,
        &claims().to_string(),
        Algorithm::EdDSA,
        &ed_signer(),
    );
    assert_ok(&app, &hits, bearer(&t)).await;
}

// --- JWK and JWK Set ----------------------------------------------------------

#[tokio::test]
async fn jwk_of_each_type_verifies_its_algorithm() {
    let cases = [
        (
            rsa_jwk(None, Algorithm::RS256),
            Algorithm::RS256,
            rsa_signer(),
        ),
        (ec256_jwk(None), Algorithm::ES256, ec256_signer()),
        (ec384_jwk(None), Algorithm::ES384, ec384_signer()),
        (ed_jwk(None), Algorithm::EdDSA, ed_signer()),
        (oct_jwk("h", SECRET), Algorithm::HS512, hmac_signer()),
    ];
    for (jwk, alg, signer) in cases {
        let (app, hits) = keyed(|b| b.jwk(&jwk));
        let t = token(alg, None, &signer);
        assert_eq!(assert_ok(&app, &hits, bearer(&t)).await, "alice", "{alg:?}");
    }
}

#[tokio::test]
async fn jwk_alg_narrows_the_key_to_that_algorithm() {
    // An RSA JWK that says PS256: an RS256 token is refused.
    let (app, hits) = keyed(|b| b.jwk(&rsa_jwk(None, Algorithm::PS256)));
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::PS256, None, &rsa_signer())),
    )
    .await;
    let t = token(Algorithm::RS256, None, &rsa_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

#[tokio::test]
async fn jwks_json_picks_keys_by_kid() {
    let jwks = jwks_json(&[
        rsa_jwk(Some("rsa"), Algorithm::RS256),
        ec256_jwk(Some("p256")),
        ec384_jwk(Some("p384")),
        ed_jwk(Some("ed")),
        oct_jwk("hmac", SECRET),
    ]);
    let (app, hits) = keyed(|b| b.jwks_json(&jwks));
    let cases = [
        ("rsa", Algorithm::RS256, rsa_signer()),
        ("p256", Algorithm::ES256, ec256_signer()),
        ("p384", Algorithm::ES384, ec384_signer()),
        ("ed", Algorithm::EdDSA, ed_signer()),
        ("hmac", Algorithm::HS256, hmac_signer()),
    ];
    for (kid, alg, signer) in &cases {
        let t = token(*alg, Some(kid), signer);
        assert_eq!(assert_ok(&app, &hits, bearer(&t)).await, "alice", "{kid}");
    }
    // A token naming one key but fitting another is refused.
    let t = token(Algorithm::ES256, Some("rsa"), &ec256_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
    let t = token(Algorithm::ES256, Some("nope"), &ec256_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "unknown signing key").await;
}

#[tokio::test]
async fn jwks_json_skips_unusable_keys_and_keeps_the_rest() {
    let weak = jwk_json(
        &DecodingKey::from_rsa_pem(RSA1024_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
        Some("weak"),
    );
    let mut enc: serde_json::Value = serde_json::from_str(&ec256_jwk(Some("enc"))).unwrap();
    enc["use"] = json!("enc");
    let jwks = jwks_json(&[
        weak,
        enc.to_string(),
        r#"{"kty":"EC","crv":"P-521","x":"AA","y":"AA","kid":"p521"}"#.to_owned(),
        ed_jwk(Some("ed")),
    ]);
    let (app, hits) = keyed(|b| b.jwks_json(&jwks));
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::EdDSA, Some("ed"), &ed_signer())),
    )
    .await;
    // With the encryption key skipped, no key of the set verifies ES256.
    let t = token(Algorithm::ES256, Some("enc"), &ec256_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

#[tokio::test]
async fn static_keys_from_jwks_json_work_as_a_key_source() {
    let keys = StaticKeys::from_jwks_json(&jwks_json(&[ed_jwk(Some("ed")), oct_jwk("h", SECRET)]))
        .unwrap();
    let kids: Vec<_> = keys.keys().map(|k| k.kid().unwrap().to_owned()).collect();
    assert_eq!(kids, ["ed", "h"]);
    let (app, hits) = keyed(|b| b.key_source(keys));
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::EdDSA, Some("ed"), &ed_signer())),
    )
    .await;
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::HS256, Some("h"), &hmac_signer())),
    )
    .await;
}

// --- Selection by kid ---------------------------------------------------------

#[tokio::test]
async fn several_keys_are_picked_by_kid() {
    let (app, hits) = keyed(|b| {
        b.key(Key::hmac(SECRET).unwrap().with_kid("a"))
            .key(Key::hmac(OTHER_SECRET).unwrap().with_kid("b"))
            .key(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("r"))
    });
    let a = hmac_signer();
    let b = EncodingKey::from_secret(OTHER_SECRET);
    assert_ok(&app, &hits, bearer(&token(Algorithm::HS256, Some("a"), &a))).await;
    assert_ok(&app, &hits, bearer(&token(Algorithm::HS256, Some("b"), &b))).await;
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::RS256, Some("r"), &rsa_signer())),
    )
    .await;
    // Named key "a", signed with "b"'s secret.
    let t = token(Algorithm::HS256, Some("a"), &b);
    assert_invalid_token(&app, &hits, bearer(&t), "invalid signature").await;
    // Unknown kid, and no kid with two HMAC candidates (ambiguous).
    let t = token(Algorithm::HS256, Some("c"), &a);
    assert_invalid_token(&app, &hits, bearer(&t), "unknown signing key").await;
    let t = token(Algorithm::HS256, None, &a);
    assert_invalid_token(&app, &hits, bearer(&t), "unknown signing key").await;
    // No kid, but a single key fits the algorithm.
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::RS256, None, &rsa_signer())),
    )
    .await;
}

#[tokio::test]
async fn unknown_kid_falls_back_to_the_single_key_without_kid() {
    let (app, hits) = keyed(|b| {
        b.hmac_secret(SECRET)
            .key(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("r"))
    });
    let t = token(Algorithm::HS256, Some("whatever"), &hmac_signer());
    assert_ok(&app, &hits, bearer(&t)).await;
    // The fallback never picks a key that has a kid of its own.
    let t = token(Algorithm::RS256, Some("whatever"), &rsa_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

// --- Algorithm confusion ------------------------------------------------------

#[tokio::test]
async fn hs256_token_against_an_rsa_key_is_refused() {
    let (app, hits) = keyed(|b| b.rsa_pem(RSA_PUBLIC_PEM));
    // The classic attack: HMAC keyed with the public key's PEM text.
    for secret in [
        RSA_PUBLIC_PEM.as_bytes(),
        RSA_PUBLIC_PEM.trim_end().as_bytes(),
        RSA_PUBLIC_DER,
    ] {
        let t = token(Algorithm::HS256, None, &EncodingKey::from_secret(secret));
        assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
    }
    let (app, hits) = keyed(|b| b.jwk(&rsa_jwk(Some("r"), Algorithm::RS256)));
    let t = token(
        Algorithm::HS256,
        Some("r"),
        &EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes()),
    );
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

#[tokio::test]
async fn rs256_token_against_a_key_restricted_to_ps256_is_refused() {
    let key = Key::rsa_pem(RSA_PUBLIC_PEM)
        .unwrap()
        .restrict([Algorithm::PS256])
        .unwrap();
    let (app, hits) = keyed(|b| b.key(key));
    let t = token(Algorithm::RS256, None, &rsa_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::PS256, None, &rsa_signer())),
    )
    .await;
}

#[tokio::test]
async fn es256_token_against_an_eddsa_key_is_refused() {
    let (app, hits) = keyed(|b| b.ed_pem(ED_PUBLIC_PEM));
    let t = token(Algorithm::ES256, None, &ec256_signer());
    assert_invalid_token(&app, &hits, bearer(&t), "algorithm not allowed").await;
}

#[test]
fn restricting_a_key_to_none_of_its_algorithms_is_an_error() {
    assert!(
        Key::rsa_pem(RSA_PUBLIC_PEM)
            .unwrap()
            .restrict([Algorithm::HS256, Algorithm::ES256])
            .is_err()
    );
    assert!(Key::hmac(SECRET).unwrap().restrict([]).is_err());
    let k = Key::hmac(SECRET)
        .unwrap()
        .restrict([Algorithm::HS512, Algorithm::RS256])
        .unwrap();
    assert!(k.allows(Algorithm::HS512));
    assert!(!k.allows(Algorithm::HS256));
    assert!(!k.allows(Algorithm::RS256));
}

#[test]
fn key_debug_output_never_shows_key_material() {
    let key = Key::hmac(SECRET).unwrap().with_kid("k1");
    let debug = format!("{key:?}");
    assert!(debug.contains("k1"), "{debug}");
    assert!(!debug.contains("sixty-four"), "{debug}");
    let auth = builder().build().unwrap();
    let debug = format!("{auth:?}");
    assert!(!debug.contains("sixty-four"), "{debug}");
}

// --- Key build errors ---------------------------------------------------------

fn build_with(
    add: impl FnOnce(JwtAuthBuilder<TestClaims>) -> JwtAuthBuilder<TestClaims>,
) -> Result<(), jwt_layer::BuildError> {
    add(JwtAuth::<TestClaims>::builder().issuer(ISSUER))
        .build()
        .map(drop)
}

#[test]
fn hmac_secret_under_32_bytes_is_a_build_error() {
    assert!(build_with(|b| b.hmac_secret([1u8; 31])).is_err());
    assert!(build_with(|b| b.hmac_secret(b"")).is_err());
    assert!(build_with(|b| b.hmac_secret(b"secret")).is_err());
    assert!(build_with(|b| b.hmac_secret([1u8; 32])).is_ok());
    let short_jwk = oct_jwk("h", &[1u8; 31]);
    assert!(build_with(|b| b.jwk(&short_jwk)).is_err());
}

#[test]
fn public_key_pem_as_hmac_secret_is_a_build_error() {
    for pem in [RSA_PUBLIC_PEM, EC256_PUBLIC_PEM, ED_PUBLIC_PEM] {
        assert!(pem.ends_with('\n'));
        assert!(build_with(|b| b.hmac_secret(pem)).is_err(), "{pem}");
        assert!(
            build_with(|b| b.hmac_secret(pem.trim_end())).is_err(),
            "{pem}"
        );
        let indented = format!("\n  {pem}");
        assert!(build_with(|b| b.hmac_secret(&indented)).is_err(), "{pem}");
    }
    // Private keys are no secrets either.
    assert!(build_with(|b| b.hmac_secret(RSA_PRIVATE_PEM)).is_err());
}

#[test]
fn public_key_der_as_hmac_secret_is_a_build_error() {
    assert!(build_with(|b| b.hmac_secret(RSA_PUBLIC_DER)).is_err());
    assert!(build_with(|b| b.hmac_secret(EC256_PUBLIC_DER)).is_err());
    assert!(build_with(|b| b.hmac_secret(ED_PUBLIC_DER)).is_err());
}

#[test]
fn jwk_text_as_hmac_secret_is_a_build_error() {
    for jwk in [
        rsa_jwk(Some("r"), Algorithm::RS256),
        ed_jwk(None),
        oct_jwk("h", SECRET),
    ] {
        assert!(build_with(|b| b.hmac_secret(&jwk)).is_err(), "{jwk}");
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&jwk).unwrap())
                .unwrap();
        assert!(build_with(|b| b.hmac_secret(&pretty)).is_err(), "{pretty}");
    }
}

#[test]
fn rsa_key_under_2048_bits_is_a_build_error() {
    assert!(build_with(|b| b.rsa_pem(RSA1024_PUBLIC_PEM)).is_err());
    let weak = jwk_json(
        &DecodingKey::from_rsa_pem(RSA1024_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
        None,
    );
    assert!(build_with(|b| b.jwk(&weak)).is_err());
    assert!(build_with(|b| b.jwks_json(&jwks_json(&[weak]))).is_err());
    assert!(build_with(|b| b.rsa_pem(RSA_PUBLIC_PEM)).is_ok());
}

#[test]
fn key_of_the_wrong_kind_is_a_build_error() {
    assert!(build_with(|b| b.rsa_pem(EC256_PUBLIC_PEM)).is_err());
    assert!(build_with(|b| b.rsa_der(EC256_PUBLIC_DER)).is_err());
    assert!(build_with(|b| b.ec_pem(RSA_PUBLIC_PEM)).is_err());
    assert!(build_with(|b| b.ec_pem(ED_PUBLIC_PEM)).is_err());
    assert!(build_with(|b| b.ec_der(ED_PUBLIC_DER)).is_err());
    assert!(build_with(|b| b.ed_pem(EC256_PUBLIC_PEM)).is_err());
    assert!(build_with(|b| b.ed_der(RSA_PUBLIC_DER)).is_err());
    assert!(build_with(|b| b.rsa_pem("not a key")).is_err());
    assert!(build_with(|b| b.rsa_der(b"\x30\x00")).is_err());
}

#[test]
fn unusable_jwk_is_a_build_error() {
    let mut enc: serde_json::Value = serde_json::from_str(&ed_jwk(None)).unwrap();
    enc["use"] = json!("enc");
    let mut wrong_alg: serde_json::Value = serde_json::from_str(&ed_jwk(None)).unwrap();
    wrong_alg["alg"] = json!("RS256");
    for jwk in [
        enc.to_string(),
        wrong_alg.to_string(),
        "{}".to_owned(),
        "[]".to_owned(),
        "not json".to_owned(),
        r#"{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}"#.to_owned(),
    ] {
        assert!(build_with(|b| b.jwk(&jwk)).is_err(), "{jwk}");
    }
    for jwks in [
        r#"{"keys":[]}"#.to_owned(),
        jwks_json(&[enc.to_string()]),
        "[]".to_owned(),
        r#"{"keys":{}}"#.to_owned(),
    ] {
        assert!(build_with(|b| b.jwks_json(&jwks)).is_err(), "{jwks}");
    }
}

#[test]
fn duplicate_kid_is_a_build_error() {
    assert!(
        build_with(|b| b
            .key(Key::hmac(SECRET).unwrap().with_kid("k"))
            .key(Key::hmac(OTHER_SECRET).unwrap().with_kid("k")))
        .is_err()
    );
    assert!(
        build_with(|b| b
            .jwk(&ed_jwk(Some("k")))
            .key(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("k")))
        .is_err()
    );
    assert!(
        build_with(|b| b.jwks_json(&jwks_json(&[ed_jwk(Some("k")), ec256_jwk(Some("k"))])))
            .is_err()
    );
    assert!(
        StaticKeys::from_jwks_json(&jwks_json(&[ed_jwk(Some("k")), ed_jwk(Some("k"))])).is_err()
    );
    // Distinct kids, and keys without kid, are fine.
    assert!(
        build_with(|b| b
            .jwk(&ed_jwk(Some("k1")))
            .jwk(&ec256_jwk(Some("k2")))
            .hmac_secret(SECRET))
        .is_ok()
    );
}

#[test]
fn one_bad_key_fails_the_whole_build() {
    assert!(
        build_with(|b| b
            .hmac_secret(SECRET)
            .rsa_pem(RSA1024_PUBLIC_PEM)
            .ed_pem(ED_PUBLIC_PEM))
        .is_err()
    );
}

#[test]
fn pem_with_leading_text_as_hmac_secret_is_a_build_error() {
    let with_bom = format!("\u{feff}{RSA_PUBLIC_PEM}");
    let with_preamble = format!("subject=CN = auth.example\n{RSA_PUBLIC_PEM}");
    for text in [with_bom, with_preamble] {
        // The crate itself reads these texts as an RSA public key...
        assert!(Key::rsa_pem(&text).is_ok(), "{text:?}");
        // ...so they must not be accepted as an HMAC secret.
        assert!(build_with(|b| b.hmac_secret(&text)).is_err(), "{text:?}");
    }
}

#[test]
fn pkcs1_der_public_key_as_hmac_secret_is_a_build_error() {
    // The RSAPublicKey inside the SPKI fixture (after its 24-byte prefix).
    let pkcs1 = &RSA_PUBLIC_DER[24..];
    assert_eq!(&pkcs1[..2], [0x30, 0x82]);
    assert!(Key::rsa_der(pkcs1).is_ok());
    assert!(build_with(|b| b.hmac_secret(pkcs1)).is_err());
}
