//! `RemoteJwks` over real loopback HTTP against the test kit's JWKS server:
//! cold start, unknown kids, rotation, `Cache-Control`, every failure mode,
//! requests during a stalled refresh, discovery, multiple issuers, Google.
//! Time-dependent refresh scheduling is tested on a paused clock in
//! `src/keys/remote/cache_tests.rs`.
#![cfg(feature = "test-util")]

mod common;

use std::time::Duration;

use common::*;
use http::StatusCode;
use jsonwebtoken::Algorithm;
use jwt_layer::keys::{JwksErrorKind, RemoteJwks};
use jwt_layer::testing::{Behavior, JwksServer};
use jwt_layer::{JwtAuth, google};
use serde_json::json;

#[tokio::test]
async fn cold_start_100_concurrent_requests_make_one_fetch() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let (app, hits) = app_for(remote(&server).build().unwrap());
    let token = rsa_token("rsa-1");
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let app = app.clone();
            let token = token.clone();
            tokio::spawn(async move { send(&app, bearer(&token)).await.status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(server.request_count(), 1);
    assert_eq!(hits.count(), 100);
}

#[tokio::test]
async fn random_unknown_kids_make_at_most_two_fetches_and_valid_requests_still_pass() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let (app, hits) = app_for(remote(&server).build().unwrap());
    let valid = rsa_token("rsa-1");
    assert_eq!(send(&app, bearer(&valid)).await.status(), StatusCode::OK);
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let task_app = app.clone();
        let token = rsa_token(&format!("unknown-{i}-{}", now()));
        tasks.push(tokio::spawn(async move {
            let res = send(&task_app, bearer(&token)).await;
            (res.status(), challenge(&res).map(str::to_owned))
        }));
        if i % 100 == 0 {
            assert_eq!(send(&app, bearer(&valid)).await.status(), StatusCode::OK);
        }
    }
    for t in tasks {
        let (status, challenge) = t.await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge.unwrap(), invalid_token("unknown signing key"));
    }
    assert!(
        server.request_count() <= 2,
        "{} fetches",
        server.request_count()
    );
    assert_eq!(
        hits.count(),
        11,
        "only the valid requests reached the handler"
    );
}

#[tokio::test]
async fn rotation_new_key_accepted_after_one_fetch_removed_key_rejected_after_refresh() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let keys = remote(&server).build().unwrap();
    let (app, _) = app_for(keys.clone());
    assert_eq!(
        send(&app, bearer(&rsa_token("rsa-1"))).await.status(),
        StatusCode::OK
    );
    assert_eq!(server.request_count(), 1);

    server.set_jwks(jwks_json(&[rsa_jwk("rsa-1"), ed_jwk("ed-2")]));
    assert_eq!(
        send(&app, bearer(&ed_token("ed-2"))).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.request_count(),
        2,
        "the new key cost exactly one fetch"
    );

    server.set_jwks(jwks_json(&[ed_jwk("ed-2")]));
    keys.refresh().await.unwrap();
    let res = send(&app, bearer(&rsa_token("rsa-1"))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&res).unwrap(),
        invalid_token("unknown signing key")
    );
    assert_eq!(
        send(&app, bearer(&ed_token("ed-2"))).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn cache_control_max_age_minus_age_sets_the_lifetime() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    server.set_cache_control(Some("public, max-age=1000, must-revalidate"));
    server.set_age(Some(100));
    let keys = remote(&server).build().unwrap();
    keys.prefetch().await.unwrap();
    assert_eq!(keys.status().lifetime, Some(Duration::from_secs(900)));

    server.set_cache_control(None);
    server.set_age(None);
    let keys = remote(&server).build().unwrap();
    keys.prefetch().await.unwrap();
    assert_eq!(keys.status().lifetime, Some(Duration::from_secs(600)));
    // Nothing refetched in between: the cache answers.
    let (app, _) = app_for(keys);
    let before = server.request_count();
    for _ in 0..5 {
        assert_eq!(
            send(&app, bearer(&rsa_token("rsa-1"))).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(server.request_count(), before);
}

fn hostile() -> Vec<(&'static str, Behavior)> {
    vec![
        ("500", Behavior::Status(500)),
        ("garbage", Behavior::Garbage),
        ("10 MB body", Behavior::Huge(10 * 1024 * 1024)),
        ("endless body", Behavior::Endless),
        ("too slow", Behavior::Delay(Duration::from_secs(3))),
        ("stall", Behavior::Stall),
        ("slowloris", Behavior::Slowloris),
        (
            "redirect to another host",
            Behavior::Redirect("https://evil.example/jwks.json".into()),
        ),
        ("connection dropped", Behavior::Down),
    ]
}

#[tokio::test]
async fn hostile_answers_never_replace_a_good_set() {
    for (name, behavior) in hostile() {
        let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
        let keys = remote(&server).build().unwrap();
        let (app, _) = app_for(keys.clone());
        keys.prefetch().await.unwrap();
        server.set_behavior(behavior);
        let started = std::time::Instant::now();
        assert!(keys.refresh().await.is_err(), "{name}: refresh must fail");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{name}: the fetch deadline bounds the time"
        );
        let status = keys.status();
        assert!(status.failures >= 1, "{name}");
        assert_eq!(status.key_count, 1, "{name}");
        let res = send(&app, bearer(&rsa_token("rsa-1"))).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{name}: cached keys keep working"
        );
    }
}

