//! The one mapping from failure to response, after
//! [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3).
//!
//! | failure | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no credentials | 401 | `Bearer realm="…"` |
//! | malformed request | 400 | `Bearer realm="…", error="invalid_request", error_description="…"` |
//! | bad, expired, or unacceptable token | 401 | `Bearer realm="…", error="invalid_token", error_description="…"` |
//! | scope or predicate not met | 403 | `Bearer realm="…", error="insufficient_scope", error_description="…", scope="…"` |
//! | key server unreachable, nothing cached | 503 | none; `Retry-After` |
//! | extractor used without the layer | 500 | none |
//!
//! Every header value is rendered once, when the layer is built; a request
//! only clones a prebuilt [`HeaderValue`]. `error_description` is a fixed
//! text per [`AuthErrorKind`] and never contains request data.

use std::sync::Arc;

use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response};

use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};

/// The default realm.
pub const DEFAULT_REALM: &str = "api";

/// Every kind that answers with a challenge, in a fixed order for the table.
const KINDS: [AuthErrorKind; 25] = [
    AuthErrorKind::MissingToken,
    AuthErrorKind::InvalidRequest,
    AuthErrorKind::MalformedToken,
    AuthErrorKind::TokenTooLarge,
    AuthErrorKind::UnsupportedHeader,
    AuthErrorKind::AlgorithmNotAllowed,
    AuthErrorKind::UnknownKey,
    AuthErrorKind::InvalidSignature,
    AuthErrorKind::Expired,
    AuthErrorKind::NotYetValid,
    AuthErrorKind::IssuedInFuture,
    AuthErrorKind::LifetimeTooLong,
    AuthErrorKind::InvalidIssuer,
    AuthErrorKind::InvalidAudience,
    AuthErrorKind::InvalidClaims,
    AuthErrorKind::InvalidTokenType,
    AuthErrorKind::RejectedClaim,
    AuthErrorKind::DpopBoundToken,
    AuthErrorKind::DpopKeyMismatch,
    AuthErrorKind::InvalidDpopProof,
    AuthErrorKind::UseDpopNonce,
    AuthErrorKind::DpopRequired,
    AuthErrorKind::InsufficientScope,
    AuthErrorKind::MissingRole,
    AuthErrorKind::Forbidden,
];

/// Prebuilt `WWW-Authenticate` values for one realm: each is the scheme's
/// challenge (`Bearer realm="…"`, or the DPoP one) plus the kind's error.
#[derive(Clone, Debug)]
pub(crate) struct Challenges {
    prefix: Arc<str>,
    values: Arc<[(AuthErrorKind, HeaderValue)]>,
}

/// Checks that `s` can stand inside a quoted-string without escaping:
/// visible ASCII and spaces, no `"` or `\`.
pub(crate) fn check_quotable(what: &str, s: &str) -> Result<(), BuildError> {
    let ok = !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| (b == b' ' || b.is_ascii_graphic()) && b != b'"' && b != b'\\');
    if ok {
        Ok(())
    } else {
        Err(BuildError::new(
            BuildErrorKind::InvalidHeaderText,
            format!("{what} must be 1 to 256 visible ASCII characters without '\"' or '\\'"),
        ))
    }
}

impl Challenges {
    pub(crate) fn new(realm: &str) -> Result<Self, BuildError> {
        check_quotable("realm", realm)?;
        Self::with_prefix(format!("Bearer realm=\"{realm}\""))
    }

    /// Challenges starting with `prefix` (checked text: the layer's realm
    /// and fixed names), e.g. `Bearer realm="api", DPoP algs="ES256"`.
    pub(crate) fn with_prefix(prefix: String) -> Result<Self, BuildError> {
        let mut values = Vec::with_capacity(KINDS.len());
        for kind in KINDS {
            values.push((kind, render(&prefix, kind, None)?));
        }
        Ok(Self {
            prefix: prefix.into(),
            values: values.into(),
        })
    }

    /// The challenge for `kind`, if it has one.
    pub(crate) fn get(&self, kind: AuthErrorKind) -> Option<&HeaderValue> {
        self.values.iter().find(|(k, _)| *k == kind).map(|(_, v)| v)
    }

    /// Renders a 403 challenge, naming the scopes required if any.
    pub(crate) fn forbidden(
        &self,
        kind: AuthErrorKind,
        scope: Option<&str>,
    ) -> Result<HeaderValue, BuildError> {
        render(&self.prefix, kind, scope)
    }
}

