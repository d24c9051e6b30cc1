//! The report's content, decided once and independent of format.
//!
//! [`build`] turns a [`RunResult`] into a list of [`Block`]s (headings, paragraphs, tables,
//! charts) in the order the brief fixes: verdict, criteria, scenario, environment, charts,
//! stages, errors, resources, audit, profile, capacity, segment. Markdown, HTML and PDF only
//! decide how each kind of block looks, so the three formats cannot drift apart in content.

use results::{CriterionStatus, RunResult, Status};

use crate::charts::Chart;
use crate::fmt;

/// Column alignment in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Emphasis for a table cell or a badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Bad,
    Muted,
    /// A row that sums up the rows above (bold).
    Total,
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }
    fn tone(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone,
        }
    }
}

/// A table with a header row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<(String, Align)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|(n, a)| (n.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }
    fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }
}

/// One piece of the report.
#[derive(Debug, Clone)]
pub enum Block {
    /// The document title (once, first).
    Title(String),
    /// A line under the title (run identity).
    Subtitle(String),
    /// A section heading.
    Heading(String),
    /// The run verdict: status and reasons.
    Verdict {
        status: Status,
        reasons: Vec<String>,
    },
    Paragraph(String),
    /// Small, secondary text (units, bases, caveats).
    Note(String),
    Bullets(Vec<String>),
    /// Label/value pairs.
    Pairs(Vec<(String, String)>),
    Table(Table),
    /// A chart (index into the chart list) with its caption.
    Chart(usize),
    /// A link to a file or URL.
    Link {
        label: String,
        href: String,
    },
    /// Monospaced text (paths, hashes).
    Code(String),
}

/// The whole report.
pub struct Doc {
    pub blocks: Vec<Block>,
}

/// The human label of a criterion status.
pub fn criterion_status_label(s: CriterionStatus) -> (&'static str, Tone) {
    match s {
        CriterionStatus::Pass => ("✓ pass", Tone::Good),
        CriterionStatus::Fail => ("✗ FAIL", Tone::Bad),
        CriterionStatus::NotMeasured => ("– not measured", Tone::Muted),
    }
}

/// The human label of a run status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Aborted => "ABORTED",
        Status::Invalid => "INVALID",
    }
}

/// One sentence saying what the status means.
pub fn status_meaning(s: Status) -> &'static str {
    match s {
        Status::Pass => "Every criterion was met.",
        Status::Fail => "At least one criterion was not met.",
        Status::Aborted => "The run was stopped before it finished; figures cover only what ran.",
        Status::Invalid => "The figures of this run cannot be trusted.",
    }
}

/// Unit of the throughput that matters: committed transactions, or operations when the target
/// does not report commits (a plain HTTP service).
pub fn throughput_basis(r: &RunResult) -> (&'static str, bool) {
    let committed = r.summary.committed > 0 || r.intervals.iter().any(|i| i.committed > 0);
    if committed || r.summary.ops == 0 {
        ("tx/s", true)
    } else {
        ("ops/s", false)
    }
}

/// The criteria table as teams write it by hand.
pub fn criteria_table(r: &RunResult) -> Table {
    let mut t = Table::new(&[
        ("Criterion", Align::Left),
        ("Target", Align::Right),
        ("Measured", Align::Right),
        ("Status", Align::Left),
    ]);
    for c in &r.criteria {
        let (label, tone) = criterion_status_label(c.status);
        t.row(vec![
            Cell::plain(&c.label),
            Cell::plain(&c.target),
            Cell::plain(&c.measured),
            Cell::tone(label, tone),
        ]);
    }
    t
}

/// Driver and latency basis in one sentence.
pub fn driver_sentence(r: &RunResult) -> String {
    let d = &r.driver;
    let mut s = format!("Driver: {}; latency basis: {}", d.name, d.latency_basis);
    if let Some(res) = fmt::resolution_ns(d.latency_resolution_ns) {
        s.push_str(&format!(
            "; resolution {res} (latencies below that are not distinguished)"
        ));
    }
    if let Some(b) = d.batch_size {
        if b > 1 {
            s.push_str(&format!(
                "; one operation = a batch of {} transactions",
                fmt::count(b)
            ));
        }
    }
    s.push('.');
    s
}

