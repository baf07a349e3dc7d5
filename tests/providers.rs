//! Every identity-provider preset against an in-process fake of that
//! provider on 127.0.0.1 (the test kit's server: its discovery document,
//! key format and token shapes as the provider documents them): a good
//! token answers 200, the preset's trap is handled, a token of the wrong
//! kind, audience, issuer, tenant or place gets its exact 401/403, and a
//! new signing key is picked up with one fetch.
#![cfg(all(feature = "test-util", feature = "axum", feature = "tracing"))]

mod common;

use axum::Router;
use common::capture::{captured, logs};
use common::*;
use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwt_layer::providers::{
    apple::{Apple, AppleClaims},
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
use jwt_layer::testing::JwksServer;
use serde_json::{Value, json};

const EC_SHORT_X_PRIVATE: &[u8] = include_bytes!("data/ec256-short-x-private.pk8.pem");
const EC_SHORT_X_PUBLIC: &str = include_str!("data/ec256-short-x-public.pem");

/// A fake provider: the test kit's server, publishing the ES256 fixture key
/// as `k1` at `keys_path` (and, after [`rotate`](Self::rotate), a second
/// ES256 key `k2`).
struct Fake {
    server: JwksServer,
    keys_path: String,
}

fn ec_jwk(public_pem: &str, kid: &str, with_alg: bool) -> Value {
    let key = DecodingKey::from_ec_pem(public_pem.as_bytes()).unwrap();
    let mut jwk: Value =
        serde_json::from_str(&jwk_json(&key, Algorithm::ES256, Some(kid))).unwrap();
    if !with_alg {
        // Entra's keys carry no `alg`.
        jwk.as_object_mut().unwrap().remove("alg");
    }
    jwk
}

impl Fake {
    async fn start(keys_path: &str) -> Self {
        let fake = Self {
            server: JwksServer::start().await.unwrap(),
            keys_path: keys_path.to_owned(),
        };
        fake.publish(vec![ec_jwk(EC256_PUBLIC_PEM, "k1", true)]);
        fake
    }

    fn base(&self) -> String {
        self.server.base_url()
    }

    fn publish(&self, keys: Vec<Value>) {
        let body = json!({ "keys": keys }).to_string();
        self.server
            .set_document(&self.keys_path, "application/json", body);
    }

    /// Serves an OpenID discovery document for `issuer` (at its
    /// `/.well-known/openid-configuration`) naming the keys path.
    fn discovery(&self, issuer: &str) {
        let path = issuer
            .trim_end_matches('/')
            .strip_prefix(&self.base())
            .unwrap();
        let document = json!({
            "issuer": issuer,
            "jwks_uri": format!("{}{}", self.base(), self.keys_path),
        });
        self.server.set_document(
            &format!("{path}/.well-known/openid-configuration"),
            "application/json",
            document.to_string(),
        );
    }

    /// An ES256 token signed with `k1`.
    fn token(&self, claims: &Value) -> String {
        sign(Algorithm::ES256, Some("k1"), claims, &ec256_signer())
    }

    /// Publishes `k2` beside `k1` (as `alg`-less JWKs when `with_alg` is
    /// false); returns a `k2` token for `claims` and checks, through `app`,
    /// that it is accepted with exactly one more request to the provider.
    async fn rotate(&self, app: &Router, hits: &Hits, claims: &Value, with_alg: bool) {
        self.publish(vec![
            ec_jwk(EC256_PUBLIC_PEM, "k1", with_alg),
            ec_jwk(EC_SHORT_X_PUBLIC, "k2", with_alg),
        ]);
        let signer = EncodingKey::from_ec_pem(EC_SHORT_X_PRIVATE).unwrap();
        let token = sign(Algorithm::ES256, Some("k2"), claims, &signer);
        let before = self.server.total_requests();
        assert_ok(app, hits, bearer(&token)).await;
        assert_eq!(
            self.server.total_requests(),
            before + 1,
            "one fetch for the new key"
        );
    }
}

/// Registered claims for `iss` and `aud` (a string or an array), valid now.
fn base_claims(iss: &str, aud: Value) -> Value {
    let now = now();
    json!({"sub": "alice", "iss": iss, "aud": aud, "iat": now, "exp": now + 300})
}

/// A 403 whose challenge is `insufficient_scope` (a role or scope missing).
async fn assert_forbidden(app: &Router, hits: &Hits, token: &str) {
    let before = hits.count();
    let res = send(app, bearer(token)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let www = challenge(&res).unwrap_or_default().to_owned();
    assert!(www.contains(r#"error="insufficient_scope""#), "{www}");
    assert_eq!(hits.count(), before);
}

#[tokio::test]
async fn auth0_domain_without_slash_both_profiles_permissions_as_roles() {
    let fake = Fake::start("/.well-known/jwks.json").await;
    let api = "https://api.example.com";
    // The user types the domain without the trailing slash; Auth0's `iss`
    // has it.
    let preset = Auth0::new(fake.base(), api);
    let issuer = preset.issuer();
    assert!(issuer.ends_with('/'));
    fake.discovery(&issuer);
    let layer = preset
        .builder::<TestClaims>()
        .require_role("read:reports")
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let good = base_claims(&issuer, json!([api, format!("{issuer}userinfo")]));
    let good = changed(
        &good,
        json!({"scope": "openid read", "permissions": ["read:reports"]}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    // The RFC 9068 profile: `typ: at+jwt`, `client_id`.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".into());
    header.typ = Some("at+jwt".into());
    let rfc9068 = changed(&good, json!({"client_id": "abc"}));
    let token = jsonwebtoken::encode(&header, &rfc9068, &ec256_signer()).unwrap();
    assert_ok(&app, &hits, bearer(&token)).await;
    // `iss` without the slash is another issuer; an ID token's `aud` is the
    // client id; no permission is a 403.
    let no_slash = changed(&good, json!({"iss": fake.base()}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&no_slash)),
        "invalid issuer",
    )
    .await;
    let id_token = changed(&good, json!({"aud": "client-id-123"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&id_token)),
        "invalid audience",
    )
    .await;
    let no_permission = changed(&good, json!({"permissions": []}));
    assert_forbidden(&app, &hits, &fake.token(&no_permission)).await;
    fake.rotate(&app, &hits, &good, true).await;
}

#[tokio::test]
async fn okta_custom_server_cid_allowlist_and_the_org_server_hint() {
    logs();
    let fake = Fake::start("/oauth2/default/v1/keys").await;
    let issuer = format!("{}/oauth2/default", fake.base());
    fake.discovery(&issuer);
    let layer = Okta::new(&issuer)
        .client_ids(["0oa-client-a"])
        .groups_claim("groups")
        .builder::<TestClaims>()
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let good = changed(
        &base_claims(&issuer, json!("api://default")),
        json!({"cid": "0oa-client-a", "scp": ["read"], "groups": ["Everyone"]}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    // A new signing key first (an unknown kid below spends the refetch).
    fake.rotate(&app, &hits, &good, true).await;
    let other_client = changed(&good, json!({"cid": "0oa-client-b"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_client)),
        "token not accepted",
    )
    .await;
    let other_audience = changed(&good, json!({"aud": "api://other"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_audience)),
        "invalid audience",
    )
    .await;
    // A token of the org authorization server: signed by the org's keys,
    // which the custom server's set does not hold. Refused, with a hint.
    let org = changed(&good, json!({"iss": fake.base()}));
    let org_token = sign(Algorithm::RS256, Some("org-key"), &org, &rsa_signer());
    assert_invalid_token(&app, &hits, bearer(&org_token), "unknown signing key").await;
    assert!(
        captured().contains("Okta org authorization server"),
        "the hint is logged"
    );
}

#[tokio::test]
async fn keycloak_azp_bearer_typ_roles_enc_keys_and_host_aliases() {
    let fake = Fake::start("/realms/acme/protocol/openid-connect/certs").await;
    let realm = format!("{}/realms/acme", fake.base());
    fake.discovery(&realm);
    // The realm's set also holds an encryption key (skipped for its `use`).
    let mut enc = ec_jwk(EC_SHORT_X_PUBLIC, "enc-1", true);
    enc["use"] = json!("enc");
    fake.publish(vec![ec_jwk(EC256_PUBLIC_PEM, "k1", true), enc]);
    let port = fake.base().rsplit(':').next().unwrap().to_owned();
    let alias = format!("http://localhost:{port}");
    let layer = Keycloak::new(&realm, "orders-api")
        .issuer_alias(&alias)
        .builder::<TestClaims>()
        .require_role("admin")
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let good = changed(
        &base_claims(&realm, json!("account")),
        json!({
            "azp": "orders-api",
            "typ": "Bearer",
            "realm_access": {"roles": ["user"]},
            "resource_access": {"orders-api": {"roles": ["admin"]}},
        }),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    // A new signing key first (an unknown kid below spends the refetch).
    fake.rotate(&app, &hits, &good, true).await;
    // The same token minted on the internal host name.
    let internal = changed(&good, json!({"iss": format!("{alias}/realms/acme")}));
    assert_ok(&app, &hits, bearer(&fake.token(&internal))).await;
    let refresh = changed(&good, json!({"typ": "Refresh"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&refresh)),
        "token not accepted",
    )
    .await;
    let other_client = changed(&good, json!({"azp": "other-app"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_client)),
        "invalid audience",
    )
    .await;
    let user_only = changed(
        &good,
        json!({"resource_access": {"orders-api": {"roles": []}}}),
    );
    assert_forbidden(&app, &hits, &fake.token(&user_only)).await;
    let enc_token = sign(Algorithm::ES256, Some("enc-1"), &good, &ec256_signer());
    assert_invalid_token(&app, &hits, bearer(&enc_token), "unknown signing key").await;
}

const TENANT_A: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TENANT_B: &str = "a1b2c3d4-0000-4000-8000-000000000002";
const CLIENT: &str = "8f3c5d2a-0000-4000-8000-000000000001";

#[tokio::test]
async fn entra_multi_tenant_v1_and_v2_keys_without_alg_and_the_graph_hint() {
    logs();
    let fake = Fake::start("/organizations/discovery/v2.0/keys").await;
    fake.publish(vec![ec_jwk(EC256_PUBLIC_PEM, "k1", false)]);
    let layer = Entra::new("organizations", CLIENT)
        .allowed_tenants([TENANT_A])
        .authority(fake.base())
        .v1_issuer_host(fake.base())
        .builder::<TestClaims>()
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let v2 = changed(
        &base_claims(&format!("{}/{TENANT_A}/v2.0", fake.base()), json!(CLIENT)),
        json!({"tid": TENANT_A, "ver": "2.0", "azp": "client-app", "scp": "read", "roles": ["Reader"]}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&v2))).await;
    let v1 = changed(
        &base_claims(
            &format!("{}/{TENANT_A}/", fake.base()),
            json!(format!("api://{CLIENT}")),
        ),
        json!({"tid": TENANT_A, "ver": "1.0", "appid": "client-app"}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&v1))).await;
    // An ID token of the same app registration: same `aud`, no `azp`.
    let id_token = changed(&v2, json!({"azp": null, "nonce": "n"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&id_token)),
        "token not accepted",
    )
    .await;
    let other_tenant = changed(
        &v2,
        json!({"tid": TENANT_B, "iss": format!("{}/{TENANT_B}/v2.0", fake.base())}),
    );
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_tenant)),
        "invalid issuer",
    )
    .await;
    let other_app = changed(&v2, json!({"aud": "00000000-0000-0000-0000-000000000000"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_app)),
        "invalid audience",
    )
    .await;
    // A Graph token: a `nonce` in the header, a signature no key verifies.
    let graph_header =
        b64(json!({"alg": "ES256", "kid": "k1", "typ": "JWT", "nonce": "abc"}).to_string());
    let graph = format!("{graph_header}.{}.{}", b64(v2.to_string()), b64([7u8; 64]));
    assert_invalid_token(&app, &hits, bearer(&graph), "invalid signature").await;
    assert!(
        captured().contains("Microsoft Graph token"),
        "the hint is logged"
    );
    fake.rotate(&app, &hits, &v2, false).await;
    // Multi-tenant without an allow-list is a build error.
    assert!(
        Entra::new("common", CLIENT)
            .builder::<TestClaims>()
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn cognito_access_tokens_without_aud_and_id_tokens_with_it() {
    let pool = "eu-west-1_Pool1";
    let fake = Fake::start(&format!("/{pool}/.well-known/jwks.json")).await;
    let preset = Cognito::new(pool, ["client-1"]).endpoint(fake.base());
    let issuer = preset.issuer();
    assert_eq!(issuer, format!("{}/{pool}", fake.base()));
    let (app, hits) = router(preset.clone().builder::<TestClaims>().build().unwrap());
    // Access tokens have no `aud`.
    let access = changed(
        &base_claims(&issuer, Value::Null),
        json!({"aud": null, "token_use": "access", "client_id": "client-1", "scope": "read", "cognito:groups": ["admins"]}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&access))).await;
    let wrong_client = changed(&access, json!({"client_id": "client-9"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&wrong_client)),
        "token not accepted",
    )
    .await;
    let id_token = changed(
        &base_claims(&issuer, json!("client-1")),
        json!({"token_use": "id"}),
    );
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&id_token)),
        "token not accepted",
    )
    .await;
    // Configured for ID tokens: `aud` is the client (an access token has none).
    let (ids, id_hits) = router(
        preset
            .token_use(TokenUse::Id)
            .builder::<TestClaims>()
            .build()
            .unwrap(),
    );
    assert_ok(&ids, &id_hits, bearer(&fake.token(&id_token))).await;
    assert_invalid_token(
        &ids,
        &id_hits,
        bearer(&fake.token(&access)),
        "invalid audience",
    )
    .await;
    fake.rotate(&app, &hits, &access, true).await;
    assert!(
        Cognito::new(pool, Vec::<String>::new())
            .builder::<TestClaims>()
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn firebase_id_tokens_and_session_cookies_from_their_certificate_maps() {
    let id_key = Certified::new(Algorithm::RS256);
    let cookie_key = Certified::new(Algorithm::RS256);
    let id_keys = JwksServer::start().await.unwrap();
    let cookie_keys = JwksServer::start().await.unwrap();
    id_keys.set_certificate_map([("id-kid", id_key.pem.as_str())]);
    cookie_keys.set_certificate_map([("cookie-kid", cookie_key.pem.as_str())]);
    let project = "my-project";
    let now = now();
    let id_claims = json!({
        "iss": format!("https://securetoken.google.com/{project}"), "aud": project,
        "sub": "uid-1", "auth_time": now - 60, "iat": now, "exp": now + 300,
    });
    let (app, hits) = router(
        Firebase::new(project)
            .keys_url(id_keys.url())
            .id_tokens::<TestClaims>()
            .build()
            .unwrap(),
    );
    let id_token = sign(Algorithm::RS256, Some("id-kid"), &id_claims, &id_key.signer);
    assert_ok(&app, &hits, bearer(&id_token)).await;
    for (case, changes) in [
        ("auth_time in the future", json!({"auth_time": now + 3600})),
        ("no auth_time", json!({"auth_time": null})),
        ("empty sub", json!({"sub": ""})),
        ("sub over 128 characters", json!({"sub": "x".repeat(129)})),
    ] {
        let token = sign(
            Algorithm::RS256,
            Some("id-kid"),
            &changed(&id_claims, changes),
            &id_key.signer,
        );
        let want = invalid_token("token not accepted");
        assert_rejected_case(
            case,
            &app,
            &hits,
            bearer(&token),
            StatusCode::UNAUTHORIZED,
            Some(&want),
        )
        .await;
    }
    // Session cookies: the other issuer, the other map, the cookie.
    let cookie_layer = Firebase::new(project)
        .keys_url(cookie_keys.url())
        .session_cookies::<TestClaims>("session")
        .build()
        .unwrap();
    let (cookies, cookie_hits) = router(cookie_layer);
    let session_claims = changed(
        &id_claims,
        json!({"iss": format!("https://session.firebase.google.com/{project}")}),
    );
    let session = sign(
        Algorithm::RS256,
        Some("cookie-kid"),
        &session_claims,
        &cookie_key.signer,
    );
    assert_ok(
        &cookies,
        &cookie_hits,
        cookie(&format!("session={session}")),
    )
    .await;
    // An ID token is no session cookie (its key is in the other map), and
    // a session cookie sent as a bearer token is not where this API looks.
    let id_as_cookie = cookie(&format!("session={id_token}"));
    assert_invalid_token(&cookies, &cookie_hits, id_as_cookie, "unknown signing key").await;
    assert_rejected(
        &cookies,
        &cookie_hits,
        bearer(&session),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
    // Rotation of the ID-token map, one fetch.
    let next = Certified::new(Algorithm::RS256);
    id_keys.set_certificate_map([("id-kid", id_key.pem.as_str()), ("next", next.pem.as_str())]);
    let before = id_keys.request_count();
    let token = sign(Algorithm::RS256, Some("next"), &id_claims, &next.signer);
    assert_ok(&app, &hits, bearer(&token)).await;
    assert_eq!(id_keys.request_count(), before + 1);
}

#[tokio::test]
async fn apple_several_client_ids_and_string_booleans() {
    let fake = Fake::start("/auth/keys").await;
    let keys_url = format!("{}/auth/keys", fake.base());
    let apple = || Apple::new(["com.example.app", "com.example.web"]).keys_url(&keys_url);
    let (app, hits) = router(apple().builder::<TestClaims>().build().unwrap());
    let good = changed(
        &base_claims(
            jwt_layer::providers::apple::ISSUER,
            json!("com.example.web"),
        ),
        json!({"email": "x@privaterelay.appleid.com", "email_verified": "true", "is_private_email": true}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    let verifier = apple().builder::<AppleClaims>().build().unwrap();
    let claims = verifier
        .verifier()
        .verify(&fake.token(&good))
        .await
        .unwrap();
    assert_eq!(claims.email_verified, Some(true), "\"true\" read as true");
    assert_eq!(claims.is_private_email, Some(true));
    let other_app = changed(&good, json!({"aud": "com.other.app"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_app)),
        "invalid audience",
    )
    .await;
    let other_issuer = changed(&good, json!({"iss": "https://appleid.example"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_issuer)),
        "invalid issuer",
    )
    .await;
    fake.rotate(&app, &hits, &good, true).await;
    assert!(
        Apple::new(Vec::<String>::new())
            .builder::<TestClaims>()
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn clerk_authorized_parties_header_or_session_cookie() {
    let fake = Fake::start("/.well-known/jwks.json").await;
    let layer = Clerk::new(fake.base(), ["https://app.example.com"])
        .builder::<TestClaims>()
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let now = now();
    let good = json!({
        "iss": fake.base(), "sub": "user_2x", "azp": "https://app.example.com",
        "sid": "sess_1", "iat": now, "nbf": now - 5, "exp": now + 60,
    });
    let token = fake.token(&good);
    assert_ok(&app, &hits, bearer(&token)).await;
    assert_ok(&app, &hits, cookie(&format!("__session={token}"))).await;
    let other_party = changed(&good, json!({"azp": "https://evil.example"}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_party)),
        "token not accepted",
    )
    .await;
    let no_party = changed(&good, json!({"azp": null}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&no_party)),
        "token not accepted",
    )
    .await;
    fake.rotate(&app, &hits, &good, true).await;
}

#[tokio::test]
async fn supabase_es256_keys_and_the_legacy_secret_together() {
    let fake = Fake::start("/auth/v1/.well-known/jwks.json").await;
    let layer = Supabase::new(fake.base())
        .legacy_secret(SECRET)
        .builder::<TestClaims>()
        .require_role("authenticated")
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let issuer = format!("{}/auth/v1", fake.base());
    let good = changed(
        &base_claims(&issuer, json!("authenticated")),
        json!({"role": "authenticated", "aal": "aal1"}),
    );
    // A legacy HS256 token: no fetch at all.
    assert_ok(&app, &hits, bearer(&hs256_with(SECRET, None, &good))).await;
    assert_eq!(fake.server.total_requests(), 0);
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    let anon = changed(&good, json!({"aud": "anon"}));
    assert_invalid_token(&app, &hits, bearer(&fake.token(&anon)), "invalid audience").await;
    let anon_role = changed(&good, json!({"role": "anon"}));
    assert_forbidden(&app, &hits, &fake.token(&anon_role)).await;
    let other_secret = hs256_with(OTHER_SECRET, None, &good);
    assert_invalid_token(&app, &hits, bearer(&other_secret), "invalid signature").await;
    // Without the legacy secret, HS256 tokens are refused before any lookup.
    let (strict, strict_hits) = router(
        Supabase::new(fake.base())
            .builder::<TestClaims>()
            .build()
            .unwrap(),
    );
    let legacy = hs256_with(SECRET, None, &good);
    assert_invalid_token(
        &strict,
        &strict_hits,
        bearer(&legacy),
        "algorithm not allowed",
    )
    .await;
    fake.rotate(&app, &hits, &good, true).await;
}

#[tokio::test]
async fn zitadel_project_audience_and_role_object_keys() {
    let fake = Fake::start("/oauth/v2/keys").await;
    fake.discovery(&fake.base());
    let layer = Zitadel::new(fake.base(), "216410245612347392")
        .client_ids(["216410245612351234@app"])
        .builder::<TestClaims>()
        .require_role("admin")
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let good = changed(
        &base_claims(
            &fake.base(),
            json!(["216410245612347392", "216410245612351234@app"]),
        ),
        json!({"urn:zitadel:iam:org:project:roles": {"admin": {"2164": "acme.zitadel.cloud"}}}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    let other_project = changed(&good, json!({"aud": ["9999"]}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_project)),
        "invalid audience",
    )
    .await;
    let viewer = changed(
        &good,
        json!({"urn:zitadel:iam:org:project:roles": {"viewer": {}}}),
    );
    assert_forbidden(&app, &hits, &fake.token(&viewer)).await;
    fake.rotate(&app, &hits, &good, true).await;
}

#[tokio::test]
async fn kubernetes_service_accounts_with_an_authenticated_key_fetch() {
    let fake = Fake::start("/openid/v1/jwks").await;
    let dir = TempDir::new("k8s");
    let token_file = dir.path("token");
    std::fs::write(&token_file, "pod-token\n").unwrap();
    fake.server.require_bearer(Some("pod-token"));
    let issuer = "https://kubernetes.default.svc.cluster.local";
    let layer = Kubernetes::new(issuer, "orders-api")
        .keys_url(format!("{}/openid/v1/jwks", fake.base()))
        .token_file(&token_file)
        .allow_service_account("billing", "invoicer")
        .builder::<TestClaims>()
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let good = changed(
        &base_claims(issuer, json!(["orders-api"])),
        json!({"sub": "system:serviceaccount:billing:invoicer"}),
    );
    assert_ok(&app, &hits, bearer(&fake.token(&good))).await;
    let other_account = changed(
        &good,
        json!({"sub": "system:serviceaccount:default:default"}),
    );
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_account)),
        "token not accepted",
    )
    .await;
    let other_audience = changed(&good, json!({"aud": ["https://kubernetes.default.svc"]}));
    assert_invalid_token(
        &app,
        &hits,
        bearer(&fake.token(&other_audience)),
        "invalid audience",
    )
    .await;
    fake.rotate(&app, &hits, &good, true).await;
}

#[tokio::test]
async fn google_iap_header_es256_only() {
    let fake = Fake::start("/iap/verify/public_key-jwk").await;
    let audience = "/projects/123456789/global/backendServices/987654321";
    let layer = GoogleIap::new(audience)
        .keys_url(format!("{}/iap/verify/public_key-jwk", fake.base()))
        .builder::<TestClaims>()
        .build()
        .unwrap();
    let (app, hits) = router(layer);
    let good = changed(
        &base_claims(jwt_layer::providers::google_iap::ISSUER, json!(audience)),
        json!({"email": "alice@example.com", "hd": "example.com"}),
    );
    let token = fake.token(&good);
    let iap = |token: &str| {
        http::Request::get("/")
            .header("x-goog-iap-jwt-assertion", token)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_ok(&app, &hits, iap(&token)).await;
    // Not in the Authorization header: IAP puts it in its own.
    assert_rejected(
        &app,
        &hits,
        bearer(&token),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
    let other_backend = changed(&good, json!({"aud": "/projects/1/apps/other"}));
    assert_invalid_token(
        &app,
        &hits,
        iap(&fake.token(&other_backend)),
        "invalid audience",
    )
    .await;
    // Even a key of the set that is RSA cannot verify: the preset allows
    // ES256 only.
    fake.publish(vec![
        ec_jwk(EC256_PUBLIC_PEM, "k1", true),
        serde_json::from_str(&rsa_jwk("rs")).unwrap(),
    ]);
    let rs256 = sign(Algorithm::RS256, Some("rs"), &good, &rsa_signer());
    assert_invalid_token(&app, &hits, iap(&rs256), "algorithm not allowed").await;
    // Rotation, with the token in IAP's header.
    fake.publish(vec![
        ec_jwk(EC256_PUBLIC_PEM, "k1", true),
        ec_jwk(EC_SHORT_X_PUBLIC, "k2", true),
    ]);
    let signer = EncodingKey::from_ec_pem(EC_SHORT_X_PRIVATE).unwrap();
    let before = fake.server.total_requests();
    assert_ok(
        &app,
        &hits,
        iap(&sign(Algorithm::ES256, Some("k2"), &good, &signer)),
    )
    .await;
    assert_eq!(fake.server.total_requests(), before + 1);
}

/// Settings a preset refuses at build, and the production defaults (every
/// test above overrides the hosts).
#[test]
fn preset_build_errors_and_production_defaults() {
    let build = |b: jwt_layer::JwtAuthBuilder<TestClaims>| b.build().is_err();
    assert!(
        build(Kubernetes::new("https://k8s", "api").builder()),
        "no allow-list"
    );
    assert!(!build(
        Kubernetes::new("https://k8s", "api")
            .allow_any_service_account()
            .builder()
    ));
    assert!(
        build(Okta::new("https://dev-1.okta.com").builder()),
        "the org server"
    );
    assert!(build(Cognito::new("nounderscore", ["c"]).builder()));
    assert!(build(
        Clerk::new("https://clerk.example.com", [""])
            .builder()
            .token_source(jwt_layer::BearerHeader::new())
    ));
    assert!(build(Entra::new("organizations", CLIENT).builder()));
    use jwt_layer::providers::{apple, entra, firebase, google_iap, kubernetes};
    let defaults = [
        (
            Cognito::new("us-east-1_AbC", ["c"]).issuer(),
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC",
        ),
        (
            Auth0::new("dev-1.us.auth0.com", "a").issuer(),
            "https://dev-1.us.auth0.com/",
        ),
        (entra::AUTHORITY.into(), "https://login.microsoftonline.com"),
        (entra::V1_ISSUER_HOST.into(), "https://sts.windows.net"),
        (
            apple::KEYS_URL.into(),
            "https://appleid.apple.com/auth/keys",
        ),
        (
            google_iap::KEYS_URL.into(),
            "https://www.gstatic.com/iap/verify/public_key-jwk",
        ),
        (
            firebase::ID_TOKEN_KEYS_URL.into(),
            "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
        ),
        (
            firebase::SESSION_COOKIE_KEYS_URL.into(),
            "https://www.googleapis.com/identitytoolkit/v3/relyingparty/publicKeys",
        ),
        (
            kubernetes::IN_CLUSTER_KEYS_URL.into(),
            "https://kubernetes.default.svc/openid/v1/jwks",
        ),
    ];
    for (actual, expected) in defaults {
        assert_eq!(actual, expected);
    }
}
