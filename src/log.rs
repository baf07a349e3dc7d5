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

/// Untrusted text (a document's member) made safe for a log line or an
/// error message: at most `max` characters, control characters replaced.
pub(crate) fn untrusted(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A refused token matched a configured hint (once per hint).
pub(crate) fn rejection_hint(message: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "jwt_layer", hint = message, "a refused token is of a kind that cannot pass here");
    #[cfg(not(feature = "tracing"))]
    let _ = message;
}

/// The revocation list is full: new revocations are not recorded and the
/// failure policy applies.
pub(crate) fn revocation_list_full(entries: usize) {
    #[cfg(feature = "tracing")]
    tracing::error!(target: "jwt_layer::revocation", entries, "the revocation list is full: new revocations are not recorded");
    #[cfg(not(feature = "tracing"))]
    let _ = entries;
}

/// The revocation stream ended (or could not be set up).
#[cfg(feature = "redis")]
pub(crate) fn revocation_stream_lost(error: Option<&dyn std::error::Error>) {
    #[cfg(feature = "tracing")]
    match error {
        Some(error) => {
            tracing::warn!(target: "jwt_layer::revocation", %error, "revocation stream down; reconnecting")
        }
        None => {
            tracing::warn!(target: "jwt_layer::revocation", "revocation stream closed; reconnecting")
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = error;
}

/// A shared key ring could not be read, stored or rotated.
#[cfg(all(feature = "redis", feature = "issue", feature = "aws-lc-rs"))]
pub(crate) fn shared_ring_failed(error: &(dyn std::error::Error + 'static)) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "jwt_layer::issue", %error, "shared key ring: Redis failed; signing with the keys held");
    #[cfg(not(feature = "tracing"))]
    let _ = error;
}

/// A token's `kid` is held by two key sources of one issuer: refused.
pub(crate) fn kid_in_two_sources(kid: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "jwt_layer::keys", kid = %untrusted(kid, 64), "two key sources hold this kid; tokens naming it are refused");
    #[cfg(not(feature = "tracing"))]
    let _ = kid;
}

/// Events of a remote key set, each with the source's label (its URL
/// without userinfo, query or fragment).
#[cfg(feature = "remote-jwks")]
pub(crate) mod jwks {
    /// The set's lifetime ended and refreshing keeps failing (once per
    /// episode).
    pub(crate) fn serving_stale(source: &str, age_secs: u64) {
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwt_layer::jwks", source, age_secs, "serving a stale key set: refreshing keeps failing");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, age_secs);
    }

    /// A token named a `kid` the set does not hold.
    pub(crate) fn unknown_kid_refetch(source: &str) {
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "jwt_layer::jwks", source, "unknown kid, refetching key set");
        #[cfg(not(feature = "tracing"))]
        let _ = source;
    }

    /// A good set was fetched.
    pub(crate) fn fetched(source: &str, keys: usize) {
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "jwt_layer::jwks", source, keys, "key set fetched");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, keys);
    }

    /// A fetch failed.
    pub(crate) fn fetch_failed(
        source: &str,
        error: &crate::keys::JwksError,
        serving_last_good_set: bool,
    ) {
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwt_layer::jwks", source, error = %error, serving_last_good_set, "key set fetch failed");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, error, serving_last_good_set);
    }

    /// A key of a fetched set was skipped.
    pub(crate) fn key_skipped(source: &str, reason: &str) {
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "jwt_layer::jwks", source, reason, "key skipped");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, reason);
    }

    /// A key of a fetched set is used despite something worth knowing (a
    /// certificate outside its validity dates).
    pub(crate) fn key_note(source: &str, note: &str) {
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwt_layer::jwks", source, note, "key used with a note");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, note);
    }

    /// A saved key set was installed at start.
    pub(crate) fn seeded(source: &str, age_secs: u64) {
        #[cfg(feature = "tracing")]
        tracing::info!(target: "jwt_layer::jwks", source, age_secs, "started from the saved key set");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, age_secs);
    }

    /// The saved key set could not be used.
    pub(crate) fn seed_unusable(source: &str, reason: &str) {
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwt_layer::jwks", source, reason, "saved key set not used");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, reason);
    }

    /// A good fetch could not be saved.
    pub(crate) fn save_failed(source: &str, reason: &str) {
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwt_layer::jwks", source, reason, "key set not saved");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, reason);
    }

    /// Several keys of a fetched set share a `kid`.
    pub(crate) fn shared_kids(source: &str, count: usize) {
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwt_layer::jwks", source, count, "several keys share a kid; tokens naming it are refused");
        #[cfg(not(feature = "tracing"))]
        let _ = (source, count);
    }
}

/// An OpenID discovery document names another issuer than the configured
/// one: a configuration error, logged at `error` with both issuers.
#[cfg(feature = "remote-jwks")]
pub(crate) fn discovery_issuer_mismatch(configured: &str, discovered: &str) {
    #[cfg(feature = "tracing")]
    tracing::error!(
        target: "jwt_layer::jwks",
        configured_issuer = configured,
        discovered_issuer = %untrusted(discovered, 200),
        "configuration error: the discovery document names another issuer than the configured one; \
         tokens of this issuer get 503 until the configuration is fixed"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (configured, discovered);
}

/// A refused token's `iss` differs from a configured issuer only by a
/// trailing slash, the scheme or the host's case: the most frequent
/// misconfiguration. Logged at `warn`, once per distinct value.
pub(crate) fn issuer_near_miss(configured: &str, seen: &str) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "jwt_layer",
        configured_issuer = configured,
        token_issuer = %untrusted(seen, 200),
        "a token's iss differs from a configured issuer only by a trailing slash, scheme or \
         case; matching is exact: configure the issuer as your provider writes it"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (configured, seen);
}
