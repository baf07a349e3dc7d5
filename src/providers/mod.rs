//! Presets for well-known identity providers: each returns the ordinary
//! builder with that provider's issuer, key location and claim rules filled
//! in, so you can add your own rules to it. Every fixed URL can be
//! overridden (sovereign clouds, emulators, tests); plain `http://` stays
//! allowed only for loopback hosts.
//!
//! | provider | preset | tokens |
//! |---|---|---|
//! | Google (Sign in with Google) | [`google::id_tokens`] | ID tokens |
//! | Auth0 | [`auth0::Auth0`] | access tokens (Auth0 and RFC 9068 profiles) |
//! | Okta | [`okta::Okta`] | custom authorization server access tokens |
//! | Keycloak | [`keycloak::Keycloak`] | realm access tokens |
//! | Microsoft Entra ID | [`entra::Entra`] | v1 and v2 access tokens, one tenant or several |
//! | AWS Cognito | [`cognito::Cognito`] | access or ID tokens of a user pool |
//! | Firebase Auth | [`firebase::Firebase`] | ID tokens, or session cookies |
//! | Sign in with Apple | [`apple::Apple`] | ID tokens |
//! | Clerk | [`clerk::Clerk`] | session tokens (header or `__session` cookie) |
//! | Supabase | [`supabase::Supabase`] | access tokens (ES256 keys, legacy HS256 secret) |
//! | Zitadel | [`zitadel::Zitadel`] | access tokens |
//! | Kubernetes | [`kubernetes::Kubernetes`] | service-account tokens |
//! | Google Cloud IAP | [`google_iap::GoogleIap`] | `x-goog-iap-jwt-assertion` |
//!
//! A preset is configuration over the general machinery (key sources,
//! issuers and templates, audiences and audience claims, `claim_equals` /
//! `claim_in`, role claims, token sources, hints); see `ARCHITECTURE.md`,
//! "Adding an identity-provider preset". `jwt_layer::google` is an alias of
//! [`google`], kept for code written before this module was public.

#![cfg(feature = "remote-jwks")]

pub mod apple;
pub mod auth0;
pub mod clerk;
pub mod cognito;
pub mod entra;
pub mod firebase;
pub mod google;
pub mod google_iap;
pub mod keycloak;
pub mod kubernetes;
pub mod okta;
pub mod supabase;
pub mod zitadel;

/// `https://<host>` for a bare host name, or the URL as given; without a
/// trailing slash.
pub(crate) fn base_url(host_or_url: &str) -> String {
    let text = host_or_url.trim().trim_end_matches('/');
    if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    }
}

/// Makes `builder` fail at `build()` when `values` is empty: a preset whose
/// allow-list is empty would admit every token of the provider.
pub(crate) fn require_some<C, T, R>(
    builder: crate::JwtAuthBuilder<C, T, R>,
    values: &[String],
    what: &str,
) -> crate::JwtAuthBuilder<C, T, R> {
    if values.iter().any(|v| !v.is_empty()) {
        return builder;
    }
    builder.fail_with(crate::BuildError::new(
        crate::BuildErrorKind::InvalidSetting,
        format!("the preset needs at least one {what}"),
    ))
}

/// `text` as one JSON Pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_segment(text: &str) -> String {
    text.replace('~', "~0").replace('/', "~1")
}

/// Reads `true`, `false`, `"true"` or `"false"` (Apple and older Google
/// tokens send some booleans as strings).
pub(crate) fn bool_or_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<bool>, D::Error> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        None => None,
        Some(B::Bool(b)) => Some(b),
        Some(B::Str(s)) => Some(s == "true"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_and_pointer_segments() {
        assert_eq!(base_url("dev-1.us.auth0.com"), "https://dev-1.us.auth0.com");
        assert_eq!(
            base_url("https://login.example.com/"),
            "https://login.example.com"
        );
        assert_eq!(base_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(pointer_segment("a/b~c"), "a~1b~0c");
    }
}
