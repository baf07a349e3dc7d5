//! Claim and header validation through the layer. Each of these checks is
//! our own: tokens are hand-crafted with a *valid* HMAC signature, so only
//! the layer's rules can refuse them.

mod common;

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_layer::{BuildErrorKind, Clock, JwtAuth, Validation};
use serde_json::json;

use common::*;

const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A payload JSON text: the valid claims with some raw JSON members added.
fn payload_with(raw_members: &str) -> String {
    let base = claims_with(json!({"iss": null, "aud": null})).to_string();
    let base = base.strip_suffix('}').unwrap();
    format!("{base},{raw_members}}}")
}

// --- Header -----------------------------------------------------------------

#[tokio::test]
async fn crit_header_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    // The control: the same payload under a plain header passes.
    assert_ok(&app, &hits, bearer(&craft(HS256, &payload))).await;
    for header in [
        r#"{"alg":"HS256","crit":["exp"]}"#,
        r#"{"alg":"HS256","crit":["http://example.invalid/ext"],"http://example.invalid/ext":true}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","crit":null}"#,
        r#"{"alg":"HS256","crit":"exp"}"#,
    ] {
        let token = craft(header, &payload);
        assert_invalid_token(&app, &hits, bearer(&token), "unsupported token header").await;
    }
}

#[tokio::test]
async fn encrypted_unencoded_and_compressed_headers_are_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    for header in [
        r#"{"alg":"HS256","enc":"A256GCM"}"#,
        r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
        r#"{"alg":"HS256","b64":false}"#,
        r#"{"alg":"HS256","zip":"DEF"}"#,
        r#"{"alg":"HS256","enc":null}"#,
    ] {
        let token = craft(header, &payload);
        assert_invalid_token(&app, &hits, bearer(&token), "unsupported token header").await;
    }
}

#[tokio::test]
async fn embedded_key_headers_are_ignored() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    // Signed by the attacker's key, which the header carries: refused, the
    // embedded key is never used.
    let attacker_jwk = format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(OTHER_SECRET));
    let header = format!(r#"{{"alg":"HS256","jwk":{attacker_jwk}}}"#);
    let token = craft_signed(
        &header,
        &payload,
        Algorithm::HS256,
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    assert_invalid_token(&app, &hits, bearer(&token), "invalid signature").await;
    // Signed by our key: the extra headers change nothing.
    let header = r#"{"alg":"HS256","jku":"https://evil.example/jwks","x5u":"https://evil.example/cert","x5c":["AAAA"]}"#;
    assert_ok(&app, &hits, bearer(&craft(header, &payload))).await;
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let (app, hits) = router(builder().allow_any_issuer_and_audience().build().unwrap());
    let payload = claims().to_string();
    // The unsecured JWS form, with an empty signature: reported as the
    // refused algorithm it is.
    let unsecured = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&payload));
    assert_invalid_token(&app, &hits, bearer(&unsecured), "algorithm not allowed").await;
    // An empty signature under a real algorithm is malformed.
    let empty_sig = format!("{}.{}.", b64(r#"{"alg":"HS256"}"#), b64(&payload));
    assert_invalid_token(&app, &hits, bearer(&empty_sig), "malformed token").await;
    // With a (valid HMAC) signature, whatever the spelling of `none`.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = craft(&format!(r#"{{"alg":"{alg}"}}"#), &payload);
        assert_invalid_token(&app, &hits, bearer(&token), "algorithm not allowed").await;
    }
}

#[tokio::test]
async fn unknown_or_missing_alg_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    for alg in ["HS257", "hs256", "ES512", "RSA-OAEP", "", "HS256 "] {
        let token = craft(&format!(r#"{{"alg":"{alg}"}}"#), &payload);
        assert_invalid_token(&app, &hits, bearer(&token), "algorithm not allowed").await;
    }
    // No alg at all, or one of the wrong type: not a JWS header.
    for header in [r#"{"typ":"JWT"}"#, r#"{"alg":256}"#] {
        let token = craft(header, &payload);
        assert_invalid_token(&app, &hits, bearer(&token), "malformed token").await;
    }
}

#[tokio::test]
async fn duplicate_header_members_are_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let token = craft(r#"{"alg":"HS256","alg":"none"}"#, &claims().to_string());
    assert_invalid_token(&app, &hits, bearer(&token), "malformed token").await;
}

#[tokio::test]
async fn header_that_is_not_a_json_object_is_malformed() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    for header in [r#"["HS256"]"#, r#""HS256""#, "null", "{", "not json"] {
        let token = craft(header, &payload);
        assert_invalid_token(&app, &hits, bearer(&token), "malformed token").await;
    }
}

