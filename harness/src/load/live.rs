//! Live metrics: what the run has done so far, as Prometheus text for `harness run
//! --metrics-addr` (the run's metrics endpoint serves it), so a long run can be watched on the
//! dashboards people already have.
//!
//! The collector hands in each worker's slice as it arrives ([`Live::add`]) and each interval's
//! load and resources as it finalizes it ([`Live::interval`]); a scrape renders the totals so
//! far ([`Live::render`]), each stage's exactly as results.json will count it. Counters are per stage (label `stage`), so a dashboard
//! can tell the ramp from the hold and a rate() never mixes them; the labels `scenario` and
//! `segment` tell runs and segments apart. Latency and dispatch lag are histograms on one fixed
//! log-linear layout ([`BOUNDS_NS`]: ten buckets a decade, the R10 series, from 1 µs to 60 s),
//! fine enough that `histogram_quantile(0.99, ...)` over a run lands in the same bucket as
//! results.json's p99 (below 10 s a bucket spans at most 28 % of its lower bound). Per-template figures are not
//! live: workers hand them in with their last shipment only.
//!
//! Series count, bounded and stated in the README: per stage 4 counters, the error kinds seen
//! (at most 15), and two histograms of 75 buckets + sum + count (154 series); plus at most 9
//! gauges. A 3-stage scenario: at most 528 series.

use crate::load::errors::ErrorKind;
use crate::load::worker::Shipment;
use engine::exposition::{labels, Exposition, Series};
use hdrhistogram::Histogram;
use results::IntervalRecord;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bucket upper bounds, nanoseconds: 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8 (R10) times
/// each power of ten from 1 µs to 1 s, then 10, 20, 30, 60 s. The +Inf bucket follows. Integers,
/// so a value's bucket is exact and each bound prints as its decimal ("0.00125").
pub const BOUNDS_NS: [u64; 74] = bounds();

const fn bounds() -> [u64; 74] {
    const R10: [u64; 10] = [1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000];
    let mut out = [0; 74];
    let mut decade = 0;
    let mut scale = 1;
    while decade < 7 {
        let mut i = 0;
        while i < 10 {
            out[decade * 10 + i] = R10[i] * scale;
            i += 1;
        }
        scale *= 10;
        decade += 1;
    }
    out[70] = 10_000_000_000;
    out[71] = 20_000_000_000;
    out[72] = 30_000_000_000;
    out[73] = 60_000_000_000;
    out
}

/// [`BOUNDS_NS`] in seconds, as the exposition prints them.
pub fn bounds_s() -> Vec<f64> {
    BOUNDS_NS.iter().map(|&ns| ns as f64 / 1e9).collect()
}

/// Counts per bucket (not cumulative), the last for values past 60 s, and the sum in seconds.
#[derive(Clone)]
struct Buckets {
    counts: [u64; BOUNDS_NS.len() + 1],
    sum_s: f64,
}

impl Buckets {
    /// An HDR histogram of nanoseconds in these buckets: each recorded value (its HDR bucket's
    /// highest equivalent, as the percentiles use) goes to the first bound at or above it.
    fn of(h: &Histogram<u64>) -> Buckets {
        let mut counts = [0; BOUNDS_NS.len() + 1];
        for v in h.iter_recorded() {
            let ns = v.value_iterated_to();
            counts[BOUNDS_NS.partition_point(|&b| b < ns)] += v.count_at_value();
        }
        Buckets {
            counts,
            sum_s: h.mean() * h.len() as f64 / 1e9,
        }
    }

    /// Adds a histogram's buckets: the same counts as bucketing the merged histogram, since
    /// every slice's histogram has the same HDR buckets.
    fn add(&mut self, h: &Histogram<u64>) {
        let b = Buckets::of(h);
        for (a, n) in self.counts.iter_mut().zip(b.counts) {
            *a += n;
        }
        self.sum_s += b.sum_s;
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            counts: [0; BOUNDS_NS.len() + 1],
            sum_s: 0.0,
        }
    }
}

