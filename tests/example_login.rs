//! `examples/login.rs` as a real process: argon2id + SQLite login, token in
//! the body and an `HttpOnly; Secure; SameSite=Strict` cookie, `/profile`
//! by header or cookie, no user enumeration, asymmetric keys published.
#![cfg(all(feature = "axum", feature = "issue"))]

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::process::{Server, example, get};
use common::*;
use jwt_layer::JwtAuth;
use serde_json::{Value, json};

const SECRET_ENV: &str = "an HS256 secret that is long enough for the demo";

fn db_path(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "jwt-layer-login-test-{tag}-{}-{}.sqlite3",
        std::process::id(),
        now()
    ));
    let _ = std::fs::remove_file(&path);
    path.display().to_string()
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn header(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Logs in as the demo user (password from `DEMO_PASSWORD`, TTL 120 s),
/// checks the cookie and the claims, and returns the token.
async fn log_in_as_demo(client: &reqwest::Client, base: &str) -> String {
    let res = login(
        client,
        base,
        "demo@example.com",
        "open sesame, said the test",
    )
    .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with(&format!("token={token};")), "{cookie}");
    for flag in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.split("; ").any(|p| p == flag), "{flag} in {cookie}");
    }
    let claims = payload(&token);
    assert_eq!(header(&token)["alg"], "HS256");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        120
    );
    assert_eq!(claims["email"], "demo@example.com");

    token
}

/// `/profile` without credentials, with a tampered token, and with a header
/// and a cookie that disagree.
async fn assert_profile_refuses_bad_credentials(client: &reqwest::Client, base: &str, token: &str) {
    let (status, challenge, _) = get(client, format!("{base}/profile"), None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some(MISSING)));
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        get(client, format!("{base}/profile"), Some(&tampered))
            .await
            .0,
        401
    );
    // A header and a cookie that disagree are a malformed request.
    let res = client
        .get(format!("{base}/profile"))
        .bearer_auth(token)
        .header("cookie", "token=something.else.entirely")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn login_issues_a_token_and_profile_accepts_header_or_cookie() {
    let server = Server::start(
        "login",
        &[
            ("DATABASE_PATH", db_path("hs")),
            ("JWT_SECRET", SECRET_ENV.into()),
            ("TOKEN_TTL_SECS", "120".into()),
            ("DEMO_PASSWORD", "open sesame, said the test".into()),
        ],
    );
    let client = reqwest::Client::new();
    let base = &server.base;

    let token = log_in_as_demo(&client, base).await;

    let (status, _, body) = get(&client, format!("{base}/profile"), Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["email"],
        "demo@example.com"
    );
    let res = client
        .get(format!("{base}/profile"))
        .header("cookie", format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    assert_profile_refuses_bad_credentials(&client, base, &token).await;
    assert!(server.terminate().success());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer_in_the_same_time_class() {
    let server = Server::start(
        "login",
        &[
            ("DATABASE_PATH", db_path("enum")),
            ("JWT_SECRET", SECRET_ENV.into()),
        ],
    );
    let client = reqwest::Client::new();
    let base = &server.base;
    let mut answers = Vec::new();
    let mut fastest = [Duration::MAX; 2];
    for _ in 0..3 {
        for (i, email) in ["demo@example.com", "nobody@example.com"]
            .into_iter()
            .enumerate()
        {
            let started = Instant::now();
            let res = login(&client, base, email, "not the password").await;
            fastest[i] = fastest[i].min(started.elapsed());
            answers.push((res.status().as_u16(), res.text().await.unwrap()));
        }
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 401);
    // Both run one argon2id verification: an unknown user is not answered
    // an order of magnitude faster (without the dummy hash it would be
    // ~100× faster).
    let (known, unknown) = (fastest[0].as_secs_f64(), fastest[1].as_secs_f64());
    assert!(
        unknown > known / 4.0,
        "unknown user {unknown:.4}s vs wrong password {known:.4}s"
    );
    assert_eq!(
        client
            .post(format!("{base}/login"))
            .body("not json")
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_private_jwk_file_signs_with_its_own_kid_and_the_key_set_is_published() {
    let key_file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rsa-private.jwk.json"
    );
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    let server = Server::start(
        "login",
        &[
            ("DATABASE_PATH", db_path("rs")),
            ("JWT_PRIVATE_KEY_FILE", key_file.into()),
        ],
    );
    let client = reqwest::Client::new();
    let base = &server.base;
    let res = login(
        &client,
        base,
        "demo@example.com",
        "correct horse battery staple",
    )
    .await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(header(&token)["alg"], "RS256");
    assert_eq!(header(&token)["kid"], fixture["kid"]);

    let (status, _, jwks) = get(&client, format!("{base}/.well-known/jwks.json"), None).await;
    assert_eq!(status, 200);
    assert!(!jwks.contains("\"d\""), "no private member published");
    let auth = JwtAuth::<Value>::builder()
        .jwks_json(&jwks)
        .issuer("jwt-layer-login-demo")
        .audience("jwt-layer-login-demo")
        .build()
        .unwrap();
    let claims = auth.verifier().verify(&token).await.unwrap();
    assert_eq!(claims["email"], "demo@example.com");
    assert_eq!(
        get(&client, format!("{base}/profile"), Some(&token))
            .await
            .0,
        200
    );
    assert!(server.terminate().success());
}

#[test]
fn a_short_secret_is_refused() {
    let out = std::process::Command::new(example("login"))
        .env_clear()
        .env("BIND", "127.0.0.1:0")
        .env("DATABASE_PATH", db_path("short"))
        .env("JWT_SECRET", "too short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 bytes"));
}
