//! Issuing and verifying over real HTTP: an issuer publishes its key ring at
//! `/.well-known/jwks.json` on 127.0.0.1, and a `JwtAuth` over `RemoteJwks`
//! accepts its tokens for every asymmetric algorithm, follows a rotation
//! with one fetch, and drops the old key once the ring retires it.
#![cfg(all(feature = "issue", feature = "remote-jwks", feature = "aws-lc-rs"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use jwt_layer::issue::{KeyKind, KeyRing, SigningKey, TokenIssuer};
use jwt_layer::keys::RemoteJwks;
use jwt_layer::{Algorithm, AuthErrorKind, Clock, JwtAuth};
use serde_json::{Value, json};

const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "api";

async fn publish(ring: &KeyRing) -> String {
    let app = Router::new().route_service("/.well-known/jwks.json", ring.jwks_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/.well-known/jwks.json")
}

/// A generated signing key for every asymmetric algorithm (one RSA key
/// for all six RSA algorithms).
fn a_key_per_asymmetric_algorithm() -> [(Algorithm, SigningKey); 9] {
    let rsa = SigningKey::generate(KeyKind::Rsa2048).unwrap();
    [
        (Algorithm::RS256, rsa.clone()),
        (
            Algorithm::RS384,
            rsa.clone().with_algorithm(Algorithm::RS384).unwrap(),
        ),
        (
            Algorithm::RS512,
            rsa.clone().with_algorithm(Algorithm::RS512).unwrap(),
        ),
        (
            Algorithm::PS256,
            rsa.clone().with_algorithm(Algorithm::PS256).unwrap(),
        ),
        (
            Algorithm::PS384,
            rsa.clone().with_algorithm(Algorithm::PS384).unwrap(),
        ),
        (
            Algorithm::PS512,
            rsa.with_algorithm(Algorithm::PS512).unwrap(),
        ),
        (
            Algorithm::ES256,
            SigningKey::generate(KeyKind::Es256).unwrap(),
        ),
        (
            Algorithm::ES384,
            SigningKey::generate(KeyKind::Es384).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            SigningKey::generate(KeyKind::EdDsa).unwrap(),
        ),
    ]
}

#[tokio::test]
async fn every_asymmetric_algorithm_round_trips_through_a_published_key_set() {
    for (alg, key) in a_key_per_asymmetric_algorithm() {
        let ring = KeyRing::new(key);
        let url = publish(&ring).await;
        let issuer = TokenIssuer::builder(ring.clone())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap();
        let auth = JwtAuth::<Value>::builder()
            .key_source(RemoteJwks::builder(url).build().unwrap())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap();
        let token = issuer.issue(&json!({"sub": "alice"})).unwrap();
        let claims = auth
            .verifier()
            .verify(&token)
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(claims["sub"], "alice", "{alg:?}");
        // The published key pins its algorithm: the same key under another
        // algorithm of its family is refused.
        assert_eq!(ring.jwks().keys()[0].algorithm(), Some(alg));
    }
}

#[tokio::test]
async fn rotation_is_followed_with_one_fetch_and_the_retired_key_leaves() {
    let now = Arc::new(AtomicU64::new(jwt_layer::testing::now()));
    let clock = {
        let now = Arc::clone(&now);
        Clock::from_fn(move || now.load(Ordering::SeqCst))
    };
    let ring = KeyRing::builder(SigningKey::generate(KeyKind::Es256).unwrap())
        .max_token_ttl(Duration::from_secs(300))
        .leeway(Duration::from_secs(60))
        .clock(clock.clone())
        .build()
        .unwrap();
    let issuer = TokenIssuer::builder(ring.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .ttl(Duration::from_secs(300))
        .build()
        .unwrap();
    let keys = RemoteJwks::builder(publish(&ring).await).build().unwrap();
    let auth = JwtAuth::<Value>::builder()
        .key_source(keys.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock)
        .build()
        .unwrap();

    let old = issuer.issue(&json!({"sub": "alice"})).unwrap();
    let old_kid = ring.signing_key().kid().to_owned();
    auth.verifier().verify(&old).await.unwrap();
    assert_eq!(keys.status().fetches, 1);

    ring.rotate(SigningKey::generate(KeyKind::EdDsa).unwrap())
        .unwrap();
    let new = issuer.issue(&json!({"sub": "bob"})).unwrap();
    assert_ne!(
        ring.signing_key().kid(),
        old_kid,
        "new tokens carry the new kid"
    );
    assert_eq!(auth.verifier().verify(&new).await.unwrap()["sub"], "bob");
    assert_eq!(keys.status().fetches, 2, "the new key cost one fetch");
    // Old tokens stay valid until they expire; the old key stays published.
    now.fetch_add(200, Ordering::SeqCst);
    keys.refresh().await.unwrap();
    assert!(ring.jwks().contains(&old_kid));
    assert_eq!(auth.verifier().verify(&old).await.unwrap()["sub"], "alice");

    // Past the last token's lifetime (+ leeway) the old key leaves the set,
    // and after the next refresh it verifies nothing.
    now.fetch_add(200, Ordering::SeqCst);
    assert!(!ring.jwks().contains(&old_kid));
    keys.refresh().await.unwrap();
    let err = auth.verifier().verify(&old).await.unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::UnknownKey);
    let fresh = issuer.issue(&json!({"sub": "carol"})).unwrap();
    assert_eq!(
        auth.verifier().verify(&fresh).await.unwrap()["sub"],
        "carol"
    );
}
