//! Attack suite, encoding: oversized tokens and headers, many dots, padded,
//! standard-alphabet, whitespace-containing and non-canonical base64,
//! headers and payloads that are not JSON objects, duplicate members, deep
//! nesting, and bytes that are not UTF-8.

mod common;

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use http::StatusCode;
use jwt_layer::JwtAuth;
use jwt_layer::token::CookieToken;
use serde_json::json;

use common::*;

const SIZE: &str = "oversized";
const DOTS: &str = "many-dots";
const BASE64: &str = "base64";
const SHAPE: &str = "non-object";
const DUPLICATE: &str = "duplicate-members";
const NESTING: &str = "deep-nesting";
const UTF8: &str = "non-utf8";

const HS256: &str = r#"{"alg":"HS256"}"#;

fn app() -> (Router, Hits) {
    router(builder().build().unwrap())
}

/// The layer with the largest token size it allows (64 KiB), so that the
/// parser, not the size limit, meets the input.
fn roomy_app() -> (Router, Hits) {
    router(builder().max_token_size(64 * 1024).build().unwrap())
}

// --- Size -------------------------------------------------------------------------------

#[tokio::test]
async fn oversized_tokens_are_refused_before_decoding() {
    let (app, hits) = app();
    let good = valid_token();
    let (h, p, s) = segments(&good);
    // Padding a real token past 8 KiB in each segment, and pure garbage.
    let pad = |n: usize| "A".repeat(n);
    for token in [
        format!("{h}.{p}{}.{s}", pad(8 * 1024)),
        format!("{h}{}.{p}.{s}", pad(8 * 1024)),
        format!("{h}.{p}.{s}{}", pad(8 * 1024)),
        "x".repeat(8 * 1024 + 1),
        ".".repeat(8 * 1024 + 1),
        format!("{}.{}.{}", pad(3000), pad(3000), pad(3000)),
        "A".repeat(1024 * 1024),
    ] {
        hostile_token(SIZE, &app, &hits, &token, "token too large").await;
    }
    // Claims that blow the token past the limit although every part is fine.
    let big = claims_with(json!({"name": "n".repeat(7000)}));
    hostile_token(SIZE, &app, &hits, &hs256(&big), "token too large").await;
    let big_header = format!(r#"{{"alg":"HS256","x":"{}"}}"#, "h".repeat(7000));
    hostile_token(
        SIZE,
        &app,
        &hits,
        &craft(&big_header, &claims().to_string()),
        "token too large",
    )
    .await;
}

#[tokio::test]
async fn the_size_limit_is_exact() {
    // The largest valid token under the default limit passes; one byte more
    // is refused.
    let (app, hits) = app();
    let mut n = 5000;
    let token = loop {
        let t = hs256(&claims_with(json!({"name": "n".repeat(n)})));
        if t.len() >= 8 * 1024 - 3 {
            break t;
        }
        n += 1;
    };
    assert!(token.len() <= 8 * 1024, "{}", token.len());
    assert_ok(&app, &hits, bearer(&token)).await;
    let (h, p, s) = segments(&token);
    let over = format!("{h}.{p}.{s}{}", "A".repeat(8 * 1024 + 1 - token.len()));
    assert_eq!(over.len(), 8 * 1024 + 1);
    hostile_token(SIZE, &app, &hits, &over, "token too large").await;
}

#[tokio::test]
async fn huge_authorization_and_cookie_headers_are_answered_cheaply() {
    let (app, hits) = app();
    let huge = "A".repeat(256 * 1024);
    let too_large = invalid_token("token too large");
    for (case, req, status, expected) in [
        (
            "a 256 KiB bearer token",
            authorization(&format!("Bearer {huge}")),
            StatusCode::UNAUTHORIZED,
            Some(too_large.as_str()),
        ),
        (
            "10 000 bearer-like words",
            authorization(&format!("Bearer {}", "a.b ".repeat(10_000))),
            StatusCode::BAD_REQUEST,
            Some(INVALID_REQUEST),
        ),
        // Other schemes are not read at all, however large.
        (
            "a 256 KiB Basic credential",
            authorization(&format!("Basic {huge}")),
            StatusCode::UNAUTHORIZED,
            Some(MISSING),
        ),
    ] {
        hostile_request_case(SIZE, case, &app, &hits, req, status, expected).await;
    }
}

#[tokio::test]
async fn a_cookie_source_meets_the_same_size_limit() {
    let (app, hits) = router(
        builder()
            .token_source(CookieToken::new("jwt"))
            .build()
            .unwrap(),
    );
    let huge = "A".repeat(256 * 1024);
    let too_large = invalid_token("token too large");
    let many = (0..2000)
        .map(|i| format!("c{i}=v"))
        .collect::<Vec<_>>()
        .join("; ");
    for (case, req, expected) in [
        (
            "a 256 KiB token cookie",
            cookie(&format!("a=1; jwt={huge}; b=2")),
            Some(too_large.as_str()),
        ),
        ("2000 other cookies", cookie(&many), Some(MISSING)),
    ] {
        let status = StatusCode::UNAUTHORIZED;
        hostile_request_case(SIZE, case, &app, &hits, req, status, expected).await;
    }
}

#[tokio::test]
async fn many_authorization_headers_are_a_bad_request() {
    let (app, hits) = app();
    let token = valid_token();
    for n in [2, 3, 100] {
        let mut req = bearer(&token);
        for _ in 1..n {
            req.headers_mut().append(
                http::header::AUTHORIZATION,
                format!("Bearer {token}").parse().unwrap(),
            );
        }
        hostile(
            SIZE,
            &app,
            &hits,
            req,
            StatusCode::BAD_REQUEST,
            Some(INVALID_REQUEST),
        )
        .await;
    }
}

// --- Dots ---------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_with_the_wrong_number_of_dots_are_malformed() {
    let (app, hits) = app();
    let good = valid_token();
    let (h, p, s) = segments(&good);
    for token in [
        ".".to_owned(),
        "..".to_owned(),
        "...".to_owned(),
        ".....".to_owned(),
        ".".repeat(4000),
        h.clone(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}..{p}.{s}"),
        format!("{h}.{p}..{s}"),
        format!(".{h}.{p}.{s}"),
        format!("{h}.{p}.{s}.."),
        format!("{h}.{p}.{p}.{p}.{s}"),
        format!("{good}.{good}"),
        format!("{h}.{}", "a.".repeat(2000)),
        "a.b.c.d.e.f.g.h.i.j".to_owned(),
    ] {
        hostile_token(DOTS, &app, &hits, &token, "malformed token").await;
    }
    assert_ok(&app, &hits, bearer(&good)).await;
}

