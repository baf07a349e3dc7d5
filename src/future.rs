//! The response future shared by the crate's services.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

/// A boxed response future, used only when a key must be fetched first.
pub(crate) type BoxResponseFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send + 'static>>;

pin_project! {
    /// Response future of [`JwtAuthService`](crate::JwtAuthService) and
    /// [`AuthorizeService`](crate::AuthorizeService).
    ///
    /// Requests decided without I/O (a cached or static key, or a
    /// rejection) never box: the future is the inner service's future or a
    /// ready response.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        Inner { #[pin] fut: F },
        Ready { res: Option<Response<B>> },
        Boxed { fut: BoxResponseFuture<B, E> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn inner(fut: F) -> Self {
        Self {
            kind: Kind::Inner { fut },
        }
    }

    pub(crate) fn ready(res: Response<B>) -> Self {
        Self {
            kind: Kind::Ready { res: Some(res) },
        }
    }

    pub(crate) fn boxed(fut: BoxResponseFuture<B, E>) -> Self {
        Self {
            kind: Kind::Boxed { fut },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { fut } => fut.poll(cx),
            KindProj::Ready { res } => match res.take() {
                Some(res) => Poll::Ready(Ok(res)),
                // Polling a finished future breaks the `Future` contract; no
                // request data can lead here.
                #[allow(clippy::panic)]
                None => panic!("ResponseFuture polled after completion"),
            },
            KindProj::Boxed { fut } => fut.as_mut().poll(cx),
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Ready { .. } => "Ready",
            Kind::Boxed { .. } => "Boxed",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
