//! Claim types: the registered claims of
//! [RFC 7519 §4.1](https://www.rfc-editor.org/rfc/rfc7519#section-4.1) and the
//! verified-claims handle the layer puts into request extensions.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The registered claims of RFC 7519 §4.1 plus the OAuth `scope`.
///
/// Use it as the claims type when you need nothing else, or embed it with
/// `#[serde(flatten)]` in your own type. Dates are
/// [NumericDate](https://www.rfc-editor.org/rfc/rfc7519#section-2) seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegisteredClaims {
    /// `iss`: who issued the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `sub`: whom the token is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `aud`: for whom the token is meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<OneOrMany<String>>,
    /// `exp`: expiry time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<f64>,
    /// `nbf`: not valid before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<f64>,
    /// `iat`: issue time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<f64>,
    /// `jti`: unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `scope`: space-delimited OAuth scopes (RFC 8693 §4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A claim that may be a single value or an array of values, as `aud` may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// An array of values.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

/// Verified claims, as the layer stores them in the request extensions.
///
/// Cheap to clone (an `Arc`), dereferences to the claims type `C`, and also
/// carries the token's scopes and roles for
/// [authorization](crate::authorize). Claims
/// from a token that failed verification are never made into this type.
pub struct VerifiedClaims<C> {
    inner: Arc<Inner<C>>,
}

struct Inner<C> {
    claims: C,
    scopes: Box<str>,
    roles: Box<[Box<str>]>,
    jkt: Option<Box<str>>,
}

impl<C> VerifiedClaims<C> {
    pub(crate) fn new(
        claims: C,
        scopes: Box<str>,
        roles: Box<[Box<str>]>,
        jkt: Option<Box<str>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                claims,
                scopes,
                roles,
                jkt,
            }),
        }
    }

    /// The thumbprint of the DPoP key the token is bound to (its
    /// `cnf.jkt`, RFC 9449 §6.1), if it is bound.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.inner.jkt.as_deref()
    }

    /// The claims.
    pub fn claims(&self) -> &C {
        &self.inner.claims
    }

    /// The token's scopes, from its `scope` string or `scp` array.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.inner.scopes.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// The token's roles, from the claims configured with
    /// [`role_claims`](crate::VerifierBuilder::role_claims) (none
    /// otherwise).
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.inner.roles.iter().map(|r| &**r)
    }

    /// Whether the token grants `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles().any(|r| r == role)
    }
}

impl<C> Clone for VerifiedClaims<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C> Deref for VerifiedClaims<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.inner.claims
    }
}

impl<C: fmt::Debug> fmt::Debug for VerifiedClaims<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedClaims")
            .field("claims", &self.inner.claims)
            .field("scopes", &self.inner.scopes)
            .field("roles", &self.inner.roles)
            .finish()
    }
}
