//! Attack suite, algorithms and signatures: `alg: none` in every spelling,
//! HMAC keyed with a public key, algorithm/key-type and curve mismatches,
//! RS256↔PS256 on a pinned key, ECDSA zero and out-of-range signatures,
//! stripped, truncated, bit-flipped and swapped signatures, and edited
//! payloads. Every case goes through the real layer and checks the exact
//! status and challenge and that the handler never ran.

mod common;

use axum::Router;
use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jwt_layer::{JwtAuth, Key};
use serde_json::json;

use common::*;

const NONE_CLASS: &str = "alg-none";
const CONFUSION: &str = "hmac-with-public-key";
const MISMATCH: &str = "alg-key-mismatch";
const ECDSA: &str = "ecdsa-signature";
const SIGNATURE: &str = "signature-tampering";
const PAYLOAD: &str = "edited-payload";

fn app(builder: jwt_layer::JwtAuthBuilder<TestClaims>) -> (Router, Hits) {
    router(builder.issuer(ISSUER).audience(AUDIENCE).build().unwrap())
}

fn rsa_app() -> (Router, Hits) {
    app(JwtAuth::builder().rsa_pem(RSA_PUBLIC_PEM))
}

fn ec256_app() -> (Router, Hits) {
    app(JwtAuth::builder().ec_pem(EC256_PUBLIC_PEM))
}

fn ec384_app() -> (Router, Hits) {
    app(JwtAuth::builder().ec_pem(EC384_PUBLIC_PEM))
}

fn ed_app() -> (Router, Hits) {
    app(JwtAuth::builder().ed_pem(ED_PUBLIC_PEM))
}

fn hmac_app() -> (Router, Hits) {
    router(builder().build().unwrap())
}

/// Every key type at once, each with a `kid`, as a JWK Set.
fn jwks_app() -> (Router, Hits) {
    let keys = [
        jwk_json(&rsa_decoding(), Algorithm::RS256, Some("rsa")),
        jwk_json(&ec256_decoding(), Algorithm::ES256, Some("p256")),
        jwk_json(&ec384_decoding(), Algorithm::ES384, Some("p384")),
        jwk_json(&ed_decoding(), Algorithm::EdDSA, Some("ed")),
    ];
    app(JwtAuth::builder().jwks_json(&jwks_json(&keys)))
}

/// An HMAC secret (kid `hs`) beside an RSA key (kid `rs`).
fn mixed_app() -> (Router, Hits) {
    app(JwtAuth::builder()
        .key(Key::hmac(SECRET).unwrap().with_kid("hs"))
        .key(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("rs")))
}

fn rsa_decoding() -> DecodingKey {
    DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap()
}

fn ec256_decoding() -> DecodingKey {
    DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()).unwrap()
}

fn ec384_decoding() -> DecodingKey {
    DecodingKey::from_ec_pem(EC384_PUBLIC_PEM.as_bytes()).unwrap()
}

fn ed_decoding() -> DecodingKey {
    DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes()).unwrap()
}

fn payload() -> String {
    claims().to_string()
}

// --- alg: none ------------------------------------------------------------------

/// Every spelling of `none` an attacker might try, as JSON string bodies
/// (escapes included: `\u006eone` is `none` after decoding).
const NONE_SPELLINGS: &[&str] = &[
    "none",
    "None",
    "NONE",
    "nOnE",
    "NoNe",
    "nonE",
    r"\u006eone",
    r"\u004eONE",
    "none ",
    " none",
    r"none\u0000",
    r"none\t",
    r"none\n",
    "ｎｏｎｅ",
    "none.",
    "none;HS256",
    "HS256,none",
    "",
];

