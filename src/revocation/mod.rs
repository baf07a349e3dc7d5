//! Revocation: refuse one token (by its `jti`) or everything a subject
//! holds issued up to a moment ("log out everywhere"), across every
//! replica, with every request still answered locally.
//!
//! A [`Revocations`] holds a local mirror: each
//! request looks its `jti` and `sub` up in memory (no I/O, a read lock on
//! one of 16 shards). [`Revocations::memory`] is the mirror alone, for one
//! process and for tests. With the `redis` feature, [`Revocations::redis`]
//! keeps the mirror current from Redis: loaded in full when it connects
//! (and after each reconnect), then kept current from a pub/sub channel;
//! revocations are written to Redis and published. A revoked token is
//! refused with 401 `invalid_token` ("token revoked"), also when it sits in
//! the verified-token cache.
//!
//! **Failure policy.** Until the mirror is first loaded, and when the
//! stream has been down longer than [`max_outage`](RedisRevocations::max_outage)
//! (default 10 s), the layer answers 503 with `Retry-After`
//! ([`FailurePolicy::Closed`], the default), or keeps answering from the
//! mirror it has ([`FailurePolicy::Open`]). Revocations made while a replica
//! was cut off take effect when it reloads on reconnect. A Redis that comes
//! back empty (restarted without persistence) is not trusted over the
//! replicas: on reconnect each replica writes back the entries it holds
//! that Redis lacks, so a revocation survives as long as one replica
//! remembers it.
//!
//! **Bounds.** `jti` entries live until the token's `exp`; subject cutoffs
//! for the longest token lifetime (default 24 h). The mirror holds at most
//! a configured number of entries (default 1,000,000;
//! [`Revocations::memory_bounded`], [`RedisRevocations::max_entries`]); past that
//! it records no new entry and counts as cut off, so the failure policy
//! applies (503 by default) until expired entries make room.
//!
//! ```
//! use jwt_layer::revocation::Revocations;
//! use jwt_layer::{AuthErrorKind, RegisteredClaims, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let revocations = Revocations::memory();
//! let verifier = Verifier::<RegisteredClaims>::builder()
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef")
//!     .issuer("https://auth.example")
//!     .revocation(revocations.clone())
//!     .build()?;
//! # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! # let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(),
//! #     &serde_json::json!({"iss": "https://auth.example", "sub": "alice", "jti": "t-1", "iat": now, "exp": now + 60}),
//! #     &jsonwebtoken::EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"))?;
//! let claims = verifier.verify(&token).await?;
//! revocations.revoker().revoke_token(&claims).await?;
//! let err = verifier.verify(&token).await.unwrap_err();
//! assert_eq!(err.kind(), AuthErrorKind::Revoked);
//! # Ok(()) }
//! ```

mod list;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use crate::claims::VerifiedClaims;
use crate::error::{AuthError, AuthErrorKind, BoxError};
use crate::validation::unix_now;
pub(crate) use list::{Kind, RevocationList};
#[cfg(feature = "redis")]
pub use redis::RedisRevocations;

/// What the layer does while the revocation list cannot be trusted to be
/// current (not loaded yet, cut off from its store past the bound, full).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Answer 503 with `Retry-After` (the default): no revoked token can
    /// slip through an outage.
    #[default]
    Closed,
    /// Keep answering from the entries held: availability over revocations
    /// made during the outage.
    Open,
}

/// The revocation list a layer checks, and the [`Revoker`] that adds to
/// it. Cheap to clone; see the [module docs](self).
#[derive(Clone)]
pub struct Revocations {
    shared: Arc<Shared>,
}

/// What every clone shares.
pub(crate) struct Shared {
    pub(crate) list: RevocationList,
    pub(crate) policy: FailurePolicy,
    /// Whether the list is current: loaded, connected (or cut off for less
    /// than the bound) and not full.
    pub(crate) current: AtomicBool,
    pub(crate) max_lifetime: Duration,
    store: Store,
}

/// Where revocations go besides the mirror.
enum Store {
    Memory,
    #[cfg(feature = "redis")]
    Redis(Arc<redis::Link>),
}

