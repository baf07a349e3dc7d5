//! DPoP (RFC 9449) through the layer: bound tokens never pass as bearer
//! tokens; proofs checked for their method, URL, time, replay, key and
//! token; each refusal with its exact status and challenge.

mod common;

use common::*;
use serde_json::json;

/// A token bound to a DPoP key (`cnf.jkt`).
fn bound_claims(jkt: &str) -> serde_json::Value {
    claims_with(json!({"cnf": {"jkt": jkt}}))
}

#[tokio::test]
async fn a_bound_token_presented_as_bearer_is_refused() {
    let (app, hits) = router(builder().build().unwrap());
    let token = hs256(&bound_claims("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"));
    assert_invalid_token(&app, &hits, bearer(&token), "token bound to a DPoP key").await;
    // Other `cnf` members (mTLS `x5t#S256`) do not bind to DPoP.
    let mtls = hs256(&claims_with(json!({"cnf": {"x5t#S256": "abc"}})));
    assert_ok(&app, &hits, bearer(&mtls)).await;
    // A `cnf.jkt` that is not a string is malformed claims.
    let bad = hs256(&claims_with(json!({"cnf": {"jkt": 7}})));
    assert_invalid_token(&app, &hits, bearer(&bad), "invalid claims").await;
    // The explicit opt-out, for a migration.
    let (lenient, lenient_hits) =
        router(builder().accept_bound_tokens_as_bearer().build().unwrap());
    assert_ok(&lenient, &lenient_hits, bearer(&token)).await;
}
