//! DPoP (RFC 9449) through the layer: bound tokens never pass as bearer
//! tokens; proofs checked for their method, URL, time, replay, key and
//! token; each refusal with its exact status and challenge.
#![cfg(feature = "test-util")]

mod common;

use axum::Router;
use axum::body::Body;
use common::*;
use http::header::{AUTHORIZATION, HOST};
use http::{Request, StatusCode};
use jsonwebtoken::Algorithm;
use jwt_layer::dpop::{Dpop, DpopMode};
use jwt_layer::issue::SigningKey;
use jwt_layer::testing::{DpopClient, TestKey};
use serde_json::{Value, json};

const ORIGIN: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/";
/// The DPoP challenge prefix for the algorithms the tests allow.
const DPOP: &str = r#"Bearer realm="api", DPoP algs="ES256 EdDSA""#;

/// A token bound to a DPoP key (`cnf.jkt`).
fn bound_claims(jkt: &str) -> Value {
    claims_with(json!({"cnf": {"jkt": jkt}}))
}

fn client() -> DpopClient {
    DpopClient::new(TestKey::new(
        SigningKey::from_pem(EC256_PRIVATE_PEM).unwrap(),
    ))
}

fn other_client() -> DpopClient {
    DpopClient::new(TestKey::new(SigningKey::from_pem(ED_PRIVATE_PEM).unwrap()))
}

fn app(mode: DpopMode) -> (Router, Hits) {
    let dpop = Dpop::new()
        .mode(mode)
        .algorithms([Algorithm::ES256, Algorithm::EdDSA])
        .public_origin(ORIGIN);
    router(builder().dpop(dpop).build().unwrap())
}

/// `GET /` with `Authorization: DPoP <token>` and the given proofs.
fn dpop_request(token: &str, proofs: &[&str]) -> Request<Body> {
    let mut req = Request::get("/")
        .header(HOST, "internal:8080")
        .header(AUTHORIZATION, format!("DPoP {token}"));
    for proof in proofs {
        req = req.header("dpop", *proof);
    }
    req.body(Body::empty()).unwrap()
}

