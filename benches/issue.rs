//! Issuing tokens: `TokenIssuer::issue` against `jsonwebtoken::encode`
//! with an `EncodingKey` built once (the floor of the signing side), per
//! algorithm, in the same interleaved run. Run with
//! `cargo bench --bench issue`.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;

use jsonwebtoken::{Algorithm, Header};
use jwt_layer::issue::{SigningKey, TokenIssuer};
use serde::Serialize;

use fixtures::{
    ALGS, AUDIENCE, EC256_PRIVATE_PEM, ED_PRIVATE_PEM, ISSUER, RSA_PRIVATE_PEM, SECRET, alg_name,
    encoding_key, now,
};
use harness::Harness;

/// What a login route puts in a token besides `iss`/`aud`/`iat`/`exp`.
#[derive(Serialize)]
struct Login {
    sub: &'static str,
    email: &'static str,
    roles: [&'static str; 2],
}

/// The same claims with the registered ones, for the floor.
#[derive(Serialize)]
struct Full {
    iss: &'static str,
    aud: &'static str,
    iat: u64,
    exp: u64,
    sub: &'static str,
    email: &'static str,
    roles: [&'static str; 2],
}

const LOGIN: Login = Login {
    sub: "110169484474386276334",
    email: "alice@example.com",
    roles: ["reader", "writer"],
};

fn signing_key(alg: Algorithm) -> SigningKey {
    let key = match alg {
        Algorithm::RS256 => SigningKey::from_pem(RSA_PRIVATE_PEM),
        Algorithm::ES256 => SigningKey::from_pem(EC256_PRIVATE_PEM),
        Algorithm::EdDSA => SigningKey::from_pem(ED_PRIVATE_PEM),
        _ => SigningKey::hmac(SECRET),
    };
    key.expect("signing key")
}

fn main() {
    let mut h = Harness::new("issue: TokenIssuer::issue vs jsonwebtoken::encode");
    for alg in ALGS {
        let name = alg_name(alg);
        {
            let key = encoding_key(alg);
            let mut header = Header::new(alg);
            header.kid = Some("kid".to_owned());
            h.add(&format!("encode-floor/{name}"), move |n| {
                for _ in 0..n {
                    let iat = now();
                    let claims = Full {
                        iss: ISSUER,
                        aud: AUDIENCE,
                        iat,
                        exp: iat + 3600,
                        sub: LOGIN.sub,
                        email: LOGIN.email,
                        roles: LOGIN.roles,
                    };
                    let token = jsonwebtoken::encode(&header, &claims, &key).expect("encode");
                    black_box(token);
                }
            });
        }
        {
            let issuer = TokenIssuer::builder(signing_key(alg))
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .build()
                .expect("issuer");
            h.add(&format!("issue/{name}"), move |n| {
                for _ in 0..n {
                    black_box(issuer.issue(&LOGIN).expect("issue"));
                }
            });
        }
    }
    let load_before = runtime::loadavg();
    let r = h.run();
    let mut out = String::new();
    let _ = writeln!(out, "machine: {}", runtime::machine());
    let _ = writeln!(out, "load average before the run: {load_before}\n");
    out.push_str(&r.table());
    out.push('\n');
    let rows: Vec<(String, String, String, Option<f64>)> = ALGS
        .iter()
        .map(|&alg| {
            let name = alg_name(alg);
            (
                format!("issue/{name} ÷ encode-floor/{name}"),
                format!("issue/{name}"),
                format!("encode-floor/{name}"),
                None,
            )
        })
        .collect();
    out.push_str(&harness::ratio_table(&r, &rows));
    let _ = writeln!(out, "\nload average after the run: {}", runtime::loadavg());
    runtime::publish(env!("CARGO_MANIFEST_DIR"), "issue", &out);
}
