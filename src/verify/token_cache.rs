//! The verified-token cache (ARCHITECTURE.md, "The verified-token cache"):
//! a client that repeats its token
//! skips the signature check.
//!
//! - Keyed by a fast keyed hash (foldhash, seeded at random per cache) of
//!   the token's length and its last 32 bytes, the end of its signature;
//!   an entry keeps the token and a hit compares it byte for byte, so a
//!   cached answer is only ever reused for the very same bytes, and a hash
//!   collision is only a miss.
//! - Split into up to 16 independent moka caches by the hash's top bits
//!   (each a share of the byte budget): one moka cache under two threads
//!   made cache hits slower than one thread (see BENCHMARKS.md,
//!   contention).
//! - Bounded in bytes (each entry weighs twice its token's length (the
//!   parts read and the copy kept) plus its payload's, plus a fixed
//!   overhead), hence in entries.
//! - An entry never outlives its token's `exp` (moka expires it), and every
//!   hit re-checks `exp` against the validation clock with the same rule as
//!   a full verification.
//! - A token is admitted on its second sighting: a small table remembers a
//!   tag of each token hash seen once, so one-shot tokens (and floods of
//!   distinct tokens) cost only the hash, never an insert or an eviction.
//! - A lookup first asks which hashes the cache may hold (`held.rs`: never
//!   fewer than it holds, kept by moka's eviction listener): a token never
//!   stored is a miss without a probe into moka's table. moka's admission
//!   (TinyLFU) judges a newcomer by its lookups, so each attempt to store a
//!   token looks it up once: a token that keeps coming back gets in.
//! - moka's own hash of a key is the key itself (already a keyed hash).
//! - An entry remembers the key that verified it (weakly): once that key
//!   leaves the key set, the entry is dropped on its next hit and the token
//!   is verified afresh.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use std::hash::BuildHasher as _;

use moka::Expiry;
use moka::sync::Cache;
use nohash_hasher::BuildNoHashHasher;

use super::held::Held;
use crate::claims::VerifiedClaims;
use crate::keys::Key;

/// Fixed per-entry overhead counted on top of the token and payload bytes:
/// the hash key, the entry, moka's bookkeeping, the `Arc`.
pub(crate) const ENTRY_OVERHEAD: u32 = 256;
/// Default capacity: 8 MiB.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Entries never live longer than this, whatever `exp` says.
const MAX_TTL: Duration = Duration::from_secs(3600);

/// The keyed hash of a token (see [`TokenCache::hash`]).
pub(crate) type TokenHash = u64;

/// How many bytes at a token's end its hash reads: 32 base64url characters
/// of the signature (192 bits, three quarters of an HS256 signature),
/// enough to tell any two signatures apart.
const HASHED_TAIL: usize = 32;

/// What the cache holds for a token, behind one `Arc`: moka hands out a
/// clone of the value on every hit, so a hit costs one reference count,
/// not one per field.
pub(crate) struct Entry<C> {
    /// The token itself, compared on a hit.
    token: Box<str>,
    /// The claims, whose `exp` (always present: tokens without one are
    /// not stored) bounds the entry.
    claims: VerifiedClaims<C>,
    key: Weak<Key>,
    weight: u32,
    ttl: Duration,
}

struct ExpireAtExp;

