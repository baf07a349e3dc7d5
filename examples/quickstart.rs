//! The jwt-layer walk-through: a protected API on 127.0.0.1, and a client
//! that sends it a valid, a tampered, an expired, a token-less and an
//! under-privileged request, printing each answer.
//!
//! Run with `cargo run --example quickstart`. Nothing outside 127.0.0.1 is
//! contacted; the process exits 0 only if every step answered as expected.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{Router, routing::get};
use jsonwebtoken::{EncodingKey, Header, encode};
use jwt_layer::{Authorize, Claims, JwtAuth};
use serde::{Deserialize, Serialize};

/// The claims our tokens carry.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct MyClaims {
    sub: String,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    #[serde(default)]
    scope: String,
}

const ISSUER: &str = "https://auth.quickstart.local";
const AUDIENCE: &str = "quickstart-api";

async fn me(Claims(c): Claims<MyClaims>) -> String {
    format!("hello {} (scopes: {:?})", c.sub, c.scope)
}

async fn admin(Claims(c): Claims<MyClaims>) -> String {
    format!("welcome to the admin area, {}", c.sub)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn mint(
    secret: &[u8],
    sub: &str,
    scope: &str,
    exp: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = MyClaims {
        sub: sub.into(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now(),
        exp,
        scope: scope.into(),
    };
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

struct Step {
    name: &'static str,
    token: Option<String>,
    path: &'static str,
    expect: u16,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A fresh random secret per run: nothing to configure, nothing to leak.
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no randomness: {e}"))?;

    // 1. The protected API.
    let auth = JwtAuth::<MyClaims>::builder()
        .hmac_secret(secret)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()?;
    let admin_only = Authorize::<MyClaims>::builder().scope("admin").build()?;
    let app = Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin).layer(admin_only))
        .layer(auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("protected API listening on http://{addr}\n");

    // 2. The client.
    let valid = mint(&secret, "alice", "read", now() + 300)?;
    let tampered = {
        let (rest, sig) = valid.rsplit_once('.').ok_or("token has no signature")?;
        let flipped = if sig.starts_with('A') { 'B' } else { 'A' };
        format!("{rest}.{flipped}{}", sig.get(1..).unwrap_or_default())
    };
    let expired = mint(&secret, "alice", "read", now() - 3600)?;
    let steps = [
        Step {
            name: "valid token",
            token: Some(valid.clone()),
            path: "/me",
            expect: 200,
        },
        Step {
            name: "tampered signature",
            token: Some(tampered),
            path: "/me",
            expect: 401,
        },
        Step {
            name: "expired token",
            token: Some(expired),
            path: "/me",
            expect: 401,
        },
        Step {
            name: "no token",
            token: None,
            path: "/me",
            expect: 401,
        },
        Step {
            name: "missing scope admin",
            token: Some(valid),
            path: "/admin",
            expect: 403,
        },
    ];

    let client = reqwest::Client::new();
    let mut failures = 0;
    println!(
        "{:<22} {:<7} {:<6} {:<4} answer",
        "step", "path", "status", "ok"
    );
    println!("{}", "-".repeat(100));
    for step in steps {
        let mut req = client.get(format!("http://{addr}{}", step.path));
        if let Some(token) = &step.token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("WWW-Authenticate: {v}"));
        let body = res.text().await?;
        let ok = status == step.expect;
        failures += usize::from(!ok);
        let answer = challenge.unwrap_or(body);
        println!(
            "{:<22} {:<7} {:<6} {:<4} {answer}",
            step.name,
            step.path,
            status,
            if ok { "yes" } else { "NO" }
        );
    }
    println!();
    if failures == 0 {
        println!("every step answered as expected");
        Ok(())
    } else {
        Err(format!("{failures} step(s) answered unexpectedly").into())
    }
}
