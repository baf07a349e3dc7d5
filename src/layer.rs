//! [`JwtAuth`], the layer, and its builder.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use crate::authorize::RequirementParts;
use crate::challenge::{Challenges, DEFAULT_REALM, DefaultRejection};
use crate::error::{BuildError, BuildErrorKind};
use crate::keys::{IntoKeySource, Key, KeySource, StaticKeys};
use crate::service::JwtAuthService;
use crate::token::{BearerHeader, TokenSource};
use crate::validation::{Clock, Validation};
use crate::verifier::{Inner, Route, Routes, Verifier};

/// JWT authentication as a tower [`Layer`]: verifies the token of each
/// request and stores [`VerifiedClaims<C>`](crate::VerifiedClaims) in its
/// extensions, or answers with the RFC 6750 rejection.
///
/// `C` is the claims type, `T` the [`TokenSource`], `R` the rejection
/// renderer. Cheap to clone. See the [crate docs](crate) for an example.
pub struct JwtAuth<C, T = BearerHeader, R = DefaultRejection> {
    /// Everything behind one pointer: routers clone the service (and so
    /// this) on every request.
    pub(crate) shared: Arc<Shared<C, T, R>>,
}

/// The configuration of a built layer.
pub(crate) struct Shared<C, T, R> {
    pub(crate) verifier: Verifier<C>,
    pub(crate) source: T,
    pub(crate) challenges: Challenges,
    pub(crate) optional: bool,
    pub(crate) on_rejection: R,
}

impl<C, T, R> Clone for JwtAuth<C, T, R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C, T: fmt::Debug, R> fmt::Debug for JwtAuth<C, T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("verifier", &self.shared.verifier)
            .field("source", &self.shared.source)
            .field("optional", &self.shared.optional)
            .finish_non_exhaustive()
    }
}

impl<C> JwtAuth<C> {
    /// Starts configuring a layer for claims of type `C`.
    pub fn builder() -> JwtAuthBuilder<C> {
        JwtAuthBuilder {
            keys: Vec::new(),
            key_source: None,
            issuer_keys: Vec::new(),
            validation: Validation::new(),
            requirement: RequirementParts::default(),
            realm: DEFAULT_REALM.to_owned(),
            optional: false,
            token_cache: Some(crate::token_cache::DEFAULT_MAX_BYTES),
            source: BearerHeader::new(),
            on_rejection: DefaultRejection,
        }
    }
}

impl<C, T, R> JwtAuth<C, T, R> {
    /// The verifier, for checking tokens outside a request (a WebSocket
    /// message, a background job).
    pub fn verifier(&self) -> &Verifier<C> {
        &self.shared.verifier
    }
}

impl<S, C, T, R> Layer<S> for JwtAuth<C, T, R> {
    type Service = JwtAuthService<S, C, T, R>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtAuthService::new(inner, self.clone())
    }
}

/// One issuer's keys, for multi-issuer routing.
struct IssuerKeys {
    issuer: String,
    keys: Result<Arc<dyn KeySource>, BuildError>,
    audiences: Option<Vec<String>>,
}

/// Configures a [`JwtAuth`] layer. `build()` does no I/O.
pub struct JwtAuthBuilder<C, T = BearerHeader, R = DefaultRejection> {
    keys: Vec<Result<Key, BuildError>>,
    key_source: Option<Result<Arc<dyn KeySource>, BuildError>>,
    issuer_keys: Vec<IssuerKeys>,
    validation: Validation,
    requirement: RequirementParts<C>,
    realm: String,
    optional: bool,
    token_cache: Option<u64>,
    source: T,
    on_rejection: R,
}

