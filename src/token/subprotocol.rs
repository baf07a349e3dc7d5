//! [`SubprotocolToken`]: the token offered as a WebSocket subprotocol, the
//! one header a browser's `new WebSocket(url, protocols)` lets a page set.

use std::borrow::Cow;

use http::header::SEC_WEBSOCKET_PROTOCOL;
use http::{HeaderMap, HeaderValue, Uri};

use super::{Extracted, ResponseHeader, TokenSource, invalid_request};
use crate::error::{BuildError, BuildErrorKind};

/// The most subprotocol entries read from one request: browsers offer a
/// handful; more is not a WebSocket client.
const MAX_ENTRIES: usize = 32;

/// The token as a WebSocket subprotocol: the client offers a marker
/// protocol and then the token, `new WebSocket(url, ["jwt", token])`, so
/// the request carries `Sec-WebSocket-Protocol: jwt, <token>`.
///
/// Once the token is accepted the layer takes the token entry out of the
/// header (the handler sees `jwt` and whatever else was offered) and, when
/// the handler's response names no subprotocol, answers with the marker:
/// a browser closes a socket whose `101` does not select one of the
/// offered protocols. A handler that selects its own (say `chat`, offered
/// beside the marker) keeps its choice.
///
/// A marker with no entry after it, or two markers, make the request
/// malformed (400). Without the marker the source finds nothing.
///
/// ```
/// use jwt_layer::token::{SubprotocolToken, TokenSource};
///
/// let source = SubprotocolToken::new("jwt")?;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("sec-websocket-protocol", "jwt, a.b.c".parse().unwrap());
/// let uri: http::Uri = "/ws".parse().unwrap();
/// assert_eq!(source.extract(&headers, &uri).unwrap().as_deref(), Some("a.b.c"));
///
/// // After acceptance the handler sees the marker only.
/// let mut request = http::Request::new(());
/// *request.headers_mut() = headers.clone();
/// source.accepted(&mut request);
/// assert_eq!(request.headers()["sec-websocket-protocol"], "jwt");
/// # Ok::<(), jwt_layer::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SubprotocolToken {
    marker: HeaderValue,
    echo: bool,
}

impl SubprotocolToken {
    /// Reads the token offered after the protocol `marker` (an RFC 9110
    /// token: letters, digits and ``!#$%&'*+-.^_`|~``).
    ///
    /// # Errors
    ///
    /// A marker that is empty, longer than 64 bytes or not a token.
    pub fn new(marker: &str) -> Result<Self, BuildError> {
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        let marker_ok = !marker.is_empty() && marker.len() <= 64 && marker.bytes().all(tchar);
        let value = HeaderValue::from_str(marker).ok().filter(|_| marker_ok);
        let marker = value.ok_or_else(|| {
            BuildError::new(
                BuildErrorKind::InvalidHeaderText,
                "a subprotocol marker must be 1 to 64 token characters",
            )
        })?;
        Ok(Self { marker, echo: true })
    }

    /// Whether the response selects the marker when the handler selected
    /// no subprotocol (default `true`; browsers need it).
    #[must_use]
    pub fn echo_marker(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    fn marker(&self) -> &[u8] {
        self.marker.as_bytes()
    }
}

/// The offered subprotocols, in order, across every header line; values
/// that are not visible ASCII are skipped (they hold no token of ours).
fn offered(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}

impl TokenSource for SubprotocolToken {
    fn extract<'a>(&self, headers: &'a HeaderMap, _uri: &'a Uri) -> Extracted<'a> {
        let mut token: Option<&'a str> = None;
        let mut after_marker = false;
        for (i, entry) in offered(headers).enumerate() {
            if i >= MAX_ENTRIES {
                return Err(invalid_request());
            }
            if after_marker {
                token = Some(entry);
                after_marker = false;
            } else if entry.as_bytes() == self.marker() {
                if token.is_some() {
                    return Err(invalid_request());
                }
                after_marker = true;
            }
        }
        if after_marker {
            return Err(invalid_request());
        }
        Ok(token.map(Cow::Borrowed))
    }

