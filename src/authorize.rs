//! Authorization after authentication: required scopes and predicates over
//! the claims, answered with 403 `insufficient_scope` (RFC 6750 §3.1) and a
//! `scope` attribute naming what was required.
//!
//! Put requirements on the whole layer with
//! [`JwtAuthBuilder::require_scope`](crate::JwtAuthBuilder::require_scope),
//! or on one route with the [`Authorize`] layer, which reads the claims the
//! [`JwtAuth`](crate::JwtAuth) layer stored:
//!
//! ```
//! use axum::{Router, routing::get, body::Body};
//! use http::{Request, StatusCode};
//! use jwt_layer::{Authorize, JwtAuth, RegisteredClaims};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"0123456789abcdef0123456789abcdef";
//! let auth = JwtAuth::<RegisteredClaims>::builder()
//!     .hmac_secret(secret)
//!     .issuer("https://auth.example")
//!     .build()?;
//! let app = Router::new()
//!     .route("/admin", get(|| async { "secret things" })
//!         .layer(Authorize::<RegisteredClaims>::builder().scope("admin").build()?))
//!     .layer(auth);
//!
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let claims = serde_json::json!({"iss": "https://auth.example", "exp": now + 300, "scope": "read"});
//! let token = jsonwebtoken::encode(
//!     &jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))?;
//! let res = app
//!     .oneshot(Request::get("/admin").header("authorization", format!("Bearer {token}")).body(Body::empty())?)
//!     .await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     res.headers()["www-authenticate"],
//!     r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="admin""#
//! );
//! # Ok(()) }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::challenge::{Challenges, DEFAULT_REALM, DefaultRejection, OnRejection};
use crate::claims::VerifiedClaims;
use crate::error::{AuthError, AuthErrorKind, BuildError, BuildErrorKind};
use crate::future::ResponseFuture;

type Predicate<C> = Arc<dyn Fn(&C) -> bool + Send + Sync>;

/// A set of scopes and predicates that verified claims must satisfy.
pub(crate) struct Requirement<C> {
    scopes: Box<[Box<str>]>,
    /// Roles the token must all hold.
    roles: Box<[Box<str>]>,
    /// Role sets of which the token must hold at least one each.
    any_roles: Box<[Box<[Box<str>]>]>,
    predicates: Box<[Predicate<C>]>,
    scope_challenge: HeaderValue,
    role_challenge: HeaderValue,
    predicate_challenge: HeaderValue,
}

impl<C> Requirement<C> {
    /// `None` when there is nothing to require.
    pub(crate) fn new(
        challenges: &Challenges,
        parts: RequirementParts<C>,
    ) -> Result<Option<Self>, BuildError> {
        let RequirementParts {
            scopes,
            roles,
            any_roles,
            predicates,
        } = parts;
        if scopes.is_empty() && roles.is_empty() && any_roles.is_empty() && predicates.is_empty() {
            return Ok(None);
        }
        for scope in &scopes {
            let ok = !scope.is_empty()
                && scope
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
            if !ok {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidHeaderText,
                    "a scope must be visible ASCII without spaces, '\"' or '\\'",
                ));
            }
        }
        let joined = scopes.join(" ");
        let scope_attr = (!joined.is_empty()).then_some(joined.as_str());
        let boxed = |v: Vec<String>| v.into_iter().map(String::into_boxed_str).collect();
        Ok(Some(Self {
            scope_challenge: challenges.forbidden(AuthErrorKind::InsufficientScope, scope_attr)?,
            role_challenge: challenges.forbidden(AuthErrorKind::MissingRole, None)?,
            predicate_challenge: challenges.forbidden(AuthErrorKind::Forbidden, None)?,
            scopes: boxed(scopes),
            roles: boxed(roles),
            any_roles: any_roles.into_iter().map(boxed).collect(),
            predicates: predicates.into(),
        }))
    }

    pub(crate) fn check(&self, claims: &VerifiedClaims<C>) -> Result<(), AuthError> {
        if !self.scopes.iter().all(|s| claims.has_scope(s)) {
            return Err(AuthError::new(AuthErrorKind::InsufficientScope)
                .with_challenge(self.scope_challenge.clone()));
        }
        let has_roles = self.roles.iter().all(|r| claims.has_role(r))
            && self
                .any_roles
                .iter()
                .all(|set| set.iter().any(|r| claims.has_role(r)));
        if !has_roles {
            return Err(AuthError::new(AuthErrorKind::MissingRole)
                .with_challenge(self.role_challenge.clone()));
        }
        if !self.predicates.iter().all(|p| p(claims.claims())) {
            return Err(AuthError::new(AuthErrorKind::Forbidden)
                .with_challenge(self.predicate_challenge.clone()));
        }
        Ok(())
    }
}

/// Collects scopes and predicates; shared by [`AuthorizeBuilder`] and the
/// layer builder.
pub(crate) struct RequirementParts<C> {
    pub(crate) scopes: Vec<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) any_roles: Vec<Vec<String>>,
    pub(crate) predicates: Vec<Predicate<C>>,
}

impl<C> Default for RequirementParts<C> {
    fn default() -> Self {
        Self {
            scopes: Vec::new(),
            roles: Vec::new(),
            any_roles: Vec::new(),
            predicates: Vec::new(),
        }
    }
}

impl<C> RequirementParts<C> {
    pub(crate) fn build(
        self,
        challenges: &Challenges,
    ) -> Result<Option<Requirement<C>>, BuildError> {
        Requirement::new(challenges, self)
    }
}

