//! The `jti` replay cache: each proof's `jti` is accepted once within the
//! `iat` window (RFC 9449 §11.1). An id is recorded only once the request's
//! token has verified and is bound to the proof's key, so only holders of
//! a bound token can fill the cache. Bounded in entries: a full shard first
//! forgets expired ids, then the one closest to expiry, so keep the bound
//! well above your DPoP request rate × twice the window.
//!
//! Sharded maps behind short locks: a check-and-insert costs a hash and a
//! map operation (a general-purpose cache with admission and waiter
//! machinery cost several microseconds here, a sizeable part of a DPoP
//! request).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// The number of shards (a power of two).
const SHARDS: usize = 16;

/// Ids of one shard, with the time each may be forgotten.
type Shard = Mutex<HashMap<Box<str>, Instant>>;

/// Proof ids seen recently.
#[derive(Debug)]
pub(crate) struct Replays {
    shards: Box<[Shard]>,
    hasher: RandomState,
    ttl: Duration,
    per_shard: usize,
}

impl Replays {
    /// Remembers ids for `ttl` (twice the `iat` window: a proof stamped at
    /// the window's far edge can arrive until its other edge), at most
    /// about `capacity` of them.
    pub(crate) fn new(ttl: Duration, capacity: u64) -> Self {
        let per_shard = usize::try_from(capacity / SHARDS as u64)
            .unwrap_or(usize::MAX)
            .max(1);
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            ttl,
            per_shard,
        }
    }

    fn shard(&self, jti: &str) -> Option<MutexGuard<'_, HashMap<Box<str>, Instant>>> {
        let index = self.hasher.hash_one(jti) as usize % SHARDS;
        let shard = self.shards.get(index)?;
        // A panic while holding the lock leaves a map that is still valid.
        Some(shard.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records `jti`; `false` if it was seen within the window (a replay).
    /// Atomic: of concurrent calls with one id, exactly one sees it fresh.
    pub(crate) fn first_use(&self, jti: &str) -> bool {
        let Some(mut seen) = self.shard(jti) else {
            return false;
        };
        let now = Instant::now();
        if seen.get(jti).is_some_and(|until| *until > now) {
            return false;
        }
        if seen.len() >= self.per_shard {
            seen.retain(|_, until| *until > now);
        }
        if seen.len() >= self.per_shard {
            let oldest = seen
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(id, _)| id.clone());
            if let Some(id) = oldest {
                seen.remove(&id);
            }
        }
        seen.insert(Box::from(jti), now + self.ttl);
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_id_is_accepted_once_within_its_time_and_the_size_is_bounded() {
        let replays = Replays::new(Duration::from_secs(120), 1000);
        assert!(replays.first_use("a"));
        assert!(!replays.first_use("a"));
        assert!(replays.first_use("b"));
        tokio::time::advance(Duration::from_secs(121)).await;
        assert!(replays.first_use("a"), "forgotten after its time");
        let small = Replays::new(Duration::from_secs(120), 16);
        for i in 0..1000 {
            assert!(small.first_use(&format!("id{i}")));
        }
        let held: usize = small.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 16, "{held}");
    }

    #[test]
    fn racing_threads_get_one_fresh_answer_per_id() {
        let replays = Arc::new(Replays::new(Duration::from_secs(120), 10_000));
        let fresh: usize = (0..8)
            .map(|_| {
                let r = Arc::clone(&replays);
                std::thread::spawn(move || {
                    (0..200).filter(|i| r.first_use(&format!("id{i}"))).count()
                })
            })
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(fresh, 200);
    }
}
