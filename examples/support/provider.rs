//! `JWT_PROVIDER`: `resource_server` configured by an identity-provider
//! preset (`jwt_layer::providers`) from that provider's own variables.

use std::path::PathBuf;

use http::{HeaderMap, Uri};
use jwt_layer::providers::{
    apple::Apple,
    auth0::Auth0,
    clerk::Clerk,
    cognito::{Cognito, TokenUse},
    entra::Entra,
    firebase::Firebase,
    google_iap::GoogleIap,
    keycloak::Keycloak,
    kubernetes::Kubernetes,
    okta::Okta,
    supabase::Supabase,
    zitadel::Zitadel,
};
use jwt_layer::token::{Chain, Extracted};
use jwt_layer::{BearerHeader, CookieToken, HeaderToken, JwtAuthBuilder, TokenSource};

/// The provider variables (each also a flag).
#[derive(Debug, clap::Args)]
pub(crate) struct ProviderArgs {
    /// An identity-provider preset; replaces JWT_JWKS_URL/JWT_OIDC_ISSUER.
    #[arg(long, env = "JWT_PROVIDER", value_parser = [
        "auth0", "okta", "keycloak", "entra", "cognito", "firebase", "apple",
        "clerk", "supabase", "zitadel", "kubernetes", "google-iap",
    ])]
    pub(crate) provider: Option<String>,
    /// auth0: the tenant domain (a host, or a full URL).
    #[arg(long, env = "AUTH0_DOMAIN")]
    auth0_domain: Option<String>,
    /// okta: the custom authorization server URL.
    #[arg(long, env = "OKTA_ISSUER")]
    okta_issuer: Option<String>,
    /// okta: admitted client ids (`cid`).
    #[arg(long, env = "OKTA_CLIENT_IDS", value_delimiter = ',')]
    okta_client_ids: Vec<String>,
    /// keycloak: the realm URL.
    #[arg(long, env = "KEYCLOAK_REALM_URL")]
    keycloak_realm_url: Option<String>,
    /// keycloak: the client id (in `aud` or `azp`).
    #[arg(long, env = "KEYCLOAK_CLIENT_ID")]
    keycloak_client_id: Option<String>,
    /// keycloak: other base URLs tokens may name in `iss`.
    #[arg(long, env = "KEYCLOAK_ISSUER_ALIASES", value_delimiter = ',')]
    keycloak_issuer_aliases: Vec<String>,
    /// entra: a tenant id, or `organizations` / `common`.
    #[arg(long, env = "ENTRA_TENANT")]
    entra_tenant: Option<String>,
    /// entra: the app registration's client id.
    #[arg(long, env = "ENTRA_CLIENT_ID")]
    entra_client_id: Option<String>,
    /// entra: admitted tenants when multi-tenant (`*` for any).
    #[arg(long, env = "ENTRA_ALLOWED_TENANTS", value_delimiter = ',')]
    entra_allowed_tenants: Vec<String>,
    /// entra: the authority (default https://login.microsoftonline.com).
    #[arg(long, env = "ENTRA_AUTHORITY")]
    entra_authority: Option<String>,
    /// cognito: the user pool id.
    #[arg(long, env = "COGNITO_USER_POOL_ID")]
    cognito_user_pool_id: Option<String>,
    /// cognito: the app client ids.
    #[arg(long, env = "COGNITO_CLIENT_ID", value_delimiter = ',')]
    cognito_client_id: Vec<String>,
    /// cognito: `access` (default) or `id`.
    #[arg(long, env = "COGNITO_TOKEN_USE", default_value = "access",
          value_parser = ["access", "id"])]
    cognito_token_use: String,
    /// cognito: the service endpoint instead of AWS's.
    #[arg(long, env = "COGNITO_ENDPOINT")]
    cognito_endpoint: Option<String>,
    /// firebase: the project id.
    #[arg(long, env = "FIREBASE_PROJECT_ID")]
    firebase_project_id: Option<String>,
    /// firebase: a cookie name: session cookies instead of ID tokens.
    #[arg(long, env = "FIREBASE_SESSION_COOKIE")]
    firebase_session_cookie: Option<String>,
    /// firebase: the certificate map URL instead of Google's.
    #[arg(long, env = "FIREBASE_KEYS_URL")]
    firebase_keys_url: Option<String>,
    /// apple: bundle ids and/or services ids.
    #[arg(long, env = "APPLE_CLIENT_ID", value_delimiter = ',')]
    apple_client_id: Vec<String>,
    /// apple: the key set URL instead of Apple's.
    #[arg(long, env = "APPLE_KEYS_URL")]
    apple_keys_url: Option<String>,
    /// clerk: the Frontend API URL.
    #[arg(long, env = "CLERK_FRONTEND_API")]
    clerk_frontend_api: Option<String>,
    /// clerk: the authorized parties (origins) allowed in `azp`.
    #[arg(long, env = "CLERK_AUTHORIZED_PARTIES", value_delimiter = ',')]
    clerk_authorized_parties: Vec<String>,
    /// supabase: the project URL.
    #[arg(long, env = "SUPABASE_URL")]
    supabase_url: Option<String>,
    /// supabase: the legacy HS256 JWT secret (also accepted). Prefer the
    /// variable: a flag shows in the process list.
    #[arg(long, env = "SUPABASE_JWT_SECRET", hide_env_values = true)]
    supabase_jwt_secret: Option<super::Secret>,
    /// zitadel: the instance URL.
    #[arg(long, env = "ZITADEL_URL")]
    zitadel_url: Option<String>,
    /// zitadel: the project id (in `aud`).
    #[arg(long, env = "ZITADEL_PROJECT_ID")]
    zitadel_project_id: Option<String>,
    /// zitadel: client ids also accepted in `aud`.
    #[arg(long, env = "ZITADEL_CLIENT_IDS", value_delimiter = ',')]
    zitadel_client_ids: Vec<String>,
    /// kubernetes: the cluster's service-account issuer.
    #[arg(long, env = "K8S_ISSUER")]
    k8s_issuer: Option<String>,
    /// kubernetes: the key set URL (default the in-cluster one).
    #[arg(long, env = "K8S_JWKS_URL")]
    k8s_jwks_url: Option<String>,
    /// kubernetes: a token file sent as a bearer token with key fetches.
    #[arg(long, env = "K8S_TOKEN_FILE")]
    k8s_token_file: Option<PathBuf>,
    /// kubernetes: a CA file (PEM) for key fetches.
    #[arg(long, env = "K8S_CA_FILE")]
    k8s_ca_file: Option<PathBuf>,
    /// kubernetes: admitted service accounts, `namespace:name` (unset: any
    /// whose token names JWT_AUDIENCE).
    #[arg(long, env = "K8S_ALLOWED_SERVICE_ACCOUNTS", value_delimiter = ',')]
    k8s_allowed_service_accounts: Vec<String>,
    /// google-iap: the expected audience.
    #[arg(long, env = "IAP_AUDIENCE")]
    iap_audience: Option<String>,
    /// google-iap: the key set URL instead of Google's.
    #[arg(long, env = "IAP_KEYS_URL")]
    iap_keys_url: Option<String>,
}

