//! Auth0 access tokens for your API: keys by discovery from the tenant
//! domain (or a custom domain), `iss` with its trailing slash, `aud` = your
//! API identifier (an array holding `…/userinfo` too is fine), both the
//! Auth0 and the RFC 9068 access-token profiles, `scope` as scopes and the
//! `permissions` array (RBAC) as roles.
//!
//! ```
//! use jwt_layer::providers::auth0::Auth0;
//! use jwt_layer::{Authorize, RegisteredClaims};
//!
//! // The domain as the dashboard shows it, with or without `https://` or a
//! // trailing slash.
//! let auth = Auth0::new("dev-abc123.us.auth0.com", "https://api.example.com")
//!     .role_claim("https://example.com/roles") // a namespaced claim of your Action
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! let admin = Authorize::<RegisteredClaims>::builder().role("read:reports").build()?;
//! # let _ = (auth, admin);
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// Auth0 access tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Auth0 {
    domain: String,
    audience: String,
    role_claims: Vec<String>,
}

impl Auth0 {
    /// Tokens of the tenant at `domain` (a host such as
    /// `dev-abc123.us.auth0.com` or a custom domain, or a full URL) for the
    /// API whose identifier is `audience`.
    pub fn new(domain: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            audience: audience.into(),
            role_claims: Vec::new(),
        }
    }

    /// Also reads roles from this claim (a namespaced URL claim an Action
    /// adds, say); `permissions` is always read.
    #[must_use]
    pub fn role_claim(mut self, claim: impl Into<String>) -> Self {
        self.role_claims.push(claim.into());
        self
    }

    /// The tenant's issuer, `https://<domain>/` (Auth0 writes the slash).
    pub fn issuer(&self) -> String {
        format!("{}/", super::base_url(&self.domain))
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let issuer = self.issuer();
        let roles = std::iter::once("permissions".to_owned()).chain(self.role_claims);
        JwtAuth::<C>::builder()
            .key_source(RemoteJwks::discover(issuer.clone()))
            .issuer(issuer)
            .audience(self.audience)
            .role_claims(roles)
    }
}
