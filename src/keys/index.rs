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

    /// Indexes a refetched key set. A set holding exactly the keys of
    /// `previous` (in any order) keeps their parsed (and prepared) objects,
    /// so the tokens they verified stay in the verified-token cache, which
    /// binds each entry to that object. Any change to the set (a key added,
    /// removed or changed, a `kid` now shared) gives every key a new
    /// object: a token cached under the old set is verified afresh, so a
    /// cache hit never answers differently from a fresh verification.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn refreshed(keys: Vec<Key>, previous: Option<&Self>) -> (Self, Vec<Box<str>>) {
        match previous.and_then(|p| p.same_keys(&keys)) {
            Some(shared) => Self::from_shared(shared),
            None => Self::new(keys),
        }
    }

    /// This index's key objects, if `keys` are exactly its keys.
    #[cfg(feature = "remote-jwks")]
    fn same_keys(&self, keys: &[Key]) -> Option<Vec<Arc<Key>>> {
        if keys.len() != self.all.len() {
            return None;
        }
        let mut unused: Vec<&Arc<Key>> = self.all.iter().collect();
        keys.iter()
            .map(|key| {
                let i = unused.iter().position(|old| old.same_as(key))?;
                Some(Arc::clone(unused.swap_remove(i)))
            })
            .collect()
    }

    /// Whether a key (or several, making it ambiguous) has `kid`.
    pub(crate) fn holds(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid) || self.ambiguous.contains(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Key> {
        self.all.iter().map(|k| &**k)
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
    fn an_unchanged_set_keeps_its_objects_a_changed_one_gets_new_ones() {
        let (old, _) = KeyIndex::new([hmac(Some("a"), 1), hmac(Some("b"), 2)]);
        let a = old.find(Some("a"), Algorithm::HS256).unwrap();
        let same = vec![hmac(Some("b"), 2), hmac(Some("a"), 1)];
        let (new, _) = KeyIndex::refreshed(same, Some(&old));
        let a2 = new.find(Some("a"), Algorithm::HS256).unwrap();
        assert!(Arc::ptr_eq(&a, &a2), "the same keys in another order");
        for changed in [
            vec![hmac(Some("a"), 1), hmac(Some("b"), 2), hmac(Some("c"), 3)],
            vec![hmac(Some("a"), 1)],
            vec![hmac(Some("a"), 1), hmac(Some("a"), 3)],
            vec![hmac(Some("a"), 1), hmac(Some("b"), 4)],
        ] {
            let (new, _) = KeyIndex::refreshed(changed, Some(&old));
            assert!(new.all.iter().all(|k| !Arc::ptr_eq(k, &a)));
        }
    }
}