/// Where a preset's token comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    Bearer(BearerHeader),
    Cookie(CookieToken),
    Header(HeaderToken),
    BearerOrCookie(Chain<BearerHeader, CookieToken>),
}

impl TokenSource for Source {
    fn extract<'a>(&self, headers: &'a HeaderMap, uri: &'a Uri) -> Extracted<'a> {
        match self {
            Self::Bearer(s) => s.extract(headers, uri),
            Self::Cookie(s) => s.extract(headers, uri),
            Self::Header(s) => s.extract(headers, uri),
            Self::BearerOrCookie(s) => s.extract(headers, uri),
        }
    }
}

/// The builder of one preset.
type Preset<C> = Result<JwtAuthBuilder<C, Source>, String>;

fn need<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("JWT_PROVIDER needs {name}"))
}

fn need_list(values: &[String], name: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = values
        .iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if list.is_empty() {
        return Err(format!("JWT_PROVIDER needs {name}"));
    }
    Ok(list)
}

impl ProviderArgs {
    /// The preset's builder, with `audiences` (`JWT_AUDIENCE`) given to a
    /// preset that takes one and added to the others.
    pub(crate) fn builder<C>(&self, audiences: &[String]) -> Preset<C> {
        let name = self.provider.as_deref().unwrap_or_default();
        let bearer = |b: JwtAuthBuilder<C>| b.map_token_source(Source::Bearer);
        let mut extra = audiences.to_vec();
        let builder = match name {
            "auth0" => {
                let audience = need_list(audiences, "JWT_AUDIENCE")?.remove(0);
                extra.retain(|a| *a != audience);
                bearer(Auth0::new(need(&self.auth0_domain, "AUTH0_DOMAIN")?, audience).builder())
            }
            "okta" => bearer(self.okta(&mut extra)?),
            "keycloak" => bearer(self.keycloak()?),
            "entra" => bearer(self.entra()?),
            "cognito" => bearer(self.cognito()?),
            "firebase" => self.firebase()?,
            "apple" => {
                let ids = need_list(&self.apple_client_id, "APPLE_CLIENT_ID")?;
                let mut apple = Apple::new(ids);
                if let Some(url) = &self.apple_keys_url {
                    apple = apple.keys_url(url);
                }
                bearer(apple.builder())
            }
            "clerk" => Clerk::new(
                need(&self.clerk_frontend_api, "CLERK_FRONTEND_API")?,
                need_list(&self.clerk_authorized_parties, "CLERK_AUTHORIZED_PARTIES")?,
            )
            .builder()
            .map_token_source(Source::BearerOrCookie),
            "supabase" => bearer(self.supabase()?),
            "zitadel" => bearer(
                Zitadel::new(
                    need(&self.zitadel_url, "ZITADEL_URL")?,
                    need(&self.zitadel_project_id, "ZITADEL_PROJECT_ID")?,
                )
                .client_ids(self.zitadel_client_ids.iter().cloned())
                .builder(),
            ),
            "kubernetes" => {
                let audience = need_list(audiences, "JWT_AUDIENCE")?.remove(0);
                extra.retain(|a| *a != audience);
                bearer(self.kubernetes(audience)?)
            }
            "google-iap" => {
                let mut iap = GoogleIap::new(need(&self.iap_audience, "IAP_AUDIENCE")?);
                if let Some(url) = &self.iap_keys_url {
                    iap = iap.keys_url(url);
                }
                iap.builder().map_token_source(Source::Header)
            }
            other => return Err(format!("unknown JWT_PROVIDER {other:?}")),
        };
        Ok(extra.into_iter().fold(builder, |b, a| b.audience(a)))
    }

