//! An interleaved benchmark harness (shared by the crate's benches and the
//! peers package through `#[path]`).
//!
//! Every case is calibrated to run about `JL_MS` milliseconds (default 10)
//! per batch; then, for `JL_ROUNDS` rounds (default 100), each case runs one
//! batch, in an order rotated every round. The figure of a case is the
//! median of its per-iteration times over the rounds. Because all cases are
//! sampled through the same stretch of time, a burst of load on the machine
//! hits them alike, and ratios between cases stay stable where separate
//! criterion runs drift.
//!
//! Environment:
//! - `JL_ROUNDS`, `JL_MS`: rounds and batch length.
//! - `JL_FILTER=substr`: only cases whose name contains `substr`.
//! - `JL_PROFILE=name` and `JL_ITERS=n`: run the one case `name` for `n`
//!   iterations, untimed, and exit (for `valgrind --tool=callgrind`).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

type Body = Box<dyn FnMut(u64)>;

struct Case {
    name: String,
    run: Body,
    iters: u64,
    samples: Vec<f64>,
}

/// The interleaved harness.
pub(crate) struct Harness {
    title: String,
    cases: Vec<Case>,
    rounds: usize,
    batch: Duration,
    filter: Option<String>,
}

/// Median and spread of one case, in nanoseconds per iteration.
#[derive(Clone, Debug)]
pub(crate) struct Stat {
    pub(crate) name: String,
    pub(crate) median: f64,
    pub(crate) p10: f64,
    pub(crate) p90: f64,
    pub(crate) iters: u64,
}

/// The results of a run.
pub(crate) struct Results {
    pub(crate) title: String,
    pub(crate) stats: Vec<Stat>,
    pub(crate) rounds: usize,
    pub(crate) batch: Duration,
    pub(crate) wall: Duration,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = p * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    sorted[lo] * (1.0 - frac) + sorted[hi] * frac
}

impl Harness {
    pub(crate) fn new(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            cases: Vec::new(),
            rounds: env_num("JL_ROUNDS", 100) as usize,
            batch: Duration::from_millis(env_num("JL_MS", 10)),
            filter: std::env::var("JL_FILTER").ok(),
        }
    }

    /// Whether a case named `name` would run (the `JL_FILTER` test), for
    /// cases whose setup is slow.
    #[allow(dead_code)] // not every bench has such a case
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| name.contains(f.as_str()))
    }

    /// Adds a case. `run(n)` must do the measured work `n` times.
    pub(crate) fn add(&mut self, name: &str, run: impl FnMut(u64) + 'static) {
        if !self.wants(name) {
            return;
        }
        self.cases.push(Case {
            name: name.to_owned(),
            run: Box::new(run),
            iters: 1,
            samples: Vec::new(),
        });
    }

    /// Profile mode: when `JL_PROFILE` names a case, runs it `JL_ITERS`
    /// times and exits the process.
    fn profile(&mut self) {
        let Ok(name) = std::env::var("JL_PROFILE") else {
            return;
        };
        let iters = env_num("JL_ITERS", 10_000);
        let case = self
            .cases
            .iter_mut()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case named {name}"));
        let start = Instant::now();
        (case.run)(iters);
        let ns = start.elapsed().as_nanos() as f64 / iters as f64;
        eprintln!("profiled {name}: {iters} iterations, {ns:.0} ns/iter");
        std::process::exit(0);
    }

    fn calibrate(case: &mut Case, batch: Duration) {
        // Warm up (caches, lazily parsed keys, allocator) and find a count
        // that takes a tenth of a batch; then take the fastest of a few
        // trials, so a preemption during calibration cannot inflate the
        // per-iteration estimate.
        let mut n = 1u64;
        loop {
            let t = Instant::now();
            (case.run)(n);
            if t.elapsed() >= batch / 10 || n >= 1 << 30 {
                break;
            }
            n *= 2;
        }
        let per = (0..5)
            .map(|_| {
                let t = Instant::now();
                (case.run)(n);
                t.elapsed().as_secs_f64() / n as f64
            })
            .fold(f64::INFINITY, f64::min);
        case.iters = ((batch.as_secs_f64() / per).ceil() as u64).max(1);
        (case.run)(case.iters);
    }

    /// Runs all cases and returns their statistics.
    pub(crate) fn run(mut self) -> Results {
        self.profile();
        let start = Instant::now();
        for case in &mut self.cases {
            Self::calibrate(case, self.batch);
        }
        let n = self.cases.len();
        for round in 0..self.rounds {
            for k in 0..n {
                // Rotate the order each round, and reverse it every other
                // round, so no case always follows the same neighbour.
                let i = if round % 2 == 0 {
                    (k + round) % n
                } else {
                    (n - 1 - k + round) % n
                };
                let case = &mut self.cases[i];
                let t = Instant::now();
                (case.run)(case.iters);
                let ns = t.elapsed().as_nanos() as f64 / case.iters as f64;
                case.samples.push(ns);
            }
        }
        let stats = self
            .cases
            .iter_mut()
            .map(|c| {
                c.samples.sort_by(f64::total_cmp);
                Stat {
                    name: c.name.clone(),
                    median: percentile(&c.samples, 0.5),
                    p10: percentile(&c.samples, 0.1),
                    p90: percentile(&c.samples, 0.9),
                    iters: c.iters,
                }
            })
            .collect();
        Results {
            title: self.title,
            stats,
            rounds: self.rounds,
            batch: self.batch,
            wall: start.elapsed(),
        }
    }
}

/// Formats nanoseconds for a table.
pub(crate) fn fmt_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

impl Results {
    /// The median of `name`, in ns; panics if absent.
    pub(crate) fn median(&self, name: &str) -> f64 {
        self.get(name)
            .unwrap_or_else(|| panic!("no case named {name}"))
            .median
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Stat> {
        self.stats.iter().find(|s| s.name == name)
    }

    /// The table of all cases, as markdown.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### {}\n\n{} rounds × ~{} ms per case, wall {:.1} s\n",
            self.title,
            self.rounds,
            self.batch.as_millis(),
            self.wall.as_secs_f64()
        );
        let _ = writeln!(out, "| case | median | p10 | p90 | iters/batch |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for s in &self.stats {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                s.name,
                fmt_ns(s.median),
                fmt_ns(s.p10),
                fmt_ns(s.p90),
                s.iters
            );
        }
        out
    }
}

/// Ratio lines: `(label, numerator case, denominator case, target)`, where
/// the target is an upper bound on the ratio of medians (`None`: reported
/// only). The ratio of the 10th percentiles is shown beside it: on a loaded
/// machine it is the steadier of the two.
pub(crate) fn ratio_table<L: AsRef<str>>(r: &Results, rows: &[(L, L, L, Option<f64>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| ratio | median ÷ median | p10 ÷ p10 | target | met |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|:---:|");
    for (label, num, den, target) in rows {
        let label = label.as_ref();
        let (Some(a), Some(b)) = (r.get(num.as_ref()), r.get(den.as_ref())) else {
            continue;
        };
        let ratio = a.median / b.median;
        let (t, met) = match target {
            Some(t) => (format!("≤ {t:.2}"), if ratio <= *t { "yes" } else { "NO" }),
            None => ("–".to_owned(), "–"),
        };
        let _ = writeln!(
            out,
            "| {label} | {ratio:.3} | {:.3} | {t} | {met} |",
            a.p10 / b.p10
        );
    }
    out
}
