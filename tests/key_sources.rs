//! Key sources real providers publish, over real loopback HTTP: Google- and
//! Firebase-shaped certificate maps with rotation, `x5c`-only JWKs and a
//! `x5c` that disagrees with its `n`, Supabase-shaped HS256 + ES256 tokens
//! on one issuer, a restart during an outage from a saved key set, and a
//! key set served only to a bearer token read from a file.
#![cfg(feature = "test-util")]

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey};
use jwt_layer::keys::{
    BearerTokenFile, JwksErrorKind, KeySetFormat, RemoteJwks, SavedKeySet, StaticKeys,
};
use jwt_layer::testing::{Behavior, JwksServer};
use jwt_layer::{AuthErrorKind, JwtAuth, Key, Verifier};
use serde_json::json;

fn verifier(keys: impl jwt_layer::keys::IntoKeySource) -> Verifier<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .key_source(keys)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
        .verifier()
        .clone()
}

async fn outcome(v: &Verifier<TestClaims>, token: &str) -> Result<(), AuthErrorKind> {
    v.verify(token).await.map(|_| ()).map_err(|e| e.kind())
}

/// A fresh key whose certificate a started key server serves as `k`.
async fn served_key(alg: Algorithm) -> (Certified, JwksServer) {
    let key = Certified::new(alg);
    let server = JwksServer::start().await.unwrap();
    server.set_certificate_map([("k", key.pem.as_str())]);
    (key, server)
}

fn signed(c: &Certified, kid: &str) -> String {
    sign(c.alg, Some(kid), &claims(), &c.signer)
}

#[tokio::test]
async fn google_shaped_certificate_map_rotates_like_a_jwk_set() {
    let (old, new) = (
        Certified::new(Algorithm::RS256),
        Certified::new(Algorithm::RS256),
    );
    let server = JwksServer::start().await.unwrap();
    server.set_certificate_map([("old-kid", old.pem.as_str())]);
    server.set_cache_control(Some("public, max-age=19851, must-revalidate"));
    let keys = remote(&server).build().unwrap();
    let v = verifier(keys.clone());
    assert_eq!(outcome(&v, &signed(&old, "old-kid")).await, Ok(()));
    assert_eq!(keys.status().lifetime, Some(Duration::from_secs(19851)));

    // Google publishes the next key before signing with it: an unknown kid
    // refetches at once, single flight.
    server.set_certificate_map([("old-kid", old.pem.as_str()), ("new-kid", new.pem.as_str())]);
    let new_token = signed(&new, "new-kid");
    let (a, b) = tokio::join!(outcome(&v, &new_token), outcome(&v, &new_token));
    assert_eq!((a, b), (Ok(()), Ok(())));
    assert_eq!(server.request_count(), 2, "one refetch for both requests");

    // The old key is withdrawn: after a refresh its tokens are refused.
    server.set_certificate_map([("new-kid", new.pem.as_str())]);
    keys.refresh().await.unwrap();
    assert_eq!(
        outcome(&v, &signed(&old, "old-kid")).await,
        Err(AuthErrorKind::UnknownKey)
    );
    // A certificate never verifies under a kid it was not published for.
    assert_eq!(
        outcome(&v, &signed(&old, "new-kid")).await,
        Err(AuthErrorKind::InvalidSignature)
    );
}

#[tokio::test]
async fn firebase_shaped_map_forced_format_expired_certificate_still_used() {
    // Firebase's certificates carry dates, but keys rotate by key set: an
    // expired certificate in the served set still verifies (logged at warn,
    // not checked here).
    let expired = Certified::valid_until(Algorithm::RS256, 2001);
    let current = Certified::new(Algorithm::RS256);
    let kid_a = "0d4b5c2f0b7e6b1b2e3a4f5d6c7b8a9f0e1d2c3b";
    let kid_b = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b";
    let server = JwksServer::start().await.unwrap();
    server.set_certificate_map([(kid_a, expired.pem.as_str()), (kid_b, current.pem.as_str())]);
    let keys = remote(&server)
        .format(KeySetFormat::PemCertificates)
        .build()
        .unwrap();
    let v = verifier(keys.clone());
    assert_eq!(outcome(&v, &signed(&expired, kid_a)).await, Ok(()));
    assert_eq!(outcome(&v, &signed(&current, kid_b)).await, Ok(()));
    assert_eq!(keys.status().key_count, 2);

    // Forced to the other format, the same document is no key set at all.
    let as_jwks = remote(&server).format(KeySetFormat::Jwks).build().unwrap();
    assert_eq!(
        as_jwks.prefetch().await.unwrap_err().kind(),
        JwksErrorKind::Malformed
    );
}

