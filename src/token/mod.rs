//! Where the token comes from: the `Authorization: Bearer` header
//! ([RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)), a
//! cookie, a header of its own, a WebSocket subprotocol
//! ([`SubprotocolToken`]), the `access_token` query parameter of a
//! WebSocket upgrade ([`QueryToken`], opt-in), a custom function, or an
//! ordered chain of them.
//!
//! A source answers `Ok(None)` when it finds no credentials (the request then
//! counts as unauthenticated), `Ok(Some(token))` when it finds one, and
//! `Err` with [`AuthErrorKind::InvalidRequest`] when the request is malformed
//! (400). Sources never look inside the token; that is the verifier's job.
//!
//! ```
//! use jwt_layer::token::{BearerHeader, CookieToken, TokenSource};
//! use http::HeaderMap;
//!
//! let source = BearerHeader::new().or(CookieToken::new("session"));
//! let mut headers = HeaderMap::new();
//! headers.insert("cookie", "theme=dark; session=abc.def.ghi".parse().unwrap());
//! let uri = "/".parse().unwrap();
//! assert_eq!(source.extract(&headers, &uri).unwrap().as_deref(), Some("abc.def.ghi"));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, Uri};

use crate::error::{AuthError, AuthErrorKind};

mod query;
mod subprotocol;

pub use query::QueryToken;
pub use subprotocol::SubprotocolToken;

/// What a [`TokenSource`] found.
pub type Extracted<'a> = Result<Option<Cow<'a, str>>, AuthError>;

/// A place a request may carry its token.
pub trait TokenSource: Clone + Send + Sync + 'static {
    /// Looks for the token in the request head.
    ///
    /// # Errors
    ///
    /// An [`AuthErrorKind::InvalidRequest`] error when the request is
    /// malformed (for example several `Authorization` headers).
    fn extract<'a>(&self, headers: &'a HeaderMap, uri: &'a Uri) -> Extracted<'a>;

    /// Called once the request is let through with a token, before the
    /// inner service sees it: the source may take its token out of the
    /// request (so handlers and their logs never see it) and name a header
    /// the response must carry. The default leaves the request alone.
    fn accepted<B>(&self, request: &mut http::Request<B>) -> Option<ResponseHeader> {
        let _ = request;
        None
    }

    /// Tries `self`, then `other`. When both find a token and the tokens
    /// differ, the request is malformed (400).
    fn or<U: TokenSource>(self, other: U) -> Chain<Self, U>
    where
        Self: Sized,
    {
        Chain {
            first: self,
            second: other,
        }
    }
}

fn invalid_request() -> AuthError {
    AuthError::new(AuthErrorKind::InvalidRequest)
}

/// A header a [`TokenSource`] asks the response to carry: set when the
/// inner service's response lacks it (the service's own choice wins).
/// [`SubprotocolToken`] uses it to echo the subprotocol a browser needs.
#[derive(Clone, Debug)]
pub struct ResponseHeader {
    name: HeaderName,
    value: HeaderValue,
}

impl ResponseHeader {
    /// `name: value`, unless the response sets `name` itself.
    pub fn new(name: HeaderName, value: HeaderValue) -> Self {
        Self { name, value }
    }

    /// Sets the header on `res` unless present.
    pub(crate) fn apply<B>(self, res: &mut Response<B>) {
        if let http::header::Entry::Vacant(slot) = res.headers_mut().entry(self.name) {
            slot.insert(self.value);
        }
    }

    /// The inner service's answer, with `add` applied to a response.
    pub(crate) fn added<B, E>(
        add: Option<Self>,
        answer: Result<Response<B>, E>,
    ) -> Result<Response<B>, E> {
        answer.map(|mut res| {
            if let Some(add) = add {
                add.apply(&mut res);
            }
            res
        })
    }
}

/// The `Authorization: Bearer <token>` header.
///
/// The scheme is matched case-insensitively (RFC 9110 §11.1) and may be
/// followed by one or more spaces. Other schemes (`Basic …`) count as no
/// credentials. Several `Authorization` headers, empty credentials, or two
/// tokens in one header make the request malformed.
#[derive(Clone, Copy, Debug, Default)]
pub struct BearerHeader {
    _priv: (),
}

