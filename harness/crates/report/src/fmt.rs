//! Numbers for people: `8.51M tx/s`, `1.23 ms`, `212 MiB`, `0.027 %`.
//!
//! Every renderer formats through these functions so a figure reads the same in the terminal,
//! Markdown, HTML, PDF and chart axes. Three significant digits is the default: more would
//! claim a precision that run-to-run noise does not have.
//!
//! This is meant to be the only number formatter in the workspace. For a figure without a
//! unit use [`si`] ("8.51M"), for a latency [`latency_us`] ("413 µs", "1.23 ms"), for a size
//! [`bytes`] (u64), [`bytes_signed`] (a change, always signed) or [`bytes_f64`] (a figure
//! held as f64).

/// A value with 3 significant digits and no trailing exponent ("8.51", "91.5", "413").
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a < 10.0 {
        trim_zeros(format!("{v:.2}"))
    } else if a < 100.0 {
        trim_zeros(format!("{v:.1}"))
    } else {
        format!("{v:.0}")
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A count or rate with k/M/G suffixes and no unit: 8.51M, 912k, 87.
///
/// ```
/// use report::fmt::si;
/// assert_eq!(si(8_510_000.0), "8.51M");
/// assert_eq!(si(75_300.0), "75.3k");
/// assert_eq!(si(1_234.0), "1.23k");
/// assert_eq!(si(87.0), "87");
/// assert_eq!(si(999_700.0), "1M");
/// ```
pub fn si(v: f64) -> String {
    si_digits(v, 3)
}

/// [`si`] with `digits` significant digits (3 or more; 3 keeps [`sig3`]'s look).
fn si_digits(v: f64, digits: i32) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    let (div, suffix) = if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let scaled = v / div;
    // 999.6k would print as "1000k": move up a prefix instead.
    if suffix != "G" && (scaled.abs() >= 1000.0 - 0.5 * 10f64.powi(3 - digits)) {
        return si_digits(v.signum() * div * 1000.0, digits);
    }
    let text = if digits <= 3 {
        sig3(scaled)
    } else {
        significant(scaled, digits)
    };
    format!("{text}{suffix}")
}

/// `v` rounded to `digits` significant digits, trailing zeros trimmed ("12.75", "13").
fn significant(v: f64, digits: i32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let decimals = (digits - 1 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    trim_zeros(format!("{v:.decimals$}"))
}

/// A rate with its unit: "8.51M tx/s".
///
/// ```
/// assert_eq!(report::fmt::rate(8_510_000.0, "tx/s"), "8.51M tx/s");
/// ```
pub fn rate(v: f64, unit: &str) -> String {
    format!("{} {unit}", si(v))
}

/// A rate that was set rather than measured (a probe's offered rate, a capacity search's
/// capacity and bracket) with up to 4 significant digits: "12.75M tx/s". A search bisects
/// to 2 % or finer, so 3 digits would print neighbouring set points (12.75M, 12.8M) alike;
/// a set rate carries no measurement noise for the extra digit to overstate.
///
/// ```
/// assert_eq!(report::fmt::set_rate(12_750_000.0, "tx/s"), "12.75M tx/s");
/// assert_eq!(report::fmt::set_rate(13_000_000.0, "tx/s"), "13M tx/s");
/// assert_eq!(report::fmt::set_rate(999_980.0, "ops/s"), "1M ops/s");
/// ```
pub fn set_rate(v: f64, unit: &str) -> String {
    format!("{} {unit}", si_digits(v, 4))
}

/// A percentile as every report states it, with its 95 % sampling interval and sample count:
/// "1.91 s (95 % CI 1.88–1.94 s, n = 1,000)". Too few samples to report it (see
/// [`results::Quantile::is_sufficient`]) reads "insufficient samples (n = 500)", never a number;
/// results written before intervals were recorded give the figure alone.
///
/// ```
/// use results::{Bounds, PercentileIntervals, Percentiles, Quantile};
/// let ci = Bounds { lo: 1_880_000.0, hi: 1_940_000.0 };
/// let p = Percentiles {
///     count: 1_000,
///     p99: 1_910_000.0,
///     ci95: Some(PercentileIntervals { p99: Some(ci), ..Default::default() }),
///     ..Default::default()
/// };
/// assert_eq!(report::fmt::percentile(&p, Quantile::P99), "1.91 s (95 % CI 1.88–1.94 s, n = 1,000)");
/// assert_eq!(report::fmt::percentile_cell(&p, Quantile::P99), "1.91 s (1.88–1.94 s)");
/// let few = Percentiles { count: 500, ..p };
/// assert_eq!(report::fmt::percentile(&few, Quantile::P99), "insufficient samples (n = 500)");
/// ```
pub fn percentile(p: &results::Percentiles, q: results::Quantile) -> String {
    percentile_as(p, q, Shown::Long)
}

/// [`percentile`] in a table cell, where the column says what it is and a note under the
/// table says what the brackets are: "1.91 s (1.88–1.94 s)".
pub fn percentile_cell(p: &results::Percentiles, q: results::Quantile) -> String {
    percentile_as(p, q, Shown::Cell)
}

/// [`percentile`] as the figure alone, for a table whose brackets are kept for another
/// column (a capacity search's probes): "1.91 s", or "insufficient samples (n = 500)".
pub fn percentile_figure(p: &results::Percentiles, q: results::Quantile) -> String {
    percentile_as(p, q, Shown::Figure)
}

/// How much of a percentile's interval is shown.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Long,
    Cell,
    Figure,
}