// --- Base64 variants ---------------------------------------------------------------------------

/// A valid token whose header, payload and signature all contain `-` or
/// `_`, so their standard-alphabet forms differ.
fn token_with_url_safe_characters() -> String {
    for i in 0.. {
        // `?>` and `~~` encode to `Pz4` and `fn4`-like groups with `-`/`_`.
        let header = format!(r#"{{"alg":"HS256","x":"??>~~{i}"}}"#);
        let payload = claims_with(json!({"name": format!("??>~~{i}")})).to_string();
        let token = craft(&header, &payload);
        let (h, p, s) = segments(&token);
        if [&h, &p, &s].iter().all(|seg| seg.contains(['-', '_'])) {
            return token;
        }
    }
    unreachable!()
}

/// The segment with `A`s appended up to a length that is 1 modulo 4,
/// which no base64 text has.
fn impossible_length(segment: &str) -> String {
    let mut out = segment.to_owned();
    out.push('A');
    while out.len() % 4 != 1 {
        out.push('A');
    }
    out
}

fn to_standard(segment: &str) -> String {
    segment.replace('-', "+").replace('_', "/")
}

/// The segment with the unused low bits of its last character set: the
/// same bytes, a non-canonical encoding. `None` when the length leaves no
/// unused bits.
fn non_canonical(segment: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let unused_bits = match segment.len() % 4 {
        2 => 4,
        3 => 2,
        _ => return None,
    };
    let last = *segment.as_bytes().last()?;
    let value = ALPHABET.iter().position(|&c| c == last)?;
    let changed = value | 1;
    assert!(changed < 64 && unused_bits > 0);
    if changed == value {
        return None;
    }
    let mut out = segment[..segment.len() - 1].to_owned();
    out.push(ALPHABET[changed] as char);
    Some(out)
}

/// `good` re-encoded in every way that is not canonical unpadded
/// base64url: standard alphabet, padded, characters outside any alphabet,
/// impossible lengths, non-zero trailing bits.
fn badly_encoded(good: &str) -> Vec<String> {
    let (h, p, s) = segments(good);
    let raw = |seg: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(seg)
            .unwrap()
    };
    let mut cases = vec![
        // Standard alphabet, per segment and everywhere.
        format!("{}.{p}.{s}", to_standard(&h)),
        format!("{h}.{}.{s}", to_standard(&p)),
        format!("{h}.{p}.{}", to_standard(&s)),
        format!(
            "{}.{}.{}",
            to_standard(&h),
            to_standard(&p),
            to_standard(&s)
        ),
        // Padded (with `=`, and URL-encoded `%3D`).
        format!("{}.{p}.{s}", URL_SAFE.encode(raw(&h))),
        format!("{h}.{}.{s}", URL_SAFE.encode(raw(&p))),
        format!("{h}.{p}.{}", URL_SAFE.encode(raw(&s))),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}.{s}=="),
        format!("{h}.{p}.{s}%3D"),
        format!(
            "{}.{}.{}",
            STANDARD.encode(raw(&h)),
            STANDARD.encode(raw(&p)),
            STANDARD.encode(raw(&s))
        ),
        format!("{}.{p}.{s}", STANDARD_NO_PAD.encode(raw(&h))),
        // Characters outside any alphabet.
        format!("{h}.{p}.{s}!"),
        format!("{h}.{p}.*{s}"),
        format!("{h}.{p}%2E{s}"),
        // Lengths no base64 text has.
        format!("{}.{p}.{s}", impossible_length(&h)),
        format!("{h}.{}.{s}", impossible_length(&p)),
        format!("{h}.{p}.{}", impossible_length(&s)),
    ];
    for (i, seg) in [&h, &p, &s].iter().enumerate() {
        if let Some(nc) = non_canonical(seg) {
            let mut parts = [h.clone(), p.clone(), s.clone()];
            parts[i] = nc;
            cases.push(parts.join("."));
        }
    }
    cases
}

