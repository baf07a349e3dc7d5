//! Okta access tokens from a custom authorization server
//! (`https://<org>.okta.com/oauth2/default` or `…/oauth2/<id>`): keys by
//! discovery, `aud` `api://default` unless set, an optional allow-list of
//! client ids (`cid`), `scp` as scopes and groups from a claim you name.
//!
//! Tokens of the *org* authorization server (`iss` `https://<org>.okta.com`)
//! cannot be verified by an API: they are refused, with a `warn` saying so.
//!
//! ```
//! use jwt_layer::providers::okta::Okta;
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = Okta::new("https://dev-123.okta.com/oauth2/default")
//!     .client_ids(["0oa1b2c3d4"])
//!     .groups_claim("groups")
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// The audience of Okta's default authorization server.
pub const DEFAULT_AUDIENCE: &str = "api://default";

/// Okta access tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Okta {
    issuer: String,
    audience: String,
    client_ids: Vec<String>,
    groups_claim: Option<String>,
}

impl Okta {
    /// Tokens of the custom authorization server `issuer` (its full URL).
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            client_ids: Vec::new(),
            groups_claim: None,
        }
    }

    /// The audience your authorization server sets (default
    /// `api://default`).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Admits only tokens issued to these client ids (`cid`); others get
    /// 401 `invalid_token`.
    #[must_use]
    pub fn client_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.client_ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Reads groups, as roles, from this claim (a groups claim you added to
    /// the authorization server).
    #[must_use]
    pub fn groups_claim(mut self, claim: impl Into<String>) -> Self {
        self.groups_claim = Some(claim.into());
        self
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let org = self
            .issuer
            .split_once("/oauth2")
            .map_or(self.issuer.as_str(), |(org, _)| org)
            .to_owned();
        let custom_server = self.issuer.contains("/oauth2/");
        let mut builder = JwtAuth::<C>::builder()
            .key_source(RemoteJwks::discover(self.issuer.clone()))
            .issuer(self.issuer)
            .audience(self.audience)
            .hint_for_issuer(
                org,
                "an Okta org authorization server token: it cannot be verified by an API; \
                 request the token from your custom authorization server (…/oauth2/default)",
            );
        if !self.client_ids.is_empty() {
            builder = builder.claim_in("cid", self.client_ids);
        }
        if let Some(claim) = self.groups_claim {
            builder = builder.role_claims([claim]);
        }
        if !custom_server {
            builder = builder.fail_with(crate::BuildError::new(
                crate::BuildErrorKind::InvalidSetting,
                "an Okta API verifies tokens of a custom authorization server \
                 (https://<org>.okta.com/oauth2/default or …/oauth2/<id>)",
            ));
        }
        builder
    }
}
