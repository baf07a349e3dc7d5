//! Keycloak access tokens of one realm (`https://host/realms/<realm>`, or
//! the older `…/auth/realms/<realm>`): keys by discovery (or from another
//! https URL), the client id in `aud` **or** `azp` (Keycloak puts a client's
//! own id in `azp` and often not in `aud`; note that a token your client
//! requested for another API then passes here too: add an audience mapper
//! and [`require_aud`](Keycloak::require_aud) to read `aud` only), the payload's
//! `typ` = `Bearer` (refresh and ID tokens are refused), realm roles and
//! the client's roles. The realm's `use: enc` keys are skipped by the key
//! set's hygiene rules.
//!
//! When clients reach Keycloak by another host name than your API does
//! (`http://keycloak:8080` inside, `https://sso.example.com` outside), the
//! tokens' `iss` carries the client's: add the other base URLs as aliases.
//!
//! ```
//! use jwt_layer::providers::keycloak::Keycloak;
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = Keycloak::new("https://sso.example.com/realms/acme", "orders-api")
//!     .issuer_alias("http://keycloak:8080")
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// Keycloak access tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Keycloak {
    realm_url: String,
    client_id: String,
    aliases: Vec<String>,
    keys_url: Option<String>,
    aud_only: bool,
}

impl Keycloak {
    /// Tokens of the realm at `realm_url` for the client `client_id`.
    pub fn new(realm_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            realm_url: realm_url.into().trim_end_matches('/').to_owned(),
            client_id: client_id.into(),
            aliases: Vec::new(),
            keys_url: None,
            aud_only: false,
        }
    }

    /// Also accepts `iss` with this base URL (scheme, host and port) in
    /// place of the realm URL's.
    #[must_use]
    pub fn issuer_alias(mut self, base_url: impl Into<String>) -> Self {
        self.aliases.push(base_url.into());
        self
    }

    /// Fetches the keys from this URL (the realm's
    /// `…/protocol/openid-connect/certs` on another host name) instead of by
    /// discovery; https, or http to loopback only.
    #[must_use]
    pub fn keys_url(mut self, url: impl Into<String>) -> Self {
        self.keys_url = Some(url.into());
        self
    }

    /// Reads the client id from `aud` only (with Keycloak's audience mapper
    /// adding it), never from `azp`.
    #[must_use]
    pub fn require_aud(mut self) -> Self {
        self.aud_only = true;
        self
    }

    /// Every accepted issuer: the realm URL, then its aliases.
    fn issuers(&self) -> Vec<String> {
        let path = self
            .realm_url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').and_then(|i| rest.get(i..)))
            .unwrap_or_default();
        std::iter::once(self.realm_url.clone())
            .chain(
                self.aliases
                    .iter()
                    .map(|a| format!("{}{path}", super::base_url(a))),
            )
            .collect()
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let keys = match &self.keys_url {
            Some(url) => RemoteJwks::builder(url.clone()),
            None => RemoteJwks::discover(self.realm_url.clone()),
        };
        let client_roles = format!(
            "/resource_access/{}/roles",
            super::pointer_segment(&self.client_id)
        );
        let audience_claims: &[&str] = if self.aud_only {
            &["aud"]
        } else {
            &["aud", "azp"]
        };
        let mut builder = JwtAuth::<C>::builder().key_source(keys);
        for issuer in self.issuers() {
            builder = builder.issuer(issuer);
        }
        builder
            .audience(self.client_id)
            .audience_claims(audience_claims.iter().copied())
            .claim_equals("typ", "Bearer")
            .role_claims(["/realm_access/roles".to_owned(), client_roles])
    }
}
