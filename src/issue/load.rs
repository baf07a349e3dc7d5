//! Loading [`SigningKey`]s from PEM, DER, JWK and JWK Set text.

use zeroize::Zeroizing;

use super::SigningKey;
use super::private_der::{self as der, Private};
use crate::error::{BuildError, BuildErrorKind};
use crate::jose::curve::{Curve, ED25519_LEN};
use crate::jose::der::write::Secret;
use crate::jose::jwk::{Direction, Jwk, set_entries};

impl SigningKey {
    /// A private key in PEM: PKCS#8 (`PRIVATE KEY`: RSA, P-256, P-384,
    /// Ed25519), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`, with
    /// or without the `EC PARAMETERS` block `openssl ecparam -genkey`
    /// writes before it).
    ///
    /// # Errors
    ///
    /// Not PEM, no private key or more than one, an encrypted key, a public
    /// key, an unsupported type or curve, an RSA key under 2048 bits.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, BuildError> {
        let blocks = pem::parse_many(pem.as_ref())
            .map_err(|e| BuildError::with_source(BuildErrorKind::InvalidKey, "malformed PEM", e))?;
        let mut private = None;
        for block in &blocks {
            match block.tag() {
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                    if private.replace(block).is_some() {
                        return Err(BuildError::new(
                            BuildErrorKind::InvalidKey,
                            "the PEM holds more than one private key",
                        ));
                    }
                }
                "EC PARAMETERS" => {}
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidKey,
                        "encrypted private keys are not supported: decrypt it first \
                         (`openssl pkcs8 -topk8 -nocrypt`)",
                    ));
                }
                "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => {
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidKey,
                        "this is a public key or certificate; signing needs the private key",
                    ));
                }
                other => {
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidKey,
                        format!(
                            "unsupported PEM block `{}`",
                            other.chars().take(32).collect::<String>()
                        ),
                    ));
                }
            }
        }
        let block = private.ok_or_else(|| {
            BuildError::new(BuildErrorKind::InvalidKey, "the PEM holds no private key")
        })?;
        if block.headers().iter().next().is_some() {
            // `Proc-Type: 4,ENCRYPTED`: OpenSSL's legacy encryption.
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "encrypted private keys are not supported: decrypt it first",
            ));
        }
        Self::from_der(block.contents())
    }

    /// A private key in DER: PKCS#8 (RSA, P-256, P-384, Ed25519), PKCS#1
    /// RSA or SEC1 EC (which must name its curve).
    ///
    /// # Errors
    ///
    /// As for [`from_pem`](Self::from_pem).
    pub fn from_der(der: impl AsRef<[u8]>) -> Result<Self, BuildError> {
        let private = der::parse_private(der.as_ref())
            .map_err(|why| BuildError::new(BuildErrorKind::InvalidKey, why))?;
        Self::from_private(&private, None, None)
    }

    /// A private key from a JWK (RFC 7517), as JWK generators print it:
    /// RSA with `n e d p q dp dq qi`, EC (`P-256`, `P-384`) with `x y d`,
    /// OKP (`Ed25519`) with `x d`, or `oct` with `k`. Its `kid` and `alg`
    /// are kept; public members, when present, must belong to the private
    /// key.
    ///
    /// # Errors
    ///
    /// Malformed JSON or base64url, a public-only JWK, `use` other than
    /// `sig`, `key_ops` without `sign`, an RSA key without its CRT
    /// parameters or with more than two primes, an unsupported type, curve
    /// or `alg`, or a key that fails the load-time checks (see
    /// [`SigningKey`]).
    pub fn from_jwk(json: &str) -> Result<Self, BuildError> {
        let jwk = Jwk::read(json, Direction::Sign).map_err(invalid)?;
        load(&jwk)
    }

    /// Every key of a private JWK Set (`{"keys":[…]}`), in order.
    ///
    /// # Errors
    ///
    /// A malformed or empty set, or any key that [`from_jwk`](Self::from_jwk)
    /// refuses (the error names its index).
    pub fn from_jwk_set(json: &str) -> Result<Vec<Self>, BuildError> {
        let entries = set_entries(json, usize::MAX).map_err(invalid)?;
        if entries.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::NoKey,
                "the JWK Set holds no key",
            ));
        }
        entries
            .iter()
            .enumerate()
            .map(|(i, jwk)| {
                Self::from_jwk(jwk.get()).map_err(|e| {
                    BuildError::with_source(
                        BuildErrorKind::InvalidKey,
                        format!("JWK Set key #{i}"),
                        e,
                    )
                })
            })
            .collect()
    }

    /// An HMAC secret (HS256 by default). It must be at least 32 bytes, and
    /// as long as the hash for HS384 (48) and HS512 (64); a PEM or JWK text
    /// is refused (a public key used as a secret would let anyone sign).
    /// The key is never published in a JWK Set. See
    /// [`HmacSecret`](super::HmacSecret) to make one.
    ///
    /// # Errors
    ///
    /// The secret is too short or looks like a key in another format.
    pub fn hmac(secret: impl AsRef<[u8]>) -> Result<Self, BuildError> {
        Self::from_secret(secret.as_ref(), None, None)
    }
}