impl<C, T: fmt::Debug, R> fmt::Debug for JwtAuthBuilder<C, T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthBuilder")
            .field("keys", &self.keys.len())
            .field("validation", &self.validation)
            .field("realm", &self.realm)
            .field("optional", &self.optional)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<C, T, R> JwtAuthBuilder<C, T, R> {
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

    /// Uses `source` for keys instead of (not beside) static keys, for
    /// example a [`RemoteJwks`](crate::keys::RemoteJwks) or its builder.
    #[must_use]
    pub fn key_source(mut self, source: impl IntoKeySource) -> Self {
        self.key_source = Some(source.into_key_source());
        self
    }

    /// Accepts tokens from `issuer`, verified only with `keys` (a key
    /// source or a builder of one). With several issuers, each token is
    /// routed by its unverified `iss` to that issuer's keys; an unknown
    /// `iss` is refused without any I/O, and one issuer's keys never verify
    /// a token claiming another. Replaces [`issuer`](Self::issuer) and
    /// [`key_source`](Self::key_source).
    #[must_use]
    pub fn issuer_keys(mut self, issuer: impl Into<String>, keys: impl IntoKeySource) -> Self {
        self.issuer_keys.push(IssuerKeys {
            issuer: issuer.into(),
            keys: keys.into_key_source(),
            audiences: None,
        });
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
    /// [`issuer_keys`](Self::issuer_keys); they replace the shared
    /// [`audience`](Self::audience)s for that issuer.
    #[must_use]
    pub fn issuer_audience(mut self, issuer: &str, audience: impl Into<String>) -> Self {
        match self.issuer_keys.iter_mut().find(|ik| ik.issuer == issuer) {
            Some(ik) => ik
                .audiences
                .get_or_insert_with(Vec::new)
                .push(audience.into()),
            None => self.issuer_keys.push(IssuerKeys {
                issuer: issuer.to_owned(),
                keys: Err(BuildError::new(
                    BuildErrorKind::Conflict,
                    format!("issuer_audience for `{issuer}` comes before its issuer_keys"),
                )),
                audiences: None,
            }),
        }
        self
    }

    /// Accepts tokens issued by `issuer`; see [`Validation::issuer`].
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.validation = self.validation.issuer(issuer);
        self
    }

    /// Accepts tokens for `audience`; see [`Validation::audience`].
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.validation = self.validation.audience(audience);
        self
    }

    /// Clock skew tolerance; see [`Validation::leeway`].
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.validation = self.validation.leeway(leeway);
        self
    }

    /// Maximum token lifetime; see [`Validation::max_lifetime`].
    #[must_use]
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.validation = self.validation.max_lifetime(max);
        self
    }

    /// Maximum token size; see [`Validation::max_token_size`].
    #[must_use]
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.validation = self.validation.max_token_size(bytes);
        self
    }

    /// Algorithm allow-list; see [`Validation::algorithms`].
    #[must_use]
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.validation = self.validation.algorithms(algs);
        self
    }

    /// Clock for the time checks; see [`Validation::clock`].
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.validation = self.validation.clock(clock);
        self
    }

    /// Requires an `iat` claim; see [`Validation::require_iat`].
    #[must_use]
    pub fn require_iat(mut self) -> Self {
        self.validation = self.validation.require_iat();
        self
    }

    /// See [`Validation::allow_any_issuer_and_audience`].
    #[must_use]
    pub fn allow_any_issuer_and_audience(mut self) -> Self {
        self.validation = self.validation.allow_any_issuer_and_audience();
        self
    }

    /// Replaces the whole [`Validation`], including issuers, audiences,
    /// leeway and clock set earlier on this builder (call it first).
    #[must_use]
    pub fn validation(mut self, validation: Validation) -> Self {
        self.validation = validation;
        self
    }

    /// Requires `scope` on every request (403 `insufficient_scope` otherwise).
    #[must_use]
    pub fn require_scope(mut self, scope: impl Into<String>) -> Self {
        self.requirement.scopes.push(scope.into());
        self
    }

    /// Requires `predicate` over the claims on every request (403).
    #[must_use]
    pub fn require(mut self, predicate: impl Fn(&C) -> bool + Send + Sync + 'static) -> Self {
        self.requirement.predicates.push(Arc::new(predicate));
        self
    }

    /// The `realm` of challenges (default `api`).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Turns the verified-token cache on (the default) or off. A client that
    /// repeats its token is then answered without a new signature check;
    /// entries never outlive the token's `exp` (re-checked on every hit) nor
    /// the key that verified them.
    #[must_use]
    pub fn token_cache(mut self, enabled: bool) -> Self {
        self.token_cache = enabled.then_some(crate::token_cache::DEFAULT_MAX_BYTES);
        self
    }

    /// Caps the verified-token cache at `bytes` (default 8 MiB); each entry
    /// weighs its token and payload length plus 256 bytes.
    #[must_use]
    pub fn token_cache_max_bytes(mut self, bytes: u64) -> Self {
        self.token_cache = Some(bytes);
        self
    }

    /// Optional authentication: a request without credentials passes
    /// without claims; a request with a bad token is still rejected.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Where to read the token from (default: the `Authorization: Bearer`
    /// header).
    pub fn token_source<T2: TokenSource>(self, source: T2) -> JwtAuthBuilder<C, T2, R> {
        JwtAuthBuilder {
            keys: self.keys,
            key_source: self.key_source,
            issuer_keys: self.issuer_keys,
            validation: self.validation,
            requirement: self.requirement,
            realm: self.realm,
            optional: self.optional,
            token_cache: self.token_cache,
            source,
            on_rejection: self.on_rejection,
        }
    }

    /// Renders rejections; see [`OnRejection`](crate::OnRejection).
    pub fn on_rejection<R2>(self, on_rejection: R2) -> JwtAuthBuilder<C, T, R2> {
        JwtAuthBuilder {
            keys: self.keys,
            key_source: self.key_source,
            issuer_keys: self.issuer_keys,
            validation: self.validation,
            requirement: self.requirement,
            realm: self.realm,
            optional: self.optional,
            token_cache: self.token_cache,
            source: self.source,
            on_rejection,
        }
    }

    /// Builds the layer. Synchronous, no I/O.
    ///
    /// # Errors
    ///
    /// Any configuration mistake: a bad key, no key, keys and a key source
    /// both given, a validation the defaults refuse (see
    /// [`Validation`]), an invalid realm or scope.
    pub fn build(self) -> Result<JwtAuth<C, T, R>, BuildError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        crate::crypto::ensure_backend();
        let challenges = Challenges::new(&self.realm)?;
        let routes = if self.issuer_keys.is_empty() {
            self.validation.check()?;
            let keys: Arc<dyn KeySource> = match (self.key_source, self.keys.is_empty()) {
                (Some(_), false) => {
                    return Err(BuildError::new(
                        BuildErrorKind::Conflict,
                        "give either static keys or a key source, not both",
                    ));
                }
                (Some(source), true) => source?,
                (None, _) => {
                    let keys = self.keys.into_iter().collect::<Result<Vec<_>, _>>()?;
                    Arc::new(StaticKeys::new(keys)?)
                }
            };
            Routes::Single(Route {
                keys,
                validation: self.validation.clone(),
            })
        } else {
            if self.key_source.is_some() || !self.keys.is_empty() {
                return Err(BuildError::new(
                    BuildErrorKind::Conflict,
                    "issuer_keys gives each issuer its keys: do not add keys or a key source beside it",
                ));
            }
            if !self.validation.issuer_list().is_empty() {
                return Err(BuildError::new(
                    BuildErrorKind::Conflict,
                    "issuer_keys names the accepted issuers: do not call issuer(..) beside it",
                ));
            }
            let mut map = HashMap::new();
            for ik in self.issuer_keys {
                let validation = self
                    .validation
                    .for_issuer(&ik.issuer, ik.audiences.as_deref());
                validation.check()?;
                let route = Route {
                    keys: ik.keys?,
                    validation,
                };
                if map.insert(ik.issuer.into_boxed_str(), route).is_some() {
                    return Err(BuildError::new(
                        BuildErrorKind::Conflict,
                        "an issuer is given twice",
                    ));
                }
            }
            Routes::ByIssuer(map)
        };
        let requirement = self.requirement.build(&challenges)?;
        let base = self.validation.verifiable_by(routes.algorithms())?;
        Ok(JwtAuth {
            shared: Arc::new(Shared {
                verifier: Verifier::from_inner(Inner {
                    base,
                    routes,
                    requirement,
                    token_cache: self.token_cache.map(crate::token_cache::TokenCache::new),
                    known_headers: crate::known_headers::KnownHeaders::new(),
                }),
                source: self.source,
                challenges,
                optional: self.optional,
                on_rejection: self.on_rejection,
            }),
        })
    }
}
