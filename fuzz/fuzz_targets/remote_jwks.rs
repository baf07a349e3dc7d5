//! Arbitrary JWK Set documents served over loopback HTTP by the test kit's
//! `JwksServer` to one `RemoteJwks`: the remote parse path (symmetric keys
//! refused, key count and body limits) and the cache that keeps the last
//! good set. After each fetch, HMAC tokens signed with a secret the
//! document may well carry as an `oct` key must never verify, and every
//! rejection is a 401 (or a 503 while no good set was ever fetched).
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jwt_layer::keys::RemoteJwks;
use jwt_layer::testing::JwksServer;
use jwt_layer::{Clock, JwtAuth};
use jwt_layer_fuzz::{RUNTIME, hmac_token};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The secret of the `oct` key in the seed corpus (kid `oct`).
const OCT_SECRET: &[u8] = b"an oct key a hostile key server publishes, 64 bytes long........";

struct Remote {
    server: JwksServer,
    auth: JwtAuth<Value>,
    keys: RemoteJwks,
}

static REMOTE: LazyLock<Remote> = LazyLock::new(|| {
    RUNTIME.block_on(async {
        let server = JwksServer::start().await.expect("JWKS server");
        let keys = RemoteJwks::builder(server.url())
            .timeout(Duration::from_secs(2))
            .max_body(64 * 1024)
            .build()
            .expect("remote key set");
        let auth = JwtAuth::<Value>::builder()
            .key_source(keys.clone())
            .allow_any_issuer_and_audience()
            .clock(Clock::fixed(1_700_000_000))
            .token_cache(false)
            .build()
            .expect("layer");
        Remote { server, auth, keys }
    })
});

static OCT_TOKENS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let payload = br#"{"exp":1700000300}"#;
    [
        r#"{"alg":"HS256","kid":"oct"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"HS512","kid":"oct"}"#,
    ]
    .iter()
    .map(|h| {
        let alg = if h.contains("HS512") {
            Algorithm::HS512
        } else {
            Algorithm::HS256
        };
        hmac_token(h.as_bytes(), payload, alg, OCT_SECRET)
    })
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let remote = &*REMOTE;
    remote.server.set_jwks(text.to_owned());
    let keys = remote.keys.clone();
    let _ = RUNTIME.block_on(async move { keys.refresh().await });
    let status = remote.keys.status();
    assert!(status.key_count <= 100, "{} keys kept", status.key_count);
    for token in OCT_TOKENS.iter() {
        let verifier = remote.auth.verifier().clone();
        match RUNTIME.block_on(async move { verifier.verify(token).await }) {
            Ok(claims) => panic!(
                "an HMAC key from a remote set verified a token: {:?}",
                claims.claims()
            ),
            Err(e) if e.status() == http::StatusCode::UNAUTHORIZED => {}
            Err(e) if e.status() == http::StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(status.key_count, 0, "503 while keys are cached");
            }
            Err(e) => panic!("unexpected {:?}", e.kind()),
        }
    }
});
