//! One DPoP proof (RFC 9449 §4.3) checked against one request: its header
//! (`typ`, an allowed asymmetric `alg`, a public `jwk`), its signature
//! under that key, then `htm`, `htu`, `iat`, `ath` and the nonce. Its `jti`
//! is recorded by the caller once the token has passed too (so neither a
//! bad proof nor a bad token spends an id).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Method, Uri};
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
/// JWK members a proof's key may not carry: private ones (a proof carrying
/// one is refused) and certificates (a proof key is a bare public key).
const REFUSED_MEMBERS: [&str; 11] = [
    "d", "p", "q", "dp", "dq", "qi", "oth", "k", "x5c", "x5u", "x5t",
];
/// The longest `jwk` text read (an RSA-4096 key's is under 1 KiB).
const MAX_JWK: usize = 2 * 1024;

/// What a proof must satisfy, fixed when the layer is built.
#[derive(Debug)]
pub(crate) struct ProofRules {
    pub(crate) algorithms: AlgSet,
    /// How far `iat` may be from now, in seconds.
    pub(crate) window: f64,
    /// The externally visible origin `htu` is checked against.
    pub(crate) origin: Option<String>,
    pub(crate) replays: Arc<Replays>,
    pub(crate) clock: Clock,
    /// Server nonces, when required.
    pub(crate) nonces: Option<Nonces>,
    /// Proof keys seen recently, by their `jwk` text: a client signs many
    /// proofs with one key, so its parse, checks and thumbprint are done
    /// once.
    pub(crate) keys: KeyCache,
}

/// Proof keys by their `jwk` text, at most a fixed number: when full, it
/// starts over (clients re-send their key with every proof, so a forgotten
/// key costs one parse). A read is one lock and one hash lookup.
#[derive(Debug)]
pub(crate) struct KeyCache {
    keys: RwLock<HashMap<Box<str>, Arc<ProofKey>>>,
    capacity: usize,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            keys: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    fn get(&self, jwk: &str) -> Option<Arc<ProofKey>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(jwk).cloned()
    }

    fn insert(&self, jwk: &str, key: Arc<ProofKey>) {
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= self.capacity {
            keys.clear();
        }
        keys.insert(Box::from(jwk), key);
    }
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

/// The key of a proof's `jwk`: public members only, no certificates, at
/// most [`MAX_JWK`] bytes, under the hygiene rules of any key.
fn parse_proof_key(jwk: &str) -> Result<Arc<ProofKey>, AuthError> {
    if jwk.len() > MAX_JWK {
        return Err(invalid());
    }
    let members: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(jwk).map_err(|_| invalid())?;
    if REFUSED_MEMBERS.iter().any(|m| members.contains_key(*m)) {
        return Err(invalid());
    }
    let policy = JwkPolicy {
        allow_symmetric: false,
    };
    let key = parse_jwk(jwk, policy).map_err(|_| invalid())?;
    let jkt = crate::jose::thumbprint::jwk_thumbprint(jwk).map_err(|_| invalid())?;
    Ok(Arc::new(ProofKey { key, jkt }))
}

/// Whether `ath` is `base64url(SHA-256(token))` (compared as bytes: no
/// text is built).
fn hashes_to(ath: &str, token: &str) -> bool {
    let mut decoded = [0u8; 32];
    matches!(
        URL_SAFE_NO_PAD.decode_slice(ath.as_bytes(), &mut decoded),
        Ok(32)
    ) && decoded[..] == Sha256::digest(token.as_bytes())[..]
}

/// `base64url(SHA-256(token))`, the `ath` a proof for `token` carries.
#[cfg(feature = "test-util")]
pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

impl ProofRules {
    /// Checks `proof` for a `method` request to `uri` carrying `token`;
    /// the RFC 7638 thumbprint of the proof's key, and the proof's `jti`
    /// for the caller to record once the token has passed.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        token: &str,
    ) -> Result<(String, String), AuthError> {
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
        Ok((key.jkt.clone(), claims.jti.into_owned()))
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
        let jwk = head.jwk.get();
        let (key, cached) = match self.keys.get(jwk) {
            Some(key) => (key, true),
            None => (parse_proof_key(jwk)?, false),
        };
        let alg_ok = key.key.allows(alg);
        if !(alg_ok
            && key
                .key
                .verify_signature(alg, signing_input.as_bytes(), signature))
        {
            return Err(invalid());
        }
        // Remembered only once it has signed something.
        if !cached {
            self.keys.insert(jwk, Arc::clone(&key));
        }
        Ok(key)
    }

    /// The replay cache, for the caller to record the `jti`.
    pub(crate) fn replays(&self) -> Arc<Replays> {
        Arc::clone(&self.replays)
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
        let now = self.clock.now() as f64;
        let ok = claims.htm == method.as_str()
            && htu::matches(&claims.htu, self.origin.as_deref(), uri, headers)
            && claims.iat.is_finite()
            && (claims.iat - now).abs() <= self.window
            && claims
                .ath
                .as_deref()
                .is_some_and(|ath| hashes_to(ath, token))
            && !claims.jti.is_empty()
            && claims.jti.len() <= MAX_JTI;
        if ok { Ok(()) } else { Err(invalid()) }
    }
}

