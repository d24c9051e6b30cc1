//! Execution segments: one share of a scenario's load, so several harness instances (machines,
//! pods of a Kubernetes Indexed Job) can drive one target together, the way k6's operator splits
//! a test.
//!
//! Segment `i` of `n` (0-based, like Kubernetes' `JOB_COMPLETION_INDEX`) runs the same stages
//! with its share of each stage's workers and arrival rate, and owns a disjoint range of the
//! workload's sender accounts so that the nonces it tracks stay valid while the other instances
//! send too. The split is integer arithmetic with the remainder spread over the first segments,
//! so the shares of any quantity add up to exactly the plan: no worker or operation per second is
//! lost or doubled. Everything here is a pure function of the plan and the segment, except the
//! start and end synchronization ([`StartSync`]), which waits on the clock or on barrier files.
//!
//! Closed-model ramps are split at both ends; each segment then rounds its own ramp, so in the
//! middle of a ramp the total can differ from the plan's rounding by less than one worker per
//! segment. Flat stages and every open-model rate are exact at every moment.

use results::SegmentInfo;
use scenario::{Load, Plan};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Environment variable holding `i/n` (same syntax as `--segment`).
pub const ENV_SEGMENT: &str = "HARNESS_SEGMENT";
/// Kubernetes Indexed Job: the pod's 0-based completion index.
pub const ENV_K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
/// With [`ENV_K8S_INDEX`]: how many segments there are (the Job's `completions`).
pub const ENV_SEGMENT_COUNT: &str = "HARNESS_SEGMENT_COUNT";
/// How late after `--start-at` a segment may still start (a slow pod start, clock skew).
pub const START_AT_LATE_TOLERANCE: Duration = Duration::from_secs(5);
/// After the planned end, how long a `--start-at` segment waits before reading the engine's
/// stats and audit, so the other segments' last requests have been answered.
pub const END_SETTLE: Duration = Duration::from_secs(1);

/// Segment i reads the engine's stats and audit `i` times this long after the common end: the
/// engine's ledger check drains and refills its block window, so two audits at the same moment
/// see each other's gaps and report a broken chain (seen with 3 segments).
pub const AUDIT_STAGGER: Duration = Duration::from_millis(300);

/// Errors of segment selection and synchronization, naming the flag, variable or file.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("{origin}: {value:?} is not a segment: expected INDEX/COUNT with 0 <= INDEX < COUNT (0-based), e.g. 0/3")]
    Syntax { origin: String, value: String },
    #[error("{ENV_K8S_INDEX}={index} is set but {ENV_SEGMENT_COUNT} is not: set it to the Job's completions")]
    CountMissing { index: String },
    #[error("--start-at {value:?}: {why}")]
    StartAt { value: String, why: String },
    #[error("--start-at {at} is {late:.1} s in the past (more than {} s late): start the segments with a later time", START_AT_LATE_TOLERANCE.as_secs())]
    Late { at: String, late: f64 },
    #[error("barrier {path}: {source}")]
    BarrierIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "barrier {base}: timed out after {waited:?} waiting for segments {missing:?} of {count}"
    )]
    BarrierTimeout {
        base: PathBuf,
        waited: Duration,
        missing: Vec<u32>,
        count: u32,
    },
    #[error("segment {index}/{count} would own fewer sender accounts than it has workers: workload.accounts = {accounts} is too few for {count} segments")]
    NoSenders {
        index: u32,
        count: u32,
        accounts: u64,
    },
}

