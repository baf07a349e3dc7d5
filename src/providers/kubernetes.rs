//! Kubernetes service-account tokens (projected tokens for your audience):
//! the cluster's issuer, keys from the in-cluster URL
//! (`https://kubernetes.default.svc/openid/v1/jwks`: the `jwks_uri` the
//! discovery document advertises is often unreachable from pods), fetched
//! with the pod's own token ([`token_file`](Kubernetes::token_file), re-read
//! each fetch: the kubelet rotates it) and a client trusting the cluster CA
//! ([`client`](Kubernetes::client)), and an allow-list of service accounts
//! (`sub` = `system:serviceaccount:<namespace>:<name>`; others get 401), or
//! an explicit [`allow_any_service_account`](Kubernetes::allow_any_service_account).
//!
//! ```no_run
//! use jwt_layer::providers::kubernetes::Kubernetes;
//! use jwt_layer::RegisteredClaims;
//!
//! let ca = std::fs::read("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")?;
//! let client = reqwest::Client::builder()
//!     .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
//!     .build()?;
//! let auth = Kubernetes::new("https://kubernetes.default.svc.cluster.local", "orders-api")
//!     .token_file("/var/run/secrets/kubernetes.io/serviceaccount/token")
//!     .client(client)
//!     .allow_service_account("billing", "invoicer")
//!     .builder::<RegisteredClaims>()
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;

use crate::keys::{BearerTokenFile, RemoteJwks};
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// The in-cluster key set URL.
pub const IN_CLUSTER_KEYS_URL: &str = "https://kubernetes.default.svc/openid/v1/jwks";

/// Kubernetes service-account tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Kubernetes {
    issuer: String,
    audience: String,
    keys_url: String,
    token_file: Option<PathBuf>,
    client: Option<reqwest::Client>,
    allowed: Vec<String>,
    any_account: bool,
}

impl Kubernetes {
    /// Tokens of the cluster whose issuer is `issuer`, for `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            keys_url: IN_CLUSTER_KEYS_URL.to_owned(),
            token_file: None,
            client: None,
            allowed: Vec::new(),
            any_account: false,
        }
    }

    /// Fetches the keys from `url` instead of the in-cluster URL.
    #[must_use]
    pub fn keys_url(mut self, url: impl Into<String>) -> Self {
        self.keys_url = url.into();
        self
    }

    /// Sends the token in this file as a bearer token with each key fetch.
    #[must_use]
    pub fn token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// The HTTP client for key fetches (one trusting the cluster CA).
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Admits the service account `name` of `namespace` (only listed ones
    /// are admitted). Without one, or
    /// [`allow_any_service_account`](Self::allow_any_service_account),
    /// `build()` fails: any pod can mint a token for your audience under its
    /// own account.
    #[must_use]
    pub fn allow_service_account(
        mut self,
        namespace: impl AsRef<str>,
        name: impl AsRef<str>,
    ) -> Self {
        let (ns, name) = (namespace.as_ref(), name.as_ref());
        self.allowed
            .push(format!("system:serviceaccount:{ns}:{name}"));
        self
    }

    /// Admits every service account of the cluster whose token names your
    /// audience.
    #[must_use]
    pub fn allow_any_service_account(mut self) -> Self {
        self.any_account = true;
        self
    }

    /// The layer builder, to add your own rules.
    pub fn builder<C>(self) -> JwtAuthBuilder<C> {
        let mut keys = RemoteJwks::builder(self.keys_url);
        if let Some(file) = self.token_file {
            keys = keys.fetch_headers(BearerTokenFile::new(file));
        }
        if let Some(client) = self.client {
            keys = keys.client(client);
        }
        let builder = JwtAuth::<C>::builder()
            .key_source(keys)
            .issuer(self.issuer)
            .audience(self.audience);
        match (self.allowed.is_empty(), self.any_account) {
            (false, _) => builder.claim_in("sub", self.allowed),
            (true, true) => builder,
            (true, false) => super::require_some(builder, &[], "allowed service account"),
        }
    }
}
