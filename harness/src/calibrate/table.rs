//! The calibration as a table for people: every figure with a line saying what it means for
//! the figures a run on this machine will report.
//!
//! It only reads a [`Calibration`] (the JSON is the canonical record) and formats numbers
//! through `report::fmt`, like every other output.

use super::record::{Calibration, DispatchFigures, Machine, TimerFigures};
use report::fmt;

/// One row: the figure, what was measured, what it means.
type Row = (String, String, String);

/// The whole table, ending with a newline.
pub fn render(c: &Calibration) -> String {
    let mut rows: Vec<Row> = Vec::new();
    rows.extend(c.timers.iter().map(timer_row));
    for d in &c.dispatch {
        rows.extend(dispatch_rows(d));
    }
    if let Some(l) = &c.loopback {
        rows.push((
            "loopback round trip (keep-alive HTTP/1.1)".into(),
            format!(
                "p50 {}, p99 {} (n = {})",
                fmt::latency_us(l.p50_us),
                fmt::latency_us(l.p99_us),
                fmt::count(l.requests)
            ),
            format!(
                "no HTTP latency under {} is measurable here; a p99 near {} is this machine, not the target",
                fmt::latency_us(l.p50_us),
                fmt::latency_us(l.p99_us)
            ),
        ));
    }
    rows.extend(cost_rows(c));
    rows.extend(machine_rows(&c.machine));
    let mut out = header(c);
    out.push_str(&grid(&rows));
    for n in &c.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

fn header(c: &Calibration) -> String {
    let commit = c
        .git_commit
        .as_deref()
        .map_or_else(String::new, |g| format!(" ({})", fmt::short_hash(g)));
    let coarse = c.coarse_timer_us.map_or_else(String::new, |q| {
        format!(", waits coarsened to {} on purpose", fmt::latency_us(q))
    });
    format!(
        "Calibration of {} ({}) at {}: {} mode, {}, harness {}{commit}{coarse}\n\n",
        c.host,
        c.cpu_model,
        c.measured_at,
        c.mode,
        fmt::duration_s(c.wall_s),
        c.harness_version
    )
}

fn timer_row(t: &TimerFigures) -> Row {
    let who = match t.kind.as_str() {
        "thread" => "in-process workers' waits",
        "pacer" => "HTTP open-model sends (timerfd leader)",
        _ => "tokio timer waits (HTTP followers, leader off Linux)",
    };
    (
        format!("{} wait of {}", t.kind, fmt::latency_us(t.requested_us)),
        format!(
            "+{} p50, +{} p99, +{} max (n = {})",
            fmt::latency_us(t.overshoot_p50_us),
            fmt::latency_us(t.overshoot_p99_us),
            fmt::latency_us(t.overshoot_max_us),
            fmt::count(t.samples)
        ),
        format!(
            "{who} end up to {} late at p99",
            fmt::latency_us(t.overshoot_p99_us)
        ),
    )
}

fn dispatch_rows(d: &DispatchFigures) -> Vec<Row> {
    let who = if d.driver == "http" {
        "HTTP, 1 generator thread"
    } else {
        "in-process, 1 worker"
    };
    // "≥": the last step still held, so the ramp ran out before the generator did.
    let up_to = |r: Option<f64>, limit_us: f64| match r {
        None => "none".to_string(),
        Some(r) if d.ran_out_at(r, limit_us) => {
            format!("≥ {} (highest tried)", fmt::rate(r, "ops/s"))
        }
        Some(r) => fmt::rate(r, "ops/s"),
    };
    let mut rows = vec![(
        format!("dispatch rate ({who})"),
        format!(
            "p99 < 100 µs up to {}; < 1 ms up to {}",
            up_to(d.max_rate_p99_under_100us, 100.0),
            up_to(d.max_rate_p99_under_1ms, 1_000.0)
        ),
        "above the 1 ms rate one thread cannot keep to the schedule: add threads, segments or cores"
            .into(),
    )];
    if let Some(p) = d.precision() {
        rows.push((
            format!("dispatch precision ({who})"),
            format!(
                "lag p50 {}, p99 {}, p99.9 {} at {}",
                fmt::latency_us(p.lag_p50_us),
                fmt::latency_us(p.lag_p99_us),
                fmt::latency_us(p.lag_p999_us),
                fmt::rate(p.rate, "ops/s")
            ),
            format!(
                "operations may start up to {} late at p99: do not judge a p99 below that with this machine (--calibration makes such a run invalid)",
                fmt::latency_us(p.lag_p99_us)
            ),
        ));
    }
    rows
}

fn cost_rows(c: &Calibration) -> Vec<Row> {
    let per_op_ns = c.recorder.ns_per_value + 2.0 * c.clock.read_ns;
    let flags = [
        ("constant_tsc", c.clock.constant_tsc),
        ("nonstop_tsc", c.clock.nonstop_tsc),
    ]
    .iter()
    .map(|(f, on)| format!("{}{f}", if *on { "" } else { "no " }))
    .collect::<Vec<_>>()
    .join(", ");
    let source = c.clock.source.as_deref().unwrap_or("unknown");
    let steady = source == "tsc" && c.clock.constant_tsc && c.clock.nonstop_tsc;
    vec![
        (
            "recording one latency (HDR)".into(),
            format!("{} per value", fmt::latency_us(c.recorder.ns_per_value / 1e3)),
            format!(
                "with two clock reads the harness spends {} per operation: a latency of that order is partly the harness",
                fmt::latency_us(per_op_ns / 1e3)
            ),
        ),
        (
            "clock source".into(),
            format!(
                "{source} ({flags}), {} per read",
                fmt::latency_us(c.clock.read_ns / 1e3)
            ),
            if steady {
                "a steady TSC: timestamps are cheap and comparable across cores".into()
            } else {
                "not a steady TSC: reads may be slow or drift across cores; distrust figures under ~10 µs".into()
            },
        ),
    ]
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "not readable".to_string(), f)
}

