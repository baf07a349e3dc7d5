//! Target 3, time: key lookup stays O(1) in the number of keys and
//! issuers. A verification (cache off) with 1, 10 and 100 keys, behind 1 or
//! 20 issuers (`issuer_keys`), and the bare `KeySource::lookup`. Run with
//! `cargo bench --bench scale`.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;

use jsonwebtoken::Algorithm;
use jwt_layer::keys::Lookup;
use jwt_layer::{JwtAuth, Key, KeySource, StaticKeys};
use serde_json::Value;

use fixtures::{AUDIENCE, GoogleClaims, RSA_PUBLIC_PEM, SECRET, google_claims, sign_with_kid};
use harness::{Harness, fmt_ns, ratio_table};
use runtime::now_or_never;

const KEY_COUNTS: [usize; 3] = [1, 10, 100];
const ISSUER_COUNTS: [usize; 2] = [1, 20];

fn kid(i: usize) -> String {
    format!("key-{i:03}")
}

fn issuer(j: usize) -> String {
    format!("https://issuer-{j:02}.example")
}

/// `n` keys of `alg`'s type with distinct kids (the same material: the
/// lookup is by kid, and only the key a token names is ever parsed).
fn keys(alg: Algorithm, n: usize) -> StaticKeys {
    StaticKeys::new((0..n).map(|i| {
        let key = match alg {
            Algorithm::RS256 => Key::rsa_pem(RSA_PUBLIC_PEM),
            _ => Key::hmac(SECRET),
        };
        key.expect("key").with_kid(kid(i))
    }))
    .expect("key set")
}

/// A token naming the last key of the last issuer.
fn token(alg: Algorithm, n_keys: usize, n_issuers: usize) -> String {
    let mut claims: Value = google_claims(0, 0);
    claims["iss"] = Value::from(issuer(n_issuers - 1));
    sign_with_kid(alg, &kid(n_keys - 1), &claims)
}

fn auth(alg: Algorithm, n_keys: usize, n_issuers: usize) -> JwtAuth<GoogleClaims> {
    let mut b = JwtAuth::<GoogleClaims>::builder()
        .audience(AUDIENCE)
        .token_cache(false);
    for j in 0..n_issuers {
        b = b.issuer_keys(issuer(j), keys(alg, n_keys));
    }
    b.build().expect("layer")
}

fn main() {
    let mut h = Harness::new("scale: keys and issuers");
    for (alg, name) in [(Algorithm::HS256, "hs256"), (Algorithm::RS256, "rs256")] {
        for n_issuers in ISSUER_COUNTS {
            for n_keys in KEY_COUNTS {
                let auth = auth(alg, n_keys, n_issuers);
                let verifier = auth.verifier().clone();
                let token = token(alg, n_keys, n_issuers);
                now_or_never(verifier.verify(&token)).expect("verify");
                h.add(
                    &format!("verify/{name}/keys{n_keys}/iss{n_issuers}"),
                    move |n| {
                        for _ in 0..n {
                            let c =
                                now_or_never(verifier.verify(black_box(&token))).expect("verify");
                            black_box(c);
                        }
                    },
                );
            }
        }
    }
    // The lookup alone.
    for n_keys in KEY_COUNTS {
        let set = keys(Algorithm::HS256, n_keys);
        let wanted = kid(n_keys - 1);
        h.add(&format!("lookup/keys{n_keys}"), move |n| {
            for _ in 0..n {
                match set.lookup(Some(black_box(&wanted)), Algorithm::HS256) {
                    Lookup::Ready(Ok(key)) => {
                        black_box(key);
                    }
                    _ => panic!("lookup failed"),
                }
            }
        });
    }

    let load_before = runtime::loadavg();
    let r = h.run();
    let mut out = String::new();
    let _ = writeln!(out, "machine: {}", runtime::machine());
    let _ = writeln!(out, "load average before the run: {load_before}\n");
    out.push_str(&r.table());
    out.push('\n');
    let mut rows = Vec::new();
    for name in ["hs256", "rs256"] {
        for iss in ISSUER_COUNTS {
            rows.push((
                format!("{name}, {iss} issuer(s): 100 keys ÷ 1 key"),
                format!("verify/{name}/keys100/iss{iss}"),
                format!("verify/{name}/keys1/iss{iss}"),
                Some(1.10),
            ));
        }
        for keys in KEY_COUNTS {
            rows.push((
                format!("{name}, {keys} key(s): 20 issuers ÷ 1 issuer"),
                format!("verify/{name}/keys{keys}/iss20"),
                format!("verify/{name}/keys{keys}/iss1"),
                Some(1.10),
            ));
        }
    }
    rows.push((
        "lookup: 100 keys ÷ 1 key".to_owned(),
        "lookup/keys100".to_owned(),
        "lookup/keys1".to_owned(),
        Some(1.10),
    ));
    out.push_str(&ratio_table(&r, &rows));
    let _ = writeln!(
        out,
        "\nlargest vs smallest set, HS256 (absolute): {}",
        fmt_ns(r.median("verify/hs256/keys100/iss20") - r.median("verify/hs256/keys1/iss1"))
    );
    let _ = writeln!(out, "\nload average after the run: {}", runtime::loadavg());
    runtime::publish(env!("CARGO_MANIFEST_DIR"), "scale", &out);
}
