//! What makes a token's claims acceptable: issuers, audiences, time checks
//! with leeway, lifetime and size limits, and the algorithm allow-list.
//!
//! The defaults are the safe ones (DESIGN §5): `exp` required, 60 s leeway
//! (at most 5 min), `nbf` and `iat` checked when present, tokens over
//! 8 KiB refused before any decoding. `.issuer(..)` and `.audience(..)` make
//! the claim required and type-checked: a missing, non-string or array `iss`,
//! or an `aud` of the wrong type, is refused.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};
use crate::keys::AlgSet;

/// The largest leeway a validation accepts.
pub(crate) const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default maximum token size.
pub(crate) const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;
/// The largest maximum token size a validation accepts.
pub(crate) const MAX_TOKEN_SIZE_LIMIT: usize = 64 * 1024;
/// Dates past 9999-12-31 are refused as malformed.
const MAX_DATE: f64 = 253_402_300_799.0;

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
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
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
#[derive(Clone, Debug)]
pub struct Validation {
    issuers: Vec<Box<str>>,
    audiences: Vec<Box<str>>,
    leeway: Duration,
    max_lifetime: Option<Duration>,
    max_token_size: usize,
    algorithms: AlgSet,
    require_iat: bool,
    unchecked_iss_aud: bool,
    clock: Clock,
}

impl Default for Validation {
    fn default() -> Self {
        Self::new()
    }
}

