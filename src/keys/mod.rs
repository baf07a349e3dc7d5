//! Verification keys and where they come from.
//!
//! A [`Key`] is a parsed public key (or HMAC secret) together with the set of
//! algorithms it may verify. That set comes from the key (its JWK `alg`, or
//! its type and curve), never from the token header, which closes the classic
//! algorithm-confusion attacks.
//!
//! A [`KeySource`] picks the key for a token's `kid` and `alg`:
//! [`StaticKeys`] holds keys in memory. A lookup answers at once when it can
//! ([`Lookup::Ready`]), so the common path needs no allocation or boxing.

pub(crate) mod alg;
pub(crate) mod der;
pub(crate) mod index;
pub(crate) mod jwk;
#[cfg(feature = "aws-lc-rs")]
mod prepared;
#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod remote;
mod static_keys;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::error::AuthError;

pub use alg::AlgSet;
pub(crate) use alg::parse_alg;
#[cfg(feature = "remote-jwks")]
pub use remote::{JwksError, JwksErrorKind, JwksStatus, RemoteJwks, RemoteJwksBuilder};
pub use static_keys::StaticKeys;
pub(crate) use static_keys::jwks_keys;

/// A verification key and the algorithms it may verify.
///
/// `Debug` never prints key material.
pub struct Key {
    kid: Option<Box<str>>,
    algorithms: AlgSet,
    key: DecodingKey,
    #[cfg(feature = "aws-lc-rs")]
    prepared: prepared::Prepared,
}

impl Key {
    pub(crate) fn new(kid: Option<Box<str>>, algorithms: AlgSet, key: DecodingKey) -> Self {
        Self {
            kid,
            algorithms,
            key,
            #[cfg(feature = "aws-lc-rs")]
            prepared: prepared::Prepared::default(),
        }
    }

    /// Checks `signature` over `message` under `alg` (which the caller has
    /// checked the key allows): with aws-lc-rs through the key parsed once,
    /// otherwise through jsonwebtoken's provider.
    pub(crate) fn verify_signature(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        #[cfg(feature = "aws-lc-rs")]
        {
            self.prepared.verify(&self.key, alg, message, signature)
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            crate::crypto::verify(&self.key, alg, message, signature)
        }
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
        use jsonwebtoken::DecodingKeyKind as K;
        let material = match (self.key.kind(), other.key.kind()) {
            (K::SecretOrDer(a), K::SecretOrDer(b)) => a == b,
            (K::RsaModulusExponent { n: n1, e: e1 }, K::RsaModulusExponent { n: n2, e: e2 }) => {
                n1 == n2 && e1 == e2
            }
            _ => false,
        };
        material
            && self.kid == other.kid
            && self.algorithms == other.algorithms
            && self.key.family() == other.key.family()
    }

    /// Whether this key may verify `alg`.
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(alg)
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

/// A future resolving to a key.
pub type KeyFuture = Pin<Box<dyn Future<Output = Result<Arc<Key>, AuthError>> + Send + 'static>>;

/// The answer of a [`KeySource`]: now, or after some I/O.
pub enum Lookup {
    /// The answer is known now.
    Ready(Result<Arc<Key>, AuthError>),
    /// The answer needs I/O (a key set fetch).
    Pending(KeyFuture),
}

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready(r) => f.debug_tuple("Ready").field(r).finish(),
            Self::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

/// Finds the key for a token.
///
/// `kid` is the token's `kid` header (untrusted) and `alg` its algorithm,
/// already known to be a supported one. An implementation answers with a key
/// that allows `alg`, or with an [`AuthError`] of kind `UnknownKey`,
/// `AlgorithmNotAllowed` or `KeysUnavailable`.
pub trait KeySource: Send + Sync + 'static {
    /// Looks up the key.
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup;

    /// Every algorithm a key of this source could ever verify (default:
    /// all). A token whose `alg` is outside the union of a layer's sources
    /// is refused when its header is read, before any lookup: a remote key
    /// set never holds symmetric keys, so an HS256 token costs no refetch.
    fn algorithms(&self) -> AlgSet {
        AlgSet::ALL
    }
}

/// Anything that can become a [`KeySource`]: a key source, or a builder of
/// one (built when the layer is built, errors reported then).
pub trait IntoKeySource {
    /// Converts into a shareable key source.
    ///
    /// # Errors
    ///
    /// The builder's configuration error.
    fn into_key_source(self) -> Result<Arc<dyn KeySource>, crate::BuildError>;
}

impl<K: KeySource> IntoKeySource for K {
    fn into_key_source(self) -> Result<Arc<dyn KeySource>, crate::BuildError> {
        Ok(Arc::new(self))
    }
}

#[cfg(feature = "remote-jwks")]
impl IntoKeySource for RemoteJwksBuilder {
    fn into_key_source(self) -> Result<Arc<dyn KeySource>, crate::BuildError> {
        Ok(Arc::new(self.build()?))
    }
}

impl<K: KeySource + ?Sized> KeySource for Arc<K> {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        (**self).lookup(kid, alg)
    }

    fn algorithms(&self) -> AlgSet {
        (**self).algorithms()
    }
}
