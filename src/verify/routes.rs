//! Where a token's keys and claim rules come from: one route for every
//! token, or one per issuer chosen by the token's (unverified) `iss`.

use std::collections::HashMap;
use std::sync::Arc;

use super::issuer::Template;
use super::rules::ClaimRules;
use super::wire::IssuerOnly;
use crate::error::{AuthError, AuthErrorKind};
use crate::keys::{AlgSet, KeySource};

/// The keys and claim rules of one issuer (or of all tokens).
pub(crate) struct Route {
    pub(crate) keys: Arc<dyn KeySource>,
    /// What `keys` could ever verify: a token of another algorithm is
    /// refused before any lookup (an HMAC token never reaches a remote set).
    pub(crate) algorithms: AlgSet,
    pub(crate) rules: ClaimRules,
}

impl Route {
    pub(crate) fn new(keys: Arc<dyn KeySource>, rules: ClaimRules) -> Self {
        Self {
            algorithms: keys.algorithms(),
            keys,
            rules,
        }
    }
}

/// Every route of a verifier.
pub(crate) enum Routes {
    /// One key source for every token.
    Single(Box<Route>),
    /// A key source per issuer, chosen by the token's (unverified) `iss`:
    /// an exact issuer, else the first template it fits; an unknown `iss`
    /// is refused without any I/O.
    ByIssuer {
        exact: HashMap<Box<str>, Route>,
        templates: Vec<(Template, Route)>,
    },
}

impl Routes {
    /// The route for a token whose payload is `payload`. With several
    /// issuers only the (unverified) `iss` member is read here, with the
    /// same strict rules as later; everything else in the payload is read
    /// once, after the signature.
    pub(crate) fn pick(&self, payload: &[u8]) -> Result<&Route, AuthError> {
        match self {
            Self::Single(route) => Ok(route),
            Self::ByIssuer { exact, templates } => {
                let issuer: IssuerOnly<'_> = serde_json::from_slice(payload)
                    .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
                let iss = issuer.iss.as_deref().ok_or(AuthErrorKind::InvalidIssuer)?;
                let fits = |(t, _): &&(Template, Route)| t.fits(iss);
                exact
                    .get(iss)
                    .or_else(|| templates.iter().find(fits).map(|(_, route)| route))
                    .ok_or_else(|| AuthErrorKind::InvalidIssuer.into())
            }
        }
    }

    /// Every algorithm some route's keys could verify.
    pub(crate) fn algorithms(&self) -> AlgSet {
        match self {
            Self::Single(route) => route.algorithms,
            Self::ByIssuer { exact, templates } => exact
                .values()
                .chain(templates.iter().map(|(_, r)| r))
                .fold(AlgSet::EMPTY, |acc, r| acc.union(r.algorithms)),
        }
    }
}
