//! Verifying Google ID tokens (Sign in with Google, Google Identity
//! Services): Google's rotating JWK Set, both issuer spellings, `aud` = one
//! of your OAuth client ids, and optional hosted-domain and verified-email
//! checks.
//!
//! ```
//! use jwt_layer::google::{self, GoogleClaims};
//! use jwt_layer::Claims;
//!
//! let auth = google::id_tokens(["1234-abc.apps.googleusercontent.com"])
//!     .hosted_domain("example.com")
//!     .require_verified_email()
//!     .build()?;
//! async fn me(Claims(c): Claims<GoogleClaims>) -> String {
//!     c.email.unwrap_or_default()
//! }
//! let app: axum::Router = axum::Router::new().route("/me", axum::routing::get(me)).layer(auth);
//! # let _ = app;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```
//!
//! A token from another hosted domain, or with an unverified email when
//! that is required, is answered 403 (`insufficient_scope`,
//! `access denied`): it is a valid Google token, just not one this service
//! admits.

use serde::{Deserialize, Serialize};

use crate::error::{BuildError, BuildErrorKind};
use crate::keys::{RemoteJwks, RemoteJwksBuilder};
use crate::layer::{JwtAuth, JwtAuthBuilder};

/// Google's JWK Set.
pub const JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The two spellings of Google's issuer; both are valid.
pub const ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

/// The claims of a Google ID token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GoogleClaims {
    /// The user's stable Google account id.
    pub sub: String,
    /// The issuer, one of [`ISSUERS`].
    pub iss: String,
    /// The client id the token was issued for.
    pub aud: String,
    /// The email address, when the `email` scope was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether Google verified the email address.
    #[serde(
        default,
        deserialize_with = "super::bool_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_verified: Option<bool>,
    /// The Google Workspace domain of the account, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hd: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Profile picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The client id of the presenter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Issue time.
    pub iat: u64,
    /// Expiry time.
    pub exp: u64,
}

/// Starts a layer that accepts Google ID tokens issued for one of
/// `client_ids`.
pub fn id_tokens<I, S>(client_ids: I) -> GoogleIdTokens
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    GoogleIdTokens {
        client_ids: client_ids.into_iter().map(Into::into).collect(),
        jwks: RemoteJwks::builder(JWKS_URL),
        hosted_domain: None,
        require_verified_email: false,
    }
}

/// Configures Google ID token verification.
#[derive(Debug)]
pub struct GoogleIdTokens {
    client_ids: Vec<String>,
    jwks: RemoteJwksBuilder,
    hosted_domain: Option<String>,
    require_verified_email: bool,
}

impl GoogleIdTokens {
    /// Fetches keys from `url` instead of Google's (for tests, or a proxy).
    #[must_use]
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks = RemoteJwks::builder(url);
        self
    }

    /// Uses a configured key set builder (cache knobs, HTTP client).
    #[must_use]
    pub fn jwks(mut self, jwks: RemoteJwksBuilder) -> Self {
        self.jwks = jwks;
        self
    }

    /// Admits only accounts of this Google Workspace domain (`hd` claim).
    #[must_use]
    pub fn hosted_domain(mut self, domain: impl Into<String>) -> Self {
        self.hosted_domain = Some(domain.into());
        self
    }

    /// Admits only tokens with `email_verified: true`.
    #[must_use]
    pub fn require_verified_email(mut self) -> Self {
        self.require_verified_email = true;
        self
    }

    /// The layer builder, to configure further (token source, optional
    /// mode, rejection rendering).
    ///
    /// # Errors
    ///
    /// No client id, or a bad key set configuration.
    pub fn into_builder(self) -> Result<JwtAuthBuilder<GoogleClaims>, BuildError> {
        if self.client_ids.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "Google ID tokens need at least one client id",
            ));
        }
        let mut builder = JwtAuth::<GoogleClaims>::builder().key_source(self.jwks.build()?);
        for issuer in ISSUERS {
            builder = builder.issuer(issuer);
        }
        for id in self.client_ids {
            builder = builder.audience(id);
        }
        if let Some(domain) = self.hosted_domain {
            builder = builder.require(move |c: &GoogleClaims| c.hd.as_deref() == Some(&*domain));
        }
        if self.require_verified_email {
            builder = builder.require(|c: &GoogleClaims| c.email_verified == Some(true));
        }
        Ok(builder)
    }

    /// Builds the layer. No I/O.
    ///
    /// # Errors
    ///
    /// As [`into_builder`](Self::into_builder).
    pub fn build(self) -> Result<JwtAuth<GoogleClaims>, BuildError> {
        self.into_builder()?.build()
    }
}
