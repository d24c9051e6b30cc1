//! Parsers for the human-friendly values scenario files use: durations ("1h30m", "500ms"),
//! rates ("8.51M/s"), sizes ("256MiB", "100MB") and percentages ("0.01%").
//!
//! They are strict on purpose: a benchmark whose duration silently became 5 ms instead of
//! 5 minutes wastes a CI run and proves nothing. Numbers are plain decimals (digits with an
//! optional fraction; no sign, exponent, NaN or infinity), units are case-sensitive and follow
//! the number without a space. Decimal arithmetic is done on integers so "8.51M/s" is exactly
//! 8 510 000 and "1.5s" exactly 1 500 000 000 ns. The harness reuses these for its own flags.

use std::time::Duration;

/// Why a value did not parse. The caller adds the field and the "expected ..." wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("not understood")]
    Syntax,
    #[error("too large")]
    Overflow,
}

/// A decimal number `digits` × 10^`-frac_len`, kept exact.
struct Decimal {
    mantissa: u128,
    frac_len: u32,
}

/// Splits a leading plain decimal number off `s`: `[0-9]+(\.[0-9]+)?`.
fn split_decimal(s: &str) -> Result<(Decimal, &str), UnitError> {
    let bytes = s.as_bytes();
    let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 {
        return Err(UnitError::Syntax);
    }
    let mut end = int_len;
    let mut frac_len = 0usize;
    if bytes.get(end) == Some(&b'.') {
        frac_len = bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if frac_len == 0 {
            return Err(UnitError::Syntax);
        }
        end += 1 + frac_len;
    }
    let mut mantissa: u128 = 0;
    for b in s[..end].bytes().filter(u8::is_ascii_digit) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(b - b'0')))
            .ok_or(UnitError::Overflow)?;
    }
    let frac_len = u32::try_from(frac_len).map_err(|_| UnitError::Overflow)?;
    Ok((Decimal { mantissa, frac_len }, &s[end..]))
}

impl Decimal {
    /// `self × multiplier`, truncated to an integer.
    fn times(&self, multiplier: u128) -> Result<u128, UnitError> {
        let scaled = self
            .mantissa
            .checked_mul(multiplier)
            .ok_or(UnitError::Overflow)?;
        let div = 10u128
            .checked_pow(self.frac_len)
            .ok_or(UnitError::Overflow)?;
        Ok(scaled / div)
    }

    /// `self × 10^exp10` as the nearest `f64` (parsing "<digits>e<exp>" is correctly rounded).
    fn to_f64(&self, exp10: i32) -> Result<f64, UnitError> {
        let exp = i64::from(exp10) - i64::from(self.frac_len);
        let v: f64 = format!("{}e{}", self.mantissa, exp)
            .parse()
            .map_err(|_| UnitError::Syntax)?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(UnitError::Overflow)
        }
    }
}

