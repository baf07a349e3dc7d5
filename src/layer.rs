//! [`JwtAuth`], the layer, and its builder.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use crate::challenge::{Challenges, DEFAULT_REALM, DefaultRejection};
use crate::claims::VerifiedClaims;
use crate::error::{BoxError, BuildError};
use crate::keys::{IntoKeySource, Key};
use crate::service::JwtAuthService;
use crate::token::{BearerHeader, TokenSource};
use crate::validation::{Clock, Validation};
use crate::verify::{Verifier, VerifierBuilder};

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
    /// DPoP presentations (`None` when off).
    #[cfg(feature = "dpop")]
    pub(crate) dpop: Option<crate::dpop::DpopCheck>,
    pub(crate) challenges: Challenges,
    pub(crate) optional: bool,
    pub(crate) on_rejection: R,
    /// Request counters (nothing without the `metrics` feature).
    pub(crate) metrics: crate::metrics::RequestMetrics,
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
            verifier: Verifier::builder(),
            realm: DEFAULT_REALM.to_owned(),
            grpc_answers: true,
            optional: false,
            source: BearerHeader::new(),
            on_rejection: DefaultRejection,
            #[cfg(feature = "dpop")]
            dpop: crate::dpop::Dpop::default(),
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

/// Configures a [`JwtAuth`] layer: a [`VerifierBuilder`] (keys, issuers,
/// claim rules, requirements, caches; its setters are forwarded here) plus
/// what belongs to tower: where the token comes from, the realm of
/// challenges, optional mode and how rejections are rendered. `build()`
/// does no I/O.
pub struct JwtAuthBuilder<C, T = BearerHeader, R = DefaultRejection> {
    verifier: VerifierBuilder<C>,
    realm: String,
    grpc_answers: bool,
    optional: bool,
    source: T,
    on_rejection: R,
    #[cfg(feature = "dpop")]
    dpop: crate::dpop::Dpop,
}

impl<C, T: fmt::Debug, R> fmt::Debug for JwtAuthBuilder<C, T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthBuilder")
            .field("verifier", &self.verifier)
            .field("realm", &self.realm)
            .field("optional", &self.optional)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Setters of [`VerifierBuilder`] offered on the layer's builder too, each a
/// one-line forward with the same documentation link.
macro_rules! forward {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                self.verifier = self.verifier.$name($($arg),*);
                self
            }
        )*
    };
}

impl<C, T, R> JwtAuthBuilder<C, T, R> {
    /// See [`VerifierBuilder::fail_with`]; for presets.
    #[cfg(feature = "remote-jwks")]
    pub(crate) fn fail_with(mut self, error: BuildError) -> Self {
        self.verifier = self.verifier.fail_with(error);
        self
    }

    forward! {
        /// See [`VerifierBuilder::key`].
        fn key(key: Key);
        /// See [`VerifierBuilder::hmac_secret`].
        fn hmac_secret(secret: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::rsa_pem`].
        fn rsa_pem(pem: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::rsa_der`].
        fn rsa_der(der: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::ec_pem`].
        fn ec_pem(pem: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::ec_der`].
        fn ec_der(der: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::ed_pem`].
        fn ed_pem(pem: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::ed_der`].
        fn ed_der(der: impl AsRef<[u8]>);
        /// See [`VerifierBuilder::jwk`].
        fn jwk(json: &str);
        /// See [`VerifierBuilder::jwks_json`].
        fn jwks_json(json: &str);
        /// See [`VerifierBuilder::key_source`].
        fn key_source(source: impl IntoKeySource);
        /// See [`VerifierBuilder::issuer_keys`].
        fn issuer_keys(issuer: impl Into<String>, keys: impl IntoKeySource);
        /// See [`VerifierBuilder::issuer_audience`].
        fn issuer_audience(issuer: &str, audience: impl Into<String>);
        /// See [`VerifierBuilder::issuer_template`].
        fn issuer_template(template: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::issuer_template_any_value`].
        fn issuer_template_any_value(template: impl Into<String>);
        /// See [`VerifierBuilder::issuer`].
        fn issuer(issuer: impl Into<String>);
        /// See [`VerifierBuilder::audience`].
        fn audience(audience: impl Into<String>);
        /// See [`VerifierBuilder::leeway`].
        fn leeway(leeway: Duration);
        /// See [`VerifierBuilder::max_lifetime`].
        fn max_lifetime(max: Duration);
        /// See [`VerifierBuilder::max_token_size`].
        fn max_token_size(bytes: usize);
        /// See [`VerifierBuilder::algorithms`].
        fn algorithms(algs: impl IntoIterator<Item = Algorithm>);
        /// See [`VerifierBuilder::clock`].
        fn clock(clock: Clock);
        /// See [`VerifierBuilder::require_iat`].
        fn require_iat();
        /// See [`VerifierBuilder::allow_any_issuer_and_audience`].
        fn allow_any_issuer_and_audience();
        /// See [`VerifierBuilder::validation`].
        fn validation(validation: Validation);
        /// See [`VerifierBuilder::require_scope`].
        fn require_scope(scope: impl Into<String>);
        /// See [`VerifierBuilder::require`].
        fn require(predicate: impl Fn(&C) -> bool + Send + Sync + 'static);
        /// See [`VerifierBuilder::reject_token_unless`].
        fn reject_token_unless(check: impl Fn(&C) -> bool + Send + Sync + 'static);
        /// See [`VerifierBuilder::audience_claims`].
        fn audience_claims(claims: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::require_typ`].
        fn require_typ(types: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::claim_equals`].
        fn claim_equals(path: impl Into<String>, value: impl Into<String>);
        /// See [`VerifierBuilder::claim_in`].
        fn claim_in(path: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::require_claim_text`].
        fn require_claim_text(path: impl Into<String>, max_chars: usize);
        /// See [`VerifierBuilder::require_any_claim`].
        fn require_any_claim(paths: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::require_past_time`].
        fn require_past_time(path: impl Into<String>);
        /// See [`VerifierBuilder::accept_bound_tokens_as_bearer`].
        fn accept_bound_tokens_as_bearer();
        /// See [`VerifierBuilder::hint_for_issuer`].
        fn hint_for_issuer(issuer: impl Into<String>, message: impl Into<String>);
        /// See [`VerifierBuilder::hint_for_header`].
        fn hint_for_header(name: impl Into<String>, message: impl Into<String>);
        /// See [`VerifierBuilder::role_claims`].
        fn role_claims(paths: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::require_role`].
        fn require_role(role: impl Into<String>);
        /// See [`VerifierBuilder::require_any_role`].
        fn require_any_role(roles: impl IntoIterator<Item = impl Into<String>>);
        /// See [`VerifierBuilder::token_cache`].
        fn token_cache(enabled: bool);
        /// See [`VerifierBuilder::token_cache_max_bytes`].
        fn token_cache_max_bytes(bytes: u64);
        /// See [`VerifierBuilder::revocation`].
        fn revocation(revocations: crate::revocation::Revocations);
    }

