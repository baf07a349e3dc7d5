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
use crate::service::{accepted, rejection};
use crate::token::{ResponseHeader, TokenSource};
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
            // Whether the token source found the token.
            from_source: bool,
        },
        /// The token verified: the inner service is answering.
        Calling {
            #[pin]
            fut: S::Future,
            add: Option<ResponseHeader>,
        },
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
        from_source: bool,
    ) -> Self {
        Self {
            state: State::Verifying {
                verification,
                request: Some((req, inner)),
                auth,
                from_source,
            },
        }
    }
}

impl<S, ReqBody, ResBody, C, T, R> Future for PendingKey<S, ReqBody, C, T, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Send + Sync + 'static,
    T: TokenSource,
    R: OnRejection<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            let (fut, add) = match state.as_mut().project() {
                PendingProj::Calling { fut, add } => {
                    let answer = ready!(fut.poll(cx));
                    return Poll::Ready(ResponseHeader::added(add.take(), answer));
                }
                PendingProj::Verifying {
                    verification,
                    request,
                    auth,
                    from_source,
                } => {
                    let verified = ready!(verification.as_mut().poll(cx));
                    // Polled again after it answered breaks the `Future`
                    // contract; no request data can lead here.
                    #[allow(clippy::panic)]
                    let Some((mut req, mut inner)) = request.take() else {
                        panic!("PendingKey polled after completion")
                    };
                    let claims = match verified {
                        Ok(claims) => claims,
                        Err(err) => {
                            return Poll::Ready(Ok(rejection(auth, &err, req.headers())));
                        }
                    };
                    req.extensions_mut().insert(claims);
                    let add = accepted(auth, &mut req, *from_source);
                    (inner.call(req), add)
                }
            };
            state.set(State::Calling { fut, add });
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
