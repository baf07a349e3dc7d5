//! Token verification without tower: size limit, split, header, key,
//! signature, claims, policy, typed claims. Usable on its own, e.g. in a
//! WebSocket handshake.
//!
//! ```
//! use jwt_layer::{JwtAuth, RegisteredClaims};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = JwtAuth::<RegisteredClaims>::builder()
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef")
//!     .issuer("https://auth.example")
//!     .build()?;
//! let err = auth.verifier().verify("not.a.token").await.unwrap_err();
//! assert_eq!(err.kind(), jwt_layer::AuthErrorKind::MalformedToken);
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::authorize::Requirement;
use crate::claims::VerifiedClaims;
use crate::error::{AuthError, AuthErrorKind};
use crate::keys;
use crate::keys::{AlgSet, Key, KeyFuture, KeySource, Lookup};
use crate::known_headers::{self, KnownHeader, KnownHeaders};
use crate::payload;
use crate::token_cache::{self, TokenCache, TokenHash};
use crate::validation::{RawClaims, Str, Validation};

/// Longest `kid` we look up; longer ones cannot name a key.
const MAX_KID_LEN: usize = 256;
/// Decoded headers up to this size stay on the stack (typical: 60–120 B).
const HEADER_BUF: usize = 512;
/// Decoded payloads up to this size stay on the stack.
const PAYLOAD_BUF: usize = 2048;
/// Decoded signatures up to this size stay on the stack (RSA-8192: 1024 B).
const SIGNATURE_BUF: usize = 1024;

/// Verifies tokens into typed claims `C`. Cheap to clone.
pub struct Verifier<C> {
    inner: Arc<Inner<C>>,
    _claims: PhantomData<fn() -> C>,
}

pub(crate) struct Inner<C> {
    /// Size and algorithm limits, checked before any route is chosen.
    pub(crate) base: Validation,
    pub(crate) routes: Routes,
    pub(crate) requirement: Option<Requirement<C>>,
    pub(crate) token_cache: Option<TokenCache<C>>,
    /// Headers of tokens that verified (skips their parsing next time).
    pub(crate) known_headers: KnownHeaders,
}

/// Where a token's keys and claim rules come from.
pub(crate) enum Routes {
    /// One key source for every token.
    Single(Route),
    /// A key source per issuer, chosen by the token's (unverified) `iss`;
    /// an unknown `iss` is refused without any I/O.
    ByIssuer(HashMap<Box<str>, Route>),
}

/// The keys and claim rules of one issuer (or of all tokens).
pub(crate) struct Route {
    pub(crate) keys: Arc<dyn KeySource>,
    pub(crate) validation: Validation,
}

impl Routes {
    /// Every algorithm some route's keys could verify.
    pub(crate) fn algorithms(&self) -> AlgSet {
        match self {
            Self::Single(route) => route.keys.algorithms(),
            Self::ByIssuer(map) => map
                .values()
                .fold(AlgSet::EMPTY, |acc, r| acc.union(r.keys.algorithms())),
        }
    }

    /// The route for a token whose payload is `payload`. With several
    /// issuers only the (unverified) `iss` member is read here, with the
    /// same strict rules as later; everything else in the payload is read
    /// once, after the signature.
    fn pick(&self, payload: &[u8]) -> Result<&Route, AuthError> {
        match self {
            Self::Single(route) => Ok(route),
            Self::ByIssuer(map) => {
                let issuer: IssuerOnly<'_> = serde_json::from_slice(payload)
                    .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))?;
                issuer
                    .iss
                    .as_deref()
                    .and_then(|iss| map.get(iss))
                    .ok_or_else(|| AuthErrorKind::InvalidIssuer.into())
            }
        }
    }
}

