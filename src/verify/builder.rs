//! [`VerifierBuilder`]: keys, issuers, claim rules, requirements and caches,
//! put together into a [`Verifier`] without any I/O.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;

use super::checks::{AsyncCheck, Check, CheckFuture, Policy};
use super::claim_path::ClaimPath;
use super::hints::{Hints, Trigger};
use super::issuer::{Template, TemplateRule};
use super::known_headers::KnownHeaders;
use super::members::{Bound, Wanted};
use super::routes::{Route, Routes};
use super::rules::{ClaimRules, TokenLimits, typ_name};
use super::token_cache::{self, TokenCache};
use super::{Inner, Verifier};
use crate::authorize::RequirementParts;
use crate::challenge::{Challenges, DEFAULT_REALM};
use crate::claims::VerifiedClaims;
use crate::error::{AuthErrorKind, BoxError, BuildError, BuildErrorKind};
use crate::keys::{IntoKeySource, Key, KeySource, KeySources, StaticKeys};
use crate::validation::{Clock, Validation};

type SourceResult = Result<Arc<dyn KeySource>, BuildError>;

/// Configures a [`Verifier`]: its keys (static keys, a key source, both, or
/// sources per issuer), claim rules, requirements and token cache.
/// `build()` does no I/O.
///
/// No setter silently undoes another: [`validation`](Self::validation)
/// after a claim setter (`issuer`, `leeway` …) is refused at `build()`, and
/// [`issuer_audience`](Self::issuer_audience) may come before or after its
/// [`issuer_keys`](Self::issuer_keys).
pub struct VerifierBuilder<C> {
    keys: Vec<Result<Key, BuildError>>,
    key_source: Option<SourceResult>,
    issuer_keys: Vec<(String, SourceResult)>,
    issuer_audiences: Vec<(String, String)>,
    validation: Validation,
    /// The name of the first claim setter called, so a later
    /// `.validation(..)` that would discard it is refused.
    tuned_by: Option<&'static str>,
    /// The first ordering mistake, reported by `build()`.
    deferred: Option<BuildError>,
    requirement: RequirementParts<C>,
    claim_settings: ClaimSettings,
    token_checks: Vec<Check<C>>,
    async_checks: Vec<AsyncCheck<C>>,
    token_cache: Option<u64>,
    hints: Vec<(Trigger, String, String)>,
    revocation: Option<crate::revocation::Revocations>,
    bound_bearer: bool,
    _claims: PhantomData<fn() -> C>,
}

/// Claim rules given as text, compiled (paths parsed and bound) by
/// `build()`.
#[derive(Debug, Default)]
struct ClaimSettings {
    /// Issuer templates and their allowed values (`None`: any).
    templates: Vec<(String, Option<Vec<String>>)>,
    audience_claims: Vec<String>,
    /// Claims that must hold one of the values.
    equals: Vec<(String, Vec<String>)>,
    texts: Vec<(String, usize)>,
    past_times: Vec<String>,
    any_present: Vec<Vec<String>>,
    typ: Vec<String>,
    role_claims: Vec<String>,
}

