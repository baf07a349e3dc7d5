//! The security checks of a parsed token under the key its source chose,
//! in the order they run. Nothing here caches or remembers anything.

use serde::de::DeserializeOwned;

use super::jws::{self, Decoded, Jws};
use super::payload;
use super::routes::Route;
use super::wire::RawClaims;
use crate::authorize::Requirement;
use crate::claims::VerifiedClaims;
use crate::error::{AuthError, AuthErrorKind};
use crate::keys::Key;

/// A token that passed every check, and its `exp` (for the token cache).
pub(crate) struct Passed<C> {
    pub(crate) claims: VerifiedClaims<C>,
    pub(crate) exp: Option<f64>,
}

/// Runs the checks: the key's algorithms, the signature, the registered
/// claims against the route's rules, the requirement.
pub(crate) fn run<C: DeserializeOwned>(
    jws: &Jws<'_, '_>,
    route: &Route,
    key: &Key,
    requirement: Option<&Requirement<C>>,
) -> Result<Passed<C>, AuthError> {
    // Whatever a key source answered, the key itself decides which
    // algorithms it may verify.
    if !key.allows(jws.alg) {
        return Err(AuthErrorKind::AlgorithmNotAllowed.into());
    }
    let mut signature_buf = Decoded::new();
    let signature = jws::decode_signature(jws.signature, &mut signature_buf)?;
    if !key.verify_signature(jws.alg, jws.signing_input.as_bytes(), signature) {
        return Err(AuthErrorKind::InvalidSignature.into());
    }
    // The payload is trusted from here on.
    let (registered, claims) = read_payload::<C>(jws.payload, route)?;
    let claims = VerifiedClaims::new(claims, registered.scopes());
    if let Some(requirement) = requirement {
        requirement.check(&claims)?;
    }
    let exp = registered.exp.map(|d| d.0);
    Ok(Passed { claims, exp })
}

/// Reads the registered claims and `C`, checking the former against the
/// route's rules: in one pass (`payload.rs`), or in the two plain reads in
/// the order that decides which error a token with several faults gets.
fn read_payload<'p, C: DeserializeOwned>(
    payload: &'p [u8],
    route: &Route,
) -> Result<(RawClaims<'p>, C), AuthError> {
    if let Some((registered, claims)) = payload::single_pass::<C>(payload) {
        route.rules.validate(&registered)?;
        return Ok((registered, claims));
    }
    let registered: RawClaims<'_> = serde_json::from_slice(payload)
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
    route.rules.validate(&registered)?;
    let claims = serde_json::from_slice(payload)
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
    Ok((registered, claims))
}
