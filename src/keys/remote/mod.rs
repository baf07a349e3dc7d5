//! [`RemoteJwks`]: a JWK Set fetched over HTTPS and cached the way a key
//! server that rotates (Google, Auth0, Okta, Keycloak, …) needs.
//!
//! `build()` does no I/O; the first request (or an explicit
//! [`prefetch`](RemoteJwks::prefetch)) fetches the set. After that, requests
//! are answered from the cached set without waiting, while a background task
//! refreshes it ahead of expiry. See the [cache rules](self#cache-rules).
//!
//! ```
//! use jwt_layer::{JwtAuth, RegisteredClaims, keys::RemoteJwks};
//! use std::time::Duration;
//!
//! let keys = RemoteJwks::builder("https://www.googleapis.com/oauth2/v3/certs")
//!     .default_ttl(Duration::from_secs(300))
//!     .build()?;
//! let auth = JwtAuth::<RegisteredClaims>::builder()
//!     .key_source(keys.clone())
//!     .issuer("https://accounts.google.com")
//!     .audience("my-client-id")
//!     .build()?;
//! // At startup, optionally: keys.prefetch().await?;
//! # let _ = auth;
//! # Ok::<(), jwt_layer::BuildError>(())
//! ```
//!
//! # Cache rules
//!
//! | situation | behaviour (defaults) |
//! |---|---|
//! | lifetime | `Cache-Control: max-age` minus `Age`, clamped to [60 s, 24 h]; 10 min without |
//! | refresh ahead | a background task fetches at ~80 % of the lifetime ±10 % jitter; requests never wait for it |
//! | concurrent misses | one fetch in flight, shared by every waiter; a dropped request cannot cancel it |
//! | unknown `kid` | refetch at once, then at most once per 30 s and 6 per 10 min; a `kid` still unknown after a fresh fetch is remembered as absent for 5 min; otherwise an immediate 401 |
//! | fetch fails (planned or kid-triggered) | the last good set is served for up to 24 h past its lifetime; retried in the background, backing off 1 s → 60 s; logged at `warn` |
//! | nothing usable cached | 503 with `Retry-After`, never 401 |
//! | HTTP | connect 2 s, total 5 s, body ≤ 256 KiB, ≤ 100 keys, https only except loopback, redirects are failures |
//! | key hygiene | skips `use: enc`, `key_ops` without `verify`, `oct`, unsupported `kty`/`crv`/`alg`, RSA under 2048 or over 8192 bits or with an even or < 3 exponent, small-order Ed25519 keys, EC points off their curve, malformed entries; two keys with one `kid` make that `kid` unusable |
//! | formats | a JWK Set or a certificate map (`{"<kid>": "-----BEGIN CERTIFICATE-----…"}`), told apart per document ([`KeySetFormat::Auto`]) or forced; certificates ≤ 16 KiB, validity dates logged when out of range, not enforced; a JWK with only `x5c` uses its first certificate (chains over 10 refused), and `x5c` beside `n`/`e` or `x`/`y` must hold the same key or the JWK is skipped |
//! | saved sets | [`seed_file`](RemoteJwksBuilder::seed_file) / [`seed`](RemoteJwksBuilder::seed) install a saved set at first use when none is cached (its age counts toward `max_stale`; a live fetch starts at once); [`persist_to`](RemoteJwksBuilder::persist_to) writes each good fetch atomically; a bad file is a `warn`, never an error |
//! | authenticated fetches | [`fetch_headers`](RemoteJwksBuilder::fetch_headers) adds headers to each fetch (discovery included), e.g. [`BearerTokenFile`]; values are sensitive and never logged |
//!
//! # Other key set shapes
//!
//! Google's and Firebase's certificate maps, a saved copy for restarts during
//! an outage, and Kubernetes' key set served only to a bearer token:
//!
//! ```no_run
//! use jwt_layer::keys::{BearerTokenFile, KeySetFormat, RemoteJwks};
//!
//! // Firebase ID tokens: kid → PEM certificate.
//! let firebase = RemoteJwks::builder(
//!     "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
//! )
//! .format(KeySetFormat::PemCertificates)
//! .seed_file("/var/cache/my-api/firebase-keys.json") // start from it when present
//! .persist_to("/var/cache/my-api/firebase-keys.json") // save each good fetch
//! .build()?;
//!
//! // Kubernetes service-account tokens, keys served only to an authenticated caller.
//! let ca = std::fs::read("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")?;
//! let client = reqwest::Client::builder()
//!     .tls_certs_only([reqwest::Certificate::from_pem(&ca)?])
//!     .build()?;
//! let kubernetes = RemoteJwks::discover("https://kubernetes.default.svc")
//!     .client(client)
//!     .fetch_headers(BearerTokenFile::new(
//!         "/var/run/secrets/kubernetes.io/serviceaccount/token",
//!     ))
//!     .build()?;
//! # let _ = (firebase, kubernetes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod credentials;
mod fetch;
mod format;
mod oidc;
mod saved;
mod shared;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::error::{BuildError, BuildErrorKind};
use crate::keys::{AlgSet, KeySource, Lookup};
use crate::verify::issuer::Template;
pub use cache::JwksStatus;
use cache::{Cache, CacheConfig};
pub use credentials::{BearerTokenFile, FetchHeaders};
pub use format::KeySetFormat;
pub use saved::SavedKeySet;
use saved::{Persistence, Seed};
#[cfg(feature = "redis")]
pub use shared::RedisSnapshot;
pub use shared::{SharedSnapshot, StoreFuture};

