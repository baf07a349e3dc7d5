//! The remote key set's cache state machine (ARCHITECTURE.md, "The remote key set"), independent of
//! HTTP: it drives any [`Fetch`] and keeps time with `tokio::time::Instant`,
//! so tests run it on a paused clock.
//!
//! - The last good key set is an immutable snapshot behind an `ArcSwap`:
//!   reads never wait, not even behind a refresh.
//! - At most one fetch is in flight; it runs in its own task, so a dropped
//!   request cannot cancel it, and every waiter shares its outcome.
//! - A background task refreshes ahead of expiry (with jitter) and retries
//!   failures with exponential backoff.
//! - Unknown `kid`s trigger a refetch at once, then at most once per
//!   cooldown and a budget per window; a `kid` still unknown after a fresh
//!   fetch is remembered as absent for a while.
//! - A failed fetch never replaces a good set; the last good set is served
//!   stale for up to `max_stale` after its lifetime ends.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use jsonwebtoken::Algorithm;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::fetch::Fetch;
use super::format::{KeySetFormat, parse_key_set};
use super::saved::{Persistence, SavedKeySet};
use super::{JwksError, JwksErrorKind};
use crate::error::{AuthError, AuthErrorKind};
use crate::keys::Lookup;
use crate::keys::index::{KeyIndex, Miss};
use crate::keys::jwk::JwkPolicy;
use crate::log::jwks as log;

/// The longest a save of a good fetch may take before it is given up
/// (logged; the file keeps its previous content or gets the next one).
const SAVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Cache settings; see the builder of [`RemoteJwks`](super::RemoteJwks).
#[derive(Clone, Debug)]
pub(crate) struct CacheConfig {
    pub(crate) default_ttl: Duration,
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) refresh_ahead: f64,
    pub(crate) jitter: f64,
    pub(crate) kid_cooldown: Duration,
    pub(crate) kid_budget: usize,
    pub(crate) kid_window: Duration,
    pub(crate) negative_ttl: Duration,
    pub(crate) max_negative: usize,
    pub(crate) max_stale: Duration,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) max_keys: usize,
    pub(crate) format: KeySetFormat,
    /// The `source` label of this set's metrics (default: its label).
    pub(crate) metrics_name: Option<Arc<str>>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            refresh_ahead: 0.8,
            jitter: 0.1,
            kid_cooldown: Duration::from_secs(30),
            kid_budget: 6,
            kid_window: Duration::from_secs(600),
            negative_ttl: Duration::from_secs(300),
            max_negative: 1024,
            max_stale: Duration::from_secs(24 * 3600),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_keys: 100,
            format: KeySetFormat::Auto,
            metrics_name: None,
        }
    }
}

/// One good key set and its times.
#[derive(Debug)]
struct Snapshot {
    index: KeyIndex,
    /// When this process installed the set.
    loaded_at: Instant,
    /// How old the set was then (zero for a fetch; a saved set's age).
    age_at_load: Duration,
    fetched_wall: SystemTime,
    lifetime: Duration,
    fresh_until: Instant,
    usable_until: Instant,
    /// Installed from a saved set: fetch a live one at once.
    seeded: bool,
}

impl Snapshot {
    fn age(&self, now: Instant) -> Duration {
        self.age_at_load + now.saturating_duration_since(self.loaded_at)
    }
}

/// The outcome of one fetch, shared by all its waiters.
type Outcome = Option<Result<(), JwksError>>;

#[derive(Debug, Default)]
struct Control {
    inflight: Option<watch::Receiver<Outcome>>,
    kid_refetches: VecDeque<Instant>,
    negative: HashMap<Box<str>, Instant>,
    consecutive_failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
    /// The `kid` the fetch about to run is for (a kid-triggered refetch):
    /// a shared snapshot without it does not stand in for the fetch.
    kid_wanted: Option<Box<str>>,
}

#[derive(Debug, Default)]
struct Stats {
    fetches: AtomicU64,
    failures: AtomicU64,
    kid_misses: AtomicU64,
}

/// The shared cache.
pub(crate) struct Cache {
    config: CacheConfig,
    fetcher: Box<dyn Fetch>,
    snapshot: ArcSwapOption<Snapshot>,
    control: Mutex<Control>,
    stats: Stats,
    refresher_started: AtomicBool,
    /// Wakes the refresher when a fetch it did not start fails, so the
    /// retry follows the backoff instead of the planned refresh.
    wake: Arc<Notify>,
    /// Whether the "serving stale keys" warning was logged since the last
    /// good fetch (logged once per episode, not per request).
    stale_logged: AtomicBool,
    label: Box<str>,
    persistence: Persistence,
    metrics: crate::metrics::KeySetMetrics,
}

