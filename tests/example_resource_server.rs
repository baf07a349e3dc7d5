//! `examples/resource_server.rs` started as a real process with environment
//! variables and driven over HTTP on 127.0.0.1, keys from the test kit's
//! JWKS server.
#![cfg(all(feature = "test-util", feature = "axum", feature = "tracing"))]

mod common;

use std::process::Command;

use common::process::{Server, example, get};
use common::*;
use jsonwebtoken::Algorithm;
use jwt_layer::testing::JwksServer;
use serde_json::{Value, json};

fn rsa_jwks() -> String {
    jwks_json(&[rsa_jwk("rs-1")])
}

/// A key server holding the RSA fixture key, and `resource_server` with
/// `JWT_JWKS_URL` pointing at it plus `envs`.
async fn start_with_keys(envs: &[(&str, String)]) -> (JwksServer, Server) {
    let jwks = JwksServer::start().await.unwrap();
    jwks.set_jwks(rsa_jwks());
    let mut all = vec![("JWT_JWKS_URL", jwks.url())];
    all.extend(envs.iter().cloned());
    let server = Server::start("resource_server", &all);
    (jwks, server)
}

fn token(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rs-1"), claims, &rsa_signer())
}

/// The example against a key server with `rs-1`, for two issuers and the
/// default audience.
async fn start_example() -> (JwksServer, Server) {
    start_with_keys(&[
        ("JWT_ISSUER", format!("https://other.example, {ISSUER}")),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
    ])
    .await
}

/// The claims of the `/me` token: extra claims and `scope` `read`.
fn read_claims() -> Value {
    claims_with(json!({"custom": {"nested": [1, 2, 3]}, "scope": "read"}))
}

#[tokio::test]
async fn resource_server_health_me_and_issuers_answer_as_specified() {
    let (_jwks, server) = start_example().await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);

    assert_eq!(
        get(&client, url("/health"), None).await,
        (200, None, "ok".into())
    );

    // /me returns the claims exactly as sent, extra claims included.
    let claims = read_claims();
    let t = token(&claims);
    let (status, _, body) = get(&client, url("/me"), Some(&t)).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), claims);

    let (status, challenge, _) = get(&client, url("/me"), None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some(MISSING)));
    let expired = token(&claims_with(json!({"exp": now() - 3600})));
    let (status, challenge, _) = get(&client, url("/me"), Some(&expired)).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.unwrap(), invalid_token("token expired"));

    // Another issuer from the list is accepted; one outside it is not.
    let other = token(&claims_with(json!({"iss": "https://other.example"})));
    assert_eq!(get(&client, url("/me"), Some(&other)).await.0, 200);
    let stranger = token(&claims_with(json!({"iss": "https://stranger.example"})));
    let (status, challenge, _) = get(&client, url("/me"), Some(&stranger)).await;
    assert_eq!(
        (status, challenge.unwrap()),
        (401, invalid_token("invalid issuer"))
    );

    assert!(server.terminate().success(), "clean exit on SIGTERM");
}

#[tokio::test]
async fn resource_server_admin_and_optional_routes_answer_as_specified() {
    let (_jwks, server) = start_example().await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let t = token(&read_claims());
    let expired = token(&claims_with(json!({"exp": now() - 3600})));

    // /admin needs scope admin (a `scope` string or an `scp` array).
    let (status, challenge, _) = get(&client, url("/admin"), Some(&t)).await;
    assert_eq!(status, 403);
    assert_eq!(challenge.unwrap(), insufficient_scope("admin"));
    for grant in [json!({"scope": "read admin"}), json!({"scp": ["admin"]})] {
        let admin = token(&claims_with(grant));
        assert_eq!(get(&client, url("/admin"), Some(&admin)).await.0, 200);
    }

    // /optional: anonymous, authenticated, or 401 for a bad token.
    let (status, _, body) = get(&client, url("/optional"), None).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"authenticated": false}))
    );
    let (status, _, body) = get(&client, url("/optional"), Some(&t)).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"authenticated": true, "sub": "alice"}))
    );
    let (status, challenge, _) = get(&client, url("/optional"), Some(&expired)).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.unwrap(), invalid_token("token expired"));

    assert!(server.terminate().success(), "clean exit on SIGTERM");
}

