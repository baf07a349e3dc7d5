//! The JOSE headers of tokens that verified, so later tokens carrying the
//! same header skip decoding and parsing it.
//!
//! Tokens of one issuer and key share their header byte for byte
//! (`{"alg":"RS256","kid":"…","typ":"JWT"}`), so a handful of entries
//! covers a deployment. The entry for a header segment holds exactly what
//! parsing that segment yields (algorithm and `kid`), and a segment is
//! remembered only after a token carrying it passed every check, so
//! hostile tokens cannot fill the list. Reads are a lock-free snapshot
//! (`arc-swap`); the list is rebuilt only when a new header verifies, and
//! once it is full only for one new header in [`REPLACE_EVERY`], so a
//! deployment cycling through more headers than it holds (many issuers and
//! keys, a per-token header member) does not rebuild it on every request:
//! such headers are then simply parsed, as without the list.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use arc_swap::{ArcSwap, Guard};
use jsonwebtoken::Algorithm;

/// Headers remembered; the oldest gives way to a new one.
const CAPACITY: usize = 8;
/// Longer header segments (`x5c` chains …) are not remembered.
const MAX_SEGMENT: usize = 512;
/// When the list is full, one new header in this many replaces the oldest.
const REPLACE_EVERY: u32 = 64;

/// A header segment and what it parses to.
#[derive(Clone)]
pub(crate) struct KnownHeader {
    segment: Box<str>,
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<Box<str>>,
}

/// The remembered headers of one verifier.
pub(crate) struct KnownHeaders {
    list: ArcSwap<Vec<KnownHeader>>,
    /// New headers seen while the list was full.
    misses: AtomicU32,
}

/// A consistent view of the list, held while a token is parsed.
pub(crate) type Snapshot = Guard<Arc<Vec<KnownHeader>>>;

impl KnownHeaders {
    pub(crate) fn new() -> Self {
        Self {
            list: ArcSwap::from_pointee(Vec::new()),
            misses: AtomicU32::new(0),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        self.list.load()
    }

    /// Remembers the header of a token that verified.
    pub(crate) fn remember(&self, segment: &str, alg: Algorithm, kid: Option<&str>) {
        if segment.len() > MAX_SEGMENT {
            return;
        }
        {
            let list = self.list.load();
            if find(&list, segment).is_some() {
                return;
            }
            if list.len() >= CAPACITY
                && self.misses.fetch_add(1, Ordering::Relaxed) % REPLACE_EVERY != REPLACE_EVERY - 1
            {
                return;
            }
        }
        let header = KnownHeader {
            segment: segment.into(),
            alg,
            kid: kid.map(Into::into),
        };
        self.list.rcu(|list| {
            if find(list, segment).is_some() {
                // Another thread remembered it meanwhile.
                return Vec::clone(list);
            }
            let keep = list.len().min(CAPACITY - 1);
            let mut next = Vec::with_capacity(CAPACITY);
            next.extend(list.iter().skip(list.len() - keep).cloned());
            next.push(header.clone());
            next
        });
    }
}

/// The entry for exactly this header segment.
pub(crate) fn find<'a>(list: &'a [KnownHeader], segment: &str) -> Option<&'a KnownHeader> {
    list.iter().find(|known| *known.segment == *segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_each_segment_once_with_what_it_parses_to() {
        let known = KnownHeaders::new();
        known.remember("h0", Algorithm::RS256, Some("k0"));
        known.remember("h0", Algorithm::RS256, Some("k0"));
        assert_eq!(known.snapshot().len(), 1);
        for i in 1..CAPACITY {
            known.remember(&format!("h{i}"), Algorithm::ES256, None);
        }
        let list = known.snapshot();
        assert_eq!(list.len(), CAPACITY);
        let first = find(&list, "h0").unwrap();
        assert_eq!(
            (first.alg, first.kid.as_deref()),
            (Algorithm::RS256, Some("k0"))
        );
        let last = find(&list, &format!("h{}", CAPACITY - 1)).unwrap();
        assert_eq!((last.alg, last.kid.as_deref()), (Algorithm::ES256, None));
    }

    #[test]
    fn a_full_list_takes_one_new_header_in_replace_every() {
        let known = KnownHeaders::new();
        for i in 0..CAPACITY {
            known.remember(&format!("h{i}"), Algorithm::RS256, None);
        }
        let before: Vec<String> = known
            .snapshot()
            .iter()
            .map(|h| h.segment.to_string())
            .collect();
        for i in 0..REPLACE_EVERY - 1 {
            known.remember(&format!("new{i}"), Algorithm::RS256, None);
        }
        let after: Vec<String> = known
            .snapshot()
            .iter()
            .map(|h| h.segment.to_string())
            .collect();
        assert_eq!(before, after, "a full list churned");
        known.remember("newest", Algorithm::RS256, None);
        let list = known.snapshot();
        assert_eq!(list.len(), CAPACITY);
        assert!(find(&list, "newest").is_some());
        assert!(find(&list, "h0").is_none(), "the oldest gave way");
    }

    #[test]
    fn a_known_header_does_not_rebuild_the_list() {
        let known = KnownHeaders::new();
        known.remember("h", Algorithm::RS256, None);
        let first = known.snapshot();
        known.remember("h", Algorithm::RS256, None);
        assert!(Arc::ptr_eq(&first, &known.snapshot()));
    }

    #[test]
    fn long_segments_are_not_remembered() {
        let known = KnownHeaders::new();
        known.remember(&"x".repeat(MAX_SEGMENT + 1), Algorithm::RS256, None);
        assert!(known.snapshot().is_empty());
    }
}
