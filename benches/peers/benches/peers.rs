//! jwt-layer against its peers, in one interleaved run: the raw
//! `jsonwebtoken::decode` floor (v11, aws-lc-rs), jwt-layer, jwt-authorizer
//! 0.15 (axum 0.7, jsonwebtoken 9 / ring), axum-jwt-auth 0.7 (axum 0.8,
//! jsonwebtoken 10), tower-oauth2-resource-server 0.12 (a tower 0.5 layer,
//! here under axum 0.8; jsonwebtoken 11 / aws-lc-rs) and
//! oauth-resource-server 0.4 (axum 0.8, jsonwebtoken 9 / ring). Every case
//! is a whole request through an axum router whose handler takes the typed
//! claims, except the floor.
//!
//! The last two configure themselves by OIDC discovery and fetch a JWKS,
//! which the bench serves itself on 127.0.0.1 (plain http, one issuer per
//! algorithm); their tokens carry that issuer, otherwise the same claims
//! and length as the others. Each is first checked, untimed, to answer 200
//! to its token and 401 to the token with a wrong signature.
//! oauth-resource-server refuses HMAC by design, so it has no HS256 row;
//! tower-oauth2-resource-server takes HS256 when it is explicitly allowed
//! and the JWKS holds the secret as an `oct` key.
//!
//! `AXUM_JWT_AUTH_BACKEND=rust_crypto` runs axum-jwt-auth on the backend
//! it enables itself (jsonwebtoken 10's `rust_crypto`); the default,
//! `aws_lc`, installs jsonwebtoken 10's aws-lc-rs provider instead, its
//! fastest configuration.

#[path = "../../support/fixtures.rs"]
mod fixtures;
#[path = "../../support/harness.rs"]
mod harness;
#[path = "../../support/runtime.rs"]
mod runtime;

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use http::HeaderValue;
use jsonwebtoken::Algorithm;
use jwt_layer::{JwtAuth, Key, VerifiedClaims};

use fixtures::{
    ALGS, AUDIENCE, EC256_PUBLIC_PEM, ED_PUBLIC_PEM, GoogleClaims, ISSUER, KID, RSA_PUBLIC_PEM,
    SECRET, alg_name, decoding_key, google_claims, google_pad, google_token, sign,
};
use harness::{Harness, fmt_ns, ratio_table};

fn header(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
}

/// A request loop through an axum 0.8 router, its routes made once (as
/// `axum::serve` does).
fn case08(app: axum::Router, token: &str) -> impl FnMut(u64) + 'static {
    runtime::router_loop(
        app.with_state(()),
        vec![header(token)],
        axum::body::Body::empty,
    )
}

/// A request loop through an axum 0.7 router, its routes made once.
fn case07(app: axum07::Router, token: &str) -> impl FnMut(u64) + 'static {
    runtime::router_loop(
        app.with_state(()),
        vec![header(token)],
        axum07::body::Body::empty,
    )
}

// --- jwt-layer -------------------------------------------------------------

async fn jwt_layer_handler(claims: VerifiedClaims<GoogleClaims>) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

fn jwt_layer_app(alg: Algorithm, cache: bool) -> axum::Router {
    let key = match alg {
        Algorithm::RS256 => Key::rsa_pem(RSA_PUBLIC_PEM),
        Algorithm::ES256 => Key::ec_pem(EC256_PUBLIC_PEM),
        Algorithm::EdDSA => Key::ed_pem(ED_PUBLIC_PEM),
        _ => Key::hmac(SECRET),
    }
    .expect("key")
    .with_kid(KID);
    let auth = JwtAuth::<GoogleClaims>::builder()
        .key(key)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .token_cache(cache)
        .build()
        .expect("jwt-layer");
    axum::Router::new()
        .route("/", axum::routing::get(jwt_layer_handler))
        .layer(auth)
}

// --- jwt-authorizer 0.15 -------------------------------------------------------

async fn jwt_authorizer_handler(
    jwt_authorizer::JwtClaims(claims): jwt_authorizer::JwtClaims<GoogleClaims>,
) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

