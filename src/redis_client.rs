//! What the crate's Redis users (revocation lists, shared key-set
//! snapshots, shared key rings) share: a client opened from a URL, and
//! connections whose connect and every response are bounded.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::error::{BuildError, BuildErrorKind};

/// The bound on connecting and on each response.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);

/// A client for `url` (no I/O).
pub(crate) fn open(url: &str) -> Result<redis::Client, BuildError> {
    redis::Client::open(url)
        .map_err(|e| BuildError::with_source(BuildErrorKind::InvalidUrl, "not a Redis URL", e))
}

/// A connection whose connect and every response take at most [`TIMEOUT`].
pub(crate) async fn connect(client: &redis::Client) -> redis::RedisResult<MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(TIMEOUT)
        .set_response_timeout(TIMEOUT);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}
