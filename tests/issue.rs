//! Issuing tokens: every algorithm verifies through our own `JwtAuth`, key
//! loading in every format, rotation on an injected clock, publishing.
#![cfg(feature = "issue")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use jwt_layer::issue::{
    HmacSecret, IssueErrorKind, KeyRing, OpenIdConfigService, SigningKey, TokenIssuer,
};
use jwt_layer::{Algorithm, AuthErrorKind, BuildErrorKind, Clock, JwtAuth};
use serde::Serialize;
use serde_json::{Value, json};
use tower::ServiceExt as _;

macro_rules! data {
    ($file:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/", $file)
    };
}

const RSA_PEM: &str = include_str!(data!("rsa2048-private.pem"));
const RSA_PUBLIC_PEM: &str = include_str!(data!("rsa2048-public.pem"));
const RSA1024_PEM: &str = include_str!(data!("rsa1024-private.pem"));
const EC256_PEM: &str = include_str!(data!("ec256-private.pk8.pem"));
const EC256_PUBLIC_PEM: &str = include_str!(data!("ec256-public.pem"));
const EC384_PEM: &str = include_str!(data!("ec384-private.pk8.pem"));
const EC384_PUBLIC_PEM: &str = include_str!(data!("ec384-public.pem"));
const ED_PEM: &str = include_str!(data!("ed25519-private.pem"));
const RSA_PRIVATE_JWK: &str = include_str!(data!("rsa-private.jwk.json"));
const RSA_PUBLIC_JWK: &str = include_str!(data!("rsa-public.jwk.json"));

/// `rsa2048-private.pem` as PKCS#1 (`openssl rsa -traditional`).
const RSA_PKCS1_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAsDhc6XzXmCntAr4hMUwiGGsACvfI8edw52yC5dxgpVLxZaZF
UoR2fpzLwp5ePdEFwfq0bewzurfJ9xcf9rYhP9XmBBsr/uCW8NYPOB2pMfrCfizV
u06QDyeSbX+hAOHAE0cntTU8jWBmTd7VTooNwK/W7z1SbnvWRsBCjY4qH1XHmYAN
ge1i4UI9ffcyhg08N0yOmY8uOZBqS06vex6sLCJHBsfz6Q3fmss5XpAMLwb8Tinl
wLTtgBbOe9hX3A6Cj+VldLGx2XBslUJD/y/lYRqFaBlkFrnWbpn4wYsp+bnlD8rB
rsmOlbkhpU+PU+FBhtyx81/Y5fknTfV4GB5XiwIDAQABAoIBAAGob7KNFFfMwfuB
OT2GGNmf9n69haxFxpMqB/7ZPvOI2NdhZBktpxInFk4WpvS8vBzu54NG2KNZSh/D
N1X4sRr+DGb3fOEUaqpWnHGlUP7OYpJ4Iet105DA748mLag2qroqGwTvPLDPBy3H
+rvKPFNJ+qMcZMnzUlKVSbFpQZr/2jPwKYOfVSlSyS5OJeRJ9i9p+euQBevW8lJp
0N2F0PykxutAxAomX+3tfAUl1ST0v2+o7qPI5VdWei7CRQFbJhdiuyMLnRdOuJ9L
UDIbLEDEJKSbiBX2eBjDTTMJndi/Y2o2An3gkWJr+JrKJEnG3HniAaza51fZkEX8
wic2K6ECgYEA43sTx1ElczHUc5zKNwBRuXI4twyRqvlyeWMfhTeJ0lEPbyqVoErB
6nA88PjHvl4pkWG8g4gR6XU6K7p9vP77JTpTsPCtRJf71laeJGji59CgYnCiYkkY
oG4A3tnkpm1m70q7+cmwSccLag3Ao4nCLKpxbmNkPLJdMK5YV5/TpjsCgYEAxlAX
zgs6suEwdvjJlvNRXCsPzPKRHavembxd9vkltAypPKdEeRpDdIA+Qf2M5Ry4uA+Q
jK/nOBePB7ZJ2Lb7LnI1EbEgWnBy309brbyX5+rSZmmRH+f4ikVFAFrl1doH/n0j
agczpgv6Q/Bt1yW7Ks5EwKwOys3Yh0rnYr687vECgYB06wlbZGWvM2lSkr+MTWmz
uvVTf+5Oxi8EHOJSgh0gL/GS3XxSCppoeI+Z+wQO4C7VPjq6D/HE4C+p0gxWW2eR
1sy1IL6thsA1hgd6Bz64jw4gCmwrwA4cRu3DnJJcx9YkH3FGDVfCU7+WHsNoSqG2
e1QZvJQEblhfcPyO7OLHiQKBgFn1gSbtfx4f+t0tND0ueQzHV+6PZnbAPUUd5r4e
/RR03dxuwCfzWwAhIJzMyLox0jVkkhzPuqJ+RVqpPUx6jOzfz+ULpXKBKgrUs/DW
6U3B/tmIL9X6Y4tNquRjV3kv44p097ikNbCwJEHncdwz+HiNgzCnnDoxMHUG7Hml
rozxAoGBAJsonuJN7pR3cx3uXdyEpY1rmG+xkQrb8SLwHdAysdUc893zImgo3d9U
xLmiIIs5Qomz9hUfjQIsvu6j/NnBntoktQag+0t6c7h+ehDQswaMc65Y94Nyt5BE
iH037LuY+SIiJAwdeepNwz4+j/HaOmzmw3JTILLVlyZwSXAS6xw1
-----END RSA PRIVATE KEY-----
";

