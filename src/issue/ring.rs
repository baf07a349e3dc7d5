//! [`KeyRing`]: the signing key, a key scheduled to take over, and the
//! retiring keys that stay published for the tokens they signed.

use std::fmt;
use std::mem;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::{JwksService, SigningKey};
use crate::error::{BuildError, BuildErrorKind};
use crate::jose::published::JwkSet;
use crate::validation::Clock;

const DEFAULT_MAX_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
const DEFAULT_PUBLISH_AHEAD: Duration = Duration::from_secs(5 * 60);

/// The keys of one issuer: the one that signs now, optionally one scheduled
/// to take over, and retiring keys that stay in the published
/// [JWK Set](Self::jwks) until every token they signed has expired.
///
/// Cheap to clone; clones share the keys. Reading (signing, publishing)
/// never waits: the keys are an immutable snapshot behind an [`ArcSwap`];
/// [`rotate`](Self::rotate) and
/// [`schedule_rotation`](Self::schedule_rotation) build a new snapshot
/// under a short lock that is never held across an `.await`, so they are
/// safe while requests are in flight (a request that picked up the old key
/// just before a rotation still signs a valid token: the old key stays
/// published).
///
/// # Retirement
///
/// A key that stops signing at time *t* stays published until the later
/// of *t* + [`retire_after`](Self::retire_after) (the
/// [maximum token lifetime](KeyRingBuilder::max_token_ttl) plus the
/// [leeway](KeyRingBuilder::leeway)) and the latest `exp` it signed plus
/// the leeway, so a token whose claims set a longer `exp` is covered too.
/// Time is read from the ring's [clock](KeyRingBuilder::clock).
///
/// # Publishing ahead
///
/// [`rotate`](Self::rotate) switches at once: a verifier holding a cached
/// key set meets the new `kid` before it has seen the key and must refetch
/// (this crate's remote key source does). To avoid that,
/// [`schedule_rotation`](Self::schedule_rotation) publishes the new key now
/// and lets it sign only after [`publish_ahead`](KeyRingBuilder::publish_ahead);
/// the JWKS endpoint's `Cache-Control: max-age` is that same delay (see
/// [`cache_max_age`](Self::cache_max_age)), so every verifier that honours
/// it has the key before the first token signed with it.
///
/// See the [module docs](super) for an example.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    state: ArcSwap<State>,
    /// Serializes writers; readers never take it.
    write: Mutex<()>,
    clock: Clock,
    /// Seconds a key stays published after it stopped signing.
    retire_after: u64,
    leeway: u64,
    publish_ahead: u64,
}

#[derive(Clone)]
struct State {
    active: SigningKey,
    /// Published now; signs from the given time on.
    next: Option<(SigningKey, u64)>,
    /// Keys that no longer sign, with the time they stopped.
    retiring: Vec<(SigningKey, u64)>,
}

impl KeyRing {
    /// A [`JwksService`] serving this ring's public keys.
    pub fn jwks_service(&self) -> JwksService {
        JwksService::new(self.clone())
    }

    /// A ring with `key` as its only key and the default settings: tokens
    /// live at most 1 h, 60 s leeway, keys published 5 min ahead, system
    /// clock.
    pub fn new(key: SigningKey) -> Self {
        Self::builder(key).assemble()
    }

    /// Starts configuring a ring whose signing key is `key`.
    pub fn builder(key: SigningKey) -> KeyRingBuilder {
        KeyRingBuilder {
            active: key,
            retiring: Vec::new(),
            max_token_ttl: DEFAULT_MAX_TOKEN_TTL,
            leeway: DEFAULT_LEEWAY,
            publish_ahead: DEFAULT_PUBLISH_AHEAD,
            clock: Clock::system(),
        }
    }

    /// The key that signs now.
    pub fn signing_key(&self) -> SigningKey {
        self.signing_key_at(self.now())
    }

    pub(super) fn signing_key_at(&self, now: u64) -> SigningKey {
        self.inner.state.load().signing_key(now).clone()
    }

