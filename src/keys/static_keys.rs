//! Keys held in memory: HMAC secrets, PEM, DER, JWK and JWK Set documents.

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use super::index::{KeyIndex, Miss};
use super::jwk::{JwkPolicy, parse_jwks};
use super::{AlgSet, Key, KeySource, Lookup};
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};

/// The most keys a static set or a JWK Set document may hold.
pub(crate) const MAX_KEYS: usize = 100;

/// The usable keys of a JWK Set document; an error when there is none.
pub(crate) fn jwks_keys(json: &str) -> Result<Vec<Key>, BuildError> {
    let parsed = parse_jwks(json, JwkPolicy::LOCAL, MAX_KEYS)
        .map_err(|why| BuildError::new(BuildErrorKind::InvalidKey, format!("JWK Set: {why}")))?;
    if parsed.keys.is_empty() {
        return Err(BuildError::new(
            BuildErrorKind::NoKey,
            format!(
                "JWK Set holds no usable key ({})",
                parsed.skipped.join("; ")
            ),
        ));
    }
    Ok(parsed.keys)
}

/// A fixed set of keys, picked by `kid`.
///
/// - A token whose `kid` names a key uses that key (if it allows the alg).
/// - A token whose `kid` is unknown, or that has none, uses the single key
///   without a `kid` (or, without a `kid`, the single key of any id) that
///   allows its algorithm; two candidates are ambiguous and refused.
///
/// Two keys with the same `kid` are a build error.
#[derive(Clone, Debug)]
pub struct StaticKeys {
    index: Arc<KeyIndex>,
    algorithms: AlgSet,
}

impl StaticKeys {
    /// A set from the given keys.
    ///
    /// # Errors
    ///
    /// No key, more than 100 keys, or two keys with one `kid`.
    pub fn new(keys: impl IntoIterator<Item = Key>) -> Result<Self, BuildError> {
        let (index, dups) = KeyIndex::new(keys);
        if !dups.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::DuplicateKid,
                "two keys share one kid",
            ));
        }
        if index.len() == 0 {
            return Err(BuildError::new(
                BuildErrorKind::NoKey,
                "no verification key configured",
            ));
        }
        if index.len() > MAX_KEYS {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                format!("more than {MAX_KEYS} keys"),
            ));
        }
        let algorithms = index
            .keys()
            .fold(AlgSet::EMPTY, |acc, k| acc.union(k.algorithms()));
        Ok(Self {
            index: Arc::new(index),
            algorithms,
        })
    }

    /// The usable keys of a JWK Set document held in memory. Unusable
    /// entries (encryption keys, unsupported types, weak RSA) are skipped.
    ///
    /// # Errors
    ///
    /// A malformed document, one without any usable key, or duplicate kids.
    pub fn from_jwks_json(json: &str) -> Result<Self, BuildError> {
        Self::new(jwks_keys(json)?)
    }

    /// The keys in the set.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.index.keys()
    }

    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>, AuthError> {
        self.index.find(kid, alg).map_err(|miss| match miss {
            Miss::UnknownKid => AuthErrorKind::UnknownKey.into(),
            Miss::Final(kind) => kind.into(),
        })
    }
}

impl KeySource for StaticKeys {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        Lookup::Ready(self.find(kid, alg))
    }

    /// The algorithms of its keys.
    fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    fn holds_kid(&self, kid: &str) -> Option<bool> {
        Some(self.index.holds(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac(kid: Option<&str>) -> Key {
        let k = Key::hmac([1u8; 64]).unwrap();
        match kid {
            Some(id) => k.with_kid(id),
            None => k,
        }
    }

    #[test]
    fn duplicate_kids_are_refused() {
        assert!(StaticKeys::new([hmac(Some("a")), hmac(Some("a"))]).is_err());
        assert!(StaticKeys::new([]).is_err());
    }

    #[test]
    fn lookup_rules() {
        let keys = StaticKeys::new([hmac(Some("a")), hmac(Some("b"))]).unwrap();
        assert_eq!(
            keys.find(Some("a"), Algorithm::HS256).unwrap().kid(),
            Some("a")
        );
        let kind = |r: Result<Arc<Key>, AuthError>| r.unwrap_err().kind();
        assert_eq!(
            kind(keys.find(Some("c"), Algorithm::HS256)),
            AuthErrorKind::UnknownKey
        );
        // Two candidates without a kid: ambiguous, never the first one.
        assert_eq!(
            kind(keys.find(None, Algorithm::HS256)),
            AuthErrorKind::UnknownKey
        );
        assert_eq!(
            kind(keys.find(Some("a"), Algorithm::RS256)),
            AuthErrorKind::AlgorithmNotAllowed
        );

        let single_key = StaticKeys::new([hmac(None)]).unwrap();
        assert!(single_key.find(None, Algorithm::HS256).is_ok());
        assert!(single_key.find(Some("whatever"), Algorithm::HS512).is_ok());
        assert_eq!(
            kind(single_key.find(None, Algorithm::ES256)),
            AuthErrorKind::AlgorithmNotAllowed
        );
    }
}