#[tokio::test]
async fn non_url_safe_or_non_canonical_base64_is_malformed() {
    let (app, hits) = app();
    let good = token_with_url_safe_characters();
    assert_ok(&app, &hits, bearer(&good)).await;
    for token in badly_encoded(&good) {
        hostile_case(BASE64, &token, &app, &hits, &token, "malformed token").await;
    }
    assert_eq!(hits.count(), 1);
}

/// Characters a header value cannot carry, as a verifier without a header
/// sees them.
#[tokio::test]
async fn characters_a_header_value_cannot_carry_are_malformed() {
    let good = token_with_url_safe_characters();
    let (h, p, s) = segments(&good);
    let verifier = builder().build().unwrap();
    for token in [
        format!("{h}.{p}.{s}\u{00e9}"),
        format!("{h}.{p}.{s}\u{0000}"),
        format!("{h}\u{200b}.{p}.{s}"),
        format!("{h}.{p}.{s}\u{ff0e}"),
    ] {
        tally(BASE64);
        let err = verifier.verifier().verify(&token).await.unwrap_err();
        assert_eq!(
            err.kind(),
            jwt_layer::AuthErrorKind::MalformedToken,
            "{token:?}"
        );
    }
}

#[tokio::test]
async fn a_non_canonical_encoding_is_refused_even_with_a_matching_signature() {
    // The attacker re-encodes a segment non-canonically and signs the new
    // signing input: the bytes decode the same, but the text must still be
    // canonical (one token, one encoding).
    let (app, hits) = app();
    let payload = claims().to_string();
    for header in [
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256","x":1}"#,
    ] {
        let h = b64(header);
        let p = b64(&payload);
        let mut variants = Vec::new();
        if let Some(nc) = non_canonical(&h) {
            variants.push(format!("{nc}.{p}"));
        }
        if let Some(nc) = non_canonical(&p) {
            variants.push(format!("{h}.{nc}"));
        }
        for signing_input in variants {
            hostile_token(
                BASE64,
                &app,
                &hits,
                &sign_input(&signing_input),
                "malformed token",
            )
            .await;
        }
        // Padding inside the signed input.
        let padded = format!("{}.{p}", URL_SAFE.encode(header));
        if padded.contains('=') {
            hostile_token(BASE64, &app, &hits, &sign_input(&padded), "malformed token").await;
        }
    }
}

