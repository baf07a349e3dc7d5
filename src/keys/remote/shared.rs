//! [`SharedSnapshot`]: the key set a fleet shares, and [`RedisSnapshot`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::SavedKeySet;
use crate::error::BoxError;

/// How long a replica that did not get the lock waits for the one that
/// did.
pub(crate) const WAIT: Duration = Duration::from_secs(3);
/// How often it looks meanwhile.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// How long the fetch lock is held at most.
pub(crate) const LOCK: Duration = Duration::from_secs(10);

/// A boxed future of a shared snapshot's operations.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'a>>;

/// Where the replicas of a fleet keep their last good key set, so that
/// replicas starting together fetch it about once, and a replica started
/// during a provider outage verifies with the fleet's last good set.
/// Implement it for another store, or use `RedisSnapshot` (feature
/// `redis`).
///
/// Before fetching from the provider, a key source with a shared snapshot
/// reads it: a set still within its lifetime and newer than its own is
/// installed instead of fetching. Otherwise the source takes the store's
/// short lock and fetches (then stores what it got), or, when another
/// replica holds the lock, waits up to 3 s for that replica's set. If
/// the provider fails, a stored set within its lifetime plus `max_stale`
/// is installed when the source holds nothing newer. A stored set's age
/// (from its fetch time) counts exactly as a live set's would.
pub trait SharedSnapshot: fmt::Debug + Send + Sync + 'static {
    /// The stored set, if any.
    fn load(&self) -> StoreFuture<'_, Option<SavedKeySet>>;
    /// Stores a good set (replacing an older one).
    fn save<'a>(&'a self, set: &'a SavedKeySet) -> StoreFuture<'a, ()>;
    /// Takes the fetch lock for `ttl` unless another replica holds it:
    /// `true` when this replica should fetch.
    fn try_lock(&self, ttl: Duration) -> StoreFuture<'_, bool>;
    /// Gives the fetch lock up (after a fetch, so that another replica may
    /// fetch next time without waiting); only this replica's lock.
    fn unlock(&self) -> StoreFuture<'_, ()>;
}

/// A [`SharedSnapshot`] in Redis (feature `redis`): the set at `key`, the
/// lock at `key` + `:lock` (`SET NX PX`). Connects on first use.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisSnapshot {
    client: redis::Client,
    key: String,
    lock: String,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// This replica's lock value (only its holder deletes the lock).
    token: String,
    /// After a failure Redis is not asked for a while, so that an outage
    /// does not add connect timeouts to every key-set fetch.
    quiet_until: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How long Redis is left alone after a failure.
#[cfg(feature = "redis")]
const QUIET: Duration = Duration::from_secs(30);

/// Deletes the lock only when it holds this replica's value.
#[cfg(feature = "redis")]
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

#[cfg(feature = "redis")]
impl fmt::Debug for RedisSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSnapshot")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "redis")]
impl RedisSnapshot {
    /// The snapshot at `key` of the Redis at `url` (`redis://host:port/`).
    /// No I/O.
    ///
    /// # Errors
    ///
    /// A URL the Redis client refuses, or an empty key.
    pub fn new(url: &str, key: impl Into<String>) -> Result<Self, crate::BuildError> {
        use crate::error::{BuildError, BuildErrorKind};
        let client = crate::redis_client::open(url)?;
        let key = key.into();
        if key.is_empty() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "the snapshot's Redis key is empty",
            ));
        }
        let mut token = [0u8; 16];
        getrandom::fill(&mut token).map_err(|e| {
            BuildError::new(BuildErrorKind::Platform, format!("random source: {e}"))
        })?;
        Ok(Self {
            client,
            lock: format!("{key}:lock"),
            key,
            conn: tokio::sync::Mutex::new(None),
            token: token.iter().map(|b| format!("{b:02x}")).collect(),
            quiet_until: std::sync::Mutex::new(None),
        })
    }

    /// Runs `command` on the connection, connecting first if needed, and
    /// drops the connection after an error (the next call reconnects).
    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, BoxError> {
        let quiet = {
            let until = self.quiet_until.lock().unwrap_or_else(|p| p.into_inner());
            until.is_some_and(|until| std::time::Instant::now() < until)
        };
        if quiet {
            return Err("Redis failed recently; not asked".into());
        }
        let result = self.run_now(command).await;
        if result.is_err() {
            *self.quiet_until.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(std::time::Instant::now() + QUIET);
        }
        result
    }

    async fn run_now<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, BoxError> {
        let mut slot = self.conn.lock().await;
        let conn = match slot.as_mut() {
            Some(conn) => conn,
            None => slot.insert(crate::redis_client::connect(&self.client).await?),
        };
        let result = command.query_async::<T>(conn).await;
        if result.is_err() {
            *slot = None;
        }
        Ok(result?)
    }
}

#[cfg(feature = "redis")]
impl SharedSnapshot for RedisSnapshot {
    fn load(&self) -> StoreFuture<'_, Option<SavedKeySet>> {
        Box::pin(async move {
            let mut get = redis::cmd("GET");
            get.arg(&self.key);
            let text: Option<String> = self.run(get).await?;
            Ok(match text {
                Some(text) => Some(SavedKeySet::from_json(&text)?),
                None => None,
            })
        })
    }

    fn save<'a>(&'a self, set: &'a SavedKeySet) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut put = redis::cmd("SET");
            put.arg(&self.key).arg(set.to_json());
            self.run::<()>(put).await
        })
    }

    fn try_lock(&self, ttl: Duration) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut lock = redis::cmd("SET");
            lock.arg(&self.lock)
                .arg(&self.token)
                .arg("NX")
                .arg("PX")
                .arg(millis);
            let taken: Option<String> = self.run(lock).await?;
            Ok(taken.is_some())
        })
    }

    fn unlock(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut del = redis::cmd("EVAL");
            del.arg(UNLOCK).arg(1).arg(&self.lock).arg(&self.token);
            self.run::<()>(del).await
        })
    }
}
