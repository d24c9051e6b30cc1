//! Stopping a run: a cancellation token passed into it, not a global flag.
//!
//! The CLI makes one token per process and cancels it from its Ctrl-C (SIGINT/SIGTERM) handler;
//! a test or library caller makes its own, so two runs in one process never see each other's
//! stop. A worker that cannot go on (a `queue` data feeder ran out of rows) aborts it with a
//! reason instead ([`Cancel::abort`], reached through `load::worker::WorkerCore::abort`).
//! The collector polls the token between shipments (at most every 50 ms) and stops the workers;
//! everything measured until then is drained, assembled and written, marked aborted, with the
//! abort's reason as the verdict's (or the interruption's text when there is none).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// A shared "stop now" flag, with why when a worker stopped the run. Clones share it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<State>);

#[derive(Debug, Default)]
struct State {
    /// Set by either way of stopping: what the collector polls.
    stopped: AtomicBool,
    /// Set by [`Cancel::cancel`] only, so that a Ctrl-C while an aborted run drains is the
    /// user's first, which writes the report, not a second, which exits at once.
    interrupted: AtomicBool,
    /// The abort's reason, when the run was stopped by [`Cancel::abort`] before anything else.
    reason: OnceLock<String>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every holder to stop (Ctrl-C, or a library caller). Returns whether it had already
    /// been asked this way (a second Ctrl-C).
    pub fn cancel(&self) -> bool {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.interrupted.swap(true, Ordering::SeqCst)
    }

    /// Stops the run because of `reason` (e.g. "feeder users.csv exhausted after 1000 rows"),
    /// which becomes the verdict's. Only the first stop keeps its reason: workers running out
    /// of rows together all call this, and an abort during a Ctrl-C's drain is no news.
    pub fn abort(&self, reason: String) {
        if !self.0.stopped.swap(true, Ordering::SeqCst) {
            // Only the caller that flipped the flag gets here, so the set cannot fail. A reader
            // that sees the flag before this line sees no reason yet; `run` reads it only after
            // joining the workers, which orders it after this store.
            let _ = self.0.reason.set(reason);
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.stopped.load(Ordering::Relaxed)
    }

    /// Why the run was aborted, if it was stopped by [`Cancel::abort`] first; `None` for a
    /// Ctrl-C or a run still going.
    pub fn reason(&self) -> Option<&str> {
        self.0.reason.get().map(String::as_str)
    }
}

/// Cancels `token` on the first SIGINT or SIGTERM; a second one exits at once (exit code 130,
/// as a shell would report it). Installed once per process by the CLI; later calls (a second
/// command in one process) keep the first handler.
pub fn on_interrupt(token: &Cancel) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let token = token.clone();
    ONCE.call_once(move || {
        let _ = ctrlc::set_handler(move || {
            if token.cancel() {
                // The user asked twice: they want the process gone, not a report.
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: stopping the load, writing a partial report (Ctrl-C again to exit now)");
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abort_stops_the_run_and_keeps_its_first_reason() {
        let c = Cancel::new();
        let worker = c.clone();
        worker.abort("feeder users.csv exhausted after 1000 rows".to_string());
        worker.abort("feeder users.csv exhausted after 1000 rows (again)".to_string());
        assert!(c.is_cancelled());
        assert_eq!(
            c.reason(),
            Some("feeder users.csv exhausted after 1000 rows")
        );
        // The user's Ctrl-C while the aborted run drains is their first, not an exit-now.
        assert!(!c.cancel());
        assert!(c.cancel());
        assert_eq!(
            c.reason(),
            Some("feeder users.csv exhausted after 1000 rows")
        );
    }

    #[test]
    fn an_abort_after_a_ctrl_c_gives_no_reason() {
        let c = Cancel::new();
        assert!(!c.cancel());
        c.abort("feeder users.csv exhausted after 10 rows".to_string());
        assert!(c.is_cancelled());
        assert_eq!(c.reason(), None);
    }
}
