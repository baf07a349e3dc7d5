//! Hostile key servers, against the test kit's `JwksServer`: every failure
//! row of ARCHITECTURE.md, "The remote key set" that `tests/jwks_remote.rs` does not already cover —
//! key sets over the key limit, sets with no usable key, duplicate kids,
//! `oct` keys (which must never verify), weak RSA, encryption keys, keys off
//! their curve, 200 answers with the wrong content, the body limit exactly
//! at and one past its value, why endless and slowloris answers stop,
//! non-200 statuses, backoff, and hostile `Cache-Control` values.
#![cfg(feature = "test-util")]

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use common::*;
use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use jwt_layer::keys::{JwksError, JwksErrorKind, RemoteJwks};
use jwt_layer::testing::{Behavior, JwksServer};
use serde_json::{Value, json};

const CLASS: &str = "hostile-jwks";

fn rsa1024_jwk(kid: &str) -> String {
    jwk_json(
        &DecodingKey::from_rsa_pem(RSA1024_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
        Some(kid),
    )
}

/// `jwk` (JSON text) with `changes` applied (`null` removes a member).
fn edit(jwk: &str, changes: Value) -> String {
    let mut v: Value = serde_json::from_str(jwk).unwrap();
    merge(&mut v, changes);
    v.to_string()
}

/// A request that must get 503 with a `Retry-After` and no challenge.
async fn assert_unavailable(app: &Router, hits: &Hits, token: &str, what: &str) -> u64 {
    tally(CLASS);
    let before = hits.count();
    let res = send(app, bearer(token)).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    assert!(challenge(&res).is_none(), "{what}: a 503 has no challenge");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{what}");
    assert_eq!(hits.count(), before, "{what}: the handler ran");
    retry
}

/// Serves `body` first to a key set with nothing cached (503), then as a
/// refresh of a good set (the refresh fails, the good set stays). Returns
/// the refresh error.
async fn assert_failed_fetch(body: &str, what: &str) -> JwksError {
    let server = server_with(body).await;
    let keys = remote_with_shared_client(&server).build().unwrap();
    let (app, hits) = app_for(keys.clone());
    assert_unavailable(&app, &hits, &cached_rsa_token(), what).await;

    let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
    let keys = remote_with_shared_client(&server).build().unwrap();
    let (app, hits) = app_for(keys.clone());
    keys.prefetch().await.unwrap();
    server.set_jwks(body);
    tally(CLASS);
    let err = keys.refresh().await.expect_err(what);
    assert_eq!(
        keys.status().key_count,
        1,
        "{what}: the good set was replaced"
    );
    assert_ok(&app, &hits, bearer(&cached_rsa_token())).await;
    err
}

// --- Key count -----------------------------------------------------------------------

#[tokio::test]
async fn a_set_over_the_key_limit_is_refused_whole() {
    let keys: Vec<String> = (0..101).map(|i| ed_jwk(&format!("ed-{i}"))).collect();
    let err = assert_failed_fetch(&jwks_json(&keys), "101 keys").await;
    assert_eq!(err.kind(), JwksErrorKind::Malformed, "{err}");
    // 101 entries of which 100 are unusable count too: the limit is on the
    // document, before any key is parsed.
    let mut junk: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"kty":"junk","kid":"{i}"}}"#))
        .collect();
    junk.push(rsa_jwk("rsa"));
    let err = assert_failed_fetch(&jwks_json(&junk), "100 junk + 1").await;
    assert_eq!(err.kind(), JwksErrorKind::Malformed, "{err}");
    // 10 000 entries.
    let many = format!("{{\"keys\":[{}]}}", vec!["{}"; 10_000].join(","));
    assert_failed_fetch(&many, "10 000 entries").await;
}

