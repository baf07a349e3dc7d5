//! OpenID Connect discovery: issuer → `/.well-known/openid-configuration` →
//! `jwks_uri`. The document's `issuer` must equal the configured issuer
//! byte for byte (OpenID Connect Discovery §4.3), and `jwks_uri` obeys the
//! same https rule as any key set URL.

use std::sync::Mutex;

use reqwest::Url;
use serde::Deserialize;

use super::fetch::{Fetch, FetchFuture, HttpFetcher, check_url};
use super::{JwksError, JwksErrorKind};
use crate::error::BuildError;
use crate::verify::issuer::Template;

#[derive(Deserialize)]
struct Configuration {
    issuer: String,
    jwks_uri: String,
}

/// The discovery URL for `issuer`.
pub(crate) fn discovery_url(issuer: &str) -> Result<Url, BuildError> {
    let base = issuer.trim_end_matches('/');
    check_url(&format!("{base}/.well-known/openid-configuration"))
}

/// Fetches the key set whose URL discovery names; the URL is discovered on
/// first use and again after a failed fetch.
#[derive(Debug)]
pub(crate) struct DiscoveryFetcher {
    http: HttpFetcher,
    issuer: String,
    /// Templated issuers a document may name instead (by shape).
    templates: Vec<Template>,
    jwks_url: Mutex<Option<Url>>,
}

impl DiscoveryFetcher {
    pub(crate) fn new(http: HttpFetcher, issuer: String, templates: Vec<Template>) -> Self {
        Self {
            http,
            issuer,
            templates,
            jwks_url: Mutex::new(None),
        }
    }

    fn cached(&self) -> Option<Url> {
        self.jwks_url
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn remember(&self, url: Option<Url>) {
        *self.jwks_url.lock().unwrap_or_else(|e| e.into_inner()) = url;
    }

    async fn discover(&self) -> Result<Url, JwksError> {
        let doc = self.http.get(self.http.url()).await?;
        if !doc.body.trim_start().starts_with('{') {
            return Err(JwksError::new(
                JwksErrorKind::Discovery,
                "discovery document is not a JSON object",
            ));
        }
        let config: Configuration = serde_json::from_str(&doc.body).map_err(|_| {
            JwksError::new(
                JwksErrorKind::Discovery,
                "discovery document lacks a string `issuer` and `jwks_uri`",
            )
        })?;
        if config.issuer != self.issuer && !self.names_a_template(&config.issuer) {
            crate::log::discovery_issuer_mismatch(&self.issuer, &config.issuer);
            return Err(JwksError::new(
                JwksErrorKind::IssuerMismatch,
                format!(
                    "discovery document names the issuer `{}`, not the configured `{}`",
                    crate::log::untrusted(&config.issuer, 200),
                    self.issuer
                ),
            ));
        }
        check_url(&config.jwks_uri).map_err(|_| {
            JwksError::new(
                JwksErrorKind::Discovery,
                "discovery document's jwks_uri is not an https URL",
            )
        })
    }

    /// Whether a document's `issuer` is a template of the shape of one
    /// accepted.
    fn names_a_template(&self, issuer: &str) -> bool {
        matches!(Template::parse(issuer), Ok(Some(t)) if self.templates.iter().any(|a| a.same_shape(&t)))
    }

    async fn fetch_keys(&self) -> Result<super::fetch::Fetched, JwksError> {
        let url = match self.cached() {
            Some(url) => url,
            None => {
                let url = self.discover().await?;
                self.remember(Some(url.clone()));
                url
            }
        };
        let result = self.http.get(&url).await;
        if result.is_err() {
            // The provider may have moved its keys: discover again next time.
            self.remember(None);
        }
        result
    }
}

impl Fetch for DiscoveryFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.fetch_keys())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_rules() {
        assert_eq!(
            discovery_url("https://accounts.google.com")
                .unwrap()
                .as_str(),
            "https://accounts.google.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://login.example/tenant/")
                .unwrap()
                .as_str(),
            "https://login.example/tenant/.well-known/openid-configuration"
        );
        assert!(discovery_url("http://idp.example").is_err());
    }
}
