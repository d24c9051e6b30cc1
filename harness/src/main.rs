//! `harness`: thin entry point. Parses flags, calls the library, prints the error chain and
//! exits with the code the outcome or the error's kind calls for (`harness::exit`).

use clap::Parser;
use harness::cancel::{self, Cancel};
use harness::exit::Exit;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match harness::cli::engine_main(harness::cli::Cli::parse()) {
        Ok(engine_exit) => return engine_exit,
        Err(cli) => *cli,
    };
    let token = Cancel::new();
    cancel::on_interrupt(&token);
    // A panic on this thread is an internal error (exit 5), not Rust's 101: scripts tell
    // "the harness broke" from "the run failed" by the code alone.
    match std::panic::catch_unwind(|| harness::cli::dispatch(cli, &token)) {
        Ok(Ok(code)) => code.into(),
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            harness::cli::exit_for(&e).into()
        }
        Err(_) => Exit::Internal.into(),
    }
}
