//! DPoP: sender-constrained tokens ([RFC 9449]). A DPoP-bound token
//! (`cnf.jkt`) comes as `Authorization: DPoP <token>` with a `DPoP` header
//! holding a fresh proof, signed by the client's key, for this request.
//!
//! The layer checks, by default ([`DpopMode::Allowed`]):
//!
//! - exactly one `DPoP` header, at most 8 KiB; `typ` `dpop+jwt`; an
//!   asymmetric `alg` of [`Dpop::algorithms`]; a `jwk` holding a public key
//!   only, under the same hygiene rules as any key; the signature;
//! - `htm` = the request's method; `htu` = the request URL without query
//!   and fragment (the proof's `htu` normalised as RFC 9449 §4.3 says, the
//!   request's path as sent), against [`Dpop::public_origin`] or else the
//!   request's own `Host` (parsed strictly, either scheme: set the public
//!   origin behind a proxy); under axum's `Router::nest` (feature `axum`), the
//!   path the client sent (axum's `OriginalUri`), not the one the nested
//!   router sees;
//! - `iat` within [`Dpop::iat_window`] of now (default 60 s either way);
//!   `jti` not seen within the window (a bounded replay cache, recorded once
//!   the token has passed too);
//! - `ath` = base64url(SHA-256(token)); the token's `cnf.jkt` = the RFC 7638
//!   thumbprint of the proof's key.
//!
//! A bound token presented as `Bearer` is refused in every mode (RFC 9449
//! §7.2) unless you opt out with
//! [`accept_bound_tokens_as_bearer`](crate::VerifierBuilder::accept_bound_tokens_as_bearer).
//! Answers to DPoP requests carry `WWW-Authenticate: DPoP algs="…",
//! error="invalid_dpop_proof"` (or `invalid_token`), after a `Bearer`
//! challenge when bearer tokens are accepted too. Server nonces (RFC 9449
//! §8) are optional: [`Dpop::require_nonce`].
//!
//! ```
//! use jwt_layer::dpop::{Dpop, DpopMode};
//! use jwt_layer::{JwtAuth, RegisteredClaims};
//! use std::time::Duration;
//!
//! let auth = JwtAuth::<RegisteredClaims>::builder()
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef")
//!     .issuer("https://auth.example")
//!     .dpop(
//!         Dpop::new()
//!             .mode(DpopMode::Required)
//!             .public_origin("https://api.example.com")
//!             .iat_window(Duration::from_secs(30)),
//!     )
//!     .build()?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```
//!
//! [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449

mod htu;
mod nonce;
mod proof;
mod replay;

use std::time::Duration;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, Request, Uri};
use jsonwebtoken::Algorithm;

use crate::challenge::Challenges;
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};
use crate::keys::AlgSet;
use crate::token::TokenSource;
use crate::validation::Clock;
use crate::verify::Presented;
#[cfg(feature = "test-util")]
pub(crate) use proof::token_hash;
use proof::{MAX_PROOF, ProofRules};
use replay::Replays;

/// The most proof keys remembered (parsed and checked once each).
const PROOF_KEYS: usize = 10_000;

/// The `DPoP` request header.
pub const DPOP_HEADER: HeaderName = HeaderName::from_static("dpop");

/// Which presentations the layer accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopMode {
    /// DPoP requests are not recognised (their scheme is not `Bearer`).
    /// Bound tokens are still refused as bearer tokens.
    Off,
    /// DPoP requests are verified; bearer tokens are accepted when they are
    /// not bound (the default).
    #[default]
    Allowed,
    /// Only DPoP requests: a bearer token gets 401 "DPoP required".
    Required,
}

/// DPoP settings for a layer ([`JwtAuthBuilder::dpop`](crate::JwtAuthBuilder::dpop));
/// see the [module docs](self).
#[derive(Clone, Debug)]
pub struct Dpop {
    mode: DpopMode,
    algorithms: AlgSet,
    iat_window: Duration,
    public_origin: Option<String>,
    max_replay_entries: u64,
    nonce_step: Option<Duration>,
}

impl Default for Dpop {
    fn default() -> Self {
        Self {
            mode: DpopMode::default(),
            algorithms: AlgSet::ALL.without(AlgSet::HMAC),
            iat_window: Duration::from_secs(60),
            public_origin: None,
            max_replay_entries: 100_000,
            nonce_step: None,
        }
    }
}