#[tokio::test]
async fn alg_none_in_every_spelling_is_refused_for_every_key_type() {
    for (name, (app, hits)) in [
        ("hmac", hmac_app()),
        ("rsa", rsa_app()),
        ("ec", ec256_app()),
        ("ed", ed_app()),
        ("jwks", jwks_app()),
    ] {
        for alg in NONE_SPELLINGS {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            // The unsecured form: an empty signature. The header is read
            // first, so the answer names the algorithm.
            let unsecured = format!("{}.{}.", b64(&header), b64(payload()));
            // With a signature (a valid HMAC by our secret, or garbage).
            let signed = craft(&header, &payload());
            let garbage = format!("{}.{}.{}", b64(&header), b64(payload()), b64([0u8; 32]));
            for (form, token) in [
                ("unsecured", unsecured),
                ("valid HMAC", signed),
                ("garbage signature", garbage),
            ] {
                let case = format!("{name}: alg {alg:?}, {form}");
                hostile_case(
                    NONE_CLASS,
                    &case,
                    &app,
                    &hits,
                    &token,
                    "algorithm not allowed",
                )
                .await;
            }
        }
        assert_eq!(hits.count(), 0, "{name}");
    }
}

#[tokio::test]
async fn alg_none_hidden_in_other_shapes_is_refused() {
    let (app, hits) = hmac_app();
    let p = payload();
    // Not a string: not a JWS header at all.
    for header in [
        r#"{"alg":null}"#,
        r#"{"alg":["none"]}"#,
        r#"{"alg":["HS256","none"]}"#,
        r#"{"alg":{"none":true}}"#,
        r#"{"alg":0}"#,
        r#"{"alg":false}"#,
        r#"{"ALG":"HS256"}"#,
        r#"{"Alg":"HS256"}"#,
        r#"{}"#,
        // Two `alg` members, in either order (and spelled with an escape).
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","\u0061lg":"none"}"#,
    ] {
        hostile_token(
            NONE_CLASS,
            &app,
            &hits,
            &craft(header, &p),
            "malformed token",
        )
        .await;
    }
    // The RFC 7515 A.5 shape with our claims, and with extra dots.
    let unsecured = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&p));
    hostile_token(NONE_CLASS, &app, &hits, &unsecured, "algorithm not allowed").await;
    for token in [format!("{unsecured}."), unsecured.replace('.', "..")] {
        hostile_token(NONE_CLASS, &app, &hits, &token, "malformed token").await;
    }
    // The control: the same claims with a real HS256 header pass.
    assert_ok(&app, &hits, bearer(&craft(r#"{"alg":"HS256"}"#, &p))).await;
}

// --- HMAC keyed with the public key -----------------------------------------------

/// Byte strings an attacker can derive from a public key and use as an
/// HMAC secret.
fn public_key_secrets(pem: &str, der: Option<&[u8]>, jwk: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("PEM with newline".to_owned(), pem.as_bytes().to_vec()),
        (
            "PEM without newline".to_owned(),
            pem.trim_end().as_bytes().to_vec(),
        ),
        (
            "PEM with CRLF".to_owned(),
            pem.replace('\n', "\r\n").into_bytes(),
        ),
        ("JWK text".to_owned(), jwk.as_bytes().to_vec()),
    ];
    if let Some(der) = der {
        out.push(("DER".to_owned(), der.to_vec()));
    }
    out
}

async fn assert_hmac_confusion_refused(
    app: &Router,
    hits: &Hits,
    secrets: &[(String, Vec<u8>)],
    kid: Option<&str>,
    description: &str,
) {
    for (what, secret) in secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = sign(alg, kid, &claims(), &EncodingKey::from_secret(secret));
            let case = format!("{what} {alg:?}");
            hostile_case(CONFUSION, &case, app, hits, &token, description).await;
        }
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn hmac_keyed_with_the_rsa_public_key_is_refused() {
    let jwk = jwk_json(&rsa_decoding(), Algorithm::RS256, Some("rsa"));
    let secrets = public_key_secrets(RSA_PUBLIC_PEM, Some(RSA_PUBLIC_DER), &jwk);
    let (app, hits) = rsa_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, None, "algorithm not allowed").await;
    let (app, hits) = jwks_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, Some("rsa"), "algorithm not allowed")
        .await;
    assert_hmac_confusion_refused(&app, &hits, &secrets, None, "algorithm not allowed").await;
}

