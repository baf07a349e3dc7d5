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
//! Every variable is listed by `cargo run --example resource_server -- --help`
//! (each can also be given as a flag):
//!
//! | variable | meaning |
//! |---|---|
//! | `JWT_JWKS_URL` | the key set URL (https; plain http only for loopback hosts) |
//! | `JWT_OIDC_ISSUER` | or: an issuer whose key set is found by OpenID discovery |
//! | `JWT_ISSUER` | accepted issuers, comma-separated (default: `JWT_OIDC_ISSUER`); an entry may hold one `{claim}` placeholder, e.g. `https://login.microsoftonline.com/{tid}/v2.0` |
//! | `JWT_ISSUER_VALUES` | the values a placeholder may take, comma-separated, `*` for any (required with a template) |
//! | `JWT_AUDIENCE` | accepted audiences, comma-separated |
//! | `JWT_AUDIENCE_CLAIMS` | claims that may carry the audience, comma-separated (default `aud`) |
//! | `JWT_REQUIRE_TYP` | accepted `typ` headers, comma-separated (unset: not checked) |
//! | `JWT_CLAIM_EQUALS` | `pointer=value` pairs, comma-separated (`/token_use=access`): the claim must be that string, or an array holding it |
//! | `JWT_ROLE_CLAIMS` | where roles are (JSON Pointers or names), comma-separated (unset: no roles) |
//! | `JWT_LEEWAY_SECS` | clock skew tolerance (default 60) |
//! | `JWT_TOKEN_CACHE` | `off` to verify every request's signature (default `on`) |
//! | `JWT_KEYS_FORMAT` | `auto` (default), `jwks`, or `pem-map` (a map of kid to PEM certificate, as Google's `oauth2/v1/certs` and Firebase serve) |
//! | `JWT_KEYS_CACHE_FILE` | a file to start from at launch when present (so a restart during a provider outage still verifies) and to which each good fetch is written |
//! | `JWT_KEYS_BEARER_FILE` | a file whose trimmed content is sent as a bearer token with each key set fetch (Kubernetes service-account keys), re-read on each fetch |
//! | `JWT_HMAC_SECRET` | an HS256 secret (at least 32 bytes) accepted beside the remote key set, e.g. during Supabase's move to asymmetric keys |
//! | `BIND` | address to listen on (default `127.0.0.1:3000`; port 0 picks one) |
//! | `JWT_DPOP` | DPoP-bound tokens (RFC 9449): `off`, `allowed` (default: `Authorization: DPoP` with its `DPoP` proof verified, bearer tokens accepted when not bound), `required` |
//! | `JWT_PUBLIC_URL` | the origin clients reach this API at (`https://api.example.com`), for DPoP proofs' `htu`; unset: the request's own scheme and `Host` |
//! | `JWT_REDIS_URL` | Redis shared by the fleet (`redis://host:port/`; the `redis` feature): the revocation mirror (tokens revoked anywhere, `login`'s `/logout` or a `Revoker`, get 401 `invalid_token`) and the key-set snapshot (replicas starting together fetch about once; one started during a provider outage verifies with the fleet's last good set) |
//! | `JWT_REVOCATION_FAIL` | while the revocation list is not loaded or Redis has been unreachable for over 10 s: `closed` (default: 503 with `Retry-After`) or `open` (answer from the entries held) |
//! | `JWT_PROVIDER` | an identity-provider preset (below); replaces `JWT_JWKS_URL`/`JWT_OIDC_ISSUER`, and the generic variables add to it |
//!
//! With `JWT_PROVIDER`, the provider's own variables (the key-set variables
//! `JWT_KEYS_*` apply to `JWT_JWKS_URL`/`JWT_OIDC_ISSUER` only):
//!
//! | `JWT_PROVIDER` | required | optional |
//! |---|---|---|
//! | `auth0` | `AUTH0_DOMAIN` (host, or a full URL), `JWT_AUDIENCE` | |
//! | `okta` | `OKTA_ISSUER` (full URL) | `JWT_AUDIENCE` (default `api://default`), `OKTA_CLIENT_IDS` |
//! | `keycloak` | `KEYCLOAK_REALM_URL`, `KEYCLOAK_CLIENT_ID` | `KEYCLOAK_ISSUER_ALIASES` |
//! | `entra` | `ENTRA_TENANT` (GUID, or `organizations`/`common`), `ENTRA_CLIENT_ID` | `ENTRA_ALLOWED_TENANTS` (required when multi-tenant; `*` for any), `ENTRA_AUTHORITY` |
//! | `cognito` | `COGNITO_USER_POOL_ID`, `COGNITO_CLIENT_ID` | `COGNITO_TOKEN_USE` (`access`, or `id`), `COGNITO_ENDPOINT` |
//! | `firebase` | `FIREBASE_PROJECT_ID` | `FIREBASE_SESSION_COOKIE` (a cookie name: session-cookie mode), `FIREBASE_KEYS_URL` |
//! | `apple` | `APPLE_CLIENT_ID` | `APPLE_KEYS_URL` |
//! | `clerk` | `CLERK_FRONTEND_API`, `CLERK_AUTHORIZED_PARTIES` | |
//! | `supabase` | `SUPABASE_URL` | `SUPABASE_JWT_SECRET` (legacy HS256) |
//! | `zitadel` | `ZITADEL_URL`, `ZITADEL_PROJECT_ID` | `ZITADEL_CLIENT_IDS` |
//! | `kubernetes` | `K8S_ISSUER`, `JWT_AUDIENCE` | `K8S_JWKS_URL`, `K8S_TOKEN_FILE`, `K8S_CA_FILE`, `K8S_ALLOWED_SERVICE_ACCOUNTS` (`ns:name`) |
//! | `google-iap` | `IAP_AUDIENCE` | `IAP_KEYS_URL` |
//!
//! Lists are comma-separated. `/roles/{role}` reads the preset's role claims
//! (plus `JWT_ROLE_CLAIMS`).
//!
//! When ready it prints one line to stdout, `listening on http://<addr>`,
//! and it shuts down cleanly on SIGINT or SIGTERM. Routes:
//! `GET /health` (no auth), `GET /metrics` (no auth; built with the
//! `metrics` feature: the layer's counters in the Prometheus text format),
//! `GET /me` (the verified claims as sent),
//! `GET /admin` (scope `admin` required), `GET /roles/{role}` (the claims
//! when the token has that role, else 403 `insufficient_scope`),
//! `GET /optional` (auth optional).