#[tokio::test]
async fn resource_server_discovers_keys_from_an_oidc_issuer() {
    let jwks = JwksServer::start().await.unwrap();
    jwks.set_jwks(rsa_jwks());
    let issuer = jwks.base_url();
    jwks.set_document(
        "/.well-known/openid-configuration",
        "application/json",
        json!({"issuer": issuer, "jwks_uri": jwks.url()}).to_string(),
    );
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_OIDC_ISSUER", issuer.clone()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("JWT_TOKEN_CACHE", "off".to_owned()),
        ],
    );
    let client = reqwest::Client::new();
    let t = token(&claims_with(json!({"iss": issuer})));
    assert_eq!(
        get(&client, format!("{}/me", server.base), Some(&t))
            .await
            .0,
        200
    );
    assert!(server.terminate().success());
}

#[test]
fn resource_server_refuses_incomplete_configuration() {
    for envs in [
        vec![],
        vec![
            ("JWT_JWKS_URL", "http://keys.example/jwks.json"),
            ("JWT_AUDIENCE", "a"),
        ],
        vec![("JWT_JWKS_URL", "https://keys.example/jwks.json")],
        vec![
            ("JWT_JWKS_URL", "https://k.example/j"),
            ("JWT_OIDC_ISSUER", "https://k.example"),
            ("JWT_AUDIENCE", "a"),
        ],
        vec![
            ("JWT_JWKS_URL", "https://k.example/j"),
            ("JWT_AUDIENCE", "a"),
            ("JWT_LEEWAY_SECS", "soon"),
        ],
        vec![
            ("JWT_JWKS_URL", "https://k.example/j"),
            ("JWT_AUDIENCE", "a"),
            ("JWT_HMAC_SECRET", "thirty-one bytes, one too short"),
        ],
        vec![
            ("JWT_JWKS_URL", "https://k.example/j"),
            ("JWT_AUDIENCE", "a"),
            ("JWT_KEYS_FORMAT", "x509"),
        ],
        // A preset replaces the key location; its required variables.
        vec![
            ("JWT_PROVIDER", "auth0"),
            ("AUTH0_DOMAIN", "tenant.auth0.com"),
            ("JWT_AUDIENCE", "a"),
            ("JWT_JWKS_URL", "https://k.example/j"),
        ],
        vec![("JWT_PROVIDER", "auth0"), ("JWT_AUDIENCE", "a")],
        vec![("JWT_PROVIDER", "okta")],
        vec![
            ("JWT_PROVIDER", "entra"),
            ("ENTRA_TENANT", "organizations"),
            ("ENTRA_CLIENT_ID", "c"),
        ],
        vec![("JWT_PROVIDER", "gitlab")],
    ] {
        let out = Command::new(example("resource_server"))
            .env_clear()
            .envs(envs.iter().copied())
            .env("BIND", "127.0.0.1:0")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{envs:?} must fail");
        assert!(out.stdout.is_empty(), "no ready line for {envs:?}");
        assert!(!out.stderr.is_empty());
    }
}

/// The example listens with a backlog of 1024 (tokio's default is 128, too
/// short for a burst of 1,000 connections), as `ss` reports for the
/// listening socket (its Send-Q column).
#[tokio::test]
async fn resource_server_listens_with_a_backlog_of_1024() {
    let (_keys, server) = start_with_keys(&[("JWT_ISSUER", ISSUER.to_owned())]).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let out = Command::new("ss")
        .args(["-Hltn", &format!("sport = :{port}")])
        .output()
        .expect("`ss` (Debian package iproute2) must be installed for this test");
    let text = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = text.split_whitespace().collect();
    // State, Recv-Q, Send-Q (the backlog of a listening socket), local, peer.
    assert_eq!(fields.first(), Some(&"LISTEN"), "{text:?}");
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        somaxconn > 128,
        "somaxconn {somaxconn} cannot tell 1024 from 128"
    );
    assert_eq!(fields[2], 1024.min(somaxconn).to_string(), "{text:?}");
    server.terminate();
}

