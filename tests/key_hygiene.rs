//! Keys that must never verify, keys other software writes that must, and
//! what a key set's change does to tokens already verified: each case over
//! real loopback HTTP with the test kit's key server, through the layer.
#![cfg(feature = "test-util")]

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jwt_layer::keys::RemoteJwks;
use jwt_layer::testing::Behavior;
use jwt_layer::{JwtAuth, Key};
use serde_json::{Value, json};

fn payload() -> String {
    claims().to_string()
}

/// An EdDSA token whose signature is R = the identity point, S = 0: it
/// verifies under RFC 8032's arithmetic for a small-order public key.
fn forged_eddsa(kid: &str) -> String {
    let header = format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#);
    let mut signature = [0u8; 64];
    signature[0] = 1;
    format!("{}.{}.{}", b64(header), b64(payload()), b64(signature))
}

/// The eight small-order Ed25519 points, encoded (dalek's torsion table).
fn small_order_points() -> Vec<[u8; 32]> {
    curve25519_dalek::constants::EIGHT_TORSION
        .iter()
        .map(|p| p.compress().to_bytes())
        .collect()
}

#[tokio::test]
async fn small_order_ed25519_keys_are_skipped_so_forged_tokens_fail() {
    let points = small_order_points();
    assert_eq!(points[0][0], 1, "the identity comes first");
    let jwks = jwks_json(
        &points
            .iter()
            .enumerate()
            .map(|(i, x)| {
                format!(
                    r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"small-{i}"}}"#,
                    b64(x)
                )
            })
            .chain([ed_jwk("good")])
            .collect::<Vec<_>>(),
    );
    let server = server_with(jwks).await;
    let (app, hits) = app_for(remote_with_timeout(&server).build().unwrap());
    // The set's good key still works.
    let good = sign(Algorithm::EdDSA, Some("good"), &claims(), &ed_signer());
    assert_ok(&app, &hits, bearer(&good)).await;
    // The identity key is not in the set: the forged token names an
    // unknown key instead of verifying.
    for i in 0..points.len() {
        let forged = forged_eddsa(&format!("small-{i}"));
        assert_invalid_token(&app, &hits, bearer(&forged), "unknown signing key").await;
    }
    // As a static key, a small-order point is a build error, in its
    // canonical encoding and in the others: the identity with the sign bit
    // set, and y = p and y = p + 1 (0 and 1 again, unreduced).
    let mut unreduced = [[0xffu8; 32]; 3];
    unreduced[0] = [0; 32];
    unreduced[0][0] = 1;
    unreduced[0][31] = 0x80;
    for (x, low) in unreduced[1..].iter_mut().zip([0xed, 0xee]) {
        x[0] = low;
        x[31] = 0x7f;
    }
    for x in points.iter().chain(&unreduced) {
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(x));
        assert!(Key::from_jwk(&jwk).is_err());
        let mut spki = hex("302a300506032b6570032100");
        spki.extend_from_slice(x);
        assert!(Key::ed_der(&spki).is_err());
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn rsa_public_exponent_one_is_refused_by_the_crate_itself() {
    let rsa: Value = serde_json::from_str(&rsa_jwk("rsa")).unwrap();
    let n = rsa["n"].as_str().unwrap();
    let e1 = format!(r#"{{"kty":"RSA","n":"{n}","e":"AQ","kid":"e1"}}"#);
    assert!(Key::from_jwk(&e1).is_err(), "e = 1 is refused");
    let e3 = format!(r#"{{"kty":"RSA","n":"{n}","e":"Aw","kid":"e3"}}"#);
    assert!(Key::from_jwk(&e3).is_ok(), "e = 3 is accepted");
    // With e = 1 a signature is the padded digest itself: anyone can make
    // one. Served in a key set, the key is skipped.
    let server = server_with(jwks_json(&[e1, rsa_jwk("rsa")])).await;
    let (app, hits) = app_for(remote_with_timeout(&server).build().unwrap());
    let header = r#"{"alg":"RS256","kid":"e1"}"#;
    let forged = format!("{}.{}.{}", b64(header), b64(payload()), b64([1u8; 256]));
    assert_invalid_token(&app, &hits, bearer(&forged), "unknown signing key").await;
    let good = sign(Algorithm::RS256, Some("rsa"), &claims(), &rsa_signer());
    assert_ok(&app, &hits, bearer(&good)).await;
}

/// A P-256 key whose `x` starts with a zero byte (1 key in 256; found once
/// with `openssl genpkey`, see `tests/data/README.md`).
const SHORT_X_PRIVATE_PEM: &[u8] = include_bytes!("data/ec256-short-x-private.pk8.pem");
const SHORT_X_PUBLIC_PEM: &[u8] = include_bytes!("data/ec256-short-x-public.pem");

#[tokio::test]
async fn ec_coordinates_shorter_than_the_field_are_left_padded() {
    let public = DecodingKey::from_ec_pem(SHORT_X_PUBLIC_PEM).unwrap();
    let mut jwk: Value =
        serde_json::from_str(&jwk_json(&public, Algorithm::ES256, Some("short"))).unwrap();
    let x = base64_decode(jwk["x"].as_str().unwrap());
    assert_eq!((x.len(), x[0]), (32, 0));
    // Written as some JWK libraries do: the leading zero byte dropped.
    jwk["x"] = json!(b64(&x[1..]));
    let server = server_with(json!({ "keys": [jwk.clone()] }).to_string()).await;
    let (app, hits) = app_for(remote_with_timeout(&server).build().unwrap());
    let signer = EncodingKey::from_ec_pem(SHORT_X_PRIVATE_PEM).unwrap();
    let token = sign(Algorithm::ES256, Some("short"), &claims(), &signer);
    assert_ok(&app, &hits, bearer(&token)).await;
    // A coordinate longer than the field stays refused.
    let mut long = x.clone();
    long.insert(0, 0);
    jwk["x"] = json!(b64(&long));
    assert!(Key::from_jwk(&jwk.to_string()).is_err());
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// A cached token is refused as soon as a refetched set makes its `kid`
/// ambiguous: a cache hit answers as a fresh verification would.
#[tokio::test]
async fn a_cached_token_is_refused_once_its_kid_becomes_ambiguous() {
    let server = server_with(jwks_json(&[rsa_jwk("k")])).await;
    let (app, hits) = app_for(remote_with_timeout(&server).build().unwrap());
    let token = sign(Algorithm::RS256, Some("k"), &claims(), &rsa_signer());
    // Twice: the token cache admits a token on its second sighting.
    for _ in 0..3 {
        assert_ok(&app, &hits, bearer(&token)).await;
    }
    // The set now holds two keys under "k"; a new kid triggers the refetch.
    server.set_jwks(jwks_json(&[rsa_jwk("k"), ec_jwk("k"), ed_jwk("new")]));
    let new = sign(Algorithm::EdDSA, Some("new"), &claims(), &ed_signer());
    assert_ok(&app, &hits, bearer(&new)).await;
    assert_invalid_token(&app, &hits, bearer(&token), "unknown signing key").await;
}

/// A token without a `kid`, verified by the set's only key and cached, is
/// refused once the refetched set holds a second candidate: the set
/// changed, so its cached answer goes with it.
#[tokio::test]
async fn a_cached_kidless_token_is_refused_once_the_set_has_two_candidates() {
    let server = server_with(jwks_json(&[rsa_jwk("a")])).await;
    let (app, hits) = app_for(remote_with_timeout(&server).build().unwrap());
    let kidless = sign(Algorithm::RS256, None, &claims(), &rsa_signer());
    for _ in 0..3 {
        assert_ok(&app, &hits, bearer(&kidless)).await;
    }
    let other = DecodingKey::from_rsa_pem(ATTACKER_RSA_PUBLIC_PEM.as_bytes()).unwrap();
    let other = jwk_json(&other, Algorithm::RS256, Some("b"));
    server.set_jwks(jwks_json(&[rsa_jwk("a"), other]));
    let new = sign(
        Algorithm::RS256,
        Some("b"),
        &claims(),
        &attacker_rsa_signer(),
    );
    assert_ok(&app, &hits, bearer(&new)).await;
    assert_invalid_token(&app, &hits, bearer(&kidless), "unknown signing key").await;
}

/// An HMAC token claiming the issuer whose keys are remote is refused
/// before any lookup, even when another issuer has a static HMAC key.
#[tokio::test]
async fn hmac_tokens_never_reach_a_remote_issuer_beside_a_static_one() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
    let remote_iss = server.base_url();
    let auth = JwtAuth::<TestClaims>::builder()
        .issuer_keys(
            ISSUER,
            jwt_layer::StaticKeys::new([Key::hmac(SECRET).unwrap()]).unwrap(),
        )
        .issuer_keys(remote_iss.clone(), remote_with_timeout(&server))
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let (app, hits) = router(auth);
    assert_ok(&app, &hits, bearer(&hs256(&claims()))).await;
    let claims = claims_with(json!({"iss": remote_iss}));
    let hmac = sign(
        Algorithm::HS512,
        Some("kc-refresh"),
        &claims,
        &hmac_signer(),
    );
    assert_invalid_token(&app, &hits, bearer(&hmac), "algorithm not allowed").await;
    assert_eq!(server.request_count(), 0, "no fetch for it");
    let good = sign(Algorithm::RS256, Some("rsa"), &claims, &rsa_signer());
    assert_ok(&app, &hits, bearer(&good)).await;
}

#[test]
fn an_allow_list_no_key_source_can_verify_is_a_build_error() {
    let keys = RemoteJwks::builder("https://idp.example/keys");
    let err = JwtAuth::<TestClaims>::builder()
        .key_source(keys)
        .issuer(ISSUER)
        .algorithms([Algorithm::HS256])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), jwt_layer::BuildErrorKind::InvalidValidation);
}

