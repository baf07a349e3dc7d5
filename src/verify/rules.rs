//! The two roles a [`Validation`](crate::Validation) splits into when a
//! verifier is built: [`TokenLimits`], checked before any route is chosen
//! (size, algorithms), and [`ClaimRules`], one per issuer route (issuers,
//! audiences, times). No field is read in one role and ignored in the other.

use std::time::Duration;

use std::sync::Arc;

use super::issuer::{NearMisses, TemplateRule};
use super::members::{Bound, Members};
use super::wire::{RawClaims, Strings};
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};
use crate::keys::AlgSet;
use crate::validation::Clock;

/// The largest leeway accepted.
pub(crate) const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default maximum token size.
pub(crate) const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;
/// The largest maximum token size accepted.
pub(crate) const MAX_TOKEN_SIZE_LIMIT: usize = 64 * 1024;

/// What a token must fit before its header decides anything.
#[derive(Clone, Debug)]
pub(crate) struct TokenLimits {
    pub(crate) max_size: usize,
    pub(crate) algorithms: AlgSet,
    /// Accepted `typ` header values, as [`typ_name`] gives them (empty:
    /// not checked).
    pub(crate) typ: Vec<Box<str>>,
}

impl Default for TokenLimits {
    fn default() -> Self {
        Self {
            max_size: DEFAULT_MAX_TOKEN_SIZE,
            algorithms: AlgSet::ALL,
            typ: Vec::new(),
        }
    }
}

/// A `typ` value as compared (RFC 7515 §4.1.9): lowercase, without the
/// optional `application/` prefix.
pub(crate) fn typ_name(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

impl TokenLimits {
    /// Whether a token with this `typ` header (or none) is accepted.
    pub(crate) fn accepts_typ(&self, typ: Option<&str>) -> bool {
        self.typ.is_empty() || typ.is_some_and(|t| self.typ.iter().any(|w| **w == *typ_name(t)))
    }

    pub(crate) fn check(&self) -> Result<(), BuildError> {
        if self.max_size == 0 || self.max_size > MAX_TOKEN_SIZE_LIMIT {
            return Err(invalid(format!(
                "max token size must be between 1 and {MAX_TOKEN_SIZE_LIMIT} bytes"
            )));
        }
        if self.algorithms.is_empty() {
            return Err(invalid("no algorithm allowed"));
        }
        Ok(())
    }

    /// These limits, narrowed to the algorithms `keys` could verify (the key
    /// sources' [`algorithms`](crate::KeySource::algorithms)), so a token no
    /// key could verify is refused before any key lookup.
    pub(crate) fn verifiable_by(mut self, keys: AlgSet) -> Result<Self, BuildError> {
        self.algorithms = self.algorithms.intersect(keys);
        if self.algorithms.is_empty() {
            return Err(invalid(
                "no allowed algorithm can be verified by the configured keys",
            ));
        }
        Ok(self)
    }
}

/// The clock and the skew tolerated on `exp`, `nbf` and `iat`; shared by
/// every route and by the token cache's `exp` re-check.
#[derive(Clone, Debug)]
pub(crate) struct Time {
    pub(crate) clock: Clock,
    pub(crate) leeway: Duration,
}

impl Default for Time {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            leeway: Duration::from_secs(60),
        }
    }
}

impl Time {
    /// The clock's reading and the leeway, in seconds.
    pub(crate) fn now_and_leeway(&self) -> (f64, f64) {
        (self.clock.now() as f64, self.leeway.as_secs() as f64)
    }
}

/// What a verified token's registered claims must satisfy.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClaimRules {
    pub(crate) issuers: Vec<Box<str>>,
    pub(crate) audiences: Vec<Box<str>>,
    pub(crate) time: Time,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) require_iat: bool,
    /// Neither `iss` nor `aud` checked, on purpose.
    pub(crate) unchecked_iss_aud: bool,
    /// Issuer templates (`…/{tid}/v2.0`), beside the exact issuers.
    pub(crate) templates: Vec<TemplateRule>,
    /// Hints at near-miss issuers (shared by the routes).
    pub(crate) near_misses: Arc<NearMisses>,
    /// Claims that may carry the audience (empty: `aud`).
    pub(crate) audience_claims: Vec<Bound>,
    /// Claims that must be one of some values (or, as an array, contain
    /// one).
    pub(crate) equals: Vec<(Bound, Box<[Box<str>]>)>,
    /// Claims that must be a string of 1 to N characters.
    pub(crate) texts: Vec<(Bound, usize)>,
    /// Claims that must be a time (seconds since the epoch) not in the
    /// future, leeway allowed.
    pub(crate) past_times: Vec<Bound>,
    /// Groups of claims of which at least one must be a string.
    pub(crate) any_present: Vec<Vec<Bound>>,
}

impl ClaimRules {
    /// These rules for tokens of one issuer: `iss` must be `issuer`, and
    /// `audiences` replace the shared ones when given.
    pub(crate) fn for_issuer(&self, issuer: &str, audiences: Option<&[String]>) -> Self {
        let mut rules = self.clone();
        rules.issuers = vec![issuer.into()];
        if let Some(auds) = audiences {
            rules.audiences = auds.iter().map(|a| a.as_str().into()).collect();
        }
        rules
    }

