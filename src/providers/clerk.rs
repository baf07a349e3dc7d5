//! Clerk session tokens: issuer = your Frontend API URL, keys at its
//! `/.well-known/jwks.json`, no `aud`: `azp` must be one of your authorized
//! origins (401 `invalid_token` otherwise; a token without `azp`, as native
//! clients send, is refused too), the token in the `Authorization` header
//! or the `__session` cookie (a cookie needs your CSRF protection). Clerk's
//! session tokens live about 60 s: keep clocks in sync (the default leeway
//! is 60 s).
//!
//! ```
//! use jwt_layer::providers::clerk::Clerk;
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = Clerk::new("https://clerk.example.com", ["https://app.example.com"])
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};
use crate::token::{BearerHeader, Chain, CookieToken, TokenSource};

/// The cookie Clerk keeps the session token in.
pub const SESSION_COOKIE: &str = "__session";

/// Clerk session tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Clerk {
    frontend_api: String,
    authorized_parties: Vec<String>,
}

impl Clerk {
    /// Tokens of the instance whose Frontend API is `frontend_api` (a URL
    /// or a host), presented by one of `authorized_parties` (origins).
    pub fn new(
        frontend_api: impl Into<String>,
        authorized_parties: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            frontend_api: frontend_api.into(),
            authorized_parties: authorized_parties.into_iter().map(Into::into).collect(),
        }
    }

    /// The layer builder, to add your own rules; the token comes from the
    /// `Authorization` header or the `__session` cookie.
    pub fn builder<C>(self) -> JwtAuthBuilder<C, Chain<BearerHeader, CookieToken>> {
        let issuer = super::base_url(&self.frontend_api);
        let keys = RemoteJwks::builder(format!("{issuer}/.well-known/jwks.json"));
        let builder = JwtAuth::<C>::builder().key_source(keys).issuer(issuer);
        super::require_some(builder, &self.authorized_parties, "authorized party")
            .claim_in("azp", self.authorized_parties)
            .token_source(BearerHeader::new().or(CookieToken::new(SESSION_COOKIE)))
    }
}
