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

const V2: &str = "https://login.microsoftonline.com/{tid}/v2.0";
const V1: &str = "https://sts.windows.net/{tid}/";

fn entra(tid: &str, v1: bool) -> Value {
    let iss = if v1 { V1 } else { V2 }.replace("{tid}", tid);
    let aud = if v1 {
        "api://client-guid"
    } else {
        "client-guid"
    };
    base(json!({"iss": iss, "tid": tid, "aud": aud, "ver": if v1 { "1.0" } else { "2.0" }}))
}

#[tokio::test]
async fn entra_multi_tenant_v1_and_v2_issuers_for_two_allowed_tenants() {
    let auth = JwtAuth::<Value>::builder()
        .hmac_secret(SECRET)
        .issuer_template(V2, ["tenant-a", "tenant-b"])
        .issuer_template(V1, ["tenant-a", "tenant-b"])
        .audience("client-guid")
        .audience("api://client-guid");
    let (app, hits) = serve(auth);
    for tid in ["tenant-a", "tenant-b"] {
        for v1 in [false, true] {
            assert_ok(&app, &hits, bearer(&hs256(&entra(tid, v1)))).await;
        }
    }
    // A tenant not on the list, an `iss` naming one tenant with a `tid`
    // naming another, and a token without `tid`.
    let mut forged = entra("tenant-c", false);
    forged["tid"] = json!("tenant-a");
    let mut no_tid = entra("tenant-a", false);
    no_tid.as_object_mut().unwrap().remove("tid");
    for claims in [
        entra("tenant-c", false),
        entra("tenant-c", true),
        forged,
        no_tid,
    ] {
        assert_invalid_token(&app, &hits, bearer(&hs256(&claims)), "invalid issuer").await;
    }
}

#[tokio::test]
async fn any_tenant_only_when_asked_for() {
    let auth = layer_without_issuer()
        .issuer_template_any_value(V2)
        .audience("client-guid");
    let (app, hits) = serve(auth);
    assert_ok(&app, &hits, bearer(&hs256(&entra("whoever", false)))).await;
    let mut mismatch = entra("one", false);
    mismatch["tid"] = json!("two");
    assert_invalid_token(&app, &hits, bearer(&hs256(&mismatch)), "invalid issuer").await;
    for bad in ["https://x/{a}/{b}", "https://plain.example"] {
        let err = layer_without_issuer()
            .issuer_template(bad, ["a"])
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidValidation, "{bad}");
    }
    let none: [&str; 0] = [];
    let err = layer_without_issuer()
        .issuer_template(V2, none)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidValidation);
}

fn layer_without_issuer() -> JwtAuthBuilder<Value> {
    JwtAuth::<Value>::builder().hmac_secret(SECRET)
}

/// Entra's `organizations` discovery document names a templated issuer;
/// it is accepted because a configured template has its shape, and the
/// discovered keys verify tokens of the allowed tenants.
#[cfg(feature = "test-util")]
#[tokio::test]
async fn a_templated_discovery_document_is_accepted_by_shape() {
    use jwt_layer::keys::RemoteJwks;
    let server = jwt_layer::testing::JwksServer::start().await.unwrap();
    server.set_jwks(jwks_json(&[rsa_jwk("k1")]));
    let base = server.base_url();
    let discovery = format!("{base}/organizations/v2.0");
    let template = format!("{base}/{{tid}}/v2.0");
    let doc = json!({"issuer": format!("{base}/{{tenantid}}/v2.0"), "jwks_uri": server.url()});
    let path = "/organizations/v2.0/.well-known/openid-configuration";
    server.set_document(path, "application/json", doc.to_string());
    let keys = RemoteJwks::discover(discovery.clone()).accept_issuer_template(template.clone());
    let auth = JwtAuth::<Value>::builder()
        .key_source(keys)
        .issuer_template(template.clone(), ["tenant-a"])
        .audience(AUDIENCE);
    let (app, hits) = serve(auth);
    let claims = |tid: &str| {
        let mut c = claims_with(json!({"iss": template.replace("{tid}", tid), "tid": tid}));
        c["aud"] = json!(AUDIENCE);
        c
    };
    let good = sign(
        Algorithm::RS256,
        Some("k1"),
        &claims("tenant-a"),
        &rsa_signer(),
    );
    assert_ok(&app, &hits, bearer(&good)).await;
    let other = sign(
        Algorithm::RS256,
        Some("k1"),
        &claims("tenant-b"),
        &rsa_signer(),
    );
    assert_invalid_token(&app, &hits, bearer(&other), "invalid issuer").await;
    // Without the template, the document names another issuer: 503.
    let keys = RemoteJwks::discover(discovery).build().unwrap();
    assert_eq!(
        keys.prefetch().await.unwrap_err().kind(),
        jwt_layer::keys::JwksErrorKind::IssuerMismatch
    );
}