impl<C> Expiry<TokenHash, Arc<Entry<C>>> for ExpireAtExp {
    fn expire_after_create(
        &self,
        _key: &TokenHash,
        value: &Arc<Entry<C>>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Slots of the second-sighting table.
const SEEN_SLOTS: usize = 4096;

/// One of the cache's shards: moka keyed by the token hash, which moka
/// uses as its own hash.
type Shard<C> = Cache<TokenHash, Arc<Entry<C>>, BuildNoHashHasher<TokenHash>>;

/// The cache. Cheap to clone (moka's cache is shared).
pub(crate) struct TokenCache<C> {
    /// Independent caches by the hash's top bits: each has its own read
    /// buffers and locks, so threads on different tokens do not contend.
    shards: Arc<[Shard<C>]>,
    /// The token hash's keys.
    hasher: foldhash::quality::RandomState,
    /// Tags of token hashes seen once, by slot.
    seen: Arc<[AtomicU64]>,
    /// Which hashes the shards may hold.
    held: Arc<Held>,
    metrics: Arc<crate::metrics::TokenCacheMetrics>,
}

impl<C> Clone for TokenCache<C> {
    fn clone(&self) -> Self {
        Self {
            shards: Arc::clone(&self.shards),
            hasher: self.hasher.clone(),
            seen: Arc::clone(&self.seen),
            held: Arc::clone(&self.held),
            metrics: Arc::clone(&self.metrics),
        }
    }
}

impl<C> fmt::Debug for TokenCache<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl<C: Send + Sync + 'static> TokenCache<C> {
    /// The key of `token`: a keyed hash of its length and its last
    /// [`HASHED_TAIL`] bytes (the end of the signature, which differs
    /// between any two tokens a signer made). The whole token is compared
    /// on a hit, so tokens sharing a tail only share a slot: a token
    /// crafted to share a cached token's tail fails its own verification
    /// and is never stored, so it cannot displace that entry.
    pub(crate) fn hash(&self, token: &str) -> TokenHash {
        let bytes = token.as_bytes();
        let tail = bytes
            .get(bytes.len().saturating_sub(HASHED_TAIL)..)
            .unwrap_or(bytes);
        self.hasher.hash_one((bytes.len(), tail))
    }

    pub(crate) fn new(max_bytes: u64) -> Self {
        // Shards of at least 256 KiB each, at most 16.
        let count = (max_bytes / (256 * 1024)).clamp(1, 16);
        let held = Arc::new(Held::new(max_bytes));
        let shard = |_| {
            let held = Arc::clone(&held);
            Cache::builder()
                .max_capacity(max_bytes / count)
                .weigher(|_k, v: &Arc<Entry<C>>| v.weight)
                .expire_after(ExpireAtExp)
                // Every removal, whatever its cause (evicted, expired,
                // invalidated, replaced).
                .eviction_listener(move |hash: Arc<TokenHash>, _, _| held.removed(*hash))
                .build_with_hasher(BuildNoHashHasher::default())
        };
        Self {
            shards: (0..count).map(shard).collect(),
            hasher: foldhash::quality::RandomState::default(),
            seen: (0..SEEN_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            held,
            metrics: Arc::default(),
        }
    }

    /// The shard of `hash` (its top bits; the low ones pick moka's own
    /// buckets and the second-sighting slot).
    fn shard(&self, hash: TokenHash) -> Option<&Shard<C>> {
        let index = (hash >> 48) % self.shards.len() as u64;
        self.shards.get(index as usize)
    }

    fn entry_count(&self) -> u64 {
        self.shards.iter().map(Cache::entry_count).sum()
    }

    #[cfg(test)]
    fn weighted_size(&self) -> u64 {
        self.shards.iter().map(Cache::weighted_size).sum()
    }

    /// Whether this token was seen once before; remembers it otherwise.
    fn second_sighting(&self, hash: TokenHash) -> bool {
        // The low bits pick the slot; the whole hash is the tag.
        let slot = (hash % SEEN_SLOTS as u64) as usize;
        let tag = hash;
        let Some(cell) = self.seen.get(slot) else {
            return false;
        };
        if cell.load(Ordering::Relaxed) == tag {
            true
        } else {
            cell.store(tag, Ordering::Relaxed);
            false
        }
    }

    /// The cached claims of `token` (whose key is `hash`), if still valid
    /// at the time `clock` gives (seconds, and the leeway), which is read
    /// only when the cache holds an entry under `hash`.
    pub(crate) fn get(
        &self,
        hash: TokenHash,
        token: &str,
        clock: impl FnOnce() -> (f64, f64),
    ) -> Option<VerifiedClaims<C>> {
        match self.live_entry(hash, token, clock) {
            Some(entry) => {
                self.metrics.hit();
                Some(entry.claims.clone())
            }
            None => {
                self.metrics.miss();
                None
            }
        }
    }

    /// The entry of `token` if the cache holds one still valid, dropping
    /// one that is not. A hash the cache cannot hold is not looked up.
    fn live_entry(
        &self,
        hash: TokenHash,
        token: &str,
        clock: impl FnOnce() -> (f64, f64),
    ) -> Option<Arc<Entry<C>>> {
        if !self.held.may_hold(hash) {
            return None;
        }
        let cache = self.shard(hash)?;
        cache.get(&hash).filter(|entry| {
            // Another token under the same hash: a miss, nothing more.
            if *entry.token != *token {
                return false;
            }
            let (now, leeway) = clock();
            let live = entry.claims.exp().is_some_and(|exp| now < exp + leeway)
                && entry.key.strong_count() > 0;
            if !live {
                cache.invalidate(&hash);
            }
            live
        })
    }

    /// Remembers a verified token.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &self,
        hash: TokenHash,
        token: &str,
        claims: &VerifiedClaims<C>,
        key: &Arc<Key>,
        now: f64,
        leeway: f64,
        bytes: usize,
    ) {
        // A token without `exp` is never stored.
        let Some(exp) = claims.exp() else {
            return;
        };
        let remaining = exp + leeway - now;
        if remaining <= 0.0 || !self.second_sighting(hash) {
            return;
        }
        let ttl = Duration::from_secs_f64(remaining.min(MAX_TTL.as_secs_f64()));
        // What the verification read (`bytes`: the token's parts and its
        // decoded payload, which the claims hold) plus the copy of the
        // token the entry keeps, plus the fixed overhead.
        let weight = u32::try_from(bytes.saturating_add(token.len()))
            .unwrap_or(u32::MAX)
            .saturating_add(ENTRY_OVERHEAD);
        let Some(cache) = self.shard(hash) else {
            return;
        };
        // moka admits a newcomer into a full shard only if it was looked up
        // more often than the entries it would evict, and lookups of tokens
        // the shard does not hold skip moka (`held`): this one counts the
        // sighting, so a token that keeps coming back gets in.
        if let Some(entry) = cache.get(&hash)
            && *entry.token == *token
        {
            return;
        }
        self.held.added(hash);
        cache.insert(
            hash,
            Arc::new(Entry {
                token: Box::from(token),
                claims: claims.clone(),
                key: Arc::downgrade(key),
                weight,
                ttl,
            }),
        );
        self.metrics.entries(|| self.entry_count());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_000_000.0;

    fn key() -> Arc<Key> {
        Arc::new(Key::hmac([7u8; 32]).unwrap())
    }

    fn claims(sub: &str, exp: f64) -> VerifiedClaims<String> {
        VerifiedClaims::new(
            sub.to_owned(),
            Box::from(""),
            crate::claims::Roles::default(),
            None,
            Some(exp),
            None,
        )
    }

    /// Inserts twice (a token is admitted on its second sighting).
    fn admit(cache: &TokenCache<String>, token: &str, exp: f64, key: &Arc<Key>) {
        for _ in 0..2 {
            cache.insert(
                cache.hash(token),
                token,
                &claims(token, exp),
                key,
                NOW,
                0.0,
                token.len(),
            );
        }
    }

    /// Lets every shard apply its pending writes (moka does it lazily).
    fn settle(cache: &TokenCache<String>) {
        for shard in cache.shards.iter() {
            shard.run_pending_tasks();
        }
    }

    /// A 64 KiB cache after 1000 tokens named `name-<i>` were each admitted
    /// (most of them evicted since), and the tokens.
    fn full_cache(name: &str) -> (TokenCache<String>, Arc<Key>, Vec<String>) {
        let (cache, key) = (TokenCache::new(64 * 1024), key());
        let tokens: Vec<String> = (0..1000).map(|i| format!("{name}-{i}")).collect();
        for token in &tokens {
            admit(&cache, token, NOW + 600.0, &key);
        }
        settle(&cache);
        (cache, key, tokens)
    }

    #[test]
    fn a_token_seen_once_is_not_stored_a_second_sighting_is() {
        let (cache, key) = (TokenCache::new(DEFAULT_MAX_BYTES), key());
        let sight = || {
            cache.insert(
                cache.hash("a"),
                "a",
                &claims("a", NOW + 60.0),
                &key,
                NOW,
                0.0,
                1,
            )
        };
        sight();
        assert!(cache.get(cache.hash("a"), "a", || (NOW, 0.0)).is_none());
        sight();
        let hit = cache
            .get(cache.hash("a"), "a", || (NOW, 0.0))
            .expect("admitted");
        assert_eq!(hit.claims(), "a");
        assert!(
            cache.get(cache.hash("b"), "b", || (NOW, 0.0)).is_none(),
            "another token"
        );
        // Another token under the first one's hash (a collision) misses,
        // and leaves the entry alone.
        assert!(cache.get(cache.hash("a"), "b", || (NOW, 0.0)).is_none());
        assert!(cache.get(cache.hash("a"), "a", || (NOW, 0.0)).is_some());
    }

    #[test]
    fn a_hit_rechecks_exp_with_the_leeway() {
        let (cache, key) = (TokenCache::new(DEFAULT_MAX_BYTES), key());
        admit(&cache, "t", NOW + 10.0, &key);
        assert!(
            cache
                .get(cache.hash("t"), "t", || (NOW + 9.0, 0.0))
                .is_some()
        );
        assert!(
            cache
                .get(cache.hash("t"), "t", || (NOW + 12.0, 5.0))
                .is_some()
        );
        assert!(
            cache
                .get(cache.hash("t"), "t", || (NOW + 10.0, 0.0))
                .is_none(),
            "exp reached"
        );
        assert!(
            cache.get(cache.hash("t"), "t", || (NOW, 0.0)).is_none(),
            "and dropped"
        );
    }

    #[test]
    fn an_expired_token_is_never_stored() {
        let (cache, key) = (TokenCache::new(DEFAULT_MAX_BYTES), key());
        admit(&cache, "old", NOW - 1.0, &key);
        assert!(
            cache
                .get(cache.hash("old"), "old", || (NOW - 2.0, 0.0))
                .is_none()
        );
    }

    #[test]
    fn a_token_without_exp_is_never_stored() {
        let (cache, key) = (TokenCache::new(DEFAULT_MAX_BYTES), key());
        let forever = VerifiedClaims::new(
            "t".to_owned(),
            Box::from(""),
            crate::claims::Roles::default(),
            None,
            None,
            None,
        );
        for _ in 0..2 {
            cache.insert(cache.hash("t"), "t", &forever, &key, NOW, 0.0, 1);
        }
        assert!(cache.get(cache.hash("t"), "t", || (NOW, 0.0)).is_none());
    }

    #[test]
    fn an_entry_dies_with_the_key_that_verified_it() {
        let cache = TokenCache::new(DEFAULT_MAX_BYTES);
        let key = key();
        admit(&cache, "t", NOW + 60.0, &key);
        assert!(cache.get(cache.hash("t"), "t", || (NOW, 0.0)).is_some());
        drop(key);
        assert!(cache.get(cache.hash("t"), "t", || (NOW, 0.0)).is_none());
    }

    #[test]
    fn the_cache_is_bounded_in_bytes() {
        let (cache, _key, _) = full_cache("token");
        // The lightest entry: "token-0" counted twice (the parts read and
        // the copy kept), plus the overhead.
        let lightest = u64::from(ENTRY_OVERHEAD) + 2 * 7;
        assert!(cache.weighted_size() <= 64 * 1024);
        assert!(cache.entry_count() <= 64 * 1024 / lightest + 1);
        assert!(cache.entry_count() > 0);
    }

    #[test]
    fn the_held_filter_never_hides_an_entry_and_forgets_removed_ones() {
        let (cache, key, tokens) = full_cache("token");
        // Most were evicted (64 KiB); every one still there is found.
        let in_moka = |t: &str| {
            cache
                .shard(cache.hash(t))
                .is_some_and(|s| s.contains_key(&cache.hash(t)))
        };
        let stored: Vec<&String> = tokens.iter().filter(|t| in_moka(t)).collect();
        assert!(!stored.is_empty() && stored.len() < tokens.len());
        for token in &stored {
            assert!(cache.held.may_hold(cache.hash(token)));
            assert!(cache.get(cache.hash(token), token, || (NOW, 0.0)).is_some());
        }
        // Stored again (moka replaces the entry): still found once.
        let again = stored.first().copied().expect("one stored");
        admit(&cache, again, NOW + 600.0, &key);
        settle(&cache);
        assert!(in_moka(again));
        assert!(cache.get(cache.hash(again), again, || (NOW, 0.0)).is_some());
        // Their key leaves: each hit drops its entry, and with it the mark.
        drop(key);
        for token in &stored {
            assert!(cache.get(cache.hash(token), token, || (NOW, 0.0)).is_none());
        }
        settle(&cache);
        assert_eq!(cache.entry_count(), 0);
        let marked = tokens
            .iter()
            .filter(|t| cache.held.may_hold(cache.hash(t)))
            .count();
        assert_eq!(marked, 0, "every removal released its slot");
    }

    /// One request as the verifier makes it: a lookup, and on a miss the
    /// insert that follows a successful verification.
    fn request(cache: &TokenCache<String>, token: &str, key: &Arc<Key>) -> bool {
        let hash = cache.hash(token);
        if cache.get(hash, token, || (NOW, 0.0)).is_some() {
            return true;
        }
        let claims = claims(token, NOW + 600.0);
        cache.insert(hash, token, &claims, key, NOW, 0.0, token.len());
        settle(cache);
        false
    }

    #[test]
    fn a_full_cache_still_takes_a_token_that_keeps_coming_back() {
        // Full of entries, each used three times since it was stored.
        let (cache, key, tokens) = full_cache("used");
        for token in &tokens {
            for _ in 0..3 {
                cache.get(cache.hash(token), token, || (NOW, 0.0));
            }
        }
        settle(&cache);
        assert!(cache.entry_count() > 100, "full");
        // A client repeating its token: misses while moka weighs it against
        // the entries it would evict, then hits from then on.
        let answers: Vec<bool> = (0..16).map(|_| request(&cache, "busy", &key)).collect();
        let first_hit = answers.iter().position(|hit| *hit);
        assert!(
            first_hit.is_some_and(|at| answers[at..].iter().all(|hit| *hit)),
            "{answers:?}"
        );
    }

    #[test]
    fn tokens_never_stored_are_known_absent() {
        let (cache, key) = (TokenCache::new(DEFAULT_MAX_BYTES), key());
        for i in 0..20 {
            admit(&cache, &format!("stored-{i}"), NOW + 600.0, &key);
        }
        for i in 0..20 {
            assert!(cache.held.may_hold(cache.hash(&format!("stored-{i}"))));
        }
        // 32 768 slots, 20 taken: a token never stored shares one only by
        // chance (about 1 in 1600), so all but a few are answered without
        // asking moka.
        let absent = (0..200)
            .filter(|i| !cache.held.may_hold(cache.hash(&format!("never-{i}"))))
            .count();
        assert!(absent >= 190, "{absent} of 200 known absent");
    }

    #[test]
    fn a_large_cache_is_split_into_shards_that_share_its_bound() {
        let max = 4 * 1024 * 1024;
        let (cache, key) = (TokenCache::new(max), key());
        assert_eq!(cache.shards.len(), 16);
        for i in 0..2000 {
            admit(&cache, &format!("token-{i}"), NOW + 600.0, &key);
        }
        settle(&cache);
        assert!(cache.weighted_size() <= max);
        assert_eq!(cache.entry_count(), 2000, "all fit");
        let used = cache.shards.iter().filter(|s| s.entry_count() > 0).count();
        assert!(used > 8, "tokens spread over the shards: {used} of 16");
    }
}