/// The longest duration any key set setting may have.
const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);
pub(crate) use fetch::{Fetch, HttpFetcher, HttpLimits, check_url, default_client};

/// Why a key set could not be fetched. [`kind`](Self::kind) classifies it;
/// the message (its `Display`) says more, without any secret.
#[derive(Clone, Debug)]
pub struct JwksError {
    kind: JwksErrorKind,
    message: Arc<str>,
}

/// The classes of key set fetch failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwksErrorKind {
    /// The request could not be made or its body not read (connection
    /// refused or dropped, TLS).
    Request,
    /// No complete answer within the time limit.
    Timeout,
    /// The answer did not come from the configured URL: a client of yours
    /// followed a redirect (with the default client a redirect is a
    /// [`Status`](Self::Status) failure: it is never followed).
    Redirected,
    /// The server answered with a status other than 200.
    Status,
    /// The body is larger than the limit.
    TooLarge,
    /// The body is not a key set document (not UTF-8, not JSON, too many
    /// keys).
    Malformed,
    /// The key set holds no usable key (a failed fetch: it never replaces
    /// a good set).
    NoUsableKey,
    /// The OpenID discovery document is unusable (not JSON, no `issuer` or
    /// `jwks_uri`, a `jwks_uri` that is not https).
    Discovery,
    /// The discovery document names another issuer than the configured one:
    /// a configuration error.
    IssuerMismatch,
    /// The fetch's headers could not be had (see
    /// [`fetch_headers`](RemoteJwksBuilder::fetch_headers)): a token file
    /// missing, empty or unreadable.
    Credentials,
    /// No tokio runtime to fetch on, or the fetch task died.
    NoRuntime,
}

impl JwksError {
    pub(crate) fn new(kind: JwksErrorKind, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> JwksErrorKind {
        self.kind
    }
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JwksError {}

/// A JWK Set fetched from a URL and cached; a [`KeySource`]. Cheap to clone
/// (clones share one cache). See the [module docs](self).
#[derive(Clone)]
pub struct RemoteJwks {
    cache: Arc<Cache>,
}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("status", &self.cache.status())
            .finish_non_exhaustive()
    }
}

impl RemoteJwks {
    /// Starts configuring a key set fetched from `url`.
    pub fn builder(url: impl Into<String>) -> RemoteJwksBuilder {
        Self::located(Location::Url(url.into()))
    }