fn dpop_challenge(error: &str, description: &str) -> String {
    format!(r#"{DPOP}, error="{error}", error_description="{description}""#)
}

async fn assert_bad_proof(case: &str, app: &Router, hits: &Hits, req: Request<Body>) {
    let want = dpop_challenge("invalid_dpop_proof", "invalid DPoP proof");
    assert_rejected_case(case, app, hits, req, StatusCode::UNAUTHORIZED, Some(&want)).await;
}

#[tokio::test]
async fn a_good_proof_passes_and_every_broken_one_is_refused() {
    let (app, hits) = app(DpopMode::Allowed);
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    let proof = client.proof("GET", URL, &token).unwrap();
    assert_ok(&app, &hits, dpop_request(&token, &[&proof])).await;
    // The same proof again: a replay.
    assert_bad_proof("replayed jti", &app, &hits, dpop_request(&token, &[&proof])).await;

    let claims = || client.claims("GET", URL, &token);
    let with = |changes: Value| {
        let mut c = claims();
        merge(&mut c, changes);
        client.proof_with(&client.header(), &c).unwrap()
    };
    let now = now();
    for (case, proof) in [
        ("wrong htm", with(json!({"htm": "POST"}))),
        (
            "wrong htu path",
            with(json!({"htu": "https://api.example.com/other"})),
        ),
        (
            "wrong htu host",
            with(json!({"htu": "https://evil.example/"})),
        ),
        (
            "htu of the internal host",
            with(json!({"htu": "http://internal:8080/"})),
        ),
        ("stale iat", with(json!({"iat": now - 120}))),
        ("future iat", with(json!({"iat": now + 120}))),
        ("proof for another token", with(json!({"ath": "AAAA"}))),
        ("no ath", with(json!({"ath": null}))),
        ("no jti", with(json!({"jti": null}))),
    ] {
        assert_bad_proof(case, &app, &hits, dpop_request(&token, &[&proof])).await;
    }
    // The normalisation of RFC 9449 §4.3: case, default port.
    let normalised = with(json!({"htu": "HTTPS://API.Example.com:443/?q=1"}));
    assert_ok(&app, &hits, dpop_request(&token, &[&normalised])).await;

    // Signed by another key than its jwk.
    let forged = other_client()
        .proof_with(&client.header(), &claims())
        .unwrap();
    assert_bad_proof(
        "signed by another key",
        &app,
        &hits,
        dpop_request(&token, &[&forged]),
    )
    .await;
    // Two proofs, or none.
    let (a, b) = (
        client.proof("GET", URL, &token).unwrap(),
        client.proof("GET", URL, &token).unwrap(),
    );
    assert_bad_proof(
        "two DPoP headers",
        &app,
        &hits,
        dpop_request(&token, &[&a, &b]),
    )
    .await;
    assert_bad_proof("no DPoP header", &app, &hits, dpop_request(&token, &[])).await;
    assert_bad_proof("not a JWT", &app, &hits, dpop_request(&token, &["a.b"])).await;
}

#[tokio::test]
async fn proof_headers_and_keys_are_checked() {
    let (app, hits) = app(DpopMode::Allowed);
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    let claims = || client.claims("GET", URL, &token);
    let header = |changes: Value| {
        let mut h = client.header();
        merge(&mut h, changes);
        client.proof_with(&h, &claims()).unwrap()
    };
    let mut private_jwk = client.header()["jwk"].clone();
    private_jwk["d"] = json!("870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE");
    for (case, proof) in [
        ("typ JWT", header(json!({"typ": "JWT"}))),
        ("a private key in jwk", header(json!({"jwk": private_jwk}))),
        ("a symmetric alg", header(json!({"alg": "HS256"}))),
        ("alg none", header(json!({"alg": "none"}))),
        ("an alg not allowed", header(json!({"alg": "ES384"}))),
        ("no jwk", header(json!({"jwk": null}))),
        ("crit", header(json!({"crit": ["exp"]}))),
    ] {
        assert_bad_proof(case, &app, &hits, dpop_request(&token, &[&proof])).await;
    }
    let mut with_cert = client.header()["jwk"].clone();
    with_cert["x5c"] = json!(["MIIB"]);
    let proof = client
        .proof_with(
            &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": with_cert}),
            &claims(),
        )
        .unwrap();
    assert_bad_proof(
        "a certificate in jwk",
        &app,
        &hits,
        dpop_request(&token, &[&proof]),
    )
    .await;
}

#[tokio::test]
async fn the_token_must_be_bound_to_the_proofs_key() {
    let (app, hits) = app(DpopMode::Allowed);
    let client = client();
    // An unbound token with the DPoP scheme, or one bound to another key.
    let mismatch = dpop_challenge("invalid_token", "token not bound to the proof's key");
    for token in [
        hs256(&claims()),
        hs256(&bound_claims(&other_client().jkt())),
    ] {
        let proof = client.proof("GET", URL, &token).unwrap();
        let req = dpop_request(&token, &[&proof]);
        assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(&mismatch)).await;
    }
    // A token problem under DPoP gets the DPoP challenge too.
    let expired = hs256(&claims_with(
        json!({"exp": now() - 3600, "cnf": {"jkt": client.jkt()}}),
    ));
    let proof = client.proof("GET", URL, &expired).unwrap();
    let want = dpop_challenge("invalid_token", "token expired");
    let req = dpop_request(&expired, &[&proof]);
    assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(&want)).await;
}

