//! A protected API to deploy behind any OpenID provider, configured only by
//! environment variables.
//!
//! Run with, for example:
//!
//! ```sh
//! JWT_JWKS_URL=https://www.googleapis.com/oauth2/v3/certs \
//! JWT_ISSUER=https://accounts.google.com JWT_AUDIENCE=my-client-id \
//! cargo run --example resource_server
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `JWT_JWKS_URL` | the key set URL (https; plain http only for loopback hosts) |
//! | `JWT_OIDC_ISSUER` | or: an issuer whose key set is found by OpenID discovery |
//! | `JWT_ISSUER` | accepted issuers, comma-separated (default: `JWT_OIDC_ISSUER`) |
//! | `JWT_AUDIENCE` | accepted audiences, comma-separated |
//! | `JWT_LEEWAY_SECS` | clock skew tolerance (default 60) |
//! | `JWT_TOKEN_CACHE` | `off` to verify every request's signature (default `on`) |
//! | `BIND` | address to listen on (default `127.0.0.1:3000`; port 0 picks one) |
//!
//! When ready it prints one line to stdout, `listening on http://<addr>`,
//! and it shuts down cleanly on SIGINT or SIGTERM. Routes:
//! `GET /health` (no auth), `GET /me` (the verified claims as sent),
//! `GET /admin` (scope `admin` required), `GET /optional` (auth optional).

#[path = "support/listen.rs"]
mod listen;

use std::io::Write as _;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use jwt_layer::keys::RemoteJwks;
use jwt_layer::{Authorize, JwtAuth, JwtAuthBuilder, VerifiedClaims};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

/// The claims exactly as the token carried them.
type Payload = Box<RawValue>;

struct Config {
    keys: RemoteJwks,
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: Duration,
    token_cache: bool,
    bind: String,
}

fn list(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn config() -> Result<Config, String> {
    let jwks_url = std::env::var("JWT_JWKS_URL").ok().filter(|s| !s.is_empty());
    let oidc = std::env::var("JWT_OIDC_ISSUER")
        .ok()
        .filter(|s| !s.is_empty());
    let mut issuers = list("JWT_ISSUER");
    let keys = match (jwks_url, oidc) {
        (Some(_), Some(_)) => return Err("set JWT_JWKS_URL or JWT_OIDC_ISSUER, not both".into()),
        (None, None) => return Err("set JWT_JWKS_URL or JWT_OIDC_ISSUER".into()),
        (Some(url), None) => RemoteJwks::builder(url).build(),
        (None, Some(issuer)) => {
            if issuers.is_empty() {
                issuers.push(issuer.clone());
            }
            RemoteJwks::discover(issuer).build()
        }
    }
    .map_err(|e| e.to_string())?;
    let audiences = list("JWT_AUDIENCE");
    if issuers.is_empty() && audiences.is_empty() {
        return Err(
            "set JWT_ISSUER and/or JWT_AUDIENCE: a token for another service must not pass".into(),
        );
    }
    let leeway = match std::env::var("JWT_LEEWAY_SECS") {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| "JWT_LEEWAY_SECS must be a number of seconds")?,
        Err(_) => 60,
    };
    let token_cache = match std::env::var("JWT_TOKEN_CACHE").as_deref() {
        Ok("off") | Ok("false") | Ok("0") => false,
        Ok("on") | Ok("true") | Ok("1") | Err(_) => true,
        Ok(other) => return Err(format!("JWT_TOKEN_CACHE must be on or off, not {other:?}")),
    };
    Ok(Config {
        keys,
        issuers,
        audiences,
        leeway: Duration::from_secs(leeway),
        token_cache,
        bind: std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".into()),
    })
}

fn auth(config: &Config) -> JwtAuthBuilder<Payload> {
    let mut builder = JwtAuth::<Payload>::builder()
        .key_source(config.keys.clone())
        .leeway(config.leeway)
        .token_cache(config.token_cache);
    for issuer in &config.issuers {
        builder = builder.issuer(issuer);
    }
    for audience in &config.audiences {
        builder = builder.audience(audience);
    }
    builder
}

/// The claims as the token carried them.
async fn me(claims: VerifiedClaims<Payload>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        claims.get().to_owned(),
    )
}

async fn optional(claims: Option<VerifiedClaims<Payload>>) -> Json<serde_json::Value> {
    #[derive(Deserialize)]
    struct Sub {
        sub: Option<String>,
    }
    match claims {
        None => Json(json!({ "authenticated": false })),
        Some(c) => {
            let sub = serde_json::from_str::<Sub>(c.get())
                .ok()
                .and_then(|s| s.sub);
            Json(json!({ "authenticated": true, "sub": sub }))
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resource_server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let config = config()?;
    let required = auth(&config).build()?;
    let optional_auth = auth(&config).optional().build()?;
    let admin = Authorize::<Payload>::builder().scope("admin").build()?;

    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(
            Router::new()
                .route("/me", get(me))
                .route("/admin", get(me).layer(admin))
                .layer(required),
        )
        .merge(
            Router::new()
                .route("/optional", get(optional))
                .layer(optional_auth),
        );

    let listener = listen::listen(&config.bind).await?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}