#[path = "support/listen.rs"]
mod listen;
#[path = "support/provider.rs"]
mod provider;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/serve_axum.rs"]
mod serve_axum;

use std::path::PathBuf;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use clap::Parser;
use jwt_layer::dpop::{Dpop, DpopMode};
use jwt_layer::keys::{BearerTokenFile, KeySetFormat, RemoteJwks, RemoteJwksBuilder};
use jwt_layer::revocation::Revocations;
use jwt_layer::{AuthError, AuthErrorKind, Authorize, JwtAuth, JwtAuthBuilder, VerifiedClaims};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

/// The claims exactly as the token carried them, in a shared buffer: every
/// `/me` answer of a cached token sends these bytes without copying them.
#[derive(Debug, Clone)]
struct Payload(Bytes);

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: Box<str> = Box::<RawValue>::deserialize(d)?.into();
        Ok(Self(Bytes::from(raw.into_boxed_bytes())))
    }
}

/// The configuration, from the environment (or flags).
#[derive(Debug, Parser)]
#[command(about = "A protected API behind any OpenID provider", version)]
struct Args {
    /// The key set URL (https; plain http only for loopback hosts).
    #[arg(long, env = "JWT_JWKS_URL")]
    jwks_url: Option<String>,
    /// Or: an issuer whose key set is found by OpenID discovery.
    #[arg(long, env = "JWT_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// Accepted issuers (default: the OIDC issuer).
    #[arg(long, env = "JWT_ISSUER", value_delimiter = ',')]
    issuer: Vec<String>,
    /// Values an issuer template's placeholder may take (`*`: any).
    #[arg(long, env = "JWT_ISSUER_VALUES", value_delimiter = ',')]
    issuer_values: Vec<String>,
    /// Accepted audiences.
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    audience: Vec<String>,
    /// Claims that may carry the audience (default `aud`).
    #[arg(long, env = "JWT_AUDIENCE_CLAIMS", value_delimiter = ',')]
    audience_claims: Vec<String>,
    /// Accepted `typ` headers (unset: not checked).
    #[arg(long, env = "JWT_REQUIRE_TYP", value_delimiter = ',')]
    require_typ: Vec<String>,
    /// `pointer=value` pairs the claims must hold (`/token_use=access`).
    #[arg(long, env = "JWT_CLAIM_EQUALS", value_delimiter = ',')]
    claim_equals: Vec<String>,
    /// Where roles are: JSON Pointers or top-level names (unset: no roles).
    #[arg(long, env = "JWT_ROLE_CLAIMS", value_delimiter = ',')]
    role_claims: Vec<String>,
    /// Clock skew tolerance in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 60)]
    leeway_secs: u64,
    /// `off` to verify every request's signature.
    #[arg(long, env = "JWT_TOKEN_CACHE", default_value = "on",
          value_parser = ["on", "off", "true", "false", "1", "0"])]
    token_cache: String,
    /// The key set's format: `auto`, `jwks`, or `pem-map` (kid to PEM
    /// certificate, as Google's v1 certs and Firebase serve).
    #[arg(long, env = "JWT_KEYS_FORMAT", default_value = "auto",
          value_parser = ["auto", "jwks", "pem-map"])]
    keys_format: String,
    /// A file to start from when present, and to which each good fetch is
    /// written.
    #[arg(long, env = "JWT_KEYS_CACHE_FILE")]
    keys_cache_file: Option<PathBuf>,
    /// A file whose trimmed content is sent as a bearer token with each key
    /// set fetch (re-read on each fetch).
    #[arg(long, env = "JWT_KEYS_BEARER_FILE")]
    keys_bearer_file: Option<PathBuf>,
    /// An HS256 secret (at least 32 bytes) accepted beside the key set.
    /// Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "JWT_HMAC_SECRET", hide_env_values = true)]
    hmac_secret: Option<Secret>,
    /// DPoP-bound tokens: `off`, `allowed` (DPoP requests verified, bearer
    /// tokens accepted when not bound), or `required`.
    #[arg(long, env = "JWT_DPOP", default_value = "allowed",
          value_parser = ["off", "allowed", "required"])]
    dpop: String,
    /// The origin clients reach this API at (`https://api.example.com`),
    /// for DPoP proofs' `htu`; unset: the request's own scheme and `Host`.
    #[arg(long, env = "JWT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Revocations shared by the fleet through Redis (`redis://host:port/`).
    #[arg(long, env = "JWT_REDIS_URL")]
    redis_url: Option<String>,
    /// While the revocation list cannot be trusted: `closed` (503) or
    /// `open` (answer from the entries held).
    #[arg(long, env = "JWT_REVOCATION_FAIL", default_value = "closed",
          value_parser = ["closed", "open"])]
    revocation_fail: String,
    /// Address to listen on (port 0 picks one).
    #[arg(long, env = "BIND", default_value = "127.0.0.1:3000")]
    bind: String,
    #[command(flatten)]
    provider: provider::ProviderArgs,
}

