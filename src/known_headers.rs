//! The JOSE headers of tokens that verified, so later tokens carrying the
//! same header skip decoding and parsing it.
//!
//! Tokens of one issuer and key share their header byte for byte
//! (`{"alg":"RS256","kid":"…","typ":"JWT"}`), so a handful of entries
//! covers a deployment. The entry for a header segment holds exactly what
//! parsing that segment yields (algorithm and `kid`), and a segment is
//! remembered only after a token carrying it passed every check, so
//! hostile tokens cannot fill the list. Reads are a lock-free snapshot
//! (`arc-swap`); the list is rebuilt only when a new header verifies.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use jsonwebtoken::Algorithm;

/// Headers remembered; the oldest gives way to a new one.
const CAPACITY: usize = 8;
/// Longer header segments (`x5c` chains …) are not remembered.
const MAX_SEGMENT: usize = 512;

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
}

/// A consistent view of the list, held while a token is parsed.
pub(crate) type Snapshot = Guard<Arc<Vec<KnownHeader>>>;

impl KnownHeaders {
    pub(crate) fn new() -> Self {
        Self {
            list: ArcSwap::from_pointee(Vec::new()),
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
        self.list.rcu(|list| {
            let mut next: Vec<KnownHeader> = Vec::with_capacity(CAPACITY);
            if find(list, segment).is_none() {
                let keep = list.len().min(CAPACITY - 1);
                next.extend(list.iter().skip(list.len() - keep).cloned());
                next.push(KnownHeader {
                    segment: segment.into(),
                    alg,
                    kid: kid.map(Into::into),
                });
            } else {
                next.extend(list.iter().cloned());
            }
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
    fn remembers_each_segment_once_and_keeps_the_newest() {
        let known = KnownHeaders::new();
        known.remember("h0", Algorithm::RS256, Some("k0"));
        known.remember("h0", Algorithm::RS256, Some("k0"));
        assert_eq!(known.snapshot().len(), 1);
        for i in 1..=CAPACITY {
            known.remember(&format!("h{i}"), Algorithm::ES256, None);
        }
        let list = known.snapshot();
        assert_eq!(list.len(), CAPACITY);
        assert!(find(&list, "h0").is_none(), "the oldest gave way");
        let newest = find(&list, &format!("h{CAPACITY}")).unwrap();
        assert_eq!(newest.alg, Algorithm::ES256);
        assert_eq!(newest.kid, None);
    }

    #[test]
    fn long_segments_are_not_remembered() {
        let known = KnownHeaders::new();
        known.remember(&"x".repeat(MAX_SEGMENT + 1), Algorithm::RS256, None);
        assert!(known.snapshot().is_empty());
    }
}