/// A private key (or secret) from a JWK read for signing.
fn load(jwk: &Jwk<'_>) -> Result<SigningKey, BuildError> {
    let alg = jwk.alg().map_err(invalid)?;
    let kid = jwk.kid.as_deref();
    if jwk.kty == "oct" {
        let k = secret(jwk, "k")?;
        return SigningKey::from_secret(&k, alg, kid);
    }
    if !jwk.has("d") {
        return Err(invalid(
            "this JWK is a public key; signing needs its private member `d`",
        ));
    }
    let private = match (&*jwk.kty, jwk.crv.as_deref()) {
        ("RSA", _) => rsa(jwk)?,
        ("EC", Some(crv)) => ec(jwk, crv)?,
        ("OKP", Some("Ed25519")) => {
            let seed = secret(jwk, "d")?;
            if seed.len() != ED25519_LEN {
                return Err(invalid("Ed25519 `d` is not 32 bytes"));
            }
            let public = if jwk.has("x") {
                Some(jwk.bytes("x").map_err(invalid)?)
            } else {
                None
            };
            Private::Ed25519 { seed, public }
        }
        _ => {
            return Err(invalid(
                "unsupported JWK type (not RSA, EC P-256/P-384, OKP Ed25519 or oct)",
            ));
        }
    };
    SigningKey::from_private(&private, alg, kid)
}

/// An EC private key: `d` of the curve's length, and `x`/`y` when given.
fn ec(jwk: &Jwk<'_>, crv: &str) -> Result<Private, BuildError> {
    let curve = Curve::from_name(crv).ok_or_else(|| invalid("EC curve is not P-256 or P-384"))?;
    let d = secret(jwk, "d")?;
    if d.len() != curve.len() {
        return Err(invalid("EC `d` has the wrong length"));
    }
    let public = if jwk.has("x") && jwk.has("y") {
        let x = jwk.bytes("x").map_err(invalid)?;
        let y = jwk.bytes("y").map_err(invalid)?;
        Some(curve.point(&x, &y).map_err(invalid)?)
    } else {
        None
    };
    Ok(Private::Ec { curve, d, public })
}

/// A two-prime RSA private key with its CRT parameters.
fn rsa(jwk: &Jwk<'_>) -> Result<Private, BuildError> {
    if jwk.oth.is_some() {
        return Err(invalid(
            "RSA keys with more than two primes are not supported",
        ));
    }
    if ["p", "q", "dp", "dq", "qi"].iter().any(|m| !jwk.has(m)) {
        return Err(invalid(
            "the RSA JWK lacks its CRT parameters (`p q dp dq qi`)",
        ));
    }
    let n = secret(jwk, "n")?;
    let e = secret(jwk, "e")?;
    let pkcs1 = der::rsa_pkcs1([
        &n,
        &e,
        &secret(jwk, "d")?,
        &secret(jwk, "p")?,
        &secret(jwk, "q")?,
        &secret(jwk, "dp")?,
        &secret(jwk, "dq")?,
        &secret(jwk, "qi")?,
    ]);
    Ok(Private::Rsa {
        pkcs1,
        public: Some((n.to_vec(), e.to_vec())),
    })
}

/// A base64url member that may be private, wiped when dropped.
fn secret(jwk: &Jwk<'_>, name: &str) -> Result<Secret, BuildError> {
    jwk.bytes(name).map(Zeroizing::new).map_err(invalid)
}

fn invalid(why: impl Into<String>) -> BuildError {
    BuildError::new(BuildErrorKind::InvalidKey, why)
}
