//! [`TokenIssuer`]: fills the registered claims and signs with the ring's
//! current key.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Serialize;
use serde_json::{Map, Value};

use super::KeyRing;
use super::error::{IssueError, IssueErrorKind};
use crate::error::{BuildError, BuildErrorKind};

const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// The registered claims of RFC 7519 §4.1.
const REGISTERED: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// Signs tokens: serializes your claims type, adds the registered claims
/// you configured, and signs with the [`KeyRing`]'s current key, whose `kid`
/// goes in the header with `typ` (`JWT` unless set).
///
/// | claim | value | when |
/// |---|---|---|
/// | `iat` | now, by the ring's clock | always |
/// | `exp` | `iat` + [`ttl`](TokenIssuerBuilder::ttl) (default 15 min) | always |
/// | `nbf` | `iat` | [`not_before(true)`](TokenIssuerBuilder::not_before) |
/// | `iss` | the issuer | [`issuer(..)`](TokenIssuerBuilder::issuer) |
/// | `aud` | a string, or an array for several | [`audience(..)`](TokenIssuerBuilder::audience) |
/// | `sub` | a fixed subject (service tokens) | [`subject(..)`](TokenIssuerBuilder::subject) |
/// | `jti` | 128 random bits, base64url | [`jti(true)`](TokenIssuerBuilder::jti) |
///
/// **Your claims win.** A claim your type already sets (present and not
/// `null`) is kept as it is, never overwritten: set `exp` or `aud` in the
/// claims to override the issuer's for one token. A registered claim that
/// serializes as `null` (a `None` field) counts as unset: it is filled, or
/// left out when the issuer has no value for it. A time claim you set
/// (`iat`, `exp`, `nbf`) must be a number. A key stays published until the
/// latest `exp` it signed has passed, so a long `exp` of yours is honoured
/// by the [`KeyRing`] too.
///
/// Cheap to clone. See the [module docs](super) for an example.
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    ring: KeyRing,
    config: Arc<Config>,
}

#[derive(Debug)]
struct Config {
    issuer: Option<String>,
    audience: Option<Value>,
    subject: Option<String>,
    ttl: u64,
    not_before: bool,
    jti: bool,
    typ: String,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: Algorithm,
    typ: &'a str,
    kid: &'a str,
}

impl TokenIssuer {
    /// Starts configuring an issuer that signs with `keys`: a [`KeyRing`],
    /// or a single [`SigningKey`](super::SigningKey).
    pub fn builder(keys: impl Into<KeyRing>) -> TokenIssuerBuilder {
        TokenIssuerBuilder {
            ring: keys.into(),
            issuer: None,
            audiences: Vec::new(),
            subject: None,
            ttl: DEFAULT_TTL,
            not_before: false,
            jti: false,
            typ: "JWT".to_owned(),
        }
    }

    /// The keys this issuer signs with (rotate them here).
    pub fn key_ring(&self) -> &KeyRing {
        &self.ring
    }

    /// Issues a token bound to a DPoP key (RFC 9449 §6.1): `claims` plus
    /// `"cnf": {"jkt": jkt}`, `jkt` being the RFC 7638 thumbprint of the
    /// client's proof key (the `jwk` of its DPoP proof).
    ///
    /// # Errors
    ///
    /// As [`issue`](Self::issue); claims that already hold a `cnf`.
    pub fn issue_dpop_bound<C: Serialize + ?Sized>(
        &self,
        claims: &C,
        jkt: &str,
    ) -> Result<String, IssueError> {
        let mut claims = claims_object(claims)?;
        if claims.contains_key("cnf") {
            return Err(IssueError::with_source(
                IssueErrorKind::InvalidClaims,
                "the claims already hold a `cnf`",
            ));
        }
        claims.insert("cnf".into(), serde_json::json!({ "jkt": jkt }));
        self.sign_object(claims)
    }

    /// Signs `claims` as a compact JWT.
    ///
    /// # Errors
    ///
    /// The claims do not serialize to a JSON object, a time claim they set
    /// is not a number, randomness for `jti` or the crypto backend failed.
    pub fn issue<C: Serialize + ?Sized>(&self, claims: &C) -> Result<String, IssueError> {
        self.sign_object(claims_object(claims)?)
    }

