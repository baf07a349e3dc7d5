//! [`Key`]: a verification key with the algorithms it may verify, and its
//! constructors from HMAC secrets, PEM, DER and JWK text.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey};

use super::alg::{AlgSet, KeyType, algorithms_for};
use super::jwk::{JwkPolicy, check_ed25519, check_rsa, hmac_algorithms, parse_jwk};
use crate::error::{BuildError, BuildErrorKind};
use crate::jose::curve::Curve;
use crate::jose::der::{self, OID_EC, OID_ED25519, OID_RSA};
use crate::jose::x509;

/// A verification key and the algorithms it may verify.
///
/// `Debug` never prints key material.
pub struct Key {
    kid: Option<Box<str>>,
    algorithms: AlgSet,
    key: DecodingKey,
    verifying: crate::crypto::Verifying,
}

impl Key {
    pub(crate) fn new(kid: Option<Box<str>>, algorithms: AlgSet, key: DecodingKey) -> Self {
        Self {
            kid,
            algorithms,
            key,
            verifying: crate::crypto::Verifying::default(),
        }
    }

    /// Checks `signature` over `message` under `alg` (which the caller has
    /// checked the key allows), with the backend `crypto` chose.
    pub(crate) fn verify_signature(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        self.verifying.verify(&self.key, alg, message, signature)
    }

    /// The key id (`kid`), if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key may verify.
    pub fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    /// Whether `other` is the same key (same id, algorithms and material), so
    /// a refreshed key set can keep the already-parsed one.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn same_as(&self, other: &Key) -> bool {
        same_material(&self.key, &other.key)
            && self.kid == other.kid
            && self.algorithms == other.algorithms
    }

    /// Whether this key may verify `alg`.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(alg)
    }

    /// The key material, to compare or to rebuild under other algorithms.
    pub(crate) fn into_material(self) -> DecodingKey {
        self.key
    }

    pub(crate) fn set_kid(&mut self, kid: Option<Box<str>>) {
        self.kid = kid;
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .field("key", &"[redacted]")
            .finish()
    }
}

fn key_error(what: &str) -> impl FnOnce(String) -> BuildError + '_ {
    move |why| BuildError::new(BuildErrorKind::InvalidKey, format!("{what}: {why}"))
}

