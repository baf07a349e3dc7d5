//! One DER reader and one writer for the key structures we accept and
//! produce: SubjectPublicKeyInfo (RFC 5280 §4.1), PKCS#1 `RSAPublicKey`
//! and `RSAPrivateKey` (RFC 8017 §A.1), PKCS#8 (RFC 5208/5958) and SEC1
//! (RFC 5915). Only definite lengths of up to four octets; anything
//! unexpected reads as `None`.

/// `1.2.840.113549.1.1.1` rsaEncryption.
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `1.2.840.10045.2.1` id-ecPublicKey.
pub(crate) const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `1.2.840.10045.3.1.7` prime256v1.
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `1.3.132.0.34` secp384r1.
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// `1.3.101.112` Ed25519.
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
#[cfg(feature = "issue")]
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;

/// Reads TLVs from the front of a buffer.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self(input)
    }

    /// Nothing left.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next tag, without reading it.
    #[cfg(feature = "issue")]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// The next TLV: `(tag, value)`.
    pub(crate) fn read(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (bytes, tail) = rest.split_at(n);
            rest = tail;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        if rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Some((tag, value))
    }

    /// The next TLV's value if its tag is `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.read()? {
            (t, value) if t == tag => Some(value),
            _ => None,
        }
    }

    /// The value of the single `tag` TLV that makes up the whole input.
    pub(crate) fn only(input: &'a [u8], tag: u8) -> Option<&'a [u8]> {
        let mut reader = Self::new(input);
        let value = reader.expect(tag)?;
        reader.is_empty().then_some(value)
    }
}

/// A parsed SubjectPublicKeyInfo.
pub(crate) struct Spki<'a> {
    pub(crate) algorithm: &'a [u8],
    pub(crate) parameter: Option<&'a [u8]>,
    pub(crate) key: &'a [u8],
}

/// Parses a DER SubjectPublicKeyInfo.
pub(crate) fn spki(der: &[u8]) -> Option<Spki<'_>> {
    let mut seq = Reader::new(Reader::only(der, SEQUENCE)?);
    let mut alg_id = Reader::new(seq.expect(SEQUENCE)?);
    let algorithm = alg_id.expect(OID)?;
    let parameter = alg_id.expect(OID);
    let bits = seq.expect(BIT_STRING)?;
    if !seq.is_empty() {
        return None;
    }
    // The first octet counts unused bits; keys are whole octets.
    let (&0, key) = bits.split_first()? else {
        return None;
    };
    Some(Spki {
        algorithm,
        parameter,
        key,
    })
}

/// Parses PKCS#1 `RSAPublicKey` into `(n, e)` with leading zeros removed.
pub(crate) fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut seq = Reader::new(Reader::only(der, SEQUENCE)?);
    let n = seq.expect(INTEGER)?;
    let e = seq.expect(INTEGER)?;
    seq.is_empty().then(|| (strip_zeros(n), strip_zeros(e)))
}

/// Parses an RSA public key given either as SPKI or as PKCS#1.
pub(crate) fn rsa_any(der: &[u8]) -> Option<(&[u8], &[u8])> {
    match spki(der) {
        Some(s) if s.algorithm == OID_RSA => rsa_public_key(s.key),
        Some(_) => None,
        None => rsa_public_key(der),
    }
}

/// `bytes` without its leading zero octets.
pub(crate) fn strip_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

/// The bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(bytes: &[u8]) -> usize {
    let bytes = strip_zeros(bytes);
    match bytes.first() {
        Some(&b) => (bytes.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
        None => 0,
    }
}

/// Writing DER; every buffer may hold private material, so each is wiped
/// when dropped.
#[cfg(feature = "issue")]
pub(crate) mod write {
    use zeroize::Zeroizing;

    use super::{INTEGER, OCTET_STRING, OID, OID_RSA, SEQUENCE, strip_zeros};

    /// Bytes that are wiped when dropped.
    pub(crate) type Secret = Zeroizing<Vec<u8>>;

    const NULL: u8 = 0x05;

    /// One TLV whose value is the concatenation of `parts`.
    pub(crate) fn tlv(tag: u8, parts: &[&[u8]]) -> Secret {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut out = Zeroizing::new(Vec::with_capacity(len + 6));
        out.push(tag);
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let significant = strip_zeros(&bytes);
            out.push(0x80 | significant.len() as u8);
            out.extend_from_slice(significant);
        }
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    }

    /// A DER INTEGER holding the unsigned big-endian `bytes`.
    pub(crate) fn uint(bytes: &[u8]) -> Secret {
        let bytes = strip_zeros(bytes);
        let mut content = Zeroizing::new(Vec::with_capacity(bytes.len() + 1));
        if bytes.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(bytes);
        tlv(INTEGER, &[&content])
    }

    /// A PKCS#8 v1 `PrivateKeyInfo` around `private`.
    pub(crate) fn pkcs8(algorithm: &[u8], parameter: Option<&[u8]>, private: &[u8]) -> Secret {
        let alg_id = match parameter {
            Some(p) => tlv(SEQUENCE, &[&tlv(OID, &[algorithm]), &tlv(OID, &[p])]),
            None if algorithm == OID_RSA => {
                tlv(SEQUENCE, &[&tlv(OID, &[algorithm]), &tlv(NULL, &[])])
            }
            None => tlv(SEQUENCE, &[&tlv(OID, &[algorithm])]),
        };
        let version = tlv(INTEGER, &[&[0]]);
        tlv(
            SEQUENCE,
            &[&version, &alg_id, &tlv(OCTET_STRING, &[private])],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_garbage_is_none() {
        assert!(spki(&[]).is_none());
        assert!(spki(&[0x30, 0x82, 0xff]).is_none());
        assert!(rsa_public_key(&[0x30, 0x03, 0x02, 0x01]).is_none());
        assert!(rsa_any(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }

    #[test]
    fn bit_length() {
        assert_eq!(bit_len(&[0, 0x01]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[]), 0);
    }

    #[cfg(feature = "issue")]
    #[test]
    fn integers_are_positive_and_minimal() {
        assert_eq!(*write::uint(&[0, 0, 5]), [2, 1, 5]);
        assert_eq!(*write::uint(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(*write::uint(&[]), [2, 1, 0]);
    }

    #[cfg(feature = "issue")]
    #[test]
    fn what_the_writer_writes_the_reader_reads() {
        let long = vec![7u8; 300];
        let der = write::tlv(OCTET_STRING, &[&long]);
        assert_eq!(Reader::only(&der, OCTET_STRING), Some(&long[..]));
        let seq = write::tlv(SEQUENCE, &[&write::uint(&[1]), &write::uint(&[0x80])]);
        let mut reader = Reader::new(Reader::only(&seq, SEQUENCE).unwrap());
        assert_eq!(reader.expect(INTEGER), Some(&[1u8][..]));
        assert_eq!(reader.expect(INTEGER), Some(&[0u8, 0x80][..]));
        assert!(reader.is_empty());
    }
}