#[tokio::test]
async fn whitespace_in_or_around_the_token_is_refused() {
    let (app, hits) = app();
    let good = valid_token();
    let (h, p, s) = segments(&good);
    // Inside the header value: two tokens, or a token with a hole.
    for value in [
        format!("Bearer {h}. {p}.{s}"),
        format!("Bearer {h}.{p} .{s}"),
        format!("Bearer {h}.{p}.{s} x"),
        format!("Bearer {h}\t.{p}.{s}"),
        format!("Bearer {h}.{p}.\t{s}"),
    ] {
        hostile(
            BASE64,
            &app,
            &hits,
            authorization(&value),
            StatusCode::BAD_REQUEST,
            Some(INVALID_REQUEST),
        )
        .await;
    }
    // Not a space or tab: part of the token, so not base64.
    for value in [
        format!("Bearer {h}.{p}.{s}\u{000b}"),
        format!("Bearer {h}.{p}.{s}\u{000c}"),
        format!("Bearer {h}.{p}\u{00a0}.{s}"),
    ] {
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            let mut req = anonymous();
            req.headers_mut().insert(http::header::AUTHORIZATION, v);
            let res = send(&app, req).await;
            tally(BASE64);
            assert!(
                matches!(
                    res.status(),
                    StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
                ),
                "{value:?}"
            );
            assert_ne!(challenge(&res), Some(MISSING));
        }
    }
    assert_eq!(hits.count(), 0);
    // Whitespace around the token is trimmed (RFC 9110 allows it).
    assert_ok(&app, &hits, authorization(&format!("Bearer   {good}  "))).await;
}

/// Line breaks and spaces inside or around the segments, as a verifier
/// without a header sees them.
#[tokio::test]
async fn line_breaks_in_or_around_the_token_are_malformed() {
    let good = valid_token();
    let (h, p, s) = segments(&good);
    let verifier = builder().build().unwrap();
    for token in [
        format!("{h}\n.{p}.{s}"),
        format!("{h}.{p}\r\n.{s}"),
        format!("{h}.{p}.{s}\n"),
        format!(" {h}.{p}.{s}"),
        format!("{h}.{p}.{s} "),
        format!(
            "{h}.{}.{s}",
            p.chars()
                .enumerate()
                .map(|(i, c)| if i % 10 == 9 {
                    format!("{c}\n")
                } else {
                    c.to_string()
                })
                .collect::<String>()
        ),
    ] {
        tally(BASE64);
        let err = verifier.verifier().verify(&token).await.unwrap_err();
        assert_eq!(
            err.kind(),
            jwt_layer::AuthErrorKind::MalformedToken,
            "{token:?}"
        );
    }
}

// --- Not JSON objects -----------------------------------------------------------------------------

