//! Shared helpers for the integration tests: fixture keys, token minting,
//! a counting handler, request/response shortcuts, verifier outcomes, and
//! (with `test-util`) the key-server helpers of [`jwks`].
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route, get};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{AUTHORIZATION, COOKIE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwt_layer::{AuthErrorKind, Claims, Clock, JwtAuth, JwtAuthBuilder, Verifier};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower::{Layer, Service, ServiceExt as _};

macro_rules! data {
    ($file:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/", $file)
    };
}

// ---------------------------------------------------------------------------
// Fixtures

/// A 64-byte HMAC secret: long enough for HS256, HS384 and HS512.
pub const SECRET: &[u8] = b"jwt-layer integration test secret, sixty-four bytes long........";
/// Another 64-byte secret, for wrong-key cases.
pub const OTHER_SECRET: &[u8] = b"a different secret that is also exactly sixty-four bytes long!!!";

pub const ISSUER: &str = "https://auth.example";
pub const AUDIENCE: &str = "my-api";

pub const RSA_PRIVATE_PEM: &[u8] = include_bytes!(data!("rsa2048-private.pem"));
pub const RSA_PUBLIC_PEM: &str = include_str!(data!("rsa2048-public.pem"));
pub const RSA_PUBLIC_DER: &[u8] = include_bytes!(data!("rsa2048-public.der"));
pub const RSA1024_PRIVATE_PEM: &[u8] = include_bytes!(data!("rsa1024-private.pem"));
pub const RSA1024_PUBLIC_PEM: &str = include_str!(data!("rsa1024-public.pem"));
pub const EC256_PRIVATE_PEM: &[u8] = include_bytes!(data!("ec256-private.pk8.pem"));
pub const EC256_PUBLIC_PEM: &str = include_str!(data!("ec256-public.pem"));
pub const EC256_PUBLIC_DER: &[u8] = include_bytes!(data!("ec256-public.der"));
pub const EC384_PRIVATE_PEM: &[u8] = include_bytes!(data!("ec384-private.pk8.pem"));
pub const EC384_PUBLIC_PEM: &str = include_str!(data!("ec384-public.pem"));
pub const ED_PRIVATE_PEM: &[u8] = include_bytes!(data!("ed25519-private.pem"));
pub const ED_PUBLIC_PEM: &str = include_str!(data!("ed25519-public.pem"));
pub const ED_PUBLIC_DER: &[u8] = include_bytes!(data!("ed25519-public.der"));

pub fn rsa_signer() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE_PEM).expect("RSA private key fixture")
}

pub fn ec256_signer() -> EncodingKey {
    EncodingKey::from_ec_pem(EC256_PRIVATE_PEM).expect("P-256 private key fixture")
}

pub fn ec384_signer() -> EncodingKey {
    EncodingKey::from_ec_pem(EC384_PRIVATE_PEM).expect("P-384 private key fixture")
}

pub fn ed_signer() -> EncodingKey {
    EncodingKey::from_ed_pem(ED_PRIVATE_PEM).expect("Ed25519 private key fixture")
}

pub fn hmac_signer() -> EncodingKey {
    EncodingKey::from_secret(SECRET)
}

// ---------------------------------------------------------------------------
// Crypto backend

/// With `--all-features` jsonwebtoken has two backends and cannot pick one
/// by itself; the tests sign tokens before (or without) building a layer, so
/// they install the one our features select. Idempotent.
pub fn init_crypto() {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

// ---------------------------------------------------------------------------
// Claims and tokens

/// The claims type most tests use.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TestClaims {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub admin: bool,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Valid claims for the default layer: `sub`, `iss`, `aud`, `iat = now`,
/// `exp = now + 300`.
pub fn claims() -> Value {
    let now = now();
    json!({
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
    })
}

/// [`claims`] with the fields of `changes` set; a `null` removes the claim.
pub fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    merge(&mut claims, changes);
    claims
}