    fn okta<C>(&self, audiences: &mut Vec<String>) -> Result<JwtAuthBuilder<C>, String> {
        let mut okta = Okta::new(need(&self.okta_issuer, "OKTA_ISSUER")?).client_ids(
            self.okta_client_ids
                .iter()
                .filter(|c| !c.is_empty())
                .cloned(),
        );
        if !audiences.is_empty() {
            okta = okta.audience(audiences.remove(0));
        }
        Ok(okta.builder())
    }

    fn keycloak<C>(&self) -> Result<JwtAuthBuilder<C>, String> {
        let realm = need(&self.keycloak_realm_url, "KEYCLOAK_REALM_URL")?;
        let client = need(&self.keycloak_client_id, "KEYCLOAK_CLIENT_ID")?;
        let keycloak = self
            .keycloak_issuer_aliases
            .iter()
            .filter(|a| !a.is_empty())
            .fold(Keycloak::new(realm, client), |k, a| k.issuer_alias(a));
        Ok(keycloak.builder())
    }

    fn entra<C>(&self) -> Result<JwtAuthBuilder<C>, String> {
        let mut entra = Entra::new(
            need(&self.entra_tenant, "ENTRA_TENANT")?,
            need(&self.entra_client_id, "ENTRA_CLIENT_ID")?,
        )
        .allowed_tenants(
            self.entra_allowed_tenants
                .iter()
                .filter(|t| !t.is_empty())
                .cloned(),
        );
        if let Some(authority) = &self.entra_authority {
            entra = entra.authority(authority);
        }
        Ok(entra.builder())
    }

