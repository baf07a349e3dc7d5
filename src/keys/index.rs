//! An immutable index of keys by `kid`, shared by static and remote key sets.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jsonwebtoken::Algorithm;

use super::Key;
use crate::error::AuthErrorKind;

/// Why a lookup found no key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// The token names a `kid` the set does not hold: a newer key set
    /// might.
    UnknownKid,
    /// A final answer (wrong algorithm, ambiguous choice, no kid to pick by).
    Final(AuthErrorKind),
}

/// Keys by `kid`, plus the keys without one.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    by_kid: HashMap<Box<str>, Arc<Key>>,
    /// Kids that more than one key claims: never resolved to either.
    ambiguous: HashSet<Box<str>>,
    kidless: Vec<Arc<Key>>,
    all: Vec<Arc<Key>>,
}

impl KeyIndex {
    /// Indexes `keys`. Returns the index and the kids claimed twice (which
    /// are unusable).
    pub(crate) fn new(keys: impl IntoIterator<Item = Key>) -> (Self, Vec<Box<str>>) {
        Self::from_shared(keys.into_iter().map(Arc::new))
    }

    /// Like [`new`](Self::new), for keys already shared.
    pub(crate) fn from_shared(keys: impl IntoIterator<Item = Arc<Key>>) -> (Self, Vec<Box<str>>) {
        let mut index = Self::default();
        for key in keys {
            match key.kid() {
                Some(kid) if index.ambiguous.contains(kid) => {}
                Some(kid) => {
                    if index.by_kid.insert(kid.into(), Arc::clone(&key)).is_some() {
                        index.by_kid.remove(kid);
                        index.ambiguous.insert(kid.into());
                    }
                }
                None => index.kidless.push(Arc::clone(&key)),
            }
            index.all.push(key);
        }
        let dups = index.ambiguous.iter().cloned().collect();
        (index, dups)
    }

    /// Indexes a refetched key set. Unchanged keys keep the parsed (and
    /// prepared) object of `previous`, so tokens they verified stay in the
    /// verified-token cache, which binds each entry to that object. A key
    /// whose `kid` the new set claims twice gets a new object: the cache
    /// entries it verified die with the old one, so a cached token never
    /// outlives its key becoming ambiguous.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn refreshed(keys: Vec<Key>, previous: Option<&Self>) -> (Self, Vec<Box<str>>) {
        let mut seen = HashSet::new();
        let shared_kids: HashSet<Box<str>> = keys
            .iter()
            .filter_map(Key::kid)
            .filter(|kid| !seen.insert(*kid))
            .map(Box::from)
            .collect();
        let keys = keys.into_iter().map(|key| {
            let reusable = key.kid().is_none_or(|kid| !shared_kids.contains(kid));
            previous
                .filter(|_| reusable)
                .and_then(|p| p.same_as(&key))
                .unwrap_or_else(|| Arc::new(key))
        });
        Self::from_shared(keys)
    }

    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Key> {
        self.all.iter().map(|k| &**k)
    }

    /// The shared key equal to `key`, if the index holds one.
    #[cfg(feature = "remote-jwks")]
    fn same_as(&self, key: &Key) -> Option<Arc<Key>> {
        self.all.iter().find(|k| k.same_as(key)).cloned()
    }

    /// Finds the key for a token.
    ///
    /// - A `kid` the set names picks that key (if it allows `alg`).
    /// - An unknown `kid` falls back to the single key without a kid that
    ///   allows `alg`; otherwise it is [`Miss::UnknownKid`].
    /// - Without a `kid`, the single key (of any id) allowing `alg` is used.
    /// - Two candidates are ambiguous and refused, never resolved to the
    ///   first.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>, Miss> {
        match kid {
            Some(kid) if self.ambiguous.contains(kid) => {
                Err(Miss::Final(AuthErrorKind::UnknownKey))
            }
            Some(kid) => match self.by_kid.get(kid) {
                Some(key) if key.allows(alg) => Ok(Arc::clone(key)),
                Some(_) => Err(Miss::Final(AuthErrorKind::AlgorithmNotAllowed)),
                None if self.kidless.is_empty() => Err(Miss::UnknownKid),
                None => single(&self.kidless, alg),
            },
            None => single(&self.all, alg),
        }
    }
}