/// The claim-rule variables, Keycloak-shaped: the client in `azp`, the
/// payload `typ` that marks access tokens, roles in nested claims, and the
/// `/roles/{role}` route.
#[tokio::test]
async fn resource_server_claim_rule_variables() {
    let (_keys, server) = start_with_keys(&[
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", "my-api".to_owned()),
        ("JWT_AUDIENCE_CLAIMS", "aud, azp".to_owned()),
        ("JWT_CLAIM_EQUALS", "/typ=Bearer".to_owned()),
        (
            "JWT_ROLE_CLAIMS",
            "/realm_access/roles,/resource_access/my-api/roles".to_owned(),
        ),
    ])
    .await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let access = claims_with(json!({"aud": "account", "azp": "my-api", "typ": "Bearer",
        "realm_access": {"roles": ["user"]}, "resource_access": {"my-api": {"roles": ["editor"]}}}));
    let t = token(&access);
    let (status, _, body) = get(&client, url("/me"), Some(&t)).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, access.clone())
    );
    for role in ["user", "editor"] {
        assert_eq!(
            get(&client, url(&format!("/roles/{role}")), Some(&t))
                .await
                .0,
            200
        );
    }
    let (status, challenge, _) = get(&client, url("/roles/admin"), Some(&t)).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient role""#
        )
    );
    let id = token(&claims_with(json!({"aud": "my-api", "typ": "ID"})));
    let (status, challenge, _) = get(&client, url("/me"), Some(&id)).await;
    assert_eq!(
        (status, challenge.unwrap()),
        (401, invalid_token("token not accepted"))
    );
    let other = token(&claims_with(
        json!({"aud": "account", "azp": "web", "typ": "Bearer"}),
    ));
    let (status, challenge, _) = get(&client, url("/me"), Some(&other)).await;
    assert_eq!(
        (status, challenge.unwrap()),
        (401, invalid_token("invalid audience"))
    );
    server.terminate();
}

/// `JWT_REQUIRE_TYP` and no role claims: `/roles/{role}` answers 403.
#[tokio::test]
async fn resource_server_require_typ_and_no_role_claims() {
    let (_keys, server) = start_with_keys(&[
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("JWT_REQUIRE_TYP", "at+jwt".to_owned()),
    ])
    .await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let claims = claims_with(json!({"roles": ["admin"]})).to_string();
    let at = r#"{"alg":"RS256","kid":"rs-1","typ":"application/at+jwt"}"#;
    let t = craft_signed(at, &claims, Algorithm::RS256, &rsa_signer());
    assert_eq!(get(&client, url("/me"), Some(&t)).await.0, 200);
    assert_eq!(get(&client, url("/roles/admin"), Some(&t)).await.0, 403);
    let jwt = token(&serde_json::from_str(&claims).unwrap());
    let (status, challenge, _) = get(&client, url("/me"), Some(&jwt)).await;
    assert_eq!(
        (status, challenge.unwrap()),
        (401, invalid_token("token type not accepted"))
    );
    server.terminate();
}

