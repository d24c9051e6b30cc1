//! What the harness understands of our engine server's answers.
//!
//! The hot path ([`parse_outcome`]) reads `"committed"` and the `"rejected"` object of a
//! transactions answer with a tiny scanner instead of serde: it runs once per request and the
//! format is written by hand on the server side too (`engine::server::routes::outcome_json`).
//! The control path (info, stats, audit at the start and end of a run) uses serde_json.

use crate::load::worker::ErrorKind;
use engine::RejectReason;
use memchr::memmem::Finder;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// What a transactions answer says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxAnswer {
    pub committed: u64,
    /// Rejected transfers, indexed like [`ErrorKind`] (the first [`RejectReason::COUNT`]).
    pub rejected: [u32; RejectReason::COUNT],
}

fn number_after(body: &[u8], key: &Finder<'static>) -> Option<(u64, usize)> {
    let at = key.find(body)? + key.needle().len();
    let rest = &body[at..];
    let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let digits = rest[skip..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let mut n: u64 = 0;
    for &d in &rest[skip..skip + digits] {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((n, at + skip + digits))
}

/// memchr's SIMD substring searchers, built once: the byte-window scan they replace called
/// memcmp once per byte of every answer (5 % of the HTTP generator's user time against GET
/// health), and `memmem::find` builds its searcher on every call (1.4 % of the generator's
/// CPU in an 8.51M tx/s transactions run, perf).
struct Keys {
    committed: Finder<'static>,
    rejected: Finder<'static>,
    reasons: [Finder<'static>; RejectReason::COUNT],
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    committed: Finder::new(br#""committed":"#),
    rejected: Finder::new(br#""rejected":{"#),
    reasons: REJECT_KEYS.map(Finder::new),
});

/// `"<reason>":` for each [`RejectReason`], in `ALL` order (checked by a test).
const REJECT_KEYS: [&[u8]; RejectReason::COUNT] = [
    br#""unknown_account":"#,
    br#""self_transfer":"#,
    br#""zero_amount":"#,
    br#""bad_nonce":"#,
    br#""insufficient_funds":"#,
    br#""not_owner":"#,
];

/// Parses `{"submitted":n,"committed":c,"rejected":{"bad_nonce":k,...},...}`. `None` when
/// there is no `"committed"` number (not our engine's answer, or a broken one).
pub fn parse_outcome(body: &[u8]) -> Option<TxAnswer> {
    let keys = &*KEYS;
    let (committed, _) = number_after(body, &keys.committed)?;
    let mut a = TxAnswer {
        committed,
        ..TxAnswer::default()
    };
    if let Some(start) = keys.rejected.find(body) {
        let obj = &body[start..];
        let end = obj.iter().position(|&b| b == b'}').unwrap_or(obj.len());
        let obj = &obj[..end];
        for (r, key) in RejectReason::ALL.into_iter().zip(&keys.reasons) {
            if let Some((n, _)) = number_after(obj, key) {
                a.rejected[ErrorKind::rejected(r) as usize] = u32::try_from(n).unwrap_or(u32::MAX);
            }
        }
    }
    Some(a)
}

/// `GET /api/v11/info`, the fields we use to recognise our engine.
#[derive(Clone, Debug, Deserialize)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub accounts: u64,
    pub design: String,
    pub build_profile: String,
    pub pid: u32,
}

impl Info {
    /// Whether the server is our engine (then its stats and audit can be trusted and compared).
    pub fn is_engine(&self) -> bool {
        self.name == "engine"
    }
}

/// `GET /api/v11/stats`, the fields the comparison needs.
#[derive(Clone, Debug, Deserialize)]
pub struct Stats {
    pub submitted: u64,
    pub committed: u64,
    pub rejected_total: u64,
}

/// `GET /api/v11/audit`.
#[derive(Clone, Debug, Deserialize)]
pub struct Audit {
    pub ok: bool,
    pub total_supply_expected: u128,
    pub total_supply_actual: u128,
    pub committed_transfers: u64,
    pub nonce_advances: u64,
    pub ledger_height: u64,
    pub ledger_total_tx: u64,
    pub ledger_verified_blocks: u64,
    pub rejected: BTreeMap<String, u64>,
    pub problems: Vec<String>,
}

impl Audit {
    pub fn to_result(&self) -> results::AuditResult {
        results::AuditResult {
            ok: self.ok,
            total_supply_expected: self.total_supply_expected,
            total_supply_actual: self.total_supply_actual,
            committed_transfers: self.committed_transfers,
            nonce_advances: self.nonce_advances,
            ledger_height: self.ledger_height,
            ledger_total_tx: self.ledger_total_tx,
            ledger_consistent: self.problems.iter().all(|p| !p.contains("block")),
            rejected_by_reason: self.rejected.clone(),
            problems: self.problems.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_keys_match_the_engine() {
        for (r, key) in RejectReason::ALL.into_iter().zip(REJECT_KEYS) {
            assert_eq!(key, format!("\"{}\":", r.as_str()).as_bytes());
        }
    }

    #[test]
    fn parses_the_engine_answer() {
        let body = br#"{"submitted":1024,"committed":1000,"rejected":{"unknown_account":0,"self_transfer":0,"zero_amount":0,"bad_nonce":24,"insufficient_funds":0,"not_owner":0},"block":7}"#;
        let a = parse_outcome(body).unwrap();
        assert_eq!(a.committed, 1000);
        assert_eq!(a.rejected[ErrorKind::RejectedBadNonce as usize], 24);
        assert_eq!(a.rejected.iter().sum::<u32>(), 24);
        assert!(parse_outcome(br#"{"status":"UP"}"#).is_none());
        assert!(parse_outcome(br#"{"committed":x}"#).is_none());
        let a = parse_outcome(br#"{"committed": 3}"#).unwrap();
        assert_eq!(a.committed, 3);
    }
}
