//! The elliptic curves we verify and sign with, and what each is called in
//! DER, in a JWK and in a token header.

use jsonwebtoken::Algorithm;

use super::der::{OID_P256, OID_P384};

/// Octets of an Ed25519 public key or seed.
pub(crate) const ED25519_LEN: usize = 32;

/// A NIST curve (P-256 or P-384).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
}

impl Curve {
    /// The curve a DER object identifier names.
    pub(crate) fn from_oid(oid: &[u8]) -> Option<Self> {
        [Self::P256, Self::P384]
            .into_iter()
            .find(|c| c.oid() == oid)
    }

    /// The curve a JWK `crv` names.
    pub(crate) fn from_name(crv: &str) -> Option<Self> {
        [Self::P256, Self::P384]
            .into_iter()
            .find(|c| c.name() == crv)
    }

    /// The curve of an uncompressed point of `len` octets (`04 ‖ x ‖ y`).
    pub(crate) fn from_point_len(len: usize) -> Option<Self> {
        [Self::P256, Self::P384]
            .into_iter()
            .find(|c| 1 + 2 * c.len() == len)
    }

    /// The DER object identifier.
    pub(crate) fn oid(self) -> &'static [u8] {
        match self {
            Self::P256 => OID_P256,
            Self::P384 => OID_P384,
        }
    }

    /// The JWK `crv` name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    /// The algorithm that signs with the curve.
    pub(crate) fn algorithm(self) -> Algorithm {
        match self {
            Self::P256 => Algorithm::ES256,
            Self::P384 => Algorithm::ES384,
        }
    }

    /// Octets of a scalar or of one coordinate.
    pub(crate) fn len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// The uncompressed point `04 ‖ x ‖ y`. A coordinate *shorter* than the
    /// field is left-padded with zeros (some JWK writers drop leading zero
    /// bytes, which RFC 7518 §6.2.1.2 forbids but every other verifier
    /// accepts); a longer one is refused.
    pub(crate) fn point(self, x: &[u8], y: &[u8]) -> Result<Vec<u8>, String> {
        let len = self.len();
        if x.is_empty() || y.is_empty() || x.len() > len || y.len() > len {
            return Err("EC coordinates have the wrong length".into());
        }
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(0x04);
        for coordinate in [x, y] {
            point.resize(point.len() + len - coordinate.len(), 0);
            point.extend_from_slice(coordinate);
        }
        Ok(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_both_ways() {
        for c in [Curve::P256, Curve::P384] {
            assert_eq!(Curve::from_oid(c.oid()), Some(c));
            assert_eq!(Curve::from_name(c.name()), Some(c));
            assert_eq!(Curve::from_point_len(1 + 2 * c.len()), Some(c));
        }
        assert_eq!(Curve::from_name("P-521"), None);
    }

    #[test]
    fn short_coordinates_are_padded_long_ones_refused() {
        let point = Curve::P256.point(&[7; 31], &[9; 32]).unwrap();
        assert_eq!(point.len(), 65);
        assert_eq!(&point[..3], &[4, 0, 7]);
        assert!(Curve::P256.point(&[7; 33], &[9; 32]).is_err());
        assert!(Curve::P256.point(&[], &[9; 32]).is_err());
    }
}
