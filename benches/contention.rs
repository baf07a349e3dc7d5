//! Contention: the verified-token cache, the key lookup and the revocation
//! list hammered from 1 and 2 threads (the machine has 2 cores), each case
//! run for a fixed time per round; throughput in operations per second and
//! the scaling from 1 to 2 threads (2.0 is perfect). Run with
//! `cargo bench --bench contention` (`JL_ROUNDS`, default 7; `JL_MS`, the
//! time per round and thread count, default 300).

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use jwt_layer::keys::{RemoteJwks, SavedKeySet};
use jwt_layer::revocation::Revocations;
use jwt_layer::{JwtAuth, Key, KeySource, Verifier};
use serde_json::Value;

use fixtures::{AUDIENCE, GoogleClaims, ISSUER, RSA_PUBLIC_PEM, SECRET, google_claims, sign};
use runtime::now_or_never;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Operations per second of `op` run by `threads` threads for `time`
/// (each thread gets its index).
fn throughput(threads: usize, time: Duration, op: &(dyn Fn(usize) + Sync)) -> f64 {
    let barrier = Barrier::new(threads);
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let mut n = 0u64;
                    while start.elapsed() < time {
                        for _ in 0..64 {
                            op(t);
                        }
                        n += 64;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    total as f64 / time.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn verifier(alg: Algorithm, cache: bool) -> Verifier<GoogleClaims> {
    let key = match alg {
        Algorithm::RS256 => Key::rsa_pem(RSA_PUBLIC_PEM),
        _ => Key::hmac(SECRET),
    };
    JwtAuth::<GoogleClaims>::builder()
        .key(key.expect("key"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(cache)
        .build()
        .expect("layer")
        .verifier()
        .clone()
}

fn main() {
    let rounds = env_num("JL_ROUNDS", 7) as usize;
    let time = Duration::from_millis(env_num("JL_MS", 300));
    let rs256 = sign(Algorithm::RS256, &google_claims(0, 0));
    let per_thread: Vec<String> = (0..2)
        .map(|t| sign(Algorithm::RS256, &google_claims(0, 1 + t)))
        .collect();
    let hs256 = sign(Algorithm::HS256, &google_claims(0, 0));

    let cached = verifier(Algorithm::RS256, true);
    let hs_off = verifier(Algorithm::HS256, false);
    let rs_off = verifier(Algorithm::RS256, false);
    // A remote key set, seeded (never fetched), looked up by kid.
    let jwks = format!(
        r#"{{"keys":[{}]}}"#,
        serde_json::to_string(&serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "kid": "k1",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }))
        .expect("json")
    );
    let remote = RemoteJwks::builder("https://keys.invalid/jwks.json")
        .seed(SavedKeySet::new(jwks, std::time::SystemTime::now()))
        .build()
        .expect("remote");
    assert!(remote.status().is_ready());
    // A revocation list of a million entries beside the cache.
    let revocations = Revocations::memory_bounded(2_000_000, Duration::from_secs(3600));
    let revoker = revocations.revoker();
    for i in 0..1_000_000u64 {
        now_or_never(revoker.revoke_jti(&format!("r-{i}"), 4_000_000_000)).expect("room");
    }
    let mut claims: Value = google_claims(0, 0);
    claims["jti"] = Value::from("not-revoked");
    let with_jti = sign(Algorithm::HS256, &claims);
    let revoking = JwtAuth::<GoogleClaims>::builder()
        .key(Key::hmac(SECRET).expect("key"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .revocation(revocations)
        .build()
        .expect("layer")
        .verifier()
        .clone();
    // Warm the caches (second sighting admits).
    for t in [&rs256, &per_thread[0], &per_thread[1]] {
        for _ in 0..2 {
            now_or_never(cached.verify(t)).expect("verify");
        }
    }
    for _ in 0..2 {
        now_or_never(revoking.verify(&with_jti)).expect("verify");
    }

    type Case<'a> = (&'a str, Box<dyn Fn(usize) + Sync + 'a>);
    let cases: Vec<Case<'_>> = vec![
        (
            "cache hit, one token for all threads (RS256)",
            Box::new(|_| {
                black_box(now_or_never(cached.verify(&rs256)).expect("ok"));
            }),
        ),
        (
            "cache hit, a token per thread (RS256)",
            Box::new(|t| {
                black_box(now_or_never(cached.verify(&per_thread[t])).expect("ok"));
            }),
        ),
        (
            "cache hit + revocation list of 1 M (HS256)",
            Box::new(|_| {
                black_box(now_or_never(revoking.verify(&with_jti)).expect("ok"));
            }),
        ),
        (
            "static key lookup + verify, cache off (HS256)",
            Box::new(|_| {
                black_box(now_or_never(hs_off.verify(&hs256)).expect("ok"));
            }),
        ),
        (
            "static key lookup + verify, cache off (RS256)",
            Box::new(|_| {
                black_box(now_or_never(rs_off.verify(&rs256)).expect("ok"));
            }),
        ),
        (
            "remote key set lookup by kid",
            Box::new(|_| {
                let found = remote.lookup(Some("k1"), Algorithm::EdDSA);
                black_box(matches!(found, jwt_layer::keys::Lookup::Ready(Ok(_))));
            }),
        ),
    ];

    let mut out = String::new();
    let _ = writeln!(out, "machine: {}", runtime::machine());
    let _ = writeln!(out, "load average before the run: {}\n", runtime::loadavg());
    let _ = writeln!(
        out,
        "### contention ({rounds} rounds of {} ms per thread count, medians)\n",
        time.as_millis()
    );
    let _ = writeln!(out, "| case | 1 thread | 2 threads | scaling |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (name, op) in &cases {
        let mut one = Vec::new();
        let mut two = Vec::new();
        for _ in 0..rounds {
            one.push(throughput(1, time, op.as_ref()));
            two.push(throughput(2, time, op.as_ref()));
        }
        let (one, two) = (median(one), median(two));
        let _ = writeln!(
            out,
            "| {name} | {:.2} M/s | {:.2} M/s | {:.2} |",
            one / 1e6,
            two / 1e6,
            two / one
        );
    }
    let _ = writeln!(out, "\nload average after the run: {}", runtime::loadavg());
    runtime::publish(env!("CARGO_MANIFEST_DIR"), "contention", &out);
}
