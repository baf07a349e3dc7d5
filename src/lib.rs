//! JWT authentication for [tower] and [axum] services, in one `.layer(..)`.
//!
//! [`JwtAuth`] takes the bearer token of each request, verifies it against
//! keys chosen by `kid` (the algorithms come from the key, never from the
//! token), checks the claims with safe defaults, and stores the typed claims
//! in the request extensions, where the [`Claims<C>`] extractor hands them
//! to handlers. Failures are answered as RFC 6750 says: 401 with a
//! `WWW-Authenticate: Bearer …` challenge, 400 for malformed requests, 403
//! for missing scopes, 503 when keys cannot be fetched.
//!
//! ```
//! use axum::{Router, routing::get, body::Body};
//! use http::{Request, StatusCode};
//! use jwt_layer::{Claims, JwtAuth};
//! use serde::Deserialize;
//! use tower::ServiceExt;
//!
//! #[derive(Clone, Deserialize)]
//! struct MyClaims { sub: String }
//!
//! async fn me(Claims(c): Claims<MyClaims>) -> String { c.sub }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"a secret of at least thirty-two bytes!";
//! let auth = JwtAuth::<MyClaims>::builder()
//!     .hmac_secret(secret)
//!     .issuer("https://auth.example")
//!     .audience("my-api")
//!     .build()?;
//! let app = Router::new().route("/me", get(me)).layer(auth);
//!
//! // No token: 401 and a bare challenge.
//! let res = app.clone().oneshot(Request::get("/me").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="api""#);
//!
//! // A valid token: the handler sees the claims.
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let claims = serde_json::json!({
//!     "sub": "alice", "iss": "https://auth.example", "aud": "my-api", "exp": now + 300,
//! });
//! let token = jsonwebtoken::encode(
//!     &jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))?;
//! let req = Request::get("/me").header("authorization", format!("Bearer {token}")).body(Body::empty())?;
//! let res = app.oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | Name | Description | Default? |
//! |---|---|---|
//! | `aws-lc-rs` | jsonwebtoken's aws-lc-rs crypto backend (fast; RS256 ≈ 8× faster than `rust-crypto`) | yes |
//! | `rust-crypto` | jsonwebtoken's pure-Rust backend. With neither backend the crate does not compile; with both, `aws-lc-rs` is used | no |
//! | `axum` | the [`Claims`] and [`VerifiedClaims`] extractors | yes |
//! | `tracing` | logs rejections (kind only, never tokens or keys) | yes |
//! | `remote-jwks` | [`keys::RemoteJwks`] (reqwest + rustls), OpenID discovery, multi-issuer, the [`providers`] presets | yes |
//! | `dpop` | [`dpop`]: DPoP-bound tokens and their proofs (RFC 9449) | yes |
//! | `redis` | [`revocation::Revocations::redis`]: a revocation list shared by every replica through Redis | no |
//! | `metrics` | [`metrics`]: counters and gauges through the `metrics` facade (requests by outcome, rejections, token cache, key sets) | no |
//! | `test-util` | [`testing`]: a JWKS server on 127.0.0.1 with failure modes, keys, tokens and DPoP proofs for your tests | no |
//! | `issue` | [`issue`]: sign tokens, key ring with rotation, JWKS publishing | yes |
//!
//! # Secure defaults
//!
//! `exp` required; 60 s leeway (at most 5 min); `nbf` and `iat` checked
//! when present; `iss`/`aud` required and type-checked once configured, and
//! a layer with neither is refused unless you opt out; `crit` headers, JWE
//! tokens and `alg: none` refused; HMAC secrets shorter than the hash and
//! RSA keys under 2048 bits refused; embedded `jwk`/`jku`/`x5u`/`x5c`
//! headers ignored; tokens over 8 KiB refused before decoding.
//!
//! [tower]: https://docs.rs/tower
//! [axum]: https://docs.rs/axum
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
// Library code answers bad input with errors, never a panic. (Tests, benches
// and examples are separate targets and may unwrap.)
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod authorize;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
mod axum;
pub mod challenge;
mod claims;
mod crypto;
#[cfg(feature = "dpop")]
#[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
pub mod dpop;
mod error;
mod future;
#[cfg(feature = "issue")]
#[cfg_attr(docsrs, doc(cfg(feature = "issue")))]
pub mod issue;
mod jose;
pub mod keys;
mod layer;
mod log;
pub mod metrics;
mod pending_key;
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod providers;
#[cfg(feature = "redis")]
mod redis_client;
pub mod revocation;
mod service;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;
pub mod token;
mod validation;
mod verify;

pub use authorize::{Authorize, AuthorizeBuilder, AuthorizeService};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum::{Claims, MissingClaims};
pub use challenge::{DefaultRejection, OnRejection};
pub use claims::{OneOrMany, RegisteredClaims, VerifiedClaims};
pub use error::{AuthError, AuthErrorKind, BoxError, BuildError, BuildErrorKind};
pub use future::{BoxResponseFuture, ResponseFuture};
pub use jsonwebtoken::Algorithm;
pub use keys::{Key, KeySource, StaticKeys};
pub use layer::{JwtAuth, JwtAuthBuilder};
pub use pending_key::PendingKey;
#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
#[doc(no_inline)]
pub use providers::google;
pub use service::JwtAuthService;
pub use token::{BearerHeader, CookieToken, HeaderToken, TokenSource};
pub use validation::{Clock, Validation};
pub use verify::{Verifier, VerifierBuilder};