    fn cognito<C>(&self) -> Result<JwtAuthBuilder<C>, String> {
        let use_ = match self.cognito_token_use.as_str() {
            "id" => TokenUse::Id,
            _ => TokenUse::Access,
        };
        let mut cognito = Cognito::new(
            need(&self.cognito_user_pool_id, "COGNITO_USER_POOL_ID")?,
            need_list(&self.cognito_client_id, "COGNITO_CLIENT_ID")?,
        )
        .token_use(use_);
        if let Some(endpoint) = &self.cognito_endpoint {
            cognito = cognito.endpoint(endpoint);
        }
        Ok(cognito.builder())
    }

    fn firebase<C>(&self) -> Preset<C> {
        let mut firebase = Firebase::new(need(&self.firebase_project_id, "FIREBASE_PROJECT_ID")?);
        if let Some(url) = &self.firebase_keys_url {
            firebase = firebase.keys_url(url);
        }
        Ok(match &self.firebase_session_cookie {
            Some(cookie) => firebase
                .session_cookies(cookie.as_str())
                .map_token_source(Source::Cookie),
            None => firebase.id_tokens().map_token_source(Source::Bearer),
        })
    }

    fn supabase<C>(&self) -> Result<JwtAuthBuilder<C>, String> {
        let mut supabase = Supabase::new(need(&self.supabase_url, "SUPABASE_URL")?);
        if let Some(secret) = &self.supabase_jwt_secret {
            supabase = supabase.legacy_secret(secret.0.as_bytes());
        }
        Ok(supabase.builder())
    }

    fn kubernetes<C>(&self, audience: String) -> Result<JwtAuthBuilder<C>, String> {
        let mut k8s = Kubernetes::new(need(&self.k8s_issuer, "K8S_ISSUER")?, audience);
        if let Some(url) = &self.k8s_jwks_url {
            k8s = k8s.keys_url(url);
        }
        if let Some(file) = &self.k8s_token_file {
            k8s = k8s.token_file(file);
        }
        if let Some(file) = &self.k8s_ca_file {
            let pem = std::fs::read(file).map_err(|e| format!("K8S_CA_FILE: {e}"))?;
            let ca =
                reqwest::Certificate::from_pem(&pem).map_err(|e| format!("K8S_CA_FILE: {e}"))?;
            let client = reqwest::Client::builder()
                .tls_certs_only([ca])
                .build()
                .map_err(|e| format!("K8S_CA_FILE: {e}"))?;
            k8s = k8s.client(client);
        }
        if self.k8s_allowed_service_accounts.is_empty() {
            // Unset: every service account whose token names the audience.
            return Ok(k8s.allow_any_service_account().builder());
        }
        for account in &self.k8s_allowed_service_accounts {
            let (ns, name) = account
                .trim()
                .split_once(':')
                .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
                .ok_or_else(|| {
                    format!(
                        "K8S_ALLOWED_SERVICE_ACCOUNTS entries are namespace:name, not {account:?}"
                    )
                })?;
            k8s = k8s.allow_service_account(ns, name);
        }
        Ok(k8s.builder())
    }
}