/// `ec256-private.pk8.pem` as SEC1 (`openssl ec`).
const EC256_SEC1_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIG3nzcEwocppsp1sqSazJYTwcssMY1pO62ohPqhXhfcLoAoGCCqGSM49
AwEHoUQDQgAEJiVwF7a1hVHb/l/7gmft2VZAq+/qukxZOBxvyldWRfXBYbaQNwkK
MSxhoIiCG6JOklQ9HeIiuiDDxOn9PGQj6w==
-----END EC PRIVATE KEY-----
";

const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "my-api";
const T0: u64 = 1_700_000_000;
/// A 64-byte HMAC secret (HS256, HS384 and HS512).
const SECRET: &[u8] = b"jwt-layer issue test secret of exactly sixty-four bytes.........";

#[derive(Serialize)]
struct Login<'a> {
    sub: &'a str,
    scope: &'a str,
}

/// A clock tests move by hand.
fn manual_clock(start: u64) -> (Arc<AtomicU64>, Clock) {
    let now = Arc::new(AtomicU64::new(start));
    let reader = Arc::clone(&now);
    (now, Clock::from_fn(move || reader.load(Ordering::SeqCst)))
}

fn segment(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn header(token: &str) -> Value {
    segment(token, 0)
}

fn payload(token: &str) -> Value {
    segment(token, 1)
}

/// A verifier that knows exactly the ring's published keys.
fn verifier_for(ring: &KeyRing, clock: Clock) -> JwtAuth<Value> {
    JwtAuth::<Value>::builder()
        .jwks_json(&ring.jwks().to_json())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock)
        .build()
        .unwrap()
}

fn issuer_for(ring: &KeyRing) -> TokenIssuer {
    TokenIssuer::builder(ring.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .ttl(Duration::from_secs(300))
        .build()
        .unwrap()
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).unwrap()
}

#[tokio::test]
async fn every_algorithm_verifies_with_our_own_layer() {
    use Algorithm::*;
    let cases = [
        (RSA_PEM, RS256),
        (RSA_PEM, RS384),
        (RSA_PEM, RS512),
        (RSA_PEM, PS256),
        (RSA_PEM, PS384),
        (RSA_PEM, PS512),
        (EC256_PEM, ES256),
        (EC384_PEM, ES384),
        (ED_PEM, EdDSA),
    ];
    let clock = Clock::fixed(T0);
    for (pem, alg) in cases {
        let key = SigningKey::from_pem(pem)
            .unwrap()
            .with_algorithm(alg)
            .unwrap();
        let ring = KeyRing::builder(key.clone())
            .clock(clock.clone())
            .build()
            .unwrap();
        let issuer = TokenIssuer::builder(ring.clone())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .not_before(true)
            .jti(true)
            .build()
            .unwrap();
        let token = issuer
            .issue(&Login {
                sub: "alice",
                scope: "read",
            })
            .unwrap();

        assert_eq!(
            header(&token),
            json!({"alg": format!("{alg:?}"), "typ": "JWT", "kid": key.kid()})
        );
        let published = ring.jwks();
        assert_eq!(published.keys().len(), 1);
        assert_eq!(published.keys()[0].algorithm(), Some(alg));

        let auth = verifier_for(&ring, clock.clone());
        let claims = auth.verifier().verify(&token).await.unwrap();
        assert_eq!(claims["sub"], "alice", "{alg:?}");
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(claims["iat"], T0);
        assert_eq!(claims["nbf"], T0);
        assert_eq!(claims["exp"], T0 + 15 * 60);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
    }
}

