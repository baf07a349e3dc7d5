//! The set of algorithms a key may verify, and the table from JWK
//! `kty`/`crv`/`alg` to that set.

use std::fmt;

use jsonwebtoken::Algorithm;

/// Every algorithm the crate can verify, in bit order.
const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The algorithm's position among those the crate supports (`None` for an
/// algorithm added to jsonwebtoken later).
pub(crate) fn index(alg: Algorithm) -> Option<usize> {
    Some(match alg {
        Algorithm::HS256 => 0,
        Algorithm::HS384 => 1,
        Algorithm::HS512 => 2,
        Algorithm::RS256 => 3,
        Algorithm::RS384 => 4,
        Algorithm::RS512 => 5,
        Algorithm::PS256 => 6,
        Algorithm::PS384 => 7,
        Algorithm::PS512 => 8,
        Algorithm::ES256 => 9,
        Algorithm::ES384 => 10,
        Algorithm::EdDSA => 11,
        _ => return None,
    })
}

fn bit(alg: Algorithm) -> u16 {
    // An algorithm added to jsonwebtoken later is in no set.
    index(alg).map_or(0, |i| 1 << i)
}

/// A set of [`Algorithm`]s, as a bit mask.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlgSet(u16);

impl AlgSet {
    /// No algorithm.
    pub const EMPTY: Self = Self(0);
    /// HS256, HS384, HS512.
    pub const HMAC: Self = Self(0b111);
    /// RS256–RS512 and PS256–PS512.
    pub const RSA: Self = Self(0b1_1111_1000);
    /// Every supported algorithm.
    pub const ALL: Self = Self(0b1111_1111_1111);

    /// The set holding only `alg`.
    pub fn only(alg: Algorithm) -> Self {
        Self(bit(alg))
    }

    /// The set of the given algorithms.
    pub fn of(algs: impl IntoIterator<Item = Algorithm>) -> Self {
        algs.into_iter().fold(Self::EMPTY, |s, a| s.with(a))
    }

    /// This set plus `alg`.
    #[must_use]
    pub fn with(self, alg: Algorithm) -> Self {
        Self(self.0 | bit(alg))
    }

    /// Whether `alg` is in the set.
    pub fn contains(self, alg: Algorithm) -> bool {
        self.0 & bit(alg) != 0
    }

    /// The algorithms in both sets.
    #[must_use]
    pub fn intersect(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The algorithms in either set.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The algorithms of this set that are not in `other`.
    #[must_use]
    pub fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The algorithms in the set.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl fmt::Debug for AlgSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Parses a JOSE `alg` name into a supported algorithm. `none` and unknown
/// names are `None`. RFC 9864's fully-specified `Ed25519` counts as EdDSA.
pub(crate) fn parse_alg(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" | "Ed25519" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// The key types a JWK may have, with its curve where it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyType {
    Oct,
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl From<crate::jose::curve::Curve> for KeyType {
    fn from(curve: crate::jose::curve::Curve) -> Self {
        match curve {
            crate::jose::curve::Curve::P256 => Self::P256,
            crate::jose::curve::Curve::P384 => Self::P384,
        }
    }
}

/// The algorithms a key of `key_type` may verify: all those of its family,
/// narrowed to one when the key names an `alg`. `None` when the named `alg`
/// does not fit the key.
pub(crate) fn algorithms_for(key_type: KeyType, alg: Option<Algorithm>) -> Option<AlgSet> {
    let family = match key_type {
        KeyType::Oct => AlgSet::HMAC,
        KeyType::Rsa => AlgSet::RSA,
        KeyType::P256 => AlgSet::only(Algorithm::ES256),
        KeyType::P384 => AlgSet::only(Algorithm::ES384),
        KeyType::Ed25519 => AlgSet::only(Algorithm::EdDSA),
    };
    match alg {
        None => Some(family),
        Some(a) if family.contains(a) => Some(AlgSet::only(a)),
        Some(_) => None,
    }
}

/// The minimum HMAC secret length for `alg`: the hash output size.
pub(crate) fn hmac_min_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Algorithm::*;

    #[test]
    fn key_type_table() {
        let rows: &[(KeyType, Option<Algorithm>, Option<AlgSet>)] = &[
            (KeyType::Oct, None, Some(AlgSet::of([HS256, HS384, HS512]))),
            (KeyType::Oct, Some(HS384), Some(AlgSet::only(HS384))),
            (KeyType::Oct, Some(RS256), None),
            (
                KeyType::Rsa,
                None,
                Some(AlgSet::of([RS256, RS384, RS512, PS256, PS384, PS512])),
            ),
            (KeyType::Rsa, Some(PS256), Some(AlgSet::only(PS256))),
            (KeyType::Rsa, Some(HS256), None),
            (KeyType::Rsa, Some(ES256), None),
            (KeyType::P256, None, Some(AlgSet::only(ES256))),
            (KeyType::P256, Some(ES384), None),
            (KeyType::P384, None, Some(AlgSet::only(ES384))),
            (KeyType::P384, Some(ES256), None),
            (KeyType::Ed25519, None, Some(AlgSet::only(EdDSA))),
            (KeyType::Ed25519, Some(EdDSA), Some(AlgSet::only(EdDSA))),
            (KeyType::Ed25519, Some(HS256), None),
        ];
        for (kty, alg, want) in rows {
            assert_eq!(algorithms_for(*kty, *alg), *want, "{kty:?} {alg:?}");
        }
    }

    #[test]
    fn alg_names() {
        for a in ALL {
            let name = format!("{a:?}");
            assert_eq!(parse_alg(&name), Some(a));
        }
        for bad in [
            "none", "None", "NONE", "", "HS256 ", "hs256", "ES512", "RSA-OAEP",
        ] {
            assert_eq!(parse_alg(bad), None, "{bad}");
        }
        assert_eq!(parse_alg("Ed25519"), Some(EdDSA));
    }

    #[test]
    fn set_ops() {
        assert_eq!(AlgSet::ALL.iter().count(), 12);
        assert!(AlgSet::RSA.contains(PS512));
        assert!(!AlgSet::RSA.contains(HS256));
        assert!(AlgSet::HMAC.intersect(AlgSet::RSA).is_empty());
    }
}