fn render(
    prefix: &str,
    kind: AuthErrorKind,
    scope: Option<&str>,
) -> Result<HeaderValue, BuildError> {
    let mut s = prefix.to_owned();
    if let Some(code) = kind.error_code() {
        s.push_str(", error=\"");
        s.push_str(code);
        s.push_str("\", error_description=\"");
        s.push_str(kind.description());
        s.push('"');
    }
    if let Some(scope) = scope {
        check_quotable("scope", scope)?;
        s.push_str(", scope=\"");
        s.push_str(scope);
        s.push('"');
    }
    HeaderValue::from_str(&s).map_err(|e| {
        BuildError::with_source(BuildErrorKind::InvalidHeaderText, "invalid challenge", e)
    })
}

/// The response for `err`, with an empty body, before any user hook.
pub(crate) fn response(err: &AuthError, challenges: &Challenges) -> Response<()> {
    let mut res = Response::new(());
    *res.status_mut() = err.status();
    let header = err.challenge().or_else(|| challenges.get(err.kind()));
    if let Some(value) = header {
        res.headers_mut().insert(WWW_AUTHENTICATE, value.clone());
    }
    if let Some(nonce) = err.dpop_nonce() {
        res.headers_mut()
            .insert(http::HeaderName::from_static("dpop-nonce"), nonce.clone());
    }
    if let Some(secs) = err.retry_after() {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

/// Turns the bodiless rejection into the service's response type.
///
/// The default, [`DefaultRejection`], sends an empty body. Any
/// `Fn(&AuthError, Response<()>) -> Response<B>` works too, so a user can
/// render JSON while the status and challenge stay as the table says:
///
/// ```
/// use jwt_layer::{AuthError, JwtAuth, RegisteredClaims};
/// use http::{header, HeaderValue, Response};
///
/// let render = |err: &AuthError, res: Response<()>| {
///     let (mut parts, ()) = res.into_parts();
///     parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
///     let body = format!(r#"{{"error":"{}"}}"#, err.kind().description());
///     Response::from_parts(parts, axum::body::Body::from(body))
/// };
/// let auth = JwtAuth::<RegisteredClaims>::builder()
///     .hmac_secret(b"0123456789abcdef0123456789abcdef")
///     .issuer("https://auth.example")
///     .on_rejection(render)
///     .build()?;
/// # Ok::<(), jwt_layer::BuildError>(())
/// ```
pub trait OnRejection<B>: Clone + Send + Sync + 'static {
    /// Completes the response. `res` already carries the status and the
    /// `WWW-Authenticate`/`Retry-After` headers.
    fn respond(&self, err: &AuthError, res: Response<()>) -> Response<B>;
}

/// The default rejection: an empty body.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRejection;

impl<B: Default> OnRejection<B> for DefaultRejection {
    fn respond(&self, _err: &AuthError, res: Response<()>) -> Response<B> {
        res.map(|()| B::default())
    }
}

impl<F, B> OnRejection<B> for F
where
    F: Fn(&AuthError, Response<()>) -> Response<B> + Clone + Send + Sync + 'static,
{
    fn respond(&self, err: &AuthError, res: Response<()>) -> Response<B> {
        self(err, res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_the_table() {
        let c = Challenges::new("api").unwrap();
        assert_eq!(
            c.get(AuthErrorKind::MissingToken).unwrap(),
            "Bearer realm=\"api\""
        );
        assert_eq!(
            c.get(AuthErrorKind::Expired).unwrap(),
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"token expired\""
        );
        assert_eq!(
            c.get(AuthErrorKind::InvalidRequest).unwrap(),
            "Bearer realm=\"api\", error=\"invalid_request\", error_description=\"malformed credentials\""
        );
        assert_eq!(
            c.forbidden(AuthErrorKind::InsufficientScope, Some("admin read"))
                .unwrap(),
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"insufficient scope\", scope=\"admin read\""
        );
        assert!(c.get(AuthErrorKind::KeysUnavailable).is_none());
        assert!(c.get(AuthErrorKind::MissingLayer).is_none());
    }

    #[test]
    fn realm_and_scope_cannot_inject() {
        assert!(Challenges::new("a\", error=\"x").is_err());
        assert!(Challenges::new("a\r\nSet-Cookie: x").is_err());
        assert!(Challenges::new("").is_err());
        let c = Challenges::new("api").unwrap();
        assert!(
            c.forbidden(AuthErrorKind::InsufficientScope, Some("a\"b"))
                .is_err()
        );
        assert!(
            c.forbidden(AuthErrorKind::InsufficientScope, Some("a\\b"))
                .is_err()
        );
    }
}