fn percentile_as(p: &results::Percentiles, q: results::Quantile, shown: Shown) -> String {
    if !p.is_sufficient(q) {
        return format!("insufficient samples (n = {})", count(p.count));
    }
    let value = p.value(q);
    match (p.interval(q), shown) {
        (Some(b), Shown::Long) => format!(
            "{} (95 % CI {}, n = {})",
            latency_us(value),
            latency_range_us(b.lo, b.hi),
            count(p.count)
        ),
        (b, Shown::Cell) => latency_ci(value, b),
        (_, _) => latency_us(value),
    }
}

/// A latency with its 95 % sampling interval as a table cell shows it, "4.96 ms (4.88–5.06
/// ms)"; the figure alone when it has none.
///
/// ```
/// use results::Bounds;
/// let ci = Some(Bounds { lo: 4_880.0, hi: 5_060.0 });
/// assert_eq!(report::fmt::latency_ci(4_960.0, ci), "4.96 ms (4.88–5.06 ms)");
/// assert_eq!(report::fmt::latency_ci(4_960.0, None), "4.96 ms");
/// ```
pub fn latency_ci(us: f64, ci: Option<results::Bounds>) -> String {
    match ci {
        Some(b) => format!("{} ({})", latency_us(us), latency_range_us(b.lo, b.hi)),
        None => latency_us(us),
    }
}

/// Two latencies as a range, the unit said once when both share it: "1.88–1.94 s",
/// "998 µs–1.02 ms".
pub fn latency_range_us(lo: f64, hi: f64) -> String {
    let (lo, hi) = (latency_us(lo), latency_us(hi));
    match (lo.rsplit_once(' '), hi.rsplit_once(' ')) {
        (Some((a, u)), Some((_, v))) if u == v => format!("{a}–{hi}"),
        _ => format!("{lo}–{hi}"),
    }
}

/// A latency given in microseconds: "850 ns", "413 µs", "1.23 ms", "38.0 ms", "2.50 s".
///
/// ```
/// use report::fmt::latency_us;
/// assert_eq!(latency_us(812.4), "812 µs");
/// assert_eq!(latency_us(1_234.0), "1.23 ms");
/// assert_eq!(latency_us(0.85), "850 ns");
/// assert_eq!(latency_us(2_500_000.0), "2.50 s");
/// assert_eq!(latency_us(f64::NAN), "n/a");
/// ```
pub fn latency_us(us: f64) -> String {
    if !us.is_finite() {
        return "n/a".into();
    }
    if us == 0.0 {
        "0 µs".into()
    } else if us < 1.0 {
        format!("{:.0} ns", us * 1e3)
    } else if us < 1_000.0 {
        format!("{} µs", sig3(us))
    } else if us < 1_000_000.0 {
        format!("{} ms", fixed3(us / 1e3))
    } else {
        format!("{} s", fixed3(us / 1e6))
    }
}

