//! [`JwtAuthService`], the service the [`JwtAuth`] layer wraps around yours.

use std::fmt;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::authorize::Unauthenticated;
use crate::challenge::{self, OnRejection};
use crate::error::{AuthError, AuthErrorKind};
use crate::future::ResponseFuture;
use crate::layer::JwtAuth;
use crate::log;
use crate::pending_key::PendingKey;
use crate::token::TokenSource;
use crate::verify::{Presented, Step};

/// The service produced by [`JwtAuth`]; see the [crate docs](crate).
pub struct JwtAuthService<S, C, T, R> {
    inner: S,
    auth: JwtAuth<C, T, R>,
}

impl<S, C, T, R> JwtAuthService<S, C, T, R> {
    pub(crate) fn new(inner: S, auth: JwtAuth<C, T, R>) -> Self {
        Self { inner, auth }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, C, T, R> Clone for JwtAuthService<S, C, T, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            auth: self.auth.clone(),
        }
    }
}

impl<S: fmt::Debug, C, T: fmt::Debug, R> fmt::Debug for JwtAuthService<S, C, T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthService")
            .field("inner", &self.inner)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<S, C, T, R, ReqBody, ResBody> Service<Request<ReqBody>> for JwtAuthService<S, C, T, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: DeserializeOwned + Send + Sync + 'static,
    T: TokenSource,
    R: OnRejection<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error, PendingKey<S, ReqBody, C, T, R>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The service driven to readiness is the one that must be called.
        // A request let through now calls it in place, so the hot path
        // clones nothing; one that must wait for a key takes it along and
        // leaves a clone behind (see tower's "be careful when cloning inner
        // services"); a rejection drops it, releasing whatever its
        // readiness reserved (a concurrency permit, a buffer slot).
        let presented = match credentials(&self.auth, &req) {
            Ok(Some(presented)) => presented,
            Ok(None) if self.auth.shared.optional => {
                self.auth.shared.metrics.anonymous();
                req.extensions_mut().insert(Unauthenticated);
                return ResponseFuture::inner(self.inner.call(req));
            }
            Ok(None) => return self.reject(&no_credentials(&self.auth), &req),
            Err(err) => return self.reject(&err, &req),
        };
        let from_source = presented.by_source();
        let step = self
            .auth
            .shared
            .verifier
            .verify_step(presented.token(), presented.proof_key());
        match answered(&self.auth, &presented, step) {
            Step::Done(Ok(claims)) => {
                req.extensions_mut().insert(claims);
                let add = accepted(&self.auth, &mut req, from_source);
                ResponseFuture::inner_adding(self.inner.call(req), add)
            }
            Step::Done(Err(err)) => self.reject(&err, &req),
            Step::Pending(verification) => {
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let auth = self.auth.clone();
                let pending = PendingKey::new(verification, req, inner, auth, from_source);
                ResponseFuture::pending(Box::pin(pending))
            }
        }
    }
}

impl<S: Clone, C, T, R> JwtAuthService<S, C, T, R> {
    fn reject<F, B, E, P, ReqBody>(
        &mut self,
        err: &AuthError,
        req: &Request<ReqBody>,
    ) -> ResponseFuture<F, B, E, P>
    where
        R: OnRejection<B>,
    {
        let fresh = self.inner.clone();
        drop(std::mem::replace(&mut self.inner, fresh));
        ResponseFuture::ready(rejection(&self.auth, err, req.headers()))
    }
}

/// The request's credentials: with DPoP on, a DPoP token and its checked
/// proof, or else what the token source finds.
#[cfg(feature = "dpop")]
fn credentials<'r, C, T: TokenSource, R, B>(
    auth: &JwtAuth<C, T, R>,
    req: &'r Request<B>,
) -> Result<Option<Presented<'r>>, AuthError> {
    let shared = &auth.shared;
    match &shared.dpop {
        Some(dpop) => dpop.credentials(&shared.source, req),
        None => Ok(shared
            .source
            .extract(req.headers(), req.uri())?
            .map(Presented::Bearer)),
    }
}

#[cfg(not(feature = "dpop"))]
fn credentials<'r, C, T: TokenSource, R, B>(
    auth: &JwtAuth<C, T, R>,
    req: &'r Request<B>,
) -> Result<Option<Presented<'r>>, AuthError> {
    Ok(auth
        .shared
        .source
        .extract(req.headers(), req.uri())?
        .map(Presented::Bearer))
}

/// Counts an accepted request and, when the token source found its token
/// (not a DPoP presentation), lets the source take it out of the request;
/// the header the source wants on the response, if any.
pub(crate) fn accepted<C, T: TokenSource, R, B>(
    auth: &JwtAuth<C, T, R>,
    req: &mut Request<B>,
    from_source: bool,
) -> Option<crate::token::ResponseHeader> {
    auth.shared.metrics.accepted();
    if !from_source {
        return None;
    }
    auth.shared.source.accepted(req)
}

/// The error for a request without credentials: with DPoP required, its
/// challenge names DPoP only (RFC 9449 §7.1).
fn no_credentials<C, T, R>(auth: &JwtAuth<C, T, R>) -> AuthError {
    let err = AuthError::from(AuthErrorKind::MissingToken);
    #[cfg(feature = "dpop")]
    if let Some(dpop) = auth.shared.dpop.as_ref().filter(|d| d.required()) {
        return dpop.answer(err);
    }
    #[cfg(not(feature = "dpop"))]
    let _ = auth;
    err
}

/// `step`, with its failures carrying the DPoP challenge when the token
/// came with a proof.
#[cfg(feature = "dpop")]
fn answered<C: Send + 'static, T, R>(
    auth: &JwtAuth<C, T, R>,
    presented: &Presented<'_>,
    step: Step<C>,
) -> Step<C> {
    let (Some(dpop), Presented::Dpop(_, _, jti)) = (&auth.shared.dpop, presented) else {
        return step;
    };
    match step {
        Step::Done(Ok(claims)) => Step::Done(dpop.first_use(jti).map(|()| claims)),
        Step::Done(Err(err)) => Step::Done(Err(dpop.answer(err))),
        Step::Pending(fut) => {
            let (later, jti) = (dpop.later(), jti.clone());
            Step::Pending(Box::pin(async move {
                let claims = fut.await.map_err(|err| later.answer(err))?;
                later.first_use(&jti)?;
                Ok(claims)
            }))
        }
    }
}

#[cfg(not(feature = "dpop"))]
fn answered<C, T, R>(_: &JwtAuth<C, T, R>, _: &Presented<'_>, step: Step<C>) -> Step<C> {
    step
}

/// The response for `err` to a request with `headers`: logged, rendered
/// through the one mapping, then through the user's [`OnRejection`].
pub(crate) fn rejection<C, T, R: OnRejection<B>, B>(
    auth: &JwtAuth<C, T, R>,
    err: &AuthError,
    headers: &http::HeaderMap,
) -> Response<B> {
    log::rejected(err);
    let shared = &auth.shared;
    shared.metrics.refused(err.kind());
    let res = challenge::response(err, &shared.challenges, headers);
    shared.on_rejection.respond(err, res)
}