#[test]
fn resource_server_help_lists_every_variable() {
    let out = Command::new(example("resource_server"))
        .arg("--help")
        .env(
            "JWT_HMAC_SECRET",
            "a-secret-that-help-must-never-print-0123456789",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        !help.contains("a-secret-that-help"),
        "--help printed the secret"
    );
    for var in [
        "JWT_JWKS_URL",
        "JWT_OIDC_ISSUER",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_AUDIENCE_CLAIMS",
        "JWT_REQUIRE_TYP",
        "JWT_CLAIM_EQUALS",
        "JWT_ROLE_CLAIMS",
        "JWT_LEEWAY_SECS",
        "JWT_TOKEN_CACHE",
        "JWT_KEYS_FORMAT",
        "JWT_KEYS_CACHE_FILE",
        "JWT_KEYS_BEARER_FILE",
        "JWT_HMAC_SECRET",
        "BIND",
        "JWT_DPOP",
        "JWT_PUBLIC_URL",
        "JWT_PROVIDER",
        "AUTH0_DOMAIN",
        "OKTA_ISSUER",
        "OKTA_CLIENT_IDS",
        "KEYCLOAK_REALM_URL",
        "KEYCLOAK_CLIENT_ID",
        "KEYCLOAK_ISSUER_ALIASES",
        "ENTRA_TENANT",
        "ENTRA_CLIENT_ID",
        "ENTRA_ALLOWED_TENANTS",
        "ENTRA_AUTHORITY",
        "COGNITO_USER_POOL_ID",
        "COGNITO_CLIENT_ID",
        "COGNITO_TOKEN_USE",
        "COGNITO_ENDPOINT",
        "FIREBASE_PROJECT_ID",
        "FIREBASE_SESSION_COOKIE",
        "FIREBASE_KEYS_URL",
        "APPLE_CLIENT_ID",
        "APPLE_KEYS_URL",
        "CLERK_FRONTEND_API",
        "CLERK_AUTHORIZED_PARTIES",
        "SUPABASE_URL",
        "SUPABASE_JWT_SECRET",
        "ZITADEL_URL",
        "ZITADEL_PROJECT_ID",
        "ZITADEL_CLIENT_IDS",
        "K8S_ISSUER",
        "K8S_JWKS_URL",
        "K8S_TOKEN_FILE",
        "K8S_CA_FILE",
        "K8S_ALLOWED_SERVICE_ACCOUNTS",
        "IAP_AUDIENCE",
        "IAP_KEYS_URL",
    ] {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
}

/// Entra multi-tenant: a templated `organizations` discovery document, a
/// templated `JWT_ISSUER` with two allowed tenants, one refused.
#[tokio::test]
async fn resource_server_issuer_template_with_templated_discovery() {
    let jwks = JwksServer::start().await.unwrap();
    jwks.set_jwks(rsa_jwks());
    let base = jwks.base_url();
    let template = format!("{base}/{{tid}}/v2.0");
    let doc = json!({"issuer": format!("{base}/{{tenantid}}/v2.0"), "jwks_uri": jwks.url()});
    let path = "/organizations/v2.0/.well-known/openid-configuration";
    jwks.set_document(path, "application/json", doc.to_string());
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_OIDC_ISSUER", format!("{base}/organizations/v2.0")),
            ("JWT_ISSUER", template.clone()),
            ("JWT_ISSUER_VALUES", "tenant-a, tenant-b".to_owned()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ],
    );
    let client = reqwest::Client::new();
    let me = format!("{}/me", server.base);
    let token_for = |tid: &str| {
        token(&claims_with(
            json!({"iss": template.replace("{tid}", tid), "tid": tid}),
        ))
    };
    for tid in ["tenant-a", "tenant-b"] {
        assert_eq!(
            get(&client, me.clone(), Some(&token_for(tid))).await.0,
            200,
            "{tid}"
        );
    }
    let (status, challenge, _) = get(&client, me.clone(), Some(&token_for("tenant-c"))).await;
    assert_eq!(
        (status, challenge.unwrap()),
        (401, invalid_token("invalid issuer"))
    );
    server.terminate();
    // A template without JWT_ISSUER_VALUES is a startup error.
    let out = Command::new(example("resource_server"))
        .env_clear()
        .env("JWT_JWKS_URL", jwks.url())
        .env("JWT_ISSUER", &template)
        .env("BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success() && out.stdout.is_empty());
}

/// `JWT_KEYS_FORMAT=pem-map` with a certificate map, `JWT_KEYS_CACHE_FILE`
/// carrying a restarted server through a key server outage, and
/// `JWT_HMAC_SECRET` accepted beside the remote set.
#[tokio::test]
async fn resource_server_certificate_map_cache_file_and_hmac_secret() {
    let dir = TempDir::new("rs-cache");
    let cache_file = dir.0.join("keys.json");
    let cert = Certified::rsa_from(RSA_PRIVATE_PEM);
    let keys = JwksServer::start().await.unwrap();
    keys.set_certificate_map([("rs-1", cert.pem.as_str())]);
    let secret = String::from_utf8(SECRET.to_vec()).unwrap();
    let envs = vec![
        ("JWT_JWKS_URL", keys.url()),
        ("JWT_KEYS_FORMAT", "pem-map".to_owned()),
        ("JWT_KEYS_CACHE_FILE", cache_file.display().to_string()),
        ("JWT_HMAC_SECRET", secret),
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
    ];
    let client = reqwest::Client::new();
    let server = Server::start("resource_server", &envs);
    let me = format!("{}/me", server.base);
    assert_eq!(
        get(&client, me.clone(), Some(&token(&claims()))).await.0,
        200
    );
    assert_eq!(
        get(&client, me.clone(), Some(&hs256(&claims()))).await.0,
        200
    );
    saved_file(&cache_file, None).await;
    drop(server);

    // The key server goes down; the restarted server verifies from the file.
    keys.set_behavior(jwt_layer::testing::Behavior::Status(503));
    let server = Server::start("resource_server", &envs);
    let me = format!("{}/me", server.base);
    assert_eq!(
        get(&client, me.clone(), Some(&token(&claims()))).await.0,
        200
    );
    assert_eq!(get(&client, me, Some(&hs256(&claims()))).await.0, 200);

    // Without the file, the same outage leaves RS256 tokens unverifiable.
    std::fs::remove_file(&cache_file).unwrap();
    drop(server);
    let server = Server::start("resource_server", &envs);
    let me = format!("{}/me", server.base);
    assert_eq!(
        get(&client, me.clone(), Some(&token(&claims()))).await.0,
        503
    );
    assert_eq!(get(&client, me, Some(&hs256(&claims()))).await.0, 200);
}

/// `JWT_KEYS_BEARER_FILE`: the key set is fetched with the file's token,
/// re-read on each fetch.
#[tokio::test]
async fn resource_server_fetches_keys_with_the_bearer_file() {
    let dir = TempDir::new("rs-bearer");
    let token_file = dir.0.join("token");
    std::fs::write(&token_file, "stale-token\n").unwrap();
    let keys = JwksServer::start().await.unwrap();
    keys.set_jwks(rsa_jwks());
    keys.require_bearer(Some("sa-token"));
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_JWKS_URL", keys.url()),
            ("JWT_KEYS_BEARER_FILE", token_file.display().to_string()),
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ],
    );
    let client = reqwest::Client::new();
    let me = format!("{}/me", server.base);
    assert_eq!(
        get(&client, me.clone(), Some(&token(&claims()))).await.0,
        503
    );
    // The kubelet rotates the token; the retry (1 s backoff) reads it.
    std::fs::write(&token_file, "  sa-token\n").unwrap();
    let mut status = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = get(&client, me.clone(), Some(&token(&claims()))).await.0;
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200);
}

