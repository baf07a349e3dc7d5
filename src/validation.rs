//! What makes a token's claims acceptable: issuers, audiences, time checks
//! with leeway, lifetime and size limits, and the algorithm allow-list.
//!
//! The defaults are the safe ones (ARCHITECTURE.md, "Secure defaults"): `exp` required, 60 s leeway
//! (at most 5 min), `nbf` and `iat` checked when present, tokens over
//! 8 KiB refused before any decoding. `.issuer(..)` and `.audience(..)` make
//! the claim required and type-checked: a missing, non-string or array `iss`,
//! or an `aud` of the wrong type, is refused.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;

use crate::keys::AlgSet;
use crate::verify::rules::{ClaimRules, TokenLimits};

/// The time source for claim checks, in seconds since the Unix epoch.
///
/// [`Clock::system`] in production; [`Clock::fixed`] in tests that check
/// boundaries exactly.
#[derive(Clone)]
pub struct Clock(Option<Arc<dyn Fn() -> u64 + Send + Sync>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that always reads `secs`.
    pub fn fixed(secs: u64) -> Self {
        Self(Some(Arc::new(move || secs)))
    }

    /// A clock read from `f`.
    pub fn from_fn(f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    /// The current time in seconds since the epoch.
    pub fn now(&self) -> u64 {
        match &self.0 {
            Some(f) => f(),
            None => unix_now(),
        }
    }
}

/// Seconds since the epoch, by the system clock.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Clock(custom)"
        } else {
            "Clock(system)"
        })
    }
}

/// Claim validation settings. Fields are private; use the setters.
///
/// A verifier splits them when it is built: the size and algorithm limits
/// apply to every token before its header decides anything, the claim rules
/// to the claims of each issuer's tokens.
///
/// ```
/// use jwt_layer::Validation;
/// use std::time::Duration;
///
/// let v = Validation::new()
///     .issuer("https://auth.example")
///     .audience("my-api")
///     .leeway(Duration::from_secs(30))
///     .max_lifetime(Duration::from_secs(3600));
/// # let _ = v;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Validation {
    limits: TokenLimits,
    rules: ClaimRules,
}

impl Validation {
    /// The secure defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts tokens whose `iss` equals `issuer` (byte for byte); may be
    /// called again to accept several. Makes `iss` required.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.rules.issuers.push(issuer.into().into_boxed_str());
        self
    }

    /// Accepts tokens whose `aud` (a string, or an array of strings)
    /// contains `audience`; may be called again to accept several. Makes
    /// `aud` required.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.rules.audiences.push(audience.into().into_boxed_str());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 60 s, at most
    /// 5 min).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.rules.time.leeway = leeway;
        self
    }

    /// Refuses tokens whose lifetime (`exp - iat`, or `exp - now` without
    /// `iat`) exceeds `max`.
    #[must_use]
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.rules.max_lifetime = Some(max);
        self
    }

    /// The longest token accepted, checked before any decoding (default
    /// 8 KiB, at most 64 KiB).
    #[must_use]
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.limits.max_size = bytes;
        self
    }

    /// Restricts the algorithms accepted, on top of what each key allows.
    #[must_use]
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.limits.algorithms = AlgSet::of(algs);
        self
    }

    /// Requires an `iat` claim.
    #[must_use]
    pub fn require_iat(mut self) -> Self {
        self.rules.require_iat = true;
        self
    }

    /// Accepts tokens from any issuer for any audience. Without this, a
    /// validation that sets neither an issuer nor an audience is refused at
    /// build time: a token minted for another service would be accepted.
    #[must_use]
    pub fn allow_any_issuer_and_audience(mut self) -> Self {
        self.rules.unchecked_iss_aud = true;
        self
    }

    /// The clock for time checks (tests use [`Clock::fixed`]).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.rules.time.clock = clock;
        self
    }

    /// Checks the settings (a verifier checks the parts when it is built).
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), crate::BuildError> {
        self.limits.check()?;
        self.rules.check()
    }

    /// The two roles: limits for every token, claim rules per route.
    pub(crate) fn into_parts(self) -> (TokenLimits, ClaimRules) {
        (self.limits, self.rules)
    }
}
