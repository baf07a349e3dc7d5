//! AWS Cognito user pool tokens: the issuer from the pool id
//! (`https://cognito-idp.<region>.amazonaws.com/<pool>`, the endpoint
//! overridable), `token_use` chosen (`access` by default, or `id`), the app
//! client ids from a list (an access token's `client_id`, an ID token's
//! `aud`: access tokens have no `aud`), `scope` as scopes and
//! `cognito:groups` as roles.
//!
//! ```
//! use jwt_layer::providers::cognito::{Cognito, TokenUse};
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = Cognito::new("eu-west-1_AbCdEf123", ["3n4b5urk1ft4fl3mg5e62d9ado"])
//!     .token_use(TokenUse::Access)
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// Which Cognito tokens to accept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenUse {
    /// Access tokens (`token_use: access`, the app client in `client_id`).
    #[default]
    Access,
    /// ID tokens (`token_use: id`, the app client in `aud`).
    Id,
}

/// Cognito tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Cognito {
    pool_id: String,
    client_ids: Vec<String>,
    token_use: TokenUse,
    endpoint: Option<String>,
}

impl Cognito {
    /// Tokens of the user pool `pool_id` (`<region>_<id>`) for these app
    /// clients.
    pub fn new(
        pool_id: impl Into<String>,
        client_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            pool_id: pool_id.into(),
            client_ids: client_ids.into_iter().map(Into::into).collect(),
            token_use: TokenUse::default(),
            endpoint: None,
        }
    }

    /// Access tokens (default) or ID tokens.
    #[must_use]
    pub fn token_use(mut self, token_use: TokenUse) -> Self {
        self.token_use = token_use;
        self
    }

    /// The service endpoint instead of
    /// `https://cognito-idp.<region>.amazonaws.com` (a local emulator).
    #[must_use]
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The pool's issuer.
    pub fn issuer(&self) -> String {
        let region = self.pool_id.split_once('_').map_or("", |(r, _)| r);
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
        format!("{endpoint}/{}", self.pool_id)
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let issuer = self.issuer();
        let keys = RemoteJwks::builder(format!("{issuer}/.well-known/jwks.json"));
        let builder = JwtAuth::<C>::builder()
            .key_source(keys)
            .issuer(issuer)
            .role_claims(["cognito:groups"]);
        let builder = super::require_some(builder, &self.client_ids, "app client id");
        let pool_ok = self
            .pool_id
            .split_once('_')
            .is_some_and(|(region, id)| !region.is_empty() && !id.is_empty());
        let builder = if pool_ok {
            builder
        } else {
            builder.fail_with(crate::BuildError::new(
                crate::BuildErrorKind::InvalidSetting,
                "a Cognito user pool id is <region>_<id>",
            ))
        };
        match self.token_use {
            TokenUse::Access => builder
                .claim_equals("token_use", "access")
                .claim_in("client_id", self.client_ids),
            TokenUse::Id => self
                .client_ids
                .into_iter()
                .fold(builder.claim_equals("token_use", "id"), |b, id| {
                    b.audience(id)
                }),
        }
    }
}
