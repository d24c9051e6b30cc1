//! The `engine` binary: `engine serve ...` runs the HTTP server, `engine bench ...` a quick
//! in-process throughput check. All logic lives in `engine::server`; this only parses, calls and
//! reports errors.

use clap::Parser;
use engine::server::{self, Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => args
            .into_config()
            .map_err(anyhow::Error::from)
            .and_then(server::run),
        Command::Bench(args) => server::bench(&args).and_then(|report| {
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.audit_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("engine: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