impl ClaimSettings {
    /// Parses the paths into `rules` and `limits`; returns the members the
    /// rules read and where roles come from.
    fn compile(
        self,
        rules: &mut ClaimRules,
        limits: &mut TokenLimits,
    ) -> Result<(Wanted, Vec<Bound>), BuildError> {
        let mut wanted = Wanted::default();
        let mut bind = |path: &str| wanted.bind(ClaimPath::parse(path)?);
        rules.audience_claims = self
            .audience_claims
            .iter()
            .map(|p| bind(p))
            .collect::<Result<_, _>>()?;
        rules.equals = self
            .equals
            .iter()
            .map(|(p, values)| {
                if values.is_empty() {
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidValidation,
                        format!("claim_in(`{p}`, ..) lists no value"),
                    ));
                }
                let values = values.iter().map(|v| v.as_str().into()).collect();
                Ok((bind(p)?, values))
            })
            .collect::<Result<_, BuildError>>()?;
        rules.texts = self
            .texts
            .iter()
            .map(|(p, max)| Ok((bind(p)?, *max)))
            .collect::<Result<_, BuildError>>()?;
        rules.past_times = self
            .past_times
            .iter()
            .map(|p| bind(p))
            .collect::<Result<_, _>>()?;
        rules.any_present = self
            .any_present
            .iter()
            .map(|group| group.iter().map(|p| bind(p)).collect::<Result<_, _>>())
            .collect::<Result<_, _>>()?;
        let roles = self
            .role_claims
            .iter()
            .map(|p| bind(p))
            .collect::<Result<_, _>>()?;
        limits.typ = self.typ.iter().map(|t| typ_name(t).into()).collect();
        rules.templates = self
            .templates
            .into_iter()
            .map(|(text, values)| template_rule(&text, values, &mut wanted))
            .collect::<Result<_, _>>()?;
        Ok((wanted, roles))
    }
}

impl<C> fmt::Debug for VerifierBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("keys", &self.keys.len())
            .field("issuers", &self.issuer_keys.len())
            .field("validation", &self.validation)
            .field("token_cache", &self.token_cache)
            .finish_non_exhaustive()
    }
}

impl<C> VerifierBuilder<C> {
    pub(crate) fn new() -> Self {
        Self {
            keys: Vec::new(),
            key_source: None,
            issuer_keys: Vec::new(),
            issuer_audiences: Vec::new(),
            validation: Validation::new(),
            tuned_by: None,
            deferred: None,
            requirement: RequirementParts::default(),
            claim_settings: ClaimSettings::default(),
            token_checks: Vec::new(),
            async_checks: Vec::new(),
            token_cache: Some(token_cache::DEFAULT_MAX_BYTES),
            hints: Vec::new(),
            bound_bearer: false,
            revocation: None,
            _claims: PhantomData,
        }
    }

    /// Makes `build()` fail with an invalid-validation error (unless an
    /// earlier error waits).
    fn fail_now(mut self, message: &str) -> Self {
        self.deferred
            .get_or_insert_with(|| BuildError::new(BuildErrorKind::InvalidValidation, message));
        self
    }