#[tokio::test]
async fn overlong_kid_is_an_unknown_key() {
    let (app, hits) = router(builder().build().unwrap());
    let kid = "k".repeat(257);
    let token = sign(Algorithm::HS256, Some(&kid), &claims(), &hmac_signer());
    assert_invalid_token(&app, &hits, bearer(&token), "unknown signing key").await;
}

#[tokio::test]
async fn algorithm_allow_list_is_applied() {
    let (app, hits) = router(builder().algorithms([Algorithm::HS512]).build().unwrap());
    let hs512 = sign(Algorithm::HS512, None, &claims(), &hmac_signer());
    assert_ok(&app, &hits, bearer(&hs512)).await;
    assert_invalid_token(&app, &hits, bearer(&valid_token()), "algorithm not allowed").await;
}

// --- Compact serialization ----------------------------------------------------

#[tokio::test]
async fn tokens_that_are_not_three_base64url_segments_are_malformed() {
    let (app, hits) = router(builder().build().unwrap());
    let good = valid_token();
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for token in [
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}."),
        format!("{h}.{p}.{s}="),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}+.{s}"),
        format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
        format!("{h}.{p}.!{s}"),
    ] {
        assert_invalid_token(&app, &hits, bearer(&token), "malformed token").await;
    }
    assert_ok(&app, &hits, bearer(&good)).await;
}

#[tokio::test]
async fn tampered_payload_fails_the_signature() {
    let (app, hits) = router(builder().build().unwrap());
    let good = valid_token();
    let parts: Vec<&str> = good.split('.').collect();
    let evil = b64(claims_with(json!({"sub": "mallory"})).to_string());
    let token = format!("{}.{evil}.{}", parts[0], parts[2]);
    assert_invalid_token(&app, &hits, bearer(&token), "invalid signature").await;
}

// --- Payload shape and claim types --------------------------------------------

#[tokio::test]
async fn payload_that_is_not_a_json_object_is_malformed() {
    let (app, hits) = router(builder().allow_any_issuer_and_audience().build().unwrap());
    for payload in [
        "[1]",
        r#""a string""#,
        "null",
        "5",
        "true",
        " [ {} ]",
        "not json",
    ] {
        let token = craft(HS256, payload);
        assert_invalid_token(&app, &hits, bearer(&token), "malformed token").await;
    }
    // The control: an object payload under the same header passes.
    assert_ok(&app, &hits, bearer(&craft(HS256, &claims().to_string()))).await;
}

#[tokio::test]
async fn duplicate_claims_are_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let now = now();
    // A second `iss` must not smuggle an accepted issuer past the check.
    let payload = format!(
        r#"{{"sub":"alice","iss":"https://evil.example","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{}}}"#,
        now + 300
    );
    assert_invalid_token(
        &app,
        &hits,
        bearer(&craft(HS256, &payload)),
        "invalid claims",
    )
    .await;
    let payload = format!(
        r#"{{"sub":"alice","iss":"{ISSUER}","aud":"{AUDIENCE}","exp":{},"exp":{}}}"#,
        now - 3600,
        now + 300
    );
    assert_invalid_token(
        &app,
        &hits,
        bearer(&craft(HS256, &payload)),
        "invalid claims",
    )
    .await;
}

#[tokio::test]
async fn claims_that_do_not_fit_the_claims_type_are_invalid() {
    let (app, hits) = router(builder().build().unwrap());
    for changes in [
        json!({"sub": 5}),
        json!({"sub": null}),
        json!({"jti": 5}),
        json!({"admin": "yes"}),
    ] {
        let token = hs256(&claims_with(changes.clone()));
        assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
    }
}

// --- iss --------------------------------------------------------------------

#[tokio::test]
async fn issuer_missing_is_rejected_once_configured() {
    let (app, hits) = router(builder().build().unwrap());
    for changes in [json!({"iss": null}), json!({"iss": ""})] {
        let token = hs256(&claims_with(changes));
        assert_invalid_token(&app, &hits, bearer(&token), "invalid issuer").await;
    }
    // Not configured: a missing iss is fine.
    let (app, hits) = router(
        JwtAuth::<TestClaims>::builder()
            .hmac_secret(SECRET)
            .audience(AUDIENCE)
            .build()
            .unwrap(),
    );
    assert_ok(
        &app,
        &hits,
        bearer(&hs256(&claims_with(json!({"iss": null})))),
    )
    .await;
}

