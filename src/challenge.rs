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
//! A refused **gRPC** request (`content-type: application/grpc…`) gets the
//! same headers in the form gRPC clients read (a "Trailers-Only" answer):
//! HTTP 200, `content-type: application/grpc`, `grpc-status` 16
//! (`UNAUTHENTICATED`) for 400 and 401, 7 (`PERMISSION_DENIED`) for 403, 14
//! (`UNAVAILABLE`) for 503, 13 (`INTERNAL`) for 500, and `grpc-message`, the
//! percent-encoded fixed description. `WWW-Authenticate` and `Retry-After`
//! stay. On by default; `grpc_answers(false)` on the layer's builder turns
//! it off.
//!
//! Every header value is rendered once, when the layer is built; a request
//! only clones a prebuilt [`HeaderValue`]. `error_description` is a fixed
//! text per [`AuthErrorKind`] and never contains request data.

use std::sync::Arc;

use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};

/// The default realm.
pub const DEFAULT_REALM: &str = "api";

/// Every kind that answers with a challenge, in a fixed order for the table.
const KINDS: [AuthErrorKind; 26] = [
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
    AuthErrorKind::Revoked,
    AuthErrorKind::InsufficientScope,
    AuthErrorKind::MissingRole,
    AuthErrorKind::Forbidden,
];

/// The kinds without a challenge, which gRPC answers still name.
const UNCHALLENGED: [AuthErrorKind; 4] = [
    AuthErrorKind::KeysUnavailable,
    AuthErrorKind::CheckUnavailable,
    AuthErrorKind::RevocationUnavailable,
    AuthErrorKind::MissingLayer,
];

/// What `grpc-message` percent-encodes: controls, non-ASCII and `%`.
const GRPC_MESSAGE: &AsciiSet = &CONTROLS.add(b'%');

/// Prebuilt `WWW-Authenticate` values for one realm: each is the scheme's
/// challenge (`Bearer realm="…"`, or the DPoP one) plus the kind's error;
/// and, unless turned off, the `grpc-message` of every kind.
#[derive(Clone, Debug)]
pub(crate) struct Challenges {
    prefix: Arc<str>,
    values: Arc<[(AuthErrorKind, HeaderValue)]>,
    grpc: Option<Arc<[(AuthErrorKind, HeaderValue)]>>,
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
    /// The challenges of `realm`, with gRPC answers when `grpc` (else gRPC
    /// requests get the HTTP answer like any other).
    pub(crate) fn new(realm: &str, grpc: bool) -> Result<Self, BuildError> {
        check_quotable("realm", realm)?;
        let mut challenges = Self::with_prefix(format!("Bearer realm=\"{realm}\""))?;
        if grpc {
            challenges.grpc = Some(grpc_messages()?);
        }
        Ok(challenges)
    }

    /// Challenges starting with `prefix` (checked text: the layer's realm
    /// and fixed names), e.g. `Bearer realm="api", DPoP algs="ES256"`;
    /// without gRPC answers (these only replace a challenge).
    pub(crate) fn with_prefix(prefix: String) -> Result<Self, BuildError> {
        let mut values = Vec::with_capacity(KINDS.len());
        for kind in KINDS {
            values.push((kind, render(&prefix, kind, None)?));
        }
        Ok(Self {
            prefix: prefix.into(),
            values: values.into(),
            grpc: None,
        })
    }

    /// The prebuilt `grpc-message` for `kind`, when gRPC answers are on and
    /// `headers` are a gRPC request's.
    fn grpc_message(&self, kind: AuthErrorKind, headers: &HeaderMap) -> Option<&HeaderValue> {
        let table = self.grpc.as_deref()?;
        if !is_grpc(headers) {
            return None;
        }
        table.iter().find(|(k, _)| *k == kind).map(|(_, v)| v)
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

/// Every kind a request can fail with.
pub(crate) fn all_kinds() -> impl Iterator<Item = AuthErrorKind> {
    KINDS.into_iter().chain(UNCHALLENGED)
}

/// The `grpc-message` of every kind, percent-encoded once.
fn grpc_messages() -> Result<Arc<[(AuthErrorKind, HeaderValue)]>, BuildError> {
    all_kinds()
        .map(|kind| {
            let text = utf8_percent_encode(kind.description(), GRPC_MESSAGE).to_string();
            HeaderValue::try_from(text)
                .map(|value| (kind, value))
                .map_err(|e| {
                    BuildError::with_source(BuildErrorKind::InvalidHeaderText, "grpc-message", e)
                })
        })
        .collect()
}

/// Whether `headers` are those of a gRPC request: `content-type` is
/// `application/grpc`, alone or with a `+format` or parameters. gRPC-Web
/// (`application/grpc-web…`) is not: its clients read HTTP statuses.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    const GRPC: &[u8] = b"application/grpc";
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let bytes = value.as_bytes();
    let (head, rest) = bytes.split_at(bytes.len().min(GRPC.len()));
    head.eq_ignore_ascii_case(GRPC) && matches!(rest.first(), None | Some(b'+' | b';'))
}

/// The gRPC status code (as header text) for an HTTP status of the table.
fn grpc_status(status: StatusCode) -> HeaderValue {
    HeaderValue::from_static(match status {
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => "16",
        StatusCode::FORBIDDEN => "7",
        StatusCode::SERVICE_UNAVAILABLE => "14",
        _ => "13",
    })
}

/// The response for `err` to a request with `headers`, with an empty body,
/// before any user hook.
pub(crate) fn response(
    err: &AuthError,
    challenges: &Challenges,
    headers: &HeaderMap,
) -> Response<()> {
    let mut res = Response::new(());
    *res.status_mut() = err.status();
    let out = res.headers_mut();
    let header = err.challenge().or_else(|| challenges.get(err.kind()));
    if let Some(value) = header {
        out.insert(WWW_AUTHENTICATE, value.clone());
    }
    if let Some(nonce) = err.dpop_nonce() {
        out.insert(HeaderName::from_static("dpop-nonce"), nonce.clone());
    }
    if let Some(secs) = err.retry_after() {
        out.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(message) = challenges.grpc_message(err.kind(), headers) {
        out.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        out.insert(
            HeaderName::from_static("grpc-status"),
            grpc_status(err.status()),
        );
        out.insert(HeaderName::from_static("grpc-message"), message.clone());
        *res.status_mut() = StatusCode::OK;
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
        let c = Challenges::new("api", true).unwrap();
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
        assert!(Challenges::new("a\", error=\"x", true).is_err());
        assert!(Challenges::new("a\r\nSet-Cookie: x", true).is_err());
        assert!(Challenges::new("", true).is_err());
        let c = Challenges::new("api", true).unwrap();
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
