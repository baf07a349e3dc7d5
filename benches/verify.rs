//! Targets 1 and 2: a whole request through `JwtAuth` against the raw
//! `jsonwebtoken::decode` floor, per algorithm, and the verified-token
//! cache. Interleaved harness (see `support/harness.rs`); run with
//! `cargo bench --bench verify`.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::HeaderValue;
use http::header::AUTHORIZATION;
use jsonwebtoken::Algorithm;
use jwt_layer::{JwtAuth, JwtAuthBuilder, Key, VerifiedClaims};

use fixtures::{
    ALGS, AUDIENCE, EC256_PUBLIC_PEM, ED_PUBLIC_PEM, GoogleClaims, ISSUER, KID, RSA_PUBLIC_PEM,
    SECRET, alg_name, google_pad, google_token,
};
use harness::{Harness, fmt_ns, ratio_table};
use runtime::now_or_never;

fn key(alg: Algorithm) -> Key {
    let key = match alg {
        Algorithm::RS256 => Key::rsa_pem(RSA_PUBLIC_PEM),
        Algorithm::ES256 => Key::ec_pem(EC256_PUBLIC_PEM),
        Algorithm::EdDSA => Key::ed_pem(ED_PUBLIC_PEM),
        _ => Key::hmac(SECRET),
    };
    key.expect("fixture key").with_kid(KID)
}

fn base_builder(alg: Algorithm, cache: bool) -> JwtAuthBuilder<GoogleClaims> {
    JwtAuth::<GoogleClaims>::builder()
        .key(key(alg))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(cache)
}

fn auth(alg: Algorithm, cache: bool) -> JwtAuth<GoogleClaims> {
    base_builder(alg, cache).build().expect("layer")
}

/// One claim rule added to a builder.
type RuleSet = fn(JwtAuthBuilder<GoogleClaims>) -> JwtAuthBuilder<GoogleClaims>;

async fn handler(claims: VerifiedClaims<GoogleClaims>) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

async fn no_auth_handler() -> &'static str {
    "ok"
}

fn app(auth: JwtAuth<GoogleClaims>) -> Router {
    Router::new().route("/", get(handler)).layer(auth)
}

/// A request loop through `app`, with `Authorization: Bearer <token>`.
fn router_case(app: Router, token: &str) -> impl FnMut(u64) + 'static {
    router_case_cycling(app, vec![token.to_owned()])
}

/// Like [`router_case`], cycling through `tokens` (distinct tokens defeat
/// the verified-token cache).
fn router_case_cycling(app: Router, tokens: Vec<String>) -> impl FnMut(u64) + 'static {
    let values = tokens
        .iter()
        .map(|t| HeaderValue::from_str(&format!("Bearer {t}")).expect("header"))
        .collect();
    // Routes made once, as `axum::serve` does (`with_state`); otherwise
    // axum builds each layered route again on every request.
    runtime::router_loop(app.with_state(()), values, Body::empty)
}

/// `count` distinct tokens (Google-like claims, `pad` as in the other
/// cases), signed on two threads (RS256 signing is slow).
fn distinct_tokens(alg: Algorithm, pad: usize, count: usize) -> Vec<String> {
    let half = count / 2;
    let sign_range = |range: std::ops::Range<usize>| -> Vec<String> {
        range
            .map(|i| fixtures::sign(alg, &fixtures::google_claims(pad, i as u64)))
            .collect()
    };
    std::thread::scope(|s| {
        let first = s.spawn(|| sign_range(0..half));
        let mut second = sign_range(half..count);
        let mut tokens = first.join().expect("signing thread");
        tokens.append(&mut second);
        tokens
    })
}

#[cfg(feature = "aws-lc-rs")]
fn signature_only(h: &mut Harness, alg: Algorithm, token: &str) {
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let (message, signature) = token.rsplit_once('.').expect("token");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("b64");
    let message = message.as_bytes().to_vec();
    let raw = fixtures::decoding_key(alg);
    let bytes = raw.try_get_as_bytes().expect("key bytes").to_vec();
    let name = format!("sig-only/{}", alg_name(alg));
    if alg == Algorithm::HS256 {
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());
        h.add(&name, move |n| {
            for _ in 0..n {
                assert!(aws_lc_rs::hmac::verify(&k, &message, &signature).is_ok());
            }
        });
        return;
    }
    let algorithm: &'static dyn sig::VerificationAlgorithm = match alg {
        Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
        _ => &sig::ED25519,
    };
    let parsed = ParsedPublicKey::new(algorithm, &bytes).expect("parsed key");
    // RSA and ECDSA: the digest entry point (hash included), the faster of
    // aws-lc-rs's two ways; EdDSA has only the message one.
    if alg == Algorithm::EdDSA {
        h.add(&name, move |n| {
            for _ in 0..n {
                assert!(parsed.verify_sig(&message, &signature).is_ok());
            }
        });
    } else {
        let sha256 = &aws_lc_rs::digest::SHA256;
        h.add(&name, move |n| {
            for _ in 0..n {
                let digest = aws_lc_rs::digest::digest(sha256, &message);
                assert!(parsed.verify_digest_sig(&digest, &signature).is_ok());
            }
        });
    }
}

