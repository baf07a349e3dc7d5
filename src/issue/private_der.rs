//! The private-key structures we read and write, in DER:
//! PKCS#8 `PrivateKeyInfo`/`OneAsymmetricKey` (RFC 5208, RFC 5958),
//! PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2), SEC1 `ECPrivateKey`
//! (RFC 5915) and the Ed25519 `CurvePrivateKey` (RFC 8410 §7).
//!
//! Every key is brought to the one form both crypto backends sign with:
//! PKCS#1 for RSA, PKCS#8 v1 for EC and Ed25519. Buffers that hold private
//! material are [`Zeroizing`]. The DER reader and writer are
//! `jose::der`'s.

use zeroize::Zeroizing;

use crate::jose::curve::Curve;
use crate::jose::der::write::{Secret, pkcs8, tlv, uint};
use crate::jose::der::{
    BIT_STRING, INTEGER, OCTET_STRING, OID, OID_EC, OID_ED25519, OID_RSA, Reader, SEQUENCE,
    strip_zeros,
};

/// `[0]` constructed, explicit: SEC1 `parameters`.
const CONTEXT_0: u8 = 0xa0;
/// `[1]` constructed, explicit: SEC1 `publicKey`.
const CONTEXT_1: u8 = 0xa1;

/// A private key, parsed far enough to rebuild it in the canonical form.
/// `public` is a public key the input carried beside the private one; it
/// must match the one derived from the private key.
pub(super) enum Private {
    /// PKCS#1 `RSAPrivateKey` DER; `public` is `(n, e)`.
    Rsa {
        pkcs1: Secret,
        public: Option<(Vec<u8>, Vec<u8>)>,
    },
    /// The scalar `d` (exactly `curve.len()` octets); `public` is the
    /// uncompressed point.
    Ec {
        curve: Curve,
        d: Secret,
        public: Option<Vec<u8>>,
    },
    /// The 32-octet seed; `public` is the 32-octet key.
    Ed25519 {
        seed: Secret,
        public: Option<Vec<u8>>,
    },
}

impl Private {
    /// The DER the signers take: PKCS#1 for RSA, PKCS#8 v1 for the others.
    pub(super) fn signing_der(&self) -> Secret {
        match self {
            Self::Rsa { pkcs1, .. } => pkcs1.clone(),
            Self::Ec { curve, d, .. } => {
                let sec1 = tlv(
                    SEQUENCE,
                    &[&tlv(INTEGER, &[&[1]]), &tlv(OCTET_STRING, &[d])],
                );
                pkcs8(OID_EC, Some(curve.oid()), &sec1)
            }
            Self::Ed25519 { seed, .. } => pkcs8(OID_ED25519, None, &tlv(OCTET_STRING, &[seed])),
        }
    }
}

/// Wraps a PKCS#1 `RSAPrivateKey` in PKCS#8, for export.
pub(super) fn rsa_pkcs8(pkcs1: &[u8]) -> Secret {
    pkcs8(OID_RSA, None, pkcs1)
}

/// A PKCS#1 `RSAPrivateKey` (two primes) from its big-endian integers, in
/// the order of RFC 8017 §A.1.2: `n e d p q dp dq qi`.
pub(super) fn rsa_pkcs1(parts: [&[u8]; 8]) -> Secret {
    let mut body = Zeroizing::new(uint(&[0]).to_vec());
    for part in parts {
        body.extend_from_slice(&uint(part));
    }
    tlv(SEQUENCE, &[&body])
}

/// Parses a private key in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) DER.
pub(super) fn parse_private(der: &[u8]) -> Result<Private, String> {
    let mut outer = Reader::new(der);
    let mut seq = Reader::new(outer.expect(SEQUENCE).ok_or(NOT_A_KEY)?);
    if !outer.is_empty() {
        return Err("trailing data after the key".into());
    }
    let version = seq.expect(INTEGER).ok_or(NOT_A_KEY)?;
    match (version, seq.peek()) {
        // PKCS#8 v1 (version 0) or OneAsymmetricKey (version 1).
        ([0 | 1], Some(SEQUENCE)) => pkcs8_key(seq),
        // PKCS#1 two-prime RSA: `n` follows the version.
        ([0], Some(INTEGER)) => Ok(Private::Rsa {
            pkcs1: Zeroizing::new(der.to_vec()),
            public: None,
        }),
        ([1], Some(INTEGER)) => Err("multi-prime RSA keys are not supported".into()),
        // SEC1: the scalar follows the version.
        ([1], Some(OCTET_STRING)) => sec1_key(seq, None),
        _ => Err(NOT_A_KEY.into()),
    }
}

const NOT_A_KEY: &str = "not a PKCS#8, PKCS#1 or SEC1 private key";

