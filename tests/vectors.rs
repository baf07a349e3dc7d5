//! The JWS examples of RFC 7515 A.1–A.5, RFC 7520 4.1–4.4 and RFC 8037
//! A.3/A.4, and the RFC 7638 §3.1 thumbprint, from `tests/data/vectors.json`,
//! each tested as its note says:
//!
//! - signature valid where the algorithm is supported: checked through the
//!   layer on a fixed clock before `exp` (or, for payloads that are not
//!   JSON, through jsonwebtoken's own verification, since the layer refuses
//!   them before any signature check);
//! - expired claims rejected as expired on the real clock;
//! - payloads that are not JSON objects, `alg: none` and unsupported
//!   algorithms (ES512) a clean 401;
//! - deterministic signatures (RS256, HS256, Ed25519) re-created exactly;
//! - thumbprints equal to the RFCs'.

mod common;

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jwt_layer::{AuthErrorKind, Clock, JwtAuth, Key, StaticKeys};
use serde::Deserialize;
use serde_json::{Value, json};

use common::*;

#[derive(Clone, Debug, Deserialize)]
struct Vector {
    name: String,
    alg: String,
    jwk: Option<Value>,
    token: Option<String>,
    expected_payload: Option<String>,
    notes: String,
}

fn vectors() -> &'static [Vector] {
    static V: OnceLock<Vec<Vector>> = OnceLock::new();
    V.get_or_init(|| {
        serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/vectors.json"
        )))
        .expect("vectors.json")
    })
}

/// The vector whose name starts with `prefix`.
fn vector(prefix: &str) -> &'static Vector {
    vectors()
        .iter()
        .find(|v| v.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no vector {prefix}"))
}

/// The vector's JWK without its private members.
fn public_jwk(v: &Vector) -> String {
    let mut jwk = v.jwk.clone().expect("a JWK");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        jwk.as_object_mut().unwrap().remove(private);
    }
    jwk.to_string()
}

fn token(v: &Vector) -> &str {
    v.token.as_deref().expect("a token")
}

/// `exp` of the RFC 7515 A.1–A.3 payload (2011-03-22T18:43:00Z).
const EXP: u64 = 1_300_819_380;

/// A layer over `key` for the RFCs' issuer `joe`, on `clock`, in front of a
/// counting handler.
fn app(key: Key, clock: Option<Clock>) -> (Router, Hits) {
    let mut builder = JwtAuth::<Value>::builder().key(key).issuer("joe");
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    app_of(builder.build().unwrap())
}

fn app_of(auth: JwtAuth<Value>) -> (Router, Hits) {
    let hits = Hits::new();
    let counter = hits.clone();
    let router = Router::new()
        .route(
            "/",
            get(move || {
                counter.hit();
                async { "ok" }
            }),
        )
        .layer(auth);
    (router, hits)
}

/// The signing input and the decoded signature of a compact token.
fn parts(token: &str) -> (String, Vec<u8>) {
    let (input, sig) = token.rsplit_once('.').unwrap();
    (input.to_owned(), URL_SAFE_NO_PAD.decode(sig).unwrap())
}

/// Checks the signature with jsonwebtoken itself (for payloads the layer
/// refuses before any signature check).
fn jsonwebtoken_verifies(v: &Vector, alg: Algorithm) -> bool {
    init_crypto();
    let jwk: Jwk = serde_json::from_str(&public_jwk(v)).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let (input, _) = parts(token(v));
    let sig = token(v).rsplit_once('.').unwrap().1;
    jsonwebtoken::crypto::verify(sig, input.as_bytes(), &key, alg).unwrap()
}

/// A token signed the RFC's way: re-signs with the vector's private JWK
/// through the `issue` module.
fn resign(v: &Vector, signing_input: &str) -> Vec<u8> {
    let key = jwt_layer::issue::SigningKey::from_jwk(&v.jwk.as_ref().unwrap().to_string())
        .expect("private JWK");
    key.sign(signing_input.as_bytes()).unwrap()
}