/// One stage's totals as a scrape shows them, added up slice by slice: a few hundred bytes a
/// stage, where whole histograms per stage grew the harness by ~130 KiB at each stage start.
#[derive(Clone, Default)]
struct Totals {
    ops: u64,
    failed_ops: u64,
    submitted_tx: u64,
    committed_tx: u64,
    errors: [u64; ErrorKind::COUNT],
    latency: Buckets,
    lag: Buckets,
}

impl Totals {
    fn add(&mut self, s: &Shipment) {
        self.ops += s.ops;
        self.failed_ops += s.failed_ops;
        self.submitted_tx += s.submitted_tx;
        self.committed_tx += s.committed_tx;
        for (a, b) in self.errors.iter_mut().zip(&s.errors) {
            *a += b;
        }
        self.latency.add(&s.hist);
        self.lag.add(&s.lag);
    }
}

/// A counter family: its name, its help, and its figure in a stage's totals.
type Counter = (&'static str, &'static str, fn(&Totals) -> u64);

/// The latest interval's gauges.
#[derive(Clone, Default)]
struct Now {
    stage: usize,
    planned: f64,
    achieved: f64,
    backlog: u64,
    elapsed_s: f64,
    harness_cpu: Option<f64>,
    harness_rss: Option<u64>,
    target_cpu: Option<f64>,
    target_rss: Option<u64>,
}

/// What a run has done so far, shared between the collector and the metrics endpoint.
pub struct Live {
    scenario: String,
    segment: String,
    stage_names: Vec<String>,
    /// What each stage's planned and achieved load is counted in ("ops/s", "tx/s",
    /// "workers").
    units: Vec<&'static str>,
    /// Each stage's totals (as results.json's stages add them up), the latest interval's
    /// gauges, and whether the run is over.
    state: Mutex<(Vec<Totals>, Now, bool)>,
    /// Scrapes served since the run finished (the run waits for one).
    scrapes_after_end: AtomicU64,
}

impl Live {
    /// `segment`: "i/n" for an execution segment, "" otherwise.
    pub fn new(
        scenario: &str,
        segment: String,
        stage_names: Vec<String>,
        units: Vec<&'static str>,
    ) -> Live {
        let stages = stage_names.iter().map(|_| Totals::default()).collect();
        Live {
            scenario: scenario.to_string(),
            segment,
            stage_names,
            units,
            state: Mutex::new((stages, Now::default(), false)),
            scrapes_after_end: AtomicU64::new(0),
        }
    }