/// A point-in-time view of the cache, for health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksStatus {
    /// When the current key set was fetched (wall clock), if ever.
    pub last_success: Option<SystemTime>,
    /// How long ago the current key set was fetched.
    pub age: Option<Duration>,
    /// The lifetime the current key set was given.
    pub lifetime: Option<Duration>,
    /// Usable keys in the current set.
    pub key_count: usize,
    /// Fetches started.
    pub fetches: u64,
    /// Fetches that failed.
    pub failures: u64,
    /// Lookups whose `kid` the current set did not hold.
    pub kid_misses: u64,
    /// The set's lifetime has ended and refreshing keeps failing: keys are
    /// served stale.
    pub serving_stale: bool,
    /// No usable key set: requests get 503.
    pub unavailable: bool,
    /// The last fetch error, if the last fetch failed.
    pub last_error: Option<String>,
}

impl JwksStatus {
    /// Ready for traffic: a usable key set is cached.
    pub fn is_ready(&self) -> bool {
        !self.unavailable
    }
}

impl Cache {
    pub(crate) fn new(
        config: CacheConfig,
        fetcher: Box<dyn Fetch>,
        label: String,
        persistence: Persistence,
    ) -> Self {
        let metrics_name = config.metrics_name.clone();
        let metrics_name = metrics_name.unwrap_or_else(|| Arc::from(label.as_str()));
        Self {
            metrics: crate::metrics::KeySetMetrics::new(metrics_name),
            config,
            fetcher,
            snapshot: ArcSwapOption::empty(),
            control: Mutex::new(Control::default()),
            stats: Stats::default(),
            refresher_started: AtomicBool::new(false),
            wake: Arc::new(Notify::new()),
            stale_logged: AtomicBool::new(false),
            label: label.into_boxed_str(),
            persistence,
        }
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        // A panic while holding this lock cannot leave the plain data in a
        // state worse than stale; keep serving.
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn usable(&self, now: Instant) -> Option<Arc<Snapshot>> {
        self.snapshot.load_full().filter(|s| now < s.usable_until)
    }

    fn backoff(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(16);
        self.config
            .backoff_min
            .saturating_mul(1u32 << exp)
            .min(self.config.backoff_max)
    }

    fn unavailable(&self, now: Instant, ctl: &Control) -> AuthError {
        let wait = ctl.retry_at.map_or(self.config.backoff_min, |at| {
            at.saturating_duration_since(now)
        });
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AuthError::new(AuthErrorKind::KeysUnavailable).with_retry_after(secs.max(1))
    }

    pub(crate) fn status(&self) -> JwksStatus {
        let now = Instant::now();
        let snap = self.snapshot.load_full();
        let ctl = self.control();
        JwksStatus {
            last_success: snap.as_ref().map(|s| s.fetched_wall),
            age: snap.as_ref().map(|s| s.age(now)),
            lifetime: snap.as_ref().map(|s| s.lifetime),
            key_count: snap.as_ref().map_or(0, |s| s.index.len()),
            fetches: self.stats.fetches.load(Ordering::Relaxed),
            failures: self.stats.failures.load(Ordering::Relaxed),
            kid_misses: self.stats.kid_misses.load(Ordering::Relaxed),
            serving_stale: snap
                .as_ref()
                .is_some_and(|s| now >= s.fresh_until && now < s.usable_until),
            unavailable: snap.as_ref().is_none_or(|s| now >= s.usable_until),
            last_error: (ctl.consecutive_failures > 0)
                .then(|| ctl.last_error.clone())
                .flatten(),
        }
    }

    /// Looks up a key; answers at once unless a fetch is needed.
    pub(crate) fn lookup(self: &Arc<Self>, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let now = Instant::now();
        let usable = self.usable(now).or_else(|| {
            self.ensure_seeded();
            self.usable(now)
        });
        if let Some(snap) = usable {
            if snap.seeded {
                // Seeded outside a runtime (a health check on a plain
                // thread), the live fetch may not have started yet.
                self.ensure_refresher();
            }
            // Logged and counted when keys turn stale, not per lookup: the
            // gauges are shared by every core.
            if now >= snap.fresh_until && !self.stale_logged.swap(true, Ordering::Relaxed) {
                log::serving_stale(&self.label, snap.age(now).as_secs());
                self.metrics.used(snap.age(now), true);
            }
            match snap.index.find(kid, alg) {
                Ok(key) => return Lookup::Ready(Ok(key)),
                Err(Miss::Final(kind)) => return Lookup::Ready(Err(kind.into())),
                Err(Miss::UnknownKid) => {}
            }
            self.stats.kid_misses.fetch_add(1, Ordering::Relaxed);
            let Some(kid) = kid else {
                return Lookup::Ready(Err(AuthErrorKind::UnknownKey.into()));
            };
            return self.unknown_kid(now, kid, alg);
        }
        let rx = {
            let mut ctl = self.control();
            match ctl.inflight.clone() {
                Some(rx) => rx,
                None => {
                    if ctl.retry_at.is_some_and(|at| now < at) {
                        return Lookup::Ready(Err(self.unavailable(now, &ctl)));
                    }
                    match self.start_fetch(&mut ctl) {
                        Some(rx) => rx,
                        None => return Lookup::Ready(Err(self.unavailable(now, &ctl))),
                    }
                }
            }
        };
        let this = Arc::clone(self);
        let kid = kid.map(str::to_owned);
        Lookup::Pending(Box::pin(async move {
            let _ = wait(rx).await;
            let now = Instant::now();
            match this.usable(now) {
                Some(snap) => snap
                    .index
                    .find(kid.as_deref(), alg)
                    .map_err(|miss| match miss {
                        Miss::UnknownKid => AuthErrorKind::UnknownKey.into(),
                        Miss::Final(kind) => kind.into(),
                    }),
                None => Err(this.unavailable(now, &this.control())),
            }
        }))
    }

    /// A `kid` the usable set does not hold.
    fn unknown_kid(self: &Arc<Self>, now: Instant, kid: &str, alg: Algorithm) -> Lookup {
        let rx = {
            let mut ctl = self.control();
            if ctl.negative.get(kid).is_some_and(|until| now < *until) {
                return Lookup::Ready(Err(AuthErrorKind::UnknownKey.into()));
            }
            match ctl.inflight.clone() {
                Some(rx) => rx,
                None if self.kid_refetch_allowed(&mut ctl, now) => {
                    ctl.kid_refetches.push_back(now);
                    ctl.kid_wanted = Some(Box::from(kid));
                    match self.start_fetch(&mut ctl) {
                        Some(rx) => rx,
                        None => return Lookup::Ready(Err(AuthErrorKind::UnknownKey.into())),
                    }
                }
                None => return Lookup::Ready(Err(AuthErrorKind::UnknownKey.into())),
            }
        };
        log::unknown_kid_refetch(&self.label);
        let this = Arc::clone(self);
        let kid = kid.to_owned();
        Lookup::Pending(Box::pin(async move {
            let outcome = wait(rx).await;
            let now = Instant::now();
            let found = this
                .usable(now)
                .map(|snap| snap.index.find(Some(&kid), alg));
            match found {
                Some(Ok(key)) => Ok(key),
                Some(Err(Miss::Final(kind))) => Err(kind.into()),
                Some(Err(Miss::UnknownKid)) | None => {
                    if matches!(outcome, Some(Ok(()))) {
                        this.remember_absent(kid, now);
                    }
                    Err(AuthErrorKind::UnknownKey.into())
                }
            }
        }))
    }

    fn kid_refetch_allowed(&self, ctl: &mut Control, now: Instant) -> bool {
        let window = self.config.kid_window;
        while ctl
            .kid_refetches
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            ctl.kid_refetches.pop_front();
        }
        let cooled = ctl
            .kid_refetches
            .back()
            .is_none_or(|t| now.saturating_duration_since(*t) >= self.config.kid_cooldown);
        cooled && ctl.kid_refetches.len() < self.config.kid_budget
    }

