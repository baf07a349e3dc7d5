//! Google Cloud Identity-Aware Proxy: the signed header
//! `x-goog-iap-jwt-assertion` (ES256), issuer `https://cloud.google.com/iap`,
//! keys at `https://www.gstatic.com/iap/verify/public_key-jwk`, `aud`
//! `/projects/<number>/apps/<id>` (App Engine) or
//! `/projects/<number>/global/backendServices/<id>` (load balancer).
//!
//! ```
//! use jwt_layer::providers::google_iap::GoogleIap;
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = GoogleIap::new("/projects/123456789/global/backendServices/987654321")
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use jsonwebtoken::Algorithm;

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};
use crate::token::HeaderToken;

/// IAP's issuer.
pub const ISSUER: &str = "https://cloud.google.com/iap";
/// IAP's JWK Set.
pub const KEYS_URL: &str = "https://www.gstatic.com/iap/verify/public_key-jwk";
/// The header IAP puts the token in.
pub const HEADER: &str = "x-goog-iap-jwt-assertion";

/// IAP assertions; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct GoogleIap {
    audience: String,
    keys_url: String,
}

impl GoogleIap {
    /// Assertions for `audience` (see the module docs for its forms).
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            keys_url: KEYS_URL.to_owned(),
        }
    }

    /// Fetches the keys from `url` instead of Google's.
    #[must_use]
    pub fn keys_url(mut self, url: impl Into<String>) -> Self {
        self.keys_url = url.into();
        self
    }

    /// The layer builder, to add your own rules; the token comes from the
    /// `x-goog-iap-jwt-assertion` header.
    pub fn builder<C>(self) -> JwtAuthBuilder<C, HeaderToken> {
        JwtAuth::<C>::builder()
            .key_source(RemoteJwks::builder(self.keys_url))
            .issuer(ISSUER)
            .audience(self.audience)
            .algorithms([Algorithm::ES256])
            .token_source(HeaderToken::from_static(HEADER))
    }
}
