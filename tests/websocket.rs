//! WebSocket authentication: the subprotocol and query sources through the
//! layer in-process, the expiry helper on tokio's paused clock, and
//! `examples/websocket.rs` as a real process driven by a real WebSocket
//! client (tokio-tungstenite). The browser check is
//! `scripts/browser-websocket.sh`.
#![cfg(all(feature = "test-util", feature = "axum"))]

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Uri};
use axum::routing::get;
use common::process::Server;
use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use jsonwebtoken::Algorithm;
use jwt_layer::testing::JwksServer;
use jwt_layer::token::{BearerHeader, QueryToken, SubprotocolToken, TokenSource as _};
use jwt_layer::{JwtAuth, RegisteredClaims};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tower::ServiceExt as _;

/// A route that answers with what the handler saw: the offered
/// subprotocols and the URI.
fn seen_app(source: impl jwt_layer::token::TokenSource) -> Router {
    let auth = builder().token_source(source).build().unwrap();
    let handler = |headers: HeaderMap, uri: Uri| async move {
        let offered = headers
            .get("sec-websocket-protocol")
            .map_or("-", |v| v.to_str().unwrap())
            .to_owned();
        format!("{offered} {uri}")
    };
    Router::new().route("/ws", get(handler)).layer(auth)
}

async fn call(app: &Router, req: Request<Body>) -> (u16, Option<String>, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let protocol = res
        .headers()
        .get("sec-websocket-protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, protocol, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_token_entry_never_reaches_the_handler_and_the_marker_is_echoed() {
    let app = seen_app(BearerHeader::new().or(SubprotocolToken::new("jwt").unwrap()));
    let offer = |value: String| {
        Request::get("/ws")
            .header("sec-websocket-protocol", value)
            .body(Body::empty())
            .unwrap()
    };
    let token = valid_token();
    assert_eq!(
        call(&app, offer(format!("chat, jwt, {token}"))).await,
        (200, Some("jwt".into()), "chat, jwt /ws".into())
    );
    let expired = hs256(&claims_with(json!({"exp": now() - 3600})));
    let (status, protocol, _) = call(&app, offer(format!("jwt, {expired}"))).await;
    assert_eq!((status, protocol), (401, None));
    let (status, ..) = call(&app, offer("chat, jwt".into())).await;
    assert_eq!(status, 400);
    // A bearer token leaves the offered protocols alone.
    let req = Request::get("/ws")
        .header("authorization", format!("Bearer {token}"))
        .header("sec-websocket-protocol", "chat")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, req).await, (200, None, "chat /ws".into()));
}

#[tokio::test]
async fn a_bearer_token_and_another_subprotocol_token_are_malformed() {
    let app = seen_app(BearerHeader::new().or(SubprotocolToken::new("jwt").unwrap()));
    let other = hs256(&claims_with(json!({"sub": "mallory"})));
    let req = Request::get("/ws")
        .header("authorization", format!("Bearer {}", valid_token()))
        .header("sec-websocket-protocol", format!("jwt, {other}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, req).await.0, 400);
}

#[tokio::test]
async fn a_dpop_presentation_leaves_the_subprotocol_source_alone() {
    use jwt_layer::dpop::Dpop;
    use jwt_layer::issue::SigningKey;
    use jwt_layer::testing::{DpopClient, TestKey};
    let client = DpopClient::new(TestKey::new(
        SigningKey::from_pem(EC256_PRIVATE_PEM).unwrap(),
    ));
    let auth = builder()
        .dpop(Dpop::new().public_origin("https://api.example.com"))
        .token_source(SubprotocolToken::new("jwt").unwrap())
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/ws",
            get(|headers: HeaderMap| async move {
                headers["sec-websocket-protocol"]
                    .to_str()
                    .unwrap()
                    .to_owned()
            }),
        )
        .layer(auth);
    let token = hs256(&claims_with(json!({"cnf": {"jkt": client.jkt()}})));
    let proof = client
        .proof("GET", "https://api.example.com/ws", &token)
        .unwrap();
    let req = Request::get("/ws")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .header("sec-websocket-protocol", "jwt, chat")
        .body(Body::empty())
        .unwrap();
    // The subprotocol source found nothing: its list reaches the handler
    // as sent and nothing is echoed.
    assert_eq!(call(&app, req).await, (200, None, "jwt, chat".into()));
}

#[tokio::test]
async fn the_query_source_is_for_upgrades_and_leaves_no_token_in_the_uri() {
    let app = seen_app(QueryToken::new());
    let token = valid_token();
    let uri = format!("/ws?room=7&access_token={token}");
    let upgrade = Request::get(&uri)
        .header("upgrade", "websocket")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        call(&app, upgrade).await,
        (200, None, "- /ws?room=7".into())
    );
    let plain = Request::get(&uri).body(Body::empty()).unwrap();
    assert_eq!(call(&app, plain).await.0, 401);

    let everywhere = seen_app(QueryToken::new().on_all_requests());
    let plain = Request::get(&uri).body(Body::empty()).unwrap();
    assert_eq!(
        call(&everywhere, plain).await,
        (200, None, "- /ws?room=7".into())
    );
}

