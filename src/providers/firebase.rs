//! Firebase Authentication: ID tokens (`iss`
//! `https://securetoken.google.com/<project>`, keys from one certificate
//! map) or session cookies (`iss` `https://session.firebase.google.com/<project>`,
//! keys from *another* certificate map, the token in a cookie). `aud` is the
//! project id, `sub` must be a non-empty string of at most 128 characters
//! and `auth_time` in the past, as Firebase's own SDKs check. Custom claims
//! are in the payload for your claims type.
//!
//! ```
//! use jwt_layer::providers::firebase::Firebase;
//! use jwt_layer::RegisteredClaims;
//!
//! let id_tokens = Firebase::new("my-project").id_tokens::<RegisteredClaims>().build()?;
//! let cookies = Firebase::new("my-project")
//!     .session_cookies::<RegisteredClaims>("session")
//!     .build()?;
//! # let _ = (id_tokens, cookies);
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```

use crate::keys::{KeySetFormat, RemoteJwks};
use crate::layer::{JwtAuth, JwtAuthBuilder};
use crate::token::CookieToken;

/// The certificate map of ID tokens.
pub const ID_TOKEN_KEYS_URL: &str =
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";
/// The certificate map of session cookies (no JWK form exists).
pub const SESSION_COOKIE_KEYS_URL: &str =
    "https://www.googleapis.com/identitytoolkit/v3/relyingparty/publicKeys";

/// Firebase tokens; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Firebase {
    project_id: String,
    keys_url: Option<String>,
}

impl Firebase {
    /// Tokens of the Firebase project `project_id`.
    pub fn new(project_id: impl Into<String>) -> Self {
        Self {
            project_id: project_id.into(),
            keys_url: None,
        }
    }

    /// Fetches the certificate map from `url` instead of Google's (the
    /// emulator, tests).
    #[must_use]
    pub fn keys_url(mut self, url: impl Into<String>) -> Self {
        self.keys_url = Some(url.into());
        self
    }

    /// ID tokens, from the `Authorization: Bearer` header.
    pub fn id_tokens<C>(self) -> JwtAuthBuilder<C> {
        let issuer = format!("https://securetoken.google.com/{}", self.project_id);
        self.common(issuer, ID_TOKEN_KEYS_URL)
    }

    /// Session cookies (`createSessionCookie`), from the cookie `name`.
    pub fn session_cookies<C>(self, name: impl Into<String>) -> JwtAuthBuilder<C, CookieToken> {
        let issuer = format!("https://session.firebase.google.com/{}", self.project_id);
        let name: String = name.into();
        self.common(issuer, SESSION_COOKIE_KEYS_URL)
            .token_source(CookieToken::new(name))
    }

    fn common<C>(self, issuer: String, default_keys: &str) -> JwtAuthBuilder<C> {
        let url = self.keys_url.unwrap_or_else(|| default_keys.to_owned());
        let keys = RemoteJwks::builder(url).format(KeySetFormat::PemCertificates);
        JwtAuth::<C>::builder()
            .key_source(keys)
            .issuer(issuer)
            .audience(self.project_id)
            .require_claim_text("sub", 128)
            .require_past_time("auth_time")
    }
}
