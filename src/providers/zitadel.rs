//! Zitadel access tokens (JWT access tokens of an API application): keys
//! by discovery from the instance URL (Zitadel rotates often: the key set's
//! unknown-`kid` refetch picks a new key up), the project id (and, if you
//! like, client ids)
//! in `aud`, and the project roles: the keys of the
//! `urn:zitadel:iam:org:project:roles` object.
//!
//! ```
//! use jwt_layer::providers::zitadel::Zitadel;
//! use jwt_layer::RegisteredClaims;
//!
//! let auth = Zitadel::new("https://acme-abc123.zitadel.cloud", "216410245612347392")
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// The claim holding project roles.
pub const ROLES_CLAIM: &str = "urn:zitadel:iam:org:project:roles";

/// Zitadel access tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Zitadel {
    url: String,
    project_id: String,
    client_ids: Vec<String>,
}

impl Zitadel {
    /// Tokens of the instance at `url` for the project `project_id`.
    pub fn new(url: impl Into<String>, project_id: impl Into<String>) -> Self {
        Self {
            url: super::base_url(&url.into()),
            project_id: project_id.into(),
            client_ids: Vec::new(),
        }
    }

    /// Also accepts these client ids as audience.
    #[must_use]
    pub fn client_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.client_ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let builder = JwtAuth::<C>::builder()
            .key_source(RemoteJwks::discover(self.url.clone()))
            .issuer(self.url)
            .audience(self.project_id)
            .role_claims([ROLES_CLAIM]);
        self.client_ids
            .into_iter()
            .fold(builder, |b, id| b.audience(id))
    }
}
