//! Target 3, memory: what one verified-token cache entry costs. The crate
//! forbids `unsafe`, so this bench measures the resident set size (RSS);
//! the peers package (`benches/peers`, bench `alloc_count`) counts bytes
//! with a counting global allocator. Run with
//! `cargo bench --bench cache_memory`.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jwt_layer::{JwtAuth, Key, Verifier};

use fixtures::{AUDIENCE, GoogleClaims, ISSUER, KID, SECRET, google_claims, google_pad, sign};
use runtime::now_or_never;

/// Distinct tokens per phase.
const N: usize = 20_000;
/// The weight the cache gives an entry beyond its token and payload.
const ENTRY_OVERHEAD: usize = 256;

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse().ok()))
        .map_or(0, |pages: usize| pages * 4096)
}

fn verifier(cache_bytes: Option<u64>) -> Verifier<GoogleClaims> {
    let b = JwtAuth::<GoogleClaims>::builder()
        .key(Key::hmac(SECRET).expect("key").with_kid(KID))
        .issuer(ISSUER)
        .audience(AUDIENCE);
    let b = match cache_bytes {
        Some(bytes) => b.token_cache_max_bytes(bytes),
        None => b.token_cache(false),
    };
    b.build().expect("layer").verifier().clone()
}

/// Verifies every token twice in a row (the cache admits a token on its
/// second sighting); returns the RSS growth.
fn pass(v: &Verifier<GoogleClaims>, tokens: &[String]) -> isize {
    let before = rss_bytes();
    for t in tokens {
        for _ in 0..2 {
            let claims = now_or_never(v.verify(t)).expect("verify");
            black_box(claims);
        }
    }
    rss_bytes() as isize - before as isize
}

fn weight(token: &str) -> usize {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let payload_len = URL_SAFE_NO_PAD.decode(payload).map_or(0, |p| p.len());
    2 * token.len() + payload_len + ENTRY_OVERHEAD
}

fn main() {
    let pad = google_pad();
    // HS256 signs fast; a cache entry holds no token bytes (only their
    // hash), so its memory does not depend on the algorithm.
    let tokens: Vec<String> = (0..N)
        .map(|i| sign(Algorithm::HS256, &google_claims(pad, i as u64)))
        .collect();
    let rs256 = sign(Algorithm::RS256, &google_claims(pad, 0));

    let mut out = String::new();
    let _ = writeln!(out, "machine: {}\n", runtime::machine());

    // Warm the allocator with a pass that caches nothing.
    let off = verifier(None);
    let warm = pass(&off, &tokens);
    let warm2 = pass(&off, &tokens);

    // A cache large enough to keep every entry.
    let big = verifier(Some(1 << 30));
    let grew = pass(&big, &tokens);
    let again = pass(&big, &tokens);
    let per_entry = grew as f64 / N as f64;

    // The default 8 MiB cache, filled three times over.
    let default = verifier(Some(8 * 1024 * 1024));
    let mut bounded = Vec::new();
    for _ in 0..3 {
        bounded.push(pass(&default, &tokens));
    }
    drop((big, default));

    let w_hs = weight(&tokens[0]);
    let w_rs = weight(&rs256);
    let _ = writeln!(out, "### cache memory ({N} distinct tokens per pass)\n");
    let _ = writeln!(out, "| measure | value |");
    let _ = writeln!(out, "|---|---:|");
    let _ = writeln!(
        out,
        "| RSS growth, cache off, first / second pass | {} / {} KiB |",
        warm / 1024,
        warm2 / 1024
    );
    let _ = writeln!(
        out,
        "| RSS growth, 1 GiB cache, filling pass | {} KiB |",
        grew / 1024
    );
    let _ = writeln!(
        out,
        "| RSS growth, 1 GiB cache, second pass (all hits) | {} KiB |",
        again / 1024
    );
    let _ = writeln!(
        out,
        "| **measured RSS per cached entry** | **{per_entry:.0} B** |"
    );
    let _ = writeln!(
        out,
        "| RSS growth, default 8 MiB cache, passes 1 / 2 / 3 | {} / {} / {} KiB |",
        bounded[0] / 1024,
        bounded[1] / 1024,
        bounded[2] / 1024
    );
    let _ = writeln!(
        out,
        "| weight of an entry (2 × token + payload + {ENTRY_OVERHEAD}), HS256 token of {} B | {w_hs} B |",
        tokens[0].len()
    );
    let _ = writeln!(
        out,
        "| weight of an entry, RS256 token of {} B | {w_rs} B |",
        rs256.len()
    );
    let _ = writeln!(
        out,
        "| entries of RS256 tokens in the default 8 MiB | {} |",
        8 * 1024 * 1024 / w_rs
    );
    let _ = writeln!(
        out,
        "| measured bytes ÷ weight, HS256 entry | {:.2} |",
        per_entry / w_hs as f64
    );
    revocation_memory(&mut out);
    runtime::publish(env!("CARGO_MANIFEST_DIR"), "cache_memory", &out);
}

/// Revoked entries held: RSS per entry of the revocation list, with one
/// million `jti`s as `TokenIssuer` makes them (22 base64url characters).
fn revocation_memory(out: &mut String) {
    const ENTRIES: usize = 1_000_000;
    let ids: Vec<String> = (0..ENTRIES).map(|i| format!("jti-{i:018}")).collect();
    let before = rss_bytes();
    let revocations = jwt_layer::revocation::Revocations::memory_bounded(
        2 * ENTRIES,
        std::time::Duration::from_secs(3600),
    );
    let revoker = revocations.revoker();
    // The in-memory list answers at once.
    for id in &ids {
        now_or_never(revoker.revoke_jti(id, 4_000_000_000)).expect("room");
    }
    let grew = rss_bytes() as isize - before as isize;
    black_box(&revocations);
    let _ = writeln!(
        out,
        "\n### revocation list ({ENTRIES} revoked `jti`s of 22 B)\n"
    );
    let _ = writeln!(out, "| measure | value |");
    let _ = writeln!(out, "|---|---:|");
    let _ = writeln!(out, "| RSS growth | {} MiB |", grew / (1024 * 1024));
    let _ = writeln!(
        out,
        "| **per entry** | **{:.0} B** |",
        grew as f64 / ENTRIES as f64
    );
}
