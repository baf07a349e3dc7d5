//! Revocation through the layer: the in-memory list, then lists shared by
//! two "replicas" (two layers, each with its own list) through a real
//! `redis-server` started by the test, including Redis killed and restarted
//! empty mid-run.
#![cfg(all(feature = "test-util", feature = "axum"))]

mod common;

use std::time::Duration;

use axum::Router;
use common::*;
use jwt_layer::VerifiedClaims;
use jwt_layer::revocation::Revocations;
use serde_json::json;
use tower::ServiceExt as _;

fn app(revocations: Revocations) -> (Router, Hits) {
    router(builder().revocation(revocations).build().unwrap())
}

async fn status(app: &Router, token: &str) -> (u16, Option<String>) {
    let res = app.clone().oneshot(bearer(token)).await.unwrap();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), challenge)
}

/// A token with its own `jti`, issued `age` seconds ago.
fn token_for(sub: &str, jti: &str, age: u64) -> String {
    hs256(&claims_with(
        json!({"sub": sub, "jti": jti, "iat": now() - age}),
    ))
}

/// The claims a layer with a revocation list hands a handler (they keep
/// `jti`, `sub` and `iat` for the revoker).
async fn claims_of(token: &str) -> VerifiedClaims<TestClaims> {
    let verifier = builder()
        .revocation(Revocations::memory())
        .build()
        .unwrap()
        .verifier()
        .clone();
    verifier.verify(token).await.unwrap()
}

fn revoked() -> (u16, Option<String>) {
    (401, Some(invalid_token("token revoked")))
}

#[tokio::test]
async fn a_revoked_token_is_refused_even_from_the_token_cache() {
    let revocations = Revocations::memory();
    let (app, hits) = app(revocations.clone());
    let token = token_for("alice", "t-1", 0);
    let other = token_for("alice", "t-2", 0);
    // Twice: the second sighting stores it in the verified-token cache.
    for _ in 0..3 {
        assert_eq!(status(&app, &token).await.0, 200);
    }
    let revoker = revocations.revoker();
    revoker
        .revoke_token(&claims_of(&token).await)
        .await
        .unwrap();
    assert_eq!(status(&app, &token).await, revoked());
    assert_eq!(
        status(&app, &other).await.0,
        200,
        "another jti still passes"
    );
    assert_eq!(hits.count(), 4);
}

#[tokio::test]
async fn log_out_everywhere_refuses_tokens_issued_until_the_cutoff_second() {
    let revocations = Revocations::memory();
    let (app, _) = app(revocations.clone());
    let old = token_for("bob", "b-1", 120);
    let now_token = token_for("bob", "b-2", 0);
    let someone_else = token_for("carol", "c-1", 120);
    assert_eq!(status(&app, &old).await.0, 200);
    revocations.revoker().revoke_subject("bob").await.unwrap();
    assert_eq!(status(&app, &old).await, revoked());
    // iat equal to the cutoff second is refused too.
    assert_eq!(status(&app, &now_token).await, revoked());
    assert_eq!(status(&app, &someone_else).await.0, 200);
    // A login after the cutoff second passes.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = token_for("bob", "b-3", 0);
    assert_eq!(status(&app, &fresh).await.0, 200);
}

#[tokio::test]
async fn a_full_in_memory_list_refuses_new_revocations() {
    let revocations = Revocations::memory_bounded(1, Duration::from_secs(3600));
    let (app, _) = app(revocations.clone());
    let revoker = revocations.revoker();
    revoker.revoke_jti("x-1", now() + 60).await.unwrap();
    let err = revoker.revoke_jti("x-2", now() + 60).await.unwrap_err();
    assert_eq!(err.kind(), jwt_layer::revocation::RevocationErrorKind::Full);
    // The caller was told; the list stays in force for what it holds.
    assert!(revocations.is_current());
    assert_eq!(status(&app, &token_for("dan", "x-1", 0)).await, revoked());
    assert_eq!(status(&app, &token_for("dan", "x-2", 0)).await.0, 200);
    // Expired entries make room (an `exp` long past, beyond the margin).
    let roomy = Revocations::memory_bounded(1, Duration::from_secs(3600));
    let revoker = roomy.revoker();
    revoker.revoke_jti("old", now() - 3600).await.unwrap();
    revoker.revoke_jti("new", now() + 60).await.unwrap();
    assert_eq!(roomy.len(), 1);
}

// ---------------------------------------------------------------------------
// Shared through a real redis-server

#[cfg(feature = "redis")]
mod shared {
    use std::time::Instant;

    use super::*;
    use common::redis::RedisServer;
    use jwt_layer::revocation::FailurePolicy;

    fn replica(redis: &RedisServer, policy: FailurePolicy) -> Revocations {
        Revocations::redis(redis.url())
            .failure_policy(policy)
            .max_outage(Duration::from_millis(500))
            .build()
            .unwrap()
    }