    /// Adds a worker's slice to its stage's totals (each slice to its own stage, as results.json
    /// counts them, even in an interval that spans two stages).
    pub fn add(&self, s: &Shipment) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(st) = guard.0.get_mut(s.stage) {
            st.add(s);
        }
    }

    /// A finalized interval's load and resources become the current gauges.
    pub fn interval(&self, rec: &IntervalRecord) {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        guard.1 = Now {
            stage: rec.stage,
            planned: rec.planned,
            achieved: rec.achieved_load,
            backlog: rec.backlog,
            elapsed_s: rec.t_s,
            harness_cpu: rec.harness_cpu_pct.map(|p| p / 100.0),
            harness_rss: rec.harness_rss_bytes,
            target_cpu: rec.target_cpu_pct.map(|p| p / 100.0),
            target_rss: rec.target_rss_bytes,
        };
    }

    /// The run is over: every interval is in.
    pub fn finish(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).2 = true;
    }

    /// Scrapes served since [`Live::finish`].
    pub fn scrapes_after_end(&self) -> u64 {
        self.scrapes_after_end.load(Ordering::Relaxed)
    }

    /// The text of one scrape.
    pub fn render(&self) -> String {
        let (stages, now, finished) = {
            let guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let (stages, now, finished) = &*guard;
            // Counts and buckets only: the lock is held for a few microseconds.
            (stages.clone(), now.clone(), *finished)
        };
        if finished {
            self.scrapes_after_end.fetch_add(1, Ordering::Relaxed);
        }
        let mut out = Exposition(String::with_capacity(16 * 1024));
        self.render_counters(&mut out, &stages);
        self.render_histograms(&mut out, &stages);
        self.render_gauges(&mut out, &now, finished);
        out.0
    }

    /// `scenario`, `segment` and, when given, `stage` and one more pair.
    fn labels(&self, stage: Option<usize>, extra: Option<(&str, &str)>) -> String {
        let mut pairs = vec![("scenario", self.scenario.as_str())];
        if !self.segment.is_empty() {
            pairs.push(("segment", self.segment.as_str()));
        }
        if let Some(s) = stage {
            pairs.push(("stage", self.stage_name(s)));
        }
        pairs.extend(extra);
        labels(&pairs)
    }

    fn stage_name(&self, i: usize) -> &str {
        self.stage_names.get(i).map_or("", String::as_str)
    }

    fn render_counters(&self, out: &mut Exposition, stages: &[Totals]) {
        let per_stage = |f: fn(&Totals) -> u64| -> Vec<(String, u64)> {
            (0..stages.len())
                .map(|i| (self.labels(Some(i), None), f(&stages[i])))
                .collect()
        };
        let counters: [Counter; 4] = [
            (
                "harness_operations_total",
                "Operations completed (requests or in-process batches), failed ones included.",
                |s| s.ops,
            ),
            (
                "harness_failed_operations_total",
                "Operations that failed as a whole (connect, timeout, io, status, check).",
                |s| s.failed_ops,
            ),
            (
                "harness_transactions_submitted_total",
                "Transactions the completed operations carried.",
                |s| s.submitted_tx,
            ),
            (
                "harness_transactions_committed_total",
                "Transactions the engine said it committed.",
                |s| s.committed_tx,
            ),
        ];
        for (name, help, f) in counters {
            out.family(name, "counter", help, &per_stage(f));
        }
        let mut errors = Vec::new();
        for (i, st) in stages.iter().enumerate() {
            for (k, &n) in ErrorKind::ALL.iter().zip(&st.errors) {
                if n > 0 {
                    errors.push((self.labels(Some(i), Some(("kind", k.as_str()))), n));
                }
            }
        }
        out.family(
            "harness_errors_total",
            "counter",
            "Errors by kind: failed requests, and rejected transfers (results.json's errors_by_kind).",
            &errors,
        );
    }

    fn render_histograms(&self, out: &mut Exposition, stages: &[Totals]) {
        let names: Vec<String> = (0..stages.len())
            .map(|i| self.labels(Some(i), None))
            .collect();
        let series = |f: fn(&Totals) -> &Buckets| -> Vec<Series<'_>> {
            stages
                .iter()
                .zip(&names)
                .map(|(s, l)| Series {
                    labels: l,
                    counts: &f(s).counts,
                    sum: f(s).sum_s,
                })
                .collect()
        };
        let bounds = bounds_s();
        out.histogram(
            "harness_latency_seconds",
            "Latency of the successful operations, from their intended start (open model) or send (closed model).",
            &bounds,
            &series(|s| &s.latency),
        );
        out.histogram(
            "harness_dispatch_lag_seconds",
            "How late the generator sent open-model operations (send time - max(intended start, connection free)).",
            &bounds,
            &series(|s| &s.lag),
        );
    }

    fn render_gauges(&self, out: &mut Exposition, now: &Now, finished: bool) {
        let unit = self.units.get(now.stage).copied().unwrap_or("ops/s");
        let here = self.labels(Some(now.stage), Some(("unit", unit)));
        out.family("harness_load_planned", "gauge", "The plan's load in the latest interval, in its unit (ops/s, tx/s, or workers for closed-model stages).", &[(here.clone(), now.planned)]);
        out.family(
            "harness_load_achieved",
            "gauge",
            "The load achieved in the latest interval, in the same unit.",
            &[(here, now.achieved)],
        );
        let run = self.labels(Some(now.stage), None);
        out.family(
            "harness_backlog_operations",
            "gauge",
            "Open-model operations due but not yet sent at the latest interval's end.",
            &[(run.clone(), now.backlog)],
        );
        out.family(
            "harness_elapsed_seconds",
            "gauge",
            "Seconds since the run's first stage started, at the latest interval's end.",
            &[(run.clone(), now.elapsed_s)],
        );
        out.family(
            "harness_finished",
            "gauge",
            "1 once the run is over (every interval is in these totals).",
            &[(run, u8::from(finished))],
        );
        let procs = |f: fn(&Now) -> (Option<f64>, Option<f64>)| -> Vec<(String, f64)> {
            let (h, t) = f(now);
            [("harness", h), ("target", t)]
                .into_iter()
                .filter_map(|(p, v)| Some((self.labels(None, Some(("process", p))), v?)))
                .collect()
        };
        out.family("harness_process_cpu_cores", "gauge", "CPU used in the latest interval, in cores, by the harness and by the target when it is a process we sample.", &procs(|n| (n.harness_cpu, n.target_cpu)));
        out.family(
            "harness_process_resident_memory_bytes",
            "gauge",
            "Resident set size at the latest interval's end.",
            &procs(|n| {
                (
                    n.harness_rss.map(|b| b as f64),
                    n.target_rss.map(|b| b as f64),
                )
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_rise_from_a_microsecond_to_a_minute() {
        let s = bounds_s();
        assert_eq!(
            (s[0], s[30], s[31], s[70], s[73]),
            (1e-6, 1e-3, 0.00125, 10.0, 60.0)
        );
        assert_eq!(s[31].to_string(), "0.00125");
        // Within the R10 decades a bucket spans at most 28 % of its lower bound.
        assert!(BOUNDS_NS[..70].windows(2).all(|w| w[1] * 100 <= w[0] * 128));
    }

    #[test]
    fn a_scrape_holds_each_stage_s_totals() {
        let live = Live::new(
            "s",
            String::new(),
            vec!["ramp".into(), "hold".into()],
            vec!["ops/s", "ops/s"],
        );
        let mut s = Shipment::new(0, 0, 1, None);
        for ns in [900_000u64, 1_100_000, 2_000_000] {
            let _ = s.hist.record(ns);
        }
        s.ops = 4;
        s.failed_ops = 1;
        s.errors[ErrorKind::Timeout as usize] = 1;
        live.add(&s);
        live.interval(&IntervalRecord {
            stage: 1,
            planned: 100.0,
            t_s: 1.0,
            ..IntervalRecord::default()
        });
        let text = live.render();
        assert!(
            text.contains("harness_operations_total{scenario=\"s\",stage=\"hold\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("harness_operations_total{scenario=\"s\",stage=\"ramp\"} 0\n"));
        assert!(text
            .contains("harness_errors_total{scenario=\"s\",stage=\"hold\",kind=\"timeout\"} 1\n"));
        // 0.9 ms and 1.1 ms fall in the buckets up to 1 ms and 1.25 ms; 2 ms in its own.
        assert!(
            text.contains(
                "harness_latency_seconds_bucket{scenario=\"s\",stage=\"hold\",le=\"0.001\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "harness_latency_seconds_bucket{scenario=\"s\",stage=\"hold\",le=\"0.00125\"} 2\n"
            ),
            "{text}"
        );
        assert!(text.contains("harness_latency_seconds_count{scenario=\"s\",stage=\"hold\"} 3\n"));
        assert!(text
            .contains("harness_load_planned{scenario=\"s\",stage=\"hold\",unit=\"ops/s\"} 100\n"));
        assert!(text.contains("harness_finished{scenario=\"s\",stage=\"hold\"} 0\n"));
    }
}