struct Config {
    /// The key set of `JWT_JWKS_URL`/`JWT_OIDC_ISSUER` (none with a preset,
    /// which makes its own).
    keys: Option<RemoteJwks>,
    /// `JWT_REDIS_URL`'s revocation list.
    revocations: Option<Revocations>,
    args: Args,
}

/// A secret from the configuration; `Debug` never shows it.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// The key source's settings shared by both ways of locating it.
fn key_settings(args: &Args, keys: RemoteJwksBuilder) -> RemoteJwksBuilder {
    let format = match args.keys_format.as_str() {
        "jwks" => KeySetFormat::Jwks,
        "pem-map" => KeySetFormat::PemCertificates,
        _ => KeySetFormat::Auto,
    };
    let mut keys = keys.format(format);
    if let Some(file) = &args.keys_cache_file {
        // The first launch has no file yet: nothing to warn about.
        if file.exists() {
            keys = keys.seed_file(file);
        }
        keys = keys.persist_to(file);
    }
    if let Some(file) = &args.keys_bearer_file {
        keys = keys.fetch_headers(BearerTokenFile::new(file));
    }
    shared_snapshot(args, keys)
}

/// With `JWT_REDIS_URL`, the key set is shared with the fleet: replicas
/// starting together fetch it about once, and one started during a
/// provider outage verifies with the fleet's last good set.
#[cfg(feature = "redis")]
fn shared_snapshot(args: &Args, keys: RemoteJwksBuilder) -> RemoteJwksBuilder {
    let Some(url) = present(&args.redis_url) else {
        return keys;
    };
    let source = args
        .jwks_url
        .as_deref()
        .or(args.oidc_issuer.as_deref())
        .unwrap_or_default();
    match jwt_layer::keys::RedisSnapshot::new(url, format!("jwt-layer:keys:{source}")) {
        Ok(store) => keys.shared_snapshot(store),
        // The URL is checked again, with its error, by the revocation list.
        Err(_) => keys,
    }
}

#[cfg(not(feature = "redis"))]
fn shared_snapshot(_: &Args, keys: RemoteJwksBuilder) -> RemoteJwksBuilder {
    keys
}

/// An issuer entry with a `{claim}` placeholder.
fn is_template(issuer: &str) -> bool {
    issuer.contains('{')
}