mod async_checks {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    type BoxError = Box<dyn std::error::Error + Send + Sync>;

    fn disabled_users(
        calls: Arc<AtomicUsize>,
    ) -> impl Fn(VerifiedClaims<Value>) -> std::future::Ready<Result<bool, BoxError>> {
        move |claims| {
            calls.fetch_add(1, Ordering::SeqCst);
            let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
            std::future::ready(match sub.as_str() {
                "broken" => Err("database down".into()),
                "mallory" => Ok(false),
                _ => Ok(true),
            })
        }
    }

    #[tokio::test]
    async fn async_checks_answer_401_403_or_503_and_run_on_cached_tokens_too() {
        let calls = Arc::new(AtomicUsize::new(0));
        let second = Arc::new(AtomicUsize::new(0));
        let auth = layer()
            .audience(AUDIENCE)
            .reject_token_unless_async(Duration::from_secs(1), disabled_users(calls.clone()))
            .require_async(Duration::from_secs(1), disabled_users(second.clone()));
        let (app, hits) = serve(auth);
        let alice = hs256(&claims());
        for _ in 0..3 {
            assert_ok(&app, &hits, bearer(&alice)).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "a cached token is checked too"
        );
        assert_eq!(
            second.load(Ordering::SeqCst),
            3,
            "both checks ran each time"
        );
        let mallory = hs256(&claims_with(json!({"sub": "mallory"})));
        assert_invalid_token(&app, &hits, bearer(&mallory), "token not accepted").await;
        let res = send(&app, bearer(&hs256(&claims_with(json!({"sub": "broken"}))))).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "1");
        assert!(challenge(&res).is_none());
        assert_eq!(hits.count(), 3);
    }

    #[tokio::test]
    async fn a_denying_require_async_is_403() {
        let auth = layer().audience(AUDIENCE).require_async(
            Duration::from_secs(1),
            |c: VerifiedClaims<Value>| async move { Ok::<_, BoxError>(c["sub"] == "alice") },
        );
        let (app, hits) = serve(auth);
        assert_ok(&app, &hits, bearer(&hs256(&claims()))).await;
        let bob = bearer(&hs256(&claims_with(json!({"sub": "bob"}))));
        let denied =
            r#"Bearer realm="api", error="insufficient_scope", error_description="access denied""#;
        assert_rejected(&app, &hits, bob, StatusCode::FORBIDDEN, Some(denied)).await;
    }

    /// A check slower than its bound answers 503, on tokio's paused clock.
    #[tokio::test(start_paused = true)]
    async fn a_check_that_runs_out_of_time_is_503() {
        let auth = layer().audience(AUDIENCE).reject_token_unless_async(
            Duration::from_secs(1),
            |_: VerifiedClaims<Value>| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, BoxError>(true)
            },
        );
        let (app, hits) = serve(auth);
        let res = send(&app, bearer(&hs256(&claims()))).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(hits.count(), 0);
    }
}

/// A template route beside an exact issuer, each with its own keys: Entra
/// tenants on one key set, another issuer on another; neither's keys
/// verify the other's tokens.
#[tokio::test]
async fn a_template_route_beside_an_exact_issuer_with_their_own_keys() {
    use jwt_layer::{Key, StaticKeys};
    let keys = |secret: &[u8]| StaticKeys::new([Key::hmac(secret).unwrap()]).unwrap();
    let auth = JwtAuth::<Value>::builder()
        .issuer_template(V2, ["tenant-a"])
        .issuer_keys(V2, keys(OTHER_SECRET))
        .issuer_keys(ISSUER, keys(SECRET))
        .audience("client-guid")
        .audience(AUDIENCE);
    let (app, hits) = serve(auth);
    let entra_token = |secret: &[u8], tid: &str| {
        let key = jsonwebtoken::EncodingKey::from_secret(secret);
        sign(Algorithm::HS256, None, &entra(tid, false), &key)
    };
    assert_ok(&app, &hits, bearer(&entra_token(OTHER_SECRET, "tenant-a"))).await;
    assert_ok(&app, &hits, bearer(&hs256(&claims()))).await;
    // The other issuer's key never verifies a token of the template's shape.
    let wrong_key = entra_token(SECRET, "tenant-a");
    assert_invalid_token(&app, &hits, bearer(&wrong_key), "invalid signature").await;
    let other_tenant = entra_token(OTHER_SECRET, "tenant-b");
    assert_invalid_token(&app, &hits, bearer(&other_tenant), "invalid issuer").await;
    // A template route needs its values; a template needs its route.
    let err = JwtAuth::<Value>::builder()
        .issuer_keys(V2, keys(SECRET))
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::Conflict);
    let err = JwtAuth::<Value>::builder()
        .issuer_template(V1, ["tenant-a"])
        .issuer_keys(ISSUER, keys(SECRET))
        .audience(AUDIENCE)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::Conflict);
}
