//! Property tests: whatever the bytes, the verifier and the layer answer
//! with an error of the right class (never a panic, never a 500), and the
//! key set parsers never panic.
//!
//! - arbitrary strings and token-shaped strings through `Verifier::verify`:
//!   always a 401-class error;
//! - arbitrary bytes as the `Authorization` value, and arbitrary strings
//!   after `Bearer `: 400 or 401 with one of the fixed challenges, the
//!   handler never runs;
//! - arbitrary JSON header and payload under a *valid* HMAC signature: 200
//!   or 401, and a 200 only for claims that pass the rules;
//! - arbitrary JSON and JWK-shaped JSON as a JWK Set or JWK: no panic.

mod common;

use std::sync::OnceLock;

use axum::Router;
use http::StatusCode;
use jwt_layer::{Clock, JwtAuth, Key, StaticKeys};
use proptest::prelude::*;
use serde_json::{Value, json};

use common::*;

/// The clock of the layers here.
const T: u64 = 1_700_000_000;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A layer with keys of every type (some with a kid), on a fixed clock.
fn auth() -> JwtAuth<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(SECRET).unwrap().with_kid("hs"))
        .key(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("rs"))
        .key(Key::ec_pem(EC256_PUBLIC_PEM).unwrap())
        .key(Key::ed_pem(ED_PUBLIC_PEM).unwrap().with_kid("ed"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(Clock::fixed(T))
        .build()
        .unwrap()
}

thread_local! {
    /// One app per test thread: the handler counts must not see the
    /// requests of tests running beside.
    static APP: (Router, Hits) = router(auth());
}

fn app() -> (Router, Hits) {
    APP.with(|app| app.clone())
}

fn verifier() -> &'static jwt_layer::Verifier<TestClaims> {
    static AUTH: OnceLock<JwtAuth<TestClaims>> = OnceLock::new();
    AUTH.get_or_init(auth).verifier()
}

/// The challenges a 400 or 401 of the default realm may carry.
fn is_fixed_challenge(value: &str) -> bool {
    const DESCRIPTIONS: &[&str] = &[
        "malformed token",
        "token too large",
        "unsupported token header",
        "algorithm not allowed",
        "unknown signing key",
        "invalid signature",
        "token expired",
        "token not yet valid",
        "token issued in the future",
        "token lifetime too long",
        "invalid issuer",
        "invalid audience",
        "invalid claims",
    ];
    value == MISSING
        || value == INVALID_REQUEST
        || DESCRIPTIONS.iter().any(|d| value == invalid_token(d))
}

/// Sends a request with the given `Authorization` value and checks the
/// rejection's shape; returns the status.
fn send_authorization(value: http::HeaderValue) -> StatusCode {
    let (app, hits) = app();
    let before = hits.count();
    let mut req = anonymous();
    req.headers_mut().insert(http::header::AUTHORIZATION, value);
    let res = runtime().block_on(send(&app, req));
    let status = res.status();
    assert!(
        matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED),
        "status {status}"
    );
    let challenge = challenge(&res).expect("a challenge");
    assert!(is_fixed_challenge(challenge), "challenge {challenge:?}");
    assert_eq!(hits.count(), before, "the handler ran");
    status
}

/// A base64url-ish segment: mostly alphabet characters, some noise.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,64}",
        "[A-Za-z0-9_=+/ -]{0,16}",
        any::<Vec<u8>>().prop_map(b64),
        "\\PC{0,8}",
    ]
}