    /// Makes `build()` fail with `error` (a preset's missing setting), unless
    /// an earlier error is already waiting.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn fail_with(mut self, error: BuildError) -> Self {
        self.deferred.get_or_insert(error);
        self
    }

    fn push_key(mut self, key: Result<Key, BuildError>) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds a key built with one of [`Key`]'s constructors (for a `kid` or
    /// a narrower algorithm set).
    #[must_use]
    pub fn key(self, key: Key) -> Self {
        self.push_key(Ok(key))
    }

    /// Adds an HMAC secret (at least 32 bytes). See [`Key::hmac`].
    #[must_use]
    pub fn hmac_secret(self, secret: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::hmac(secret))
    }

    /// Adds an RSA public key in PEM. See [`Key::rsa_pem`].
    #[must_use]
    pub fn rsa_pem(self, pem: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::rsa_pem(pem))
    }

    /// Adds an RSA public key in DER. See [`Key::rsa_der`].
    #[must_use]
    pub fn rsa_der(self, der: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::rsa_der(der))
    }

    /// Adds an EC (P-256/P-384) public key in PEM. See [`Key::ec_pem`].
    #[must_use]
    pub fn ec_pem(self, pem: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::ec_pem(pem))
    }

    /// Adds an EC public key in DER. See [`Key::ec_der`].
    #[must_use]
    pub fn ec_der(self, der: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::ec_der(der))
    }

    /// Adds an Ed25519 public key in PEM. See [`Key::ed_pem`].
    #[must_use]
    pub fn ed_pem(self, pem: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::ed_pem(pem))
    }

    /// Adds an Ed25519 public key in DER. See [`Key::ed_der`].
    #[must_use]
    pub fn ed_der(self, der: impl AsRef<[u8]>) -> Self {
        self.push_key(Key::ed_der(der))
    }

    /// Adds a key from a JWK JSON object. See [`Key::from_jwk`].
    #[must_use]
    pub fn jwk(self, json: &str) -> Self {
        self.push_key(Key::from_jwk(json))
    }

    /// Adds the usable keys of a JWK Set JSON document held in memory.
    #[must_use]
    pub fn jwks_json(mut self, json: &str) -> Self {
        match crate::keys::jwks_keys(json) {
            Ok(keys) => self.keys.extend(keys.into_iter().map(Ok)),
            Err(e) => self.keys.push(Err(e)),
        }
        self
    }

    /// Uses `source` for keys, for example a
    /// [`RemoteJwks`](crate::keys::RemoteJwks) or its builder. Static keys
    /// given too are used beside it, as one [`KeySources`](crate::keys::KeySources)
    /// (a static HS256 secret beside a remote ES256 set, say).
    #[must_use]
    pub fn key_source(mut self, source: impl IntoKeySource) -> Self {
        if self.key_source.is_some() {
            self.deferred.get_or_insert_with(|| {
                conflict("key_source(..) is given twice: combine sources with KeySources::new(..)")
            });
        }
        self.key_source = Some(source.into_key_source());
        self
    }

    /// Accepts tokens from `issuer`, verified only with `keys` (a key
    /// source or a builder of one). With several issuers, each token is
    /// routed by its unverified `iss` to that issuer's keys; an unknown
    /// `iss` is refused without any I/O, and one issuer's keys never verify
    /// a token claiming another. Replaces [`issuer`](Self::issuer) and
    /// [`key_source`](Self::key_source) (giving those too is refused).
    /// Giving one issuer several times uses all its sources as one
    /// [`KeySources`](crate::keys::KeySources).
    #[must_use]
    pub fn issuer_keys(mut self, issuer: impl Into<String>, keys: impl IntoKeySource) -> Self {
        self.issuer_keys
            .push((issuer.into(), keys.into_key_source()));
        self
    }

    /// Like [`issuer_keys`](Self::issuer_keys), with the keys found by
    /// OpenID discovery from the issuer URL (lazily, on first use).
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    #[must_use]
    pub fn issuer_keys_discovered(self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        let keys = crate::keys::RemoteJwks::discover(issuer.clone());
        self.issuer_keys(issuer, keys)
    }

    /// Audiences for tokens of one issuer added with
    /// [`issuer_keys`](Self::issuer_keys) (before or after it); they
    /// replace the shared [`audience`](Self::audience)s for that issuer.
    #[must_use]
    pub fn issuer_audience(mut self, issuer: &str, audience: impl Into<String>) -> Self {
        self.issuer_audiences
            .push((issuer.to_owned(), audience.into()));
        self
    }

    fn tune(mut self, setter: &'static str, f: impl FnOnce(Validation) -> Validation) -> Self {
        self.validation = f(self.validation);
        self.tuned_by.get_or_insert(setter);
        self
    }

    /// Accepts tokens whose `iss` fits `template`, an issuer URL with one
    /// `{claim}` placeholder, when the token's claim of that name holds the
    /// same value and that value is one of `values`:
    /// `("https://login.microsoftonline.com/{tid}/v2.0", ["tenant-a"])`
    /// accepts Entra tokens of tenant `tenant-a` only. The placeholder
    /// matches one path segment. Otherwise 401 "invalid issuer".
    #[must_use]
    pub fn issuer_template(
        mut self,
        template: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let values = values.into_iter().map(Into::into).collect();
        self.claim_settings
            .templates
            .push((template.into(), Some(values)));
        self
    }

    /// Like [`issuer_template`](Self::issuer_template), accepting any
    /// value of the placeholder (any Entra tenant, say): only the keys then
    /// decide who may issue tokens.
    #[must_use]
    pub fn issuer_template_any_value(mut self, template: impl Into<String>) -> Self {
        self.claim_settings.templates.push((template.into(), None));
        self
    }

    /// Accepts tokens issued by `issuer`; see [`Validation::issuer`].
    #[must_use]
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.tune("issuer", |v| v.issuer(issuer))
    }

    /// Accepts tokens for `audience`; see [`Validation::audience`].
    #[must_use]
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.tune("audience", |v| v.audience(audience))
    }

    /// Clock skew tolerance; see [`Validation::leeway`].
    #[must_use]
    pub fn leeway(self, leeway: Duration) -> Self {
        self.tune("leeway", |v| v.leeway(leeway))
    }

    /// Maximum token lifetime; see [`Validation::max_lifetime`].
    #[must_use]
    pub fn max_lifetime(self, max: Duration) -> Self {
        self.tune("max_lifetime", |v| v.max_lifetime(max))
    }

    /// Maximum token size; see [`Validation::max_token_size`].
    #[must_use]
    pub fn max_token_size(self, bytes: usize) -> Self {
        self.tune("max_token_size", |v| v.max_token_size(bytes))
    }

    /// Algorithm allow-list; see [`Validation::algorithms`].
    #[must_use]
    pub fn algorithms(self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.tune("algorithms", |v| v.algorithms(algs))
    }

    /// Clock for the time checks; see [`Validation::clock`].
    #[must_use]
    pub fn clock(self, clock: Clock) -> Self {
        self.tune("clock", |v| v.clock(clock))
    }

    /// Requires an `iat` claim; see [`Validation::require_iat`].
    #[must_use]
    pub fn require_iat(self) -> Self {
        self.tune("require_iat", Validation::require_iat)
    }

    /// See [`Validation::allow_any_issuer_and_audience`].
    #[must_use]
    pub fn allow_any_issuer_and_audience(self) -> Self {
        self.tune(
            "allow_any_issuer_and_audience",
            Validation::allow_any_issuer_and_audience,
        )
    }

    /// Starts from a whole [`Validation`]. Call it before the claim setters
    /// (`issuer`, `audience`, `leeway` …), which then add to it; called
    /// after one of them it would discard its effect, so `build()` refuses.
    #[must_use]
    pub fn validation(mut self, validation: Validation) -> Self {
        if let Some(setter) = self.tuned_by {
            self.deferred.get_or_insert_with(|| {
                BuildError::new(
                    BuildErrorKind::Conflict,
                    format!(
                        "validation(..) would discard the earlier {setter}(..): \
                         call validation(..) first"
                    ),
                )
            });
        }
        self.validation = validation;
        self
    }

    /// Requires `scope` on every request (403 `insufficient_scope` otherwise).
    #[must_use]
    pub fn require_scope(mut self, scope: impl Into<String>) -> Self {
        self.requirement.scopes.push(scope.into());
        self
    }

    /// Requires `predicate` over the claims on every request: "this caller
    /// may not" (403 `insufficient_scope`, "access denied").
    #[must_use]
    pub fn require(mut self, predicate: impl Fn(&C) -> bool + Send + Sync + 'static) -> Self {
        self.requirement.predicates.push(Arc::new(predicate));
        self
    }

    /// Refuses a token unless `check` holds for its claims: "this token is
    /// not for us" (401 `invalid_token`, "token not accepted"), where
    /// [`require`](Self::require) answers 403.
    #[must_use]
    pub fn reject_token_unless(
        mut self,
        check: impl Fn(&C) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.token_checks.push(Arc::new(check));
        self
    }

    /// Refuses a token unless the async `check` (a database lookup, say)
    /// answers `true` within `timeout`: "this token is not for us" (401).
    /// An error or the time running out answers 503 with `Retry-After`,
    /// never 200. Runs on every request, a cached token's too.
    #[must_use]
    pub fn reject_token_unless_async<F, Fut>(self, timeout: Duration, check: F) -> Self
    where
        F: Fn(VerifiedClaims<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, BoxError>> + Send + 'static,
    {
        self.async_check(AuthErrorKind::RejectedClaim, timeout, check)
    }

    /// Requires the async `check` to answer `true` within `timeout`: "this
    /// caller may not" (403 "access denied"). An error or the time running
    /// out answers 503 with `Retry-After`, never 200.
    #[must_use]
    pub fn require_async<F, Fut>(self, timeout: Duration, check: F) -> Self
    where
        F: Fn(VerifiedClaims<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, BoxError>> + Send + 'static,
    {
        self.async_check(AuthErrorKind::Forbidden, timeout, check)
    }

    fn async_check<F, Fut>(mut self, denied: AuthErrorKind, timeout: Duration, check: F) -> Self
    where
        F: Fn(VerifiedClaims<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, BoxError>> + Send + 'static,
    {
        let check = Arc::new(move |claims| Box::pin(check(claims)) as CheckFuture);
        self.async_checks.push(AsyncCheck {
            check,
            denied,
            timeout,
        });
        self
    }

    /// The claims that may carry the audience (default `aud` only): the
    /// token passes when one of them is an accepted audience, or an array
    /// holding one (Keycloak `azp`, Cognito `client_id`, Okta `cid`).
    /// Each is a JSON Pointer (`/realm_access/roles`) or a top-level name.
    /// Otherwise 401 "invalid audience".
    #[must_use]
    pub fn audience_claims(mut self, claims: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let claims = claims.into_iter().map(Into::into);
        self.claim_settings.audience_claims.extend(claims);
        self
    }

    /// Accepts only tokens whose `typ` header is one of `types`, compared
    /// case-insensitively with the `application/` prefix optional (RFC 7515
    /// §4.1.9); e.g. `["at+jwt"]` for RFC 9068 access tokens. Otherwise
    /// 401 "token type not accepted".
    #[must_use]
    pub fn require_typ(mut self, types: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.claim_settings
            .typ
            .extend(types.into_iter().map(Into::into));
        self
    }

    /// Requires the claim at `path` (a JSON Pointer or a top-level name) to
    /// be the string `value`, or an array containing it, e.g.
    /// `("/token_use", "access")` for Cognito, `("typ", "Bearer")` for
    /// Keycloak. Otherwise 401 "token not accepted".
    #[must_use]
    pub fn claim_equals(self, path: impl Into<String>, value: impl Into<String>) -> Self {
        self.claim_in(path, [value])
    }

    /// Requires the claim at `path` to be one of `values` (a string, or an
    /// array holding one of them): an allow-list, e.g. Okta's `cid`,
    /// Clerk's `azp`, Cognito's `client_id`, or Kubernetes service accounts
    /// in `sub`. Otherwise 401 "token not accepted". An empty list is a
    /// build error.
    #[must_use]
    pub fn claim_in(
        mut self,
        path: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let values = values.into_iter().map(Into::into).collect();
        self.claim_settings.equals.push((path.into(), values));
        self
    }

    /// Accepts a token bound to a DPoP key (`cnf.jkt`) presented as a plain
    /// bearer token. By default it is refused (401, "token bound to a DPoP
    /// key"): a stolen bound token must not work without its key (RFC 9449
    /// §7.2). Only for a migration where clients cannot send proofs yet.
    #[must_use]
    pub fn accept_bound_tokens_as_bearer(mut self) -> Self {
        self.bound_bearer = true;
        self
    }

    /// Logs `message` at `warn` (once) when a token whose unverified `iss`
    /// is `issuer` is refused: a token of a kind that can never pass here,
    /// such as one from an Okta org authorization server beside a custom
    /// one. Costs nothing for tokens that pass.
    #[must_use]
    pub fn hint_for_issuer(
        mut self,
        issuer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.hints
            .push((Trigger::Issuer, issuer.into(), message.into()));
        self
    }

    /// Logs `message` at `warn` (once) when a token whose header has the
    /// member `name` is refused, such as a Microsoft Graph token (`nonce`).
    #[must_use]
    pub fn hint_for_header(mut self, name: impl Into<String>, message: impl Into<String>) -> Self {
        self.hints
            .push((Trigger::HeaderMember, name.into(), message.into()));
        self
    }

    /// Requires the claim at `path` to be a string of 1 to `max_chars`
    /// characters (Firebase: `sub` non-empty and at most 128). Otherwise
    /// 401 "token not accepted".
    #[must_use]
    pub fn require_claim_text(mut self, path: impl Into<String>, max_chars: usize) -> Self {
        self.claim_settings.texts.push((path.into(), max_chars));
        self
    }

    /// Requires at least one of the claims at `paths` to be a string: a
    /// token kind told apart by a claim only it carries (Entra access
    /// tokens have `azp` (v2) or `appid` (v1); its ID tokens neither).
    /// Otherwise 401 "token not accepted". An empty list is a build error.
    #[must_use]
    pub fn require_any_claim(mut self, paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let group: Vec<String> = paths.into_iter().map(Into::into).collect();
        if group.is_empty() {
            return self.fail_now("require_any_claim(..) lists no claim");
        }
        self.claim_settings.any_present.push(group);
        self
    }

    /// Requires the claim at `path` to be a time (seconds since the epoch)
    /// not in the future, leeway allowed (Firebase: `auth_time`). Otherwise,
    /// or when it is missing, 401 "token not accepted".
    #[must_use]
    pub fn require_past_time(mut self, path: impl Into<String>) -> Self {
        self.claim_settings.past_times.push(path.into());
        self
    }

    /// Where the token's roles are (JSON Pointers or top-level names): a
    /// string array, a space-delimited string, or an object whose keys are
    /// the roles. Read by [`require_role`](Self::require_role) and
    /// [`VerifiedClaims::roles`](crate::VerifiedClaims::roles). At most 256
    /// roles are kept per token; empty roles and roles holding a NUL
    /// character are ignored.
    #[must_use]
    pub fn role_claims(mut self, paths: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let paths = paths.into_iter().map(Into::into);
        self.claim_settings.role_claims.extend(paths);
        self
    }

    /// Requires `role` on every request (403 `insufficient_scope`,
    /// "insufficient role").
    #[must_use]
    pub fn require_role(mut self, role: impl Into<String>) -> Self {
        self.requirement.roles.push(role.into());
        self
    }

    /// Requires at least one of `roles` on every request (403 otherwise).
    #[must_use]
    pub fn require_any_role(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let set = roles.into_iter().map(Into::into).collect();
        self.requirement.any_roles.push(set);
        self
    }

    /// Turns the verified-token cache on (the default) or off. A client that
    /// repeats its token is then answered without a new signature check;
    /// entries never outlive the token's `exp` (re-checked on every hit) nor
    /// the key that verified them.
    #[must_use]
    pub fn token_cache(mut self, enabled: bool) -> Self {
        let bytes = self.token_cache.unwrap_or(token_cache::DEFAULT_MAX_BYTES);
        self.token_cache = enabled.then_some(bytes);
        self
    }

    /// Refuses tokens revoked in `revocations` (by `jti`, or by `sub` and
    /// `iat`), cached ones too; see [`revocation`](crate::revocation).
    /// Without it nothing is looked up.
    #[must_use]
    pub fn revocation(mut self, revocations: crate::revocation::Revocations) -> Self {
        self.revocation = Some(revocations);
        self
    }

    /// Caps the verified-token cache at `bytes` (default 8 MiB); each entry
    /// weighs twice its token's length (the entry keeps a copy) plus its
    /// payload's plus 256 bytes: about 3,800 entries of 824-byte RS256
    /// tokens per 8 MiB. Beside the entries the cache keeps two fixed
    /// tables: 32 KiB of second-sighting tags, and a 4-byte counter per 256
    /// bytes of `bytes` (rounded up to a power of two, 4 KiB to 4 MiB;
    /// 128 KiB for 8 MiB) telling which tokens it may hold.
    #[must_use]
    pub fn token_cache_max_bytes(mut self, bytes: u64) -> Self {
        self.token_cache = Some(bytes);
        self
    }

    /// Builds the verifier. Synchronous, no I/O. 403 challenges name the
    /// default realm (`api`).
    ///
    /// # Errors
    ///
    /// Any configuration mistake: a bad key, no key, keys and a key source
    /// both given, a validation the defaults refuse (see [`Validation`]),
    /// an invalid scope; [`BuildError::kind`] classifies it.
    pub fn build(self) -> Result<Verifier<C>, BuildError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        self.build_with(&Challenges::new(DEFAULT_REALM, true)?)
    }

    /// Builds the verifier, rendering 403 challenges with `challenges`.
    pub(crate) fn build_with(self, challenges: &Challenges) -> Result<Verifier<C>, BuildError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        crate::crypto::ensure_backend();
        if let Some(err) = self.deferred {
            return Err(err);
        }
        let (mut limits, mut rules) = self.validation.into_parts();
        let (wanted, roles) = self.claim_settings.compile(&mut rules, &mut limits)?;
        limits.check()?;
        let time = rules.time.clone();
        let routes = if self.issuer_keys.is_empty() {
            if let Some((issuer, _)) = self.issuer_audiences.first() {
                return Err(orphan_audience(issuer));
            }
            Routes::Single(Box::new(single_route(self.keys, self.key_source, rules)?))
        } else {
            if self.key_source.is_some() || !self.keys.is_empty() {
                return Err(conflict(
                    "issuer_keys gives each issuer its keys: do not add keys or a key source beside it",
                ));
            }
            by_issuer(self.issuer_keys, &self.issuer_audiences, &rules)?
        };
        let limits = limits.verifiable_by(routes.algorithms())?;
        let policy = Policy {
            wanted,
            roles,
            token_checks: self.token_checks,
            requirement: self.requirement.build(challenges)?,
            async_checks: self.async_checks,
            revocation: self.revocation,
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                limits,
                time,
                routes,
                policy,
                token_cache: self.token_cache.map(TokenCache::new),
                known_headers: KnownHeaders::new(),
                hints: Hints::new(self.hints),
                bound_bearer: self.bound_bearer,
            }),
            _claims: PhantomData,
        })
    }
}

