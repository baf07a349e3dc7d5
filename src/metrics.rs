//! Counters and gauges through the [`metrics`](https://docs.rs/metrics)
//! facade, when the `metrics` feature is on; install any recorder (a
//! Prometheus exporter, say) and they appear. Without the feature every
//! call here is an empty inline function.
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `jwt_layer_requests_total` | counter | `outcome` | requests a [`JwtAuth`](crate::JwtAuth) layer decided: `accepted`, `missing_token`, the RFC 6750 code of a refusal's status (`invalid_request`, `invalid_token`, `insufficient_scope`; a refused DPoP proof is a 401, `invalid_token`), or `unavailable` (503) |
//! | `jwt_layer_anonymous_requests_total` | counter | | requests an optional layer let through without credentials |
//! | `jwt_layer_rejections_total` | counter | `kind` | refusals by [`AuthErrorKind`](crate::AuthErrorKind) in snake case (`expired`, `invalid_signature`, …), from `JwtAuth` and [`Authorize`](crate::Authorize) layers |
//! | `jwt_layer_token_cache_hits_total` / `_misses_total` | counter | | lookups in the verified-token cache |
//! | `jwt_layer_token_cache_entries` | gauge | | tokens held, as the cache counts them (lazily: it may lag by the last few added) |
//! | `jwt_layer_key_set_fetches_total` | counter | `source`, `result` (`ok`, `error`) | key-set fetches |
//! | `jwt_layer_key_set_keys` | gauge | `source` | usable keys in the last good set |
//! | `jwt_layer_key_set_last_success_timestamp_seconds` | gauge | `source` | when the last good set was fetched (Unix time) |
//! | `jwt_layer_key_set_age_seconds` | gauge | `source` | seconds since the last good fetch, as of the last fetch attempt or the moment keys turned stale (`time() - last_success_timestamp_seconds` is exact at any time) |
//! | `jwt_layer_key_set_stale` | gauge | `source` | 1 while keys are served past their lifetime because refreshing fails |
//!
//! `source` is the name given with
//! [`RemoteJwksBuilder::metrics_name`](crate::keys::RemoteJwksBuilder::metrics_name),
//! by default the key server's host. An [`Authorize`](crate::Authorize)
//! refusal counts in `jwt_layer_rejections_total` only: the request was
//! already counted `accepted` by the layer before it.
//!
//! Handles are registered with the recorder on first use, so install the
//! recorder before the first request; each later update is one atomic
//! operation.
//!
//! ```
//! # #[cfg(feature = "metrics")] {
//! use jwt_layer::{JwtAuth, RegisteredClaims};
//! use tower::{ServiceBuilder, ServiceExt as _, service_fn};
//!
//! // Any recorder; here Prometheus's, as `resource_server` serves it.
//! let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
//! let prometheus = recorder.handle();
//!
//! let auth = JwtAuth::<RegisteredClaims>::builder()
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef")
//!     .issuer("https://auth.example")
//!     .build()?;
//! let app = ServiceBuilder::new().layer(auth).service(service_fn(|_| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! }));
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let answer = metrics::with_local_recorder(&recorder, || {
//!     runtime.block_on(app.oneshot(http::Request::new(())))
//! })?;
//! assert_eq!(answer.status(), 401);
//! let text = prometheus.render();
//! assert!(text.contains(r#"jwt_layer_requests_total{outcome="missing_token"} 1"#));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "metrics")]
pub(crate) use on::*;

#[cfg(not(feature = "metrics"))]
pub(crate) use off::*;

#[cfg(feature = "metrics")]
mod on {
    use std::sync::{Arc, OnceLock};

    use metrics::{Counter, Gauge, counter, gauge};

    use crate::error::AuthErrorKind;

    /// `AuthErrorKind::InvalidDpopProof` → `invalid_dpop_proof`.
    fn snake(kind: AuthErrorKind) -> String {
        let mut out = String::new();
        for c in format!("{kind:?}").chars() {
            if c.is_ascii_uppercase() && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// The `outcome` of a refusal of `kind`: the RFC 6750 code of its
    /// status (a DPoP proof refused is a 401, `invalid_token`; its own
    /// code is in the `kind` of `jwt_layer_rejections_total`),
    /// `missing_token` or `unavailable`. `None` for a kind no layer
    /// answers with (500, from the extractor alone).
    fn outcome(kind: AuthErrorKind) -> Option<&'static str> {
        match kind {
            AuthErrorKind::MissingToken => Some("missing_token"),
            _ if kind.status() == http::StatusCode::SERVICE_UNAVAILABLE => Some("unavailable"),
            _ => kind.code_of_status(),
        }
    }

    /// Counters of refusals, one pair per kind.
    struct Refusals(Vec<(AuthErrorKind, Option<Counter>, Counter)>);

    impl Refusals {
        fn register(with_outcome: bool) -> Self {
            let kinds = crate::challenge::all_kinds();
            Self(
                kinds
                    .map(|kind| {
                        let outcome = outcome(kind)
                            .filter(|_| with_outcome)
                            .map(|o| counter!("jwt_layer_requests_total", "outcome" => o));
                        let by_kind = counter!("jwt_layer_rejections_total", "kind" => snake(kind));
                        (kind, outcome, by_kind)
                    })
                    .collect(),
            )
        }

        fn count(&self, kind: AuthErrorKind) {
            if let Some((_, outcome, by_kind)) = self.0.iter().find(|(k, ..)| *k == kind) {
                if let Some(outcome) = outcome {
                    outcome.increment(1);
                }
                by_kind.increment(1);
            }
        }
    }

    struct RequestHandles {
        accepted: Counter,
        anonymous: Counter,
        refused: Refusals,
    }

    /// The request counters of one layer.
    #[derive(Default)]
    pub(crate) struct RequestMetrics {
        handles: OnceLock<RequestHandles>,
    }

    impl RequestMetrics {
        fn handles(&self) -> &RequestHandles {
            self.handles.get_or_init(|| RequestHandles {
                accepted: counter!("jwt_layer_requests_total", "outcome" => "accepted"),
                anonymous: counter!("jwt_layer_anonymous_requests_total"),
                refused: Refusals::register(true),
            })
        }

        pub(crate) fn accepted(&self) {
            self.handles().accepted.increment(1);
        }

        pub(crate) fn anonymous(&self) {
            self.handles().anonymous.increment(1);
        }

        pub(crate) fn refused(&self, kind: AuthErrorKind) {
            self.handles().refused.count(kind);
        }
    }

    /// The refusal counter of an [`Authorize`](crate::Authorize) layer
    /// (cloned with the layer, shared).
    #[derive(Clone, Default)]
    pub(crate) struct AuthorizeMetrics {
        handles: Arc<OnceLock<Refusals>>,
    }

    impl AuthorizeMetrics {
        pub(crate) fn refused(&self, kind: AuthErrorKind) {
            self.handles
                .get_or_init(|| Refusals::register(false))
                .count(kind);
        }
    }

    struct CacheHandles {
        hits: Counter,
        misses: Counter,
        entries: Gauge,
    }

    /// The verified-token cache's counters.
    #[derive(Default)]
    pub(crate) struct TokenCacheMetrics {
        handles: OnceLock<CacheHandles>,
    }

    impl TokenCacheMetrics {
        fn handles(&self) -> &CacheHandles {
            self.handles.get_or_init(|| CacheHandles {
                hits: counter!("jwt_layer_token_cache_hits_total"),
                misses: counter!("jwt_layer_token_cache_misses_total"),
                entries: gauge!("jwt_layer_token_cache_entries"),
            })
        }

        pub(crate) fn hit(&self) {
            self.handles().hits.increment(1);
        }

        pub(crate) fn miss(&self) {
            self.handles().misses.increment(1);
        }

        /// Sets the entry gauge to `count()` (counted only with metrics on).
        pub(crate) fn entries(&self, count: impl FnOnce() -> u64) {
            // Precision is lost only past 2^53 entries.
            #[allow(clippy::cast_precision_loss)]
            self.handles().entries.set(count() as f64);
        }
    }

    #[cfg(feature = "remote-jwks")]
    struct KeySetHandles {
        ok: Counter,
        error: Counter,
        keys: Gauge,
        last_success: Gauge,
        age: Gauge,
        stale: Gauge,
    }

    /// One remote key set's counters and gauges, labelled `source`.
    #[cfg(feature = "remote-jwks")]
    pub(crate) struct KeySetMetrics {
        source: Arc<str>,
        handles: OnceLock<KeySetHandles>,
    }

    #[cfg(feature = "remote-jwks")]
    impl KeySetMetrics {
        pub(crate) fn new(source: Arc<str>) -> Self {
            Self {
                source,
                handles: OnceLock::new(),
            }
        }

        fn handles(&self) -> &KeySetHandles {
            self.handles.get_or_init(|| {
                let source = self.source.to_string();
                let fetches = |result: &'static str| {
                    counter!("jwt_layer_key_set_fetches_total", "source" => source.clone(), "result" => result)
                };
                KeySetHandles {
                    ok: fetches("ok"),
                    error: fetches("error"),
                    keys: gauge!("jwt_layer_key_set_keys", "source" => source.clone()),
                    last_success: gauge!("jwt_layer_key_set_last_success_timestamp_seconds", "source" => source.clone()),
                    age: gauge!("jwt_layer_key_set_age_seconds", "source" => source.clone()),
                    stale: gauge!("jwt_layer_key_set_stale", "source" => source),
                }
            })
        }

        /// A good set of `keys` keys was fetched now.
        pub(crate) fn fetched(&self, keys: usize) {
            let h = self.handles();
            h.ok.increment(1);
            #[allow(clippy::cast_precision_loss)]
            h.keys.set(keys as f64);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            h.last_success.set(now.as_secs_f64());
            h.age.set(0.0);
            h.stale.set(0.0);
        }

        /// A fetch failed.
        pub(crate) fn fetch_failed(&self) {
            self.handles().error.increment(1);
        }

        /// The set in use is `age` old, `stale` or not (after a fetch
        /// attempt, or when keys turn stale).
        pub(crate) fn used(&self, age: std::time::Duration, stale: bool) {
            let h = self.handles();
            h.age.set(age.as_secs_f64());
            h.stale.set(if stale { 1.0 } else { 0.0 });
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod off {
    use crate::error::AuthErrorKind;

    /// Stands in for the request counters: does nothing.
    #[derive(Default)]
    pub(crate) struct RequestMetrics {
        _off: (),
    }

    impl RequestMetrics {
        #[inline(always)]
        pub(crate) fn accepted(&self) {}
        #[inline(always)]
        pub(crate) fn anonymous(&self) {}
        #[inline(always)]
        pub(crate) fn refused(&self, _: AuthErrorKind) {}
    }

    /// Stands in for an `Authorize` layer's counter: does nothing.
    #[derive(Clone, Default)]
    pub(crate) struct AuthorizeMetrics {
        _off: (),
    }

    impl AuthorizeMetrics {
        #[inline(always)]
        pub(crate) fn refused(&self, _: AuthErrorKind) {}
    }

    /// Stands in for the token cache's counters: does nothing.
    #[derive(Default)]
    pub(crate) struct TokenCacheMetrics {
        _off: (),
    }

    impl TokenCacheMetrics {
        #[inline(always)]
        pub(crate) fn hit(&self) {}
        #[inline(always)]
        pub(crate) fn miss(&self) {}
        #[inline(always)]
        pub(crate) fn entries(&self, _: impl FnOnce() -> u64) {}
    }

    /// Stands in for a key set's counters: does nothing.
    #[cfg(feature = "remote-jwks")]
    pub(crate) struct KeySetMetrics {
        _off: (),
    }

    #[cfg(feature = "remote-jwks")]
    impl KeySetMetrics {
        #[inline(always)]
        pub(crate) fn new(_: std::sync::Arc<str>) -> Self {
            Self { _off: () }
        }
        #[inline(always)]
        pub(crate) fn fetched(&self, _: usize) {}
        #[inline(always)]
        pub(crate) fn fetch_failed(&self) {}
        #[inline(always)]
        pub(crate) fn used(&self, _: std::time::Duration, _: bool) {}
    }
}