    fn accepted<B>(&self, request: &mut http::Request<B>) -> Option<ResponseHeader> {
        let headers = request.headers_mut();
        let mut kept: Vec<&str> = Vec::new();
        let mut found = false;
        let mut skip_next = false;
        for entry in offered(headers) {
            if skip_next {
                skip_next = false;
                continue;
            }
            if entry.as_bytes() == self.marker() {
                found = true;
                skip_next = true;
            }
            kept.push(entry);
        }
        if !found {
            return None;
        }
        // The kept entries were header text, so their join is too.
        let rest = HeaderValue::from_str(&kept.join(", ")).ok();
        headers.remove(SEC_WEBSOCKET_PROTOCOL);
        if let Some(rest) = rest {
            headers.insert(SEC_WEBSOCKET_PROTOCOL, rest);
        }
        self.echo
            .then(|| ResponseHeader::new(SEC_WEBSOCKET_PROTOCOL, self.marker.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AuthErrorKind;

    fn offer(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(SEC_WEBSOCKET_PROTOCOL, line.parse().unwrap());
        }
        headers
    }

    fn request(lines: &[&str]) -> http::Request<()> {
        let mut req = http::Request::new(());
        *req.headers_mut() = offer(lines);
        req
    }

    fn found(lines: &[&str]) -> Result<Option<String>, AuthErrorKind> {
        let source = SubprotocolToken::new("jwt").unwrap();
        source
            .extract(&offer(lines), &Uri::from_static("/"))
            .map(|t| t.map(Cow::into_owned))
            .map_err(|e| e.kind())
    }

    #[test]
    fn the_entry_after_the_marker_is_the_token() {
        assert_eq!(found(&["jwt, a.b.c"]), Ok(Some("a.b.c".into())));
        assert_eq!(found(&["chat,jwt,a.b.c"]), Ok(Some("a.b.c".into())));
        assert_eq!(found(&["chat, jwt", "a.b.c"]), Ok(Some("a.b.c".into())));
        assert_eq!(found(&["chat, a.b.c"]), Ok(None));
        assert_eq!(found(&[]), Ok(None));
    }

    #[test]
    fn a_marker_without_a_token_or_twice_is_malformed() {
        let bad = Err(AuthErrorKind::InvalidRequest);
        assert_eq!(found(&["chat, jwt"]), bad);
        assert_eq!(found(&["jwt, a.b.c, jwt, d.e.f"]), bad);
        assert_eq!(found(&["jwt, jwt"]), Ok(Some("jwt".into())));
        let many = vec!["x"; MAX_ENTRIES + 1].join(",");
        assert_eq!(found(&[&many]), bad);
    }

    #[test]
    fn acceptance_removes_the_token_and_echoes_the_marker() {
        let source = SubprotocolToken::new("jwt").unwrap();
        let mut req = request(&["chat, jwt", "a.b.c, v2"]);
        let echo = source.accepted(&mut req).unwrap();
        let headers = req.headers();
        assert_eq!(headers[SEC_WEBSOCKET_PROTOCOL], "chat, jwt, v2");
        assert_eq!(headers.get_all(SEC_WEBSOCKET_PROTOCOL).iter().count(), 1);
        let mut res = http::Response::new(());
        echo.clone().apply(&mut res);
        assert_eq!(res.headers()[SEC_WEBSOCKET_PROTOCOL], "jwt");
        // The handler's own choice wins.
        let mut res = http::Response::new(());
        res.headers_mut()
            .insert(SEC_WEBSOCKET_PROTOCOL, "chat".parse().unwrap());
        echo.apply(&mut res);
        assert_eq!(res.headers()[SEC_WEBSOCKET_PROTOCOL], "chat");

        let quiet = source.echo_marker(false);
        let mut req = request(&["jwt, a.b.c"]);
        assert!(quiet.accepted(&mut req).is_none());
        assert_eq!(req.headers()[SEC_WEBSOCKET_PROTOCOL], "jwt");
    }

    #[test]
    fn markers_must_be_tokens() {
        for bad in ["", "a b", "a,b", "é", &"x".repeat(65)] {
            assert!(SubprotocolToken::new(bad).is_err(), "{bad:?}");
        }
        assert!(SubprotocolToken::new("access_token.v1").is_ok());
    }
}