#[tokio::test]
async fn headers_that_are_not_json_objects_are_malformed() {
    let (app, hits) = app();
    let payload = claims().to_string();
    for header in [
        "",
        " ",
        "null",
        "true",
        "0",
        "1e3",
        r#""HS256""#,
        "[]",
        r#"[{"alg":"HS256"}]"#,
        r#"{"alg":"HS256"}{"alg":"none"}"#,
        r#"{"alg":"HS256"},"#,
        r#"{"alg":"HS256""#,
        r#"{alg:"HS256"}"#,
        r#"{'alg':'HS256'}"#,
        r#"{"alg":"HS256",}"#,
        "\u{feff}{\"alg\":\"HS256\"}",
        "/*x*/{\"alg\":\"HS256\"}",
        r#"{"alg":"HS256"} //"#,
        "alg=HS256",
        r#"{"alg":"HS256"}\u0000"#,
    ] {
        tally(SHAPE);
        if header.is_empty() {
            // An empty header segment.
            let token = format!(".{}.{}", b64(&payload), b64([0u8; 32]));
            let res = send(&app, bearer(&token)).await;
            assert_eq!(
                challenge(&res),
                Some(invalid_token("malformed token").as_str())
            );
            continue;
        }
        let res = send(&app, bearer(&craft(header, &payload))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(
            challenge(&res),
            Some(invalid_token("malformed token").as_str()),
            "{header}"
        );
    }
    assert_eq!(hits.count(), 0);
    // Blank space around the object is JSON all the same.
    assert_ok(
        &app,
        &hits,
        bearer(&craft(" \r\n\t{\"alg\":\"HS256\"}\n ", &payload)),
    )
    .await;
}

#[tokio::test]
async fn payloads_that_are_not_json_objects_are_refused() {
    let (app, hits) = app();
    for payload in [
        " ",
        "null",
        "true",
        "42",
        r#""a string""#,
        "[]",
        "[{}]",
        &format!("[{}]", claims()),
        "}",
        "\u{feff}{}",
        "Payload",
        "It’s a dangerous business",
    ] {
        hostile_token(
            SHAPE,
            &app,
            &hits,
            &craft(HS256, payload),
            "malformed token",
        )
        .await;
    }
    // A JSON object followed by more text is invalid JSON: the registered
    // claims cannot be read.
    for payload in [
        format!("{} x", claims()),
        format!("{},", claims()),
        format!("{}}}", claims()),
        format!("{}{}", claims(), claims()),
        "{".to_owned(),
        r#"{"exp":1}{"exp":2}"#.to_owned(),
    ] {
        hostile_token(
            SHAPE,
            &app,
            &hits,
            &craft(HS256, &payload),
            "invalid claims",
        )
        .await;
    }
    // An empty payload segment.
    let token = sign_input(&format!("{}.", b64(HS256)));
    hostile_token(SHAPE, &app, &hits, &token, "malformed token").await;
    // An empty object lacks `exp`.
    hostile_token(SHAPE, &app, &hits, &craft(HS256, "{}"), "invalid claims").await;
}

// --- Duplicate members ------------------------------------------------------------------------------

/// Payloads with a member twice: registered claims in every order and
/// spelling, and claims of the claims type (refused when the claims are
/// read).
fn payloads_with_duplicates() -> Vec<String> {
    let c = claims();
    let (iss, aud, exp, iat) = (
        c["iss"].clone(),
        c["aud"].clone(),
        c["exp"].clone(),
        c["iat"].clone(),
    );
    let base = format!(r#""iss":{iss},"aud":{aud},"exp":{exp},"iat":{iat}"#);
    vec![
        // Registered claims twice, in every order and spelling.
        format!(r#"{{"sub":"alice",{base},"exp":{exp}}}"#),
        format!(r#"{{"sub":"alice",{base},"exp":1}}"#),
        format!(r#"{{"sub":"alice",{base},"iss":"https://evil.example"}}"#),
        format!(r#"{{"sub":"alice","iss":"https://evil.example",{base}}}"#),
        format!(r#"{{"sub":"alice",{base},"aud":"other"}}"#),
        format!(r#"{{"sub":"alice",{base},"nbf":1,"nbf":2}}"#),
        format!(r#"{{"sub":"alice",{base},"\u0065xp":1}}"#),
        format!(r#"{{"sub":"alice",{base},"scope":"a","scope":"admin"}}"#),
        // A claim of the claims type twice (here `sub`): refused when the
        // claims are read.
        format!(r#"{{"sub":"alice",{base},"sub":"admin"}}"#),
        format!(r#"{{"sub":"admin",{base},"\u0073ub":"alice"}}"#),
        format!(r#"{{"sub":"alice",{base},"admin":false,"admin":true}}"#),
    ]
}

#[tokio::test]
async fn duplicate_members_are_refused() {
    let (app, hits) = app();
    for payload in payloads_with_duplicates() {
        hostile_token(
            DUPLICATE,
            &app,
            &hits,
            &craft(HS256, &payload),
            "invalid claims",
        )
        .await;
    }
    // Header members twice.
    let payload = claims().to_string();
    for header in [
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"a"}"#,
        r#"{"alg":"HS256","enc":"x","enc":"y"}"#,
    ] {
        hostile_token(
            DUPLICATE,
            &app,
            &hits,
            &craft(header, &payload),
            "malformed token",
        )
        .await;
    }
}

// --- Deep nesting -------------------------------------------------------------------------------------

/// `depth` nested arrays, and `depth` nested objects.
fn nested(depth: usize) -> [String; 2] {
    [
        format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)),
    ]
}

/// The valid claims with `claim` set to the raw JSON `value`.
fn payload_with_raw(claim: &str, value: &str) -> String {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(claim);
    let text = c.to_string();
    format!(r#"{},"{claim}":{value}}}"#, text.strip_suffix('}').unwrap())
}

/// Headers and payloads with the `deep` value where the verifier reads a
/// value (refused by the parser), with the description each gets.
fn deep_where_read(deep: &str) -> Vec<(String, String, &'static str)> {
    let payload = claims().to_string();
    vec![
        // Where the verifier reads a value: refused by the parser.
        (
            format!(r#"{{"alg":{deep}}}"#),
            payload.clone(),
            "malformed token",
        ),
        (
            format!(r#"{{"alg":"HS256","kid":{deep}}}"#),
            payload.clone(),
            "malformed token",
        ),
        (
            format!(r#"{{"alg":"HS256","crit":{deep}}}"#),
            payload.clone(),
            "unsupported token header",
        ),
        (
            HS256.to_owned(),
            payload_with_raw("aud", deep),
            "invalid claims",
        ),
        (
            HS256.to_owned(),
            payload_with_raw("scp", deep),
            "invalid claims",
        ),
        (
            HS256.to_owned(),
            payload_with_raw("exp", deep),
            "invalid claims",
        ),
        (
            HS256.to_owned(),
            payload_with_raw("sub", deep),
            "invalid claims",
        ),
    ]
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let (app, hits) = roomy_app();
    let payload = claims().to_string();
    for depth in [129, 1000, 20_000] {
        for deep in nested(depth) {
            let mut cases = deep_where_read(&deep);
            // Where it reads nothing (it skips the value without recursion):
            // an attacker without the key still meets the signature check.
            let header = format!(r#"{{"alg":"HS256","x":{deep}}}"#);
            let forged = |h: &str, p: &str| format!("{}.{}.{}", b64(h), b64(p), b64([7u8; 32]));
            for (h, p) in [
                (header.as_str(), payload.clone()),
                (HS256, payload_with_raw("x", &deep)),
            ] {
                let token = forged(h, &p);
                if token.len() <= 64 * 1024 {
                    hostile_token(NESTING, &app, &hits, &token, "invalid signature").await;
                }
            }
            cases.retain(|(h, p, _)| craft(h, p).len() <= 64 * 1024);
            for (h, p, want) in cases {
                hostile_token(NESTING, &app, &hits, &craft(&h, &p), want).await;
            }
        }
    }
}

#[tokio::test]
async fn deep_nesting_under_a_valid_signature_is_data_or_invalid_claims() {
    // Signed by the key holder, a deep value in a member nobody reads is
    // skipped (iteratively: no stack is at risk); a claims type that reads
    // every value (here `serde_json::Value`) refuses it past serde_json's
    // depth limit.
    let (app, hits) = roomy_app();
    let deep = &nested(20_000)[0];
    let token = craft(HS256, &payload_with_raw("x", deep));
    assert_ok(&app, &hits, bearer(&token)).await;
    let auth = JwtAuth::<serde_json::Value>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .max_token_size(64 * 1024)
        .build()
        .unwrap();
    for depth in [129, 20_000] {
        tally(NESTING);
        let token = craft(HS256, &payload_with_raw("x", &nested(depth)[0]));
        let err = auth.verifier().verify(&token).await.unwrap_err();
        assert_eq!(err.kind(), jwt_layer::AuthErrorKind::InvalidClaims);
    }
    let ok = craft(HS256, &payload_with_raw("x", &nested(100)[0]));
    assert!(auth.verifier().verify(&ok).await.is_ok());
}

#[test]
fn deeply_nested_key_sets_are_refused() {
    for depth in [200, 100_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        tally(NESTING);
        assert!(jwt_layer::StaticKeys::from_jwks_json(&format!(r#"{{"keys":{deep}}}"#)).is_err());
        tally(NESTING);
        assert!(
            jwt_layer::StaticKeys::from_jwks_json(&format!(
                r#"{{"keys":[{{"kty":"RSA","x":{deep}}}]}}"#
            ))
            .is_err()
        );
        tally(NESTING);
        assert!(jwt_layer::Key::from_jwk(&format!(r#"{{"kty":"OKP","x":{deep}}}"#)).is_err());
    }
}

// --- Not UTF-8 ----------------------------------------------------------------------------------------

/// The valid claims with `claim` replaced by a string holding `bytes`.
fn payload_with_bytes(claim: &str, bytes: &[u8]) -> Vec<u8> {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(claim);
    let text = c.to_string();
    let head = text.strip_suffix('}').unwrap();
    [
        head.as_bytes(),
        format!(r#","{claim}":""#).as_bytes(),
        bytes,
        br#""}"#,
    ]
    .concat()
}

/// Byte sequences that are not UTF-8: a lone continuation byte, `0xff`,
/// an overlong `/`, a UTF-16 surrogate, a truncated sequence.
const NOT_UTF8: &[&[u8]] = &[b"\x80", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"];

#[tokio::test]
async fn non_utf8_in_a_read_member_is_refused() {
    let (app, hits) = app();
    let payload = claims().to_string();
    for bad in NOT_UTF8 {
        // In `alg`, in `kid`.
        for (before, after) in [
            (&br#"{"alg":"HS256"#[..], &br#""}"#[..]),
            (br#"{"alg":"HS256","kid":""#, br#""}"#),
        ] {
            let header = [before, bad, after].concat();
            let token = craft_bytes(&header, payload.as_bytes());
            hostile_token(UTF8, &app, &hits, &token, "malformed token").await;
        }
        // In registered claims and claims of the claims type.
        for claim in ["iss", "aud", "sub", "scope", "name"] {
            let token = craft_bytes(HS256.as_bytes(), &payload_with_bytes(claim, bad));
            hostile_token(UTF8, &app, &hits, &token, "malformed token").await;
        }
    }
    // Raw non-UTF-8 outside strings is not JSON.
    for bad in NOT_UTF8 {
        let header = [&br#"{"alg":"HS256","x":"#[..], bad, b"}"].concat();
        hostile_token(
            UTF8,
            &app,
            &hits,
            &craft_bytes(&header, payload.as_bytes()),
            "malformed token",
        )
        .await;
    }
    // Lone surrogates written as JSON escapes, in read members.
    for escaped in [r"\ud800", r"\udfff", r"\ud800\u0041"] {
        let p = claims_with(json!({"iss": null})).to_string();
        let p = format!(r#"{},"iss":"{escaped}"}}"#, p.strip_suffix('}').unwrap());
        hostile_token(UTF8, &app, &hits, &craft(HS256, &p), "invalid claims").await;
    }
    // And in the header value itself, as obs-text: 400.
    let token = valid_token();
    for bad in NOT_UTF8 {
        let value = [b"Bearer ", token.as_bytes(), bad].concat();
        if let Ok(v) = http::HeaderValue::from_bytes(&value) {
            let mut req = anonymous();
            req.headers_mut().insert(http::header::AUTHORIZATION, v);
            hostile(
                UTF8,
                &app,
                &hits,
                req,
                StatusCode::BAD_REQUEST,
                Some(INVALID_REQUEST),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn non_utf8_in_an_ignored_header_member_is_refused() {
    let (app, hits) = app();
    let payload = claims().to_string();
    for bad in NOT_UTF8 {
        let header = [&br#"{"alg":"HS256","x":""#[..], bad, br#""}"#].concat();
        hostile_token(
            UTF8,
            &app,
            &hits,
            &craft_bytes(&header, payload.as_bytes()),
            "malformed token",
        )
        .await;
        let header = [&br#"{"alg":"HS256","jku":"http://x/"#[..], bad, br#""}"#].concat();
        hostile_token(
            UTF8,
            &app,
            &hits,
            &craft_bytes(&header, payload.as_bytes()),
            "malformed token",
        )
        .await;
    }
}

#[tokio::test]
async fn non_utf8_in_an_ignored_claim_is_refused() {
    let (app, hits) = app();
    for bad in NOT_UTF8 {
        for claim in ["note", "jti", "http://example.com/is_root"] {
            let token = craft_bytes(HS256.as_bytes(), &payload_with_bytes(claim, bad));
            hostile_token(UTF8, &app, &hits, &token, "malformed token").await;
        }
    }
}