impl Validation {
    /// The secure defaults.
    pub fn new() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: Duration::from_secs(60),
            max_lifetime: None,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            algorithms: AlgSet::ALL,
            require_iat: false,
            unchecked_iss_aud: false,
            clock: Clock::system(),
        }
    }

    /// Accepts tokens whose `iss` equals `issuer` (byte for byte); may be
    /// called again to accept several. Makes `iss` required.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into().into_boxed_str());
        self
    }

    /// Accepts tokens whose `aud` (a string, or an array of strings)
    /// contains `audience`; may be called again to accept several. Makes
    /// `aud` required.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into().into_boxed_str());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 60 s, at most
    /// 5 min).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Refuses tokens whose lifetime (`exp - iat`, or `exp - now` without
    /// `iat`) exceeds `max`.
    #[must_use]
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = Some(max);
        self
    }

    /// The longest token accepted, checked before any decoding (default
    /// 8 KiB, at most 64 KiB).
    #[must_use]
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// Restricts the algorithms accepted, on top of what each key allows.
    #[must_use]
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = AlgSet::of(algs);
        self
    }

    /// Requires an `iat` claim.
    #[must_use]
    pub fn require_iat(mut self) -> Self {
        self.require_iat = true;
        self
    }

    /// Accepts tokens from any issuer for any audience. Without this, a
    /// validation that sets neither an issuer nor an audience is refused at
    /// build time: a token minted for another service would be accepted.
    #[must_use]
    pub fn allow_any_issuer_and_audience(mut self) -> Self {
        self.unchecked_iss_aud = true;
        self
    }

    /// The clock for time checks (tests use [`Clock::fixed`]).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn issuer_list(&self) -> &[Box<str>] {
        &self.issuers
    }

    /// This validation, for tokens of one issuer: `iss` must be `issuer`,
    /// and `audiences` replace the shared ones when given.
    pub(crate) fn for_issuer(&self, issuer: &str, audiences: Option<&[String]>) -> Self {
        let mut v = self.clone();
        v.issuers = vec![issuer.into()];
        if let Some(auds) = audiences {
            v.audiences = auds.iter().map(|a| a.as_str().into()).collect();
        }
        v
    }

    /// The clock's reading and the leeway, in seconds, for checks outside
    /// [`validate`](Self::validate) (the token cache).
    pub(crate) fn now_and_leeway(&self) -> (f64, f64) {
        (self.clock.now() as f64, self.leeway.as_secs() as f64)
    }

    pub(crate) fn max_size(&self) -> usize {
        self.max_token_size
    }

    pub(crate) fn allowed_algorithms(&self) -> AlgSet {
        self.algorithms
    }

    /// This validation, narrowed to the algorithms `keys` could verify
    /// (the key sources' [`algorithms`](crate::KeySource::algorithms)), so
    /// a token no key could verify is refused before any key lookup.
    pub(crate) fn verifiable_by(mut self, keys: AlgSet) -> Result<Self, BuildError> {
        self.algorithms = self.algorithms.intersect(keys);
        if self.algorithms.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidValidation,
                "no allowed algorithm can be verified by the configured keys",
            ));
        }
        Ok(self)
    }

    /// Checks the settings; called by `build()`.
    pub(crate) fn check(&self) -> Result<(), BuildError> {
        if self.leeway > MAX_LEEWAY {
            return Err(BuildError::new(
                BuildErrorKind::InvalidValidation,
                format!(
                    "leeway of {:?} exceeds the maximum of {MAX_LEEWAY:?}",
                    self.leeway
                ),
            ));
        }
        if self.max_token_size == 0 || self.max_token_size > MAX_TOKEN_SIZE_LIMIT {
            return Err(BuildError::new(
                BuildErrorKind::InvalidValidation,
                format!("max token size must be between 1 and {MAX_TOKEN_SIZE_LIMIT} bytes"),
            ));
        }
        if self.algorithms.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidValidation,
                "no algorithm allowed",
            ));
        }
        if self.issuers.is_empty() && self.audiences.is_empty() && !self.unchecked_iss_aud {
            return Err(BuildError::new(
                BuildErrorKind::UncheckedIssuerAndAudience,
                "neither an issuer nor an audience is set: any token signed by the key would \
                 be accepted; set .issuer(..)/.audience(..), or call \
                 .allow_any_issuer_and_audience() if that is intended",
            ));
        }
        if self
            .issuers
            .iter()
            .chain(&self.audiences)
            .any(|s| s.is_empty())
        {
            return Err(BuildError::new(
                BuildErrorKind::InvalidValidation,
                "an issuer or audience is empty",
            ));
        }
        Ok(())
    }

    /// Checks the registered claims of a token whose signature is valid.
    pub(crate) fn validate(&self, claims: &RawClaims<'_>) -> Result<(), AuthError> {
        let now = self.clock.now() as f64;
        let leeway = self.leeway.as_secs() as f64;
        let exp = claims.exp.ok_or(AuthErrorKind::InvalidClaims)?.0;
        if now >= exp + leeway {
            return Err(AuthErrorKind::Expired.into());
        }
        if let Some(nbf) = claims.nbf
            && nbf.0 > now + leeway
        {
            return Err(AuthErrorKind::NotYetValid.into());
        }
        match claims.iat {
            Some(iat) if iat.0 > now + leeway => {
                return Err(AuthErrorKind::IssuedInFuture.into());
            }
            None if self.require_iat => return Err(AuthErrorKind::InvalidClaims.into()),
            _ => {}
        }
        if let Some(max) = self.max_lifetime {
            let start = claims.iat.map_or(now, |iat| iat.0);
            if exp - start > max.as_secs() as f64 {
                return Err(AuthErrorKind::LifetimeTooLong.into());
            }
        }
        if !self.issuers.is_empty() {
            let ok = claims
                .iss
                .as_deref()
                .is_some_and(|iss| self.issuers.iter().any(|i| **i == *iss));
            if !ok {
                return Err(AuthErrorKind::InvalidIssuer.into());
            }
        }
        if !self.audiences.is_empty() {
            let ok = claims.aud.as_ref().is_some_and(|aud| {
                aud.iter()
                    .any(|a| self.audiences.iter().any(|want| **want == *a))
            });
            if !ok {
                return Err(AuthErrorKind::InvalidAudience.into());
            }
        }
        Ok(())
    }
}