#[tokio::test]
async fn issuer_of_the_wrong_type_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    for iss in ["5", r#"["https://auth.example"]"#, "{}", "true"] {
        let token = craft(
            HS256,
            &payload_with(&format!(r#""aud":"{AUDIENCE}","iss":{iss}"#)),
        );
        assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
    }
}

#[tokio::test]
async fn issuer_must_match_exactly() {
    let (app, hits) = router(builder().build().unwrap());
    for iss in [
        "https://auth.example/",
        "HTTPS://AUTH.EXAMPLE",
        "https://auth.example.evil",
        " https://auth.example",
    ] {
        let token = hs256(&claims_with(json!({ "iss": iss })));
        assert_invalid_token(&app, &hits, bearer(&token), "invalid issuer").await;
    }
    // The same string written with JSON escapes is the same issuer.
    let token = craft(
        HS256,
        &payload_with(&format!(
            r#""aud":"{AUDIENCE}","iss":"https:\/\/auth.\u0065xample""#
        )),
    );
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn several_issuers_may_be_accepted() {
    let (app, hits) = router(builder().issuer("https://other.example").build().unwrap());
    for iss in [ISSUER, "https://other.example"] {
        assert_ok(
            &app,
            &hits,
            bearer(&hs256(&claims_with(json!({ "iss": iss })))),
        )
        .await;
    }
    let token = hs256(&claims_with(json!({"iss": "https://third.example"})));
    assert_invalid_token(&app, &hits, bearer(&token), "invalid issuer").await;
}

// --- aud --------------------------------------------------------------------

#[tokio::test]
async fn audience_missing_is_rejected_once_configured() {
    let (app, hits) = router(builder().build().unwrap());
    for changes in [
        json!({"aud": null}),
        json!({"aud": []}),
        json!({"aud": "other"}),
    ] {
        let token = hs256(&claims_with(changes.clone()));
        assert_invalid_token(&app, &hits, bearer(&token), "invalid audience").await;
    }
}

#[tokio::test]
async fn audience_of_the_wrong_type_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    for aud in ["5", "[5]", r#"["my-api",5]"#, r#"{"my-api":true}"#, "true"] {
        let token = craft(
            HS256,
            &payload_with(&format!(r#""iss":"{ISSUER}","aud":{aud}"#)),
        );
        assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
    }
}

#[tokio::test]
async fn audience_array_containing_ours_is_accepted() {
    let (app, hits) = router(builder().build().unwrap());
    for aud in [
        json!(["other", AUDIENCE]),
        json!([AUDIENCE]),
        json!(AUDIENCE),
    ] {
        assert_ok(
            &app,
            &hits,
            bearer(&hs256(&claims_with(json!({ "aud": aud })))),
        )
        .await;
    }
}

#[tokio::test]
async fn claims_are_type_checked_even_when_not_configured() {
    // Only an audience is configured; a non-string iss is still refused.
    let (app, hits) = router(
        JwtAuth::<TestClaims>::builder()
            .hmac_secret(SECRET)
            .audience(AUDIENCE)
            .build()
            .unwrap(),
    );
    let token = craft(
        HS256,
        &payload_with(&format!(r#""aud":"{AUDIENCE}","iss":5"#)),
    );
    assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
}

// --- exp, nbf, iat ----------------------------------------------------------

#[tokio::test]
async fn expired_token_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let now = now();
    let token = hs256(&claims_with(json!({"iat": now - 7200, "exp": now - 3600})));
    assert_invalid_token(&app, &hits, bearer(&token), "token expired").await;
}

#[tokio::test]
async fn exp_equal_to_now_is_rejected_at_zero_leeway() {
    let t = now();
    let (app, hits) = app_at(t, Duration::ZERO);
    let token = hs256(&claims_at(t, json!({"iat": t - 100, "exp": t})));
    assert_invalid_token(&app, &hits, bearer(&token), "token expired").await;
    let token = hs256(&claims_at(t, json!({"iat": t - 100, "exp": t + 1})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn default_leeway_is_sixty_seconds_on_exp() {
    let t = now();
    let (app, hits) = router(builder().clock(Clock::fixed(t)).build().unwrap());
    let token = hs256(&claims_at(t, json!({"iat": t - 600, "exp": t - 59})));
    assert_ok(&app, &hits, bearer(&token)).await;
    let token = hs256(&claims_at(t, json!({"iat": t - 600, "exp": t - 60})));
    assert_invalid_token(&app, &hits, bearer(&token), "token expired").await;
}

#[tokio::test]
async fn exp_missing_or_malformed_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    let t = now();
    for exp in [
        json!(null),
        json!(format!("{}", t + 300)),
        json!(true),
        json!(-1),
        json!(1e300),
        json!(u64::MAX),
    ] {
        let token = hs256(&claims_with(json!({ "exp": exp.clone() })));
        assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
    }
    // A fractional NumericDate is fine.
    let token = hs256(&claims_with(json!({"exp": t as f64 + 300.5})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn nbf_in_the_future_is_rejected() {
    let t = now();
    let (app, hits) = app_at(t, Duration::from_secs(10));
    let token = hs256(&claims_at(t, json!({"nbf": t + 11})));
    assert_invalid_token(&app, &hits, bearer(&token), "token not yet valid").await;
    // Within the leeway it passes.
    let token = hs256(&claims_at(t, json!({"nbf": t + 10})));
    assert_ok(&app, &hits, bearer(&token)).await;
    // Of the wrong type it is invalid.
    let token = hs256(&claims_at(t, json!({"nbf": "soon"})));
    assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
}

#[tokio::test]
async fn iat_of_the_wrong_type_is_rejected() {
    let (app, hits) = router(builder().build().unwrap());
    for iat in [
        json!("2024-01-01T00:00:00Z"),
        json!(true),
        json!(-5),
        json!([1]),
    ] {
        let token = hs256(&claims_with(json!({ "iat": iat.clone() })));
        assert_invalid_token(&app, &hits, bearer(&token), "invalid claims").await;
    }
}

#[tokio::test]
async fn iat_in_the_future_beyond_leeway_is_rejected() {
    let t = now();
    let (app, hits) = app_at(t, Duration::from_secs(30));
    let token = hs256(&claims_at(t, json!({"iat": t + 31, "exp": t + 600})));
    assert_invalid_token(&app, &hits, bearer(&token), "token issued in the future").await;
    let token = hs256(&claims_at(t, json!({"iat": t + 30, "exp": t + 600})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn iat_is_required_only_when_asked() {
    let (app, hits) = router(builder().build().unwrap());
    let no_iat = hs256(&claims_with(json!({"iat": null})));
    assert_ok(&app, &hits, bearer(&no_iat)).await;

    let validation = Validation::new()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .require_iat();
    let (app, hits) = router(
        JwtAuth::<TestClaims>::builder()
            .hmac_secret(SECRET)
            .validation(validation)
            .build()
            .unwrap(),
    );
    assert_invalid_token(&app, &hits, bearer(&no_iat), "invalid claims").await;
    assert_ok(&app, &hits, bearer(&valid_token())).await;
}

#[tokio::test]
async fn clock_from_fn_is_used() {
    let t = now();
    let (app, hits) = router(
        builder()
            .clock(Clock::from_fn(move || t + 10_000))
            .build()
            .unwrap(),
    );
    // Valid by the system clock, expired by the configured one.
    assert_invalid_token(&app, &hits, bearer(&valid_token()), "token expired").await;
}

// --- Lifetime and size --------------------------------------------------------

#[tokio::test]
async fn lifetime_over_the_maximum_is_rejected() {
    let t = now();
    let (app, hits) = router(
        builder()
            .clock(Clock::fixed(t))
            .max_lifetime(Duration::from_secs(3600))
            .build()
            .unwrap(),
    );
    let token = hs256(&claims_at(t, json!({"iat": t, "exp": t + 3601})));
    assert_invalid_token(&app, &hits, bearer(&token), "token lifetime too long").await;
    let token = hs256(&claims_at(t, json!({"iat": t, "exp": t + 3600})));
    assert_ok(&app, &hits, bearer(&token)).await;
    // Without iat, the lifetime counts from now.
    let token = hs256(&claims_at(t, json!({"iat": null, "exp": t + 3601})));
    assert_invalid_token(&app, &hits, bearer(&token), "token lifetime too long").await;
    let token = hs256(&claims_at(t, json!({"iat": null, "exp": t + 3600})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

/// A valid token padded with a claim so that it is about `len` bytes long.
fn token_of_about(len: usize) -> String {
    let base = valid_token().len();
    let pad = (len.saturating_sub(base + 20)) * 3 / 4;
    hs256(&claims_with(json!({"pad": "x".repeat(pad)})))
}

#[tokio::test]
async fn token_over_8_kib_is_rejected_by_default() {
    let (app, hits) = router(builder().build().unwrap());
    let big = token_of_about(8300);
    assert!(big.len() > 8 * 1024, "{}", big.len());
    assert_invalid_token(&app, &hits, bearer(&big), "token too large").await;
    let under = token_of_about(8000);
    assert!(
        under.len() <= 8 * 1024 && under.len() > 7500,
        "{}",
        under.len()
    );
    assert_ok(&app, &hits, bearer(&under)).await;
}

#[tokio::test]
async fn custom_max_token_size_is_an_exact_bound() {
    let token = token_of_about(1000);
    let (app, hits) = router(builder().max_token_size(token.len()).build().unwrap());
    assert_ok(&app, &hits, bearer(&token)).await;
    let (app, hits) = router(builder().max_token_size(token.len() - 1).build().unwrap());
    assert_invalid_token(&app, &hits, bearer(&token), "token too large").await;
    // A larger limit lets a token over 8 KiB in.
    let big = token_of_about(10_000);
    let (app, hits) = router(builder().max_token_size(16 * 1024).build().unwrap());
    assert_ok(&app, &hits, bearer(&big)).await;
}

#[tokio::test]
async fn segments_around_the_decoding_buffer_size_are_decoded() {
    // Header and payload segments whose decoded size crosses 2 KiB, where
    // decoding moves from a stack buffer to the heap.
    let (app, hits) = router(builder().build().unwrap());
    let base = claims().to_string().len();
    for decoded in (2040..2056).chain([3000, 5000]) {
        let pad = decoded - base - r#","pad":"""#.len();
        let payload = claims_with(json!({"pad": "x".repeat(pad)})).to_string();
        assert_eq!(payload.len(), decoded);
        assert_ok(&app, &hits, bearer(&craft(HS256, &payload))).await;
        let header = format!(r#"{{"alg":"HS256","x":"{}"}}"#, "y".repeat(decoded - 20));
        let token = craft(&header, &claims().to_string());
        assert_ok(&app, &hits, bearer(&token)).await;
    }
}

#[tokio::test]
async fn oversized_garbage_is_refused_before_decoding() {
    let (app, hits) = router(builder().build().unwrap());
    let garbage = "!".repeat(9000);
    assert_invalid_token(&app, &hits, bearer(&garbage), "token too large").await;
}

// --- Build errors -------------------------------------------------------------

#[test]
fn leeway_over_five_minutes_is_a_build_error() {
    assert!(builder().leeway(Duration::from_secs(301)).build().is_err());
    assert!(builder().leeway(Duration::from_secs(3600)).build().is_err());
    assert!(builder().leeway(Duration::from_secs(300)).build().is_ok());
    assert!(builder().leeway(Duration::ZERO).build().is_ok());
}

#[test]
fn no_issuer_and_no_audience_is_a_build_error_unless_opted_out() {
    let b = || JwtAuth::<TestClaims>::builder().hmac_secret(SECRET);
    let err = b().build().unwrap_err();
    assert_eq!(
        err.kind(),
        BuildErrorKind::UncheckedIssuerAndAudience,
        "{err}"
    );
    assert!(b().allow_any_issuer_and_audience().build().is_ok());
    assert!(b().issuer(ISSUER).build().is_ok());
    assert!(b().audience(AUDIENCE).build().is_ok());
    // The same rule holds for a whole Validation.
    assert!(b().validation(Validation::new()).build().is_err());
}

#[test]
fn empty_issuer_or_audience_is_a_build_error() {
    let b = || JwtAuth::<TestClaims>::builder().hmac_secret(SECRET);
    assert!(b().issuer("").build().is_err());
    assert!(b().audience("").build().is_err());
    assert!(b().issuer(ISSUER).audience("").build().is_err());
}

#[test]
fn max_token_size_out_of_range_is_a_build_error() {
    assert!(builder().max_token_size(0).build().is_err());
    assert!(builder().max_token_size(64 * 1024 + 1).build().is_err());
    assert!(builder().max_token_size(64 * 1024).build().is_ok());
    assert!(builder().max_token_size(1).build().is_ok());
}

#[test]
fn empty_algorithm_list_is_a_build_error() {
    assert!(builder().algorithms([]).build().is_err());
}