    /// These rules, for tokens of one template route: only that template's
    /// issuers, and `audiences` replacing the shared ones when given.
    pub(crate) fn for_template(
        &self,
        template: &TemplateRule,
        audiences: Option<&[String]>,
    ) -> Self {
        let mut rules = self.for_issuer("", audiences);
        rules.issuers.clear();
        rules.templates = vec![template.clone()];
        rules
    }

    pub(crate) fn check(&self) -> Result<(), BuildError> {
        if self.time.leeway > MAX_LEEWAY {
            return Err(invalid(format!(
                "leeway of {:?} exceeds the maximum of {MAX_LEEWAY:?}",
                self.time.leeway
            )));
        }
        let no_issuer = self.issuers.is_empty() && self.templates.is_empty();
        if no_issuer && self.audiences.is_empty() && !self.unchecked_iss_aud {
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
            return Err(invalid("an issuer or audience is empty"));
        }
        Ok(())
    }

    /// Checks the claims of a token whose signature is valid.
    pub(crate) fn validate(
        &self,
        claims: &RawClaims<'_>,
        members: &Members<'_>,
    ) -> Result<(), AuthError> {
        self.validate_times(claims)?;
        self.check_issuer(claims, members)?;
        self.check_audience(claims, members)?;
        let all_equal = self.equals.iter().all(|(bound, wanted)| {
            members
                .strings(bound)
                .iter()
                .any(|s| wanted.iter().any(|w| s == &**w))
        });
        let present = self.any_present.iter().all(|group| {
            group
                .iter()
                .any(|bound| matches!(members.strings(bound), Strings::One(_)))
        });
        if all_equal && present && self.texts_fit(members) && self.times_past(members) {
            Ok(())
        } else {
            Err(AuthErrorKind::RejectedClaim.into())
        }
    }

    fn texts_fit(&self, members: &Members<'_>) -> bool {
        self.texts
            .iter()
            .all(|(bound, max)| match members.strings(bound) {
                Strings::One(text) => !text.is_empty() && text.chars().count() <= *max,
                _ => false,
            })
    }

    fn times_past(&self, members: &Members<'_>) -> bool {
        if self.past_times.is_empty() {
            return true;
        }
        let (now, leeway) = self.time.now_and_leeway();
        self.past_times.iter().all(|bound| {
            members
                .value(bound)
                .and_then(|v| v.as_f64())
                .is_some_and(|t| t.is_finite() && t <= now + leeway)
        })
    }

    /// The time checks.
    fn validate_times(&self, claims: &RawClaims<'_>) -> Result<(), AuthError> {
        let (now, leeway) = self.time.now_and_leeway();
        let exp = claims.exp.ok_or(AuthErrorKind::InvalidClaims)?.0;
        if now >= exp + leeway {
            return Err(AuthErrorKind::Expired.into());
        }
        if claims.nbf.is_some_and(|nbf| nbf.0 > now + leeway) {
            return Err(AuthErrorKind::NotYetValid.into());
        }
        match claims.iat {
            Some(iat) if iat.0 > now + leeway => return Err(AuthErrorKind::IssuedInFuture.into()),
            None if self.require_iat => return Err(AuthErrorKind::InvalidClaims.into()),
            _ => {}
        }
        if let Some(max) = self.max_lifetime {
            let start = claims.iat.map_or(now, |iat| iat.0);
            if exp - start > max.as_secs() as f64 {
                return Err(AuthErrorKind::LifetimeTooLong.into());
            }
        }
        Ok(())
    }

    fn check_issuer(&self, claims: &RawClaims<'_>, members: &Members<'_>) -> Result<(), AuthError> {
        if self.issuers.is_empty() && self.templates.is_empty() {
            return Ok(());
        }
        let Some(iss) = claims.iss.as_deref() else {
            return Err(AuthErrorKind::InvalidIssuer.into());
        };
        let ok = self.issuers.iter().any(|i| **i == *iss)
            || self.templates.iter().any(|t| t.accepts(iss, members));
        if ok {
            return Ok(());
        }
        self.near_misses.check(iss, &self.issuers);
        Err(AuthErrorKind::InvalidIssuer.into())
    }

    fn check_audience(
        &self,
        claims: &RawClaims<'_>,
        members: &Members<'_>,
    ) -> Result<(), AuthError> {
        let accepted = |a: &str| self.audiences.iter().any(|want| **want == *a);
        let ok = self.audiences.is_empty()
            || if self.audience_claims.is_empty() {
                claims
                    .aud
                    .as_ref()
                    .is_some_and(|aud| aud.iter().any(accepted))
            } else {
                self.audience_claims
                    .iter()
                    .any(|b| members.strings(b).iter().any(accepted))
            };
        if ok {
            Ok(())
        } else {
            Err(AuthErrorKind::InvalidAudience.into())
        }
    }
}

fn invalid(message: impl Into<String>) -> BuildError {
    BuildError::new(BuildErrorKind::InvalidValidation, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Validation;
    use crate::validation::Clock;

    fn claims(json: &str) -> Result<RawClaims<'_>, serde_json::Error> {
        serde_json::from_str(json)
    }

    fn check(v: &Validation, json: &str) -> Result<(), AuthErrorKind> {
        let c = claims(json).map_err(|_| AuthErrorKind::InvalidClaims)?;
        let (_, rules) = v.clone().into_parts();
        rules
            .validate(&c, &Members::default())
            .map_err(|e| e.kind())
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
