//! The signature step, and the choice of the crypto backend: the one place
//! where the `aws-lc-rs` and `rust-crypto` features differ. [`Verifying`]
//! checks signatures for a `Key`, [`Signing`] makes them for a
//! `SigningKey`; with aws-lc-rs both parse the key once (`prepared.rs`,
//! `signer.rs`), otherwise they go through jsonwebtoken's provider.
//!
//! jsonwebtoken 10+ needs exactly one backend and panics at run time when it
//! cannot tell which. We never rely on its process-wide default: we call the
//! provider chosen by our own features directly. With neither feature the
//! crate does not compile; with both, `aws-lc-rs` is used (so
//! `--all-features` builds work) and is also offered to jsonwebtoken as its
//! process default.

#[cfg(feature = "aws-lc-rs")]
mod prepared;
#[cfg(all(feature = "aws-lc-rs", feature = "issue"))]
mod signer;

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "jwt-layer needs a crypto backend: enable the `aws-lc-rs` feature (default) or `rust-crypto`"
);

// Without `issue`, only the `rust-crypto` path (verification, or installing
// the default when both backends are on) calls the provider.
#[cfg(any(feature = "issue", feature = "rust-crypto"))]
use jsonwebtoken::Algorithm;
#[cfg(any(feature = "issue", feature = "rust-crypto"))]
use jsonwebtoken::crypto::CryptoProvider;

/// The provider our features select.
#[cfg(any(feature = "issue", feature = "rust-crypto"))]
pub(crate) fn provider() -> &'static CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    {
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
    }
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    {
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
    }
}

/// Called when a layer or issuer is built: with both backends enabled,
/// jsonwebtoken itself cannot pick one, so we install ours as its default
/// (an earlier explicit choice by the application wins).
pub(crate) fn ensure_backend() {
    #[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
    {
        let _already_installed = provider().install_default();
    }
}

/// The verifying half of a key, as the backend wants it.
#[derive(Default)]
pub(crate) struct Verifying {
    #[cfg(feature = "aws-lc-rs")]
    prepared: prepared::Prepared,
}

impl Verifying {
    /// Checks `signature` over `message` with `key` under `alg` (which the
    /// caller has checked the key allows).
    pub(crate) fn verify(
        &self,
        key: &jsonwebtoken::DecodingKey,
        alg: jsonwebtoken::Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        #[cfg(feature = "aws-lc-rs")]
        {
            self.prepared.verify(key, alg, message, signature)
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            verify(key, alg, message, signature)
        }
    }
}

/// The signing half of a key, as the backend wants it.
#[cfg(feature = "issue")]
#[derive(Default)]
pub(crate) struct Signing {
    #[cfg(feature = "aws-lc-rs")]
    prepared: signer::PreparedSigner,
}

#[cfg(feature = "issue")]
impl Signing {
    /// Signs `message` with `key` under `alg`: with the key parsed once, or
    /// through the provider when it cannot be prepared (which then reports
    /// the error).
    pub(crate) fn sign(
        &self,
        key: &jsonwebtoken::EncodingKey,
        alg: Algorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, crate::error::BoxError> {
        #[cfg(feature = "aws-lc-rs")]
        if let Some(signature) = self.prepared.sign(key, alg, message) {
            return Ok(signature);
        }
        sign(key, alg, message)
    }
}

/// Checks `signature` over `message` with `key` under `alg` through the
/// provider (the `rust-crypto` path).
#[cfg(not(feature = "aws-lc-rs"))]
fn verify(
    key: &jsonwebtoken::DecodingKey,
    alg: Algorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(verifier) = (provider().verifier_factory)(&alg, key) else {
        return false;
    };
    // The backend's trait takes the signature as a `Vec`.
    let signature = signature.to_vec();
    verifier.verify(message, &signature).is_ok()
}

/// Signs `message` with `key` under `alg` through our provider (never
/// jsonwebtoken's process default). The caller has checked that the key
/// fits `alg`.
#[cfg(feature = "issue")]
fn sign(
    key: &jsonwebtoken::EncodingKey,
    alg: Algorithm,
    message: &[u8],
) -> Result<Vec<u8>, crate::error::BoxError> {
    let signer = (provider().signer_factory)(&alg, key)?;
    if signer.algorithm() != alg {
        return Err("the backend's signer is for another algorithm".into());
    }
    Ok(signer.try_sign(message)?)
}

/// Whether `point` (an uncompressed SEC1 point) is a valid public key on
/// the curve of `alg` (ES256 or ES384), checked when a key is loaded so an
/// off-curve key is skipped like any other unusable key.
pub(crate) fn ec_point_is_valid(alg: jsonwebtoken::Algorithm, point: &[u8]) -> bool {
    #[cfg(feature = "aws-lc-rs")]
    {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ParsedPublicKey,
        };
        let curve = match alg {
            jsonwebtoken::Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED,
            jsonwebtoken::Algorithm::ES384 => &ECDSA_P384_SHA384_FIXED,
            _ => return false,
        };
        ParsedPublicKey::new(curve, point).is_ok()
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    {
        // The pure-Rust verifier parses its key when it is made.
        let key = jsonwebtoken::DecodingKey::from_ec_der(point);
        (provider().verifier_factory)(&alg, &key).is_ok()
    }
}
