//! Remembered JOSE headers (`known_headers`): a header segment that
//! verified once is not parsed again, which must never change an answer —
//! forged signatures, tampered payloads and expired tokens under a
//! remembered header are still refused, remembered headers belong to one
//! verifier, and header variants that were never verified (re-encoded
//! segments included) get exactly a fresh verifier's answer.

mod common;

use jsonwebtoken::Algorithm;
use jwt_layer::{AuthErrorKind, JwtAuth, Key, Verifier};
use serde_json::{Value, json};

use common::*;

/// A valid token for `mallory` under the default header.
fn mallory_token() -> String {
    hs256(&claims_for_sub("mallory"))
}

/// Forgeries and damage under the exact header bytes of `good`: each with
/// the error a fresh verifier gives it.
fn damaged_under_the_same_header(good: &str) -> Vec<(&'static str, String, AuthErrorKind)> {
    let (h, p, s) = segments(good);
    let header = header_text(good);
    let sig = signature_bytes(good);

    let mut flipped = sig.clone();
    flipped[0] ^= 1;
    let mut last_flipped = sig.clone();
    *last_flipped.last_mut().unwrap() ^= 0x80;
    let admin = claims_with(json!({"admin": true}));
    let other_sub = mallory_token();
    let (_, mallory_p, mallory_s) = segments(&other_sub);
    let by_other_key = hs256_with(OTHER_SECRET, None, &claims());
    let admin_p = b64(serde_json::to_vec(&admin).unwrap());
    vec![
        (
            "first signature bit flipped",
            with_signature(good, &flipped),
            AuthErrorKind::InvalidSignature,
        ),
        (
            "last signature bit flipped",
            with_signature(good, &last_flipped),
            AuthErrorKind::InvalidSignature,
        ),
        (
            "signature one byte short",
            with_signature(good, &sig[..sig.len() - 1]),
            AuthErrorKind::InvalidSignature,
        ),
        (
            "signature of zeros",
            with_signature(good, &[0u8; 32]),
            AuthErrorKind::InvalidSignature,
        ),
        (
            "signed by another key",
            by_other_key,
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
    ]
}

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
        let (h, _, _) = segments(&good);
        let other_sub = mallory_token();
        let cases = damaged_under_the_same_header(&good);
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
        craft_bytes(&v.header, payload.as_bytes())
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

/// Header variants for a layer with one kidless HMAC key and only HS256,
/// around the `known` header: equivalent spellings, other kids, other
/// algorithms, refused members, broken JSON, and more valid headers than
/// the verifier remembers, then `known` again (it may have been evicted by
/// then).
fn kidless_key_variants(known: &str) -> Vec<Variant> {
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
    variants
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
    let variants = kidless_key_variants(known);
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
    let good = sign_input(&format!("{}.{payload}", b64(known)));
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
        let token = sign_input(&format!("{segment}.{payload}"));
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
