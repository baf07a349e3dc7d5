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