#[tokio::test]
async fn hmac_tokens_verify_with_the_shared_secret_and_are_never_published() {
    let clock = Clock::fixed(T0);
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let key = SigningKey::hmac(SECRET)
            .unwrap()
            .with_algorithm(alg)
            .unwrap();
        assert!(key.is_symmetric());
        assert!(key.public_jwk().is_none());
        let ring = KeyRing::builder(key).clock(clock.clone()).build().unwrap();
        assert!(ring.jwks().keys().is_empty());
        assert_eq!(ring.jwks().to_json(), r#"{"keys":[]}"#);
        let token = issuer_for(&ring).issue(&json!({"sub": "svc"})).unwrap();
        assert_eq!(header(&token)["alg"], format!("{alg:?}"));
        let auth = JwtAuth::<Value>::builder()
            .hmac_secret(SECRET)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .clock(clock.clone())
            .build()
            .unwrap();
        assert_eq!(auth.verifier().verify(&token).await.unwrap()["sub"], "svc");
    }
    // HS512 needs a 64-byte secret, HS256 at least 32.
    let short = SigningKey::hmac([7u8; 32]).unwrap();
    assert!(short.clone().with_algorithm(Algorithm::HS512).is_err());
    assert!(short.with_algorithm(Algorithm::RS256).is_err());
    assert!(SigningKey::hmac([7u8; 31]).is_err());
    assert!(SigningKey::hmac(RSA_PUBLIC_PEM).is_err());
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn issued_tokens_pass_the_layer_over_http() {
    use axum::routing::get;
    use jwt_layer::Claims;

    async fn me(Claims(claims): Claims<Value>) -> String {
        claims["sub"].as_str().unwrap_or_default().to_owned()
    }
    let ring = KeyRing::new(SigningKey::from_pem(ED_PEM).unwrap());
    let token = issuer_for(&ring)
        .issue(&Login {
            sub: "bob",
            scope: "",
        })
        .unwrap();
    let auth = JwtAuth::<Value>::builder()
        .jwks_json(&ring.jwks().to_json())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let app = Router::new().route("/me", get(me)).layer(auth);
    let req = Request::get("/me")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        &res.into_body().collect().await.unwrap().to_bytes()[..],
        b"bob"
    );
}

/// An issuer on a manual clock at `T0` with every default set: issuer,
/// two audiences, subject, `jti`, `nbf` and `typ` `at+jwt`.
fn issuer_with_defaults() -> TokenIssuer {
    let (_, clock) = manual_clock(T0);
    let ring = KeyRing::builder(SigningKey::hmac(SECRET).unwrap())
        .clock(clock)
        .build()
        .unwrap();
    TokenIssuer::builder(ring)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .audience("other-api")
        .subject("service")
        .jti(true)
        .not_before(true)
        .typ("at+jwt")
        .build()
        .unwrap()
}

#[test]
fn claims_the_caller_sets_win_and_nulls_are_filled() {
    #[derive(Serialize)]
    struct Custom {
        sub: &'static str,
        aud: Vec<&'static str>,
        iss: &'static str,
        exp: u64,
        iat: Option<u64>,
        jti: &'static str,
    }
    let issuer = issuer_with_defaults();

    let token = issuer
        .issue(&Custom {
            sub: "alice",
            aud: vec!["mine"],
            iss: "https://elsewhere.example",
            exp: T0 + 60,
            iat: None,
            jti: "my-id",
        })
        .unwrap();
    assert_eq!(header(&token)["typ"], "at+jwt");
    assert_eq!(
        payload(&token),
        json!({
            "sub": "alice", "aud": ["mine"], "iss": "https://elsewhere.example",
            "exp": T0 + 60, "iat": T0, "nbf": T0, "jti": "my-id",
        })
    );
}

/// Nothing set: the issuer's values, two audiences as an array.
#[test]
fn claims_the_caller_leaves_out_are_the_issuers() {
    let issuer = issuer_with_defaults();
    let token = issuer.issue(&json!({})).unwrap();
    let claims = payload(&token);
    assert_eq!(claims["sub"], "service");
    assert_eq!(claims["aud"], json!([AUDIENCE, "other-api"]));
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["exp"], T0 + 15 * 60);
    assert_ne!(
        claims["jti"],
        payload(&issuer.issue(&json!({})).unwrap())["jti"]
    );
}

