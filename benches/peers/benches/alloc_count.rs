//! Heap accounting with a counting global allocator (jwt-layer itself
//! forbids `unsafe`, hence this lives in the peers package):
//!
//! - the live heap bytes one verified-token cache entry holds, and
//! - heap allocations (count and bytes) per verification: the
//!   `jsonwebtoken::decode` floor, jwt-layer with the cache off, and a
//!   cache hit.
//!
//! `cd benches/peers && cargo bench --bench alloc_count`

#[path = "../../support/fixtures.rs"]
mod fixtures;
#[path = "../../support/runtime.rs"]
mod runtime;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jwt_layer::{JwtAuth, Key, Verifier};

use fixtures::{
    AUDIENCE, EC256_PUBLIC_PEM, ED_PUBLIC_PEM, GoogleClaims, ISSUER, KID, RSA_PUBLIC_PEM, SECRET,
    alg_name, decoding_key, floor_validation, google_claims, google_pad, google_token, sign,
};
use runtime::now_or_never;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static ALLOC_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only
// counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 20_000;

fn key(alg: Algorithm) -> Key {
    match alg {
        Algorithm::RS256 => Key::rsa_pem(RSA_PUBLIC_PEM),
        Algorithm::ES256 => Key::ec_pem(EC256_PUBLIC_PEM),
        Algorithm::EdDSA => Key::ed_pem(ED_PUBLIC_PEM),
        _ => Key::hmac(SECRET),
    }
    .expect("key")
    .with_kid(KID)
}

fn verifier(alg: Algorithm, cache: Option<u64>) -> Verifier<GoogleClaims> {
    let b = JwtAuth::<GoogleClaims>::builder()
        .key(key(alg))
        .issuer(ISSUER)
        .audience(AUDIENCE);
    let b = match cache {
        Some(bytes) => b.token_cache_max_bytes(bytes),
        None => b.token_cache(false),
    };
    b.build().expect("layer").verifier().clone()
}

/// Allocations and bytes per call of `f`, over `n` calls.
fn per_call(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    );
    for _ in 0..n {
        f();
    }
    let (a1, b1) = (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    );
    ((a1 - a0) as f64 / n as f64, (b1 - b0) as f64 / n as f64)
}

fn main() {
    let pad = google_pad();
    let mut out = String::new();
    let _ = writeln!(out, "machine: {}\n", runtime::machine());

    // --- Per-verification allocations.
    let _ = writeln!(out, "### heap allocations per verification\n");
    let _ = writeln!(
        out,
        "| case | allocations | bytes allocated |\n|---|---:|---:|"
    );
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::HS256,
    ] {
        let name = alg_name(alg);
        let token = google_token(alg, pad);
        let dk = decoding_key(alg);
        let validation = floor_validation(alg);
        let (a, b) = per_call(1000, || {
            let d = jsonwebtoken::decode::<GoogleClaims>(&token, &dk, &validation).expect("floor");
            black_box(d);
        });
        let _ = writeln!(
            out,
            "| floor/{name} (jsonwebtoken::decode) | {a:.1} | {b:.0} |"
        );
        let v = verifier(alg, None);
        let (a, b) = per_call(1000, || {
            black_box(now_or_never(v.verify(&token)).expect("verify"));
        });
        let _ = writeln!(
            out,
            "| jwt-layer verifier/{name}, cache off | {a:.1} | {b:.0} |"
        );
        if alg == Algorithm::RS256 {
            let v = verifier(alg, Some(8 << 20));
            let (a, b) = per_call(1000, || {
                black_box(now_or_never(v.verify(&token)).expect("verify"));
            });
            let _ = writeln!(
                out,
                "| jwt-layer verifier/{name}, cache hit | {a:.1} | {b:.0} |"
            );
        }
    }

    // --- Live bytes per cache entry.
    let tokens: Vec<String> = (0..N)
        .map(|i| sign(Algorithm::HS256, &google_claims(pad, i as u64)))
        .collect();

    // A full cache (64 KiB) fed tokens it has not seen: the miss path of
    // the default configuration.
    {
        let v = verifier(Algorithm::HS256, Some(64 * 1024));
        let mut next = 0;
        let (a, b) = per_call(10_000, || {
            let t = &tokens[next % tokens.len()];
            next += 1;
            black_box(now_or_never(v.verify(t)).expect("verify"));
        });
        let _ = writeln!(
            out,
            "| jwt-layer verifier/hs256, cache on, first sighting of a token (full cache) | {a:.1} | {b:.0} |"
        );
    }
    // The same, each token shown twice in a row: the second sighting is
    // admitted and inserted into the full cache (figures per pair).
    {
        let v = verifier(Algorithm::HS256, Some(64 * 1024));
        let mut next = 0;
        let (a, b) = per_call(10_000, || {
            let t = &tokens[next % tokens.len()];
            next += 1;
            for _ in 0..2 {
                black_box(now_or_never(v.verify(t)).expect("verify"));
            }
        });
        let _ = writeln!(
            out,
            "| jwt-layer verifier/hs256, cache on, a new token twice (admitted into a full cache), per pair | {a:.1} | {b:.0} |"
        );
    }
    let v = verifier(Algorithm::HS256, Some(1 << 30));
    let before = LIVE.load(Ordering::Relaxed);
    // Twice each: the cache admits a token on its second sighting.
    for t in &tokens {
        for _ in 0..2 {
            black_box(now_or_never(v.verify(t)).expect("verify"));
        }
    }
    let after = LIVE.load(Ordering::Relaxed);
    let per_entry = (after - before) as f64 / N as f64;
    let token_len = tokens[0].len();
    let payload_len = tokens[0]
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .map_or(0, |p| p.len());
    let weight = token_len + payload_len + 256;
    let _ = writeln!(out, "\n### live heap per verified-token cache entry\n");
    let _ = writeln!(out, "| measure | value |\n|---|---:|");
    let _ = writeln!(out, "| entries | {N} |");
    let _ = writeln!(
        out,
        "| live heap growth | {} KiB |",
        (after - before) / 1024
    );
    let _ = writeln!(out, "| **live heap per entry** | **{per_entry:.0} B** |");
    let _ = writeln!(
        out,
        "| weight the cache counts (token {token_len} + payload {payload_len} + 256) | {weight} B |"
    );
    let _ = writeln!(
        out,
        "| measured ÷ weight | {:.2} |",
        per_entry / weight as f64
    );
    let _ = writeln!(
        out,
        "| size of the typed claims (`GoogleClaims`, inline) | {} B |",
        std::mem::size_of::<GoogleClaims>()
    );
    drop(v);
    runtime::publish(env!("CARGO_MANIFEST_DIR"), "alloc_count", &out);
}
