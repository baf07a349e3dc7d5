//! `examples/google_id_token.rs` as a real process against the test kit's
//! JWKS server standing in for Google's.
#![cfg(all(feature = "test-util", feature = "axum"))]

mod common;

use common::process::{Server, get};
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey};
use jwt_layer::testing::JwksServer;
use serde_json::{Value, json};

const CLIENT: &str = "1234-abc.apps.googleusercontent.com";

fn id_token(changes: Value) -> String {
    let now = now();
    let mut claims = json!({
        "iss": "https://accounts.google.com", "aud": CLIENT, "azp": CLIENT,
        "sub": "110169484474386276334", "email": "jane@example.com",
        "email_verified": true, "hd": "example.com", "name": "Jane Doe",
        "picture": "https://lh3.example/p.jpg", "given_name": "Jane",
        "family_name": "Doe", "locale": "en", "iat": now, "exp": now + 300,
    });
    merge(&mut claims, changes);
    sign(Algorithm::RS256, Some("g-1"), &claims, &rsa_signer())
}

fn profile() -> Value {
    json!({
        "sub": "110169484474386276334", "email": "jane@example.com",
        "email_verified": true, "name": "Jane Doe",
        "picture": "https://lh3.example/p.jpg", "hd": "example.com",
    })
}

async fn google_keys() -> JwksServer {
    let jwks = JwksServer::start().await.unwrap();
    let key = DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap();
    jwks.set_jwks(jwks_json(&[jwk_json(&key, Algorithm::RS256, Some("g-1"))]));
    jwks
}

/// The example, started against [`google_keys`] for two client ids and the
/// `example.com` domain.
async fn start_example() -> (JwksServer, Server) {
    let jwks = google_keys().await;
    let server = Server::start(
        "google_id_token",
        &[
            ("GOOGLE_CLIENT_ID", format!("other-client, {CLIENT}")),
            ("GOOGLE_JWKS_URL", jwks.url()),
            ("GOOGLE_HOSTED_DOMAIN", "example.com".into()),
        ],
    );
    (jwks, server)
}

/// `POST /auth/google` with a JSON body.
async fn sign_in_json(client: &reqwest::Client, base: &str, body: &Value) -> reqwest::Response {
    client
        .post(format!("{base}/auth/google"))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn me_answers_the_profile() {
    let (_jwks, server) = start_example().await;
    let client = reqwest::Client::new();
    let token = id_token(json!({}));

    let (status, _, body) = get(&client, format!("{}/me", server.base), Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), profile());
    assert!(server.terminate().success());
}

#[tokio::test]
async fn sign_in_by_form_or_json_answers_the_profile() {
    let (_jwks, server) = start_example().await;
    let client = reqwest::Client::new();
    let token = id_token(json!({}));

    // Google Identity Services posts a form with the credential and a CSRF
    // token that must match its cookie.
    let form = format!("credential={token}&g_csrf_token=abc123");
    let res = client
        .post(format!("{}/auth/google", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "g_csrf_token=abc123")
        .body(form.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), profile());
    let res = client
        .post(format!("{}/auth/google", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "g_csrf_token=other")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "CSRF mismatch");

    let res = sign_in_json(&client, &server.base, &json!({ "credential": token })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), profile());
    let res = sign_in_json(&client, &server.base, &json!({ "nothing": 1 })).await;
    assert_eq!(res.status(), 400);
    assert!(server.terminate().success());
}

/// The other client id is accepted too; a third is not; other domains are
/// refused; "accounts.google.com" without scheme is fine.
#[tokio::test]
async fn only_the_configured_client_ids_and_domain_are_accepted() {
    let (_jwks, server) = start_example().await;
    let client = reqwest::Client::new();
    let other = id_token(json!({"aud": "other-client", "iss": "accounts.google.com"}));
    assert_eq!(
        get(&client, format!("{}/me", server.base), Some(&other))
            .await
            .0,
        200
    );
    let stranger = id_token(json!({"aud": "stranger"}));
    let (status, challenge, _) = get(&client, format!("{}/me", server.base), Some(&stranger)).await;
    assert_eq!(
        (status, challenge.unwrap()),
        (401, invalid_token("invalid audience"))
    );
    let res = sign_in_json(&client, &server.base, &json!({ "credential": stranger })).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "invalid audience"})
    );
    let elsewhere = id_token(json!({"hd": "elsewhere.example"}));
    assert_eq!(
        get(&client, format!("{}/me", server.base), Some(&elsewhere))
            .await
            .0,
        403
    );
    assert!(server.terminate().success());
}

#[test]
fn a_client_id_is_required() {
    let out = std::process::Command::new(common::process::example("google_id_token"))
        .env_clear()
        .env("BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