/// A registered claim left `null` with no issuer value is dropped; other
/// claims are the caller's business.
#[test]
fn a_null_registered_claim_without_an_issuer_value_is_dropped() {
    let plain = TokenIssuer::builder(SigningKey::hmac(SECRET).unwrap())
        .build()
        .unwrap();
    let claims = payload(
        &plain
            .issue(&json!({"nbf": null, "iss": null, "x": null}))
            .unwrap(),
    );
    let names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["exp", "iat", "x"]);
}

#[test]
fn claims_that_cannot_be_a_jwt_payload_are_refused() {
    let issuer = TokenIssuer::builder(SigningKey::hmac(SECRET).unwrap())
        .build()
        .unwrap();
    for bad in [
        json!("a string"),
        json!([1, 2]),
        json!({"exp": "tomorrow"}),
        json!({"nbf": true}),
        json!({"iat": "now"}),
    ] {
        let err = issuer.issue(&bad).unwrap_err();
        assert_eq!(err.kind(), IssueErrorKind::InvalidClaims, "{bad}");
    }
    assert!(
        TokenIssuer::builder(SigningKey::hmac(SECRET).unwrap())
            .ttl(Duration::from_millis(500))
            .build()
            .is_err()
    );
    assert!(
        TokenIssuer::builder(SigningKey::hmac(SECRET).unwrap())
            .issuer("")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_until_they_expire() {
    let (now, clock) = manual_clock(T0);
    let old = SigningKey::from_pem(ED_PEM).unwrap();
    let new = SigningKey::from_pem(EC256_PEM).unwrap();
    let ring = KeyRing::builder(old.clone())
        .max_token_ttl(Duration::from_secs(300))
        .leeway(Duration::from_secs(60))
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(ring.retire_after(), Duration::from_secs(360));
    let issuer = issuer_for(&ring);
    let old_token = issuer.issue(&json!({"sub": "a"})).unwrap();
    assert_eq!(header(&old_token)["kid"], old.kid());

    now.store(T0 + 100, Ordering::SeqCst);
    ring.rotate(new.clone()).unwrap();
    let new_token = issuer.issue(&json!({"sub": "b"})).unwrap();
    assert_eq!(header(&new_token)["kid"], new.kid());
    assert_eq!(ring.signing_key().kid(), new.kid());
    let jwks = ring.jwks();
    let kids: Vec<&str> = jwks.keys().iter().map(|k| k.kid()).collect();
    assert_eq!(kids, [new.kid(), old.kid()], "the signing key comes first");

    // Both verify against the published set.
    let auth = verifier_for(&ring, clock.clone());
    auth.verifier().verify(&old_token).await.unwrap();
    auth.verifier().verify(&new_token).await.unwrap();

    // The old key is published until its last token (exp T0+300) is past
    // its leeway, i.e. rotation time + max ttl + leeway = T0+460.
    now.store(T0 + 459, Ordering::SeqCst);
    assert!(ring.jwks().contains(old.kid()));
    now.store(T0 + 460, Ordering::SeqCst);
    assert!(!ring.jwks().contains(old.kid()));
    assert_eq!(ring.jwks().keys().len(), 1);

    // A verifier that refreshed now no longer knows the old key: the old
    // (EdDSA) token's algorithm is no longer among the set's (ES256 only),
    // so it is refused when its header is read; new tokens are unaffected.
    let auth = verifier_for(&ring, clock.clone());
    let err = auth.verifier().verify(&old_token).await.unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::AlgorithmNotAllowed, "{err:?}");
    let fresh = issuer.issue(&json!({"sub": "c"})).unwrap();
    auth.verifier().verify(&fresh).await.unwrap();
}

#[test]
fn a_long_exp_set_in_the_claims_keeps_its_key_published() {
    let (now, clock) = manual_clock(T0);
    let old = SigningKey::from_pem(EC256_PEM).unwrap();
    let ring = KeyRing::builder(old.clone())
        .max_token_ttl(Duration::from_secs(300))
        .leeway(Duration::from_secs(60))
        .clock(clock)
        .build()
        .unwrap();
    issuer_for(&ring).issue(&json!({"exp": T0 + 3600})).unwrap();
    ring.rotate(SigningKey::from_pem(ED_PEM).unwrap()).unwrap();
    now.store(T0 + 1000, Ordering::SeqCst);
    assert!(ring.jwks().contains(old.kid()));
    now.store(T0 + 3600 + 59, Ordering::SeqCst);
    assert!(ring.jwks().contains(old.kid()));
    now.store(T0 + 3600 + 60, Ordering::SeqCst);
    assert!(!ring.jwks().contains(old.kid()));
}

#[tokio::test]
async fn scheduled_rotation_publishes_the_key_before_it_signs() {
    let (now, clock) = manual_clock(T0);
    let old = SigningKey::from_pem(ED_PEM).unwrap();
    let new = SigningKey::from_pem(EC384_PEM).unwrap();
    let ring = KeyRing::builder(old.clone())
        .publish_ahead(Duration::from_secs(120))
        .clock(clock)
        .build()
        .unwrap();
    assert_eq!(ring.cache_max_age(), Duration::from_secs(120));
    let issuer = issuer_for(&ring);

    assert_eq!(ring.schedule_rotation(new.clone()).unwrap(), T0 + 120);
    assert!(ring.jwks().contains(new.kid()));
    let token = issuer.issue(&json!({})).unwrap();
    assert_eq!(header(&token)["kid"], old.kid());

    // The JWKS endpoint tells caches to refetch within the delay.
    let res = ring
        .jwks_service()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=120");

    now.store(T0 + 119, Ordering::SeqCst);
    assert_eq!(ring.signing_key().kid(), old.kid());
    now.store(T0 + 120, Ordering::SeqCst);
    let token = issuer.issue(&json!({})).unwrap();
    assert_eq!(header(&token)["kid"], new.kid());
    let jwks = ring.jwks();
    assert_eq!(jwks.keys()[0].kid(), new.kid());
    assert!(jwks.contains(old.kid()));
    // The old key retires from the moment the new one took over.
    now.store(T0 + 120 + 3600 + 60, Ordering::SeqCst);
    assert!(!ring.jwks().contains(old.kid()));
}

#[test]
fn rotation_refuses_a_kid_that_names_other_key_material() {
    let ec = SigningKey::from_pem(EC256_PEM).unwrap();
    let ed = SigningKey::from_pem(ED_PEM).unwrap();
    let ring = KeyRing::new(ec.clone());
    assert!(ring.rotate(ed.clone().with_kid(ec.kid())).is_err());
    assert!(ring.schedule_rotation(ec.clone()).is_err());
    assert!(
        KeyRing::builder(ec.clone())
            .retiring(ed.clone().with_kid(ec.kid()))
            .build()
            .is_err()
    );
    // Rotating to a key and back is fine: the same material under its kid.
    ring.rotate(ed.clone()).unwrap();
    ring.rotate(ec.clone()).unwrap();
    assert_eq!(ring.signing_key().kid(), ec.kid());
    assert_eq!(ring.jwks().keys().len(), 2);
    // Rotating to the signing key again changes nothing.
    ring.rotate(ec.clone()).unwrap();
    assert_eq!(ring.jwks().keys().len(), 2);
}

#[test]
fn rotation_under_concurrent_signing_never_loses_a_key() {
    let ring = KeyRing::new(SigningKey::hmac(SECRET).unwrap());
    let keys = [
        SigningKey::from_pem(ED_PEM).unwrap(),
        SigningKey::from_pem(EC256_PEM).unwrap(),
        SigningKey::from_pem(EC384_PEM).unwrap(),
    ];
    let issuer = issuer_for(&ring);
    let hmac_kid = ring.signing_key().kid().to_owned();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let token = issuer.issue(&json!({})).unwrap();
                    let kid = header(&token)["kid"].as_str().unwrap().to_owned();
                    let published = ring.jwks();
                    // Every kid that signed is still published (or HMAC).
                    assert!(published.contains(&kid) || kid == hmac_kid);
                }
            });
        }
        s.spawn(|| {
            for round in 0..30 {
                ring.rotate(keys[round % 3].clone()).unwrap();
            }
        });
    });
}

