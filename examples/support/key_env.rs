//! The key and claim settings of the `grpc` and `websocket` examples: the
//! variables they share with `resource_server`, read by clap.

use std::time::Duration;

use clap::Args;
use jwt_layer::keys::RemoteJwks;
use jwt_layer::{JwtAuth, JwtAuthBuilder};

/// `JWT_JWKS_URL` or `JWT_OIDC_ISSUER`, `JWT_ISSUER`, `JWT_AUDIENCE`,
/// `JWT_LEEWAY_SECS` and `BIND`, as `resource_server` reads them.
#[derive(Debug, Args)]
pub(crate) struct KeyEnv {
    /// The key set URL (https; plain http only for loopback hosts).
    #[arg(long, env = "JWT_JWKS_URL")]
    jwks_url: Option<String>,
    /// Or: an issuer whose key set is found by OpenID discovery.
    #[arg(long, env = "JWT_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// Accepted issuers, comma-separated (default: the OIDC issuer).
    #[arg(long, env = "JWT_ISSUER", value_delimiter = ',')]
    issuer: Vec<String>,
    /// Accepted audiences, comma-separated.
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    audience: Vec<String>,
    /// Clock skew tolerance in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 60)]
    leeway_secs: u64,
    /// Address to listen on (port 0 picks one).
    #[arg(long, env = "BIND", default_value = "127.0.0.1:3000")]
    pub(crate) bind: String,
}

/// The non-empty, trimmed entries of a comma-separated list.
fn entries(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty())
}

impl KeyEnv {
    /// A layer's builder on the configured key set and claim rules.
    pub(crate) fn builder<C>(&self) -> Result<JwtAuthBuilder<C>, String> {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let mut issuers: Vec<&str> = entries(&self.issuer).collect();
        let keys = match (some(&self.jwks_url), some(&self.oidc_issuer)) {
            (Some(_), Some(_)) => {
                return Err("set JWT_JWKS_URL or JWT_OIDC_ISSUER, not both".into());
            }
            (None, None) => return Err("set JWT_JWKS_URL or JWT_OIDC_ISSUER".into()),
            (Some(url), None) => RemoteJwks::builder(url).build(),
            (None, Some(issuer)) => {
                if issuers.is_empty() {
                    issuers.push(self.oidc_issuer.as_deref().unwrap_or_default().trim());
                }
                RemoteJwks::discover(issuer).build()
            }
        }
        .map_err(|e| e.to_string())?;
        if issuers.is_empty() && entries(&self.audience).next().is_none() {
            return Err(
                "set JWT_ISSUER and/or JWT_AUDIENCE: a token for another service must not pass"
                    .into(),
            );
        }
        let builder = JwtAuth::<C>::builder()
            .key_source(keys)
            .leeway(Duration::from_secs(self.leeway_secs));
        let builder = issuers.into_iter().fold(builder, |b, i| b.issuer(i));
        Ok(entries(&self.audience).fold(builder, |b, a| b.audience(a)))
    }
}
