//! DPoP (RFC 9449): a request with `Authorization: DPoP` and its proof
//! against the same request as a bearer token, same claims, token cache
//! off; the target is one ES256 verify (the proof's) + 1 µs. Interleaved
//! harness (see `support/harness.rs`); run with `cargo bench --bench dpop`.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/runtime.rs"]
mod runtime;

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwt_layer::dpop::Dpop;
use jwt_layer::{JwtAuth, Key};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use fixtures::{AUDIENCE, EC256_PRIVATE_PEM, EC256_PUBLIC_PEM, ISSUER, SECRET};
use harness::Harness;

/// Distinct ES256 signatures the comparison rows cycle through.
const DISTINCT: usize = 4096;

/// The header's name, made once (a name parsed from text per request
/// would add an allocation to the DPoP rows that the layer does not make).
static DPOP: http::HeaderName = http::HeaderName::from_static("dpop");

/// Proofs made before the run (each is single-use: its `jti`);
/// `JL_DPOP_PROOFS` overrides (fewer for a profile).
fn proof_count() -> usize {
    std::env::var("JL_DPOP_PROOFS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The client's public JWK and its thumbprint.
fn client_jwk() -> (Value, String) {
    let public = DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).expect("EC");
    let jwk = Jwk::from_decoding_key(&public, Some(Algorithm::ES256)).expect("jwk");
    let jwk = serde_json::to_value(jwk).expect("json");
    let jkt = jwt_layer::issue::jwk_thumbprint(&jwk.to_string()).expect("thumbprint");
    (jwk, jkt)
}

fn token(claims: &Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("token")
}

/// `count` proofs for `GET https://api.example.com/` with `token`.
fn proofs(jwk: &Value, token: &str, count: usize) -> Vec<HeaderValue> {
    let key = EncodingKey::from_ec_pem(EC256_PRIVATE_PEM).expect("EC key");
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = serde_json::from_value(jwk.clone()).ok();
    let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
    let iat = now();
    (0..count)
        .map(|i| {
            let claims = json!({"htm": "GET", "htu": "https://api.example.com/",
                                "iat": iat, "jti": format!("p{i}"), "ath": ath});
            let proof = jsonwebtoken::encode(&header, &claims, &key).expect("proof");
            HeaderValue::from_str(&proof).expect("header")
        })
        .collect()
}

fn app() -> Router {
    let auth = JwtAuth::<Value>::builder()
        .key(Key::hmac(SECRET).expect("key"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(false)
        .dpop(
            Dpop::new()
                .public_origin("https://api.example.com")
                .iat_window(Duration::from_secs(600))
                .max_replay_entries(proof_count() as u64 * 2),
        )
        .build()
        .expect("layer");
    // Routes made once, as `axum::serve` does.
    Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(auth)
        .with_state(())
}

/// `n` requests with `authorization` and, when given, the next proof.
fn case(authorization: HeaderValue, proofs: Vec<HeaderValue>) -> impl FnMut(u64) + 'static {
    use tower::ServiceExt as _;
    let (app, rt) = (app(), runtime::runtime());
    let mut next = 0;
    move |n| {
        rt.block_on(async {
            for _ in 0..n {
                let mut req = http::Request::get("/")
                    .header(http::header::AUTHORIZATION, authorization.clone());
                if !proofs.is_empty() {
                    req = req.header(&DPOP, proofs[next % proofs.len()].clone());
                    next += 1;
                }
                let req = req.body(Body::empty()).expect("request");
                let status = app.clone().oneshot(req).await.expect("infallible").status();
                assert_eq!(status, 200, "request refused");
                black_box(status);
            }
        });
    }
}

fn main() {
    let (jwk, jkt) = client_jwk();
    let exp = now() + 3600;
    let base = json!({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": exp});
    let bearer = token(&base);
    let mut bound_claims = base.clone();
    bound_claims["cnf"] = json!({ "jkt": jkt });
    let bound = token(&bound_claims);
    let mut h = Harness::new("dpop: a DPoP request against a bearer request");
    h.add(
        "layer-bearer/hs256",
        case(
            HeaderValue::from_str(&format!("Bearer {bearer}")).expect("h"),
            Vec::new(),
        ),
    );
    h.add(
        "layer-dpop/hs256+es256-proof",
        case(
            HeaderValue::from_str(&format!("DPoP {bound}")).expect("h"),
            proofs(&jwk, &bound, proof_count()),
        ),
    );
    // One ES256 verify (jsonwebtoken, key parse included), the proof's share
    // of the target. Distinct tokens, as the proofs are: ECDSA verification
    // is variable-time, and one signature checked again and again lets the
    // branch predictor learn it (several µs faster than distinct ones).
    let key = EncodingKey::from_ec_pem(EC256_PRIVATE_PEM).expect("EC key");
    let signed: Vec<String> = (0..DISTINCT)
        .map(|i| {
            let mut claims = base.clone();
            claims["jti"] = json!(format!("t{i}"));
            jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).expect("es256")
        })
        .collect();
    let public = DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).expect("EC");
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.validate_aud = false;
    let mut i = 0;
    h.add("jsonwebtoken-decode/es256", move |n| {
        for _ in 0..n {
            i = (i + 1) % signed.len();
            black_box(jsonwebtoken::decode::<Value>(&signed[i], &public, &validation).expect("ok"));
        }
    });
    #[cfg(feature = "aws-lc-rs")]
    signature_only(&mut h, &jwk, &bound);
    let r = h.run();
    let mut out = r.table();
    let extra = r.median("layer-dpop/hs256+es256-proof") - r.median("layer-bearer/hs256");
    out.push_str(&format!(
        "\nDPoP − bearer: {:.2} µs; one ES256 decode (jsonwebtoken): {:.2} µs; target: \
         DPoP − bearer ≤ ES256 + 1 µs → {}\n",
        extra / 1000.0,
        r.median("jsonwebtoken-decode/es256") / 1000.0,
        if extra <= r.median("jsonwebtoken-decode/es256") + 1000.0 {
            "met"
        } else {
            "NOT met"
        }
    ));
    if let Some(sig) = r.get("sig-only/es256") {
        let dpop_work = extra - sig.median;
        out.push_str(&format!(
            "DPoP − bearer − one ES256 signature check (aws-lc, key parsed once): {:.2} µs; \
             target ≤ 1 µs → {}\n",
            dpop_work / 1000.0,
            if dpop_work <= 1000.0 {
                "met"
            } else {
                "NOT met"
            }
        ));
    }
    print!("{out}");
}

/// The proof's signature check alone, as the layer makes it (aws-lc, key
/// parsed once, SHA-256 of the signing input included), over distinct
/// proofs.
#[cfg(feature = "aws-lc-rs")]
fn signature_only(h: &mut Harness, jwk: &Value, token: &str) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
    let signed: Vec<(Vec<u8>, Vec<u8>)> = proofs(jwk, token, DISTINCT)
        .iter()
        .map(|proof| {
            let proof = proof.to_str().expect("ascii");
            let (input, signature) = proof.rsplit_once('.').expect("three segments");
            let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64");
            (input.as_bytes().to_vec(), signature)
        })
        .collect();
    let point = |c: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[c].as_str().expect("coordinate"))
            .expect("b64")
    };
    let public = [vec![4u8], point("x"), point("y")].concat();
    let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public).expect("P-256 point");
    let mut i = 0;
    h.add("sig-only/es256", move |n| {
        for _ in 0..n {
            i = (i + 1) % signed.len();
            let (input, signature) = &signed[i];
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input);
            assert!(key.verify_digest_sig(&digest, signature).is_ok());
        }
    });
}