#[tokio::test]
async fn keys_load_from_every_format() {
    let rsa = SigningKey::from_pem(RSA_PEM).unwrap();
    let ec = SigningKey::from_pem(EC256_PEM).unwrap();
    let ed = SigningKey::from_pem(ED_PEM).unwrap();
    let same = |a: &SigningKey, b: Result<SigningKey, jwt_layer::BuildError>| {
        let b = b.unwrap();
        assert_eq!(a.thumbprint(), b.thumbprint());
        assert_eq!(a.kid(), b.kid());
        assert_eq!(a.algorithm(), b.algorithm());
    };
    same(&rsa, SigningKey::from_pem(RSA_PKCS1_PEM));
    same(&rsa, SigningKey::from_der(pem_body(RSA_PEM)));
    same(&rsa, SigningKey::from_der(pem_body(RSA_PKCS1_PEM)));
    same(&ec, SigningKey::from_pem(EC256_SEC1_PEM));
    same(&ec, SigningKey::from_der(pem_body(EC256_SEC1_PEM)));
    same(&ed, SigningKey::from_der(pem_body(ED_PEM)));
    // `openssl ecparam -genkey` writes the parameters before the key.
    let with_params = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{EC256_SEC1_PEM}"
    );
    same(&ec, SigningKey::from_pem(with_params));

    assert_eq!(rsa.algorithm(), Algorithm::RS256);
    assert_eq!(ec.algorithm(), Algorithm::ES256);
    assert_eq!(
        SigningKey::from_pem(EC384_PEM).unwrap().algorithm(),
        Algorithm::ES384
    );
    assert_eq!(ed.algorithm(), Algorithm::EdDSA);
    // The kid is the thumbprint unless set.
    assert_eq!(rsa.kid(), rsa.thumbprint());
    assert_eq!(rsa.clone().with_kid("k1").kid(), "k1");

    // Each key matches the public key of its fixture.
    for (key, public) in [
        (SigningKey::from_pem(RSA_PKCS1_PEM).unwrap(), RSA_PUBLIC_PEM),
        (
            SigningKey::from_pem(EC256_SEC1_PEM).unwrap(),
            EC256_PUBLIC_PEM,
        ),
        (SigningKey::from_pem(EC384_PEM).unwrap(), EC384_PUBLIC_PEM),
    ] {
        let token = issuer_for(&KeyRing::new(key.clone()))
            .issue(&json!({}))
            .unwrap();
        let builder = JwtAuth::<Value>::builder()
            .issuer(ISSUER)
            .audience(AUDIENCE);
        let auth = if key.algorithm() == Algorithm::RS256 {
            builder.rsa_pem(public)
        } else {
            builder.ec_pem(public)
        }
        .build()
        .unwrap();
        auth.verifier().verify(&token).await.unwrap();
    }
}