    fn remember_absent(&self, kid: String, now: Instant) {
        let mut ctl = self.control();
        if ctl.negative.len() >= self.config.max_negative {
            ctl.negative.retain(|_, until| *until > now);
            if ctl.negative.len() >= self.config.max_negative {
                // Still full of live entries: forget them all rather than
                // grow; the refetch budget still bounds fetches.
                ctl.negative.clear();
            }
        }
        ctl.negative
            .insert(kid.into_boxed_str(), now + self.config.negative_ttl);
    }

    /// Whether the current set (fresh or stale) holds `kid`; `None` with
    /// no usable set. No I/O.
    pub(crate) fn holds_kid(&self, kid: &str) -> Option<bool> {
        self.usable(Instant::now())
            .map(|snap| snap.index.holds(kid))
    }

    /// Installs the seed the first time the cache is used, if one was
    /// configured and no set is cached; then fetches a live set at once.
    pub(crate) fn ensure_seeded(self: &Arc<Self>) {
        let Some(seed) = self.persistence.take_seed() else {
            return;
        };
        match seed.and_then(|saved| self.install_saved(&saved, false, true)) {
            Ok(age) => {
                log::seeded(&self.label, age.as_secs());
                self.ensure_refresher();
            }
            Err(why) => log::seed_unusable(&self.label, &why),
        }
    }

