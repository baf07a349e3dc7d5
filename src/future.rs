//! The response future shared by the crate's services.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::token::ResponseHeader;

/// A boxed response future, the default for the pending state of
/// [`ResponseFuture`] (which [`AuthorizeService`](crate::AuthorizeService)
/// never enters).
pub type BoxResponseFuture<B, E> = dyn Future<Output = Result<Response<B>, E>> + Send;

pin_project! {
    /// Response future of [`JwtAuthService`](crate::JwtAuthService) and
    /// [`AuthorizeService`](crate::AuthorizeService).
    ///
    /// Requests decided without I/O (a cached or static key, or a
    /// rejection) never box: the future is the inner service's future or a
    /// ready response. Only a request that must wait for a key to be
    /// fetched boxes its pending state `P` (for `JwtAuthService`, a
    /// [`PendingKey`](crate::PendingKey)), which is `Send` exactly when the
    /// inner service, its future and the request body are.
    pub struct ResponseFuture<F, B, E, P: ?Sized = BoxResponseFuture<B, E>> {
        #[pin]
        kind: Kind<F, B, E, P>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E, P: ?Sized> {
        Inner {
            #[pin]
            fut: F,
            // A header the token source asked for (boxed: rare, and the
            // future stays small).
            add: Option<Box<ResponseHeader>>,
        },
        Ready { res: Option<Response<B>>, _error: PhantomData<fn() -> E> },
        Pending { fut: Pin<Box<P>> },
    }
}

impl<F, B, E, P: ?Sized> ResponseFuture<F, B, E, P> {
    pub(crate) fn inner(fut: F) -> Self {
        Self::inner_adding(fut, None)
    }

    /// The inner service's future, its response to carry `add`.
    pub(crate) fn inner_adding(fut: F, add: Option<ResponseHeader>) -> Self {
        Self {
            kind: Kind::Inner {
                fut,
                add: add.map(Box::new),
            },
        }
    }

    pub(crate) fn ready(res: Response<B>) -> Self {
        Self {
            kind: Kind::Ready {
                res: Some(res),
                _error: PhantomData,
            },
        }
    }

    pub(crate) fn pending(fut: Pin<Box<P>>) -> Self {
        Self {
            kind: Kind::Pending { fut },
        }
    }
}

impl<F, B, E, P> Future for ResponseFuture<F, B, E, P>
where
    F: Future<Output = Result<Response<B>, E>>,
    P: Future<Output = Result<Response<B>, E>> + ?Sized,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { fut, add } => {
                let answer = std::task::ready!(fut.poll(cx));
                Poll::Ready(ResponseHeader::added(add.take().map(|h| *h), answer))
            }
            KindProj::Ready { res, .. } => match res.take() {
                Some(res) => Poll::Ready(Ok(res)),
                // Polling a finished future breaks the `Future` contract; no
                // request data can lead here.
                #[allow(clippy::panic)]
                None => panic!("ResponseFuture polled after completion"),
            },
            KindProj::Pending { fut } => fut.as_mut().poll(cx),
        }
    }
}

impl<F, B, E, P: ?Sized> fmt::Debug for ResponseFuture<F, B, E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Ready { .. } => "Ready",
            Kind::Pending { .. } => "Pending",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