impl<C> Clone for Verifier<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for Verifier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("validation", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// The result of the synchronous part of verification.
pub(crate) enum Step<C> {
    /// Verification finished.
    Done(Result<VerifiedClaims<C>, AuthError>),
    /// The key must be fetched first.
    NeedKey(KeyFuture),
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    /// A string when present (RFC 7515 §4.1.4): `null` is malformed.
    #[serde(default, borrow, deserialize_with = "crate::validation::some")]
    kid: Option<Str<'a>>,
    /// Header members we refuse in any form, `null` included.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
    #[serde(default, deserialize_with = "present")]
    enc: bool,
    #[serde(default, deserialize_with = "present")]
    b64: bool,
    #[serde(default, deserialize_with = "present")]
    zip: bool,
}

/// `true` whenever the member is there, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// Base64url decoding into a stack buffer of `N` bytes, or the heap when
/// the decoded bytes would not fit.
struct Decoded<const N: usize> {
    /// Left uninitialized: the decoder writes before anything is read, so
    /// the hot path does not clear kilobytes of stack per request.
    stack: [MaybeUninit<u8>; N],
    heap: Vec<u8>,
}

impl<const N: usize> Decoded<N> {
    fn new() -> Self {
        Self {
            stack: [const { MaybeUninit::uninit() }; N],
            heap: Vec::new(),
        }
    }

    fn decode(&mut self, input: &str) -> Result<&[u8], AuthError> {
        let malformed = |_| AuthError::new(AuthErrorKind::MalformedToken);
        let engine = base64_simd::URL_SAFE_NO_PAD;
        // The exact decoded length (from the input's length and padding),
        // so the stack buffer is used whenever the bytes fit and is always
        // large enough when chosen (the decoder asserts it).
        let len = engine.decoded_length(input.as_bytes()).map_err(malformed)?;
        if len <= N {
            let out = base64_simd::Out::from_uninit_slice(&mut self.stack);
            Ok(engine.decode(input.as_bytes(), out).map_err(malformed)?)
        } else {
            self.heap = engine.decode_to_vec(input).map_err(malformed)?;
            Ok(&self.heap)
        }
    }
}

/// A JSON text whose first non-blank byte is `{`: serde would otherwise
/// read a JSON array into a struct.
fn is_object(json: &[u8]) -> bool {
    json.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// The three segments of a compact JWS.
struct Segments<'t> {
    header: &'t str,
    payload: &'t str,
    signature: &'t str,
    signing_input: &'t str,
}

fn split(token: &str) -> Result<Segments<'_>, AuthError> {
    let malformed = || AuthError::new(AuthErrorKind::MalformedToken);
    let (signing_input, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or_else(malformed)?;
    // An empty signature is refused after the header is read, so `alg: none`
    // is reported as such. More than three segments (a `.` in `payload`)
    // fail the payload's base64; `parse` also reports them as malformed
    // when the header fails first, without scanning every payload for dots.
    if header.is_empty() || payload.is_empty() {
        return Err(malformed());
    }
    Ok(Segments {
        header,
        payload,
        signature,
        signing_input,
    })
}

impl<C: DeserializeOwned + Send + Sync + 'static> Verifier<C> {
    pub(crate) fn from_inner(inner: Inner<C>) -> Self {
        Self {
            inner: Arc::new(inner),
            _claims: PhantomData,
        }
    }

    /// Verifies `token` and returns its claims.
    ///
    /// # Errors
    ///
    /// Why the token is not acceptable; see [`AuthErrorKind`].
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims<C>, AuthError> {
        match self.verify_step(token) {
            Step::Done(result) => result,
            Step::NeedKey(fut) => {
                let key = fut.await?;
                self.verify_with_key(token, &key)
            }
        }
    }

    /// Runs verification as far as it goes without waiting.
    pub(crate) fn verify_step(&self, token: &str) -> Step<C> {
        let hash = match self.cached(token) {
            Cached::Hit(claims) => return Step::Done(Ok(claims)),
            Cached::Miss(hash) => hash,
        };
        let known = self.inner.known_headers.snapshot();
        let mut header_buf = Decoded::new();
        let mut payload_buf = Decoded::new();
        let parsed = match self.parse(token, &known, &mut header_buf, &mut payload_buf) {
            Ok(p) => p,
            Err(e) => return Step::Done(Err(e)),
        };
        match parsed.route.keys.lookup(parsed.kid.as_deref(), parsed.alg) {
            Lookup::Ready(Ok(key)) => Step::Done(self.finish(hash, &parsed, &key)),
            Lookup::Ready(Err(e)) => Step::Done(Err(e)),
            Lookup::Pending(fut) => Step::NeedKey(fut),
        }
    }

    /// Completes verification with a key that was fetched.
    pub(crate) fn verify_with_key(
        &self,
        token: &str,
        key: &Arc<Key>,
    ) -> Result<VerifiedClaims<C>, AuthError> {
        let known = self.inner.known_headers.snapshot();
        let mut header_buf = Decoded::new();
        let mut payload_buf = Decoded::new();
        let parsed = self.parse(token, &known, &mut header_buf, &mut payload_buf)?;
        let hash = self
            .inner
            .token_cache
            .as_ref()
            .map(|_| token_cache::hash(token));
        self.finish(hash, &parsed, key)
    }

    /// A verified token seen before, still within its `exp` and verified by
    /// a key still in the key set; on a miss, the token's hash (if the cache
    /// is on) for storing the result.
    fn cached(&self, token: &str) -> Cached<C> {
        let Some(cache) = &self.inner.token_cache else {
            return Cached::Miss(None);
        };
        if token.len() > self.inner.base.max_size() {
            return Cached::Miss(None);
        }
        let hash = token_cache::hash(token);
        let (now, leeway) = self.inner.base.now_and_leeway();
        match cache.get(&hash, now, leeway) {
            Some(claims) => Cached::Hit(claims),
            None => Cached::Miss(Some(hash)),
        }
    }

    fn parse<'v, 'b, 't: 'b>(
        &'v self,
        token: &'t str,
        known: &'b [KnownHeader],
        header_buf: &'b mut Decoded<HEADER_BUF>,
        payload_buf: &'b mut Decoded<PAYLOAD_BUF>,
    ) -> Result<Parsed<'v, 'b, 't>, AuthError> {
        let validation = &self.inner.base;
        if token.len() > validation.max_size() {
            return Err(AuthErrorKind::TokenTooLarge.into());
        }
        let segments = split(token)?;
        let (alg, kid, header_known) = match known_headers::find(known, segments.header) {
            // The same bytes as a header that verified: the same answer.
            Some(header) => {
                let kid = header.kid.as_deref().map(|k| Str(Cow::Borrowed(k)));
                (header.alg, kid, true)
            }
            None => {
                let read = header_buf
                    .decode(segments.header)
                    .and_then(|json| read_header(validation, json));
                match read {
                    Ok((alg, kid)) => (alg, kid, false),
                    Err(_) if segments.payload.contains('.') => {
                        return Err(AuthErrorKind::MalformedToken.into());
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let payload = payload_buf.decode(segments.payload)?;
        if !is_object(payload) || std::str::from_utf8(payload).is_err() {
            return Err(AuthErrorKind::MalformedToken.into());
        }
        // The claims are read after the signature (`finish`); with several
        // issuers the unverified `iss` picks the keys first.
        let route = self.inner.routes.pick(payload)?;
        Ok(Parsed {
            route,
            alg,
            kid,
            header: segments.header,
            header_known,
            payload,
            signature: segments.signature,
            signing_input: segments.signing_input,
        })
    }

    fn finish(
        &self,
        hash: Option<TokenHash>,
        parsed: &Parsed<'_, '_, '_>,
        key: &Arc<Key>,
    ) -> Result<VerifiedClaims<C>, AuthError> {
        // Whatever a key source answered, the key itself decides which
        // algorithms it may verify.
        if !key.allows(parsed.alg) {
            return Err(AuthErrorKind::AlgorithmNotAllowed.into());
        }
        if parsed.signature.is_empty() {
            return Err(AuthErrorKind::MalformedToken.into());
        }
        let mut signature_buf = Decoded::<SIGNATURE_BUF>::new();
        let signature = signature_buf.decode(parsed.signature)?;
        if !key.verify_signature(parsed.alg, parsed.signing_input.as_bytes(), signature) {
            return Err(AuthErrorKind::InvalidSignature.into());
        }
        // The payload is trusted from here on: one pass reads the
        // registered claims and `C` together (`src/payload.rs`).
        let validation = &parsed.route.validation;
        let (registered, claims) = match payload::single_pass::<C>(parsed.payload) {
            Some((registered, claims)) => {
                validation.validate(&registered)?;
                (registered, claims)
            }
            // The two plain reads, in the order that decides which error a
            // token with several faults gets.
            None => {
                let registered = read_registered(parsed.payload)?;
                validation.validate(&registered)?;
                (registered, read_claims(parsed.payload)?)
            }
        };
        let verified = VerifiedClaims::new(claims, registered.scopes());
        if let Some(requirement) = &self.inner.requirement {
            requirement.check(&verified)?;
        }
        if let (Some(cache), Some(hash), Some(exp)) =
            (&self.inner.token_cache, hash, registered.exp)
        {
            let (now, leeway) = self.inner.base.now_and_leeway();
            let bytes = parsed.signing_input.len() + parsed.signature.len() + parsed.payload.len();
            cache.insert(hash, verified.clone(), exp.0, key, now, leeway, bytes);
        }
        if !parsed.header_known {
            let kid = parsed.kid.as_deref();
            (self.inner.known_headers).remember(parsed.header, parsed.alg, kid);
        }
        Ok(verified)
    }
}

/// Reads a decoded JOSE header: its algorithm (allowed by `validation`)
/// and `kid`.
fn read_header<'b>(
    validation: &Validation,
    json: &'b [u8],
) -> Result<(Algorithm, Option<Str<'b>>), AuthError> {
    // serde_json skips ignored strings without checking their UTF-8;
    // the whole header and payload must be valid UTF-8 (RFC 7515 §5.2).
    if !is_object(json) || std::str::from_utf8(json).is_err() {
        return Err(AuthErrorKind::MalformedToken.into());
    }
    let header: RawHeader<'_> = serde_json::from_slice(json)
        .map_err(|e| AuthError::with_source(AuthErrorKind::MalformedToken, e))?;
    if header.crit || header.enc || header.b64 || header.zip {
        return Err(AuthErrorKind::UnsupportedHeader.into());
    }
    let alg = keys::parse_alg(&header.alg)
        .filter(|a| validation.allowed_algorithms().contains(*a))
        .ok_or(AuthErrorKind::AlgorithmNotAllowed)?;
    match header.kid {
        Some(kid) if kid.len() > MAX_KID_LEN => Err(AuthErrorKind::UnknownKey.into()),
        kid => Ok((alg, kid)),
    }
}

/// The `iss` member alone, for routing by issuer (strict type, like
/// [`RawClaims`]).
#[derive(Deserialize)]
struct IssuerOnly<'a> {
    #[serde(default, borrow, deserialize_with = "crate::validation::some")]
    iss: Option<Str<'a>>,
}

/// The registered claims alone (strict types).
fn read_registered(payload: &[u8]) -> Result<RawClaims<'_>, AuthError> {
    serde_json::from_slice(payload)
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))
}