/// The parts of a verification measured alone, for "where the time goes".
fn parts(h: &mut Harness, token: &str) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jwt_layer::token::{BearerHeader, TokenSource as _};
    use sha2::Digest as _;

    let mut headers = http::HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    let uri: http::Uri = "/".parse().expect("uri");
    let source = BearerHeader::new();
    assert_eq!(
        source.extract(&headers, &uri).expect("extract").as_deref(),
        Some(token)
    );
    {
        let headers = headers.clone();
        h.add("part/extract-bearer", move |n| {
            for _ in 0..n {
                black_box(source.extract(black_box(&headers), &uri).expect("extract"));
            }
        });
    }
    let t = token.to_owned();
    h.add("part/sha256-token", move |n| {
        for _ in 0..n {
            black_box(sha2::Sha256::digest(black_box(t.as_bytes())));
        }
    });
    let mut segments = token.split('.');
    let header = segments.next().expect("header").to_owned();
    let payload = segments.next().expect("payload").to_owned();
    let signature = segments.next().expect("signature").to_owned();
    let json = URL_SAFE_NO_PAD.decode(&payload).expect("payload");
    h.add("part/b64-decode-all-segments", move |n| {
        let mut buf = [0u8; 2048];
        for _ in 0..n {
            for s in [&header, &payload, &signature] {
                black_box(
                    URL_SAFE_NO_PAD
                        .decode_slice(black_box(s), &mut buf)
                        .expect("b64"),
                );
            }
        }
    });
    h.add("part/typed-claims-json", move |n| {
        for _ in 0..n {
            let c: GoogleClaims = serde_json::from_slice(black_box(&json)).expect("claims");
            black_box(c);
        }
    });
}

