//! [`SigningKey`]: a private key or HMAC secret with its `kid`, its
//! algorithm and the public JWK derived from it.
//!
//! Every constructor ends in the same checks: the public key is derived from
//! the private one (never taken on trust from the input), must pass the
//! verifier's own rules (RSA ≥ 2048 bits, HMAC secret ≥ hash length), and a
//! test signature must verify under it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jsonwebtoken::jwk::EllipticCurve;
use jsonwebtoken::{Algorithm, EncodingKey};
use zeroize::Zeroizing;

use super::error::{IssueError, IssueErrorKind};
use super::private_der::{self as der, Private};
use crate::crypto;
use crate::error::{BuildError, BuildErrorKind};
use crate::jose::der::strip_zeros;
use crate::jose::published::{PublicJwk, PublicParts};
use crate::jose::thumbprint::thumbprint;
use crate::keys::{AlgSet, Key};

/// Signed at load time and verified with the derived public key.
const CHECK_MESSAGE: &[u8] = b"jwt-layer: does the private key match its public key?";

/// A key that signs tokens: an RSA, P-256, P-384 or Ed25519 private key, or
/// an HMAC secret, with its `kid` and the one algorithm it signs with.
///
/// Load one with [`from_pem`](Self::from_pem), [`from_der`](Self::from_der),
/// [`from_jwk`](Self::from_jwk), [`from_jwk_set`](Self::from_jwk_set) or
/// [`hmac`](Self::hmac), or make a new one with `generate` (feature
/// `aws-lc-rs`).
///
/// - **`kid`**: the one the input names (a JWK's `kid`), else the
///   [RFC 7638 thumbprint](super::jwk_thumbprint) of the public key (of the
///   secret for HMAC); [`with_kid`](Self::with_kid) sets another.
/// - **Algorithm**: a JWK's `alg`, else RS256 for RSA, ES256/ES384 by
///   curve, EdDSA, HS256; [`with_algorithm`](Self::with_algorithm) picks
///   another of the key's family (PS256 for an RSA key, HS512 for a secret
///   of at least 64 bytes).
///
/// Cheap to clone. `Debug` never prints key material.
#[derive(Clone)]
pub struct SigningKey {
    alg: Algorithm,
    kid: Arc<str>,
    shared: Arc<Shared>,
}

struct Shared {
    encoding: EncodingKey,
    /// `None` for HMAC secrets, which are never published.
    public: Option<PublicParts>,
    thumbprint: String,
    /// The algorithms the key may sign with (its family, narrowed for
    /// short HMAC secrets).
    algorithms: AlgSet,
    /// The latest `exp` of a token signed with this key; 0 for none.
    last_exp: AtomicU64,
    /// Signs with the backend `crypto` chose.
    signer: crypto::Signing,
}

