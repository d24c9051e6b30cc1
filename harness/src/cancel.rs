//! Stopping a run: a cancellation token passed into it, not a global flag.
//!
//! The CLI makes one token per process and cancels it from its Ctrl-C (SIGINT/SIGTERM) handler;
//! a test or library caller makes its own, so two runs in one process never see each other's
//! stop. The collector polls it between shipments (at most every 50 ms) and stops the workers;
//! everything measured until then is drained, assembled and written, marked aborted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared "stop now" flag. Clones share it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every holder to stop. Returns whether it had already been asked (a second Ctrl-C).
    pub fn cancel(&self) -> bool {
        self.0.swap(true, Ordering::SeqCst)
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
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
