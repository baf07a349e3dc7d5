//! The `htu` a proof must name: the request's URI without query and
//! fragment, against the externally visible origin (configured, or the
//! request's own `Host`), compared after RFC 9449 §4.3's normalisation of
//! the proof's `htu` (RFC 3986 §6.2.2 and §6.2.3: scheme and host case,
//! default ports, an empty path as `/`). The request's path is taken as
//! sent, never normalised (so `/a/../b` never matches a proof for `/b`),
//! and a `Host` that is not a plain `host[:port]` matches nothing.

use http::uri::Authority;
use http::{HeaderMap, Uri};
use url::Url;

/// The normalised `scheme://host[:port]/path` of `url` (query and fragment
/// dropped), or `None` for a URL that is not absolute http(s) or carries
/// userinfo.
pub(crate) fn normalise(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.cannot_be_a_base()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    // `Url` lowercases scheme and host, drops default ports and turns an
    // empty path into `/`.
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{}://{host}{port}{}", url.scheme(), url.path()))
}

/// `scheme://host[:port]` of an origin (no path but `/`, no query),
/// normalised, without a trailing slash: the form [`matches`] takes.
pub(crate) fn origin(url: &str) -> Option<String> {
    normalise(url)?
        .strip_suffix('/')
        .filter(|o| o.matches('/').count() == 2)
        .map(str::to_owned)
}

/// Whether the proof's `htu` names this request: `public` (the configured
/// public origin, in the form [`origin`] gives) or the request's own `Host` (either scheme:
/// the layer cannot know whether TLS ended in front of it), plus the
/// request's path as sent.
pub(crate) fn matches(htu: &str, public: Option<&str>, uri: &Uri, headers: &HeaderMap) -> bool {
    let path = uri.path();
    // The common case, already in normal form: no parse needed.
    if let Some(public) = public
        && htu.strip_prefix(public) == Some(path)
    {
        return true;
    }
    let Some(htu) = normalise(htu) else {
        return false;
    };
    match public {
        Some(public) => htu.strip_prefix(public) == Some(path),
        None => {
            let Some(authority) = request_authority(uri, headers) else {
                return false;
            };
            ["http", "https"].iter().any(|scheme| {
                origin(&format!("{scheme}://{authority}"))
                    .is_some_and(|o| htu.strip_prefix(o.as_str()) == Some(path))
            })
        }
    }
}

/// The request's `host[:port]`: the URI's authority (HTTP/2) or the one
/// `Host` header, parsed strictly (no path, query, fragment or userinfo).
fn request_authority(uri: &Uri, headers: &HeaderMap) -> Option<Authority> {
    if let Some(authority) = uri.authority() {
        return Some(authority.clone()).filter(|a| !a.as_str().contains('@'));
    }
    let mut hosts = headers.get_all(http::header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return None;
    };
    let authority: Authority = host.to_str().ok()?.parse().ok()?;
    (!authority.as_str().contains('@')).then_some(authority)
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
        for bad in [
            "",
            "/token",
            "ftp://a.example/",
            "mailto:a@b",
            "not a url",
            "https://u:p@a.example/",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    fn host(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_public_origin_or_a_strict_host_and_the_raw_path() {
        let uri: Uri = "/orders/1?page=2".parse().unwrap();
        let origin = super::origin("https://api.example.com").unwrap();
        assert_eq!(origin, "https://api.example.com");
        assert_eq!(super::origin("https://api.example.com/path"), None);
        let internal = host("internal:8080");
        assert!(matches(
            "https://API.example.com/orders/1",
            Some(&origin),
            &uri,
            &internal
        ));
        assert!(!matches(
            "https://api.example.com/orders/2",
            Some(&origin),
            &uri,
            &internal
        ));
        assert!(!matches(
            "http://internal:8080/orders/1",
            Some(&origin),
            &uri,
            &internal
        ));
        // Without an origin: the Host, either scheme.
        assert!(matches(
            "http://internal:8080/orders/1",
            None,
            &uri,
            &internal
        ));
        assert!(matches(
            "https://internal:8080/orders/1",
            None,
            &uri,
            &internal
        ));
        assert!(!matches(
            "https://other:8080/orders/1",
            None,
            &uri,
            &internal
        ));
        assert!(!matches(
            "http://internal:8080/orders/1",
            None,
            &uri,
            &HeaderMap::new()
        ));
        // A Host smuggling a path or userinfo matches nothing.
        let admin: Uri = "/admin".parse().unwrap();
        for spoof in [
            "api.example/orders/1?",
            "api.example/orders/1#",
            "u@api.example",
        ] {
            assert!(
                !matches("http://api.example/orders/1", None, &admin, &host(spoof)),
                "{spoof}"
            );
        }
        // The request path is never normalised.
        let dotted: Uri = "/a/../b".parse().unwrap();
        assert!(!matches("http://internal:8080/b", None, &dotted, &internal));
    }
}