#[test]
fn unusable_key_material_is_refused() {
    let ec_jwk = SigningKey::from_pem(EC256_PEM)
        .unwrap()
        .public_jwk()
        .unwrap()
        .to_json();
    let refused = [
        SigningKey::from_pem(RSA1024_PEM),
        SigningKey::from_pem(RSA_PUBLIC_PEM),
        SigningKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ),
        SigningKey::from_pem(format!("{EC256_PEM}{ED_PEM}")),
        SigningKey::from_pem("no pem here"),
        SigningKey::from_der([0x30, 0x03, 0x02, 0x01, 0x00]),
        SigningKey::from_der(b"garbage"),
        SigningKey::from_jwk(&ec_jwk),
        SigningKey::from_jwk("not json"),
        SigningKey::from_jwk(r#"{"kty":"oct","k":"AAAA"}"#),
        SigningKey::from_jwk(r#"{"kty":"EC","crv":"P-521","d":"AA","x":"AA","y":"AA"}"#),
    ];
    assert!(SigningKey::from_jwk_set(r#"{"keys":[]}"#).is_err());
    for (i, r) in refused.into_iter().enumerate() {
        assert!(r.is_err(), "case #{i} should be refused");
    }
}

#[test]
fn private_jwks_are_checked_member_by_member() {
    let private: Value = serde_json::from_str(RSA_PRIVATE_JWK).unwrap();
    let variant = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut jwk = private.as_object().unwrap().clone();
        f(&mut jwk);
        SigningKey::from_jwk(&Value::Object(jwk).to_string())
    };
    assert!(variant(&|_| {}).is_ok());
    assert!(
        variant(&|j| {
            j.remove("qi");
        })
        .is_err()
    );
    assert!(
        variant(&|j| {
            j.insert("use".into(), "enc".into());
        })
        .is_err()
    );
    assert!(
        variant(&|j| {
            j.insert("key_ops".into(), json!(["verify"]));
        })
        .is_err()
    );
    assert!(
        variant(&|j| {
            j.insert("alg".into(), "ES256".into());
        })
        .is_err()
    );
    assert!(
        variant(&|j| {
            j.insert("alg".into(), "none".into());
        })
        .is_err()
    );
    assert!(
        variant(&|j| {
            j.insert("oth".into(), json!([]));
        })
        .is_err()
    );
    // A public half that is not the private key's.
    let rfc7638_n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    assert!(
        variant(&|j| {
            j.insert("n".into(), rfc7638_n.into());
        })
        .is_err()
    );
    // A wrong private exponent: the test signature does not verify.
    assert!(
        variant(&|j| {
            let d = j["d"].as_str().unwrap().replacen('a', "b", 1);
            j.insert("d".into(), d.into());
        })
        .is_err()
    );
}

/// A P-256 private JWK (the key of RFC 7515 A.3).
const EC_PRIVATE_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;
/// An Ed25519 private JWK (the key of RFC 8037 A.1).
const ED_PRIVATE_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

/// EC and OKP: the public members must match `d`.
#[test]
fn private_ec_and_okp_jwks_must_match_their_public_members() {
    let ec = EC_PRIVATE_JWK;
    assert!(SigningKey::from_jwk(ec).is_ok());
    assert!(SigningKey::from_jwk(&ec.replace("f83O", "f84O")).is_err());
    let ed = ED_PRIVATE_JWK;
    assert!(SigningKey::from_jwk(ed).is_ok());
    assert!(SigningKey::from_jwk(&ed.replace("11qY", "12qY")).is_err());
    assert!(SigningKey::from_jwk(&ed.replace("nWGx", "nWGxnWGx")).is_err());
}

/// A set loads every key, in order, and names the one it refuses.
#[test]
fn a_private_jwk_set_loads_every_key_and_names_the_one_it_refuses() {
    let (ec, ed) = (EC_PRIVATE_JWK, ED_PRIVATE_JWK);
    let set = format!(r#"{{"keys":[{ed},{ec}]}}"#);
    let keys = SigningKey::from_jwk_set(&set).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].algorithm(), Algorithm::ES256);
    let bad = format!(r#"{{"keys":[{ed},{{"kty":"EC"}}]}}"#);
    let err = SigningKey::from_jwk_set(&bad).unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidKey, "{err}");
    // The message names the entry (an index, not key material).
    assert!(err.to_string().contains("#1"), "{err}");
}

#[tokio::test]
async fn the_fixture_jwk_signs_with_its_own_kid() {
    let key = SigningKey::from_jwk(RSA_PRIVATE_JWK).unwrap();
    let file: Value = serde_json::from_str(RSA_PRIVATE_JWK).unwrap();
    assert_eq!(key.kid(), file["kid"]);
    assert_eq!(
        key.thumbprint(),
        "P5M2rew0KnY0bCaIV9Ta5-EYTIGKYtku39oEGI1pkDw"
    );
    assert_ne!(key.kid(), key.thumbprint());
    assert_eq!(key.algorithm(), Algorithm::RS256);

    let ring = KeyRing::new(key.clone());
    let token = issuer_for(&ring).issue(&json!({"sub": "carol"})).unwrap();
    assert_eq!(header(&token)["kid"], file["kid"]);

    // The published JWK is exactly the public fixture.
    let public: Value = serde_json::from_str(RSA_PUBLIC_JWK).unwrap();
    let published: Value = serde_json::from_str(&key.public_jwk().unwrap().to_json()).unwrap();
    assert_eq!(published, public);

    let auth = JwtAuth::<Value>::builder()
        .jwk(RSA_PUBLIC_JWK)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let claims = auth.verifier().verify(&token).await.unwrap();
    assert_eq!(claims["sub"], "carol");
}

#[test]
fn published_keys_never_carry_private_members() {
    let ring = KeyRing::builder(SigningKey::from_jwk(RSA_PRIVATE_JWK).unwrap())
        .retiring(SigningKey::from_pem(EC384_PEM).unwrap())
        .retiring(SigningKey::from_pem(ED_PEM).unwrap())
        .retiring(SigningKey::hmac(SECRET).unwrap())
        .build()
        .unwrap();
    let jwks: Value = serde_json::from_str(&ring.jwks().to_json()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "HMAC keys are never published");
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(key.get(private).is_none(), "{private} in {key}");
        }
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].is_string() && key["alg"].is_string());
    }
}