fn single(keys: &[Arc<Key>], alg: Algorithm) -> Result<Arc<Key>, Miss> {
    let mut fitting = keys.iter().filter(|k| k.allows(alg));
    match (fitting.next(), fitting.next()) {
        (Some(key), None) => Ok(Arc::clone(key)),
        (Some(_), Some(_)) => Err(Miss::Final(AuthErrorKind::UnknownKey)),
        (None, _) if keys.is_empty() => Err(Miss::Final(AuthErrorKind::UnknownKey)),
        (None, _) => Err(Miss::Final(AuthErrorKind::AlgorithmNotAllowed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac(kid: Option<&str>, fill: u8) -> Key {
        let k = Key::hmac([fill; 64]).unwrap();
        match kid {
            Some(id) => k.with_kid(id),
            None => k,
        }
    }

    #[test]
    fn duplicate_kids_never_resolve_to_the_first() {
        let (index, dups) =
            KeyIndex::new([hmac(Some("a"), 1), hmac(Some("a"), 2), hmac(Some("b"), 3)]);
        assert_eq!(dups, vec![Box::from("a")]);
        assert_eq!(
            index.find(Some("a"), Algorithm::HS256).unwrap_err(),
            Miss::Final(AuthErrorKind::UnknownKey)
        );
        assert!(index.find(Some("b"), Algorithm::HS256).is_ok());
    }

    #[test]
    fn unknown_kid_is_a_soft_miss_only_without_kidless_keys() {
        let (index, _) = KeyIndex::new([hmac(Some("a"), 1)]);
        assert_eq!(
            index.find(Some("zzz"), Algorithm::HS256).unwrap_err(),
            Miss::UnknownKid
        );
        let (index, _) = KeyIndex::new([hmac(Some("a"), 1), hmac(None, 2)]);
        assert!(index.find(Some("zzz"), Algorithm::HS256).is_ok());
    }

    #[test]
    fn kidless_token_needs_exactly_one_candidate() {
        let (index, _) = KeyIndex::new([hmac(Some("a"), 1)]);
        assert!(index.find(None, Algorithm::HS256).is_ok());
        let (index, _) = KeyIndex::new([hmac(Some("a"), 1), hmac(Some("b"), 2)]);
        assert_eq!(
            index.find(None, Algorithm::HS256).unwrap_err(),
            Miss::Final(AuthErrorKind::UnknownKey)
        );
        assert_eq!(
            index.find(None, Algorithm::ES256).unwrap_err(),
            Miss::Final(AuthErrorKind::AlgorithmNotAllowed)
        );
    }

    #[cfg(feature = "remote-jwks")]
    #[test]
    fn unchanged_keys_keep_their_object_unless_their_kid_became_shared() {
        let (old, _) = KeyIndex::new([hmac(Some("a"), 1), hmac(Some("b"), 2)]);
        let a = old.find(Some("a"), Algorithm::HS256).unwrap();
        let b = old.find(Some("b"), Algorithm::HS256).unwrap();
        let (new, dups) = KeyIndex::refreshed(
            vec![hmac(Some("a"), 1), hmac(Some("a"), 3), hmac(Some("b"), 2)],
            Some(&old),
        );
        assert_eq!(dups, vec![Box::from("a")]);
        let b2 = new.find(Some("b"), Algorithm::HS256).unwrap();
        assert!(Arc::ptr_eq(&b, &b2), "an unchanged key keeps its object");
        assert!(
            new.all.iter().all(|k| !Arc::ptr_eq(k, &a)),
            "a key whose kid is now shared gets a new object"
        );
    }
}
