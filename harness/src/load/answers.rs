//! Samples of the failed answers, so a report says what the target answered, not only how
//! often it failed.
//!
//! Why: errors are counted by kind, and a count alone left a 4,000-connection run's 81,719
//! `status_5xx` unexplained until someone read the server's code; the server had said why in
//! every answer (its connection limit), and nothing kept it. Gatling and oha list the error
//! messages, vegeta an error set. Here the run keeps the distinct failed answers (kind,
//! template, status, the start of the body) among the first [`PER_KIND`] of each kind it
//! counted, at most [`MAX_KEPT`] of each kind (so answers of one kind that differ in a
//! request id cannot crowd out another kind's).
//!
//! Cost: nothing on an answer that did not fail (the drivers call [`AnswerSamples::note`] for
//! every outcome; it returns at the `failed` test). A failed answer of a kind whose samples
//! are used up costs one relaxed atomic load; the lock is taken at most [`PER_KIND`] times per
//! kind in a run. Transport failures (connect, tls, timeout, io) have no answer to keep.

use crate::load::errors::{ErrorKind, OpOutcome};
use results::{FailedAnswer, ANSWERS_KEPT_PER_KIND, ANSWER_BODY_CHARS, ANSWER_SAMPLES_PER_KIND};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Failed answers of each kind sampled per run: the first ones, from whichever workers.
pub const PER_KIND: u32 = ANSWER_SAMPLES_PER_KIND;
/// Distinct answers of each kind kept per run; later distinct ones are counted in no sample.
pub const MAX_KEPT: usize = ANSWERS_KEPT_PER_KIND;

/// The kinds a failed answer can count as (the others are transport failures).
const ANSWER_KINDS: [ErrorKind; 5] = [
    ErrorKind::Status4xx,
    ErrorKind::Status5xx,
    ErrorKind::StatusOther,
    ErrorKind::Body,
    ErrorKind::Check,
];

/// One run's samples, shared by every worker (in the run's `Shared`).
pub struct AnswerSamples {
    /// Samples left per kind of [`ANSWER_KINDS`].
    left: [AtomicU32; ANSWER_KINDS.len()],
    kept: Mutex<Vec<Kept>>,
}

/// A distinct answer as sampled; the template by index until the names are at hand.
struct Kept {
    kind: ErrorKind,
    template: u16,
    status: u16,
    body: String,
    truncated: bool,
    sampled: u64,
    first_at_s: f64,
}

impl Default for AnswerSamples {
    fn default() -> AnswerSamples {
        AnswerSamples {
            left: std::array::from_fn(|_| AtomicU32::new(PER_KIND)),
            kept: Mutex::new(Vec::new()),
        }
    }
}

impl AnswerSamples {
    /// Samples the answer `o` was judged from (status `status`, `body` as held, `truncated`
    /// when the body went on), `at_s` seconds into the run, if `o` failed on its answer and
    /// its kind has samples left.
    #[inline]
    pub fn note(&self, o: &OpOutcome, status: u16, body: &[u8], truncated: bool, at_s: f64) {
        if !o.failed {
            return;
        }
        let Some(i) = ANSWER_KINDS.iter().position(|k| o.errors[*k as usize] > 0) else {
            return;
        };
        let left = &self.left[i];
        if left.load(Ordering::Relaxed) == 0 || left.fetch_sub(1, Ordering::Relaxed) == 0 {
            left.store(0, Ordering::Relaxed);
            return;
        }
        let (body, cut) = body_text(body);
        let sample = Kept {
            kind: ANSWER_KINDS[i],
            template: o.template,
            status,
            body,
            truncated: truncated || cut,
            sampled: 1,
            first_at_s: at_s,
        };
        // A poisoned lock only means another worker panicked; the samples are still whole.
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let same = |k: &Kept| {
            (k.kind, k.template, k.status) == (sample.kind, sample.template, sample.status)
                && k.body == sample.body
        };
        if let Some(k) = kept.iter_mut().find(|k| same(k)) {
            k.sampled += 1;
            k.first_at_s = k.first_at_s.min(at_s);
        } else if kept.iter().filter(|k| k.kind == sample.kind).count() < MAX_KEPT {
            kept.push(sample);
        }
    }

    /// The samples as results.json holds them, templates named by `names` (none when the
    /// target has no request templates), most often sampled first.
    pub fn list(&self, names: &[String]) -> Vec<FailedAnswer> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let answers = kept
            .iter()
            .map(|k| FailedAnswer {
                kind: k.kind.as_str().to_string(),
                template: names.get(usize::from(k.template)).cloned(),
                status: k.status,
                body: k.body.clone(),
                truncated: k.truncated,
                sampled: k.sampled,
                first_at_s: k.first_at_s,
            })
            .collect();
        merge([answers])
    }
}