/// Marks a request that passed an optional [`JwtAuth`](crate::JwtAuth)
/// layer without credentials, so [`Authorize`] answers 401, not 500.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unauthenticated;

/// A layer that lets a request through only when the verified claims meet
/// its requirements; see the [module docs](crate::authorize).
///
/// Without claims it answers 401 (no credentials) after an optional
/// `JwtAuth`, and 500 when no `JwtAuth` layer ran at all.
pub struct Authorize<C, R = DefaultRejection> {
    requirement: Arc<Requirement<C>>,
    challenges: Challenges,
    on_rejection: R,
    metrics: crate::metrics::AuthorizeMetrics,
}

impl<C, R: Clone> Clone for Authorize<C, R> {
    fn clone(&self) -> Self {
        Self {
            requirement: Arc::clone(&self.requirement),
            challenges: self.challenges.clone(),
            on_rejection: self.on_rejection.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

impl<C, R> fmt::Debug for Authorize<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorize")
            .field("scopes", &self.requirement.scopes)
            .field("predicates", &self.requirement.predicates.len())
            .finish()
    }
}

impl<C> Authorize<C> {
    /// Starts a requirement.
    pub fn builder() -> AuthorizeBuilder<C> {
        AuthorizeBuilder {
            parts: RequirementParts::default(),
            realm: DEFAULT_REALM.into(),
            grpc_answers: true,
            on_rejection: DefaultRejection,
        }
    }
}

/// Builds an [`Authorize`] layer.
pub struct AuthorizeBuilder<C, R = DefaultRejection> {
    parts: RequirementParts<C>,
    realm: String,
    grpc_answers: bool,
    on_rejection: R,
}

impl<C, R> fmt::Debug for AuthorizeBuilder<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeBuilder")
            .field("scopes", &self.parts.scopes)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl<C, R> AuthorizeBuilder<C, R> {
    /// Requires `scope` in the token's `scope` string or `scp` array.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.parts.scopes.push(scope.into());
        self
    }

    /// Requires `role` among the token's roles (see
    /// [`VerifierBuilder::role_claims`](crate::VerifierBuilder::role_claims));
    /// 403 `insufficient_scope` otherwise.
    #[must_use]
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.parts.roles.push(role.into());
        self
    }

    /// Requires at least one of `roles` (403 otherwise).
    #[must_use]
    pub fn any_role(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.parts
            .any_roles
            .push(roles.into_iter().map(Into::into).collect());
        self
    }

    /// Requires `predicate` to hold for the claims.
    #[must_use]
    pub fn predicate(mut self, predicate: impl Fn(&C) -> bool + Send + Sync + 'static) -> Self {
        self.parts.predicates.push(Arc::new(predicate));
        self
    }

    /// The realm of the challenge (default `api`).
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Whether refused gRPC requests get gRPC answers (default `true`);
    /// see [the mapping](crate::challenge).
    #[must_use]
    pub fn grpc_answers(mut self, on: bool) -> Self {
        self.grpc_answers = on;
        self
    }

    /// Renders rejections with `on_rejection`; see [`OnRejection`].
    pub fn on_rejection<R2>(self, on_rejection: R2) -> AuthorizeBuilder<C, R2> {
        AuthorizeBuilder {
            parts: self.parts,
            realm: self.realm,
            grpc_answers: self.grpc_answers,
            on_rejection,
        }
    }

    /// Builds the layer.
    ///
    /// # Errors
    ///
    /// No requirement, an invalid realm, or a scope with characters a
    /// challenge cannot carry.
    pub fn build(self) -> Result<Authorize<C, R>, BuildError> {
        let challenges = Challenges::new(&self.realm, self.grpc_answers)?;
        let requirement = self.parts.build(&challenges)?.ok_or_else(|| {
            BuildError::new(
                BuildErrorKind::InvalidSetting,
                "Authorize needs at least one scope, role or predicate",
            )
        })?;
        Ok(Authorize {
            requirement: Arc::new(requirement),
            challenges,
            on_rejection: self.on_rejection,
            metrics: crate::metrics::AuthorizeMetrics::default(),
        })
    }
}

impl<S, C, R: Clone> Layer<S> for Authorize<C, R> {
    type Service = AuthorizeService<S, C, R>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthorizeService {
            inner,
            layer: self.clone(),
            _claims: PhantomData,
        }
    }
}

/// The service of the [`Authorize`] layer.
pub struct AuthorizeService<S, C, R> {
    inner: S,
    layer: Authorize<C, R>,
    _claims: PhantomData<fn() -> C>,
}

impl<S: Clone, C, R: Clone> Clone for AuthorizeService<S, C, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
            _claims: PhantomData,
        }
    }
}

impl<S: fmt::Debug, C, R> fmt::Debug for AuthorizeService<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, C, R, ReqBody, ResBody> Service<Request<ReqBody>> for AuthorizeService<S, C, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: Send + Sync + 'static,
    R: OnRejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let ext = req.extensions();
        let outcome = match ext.get::<VerifiedClaims<C>>() {
            Some(claims) => self.layer.requirement.check(claims),
            None if ext.get::<Unauthenticated>().is_some() => {
                Err(AuthError::new(AuthErrorKind::MissingToken))
            }
            None => Err(AuthError::new(AuthErrorKind::MissingLayer)),
        };
        match outcome {
            Ok(()) => ResponseFuture::inner(self.inner.call(req)),
            Err(err) => {
                crate::log::rejected(&err);
                self.layer.metrics.refused(err.kind());
                let res = crate::challenge::response(&err, &self.layer.challenges, req.headers());
                ResponseFuture::ready(self.layer.on_rejection.respond(&err, res))
            }
        }
    }
}
