//! Arbitrary JWK Set (and JWK) documents through the in-memory parsers:
//! `StaticKeys::from_jwks_json`, `Key::from_jwk`, `issue::jwk_thumbprint`.
//! Every key that parses is then used: a layer is built on the set and, for
//! each key and each algorithm it allows, a token naming the key's `kid`
//! with a garbage signature is verified (exercising the key's preparation
//! for that algorithm). Nothing may panic and no garbage may verify.
#![no_main]

use jwt_layer::{AuthErrorKind, Clock, JwtAuth, Key, StaticKeys};
use jwt_layer_fuzz::{b64, check_verify};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fn signature_len(alg: jwt_layer::Algorithm) -> usize {
    use jwt_layer::Algorithm::*;
    match alg {
        HS256 | ES256 | EdDSA => 64,
        HS384 | ES384 => 96,
        _ => 256,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Key::from_jwk(text);
    let _ = jwt_layer::issue::jwk_thumbprint(text);
    let Ok(keys) = StaticKeys::from_jwks_json(text) else {
        return;
    };
    let count = keys.keys().count();
    assert!((1..=100).contains(&count), "{count} keys");
    let probes: Vec<(Option<String>, jwt_layer::Algorithm)> = keys
        .keys()
        .flat_map(|k| {
            let kid = k.kid().map(str::to_owned);
            k.algorithms().iter().map(move |a| (kid.clone(), a))
        })
        .collect();
    let auth = JwtAuth::<Value>::builder()
        .key_source(keys)
        .allow_any_issuer_and_audience()
        .clock(Clock::fixed(1_700_000_000))
        .build()
        .expect("a layer on a parsed key set");
    let payload = b64(json!({"exp": 1_700_000_300u64}).to_string());
    for (kid, alg) in probes {
        let mut header = json!({"alg": format!("{alg:?}")});
        if let Some(kid) = kid {
            header["kid"] = Value::String(kid);
        }
        for fill in [0u8, 0xff, 0x5a] {
            let signature = b64(vec![fill; signature_len(alg)]);
            let token = format!("{}.{payload}.{signature}", b64(header.to_string()));
            match check_verify(&auth, &token) {
                Ok(claims) => panic!("a garbage signature verified under {alg:?}: {claims}"),
                Err(
                    AuthErrorKind::InvalidSignature
                    | AuthErrorKind::UnknownKey
                    | AuthErrorKind::TokenTooLarge
                    | AuthErrorKind::AlgorithmNotAllowed,
                ) => {}
                Err(other) => panic!("unexpected {other:?} for a probe token"),
            }
        }
    }
});
