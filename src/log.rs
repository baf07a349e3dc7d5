//! Logging through `tracing` when the feature is on. Only error kinds and
//! fixed texts are logged: never a token, a key, or a header value.

use crate::error::AuthError;

/// A request was rejected. Logged at `debug`: rejections are normal traffic
/// and an attacker can cause many.
pub(crate) fn rejected(err: &AuthError) {
    #[cfg(feature = "tracing")]
    {
        tracing::debug!(
            target: "jwt_layer",
            kind = ?err.kind(),
            status = err.status().as_u16(),
            "request rejected"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = err;
}
