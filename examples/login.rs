//! Email-and-password login that issues JWTs, done properly: argon2id
//! password hashes in an embedded SQLite database, a signed token in the
//! answer and in an `HttpOnly; Secure; SameSite=Strict` cookie, and a
//! protected route that accepts either.
//!
//! Run with `cargo run --example login`, then:
//!
//! ```sh
//! curl -s -c jar -H 'content-type: application/json' \
//!   -d '{"email":"demo@example.com","password":"correct horse battery staple"}' \
//!   http://127.0.0.1:3000/login
//! curl -s -b jar http://127.0.0.1:3000/profile
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `JWT_SECRET` | HS256 secret, at least 32 bytes |
//! | `JWT_PRIVATE_KEY_FILE` | or: a private key as PEM or as a private JWK (RS256/ES256/EdDSA); its public key set is served at `/.well-known/jwks.json` |
//! | `TOKEN_TTL_SECS` | token lifetime (default 900) |
//! | `DATABASE_PATH` | the SQLite file (default: `jwt-layer-login-demo.sqlite3` in the temp dir); created and seeded on first run |
//! | `DEMO_PASSWORD` | password of the seeded `demo@example.com` (default `correct horse battery staple`) |
//! | `JWT_ISSUER` / `JWT_AUDIENCE` | `iss` / `aud` of the tokens (default `jwt-layer-login-demo`) |
//! | `BIND` | address to listen on (default `127.0.0.1:3000`) |
//! | `KEYRING_KEK` | with `REDIS_URL` and an asymmetric key: the key that encrypts the ring's private keys in Redis, 32 random bytes as 64 hex or 43 base64url characters (required; shorter is refused) |
//! | `KEY_ROTATION_SECS` | rotate the ring's signing key (to a new ES256 key) at this period; with `REDIS_URL` one replica rotates and all adopt it within a second (unset: no automatic rotation) |
//! | `REDIS_URL` | Redis (`redis://host:port/`, the `redis` feature) for the key ring and revocations shared by every replica (and every API verifying with `JWT_REDIS_URL`): the first replica stores its key (from `JWT_PRIVATE_KEY_FILE`, or a generated ES256 key when none is given), later ones adopt the stored ring. Without it `/logout` holds in this process only |
//!
//! Routes: `POST /login`; `GET /profile`; `POST /logout` revokes the
//! token presented (bearer or cookie) → 204; `POST /logout-all` revokes
//! every token of that user issued until now → 204; both 401 without a
//! valid token.
//!
//! Without `JWT_SECRET` or `JWT_PRIVATE_KEY_FILE` a random secret is made
//! for this run (tokens then die with the process). When ready it prints
//! `listening on http://<addr>`; it stops on SIGINT or SIGTERM.

#[path = "support/listen.rs"]
mod listen;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/serve_axum.rs"]
mod serve_axum;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
#[cfg(feature = "aws-lc-rs")]
use jwt_layer::issue::KeyKind;
use jwt_layer::issue::{HmacSecret, KeyRing, SigningKey, TokenIssuer};
use jwt_layer::revocation::{Revocations, Revoker};
use jwt_layer::token::{BearerHeader, CookieToken, TokenSource as _};
use jwt_layer::{Claims, JwtAuth, VerifiedClaims};
use rusqlite::{Connection, OptionalExtension as _};
use serde::{Deserialize, Serialize};
use serde_json::json;

const COOKIE: &str = "token";

/// The claims of our tokens; `iat`, `exp`, `iss` and `aud` are added by the
/// issuer.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct UserClaims {
    sub: String,
    email: String,
    name: String,
}

struct AppState {
    db: Mutex<Connection>,
    issuer: TokenIssuer,
    revoker: Revoker,
    ttl: Duration,
    /// A real argon2id hash of nothing anyone knows: unknown users are
    /// checked against it, so they cost the same time as a wrong password.
    dummy_hash: String,
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

fn open_db(path: &PathBuf, demo_password: &str) -> Result<Connection, Box<dyn std::error::Error>> {
    let db = Connection::open(path)?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS users (
             id INTEGER PRIMARY KEY,
             email TEXT NOT NULL UNIQUE,
             name TEXT NOT NULL,
             password_hash TEXT NOT NULL
         );",
    )?;
    let seeded: bool = db
        .query_row(
            "SELECT 1 FROM users WHERE email = 'demo@example.com'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !seeded {
        db.execute(
            "INSERT INTO users (email, name, password_hash) VALUES (?1, ?2, ?3)",
            ("demo@example.com", "Demo User", hash(demo_password)?),
        )?;
    }
    Ok(db)
}

type Error = Box<dyn std::error::Error>;