    /// Completes the registered claims of `claims` and signs them.
    fn sign_object(&self, mut claims: Map<String, Value>) -> Result<String, IssueError> {
        let now = self.ring.now();
        let exp = self.complete(&mut claims, now)?;
        let key = self.ring.signing_key_at(now);
        let header = Header {
            alg: key.algorithm(),
            typ: &self.config.typ,
            kid: key.kid(),
        };
        let header = serde_json::to_vec(&header)
            .map_err(|e| IssueError::with_source(IssueErrorKind::InvalidClaims, e))?;
        let payload = serde_json::to_vec(&claims)
            .map_err(|e| IssueError::with_source(IssueErrorKind::InvalidClaims, e))?;
        let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 400);
        URL_SAFE_NO_PAD.encode_string(&header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = key.sign(token.as_bytes())?;
        // Before the token leaves: the key stays published until it expires.
        key.note_exp(exp.max(0.0).ceil() as u64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    /// Fills in the registered claims the issuer sets and checks the time
    /// claims; returns `exp`.
    fn complete(&self, claims: &mut Map<String, Value>, now: u64) -> Result<f64, IssueError> {
        let invalid =
            |why: &'static str| IssueError::with_source(IssueErrorKind::InvalidClaims, why);
        let config = &*self.config;
        fill(claims, "iat", || now.into());
        fill(claims, "exp", || now.saturating_add(config.ttl).into());
        if config.not_before {
            fill(claims, "nbf", || now.into());
        }
        if let Some(iss) = &config.issuer {
            fill(claims, "iss", || iss.as_str().into());
        }
        if let Some(aud) = &config.audience {
            fill(claims, "aud", || aud.clone());
        }
        if let Some(sub) = &config.subject {
            fill(claims, "sub", || sub.as_str().into());
        }
        if config.jti && is_unset(claims, "jti") {
            claims.insert("jti".to_owned(), random_id()?.into());
        }
        // A registered claim still `null` would fail verification: drop it.
        claims.retain(|name, value| !(value.is_null() && REGISTERED.contains(&name.as_str())));
        if ["iat", "nbf"]
            .iter()
            .any(|date| claims.get(*date).is_some_and(|v| !v.is_number()))
        {
            return Err(invalid("`iat` and `nbf` must be numbers"));
        }
        claims
            .get("exp")
            .and_then(Value::as_f64)
            .ok_or_else(|| invalid("`exp` must be a number"))
    }
}

fn is_unset(claims: &Map<String, Value>, name: &str) -> bool {
    claims.get(name).is_none_or(Value::is_null)
}

/// Sets `name` to `value()` unless the claims already set it.
fn fill(claims: &mut Map<String, Value>, name: &str, value: impl FnOnce() -> Value) {
    if is_unset(claims, name) {
        claims.insert(name.to_owned(), value());
    }
}

/// 128 random bits, base64url.
fn random_id() -> Result<String, IssueError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        IssueError::with_source(IssueErrorKind::Randomness, format!("getrandom: {e}"))
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Configures a [`TokenIssuer`].
#[derive(Debug)]
pub struct TokenIssuerBuilder {
    ring: KeyRing,
    issuer: Option<String>,
    audiences: Vec<String>,
    subject: Option<String>,
    ttl: Duration,
    not_before: bool,
    jti: bool,
    typ: String,
}

impl TokenIssuerBuilder {
    /// Sets `iss`.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Adds an audience: one makes `aud` a string, several an array.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Sets a fixed `sub`, for tokens an application issues for itself.
    /// Per-user subjects belong in the claims.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The lifetime: `exp = iat + ttl` (default 15 min, whole seconds).
    /// Keep it within the ring's
    /// [`max_token_ttl`](super::KeyRingBuilder::max_token_ttl).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Whether to set `nbf = iat` (default: no).
    #[must_use]
    pub fn not_before(mut self, yes: bool) -> Self {
        self.not_before = yes;
        self
    }

    /// Whether to set a random `jti` (default: no). Turn it on when tokens
    /// must be revocable one by one: a
    /// [`Revoker`](crate::revocation::Revoker) revokes a token by its
    /// `jti` ("log out everywhere" needs only `sub` and `iat`).
    #[must_use]
    pub fn jti(mut self, yes: bool) -> Self {
        self.jti = yes;
        self
    }

    /// The header's `typ` (default `JWT`; RFC 9068 access tokens use
    /// `at+jwt`).
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = typ.into();
        self
    }

    /// Builds the issuer.
    ///
    /// # Errors
    ///
    /// A lifetime under one second, or an empty issuer, audience, subject
    /// or `typ`.
    pub fn build(self) -> Result<TokenIssuer, BuildError> {
        crate::crypto::ensure_backend();
        if self.ttl.as_secs() == 0 {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "the token lifetime is under one second",
            ));
        }
        let empty = |s: &String| s.is_empty();
        if self.issuer.as_ref().is_some_and(empty)
            || self.subject.as_ref().is_some_and(empty)
            || self.audiences.iter().any(empty)
            || self.typ.is_empty()
        {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "the issuer, an audience, the subject or typ is empty",
            ));
        }
        let audience = match <[String; 1]>::try_from(self.audiences) {
            Ok([one]) => Some(Value::from(one)),
            Err(many) if many.is_empty() => None,
            Err(many) => Some(Value::from(many)),
        };
        Ok(TokenIssuer {
            ring: self.ring,
            config: Arc::new(Config {
                issuer: self.issuer,
                audience,
                subject: self.subject,
                ttl: self.ttl.as_secs(),
                not_before: self.not_before,
                jti: self.jti,
                typ: self.typ,
            }),
        })
    }
}

/// `claims` as a JSON object (what a token's payload must be).
fn claims_object<C: Serialize + ?Sized>(claims: &C) -> Result<Map<String, Value>, IssueError> {
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(IssueError::with_source(
            IssueErrorKind::InvalidClaims,
            "the claims are not a JSON object",
        )),
        Err(e) => Err(IssueError::with_source(IssueErrorKind::InvalidClaims, e)),
    }
}
