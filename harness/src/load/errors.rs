//! What an operation can end in: committed and rejected transfers, and failures by kind.
//!
//! Failures are data: every driver reports each operation as an [`OpOutcome`] and the collector
//! counts errors by [`ErrorKind`] in fixed arrays (an increment, no map, on the hot path). An
//! outcome also names its request template, so HTTP runs can be broken down by template.

use engine::RejectReason;

/// Kinds of error an operation can report. Fixed, so counting is an array increment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ErrorKind {
    /// Transfers the engine rejected, by reason. Each discriminant is the engine's own reason
    /// index, so `errors[reason as usize]` and the engine's `rejected[reason]` line up by
    /// construction, not by position (checked at compile time below).
    RejectedUnknownAccount = RejectReason::UnknownAccount as u8,
    RejectedSelfTransfer = RejectReason::SelfTransfer as u8,
    RejectedZeroAmount = RejectReason::ZeroAmount as u8,
    RejectedBadNonce = RejectReason::BadNonce as u8,
    RejectedInsufficientFunds = RejectReason::InsufficientFunds as u8,
    RejectedNotOwner = RejectReason::NotOwner as u8,
    /// HTTP: could not connect.
    Connect = RejectReason::COUNT as u8,
    /// HTTPS: the TLS handshake failed (certificate refused, name mismatch, no common version,
    /// no HTTP/2 by ALPN when asked for it), or the peer ended the session with a TLS alert.
    Tls,
    /// HTTP: no answer within the request timeout.
    Timeout,
    /// HTTP: the connection failed mid-request.
    Io,
    /// HTTP: an unexpected status.
    Status4xx,
    Status5xx,
    StatusOther,
    /// HTTP: the body did not match what was expected.
    Body,
    /// HTTP: a template's `check` failed or an `extract` found nothing (the answer's status
    /// was as expected), or the request needed a connection variable not set yet (not sent).
    Check,
}

impl ErrorKind {
    pub const COUNT: usize = 15;
    pub const ALL: [ErrorKind; Self::COUNT] = [
        ErrorKind::RejectedUnknownAccount,
        ErrorKind::RejectedSelfTransfer,
        ErrorKind::RejectedZeroAmount,
        ErrorKind::RejectedBadNonce,
        ErrorKind::RejectedInsufficientFunds,
        ErrorKind::RejectedNotOwner,
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Io,
        ErrorKind::Status4xx,
        ErrorKind::Status5xx,
        ErrorKind::StatusOther,
        ErrorKind::Body,
        ErrorKind::Check,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RejectedUnknownAccount => "rejected:unknown_account",
            ErrorKind::RejectedSelfTransfer => "rejected:self_transfer",
            ErrorKind::RejectedZeroAmount => "rejected:zero_amount",
            ErrorKind::RejectedBadNonce => "rejected:bad_nonce",
            ErrorKind::RejectedInsufficientFunds => "rejected:insufficient_funds",
            ErrorKind::RejectedNotOwner => "rejected:not_owner",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Io => "io",
            ErrorKind::Status4xx => "status_4xx",
            ErrorKind::Status5xx => "status_5xx",
            ErrorKind::StatusOther => "status_other",
            ErrorKind::Body => "body",
            ErrorKind::Check => "check",
        }
    }

    /// Whether this kind is a transfer the engine rejected (counted per transaction), rather
    /// than a failed operation.
    pub fn is_rejection(self) -> bool {
        (self as usize) < ErrorKind::Connect as usize
    }

    /// The rejection kind for an engine reason.
    pub fn rejected(reason: RejectReason) -> ErrorKind {
        ErrorKind::ALL[reason as usize]
    }
}

// The outcome of every operation is passed by value on the hot path: the template and check
// fields live in what was padding, and must stay there.
const _: () = assert!(std::mem::size_of::<OpOutcome>() == 80);

// Every engine reject reason has its kind at its own index, and `ALL` is in index order: a
// reason added to the engine without a kind here fails the build.
const _: () = {
    assert!(ErrorKind::Connect as usize == RejectReason::COUNT);
    let mut i = 0;
    while i < ErrorKind::COUNT {
        assert!(ErrorKind::ALL[i] as usize == i);
        i += 1;
    }
};

impl OpOutcome {
    /// A failed operation of one error kind that carried `submitted_tx` transfers.
    pub fn failure(kind: ErrorKind, submitted_tx: u64) -> OpOutcome {
        let mut o = OpOutcome {
            submitted_tx,
            failed: true,
            ..OpOutcome::default()
        };
        o.errors[kind as usize] = 1;
        o
    }

    /// This outcome, as that of a request from template `t` (the drivers tag every outcome
    /// of an HTTP request so; an index beyond u16 saturates, so it names no template rather
    /// than a wrong one).
    #[inline]
    pub fn of_template(mut self, t: usize) -> OpOutcome {
        self.template = u16::try_from(t).unwrap_or(u16::MAX);
        self
    }
}

/// What one operation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpOutcome {
    /// Transactions submitted and committed by this operation (0 for a plain HTTP request).
    pub submitted_tx: u64,
    pub committed_tx: u64,
    /// Whether the operation as a whole failed (HTTP error); in-process batches never fail,
    /// their rejected transfers are counted in `errors`.
    pub failed: bool,
    pub errors: [u32; ErrorKind::COUNT],
    /// Which `[[requests]]` template the operation sent (its index in the plan), for the
    /// per-template figures; 0 for in-process targets. Set by the HTTP drivers once the answer
    /// is judged; u16 so the outcome stays as small as before (it fits in the padding after
    /// `failed`).
    pub template: u16,
    /// 1 + the index of the template's check that failed it (see
    /// `targets::http::inspect::labels`); 0: none did. A u8 keeps the outcome at 80 bytes
    /// (it fits in the padding with `failed` and `template`); a template's 255th and later
    /// checks are counted as its 254th.
    pub check: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_kinds_are_named_after_the_engine_reasons() {
        for r in RejectReason::ALL {
            let k = ErrorKind::rejected(r);
            assert_eq!(k.as_str(), format!("rejected:{}", r.as_str()));
        }
    }
}
