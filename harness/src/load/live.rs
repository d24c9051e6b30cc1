//! Live metrics: what the run has done so far, as Prometheus text for `harness run
//! --metrics-addr` (the run's metrics endpoint serves it), so a long run can be watched on the
//! dashboards people already have.
//!
//! A run adds its stages ([`Live::stages`]; a capacity search each probe's as it starts, so
//! its probes are watched live too) and gets a [`Feed`]: the collector hands it each worker's
//! slice as it arrives and each interval's load and resources as it finalizes it; a scrape
//! renders the totals so far ([`Live::render`]), each stage's exactly as results.json will
//! count it. Counters are per stage (label `stage`), so a dashboard can tell the ramp from the
//! hold and a rate() never mixes them; the labels `scenario` and `segment` tell runs and
//! segments apart. Latency and dispatch lag are histograms on one fixed log-linear layout
//! ([`crate::load::buckets`]: ten buckets a decade from 1 µs to 60 s), fine enough that
//! `histogram_quantile(0.99, ...)` over a run lands in the same bucket as results.json's p99.
//! HTTP runs of several request templates also get each template's counters and latency in
//! each stage (`harness_template_*`, label `template`), from the per-slice figures workers ship
//! when live metrics are on ([`crate::load::template_live`]); a stage's template series add up
//! to its own.
//!
//! Series count, bounded and stated in the README: per stage 4 counters, the error kinds seen
//! (at most 15), and two histograms of 75 buckets + sum + count (173 series); plus at most 9
//! gauges. A 3-stage scenario: at most 528 series. Per template and stage: 4 counters, the
//! kinds seen and one histogram (96 at most): a 3-stage, 3-template scenario adds at most 864.
//! A capacity search has the stages of its probes (at most `max_probes` held stages, each with
//! a settle stage, and the first probe's warm-ups).