#[tokio::test]
async fn certificate_maps_skip_weak_unsupported_and_hostile_entries() {
    let good = Certified::new(Algorithm::ES256);
    let ed = Certified::new(Algorithm::EdDSA);
    let weak = include_str!("data/rsa1024-cert.pem");
    let p521 = include_str!("data/p521-cert.pem");
    let huge = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        "QUFB".repeat(40_000)
    );
    let truncated = &good.pem[..good.pem.len() / 2];
    let two_certs = format!("{}{}", good.pem, ed.pem);
    let server = JwksServer::start().await.unwrap();
    server.set_certificate_map([
        ("weak", weak),
        ("p521", p521),
        ("huge", huge.as_str()),
        ("truncated", truncated),
        ("not-pem", "hello"),
        ("public-key", ED_PUBLIC_PEM),
        ("two", two_certs.as_str()),
        ("good", good.pem.as_str()),
        ("ed", ed.pem.as_str()),
    ]);
    let keys = remote(&server).max_body(1 << 20).build().unwrap();
    let v = verifier(keys.clone());
    assert_eq!(outcome(&v, &signed(&good, "good")).await, Ok(()));
    assert_eq!(outcome(&v, &signed(&ed, "ed")).await, Ok(()));
    assert_eq!(keys.status().key_count, 2, "only the two usable entries");
    for kid in [
        "weak",
        "p521",
        "huge",
        "truncated",
        "not-pem",
        "public-key",
        "two",
    ] {
        assert_eq!(
            outcome(&v, &signed(&good, kid)).await,
            Err(AuthErrorKind::UnknownKey),
            "{kid}"
        );
    }

    // A kid given twice in one map (JSON allows the text) is never
    // resolved to either certificate.
    let twice = format!(
        "{{\"dup\":{},\"good\":{},\"dup\":{}}}",
        serde_json::Value::from(good.pem.as_str()),
        serde_json::Value::from(good.pem.as_str()),
        serde_json::Value::from(ed.pem.as_str()),
    );
    server.set_jwks(twice);
    keys.refresh().await.unwrap();
    assert_eq!(
        outcome(&v, &signed(&good, "dup")).await,
        Err(AuthErrorKind::UnknownKey)
    );
    assert_eq!(outcome(&v, &signed(&good, "good")).await, Ok(()));

    // A map in which nothing is usable is a failed fetch, never a panic.
    server.set_certificate_map([("weak", weak), ("x", "-----BEGIN CERTIFICATE-----")]);
    let err = remote(&server)
        .build()
        .unwrap()
        .prefetch()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::NoUsableKey);
    // Neither a map nor a JWK Set.
    for body in ["{}", r#"{"a":1}"#, "[]", r#"{"keys":"x"}"#] {
        server.set_jwks(body);
        let err = remote(&server)
            .build()
            .unwrap()
            .prefetch()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), JwksErrorKind::Malformed, "{body}");
    }
}

/// A JWK Set entry for `c` with only `x5c` (and `kty`, `kid`).
fn x5c_only(c: &Certified, kty: &str, kid: &str) -> String {
    json!({"kty": kty, "kid": kid, "use": "sig", "x5c": [c.x5c()]}).to_string()
}

