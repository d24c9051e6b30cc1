//! The run report's Doc: what a [`RunResult`] says, section by section.
//!
//! [`build`] lists the sections in the order the brief fixes (verdict, criteria, scenario,
//! environment, charts, stages, request templates, errors, load generator, connections,
//! resources, audit, profile, instructions, capacity, segment); each
//! section is one function returning its blocks (larger sections have a module of their own,
//! such as `capacity`), and tables come from [`super::tables`].

use results::{Quantile, RunResult, SegmentInfo};

use super::{
    capacity, connections, generator, instructions, noise, outcomes, tables, templates, Block, Doc,
};
use crate::charts::Chart;
use crate::fmt;

/// Build the report content. `charts` are the charts that will be shown, in order.
pub fn build(r: &RunResult, charts: &[Chart]) -> Doc {
    let mut b = title(r);
    b.extend(verdict(r));
    b.extend(criteria(r));
    b.extend(scenario(r));
    b.extend(environment(r));
    b.extend(chart_section(charts));
    b.extend(stages(r));
    b.extend(templates::templates(r));
    b.extend(errors(r));
    b.extend(generator::generator(r));
    b.extend(connections::connections(r));
    b.extend(resources(r));
    b.extend(audit(r));
    b.extend(profile(r));
    b.extend(instructions::instructions(r));
    b.extend(capacity::capacity(r));
    if let Some(s) = &r.segment {
        b.extend(segment(s));
    }
    b.push(provenance(r));
    Doc { blocks: b }
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

/// The one-line steady-state summary under the verdict (with a capacity search, the
/// confirming probe's figures, and it says so).
pub fn steady_sentence(r: &RunResult) -> String {
    let s = &r.summary;
    if s.ops == 0 {
        return "No operations were recorded in the steady state.".into();
    }
    let (unit, committed) = throughput_basis(r);
    let mut tput = fmt::rate(
        if committed {
            s.committed_tps
        } else {
            s.ops_per_s
        },
        unit,
    );
    if let (true, Some(offered)) = (committed, s.offered_tps) {
        // What the plan asked for, so a shortfall (or the generator falling behind) shows.
        tput.push_str(&format!(" (offered {})", fmt::rate(offered, "tx/s")));
    }
    let l = &s.latency_us;
    format!(
        "{} ({}): {}, errors {}; latency of {} successful operations p50 {}, p99 {}, p99.9 {}, \
         max {}{}.",
        capacity::summary_label(r),
        fmt::duration_s(s.duration_s),
        tput,
        fmt::fraction_pct(s.error_rate),
        fmt::count(l.count),
        fmt::percentile_cell(l, Quantile::P50),
        fmt::percentile_cell(l, Quantile::P99),
        fmt::percentile_cell(l, Quantile::P999),
        fmt::latency_us(l.max),
        // Results written before intervals were recorded have no brackets to explain.
        if l.ci95.is_some() {
            " (in brackets: 95 % sampling intervals)"
        } else {
            ""
        }
    )
}

fn title(r: &RunResult) -> Vec<Block> {
    vec![
        Block::Title(format!("Load test report: {}", r.scenario.name)),
        Block::Subtitle(format!(
            "{} · {} · {}",
            fmt::timestamp(&r.environment.started_at),
            r.scenario.target,
            r.environment.hostname.as_deref().unwrap_or("unknown host")
        )),
    ]
}

fn verdict(r: &RunResult) -> Vec<Block> {
    let mut b = vec![
        Block::Heading("Verdict".into()),
        Block::Verdict {
            status: r.verdict.status,
            meaning: super::status_meaning(r),
            reasons: r.verdict.reasons.clone(),
        },
        Block::Paragraph(steady_sentence(r)),
    ];
    b.extend(noise::noise_warning(r).map(Block::Warning));
    b.extend(capacity::summary_note(r));
    b
}

fn criteria(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Criteria".into())];
    if r.criteria.is_empty() {
        b.push(Block::Paragraph(
            "The scenario sets no criteria, so this run is not judged (it is not a pass).".into(),
        ));
    } else {
        b.push(Block::Table(tables::criteria_table(r)));
        b.push(Block::Note(
            "Judged on the steady state (after warm-up). Throughput passes within one operation's \
             transactions of the plan (operations are whole: a batch cannot be split at the \
             window's edge). \"Not measured\" criteria did not count towards the verdict. \
             A percentile is judged on its figure; \"not significant\" means its 95 % sampling \
             interval straddles the target (or too few samples to have one), so sampling alone \
             could flip the outcome on a rerun."
                .into(),
        ));
    }
    b
}

/// The scenario's identity, the driver, and the stages as planned.
fn scenario(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Scenario".into())];
    if let Some(d) = &r.scenario.description {
        b.push(Block::Paragraph(d.clone()));
    }
    b.push(Block::Pairs(scenario_facts(r)));
    b.push(Block::Paragraph(driver_sentence(r)));
    if !r.driver.notes.is_empty() {
        b.push(Block::Bullets(r.driver.notes.clone()));
    }
    if !r.scenario.stages_planned.is_empty() {
        b.push(Block::Table(tables::planned_stages(r)));
    }
    b
}

fn scenario_facts(r: &RunResult) -> Vec<(String, String)> {
    let sc = &r.scenario;
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
    if let Some(t) = &r.driver.tls {
        pairs.push(connections::tls_fact(t));
    }
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
    pairs
}

fn environment(r: &RunResult) -> Vec<Block> {
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
    vec![Block::Heading("Environment".into()), Block::Pairs(env)]
}

fn chart_section(charts: &[Chart]) -> Vec<Block> {
    let mut b = vec![Block::Heading("Charts".into())];
    if charts.is_empty() {
        b.push(Block::Paragraph(
            "No interval data was recorded, so there is nothing to chart.".into(),
        ));
    }
    b.extend((0..charts.len()).map(Block::Chart));
    b
}

fn stages(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Results by stage".into())];
    if r.stages.is_empty() && r.summary.ops == 0 {
        b.push(Block::Paragraph("No stage completed any operation.".into()));
    } else {
        b.push(Block::Table(tables::stage_results(r)));
    }
    b.push(Block::Note(format!(
        "Latency basis: {}. TPS counts committed transactions; ops/s counts driver operations. {}",
        r.driver.latency_basis,
        super::SAMPLING_NOTE
    )));
    b
}

fn errors(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Errors".into())];
    if r.summary.errors_by_kind.is_empty() {
        b.push(Block::Paragraph(format!(
            "No errors in the steady state ({} operations).",
            fmt::count(r.summary.ops)
        )));
    } else {
        b.push(Block::Table(tables::errors_by_kind(r)));
        b.extend(outcomes::failures(r));
        b.push(Block::Note("Steady state only (warm-up excluded).".into()));
    }
    // Sampled over the whole run: shown even when only the warm-up failed.
    b.extend(outcomes::answers(&r.summary.failures.answers));
    b
}

fn resources(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Resources".into())];
    if r.resources.target == results::ProcessResources::default()
        && r.resources.harness == results::ProcessResources::default()
    {
        b.push(Block::Paragraph(
            "No resource samples were recorded.".into(),
        ));
    } else {
        b.push(Block::Table(tables::resources(r)));
    }
    b.push(Block::Pairs(noise::noise_pairs(r)));
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
    b.extend(noise::noise_note(r).map(Block::Note));
    b
}

fn audit(r: &RunResult) -> Vec<Block> {
    let mut b = vec![Block::Heading("Audit".into())];
    let Some(a) = &r.audit else {
        b.push(Block::Paragraph(
            "No audit: the target is not the in-process engine.".into(),
        ));
        return b;
    };
    b.push(Block::Paragraph(if a.ok {
        "The engine's invariants held at the end of the run: the throughput above is \
         backed by a consistent ledger."
            .into()
    } else {
        "The engine's audit FAILED: the throughput of this run is not to be trusted.".into()
    }));
    b.push(Block::Table(tables::audit_checks(a)));
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
    b
}

fn profile(r: &RunResult) -> Vec<Block> {
    let Some(p) = &r.profile else {
        return Vec::new();
    };
    let mut b = vec![
        Block::Heading("Profile".into()),
        Block::Paragraph(format!(
            "CPU profile of the steady state: {} samples at {} Hz.",
            fmt::count(p.samples),
            p.frequency_hz
        )),
        Block::Link {
            label: "Flamegraph".into(),
            href: p.flamegraph.clone(),
        },
    ];
    if !p.top_frames.is_empty() {
        b.push(Block::Table(tables::profile_frames(p)));
    }
    b
}

/// The segment section: a segment's share, or what a merged result combined (and lacks).
fn segment(s: &SegmentInfo) -> Vec<Block> {
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
    b.push(Block::Table(tables::segment_instances(m)));
    b
}

/// Where the figures come from.
fn provenance(r: &RunResult) -> Block {
    let mut files = vec![format!(
        "results.json (schema version {})",
        r.schema_version
    )];
    if let Some(h) = &r.files.hlog {
        files.push(format!("{h} (HdrHistogram interval log)"));
    }
    Block::Note(format!(
        "Generated by harness {} from {}.",
        r.environment.harness_version,
        files.join(" and ")
    ))
}