#[test]
fn debug_output_never_shows_key_material() {
    let secret = HmacSecret::generate().unwrap();
    let hmac = SigningKey::hmac(secret.as_bytes()).unwrap();
    let jwk = SigningKey::from_jwk(RSA_PRIVATE_JWK).unwrap();
    let file: Value = serde_json::from_str(RSA_PRIVATE_JWK).unwrap();
    let ring = KeyRing::builder(jwk.clone())
        .retiring(hmac.clone())
        .build()
        .unwrap();
    let issuer = TokenIssuer::builder(ring.clone()).build().unwrap();
    let text = format!("{hmac:?} {jwk:?} {ring:?} {issuer:?} {secret:?}");
    assert!(text.contains("[redacted]"));
    for needle in [secret.to_hex(), secret.to_base64url()] {
        assert!(!text.contains(&needle[..16]));
    }
    assert!(!format!("{hmac:?}").contains(&format!("{:?}", &secret.as_bytes()[..4])[1..10]));
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        let value = file[member].as_str().unwrap();
        assert!(!text.contains(&value[..12]), "{member}");
    }
}

#[test]
fn exported_pem_loads_back_as_the_same_key() {
    for pem in [RSA_PKCS1_PEM, EC256_SEC1_PEM, EC384_PEM, ED_PEM] {
        let key = SigningKey::from_pem(pem).unwrap();
        let exported = key.private_key_pem().unwrap();
        assert!(exported.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(
            SigningKey::from_pem(&exported).unwrap().thumbprint(),
            key.thumbprint()
        );
    }
    assert!(
        SigningKey::hmac(SECRET)
            .unwrap()
            .private_key_pem()
            .is_none()
    );
}

#[tokio::test]
async fn jwks_and_discovery_are_served_over_http() {
    let ring = KeyRing::builder(SigningKey::from_pem(EC256_PEM).unwrap())
        .retiring(SigningKey::from_pem(ED_PEM).unwrap())
        .build()
        .unwrap();
    let app = Router::new()
        .route_service("/.well-known/jwks.json", ring.jwks_service())
        .route_service(
            "/.well-known/openid-configuration",
            OpenIdConfigService::new("https://auth.example/").unwrap(),
        )
        .route_service(
            "/plain/jwks.json",
            ring.jwks_service().with_json_content_type(),
        );
    let send = |method: &str, path: &str| {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(req)
    };

    let res = send("GET", "/.well-known/jwks.json").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/jwk-set+json");
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, ring.jwks().to_json());

    let res = send("HEAD", "/.well-known/jwks.json").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let res = send("GET", "/plain/jwks.json").await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");

    let res = ring
        .jwks_service()
        .oneshot(Request::post("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, HEAD");

    let res = send("GET", "/.well-known/openid-configuration")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        doc,
        json!({
            "issuer": "https://auth.example/",
            "jwks_uri": "https://auth.example/.well-known/jwks.json",
        })
    );
}

