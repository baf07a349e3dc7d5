//! The verification hot path, end to end through the public API:
//!
//! - remembered JOSE headers (`known_headers`): a header segment that
//!   verified once is not parsed again, which must never change an answer —
//!   forged signatures, tampered payloads and expired tokens under a
//!   remembered header are still refused; header variants that were never
//!   verified get exactly a fresh verifier's answer; key rotation and
//!   multi-issuer routing keep working past the list's capacity;
//! - tokens of four or five segments are malformed, remembered header or
//!   not;
//! - `JwtAuthService::call` calls the inner service it drove to readiness,
//!   in place when the answer is known at once (no clone), and moves it into
//!   the future (leaving one clone behind) only when a key must be fetched;
//! - the single-pass payload read hands the handler exactly the claims the
//!   token carried, for flattened, raw and `Value` claims types, and refuses
//!   ill-typed registered claims whatever the claims type.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Request, Response, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_layer::{
    AuthErrorKind, Claims, JwtAuth, Key, RegisteredClaims, StaticKeys, VerifiedClaims, Verifier,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tower::{Layer as _, Service, ServiceExt as _};

use common::*;

// --- Helpers -------------------------------------------------------------------------------

/// What verifying `token` gave: `Ok` or the error kind.
type Outcome = Result<(), AuthErrorKind>;

async fn outcome<C>(verifier: &Verifier<C>, token: &str) -> Outcome
where
    C: DeserializeOwned + Send + Sync + 'static,
{
    verifier
        .verify(token)
        .await
        .map(|_| ())
        .map_err(|e| e.kind())
}

