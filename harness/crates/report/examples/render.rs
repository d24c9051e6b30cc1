//! Render a results.json by hand: `cargo run -p report --example render -- results.json outdir`.
//! With `--sample` (or `--search`, a capacity search) instead of a file, renders a built-in
//! fixture.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, outdir] = args.as_slice() else {
        eprintln!(
            "usage: render <results.json | --sample | --aborted | --empty | --goose | --search> <outdir>"
        );
        return ExitCode::from(2);
    };
    let result = match input.as_str() {
        "--sample" => results::fixture::sample(),
        "--aborted" => results::fixture::aborted(),
        "--empty" => results::fixture::no_intervals(),
        "--goose" => results::fixture::http_goose(),
        "--search" => results::fixture::capacity_search(),
        path => match results::RunResult::read(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let started = std::time::Instant::now();
    match report::render_all(&result, &PathBuf::from(outdir)) {
        Ok(paths) => {
            for p in paths {
                println!("{}", p.display());
            }
            eprintln!(
                "rendered in {:.0} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
            print!("\n{}", report::text_summary(&result));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
