//! Issuing tokens: sign claims, rotate keys, publish the public keys.
//!
//! - [`SigningKey`]: a private key from PEM (PKCS#8, PKCS#1, SEC1), DER, a
//!   private JWK or JWK Set, or an HMAC secret; new ones from `generate`
//!   (feature `aws-lc-rs`: ES256, ES384, EdDSA, RSA 2048/3072/4096) and
//!   [`HmacSecret::generate`]. Its `kid` defaults to the
//!   [RFC 7638 thumbprint](jwk_thumbprint) of the public key.
//! - [`KeyRing`]: the signing key plus retiring keys that stay published
//!   until the tokens they signed have expired; [`KeyRing::rotate`] and
//!   [`KeyRing::schedule_rotation`] are safe while requests are in flight.
//! - [`TokenIssuer`]: fills `iat`, `exp`, and optionally `nbf`, `iss`,
//!   `aud`, `sub`, `jti`; claims you set yourself win.
//! - [`JwksService`] serves [`KeyRing::jwks`] at `/.well-known/jwks.json`
//!   with a `Cache-Control` that fits the rotation schedule;
//!   [`OpenIdConfigService`] serves a minimal
//!   `/.well-known/openid-configuration`.
//!
//! Signing uses the crypto backend our features select, never
//! jsonwebtoken's process-wide default.
//!
//! # Example
//!
//! Issue a token, verify it with [`JwtAuth`](crate::JwtAuth), and serve the
//! key set.
//!
//! ```
//! use axum::{Router, body::Body};
//! use http::{Request, StatusCode};
//! use http_body_util::BodyExt as _;
//! use jwt_layer::JwtAuth;
//! use jwt_layer::issue::{KeyRing, OpenIdConfigService, SigningKey, TokenIssuer};
//! use serde::{Deserialize, Serialize};
//! use tower::ServiceExt as _;
//!
//! #[derive(Serialize, Deserialize)]
//! struct MyClaims { sub: String, scope: String }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // RFC 8037's example Ed25519 key: public, never use it for real.
//! let key = SigningKey::from_jwk(r#"{"kty":"OKP","crv":"Ed25519",
//!     "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
//!     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
//! assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"); // the thumbprint
//! let ring = KeyRing::new(key);
//! let issuer = TokenIssuer::builder(ring.clone())
//!     .issuer("https://auth.example")
//!     .audience("my-api")
//!     .jti(true)
//!     .build()?;
//! let token = issuer.issue(&MyClaims { sub: "alice".into(), scope: "read".into() })?;
//!
//! // Anyone holding the published key set can verify it.
//! let auth = JwtAuth::<MyClaims>::builder()
//!     .jwks_json(&ring.jwks().to_json())
//!     .issuer("https://auth.example")
//!     .audience("my-api")
//!     .build()?;
//! assert_eq!(auth.verifier().verify(&token).await?.sub, "alice");
//!
//! // The key set, served by the tower service on its own…
//! let res = ring.jwks_service().oneshot(Request::get("/").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.headers()["content-type"], "application/jwk-set+json");
//! assert_eq!(res.headers()["cache-control"], "public, max-age=300");
//! let body = res.into_body().collect().await?.to_bytes();
//! assert!(body.starts_with(br#"{"keys":[{"kty":"OKP","use":"sig","alg":"EdDSA""#));
//!
//! // …or mounted in an axum router, with the discovery document beside it.
//! let app = Router::new()
//!     .route_service("/.well-known/jwks.json", ring.jwks_service())
//!     .route_service(
//!         "/.well-known/openid-configuration",
//!         OpenIdConfigService::new("https://auth.example")?,
//!     );
//! let res = app.oneshot(Request::get("/.well-known/jwks.json").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(()) }
//! ```
//!
//! # Rotation
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::Duration;
//! use jwt_layer::Clock;
//! use jwt_layer::issue::{KeyRing, SigningKey};
//!
//! # fn main() -> Result<(), jwt_layer::BuildError> {
//! // RFC 8037 and RFC 7515 example keys: public, never use them for real.
//! let old = SigningKey::from_jwk(r#"{"kty":"OKP","crv":"Ed25519",
//!     "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
//!     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
//! let new = SigningKey::from_jwk(r#"{"kty":"EC","crv":"P-256",
//!     "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
//!     "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
//!     "d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#)?;
//! let now = Arc::new(AtomicU64::new(1_700_000_000));
//! let clock = { let now = now.clone(); Clock::from_fn(move || now.load(Ordering::Relaxed)) };
//! let ring = KeyRing::builder(old.clone())
//!     .max_token_ttl(Duration::from_secs(600))
//!     .leeway(Duration::from_secs(60))
//!     .publish_ahead(Duration::from_secs(120))
//!     .clock(clock)
//!     .build()?;
//!
//! // Publish the new key first; it signs once verifiers have seen it.
//! ring.schedule_rotation(new.clone())?;
//! assert!(ring.jwks().contains(new.kid()));
//! assert_eq!(ring.signing_key().kid(), old.kid());
//! now.fetch_add(120, Ordering::Relaxed);
//! assert_eq!(ring.signing_key().kid(), new.kid());
//!
//! // The old key stays published for the tokens it signed, then leaves.
//! now.fetch_add(660 - 1, Ordering::Relaxed);
//! assert!(ring.jwks().contains(old.kid()));
//! now.fetch_add(1, Ordering::Relaxed);
//! assert!(!ring.jwks().contains(old.kid()));
//! # Ok(()) }
//! ```

mod error;
mod generate;
mod issuer;
mod load;
mod private_der;
mod publish;
mod ring;
#[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
mod shared_ring;
mod signing_key;

pub use crate::jose::published::{JwkSet, PublicJwk};
pub use crate::jose::thumbprint::jwk_thumbprint;
pub use error::{IssueError, IssueErrorKind};
pub use generate::HmacSecret;
#[cfg(feature = "aws-lc-rs")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws-lc-rs")))]
pub use generate::KeyKind;
pub use issuer::{TokenIssuer, TokenIssuerBuilder};
pub use publish::{JwksService, OpenIdConfigService};
pub use ring::{KeyRing, KeyRingBuilder};
#[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "redis", feature = "aws-lc-rs"))))]
pub use shared_ring::{
    KeyEncryptionKey, SharedKeyRing, SharedKeyRingBuilder, SharedRingError, SharedRingErrorKind,
};
pub use signing_key::SigningKey;