/// Arbitrary JSON values, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("HS256"),
            Just("RS256"),
            Just("ES256"),
            Just("EdDSA"),
            Just("none"),
            Just("RSA"),
            Just("EC"),
            Just("OKP"),
            Just("oct"),
            Just("P-256"),
            Just("Ed25519"),
            Just("sig"),
            Just("enc"),
            Just(ISSUER),
            Just(AUDIENCE),
            Just("hs"),
            Just("rs"),
            Just("ed"),
            Just("AQAB"),
        ]
        .prop_map(Value::from),
        (T - 1000..T + 1000).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("alg".to_owned()),
                    Just("kid".to_owned()),
                    Just("crit".to_owned()),
                    Just("kty".to_owned()),
                    Just("n".to_owned()),
                    Just("e".to_owned()),
                    Just("x".to_owned()),
                    Just("y".to_owned()),
                    Just("k".to_owned()),
                    Just("crv".to_owned()),
                    Just("use".to_owned()),
                    Just("keys".to_owned()),
                    Just("exp".to_owned()),
                    Just("nbf".to_owned()),
                    Just("iat".to_owned()),
                    Just("iss".to_owned()),
                    Just("aud".to_owned()),
                    Just("sub".to_owned()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object that looks like a JWT header, valid for our HMAC key
/// more often than not.
fn header() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            4 => Just("HS256".to_owned()),
            1 => prop::sample::select(vec!["HS384", "HS512", "RS256", "none"]).prop_map(String::from),
            1 => "\\PC{0,6}",
        ],
        prop::option::weighted(
            0.3,
            prop_oneof![
                prop::sample::select(vec!["hs", "rs", "ed"]).prop_map(String::from),
                "\\PC{0,6}",
            ],
        ),
        prop::collection::btree_map("[a-z]{1,5}", json_value(), 0..3),
    )
        .prop_map(|(alg, kid, extra)| {
            let mut h = json!({"alg": alg});
            if let Some(kid) = kid {
                h["kid"] = json!(kid);
            }
            for (k, v) in extra {
                h[k] = v;
            }
            h
        })
}

/// One of `good` most of the time, else any JSON value or nothing.
fn mostly(good: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => good.prop_map(Some),
        1 => json_value().prop_map(Some),
        1 => Just(None),
    ]
}

/// A JSON object that looks like JWT claims, valid more often than not.
fn payload() -> impl Strategy<Value = Value> {
    (
        mostly(Just(json!(ISSUER))),
        mostly(prop_oneof![
            Just(json!(AUDIENCE)),
            Just(json!([AUDIENCE, "x"]))
        ]),
        mostly((T - 200..T + 400).prop_map(Value::from)),
        prop::option::weighted(
            0.3,
            prop_oneof![(T - 200..T + 200).prop_map(Value::from), json_value()],
        ),
        mostly(Just(json!("alice"))),
        prop::collection::btree_map("[a-z]{1,5}", json_value(), 0..3),
    )
        .prop_map(|(iss, aud, exp, nbf, sub, extra)| {
            let mut c = serde_json::Map::new();
            for (k, v) in extra {
                c.insert(k, v);
            }
            for (k, v) in [
                ("iss", iss),
                ("aud", aud),
                ("exp", exp),
                ("nbf", nbf),
                ("sub", sub),
            ] {
                if let Some(v) = v {
                    c.insert(k.to_owned(), v);
                }
            }
            Value::Object(c)
        })
}