/// A copy of `base` with the fields of `changes` set (`null` removes one).
pub fn changed(base: &Value, changes: Value) -> Value {
    let mut claims = base.clone();
    merge(&mut claims, changes);
    claims
}

/// Sets the fields of `changes` on the object `base`; `null` removes one.
pub fn merge(base: &mut Value, changes: Value) {
    let base = base.as_object_mut().expect("an object");
    let Value::Object(changes) = changes else {
        panic!("changes must be an object");
    };
    for (k, v) in changes {
        if v.is_null() {
            base.remove(&k);
        } else {
            base.insert(k, v);
        }
    }
}

/// Signs `claims` with jsonwebtoken under `alg`, with an optional `kid`.
pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    init_crypto();
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("jsonwebtoken::encode")
}

/// An HS256 token over `claims`, signed with [`SECRET`].
pub fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, None, claims, &hmac_signer())
}

/// A valid HS256 token for the default layer.
pub fn valid_token() -> String {
    hs256(&claims())
}

/// The default claims ([`claims`]) signed under `alg` with `key`, with an
/// optional `kid`.
pub fn token(alg: Algorithm, kid: Option<&str>, key: &EncodingKey) -> String {
    sign(alg, kid, &claims(), key)
}

/// An HS256 token over `claims` signed with `secret`, with an optional
/// `kid`.
pub fn hs256_with(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        kid,
        claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Valid default claims with the given `sub`.
pub fn claims_for_sub(sub: &str) -> Value {
    claims_with(json!({ "sub": sub }))
}

/// Valid claims for a clock at `t`, with `changes` applied.
pub fn claims_at(t: u64, changes: Value) -> Value {
    let mut c = claims_with(json!({"iat": t, "exp": t + 300}));
    merge(&mut c, changes);
    c
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token from raw header and payload JSON text, with a *valid* HS256
/// signature by [`SECRET`] (whatever the header says): only the layer's own
/// checks can refuse it.
pub fn craft(header: &str, payload: &str) -> String {
    craft_signed(header, payload, Algorithm::HS256, &hmac_signer())
}

/// Like [`craft`], with the signing algorithm and key given.
pub fn craft_signed(header: &str, payload: &str, alg: Algorithm, key: &EncodingKey) -> String {
    init_crypto();
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, alg).expect("crypto::sign");
    format!("{signing_input}.{signature}")
}

/// A token from raw header and payload *bytes* (not necessarily UTF-8),
/// with a valid HS256 signature by [`SECRET`].
pub fn craft_bytes(header: &[u8], payload: &[u8]) -> String {
    sign_input(&format!("{}.{}", b64(header), b64(payload)))
}

/// A token signed with [`SECRET`] (HS256) over an arbitrary signing input:
/// the segments as given, not re-encoded.
pub fn sign_input(signing_input: &str) -> String {
    init_crypto();
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &hmac_signer(), Algorithm::HS256)
            .expect("crypto::sign");
    format!("{signing_input}.{signature}")
}

/// The decoded JSON text of a token's header segment.
pub fn header_text(token: &str) -> String {
    let (h, _, _) = segments(token);
    String::from_utf8(URL_SAFE_NO_PAD.decode(h).expect("base64url")).expect("UTF-8")
}

/// The decoded JSON text of a token's payload segment.
pub fn payload_text(token: &str) -> String {
    let (_, p, _) = segments(token);
    String::from_utf8(URL_SAFE_NO_PAD.decode(p).expect("base64url")).expect("UTF-8")
}

/// A JWK (JSON text) for a public key, built by jsonwebtoken from the key's
/// components, with `kid` added when given.
pub fn jwk_json(key: &DecodingKey, alg: Algorithm, kid: Option<&str>) -> String {
    init_crypto();
    let mut jwk = Jwk::from_decoding_key(key, Some(alg)).expect("Jwk::from_decoding_key");
    jwk.common.key_id = kid.map(str::to_owned);
    serde_json::to_string(&jwk).expect("JWK to JSON")
}

