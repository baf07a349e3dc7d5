//! [`IssueError`]: why a token could not be signed.

use std::fmt;

use crate::error::BoxError;

/// Why a token could not be issued. Configuration mistakes are caught
/// earlier, as a [`BuildError`](crate::BuildError), when keys are loaded and
/// the issuer is built; what is left happens per token.
#[derive(Debug)]
pub struct IssueError {
    kind: IssueErrorKind,
    source: Option<BoxError>,
}

/// The classes of [`IssueError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssueErrorKind {
    /// The claims do not serialize to a JSON object, or a time claim they
    /// set (`exp`, `nbf`, `iat`) is not a number.
    InvalidClaims,
    /// The crypto backend failed to sign.
    Signing,
    /// The operating system's random source failed (for `jti`).
    Randomness,
}

impl IssueErrorKind {
    fn description(self) -> &'static str {
        match self {
            Self::InvalidClaims => "claims are not a JSON object with numeric dates",
            Self::Signing => "signing failed",
            Self::Randomness => "random source failed",
        }
    }
}

impl fmt::Display for IssueErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl IssueError {
    pub(super) fn with_source(kind: IssueErrorKind, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// The class of failure.
    pub fn kind(&self) -> IssueErrorKind {
        self.kind
    }
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for IssueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