    /// The ring clock's time, in seconds since the epoch.
    pub(super) fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// Makes `key` the signing key at once; the previous one starts
    /// retiring. A key [scheduled](Self::schedule_rotation) to take over is
    /// dropped unless it is `key` itself, which is then promoted early.
    ///
    /// Prefer [`schedule_rotation`](Self::schedule_rotation) when verifiers
    /// cache the key set (see [publishing ahead](Self#publishing-ahead)).
    ///
    /// # Errors
    ///
    /// Another key in the ring already has `key`'s `kid` (verifiers would
    /// refuse a set with two keys under one `kid`). Rotating back to a key
    /// still in the ring with its own `kid` is allowed.
    pub fn rotate(&self, key: SigningKey) -> Result<(), BuildError> {
        self.update(|state, now, _| {
            if state.active.kid() == key.kid() {
                return if state.active.same_material(&key) {
                    Ok(())
                } else {
                    Err(kid_taken())
                };
            }
            state.take(&key)?;
            state.next = None;
            let old = mem::replace(&mut state.active, key);
            state.retiring.push((old, now));
            Ok(())
        })
    }

    /// Publishes `key` now and makes it the signing key once the
    /// [publish-ahead](KeyRingBuilder::publish_ahead) delay has passed on
    /// the ring's clock; returns that time, in seconds since the epoch. A
    /// key scheduled before and not yet signing is replaced.
    ///
    /// # Errors
    ///
    /// `key`'s `kid` is that of the signing key, or of another key of the
    /// ring with different key material.
    pub fn schedule_rotation(&self, key: SigningKey) -> Result<u64, BuildError> {
        self.update(|state, now, inner| {
            if state.active.kid() == key.kid() {
                return Err(BuildError::new(
                    BuildErrorKind::Conflict,
                    "this key already signs",
                ));
            }
            state.take(&key)?;
            let at = now.saturating_add(inner.publish_ahead);
            state.next = Some((key, at));
            Ok(at)
        })
    }

    /// Applies `change` to the current keys under the writers' lock.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut State, u64, &Inner) -> Result<T, BuildError>,
    ) -> Result<T, BuildError> {
        let inner = &*self.inner;
        let _writer = inner.write.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.now();
        let mut state = inner.state.load().settled(now, inner);
        let out = change(&mut state, now, inner)?;
        inner.state.store(Arc::new(state));
        Ok(out)
    }

    /// The public keys to publish now: the signing key, a scheduled key,
    /// and the retiring keys not yet past their time. HMAC keys are never
    /// included, and no key carries a private member.
    pub fn jwks(&self) -> JwkSet {
        let state = self.inner.state.load().settled(self.now(), &self.inner);
        let next = state.next.iter().map(|(k, _)| k);
        let retiring = state.retiring.iter().map(|(k, _)| k);
        JwkSet::new(
            std::iter::once(&state.active)
                .chain(next)
                .chain(retiring)
                .filter_map(SigningKey::public_jwk)
                .collect(),
        )
    }

    /// The keys as they stand now, for storing the ring elsewhere: the
    /// signing key, the scheduled key and its time, the retiring keys and
    /// when each stopped signing.
    #[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
    pub(crate) fn keys(&self) -> RingKeys {
        let state = self.inner.state.load().settled(self.now(), &self.inner);
        RingKeys {
            active: state.active,
            next: state.next,
            retiring: state.retiring,
        }
    }

    /// Replaces the ring's keys with `keys` (another replica's ring).
    #[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
    pub(crate) fn adopt(&self, keys: RingKeys) {
        let inner = &*self.inner;
        let _writer = inner.write.lock().unwrap_or_else(PoisonError::into_inner);
        inner.state.store(Arc::new(State {
            active: keys.active,
            next: keys.next,
            retiring: keys.retiring,
        }));
    }

    /// How long verifiers may cache the key set: the
    /// [publish-ahead](KeyRingBuilder::publish_ahead) delay. The JWKS
    /// endpoint sends it as `Cache-Control: public, max-age=…`.
    pub fn cache_max_age(&self) -> Duration {
        Duration::from_secs(self.inner.publish_ahead)
    }

    /// How long a key stays published after it stopped signing, at least:
    /// the maximum token lifetime plus the leeway.
    pub fn retire_after(&self) -> Duration {
        Duration::from_secs(self.inner.retire_after)
    }
}

/// A ring's keys, as [`KeyRing::keys`] gives them.
#[cfg(all(feature = "redis", feature = "aws-lc-rs"))]
pub(crate) struct RingKeys {
    pub(crate) active: SigningKey,
    pub(crate) next: Option<(SigningKey, u64)>,
    pub(crate) retiring: Vec<(SigningKey, u64)>,
}

impl From<SigningKey> for KeyRing {
    fn from(key: SigningKey) -> Self {
        Self::new(key)
    }
}

fn kid_taken() -> BuildError {
    BuildError::new(
        BuildErrorKind::DuplicateKid,
        "another key of the ring has this kid",
    )
}