/// A JWK Set document holding `keys` (JWK JSON texts).
pub fn jwks_json(keys: &[String]) -> String {
    format!("{{\"keys\":[{}]}}", keys.join(","))
}

// ---------------------------------------------------------------------------
// Layers, apps and requests

/// The layer most tests use: HMAC [`SECRET`], issuer and audience set.
pub fn builder() -> JwtAuthBuilder<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
}

/// The default layer ([`builder`]) on a fixed clock at `t`, with `leeway`.
pub fn app_at(t: u64, leeway: Duration) -> (Router, Hits) {
    router(
        builder()
            .clock(Clock::fixed(t))
            .leeway(leeway)
            .build()
            .unwrap(),
    )
}

/// Counts the calls of the inner handler.
#[derive(Clone, Debug, Default)]
pub struct Hits(Arc<AtomicUsize>);

impl Hits {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// A `GET` route whose handler counts its calls and answers with the
    /// `sub` of the [`TestClaims`] it was given, or `anonymous`.
    pub fn route(&self) -> MethodRouter {
        let hits = self.clone();
        get(move |claims: Option<Claims<TestClaims>>| {
            hits.hit();
            async move { claims.map_or_else(|| "anonymous".to_owned(), |Claims(c)| c.sub) }
        })
    }
}

/// A router with one counted route at `/`, behind `layer`.
pub fn router<L>(layer: L) -> (Router, Hits)
where
    L: Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: Service<Request<Body>> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request<Body>>>::Response: IntoResponse + 'static,
    <L::Service as Service<Request<Body>>>::Error: Into<Infallible> + 'static,
    <L::Service as Service<Request<Body>>>::Future: Send + 'static,
{
    let hits = Hits::new();
    let router = Router::new().route("/", hits.route()).layer(layer);
    (router, hits)
}

/// `GET /` without credentials.
pub fn anonymous() -> Request<Body> {
    Request::get("/").body(Body::empty()).expect("request")
}

/// `GET /` with `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> Request<Body> {
    authorization(&format!("Bearer {token}"))
}

/// `GET /` with one `Authorization` header of the given value.
pub fn authorization(value: &str) -> Request<Body> {
    Request::get("/")
        .header(AUTHORIZATION, value)
        .body(Body::empty())
        .expect("request")
}

/// `GET /` with a `Cookie` header of the given value.
pub fn cookie(value: &str) -> Request<Body> {
    Request::get("/")
        .header(COOKIE, value)
        .body(Body::empty())
        .expect("request")
}

/// Sends `req` to a clone of `app`.
pub async fn send(app: &Router, req: Request<Body>) -> Response<Body> {
    app.clone().oneshot(req).await.expect("infallible")
}

/// The `WWW-Authenticate` header, which must appear at most once.
pub fn challenge(res: &Response<Body>) -> Option<&str> {
    let mut all = res.headers().get_all(WWW_AUTHENTICATE).iter();
    let first = all.next().map(|v| v.to_str().expect("visible ASCII"));
    assert!(all.next().is_none(), "several WWW-Authenticate headers");
    first
}

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8 body")
}

/// Sends `req` and checks that it is rejected with `status` and exactly the
/// challenge `expected` (or none), without reaching the handler.
pub async fn assert_rejected(
    app: &Router,
    hits: &Hits,
    req: Request<Body>,
    status: StatusCode,
    expected: Option<&str>,
) -> Response<Body> {
    assert_rejected_case("request", app, hits, req, status, expected).await
}

