//! Microsoft Entra ID access tokens for your API: one tenant, or several
//! (`organizations` / `common`) with a tenant allow-list; v1
//! (`https://sts.windows.net/{tid}/`) and v2
//! (`https://login.microsoftonline.com/{tid}/v2.0`) issuers; the client id
//! GUID or `api://<GUID>` as audience (add a custom App ID URI with
//! `.audience(..)`); access tokens only (`azp` or `appid` present: an ID token
//! of the same app registration has neither); `scp` as scopes and `roles`
//! (app roles) as roles. The authority host is overridable for sovereign
//! clouds.
//!
//! Entra's keys carry no `alg`: each key verifies the algorithms of its
//! type. A Microsoft Graph token (its header has a `nonce`) can never be
//! verified by your API; it is refused with a `warn` saying so.
//!
//! ```
//! use jwt_layer::providers::entra::Entra;
//! use jwt_layer::RegisteredClaims;
//!
//! // Any work or school account of two tenants.
//! let auth = Entra::new("organizations", "8f3c5d2a-0000-4000-8000-000000000001")
//!     .allowed_tenants(["72f988bf-86f1-41af-91ab-2d7cd011db47", "a1b2c3d4-0000-4000-8000-000000000002"])
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::RemoteJwks;
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// The public cloud's authority.
pub const AUTHORITY: &str = "https://login.microsoftonline.com";
/// The public cloud's v1 token issuer host.
pub const V1_ISSUER_HOST: &str = "https://sts.windows.net";

/// Entra ID access tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Entra {
    tenant: String,
    client_id: String,
    allowed_tenants: Vec<String>,
    authority: String,
    v1_issuer_host: String,
}

impl Entra {
    /// Tokens of `tenant` (a tenant id, or `organizations` / `common` for
    /// several tenants, then list them with
    /// [`allowed_tenants`](Self::allowed_tenants)) for the app registration
    /// `client_id`.
    pub fn new(tenant: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            client_id: client_id.into(),
            allowed_tenants: Vec::new(),
            authority: AUTHORITY.to_owned(),
            v1_issuer_host: V1_ISSUER_HOST.to_owned(),
        }
    }

    /// The tenants admitted when `tenant` is `organizations` or `common`;
    /// `["*"]` admits any tenant (then only the keys decide). Without it, a
    /// multi-tenant preset is a build error.
    #[must_use]
    pub fn allowed_tenants(mut self, tenants: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_tenants
            .extend(tenants.into_iter().map(Into::into));
        self
    }

    /// The authority (default `https://login.microsoftonline.com`; e.g.
    /// `https://login.microsoftonline.us` for US Government).
    #[must_use]
    pub fn authority(mut self, url: impl Into<String>) -> Self {
        self.authority = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The host of v1 issuers (default `https://sts.windows.net`).
    #[must_use]
    pub fn v1_issuer_host(mut self, url: impl Into<String>) -> Self {
        self.v1_issuer_host = url.into().trim_end_matches('/').to_owned();
        self
    }

    fn multi_tenant(&self) -> bool {
        matches!(self.tenant.as_str(), "organizations" | "common")
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let keys = format!("{}/{}/discovery/v2.0/keys", self.authority, self.tenant);
        let v2 = |tid: &str| format!("{}/{tid}/v2.0", self.authority);
        let v1 = |tid: &str| format!("{}/{tid}/", self.v1_issuer_host);
        let mut builder = JwtAuth::<C>::builder().key_source(RemoteJwks::builder(keys));
        builder = match (self.multi_tenant(), self.allowed_tenants.as_slice()) {
            (false, _) => builder.issuer(v2(&self.tenant)).issuer(v1(&self.tenant)),
            (true, [any]) if any == "*" => builder
                .issuer_template_any_value(v2("{tid}"))
                .issuer_template_any_value(v1("{tid}")),
            (true, tenants) => builder
                .issuer_template(v2("{tid}"), tenants.to_vec())
                .issuer_template(v1("{tid}"), tenants.to_vec()),
        };
        // An ID token for a client of the same registration has this `aud`
        // too; only access tokens carry `azp` (v2) or `appid` (v1).
        builder
            .audience(format!("api://{}", self.client_id))
            .audience(self.client_id)
            .require_any_claim(["azp", "appid"])
            .role_claims(["roles"])
            .hint_for_header(
                "nonce",
                "a Microsoft Graph token (header `nonce`): it is for Graph and can never be \
                 verified by your API; request a token with your API's scope (api://<client id>/…)",
            )
    }
}