impl BearerHeader {
    /// The standard bearer header source.
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenSource for BearerHeader {
    fn extract<'a>(&self, headers: &'a HeaderMap, _uri: &'a Uri) -> Extracted<'a> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(invalid_request());
        }
        // One pass over the token, which is most of the header: visible
        // ASCII without blanks, checked branch-free so the compiler
        // vectorizes it. The rest of the value is the scheme and blanks.
        let bytes = value.as_bytes();
        let trimmed = trim_blanks(bytes);
        let (scheme, rest) = match find_space(trimmed) {
            Some(i) => trimmed.split_at(i),
            None => (trimmed, &[][..]),
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            // Not our scheme; a value `HeaderValue::to_str` refuses (control
            // bytes, obs-text) is malformed whatever its scheme.
            let visible = bytes.iter().fold(true, |ok, &b| {
                ok & ((b.wrapping_sub(32) < 95) | (b == b'\t'))
            });
            return if visible {
                Ok(None)
            } else {
                Err(invalid_request())
            };
        }
        let token = trim_leading_spaces(rest);
        let clean = token
            .iter()
            .fold(true, |ok, &b| ok & (b.wrapping_sub(33) < 94));
        if token.is_empty() || !clean {
            return Err(invalid_request());
        }
        let token = simdutf8::basic::from_utf8(token).map_err(|_| invalid_request())?;
        Ok(Some(Cow::Borrowed(token)))
    }
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// `bytes` without leading spaces.
fn trim_leading_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != b' ').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The position of the first space.
fn find_space(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b' ')
}

/// A named cookie, such as an `HttpOnly` session cookie holding the JWT.
///
/// The cookie may appear in any `Cookie` header; the same name twice with
/// different values makes the request malformed. A value in double quotes is
/// unquoted.
#[derive(Clone, Debug)]
pub struct CookieToken {
    name: Arc<str>,
}

impl CookieToken {
    /// Reads the token from the cookie called `name`.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self { name: name.into() }
    }
}

impl TokenSource for CookieToken {
    fn extract<'a>(&self, headers: &'a HeaderMap, _uri: &'a Uri) -> Extracted<'a> {
        let mut found: Option<&'a str> = None;
        for header in headers.get_all(COOKIE) {
            // A Cookie header that is not visible ASCII cannot hold our cookie
            // in a usable form; skip it rather than failing other cookies.
            let Ok(header) = header.to_str() else {
                continue;
            };
            for pair in header.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                if name.trim() != &*self.name {
                    continue;
                }
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                match found {
                    Some(prev) if prev != value => return Err(invalid_request()),
                    _ => found = Some(value),
                }
            }
        }
        match found {
            Some("") => Err(invalid_request()),
            other => Ok(other.map(Cow::Borrowed)),
        }
    }
}

/// A named header whose whole value is the token, such as Google IAP's
/// `x-goog-iap-jwt-assertion`. Several such headers, or an empty one, make
/// the request malformed; a value that is not visible ASCII too.
#[derive(Clone, Debug)]
pub struct HeaderToken {
    name: http::HeaderName,
}

impl HeaderToken {
    /// Reads the token from the header `name`.
    pub fn new(name: http::HeaderName) -> Self {
        Self { name }
    }

    /// Like [`new`](Self::new), for a name known at compile time.
    ///
    /// # Panics
    ///
    /// `name` is not a valid header name (a programming error, like
    /// [`http::HeaderName::from_static`]).
    pub fn from_static(name: &'static str) -> Self {
        Self::new(http::HeaderName::from_static(name))
    }
}

impl TokenSource for HeaderToken {
    fn extract<'a>(&self, headers: &'a HeaderMap, _uri: &'a Uri) -> Extracted<'a> {
        let mut values = headers.get_all(&self.name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(invalid_request());
        }
        match value.to_str().map(str::trim) {
            Ok("") | Err(_) => Err(invalid_request()),
            Ok(token) => Ok(Some(Cow::Borrowed(token))),
        }
    }
}

/// A token source from a function, for places the crate does not know
/// (a custom header, a query parameter of a WebSocket upgrade, …).
///
/// ```
/// use jwt_layer::token::{Extracted, FnSource, TokenSource};
/// use std::borrow::Cow;
///
/// fn api_token<'a>(headers: &'a http::HeaderMap, _uri: &'a http::Uri) -> Extracted<'a> {
///     Ok(headers.get("x-api-token").and_then(|v| v.to_str().ok()).map(Cow::Borrowed))
/// }
/// let source = FnSource::new(api_token);
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-api-token", "a.b.c".parse().unwrap());
/// let uri = "/".parse().unwrap();
/// assert_eq!(source.extract(&headers, &uri).unwrap().as_deref(), Some("a.b.c"));
/// ```
#[derive(Clone)]
pub struct FnSource<F> {
    f: F,
}

impl<F> FnSource<F> {
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F> fmt::Debug for FnSource<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSource").finish_non_exhaustive()
    }
}

impl<F> TokenSource for FnSource<F>
where
    F: for<'a> Fn(&'a HeaderMap, &'a Uri) -> Extracted<'a> + Clone + Send + Sync + 'static,
{
    fn extract<'a>(&self, headers: &'a HeaderMap, uri: &'a Uri) -> Extracted<'a> {
        (self.f)(headers, uri)
    }
}

