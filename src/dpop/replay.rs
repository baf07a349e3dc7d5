//! The `jti` replay cache: each proof's `jti` is accepted once within the
//! `iat` window (RFC 9449 §11.1). Bounded in entries; an entry lives as
//! long as a proof with that `jti` could still be accepted.

use std::time::Duration;

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
                .build(),
        }
    }

    /// Records `jti`; `false` if it was seen within the window (a replay).
    pub(crate) fn first_use(&self, jti: &str) -> bool {
        let entry = self.seen.entry(Box::from(jti)).or_insert(());
        entry.is_fresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_accepted_once() {
        let replays = Replays::new(Duration::from_secs(120), 1000);
        assert!(replays.first_use("a"));
        assert!(!replays.first_use("a"));
        assert!(replays.first_use("b"));
    }
}