    /// See [`VerifierBuilder::reject_token_unless_async`].
    #[must_use]
    pub fn reject_token_unless_async<F, Fut>(mut self, timeout: Duration, check: F) -> Self
    where
        F: Fn(VerifiedClaims<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, BoxError>> + Send + 'static,
    {
        self.verifier = self.verifier.reject_token_unless_async(timeout, check);
        self
    }

    /// See [`VerifierBuilder::require_async`].
    #[must_use]
    pub fn require_async<F, Fut>(mut self, timeout: Duration, check: F) -> Self
    where
        F: Fn(VerifiedClaims<C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, BoxError>> + Send + 'static,
    {
        self.verifier = self.verifier.require_async(timeout, check);
        self
    }

    /// See [`VerifierBuilder::issuer_keys_discovered`].
    #[cfg(feature = "remote-jwks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
    #[must_use]
    pub fn issuer_keys_discovered(mut self, issuer: impl Into<String>) -> Self {
        self.verifier = self.verifier.issuer_keys_discovered(issuer);
        self
    }

    /// The `realm` of challenges (default `api`).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Whether refused gRPC requests (`content-type: application/grpc…`)
    /// get gRPC answers, HTTP 200 with `grpc-status` and `grpc-message`
    /// (default `true`); see [the mapping](crate::challenge). Applied
    /// before [`on_rejection`](Self::on_rejection), which sees the gRPC
    /// answer.
    #[must_use]
    pub fn grpc_answers(mut self, on: bool) -> Self {
        self.grpc_answers = on;
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
        self.map_token_source(|_| source)
    }

    /// Replaces the token source with one made from it, e.g. to wrap a
    /// preset's source in a type of your own.
    pub fn map_token_source<T2: TokenSource>(
        self,
        wrap: impl FnOnce(T) -> T2,
    ) -> JwtAuthBuilder<C, T2, R> {
        let source = wrap(self.source);
        JwtAuthBuilder {
            verifier: self.verifier,
            realm: self.realm,
            grpc_answers: self.grpc_answers,
            optional: self.optional,
            source,
            on_rejection: self.on_rejection,
            #[cfg(feature = "dpop")]
            dpop: self.dpop,
        }
    }

    /// DPoP settings (default: [`Dpop::new`](crate::dpop::Dpop::new), DPoP
    /// requests verified, bearer tokens accepted when not bound); see
    /// [`dpop`](crate::dpop).
    #[cfg(feature = "dpop")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dpop")))]
    #[must_use]
    pub fn dpop(mut self, dpop: crate::dpop::Dpop) -> Self {
        self.dpop = dpop;
        self
    }

    /// Renders rejections; see [`OnRejection`](crate::OnRejection).
    pub fn on_rejection<R2>(self, on_rejection: R2) -> JwtAuthBuilder<C, T, R2> {
        JwtAuthBuilder {
            verifier: self.verifier,
            realm: self.realm,
            grpc_answers: self.grpc_answers,
            optional: self.optional,
            source: self.source,
            on_rejection,
            #[cfg(feature = "dpop")]
            dpop: self.dpop,
        }
    }

    /// Builds the layer. Synchronous, no I/O.
    ///
    /// # Errors
    ///
    /// Any configuration mistake (see [`VerifierBuilder::build`]), or an
    /// invalid realm.
    pub fn build(self) -> Result<JwtAuth<C, T, R>, BuildError>
    where
        C: DeserializeOwned + Send + Sync + 'static,
    {
        let challenges = Challenges::new(&self.realm, self.grpc_answers)?;
        let verifier = self.verifier.build_with(&challenges)?;
        #[cfg(feature = "dpop")]
        let dpop = match self.dpop.is_off() {
            true => None,
            false => Some(self.dpop.build(verifier.clock(), &self.realm)?),
        };
        Ok(JwtAuth {
            shared: Arc::new(Shared {
                verifier,
                source: self.source,
                #[cfg(feature = "dpop")]
                dpop,
                challenges,
                optional: self.optional,
                on_rejection: self.on_rejection,
                metrics: crate::metrics::RequestMetrics::default(),
            }),
        })
    }
}
