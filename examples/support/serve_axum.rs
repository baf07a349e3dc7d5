//! How every axum example serves: the ready line once listening, then the
//! app until SIGINT or SIGTERM, shutting down gracefully.

use axum::Router;
use tokio::net::TcpListener;

/// Prints the ready line for `listener`, then serves `app` on it until a
/// shutdown signal.
pub(crate) async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    crate::serve::announce(listener.local_addr()?)?;
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::serve::signal())
        .await
}