#[tokio::test]
async fn server_gone_keeps_cached_keys() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let keys = remote(&server).build().unwrap();
    let (app, _) = app_for(keys.clone());
    keys.prefetch().await.unwrap();
    server.stop_listening().await;
    assert!(keys.refresh().await.is_err());
    assert_eq!(
        send(&app, bearer(&rsa_token("rsa-1"))).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn nothing_cached_and_failing_server_answers_503_with_retry_after() {
    let mut cases = hostile();
    cases.push(("empty key set", Behavior::Normal));
    for (name, behavior) in cases {
        let server = JwksServer::start().await.unwrap();
        server.set_jwks(if name == "empty key set" {
            r#"{"keys":[]}"#.to_owned()
        } else {
            jwks_json(&[rsa_jwk("rsa-1")])
        });
        server.set_behavior(behavior);
        let (app, hits) = app_for(remote(&server).build().unwrap());
        let res = send(&app, bearer(&rsa_token("rsa-1"))).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        assert!(challenge(&res).is_none(), "{name}: a 503 has no challenge");
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1, "{name}");
        assert_eq!(hits.count(), 0);
    }
}

#[tokio::test]
async fn a_request_for_a_known_kid_does_not_wait_for_a_stalled_refresh() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let keys = RemoteJwks::builder(server.url())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (app, _) = app_for(keys.clone());
    keys.prefetch().await.unwrap();
    server.stall_until_released();
    let refresh = tokio::spawn({
        let keys = keys.clone();
        async move { keys.refresh().await }
    });
    while server.held_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let res = tokio::time::timeout(
        Duration::from_secs(2),
        send(&app, bearer(&rsa_token("rsa-1"))),
    )
    .await
    .expect("answered while the refresh is stalled");
    assert_eq!(res.status(), StatusCode::OK);
    server.release();
    refresh.await.unwrap().unwrap();
}

#[tokio::test]
async fn openid_discovery_finds_the_key_set_and_checks_the_issuer() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let issuer = server.base_url();
    let config = json!({"issuer": issuer, "jwks_uri": server.url()}).to_string();
    server.set_document(
        "/.well-known/openid-configuration",
        "application/json",
        config,
    );
    let auth = JwtAuth::<TestClaims>::builder()
        .issuer_keys_discovered(issuer.clone())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let (app, _) = router(auth);
    let token = sign(
        Algorithm::RS256,
        Some("rsa-1"),
        &claims_with(json!({"iss": issuer})),
        &rsa_signer(),
    );
    assert_eq!(send(&app, bearer(&token)).await.status(), StatusCode::OK);

    // A discovery document naming another issuer is refused: nothing usable.
    let liar = server_with(jwks_json(&[rsa_jwk("rsa-1")])).await;
    let config = json!({"issuer": format!("{}/", liar.base_url()), "jwks_uri": liar.url()});
    liar.set_document(
        "/.well-known/openid-configuration",
        "application/json",
        config.to_string(),
    );
    let keys = RemoteJwks::discover(liar.base_url()).build().unwrap();
    let err = keys.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::IssuerMismatch, "{err}");
    assert_eq!(liar.request_count(), 0, "the key set was never fetched");
}

#[tokio::test]
async fn several_issuers_are_routed_by_iss_and_never_share_keys() {
    let a = server_with(jwks_json(&[rsa_jwk("a-key")])).await;
    let b = server_with(jwks_json(&[ed_jwk("b-key")])).await;
    let auth = JwtAuth::<TestClaims>::builder()
        .issuer_keys("https://a.example", remote(&a))
        .issuer_keys("https://b.example", remote(&b))
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let (app, hits) = router(auth);
    let for_a = claims_with(json!({"iss": "https://a.example"}));
    let for_b = claims_with(json!({"iss": "https://b.example"}));
    let a_signs_a = sign(Algorithm::RS256, Some("a-key"), &for_a, &rsa_signer());
    let b_signs_b = sign(Algorithm::EdDSA, Some("b-key"), &for_b, &ed_signer());
    assert_eq!(
        send(&app, bearer(&a_signs_a)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&app, bearer(&b_signs_b)).await.status(),
        StatusCode::OK
    );

    // Issuer A's key cannot sign for issuer B.
    let a_signs_b = sign(Algorithm::RS256, Some("a-key"), &for_b, &rsa_signer());
    assert_rejected(
        &app,
        &hits,
        bearer(&a_signs_b),
        StatusCode::UNAUTHORIZED,
        Some(&invalid_token("unknown signing key")),
    )
    .await;

    // An unknown issuer is refused with no fetch at all.
    let (fa, fb) = (a.request_count(), b.request_count());
    let stranger = sign(
        Algorithm::RS256,
        Some("a-key"),
        &claims_with(json!({"iss": "https://c.example"})),
        &rsa_signer(),
    );
    assert_rejected(
        &app,
        &hits,
        bearer(&stranger),
        StatusCode::UNAUTHORIZED,
        Some(&invalid_token("invalid issuer")),
    )
    .await;
    assert_eq!((a.request_count(), b.request_count()), (fa, fb));
}

