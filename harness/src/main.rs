//! `harness`: thin entry point. Parses flags, calls the library, prints the error chain and
//! exits with the code the outcome or the error's kind calls for (`harness::exit`).

use clap::Parser;
use harness::cancel::{self, Cancel};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    let token = Cancel::new();
    cancel::on_interrupt(&token);
    match harness::cli::dispatch(cli, &token) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            harness::cli::exit_for(&e).into()
        }
    }
}