#[test]
fn a_static_ec_key_off_its_curve_is_refused() {
    let mut der = EC256_PUBLIC_DER.to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    let err = Key::ec_der(&der).unwrap_err();
    assert_eq!(err.kind(), jwt_layer::BuildErrorKind::InvalidKey);
    assert!(Key::ec_der(EC256_PUBLIC_DER).is_ok());
}

/// A refetch for a new `kid` that fails is retried on the backoff, so one
/// transient 5xx during a rotation does not lock the new key out for the
/// whole kid cooldown (30 s).
#[tokio::test]
async fn a_failed_kid_refetch_is_retried_long_before_the_cooldown_ends() {
    let server = server_with(jwks_json(&[rsa_jwk("old")])).await;
    let keys = RemoteJwks::builder(server.url())
        .backoff(Duration::from_millis(100), Duration::from_millis(400))
        .build()
        .unwrap();
    let (app, hits) = router(
        JwtAuth::<TestClaims>::builder()
            .key_source(keys)
            .issuer(ISSUER)
            .build()
            .unwrap(),
    );
    let old = sign(Algorithm::RS256, Some("old"), &claims(), &rsa_signer());
    assert_ok(&app, &hits, bearer(&old)).await;
    server.set_behavior(Behavior::Status(500));
    let new = sign(Algorithm::EdDSA, Some("new"), &claims(), &ed_signer());
    assert_invalid_token(&app, &hits, bearer(&new), "unknown signing key").await;
    let failed_at = server.request_count();
    server.set_jwks(jwks_json(&[rsa_jwk("old"), ed_jwk("new")]));
    server.set_behavior(Behavior::Normal);
    // The retry comes on the backoff (100 ms), with no request asking.
    tokio::time::timeout(
        Duration::from_secs(10),
        server.wait_for_requests(failed_at + 1),
    )
    .await
    .expect("a retry well inside the 30 s kid cooldown");
    let mut answered = false;
    for _ in 0..100 {
        if send(&app, bearer(&new)).await.status() == 200 {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered, "the new key verifies after the retry");
}

/// With only remote keys, an HMAC token (a Keycloak refresh token sent to
/// the API) is refused before any lookup: it costs no refetch.
#[tokio::test]
async fn hmac_tokens_never_reach_a_remote_key_set() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
    let (app, hits) = app_for(remote_with_timeout(&server).build().unwrap());
    let good = sign(Algorithm::RS256, Some("rsa"), &claims(), &rsa_signer());
    assert_ok(&app, &hits, bearer(&good)).await;
    let fetches = server.request_count();
    for (i, alg) in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
        .into_iter()
        .enumerate()
    {
        let kid = format!("never-published-{i}");
        let token = sign(alg, Some(&kid), &claims(), &hmac_signer());
        assert_invalid_token(&app, &hits, bearer(&token), "algorithm not allowed").await;
    }
    assert_eq!(server.request_count(), fetches, "no refetch");
    // A new RS256 kid still triggers one: the budget was not spent.
    let new = sign(Algorithm::RS256, Some("rsa-2"), &claims(), &rsa_signer());
    server.set_jwks(jwks_json(&[rsa_jwk("rsa"), rsa_jwk("rsa-2")]));
    assert_ok(&app, &hits, bearer(&new)).await;
    assert_eq!(server.request_count(), fetches + 1);
}