/// 3 significant digits keeping trailing zeros ("1.20", "38.0"), for columns that align.
fn fixed3(v: f64) -> String {
    let a = v.abs();
    if a < 10.0 {
        format!("{v:.2}")
    } else if a < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Bytes in binary units: "212 MiB", "24.0 GiB", "512 B".
///
/// ```
/// assert_eq!(report::fmt::bytes(212 * 1024 * 1024), "212 MiB");
/// assert_eq!(report::fmt::bytes(512), "512 B");
/// ```
pub fn bytes(b: u64) -> String {
    magnitude_bytes(b as f64)
}

/// A change in bytes, always with its sign: "+23.4 MiB", "-3.00 MiB".
///
/// ```
/// assert_eq!(report::fmt::bytes_signed(-3 * 1024 * 1024), "-3.00 MiB");
/// assert_eq!(report::fmt::bytes_signed(100 * 1024 * 1024), "+100 MiB");
/// ```
pub fn bytes_signed(b: i64) -> String {
    let s = magnitude_bytes(b.unsigned_abs() as f64);
    if b < 0 {
        format!("-{s}")
    } else {
        format!("+{s}")
    }
}

/// A memory slope in bytes per hour, with its sign: "+312 KiB/h", "-1.00 MiB/h".
///
/// ```
/// assert_eq!(report::fmt::bytes_per_hour(-1048576.0), "-1.00 MiB/h");
/// ```
pub fn bytes_per_hour(b: f64) -> String {
    format!("{}/h", bytes_signed(b.round() as i64))
}

/// Bytes held as a float (a criterion's target or measured value), in the units of
/// [`bytes`]; a negative value gets a minus sign, never a plus.
///
/// ```
/// use report::fmt::bytes_f64;
/// assert_eq!(bytes_f64(256.0 * 1024.0 * 1024.0), "256 MiB");
/// assert_eq!(bytes_f64(1.5 * 1024.0 * 1024.0 * 1024.0), "1.50 GiB");
/// assert_eq!(bytes_f64(-2048.0), "-2.00 KiB");
/// assert_eq!(bytes_f64(f64::INFINITY), "n/a");
/// ```
pub fn bytes_f64(b: f64) -> String {
    if !b.is_finite() {
        return "n/a".into();
    }
    if b < 0.0 {
        format!("-{}", magnitude_bytes(-b))
    } else {
        // abs: -0.0 would print as "-0 B".
        magnitude_bytes(b.abs())
    }
}

/// A non-negative byte count in binary units (the sign is the caller's business).
fn magnitude_bytes(b: f64) -> String {
    const K: f64 = 1024.0;
    if b < K {
        format!("{b:.0} B")
    } else if b < K * K {
        format!("{} KiB", fixed3(b / K))
    } else if b < K * K * K {
        format!("{} MiB", fixed3(b / (K * K)))
    } else {
        format!("{} GiB", fixed3(b / (K * K * K)))
    }
}

/// A percentage value already in percent: "91.5 %".
pub fn pct(v: f64) -> String {
    format!("{} %", sig3(v))
}

/// A fraction shown as a percentage, keeping small rates readable: 0.000265 → "0.0265 %".
pub fn fraction_pct(f: f64) -> String {
    if !f.is_finite() {
        return "n/a".into();
    }
    let p = f * 100.0;
    if p == 0.0 {
        "0 %".into()
    } else if p.abs() >= 1.0 {
        format!("{} %", sig3(p))
    } else {
        // Enough decimals for 3 significant digits of a small percentage.
        let decimals = (-(p.abs().log10().floor()) as usize + 2).min(8);
        format!("{} %", trim_zeros(format!("{p:.decimals$}")))
    }
}

/// Instructions per unit of work, to a tenth below 10,000 ("216.2 instr"): the gate's tolerance
/// is 2 %, and three significant digits of 216 hide a change of up to half a percent.
pub fn instructions(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() < 10_000.0 {
        format!("{} instr", trim_zeros(format!("{v:.1}")))
    } else {
        format!("{} instr", si(v))
    }
}

/// An integer with thousands separators: 224,078,221.
pub fn count(n: u64) -> String {
    group_digits(&n.to_string())
}

/// A big integer (u128) with thousands separators.
pub fn count_u128(n: u128) -> String {
    group_digits(&n.to_string())
}

fn group_digits(s: &str) -> String {
    let head = match s.len() % 3 {
        0 => 3.min(s.len()),
        n => n,
    };
    let mut out = String::from(&s[..head]);
    let mut i = head;
    while i < s.len() {
        out.push(',');
        out.push_str(&s[i..i + 3]);
        i += 3;
    }
    out
}

/// A duration in seconds: "850 ms", "25.0 s", "2 min 30 s", "1 h 05 min".
pub fn duration_s(s: f64) -> String {
    if !s.is_finite() {
        return "n/a".into();
    }
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        let m = (s / 60.0).floor();
        format!("{m:.0} min {:02.0} s", s - m * 60.0)
    } else {
        let h = (s / 3600.0).floor();
        format!("{h:.0} h {:02.0} min", ((s - h * 3600.0) / 60.0).floor())
    }
}

