//! The security checks of a parsed token under the key its source chose,
//! in the order they run. Nothing here caches or remembers anything.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::jws::{self, Decoded, Jws};
use super::members::{self, Bound, Members, Strings, Wanted};
use super::payload;
use super::routes::Route;
use super::wire::RawClaims;
use crate::authorize::Requirement;
use crate::claims::{Roles, VerifiedClaims};
use crate::error::{AuthError, AuthErrorKind, BoxError};
use crate::keys::Key;

/// A custom check over the claims.
pub(crate) type Check<C> = Arc<dyn Fn(&C) -> bool + Send + Sync>;

/// What every token must satisfy besides its route's claim rules: the
/// members the rules read, where roles come from, custom "not for us"
/// checks (401) and the requirement (403). All empty when not configured.
pub(crate) struct Policy<C> {
    pub(crate) wanted: Wanted,
    pub(crate) roles: Vec<Bound>,
    pub(crate) token_checks: Vec<Check<C>>,
    pub(crate) requirement: Option<Requirement<C>>,
    /// Checks that wait (a database lookup), run after the others.
    pub(crate) async_checks: Vec<AsyncCheck<C>>,
    /// The revocation list (the claims then keep `jti`, `sub` and `iat`).
    pub(crate) revocation: Option<crate::revocation::Revocations>,
}

/// The future an async check returns.
pub(crate) type CheckFuture = Pin<Box<dyn Future<Output = Result<bool, BoxError>> + Send>>;

/// A check that waits, with what a "no" means and how long it may take.
pub(crate) struct AsyncCheck<C> {
    pub(crate) check: Arc<dyn Fn(VerifiedClaims<C>) -> CheckFuture + Send + Sync>,
    /// `RejectedClaim` (401) or `Forbidden` (403).
    pub(crate) denied: AuthErrorKind,
    pub(crate) timeout: Duration,
}

impl<C> AsyncCheck<C> {
    /// Runs the check: `false` is the configured denial; an error or the
    /// time running out is 503 (never a 200 nor a 401 for a token that may
    /// be fine).
    pub(crate) async fn run(&self, claims: &VerifiedClaims<C>) -> Result<(), AuthError> {
        match tokio::time::timeout(self.timeout, (self.check)(claims.clone())).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(self.denied.into()),
            Ok(Err(e)) => {
                Err(AuthError::with_source(AuthErrorKind::CheckUnavailable, e).with_retry_after(1))
            }
            Err(elapsed) => Err(
                AuthError::with_source(AuthErrorKind::CheckUnavailable, elapsed)
                    .with_retry_after(1),
            ),
        }
    }
}

/// Runs the checks: the key's algorithms, the signature, the registered
/// claims against the route's rules, the custom token checks, the
/// requirement.
pub(crate) fn run<C: DeserializeOwned>(
    jws: &Jws<'_, '_>,
    route: &Route,
    key: &Key,
    policy: &Policy<C>,
) -> Result<VerifiedClaims<C>, AuthError> {
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
    let (registered, claims, members) = read_payload::<C>(jws.payload, route, &policy.wanted)?;
    if !policy.token_checks.iter().all(|check| check(&claims)) {
        return Err(AuthErrorKind::RejectedClaim.into());
    }
    let roles = roles(&policy.roles, &members);
    let exp = registered.exp.map(|d| d.0);
    let ids = policy
        .revocation
        .as_ref()
        .map(|_| registered.revocation_ids());
    let (scopes, jkt) = (registered.scopes(), registered.jkt());
    let claims = VerifiedClaims::new(claims, scopes, roles, jkt, exp, ids);
    if let Some(requirement) = &policy.requirement {
        requirement.check(&claims)?;
    }
    Ok(claims)
}

/// Reads the registered claims and `C`, checking the former against the
/// route's rules: in one pass (`payload.rs`), or in the two plain reads in
/// the order that decides which error a token with several faults gets.
fn read_payload<'p, C: DeserializeOwned>(
    payload: &'p [u8],
    route: &Route,
    wanted: &Wanted,
) -> Result<(RawClaims<'p>, C, Members<'p>), AuthError> {
    if let Some((registered, claims, members)) = payload::single_pass::<C>(payload, wanted) {
        route.rules.validate(&registered, &members)?;
        return Ok((registered, claims, members));
    }
    let registered: RawClaims<'_> = serde_json::from_slice(payload)
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
    let members = if wanted.is_empty() {
        Members::default()
    } else {
        members::read(payload, wanted)?
    };
    route.rules.validate(&registered, &members)?;
    let claims = serde_json::from_slice(payload)
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
    Ok((registered, claims, members))
}

/// The roles the configured claims hold: a string array, a space-delimited
/// string, or an object whose keys are the roles (Zitadel). At most 256.
fn roles(sources: &[Bound], members: &Members<'_>) -> Roles {
    let mut roles = Roles::default();
    for bound in sources {
        match members.strings(bound) {
            Strings::One(s) => s.split(' ').for_each(|r| roles.push(r)),
            Strings::Many(items) => items.iter().for_each(|r| roles.push(r)),
            // Not strings: an object whose keys are the roles, perhaps.
            Strings::None => {
                if let Some(Value::Object(map)) = members.value(bound) {
                    map.keys().for_each(|k| roles.push(k));
                }
            }
        }
    }
    roles
}