/// A template with its claim bound and its values; errors for text without
/// a placeholder or an empty allow-list.
fn template_rule(
    text: &str,
    values: Option<Vec<String>>,
    wanted: &mut Wanted,
) -> Result<TemplateRule, BuildError> {
    let template = Template::parse(text)?.ok_or_else(|| {
        BuildError::new(
            BuildErrorKind::InvalidValidation,
            format!("issuer template `{text}` has no `{{claim}}` placeholder: use issuer(..)"),
        )
    })?;
    if values
        .as_ref()
        .is_some_and(|v| v.is_empty() || v.iter().any(String::is_empty))
    {
        return Err(BuildError::new(
            BuildErrorKind::InvalidValidation,
            format!("issuer template `{text}`: list the accepted values, or accept any explicitly"),
        ));
    }
    let claim = wanted.bind(ClaimPath::parse(template.claim())?)?;
    let values = values.map(|v| v.into_iter().map(String::into_boxed_str).collect());
    Ok(TemplateRule {
        template,
        values,
        claim,
    })
}

/// The one route of a verifier without `issuer_keys`.
fn single_route(
    keys: Vec<Result<Key, BuildError>>,
    key_source: Option<SourceResult>,
    rules: ClaimRules,
) -> Result<Route, BuildError> {
    rules.check()?;
    let keys: Arc<dyn KeySource> = match (key_source, keys.is_empty()) {
        (Some(source), false) => {
            let keys = keys.into_iter().collect::<Result<Vec<_>, _>>()?;
            let static_keys: Arc<dyn KeySource> = Arc::new(StaticKeys::new(keys)?);
            Arc::new(KeySources::from_shared(vec![static_keys, source?])?)
        }
        (Some(source), true) => source?,
        (None, _) => {
            let keys = keys.into_iter().collect::<Result<Vec<_>, _>>()?;
            Arc::new(StaticKeys::new(keys)?)
        }
    };
    Ok(Route::new(keys, rules))
}

