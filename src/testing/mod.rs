//! A test kit for your own tests (feature `test-util`): keys, minted tokens,
//! and a real JWKS server on 127.0.0.1 whose keys can be rotated, whose
//! answers can be made to fail, and which counts requests.
//!
//! The keys are for tests only: never use them, or this module, in
//! production.
//!
//! ```
//! use jwt_layer::issue::SigningKey;
//! use jwt_layer::keys::RemoteJwks;
//! use jwt_layer::testing::{self, Behavior, JwksServer, TestKey};
//! use jwt_layer::{JwtAuth, AuthErrorKind};
//! use serde_json::Value;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), jwt_layer::BoxError> {
//! // `TestKey::generate(KeyKind::EdDsa)` makes a fresh key (aws-lc-rs
//! // backend); here, RFC 8037's published example key.
//! let key = TestKey::new(SigningKey::from_jwk(r#"{"kty":"OKP","crv":"Ed25519",
//!     "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
//!     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?);
//! let server = JwksServer::start().await?;
//! server.set_keys(&[&key]);
//!
//! let keys = RemoteJwks::builder(server.url()).build()?;
//! let auth = JwtAuth::<Value>::builder()
//!     .key_source(keys.clone())
//!     .issuer("https://issuer.test")
//!     .build()?;
//! let token = key.mint(&testing::claims("https://issuer.test", "api", 300))?;
//! assert!(auth.verifier().verify(&token).await.is_ok());
//! assert_eq!(server.request_count(), 1);
//!
//! // The key server goes bad; the cached keys keep working.
//! server.set_behavior(Behavior::Status(500));
//! assert!(keys.refresh().await.is_err());
//! assert!(auth.verifier().verify(&token).await.is_ok());
//!
//! // An expired token is refused.
//! let old = key.mint(&testing::claims("https://issuer.test", "api", -3600))?;
//! let err = auth.verifier().verify(&old).await.unwrap_err();
//! assert_eq!(err.kind(), AuthErrorKind::Expired);
//! # Ok(()) }
//! ```

mod behavior;
mod dpop;
mod http1;
mod keys;
mod server;

pub use behavior::Behavior;
pub use dpop::DpopClient;
pub use keys::{TestKey, claims, jwks, now};
pub use server::JwksServer;