/// The signing key, and the HMAC secret when it is one (to verify with).
/// Without a configured key: a random HMAC secret, or with `REDIS_URL` a
/// generated ES256 key (replicas then share one ring).
fn signing_key(shared: bool) -> Result<(SigningKey, Option<Vec<u8>>), Error> {
    match (env("JWT_SECRET"), env("JWT_PRIVATE_KEY_FILE")) {
        (Some(_), Some(_)) => Err("set JWT_SECRET or JWT_PRIVATE_KEY_FILE, not both".into()),
        (Some(secret), None) => {
            if secret.len() < 32 {
                return Err("JWT_SECRET must be at least 32 bytes".into());
            }
            Ok((
                SigningKey::hmac(secret.as_bytes())?,
                Some(secret.into_bytes()),
            ))
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read JWT_PRIVATE_KEY_FILE {file}: {e}"))?;
            let key = if text.trim_start().starts_with('{') {
                SigningKey::from_jwk(&text)?
            } else {
                SigningKey::from_pem(text.as_bytes())?
            };
            if key.is_symmetric() {
                return Err(
                    "JWT_PRIVATE_KEY_FILE must hold a private key; use JWT_SECRET for HMAC".into(),
                );
            }
            Ok((key, None))
        }
        #[cfg(feature = "aws-lc-rs")]
        (None, None) if shared => Ok((SigningKey::generate(KeyKind::Es256)?, None)),
        (None, None) => {
            let _ = shared;
            eprintln!(
                "login: no JWT_SECRET or JWT_PRIVATE_KEY_FILE; using a random secret for this run"
            );
            let secret = HmacSecret::generate()?.as_bytes().to_vec();
            Ok((SigningKey::hmac(&secret)?, Some(secret)))
        }
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "invalid email or password" })),
    )
        .into_response()
}

async fn login(State(state): State<Arc<AppState>>, body: Option<Json<Login>>) -> Response {
    let Some(Json(login)) = body else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "expected JSON {email, password}" })),
        )
            .into_response();
    };
    if login.email.len() > 320 || login.password.len() > 1024 {
        return unauthorized();
    }
    let checked = {
        let state = Arc::clone(&state);
        tokio::task::spawn_blocking(move || {
            let user = state.db.lock().ok().and_then(|db| {
                db.query_row(
                    "SELECT id, name, password_hash FROM users WHERE email = ?1",
                    [&login.email],
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                        ))
                    },
                )
                .optional()
                .ok()
                .flatten()
            });
            // Always run one argon2id verification, against the user's hash
            // or the dummy one: no user enumeration by timing.
            let hash = user
                .as_ref()
                .map_or(state.dummy_hash.as_str(), |u| u.2.as_str());
            let ok = Argon2::default()
                .verify_password(login.password.as_bytes(), hash)
                .is_ok();
            user.filter(|_| ok).map(|(id, name, _)| UserClaims {
                sub: id.to_string(),
                email: login.email,
                name,
            })
        })
        .await
    };
    let Ok(Some(claims)) = checked else {
        return unauthorized();
    };
    let token = match state.issuer.issue(&claims) {
        Ok(t) => t,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
        state.ttl.as_secs()
    );
    let mut res = Json(json!({ "token": token })).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(SET_COOKIE, value);
    }
    res
}

async fn profile(Claims(c): Claims<UserClaims>) -> Json<UserClaims> {
    Json(c)
}

