//! axum extractors for the claims the [`JwtAuth`](crate::JwtAuth) layer
//! verified.
//!
//! - [`Claims<C>`] hands the handler its own copy of the claims.
//! - [`VerifiedClaims<C>`] hands it the shared, `Arc`-backed claims (no
//!   clone of `C`), with scopes.
//! - `Option<Claims<C>>` / `Option<VerifiedClaims<C>>` for routes behind an
//!   [optional](crate::JwtAuthBuilder::optional) layer.
//!
//! Used without the layer, the extractors answer 500: that is a
//! programming error, not a client one.
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
//! let secret = b"0123456789abcdef0123456789abcdef";
//! let auth = JwtAuth::<MyClaims>::builder()
//!     .hmac_secret(secret)
//!     .audience("my-api")
//!     .build()?;
//! let app = Router::new().route("/me", get(me)).layer(auth);
//!
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let claims = serde_json::json!({"sub": "alice", "aud": "my-api", "exp": now + 300});
//! let token = jsonwebtoken::encode(
//!     &jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))?;
//! let res = app
//!     .oneshot(Request::get("/me").header("authorization", format!("Bearer {token}")).body(Body::empty())?)
//!     .await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::sync::OnceLock;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::challenge::{self, Challenges, DEFAULT_REALM};
use crate::claims::VerifiedClaims;
use crate::error::{AuthError, AuthErrorKind};

/// The verified claims, extracted by value. Needs `C: Clone`; use
/// [`VerifiedClaims<C>`] to share them without cloning.
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct Claims<C>(pub C);

/// Rejection of the claims extractors when no [`JwtAuth`](crate::JwtAuth)
/// layer ran for the request: 500.
#[derive(Debug, Clone, Copy, Default)]
pub struct MissingClaims;

impl IntoResponse for MissingClaims {
    fn into_response(self) -> Response {
        let kind = AuthErrorKind::MissingLayer;
        (kind.status(), kind.description()).into_response()
    }
}

/// An [`AuthError`] answered from a handler (say, a role checked against a
/// path parameter) gets the same status, challenge and empty body as from
/// the layer, rendered with the default realm (`api`). Behind a layer with
/// another realm, configure the check on the layer or on [`Authorize`]
/// instead.
///
/// [`Authorize`]: crate::Authorize
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        static DEFAULT: OnceLock<Option<Challenges>> = OnceLock::new();
        let challenges = DEFAULT.get_or_init(|| Challenges::new(DEFAULT_REALM, true).ok());
        let Some(challenges) = challenges else {
            return self.status().into_response();
        };
        let (parts, ()) =
            challenge::response(&self, challenges, &http::HeaderMap::new()).into_parts();
        Response::from_parts(parts, axum_core::body::Body::empty())
    }
}

impl std::fmt::Display for MissingClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(AuthErrorKind::MissingLayer.description())
    }
}

impl std::error::Error for MissingClaims {}

impl<C, S> FromRequestParts<S> for VerifiedClaims<C>
where
    C: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedClaims<C>>()
            .cloned()
            .ok_or(MissingClaims)
    }
}

impl<C, S> OptionalFromRequestParts<S> for VerifiedClaims<C>
where
    C: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedClaims<C>>().cloned())
    }
}

impl<C, S> FromRequestParts<S> for Claims<C>
where
    C: Clone + Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedClaims<C>>()
            .map(|v| Claims(v.claims().clone()))
            .ok_or(MissingClaims)
    }
}

impl<C, S> OptionalFromRequestParts<S> for Claims<C>
where
    C: Clone + Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<VerifiedClaims<C>>()
            .map(|v| Claims(v.claims().clone())))
    }
}
