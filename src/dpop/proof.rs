//! One DPoP proof (RFC 9449 §4.3) checked against one request: its header
//! (`typ`, an allowed asymmetric `alg`, a public `jwk`), its signature
//! under that key, then `htm`, `htu`, `iat`, `ath` and, last, `jti` (so a
//! bad proof never spends an id).

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Method, Uri};
use moka::sync::Cache;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};

use super::htu;
use super::nonce::Nonces;
use super::replay::Replays;
use crate::error::{AuthError, AuthErrorKind};
use crate::keys::jwk::{JwkPolicy, parse_jwk};
use crate::keys::parse_alg;
use crate::keys::{AlgSet, Key};
use crate::validation::Clock;

/// The largest proof read.
pub(crate) const MAX_PROOF: usize = 8 * 1024;
/// The longest `jti` accepted.
const MAX_JTI: usize = 256;
/// JWK members only a private key has: a proof carrying one is refused.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a proof must satisfy, fixed when the layer is built.
#[derive(Debug)]
pub(crate) struct ProofRules {
    pub(crate) algorithms: AlgSet,
    /// How far `iat` may be from now, in seconds.
    pub(crate) window: f64,
    /// The externally visible origin `htu` is checked against.
    pub(crate) origin: Option<String>,
    pub(crate) replays: Replays,
    pub(crate) clock: Clock,
    /// Server nonces, when required.
    pub(crate) nonces: Option<Nonces>,
    /// Proof keys seen recently, by their `jwk` text: a client signs many
    /// proofs with one key, so its parse, checks and thumbprint are done
    /// once.
    pub(crate) keys: Cache<Box<str>, Arc<ProofKey>>,
}

/// A proof key that passed the checks, and its thumbprint.
#[derive(Debug)]
pub(crate) struct ProofKey {
    key: Key,
    jkt: String,
}

#[derive(Deserialize)]
struct ProofHeader<'a> {
    #[serde(borrow)]
    typ: Cow<'a, str>,
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    jwk: &'a RawValue,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ProofClaims<'a> {
    #[serde(borrow)]
    htm: Cow<'a, str>,
    #[serde(borrow)]
    htu: Cow<'a, str>,
    iat: f64,
    #[serde(borrow)]
    jti: Cow<'a, str>,
    #[serde(default, borrow)]
    ath: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    nonce: Option<Cow<'a, str>>,
}

fn invalid() -> AuthError {
    AuthErrorKind::InvalidDpopProof.into()
}

fn decode(segment: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(segment.as_bytes())
        .map_err(|_| invalid())
}

/// `base64url(SHA-256(token))`, the `ath` a proof for `token` carries.
pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

impl ProofRules {
    /// Checks `proof` for a `method` request to `uri` carrying `token`;
    /// the RFC 7638 thumbprint of the proof's key.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        token: &str,
    ) -> Result<String, AuthError> {
        if proof.len() > MAX_PROOF {
            return Err(invalid());
        }
        let mut parts = proof.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let header_json = decode(header)?;
        let head: ProofHeader<'_> = serde_json::from_slice(&header_json).map_err(|_| invalid())?;
        let signing_input = proof
            .get(..header.len() + 1 + payload.len())
            .ok_or_else(invalid)?;
        let key = self.check_signature(&head, signing_input, &decode(signature)?)?;
        let claims_json = decode(payload)?;
        let claims: ProofClaims<'_> =
            serde_json::from_slice(&claims_json).map_err(|_| invalid())?;
        self.check_claims(&claims, method, uri, headers, token)?;
        self.check_nonce(claims.nonce.as_deref())?;
        if !self.replays.first_use(&claims.jti) {
            return Err(invalid());
        }
        Ok(key.jkt.clone())
    }

    /// The header's rules and the signature under its `jwk`.
    fn check_signature(
        &self,
        head: &ProofHeader<'_>,
        signing_input: &str,
        signature: &[u8],
    ) -> Result<Arc<ProofKey>, AuthError> {
        let alg = parse_alg(&head.alg)
            .filter(|a| self.algorithms.contains(*a))
            .ok_or_else(invalid)?;
        if !head.typ.eq_ignore_ascii_case("dpop+jwt") || head.crit.is_some() {
            return Err(invalid());
        }
        let key = self.proof_key(head.jwk.get())?;
        if key.key.allows(alg)
            && key
                .key
                .verify_signature(alg, signing_input.as_bytes(), signature)
        {
            Ok(key)
        } else {
            Err(invalid())
        }
    }

    /// The key of a `jwk` (public members only, under the hygiene rules of
    /// any key), from the cache or parsed now.
    fn proof_key(&self, jwk: &str) -> Result<Arc<ProofKey>, AuthError> {
        if let Some(key) = self.keys.get(jwk) {
            return Ok(key);
        }
        let members: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(jwk).map_err(|_| invalid())?;
        if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
            return Err(invalid());
        }
        let policy = JwkPolicy {
            allow_symmetric: false,
        };
        let key = parse_jwk(jwk, policy).map_err(|_| invalid())?;
        let jkt = crate::jose::thumbprint::jwk_thumbprint(jwk).map_err(|_| invalid())?;
        let key = Arc::new(ProofKey { key, jkt });
        self.keys.insert(Box::from(jwk), Arc::clone(&key));
        Ok(key)
    }

    /// The server nonce, when nonces are required: without the current one,
    /// the answer hands it out (`use_dpop_nonce`, `DPoP-Nonce`).
    fn check_nonce(&self, nonce: Option<&str>) -> Result<(), AuthError> {
        let Some(nonces) = &self.nonces else {
            return Ok(());
        };
        let now = self.clock.now();
        if nonces.accepts(nonce, now) {
            return Ok(());
        }
        Err(AuthError::new(AuthErrorKind::UseDpopNonce).with_dpop_nonce(nonces.current(now)))
    }

    /// `htm`, `htu`, `iat`, `ath` and the shape of `jti`.
    fn check_claims(
        &self,
        claims: &ProofClaims<'_>,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        token: &str,
    ) -> Result<(), AuthError> {
        let expected = htu::expected(self.origin.as_deref(), uri, headers).ok_or_else(invalid)?;
        let now = self.clock.now() as f64;
        let ok = claims.htm == method.as_str()
            && htu::normalise(&claims.htu).is_some_and(|htu| htu == expected)
            && claims.iat.is_finite()
            && (claims.iat - now).abs() <= self.window
            && claims.ath.as_deref() == Some(token_hash(token).as_str())
            && !claims.jti.is_empty()
            && claims.jti.len() <= MAX_JTI;
        if ok { Ok(()) } else { Err(invalid()) }
    }
}