fn pkcs8_key(mut seq: Reader<'_>) -> Result<Private, String> {
    let mut alg_id = Reader::new(seq.expect(SEQUENCE).ok_or(NOT_A_KEY)?);
    let algorithm = alg_id.expect(OID).ok_or(NOT_A_KEY)?;
    let private = seq.expect(OCTET_STRING).ok_or(NOT_A_KEY)?;
    if algorithm == OID_RSA {
        Ok(Private::Rsa {
            pkcs1: Zeroizing::new(private.to_vec()),
            public: None,
        })
    } else if algorithm == OID_EC {
        let curve = alg_id
            .expect(OID)
            .and_then(Curve::from_oid)
            .ok_or("EC key curve is not P-256 or P-384")?;
        let mut inner = Reader::new(private);
        let mut sec1 = Reader::new(inner.expect(SEQUENCE).ok_or(NOT_A_KEY)?);
        match sec1.expect(INTEGER) {
            Some([1]) => sec1_key(sec1, Some(curve)),
            _ => Err(NOT_A_KEY.into()),
        }
    } else if algorithm == OID_ED25519 {
        let seed = Reader::new(private)
            .expect(OCTET_STRING)
            .filter(|s| s.len() == 32)
            .ok_or("Ed25519 private key is not 32 bytes")?;
        // OneAsymmetricKey may carry the public key as `[1] BIT STRING`.
        let public = loop {
            match seq.read() {
                Some((0x81, [0, key @ ..])) => break Some(key.to_vec()),
                Some(_) => {}
                None => break None,
            }
        };
        Ok(Private::Ed25519 {
            seed: Zeroizing::new(seed.to_vec()),
            public,
        })
    } else {
        Err("unsupported key algorithm (not RSA, EC or Ed25519)".into())
    }
}

/// The rest of a SEC1 `ECPrivateKey` after its version; `outer_curve` is
/// the curve named by an enclosing PKCS#8 structure.
fn sec1_key(mut seq: Reader<'_>, outer_curve: Option<Curve>) -> Result<Private, String> {
    let d = seq.expect(OCTET_STRING).ok_or(NOT_A_KEY)?;
    let mut inner_curve = None;
    let mut public = None;
    while let Some((tag, value)) = seq.read() {
        match tag {
            CONTEXT_0 => {
                let oid = Reader::new(value).expect(OID).ok_or(NOT_A_KEY)?;
                inner_curve =
                    Some(Curve::from_oid(oid).ok_or("EC key curve is not P-256 or P-384")?);
            }
            CONTEXT_1 => match Reader::new(value).expect(BIT_STRING) {
                Some([0, point @ ..]) => public = Some(point.to_vec()),
                _ => return Err(NOT_A_KEY.into()),
            },
            _ => return Err(NOT_A_KEY.into()),
        }
    }
    let curve = match (outer_curve, inner_curve) {
        (Some(a), Some(b)) if a != b => return Err("EC key names two different curves".into()),
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err("SEC1 EC key does not name its curve".into()),
    };
    Ok(Private::Ec {
        curve,
        d: fixed_scalar(d, curve)?,
        public,
    })
}

/// Left-pads a scalar to the curve's length (some encoders drop leading
/// zeros); longer scalars are refused.
pub(super) fn fixed_scalar(d: &[u8], curve: Curve) -> Result<Secret, String> {
    let d = strip_zeros(d);
    let len = curve.len();
    if d.is_empty() || d.len() > len {
        return Err("EC private key has the wrong length".into());
    }
    let mut out = Zeroizing::new(vec![0u8; len - d.len()]);
    out.extend_from_slice(d);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_round_trip_through_pkcs8() {
        let key = Private::Ec {
            curve: Curve::P384,
            d: Zeroizing::new(vec![9u8; 48]),
            public: None,
        };
        match parse_private(&key.signing_der()).unwrap() {
            Private::Ec { curve, d, public } => {
                assert_eq!(curve, Curve::P384);
                assert_eq!(*d, vec![9u8; 48]);
                assert!(public.is_none());
            }
            _ => panic!("not EC"),
        }
    }

    #[test]
    fn ed25519_round_trip_through_pkcs8() {
        let key = Private::Ed25519 {
            seed: Zeroizing::new(vec![3u8; 32]),
            public: None,
        };
        match parse_private(&key.signing_der()).unwrap() {
            Private::Ed25519 { seed, .. } => assert_eq!(*seed, vec![3u8; 32]),
            _ => panic!("not Ed25519"),
        }
    }

    #[test]
    fn short_scalars_are_padded_long_ones_refused() {
        assert_eq!(*fixed_scalar(&[1], Curve::P256).unwrap(), {
            let mut v = vec![0u8; 31];
            v.push(1);
            v
        });
        assert!(fixed_scalar(&[1u8; 33], Curve::P256).is_err());
        assert!(fixed_scalar(&[0u8; 32], Curve::P256).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &[][..],
            &[0x30, 0x00],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x03, 0x02, 0x01, 0x05, 0x00],
        ] {
            assert!(parse_private(bad).is_err(), "{bad:?}");
        }
    }
}