#[cfg(feature = "aws-lc-rs")]
mod generated {
    use super::*;
    use jwt_layer::issue::KeyKind;

    #[tokio::test]
    async fn generated_keys_sign_tokens_our_layer_accepts() {
        let clock = Clock::fixed(T0);
        let cases = [
            (KeyKind::Es256, Algorithm::ES256, None),
            (KeyKind::Es384, Algorithm::ES384, None),
            (KeyKind::EdDsa, Algorithm::EdDSA, None),
            (KeyKind::Rsa2048, Algorithm::RS256, Some(256)),
            (KeyKind::Rsa3072, Algorithm::RS256, Some(384)),
            (KeyKind::Rsa4096, Algorithm::RS256, Some(512)),
        ];
        for (kind, alg, modulus_len) in cases {
            let key = SigningKey::generate(kind).unwrap();
            assert_eq!(key.algorithm(), alg, "{kind:?}");
            assert_eq!(key.kid(), key.thumbprint());
            let jwk: Value = serde_json::from_str(&key.public_jwk().unwrap().to_json()).unwrap();
            if let Some(len) = modulus_len {
                let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
                assert_eq!(n.len(), len, "{kind:?}");
            }
            let ring = KeyRing::builder(key.clone())
                .clock(clock.clone())
                .build()
                .unwrap();
            let token = issuer_for(&ring).issue(&json!({"sub": "gen"})).unwrap();
            let auth = verifier_for(&ring, clock.clone());
            assert_eq!(auth.verifier().verify(&token).await.unwrap()["sub"], "gen");

            let again = SigningKey::from_pem(key.private_key_pem().unwrap()).unwrap();
            assert_eq!(again.thumbprint(), key.thumbprint());
        }
        let a = SigningKey::generate(KeyKind::EdDsa).unwrap();
        let b = SigningKey::generate(KeyKind::EdDsa).unwrap();
        assert_ne!(a.kid(), b.kid());
    }

    #[test]
    fn pkcs8_v2_with_the_public_key_loads() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::Ed25519KeyPair;
        let v2 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let key = SigningKey::from_der(v2.as_ref()).unwrap();
        let v1 = Ed25519KeyPair::from_pkcs8(v2.as_ref()).unwrap();
        let x = URL_SAFE_NO_PAD.encode(aws_lc_rs::signature::KeyPair::public_key(&v1));
        let jwk: Value = serde_json::from_str(&key.public_jwk().unwrap().to_json()).unwrap();
        assert_eq!(jwk["x"], x);
    }
}