/// A key server for a preset: the RSA fixture `rs-1` at `keys_path`, and
/// a discovery document for `issuer` when given.
async fn provider_keys(keys_path: &str, issuer_path: Option<&str>) -> JwksServer {
    let server = JwksServer::start().await.unwrap();
    server.set_document(keys_path, "application/json", rsa_jwks());
    if let Some(path) = issuer_path {
        let issuer = format!("{}{path}", server.base_url());
        let document = json!({"issuer": issuer, "jwks_uri": server.url_for(keys_path)});
        server.set_document(
            &format!(
                "{}/.well-known/openid-configuration",
                path.trim_end_matches('/')
            ),
            "application/json",
            document.to_string(),
        );
    }
    server
}

/// Claims valid now for `iss` and `aud` (`null`: no `aud`), plus `extra`.
fn provider_claims(iss: &str, aud: Value, extra: Value) -> Value {
    let now = now();
    let mut claims = json!({"sub": "alice", "iss": iss, "aud": aud, "iat": now, "exp": now + 300});
    merge(&mut claims, extra);
    claims
}

/// Status of `GET path` with `token` as a bearer token.
async fn status(server: &Server, path: &str, claims: &Value) -> u16 {
    let client = reqwest::Client::new();
    get(
        &client,
        format!("{}{path}", server.base),
        Some(&token(claims)),
    )
    .await
    .0
}

