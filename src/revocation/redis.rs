//! The Redis link of a [`Revocations`] list (feature `redis`): one key
//! per revocation, `<prefix>:jti:<jti>` (value: the token's `exp`, expiring
//! then) and `<prefix>:sub:<sub>` (value: the cutoff, expiring a token
//! lifetime later), and the pub/sub channel `<prefix>:events` carrying
//! `jti <exp> <jti>` and `sub <cutoff> <sub>`.
//!
//! A background task subscribes, then loads every key (SCAN), writes back
//! what this replica holds and Redis lacks, and applies the stream. It
//! pings every second; a failed ping or a closed stream is an outage.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use tokio::time::Instant;

use super::{FailurePolicy, Kind, RevocationError, Revocations, Shared, unix_now};
use crate::error::{BuildError, BuildErrorKind};

/// Connect and command timeouts.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How often the link checks Redis is there.
const PING_EVERY: Duration = Duration::from_secs(1);
/// The longest id accepted from the stream or the store.
const MAX_ID: usize = 1024;

/// Configures a [`Revocations`] list shared through Redis; from
/// [`Revocations::redis`].
#[derive(Debug)]
pub struct RedisRevocations {
    url: String,
    prefix: String,
    policy: FailurePolicy,
    max_outage: Duration,
    max_entries: usize,
    max_lifetime: Duration,
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
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            BuildError::with_source(BuildErrorKind::InvalidUrl, "not a Redis URL", e)
        })?;
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
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Token => "jti",
        Kind::Subject => "sub",
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
    /// `exp`, or a cutoff a token lifetime later.
    fn expires(kind: Kind, time: u64, shared: &Shared) -> u64 {
        match kind {
            Kind::Token => time,
            Kind::Subject => time.saturating_add(shared.max_lifetime.as_secs()),
        }
    }

    async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
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

    /// Writes a revocation to Redis and publishes it.
    pub(crate) async fn publish(
        &self,
        shared: &Shared,
        kind: Kind,
        id: &str,
        time: u64,
    ) -> Result<(), RevocationError> {
        let mut writer = self.writer.lock().await;
        let conn = match writer.as_mut() {
            Some(conn) => conn,
            None => writer.insert(self.connect().await.map_err(RevocationError::store)?),
        };
        let result = write(self, conn, shared, kind, id, time).await;
        if result.is_err() {
            // Reconnect next time.
            *writer = None;
        }
        result.map_err(RevocationError::store)
    }
}

async fn write(
    link: &Link,
    conn: &mut MultiplexedConnection,
    shared: &Shared,
    kind: Kind,
    id: &str,
    time: u64,
) -> redis::RedisResult<()> {
    // A key must expire in the future for SET to keep it.
    let expires = Link::expires(kind, time, shared).max(unix_now() + 1);
    redis::pipe()
        .cmd("SET")
        .arg(link.key(kind, id))
        .arg(time)
        .arg("EXAT")
        .arg(expires)
        .ignore()
        .cmd("PUBLISH")
        .arg(link.channel())
        .arg(format!("{} {time} {id}", kind_name(kind)))
        .ignore()
        .query_async::<()>(conn)
        .await
}

/// The list of `shared`, or `None` once every handle is gone.
fn upgrade(shared: &Weak<Shared>) -> Option<(Arc<Shared>, Revocations)> {
    let shared = shared.upgrade()?;
    let revocations = Revocations {
        shared: Arc::clone(&shared),
    };
    Some((shared, revocations))
}

/// Keeps the list current while any handle lives.
async fn run(weak: Weak<Shared>) {
    let mut down_since = Instant::now();
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some((shared, revocations)) = upgrade(&weak) else {
            return;
        };
        let super::Store::Redis(link) = &shared.store else {
            return;
        };
        let mut loaded = false;
        match session(link, &revocations, &mut loaded).await {
            Ok(()) => crate::log::revocation_stream_lost(None),
            Err(e) => crate::log::revocation_stream_lost(Some(&e)),
        }
        if loaded {
            // Just lost a live stream: the bound runs from now.
            down_since = Instant::now();
            backoff = Duration::from_millis(100);
        }
        let cut_off_at = down_since + link.max_outage;
        drop(shared);
        drop(revocations);
        let now = Instant::now();
        if now >= cut_off_at
            && let Some((shared, _)) = upgrade(&weak)
        {
            shared.current.store(false, Ordering::Release);
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

/// One connected stretch: subscribe, load, write back, then apply the
/// stream until it or a ping fails.
async fn session(
    link: &Link,
    revocations: &Revocations,
    loaded: &mut bool,
) -> redis::RedisResult<()> {
    let mut pubsub = link.client.get_async_pubsub().await?;
    pubsub.subscribe(link.channel()).await?;
    let mut conn = link.connect().await?;
    let complete = load(link, &mut conn, revocations).await?;
    let shared = &revocations.shared;
    let now = unix_now();
    shared.list.purge(now, shared.max_lifetime.as_secs());
    shared.current.store(complete, Ordering::Release);
    *loaded = true;
    let mut stream = pubsub.into_on_message();
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                if let Some((kind, time, id)) = parse(message.get_payload_bytes())
                    && !revocations.record(kind, id, time)
                {
                    shared.current.store(false, Ordering::Release);
                }
            }
            _ = ping.tick() => {
                redis::cmd("PING").query_async::<()>(&mut conn).await?;
                shared.list.purge(unix_now(), shared.max_lifetime.as_secs());
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
    let time = parts.next()?.parse().ok()?;
    let id = parts
        .next()
        .filter(|id| !id.is_empty() && id.len() <= MAX_ID)?;
    Some((kind, time, id))
}

/// Loads every entry of Redis into the list, then writes back the entries
/// of the list that Redis lacks. `false` if the list could not hold them
/// all.
async fn load(
    link: &Link,
    conn: &mut MultiplexedConnection,
    revocations: &Revocations,
) -> redis::RedisResult<bool> {
    let mut complete = true;
    for kind in [Kind::Token, Kind::Subject] {
        let prefix = link.key(kind, "");
        let mut keys: Vec<String> = Vec::new();
        {
            let mut scan = conn.scan_match::<_, String>(format!("{prefix}*")).await?;
            while let Some(key) = scan.next_item().await {
                keys.push(key);
            }
        }
        let mut held = std::collections::HashSet::new();
        for batch in keys.chunks(500) {
            let values: Vec<Option<u64>> = conn.mget(batch).await?;
            for (key, value) in batch.iter().zip(values) {
                let (Some(id), Some(time)) = (key.strip_prefix(&prefix), value) else {
                    continue;
                };
                if id.is_empty() || id.len() > MAX_ID {
                    continue;
                }
                complete &= revocations.record(kind, id, time);
                held.insert(id.to_owned());
            }
        }
        write_back(link, conn, revocations, kind, &held).await?;
    }
    Ok(complete)
}

/// What this replica holds and Redis lost (it restarted empty): written
/// back, so a revocation lives while any replica remembers it.
async fn write_back(
    link: &Link,
    conn: &mut MultiplexedConnection,
    revocations: &Revocations,
    kind: Kind,
    held: &std::collections::HashSet<String>,
) -> redis::RedisResult<()> {
    let shared = &revocations.shared;
    let now = unix_now();
    for (id, time) in shared.list.entries(kind) {
        let live = Link::expires(kind, time, shared) > now;
        if live && !held.contains(&*id) {
            write(link, conn, shared, kind, &id, time).await?;
        }
    }
    Ok(())
}