/// One route per issuer, each with its audiences; an issuer with a
/// `{claim}` placeholder is a template route, whose values come from
/// `issuer_template(..)` with the same text.
fn by_issuer(
    issuer_keys: Vec<(String, SourceResult)>,
    audiences: &[(String, String)],
    rules: &ClaimRules,
) -> Result<Routes, BuildError> {
    if !rules.issuers.is_empty() {
        return Err(conflict(
            "issuer_keys names the accepted issuers: do not call issuer(..) beside it",
        ));
    }
    if let Some((issuer, _)) = audiences
        .iter()
        .find(|(iss, _)| !issuer_keys.iter().any(|(i, _)| i == iss))
    {
        return Err(orphan_audience(issuer));
    }
    let (mut exact, mut templates) = (HashMap::new(), Vec::new());
    for (issuer, keys) in merge_sources(issuer_keys) {
        let own: Vec<String> = audiences
            .iter()
            .filter(|(iss, _)| *iss == issuer)
            .map(|(_, aud)| aud.clone())
            .collect();
        let own = (!own.is_empty()).then_some(&own[..]);
        match Template::parse(&issuer)? {
            Some(template) => {
                let rule = rules
                    .templates
                    .iter()
                    .find(|r| r.template == template)
                    .ok_or_else(|| {
                        conflict(&format!(
                            "issuer_keys for the template `{issuer}` needs issuer_template(..) \
                             with its values (or issuer_template_any_value(..))"
                        ))
                    })?;
                let rules = rules.for_template(rule, own);
                rules.check()?;
                templates.push((template, Route::new(keys?, rules)));
            }
            None => {
                let rules = rules.for_issuer(&issuer, own);
                rules.check()?;
                if exact
                    .insert(issuer.into_boxed_str(), Route::new(keys?, rules))
                    .is_some()
                {
                    return Err(conflict("an issuer is given twice"));
                }
            }
        }
    }
    if let Some(orphan) = rules
        .templates
        .iter()
        .find(|r| !templates.iter().any(|(t, _)| *t == r.template))
    {
        return Err(conflict(&format!(
            "issuer_template `{}…` has no issuer_keys beside issuer_keys for other issuers",
            orphan.template.prefix()
        )));
    }
    Ok(Routes::ByIssuer { exact, templates })
}

