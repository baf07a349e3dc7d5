//! Arbitrary bytes as an X.509 certificate, through every path that reads
//! one: `Key::from_certificate_der`, `Key::from_certificate_pem` (the
//! bytes as PEM text, and base64-wrapped in PEM armour), a JWK whose only
//! key member is `x5c` (for each `kty`), a JWK whose `x5c` must agree with
//! the `n`/`e` of a real RSA key, and a one-entry certificate map served
//! to a `RemoteJwks` is covered by `remote_jwks` (format detection).
//! Nothing may panic; a certificate whose key disagrees with the JWK's
//! members never yields a key.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jwt_layer::Key;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// The committed 2048-bit RSA test key's members.
const RSA_N: &str = include_str!("../../tests/data/rsa-public.jwk.json");

fuzz_target!(|data: &[u8]| {
    let _ = Key::from_certificate_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Key::from_certificate_pem(text);
    }
    let encoded = STANDARD.encode(data);
    // PEM lines of 64 characters (RFC 7468).
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let armoured = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let from_pem = Key::from_certificate_pem(&armoured);
    let from_der = Key::from_certificate_der(data);
    assert_eq!(from_pem.is_ok(), from_der.is_ok(), "PEM and DER disagree");
    for kty in ["RSA", "EC", "OKP"] {
        let jwk = json!({"kty": kty, "x5c": [encoded, "AAAA"]}).to_string();
        let _ = Key::from_jwk(&jwk);
    }
    let mut rsa: serde_json::Value = serde_json::from_str(RSA_N).expect("the committed JWK");
    rsa["x5c"] = json!([encoded]);
    if let Ok(key) = Key::from_jwk(&rsa.to_string()) {
        // Only a certificate of the committed key itself may agree.
        assert!(from_der.is_ok(), "an x5c that is no certificate gave {key:?}");
    }
});