    /// Polls `app` with `token` until it answers `want`, up to `limit`;
    /// how long it took.
    async fn until(app: &Router, token: &str, want: u16, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let got = status(app, token).await.0;
            if got == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "still {got}, not {want}, after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_revocation_reaches_every_replica_within_a_second() {
        let redis = RedisServer::start();
        let (a, b) = (
            replica(&redis, FailurePolicy::Closed),
            replica(&redis, FailurePolicy::Closed),
        );
        assert!(a.ready(Duration::from_secs(5)).await);
        assert!(b.ready(Duration::from_secs(5)).await);
        let (app_b, _) = app(b.clone());
        let mut delays = Vec::new();
        for i in 0..100 {
            let token = token_for("erin", &format!("e-{i}"), 0);
            assert_eq!(status(&app_b, &token).await.0, 200);
            let claims = claims_of(&token).await;
            let start = Instant::now();
            a.revoker().revoke_token(&claims).await.unwrap();
            until(&app_b, &token, 401, Duration::from_secs(1)).await;
            delays.push(start.elapsed());
        }
        delays.sort();
        eprintln!(
            "propagation over 100 revocations: p50 {:?}, p99 {:?}, max {:?}",
            delays[49], delays[98], delays[99]
        );
        assert!(delays[99] < Duration::from_secs(1));
        // A replica started later loads what is there.
        let c = replica(&redis, FailurePolicy::Closed);
        assert!(c.ready(Duration::from_secs(5)).await);
        assert_eq!(c.len(), 100);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redis_that_stops_answering_is_an_outage_too() {
        let redis = RedisServer::start();
        let closed = replica(&redis, FailurePolicy::Closed);
        assert!(closed.ready(Duration::from_secs(5)).await);
        let (app, _) = app(closed.clone());
        let token = token_for("ivy", "i-1", 0);
        assert_eq!(status(&app, &token).await.0, 200);
        // Frozen, not gone: no connection is refused, nothing answers.
        redis.pause();
        let took = until(&app, &token, 503, Duration::from_secs(6)).await;
        eprintln!("a frozen Redis was an outage after {took:?} (bound 500 ms)");
        redis.resume();
        until(&app, &token, 200, Duration::from_secs(10)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn values_that_are_not_times_do_not_stop_a_load() {
        let redis = RedisServer::start();
        let client = ::redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        for (key, value) in [
            ("jwt-layer:revoked:jti:garbage", "not a time"),
            ("jwt-layer:revoked:jti:far", "18446744073709551615"),
            ("jwt-layer:revoked:jti:j-1", "4000000000"),
        ] {
            ::redis::cmd("SET")
                .arg(key)
                .arg(value)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
        let list = replica(&redis, FailurePolicy::Closed);
        assert!(list.ready(Duration::from_secs(5)).await);
        assert_eq!(list.len(), 2, "the two times are held, the garbage skipped");
        let (app, _) = app(list);
        assert_eq!(status(&app, &token_for("jo", "j-1", 0)).await, revoked());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_outage_is_closed_or_open_and_revocations_made_in_it_survive_an_empty_restart() {
        let mut redis = RedisServer::start();
        let closed = replica(&redis, FailurePolicy::Closed);
        let open = replica(&redis, FailurePolicy::Open);
        assert!(closed.ready(Duration::from_secs(5)).await);
        assert!(open.ready(Duration::from_secs(5)).await);
        let (closed_app, _) = app(closed.clone());
        let (open_app, _) = app(open.clone());
        let before = token_for("frank", "f-1", 0);
        let during = token_for("frank", "f-2", 0);
        open.revoker()
            .revoke_token(&claims_of(&before).await)
            .await
            .unwrap();
        until(&closed_app, &before, 401, Duration::from_secs(1)).await;
        // No valid request is refused while Redis is healthy.
        assert_eq!(status(&closed_app, &during).await.0, 200);

        redis.kill();
        // Within the bound both answer from their mirror.
        assert_eq!(status(&closed_app, &during).await.0, 200);
        // Past it: closed answers 503, open keeps answering.
        until(&closed_app, &during, 503, Duration::from_secs(3)).await;
        assert_eq!(status(&open_app, &during).await.0, 200);
        assert_eq!(status(&open_app, &before).await, revoked());
        // A revocation made during the outage holds where it was made…
        let err = closed
            .revoker()
            .revoke_token(&claims_of(&during).await)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            jwt_layer::revocation::RevocationErrorKind::Store
        );
        assert_eq!(status(&open_app, &during).await.0, 200);

        // …and everywhere once Redis is back, although it came back empty:
        // the replicas write back what they hold.
        redis.restart();
        until(&closed_app, &during, 401, Duration::from_secs(5)).await;
        until(&open_app, &during, 401, Duration::from_secs(5)).await;
        assert_eq!(status(&closed_app, &before).await, revoked());
        let fresh = Revocations::redis(redis.url()).build().unwrap();
        assert!(fresh.ready(Duration::from_secs(5)).await);
        assert_eq!(fresh.len(), 2, "both revocations are in Redis again");
    }
}

#[tokio::test]
async fn a_token_is_revoked_from_its_text_only_once_it_verifies() {
    let revocations = Revocations::memory();
    let auth = builder().revocation(revocations.clone()).build().unwrap();
    let verifier = auth.verifier().clone();
    let (app, _) = router(auth);
    let token = token_for("gus", "g-1", 0);
    let revoker = revocations.revoker();
    revoker.revoke_token_str(&verifier, &token).await.unwrap();
    assert_eq!(status(&app, &token).await, revoked());
    // A forged token naming another's jti revokes nothing.
    let victim = token_for("hal", "h-1", 0);
    let forged = hs256_with(
        b"another secret, thirty-two bytes long!!",
        None,
        &claims_with(json!({"jti": "h-1"})),
    );
    let err = revoker
        .revoke_token_str(&verifier, &forged)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        jwt_layer::revocation::RevocationErrorKind::InvalidToken
    );
    assert_eq!(status(&app, &victim).await.0, 200);
}
