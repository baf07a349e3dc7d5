//! Arbitrary bytes as a token: through the verifier (when UTF-8) and through
//! the layer as `Authorization: Bearer <bytes>` and as the whole header
//! value. Keys are static (HMAC, RSA, P-256, P-384, Ed25519), so a forged
//! token can never verify: any 200 would be an authentication bypass.
#![no_main]

use http::HeaderValue;
use http::StatusCode;
use jwt_layer_fuzz::{AUTH, check_authorization, check_verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        // Seeds are never valid tokens (the clock is fixed, the seeds are
        // not signed), so nothing may verify.
        if let Ok(claims) = check_verify(&AUTH, token) {
            panic!("a fuzzed token verified: {claims}");
        }
    }
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(data);
    if let Ok(v) = HeaderValue::from_bytes(&value) {
        assert_ne!(check_authorization(v), StatusCode::OK, "bearer bypass");
    }
    if let Ok(v) = HeaderValue::from_bytes(data) {
        assert_ne!(check_authorization(v), StatusCode::OK, "raw header bypass");
    }
});
