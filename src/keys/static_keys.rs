//! Keys held in memory: HMAC secrets, PEM, DER, JWK and JWK Set documents.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};

use super::alg::{AlgSet, KeyType, algorithms_for};
use super::der::{self, OID_EC, OID_ED25519, OID_P256, OID_P384};
use super::index::{KeyIndex, Miss};
use super::jwk::{JwkPolicy, check_ed25519, check_rsa, hmac_algorithms, parse_jwk, parse_jwks};
use super::{Key, KeySource, Lookup};
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};

/// The most keys a static set or a JWK Set document may hold.
pub(crate) const MAX_KEYS: usize = 100;

const LOCAL: JwkPolicy = JwkPolicy {
    allow_symmetric: true,
};

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
        let curve_fits = match spki.parameter {
            Some(p) if p == OID_P256 => key.allows(Algorithm::ES256),
            Some(p) if p == OID_P384 => key.allows(Algorithm::ES384),
            _ => false,
        };
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

    /// A key from a JWK (RFC 7517) JSON object. Its `alg`, or else its
    /// `kty`/`crv`, fixes the algorithms it may verify; its `kid` is kept.
    /// Symmetric (`oct`) keys are accepted here, under the HMAC length rule.
    ///
    /// # Errors
    ///
    /// Malformed, unsupported, not for signatures, or too weak.
    pub fn from_jwk(json: &str) -> Result<Key, BuildError> {
        parse_jwk(json, LOCAL).map_err(key_error("JWK"))
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

fn ec_point(point: &[u8]) -> Result<Key, BuildError> {
    let key_type = match (point.first(), point.len()) {
        (Some(4), 65) => KeyType::P256,
        (Some(4), 97) => KeyType::P384,
        _ => {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "EC key is not an uncompressed P-256 or P-384 point",
            ));
        }
    };
    let algorithms = algorithms_for(key_type, None).unwrap_or(AlgSet::EMPTY);
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

/// The usable keys of a JWK Set document; an error when there is none.
pub(crate) fn jwks_keys(json: &str) -> Result<Vec<Key>, BuildError> {
    let parsed = parse_jwks(json, LOCAL, MAX_KEYS).map_err(key_error("JWK Set"))?;
    if parsed.keys.is_empty() {
        return Err(BuildError::new(
            BuildErrorKind::NoKey,
            format!(
                "JWK Set holds no usable key ({})",
                parsed.skipped.join("; ")
            ),
        ));
    }
    Ok(parsed.keys)
}

/// A fixed set of keys, picked by `kid`.
///
/// - A token whose `kid` names a key uses that key (if it allows the alg).
/// - A token whose `kid` is unknown, or that has none, uses the single key
///   without a `kid` (or, without a `kid`, the single key of any id) that
///   allows its algorithm; two candidates are ambiguous and refused.
///
/// Two keys with the same `kid` are a build error.
#[derive(Clone, Debug)]
pub struct StaticKeys {
    index: Arc<KeyIndex>,
}

impl StaticKeys {
    /// A set from the given keys.
    ///
    /// # Errors
    ///
    /// No key, more than 100 keys, or two keys with one `kid`.
    pub fn new(keys: impl IntoIterator<Item = Key>) -> Result<Self, BuildError> {
        let (index, dups) = KeyIndex::new(keys);
        if !dups.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::DuplicateKid,
                "two keys share one kid",
            ));
        }
        if index.len() == 0 {
            return Err(BuildError::new(
                BuildErrorKind::NoKey,
                "no verification key configured",
            ));
        }
        if index.len() > MAX_KEYS {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                format!("more than {MAX_KEYS} keys"),
            ));
        }
        Ok(Self {
            index: Arc::new(index),
        })
    }

    /// The usable keys of a JWK Set document held in memory. Unusable
    /// entries (encryption keys, unsupported types, weak RSA) are skipped.
    ///
    /// # Errors
    ///
    /// A malformed document, one without any usable key, or duplicate kids.
    pub fn from_jwks_json(json: &str) -> Result<Self, BuildError> {
        Self::new(jwks_keys(json)?)
    }

    /// The keys in the set.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.index.keys()
    }

    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<Key>, AuthError> {
        self.index.find(kid, alg).map_err(|miss| match miss {
            Miss::UnknownKid => AuthErrorKind::UnknownKey.into(),
            Miss::Final(kind) => kind.into(),
        })
    }
}

impl KeySource for StaticKeys {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        Lookup::Ready(self.find(kid, alg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmac(kid: Option<&str>) -> Key {
        let k = Key::hmac([1u8; 64]).unwrap();
        match kid {
            Some(id) => k.with_kid(id),
            None => k,
        }
    }

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

    #[test]
    fn duplicate_kids_are_refused() {
        assert!(StaticKeys::new([hmac(Some("a")), hmac(Some("a"))]).is_err());
        assert!(StaticKeys::new([]).is_err());
    }

    #[test]
    fn lookup_rules() {
        let keys = StaticKeys::new([hmac(Some("a")), hmac(Some("b"))]).unwrap();
        assert_eq!(
            keys.find(Some("a"), Algorithm::HS256).unwrap().kid(),
            Some("a")
        );
        let kind = |r: Result<Arc<Key>, AuthError>| r.unwrap_err().kind();
        assert_eq!(
            kind(keys.find(Some("c"), Algorithm::HS256)),
            AuthErrorKind::UnknownKey
        );
        // Two candidates without a kid: ambiguous, never the first one.
        assert_eq!(
            kind(keys.find(None, Algorithm::HS256)),
            AuthErrorKind::UnknownKey
        );
        assert_eq!(
            kind(keys.find(Some("a"), Algorithm::RS256)),
            AuthErrorKind::AlgorithmNotAllowed
        );

        let single_key = StaticKeys::new([hmac(None)]).unwrap();
        assert!(single_key.find(None, Algorithm::HS256).is_ok());
        assert!(single_key.find(Some("whatever"), Algorithm::HS512).is_ok());
        assert_eq!(
            kind(single_key.find(None, Algorithm::ES256)),
            AuthErrorKind::AlgorithmNotAllowed
        );
    }
}
