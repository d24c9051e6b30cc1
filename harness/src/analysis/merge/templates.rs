//! The merged result's per-template figures: each request template's, combined by name across
//! the segments (they ran the same scenario, so the same templates; a template some segment
//! lacks is merged from those that have it).
//!
//! Counts and rates add up, error rates are weighted by operations (as for stages), and the
//! latency comes from the sum of the segments' template histograms, exact like the stages'
//! ([`exact_sum`]), or the worst segment's percentiles when a segment kept none.

use super::parts::{add_counts, exact_sum, worst_percentiles};
use super::Seg;
use results::{Percentiles, TemplateFigures};

/// Every template of every segment, in the order first seen, with its figures combined.
pub(super) fn merge_templates(segs: &[Seg<'_>]) -> Vec<TemplateFigures> {
    let mut names: Vec<&str> = Vec::new();
    for t in segs.iter().flat_map(|(_, r, _)| &r.templates) {
        if !names.contains(&t.name.as_str()) {
            names.push(&t.name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let all: Vec<&TemplateFigures> = segs
                .iter()
                .filter_map(|(_, r, _)| r.templates.iter().find(|t| t.name == name))
                .collect();
            merge_one(&all)
        })
        .collect()
}

/// One template's figures from the segments that have it (at least one).
fn merge_one(all: &[&TemplateFigures]) -> TemplateFigures {
    let sum = exact_sum(all.iter().map(|t| (t.histogram.as_ref(), t.ops)));
    let mut m = TemplateFigures {
        latency_us: match &sum {
            Some(h) => Percentiles::from_histogram(h),
            None => worst_percentiles(all.iter().map(|t| &t.latency_us)),
        },
        histogram: sum.as_ref().and_then(|h| results::encode_histogram(h).ok()),
        ops: all.iter().map(|t| t.ops).sum(),
        // A setup template has no rate in any segment: none merged either.
        ops_per_s: all.iter().map(|t| t.ops_per_s).sum(),
        errors: all.iter().map(|t| t.errors).sum(),
        error_rate: 0.0,
        errors_by_kind: Default::default(),
        checks_failed: Default::default(),
        ..all[0].clone()
    };
    let weighted_rate: f64 = all.iter().map(|t| t.error_rate * t.ops as f64).sum();
    if m.ops > 0 {
        m.error_rate = weighted_rate / m.ops as f64;
    }
    for t in all {
        add_counts(&mut m.errors_by_kind, &t.errors_by_kind);
        add_counts(&mut m.checks_failed, &t.checks_failed);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use results::fixture;
    use std::path::Path;

    #[test]
    fn templates_combine_by_name_with_exact_latency() {
        let a = fixture::http_templates();
        let mut b = fixture::http_templates();
        // The second segment lists its templates in another order, with a failed check.
        b.templates.reverse();
        b.templates[0].checks_failed.insert("status 200".into(), 2);
        let sa = results::SegmentInfo::new(0, 2);
        let sb = results::SegmentInfo::new(1, 2);
        let segs: Vec<Seg<'_>> = vec![(Path::new("a"), &a, &sa), (Path::new("b"), &b, &sb)];
        let m = merge_templates(&segs);
        let names: Vec<&str> = m.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["transfer", "health", "login"]);
        for (t, one) in m.iter().zip(&a.templates) {
            assert_eq!(t.ops, 2 * one.ops, "{}", t.name);
            assert_eq!(t.errors, 2 * one.errors, "{}", t.name);
            assert!((t.error_rate - one.error_rate).abs() < 1e-12, "{}", t.name);
            // The same samples twice: the same percentiles, from twice the count.
            assert_eq!(t.latency_us.count, 2 * one.latency_us.count);
            assert_eq!(t.latency_us.p99, one.latency_us.p99);
            assert!(t.histogram.is_some());
        }
        let rate = |t: &TemplateFigures| t.ops_per_s;
        assert_eq!(rate(&m[0]), rate(&a.templates[0]).map(|r| 2.0 * r));
        assert_eq!((m[2].setup, rate(&m[2])), (true, None));
        assert_eq!(m[2].errors_by_kind["status_4xx"], 4);
        assert_eq!(m[2].checks_failed["status 200"], 2);
    }

    #[test]
    fn without_a_segment_histogram_the_worst_segment_percentiles_stand() {
        let a = fixture::http_templates();
        let mut b = fixture::http_templates();
        b.templates[1].histogram = None;
        b.templates[1].latency_us.p99 *= 3.0;
        let sa = results::SegmentInfo::new(0, 2);
        let sb = results::SegmentInfo::new(1, 2);
        let segs: Vec<Seg<'_>> = vec![(Path::new("a"), &a, &sa), (Path::new("b"), &b, &sb)];
        let m = merge_templates(&segs);
        assert!(m[1].histogram.is_none());
        assert_eq!(m[1].latency_us.p99, b.templates[1].latency_us.p99);
        assert!(m[0].histogram.is_some());
    }
}
