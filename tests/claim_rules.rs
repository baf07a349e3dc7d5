//! Claim rules real identity providers need, through the real layer with
//! tokens shaped as each provider documents them: audience in other claims,
//! token kinds (`typ` header, `token_use`, Keycloak's payload `typ`), roles
//! in nested, namespaced and object claims, and custom 401 checks. Each
//! refusal is checked for its exact status and challenge.

mod common;

use axum::Router;
use common::*;
use http::StatusCode;
use jsonwebtoken::Algorithm;
use jwt_layer::{Authorize, BuildErrorKind, JwtAuth, JwtAuthBuilder, VerifiedClaims};
use serde_json::{Value, json};

const ROLE_403: &str =
    r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient role""#;

fn layer() -> JwtAuthBuilder<Value> {
    JwtAuth::<Value>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
}

/// An HS256 token with `header` (JSON text) over `claims`.
fn token_with_header(header: &str, claims: &Value) -> String {
    craft_signed(
        header,
        &claims.to_string(),
        Algorithm::HS256,
        &hmac_signer(),
    )
}

/// A route that answers with the roles the handler sees.
fn serve(auth: JwtAuthBuilder<Value>) -> (Router, Hits) {
    let hits = Hits::new();
    let counted = hits.clone();
    let route = axum::routing::get(move |claims: VerifiedClaims<Value>| {
        counted.hit();
        async move { claims.roles().collect::<Vec<_>>().join(",") }
    });
    (
        Router::new().route("/", route).layer(auth.build().unwrap()),
        hits,
    )
}

/// A route that counts its calls.
fn counted(hits: &Hits) -> axum::routing::MethodRouter {
    let hits = hits.clone();
    axum::routing::get(move |_: VerifiedClaims<Value>| {
        hits.hit();
        async { "ok" }
    })
}

fn base(changes: Value) -> Value {
    let now = now();
    let mut claims = json!({"sub": "alice", "iss": ISSUER, "iat": now, "exp": now + 300});
    merge(&mut claims, changes);
    claims
}

#[tokio::test]
async fn cognito_access_tokens_carry_the_client_in_client_id_and_id_tokens_are_refused() {
    let (app, hits) = serve(
        layer()
            .audience("client-1")
            .audience_claims(["aud", "client_id"])
            .claim_equals("token_use", "access")
            .role_claims(["cognito:groups"])
            .require_role("admins"),
    );
    let access = json!({"token_use": "access", "client_id": "client-1", "scope": "openid",
        "cognito:groups": ["admins", "staff"]});
    let body = assert_ok(&app, &hits, bearer(&hs256(&base(access.clone())))).await;
    assert_eq!(body, "admins,staff");
    // The ID token of the same client: `aud` fits, `token_use` does not.
    let id = json!({"token_use": "id", "aud": "client-1", "cognito:groups": ["admins"]});
    assert_invalid_token(&app, &hits, bearer(&hs256(&base(id))), "token not accepted").await;
    // Another app client's access token.
    let other =
        json!({"token_use": "access", "client_id": "client-2", "cognito:groups": ["admins"]});
    assert_invalid_token(
        &app,
        &hits,
        bearer(&hs256(&base(other))),
        "invalid audience",
    )
    .await;
    // A member of no required group.
    let staff =
        json!({"token_use": "access", "client_id": "client-1", "cognito:groups": ["staff"]});
    let req = bearer(&hs256(&base(staff)));
    assert_rejected(&app, &hits, req, StatusCode::FORBIDDEN, Some(ROLE_403)).await;
}

fn keycloak() -> JwtAuthBuilder<Value> {
    layer()
        .audience("my-api")
        .audience_claims(["aud", "azp"])
        .claim_equals("typ", "Bearer")
        .role_claims(["/realm_access/roles", "/resource_access/my-api/roles"])
}

#[tokio::test]
async fn keycloak_access_tokens_pass_and_id_and_refresh_tokens_do_not() {
    let (app, hits) = serve(keycloak().require_any_role(["reader", "writer"]));
    let access = json!({"typ": "Bearer", "azp": "my-api", "aud": "account",
        "realm_access": {"roles": ["offline_access"]},
        "resource_access": {"my-api": {"roles": ["reader"]}, "account": {"roles": ["x"]}}});
    let body = assert_ok(&app, &hits, bearer(&hs256(&base(access)))).await;
    assert_eq!(body, "offline_access,reader");
    for (kind, extra) in [
        ("ID", json!({"aud": "my-api"})),
        ("Refresh", json!({"azp": "my-api"})),
    ] {
        let mut claims = base(json!({"typ": kind}));
        merge(&mut claims, extra);
        assert_invalid_token(&app, &hits, bearer(&hs256(&claims)), "token not accepted").await;
    }
    // A token for another client: `account` in `aud`, another `azp`.
    let other = json!({"typ": "Bearer", "azp": "web", "aud": "account"});
    assert_invalid_token(
        &app,
        &hits,
        bearer(&hs256(&base(other))),
        "invalid audience",
    )
    .await;
    // Right token, none of the roles.
    let none = json!({"typ": "Bearer", "azp": "my-api", "realm_access": {"roles": ["x"]}});
    let req = bearer(&hs256(&base(none)));
    assert_rejected(&app, &hits, req, StatusCode::FORBIDDEN, Some(ROLE_403)).await;
}