impl SigningKey {
    /// Checks and wraps a parsed private key. `alg` and `kid` come from the
    /// input (a JWK) when it names them.
    pub(super) fn from_private(
        private: &Private,
        alg: Option<Algorithm>,
        kid: Option<&str>,
    ) -> Result<Self, BuildError> {
        let der = private.signing_der();
        let (encoding, public, matches_claim) = derive_public(private, &der)?;
        if !matches_claim {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the public key given with the private key does not belong to it",
            ));
        }
        let verify_key = Key::from_jwk(&public.jwk(None, None).to_json()).map_err(|e| {
            BuildError::with_source(
                BuildErrorKind::InvalidKey,
                "verifiers would refuse this key",
                e,
            )
        })?;
        let thumbprint = public.thumbprint();
        Self::finish(encoding, Some(public), thumbprint, &verify_key, alg, kid)
    }

    /// Checks and wraps an HMAC secret.
    pub(super) fn from_secret(
        secret: &[u8],
        alg: Option<Algorithm>,
        kid: Option<&str>,
    ) -> Result<Self, BuildError> {
        let verify_key = Key::hmac(secret)?;
        let k = Zeroizing::new(crate::jose::b64::encode(secret));
        let thumbprint = thumbprint(&[("k", k.as_str()), ("kty", "oct")]);
        let encoding = EncodingKey::from_secret(secret);
        Self::finish(encoding, None, thumbprint, &verify_key, alg, kid)
    }

    fn finish(
        encoding: EncodingKey,
        public: Option<PublicParts>,
        thumbprint: String,
        verify_key: &Key,
        alg: Option<Algorithm>,
        kid: Option<&str>,
    ) -> Result<Self, BuildError> {
        let algorithms = verify_key.algorithms();
        let alg = match alg {
            Some(alg) => alg,
            // The family's first: HS256, RS256, ES256, ES384 or EdDSA.
            None => algorithms.iter().next().ok_or_else(|| {
                BuildError::new(BuildErrorKind::InvalidKey, "the key fits no algorithm")
            })?,
        };
        check_fits(algorithms, alg)?;
        let signer = crypto::Signing::default();
        // The check signs the way tokens will be signed.
        let signature = signer.sign(&encoding, alg, CHECK_MESSAGE).map_err(|e| {
            BuildError::with_source(BuildErrorKind::InvalidKey, "the key cannot sign", e)
        })?;
        if !verify_key.verify_signature(alg, CHECK_MESSAGE, &signature) {
            return Err(BuildError::new(
                BuildErrorKind::InvalidKey,
                "the private key does not match its public key",
            ));
        }
        let kid: Arc<str> = match kid {
            Some("") => {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidKey,
                    "the key's kid is empty",
                ));
            }
            Some(kid) => kid.into(),
            None => thumbprint.as_str().into(),
        };
        Ok(Self {
            alg,
            kid,
            shared: Arc::new(Shared {
                encoding,
                public,
                thumbprint,
                algorithms,
                last_exp: AtomicU64::new(0),
                signer,
            }),
        })
    }

    /// The key id tokens carry in their `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key (of the secret for
    /// an HMAC key), whatever the `kid`.
    pub fn thumbprint(&self) -> &str {
        &self.shared.thumbprint
    }

    /// Whether this is an HMAC secret (never published in a JWK Set).
    pub fn is_symmetric(&self) -> bool {
        self.shared.public.is_none()
    }

    /// The public key as a JWK with `use`, `alg` and `kid`; `None` for an
    /// HMAC secret.
    pub fn public_jwk(&self) -> Option<PublicJwk> {
        let public = self.shared.public.as_ref()?;
        Some(public.jwk(Some(&self.kid), Some(self.alg)))
    }

    /// The same key under another `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into().into();
        self
    }

    /// The same key signing with `alg` instead.
    ///
    /// # Errors
    ///
    /// `alg` is not of the key's family, or an HMAC secret is shorter than
    /// the hash (48 bytes for HS384, 64 for HS512).
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Self, BuildError> {
        check_fits(self.shared.algorithms, alg)?;
        self.alg = alg;
        Ok(self)
    }

    /// The JWS signature over `signing_input`
    /// (`BASE64URL(header) '.' BASE64URL(payload)`), raw (not base64).
    /// [`TokenIssuer`](super::TokenIssuer) builds the input for you; this
    /// is for other JWS payloads and for checking test vectors.
    ///
    /// # Errors
    ///
    /// The crypto backend failed.
    pub fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, IssueError> {
        let shared = &self.shared;
        let signature = shared
            .signer
            .sign(&shared.encoding, self.alg, signing_input);
        signature.map_err(|e| IssueError::with_source(IssueErrorKind::Signing, e))
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), to
    /// store a generated key; `None` for an HMAC secret. The text is
    /// secret: keep it out of logs and source control. The `kid`, unless it
    /// is the thumbprint, is not part of it.
    pub fn private_key_pem(&self) -> Option<String> {
        let encoding = &self.shared.encoding;
        let der = match encoding.family() {
            jsonwebtoken::AlgorithmFamily::Rsa => der::rsa_pkcs8(encoding.as_bytes()),
            jsonwebtoken::AlgorithmFamily::Hmac => return None,
            _ => Zeroizing::new(encoding.as_bytes().to_vec()),
        };
        Some(pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec())))
    }

    /// Records that a token expiring at `exp` was signed with this key.
    pub(super) fn note_exp(&self, exp: u64) {
        self.shared.last_exp.fetch_max(exp, Ordering::AcqRel);
    }

    /// The latest `exp` of a token signed with this key (0 for none).
    pub(super) fn last_exp(&self) -> u64 {
        self.shared.last_exp.load(Ordering::Acquire)
    }

    /// Whether both are the same key material (whatever their kid or alg).
    pub(super) fn same_material(&self, other: &SigningKey) -> bool {
        self.thumbprint() == other.thumbprint()
    }
}

fn check_fits(algorithms: AlgSet, alg: Algorithm) -> Result<(), BuildError> {
    if algorithms.contains(alg) {
        Ok(())
    } else {
        Err(BuildError::new(
            BuildErrorKind::InvalidKey,
            format!("algorithm {alg:?} does not fit this key (it allows {algorithms:?})"),
        ))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The encoding key, the public key derived from the private one, and
/// whether a public key given beside the private one matches it.
fn derive_public(
    private: &Private,
    der: &[u8],
) -> Result<(EncodingKey, PublicParts, bool), BuildError> {
    let utils = &crypto::provider().key_utils;
    let unusable = |e: jsonwebtoken::errors::Error| {
        BuildError::with_source(BuildErrorKind::InvalidKey, "not a usable private key", e)
    };
    Ok(match private {
        Private::Rsa { public: claim, .. } => {
            let (n, e) = (utils.rsa_pub_components_from_private_key)(der).map_err(unusable)?;
            let (n, e) = (strip_zeros(&n), strip_zeros(&e));
            let matches = claim
                .as_ref()
                .is_none_or(|(cn, ce)| strip_zeros(cn) == n && strip_zeros(ce) == e);
            (
                EncodingKey::from_rsa_der(der),
                PublicParts::rsa(n, e),
                matches,
            )
        }
        Private::Ec {
            curve,
            public: claim,
            ..
        } => {
            let (_, x, y) = (utils.ec_pub_components_from_private_key)(der, curve.algorithm())
                .map_err(unusable)?;
            if x.len() != curve.len() || y.len() != curve.len() {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidKey,
                    "EC public key has the wrong length",
                ));
            }
            let point = curve
                .point(&x, &y)
                .map_err(|why| BuildError::new(BuildErrorKind::InvalidKey, why))?;
            let matches = claim.as_ref().is_none_or(|c| *c == point);
            (
                EncodingKey::from_ec_der(der),
                PublicParts::ec(curve.name(), &x, &y),
                matches,
            )
        }
        Private::Ed25519 { public: claim, .. } => {
            let x = (utils.ed_pub_components_from_private_key)(der, &EllipticCurve::Ed25519)
                .map_err(unusable)?;
            let matches = claim.as_ref().is_none_or(|c| *c == x);
            (
                EncodingKey::from_ed_der(der),
                PublicParts::ed25519(&x),
                matches,
            )
        }
    })
}