    /// Installs a saved set, as a seed (only if nothing is cached) or as
    /// a newer set than the one cached (only if it is newer; with `fresh`,
    /// only within its lifetime); returns its age.
    fn install_saved(
        &self,
        saved: &SavedKeySet,
        fresh: bool,
        seed: bool,
    ) -> Result<Duration, String> {
        let c = &self.config;
        // A set stamped slightly in the future (clock steps) counts that
        // lead as age too, so it never outlives a live cache.
        let age = match SystemTime::now().duration_since(saved.fetched_at()) {
            Ok(age) => age,
            Err(ahead) if ahead.duration() <= Duration::from_secs(300) => ahead.duration(),
            Err(_) => return Err("the saved set claims to be fetched in the future".into()),
        };
        let lifetime = saved
            .lifetime()
            .unwrap_or(c.default_ttl)
            .clamp(c.min_ttl, c.max_ttl);
        if fresh && age >= lifetime {
            return Err("the saved set is past its lifetime".into());
        }
        let current = self.snapshot.load_full();
        if current
            .as_ref()
            .is_some_and(|held| seed || held.fetched_wall >= saved.fetched_at())
        {
            return Err("a set as new is already cached".into());
        }
        let usable_for = (lifetime + c.max_stale)
            .checked_sub(age)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!(
                    "the saved set is {} s old, past its lifetime plus max_stale",
                    age.as_secs()
                )
            })?;
        let parsed = parse_key_set(saved.document(), c.format, JwkPolicy::REMOTE, c.max_keys)?;
        for why in &parsed.skipped {
            log::key_skipped(&self.label, why);
        }
        if parsed.keys.is_empty() {
            return Err("the saved set holds no usable key".into());
        }
        let (index, dups) = KeyIndex::new(parsed.keys);
        if !dups.is_empty() {
            log::shared_kids(&self.label, dups.len());
        }
        let now = Instant::now();
        let snapshot = Arc::new(Snapshot {
            index,
            loaded_at: now,
            age_at_load: age,
            fetched_wall: saved.fetched_at(),
            lifetime,
            fresh_until: now + lifetime.saturating_sub(age),
            usable_until: now + usable_for,
            seeded: seed,
        });
        let previous = self.snapshot.compare_and_swap(&current, Some(snapshot));
        let replaced = match (&*previous, &current) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if replaced {
            self.stale_logged.store(false, Ordering::Relaxed);
            Ok(age)
        } else {
            Err("another set was installed meanwhile".into())
        }
    }

    /// Fetches now (or joins the fetch in flight) and reports its outcome.
    pub(crate) async fn refresh(self: &Arc<Self>) -> Result<(), JwksError> {
        self.ensure_seeded();
        let rx = {
            let mut ctl = self.control();
            match ctl.inflight.clone() {
                Some(rx) => Some(rx),
                None => self.start_fetch(&mut ctl),
            }
        };
        match rx {
            Some(rx) => wait(rx).await.unwrap_or_else(|| {
                Err(JwksError::new(
                    JwksErrorKind::NoRuntime,
                    "the fetch task ended without an answer",
                ))
            }),
            None => Err(JwksError::new(
                JwksErrorKind::NoRuntime,
                "no tokio runtime to fetch on",
            )),
        }
    }

    /// Starts the single fetch in its own task. `None` outside a tokio runtime.
    fn start_fetch(self: &Arc<Self>, ctl: &mut Control) -> Option<watch::Receiver<Outcome>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let (tx, rx) = watch::channel(None);
        ctl.inflight = Some(rx.clone());
        let this = Arc::clone(self);
        let guard_rx = rx.clone();
        handle.spawn(async move {
            // Should the fetch panic, the next lookup may still start one.
            let _guard = InflightGuard(&this, guard_rx);
            let (result, saved) = match this.fetch_once().await {
                Ok(saved) => (Ok(()), saved),
                Err(e) => (Err(e), None),
            };
            {
                let mut ctl = this.control();
                ctl.inflight = None;
                match &result {
                    Ok(()) => {
                        ctl.consecutive_failures = 0;
                        ctl.retry_at = None;
                        ctl.last_error = None;
                    }
                    Err(e) => {
                        ctl.consecutive_failures = ctl.consecutive_failures.saturating_add(1);
                        ctl.retry_at =
                            Some(Instant::now() + this.backoff(ctl.consecutive_failures));
                        ctl.last_error = Some(e.to_string());
                        // The refresher may be asleep until a refresh planned
                        // before this failure (a kid-triggered or explicit
                        // fetch): plan again from the backoff.
                        this.wake.notify_one();
                    }
                }
            }
            let _ = tx.send(Some(result));
            this.ensure_refresher();
            // Saved after the waiters have their answer, and bounded: a slow
            // disk never delays a request or the next fetch.
            if let Some(saved) = saved {
                this.save(saved).await;
            }
        });
        Some(rx)
    }

    /// One fetch; on success, the set to save (when saving is configured).
    /// With a shared snapshot, a fresh set another replica stored is
    /// taken instead, and a stored set stands in when the provider fails.
    async fn fetch_once(&self) -> Result<Option<SavedKeySet>, JwksError> {
        let shared = self.persistence.shared();
        let kid_wanted = self.control().kid_wanted.take();
        if let Some(shared) = shared
            && self.taken_from_shared(shared).await
            && kid_wanted.is_none_or(|kid| self.holds_kid(&kid) == Some(true))
        {
            return Ok(None);
        }
        self.stats.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch_and_parse().await;
        if let (Err(_), Some(shared)) = (&result, shared) {
            let _ = shared.unlock().await;
            self.adopt_shared(shared, false).await;
        }
        match &result {
            Ok((count, _)) => {
                self.metrics.fetched(*count);
                log::fetched(&self.label, *count);
            }
            Err(e) => {
                self.metrics.fetch_failed();
                if let Some(snap) = self.snapshot.load().as_deref() {
                    let now = Instant::now();
                    self.metrics.used(snap.age(now), now >= snap.fresh_until);
                }
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                log::fetch_failed(&self.label, e, self.snapshot.load().is_some());
            }
        }
        result.map(|(_, saved)| saved)
    }

    /// Before a provider fetch: a fresh stored set, or the lock, or (when
    /// another replica holds it) that replica's set within a bound. `true`
    /// when a stored set was installed and no fetch is needed.
    async fn taken_from_shared(&self, shared: &dyn super::shared::SharedSnapshot) -> bool {
        use super::shared::{LOCK, POLL, WAIT};
        if self.adopt_shared(shared, true).await {
            return true;
        }
        // A store that cannot answer is no reason not to fetch.
        if shared.try_lock(LOCK).await.unwrap_or(true) {
            return false;
        }
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            if self.adopt_shared(shared, true).await {
                return true;
            }
        }
        false
    }

    /// Installs the stored set when it is newer than the one held (and,
    /// with `fresh`, within its lifetime).
    async fn adopt_shared(&self, shared: &dyn super::shared::SharedSnapshot, fresh: bool) -> bool {
        let Ok(Some(saved)) = shared.load().await else {
            return false;
        };
        match self.install_saved(&saved, fresh, false) {
            Ok(age) => {
                log::seeded(&self.label, age.as_secs());
                true
            }
            Err(_) => false,
        }
    }

    /// Writes a good fetch to the configured file, within a time limit.
    async fn save(&self, saved: SavedKeySet) {
        let written = tokio::time::timeout(SAVE_TIMEOUT, self.persistence.save(saved)).await;
        match written {
            Ok(Some(Err(why))) => log::save_failed(&self.label, &why),
            Err(_) => log::save_failed(&self.label, "the write took too long"),
            Ok(_) => {}
        }
    }

    async fn fetch_and_parse(&self) -> Result<(usize, Option<SavedKeySet>), JwksError> {
        let fetched = self.fetcher.fetch().await?;
        let c = &self.config;
        let parsed = parse_key_set(&fetched.body, c.format, JwkPolicy::REMOTE, c.max_keys)
            .map_err(|why| JwksError::new(JwksErrorKind::Malformed, why))?;
        for why in &parsed.skipped {
            log::key_skipped(&self.label, why);
        }
        for note in &parsed.notes {
            log::key_note(&self.label, note);
        }
        if parsed.keys.is_empty() {
            return Err(JwksError::new(
                JwksErrorKind::NoUsableKey,
                "the key set holds no usable key",
            ));
        }
        let previous = self.snapshot.load_full();
        let (index, dups) = KeyIndex::refreshed(parsed.keys, previous.as_ref().map(|p| &p.index));
        if !dups.is_empty() {
            log::shared_kids(&self.label, dups.len());
        }
        let count = index.len();
        self.stale_logged.store(false, Ordering::Relaxed);
        let lifetime = fetched
            .max_age
            .unwrap_or(self.config.default_ttl)
            .clamp(self.config.min_ttl, self.config.max_ttl);
        let now = Instant::now();
        let fetched_wall = SystemTime::now();
        self.snapshot.store(Some(Arc::new(Snapshot {
            index,
            loaded_at: now,
            age_at_load: Duration::ZERO,
            fetched_wall,
            lifetime,
            fresh_until: now + lifetime,
            usable_until: now + lifetime + self.config.max_stale,
            seeded: false,
        })));
        let saved = self
            .persistence
            .saves()
            .then(|| SavedKeySet::new(fetched.body, fetched_wall).with_lifetime(lifetime));
        Ok((count, saved))
    }

    /// When the background task should fetch next.
    fn next_refresh_at(&self, now: Instant) -> Instant {
        let ctl = self.control();
        if ctl.consecutive_failures > 0 {
            return ctl.retry_at.unwrap_or(now + self.config.backoff_min);
        }
        drop(ctl);
        match self.snapshot.load_full() {
            Some(snap) if snap.seeded => now,
            Some(snap) => {
                let factor = self.config.refresh_ahead * (1.0 + self.config.jitter * jitter());
                // A set taken from a shared snapshot was fetched before it
                // was loaded here.
                (snap.loaded_at + snap.lifetime.mul_f64(factor.clamp(0.05, 1.0)))
                    .checked_sub(snap.age_at_load)
                    .unwrap_or(now)
            }
            None => now + self.config.backoff_min,
        }
    }

    fn ensure_refresher(self: &Arc<Self>) {
        if self.refresher_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.refresher_started.store(false, Ordering::Release);
            return;
        };
        handle.spawn(refresh_loop(Arc::downgrade(self), Arc::clone(&self.wake)));
    }
}