    /// Starts configuring the key set of an OpenID provider, found by
    /// discovery: `{issuer}/.well-known/openid-configuration` names the
    /// `jwks_uri`, and its `issuer` must equal `issuer` byte for byte (or
    /// have the shape of a template accepted with
    /// [`accept_issuer_template`](RemoteJwksBuilder::accept_issuer_template)).
    /// Discovery is lazy, like the key fetch, and has the same failure
    /// handling.
    pub fn discover(issuer: impl Into<String>) -> RemoteJwksBuilder {
        Self::located(Location::Issuer(issuer.into()))
    }

    fn located(location: Location) -> RemoteJwksBuilder {
        RemoteJwksBuilder {
            location,
            client: None,
            limits: HttpLimits::default(),
            config: CacheConfig::default(),
            issuer_templates: Vec::new(),
            headers: None,
            seed: None,
            save_to: None,
            shared: None,
        }
    }

    pub(crate) fn from_fetcher(
        fetcher: Box<dyn Fetch>,
        config: CacheConfig,
        label: String,
        persistence: Persistence,
    ) -> Self {
        Self {
            cache: Arc::new(Cache::new(config, fetcher, label, persistence)),
        }
    }

    /// Fetches the key set now (or joins the fetch in flight), so startup
    /// can fail fast.
    ///
    /// # Errors
    ///
    /// The fetch failed: unreachable, bad status, malformed, no usable key.
    pub async fn prefetch(&self) -> Result<(), JwksError> {
        self.cache.refresh().await
    }

    /// Fetches the key set now, whatever the schedule (e.g. after an
    /// out-of-band notice of rotation).
    ///
    /// # Errors
    ///
    /// As [`prefetch`](Self::prefetch).
    pub async fn refresh(&self) -> Result<(), JwksError> {
        self.cache.refresh().await
    }

    /// A cheap view of the cache for health checks. The first call installs
    /// the [seed](RemoteJwksBuilder::seed), if any, like a first lookup.
    pub fn status(&self) -> JwksStatus {
        self.cache.ensure_seeded();
        self.cache.status()
    }
}

impl KeySource for RemoteJwks {
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        self.cache.lookup(kid, alg)
    }

    /// Symmetric keys are never taken from a remote key set.
    fn algorithms(&self) -> AlgSet {
        AlgSet::ALL.without(AlgSet::HMAC)
    }

    fn holds_kid(&self, kid: &str) -> Option<bool> {
        self.cache.holds_kid(kid)
    }
}

#[derive(Debug)]
enum Location {
    Url(String),
    Issuer(String),
}

/// Configures a [`RemoteJwks`].
pub struct RemoteJwksBuilder {
    location: Location,
    client: Option<reqwest::Client>,
    limits: HttpLimits,
    config: CacheConfig,
    issuer_templates: Vec<String>,
    headers: Option<Arc<dyn FetchHeaders>>,
    seed: Option<Seed>,
    save_to: Option<PathBuf>,
    shared: Option<Arc<dyn SharedSnapshot>>,
}

impl fmt::Debug for RemoteJwksBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJwksBuilder")
            .field("location", &self.location)
            .field("limits", &self.limits)
            .field("config", &self.config)
            .field("authenticated", &self.headers.is_some())
            .field("seed", &self.seed)
            .field("save_to", &self.save_to)
            .finish_non_exhaustive()
    }
}

impl RemoteJwksBuilder {
    /// The document's format (default [`KeySetFormat::Auto`]: a JWK Set or
    /// a certificate map, decided from each document).
    #[must_use]
    pub fn format(mut self, format: KeySetFormat) -> Self {
        self.config.format = format;
        self
    }

    /// Headers for every fetch of this source, from `headers`, asked again
    /// before each fetch (on a blocking thread): for example a
    /// [`BearerTokenFile`]. They are sent only to the origin (scheme, host,
    /// port) of the configured URL, or of the issuer with
    /// [`discover`](RemoteJwks::discover): a `jwks_uri` on another host
    /// is fetched without them. The values are sent as sensitive and never
    /// logged. For a private CA, pass your own [`client`](Self::client)
    /// too.
    #[must_use]
    pub fn fetch_headers(mut self, headers: impl FetchHeaders) -> Self {
        self.headers = Some(Arc::new(headers));
        self
    }

