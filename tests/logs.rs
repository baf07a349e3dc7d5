//! Secrets and tokens never reach the logs. A `tracing_subscriber` fmt
//! subscriber at TRACE writes every event of the process (ours and our
//! dependencies') into a shared buffer; hostile and valid requests and JWKS
//! fetches (good and failing) run; the buffer must then hold no token, no
//! token segment, no secret and no key material — and must hold the events
//! we expect, so that the test can fail.
#![cfg(feature = "tracing")]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::capture::{captured, logs};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

/// Everything secret about a token: the whole text and each segment.
fn token_secrets(token: &str) -> Vec<(String, String)> {
    let mut out = vec![(format!("token {token}"), token.to_owned())];
    for (i, segment) in token.split('.').enumerate() {
        if segment.len() >= 16 {
            out.push((format!("segment {i} of {token}"), segment.to_owned()));
        }
    }
    out
}

/// An HMAC secret in every form a log line might carry it.
fn secret_forms(name: &str, secret: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(secret).into_owned();
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let debug = format!("{:?}", &secret[..16]);
    vec![
        (format!("{name} as text"), text[..24].to_owned()),
        (
            format!("{name} as base64url"),
            URL_SAFE_NO_PAD.encode(secret)[..24].to_owned(),
        ),
        (
            format!("{name} as base64"),
            STANDARD.encode(secret)[..24].to_owned(),
        ),
        (format!("{name} as hex"), hex[..32].to_owned()),
        (format!("{name} as bytes"), debug),
    ]
}

/// The base64 body of a PEM, line by line, and the JWK members of a key.
fn key_material(name: &str, pem: &str, jwk: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 24)
        .map(|l| (format!("{name} PEM line"), l[..24].to_owned()))
        .collect();
    if let Some(jwk) = jwk {
        let v: serde_json::Value = serde_json::from_str(jwk).unwrap();
        for member in ["n", "x", "y", "k", "d"] {
            if let Some(s) = v[member].as_str().filter(|s| s.len() >= 24) {
                out.push((format!("{name} JWK {member}"), s[..24].to_owned()));
            }
        }
    }
    out
}

fn assert_clean(forbidden: &[(String, String)]) {
    let logs = captured();
    for (what, needle) in forbidden {
        assert!(
            !logs.contains(needle.as_str()),
            "the logs contain {what}: {needle:?}\n--- logs ---\n{logs}"
        );
    }
}

/// Tokens the default layer refuses (401): forged, expired, for another
/// audience, `alg: none`, keyed with the RSA public key, `good` tampered,
/// and a kid with a log-line injection.
fn refused_tokens(good: &str) -> Vec<String> {
    let forged = sign(
        Algorithm::HS256,
        None,
        &claims(),
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    let expired = hs256(&claims_with(json!({"exp": now() - 3600})));
    let foreign = hs256(&claims_with(json!({"aud": "another-api"})));
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(claims().to_string())
    );
    let pem_key = EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes());
    let confused = sign(Algorithm::HS256, None, &claims(), &pem_key);
    let tampered = with_signature(good, &[0u8; 32]);
    let kid_injection = craft_signed(
        r#"{"alg":"HS256","kid":"k\r\nlevel=ERROR forged"}"#,
        &claims().to_string(),
        Algorithm::HS256,
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    vec![
        forged,
        expired,
        foreign,
        none,
        confused,
        tampered,
        kid_injection,
    ]
}

#[tokio::test]
async fn requests_log_their_kind_but_never_the_token_or_the_secret() {
    logs();
    let (app, hits) = router(builder().build().unwrap());
    let good = valid_token();
    let mut forbidden = Vec::new();
    assert_ok(&app, &hits, bearer(&good)).await;
    assert_ok(&app, &hits, bearer(&good)).await; // from the token cache
    for token in &refused_tokens(&good) {
        let res = send(&app, bearer(token)).await;
        assert_eq!(res.status(), http::StatusCode::UNAUTHORIZED);
        forbidden.extend(token_secrets(token));
    }
    // Malformed requests and oversized tokens.
    let huge = format!(
        "{}.{}.{}",
        "A".repeat(5000),
        "B".repeat(5000),
        "C".repeat(100)
    );
    let _ = send(&app, authorization(&format!("Bearer {huge}"))).await;
    let _ = send(&app, authorization(&format!("Bearer {good} {good}"))).await;
    forbidden.extend(token_secrets(&good));
    forbidden.push(("the oversized token".into(), "A".repeat(64)));
    forbidden.extend(secret_forms("our secret", SECRET));
    forbidden.extend(secret_forms("the forger's secret", OTHER_SECRET));
    forbidden.extend(key_material("RSA public key", RSA_PUBLIC_PEM, None));
    forbidden.push(("the injected log line".into(), "level=ERROR forged".into()));
    assert_clean(&forbidden);
    let logs = captured();
    assert!(
        logs.contains("request rejected"),
        "no rejection was logged:\n{logs}"
    );
    assert!(logs.contains("Expired"), "the kind is logged:\n{logs}");
}

