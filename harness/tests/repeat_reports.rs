//! `harness run --repeat N` writes every repeat's reports, after the last run rather than
//! between runs (rendering in between stayed resident and counted as the next repeat's RSS).
//!
//! A test binary of its own: rendering PDFs in a debug build takes seconds of CPU, and the
//! gate tests beside it compare throughput figures that must not share the machine with that.
//! Bounded: two in-process runs of 0.5 s each.

use assert_cmd::Command;

const SCENARIO: &str = "[scenario]\nname = \"repeatreports\"\n[target]\nkind = \"in-process\"\n\
    [workload]\naccounts = 1000\n[[stages]]\nname = \"steady\"\nduration = \"500ms\"\nworkers = 1\n";

#[test]
fn every_repeat_gets_its_reports_written_after_the_last_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("repeat.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let o = Command::cargo_bin("harness")
        .unwrap()
        .args(["run", "--quiet", "--repeat", "2", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let runs: Vec<_> = std::fs::read_dir(out.join("repeatreports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.is_symlink())
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        for file in [
            "results.json",
            "report.md",
            "report.html",
            "report.pdf",
            "junit.xml",
        ] {
            assert!(run.join(file).is_file(), "{} lacks {file}", run.display());
        }
    }
}