#[tokio::test(start_paused = true)]
async fn expired_completes_when_the_token_expires() {
    let auth = JwtAuth::<RegisteredClaims>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let token = hs256(&claims_with(json!({"exp": now() + 30})));
    let claims = auth.verifier().verify(&token).await.unwrap();
    let at = claims.expires_at().unwrap();
    let left = at.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(left <= Duration::from_secs(30) && left > Duration::from_secs(25));
    let start = tokio::time::Instant::now();
    claims.expired().await;
    let waited = start.elapsed();
    assert!(
        waited >= left - Duration::from_secs(1) && waited <= left + Duration::from_millis(5),
        "{waited:?}"
    );
}

// ---------------------------------------------------------------------------
// examples/websocket.rs with a real WebSocket client

async fn start_example(echo: &str) -> (JwksServer, Server) {
    let keys = JwksServer::start().await.unwrap();
    keys.set_jwks(jwks_json(&[rsa_jwk("rs-1")]));
    let server = Server::start(
        "websocket",
        &[
            ("JWT_JWKS_URL", keys.url()),
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("JWT_LEEWAY_SECS", "0".to_owned()),
            ("JWT_WEBSOCKET_ECHO", echo.to_owned()),
        ],
    );
    (keys, server)
}

fn rs256(claims: &serde_json::Value) -> String {
    sign(Algorithm::RS256, Some("rs-1"), claims, &rsa_signer())
}

const INVALID_REQUEST: &str =
    r#"Bearer realm="api", error="invalid_request", error_description="malformed credentials""#;

/// The upgrade request of a browser's `new WebSocket(url, protocols)`.
fn offer(server: &Server, protocols: &str) -> Request<()> {
    let url = format!("{}/ws", server.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        req.headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().unwrap());
    }
    req
}

async fn next_text(
    socket: &mut (impl futures_util::Stream<Item = Result<Message, WsError>> + Unpin),
) -> Message {
    tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a message within 10 s")
        .expect("an open socket")
        .expect("a frame")
}

#[tokio::test]
async fn the_example_greets_echoes_and_selects_the_marker() {
    let (_keys, server) = start_example("on").await;
    let token = rs256(&claims_with(json!({"sub": "socket-user"})));
    let (mut socket, res) =
        tokio_tungstenite::connect_async(offer(&server, &format!("jwt, {token}")))
            .await
            .unwrap();
    assert_eq!(res.headers()["sec-websocket-protocol"], "jwt");
    assert_eq!(
        next_text(&mut socket).await,
        Message::text("hello socket-user")
    );
    for text in ["one", "two"] {
        socket.send(Message::text(text)).await.unwrap();
        assert_eq!(next_text(&mut socket).await, Message::text(text));
    }
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn the_example_refuses_before_the_upgrade() {
    let (_keys, server) = start_example("on").await;
    let expired = rs256(&claims_with(json!({"exp": now() - 3600})));
    for (protocols, status, challenge) in [
        ("", 401, MISSING.to_owned()),
        ("jwt", 400, INVALID_REQUEST.to_owned()),
        (
            &*format!("jwt, {expired}"),
            401,
            invalid_token("token expired"),
        ),
    ] {
        let err = tokio_tungstenite::connect_async(offer(&server, protocols))
            .await
            .unwrap_err();
        let WsError::Http(res) = err else {
            panic!("{protocols}: not an HTTP refusal: {err}");
        };
        assert_eq!(res.status().as_u16(), status, "{protocols}");
        assert_eq!(res.headers()["www-authenticate"], challenge.as_str());
    }
}

#[tokio::test]
async fn without_the_echo_a_client_refuses_the_socket() {
    let (_keys, server) = start_example("off").await;
    let token = rs256(&claims());
    let err = tokio_tungstenite::connect_async(offer(&server, &format!("jwt, {token}")))
        .await
        .unwrap_err();
    assert!(matches!(err, WsError::Protocol(_)), "{err}");
}

#[tokio::test]
async fn the_example_closes_the_socket_when_the_token_expires() {
    let (_keys, server) = start_example("on").await;
    let token = rs256(&claims_with(json!({"exp": now() + 2})));
    let (mut socket, _) =
        tokio_tungstenite::connect_async(offer(&server, &format!("jwt, {token}")))
            .await
            .unwrap();
    assert_eq!(next_text(&mut socket).await, Message::text("hello alice"));
    let Message::Close(Some(frame)) = next_text(&mut socket).await else {
        panic!("expected a close frame");
    };
    assert_eq!(frame.code, CloseCode::Policy);
    assert_eq!(frame.reason.as_str(), "token expired");
}
