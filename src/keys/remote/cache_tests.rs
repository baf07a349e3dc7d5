//! The cache state machine on tokio's paused clock with an in-process
//! fetcher (real-socket tests live in `tests/jwks_remote.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use tokio::sync::Notify;

use super::*;
use crate::keys::remote::fetch::{FetchFuture, Fetched};

#[derive(Clone)]
enum Answer {
    Ok(String, Option<Duration>),
    Fail,
}

#[derive(Clone)]
struct Fake {
    calls: Arc<AtomicUsize>,
    answer: Arc<Mutex<Answer>>,
    gate: Arc<Mutex<Option<Arc<Notify>>>>,
    latency: Duration,
}

impl Fake {
    fn new(kids: &[&str], max_age: Option<Duration>) -> Self {
        Self {
            calls: Arc::new(AtomicUsize::new(0)),
            answer: Arc::new(Mutex::new(Answer::Ok(jwks(kids), max_age))),
            gate: Arc::new(Mutex::new(None)),
            latency: Duration::from_millis(50),
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
    fn hold(&self) -> Arc<Notify> {
        let n = Arc::new(Notify::new());
        *self.gate.lock().unwrap() = Some(Arc::clone(&n));
        n
    }
}

impl Fetch for Fake {
    fn fetch(&self) -> FetchFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self.answer.lock().unwrap().clone();
        let gate = self.gate.lock().unwrap().take();
        let latency = self.latency;
        Box::pin(async move {
            tokio::time::sleep(latency).await;
            if let Some(gate) = gate {
                gate.notified().await;
            }
            match answer {
                Answer::Ok(body, max_age) => Ok(Fetched { body, max_age }),
                Answer::Fail => Err(JwksError::new(JwksErrorKind::Request, "boom")),
            }
        })
    }
}

fn jwks(kids: &[&str]) -> String {
    let keys: Vec<String> = kids
        .iter()
        .enumerate()
        .map(|(i, kid)| {
            // A distinct valid public key per position: (i + 1)·B.
            let point = curve25519_dalek::constants::ED25519_BASEPOINT_POINT
                * curve25519_dalek::Scalar::from(i as u64 + 1);
            let x = URL_SAFE_NO_PAD.encode(point.compress().as_bytes());
            format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"{kid}"}}"#)
        })
        .collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

/// Lets `d` pass on the paused clock: sleeping auto-advances through every
/// timer in order, running the tasks they wake.
async fn pass(d: Duration) {
    tokio::time::sleep(d).await;
}

fn cache(fake: &Fake) -> Arc<Cache> {
    Arc::new(Cache::new(
        CacheConfig::default(),
        Box::new(fake.clone()),
        "fake".into(),
        Persistence::default(),
    ))
}

async fn resolve(cache: &Arc<Cache>, kid: &str) -> Result<String, AuthErrorKind> {
    let result = match cache.lookup(Some(kid), Algorithm::EdDSA) {
        Lookup::Ready(r) => r,
        Lookup::Pending(f) => f.await,
    };
    result
        .map(|k| k.kid().unwrap_or_default().to_owned())
        .map_err(|e| e.kind())
}

fn is_ready(cache: &Arc<Cache>, kid: &str) -> bool {
    matches!(
        cache.lookup(Some(kid), Algorithm::EdDSA),
        Lookup::Ready(Ok(_))
    )
}

#[tokio::test(start_paused = true)]
async fn cold_start_concurrent_requests_share_one_fetch() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = Arc::clone(&cache);
            tokio::spawn(async move { resolve(&c, "a").await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok("a".to_owned()));
    }
    assert_eq!(fake.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn unknown_kids_are_rate_limited_and_known_kids_never_wait() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    let gate = fake.hold();
    let mut pending = Vec::new();
    for i in 0..1000 {
        match cache.lookup(Some(&format!("unknown-{i}")), Algorithm::EdDSA) {
            Lookup::Ready(r) => assert_eq!(r.unwrap_err().kind(), AuthErrorKind::UnknownKey),
            Lookup::Pending(f) => pending.push(tokio::spawn(f)),
        }
        // While the kid-triggered fetch is held, the known kid is answered at once.
        assert!(is_ready(&cache, "a"));
    }
    // Only the first unknown kid started a fetch; the ones that arrived while
    // it was in flight joined it.
    gate.notify_one();
    for p in pending {
        assert_eq!(
            p.await.unwrap().unwrap_err().kind(),
            AuthErrorKind::UnknownKey
        );
    }
    assert_eq!(fake.calls(), 2);
    assert_eq!(
        resolve(&cache, "another").await,
        Err(AuthErrorKind::UnknownKey)
    );
    assert_eq!(fake.calls(), 2, "inside the cooldown no fetch happens");
    assert!(cache.status().kid_misses >= 1001);
}

