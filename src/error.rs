//! The errors of requests ([`AuthError`]) and of configuration
//! ([`BuildError`]), each with a `#[non_exhaustive]` kind. (Key-set fetches
//! and issuing have their own: `JwksError`, `IssueError`.)
//!
//! Every way a request can fail authentication or authorization is an
//! [`AuthError`] whose [`AuthErrorKind`] decides, through the single table in
//! [`crate::challenge`], the HTTP status and the RFC 6750 challenge.
//! Configuration mistakes found by `build()` are a [`BuildError`].

use std::fmt;

use http::{HeaderValue, StatusCode};

/// A boxed error, as tower uses.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a request was not let through.
///
/// The kind decides the response (see [`AuthErrorKind::status`]); the
/// optional source carries details for logs and never reaches the client.
#[derive(Debug)]
pub struct AuthError {
    kind: AuthErrorKind,
    source: Option<BoxError>,
    retry_after: Option<u64>,
    challenge: Option<HeaderValue>,
    /// A fresh server nonce for a `DPoP-Nonce` header (RFC 9449 §8).
    dpop_nonce: Option<HeaderValue>,
}

/// The classes of authentication and authorization failure.
///
/// Each maps to exactly one status and challenge: see
/// [the mapping](crate::challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// No credentials were presented (401, challenge without `error`).
    MissingToken,
    /// The request was malformed: several `Authorization` headers, empty
    /// credentials, two tokens, or a header and a cookie that disagree (400).
    InvalidRequest,
    /// The token is not a well-formed compact JWS (401 `invalid_token`).
    MalformedToken,
    /// The token is longer than the configured maximum (401 `invalid_token`).
    TokenTooLarge,
    /// The header names a feature that is refused: `crit`, an encrypted
    /// (JWE) token, an unencoded payload (401 `invalid_token`).
    UnsupportedHeader,
    /// The `alg` is unknown, `none`, or not one the selected key may verify
    /// (401 `invalid_token`).
    AlgorithmNotAllowed,
    /// No key matches the token's `kid` (401 `invalid_token`).
    UnknownKey,
    /// The signature does not verify (401 `invalid_token`).
    InvalidSignature,
    /// `exp` has passed (401 `invalid_token`).
    Expired,
    /// `nbf` lies in the future (401 `invalid_token`).
    NotYetValid,
    /// `iat` lies in the future (401 `invalid_token`).
    IssuedInFuture,
    /// `exp - iat` exceeds the configured maximum lifetime (401 `invalid_token`).
    LifetimeTooLong,
    /// `iss` is missing or not one of the accepted issuers (401 `invalid_token`).
    InvalidIssuer,
    /// `aud` is missing or names none of the accepted audiences (401 `invalid_token`).
    InvalidAudience,
    /// A claim is missing, has the wrong JSON type, or the payload does not
    /// deserialize into the claims type (401 `invalid_token`).
    InvalidClaims,
    /// The `typ` header is not one the layer accepts, e.g. an ID token sent
    /// where RFC 9068 access tokens (`at+jwt`) are required (401
    /// `invalid_token`).
    InvalidTokenType,
    /// A claim rule says the token is not for this API (a `token_use`,
    /// `typ` claim or custom check that does not match) (401
    /// `invalid_token`).
    RejectedClaim,
    /// A token bound to a DPoP key (`cnf.jkt`) was presented as a plain
    /// bearer token: the downgrade RFC 9449 §7.2 forbids (401
    /// `invalid_token`).
    DpopBoundToken,
    /// A token presented with a DPoP proof is not bound to the proof's key
    /// (no `cnf.jkt`, or another one) (401 `invalid_token`).
    DpopKeyMismatch,
    /// The DPoP proof is missing parts, malformed, of another request or
    /// time, replayed, or not signed by its key (401 `invalid_dpop_proof`).
    InvalidDpopProof,
    /// The DPoP proof lacks the current server nonce; the answer carries
    /// one in `DPoP-Nonce` (401 `use_dpop_nonce`).
    UseDpopNonce,
    /// This API accepts DPoP-bound tokens only; a bearer token was
    /// presented (401 `invalid_token`).
    DpopRequired,
    /// The token, or every token of its subject issued until then, was
    /// revoked (401 `invalid_token`); see [`revocation`](crate::revocation).
    Revoked,
    /// A required scope is missing (403 `insufficient_scope`).
    InsufficientScope,
    /// A required role is missing (403 `insufficient_scope`).
    MissingRole,
    /// A claims predicate refused the request (403 `insufficient_scope`).
    Forbidden,
    /// The key server could not be reached and no usable key is cached
    /// (503 with `Retry-After`, no challenge).
    KeysUnavailable,
    /// An async check of the claims failed or ran out of time (503 with
    /// `Retry-After`, no challenge): the token may be fine.
    CheckUnavailable,
    /// The revocation list is not current (not loaded yet, or cut off from
    /// its store past the bound) and the failure policy is closed (503
    /// with `Retry-After`, no challenge).
    RevocationUnavailable,
    /// The claims were asked for but no layer put them in the request: a
    /// programming error (500).
    MissingLayer,
}

