//! Prometheus text exposition (format 0.0.4), written by hand: the engine's `/metrics` and the
//! harness's live metrics (`harness run --metrics-addr`) both use this one writer, so both
//! escape label values and lay out families alike (`promtool check metrics` passes on both).
//!
//! Why not a client library: both sides already hold their figures in their own tables (atomic
//! counters, HDR histograms) and only need them printed when scraped; registering them again in
//! a client library's registry would mean a second copy updated on every event.

use std::fmt::{Display, Write as _};

/// Prometheus text being built. Writing to a `String` cannot fail, so the `fmt::Result`s are
/// dropped.
#[derive(Debug, Default)]
pub struct Exposition(pub String);

impl Exposition {
    /// One metric family: its `# HELP` and `# TYPE` lines, then a line per `(labels, value)`
    /// (`labels` as [`labels`] writes them, or empty).
    pub fn family<V: Display>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: &[(String, V)],
    ) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(self.0, "{name}{labels} {v}");
        }
    }

    /// A family of one unlabelled sample.
    pub fn single<V: Display>(&mut self, name: &str, kind: &str, help: &str, value: V) {
        self.family(name, kind, help, &[(String::new(), value)]);
    }

    /// A histogram family: for each series its labels (as [`labels`] writes them, or empty),
    /// its counts per bucket (not cumulative; one more than `bounds`, the last for +Inf) and
    /// the sum of its values.
    pub fn histogram(&mut self, name: &str, help: &str, bounds: &[f64], series: &[Series<'_>]) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} histogram");
        for s in series {
            let inner = s.labels.trim_start_matches('{').trim_end_matches('}');
            let sep = if inner.is_empty() { "" } else { "," };
            let mut cumulative = 0u64;
            for (i, n) in s.counts.iter().enumerate() {
                cumulative += n;
                let le = bounds
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    self.0,
                    "{name}_bucket{{{inner}{sep}le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(self.0, "{name}_sum{} {}", s.labels, s.sum);
            let _ = writeln!(self.0, "{name}_count{} {cumulative}", s.labels);
        }
    }
}

/// One series of a histogram family ([`Exposition::histogram`]).
pub struct Series<'a> {
    pub labels: &'a str,
    pub counts: &'a [u64],
    pub sum: f64,
}

/// `{name="value",...}` with each value escaped as the format requires (backslash, double
/// quote and line feed); empty for no pairs.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[]), "");
        assert_eq!(
            labels(&[("a", "x"), ("b", "q\"\\\nz")]),
            "{a=\"x\",b=\"q\\\"\\\\\\nz\"}"
        );
    }

    #[test]
    fn histograms_are_cumulative_with_an_inf_bucket() {
        let mut e = Exposition::default();
        let l = labels(&[("stage", "s")]);
        e.histogram(
            "h",
            "help",
            &[0.001, 0.01],
            &[Series {
                labels: &l,
                counts: &[1, 2, 3],
                sum: 0.5,
            }],
        );
        assert_eq!(
            e.0,
            "# HELP h help\n# TYPE h histogram\nh_bucket{stage=\"s\",le=\"0.001\"} 1\n\
             h_bucket{stage=\"s\",le=\"0.01\"} 3\nh_bucket{stage=\"s\",le=\"+Inf\"} 6\n\
             h_sum{stage=\"s\"} 0.5\nh_count{stage=\"s\"} 6\n"
        );
    }
}
