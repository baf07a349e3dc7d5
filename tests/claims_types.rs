//! Claims types through the single-pass payload reader: the handler gets
//! exactly the claims the token carried, for flattened, nested, raw and
//! `Value` claims types, and ill-typed registered claims are refused
//! whatever the claims type.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use jwt_layer::{AuthErrorKind, Claims, JwtAuth, RegisteredClaims};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use common::*;

/// Unregistered members in a flattened map.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Flat {
    sub: String,
    exp: u64,
    #[serde(flatten)]
    extra: HashMap<String, Value>,
}

/// The registered claims flattened in, plus a named field and the rest.
#[derive(Clone, Debug, PartialEq, Deserialize)]
struct Nested {
    #[serde(flatten)]
    registered: RegisteredClaims,
    name: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// Sends `token` through an axum router behind `auth`; returns the status
/// and the claims the handler saw (if it ran).
async fn through_axum<C>(auth: JwtAuth<C>, token: &str) -> (StatusCode, Option<C>, Hits)
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Option<C>>> = Arc::new(Mutex::new(None));
    let hits = Hits::new();
    let app = {
        let seen = Arc::clone(&seen);
        let hits = hits.clone();
        Router::new()
            .route(
                "/",
                get(move |Claims(c): Claims<C>| {
                    hits.hit();
                    *seen.lock().unwrap() = Some(c);
                    async { "ok" }
                }),
            )
            .layer(auth)
    };
    let res = send(&app, bearer(token)).await;
    let status = res.status();
    let claims = seen.lock().unwrap().take();
    (status, claims, hits)
}

fn auth_for<C: DeserializeOwned + Send + Sync + 'static>() -> JwtAuth<C> {
    JwtAuth::<C>::builder()
        .hmac_secret(SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .build()
        .unwrap()
}

/// A payload with every registered claim, extras of many shapes, registered
/// names nested (not checked there), escapes and odd whitespace.
fn rich_payload() -> String {
    let now = now();
    format!(
        concat!(
            r#"{{ "sub" : "alice" , "iss":"{iss}", "aud":["other","{aud}"],"#,
            r#" "iat":{iat}, "nbf": {nbf} ,"exp":{exp},"scope":"read write","#,
            r#""scp":["admin"],"name":"Al\u00efce \"A\"","#,
            r#""nested":{{"exp":"not a date","aud":5,"iss":null}},"#,
            r#""list":[1,2.5,-3,"x",null,true,{{"k":[]}}],"big":18446744073709551615,"#,
            r#""\u0065mail":"a@example.com","unicode":"é😀"}}"#
        ),
        iss = ISSUER,
        aud = AUDIENCE,
        iat = now,
        nbf = now - 10,
        exp = now + 300,
    )
}

/// The claims `C` a plain `serde_json` read of the payload gives.
fn plain<C: DeserializeOwned>(payload: &str) -> C {
    serde_json::from_str(payload).unwrap()
}