impl fmt::Debug for Revocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revocations")
            .field("entries", &self.shared.list.len())
            .field("policy", &self.shared.policy)
            .field("current", &self.shared.current.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// How long past its time an entry is kept: a verifier accepts a token up
/// to its `exp` plus its leeway, and a revocation must outlast that.
pub(crate) const MARGIN: u64 = 600;
/// The latest time recorded (the year 9999): later ones are clamped.
pub(crate) const MAX_TIME: u64 = 253_402_300_799;
/// The longest `jti` or `sub` revoked (longer ones are refused).
pub(crate) const MAX_ID: usize = 1024;

/// The default bound of the mirror.
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 1_000_000;
/// The default longest token lifetime (how long subject cutoffs are kept).
pub(crate) const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

impl Revocations {
    /// A list in this process only: the mirror without a store, current
    /// from the start.
    pub fn memory() -> Self {
        Self::with_store(
            Store::Memory,
            FailurePolicy::Closed,
            DEFAULT_MAX_ENTRIES,
            DEFAULT_MAX_LIFETIME,
        )
    }

    fn with_store(
        store: Store,
        policy: FailurePolicy,
        max_entries: usize,
        max_lifetime: Duration,
    ) -> Self {
        let current = matches!(store, Store::Memory);
        Self {
            shared: Arc::new(Shared {
                list: RevocationList::new(max_entries),
                policy,
                current: AtomicBool::new(current),
                max_lifetime,
                store,
            }),
        }
    }

    /// A list shared through Redis at `url` (`redis://host:port/db`); see
    /// [`RedisRevocations`]. No I/O until the first request or
    /// [`ready`](Self::ready).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(url: impl Into<String>) -> RedisRevocations {
        RedisRevocations::new(url.into())
    }

    /// An in-memory list of at most `entries` entries (default 1,000,000;
    /// see the [module docs](self) for what happens past it) keeping
    /// subject cutoffs for `max_token_lifetime`, the longest lifetime of a
    /// token this API accepts (default 24 h).
    pub fn memory_bounded(entries: usize, max_token_lifetime: Duration) -> Self {
        Self::with_store(
            Store::Memory,
            FailurePolicy::Closed,
            entries,
            max_token_lifetime,
        )
    }

    #[cfg(feature = "redis")]
    pub(crate) fn from_parts(
        link: redis::Link,
        policy: FailurePolicy,
        max_entries: usize,
        max_lifetime: Duration,
    ) -> Self {
        Self::with_store(
            Store::Redis(Arc::new(link)),
            policy,
            max_entries,
            max_lifetime,
        )
    }

    /// A handle that revokes tokens and subjects.
    pub fn revoker(&self) -> Revoker {
        Revoker {
            revocations: self.clone(),
        }
    }

    /// Waits until the list is loaded (starting the link to its store if
    /// needed), up to `timeout`; `true` when it is current.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.start();
            if self.shared.current.load(Ordering::Acquire) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.shared.list.len()
    }

    /// Whether the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the list is current (loaded and in touch with its store).
    pub fn is_current(&self) -> bool {
        self.shared.current.load(Ordering::Acquire)
    }

    /// Starts the link to the store (once; a no-op outside a runtime or
    /// for the in-memory list).
    fn start(&self) {
        match &self.shared.store {
            Store::Memory => {}
            #[cfg(feature = "redis")]
            Store::Redis(link) => link.start(&self.shared),
        }
    }

    /// Whether the request with these claims may pass.
    pub(crate) fn check<C>(&self, claims: &VerifiedClaims<C>) -> Result<(), AuthError> {
        let shared = &*self.shared;
        if !shared.current.load(Ordering::Acquire) {
            self.start();
            if shared.policy == FailurePolicy::Closed {
                return Err(
                    AuthError::new(AuthErrorKind::RevocationUnavailable).with_retry_after(1)
                );
            }
        }
        let ids = claims.revocation_ids();
        if ids
            .jti
            .is_some_and(|jti| shared.list.get(Kind::Token, jti).is_some())
        {
            return Err(AuthErrorKind::Revoked.into());
        }
        let cutoff = ids.sub.and_then(|sub| shared.list.get(Kind::Subject, sub));
        if let Some(cutoff) = cutoff {
            // Issued at or before the cutoff second, or of unknown age.
            let issued = ids.iat.map(f64::floor);
            #[allow(clippy::cast_precision_loss)]
            if issued.is_none_or(|iat| iat <= cutoff as f64) {
                return Err(AuthErrorKind::Revoked.into());
            }
        }
        Ok(())
    }

    /// Records a revocation in the mirror; `false` if it is full even after
    /// dropping expired entries. A Redis-backed list that misses an entry
    /// stops being current (its failure policy applies until a reload
    /// finds room); the in-memory list stays current and its caller gets
    /// the error.
    pub(crate) fn record(&self, kind: Kind, id: &str, time: u64) -> bool {
        let shared = &*self.shared;
        let time = time.min(MAX_TIME);
        if shared.list.insert(kind, id, time) {
            return true;
        }
        shared.list.purge(unix_now(), shared.max_lifetime.as_secs());
        if shared.list.insert(kind, id, time) {
            return true;
        }
        crate::log::revocation_list_full(shared.list.len());
        if !matches!(shared.store, Store::Memory) {
            shared.current.store(false, Ordering::Release);
        }
        false
    }
}

