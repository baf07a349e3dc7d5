//! New key material: asymmetric key pairs (feature `aws-lc-rs`) and
//! random HMAC secrets (any backend, from the operating system's CSPRNG).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

#[cfg(feature = "aws-lc-rs")]
use super::SigningKey;
use crate::error::{BuildError, BuildErrorKind};

/// The kinds of key pair [`SigningKey::generate`] makes.
#[cfg(feature = "aws-lc-rs")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws-lc-rs")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// P-256, signs ES256.
    Es256,
    /// P-384, signs ES384.
    Es384,
    /// Ed25519, signs EdDSA.
    EdDsa,
    /// RSA with a 2048-bit modulus, signs RS256 (or PS256… via
    /// [`SigningKey::with_algorithm`]).
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
}

#[cfg(feature = "aws-lc-rs")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws-lc-rs")))]
impl SigningKey {
    /// A new random key pair of the given kind, with the thumbprint as its
    /// `kid`. RSA generation takes from tens of milliseconds (2048) to about
    /// a second (4096): call it off the async runtime's worker threads
    /// (`tokio::task::spawn_blocking`). Store it with
    /// [`private_key_pem`](Self::private_key_pem) if it must outlive the
    /// process.
    ///
    /// # Errors
    ///
    /// The backend failed to generate (its random source failed).
    pub fn generate(kind: KeyKind) -> Result<Self, BuildError> {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::rsa::{KeyPair, KeySize};
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
            Ed25519KeyPair,
        };

        let failed = |e: aws_lc_rs::error::Unspecified| {
            BuildError::with_source(BuildErrorKind::Platform, "key generation failed", e)
        };
        let rng = SystemRandom::new();
        let rsa = |size| -> Result<Zeroizing<Vec<u8>>, BuildError> {
            let pair = KeyPair::generate(size).map_err(failed)?;
            let der = pair.as_der().map_err(failed)?;
            Ok(Zeroizing::new(der.as_ref().to_vec()))
        };
        let pkcs8 = match kind {
            KeyKind::Es256 => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(failed)?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            KeyKind::Es384 => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng)
                    .map_err(failed)?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            KeyKind::EdDsa => {
                let doc = Ed25519KeyPair::generate_pkcs8v1(&rng).map_err(failed)?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            KeyKind::Rsa2048 => rsa(KeySize::Rsa2048)?,
            KeyKind::Rsa3072 => rsa(KeySize::Rsa3072)?,
            KeyKind::Rsa4096 => rsa(KeySize::Rsa4096)?,
        };
        Self::from_der(&*pkcs8)
    }
}

/// A random 64-byte HMAC secret, and the text forms to store it in.
///
/// ```
/// use jwt_layer::issue::{HmacSecret, SigningKey};
///
/// let secret = HmacSecret::generate()?;
/// let stored = secret.to_base64url(); // put this in your secret store
/// let key = SigningKey::hmac(HmacSecret::from_base64url(&stored)?.as_bytes())?;
/// # let _ = key;
/// # Ok::<(), jwt_layer::BuildError>(())
/// ```
///
/// `Debug` never prints the secret; the bytes are wiped when dropped.
#[derive(Clone)]
pub struct HmacSecret(Zeroizing<Vec<u8>>);

impl HmacSecret {
    /// The length of a generated secret: 64 bytes, enough for HS512.
    pub const LEN: usize = 64;

    /// A new secret from the operating system's random source.
    ///
    /// # Errors
    ///
    /// The random source failed.
    pub fn generate() -> Result<Self, BuildError> {
        let mut bytes = Zeroizing::new(vec![0u8; Self::LEN]);
        getrandom::fill(&mut bytes).map_err(|e| {
            BuildError::new(
                BuildErrorKind::Platform,
                format!("random source failed: {e}"),
            )
        })?;
        Ok(Self(bytes))
    }

    /// A secret from its hex form (either case).
    ///
    /// # Errors
    ///
    /// Not an even number of hex digits, or empty.
    pub fn from_hex(text: &str) -> Result<Self, BuildError> {
        let text = text.trim().as_bytes();
        let invalid = || BuildError::new(BuildErrorKind::InvalidKey, "the secret is not hex");
        if text.is_empty() || !text.len().is_multiple_of(2) {
            return Err(invalid());
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(text.len() / 2));
        for pair in text.chunks_exact(2) {
            let [hi, lo] = pair else {
                return Err(invalid());
            };
            let digit = |c: u8| char::from(c).to_digit(16).ok_or_else(invalid);
            // Two hex digits always fit a byte.
            bytes.push(u8::try_from(digit(*hi)? * 16 + digit(*lo)?).map_err(|_| invalid())?);
        }
        Ok(Self(bytes))
    }

    /// A secret from its base64url form (without padding).
    ///
    /// # Errors
    ///
    /// Not base64url, or empty.
    pub fn from_base64url(text: &str) -> Result<Self, BuildError> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| {
            BuildError::new(BuildErrorKind::InvalidKey, "the secret is not base64url")
        })?;
        if bytes.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the secret is empty",
            ));
        }
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The secret as lowercase hex (128 characters for a generated one).
    pub fn to_hex(&self) -> String {
        self.0
            .iter()
            .flat_map(|b| [b >> 4, b & 0xf])
            .filter_map(|nibble| char::from_digit(u32::from(nibble), 16))
            .collect()
    }

    /// The secret as base64url without padding (86 characters for a
    /// generated one).
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&*self.0)
    }

    /// The raw bytes, for [`SigningKey::hmac`](super::SigningKey::hmac) and for the verifier's
    /// `hmac_secret`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for HmacSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSecret")
            .field("len", &self.0.len())
            .field("bytes", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_through_text() {
        let secret = HmacSecret::generate().unwrap();
        assert_eq!(secret.as_bytes().len(), 64);
        assert_eq!(secret.to_hex().len(), 128);
        assert_eq!(secret.to_base64url().len(), 86);
        let hex = HmacSecret::from_hex(&secret.to_hex().to_uppercase()).unwrap();
        let b64 = HmacSecret::from_base64url(&secret.to_base64url()).unwrap();
        assert_eq!(hex.as_bytes(), secret.as_bytes());
        assert_eq!(b64.as_bytes(), secret.as_bytes());
        assert_ne!(
            HmacSecret::generate().unwrap().as_bytes(),
            secret.as_bytes()
        );
        assert!(!format!("{secret:?}").contains(&secret.to_hex()[..8]));
    }

    #[test]
    fn bad_text_is_refused() {
        for bad in ["", "abc", "zz", "0g"] {
            assert!(HmacSecret::from_hex(bad).is_err(), "{bad}");
        }
        assert_eq!(HmacSecret::from_hex("00ff").unwrap().as_bytes(), [0, 255]);
        assert!(HmacSecret::from_base64url("").is_err());
        assert!(HmacSecret::from_base64url("a+b/").is_err());
    }
}
