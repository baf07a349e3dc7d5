//! The Redis link of a [`Revocations`] list (feature `redis`): one key
//! per revocation, `<prefix>:jti:<jti>` (value: the token's `exp`, expiring
//! then) and `<prefix>:sub:<sub>` (value: the cutoff, expiring a token
//! lifetime later), and the pub/sub channel `<prefix>:events` carrying
//! `jti <exp> <jti>` and `sub <cutoff> <sub>`.
//!
//! A background task subscribes, then loads every key (SCAN), writes back
//! what this replica holds and Redis lacks, and applies the stream. It
//! pings down the subscribed connection every second; a failed ping or a
//! closed stream is an outage.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::MultiplexedConnection;
use tokio::time::Instant;

use super::{FailurePolicy, Kind, MARGIN, MAX_ID, MAX_TIME, RevocationError, Revocations, Shared};
use crate::error::{BoxError, BuildError, BuildErrorKind};
use crate::redis_client::{self, TIMEOUT};
use crate::validation::unix_now;

/// How often the link checks Redis is there.
const PING_EVERY: Duration = Duration::from_secs(1);
/// Keys per SCAN step and per write-back batch.
const BATCH: usize = 500;

/// Sets a revocation key unless it holds a later time, then publishes the
/// revocation: `KEYS[1]` the key, `ARGV` the time, the expiry, the
/// channel and the message.
const SET_LATER: &str = r"
local held = tonumber(redis.call('GET', KEYS[1]) or '-1') or -1
if held < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
";

/// Configures a [`Revocations`] list shared through Redis; from
/// [`Revocations::redis`].
pub struct RedisRevocations {
    url: String,
    prefix: String,
    policy: FailurePolicy,
    max_outage: Duration,
    max_entries: usize,
    max_lifetime: Duration,
}

impl fmt::Debug for RedisRevocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password.
        f.debug_struct("RedisRevocations")
            .field("prefix", &self.prefix)
            .field("policy", &self.policy)
            .field("max_outage", &self.max_outage)
            .field("max_entries", &self.max_entries)
            .field("max_lifetime", &self.max_lifetime)
            .finish_non_exhaustive()
    }
}

impl RedisRevocations {
    pub(crate) fn new(url: String) -> Self {
        Self {
            url,
            prefix: "jwt-layer:revoked".to_owned(),
            policy: FailurePolicy::Closed,
            max_outage: Duration::from_secs(10),
            max_entries: super::DEFAULT_MAX_ENTRIES,
            max_lifetime: super::DEFAULT_MAX_LIFETIME,
        }
    }

    /// The prefix of keys and channel (default `jwt-layer:revoked`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// What to do while the list cannot be trusted (default
    /// [`FailurePolicy::Closed`]: 503).
    #[must_use]
    pub fn failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How long the stream may be down before the failure policy applies
    /// (default 10 s, at most 10 min).
    #[must_use]
    pub fn max_outage(mut self, bound: Duration) -> Self {
        self.max_outage = bound;
        self
    }

    /// The most entries held (default 1,000,000).
    #[must_use]
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }

    /// How long "log out everywhere" cutoffs are kept: the longest lifetime
    /// of a token this API accepts (default 24 h).
    #[must_use]
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// The list. No I/O: the link starts with the first request, or with
    /// [`Revocations::ready`].
    ///
    /// # Errors
    ///
    /// A URL the Redis client refuses, an empty prefix, or a bound out of
    /// range.
    pub fn build(self) -> Result<Revocations, BuildError> {
        let client = crate::redis_client::open(&self.url)?;
        let bad = |what: &str| BuildError::new(BuildErrorKind::InvalidSetting, what.to_owned());
        if self.prefix.is_empty() || self.prefix.len() > 200 {
            return Err(bad("the Redis prefix must be 1 to 200 bytes"));
        }
        if self.max_outage.is_zero() || self.max_outage > Duration::from_secs(600) {
            return Err(bad("max_outage must be more than 0 and at most 10 minutes"));
        }
        if self.max_entries == 0 || self.max_lifetime.is_zero() {
            return Err(bad("max_entries and max_token_lifetime must be positive"));
        }
        let link = Link {
            client,
            prefix: self.prefix.into(),
            max_outage: self.max_outage,
            started: AtomicBool::new(false),
            writer: tokio::sync::Mutex::new(None),
            unpublished: Mutex::new(HashMap::new()),
        };
        Ok(Revocations::from_parts(
            link,
            self.policy,
            self.max_entries,
            self.max_lifetime,
        ))
    }
}

/// The connection to Redis of one list.
pub(crate) struct Link {
    client: redis::Client,
    prefix: Arc<str>,
    max_outage: Duration,
    started: AtomicBool,
    /// The connection revocations are written with (made on first use).
    writer: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// Revocations this replica made that Redis has not taken yet: written
    /// again every second while connected.
    unpublished: Mutex<HashMap<(Kind, Box<str>), u64>>,
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Token => "jti",
        Kind::Subject => "sub",
    }
}