#[tokio::test(start_paused = true)]
async fn key_published_just_after_startup_is_picked_up_at_once() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    fake.set(Answer::Ok(jwks(&["a", "b"]), None));
    pass(Duration::from_secs(1)).await;
    assert_eq!(resolve(&cache, "b").await, Ok("b".into()));
    assert_eq!(fake.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn cooldown_budget_and_negative_memory() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    assert_eq!(resolve(&cache, "x").await, Err(AuthErrorKind::UnknownKey));
    assert_eq!(fake.calls(), 2);
    // "x" was absent from a fresh set: remembered, even after the cooldown.
    pass(Duration::from_secs(31)).await;
    assert_eq!(resolve(&cache, "x").await, Err(AuthErrorKind::UnknownKey));
    assert_eq!(fake.calls(), 2);
    // Another kid after the cooldown refetches.
    assert_eq!(resolve(&cache, "y").await, Err(AuthErrorKind::UnknownKey));
    assert_eq!(fake.calls(), 3);
    // Budget: 6 kid-triggered fetches per 10 minutes.
    for i in 0..10 {
        pass(Duration::from_secs(31)).await;
        let _ = resolve(&cache, &format!("z{i}")).await;
    }
    // 341 s have passed, before the scheduled refresh (80 % ± 10 % of the
    // 10 min lifetime, so no earlier than 432 s): every fetch so far is the
    // initial one or kid-triggered, and the budget of 6 per 10 min ("x",
    // "y", then 4 of the 10 kids above) is exactly used up.
    assert_eq!(fake.calls(), 1 + 6);
    // The negative memory expires after 5 minutes.
    pass(Duration::from_secs(600)).await;
    let before = fake.calls();
    assert_eq!(resolve(&cache, "x").await, Err(AuthErrorKind::UnknownKey));
    assert_eq!(fake.calls(), before + 1);
}

#[tokio::test(start_paused = true)]
async fn max_age_is_honoured_and_absent_header_gets_the_default() {
    let fake = Fake::new(&["a"], Some(Duration::from_secs(1000)));
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    assert_eq!(cache.status().lifetime, Some(Duration::from_secs(1000)));
    // Refresh ahead at 80 % ± 10 %: between 720 s and 880 s.
    pass(Duration::from_secs(700)).await;
    assert_eq!(fake.calls(), 1, "no refetch before the refresh point");
    pass(Duration::from_secs(200)).await;
    tokio::task::yield_now().await;
    assert_eq!(fake.calls(), 2, "refreshed ahead of expiry");

    let fake = Fake::new(&["a"], None);
    let cache2 = cache_with(&fake, CacheConfig::default());
    assert_eq!(resolve(&cache2, "a").await, Ok("a".into()));
    assert_eq!(cache2.status().lifetime, Some(Duration::from_secs(600)));

    // Clamped to the floor and ceiling.
    let fake = Fake::new(&["a"], Some(Duration::from_secs(5)));
    let cache3 = cache_with(&fake, CacheConfig::default());
    assert_eq!(resolve(&cache3, "a").await, Ok("a".into()));
    assert_eq!(cache3.status().lifetime, Some(Duration::from_secs(60)));
}

fn cache_with(fake: &Fake, config: CacheConfig) -> Arc<Cache> {
    Arc::new(Cache::new(
        config,
        Box::new(fake.clone()),
        "fake".into(),
        Persistence::default(),
    ))
}

