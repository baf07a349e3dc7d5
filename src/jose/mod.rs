//! JOSE building blocks shared by verification (`keys/`), issuing
//! (`issue/`) and the remote key fetcher: one DER reader and writer, one JWK
//! model read with a per-direction policy, one curve table, one base64url
//! convention, one URL rule and one certificate reader.

pub(crate) mod b64;
pub(crate) mod curve;
pub(crate) mod der;
pub(crate) mod jwk;
#[cfg(feature = "issue")]
pub(crate) mod published;
#[cfg(any(feature = "issue", feature = "dpop"))]
pub(crate) mod thumbprint;
#[cfg(any(feature = "remote-jwks", feature = "issue"))]
pub(crate) mod url;
pub(crate) mod x509;
