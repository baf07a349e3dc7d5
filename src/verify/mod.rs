//! Token verification without tower: size limit, split, header, key,
//! signature, claims, policy, typed claims. Usable on its own, e.g. in a
//! WebSocket handshake or a background job; [`JwtAuth`](crate::JwtAuth)
//! wraps one.
//!
//! ```
//! use jwt_layer::{AuthErrorKind, RegisteredClaims, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::<RegisteredClaims>::builder()
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef")
//!     .issuer("https://auth.example")
//!     .build()?;
//! let err = verifier.verify("not.a.token").await.unwrap_err();
//! assert_eq!(err.kind(), AuthErrorKind::MalformedToken);
//! # Ok(()) }
//! ```
//!
//! The files of this folder, in the order a request meets them:
//! `token_cache.rs` (a token verified before), `jws.rs` (split, decode,
//! header; `known_headers.rs` skips headers seen before), `routes.rs` (the
//! issuer's keys and rules), `checks.rs` (the security checks, with
//! `payload.rs` reading the claims in one pass and `rules.rs` judging them),
//! `wire.rs` (the JSON types read). `builder.rs` puts a verifier together.

mod builder;
mod checks;
mod claim_path;
mod held;
mod hints;
pub(crate) mod issuer;
mod jws;
mod known_headers;
mod members;
mod payload;
mod presented;
pub(crate) mod routes;
pub(crate) mod rules;
mod token_cache;
mod wire;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use builder::VerifierBuilder;

use crate::claims::VerifiedClaims;
use crate::error::{AuthError, AuthErrorKind};
use crate::keys::{Key, KeyFuture, Lookup};
use checks::Policy;
use hints::Hints;
use jws::{Buffers, Jws};
use known_headers::{KnownHeader, KnownHeaders};
pub(crate) use presented::Presented;
use routes::{Route, Routes};
use rules::{Time, TokenLimits};
use token_cache::{TokenCache, TokenHash};

/// Verifies tokens into typed claims `C`. Cheap to clone. Built with
/// [`Verifier::builder`], or taken from a layer with
/// [`JwtAuth::verifier`](crate::JwtAuth::verifier).
pub struct Verifier<C> {
    inner: Arc<Inner<C>>,
    _claims: PhantomData<fn() -> C>,
}

/// A built verifier's parts.
struct Inner<C> {
    /// Size and algorithm limits, checked before any route is chosen.
    limits: TokenLimits,
    /// The clock and leeway (the token cache re-checks `exp` with them).
    time: Time,
    routes: Routes,
    /// What a token must satisfy beyond its route's claim rules.
    policy: Policy<C>,
    token_cache: Option<TokenCache<C>>,
    /// Headers of tokens that verified (skips their parsing next time).
    known_headers: KnownHeaders,
    /// Hints logged for refused tokens of a known wrong kind.
    hints: Hints,
    /// Accept a DPoP-bound token presented as a bearer token (an explicit
    /// opt-out of RFC 9449 §7.2).
    bound_bearer: bool,
}

impl<C> Clone for Verifier<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for Verifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("limits", &self.inner.limits)
            .field("time", &self.inner.time)
            .field("token_cache", &self.inner.token_cache.is_some())
            .finish_non_exhaustive()
    }
}

/// The result of the synchronous part of verification.
pub(crate) enum Step<C> {
    /// Verification finished.
    Done(Result<VerifiedClaims<C>, AuthError>),
    /// The rest needs I/O: a key fetch, an async check, or both.
    Pending(VerifyFuture<C>),
}

/// The part of a verification that waits for I/O.
pub(crate) type VerifyFuture<C> =
    Pin<Box<dyn Future<Output = Result<VerifiedClaims<C>, AuthError>> + Send>>;

/// A parsed token and the route its issuer picked.
struct Parsed<'v, 'b, 't> {
    route: &'v Route,
    jws: Jws<'b, 't>,
}