fn jwt_authorizer_app(alg: Algorithm) -> axum07::Router {
    use jwt_authorizer::{IntoLayer as _, JwtAuthorizer, Validation};
    let builder = match alg {
        Algorithm::RS256 => JwtAuthorizer::<GoogleClaims>::from_rsa_pem_text(RSA_PUBLIC_PEM),
        Algorithm::ES256 => JwtAuthorizer::from_ec_pem_text(EC256_PUBLIC_PEM),
        Algorithm::EdDSA => JwtAuthorizer::from_ed_pem_text(ED_PUBLIC_PEM),
        _ => JwtAuthorizer::from_secret(SECRET),
    };
    let authorizer = runtime::runtime()
        .block_on(
            builder
                .validation(Validation::new().iss(&[ISSUER]).aud(&[AUDIENCE]))
                .build(),
        )
        .expect("jwt-authorizer");
    axum07::Router::new()
        .route("/", axum07::routing::get(jwt_authorizer_handler))
        .layer([authorizer].into_layer())
}

// --- axum-jwt-auth 0.7 -----------------------------------------------------

async fn axum_jwt_auth_handler(claims: axum_jwt_auth::Claims<GoogleClaims>) -> &'static str {
    black_box(&claims.claims.sub);
    "ok"
}

fn axum_jwt_auth_app(alg: Algorithm) -> axum::Router {
    use jsonwebtoken10::{Algorithm as A, DecodingKey, Validation};
    let (alg10, key) = match alg {
        Algorithm::RS256 => (
            A::RS256,
            DecodingKey::from_rsa_pem(RSA_PUBLIC_PEM.as_bytes()),
        ),
        Algorithm::ES256 => (
            A::ES256,
            DecodingKey::from_ec_pem(EC256_PUBLIC_PEM.as_bytes()),
        ),
        Algorithm::EdDSA => (A::EdDSA, DecodingKey::from_ed_pem(ED_PUBLIC_PEM.as_bytes())),
        _ => (A::HS256, Ok(DecodingKey::from_secret(SECRET.as_bytes()))),
    };
    let mut validation = Validation::new(alg10);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    let decoder = axum_jwt_auth::LocalDecoder::builder()
        .keys(vec![key.expect("key")])
        .validation(validation)
        .build()
        .expect("axum-jwt-auth");
    let state: axum_jwt_auth::Decoder<GoogleClaims> = Arc::new(decoder);
    axum::Router::new()
        .route("/", axum::routing::get(axum_jwt_auth_handler))
        .with_state(state)
}

// --- a loopback authorization server (OIDC discovery and JWKS) -------------

/// The discovery documents and JWK Sets the OIDC peers fetch at build
/// time, one issuer per algorithm (`http://127.0.0.1:<port>/<alg>`, since
/// every fixture key has the same `kid`), served by axum 0.8 on a one-worker
/// runtime. That runtime also runs the peers' own key-refresh tasks.
struct Authority {
    rt: tokio::runtime::Runtime,
    base: String,
}

fn authority() -> &'static Authority {
    static AUTHORITY: OnceLock<Authority> = OnceLock::new();
    AUTHORITY.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let app = axum::Router::new()
            .route(
                "/{alg}/.well-known/openid-configuration",
                axum::routing::get(discovery),
            )
            .route("/{alg}/jwks.json", axum::routing::get(jwks))
            .with_state(base.clone());
        rt.spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Authority { rt, base }
    })
}

impl Authority {
    fn issuer(&self, alg: Algorithm) -> String {
        format!("{}/{}", self.base, alg_name(alg))
    }

    /// The Google-like token of `alg` with this issuer as `iss`, the name
    /// padding shortened by as much as the issuer is longer than
    /// [`ISSUER`], so the token keeps the length of the others.
    fn token(&self, alg: Algorithm, pad: usize) -> String {
        let issuer = self.issuer(alg);
        let mut claims = google_claims((pad + ISSUER.len()).saturating_sub(issuer.len()), 0);
        claims["iss"] = issuer.into();
        sign(alg, &claims)
    }
}

fn alg_of(name: &str) -> Option<Algorithm> {
    ALGS.into_iter().find(|&alg| alg_name(alg) == name)
}

