//! Keys and tokens for tests: generate a key, publish its JWK, mint tokens
//! with any header and claims.
//!
//! These helpers are for tests only: they make no attempt to protect key
//! material, and [`TestKey::mint_raw`] signs any header you give it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

use super::JwksServer;
use crate::error::BoxError;
#[cfg(feature = "aws-lc-rs")]
use crate::error::BuildError;
#[cfg(feature = "aws-lc-rs")]
use crate::issue::KeyKind;
use crate::issue::SigningKey;

/// A signing key for tests, with its public half as a JWK.
#[derive(Clone, Debug)]
pub struct TestKey {
    key: SigningKey,
}

impl TestKey {
    /// Wraps any [`SigningKey`] (loaded from a file, a JWK, …).
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }

    /// A fresh key pair of `kind`, its `kid` the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// The random source failed.
    #[cfg(feature = "aws-lc-rs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-lc-rs")))]
    pub fn generate(kind: KeyKind) -> Result<Self, BuildError> {
        SigningKey::generate(kind).map(Self::new)
    }

    /// Sets the `kid`.
    #[must_use]
    pub fn with_kid(self, kid: impl Into<String>) -> Self {
        Self::new(self.key.with_kid(kid))
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The public JWK as JSON (`None` for an HMAC key, which is never
    /// published).
    pub fn jwk(&self) -> Option<String> {
        self.key.public_jwk().map(|j| j.to_json())
    }

    /// Signs `claims` with the header `{"alg", "typ": "JWT", "kid"}`.
    ///
    /// # Errors
    ///
    /// The claims do not serialize, or signing failed.
    pub fn mint(&self, claims: &impl Serialize) -> Result<String, BoxError> {
        let header = json!({
            "alg": format!("{:?}", self.key.algorithm()),
            "typ": "JWT",
            "kid": self.kid(),
        });
        self.mint_raw(&header.to_string(), &serde_json::to_string(claims)?)
    }

    /// Signs any header and payload text exactly as given (for hostile
    /// tokens: `crit`, odd `alg`s, duplicate members, non-JSON…). The
    /// signature is this key's, whatever the header claims.
    ///
    /// # Errors
    ///
    /// Signing failed.
    pub fn mint_raw(&self, header: &str, payload: &str) -> Result<String, BoxError> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.key.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// A JWK Set document holding the public keys of `keys`.
pub fn jwks(keys: &[&TestKey]) -> String {
    let keys: Vec<String> = keys.iter().filter_map(|k| k.jwk()).collect();
    format!("{{\"keys\":[{}]}}", keys.join(","))
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Claims for `iss` and `aud`, issued now and expiring in `ttl_secs`
/// (negative for an expired token). Add your own with
/// `claims["sub"] = "alice".into()`.
pub fn claims(iss: &str, aud: &str, ttl_secs: i64) -> Value {
    let now = now();
    let exp = now.saturating_add_signed(ttl_secs);
    json!({ "iss": iss, "aud": aud, "iat": now, "exp": exp })
}

impl JwksServer {
    /// Publishes the public keys of `keys` (see [`jwks`]).
    pub fn set_keys(&self, keys: &[&TestKey]) {
        self.set_jwks(jwks(keys));
    }
}