/// Clears the in-flight marker of its own fetch when the fetch task ends,
/// however it ends (a later fetch's marker is left alone).
struct InflightGuard<'a>(&'a Cache, watch::Receiver<Outcome>);

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        let mut ctl = self.0.control();
        if ctl
            .inflight
            .as_ref()
            .is_some_and(|rx| rx.same_channel(&self.1))
        {
            ctl.inflight = None;
        }
    }
}

/// Refreshes ahead of expiry, and retries failed fetches on the backoff,
/// while the cache is alive.
async fn refresh_loop(cache: Weak<Cache>, wake: Arc<Notify>) {
    loop {
        let at = match cache.upgrade() {
            Some(c) => c.next_refresh_at(Instant::now()),
            None => return,
        };
        if tokio::time::timeout_at(at, wake.notified()).await.is_ok() {
            // A fetch failed meanwhile: plan again from its backoff.
            continue;
        }
        let Some(c) = cache.upgrade() else { return };
        if c.next_refresh_at(Instant::now()) > Instant::now() {
            // A fetch since we went to sleep moved the deadline.
            continue;
        }
        let rx = {
            let mut ctl = c.control();
            match ctl.inflight.clone() {
                Some(rx) => Some(rx),
                None => c.start_fetch(&mut ctl),
            }
        };
        let pause = c.config.backoff_min;
        drop(c);
        match rx {
            Some(rx) => {
                if wait(rx).await.is_none() {
                    // The fetch task died without an outcome (a panic in a
                    // user's fetch headers): no failure was recorded to
                    // back off from, so pause here.
                    tokio::time::sleep(pause).await;
                }
            }
            None => return,
        }
    }
}

/// Waits for a fetch's outcome; `None` if its task died.
async fn wait(mut rx: watch::Receiver<Outcome>) -> Outcome {
    match rx.wait_for(Option::is_some).await {
        Ok(v) => v.clone(),
        Err(_) => None,
    }
}

/// A number in [-1, 1] for jitter.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX) * 2.0 - 1.0
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
