//! Hints for tokens that can never pass, logged once at `warn` with a
//! message the configuration (often a provider preset) wrote: an Okta org
//! authorization server's token (its `iss`), a Microsoft Graph token (a
//! `nonce` in its header). Read only after a rejection, from the unverified
//! token, and only when a hint is configured: never on the path of a token
//! that passes.

use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::error::{AuthError, AuthErrorKind};

/// What a hint looks for in a refused token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The payload's `iss` is this text.
    Issuer,
    /// The header has a member of this name.
    HeaderMember,
}

#[derive(Debug)]
struct Hint {
    trigger: Trigger,
    text: Box<str>,
    message: Box<str>,
    logged: AtomicBool,
}

/// The configured hints.
#[derive(Debug, Default)]
pub(crate) struct Hints {
    hints: Vec<Hint>,
}

impl Hints {
    pub(crate) fn new(hints: Vec<(Trigger, String, String)>) -> Self {
        let hints = hints
            .into_iter()
            .map(|(trigger, text, message)| Hint {
                trigger,
                text: text.into(),
                message: message.into(),
                logged: AtomicBool::new(false),
            })
            .collect();
        Self { hints }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.hints.is_empty()
    }

    /// Looks at a refused token (at most `max_size` bytes) for a hint's
    /// trigger; logs each hint the first time it applies.
    pub(crate) fn diagnose(&self, token: &str, error: &AuthError, max_size: usize) {
        let refused_for_its_origin = matches!(
            error.kind(),
            AuthErrorKind::UnknownKey
                | AuthErrorKind::InvalidSignature
                | AuthErrorKind::InvalidIssuer
                | AuthErrorKind::InvalidAudience
                | AuthErrorKind::AlgorithmNotAllowed
        );
        let all_logged = self.hints.iter().all(|h| h.logged.load(Ordering::Relaxed));
        if all_logged || !refused_for_its_origin || token.len() > max_size {
            return;
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
            return;
        };
        let header = decode::<serde_json::Map<String, serde_json::Value>>(header);
        let payload = decode::<Issuer>(payload);
        for hint in &self.hints {
            let applies = match hint.trigger {
                Trigger::Issuer => {
                    payload.as_ref().and_then(|p| p.iss.as_deref()) == Some(&hint.text)
                }
                Trigger::HeaderMember => {
                    header.as_ref().is_some_and(|h| h.contains_key(&*hint.text))
                }
            };
            if applies && !hint.logged.swap(true, Ordering::Relaxed) {
                crate::log::rejection_hint(&hint.message);
            }
        }
    }
}

/// The unverified `iss` (other members ignored).
#[derive(Deserialize)]
struct Issuer {
    #[serde(default)]
    iss: Option<String>,
}

fn decode<T: for<'de> Deserialize<'de>>(segment: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}
