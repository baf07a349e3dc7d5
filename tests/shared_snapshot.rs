//! A key set shared by the fleet through a real `redis-server`: replicas
//! starting together against a counting key server fetch about once; with
//! the provider down a fresh replica verifies from the stored set; a stored
//! set's age counts toward `max_stale`.
#![cfg(all(feature = "test-util", feature = "axum", feature = "redis"))]

mod common;

use std::time::{Duration, SystemTime};

use common::redis::RedisServer;
use common::*;
use jwt_layer::keys::{RedisSnapshot, RemoteJwks, SavedKeySet, SharedSnapshot};
use jwt_layer::testing::{Behavior, JwksServer};
use tower::ServiceExt as _;

const KEY: &str = "jwt-layer-test:keys:provider";

fn replica(redis: &RedisServer, keys: &JwksServer) -> RemoteJwks {
    remote_with_shared_client(keys)
        .shared_snapshot(RedisSnapshot::new(&redis.url(), KEY).unwrap())
        .build()
        .unwrap()
}

async fn verifies(keys: RemoteJwks) -> u16 {
    let (app, _) = app_for(keys);
    app.oneshot(bearer(&rsa_token("rs-1")))
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_replicas_starting_together_fetch_at_most_twice() {
    let redis = RedisServer::start();
    let keys = server_with(jwks_json(&[rsa_jwk("rs-1")])).await;
    let replicas: Vec<RemoteJwks> = (0..8).map(|_| replica(&redis, &keys)).collect();
    let starts = replicas.iter().map(|r| {
        let r = r.clone();
        tokio::spawn(async move { r.prefetch().await })
    });
    for start in starts.collect::<Vec<_>>() {
        start.await.unwrap().unwrap();
    }
    let fetches = keys.request_count();
    eprintln!("8 replicas starting together: {fetches} key-set fetch(es)");
    assert!((1..=2).contains(&fetches), "{fetches} fetches");
    for r in replicas {
        assert_eq!(verifies(r).await, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_provider_down_a_fresh_replica_verifies_from_the_stored_set() {
    let redis = RedisServer::start();
    let keys = server_with(jwks_json(&[rsa_jwk("rs-1")])).await;
    replica(&redis, &keys).prefetch().await.unwrap();
    keys.set_behavior(Behavior::Status(503));
    keys.reset_counts();
    let fresh = replica(&redis, &keys);
    assert_eq!(verifies(fresh.clone()).await, 200);
    assert!(fresh.status().is_ready());
    assert_eq!(
        keys.request_count(),
        0,
        "the fresh stored set stood in for a fetch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_set_past_its_lifetime_plus_max_stale_is_not_used() {
    let redis = RedisServer::start();
    let keys = server_with(jwks_json(&[rsa_jwk("rs-1")])).await;
    keys.set_behavior(Behavior::Status(503));
    let store = RedisSnapshot::new(&redis.url(), KEY).unwrap();
    let document = jwks_json(&[rsa_jwk("rs-1")]);
    let build = |max_stale: u64| {
        remote_with_shared_client(&keys)
            .shared_snapshot(RedisSnapshot::new(&redis.url(), KEY).unwrap())
            .ttl_bounds(Duration::from_secs(60), Duration::from_secs(60))
            .max_stale(Duration::from_secs(max_stale))
            .build()
            .unwrap()
    };
    // Fetched 100 s ago with a 60 s lifetime: usable with max_stale 60 s
    // (until 120 s), not with 30 s (until 90 s).
    let saved = SavedKeySet::new(document, SystemTime::now() - Duration::from_secs(100))
        .with_lifetime(Duration::from_secs(60));
    store.save(&saved).await.unwrap();
    assert_eq!(verifies(build(60)).await, 200);
    assert_eq!(verifies(build(30)).await, 503);
}
