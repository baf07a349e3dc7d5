//! `resource_server`'s `GET /metrics` (built with the `metrics` feature):
//! after a known mix of good and bad requests, the counts are exact.
#![cfg(all(
    feature = "test-util",
    feature = "axum",
    feature = "tracing",
    feature = "metrics"
))]

mod common;

use std::collections::BTreeMap;

use common::process::{Server, get};
use common::*;
use jsonwebtoken::Algorithm;
use jwt_layer::testing::{Behavior, JwksServer};
use serde_json::{Value, json};

fn token(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rs-1"), claims, &rsa_signer())
}

async fn start(behavior: Behavior) -> (JwksServer, Server) {
    let keys = JwksServer::start().await.unwrap();
    keys.set_jwks(jwks_json(&[rsa_jwk("rs-1")]));
    keys.set_behavior(behavior);
    let server = Server::start(
        "resource_server",
        &[
            ("JWT_JWKS_URL", keys.url()),
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ],
    );
    (keys, server)
}

/// The samples of `/metrics`, `name{labels}` → value; no line may be
/// malformed.
async fn scrape(client: &reqwest::Client, server: &Server) -> BTreeMap<String, f64> {
    let res = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("`series value`");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

fn count(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_each_outcome_exactly() {
    let (_keys, server) = start(Behavior::Normal).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);

    let good = token(&claims());
    let admin = token(&claims_with(json!({"scope": "admin"})));
    let expired = token(&claims_with(json!({"exp": now() - 3600})));
    let wrong_aud = token(&claims_with(json!({"aud": "someone-else"})));
    for (path, token, status) in [
        ("/me", Some(good.as_str()), 200),
        ("/me", Some(good.as_str()), 200),
        ("/me", Some(good.as_str()), 200),
        ("/admin", Some(admin.as_str()), 200),
        ("/admin", Some(good.as_str()), 403),
        ("/me", None, 401),
        ("/me", Some(expired.as_str()), 401),
        ("/me", Some(wrong_aud.as_str()), 401),
        ("/me", Some("a b"), 400),
        ("/optional", None, 200),
        ("/health", None, 200),
    ] {
        assert_eq!(get(&client, url(path), token).await.0, status, "{path}");
    }

    let samples = scrape(&client, &server).await;
    let requests = |outcome: &str| {
        count(
            &samples,
            &format!("jwt_layer_requests_total{{outcome=\"{outcome}\"}}"),
        )
    };
    // /admin without the scope passed the layer, then Authorize refused it.
    assert_eq!(requests("accepted"), 5.0);
    assert_eq!(requests("missing_token"), 1.0);
    assert_eq!(requests("invalid_token"), 2.0);
    assert_eq!(requests("invalid_request"), 1.0);
    assert_eq!(count(&samples, "jwt_layer_anonymous_requests_total"), 1.0);
    // Registered, and zero: no layer-level scope rule, no outage.
    for outcome in ["insufficient_scope", "unavailable"] {
        let series = format!("jwt_layer_requests_total{{outcome=\"{outcome}\"}}");
        assert_eq!(samples.get(&series), Some(&0.0), "{series}");
    }
    // Only the outcomes of the contract.
    for series in samples
        .keys()
        .filter(|k| k.starts_with("jwt_layer_requests_total{"))
    {
        let ok = [
            "accepted",
            "missing_token",
            "invalid_request",
            "invalid_token",
            "insufficient_scope",
            "unavailable",
        ]
        .iter()
        .any(|o| *series == format!("jwt_layer_requests_total{{outcome=\"{o}\"}}"));
        assert!(ok, "{series}");
    }
    let rejections = |kind: &str| {
        count(
            &samples,
            &format!("jwt_layer_rejections_total{{kind=\"{kind}\"}}"),
        )
    };
    assert_eq!(rejections("expired"), 1.0);
    assert_eq!(rejections("invalid_audience"), 1.0);
    assert_eq!(rejections("insufficient_scope"), 1.0);
    assert_eq!(rejections("missing_token"), 1.0);
    assert_eq!(rejections("invalid_request"), 1.0);
    // The token cache: `good` three times on /me and once on /admin is a
    // miss (seen), a miss (stored), then two hits; the three other tokens
    // that reach it miss.
    assert_eq!(count(&samples, "jwt_layer_token_cache_hits_total"), 2.0);
    assert_eq!(count(&samples, "jwt_layer_token_cache_misses_total"), 5.0);
    // One token was stored; the entry count is moka's own, which it
    // updates lazily: 0 or 1, never more.
    let entries = samples["jwt_layer_token_cache_entries"];
    assert!(entries == 0.0 || entries == 1.0, "{entries} entries");
    // The key set, labelled by its URL.
    let source = format!("source=\"{}\"", server_keys_label(&samples));
    assert_eq!(
        count(
            &samples,
            &format!("jwt_layer_key_set_fetches_total{{{source},result=\"ok\"}}")
        ),
        1.0
    );
    assert_eq!(
        count(&samples, &format!("jwt_layer_key_set_keys{{{source}}}")),
        1.0
    );
    assert_eq!(
        samples.get(&format!("jwt_layer_key_set_stale{{{source}}}")),
        Some(&0.0)
    );
    let last = count(
        &samples,
        &format!("jwt_layer_key_set_last_success_timestamp_seconds{{{source}}}"),
    );
    assert!((last - now() as f64).abs() < 120.0, "{last}");
}

/// The `source` label of the one key set.
fn server_keys_label(samples: &BTreeMap<String, f64>) -> String {
    let series = samples
        .keys()
        .find(|k| k.starts_with("jwt_layer_key_set_keys{"))
        .expect("a key set gauge");
    let label = series
        .strip_prefix("jwt_layer_key_set_keys{source=\"")
        .and_then(|s| s.strip_suffix("\"}"))
        .expect("one source label");
    assert!(label.starts_with("http://127.0.0.1:"), "{label}");
    label.to_owned()
}

#[tokio::test]
async fn metrics_count_unavailable_and_failed_fetches() {
    let (_keys, server) = start(Behavior::Status(500)).await;
    let client = reqwest::Client::new();
    let (status, ..) = get(
        &client,
        format!("{}/me", server.base),
        Some(&token(&claims())),
    )
    .await;
    assert_eq!(status, 503);
    let samples = scrape(&client, &server).await;
    assert_eq!(
        count(
            &samples,
            "jwt_layer_requests_total{outcome=\"unavailable\"}"
        ),
        1.0
    );
    assert_eq!(
        count(
            &samples,
            "jwt_layer_rejections_total{kind=\"keys_unavailable\"}"
        ),
        1.0
    );
    let failed: f64 = samples
        .iter()
        .filter(|(k, _)| {
            k.starts_with("jwt_layer_key_set_fetches_total{") && k.contains("result=\"error\"")
        })
        .map(|(_, v)| v)
        .sum();
    assert!(failed >= 1.0, "{samples:?}");
}
