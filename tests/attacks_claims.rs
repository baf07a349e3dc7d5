//! Attack suite, claims: claims of the wrong JSON type, float, negative and
//! huge dates, leeway boundaries on a fixed clock, audience and issuer
//! confusions, one issuer's keys claiming another issuer, and scopes that
//! only look right. Tokens carry valid signatures: only the claim rules
//! stand in the way.

mod common;

use std::time::Duration;

use axum::Router;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_layer::{Clock, JwtAuth, Key, StaticKeys};
use serde_json::{Value, json};

use common::*;

const TYPES: &str = "claim-types";
const DATES: &str = "dates";
const LEEWAY: &str = "leeway-boundaries";
const AUD_ISS: &str = "audience-issuer";
const MULTI: &str = "multi-issuer";
const SCOPE: &str = "scope";

const HS256: &str = r#"{"alg":"HS256"}"#;
/// The fixed clock of the boundary tests (2023-11-14T22:13:20Z).
const T: u64 = 1_700_000_000;

fn app() -> (Router, Hits) {
    router(builder().build().unwrap())
}

/// The valid claims with `claim` set to the raw JSON text `value`.
fn raw_claim(claim: &str, value: &str) -> String {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(claim);
    let text = c.to_string();
    format!(r#"{},"{claim}":{value}}}"#, text.strip_suffix('}').unwrap())
}

// --- Types ----------------------------------------------------------------------------

#[tokio::test]
async fn claims_of_the_wrong_type_are_refused() {
    let (app, hits) = app();
    let wrong: &[(&str, &[&str])] = &[
        (
            "exp",
            &[
                r#""1999999999""#,
                "true",
                "[]",
                "{}",
                r#"[1999999999]"#,
                r#"{"$date":1}"#,
            ],
        ),
        ("nbf", &[r#""0""#, "false", "[0]", "{}"]),
        ("iat", &[r#""0""#, "true", "[0]", "{}"]),
        (
            "iss",
            &[
                "1",
                "true",
                r#"["https://auth.example"]"#,
                r#"{"url":"https://auth.example"}"#,
            ],
        ),
        (
            "aud",
            &[
                "1",
                "true",
                "[1]",
                r#"[["my-api"]]"#,
                r#"{"my-api":true}"#,
                r#"["my-api",null]"#,
                r#"["my-api",1]"#,
            ],
        ),
        ("sub", &["1", "true", "null", r#"["alice"]"#, "{}"]),
        ("scope", &["1", r#"["admin"]"#, "{}"]),
        ("scp", &["1", "[1]", "{}", r#"[["admin"]]"#]),
        ("admin", &[r#""true""#, "1", "[true]"]),
        ("name", &["1", "[]"]),
    ];
    for (claim, values) in wrong {
        for value in *values {
            let token = craft(HS256, &raw_claim(claim, value));
            hostile_case(
                TYPES,
                &format!("{claim}: {value}"),
                &app,
                &hits,
                &token,
                "invalid claims",
            )
            .await;
        }
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn null_registered_claims_are_wrong_types_and_missing_ones_are_refused() {
    let (app, hits) = app();
    for claim in ["exp", "nbf", "iat", "iss", "aud", "scope", "scp"] {
        let token = craft(HS256, &raw_claim(claim, "null"));
        hostile_token(TYPES, &app, &hits, &token, "invalid claims").await;
    }
    for (claim, want) in [
        ("exp", "invalid claims"),
        ("iss", "invalid issuer"),
        ("aud", "invalid audience"),
    ] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(claim);
        hostile_token(TYPES, &app, &hits, &hs256(&c), want).await;
    }
}

// --- Dates ------------------------------------------------------------------------------

#[tokio::test]
async fn out_of_range_dates_are_invalid_claims() {
    let (app, hits) = app();
    for claim in ["exp", "nbf", "iat"] {
        for value in [
            "-1",
            "-0.5",
            "-1e10",
            "1e300",
            "1.7976931348623157e308",
            "253402300800",
            "18446744073709551616",
            "99999999999999999999999",
            "-9223372036854775808",
            "1e400",
        ] {
            let token = craft(HS256, &raw_claim(claim, value));
            hostile_case(
                DATES,
                &format!("{claim}: {value}"),
                &app,
                &hits,
                &token,
                "invalid claims",
            )
            .await;
        }
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn tiny_zero_and_fractional_dates_are_read_as_numbers() {
    let (app, hits) = app();
    // exp long past, in every spelling of small numbers.
    for value in [
        "0", "-0", "0.0", "1e-300", "5e-324", "1", "1.5", "1e3", "0.000001",
    ] {
        let token = craft(HS256, &raw_claim("exp", value));
        hostile_token(DATES, &app, &hits, &token, "token expired").await;
    }
    // The largest date accepted (9999-12-31T23:59:59Z), and exponent forms.
    for value in [
        "253402300799",
        "2.53402300799e11",
        "1.8e10",
        "4000000000000e-2",
    ] {
        let token = craft(HS256, &raw_claim("exp", value));
        assert_ok(&app, &hits, bearer(&token)).await;
    }
    let (app, hits) = app_at(T, Duration::from_secs(60));
    for (case, changes, description) in [
        // exp just before the clock minus leeway, as a float.
        (
            "exp as a float just past the leeway",
            json!({"exp": (T - 60) as f64 - 0.5}),
            "token expired",
        ),
        // nbf and iat in the far future are not yet valid / issued in the
        // future.
        (
            "nbf in 9999",
            json!({"nbf": 253402300799u64}),
            "token not yet valid",
        ),
        (
            "iat in 9999",
            json!({"iat": 253402300799u64}),
            "token issued in the future",
        ),
    ] {
        let token = hs256(&claims_at(T, changes));
        hostile_case(DATES, case, &app, &hits, &token, description).await;
    }
}

#[tokio::test]
async fn a_far_future_exp_is_refused_by_the_lifetime_cap() {
    let (app, hits) = router(
        builder()
            .clock(Clock::fixed(T))
            .max_lifetime(Duration::from_secs(3600))
            .build()
            .unwrap(),
    );
    for (case, changes) in [
        ("exp an hour and a second on", json!({"exp": T + 3601})),
        ("exp a year on", json!({"exp": T + 86_400 * 365})),
        ("exp in 9999", json!({"exp": 253_402_300_799u64})),
        // Without iat the lifetime counts from now.
        ("no iat", json!({"iat": null, "exp": T + 3601})),
        // An iat back-dated to stretch nothing: exp − iat is what counts.
        ("iat back-dated", json!({"iat": T - 10_000, "exp": T + 100})),
    ] {
        let token = hs256(&claims_at(T, changes));
        hostile_case(DATES, case, &app, &hits, &token, "token lifetime too long").await;
    }
    let token = hs256(&claims_at(T, json!({"exp": T + 3600})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

// --- Leeway boundaries ---------------------------------------------------------------------

#[tokio::test]
async fn exp_nbf_and_iat_boundaries_are_exact_with_leeway() {
    for leeway in [0, 1, 60, 300] {
        let (app, hits) = app_at(T, Duration::from_secs(leeway));
        let l = leeway as f64;
        let t = T as f64;
        // (claims, expected description or None for 200)
        let cases: Vec<(Value, Option<&str>)> = vec![
            (json!({"exp": t - l}), Some("token expired")),
            (json!({"exp": t - l - 0.001}), Some("token expired")),
            (json!({"exp": t - l + 1.0}), None),
            (json!({"exp": t - l + 0.5}), None),
            (json!({"nbf": t + l}), None),
            (json!({"nbf": t + l + 0.5}), Some("token not yet valid")),
            (json!({"nbf": t + l + 1.0}), Some("token not yet valid")),
            (json!({"iat": t + l}), None),
            (
                json!({"iat": t + l + 1.0}),
                Some("token issued in the future"),
            ),
            (
                json!({"iat": t + l + 0.001}),
                Some("token issued in the future"),
            ),
        ];
        for (changes, want) in cases {
            // Keep iat out of the nbf and exp cases.
            let mut c = claims_at(T, json!({"iat": T - 1000, "exp": T + 300}));
            merge(&mut c, changes.clone());
            let token = hs256(&c);
            match want {
                None => {
                    let body = assert_ok(&app, &hits, bearer(&token)).await;
                    assert_eq!(body, "alice", "leeway {leeway}: {changes}");
                }
                Some(description) => {
                    let case = format!("leeway {leeway}: {changes}");
                    hostile_case(LEEWAY, &case, &app, &hits, &token, description).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_cached_token_expires_on_time() {
    // The verified-token cache must not stretch exp: the same token, a
    // second later on the clock, is refused.
    let now = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(T));
    let clock = {
        let now = now.clone();
        Clock::from_fn(move || now.load(std::sync::atomic::Ordering::SeqCst))
    };
    let (app, hits) = router(
        builder()
            .clock(clock)
            .leeway(Duration::from_secs(5))
            .build()
            .unwrap(),
    );
    let token = hs256(&claims_at(T, json!({"exp": T + 10})));
    assert_ok(&app, &hits, bearer(&token)).await;
    now.store(T + 14, std::sync::atomic::Ordering::SeqCst);
    assert_ok(&app, &hits, bearer(&token)).await;
    now.store(T + 15, std::sync::atomic::Ordering::SeqCst);
    hostile_token(LEEWAY, &app, &hits, &token, "token expired").await;
    now.store(T + 1_000_000, std::sync::atomic::Ordering::SeqCst);
    hostile_token(LEEWAY, &app, &hits, &token, "token expired").await;
}

// --- Audience and issuer confusions ------------------------------------------------------------

#[tokio::test]
async fn issuers_that_only_look_like_ours_are_refused() {
    let (app, hits) = app();
    for iss in [
        "https://auth.example/",
        "https://auth.example.",
        "https://AUTH.example",
        "HTTPS://auth.example",
        "http://auth.example",
        "https://auth.example:443",
        "https://auth.example?",
        "https://auth.example#",
        "https://auth.example.evil.example",
        "https://evil.example/https://auth.example",
        "https://auth.example@evil.example",
        "https://auth.exampl",
        "https://auth.example ",
        " https://auth.example",
        "https://auth.example\u{0000}",
        "https://auth.example\n",
        "https://auth.еxample",
        "https://auth%2Eexample",
        "",
    ] {
        let token = hs256(&claims_with(json!({"iss": iss})));
        hostile_case(
            AUD_ISS,
            &format!("{iss:?}"),
            &app,
            &hits,
            &token,
            "invalid issuer",
        )
        .await;
    }
    assert_eq!(hits.count(), 0);
}

#[tokio::test]
async fn audiences_that_only_look_like_ours_are_refused() {
    let (app, hits) = app();
    for aud in [
        json!("my-api "),
        json!(" my-api"),
        json!("MY-API"),
        json!("my-api/"),
        json!("my-api\u{0000}"),
        json!("my-apix"),
        json!("my"),
        json!("my-api other-api"),
        json!("my-api,other-api"),
        json!(""),
        json!([]),
        json!(["other-api"]),
        json!(["my-api other-api"]),
        json!(["MY-API", "my-api "]),
        json!([""]),
        json!(ISSUER),
    ] {
        let token = hs256(&claims_with(json!({"aud": aud})));
        hostile_case(
            AUD_ISS,
            &aud.to_string(),
            &app,
            &hits,
            &token,
            "invalid audience",
        )
        .await;
    }
    // More audiences than anyone needs: refused as invalid claims, even
    // when ours is among them.
    let many: Vec<String> = (0..100)
        .map(|i| format!("aud-{i}"))
        .chain([AUDIENCE.to_owned()])
        .collect();
    let token = hs256(&claims_with(json!({"aud": many})));
    hostile_token(AUD_ISS, &app, &hits, &token, "invalid claims").await;
    assert_eq!(hits.count(), 0);
    // Ours among a few others is fine.
    let token = hs256(&claims_with(json!({"aud": ["other", AUDIENCE]})));
    assert_ok(&app, &hits, bearer(&token)).await;
}

#[tokio::test]
async fn issuer_and_audience_swapped_or_confused_are_refused() {
    let (app, hits) = app();
    for (changes, want) in [
        (json!({"iss": AUDIENCE, "aud": ISSUER}), "invalid issuer"),
        (json!({"aud": ISSUER}), "invalid audience"),
        (json!({"iss": AUDIENCE}), "invalid issuer"),
        (
            json!({"iss": null, "aud": [ISSUER, AUDIENCE]}),
            "invalid issuer",
        ),
        // The audience given under another claim name.
        (
            json!({"aud": null, "azp": AUDIENCE, "client_id": AUDIENCE}),
            "invalid audience",
        ),
        (json!({"iss": null, "issuer": ISSUER}), "invalid issuer"),
    ] {
        hostile_token(AUD_ISS, &app, &hits, &hs256(&claims_with(changes)), want).await;
    }
}

#[tokio::test]
async fn a_token_for_another_service_of_the_same_issuer_is_refused() {
    // Two APIs trust one issuer and key; each accepts only its audience.
    let api_a = router(builder().build().unwrap());
    let api_b = router(
        JwtAuth::<TestClaims>::builder()
            .hmac_secret(SECRET)
            .issuer(ISSUER)
            .audience("billing-api")
            .build()
            .unwrap(),
    );
    let for_b = hs256(&claims_with(json!({"aud": "billing-api"})));
    let for_a = valid_token();
    assert_ok(&api_b.0, &api_b.1, bearer(&for_b)).await;
    for (case, (app, hits), token) in [
        ("B's token at A", &api_a, &for_b),
        ("A's token at B", &api_b, &for_a),
    ] {
        hostile_case(AUD_ISS, case, app, hits, token, "invalid audience").await;
    }
}

// --- Multiple issuers ------------------------------------------------------------------------

const ISS_A: &str = "https://a.example";
const ISS_B: &str = "https://b.example";
const SECRET_A: &[u8] = b"issuer A's HMAC secret, which is sixty-four bytes long..........";

/// Issuer A: an HMAC secret (kid `shared`); issuer B: the RSA key (kid
/// `shared` too) and its own audience.
fn multi_app() -> (Router, Hits) {
    let a = StaticKeys::new([Key::hmac(SECRET_A).unwrap().with_kid("shared")]).unwrap();
    let b = StaticKeys::new([Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("shared")]).unwrap();
    router(
        JwtAuth::<TestClaims>::builder()
            .issuer_keys(ISS_A, a)
            .issuer_keys(ISS_B, b)
            .audience(AUDIENCE)
            .issuer_audience(ISS_B, "b-api")
            .build()
            .unwrap(),
    )
}

fn claims_for(iss: &str, aud: &str) -> Value {
    claims_with(json!({"iss": iss, "aud": aud}))
}

/// The controls of the multi-issuer app: A's key for A, B's key for B.
async fn assert_each_issuer_verifies_its_own(app: &Router, hits: &Hits) {
    let a_key = EncodingKey::from_secret(SECRET_A);
    assert_ok(
        app,
        hits,
        bearer(&sign(
            Algorithm::HS256,
            Some("shared"),
            &claims_for(ISS_A, AUDIENCE),
            &a_key,
        )),
    )
    .await;
    assert_ok(
        app,
        hits,
        bearer(&sign(
            Algorithm::RS256,
            Some("shared"),
            &claims_for(ISS_B, "b-api"),
            &rsa_signer(),
        )),
    )
    .await;
}

/// (case, alg, kid, claims, key, description)
type CrossIssuer = (
    &'static str,
    Algorithm,
    Option<&'static str>,
    Value,
    EncodingKey,
    &'static str,
);

/// Tokens signed by one issuer's key (or B's public key as an HMAC
/// secret, or our common secret) claiming another issuer: (case, alg, kid,
/// claims, key, description).
fn cross_issuer_tokens() -> Vec<CrossIssuer> {
    let a_key = || EncodingKey::from_secret(SECRET_A);
    let pem_key = || EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes());
    let (for_a, for_b) = (claims_for(ISS_A, AUDIENCE), claims_for(ISS_B, "b-api"));
    vec![
        // A's key signs a token claiming B: B's keys do not verify it.
        (
            "A's key claiming B, kid",
            Algorithm::HS256,
            Some("shared"),
            for_b.clone(),
            a_key(),
            "algorithm not allowed",
        ),
        (
            "A's key claiming B, no kid",
            Algorithm::HS256,
            None,
            for_b.clone(),
            a_key(),
            "algorithm not allowed",
        ),
        // B's key signs a token claiming A.
        (
            "B's key claiming A, kid",
            Algorithm::RS256,
            Some("shared"),
            for_a.clone(),
            rsa_signer(),
            "algorithm not allowed",
        ),
        (
            "B's key claiming A, no kid",
            Algorithm::RS256,
            None,
            for_a.clone(),
            rsa_signer(),
            "algorithm not allowed",
        ),
        // B's public key as an HMAC secret, claiming B (the confusion
        // attack across issuers) or A.
        (
            "B's public key as HMAC secret claiming B",
            Algorithm::HS256,
            Some("shared"),
            for_b,
            pem_key(),
            "algorithm not allowed",
        ),
        (
            "B's public key as HMAC secret claiming A",
            Algorithm::HS256,
            Some("shared"),
            for_a.clone(),
            pem_key(),
            "invalid signature",
        ),
        // Our common test secret (not A's) claiming A.
        (
            "the common test secret claiming A",
            Algorithm::HS256,
            None,
            for_a,
            hmac_signer(),
            "invalid signature",
        ),
    ]
}

#[tokio::test]
async fn one_issuers_keys_never_verify_a_token_claiming_another() {
    let (app, hits) = multi_app();
    assert_each_issuer_verifies_its_own(&app, &hits).await;
    for (case, alg, kid, claims, key, description) in cross_issuer_tokens() {
        let token = sign(alg, kid, &claims, &key);
        hostile_case(MULTI, case, &app, &hits, &token, description).await;
    }
}

#[tokio::test]
async fn the_issuer_route_is_chosen_by_the_exact_iss() {
    let (app, hits) = multi_app();
    let a_key = EncodingKey::from_secret(SECRET_A);
    for iss in [
        json!("https://c.example"),
        json!("https://a.example/"),
        json!("https://A.example"),
        json!(""),
        Value::Null,
    ] {
        let mut c = claims_for(ISS_A, AUDIENCE);
        c["iss"] = iss.clone();
        if iss.is_null() {
            c.as_object_mut().unwrap().remove("iss");
        }
        let token = sign(Algorithm::HS256, Some("shared"), &c, &a_key);
        hostile_token(MULTI, &app, &hits, &token, "invalid issuer").await;
    }
    // An iss of the wrong type cannot be routed at all.
    for iss in [r#"["https://a.example"]"#, "1", r#"{"a":1}"#] {
        let mut c = claims_for(ISS_A, AUDIENCE);
        c.as_object_mut().unwrap().remove("iss");
        let text = c.to_string();
        let payload = format!(r#"{},"iss":{iss}}}"#, text.strip_suffix('}').unwrap());
        let token = craft_signed(
            r#"{"alg":"HS256","kid":"shared"}"#,
            &payload,
            Algorithm::HS256,
            &a_key,
        );
        hostile_token(MULTI, &app, &hits, &token, "invalid claims").await;
    }
    // Two iss members: one to route, another to check.
    let payload = format!(
        r#"{{"sub":"alice","iss":"{ISS_A}","aud":"{AUDIENCE}","exp":{},"iss":"{ISS_B}"}}"#,
        now() + 300
    );
    let token = craft_signed(
        r#"{"alg":"HS256","kid":"shared"}"#,
        &payload,
        Algorithm::HS256,
        &a_key,
    );
    hostile_token(MULTI, &app, &hits, &token, "invalid claims").await;
}

#[tokio::test]
async fn each_issuer_accepts_only_its_audiences() {
    let (app, hits) = multi_app();
    let a_key = EncodingKey::from_secret(SECRET_A);
    // B's audience replaces the shared one for B, and is not A's.
    for (case, alg, claims, key) in [
        (
            "B with the shared audience",
            Algorithm::RS256,
            claims_for(ISS_B, AUDIENCE),
            rsa_signer(),
        ),
        (
            "A with B's audience",
            Algorithm::HS256,
            claims_for(ISS_A, "b-api"),
            a_key,
        ),
    ] {
        let token = sign(alg, Some("shared"), &claims, &key);
        hostile_case(MULTI, case, &app, &hits, &token, "invalid audience").await;
    }
}

// --- Scopes ------------------------------------------------------------------------------------------

#[tokio::test]
async fn scopes_that_only_look_right_are_refused() {
    let (app, hits) = router(builder().require_scope("admin").build().unwrap());
    let want = insufficient_scope("admin");
    for claim in [
        json!({}),
        json!({"scope": ""}),
        json!({"scope": "administrator"}),
        json!({"scope": "Admin"}),
        json!({"scope": "ADMIN"}),
        json!({"scope": "admin:read"}),
        json!({"scope": "read,admin"}),
        json!({"scope": "read\tadmin"}),
        json!({"scope": "read\nadmin"}),
        json!({"scope": "\"admin\""}),
        json!({"scope": "admin\u{0000}"}),
        json!({"scope": "аdmin"}),
        json!({"scp": []}),
        json!({"scp": ["administrator"]}),
        json!({"scp": ["read", "Admin"]}),
        json!({"scp": "read"}),
        json!({"scopes": ["admin"]}),
        json!({"roles": ["admin"]}),
        json!({"admin": true}),
    ] {
        let token = hs256(&claims_with(claim.clone()));
        let case = claim.to_string();
        let (status, expected) = (StatusCode::FORBIDDEN, Some(want.as_str()));
        hostile_request_case(SCOPE, &case, &app, &hits, bearer(&token), status, expected).await;
    }
    // A scope claim of the wrong type is an invalid token, not a 403.
    for (claim, value) in [
        ("scope", r#"["admin"]"#),
        ("scope", "1"),
        ("scp", "[1]"),
        ("scp", r#"{"admin":1}"#),
    ] {
        let token = craft(HS256, &raw_claim(claim, value));
        hostile_token(SCOPE, &app, &hits, &token, "invalid claims").await;
    }
    assert_eq!(hits.count(), 0);
    // The controls: each way of granting it.
    for claim in [
        json!({"scope": "admin"}),
        json!({"scope": "read admin write"}),
        json!({"scope": "  admin  "}),
        json!({"scp": ["read", "admin"]}),
        json!({"scp": "admin"}),
    ] {
        assert_ok(&app, &hits, bearer(&hs256(&claims_with(claim)))).await;
    }
}

#[tokio::test]
async fn an_scp_element_with_a_space_is_one_scope() {
    // RFC 6749 §3.3 scope tokens contain no spaces; `scp` is an array of
    // them. The element "read admin" is one (invalid) scope, never `admin`.
    let (app, hits) = router(builder().require_scope("admin").build().unwrap());
    let want = insufficient_scope("admin");
    for scp in [
        json!(["read admin"]),
        json!(["x admin"]),
        json!(["read admin", "write"]),
    ] {
        let token = hs256(&claims_with(json!({"scp": scp})));
        hostile(
            SCOPE,
            &app,
            &hits,
            bearer(&token),
            StatusCode::FORBIDDEN,
            Some(&want),
        )
        .await;
    }
}

#[tokio::test]
async fn every_required_scope_is_needed_and_authentication_comes_first() {
    let (app, hits) = router(
        builder()
            .require_scope("read")
            .require_scope("write")
            .build()
            .unwrap(),
    );
    let want = insufficient_scope("read write");
    for scope in ["read", "write", "readwrite", "read-write", "read_write"] {
        let token = hs256(&claims_with(json!({"scope": scope})));
        hostile(
            SCOPE,
            &app,
            &hits,
            bearer(&token),
            StatusCode::FORBIDDEN,
            Some(&want),
        )
        .await;
    }
    // A token with every scope but a bad signature or an expired exp is a
    // 401, never a 403 that would confirm the scopes.
    let scoped = claims_with(json!({"scope": "read write"}));
    let forged = sign(
        Algorithm::HS256,
        None,
        &scoped,
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    let mut expired = scoped.clone();
    expired["exp"] = json!(now() - 3600);
    let mut foreign = scoped;
    foreign["aud"] = json!("other");
    for (case, token, description) in [
        ("bad signature", forged, "invalid signature"),
        ("expired", hs256(&expired), "token expired"),
        ("another audience", hs256(&foreign), "invalid audience"),
    ] {
        hostile_case(SCOPE, case, &app, &hits, &token, description).await;
    }
}
