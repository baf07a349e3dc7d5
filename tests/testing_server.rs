//! Tests of `jwt_layer::testing::JwksServer`, over real sockets with reqwest.
#![cfg(feature = "test-util")]

use std::time::{Duration, Instant};

use jwt_layer::testing::{Behavior, JwksServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0"}]}"#;
const DISCOVERY: &str = "/.well-known/openid-configuration";

#[allow(clippy::unwrap_used)] // test helper, not a #[test] fn
fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[allow(clippy::unwrap_used)] // test helper, not a #[test] fn
async fn start() -> JwksServer {
    let server = JwksServer::start().await.unwrap();
    server.set_jwks(JWKS);
    server
}

/// Sends raw bytes on a fresh connection and reads until the server closes it.
#[allow(clippy::unwrap_used)] // test helper, not a #[test] fn
async fn raw(server: &JwksServer, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    timeout(Duration::from_secs(2), stream.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn urls_point_at_the_bound_port() {
    let server = start().await;
    let addr = server.addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(
        server.base_url(),
        format!("http://127.0.0.1:{}", addr.port())
    );
    assert_eq!(
        server.url(),
        format!("http://127.0.0.1:{}/jwks.json", addr.port())
    );
    assert_eq!(server.url_for("x"), format!("{}/x", server.base_url()));
    assert!(format!("{server:?}").contains("JwksServer"));
}

#[tokio::test]
async fn serves_jwks_with_exact_headers() {
    let server = start().await;
    let client = new_client();

    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(
        res.headers()["content-length"],
        JWKS.len().to_string().as_str()
    );
    assert!(res.headers().get("cache-control").is_none());
    assert!(res.headers().get("age").is_none());
    assert_eq!(res.text().await.unwrap(), JWKS);

    server.set_cache_control(Some("public, max-age=300"));
    server.set_age(Some(42));
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    assert_eq!(res.headers()["age"], "42");
    assert_eq!(res.text().await.unwrap(), JWKS);

    server.set_cache_control(None);
    server.set_age(None);
    server.set_jwks(r#"{"keys":[]}"#);
    let res = client.get(server.url()).send().await.unwrap();
    assert!(res.headers().get("cache-control").is_none());
    assert!(res.headers().get("age").is_none());
    assert_eq!(res.text().await.unwrap(), r#"{"keys":[]}"#);
}

#[tokio::test]
async fn serves_documents_404_and_405() {
    let server = start().await;
    let client = new_client();
    let discovery = format!(
        r#"{{"issuer":"{}","jwks_uri":"{}"}}"#,
        server.base_url(),
        server.url()
    );
    server.set_document(DISCOVERY, "application/json", discovery.clone());

    let res = client.get(server.url_for(DISCOVERY)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.text().await.unwrap(), discovery);

    let res = client.get(server.url_for("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let res = client.post(server.url()).body("x").send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");

    // A document at the JWKS path replaces the key set until removed.
    server.set_document(JwksServer::JWKS_PATH, "text/html", "<html></html>");
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html");
    assert_eq!(res.text().await.unwrap(), "<html></html>");
    server.remove_document(JwksServer::JWKS_PATH);
    server.remove_document(DISCOVERY);
    assert_eq!(
        client
            .get(server.url())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        JWKS
    );
    let res = client.get(server.url_for(DISCOVERY)).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn counts_jwks_and_total_requests() {
    let server = start().await;
    server.set_document(DISCOVERY, "application/json", "{}");
    let client = new_client();
    assert_eq!((server.request_count(), server.total_requests()), (0, 0));

    for _ in 0..3 {
        client
            .get(server.url())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    client.get(server.url_for(DISCOVERY)).send().await.unwrap();
    client.get(server.url_for("/missing")).send().await.unwrap();
    // Failing behaviors are counted too.
    server.set_behavior(Behavior::Status(500));
    client.get(server.url()).send().await.unwrap();
    assert_eq!(server.request_count(), 4);
    assert_eq!(server.total_requests(), 6);

    server.reset_counts();
    assert_eq!((server.request_count(), server.total_requests()), (0, 0));
    client.get(server.url()).send().await.unwrap();
    assert_eq!((server.request_count(), server.total_requests()), (1, 1));
    timeout(Duration::from_secs(1), server.wait_for_requests(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn keeps_connections_alive_and_handles_pipelining() {
    let server = start().await;
    let out = raw(
        &server,
        b"GET /jwks.json HTTP/1.1\r\nHost: a\r\n\r\nGET /nope?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    let first = out.find("HTTP/1.1 200 OK\r\n").unwrap();
    let second = out.find("HTTP/1.1 404 Not Found\r\n").unwrap();
    assert!(first < second, "{out}");
    assert!(out.contains(JWKS));
    assert!(out.ends_with("not found\n"), "{out}");
    assert_eq!((server.request_count(), server.total_requests()), (1, 2));
}

#[tokio::test]
async fn rejects_malformed_and_oversized_heads() {
    let server = start().await;
    let out = raw(&server, b"NOT HTTP\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");

    let mut big = b"GET /jwks.json HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 17 * 1024));
    big.extend_from_slice(b"\r\n\r\n");
    let out = raw(&server, &big).await;
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    assert_eq!(server.total_requests(), 0);
}

#[tokio::test]
async fn status_behavior() {
    let server = start().await;
    let client = new_client();
    server.set_behavior(Behavior::Status(500));
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(res.text().await.unwrap(), "500 Internal Server Error\n");

    server.set_behavior(Behavior::Status(304));
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());

    server.set_behavior(Behavior::Normal);
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn behavior_can_target_another_path() {
    let server = start().await;
    server.set_document(DISCOVERY, "application/json", "{}");
    server.set_behavior_at(DISCOVERY, Behavior::Status(503));
    let client = new_client();
    let res = client.get(server.url_for(DISCOVERY)).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn garbage_behavior() {
    let server = start().await;
    server.set_behavior(Behavior::Garbage);
    let res = new_client().get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body = res.bytes().await.unwrap();
    assert!(!body.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
}

#[tokio::test]
async fn huge_behavior() {
    let server = start().await;
    let client = new_client();
    server.set_behavior(Behavior::Huge(1_000_000));
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-length"], "1000000");
    let body = res.bytes().await.unwrap();
    assert_eq!(body.len(), 1_000_000);
    assert!(body.starts_with(br#"{"keys":["#));

    // Smaller than the JSON prefix.
    server.set_behavior(Behavior::Huge(3));
    let body = client
        .get(server.url())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], br#"{"k"#);
}

#[tokio::test]
async fn endless_behavior_streams_until_the_client_leaves() {
    let server = start().await;
    let client = new_client();
    server.set_behavior(Behavior::Endless);
    let mut res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-length").is_none());
    let mut read = 0;
    while read < 2 * 1024 * 1024 {
        read += res.chunk().await.unwrap().unwrap().len();
    }
    drop(res);

    server.set_behavior(Behavior::Normal);
    let res = client.get(server.url()).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), JWKS);
}

#[tokio::test]
async fn delay_behavior_answers_after_the_delay() {
    let server = start().await;
    server.set_behavior(Behavior::Delay(Duration::from_millis(50)));
    let started = Instant::now();
    let res = new_client().get(server.url()).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), JWKS);
}

#[tokio::test]
async fn stall_behavior_makes_the_client_time_out() {
    let server = start().await;
    let client = new_client();
    server.set_behavior(Behavior::Stall);
    let err = client
        .get(server.url())
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.request_count(), 1);

    server.set_behavior(Behavior::Normal);
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn slowloris_behavior_never_finishes_the_head() {
    let server = start().await;
    server.set_behavior(Behavior::Slowloris);
    let started = Instant::now();
    let err = new_client()
        .get(server.url())
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Seen from a raw socket: the head trickles in, a byte at a time.
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /jwks.json HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while got.len() < 4 {
        stream.read_exact(&mut byte).await.unwrap();
        got.push(byte[0]);
    }
    assert_eq!(&got[..], b"HTTP");
}

#[tokio::test]
async fn redirect_behavior() {
    let server = start().await;
    server.set_behavior(Behavior::Redirect("https://elsewhere.example/jwks".into()));
    let res = new_client().get(server.url()).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "https://elsewhere.example/jwks");
}

#[tokio::test]
async fn down_behavior_closes_without_answering() {
    let server = start().await;
    let client = new_client();
    // A pooled keep-alive connection first: Down must fail it too.
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    server.set_behavior(Behavior::Down);
    let err = client.get(server.url()).send().await.unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");
    assert!(new_client().get(server.url()).send().await.is_err());

    server.set_behavior(Behavior::Normal);
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn stop_listening_refuses_connections() {
    let server = start().await;
    let client = new_client();
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    server.stop_listening().await;
    let err = client.get(server.url()).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let err = TcpStream::connect(server.addr()).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    server.stop_listening().await; // idempotent
}

#[tokio::test]
async fn gate_holds_jwks_requests_until_released() {
    let server = start().await;
    server.set_document(DISCOVERY, "application/json", "{}");
    let client = new_client();
    server.stall_until_released();

    let first = tokio::spawn(client.get(server.url()).send());
    let second = tokio::spawn(client.get(server.url()).send());
    timeout(Duration::from_secs(1), server.wait_for_requests(2))
        .await
        .unwrap();
    timeout(Duration::from_secs(1), async {
        while server.held_requests() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();

    // Held requests do not block other paths.
    let res = client.get(server.url_for(DISCOVERY)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!first.is_finished() && !second.is_finished());

    server.release();
    for task in [first, second] {
        let res = timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(res.text().await.unwrap(), JWKS);
    }
    assert_eq!(server.held_requests(), 0);

    // The gate stays open after release.
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn dropping_the_server_frees_the_port() {
    let server = start().await;
    let client = new_client();
    let url = server.url();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    drop(server);
    assert!(client.get(&url).send().await.is_err());
    assert!(new_client().get(&url).send().await.is_err());
}

#[tokio::test]
async fn shutdown_waits_until_the_port_is_closed() {
    let server = start().await;
    let addr = server.addr();
    assert_eq!(
        new_client()
            .get(server.url())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.shutdown().await;
    let err = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime() {
    let server = start().await;
    let client = new_client();
    let tasks: Vec<_> = (0..8)
        .map(|_| tokio::spawn(client.get(server.url()).send()))
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(server.request_count(), 8);
}
