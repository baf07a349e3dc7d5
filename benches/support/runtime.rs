//! Small helpers for the benches: polling a future that needs no I/O, a
//! request loop through a router, machine facts, and writing the
//! report.

#![allow(dead_code)]

use std::future::Future;
use std::hint::black_box;
use std::task::{Context, Poll, Waker};

/// Polls `f` once and returns its output; panics if it is not ready (a
/// verification with static keys never waits).
pub(crate) fn now_or_never<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the future was not ready"),
    }
}

/// A single-threaded tokio runtime (one per case, so cases do not share
/// timers or task queues).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A bench case: `n` requests `GET /` through a fresh clone of `app`
/// (`oneshot`, as a server would), with `Authorization` cycling through
/// `values`, each checked for 200. `body` makes the empty body of the
/// router's own `http-body` flavour (axum 0.7 and 0.8 both fit).
pub(crate) fn router_loop<S, B, R>(
    app: S,
    values: Vec<http::HeaderValue>,
    body: fn() -> B,
) -> impl FnMut(u64) + 'static
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + 'static,
    S::Error: std::fmt::Debug,
    B: 'static,
{
    use tower::ServiceExt as _;
    let rt = runtime();
    let mut next = 0;
    move |n| {
        rt.block_on(async {
            for _ in 0..n {
                let value = values[next % values.len()].clone();
                next += 1;
                let req = http::Request::get("/")
                    .header(http::header::AUTHORIZATION, value)
                    .body(body())
                    .expect("request");
                let status = app.clone().oneshot(req).await.expect("infallible").status();
                assert_eq!(status, 200, "request refused");
                black_box(status);
            }
        });
    }
}

/// `nproc`, the CPU model and the load average, for the report.
pub(crate) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{cpus} CPUs, {model}, load average {}", loadavg())
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Prints `report` and saves it under `<manifest>/target/jl-bench/<name>.md`.
pub(crate) fn publish(manifest_dir: &str, name: &str, report: &str) {
    println!("{report}");
    let dir = std::path::Path::new(manifest_dir).join("target/jl-bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.md")), report);
    }
}
