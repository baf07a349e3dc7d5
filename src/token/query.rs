//! [`QueryToken`]: the `access_token` query parameter
//! ([RFC 6750 §2.3](https://www.rfc-editor.org/rfc/rfc6750#section-2.3)),
//! opt-in and by default for WebSocket upgrades only.

use std::borrow::Cow;
use std::sync::Arc;

use http::header::UPGRADE;
use http::uri::PathAndQuery;
use http::{HeaderMap, Uri};

use super::{Extracted, ResponseHeader, TokenSource, invalid_request};

/// The token in a query parameter, `?access_token=<token>` by default.
///
/// RFC 6750 §2.3 discourages it: URLs end up in proxy, server and browser
/// logs. It exists for clients that cannot set a header; so this source is
/// never on unless added, reads only WebSocket upgrade requests (`Upgrade:
/// websocket`; HTTP/2 WebSockets, an extended `CONNECT`, carry no such
/// header and need `on_all_requests`) unless [`on_all_requests`](Self::on_all_requests) says
/// otherwise, and, once the token is accepted, takes the parameter out of
/// the URI the inner service sees. jwt-layer never logs a URI; put any
/// request-logging layer inside this one, or make it drop queries.
///
/// The parameter twice, or empty, makes the request malformed (400).
///
/// ```
/// use jwt_layer::token::{BearerHeader, QueryToken, TokenSource};
///
/// let source = BearerHeader::new().or(QueryToken::new());
/// let mut headers = http::HeaderMap::new();
/// headers.insert("upgrade", "websocket".parse().unwrap());
/// let uri = "/ws?room=1&access_token=a.b.c".parse().unwrap();
/// assert_eq!(source.extract(&headers, &uri).unwrap().as_deref(), Some("a.b.c"));
/// ```
#[derive(Clone, Debug)]
pub struct QueryToken {
    name: Arc<str>,
    all_requests: bool,
}

impl Default for QueryToken {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryToken {
    /// Reads `access_token` from the query of WebSocket upgrades.
    pub fn new() -> Self {
        Self {
            name: Arc::from("access_token"),
            all_requests: false,
        }
    }

    /// Reads the parameter `name` instead.
    #[must_use]
    pub fn param(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Reads the parameter on every request, not only WebSocket upgrades
    /// (server-sent events, a download link).
    #[must_use]
    pub fn on_all_requests(mut self) -> Self {
        self.all_requests = true;
        self
    }

    fn applies(&self, headers: &HeaderMap) -> bool {
        self.all_requests
            || headers
                .get_all(UPGRADE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|protocol| protocol.trim().eq_ignore_ascii_case("websocket"))
    }
}

impl TokenSource for QueryToken {
    fn extract<'a>(&self, headers: &'a HeaderMap, uri: &'a Uri) -> Extracted<'a> {
        let Some(query) = uri.query().filter(|_| self.applies(headers)) else {
            return Ok(None);
        };
        let mut found: Option<Cow<'a, str>> = None;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if *name != *self.name {
                continue;
            }
            if found.is_some() || value.is_empty() {
                return Err(invalid_request());
            }
            found = Some(value);
        }
        Ok(found)
    }

    fn accepted<B>(&self, request: &mut http::Request<B>) -> Option<ResponseHeader> {
        if !self.applies(request.headers()) {
            return None;
        }
        let uri = request.uri_mut();
        let query = uri.query()?;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
                form_urlencoded::parse(name.as_bytes())
                    .next()
                    .is_none_or(|(n, _)| *n != *self.name)
            })
            .collect();
        // Nothing to take out (the token came from elsewhere): the URI
        // stays as it is, unbuilt.
        if kept.len() == query.split('&').count() {
            return None;
        }
        let path_and_query = match kept.is_empty() {
            true => uri.path().to_owned(),
            false => format!("{}?{}", uri.path(), kept.join("&")),
        };
        // Pieces of a URI that parsed make one that parses; if not, the
        // URI stays as it was.
        if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(stripped) = Uri::from_parts(parts) {
                *uri = stripped;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AuthErrorKind;

    fn upgrade() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(UPGRADE, "WebSocket".parse().unwrap());
        headers
    }

    fn found(
        source: &QueryToken,
        headers: &HeaderMap,
        uri: &str,
    ) -> Result<Option<String>, AuthErrorKind> {
        let uri: Uri = uri.parse().unwrap();
        source
            .extract(headers, &uri)
            .map(|t| t.map(Cow::into_owned))
            .map_err(|e| e.kind())
    }

    #[test]
    fn upgrades_only_unless_asked() {
        let source = QueryToken::new();
        let uri = "/ws?access_token=a.b.c";
        assert_eq!(found(&source, &upgrade(), uri), Ok(Some("a.b.c".into())));
        assert_eq!(found(&source, &HeaderMap::new(), uri), Ok(None));
        let everywhere = QueryToken::new().on_all_requests();
        assert_eq!(
            found(&everywhere, &HeaderMap::new(), uri),
            Ok(Some("a.b.c".into()))
        );
        let named = QueryToken::new().param("t");
        assert_eq!(
            found(&named, &upgrade(), "/ws?t=x.y.z&access_token=a"),
            Ok(Some("x.y.z".into()))
        );
    }

    #[test]
    fn twice_or_empty_is_malformed() {
        let source = QueryToken::new();
        let bad = Err(AuthErrorKind::InvalidRequest);
        assert_eq!(
            found(&source, &upgrade(), "/ws?access_token=a&access_token=a"),
            bad
        );
        assert_eq!(found(&source, &upgrade(), "/ws?access_token="), bad);
        assert_eq!(found(&source, &upgrade(), "/ws?other=1"), Ok(None));
        assert_eq!(
            found(&source, &upgrade(), "/ws?access%5Ftoken=a.b%2Ec"),
            Ok(Some("a.b.c".into()))
        );
    }

    #[test]
    fn acceptance_takes_the_parameter_out_of_the_uri() {
        let source = QueryToken::new();
        for (before, after) in [
            ("/ws?room=1&access_token=a.b.c&x=2", "/ws?room=1&x=2"),
            ("/ws?access_token=a.b.c", "/ws"),
            ("/ws?access%5Ftoken=a.b.c&x", "/ws?x"),
            ("http://h/ws?access_token=a", "http://h/ws"),
            ("/ws?room=1&x=%41", "/ws?room=1&x=%41"),
        ] {
            let mut req = http::Request::new(());
            *req.headers_mut() = upgrade();
            *req.uri_mut() = before.parse().unwrap();
            assert!(source.accepted(&mut req).is_none());
            assert_eq!(*req.uri(), after, "{before}");
        }
    }
}
