//! Where the token comes from: the bearer header (RFC 6750 §2.1), a cookie,
//! a chain of both, a custom function.

mod common;

use std::borrow::Cow;

use axum::body::Body;
use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, Request, StatusCode, Uri};
use jwt_layer::token::{Extracted, FnSource, TokenSource};
use jwt_layer::{AuthError, AuthErrorKind, BearerHeader, CookieToken};
use serde_json::json;

use common::*;

// --- Authorization: Bearer ---------------------------------------------------

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let (app, hits) = router(builder().build().unwrap());
    let token = valid_token();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let body = assert_ok(&app, &hits, authorization(&format!("{scheme} {token}"))).await;
        assert_eq!(body, "alice", "{scheme}");
    }
}

#[tokio::test]
async fn bearer_scheme_may_be_followed_by_several_spaces() {
    let (app, hits) = router(builder().build().unwrap());
    let token = valid_token();
    for spaces in [" ", "  ", "     "] {
        let req = authorization(&format!("Bearer{spaces}{token}"));
        assert_eq!(assert_ok(&app, &hits, req).await, "alice", "{spaces:?}");
    }
}

#[tokio::test]
async fn two_authorization_headers_are_a_bad_request() {
    let (app, hits) = router(builder().build().unwrap());
    let token = valid_token();
    // Even when both carry the same good token, or one is another scheme.
    for second in [format!("Bearer {token}"), "Basic dXNlcjpwdw==".to_owned()] {
        let req = Request::get("/")
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(AUTHORIZATION, second)
            .body(Body::empty())
            .unwrap();
        assert_invalid_request(&app, &hits, req).await;
    }
}

#[tokio::test]
async fn bearer_with_empty_credentials_is_a_bad_request() {
    let (app, hits) = router(builder().build().unwrap());
    for value in ["Bearer", "Bearer ", "bearer    "] {
        let before = hits.count();
        let res = send(&app, authorization(value)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{value:?}");
        assert_eq!(challenge(&res), Some(INVALID_REQUEST), "{value:?}");
        assert_eq!(hits.count(), before);
    }
}

#[tokio::test]
async fn two_tokens_in_one_header_are_a_bad_request() {
    let (app, hits) = router(builder().build().unwrap());
    let token = valid_token();
    for value in [
        format!("Bearer {token} {token}"),
        format!("Bearer {token}\t{token}"),
        format!("Bearer a.b.c {token}"),
    ] {
        assert_invalid_request(&app, &hits, authorization(&value)).await;
    }
}

#[tokio::test]
async fn other_schemes_count_as_no_credentials() {
    let (app, hits) = router(builder().build().unwrap());
    let token = valid_token();
    for value in [
        "Basic dXNlcjpwdw==".to_owned(),
        format!("Token {token}"),
        format!("Bearerx {token}"),
        format!("Bearer:{token}"),
    ] {
        assert_rejected(
            &app,
            &hits,
            authorization(&value),
            StatusCode::UNAUTHORIZED,
            Some(MISSING),
        )
        .await;
    }
}

#[tokio::test]
async fn non_ascii_authorization_header_is_a_bad_request() {
    let (app, hits) = router(builder().build().unwrap());
    let mut req = anonymous();
    req.headers_mut()
        .insert(AUTHORIZATION, header_bytes(b"Bearer \xffabc.def.ghi"));
    assert_invalid_request(&app, &hits, req).await;
}

#[tokio::test]
async fn bearer_source_ignores_cookies() {
    let (app, hits) = router(builder().build().unwrap());
    let req = cookie(&format!("jwt={}", valid_token()));
    assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(MISSING)).await;
}

// --- Cookie -----------------------------------------------------------------

