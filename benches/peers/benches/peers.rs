//! jwt-layer against its peers, in one interleaved run: the raw
//! `jsonwebtoken::decode` floor (v11, aws-lc-rs), jwt-layer, jwt-authorizer
//! 0.15 (axum 0.7, jsonwebtoken 9 / ring) and axum-jwt-auth 0.7 (axum 0.8,
//! jsonwebtoken 10). Every case is a whole request through an axum router
//! whose handler takes the typed claims, except the floor.
//!
//! `AXUM_JWT_AUTH_BACKEND=rust_crypto` runs axum-jwt-auth on the backend
//! it enables itself (jsonwebtoken 10's `rust_crypto`); the default,
//! `aws_lc`, installs jsonwebtoken 10's aws-lc-rs provider instead, its
//! fastest configuration.

#[path = "../../support/fixtures.rs"]
mod fixtures;
#[path = "../../support/harness.rs"]
mod harness;
#[path = "../../support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use http::HeaderValue;
use jsonwebtoken::Algorithm;
use jwt_layer::{JwtAuth, Key, VerifiedClaims};

use fixtures::{
    ALGS, AUDIENCE, EC256_PUBLIC_PEM, ED_PUBLIC_PEM, GoogleClaims, ISSUER, KID, RSA_PUBLIC_PEM,
    SECRET, alg_name, decoding_key, floor_validation, google_pad, google_token,
};
use harness::{Harness, fmt_ns, ratio_table};

fn header(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
}

/// A request loop through an axum 0.8 router.
fn case08(app: axum::Router, token: &str) -> impl FnMut(u64) + 'static {
    runtime::router_loop(app, vec![header(token)], axum::body::Body::empty)
}

/// A request loop through an axum 0.7 router.
fn case07(app: axum07::Router, token: &str) -> impl FnMut(u64) + 'static {
    runtime::router_loop(app, vec![header(token)], axum07::body::Body::empty)
}

// --- jwt-layer -------------------------------------------------------------

async fn jwt_layer_handler(claims: VerifiedClaims<GoogleClaims>) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

fn jwt_layer_app(alg: Algorithm, cache: bool) -> axum::Router {
    let key = match alg {
        Algorithm::RS256 => Key::rsa_pem(RSA_PUBLIC_PEM),
        Algorithm::ES256 => Key::ec_pem(EC256_PUBLIC_PEM),
        Algorithm::EdDSA => Key::ed_pem(ED_PUBLIC_PEM),
        _ => Key::hmac(SECRET),
    }
    .expect("key")
    .with_kid(KID);
    let auth = JwtAuth::<GoogleClaims>::builder()
        .key(key)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(cache)
        .build()
        .expect("jwt-layer");
    axum::Router::new()
        .route("/", axum::routing::get(jwt_layer_handler))
        .layer(auth)
}

// --- jwt-authorizer 0.15 -------------------------------------------------------

async fn jwt_authorizer_handler(
    jwt_authorizer::JwtClaims(claims): jwt_authorizer::JwtClaims<GoogleClaims>,
) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

fn jwt_authorizer_app(alg: Algorithm) -> axum07::Router {
    use jwt_authorizer::{IntoLayer as _, JwtAuthorizer, Validation};
    let builder = match alg {
        Algorithm::RS256 => JwtAuthorizer::<GoogleClaims>::from_rsa_pem_text(RSA_PUBLIC_PEM),
        Algorithm::ES256 => JwtAuthorizer::from_ec_pem_text(EC256_PUBLIC_PEM),
        Algorithm::EdDSA => JwtAuthorizer::from_ed_pem_text(ED_PUBLIC_PEM),
        _ => JwtAuthorizer::from_secret(SECRET),
    };
    let authorizer = runtime::runtime()
        .block_on(
            builder
                .validation(Validation::new().iss(&[ISSUER]).aud(&[AUDIENCE]))
                .build(),
        )
        .expect("jwt-authorizer");
    axum07::Router::new()
        .route("/", axum07::routing::get(jwt_authorizer_handler))
        .layer([authorizer].into_layer())
}

// --- axum-jwt-auth 0.7 -----------------------------------------------------

async fn axum_jwt_auth_handler(claims: axum_jwt_auth::Claims<GoogleClaims>) -> &'static str {
    black_box(&claims.claims.sub);
    "ok"
}

fn axum_jwt_auth_app(alg: Algorithm) -> axum::Router {
    use jsonwebtoken10::{Algorithm as A, DecodingKey, Validation};
    let (alg10, key) = match alg {
        Algorithm::RS256 => (
            A::RS256,
            DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()),
        ),
        Algorithm::ES256 => (
            A::ES256,
            DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()),
        ),
        Algorithm::EdDSA => (A::EdDSA, DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes())),
        _ => (A::HS256, Ok(DecodingKey::from_secret(SECRET.as_bytes()))),
    };
    let mut validation = Validation::new(alg10);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    let decoder = axum_jwt_auth::LocalDecoder::builder()
        .keys(vec![key.expect("key")])
        .validation(validation)
        .build()
        .expect("axum-jwt-auth");
    let state: axum_jwt_auth::Decoder<GoogleClaims> = Arc::new(decoder);
    axum::Router::new()
        .route("/", axum::routing::get(axum_jwt_auth_handler))
        .with_state(state)
}