    /// Starts from a key set saved earlier, until the first fetch succeeds.
    /// Its age counts toward [`max_stale`](Self::max_stale): a set older
    /// than its lifetime plus `max_stale` is not used. A set that cannot be
    /// used is a logged warning, never an error. Nothing is read until the
    /// source is first used.
    #[must_use]
    pub fn seed(mut self, saved: SavedKeySet) -> Self {
        self.seed = Some(Seed::Saved(saved));
        self
    }

    /// Like [`seed`](Self::seed), from a file written by
    /// [`persist_to`](Self::persist_to), read once when the source is first
    /// used. A missing, unreadable or corrupt file is a logged warning.
    #[must_use]
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed = Some(Seed::File(path.into()));
        self
    }

    /// Saves every good fetch to `path` (a temporary file beside it, then a
    /// rename), for [`seed_file`](Self::seed_file) after a restart. A failed
    /// write is logged and changes nothing else. The file is trusted like
    /// your configuration when it is read back: protect it the same way.
    #[must_use]
    pub fn persist_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.save_to = Some(path.into());
        self
    }

    /// With [`discover`](RemoteJwks::discover): also accepts a discovery
    /// document whose `issuer` is a template of the same shape as
    /// `template`, the same text around one placeholder whatever its name.
    /// Entra's `organizations` and `common` documents say
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`; accept them with
    /// the template you verify tokens with,
    /// `https://login.microsoftonline.com/{tid}/v2.0`
    /// (see [`VerifierBuilder::issuer_template`](crate::VerifierBuilder::issuer_template)).
    #[must_use]
    pub fn accept_issuer_template(mut self, template: impl Into<String>) -> Self {
        self.issuer_templates.push(template.into());
        self
    }

    /// Uses your own HTTP client (proxies, custom roots). Our time and size
    /// limits still apply, and its redirect policy does not change the
    /// outcome: an answer other than a 200 from the configured URL itself
    /// (a 3xx, or a redirect your client followed) is a failed fetch.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Connection timeout of the default client (default 2 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.limits.connect_timeout = timeout;
        self
    }

    /// Deadline for a whole fetch (default 5 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = timeout;
        self
    }

    /// Largest body read (default 256 KiB); reading stops past it.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.limits.max_body = bytes;
        self
    }

    /// Most keys a set may hold (default 100).
    #[must_use]
    pub fn max_keys(mut self, keys: usize) -> Self {
        self.config.max_keys = keys;
        self
    }

    /// Lifetime when the server sends no `Cache-Control: max-age`
    /// (default 10 min).
    #[must_use]
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.config.default_ttl = ttl;
        self
    }

    /// Clamp for the lifetime (default 60 s to 24 h).
    #[must_use]
    pub fn ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.config.min_ttl = min;
        self.config.max_ttl = max;
        self
    }

    /// Refresh at this fraction of the lifetime (default 0.8), with this
    /// relative jitter (default 0.1).
    #[must_use]
    pub fn refresh_ahead(mut self, fraction: f64, jitter: f64) -> Self {
        self.config.refresh_ahead = fraction;
        self.config.jitter = jitter;
        self
    }

    /// Unknown-`kid` refetches: at most one per `cooldown` and `budget` per
    /// `window` (default 30 s, 6 per 10 min).
    #[must_use]
    pub fn unknown_kid_refetch(
        mut self,
        cooldown: Duration,
        budget: usize,
        window: Duration,
    ) -> Self {
        self.config.kid_cooldown = cooldown;
        self.config.kid_budget = budget;
        self.config.kid_window = window;
        self
    }

    /// How long a `kid` still unknown after a fresh fetch is remembered as
    /// absent (default 5 min).
    #[must_use]
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.config.negative_ttl = ttl;
        self
    }

    /// How long past its lifetime the last good set is served while fetches
    /// fail (default 24 h).
    #[must_use]
    pub fn max_stale(mut self, max: Duration) -> Self {
        self.config.max_stale = max;
        self
    }

    /// The `source` label of this key set's [metrics](crate::metrics)
    /// (default: the key set's URL, or `discovery of <URL>`).
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    #[must_use]
    pub fn metrics_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.config.metrics_name = Some(name.into());
        self
    }

    /// Shares the last good key set with the other replicas of a fleet
    /// through `store` (a `RedisSnapshot`,
    /// say): replicas starting together fetch about once, and a replica
    /// started during a provider outage verifies with the stored set; see
    /// [`SharedSnapshot`].
    #[must_use]
    pub fn shared_snapshot(mut self, store: impl SharedSnapshot) -> Self {
        self.shared = Some(Arc::new(store));
        self
    }

    /// Retry backoff after failures (default 1 s doubling to 60 s).
    #[must_use]
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.config.backoff_min = min;
        self.config.backoff_max = max;
        self
    }

    pub(crate) fn check(&self) -> Result<(), BuildError> {
        let c = &self.config;
        let fraction_ok = (0.05..=1.0).contains(&c.refresh_ahead) && (0.0..0.5).contains(&c.jitter);
        if !fraction_ok {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "refresh_ahead must be in [0.05, 1] and jitter in [0, 0.5)",
            ));
        }
        if c.min_ttl.is_zero() || c.min_ttl > c.max_ttl {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "TTL bounds must satisfy 0 < min <= max",
            ));
        }
        if c.backoff_min.is_zero() || c.backoff_min > c.backoff_max {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "backoff must satisfy 0 < min <= max",
            ));
        }
        if c.max_keys == 0 || self.limits.max_body == 0 {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "max_keys and max_body must be positive",
            ));
        }
        if self.limits.timeout.is_zero() {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "timeout must be positive",
            ));
        }
        // Every duration the cache adds to a clock reading stays far from
        // overflowing it.
        let durations = [
            c.default_ttl,
            c.max_ttl,
            c.max_stale,
            c.backoff_max,
            c.kid_cooldown,
            c.kid_window,
            c.negative_ttl,
            self.limits.timeout,
            self.limits.connect_timeout,
        ];
        if durations.iter().any(|d| *d > MAX_DURATION) {
            return Err(BuildError::new(
                BuildErrorKind::InvalidSetting,
                "key set durations must be at most 30 days",
            ));
        }
        Ok(())
    }

    /// Builds the key set. No I/O.
    ///
    /// # Errors
    ///
    /// A URL that is not https (or http to a loopback host), inconsistent
    /// settings, or an HTTP client that cannot be built.
    pub fn build(self) -> Result<RemoteJwks, BuildError> {
        self.check()?;
        let client = match self.client {
            Some(c) => c,
            None => default_client(self.limits)?,
        };
        let headers = self.headers;
        let (fetcher, label): (Box<dyn Fetch>, String) = match self.location {
            Location::Url(url) => {
                let url = check_url(&url)?;
                let label = fetch::log_label(&url);
                let http = HttpFetcher::new(client, url, self.limits, headers);
                (Box::new(http), label)
            }
            Location::Issuer(issuer) => {
                let url = oidc::discovery_url(&issuer)?;
                let http = HttpFetcher::new(client, url, self.limits, headers);
                let label = format!("discovery of {}", fetch::log_label(http.url()));
                let templates = self
                    .issuer_templates
                    .iter()
                    .map(|t| {
                        Template::parse(t)?.ok_or_else(|| {
                            BuildError::new(
                                BuildErrorKind::InvalidValidation,
                                format!("`{t}` has no placeholder"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                let fetcher = oidc::DiscoveryFetcher::new(http, issuer, templates);
                (Box::new(fetcher), label)
            }
        };
        let persistence = Persistence::new(self.seed, self.save_to, self.limits.max_body)
            .with_shared(self.shared);
        Ok(RemoteJwks::from_fetcher(
            fetcher,
            self.config,
            label,
            persistence,
        ))
    }
}