fn google_claims(iss: &str, aud: &str) -> serde_json::Value {
    let now = now();
    json!({
        "iss": iss, "aud": aud, "sub": "10769150350006150715113082367",
        "email": "jsmith@example.com", "email_verified": true, "hd": "example.com",
        "name": "J Smith", "picture": "https://example.com/p.png",
        "given_name": "J", "family_name": "Smith", "locale": "en",
        "azp": aud, "iat": now, "exp": now + 300,
    })
}

#[tokio::test]
async fn google_preset_accepts_both_issuer_spellings_and_checks_aud_hd_and_email() {
    const CLIENT: &str = "1234-abc.apps.googleusercontent.com";
    let server = server_with(jwks_json(&[rsa_jwk("g-1")])).await;
    let auth = google::id_tokens([CLIENT])
        .jwks(remote(&server))
        .hosted_domain("example.com")
        .require_verified_email()
        .build()
        .unwrap();
    let (app, hits) = router(auth);
    let token =
        |claims: &serde_json::Value| sign(Algorithm::RS256, Some("g-1"), claims, &rsa_signer());

    for iss in ["accounts.google.com", "https://accounts.google.com"] {
        let res = send(&app, bearer(&token(&google_claims(iss, CLIENT)))).await;
        assert_eq!(res.status(), StatusCode::OK, "{iss}");
    }
    let trailing = token(&google_claims("https://accounts.google.com/", CLIENT));
    assert_rejected(
        &app,
        &hits,
        bearer(&trailing),
        StatusCode::UNAUTHORIZED,
        Some(&invalid_token("invalid issuer")),
    )
    .await;
    let wrong_aud = token(&google_claims("accounts.google.com", "someone-else"));
    assert_rejected(
        &app,
        &hits,
        bearer(&wrong_aud),
        StatusCode::UNAUTHORIZED,
        Some(&invalid_token("invalid audience")),
    )
    .await;

    let mut other_domain = google_claims("accounts.google.com", CLIENT);
    other_domain["hd"] = json!("other.example");
    let res = send(&app, bearer(&token(&other_domain))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut unverified = google_claims("accounts.google.com", CLIENT);
    unverified["email_verified"] = json!(false);
    let res = send(&app, bearer(&token(&unverified))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(hits.count(), 2);
}

#[test]
fn plain_http_to_a_remote_host_is_refused_at_build() {
    assert!(
        RemoteJwks::builder("http://keys.example/jwks.json")
            .build()
            .is_err()
    );
    assert!(RemoteJwks::discover("http://idp.example").build().is_err());
    assert!(
        RemoteJwks::builder("https://keys.example/jwks.json")
            .build()
            .is_ok()
    );
}

#[cfg(feature = "aws-lc-rs")]
#[tokio::test]
async fn test_kit_keys_rotate_through_the_server() {
    use jwt_layer::issue::KeyKind;
    use jwt_layer::testing::{self, TestKey};
    let old = TestKey::generate(KeyKind::Es256).unwrap();
    let new = TestKey::generate(KeyKind::EdDsa).unwrap();
    let server = JwksServer::start().await.unwrap();
    server.set_keys(&[&old]);
    let keys = remote(&server).build().unwrap();
    let auth = JwtAuth::<serde_json::Value>::builder()
        .key_source(keys.clone())
        .audience("api")
        .token_cache(false)
        .build()
        .unwrap();
    let claims = testing::claims("https://issuer.test", "api", 300);
    let old_token = old.mint(&claims).unwrap();
    let new_token = new.mint(&claims).unwrap();
    assert!(auth.verifier().verify(&old_token).await.is_ok());
    assert_eq!(
        auth.verifier().verify(&new_token).await.unwrap_err().kind(),
        jwt_layer::AuthErrorKind::UnknownKey
    );
    server.set_keys(&[&old, &new]);
    keys.refresh().await.unwrap();
    assert!(auth.verifier().verify(&new_token).await.is_ok());
    server.set_keys(&[&new]);
    keys.refresh().await.unwrap();
    assert_eq!(
        auth.verifier().verify(&old_token).await.unwrap_err().kind(),
        jwt_layer::AuthErrorKind::UnknownKey
    );
    assert!(auth.verifier().verify(&new_token).await.is_ok());
}