/// Revokes tokens and subjects; from [`Revocations::revoker`].
#[derive(Clone, Debug)]
pub struct Revoker {
    revocations: Revocations,
}

/// Why a revocation could not be made.
#[derive(Debug)]
pub struct RevocationError {
    kind: RevocationErrorKind,
    source: Option<BoxError>,
}

/// The classes of [`RevocationError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationErrorKind {
    /// The claims carry no usable `jti` (to revoke one token) or `sub` (to
    /// revoke a subject): missing, empty, or longer than 1 KiB.
    MissingClaim,
    /// The store (Redis) could not be written: the revocation holds in this
    /// process only.
    Store,
    /// The token given as a string did not verify (only verified tokens
    /// are revoked from their text: anyone could write one naming another
    /// token's `jti`).
    InvalidToken,
    /// The list is full.
    Full,
}

impl RevocationError {
    fn new(kind: RevocationErrorKind) -> Self {
        Self { kind, source: None }
    }

    #[cfg(feature = "redis")]
    pub(crate) fn store(source: impl Into<BoxError>) -> Self {
        Self {
            kind: RevocationErrorKind::Store,
            source: Some(source.into()),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> RevocationErrorKind {
        self.kind
    }
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            RevocationErrorKind::MissingClaim => "the token has no jti or sub to revoke by",
            RevocationErrorKind::Store => "the revocation store could not be written",
            RevocationErrorKind::Full => "the revocation list is full",
            RevocationErrorKind::InvalidToken => "the token to revoke did not verify",
        })
    }
}

impl std::error::Error for RevocationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Revoker {
    /// Revokes the token these verified claims came from, by its `jti`,
    /// until its `exp`.
    ///
    /// # Errors
    ///
    /// No `jti` (issue tokens with one: `TokenIssuerBuilder::jti`), a full
    /// list, or a store that could not be written (the revocation then
    /// holds in this process and reaches the others when it reconnects).
    pub async fn revoke_token<C>(&self, claims: &VerifiedClaims<C>) -> Result<(), RevocationError> {
        let ids = claims.revocation_ids();
        let jti = ids
            .jti
            .ok_or_else(|| RevocationError::new(RevocationErrorKind::MissingClaim))?;
        let exp = claims
            .expires_at()
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or_else(
                || unix_now() + self.revocations.shared.max_lifetime.as_secs(),
                |d| d.as_secs().saturating_add(1),
            );
        self.revoke(Kind::Token, jti, exp).await
    }

    /// Revokes `token`, given as its text, once `verifier` accepts it
    /// (configured with this list, so that the claims keep its `jti`).
    ///
    /// # Errors
    ///
    /// The token does not verify (kind
    /// [`InvalidToken`](RevocationErrorKind::InvalidToken)), or as
    /// [`revoke_token`](Self::revoke_token).
    pub async fn revoke_token_str<C>(
        &self,
        verifier: &crate::Verifier<C>,
        token: &str,
    ) -> Result<(), RevocationError>
    where
        C: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let claims = verifier.verify(token).await.map_err(|e| RevocationError {
            kind: RevocationErrorKind::InvalidToken,
            source: Some(Box::new(e)),
        })?;
        self.revoke_token(&claims).await
    }

    /// Revokes the token with this `jti`, until `exp` (seconds since the
    /// epoch).
    ///
    /// # Errors
    ///
    /// As [`revoke_token`](Self::revoke_token).
    pub async fn revoke_jti(&self, jti: &str, exp: u64) -> Result<(), RevocationError> {
        self.revoke(Kind::Token, jti, exp).await
    }

    /// "Log out everywhere": revokes every token of `sub` issued at or
    /// before this second.
    ///
    /// # Errors
    ///
    /// A full list, or a store that could not be written.
    pub async fn revoke_subject(&self, sub: &str) -> Result<(), RevocationError> {
        self.revoke(Kind::Subject, sub, unix_now()).await
    }

    async fn revoke(&self, kind: Kind, id: &str, time: u64) -> Result<(), RevocationError> {
        if id.is_empty() || id.len() > MAX_ID {
            return Err(RevocationError::new(RevocationErrorKind::MissingClaim));
        }
        let time = time.min(MAX_TIME);
        if !self.revocations.record(kind, id, time) {
            return Err(RevocationError::new(RevocationErrorKind::Full));
        }
        match &self.revocations.shared.store {
            Store::Memory => Ok(()),
            #[cfg(feature = "redis")]
            Store::Redis(link) => link.publish(&self.revocations.shared, kind, id, time).await,
        }
    }
}
