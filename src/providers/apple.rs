//! Sign in with Apple ID tokens: issuer `https://appleid.apple.com`, keys
//! at `https://appleid.apple.com/auth/keys`, `aud` one of your bundle ids
//! or services ids. [`AppleClaims`] reads `email_verified` and
//! `is_private_email`, which Apple sends as `true` or as `"true"`.
//!
//! ```
//! use jwt_layer::providers::apple::{Apple, AppleClaims};
//!
//! let auth = Apple::new(["com.example.app", "com.example.web"])
//!     .builder::<AppleClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// Apple's issuer.
pub const ISSUER: &str = "https://appleid.apple.com";
/// Apple's JWK Set.
pub const KEYS_URL: &str = "https://appleid.apple.com/auth/keys";

/// The claims of an Apple ID token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppleClaims {
    /// The user's stable id for your team.
    pub sub: String,
    /// The email (a private relay address when the user hid theirs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether Apple verified the email (`true` or `"true"`).
    #[serde(
        default,
        deserialize_with = "super::bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_verified: Option<bool>,
    /// Whether the email is a private relay address (`true` or `"true"`).
    #[serde(
        default,
        deserialize_with = "super::bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_private_email: Option<bool>,
    /// The nonce your app sent, when it sent one: compare it with yours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Expiry time.
    pub exp: u64,
}

/// Apple ID tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Apple {
    client_ids: Vec<String>,
    keys_url: String,
}

impl Apple {
    /// ID tokens for these bundle ids or services ids.
    pub fn new(client_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            client_ids: client_ids.into_iter().map(Into::into).collect(),
            keys_url: KEYS_URL.to_owned(),
        }
    }

    /// Fetches the keys from `url` instead of Apple's.
    #[must_use]
    pub fn keys_url(mut self, url: impl Into<String>) -> Self {
        self.keys_url = url.into();
        self
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let builder = JwtAuth::<C>::builder()
            .key_source(RemoteJwks::builder(self.keys_url))
            .issuer(ISSUER);
        let builder = super::require_some(builder, &self.client_ids, "client id");
        self.client_ids
            .into_iter()
            .fold(builder, |b, id| b.audience(id))
    }
}
