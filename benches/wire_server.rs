//! The servers of `scripts/wire-bench.sh` (the on-the-wire benchmark),
//! built as a bench target so they compile with the bench profile; the
//! script runs the binary with one of these arguments:
//!
//! - `setup` serves a JWK Set on
//!   127.0.0.1 (the RSA test fixture key), prints `jwks <url>` and
//!   `token <jwt>` (an 800-byte, Google-like RS256 token valid for an hour),
//!   and runs until killed.
//! - `… -- same-body` (with `WIRE_TOKEN`, `BIND`) serves `/me` without
//!   any authentication, answering the token's payload bytes exactly as
//!   `resource_server`'s `/me` does (`application/json`, a shared buffer):
//!   the same handler and body, so the ratio measures authentication only.
//! - `… -- baseline` (with `JWT_JWKS_URL`, `BIND`) is the comparison
//!   server: a hand-written layer that fetches the key set once and calls
//!   `jsonwebtoken::decode` for every request, the thinnest correct layer
//!   one can write. It prints `listening on http://<addr>` like
//!   `resource_server`.
//!
//! The keys are public test fixtures: loopback benchmarking only.

use std::io::Write as _;
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use jwt_layer::issue::{KeyRing, SigningKey, TokenIssuer};
use serde_json::{Value, json};

const ISSUER: &str = "https://accounts.google.com";
const AUDIENCE: &str = "1234567890-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com";
const KEY: &str = include_str!("../tests/data/rsa-private.jwk.json");

type Error = Box<dyn std::error::Error + Send + Sync>;

fn ready_line(addr: std::net::SocketAddr) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    Ok(())
}

async fn setup() -> Result<(), Error> {
    let ring = KeyRing::new(SigningKey::from_jwk(KEY)?);
    let issuer = TokenIssuer::builder(ring.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .ttl(Duration::from_secs(3600))
        .build()?;
    let token = issuer.issue(&json!({
        "azp": AUDIENCE,
        "sub": "110169484474386276334",
        "email": "jane.doe.benchmark@example.com",
        "email_verified": true,
        "hd": "example.com",
        "name": "Jane Doe",
        "picture": "https://lh3.googleusercontent.com/a/ACg8ocJ-benchmark-picture=s96-c",
        "given_name": "Jane",
        "family_name": "Doe",
        "locale": "en",
    }))?;
    let app = Router::new().route_service("/jwks.json", ring.jwks_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "jwks http://{addr}/jwks.json")?;
        writeln!(out, "token {token}")?;
        out.flush()?;
    }
    axum::serve(listener, app).await?;
    Ok(())
}

#[derive(Clone)]
struct Baseline {
    key: DecodingKey,
    validation: Validation,
}

/// The hand-written layer: bearer header → `jsonwebtoken::decode` → 401 or
/// the claims in the extensions.
async fn verify(Extension(b): Extension<Baseline>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match decode::<Value>(token, &b.key, &b.validation) {
        Ok(data) => {
            req.extensions_mut().insert(data.claims);
            next.run(req).await
        }
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn baseline() -> Result<(), Error> {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let url = std::env::var("JWT_JWKS_URL")?;
    let set: JwkSet = reqwest::get(url).await?.json().await?;
    let jwk = set.keys.first().ok_or("empty key set")?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    let state = Baseline {
        key: DecodingKey::from_jwk(jwk)?,
        validation,
    };
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Value>| async move { Json(c) }),
        )
        .layer(middleware::from_fn(verify))
        .layer(Extension(state));
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(bind).await?;
    ready_line(listener.local_addr()?)?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// No authentication at all, the same body as `resource_server`'s `/me`:
/// the token's payload, shared (not copied) by every response.
async fn same_body() -> Result<(), Error> {
    use base64::Engine as _;
    let token = std::env::var("WIRE_TOKEN")?;
    let payload = token.split('.').nth(1).ok_or("WIRE_TOKEN is not a JWT")?;
    let body = Bytes::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?);
    let me = move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    };
    let app = Router::new().route("/me", get(me));
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(bind).await?;
    ready_line(listener.local_addr()?)?;
    // Served like `resource_server` (graceful shutdown included), so the
    // two differ by the authentication only.
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    match std::env::args().nth(1).as_deref() {
        Some("setup") => setup().await,
        Some("baseline") => baseline().await,
        Some("same-body") => same_body().await,
        // `cargo bench` without `--bench` runs every bench target with
        // `--bench`: this one has nothing to measure on its own.
        _ => {
            eprintln!("wire_server: run by scripts/wire-bench.sh (setup|baseline|same-body)");
            Ok(())
        }
    }
}