#[cfg(test)]
mod tests {
    //! RFC 9449's own examples: the proof of a protected-resource request
    //! (Figure 13, §7.1) with its access token, and the token-request proof
    //! (Figure 2, §4.1), which carries no `ath` and so is no proof for a
    //! resource request. Both are signed by the key of §6.1's `jkt`.

    use http::{HeaderMap, Method, Uri};

    use crate::dpop::Dpop;
    use crate::error::AuthErrorKind;
    use crate::validation::Clock;

    /// RFC 9449 Figure 13 (line folding undone).
    const RESOURCE_PROOF: &str = concat!(
        "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0",
        "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10",
        "NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoi",
        "R0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6",
        "MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9",
        "RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA",
    );
    /// RFC 9449 Figure 2.
    const TOKEN_REQUEST_PROOF: &str = concat!(
        "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0",
        "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10",
        "NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoi",
        "UE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-",
        "GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
    );
    /// The access token of §7.1 (opaque: the proof binds any token).
    const ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    /// §6.1: the thumbprint of the example key.
    const JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

    fn check(
        origin: &str,
        at: u64,
        proof: &str,
        method: Method,
        path: &str,
        token: &str,
    ) -> Result<(String, String), AuthErrorKind> {
        let dpop = Dpop::new()
            .public_origin(origin)
            .build(Clock::fixed(at), "api")
            .unwrap();
        let uri: Uri = path.parse().unwrap();
        dpop.rules
            .check(proof, &method, &uri, &HeaderMap::new(), token)
            .map_err(|e| e.kind())
    }

    #[test]
    fn the_rfc_resource_request_proof_verifies_with_its_jkt_and_jti() {
        let origin = "https://resource.example.org";
        let (jkt, jti) = check(
            origin,
            1_562_262_618,
            RESOURCE_PROOF,
            Method::GET,
            "/protectedresource",
            ACCESS_TOKEN,
        )
        .unwrap();
        assert_eq!((jkt.as_str(), jti.as_str()), (JKT, "e1j3V_bKic8-LAEB"));
        let bad = Err(AuthErrorKind::InvalidDpopProof);
        let at = 1_562_262_618;
        for (why, got) in [
            (
                "method",
                check(
                    origin,
                    at,
                    RESOURCE_PROOF,
                    Method::POST,
                    "/protectedresource",
                    ACCESS_TOKEN,
                ),
            ),
            (
                "url",
                check(
                    origin,
                    at,
                    RESOURCE_PROOF,
                    Method::GET,
                    "/other",
                    ACCESS_TOKEN,
                ),
            ),
            (
                "origin",
                check(
                    "https://api.example.org",
                    at,
                    RESOURCE_PROOF,
                    Method::GET,
                    "/protectedresource",
                    ACCESS_TOKEN,
                ),
            ),
            (
                "token",
                check(
                    origin,
                    at,
                    RESOURCE_PROOF,
                    Method::GET,
                    "/protectedresource",
                    "another",
                ),
            ),
            (
                "time",
                check(
                    origin,
                    at + 3600,
                    RESOURCE_PROOF,
                    Method::GET,
                    "/protectedresource",
                    ACCESS_TOKEN,
                ),
            ),
        ] {
            assert_eq!(got, bad, "{why}");
        }
        let mut tampered = RESOURCE_PROOF.to_owned();
        tampered.truncate(tampered.len() - 2);
        tampered.push_str("AA");
        assert_eq!(
            check(
                origin,
                at,
                &tampered,
                Method::GET,
                "/protectedresource",
                ACCESS_TOKEN
            ),
            bad
        );
    }

    #[test]
    fn the_rfc_token_request_proof_is_signed_by_the_same_key_but_has_no_ath() {
        let origin = "https://server.example.com";
        let at = 1_562_262_616;
        // Signature, key, htm, htu and iat pass; without `ath` it proves
        // nothing about an access token.
        assert_eq!(
            check(
                origin,
                at,
                TOKEN_REQUEST_PROOF,
                Method::POST,
                "/token",
                ACCESS_TOKEN
            ),
            Err(AuthErrorKind::InvalidDpopProof)
        );
        // So the refusal is for the missing `ath` alone: the same key, a
        // signature that verifies under it, and every other claim present.
        let mut parts = TOKEN_REQUEST_PROOF.split('.');
        let (header, claims, signature) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let header: serde_json::Value =
            serde_json::from_slice(&super::decode(header).unwrap()).unwrap();
        let key = super::parse_proof_key(&header["jwk"].to_string()).unwrap();
        assert_eq!(key.jkt, JKT);
        let (signing_input, _) = TOKEN_REQUEST_PROOF.rsplit_once('.').unwrap();
        assert!(key.key.verify_signature(
            jsonwebtoken::Algorithm::ES256,
            signing_input.as_bytes(),
            &super::decode(signature).unwrap()
        ));
        let claims: serde_json::Value =
            serde_json::from_slice(&super::decode(claims).unwrap()).unwrap();
        for present in ["htm", "htu", "iat", "jti"] {
            assert!(claims.get(present).is_some(), "{present}");
        }
        assert!(claims.get("ath").is_none());
    }
}
