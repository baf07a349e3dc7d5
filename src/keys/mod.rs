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
pub(crate) mod index;
pub(crate) mod jwk;
pub(crate) mod key;
#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod remote;
mod sources;
mod static_keys;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jsonwebtoken::Algorithm;

use crate::error::AuthError;

pub use alg::AlgSet;
pub(crate) use alg::parse_alg;
pub use key::Key;
#[cfg(all(feature = "remote-jwks", feature = "redis"))]
pub use remote::RedisSnapshot;
#[cfg(feature = "remote-jwks")]
pub use remote::{
    BearerTokenFile, FetchHeaders, JwksError, JwksErrorKind, JwksStatus, KeySetFormat, RemoteJwks,
    RemoteJwksBuilder, SavedKeySet, SharedSnapshot, StoreFuture,
};
pub use sources::KeySources;
pub use static_keys::StaticKeys;
pub(crate) use static_keys::jwks_keys;

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

    /// Whether this source holds a key named `kid`, answered without I/O:
    /// `None` when it cannot tell now (default; a remote set with nothing
    /// cached yet). [`KeySources`] sends a `kid` to its one holder only
    /// when every other source answered `Some(false)`, and refuses a `kid`
    /// two sources hold.
    fn holds_kid(&self, kid: &str) -> Option<bool> {
        let _ = kid;
        None
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

    fn holds_kid(&self, kid: &str) -> Option<bool> {
        (**self).holds_kid(kid)
    }
}
