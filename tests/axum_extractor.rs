//! The axum extractors: `Claims<C>`, `Option<Claims<C>>`, `VerifiedClaims<C>`.

mod common;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use http::{Request, StatusCode};
use jwt_layer::{Claims, JwtAuth, MissingClaims, RegisteredClaims, VerifiedClaims};
use serde::Deserialize;
use serde_json::json;

use common::*;

#[derive(Clone, Debug, Deserialize)]
struct Profile {
    sub: String,
    name: String,
    #[serde(default)]
    roles: Vec<String>,
    org: Org,
}

#[derive(Clone, Debug, Deserialize)]
struct Org {
    id: u32,
}

fn profile_claims() -> serde_json::Value {
    claims_with(json!({
        "name": "Alice Liddell",
        "roles": ["reader", "editor"],
        "org": {"id": 42},
    }))
}

fn get_req(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn claims_extractor_gives_the_typed_claims() {
    let auth = JwtAuth::<Profile>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/me",
            get(|Claims(p): Claims<Profile>| async move {
                format!("{}|{}|{}|{}", p.sub, p.name, p.roles.join(","), p.org.id)
            }),
        )
        .layer(auth);
    let token = hs256(&profile_claims());
    let res = send(&app, get_req("/me", Some(&token))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "alice|Alice Liddell|reader,editor|42");

    // Claims missing a field of the type: refused by the layer, not a 500.
    let token = hs256(&claims());
    let res = send(&app, get_req("/me", Some(&token))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&res),
        Some(invalid_token("invalid claims").as_str())
    );
}

#[tokio::test]
async fn claims_extractor_works_beside_other_extractors_and_state() {
    #[derive(Clone)]
    struct AppState {
        greeting: &'static str,
    }
    let app = Router::new()
        .route(
            "/items/{id}",
            post(
                |State(s): State<AppState>,
                 Path(id): Path<u32>,
                 Claims(c): Claims<TestClaims>,
                 body: String| async move {
                    format!("{} {} #{id}: {body}", s.greeting, c.sub)
                },
            ),
        )
        .layer(builder().build().unwrap())
        .with_state(AppState { greeting: "hello" });
    let req = Request::post("/items/7")
        .header("authorization", format!("Bearer {}", valid_token()))
        .body(Body::from("payload"))
        .unwrap();
    let res = send(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "hello alice #7: payload");
}

#[tokio::test]
async fn optional_claims_are_none_without_token_behind_an_optional_layer() {
    let app = Router::new()
        .route(
            "/",
            get(|claims: Option<Claims<TestClaims>>| async move {
                match claims {
                    Some(Claims(c)) => format!("hello {}", c.sub),
                    None => "hello stranger".to_owned(),
                }
            }),
        )
        .layer(builder().optional().build().unwrap());
    let res = send(&app, get_req("/", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "hello stranger");

    let res = send(&app, get_req("/", Some(&valid_token()))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "hello alice");

    // A bad token is not downgraded to "no claims".
    let res = send(&app, get_req("/", Some("a.b.c"))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge(&res),
        Some(invalid_token("malformed token").as_str())
    );
}

#[tokio::test]
async fn claims_extractor_without_the_layer_answers_500() {
    let app = Router::new()
        .route(
            "/",
            get(|Claims(c): Claims<TestClaims>| async move { c.sub }),
        )
        .route(
            "/verified",
            get(|v: VerifiedClaims<TestClaims>| async move { v.sub.clone() }),
        );
    for uri in ["/", "/verified"] {
        let res = send(&app, get_req(uri, Some(&valid_token()))).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert!(challenge(&res).is_none(), "{uri}");
        assert_eq!(
            body_text(res).await,
            "authentication layer missing",
            "{uri}"
        );
    }
}

#[tokio::test]
async fn claims_extractor_for_another_type_than_the_layer_answers_500() {
    let app = Router::new()
        .route(
            "/",
            get(|Claims(c): Claims<RegisteredClaims>| async move { format!("{:?}", c.sub) }),
        )
        .layer(builder().build().unwrap());
    let res = send(&app, get_req("/", Some(&valid_token()))).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn missing_claims_rejection_is_a_500() {
    let res = MissingClaims.into_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(MissingClaims.to_string(), "authentication layer missing");
}

#[tokio::test]
async fn verified_claims_extractor_gives_claims_and_scopes() {
    let app = Router::new()
        .route(
            "/",
            get(|v: VerifiedClaims<TestClaims>| async move {
                format!(
                    "{} [{}] admin={}",
                    v.claims().sub,
                    v.scopes().collect::<Vec<_>>().join(","),
                    v.has_scope("admin"),
                )
            }),
        )
        .layer(builder().build().unwrap());
    let cases = [
        (
            json!({"scope": "read write"}),
            "alice [read,write] admin=false",
        ),
        (
            json!({"scp": ["read", "admin"]}),
            "alice [read,admin] admin=true",
        ),
        (
            json!({"scope": "read", "scp": ["admin"]}),
            "alice [read,admin] admin=true",
        ),
        (json!({}), "alice [] admin=false"),
    ];
    for (extra, want) in cases {
        let token = hs256(&claims_with(extra.clone()));
        let res = send(&app, get_req("/", Some(&token))).await;
        assert_eq!(res.status(), StatusCode::OK, "{extra}");
        assert_eq!(body_text(res).await, want, "{extra}");
    }
}

#[tokio::test]
async fn optional_verified_claims_follow_the_layer() {
    let app = Router::new()
        .route(
            "/",
            get(|v: Option<VerifiedClaims<TestClaims>>| async move {
                v.map_or_else(|| "none".to_owned(), |v| v.sub.clone())
            }),
        )
        .layer(builder().optional().build().unwrap());
    let res = send(&app, get_req("/", None)).await;
    assert_eq!(body_text(res).await, "none");
    let res = send(&app, get_req("/", Some(&valid_token()))).await;
    assert_eq!(body_text(res).await, "alice");
}

#[tokio::test]
async fn registered_claims_can_be_the_claims_type() {
    let auth = JwtAuth::<RegisteredClaims>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/",
            get(|Claims(c): Claims<RegisteredClaims>| async move {
                format!(
                    "{} {} {} {}",
                    c.iss.unwrap_or_default(),
                    c.sub.unwrap_or_default(),
                    c.aud.map(|a| a.as_slice().join(",")).unwrap_or_default(),
                    c.scope.unwrap_or_default(),
                )
            }),
        )
        .layer(auth);
    let token = hs256(&claims_with(
        json!({"aud": ["x", AUDIENCE], "scope": "read"}),
    ));
    let res = send(&app, get_req("/", Some(&token))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body_text(res).await,
        format!("{ISSUER} alice x,{AUDIENCE} read")
    );
}

#[tokio::test]
async fn registered_claims_flatten_into_a_custom_type() {
    #[derive(Clone, Deserialize)]
    struct Custom {
        #[serde(flatten)]
        registered: RegisteredClaims,
        tenant: String,
    }
    let auth = JwtAuth::<Custom>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/",
            get(|Claims(c): Claims<Custom>| async move {
                format!("{}@{}", c.registered.sub.unwrap_or_default(), c.tenant)
            }),
        )
        .layer(auth);
    let token = hs256(&claims_with(json!({"tenant": "acme"})));
    let res = send(&app, get_req("/", Some(&token))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "alice@acme");
}