#[tokio::test]
async fn resource_server_provider_auth0() {
    let keys = provider_keys("/keys", Some("/")).await;
    let api = "https://api.example.com";
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_PROVIDER", "auth0".to_owned()),
            ("AUTH0_DOMAIN", keys.base_url()),
            ("JWT_AUDIENCE", api.to_owned()),
        ],
    );
    let issuer = format!("{}/", keys.base_url());
    let good = provider_claims(
        &issuer,
        json!([api, format!("{issuer}userinfo")]),
        json!({"permissions": ["read:reports"]}),
    );
    assert_eq!(status(&server, "/me", &good).await, 200);
    assert_eq!(status(&server, "/roles/read:reports", &good).await, 200);
    assert_eq!(status(&server, "/roles/admin", &good).await, 403);
    let no_slash = changed(&good, json!({"iss": keys.base_url()}));
    assert_eq!(status(&server, "/me", &no_slash).await, 401);
    let id_token = changed(&good, json!({"aud": "client-id"}));
    assert_eq!(status(&server, "/me", &id_token).await, 401);
}

#[tokio::test]
async fn resource_server_provider_keycloak() {
    let keys = provider_keys(
        "/realms/acme/protocol/openid-connect/certs",
        Some("/realms/acme"),
    )
    .await;
    let realm = format!("{}/realms/acme", keys.base_url());
    let port = keys.base_url().rsplit(':').next().unwrap().to_owned();
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_PROVIDER", "keycloak".to_owned()),
            ("KEYCLOAK_REALM_URL", realm.clone()),
            ("KEYCLOAK_CLIENT_ID", "orders-api".to_owned()),
            (
                "KEYCLOAK_ISSUER_ALIASES",
                format!("http://localhost:{port}"),
            ),
        ],
    );
    let good = provider_claims(
        &realm,
        json!("account"),
        json!({"azp": "orders-api", "typ": "Bearer",
               "realm_access": {"roles": ["user"]},
               "resource_access": {"orders-api": {"roles": ["admin"]}}}),
    );
    assert_eq!(status(&server, "/me", &good).await, 200);
    assert_eq!(status(&server, "/roles/admin", &good).await, 200);
    assert_eq!(status(&server, "/roles/user", &good).await, 200);
    assert_eq!(status(&server, "/roles/owner", &good).await, 403);
    let internal = changed(
        &good,
        json!({"iss": format!("http://localhost:{port}/realms/acme")}),
    );
    assert_eq!(status(&server, "/me", &internal).await, 200);
    let mut refresh = good.clone();
    merge(&mut refresh, json!({"typ": "Refresh"}));
    assert_eq!(status(&server, "/me", &refresh).await, 401);
}

#[tokio::test]
async fn resource_server_provider_entra_multi_tenant() {
    let keys = provider_keys("/organizations/discovery/v2.0/keys", None).await;
    let (tenant_a, tenant_b) = (
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "a1b2c3d4-0000-4000-8000-000000000002",
    );
    let client_id = "8f3c5d2a-0000-4000-8000-000000000001";
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_PROVIDER", "entra".to_owned()),
            ("ENTRA_TENANT", "organizations".to_owned()),
            ("ENTRA_CLIENT_ID", client_id.to_owned()),
            ("ENTRA_ALLOWED_TENANTS", tenant_a.to_owned()),
            ("ENTRA_AUTHORITY", keys.base_url()),
        ],
    );
    let v2 = provider_claims(
        &format!("{}/{tenant_a}/v2.0", keys.base_url()),
        json!(client_id),
        json!({"tid": tenant_a, "azp": "client-app", "roles": ["Reader"]}),
    );
    assert_eq!(status(&server, "/me", &v2).await, 200);
    assert_eq!(status(&server, "/roles/Reader", &v2).await, 200);
    let v1 = provider_claims(
        &format!("https://sts.windows.net/{tenant_a}/"),
        json!(format!("api://{client_id}")),
        json!({"tid": tenant_a, "appid": "client-app"}),
    );
    assert_eq!(status(&server, "/me", &v1).await, 200);
    let other = provider_claims(
        &format!("{}/{tenant_b}/v2.0", keys.base_url()),
        json!(client_id),
        json!({"tid": tenant_b}),
    );
    assert_eq!(status(&server, "/me", &other).await, 401);
}

