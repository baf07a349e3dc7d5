//! The one mapping from failure to response (ARCHITECTURE.md, "Failure → response"; RFC 6750 §3): exact
//! statuses and `WWW-Authenticate` values, through the real layer.

mod common;

use std::time::Duration;

use axum::body::Body;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_layer::{AuthError, AuthErrorKind, JwtAuth, Key};
use serde_json::json;

use common::*;

fn signed_k1(claims: &serde_json::Value) -> String {
    sign(Algorithm::HS256, Some("k1"), claims, &hmac_signer())
}

#[tokio::test]
async fn missing_token_gets_bare_challenge_without_error() {
    let (app, hits) = router(builder().build().unwrap());
    let res = assert_rejected(
        &app,
        &hits,
        anonymous(),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
    assert_eq!(body_text(res).await, "", "default rejections have no body");
}

#[tokio::test]
async fn malformed_request_gets_400_invalid_request() {
    let (app, hits) = router(builder().build().unwrap());
    let token = valid_token();
    let req = Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_invalid_request(&app, &hits, req).await;
}

/// A token for each kind of invalid token, for a layer with HMAC key `k1`
/// and a one-hour lifetime cap, with the kind's fixed description.
fn a_token_per_invalid_kind() -> Vec<(AuthErrorKind, &'static str, String)> {
    let now = now();
    let payload = claims().to_string();
    vec![
        (
            AuthErrorKind::MalformedToken,
            "malformed token",
            "not-a-jwt".to_owned(),
        ),
        (
            AuthErrorKind::TokenTooLarge,
            "token too large",
            signed_k1(&claims_with(json!({"pad": "x".repeat(9000)}))),
        ),
        (
            AuthErrorKind::UnsupportedHeader,
            "unsupported token header",
            craft(r#"{"alg":"HS256","kid":"k1","crit":["exp"]}"#, &payload),
        ),
        (
            AuthErrorKind::AlgorithmNotAllowed,
            "algorithm not allowed",
            sign(Algorithm::RS256, Some("k1"), &claims(), &rsa_signer()),
        ),
        (
            AuthErrorKind::UnknownKey,
            "unknown signing key",
            sign(Algorithm::HS256, Some("k2"), &claims(), &hmac_signer()),
        ),
        (
            AuthErrorKind::InvalidSignature,
            "invalid signature",
            sign(
                Algorithm::HS256,
                Some("k1"),
                &claims(),
                &EncodingKey::from_secret(OTHER_SECRET),
            ),
        ),
        (
            AuthErrorKind::Expired,
            "token expired",
            signed_k1(&claims_with(json!({"iat": now - 7200, "exp": now - 3600}))),
        ),
        (
            AuthErrorKind::NotYetValid,
            "token not yet valid",
            signed_k1(&claims_with(json!({"nbf": now + 600}))),
        ),
        (
            AuthErrorKind::IssuedInFuture,
            "token issued in the future",
            signed_k1(&claims_with(json!({"iat": now + 600, "exp": now + 900}))),
        ),
        (
            AuthErrorKind::LifetimeTooLong,
            "token lifetime too long",
            signed_k1(&claims_with(json!({"exp": now + 7200}))),
        ),
        (
            AuthErrorKind::InvalidIssuer,
            "invalid issuer",
            signed_k1(&claims_with(json!({"iss": "https://evil.example"}))),
        ),
        (
            AuthErrorKind::InvalidAudience,
            "invalid audience",
            signed_k1(&claims_with(json!({"aud": "another-api"}))),
        ),
        (
            AuthErrorKind::InvalidClaims,
            "invalid claims",
            signed_k1(&claims_with(json!({"exp": null}))),
        ),
    ]
}

#[tokio::test]
async fn every_invalid_token_kind_gets_invalid_token_with_its_fixed_description() {
    let auth = JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(SECRET).unwrap().with_kid("k1"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .max_lifetime(Duration::from_secs(3600))
        .build()
        .unwrap();
    let (app, hits) = router(auth);

    // The control: the same layer lets a good token through.
    assert_eq!(
        assert_ok(&app, &hits, bearer(&signed_k1(&claims()))).await,
        "alice"
    );

    for (kind, description, token) in a_token_per_invalid_kind() {
        assert_eq!(kind.description(), description, "{kind:?}");
        assert_eq!(kind.status(), StatusCode::UNAUTHORIZED, "{kind:?}");
        assert_eq!(kind.error_code(), Some("invalid_token"), "{kind:?}");
        let before = hits.count();
        let res = send(&app, bearer(&token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{kind:?}");
        assert_eq!(
            challenge(&res),
            Some(invalid_token(description).as_str()),
            "{kind:?}"
        );
        assert_eq!(hits.count(), before, "{kind:?}: the handler ran");
        assert_eq!(body_text(res).await, "", "{kind:?}");
    }
}

#[tokio::test]
async fn missing_scope_gets_403_insufficient_scope_naming_the_scope() {
    let (app, hits) = router(builder().require_scope("admin").build().unwrap());
    let want = r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin""#;
    assert_eq!(insufficient_scope("admin"), want);

    for scope in [json!("read"), json!("read administrator"), json!(null)] {
        let token = hs256(&claims_with(json!({ "scope": scope })));
        assert_rejected(
            &app,
            &hits,
            bearer(&token),
            StatusCode::FORBIDDEN,
            Some(want),
        )
        .await;
    }
    let token = hs256(&claims_with(json!({"scope": "read admin"})));
    assert_eq!(assert_ok(&app, &hits, bearer(&token)).await, "alice");
}

#[tokio::test]
async fn several_required_scopes_are_all_named_and_all_needed() {
    let (app, hits) = router(
        builder()
            .require_scope("admin")
            .require_scope("write")
            .build()
            .unwrap(),
    );
    let token = hs256(&claims_with(json!({"scope": "admin"})));
    assert_rejected(
        &app,
        &hits,
        bearer(&token),
        StatusCode::FORBIDDEN,
        Some(&insufficient_scope("admin write")),
    )
    .await;
    let token = hs256(&claims_with(json!({"scope": "write admin"})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn a_scope_failure_still_checks_authentication_first() {
    let (app, hits) = router(builder().require_scope("admin").build().unwrap());
    assert_rejected(
        &app,
        &hits,
        anonymous(),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
    let token = hs256(&claims_with(
        json!({"scope": "admin", "iss": "https://evil.example"}),
    ));
    assert_invalid_token(&app, &hits, bearer(&token), "invalid issuer").await;
}

#[tokio::test]
async fn predicate_failure_gets_403_access_denied() {
    let (app, hits) = router(builder().require(|c: &TestClaims| c.admin).build().unwrap());
    let token = hs256(&claims_with(json!({"admin": false})));
    assert_rejected(
        &app,
        &hits,
        bearer(&token),
        StatusCode::FORBIDDEN,
        Some(
            r#"Bearer realm="api", error="insufficient_scope", error_description="access denied""#,
        ),
    )
    .await;
    let token = hs256(&claims_with(json!({"admin": true})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn custom_realm_appears_in_every_challenge() {
    let (app, hits) = router(
        builder()
            .realm("example realm")
            .require_scope("admin")
            .build()
            .unwrap(),
    );
    assert_rejected(
        &app,
        &hits,
        anonymous(),
        StatusCode::UNAUTHORIZED,
        Some(r#"Bearer realm="example realm""#),
    )
    .await;
    assert_rejected(
        &app,
        &hits,
        authorization("Bearer"),
        StatusCode::BAD_REQUEST,
        Some(r#"Bearer realm="example realm", error="invalid_request", error_description="malformed credentials""#),
    )
    .await;
    assert_rejected(
        &app,
        &hits,
        bearer("not-a-jwt"),
        StatusCode::UNAUTHORIZED,
        Some(r#"Bearer realm="example realm", error="invalid_token", error_description="malformed token""#),
    )
    .await;
    assert_rejected(
        &app,
        &hits,
        bearer(&valid_token()),
        StatusCode::FORBIDDEN,
        Some(r#"Bearer realm="example realm", error="insufficient_scope", error_description="insufficient scope", scope="admin""#),
    )
    .await;
}

#[test]
fn realm_that_cannot_be_quoted_is_a_build_error() {
    for realm in ["", "a\"b", "a\\b", "a\r\nSet-Cookie: x", "caf\u{e9}"] {
        assert!(builder().realm(realm).build().is_err(), "{realm:?}");
    }
    assert!(builder().realm("a realm with spaces").build().is_ok());
}

/// An `on_rejection` hook: a JSON body with the error's description and
/// status, the status and headers kept.
fn render_json(err: &AuthError, res: Response<()>) -> Response<Body> {
    let (mut parts, ()) = res.into_parts();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = json!({
        "error": err.kind().description(),
        "status": err.status().as_u16(),
    });
    Response::from_parts(parts, Body::from(body.to_string()))
}

#[tokio::test]
async fn on_rejection_renders_json_while_status_and_challenge_stay() {
    let (app, hits) = router(
        builder()
            .require_scope("admin")
            .on_rejection(render_json)
            .build()
            .unwrap(),
    );

    let cases = [
        (
            anonymous(),
            StatusCode::UNAUTHORIZED,
            MISSING.to_owned(),
            "no bearer token",
        ),
        (
            authorization("Bearer a b"),
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST.to_owned(),
            "malformed credentials",
        ),
        (
            bearer(&hs256(&claims_with(json!({"exp": now() - 3600})))),
            StatusCode::UNAUTHORIZED,
            invalid_token("token expired"),
            "token expired",
        ),
        (
            bearer(&valid_token()),
            StatusCode::FORBIDDEN,
            insufficient_scope("admin"),
            "insufficient scope",
        ),
    ];
    for (req, status, want, error) in cases {
        let res = assert_rejected(&app, &hits, req, status, Some(&want)).await;
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(body, json!({"error": error, "status": status.as_u16()}));
    }

    // A request that passes never sees the hook.
    let token = hs256(&claims_with(json!({"scope": "admin"})));
    let res = send(&app, bearer(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get(CONTENT_TYPE)
            .is_none_or(|v| v != "application/json")
    );
    assert_eq!(body_text(res).await, "alice");
}

#[tokio::test]
async fn challenge_is_a_single_header_value() {
    let (app, _hits) = router(builder().build().unwrap());
    let res = send(&app, bearer("x.y.z")).await;
    assert_eq!(res.headers().get_all(WWW_AUTHENTICATE).iter().count(), 1);
}

#[test]
fn status_and_error_code_table() {
    use AuthErrorKind::*;
    let rows = [
        (MissingToken, StatusCode::UNAUTHORIZED, None),
        (
            InvalidRequest,
            StatusCode::BAD_REQUEST,
            Some("invalid_request"),
        ),
        (Expired, StatusCode::UNAUTHORIZED, Some("invalid_token")),
        (
            InsufficientScope,
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
        ),
        (Forbidden, StatusCode::FORBIDDEN, Some("insufficient_scope")),
        (KeysUnavailable, StatusCode::SERVICE_UNAVAILABLE, None),
        (MissingLayer, StatusCode::INTERNAL_SERVER_ERROR, None),
    ];
    for (kind, status, code) in rows {
        assert_eq!(kind.status(), status, "{kind:?}");
        assert_eq!(kind.error_code(), code, "{kind:?}");
    }
}