impl Dpop {
    /// The defaults: [`DpopMode::Allowed`], every asymmetric algorithm,
    /// a 60 s `iat` window, the request's own origin, 100 000 remembered
    /// `jti`s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Which presentations are accepted.
    #[must_use]
    pub fn mode(mut self, mode: DpopMode) -> Self {
        self.mode = mode;
        self
    }

    /// The proof algorithms accepted (asymmetric only; an HMAC algorithm is
    /// a build error), advertised in the `algs` of challenges.
    #[must_use]
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = AlgSet::of(algs);
        self
    }

    /// How far a proof's `iat` may be from now, either way (default 60 s,
    /// at most 10 min). `jti`s are remembered twice as long.
    #[must_use]
    pub fn iat_window(mut self, window: Duration) -> Self {
        self.iat_window = window;
        self
    }

    /// The origin clients reach this API at (`https://api.example.com`):
    /// `htu` is checked against it and the request's path. Without it, the
    /// request's own `Host` counts (parsed strictly, with either scheme),
    /// which behind a proxy is not what clients signed.
    #[must_use]
    pub fn public_origin(mut self, origin: impl Into<String>) -> Self {
        self.public_origin = Some(origin.into());
        self
    }

    /// The most `jti`s remembered (default 100 000); past it, after the
    /// expired ones, those closest to expiry are forgotten early, so keep it
    /// above your DPoP request rate × twice the `iat` window. Only requests
    /// whose token passed add to it.
    #[must_use]
    pub fn max_replay_entries(mut self, entries: u64) -> Self {
        self.max_replay_entries = entries;
        self
    }

    /// Requires server nonces (RFC 9449 §8): a proof must carry a nonce
    /// this layer handed out (`DPoP-Nonce` on a 401 `use_dpop_nonce`), valid
    /// for one to two `step`s (10 s to 1 h). Nonces derive from a secret made
    /// when the layer is built: one layer, one set of nonces.
    #[must_use]
    pub fn require_nonce(mut self, step: Duration) -> Self {
        self.nonce_step = Some(step);
        self
    }

    pub(crate) fn is_off(&self) -> bool {
        self.mode == DpopMode::Off
    }

    /// Checks the settings and builds what requests use.
    pub(crate) fn build(self, clock: Clock, realm: &str) -> Result<DpopCheck, BuildError> {
        let invalid = |why: &str| BuildError::new(BuildErrorKind::InvalidSetting, why);
        if self.algorithms.is_empty() || self.algorithms.intersect(AlgSet::HMAC) != AlgSet::EMPTY {
            return Err(invalid(
                "DPoP algorithms must be asymmetric ones, at least one",
            ));
        }
        let window = self.iat_window;
        if window.is_zero() || window > Duration::from_secs(600) {
            return Err(invalid(
                "the DPoP iat window must be over 0 and at most 10 min",
            ));
        }
        if self.max_replay_entries == 0 {
            return Err(invalid("the DPoP replay cache needs room"));
        }
        let origin = match self.public_origin {
            Some(origin) => Some(
                htu::origin(&origin)
                    .ok_or_else(|| invalid("the DPoP public origin is scheme://host[:port]"))?,
            ),
            None => None,
        };
        let nonces = match self.nonce_step {
            Some(step) if (10..=3600).contains(&step.as_secs()) => {
                Some(nonce::Nonces::new(step.as_secs())?)
            }
            Some(_) => return Err(invalid("the DPoP nonce step must be 10 s to 1 h")),
            None => None,
        };
        let challenges = challenges(self.algorithms, realm, self.mode)?;
        Ok(DpopCheck {
            mode: self.mode,
            rules: ProofRules {
                algorithms: self.algorithms,
                window: window.as_secs_f64(),
                origin,
                replays: std::sync::Arc::new(Replays::new(window * 2, self.max_replay_entries)),
                clock,
                nonces,
                keys: proof::KeyCache::new(PROOF_KEYS),
            },
            challenges,
        })
    }
}

/// The challenges of answers to DPoP requests: `DPoP algs="…"` after the
/// `Bearer` challenge when bearer tokens are accepted too, rendered once by
/// the one mapping (src/challenge.rs).
fn challenges(algorithms: AlgSet, realm: &str, mode: DpopMode) -> Result<Challenges, BuildError> {
    crate::challenge::check_quotable("realm", realm)?;
    let algs: Vec<String> = algorithms.iter().map(|a| format!("{a:?}")).collect();
    let dpop = format!("DPoP algs=\"{}\"", algs.join(" "));
    Challenges::with_prefix(match mode {
        DpopMode::Required => dpop,
        _ => format!("Bearer realm=\"{realm}\", {dpop}"),
    })
}

