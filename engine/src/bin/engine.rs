//! The `engine` binary: `engine serve ...` runs the HTTP server, `engine bench ...` a quick
//! in-process throughput check. All logic lives in `engine::server` (the harness runs the same
//! [`engine::server::main_with`] as `harness engine ...`); this only parses.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    engine::server::main_with(engine::server::Cli::parse())
}