/// A JSON number read as a NumericDate: finite, not negative, before 10000.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NumericDate(pub(crate) f64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() && (0.0..=MAX_DATE).contains(&v) {
                    Ok(NumericDate(v))
                } else {
                    Err(E::custom("date out of range"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A string borrowed from the JSON text when it has no escapes (serde's
/// own `Cow` support borrows only at the top level of a field, not inside
/// an `Option` or a sequence).
#[derive(Debug)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// `aud`: a string or an array of strings.
#[derive(Debug)]
pub(crate) enum Audience<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Self::One(s) => (Some(&**s), &[][..]),
            Self::Many(v) => (None, &v[..]),
        };
        one.into_iter().chain(many.iter().map(|s| &**s))
    }
}

/// A string, or an array of strings (for `aud` and `scp`).
struct StrOrSeq<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrOrSeq<'a> {
    type Value = Audience<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Audience::One(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Audience::One(Cow::Owned(v.to_owned())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(s) = seq.next_element::<Str<'a>>()? {
            if out.len() >= 64 {
                return Err(de::Error::custom("too many values"));
            }
            out.push(s.0);
        }
        Ok(Audience::Many(out))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Audience<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrOrSeq(std::marker::PhantomData))
    }
}

/// The registered claims as read (borrowed) from the payload, with strict
/// types: a claim of the wrong JSON type (`null` included) fails the whole
/// parse.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) iss: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) aud: Option<Audience<'a>>,
    #[serde(default, deserialize_with = "some")]
    pub(crate) exp: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    pub(crate) nbf: Option<NumericDate>,
    #[serde(default, deserialize_with = "some")]
    pub(crate) iat: Option<NumericDate>,
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) scope: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "some")]
    pub(crate) scp: Option<Audience<'a>>,
    /// Type-checked only: a handler keyed by `sub` never sees `42` beside
    /// `"42"`.
    #[serde(default, rename = "sub", deserialize_with = "some")]
    _sub: Option<IsString>,
    /// Type-checked only.
    #[serde(default, rename = "jti", deserialize_with = "some")]
    _jti: Option<IsString>,
}

/// A member that must be a JSON string; its value is not kept.
#[derive(Debug)]
struct IsString;

impl<'de> Deserialize<'de> for IsString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IsString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<IsString, E> {
                Ok(IsString)
            }
        }
        d.deserialize_str(V)
    }
}