#[tokio::test]
async fn hmac_keyed_with_the_ec_public_key_is_refused() {
    let jwk = jwk_json(&ec256_decoding(), Algorithm::ES256, Some("p256"));
    let secrets = public_key_secrets(EC256_PUBLIC_PEM, Some(EC256_PUBLIC_DER), &jwk);
    let (app, hits) = ec256_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, None, "algorithm not allowed").await;
    let (app, hits) = jwks_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, Some("p256"), "algorithm not allowed")
        .await;
    let jwk = jwk_json(&ec384_decoding(), Algorithm::ES384, Some("p384"));
    let secrets = public_key_secrets(EC384_PUBLIC_PEM, None, &jwk);
    let (app, hits) = ec384_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, None, "algorithm not allowed").await;
}

#[tokio::test]
async fn hmac_keyed_with_the_ed25519_public_key_is_refused() {
    let jwk = jwk_json(&ed_decoding(), Algorithm::EdDSA, Some("ed"));
    let mut secrets = public_key_secrets(ED_PUBLIC_PEM, Some(ED_PUBLIC_DER), &jwk);
    // The raw 32-byte point is long enough for HS256.
    secrets.push((
        "raw point".to_owned(),
        ED_PUBLIC_DER[ED_PUBLIC_DER.len() - 32..].to_vec(),
    ));
    let (app, hits) = ed_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, None, "algorithm not allowed").await;
    let (app, hits) = jwks_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, Some("ed"), "algorithm not allowed").await;
}

#[tokio::test]
async fn hmac_keyed_with_the_public_key_beside_a_real_hmac_key_is_refused() {
    // With an HMAC key in the set the token reaches a signature check, but
    // only under our secret, never under the public key's bytes.
    let jwk = jwk_json(&rsa_decoding(), Algorithm::RS256, Some("rs"));
    let secrets = public_key_secrets(RSA_PUBLIC_PEM, Some(RSA_PUBLIC_DER), &jwk);
    let (app, hits) = mixed_app();
    assert_hmac_confusion_refused(&app, &hits, &secrets, Some("rs"), "algorithm not allowed").await;
    assert_hmac_confusion_refused(&app, &hits, &secrets, Some("hs"), "invalid signature").await;
    assert_hmac_confusion_refused(&app, &hits, &secrets, None, "invalid signature").await;
    // The controls: each key verifies its own tokens.
    assert_ok(
        &app,
        &hits,
        bearer(&sign(
            Algorithm::HS256,
            Some("hs"),
            &claims(),
            &hmac_signer(),
        )),
    )
    .await;
    assert_ok(
        &app,
        &hits,
        bearer(&sign(
            Algorithm::RS256,
            Some("rs"),
            &claims(),
            &rsa_signer(),
        )),
    )
    .await;
}

// --- Algorithm, key type and curve mismatches -----------------------------------------