/// The signature-valid, claims-expired vectors of RFC 7515 A.1–A.3.
async fn check_expired_vector(prefix: &str) {
    let v = vector(prefix);
    let key = || Key::from_jwk(&public_jwk(v)).unwrap();
    // Before exp: the signature and claims pass.
    let (app_then, hits) = app(key(), Some(Clock::fixed(EXP - 3600)));
    assert_eq!(
        send(&app_then, bearer(token(v))).await.status(),
        StatusCode::OK,
        "{}",
        v.name
    );
    assert_eq!(hits.count(), 1);
    let auth = JwtAuth::<Value>::builder()
        .key(key())
        .issuer("joe")
        .clock(Clock::fixed(EXP - 3600))
        .build()
        .unwrap();
    let claims = auth.verifier().verify(token(v)).await.unwrap();
    let expected: Value = serde_json::from_str(v.expected_payload.as_deref().unwrap()).unwrap();
    assert_eq!(claims.claims(), &expected, "{}", v.name);
    // The exp boundary with the default 60 s leeway.
    let auth_at = |t: u64| {
        JwtAuth::<Value>::builder()
            .key(key())
            .issuer("joe")
            .clock(Clock::fixed(t))
            .token_cache(false)
            .build()
            .unwrap()
    };
    assert!(auth_at(EXP + 59).verifier().verify(token(v)).await.is_ok());
    let err = auth_at(EXP + 60)
        .verifier()
        .verify(token(v))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::Expired, "{}", v.name);
    // One bit of the signature flipped: invalid on the same clock.
    let (input, mut sig) = parts(token(v));
    sig[0] ^= 1;
    let tampered = format!("{input}.{}", b64(&sig));
    assert_invalid_token(&app_then, &hits, bearer(&tampered), "invalid signature").await;
    // On the real clock: expired.
    let (app_now, hits) = app(key(), None);
    assert_invalid_token(&app_now, &hits, bearer(token(v)), "token expired").await;
}

// --- RFC 7515 ---------------------------------------------------------------------------

#[tokio::test]
async fn rfc7515_a1_hs256_verifies_before_exp_and_is_expired_now() {
    assert!(
        vector("RFC 7515 Appendix A.1")
            .notes
            .contains("expect=signature-valid")
    );
    check_expired_vector("RFC 7515 Appendix A.1").await;
    // HMAC is deterministic: re-MACing gives the same signature.
    let v = vector("RFC 7515 Appendix A.1");
    let k = URL_SAFE_NO_PAD
        .decode(v.jwk.as_ref().unwrap()["k"].as_str().unwrap())
        .unwrap();
    let (input, sig) = parts(token(v));
    init_crypto();
    let mac = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(&k),
        Algorithm::HS256,
    )
    .unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(mac).unwrap(), sig);
}