use crate::load::buckets::{bounds_s, Buckets};
use crate::load::errors::ErrorKind;
use crate::load::shipment::Shipment;
use crate::load::template_live::OpCounts;
use engine::exposition::{labels, Exposition, Series};
use results::IntervalRecord;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One stage as a scrape shows it: its name and unit, its totals added up slice by slice (a
/// few hundred bytes, where whole histograms per stage grew the harness by ~130 KiB at each
/// stage start), and each request template's (only when the run tallies templates).
#[derive(Clone)]
struct Stage {
    name: String,
    /// What the stage's planned and achieved load is counted in ("ops/s", "tx/s", "workers").
    unit: &'static str,
    all: OpCounts,
    lag: Buckets,
    templates: Vec<OpCounts>,
}

impl Stage {
    fn add(&mut self, s: &Shipment) {
        self.all.counts.add(&s.counts);
        self.all.latency.add_histogram(&s.hist);
        self.lag.add_histogram(&s.lag);
        for (t, slice) in self.templates.iter_mut().zip(&s.template_live) {
            t.add(slice);
        }
    }
}

/// A counter family: its name's end (after `harness_` or `harness_template_`), its help, and
/// its figure in a stage's or a template's counts.
type Counter = (&'static str, &'static str, fn(&OpCounts) -> u64);

const COUNTERS: [Counter; 4] = [
    (
        "operations_total",
        "Operations completed (requests or in-process batches), failed ones included.",
        |s| s.counts.ops,
    ),
    (
        "failed_operations_total",
        "Operations that failed as a whole (connect, timeout, io, status, check).",
        |s| s.counts.failed_ops,
    ),
    (
        "transactions_submitted_total",
        "Transactions the completed operations carried.",
        |s| s.counts.submitted_tx,
    ),
    (
        "transactions_committed_total",
        "Transactions the engine said it committed.",
        |s| s.counts.committed_tx,
    ),
];

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

/// The stages so far, the latest interval's gauges, and whether the run is over.
#[derive(Clone, Default)]
struct State {
    stages: Vec<Stage>,
    now: Now,
    finished: bool,
}

/// What a run has done so far, shared between the collector and the metrics endpoint.
pub struct Live {
    scenario: String,
    segment: String,
    /// The request templates' names when the run tallies them apart (else empty).
    templates: Vec<String>,
    state: Mutex<State>,
    /// Scrapes served since the run finished (the run waits for one).
    scrapes_after_end: AtomicU64,
}

/// One run's (or one capacity probe's) way into the [`Live`] totals: its stage `i` is the
/// totals' stage `first + i`.
#[derive(Clone)]
pub struct Feed {
    pub live: Arc<Live>,
    first: usize,
}

impl Feed {
    /// Adds a worker's slice to its stage's totals (each slice to its own stage, as
    /// results.json counts them, even in an interval that spans two stages).
    pub fn add(&self, s: &Shipment) {
        let mut st = self.live.lock();
        if let Some(stage) = st.stages.get_mut(self.first + s.stage) {
            stage.add(s);
        }
    }

    /// A finalized interval's load and resources become the current gauges.
    pub fn interval(&self, rec: &IntervalRecord) {
        self.live.lock().now = Now {
            stage: self.first + rec.stage,
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
}

impl Live {
    /// `segment`: "i/n" for an execution segment, "" otherwise; `templates`: the request
    /// templates' names when the run tallies them apart. Stages come with [`Live::stages`].
    pub fn new(scenario: &str, segment: String, templates: Vec<String>) -> Live {
        Live {
            scenario: scenario.to_string(),
            segment,
            templates,
            state: Mutex::new(State::default()),
            scrapes_after_end: AtomicU64::new(0),
        }
    }

    /// Adds a run's stages (`(name, unit)`: a whole run's at once, each capacity probe's as it
    /// starts) and returns the way to feed them.
    pub fn stages(self: &Arc<Live>, stages: Vec<(String, &'static str)>) -> Feed {
        let mut st = self.lock();
        let first = st.stages.len();
        st.stages
            .extend(stages.into_iter().map(|(name, unit)| Stage {
                name,
                unit,
                all: OpCounts::default(),
                lag: Buckets::default(),
                templates: vec![OpCounts::default(); self.templates.len()],
            }));
        Feed {
            live: Arc::clone(self),
            first,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The run is over: every interval is in.
    pub fn finish(&self) {
        self.lock().finished = true;
    }

    /// Scrapes served since [`Live::finish`].
    pub fn scrapes_after_end(&self) -> u64 {
        self.scrapes_after_end.load(Ordering::Relaxed)
    }

    /// The text of one scrape.
    pub fn render(&self) -> String {
        // Counts and buckets only: the lock is held for a few microseconds.
        let st = self.lock().clone();
        if st.finished {
            self.scrapes_after_end.fetch_add(1, Ordering::Relaxed);
        }
        let mut out = Exposition(String::with_capacity(16 * 1024));
        let rows: Vec<Row<'_>> = st.stages.iter().map(|s| (Some(s), None, &s.all)).collect();
        self.render_counters(&mut out, "harness_", &rows);
        let names: Vec<String> = rows.iter().map(|r| self.labels(r.0, None, None)).collect();
        let bounds = bounds_s();
        out.histogram(
            "harness_latency_seconds",
            "Latency of the successful operations, from their intended start (open model) or send (closed model).",
            &bounds,
            &st.stages.iter().zip(&names).map(|(s, l)| series(l, &s.all.latency)).collect::<Vec<_>>(),
        );
        out.histogram(
            "harness_dispatch_lag_seconds",
            "How late the generator sent open-model operations (send time - max(intended start, connection free)).",
            &bounds,
            &st.stages.iter().zip(&names).map(|(s, l)| series(l, &s.lag)).collect::<Vec<_>>(),
        );
        self.render_gauges(&mut out, &st);
        if !self.templates.is_empty() {
            self.render_templates(&mut out, &st.stages, &bounds);
        }
        out.0
    }

    /// Each request template's counters and latency in each stage: the same families with
    /// `harness_template_` and a `template` label.
    fn render_templates(&self, out: &mut Exposition, stages: &[Stage], bounds: &[f64]) {
        let rows: Vec<Row<'_>> = stages
            .iter()
            .flat_map(|s| {
                s.templates
                    .iter()
                    .enumerate()
                    .map(move |(t, c)| (Some(s), Some(t), c))
            })
            .collect();
        self.render_counters(out, "harness_template_", &rows);
        let names: Vec<String> = rows.iter().map(|r| self.labels(r.0, r.1, None)).collect();
        out.histogram(
            "harness_template_latency_seconds",
            "Latency of each request template's successful requests (timed ones in their stage, setup ones in the stage they were sent in).",
            bounds,
            &rows.iter().zip(&names).map(|(r, l)| series(l, &r.2.latency)).collect::<Vec<_>>(),
        );
    }

    /// The four counter families and the errors by kind (only the kinds seen) of `rows`,
    /// each family named `prefix` + its name.
    fn render_counters(&self, out: &mut Exposition, prefix: &str, rows: &[Row<'_>]) {
        for (name, help, f) in COUNTERS {
            let values: Vec<(String, u64)> = rows
                .iter()
                .map(|&(s, t, c)| (self.labels(s, t, None), f(c)))
                .collect();
            out.family(&format!("{prefix}{name}"), "counter", help, &values);
        }
        let mut errors = Vec::new();
        for &(s, t, c) in rows {
            for (k, &n) in ErrorKind::ALL.iter().zip(&c.counts.errors) {
                if n > 0 {
                    errors.push((self.labels(s, t, Some(("kind", k.as_str()))), n));
                }
            }
        }
        out.family(
            &format!("{prefix}errors_total"),
            "counter",
            "Errors by kind: failed requests, and rejected transfers (results.json's errors_by_kind).",
            &errors,
        );
    }

    /// `scenario`, `segment` and, when given, `stage`, `template` and one more pair.
    fn labels(
        &self,
        stage: Option<&Stage>,
        template: Option<usize>,
        extra: Option<(&str, &str)>,
    ) -> String {
        let mut pairs = vec![("scenario", self.scenario.as_str())];
        if !self.segment.is_empty() {
            pairs.push(("segment", self.segment.as_str()));
        }
        if let Some(s) = stage {
            pairs.push(("stage", s.name.as_str()));
        }
        if let Some(t) = template.and_then(|t| self.templates.get(t)) {
            pairs.push(("template", t.as_str()));
        }
        pairs.extend(extra);
        labels(&pairs)
    }

    fn render_gauges(&self, out: &mut Exposition, st: &State) {
        let now = &st.now;
        let stage = st.stages.get(now.stage);
        let unit = stage.map_or("ops/s", |s| s.unit);
        let here = self.labels(stage, None, Some(("unit", unit)));
        out.family("harness_load_planned", "gauge", "The plan's load in the latest interval, in its unit (ops/s, tx/s, or workers for closed-model stages).", &[(here.clone(), now.planned)]);
        out.family(
            "harness_load_achieved",
            "gauge",
            "The load achieved in the latest interval, in the same unit.",
            &[(here, now.achieved)],
        );
        let run = self.labels(stage, None, None);
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
            &[(run, u8::from(st.finished))],
        );
        let procs = |f: fn(&Now) -> (Option<f64>, Option<f64>)| -> Vec<(String, f64)> {
            let (h, t) = f(now);
            [("harness", h), ("target", t)]
                .into_iter()
                .filter_map(|(p, v)| Some((self.labels(None, None, Some(("process", p))), v?)))
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

/// A series of counts: its stage and template (for its labels) and the counts.
type Row<'a> = (Option<&'a Stage>, Option<usize>, &'a OpCounts);

fn series<'a>(labels: &'a str, b: &'a Buckets) -> Series<'a> {
    Series {
        labels,
        counts: &b.counts,
        sum: b.sum_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_holds_each_stage_s_totals() {
        let live = Arc::new(Live::new("s", String::new(), Vec::new()));
        let feed = live.stages(vec![("ramp".into(), "ops/s"), ("hold".into(), "ops/s")]);
        let mut s = Shipment::new(0, 1, None);
        for ns in [900_000u64, 1_100_000, 2_000_000] {
            let _ = s.hist.record(ns);
        }
        s.counts.ops = 4;
        s.counts.failed_ops = 1;
        s.counts.errors[ErrorKind::Timeout as usize] = 1;
        feed.add(&s);
        feed.interval(&IntervalRecord {
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

    /// A stage's slice of three templates' requests, each template's figures recorded as the
    /// worker records them.
    fn slice_of_templates(stage: usize) -> Shipment {
        use crate::load::errors::OpOutcome;
        let mut s = Shipment::new(0, stage, None);
        s.template_live = vec![OpCounts::default(); 3];
        let values = [
            (0, 1_249),
            (0, 1_000_000),
            (1, 1_251),
            (1, 7_000_000),
            (2, 40_000),
        ];
        for (t, ns) in values {
            let _ = s.hist.record(ns);
            let ok = OpOutcome::default().of_template(t);
            s.template_live[t].record(ns, &ok, &s.hist);
        }
        let failed = OpOutcome::failure(ErrorKind::Status5xx, 0).of_template(2);
        s.template_live[2].record(3_000, &failed, &s.hist);
        s.counts.ops = 6;
        s.counts.failed_ops = 1;
        s.counts.errors[ErrorKind::Status5xx as usize] = 1;
        s
    }

    /// The value of the sample whose line starts with `head` (name and labels).
    fn sample(text: &str, head: &str) -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(head))
            .unwrap_or_else(|| panic!("{head}\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn template_series_add_up_to_their_stage_bucket_by_bucket() {
        let names = vec!["get".to_string(), "post".into(), "setup".into()];
        let live = Arc::new(Live::new("s", String::new(), names));
        let feed = live.stages(vec![("hold".into(), "ops/s")]);
        feed.add(&slice_of_templates(0));
        feed.add(&slice_of_templates(0));
        let st = live.lock().clone();
        let stage = &st.stages[0];
        let mut sum = Buckets::default();
        for t in &stage.templates {
            sum.add(&t.latency);
        }
        assert_eq!(sum.counts, stage.all.latency.counts);
        assert_eq!(
            stage.templates.iter().map(|t| t.counts.ops).sum::<u64>(),
            stage.all.counts.ops
        );
        let text = live.render();
        let at = |t: &str| format!("scenario=\"s\",stage=\"hold\",template=\"{t}\"");
        assert_eq!(
            sample(
                &text,
                &format!("harness_template_operations_total{{{}}}", at("post"))
            ),
            4.0
        );
        assert_eq!(
            sample(
                &text,
                &format!(
                    "harness_template_failed_operations_total{{{}}}",
                    at("setup")
                )
            ),
            2.0
        );
        assert_eq!(
            sample(
                &text,
                &format!(
                    "harness_template_errors_total{{{},kind=\"status_5xx\"}}",
                    at("setup")
                )
            ),
            2.0
        );
        // 1,251 ns is above the 1.25 µs bound; 7 ms is in the bucket up to 8 ms.
        let le = |t: &str, le: &str| {
            format!(
                "harness_template_latency_seconds_bucket{{{},le=\"{le}\"}}",
                at(t)
            )
        };
        assert_eq!(sample(&text, &le("post", "0.00000125")), 0.0);
        assert_eq!(sample(&text, &le("post", "0.0000016")), 2.0);
        assert_eq!(sample(&text, &le("post", "0.008")), 4.0);
        assert_eq!(
            sample(
                &text,
                &format!("harness_template_latency_seconds_count{{{}}}", at("setup"))
            ),
            2.0
        );
        // Each family once: a family's samples must be contiguous.
        let types = text
            .lines()
            .filter(|l| l.starts_with("# TYPE harness_template_operations_total "))
            .count();
        assert_eq!(types, 1);
    }

    #[test]
    fn probes_add_stages_as_they_start_and_the_gauges_follow_them() {
        let live = Arc::new(Live::new("s", String::new(), Vec::new()));
        let first = live.stages(vec![("warmup".into(), "ops/s"), ("probe 1".into(), "tx/s")]);
        let mut s = Shipment::new(0, 1, None);
        s.counts.ops = 5;
        first.add(&s);
        let second = live.stages(vec![("probe 2".into(), "tx/s")]);
        s.stage = 0;
        s.counts.ops = 7;
        second.add(&s);
        second.interval(&IntervalRecord {
            stage: 0,
            planned: 2000.0,
            ..IntervalRecord::default()
        });
        let text = live.render();
        assert_eq!(
            sample(
                &text,
                "harness_operations_total{scenario=\"s\",stage=\"probe 1\"}"
            ),
            5.0
        );
        assert_eq!(
            sample(
                &text,
                "harness_operations_total{scenario=\"s\",stage=\"probe 2\"}"
            ),
            7.0
        );
        assert_eq!(
            sample(
                &text,
                "harness_operations_total{scenario=\"s\",stage=\"warmup\"}"
            ),
            0.0
        );
        assert_eq!(
            sample(
                &text,
                "harness_load_planned{scenario=\"s\",stage=\"probe 2\",unit=\"tx/s\"}"
            ),
            2000.0
        );
        assert!(
            !text.contains("harness_template_"),
            "no templates, no template series"
        );
    }
}