fn cookie_app() -> (axum::Router, Hits) {
    router(
        builder()
            .token_source(CookieToken::new("jwt"))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn cookie_source_reads_the_named_cookie() {
    let (app, hits) = cookie_app();
    let token = valid_token();
    for value in [
        format!("jwt={token}"),
        format!("theme=dark; jwt={token}; lang=en"),
        format!("theme=dark;jwt=\"{token}\""),
    ] {
        assert_eq!(
            assert_ok(&app, &hits, cookie(&value)).await,
            "alice",
            "{value}"
        );
    }
}

#[tokio::test]
async fn cookie_source_without_the_cookie_is_unauthenticated() {
    let (app, hits) = cookie_app();
    let token = valid_token();
    // Another cookie name, a name that merely ends like ours, the header.
    for req in [
        cookie(&format!("session={token}")),
        cookie(&format!("myjwt={token}")),
        bearer(&token),
        anonymous(),
    ] {
        assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(MISSING)).await;
    }
}

#[tokio::test]
async fn cookie_with_an_invalid_token_is_an_invalid_token() {
    let (app, hits) = cookie_app();
    let expired = hs256(&claims_with(json!({"exp": now() - 3600})));
    assert_invalid_token(
        &app,
        &hits,
        cookie(&format!("jwt={expired}")),
        "token expired",
    )
    .await;
    assert_invalid_token(&app, &hits, cookie("jwt=garbage"), "malformed token").await;
}

#[tokio::test]
async fn cookie_empty_or_conflicting_is_a_bad_request() {
    let (app, hits) = cookie_app();
    let token = valid_token();
    let conflicting = Request::get("/")
        .header(COOKIE, format!("jwt={token}"))
        .header(COOKIE, "jwt=other.token.value")
        .body(Body::empty())
        .unwrap();
    for req in [
        cookie("jwt="),
        cookie(&format!("jwt={token}; jwt=other.token.value")),
        conflicting,
    ] {
        assert_invalid_request(&app, &hits, req).await;
    }
}

#[tokio::test]
async fn cookie_repeated_with_the_same_value_is_accepted() {
    let (app, hits) = cookie_app();
    let token = valid_token();
    let req = Request::get("/")
        .header(COOKIE, format!("jwt={token}"))
        .header(COOKIE, format!("a=b; jwt={token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(assert_ok(&app, &hits, req).await, "alice");
}

// --- Chain ------------------------------------------------------------------

fn chain_app() -> (axum::Router, Hits) {
    let source = BearerHeader::new().or(CookieToken::new("jwt"));
    router(builder().token_source(source).build().unwrap())
}

fn header_and_cookie(header: &str, cookie: &str) -> Request<Body> {
    Request::get("/")
        .header(AUTHORIZATION, header)
        .header(COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn chain_accepts_either_source() {
    let (app, hits) = chain_app();
    let token = valid_token();
    assert_eq!(assert_ok(&app, &hits, bearer(&token)).await, "alice");
    assert_eq!(
        assert_ok(&app, &hits, cookie(&format!("jwt={token}"))).await,
        "alice"
    );
    // A non-Bearer Authorization header falls through to the cookie.
    let req = header_and_cookie("Basic dXNlcjpwdw==", &format!("jwt={token}"));
    assert_eq!(assert_ok(&app, &hits, req).await, "alice");
}

#[tokio::test]
async fn chain_with_header_and_cookie_that_agree_is_accepted() {
    let (app, hits) = chain_app();
    let token = valid_token();
    let req = header_and_cookie(&format!("Bearer {token}"), &format!("jwt={token}"));
    assert_eq!(assert_ok(&app, &hits, req).await, "alice");
}

#[tokio::test]
async fn chain_with_header_and_cookie_that_disagree_is_a_bad_request() {
    let (app, hits) = chain_app();
    let token = valid_token();
    let other = hs256(&claims_with(json!({"sub": "mallory"})));
    let req = header_and_cookie(&format!("Bearer {token}"), &format!("jwt={other}"));
    assert_invalid_request(&app, &hits, req).await;
}

#[tokio::test]
async fn chain_fails_when_either_source_finds_a_malformed_request() {
    let (app, hits) = chain_app();
    let token = valid_token();
    // Two Authorization headers, even with a good cookie.
    let req = Request::get("/")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(COOKIE, format!("jwt={token}"))
        .body(Body::empty())
        .unwrap();
    assert_invalid_request(&app, &hits, req).await;
    // A good header with an empty cookie.
    let req = header_and_cookie(&format!("Bearer {token}"), "jwt=");
    assert_invalid_request(&app, &hits, req).await;
}

#[tokio::test]
async fn chain_without_any_token_is_unauthenticated() {
    let (app, hits) = chain_app();
    assert_rejected(
        &app,
        &hits,
        cookie("theme=dark"),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
}

// --- FnSource ---------------------------------------------------------------

/// The `access_token` query parameter; twice is malformed.
fn query_token<'a>(_headers: &'a HeaderMap, uri: &'a Uri) -> Extracted<'a> {
    let mut found = None;
    for pair in uri.query().unwrap_or("").split('&') {
        if let Some(value) = pair.strip_prefix("access_token=") {
            if found.is_some() {
                return Err(AuthError::new(AuthErrorKind::InvalidRequest));
            }
            found = Some(Cow::Borrowed(value));
        }
    }
    Ok(found)
}

fn uri_request(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn fn_source_reads_a_custom_place() {
    let (app, hits) = router(
        builder()
            .token_source(FnSource::new(query_token))
            .build()
            .unwrap(),
    );
    let token = valid_token();
    let body = assert_ok(
        &app,
        &hits,
        uri_request(&format!("/?x=1&access_token={token}")),
    )
    .await;
    assert_eq!(body, "alice");

    // Not found: no credentials (the bearer header is not looked at).
    assert_rejected(
        &app,
        &hits,
        bearer(&token),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
    // Its errors are answered like the built-in ones.
    assert_invalid_request(
        &app,
        &hits,
        uri_request(&format!("/?access_token={token}&access_token={token}")),
    )
    .await;
    // What it finds is verified as usual.
    assert_invalid_token(
        &app,
        &hits,
        uri_request("/?access_token=a.b.c"),
        "malformed token",
    )
    .await;
}

#[tokio::test]
async fn fn_source_can_be_chained_before_the_header() {
    let source = FnSource::new(query_token).or(BearerHeader::new());
    let (app, hits) = router(builder().token_source(source).build().unwrap());
    let token = valid_token();
    assert_ok(&app, &hits, bearer(&token)).await;
    assert_ok(&app, &hits, uri_request(&format!("/?access_token={token}"))).await;
}

#[test]
fn a_header_of_its_own_holds_the_whole_token() {
    let source = jwt_layer::HeaderToken::from_static("x-goog-iap-jwt-assertion");
    let uri: Uri = "/".parse().unwrap();
    let mut headers = HeaderMap::new();
    assert_eq!(source.extract(&headers, &uri).unwrap(), None);
    headers.insert("x-goog-iap-jwt-assertion", "a.b.c".parse().unwrap());
    assert_eq!(
        source.extract(&headers, &uri).unwrap().as_deref(),
        Some("a.b.c")
    );
    headers.append("x-goog-iap-jwt-assertion", "d.e.f".parse().unwrap());
    let err = source.extract(&headers, &uri).unwrap_err();
    assert_eq!(err.kind(), AuthErrorKind::InvalidRequest);
    let mut empty = HeaderMap::new();
    empty.insert("x-goog-iap-jwt-assertion", "".parse().unwrap());
    assert_eq!(
        source.extract(&empty, &uri).unwrap_err().kind(),
        AuthErrorKind::InvalidRequest
    );
    // Other headers are not looked at.
    let mut other = HeaderMap::new();
    other.insert(AUTHORIZATION, "Bearer a.b.c".parse().unwrap());
    assert_eq!(source.extract(&other, &uri).unwrap(), None);
}