#[tokio::test]
async fn rfc7515_a2_rs256_verifies_before_exp_is_expired_now_and_re_signs_exactly() {
    check_expired_vector("RFC 7515 Appendix A.2").await;
    let v = vector("RFC 7515 Appendix A.2");
    // RSASSA-PKCS1-v1_5 is deterministic.
    let (input, sig) = parts(token(v));
    assert_eq!(
        resign(v, &input),
        sig,
        "re-signing must give the RFC's signature"
    );
    // The same key signs JSON claims that the layer accepts today.
    let header = b64(r#"{"alg":"RS256"}"#);
    let payload = b64(json!({"iss": "joe", "exp": now() + 300}).to_string());
    let signing_input = format!("{header}.{payload}");
    let fresh = format!("{signing_input}.{}", b64(resign(v, &signing_input)));
    let (app_now, hits) = app(Key::from_jwk(&public_jwk(v)).unwrap(), None);
    assert_ok(&app_now, &hits, bearer(&fresh)).await;
}

#[tokio::test]
async fn rfc7515_a2_key_as_an_hmac_secret_is_refused() {
    // The note: an HS256 MAC keyed with this key's PEM/DER bytes must be
    // rejected. ATTACKER_RSA_PUBLIC_PEM is this key (checked first).
    let v = vector("RFC 7515 Appendix A.2");
    let (pem_app, hits) = app(
        Key::rsa_pem(ATTACKER_RSA_PUBLIC_PEM).unwrap(),
        Some(Clock::fixed(EXP - 3600)),
    );
    assert_eq!(
        send(&pem_app, bearer(token(v))).await.status(),
        StatusCode::OK
    );
    let der = DecodingKey::from_rsa_pem(ATTACKER_RSA_PUBLIC_PEM.as_bytes()).unwrap();
    let der = der.try_get_as_bytes().unwrap().to_vec();
    let payload = json!({"iss": "joe", "exp": now() + 300});
    let (app_now, hits_now) = app(Key::from_jwk(&public_jwk(v)).unwrap(), None);
    for secret in [
        ATTACKER_RSA_PUBLIC_PEM.as_bytes().to_vec(),
        ATTACKER_RSA_PUBLIC_PEM.trim_end().as_bytes().to_vec(),
        der,
        public_jwk(v).into_bytes(),
    ] {
        let token = sign(
            Algorithm::HS256,
            None,
            &payload,
            &EncodingKey::from_secret(&secret),
        );
        assert_invalid_token(&app_now, &hits_now, bearer(&token), "algorithm not allowed").await;
        assert_invalid_token(&pem_app, &hits, bearer(&token), "algorithm not allowed").await;
    }
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn rfc7515_a3_es256_verifies_before_exp_and_is_expired_now() {
    check_expired_vector("RFC 7515 Appendix A.3").await;
    let v = vector("RFC 7515 Appendix A.3");
    assert_eq!(parts(token(v)).1.len(), 64, "raw R || S");
}

#[tokio::test]
async fn rfc7515_a4_es512_is_a_clean_401() {
    let v = vector("RFC 7515 Appendix A.4");
    assert_eq!(v.alg, "ES512");
    // A P-521 key is not supported: alone it is no key set.
    assert!(Key::from_jwk(&public_jwk(v)).is_err());
    let set = format!(r#"{{"keys":[{}]}}"#, public_jwk(v));
    assert!(StaticKeys::from_jwks_json(&set).is_err());
    // Beside a supported key it is skipped; the ES512 token gets a 401.
    let p256 = public_jwk(vector("RFC 7515 Appendix A.3"));
    let set = format!(r#"{{"keys":[{},{p256}]}}"#, public_jwk(v));
    let auth = JwtAuth::<Value>::builder()
        .jwks_json(&set)
        .issuer("joe")
        .build()
        .unwrap();
    let (set_app, hits) = app_of(auth);
    assert_invalid_token(&set_app, &hits, bearer(token(v)), "algorithm not allowed").await;
    let (key_app, hits) = app(
        Key::from_jwk(&p256).unwrap(),
        Some(Clock::fixed(EXP - 3600)),
    );
    assert_invalid_token(&key_app, &hits, bearer(token(v)), "algorithm not allowed").await;
}

#[tokio::test]
async fn rfc7515_a5_unsecured_token_is_refused_for_every_key_type() {
    let v = vector("RFC 7515 Appendix A.5");
    assert!(token(v).ends_with('.'));
    let keys = [
        public_jwk(vector("RFC 7515 Appendix A.1")),
        public_jwk(vector("RFC 7515 Appendix A.2")),
        public_jwk(vector("RFC 7515 Appendix A.3")),
        public_jwk(vector("RFC 8037 Appendix A.4")),
    ];
    for jwk in keys {
        for clock in [Some(Clock::fixed(EXP - 3600)), None] {
            let (app, hits) = app(Key::from_jwk(&jwk).unwrap(), clock);
            assert_invalid_token(&app, &hits, bearer(token(v)), "algorithm not allowed").await;
            // With any signature appended, still `none`.
            let signed = format!("{}{}", token(v), b64([0u8; 32]));
            assert_invalid_token(&app, &hits, bearer(&signed), "algorithm not allowed").await;
        }
    }
}

// --- RFC 7520 ----------------------------------------------------------------------------

const BILBO: &str = "bilbo.baggins@hobbiton.example";

#[tokio::test]
async fn rfc7520_4_1_rs256_signature_is_valid_and_the_text_payload_refused() {
    let v = vector("RFC 7520 section 4.1");
    assert!(
        jsonwebtoken_verifies(v, Algorithm::RS256),
        "the RFC's signature verifies"
    );
    let set = format!(r#"{{"keys":[{}]}}"#, public_jwk(v));
    let auth = JwtAuth::<Value>::builder()
        .jwks_json(&set)
        .issuer("joe")
        .build()
        .unwrap();
    let (app, hits) = app_of(auth);
    // The payload is text, not a claims object.
    assert_invalid_token(&app, &hits, bearer(token(v)), "malformed token").await;
    // The kid picks the key from the set: a JSON token naming it reaches
    // the signature check; one naming another kid does not.
    let payload = b64(json!({"iss": "joe", "exp": now() + 300}).to_string());
    let named = format!(
        "{}.{payload}.{}",
        b64(json!({"alg": "RS256", "kid": BILBO}).to_string()),
        b64([1u8; 256])
    );
    assert_invalid_token(&app, &hits, bearer(&named), "invalid signature").await;
    let other = format!(
        "{}.{payload}.{}",
        b64(r#"{"alg":"RS256","kid":"frodo"}"#),
        b64([1u8; 256])
    );
    assert_invalid_token(&app, &hits, bearer(&other), "unknown signing key").await;
}

#[tokio::test]
async fn rfc7520_4_2_ps384_signature_is_valid_and_the_text_payload_refused() {
    let v = vector("RFC 7520 section 4.2");
    assert!(jsonwebtoken_verifies(v, Algorithm::PS384));
    let set = format!(r#"{{"keys":[{}]}}"#, public_jwk(v));
    let auth = JwtAuth::<Value>::builder()
        .jwks_json(&set)
        .issuer("joe")
        .build()
        .unwrap();
    let (app, hits) = app_of(auth);
    assert_invalid_token(&app, &hits, bearer(token(v)), "malformed token").await;
}

#[tokio::test]
async fn rfc7520_4_3_es512_is_a_clean_401() {
    let v = vector("RFC 7520 section 4.3");
    assert!(Key::from_jwk(&public_jwk(v)).is_err());
    let rsa = public_jwk(vector("RFC 7520 section 4.1"));
    let set = format!(r#"{{"keys":[{},{rsa}]}}"#, public_jwk(v));
    let auth = JwtAuth::<Value>::builder()
        .jwks_json(&set)
        .issuer("joe")
        .build()
        .unwrap();
    let (app, hits) = app_of(auth);
    assert_invalid_token(&app, &hits, bearer(token(v)), "algorithm not allowed").await;
}

#[tokio::test]
async fn rfc7520_4_4_hs256_re_macs_exactly_and_its_alg_is_pinned() {
    let v = vector("RFC 7520 section 4.4");
    let jwk = v.jwk.as_ref().unwrap();
    let kid = jwk["kid"].as_str().unwrap();
    let k = URL_SAFE_NO_PAD.decode(jwk["k"].as_str().unwrap()).unwrap();
    let (input, sig) = parts(token(v));
    init_crypto();
    let mac = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(&k),
        Algorithm::HS256,
    )
    .unwrap();
    assert_eq!(mac, "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0");
    assert_eq!(URL_SAFE_NO_PAD.decode(&mac).unwrap(), sig);

    let (app, hits) = app(Key::from_jwk(&public_jwk(v)).unwrap(), None);
    assert_invalid_token(&app, &hits, bearer(token(v)), "malformed token").await;
    // The key's own algorithm with JSON claims: the control.
    let claims = json!({"iss": "joe", "exp": now() + 300});
    let key = EncodingKey::from_secret(&k);
    assert_ok(
        &app,
        &hits,
        bearer(&sign(Algorithm::HS256, Some(kid), &claims, &key)),
    )
    .await;
    // Any other alg with this kid is refused: the JWK pins HS256.
    for alg in ["RS256", "none", "HS384", "HS512", "PS256", "EdDSA"] {
        let header = json!({"alg": alg, "kid": kid}).to_string();
        let token = craft_signed(&header, &claims.to_string(), Algorithm::HS256, &key);
        assert_invalid_token(&app, &hits, bearer(&token), "algorithm not allowed").await;
        let unsigned = format!("{}.{}.", b64(&header), b64(claims.to_string()));
        assert_invalid_token(&app, &hits, bearer(&unsigned), "algorithm not allowed").await;
    }
}

// --- RFC 8037 and RFC 7638 ----------------------------------------------------------------------

#[tokio::test]
async fn rfc8037_a4_ed25519_signs_exactly_and_the_text_payload_is_refused() {
    let v = vector("RFC 8037 Appendix A.4");
    assert!(jsonwebtoken_verifies(v, Algorithm::EdDSA));
    let (input, sig) = parts(token(v));
    assert_eq!(resign(v, &input), sig, "Ed25519 is deterministic");
    let (app, hits) = app(Key::from_jwk(&public_jwk(v)).unwrap(), None);
    assert_invalid_token(&app, &hits, bearer(token(v)), "malformed token").await;
    // The same key over JSON claims: accepted by the layer.
    let signing_input = format!(
        "{}.{}",
        b64(r#"{"alg":"EdDSA"}"#),
        b64(json!({"iss": "joe", "exp": now() + 300}).to_string())
    );
    let fresh = format!("{signing_input}.{}", b64(resign(v, &signing_input)));
    assert_ok(&app, &hits, bearer(&fresh)).await;
}

#[test]
fn rfc8037_a3_and_rfc7638_thumbprints_are_equal() {
    use jwt_layer::issue::jwk_thumbprint;
    for (prefix, expected) in [
        (
            "RFC 8037 Appendix A.3",
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
        ),
        (
            "RFC 7638 section 3.1",
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
        ),
    ] {
        let v = vector(prefix);
        assert!(
            v.notes.contains(expected),
            "{}: the note names {expected}",
            v.name
        );
        let jwk = v.jwk.as_ref().unwrap();
        assert_eq!(
            jwk_thumbprint(&jwk.to_string()).unwrap(),
            expected,
            "{}",
            v.name
        );
        // Optional members do not change it, nor does member order.
        let mut bare = jwk.clone();
        for optional in ["alg", "kid", "use"] {
            bare.as_object_mut().unwrap().remove(optional);
        }
        assert_eq!(jwk_thumbprint(&bare.to_string()).unwrap(), expected);
        let mut reordered: Vec<(String, Value)> =
            jwk.as_object().unwrap().clone().into_iter().collect();
        reordered.reverse();
        let text = format!(
            "{{{}}}",
            reordered
                .iter()
                .map(|(k, v)| format!("{}:{v}", json!(k)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert_eq!(jwk_thumbprint(&text).unwrap(), expected);
    }
    // The private RFC 8037 key's default kid is its thumbprint.
    let private = vector("RFC 8037 Appendix A.4")
        .jwk
        .as_ref()
        .unwrap()
        .to_string();
    let key = jwt_layer::issue::SigningKey::from_jwk(&private).unwrap();
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn every_vector_is_covered() {
    // A vector added to the file without a test here fails this list.
    let names: Vec<&str> = vectors().iter().map(|v| v.name.as_str()).collect();
    let covered = [
        "RFC 7515 Appendix A.1",
        "RFC 7515 Appendix A.2",
        "RFC 7515 Appendix A.3",
        "RFC 7515 Appendix A.4",
        "RFC 7515 Appendix A.5",
        "RFC 7520 section 4.1",
        "RFC 7520 section 4.2",
        "RFC 7520 section 4.3",
        "RFC 7520 section 4.4",
        "RFC 8037 Appendix A.4",
        "RFC 8037 Appendix A.3",
        "RFC 7638 section 3.1",
    ];
    assert_eq!(names.len(), covered.len(), "{names:?}");
    for name in names {
        assert!(
            covered.iter().any(|c| name.starts_with(c)),
            "untested vector {name}"
        );
    }
}