/// [`assert_rejected`], with failures naming `case`.
pub async fn assert_rejected_case(
    case: &str,
    app: &Router,
    hits: &Hits,
    req: Request<Body>,
    status: StatusCode,
    expected: Option<&str>,
) -> Response<Body> {
    let before = hits.count();
    let res = send(app, req).await;
    assert_eq!(res.status(), status, "{case}: status");
    assert_eq!(challenge(&res), expected, "{case}: WWW-Authenticate");
    assert_eq!(
        hits.count(),
        before,
        "{case}: the handler ran for a rejected request"
    );
    res
}

/// Sends `req`, checks for 200 and one handler call, returns the body.
pub async fn assert_ok(app: &Router, hits: &Hits, req: Request<Body>) -> String {
    let before = hits.count();
    let res = send(app, req).await;
    let status = res.status();
    let www = challenge(&res).map(str::to_owned);
    assert_eq!(status, StatusCode::OK, "status (challenge: {www:?})");
    assert!(www.is_none(), "a 200 carries no challenge");
    assert_eq!(hits.count(), before + 1, "the handler did not run once");
    body_text(res).await
}

// ---------------------------------------------------------------------------
// Expected challenges (realm "api")

/// No credentials: the bare challenge.
pub const MISSING: &str = r#"Bearer realm="api""#;

/// A malformed request (400).
pub const INVALID_REQUEST: &str =
    r#"Bearer realm="api", error="invalid_request", error_description="malformed credentials""#;

/// The 401 challenge for an unacceptable token, with its fixed description.
pub fn invalid_token(description: &str) -> String {
    format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
}

/// The 403 challenge for missing scopes.
pub fn insufficient_scope(scope: &str) -> String {
    format!(
        r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="{scope}""#
    )
}

/// Checks that `req` is refused with 401 `invalid_token` and `description`.
pub async fn assert_invalid_token(
    app: &Router,
    hits: &Hits,
    req: Request<Body>,
    description: &str,
) {
    let want = invalid_token(description);
    assert_rejected(app, hits, req, StatusCode::UNAUTHORIZED, Some(&want)).await;
}

/// Checks for a 400 `invalid_request` with the exact challenge and that the
/// handler did not run.
pub async fn assert_invalid_request(app: &Router, hits: &Hits, req: Request<Body>) {
    assert_rejected(
        app,
        hits,
        req,
        StatusCode::BAD_REQUEST,
        Some(INVALID_REQUEST),
    )
    .await;
}

/// A header value from raw bytes (for obs-text tests).
pub fn header_bytes(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("a valid header value")
}

#[cfg(feature = "axum")]
pub mod process;

#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "tracing")]
pub mod capture;
pub mod certs;

/// A directory of its own for one test's files, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("jl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    /// `file` inside the directory.
    pub fn path(&self, file: &str) -> std::path::PathBuf {
        self.0.join(file)
    }
}

