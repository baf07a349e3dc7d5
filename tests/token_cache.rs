//! The verified-token cache: a token is admitted on its second sighting and
//! hits skip the key lookup and signature check; entries never outlive
//! `exp` (re-checked on each hit), nor the key that verified them; the cache
//! is bounded; it can be switched off.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use http::StatusCode;
use jsonwebtoken::Algorithm;
use jwt_layer::keys::{KeySource, Lookup};
use jwt_layer::{Clock, JwtAuth, Key, StaticKeys};
use serde_json::json;

/// A key source that counts lookups and whose keys can be swapped.
#[derive(Clone)]
struct Counting {
    keys: Arc<Mutex<StaticKeys>>,
    lookups: Arc<AtomicUsize>,
}

impl Counting {
    fn new(secret: &[u8]) -> Self {
        Self {
            keys: Arc::new(Mutex::new(
                StaticKeys::new([Key::hmac(secret).unwrap()]).unwrap(),
            )),
            lookups: Arc::new(AtomicUsize::new(0)),
        }
    }
    fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
    fn replace(&self, secret: &[u8]) {
        *self.keys.lock().unwrap() = StaticKeys::new([Key::hmac(secret).unwrap()]).unwrap();
    }
}

impl KeySource for Counting {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.keys.lock().unwrap().lookup(kid, alg)
    }
}

struct Fixture {
    app: axum::Router,
    source: Counting,
    clock: Arc<AtomicU64>,
}

