//! The `htu` a proof must name: the request's URI without query and
//! fragment, against the externally visible origin (configured, or the
//! request's own scheme and `Host`), compared after RFC 9449 §4.3's
//! normalisation (RFC 3986 §6.2.2 and §6.2.3: scheme and host case, default
//! ports, an empty path as `/`).

use http::{HeaderMap, Uri};
use url::Url;

/// The normalised `scheme://host[:port]/path` of `url` (query and fragment
/// dropped), or `None` for a URL that is not absolute http(s).
pub(crate) fn normalise(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return None;
    }
    // `Url` lowercases scheme and host, drops default ports and turns an
    // empty path into `/`.
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{}://{host}{port}{}", url.scheme(), url.path()))
}

/// The URL the client should have signed for this request: `origin` (the
/// configured public origin) or the request's own scheme and `Host`, plus
/// the request's path.
pub(crate) fn expected(origin: Option<&str>, uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let path = uri.path();
    let base = match origin {
        Some(origin) => origin.trim_end_matches('/').to_owned(),
        None => {
            let host = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
                headers
                    .get(http::header::HOST)?
                    .to_str()
                    .ok()
                    .map(str::to_owned)
            })?;
            let scheme = uri.scheme_str().unwrap_or("http");
            format!("{scheme}://{host}")
        }
    };
    normalise(&format!("{base}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_of_rfc_9449_section_4_3() {
        let want = Some("https://server.example.com/token".to_owned());
        for url in [
            "https://server.example.com/token",
            "HTTPS://Server.Example.COM/token",
            "https://server.example.com:443/token",
            "https://server.example.com/token?x=1#frag",
        ] {
            assert_eq!(normalise(url), want, "{url}");
        }
        assert_eq!(
            normalise("http://a.example:80"),
            Some("http://a.example/".to_owned())
        );
        assert_eq!(
            normalise("http://a.example:8080/x"),
            Some("http://a.example:8080/x".to_owned())
        );
        assert_ne!(
            normalise("https://server.example.com/Token"),
            want,
            "the path is case-sensitive"
        );
        for bad in ["", "/token", "ftp://a.example/", "mailto:a@b", "not a url"] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_expected_url_uses_the_public_origin_or_the_host() {
        let uri: Uri = "/orders/1?page=2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "internal:8080".parse().unwrap());
        assert_eq!(
            expected(Some("https://api.example.com/"), &uri, &headers).as_deref(),
            Some("https://api.example.com/orders/1")
        );
        assert_eq!(
            expected(None, &uri, &headers).as_deref(),
            Some("http://internal:8080/orders/1")
        );
        assert_eq!(expected(None, &uri, &HeaderMap::new()), None);
    }
}