#[tokio::test]
async fn x5c_only_keys_verify_and_a_disagreeing_x5c_is_skipped() {
    let rsa = Certified::new(Algorithm::RS256);
    let ec = Certified::new(Algorithm::ES256);
    // The committed RSA key, with a certificate of the same key: they agree.
    let committed = Certified::rsa_from(RSA_PRIVATE_PEM);
    let committed_jwk = DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap();
    let mut agreeing: serde_json::Value =
        serde_json::from_str(&jwk_json(&committed_jwk, Algorithm::RS256, Some("both"))).unwrap();
    agreeing["x5c"] = json!([committed.x5c()]);
    // Its n/e, with another key's certificate: skipped.
    let mut disagreeing = agreeing.clone();
    disagreeing["kid"] = json!("liar");
    disagreeing["x5c"] = json!([rsa.x5c()]);
    // An x5c chain of hundreds of entries: refused without reading them.
    let long_chain = json!({"kty": "RSA", "kid": "long", "x5c": vec![rsa.x5c(); 300]});
    let wrong_kty = x5c_only(&ec, "RSA", "ec-as-rsa");
    let jwks = jwks_json(&[
        x5c_only(&rsa, "RSA", "rsa-x5c"),
        x5c_only(&ec, "EC", "ec-x5c"),
        agreeing.to_string(),
        disagreeing.to_string(),
        long_chain.to_string(),
        wrong_kty,
        json!({"kty": "RSA", "kid": "garbage", "x5c": ["!!!"]}).to_string(),
        json!({"kty": "RSA", "kid": "empty", "x5c": []}).to_string(),
    ]);
    let server = server_with(jwks).await;
    let keys = remote(&server).max_body(1 << 20).build().unwrap();
    let v = verifier(keys.clone());
    assert_eq!(outcome(&v, &signed(&rsa, "rsa-x5c")).await, Ok(()));
    assert_eq!(outcome(&v, &signed(&ec, "ec-x5c")).await, Ok(()));
    let committed_token = sign(Algorithm::RS256, Some("both"), &claims(), &rsa_signer());
    assert_eq!(outcome(&v, &committed_token).await, Ok(()));
    assert_eq!(keys.status().key_count, 3);
    for (kid, c) in [
        ("liar", &rsa),
        ("long", &rsa),
        ("ec-as-rsa", &ec),
        ("garbage", &rsa),
        ("empty", &rsa),
    ] {
        assert_eq!(
            outcome(&v, &signed(c, kid)).await,
            Err(AuthErrorKind::UnknownKey),
            "{kid}"
        );
    }
    // The liar's n/e alone (the committed key) verifies nothing under its kid.
    let liar = sign(Algorithm::RS256, Some("liar"), &claims(), &rsa_signer());
    assert_eq!(outcome(&v, &liar).await, Err(AuthErrorKind::UnknownKey));
    // Static JWKs read x5c the same way.
    assert!(Key::from_jwk(&x5c_only(&rsa, "RSA", "k")).is_ok());
    assert!(Key::from_jwk(&disagreeing.to_string()).is_err());
    assert!(Key::from_certificate_pem(&ec.pem).is_ok());
    assert!(Key::from_certificate_der(&ec.der).is_ok());
    assert!(Key::from_certificate_pem(include_str!("data/rsa1024-cert.pem")).is_err());
}

#[tokio::test]
async fn supabase_shaped_hs256_secret_beside_a_remote_es256_set() {
    let es = Certified::new(Algorithm::ES256);
    let server = JwksServer::start().await.unwrap();
    server.set_certificate_map([("es-kid", es.pem.as_str())]);
    let auth = JwtAuth::<TestClaims>::builder()
        .hmac_secret(SECRET)
        .key_source(remote(&server))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let v = auth.verifier();
    // A legacy kid-less HS256 token finds the static secret, with no fetch.
    assert_eq!(outcome(v, &hs256(&claims())).await, Ok(()));
    assert_eq!(server.request_count(), 0);
    // An ES256 token finds the remote key.
    assert_eq!(outcome(v, &signed(&es, "es-kid")).await, Ok(()));
    assert_eq!(server.request_count(), 1);
    // The algorithm still comes from the key: an HS256 token naming the
    // ES256 key's kid goes to the secret (the only HS256 key), never to the
    // remote set; the ES256 key's public text is no HMAC secret.
    let public_as_secret = hs256_with(es.pem.as_bytes(), Some("es-kid"), &claims());
    assert_eq!(
        outcome(v, &public_as_secret).await,
        Err(AuthErrorKind::InvalidSignature)
    );
    assert_eq!(server.request_count(), 1, "no fetch for HS256 tokens");
    let wrong_secret = hs256_with(OTHER_SECRET, None, &claims());
    assert_eq!(
        outcome(v, &wrong_secret).await,
        Err(AuthErrorKind::InvalidSignature)
    );
    // While the key server is down, the legacy tokens still verify.
    server.set_behavior(Behavior::Status(503));
    assert_eq!(outcome(v, &hs256(&claims())).await, Ok(()));
}