/// Segment `index` of `count`, 0-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Segment {
    /// Checks `index < count` (and so `count >= 1`).
    pub fn new(index: u32, count: u32) -> Option<Segment> {
        (index < count).then_some(Segment { index, count })
    }

    fn parse_named(value: &str, origin: &str) -> Result<Segment, SegmentError> {
        let err = || SegmentError::Syntax {
            origin: origin.to_string(),
            value: value.to_string(),
        };
        let (i, n) = value.trim().split_once('/').ok_or_else(err)?;
        let i = i.trim().parse().map_err(|_| err())?;
        let n = n.trim().parse().map_err(|_| err())?;
        Segment::new(i, n).ok_or_else(err)
    }

    /// The segment named by the environment: `HARNESS_SEGMENT=i/n`, or Kubernetes'
    /// `JOB_COMPLETION_INDEX` with `HARNESS_SEGMENT_COUNT`. `get` reads a variable (tests pass
    /// a map; the CLI passes `std::env::var`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Segment>, SegmentError> {
        if let Some(v) = get(ENV_SEGMENT).filter(|v| !v.trim().is_empty()) {
            return Segment::parse_named(&v, ENV_SEGMENT).map(Some);
        }
        let Some(index) = get(ENV_K8S_INDEX).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let count = get(ENV_SEGMENT_COUNT)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| SegmentError::CountMissing {
                index: index.clone(),
            })?;
        Segment::parse_named(
            &format!("{}/{}", index.trim(), count.trim()),
            &format!("{ENV_K8S_INDEX}/{ENV_SEGMENT_COUNT}"),
        )
        .map(Some)
    }

    /// This segment's part of an integer quantity: `total / n`, plus one for the first
    /// `total % n` segments. The parts of all segments sum to `total`.
    pub fn share_of_count(self, total: u64) -> u64 {
        let n = u64::from(self.count);
        total / n + u64::from(u64::from(self.index) < total % n)
    }

    /// This segment's part of a rate: the whole units split like [`Segment::share_of_count`],
    /// and the fractional remainder given to the segment next in line for a unit. The parts of
    /// all segments sum to `rate` exactly (every partial sum is representable for rates below
    /// 2^53). Negative or non-finite rates give 0.
    pub fn share_of_rate(self, rate: f64) -> f64 {
        if !rate.is_finite() || rate <= 0.0 {
            return 0.0;
        }
        let whole = rate.floor();
        let frac = rate - whole;
        let units = whole as u64;
        let mut part = self.share_of_count(units) as f64;
        if u64::from(self.index) == units % u64::from(self.count) {
            part += frac;
        }
        part
    }

    /// This segment's contiguous range of `0..accounts`; the ranges of all segments are disjoint
    /// and cover every account.
    pub fn sender_range(self, accounts: u64) -> Range<u64> {
        let at = |i: u32| (u128::from(accounts) * u128::from(i) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

impl FromStr for Segment {
    type Err = SegmentError;
    fn from_str(s: &str) -> Result<Segment, SegmentError> {
        Segment::parse_named(s, "--segment")
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The plan a segment runs: every stage's workers or rate replaced by the segment's share,
/// throughput criteria scaled by the segment's share of the load (so a segment judges its own
/// part), and that share.
pub fn plan_for(plan: &Plan, seg: Segment) -> (Plan, f64) {
    let mut out = plan.clone();
    let mut weighted = 0.0;
    let mut weight = 0.0;
    for stage in &mut out.stages {
        let (planned, part) = match &mut stage.load {
            Load::Closed { workers } => {
                let (f, t) = (workers.from, workers.to);
                workers.from = seg.share_of_count(f.round().max(0.0) as u64) as f64;
                workers.to = seg.share_of_count(t.round().max(0.0) as u64) as f64;
                ((f, t), (workers.from, workers.to))
            }
            Load::Open { rate, .. } => {
                let (f, t) = (rate.from, rate.to);
                rate.from = seg.share_of_rate(f);
                rate.to = seg.share_of_rate(t);
                ((f, t), (rate.from, rate.to))
            }
        };
        if !stage.warmup {
            let d = stage.duration.as_secs_f64();
            let planned = planned.0 + planned.1;
            let part = part.0 + part.1;
            if planned > 0.0 {
                weighted += d * part / planned;
                weight += d;
            }
        }
    }
    let share = if weight > 0.0 {
        weighted / weight
    } else {
        1.0 / f64::from(seg.count)
    };
    out.criteria.min_tps = out.criteria.min_tps.map(|t| t * share);
    out.criteria.min_interval_tps = out.criteria.min_interval_tps.map(|t| t * share);
    (out, share)
}

/// How the segments begin their stages together.
#[derive(Clone, Debug, PartialEq)]
pub enum StartSync {
    /// Start as soon as ready (tests, or a single instance).
    None,
    /// Start at this wall-clock time (`--start-at`, RFC 3339 UTC).
    At { at: SystemTime, text: String },
    /// Each segment creates `BASE.<index>` and starts when all `BASE.0 .. BASE.<n-1>` exist
    /// (`--barrier BASE`, on a volume every instance shares). At the end each creates
    /// `BASE.done.<index>` and waits for the others before reading the engine's stats.
    Barrier { base: PathBuf, timeout: Duration },
}

impl StartSync {
    /// Parses `--start-at` (RFC 3339, UTC, e.g. `2026-11-23T19:00:00Z`).
    pub fn start_at(text: &str) -> Result<StartSync, SegmentError> {
        let at = humantime::parse_rfc3339_weak(text.trim())
            .ok()
            .filter(|_| text.trim().ends_with('Z'))
            .ok_or_else(|| SegmentError::StartAt {
                value: text.to_string(),
                why: "expected an RFC 3339 UTC time such as 2026-11-23T19:00:00Z".to_string(),
            })?;
        Ok(StartSync::At {
            at,
            text: text.trim().to_string(),
        })
    }

    fn describe(&self) -> String {
        match self {
            StartSync::None => "none".to_string(),
            StartSync::At { text, .. } => format!("start-at {text}"),
            StartSync::Barrier { base, .. } => format!("barrier {}", base.display()),
        }
    }
}

/// A segment and how it synchronizes with the others: what `harness run --segment` adds to a
/// run.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentRun {
    pub segment: Segment,
    pub sync: StartSync,
    /// The segment's share of the plan's load, set by `run::execute` from [`plan_for`].
    pub share: f64,
}

impl SegmentRun {
    pub fn new(segment: Segment, sync: StartSync) -> SegmentRun {
        SegmentRun {
            segment,
            sync,
            share: 1.0 / f64::from(segment.count),
        }
    }
}

fn barrier_file(base: &Path, tag: &str, i: u32) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!(".{tag}{i}"));
    PathBuf::from(s)
}

/// Creates this segment's file, then waits until every segment's exists.
fn barrier(base: &Path, tag: &str, seg: Segment, timeout: Duration) -> Result<(), SegmentError> {
    if let Some(dir) = base.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| SegmentError::BarrierIo {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mine = barrier_file(base, tag, seg.index);
    let host = sysinfo::System::host_name().unwrap_or_default();
    std::fs::write(&mine, format!("{} {host}\n", std::process::id())).map_err(|source| {
        SegmentError::BarrierIo {
            path: mine.clone(),
            source,
        }
    })?;
    let t0 = std::time::Instant::now();
    loop {
        let missing: Vec<u32> = (0..seg.count)
            .filter(|&i| !barrier_file(base, tag, i).exists())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if t0.elapsed() >= timeout {
            return Err(SegmentError::BarrierTimeout {
                base: base.to_path_buf(),
                waited: timeout,
                missing,
                count: seg.count,
            });
        }
        // Short polls: the segments start within a few milliseconds of each other, and merge
        // aligns on wall-clock interval boundaries anyway.
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn sleep_until(at: SystemTime) {
    while let Ok(left) = at.duration_since(SystemTime::now()) {
        if left > Duration::from_millis(2) {
            std::thread::sleep(left - Duration::from_millis(1));
        } else {
            std::hint::spin_loop();
        }
    }
}

impl SegmentRun {
    /// Blocks until the shared start: the `--start-at` time (an error if it passed more than
    /// [`START_AT_LATE_TOLERANCE`] ago) or the barrier.
    pub fn wait_for_start(&self) -> Result<(), SegmentError> {
        match &self.sync {
            StartSync::None => Ok(()),
            StartSync::At { at, text } => {
                if let Ok(late) = SystemTime::now().duration_since(*at) {
                    if late > START_AT_LATE_TOLERANCE {
                        return Err(SegmentError::Late {
                            at: text.clone(),
                            late: late.as_secs_f64(),
                        });
                    }
                }
                sleep_until(*at);
                Ok(())
            }
            StartSync::Barrier { base, timeout } => barrier(base, "", self.segment, *timeout),
        }
    }

    /// Waits until every segment should be done sending, before this one reads the engine's
    /// stats and audit (the audit is only meaningful with no load running). Returns a note
    /// when the wait gave up.
    pub fn wait_for_end(&self, planned_end: SystemTime) -> Option<String> {
        let stagger = AUDIT_STAGGER * self.segment.index;
        match &self.sync {
            StartSync::None => None,
            StartSync::At { .. } => {
                sleep_until(planned_end + END_SETTLE + stagger);
                None
            }
            StartSync::Barrier { base, timeout } => {
                let note = barrier(base, "done.", self.segment, *timeout).err().map(|e| {
                    format!("end of run: {e}; the engine's audit may have seen other segments' load")
                });
                std::thread::sleep(stagger);
                note
            }
        }
    }
}

/// The segment tag of a run's result: share, wall-clock origin of t = 0, how it started, the
/// senders it owned and the shared engine's committed counts.
pub fn tag(s: &SegmentRun, target: &crate::run::Driven, origin: SystemTime) -> SegmentInfo {
    let mut i = SegmentInfo::new(s.segment.index, s.segment.count);
    i.share = s.share;
    i.clock_origin_unix_s = origin
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64());
    i.start = Some(s.sync.describe());
    if let crate::run::Driven::Http(t) = target {
        if t.carries_tx() {
            let r = s.segment.sender_range(t.accounts_total());
            i.senders = Some([r.start, r.end]);
        }
        if let Some((before, after)) = t.end.as_ref().and_then(|e| e.engine_committed) {
            i.engine_committed_before = Some(before);
            i.engine_committed_after = Some(after);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn parses_flags_and_environment() {
        assert_eq!(
            "1/3".parse::<Segment>().unwrap(),
            Segment { index: 1, count: 3 }
        );
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2", "1/2/3"] {
            assert!(bad.parse::<Segment>().is_err(), "{bad}");
        }
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| m.get(k).cloned()
        };
        assert_eq!(Segment::from_env(env(&[])).unwrap(), None);
        assert_eq!(
            Segment::from_env(env(&[("HARNESS_SEGMENT", "2/4")])).unwrap(),
            Segment::new(2, 4)
        );
        assert_eq!(
            Segment::from_env(env(&[
                ("JOB_COMPLETION_INDEX", "0"),
                ("HARNESS_SEGMENT_COUNT", "3")
            ]))
            .unwrap(),
            Segment::new(0, 3)
        );
        let e = Segment::from_env(env(&[("JOB_COMPLETION_INDEX", "1")])).unwrap_err();
        assert!(e.to_string().contains("HARNESS_SEGMENT_COUNT"), "{e}");
        let e = Segment::from_env(env(&[
            ("JOB_COMPLETION_INDEX", "3"),
            ("HARNESS_SEGMENT_COUNT", "3"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("JOB_COMPLETION_INDEX"), "{e}");
    }

    #[test]
    fn start_at_needs_utc_rfc3339() {
        assert!(StartSync::start_at("2026-11-23T19:00:00Z").is_ok());
        assert!(StartSync::start_at("2026-11-23T19:00:00.250Z").is_ok());
        assert!(StartSync::start_at("2026-11-23 19:00").is_err());
        assert!(StartSync::start_at("tomorrow").is_err());
        let past = SegmentRun::new(
            Segment { index: 0, count: 1 },
            StartSync::start_at("2020-01-01T00:00:00Z").unwrap(),
        );
        assert!(matches!(
            past.wait_for_start(),
            Err(SegmentError::Late { .. })
        ));
    }

    #[test]
    fn barrier_waits_for_every_segment_and_names_the_missing() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("b");
        let run = |i| {
            SegmentRun::new(
                Segment { index: i, count: 2 },
                StartSync::Barrier {
                    base: base.clone(),
                    timeout: Duration::from_millis(100),
                },
            )
        };
        match run(0).wait_for_start() {
            Err(SegmentError::BarrierTimeout { missing, .. }) => assert_eq!(missing, vec![1]),
            other => panic!("{other:?}"),
        }
        run(1).wait_for_start().unwrap();
        run(0).wait_for_start().unwrap();
    }

    fn arb_plan_counts() -> impl Strategy<Value = (Vec<u64>, Vec<f64>, u32)> {
        (
            prop::collection::vec(0u64..100_000, 1..6),
            prop::collection::vec(
                prop_oneof![0.0..1e9f64, (0u64..10_000_000).prop_map(|v| v as f64)],
                1..6,
            ),
            1u32..64,
        )
    }

    proptest! {
        #[test]
        fn shares_sum_exactly_to_the_plan((workers, rates, n) in arb_plan_counts()) {
            for w in workers {
                let sum: u64 = (0..n).map(|i| Segment { index: i, count: n }.share_of_count(w)).sum();
                prop_assert_eq!(sum, w);
                let parts: Vec<u64> = (0..n).map(|i| Segment { index: i, count: n }.share_of_count(w)).collect();
                let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
                prop_assert!(hi - lo <= 1, "uneven split {:?}", parts);
            }
            for r in rates {
                let sum: f64 = (0..n).map(|i| Segment { index: i, count: n }.share_of_rate(r)).sum();
                prop_assert_eq!(sum, r, "rate {} over {} segments", r, n);
            }
        }

        #[test]
        fn sender_ranges_are_disjoint_and_cover(accounts in 0u64..u64::MAX / 2, n in 1u32..200) {
            let ranges: Vec<_> = (0..n).map(|i| Segment { index: i, count: n }.sender_range(accounts)).collect();
            prop_assert_eq!(ranges[0].start, 0);
            prop_assert_eq!(ranges[ranges.len() - 1].end, accounts);
            for w in ranges.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start);
                prop_assert!(w[0].start <= w[0].end);
            }
        }
    }

    #[test]
    fn segment_plans_add_up_to_the_plan() {
        let text = "[scenario]\nname = \"s\"\n[target]\nkind = \"in-process\"\n[workload]\naccounts = 1000\n[criteria]\nmin_tps = 900\n[[stages]]\nname = \"ramp\"\nduration = \"2s\"\nworkers = { from = 1, to = 7 }\nwarmup = true\n[[stages]]\nname = \"open\"\nduration = \"2s\"\nrate = \"1000.5/s\"\n";
        let plan = scenario::parse(text, Path::new("s.toml")).unwrap();
        let n = 3;
        let plans: Vec<(Plan, f64)> = (0..n)
            .map(|i| plan_for(&plan, Segment { index: i, count: n }))
            .collect();
        let share_sum: f64 = plans.iter().map(|(_, s)| s).sum();
        assert!((share_sum - 1.0).abs() < 1e-9, "{share_sum}");
        for (k, stage) in plan.stages.iter().enumerate() {
            let (mut from, mut to) = (0.0, 0.0);
            for (p, _) in &plans {
                match &p.stages[k].load {
                    Load::Closed { workers: r } | Load::Open { rate: r, .. } => {
                        from += r.from;
                        to += r.to;
                    }
                }
            }
            match &stage.load {
                Load::Closed { workers: r } | Load::Open { rate: r, .. } => {
                    assert_eq!((from, to), (r.from, r.to), "stage {k}");
                }
            }
        }
        let min_tps: f64 = plans.iter().map(|(p, _)| p.criteria.min_tps.unwrap()).sum();
        assert!((min_tps - 900.0).abs() < 1e-6, "{min_tps}");
    }
}