#[tokio::test(start_paused = true)]
async fn failures_keep_the_last_good_set_until_max_stale() {
    let fake = Fake::new(&["a"], Some(Duration::from_secs(600)));
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    fake.set(Answer::Fail);
    // Past the lifetime: the refresher fails, the set is served stale.
    pass(Duration::from_secs(700)).await;
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    let status = cache.status();
    assert!(status.serving_stale);
    assert!(status.failures >= 1);
    assert_eq!(status.last_error.as_deref(), Some("boom"));
    // A garbage answer never replaces the good set either.
    fake.set(Answer::Ok("not json".into(), None));
    pass(Duration::from_secs(120)).await;
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    // Past lifetime + max_stale (24 h), nothing usable: 503.
    fake.set(Answer::Fail);
    pass(Duration::from_secs(25 * 3600)).await;
    let err = match cache.lookup(Some("a"), Algorithm::EdDSA) {
        Lookup::Ready(r) => r.unwrap_err(),
        Lookup::Pending(f) => f.await.unwrap_err(),
    };
    assert_eq!(err.kind(), AuthErrorKind::KeysUnavailable);
    assert!(err.retry_after().is_some_and(|s| s >= 1));
    assert!(!cache.status().is_ready());
}

#[tokio::test(start_paused = true)]
async fn nothing_cached_and_failing_is_503_then_backs_off() {
    let fake = Fake::new(&["a"], None);
    fake.set(Answer::Fail);
    let cache = cache(&fake);
    let err = resolve(&cache, "a").await.unwrap_err();
    assert_eq!(err, AuthErrorKind::KeysUnavailable);
    assert_eq!(fake.calls(), 1);
    // Inside the backoff: an immediate 503 with Retry-After, no new fetch.
    match cache.lookup(Some("a"), Algorithm::EdDSA) {
        Lookup::Ready(Err(e)) => {
            assert_eq!(e.kind(), AuthErrorKind::KeysUnavailable);
            assert_eq!(e.retry_after(), Some(1));
        }
        other => panic!("expected an immediate 503, got {other:?}"),
    }
    assert_eq!(fake.calls(), 1);
    // Recovery.
    fake.set(Answer::Ok(jwks(&["a"]), None));
    pass(Duration::from_secs(2)).await;
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_up_to_the_cap() {
    let fake = Fake::new(&["a"], None);
    fake.set(Answer::Fail);
    let cache = cache(&fake);
    let _ = resolve(&cache, "a").await;
    // The background task retries at 1, 2, 4, 8, … s after each failure.
    let mut seen = vec![fake.calls()];
    for _ in 0..8 {
        pass(Duration::from_secs(1)).await;
        tokio::task::yield_now().await;
        seen.push(fake.calls());
    }
    // Calls at t≈0, 1, 3, 7 → 4 fetches within 8 s, not 9.
    assert_eq!(*seen.last().unwrap(), 4, "{seen:?}");
    assert_eq!(cache.backoff(1), Duration::from_secs(1));
    assert_eq!(cache.backoff(3), Duration::from_secs(4));
    assert_eq!(cache.backoff(30), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_request_does_not_cancel_the_fetch() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    match cache.lookup(Some("a"), Algorithm::EdDSA) {
        Lookup::Pending(f) => drop(f),
        Lookup::Ready(_) => panic!("cold cache must fetch"),
    }
    pass(Duration::from_millis(100)).await;
    tokio::task::yield_now().await;
    assert!(is_ready(&cache, "a"));
    assert_eq!(fake.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn removed_key_stops_resolving_after_the_refresh() {
    let fake = Fake::new(&["a", "b"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "b").await, Ok("b".into()));
    fake.set(Answer::Ok(jwks(&["a"]), None));
    cache.refresh().await.unwrap();
    assert!(!is_ready(&cache, "b"));
    assert_eq!(cache.status().key_count, 1);
}

#[tokio::test(start_paused = true)]
async fn reads_never_wait_behind_a_refresh() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    let gate = fake.hold();
    let c = Arc::clone(&cache);
    let refresh = tokio::spawn(async move { c.refresh().await });
    tokio::task::yield_now().await;
    pass(Duration::from_secs(1)).await;
    assert!(
        is_ready(&cache, "a"),
        "known kid answered while the refresh is held"
    );
    gate.notify_one();
    refresh.await.unwrap().unwrap();
}

/// A kid-triggered refetch that fails is retried on the backoff (1 s, then
/// 2 s …), not only at the next planned refresh or after the kid cooldown.
#[tokio::test(start_paused = true)]
async fn a_failed_kid_refetch_is_retried_on_the_backoff() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    fake.set(Answer::Fail);
    assert_eq!(resolve(&cache, "b").await, Err(AuthErrorKind::UnknownKey));
    assert_eq!(fake.calls(), 2);
    // The provider recovers and now publishes "b".
    fake.set(Answer::Ok(jwks(&["a", "b"]), None));
    pass(Duration::from_millis(1100)).await;
    assert_eq!(fake.calls(), 3, "retried about 1 s after the failure");
    assert!(
        is_ready(&cache, "b"),
        "the new kid is served without a request fetching"
    );
    // Once a fetch succeeded, no more retries: the next fetch is the
    // planned refresh.
    pass(Duration::from_secs(60)).await;
    assert_eq!(fake.calls(), 3);
}

/// Retries back off: 1 s, 2 s, 4 s … while the provider keeps failing.
#[tokio::test(start_paused = true)]
async fn failed_retries_back_off() {
    let fake = Fake::new(&["a"], None);
    let cache = cache(&fake);
    assert_eq!(resolve(&cache, "a").await, Ok("a".into()));
    fake.set(Answer::Fail);
    assert_eq!(resolve(&cache, "b").await, Err(AuthErrorKind::UnknownKey));
    let mut calls = vec![fake.calls()];
    for _ in 0..4 {
        pass(Duration::from_millis(1100)).await;
        calls.push(fake.calls());
    }
    // Fetches at 0 s, 1 s, 3 s; then nothing until 7 s.
    assert_eq!(calls, vec![2, 3, 3, 4, 4]);
    assert!(is_ready(&cache, "a"), "the last good set is still served");
}

fn seeded_cache(fake: &Fake, saved: SavedKeySet, config: CacheConfig) -> Arc<Cache> {
    let persistence =
        Persistence::new(Some(super::super::saved::Seed::Saved(saved)), None, 1 << 16);
    Arc::new(Cache::new(
        config,
        Box::new(fake.clone()),
        "fake".into(),
        persistence,
    ))
}

#[tokio::test(start_paused = true)]
async fn a_seeded_set_ages_toward_max_stale_like_a_fetched_one() {
    // Saved 65 s ago with a 60 s lifetime; max_stale 10 s: usable 5 s more.
    let fake = Fake::new(&["a"], None);
    fake.set(Answer::Fail);
    let saved = SavedKeySet::new(jwks(&["a"]), SystemTime::now() - Duration::from_secs(65))
        .with_lifetime(Duration::from_secs(60));
    let config = CacheConfig {
        min_ttl: Duration::from_secs(1),
        max_stale: Duration::from_secs(10),
        ..CacheConfig::default()
    };
    let cache = seeded_cache(&fake, saved, config);
    assert!(is_ready(&cache, "a"), "answered from the seed at once");
    let status = cache.status();
    assert!(status.serving_stale, "past its lifetime: served stale");
    assert!(status.age.unwrap() >= Duration::from_secs(65));
    pass(Duration::from_millis(100)).await;
    assert!(fake.calls() >= 1, "a live fetch is tried at once");
    pass(Duration::from_secs(4)).await;
    assert!(is_ready(&cache, "a"));
    pass(Duration::from_secs(1)).await;
    assert_eq!(
        resolve(&cache, "a").await,
        Err(AuthErrorKind::KeysUnavailable)
    );
    // Once a fetch succeeds, the live set replaces the seed.
    fake.set(Answer::Ok(jwks(&["b"]), None));
    cache.refresh().await.unwrap();
    assert_eq!(resolve(&cache, "b").await, Ok("b".into()));
}

#[tokio::test(start_paused = true)]
async fn a_seed_never_replaces_a_fetched_set_and_a_future_one_is_refused() {
    let fake = Fake::new(&["live"], None);
    let saved = SavedKeySet::new(jwks(&["old"]), SystemTime::now());
    let cache = seeded_cache(&fake, saved.clone(), CacheConfig::default());
    // Installing by hand after a fetch: refused, the fetched set stays.
    cache.persistence.take_seed();
    cache.refresh().await.unwrap();
    assert!(cache.install_saved(&saved, false, true).is_err());
    assert_eq!(resolve(&cache, "live").await, Ok("live".into()));
    let future = SavedKeySet::new(
        jwks(&["old"]),
        SystemTime::now() + Duration::from_secs(3600),
    );
    let cache = seeded_cache(&fake, future.clone(), CacheConfig::default());
    assert!(
        cache
            .install_saved(&future, false, true)
            .unwrap_err()
            .contains("future")
    );
}
