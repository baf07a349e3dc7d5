//! How a request presented its token: as a bearer token, or with the DPoP
//! scheme and a proof.

use std::borrow::Cow;

/// A token and how it came.
#[derive(Debug)]
pub(crate) enum Presented<'r> {
    /// From the layer's token source.
    Bearer(Cow<'r, str>),
    /// With the DPoP scheme and a valid proof: the token, the thumbprint of
    /// the proof's key and the proof's `jti` (recorded once the token has
    /// passed).
    #[cfg(feature = "dpop")]
    Dpop(&'r str, String, String),
}

impl Presented<'_> {
    pub(crate) fn token(&self) -> &str {
        match self {
            Self::Bearer(token) => token,
            #[cfg(feature = "dpop")]
            Self::Dpop(token, ..) => token,
        }
    }

    /// Whether the layer's token source found the token (so its
    /// `accepted` hook applies).
    pub(crate) fn by_source(&self) -> bool {
        matches!(self, Self::Bearer(_))
    }

    /// The proof key's thumbprint, for a DPoP presentation.
    pub(crate) fn proof_key(&self) -> Option<&str> {
        match self {
            Self::Bearer(_) => None,
            #[cfg(feature = "dpop")]
            Self::Dpop(_, jkt, _) => Some(jkt),
        }
    }
}
