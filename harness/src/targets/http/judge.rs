//! Judging an answer: what an HTTP response says about the operation that asked for it.
//!
//! Both HTTP drivers judge through [`judge`], so they count alike: an unexpected status is an
//! error by status class, a transactions answer from our engine gives the committed and rejected
//! counts, and another service's expected status means it took what was sent.

use super::engine_api::parse_outcome;
use super::inspect::Answer;
use super::request::RequestTable;
use super::template::ConnVars;
use crate::load::errors::{ErrorKind, OpOutcome};
use results::FAILED_BODY_HOLD;

/// How much of an answer with status `status` to hold when its template needs `needs` bytes of
/// the body: that, and for an answer that is not a success (outside 200-299) at least
/// [`FAILED_BODY_HOLD`], so a failed answer's first words can be sampled
/// ([`crate::load::answers`]). Successful answers cost nothing more.
pub fn body_hold(status: u16, needs: usize) -> usize {
    if (200..300).contains(&status) {
        needs
    } else {
        needs.max(FAILED_BODY_HOLD)
    }
}

/// [`judge`], then, when the status was as expected, template `template`'s checks and
/// extractions (into the connection's `vars`): a failed one fails the operation as `check`
/// (transfers the engine committed stay counted: they were).
pub fn judge_checked(
    table: &RequestTable,
    engine: bool,
    (template, status): (usize, u16),
    answer: &Answer,
    submitted_tx: u64,
    vars: &mut ConnVars,
) -> OpOutcome {
    let o = judge(table, engine, template, status, answer.body, submitted_tx);
    let Some(inspect) = table.inspect(template).filter(|_| !o.failed) else {
        return o;
    };
    match inspect.run(answer, vars) {
        Ok(()) => o,
        Err(failed) => {
            let mut f = OpOutcome::failure(ErrorKind::Check, submitted_tx);
            f.committed_tx = o.committed_tx;
            f.check = u8::try_from(failed.0).unwrap_or(u8::MAX - 1) + 1;
            f
        }
    }
}

/// Judges an answer to a request from template `template` that carried `submitted_tx`
/// transfers: an unexpected status is an error by status class; a transactions answer from our
/// engine gives the committed and rejected counts; another service's expected status means it
/// took what we sent. Both drivers judge through here, so they count alike.
pub fn judge(
    table: &RequestTable,
    engine: bool,
    template: usize,
    status: u16,
    body: &[u8],
    submitted_tx: u64,
) -> OpOutcome {
    if !table.expected(template, status) {
        let kind = match status {
            400..=499 => ErrorKind::Status4xx,
            500..=599 => ErrorKind::Status5xx,
            _ => ErrorKind::StatusOther,
        };
        return OpOutcome::failure(kind, submitted_tx);
    }
    let mut o = OpOutcome {
        submitted_tx,
        ..OpOutcome::default()
    };
    if !table.has_body(template) {
        // GET health and the like: nothing was submitted, nothing to read.
        return o;
    }
    match parse_outcome(body) {
        Some(a) => {
            o.committed_tx = a.committed;
            o.errors[..a.rejected.len()].copy_from_slice(&a.rejected);
        }
        None if engine && submitted_tx > 0 => {
            return OpOutcome::failure(ErrorKind::Body, submitted_tx);
        }
        // Another service: an expected status means it took what we sent.
        None => o.committed_tx = submitted_tx,
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::http::endpoint::Endpoint;
    use std::path::Path;

    fn table() -> RequestTable {
        let toml = "[scenario]\nname = \"j\"\n[target]\nkind = \"http\"\nurl = \"http://127.0.0.1:9\"\n\
            [workload]\naccounts = 100\n\
            [[requests]]\nname = \"stats\"\nmethod = \"GET\"\npath = \"/api/v11/stats\"\nexpect_status = [200]\n\
            [[requests]]\nname = \"tx\"\nmethod = \"POST\"\npath = \"/api/v11/transactions\"\nbody = \"json-transfer\"\nexpect_status = [200]\n\
            [[stages]]\nduration = \"1s\"\nworkers = 1\n";
        let plan = scenario::parse(toml, Path::new("j.toml")).unwrap();
        let endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap();
        RequestTable::new(&plan, &endpoint, false).unwrap()
    }

    #[test]
    fn only_answers_to_requests_with_a_body_count_as_committed() {
        let t = table();
        let answer = br#"{"submitted":7,"committed":5,"rejected":{"bad_nonce":2}}"#;
        // GET /api/v11/stats says "committed" too: that is the engine's total, not ours.
        let get = judge(&t, true, 0, 200, answer, 0);
        assert_eq!((get.committed_tx, get.failed), (0, false));
        assert!(get.errors.iter().all(|&e| e == 0));
        let post = judge(&t, true, 1, 200, answer, 7);
        assert_eq!(post.committed_tx, 5);
        assert_eq!(post.errors.iter().map(|&e| u64::from(e)).sum::<u64>(), 2);
        // A body-carrying request to our engine without an outcome is a body error.
        let broken = judge(&t, true, 1, 200, b"{}", 1);
        assert!(broken.failed);
        assert_eq!(broken.errors[ErrorKind::Body as usize], 1);
        let status = judge(&t, true, 0, 503, b"", 0);
        assert_eq!(status.errors[ErrorKind::Status5xx as usize], 1);
    }
}