/// `err` with the DPoP challenge of its kind (401s only: a 403 keeps its
/// scope challenge, a 503 has none).
fn answer(challenges: &Challenges, err: AuthError) -> AuthError {
    match challenges.get(err.kind()) {
        Some(challenge) if err.status() == http::StatusCode::UNAUTHORIZED => {
            err.with_challenge(challenge.clone())
        }
        _ => err,
    }
}

/// The built DPoP settings of a layer.
#[derive(Debug)]
pub(crate) struct DpopCheck {
    mode: DpopMode,
    rules: ProofRules,
    challenges: Challenges,
}

impl DpopCheck {
    /// The request's credentials: a DPoP token whose proof holds, or the
    /// token `source` finds.
    pub(crate) fn credentials<'r, T: TokenSource, B>(
        &self,
        source: &T,
        req: &'r Request<B>,
    ) -> Result<Option<Presented<'r>>, AuthError> {
        let headers = req.headers();
        if self.mode != DpopMode::Off
            && let Some(token) = dpop_token(headers)
        {
            let proof = single_proof(headers).map_err(|e| self.answer(e))?;
            let (jkt, jti) = self
                .rules
                .check(proof, req.method(), sent_uri(req), headers, token)
                .map_err(|e| self.answer(e))?;
            return Ok(Some(Presented::Dpop(token, jkt, jti)));
        }
        match source.extract(headers, req.uri())? {
            Some(_) if self.mode == DpopMode::Required => {
                Err(self.answer(AuthErrorKind::DpopRequired.into()))
            }
            found => Ok(found.map(Presented::Bearer)),
        }
    }

    /// `err` with the challenge of an answer to a DPoP request.
    pub(crate) fn answer(&self, err: AuthError) -> AuthError {
        answer(&self.challenges, err)
    }

    /// Whether only DPoP requests are accepted.
    pub(crate) fn required(&self) -> bool {
        self.mode == DpopMode::Required
    }

    /// What an answer given later (after a key fetch) needs: the
    /// challenges and the replay cache.
    pub(crate) fn later(&self) -> Later {
        Later {
            challenges: self.challenges.clone(),
            replays: self.rules.replays(),
        }
    }

    /// The end of a DPoP request whose token passed: its proof's `jti`
    /// recorded, refused if seen before.
    pub(crate) fn first_use(&self, jti: &str) -> Result<(), AuthError> {
        if self.rules.replays.first_use(jti) {
            Ok(())
        } else {
            Err(self.answer(AuthErrorKind::InvalidDpopProof.into()))
        }
    }
}

/// The parts of a [`DpopCheck`] a pending verification takes along.
#[derive(Clone, Debug)]
pub(crate) struct Later {
    challenges: Challenges,
    replays: std::sync::Arc<Replays>,
}

impl Later {
    /// `err` with the DPoP challenge.
    pub(crate) fn answer(&self, err: AuthError) -> AuthError {
        answer(&self.challenges, err)
    }

    /// Records `jti` (see [`DpopCheck::first_use`]).
    pub(crate) fn first_use(&self, jti: &str) -> Result<(), AuthError> {
        if self.replays.first_use(jti) {
            Ok(())
        } else {
            Err(self.answer(AuthErrorKind::InvalidDpopProof.into()))
        }
    }
}

/// The URI as the client sent it, which a DPoP proof's `htu` names: under
/// axum's `Router::nest` the layer sees the path without the prefix, and
/// axum keeps the original in `OriginalUri`. Read for DPoP requests only.
fn sent_uri<B>(req: &Request<B>) -> &Uri {
    #[cfg(feature = "axum")]
    if let Some(original) = req.extensions().get::<axum::extract::OriginalUri>() {
        return &original.0;
    }
    req.uri()
}

/// The token of a single `Authorization: DPoP <token>` header.
fn dpop_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    // A bearer request is told apart by its first five bytes, without
    // reading the whole token.
    let scheme = value.as_bytes().get(..5)?;
    if !scheme.eq_ignore_ascii_case(b"DPoP ") {
        return None;
    }
    let text = value.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    let plain = !token.is_empty() && !token.contains(' ');
    (scheme.eq_ignore_ascii_case("DPoP") && plain).then_some(token)
}

/// The one `DPoP` header (RFC 9449 §4.3: not two, not none).
fn single_proof(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(DPOP_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) if value.len() <= MAX_PROOF => value
            .to_str()
            .map_err(|_| AuthErrorKind::InvalidDpopProof.into()),
        _ => Err(AuthErrorKind::InvalidDpopProof.into()),
    }
}
