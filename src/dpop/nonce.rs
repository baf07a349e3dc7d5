//! Server nonces (RFC 9449 §8): a nonce per time step, derived from a
//! random secret made when the layer is built (no state per client); a
//! proof must carry the current step's nonce or the previous one, so a
//! nonce is accepted for one to two steps.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use sha2::{Digest as _, Sha256};

use crate::error::{BuildError, BuildErrorKind};

/// The nonces of one layer.
#[derive(Debug)]
pub(crate) struct Nonces {
    secret: [u8; 32],
    /// The length of a step, in seconds.
    step: u64,
}

impl Nonces {
    pub(crate) fn new(step: u64) -> Result<Self, BuildError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|_| {
            BuildError::new(BuildErrorKind::Platform, "no randomness for DPoP nonces")
        })?;
        Ok(Self {
            secret,
            step: step.max(1),
        })
    }

    /// The nonce of the step holding `now` (seconds since the epoch).
    fn of_step(&self, step: u64) -> String {
        let mut hash = Sha256::new();
        hash.update(self.secret);
        hash.update(step.to_be_bytes());
        let digest = hash.finalize();
        URL_SAFE_NO_PAD.encode(digest.get(..18).unwrap_or_default())
    }

    /// The nonce to hand out now.
    pub(crate) fn current(&self, now: u64) -> HeaderValue {
        // Base64url text is always a valid header value.
        HeaderValue::from_str(&self.of_step(now / self.step))
            .unwrap_or_else(|_| HeaderValue::from_static("-"))
    }

    /// Whether `nonce` is the current step's or the previous one's.
    pub(crate) fn accepts(&self, nonce: Option<&str>, now: u64) -> bool {
        let Some(nonce) = nonce else {
            return false;
        };
        let step = now / self.step;
        nonce == self.of_step(step) || (step > 0 && nonce == self.of_step(step - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_lives_one_to_two_steps_and_is_per_layer() {
        let nonces = Nonces::new(300).unwrap();
        let t = 1_700_000_100;
        let nonce = nonces.current(t);
        let nonce = nonce.to_str().unwrap();
        assert!(nonces.accepts(Some(nonce), t));
        assert!(nonces.accepts(Some(nonce), t + 300));
        assert!(!nonces.accepts(Some(nonce), t + 600));
        assert!(!nonces.accepts(Some(nonce), t - 300));
        assert!(!nonces.accepts(None, t));
        assert!(!nonces.accepts(Some("made-up"), t));
        let other = Nonces::new(300).unwrap();
        assert!(!other.accepts(Some(nonce), t), "another layer's secret");
    }
}