impl<C> Verifier<C> {
    /// Starts configuring a verifier for claims of type `C`.
    pub fn builder() -> VerifierBuilder<C> {
        VerifierBuilder::new()
    }
}

impl<C: DeserializeOwned + Send + Sync + 'static> Verifier<C> {
    /// Verifies `token` and returns its claims.
    ///
    /// # Errors
    ///
    /// Why the token is not acceptable; see
    /// [`AuthErrorKind`](crate::AuthErrorKind).
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims<C>, AuthError> {
        match self.verify_step(token, None) {
            Step::Done(result) => result,
            Step::Pending(fut) => fut.await,
        }
    }

    /// Runs verification as far as it goes without waiting: the async
    /// checks (if any) run after every verification, a cached one too.
    ///
    /// `proof` is the thumbprint of the DPoP proof's key the token came
    /// with (`None` for a bearer token): the token's `cnf.jkt` must match
    /// it (RFC 9449 §7), so a bound token is never accepted as a bearer one.
    pub(crate) fn verify_step(&self, token: &str, proof: Option<&str>) -> Step<C> {
        match self.sync_step(token) {
            SyncStep::Done(Ok(claims)) => match self.admit(&claims, proof) {
                Err(e) => Step::Done(Err(e)),
                Ok(()) if self.inner.policy.async_checks.is_empty() => Step::Done(Ok(claims)),
                Ok(()) => Step::Pending(Box::pin(self.clone().checked(claims))),
            },
            SyncStep::Done(Err(e)) => {
                self.diagnose(token, &e);
                Step::Done(Err(e))
            }
            SyncStep::NeedKey(key) => {
                let (this, token) = (self.clone(), token.to_owned());
                let proof = proof.map(Box::<str>::from);
                Step::Pending(Box::pin(async move {
                    let claims = match key.await {
                        Ok(key) => this.verify_with_key(&token, &key),
                        Err(e) => Err(e),
                    };
                    let claims = claims.inspect_err(|e| this.diagnose(&token, e))?;
                    this.admit(&claims, proof.as_deref())?;
                    this.checked(claims).await
                }))
            }
        }
    }

    /// Whether verified claims (fresh or cached) may pass: their DPoP
    /// binding fits how the token came, and it is not revoked.
    fn admit(&self, claims: &VerifiedClaims<C>, proof: Option<&str>) -> Result<(), AuthError> {
        self.bound(claims, proof)?;
        match &self.inner.policy.revocation {
            Some(revocations) => revocations.check(claims),
            None => Ok(()),
        }
    }

    /// Whether the token's DPoP binding fits how it was presented.
    fn bound(&self, claims: &VerifiedClaims<C>, proof: Option<&str>) -> Result<(), AuthError> {
        match (claims.dpop_jkt(), proof) {
            (None, None) => Ok(()),
            (Some(jkt), Some(proof)) if jkt == proof => Ok(()),
            (Some(_), None) if self.inner.bound_bearer => Ok(()),
            (Some(_), None) => Err(AuthErrorKind::DpopBoundToken.into()),
            (_, Some(_)) => Err(AuthErrorKind::DpopKeyMismatch.into()),
        }
    }

    /// The clock the verifier checks times with.
    #[cfg(feature = "dpop")]
    pub(crate) fn clock(&self) -> crate::validation::Clock {
        self.inner.time.clock.clone()
    }

    /// Looks at a refused token for the configured hints (a no-op without
    /// any): only failures pay for it.
    fn diagnose(&self, token: &str, error: &AuthError) {
        let hints = &self.inner.hints;
        if !hints.is_empty() {
            hints.diagnose(token, error, self.inner.limits.max_size);
        }
    }

    /// Runs the async checks on verified claims.
    async fn checked(self, claims: VerifiedClaims<C>) -> Result<VerifiedClaims<C>, AuthError> {
        for check in &self.inner.policy.async_checks {
            check.run(&claims).await?;
        }
        Ok(claims)
    }

    /// Verification up to the point where it would wait for a key.
    fn sync_step(&self, token: &str) -> SyncStep<C> {
        let hash = match self.cached(token) {
            Cached::Hit(claims) => return SyncStep::Done(Ok(claims)),
            Cached::Miss(hash) => hash,
        };
        let known = self.inner.known_headers.snapshot();
        let mut buffers = Buffers::new();
        let parsed = match self.parse(token, &known, &mut buffers) {
            Ok(p) => p,
            Err(e) => return SyncStep::Done(Err(e)),
        };
        let kid = parsed.jws.kid.as_deref();
        match parsed.route.keys.lookup(kid, parsed.jws.alg) {
            Lookup::Ready(Ok(key)) => SyncStep::Done(self.finish(token, hash, &parsed, &key)),
            Lookup::Ready(Err(e)) => SyncStep::Done(Err(e)),
            Lookup::Pending(fut) => SyncStep::NeedKey(fut),
        }
    }

    /// Completes verification with a key that was fetched.
    fn verify_with_key(&self, token: &str, key: &Arc<Key>) -> Result<VerifiedClaims<C>, AuthError> {
        let known = self.inner.known_headers.snapshot();
        let mut buffers = Buffers::new();
        let parsed = self.parse(token, &known, &mut buffers)?;
        let hash = self
            .inner
            .token_cache
            .as_ref()
            .map(|cache| cache.hash(token));
        self.finish(token, hash, &parsed, key)
    }

    /// A verified token seen before, still within its `exp` and verified by
    /// a key still in the key set; on a miss, the token's hash (if the cache
    /// is on) for storing the result.
    fn cached(&self, token: &str) -> Cached<C> {
        let Some(cache) = &self.inner.token_cache else {
            return Cached::Miss(None);
        };
        if token.len() > self.inner.limits.max_size {
            return Cached::Miss(None);
        }
        let hash = cache.hash(token);
        match cache.get(hash, token, || self.inner.time.now_and_leeway()) {
            Some(claims) => Cached::Hit(claims),
            None => Cached::Miss(Some(hash)),
        }
    }

    fn parse<'v, 'b, 't: 'b>(
        &'v self,
        token: &'t str,
        known: &'b [KnownHeader],
        buffers: &'b mut Buffers,
    ) -> Result<Parsed<'v, 'b, 't>, AuthError> {
        let jws = jws::parse(token, &self.inner.limits, known, buffers)?;
        // The claims are read after the signature (`checks.rs`); with
        // several issuers the unverified `iss` picks the keys first.
        let route = self.inner.routes.pick(jws.payload)?;
        if !route.algorithms.contains(jws.alg) {
            return Err(AuthErrorKind::AlgorithmNotAllowed.into());
        }
        Ok(Parsed { route, jws })
    }

    /// The security checks, then the bookkeeping that makes the next
    /// request with this token or header cheaper.
    fn finish(
        &self,
        token: &str,
        hash: Option<TokenHash>,
        parsed: &Parsed<'_, '_, '_>,
        key: &Arc<Key>,
    ) -> Result<VerifiedClaims<C>, AuthError> {
        let claims = checks::run::<C>(&parsed.jws, parsed.route, key, &self.inner.policy)?;
        let jws = &parsed.jws;
        if let (Some(cache), Some(hash)) = (&self.inner.token_cache, hash) {
            let (now, leeway) = self.inner.time.now_and_leeway();
            let bytes = jws.signing_input.len() + jws.signature.len() + jws.payload.len();
            cache.insert(hash, token, &claims, key, now, leeway, bytes);
        }
        if !jws.header_known {
            (self.inner.known_headers).remember(jws.header, jws.alg, jws.kid.as_deref());
        }
        Ok(claims)
    }
}

/// The synchronous part's answer.
enum SyncStep<C> {
    Done(Result<VerifiedClaims<C>, AuthError>),
    NeedKey(KeyFuture),
}

/// The verified-token cache's answer.
enum Cached<C> {
    Hit(VerifiedClaims<C>),
    /// Not cached; the token's hash when the cache is on.
    Miss(Option<TokenHash>),
}