impl AuthErrorKind {
    /// The HTTP status this kind is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MissingToken
            | Self::MalformedToken
            | Self::TokenTooLarge
            | Self::UnsupportedHeader
            | Self::AlgorithmNotAllowed
            | Self::UnknownKey
            | Self::InvalidSignature
            | Self::Expired
            | Self::NotYetValid
            | Self::IssuedInFuture
            | Self::LifetimeTooLong
            | Self::InvalidIssuer
            | Self::InvalidAudience
            | Self::InvalidClaims
            | Self::InvalidTokenType
            | Self::RejectedClaim
            | Self::DpopBoundToken
            | Self::DpopKeyMismatch
            | Self::InvalidDpopProof
            | Self::UseDpopNonce
            | Self::DpopRequired
            | Self::Revoked => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InsufficientScope | Self::MissingRole | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::KeysUnavailable | Self::CheckUnavailable | Self::RevocationUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 §3.1 error code, if the kind carries one.
    pub fn error_code(self) -> Option<&'static str> {
        match self {
            Self::InvalidDpopProof => Some("invalid_dpop_proof"),
            Self::UseDpopNonce => Some("use_dpop_nonce"),
            Self::MissingToken => None,
            _ => self.code_of_status(),
        }
    }

    /// The RFC 6750 code of this kind's status: 400 `invalid_request`, 401
    /// `invalid_token`, 403 `insufficient_scope`.
    pub(crate) fn code_of_status(self) -> Option<&'static str> {
        match self.status() {
            StatusCode::BAD_REQUEST => Some("invalid_request"),
            StatusCode::UNAUTHORIZED => Some("invalid_token"),
            StatusCode::FORBIDDEN => Some("insufficient_scope"),
            _ => None,
        }
    }

    /// A fixed, short, human-readable description. It never contains request
    /// data; it is what `error_description` carries.
    pub fn description(self) -> &'static str {
        match self {
            Self::MissingToken => "no bearer token",
            Self::InvalidRequest => "malformed credentials",
            Self::MalformedToken => "malformed token",
            Self::TokenTooLarge => "token too large",
            Self::UnsupportedHeader => "unsupported token header",
            Self::AlgorithmNotAllowed => "algorithm not allowed",
            Self::UnknownKey => "unknown signing key",
            Self::InvalidSignature => "invalid signature",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::IssuedInFuture => "token issued in the future",
            Self::LifetimeTooLong => "token lifetime too long",
            Self::InvalidIssuer => "invalid issuer",
            Self::InvalidAudience => "invalid audience",
            Self::InvalidClaims => "invalid claims",
            Self::InvalidTokenType => "token type not accepted",
            Self::RejectedClaim => "token not accepted",
            Self::DpopBoundToken => "token bound to a DPoP key",
            Self::DpopKeyMismatch => "token not bound to the proof's key",
            Self::InvalidDpopProof => "invalid DPoP proof",
            Self::UseDpopNonce => "DPoP nonce required",
            Self::DpopRequired => "DPoP required",
            Self::Revoked => "token revoked",
            Self::InsufficientScope => "insufficient scope",
            Self::MissingRole => "insufficient role",
            Self::Forbidden => "access denied",
            Self::KeysUnavailable => "signing keys unavailable",
            Self::CheckUnavailable => "authorization check unavailable",
            Self::RevocationUnavailable => "revocation list unavailable",
            Self::MissingLayer => "authentication layer missing",
        }
    }
}

