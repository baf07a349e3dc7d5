//! Key-server helpers (feature `test-util`): a `JwksServer` serving a body,
//! `RemoteJwks` builders with fast failure limits, a layer in front of a
//! counting handler, and RS256/EdDSA tokens for the served keys.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use jsonwebtoken::Algorithm;
use jwt_layer::JwtAuth;
use jwt_layer::keys::{RemoteJwks, RemoteJwksBuilder};
use jwt_layer::testing::JwksServer;

use super::{AUDIENCE, Hits, ISSUER, TestClaims, claims, ed_signer, router, rsa_signer, sign};

/// A started key server answering with `body` (usually [`super::jwks_json`]).
pub async fn server_with(body: impl Into<String>) -> JwksServer {
    let server = JwksServer::start().await.unwrap();
    server.set_jwks(body);
    server
}

/// A `RemoteJwks` builder for `server` with a 500 ms timeout and the
/// library's default backoff.
pub fn remote_with_timeout(server: &JwksServer) -> RemoteJwksBuilder {
    RemoteJwks::builder(server.url()).timeout(Duration::from_millis(500))
}

/// Fast failure limits so hostile servers cost milliseconds: a 500 ms
/// timeout and a 50–200 ms backoff.
pub fn remote(server: &JwksServer) -> RemoteJwksBuilder {
    remote_with_timeout(server).backoff(Duration::from_millis(50), Duration::from_millis(200))
}

/// [`remote`] with one HTTP client shared by the whole test binary
/// ([`shared_client`]).
pub fn remote_with_shared_client(server: &JwksServer) -> RemoteJwksBuilder {
    remote(server).client(shared_client())
}

/// One HTTP client for the whole test binary (building one costs tens of
/// milliseconds): no redirects, no proxies, no pooled connections (each
/// test has its own runtime, so nothing may outlive a request).
pub fn shared_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .pool_max_idle_per_host(0)
                .pool_idle_timeout(None)
                .build()
                .unwrap()
        })
        .clone()
}

/// A router with one counted route behind a layer over `keys`, for the
/// default issuer and audience.
pub fn app_for(keys: RemoteJwks) -> (Router, Hits) {
    router(
        JwtAuth::<TestClaims>::builder()
            .key_source(keys)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap(),
    )
}

/// An RS256 token over the default claims with `kid`.
pub fn rsa_token(kid: &str) -> String {
    sign(Algorithm::RS256, Some(kid), &claims(), &rsa_signer())
}

/// An EdDSA token over the default claims with `kid`.
pub fn ed_token(kid: &str) -> String {
    sign(Algorithm::EdDSA, Some(kid), &claims(), &ed_signer())
}

/// An RS256 token with kid `rsa`, signed once per test binary (RSA signing
/// is slow in debug builds).
pub fn cached_rsa_token() -> String {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| rsa_token("rsa")).clone()
}
