//! The jwt-layer walk-through, all on 127.0.0.1:
//!
//! 1. an **issuer** with a key ring (a fresh Ed25519 key), a `/login` route
//!    and its public key set at `/.well-known/jwks.json`;
//! 2. a **protected API** whose `JwtAuth` layer fetches that key set with
//!    `RemoteJwks` (cached, refreshed, rotated without restart);
//! 3. a **client** that logs in and calls the API with a valid, a tampered,
//!    an expired and no token, misses a scope, then sees a key rotation
//!    picked up with a single key set fetch.
//!
//! Run with `cargo run --example quickstart`. Nothing outside 127.0.0.1 is
//! contacted; the process exits 0 only if every step answered as expected.

#[path = "support/listen.rs"]
mod listen;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jwt_layer::issue::{KeyKind, KeyRing, SigningKey, TokenIssuer};
use jwt_layer::keys::RemoteJwks;
use jwt_layer::{Authorize, Claims, JwtAuth};
use serde::{Deserialize, Serialize};
use serde_json::json;

const ISSUER: &str = "https://issuer.quickstart.local";
const AUDIENCE: &str = "quickstart-api";

/// What our tokens carry (the issuer adds `iss`, `aud`, `iat`, `exp`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct MyClaims {
    sub: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

/// The issuer's login: a fixed demo account (see `examples/login.rs` for a
/// real one with argon2id and SQLite).
async fn login(
    State(issuer): State<TokenIssuer>,
    Json(l): Json<Login>,
) -> Result<Json<serde_json::Value>, StatusCode> {
    if l.email != "alice@example.com" || l.password != "wonderland" {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let claims = MyClaims {
        sub: "alice".into(),
        scope: "read".into(),
        exp: None,
    };
    let token = issuer
        .issue(&claims)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!({ "token": token })))
}

async fn me(Claims(c): Claims<MyClaims>) -> String {
    format!("hello {} (scope: {})", c.sub, c.scope)
}

async fn admin(Claims(c): Claims<MyClaims>) -> String {
    format!("welcome to the admin area, {}", c.sub)
}

async fn serve(app: Router) -> Result<String, std::io::Error> {
    let listener = listen::listen("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

struct Report {
    rows: Vec<[String; 4]>,
    failures: usize,
}

impl Report {
    fn row(&mut self, step: &str, expect: u16, got: u16, answer: impl Into<String>) {
        let ok = expect == got;
        self.failures += usize::from(!ok);
        let mark = if ok {
            "yes".to_owned()
        } else {
            format!("NO (expected {expect})")
        };
        self.rows
            .push([step.to_owned(), got.to_string(), mark, answer.into()]);
        let [s, g, m, a] = self.rows.last().cloned().unwrap_or_default();
        println!("{s:<36} {g:<6} {m:<5} {a}");
    }
}

struct Answer {
    status: u16,
    text: String,
}

async fn call(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
) -> Result<Answer, reqwest::Error> {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!("WWW-Authenticate: {v}"));
    let body = res.text().await?;
    Ok(Answer {
        status,
        text: challenge.unwrap_or(body),
    })
}

fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .and_then(|h| h["kid"].as_str().map(|k| k.chars().take(12).collect()))
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The issuer: a key ring with a fresh key, login, the public key set.
    let ring = KeyRing::builder(SigningKey::generate(KeyKind::EdDsa)?)
        .max_token_ttl(Duration::from_secs(300))
        .build()?;
    let issuer = TokenIssuer::builder(ring.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .ttl(Duration::from_secs(300))
        .build()?;
    let issuer_url = serve(
        Router::new()
            .route("/login", post(login))
            .route_service("/.well-known/jwks.json", ring.jwks_service())
            .with_state(issuer.clone()),
    )
    .await?;

    // 2. The API: keys from the issuer's key set, over HTTP, cached.
    let keys = RemoteJwks::builder(format!("{issuer_url}/.well-known/jwks.json")).build()?;
    let auth = JwtAuth::<MyClaims>::builder()
        .key_source(keys.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()?;
    let api_url = serve(
        Router::new()
            .route("/me", get(me))
            .route(
                "/admin",
                get(admin).layer(Authorize::<MyClaims>::builder().scope("admin").build()?),
            )
            .layer(auth),
    )
    .await?;
    println!("issuer on {issuer_url}, protected API on {api_url}\n");
    println!("{:<36} {:<6} {:<5} answer", "step", "status", "ok");
    println!("{}", "-".repeat(110));

    // 3. The client.
    let client = reqwest::Client::new();
    let mut report = Report {
        rows: Vec::new(),
        failures: 0,
    };
    let res = client
        .post(format!("{issuer_url}/login"))
        .json(&json!({"email": "alice@example.com", "password": "wonderland"}))
        .send()
        .await?;
    let status = res.status().as_u16();
    let token = res.json::<serde_json::Value>().await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    report.row(
        "login alice",
        200,
        status,
        format!("token with kid {}…", kid_of(&token)),
    );

    let wrong = client
        .post(format!("{issuer_url}/login"))
        .json(&json!({"email": "alice@example.com", "password": "guess"}))
        .send()
        .await?;
    report.row(
        "login with a wrong password",
        401,
        wrong.status().as_u16(),
        "no token",
    );

    let a = call(&client, format!("{api_url}/me"), Some(&token)).await?;
    report.row("GET /me with the token", 200, a.status, a.text);

    let tampered = {
        let (rest, sig) = token.rsplit_once('.').unwrap_or_default();
        let flipped = if sig.starts_with('A') { 'B' } else { 'A' };
        format!("{rest}.{flipped}{}", sig.get(1..).unwrap_or_default())
    };
    let a = call(&client, format!("{api_url}/me"), Some(&tampered)).await?;
    report.row("GET /me, tampered signature", 401, a.status, a.text);

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let expired = issuer.issue(&MyClaims {
        sub: "alice".into(),
        scope: "read".into(),
        exp: Some(now - 3600),
    })?;
    let a = call(&client, format!("{api_url}/me"), Some(&expired)).await?;
    report.row("GET /me, expired token", 401, a.status, a.text);

    let a = call(&client, format!("{api_url}/me"), None).await?;
    report.row("GET /me, no token", 401, a.status, a.text);

    let a = call(&client, format!("{api_url}/admin"), Some(&token)).await?;
    report.row("GET /admin without scope admin", 403, a.status, a.text);

    // Rotation: a new signing key; the old one stays published for the
    // tokens it signed. The API has never seen the new kid: it refetches
    // the key set once and accepts the token, without a restart.
    let fetches_before = keys.status().fetches;
    ring.rotate(SigningKey::generate(KeyKind::EdDsa)?)?;
    let rotated = issuer.issue(&MyClaims {
        sub: "alice".into(),
        scope: "read".into(),
        exp: None,
    })?;
    let a = call(&client, format!("{api_url}/me"), Some(&rotated)).await?;
    let fetched = keys.status().fetches - fetches_before;
    report.row(
        "rotate key, GET /me with new kid",
        200,
        a.status,
        format!("kid {}…, key set fetches: {fetched}", kid_of(&rotated)),
    );
    report.row(
        "  exactly one key set fetch",
        1,
        u16::try_from(fetched).unwrap_or(u16::MAX),
        "",
    );
    let a = call(&client, format!("{api_url}/me"), Some(&token)).await?;
    report.row("GET /me with the pre-rotation token", 200, a.status, a.text);

    println!();
    if report.failures == 0 {
        println!("every step answered as expected");
        Ok(())
    } else {
        Err(format!("{} step(s) answered unexpectedly", report.failures).into())
    }
}
