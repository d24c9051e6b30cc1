//! Every exit code of the `harness` binary, in one place.
//!
//! Scripts and CI read these, so they are part of the interface (the README lists them). When
//! several apply, the most severe wins: aborted > invalid > fail > pass. A run that was not
//! judged (no criteria) exits 0 like a pass: nothing failed, and the status word, not the
//! code, tells the two apart (every report and results.json say "not judged"). Errors that
//! are not the run's verdict are usage errors (the user's to fix: a bad flag, scenario or input file) or
//! internal errors (a panic, an I/O failure while measuring or writing).

use results::Status;
use std::process::ExitCode;

/// What the process reports to its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every criterion met, or nothing to judge (status "not judged"); no regression.
    Pass = 0,
    /// A criterion failed, or a comparison found a regression.
    Fail = 1,
    /// A bad flag, scenario or input file: nothing was measured.
    Usage = 2,
    /// Stopped by Ctrl-C (or SIGTERM): a partial report was written.
    Aborted = 3,
    /// The figures cannot be trusted (the engine's audit failed, segments are missing).
    Invalid = 4,
    /// A panic or an I/O failure inside the harness.
    Internal = 5,
}

impl Exit {
    /// The exit code of a verdict.
    pub fn of(status: Status) -> Exit {
        match status {
            // Not judged is not a failure: a scenario without criteria still measures.
            Status::Pass | Status::NotJudged => Exit::Pass,
            Status::Fail => Exit::Fail,
            Status::Invalid => Exit::Invalid,
            Status::Aborted => Exit::Aborted,
        }
    }

    /// The more severe of two verdict codes (aborted > invalid > fail > pass), for commands
    /// that combine several runs.
    pub fn worst(self, other: Exit) -> Exit {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    fn severity(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::Fail => 1,
            Exit::Invalid => 2,
            Exit::Aborted => 3,
            Exit::Usage => 4,
            Exit::Internal => 5,
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// An error in what the user asked for (exit 2) that no library error type names. The CLI
/// maps errors to exit codes (`cli::exit_for`); anything not known as the user's to fix is an
/// internal error (exit 5).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_verdicts() {
        assert_eq!(Exit::Pass.worst(Exit::Fail), Exit::Fail);
        assert_eq!(Exit::Invalid.worst(Exit::Fail), Exit::Invalid);
        assert_eq!(Exit::Invalid.worst(Exit::Aborted), Exit::Aborted);
        assert_eq!(Exit::of(Status::Invalid).code(), 4);
        assert_eq!(Exit::of(Status::NotJudged).code(), 0);
        assert_eq!(Exit::of(Status::NotJudged).worst(Exit::Fail), Exit::Fail);
        assert_eq!(Exit::Internal.code(), 5);
    }
}
