//! Which inner service instance the tower service calls:
//! `JwtAuthService::call` calls the inner service it drove to readiness, in
//! place when the answer is known at once (no clone), and moves it into the
//! future (leaving one clone behind) only when a key must be fetched; a
//! rejection releases the readied instance without calling it.

mod common;

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use http::{Request, Response, StatusCode};
use jwt_layer::VerifiedClaims;
use serde_json::json;
use tower::{Layer as _, Service, ServiceExt as _};

use common::*;

/// What the probe services saw.
#[derive(Debug, Default)]
struct ProbeLog {
    next_id: AtomicUsize,
    clones: AtomicUsize,
    readied: Mutex<Vec<usize>>,
    /// (instance id, whether that instance was ready when called)
    called: Mutex<Vec<(usize, bool)>>,
    /// Instances dropped while ready but not called: what readiness
    /// reserved (a permit, a slot) was released.
    released: Mutex<Vec<usize>>,
}

impl ProbeLog {
    fn clones(&self) -> usize {
        self.clones.load(Ordering::SeqCst)
    }
    fn readied(&self) -> Vec<usize> {
        self.readied.lock().unwrap().clone()
    }
    fn called(&self) -> Vec<(usize, bool)> {
        self.called.lock().unwrap().clone()
    }
    fn released(&self) -> Vec<usize> {
        self.released.lock().unwrap().clone()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.ready {
            self.log.released.lock().unwrap().push(self.id);
        }
    }
}

/// An inner service that records which instance (by id) was readied and
/// called, and counts its clones. A clone is a new, not-ready instance.
#[derive(Debug)]
struct Probe {
    id: usize,
    ready: bool,
    log: Arc<ProbeLog>,
}

impl Probe {
    fn new(log: &Arc<ProbeLog>) -> Self {
        Self {
            id: log.next_id.fetch_add(1, Ordering::SeqCst),
            ready: false,
            log: Arc::clone(log),
        }
    }
}

impl Clone for Probe {
    fn clone(&self) -> Self {
        self.log.clones.fetch_add(1, Ordering::SeqCst);
        Self::new(&self.log)
    }
}

impl<B> Service<Request<B>> for Probe {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.ready = true;
        self.log.readied.lock().unwrap().push(self.id);
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        self.log.called.lock().unwrap().push((self.id, self.ready));
        self.ready = false;
        let sub = req
            .extensions()
            .get::<VerifiedClaims<TestClaims>>()
            .map_or_else(|| "anonymous".to_owned(), |c| c.sub.clone());
        ready(Ok(Response::new(format!("{sub}#{}", self.id))))
    }
}

/// Drives `svc` to readiness, then calls it: one request, as a server
/// would send it.
async fn call_once<S>(svc: &mut S, req: Request<Body>) -> Response<String>
where
    S: Service<Request<Body>, Response = Response<String>, Error = Infallible>,
{
    svc.ready().await.unwrap().call(req).await.unwrap()
}

