//! [`PendingKey`]: the rest of a request whose verification waits for I/O:
//! a key set fetch, an async check of the claims, or both.
//!
//! It holds the request, the inner service that was driven ready, and the
//! rest of the verification; once that is done it calls the inner service,
//! or answers the rejection. It is boxed (as is the
//! verification it waits for: the pending path is the rare one) but needs
//! nothing to be `Send` or `'static`: the response future is `Send` exactly when the inner service,
//! its future and the request body are, so a layer with static keys puts no
//! such bound on a `!Send` service (a `LocalSet` server, for one).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::challenge::OnRejection;
use crate::layer::JwtAuth;
use crate::service::rejection;
use crate::verify::VerifyFuture;

pin_project! {
    /// The pending state of [`JwtAuthService`](crate::JwtAuthService)'s
    /// response future while a key set is fetched; see
    /// [`ResponseFuture`](crate::ResponseFuture).
    pub struct PendingKey<S, ReqBody, C, T, R>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody, C, T, R>,
    }
}

pin_project! {
    #[project = PendingProj]
    enum State<S, ReqBody, C, T, R>
    where
        S: Service<Request<ReqBody>>,
    {
        /// Waiting for the verification to finish.
        Verifying {
            verification: VerifyFuture<C>,
            request: Option<(Request<ReqBody>, S)>,
            auth: JwtAuth<C, T, R>,
        },
        /// The token verified: the inner service is answering.
        Calling { #[pin] fut: S::Future },
    }
}

impl<S, ReqBody, C, T, R> PendingKey<S, ReqBody, C, T, R>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn new(
        verification: VerifyFuture<C>,
        req: Request<ReqBody>,
        inner: S,
        auth: JwtAuth<C, T, R>,
    ) -> Self {
        Self {
            state: State::Verifying {
                verification,
                request: Some((req, inner)),
                auth,
            },
        }
    }
}

impl<S, ReqBody, ResBody, C, T, R> Future for PendingKey<S, ReqBody, C, T, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Send + Sync + 'static,
    R: OnRejection<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            let fut = match state.as_mut().project() {
                PendingProj::Calling { fut } => return fut.poll(cx),
                PendingProj::Verifying {
                    verification,
                    request,
                    auth,
                } => {
                    let verified = ready!(verification.as_mut().poll(cx));
                    let (claims, (mut req, mut inner)) = match (verified, request.take()) {
                        (Ok(claims), Some(request)) => (claims, request),
                        (Err(err), _) => return Poll::Ready(Ok(rejection(auth, &err))),
                        // Polled again after it answered breaks the
                        // `Future` contract; no request data can lead here.
                        #[allow(clippy::panic)]
                        (Ok(_), None) => panic!("PendingKey polled after completion"),
                    };
                    req.extensions_mut().insert(claims);
                    inner.call(req)
                }
            };
            state.set(State::Calling { fut });
        }
    }
}

impl<S, ReqBody, C, T, R> fmt::Debug for PendingKey<S, ReqBody, C, T, R>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.state {
            State::Verifying { .. } => "PendingKey::Verifying",
            State::Calling { .. } => "PendingKey::Calling",
        })
    }
}