/// Planned load of a stage: "4 workers", "2 → 4 workers", "50k ops/s".
pub fn load(from: f64, to: f64, unit: &str) -> String {
    if (from - to).abs() < f64::EPSILON {
        format!("{} {unit}", si(from))
    } else {
        format!("{} → {} {unit}", si(from), si(to))
    }
}

/// RFC 3339 "2026-11-23T15:56:00Z" → "2026-11-23 15:56:00 UTC"; anything else as given.
pub fn timestamp(ts: &str) -> String {
    match ts.strip_suffix('Z') {
        Some(t) if t.len() >= 19 && t.as_bytes().get(10) == Some(&b'T') => {
            format!("{} {} UTC", &t[..10], &t[11..19])
        }
        _ => ts.to_string(),
    }
}

/// Shorten a hash for display: first 12 characters.
pub fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// Latency resolution, when coarse enough to matter for the reader.
pub fn resolution_ns(ns: u64) -> Option<String> {
    if ns >= 1_000 {
        Some(latency_us(ns as f64 / 1e3))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_numbers() {
        assert_eq!(rate(8_510_000.0, "tx/s"), "8.51M tx/s");
        assert_eq!(rate(9_020_000.0, "tx/s"), "9.02M tx/s");
        // A set rate keeps the digit that tells a search's neighbouring probes apart.
        assert_eq!(set_rate(12_750_000.0, "tx/s"), "12.75M tx/s");
        assert_eq!(set_rate(12_500_000.0, "tx/s"), "12.5M tx/s");
        assert_eq!(set_rate(1_234_567.0, "ops/s"), "1.235M ops/s");
        assert_eq!(set_rate(999_960.0, "ops/s"), "1M ops/s");
        assert_eq!(set_rate(850.0, "ops/s"), "850 ops/s");
        assert_eq!(set_rate(0.0, "ops/s"), "0 ops/s");
        assert_eq!(si(912_345.0), "912k");
        assert_eq!(si(999_700.0), "1M");
        assert_eq!(si(87.0), "87");
        assert_eq!(si(0.5), "0.5");
        assert_eq!(latency_us(1_230.0), "1.23 ms");
        assert_eq!(latency_us(38_010.9), "38.0 ms");
        assert_eq!(latency_us(413.183), "413 µs");
        assert_eq!(latency_us(0.85), "850 ns");
        assert_eq!(latency_us(2_500_000.0), "2.50 s");
        assert_eq!(bytes(212 * 1024 * 1024), "212 MiB");
        assert_eq!(bytes(24 * 1024 * 1024 * 1024), "24.0 GiB");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes_signed(-(3 * 1024 * 1024)), "-3.00 MiB");
        assert_eq!(bytes_f64(212.0 * 1024.0 * 1024.0), bytes(212 * 1024 * 1024));
        assert_eq!(bytes_f64(-0.0), "0 B");
        assert_eq!(pct(91.5), "91.5 %");
        assert_eq!(fraction_pct(0.000265), "0.0265 %");
        assert_eq!(fraction_pct(0.0001), "0.01 %");
        assert_eq!(fraction_pct(0.25), "25 %");
        assert_eq!(fraction_pct(0.0), "0 %");
        assert_eq!(count(224_078_221), "224,078,221");
        assert_eq!(count(12), "12");
        assert_eq!(
            count_u128(1_000_000_000_000_000_000),
            "1,000,000,000,000,000,000"
        );
        assert_eq!(duration_s(25.0), "25.0 s");
        assert_eq!(duration_s(150.0), "2 min 30 s");
        assert_eq!(duration_s(3900.0), "1 h 05 min");
        assert_eq!(load(1.0, 4.0, "workers"), "1 → 4 workers");
        assert_eq!(load(50_000.0, 50_000.0, "ops/s"), "50k ops/s");
        assert_eq!(timestamp("2026-11-23T15:56:00Z"), "2026-11-23 15:56:00 UTC");
        assert_eq!(timestamp("yesterday"), "yesterday");
        assert_eq!(resolution_ns(1_000_000).as_deref(), Some("1.00 ms"));
        assert_eq!(resolution_ns(1), None);
        assert_eq!(sig3(f64::NAN), "n/a");
    }
}
