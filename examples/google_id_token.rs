//! A backend that accepts Google ID tokens ("Sign in with Google").
//!
//! Run with:
//!
//! ```sh
//! GOOGLE_CLIENT_ID=1234-abc.apps.googleusercontent.com cargo run --example google_id_token
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `GOOGLE_CLIENT_ID` | required: your OAuth client id(s), comma-separated |
//! | `GOOGLE_JWKS_URL` | Google's key set (default `https://www.googleapis.com/oauth2/v3/certs`) |
//! | `GOOGLE_HOSTED_DOMAIN` | optional: admit only this Google Workspace domain |
//! | `BIND` | address to listen on (default `127.0.0.1:3000`) |
//!
//! Routes, both answering `{sub, email, email_verified, name, picture, hd}`:
//! - `GET /me` with `Authorization: Bearer <id_token>`;
//! - `POST /auth/google` with the `credential` field that Google Identity
//!   Services posts (form or JSON). When the form carries GIS's
//!   `g_csrf_token`, it must match the `g_csrf_token` cookie
//!   (double-submit), as Google recommends.
//!
//! When ready it prints `listening on http://<addr>`; it stops on SIGINT or
//! SIGTERM.

#[path = "support/listen.rs"]
mod listen;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/serve_axum.rs"]
mod serve_axum;

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jwt_layer::google::{self, GoogleClaims};
use jwt_layer::{Claims, JwtAuth, Verifier};
use serde::Deserialize;
use serde_json::json;

fn profile(c: &GoogleClaims) -> Json<serde_json::Value> {
    Json(json!({
        "sub": c.sub,
        "email": c.email,
        "email_verified": c.email_verified,
        "name": c.name,
        "picture": c.picture,
        "hd": c.hd,
    }))
}

async fn me(Claims(c): Claims<GoogleClaims>) -> Json<serde_json::Value> {
    profile(&c)
}

#[derive(Deserialize)]
struct Credential {
    credential: String,
    #[serde(default)]
    g_csrf_token: Option<String>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn csrf_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "g_csrf_token")
        .map(|(_, value)| value.to_owned())
}

async fn sign_in(State(verifier): State<Verifier<GoogleClaims>>, req: Request) -> Response {
    let headers = req.headers().clone();
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = if is_json {
        Json::<Credential>::from_request(req, &())
            .await
            .map(|Json(c)| c)
            .ok()
    } else {
        Form::<Credential>::from_request(req, &())
            .await
            .map(|Form(c)| c)
            .ok()
    };
    let Some(body) = body else {
        return error(StatusCode::BAD_REQUEST, "expected a `credential` field");
    };
    if let Some(token) = &body.g_csrf_token
        && csrf_cookie(&headers).as_deref() != Some(token.as_str())
    {
        return error(StatusCode::BAD_REQUEST, "CSRF token mismatch");
    }
    match verifier.verify(&body.credential).await {
        Ok(claims) => profile(&claims).into_response(),
        Err(e) => error(e.status(), e.kind().description()),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    serve::exit_code("google_id_token", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client_ids: Vec<String> = std::env::var("GOOGLE_CLIENT_ID")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if client_ids.is_empty() {
        return Err("set GOOGLE_CLIENT_ID to your OAuth client id(s)".into());
    }
    let mut preset = google::id_tokens(client_ids);
    if let Ok(url) = std::env::var("GOOGLE_JWKS_URL") {
        preset = preset.jwks_url(url);
    }
    if let Ok(domain) = std::env::var("GOOGLE_HOSTED_DOMAIN") {
        preset = preset.hosted_domain(domain);
    }
    let auth: JwtAuth<GoogleClaims> = preset.build()?;
    let verifier = auth.verifier().clone();

    let app = Router::new()
        .route("/me", get(me).layer(auth))
        .route("/auth/google", post(sign_in))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(verifier);

    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    serve_axum::serve(listen::listen(&bind).await?, app).await?;
    Ok(())
}