/// The caller's claims type alone.
fn read_claims<C: DeserializeOwned>(payload: &[u8]) -> Result<C, AuthError> {
    serde_json::from_slice(payload)
        .map_err(|e| AuthError::with_source(AuthErrorKind::InvalidClaims, e))
}

/// The verified-token cache's answer.
enum Cached<C> {
    Hit(VerifiedClaims<C>),
    /// Not cached; the token's hash when the cache is on.
    Miss(Option<TokenHash>),
}

struct Parsed<'v, 'b, 't> {
    route: &'v Route,
    alg: Algorithm,
    kid: Option<Str<'b>>,
    header: &'t str,
    /// The header was found among the known ones (not parsed).
    header_known: bool,
    payload: &'b [u8],
    signature: &'t str,
    signing_input: &'t str,
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    /// Around the stack buffer's size, on the stack and on the heap, the
    /// decoded bytes are exactly those of the input; bad input is refused.
    #[test]
    fn decoding_around_the_stack_buffer_size() {
        for len in [0, 1, 2, 3, 1021, 1022, 1023, 1024, 1025, 1026, 1027, 4096] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            let mut buf = Decoded::<SIGNATURE_BUF>::new();
            assert_eq!(buf.decode(&text).unwrap(), &bytes[..], "{len} bytes");
        }
        for bad in ["A", "AB=", "A.B", "AB C", "QR", "QUG"] {
            let mut buf = Decoded::<SIGNATURE_BUF>::new();
            let err = buf.decode(bad).unwrap_err();
            assert_eq!(err.kind(), AuthErrorKind::MalformedToken, "{bad:?}");
        }
    }
}
