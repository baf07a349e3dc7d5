//! Serving public keys over HTTP: [`JwksService`] for
//! `/.well-known/jwks.json` and [`OpenIdConfigService`] for
//! `/.well-known/openid-configuration`. Both are plain
//! [`tower_service::Service`]s that answer at once (no I/O), usable with
//! axum's `Router::route_service` or any tower stack.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use tower_service::Service;

use super::KeyRing;
use crate::error::{BuildError, BuildErrorKind};

/// How long verifiers may cache the discovery document, which does not
/// change while the issuer runs.
const DISCOVERY_MAX_AGE: u64 = 60 * 60;

/// Serves a [`KeyRing`]'s public keys as a JWK Set.
///
/// `GET` and `HEAD` get `200` with the [current set](KeyRing::jwks),
/// `Content-Type: application/jwk-set+json` (or `application/json`, see
/// [`with_json_content_type`](Self::with_json_content_type)) and
/// `Cache-Control: public, max-age=N`, where N is the ring's
/// [`cache_max_age`](KeyRing::cache_max_age): its publish-ahead delay, so a
/// verifier that honours it has refetched before a
/// [scheduled](KeyRing::schedule_rotation) key signs. Other methods get
/// `405` with `Allow: GET, HEAD`. The path is not checked: mount it where it
/// belongs. See the [module docs](super) for an example.
#[derive(Clone, Debug)]
pub struct JwksService {
    ring: KeyRing,
    content_type: HeaderValue,
}

impl JwksService {
    /// Serves `ring`'s keys.
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring,
            content_type: HeaderValue::from_static("application/jwk-set+json"),
        }
    }

    /// Answers with `Content-Type: application/json` instead of
    /// `application/jwk-set+json`, for clients that insist on it.
    #[must_use]
    pub fn with_json_content_type(mut self) -> Self {
        self.content_type = HeaderValue::from_static("application/json");
        self
    }
}

impl<B> Service<Request<B>> for JwksService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let max_age = self.ring.cache_max_age().as_secs();
        ready(Ok(respond(
            req.method(),
            &self.content_type,
            max_age,
            || Bytes::from(self.ring.jwks().to_json()),
        )))
    }
}

/// Serves a minimal OpenID Connect discovery document (`issuer` and
/// `jwks_uri`), enough for verifiers that find keys by issuer, with
/// `Cache-Control: public, max-age=3600`. Methods as for [`JwksService`].
#[derive(Clone, Debug)]
pub struct OpenIdConfigService {
    body: Bytes,
}

impl OpenIdConfigService {
    /// The document for `issuer`, with `jwks_uri` at
    /// `{issuer}/.well-known/jwks.json`.
    ///
    /// # Errors
    ///
    /// As for [`with_jwks_uri`](Self::with_jwks_uri).
    pub fn new(issuer: &str) -> Result<Self, BuildError> {
        let jwks_uri = format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'));
        Self::with_jwks_uri(issuer, &jwks_uri)
    }

    /// The document for `issuer` with the given `jwks_uri`.
    ///
    /// # Errors
    ///
    /// Either is not an absolute `https` URL (`http` only for `localhost`
    /// and loopback addresses) without query or fragment.
    pub fn with_jwks_uri(issuer: &str, jwks_uri: &str) -> Result<Self, BuildError> {
        check_url("issuer", issuer)?;
        check_url("jwks_uri", jwks_uri)?;
        let document = serde_json::json!({ "issuer": issuer, "jwks_uri": jwks_uri });
        Ok(Self {
            body: Bytes::from(document.to_string()),
        })
    }
}

/// The crate's URL rule (https, or http on loopback), and no query or
/// fragment: these URLs are published for others to build on.
fn check_url(what: &str, url: &str) -> Result<(), BuildError> {
    let parsed = crate::jose::url::https_or_loopback(url)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(BuildError::new(
            BuildErrorKind::InvalidUrl,
            format!(
                "{what} must be an https URL (http only on loopback) without query or fragment"
            ),
        ));
    }
    Ok(())
}

impl<B> Service<Request<B>> for OpenIdConfigService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(respond(
            req.method(),
            &HeaderValue::from_static("application/json"),
            DISCOVERY_MAX_AGE,
            || self.body.clone(),
        )))
    }
}

/// The answer to a request for a public document.
fn respond(
    method: &Method,
    content_type: &HeaderValue,
    max_age: u64,
    body: impl FnOnce() -> Bytes,
) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut res = Response::new(Full::new(Bytes::new()));
        *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let mut res = Response::new(Full::new(body()));
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, content_type.clone());
    // Digits and ASCII only: always a valid header value.
    if let Ok(cache) = HeaderValue::try_from(format!("public, max-age={max_age}")) {
        headers.insert(CACHE_CONTROL, cache);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls_are_checked() {
        assert!(OpenIdConfigService::new("https://auth.example").is_ok());
        assert!(OpenIdConfigService::new("http://localhost:8080").is_ok());
        assert!(OpenIdConfigService::new("http://127.0.0.1:3000/").is_ok());
        for bad in [
            "",
            "auth.example",
            "http://auth.example",
            "https://auth.example/?tenant=1",
            "https://auth.example/#x",
            "ftp://auth.example",
        ] {
            assert!(OpenIdConfigService::new(bad).is_err(), "{bad}");
        }
        assert!(OpenIdConfigService::with_jwks_uri("https://auth.example", "keys.json").is_err());
    }

    #[test]
    fn other_methods_are_refused() {
        let res = respond(
            &Method::POST,
            &HeaderValue::from_static("application/json"),
            5,
            || Bytes::from_static(b"{}"),
        );
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[ALLOW], "GET, HEAD");
        assert!(res.headers().get(CACHE_CONTROL).is_none());
    }
}