/// One entry per issuer: the sources of an issuer given several times
/// become one [`KeySources`], in the order given.
fn merge_sources(issuer_keys: Vec<(String, SourceResult)>) -> Vec<(String, SourceResult)> {
    let mut merged: Vec<(String, Vec<SourceResult>)> = Vec::new();
    for (issuer, keys) in issuer_keys {
        match merged.iter_mut().find(|(i, _)| *i == issuer) {
            Some((_, sources)) => sources.push(keys),
            None => merged.push((issuer, vec![keys])),
        }
    }
    merged
        .into_iter()
        .map(|(issuer, mut sources)| {
            let keys = match sources.len() {
                1 => sources
                    .pop()
                    .unwrap_or_else(|| Err(conflict("no key source"))),
                _ => sources
                    .into_iter()
                    .collect::<Result<Vec<_>, _>>()
                    .and_then(KeySources::from_shared)
                    .map(|s| Arc::new(s) as Arc<dyn KeySource>),
            };
            (issuer, keys)
        })
        .collect()
}

fn conflict(message: &str) -> BuildError {
    BuildError::new(BuildErrorKind::Conflict, message)
}

fn orphan_audience(issuer: &str) -> BuildError {
    conflict(&format!(
        "issuer_audience names `{issuer}`, which has no issuer_keys"
    ))
}
