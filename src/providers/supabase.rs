//! Supabase Auth access tokens: `iss` `<project URL>/auth/v1`, keys at
//! `<project URL>/auth/v1/.well-known/jwks.json`, `aud` `authenticated`,
//! the `role` claim as a role (`authenticated`, `anon`, `service_role`);
//! `aal` is in the payload for your claims type. While a project moves from
//! its legacy HS256 secret to asymmetric keys, both kinds of token are
//! valid: give the secret too.
//!
//! ```
//! use jwt_layer::providers::supabase::Supabase;
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = Supabase::new("https://abcdefgh.supabase.co")
//!     .legacy_secret("super-secret-jwt-token-with-at-least-32-characters-long")
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// Supabase access tokens; see the [module docs](self).
#[derive(Clone)]
pub struct Supabase {
    url: String,
    legacy_secret: Option<Vec<u8>>,
}

impl std::fmt::Debug for Supabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supabase")
            .field("url", &self.url)
            .field(
                "legacy_secret",
                &self.legacy_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Supabase {
    /// Tokens of the project at `url` (`https://<ref>.supabase.co`).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into().trim_end_matches('/').to_owned(),
            legacy_secret: None,
        }
    }

    /// Also accepts HS256 tokens signed with the project's legacy JWT
    /// secret (at least 32 bytes).
    #[must_use]
    pub fn legacy_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.legacy_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let issuer = format!("{}/auth/v1", self.url);
        let keys = RemoteJwks::builder(format!("{issuer}/.well-known/jwks.json"));
        let mut builder = JwtAuth::<C>::builder()
            .key_source(keys)
            .issuer(issuer)
            .audience("authenticated")
            .role_claims(["role"]);
        if let Some(secret) = self.legacy_secret {
            builder = builder.hmac_secret(secret);
        }
        builder
    }
}