/// Two sources tried in order; built with [`TokenSource::or`].
#[derive(Clone, Debug)]
pub struct Chain<A, B> {
    first: A,
    second: B,
}

impl<A: TokenSource, B: TokenSource> TokenSource for Chain<A, B> {
    fn extract<'a>(&self, headers: &'a HeaderMap, uri: &'a Uri) -> Extracted<'a> {
        let first = self.first.extract(headers, uri)?;
        let second = self.second.extract(headers, uri)?;
        match (first, second) {
            (Some(a), Some(b)) if a != b => Err(invalid_request()),
            (Some(a), _) => Ok(Some(a)),
            (None, b) => Ok(b),
        }
    }

    /// Both sources take their token out; the first's response header wins.
    fn accepted<R>(&self, request: &mut http::Request<R>) -> Option<ResponseHeader> {
        let first = self.first.accepted(request);
        let second = self.second.accepted(request);
        first.or(second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    /// The straightforward reading of one `Authorization` value that the
    /// single-pass extraction must match.
    fn reference(value: &HeaderValue) -> Result<Option<String>, AuthErrorKind> {
        let s = value.to_str().map_err(|_| AuthErrorKind::InvalidRequest)?;
        let s = s.trim_matches(|c| c == ' ' || c == '\t');
        let (scheme, rest) = match s.find(' ') {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let token = rest.trim_start_matches(' ');
        if token.is_empty() || token.contains([' ', '\t']) {
            return Err(AuthErrorKind::InvalidRequest);
        }
        Ok(Some(token.to_owned()))
    }

    proptest! {
        #[test]
        fn bearer_extraction_matches_the_reference(
            prefix in prop::sample::select(vec!["", "Bearer ", "bEaReR  ", " \tBearer ", "Basic ", "Bearer\t"]),
            body in prop::collection::vec(
                prop::sample::select(vec![
                    b' ', b'\t', b'B', b'e', b'a', b'r', b'R', b'x', b'.', b'-', b'_', b'!', b'~',
                    0x80, 0xc3, 0xa9, 0xff,
                ]),
                0..24,
            ),
        ) {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend(body);
            // Values a `HeaderValue` cannot hold cannot reach a source.
            let Ok(value) = HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value.clone());
            let uri = Uri::from_static("/");
            let ours = BearerHeader::new()
                .extract(&headers, &uri)
                .map(|t| t.map(Cow::into_owned))
                .map_err(|e| e.kind());
            prop_assert_eq!(ours, reference(&value), "value {:?}", value);
        }
    }

    fn bearer(values: &[&str]) -> Result<Option<String>, AuthErrorKind> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, v.parse().unwrap());
        }
        let uri = Uri::from_static("/");
        BearerHeader::new()
            .extract(&headers, &uri)
            .map(|t| t.map(Cow::into_owned))
            .map_err(|e| e.kind())
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER a.b.c",
            "bEaReR   a.b.c",
        ] {
            assert_eq!(bearer(&[v]), Ok(Some("a.b.c".into())), "{v}");
        }
    }

    #[test]
    fn bearer_malformed_requests() {
        assert_eq!(bearer(&["Bearer"]), Err(AuthErrorKind::InvalidRequest));
        assert_eq!(bearer(&["Bearer "]), Err(AuthErrorKind::InvalidRequest));
        assert_eq!(bearer(&["Bearer a b"]), Err(AuthErrorKind::InvalidRequest));
        assert_eq!(
            bearer(&["Bearer a", "Bearer a"]),
            Err(AuthErrorKind::InvalidRequest)
        );
        assert_eq!(bearer(&[]), Ok(None));
        assert_eq!(bearer(&["Basic dXNlcjpwdw=="]), Ok(None));
        assert_eq!(bearer(&["Bearerx a.b.c"]), Ok(None));
    }

    #[test]
    fn cookie_and_chain() {
        let uri = Uri::from_static("/");
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=1; jwt=\"x.y.z\"".parse().unwrap());
        let c = CookieToken::new("jwt");
        assert_eq!(c.extract(&headers, &uri).unwrap().as_deref(), Some("x.y.z"));
        headers.append(COOKIE, "jwt=other".parse().unwrap());
        assert_eq!(
            c.extract(&headers, &uri).unwrap_err().kind(),
            AuthErrorKind::InvalidRequest
        );

        let chain = BearerHeader::new().or(CookieToken::new("jwt"));
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer x.y.z".parse().unwrap());
        headers.insert(COOKIE, "jwt=x.y.z".parse().unwrap());
        assert_eq!(
            chain.extract(&headers, &uri).unwrap().as_deref(),
            Some("x.y.z")
        );
        headers.insert(COOKIE, "jwt=q.r.s".parse().unwrap());
        assert_eq!(
            chain.extract(&headers, &uri).unwrap_err().kind(),
            AuthErrorKind::InvalidRequest
        );
    }
}