/// Build the report content. `charts` are the charts that will be shown, in order.
pub fn build(r: &RunResult, charts: &[Chart]) -> Doc {
    let mut b = Vec::new();
    let sc = &r.scenario;
    b.push(Block::Title(format!("Load test report: {}", sc.name)));
    b.push(Block::Subtitle(format!(
        "{} · {} · {}",
        fmt::timestamp(&r.environment.started_at),
        sc.target,
        r.environment.hostname.as_deref().unwrap_or("unknown host")
    )));

    // 1. Verdict.
    b.push(Block::Heading("Verdict".into()));
    b.push(Block::Verdict {
        status: r.verdict.status,
        reasons: r.verdict.reasons.clone(),
    });
    b.push(Block::Paragraph(steady_sentence(r)));

    // 2. Criteria.
    b.push(Block::Heading("Criteria".into()));
    if r.criteria.is_empty() {
        b.push(Block::Paragraph("The scenario sets no criteria.".into()));
    } else {
        b.push(Block::Table(criteria_table(r)));
        b.push(Block::Note(
            "Judged on the steady state (after warm-up). \"Not measured\" criteria did not count \
             towards the verdict."
                .into(),
        ));
    }

    // 3. Scenario and planned stages.
    b.push(Block::Heading("Scenario".into()));
    if let Some(d) = &sc.description {
        b.push(Block::Paragraph(d.clone()));
    }
    let mut pairs = vec![
        ("Scenario".to_string(), sc.name.clone()),
        ("File".to_string(), sc.file.clone()),
        (
            "SHA-256".to_string(),
            fmt::short_hash(&sc.sha256).to_string(),
        ),
        ("Target".to_string(), sc.target.clone()),
        ("Target kind".to_string(), sc.target_kind.clone()),
    ];
    if (sc.duration_scale - 1.0).abs() > 1e-9 {
        pairs.push((
            "Duration scale".into(),
            format!("×{}", fmt::sig3(sc.duration_scale)),
        ));
    }
    if let Some(t) = sc.target_tps {
        pairs.push(("Throughput target".into(), fmt::rate(t, "tx/s")));
    }
    if let Some(seg) = &r.segment {
        pairs.push((
            "Segment".into(),
            match &seg.merged {
                Some(m) => format!("merged: {} of {} segments", m.present.len(), seg.count),
                None => format!("{}/{} (0-based)", seg.index, seg.count),
            },
        ));
    }
    b.push(Block::Pairs(pairs));
    b.push(Block::Paragraph(driver_sentence(r)));
    if !r.driver.notes.is_empty() {
        b.push(Block::Bullets(r.driver.notes.clone()));
    }
    if !sc.stages_planned.is_empty() {
        let mut t = Table::new(&[
            ("#", Align::Right),
            ("Stage", Align::Left),
            ("Model", Align::Left),
            ("Load", Align::Right),
            ("Duration", Align::Right),
            ("Counts", Align::Left),
        ]);
        for (i, p) in sc.stages_planned.iter().enumerate() {
            t.row(vec![
                Cell::plain((i + 1).to_string()),
                Cell::plain(&p.name),
                Cell::plain(match p.model {
                    results::LoadModel::Closed => "closed",
                    results::LoadModel::Open => "open",
                }),
                Cell::plain(fmt::load(p.from, p.to, &p.unit)),
                Cell::plain(fmt::duration_s(p.duration_s)),
                if p.warmup {
                    Cell::tone("warm-up (excluded)", Tone::Muted)
                } else {
                    Cell::plain("steady state")
                },
            ]);
        }
        b.push(Block::Table(t));
    }

    // 4. Environment.
    b.push(Block::Heading("Environment".into()));
    let e = &r.environment;
    let mut env = vec![
        (
            "CPU".to_string(),
            format!("{} ({} cores)", e.cpu_model, e.cores),
        ),
        ("Memory".to_string(), fmt::bytes(e.memory_bytes)),
        (
            "OS".to_string(),
            match &e.kernel {
                Some(k) => format!("{} (kernel {k})", e.os),
                None => e.os.clone(),
            },
        ),
    ];
    if let Some(h) = &e.hostname {
        env.push(("Host".into(), h.clone()));
    }
    if let Some(rc) = &e.rustc {
        env.push(("Compiler".into(), rc.clone()));
    }
    env.push((
        "Harness".into(),
        match &e.git_commit {
            Some(c) => format!("{} (commit {})", e.harness_version, fmt::short_hash(c)),
            None => e.harness_version.clone(),
        },
    ));
    env.push((
        "Run".into(),
        format!(
            "{} to {}",
            fmt::timestamp(&e.started_at),
            fmt::timestamp(&e.finished_at)
        ),
    ));
    b.push(Block::Pairs(env));

    // 5. Charts.
    b.push(Block::Heading("Charts".into()));
    if charts.is_empty() {
        b.push(Block::Paragraph(
            "No interval data was recorded, so there is nothing to chart.".into(),
        ));
    }
    for i in 0..charts.len() {
        b.push(Block::Chart(i));
    }

    // 6. Stages as run.
    b.push(Block::Heading("Results by stage".into()));
    if r.stages.is_empty() && r.summary.ops == 0 {
        b.push(Block::Paragraph("No stage completed any operation.".into()));
    } else {
        b.push(stage_table(r));
    }
    b.push(Block::Note(format!(
        "Latency basis: {}. TPS counts committed transactions; ops/s counts driver operations.",
        r.driver.latency_basis
    )));

    // 7. Errors by kind.
    b.push(Block::Heading("Errors".into()));
    if r.summary.errors_by_kind.is_empty() {
        b.push(Block::Paragraph(format!(
            "No errors in the steady state ({} operations).",
            fmt::count(r.summary.ops)
        )));
    } else {
        let mut t = Table::new(&[
            ("Kind", Align::Left),
            ("Count", Align::Right),
            ("Share of operations", Align::Right),
        ]);
        let mut kinds: Vec<_> = r.summary.errors_by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (k, n) in kinds {
            t.row(vec![
                Cell::plain(k),
                Cell::plain(fmt::count(*n)),
                Cell::plain(share(*n, r.summary.ops)),
            ]);
        }
        t.row(vec![
            Cell::tone("total", Tone::Total),
            Cell::tone(fmt::count(r.summary.errors), Tone::Total),
            Cell::tone(fmt::fraction_pct(r.summary.error_rate), Tone::Total),
        ]);
        b.push(Block::Table(t));
        b.push(Block::Note("Steady state only (warm-up excluded).".into()));
    }

    // 8. Resources.
    b.push(Block::Heading("Resources".into()));
    if r.resources.target == results::ProcessResources::default()
        && r.resources.harness == results::ProcessResources::default()
    {
        b.push(Block::Paragraph(
            "No resource samples were recorded.".into(),
        ));
    } else {
        b.push(resources_table(r));
    }
    let mut note = format!("CPU: {}.", r.resources.cpu_pct_basis);
    if r.resources.same_process {
        note.push_str(" In-process run: the target is the harness process, so both columns are the same process.");
    }
    if let Some(g) = r.resources.rss_growth_bytes {
        note.push_str(&format!(
            " Memory growth (RSS at end minus after warm-up): {}.",
            fmt::bytes_signed(g)
        ));
    }
    b.push(Block::Note(note));

    // 9. Audit.
    b.push(Block::Heading("Audit".into()));
    match &r.audit {
        None => b.push(Block::Paragraph(
            "No audit: the target is not the in-process engine.".into(),
        )),
        Some(a) => {
            let mut t = Table::new(&[
                ("Check", Align::Left),
                ("Expected", Align::Right),
                ("Actual", Align::Right),
                ("Status", Align::Left),
            ]);
            let ok = |b: bool| {
                if b {
                    Cell::tone("✓ ok", Tone::Good)
                } else {
                    Cell::tone("✗ FAILED", Tone::Bad)
                }
            };
            t.row(vec![
                Cell::plain("Total supply conserved"),
                Cell::plain(fmt::count_u128(a.total_supply_expected)),
                Cell::plain(fmt::count_u128(a.total_supply_actual)),
                ok(a.total_supply_expected == a.total_supply_actual),
            ]);
            t.row(vec![
                Cell::plain("Committed transfers = nonce advances"),
                Cell::plain(fmt::count(a.committed_transfers)),
                Cell::plain(fmt::count(a.nonce_advances)),
                ok(a.committed_transfers == a.nonce_advances),
            ]);
            t.row(vec![
                Cell::plain("Ledger transactions = committed"),
                Cell::plain(fmt::count(a.committed_transfers)),
                Cell::plain(fmt::count(a.ledger_total_tx)),
                ok(a.ledger_total_tx == a.committed_transfers),
            ]);
            t.row(vec![
                Cell::plain("Ledger hash chain"),
                Cell::plain(format!("height {}", fmt::count(a.ledger_height))),
                Cell::plain(if a.ledger_consistent {
                    "consistent"
                } else {
                    "broken"
                }),
                ok(a.ledger_consistent),
            ]);
            b.push(Block::Paragraph(if a.ok {
                "The engine's invariants held at the end of the run: the throughput above is \
                 backed by a consistent ledger."
                    .into()
            } else {
                "The engine's audit FAILED: the throughput of this run is not to be trusted.".into()
            }));
            b.push(Block::Table(t));
            if !a.rejected_by_reason.is_empty() {
                let list = a
                    .rejected_by_reason
                    .iter()
                    .map(|(k, v)| format!("{k} {}", fmt::count(*v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                b.push(Block::Note(format!(
                    "Rejected by the engine (whole run): {list}."
                )));
            }
            if !a.problems.is_empty() {
                b.push(Block::Bullets(a.problems.clone()));
            }
        }
    }

    // 10. Profile.
    if let Some(p) = &r.profile {
        b.push(Block::Heading("Profile".into()));
        b.push(Block::Paragraph(format!(
            "CPU profile of the steady state: {} samples at {} Hz.",
            fmt::count(p.samples),
            p.frequency_hz
        )));
        b.push(Block::Link {
            label: "Flamegraph".into(),
            href: p.flamegraph.clone(),
        });
        if !p.top_frames.is_empty() {
            let mut t = Table::new(&[("Frame (self time)", Align::Left), ("Self", Align::Right)]);
            for f in &p.top_frames {
                t.row(vec![
                    Cell::plain(&f.name),
                    Cell::plain(fmt::pct(f.self_pct)),
                ]);
            }
            b.push(Block::Table(t));
        }
    }

    // 11. Capacity.
    if let Some(c) = &r.capacity {
        b.push(Block::Heading("Capacity".into()));
        b.push(Block::Pairs(vec![
            ("Bounded by".into(), c.criterion.clone()),
            (
                "Highest rate that met it".into(),
                c.max_rate_met
                    .map_or("none".into(), |v| fmt::rate(v, &c.unit)),
            ),
            (
                "First rate that broke it".into(),
                c.first_rate_broken
                    .map_or("none (never broken)".into(), |v| fmt::rate(v, &c.unit)),
            ),
        ]));
    }

    // 12. Segment.
    if let Some(s) = &r.segment {
        b.extend(segment_blocks(s));
    }

    // Provenance.
    let mut files = vec![format!(
        "results.json (schema version {})",
        r.schema_version
    )];
    if let Some(h) = &r.files.hlog {
        files.push(format!("{h} (HdrHistogram interval log)"));
    }
    b.push(Block::Note(format!(
        "Generated by harness {} from {}.",
        r.environment.harness_version,
        files.join(" and ")
    )));
    Doc { blocks: b }
}

/// The one-line steady-state summary under the verdict.
pub fn steady_sentence(r: &RunResult) -> String {
    let s = &r.summary;
    if s.ops == 0 {
        return "No operations were recorded in the steady state.".into();
    }
    let (unit, committed) = throughput_basis(r);
    let tput = if committed {
        s.committed_tps
    } else {
        s.ops_per_s
    };
    format!(
        "Steady state ({}): {}, p50 {}, p99 {}, p99.9 {}, max {}, errors {}.",
        fmt::duration_s(s.duration_s),
        fmt::rate(tput, unit),
        fmt::latency_us(s.latency_us.p50),
        fmt::latency_us(s.latency_us.p99),
        fmt::latency_us(s.latency_us.p999),
        fmt::latency_us(s.latency_us.max),
        fmt::fraction_pct(s.error_rate)
    )
}

fn share(n: u64, total: u64) -> String {
    if total == 0 {
        "n/a".into()
    } else {
        fmt::fraction_pct(n as f64 / total as f64)
    }
}

fn stage_table(r: &RunResult) -> Block {
    let (unit, _) = throughput_basis(r);
    let mut t = Table::new(&[
        ("Stage", Align::Left),
        ("Time", Align::Right),
        ("TPS", Align::Right),
        ("ops/s", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("p99.9", Align::Right),
        ("max", Align::Right),
        ("Errors", Align::Right),
    ]);
    let row = |name: Cell,
               time: String,
               tps: f64,
               ops: f64,
               l: &results::Percentiles,
               errors: u64,
               rate: f64,
               tone: Tone| {
        vec![
            name,
            Cell::tone(time, tone),
            Cell::tone(fmt::si(tps), tone),
            Cell::tone(fmt::si(ops), tone),
            Cell::tone(fmt::latency_us(l.p50), tone),
            Cell::tone(fmt::latency_us(l.p90), tone),
            Cell::tone(fmt::latency_us(l.p99), tone),
            Cell::tone(fmt::latency_us(l.p999), tone),
            Cell::tone(fmt::latency_us(l.max), tone),
            Cell::tone(
                if errors == 0 {
                    "0".to_string()
                } else {
                    format!("{} ({})", fmt::count(errors), fmt::fraction_pct(rate))
                },
                tone,
            ),
        ]
    };
    let committed = unit == "tx/s";
    for s in &r.stages {
        let name = if s.warmup && !s.name.to_lowercase().contains("warm") {
            Cell::tone(format!("{} (warm-up)", s.name), Tone::Muted)
        } else {
            Cell::plain(&s.name)
        };
        let name = if s.warmup {
            Cell::tone(name.text, Tone::Muted)
        } else {
            name
        };
        t.row(row(
            name,
            format!("{:.0}–{:.0} s", s.start_s, s.end_s),
            if committed {
                s.committed_tps
            } else {
                s.ops_per_s
            },
            s.ops_per_s,
            &s.latency_us,
            s.errors,
            s.error_rate,
            Tone::Plain,
        ));
    }
    let s = &r.summary;
    t.row(row(
        Cell::tone("steady state", Tone::Total),
        fmt::duration_s(s.duration_s),
        if committed {
            s.committed_tps
        } else {
            s.ops_per_s
        },
        s.ops_per_s,
        &s.latency_us,
        s.errors,
        s.error_rate,
        Tone::Total,
    ));
    if !committed {
        // Without commits the throughput column would repeat ops/s.
        t.columns.remove(2);
        for row in &mut t.rows {
            row.remove(2);
        }
    }
    Block::Table(t)
}

fn resources_table(r: &RunResult) -> Block {
    let mut t = Table::new(&[
        ("Measure", Align::Left),
        ("Target", Align::Right),
        ("Harness", Align::Right),
    ]);
    let (tg, h) = (&r.resources.target, &r.resources.harness);
    let opt_pct = |v: Option<f64>| v.map_or("n/a".into(), fmt::pct);
    let opt_b = |v: Option<u64>| v.map_or("n/a".into(), fmt::bytes);
    let opt_s = |v: Option<f64>| v.map_or("n/a".into(), |s| format!("{} s", fmt::sig3(s)));
    let rows: Vec<(&str, String, String)> = vec![
        (
            "CPU average",
            opt_pct(tg.cpu_avg_pct),
            opt_pct(h.cpu_avg_pct),
        ),
        (
            "CPU peak",
            opt_pct(tg.cpu_peak_pct),
            opt_pct(h.cpu_peak_pct),
        ),
        ("CPU time", opt_s(tg.cpu_seconds), opt_s(h.cpu_seconds)),
        ("RSS at start", opt_b(tg.rss_start), opt_b(h.rss_start)),
        (
            "RSS after warm-up",
            opt_b(tg.rss_after_warmup),
            opt_b(h.rss_after_warmup),
        ),
        ("RSS peak", opt_b(tg.rss_peak), opt_b(h.rss_peak)),
        ("RSS at end", opt_b(tg.rss_end), opt_b(h.rss_end)),
        ("RSS growth (end − after warm-up)", growth(tg), growth(h)),
    ];
    for (m, a, b) in rows {
        t.row(vec![Cell::plain(m), Cell::plain(a), Cell::plain(b)]);
    }
    Block::Table(t)
}

fn growth(p: &results::ProcessResources) -> String {
    match (p.rss_end, p.rss_after_warmup) {
        (Some(e), Some(w)) => fmt::bytes_signed(e as i64 - w as i64),
        _ => "n/a".into(),
    }
}

/// The segment section: a segment's share, or what a merged result combined (and lacks).
fn segment_blocks(s: &results::SegmentInfo) -> Vec<Block> {
    let mut b = vec![Block::Heading("Segment".into())];
    let Some(m) = &s.merged else {
        b.push(Block::Paragraph(format!(
            "This is execution segment {}/{} (0-based): it drove {} of the plan's load{}. Merge \
             the segments' results (harness merge) for the whole run's figures.",
            s.index,
            s.count,
            fmt::fraction_pct(s.share),
            s.senders
                .map(|[a, z]| format!(" from sender accounts {a}..{z}"))
                .unwrap_or_default(),
        )));
        return b;
    };
    let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    b.push(Block::Paragraph(format!(
        "Merged from execution segments {} of {} (0-based){}. Counts, rates and errors are \
         summed per wall-clock interval; the whole-run latency comes from the segments' \
         histograms added together; per-interval and per-stage percentiles are the worst \
         segment's. Resources are each instance's own.",
        list(&m.present),
        s.count,
        if m.missing.is_empty() {
            String::new()
        } else {
            format!("; MISSING: {}", list(&m.missing))
        },
    )));
    let mut t = Table::new(&[
        ("Segment", Align::Right),
        ("Host", Align::Left),
        ("Status", Align::Left),
        ("Committed tx/s", Align::Right),
        ("p99", Align::Right),
        ("Errors", Align::Right),
        ("Harness CPU avg", Align::Right),
        ("Harness RSS peak", Align::Right),
    ]);
    for i in &m.instances {
        t.row(vec![
            Cell::plain(i.segment.to_string()),
            Cell::plain(i.hostname.clone().unwrap_or_default()),
            Cell::plain(i.status.as_str()),
            Cell::plain(fmt::rate(i.committed_tps, "tx/s")),
            Cell::plain(fmt::latency_us(i.p99_us)),
            Cell::plain(fmt::count(i.errors)),
            Cell::plain(
                i.resources
                    .harness
                    .cpu_avg_pct
                    .map_or_else(|| "n/a".to_string(), fmt::pct),
            ),
            Cell::plain(
                i.resources
                    .harness
                    .rss_peak
                    .map_or_else(|| "n/a".to_string(), fmt::bytes),
            ),
        ]);
    }
    b.push(Block::Table(t));
    b
}