#[tokio::test]
async fn a_bound_token_presented_as_bearer_is_refused_in_every_mode() {
    let jkt = client().jkt();
    let token = hs256(&bound_claims(&jkt));
    for mode in [DpopMode::Off, DpopMode::Allowed] {
        let (app, hits) = app(mode);
        assert_invalid_token(&app, &hits, bearer(&token), "token bound to a DPoP key").await;
        // An unbound bearer token still passes.
        assert_ok(&app, &hits, bearer(&hs256(&claims()))).await;
    }
    let (app, hits) = router(builder().build().unwrap());
    assert_invalid_token(&app, &hits, bearer(&token), "token bound to a DPoP key").await;
    // Other `cnf` members (mTLS `x5t#S256`) do not bind to DPoP.
    let mtls = hs256(&claims_with(json!({"cnf": {"x5t#S256": "abc"}})));
    assert_ok(&app, &hits, bearer(&mtls)).await;
    let bad = hs256(&claims_with(json!({"cnf": {"jkt": 7}})));
    assert_invalid_token(&app, &hits, bearer(&bad), "invalid claims").await;
    // The explicit opt-out, for a migration.
    let (lenient, lenient_hits) =
        router(builder().accept_bound_tokens_as_bearer().build().unwrap());
    assert_ok(&lenient, &lenient_hits, bearer(&token)).await;
}

#[tokio::test]
async fn modes_required_and_off() {
    let client = client();
    let bound = hs256(&bound_claims(&client.jkt()));
    let (required, hits) = app(DpopMode::Required);
    let want =
        r#"DPoP algs="ES256 EdDSA", error="invalid_token", error_description="DPoP required""#;
    let unbound = hs256(&claims());
    assert_rejected(
        &required,
        &hits,
        bearer(&unbound),
        StatusCode::UNAUTHORIZED,
        Some(want),
    )
    .await;
    let proof = client.proof("GET", URL, &bound).unwrap();
    assert_ok(&required, &hits, dpop_request(&bound, &[&proof])).await;
    // Off: the DPoP scheme is not looked at (no bearer token found).
    // No credentials at all: the challenge names DPoP only.
    let want_missing = r#"DPoP algs="ES256 EdDSA""#;
    assert_rejected(
        &required,
        &hits,
        anonymous(),
        StatusCode::UNAUTHORIZED,
        Some(want_missing),
    )
    .await;
    let (off, off_hits) = app(DpopMode::Off);
    let proof = client.proof("GET", URL, &bound).unwrap();
    let req = dpop_request(&bound, &[&proof]);
    assert_rejected(
        &off,
        &off_hits,
        req,
        StatusCode::UNAUTHORIZED,
        Some(MISSING),
    )
    .await;
}

#[tokio::test]
async fn without_a_public_origin_htu_is_the_requests_own() {
    let (app, hits) = router(builder().build().unwrap());
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    let proof = client
        .proof("GET", "http://internal:8080/", &token)
        .unwrap();
    assert_ok(&app, &hits, dpop_request(&token, &[&proof])).await;
}

#[tokio::test]
async fn under_nest_htu_names_the_path_the_client_sent() {
    // The layer inside a nested router sees `/items`; the client sent and
    // signed `/api/items`.
    let hits = Hits::new();
    let dpop = Dpop::new()
        .algorithms([Algorithm::ES256, Algorithm::EdDSA])
        .public_origin(ORIGIN);
    let inner = Router::new()
        .route("/items", hits.route())
        .layer(builder().dpop(dpop).build().unwrap());
    let app = Router::new().nest("/api", inner);
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    let request = |proof: &str| {
        Request::get("/api/items")
            .header(AUTHORIZATION, format!("DPoP {token}"))
            .header("dpop", proof)
            .body(Body::empty())
            .unwrap()
    };
    let sent = client
        .proof("GET", &format!("{ORIGIN}/api/items"), &token)
        .unwrap();
    assert_ok(&app, &hits, request(&sent)).await;
    let stripped = client
        .proof("GET", &format!("{ORIGIN}/items"), &token)
        .unwrap();
    assert_bad_proof(
        "htu without the nest prefix",
        &app,
        &hits,
        request(&stripped),
    )
    .await;
}

