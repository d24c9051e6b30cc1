//! Execution segments starting and ending together: at a wall-clock time (`--start-at`) or at
//! a barrier of files on a shared volume (`--barrier`), and reading the shared engine's stats
//! only when every segment is done sending.
//!
//! The only part of segments that waits; the shares themselves are pure plan arithmetic
//! ([`crate::plan::segment`]).

use crate::plan::segment::Segment;
use crate::targets::Target;
use results::SegmentInfo;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How late after `--start-at` a segment may still start (a slow pod start, clock skew).
pub const START_AT_LATE_TOLERANCE: Duration = Duration::from_secs(5);
/// After the planned end, how long a `--start-at` segment waits before reading the engine's
/// stats and audit, so the other segments' last requests have been answered.
pub const END_SETTLE: Duration = Duration::from_secs(1);

/// Segment i reads the engine's stats and audit `i` times this long after the common end: the
/// engine's ledger check drains and refills its block window, so two audits at the same moment
/// see each other's gaps and report a broken chain (seen with 3 segments).
pub const AUDIT_STAGGER: Duration = Duration::from_millis(300);

/// Errors of segment synchronization, naming the flag or file.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
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
}

/// How the segments begin their stages together.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StartSync {
    /// Start as soon as ready (tests, or a single instance).
    #[default]
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
    pub fn start_at(text: &str) -> Result<StartSync, SyncError> {
        let at = humantime::parse_rfc3339_weak(text.trim())
            .ok()
            .filter(|_| text.trim().ends_with('Z'))
            .ok_or_else(|| SyncError::StartAt {
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
}

impl SegmentRun {
    pub fn new(segment: Segment, sync: StartSync) -> SegmentRun {
        SegmentRun { segment, sync }
    }
}

fn barrier_file(base: &Path, tag: &str, i: u32) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!(".{tag}{i}"));
    PathBuf::from(s)
}

/// Creates this segment's file, then waits until every segment's exists.
fn barrier(base: &Path, tag: &str, seg: Segment, timeout: Duration) -> Result<(), SyncError> {
    if let Some(dir) = base.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| SyncError::BarrierIo {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mine = barrier_file(base, tag, seg.index);
    let host = sysinfo::System::host_name().unwrap_or_default();
    std::fs::write(&mine, format!("{} {host}\n", std::process::id())).map_err(|source| {
        SyncError::BarrierIo {
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
            return Err(SyncError::BarrierTimeout {
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
    pub fn wait_for_start(&self) -> Result<(), SyncError> {
        match &self.sync {
            StartSync::None => Ok(()),
            StartSync::At { at, text } => {
                if let Ok(late) = SystemTime::now().duration_since(*at) {
                    if late > START_AT_LATE_TOLERANCE {
                        return Err(SyncError::Late {
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
pub fn tag(s: &SegmentRun, share: f64, target: &Target, origin: SystemTime) -> SegmentInfo {
    let mut i = SegmentInfo::new(s.segment.index, s.segment.count);
    i.share = share;
    i.clock_origin_unix_s = origin
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64());
    i.start = Some(s.sync.describe());
    if let Target::Http(t) = target {
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
        assert!(matches!(past.wait_for_start(), Err(SyncError::Late { .. })));
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
            Err(SyncError::BarrierTimeout { missing, .. }) => assert_eq!(missing, vec![1]),
            other => panic!("{other:?}"),
        }
        run(1).wait_for_start().unwrap();
        run(0).wait_for_start().unwrap();
    }
}