#[tokio::test]
async fn a_kid_held_by_two_sources_of_one_issuer_is_refused() {
    let rsa = Certified::rsa_from(RSA_PRIVATE_PEM);
    let server = JwksServer::start().await.unwrap();
    server.set_certificate_map([("dup", rsa.pem.as_str()), ("remote-only", rsa.pem.as_str())]);
    let pinned = || {
        StaticKeys::new([
            Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("dup"),
            Key::rsa_pem(RSA_PUBLIC_PEM)
                .unwrap()
                .with_kid("static-only"),
        ])
        .unwrap()
    };
    // Before the remote set is fetched it cannot say what it holds: every
    // source is asked (a fetch), and the two candidates are refused.
    let cold = JwtAuth::<TestClaims>::builder()
        .issuer_keys(ISSUER, pinned())
        .issuer_keys(ISSUER, remote(&server))
        .audience(AUDIENCE)
        .build()
        .unwrap();
    assert_eq!(
        outcome(cold.verifier(), &signed(&rsa, "dup")).await,
        Err(AuthErrorKind::UnknownKey)
    );
    assert_eq!(server.request_count(), 1);
    let remote_keys = remote(&server).build().unwrap();
    remote_keys.prefetch().await.unwrap();

    let auth = JwtAuth::<TestClaims>::builder()
        .issuer_keys(ISSUER, pinned())
        .issuer_keys(ISSUER, remote_keys)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let v = auth.verifier();
    assert_eq!(
        outcome(v, &signed(&rsa, "dup")).await,
        Err(AuthErrorKind::UnknownKey)
    );
    assert_eq!(outcome(v, &signed(&rsa, "static-only")).await, Ok(()));
    assert_eq!(outcome(v, &signed(&rsa, "remote-only")).await, Ok(()));
    // Without a kid, two RS256 candidates: refused.
    let kidless = sign(Algorithm::RS256, None, &claims(), &rsa.signer);
    assert_eq!(outcome(v, &kidless).await, Err(AuthErrorKind::UnknownKey));
}

#[tokio::test]
async fn a_restart_during_an_outage_verifies_from_the_saved_file() {
    let dir = TempDir::new("saved");
    let file = dir.path("keys.json");
    let (key, server) = served_key(Algorithm::ES256).await;
    server.set_cache_control(Some("max-age=600"));
    let first = remote(&server).persist_to(&file).build().unwrap();
    first.prefetch().await.unwrap();
    let saved = SavedKeySet::from_json(&saved_file(&file, None).await).unwrap();
    assert_eq!(saved.lifetime(), Some(Duration::from_secs(600)));
    assert!(saved.document().contains("BEGIN CERTIFICATE"));
    drop(first);

    // The provider goes down; the process restarts.
    server.set_behavior(Behavior::Status(503));
    let restarted = remote(&server)
        .seed_file(&file)
        .persist_to(&file)
        .build()
        .unwrap();
    let v = verifier(restarted.clone());
    assert_eq!(outcome(&v, &signed(&key, "k")).await, Ok(()));
    assert!(restarted.status().is_ready());
    // The failed refetch did not touch the saved file.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        server.request_count() >= 2,
        "a live fetch was tried at once"
    );
    let again = SavedKeySet::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(again, saved);

    // A saved set older than its lifetime plus max_stale is not used.
    let old = SavedKeySet::new(
        saved.document(),
        SystemTime::now() - Duration::from_secs(600 + 3600 + 5),
    )
    .with_lifetime(Duration::from_secs(600));
    std::fs::write(&file, old.to_json()).unwrap();
    let too_old = remote(&server)
        .seed_file(&file)
        .max_stale(Duration::from_secs(3600))
        .build()
        .unwrap();
    let v = verifier(too_old);
    assert_eq!(
        outcome(&v, &signed(&key, "k")).await,
        Err(AuthErrorKind::KeysUnavailable)
    );
    // Just inside the limit, the same set is used.
    let young = remote(&server)
        .seed(old.clone().with_lifetime(Duration::from_secs(600 + 10)))
        .max_stale(Duration::from_secs(3600))
        .build()
        .unwrap();
    assert_eq!(outcome(&verifier(young), &signed(&key, "k")).await, Ok(()));
}

