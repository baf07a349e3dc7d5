//! The one URL rule for key sets, discovery documents and published
//! endpoints: `https`, or plain `http` to a loopback host (`localhost`,
//! `127.0.0.0/8`, `::1`) for tests and local development.

use url::{Host, Url};

use crate::error::{BuildError, BuildErrorKind};

/// Parses `url` and checks the rule.
pub(crate) fn https_or_loopback(url: &str) -> Result<Url, BuildError> {
    let parsed = Url::parse(url).map_err(|e| {
        BuildError::with_source(
            BuildErrorKind::InvalidUrl,
            format!("invalid URL `{url}`"),
            e,
        )
    })?;
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(BuildError::new(
            BuildErrorKind::InvalidUrl,
            format!("`{url}` is plain http to a non-loopback host; only loopback may skip https"),
        )),
        _ => Err(BuildError::new(
            BuildErrorKind::InvalidUrl,
            format!("`{url}` is not an https URL"),
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://idp.example/keys",
            "http://localhost:8080/k",
            "http://LOCALHOST/k",
            "http://127.0.0.1/k",
            "http://127.1.2.3/k",
            "http://[::1]:9/k",
        ] {
            assert!(https_or_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example/keys",
            "http://10.0.0.1/k",
            "ftp://idp.example/k",
            "keys.json",
            "mailto:a@idp.example",
        ] {
            let err = https_or_loopback(bad).unwrap_err();
            assert_eq!(err.kind(), BuildErrorKind::InvalidUrl, "{bad}");
        }
    }
}
