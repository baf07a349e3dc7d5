//! Keys, claims and tokens shared by the benches (and, through `#[path]`,
//! by the peers package). The keys are the test fixtures of `tests/data/`.

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) const RSA_PRIVATE_PEM: &[u8] = include_bytes!("../../tests/data/rsa2048-private.pem");
pub(crate) const RSA_PUBLIC_PEM: &str = include_str!("../../tests/data/rsa2048-public.pem");
pub(crate) const EC256_PRIVATE_PEM: &[u8] =
    include_bytes!("../../tests/data/ec256-private.pk8.pem");
pub(crate) const EC256_PUBLIC_PEM: &str = include_str!("../../tests/data/ec256-public.pem");
pub(crate) const ED_PRIVATE_PEM: &[u8] = include_bytes!("../../tests/data/ed25519-private.pem");
pub(crate) const ED_PUBLIC_PEM: &str = include_str!("../../tests/data/ed25519-public.pem");
/// 64 ASCII bytes (jwt-authorizer takes its secret as `&str`).
pub(crate) const SECRET: &str = "jwt-layer benchmark secret, sixty-four bytes long, ASCII only...";

pub(crate) const ISSUER: &str = "https://accounts.google.com";
pub(crate) const AUDIENCE: &str = "407408718192-8ld3kbt8.apps.googleusercontent.com";
pub(crate) const KID: &str = "6f7254101f56e41cf35c9926de84a2d552b4c6f1";

/// The RS256 token length of the issue's figures.
pub(crate) const GOOGLE_TOKEN_LEN: usize = 824;

/// The four algorithms of the targets.
pub(crate) const ALGS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

/// A short lowercase name for case labels.
pub(crate) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "rs256",
        Algorithm::ES256 => "es256",
        Algorithm::EdDSA => "eddsa",
        Algorithm::HS256 => "hs256",
        _ => "other",
    }
}

/// The claims of a Google ID token, typed (every bench deserializes into
/// this, the floor included).
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct GoogleClaims {
    pub(crate) iss: String,
    pub(crate) azp: String,
    pub(crate) aud: String,
    pub(crate) sub: String,
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    pub(crate) name: String,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Google-like ID token claims; `pad` lengthens the name and `sub` varies
/// the subject (for many distinct tokens).
pub(crate) fn google_claims(pad: usize, sub: u64) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "azp": AUDIENCE,
        "aud": AUDIENCE,
        "sub": format!("1101694844743862{sub:05}"),
        "email": "alice@gmail.com",
        "email_verified": true,
        "name": format!("Alice{}", "x".repeat(pad)),
        "iat": now,
        "exp": now + 3600,
    })
}

pub(crate) fn encoding_key(alg: Algorithm) -> EncodingKey {
    match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 => {
            EncodingKey::from_rsa_pem(RSA_PRIVATE_PEM).expect("RSA key")
        }
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC256_PRIVATE_PEM).expect("EC key"),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED_PRIVATE_PEM).expect("Ed key"),
        _ => EncodingKey::from_secret(SECRET.as_bytes()),
    }
}

pub(crate) fn decoding_key(alg: Algorithm) -> DecodingKey {
    match alg {
        Algorithm::RS256 => DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).expect("RSA"),
        Algorithm::ES256 => DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).expect("EC"),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes()).expect("Ed"),
        _ => DecodingKey::from_secret(SECRET.as_bytes()),
    }
}

/// jsonwebtoken's validation for the floor: the algorithm, `iss`, `aud`
/// and `exp` (default 60 s leeway, like ours).
pub(crate) fn floor_validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v
}

/// The floor: `n` times `jsonwebtoken::decode` of `token` into
/// [`GoogleClaims`] (key built once, `iss`/`aud`/`exp` checked).
#[allow(dead_code)] // not every bench measures the floor
pub(crate) fn floor_case(alg: Algorithm, token: &str) -> impl FnMut(u64) + 'static {
    let (key, validation, token) = (decoding_key(alg), floor_validation(alg), token.to_owned());
    move |n| {
        for _ in 0..n {
            let data = jsonwebtoken::decode::<GoogleClaims>(
                std::hint::black_box(&token),
                &key,
                &validation,
            )
            .expect("floor decode");
            std::hint::black_box(data);
        }
    }
}

/// Signs `claims` under `alg` with the fixture key, header `kid` = [`KID`].
pub(crate) fn sign(alg: Algorithm, claims: &Value) -> String {
    sign_with_kid(alg, KID, claims)
}

/// Signs `claims` under `alg` with the fixture key and header `kid`.
pub(crate) fn sign_with_kid(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding_key(alg)).expect("encode")
}

/// The padding that makes the RS256 token [`GOOGLE_TOKEN_LEN`] bytes long
/// (or the nearest length base64 allows).
pub(crate) fn google_pad() -> usize {
    let probe = sign(Algorithm::RS256, &google_claims(0, 0));
    let mut parts = probe.split('.');
    let header_len = parts.next().map_or(0, str::len);
    let sig_len = probe.rsplit('.').next().map_or(0, str::len);
    let len = |pad: usize| {
        let payload = serde_json::to_vec(&google_claims(pad, 0)).expect("json");
        header_len + 1 + URL_SAFE_NO_PAD.encode(payload).len() + 1 + sig_len
    };
    (0..400)
        .min_by_key(|&pad| len(pad).abs_diff(GOOGLE_TOKEN_LEN))
        .unwrap_or(0)
}

/// The Google-like token under `alg` (same claims for every algorithm).
pub(crate) fn google_token(alg: Algorithm, pad: usize) -> String {
    sign(alg, &google_claims(pad, 0))
}