/// A variable's trimmed value; `None` when unset or blank.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The non-empty, trimmed entries of a comma-separated list.
fn entries(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn config() -> Result<Config, String> {
    let args = Args::parse();
    let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    if let Some(bad) = entries(&args.claim_equals).find(|p| !p.contains('=')) {
        return Err(format!(
            "JWT_CLAIM_EQUALS entries are pointer=value, not {bad:?}"
        ));
    }
    if args.provider.provider.is_some() {
        if some(&args.jwks_url).is_some() || some(&args.oidc_issuer).is_some() {
            return Err("JWT_PROVIDER replaces JWT_JWKS_URL and JWT_OIDC_ISSUER: set one".into());
        }
        // A configuration mistake shows now, not on the first request.
        let audiences: Vec<String> = entries(&args.audience).map(str::to_owned).collect();
        args.provider
            .builder::<Payload>(&audiences)?
            .build()
            .map_err(|e| e.to_string())?;
        let revocations = revocations(&args)?;
        return Ok(Config {
            keys: None,
            revocations,
            args,
        });
    }
    generic_config(args)
}

/// The configuration without a preset.
fn generic_config(mut args: Args) -> Result<Config, String> {
    let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let keys = match (some(&args.jwks_url), some(&args.oidc_issuer)) {
        (Some(_), Some(_)) => return Err("set JWT_JWKS_URL or JWT_OIDC_ISSUER, not both".into()),
        (None, None) => return Err("set JWT_JWKS_URL or JWT_OIDC_ISSUER".into()),
        (Some(url), None) => key_settings(&args, RemoteJwks::builder(url)).build(),
        (None, Some(issuer)) => {
            if entries(&args.issuer).next().is_none() {
                args.issuer = vec![issuer.clone()];
            }
            // A templated discovery document (Entra `organizations`) is
            // accepted when it has the shape of a configured template.
            let templates = entries(&args.issuer).filter(|i| is_template(i));
            let keys = templates.fold(RemoteJwks::discover(issuer), |keys, t| {
                keys.accept_issuer_template(t)
            });
            key_settings(&args, keys).build()
        }
    }
    .map_err(|e| e.to_string())?;
    let templated = entries(&args.issuer).any(is_template);
    if templated && entries(&args.issuer_values).next().is_none() {
        return Err("JWT_ISSUER holds a template: list JWT_ISSUER_VALUES (or `*` for any)".into());
    }
    if entries(&args.issuer).next().is_none() && entries(&args.audience).next().is_none() {
        return Err(
            "set JWT_ISSUER and/or JWT_AUDIENCE: a token for another service must not pass".into(),
        );
    }
    if args.hmac_secret.as_ref().is_some_and(|s| s.0.len() < 32) {
        return Err("JWT_HMAC_SECRET must be at least 32 bytes".into());
    }
    Ok(Config {
        keys: Some(keys),
        revocations: revocations(&args)?,
        args,
    })
}

/// `JWT_REDIS_URL` and `JWT_REVOCATION_FAIL`.
fn revocations(args: &Args) -> Result<Option<Revocations>, String> {
    let Some(url) = present(&args.redis_url) else {
        return Ok(None);
    };
    #[cfg(feature = "redis")]
    {
        use jwt_layer::revocation::FailurePolicy;
        let policy = match args.revocation_fail.as_str() {
            "open" => FailurePolicy::Open,
            _ => FailurePolicy::Closed,
        };
        let revocations = Revocations::redis(url)
            .failure_policy(policy)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Some(revocations))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        Err("JWT_REDIS_URL needs the `redis` feature: cargo run --features redis --example resource_server".into())
    }
}

/// The layer's builder: the preset's, or one on the configured key set;
/// then the generic variables, which add to either.
fn auth(config: &Config) -> Result<JwtAuthBuilder<Payload, provider::Source>, String> {
    let args = &config.args;
    let audiences: Vec<String> = entries(&args.audience).map(str::to_owned).collect();
    let builder = match &config.keys {
        None => args.provider.builder::<Payload>(&audiences)?,
        Some(keys) => audiences
            .iter()
            .fold(
                JwtAuth::<Payload>::builder().key_source(keys.clone()),
                |b, a| b.audience(a),
            )
            .map_token_source(provider::Source::Bearer),
    };
    let builder = generic_rules(args, builder);
    Ok(match &config.revocations {
        Some(revocations) => builder.revocation(revocations.clone()),
        None => builder,
    })
}

