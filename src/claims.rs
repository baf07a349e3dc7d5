//! Claim types: the registered claims of
//! [RFC 7519 §4.1](https://www.rfc-editor.org/rfc/rfc7519#section-4.1) and the
//! verified-claims handle the layer puts into request extensions.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// A token's roles in one allocation: each role followed by a NUL (a role
/// holding a NUL, or empty, is not kept), at most [`Roles::MAX`].
#[derive(Debug, Default)]
pub(crate) struct Roles {
    text: String,
    count: usize,
}

impl Roles {
    /// The most roles kept; the rest are ignored.
    pub(crate) const MAX: usize = 256;

    /// Adds `role` (ignored when empty, holding a NUL, or past [`Self::MAX`]).
    pub(crate) fn push(&mut self, role: &str) {
        if role.is_empty() || role.contains('\0') || self.count >= Self::MAX {
            return;
        }
        self.text.reserve(role.len() + 1);
        self.text.push_str(role);
        self.text.push('\0');
        self.count += 1;
    }

    /// The roles, in the order they were added.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.text.split_terminator('\0')
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
    roles: Roles,
    jkt: Option<Box<str>>,
    /// `exp`, seconds since the epoch.
    exp: Option<f64>,
    /// What a revocation list looks the token up by (kept only when one is
    /// configured).
    ids: Option<RevocationIds>,
}

/// A token's `jti`, `sub` and `iat`, for revocation: both strings in one
/// allocation (`jti` then `sub`), so keeping them costs one.
#[derive(Debug, Default)]
pub(crate) struct RevocationIds {
    text: Box<str>,
    /// Where `jti` ends in `text`, if the token has one.
    jti_end: Option<usize>,
    has_sub: bool,
    iat: Option<f64>,
}

impl RevocationIds {
    pub(crate) fn new(jti: Option<&str>, sub: Option<&str>, iat: Option<f64>) -> Self {
        let mut text = String::with_capacity(jti.map_or(0, str::len) + sub.map_or(0, str::len));
        text.push_str(jti.unwrap_or_default());
        let jti_end = jti.map(|_| text.len());
        text.push_str(sub.unwrap_or_default());
        Self {
            text: text.into_boxed_str(),
            jti_end,
            has_sub: sub.is_some(),
            iat,
        }
    }
}

/// [`RevocationIds`] borrowed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ids<'a> {
    pub(crate) jti: Option<&'a str>,
    pub(crate) sub: Option<&'a str>,
    pub(crate) iat: Option<f64>,
}

impl<C> VerifiedClaims<C> {
    /// Verified claims with their scopes, roles, DPoP binding, `exp`, and
    /// (with a revocation list configured) what the list looks up.
    pub(crate) fn new(
        claims: C,
        scopes: Box<str>,
        roles: Roles,
        jkt: Option<Box<str>>,
        exp: Option<f64>,
        ids: Option<RevocationIds>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                claims,
                scopes,
                roles,
                jkt,
                exp,
                ids,
            }),
        }
    }

    /// The token's `jti`, `sub` and `iat` (empty unless a revocation list
    /// is configured).
    pub(crate) fn revocation_ids(&self) -> Ids<'_> {
        let Some(ids) = &self.inner.ids else {
            return Ids::default();
        };
        let split = ids.jti_end.unwrap_or(0);
        let (jti, sub) = ids.text.split_at_checked(split).unwrap_or_default();
        Ids {
            jti: ids.jti_end.map(|_| jti),
            sub: ids.has_sub.then_some(sub),
            iat: ids.iat,
        }
    }

    /// The token's `exp`, seconds since the epoch, as verified.
    pub(crate) fn exp(&self) -> Option<f64> {
        self.inner.exp
    }

    /// When the token expires (its `exp`), if it says.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let exp = self.inner.exp.filter(|e| e.is_finite() && *e >= 0.0)?;
        UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)
    }

    /// Completes when the token expires, and never for a token without
    /// `exp`: a long-lived connection (a WebSocket, a server stream) that
    /// must not outlive its token waits on it beside its work.
    ///
    /// It ends at `exp` itself, without the verifier's leeway: a token
    /// accepted within the leeway after `exp` completes this at once.
    /// The time left is read from the system clock when this is called,
    /// then waited on tokio's clock (so tests can pause it).
    ///
    /// ```no_run
    /// # async fn socket(claims: jwt_layer::VerifiedClaims<jwt_layer::RegisteredClaims>) {
    /// # let next_message = std::future::pending::<()>;
    /// tokio::select! {
    ///     () = claims.expired() => { /* close the socket: policy violation (1008) */ }
    ///     () = next_message() => { /* … */ }
    /// }
    /// # }
    /// ```
    pub async fn expired(&self) {
        let Some(at) = self.expires_at() else {
            return std::future::pending().await;
        };
        let left = at.duration_since(SystemTime::now()).unwrap_or_default();
        tokio::time::sleep(left).await;
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
        self.inner.roles.iter()
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
            .field("roles", &self.inner.roles.iter().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_keep_their_order_and_skip_empty_nul_and_excess_entries() {
        let mut roles = Roles::default();
        for role in ["admin", "", "a\0b", "reader", "admin"] {
            roles.push(role);
        }
        assert_eq!(
            roles.iter().collect::<Vec<_>>(),
            ["admin", "reader", "admin"]
        );
        let mut many = Roles::default();
        (0..Roles::MAX + 10).for_each(|i| many.push(&format!("r{i}")));
        assert_eq!(many.iter().count(), Roles::MAX);
        assert_eq!(
            many.iter().last(),
            Some(format!("r{}", Roles::MAX - 1).as_str())
        );
        assert_eq!(Roles::default().iter().count(), 0);
    }

    fn with_exp(exp: Option<f64>) -> VerifiedClaims<()> {
        VerifiedClaims::new((), Box::from(""), Roles::default(), None, exp, None)
    }

    #[test]
    fn expiry_is_read_from_exp_and_absurd_values_mean_none() {
        let at = with_exp(Some(1_700_000_000.5)).expires_at().unwrap();
        let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((secs - 1_700_000_000.5).abs() < 1e-6);
        for exp in [
            None,
            Some(-1.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(1e300),
        ] {
            assert!(with_exp(exp).expires_at().is_none(), "{exp:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_exp_expired_never_completes() {
        let claims = with_exp(None);
        let year = Duration::from_secs(365 * 86_400);
        assert!(tokio::time::timeout(year, claims.expired()).await.is_err());
    }
}