/// The token over [`rich_payload`], and the payload.
fn rich_token() -> (String, String) {
    let payload = rich_payload();
    let token = craft(r#"{"alg":"HS256","typ":"JWT"}"#, &payload);
    (token, payload)
}

// Several sightings of each token (verified, then admitted to and served
// from the token cache): all must hand over the same claims.

#[tokio::test]
async fn handler_sees_exactly_the_claims_the_token_carried_flattened_extras() {
    let (token, payload) = rich_token();
    for sighting in 0..3 {
        let (status, flat, _) = through_axum(auth_for::<Flat>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        let flat = flat.unwrap();
        assert_eq!(flat, plain::<Flat>(&payload), "sighting {sighting}");
        assert_eq!(flat.sub, "alice");
        assert_eq!(flat.extra["aud"], json!(["other", AUDIENCE]));
        assert_eq!(flat.extra["iss"], json!(ISSUER));
        assert_eq!(flat.extra["email"], json!("a@example.com"));
        assert_eq!(flat.extra["name"], json!("Al\u{ef}ce \"A\""));
        assert_eq!(flat.extra["big"], json!(u64::MAX));
        assert_eq!(flat.extra["nested"]["exp"], json!("not a date"));
        assert!(!flat.extra.contains_key("sub") && !flat.extra.contains_key("exp"));
        assert_eq!(flat.extra.len(), 12);
    }
}

#[tokio::test]
async fn handler_sees_exactly_the_claims_the_token_carried_registered_flattened_in() {
    let (token, payload) = rich_token();
    for _sighting in 0..3 {
        let (status, nested, _) = through_axum(auth_for::<Nested>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        let nested = nested.unwrap();
        assert_eq!(nested, plain::<Nested>(&payload));
        assert_eq!(nested.registered.iss.as_deref(), Some(ISSUER));
        assert_eq!(nested.registered.scope.as_deref(), Some("read write"));
        assert_eq!(nested.name.as_deref(), Some("Al\u{ef}ce \"A\""));
    }
}

#[tokio::test]
async fn handler_sees_exactly_the_claims_the_token_carried_raw_value_and_registered() {
    let (token, payload) = rich_token();
    for _sighting in 0..3 {
        // The whole payload as raw JSON text: byte for byte.
        let (status, raw, _) = through_axum(auth_for::<Box<RawValue>>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(raw.unwrap().get(), payload);

        // A `Value`.
        let (status, value, _) = through_axum(auth_for::<Value>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        let value = value.unwrap();
        assert_eq!(value, plain::<Value>(&payload));
        assert_eq!(value["unicode"], json!("é😀"));
        assert_eq!(value["list"][1], json!(2.5));

        // The registered claims alone.
        let (status, reg, _) = through_axum(auth_for::<RegisteredClaims>(), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(reg.unwrap(), plain::<RegisteredClaims>(&payload));
    }
}

/// The same through one verifier per claims type, many times (the
/// remembered header and the token cache both in play).
#[tokio::test]
async fn the_verifier_returns_exactly_the_claims_the_token_carried() {
    let (token, payload) = rich_token();
    let v = auth_for::<Flat>();
    let value_v = auth_for::<Value>();
    for _ in 0..5 {
        assert_eq!(
            *v.verifier().verify(&token).await.unwrap(),
            plain::<Flat>(&payload)
        );
        assert_eq!(
            *value_v.verifier().verify(&token).await.unwrap(),
            plain::<Value>(&payload)
        );
    }
}

/// Checks that `token` is refused with InvalidClaims, the handler not run,
/// for claims type `C`, through axum and through the verifier.
async fn assert_invalid_claims<C>(what: &str, token: &str)
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let ty = std::any::type_name::<C>();
    let (status, claims, hits) = through_axum(auth_for::<C>(), token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}, C = {ty}");
    assert!(claims.is_none() && hits.count() == 0, "{what}, C = {ty}");
    let auth = auth_for::<C>();
    // Warm the header first, then the bad token, twice.
    assert!(auth.verifier().verify(&valid_token()).await.is_ok());
    for round in 0..2 {
        assert_eq!(
            outcome(auth.verifier(), token).await,
            Err(AuthErrorKind::InvalidClaims),
            "{what}, C = {ty}, round {round}"
        );
    }
}

/// Payloads whose registered claims are ill-typed, duplicated or missing.
fn ill_typed_payloads() -> Vec<(&'static str, String)> {
    let now = now();
    let base = format!(r#""sub":"alice","iss":"{ISSUER}","aud":"{AUDIENCE}","iat":{now}"#);
    let exp = now + 300;
    vec![
        ("exp a string", format!(r#"{{{base},"exp":"soon"}}"#)),
        (
            "exp a numeric string",
            format!(r#"{{{base},"exp":"{exp}"}}"#),
        ),
        (
            "aud a number",
            format!(r#"{{"sub":"alice","iss":"{ISSUER}","aud":5,"iat":{now},"exp":{exp}}}"#),
        ),
        (
            "aud an array with a number",
            format!(r#"{{"sub":"alice","iss":"{ISSUER}","aud":["{AUDIENCE}",5],"exp":{exp}}}"#),
        ),
        (
            "duplicate exp",
            format!(r#"{{{base},"exp":{exp},"exp":{exp}}}"#),
        ),
        (
            "duplicate exp, one escaped",
            format!(r#"{{{base},"exp":{exp},"\u0065xp":{exp}}}"#),
        ),
        (
            "duplicate aud",
            format!(r#"{{{base},"exp":{exp},"aud":"{AUDIENCE}"}}"#),
        ),
        (
            "iss an array",
            format!(r#"{{"sub":"alice","iss":["{ISSUER}"],"aud":"{AUDIENCE}","exp":{exp}}}"#),
        ),
        (
            "nbf a string",
            format!(r#"{{{base},"exp":{exp},"nbf":"x"}}"#),
        ),
        (
            "iat a bool",
            format!(
                r#"{{"sub":"alice","iss":"{ISSUER}","aud":"{AUDIENCE}","iat":true,"exp":{exp}}}"#
            ),
        ),
        ("exp null", format!(r#"{{{base},"exp":null}}"#)),
        ("exp negative", format!(r#"{{{base},"exp":-1}}"#)),
        ("exp huge", format!(r#"{{{base},"exp":1e300}}"#)),
        (
            "scope a number",
            format!(r#"{{{base},"exp":{exp},"scope":1}}"#),
        ),
        (
            "scp with a number",
            format!(r#"{{{base},"exp":{exp},"scp":[1]}}"#),
        ),
        ("exp missing", format!(r#"{{{base}}}"#)),
    ]
}

#[tokio::test]
async fn ill_typed_registered_claims_are_invalid_whatever_the_claims_type() {
    for (what, payload) in &ill_typed_payloads() {
        let token = craft(r#"{"alg":"HS256","typ":"JWT"}"#, payload);
        assert_invalid_claims::<TestClaims>(what, &token).await;
        assert_invalid_claims::<Flat>(what, &token).await;
        assert_invalid_claims::<Nested>(what, &token).await;
        assert_invalid_claims::<Box<RawValue>>(what, &token).await;
        assert_invalid_claims::<Value>(what, &token).await;
        assert_invalid_claims::<RegisteredClaims>(what, &token).await;
        assert_invalid_claims::<HashMap<String, Value>>(what, &token).await;
    }
}

/// A registered claim of the wrong type is refused whatever the claims
/// type, `Value` and raw claims included; an unregistered one is the claims
/// type's business.
#[tokio::test]
async fn registered_claims_are_typed_for_every_claims_type_others_by_the_claims_type() {
    let token = hs256(&claims_with(json!({"sub": 5})));
    assert_invalid_claims::<TestClaims>("sub a number", &token).await;
    assert_invalid_claims::<Value>("sub a number", &token).await;
    assert_invalid_claims::<Box<RawValue>>("sub a number", &token).await;
    // Registered claims fine, but the claims type refuses the payload …
    let token = hs256(&claims_with(json!({"name": 5})));
    assert_invalid_claims::<TestClaims>("name a number", &token).await;
    // A flattened claims type refusing a registered claim we accept: a
    // fractional `exp` where `Flat` wants an integer.
    let fractional = hs256(&claims_with(json!({"exp": now() as f64 + 300.5})));
    assert_invalid_claims::<Flat>("exp fractional", &fractional).await;
    // … which `Value` and raw claims take as they are.
    let (status, value, _) = through_axum(auth_for::<Value>(), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value.unwrap()["name"], json!(5));
    let (status, raw, _) = through_axum(auth_for::<Box<RawValue>>(), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(raw.unwrap().get(), payload_text(&token));
}
