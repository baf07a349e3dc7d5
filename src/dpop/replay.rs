//! The `jti` replay cache: each proof's `jti` is accepted once within the
//! `iat` window (RFC 9449 §11.1). An id is recorded only once the request's
//! token has verified and is bound to the proof's key, so only holders of
//! a bound token can fill the cache. Bounded in entries: past the bound the
//! least recently seen ids are forgotten (LRU), so keep the bound well
//! above your DPoP request rate × twice the window.

use std::time::Duration;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

/// Proof ids seen recently.
#[derive(Debug)]
pub(crate) struct Replays {
    seen: Cache<Box<str>, ()>,
}

impl Replays {
    /// Remembers ids for `ttl` (twice the `iat` window: a proof stamped at
    /// the window's far edge can arrive until its other edge), at most
    /// `capacity` of them.
    pub(crate) fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            seen: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .eviction_policy(EvictionPolicy::lru())
                .build(),
        }
    }

    /// Records `jti`; `false` if it was seen within the window (a replay).
    /// Concurrent calls with one id: exactly one sees it fresh.
    pub(crate) fn first_use(&self, jti: &str) -> bool {
        self.seen
            .entry(Box::from(jti))
            .or_insert_with(|| ())
            .is_fresh()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn an_id_is_accepted_once_even_by_racing_threads() {
        let replays = Replays::new(Duration::from_secs(120), 1000);
        assert!(replays.first_use("a"));
        assert!(!replays.first_use("a"));
        assert!(replays.first_use("b"));
        let replays = Arc::new(Replays::new(Duration::from_secs(120), 1000));
        let fresh: usize = (0..8)
            .map(|_| {
                let r = Arc::clone(&replays);
                std::thread::spawn(move || {
                    (0..200).filter(|i| r.first_use(&format!("id{i}"))).count()
                })
            })
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(fresh, 200, "each id fresh exactly once across threads");
    }
}