#[test]
fn bad_settings_are_build_errors() {
    for dpop in [
        Dpop::new().algorithms([Algorithm::HS256]),
        Dpop::new().algorithms([]),
        Dpop::new().iat_window(std::time::Duration::ZERO),
        Dpop::new().iat_window(std::time::Duration::from_secs(3600)),
        Dpop::new().public_origin("api.example.com"),
        Dpop::new().public_origin("https://api.example.com/path"),
        Dpop::new().max_replay_entries(0),
    ] {
        assert!(builder().dpop(dpop.clone()).build().is_err(), "{dpop:?}");
    }
}

/// Proofs made by an independent implementation (`jose` for node, by
/// scripts/dpop-fixtures.mjs, committed in tests/data/dpop-jose.json) for
/// tokens bound to their keys (ES256, EdDSA, RS256, PS256, ES384): each
/// verifies, on a clock fixed at their `iat`, and our thumbprint of each
/// key is the one jose computed.
#[tokio::test]
async fn proofs_made_by_node_jose_verify() {
    let fixtures: Value = serde_json::from_str(include_str!("data/dpop-jose.json")).unwrap();
    let iat = fixtures["iat"].as_u64().unwrap();
    let cases = fixtures["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let alg = case["alg"].as_str().unwrap();
        let layer = builder()
            .clock(jwt_layer::Clock::fixed(iat))
            .dpop(Dpop::new().public_origin(ORIGIN))
            .build()
            .unwrap();
        let hits = Hits::new();
        let app = Router::new().route("/orders", hits.route()).layer(layer);
        let (token, proof) = (
            case["token"].as_str().unwrap(),
            case["proof"].as_str().unwrap(),
        );
        let req = |path: &str| {
            Request::get(path)
                .header(AUTHORIZATION, format!("DPoP {token}"))
                .header("dpop", proof)
                .body(Body::empty())
                .unwrap()
        };
        let res = send(&app, req("/orders")).await;
        assert_eq!(res.status(), StatusCode::OK, "{alg}: {:?}", challenge(&res));
        assert_eq!(hits.count(), 1, "{alg}");
        // Our thumbprint of its key is the one jose computed.
        let jwk_header: Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                proof.split('.').next().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let ours = jwt_layer::issue::jwk_thumbprint(&jwk_header["jwk"].to_string()).unwrap();
        assert_eq!(ours, case["jkt"].as_str().unwrap(), "{alg}");
    }
}