/// Signature checks alone, keys parsed once: aws-lc-rs (what jwt-layer
/// uses) against the pure-Rust crates, for EdDSA and ES256.
fn signature_only(h: &mut Harness, pad: usize) {
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let token = google_token(alg, pad);
        let (message, signature) = token.rsplit_once('.').expect("token");
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        let message = message.as_bytes().to_vec();
        let raw = decoding_key(alg)
            .try_get_as_bytes()
            .expect("key bytes")
            .to_vec();
        let name = alg_name(alg);
        let algorithm: &'static dyn sig::VerificationAlgorithm = if alg == Algorithm::EdDSA {
            &sig::ED25519
        } else {
            &sig::ECDSA_P256_SHA256_FIXED
        };
        let parsed = ParsedPublicKey::new(algorithm, &raw).expect("aws-lc key");
        {
            let (m, s) = (message.clone(), signature.clone());
            h.add(&format!("sig-only[aws-lc-rs]/{name}"), move |n| {
                for _ in 0..n {
                    assert!(parsed.verify_sig(black_box(&m), &s).is_ok());
                }
            });
        }
        if alg == Algorithm::EdDSA {
            use ed25519_dalek::Verifier as _;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().expect("32 bytes"))
                .expect("dalek key");
            let s = ed25519_dalek::Signature::from_slice(&signature).expect("signature");
            h.add(&format!("sig-only[ed25519-dalek]/{name}"), move |n| {
                for _ in 0..n {
                    assert!(key.verify(black_box(&message), &s).is_ok());
                }
            });
        } else {
            use p256::ecdsa::signature::Verifier as _;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&raw).expect("p256 key");
            let s = p256::ecdsa::Signature::from_slice(&signature).expect("signature");
            h.add(&format!("sig-only[p256]/{name}"), move |n| {
                for _ in 0..n {
                    assert!(key.verify(black_box(&message), &s).is_ok());
                }
            });
        }
    }
}

async fn no_auth() -> &'static str {
    "ok"
}

fn main() {
    let backend = std::env::var("AXUM_JWT_AUTH_BACKEND").unwrap_or_else(|_| "aws_lc".to_owned());
    match backend.as_str() {
        "rust_crypto" => {
            let _ = jsonwebtoken10::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        }
        _ => {
            let _ = jsonwebtoken10::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        }
    }
    let aja = format!("axum-jwt-auth[{backend}]");

    let pad = google_pad();
    let mut h = Harness::new(&format!("peers (axum-jwt-auth on {backend})"));
    h.add(
        "axum0.8/no-auth",
        case08(
            axum::Router::new().route("/", axum::routing::get(no_auth)),
            "x.y.z",
        ),
    );
    h.add(
        "axum0.7/no-auth",
        case07(
            axum07::Router::new().route("/", axum07::routing::get(no_auth)),
            "x.y.z",
        ),
    );
    for alg in ALGS {
        let name = alg_name(alg);
        let token = google_token(alg, pad);
        {
            let key = decoding_key(alg);
            let validation = floor_validation(alg);
            let token = token.clone();
            h.add(&format!("floor/{name}"), move |n| {
                for _ in 0..n {
                    let data =
                        jsonwebtoken::decode::<GoogleClaims>(black_box(&token), &key, &validation)
                            .expect("floor");
                    black_box(data);
                }
            });
        }
        h.add(
            &format!("jwt-layer/{name}"),
            case08(jwt_layer_app(alg, false), &token),
        );
        if alg == Algorithm::RS256 {
            h.add(
                &format!("jwt-layer-cached/{name}"),
                case08(jwt_layer_app(alg, true), &token),
            );
        }
        h.add(
            &format!("jwt-authorizer/{name}"),
            case07(jwt_authorizer_app(alg), &token),
        );
        h.add(
            &format!("{aja}/{name}"),
            case08(axum_jwt_auth_app(alg), &token),
        );
    }

    signature_only(&mut h, pad);

    let load_before = runtime::loadavg();
    let r = h.run();
    let mut out = String::new();
    let _ = writeln!(out, "machine: {}", runtime::machine());
    let _ = writeln!(out, "load average before the run: {load_before}\n");
    out.push_str(&r.table());
    out.push('\n');
    // Every ratio is a case against the floor of its algorithm.
    let vs_floor = |case: String, name: &str| {
        (
            format!("{case} ÷ floor/{name}"),
            case,
            format!("floor/{name}"),
            None,
        )
    };
    let mut rows = Vec::new();
    for alg in ALGS {
        let name = alg_name(alg);
        for who in ["jwt-layer", "jwt-authorizer", aja.as_str()] {
            rows.push(vs_floor(format!("{who}/{name}"), name));
        }
    }
    for (who, name) in [
        ("sig-only[aws-lc-rs]", "eddsa"),
        ("sig-only[ed25519-dalek]", "eddsa"),
        ("sig-only[aws-lc-rs]", "es256"),
        ("sig-only[p256]", "es256"),
    ] {
        rows.push(vs_floor(format!("{who}/{name}"), name));
    }
    rows.push(vs_floor("jwt-layer-cached/rs256".to_owned(), "rs256"));
    out.push_str(&ratio_table(&r, &rows));
    let _ = writeln!(out, "\n| framework-only overhead | value |\n|---|---:|");
    for (label, case) in [
        ("axum 0.8 router, no auth", "axum0.8/no-auth"),
        ("axum 0.7 router, no auth", "axum0.7/no-auth"),
    ] {
        if let Some(s) = r.get(case) {
            let _ = writeln!(out, "| {label} | {} |", fmt_ns(s.median));
        }
    }
    let _ = writeln!(out, "\nload average after the run: {}", runtime::loadavg());
    runtime::publish(
        env!("CARGO_MANIFEST_DIR"),
        &format!("peers-{backend}"),
        &out,
    );
}
