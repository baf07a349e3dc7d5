//! Shared harness for the fuzz targets: fixed keys, a verifier and a layer
//! built once, and the invariants every input must keep.
//!
//! The invariants:
//! - no panic (libFuzzer reports it as a crash);
//! - a rejection is 400 or 401 (never 500, never 503 with static keys);
//! - the `WWW-Authenticate` value is one of the fixed, prebuilt challenges
//!   (no input byte can reach it);
//! - a token that is not signed by one of our keys never verifies;
//! - memory stays bounded (libFuzzer's `-rss_limit_mb`/`-malloc_limit_mb`).

use std::convert::Infallible;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use jwt_layer::{AuthErrorKind, Clock, JwtAuth, JwtAuthService, Key};
use serde_json::Value;
use tower::ServiceExt as _;
use tower::service_fn;

/// A 64-byte HMAC secret (HS256/384/512).
pub const SECRET: &[u8] = b"jwt-layer fuzz secret, sixty-four bytes long....................";
pub const ISSUER: &str = "https://auth.example";
pub const AUDIENCE: &str = "my-api";
/// The fixed clock of the verifiers (2023-11-14).
pub const NOW: u64 = 1_700_000_000;

const RSA_PUBLIC_PEM: &str = include_str!("../../tests/data/rsa2048-public.pem");
const EC256_PUBLIC_PEM: &str = include_str!("../../tests/data/ec256-public.pem");
const EC384_PUBLIC_PEM: &str = include_str!("../../tests/data/ec384-public.pem");
const ED_PUBLIC_PEM: &str = include_str!("../../tests/data/ed25519-public.pem");

/// A current-thread runtime for the whole process.
pub static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
});

/// Every key type, each with a `kid`, the issuer and audience set, on a
/// fixed clock.
pub fn static_auth() -> JwtAuth<Value> {
    JwtAuth::<Value>::builder()
        .key(Key::hmac(SECRET).expect("secret").with_kid("hs"))
        .key(Key::rsa_pem(RSA_PUBLIC_PEM).expect("rsa").with_kid("rs"))
        .key(Key::ec_pem(EC256_PUBLIC_PEM).expect("p256").with_kid("es"))
        .key(
            Key::ec_pem(EC384_PUBLIC_PEM)
                .expect("p384")
                .with_kid("es384"),
        )
        .key(Key::ed_pem(ED_PUBLIC_PEM).expect("ed25519").with_kid("ed"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(Clock::fixed(NOW))
        .build()
        .expect("layer")
}

pub static AUTH: LazyLock<JwtAuth<Value>> = LazyLock::new(static_auth);

type Inner = tower::util::ServiceFn<
    fn(Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>>,
>;

fn ok(_req: Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>> {
    std::future::ready(Ok(Response::new("ok".to_owned())))
}

/// The layer around a service that answers 200.
pub static SERVICE: LazyLock<
    JwtAuthService<Inner, Value, jwt_layer::BearerHeader, jwt_layer::DefaultRejection>,
> = LazyLock::new(|| {
    use tower::Layer as _;
    AUTH.layer(service_fn(ok as fn(_) -> _))
});

/// The challenges the default realm can answer with.
pub fn allowed_challenge(value: &str) -> bool {
    const DESCRIPTIONS: &[&str] = &[
        "malformed token",
        "token too large",
        "unsupported token header",
        "algorithm not allowed",
        "unknown signing key",
        "invalid signature",
        "token expired",
        "token not yet valid",
        "token issued in the future",
        "token lifetime too long",
        "invalid issuer",
        "invalid audience",
        "invalid claims",
    ];
    value == r#"Bearer realm="api""#
        || value
            == r#"Bearer realm="api", error="invalid_request", error_description="malformed credentials""#
        || DESCRIPTIONS.iter().any(|d| {
            value
                == format!(r#"Bearer realm="api", error="invalid_token", error_description="{d}""#)
        })
}

/// Sends one request with the given `Authorization` value through the layer
/// and checks the answer. Returns the status.
pub fn check_authorization(value: HeaderValue) -> StatusCode {
    let req = Request::get("/")
        .header(AUTHORIZATION, value)
        .body(String::new())
        .expect("request");
    let res = RUNTIME
        .block_on(SERVICE.clone().oneshot(req))
        .expect("infallible");
    check_response(&res)
}

/// The invariants of any answer of the layer with static keys.
pub fn check_response<B>(res: &Response<B>) -> StatusCode {
    let status = res.status();
    let challenges: Vec<_> = res.headers().get_all(WWW_AUTHENTICATE).iter().collect();
    match status {
        StatusCode::OK => assert!(challenges.is_empty(), "a 200 with a challenge"),
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => {
            assert_eq!(challenges.len(), 1, "one challenge");
            let value = challenges[0].to_str().expect("ASCII challenge");
            assert!(allowed_challenge(value), "unexpected challenge {value:?}");
        }
        other => panic!("status {other} for a request"),
    }
    status
}

/// Verifies `token` with the verifier alone and checks the error class.
pub fn check_verify(auth: &JwtAuth<Value>, token: &str) -> Result<Value, AuthErrorKind> {
    let verifier = auth.verifier().clone();
    let result = RUNTIME.block_on(async move { verifier.verify(token).await });
    match result {
        Ok(claims) => Ok(claims.claims().clone()),
        Err(err) => {
            assert_eq!(
                err.status(),
                StatusCode::UNAUTHORIZED,
                "verify error {:?} is not a 401",
                err.kind()
            );
            Err(err.kind())
        }
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Installs jsonwebtoken's aws-lc-rs provider (for signing in harnesses).
pub fn init_crypto() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// `header.payload.signature` with a valid HMAC signature by `secret`.
pub fn hmac_token(
    header: &[u8],
    payload: &[u8],
    alg: jsonwebtoken::Algorithm,
    secret: &[u8],
) -> String {
    init_crypto();
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, alg).expect("HMAC signing");
    format!("{signing_input}.{signature}")
}