#[tokio::test]
async fn server_nonces_are_handed_out_and_then_required() {
    let dpop = Dpop::new()
        .algorithms([Algorithm::ES256, Algorithm::EdDSA])
        .public_origin(ORIGIN)
        .require_nonce(std::time::Duration::from_secs(60));
    let (app, hits) = router(builder().dpop(dpop).build().unwrap());
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    // Without a nonce: 401 use_dpop_nonce, and one in DPoP-Nonce.
    let proof = client.proof("GET", URL, &token).unwrap();
    let want = dpop_challenge("use_dpop_nonce", "DPoP nonce required");
    let res = assert_rejected(
        &app,
        &hits,
        dpop_request(&token, &[&proof]),
        StatusCode::UNAUTHORIZED,
        Some(&want),
    )
    .await;
    let nonce = res.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert!(nonce.len() >= 16);
    // A made-up nonce is no better.
    let mut claims = client.claims("GET", URL, &token);
    claims["nonce"] = json!("made-up");
    let proof = client.proof_with(&client.header(), &claims).unwrap();
    let req = dpop_request(&token, &[&proof]);
    assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(&want)).await;
    // With the nonce handed out: accepted.
    claims = client.claims("GET", URL, &token);
    claims["nonce"] = json!(nonce);
    let proof = client.proof_with(&client.header(), &claims).unwrap();
    assert_ok(&app, &hits, dpop_request(&token, &[&proof])).await;
    // A bad proof is still invalid_dpop_proof (no nonce handed out).
    claims = client.claims("POST", URL, &token);
    claims["nonce"] = json!(nonce);
    let proof = client.proof_with(&client.header(), &claims).unwrap();
    let res = send(&app, dpop_request(&token, &[&proof])).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge(&res).unwrap().contains("invalid_dpop_proof"));
    assert!(res.headers().get("dpop-nonce").is_none());
    assert!(
        builder()
            .dpop(Dpop::new().require_nonce(std::time::Duration::from_secs(1)))
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn a_spoofed_host_or_a_dotted_path_moves_no_proof() {
    // No public origin: the request's Host counts, parsed strictly.
    let (app, hits) = router(builder().build().unwrap());
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    for (case, path, host, signed_for) in [
        (
            "a Host smuggling a path",
            "/",
            "api.example/orders/1?",
            "http://api.example/orders/1",
        ),
        (
            "a dot segment",
            "/a/../b",
            "api.example",
            "http://api.example/b",
        ),
    ] {
        let proof = client.proof("GET", signed_for, &token).unwrap();
        let req = Request::get(path)
            .header(HOST, host)
            .header(AUTHORIZATION, format!("DPoP {token}"))
            .header("dpop", &proof)
            .body(Body::empty())
            .unwrap();
        let res = send(&app, req).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{case}");
        let www = challenge(&res).unwrap_or_default().to_owned();
        assert!(
            www.contains(r#"error="invalid_dpop_proof""#),
            "{case}: {www}"
        );
        assert_eq!(hits.count(), 0, "{case}");
    }
}

#[tokio::test]
async fn a_token_verified_with_its_proof_is_still_refused_as_bearer_from_the_cache() {
    let (app, hits) = app(DpopMode::Allowed);
    let client = client();
    let token = hs256(&bound_claims(&client.jkt()));
    let proof = client.proof("GET", URL, &token).unwrap();
    assert_ok(&app, &hits, dpop_request(&token, &[&proof])).await;
    assert_invalid_token(&app, &hits, bearer(&token), "token bound to a DPoP key").await;
}

#[tokio::test]
async fn the_binding_holds_after_a_key_fetch() {
    let server = jwt_layer::testing::JwksServer::start().await.unwrap();
    server.set_jwks(jwks_json(&[rsa_jwk("rs-1")]));
    let layer = builder_with_remote(&server);
    let (app, hits) = router(layer);
    let client = client();
    let token = sign(
        Algorithm::RS256,
        Some("rs-1"),
        &bound_claims(&client.jkt()),
        &rsa_signer(),
    );
    assert_invalid_token(&app, &hits, bearer(&token), "token bound to a DPoP key").await;
    let proof = other_client().proof("GET", URL, &token).unwrap();
    let mismatch = dpop_challenge("invalid_token", "token not bound to the proof's key");
    let req = dpop_request(&token, &[&proof]);
    assert_rejected(&app, &hits, req, StatusCode::UNAUTHORIZED, Some(&mismatch)).await;
    let proof = client.proof("GET", URL, &token).unwrap();
    assert_ok(&app, &hits, dpop_request(&token, &[&proof])).await;
}

/// A layer on `server`'s keys with the tests' DPoP settings; built fresh so
/// that its first lookup goes to the key server.
fn builder_with_remote(server: &jwt_layer::testing::JwksServer) -> jwt_layer::JwtAuth<TestClaims> {
    jwt_layer::JwtAuth::<TestClaims>::builder()
        .key_source(remote(server))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .dpop(
            Dpop::new()
                .algorithms([Algorithm::ES256, Algorithm::EdDSA])
                .public_origin(ORIGIN),
        )
        .build()
        .unwrap()
}