#[tokio::test]
async fn exactly_the_key_limit_is_accepted_and_a_lower_limit_is_kept() {
    let keys: Vec<String> = (0..100).map(|i| ed_jwk(&format!("ed-{i}"))).collect();
    let server = server_with(jwks_json(&keys)).await;
    let jwks = remote_with_shared_client(&server).build().unwrap();
    jwks.prefetch().await.unwrap();
    assert_eq!(jwks.status().key_count, 100);
    let (app, hits) = app_for(jwks);
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::EdDSA, Some("ed-99"), &ed_signer())),
    )
    .await;

    let small = remote_with_shared_client(&server)
        .max_keys(3)
        .build()
        .unwrap();
    tally(CLASS);
    let err = small.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::Malformed, "{err}");
    let (app, hits) = app_for(small);
    assert_unavailable(
        &app,
        &hits,
        &token(Algorithm::EdDSA, Some("ed-0"), &ed_signer()),
        "max_keys 3",
    )
    .await;
}

// --- Unusable keys --------------------------------------------------------------------------

/// Keys a remote set may publish that must be skipped.
fn unusable_keys() -> Vec<(&'static str, String)> {
    let oct = format!(r#"{{"kty":"oct","kid":"oct","k":"{}"}}"#, b64(SECRET));
    let long_n = b64([0xffu8; 1100]);
    vec![
        ("oct", oct.clone()),
        ("oct with alg", edit(&oct, json!({"alg": "HS256", "use": "sig"}))),
        ("RSA 1024", rsa1024_jwk("weak")),
        ("RSA 8800 bits", format!(r#"{{"kty":"RSA","kid":"huge","n":"{long_n}","e":"AQAB"}}"#)),
        ("RSA even exponent", edit(&rsa_jwk("even"), json!({"e": "AQAA"}))),
        ("RSA empty exponent", edit(&rsa_jwk("e0"), json!({"e": ""}))),
        ("use enc", edit(&rsa_jwk("enc"), json!({"use": "enc"}))),
        ("use with other case", edit(&rsa_jwk("Sig"), json!({"use": "SIG"}))),
        ("key_ops encrypt", edit(&ed_jwk("ops"), json!({"key_ops": ["encrypt", "wrapKey"]}))),
        ("key_ops empty", edit(&ed_jwk("ops0"), json!({"key_ops": []}))),
        ("alg none", edit(&rsa_jwk("none"), json!({"alg": "none"}))),
        ("alg of another type", edit(&rsa_jwk("es"), json!({"alg": "ES256"}))),
        ("alg HS256 on RSA", edit(&rsa_jwk("hs"), json!({"alg": "HS256"}))),
        ("alg unknown", edit(&ed_jwk("x"), json!({"alg": "EdDSA2"}))),
        ("P-521", r#"{"kty":"EC","crv":"P-521","kid":"p521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#.to_owned()),
        ("secp256k1", edit(&ec_jwk("k1"), json!({"crv": "secp256k1"}))),
        ("X25519", edit(&ed_jwk("x25519"), json!({"crv": "X25519"}))),
        ("EC short x", edit(&ec_jwk("short"), json!({"x": "AAAA"}))),
        ("EC padded x", edit(&ec_jwk("pad"), json!({"x": format!("{}=", serde_json::from_str::<Value>(&ec_jwk("p")).unwrap()["x"].as_str().unwrap())}))),
        ("Ed25519 31 bytes", edit(&ed_jwk("ed31"), json!({"x": b64([1u8; 31])}))),
        ("bad base64", edit(&rsa_jwk("b64"), json!({"n": "!!!!"}))),
        ("standard base64", edit(&rsa_jwk("std"), json!({"n": "ab+/"}))),
        ("missing n", edit(&rsa_jwk("nonn"), json!({"n": null}))),
        ("kty missing", r#"{"kid":"nokty","n":"AQAB","e":"AQAB"}"#.to_owned()),
        ("kty not a string", r#"{"kty":5}"#.to_owned()),
        ("not an object", r#""RSA""#.to_owned()),
        ("null", "null".to_owned()),
        ("array", "[]".to_owned()),
    ]
}

#[tokio::test]
async fn a_set_whose_keys_are_all_unusable_is_a_failed_fetch() {
    let keys: Vec<String> = unusable_keys().into_iter().map(|(_, k)| k).collect();
    let err = assert_failed_fetch(&jwks_json(&keys), "all unusable").await;
    assert_eq!(err.kind(), JwksErrorKind::NoUsableKey, "{err}");
    // And each one alone.
    for (what, key) in unusable_keys() {
        let err = assert_failed_fetch(&jwks_json(&[key]), what).await;
        assert_eq!(err.kind(), JwksErrorKind::NoUsableKey, "{what}: {err}");
    }
}

#[tokio::test]
async fn unusable_keys_are_skipped_without_spoiling_the_set() {
    let mut keys: Vec<String> = unusable_keys().into_iter().map(|(_, k)| k).collect();
    keys.push(rsa_jwk("rsa"));
    keys.push(edit(
        &ed_jwk("ops-ok"),
        json!({"key_ops": ["sign", "verify"], "use": "sig"}),
    ));
    let server = server_with(jwks_json(&keys)).await;
    let jwks = remote_with_shared_client(&server).build().unwrap();
    jwks.prefetch().await.unwrap();
    assert_eq!(jwks.status().key_count, 2);
    let (app, hits) = app_for(jwks);
    assert_ok(&app, &hits, bearer(&cached_rsa_token())).await;
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::EdDSA, Some("ops-ok"), &ed_signer())),
    )
    .await;
    // Tokens naming a skipped key, signed by the key the entry describes
    // (the 1024-bit key's token is signed by the 2048-bit one: aws-lc-rs
    // refuses to sign with 1024 bits, and the kid alone decides here).
    for (kid, alg, key) in [
        ("weak", Algorithm::RS256, rsa_signer()),
        ("enc", Algorithm::RS256, rsa_signer()),
        ("Sig", Algorithm::RS256, rsa_signer()),
        ("ops", Algorithm::EdDSA, ed_signer()),
        ("none", Algorithm::RS256, rsa_signer()),
        ("es", Algorithm::RS256, rsa_signer()),
        ("oct", Algorithm::RS256, rsa_signer()),
    ] {
        hostile_token(
            CLASS,
            &app,
            &hits,
            &token(alg, Some(kid), &key),
            "unknown signing key",
        )
        .await;
    }
}

// --- oct keys -----------------------------------------------------------------------------------

/// An `oct` JWK (kid `oct`) holding [`SECRET`].
fn oct_jwk() -> String {
    format!(
        r#"{{"kty":"oct","kid":"oct","alg":"HS256","use":"sig","k":"{}"}}"#,
        b64(SECRET)
    )
}

#[tokio::test]
async fn an_hmac_key_from_a_remote_set_never_verifies() {
    let oct = oct_jwk();
    let server = server_with(jwks_json(&[oct.clone(), rsa_jwk("rsa")])).await;
    let jwks = remote_with_shared_client(&server).build().unwrap();
    jwks.prefetch().await.unwrap();
    let (app, hits) = app_for(jwks.clone());
    // The secret the set published, with its kid, without a kid, and under
    // every HMAC algorithm. A remote set never holds symmetric keys, so HMAC
    // tokens are refused before the lookup.
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        for kid in [Some("oct"), None, Some("rsa")] {
            let token = token(alg, kid, &hmac_signer());
            let case = format!("{alg:?}, kid {kid:?}");
            hostile_case(CLASS, &case, &app, &hits, &token, "algorithm not allowed").await;
        }
    }
    // The RSA key's public text as an HMAC secret.
    for secret in [
        RSA_PUBLIC_PEM.as_bytes(),
        RSA_PUBLIC_DER,
        rsa_jwk("rsa").as_bytes(),
    ] {
        let key = EncodingKey::from_secret(secret);
        hostile_token(
            CLASS,
            &app,
            &hits,
            &token(Algorithm::HS256, Some("rsa"), &key),
            "algorithm not allowed",
        )
        .await;
    }
    assert_eq!(jwks.status().key_count, 1);
}

/// A set of nothing but oct keys is no key set at all.
#[tokio::test]
async fn a_set_of_only_hmac_keys_is_no_key_set() {
    let server = server_with(jwks_json(&[oct_jwk()])).await;
    let (app, hits) = app_for(remote_with_shared_client(&server).build().unwrap());
    assert_unavailable(
        &app,
        &hits,
        &token(Algorithm::RS256, Some("oct"), &rsa_signer()),
        "only oct",
    )
    .await;
}

// --- Duplicate kids and bad points ------------------------------------------------------------------

#[tokio::test]
async fn duplicate_kids_make_that_kid_unusable() {
    let server = server_with(jwks_json(&[
        rsa_jwk("dup"),
        ed_jwk("dup"),
        ec_jwk("ok"),
        rsa_jwk("twice"),
        rsa_jwk("twice"),
    ]))
    .await;
    let jwks = remote_with_shared_client(&server).build().unwrap();
    let (app, hits) = app_for(jwks.clone());
    for (alg, kid, key) in [
        (Algorithm::RS256, "dup", rsa_signer()),
        (Algorithm::EdDSA, "dup", ed_signer()),
        (Algorithm::RS256, "twice", rsa_signer()),
    ] {
        hostile_token(
            CLASS,
            &app,
            &hits,
            &token(alg, Some(kid), &key),
            "unknown signing key",
        )
        .await;
    }
    // Without a kid, two RSA keys fit RS256: ambiguous, never the first.
    hostile_token(
        CLASS,
        &app,
        &hits,
        &token(Algorithm::RS256, None, &rsa_signer()),
        "unknown signing key",
    )
    .await;
    assert_ok(
        &app,
        &hits,
        bearer(&token(Algorithm::ES256, Some("ok"), &ec256_signer())),
    )
    .await;
    let fetches = server.request_count();
    assert!(fetches <= 2, "{fetches} fetches");
}

#[tokio::test]
async fn an_ec_key_off_its_curve_verifies_nothing() {
    let good: Value = serde_json::from_str(&ec_jwk("p256")).unwrap();
    let x = good["x"].as_str().unwrap().to_owned();
    let mut y = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        good["y"].as_str().unwrap(),
    )
    .unwrap();
    y[31] ^= 1;
    let bad_points = [
        edit(&ec_jwk("p256"), json!({"y": b64(&y)})),
        edit(&ec_jwk("p256"), json!({"y": x})),
        edit(
            &ec_jwk("p256"),
            json!({"x": b64([0u8; 32]), "y": b64([0u8; 32])}),
        ),
        edit(
            &ec_jwk("p256"),
            json!({"x": b64([0xffu8; 32]), "y": b64([0xffu8; 32])}),
        ),
    ];
    for point in bad_points {
        let server = server_with(jwks_json(&[point, rsa_jwk("rsa")])).await;
        let (app, hits) = app_for(remote_with_shared_client(&server).build().unwrap());
        let res = send(
            &app,
            bearer(&token(Algorithm::ES256, Some("p256"), &ec256_signer())),
        )
        .await;
        tally(CLASS);
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let got = challenge(&res).unwrap().to_owned();
        assert!(
            got == invalid_token("invalid signature")
                || got == invalid_token("unknown signing key"),
            "{got}"
        );
        assert_eq!(hits.count(), 0);
        assert_ok(&app, &hits, bearer(&cached_rsa_token())).await;
    }
}

// --- Wrong content ------------------------------------------------------------------------------

#[tokio::test]
async fn a_200_with_the_wrong_content_is_a_failed_fetch() {
    let rsa = rsa_jwk("rsa");
    let discovery = json!({"issuer": ISSUER, "jwks_uri": "https://auth.example/jwks"}).to_string();
    for (what, body) in [
        ("empty", String::new()),
        ("blank", "   \r\n".to_owned()),
        ("html", "<html><body>Welcome</body></html>".to_owned()),
        ("null", "null".to_owned()),
        ("a number", "42".to_owned()),
        ("a string", r#""keys""#.to_owned()),
        ("an array of keys", format!("[{rsa}]")),
        ("a single JWK", rsa.clone()),
        ("keys not an array", format!(r#"{{"keys":{rsa}}}"#)),
        ("keys null", r#"{"keys":null}"#.to_owned()),
        ("keys a string", r#"{"keys":"rsa"}"#.to_owned()),
        ("no keys member", r#"{"key":[]}"#.to_owned()),
        ("an OpenID configuration", discovery),
        (
            "two keys members",
            format!(r#"{{"keys":[{rsa}],"keys":[]}}"#),
        ),
        (
            "trailing garbage",
            format!(r#"{{"keys":[{rsa}]}} trailing"#),
        ),
        (
            "two documents",
            format!(r#"{{"keys":[{rsa}]}}{{"keys":[]}}"#),
        ),
        ("truncated", format!(r#"{{"keys":[{rsa}"#)),
        ("byte order mark", format!("\u{feff}{{\"keys\":[{rsa}]}}")),
        ("JSONP", format!("callback({{\"keys\":[{rsa}]}})")),
        ("an empty set", r#"{"keys":[]}"#.to_owned()),
    ] {
        assert_failed_fetch(&body, what).await;
    }
}

// --- Body limit ------------------------------------------------------------------------------------

#[tokio::test]
async fn max_body_exactly_at_the_limit_is_read_and_one_past_is_refused() {
    let body = jwks_json(&[rsa_jwk("rsa"), ed_jwk("ed")]);
    let len = body.len();
    let server = server_with(body).await;
    // Exactly at the limit.
    let at = remote_with_shared_client(&server)
        .max_body(len)
        .build()
        .unwrap();
    at.prefetch().await.unwrap();
    assert_eq!(at.status().key_count, 2);
    // One past it (the server announces the length).
    let under = remote_with_shared_client(&server)
        .max_body(len - 1)
        .build()
        .unwrap();
    tally(CLASS);
    let err = under.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::TooLarge, "{err}");
    let (app, hits) = app_for(under);
    assert_unavailable(&app, &hits, &cached_rsa_token(), "one past").await;

    // A body of exactly the limit is read to its end (here: not JSON), one
    // byte more is refused for its size.
    server.set_behavior(Behavior::Huge(4096));
    let at = remote_with_shared_client(&server)
        .max_body(4096)
        .build()
        .unwrap();
    tally(CLASS);
    let err = at.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::Malformed, "{err}");
    server.set_behavior(Behavior::Huge(4097));
    tally(CLASS);
    let err = at.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::TooLarge, "{err}");
}

#[tokio::test]
async fn an_endless_body_stops_at_the_limit_and_a_slowloris_at_the_deadline() {
    // Endless: no Content-Length, bytes forever. Reading stops at max_body,
    // well before the deadline: memory is bounded by the limit.
    let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
    server.set_behavior(Behavior::Endless);
    let jwks = RemoteJwks::builder(server.url())
        .timeout(Duration::from_secs(5))
        .max_body(64 * 1024)
        .build()
        .unwrap();
    let started = Instant::now();
    tally(CLASS);
    let err = jwks.prefetch().await.unwrap_err();
    assert_eq!(err.kind(), JwksErrorKind::TooLarge, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Slowloris: a head that never ends, one byte at a time. Only the
    // deadline stops it, and it does.
    server.set_behavior(Behavior::Slowloris);
    let jwks = RemoteJwks::builder(server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    tally(CLASS);
    let err = jwks.prefetch().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), JwksErrorKind::Timeout, "{err}");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    let (app, hits) = app_for(jwks);
    assert_unavailable(&app, &hits, &cached_rsa_token(), "slowloris").await;
}

// --- Statuses, redirects, backoff -----------------------------------------------------------------

#[tokio::test]
async fn any_status_but_200_is_a_failed_fetch() {
    for code in [201, 204, 206, 301, 304, 401, 403, 404, 429, 502, 503] {
        let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
        server.set_behavior(Behavior::Status(code));
        let (app, hits) = app_for(remote_with_shared_client(&server).build().unwrap());
        assert_unavailable(&app, &hits, &cached_rsa_token(), &format!("status {code}")).await;
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_even_to_a_good_set_on_the_same_host() {
    for default_client in [false, true] {
        for relative in [false, true] {
            // A fresh server per case, and a long backoff, so that no
            // background retry adds to the count.
            let server = JwksServer::start().await.unwrap();
            server.set_document(
                "/real.json",
                "application/json",
                jwks_json(&[rsa_jwk("rsa")]),
            );
            let location = if relative {
                "/real.json".to_owned()
            } else {
                server.url_for("/real.json")
            };
            server.set_behavior(Behavior::Redirect(location.clone()));
            let builder = if default_client {
                RemoteJwks::builder(server.url())
            } else {
                remote_with_shared_client(&server)
            };
            let jwks = builder
                .backoff(Duration::from_secs(30), Duration::from_secs(60))
                .build()
                .unwrap();
            let (app, hits) = app_for(jwks);
            assert_unavailable(&app, &hits, &cached_rsa_token(), &location).await;
            assert_eq!(
                server.total_requests(),
                1,
                "{location} (default client: {default_client}): the redirect was followed"
            );
        }
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_whatever_the_client() {
    // `RemoteJwksBuilder::client` says the client's redirect policy does not
    // matter: an answer from another URL than the configured one is a failed
    // fetch, even when the user's client followed a redirect to a 200.
    let server = JwksServer::start().await.unwrap();
    server.set_document(
        "/real.json",
        "application/json",
        jwks_json(&[rsa_jwk("rsa")]),
    );
    server.set_behavior(Behavior::Redirect(server.url_for("/real.json")));
    let jwks = RemoteJwks::builder(server.url())
        .client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    let (app, hits) = app_for(jwks);
    // The user's client follows the redirect itself (its policy is its
    // own), but the answer came from another URL and is refused.
    assert_unavailable(&app, &hits, &cached_rsa_token(), "redirecting client").await;
}

#[tokio::test]
async fn failed_fetches_back_off_instead_of_hammering_the_server() {
    let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
    server.set_behavior(Behavior::Status(500));
    let jwks = RemoteJwks::builder(server.url())
        .timeout(Duration::from_millis(500))
        .backoff(Duration::from_secs(30), Duration::from_secs(60))
        .build()
        .unwrap();
    let (app, hits) = app_for(jwks);
    let token = cached_rsa_token();
    let first = assert_unavailable(&app, &hits, &token, "first").await;
    assert!((29..=30).contains(&first), "Retry-After {first}");
    // Within the backoff: answered at once, no new fetch, even once the
    // server is healthy again, and whatever the kid.
    server.set_behavior(Behavior::Normal);
    for kid in ["rsa", "other", "third"] {
        let t = sign(Algorithm::RS256, Some(kid), &claims(), &rsa_signer());
        let retry = assert_unavailable(&app, &hits, &t, "during backoff").await;
        assert!((1..=30).contains(&retry), "Retry-After {retry}");
    }
    assert_eq!(server.request_count(), 1);
}

// --- Cache-Control ---------------------------------------------------------------------------------

#[tokio::test]
async fn hostile_cache_control_values_are_clamped() {
    let minute = Duration::from_secs(60);
    let day = Duration::from_secs(24 * 3600);
    let default = Duration::from_secs(600);
    for (cache_control, age, want) in [
        (Some("max-age=0"), None, minute),
        (Some("no-store"), None, minute),
        (Some("no-cache, max-age=86400"), None, minute),
        (Some("max-age=1"), None, minute),
        (Some("max-age=99999999999999999999"), None, default),
        (Some("max-age=31536000"), None, day),
        (Some("max-age=-5"), None, default),
        (Some("max-age=1e9"), None, default),
        (
            Some("max-age=300, max-age=31536000"),
            None,
            Duration::from_secs(300),
        ),
        (Some("max-age=600"), Some(u64::MAX), minute),
        (Some("max-age=600"), Some(599), minute),
        (
            Some("private, max-age=\"120\""),
            None,
            Duration::from_secs(120),
        ),
        (Some("garbage;;;==="), None, default),
    ] {
        let server = server_with(jwks_json(&[rsa_jwk("rsa")])).await;
        server.set_cache_control(cache_control);
        server.set_age(age);
        let jwks = remote_with_shared_client(&server).build().unwrap();
        jwks.prefetch().await.unwrap();
        tally(CLASS);
        assert_eq!(
            jwks.status().lifetime,
            Some(want),
            "{cache_control:?} age {age:?}"
        );
    }
}