const DURATION_UNITS: [(&str, u128); 7] = [
    ("h", 3_600_000_000_000),
    ("ms", 1_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("ns", 1),
];

/// Parses a duration: one or more `<number><unit>` parts, units `h m s ms us µs ns`, largest
/// first and each at most once ("1h30m", "1.5s", "250us"). A bare number is rejected: "30"
/// could mean anything.
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let mut rest = s;
    let mut total: u128 = 0;
    let mut last_unit_ns = u128::MAX;
    if rest.is_empty() {
        return Err(UnitError::Syntax);
    }
    while !rest.is_empty() {
        let (number, after) = split_decimal(rest)?;
        // "ms" must be tried before "m"; the table is ordered so that it is.
        let (unit, unit_ns) = DURATION_UNITS
            .iter()
            .find(|(u, _)| after.starts_with(u))
            .ok_or(UnitError::Syntax)?;
        if *unit_ns >= last_unit_ns {
            return Err(UnitError::Syntax);
        }
        last_unit_ns = *unit_ns;
        total = total
            .checked_add(number.times(*unit_ns)?)
            .ok_or(UnitError::Overflow)?;
        rest = &after[unit.len()..];
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| UnitError::Overflow)?;
    // Cast is exact: the remainder is below 10^9.
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

/// Parses a rate per second: `<number>[k|K|M|G]/s` ("8.51M/s", "10k/s", "1000/s") or a bare
/// number ("1000", "2.5"). Returns a finite, non-negative value.
pub fn parse_rate(s: &str) -> Result<f64, UnitError> {
    let (number, after) = split_decimal(s)?;
    let (exp, after) = match after.as_bytes().first() {
        Some(b'k' | b'K') => (3, &after[1..]),
        Some(b'M') => (6, &after[1..]),
        Some(b'G') => (9, &after[1..]),
        _ => (0, after),
    };
    if after == "/s" || (after.is_empty() && exp == 0) {
        number.to_f64(exp)
    } else {
        Err(UnitError::Syntax)
    }
}

const SIZE_UNITS: [(&str, u128); 10] = [
    ("B", 1),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// Parses a size in bytes: `<number><unit>` with decimal units `B kB KB MB GB TB` (powers of
/// 1000) or binary units `KiB MiB GiB TiB` (powers of 1024), or a bare whole number of bytes.
/// A fraction is allowed with a unit ("1.5GiB") and truncated to whole bytes.
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    let (number, after) = split_decimal(s)?;
    let multiplier = if after.is_empty() {
        if number.frac_len != 0 {
            return Err(UnitError::Syntax);
        }
        1
    } else {
        SIZE_UNITS
            .iter()
            .find(|(u, _)| *u == after)
            .map(|(_, m)| *m)
            .ok_or(UnitError::Syntax)?
    };
    u64::try_from(number.times(multiplier)?).map_err(|_| UnitError::Overflow)
}

/// Parses a percentage `<number>%` ("0.01%", "60%") into a fraction (0.0001, 0.6). Values above
/// 100 % parse; callers check their own range.
pub fn parse_percent(s: &str) -> Result<f64, UnitError> {
    let (number, after) = split_decimal(s)?;
    if after == "%" {
        number.to_f64(-2)
    } else {
        Err(UnitError::Syntax)
    }
}

/// Formats a duration compactly for messages ("1h30m", "1.5s", "250us").
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let mut parts = String::new();
    let hours = ns / 3_600_000_000_000;
    let minutes = (ns / 60_000_000_000) % 60;
    let sub_minute_ns = ns % 60_000_000_000;
    if hours > 0 {
        parts.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        parts.push_str(&format!("{minutes}m"));
    }
    if sub_minute_ns > 0 {
        let (unit, div) = if sub_minute_ns >= 1_000_000_000 {
            ("s", 1_000_000_000u128)
        } else if sub_minute_ns >= 1_000_000 {
            ("ms", 1_000_000)
        } else if sub_minute_ns >= 1_000 {
            ("us", 1_000)
        } else {
            ("ns", 1)
        };
        let whole = sub_minute_ns / div;
        let frac = sub_minute_ns % div;
        if frac == 0 {
            parts.push_str(&format!("{whole}{unit}"));
        } else {
            let width = div.ilog10() as usize;
            let frac = format!("{frac:0width$}");
            parts.push_str(&format!("{whole}.{}{unit}", frac.trim_end_matches('0')));
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn durations_good() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("4m30s"), Ok(Duration::from_secs(270)));
        assert_eq!(parse_duration("1m0.5s"), Ok(ms(60_500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0.001ms"), Ok(Duration::from_micros(1)));
        assert_eq!(
            parse_duration("2h1m1s1ms1us1ns"),
            Ok(Duration::new(7261, 1_001_001))
        );
    }

    #[test]
    fn durations_bad() {
        for bad in [
            "5 minutes",
            "5minutes",
            "fast",
            "-3s",
            "1e400",
            "1e3s",
            "",
            "30",
            "s",
            "5 m",
            " 5m",
            "5m ",
            "1.s",
            ".5s",
            "1..5s",
            "30m1h",
            "1s1s",
            "5M",
            "5S",
            "NaNs",
            "infs",
            "+5s",
            "1h 30m",
            "5sec",
        ] {
            assert_eq!(parse_duration(bad), Err(UnitError::Syntax), "{bad:?}");
        }
        assert_eq!(
            parse_duration("99999999999999999999h"),
            Err(UnitError::Overflow)
        );
        assert_eq!(
            parse_duration("9999999999999999999999999999999999999999s"),
            Err(UnitError::Overflow)
        );
    }

    #[test]
    fn rates_good() {
        assert_eq!(parse_rate("8.51M/s"), Ok(8_510_000.0));
        assert_eq!(parse_rate("10k/s"), Ok(10_000.0));
        assert_eq!(parse_rate("10K/s"), Ok(10_000.0));
        assert_eq!(parse_rate("1000/s"), Ok(1000.0));
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert_eq!(parse_rate("0.99M/s"), Ok(990_000.0));
        assert_eq!(parse_rate("1.5G/s"), Ok(1_500_000_000.0));
        assert_eq!(parse_rate("0.1/s"), Ok(0.1));
    }

    #[test]
    fn rates_bad() {
        for bad in [
            "NaNk/s", "fast", "-5/s", "1e400", "10k", "10 k/s", "10k/sec", "10m/s", "10k/min",
            "/s", "inf", "1e3/s", "", "10kk/s",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
        let huge = format!("{}G/s", "9".repeat(320));
        assert_eq!(parse_rate(&huge), Err(UnitError::Overflow));
    }

    #[test]
    fn sizes_binary_vs_decimal() {
        assert_eq!(parse_size("256MiB"), Ok(256 * 1024 * 1024));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("4kB"), Ok(4000));
        assert_eq!(parse_size("4KB"), Ok(4000));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("12345"), Ok(12345));
        assert_eq!(parse_size("12345B"), Ok(12345));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
    }

    #[test]
    fn sizes_bad() {
        for bad in [
            "256 MiB", "256mib", "256M", "256mb", "1.5", "lots", "-1MB", "1e9", "MiB", "1 GB",
        ] {
            assert_eq!(parse_size(bad), Err(UnitError::Syntax), "{bad:?}");
        }
        assert_eq!(parse_size("99999999999TiB"), Err(UnitError::Overflow));
        assert_eq!(parse_size("18446744073709551616"), Err(UnitError::Overflow));
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("0.01%"), Ok(0.0001));
        assert_eq!(parse_percent("60%"), Ok(0.6));
        assert_eq!(parse_percent("100%"), Ok(1.0));
        assert_eq!(parse_percent("150%"), Ok(1.5));
        for bad in ["0.01", "%", "-1%", "1 %", "NaN%", "1e2%", "ten%"] {
            assert_eq!(parse_percent(bad), Err(UnitError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn durations_format_round_trip() {
        for s in [
            "5m", "500ms", "1.5s", "1h30m", "250us", "7ns", "4m30s", "1h", "0s", "1.25ms",
        ] {
            let d = parse_duration(s).expect(s);
            assert_eq!(format_duration(d), s);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