/// The decoded JSON text of a token's header segment.
fn header_text(token: &str) -> String {
    let (h, _, _) = segments(token);
    String::from_utf8(URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap()
}

/// The decoded JSON text of a token's payload segment.
fn payload_text(token: &str) -> String {
    let (_, p, _) = segments(token);
    String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// An HS256 token over `claims` signed with `secret`, with an optional
/// `kid`.
fn hs256_with(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        kid,
        claims,
        &EncodingKey::from_secret(secret),
    )
}

/// A token whose header segment is the base64url of raw `header` bytes
/// (not necessarily UTF-8), validly HS256-signed with [`SECRET`].
fn craft_bytes(header: &[u8], payload: &str) -> String {
    init_crypto();
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig =
        jsonwebtoken::crypto::sign(input.as_bytes(), &hmac_signer(), Algorithm::HS256).unwrap();
    format!("{input}.{sig}")
}

/// A token from already encoded header and payload segments, validly
/// HS256-signed with [`SECRET`].
fn craft_segments(header: &str, payload: &str) -> String {
    init_crypto();
    let input = format!("{header}.{payload}");
    let sig =
        jsonwebtoken::crypto::sign(input.as_bytes(), &hmac_signer(), Algorithm::HS256).unwrap();
    format!("{input}.{sig}")
}

/// A 64-byte HMAC secret, distinct for each `i`.
fn secret(i: usize) -> Vec<u8> {
    let mut s = format!("hot path rotation secret number {i:02}").into_bytes();
    s.resize(64, b'.');
    s
}

/// Valid default claims with the given `sub`.
fn claims_for_sub(sub: &str) -> Value {
    claims_with(json!({ "sub": sub }))
}

// --- 1. Remembered headers -------------------------------------------------------------------

#[tokio::test]
async fn remembered_header_does_not_excuse_a_bad_signature_or_payload() {
    for cache in [false, true] {
        let auth = builder().token_cache(cache).build().unwrap();
        let v = auth.verifier();
        let good = valid_token();
        // Twice: the second run takes the remembered-header path.
        for _ in 0..2 {
            assert_eq!(v.verify(&good).await.unwrap().sub, "alice");
        }
        let (h, p, s) = segments(&good);
        let header = header_text(&good);
        let sig = signature_bytes(&good);

        let mut flipped = sig.clone();
        flipped[0] ^= 1;
        let mut last_flipped = sig.clone();
        *last_flipped.last_mut().unwrap() ^= 0x80;
        let admin = claims_with(json!({"admin": true}));
        let other_sub = hs256(&claims_for_sub("mallory"));
        let (_, mallory_p, mallory_s) = segments(&other_sub);
        let by_other_key = hs256_with(OTHER_SECRET, None, &claims());
        let admin_p = b64(serde_json::to_vec(&admin).unwrap());
        let cases: Vec<(&str, String, AuthErrorKind)> = vec![
            (
                "first signature bit flipped",
                with_signature(&good, &flipped),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "last signature bit flipped",
                with_signature(&good, &last_flipped),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "signature one byte short",
                with_signature(&good, &sig[..sig.len() - 1]),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "signature of zeros",
                with_signature(&good, &[0u8; 32]),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "signed by another key",
                by_other_key.clone(),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "payload made admin, signature kept",
                format!("{h}.{admin_p}.{s}"),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "payload of another valid token, signature kept",
                format!("{h}.{mallory_p}.{s}"),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "signature of another valid token",
                format!("{h}.{p}.{mallory_s}"),
                AuthErrorKind::InvalidSignature,
            ),
            (
                "empty signature",
                format!("{h}.{p}."),
                AuthErrorKind::MalformedToken,
            ),
            (
                "signature not base64url",
                format!("{h}.{p}.{}!", &s[1..]),
                AuthErrorKind::MalformedToken,
            ),
            (
                "payload not base64url",
                format!("{h}.{}*.{s}", &p[1..]),
                AuthErrorKind::MalformedToken,
            ),
            (
                "payload a JSON array, validly signed",
                craft(&header, r#"["alice"]"#),
                AuthErrorKind::MalformedToken,
            ),
            (
                "payload not valid JSON, validly signed",
                craft(&header, r#"{"sub":"alice",}"#),
                AuthErrorKind::InvalidClaims,
            ),
        ];
        for (what, token, want) in &cases {
            // Every case keeps the remembered header's exact bytes.
            assert_eq!(segments(token).0, h, "{what}: header kept");
            let fresh = builder().token_cache(cache).build().unwrap();
            let fresh_outcome = outcome(fresh.verifier(), token).await;
            assert_eq!(fresh_outcome, Err(*want), "{what}: fresh verifier");
            for round in 0..2 {
                assert_eq!(
                    outcome(v, token).await,
                    Err(*want),
                    "{what}: remembered header, round {round}, cache {cache}"
                );
            }
        }
        // The good token and a new one under the same header still pass,
        // with their own claims.
        assert_eq!(v.verify(&good).await.unwrap().sub, "alice");
        assert_eq!(v.verify(&other_sub).await.unwrap().sub, "mallory");
    }
}

#[tokio::test]
async fn remembered_header_does_not_excuse_expiry_or_other_claim_checks() {
    let auth = builder().build().unwrap();
    let v = auth.verifier();
    let good = valid_token();
    for _ in 0..3 {
        assert!(v.verify(&good).await.is_ok());
    }
    let now = now();
    let cases: Vec<(Value, AuthErrorKind)> = vec![
        (
            json!({"iat": now - 7200, "exp": now - 3600}),
            AuthErrorKind::Expired,
        ),
        // Just past the 60 s leeway.
        (json!({"exp": now - 61}), AuthErrorKind::Expired),
        (json!({"nbf": now + 3600}), AuthErrorKind::NotYetValid),
        (json!({"iat": now + 3600}), AuthErrorKind::IssuedInFuture),
        (
            json!({"iss": "https://evil.example"}),
            AuthErrorKind::InvalidIssuer,
        ),
        (json!({"aud": "other-api"}), AuthErrorKind::InvalidAudience),
        (json!({"exp": null}), AuthErrorKind::InvalidClaims),
    ];
    for (changes, want) in cases {
        let token = hs256(&claims_with(changes.clone()));
        assert_eq!(segments(&token).0, segments(&good).0, "same header bytes");
        let fresh = builder().build().unwrap();
        assert_eq!(
            outcome(fresh.verifier(), &token).await,
            Err(want),
            "{changes}: fresh"
        );
        // Repeated: a refused token never enters the token cache.
        for round in 0..3 {
            assert_eq!(
                outcome(v, &token).await,
                Err(want),
                "{changes}: remembered header, round {round}"
            );
        }
    }
    assert!(v.verify(&good).await.is_ok());
}

#[tokio::test]
async fn remembered_headers_belong_to_one_verifier() {
    // Same secret, different rules: A allows HS384 and knows kid `a`; B
    // allows only HS256 and knows kid `b`.
    let a = JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(SECRET).unwrap().with_kid("a"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .algorithms([Algorithm::HS256, Algorithm::HS384])
        .build()
        .unwrap();
    let b = JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(SECRET).unwrap().with_kid("b"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .algorithms([Algorithm::HS256])
        .build()
        .unwrap();
    let hs384 = sign(Algorithm::HS384, Some("a"), &claims(), &hmac_signer());
    let kid_a = sign(Algorithm::HS256, Some("a"), &claims(), &hmac_signer());
    let kid_b = sign(Algorithm::HS256, Some("b"), &claims(), &hmac_signer());
    for round in 0..3 {
        assert_eq!(outcome(a.verifier(), &hs384).await, Ok(()), "round {round}");
        assert_eq!(outcome(a.verifier(), &kid_a).await, Ok(()), "round {round}");
        assert_eq!(
            outcome(b.verifier(), &hs384).await,
            Err(AuthErrorKind::AlgorithmNotAllowed),
            "round {round}"
        );
        assert_eq!(
            outcome(b.verifier(), &kid_a).await,
            Err(AuthErrorKind::UnknownKey),
            "round {round}"
        );
        assert_eq!(outcome(b.verifier(), &kid_b).await, Ok(()), "round {round}");
        assert_eq!(
            outcome(a.verifier(), &kid_b).await,
            Err(AuthErrorKind::UnknownKey),
            "round {round}"
        );
        // A clone of a layer shares its verifier and answers alike.
        assert_eq!(outcome(a.clone().verifier(), &hs384).await, Ok(()));
    }
}

/// A header, how the token is signed, and the expected outcome.
struct Variant {
    header: Vec<u8>,
    unsigned: bool,
    want: Outcome,
}

fn variant(header: &str, want: Outcome) -> Variant {
    Variant {
        header: header.as_bytes().to_vec(),
        unsigned: false,
        want,
    }
}

fn variant_token(v: &Variant, payload: &str) -> String {
    if v.unsigned {
        format!("{}.{}.", b64(&v.header), b64(payload))
    } else {
        craft_bytes(&v.header, payload)
    }
}

/// Checks each variant on a fresh verifier and on `warm` (twice), for a
/// valid and an expired payload, and that `warm` still accepts `good`.
async fn check_variants(
    make: impl Fn() -> JwtAuth<TestClaims>,
    warm: &Verifier<TestClaims>,
    good: &str,
    variants: &[Variant],
) {
    let valid = claims().to_string();
    let now = now();
    let expired = claims_with(json!({"iat": now - 7200, "exp": now - 3600})).to_string();
    for v in variants {
        let shown = String::from_utf8_lossy(&v.header);
        for (payload, is_expired) in [(&valid, false), (&expired, true)] {
            let token = variant_token(v, payload);
            // A variant that is fine otherwise is refused as expired.
            let want = match (v.want, is_expired) {
                (Ok(()), true) => Err(AuthErrorKind::Expired),
                (want, _) => want,
            };
            let fresh = make();
            assert_eq!(
                outcome(fresh.verifier(), &token).await,
                want,
                "fresh verifier, header {shown}, expired payload {is_expired}"
            );
            for round in 0..2 {
                assert_eq!(
                    outcome(warm, &token).await,
                    want,
                    "warm verifier, header {shown}, expired payload {is_expired}, round {round}"
                );
            }
        }
        assert!(warm.verify(good).await.is_ok(), "after header {shown}");
    }
}

#[tokio::test]
async fn unverified_header_variants_get_a_fresh_verifiers_answer_kidless_key() {
    let make = || {
        builder()
            .algorithms([Algorithm::HS256])
            .token_cache(false)
            .build()
            .unwrap()
    };
    let auth = make();
    let warm = auth.verifier();
    let known = r#"{"alg":"HS256","typ":"JWT"}"#;
    let good = craft(known, &claims().to_string());
    for _ in 0..2 {
        assert!(warm.verify(&good).await.is_ok());
    }
    let long_kid = "k".repeat(257);
    let max_kid = "k".repeat(256);
    let mut variants = vec![
        variant(known, Ok(())),
        variant(r#"{"alg":"HS256", "typ":"JWT"}"#, Ok(())),
        variant(r#"{"alg":"HS256","typ":"JWT"} "#, Ok(())),
        variant(r#" {"alg":"HS256","typ":"JWT"}"#, Ok(())),
        variant("{\"alg\":\"HS256\",\n\"typ\":\"JWT\"}", Ok(())),
        variant(r#"{"typ":"JWT","alg":"HS256"}"#, Ok(())),
        variant(r#"{"alg":"HS\u0032\u0035\u0036","typ":"JWT"}"#, Ok(())),
        // `kid` is a string when present (RFC 7515 §4.1.4).
        variant(
            r#"{"alg":"HS256","typ":"JWT","kid":null}"#,
            Err(AuthErrorKind::MalformedToken),
        ),
        // An unknown kid falls back to the single key without a kid.
        variant(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, Ok(())),
        variant(
            &format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{max_kid}"}}"#),
            Ok(()),
        ),
        variant(
            &format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{long_kid}"}}"#),
            Err(AuthErrorKind::UnknownKey),
        ),
        variant(
            r#"{"alg":"none","typ":"JWT"}"#,
            Err(AuthErrorKind::AlgorithmNotAllowed),
        ),
        Variant {
            header: br#"{"alg":"none","typ":"JWT"}"#.to_vec(),
            unsigned: true,
            want: Err(AuthErrorKind::AlgorithmNotAllowed),
        },
        Variant {
            header: known.as_bytes().to_vec(),
            unsigned: true,
            want: Err(AuthErrorKind::MalformedToken),
        },
        variant(
            r#"{"alg":"HS384","typ":"JWT"}"#,
            Err(AuthErrorKind::AlgorithmNotAllowed),
        ),
        variant(
            r#"{"alg":"ES256","typ":"JWT"}"#,
            Err(AuthErrorKind::AlgorithmNotAllowed),
        ),
        variant(
            r#"{"alg":"hs256","typ":"JWT"}"#,
            Err(AuthErrorKind::AlgorithmNotAllowed),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT","crit":null}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT","enc":"A256GCM"}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT","b64":false}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT","zip":"DEF"}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        // `alg: none` beside `crit`: the header members are refused first.
        variant(
            r#"{"alg":"none","crit":["b64"]}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","alg":"HS256","typ":"JWT"}"#,
            Err(AuthErrorKind::MalformedToken),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT","kid":5}"#,
            Err(AuthErrorKind::MalformedToken),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT"}x"#,
            Err(AuthErrorKind::MalformedToken),
        ),
        variant(
            r#"{"alg":"HS256","typ":"JWT"}{}"#,
            Err(AuthErrorKind::MalformedToken),
        ),
        variant(r#"["HS256"]"#, Err(AuthErrorKind::MalformedToken)),
        variant(r#"{"typ":"JWT"}"#, Err(AuthErrorKind::MalformedToken)),
        variant("", Err(AuthErrorKind::MalformedToken)),
        Variant {
            header: b"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"x\":\"\xff\"}".to_vec(),
            unsigned: false,
            want: Err(AuthErrorKind::MalformedToken),
        },
    ];
    // More valid headers than the verifier remembers, then the known one
    // again (it may have been evicted by now).
    for i in 0..10 {
        variants.push(variant(
            &format!(r#"{{"alg":"HS256","typ":"JWT","n":{i}}}"#),
            Ok(()),
        ));
    }
    variants.push(variant(known, Ok(())));
    check_variants(make, warm, &good, &variants).await;
}

/// An HMAC key with kid `k1`, cache off.
fn hmac_k1() -> JwtAuth<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(SECRET).unwrap().with_kid("k1"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn unverified_header_variants_get_a_fresh_verifiers_answer_kid_key() {
    let make = hmac_k1;
    let auth = make();
    let warm = auth.verifier();
    let known = r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#;
    let good = craft(known, &claims().to_string());
    for _ in 0..2 {
        assert!(warm.verify(&good).await.is_ok());
    }
    let variants = vec![
        variant(known, Ok(())),
        variant(r#"{"alg":"HS256","kid":"k1"}"#, Ok(())),
        variant(r#"{"kid":"k1","alg":"HS256","typ":"JWT"}"#, Ok(())),
        variant(r#"{"alg":"HS256", "kid":"k1","typ":"JWT"}"#, Ok(())),
        variant(r#"{"alg":"HS256","kid":"\u006b1","typ":"JWT"}"#, Ok(())),
        // Without a kid, the single key is used.
        variant(r#"{"alg":"HS256","typ":"JWT"}"#, Ok(())),
        variant(
            r#"{"alg":"HS256","kid":"k2","typ":"JWT"}"#,
            Err(AuthErrorKind::UnknownKey),
        ),
        variant(
            r#"{"alg":"HS256","kid":"k1 ","typ":"JWT"}"#,
            Err(AuthErrorKind::UnknownKey),
        ),
        variant(
            &format!(
                r#"{{"alg":"HS256","kid":"k1{}","typ":"JWT"}}"#,
                "1".repeat(255)
            ),
            Err(AuthErrorKind::UnknownKey),
        ),
        variant(
            r#"{"alg":"none","kid":"k1","typ":"JWT"}"#,
            Err(AuthErrorKind::AlgorithmNotAllowed),
        ),
        Variant {
            header: br#"{"alg":"none","kid":"k1","typ":"JWT"}"#.to_vec(),
            unsigned: true,
            want: Err(AuthErrorKind::AlgorithmNotAllowed),
        },
        variant(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            Err(AuthErrorKind::AlgorithmNotAllowed),
        ),
        variant(
            r#"{"alg":"HS256","kid":"k1","typ":"JWT","crit":[]}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","kid":"k1","typ":"JWT","enc":null}"#,
            Err(AuthErrorKind::UnsupportedHeader),
        ),
        variant(
            r#"{"alg":"HS256","kid":["k1"],"typ":"JWT"}"#,
            Err(AuthErrorKind::MalformedToken),
        ),
    ];
    check_variants(make, warm, &good, &variants).await;
}

/// The remembered header's segment, re-encoded: with padding, truncated,
/// with non-zero trailing bits, with a character outside the alphabet. None is
/// the remembered segment, so each is parsed, and must get a fresh
/// verifier's answer.
#[tokio::test]
async fn re_encoded_header_segments_get_a_fresh_verifiers_answer() {
    let make = hmac_k1;
    let auth = make();
    let warm = auth.verifier();
    // 38 bytes: the last base64 character carries two unused bits.
    let known = r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#;
    assert_eq!(known.len() % 3, 2);
    let payload = b64(claims().to_string());
    let good = craft_segments(&b64(known), &payload);
    for _ in 0..2 {
        assert!(warm.verify(&good).await.is_ok());
    }
    let h = b64(known);
    let mut trailing_bits = h.clone();
    let last = trailing_bits.pop().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let pos = alphabet.find(last).unwrap();
    assert_eq!(pos & 0b11, 0, "canonical encoding");
    trailing_bits.push(alphabet.as_bytes()[pos | 1] as char);
    let cases = [
        (format!("{h}="), AuthErrorKind::MalformedToken),
        (format!("{h}=="), AuthErrorKind::MalformedToken),
        (h[..h.len() - 1].to_owned(), AuthErrorKind::MalformedToken),
        (format!("{h}A"), AuthErrorKind::MalformedToken),
        (format!(" {h}"), AuthErrorKind::MalformedToken),
        (trailing_bits, AuthErrorKind::MalformedToken),
        (format!("E{}", &h[1..]), AuthErrorKind::MalformedToken),
        (h.replacen('J', "+", 1), AuthErrorKind::MalformedToken),
    ];
    for (segment, want) in cases {
        if segment == h {
            continue;
        }
        let token = craft_segments(&segment, &payload);
        let fresh = make();
        let fresh_outcome = outcome(fresh.verifier(), &token).await;
        let warm_outcome = outcome(warm, &token).await;
        assert_eq!(fresh_outcome, warm_outcome, "segment {segment}");
        // The strict base64url decoder refuses each of them (the one with
        // non-zero trailing bits too, though a lenient decoder would give
        // the remembered header's bytes).
        assert_eq!(warm_outcome, Err(want), "segment {segment}");
    }
    assert!(warm.verify(&good).await.is_ok());
}

// --- Key rotation ------------------------------------------------------------------------------

#[tokio::test]
async fn two_kids_interleaved_and_key_a_signing_under_key_bs_header() {
    let jwks = jwks_json(&[ed_jwk("ed-1"), ec_jwk("ec-1")]);
    let make = |cache: bool| {
        JwtAuth::<TestClaims>::builder()
            .jwks_json(&jwks)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .token_cache(cache)
            .build()
            .unwrap()
    };
    let ed_claims = claims_for_sub("ed-user");
    let ec_claims = claims_for_sub("ec-user");
    let ed = sign(Algorithm::EdDSA, Some("ed-1"), &ed_claims, &ed_signer());
    let ec = sign(Algorithm::ES256, Some("ec-1"), &ec_claims, &ec256_signer());

    // Key A's signature under key B's exact header bytes, both ways.
    let ed_under_ec_header = craft_signed(
        &header_text(&ec),
        &payload_text(&ed),
        Algorithm::EdDSA,
        &ed_signer(),
    );
    let ec_under_ed_header = craft_signed(
        &header_text(&ed),
        &payload_text(&ec),
        Algorithm::ES256,
        &ec256_signer(),
    );
    assert_eq!(segments(&ed_under_ec_header).0, segments(&ec).0);
    assert_eq!(segments(&ec_under_ed_header).0, segments(&ed).0);
    // Spliced: one token's header on the other's payload and signature.
    let (ed_h, ed_p, ed_s) = segments(&ed);
    let (ec_h, ec_p, ec_s) = segments(&ec);
    let spliced_ed = format!("{ec_h}.{ed_p}.{ed_s}");
    let spliced_ec = format!("{ed_h}.{ec_p}.{ec_s}");
    let forged = [
        &ed_under_ec_header,
        &ec_under_ed_header,
        &spliced_ed,
        &spliced_ec,
    ];

    for cache in [false, true] {
        let fresh_kinds = {
            let mut kinds = Vec::new();
            for token in forged {
                kinds.push(outcome(make(cache).verifier(), token).await);
            }
            kinds
        };
        for kind in &fresh_kinds {
            assert_eq!(*kind, Err(AuthErrorKind::InvalidSignature));
        }
        let auth = make(cache);
        let v = auth.verifier();
        for round in 0..8 {
            assert_eq!(v.verify(&ed).await.unwrap().sub, "ed-user", "round {round}");
            assert_eq!(v.verify(&ec).await.unwrap().sub, "ec-user", "round {round}");
            for (token, fresh) in forged.iter().zip(&fresh_kinds) {
                assert_eq!(
                    outcome(v, token).await,
                    *fresh,
                    "forged token, round {round}, cache {cache}"
                );
            }
        }
    }
}

#[tokio::test]
async fn ten_kids_more_than_the_remembered_headers_all_keep_verifying() {
    const N: usize = 10;
    let kid = |i: usize| format!("kid-{i}");
    let make = |cache: bool| {
        let mut b = JwtAuth::<TestClaims>::builder()
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .token_cache(cache);
        for i in 0..N {
            b = b.key(Key::hmac(secret(i)).unwrap().with_kid(kid(i)));
        }
        b.build().unwrap()
    };
    let tokens: Vec<String> = (0..N)
        .map(|i| {
            hs256_with(
                &secret(i),
                Some(&kid(i)),
                &claims_for_sub(&format!("user-{i}")),
            )
        })
        .collect();
    // Key i+1's signature under key i's header, and key i's header spliced
    // onto token i+1.
    let wrong_key: Vec<String> = (0..N)
        .map(|i| {
            hs256_with(
                &secret((i + 1) % N),
                Some(&kid(i)),
                &claims_for_sub(&format!("user-{i}")),
            )
        })
        .collect();
    let spliced: Vec<String> = (0..N)
        .map(|i| {
            let (h, _, _) = segments(&tokens[i]);
            let (_, p, s) = segments(&tokens[(i + 1) % N]);
            format!("{h}.{p}.{s}")
        })
        .collect();
    for token in wrong_key.iter().chain(&spliced) {
        assert_eq!(
            outcome(make(false).verifier(), token).await,
            Err(AuthErrorKind::InvalidSignature),
            "fresh verifier"
        );
    }

    for cache in [false, true] {
        let auth = make(cache);
        let v = auth.verifier();
        // Forward, backward, and by a stride of 3: with ten headers and room
        // for eight, remembered entries keep being evicted and re-added.
        let orders: [Vec<usize>; 3] = [
            (0..N).collect(),
            (0..N).rev().collect(),
            (0..N).map(|i| (i * 3) % N).collect(),
        ];
        for round in 0..3 {
            for order in &orders {
                for &i in order {
                    let claims = v.verify(&tokens[i]).await.unwrap();
                    assert_eq!(claims.sub, format!("user-{i}"), "round {round}");
                    assert_eq!(
                        outcome(v, &wrong_key[i]).await,
                        Err(AuthErrorKind::InvalidSignature),
                        "key {} under kid {i}, round {round}, cache {cache}",
                        (i + 1) % N
                    );
                    assert_eq!(
                        outcome(v, &spliced[i]).await,
                        Err(AuthErrorKind::InvalidSignature),
                        "spliced kid {i}, round {round}, cache {cache}"
                    );
                }
            }
        }
        // A kid nobody has, under a header never seen.
        let stranger = hs256_with(&secret(0), Some("kid-99"), &claims());
        assert_eq!(outcome(v, &stranger).await, Err(AuthErrorKind::UnknownKey));
    }
}

// --- Multiple issuers ---------------------------------------------------------------------------

const ISS_1: &str = "https://one.example";
const ISS_2: &str = "https://two.example";

#[tokio::test]
async fn issuer_routing_with_a_header_remembered_from_the_other_issuer() {
    let s1 = secret(1);
    let s2 = secret(2);
    // Both issuers name their key `shared`; issuer 1 also has a key without
    // a kid, so a token naming an unknown kid falls back to it.
    let make = || {
        let one = StaticKeys::new([
            Key::hmac(&s1).unwrap().with_kid("shared"),
            Key::hmac(secret(11)).unwrap(),
        ])
        .unwrap();
        let two = StaticKeys::new([
            Key::hmac(&s2).unwrap().with_kid("shared"),
            Key::hmac(secret(22)).unwrap().with_kid("two-only"),
        ])
        .unwrap();
        JwtAuth::<TestClaims>::builder()
            .issuer_keys(ISS_1, one)
            .issuer_audience(ISS_1, "api-1")
            .issuer_keys(ISS_2, two)
            .issuer_audience(ISS_2, "api-2")
            .token_cache(false)
            .build()
            .unwrap()
    };
    let for_iss =
        |iss: &str, aud: &str, sub: &str| claims_with(json!({"iss": iss, "aud": aud, "sub": sub}));
    let auth = make();
    let v = auth.verifier();

    // Issuer 2's headers are remembered first.
    let two_shared = hs256_with(&s2, Some("shared"), &for_iss(ISS_2, "api-2", "two"));
    let two_only = hs256_with(
        &secret(22),
        Some("two-only"),
        &for_iss(ISS_2, "api-2", "two"),
    );
    for _ in 0..2 {
        assert_eq!(v.verify(&two_shared).await.unwrap().sub, "two");
        assert_eq!(v.verify(&two_only).await.unwrap().sub, "two");
    }

    // Issuer 1 under those exact header bytes.
    let one_shared = hs256_with(&s1, Some("shared"), &for_iss(ISS_1, "api-1", "one"));
    assert_eq!(segments(&one_shared).0, segments(&two_shared).0);
    let one_under_two_only = hs256_with(
        &secret(11),
        Some("two-only"),
        &for_iss(ISS_1, "api-1", "one"),
    );
    assert_eq!(segments(&one_under_two_only).0, segments(&two_only).0);

    let cases: Vec<(&str, String, Outcome)> = vec![
        ("issuer 1, its own key", one_shared.clone(), Ok(())),
        (
            "issuer 1, kid only issuer 2 has: issuer 1's kidless key",
            one_under_two_only.clone(),
            Ok(()),
        ),
        (
            "issuer 1's claims signed by issuer 2's key",
            hs256_with(&s2, Some("shared"), &for_iss(ISS_1, "api-1", "one")),
            Err(AuthErrorKind::InvalidSignature),
        ),
        (
            "issuer 1's claims signed by issuer 2's kid-only key",
            hs256_with(
                &secret(22),
                Some("two-only"),
                &for_iss(ISS_1, "api-1", "one"),
            ),
            Err(AuthErrorKind::InvalidSignature),
        ),
        (
            "issuer 2's claims signed by issuer 1's key",
            hs256_with(&s1, Some("shared"), &for_iss(ISS_2, "api-2", "two")),
            Err(AuthErrorKind::InvalidSignature),
        ),
        (
            "issuer 1 with issuer 2's audience",
            hs256_with(&s1, Some("shared"), &for_iss(ISS_1, "api-2", "one")),
            Err(AuthErrorKind::InvalidAudience),
        ),
        (
            "unknown issuer",
            hs256_with(
                &s1,
                Some("shared"),
                &for_iss("https://three.example", "api-1", "x"),
            ),
            Err(AuthErrorKind::InvalidIssuer),
        ),
        (
            "issuer 1 expired",
            hs256_with(
                &s1,
                Some("shared"),
                &claims_with(json!({"iss": ISS_1, "aud": "api-1", "exp": now() - 3600})),
            ),
            Err(AuthErrorKind::Expired),
        ),
    ];
    for round in 0..3 {
        for (what, token, want) in &cases {
            assert_eq!(
                outcome(make().verifier(), token).await,
                *want,
                "{what}: fresh"
            );
            assert_eq!(outcome(v, token).await, *want, "{what}: round {round}");
        }
        assert_eq!(v.verify(&two_shared).await.unwrap().sub, "two");
    }
    assert_eq!(v.verify(&one_shared).await.unwrap().sub, "one");
}

// --- 2. More than three segments ---------------------------------------------------------------

#[tokio::test]
async fn four_and_five_segment_tokens_are_malformed_before_and_after_the_header_is_known() {
    let single = builder().build().unwrap();
    let by_issuer = JwtAuth::<TestClaims>::builder()
        .issuer_keys(
            ISSUER,
            StaticKeys::new([Key::hmac(SECRET).unwrap()]).unwrap(),
        )
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let good = valid_token();
    let second = hs256(&claims_for_sub("bob"));
    let (h, p, s) = segments(&good);
    let (_, p2, s2) = segments(&second);
    let jwe_header = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    let jwe_with_known_alg = b64(r#"{"alg":"HS256","typ":"JWT","enc":"A256GCM"}"#);
    let many: Vec<String> = vec![
        format!("{h}.{p}.{p}.{s}"),
        format!("{h}.{p}.{p2}.{s}"),
        format!("{h}.{h}.{p}.{s}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s2}"),
        format!("{h}.{p}.{s}."),
        format!("{h}..{p}.{s}"),
        format!("{h}.{p}..{s}"),
        format!("{h}.{p}.AAAA.{s}"),
        format!("{h}.{p}.{p2}.{s2}.{s}"),
        format!("{h}.{p}.{s}.{p}.{s}"),
        // JWE compact serialization: header, key, IV, ciphertext, tag.
        format!("{jwe_header}.{p}.AAAAAAAAAAAAAAAA.{p2}.{s}"),
        format!("{jwe_header}..AAAAAAAAAAAAAAAA.{p2}.{s}"),
        format!("{jwe_with_known_alg}.{p}.AAAAAAAAAAAAAAAA.{p2}.{s}"),
        format!("{h}.{p}.AAAAAAAAAAAAAAAA.{p2}.{s}"),
    ];
    // A 4-segment token whose signature is valid over everything before
    // the last dot.
    let signed_four = craft_segments(&h, &format!("{p}.{p2}"));
    let mut all = many.clone();
    all.push(signed_four);
    for auth in [&single, &by_issuer] {
        let v = auth.verifier();
        // Fresh: nothing remembered yet.
        for token in &all {
            assert_eq!(
                outcome(v, token).await,
                Err(AuthErrorKind::MalformedToken),
                "fresh: {token}"
            );
        }
        // Remember the header, then again.
        for _ in 0..2 {
            assert_eq!(v.verify(&good).await.unwrap().sub, "alice");
        }
        for round in 0..2 {
            for token in &all {
                assert_eq!(
                    outcome(v, token).await,
                    Err(AuthErrorKind::MalformedToken),
                    "remembered header, round {round}: {token}"
                );
            }
        }
        assert_eq!(v.verify(&second).await.unwrap().sub, "bob");
    }
}

// --- 3. The service: which inner instance is called ----------------------------------------------

/// What the probe services saw.
#[derive(Debug, Default)]
struct ProbeLog {
    next_id: AtomicUsize,
    clones: AtomicUsize,
    readied: Mutex<Vec<usize>>,
    /// (instance id, whether that instance was ready when called)
    called: Mutex<Vec<(usize, bool)>>,
    /// Instances dropped while ready but not called: what readiness
    /// reserved (a permit, a slot) was released.
    released: Mutex<Vec<usize>>,
}

impl ProbeLog {
    fn clones(&self) -> usize {
        self.clones.load(Ordering::SeqCst)
    }
    fn readied(&self) -> Vec<usize> {
        self.readied.lock().unwrap().clone()
    }
    fn called(&self) -> Vec<(usize, bool)> {
        self.called.lock().unwrap().clone()
    }
    fn released(&self) -> Vec<usize> {
        self.released.lock().unwrap().clone()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.ready {
            self.log.released.lock().unwrap().push(self.id);
        }
    }
}

/// An inner service that records which instance (by id) was readied and
/// called, and counts its clones. A clone is a new, not-ready instance.
#[derive(Debug)]
struct Probe {
    id: usize,
    ready: bool,
    log: Arc<ProbeLog>,
}

impl Probe {
    fn new(log: &Arc<ProbeLog>) -> Self {
        Self {
            id: log.next_id.fetch_add(1, Ordering::SeqCst),
            ready: false,
            log: Arc::clone(log),
        }
    }
}

impl Clone for Probe {
    fn clone(&self) -> Self {
        self.log.clones.fetch_add(1, Ordering::SeqCst);
        Self::new(&self.log)
    }
}

impl<B> Service<Request<B>> for Probe {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.ready = true;
        self.log.readied.lock().unwrap().push(self.id);
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        self.log.called.lock().unwrap().push((self.id, self.ready));
        self.ready = false;
        let sub = req
            .extensions()
            .get::<VerifiedClaims<TestClaims>>()
            .map_or_else(|| "anonymous".to_owned(), |c| c.sub.clone());
        ready(Ok(Response::new(format!("{sub}#{}", self.id))))
    }
}

/// Drives `svc` to readiness, then calls it: one request, as a server
/// would send it.
async fn call_once<S>(svc: &mut S, req: Request<Body>) -> Response<String>
where
    S: Service<Request<Body>, Response = Response<String>, Error = Infallible>,
{
    svc.ready().await.unwrap().call(req).await.unwrap()
}

#[tokio::test]
async fn static_keys_call_the_readied_inner_service_in_place_without_cloning() {
    let log = Arc::new(ProbeLog::default());
    let mut svc = builder().build().unwrap().layer(Probe::new(&log));
    let same = valid_token();
    let mut expected_calls = Vec::new();
    let mut readies = 0;
    // The same token (verified, then cached) and distinct tokens.
    for i in 0..20 {
        let token = if i % 2 == 0 {
            same.clone()
        } else {
            hs256(&claims_for_sub(&format!("user{i}")))
        };
        let want = if i % 2 == 0 {
            "alice#0".to_owned()
        } else {
            format!("user{i}#0")
        };
        let res = call_once(&mut svc, bearer(&token)).await;
        readies += 1;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.into_body(), want);
        expected_calls.push((0, true));
    }
    assert_eq!(log.clones(), 0, "the hot path cloned the inner service");
    assert_eq!(svc.get_ref().id, 0);

    // Rejections answer without calling the inner service, and drop the
    // readied instance (releasing what its readiness reserved), keeping a
    // fresh clone.
    let now = now();
    let rejected = [
        with_signature(&same, &[0u8; 32]),
        hs256(&claims_with(json!({"exp": now - 3600}))),
        hs256(&claims_with(json!({"aud": "nope"}))),
        "not.a.token".to_owned(),
        format!("{same}.extra"),
    ];
    let mut released = Vec::new();
    for token in &rejected {
        let id = svc.get_ref().id;
        let res = call_once(&mut svc, bearer(token)).await;
        readies += 1;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert!(res.into_body().is_empty());
        released.push(id);
        assert_eq!(log.released(), released, "the readied instance was kept");
        assert_ne!(svc.get_ref().id, id);
    }
    let id = svc.get_ref().id;
    let res = call_once(&mut svc, anonymous()).await;
    readies += 1;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    released.push(id);
    assert_eq!(log.released(), released);

    assert_eq!(log.clones(), rejected.len() + 1, "one clone per rejection");
    let mut readied = vec![0; 20];
    readied.extend(0..=rejected.len());
    assert_eq!(log.readied().len(), readies);
    assert_eq!(log.readied(), readied);
    assert_eq!(
        log.called(),
        expected_calls,
        "rejections reached the inner service"
    );

    // Optional mode: a request without a token calls the readied instance
    // in place, too; a rejected one releases it.
    let log = Arc::new(ProbeLog::default());
    let mut svc = builder()
        .optional()
        .build()
        .unwrap()
        .layer(Probe::new(&log));
    for round in 0..3 {
        let res = call_once(&mut svc, anonymous()).await;
        assert_eq!(res.into_body(), format!("anonymous#{round}"));
        let res = call_once(&mut svc, bearer(&same)).await;
        assert_eq!(res.into_body(), format!("alice#{round}"));
        let res = call_once(&mut svc, bearer("bad.to.ken")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(log.clones(), 3);
    assert_eq!(log.released(), vec![0, 1, 2]);
    assert_eq!(
        log.called(),
        vec![
            (0, true),
            (0, true),
            (1, true),
            (1, true),
            (2, true),
            (2, true)
        ]
    );
}

/// With a remote key set not yet loaded, the first request must wait for a
/// fetch: the readied instance goes with it, one clone stays behind.
#[cfg(feature = "test-util")]
#[tokio::test]
async fn remote_keys_move_the_readied_inner_service_into_the_fetch() {
    use std::time::Duration;

    use jwt_layer::keys::RemoteJwks;
    use jwt_layer::testing::JwksServer;

    let server = JwksServer::start().await.unwrap();
    server.set_jwks(jwks_json(&[ed_jwk("ed-1")]));
    let make = || {
        let keys = RemoteJwks::builder(server.url())
            .timeout(Duration::from_millis(2000))
            .build()
            .unwrap();
        JwtAuth::<TestClaims>::builder()
            .key_source(keys)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap()
    };
    let token = sign(Algorithm::EdDSA, Some("ed-1"), &claims(), &ed_signer());

    let log = Arc::new(ProbeLog::default());
    let mut svc = make().layer(Probe::new(&log));
    let fut = tower::ServiceExt::<Request<Body>>::ready(&mut svc)
        .await
        .unwrap()
        .call(bearer(&token));
    assert_eq!(log.clones(), 1, "exactly one clone stays behind");
    assert_eq!(svc.get_ref().id, 1, "the service keeps the clone");
    assert!(!svc.get_ref().ready, "the clone is not ready");
    let res = fut.await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.into_body(), "alice#0", "the readied instance answered");
    assert_eq!(log.readied(), vec![0]);
    assert_eq!(log.called(), vec![(0, true)]);
    assert_eq!(server.request_count(), 1);

    // Keys loaded: the next request is answered in place by the clone,
    // once it is readied; no further clone.
    let res = call_once(&mut svc, bearer(&token)).await;
    assert_eq!(res.into_body(), "alice#1");
    let forged = with_signature(&token, &[7u8; 64]);
    let res = call_once(&mut svc, bearer(&forged)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The rejection released the readied clone and kept a fresh one.
    assert_eq!(log.clones(), 2);
    assert_eq!(log.released(), vec![1]);
    assert_eq!(log.readied(), vec![0, 1, 1]);
    assert_eq!(log.called(), vec![(0, true), (1, true)]);
    assert_eq!(server.request_count(), 1);

    // A forged token that must wait for the fetch is refused after it,
    // without calling the inner service.
    let log = Arc::new(ProbeLog::default());
    let mut svc = make().layer(Probe::new(&log));
    let before = server.request_count();
    let res = call_once(&mut svc, bearer(&forged)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.request_count(),
        before + 1,
        "it did wait for a fetch"
    );
    assert_eq!(log.clones(), 1);
    assert!(
        log.called().is_empty(),
        "a rejection called the inner service"
    );
}

// --- 4. Claims types through the single pass ------------------------------------------------------

/// Unregistered members in a flattened map.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Flat {
    sub: String,
    exp: u64,
    #[serde(flatten)]
    extra: HashMap<String, Value>,
}

/// The registered claims flattened in, plus a named field and the rest.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Nested {
    #[serde(flatten)]
    registered: RegisteredClaims,
    name: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// Sends `token` through an axum router behind `auth`; returns the status
/// and the claims the handler saw (if it ran).
async fn through_axum<C>(auth: JwtAuth<C>, token: &str) -> (StatusCode, Option<C>, Hits)
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Option<C>>> = Arc::new(Mutex::new(None));
    let hits = Hits::new();
    let app = {
        let seen = Arc::clone(&seen);
        let hits = hits.clone();
        Router::new()
            .route(
                "/",
                get(move |Claims(c): Claims<C>| {
                    hits.hit();
                    *seen.lock().unwrap() = Some(c);
                    async { "ok" }
                }),
            )
            .layer(auth)
    };
    let res = send(&app, bearer(token)).await;
    let status = res.status();
    let claims = seen.lock().unwrap().take();
    (status, claims, hits)
}

fn auth_for<C: DeserializeOwned + Send + Sync + 'static>() -> JwtAuth<C> {
    JwtAuth::<C>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

/// A payload with every registered claim, extras of many shapes, registered
/// names nested (not checked there), escapes and odd whitespace.
fn rich_payload() -> String {
    let now = now();
    format!(
        concat!(
            r#"{{ "sub" : "alice" , "iss":"{iss}", "aud":["other","{aud}"],"#,
            r#" "iat":{iat}, "nbf": {nbf} ,"exp":{exp},"scope":"read write","#,
            r#""scp":["admin"],"name":"Al\u00efce \"A\"","#,
            r#""nested":{{"exp":"not a date","aud":5,"iss":null}},"#,
            r#""list":[1,2.5,-3,"x",null,true,{{"k":[]}}],"big":18446744073709551615,"#,
            r#""\u0065mail":"a@example.com","unicode":"é😀"}}"#
        ),
        iss = ISSUER,
        aud = AUDIENCE,
        iat = now,
        nbf = now - 10,
        exp = now + 300,
    )
}

/// The claims `C` a plain `serde_json` read of the payload gives.
fn plain<C: DeserializeOwned>(payload: &str) -> C {
    serde_json::from_str(payload).unwrap()
}

#[tokio::test]
async fn handler_sees_exactly_the_claims_the_token_carried() {
    let payload = rich_payload();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let token = craft(header, &payload);
    // Several sightings: verified, then admitted to and served from the
    // token cache; all must hand over the same claims.
    for sighting in 0..3 {
        // Flattened extras.
        let (status, flat, _) = through_axum(auth_for::<Flat>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        let flat = flat.unwrap();
        assert_eq!(flat, plain::<Flat>(&payload), "sighting {sighting}");
        assert_eq!(flat.sub, "alice");
        assert_eq!(flat.extra["aud"], json!(["other", AUDIENCE]));
        assert_eq!(flat.extra["iss"], json!(ISSUER));
        assert_eq!(flat.extra["email"], json!("a@example.com"));
        assert_eq!(flat.extra["name"], json!("Al\u{ef}ce \"A\""));
        assert_eq!(flat.extra["big"], json!(u64::MAX));
        assert_eq!(flat.extra["nested"]["exp"], json!("not a date"));
        assert!(!flat.extra.contains_key("sub") && !flat.extra.contains_key("exp"));
        assert_eq!(flat.extra.len(), 12);

        // Registered claims flattened in, and the rest.
        let (status, nested, _) = through_axum(auth_for::<Nested>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        let nested = nested.unwrap();
        assert_eq!(nested, plain::<Nested>(&payload));
        assert_eq!(nested.registered.iss.as_deref(), Some(ISSUER));
        assert_eq!(nested.registered.scope.as_deref(), Some("read write"));
        assert_eq!(nested.name.as_deref(), Some("Al\u{ef}ce \"A\""));

        // The whole payload as raw JSON text: byte for byte.
        let (status, raw, _) = through_axum(auth_for::<Box<RawValue>>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(raw.unwrap().get(), payload);

        // A `Value`.
        let (status, value, _) = through_axum(auth_for::<Value>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        let value = value.unwrap();
        assert_eq!(value, plain::<Value>(&payload));
        assert_eq!(value["unicode"], json!("é😀"));
        assert_eq!(value["list"][1], json!(2.5));

        // The registered claims alone.
        let (status, reg, _) = through_axum(auth_for::<RegisteredClaims>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(reg.unwrap(), plain::<RegisteredClaims>(&payload));
    }

    // The same through one verifier per claims type, many times (the
    // remembered header and the token cache both in play).
    let v = auth_for::<Flat>();
    let value_v = auth_for::<Value>();
    for _ in 0..5 {
        assert_eq!(
            *v.verifier().verify(&token).await.unwrap(),
            plain::<Flat>(&payload)
        );
        assert_eq!(
            *value_v.verifier().verify(&token).await.unwrap(),
            plain::<Value>(&payload)
        );
    }
}

/// Checks that `token` is refused with InvalidClaims, the handler not run,
/// for claims type `C`, through axum and through the verifier.
async fn assert_invalid_claims<C>(what: &str, token: &str)
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let ty = std::any::type_name::<C>();
    let (status, claims, hits) = through_axum(auth_for::<C>(), token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}, C = {ty}");
    assert!(claims.is_none() && hits.count() == 0, "{what}, C = {ty}");
    let auth = auth_for::<C>();
    // Warm the header first, then the bad token, twice.
    assert!(auth.verifier().verify(&valid_token()).await.is_ok());
    for round in 0..2 {
        assert_eq!(
            outcome(auth.verifier(), token).await,
            Err(AuthErrorKind::InvalidClaims),
            "{what}, C = {ty}, round {round}"
        );
    }
}

#[tokio::test]
async fn ill_typed_registered_claims_are_invalid_whatever_the_claims_type() {
    let now = now();
    let base = format!(r#""sub":"alice","iss":"{ISSUER}","aud":"{AUDIENCE}","iat":{now}"#);
    let exp = now + 300;
    let payloads = [
        ("exp a string", format!(r#"{{{base},"exp":"soon"}}"#)),
        (
            "exp a numeric string",
            format!(r#"{{{base},"exp":"{exp}"}}"#),
        ),
        (
            "aud a number",
            format!(r#"{{"sub":"alice","iss":"{ISSUER}","aud":5,"iat":{now},"exp":{exp}}}"#),
        ),
        (
            "aud an array with a number",
            format!(r#"{{"sub":"alice","iss":"{ISSUER}","aud":["{AUDIENCE}",5],"exp":{exp}}}"#),
        ),
        (
            "duplicate exp",
            format!(r#"{{{base},"exp":{exp},"exp":{exp}}}"#),
        ),
        (
            "duplicate exp, one escaped",
            format!(r#"{{{base},"exp":{exp},"\u0065xp":{exp}}}"#),
        ),
        (
            "duplicate aud",
            format!(r#"{{{base},"exp":{exp},"aud":"{AUDIENCE}"}}"#),
        ),
        (
            "iss an array",
            format!(r#"{{"sub":"alice","iss":["{ISSUER}"],"aud":"{AUDIENCE}","exp":{exp}}}"#),
        ),
        (
            "nbf a string",
            format!(r#"{{{base},"exp":{exp},"nbf":"x"}}"#),
        ),
        (
            "iat a bool",
            format!(
                r#"{{"sub":"alice","iss":"{ISSUER}","aud":"{AUDIENCE}","iat":true,"exp":{exp}}}"#
            ),
        ),
        ("exp null", format!(r#"{{{base},"exp":null}}"#)),
        ("exp negative", format!(r#"{{{base},"exp":-1}}"#)),
        ("exp huge", format!(r#"{{{base},"exp":1e300}}"#)),
        (
            "scope a number",
            format!(r#"{{{base},"exp":{exp},"scope":1}}"#),
        ),
        (
            "scp with a number",
            format!(r#"{{{base},"exp":{exp},"scp":[1]}}"#),
        ),
        ("exp missing", format!(r#"{{{base}}}"#)),
    ];
    for (what, payload) in &payloads {
        let token = craft(r#"{"alg":"HS256","typ":"JWT"}"#, payload);
        assert_invalid_claims::<TestClaims>(what, &token).await;
        assert_invalid_claims::<Flat>(what, &token).await;
        assert_invalid_claims::<Nested>(what, &token).await;
        assert_invalid_claims::<Box<RawValue>>(what, &token).await;
        assert_invalid_claims::<Value>(what, &token).await;
        assert_invalid_claims::<RegisteredClaims>(what, &token).await;
        assert_invalid_claims::<HashMap<String, Value>>(what, &token).await;
    }

    // A registered claim of the wrong type is refused whatever the
    // claims type, `Value` and raw claims included.
    let token = hs256(&claims_with(json!({"sub": 5})));
    assert_invalid_claims::<TestClaims>("sub a number", &token).await;
    assert_invalid_claims::<Value>("sub a number", &token).await;
    assert_invalid_claims::<Box<RawValue>>("sub a number", &token).await;
    // Registered claims fine, but the claims type refuses the payload …
    let token = hs256(&claims_with(json!({"name": 5})));
    assert_invalid_claims::<TestClaims>("name a number", &token).await;
    // … which `Value` and raw claims take as they are.
    let (status, value, _) = through_axum(auth_for::<Value>(), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value.unwrap()["name"], json!(5));
    let (status, raw, _) = through_axum(auth_for::<Box<RawValue>>(), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(raw.unwrap().get(), payload_text(&token));
}

// --- 5. Order of checks ----------------------------------------------------------------------

/// The signature is checked before the payload is read (DESIGN §1): a token
/// with ill-typed claims and a bad signature is refused for its signature,
/// with one issuer and with several alike; with a good signature the claims
/// decide. With several issuers only `iss` is read before the key lookup.
#[tokio::test]
async fn the_signature_is_checked_before_the_claims_with_one_issuer_or_several() {
    let single = JwtAuth::<TestClaims>::builder()
        .key(Key::hmac(secret(1)).unwrap())
        .issuer(ISS_1)
        .audience("api-1")
        .token_cache(false)
        .build()
        .unwrap();
    let several = JwtAuth::<TestClaims>::builder()
        .issuer_keys(
            ISS_1,
            StaticKeys::new([Key::hmac(secret(1)).unwrap()]).unwrap(),
        )
        .issuer_audience(ISS_1, "api-1")
        .issuer_keys(
            ISS_2,
            StaticKeys::new([Key::hmac(secret(2)).unwrap()]).unwrap(),
        )
        .issuer_audience(ISS_2, "api-2")
        .token_cache(false)
        .build()
        .unwrap();
    let bad_claims = claims_with(json!({"iss": ISS_1, "aud": "api-1", "exp": "soon"}));
    for auth in [&single, &several] {
        let v = auth.verifier();
        let forged = hs256_with(&secret(9), None, &bad_claims);
        assert_eq!(
            outcome(v, &forged).await,
            Err(AuthErrorKind::InvalidSignature)
        );
        let signed = hs256_with(&secret(1), None, &bad_claims);
        assert_eq!(outcome(v, &signed).await, Err(AuthErrorKind::InvalidClaims));
        let good = hs256_with(
            &secret(1),
            None,
            &claims_with(json!({"iss": ISS_1, "aud": "api-1"})),
        );
        assert_eq!(outcome(v, &good).await, Ok(()));
    }
    // Routing reads `iss` strictly and alone: an ill-typed or duplicate
    // `iss` is refused before any key is looked up, an unknown one too.
    let v = several.verifier();
    let forged = |payload: &str| {
        let input = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), b64(payload));
        format!("{input}.{}", b64([0u8; 32]))
    };
    let exp = now() + 600;
    let cases = [
        (
            format!(r#"{{"iss":5,"aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidClaims,
        ),
        (
            format!(r#"{{"iss":"{ISS_1}","iss":"{ISS_2}","aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidClaims,
        ),
        (
            format!(r#"{{"iss":"https://else.example","aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidIssuer,
        ),
        (
            format!(r#"{{"aud":"api-1","exp":{exp}}}"#),
            AuthErrorKind::InvalidIssuer,
        ),
        (
            format!(r#"{{"iss":"{ISS_1}","aud":"api-1","exp":"soon"}}"#),
            AuthErrorKind::InvalidSignature,
        ),
    ];
    for (payload, want) in cases {
        assert_eq!(outcome(v, &forged(&payload)).await, Err(want), "{payload}");
    }
}
