//! Number formatting for people: rates, latencies, sizes.

/// `8510000.0` -> `8.51M`.
pub fn human_rate(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

/// Microseconds -> `812 µs`, `1.23 ms`, `2.50 s`.
pub fn human_latency_us(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

/// Bytes -> `212.0 MiB`.
pub fn human_bytes(b: f64) -> String {
    let a = b.abs();
    if a >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", b / (1u64 << 30) as f64)
    } else if a >= (1u64 << 20) as f64 {
        format!("{:.1} MiB", b / (1u64 << 20) as f64)
    } else if a >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(human_rate(8_510_000.0), "8.51M");
        assert_eq!(human_rate(75_300.0), "75.3k");
        assert_eq!(human_latency_us(1234.0), "1.23 ms");
        assert_eq!(human_latency_us(812.4), "812 µs");
        assert_eq!(human_bytes(256.0 * 1024.0 * 1024.0), "256.0 MiB");
    }
}