/// Waits (up to 10 s, polling) until `path` holds a file whose content
/// differs from `old`, and returns it: saves of fetched key sets happen
/// in the background, after the fetch has answered.
pub async fn saved_file(path: &std::path::Path, old: Option<&str>) -> String {
    for _ in 0..1000 {
        if let Ok(text) = std::fs::read_to_string(path)
            && Some(text.as_str()) != old
            && !text.is_empty()
        {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{} was not written", path.display());
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
#[allow(unused_imports)]
pub use certs::Certified;

#[cfg(feature = "test-util")]
pub mod jwks;
#[cfg(feature = "test-util")]
#[allow(unused_imports)]
pub use jwks::*;

// ---------------------------------------------------------------------------
// Verifier outcomes (remembered headers, rotation, order of checks)

/// What verifying a token gave: `Ok` or the error kind.
pub type Outcome = Result<(), AuthErrorKind>;

/// Verifies `token` with `verifier` and keeps only the outcome.
pub async fn outcome<C>(verifier: &Verifier<C>, token: &str) -> Outcome
where
    C: DeserializeOwned + Send + Sync + 'static,
{
    verifier
        .verify(token)
        .await
        .map(|_| ())
        .map_err(|e| e.kind())
}

/// Two issuers of the multi-issuer tests.
pub const ISS_1: &str = "https://one.example";
pub const ISS_2: &str = "https://two.example";

/// A 64-byte HMAC secret, distinct for each `i` (rotation and multi-issuer
/// tests).
pub fn numbered_secret(i: usize) -> Vec<u8> {
    let mut s = format!("hot path rotation secret number {i:02}").into_bytes();
    s.resize(64, b'.');
    s
}

// ---------------------------------------------------------------------------
// Attack suite helpers (tests/attacks_*.rs, hostile_jwks.rs, properties.rs)

/// The RFC 7515 Appendix A.2 RSA key (public, test use only): an
/// attacker's own key, which our layers never trust.
pub const ATTACKER_RSA_PRIVATE_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd/wWJcyQoTbji9k0
l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL+yRT+SFd2lZS+pC
gNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb/7OMg0LOL+bSf63kpaSHSX
ndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uD
Zlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxXFvUK+DWNmoudF8NAco9/h9iaGNj8
q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQIDAQABAoIBABKucaRpzQorw35S
bEUAVx8dYXUdZOlJcHtiWQ+dC6V8ljxAHj/PLyzTveyI5QO/xkObCyjIL303l2cf
UhPu2MFaJdjVzqACXuOrLot/eSFvxjvqVidTtAZExqFRJ9mylUVAoLvhowVWmC1O
n95fZCXxTUtxNEG1Xcc7m0rtzJKs45J+N/V9DP1edYH6USyPSWGp6wuA+KgHRnKK
Vf9GRx80JQY7nVNkL17eHoTWEwga+lwi0FEoW9Y7lDtWXYmKBWhUE+U8PGxlJf8f
40493HDw1WRQ/aSLoS4QTp3rn7gYgeHEvfJdkkf0UMhlknlo53M09EFPdadQ4TlU
bjqKc50CgYEA4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH/5IB3jw3bcxGn6QLvnE
tfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw/Py5PJdTJNPY8cQn7ouZ2KKDcmnPG
BY5t7yLc1QlQ5xHdwW1VhvKn+nXqhJTBgIPgtldC+KDV5z+y2XDwGUcCgYEAuQPE
fgmVtjL0Uyyx88GZFF1fOunH3+7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYs
p1ZSe7zFYHj7C6ul7TjeLQeZD/YwD66t62wDmpe/HlB+TnBA+njbglfIsRLtXlnD
zQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdcCgYAHAp9XcCSrn8wVkMVkKdb7
DOX4IKjzdahm+ctDAJN4O/y7OW5FKebvUjdAIt2GuoTZ71iTG+7F0F+lP88jtjP4
U4qe7VHoewl4MKOfXZKTe+YCS1XbNvfgwJ3Ltyl1OH9hWvu2yza7q+d5PCsDzqtm
27kxuvULVeya+TEdAB1ijQKBgQCH/3r6YrVH/uCWGy6bzV1nGNOdjKc9tmkfOJmN
54dxdixdpozCQ6U4OxZrsj3FcOhHBsqAHvX2uuYjagqvo3cOj1TRqNocX40omfCC
Mx3bD1yPPf/6TI2XECva/ggqEY2mYzmIiA5LVVmc5nrybr+lssFKneeyxN2Wq93S
0iJMdQKBgCGHewxzoa1r8ZMD0LETNrToK423K377UCYqXfg5XMclbrjPbEC3YI1Z
NqMtuhdBJqUnBi6tjKMF+34Xf0CUN8ncuXGO2CAYvO8PdyCixHX52ybaDjy1FtCE
6yUXjoKNXKvUm7MWGsAYH6f4IegOetN5NvmUMFStCSkh7ixZLkN1
-----END RSA PRIVATE KEY-----
";

/// The public half of [`ATTACKER_RSA_PRIVATE_PEM`].
pub const ATTACKER_RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofgWCuLjybRlzo0tZWJj
NiuSfb4p4fAkd/wWJcyQoTbji9k0l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEz
P1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo
9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTB
EMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxX
FvUK+DWNmoudF8NAco9/h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXp
oQIDAQAB
-----END PUBLIC KEY-----
";

pub fn attacker_rsa_signer() -> EncodingKey {
    EncodingKey::from_rsa_pem(ATTACKER_RSA_PRIVATE_PEM.as_bytes()).expect("attacker RSA key")
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> (String, String, String) {
    let mut it = token.splitn(3, '.');
    let h = it.next().expect("header").to_owned();
    let p = it.next().expect("payload").to_owned();
    let s = it.next().expect("signature").to_owned();
    (h, p, s)
}

/// The decoded signature of a compact token.
pub fn signature_bytes(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(segments(token).2)
        .expect("base64url signature")
}

/// `token` with its signature replaced by `signature` (raw bytes).
pub fn with_signature(token: &str, signature: &[u8]) -> String {
    let (h, p, _) = segments(token);
    format!("{h}.{p}.{}", b64(signature))
}

/// Marks one hostile case of `class`: with `ATTACK_TALLY=1` and
/// `--nocapture`, each case prints a `TALLY <class>` line to count them.
pub fn tally(class: &str) {
    if std::env::var_os("ATTACK_TALLY").is_some() {
        eprintln!("TALLY {class}");
    }
}

/// [`assert_rejected`], counted under `class` (see [`tally`]).
pub async fn hostile(
    class: &str,
    app: &Router,
    hits: &Hits,
    req: Request<Body>,
    status: StatusCode,
    expected: Option<&str>,
) -> Response<Body> {
    tally(class);
    assert_rejected(app, hits, req, status, expected).await
}

/// A hostile bearer token that must get 401 `invalid_token` with
/// `description`, counted under `class`.
pub async fn hostile_token(class: &str, app: &Router, hits: &Hits, token: &str, description: &str) {
    let want = invalid_token(description);
    hostile(
        class,
        app,
        hits,
        bearer(token),
        StatusCode::UNAUTHORIZED,
        Some(&want),
    )
    .await;
}

/// One named case of a table of hostile tokens: the bearer `token` must get
/// 401 `invalid_token` with exactly `description`, without reaching the
/// handler. Counted under `class`; every failure message names `case`.
pub async fn hostile_case(
    class: &str,
    case: &str,
    app: &Router,
    hits: &Hits,
    token: &str,
    description: &str,
) {
    let want = invalid_token(description);
    hostile_request_case(
        class,
        case,
        app,
        hits,
        bearer(token),
        StatusCode::UNAUTHORIZED,
        Some(&want),
    )
    .await;
}

/// [`hostile`] for one named case of a table: failures name `case`.
pub async fn hostile_request_case(
    class: &str,
    case: &str,
    app: &Router,
    hits: &Hits,
    req: Request<Body>,
    status: StatusCode,
    expected: Option<&str>,
) -> Response<Body> {
    tally(class);
    assert_rejected_case(case, app, hits, req, status, expected).await
}

/// The public JWK (with `kid`) of the RSA-2048 fixture, for RS256.
pub fn rsa_jwk(kid: &str) -> String {
    let key = DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).expect("RSA fixture");
    jwk_json(&key, Algorithm::RS256, Some(kid))
}

/// The public JWK (with `kid`) of the Ed25519 fixture.
pub fn ed_jwk(kid: &str) -> String {
    let key = DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes()).expect("Ed25519 fixture");
    jwk_json(&key, Algorithm::EdDSA, Some(kid))
}

/// The public JWK (with `kid`) of the P-256 fixture.
pub fn ec_jwk(kid: &str) -> String {
    let key = DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).expect("P-256 fixture");
    jwk_json(&key, Algorithm::ES256, Some(kid))
}
