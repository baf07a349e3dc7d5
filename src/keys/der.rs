//! A minimal DER reader for the public-key structures we accept:
//! SubjectPublicKeyInfo (RFC 5280 §4.1) and PKCS#1 `RSAPublicKey`
//! (RFC 8017 §A.1.1). Only lengths and tags are interpreted; anything
//! unexpected is `None`.

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

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;

/// Reads one TLV from the front of `input`: `(tag, value, rest)`.
pub(crate) fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
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
    Some((tag, value, rest))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, value, rest) = tlv(input)?;
    (t == tag).then_some((value, rest))
}

/// A parsed SubjectPublicKeyInfo.
pub(crate) struct Spki<'a> {
    pub(crate) algorithm: &'a [u8],
    pub(crate) parameter: Option<&'a [u8]>,
    pub(crate) key: &'a [u8],
}

/// Parses a DER SubjectPublicKeyInfo.
pub(crate) fn spki(der: &[u8]) -> Option<Spki<'_>> {
    let (seq, trailing) = expect(der, SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (alg_id, rest) = expect(seq, SEQUENCE)?;
    let (algorithm, params) = expect(alg_id, OID)?;
    let parameter = expect(params, OID).map(|(oid, _)| oid);
    let (bits, rest) = expect(rest, BIT_STRING)?;
    if !rest.is_empty() {
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
    let (seq, trailing) = expect(der, SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (n, rest) = expect(seq, INTEGER)?;
    let (e, rest) = expect(rest, INTEGER)?;
    if !rest.is_empty() {
        return None;
    }
    Some((strip_zeros(n), strip_zeros(e)))
}

/// Parses an RSA public key given either as SPKI or as PKCS#1.
pub(crate) fn rsa_any(der: &[u8]) -> Option<(&[u8], &[u8])> {
    match spki(der) {
        Some(s) if s.algorithm == OID_RSA => rsa_public_key(s.key),
        Some(_) => None,
        None => rsa_public_key(der),
    }
}

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
}