impl State {
    fn signing_key(&self, now: u64) -> &SigningKey {
        match &self.next {
            Some((key, at)) if now >= *at => key,
            _ => &self.active,
        }
    }

    /// The keys as they stand at `now`: a scheduled key whose time has
    /// come signs, and retiring keys past their time are gone.
    fn settled(&self, now: u64, inner: &Inner) -> State {
        let mut state = self.clone();
        if let Some((_, at)) = state.next
            && now >= at
            && let Some((key, at)) = state.next.take()
        {
            let old = mem::replace(&mut state.active, key);
            state.retiring.push((old, at));
        }
        state.retiring.retain(|(key, since)| {
            let until = since
                .saturating_add(inner.retire_after)
                .max(key.last_exp().saturating_add(inner.leeway));
            now < until
        });
        state
    }

    /// Removes the retiring or scheduled key with `key`'s `kid`, if it is
    /// the same key material, to make room for `key`.
    fn take(&mut self, key: &SigningKey) -> Result<(), BuildError> {
        let clash = |other: &SigningKey| other.kid() == key.kid();
        if let Some((other, _)) = &self.next
            && clash(other)
        {
            if !other.same_material(key) {
                return Err(kid_taken());
            }
            self.next = None;
        }
        if self
            .retiring
            .iter()
            .any(|(other, _)| clash(other) && !other.same_material(key))
        {
            return Err(kid_taken());
        }
        self.retiring.retain(|(other, _)| !clash(other));
        Ok(())
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load();
        f.debug_struct("KeyRing")
            .field("active", &state.active)
            .field("next", &state.next)
            .field("retiring", &state.retiring)
            .field("retire_after", &self.inner.retire_after)
            .field("publish_ahead", &self.inner.publish_ahead)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

/// Configures a [`KeyRing`].
#[derive(Debug)]
pub struct KeyRingBuilder {
    active: SigningKey,
    retiring: Vec<SigningKey>,
    max_token_ttl: Duration,
    leeway: Duration,
    publish_ahead: Duration,
    clock: Clock,
}

impl KeyRingBuilder {
    /// The longest lifetime of the tokens the ring's keys sign (default
    /// 1 h). With the leeway it is how long a key stays published after it
    /// stops signing.
    #[must_use]
    pub fn max_token_ttl(mut self, ttl: Duration) -> Self {
        self.max_token_ttl = ttl;
        self
    }

    /// The verifiers' clock-skew leeway (default 60 s, the verifier's
    /// default): keys stay published this much longer.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How long a [scheduled](KeyRing::schedule_rotation) key is published
    /// before it signs, and so the JWKS `Cache-Control: max-age` (default
    /// 5 min).
    #[must_use]
    pub fn publish_ahead(mut self, delay: Duration) -> Self {
        self.publish_ahead = delay;
        self
    }

    /// The clock that decides retirement and the issuer's `iat` (default:
    /// the system clock). Tests use [`Clock::fixed`] or
    /// [`Clock::from_fn`].
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A key that signed before (loaded after a restart, say): it is
    /// published and retires as if it had stopped signing when the ring is
    /// built.
    #[must_use]
    pub fn retiring(mut self, key: SigningKey) -> Self {
        self.retiring.push(key);
        self
    }

    /// Builds the ring.
    ///
    /// # Errors
    ///
    /// Two keys share a `kid`, or the maximum token lifetime is zero.
    pub fn build(self) -> Result<KeyRing, BuildError> {
        if self.max_token_ttl.is_zero() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the maximum token lifetime is zero",
            ));
        }
        let mut kids: Vec<&str> = std::iter::once(&self.active)
            .chain(&self.retiring)
            .map(SigningKey::kid)
            .collect();
        kids.sort_unstable();
        if kids.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err(kid_taken());
        }
        Ok(self.assemble())
    }

    fn assemble(self) -> KeyRing {
        let now = self.clock.now();
        let state = State {
            active: self.active,
            next: None,
            retiring: self.retiring.into_iter().map(|k| (k, now)).collect(),
        };
        KeyRing {
            inner: Arc::new(Inner {
                state: ArcSwap::from_pointee(state),
                write: Mutex::new(()),
                clock: self.clock,
                retire_after: self.max_token_ttl.saturating_add(self.leeway).as_secs(),
                leeway: self.leeway.as_secs(),
                publish_ahead: self.publish_ahead.as_secs(),
            }),
        }
    }
}
