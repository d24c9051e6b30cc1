//! `harness`: thin entry point. Parses flags, calls the library, prints the error chain.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    match harness::cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(harness::run::exit::USAGE)
        }
    }
}
