//! The layer as a whole: plain tower use, optional mode, per-route
//! `Authorize`, custom key sources (the asynchronous path), the standalone
//! verifier, and layer-level build errors.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_layer::keys::Lookup;
use jwt_layer::{
    AuthError, AuthErrorKind, Authorize, JwtAuth, Key, KeySource, RegisteredClaims, StaticKeys,
    VerifiedClaims,
};
use serde_json::json;
use tower::{ServiceBuilder, ServiceExt as _, service_fn};

use common::*;

// --- Plain tower ------------------------------------------------------------

/// An inner service that answers with the `sub` of the claims the layer
/// stored, or `anonymous`, and counts its calls.
fn echo(
    hits: Hits,
) -> impl tower::Service<
    Request<Body>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<String>, Infallible>> + Send,
> + Clone
+ Send
+ 'static {
    service_fn(move |req: Request<Body>| {
        let hits = hits.clone();
        async move {
            hits.hit();
            let sub = req
                .extensions()
                .get::<VerifiedClaims<TestClaims>>()
                .map_or_else(|| "anonymous".to_owned(), |c| c.sub.clone());
            Ok::<_, Infallible>(Response::new(sub))
        }
    })
}

#[tokio::test]
async fn layer_works_with_service_builder_and_service_fn() {
    let hits = Hits::new();
    let svc = ServiceBuilder::new()
        .layer(builder().build().unwrap())
        .service(echo(hits.clone()));

    let res = svc.clone().oneshot(bearer(&valid_token())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.into_body(), "alice");
    assert_eq!(hits.count(), 1);

    let res = svc.clone().oneshot(anonymous()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()[WWW_AUTHENTICATE], MISSING);
    assert_eq!(res.into_body(), "");
    assert_eq!(hits.count(), 1, "the inner service ran for a rejection");

    let res = svc.oneshot(bearer("a.b.c")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[WWW_AUTHENTICATE],
        invalid_token("malformed token")
    );
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn one_layer_serves_many_requests_and_clones_share_it() {
    let auth = builder().build().unwrap();
    let (app1, hits1) = router(auth.clone());
    let (app2, hits2) = router(auth);
    for i in 0..5 {
        let token = hs256(&claims_with(json!({ "sub": format!("user{i}") })));
        assert_eq!(
            assert_ok(&app1, &hits1, bearer(&token)).await,
            format!("user{i}")
        );
        assert_eq!(
            assert_ok(&app2, &hits2, bearer(&token)).await,
            format!("user{i}")
        );
    }
}

// --- Optional mode ----------------------------------------------------------

#[tokio::test]
async fn optional_layer_lets_a_request_without_token_through_without_claims() {
    let (app, hits) = router(builder().optional().build().unwrap());
    assert_eq!(assert_ok(&app, &hits, anonymous()).await, "anonymous");
    // Another scheme counts as no credentials, too.
    assert_eq!(
        assert_ok(&app, &hits, authorization("Basic dXNlcjpwdw==")).await,
        "anonymous"
    );
}

#[tokio::test]
async fn optional_layer_with_a_valid_token_gives_the_claims() {
    let (app, hits) = router(builder().optional().build().unwrap());
    assert_eq!(
        assert_ok(&app, &hits, bearer(&valid_token())).await,
        "alice"
    );
}

#[tokio::test]
async fn optional_layer_still_rejects_a_bad_token_or_request() {
    let (app, hits) = router(builder().optional().build().unwrap());
    let expired = hs256(&claims_with(json!({"exp": now() - 3600})));
    assert_invalid_token(&app, &hits, bearer(&expired), "token expired").await;
    let forged = sign(
        Algorithm::HS256,
        None,
        &claims(),
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    assert_invalid_token(&app, &hits, bearer(&forged), "invalid signature").await;
    assert_invalid_token(&app, &hits, bearer("garbage"), "malformed token").await;
    assert_invalid_request(&app, &hits, authorization("Bearer")).await;
}

#[tokio::test]
async fn optional_layer_without_token_stores_no_claims() {
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = Arc::clone(&seen);
    let svc = ServiceBuilder::new()
        .layer(builder().optional().build().unwrap())
        .service(service_fn(move |req: Request<Body>| {
            let seen = Arc::clone(&seen2);
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                assert!(
                    req.extensions()
                        .get::<VerifiedClaims<TestClaims>>()
                        .is_none()
                );
                Ok::<_, Infallible>(Response::new(String::new()))
            }
        }));
    let res = svc.oneshot(anonymous()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn claims_of_a_failed_token_never_reach_the_inner_service() {
    // Tokens whose payload parses (so claims could be built) but which fail
    // a later check: signature, time, issuer, requirement.
    let now = now();
    let bad = [
        sign(
            Algorithm::HS256,
            None,
            &claims_with(json!({"sub": "mallory"})),
            &EncodingKey::from_secret(OTHER_SECRET),
        ),
        hs256(&claims_with(json!({"sub": "mallory", "exp": now - 3600}))),
        hs256(&claims_with(
            json!({"sub": "mallory", "iss": "https://evil.example"}),
        )),
        hs256(&claims_with(json!({"sub": "mallory", "scope": "read"}))),
    ];
    for optional in [false, true] {
        let mut b = builder().require_scope("admin");
        if optional {
            b = b.optional();
        }
        let hits = Hits::new();
        let svc = ServiceBuilder::new()
            .layer(b.build().unwrap())
            .service(echo(hits.clone()));
        for token in &bad {
            let res = svc.clone().oneshot(bearer(token)).await.unwrap();
            assert!(
                res.status() == StatusCode::UNAUTHORIZED || res.status() == StatusCode::FORBIDDEN,
                "optional={optional}: {}",
                res.status()
            );
            assert_ne!(res.into_body(), "mallory");
        }
        assert_eq!(hits.count(), 0, "optional={optional}");
    }
}

// --- Authorize, per route ---------------------------------------------------

/// `/admin` needs scope `admin`; `/` needs nothing beyond `auth`.
fn admin_app(auth: JwtAuth<TestClaims>) -> (Router, Hits) {
    let hits = Hits::new();
    let admin = Authorize::<TestClaims>::builder()
        .scope("admin")
        .build()
        .unwrap();
    let router = Router::new()
        .route("/", hits.route())
        .route("/admin", hits.route().layer(admin))
        .layer(auth);
    (router, hits)
}

fn admin_request(token: &str) -> Request<Body> {
    Request::get("/admin")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn authorize_accepts_scope_from_the_scope_string() {
    let (app, hits) = admin_app(builder().build().unwrap());
    for scope in ["admin", "read admin", "admin write"] {
        let token = hs256(&claims_with(json!({ "scope": scope })));
        assert_eq!(assert_ok(&app, &hits, admin_request(&token)).await, "alice");
    }
}

#[tokio::test]
async fn authorize_accepts_scope_from_the_scp_array() {
    let (app, hits) = admin_app(builder().build().unwrap());
    for scp in [json!(["admin"]), json!(["read", "admin"]), json!("admin")] {
        let token = hs256(&claims_with(json!({ "scp": scp })));
        assert_eq!(
            assert_ok(&app, &hits, admin_request(&token)).await,
            "alice",
            "{scp}"
        );
    }
}

#[tokio::test]
async fn authorize_without_the_scope_answers_403_with_exact_challenge() {
    let (app, hits) = admin_app(builder().build().unwrap());
    let want = r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin""#;
    for extra in [
        json!({}),
        json!({"scope": "read write"}),
        json!({"scope": "administrator"}),
        json!({"scope": "Admin"}),
        json!({"scp": ["read"]}),
        json!({"scp": []}),
    ] {
        let token = hs256(&claims_with(extra.clone()));
        let before = hits.count();
        let res = send(&app, admin_request(&token)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{extra}");
        assert_eq!(challenge(&res), Some(want), "{extra}");
        assert_eq!(hits.count(), before, "{extra}");
        // The unprotected route still takes the same token.
        assert_ok(&app, &hits, bearer(&token)).await;
    }
}

#[tokio::test]
async fn authorize_after_optional_auth_without_token_answers_401() {
    let (app, hits) = admin_app(builder().optional().build().unwrap());
    let req = Request::get("/admin").body(Body::empty()).unwrap();
    assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(MISSING)).await;
    // The open route lets the anonymous request in.
    assert_eq!(assert_ok(&app, &hits, anonymous()).await, "anonymous");
    // With a token carrying the scope, the admin route opens.
    let token = hs256(&claims_with(json!({"scope": "admin"})));
    assert_ok(&app, &hits, admin_request(&token)).await;
}

#[tokio::test]
async fn authorize_without_any_auth_layer_answers_500() {
    let hits = Hits::new();
    let admin = Authorize::<TestClaims>::builder()
        .scope("admin")
        .build()
        .unwrap();
    let app = Router::new().route("/admin", hits.route().layer(admin));
    let token = hs256(&claims_with(json!({"scope": "admin"})));
    assert_rejected(
        &app,
        &hits,
        admin_request(&token),
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
    )
    .await;
}

#[tokio::test]
async fn authorize_for_another_claims_type_fails_closed() {
    // The layer stores VerifiedClaims<TestClaims>; an Authorize for another
    // type finds nothing and must not let the request through.
    let hits = Hits::new();
    let admin = Authorize::<RegisteredClaims>::builder()
        .scope("admin")
        .build()
        .unwrap();
    let app = Router::new()
        .route("/admin", hits.route().layer(admin))
        .layer(builder().build().unwrap());
    let token = hs256(&claims_with(json!({"scope": "admin"})));
    assert_rejected(
        &app,
        &hits,
        admin_request(&token),
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
    )
    .await;
}

#[tokio::test]
async fn authorize_predicate_failure_answers_403_access_denied() {
    let hits = Hits::new();
    let only_admins = Authorize::<TestClaims>::builder()
        .predicate(|c: &TestClaims| c.admin)
        .realm("admin area")
        .build()
        .unwrap();
    let app = Router::new()
        .route("/admin", hits.route().layer(only_admins))
        .layer(builder().build().unwrap());
    let token = hs256(&claims_with(json!({"admin": false})));
    assert_rejected(
        &app,
        &hits,
        admin_request(&token),
        StatusCode::FORBIDDEN,
        Some(r#"Bearer realm="admin area", error="insufficient_scope", error_description="access denied""#),
    )
    .await;
    let token = hs256(&claims_with(json!({"admin": true})));
    assert_ok(&app, &hits, admin_request(&token)).await;
}

#[test]
fn authorize_build_errors() {
    assert!(Authorize::<TestClaims>::builder().build().is_err());
    for scope in ["", "a b", "a\"b", "a\\b", "caf\u{e9}"] {
        assert!(
            Authorize::<TestClaims>::builder()
                .scope(scope)
                .build()
                .is_err(),
            "{scope:?}"
        );
    }
    assert!(
        Authorize::<TestClaims>::builder()
            .scope("admin")
            .realm("bad\"realm")
            .build()
            .is_err()
    );
}

// --- Custom key sources: the asynchronous path ----------------------------

/// A key source that answers after a yield, as a remote key set would, and
/// counts its lookups.
#[derive(Clone)]
struct DeferredKeys {
    answer: Arc<dyn Fn() -> Result<Arc<Key>, AuthError> + Send + Sync>,
    lookups: Arc<AtomicUsize>,
}

impl DeferredKeys {
    fn new(answer: impl Fn() -> Result<Arc<Key>, AuthError> + Send + Sync + 'static) -> Self {
        Self {
            answer: Arc::new(answer),
            lookups: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl KeySource for DeferredKeys {
    fn lookup(&self, _kid: Option<&str>, _alg: Algorithm) -> Lookup {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let answer = Arc::clone(&self.answer);
        Lookup::Pending(Box::pin(async move {
            tokio::task::yield_now().await;
            answer()
        }))
    }
}

fn hmac_key() -> Arc<Key> {
    Arc::new(Key::hmac(SECRET).unwrap())
}

fn source_builder(source: impl KeySource) -> jwt_layer::JwtAuthBuilder<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .key_source(source)
        .issuer(ISSUER)
        .audience(AUDIENCE)
}

#[tokio::test]
async fn deferred_key_source_verifies_and_passes_claims() {
    let keys = DeferredKeys::new(|| Ok(hmac_key()));
    let lookups = Arc::clone(&keys.lookups);
    let (app, hits) = router(source_builder(keys).build().unwrap());
    assert_eq!(
        assert_ok(&app, &hits, bearer(&valid_token())).await,
        "alice"
    );
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn deferred_key_source_rejections_match_the_static_ones() {
    let (app, hits) = router(
        source_builder(DeferredKeys::new(|| Ok(hmac_key())))
            .build()
            .unwrap(),
    );
    let expired = hs256(&claims_with(json!({"exp": now() - 3600})));
    assert_invalid_token(&app, &hits, bearer(&expired), "token expired").await;
    let forged = sign(
        Algorithm::HS256,
        None,
        &claims(),
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    assert_invalid_token(&app, &hits, bearer(&forged), "invalid signature").await;
    let wrong_aud = hs256(&claims_with(json!({"aud": "other"})));
    assert_invalid_token(&app, &hits, bearer(&wrong_aud), "invalid audience").await;
}

#[tokio::test]
async fn deferred_key_that_does_not_allow_the_alg_is_refused() {
    // The source answers with an RSA key for an HS256 token: the layer must
    // check the key's algorithms itself.
    let rsa = Arc::new(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap());
    let (app, hits) = router(
        source_builder(DeferredKeys::new(move || Ok(Arc::clone(&rsa))))
            .build()
            .unwrap(),
    );
    let token = craft_signed(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims().to_string(),
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes()),
    );
    assert_invalid_token(&app, &hits, bearer(&token), "algorithm not allowed").await;
}

#[tokio::test]
async fn unavailable_keys_answer_503_with_retry_after_and_no_challenge() {
    let (app, hits) = router(
        source_builder(DeferredKeys::new(|| {
            Err(AuthError::new(AuthErrorKind::KeysUnavailable).with_retry_after(30))
        }))
        .build()
        .unwrap(),
    );
    let res = assert_rejected(
        &app,
        &hits,
        bearer(&valid_token()),
        StatusCode::SERVICE_UNAVAILABLE,
        None,
    )
    .await;
    assert_eq!(res.headers()[RETRY_AFTER], "30");
}

#[tokio::test]
async fn unavailable_keys_answered_at_once_also_give_503() {
    struct Down;
    impl KeySource for Down {
        fn lookup(&self, _kid: Option<&str>, _alg: Algorithm) -> Lookup {
            Lookup::Ready(Err(
                AuthError::new(AuthErrorKind::KeysUnavailable).with_retry_after(5)
            ))
        }
    }
    let (app, hits) = router(source_builder(Down).build().unwrap());
    let res = assert_rejected(
        &app,
        &hits,
        bearer(&valid_token()),
        StatusCode::SERVICE_UNAVAILABLE,
        None,
    )
    .await;
    assert_eq!(res.headers()[RETRY_AFTER], "5");
    // No token: no key is needed, so the answer is the usual 401.
    assert_rejected(
        &app,
        &hits,
        anonymous(),
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
}

#[tokio::test]
async fn static_keys_can_be_given_as_a_key_source() {
    let keys = StaticKeys::new([Key::hmac(SECRET).unwrap()]).unwrap();
    let (app, hits) = router(source_builder(keys).build().unwrap());
    assert_eq!(
        assert_ok(&app, &hits, bearer(&valid_token())).await,
        "alice"
    );
}

#[tokio::test]
async fn key_source_is_not_asked_for_malformed_tokens() {
    let keys = DeferredKeys::new(|| Ok(hmac_key()));
    let lookups = Arc::clone(&keys.lookups);
    let (app, hits) = router(source_builder(keys).build().unwrap());
    let payload = claims().to_string();
    for token in [
        "garbage".to_owned(),
        craft(r#"{"alg":"none"}"#, &payload),
        craft(r#"{"alg":"HS256","crit":["exp"]}"#, &payload),
        hs256(&claims_with(json!({"pad": "x".repeat(9000)}))),
    ] {
        let res = send(&app, bearer(&token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 0);
    assert_eq!(hits.count(), 0);
}

// --- The verifier on its own ----------------------------------------------

#[tokio::test]
async fn verifier_checks_tokens_outside_a_request() {
    let auth = builder().require_scope("admin").build().unwrap();
    let verifier = auth.verifier();

    let token = hs256(&claims_with(json!({"scope": "admin read"})));
    let verified = verifier.verify(&token).await.unwrap();
    assert_eq!(verified.sub, "alice");
    assert_eq!(verified.scopes().collect::<Vec<_>>(), ["admin", "read"]);

    let kind = |r: Result<VerifiedClaims<TestClaims>, AuthError>| r.unwrap_err().kind();
    assert_eq!(
        kind(verifier.verify("a.b").await),
        AuthErrorKind::MalformedToken
    );
    assert_eq!(
        kind(verifier.verify(&valid_token()).await),
        AuthErrorKind::InsufficientScope
    );
    let expired = hs256(&claims_with(json!({"scope": "admin", "exp": now() - 3600})));
    assert_eq!(
        kind(verifier.verify(&expired).await),
        AuthErrorKind::Expired
    );
}

// --- Layer build errors -----------------------------------------------------

#[test]
fn layer_without_any_key_is_a_build_error() {
    let err = JwtAuth::<TestClaims>::builder()
        .issuer(ISSUER)
        .build()
        .unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[tokio::test]
async fn static_keys_beside_a_key_source_that_answers_too_are_ambiguous() {
    // Both the static secret and the source offer the one kid-less HS256
    // key: two candidates, refused (never resolved to the first), in
    // either order. Each source alone verifies the token.
    for static_first in [true, false] {
        let builder = JwtAuth::<TestClaims>::builder();
        let builder = if static_first {
            builder
                .hmac_secret(SECRET)
                .key_source(DeferredKeys::new(|| Ok(hmac_key())))
        } else {
            builder
                .key_source(DeferredKeys::new(|| Ok(hmac_key())))
                .hmac_secret(SECRET)
        };
        let auth = builder.issuer(ISSUER).audience(AUDIENCE).build().unwrap();
        let err = auth.verifier().verify(&valid_token()).await.unwrap_err();
        assert_eq!(err.kind(), AuthErrorKind::UnknownKey, "{static_first}");
    }
    let alone = source_builder(DeferredKeys::new(|| Ok(hmac_key())))
        .build()
        .unwrap();
    assert!(alone.verifier().verify(&valid_token()).await.is_ok());
}

#[test]
fn invalid_required_scope_is_a_build_error() {
    for scope in ["", "a b", "a\"b"] {
        assert!(builder().require_scope(scope).build().is_err(), "{scope:?}");
    }
}

#[tokio::test]
async fn layer_also_guards_the_router_fallback() {
    // The layer also guards the router's fallback (unknown paths).
    let (app, hits) = router(builder().build().unwrap());
    let req = Request::get("/nowhere").body(Body::empty()).unwrap();
    assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(MISSING)).await;
    let res = send(
        &app,
        Request::get("/nowhere")
            .header("authorization", format!("Bearer {}", valid_token()))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ready_key_that_does_not_allow_the_alg_is_refused() {
    // A faulty source that answers at once with a key for another algorithm.
    struct WrongKey(Arc<Key>);
    impl KeySource for WrongKey {
        fn lookup(&self, _kid: Option<&str>, _alg: Algorithm) -> Lookup {
            Lookup::Ready(Ok(Arc::clone(&self.0)))
        }
    }
    let ec = Arc::new(Key::ec_pem(EC256_PUBLIC_PEM).unwrap());
    let (app, hits) = router(source_builder(WrongKey(ec)).build().unwrap());
    // HS256, keyed with the EC public point: what an attacker would try.
    let point = jsonwebtoken::DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).unwrap();
    let secret = point.try_get_as_bytes().unwrap().to_vec();
    let token = sign(
        Algorithm::HS256,
        None,
        &claims(),
        &EncodingKey::from_secret(&secret),
    );
    assert_invalid_token(&app, &hits, bearer(&token), "algorithm not allowed").await;
}

/// A service that is not `Send` (it holds an `Rc`), counting its calls.
fn local_service() -> (
    impl tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
    std::rc::Rc<std::cell::Cell<usize>>,
) {
    use std::rc::Rc;
    let calls = Rc::new(std::cell::Cell::new(0));
    let seen = Rc::clone(&calls);
    let inner = service_fn(move |_req: Request<Body>| {
        let seen = Rc::clone(&seen);
        async move {
            seen.set(seen.get() + 1);
            Ok::<_, Infallible>(Response::new(Body::empty()))
        }
    });
    (inner, calls)
}

/// A service that is not `Send` works behind the layer: the response
/// future is `Send` only when the inner service is, and nothing else asks
/// for it.
#[tokio::test(flavor = "current_thread")]
async fn a_service_that_is_not_send_works_behind_the_layer() {
    let (inner, calls) = local_service();
    let auth = builder().build().unwrap();
    let svc = ServiceBuilder::new().layer(auth).service(inner);
    let res = svc.clone().oneshot(bearer(&valid_token())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = svc.oneshot(anonymous()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.get(), 1);
}

/// The same with a remote key source: the request that waits for the key
/// set holds the `!Send` service in its pending state.
#[cfg(feature = "test-util")]
#[tokio::test(flavor = "current_thread")]
async fn a_service_that_is_not_send_works_while_the_key_set_is_fetched() {
    let server = jwt_layer::testing::JwksServer::start().await.unwrap();
    server.set_jwks(jwks_json(&[rsa_jwk("rsa")]));
    let (inner, calls) = local_service();
    let auth = JwtAuth::<TestClaims>::builder()
        .key_source(jwt_layer::keys::RemoteJwks::builder(server.url()))
        .issuer(ISSUER)
        .build()
        .unwrap();
    let svc = ServiceBuilder::new().layer(auth).service(inner);
    let token = sign(Algorithm::RS256, Some("rsa"), &claims(), &rsa_signer());
    let res = svc.oneshot(bearer(&token)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!((calls.get(), server.request_count()), (1, 1));
}