async fn discovery(
    axum::extract::State(base): axum::extract::State<String>,
    axum::extract::Path(alg): axum::extract::Path<String>,
) -> Result<axum::Json<serde_json::Value>, http::StatusCode> {
    alg_of(&alg).ok_or(http::StatusCode::NOT_FOUND)?;
    let issuer = format!("{base}/{alg}");
    Ok(axum::Json(serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks.json"),
    })))
}

/// The fixture key of `alg` as a one-key JWK Set, `kid` = [`KID`] and its
/// `alg` declared (for HS256, the secret itself: an `oct` key).
async fn jwks(
    axum::extract::Path(alg): axum::extract::Path<String>,
) -> Result<axum::Json<jsonwebtoken::jwk::JwkSet>, http::StatusCode> {
    let alg = alg_of(&alg).ok_or(http::StatusCode::NOT_FOUND)?;
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&fixtures::encoding_key(alg), alg).expect("jwk");
    jwk.common.key_id = Some(KID.to_owned());
    Ok(axum::Json(jsonwebtoken::jwk::JwkSet { keys: vec![jwk] }))
}

/// `token` with one character of its signature changed.
fn broken_signature(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("token");
    let mut signature = signature.as_bytes().to_vec();
    let i = signature.len() / 2;
    signature[i] = if signature[i] == b'A' { b'B' } else { b'A' };
    format!("{signed}.{}", String::from_utf8(signature).expect("ascii"))
}

/// Before a peer is timed: `app` must answer 200 to `token` (waiting up to
/// 5 s for keys its peer loads in the background) and 401 to the same
/// token with a wrong signature.
fn check(name: &str, app: &axum::Router, token: &str) {
    use tower::ServiceExt as _;
    let rt = runtime::runtime();
    let status = |token: &str| {
        let req = http::Request::get("/")
            .header(http::header::AUTHORIZATION, header(token))
            .body(axum::body::Body::empty())
            .expect("request");
        rt.block_on(app.clone().oneshot(req))
            .expect("infallible")
            .status()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut good = status(token);
    while good != 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        good = status(token);
    }
    assert!(good == 200, "{name}: the good token got {good}");
    let bad = status(&broken_signature(token));
    assert!(
        bad == 401,
        "{name}: a token with a wrong signature got {bad}"
    );
}

// --- tower-oauth2-resource-server 0.12 -------------------------------------

const TOWER_OAUTH2: &str = "tower-oauth2-resource-server";

async fn tower_oauth2_handler(
    axum::Extension(claims): axum::Extension<GoogleClaims>,
) -> &'static str {
    black_box(&claims.sub);
    "ok"
}

/// One tenant, configured by OIDC discovery of the loopback issuer of
/// `alg`: `iss` (the discovered issuer) and `aud` checked, the one
/// algorithm allowed (HS256 needs this opt-in). The JWKS is fetched by a
/// task on the authority's runtime, hourly rather than every minute so no
/// refresh lands in a measurement.
fn tower_oauth2_app(alg: Algorithm) -> axum::Router {
    use tower_oauth2_resource_server::server::OAuth2ResourceServer;
    use tower_oauth2_resource_server::tenant::TenantConfiguration;
    let authority = authority();
    let server = authority.rt.block_on(async {
        let tenant = TenantConfiguration::builder(authority.issuer(alg))
            .audiences(&[AUDIENCE])
            .allowed_algorithms(&[alg])
            .jwks_refresh_interval(Duration::from_secs(3600))
            .build()
            .await
            .expect("tower-oauth2-resource-server tenant");
        OAuth2ResourceServer::<GoogleClaims>::builder()
            .add_tenant(tenant)
            .build()
            .await
            .expect("tower-oauth2-resource-server")
    });
    axum::Router::new()
        .route("/", axum::routing::get(tower_oauth2_handler))
        .layer(server.into_layer())
}

// --- oauth-resource-server 0.4 ---------------------------------------------

const OAUTH_RS: &str = "oauth-resource-server";

/// Its documented typed view of the verified claims.
async fn oauth_rs_handler(token: oauth_resource_server::AuthorizedToken) -> &'static str {
    let claims: GoogleClaims = token.claims_as().expect("claims");
    black_box(&claims.sub);
    "ok"
}

