//! gRPC answers: in-process through the layer (the exact headers), and
//! `examples/grpc.rs` as a real process called by a real tonic client.
#![cfg(all(feature = "test-util", feature = "axum"))]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::process::Server;
use common::*;
use jsonwebtoken::Algorithm;
use jwt_layer::testing::{Behavior, JwksServer};
use jwt_layer::{AuthError, Authorize};
use serde_json::json;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tower::ServiceExt as _;

fn grpc(token: Option<&str>, content_type: &str) -> Request<Body> {
    let mut req = Request::get("/").header("content-type", content_type);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.body(Body::empty()).unwrap()
}

/// (HTTP status, content-type, grpc-status, grpc-message, www-authenticate)
type Answer = (
    u16,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn answer(app: axum::Router, req: Request<Body>) -> Answer {
    let res = app.oneshot(req).await.unwrap();
    let h = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    (
        res.status().as_u16(),
        h("content-type"),
        h("grpc-status"),
        h("grpc-message"),
        h("www-authenticate"),
    )
}

fn grpc_answer(status: &str, message: &str, challenge: Option<String>) -> Answer {
    (
        200,
        Some("application/grpc".into()),
        Some(status.into()),
        Some(message.into()),
        challenge,
    )
}

#[tokio::test]
async fn refused_grpc_requests_get_grpc_statuses_with_the_challenge_kept() {
    let (app, hits) = router(builder().build().unwrap());
    let expired = hs256(&claims_with(json!({"exp": now() - 3600})));
    for content_type in [
        "application/grpc",
        "application/grpc+proto",
        "Application/GRPC",
    ] {
        assert_eq!(
            answer(app.clone(), grpc(None, content_type)).await,
            grpc_answer("16", "no bearer token", Some(MISSING.into())),
            "{content_type}"
        );
    }
    assert_eq!(
        answer(app.clone(), grpc(Some(&expired), "application/grpc")).await,
        grpc_answer("16", "token expired", Some(invalid_token("token expired")))
    );
    // 400 is UNAUTHENTICATED too.
    let two = grpc(Some("a b"), "application/grpc");
    assert_eq!(answer(app.clone(), two).await.2.as_deref(), Some("16"));
    // Not gRPC: gRPC-Web and JSON keep the HTTP answer.
    for content_type in [
        "application/grpc-web",
        "application/json",
        "application/grpcx",
    ] {
        let (status, _, grpc_status, ..) = answer(app.clone(), grpc(None, content_type)).await;
        assert_eq!((status, grpc_status), (401, None), "{content_type}");
    }
    assert_eq!(hits.count(), 0);
    let ok = answer(app, grpc(Some(&valid_token()), "application/grpc")).await;
    assert_eq!((ok.0, ok.2), (200, None));
    assert_eq!(hits.count(), 1);
}

#[tokio::test]
async fn scope_refusals_are_permission_denied_and_outages_unavailable() {
    let admin = Authorize::<TestClaims>::builder()
        .scope("admin")
        .build()
        .unwrap();
    let (app, _) = router(
        tower::ServiceBuilder::new()
            .layer(builder().build().unwrap())
            .layer(admin),
    );
    let scope = "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"insufficient scope\", scope=\"admin\"";
    assert_eq!(
        answer(app, grpc(Some(&valid_token()), "application/grpc")).await,
        grpc_answer("7", "insufficient scope", Some(scope.into()))
    );

    let keys = JwksServer::start().await.unwrap();
    keys.set_behavior(Behavior::Status(500));
    let auth = jwt_layer::JwtAuth::<TestClaims>::builder()
        .key_source(remote(&keys).build().unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let (app, _) = router(auth);
    let token = sign(Algorithm::RS256, Some("rs-1"), &claims(), &rsa_signer());
    let res = app
        .oneshot(grpc(Some(&token), "application/grpc"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "14");
    assert_eq!(res.headers()["grpc-message"], "signing keys unavailable");
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn grpc_answers_can_be_turned_off_and_compose_with_on_rejection() {
    let (app, _) = router(builder().grpc_answers(false).build().unwrap());
    let (status, _, grpc_status, ..) = answer(app, grpc(None, "application/grpc")).await;
    assert_eq!((status, grpc_status), (401, None));

    // The user's hook sees the gRPC answer and may add to it.
    let hook = |err: &AuthError, res: axum::http::Response<()>| {
        let (mut parts, ()) = res.into_parts();
        let kind = format!("{:?}", err.kind());
        parts.headers.insert("x-kind", kind.parse().unwrap());
        axum::http::Response::from_parts(parts, Body::empty())
    };
    let (app, _) = router(builder().on_rejection(hook).build().unwrap());
    let res = app.oneshot(grpc(None, "application/grpc")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(res.headers()["x-kind"], "MissingToken");
}

// ---------------------------------------------------------------------------
// examples/grpc.rs with a real tonic client

async fn start_example() -> (JwksServer, Server) {
    let keys = JwksServer::start().await.unwrap();
    keys.set_jwks(jwks_json(&[rsa_jwk("rs-1")]));
    let server = Server::start(
        "grpc",
        &[
            ("JWT_JWKS_URL", keys.url()),
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ],
    );
    (keys, server)
}

fn call(token: Option<&str>) -> tonic::Request<HealthCheckRequest> {
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(t) = token {
        let value = format!("Bearer {t}").parse().unwrap();
        req.metadata_mut().insert("authorization", value);
    }
    req
}

fn rs256(claims: &serde_json::Value) -> String {
    sign(Algorithm::RS256, Some("rs-1"), claims, &rsa_signer())
}

#[tokio::test]
async fn tonic_client_gets_unauthenticated_permission_denied_and_success() {
    let (_keys, server) = start_example().await;
    let channel = Channel::from_shared(server.base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);

    let refused = client.check(call(None)).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.message(), "no bearer token");
    assert_eq!(refused.metadata().get("www-authenticate").unwrap(), MISSING);

    let expired = rs256(&claims_with(json!({"exp": now() - 3600})));
    let refused = client.check(call(Some(&expired))).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.message(), "token expired");

    // Check: a valid token; the handler read the claims (x-subject).
    let token = rs256(&claims_with(json!({"sub": "grpc-user"})));
    let ok = client.check(call(Some(&token))).await.unwrap();
    assert_eq!(ok.metadata().get("x-subject").unwrap(), "grpc-user");
    let serving = HealthCheckResponse {
        status: ServingStatus::Serving as i32,
    };
    assert_eq!(ok.into_inner(), serving);

    // Watch needs scope `admin`.
    let denied = client.watch(call(Some(&token))).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(denied.message(), "insufficient scope");
    let admin = rs256(&claims_with(json!({"scope": "read admin"})));
    let mut stream = client.watch(call(Some(&admin))).await.unwrap().into_inner();
    assert_eq!(stream.message().await.unwrap(), Some(serving));
    drop(server);
}