/// Sends the same token (verified, then cached) and distinct tokens, 20 in
/// all, each answered by instance 0 in place; returns the expected
/// `(instance, ready)` calls.
async fn call_accepted_tokens<S>(svc: &mut S, same: &str) -> Vec<(usize, bool)>
where
    S: Service<Request<Body>, Response = Response<String>, Error = Infallible>,
{
    let mut expected_calls = Vec::new();
    for i in 0..20 {
        let token = if i % 2 == 0 {
            same.to_owned()
        } else {
            hs256(&claims_for_sub(&format!("user{i}")))
        };
        let want = if i % 2 == 0 {
            "alice#0".to_owned()
        } else {
            format!("user{i}#0")
        };
        let res = call_once(svc, bearer(&token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.into_body(), want);
        expected_calls.push((0, true));
    }
    expected_calls
}

/// Tokens the default layer refuses: a forged signature, expired, another
/// audience, not a token, four segments.
fn rejected_tokens(same: &str) -> Vec<String> {
    let now = now();
    vec![
        with_signature(same, &[0u8; 32]),
        hs256(&claims_with(json!({"exp": now - 3600}))),
        hs256(&claims_with(json!({"aud": "nope"}))),
        "not.a.token".to_owned(),
        format!("{same}.extra"),
    ]
}

#[tokio::test]
async fn static_keys_call_the_readied_inner_service_in_place_without_cloning() {
    let log = Arc::new(ProbeLog::default());
    let mut svc = builder().build().unwrap().layer(Probe::new(&log));
    let same = valid_token();
    let expected_calls = call_accepted_tokens(&mut svc, &same).await;
    let mut readies = 20;
    assert_eq!(log.clones(), 0, "the hot path cloned the inner service");
    assert_eq!(svc.get_ref().id, 0);

    // Rejections answer without calling the inner service, and drop the
    // readied instance (releasing what its readiness reserved), keeping a
    // fresh clone.
    let rejected = rejected_tokens(&same);
    let mut released = Vec::new();
    for token in &rejected {
        let id = svc.get_ref().id;
        let res = call_once(&mut svc, bearer(token)).await;
        readies += 1;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert!(res.into_body().is_empty());
        released.push(id);
        assert_eq!(log.released(), released, "the readied instance was kept");
        assert_ne!(svc.get_ref().id, id);
    }
    let id = svc.get_ref().id;
    let res = call_once(&mut svc, anonymous()).await;
    readies += 1;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    released.push(id);
    assert_eq!(log.released(), released);

    assert_eq!(log.clones(), rejected.len() + 1, "one clone per rejection");
    let mut readied = vec![0; 20];
    readied.extend(0..=rejected.len());
    assert_eq!(log.readied().len(), readies);
    assert_eq!(log.readied(), readied);
    assert_eq!(
        log.called(),
        expected_calls,
        "rejections reached the inner service"
    );
}

/// Optional mode: a request without a token calls the readied instance in
/// place, too; a rejected one releases it.
#[tokio::test]
async fn optional_mode_calls_the_readied_inner_service_in_place_and_rejections_release_it() {
    let same = valid_token();
    let log = Arc::new(ProbeLog::default());
    let mut svc = builder()
        .optional()
        .build()
        .unwrap()
        .layer(Probe::new(&log));
    for round in 0..3 {
        let res = call_once(&mut svc, anonymous()).await;
        assert_eq!(res.into_body(), format!("anonymous#{round}"));
        let res = call_once(&mut svc, bearer(&same)).await;
        assert_eq!(res.into_body(), format!("alice#{round}"));
        let res = call_once(&mut svc, bearer("bad.to.ken")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(log.clones(), 3);
    assert_eq!(log.released(), vec![0, 1, 2]);
    assert_eq!(
        log.called(),
        vec![
            (0, true),
            (0, true),
            (1, true),
            (1, true),
            (2, true),
            (2, true)
        ]
    );
}

#[cfg(feature = "test-util")]
mod remote {
    //! With a remote key set not yet loaded, the first request must wait
    //! for a fetch: the readied instance goes with it, one clone stays
    //! behind.

    use std::time::Duration;

    use jsonwebtoken::Algorithm;
    use jwt_layer::JwtAuth;
    use jwt_layer::keys::RemoteJwks;
    use jwt_layer::testing::JwksServer;

    use super::*;

    /// A key server with the Ed25519 fixture as `ed-1`.
    async fn ed_server() -> JwksServer {
        server_with(jwks_json(&[ed_jwk("ed-1")])).await
    }

    /// A layer over `server`'s keys, not yet loaded.
    fn auth(server: &JwksServer) -> JwtAuth<TestClaims> {
        let keys = RemoteJwks::builder(server.url())
            .timeout(Duration::from_millis(2000))
            .build()
            .unwrap();
        JwtAuth::<TestClaims>::builder()
            .key_source(keys)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn remote_keys_move_the_readied_inner_service_into_the_fetch() {
        let server = ed_server().await;
        let token = sign(Algorithm::EdDSA, Some("ed-1"), &claims(), &ed_signer());

        let log = Arc::new(ProbeLog::default());
        let mut svc = auth(&server).layer(Probe::new(&log));
        let fut = tower::ServiceExt::<Request<Body>>::ready(&mut svc)
            .await
            .unwrap()
            .call(bearer(&token));
        assert_eq!(log.clones(), 1, "exactly one clone stays behind");
        assert_eq!(svc.get_ref().id, 1, "the service keeps the clone");
        assert!(!svc.get_ref().ready, "the clone is not ready");
        let res = fut.await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.into_body(), "alice#0", "the readied instance answered");
        assert_eq!(log.readied(), vec![0]);
        assert_eq!(log.called(), vec![(0, true)]);
        assert_eq!(server.request_count(), 1);

        // Keys loaded: the next request is answered in place by the clone,
        // once it is readied; no further clone.
        let res = call_once(&mut svc, bearer(&token)).await;
        assert_eq!(res.into_body(), "alice#1");
        let forged = with_signature(&token, &[7u8; 64]);
        let res = call_once(&mut svc, bearer(&forged)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // The rejection released the readied clone and kept a fresh one.
        assert_eq!(log.clones(), 2);
        assert_eq!(log.released(), vec![1]);
        assert_eq!(log.readied(), vec![0, 1, 1]);
        assert_eq!(log.called(), vec![(0, true), (1, true)]);
        assert_eq!(server.request_count(), 1);
    }

    /// A forged token that must wait for the fetch is refused after it,
    /// without calling the inner service.
    #[tokio::test]
    async fn a_forged_token_waiting_for_the_fetch_never_calls_the_inner_service() {
        let server = ed_server().await;
        let token = sign(Algorithm::EdDSA, Some("ed-1"), &claims(), &ed_signer());
        let forged = with_signature(&token, &[7u8; 64]);
        let log = Arc::new(ProbeLog::default());
        let mut svc = auth(&server).layer(Probe::new(&log));
        let before = server.request_count();
        let res = call_once(&mut svc, bearer(&forged)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            server.request_count(),
            before + 1,
            "it did wait for a fetch"
        );
        assert_eq!(log.clones(), 1);
        assert!(
            log.called().is_empty(),
            "a rejection called the inner service"
        );
    }
}