#[tokio::test]
async fn a_corrupt_saved_file_is_a_warning_and_never_replaces_a_good_set() {
    let dir = TempDir::new("corrupt");
    let file = dir.path("keys.json");
    let (key, server) = served_key(Algorithm::EdDSA).await;
    // The last is a well-formed, recent file whose document holds no key.
    let empty_document = format!(
        r#"{{"format":"jwt-layer saved key set","fetched_at_unix":{},"document":"{{\"keys\":[]}}"}}"#,
        now()
    );
    for corrupt in ["", "{not json", empty_document.as_str()] {
        std::fs::write(&file, corrupt).unwrap();
        server.set_behavior(Behavior::Status(503));
        let keys = remote(&server).seed_file(&file).build().unwrap();
        let v = verifier(keys.clone());
        assert_eq!(
            outcome(&v, &signed(&key, "k")).await,
            Err(AuthErrorKind::KeysUnavailable),
            "{corrupt}"
        );
        server.set_behavior(Behavior::Normal);
        keys.refresh().await.unwrap();
        assert_eq!(outcome(&v, &signed(&key, "k")).await, Ok(()), "{corrupt}");
    }
    // A bad fetch is never saved over a good file.
    let keys = remote(&server).persist_to(&file).build().unwrap();
    keys.prefetch().await.unwrap();
    let good = saved_file(&file, None).await;
    server.set_jwks("{\"keys\":[]}");
    assert_eq!(
        keys.refresh().await.unwrap_err().kind(),
        JwksErrorKind::NoUsableKey
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
    // A file that cannot be written is a warning: the fetch still counts.
    server.set_certificate_map([("k", key.pem.as_str())]);
    let unwritable = remote(&server)
        .persist_to(dir.path("missing-dir/keys.json"))
        .build()
        .unwrap();
    unwritable.prefetch().await.unwrap();
}

#[tokio::test]
async fn a_key_set_served_only_to_a_bearer_token_read_from_a_file() {
    let dir = TempDir::new("bearer");
    let token_file = dir.path("token");
    let (key, server) = served_key(Algorithm::ES256).await;
    server.require_bearer(Some("kubelet-token-2"));
    let keys = remote(&server)
        .fetch_headers(BearerTokenFile::new(&token_file))
        .build()
        .unwrap();
    // No file yet: the fetch fails before any request.
    assert_eq!(
        keys.prefetch().await.unwrap_err().kind(),
        JwksErrorKind::Credentials
    );
    assert_eq!(server.total_requests(), 0);
    // An old token: refused by the server.
    std::fs::write(&token_file, "kubelet-token-1\n").unwrap();
    let err = keys.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::Status);
    assert!(!err.to_string().contains("kubelet-token"));
    assert!(!format!("{keys:?}").contains("kubelet-token"));
    // The kubelet rotates the file: the next fetch reads it again.
    std::fs::write(&token_file, "kubelet-token-2\n").unwrap();
    keys.prefetch().await.unwrap();
    assert_eq!(outcome(&verifier(keys), &signed(&key, "k")).await, Ok(()));
    // Without the headers, the same server refuses.
    let anonymous = RemoteJwks::builder(server.url()).build().unwrap();
    assert_eq!(
        anonymous.prefetch().await.unwrap_err().kind(),
        JwksErrorKind::Status
    );
}

#[tokio::test]
async fn fetch_headers_go_to_the_configured_origin_only() {
    let dir = TempDir::new("origin");
    let token_file = dir.path("token");
    std::fs::write(&token_file, "sa-token").unwrap();
    let key = Certified::new(Algorithm::ES256);
    let issuer = JwksServer::start().await.unwrap();
    let elsewhere = JwksServer::start().await.unwrap();
    elsewhere.set_certificate_map([("k", key.pem.as_str())]);
    issuer.require_bearer(Some("sa-token"));
    elsewhere.require_bearer(Some("sa-token"));
    issuer.set_document(
        "/.well-known/openid-configuration",
        "application/json",
        json!({"issuer": issuer.base_url(), "jwks_uri": elsewhere.url()}).to_string(),
    );
    let keys = RemoteJwks::discover(issuer.base_url())
        .fetch_headers(BearerTokenFile::new(&token_file))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    // Discovery (the issuer's origin) carried the token; the key set on
    // another port (another origin) was asked without it, and refused.
    let err = keys.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::Status);
    assert_eq!(issuer.total_requests(), 1);
    assert_eq!(elsewhere.request_count(), 1);
    // Served to anyone, the key set is fetched.
    elsewhere.require_bearer(None);
    keys.prefetch().await.unwrap();
    assert_eq!(outcome(&verifier(keys), &signed(&key, "k")).await, Ok(()));
}
