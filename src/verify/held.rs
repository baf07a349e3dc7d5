//! Which token hashes the verified-token cache may hold: one counter per
//! slot of hashes, kept by the cache itself (up before it stores an entry,
//! down when moka removes one, whatever the cause). A slot at zero holds no
//! entry, so a lookup there is a miss without asking moka: a token never
//! seen costs its hash and one load, not a probe into a table that a flood
//! of distinct tokens keeps out of the CPU caches.
//!
//! A counter is never below the number of entries whose hash falls in its
//! slot, so "absent" is always right; a counter above it (an entry moka has
//! not removed yet, a slot shared by two hashes) only costs a lookup. The
//! filter decides nothing about security: a wrong "absent" would only mean
//! a fresh verification.

use std::sync::atomic::{AtomicU32, Ordering};

use super::token_cache::TokenHash;

/// Slots per byte of cache budget: one per 256 bytes, the fixed overhead
/// of an entry, so slots outnumber entries and most absent tokens find
/// their slot at zero.
const BYTES_PER_SLOT: u64 = 256;
/// Bounds on the slot count (4 KiB to 4 MiB of counters).
const MIN_SLOTS: u64 = 1 << 10;
const MAX_SLOTS: u64 = 1 << 20;

/// The counters (a power of two of them).
pub(crate) struct Held {
    counts: Box<[AtomicU32]>,
    mask: u64,
}

impl Held {
    /// Counters for a cache of `max_bytes`.
    pub(crate) fn new(max_bytes: u64) -> Self {
        let slots = (max_bytes / BYTES_PER_SLOT)
            .clamp(MIN_SLOTS, MAX_SLOTS)
            .next_power_of_two();
        Self {
            counts: (0..slots).map(|_| AtomicU32::new(0)).collect(),
            mask: slots - 1,
        }
    }

    /// The slot of `hash`: bits the shard (top) and the second-sighting
    /// table (bottom) do not use.
    fn slot(&self, hash: TokenHash) -> Option<&AtomicU32> {
        let index = (hash >> 16) & self.mask;
        self.counts.get(usize::try_from(index).ok()?)
    }

    /// Whether the cache may hold an entry under `hash`.
    pub(crate) fn may_hold(&self, hash: TokenHash) -> bool {
        self.slot(hash)
            .is_none_or(|count| count.load(Ordering::Relaxed) != 0)
    }

    /// An entry under `hash` is about to be stored.
    pub(crate) fn added(&self, hash: TokenHash) {
        if let Some(count) = self.slot(hash) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Moka removed an entry under `hash`.
    pub(crate) fn removed(&self, hash: TokenHash) {
        if let Some(count) = self.slot(hash) {
            // Never below zero: every removal follows its `added`.
            let _ = count.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_sub(1));
        }
    }

    /// The number of counters.
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_holds_while_any_of_its_entries_remains() {
        let held = Held::new(0);
        assert_eq!(held.slots(), 1024);
        let (a, b) = (7u64 << 16, (7u64 + 1024) << 16);
        assert!(!held.may_hold(a));
        held.added(a);
        held.added(b);
        assert!(held.may_hold(a) && held.may_hold(b), "one slot, two hashes");
        held.removed(b);
        assert!(held.may_hold(a), "a is still there");
        held.removed(a);
        assert!(!held.may_hold(a));
        held.removed(a);
        held.added(a);
        assert!(held.may_hold(a), "a stray removal does not hide an entry");
    }

    #[test]
    fn slots_follow_the_budget_within_bounds() {
        assert_eq!(Held::new(8 * 1024 * 1024).slots(), 32 * 1024);
        assert_eq!(Held::new(u64::MAX).slots(), 1 << 20);
        assert_eq!(Held::new(300 * 1024).slots(), 2048, "rounded up");
    }
}