/// Lists of failed answers (several segments' of one run, for `harness merge`) as one: the
/// same answer's samples added, its first time the earliest, most often sampled first, at most
/// [`MAX_KEPT`] of each kind.
pub fn merge(lists: impl IntoIterator<Item = Vec<FailedAnswer>>) -> Vec<FailedAnswer> {
    let mut all: Vec<FailedAnswer> = Vec::new();
    for a in lists.into_iter().flatten() {
        let same = |b: &&mut FailedAnswer| {
            (&b.kind, &b.template, b.status, &b.body) == (&a.kind, &a.template, a.status, &a.body)
        };
        match all.iter_mut().find(same) {
            Some(b) => {
                b.sampled += a.sampled;
                b.first_at_s = b.first_at_s.min(a.first_at_s);
                b.truncated |= a.truncated;
            }
            None => all.push(a),
        }
    }
    all.sort_by(|a, b| {
        b.sampled
            .cmp(&a.sampled)
            .then(a.first_at_s.total_cmp(&b.first_at_s))
    });
    let mut per_kind: Vec<(String, usize)> = Vec::new();
    all.retain(|a| match per_kind.iter_mut().find(|(k, _)| *k == a.kind) {
        Some((_, n)) => {
            *n += 1;
            *n <= MAX_KEPT
        }
        None => {
            per_kind.push((a.kind.clone(), 1));
            true
        }
    });
    all
}

/// The start of a body as one line of text: invalid UTF-8 replaced, control characters
/// (line breaks, tabs) as spaces, runs of spaces as one, at most [`ANSWER_BODY_CHARS`]
/// characters; and whether it was cut.
fn body_text(body: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut chars = 0;
    for c in text.trim().chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        if chars == ANSWER_BODY_CHARS {
            return (out, true);
        }
        out.push(c);
        chars += 1;
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: ErrorKind, template: usize) -> OpOutcome {
        OpOutcome::failure(kind, 0).of_template(template)
    }

    #[test]
    fn distinct_answers_are_kept_with_how_often_each_was_sampled() {
        let s = AnswerSamples::default();
        let limit = br#"{"error":"connection limit"}"#;
        for i in 0..3 {
            s.note(
                &failed(ErrorKind::Status5xx, 1),
                503,
                limit,
                false,
                2.0 - i as f64,
            );
        }
        s.note(
            &failed(ErrorKind::Status4xx, 0),
            404,
            b"not\r\n\tfound",
            false,
            0.5,
        );
        // Not failed, or failed without an answer: nothing to keep.
        s.note(&OpOutcome::default(), 200, b"ok", false, 0.1);
        s.note(&failed(ErrorKind::Connect, 0), 0, b"", false, 0.1);
        let names = ["login".to_string(), "buy".to_string()];
        let got = s.list(&names);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].kind, "status_5xx");
        assert_eq!(got[0].template.as_deref(), Some("buy"));
        assert_eq!((got[0].status, got[0].sampled), (503, 3));
        assert_eq!(got[0].body, r#"{"error":"connection limit"}"#);
        assert_eq!(got[0].first_at_s, 0.0);
        assert_eq!(
            (got[1].kind.as_str(), got[1].body.as_str()),
            ("status_4xx", "not found")
        );
    }

    #[test]
    fn sampling_stops_after_the_first_answers_of_a_kind() {
        let s = AnswerSamples::default();
        for i in 0..PER_KIND + 10 {
            let body = format!("answer {}", i.min(PER_KIND + 1));
            s.note(
                &failed(ErrorKind::Check, 0),
                200,
                body.as_bytes(),
                false,
                1.0,
            );
        }
        let got = s.list(&[]);
        assert_eq!(got.len(), MAX_KEPT, "distinct answers capped");
        let sampled: u64 = got.iter().map(|a| a.sampled).sum();
        assert_eq!(
            sampled, MAX_KEPT as u64,
            "one sample each of the first distinct ones"
        );
        // Another kind still has its own samples.
        s.note(&failed(ErrorKind::Body, 0), 200, b"{}", false, 3.0);
        assert!(
            s.list(&[]).iter().any(|a| a.kind == "body"),
            "not crowded out"
        );
        assert!(
            got.iter().all(|a| a.template.is_none()),
            "no names: no template"
        );
    }

    #[test]
    fn bodies_become_one_bounded_line() {
        let long = "x".repeat(ANSWER_BODY_CHARS + 5);
        assert_eq!(
            body_text(long.as_bytes()),
            ("x".repeat(ANSWER_BODY_CHARS), true)
        );
        assert_eq!(
            body_text(b"  a\n\n  b \xff"),
            ("a b \u{fffd}".to_string(), false)
        );
        assert_eq!(body_text(b""), (String::new(), false));
    }

    #[test]
    fn merged_segments_add_the_same_answer_up() {
        let a = |sampled, at| FailedAnswer {
            kind: "status_5xx".into(),
            template: None,
            status: 503,
            body: "busy".into(),
            truncated: false,
            sampled,
            first_at_s: at,
        };
        let other = FailedAnswer {
            status: 502,
            ..a(1, 0.5)
        };
        let m = merge([vec![a(2, 3.0)], vec![a(5, 1.0), other]]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].sampled, m[0].first_at_s), (7, 1.0));
        assert_eq!(m[1].status, 502);
    }
}
