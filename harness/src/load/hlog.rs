//! The interval log sink: each finalized interval's histogram appended to `latency.hlog`
//! (HdrHistogram's interval log format, values in nanoseconds) as the run goes, so a crash or
//! Ctrl-C loses nothing already measured. Any reader of that format decodes it (checked with
//! the Python `hdrhistogram` package).
//!
//! Failures are returned, not dropped: the collector keeps the first and the run tells the
//! user the log is incomplete.

use hdrhistogram::serialization::interval_log::{IntervalLogWriter, IntervalLogWriterBuilder};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use std::fs::File;
use std::time::{Duration, SystemTime};

/// An open interval log, borrowing its file and serializer.
pub type Writer<'a> = IntervalLogWriter<'a, 'a, File, V2DeflateSerializer>;

/// Writes the log's header; `start` is the wall-clock time of t = 0.
pub fn open<'a>(
    file: &'a mut File,
    ser: &'a mut V2DeflateSerializer,
    start: SystemTime,
) -> Result<Writer<'a>, String> {
    IntervalLogWriterBuilder::new()
        .add_comment("latency in nanoseconds; written by harness as the run goes")
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1_000_000.0)
        .begin_log_with(file, ser)
        .map_err(|e| format!("starting the log: {e}"))
}

/// Appends one interval (`t0` seconds after the start, `dur` long); empty intervals are left
/// out, as HdrHistogram's own recorders do.
pub fn append(w: &mut Writer<'_>, h: &Histogram<u64>, t0: f64, dur: f64) -> Result<(), String> {
    if h.is_empty() {
        return Ok(());
    }
    w.write_histogram(
        h,
        Duration::from_secs_f64(t0),
        Duration::from_secs_f64(dur),
        None,
    )
    .map(|_| ())
    .map_err(|e| format!("{e:?}"))
}