impl fmt::Display for AuthErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl AuthError {
    /// An error of the given kind with no further detail.
    pub fn new(kind: AuthErrorKind) -> Self {
        Self {
            kind,
            source: None,
            retry_after: None,
            challenge: None,
            dpop_nonce: None,
        }
    }

    /// An error of the given kind caused by `source` (kept for logs only).
    pub fn with_source(kind: AuthErrorKind, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            source: Some(source.into()),
            retry_after: None,
            challenge: None,
            dpop_nonce: None,
        }
    }

    /// The class of failure.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// Seconds after which a retry may succeed (only for
    /// [`AuthErrorKind::KeysUnavailable`]).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The server nonce to send in `DPoP-Nonce`, if any.
    pub(crate) fn dpop_nonce(&self) -> Option<&HeaderValue> {
        self.dpop_nonce.as_ref()
    }

    #[cfg(feature = "dpop")]
    pub(crate) fn with_dpop_nonce(mut self, nonce: HeaderValue) -> Self {
        self.dpop_nonce = Some(nonce);
        self
    }

    /// A challenge that replaces the kind's default one (a 403 naming the
    /// required scopes).
    pub(crate) fn challenge(&self) -> Option<&HeaderValue> {
        self.challenge.as_ref()
    }

    pub(crate) fn with_challenge(mut self, challenge: HeaderValue) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Sets the `Retry-After` hint in seconds.
    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

impl From<AuthErrorKind> for AuthError {
    fn from(kind: AuthErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A configuration mistake found while building a layer, a key set or a
/// validation. Building never does I/O, so this is always about the
/// configuration itself. [`kind`](Self::kind) classifies it; the message
/// (its `Display`) says what to change.
#[derive(Debug)]
pub struct BuildError {
    kind: BuildErrorKind,
    message: String,
    source: Option<BoxError>,
}

/// The classes of configuration mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// A key is malformed, too weak, of an unsupported type, or unfit for
    /// the use asked of it (an HMAC secret that is a public key, an
    /// algorithm the key cannot verify, a small-order Ed25519 point …).
    InvalidKey,
    /// No key to verify or sign with.
    NoKey,
    /// Two keys claim the same `kid`.
    DuplicateKid,
    /// Settings that exclude each other, or one given twice (static keys
    /// and a key source, an issuer configured twice …).
    Conflict,
    /// A claim rule or token limit out of bounds: leeway, lifetime, token
    /// size, algorithms, an empty issuer or audience.
    InvalidValidation,
    /// Neither an issuer nor an audience is set; call
    /// `allow_any_issuer_and_audience()` if that is meant.
    UncheckedIssuerAndAudience,
    /// A URL that does not parse, or is not https (plain http is allowed
    /// for loopback hosts only).
    InvalidUrl,
    /// A realm, scope or other text that would go into a response header
    /// and is not valid there.
    InvalidHeaderText,
    /// A cache, timeout or other setting out of its bounds, or a required
    /// one missing.
    InvalidSetting,
    /// The platform failed: the random source, key generation, the HTTP
    /// client's TLS setup.
    Platform,
}

impl BuildError {
    pub(crate) fn new(kind: BuildErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        kind: BuildErrorKind,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// What kind of mistake this is.
    pub fn kind(&self) -> BuildErrorKind {
        self.kind
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