/// A key, its app, and tokens signed under algorithms of other key types.
type KeyTypeCase = (&'static str, (Router, Hits), Vec<(Algorithm, EncodingKey)>);

/// For each key type: algorithms (with real keys) of the other types.
fn other_key_type_cases() -> Vec<KeyTypeCase> {
    vec![
        (
            "rsa",
            rsa_app(),
            vec![
                (Algorithm::ES256, ec256_signer()),
                (Algorithm::ES384, ec384_signer()),
                (Algorithm::EdDSA, ed_signer()),
                (Algorithm::HS256, hmac_signer()),
            ],
        ),
        (
            "p256",
            ec256_app(),
            vec![
                (Algorithm::ES384, ec384_signer()),
                (Algorithm::RS256, rsa_signer()),
                (Algorithm::PS256, rsa_signer()),
                (Algorithm::EdDSA, ed_signer()),
                (Algorithm::HS256, hmac_signer()),
            ],
        ),
        (
            "p384",
            ec384_app(),
            vec![
                (Algorithm::ES256, ec256_signer()),
                (Algorithm::RS384, rsa_signer()),
                (Algorithm::HS384, hmac_signer()),
            ],
        ),
        (
            "ed25519",
            ed_app(),
            vec![
                (Algorithm::ES256, ec256_signer()),
                (Algorithm::RS256, rsa_signer()),
                (Algorithm::HS512, hmac_signer()),
            ],
        ),
        (
            "hmac",
            hmac_app(),
            vec![
                (Algorithm::RS256, rsa_signer()),
                (Algorithm::PS512, rsa_signer()),
                (Algorithm::ES256, ec256_signer()),
                (Algorithm::EdDSA, ed_signer()),
            ],
        ),
    ]
}

#[tokio::test]
async fn algorithms_of_another_key_type_are_refused() {
    for (name, (app, hits), tokens) in other_key_type_cases() {
        for (alg, key) in tokens {
            let token = sign(alg, None, &claims(), &key);
            hostile_case(
                MISMATCH,
                &format!("{name} {alg:?}"),
                &app,
                &hits,
                &token,
                "algorithm not allowed",
            )
            .await;
        }
        assert_eq!(hits.count(), 0, "{name}");
    }
}

#[tokio::test]
async fn a_kid_naming_a_key_of_another_type_is_refused() {
    let (app, hits) = jwks_app();
    // Real signatures by the real keys, each pointing at the wrong key.
    for (alg, kid, key) in [
        (Algorithm::RS256, "p256", rsa_signer()),
        (Algorithm::ES256, "rsa", ec256_signer()),
        (Algorithm::ES256, "p384", ec256_signer()),
        (Algorithm::ES384, "p256", ec384_signer()),
        (Algorithm::EdDSA, "p256", ed_signer()),
        (Algorithm::ES256, "ed", ec256_signer()),
        (Algorithm::HS256, "ed", hmac_signer()),
    ] {
        let token = sign(alg, Some(kid), &claims(), &key);
        hostile_token(MISMATCH, &app, &hits, &token, "algorithm not allowed").await;
    }
    // The controls.
    for (alg, kid, key) in [
        (Algorithm::RS256, "rsa", rsa_signer()),
        (Algorithm::ES256, "p256", ec256_signer()),
        (Algorithm::ES384, "p384", ec384_signer()),
        (Algorithm::EdDSA, "ed", ed_signer()),
    ] {
        assert_ok(&app, &hits, bearer(&sign(alg, Some(kid), &claims(), &key))).await;
    }
}

#[tokio::test]
async fn a_signature_of_the_wrong_curve_under_the_right_header_is_invalid() {
    // ES256 header and kid, but signed with the P-384 key (96-byte
    // signature) — and the other way round.
    let (app, hits) = jwks_app();
    let cases = [
        (
            r#"{"alg":"ES256","kid":"p256"}"#,
            Algorithm::ES384,
            ec384_signer(),
        ),
        (
            r#"{"alg":"ES384","kid":"p384"}"#,
            Algorithm::ES256,
            ec256_signer(),
        ),
        // EdDSA header, ES256 signature (64 bytes, like Ed25519's).
        (
            r#"{"alg":"EdDSA","kid":"ed"}"#,
            Algorithm::ES256,
            ec256_signer(),
        ),
        // RS256 header, PS256 signature by the same key.
        (
            r#"{"alg":"RS256","kid":"rsa"}"#,
            Algorithm::PS256,
            rsa_signer(),
        ),
    ];
    for (header, alg, key) in cases {
        let token = craft_signed(header, &payload(), alg, &key);
        let case = format!("{header} signed {alg:?}");
        hostile_case(MISMATCH, &case, &app, &hits, &token, "invalid signature").await;
    }
}

/// Apps whose RSA key is pinned to one algorithm, with that algorithm.
fn pinned_rsa_apps() -> [(&'static str, (Router, Hits), Algorithm); 3] {
    let rs_only = Key::rsa_pem(RSA_PUBLIC_PEM)
        .unwrap()
        .restrict([Algorithm::RS256])
        .unwrap();
    let ps_only = Key::rsa_pem(RSA_PUBLIC_PEM)
        .unwrap()
        .restrict([Algorithm::PS256])
        .unwrap();
    let pinned_jwk = jwk_json(&rsa_decoding(), Algorithm::PS256, Some("ps"));
    [
        (
            "RS256 pinned",
            app(JwtAuth::builder().key(rs_only)),
            Algorithm::RS256,
        ),
        (
            "PS256 pinned",
            app(JwtAuth::builder().key(ps_only)),
            Algorithm::PS256,
        ),
        (
            "JWK alg PS256",
            app(JwtAuth::builder().jwk(&pinned_jwk)),
            Algorithm::PS256,
        ),
    ]
}

/// `token`'s payload and signature under the header of the sibling
/// algorithm (PS256 for RS256, RS256 otherwise).
fn relabelled_as_sibling(token: &str, alg: Algorithm) -> String {
    let sibling = if alg == Algorithm::RS256 {
        "PS256"
    } else {
        "RS256"
    };
    let header = format!(r#"{{"alg":"{sibling}"}}"#);
    let (_, p, s) = segments(token);
    format!("{}.{p}.{s}", b64(&header))
}

#[tokio::test]
async fn rs256_and_ps256_are_not_interchangeable_on_a_pinned_key() {
    for (name, (app, hits), allowed) in pinned_rsa_apps() {
        for alg in [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ] {
            let token = sign(alg, None, &claims(), &rsa_signer());
            if alg == allowed {
                assert_ok(&app, &hits, bearer(&token)).await;
                // The same signature under the sibling algorithm's name.
                let relabelled = relabelled_as_sibling(&token, alg);
                let case = format!("{name}: {alg:?} relabelled");
                hostile_case(
                    MISMATCH,
                    &case,
                    &app,
                    &hits,
                    &relabelled,
                    "algorithm not allowed",
                )
                .await;
            } else {
                hostile_case(
                    MISMATCH,
                    &format!("{name} {alg:?}"),
                    &app,
                    &hits,
                    &token,
                    "algorithm not allowed",
                )
                .await;
            }
        }
        assert_eq!(hits.count(), 1, "{name}: only the pinned algorithm passed");
    }
}

#[tokio::test]
async fn the_algorithm_allow_list_beats_the_key() {
    let (app, hits) = app(JwtAuth::builder()
        .rsa_pem(RSA_PUBLIC_PEM)
        .algorithms([Algorithm::PS256]));
    for alg in [Algorithm::RS256, Algorithm::RS512, Algorithm::PS384] {
        let token = sign(alg, None, &claims(), &rsa_signer());
        hostile_token(MISMATCH, &app, &hits, &token, "algorithm not allowed").await;
    }
    assert_ok(
        &app,
        &hits,
        bearer(&sign(Algorithm::PS256, None, &claims(), &rsa_signer())),
    )
    .await;
}

// --- ECDSA: zero and out-of-range signatures -------------------------------------------

/// The order n of P-256, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// The field prime p of P-256, big-endian.
const P256_P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];

fn add_one(mut x: [u8; 32]) -> [u8; 32] {
    for b in x.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            break;
        }
    }
    x
}