/// A Redis call bounded by [`TIMEOUT`] (a connect or subscribe that hangs
/// on a blackholed host is an error like any other).
async fn bounded<T, E: Into<BoxError>>(
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, BoxError> {
    match tokio::time::timeout(TIMEOUT, call).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err("Redis did not answer in time".into()),
    }
}

impl Link {
    fn channel(&self) -> String {
        format!("{}:events", self.prefix)
    }

    fn key(&self, kind: Kind, id: &str) -> String {
        format!("{}:{}:{id}", self.prefix, kind_name(kind))
    }

    /// When an entry stops mattering (seconds since the epoch): a token's
    /// `exp`, or a cutoff a token lifetime later, plus the margin for
    /// verifiers' leeway.
    fn expires(kind: Kind, time: u64, shared: &Shared) -> u64 {
        match kind {
            Kind::Token => time,
            Kind::Subject => time.saturating_add(shared.max_lifetime.as_secs()),
        }
        .saturating_add(MARGIN)
        .min(MAX_TIME)
    }

    async fn connect(&self) -> Result<MultiplexedConnection, BoxError> {
        bounded(redis_client::connect(&self.client)).await
    }

    /// Starts the background task once, inside a tokio runtime.
    pub(crate) fn start(&self, shared: &Arc<Shared>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(run(Arc::downgrade(shared)));
    }

    /// Writes a revocation to Redis and publishes it; when that fails, it
    /// is kept to be written again once Redis answers.
    pub(crate) async fn publish(
        &self,
        shared: &Shared,
        kind: Kind,
        id: &str,
        time: u64,
    ) -> Result<(), RevocationError> {
        let mut writer = self.writer.lock().await;
        let written = match writer.as_mut() {
            Some(conn) => write(self, conn, shared, &[(kind, id, time)]).await,
            None => match self.connect().await {
                Ok(conn) => write(self, writer.insert(conn), shared, &[(kind, id, time)]).await,
                Err(e) => Err(e),
            },
        };
        if let Err(e) = written {
            // Reconnect next time; keep the revocation for the task.
            *writer = None;
            self.unpublished
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((kind, Box::from(id)), time);
            return Err(RevocationError::store(e));
        }
        Ok(())
    }