impl Key {
    /// An HMAC secret (HS256/384/512). The secret must be at least as long as
    /// the hash output (32 bytes for HS256); it may verify each HMAC
    /// algorithm whose output it covers.
    ///
    /// # Errors
    ///
    /// A secret under 32 bytes, or one that looks like a PEM or JWK text
    /// (a public key used as an HMAC secret is the classic
    /// algorithm-confusion attack).
    pub fn hmac(secret: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let secret = secret.as_ref();
        let text = String::from_utf8_lossy(secret);
        let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if text.contains("-----BEGIN") || (text.starts_with('{') && text.contains("\"kty\"")) {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "HMAC secret looks like a PEM or JWK key; load it with the matching key constructor",
            ));
        }
        if secret.first() == Some(&0x30)
            && (der::spki(secret).is_some() || der::rsa_public_key(secret).is_some())
        {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "HMAC secret is a DER public key; load it with the matching key constructor",
            ));
        }
        let algorithms = hmac_algorithms(AlgSet::HMAC, secret.len())
            .map_err(|why| BuildError::new(BuildErrorKind::InvalidKey, why))?;
        Ok(Key::new(None, algorithms, DecodingKey::from_secret(secret)))
    }

    /// An RSA public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), for
    /// RS256/384/512 and PS256/384/512.
    ///
    /// # Errors
    ///
    /// Not an RSA public key, or a modulus under 2048 bits.
    pub fn rsa_pem(pem: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let key = DecodingKey::from_rsa_pem(pem.as_ref()).map_err(|e| {
            BuildError::with_source(BuildErrorKind::InvalidKey, "not an RSA public key PEM", e)
        })?;
        let der = key.try_get_as_bytes().map_err(|e| {
            BuildError::with_source(BuildErrorKind::InvalidKey, "not an RSA public key PEM", e)
        })?;
        Self::rsa_der(der)
    }

    /// An RSA public key in DER, as SubjectPublicKeyInfo or PKCS#1.
    ///
    /// # Errors
    ///
    /// Not an RSA public key, or a modulus under 2048 bits.
    pub fn rsa_der(der: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let (n, e) = der::rsa_any(der.as_ref()).ok_or_else(|| {
            BuildError::new(BuildErrorKind::InvalidKey, "not an RSA public key in DER")
        })?;
        check_rsa(n, e).map_err(key_error("RSA key"))?;
        Ok(Key::new(
            None,
            AlgSet::RSA,
            DecodingKey::from_rsa_raw_components(n, e),
        ))
    }

    /// An EC public key (P-256 for ES256, P-384 for ES384) in PEM.
    ///
    /// # Errors
    ///
    /// Not a P-256 or P-384 public key.
    pub fn ec_pem(pem: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let key = DecodingKey::from_ec_pem(pem.as_ref()).map_err(|e| {
            BuildError::with_source(BuildErrorKind::InvalidKey, "not an EC public key PEM", e)
        })?;
        let point = key.try_get_as_bytes().map_err(|e| {
            BuildError::with_source(BuildErrorKind::InvalidKey, "not an EC public key PEM", e)
        })?;
        ec_point(point)
    }

    /// An EC public key in DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    ///
    /// Not a P-256 or P-384 public key.
    pub fn ec_der(der: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let spki = der::spki(der.as_ref())
            .filter(|s| s.algorithm == OID_EC)
            .ok_or_else(|| {
                BuildError::new(BuildErrorKind::InvalidKey, "not an EC public key in DER")
            })?;
        let key = ec_point(spki.key)?;
        let curve_fits = spki
            .parameter
            .and_then(Curve::from_oid)
            .is_some_and(|curve| key.allows(curve.algorithm()));
        if curve_fits {
            Ok(key)
        } else {
            Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "EC key curve is not P-256 or P-384",
            ))
        }
    }

    /// An Ed25519 public key (EdDSA) in PEM.
    ///
    /// # Errors
    ///
    /// Not an Ed25519 public key.
    pub fn ed_pem(pem: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let key = DecodingKey::from_ed_pem(pem.as_ref()).map_err(|e| {
            BuildError::with_source(
                BuildErrorKind::InvalidKey,
                "not an Ed25519 public key PEM",
                e,
            )
        })?;
        let raw = key.try_get_as_bytes().map_err(|e| {
            BuildError::with_source(
                BuildErrorKind::InvalidKey,
                "not an Ed25519 public key PEM",
                e,
            )
        })?;
        ed_raw(raw)
    }

    /// An Ed25519 public key in DER SubjectPublicKeyInfo.
    ///
    /// # Errors
    ///
    /// Not an Ed25519 public key.
    pub fn ed_der(der: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let spki = der::spki(der.as_ref())
            .filter(|s| s.algorithm == OID_ED25519)
            .ok_or_else(|| {
                BuildError::new(
                    BuildErrorKind::InvalidKey,
                    "not an Ed25519 public key in DER",
                )
            })?;
        ed_raw(spki.key)
    }

    /// The public key of an X.509 certificate in PEM (`CERTIFICATE`): RSA
    /// (2048 to 8192 bits), P-256, P-384 or Ed25519. Only the key is read:
    /// the certificate's signature, chain and validity dates are not
    /// checked (trust comes from where you got the certificate).
    ///
    /// # Errors
    ///
    /// Not a certificate, or its key is unsupported or too weak.
    pub fn from_certificate_pem(pem: impl AsRef<str>) -> Result<Key, BuildError> {
        let cert = x509::from_pem(pem.as_ref()).map_err(key_error("certificate"))?;
        Ok(from_spki(&cert.spki).map_err(key_error("certificate"))?.1)
    }

    /// Like [`from_certificate_pem`](Self::from_certificate_pem), for a DER
    /// certificate.
    ///
    /// # Errors
    ///
    /// Not a certificate, or its key is unsupported or too weak.
    pub fn from_certificate_der(der: impl AsRef<[u8]>) -> Result<Key, BuildError> {
        let cert = x509::from_der(der.as_ref()).map_err(key_error("certificate"))?;
        Ok(from_spki(&cert.spki).map_err(key_error("certificate"))?.1)
    }

    /// A key from a JWK (RFC 7517) JSON object. Its `alg`, or else its
    /// `kty`/`crv`, fixes the algorithms it may verify; its `kid` is kept.
    /// Symmetric (`oct`) keys are accepted here, under the HMAC length rule.
    ///
    /// # Errors
    ///
    /// Malformed, unsupported, not for signatures, or too weak.
    pub fn from_jwk(json: &str) -> Result<Key, BuildError> {
        parse_jwk(json, JwkPolicy::LOCAL).map_err(key_error("JWK"))
    }

    /// Sets the key id that tokens name in their `kid` header.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid: String = kid.into();
        self.set_kid(Some(kid.into_boxed_str()));
        self
    }

    /// Narrows the algorithms this key may verify to those in `algs`.
    ///
    /// # Errors
    ///
    /// When no algorithm of the key is left.
    pub fn restrict(
        mut self,
        algs: impl IntoIterator<Item = Algorithm>,
    ) -> Result<Key, BuildError> {
        let narrowed = self.algorithms.intersect(AlgSet::of(algs));
        if narrowed.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                format!(
                    "none of the requested algorithms fits this key (it allows {:?})",
                    self.algorithms
                ),
            ));
        }
        self.algorithms = narrowed;
        Ok(self)
    }
}