fn machine_rows(m: &Machine) -> Vec<Row> {
    let smt = opt(m.threads_per_core, |t| {
        format!("hardware threads per core {t}")
    });
    vec![
        (
            "cores".into(),
            format!("{} ({smt}; SMT {})", m.cores, m.smt.as_deref().unwrap_or("unknown")),
            "the generator, the target and everything else share these".into(),
        ),
        (
            "CPU frequency".into(),
            format!(
                "{} MHz, governor {}",
                opt(m.cpu_mhz, report::fmt::sig3),
                m.governor.as_deref().unwrap_or("not exposed")
            ),
            "a power-saving governor (or none exposed, as in most VMs) lets the clock rate move between runs".into(),
        ),
        (
            "transparent huge pages".into(),
            m.thp.clone().unwrap_or_else(|| "not readable".into()),
            "\"always\" can stall an allocation for compaction: a rare long latency".into(),
        ),
        (
            "load average (1, 5, 15 min)".into(),
            opt(m.load_avg, |l| l.map(fmt::sig3).join(", ")),
            format!(
                "over {} (the cores), runnable tasks were waiting for a CPU",
                m.cores
            ),
        ),
        (
            "other processes' CPU meanwhile".into(),
            format!(
                "{} of all cores (this calibration {}, steal {})",
                opt(m.others_cpu_pct, fmt::pct),
                opt(m.own_cpu_pct, fmt::pct),
                opt(m.steal_pct, fmt::pct)
            ),
            "what else ran while measuring: the figures above hold for a machine this busy".into(),
        ),
    ]
}

/// Rows in three aligned columns under a heading (widths in characters: "µ" is one).
fn grid(rows: &[Row]) -> String {
    let width = |f: fn(&Row) -> &String, head: &str| {
        rows.iter()
            .map(|r| f(r).chars().count())
            .chain([head.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let (a, b) = (width(|r| &r.0, "figure"), width(|r| &r.1, "measured"));
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w - s.chars().count()));
    let mut out = format!("{}  {}  meaning\n", pad("figure", a), pad("measured", b));
    for r in rows {
        out.push_str(&format!("{}  {}  {}\n", pad(&r.0, a), pad(&r.1, b), r.2));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_meaning_and_the_columns_align() {
        let c = crate::calibrate::record::tests::sample("h", "2026-12-01T06:00:00Z", 1_100.0);
        let t = render(&c);
        assert!(
            t.starts_with("Calibration of h (Test CPU) at 2026-12-01T06:00:00Z"),
            "{t}"
        );
        assert!(
            t.contains("operations may start up to 1.10 ms late at p99"),
            "{t}"
        );
        let lines: Vec<&str> = t.lines().skip(2).collect();
        let col = lines[0].find("measured").unwrap();
        for l in &lines {
            assert!(
                l.split("  ").filter(|s| !s.trim().is_empty()).count() >= 3,
                "{l}"
            );
        }
        assert!(lines[1].chars().nth(col - 1) == Some(' '), "{}", lines[1]);
        assert!(
            t.contains("p99 < 100 µs up to none; < 1 ms up to 1k ops/s "),
            "{t}"
        );
        // A last step that held: the ramp ran out of steps, not the generator.
        let held = crate::calibrate::record::tests::sample("h", "2026-12-01T06:00:00Z", 500.0);
        let t = render(&held);
        assert!(t.contains("< 1 ms up to ≥ 1k ops/s (highest tried)"), "{t}");
    }
}