/// The loopback issuer of `alg`, its `jwks_uri` discovered; `aud`
/// checked; the one algorithm allowed; no scope required
/// (`allow_unscoped_tokens`: the fixtures are ID tokens, with no `scope`).
/// Plain http needs no opt-in on loopback. Keys are loaded once here
/// (`refresh_now`), with no background refresh task.
fn oauth_rs_app(alg: Algorithm) -> axum::Router {
    use oauth_resource_server::axum::AuthLayer;
    use oauth_resource_server::{KeyNaming, OAuthConfig, OAuthValidator};
    let authority = authority();
    let issuer = authority.issuer(alg);
    let resolved = OAuthConfig {
        enabled: true,
        resource: format!("{issuer}/api"),
        issuer,
        audience: AUDIENCE.to_owned(),
        algorithms: vec![format!("{alg:?}")],
        allow_unscoped_tokens: true,
        ..OAuthConfig::default()
    }
    .resolve(KeyNaming::Dotted("oauth"))
    .expect("oauth-resource-server config")
    .expect("enabled");
    let validator = Arc::new(OAuthValidator::new(&resolved).expect("oauth-resource-server"));
    let keys = authority.rt.block_on(validator.refresh_now());
    assert!(keys.expect("oauth-resource-server keys") > 0);
    let auth = AuthLayer::builder()
        .oauth(validator)
        .build()
        .expect("oauth-resource-server layer");
    axum::Router::new()
        .route("/", axum::routing::get(oauth_rs_handler))
        .layer(auth)
}

/// Adds the OIDC peers' cases for `alg` (oauth-resource-server refuses
/// HMAC outright), each built and checked only if `JL_FILTER` keeps it.
fn oidc_peers(h: &mut Harness, alg: Algorithm, pad: usize) {
    let token = authority().token(alg, pad);
    let mut add = |who: &str, app: fn(Algorithm) -> axum::Router| {
        let name = format!("{who}/{}", alg_name(alg));
        if h.wants(&name) {
            let app = app(alg);
            check(&name, &app, &token);
            h.add(&name, case08(app, &token));
        }
    };
    add(TOWER_OAUTH2, tower_oauth2_app);
    if alg != Algorithm::HS256 {
        add(OAUTH_RS, oauth_rs_app);
    }
}

/// Signature checks alone, keys parsed once: aws-lc-rs (what jwt-layer
/// uses) against the pure-Rust crates, for EdDSA and ES256.
fn signature_only(h: &mut Harness, pad: usize) {
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let token = google_token(alg, pad);
        let (message, signature) = token.rsplit_once('.').expect("token");
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        let message = message.as_bytes().to_vec();
        let raw = decoding_key(alg)
            .try_get_as_bytes()
            .expect("key bytes")
            .to_vec();
        let name = alg_name(alg);
        let algorithm: &'static dyn sig::VerificationAlgorithm = if alg == Algorithm::EdDSA {
            &sig::ED25519
        } else {
            &sig::ECDSA_P256_SHA256_FIXED
        };
        let parsed = ParsedPublicKey::new(algorithm, &raw).expect("aws-lc key");
        {
            let (m, s) = (message.clone(), signature.clone());
            h.add(&format!("sig-only[aws-lc-rs]/{name}"), move |n| {
                for _ in 0..n {
                    assert!(parsed.verify_sig(black_box(&m), &s).is_ok());
                }
            });
        }
        if alg == Algorithm::EdDSA {
            use ed25519_dalek::Verifier as _;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().expect("32 bytes"))
                .expect("dalek key");
            let s = ed25519_dalek::Signature::from_slice(&signature).expect("signature");
            h.add(&format!("sig-only[ed25519-dalek]/{name}"), move |n| {
                for _ in 0..n {
                    assert!(key.verify(black_box(&message), &s).is_ok());
                }
            });
        } else {
            use p256::ecdsa::signature::Verifier as _;
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&raw).expect("p256 key");
            let s = p256::ecdsa::Signature::from_slice(&signature).expect("signature");
            h.add(&format!("sig-only[p256]/{name}"), move |n| {
                for _ in 0..n {
                    assert!(key.verify(black_box(&message), &s).is_ok());
                }
            });
        }
    }
}

async fn no_auth() -> &'static str {
    "ok"
}

