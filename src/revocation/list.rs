//! [`RevocationList`]: the local mirror every request is checked against,
//! without I/O. Revoked `jti`s (each until its token's `exp`) and subject
//! cutoffs (each until the longest token lifetime has passed), in sharded
//! maps keyed by a keyed 64-bit hash of the string; an entry keeps its
//! string, compared on a hit and written back to a store that lost it.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, RandomState};
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use nohash_hasher::NoHashHasher;

/// Shards per map: lookups take a read lock on one shard only.
const SHARDS: usize = 16;

/// A map from a hash to a time (seconds since the epoch) and the id: the
/// already well-mixed hash is its own hash.
type Shard = RwLock<HashMap<u64, (u64, Box<str>), BuildHasherDefault<NoHashHasher<u64>>>>;

/// What a revocation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// One token, by `jti`; the time is its `exp`.
    Token,
    /// Everything a subject holds issued at or before the time (`sub`).
    Subject,
}

/// The mirror. Bounded: past `max_entries` it records nothing more and
/// says so ([`RevocationList::insert`] answers `false`), and the owner
/// applies its failure policy.
pub(crate) struct RevocationList {
    /// Keys the hash so that nobody can aim a `jti` at another's slot.
    hasher: RandomState,
    tokens: Box<[Shard]>,
    subjects: Box<[Shard]>,
    entries: AtomicUsize,
    max_entries: usize,
}

fn shards() -> Box<[Shard]> {
    (0..SHARDS).map(|_| Shard::default()).collect()
}

impl RevocationList {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            tokens: shards(),
            subjects: shards(),
            entries: AtomicUsize::new(0),
            max_entries,
        }
    }

    fn shard(&self, kind: Kind, hash: u64) -> Option<&Shard> {
        let shards = match kind {
            Kind::Token => &self.tokens,
            Kind::Subject => &self.subjects,
        };
        // The low bits pick the map's bucket; the high ones the shard.
        shards.get((hash >> 60) as usize % SHARDS)
    }

    /// The time recorded for `id`, if any.
    pub(crate) fn get(&self, kind: Kind, id: &str) -> Option<u64> {
        let hash = self.hasher.hash_one(id);
        let shard = self.shard(kind, hash)?;
        let map = shard
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(&hash)
            .filter(|(_, held)| **held == *id)
            .map(|(time, _)| *time)
    }

    /// Records `id` until `time` (keeping the later time of two). `false`
    /// when the list is full and `id` is new: not recorded.
    pub(crate) fn insert(&self, kind: Kind, id: &str, time: u64) -> bool {
        let hash = self.hasher.hash_one(id);
        let Some(shard) = self.shard(kind, hash) else {
            return false;
        };
        let mut map = shard
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // (Two ids on one 64-bit keyed hash: never in practice; the newer
        // one would be kept rather than neither.)
        if let Some((old, held)) = map.get_mut(&hash)
            && **held == *id
        {
            *old = (*old).max(time);
            return true;
        }
        if self.entries.load(Ordering::Relaxed) >= self.max_entries {
            return false;
        }
        if map.insert(hash, (time, Box::from(id))).is_some() {
            return true;
        }
        self.entries.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Drops token entries whose `exp` is more than [`MARGIN`] before
    /// `now` and subject cutoffs older than `now - max_lifetime - MARGIN`:
    /// no token they name can pass any more (the margin covers a
    /// verifier's leeway).
    pub(crate) fn purge(&self, now: u64, max_lifetime: u64) {
        let now = now.saturating_sub(super::MARGIN);
        let oldest_cutoff = now.saturating_sub(max_lifetime);
        for (shards, keep_from) in [(&self.tokens, now), (&self.subjects, oldest_cutoff)] {
            for shard in shards.iter() {
                let mut map = shard
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let before = map.len();
                map.retain(|_, (time, _)| *time >= keep_from);
                self.entries
                    .fetch_sub(before - map.len(), Ordering::Relaxed);
            }
        }
    }

    /// Every entry of `kind`, for writing back to a store.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn entries(&self, kind: Kind) -> Vec<(Box<str>, u64)> {
        let shards = match kind {
            Kind::Token => &self.tokens,
            Kind::Subject => &self.subjects,
        };
        let mut out = Vec::new();
        for shard in shards.iter() {
            let map = shard
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            out.extend(map.values().map(|(time, id)| (id.clone(), *time)));
        }
        out
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_looks_up_keeps_the_later_time_and_purges() {
        let list = RevocationList::new(10);
        assert!(list.insert(Kind::Token, "a", 100));
        assert!(list.insert(Kind::Subject, "a", 50));
        assert_eq!(list.get(Kind::Token, "a"), Some(100));
        assert_eq!(list.get(Kind::Subject, "a"), Some(50));
        assert_eq!(list.get(Kind::Token, "b"), None);
        assert!(list.insert(Kind::Subject, "a", 40));
        assert_eq!(list.get(Kind::Subject, "a"), Some(50));
        assert_eq!(list.len(), 2);
        // At 120 the token has expired; the cutoff (50) is within a
        // lifetime of 100 and stays.
        let m = super::super::MARGIN;
        list.purge(100 + m, 100);
        assert_eq!(list.get(Kind::Token, "a"), Some(100), "kept for the margin");
        list.purge(120 + m, 100);
        assert_eq!(list.get(Kind::Token, "a"), None);
        assert_eq!(list.get(Kind::Subject, "a"), Some(50));
        list.purge(151 + m, 100);
        assert_eq!(list.len(), 0);
    }

    #[test]
    fn a_full_list_records_nothing_new() {
        let list = RevocationList::new(2);
        assert!(list.insert(Kind::Token, "a", 1));
        assert!(list.insert(Kind::Token, "b", 1));
        assert!(!list.insert(Kind::Token, "c", 1));
        assert!(list.insert(Kind::Token, "a", 5), "an update still works");
        assert_eq!(list.get(Kind::Token, "c"), None);
    }
}