/// Whether two decoding keys hold the same material.
pub(crate) fn same_material(a: &DecodingKey, b: &DecodingKey) -> bool {
    use jsonwebtoken::DecodingKeyKind as K;
    let material = match (a.kind(), b.kind()) {
        (K::SecretOrDer(a), K::SecretOrDer(b)) => a == b,
        (K::RsaModulusExponent { n: n1, e: e1 }, K::RsaModulusExponent { n: n2, e: e2 }) => {
            n1 == n2 && e1 == e2
        }
        _ => false,
    };
    material && a.family() == b.family()
}

/// A public key from a DER SubjectPublicKeyInfo of any supported type
/// (a certificate's key), with its type. The error is a short reason.
pub(crate) fn from_spki(der: &[u8]) -> Result<(KeyType, Key), String> {
    let reason = |e: BuildError| e.to_string();
    let spki = der::spki(der).ok_or("the public key is not a SubjectPublicKeyInfo")?;
    if spki.algorithm == OID_RSA {
        return Ok((KeyType::Rsa, Key::rsa_der(der).map_err(reason)?));
    }
    if spki.algorithm == OID_ED25519 {
        return Ok((KeyType::Ed25519, Key::ed_der(der).map_err(reason)?));
    }
    let curve = spki
        .parameter
        .filter(|_| spki.algorithm == OID_EC)
        .and_then(Curve::from_oid)
        .ok_or("unsupported public key type (not RSA, P-256, P-384 or Ed25519)")?;
    Ok((KeyType::from(curve), Key::ec_der(der).map_err(reason)?))
}

fn ec_point(point: &[u8]) -> Result<Key, BuildError> {
    let curve = match point.first() {
        Some(4) => Curve::from_point_len(point.len()),
        _ => None,
    }
    .ok_or_else(|| {
        BuildError::new(
            BuildErrorKind::InvalidKey,
            "EC key is not an uncompressed P-256 or P-384 point",
        )
    })?;
    if !crate::crypto::ec_point_is_valid(curve.algorithm(), point) {
        return Err(BuildError::new(
            BuildErrorKind::InvalidKey,
            "EC key is not a point on its curve",
        ));
    }
    let algorithms = algorithms_for(KeyType::from(curve), None).unwrap_or(AlgSet::EMPTY);
    Ok(Key::new(None, algorithms, DecodingKey::from_ec_der(point)))
}

fn ed_raw(raw: &[u8]) -> Result<Key, BuildError> {
    check_ed25519(raw).map_err(|why| BuildError::new(BuildErrorKind::InvalidKey, why))?;
    Ok(Key::new(
        None,
        AlgSet::only(Algorithm::EdDSA),
        DecodingKey::from_ed_der(raw),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_secret_rules() {
        assert!(Key::hmac([0u8; 31]).is_err());
        assert_eq!(
            Key::hmac([0u8; 32]).unwrap().algorithms(),
            AlgSet::only(Algorithm::HS256)
        );
        assert_eq!(Key::hmac([0u8; 64]).unwrap().algorithms(), AlgSet::HMAC);
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
        assert!(Key::hmac(pem).is_err());
        assert!(Key::hmac(pem.trim_end()).is_err());
        let jwk =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        assert!(Key::hmac(jwk).is_err());
    }
}