/// A JWK-shaped object, with real key members mixed in.
fn jwk() -> impl Strategy<Value = Value> {
    let real = [
        jwk_json(
            &jsonwebtoken::DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::RS256,
            Some("rs"),
        ),
        jwk_json(
            &jsonwebtoken::DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::ES256,
            None,
        ),
        jwk_json(
            &jsonwebtoken::DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::EdDSA,
            Some("ed"),
        ),
    ]
    .map(|j| serde_json::from_str::<Value>(&j).unwrap());
    (
        prop::sample::select(real.to_vec()),
        prop::collection::btree_map(
            prop_oneof![
                Just("kty".to_owned()),
                Just("crv".to_owned()),
                Just("alg".to_owned()),
                Just("use".to_owned()),
                Just("kid".to_owned()),
                Just("n".to_owned()),
                Just("e".to_owned()),
                Just("x".to_owned()),
                Just("y".to_owned()),
                Just("k".to_owned()),
                Just("key_ops".to_owned()),
            ],
            json_value(),
            0..3,
        ),
    )
        .prop_map(|(mut base, changes)| {
            for (k, v) in changes {
                base[k] = v;
            }
            base
        })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_strings_never_verify(token in "\\PC{0,200}") {
        let err = runtime().block_on(verifier().verify(&token)).unwrap_err();
        prop_assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn token_shaped_strings_never_verify(
        h in segment(), p in segment(), s in segment(), dots in 0usize..5,
    ) {
        let mut token = format!("{h}.{p}.{s}");
        for _ in 0..dots {
            token.push('.');
            token.push_str(&h);
        }
        let err = runtime().block_on(verifier().verify(&token)).unwrap_err();
        prop_assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn arbitrary_authorization_bytes_get_400_or_401(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
            send_authorization(value);
        }
    }

    #[test]
    fn arbitrary_bearer_credentials_get_400_or_401(
        scheme in prop_oneof![
            prop::sample::select(vec!["Bearer", "bearer", "BEARER"]).prop_map(String::from),
            "[A-Za-z]{0,7}",
        ],
        spaces in " {0,3}",
        token in prop_oneof!["\\PC{0,200}", "[ -~]{0,200}", segment()],
    ) {
        if let Ok(value) = http::HeaderValue::from_str(&format!("{scheme}{spaces}{token}")) {
            send_authorization(value);
        }
    }

    #[test]
    fn signed_arbitrary_json_passes_only_valid_claims(h in header(), p in payload()) {
        let token = craft(&h.to_string(), &p.to_string());
        let (app, hits) = app();
        let before = hits.count();
        let res = runtime().block_on(send(&app, bearer(&token)));
        match res.status() {
            StatusCode::OK => {
                // Re-check every rule the layer applies, independently.
                prop_assert_eq!(hits.count(), before + 1);
                prop_assert!(h["alg"].as_str().is_some_and(|a| a.starts_with("HS")));
                prop_assert!(h.get("crit").is_none());
                prop_assert_eq!(&p["iss"], &json!(ISSUER));
                let aud_ok = match &p["aud"] {
                    Value::String(s) => s == AUDIENCE,
                    Value::Array(a) => a.iter().any(|v| v == AUDIENCE),
                    _ => false,
                };
                prop_assert!(aud_ok);
                let exp = p["exp"].as_f64().unwrap();
                prop_assert!(exp + 60.0 > T as f64);
                if let Some(nbf) = p.get("nbf") {
                    prop_assert!(nbf.as_f64().unwrap() <= T as f64 + 60.0);
                }
                prop_assert!(p["sub"].is_string());
            }
            StatusCode::UNAUTHORIZED => {
                prop_assert_eq!(hits.count(), before);
                let challenge = challenge(&res).unwrap();
                prop_assert!(is_fixed_challenge(challenge), "{}", challenge);
            }
            other => prop_assert!(false, "status {}", other),
        }
    }

    #[test]
    fn arbitrary_json_as_a_key_set_never_panics(doc in json_value()) {
        let text = doc.to_string();
        let _ = StaticKeys::from_jwks_json(&text);
        let _ = Key::from_jwk(&text);
        let _ = StaticKeys::from_jwks_json(&format!(r#"{{"keys":{text}}}"#));
        let _ = StaticKeys::from_jwks_json(&format!(r#"{{"keys":[{text}]}}"#));
    }

}

proptest! {
    // Each case builds a layer and checks 12 forged tokens: fewer cases.
    #![proptest_config(config(128))]

    #[test]
    fn jwk_shaped_json_never_panics_and_usable_keys_verify_nothing_forged(
        keys in prop::collection::vec(jwk(), 1..5),
    ) {
        let doc = json!({"keys": keys}).to_string();
        let Ok(set) = StaticKeys::from_jwks_json(&doc) else { return Ok(()) };
        let auth = JwtAuth::<Value>::builder()
            .key_source(set)
            .allow_any_issuer_and_audience()
            .clock(Clock::fixed(T))
            .build()
            .unwrap();
        for (alg, sig_len) in [("RS256", 256), ("PS256", 256), ("ES256", 64), ("EdDSA", 64)] {
            for kid in [None, Some("rs"), Some("ed")] {
                let mut h = json!({"alg": alg});
                if let Some(kid) = kid {
                    h["kid"] = json!(kid);
                }
                let token = format!(
                    "{}.{}.{}",
                    b64(h.to_string()),
                    b64(json!({"exp": T + 100}).to_string()),
                    b64(vec![0x5a; sig_len]),
                );
                let err = runtime().block_on(auth.verifier().verify(&token)).unwrap_err();
                prop_assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
            }
        }
    }
}

#[test]
fn the_signed_strategy_reaches_both_answers() {
    // The same property on a fixed seed, counted: a strategy that never
    // produced a valid token would check nothing on the 200 branch.
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 200,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let (ok, rejected) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let (app, _) = app();
    let app = &app;
    runner
        .run(&(header(), payload()), |(h, p)| {
            let token = craft(&h.to_string(), &p.to_string());
            match runtime().block_on(send(app, bearer(&token))).status() {
                StatusCode::OK => ok.set(ok.get() + 1),
                _ => rejected.set(rejected.get() + 1),
            }
            Ok(())
        })
        .unwrap();
    let (ok, rejected) = (ok.get(), rejected.get());
    assert!(
        ok >= 10 && rejected >= 10,
        "{ok} passed, {rejected} rejected"
    );
}