    /// Writes what `publish` could not.
    async fn flush(
        &self,
        conn: &mut MultiplexedConnection,
        shared: &Shared,
    ) -> Result<(), BoxError> {
        let pending: Vec<((Kind, Box<str>), u64)> = {
            let mut map = self.unpublished.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().collect()
        };
        for batch in pending.chunks(BATCH) {
            let entries: Vec<(Kind, &str, u64)> =
                batch.iter().map(|((k, id), t)| (*k, &**id, *t)).collect();
            if let Err(e) = write(self, conn, shared, &entries).await {
                let mut map = self.unpublished.lock().unwrap_or_else(|p| p.into_inner());
                map.extend(pending.iter().cloned());
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Stores and publishes `entries`, each unless Redis holds a later time
/// (one round trip).
async fn write(
    link: &Link,
    conn: &mut MultiplexedConnection,
    shared: &Shared,
    entries: &[(Kind, &str, u64)],
) -> Result<(), BoxError> {
    let channel = link.channel();
    let mut pipe = redis::pipe();
    for &(kind, id, time) in entries {
        // A key must expire in the future for SET to keep it.
        let expires = Link::expires(kind, time, shared).max(unix_now() + 1);
        let message = format!("{} {time} {id}", kind_name(kind));
        pipe.cmd("EVAL")
            .arg(SET_LATER)
            .arg(1)
            .arg(link.key(kind, id))
            .arg(time)
            .arg(expires)
            .arg(&channel)
            .arg(message)
            .ignore();
    }
    bounded(pipe.query_async::<()>(conn)).await
}

/// Keeps the list current while any handle lives.
async fn run(weak: Weak<Shared>) {
    let mut down_since = Instant::now();
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let super::Store::Redis(link) = &shared.store else {
            return;
        };
        let (link, max_outage) = (Arc::clone(link), link.max_outage);
        drop(shared);
        let cut_off_at = down_since + max_outage;
        let loaded = AtomicBool::new(false);
        let result = {
            let session = session(&link, &weak, &loaded);
            tokio::pin!(session);
            tokio::select! {
                result = &mut session => result,
                // Stuck connecting past the bound: the policy applies now.
                () = tokio::time::sleep_until(cut_off_at) => {
                    if !loaded.load(Ordering::Acquire) {
                        set_current(&weak, false);
                    }
                    session.await
                }
            }
        };
        crate::log::revocation_stream_lost(result.as_ref().err().map(|e| &**e as _));
        if loaded.load(Ordering::Acquire) {
            // Just lost a live stream: the bound runs from now.
            down_since = Instant::now();
            backoff = Duration::from_millis(100);
        }
        let now = Instant::now();
        let cut_off_at = down_since + max_outage;
        if now >= cut_off_at {
            set_current(&weak, false);
        }
        // Wake at the bound to apply the policy on time.
        let wait = if now < cut_off_at {
            backoff.min(cut_off_at - now)
        } else {
            backoff
        };
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

fn set_current(weak: &Weak<Shared>, current: bool) {
    if let Some(shared) = weak.upgrade() {
        shared.current.store(current, Ordering::Release);
    }
}

/// One connected stretch: subscribe, load, write back, then apply the
/// stream until it or a ping fails, or every handle is gone.
async fn session(link: &Link, weak: &Weak<Shared>, loaded: &AtomicBool) -> Result<(), BoxError> {
    let mut pubsub = bounded(link.client.get_async_pubsub()).await?;
    bounded(pubsub.subscribe(link.channel())).await?;
    let mut conn = link.connect().await?;
    {
        let Some(shared) = weak.upgrade() else {
            return Ok(());
        };
        let revocations = Revocations { shared };
        let complete = load(link, &mut conn, &revocations).await?;
        loaded.store(true, Ordering::Release);
        link.flush(&mut conn, &revocations.shared).await?;
        let shared = &revocations.shared;
        shared.list.purge(unix_now(), shared.max_lifetime.as_secs());
        shared.current.store(complete, Ordering::Release);
    }
    // The ping goes down the subscribed connection itself: a half-open
    // stream would otherwise look healthy while no message arrives.
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                let Some(shared) = weak.upgrade() else { return Ok(()) };
                if let Some((kind, time, id)) = parse(message.get_payload_bytes()) {
                    Revocations { shared }.record(kind, id, time);
                }
            }
            _ = ping.tick() => {
                bounded(sink.ping::<redis::Value>()).await?;
                let Some(shared) = weak.upgrade() else { return Ok(()) };
                link.flush(&mut conn, &shared).await?;
                shared.list.purge(unix_now(), shared.max_lifetime.as_secs());
                if !shared.current.load(Ordering::Acquire) {
                    // It overflowed: reload once room was made.
                    return Ok(());
                }
            }
        }
    }
}

/// `jti <time> <id>` or `sub <time> <id>`.
fn parse(payload: &[u8]) -> Option<(Kind, u64, &str)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.splitn(3, ' ');
    let kind = match parts.next()? {
        "jti" => Kind::Token,
        "sub" => Kind::Subject,
        _ => return None,
    };
    let time = parts.next()?.parse::<u64>().ok()?.min(MAX_TIME);
    let id = parts
        .next()
        .filter(|id| !id.is_empty() && id.len() <= MAX_ID)?;
    Some((kind, time, id))
}

/// Every key under `prefix`, read as bytes (a key that is not UTF-8 is
/// skipped); errors end the load instead of shortening it.
async fn scan(conn: &mut MultiplexedConnection, prefix: &str) -> Result<Vec<String>, BoxError> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = bounded(
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(BATCH)
                .query_async(conn),
        )
        .await?;
        keys.extend(batch.into_iter().filter_map(|k| String::from_utf8(k).ok()));
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// Loads every entry of Redis into the list, then writes back the entries
/// of the list that Redis lacks or holds with an earlier time. `false` if
/// the list could not hold them all. Values that are not times are
/// skipped.
async fn load(
    link: &Link,
    conn: &mut MultiplexedConnection,
    revocations: &Revocations,
) -> Result<bool, BoxError> {
    let mut complete = true;
    for kind in [Kind::Token, Kind::Subject] {
        let prefix = link.key(kind, "");
        let keys = scan(conn, &prefix).await?;
        let mut held: HashMap<String, u64> = HashMap::new();
        for batch in keys.chunks(BATCH) {
            let values: Vec<Option<String>> =
                bounded(redis::cmd("MGET").arg(batch).query_async(conn)).await?;
            for (key, value) in batch.iter().zip(values) {
                let id = key.strip_prefix(&prefix).unwrap_or_default();
                let time = value.and_then(|v| v.parse::<u64>().ok());
                let (false, Some(time)) = (id.is_empty() || id.len() > MAX_ID, time) else {
                    continue;
                };
                complete &= revocations.record(kind, id, time);
                held.insert(id.to_owned(), time);
            }
        }
        write_back(link, conn, revocations, kind, &held).await?;
    }
    Ok(complete)
}

/// What this replica holds and Redis lost (it restarted empty) or holds
/// with an earlier time: written back, so a revocation lives while any
/// replica remembers it.
async fn write_back(
    link: &Link,
    conn: &mut MultiplexedConnection,
    revocations: &Revocations,
    kind: Kind,
    held: &HashMap<String, u64>,
) -> Result<(), BoxError> {
    let shared = &revocations.shared;
    let now = unix_now();
    let missing: Vec<(Box<str>, u64)> = shared
        .list
        .entries(kind)
        .into_iter()
        .filter(|(id, time)| {
            Link::expires(kind, *time, shared) > now && held.get(&**id).is_none_or(|t| t < time)
        })
        .collect();
    for batch in missing.chunks(BATCH) {
        let entries: Vec<(Kind, &str, u64)> =
            batch.iter().map(|(id, t)| (kind, &**id, *t)).collect();
        write(link, conn, shared, &entries).await?;
    }
    Ok(())
}