/// `JWT_DPOP` and `JWT_PUBLIC_URL`.
fn dpop(args: &Args) -> Dpop {
    let mode = match args.dpop.as_str() {
        "off" => DpopMode::Off,
        "required" => DpopMode::Required,
        _ => DpopMode::Allowed,
    };
    let dpop = Dpop::new().mode(mode);
    match present(&args.public_url) {
        Some(url) => dpop.public_origin(url),
        None => dpop,
    }
}

/// What the generic variables add to a builder.
fn generic_rules<T>(
    args: &Args,
    builder: JwtAuthBuilder<Payload, T>,
) -> JwtAuthBuilder<Payload, T> {
    let token_cache = matches!(args.token_cache.as_str(), "on" | "true" | "1");
    let mut builder = builder
        .leeway(Duration::from_secs(args.leeway_secs))
        .token_cache(token_cache)
        .dpop(dpop(args));
    if let Some(secret) = &args.hmac_secret {
        builder = builder.hmac_secret(secret.0.as_bytes());
    }
    let values: Vec<&str> = entries(&args.issuer_values).collect();
    for issuer in entries(&args.issuer) {
        builder = match (is_template(issuer), values.as_slice()) {
            (false, _) => builder.issuer(issuer),
            (true, ["*"]) => builder.issuer_template_any_value(issuer),
            (true, values) => builder.issuer_template(issuer, values.iter().copied()),
        };
    }
    for pair in entries(&args.claim_equals) {
        if let Some((pointer, value)) = pair.split_once('=') {
            builder = builder.claim_equals(pointer.trim(), value.trim());
        }
    }
    let present = |list: &[String]| entries(list).map(str::to_owned).collect::<Vec<_>>();
    if !present(&args.audience_claims).is_empty() {
        builder = builder.audience_claims(present(&args.audience_claims));
    }
    if !present(&args.require_typ).is_empty() {
        builder = builder.require_typ(present(&args.require_typ));
    }
    builder.role_claims(present(&args.role_claims))
}

/// The claims as the token carried them.
async fn me(claims: VerifiedClaims<Payload>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], claims.0.clone())
}

/// The claims when the token has `role`, else 403 `insufficient_scope`.
async fn role(Path(role): Path<String>, claims: VerifiedClaims<Payload>) -> Response {
    if claims.has_role(&role) {
        me(claims).await.into_response()
    } else {
        AuthError::new(AuthErrorKind::MissingRole).into_response()
    }
}

async fn optional(claims: Option<VerifiedClaims<Payload>>) -> Json<serde_json::Value> {
    #[derive(Deserialize)]
    struct Sub {
        sub: Option<String>,
    }
    match claims {
        None => Json(json!({ "authenticated": false })),
        Some(c) => {
            let sub = serde_json::from_slice::<Sub>(&c.0).ok().and_then(|s| s.sub);
            Json(json!({ "authenticated": true, "sub": sub }))
        }
    }
}

/// `GET /metrics`: the Prometheus exporter installed as the `metrics`
/// recorder, rendered on each scrape.
#[cfg(feature = "metrics")]
fn metrics_route() -> Result<Router, Box<dyn std::error::Error>> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let render = move || {
        let text = handle.render();
        async move { ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
    };
    Ok(Router::new().route("/metrics", get(render)))
}

/// Without the `metrics` feature there is nothing to serve.
#[cfg(not(feature = "metrics"))]
fn metrics_route() -> Result<Router, Box<dyn std::error::Error>> {
    Ok(Router::new())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    serve::exit_code("resource_server", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let config = config()?;
    // The metrics recorder first: key sets register their metrics on
    // their first fetch, which may start below.
    let metrics = metrics_route()?;
    // Installs the saved key set now (when JWT_KEYS_CACHE_FILE has one) and
    // starts a live fetch, so the first request need not wait.
    if let Some(keys) = &config.keys {
        let _ = keys.status();
    }
    if let Some(revocations) = &config.revocations
        && !revocations.ready(Duration::from_secs(5)).await
    {
        tracing::warn!("the revocation list is not loaded yet (Redis down?)");
    }
    let required = auth(&config)?.build()?;
    let optional_auth = auth(&config)?.optional().build()?;
    let admin = Authorize::<Payload>::builder().scope("admin").build()?;

    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(metrics)
        .merge(
            Router::new()
                .route("/me", get(me))
                .route("/admin", get(me).layer(admin))
                .route("/roles/{role}", get(role))
                .layer(required),
        )
        .merge(
            Router::new()
                .route("/optional", get(optional))
                .layer(optional_auth),
        );

    serve_axum::serve(listen::listen(&config.args.bind).await?, app).await?;
    Ok(())
}
