//! Keys parsed once for the signature step (aws-lc-rs backend).
//!
//! jsonwebtoken re-parses the public key on every verification (≈ 3 µs for
//! RSA). A [`Prepared`] parses it on first use of each algorithm and keeps
//! the aws-lc-rs object, so later checks only verify. The primitives and
//! parameters are exactly those jsonwebtoken's aws-lc-rs provider uses
//! (`RSA_PKCS1_2048_8192_SHA256`, `ECDSA_P256_SHA256_FIXED`, …); the
//! differential tests in `tests/differential.rs` hold the two paths to the
//! same answers. With the `rust-crypto` backend the crate uses the plain
//! jsonwebtoken path instead.

use std::sync::OnceLock;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use aws_lc_rs::{digest, hmac};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};

/// One algorithm's ready verifier.
enum Ready {
    /// An RSA or ECDSA key, verified over a digest we compute: aws-lc's
    /// digest entry point skips the message-digest context that
    /// `verify_sig` sets up on every call (≈ 0.1 µs, measured).
    Hashed(ParsedPublicKey, &'static digest::Algorithm),
    /// An Ed25519 key (EdDSA signs the message itself).
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
    /// The key does not parse for this algorithm: every signature fails.
    Unusable,
}

/// Per-algorithm verifiers, built on first use.
#[derive(Default)]
pub(crate) struct Prepared {
    slots: [OnceLock<Ready>; 12],
}

type RsaParams = (&'static sig::RsaParameters, &'static digest::Algorithm);

fn rsa_params(alg: Algorithm) -> Option<RsaParams> {
    Some(match alg {
        Algorithm::RS256 => (&sig::RSA_PKCS1_2048_8192_SHA256, &digest::SHA256),
        Algorithm::RS384 => (&sig::RSA_PKCS1_2048_8192_SHA384, &digest::SHA384),
        Algorithm::RS512 => (&sig::RSA_PKCS1_2048_8192_SHA512, &digest::SHA512),
        Algorithm::PS256 => (&sig::RSA_PSS_2048_8192_SHA256, &digest::SHA256),
        Algorithm::PS384 => (&sig::RSA_PSS_2048_8192_SHA384, &digest::SHA384),
        Algorithm::PS512 => (&sig::RSA_PSS_2048_8192_SHA512, &digest::SHA512),
        _ => return None,
    })
}

fn prepare(key: &DecodingKey, alg: Algorithm) -> Ready {
    // A key only ever verifies its own family: never an RSA or EC public key
    // used as an HMAC secret.
    if key.family() != alg.family() {
        return Ready::Unusable;
    }
    let ready = match (alg, key.kind()) {
        (Algorithm::HS256, DecodingKeyKind::SecretOrDer(s)) => {
            Some(Ready::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, s))))
        }
        (Algorithm::HS384, DecodingKeyKind::SecretOrDer(s)) => {
            Some(Ready::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA384, s))))
        }
        (Algorithm::HS512, DecodingKeyKind::SecretOrDer(s)) => {
            Some(Ready::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA512, s))))
        }
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => {
            ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                .ok()
                .map(|k| Ready::Hashed(k, &digest::SHA256))
        }
        (Algorithm::ES384, DecodingKeyKind::SecretOrDer(point)) => {
            ParsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, point)
                .ok()
                .map(|k| Ready::Hashed(k, &digest::SHA384))
        }
        (Algorithm::EdDSA, DecodingKeyKind::SecretOrDer(x)) => {
            ParsedPublicKey::new(&sig::ED25519, x)
                .ok()
                .map(Ready::Public)
        }
        (_, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            rsa_params(alg).and_then(|(params, hash)| {
                RsaPublicKeyComponents { n, e }
                    .to_parsed_public_key(params)
                    .ok()
                    .map(|k| Ready::Hashed(k, hash))
            })
        }
        _ => None,
    };
    ready.unwrap_or(Ready::Unusable)
}

impl Prepared {
    /// Verifies `signature` over `message`. The caller has checked that the
    /// key allows `alg` and that the key's family matches it.
    pub(crate) fn verify(
        &self,
        key: &DecodingKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        let Some(cell) = crate::keys::alg::index(alg).and_then(|i| self.slots.get(i)) else {
            return false;
        };
        match cell.get_or_init(|| prepare(key, alg)) {
            Ready::Hashed(parsed, hash) => parsed
                .verify_digest_sig(&digest::digest(hash, message), signature)
                .is_ok(),
            Ready::Public(parsed) => parsed.verify_sig(message, signature).is_ok(),
            Ready::Hmac(k) => hmac::verify(k, message, signature).is_ok(),
            Ready::Unusable => false,
        }
    }
}