fn concat(r: &[u8], s: &[u8]) -> Vec<u8> {
    [r, s].concat()
}

/// A DER `ECDSA-Sig-Value` for a raw `r || s` signature.
fn der_signature(raw: &[u8]) -> Vec<u8> {
    fn int(x: &[u8]) -> Vec<u8> {
        let mut x = x.to_vec();
        while x.len() > 1 && x[0] == 0 && x[1] < 0x80 {
            x.remove(0);
        }
        if x[0] >= 0x80 {
            x.insert(0, 0);
        }
        let mut out = vec![0x02, x.len() as u8];
        out.extend(x);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[tokio::test]
async fn ecdsa_zero_and_out_of_range_signatures_are_invalid() {
    let (app, hits) = ec256_app();
    let good = sign(Algorithm::ES256, None, &claims(), &ec256_signer());
    let real = signature_bytes(&good);
    let (real_r, real_s) = real.split_at(32);
    let zero = [0u8; 32];
    let mut one = [0u8; 32];
    one[31] = 1;
    let n = P256_N;
    let n_plus_1 = add_one(P256_N);
    let p = P256_P;
    let ff = [0xffu8; 32];
    let signatures: Vec<(&str, Vec<u8>)> = vec![
        ("r = s = 0 (psychic signature)", concat(&zero, &zero)),
        ("r = 0", concat(&zero, real_s)),
        ("s = 0", concat(real_r, &zero)),
        ("r = s = 1", concat(&one, &one)),
        ("r = s = n", concat(&n, &n)),
        ("r = n", concat(&n, real_s)),
        ("s = n", concat(real_r, &n)),
        ("r = n + 1", concat(&n_plus_1, real_s)),
        ("s = n + 1", concat(real_r, &n_plus_1)),
        ("r = p", concat(&p, real_s)),
        ("r = s = 2^256 - 1", concat(&ff, &ff)),
        ("r and s swapped", concat(real_s, real_r)),
        ("DER instead of r || s", der_signature(&real)),
        ("63 bytes", real[..63].to_vec()),
        ("65 bytes", [&real[..], &[0]].concat()),
        ("r only", real_r.to_vec()),
        ("r || s || r || s", [&real[..], &real[..]].concat()),
    ];
    for (what, sig) in signatures {
        hostile_case(
            ECDSA,
            what,
            &app,
            &hits,
            &with_signature(&good, &sig),
            "invalid signature",
        )
        .await;
    }
    assert_eq!(hits.count(), 0);
    assert_ok(&app, &hits, bearer(&good)).await;
}

#[tokio::test]
async fn ecdsa_p384_zero_and_wrong_length_signatures_are_invalid() {
    let (app, hits) = ec384_app();
    let good = sign(Algorithm::ES384, None, &claims(), &ec384_signer());
    let real = signature_bytes(&good);
    for (what, sig) in [
        ("zeros", vec![0u8; 96]),
        ("ones", vec![0xffu8; 96]),
        ("P-256 length", real[..64].to_vec()),
        ("DER", der_signature(&real)),
    ] {
        hostile_case(
            ECDSA,
            what,
            &app,
            &hits,
            &with_signature(&good, &sig),
            "invalid signature",
        )
        .await;
    }
    assert_eq!(hits.count(), 0);
    assert_ok(&app, &hits, bearer(&good)).await;
}

#[tokio::test]
async fn eddsa_zero_and_small_order_signatures_are_invalid() {
    let (app, hits) = ed_app();
    let good = sign(Algorithm::EdDSA, None, &claims(), &ed_signer());
    let real = signature_bytes(&good);
    let mut identity_r = [0u8; 64];
    identity_r[0] = 1; // R = the identity point, S = 0
    let mut big_s = real.clone();
    big_s[32..].copy_from_slice(&[0xff; 32]); // S ≥ L
    for (what, sig) in [
        ("zeros", vec![0u8; 64]),
        ("identity R, zero S", identity_r.to_vec()),
        ("S out of range", big_s),
        ("63 bytes", real[..63].to_vec()),
    ] {
        hostile_case(
            ECDSA,
            what,
            &app,
            &hits,
            &with_signature(&good, &sig),
            "invalid signature",
        )
        .await;
    }
    assert_eq!(hits.count(), 0);
}

// --- Stripped, truncated, bit-flipped, swapped signatures --------------------------------

/// Hostile variants of a valid token's signature, all valid base64url:
/// each must be refused as an invalid signature.
fn tampered_signatures(token: &str) -> Vec<(String, Vec<u8>)> {
    let sig = signature_bytes(token);
    let mut out = vec![
        ("one byte".to_owned(), sig[..1].to_vec()),
        ("half".to_owned(), sig[..sig.len() / 2].to_vec()),
        (
            "last byte dropped".to_owned(),
            sig[..sig.len() - 1].to_vec(),
        ),
        ("first byte dropped".to_owned(), sig[1..].to_vec()),
        ("zero byte appended".to_owned(), [&sig[..], &[0]].concat()),
        ("zero byte prepended".to_owned(), [&[0], &sig[..]].concat()),
        ("doubled".to_owned(), [&sig[..], &sig[..]].concat()),
        ("all zeros".to_owned(), vec![0; sig.len()]),
        ("reversed".to_owned(), sig.iter().rev().copied().collect()),
    ];
    for bit in [0, 7, 8 * sig.len() / 2, 8 * sig.len() - 1] {
        let mut flipped = sig.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        out.push((format!("bit {bit} flipped"), flipped));
    }
    out
}

#[tokio::test]
async fn stripped_truncated_and_flipped_signatures_are_refused() {
    let tokens = [
        (
            "hmac",
            hmac_app(),
            sign(Algorithm::HS256, None, &claims(), &hmac_signer()),
        ),
        (
            "hs512",
            hmac_app(),
            sign(Algorithm::HS512, None, &claims(), &hmac_signer()),
        ),
        (
            "rsa",
            rsa_app(),
            sign(Algorithm::RS256, None, &claims(), &rsa_signer()),
        ),
        (
            "pss",
            rsa_app(),
            sign(Algorithm::PS256, None, &claims(), &rsa_signer()),
        ),
        (
            "ec",
            ec256_app(),
            sign(Algorithm::ES256, None, &claims(), &ec256_signer()),
        ),
        (
            "ed",
            ed_app(),
            sign(Algorithm::EdDSA, None, &claims(), &ed_signer()),
        ),
    ];
    for (name, (app, hits), good) in tokens {
        for (what, sig) in tampered_signatures(&good) {
            hostile_case(
                SIGNATURE,
                &format!("{name}: {what}"),
                &app,
                &hits,
                &with_signature(&good, &sig),
                "invalid signature",
            )
            .await;
        }
        // Stripped: no signature segment, an empty one, or no dot at all.
        let (h, p, s) = segments(&good);
        for stripped in [
            format!("{h}.{p}."),
            format!("{h}.{p}"),
            format!("{h}.{p}.."),
            format!("{h}{p}{s}"),
            // Truncated in its text to a length base64 cannot have.
            format!("{h}.{p}.{}", &s[..s.len() - s.len() % 4 + 1]),
            format!("{h}.{p}.{}", &s[..1]),
        ] {
            hostile_token(SIGNATURE, &app, &hits, &stripped, "malformed token").await;
        }
        assert_eq!(hits.count(), 0, "{name}");
        assert_ok(&app, &hits, bearer(&good)).await;
    }
}

#[tokio::test]
async fn swapped_signatures_and_segments_are_refused() {
    let (app, hits) = mixed_app();
    let mine = sign(Algorithm::HS256, Some("hs"), &claims(), &hmac_signer());
    let other_claims = claims_with(json!({"sub": "mallory", "admin": true}));
    let theirs = sign(Algorithm::HS256, Some("hs"), &other_claims, &hmac_signer());
    let hs512 = sign(Algorithm::HS512, Some("hs"), &claims(), &hmac_signer());
    let rs = sign(Algorithm::RS256, Some("rs"), &claims(), &rsa_signer());
    let (h1, p1, s1) = segments(&mine);
    let (_, p2, s2) = segments(&theirs);
    let (h3, _, s3) = segments(&hs512);
    let (h4, _, s4) = segments(&rs);
    for (what, token) in [
        ("signature of another token", format!("{h1}.{p1}.{s2}")),
        ("payload of another token", format!("{h1}.{p2}.{s1}")),
        ("HS512 signature under HS256", format!("{h1}.{p1}.{s3}")),
        ("HS256 signature under HS512", format!("{h3}.{p1}.{s1}")),
        ("RSA signature under HS256", format!("{h1}.{p1}.{s4}")),
        ("HMAC signature under RS256", format!("{h4}.{p1}.{s1}")),
        ("header and payload swapped", format!("{p1}.{h1}.{s1}")),
    ] {
        tally(SIGNATURE);
        let res = send(&app, bearer(&token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        let challenge = challenge(&res).unwrap().to_owned();
        assert!(
            challenge == invalid_token("invalid signature")
                || challenge == invalid_token("malformed token"),
            "{what}: {challenge}"
        );
    }
    // The exact answers of the ones whose header and payload still parse.
    for token in [
        format!("{h1}.{p1}.{s2}"),
        format!("{h1}.{p2}.{s1}"),
        format!("{h1}.{p1}.{s3}"),
        format!("{h3}.{p1}.{s1}"),
        format!("{h1}.{p1}.{s4}"),
        format!("{h4}.{p1}.{s1}"),
    ] {
        hostile_token(SIGNATURE, &app, &hits, &token, "invalid signature").await;
    }
    let token = format!("{p1}.{h1}.{s1}");
    hostile_token(SIGNATURE, &app, &hits, &token, "malformed token").await;
    assert_eq!(hits.count(), 0);
}

// --- Edited payloads ----------------------------------------------------------------------

#[tokio::test]
async fn every_edit_of_a_signed_payload_is_refused() {
    for (name, (app, hits), alg, key) in [
        ("hmac", hmac_app(), Algorithm::HS256, hmac_signer()),
        ("rsa", rsa_app(), Algorithm::RS256, rsa_signer()),
        ("ec", ec256_app(), Algorithm::ES256, ec256_signer()),
        ("ed", ed_app(), Algorithm::EdDSA, ed_signer()),
    ] {
        let good = sign(alg, None, &claims(), &key);
        let (h, p, s) = segments(&good);
        let original = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &p).unwrap(),
        )
        .unwrap();
        let later = now() + 100_000;
        let edits = vec![
            claims_with(json!({"sub": "admin"})).to_string(),
            claims_with(json!({"admin": true})).to_string(),
            claims_with(json!({"exp": later})).to_string(),
            claims_with(json!({"aud": "another-api"})).to_string(),
            claims_with(json!({"scope": "admin"})).to_string(),
            format!(" {original}"),
            format!("{original} "),
            original.replace(':', ": "),
            original.replace("alice", "Alice"),
            original.replace("alice", "alic\\u0065"),
        ];
        for edited in edits {
            assert_ne!(edited, original);
            let token = format!("{h}.{}.{s}", b64(&edited));
            hostile_token(PAYLOAD, &app, &hits, &token, "invalid signature").await;
        }
        // A bit flipped in the encoded payload that still decodes to JSON.
        let flipped = original.replace("alice", "alicf");
        let token = format!("{h}.{}.{s}", b64(&flipped));
        hostile_token(PAYLOAD, &app, &hits, &token, "invalid signature").await;
        assert_eq!(hits.count(), 0, "{name}");
        assert_ok(&app, &hits, bearer(&good)).await;
    }
}

#[tokio::test]
async fn an_edited_header_is_refused() {
    let (app, hits) = jwks_app();
    let good = sign(Algorithm::RS256, Some("rsa"), &claims(), &rsa_signer());
    let (_, p, s) = segments(&good);
    for header in [
        r#"{"alg":"RS256","kid":"rsa","typ":"JWT"}"#,
        r#"{"alg":"RS256","kid":"rsa","x":1}"#,
        r#"{"kid":"rsa","alg":"RS256"}"#,
        r#"{"alg":"RS256","kid":"rsa"} "#,
    ] {
        let token = format!("{}.{p}.{s}", b64(header));
        hostile_token(PAYLOAD, &app, &hits, &token, "invalid signature").await;
    }
    assert_ok(&app, &hits, bearer(&good)).await;
}