#[tokio::test]
async fn resource_server_provider_cognito() {
    let pool = "eu-west-1_Pool1";
    let keys = provider_keys(&format!("/{pool}/.well-known/jwks.json"), None).await;
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_PROVIDER", "cognito".to_owned()),
            ("COGNITO_USER_POOL_ID", pool.to_owned()),
            ("COGNITO_CLIENT_ID", "client-1,client-2".to_owned()),
            ("COGNITO_ENDPOINT", keys.base_url()),
        ],
    );
    let issuer = format!("{}/{pool}", keys.base_url());
    let access = provider_claims(
        &issuer,
        Value::Null,
        json!({"aud": null, "token_use": "access", "client_id": "client-2", "cognito:groups": ["admins"]}),
    );
    assert_eq!(status(&server, "/me", &access).await, 200);
    assert_eq!(status(&server, "/roles/admins", &access).await, 200);
    let other_client = changed(&access, json!({"client_id": "client-9"}));
    assert_eq!(status(&server, "/me", &other_client).await, 401);
    let id_token = changed(&access, json!({"token_use": "id", "aud": "client-1"}));
    assert_eq!(status(&server, "/me", &id_token).await, 401);
}

#[tokio::test]
async fn resource_server_provider_firebase_session_cookies() {
    let cert = Certified::rsa_from(RSA_PRIVATE_PEM);
    let keys = JwksServer::start().await.unwrap();
    keys.set_certificate_map([("rs-1", cert.pem.as_str())]);
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_PROVIDER", "firebase".to_owned()),
            ("FIREBASE_PROJECT_ID", "my-project".to_owned()),
            ("FIREBASE_SESSION_COOKIE", "session".to_owned()),
            ("FIREBASE_KEYS_URL", keys.url()),
        ],
    );
    let session = provider_claims(
        "https://session.firebase.google.com/my-project",
        json!("my-project"),
        json!({"sub": "uid-1", "auth_time": now() - 60}),
    );
    let client = reqwest::Client::new();
    let me = format!("{}/me", server.base);
    let with_cookie = |claims: &Value| {
        client
            .get(&me)
            .header("cookie", format!("theme=dark; session={}", token(claims)))
            .send()
    };
    assert_eq!(with_cookie(&session).await.unwrap().status(), 200);
    // An ID token's issuer is not a session cookie's.
    let id_token = changed(
        &session,
        json!({"iss": "https://securetoken.google.com/my-project"}),
    );
    assert_eq!(with_cookie(&id_token).await.unwrap().status(), 401);
    // The cookie is where this API looks, not the Authorization header.
    assert_eq!(status(&server, "/me", &session).await, 401);
}

/// `JWT_DPOP=required` with `JWT_PUBLIC_URL`: a DPoP-bound token with its
/// proof for the public URL passes; a bearer token is refused; a bound
/// token never passes as a bearer token (in the default mode either).
#[tokio::test]
async fn resource_server_dpop_required_with_a_public_url() {
    use jwt_layer::issue::SigningKey;
    use jwt_layer::testing::{DpopClient, TestKey};
    let client = DpopClient::new(TestKey::new(
        SigningKey::from_pem(EC256_PRIVATE_PEM).unwrap(),
    ));
    let bound = token(&claims_with(json!({"cnf": {"jkt": client.jkt()}})));
    let envs = |mode: &str| {
        vec![
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("JWT_DPOP", mode.to_owned()),
            ("JWT_PUBLIC_URL", "https://api.example.com".to_owned()),
        ]
    };
    let (_keys, server) = start_with_keys(&envs("required")).await;
    let http = reqwest::Client::new();
    let me = format!("{}/me", server.base);
    let proof = client
        .proof("GET", "https://api.example.com/me", &bound)
        .unwrap();
    let send = || {
        http.get(&me)
            .header("authorization", format!("DPoP {bound}"))
            .header("dpop", &proof)
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    // The same proof again is a replay.
    let res = send().await.unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_dpop_proof""#),
        "{challenge}"
    );
    let (status, challenge, _) = get(&http, me.clone(), Some(&token(&claims()))).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("DPoP required"));
    drop(server);
    let (_keys, server) = start_with_keys(&envs("allowed")).await;
    let (status, challenge, _) = get(&http, format!("{}/me", server.base), Some(&bound)).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("token bound to a DPoP key"));
}