#[tokio::test]
async fn auth0_rfc9068_access_tokens_with_permissions_and_namespaced_roles() {
    let (app, hits) = serve(
        layer()
            .audience("https://api.example")
            .require_typ(["at+jwt"])
            .role_claims(["permissions", "/https:~1~1example.com~1roles"]),
    );
    let claims = base(json!({
        "aud": ["https://api.example", "https://tenant.auth0.com/userinfo"],
        "scope": "openid read:messages",
        "permissions": ["read:messages"],
        "https://example.com/roles": ["editor"],
    }));
    for typ in [
        "at+jwt",
        "application/at+jwt",
        "AT+JWT",
        "Application/At+Jwt",
    ] {
        let header = format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#);
        let body = assert_ok(&app, &hits, bearer(&token_with_header(&header, &claims))).await;
        assert_eq!(body, "read:messages,editor", "typ {typ}");
    }
    // An ID token (`typ: JWT`) or none at all.
    for header in [
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":5}"#,
    ] {
        let token = token_with_header(header, &claims);
        assert_invalid_token(&app, &hits, bearer(&token), "token type not accepted").await;
    }
}

#[tokio::test]
async fn zitadel_roles_are_the_keys_of_an_object_and_entra_roles_an_array() {
    let zitadel = "urn:zitadel:iam:org:project:roles";
    let (app, hits) = serve(layer().audience("project-1").role_claims([zitadel]));
    let claims = base(json!({"aud": ["project-1", "client-1"],
        zitadel: {"admin": {"org-1": "example.com"}, "user": {"org-1": "example.com"}}}));
    assert_eq!(
        assert_ok(&app, &hits, bearer(&hs256(&claims))).await,
        "admin,user"
    );

    let (app, hits) = serve(
        layer()
            .audience("api://client-guid")
            .role_claims(["roles"])
            .reject_token_unless(|c: &Value| c["ver"] == "2.0"),
    );
    let v2 = base(
        json!({"aud": "api://client-guid", "ver": "2.0", "scp": "read", "roles": ["Task.Write"]}),
    );
    assert_eq!(
        assert_ok(&app, &hits, bearer(&hs256(&v2))).await,
        "Task.Write"
    );
    let v1 = base(json!({"aud": "api://client-guid", "ver": "1.0", "roles": ["Task.Write"]}));
    assert_invalid_token(&app, &hits, bearer(&hs256(&v1)), "token not accepted").await;
}

#[tokio::test]
async fn roles_per_route_with_authorize() {
    let auth = layer().audience(AUDIENCE).role_claims(["roles"]);
    let admin = Authorize::<Value>::builder().role("admin").build().unwrap();
    let either = Authorize::<Value>::builder()
        .any_role(["a", "b"])
        .build()
        .unwrap();
    let hits = Hits::new();
    let app = Router::new()
        .route("/admin", counted(&hits).layer(admin))
        .route("/either", counted(&hits).layer(either))
        .layer(auth.build().unwrap());
    let token = |roles: Value| hs256(&base(json!({"aud": AUDIENCE, "roles": roles})));
    let get = |path: &str, t: &str| {
        let auth = format!("Bearer {t}");
        let req = http::Request::get(path).header("authorization", auth);
        req.body(axum::body::Body::empty()).unwrap()
    };
    assert_eq!(
        send(&app, get("/admin", &token(json!(["admin"]))))
            .await
            .status(),
        200
    );
    assert_eq!(
        send(&app, get("/either", &token(json!("x b"))))
            .await
            .status(),
        200
    );
    for (path, roles) in [("/admin", json!(["user"])), ("/either", json!({"c": 1}))] {
        let res = send(&app, get(path, &token(roles))).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(challenge(&res), Some(ROLE_403), "{path}");
    }
    assert_eq!(hits.count(), 2);
}

#[tokio::test]
async fn a_claim_a_rule_reads_given_twice_is_refused() {
    let (app, hits) = serve(
        layer()
            .audience(AUDIENCE)
            .claim_equals("token_use", "access"),
    );
    let now = now();
    let payload = format!(
        r#"{{"sub":"a","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"token_use":"id","token_use":"access"}}"#,
        now + 300
    );
    let token = craft(r#"{"alg":"HS256"}"#, &payload);
    assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
}

#[test]
fn bad_claim_paths_are_build_errors() {
    for bad in ["", "/", "/a~2", "//x"] {
        let err = layer()
            .audience(AUDIENCE)
            .role_claims([bad])
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidValidation, "{bad:?}");
        let err = layer()
            .audience(AUDIENCE)
            .claim_equals(bad, "x")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidValidation, "{bad:?}");
    }
}

#[tokio::test]
async fn without_rules_a_token_with_odd_claims_passes_as_before() {
    let (app, hits) = serve(layer().audience(AUDIENCE));
    let claims = base(json!({"aud": AUDIENCE, "token_use": ["x"], "typ": 5, "roles": ["r"]}));
    let header = r#"{"alg":"HS256","typ":{"not":"a string"}}"#;
    let body = assert_ok(&app, &hits, bearer(&token_with_header(header, &claims))).await;
    assert_eq!(body, "", "no role claims configured: no roles");
}