fn fixture(cache: Option<u64>) -> Fixture {
    let source = Counting::new(SECRET);
    let clock = Arc::new(AtomicU64::new(now()));
    let reading = Arc::clone(&clock);
    let mut builder = JwtAuth::<TestClaims>::builder()
        .key_source(source.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .leeway(Duration::ZERO)
        .clock(Clock::from_fn(move || reading.load(Ordering::SeqCst)));
    builder = match cache {
        Some(bytes) => builder.token_cache_max_bytes(bytes),
        None => builder.token_cache(false),
    };
    let (app, _) = router(builder.build().unwrap());
    Fixture { app, source, clock }
}

/// Sends `token` twice: verified both times, admitted to the cache on the
/// second.
async fn warm(f: &Fixture, token: &str) {
    for _ in 0..2 {
        assert_eq!(send(&f.app, bearer(token)).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_repeated_token_skips_the_key_lookup_and_signature_check() {
    let f = fixture(Some(1 << 20));
    let token = valid_token();
    warm(&f, &token).await;
    assert_eq!(f.source.lookups(), 2, "admitted on its second sighting");
    for _ in 0..5 {
        assert_eq!(send(&f.app, bearer(&token)).await.status(), StatusCode::OK);
    }
    assert_eq!(f.source.lookups(), 2, "then answered from the cache");
    // Another token is verified on its own.
    let other = hs256(&claims_with(json!({"sub": "bob"})));
    assert_eq!(send(&f.app, bearer(&other)).await.status(), StatusCode::OK);
    assert_eq!(f.source.lookups(), 3);
}

#[tokio::test]
async fn one_shot_tokens_are_not_stored() {
    let f = fixture(Some(1 << 20));
    let tokens: Vec<String> = (0..20)
        .map(|i| hs256(&claims_with(json!({"sub": format!("user-{i}")}))))
        .collect();
    for t in &tokens {
        assert_eq!(send(&f.app, bearer(t)).await.status(), StatusCode::OK);
    }
    // Each seen once: none was stored, so the next sighting verifies again
    // (and admits it), and the one after that is a hit.
    for t in &tokens {
        assert_eq!(send(&f.app, bearer(t)).await.status(), StatusCode::OK);
    }
    assert_eq!(f.source.lookups(), 40);
    // Third sighting: answered from the cache. Two of the 20 tokens may
    // share a slot of the second-sighting table (4096 slots), in which case
    // each erased the other's mark and both are verified once more.
    for t in &tokens {
        assert_eq!(send(&f.app, bearer(t)).await.status(), StatusCode::OK);
    }
    assert!(f.source.lookups() <= 44, "{} lookups", f.source.lookups());
}

#[tokio::test]
async fn a_cache_hit_is_rechecked_against_the_clock_and_never_outlives_exp() {
    let f = fixture(Some(1 << 20));
    let t0 = f.clock.load(Ordering::SeqCst);
    let token = hs256(&claims_with(json!({"iat": t0, "exp": t0 + 10})));
    warm(&f, &token).await;
    f.clock.store(t0 + 9, Ordering::SeqCst);
    assert_eq!(send(&f.app, bearer(&token)).await.status(), StatusCode::OK);
    assert_eq!(f.source.lookups(), 2, "still served from the cache");
    f.clock.store(t0 + 10, Ordering::SeqCst);
    let res = send(&f.app, bearer(&token)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&res).unwrap(), invalid_token("token expired"));
}

#[tokio::test]
async fn an_entry_is_dropped_when_its_key_leaves_the_key_set() {
    let f = fixture(Some(1 << 20));
    let token = valid_token();
    warm(&f, &token).await;
    assert_eq!(send(&f.app, bearer(&token)).await.status(), StatusCode::OK);
    assert_eq!(f.source.lookups(), 2);
    // The key that verified the token is gone: the token is verified afresh
    // and fails against the new key.
    f.source.replace(OTHER_SECRET);
    let res = send(&f.app, bearer(&token)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&res).unwrap(), invalid_token("invalid signature"));
    assert_eq!(f.source.lookups(), 3);
}

#[tokio::test]
async fn failed_tokens_are_never_cached() {
    let f = fixture(Some(1 << 20));
    let bad = {
        let t = valid_token();
        let (rest, _) = t.rsplit_once('.').unwrap();
        format!("{rest}.AAAA")
    };
    for _ in 0..3 {
        assert_eq!(
            send(&f.app, bearer(&bad)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(f.source.lookups(), 3);
}

#[tokio::test]
async fn a_forgery_sharing_a_cached_tokens_signature_and_length_is_refused_and_displaces_nothing() {
    // The cache's key reads a token's length and the end of its signature:
    // a forgery with the same signature and length lands in the same slot.
    let f = fixture(Some(1 << 20));
    let token = hs256(&claims_with(json!({"sub": "alice"})));
    warm(&f, &token).await;
    let (_, payload, signature) = split3(&token);
    let forged_payload = b64(serde_json::to_vec(&claims_with(json!({"sub": "mallo"}))).unwrap());
    assert_eq!(
        forged_payload.len(),
        payload.len(),
        "same length, same slot"
    );
    let (header, _, _) = split3(&token);
    let forged = format!("{header}.{forged_payload}.{signature}");
    assert_eq!(forged.len(), token.len());
    for _ in 0..3 {
        let res = send(&f.app, bearer(&forged)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenge(&res).unwrap(), invalid_token("invalid signature"));
    }
    assert_eq!(f.source.lookups(), 5, "each forgery verified, none cached");
    // The genuine token is still answered from its entry.
    assert_eq!(send(&f.app, bearer(&token)).await.status(), StatusCode::OK);
    assert_eq!(f.source.lookups(), 5);
}

/// A token's three segments.
fn split3(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s)) => (h, p, s),
        _ => panic!("not a JWT: {token}"),
    }
}

#[tokio::test]
async fn the_cache_can_be_switched_off() {
    let f = fixture(None);
    let token = valid_token();
    for _ in 0..3 {
        assert_eq!(send(&f.app, bearer(&token)).await.status(), StatusCode::OK);
    }
    assert_eq!(f.source.lookups(), 3);
}

#[tokio::test]
async fn the_cache_is_bounded_in_bytes() {
    // Room for about four entries (token + payload + 256 bytes each).
    let f = fixture(Some(4 * 700));
    let tokens: Vec<String> = (0..200)
        .map(|i| hs256(&claims_with(json!({"sub": format!("user-{i}")}))))
        .collect();
    for t in &tokens {
        warm(&f, t).await;
    }
    assert_eq!(f.source.lookups(), 400);
    // Replaying all of them: an unbounded cache would answer all 200 from
    // memory (400 lookups in all); a bounded one evicted most of them. moka
    // applies its bound lazily (it flushes its write log every 64 writes),
    // so up to about 64 + 4 entries may still answer.
    for t in &tokens {
        assert_eq!(send(&f.app, bearer(t)).await.status(), StatusCode::OK);
    }
    assert!(
        f.source.lookups() >= 400 + 200 - 70,
        "{} lookups",
        f.source.lookups()
    );
}