#[tokio::test]
async fn debug_output_of_the_layer_and_keys_holds_no_material() {
    logs();
    let auth = builder().build().unwrap();
    let key = jwt_layer::Key::hmac(SECRET).unwrap();
    let rsa = jwt_layer::Key::rsa_pem(RSA_PUBLIC_PEM).unwrap();
    let text = format!("{auth:?} {key:?} {rsa:?} {:?}", auth.verifier());
    tracing::info!(target: "logs_test", debug = %text, "debug output");
    let mut forbidden = secret_forms("our secret", SECRET);
    forbidden.extend(key_material("RSA public key", RSA_PUBLIC_PEM, None));
    for (what, needle) in &forbidden {
        assert!(
            !text.contains(needle.as_str()),
            "Debug shows {what}: {text}"
        );
    }
    assert_clean(&forbidden);
}

#[cfg(feature = "test-util")]
mod remote {
    use std::time::Duration;

    use jsonwebtoken::{Algorithm, DecodingKey};
    use jwt_layer::keys::RemoteJwks;
    use jwt_layer::testing::{Behavior, JwksServer};

    use super::*;

    /// An `oct` JWK publishing [`SECRET`].
    fn oct_jwk() -> String {
        format!(r#"{{"kty":"oct","kid":"oct","k":"{}"}}"#, b64(SECRET))
    }

    /// The RSA-1024 fixture as a JWK (kid `weak`).
    fn weak_jwk() -> String {
        jwk_json(
            &DecodingKey::from_rsa_pem(RSA1024_PUBLIC_PEM.as_bytes()).unwrap(),
            Algorithm::RS256,
            Some("weak"),
        )
    }

    /// A set with a published HMAC secret (skipped), a malformed entry, a
    /// weak key, and two good keys.
    fn mixed_set() -> String {
        let odd = format!(
            r#"{{"kty":"RSA","kid":"odd","n":5,"e":"AQAB","k":"{}"}}"#,
            b64(SECRET)
        );
        jwks_json(&[oct_jwk(), odd, weak_jwk(), rsa_jwk("rsa"), ed_jwk("ed")])
    }

    /// What the logs of the key set fetches must not contain: the parts of
    /// `tokens`, the published secret, and the keys' material.
    fn forbidden_in_fetch_logs(tokens: &[&String]) -> Vec<(String, String)> {
        let mut forbidden = Vec::new();
        for token in tokens {
            forbidden.extend(token_secrets(token));
        }
        forbidden.extend(secret_forms("the published secret", SECRET));
        forbidden.extend(key_material(
            "RSA key",
            RSA_PUBLIC_PEM,
            Some(&rsa_jwk("rsa")),
        ));
        forbidden.extend(key_material(
            "Ed25519 key",
            ED_PUBLIC_PEM,
            Some(&ed_jwk("ed")),
        ));
        forbidden.extend(key_material(
            "weak RSA key",
            RSA1024_PUBLIC_PEM,
            Some(&weak_jwk()),
        ));
        forbidden.push(("the redirect target's query".into(), "secret=abc".into()));
        forbidden
    }

    #[tokio::test]
    async fn key_set_fetches_log_no_key_material_nor_secret() {
        logs();
        let server = JwksServer::start().await.unwrap();
        server.set_jwks(mixed_set());
        let keys = RemoteJwks::builder(server.url())
            .timeout(Duration::from_millis(500))
            .backoff(Duration::from_millis(20), Duration::from_millis(50))
            .build()
            .unwrap();
        let (app, hits) = app_for(keys.clone());
        let good = sign(Algorithm::RS256, Some("rsa"), &claims(), &rsa_signer());
        assert_ok(&app, &hits, bearer(&good)).await;
        let unknown = sign(Algorithm::RS256, Some("rotated"), &claims(), &rsa_signer());
        let hmac = sign(Algorithm::HS256, Some("oct"), &claims(), &hmac_signer());
        for token in [&unknown, &hmac] {
            assert_eq!(
                send(&app, bearer(token)).await.status(),
                http::StatusCode::UNAUTHORIZED
            );
        }
        // Failing refreshes: each is logged at warn.
        for behavior in [
            Behavior::Status(500),
            Behavior::Garbage,
            Behavior::Huge(1024 * 1024),
            Behavior::Redirect("https://evil.example/jwks.json?secret=abc".into()),
        ] {
            server.set_behavior(behavior);
            assert!(keys.refresh().await.is_err());
        }
        server.set_behavior(Behavior::Normal);
        let oct = oct_jwk();
        server.set_jwks(format!(r#"{{"keys":[{oct}],"junk":"{}"}}"#, b64(SECRET)));
        assert!(keys.refresh().await.is_err());

        assert_clean(&forbidden_in_fetch_logs(&[&good, &unknown, &hmac]));
        let logs = captured();
        assert!(logs.contains("key set fetched"), "{logs}");
        assert!(logs.contains("key set fetch failed"), "{logs}");
        assert!(logs.contains("key skipped"), "{logs}");
    }

    #[tokio::test]
    async fn a_query_secret_in_the_key_set_url_is_not_logged() {
        logs();
        let server = JwksServer::start().await.unwrap();
        server.set_jwks(jwks_json(&[rsa_jwk("rsa")]));
        let url = format!("{}?api_key=query-secret-1f2e3d4c", server.url());
        let keys = RemoteJwks::builder(url).build().unwrap();
        keys.prefetch().await.unwrap();
        server.set_behavior(Behavior::Status(500));
        assert!(keys.refresh().await.is_err());
        assert_clean(&[(
            "the URL's query secret".into(),
            "query-secret-1f2e3d4c".into(),
        )]);
    }

    /// A discovery document naming another issuer is a configuration error,
    /// logged at `error` with both issuers (the client only sees 503).
    #[tokio::test]
    async fn a_discovery_document_naming_another_issuer_is_logged_with_both() {
        logs();
        let server = JwksServer::start().await.unwrap();
        server.set_jwks(jwks_json(&[rsa_jwk("rsa")]));
        let configured = server.base_url();
        let discovered = "https://idp.example/tenant-9f8e";
        let config = serde_json::json!({"issuer": discovered, "jwks_uri": server.url()});
        server.set_document(
            "/.well-known/openid-configuration",
            "application/json",
            config.to_string(),
        );
        let keys = RemoteJwks::discover(configured.clone()).build().unwrap();
        assert!(keys.prefetch().await.is_err());
        let logs = captured();
        let line = logs
            .lines()
            .find(|l| l.contains("discovery document names another issuer"))
            .unwrap_or_else(|| panic!("no configuration error logged: {logs}"));
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains(&configured), "{line}");
        assert!(line.contains(discovered), "{line}");
    }
}

/// An `iss` that misses the configured issuer only by a trailing slash is
/// refused (matching stays exact) and hinted at in a `warn`, once per
/// distinct value.
#[tokio::test]
async fn a_near_miss_issuer_is_hinted_at_once() {
    logs();
    let configured = "https://near-miss.example/";
    let app = router(
        jwt_layer::JwtAuth::<TestClaims>::builder()
            .hmac_secret(SECRET)
            .issuer(configured)
            .build()
            .unwrap(),
    )
    .0;
    let seen = "https://near-miss.example";
    let token = hs256(&claims_with(json!({"iss": seen})));
    for _ in 0..3 {
        assert_eq!(send(&app, bearer(&token)).await.status(), 401);
    }
    let logs = captured();
    let hints: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("differs from a configured issuer only by"))
        .filter(|l| l.contains(seen))
        .collect();
    assert_eq!(hints.len(), 1, "{logs}");
    assert!(
        hints[0].contains("WARN") && hints[0].contains(configured),
        "{}",
        hints[0]
    );
}