/// Installs jsonwebtoken 10's provider for axum-jwt-auth and returns the
/// backend's name (`AXUM_JWT_AUTH_BACKEND`).
fn install_axum_jwt_auth_backend() -> String {
    let backend = std::env::var("AXUM_JWT_AUTH_BACKEND").unwrap_or_else(|_| "aws_lc".to_owned());
    match backend.as_str() {
        "rust_crypto" => {
            let _ = jsonwebtoken10::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        }
        _ => {
            let _ = jsonwebtoken10::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        }
    }
    backend
}

/// The floor and every peer under `alg`; `aja` names the axum-jwt-auth rows.
fn add_alg(h: &mut Harness, alg: Algorithm, pad: usize, aja: &str) {
    let name = alg_name(alg);
    let token = google_token(alg, pad);
    h.add(&format!("floor/{name}"), fixtures::floor_case(alg, &token));
    h.add(
        &format!("jwt-layer/{name}"),
        case08(jwt_layer_app(alg, false), &token),
    );
    if alg == Algorithm::RS256 {
        h.add(
            &format!("jwt-layer-cached/{name}"),
            case08(jwt_layer_app(alg, true), &token),
        );
    }
    h.add(
        &format!("jwt-authorizer/{name}"),
        case07(jwt_authorizer_app(alg), &token),
    );
    h.add(
        &format!("{aja}/{name}"),
        case08(axum_jwt_auth_app(alg), &token),
    );
    oidc_peers(h, alg, pad);
}

/// The tables: every case, then every case against the floor of its
/// algorithm, then the bare routers.
fn report(r: &harness::Results, aja: &str, load_before: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "machine: {}", runtime::machine());
    let _ = writeln!(out, "load average before the run: {load_before}\n");
    out.push_str(&r.table());
    out.push('\n');
    let vs_floor = |case: String, name: &str| {
        (
            format!("{case} ÷ floor/{name}"),
            case,
            format!("floor/{name}"),
            None,
        )
    };
    let mut rows = Vec::new();
    for alg in ALGS {
        let name = alg_name(alg);
        // A peer without this algorithm has no row (ratio_table skips it).
        for who in ["jwt-layer", "jwt-authorizer", aja, TOWER_OAUTH2, OAUTH_RS] {
            rows.push(vs_floor(format!("{who}/{name}"), name));
        }
    }
    for (who, name) in [
        ("sig-only[aws-lc-rs]", "eddsa"),
        ("sig-only[ed25519-dalek]", "eddsa"),
        ("sig-only[aws-lc-rs]", "es256"),
        ("sig-only[p256]", "es256"),
    ] {
        rows.push(vs_floor(format!("{who}/{name}"), name));
    }
    rows.push(vs_floor("jwt-layer-cached/rs256".to_owned(), "rs256"));
    out.push_str(&ratio_table(r, &rows));
    let _ = writeln!(out, "\n| framework-only overhead | value |\n|---|---:|");
    for (label, case) in [
        ("axum 0.8 router, no auth", "axum0.8/no-auth"),
        ("axum 0.7 router, no auth", "axum0.7/no-auth"),
    ] {
        if let Some(s) = r.get(case) {
            let _ = writeln!(out, "| {label} | {} |", fmt_ns(s.median));
        }
    }
    let _ = writeln!(out, "\nload average after the run: {}", runtime::loadavg());
    out
}

fn main() {
    let backend = install_axum_jwt_auth_backend();
    let aja = format!("axum-jwt-auth[{backend}]");
    let pad = google_pad();
    let mut h = Harness::new(&format!("peers (axum-jwt-auth on {backend})"));
    h.add(
        "axum0.8/no-auth",
        case08(
            axum::Router::new().route("/", axum::routing::get(no_auth)),
            "x.y.z",
        ),
    );
    h.add(
        "axum0.7/no-auth",
        case07(
            axum07::Router::new().route("/", axum07::routing::get(no_auth)),
            "x.y.z",
        ),
    );
    for alg in ALGS {
        add_alg(&mut h, alg, pad, &aja);
    }
    signature_only(&mut h, pad);

    let load_before = runtime::loadavg();
    let r = h.run();
    runtime::publish(
        env!("CARGO_MANIFEST_DIR"),
        &format!("peers-{backend}"),
        &report(&r, &aja, &load_before),
    );
}