fn main() {
    let pad = google_pad();
    let mut h = Harness::new("verify: JwtAuth vs the jsonwebtoken::decode floor");
    let mut lengths = Vec::new();

    // The no-auth baseline: same request, same router, no layer.
    {
        let app = Router::new().route("/", get(no_auth_handler));
        h.add("router/no-auth", router_case(app, "x.y.z"));
    }

    for alg in ALGS {
        let token = google_token(alg, pad);
        let name = alg_name(alg);
        lengths.push((name, token.len()));

        // The floor: jsonwebtoken 11 decode (aws-lc-rs), typed claims,
        // iss/aud/exp checked.
        h.add(&format!("floor/{name}"), fixtures::floor_case(alg, &token));

        #[cfg(feature = "aws-lc-rs")]
        signature_only(&mut h, alg, &token);

        // Our verifier alone (cache off), then the whole request.
        {
            let auth = auth(alg, false);
            let verifier = auth.verifier().clone();
            let t = token.clone();
            h.add(&format!("verifier/{name}"), move |n| {
                for _ in 0..n {
                    let claims = now_or_never(verifier.verify(black_box(&t))).expect("verify");
                    black_box(claims);
                }
            });
            h.add(&format!("layer/{name}"), router_case(app(auth), &token));
        }
    }

    // Claim rules (issue 13), configured, on HS256 tokens (where 100 ns
    // shows) with the cache off: the same request as `layer/hs256` plus
    // each rule once (`layer/hs256` itself has none configured).
    {
        let token = google_token(Algorithm::HS256, pad);
        let rules: [(&str, RuleSet); 5] = [
            ("layer-rule-audience/hs256", |b| {
                b.audience_claims(["aud", "azp"])
            }),
            ("layer-rule-equals/hs256", |b| {
                b.claim_equals("email", "alice@gmail.com")
            }),
            ("layer-rule-typ/hs256", |b| b.require_typ(["JWT"])),
            ("layer-rule-roles/hs256", |b| {
                b.role_claims(["/email"]).require_role("alice@gmail.com")
            }),
            ("layer-rules-all/hs256", |b| {
                b.audience_claims(["aud", "azp"])
                    .claim_equals("email", "alice@gmail.com")
                    .require_typ(["JWT"])
                    .role_claims(["/email"])
                    .require_role("alice@gmail.com")
            }),
        ];
        for (name, rule) in rules {
            let auth = rule(base_builder(Algorithm::HS256, false))
                .build()
                .expect("rules");
            h.add(name, router_case(app(auth), &token));
        }
    }

    // Several key sources for one issuer (issue 14): the fixture key beside
    // a remote key set holding another key (seeded, never fetched: an HS256
    // token never reaches a remote set; an RS256 `kid` that only the static
    // keys hold goes to them). Compare with `layer/<alg>`, one source.
    #[cfg(feature = "remote-jwks")]
    for alg in [Algorithm::HS256, Algorithm::RS256] {
        use jwt_layer::keys::{RemoteJwks, SavedKeySet};
        let token = google_token(alg, pad);
        let other = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"other","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        let remote = RemoteJwks::builder("https://keys.invalid/jwks.json")
            .seed(SavedKeySet::new(other, std::time::SystemTime::now()))
            .build()
            .expect("remote");
        assert!(remote.status().is_ready(), "the seed is installed");
        let auth = base_builder(alg, false)
            .key_source(remote)
            .build()
            .expect("sources");
        h.add(
            &format!("layer-sources/{}", alg_name(alg)),
            router_case(app(auth), &token),
        );
    }

    // Target 2: the verified-token cache (RS256 and HS256 tokens).
    for alg in [Algorithm::RS256, Algorithm::HS256] {
        let token = google_token(alg, pad);
        let name = alg_name(alg);
        let auth = auth(alg, true);
        let verifier = auth.verifier().clone();
        let t = token.clone();
        h.add(&format!("verifier-cached/{name}"), move |n| {
            for _ in 0..n {
                let claims = now_or_never(verifier.verify(black_box(&t))).expect("verify");
                black_box(claims);
            }
        });
        h.add(
            &format!("layer-cached/{name}"),
            router_case(app(auth), &token),
        );
    }

    // Metrics (issue 17), with a Prometheus recorder: the same requests as
    // `layer/hs256` (cache off) and `layer-cached/<alg>`, counted. Each
    // layer's handles are bound on its first request, made under the
    // recorder; the rows above were first used without one (no-op handles).
    #[cfg(feature = "metrics")]
    for (name, alg, cache) in [
        ("layer-metrics/hs256", Algorithm::HS256, false),
        ("layer-cached-metrics/hs256", Algorithm::HS256, true),
        ("layer-cached-metrics/rs256", Algorithm::RS256, true),
    ] {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let mut case = router_case(app(auth(alg, cache)), &google_token(alg, pad));
        metrics::with_local_recorder(&recorder, || case(2));
        h.add(name, move |n| {
            let _recorder = &recorder;
            case(n);
        });
    }

    // Revocation (issue 16): one million revoked `jti`s (and a cutoff for
    // another subject) in the list, and a token with a `jti` that is not
    // among them: the same request with and without the list, with the
    // token cache off (every request verified, then looked up) and on.
    // (row, token cache on, revocation list configured)
    let revocation_rows = [
        ("layer-revocation-none/hs256", false, false),
        ("layer-revocation-1m/hs256", false, true),
        ("layer-cached-revocation-none/hs256", true, false),
        ("layer-cached-revocation-1m/hs256", true, true),
    ];
    if revocation_rows.iter().any(|(name, _, _)| h.wants(name)) {
        use jwt_layer::revocation::Revocations;
        let revocations =
            Revocations::memory_bounded(2_000_000, std::time::Duration::from_secs(3600));
        let revoker = revocations.revoker();
        // The in-memory list answers at once.
        for i in 0..1_000_000u64 {
            let jti = format!("revoked-{i:014}");
            now_or_never(revoker.revoke_jti(&jti, 4_000_000_000)).expect("room");
        }
        now_or_never(revoker.revoke_subject("someone-else")).expect("room");
        let mut claims = fixtures::google_claims(pad, 0);
        claims["jti"] = serde_json::Value::from("Vq2cS3dBhLwY0Fq8dYp1fA");
        let token = fixtures::sign(Algorithm::HS256, &claims);
        for (name, cache, listed) in revocation_rows {
            let builder = base_builder(Algorithm::HS256, cache);
            let builder = if listed {
                builder.revocation(revocations.clone())
            } else {
                builder
            };
            h.add(
                name,
                router_case(app(builder.build().expect("layer")), &token),
            );
        }
    }

    // The default configuration (cache on) with tokens it has not seen:
    // the full verification plus the hash and the insertion. A small cache
    // cycled through many distinct tokens never hits.
    for (alg, count) in [(Algorithm::RS256, 2048usize), (Algorithm::HS256, 8192)] {
        let name = alg_name(alg);
        if !h.wants(&format!("layer-miss/{name}")) {
            continue;
        }
        let tokens = distinct_tokens(alg, pad, count);
        let auth = JwtAuth::<GoogleClaims>::builder()
            .key(key(alg))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .token_cache_max_bytes(64 * 1024)
            .build()
            .expect("layer");
        h.add(
            &format!("layer-miss/{name}"),
            router_case_cycling(app(auth), tokens),
        );
    }

    // The cache on, with tokens it has never seen: four times more distinct
    // tokens than the second-sighting table has slots, cycled, so a token
    // comes back after its mark was overwritten (about 2 % still find theirs
    // and are stored). The cache is 64 KiB so that those few are evicted
    // before they come back: no hits, only the hash, a miss and a mark.
    // `layer-cold` runs the same tokens with the cache off: cycling through
    // 16 MB of tokens costs memory traffic of its own, which the
    // difference between the two rows leaves out.
    for alg in [Algorithm::RS256, Algorithm::HS256] {
        let (new, cold) = (
            format!("layer-new/{}", alg_name(alg)),
            format!("layer-cold/{}", alg_name(alg)),
        );
        if !(h.wants(&new) || h.wants(&cold)) {
            continue;
        }
        let tokens = distinct_tokens(alg, pad, 16_384);
        let small = base_builder(alg, true).token_cache_max_bytes(64 * 1024);
        let small = app(small.build().expect("layer"));
        h.add(&new, router_case_cycling(small, tokens.clone()));
        h.add(&cold, router_case_cycling(app(auth(alg, false)), tokens));
    }

    // Where the time goes: the parse of an RS256 token up to the key lookup
    // (an unknown kid is refused right after it).
    {
        let auth = JwtAuth::<GoogleClaims>::builder()
            .key(key(Algorithm::RS256).with_kid("another-kid"))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .token_cache(false)
            .build()
            .expect("layer");
        let verifier = auth.verifier().clone();
        let token = google_token(Algorithm::RS256, pad);
        h.add("parse-to-lookup/rs256", move |n| {
            for _ in 0..n {
                let err = now_or_never(verifier.verify(black_box(&token))).expect_err("unknown");
                black_box(err);
            }
        });
    }

    parts(&mut h, &google_token(Algorithm::RS256, pad));

    let load_before = runtime::loadavg();
    let r = h.run();
    let mut out = String::new();
    let _ = writeln!(out, "machine: {}", runtime::machine());
    let _ = writeln!(out, "load average before the run: {load_before}\n");
    let _ = writeln!(
        out,
        "token lengths: {}\n",
        lengths
            .iter()
            .map(|(n, l)| format!("{n} {l} B"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.push_str(&r.table());
    out.push('\n');
    let mut rows: Vec<(&str, &str, &str, Option<f64>)> = vec![
        (
            "layer/rs256 ÷ floor/rs256",
            "layer/rs256",
            "floor/rs256",
            Some(0.80),
        ),
        (
            "layer/es256 ÷ floor/es256",
            "layer/es256",
            "floor/es256",
            Some(0.85),
        ),
        (
            "layer/eddsa ÷ floor/eddsa",
            "layer/eddsa",
            "floor/eddsa",
            Some(0.85),
        ),
        (
            "layer/hs256 ÷ floor/hs256",
            "layer/hs256",
            "floor/hs256",
            None,
        ),
        (
            "verifier/rs256 ÷ floor/rs256",
            "verifier/rs256",
            "floor/rs256",
            None,
        ),
        (
            "verifier/es256 ÷ floor/es256",
            "verifier/es256",
            "floor/es256",
            None,
        ),
        (
            "verifier/eddsa ÷ floor/eddsa",
            "verifier/eddsa",
            "floor/eddsa",
            None,
        ),
        (
            "verifier/hs256 ÷ floor/hs256",
            "verifier/hs256",
            "floor/hs256",
            None,
        ),
        (
            "layer-cached/rs256 ÷ floor/rs256",
            "layer-cached/rs256",
            "floor/rs256",
            None,
        ),
        (
            "layer-miss/rs256 ÷ floor/rs256 (cache on, each a second sighting stored into a full cache)",
            "layer-miss/rs256",
            "floor/rs256",
            Some(0.85),
        ),
        (
            "layer-new/rs256 ÷ floor/rs256 (cache on (64 KiB), tokens never seen)",
            "layer-new/rs256",
            "floor/rs256",
            Some(0.85),
        ),
        (
            "layer-cold/rs256 ÷ floor/rs256 (cache off, the same 16 384 tokens)",
            "layer-cold/rs256",
            "floor/rs256",
            None,
        ),
    ];
    rows.extend([
        (
            "sig-only/rs256 ÷ floor/rs256",
            "sig-only/rs256",
            "floor/rs256",
            None,
        ),
        (
            "sig-only/es256 ÷ floor/es256",
            "sig-only/es256",
            "floor/es256",
            None,
        ),
        (
            "sig-only/eddsa ÷ floor/eddsa",
            "sig-only/eddsa",
            "floor/eddsa",
            None,
        ),
    ]);
    out.push_str(&ratio_table(&r, &rows));
    out.push('\n');

    // Differences (µs-level targets).
    let diff = |a: &str, b: &str| match (r.get(a), r.get(b)) {
        (Some(a), Some(b)) => Some(a.median - b.median),
        _ => None,
    };
    let _ = writeln!(out, "| difference | value | target | met |");
    let _ = writeln!(out, "|---|---:|---:|:---:|");
    let mut line = |label: &str, v: Option<f64>, target: Option<f64>| {
        if let Some(v) = v {
            let (t, met) = match target {
                Some(t) => (
                    format!("≤ {}", fmt_ns(t)),
                    if v <= t { "yes" } else { "NO" },
                ),
                None => ("–".to_owned(), "–"),
            };
            let _ = writeln!(out, "| {label} | {} | {t} | {met} |", fmt_ns(v));
        }
    };
    line(
        "layer/hs256 − floor/hs256",
        diff("layer/hs256", "floor/hs256"),
        Some(1000.0),
    );
    line(
        "layer-miss/hs256 − floor/hs256 (cache on, second sightings stored)",
        diff("layer-miss/hs256", "floor/hs256"),
        Some(1000.0),
    );
    for alg in ["rs256", "hs256"] {
        line(
            &format!("layer-new/{alg} − layer-cold/{alg} (the cache's cost on a token never seen)"),
            diff(&format!("layer-new/{alg}"), &format!("layer-cold/{alg}")),
            None,
        );
    }
    line(
        "auth work on a cache hit: layer-cached/rs256 − router/no-auth",
        diff("layer-cached/rs256", "router/no-auth"),
        Some(2000.0),
    );
    line(
        "auth work on a cache hit: layer-cached/hs256 − router/no-auth",
        diff("layer-cached/hs256", "router/no-auth"),
        Some(2000.0),
    );
    for rule in ["audience", "equals", "typ", "roles"] {
        line(
            &format!("layer-rule-{rule}/hs256 − layer/hs256 (one claim rule configured)"),
            diff(&format!("layer-rule-{rule}/hs256"), "layer/hs256"),
            Some(100.0),
        );
    }
    line(
        "layer-rules-all/hs256 − layer/hs256 (all four)",
        diff("layer-rules-all/hs256", "layer/hs256"),
        Some(400.0),
    );
    line(
        "verifier-cached/rs256 (the cache hit alone)",
        r.get("verifier-cached/rs256").map(|s| s.median),
        Some(2000.0),
    );
    for alg in ["rs256", "es256", "eddsa", "hs256"] {
        line(
            &format!("layer/{alg} − verifier/{alg} (router, extraction, extensions)"),
            diff(&format!("layer/{alg}"), &format!("verifier/{alg}")),
            None,
        );
        line(
            &format!("verifier/{alg} − sig-only/{alg} (everything but the signature)"),
            diff(&format!("verifier/{alg}"), &format!("sig-only/{alg}")),
            None,
        );
    }
    if let (Some(floor), Some(hit)) = (
        r.get("floor/rs256"),
        diff("layer-cached/rs256", "router/no-auth"),
    ) {
        let _ = writeln!(
            out,
            "\ncache speed-up, floor/rs256 ÷ auth work on a hit: {:.1}× (target ≥ 10×: {})",
            floor.median / hit,
            if floor.median / hit >= 10.0 {
                "yes"
            } else {
                "NO"
            }
        );
    }
    let _ = writeln!(out, "\nload average after the run: {}", runtime::loadavg());
    runtime::publish(env!("CARGO_MANIFEST_DIR"), "verify", &out);
}