/// 204 with the cookie cleared, or 503 when the revocation could not be
/// stored.
fn logged_out(result: Result<(), jwt_layer::revocation::RevocationError>) -> Response {
    match result {
        Ok(()) => {
            let clear = format!("{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
            let mut res = StatusCode::NO_CONTENT.into_response();
            if let Ok(value) = HeaderValue::from_str(&clear) {
                res.headers_mut().insert(SET_COOKIE, value);
            }
            res
        }
        Err(e) => {
            eprintln!("login: logout failed: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Revokes the token this request presented.
async fn logout(
    State(state): State<Arc<AppState>>,
    claims: VerifiedClaims<UserClaims>,
) -> Response {
    logged_out(state.revoker.revoke_token(&claims).await)
}

/// Revokes every token of this user issued until now.
async fn logout_all(
    State(state): State<Arc<AppState>>,
    claims: VerifiedClaims<UserClaims>,
) -> Response {
    logged_out(state.revoker.revoke_subject(&claims.sub).await)
}

/// `KEY_ROTATION_SECS`.
fn rotation_period() -> Result<Option<Duration>, Error> {
    match env("KEY_ROTATION_SECS") {
        None => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Some(Duration::from_secs(secs))),
            _ => Err("KEY_ROTATION_SECS must be a positive number of seconds".into()),
        },
    }
}

/// Keeps the ring's keys: shared through `REDIS_URL` (with `KEYRING_KEK`,
/// rotating there), or rotated here every `rotation`. The handle keeps
/// the sharing alive.
#[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
async fn keep_ring(
    ring: &KeyRing,
    rotation: Option<Duration>,
) -> Result<Option<jwt_layer::issue::SharedKeyRing>, Error> {
    use jwt_layer::issue::{KeyEncryptionKey, SharedKeyRing};
    let Some(url) = env("REDIS_URL") else {
        rotate_locally(ring, rotation);
        return Ok(None);
    };
    let kek = env("KEYRING_KEK")
        .ok_or("KEYRING_KEK (32 bytes: 64 hex or 43 base64url characters) is required with REDIS_URL and an asymmetric key")?;
    let kek = KeyEncryptionKey::parse(&kek).map_err(|e| format!("KEYRING_KEK: {e}"))?;
    let builder = SharedKeyRing::builder(url, kek);
    let builder = match rotation {
        Some(period) => builder.rotate_every(period),
        None => builder,
    };
    Ok(Some(builder.join(ring.clone()).await?))
}

#[cfg(not(all(feature = "redis", feature = "aws-lc-rs")))]
async fn keep_ring(ring: &KeyRing, rotation: Option<Duration>) -> Result<Option<()>, Error> {
    if env("REDIS_URL").is_some() {
        return Err(
            "REDIS_URL with an asymmetric key needs the `redis` and `aws-lc-rs` features".into(),
        );
    }
    rotate_locally(ring, rotation);
    Ok(None)
}

/// Rotates the ring here every `rotation` to a new ES256 key.
fn rotate_locally(ring: &KeyRing, rotation: Option<Duration>) {
    let Some(period) = rotation else { return };
    #[cfg(feature = "aws-lc-rs")]
    {
        let ring = ring.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                let rotated = SigningKey::generate(KeyKind::Es256).map(|key| ring.rotate(key));
                if !matches!(rotated, Ok(Ok(()))) {
                    eprintln!("login: key rotation failed");
                }
            }
        });
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    let _ = (ring, period);
}

/// `REDIS_URL`'s shared list, or one in this process.
fn revocations(ttl: Duration) -> Result<Revocations, Error> {
    match env("REDIS_URL") {
        #[cfg(feature = "redis")]
        Some(url) => Ok(Revocations::redis(url).max_token_lifetime(ttl).build()?),
        #[cfg(not(feature = "redis"))]
        Some(_) => Err(
            "REDIS_URL needs the `redis` feature: cargo run --features redis --example login"
                .into(),
        ),
        None => Ok(Revocations::memory_bounded(1_000_000, ttl)),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    serve::exit_code("login", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let ttl = match env("TOKEN_TTL_SECS") {
        Some(v) => v
            .parse()
            .map_err(|_| "TOKEN_TTL_SECS must be a number of seconds")?,
        None => 900,
    };
    let ttl = Duration::from_secs(ttl);
    let issuer_name = env("JWT_ISSUER").unwrap_or_else(|| "jwt-layer-login-demo".into());
    let audience = env("JWT_AUDIENCE").unwrap_or_else(|| "jwt-layer-login-demo".into());
    let db_path = env("DATABASE_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("jwt-layer-login-demo.sqlite3"));
    let demo_password =
        env("DEMO_PASSWORD").unwrap_or_else(|| "correct horse battery staple".into());

    let (key, secret) = signing_key(env("REDIS_URL").is_some())?;
    let ring = KeyRing::builder(key).max_token_ttl(ttl).build()?;
    let rotation = rotation_period()?;
    if rotation.is_some() && secret.is_some() {
        return Err(
            "KEY_ROTATION_SECS rotates an asymmetric key; JWT_SECRET is one fixed secret".into(),
        );
    }
    // With REDIS_URL the stored ring wins: this replica adopts it, or
    // stores its own when it is the first.
    let _shared_ring = match &secret {
        None => keep_ring(&ring, rotation).await?,
        Some(_) => None,
    };
    let bind = env("BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = listen::listen(&bind).await?;
    let addr = listener.local_addr()?;
    let issuer = TokenIssuer::builder(ring.clone())
        .issuer(&issuer_name)
        .audience(&audience)
        .ttl(ttl)
        .jti(true)
        .build()?;

    // Verify our own tokens: with the HMAC secret, or with the published
    // public key set.
    let revocations = revocations(ttl)?;
    if !revocations.ready(Duration::from_secs(5)).await {
        eprintln!(
            "login: the revocation list is not loaded yet (Redis down?); requests get 503 until it is"
        );
    }
    let auth = JwtAuth::<UserClaims>::builder()
        .issuer(&issuer_name)
        .audience(&audience)
        .revocation(revocations.clone())
        .token_source(BearerHeader::new().or(CookieToken::new(COOKIE)));
    // Our own key set, read as verifiers read it (it changes with
    // rotations and with the shared ring).
    let own_keys = format!("http://{addr}/.well-known/jwks.json");
    let auth = match &secret {
        Some(secret) => auth.hmac_secret(secret),
        None => auth.key_source(jwt_layer::keys::RemoteJwks::builder(own_keys)),
    }
    .build()?;

    let state = Arc::new(AppState {
        db: Mutex::new(open_db(&db_path, &demo_password)?),
        issuer,
        revoker: revocations.revoker(),
        ttl,
        dummy_hash: hash("no user has this password, it only costs time")?,
    });

    let mut app = Router::new()
        .route("/login", post(login))
        .route("/profile", get(profile).layer(auth.clone()))
        .route("/logout", post(logout).layer(auth.clone()))
        .route("/logout-all", post(logout_all).layer(auth));
    if secret.is_none() {
        app = app.route_service("/.well-known/jwks.json", ring.jwks_service());
    }
    let app = app
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(state);

    serve_axum::serve(listener, app).await?;
    Ok(())
}