/// A present claim must have its type: `null` is not "absent".
pub(crate) fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl RawClaims<'_> {
    /// The token's scopes as one space-separated string (`scope` and `scp`).
    pub(crate) fn scopes(&self) -> Box<str> {
        let mut out = String::new();
        if let Some(s) = &self.scope {
            out.push_str(s);
        }
        if let Some(scp) = &self.scp {
            // Each array element is one scope token; one holding a space is
            // not a valid scope (RFC 6749 §3.3) and grants nothing.
            for s in scp.iter().filter(|s| !s.is_empty() && !s.contains(' ')) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(s);
            }
        }
        out.into_boxed_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Result<RawClaims<'_>, serde_json::Error> {
        serde_json::from_str(json)
    }

    fn check(v: &Validation, json: &str) -> Result<(), AuthErrorKind> {
        let c = claims(json).map_err(|_| AuthErrorKind::InvalidClaims)?;
        v.validate(&c).map_err(|e| e.kind())
    }

    #[test]
    fn strict_types() {
        assert!(claims(r#"{"iss":5}"#).is_err());
        assert!(claims(r#"{"iss":["a"]}"#).is_err());
        assert!(claims(r#"{"aud":5}"#).is_err());
        assert!(claims(r#"{"aud":[5]}"#).is_err());
        assert!(claims(r#"{"exp":"1"}"#).is_err());
        assert!(claims(r#"{"exp":-1}"#).is_err());
        assert!(claims(r#"{"exp":1e300}"#).is_err());
        assert!(claims(r#"{"iat":true}"#).is_err());
        assert!(claims(r#"{"exp":1,"exp":2}"#).is_err());
        assert!(claims(r#"{"exp":1.5,"aud":["a","b"],"iss":"x"}"#).is_ok());
        assert!(claims(r#"{"sub":42}"#).is_err());
        assert!(claims(r#"{"jti":["a"]}"#).is_err());
        for claim in [
            "iss", "aud", "exp", "nbf", "iat", "scope", "scp", "sub", "jti",
        ] {
            let json = format!(r#"{{"{claim}":null}}"#);
            assert!(claims(&json).is_err(), "{claim}: null");
        }
    }

    #[test]
    fn exp_equal_to_now_is_expired_at_zero_leeway() {
        let v = Validation::new()
            .allow_any_issuer_and_audience()
            .leeway(Duration::ZERO)
            .clock(Clock::fixed(1000));
        assert_eq!(check(&v, r#"{"exp":1000}"#), Err(AuthErrorKind::Expired));
        assert_eq!(check(&v, r#"{"exp":1001}"#), Ok(()));
        assert_eq!(check(&v, r#"{}"#), Err(AuthErrorKind::InvalidClaims));
        assert_eq!(
            check(&v, r#"{"exp":2000,"nbf":1001}"#),
            Err(AuthErrorKind::NotYetValid)
        );
        assert_eq!(check(&v, r#"{"exp":2000,"nbf":1000}"#), Ok(()));
        assert_eq!(
            check(&v, r#"{"exp":2000,"iat":1001}"#),
            Err(AuthErrorKind::IssuedInFuture)
        );
    }

    #[test]
    fn leeway_moves_each_boundary() {
        let v = Validation::new()
            .allow_any_issuer_and_audience()
            .leeway(Duration::from_secs(10))
            .clock(Clock::fixed(1000));
        assert_eq!(check(&v, r#"{"exp":991}"#), Ok(()));
        assert_eq!(check(&v, r#"{"exp":990}"#), Err(AuthErrorKind::Expired));
        assert_eq!(check(&v, r#"{"exp":2000,"nbf":1010}"#), Ok(()));
        assert_eq!(
            check(&v, r#"{"exp":2000,"nbf":1011}"#),
            Err(AuthErrorKind::NotYetValid)
        );
    }

    #[test]
    fn issuer_and_audience_are_required_once_set() {
        let v = Validation::new()
            .issuer("https://a")
            .audience("api")
            .clock(Clock::fixed(1000));
        let ok = r#"{"exp":2000,"iss":"https://a","aud":"api"}"#;
        assert_eq!(check(&v, ok), Ok(()));
        assert_eq!(
            check(&v, r#"{"exp":2000,"aud":"api"}"#),
            Err(AuthErrorKind::InvalidIssuer)
        );
        assert_eq!(
            check(&v, r#"{"exp":2000,"iss":"https://a/","aud":"api"}"#),
            Err(AuthErrorKind::InvalidIssuer)
        );
        assert_eq!(
            check(&v, r#"{"exp":2000,"iss":"https://a"}"#),
            Err(AuthErrorKind::InvalidAudience)
        );
        assert_eq!(
            check(&v, r#"{"exp":2000,"iss":"https://a","aud":["x","api"]}"#),
            Ok(())
        );
        assert_eq!(
            check(&v, r#"{"exp":2000,"iss":"https://a","aud":[]}"#),
            Err(AuthErrorKind::InvalidAudience)
        );
    }

    #[test]
    fn lifetime_cap() {
        let v = Validation::new()
            .allow_any_issuer_and_audience()
            .max_lifetime(Duration::from_secs(100))
            .clock(Clock::fixed(1000));
        assert_eq!(check(&v, r#"{"exp":1100,"iat":1000}"#), Ok(()));
        assert_eq!(
            check(&v, r#"{"exp":1101,"iat":1000}"#),
            Err(AuthErrorKind::LifetimeTooLong)
        );
        assert_eq!(
            check(&v, r#"{"exp":5000}"#),
            Err(AuthErrorKind::LifetimeTooLong)
        );
    }

    #[test]
    fn scopes_from_scope_and_scp() {
        let c = claims(r#"{"scope":"read write","scp":["admin","bad scope",""]}"#).unwrap();
        assert_eq!(&*c.scopes(), "read write admin");
        let c = claims(r#"{"scp":"solo"}"#).unwrap();
        assert_eq!(&*c.scopes(), "solo");
        assert!(claims(r#"{"scp":[1]}"#).is_err());
        assert!(claims(r#"{"scope":["a"]}"#).is_err());
    }

    #[test]
    fn build_checks() {
        assert!(Validation::new().check().is_err());
        assert!(Validation::new().issuer("a").check().is_ok());
        assert!(
            Validation::new()
                .issuer("a")
                .leeway(Duration::from_secs(301))
                .check()
                .is_err()
        );
        assert!(
            Validation::new()
                .issuer("a")
                .max_token_size(1 << 20)
                .check()
                .is_err()
        );
    }
}
