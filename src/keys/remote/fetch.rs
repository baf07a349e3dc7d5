//! Fetching a JWK Set over HTTP with every size and time bounded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::{ACCEPT, AGE, CACHE_CONTROL};
use reqwest::Url;

use super::credentials::FetchHeaders;
use super::{JwksError, JwksErrorKind};
use crate::error::{BuildError, BuildErrorKind};

/// A fetched document and the lifetime its server gave it.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) body: String,
    /// `Cache-Control: max-age` minus `Age`, if the server sent one.
    pub(crate) max_age: Option<Duration>,
}

/// A boxed fetch future.
pub(crate) type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Fetched, JwksError>> + Send + 'a>>;

/// Something that fetches a key set document (HTTP, or a fake in tests).
pub(crate) trait Fetch: Send + Sync + 'static {
    fn fetch(&self) -> FetchFuture<'_>;
}

/// HTTP limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpLimits {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_body: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            max_body: 256 * 1024,
        }
    }
}

/// Checks that `url` is https, or plain http to a loopback host.
pub(crate) use crate::jose::url::https_or_loopback as check_url;

/// A URL fit for logs: scheme, host, port and path; no userinfo, query or
/// fragment (they may carry secrets).
pub(crate) fn log_label(url: &Url) -> String {
    let mut label = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        label.push_str(&format!(":{port}"));
    }
    label.push_str(url.path());
    label
}

/// The client used when the user passes none: no redirects, bounded times.
pub(crate) fn default_client(limits: HttpLimits) -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.timeout)
        .user_agent(concat!("jwt-layer/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            BuildError::with_source(BuildErrorKind::Platform, "cannot build the HTTP client", e)
        })
}

/// Fetches one URL.
pub(crate) struct HttpFetcher {
    client: reqwest::Client,
    url: Url,
    limits: HttpLimits,
    headers: Option<Arc<dyn FetchHeaders>>,
}

impl std::fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpFetcher")
            .field("url", &log_label(&self.url))
            .field("authenticated", &self.headers.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpFetcher {
    pub(crate) fn new(
        client: reqwest::Client,
        url: Url,
        limits: HttpLimits,
        headers: Option<Arc<dyn FetchHeaders>>,
    ) -> Self {
        Self {
            client,
            url,
            limits,
            headers,
        }
    }

    /// The request for `url`, with the configured headers when `url` has
    /// the configured URL's origin (a `jwks_uri` that discovery names on
    /// another host never receives the credentials). The headers are asked
    /// for on a blocking thread (a token file is read there).
    async fn request(&self, url: &Url) -> Result<reqwest::RequestBuilder, JwksError> {
        let request = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json");
        let Some(source) = self
            .headers
            .clone()
            .filter(|_| url.origin() == self.url.origin())
        else {
            return Ok(request);
        };
        let credentials = |why: String| JwksError::new(JwksErrorKind::Credentials, why);
        let mut headers = tokio::task::spawn_blocking(move || source.headers())
            .await
            .map_err(|_| credentials("the fetch headers could not be had".into()))?
            .map_err(credentials)?;
        for value in headers.values_mut() {
            value.set_sensitive(true);
        }
        Ok(request.headers(headers))
    }

    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// GETs the URL: status 200 only (a redirect is a failure), body read
    /// up to the limit and no further, the whole exchange under a deadline.
    pub(crate) async fn get(&self, url: &Url) -> Result<Fetched, JwksError> {
        let exchange = async {
            let mut res = self
                .request(url)
                .await?
                .send()
                .await
                .map_err(|e| transport("request failed", &e))?;
            if res.url() != url {
                // A client of the user's that follows redirects: the answer
                // came from elsewhere.
                return Err(JwksError::new(
                    JwksErrorKind::Redirected,
                    "redirected: redirects are not followed",
                ));
            }
            let status = res.status();
            if status != reqwest::StatusCode::OK {
                return Err(JwksError::new(
                    JwksErrorKind::Status,
                    format!("unexpected status {}", status.as_u16()),
                ));
            }
            let max = self.limits.max_body;
            if res.content_length().is_some_and(|len| len > max as u64) {
                return Err(JwksError::new(
                    JwksErrorKind::TooLarge,
                    format!("body larger than {max} bytes"),
                ));
            }
            let max_age = lifetime(res.headers());
            let mut body = Vec::new();
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| transport("reading body failed", &e))?
            {
                if body.len() + chunk.len() > max {
                    return Err(JwksError::new(
                        JwksErrorKind::TooLarge,
                        format!("body larger than {max} bytes"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            let body = String::from_utf8(body)
                .map_err(|_| JwksError::new(JwksErrorKind::Malformed, "body is not UTF-8"))?;
            Ok(Fetched { body, max_age })
        };
        tokio::time::timeout(self.limits.timeout, exchange)
            .await
            .map_err(|_| {
                JwksError::new(
                    JwksErrorKind::Timeout,
                    format!("no complete answer within {:?}", self.limits.timeout),
                )
            })?
    }
}

impl Fetch for HttpFetcher {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(self.get(&self.url))
    }
}

/// A reqwest error without its URL (which may carry query secrets).
fn short(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_body() || e.is_decode() {
        "bad body"
    } else {
        "transport error"
    };
    kind.to_owned()
}

/// `Cache-Control: max-age` minus `Age`. `no-store`/`no-cache` count as 0
/// (the cache floor then applies); no header is `None` (the default applies).
pub(crate) fn lifetime(headers: &HeaderMap) -> Option<Duration> {
    let mut max_age: Option<u64> = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, arg) = match directive.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("max-age") {
                if let Some(secs) = arg.and_then(|a| a.parse::<u64>().ok()) {
                    max_age = Some(max_age.map_or(secs, |m| m.min(secs)));
                }
            } else if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache")
            {
                max_age = Some(0);
            }
        }
    }
    let age = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    max_age.map(|m| Duration::from_secs(m.saturating_sub(age)))
}

/// A transport failure: a timeout (the client's own) or another request
/// error.
fn transport(what: &str, e: &reqwest::Error) -> JwksError {
    let kind = if e.is_timeout() {
        JwksErrorKind::Timeout
    } else {
        JwksErrorKind::Request
    };
    JwksError::new(kind, format!("{what}: {}", short(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn cache_control_lifetime() {
        assert_eq!(lifetime(&headers(&[])), None);
        assert_eq!(
            lifetime(&headers(&[(
                "cache-control",
                "public, max-age=19851, must-revalidate"
            )])),
            Some(Duration::from_secs(19851))
        );
        assert_eq!(
            lifetime(&headers(&[
                ("cache-control", "max-age=600"),
                ("age", "100")
            ])),
            Some(Duration::from_secs(500))
        );
        assert_eq!(
            lifetime(&headers(&[("cache-control", "max-age=60"), ("age", "100")])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            lifetime(&headers(&[("cache-control", "no-store")])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            lifetime(&headers(&[("cache-control", "MAX-AGE=\"30\"")])),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            lifetime(&headers(&[("cache-control", "max-age=abc")])),
            None
        );
    }

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_url("https://www.googleapis.com/oauth2/v3/certs").is_ok());
        assert!(check_url("http://127.0.0.1:8080/jwks.json").is_ok());
        assert!(check_url("http://[::1]:8080/jwks.json").is_ok());
        assert!(check_url("http://localhost/jwks.json").is_ok());
        assert!(check_url("http://example.com/jwks.json").is_err());
        assert!(check_url("http://10.0.0.1/jwks.json").is_err());
        assert!(check_url("ftp://example.com/jwks.json").is_err());
        assert!(check_url("not a url").is_err());
    }
}
