//! Arbitrary header and payload bytes under a *valid* HMAC signature: only
//! the layer's own header and claim rules stand between the input and the
//! handler. The input is `header 0xFF payload`; the first byte picks the
//! HMAC algorithm.
//!
//! Invariants: no panic; an error is a 401; a token that passes carries a
//! header the rules allow (no `crit`, `enc`, `b64`, `zip`; `alg` HS*) and
//! claims that are in date on the fixed clock with our issuer and audience.
#![no_main]

use jsonwebtoken::Algorithm;
use jwt_layer_fuzz::{AUDIENCE, AUTH, ISSUER, NOW, SECRET, check_verify, hmac_token};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let alg = match first % 3 {
        0 => Algorithm::HS256,
        1 => Algorithm::HS384,
        _ => Algorithm::HS512,
    };
    let (header, payload) = match rest.iter().position(|&b| b == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b"{}"[..]),
    };
    let token = hmac_token(header, payload, alg, SECRET);
    let Ok(claims) = check_verify(&AUTH, &token) else {
        return;
    };
    // It passed: re-check the rules independently. Header and payload
    // must be UTF-8 (the finding `non_utf8_*` in tests/attacks_encoding.rs,
    // fixed).
    assert!(
        std::str::from_utf8(header).is_ok() && std::str::from_utf8(payload).is_ok(),
        "accepted a header or payload that is not UTF-8"
    );
    let header: Value = serde_json::from_slice(header).expect("accepted header is JSON");
    let header = header.as_object().expect("accepted header is an object");
    for refused in ["crit", "enc", "b64", "zip"] {
        assert!(
            !header.contains_key(refused),
            "accepted a `{refused}` header"
        );
    }
    let alg_name = header["alg"].as_str().expect("alg is a string");
    assert!(
        alg_name.starts_with("HS"),
        "alg {alg_name} accepted for an HMAC key"
    );
    let exp = claims["exp"].as_f64().expect("exp is a number");
    assert!(exp + 60.0 > NOW as f64, "expired token accepted: exp {exp}");
    if let Some(nbf) = claims.get("nbf") {
        assert!(nbf.as_f64().expect("nbf is a number") <= NOW as f64 + 60.0);
    }
    assert_eq!(claims["iss"], ISSUER);
    let aud_ok = match &claims["aud"] {
        Value::String(s) => s == AUDIENCE,
        Value::Array(a) => a.iter().any(|v| v == AUDIENCE),
        _ => false,
    };
    assert!(aud_ok, "wrong audience accepted: {}", claims["aud"]);
});
