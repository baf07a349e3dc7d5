//! Loading [`SigningKey`]s from PEM, DER, JWK and JWK Set text.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::SigningKey;
use super::der::{self, Curve, Private, Secret};
use crate::error::{BuildError, BuildErrorKind};
use crate::keys::parse_alg;

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
        let jwk: PrivateJwk<'_> = serde_json::from_str(json).map_err(|e| {
            // serde's message could quote the input; give the place only.
            BuildError::new(
                BuildErrorKind::InvalidKey,
                format!("malformed JWK (line {}, column {})", e.line(), e.column()),
            )
        })?;
        jwk.load()
    }

    /// Every key of a private JWK Set (`{"keys":[…]}`), in order.
    ///
    /// # Errors
    ///
    /// A malformed or empty set, or any key that [`from_jwk`](Self::from_jwk)
    /// refuses (the error names its index).
    pub fn from_jwk_set(json: &str) -> Result<Vec<Self>, BuildError> {
        #[derive(Deserialize)]
        struct Set<'a> {
            #[serde(borrow)]
            keys: Vec<&'a RawValue>,
        }
        let set: Set<'_> = serde_json::from_str(json).map_err(|e| {
            BuildError::new(
                BuildErrorKind::InvalidKey,
                format!(
                    "malformed JWK Set (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if set.keys.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::NoKey,
                "the JWK Set holds no key",
            ));
        }
        set.keys
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

#[derive(Deserialize)]
struct PrivateJwk<'a> {
    #[serde(borrow)]
    kty: Cow<'a, str>,
    #[serde(default, borrow, rename = "use")]
    use_: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    key_ops: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    crv: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    n: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    e: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    d: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    p: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    q: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    dp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    dq: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    qi: Option<Cow<'a, str>>,
    #[serde(default)]
    oth: Option<IgnoredAny>,
    #[serde(default, borrow)]
    x: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    y: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    k: Option<Cow<'a, str>>,
}

impl PrivateJwk<'_> {
    fn load(&self) -> Result<SigningKey, BuildError> {
        if let Some(u) = &self.use_
            && u != "sig"
        {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the JWK's `use` is not `sig`",
            ));
        }
        if let Some(ops) = &self.key_ops
            && !ops.iter().any(|op| op == "sign")
        {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the JWK's `key_ops` does not allow `sign`",
            ));
        }
        let alg = match &self.alg {
            None => None,
            Some(name) => Some(parse_alg(name).ok_or_else(|| {
                BuildError::new(
                    BuildErrorKind::InvalidKey,
                    "the JWK's `alg` is not supported",
                )
            })?),
        };
        let kid = self.kid.as_deref();
        if self.kty == "oct" {
            let k = b64("k", self.k.as_ref())?;
            return SigningKey::from_secret(&k, alg, kid);
        }
        if self.d.is_none() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "this JWK is a public key; signing needs its private member `d`",
            ));
        }
        let private = match (&*self.kty, self.crv.as_deref()) {
            ("RSA", _) => self.rsa()?,
            ("EC", Some(crv)) => {
                let curve = Curve::from_name(crv).ok_or_else(|| {
                    BuildError::new(BuildErrorKind::InvalidKey, "EC curve is not P-256 or P-384")
                })?;
                let d = b64("d", self.d.as_ref())?;
                if d.len() != curve.len() {
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidKey,
                        "EC `d` has the wrong length",
                    ));
                }
                let public = match (&self.x, &self.y) {
                    (Some(_), Some(_)) => {
                        let mut point = vec![4u8];
                        point.extend_from_slice(&b64("x", self.x.as_ref())?);
                        point.extend_from_slice(&b64("y", self.y.as_ref())?);
                        Some(point)
                    }
                    _ => None,
                };
                Private::Ec { curve, d, public }
            }
            ("OKP", Some("Ed25519")) => {
                let seed = b64("d", self.d.as_ref())?;
                if seed.len() != 32 {
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidKey,
                        "Ed25519 `d` is not 32 bytes",
                    ));
                }
                let public = match &self.x {
                    Some(_) => Some(b64("x", self.x.as_ref())?.to_vec()),
                    None => None,
                };
                Private::Ed25519 { seed, public }
            }
            _ => {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidKey,
                    "unsupported JWK type (not RSA, EC P-256/P-384, OKP Ed25519 or oct)",
                ));
            }
        };
        SigningKey::from_private(&private, alg, kid)
    }

    fn rsa(&self) -> Result<Private, BuildError> {
        if self.oth.is_some() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "RSA keys with more than two primes are not supported",
            ));
        }
        if [&self.p, &self.q, &self.dp, &self.dq, &self.qi]
            .iter()
            .any(|m| m.is_none())
        {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the RSA JWK lacks its CRT parameters (`p q dp dq qi`)",
            ));
        }
        let n = b64("n", self.n.as_ref())?;
        let e = b64("e", self.e.as_ref())?;
        let pkcs1 = der::rsa_pkcs1([
            &n,
            &e,
            &b64("d", self.d.as_ref())?,
            &b64("p", self.p.as_ref())?,
            &b64("q", self.q.as_ref())?,
            &b64("dp", self.dp.as_ref())?,
            &b64("dq", self.dq.as_ref())?,
            &b64("qi", self.qi.as_ref())?,
        ]);
        Ok(Private::Rsa {
            pkcs1,
            public: Some((n.to_vec(), e.to_vec())),
        })
    }
}

/// Decodes a base64url member; the message never quotes the value.
fn b64(name: &str, value: Option<&Cow<'_, str>>) -> Result<Secret, BuildError> {
    let value = value.ok_or_else(|| {
        BuildError::new(
            BuildErrorKind::InvalidKey,
            format!("the JWK lacks its `{name}` member"),
        )
    })?;
    URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| {
            BuildError::new(
                BuildErrorKind::InvalidKey,
                format!("the JWK's `{name}` is not base64url"),
            )
        })
}
